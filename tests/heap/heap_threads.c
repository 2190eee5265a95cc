/* heap_threads.c — 64 threads hammering every interposed function at once,
 * checking that each block keeps its contents (the profiler must never hand
 * out or free the wrong memory). Exit 0 on success. */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 64
#define SLOTS 256
#define ROUNDS 20000

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    unsigned seed = (unsigned)id * 2654435761u;
    char *slot[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    for (int r = 0; r < ROUNDS; r++) {
        int i = rand_r(&seed) % SLOTS;
        if (slot[i]) {
            for (size_t k = 0; k < len[i]; k += 61)
                if (slot[i][k] != (char)(i ^ id)) {
                    fprintf(stderr, "thread %lu: block corrupted\n", (unsigned long)id);
                    exit(3);
                }
            if (rand_r(&seed) % 3 == 0) {
                size_t n = 1 + (size_t)rand_r(&seed) % 70000;
                char *p = realloc(slot[i], n);
                if (!p)
                    exit(4);
                slot[i] = p;
                memset(p, (char)(i ^ id), n);
                len[i] = n;
                continue;
            }
            free(slot[i]);
            slot[i] = NULL;
            continue;
        }
        size_t n = 1 + (size_t)rand_r(&seed) % (r % 50 == 0 ? 300000 : 3000);
        char *p = NULL;
        switch (rand_r(&seed) % 6) {
        case 0: p = malloc(n); break;
        case 1: p = calloc(1, n); break;
        case 2: if (posix_memalign((void **)&p, 64, n)) p = NULL; break;
        case 3: p = aligned_alloc(256, (n + 255) & ~(size_t)255); break;
        case 4: p = memalign(128, n); break;
        case 5: p = reallocarray(NULL, n, 1); break;
        }
        if (!p)
            exit(5);
        if (malloc_usable_size(p) < n)
            exit(6);
        memset(p, (char)(i ^ id), n);
        slot[i] = p;
        len[i] = n;
    }
    for (int i = 0; i < SLOTS; i++)
        free(slot[i]);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("ok\n");
    return 0;
}
