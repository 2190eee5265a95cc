/*
 * frag.h — the allocator diagnosis: tells fragmentation and retention from
 * a leak. It runs beside the leak verdict (leak.h) and qualifies it: when
 * private memory grows or stays high while the program's live heap (the
 * allocator's "in use" figure) is flat, the cause is the allocator, not a
 * lost object, and the advice is a setting, not a bug hunt.
 *
 *  - fragmentation: over the whole window (every sample of it) resident
 *    private memory exceeds the heap in use by at least min_excess_bytes
 *    and min_excess_ratio of private memory, while the heap in use stayed
 *    flat (its range within flat_ratio of its peak); no freed peak before.
 *  - retention: the same, and the heap in use had been at least
 *    1 / retention_drop times higher earlier (a peak that was freed) while
 *    private memory stayed within 70% of what it was at that peak: malloc
 *    kept the freed peak.
 *
 * Every figure of the evidence is true of the whole window: the smallest
 * excess, the in-use range, the allocator's free bytes and arena count of
 * the newest sample. Samples without allocator figures (alloc_kind 0) are
 * skipped: the monitor spaces its readings by their cost, so the claim is
 * judged on the readings of the window (at least min_samples of them).
 * The same calls serve the monitor (live) and `analyze` (a recording).
 *
 * Thread-safety: a detector has one owner; no global state.
 * Ownership: mv__frag_new allocates; mv__frag_free frees (NULL is a no-op).
 */
#ifndef MV_FRAG_H
#define MV_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

typedef enum mv__frag_verdict {
    MV_FRAG_NONE = 0,        /* no claim (too little data, or no excess) */
    MV_FRAG_FRAGMENTATION,
    MV_FRAG_RETENTION
} mv__frag_verdict;

/* "none", "fragmentation", "retention". */
const char *mv__frag_verdict_name(mv__frag_verdict v);

typedef struct mv__frag_cfg {
    int64_t window_ms;          /* the claim holds over this span: 10 min */
    size_t min_samples;         /* ... and at least this many readings: 3 */
    int64_t min_excess_bytes;   /* private - in use, at least: 64 MiB */
    double min_excess_ratio;    /* ... and this share of private: 0.30 */
    double flat_ratio;          /* in-use range / its peak, at most: 0.10 */
    double retention_drop;      /* in use now / earlier peak, at most: 0.5 */
} mv__frag_cfg;

/* Defaults documented in frag.c. */
void mv__frag_cfg_init(mv__frag_cfg *cfg);

typedef struct mv__frag_result {
    mv__frag_verdict verdict;
    int alloc_kind;              /* of the newest sample (MV_ALLOC_*) */
    int64_t excess_bytes;        /* smallest private - in use of the window */
    int64_t free_bytes;          /* allocator free bytes, newest sample */
    int64_t in_use_bytes;        /* heap in use, newest sample */
    int64_t in_use_min_bytes, in_use_max_bytes; /* over the window */
    int64_t peak_in_use_bytes;   /* retention: the freed peak */
    int64_t arenas;              /* newest sample; MV_NA unknown */
    double window_s;             /* span judged */
    int64_t since_ms;            /* series time the verdict began (-1) */
    char evidence[320];          /* one sentence, true of the window */
    char advice[400];            /* what to do, with the expected effect */
} mv__frag_result;

typedef struct mv__frag_detector mv__frag_detector;

mv__frag_detector *mv__frag_new(const mv__frag_cfg *cfg);
void mv__frag_free(mv__frag_detector *d);

/* Feeds one sample (time t_ms, its private_bytes and alloc_* fields) and
 * judges. Returns 1 when the verdict changed (then *out holds the new
 * result), else 0; *out holds the current result either way. */
int mv__frag_tick(mv__frag_detector *d, int64_t t_ms, const mv_sample *s,
                  mv__frag_result *out);

/* 1 when a rise of private memory over the last window_s seconds (the
 * leak verdict's span) is not in the live heap: allocator figures cover
 * the whole span and the heap in use stayed within flat_ratio of its peak
 * over it. The leak verdict is then qualified as the allocator's (the
 * monitor and analyze say fragmentation, not leak). */
int mv__frag_explains_rise(const mv__frag_detector *d, int64_t now_ms,
                           double window_s);

/* The advice for a verdict and allocator kind (also used by the report):
 * MALLOC_ARENA_MAX=2, malloc_trim(0) / mv_trim(), jemalloc with
 * background_thread. Writes at most n bytes. Returns out. */
char *mv__frag_advice(mv__frag_verdict v, int alloc_kind, int64_t arenas,
                      char *out, size_t n);

#endif /* MV_FRAG_H */
