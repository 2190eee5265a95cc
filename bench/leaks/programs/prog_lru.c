/*
 * prog_lru.c — a bounded cache for the benchmark's recorded fixtures (not a
 * leak): an LRU of 4 KiB entries, capped at CAP_MIB, fed by keys drawn with
 * a skewed popularity so the miss rate falls as it fills (the concave
 * warm-up that fixed MB/h rules mistake for a leak), then evicts at the
 * cap and stays level. 48 MiB working set besides.
 * Usage: prog_lru [SECONDS] [CAP_MIB] [REQ_PER_TICK]   (defaults 300, 120,
 *        40; 20 ticks a second)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NKEYS (1u << 17) /* 128 Ki keys x 4 KiB = 512 MiB if all cached */

struct entry {
    struct entry *prev, *next;
    unsigned key;
    char data[4096 - 2 * sizeof(void *) - sizeof(unsigned)];
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 300;
    long cap = (argc > 2 ? atol(argv[2]) : 120) * 256; /* entries */
    int req = argc > 3 ? atoi(argv[3]) : 40;
    size_t ws = 48u << 20;
    char *work = malloc(ws);
    struct entry **index = calloc(NKEYS, sizeof *index);
    if (!work || !index)
        return 1;
    memset(work, 1, ws);
    struct entry *head = NULL, *tail = NULL;
    long count = 0;
    unsigned seed = 11;
    for (long tick = 0; tick < (long)secs * 20; tick++) {
        for (int r = 0; r < req; r++) {
            /* skewed popularity: product of two uniforms */
            double u = (double)rand_r(&seed) / RAND_MAX;
            double v = (double)rand_r(&seed) / RAND_MAX;
            unsigned k = (unsigned)(u * v * u * (NKEYS - 1));
            struct entry *e = index[k];
            if (e) { /* hit: move to front */
                if (e != head) {
                    e->prev->next = e->next;
                    if (e->next)
                        e->next->prev = e->prev;
                    else
                        tail = e->prev;
                    e->prev = NULL;
                    e->next = head;
                    head->prev = e;
                    head = e;
                }
                continue;
            }
            if (count >= cap) { /* evict the least recently used */
                struct entry *old = tail;
                tail = old->prev;
                tail->next = NULL;
                index[old->key] = NULL;
                free(old);
                count--;
            }
            e = malloc(sizeof *e);
            if (!e)
                return 1;
            memset(e->data, (int)k, sizeof e->data);
            e->key = k;
            e->prev = NULL;
            e->next = head;
            if (head)
                head->prev = e;
            head = e;
            if (!tail)
                tail = e;
            index[k] = e;
            count++;
        }
        work[(size_t)rand_r(&seed) % ws] ^= 1;
        sleep_ms(50);
    }
    return 0;
}
