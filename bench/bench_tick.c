/*
 * bench_tick.c — what one sampler tick costs: the time of mv__probe_target()
 * (the whole sample: /proc/PID/status, stat, cgroup files, meminfo, PSI,
 * derived fields) on another process.
 *
 * Two targets, each a forked child that sets itself up, reports ready over a
 * pipe, then sleeps until killed:
 *   typical — holds ~50 MiB of touched heap in a few dozen mappings;
 *   10k     — 10,000 separate small anonymous mappings. They are carved from
 *             one region by giving every other 2-page slice PROT_READ, so the
 *             kernel cannot merge neighbours (one VMA per slice).
 * Each is probed with the default options (no smaps_rollup: /proc/PID/status
 * costs the same whatever the number of mappings), then with smaps_rollup on,
 * which walks every VMA under the target's mmap lock — the reason it is off
 * by default.
 *
 * Back-to-back calls run with warm caches; a sampler tick comes after a
 * sleep, with the CPU caches and TLB taken by other work. So the typical
 * case is also run "spaced": one call every 100 ms, the way the sampler
 * runs at its shortest interval — the realistic per-tick figure.
 *
 * The typical and 10k cases run twice: with mv__probe_target (opens and
 * closes every file per call) and with a probe session (mv__probe_session_*:
 * descriptors kept open, re-read with pread), which is what the sampler
 * uses; the *_session figures are the session's.
 *
 * Wall time (CLOCK_MONOTONIC) and the calling thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID) are measured per call; medians and p90 printed.
 * Target: tick median <= 200 us without smaps_rollup.
 *
 * Usage: bench_tick [--iterations N] [--spaced N]   (defaults 2000, 50)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "memvigil.h"
#include "probe.h"

#define TYPICAL_CHUNKS 10
#define TYPICAL_CHUNK_BYTES (5u << 20) /* 10 x 5 MiB = 50 MiB */
#define MANY_MAPPINGS 10000

/* Child body for the typical target: ~50 MiB of heap in mmap'd chunks of
 * alternating protection (so they stay distinct mappings, like the arenas,
 * libraries and stacks of a real service), all touched. */
static void child_typical(void)
{
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < TYPICAL_CHUNKS; i++) {
        char *p = mmap(NULL, TYPICAL_CHUNK_BYTES + (size_t)page,
                       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(2);
        memset(p, 0x5a, TYPICAL_CHUNK_BYTES);
        /* a guard page at the end splits this chunk from its neighbour */
        mprotect(p + TYPICAL_CHUNK_BYTES, (size_t)page, PROT_NONE);
    }
}

/* Child body for the 10k-mappings target. */
static void child_many(void)
{
    size_t slice = 2 * (size_t)sysconf(_SC_PAGESIZE);
    size_t total = slice * MANY_MAPPINGS;
    char *p = mmap(NULL, total, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(2);
    memset(p, 0x5a, total);
    for (size_t i = 1; i < MANY_MAPPINGS; i += 2)
        if (mprotect(p + i * slice, slice, PROT_READ) != 0)
            _exit(3);
}

/* Forks a child that runs body, then waits for its "ready" byte. Returns the
 * child's pid or -1. */
static pid_t spawn_target(void (*body)(void))
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        body();
        char c = 'r';
        if (write(fds[1], &c, 1) != 1)
            _exit(4);
        close(fds[1]);
        for (;;)
            pause();
    }
    close(fds[1]);
    char c;
    ssize_t n = read(fds[0], &c, 1);
    close(fds[0]);
    if (n != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static void stop_target(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Probes pid `iters` times, back to back or, with spacing_ms > 0, one call
 * every spacing_ms (as the sampler does: caches and TLB are cold again by
 * the next tick); prints <prefix>_{median,p90}_us and <prefix>_cpu_median_us.
 * Returns 0 or the first probe error. */
static int run_case(const char *prefix, pid_t pid, int smaps, int iters,
                    int spacing_ms, int session)
{
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    o.smaps_rollup = smaps;

    double *wall = calloc((size_t)iters, sizeof *wall);
    double *cpu = calloc((size_t)iters, sizeof *cpu);
    if (wall == NULL || cpu == NULL) {
        free(wall);
        free(cpu);
        return -ENOMEM;
    }
    int32_t target = (int32_t)pid;
    mv_sample s;
    int rc = 0;
    mv__probe_session *ps = NULL;
    if (session && !(ps = mv__probe_session_new(&o, &target, 1, 0, NULL, &rc))) {
        fprintf(stderr, "bench_tick: mv__probe_session_new(%d): %s\n",
                (int)pid, mv_strerror(rc));
        free(wall);
        free(cpu);
        return rc;
    }
    /* warm-up: page cache of the dentries, our own code and stack */
    for (int i = 0; i < 20 && rc == 0; i++)
        rc = ps ? mv__probe_session_sample(ps, &s)
                : mv__probe_target(&o, &target, 1, 0, NULL, &s);
    for (int i = 0; i < iters && rc == 0; i++) {
        if (spacing_ms > 0)
            bench_sleep_ms(spacing_ms);
        int64_t w0 = bench_ns(CLOCK_MONOTONIC);
        int64_t c0 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
        rc = ps ? mv__probe_session_sample(ps, &s)
                : mv__probe_target(&o, &target, 1, 0, NULL, &s);
        int64_t c1 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
        int64_t w1 = bench_ns(CLOCK_MONOTONIC);
        wall[i] = (double)(w1 - w0) / 1000.0;
        cpu[i] = (double)(c1 - c0) / 1000.0;
    }
    if (rc != 0) {
        fprintf(stderr, "bench_tick: mv__probe_target(%d): %s\n", (int)pid,
                mv_strerror(rc));
    } else {
        char name[128];
        printf("# %s: pid %d, %ld mappings, rss %lld MiB, pss %s\n", prefix,
               (int)pid, bench_count_maps(pid),
               (long long)(s.rss_bytes >> 20),
               s.pss_bytes == MV_NA ? "n/a" : "read");
        snprintf(name, sizeof name, "%s_median_us", prefix);
        bench_result(name, bench_quantile(wall, (size_t)iters, 0.5));
        snprintf(name, sizeof name, "%s_p90_us", prefix);
        bench_result(name, bench_quantile(wall, (size_t)iters, 0.9));
        snprintf(name, sizeof name, "%s_cpu_median_us", prefix);
        bench_result(name, bench_quantile(cpu, (size_t)iters, 0.5));
    }
    mv__probe_session_free(ps);
    free(wall);
    free(cpu);
    return rc;
}

int main(int argc, char **argv)
{
    int iters = 2000, spaced = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--spaced") == 0 && i + 1 < argc) {
            spaced = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_tick [--iterations N] [--spaced N]\n");
            return 2;
        }
    }
    if (iters < 10 || iters > 10000000 || spaced < 10 || spaced > 100000) {
        fprintf(stderr, "bench_tick: --iterations 10..10000000, --spaced 10..100000\n");
        return 2;
    }

    int rc = 0;
    pid_t typical = spawn_target(child_typical);
    pid_t many = spawn_target(child_many);
    if (typical < 0 || many < 0) {
        fprintf(stderr, "bench_tick: could not start the target processes\n");
        rc = 1;
    } else {
        printf("# bench_tick: %d iterations of mv__probe_target per case\n", iters);
        if (run_case("tick_typical", typical, 0, iters, 0, 0) != 0 ||
            run_case("tick_typical_session", typical, 0, iters, 0, 1) != 0 ||
            run_case("tick_10k_maps", many, 0, iters, 0, 0) != 0 ||
            run_case("tick_10k_maps_session", many, 0, iters, 0, 1) != 0 ||
            run_case("tick_typical_smaps", typical, 1, iters, 0, 0) != 0 ||
            run_case("tick_10k_maps_smaps", many, 1, iters, 0, 0) != 0 ||
            run_case("tick_typical_spaced", typical, 0, spaced, 100, 0) != 0 ||
            run_case("tick_typical_session_spaced", typical, 0, spaced, 100,
                     1) != 0)
            rc = 1;
    }
    if (typical > 0)
        stop_target(typical);
    if (many > 0)
        stop_target(many);
    return rc;
}
