/*
 * leak_window.c — one window of the leak detector: the lower envelope of
 * the newest W of the series (bucket minima: GC sawtooth and bursts sit
 * above the floor and vanish), fitted (Theil–Sen, corrected Mann–Kendall),
 * then put through named tests, each a small function below. A window
 * votes
 *   leak     when the floor rises significantly and straight, fast enough
 *            to matter (the limit within ETA_PER_WINDOW widths), is not a
 *            step, is not slowing down (halves, the context before it,
 *            the thirds of its longer history, or its own quarters when
 *            it is all the history), is not a daily
 *            upswing, makes new highs, is above every floor the series
 *            reached before the window at the window's own resolution,
 *            and the growth has lasted MV_LEAK_MIN_GROWTH_MS in a process
 *            at least MV_LEAK_MIN_AGE_MS old;
 *   suspect  when it rises straight within reach of the limit but one of
 *            the leak-only tests is not met yet;
 *   nothing  otherwise, with the reason of the first test that failed.
 * How each threshold was chosen: bench/leaks/README.md.
 */
#include "leak_window.h"

#include <math.h>
#include <string.h>

#include "util.h"

#define MIN_MS MV_LEAK_MIN_MS
#define HOUR_MS MV_LEAK_HOUR_MS
#define WIN_BUCKETS MV_LEAK_WIN_BUCKETS
#define NPTS MV_LEAK_MAX_POINTS

/* A window needs this many non-empty buckets ... */
#define WIN_MIN_BUCKETS 12
/* ... and data covering this share of it. */
#define WIN_COVER 0.8
/* Kendall tau for a leak; from TAU_LONG_MIN_W on, TAU_LEAK_LONG (slow
 * trends; random walks). */
#define TAU_LEAK 0.6
#define TAU_LEAK_LONG 0.75
#define TAU_LONG_MIN_W (12 * HOUR_MS)
/* A suspect vote needs this tau (an aliased sawtooth or noise in a short
 * window reaches z = 2 with tau ~0.35) and the limit within
 * SUSPECT_ETA_FACTOR x the leak horizon. */
#define TAU_SUSPECT 0.45
#define SUSPECT_ETA_FACTOR 4.0
/* Time to the limit must be under this many window widths, and never more
 * than ETA_MAX_S: the horizon beyond which the words say "more than 14
 * days" too (util.h), one number for both. */
#define ETA_PER_WINDOW 15.0
#define ETA_MAX_S MV_ETA_SAY_MAX_S
/* Data over this many widths gives the window a context to compare with
 * (warm-up and cache fill slow down) ... */
#define CONTEXT_WIDTHS 1.5
/* ... else, from this many, its own last quarter must grow at least
 * QUARTER_RATIO x as fast as its first. */
#define SHORT_CONTEXT_WIDTHS 0.9
#define QUARTER_RATIO 0.7
/* Without a day of history, windows under NO_HISTORY_MIN_W vote leak only
 * with the limit within NO_HISTORY_ETA_S (a daily upswing cannot be told
 * from a leak yet); longer ones need the rise not S-shaped: each outer
 * quarter at >= the ratio below x the middle half's slope (a daily sine's
 * most leak-like stretch: 0.73 over 8 h, 0.85 over 6 h). */
#define NO_HISTORY_ETA_S (24.0 * 3600.0)
#define NO_HISTORY_MIN_W (6 * HOUR_MS)
#define S_SHAPE_RATIO 0.6
#define S_SHAPE_RATIO_8H 0.78
#define S_SHAPE_RATIO_6H 0.9
/* The floor before the window fell back by this share of its rise: the
 * series wanders (the detector then holds the vote longer). */
#define WANDER_SHARE 0.5
/* Step model SSE / line SSE below this: a level shift. */
#define STEP_SSE_RATIO 0.35
/* Second-half / first-half slope below this: slowing down. */
#define SLOWING_RATIO 0.5
/* Window slope / context slope below this: slowing down. */
#define PREV_RATIO 0.7
/* Decelerating history: over the last HISTORY_WIDTHS widths, last third's
 * slope under HISTORY_DECEL_RATIO x the first third's. */
#define HISTORY_WIDTHS 24
#define HISTORY_DECEL_RATIO 0.6
#define RISE_BASE_SHARE 0.1
/* Windows up to LASTED_MAX_W vote leak only when their first and last
 * quarters rise at LASTED_QUARTER_RATIO x the window's slope. */
#define LASTED_MAX_W (2 * HOUR_MS)
#define LASTED_QUARTER_RATIO 0.4
/* Still climbing: the last CLIMB_BUCKETS buckets gained CLIMB_SHARE of the
 * slope's growth. */
#define CLIMB_BUCKETS 4
#define CLIMB_SHARE 0.5
/* ... and a vote near the limit, over at least the last 15 minutes, by
 * 3/4 of the slope's growth: as long as its hold in leak.c, so a fill that
 * stops within the hold does not pass it. */
#define NEAR_LIMIT_CLIMB_S (15.0 * 60.0)
#define NEAR_LIMIT_CLIMB_SHARE 0.75
/* Daily check: day-over-day rise >= this share of the window's rise. */
#define DAILY_SHARE 0.5
/* Above the past: the floor now must clear the highest floor before the
 * window (at its resolution, and over buckets >= W) by this share of the
 * window's rise. */
#define RECORD_MARGIN 0.25

int mv__leak_limit_known(int64_t l)
{
    return l != MV_NA && l != MV_UNLIMITED && l > 0;
}

double mv__leak_room_used(const mv__leak_ctx *c, double lo, double now)
{
    double room = (double)c->limit - lo;
    if (!mv__leak_limit_known(c->limit) || !isfinite(lo) || !isfinite(now) ||
        !(room > 0))
        return NAN;
    return (now - lo) / room;
}

/* ---- reading the series ---------------------------------------------- */

/* Floor (minimum) of the signal over [from, to]; NAN when no data. */
static double floor_over(const mv__series *s, int64_t from, int64_t to)
{
    mv__bucket b;
    if (to <= from)
        return NAN;
    if (mv__series_window(s, from, to, to - from + 1, &b, 1) != 1)
        return NAN;
    return b.min;
}

size_t mv__leak_envelope(const mv__leak_ctx *c, int64_t from, int64_t width,
                         mv__bucket *bk, int64_t *bucket_ms)
{
    int64_t bucket = width / WIN_BUCKETS;
    int64_t res = mv__series_resolution_ms(c->s, from);
    if (bucket < 2 * res)
        bucket = 2 * res;
    if (bucket_ms)
        *bucket_ms = bucket;
    if (bucket <= 0)
        return 0;
    return mv__series_window(c->s, from, c->now_ms, bucket, bk, NPTS);
}

/* Points (midpoint relative to now, s; minimum) of n buckets. */
static void to_points(const mv__leak_ctx *c, const mv__bucket *bk, size_t n,
                      double *x, double *y)
{
    for (size_t i = 0; i < n; i++) {
        int64_t mid = bk[i].t_start_ms + (bk[i].t_end_ms - bk[i].t_start_ms) / 2;
        x[i] = (double)(mid - c->now_ms) / 1000.0;
        y[i] = bk[i].min;
    }
}

/* ---- the window's own history ------------------------------------------ */

/* Folds the previous envelope's buckets that began before the window now
 * starts into h->hi, then keeps this envelope for the next call. */
static void history_update(mv__leak_history *h, int64_t window_from,
                           const mv__bucket *bk, size_t n)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->t_start[i] >= window_from)
            break;
        if (!h->have || h->min[i] > h->hi) {
            h->hi = h->min[i];
            h->hi_at_ms = h->t_start[i];
        }
        if (!h->have)
            h->first_ms = h->t_start[i];
        h->have = 1;
    }
    h->n = n < NPTS ? n : NPTS;
    for (size_t i = 0; i < h->n; i++) {
        h->t_start[i] = bk[i].t_start_ms;
        h->min[i] = bk[i].min;
    }
}

/* ---- the fit ------------------------------------------------------------ */

/* Slope, bounds and z of the envelope; 0 when it cannot be fitted. A
 * window that cannot reach the suspect z is fitted without Sen's bounds
 * (see mv__leak_window_eval.exact). */
static int fit(mv__leak_window_eval *ev, const double *x, const double *y,
               size_t n)
{
    double zmax = mv__leak_mk_z_upper(y, n);
    mv__slope ts;
    if (mv__leak_ts_fit(x, y, n, zmax >= MV_LEAK_Z_SUSPECT, &ts) != 0)
        return 0;
    ev->valid = 1;
    ev->b = ts.slope;
    ev->lo = ts.lo;
    ev->hi = ts.hi;
    ev->tau = ts.tau;
    ev->span_s = x[n - 1] - x[0];
    ev->rise = ev->b * ev->span_s;
    ev->exact = zmax >= MV_LEAK_Z_SUSPECT;
    ev->z = ev->exact ? mv__leak_mk_z(x, y, n, ts.slope) : zmax;
    ev->n = n;
    memcpy(ev->x, x, n * sizeof x[0]);
    memcpy(ev->y, y, n * sizeof y[0]);
    ev->eta = ev->eta_lo = ev->eta_hi = INFINITY;
    return 1;
}

void mv__leak_exact_fit(mv__leak_window_eval *ev)
{
    mv__slope ts;
    if (!ev->valid || ev->exact ||
        mv__leak_ts_fit(ev->x, ev->y, ev->n, 1, &ts) != 0)
        return;
    ev->lo = ts.lo;
    ev->hi = ts.hi;
    ev->z = mv__leak_mk_z(ev->x, ev->y, ev->n, ts.slope);
    ev->exact = 1;
}

/* Time to the limit (or to doubling with no known limit) at the slope and
 * its bounds. */
static void time_to_limit(const mv__leak_ctx *c, mv__leak_window_eval *ev)
{
    double floor_now = ev->y[ev->n - 1];
    double head = mv__leak_limit_known(c->limit)
                      ? (double)c->limit - c->top
                      : (floor_now > 0 ? floor_now : 1.0);
    if (head < 0)
        head = 0;
    ev->eta = head / ev->b;
    ev->eta_lo = ev->hi > 0 ? head / ev->hi : INFINITY;
    ev->eta_hi = ev->lo > 0 ? head / ev->lo : INFINITY;
}

/* ---- the named tests ----------------------------------------------------- */

/* A one-off level shift: the best one-break two-means model fits much
 * better than the line. */
static int is_step(mv__leak_window_eval *ev)
{
    const double *x = ev->x, *y = ev->y;
    size_t n = ev->n;
    double am = 0, sse_lin = 0;
    for (size_t i = 0; i < n; i++)
        am += y[i] - ev->b * x[i];
    am /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - ev->b * x[i] - am;
        sse_lin += r * r;
    }
    double best = INFINITY, ml_best = 0, mr_best = 0;
    size_t best_k = 0;
    for (size_t k = 3; k + 3 <= n; k++) {
        double ml = 0, mr = 0, sse = 0;
        for (size_t i = 0; i < k; i++)
            ml += y[i];
        for (size_t i = k; i < n; i++)
            mr += y[i];
        ml /= (double)k;
        mr /= (double)(n - k);
        for (size_t i = 0; i < k; i++)
            sse += (y[i] - ml) * (y[i] - ml);
        for (size_t i = k; i < n; i++)
            sse += (y[i] - mr) * (y[i] - mr);
        if (sse < best) {
            best = sse;
            best_k = k;
            ml_best = ml;
            mr_best = mr;
        }
    }
    if (best_k == 0 || !(best < STEP_SSE_RATIO * sse_lin))
        return 0;
    ev->step_size = mr_best - ml_best;
    ev->step_ago_s = -x[best_k];
    return 1;
}

/* The second half grows much slower than the first (or not at all). */
static int halves_slowing(mv__leak_window_eval *ev)
{
    size_t h = ev->n / 2;
    ev->b1 = mv__leak_part_slope(ev->x, ev->y, h);
    ev->b2 = mv__leak_part_slope(ev->x + h, ev->y + h, ev->n - h);
    return isfinite(ev->b1) && isfinite(ev->b2) &&
           (ev->b2 <= 0 || (ev->b1 > 0 && ev->b2 < SLOWING_RATIO * ev->b1));
}

/* The newest quarter's highest minimum tops every minimum before it. */
static int makes_new_high(const mv__leak_window_eval *ev)
{
    size_t q = ev->n - ev->n / 4;
    double before = -INFINITY, last = -INFINITY;
    for (size_t i = 0; i < q; i++)
        before = fmax(before, ev->y[i]);
    for (size_t i = q; i < ev->n; i++)
        last = fmax(last, ev->y[i]);
    return last > before;
}

/* The window grows much slower than the context before it (up to three
 * widths): a warm-up or a cache filling to its cap is concave over its
 * history even where it looks straight inside one window. */
static int slower_than_context(const mv__leak_ctx *c, int64_t W,
                               int64_t bucket, mv__leak_window_eval *ev)
{
    if (c->now_ms - W - c->data_start_ms < W / 2)
        return 0; /* not enough earlier data: the halves must do */
    int64_t pfrom = c->now_ms - 4 * W;
    if (pfrom < c->data_start_ms)
        pfrom = c->data_start_ms;
    int64_t pbucket = (c->now_ms - W - pfrom) / WIN_BUCKETS;
    if (pbucket < bucket)
        pbucket = bucket;
    mv__bucket pb[NPTS];
    size_t pn = mv__series_window(c->s, pfrom, c->now_ms - W, pbucket, pb,
                                  NPTS);
    if (pn < 6)
        return 0;
    double px[NPTS], py[NPTS];
    to_points(c, pb, pn, px, py);
    double bp = mv__leak_part_slope(px, py, pn);
    if (!(isfinite(bp) && bp > 0 && ev->b < PREV_RATIO * bp))
        return 0;
    ev->b1 = bp;
    ev->b2 = ev->b;
    return 1;
}

/* The rise the window is part of: where it left its lowest level (the
 * last bucket of the floor over the last HISTORY_WIDTHS widths, or all the
 * data, within RISE_BASE_SHARE of the rise above the minimum). It must
 * have lasted the leak patience, c->min_rise_ms (a cache filling at a
 * steady pace or a batch ramp cannot be told from a leak before it stops;
 * an urgent rise is the oom_risk claim's business meanwhile), or have used
 * MV_LEAK_ROOM_USED_LEAK of the room between that lowest level and the
 * limit (ev->room_used says so), and, cut in thirds, must not grow in its
 * last third at under HISTORY_DECEL_RATIO x its first third's rate:
 * a cache filling as t^p (p <= 0.7), from the process's start or later, or
 * a warm-up is concave over its whole rise even where each window looks
 * straight against the one before it; a leak keeps its pace. */
typedef enum rise_verdict { RISE_OK, RISE_YOUNG, RISE_DECELERATING } rise_verdict;

static rise_verdict judge_rise(const mv__leak_ctx *c, int64_t W,
                               mv__leak_window_eval *ev)
{
    int64_t span = c->now_ms - c->data_start_ms;
    if (span > HISTORY_WIDTHS * W)
        span = HISTORY_WIDTHS * W;
    mv__bucket bk[NPTS];
    size_t n = mv__leak_envelope(c, c->now_ms - span, span, bk, NULL);
    if (n < 12)
        return RISE_OK;
    double lo = INFINITY, top = bk[n - 1].min;
    for (size_t i = 0; i < n; i++)
        lo = fmin(lo, bk[i].min);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (bk[i].min <= lo + RISE_BASE_SHARE * (top - lo))
            j = i;
    int64_t rise_from = bk[j].t_start_ms;
    if (c->now_ms - rise_from < c->min_rise_ms) {
        /* the age is said only when the look-back reached the data's
         * start: a look-back of HISTORY_WIDTHS x W may begin inside an
         * older rise */
        if (span == c->now_ms - c->data_start_ms)
            ev->rise_age_s = (double)(c->now_ms - rise_from) / 1000.0;
        /* the floor now at the window's resolution: the look-back's
         * newest bucket is up to HISTORY_WIDTHS times wider and its
         * minimum lags a rise by as much */
        double used = mv__leak_room_used(c, lo, ev->y[ev->n - 1]);
        if (!(used >= MV_LEAK_ROOM_USED_LEAK))
            return RISE_YOUNG;
        ev->room_used = used; /* near the limit: judged as if old enough */
    }
    n = mv__leak_envelope(c, rise_from, c->now_ms - rise_from, bk, NULL);
    if (n < 12)
        return RISE_OK;
    double x[NPTS], y[NPTS];
    to_points(c, bk, n, x, y);
    size_t third = n / 3;
    double first = mv__leak_part_slope(x, y, third);
    double last = mv__leak_part_slope(x + n - third, y + n - third, third);
    if (!(first > 0) || !isfinite(last) ||
        !(last < HISTORY_DECEL_RATIO * first))
        return RISE_OK;
    ev->b1 = first;
    ev->b2 = last;
    return RISE_DECELERATING;
}

/* The newest bucket's minimum is above bucket a's by share of what the
 * window's slope adds in between. */
static int climbed_since(const mv__leak_window_eval *ev, size_t a,
                         double share)
{
    size_t b = ev->n - 1;
    return ev->y[b] - ev->y[a] >= share * ev->b * (ev->x[b] - ev->x[a]);
}

/* Still climbing at the end of a window up to LASTED_MAX_W: the newest
 * bucket's minimum is above
 * the one CLIMB_BUCKETS before it by CLIMB_SHARE of what the slope adds in
 * between (a cache that capped minutes ago still makes "new highs" in the
 * last quarter of an hour window, but has stopped climbing). */
static int still_climbing(int64_t W, const mv__leak_window_eval *ev)
{
    if (W > LASTED_MAX_W || ev->n <= CLIMB_BUCKETS)
        return 1;
    return climbed_since(ev, ev->n - 1 - CLIMB_BUCKETS, CLIMB_SHARE);
}

/* A vote near the limit (ev->room_used, judge_rise) stands only while the
 * floor climbs now: the newest bucket's minimum is above the newest one
 * at least NEAR_LIMIT_CLIMB_S older by NEAR_LIMIT_CLIMB_SHARE of what the
 * slope adds in between, whatever the window's width. A fill that capped
 * short of the limit has stopped; a leak has not. */
static int near_limit_climbing(const mv__leak_window_eval *ev)
{
    if (!isfinite(ev->room_used))
        return 1;
    size_t b = ev->n - 1, a = b;
    while (a > 0 && ev->x[b] - ev->x[a] < NEAR_LIMIT_CLIMB_S)
        a--;
    if (a == b || ev->x[b] - ev->x[a] < NEAR_LIMIT_CLIMB_S)
        return 0;
    return climbed_since(ev, a, NEAR_LIMIT_CLIMB_SHARE);
}

/* A short window's rise has lasted all of it: its first and last quarters
 * both grow at LASTED_QUARTER_RATIO x its slope or more (a batch ramp of
 * 45 min inside an hour window does not). Windows over LASTED_MAX_W hold
 * several of anything ramp-like; they pass. */
static int rose_throughout(int64_t W, const mv__leak_window_eval *ev)
{
    if (W > LASTED_MAX_W || ev->n < 12)
        return 1;
    double bf, bl;
    mv__leak_quarter_slopes(ev->x, ev->y, ev->n, &bf, NULL, &bl);
    return isfinite(bf) && isfinite(bl) &&
           bf >= LASTED_QUARTER_RATIO * ev->b &&
           bl >= LASTED_QUARTER_RATIO * ev->b;
}

/* Without enough history for a context, the window's own quarters: a
 * warm-up or a fill as t^p (p <= 0.6) has its last quarter at <= ~0.4 x
 * the first's slope; a leak ~1. Returns 1 when the window has a context or
 * passes this instead. */
static int has_context_or_straight(const mv__leak_ctx *c, int64_t W,
                                   const mv__leak_window_eval *ev)
{
    double avail = (double)(c->now_ms - c->data_start_ms);
    if (W >= NO_HISTORY_MIN_W || avail >= CONTEXT_WIDTHS * (double)W)
        return 1;
    if (avail < SHORT_CONTEXT_WIDTHS * (double)W || ev->n < 12)
        return 0;
    double bf, bl;
    mv__leak_quarter_slopes(ev->x, ev->y, ev->n, &bf, NULL, &bl);
    return isfinite(bf) && isfinite(bl) && bl > 0 &&
           (bf <= 0 || bl >= QUARTER_RATIO * bf);
}

/* A daily upswing: with a day of history, the floor now is not above the
 * same time yesterday by half the rise; without, from NO_HISTORY_MIN_W,
 * the rise is S-shaped (slow, fast, slow). *day_history says whether a
 * day of history exists. */
static int daily_upswing(const mv__leak_ctx *c, int64_t W,
                         mv__leak_window_eval *ev, int *day_history)
{
    *day_history = 0;
    if (W >= 24 * HOUR_MS)
        return 0;
    if (c->now_ms - 24 * HOUR_MS - W / 8 >= c->data_start_ms) {
        *day_history = 1;
        int64_t b8 = W / 8;
        double now_f = floor_over(c->s, c->now_ms - b8, c->now_ms);
        double then_f = floor_over(c->s, c->now_ms - 24 * HOUR_MS - b8,
                                   c->now_ms - 24 * HOUR_MS);
        if (!isfinite(now_f) || !isfinite(then_f))
            return 0;
        ev->dod = now_f - then_f;
        return ev->dod < DAILY_SHARE * ev->rise;
    }
    if (W < NO_HISTORY_MIN_W || ev->n < 12)
        return 0;
    double bf, bm, bl;
    mv__leak_quarter_slopes(ev->x, ev->y, ev->n, &bf, &bm, &bl);
    double ratio = W < 8 * HOUR_MS    ? S_SHAPE_RATIO_6H
                   : W < 12 * HOUR_MS ? S_SHAPE_RATIO_8H
                                      : S_SHAPE_RATIO;
    /* ev->dod stays NAN: "S-shaped" in the evidence */
    return isfinite(bf) && isfinite(bm) && isfinite(bl) && bm > 0 &&
           (bf < ratio * bm || bl < ratio * bm);
}

/* Above the past, coarse: the floor now clears the highest floor over
 * buckets >= W before the window; sets ev->wander when the floor before
 * the window fell back by WANDER_SHARE of the rise (a mean-reverting
 * wander returns to levels it has visited). Reads the whole history. */
static int above_coarse_past(const mv__leak_ctx *c, int64_t W,
                             mv__leak_window_eval *ev)
{
    if (c->now_ms - W - c->data_start_ms < W)
        return 1;
    int64_t hb = (c->now_ms - W - c->data_start_ms) / WIN_BUCKETS;
    if (hb < W)
        hb = W;
    mv__bucket hbk[NPTS];
    size_t hn = mv__series_window(c->s, c->data_start_ms, c->now_ms - W, hb,
                                  hbk, NPTS);
    double hmax = -INFINITY, dd = 0;
    for (size_t i = 0; i < hn; i++) {
        hmax = fmax(hmax, hbk[i].min);
        dd = fmax(dd, hmax - hbk[i].min);
    }
    ev->wander = dd >= WANDER_SHARE * ev->rise;
    return hn == 0 || ev->y[ev->n - 1] > hmax + RECORD_MARGIN * ev->rise;
}

/* Above the past, at the window's own resolution: the floor now clears
 * every bucket minimum of this width the series ever had before the window
 * (a GC sawtooth or a batch job climbing back to its usual peak does not;
 * a leak does). Records the margin for the evidence. */
static int above_own_past(const mv__leak_history *h, mv__leak_window_eval *ev,
                          int64_t now_ms, int64_t W)
{
    if (!h->have) {
        ev->above_past = NAN;
        return 1;
    }
    ev->above_past = ev->y[ev->n - 1] - h->hi;
    ev->past_s = (double)(now_ms - W - h->first_ms) / 1000.0;
    return ev->above_past > RECORD_MARGIN * ev->rise;
}

/* The growth has lasted long enough to be called a leak: the window is at
 * least MV_LEAK_MIN_GROWTH_MS wide and the process (as far as the data
 * goes) at least MV_LEAK_MIN_AGE_MS old. */
static int lasted_long_enough(const mv__leak_ctx *c, int64_t W)
{
    return W >= MV_LEAK_MIN_GROWTH_MS &&
           c->now_ms - c->first_ms >= MV_LEAK_MIN_AGE_MS;
}

/* ---- the window ---------------------------------------------------------- */

void mv__leak_eval_reset(mv__leak_window_eval *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->dod = NAN;
    ev->above_past = NAN;
    ev->rise_age_s = NAN;
    ev->room_used = NAN;
    ev->reason = MV_LEAK_R_NONE;
}

void mv__leak_eval_window(const mv__leak_ctx *c, int64_t W,
                          mv__leak_history *h, mv__leak_window_eval *ev)
{
    mv__leak_eval_reset(ev);
    int64_t avail = c->now_ms - c->data_start_ms;
    if ((double)avail < WIN_COVER * (double)W)
        return;
    int64_t from = c->now_ms - W;
    if (from < c->data_start_ms)
        from = c->data_start_ms;
    mv__bucket bk[NPTS];
    int64_t bucket;
    size_t n = mv__leak_envelope(c, from, W, bk, &bucket);
    history_update(h, c->now_ms - W, bk, n);
    if (n < WIN_MIN_BUCKETS)
        return;
    double x[NPTS], y[NPTS];
    to_points(c, bk, n, x, y);
    if (!fit(ev, x, y, n))
        return;

    if (!(ev->b > 0) || ev->z < MV_LEAK_Z_SUSPECT || !(ev->lo > 0)) {
        ev->reason = MV_LEAK_R_FLAT;
        return;
    }
    if (ev->b < c->floor_per_s) {
        ev->reason = MV_LEAK_R_TRIVIAL;
        return;
    }
    time_to_limit(c, ev);

    int day_history = 0;
    if (is_step(ev))
        ev->reason = MV_LEAK_R_STEP;
    else if (halves_slowing(ev) || slower_than_context(c, W, bucket, ev))
        ev->reason = MV_LEAK_R_SLOWING;
    else if (daily_upswing(c, W, ev, &day_history))
        ev->reason = MV_LEAK_R_DAILY;
    else if (ev->eta > ETA_MAX_S)
        ev->reason = MV_LEAK_R_SLOW;
    else if (!makes_new_high(ev))
        ev->reason = MV_LEAK_R_NO_NEW_HIGH;
    else
        ev->reason = MV_LEAK_R_TREND;
    if (ev->reason != MV_LEAK_R_TREND)
        return;

    double eta_max = fmin(ETA_PER_WINDOW * (double)W / 1000.0, ETA_MAX_S);
    double eta_leak = eta_max;
    if (W < NO_HISTORY_MIN_W && !day_history && eta_leak > NO_HISTORY_ETA_S)
        eta_leak = NO_HISTORY_ETA_S;
    /* a suspect must be within reach too: a wiggle projecting the limit
     * days away says nothing */
    int near = ev->eta <= SUSPECT_ETA_FACTOR * eta_max &&
               ev->tau >= TAU_SUSPECT;
    if (!near && !(ev->eta <= eta_leak)) {
        ev->reason = MV_LEAK_R_SLOW;
        return;
    }
    /* the series has been this high before, at this resolution or over
     * coarser floors: at most a suspect (the reason says so) */
    if (!above_own_past(h, ev, c->now_ms, W) || !above_coarse_past(c, W, ev)) {
        ev->reason = MV_LEAK_R_NO_NEW_HIGH;
        ev->level = 0;
        return;
    }
    rise_verdict rise = judge_rise(c, W, ev);
    if (rise == RISE_DECELERATING) {
        ev->reason = MV_LEAK_R_SLOWING;
        ev->level = 0;
        return;
    }
    double tau_leak = W >= TAU_LONG_MIN_W ? TAU_LEAK_LONG : TAU_LEAK;
    if (ev->z >= MV_LEAK_Z_LEAK && ev->tau >= tau_leak &&
        ev->eta <= eta_leak && has_context_or_straight(c, W, ev) &&
        lasted_long_enough(c, W) && rise == RISE_OK &&
        rose_throughout(W, ev) && still_climbing(W, ev) &&
        near_limit_climbing(ev))
        ev->level = 2;
    else if (near)
        ev->level = 1;
    else
        ev->reason = MV_LEAK_R_SLOW;
}
