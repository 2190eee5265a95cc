/*
 * heap_sites.c — a program with known allocation sites, for the heap
 * profiler's accuracy test (heap_accuracy.sh): two leaks at known rates, a
 * bounded cache filled once, a churning pool of constant size, and
 * short-lived small allocations. It never touches the memory it allocates,
 * so gigabytes of heap cost little resident memory.
 *
 * Sizes are chosen so that each site's live bytes are estimable within 10%
 * at the default 512 KiB sampling period: an estimate of B bytes has a
 * standard deviation of about sqrt(B * T) for small blocks and much less
 * for blocks of T or more, so sites hold hundreds of MiB in blocks of
 * 512 KiB to 1 MiB (3-4% relative error, 10% is ~3 sigma).
 *
 * usage: heap_sites SECONDS TRUTH_FILE
 * After SECONDS it writes the true live bytes per site to TRUTH_FILE, waits
 * 2.5 s (so a periodic snapshot sees the final state) and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MiB (1024L * 1024L)
#define TICKS_PER_S 10

static long leak_fast_bytes, leak_slow_bytes, bounded_bytes, churn_bytes;
static void *pool[512];

/* 48 MiB/s in 1 MiB blocks */
__attribute__((noinline)) static void leak_fast(void)
{
    for (int i = 0; i < 48 / TICKS_PER_S + (rand() % 10 < 48 % TICKS_PER_S); i++) {
        if (malloc(MiB))
            leak_fast_bytes += MiB;
    }
}

/* 12 MiB/s in 1 MiB blocks */
__attribute__((noinline)) static void leak_slow(void)
{
    for (int i = 0; i < 12 / TICKS_PER_S + (rand() % 10 < 12 % TICKS_PER_S); i++) {
        if (malloc(MiB))
            leak_slow_bytes += MiB;
    }
}

/* 256 MiB filled at start, then held */
__attribute__((noinline)) static void *bounded_fill(void)
{
    void **cache = calloc(256, sizeof *cache);
    for (int i = 0; i < 256; i++) {
        cache[i] = malloc(MiB);
        if (cache[i])
            bounded_bytes += MiB;
    }
    return cache;
}

/* a pool of 512 blocks of 512 KiB, filled on the first call, then a tenth
 * replaced every tick — through one malloc call, so the site's live bytes
 * stay constant from the first snapshot on */
__attribute__((noinline)) static void churn(void)
{
    static int filled;
    int n = filled ? 51 : 512;

    for (int i = 0; i < n; i++) {
        int k = filled ? rand() % 512 : i;
        if (pool[k]) {
            free(pool[k]);
            churn_bytes -= MiB / 2;
        }
        pool[k] = malloc(MiB / 2);
        if (pool[k])
            churn_bytes += MiB / 2;
    }
    filled = 1;
}

__attribute__((noinline)) static void small_garbage(void)
{
    for (int i = 0; i < 2000; i++) {
        char *s = malloc(64 + (size_t)(i % 64));
        if (s) {
            s[0] = 1;
            free(s);
        }
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int main(int argc, char **argv)
{
    void *cache;
    FILE *f;
    long ticks;

    if (argc != 3) {
        fprintf(stderr, "usage: heap_sites SECONDS TRUTH_FILE\n");
        return 2;
    }
    srand(42);
    ticks = atol(argv[1]) * TICKS_PER_S;
    cache = bounded_fill();
    for (long t = 0; t < ticks; t++) {
        leak_fast();
        leak_slow();
        churn();
        small_garbage();
        sleep_ms(1000 / TICKS_PER_S);
    }
    f = fopen(argv[2], "w");
    if (!f)
        return 1;
    fprintf(f, "leak_fast %ld\nleak_slow %ld\nbounded_fill %ld\nchurn %ld\n",
            leak_fast_bytes, leak_slow_bytes, bounded_bytes, churn_bytes);
    fclose(f);
    sleep_ms(2500);
    return cache ? 0 : 1;
}
