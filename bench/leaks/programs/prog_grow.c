/*
 * prog_grow.c — a real leak for the benchmark's recorded fixtures: a
 * request loop that keeps a "session" record for every request in a list
 * nobody ever prunes (the classic growing structure), next to a steady
 * 48 MiB working set and per-request scratch buffers that are freed.
 * Time-compressed: one second of this program stands for one minute of a
 * service (bench/leaks/record.sh scales the timestamps by 60).
 * Usage: prog_grow [SECONDS] [LEAK_KIB_PER_S]   (defaults 300, 512)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct session {
    struct session *next;
    char payload[2040];
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 300;
    long kib = argc > 2 ? atol(argv[2]) : 512;
    size_t ws = 48u << 20;
    char *work = malloc(ws);
    if (!work)
        return 1;
    memset(work, 1, ws);
    struct session *head = NULL;
    unsigned seed = 7;
    /* 20 ticks a second; each tick serves a few requests */
    long per_tick = kib * 1024 / 2048 / 20;
    for (long tick = 0; tick < (long)secs * 20; tick++) {
        for (long r = 0; r < per_tick; r++) {
            size_t sc = 4096 + (size_t)(rand_r(&seed) % 65536);
            char *scratch = malloc(sc);
            if (scratch) {
                memset(scratch, 2, sc);
                free(scratch);
            }
            struct session *s = malloc(sizeof *s);
            if (!s)
                return 1;
            memset(s->payload, 3, sizeof s->payload);
            s->next = head;
            head = s; /* never removed: the leak */
        }
        work[(size_t)rand_r(&seed) % ws] ^= 1;
        sleep_ms(50);
    }
    return head ? 0 : 1;
}
