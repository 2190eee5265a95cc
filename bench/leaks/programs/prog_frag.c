/*
 * prog_frag.c — glibc heap fragmentation without a leak, for the
 * benchmark's recorded fixtures: batches of small objects of mixed sizes
 * are allocated and most are freed, but a bounded set of long-lived ones
 * (a ring: each new survivor replaces the oldest) stays scattered across
 * the heap, so freed space cannot go back to the kernel. RSS climbs above
 * the live size in the first batches, then the allocator reuses its holes
 * and the floor stays level while live data stays bounded: memory that
 * looks "retained" but is not leaking. 32 MiB working set besides.
 * Usage: prog_frag [SECONDS]   (default 300)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 60000
#define BATCH 6000

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 300;
    size_t ws = 32u << 20;
    char *work = malloc(ws);
    static char *ring[RING];
    static char *batch[BATCH];
    if (!work)
        return 1;
    memset(work, 1, ws);
    unsigned seed = 5;
    size_t rp = 0;
    for (long tick = 0; tick < (long)secs * 10; tick++) {
        /* a batch of short-lived objects, sizes 64 B .. 8 KiB */
        for (int i = 0; i < BATCH; i++) {
            size_t sz = 64 + (size_t)(rand_r(&seed) % 8192);
            batch[i] = malloc(sz);
            if (batch[i])
                memset(batch[i], 4, sz);
        }
        /* one in 20 survives into the ring, replacing the oldest */
        for (int i = 0; i < BATCH; i++) {
            if (i % 20 == 0) {
                free(ring[rp]);
                ring[rp] = batch[i];
                rp = (rp + 1) % RING;
            } else {
                free(batch[i]);
            }
        }
        work[(size_t)rand_r(&seed) % ws] ^= 1;
        sleep_ms(100);
    }
    return 0;
}
