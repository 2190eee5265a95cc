/*
 * gen.h — seeded generator of labelled memory traces for the leak
 * benchmark (bench/leaks). Same seed, same corpus, on every machine: the
 * PRNG is splitmix64 and every draw goes through it in a fixed order.
 *
 * Ownership: gen_trace() fills a caller-owned struct whose arrays it
 * mallocs; trace_release() frees them. Single-threaded.
 */
#ifndef MV_BENCH_GEN_H
#define MV_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

typedef enum trace_kind {
    /* leaks */
    K_STEADY = 0,     /* straight leak, wide range of rates and sizes */
    K_SLOW,           /* reaches the limit in 3-10 days */
    K_LATE,           /* flat, then a leak starts */
    K_STEP_LEAK,      /* staircase: a chunk retained every few minutes/hours */
    K_SAW_RISING,     /* GC sawtooth whose floor rises */
    K_SMALL_FAST,     /* small container, few MiB/h that matter */
    K_DAILY_LEAK,     /* daily cycle on top of a leak */
    /* not leaks */
    K_FLAT,
    K_SAW_FLAT,       /* GC sawtooth, flat floor */
    K_WARMUP,         /* exponential approach to a plateau */
    K_CACHE,          /* bounded cache filling (concave) to a hard cap */
    K_BURSTS,         /* batch bursts returning to baseline */
    K_DAILY,          /* daily cycle, no leak */
    K_RANDOM_WALK,    /* mean-reverting (Ornstein–Uhlenbeck) wander */
    K_LEVEL_SHIFT,    /* one or two one-off level shifts */
    K_COUNT
} trace_kind;

const char *kind_name(trace_kind k);
int kind_is_leak(trace_kind k);

typedef struct trace {
    trace_kind kind;
    int leak;               /* label */
    int64_t limit;          /* effective limit, bytes */
    double onset_s;         /* leak start (s from the first point); 0 = at once */
    double eta_from_onset_s;/* true time from onset to the limit (leaks) */
    double *t;              /* seconds from the start, increasing */
    double *v;              /* bytes */
    size_t n;
    double dur_s;           /* t[n-1] */
    char name[96];
} trace;

typedef struct rng { uint64_t s; } rng;
uint64_t rng_next(rng *r);
double rng_unif(rng *r);                 /* [0,1) */
double rng_range(rng *r, double a, double b);
double rng_logrange(rng *r, double a, double b);
double rng_norm(rng *r);

/* Generates trace number idx of kind k from seed (independent streams per
 * (seed, idx)). 0 or -ENOMEM. */
int gen_trace(uint64_t seed, size_t idx, trace_kind k, trace *out);
void trace_release(trace *t);

/* Loads a "seconds,bytes" CSV (a fixture from a real program); the label
 * and limit are given. 0 or negative errno. */
int trace_load_csv(const char *path, int leak, int64_t limit, trace *out);

#endif
