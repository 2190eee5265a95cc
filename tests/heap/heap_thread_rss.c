/* heap_thread_rss.c — N threads each allocate (and free) 1 MiB in 64 KiB
 * blocks, so that under the profiler each takes several samples, then all
 * wait at a barrier while the main thread reads its own VmRSS. Prints
 * "rss_kib <n>". heap_preload.sh runs it with and without the preload: the
 * difference divided by N is what the profiler costs per sampling thread
 * (libunwind's per-thread trace cache made it 256 KiB). Exit 0, or 1. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (64 * 1024)
#define BLOCKS 16

static pthread_barrier_t reached, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < BLOCKS; i++) {
        volatile char *p = malloc(BLOCK);
        if (!p)
            exit(1);
        p[0] = 1;
        free((void *)p);
    }
    pthread_barrier_wait(&reached);
    pthread_barrier_wait(&release);
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

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1 || n > 100000)
        return 1;
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 64 * 1024);
    pthread_barrier_init(&reached, NULL, (unsigned)n + 1);
    pthread_barrier_init(&release, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++)
        if (!t || pthread_create(&t[i], &at, worker, NULL) != 0)
            return 1;
    pthread_barrier_wait(&reached);
    printf("rss_kib %ld\n", rss_kib());
    fflush(stdout);
    pthread_barrier_wait(&release);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
    return 0;
}
