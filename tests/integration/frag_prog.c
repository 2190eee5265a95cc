/*
 * frag_prog.c — a program that fragments glibc's heap without leaking, and
 * watches itself with the embedded library (tests/integration/
 * alloc_fragmentation.sh). Eight threads (eight arenas) each allocate
 * 4096 blocks of mixed sizes (1..16 KiB, ~32 MiB a thread), then free 15
 * of every 16: the survivors (long-lived) pin pages all over the heaps, so
 * malloc cannot give the holes back. Then each thread churns short-lived
 * blocks that fit in the holes: the live heap stays flat and small while
 * resident memory stays high.
 *
 * usage: frag_prog before|after SECONDS RECORD [TRIM_INTERVAL_MS]
 *   before  the monitor starts before the peak, which is held for 1 s (it
 *           sees the freed peak: retention); after: once the peak is
 *           freed (fragmentation)
 *   RECORD  the embedded monitor's recording; "-": no embedded monitor
 *           (the program is watched from outside: `run --heap`)
 *   TRIM_INTERVAL_MS  the opt-in periodic trim (0 = off)
 * Prints "rss_anon_kb N" (at the end) on stdout, with a monitor.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memvigil.h"

#define THREADS 8
#define BLOCKS 4096

static pthread_barrier_t allocated, freed;
static volatile int stop;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg * 7919u + 1;
    char **b = malloc(BLOCKS * sizeof *b);
    if (!b)
        return NULL;
    for (int i = 0; i < BLOCKS; i++) {
        size_t sz = 1024 + (size_t)(rand_r(&seed) % (15 * 1024));
        b[i] = malloc(sz);
        if (b[i])
            memset(b[i], 7, sz);
    }
    pthread_barrier_wait(&allocated); /* the peak, held while main sleeps */
    pthread_barrier_wait(&allocated);
    for (int i = 0; i < BLOCKS; i++)
        if (i % 16 != 0) {
            free(b[i]);
            b[i] = NULL;
        }
    pthread_barrier_wait(&freed);
    while (!stop) { /* short-lived blocks that fit in the holes */
        char *t[64];
        for (int k = 0; k < 64; k++) {
            size_t sz = 256 + (size_t)(rand_r(&seed) % 2048);
            t[k] = malloc(sz);
            if (t[k])
                memset(t[k], 1, sz);
        }
        for (int k = 0; k < 64; k++)
            free(t[k]);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < BLOCKS; i += 16)
        free(b[i]);
    free(b);
    return NULL;
}

static mv_monitor *start(const char *record, long trim_ms)
{
    mv_config c;
    mv_monitor *m = NULL;
    if (strcmp(record, "-") == 0)
        return NULL;
    mv_config_init(&c);
    c.interval_ms = 200;
    c.record_path = record;
    c.alloc_window_ms = 3000;
    c.trim_interval_ms = trim_ms;
    c.process_metrics = 0;
    int rc = mv_monitor_start(&c, &m);
    if (rc) {
        fprintf(stderr, "frag_prog: mv_monitor_start: %s\n", mv_strerror(rc));
        exit(1);
    }
    return m;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "before") && strcmp(argv[1], "after"))) {
        fprintf(stderr, "usage: frag_prog before|after SECONDS RECORD [TRIM_MS]\n");
        return 2;
    }
    int secs = atoi(argv[2]);
    long trim_ms = argc > 4 ? atol(argv[4]) : 0;
    int before = strcmp(argv[1], "before") == 0;
    mv_monitor *m = before ? start(argv[3], trim_ms) : NULL;
    pthread_t th[THREADS];

    pthread_barrier_init(&allocated, NULL, THREADS + 1);
    pthread_barrier_init(&freed, NULL, THREADS + 1);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    pthread_barrier_wait(&allocated);
    if (before) /* the monitor sees the peak for a second */
        sleep(1);
    pthread_barrier_wait(&allocated);
    pthread_barrier_wait(&freed);
    if (!before)
        m = start(argv[3], trim_ms);
    sleep((unsigned)secs);
    if (m) {
        mv_status st;
        mv_monitor_status(m, &st);
        printf("rss_anon_kb %lld\n", (long long)(st.sample.rss_anon_bytes / 1024));
        printf("alloc_in_use_kb %lld\n", (long long)(st.sample.alloc_in_use_bytes / 1024));
        printf("alloc_arenas %lld\n", (long long)st.sample.alloc_arenas);
        fflush(stdout);
        mv_monitor_stop(m);
    }
    stop = 1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    return 0;
}
