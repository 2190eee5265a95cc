/*
 * frag.c — the allocator diagnosis (frag.h): fragmentation or retention,
 * judged over a window of buckets that keep, per slice of time, the
 * smallest excess (private - heap in use) and the heap in use's range, so
 * "every sample of the window" holds at any sampling rate in bounded
 * memory.
 *
 * Defaults, and why:
 *  - window 10 min, 3 readings: long enough that a burst being freed (a
 *    request spike, a GC-like batch) is not called a steady state; short
 *    next to the leak verdict's hours, because the claim is about the
 *    present (memory held now), not a trend.
 *  - excess >= 64 MiB and >= 30% of private memory: the high-memory
 *    runbook's "fragmentation ratio > 30%", with an absolute floor below
 *    which no setting is worth changing.
 *  - in use flat within 10% of its peak: the program's live heap is not
 *    what moves.
 *  - retention: the heap in use had been at least twice what it is now,
 *    and private memory kept 70% of its level at that peak: malloc kept
 *    the freed peak instead of giving it back.
 */
#include "frag.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocstats.h"
#include "series.h"
#include "util.h"

#define NBUCKETS 256

typedef struct bucket {
    int64_t t0_ms;            /* first sample's time */
    int64_t t1_ms;            /* last sample's time */
    int64_t min_excess;       /* smallest private - in use */
    double min_excess_ratio;  /* smallest (private - in use) / private */
    int64_t in_use_min, in_use_max;
    uint32_t n;
} bucket;

struct mv__frag_detector {
    mv__frag_cfg cfg;
    bucket b[NBUCKETS];        /* ring; head = newest */
    size_t head, count;
    int64_t width_ms;          /* bucket width: window / (NBUCKETS / 2) */
    int64_t peak_in_use;       /* all-time peak of the heap in use */
    int64_t private_at_peak;   /* private memory at that peak */
    mv__series *in_use;        /* heap in use over hours (min/max tiers),
                                  for mv__frag_explains_rise */
    int64_t first_ms;          /* first sample of in_use (-1 none) */
    mv__frag_result res;
};

const char *mv__frag_verdict_name(mv__frag_verdict v)
{
    switch (v) {
    case MV_FRAG_FRAGMENTATION: return "fragmentation";
    case MV_FRAG_RETENTION: return "retention";
    default: return "none";
    }
}

void mv__frag_cfg_init(mv__frag_cfg *cfg)
{
    cfg->window_ms = 10 * 60 * 1000;
    cfg->min_samples = 3;
    cfg->min_excess_bytes = 64ll << 20;
    cfg->min_excess_ratio = 0.30;
    cfg->flat_ratio = 0.10;
    cfg->retention_drop = 0.5;
}

static void result_reset(mv__frag_result *r)
{
    memset(r, 0, sizeof *r);
    r->verdict = MV_FRAG_NONE;
    r->excess_bytes = r->free_bytes = r->in_use_bytes = MV_NA;
    r->in_use_min_bytes = r->in_use_max_bytes = MV_NA;
    r->peak_in_use_bytes = r->arenas = MV_NA;
    r->window_s = NAN;
    r->since_ms = -1;
    snprintf(r->evidence, sizeof r->evidence, "no allocator statistics yet");
}

mv__frag_detector *mv__frag_new(const mv__frag_cfg *cfg)
{
    mv__frag_detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (cfg)
        d->cfg = *cfg;
    else
        mv__frag_cfg_init(&d->cfg);
    if (d->cfg.window_ms < 1000)
        d->cfg.window_ms = 1000;
    if (d->cfg.min_samples < 2)
        d->cfg.min_samples = 2;
    d->width_ms = d->cfg.window_ms / (NBUCKETS / 2);
    d->peak_in_use = MV_NA;
    d->first_ms = -1;
    d->in_use = mv__series_new_default();
    if (!d->in_use) {
        free(d);
        return NULL;
    }
    result_reset(&d->res);
    return d;
}

void mv__frag_free(mv__frag_detector *d)
{
    if (!d)
        return;
    mv__series_free(d->in_use);
    free(d);
}

int mv__frag_explains_rise(const mv__frag_detector *d, int64_t now_ms,
                           double window_s)
{
    mv__bucket b;

    if (!d || !(window_s > 0) || d->res.alloc_kind == MV_ALLOC_NONE)
        return 0;
    int64_t from = now_ms - (int64_t)(window_s * 1000.0);
    if (mv__series_window(d->in_use, from, now_ms, now_ms - from + 1, &b,
                          1) != 1)
        return 0;
    /* allocator data for all of the span (one tick of slack at its start) */
    int64_t slack = mv__series_resolution_ms(d->in_use, from);
    if (d->first_ms < 0 || d->first_ms > from + (slack > 0 ? slack : 0) + 1000)
        return 0;
    return b.max > 0 && b.max - b.min <= d->cfg.flat_ratio * b.max;
}

char *mv__frag_advice(mv__frag_verdict v, int alloc_kind, int64_t arenas,
                      char *out, size_t n)
{
    if (v == MV_FRAG_NONE) {
        snprintf(out, n, "none needed");
        return out;
    }
    if (alloc_kind == MV_ALLOC_JEMALLOC) {
        snprintf(out, n,
                 "let jemalloc return dirty pages sooner: "
                 "MALLOC_CONF=background_thread:true,dirty_decay_ms:1000 "
                 "(RSS falls toward the heap in use within seconds); "
                 "mv_trim() purges every arena now");
        return out;
    }
    char ar[48] = "";
    if (arenas != MV_NA && arenas > 2)
        snprintf(ar, sizeof ar, " (now %" PRId64 ")", arenas);
    if (v == MV_FRAG_RETENTION)
        snprintf(out, n,
                 "give the freed peak back: call malloc_trim(0) (or "
                 "mv_trim(), or mv_config.trim_interval_ms for a periodic trim "
                 "outside phases) after the peak: RSS falls by about the "
                 "allocator's free bytes; MALLOC_ARENA_MAX=2 fewer "
                 "arenas%s keep less; or run with jemalloc "
                 "(LD_PRELOAD=libjemalloc.so.2, "
                 "MALLOC_CONF=background_thread:true)", ar);
    else
        snprintf(out, n,
                 "set MALLOC_ARENA_MAX=2 (fewer arenas%s, fewer "
                 "half-empty heaps: RSS typically drops by the free bytes "
                 "of the arenas removed), call malloc_trim(0) / mv_trim() "
                 "periodically to return free pages inside heaps, or run "
                 "with jemalloc (LD_PRELOAD=libjemalloc.so.2, "
                 "MALLOC_CONF=background_thread:true)", ar);
    return out;
}

/* ---- the window ---- */

static void push(mv__frag_detector *d, int64_t t, int64_t excess,
                 double ratio, int64_t in_use)
{
    bucket *cur = d->count ? &d->b[d->head] : NULL;
    if (!cur || t - cur->t0_ms >= d->width_ms || t < cur->t1_ms) {
        d->head = d->count ? (d->head + 1) % NBUCKETS : 0;
        if (d->count < NBUCKETS)
            d->count++;
        cur = &d->b[d->head];
        cur->t0_ms = t;
        cur->min_excess = excess;
        cur->min_excess_ratio = ratio;
        cur->in_use_min = cur->in_use_max = in_use;
        cur->n = 0;
    }
    cur->t1_ms = t;
    if (excess < cur->min_excess)
        cur->min_excess = excess;
    if (ratio < cur->min_excess_ratio)
        cur->min_excess_ratio = ratio;
    if (in_use < cur->in_use_min)
        cur->in_use_min = in_use;
    if (in_use > cur->in_use_max)
        cur->in_use_max = in_use;
    cur->n++;
}

/* The window's aggregate: buckets whose samples lie within window_ms of
 * the newest. */
typedef struct agg {
    int64_t min_excess, in_use_min, in_use_max, t_first;
    double min_ratio;
    size_t n;
} agg;

static void aggregate(const mv__frag_detector *d, int64_t now, agg *a)
{
    a->n = 0;
    a->min_excess = INT64_MAX;
    a->min_ratio = INFINITY;
    a->in_use_min = INT64_MAX;
    a->in_use_max = 0;
    a->t_first = now;
    for (size_t i = 0; i < d->count; i++) {
        const bucket *b = &d->b[(d->head + NBUCKETS - i) % NBUCKETS];
        if (now - b->t0_ms > d->cfg.window_ms)
            break;
        a->n += b->n;
        a->t_first = b->t0_ms;
        if (b->min_excess < a->min_excess)
            a->min_excess = b->min_excess;
        if (b->min_excess_ratio < a->min_ratio)
            a->min_ratio = b->min_excess_ratio;
        if (b->in_use_min < a->in_use_min)
            a->in_use_min = b->in_use_min;
        if (b->in_use_max > a->in_use_max)
            a->in_use_max = b->in_use_max;
    }
}

/* ---- the rules ---- */

/* The window is long and dense enough to speak of a steady state. */
static int enough_data(const mv__frag_detector *d, const agg *a, int64_t now)
{
    /* unbroken allocator data since at least one window ago */
    return a->n >= d->cfg.min_samples && d->first_ms >= 0 &&
           now - d->first_ms >= d->cfg.window_ms;
}

/* Resident private memory exceeds the heap in use, all window long. */
static int excess_held(const mv__frag_detector *d, const agg *a)
{
    return a->min_excess >= d->cfg.min_excess_bytes &&
           a->min_ratio >= d->cfg.min_excess_ratio;
}

/* The live heap is not what moves. */
static int in_use_flat(const mv__frag_detector *d, const agg *a)
{
    return (double)(a->in_use_max - a->in_use_min) <=
           d->cfg.flat_ratio * (double)a->in_use_max;
}

/* The heap in use was much higher before, and private memory did not
 * follow it down. */
static int freed_peak_kept(const mv__frag_detector *d, const agg *a,
                           int64_t private_now)
{
    return d->peak_in_use != MV_NA && d->peak_in_use > 0 &&
           (double)a->in_use_max <= d->cfg.retention_drop *
                                        (double)d->peak_in_use &&
           (double)private_now >= 0.7 * (double)d->private_at_peak;
}

static void describe(mv__frag_detector *d, const agg *a, const mv_sample *s)
{
    mv__frag_result *r = &d->res;
    char ex[32], fr[32], lo[32], hi[32], pk[32], ar[48] = "";

    mv__human_bytes(a->min_excess, ex, sizeof ex);
    mv__human_bytes(s->alloc_free_bytes, fr, sizeof fr);
    mv__human_bytes(a->in_use_min, lo, sizeof lo);
    mv__human_bytes(a->in_use_max, hi, sizeof hi);
    mv__human_bytes(d->peak_in_use, pk, sizeof pk);
    if (s->alloc_arenas != MV_NA)
        snprintf(ar, sizeof ar, " in %" PRId64 " arena%s", s->alloc_arenas,
                 s->alloc_arenas == 1 ? "" : "s");
    if (r->verdict == MV_FRAG_NONE) {
        snprintf(r->evidence, sizeof r->evidence,
                 "no allocator excess over the last %.0f s: private memory "
                 "exceeded the heap in use by at least %s", r->window_s, ex);
        r->advice[0] = 0;
        return;
    }
    int n = snprintf(r->evidence, sizeof r->evidence,
                     "%s: for %.0f s private memory exceeded the %s heap in "
                     "use by at least %s (%.0f%%) while the heap in use "
                     "stayed within %s..%s; the allocator holds %s free%s",
                     mv__frag_verdict_name(r->verdict), r->window_s,
                     mv__alloc_kind_name(s->alloc_kind), ex,
                     100.0 * a->min_ratio, lo, hi, fr, ar);
    if (r->verdict == MV_FRAG_RETENTION && n > 0 &&
        (size_t)n < sizeof r->evidence)
        snprintf(r->evidence + n, sizeof r->evidence - (size_t)n,
                 ", after a freed peak of %s in use", pk);
    mv__frag_advice(r->verdict, s->alloc_kind, s->alloc_arenas, r->advice,
                    sizeof r->advice);
}

int mv__frag_tick(mv__frag_detector *d, int64_t t_ms, const mv_sample *s,
                  mv__frag_result *out)
{
    mv__frag_verdict was = d->res.verdict;

    if (s->alloc_kind == MV_ALLOC_NONE || s->alloc_in_use_bytes == MV_NA ||
        s->private_bytes == MV_NA || s->private_bytes <= 0) {
        /* no reading this time (readings are spaced by their cost): the
         * claim is judged on the readings there are */
        *out = d->res;
        return 0;
    }
    int64_t excess = s->private_bytes - s->alloc_in_use_bytes;
    double ratio = (double)excess / (double)s->private_bytes;
    if (d->peak_in_use == MV_NA || s->alloc_in_use_bytes > d->peak_in_use) {
        d->peak_in_use = s->alloc_in_use_bytes;
        d->private_at_peak = s->private_bytes;
    }
    push(d, t_ms, excess, ratio, s->alloc_in_use_bytes);
    if (d->first_ms < 0)
        d->first_ms = t_ms;
    if (d->in_use)
        (void)mv__series_push(d->in_use, t_ms, (double)s->alloc_in_use_bytes);

    agg a;
    aggregate(d, t_ms, &a);
    mv__frag_result *r = &d->res;
    r->alloc_kind = s->alloc_kind;
    r->free_bytes = s->alloc_free_bytes;
    r->in_use_bytes = s->alloc_in_use_bytes;
    r->arenas = s->alloc_arenas;
    r->window_s = (double)(t_ms - a.t_first) / 1000.0;
    r->excess_bytes = a.min_excess;
    r->in_use_min_bytes = a.in_use_min;
    r->in_use_max_bytes = a.in_use_max;
    r->peak_in_use_bytes = d->peak_in_use;

    mv__frag_verdict v = MV_FRAG_NONE;
    if (enough_data(d, &a, t_ms) && excess_held(d, &a) && in_use_flat(d, &a))
        v = freed_peak_kept(d, &a, s->private_bytes) ? MV_FRAG_RETENTION
                                                     : MV_FRAG_FRAGMENTATION;
    if (!enough_data(d, &a, t_ms)) {
        snprintf(r->evidence, sizeof r->evidence,
                 "not enough allocator data yet (%.0f s of %.0f s)",
                 r->window_s, (double)d->cfg.window_ms / 1000.0);
        r->advice[0] = 0;
        r->verdict = MV_FRAG_NONE;
        r->since_ms = -1;
    } else {
        if (v != r->verdict)
            r->since_ms = v == MV_FRAG_NONE ? -1 : t_ms;
        r->verdict = v;
        describe(d, &a, s);
    }
    *out = *r;
    return r->verdict != was;
}
