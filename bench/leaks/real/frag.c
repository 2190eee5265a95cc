/* frag.c — a recording subject of the leak benchmark (label ok): glibc heap
 * fragmentation without a leak, in real time. THREADS threads (each gets its
 * own malloc arena) serve "requests": a request allocates 20-220 objects of
 * mixed sizes (mostly 16-256 B, some up to 4 KiB and 32 KiB), touches them,
 * keeps one in 16 in the thread's ring of RING slots (replacing a random
 * slot, so older survivors are freed at random) and frees the rest; one
 * request in 200 is a batch of 4000. The live set is bounded by the rings
 * (~20 MiB a thread), but survivors scattered through the arenas pin pages,
 * so resident memory rises to a high-water mark over the first minutes and
 * stays there.
 *
 * usage: frag [SECONDS [THREADS [REQ_PER_S]]]   (default 3600 8 10)
 * build: cc -O2 -pthread -o frag frag.c
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 16384

static double secs = 3600;
static int req_per_s = 10;

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static size_t pick_size(unsigned *s)
{
    unsigned r = next_rand(s) % 100;
    if (r < 80)
        return 16 + next_rand(s) % 240;
    if (r < 95)
        return 256 + next_rand(s) % 3840;
    return 4096 + next_rand(s) % 28672;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg * 7919u + 1;
    void **ring = calloc(RING, sizeof *ring);
    void **tmp = malloc(4000 * sizeof *tmp);
    if (!ring || !tmp)
        abort();
    double start = now(), next = start, step = 1.0 / req_per_s;
    while (now() - start < secs) {
        int k = next_rand(&seed) % 200 == 0 ? 4000 : 20 + (int)(next_rand(&seed) % 201);
        for (int i = 0; i < k; i++) {
            size_t n = pick_size(&seed);
            tmp[i] = malloc(n);
            if (!tmp[i])
                abort();
            memset(tmp[i], i, n);
        }
        for (int i = 0; i < k; i++) {
            if (next_rand(&seed) % 16 == 0) {
                unsigned slot = next_rand(&seed) % RING;
                free(ring[slot]);
                ring[slot] = tmp[i];
            } else {
                free(tmp[i]);
            }
        }
        next += step;
        double d = next - now();
        if (d > 0) {
            struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    for (int i = 0; i < RING; i++)
        free(ring[i]);
    free(ring);
    free(tmp);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fprintf(stderr, "usage: frag [SECONDS [THREADS [REQ_PER_S]]]\n");
        return 2;
    }
    int threads = 8;
    if (argc > 1)
        secs = atof(argv[1]);
    if (argc > 2)
        threads = atoi(argv[2]);
    if (argc > 3)
        req_per_s = atoi(argv[3]);
    if (threads < 1 || threads > 256 || req_per_s < 1 || secs <= 0) {
        fprintf(stderr, "frag: bad arguments\n");
        return 2;
    }
    pthread_t *t = malloc(threads * sizeof *t);
    if (!t)
        return 1;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(size_t)i) != 0)
            return 1;
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    free(t);
    return 0;
}
