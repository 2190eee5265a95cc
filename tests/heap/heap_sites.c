/* heap_sites.c — a program with known allocation sites, run under the heap
 * profiler by heap_preload.sh. Built -O0 -g -fno-omit-frame-pointer with
 * noinline functions so each site is its own frame.
 *
 *   heap_sites [sites]   leak_big keeps 48 MiB (100 KiB blocks), leak_small
 *                        keeps 8 MiB (1 KiB blocks), churn allocates and
 *                        frees 256 MiB; exits with everything still live.
 *   heap_sites signal    starts dormant (run without MEMVIGIL_HEAP): 32 MiB
 *                        from leak_big, then SIGRTMIN+9 (sampling on), 32 MiB
 *                        from leak_small, SIGRTMIN+8, waits (<= 10 s) for the
 *                        snapshot in $MEMVIGIL_HEAP_DIR, then SIGRTMIN+9 off.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

NOINLINE static void leak_big(size_t total)
{
    for (size_t i = 0; i < total / (100 * 1024); i++) {
        char *p = malloc(100 * 1024);
        memset(p, 1, 64);
        sink = p;
    }
}

NOINLINE static void leak_small(size_t total)
{
    for (size_t i = 0; i < total / 1024; i++) {
        char *p = calloc(1, 1024);
        sink = p;
    }
}

NOINLINE static void churn(size_t total)
{
    for (size_t i = 0; i < total / 4096; i++) {
        char *p = malloc(4096);
        p[0] = 1;
        sink = p;
        free(p);
    }
}

static int count_snapshots(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "heap-%ld-", (long)getpid());
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && l > 6 &&
            strcmp(e->d_name + l - 6, ".pb.gz") == 0)
            n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sites";
    if (strcmp(mode, "sites") == 0) {
        leak_big(48u << 20);
        leak_small(8u << 20);
        churn(256u << 20);
        return 0;
    }
    if (strcmp(mode, "signal") == 0) {
        const char *dir = getenv("MEMVIGIL_HEAP_DIR");
        if (!dir)
            return 2;
        leak_big(32u << 20);
        raise(SIGRTMIN + 9);
        leak_small(32u << 20);
        raise(SIGRTMIN + 8);
        for (int i = 0; i < 1000 && count_snapshots(dir) == 0; i++) {
            churn(64 << 10); /* keep allocating: the thread starts lazily */
            usleep(10000);
        }
        if (count_snapshots(dir) == 0) {
            fprintf(stderr, "no snapshot after SIGRTMIN+8\n");
            return 1;
        }
        raise(SIGRTMIN + 9); /* off again: no exit snapshot changes that */
        leak_big(8u << 20);
        return 0;
    }
    fprintf(stderr, "usage: heap_sites [sites|signal]\n");
    return 2;
}
