/*
 * bench_util.h — helpers shared by the bench/ programs: clocks, percentiles
 * over a sample array, the fixed result-line format, and reading one field
 * of /proc/<pid>/status.
 *
 * Every figure is printed as one line "<name> <value>" (value formatted with
 * %.6g, so tiny shares keep their digits) so bench/run-all.sh can tabulate them; anything
 * else a bench prints starts with "#".
 *
 * Header-only (static functions), so each bench stays one .c file.
 * Thread-safety: all functions are reentrant.
 */
#ifndef MV_BENCH_UTIL_H
#define MV_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Nanoseconds on clock c (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...). */
static inline int64_t bench_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void bench_sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns the q-quantile (0 <= q <= 1) by the
 * nearest-rank method; 0 for an empty array. */
static inline double bench_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, bench_cmp_double);
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static inline void bench_result(const char *name, double value)
{
    printf("%s %.6g\n", name, value);
    fflush(stdout);
}

/* Reads "<field>:   <n> kB" from /proc/<pid>/status (pid 0 = self) and
 * returns bytes, or -1 when unavailable. */
static inline int64_t bench_status_kb_field(int pid, const char *field)
{
    char path[64], line[256];
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/status");
    else
        snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t flen = strlen(field);
    int64_t out = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            out = strtoll(line + flen + 1, NULL, 10) * 1024;
            break;
        }
    }
    fclose(f);
    return out;
}

/* Number of lines in /proc/<pid>/maps (= mappings), or -1. */
static inline long bench_count_maps(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        if (c == '\n')
            n++;
    fclose(f);
    return n;
}

#endif /* MV_BENCH_UTIL_H */
