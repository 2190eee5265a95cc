/*
 * threadbench — what the heap profiler costs a thread-heavy program
 * (bench/heap/README.md, "Threads"; issue 12, defect 4).
 *
 *   threadbench hold N    N threads each allocate and free 1 MiB (16 blocks
 *                         of 64 KiB: ~2 samples a thread at the default
 *                         rate), then all wait while the main thread reads
 *                         its VmRSS; prints "hold threads=N rss_kib=K".
 *   threadbench churn N   N short-lived threads, 8 at a time, each
 *                         allocating and freeing 1 MiB the same way, then
 *                         exiting; prints "churn threads=N wall_s=S".
 *
 * Run with and without LD_PRELOAD=libmemvigil_heap.so MEMVIGIL_HEAP=1 and
 * compare. Exit 0, 2 on bad arguments, 1 on failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (64 * 1024)
#define BLOCKS 16
#define CHURN_BATCH 8

static pthread_barrier_t reached, release;

static int allocate_some(void)
{
    for (int i = 0; i < BLOCKS; i++) {
        volatile char *p = malloc(BLOCK);
        if (!p)
            return -1;
        p[0] = (char)i;
        free((void *)p);
    }
    return 0;
}

static void *hold_worker(void *arg)
{
    (void)arg;
    if (allocate_some() != 0)
        exit(1);
    pthread_barrier_wait(&reached);
    pthread_barrier_wait(&release);
    return NULL;
}

static void *churn_worker(void *arg)
{
    (void)arg;
    if (allocate_some() != 0)
        exit(1);
    return NULL;
}

static long rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static int hold(int n, const pthread_attr_t *at)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return 1;
    pthread_barrier_init(&reached, NULL, (unsigned)n + 1);
    pthread_barrier_init(&release, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], at, hold_worker, NULL) != 0)
            return 1;
    pthread_barrier_wait(&reached);
    long kib = rss_kib();
    pthread_barrier_wait(&release);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
    printf("hold threads=%d rss_kib=%ld\n", n, kib);
    return kib < 0;
}

static int churn(int n, const pthread_attr_t *at)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int done = 0; done < n; done += CHURN_BATCH) {
        pthread_t t[CHURN_BATCH];
        int k = n - done < CHURN_BATCH ? n - done : CHURN_BATCH;
        for (int i = 0; i < k; i++)
            if (pthread_create(&t[i], at, churn_worker, NULL) != 0)
                return 1;
        for (int i = 0; i < k; i++)
            pthread_join(t[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("churn threads=%d wall_s=%.3f\n", n,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 0;
    if (argc != 3 || n < 1 || n > 100000 ||
        (strcmp(argv[1], "hold") != 0 && strcmp(argv[1], "churn") != 0)) {
        fprintf(stderr, "usage: threadbench hold|churn THREADS\n");
        return 2;
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 128 * 1024);
    return strcmp(argv[1], "hold") == 0 ? hold(n, &at) : churn(n, &at);
}
