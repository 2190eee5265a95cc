/*
 * gen.h — seeded generator of labelled memory traces for the leak
 * benchmark (bench/leaks). Two configurations with different parameter
 * ranges, family mixes and seeds: `tune` (seeds 1..5) to tune the detector
 * on, `report` (seeds 101..105) to report on (see gen.c for every family's
 * ranges in each). Same configuration + seed = same corpus on every
 * machine: the PRNG is splitmix64 and every draw goes through it in a
 * fixed order.
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
    K_SLOW,           /* reaches the limit in days */
    K_LATE,           /* flat, then a leak starts */
    K_STEP_LEAK,      /* staircase: a chunk retained at a regular period */
    K_STEP_POISSON,   /* staircase: 8-30 chunks at Poisson (random) times */
    K_SAW_RISING,     /* GC sawtooth whose floor rises */
    K_SMALL_FAST,     /* small container, few MiB/h that matter */
    K_DAILY_LEAK,     /* daily cycle on top of a leak */
    /* not leaks */
    K_FLAT,
    K_SAW_FLAT,       /* GC sawtooth, flat floor */
    K_WARMUP,         /* exponential approach to a plateau */
    K_CACHE,          /* bounded cache filling concavely to a hard cap */
    K_CACHE_LINEAR,   /* bounded cache filling linearly to a hard cap */
    K_BURSTS,         /* batch ramps, holds, then back to baseline */
    K_DAILY,          /* daily cycle, no leak */
    K_RANDOM_WALK,    /* mean-reverting (Ornstein–Uhlenbeck) wander */
    K_LEVEL_SHIFT,    /* one or two one-off level shifts */
    K_COUNT
} trace_kind;

const char *kind_name(trace_kind k);
int kind_is_leak(trace_kind k);
/* 1 for the kinds that rise to a plateau/cap and stay (warm-up, caches,
 * bursts): their trace records plateau times. */
int kind_has_plateau(trace_kind k);

typedef enum gen_config { GEN_TUNE = 0, GEN_REPORT, GEN_NCONFIG } gen_config;

const char *config_name(gen_config c);
/* "tune" / "report" -> 0, else -1. */
int config_parse(const char *s, gen_config *out);
/* The configuration's default seeds (GEN_NSEEDS of them). */
#define GEN_NSEEDS 5
uint64_t config_seed(gen_config c, int i);
/* How many traces of kind k a run with per_kind traces per kind makes in
 * configuration c (the family mix; >= 1 when per_kind >= 1). */
int kind_count(gen_config c, trace_kind k, int per_kind);

#define MAX_PLATEAU 64

typedef struct trace {
    trace_kind kind;
    int leak;               /* label */
    int64_t limit;          /* effective limit, bytes */
    double onset_s;         /* leak start (s from the first point); 0 = at once */
    double visible_s;       /* leaks: first time the floor has risen (onset,
                               or the first step of a staircase; the
                               scorer's clock uses flag_by_s) */
    double flag_by_s;       /* leaks: when the "<= 12 h within 2 h" clock
                               starts: visible_s, but a staircase's second
                               step (issue 11, answer 2: a first step
                               looks like a level shift) */
    double eta_from_onset_s;/* true time from onset to the limit (leaks) */
    double plateau_s;       /* warm-up / cache / bursts: first time the
                               plateau or cap is reached (warm-up: 3 tau,
                               95%); -1 otherwise */
    double plateaus[MAX_PLATEAU]; /* every plateau reached (bursts: one per
                                     burst; others: plateau_s) */
    int nplateau;
    double interval_s;      /* nominal sampling interval */
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

/* When > 0, every generated trace is sampled every gen_interval_s seconds
 * (the jitter still applies; no 1-2 s traces) instead of its drawn
 * interval. Each trace keeps its drawn parameters (limit, rates, onset,
 * cap, sawtooth period, ...) and length (one that drew 1-2 s sampling
 * still lasts at most a day); what is drawn per sample (noise, spikes, a
 * random walk's steps, a jittered sawtooth's cycles) differs. A probe of
 * how the detector holds at one sampling rate (leakbench --interval).
 * Default 0. */
extern double gen_interval_s;

/* Generates trace number idx of kind k from (config, seed) (independent
 * streams per (config, seed, idx)). 0 or -ENOMEM. */
int gen_trace(gen_config c, uint64_t seed, size_t idx, trace_kind k,
              trace *out);
void trace_release(trace *t);

/* Loads a "seconds,bytes" CSV (a fixture from a real program); the label
 * and limit are given. Lines that do not parse (headers, comments) are
 * skipped. 0 or negative errno. */
int trace_load_csv(const char *path, int leak, int64_t limit, trace *out);

#endif
