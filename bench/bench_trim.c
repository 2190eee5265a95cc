/*
 * bench_trim.c — what one mv_trim() costs and returns on a fragmented
 * heap (issue 17): 8 threads (8 arenas) each allocate 4096 blocks of
 * 1..16 KiB (~250 MiB in all) and free 15 of every 16, the survivors
 * pinning pages (tests/integration/frag_prog.c's pattern); then the main
 * thread times mv_trim(NULL, &released) (malloc_trim(0): every arena
 * locked in turn, its free pages given back with MADV_DONTNEED). Each run
 * in a fresh child; prints the median of --runs (default 3).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "memvigil.h"

#define THREADS 8
#define BLOCKS 4096

static pthread_barrier_t ready;

static void *fragment(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg + 1;
    char **b = malloc(BLOCKS * sizeof *b);
    for (int i = 0; b && i < BLOCKS; i++) {
        size_t sz = 1024 + (size_t)(rand_r(&seed) % (15 * 1024));
        if ((b[i] = malloc(sz)) != NULL)
            memset(b[i], 7, sz);
    }
    for (int i = 0; b && i < BLOCKS; i++)
        if (i % 16 != 0)
            free(b[i]);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&ready); /* alive (arenas attached) while timed */
    return NULL;
}

/* One run in this process: writes "ms released_kib" to fd. */
static void run(int fd)
{
    pthread_t th[THREADS];
    pthread_barrier_init(&ready, NULL, THREADS + 1);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, fragment, (void *)i);
    pthread_barrier_wait(&ready);
    int64_t released = 0;
    int64_t t0 = bench_ns(CLOCK_MONOTONIC);
    int rc = mv_trim(NULL, &released);
    double ms = (double)(bench_ns(CLOCK_MONOTONIC) - t0) / 1e6;
    pthread_barrier_wait(&ready);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    double out[2] = {rc == 0 ? ms : -1, (double)released / 1024.0};
    if (write(fd, out, sizeof out) != (ssize_t)sizeof out)
        _exit(1);
}

int main(int argc, char **argv)
{
    int runs = 3;
    if (argc == 3 && strcmp(argv[1], "--runs") == 0)
        runs = atoi(argv[2]);
    if (runs < 1 || runs > 100)
        return 2;
    double *ms = calloc((size_t)runs, sizeof *ms), kib = 0;
    for (int r = 0; ms && r < runs; r++) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        pid_t c = fork();
        if (c == 0) {
            close(p[0]);
            run(p[1]);
            _exit(0);
        }
        close(p[1]);
        double got[2];
        if (c < 0 || read(p[0], got, sizeof got) != (ssize_t)sizeof got || got[0] < 0)
            return 1;
        close(p[0]);
        waitpid(c, NULL, 0);
        ms[r] = got[0];
        kib = got[1];
    }
    bench_result("trim_fragmented_8_arenas_median_ms", bench_quantile(ms, (size_t)runs, 0.5));
    bench_result("trim_fragmented_8_arenas_released_kib", kib);
    free(ms);
    return 0;
}
