/*
 * detect_growth.c — growth rate of a series from the slope of its lower
 * envelope.
 *
 * DESIGN. Memory of a healthy service is rarely flat: a garbage collector
 * draws a sawtooth, batches draw bursts. What leaks is the floor. So the
 * newest window is cut into buckets, each bucket contributes its MINIMUM
 * (at the midpoint of the data it holds), and a Theil–Sen slope is fitted to
 * those minima. A bucket should span at least one GC cycle for its minimum
 * to sit on the floor; the automatic width (window / 30) is meant for
 * windows much longer than GC cycles.
 *
 * Buckets are laid out backwards from now_ms in whole widths, so no bucket
 * at either edge is partial (a partial bucket's minimum would sit above the
 * floor). At most GROWTH_MAX_BUCKETS buckets are used (wider buckets
 * otherwise), keeping Theil–Sen at <= 8128 pairs per call; the bucket array
 * lives on the stack. Pure: same series, same arguments, same answer.
 */
#include "detect.h"

#include <errno.h>
#include <math.h>

/* mv__growth_now: the long and the recent window. */
#define GROWTH_NOW_MS (3600LL * 1000)
/* ...or this many sampling intervals when longer: 12 buckets of two
 * samples each. At 5-minute sampling an hour holds 5 whole buckets of two
 * samples, under GROWTH_MIN_BUCKETS: there would never be a rate. */
#define GROWTH_NOW_MIN_SAMPLES 24
#define GROWTH_RECENT_MS (600LL * 1000)
#define GROWTH_RECENT_SAMPLES 16
/* Upper bound on buckets per estimate; see the file comment. */
#define GROWTH_MAX_BUCKETS 128
/* Auto bucket width = window / GROWTH_AUTO_DIV. */
#define GROWTH_AUTO_DIV 30
/* Validity: at least this many buckets ... */
#define GROWTH_MIN_BUCKETS 6
/* ... spanning at least min(window / 2, GROWTH_MIN_SPAN_MS). */
#define GROWTH_MIN_SPAN_MS 60000

static void growth_clear(mv__growth *g)
{
    g->valid = 0;
    g->bytes_per_s = NAN;
    g->lo_bytes_per_s = NAN;
    g->hi_bytes_per_s = NAN;
    g->window_s = 0;
    g->tau = NAN;
    g->buckets = 0;
}

int mv__growth_estimate(const mv__series *s, int64_t now_ms, int64_t window_ms,
                        int64_t bucket_ms, mv__growth *out)
{
    if (out == NULL)
        return -EINVAL;
    growth_clear(out);
    if (s == NULL || window_ms <= 0 || bucket_ms < 0)
        return -EINVAL;
    if (now_ms < 0 && window_ms > now_ms - INT64_MIN)
        return -EINVAL;

    int64_t from_ms = now_ms - window_ms;
    if (bucket_ms == 0) {
        bucket_ms = window_ms / GROWTH_AUTO_DIV;
        int64_t res = mv__series_resolution_ms(s, from_ms);
        if (res > 0 && bucket_ms < 2 * res)
            bucket_ms = 2 * res;
        if (bucket_ms < 1)
            bucket_ms = 1;
    }
    if (window_ms / bucket_ms > GROWTH_MAX_BUCKETS)
        bucket_ms = (window_ms + GROWTH_MAX_BUCKETS - 1) / GROWTH_MAX_BUCKETS;
    int64_t nwhole = window_ms / bucket_ms;
    if (nwhole < 1)
        return 0; /* buckets wider than the window: nothing to fit */
    from_ms = now_ms - nwhole * bucket_ms;

    mv__bucket b[GROWTH_MAX_BUCKETS + 1];
    size_t nb = mv__series_window(s, from_ms, now_ms, bucket_ms, b,
                                  GROWTH_MAX_BUCKETS + 1);
    out->buckets = nb;
    if (nb < GROWTH_MIN_BUCKETS)
        return 0;

    int64_t span_ms = b[nb - 1].t_end_ms - b[0].t_start_ms;
    int64_t need_ms = window_ms / 2 < GROWTH_MIN_SPAN_MS ? window_ms / 2
                                                         : GROWTH_MIN_SPAN_MS;
    out->window_s = (double)span_ms / 1000.0;
    if (span_ms < need_ms)
        return 0;

    double t[GROWTH_MAX_BUCKETS + 1], v[GROWTH_MAX_BUCKETS + 1];
    int64_t t0 = b[0].t_start_ms;
    for (size_t i = 0; i < nb; i++) {
        /* midpoint relative to the first bucket, in seconds */
        double mid = (double)(b[i].t_start_ms - t0) +
                     (double)(b[i].t_end_ms - b[i].t_start_ms) / 2.0;
        t[i] = mid / 1000.0;
        v[i] = b[i].min;
    }
    mv__slope sl;
    int rc = mv__theil_sen(t, v, nb, &sl);
    if (rc == -EINVAL)
        return 0; /* degenerate (e.g. one instant): not enough data */
    if (rc < 0)
        return rc;
    out->valid = 1;
    out->bytes_per_s = sl.slope;
    out->lo_bytes_per_s = sl.lo;
    out->hi_bytes_per_s = sl.hi;
    out->tau = sl.tau;
    return 0;
}

int64_t mv__growth_now_window_ms(const mv__series *s, int64_t now_ms)
{
    int64_t window = GROWTH_NOW_MS;
    /* twice: a longer window may reach back into a coarser tier */
    for (int i = 0; i < 2 && s != NULL; i++) {
        int64_t res = mv__series_resolution_ms(s, now_ms - window);
        if (res > 0 && GROWTH_NOW_MIN_SAMPLES * res > window)
            window = GROWTH_NOW_MIN_SAMPLES * res;
    }
    return window;
}

int mv__growth_now(const mv__series *s, int64_t now_ms, int64_t since_ms,
                   mv__growth *out)
{
    if (out == NULL)
        return -EINVAL;
    growth_clear(out);
    if (s == NULL)
        return -EINVAL;
    int64_t window = mv__growth_now_window_ms(s, now_ms);
    if (since_ms >= 0 && since_ms < now_ms && now_ms - since_ms < window)
        window = now_ms - since_ms;
    if (since_ms >= now_ms)
        return 0;
    int rc = mv__growth_estimate(s, now_ms, window, 0, out);
    if (rc < 0 || !out->valid || !(out->bytes_per_s > 0))
        return rc; /* not rising over the hour: nothing to follow down */
    int64_t recent = GROWTH_RECENT_MS;
    int64_t res = mv__series_resolution_ms(s, now_ms - recent);
    if (res > 0 && GROWTH_RECENT_SAMPLES * res > recent)
        recent = GROWTH_RECENT_SAMPLES * res;
    if (recent > window / 2)
        recent = window / 2; /* young data: its newer half */
    mv__growth r;
    rc = mv__growth_estimate(s, now_ms, recent, 0, &r);
    if (rc < 0)
        return rc;
    if (r.valid && r.hi_bytes_per_s < out->bytes_per_s)
        *out = r;
    return 0;
}
