/*
 * bench_allocstats.c — the cost of reading the allocator's statistics once
 * per tick (allocstats.h): glibc mallinfo2() alone, and the full reading
 * the monitor and the preload take (mallinfo2 + malloc_info's arena count),
 * at 1, 8 and 64 arenas. Both walk every arena under its lock, and within
 * an arena its fast bins and bins, so the cost grows with arenas and with
 * free chunks: each thread allocates 4096 blocks of 64 B .. 4 KiB and
 * leaves them all live (compact) or frees every other one (fragmented:
 * ~2048 free chunks per arena).
 *
 * Each arena count runs in its own child (arenas are never destroyed):
 * mallopt(M_ARENA_MAX, N), N threads alive at once (glibc gives each new
 * thread a new arena until the limit), then the main thread times
 * --iterations calls of each (median and p90, wall). A last case puts 64
 * threads' blocks into one arena (MALLOC_ARENA_MAX=1, the advice for
 * fragmentation): mallinfo2 locks one arena at a time, so the longest any
 * allocating thread can wait on it is one arena's walk — this case's.
 * usage: bench_allocstats [--iterations N]   (default 200)
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocstats.h"
#include "bench_util.h"

#define BLOCKS 4096

static pthread_barrier_t ready, done;
static int fragmented; /* 1: every other block freed; 0: none (compact) */

static void *arena_user(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg + 1;
    char **b = malloc(BLOCKS * sizeof *b);
    for (int i = 0; b && i < BLOCKS; i++)
        b[i] = malloc(64 + (size_t)(rand_r(&seed) % 4032));
    for (int i = 0; b && fragmented && i < BLOCKS; i += 2)
        free(b[i]);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done); /* alive while the main thread measures */
    return NULL;
}

static void measure(int arenas, int threads, int iters)
{
    pthread_t th[64];
    double *t_mi = malloc((size_t)iters * sizeof *t_mi);
    double *t_full = malloc((size_t)iters * sizeof *t_full);
    char name[96];

    if (!t_mi || !t_full)
        exit(1);
    mallopt(M_ARENA_MAX, arenas);
    pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&done, NULL, (unsigned)threads + 1);
    for (long i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, arena_user, (void *)i);
    pthread_barrier_wait(&ready);

    mv__alloc_stats st;
    mv__alloc_stats_read(&st);
    printf("# M_ARENA_MAX=%d, %d threads, %s: %lld arenas, %lld KiB free in "
           "them\n", arenas, threads, fragmented ? "fragmented" : "compact",
           (long long)st.arenas, (long long)st.free_bytes / 1024);
    char kind[48];
    snprintf(kind, sizeof kind, "%s%s", fragmented ? "fragmented" : "compact",
             threads > arenas ? "_64_threads" : "");
    for (int i = 0; i < iters; i++) {
        int64_t t0 = bench_ns(CLOCK_MONOTONIC);
        struct mallinfo2 mi = mallinfo2();
        int64_t t1 = bench_ns(CLOCK_MONOTONIC);
        mv__alloc_stats_read(&st);
        int64_t t2 = bench_ns(CLOCK_MONOTONIC);
        (void)mi;
        t_mi[i] = (double)(t1 - t0) / 1000.0;
        t_full[i] = (double)(t2 - t1) / 1000.0;
    }
    snprintf(name, sizeof name, "mallinfo2_%d_arenas_%s_median_us", arenas, kind);
    bench_result(name, bench_quantile(t_mi, (size_t)iters, 0.5));
    snprintf(name, sizeof name, "mallinfo2_%d_arenas_%s_p90_us", arenas, kind);
    bench_result(name, bench_quantile(t_mi, (size_t)iters, 0.9));
    snprintf(name, sizeof name, "alloc_stats_read_%d_arenas_%s_median_us", arenas, kind);
    bench_result(name, bench_quantile(t_full, (size_t)iters, 0.5));
    snprintf(name, sizeof name, "alloc_stats_read_%d_arenas_%s_p90_us", arenas, kind);
    bench_result(name, bench_quantile(t_full, (size_t)iters, 0.9));
    pthread_barrier_wait(&done);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
}

int main(int argc, char **argv)
{
    int iters = 200;
    /* {arenas, threads} */
    static const int cases[][2] = {{1, 1}, {8, 8}, {64, 64}, {1, 64}};

    if (argc == 3 && strcmp(argv[1], "--iterations") == 0)
        iters = atoi(argv[2]);
    if (iters < 1) {
        fprintf(stderr, "usage: bench_allocstats [--iterations N]\n");
        return 2;
    }
    for (size_t k = 0; k < 2 * sizeof cases / sizeof cases[0]; k++) {
        fragmented = (int)(k % 2);
        pid_t p = fork();
        if (p == 0) {
            measure(cases[k / 2][0], cases[k / 2][1], iters);
            _exit(0);
        }
        int status;
        if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            return 1;
    }
    return 0;
}
