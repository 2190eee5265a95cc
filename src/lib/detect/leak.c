/*
 * leak.c — the leak detector: two claims about one memory series.
 *   - the verdict (leak / suspect / no_leak / insufficient_data) is about
 *     CAUSE: the floor keeps rising, is not decelerating, makes new highs
 *     above everything seen before, holds across window scales and has
 *     lasted long enough (leak_window.c, leak_stairs.c);
 *   - oom_risk is about URGENCY: at the current rate the limit is reached
 *     within the horizon (leak_risk.c). It may be raised early, whatever
 *     the cause, and clears as soon as the rate drops.
 *
 * DESIGN
 * What leaks is the floor of memory, so every test runs on the lower
 * envelope (bucket minima). Windows of 15 min ... 7 d (WINDOWS) are judged
 * on their own (leak_window.c); windows of an hour or more may vote leak,
 * shorter ones only suspect. Combining here: a window's leak vote stands
 * only when the windows half and twice as wide agree (a leak keeps its
 * slope across scales; a random walk's straight run does not) and after it
 * has held for 1/HOLD_SHARE of the window (at most an hour; WANDER_HOLD x
 * longer when the series is known to wander) with the floor still rising
 * meanwhile (HOLD_RISE_SHARE of the slope; a vote near the limit holds
 * NEAR_LIMIT_HOLD_MS); the strongest window wins
 * (leak > suspect > none, then the highest z). A staircase vote
 * (leak_stairs.c) stands beside the windows. The verdict says leak after
 * LEAK_PERSIST leak evaluations in a row and clears after CLEAR_EVALS
 * evaluations without even a suspect window, or as soon as a PLATEAU is
 * established: no new high of the floor for max(PLATEAU_MIN_MS,
 * PLATEAU_GAPS x the longest wait between its last new highs: a
 * staircase pauses between steps, a daily cycle for a day, a capped cache
 * stops) and the floor
 * still within PLATEAU_BAND of its high (a plateau, not a trough). After
 * a plateau a leak is not said again until the floor makes a new high
 * above it.
 *
 * While an application phase is active the verdict is held; afterwards
 * windows start at the phase's end, so the phase's growth is never judged.
 *
 * The detector recomputes at most once per cfg.eval_period_ms of series
 * time (default 60 s; every RISK_EVAL_MS while the data is young or the
 * risk is raised), and a window of width W only every max(eval period,
 * W / 30). A 7-day trace at 10 s goes through in well under a second
 * (bench/leaks measures it). How every threshold was chosen, and what was
 * tried and dropped: bench/leaks/README.md.
 *
 * confidence is "how sure we are that the signal leaks": the normal CDF of
 * the corrected Mann–Kendall z of the deciding window, halved when the
 * window failed a shape test; 0 with insufficient data.
 */
#include "leak.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leak_risk.h"
#include "leak_window.h"
#include "util.h"

#define MIN_MS MV_LEAK_MIN_MS
#define HOUR_MS MV_LEAK_HOUR_MS

/* The windows judged, shortest first. */
static const int64_t WINDOWS[] = {
    15 * MIN_MS, 20 * MIN_MS, 30 * MIN_MS, 45 * MIN_MS, HOUR_MS, 90 * MIN_MS,
    2 * HOUR_MS, 4 * HOUR_MS, 6 * HOUR_MS, 8 * HOUR_MS, 12 * HOUR_MS,
    16 * HOUR_MS, 24 * HOUR_MS, 48 * HOUR_MS, 72 * HOUR_MS, 120 * HOUR_MS,
    168 * HOUR_MS,
};
#define NWIN (sizeof WINDOWS / sizeof WINDOWS[0])
/* The 1 h window: its history of highs serves the oom_risk claim. */
#define HOUR_WINDOW 4
/* Recompute this often (series time) while the data is younger than
 * RISK_EVAL_YOUNG_MS or the risk is raised, so a fast climb is told and a
 * plateau clears within seconds, not a minute. */
#define RISK_EVAL_MS 15000
#define RISK_EVAL_YOUNG_MS (15 * MIN_MS)
/* While the risk is far off (not raised, not rising to the limit within
 * RISK_IDLE_HORIZONS x the horizon) it is judged every RISK_IDLE_EVALS-th
 * evaluation only. */
#define RISK_IDLE_HORIZONS 3.0
#define RISK_IDLE_EVALS 3
/* Data needed before any verdict: 80% of the shortest window. */
#define FIRST_VERDICT_MS (WINDOWS[0] * 4 / 5)
/* Leak vote of window W: the shorter neighbour's upper slope bound must
 * reach this share of W's slope, the longer neighbour's slope this share
 * (and be significant) ... */
#define NEIGHBOUR_SHORT 0.6
#define NEIGHBOUR_LONG 0.4
/* ... where the neighbours are the windows half and twice as wide (or the
 * nearest beyond: see neighbour()). */
#define NEIGHBOUR_SPACING 2
/* A window's leak vote counts once it has held for this share of it (at
 * most an hour), WANDER_HOLD x longer when the series wanders. */
#define HOLD_SHARE 8
#define WANDER_HOLD 4
/* ... and the floor must have kept rising while it held: by
 * HOLD_RISE_SHARE of what the window's slope adds over the hold. A random
 * walk's excursion votes at its top and turns there; a leak goes on.
 * bench/leaks/README.md, "Kept rising through the hold". */
#define HOLD_RISE_SHARE 0.25
/* A vote near the limit holds at most this long. */
#define NEAR_LIMIT_HOLD_MS (15 * MIN_MS)
/* Consecutive leak evaluations before the verdict says leak. */
#define LEAK_PERSIST 2
/* Evaluations with nothing suspicious before a raised verdict clears. */
#define CLEAR_EVALS 15
/* An established plateau clears a raised verdict: see the top comment.
 * A new high tops the previous one by NEW_HIGH_NOISE x the floor's noise,
 * at least PLATEAU_EPS of the limit (or of the level with none known). */
#define PLATEAU_MIN_MS (10 * MIN_MS)
#define PLATEAU_GAPS 2.0
#define PLATEAU_EPS 0.0005
#define NEW_HIGH_NOISE 2.0
#define PLATEAU_BAND 0.01
/* A floor this share of the scale below a plateau lifts it (a drop, a
 * restart: not the cache's noise or sawtooth). */
#define PLATEAU_DROP 0.1
/* ... the longest of the last PLATEAU_GAPS_RECENT waits between new highs
 * and of the waits of 5 min or more that ended within PLATEAU_MEMORY_MS (a
 * daily cycle's pause; the newest PLATEAU_GAPS_KEPT of them). */
#define PLATEAU_GAPS_RECENT 8
#define PLATEAU_GAPS_KEPT 64
#define PLATEAU_MEMORY_MS (24 * HOUR_MS)

typedef struct win_state {
    int evaluated;
    int64_t leak_since_ms;   /* first evaluation of the current leak run */
    double since_floor;      /* the window's floor then */
    int64_t last_eval_ms;
    int64_t last_start_ms;   /* data start it was evaluated with */
    mv__leak_history past;   /* highs before the window (its resolution) */
    mv__leak_window_eval ev;
} win_state;

/* The floor's new highs, for the plateau rule. */
typedef struct highs {
    int have;
    double hi;               /* highest floor seen (2.5 min resolution) */
    int64_t hi_ms;           /* when it was last topped (new_high_step) */
    int64_t recent_gap_ms[PLATEAU_GAPS_RECENT]; /* the last waits between
                                                   new highs (a ring) */
    size_t nrecent;
    int64_t gap_ms[PLATEAU_GAPS_KEPT];     /* the waits of PLATEAU_MIN_MS / 2 */
    int64_t gap_end_ms[PLATEAU_GAPS_KEPT]; /* or more, and their ends */
    size_t ngap;
    int blocked;             /* a plateau cleared the verdict: no leak until
                                the floor tops block_hi */
    double block_hi;
} highs;

struct mv__leak_detector {
    mv__leak_cfg cfg;
    char signal[48];
    int started;
    int64_t first_ms;        /* oldest data in the series at the first tick */
    int64_t phase_end_ms;    /* end of the last app phase (-1 none) */
    int64_t last_eval_ms;
    int have_eval;
    int in_phase;
    int leak_streak;
    int quiet;               /* evaluations without a suspect window */
    mv__leak_result res;
    win_state win[NWIN];
    mv__leak_window_eval stair; /* the staircase test */
    int64_t stair_eval_ms;   /* last staircase test, and its data start */
    int64_t stair_start_ms;
    mv__leak_risk_state risk;
    int risk_skipped;        /* evaluations since the risk was last judged */
    highs highs;
};

void mv__leak_cfg_init(mv__leak_cfg *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->limit_bytes = MV_NA;
    /* 256 KiB/h = 6 MiB a day: below that nothing threatens a service */
    cfg->min_growth_bytes_per_h = 256.0 * 1024.0;
    /* once a minute of series time: leaks that matter take hours */
    cfg->eval_period_ms = 60000;
    /* oom_risk while the limit is less than the horizon away at the
     * current rate */
    cfg->oom_risk_horizon_s = MV_LEAK_RISK_HORIZON_S;
    cfg->signal_name = NULL;
    cfg->min_rise_ms = MV_LEAK_MIN_RISE_MS;
}

void mv__leak_cfg_settings(mv__leak_cfg *cfg, int64_t min_rise_ms,
                           int64_t oom_risk_horizon_ms)
{
    if (min_rise_ms > 0)
        cfg->min_rise_ms = min_rise_ms;
    if (oom_risk_horizon_ms > 0)
        cfg->oom_risk_horizon_s = (double)oom_risk_horizon_ms / 1000.0;
}

/* The insufficient-data result over window_s seconds of data: no verdict,
 * no reason, growth and ETA unknown, confidence 0. Its one home: the reset
 * (no data at all) and insufficient() (data, but no window to judge yet). */
static void set_insufficient(mv__leak_result *r, double window_s)
{
    r->verdict = MV_LEAK_INSUFFICIENT_DATA;
    r->reason = MV_LEAK_R_NONE;
    r->growth_bytes_per_h = r->growth_lo_bytes_per_h =
        r->growth_hi_bytes_per_h = NAN;
    r->eta_s = r->eta_lo_s = r->eta_hi_s = NAN;
    r->confidence = 0.0;
    r->window_s = window_s;
}

char *mv__leak_eta_text(const mv__leak_result *r, int limit_known, char *out,
                        size_t n)
{
    if (!limit_known)
        snprintf(out, n, "n/a (no limit known)");
    else if (isnan(r->eta_s))
        snprintf(out, n, "n/a");
    else if (isinf(r->eta_s) && !(r->growth_bytes_per_h > 0))
        snprintf(out, n, "never (not growing)");
    else if (isinf(r->eta_s) && r->reason == MV_LEAK_R_FLAT)
        snprintf(out, n, "never (no significant growth)");
    else if (isinf(r->eta_s))
        snprintf(out, n, "not projected: %s",
                 r->reason == MV_LEAK_R_TRIVIAL
                     ? "growth below the trivial floor"
                     : "the rise is not a lasting trend");
    else if (r->eta_s > MV_ETA_SAY_MAX_S)
        snprintf(out, n, "more than %.0f days at this rate",
                 MV_ETA_SAY_MAX_S / 86400.0);
    else
        mv__human_eta(r->eta_s, out, n);
    return out;
}

void mv__leak_result_reset(mv__leak_result *r)
{
    memset(r, 0, sizeof *r);
    set_insufficient(r, 0.0);
    r->first_leak_ms = -1;
    r->evaluated_ms = -1;
    snprintf(r->evidence, sizeof r->evidence, "not enough data yet");
    mv__leak_risk_reset(&r->risk);
}

mv__leak_detector *mv__leak_new(const mv__leak_cfg *cfg)
{
    mv__leak_detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (cfg)
        d->cfg = *cfg;
    else
        mv__leak_cfg_init(&d->cfg);
    if (d->cfg.eval_period_ms <= 0)
        d->cfg.eval_period_ms = 60000;
    if (!(d->cfg.min_growth_bytes_per_h >= 0))
        d->cfg.min_growth_bytes_per_h = 0;
    mv__strlcpy(d->signal,
                d->cfg.signal_name && d->cfg.signal_name[0]
                    ? d->cfg.signal_name
                    : "private memory",
                sizeof d->signal);
    d->cfg.signal_name = NULL; /* borrowed; the copy is d->signal */
    if (!(d->cfg.oom_risk_horizon_s > 0))
        d->cfg.oom_risk_horizon_s = MV_LEAK_RISK_HORIZON_S;
    if (d->cfg.min_rise_ms <= 0)
        d->cfg.min_rise_ms = MV_LEAK_MIN_RISE_MS;
    d->phase_end_ms = -1;
    d->risk = (mv__leak_risk_state)MV_LEAK_RISK_STATE_INIT;
    for (size_t i = 0; i < NWIN; i++)
        d->win[i].leak_since_ms = -1;
    mv__leak_result_reset(&d->res);
    return d;
}

void mv__leak_free(mv__leak_detector *d)
{
    free(d);
}

void mv__leak_set_limit(mv__leak_detector *d, int64_t limit_bytes)
{
    if (!d || d->cfg.limit_bytes == limit_bytes)
        return;
    d->cfg.limit_bytes = limit_bytes;
    /* every window's time to the limit changes: judge them all again at
     * the next tick rather than quote a stale ETA for up to W/30 */
    for (size_t i = 0; i < NWIN; i++)
        d->win[i].evaluated = 0;
    d->stair_eval_ms = 0;
    d->have_eval = 0;
}

/* ---- the sentence ---------------------------------------------------- */

/* A leak called before the leak patience because the rise came near the
 * limit says so (leak_window.h, MV_LEAK_ROOM_USED_LEAK); nothing else. */
static void room_used_clause(const mv__leak_window_eval *ev, char *out,
                             size_t n)
{
    if (!isfinite(ev->room_used) || n == 0)
        return;
    if (ev->room_used >= 1.0) /* the limit was lowered below the floor */
        snprintf(out, n, "; it has risen past the limit from its lowest "
                 "level and its floor is still climbing");
    else
        snprintf(out, n, "; it has used %.0f%% of the room between its "
                 "lowest level and the limit and its floor is still "
                 "climbing", floor(100.0 * ev->room_used));
}

static void evidence(const mv__leak_detector *d, const mv__leak_window_eval *ev,
                     mv__leak_verdict v, char *out, size_t n)
{
    char b1[32], b2[32], t1[32], t2[32];
    const char *sig = d->signal;
    int64_t lim = d->cfg.limit_bytes;
    mv__human_duration(ev->span_s, t1, sizeof t1);
    if (ev->stairs && ev->reason == MV_LEAK_R_TREND) {
        char b3[32];
        int len = snprintf(out, n, "%s rose %s in %d equal steps of ~%s, one "
                           "every %s", sig,
                           mv__human_bytes_d(ev->rise, b1, sizeof b1),
                           ev->stairs,
                           mv__human_bytes_d(ev->stair_step, b3, sizeof b3),
                           mv__human_duration(ev->stair_period_s, t1, sizeof t1));
        if (len >= 0 && (size_t)len < n)
            snprintf(out + len, n - (size_t)len,
                     "; at this pace the %s limit is reached in %s",
                     mv__human_bytes(lim, b2, sizeof b2),
                     mv__human_eta(ev->eta, t2, sizeof t2));
        return;
    }
    switch (ev->reason) {
    case MV_LEAK_R_TREND: {
        int len = snprintf(out, n, "%s%s rose %s in %s along a straight line "
                           "(tau=%.2f)",
                           v == MV_LEAK_SUSPECT ? "possibly leaking: " : "",
                           sig, mv__human_bytes_d(ev->rise, b1, sizeof b1),
                           t1, ev->tau);
        if (len < 0 || (size_t)len >= n)
            return;
        if (isfinite(ev->above_past) && ev->past_s >= 60) {
            /* true of the whole history, not just the window */
            int more = snprintf(out + len, n - (size_t)len,
                                " to %s above anything in the %s before",
                                mv__human_bytes_d(ev->above_past, b2,
                                                sizeof b2),
                                mv__human_duration(ev->past_s, t2, sizeof t2));
            if (more < 0 || (size_t)(len + more) >= n)
                return;
            len += more;
        }
        int more;
        if (mv__leak_limit_known(lim))
            more = snprintf(out + len, n - (size_t)len,
                            "; at this rate the %s limit is reached in %s",
                            mv__human_bytes(lim, b2, sizeof b2),
                            mv__human_eta(ev->eta, t2, sizeof t2));
        else
            more = snprintf(out + len, n - (size_t)len,
                            "; no limit known, at this rate it doubles in %s",
                            mv__human_eta(ev->eta, t2, sizeof t2));
        if (more < 0 || (size_t)(len + more) >= n)
            return;
        len += more;
        if (v == MV_LEAK_LEAK) {
            room_used_clause(ev, out + len, n - (size_t)len);
            break;
        }
        /* a suspect waiting out the leak patience says so: a cache
         * filling at a steady pace looks the same until it caps */
        if (v == MV_LEAK_SUSPECT && isfinite(ev->rise_age_s))
            snprintf(out + len, n - (size_t)len,
                     "; a leak verdict needs %s of rise, and it left its "
                     "lowest level %s ago",
                     mv__human_duration((double)d->cfg.min_rise_ms / 1000.0,
                                        b1, sizeof b1),
                     mv__human_duration(ev->rise_age_s, t2, sizeof t2));
        break;
    }
    case MV_LEAK_R_TRIVIAL:
        snprintf(out, n, "%s grows %s/h over %s, below the %s/h floor", sig,
                 mv__human_bytes_d(ev->b * 3600, b1, sizeof b1), t1,
                 mv__human_bytes_d(d->cfg.min_growth_bytes_per_h, b2,
                                 sizeof b2));
        break;
    case MV_LEAK_R_SLOW:
        if (ev->eta > MV_ETA_SAY_MAX_S)
            snprintf(out, n, "%s grows %s/h over %s (tau=%.2f) but the %s is "
                     "%s away at that rate: not a threat yet", sig,
                     mv__human_bytes_d(ev->b * 3600, b1, sizeof b1), t1,
                     ev->tau, mv__leak_limit_known(lim) ? "limit" : "doubling",
                     mv__human_eta(ev->eta, t2, sizeof t2));
        else /* within reach, but the leak tests did not all hold */
            snprintf(out, n, "%s grows %s/h over %s (tau=%.2f), not (yet) "
                     "steadily enough to call a leak; at that rate the %s is "
                     "%s away", sig,
                     mv__human_bytes_d(ev->b * 3600, b1, sizeof b1), t1,
                     ev->tau, mv__leak_limit_known(lim) ? "limit" : "doubling",
                     mv__human_eta(ev->eta, t2, sizeof t2));
        break;
    case MV_LEAK_R_STEP:
        snprintf(out, n, "%s shifted once by %s %s ago and stayed level "
                 "(a step, not a trend)", sig,
                 mv__human_bytes_d(ev->step_size, b1, sizeof b1),
                 mv__human_duration(ev->step_ago_s, t2, sizeof t2));
        break;
    case MV_LEAK_R_SLOWING:
        snprintf(out, n, "%s growth is slowing down (%s/h, then %s/h over %s): "
                 "warm-up or a cache filling to its cap", sig,
                 mv__human_bytes_d(ev->b1 * 3600, b1, sizeof b1),
                 mv__human_bytes_d(ev->b2 * 3600, b2, sizeof b2), t1);
        break;
    case MV_LEAK_R_DAILY:
        if (isnan(ev->dod))
            snprintf(out, n, "%s rose %s in %s slowly, then fast, then slowly "
                     "again, as a daily upswing does: waiting for a day of "
                     "history", sig,
                     mv__human_bytes_d(ev->rise, b1, sizeof b1), t1);
        else
            snprintf(out, n, "%s rose %s in %s but is only %s above the same "
                     "time yesterday: a daily cycle", sig,
                     mv__human_bytes_d(ev->rise, b1, sizeof b1), t1,
                     mv__human_bytes_d(ev->dod, b2, sizeof b2));
        break;
    case MV_LEAK_R_NO_NEW_HIGH:
        if (isfinite(ev->above_past) && ev->past_s > 0)
            snprintf(out, n, "%s rose %s in %s but is no higher than it has "
                     "been in the %s before: a cycle or a return, not a "
                     "new high", sig,
                     mv__human_bytes_d(ev->rise, b1, sizeof b1), t1,
                     mv__human_duration(ev->past_s, t2, sizeof t2));
        else
            snprintf(out, n, "%s made no new high over the last part of %s: "
                     "a plateau", sig, t1);
        break;
    case MV_LEAK_R_PLATEAU:
        snprintf(out, n, "%s has made no new high for %s and stays at its "
                 "peak: a plateau", sig,
                 mv__human_duration(ev->span_s, t1, sizeof t1));
        break;
    case MV_LEAK_R_FLAT:
    default:
        snprintf(out, n, "%s shows no significant growth over %s (%s, "
                 "tau=%.2f, z=%.1f)", sig, t1,
                 mv__human_bytes_d(ev->rise, b1, sizeof b1), ev->tau,
                 ev->z);
        break;
    }
}

/* ---- combining ------------------------------------------------------- */

/* The window compared with window i: the longest at most
 * 1 / NEIGHBOUR_SPACING of its width (dir < 0), or the shortest at least
 * NEIGHBOUR_SPACING times it (dir > 0); NULL when there is none. Spacing by
 * width rather than by place in WINDOWS keeps the test as strict where the
 * ladder is finer (45 min, 90 min) as where it doubles. */
static mv__leak_window_eval *neighbour(mv__leak_detector *d, size_t i, int dir)
{
    mv__leak_window_eval *n = NULL;
    if (dir < 0) {
        for (size_t j = 0; j < i; j++)
            if (WINDOWS[j] * NEIGHBOUR_SPACING <= WINDOWS[i])
                n = &d->win[j].ev;
    } else {
        for (size_t j = NWIN; j-- > i + 1;)
            if (WINDOWS[j] >= NEIGHBOUR_SPACING * WINDOWS[i])
                n = &d->win[j].ev;
    }
    return n;
}

/* A leak vote stands only when the neighbours agree: a leak keeps its
 * slope across scales, a random walk's straight run does not, and a
 * filling cache is slower in the shorter window. Else it is a suspect. */
static int neighbours_agree(mv__leak_detector *d, size_t i)
{
    const mv__leak_window_eval *ev = &d->win[i].ev;
    mv__leak_window_eval *sh = neighbour(d, i, -1);
    mv__leak_window_eval *lg = neighbour(d, i, +1);
    if (sh)
        mv__leak_exact_fit(sh);
    if (sh && sh->valid && sh->hi < NEIGHBOUR_SHORT * ev->b)
        return 0;
    if (lg && lg->valid &&
        (lg->b < NEIGHBOUR_LONG * ev->b || lg->z < MV_LEAK_Z_SUSPECT))
        return 0;
    return 1;
}

/* The floor now at the 1 h window's resolution (2.5 min); NAN none. */
static double floor_now(const mv__leak_ctx *c)
{
    int64_t width = HOUR_MS / MV_LEAK_WIN_BUCKETS;
    mv__bucket b;
    if (mv__series_window(c->s, c->now_ms - width, c->now_ms, width + 1, &b,
                          1) != 1)
        return NAN;
    return b.min;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* How much a new high of the floor must top the old one: NEW_HIGH_NOISE x
 * the floor's noise (the robust spread of the hour window's bucket-to-
 * bucket changes around their median, which is the trend), at least
 * PLATEAU_EPS of the scale. Relative to the noise, not to the limit: a
 * slow rise in a big container makes new highs too. */
static double new_high_step(const mv__leak_window_eval *hour, double scale)
{
    double floor_eps = PLATEAU_EPS * scale;
    if (!hour->valid || hour->n < 8)
        return 10 * floor_eps;
    double dv[MV_LEAK_MAX_POINTS], dev[MV_LEAK_MAX_POINTS];
    size_t m = hour->n - 1;
    for (size_t i = 0; i < m; i++)
        dv[i] = hour->y[i + 1] - hour->y[i];
    qsort(dv, m, sizeof dv[0], cmp_double);
    double med = dv[m / 2];
    for (size_t i = 0; i < m; i++)
        dev[i] = fabs(dv[i] - med);
    qsort(dev, m, sizeof dev[0], cmp_double);
    double noise = 1.4826 * dev[m / 2];
    return fmax(floor_eps, NEW_HIGH_NOISE * noise);
}

/* Follows the floor's new highs; returns 1 when a plateau is established
 * (see the top comment). raised: the verdict is leak or suspect. */
static int plateau_established(mv__leak_detector *d, const mv__leak_ctx *c,
                               int raised)
{
    highs *h = &d->highs;
    double f = floor_now(c);
    if (!isfinite(f))
        return 0;
    double scale = mv__leak_limit_known(c->limit) ? (double)c->limit : f;
    double eps = new_high_step(&d->win[HOUR_WINDOW].ev, scale);
    if (!h->have || f > h->hi + eps) {
        if (h->have) {
            int64_t gap = c->now_ms - h->hi_ms;
            h->recent_gap_ms[h->nrecent++ % PLATEAU_GAPS_RECENT] = gap;
            if (gap >= PLATEAU_MIN_MS / 2) {
                size_t k = h->ngap++ % PLATEAU_GAPS_KEPT;
                h->gap_ms[k] = gap;
                h->gap_end_ms[k] = c->now_ms;
            }
        }
        h->have = 1;
        h->hi = f;
        h->hi_ms = c->now_ms;
        if (h->blocked && f > h->block_hi + eps)
            h->blocked = 0;
        return 0;
    }
    /* far below the plateau (a drop, a restart): no longer a plateau; a
     * new rise from there is judged afresh (the windows' above-the-past
     * test still wants it above the old high before a leak) */
    if (h->blocked && f < h->block_hi - PLATEAU_DROP * scale)
        h->blocked = 0;
    if (!raised)
        return 0;
    /* the longest of the last waits: a staircase's pauses, a daily
     * cycle's day (a noisy floor's odd waits are kept short by the noise
     * step of new_high_step) */
    int64_t long_gap = 0;
    for (size_t i = 0; i < PLATEAU_GAPS_RECENT && i < h->nrecent; i++)
        if (h->recent_gap_ms[i] > long_gap)
            long_gap = h->recent_gap_ms[i];
    size_t kept = h->ngap < PLATEAU_GAPS_KEPT ? h->ngap : PLATEAU_GAPS_KEPT;
    for (size_t i = 0; i < kept; i++) {
        size_t k = (h->ngap - 1 - i) % PLATEAU_GAPS_KEPT; /* newest first */
        if (c->now_ms - h->gap_end_ms[k] > PLATEAU_MEMORY_MS)
            break;
        if (h->gap_ms[k] > long_gap)
            long_gap = h->gap_ms[k];
    }
    int64_t wait = (int64_t)(PLATEAU_GAPS * (double)long_gap);
    if (wait < PLATEAU_MIN_MS)
        wait = PLATEAU_MIN_MS;
    return c->now_ms - h->hi_ms >= wait &&
           f >= h->hi - PLATEAU_BAND * scale;
}

/* The verdict while a plateau holds: no_leak, the plateau as evidence. */
static void plateau_verdict(mv__leak_detector *d, int64_t now_ms)
{
    mv__leak_result *r = &d->res;
    mv__leak_window_eval ev;
    mv__leak_eval_reset(&ev);
    ev.reason = MV_LEAK_R_PLATEAU;
    ev.span_s = (double)(now_ms - d->highs.hi_ms) / 1000.0;
    d->leak_streak = 0;
    r->verdict = MV_LEAK_NO_LEAK;
    r->reason = MV_LEAK_R_PLATEAU;
    r->growth_bytes_per_h = d->res.risk.growth_bytes_per_h;
    r->growth_lo_bytes_per_h = r->growth_hi_bytes_per_h = NAN;
    r->eta_s = r->eta_lo_s = r->eta_hi_s = INFINITY;
    r->confidence = 0;
    r->window_s = ev.span_s;
    evidence(d, &ev, MV_LEAK_NO_LEAK, r->evidence, sizeof r->evidence);
}

/* A plateau clears a raised verdict; no leak is said again until the
 * floor makes a new high above it. */
static void clear_for_plateau(mv__leak_detector *d, int64_t now_ms)
{
    d->highs.blocked = 1;
    d->highs.block_hi = d->highs.hi;
    d->quiet = CLEAR_EVALS;
    plateau_verdict(d, now_ms);
}

/* The verdict before any window is judged. */
static void insufficient(mv__leak_detector *d, int64_t now_ms)
{
    mv__leak_result *r = &d->res;
    int64_t first = d->phase_end_ms > d->first_ms ? d->phase_end_ms
                                                  : d->first_ms;
    char t1[32], t2[32];
    set_insufficient(r, (double)(now_ms - first) / 1000.0);
    snprintf(r->evidence, sizeof r->evidence,
             "%s: %s of data, %s needed before a verdict", d->signal,
             mv__human_duration(r->window_s, t1, sizeof t1),
             mv__human_duration((double)FIRST_VERDICT_MS / 1000.0, t2,
                                sizeof t2));
    d->leak_streak = 0;
}

/* Fills d->res from the windows' evaluations (the deciding window). */
static void decide(mv__leak_detector *d, const mv__leak_ctx *c)
{
    mv__leak_window_eval *best = NULL, *longest = NULL, *rejected = NULL;
    int best_level = 0;
    for (size_t i = 0; i < NWIN; i++) {
        mv__leak_window_eval *ev = &d->win[i].ev;
        if (!ev->valid)
            continue;
        longest = ev;
        /* this evaluation's level; the window's own vote stays as judged */
        int level = ev->level;
        if (level == 2 && !neighbours_agree(d, i))
            level = 1;
        if (d->highs.blocked)
            level = 0; /* after a plateau: nothing until a new high */
        if (level > 0 && (!best || level > best_level ||
                          (level == best_level && ev->z > best->z))) {
            best = ev;
            best_level = level;
        }
        if (level == 0 && ev->reason != MV_LEAK_R_FLAT &&
            ev->reason != MV_LEAK_R_NONE)
            rejected = ev; /* the longest rising-but-rejected window */
    }
    mv__leak_result *r = &d->res;
    mv__leak_verdict old = r->verdict;
    r->evaluated_ms = c->now_ms;
    r->held_by_phase = 0;
    if (!longest) {
        insufficient(d, c->now_ms);
        return;
    }
    if (d->stair.valid && d->stair.level == 2 && !d->highs.blocked &&
        best_level < 2) {
        best = &d->stair;
        best_level = 2;
    }
    int raw = best ? best_level : 0;
    d->leak_streak = raw == 2 ? d->leak_streak + 1 : 0;
    d->quiet = raw > 0 ? 0 : d->quiet + 1;

    int raised = old == MV_LEAK_LEAK || old == MV_LEAK_SUSPECT;
    if (plateau_established(d, c, raised)) {
        clear_for_plateau(d, c->now_ms);
        return;
    }
    if (d->highs.blocked) {
        plateau_verdict(d, c->now_ms);
        return;
    }
    mv__leak_verdict v;
    if (d->leak_streak >= LEAK_PERSIST)
        v = MV_LEAK_LEAK;
    else if (old == MV_LEAK_LEAK && d->quiet < CLEAR_EVALS)
        v = MV_LEAK_LEAK;
    else if (raw > 0)
        v = MV_LEAK_SUSPECT;
    else if (old == MV_LEAK_SUSPECT && d->quiet < CLEAR_EVALS)
        v = MV_LEAK_SUSPECT;
    else
        v = MV_LEAK_NO_LEAK;
    r->verdict = v;
    if (v == MV_LEAK_LEAK && r->first_leak_ms < 0)
        r->first_leak_ms = c->now_ms;

    /* the window the figures come from */
    mv__leak_window_eval *ev = best ? best : (rejected ? rejected : longest);
    if (v >= MV_LEAK_SUSPECT && !best)
        return; /* held raised verdict: keep the figures it was raised with */
    mv__leak_exact_fit(ev);
    r->reason = ev->reason;
    r->growth_bytes_per_h = ev->b * 3600.0;
    r->growth_lo_bytes_per_h = ev->lo * 3600.0;
    r->growth_hi_bytes_per_h = ev->hi * 3600.0;
    r->window_s = ev->span_s;
    double conf = mv__leak_norm_cdf(ev->z);
    if ((ev != best || best_level == 0) && ev->reason != MV_LEAK_R_FLAT &&
        ev->b > 0)
        conf *= 0.5;
    r->confidence = conf < 0 ? 0 : (conf > 1 ? 1 : conf);
    if (v >= MV_LEAK_SUSPECT && mv__leak_limit_known(d->cfg.limit_bytes)) {
        r->eta_s = ev->eta;
        r->eta_lo_s = ev->eta_lo;
        r->eta_hi_s = ev->eta_hi;
    } else if (v >= MV_LEAK_SUSPECT) {
        r->eta_s = r->eta_lo_s = r->eta_hi_s = NAN; /* no limit known */
    } else if (ev->reason == MV_LEAK_R_SLOW &&
               mv__leak_limit_known(d->cfg.limit_bytes)) {
        /* rising, not a leak (far from the limit, or not steady enough):
         * its time at this rate is still true, for the words; the metric
         * keeps +Inf for it (expose.c) */
        r->eta_s = ev->eta;
        r->eta_lo_s = ev->eta_lo;
        r->eta_hi_s = ev->eta_hi;
    } else {
        r->eta_s = r->eta_lo_s = r->eta_hi_s = INFINITY;
    }
    evidence(d, ev, v, r->evidence, sizeof r->evidence);
}

/* ---- the tick -------------------------------------------------------- */

/* Judges the windows due at c->now_ms, each with its hold. */
static void judge_windows(mv__leak_detector *d, const mv__leak_ctx *c,
                          int64_t period)
{
    for (size_t i = 0; i < NWIN; i++) {
        win_state *w = &d->win[i];
        int64_t every = WINDOWS[i] / 30;
        if (every < period)
            every = period;
        if (w->evaluated && w->last_start_ms == c->data_start_ms &&
            c->now_ms - w->last_eval_ms < every &&
            c->now_ms >= w->last_eval_ms && w->ev.valid)
            continue;
        mv__leak_eval_window(c, WINDOWS[i], &w->past, &w->ev);
        if (w->ev.level == 2) {
            double newest_floor = w->ev.y[w->ev.n - 1];
            if (w->leak_since_ms < 0) {
                w->leak_since_ms = c->now_ms;
                w->since_floor = newest_floor;
            }
            int64_t held = c->now_ms - w->leak_since_ms;
            int64_t hold = WINDOWS[i] / HOLD_SHARE;
            if (hold > HOUR_MS)
                hold = HOUR_MS;
            if (w->ev.wander)
                hold *= WANDER_HOLD;
            /* near the limit (leak_window.h, MV_LEAK_ROOM_USED_LEAK) time
             * is short: a shorter hold (the window itself wants the floor
             * climbing over the last 15 minutes) */
            if (isfinite(w->ev.room_used) && hold > NEAR_LIMIT_HOLD_MS)
                hold = NEAR_LIMIT_HOLD_MS;
            /* not held long enough yet, or no longer rising: suspect */
            if (held < hold ||
                !(newest_floor - w->since_floor >=
                  HOLD_RISE_SHARE * w->ev.b * (double)held / 1000.0))
                w->ev.level = 1;
        } else {
            w->leak_since_ms = -1;
        }
        w->evaluated = 1;
        w->last_eval_ms = c->now_ms;
        w->last_start_ms = c->data_start_ms;
    }
}

int mv__leak_tick(mv__leak_detector *d, const mv__series *s, int64_t now_ms,
                  int phase_active, mv__leak_result *out)
{
    if (!d || !s) {
        if (out)
            mv__leak_result_reset(out);
        return 0;
    }
    mv__leak_verdict before = d->res.verdict;
    if (!d->started) {
        d->started = 1;
        mv__bucket b;
        /* one bucket over everything: its data start is the oldest point */
        if (now_ms > 0 && now_ms < INT64_MAX &&
            mv__series_window(s, 0, now_ms, now_ms + 1, &b, 1) == 1 &&
            b.t_start_ms <= now_ms)
            d->first_ms = b.t_start_ms;
        else
            d->first_ms = now_ms;
    }
    if (phase_active) {
        d->in_phase = 1;
        d->phase_end_ms = now_ms;
        d->res.held_by_phase = 1;
        if (out)
            *out = d->res;
        return 0;
    }
    if (d->in_phase) {
        d->in_phase = 0;
        d->res.held_by_phase = 0;
    }
    int64_t data_start = d->phase_end_ms > d->first_ms ? d->phase_end_ms
                                                       : d->first_ms;
    int64_t period = d->cfg.eval_period_ms;
    if (period > RISK_EVAL_MS &&
        (d->res.risk.active || d->risk.streak > 0 ||
         now_ms - data_start < RISK_EVAL_YOUNG_MS))
        period = RISK_EVAL_MS;
    if (d->have_eval && now_ms - d->last_eval_ms < period &&
        now_ms >= d->last_eval_ms) {
        if (out)
            *out = d->res;
        return 0;
    }
    d->have_eval = 1;
    d->last_eval_ms = now_ms;

    mv__leak_ctx c;
    c.s = s;
    c.now_ms = now_ms;
    c.data_start_ms = data_start;
    c.first_ms = d->first_ms;
    c.limit = d->cfg.limit_bytes;
    c.floor_per_s = d->cfg.min_growth_bytes_per_h / 3600.0;
    c.horizon_s = d->cfg.oom_risk_horizon_s;
    c.min_rise_ms = d->cfg.min_rise_ms;
    {
        mv__bucket last[16];
        size_t k = mv__series_raw(s, last, 16);
        c.top = 0;
        for (size_t i = 0; i < k; i++)
            if (last[i].max > c.top)
                c.top = last[i].max;
    }
    judge_windows(d, &c, period);
    /* the staircase reads up to a day in 24 buckets: once per 1/48 of its
     * span is enough */
    if (now_ms - d->stair_eval_ms >= (now_ms - data_start) / 48 ||
        d->stair_start_ms != data_start || now_ms < d->stair_eval_ms) {
        mv__leak_eval_stairs(&c, &d->stair);
        d->stair_eval_ms = now_ms;
        d->stair_start_ms = data_start;
    }
    decide(d, &c);
    /* the risk every evaluation while it could matter, else every
     * RISK_IDLE_EVALS-th */
    const mv__oom_risk *rk = &d->res.risk;
    int idle = !rk->active && d->risk.streak == 0 &&
               !(rk->eta_s < RISK_IDLE_HORIZONS * d->cfg.oom_risk_horizon_s) &&
               !(d->stair.stair_pace_steps && now_ms < d->stair.stair_until_ms);
    if (!idle || ++d->risk_skipped >= RISK_IDLE_EVALS) {
        d->risk_skipped = 0;
        mv__leak_eval_risk(&c, d->signal, d->cfg.oom_risk_horizon_s,
                           &d->win[HOUR_WINDOW].past, &d->stair, &d->risk,
                           &d->res.risk);
    }
    if (out)
        *out = d->res;
    return d->res.verdict != before;
}

size_t mv__leak_footprint(void)
{
    return sizeof(mv__leak_detector);
}
