/*
 * leak_stairs.c — the leak detector's staircase test. A leak that grows in
 * equal steps at a steady pace (a batch job that keeps what it loaded, a
 * cache that never evicts one more shard per hour) is a one-off level
 * shift to every window holding one step, and when the steps are hours
 * apart the windows holding several are hours long. So the floor since the
 * data start (at most STAIR_SPAN) is read as a staircase; see the comment
 * above mv__leak_eval_stairs.
 */
#include "leak_window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define HOUR_MS MV_LEAK_HOUR_MS
#define MIN_MS MV_LEAK_MIN_MS
#define NPTS MV_LEAK_MAX_POINTS
/* A leak is not claimed with fewer than this many buckets. */
#define WIN_MIN_BUCKETS 12
#define ETA_MAX_S MV_ETA_SAY_MAX_S /* util.h: the leak horizon, as for windows */

/* ---- staircases -------------------------------------------------------
 * A leak that grows in equal steps at a steady pace (a batch job that keeps
 * what it loaded, a cache that never evicts one more shard per hour) is a
 * one-off level shift to every window holding one step, and when the steps
 * are hours apart the windows holding several are hours long. So the
 * floor since the data start (at most STAIR_SPAN) is read as a staircase:
 * significant up-steps (> 6 robust sd of the bucket-to-bucket changes and
 * > STAIR_MIN_HEAD of the headroom), flat in between, no step down, sizes
 * within STAIR_SIZE_RATIO and intervals (counting the data start to the
 * first step) within STAIR_GAP_RATIO of each other, the last step not
 * overdue; or, from STAIR_IRREG_MIN steps, at irregular times (below).
 * Three or more such steps are a leak when the limit is within
 * ETA_MAX_S at their pace; two, only within STAIR_TWO_ETA_S (two one-off
 * shifts can happen, two large ones that close rarely); and, as for the
 * windows, only once the staircase spans the leak patience (c->min_rise_ms)
 * in a process MV_LEAK_MIN_AGE_MS old. Unlike the windows, a staircase
 * does not take the near-limit exit (MV_LEAK_ROOM_USED_LEAK): it has no
 * test against the past, and a batch ramp read at hour-wide buckets is a
 * regular staircase. */
#define STAIR_SPAN (24 * HOUR_MS)
#define STAIR_MIN_HEAD 0.02
#define STAIR_SIZE_RATIO 2.5
#define STAIR_GAP_RATIO 1.6
#define STAIR_TWO_ETA_S (24.0 * 3600.0)
/* From STAIR_IRREG_MIN steps up, none down, the steps may come at
 * irregular (Poisson-like) times: intervals unchecked, sizes within
 * STAIR_IRREG_SIZE_RATIO, the last step not older than STAIR_IRREG_OVERDUE
 * x the mean interval (a one-off shift or two is a level shift; four
 * shifts up and none down is growth). Here steps in adjacent buckets
 * count as one: a fast ramp (a cache filling in a few buckets) is one
 * shift, not several. */
#define STAIR_IRREG_MIN 4
#define STAIR_IRREG_SIZE_RATIO 4.0
#define STAIR_IRREG_OVERDUE 2.5
/* The oom_risk claim (urgency, allowed to come early) may stand on
 * irregular steps from this many: on `tune` it changed only step_poisson
 * traces (bench/leaks/README.md, "Risk horizon"). */
#define STAIR_IRREG_RISK_MIN 3

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The pace of the k steps up (size[], at[] in seconds): mean interval
 * (counting the data start to the first step while the data start is
 * within STAIR_SPAN), mean step and their sum. Fails on fewer than two intervals
 * and, for a regular staircase, on intervals beyond STAIR_GAP_RATIO of each
 * other. */
static int stair_pace(const mv__leak_ctx *c, const double *size,
                      const double *at, size_t k, int regular,
                      double *period, double *step, double *ssum)
{
    double gap[MV_LEAK_WIN_BUCKETS + 1];
    size_t ng = 0;
    if (c->now_ms - c->data_start_ms <= STAIR_SPAN)
        gap[ng++] = at[0] - (double)c->data_start_ms / 1000.0;
    for (size_t j = 1; j < k; j++)
        gap[ng++] = at[j] - at[j - 1];
    if (ng < 2)
        return 0;
    double gmin = INFINITY, gmax = 0, gsum = 0;
    for (size_t j = 0; j < ng; j++) {
        gmin = fmin(gmin, gap[j]);
        gmax = fmax(gmax, gap[j]);
        gsum += gap[j];
    }
    if (!(gmin > 0) || (regular && gmax > STAIR_GAP_RATIO * gmin))
        return 0;
    *ssum = 0;
    for (size_t j = 0; j < k; j++)
        *ssum += size[j];
    *period = gsum / (double)ng;
    *step = *ssum / (double)k;
    return 1;
}

/* The steps up of dv[] (over thr) with those in adjacent buckets merged
 * into one, into size[] and at[] (when each ended); returns how many. A
 * fast ramp over a few buckets (a cache filling) is one shift. */
static size_t stair_merge(const mv__bucket *bk, const double *dv, size_t n,
                          double thr, double *size, double *at)
{
    size_t m = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!(dv[i] > thr))
            continue;
        if (i > 0 && dv[i - 1] > thr) {
            size[m - 1] += dv[i];
        } else {
            size[m] = dv[i];
            m++;
        }
        at[m - 1] = (double)bk[i].t_end_ms / 1000.0;
    }
    return m;
}

/* The k sizes are within ratio of each other. */
static int stair_sizes_within(const double *size, size_t k, double ratio)
{
    double smin = INFINITY, smax = 0;
    for (size_t j = 0; j < k; j++) {
        smin = fmin(smin, size[j]);
        smax = fmax(smax, size[j]);
    }
    return !(smax > ratio * smin);
}

void mv__leak_eval_stairs(const mv__leak_ctx *c, mv__leak_window_eval *ev)
{
    mv__leak_eval_reset(ev);
    int64_t span = c->now_ms - c->data_start_ms;
    if (span > STAIR_SPAN)
        span = STAIR_SPAN;
    if (span < 20 * MIN_MS || !mv__leak_limit_known(c->limit))
        return;
    mv__bucket bk[NPTS];
    size_t n = mv__leak_envelope(c, c->now_ms - span, span, bk, NULL);
    if (n < WIN_MIN_BUCKETS)
        return;
    double dv[NPTS], ad[NPTS];
    for (size_t i = 0; i + 1 < n; i++) {
        dv[i] = bk[i + 1].min - bk[i].min;
        ad[i] = fabs(dv[i]);
    }
    qsort(ad, n - 1, sizeof ad[0], cmp_dbl);
    double sd = 1.4826 * ad[(n - 1) / 2];
    double head = (double)c->limit - c->top;
    if (!(head > 0))
        return;
    double thr = fmax(6.0 * sd, STAIR_MIN_HEAD * head);
    double size[MV_LEAK_WIN_BUCKETS], at[MV_LEAK_WIN_BUCKETS];
    size_t k = 0;
    double smin = INFINITY, smax = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (dv[i] < -thr)
            return; /* a step down: not a staircase */
        if (dv[i] > thr) {
            size[k] = dv[i];
            at[k] = (double)bk[i].t_end_ms / 1000.0;
            smin = fmin(smin, dv[i]);
            smax = fmax(smax, dv[i]);
            k++;
        }
    }
    if (k < 2)
        return;
    /* flat between the steps: every other change small against a step */
    for (size_t i = 0; i + 1 < n; i++)
        if (!(dv[i] > thr) && fabs(dv[i]) > 0.25 * smin)
            return;
    /* a regular staircase first; failing that, an irregular one */
    double period, step, ssum, overdue = 1.5;
    int irregular = 0;
    if (!(smax <= STAIR_SIZE_RATIO * smin &&
          stair_pace(c, size, at, k, 1, &period, &step, &ssum))) {
        k = stair_merge(bk, dv, n, thr, size, at);
        if (k < STAIR_IRREG_RISK_MIN ||
            !stair_sizes_within(size, k, STAIR_IRREG_SIZE_RATIO) ||
            !stair_pace(c, size, at, k, 0, &period, &step, &ssum))
            return;
        overdue = STAIR_IRREG_OVERDUE;
        irregular = 1;
    }
    double now_s = (double)c->now_ms / 1000.0;
    if (now_s - at[k - 1] > overdue * period)
        return; /* the staircase stopped */
    double rate = step / period;
    ev->stair_pace_steps = (int)k; /* for the oom_risk claim, vote or not */
    ev->stair_pace = rate;
    ev->stair_until_ms = (int64_t)((at[k - 1] + overdue * period) * 1000.0);
    if (irregular && k < STAIR_IRREG_MIN)
        return; /* enough for urgency, not for a leak vote */
    ev->valid = 1;
    ev->exact = 1;
    ev->stairs = (int)k;
    ev->stair_step = step;
    ev->stair_period_s = period;
    ev->b = ev->lo = ev->hi = rate;
    ev->tau = 1.0;
    ev->z = MV_LEAK_Z_LEAK;
    ev->span_s = now_s - at[0] + period;
    ev->rise = ssum;
    ev->eta = ev->eta_lo = ev->eta_hi = head / rate;
    ev->reason = MV_LEAK_R_TREND;
    if (ev->eta <= (k >= 3 ? ETA_MAX_S : STAIR_TWO_ETA_S) &&
        ev->span_s * 1000.0 >= (double)c->min_rise_ms &&
        c->now_ms - c->first_ms >= MV_LEAK_MIN_AGE_MS)
        ev->level = 2;
    else
        ev->valid = 0;
}
