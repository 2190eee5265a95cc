/*
 * leak_risk.c — the oom_risk claim, apart from the leak verdict: about
 * urgency, not cause. It holds while
 *   - the current growth rate of the floor (mv__growth_now: the last hour,
 *     24 samples at coarse sampling, or the last minutes once growth has
 *     visibly dropped) is significant
 *     (its lower bound > 0) and above the trivial floor, and the floor is
 *     still climbing now (climbing(): coarse sampling hides a plateau from
 *     the regression for a while, not from two floors 10 minutes apart),
 *   - at that rate the effective limit is reached within the horizon,
 *   - and, to be raised, the floor is higher than at any time before the
 *     last hour at the same resolution, by RISK_MARGIN_S of growth at the
 *     rate (a GC sawtooth or a batch job climbing back to its usual peak
 *     is no risk), and the rise is not levelling off below the limit (a
 *     warm-up's tail, see levels_off_at), with RISK_MIN_DATA_MS of
 *     data behind the rate (less when the limit is nearer than the climb
 *     has been watched) and no more than RISK_MAX_PROJECTION x the time
 *     the data covers to the limit (young data), on RISK_PERSIST
 *     evaluations in a row.
 * It clears at the first evaluation where the rate no longer reaches the
 * limit within RISK_CLEAR_FACTOR x the horizon, or the rise is seen
 * levelling off below the limit: a cache that caps, a warm-up that levels
 * off, a sawtooth that drops.
 *
 * A staircase (leak_stairs.c: two or more steps up at a regular pace, or
 * three at any, none down, still going) is a climb the floor's rate cannot
 * see between its steps: there the rate is zero and the floor flat. So the claim also holds while a
 * staircase's pace (mean step over mean interval) reaches the limit
 * within the horizon, and clears once the staircase is overdue (no step
 * for its wait) or its pace no longer reaches the limit within
 * RISK_CLEAR_FACTOR x the horizon. A staircase makes new highs by
 * construction, and its steps do not decelerate, so the tests against the
 * past and the levelling off do not apply to it.
 */
#include "leak_risk.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
#include "util.h"

#define RISK_MIN_DATA_MS (5 * MV_LEAK_MIN_MS)
/* ...except for a climb that reaches the limit sooner than it has been
 * watched: waiting out RISK_MIN_DATA_MS would tell it after the OOM kill.
 * It still needs RISK_URGENT_MIN_DATA_MS of data and every other test. */
#define RISK_URGENT_MIN_DATA_MS MV_LEAK_MIN_MS
/* ...and the time to the limit at most this many times the time the data
 * covers (now - data_start_ms): in the first 90 minutes of data (with the
 * 12 h horizon) a rise is told only once it has been watched for an
 * eighth of the time it would take to fill the limit. A warm-up or the
 * first climb of a GC sawtooth 5 minutes after start would otherwise be
 * projected 144 x as far as it was watched; a leak that fills the limit
 * in 6 h is told after 45 minutes. The staircase's pace (by_stairs) is
 * not held back: two or more steps are the evidence a rate of minutes is
 * not. bench/leaks/README.md, "Young processes". */
#define RISK_MAX_PROJECTION 8.0
#define RISK_PERSIST 2
#define RISK_CLEAR_FACTOR 1.25
#define RISK_MARGIN_S 900.0
/* Within RISK_REARM_AFTER_MS of a clear, the claim is raised again only
 * after holding RISK_REARM_MS: a noisy climb near the horizon does not
 * page and clear every few minutes. */
#define RISK_REARM_AFTER_MS (60 * MV_LEAK_MIN_MS)
#define RISK_REARM_MS (10 * MV_LEAK_MIN_MS)
/* Climbing now: the floor gained CLIMB_SHARE of the rate's growth over the
 * last CLIMB_LOOKBACK_MS (or one bucket of the floor now, if longer: 10
 * min at 5-minute sampling; two buckets, 20 min, held a plateau's claim
 * 20-25 min there). */
#define CLIMB_LOOKBACK_MS (10 * MV_LEAK_MIN_MS)
#define CLIMB_SHARE 0.5
/* A rise decelerating this much levels off (one ratio to raise, a lower
 * one to clear: no flapping at the edge); not a risk when what is left of
 * it stays under DECAY_HEAD_SHARE of the headroom. */
#define DECAY_RATIO_RAISE 0.6
#define DECAY_RATIO_CLEAR 0.5
#define DECAY_HEAD_SHARE 0.8

void mv__leak_risk_reset(mv__oom_risk *r)
{
    memset(r, 0, sizeof *r);
    r->growth_bytes_per_h = NAN;
    r->eta_s = NAN;
    r->window_s = NAN;
    r->first_ms = -1;
    r->since_ms = -1;
    snprintf(r->evidence, sizeof r->evidence, "not enough data yet");
}

/* A decelerating rise (a warm-up's tail): the newer half of the last
 * hour (mv__growth_now's window; or of the data, when younger) grows at
 * under decay_ratio x the
 * older half's rate (DECAY_RATIO_*). Read as an exponential approach, it levels off after
 * rising about r_new x tau more, tau = (half span) / ln(r_old / r_new).
 * Returns that added rise when it stays below the headroom (no risk:
 * the rate will not last), else NAN. */
static double levels_off_at(const mv__leak_ctx *c, double head,
                            double decay_ratio)
{
    int64_t span = c->now_ms - c->data_start_ms;
    int64_t window = mv__growth_now_window_ms(c->s, c->now_ms);
    if (span > window)
        span = window;
    int64_t half = span / 2;
    mv__growth older, newer;
    if (mv__growth_estimate(c->s, c->now_ms - half, half, 0, &older) != 0 ||
        mv__growth_estimate(c->s, c->now_ms, half, 0, &newer) != 0 ||
        !older.valid || !newer.valid)
        return NAN;
    double r_old = older.bytes_per_s, r_new = newer.bytes_per_s;
    if (!(r_old > 0) || !(r_new > 0) || !(r_new < decay_ratio * r_old))
        return NAN;
    double tau = (double)half / 1000.0 / log(r_old / r_new);
    double more = r_new * tau;
    return more < DECAY_HEAD_SHARE * head ? more : NAN;
}

/* Still climbing now: the floor over the newest bucket (2.5 min, or two
 * samples' worth) is above the floor of the same bucket CLIMB_LOOKBACK_MS
 * earlier (one bucket earlier when that is longer) by CLIMB_SHARE of what
 * the rate would add in between. A plateau, a warm-up that has levelled
 * off or a burst that holds is not climbing, however the last hour's
 * regression still reads. */
static int climbing(const mv__leak_ctx *c, double rate)
{
    int64_t width = MV_LEAK_HOUR_MS / MV_LEAK_WIN_BUCKETS;
    int64_t res = mv__series_resolution_ms(c->s, c->now_ms - width);
    if (width < 2 * res)
        width = 2 * res;
    int64_t back = CLIMB_LOOKBACK_MS;
    if (back < width)
        back = width;
    if (c->now_ms - back - width < c->data_start_ms)
        return 1; /* too young to tell: the regression decides */
    mv__bucket now_b, then_b;
    if (mv__series_window(c->s, c->now_ms - width, c->now_ms, width + 1,
                          &now_b, 1) != 1 ||
        mv__series_window(c->s, c->now_ms - back - width, c->now_ms - back,
                          width + 1, &then_b, 1) != 1)
        return 1;
    return now_b.min - then_b.min >=
           CLIMB_SHARE * rate * (double)back / 1000.0;
}

/* The sentence for the claim's current state. */
static void risk_evidence(const char *sig, const mv__leak_ctx *c,
                          const mv__growth *g, int climb, int below_past,
                          int enough, double level_off, double horizon,
                          mv__oom_risk *r)
{
    char rate[32], lim[32], eta[32], win[32], hz[32];
    mv__human_bytes_d(r->growth_bytes_per_h, rate, sizeof rate);
    mv__human_bytes(c->limit, lim, sizeof lim);
    mv__human_eta(r->eta_s, eta, sizeof eta);
    mv__human_duration(g->window_s, win, sizeof win);
    mv__human_duration(horizon, hz, sizeof hz);
    if (!mv__leak_limit_known(c->limit))
        snprintf(r->evidence, sizeof r->evidence,
                 "no limit known: no time to the limit");
    else if (!g->valid)
        snprintf(r->evidence, sizeof r->evidence,
                 "%s: not enough data for a growth rate yet", sig);
    else if (!(g->lo_bytes_per_s > 0) || !(g->bytes_per_s > 0))
        snprintf(r->evidence, sizeof r->evidence,
                 "%s is not growing (%s/h over the last %s)", sig, rate, win);
    else if (g->bytes_per_s < c->floor_per_s) {
        char fl[32];
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h, below the %s/h floor of trivial growth", sig,
                 rate, mv__human_bytes_d(c->floor_per_s * 3600.0, fl,
                                         sizeof fl));
    }
    else if (r->active)
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h (over the last %s); at this rate the %s "
                 "limit is reached in %s", sig, rate, win, lim, eta);
    else if (!climb)
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grew %s/h over the last %s but has not climbed over the "
                 "last minutes", sig, rate, win);
    else if (!enough && r->eta_s < horizon)
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h (over the last %s): too little data yet to "
                 "call it a risk", sig, rate, win);
    else if (!isnan(level_off)) {
        char more[32];
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h but is slowing down: it levels off about %s "
                 "higher, below the %s limit", sig, rate,
                 mv__human_bytes_d(level_off, more, sizeof more), lim);
    } else if (below_past)
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h (over the last %s) but is no higher than it "
                 "has been before: a cycle, not a climb", sig, rate, win);
    else if (r->eta_s < horizon)
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h (over the last %s); at this rate the %s "
                 "limit is reached in %s, within the %s horizon: confirming",
                 sig, rate, win, lim, eta, hz);
    else
        snprintf(r->evidence, sizeof r->evidence,
                 "%s grows %s/h (over the last %s); the %s limit is %s "
                 "away at this rate, beyond the %s horizon", sig, rate, win,
                 lim, eta, hz);
}

/* The time to the limit at the pace of a staircase going on (s), NAN when
 * there is none or it grows slower than the trivial floor. */
static double stair_eta(const mv__leak_ctx *c,
                        const mv__leak_window_eval *stairs, double head)
{
    if (!stairs || !stairs->stair_pace_steps ||
        c->now_ms >= stairs->stair_until_ms ||
        !(stairs->stair_pace > 0) || stairs->stair_pace < c->floor_per_s ||
        !(head >= 0))
        return NAN;
    return head / stairs->stair_pace;
}

/* The sentence while the claim stands on a staircase's pace (r's figures
 * already the pace's). */
static void stair_evidence(const char *sig, const mv__leak_ctx *c,
                           const mv__leak_window_eval *stairs, mv__oom_risk *r)
{
    char step[32], every[32], lim[32], eta[32];
    mv__human_bytes_d(stairs->stair_pace * stairs->stair_period_s, step,
                      sizeof step);
    mv__human_duration(stairs->stair_period_s, every, sizeof every);
    mv__human_bytes(c->limit, lim, sizeof lim);
    mv__human_eta(r->eta_s, eta, sizeof eta);
    snprintf(r->evidence, sizeof r->evidence,
             "%s climbs in steps (%d up, none down, %s about every %s); at "
             "this pace the %s limit is reached in %s", sig,
             stairs->stair_pace_steps, step, every, lim, eta);
}

void mv__leak_eval_risk(const mv__leak_ctx *c, const char *signal,
                        double horizon_s, const mv__leak_history *past,
                        const mv__leak_window_eval *stairs,
                        mv__leak_risk_state *st, mv__oom_risk *r)
{
    mv__growth g;
    if (mv__growth_now(c->s, c->now_ms, c->data_start_ms, &g) != 0)
        g.valid = 0;
    double rate = g.valid ? g.bytes_per_s : NAN;
    r->growth_bytes_per_h = rate * 3600.0;
    r->window_s = g.valid ? g.window_s : NAN;
    int known = mv__leak_limit_known(c->limit);
    double head = known ? (double)c->limit - c->top : NAN;
    if (known && head < 0)
        head = 0;
    int growing = g.valid && g.lo_bytes_per_s > 0 &&
                  rate >= c->floor_per_s && rate > 0;
    if (!known || !g.valid)
        r->eta_s = NAN;
    else /* +Inf when not growing (a wiggle's rate projects nothing) */
        r->eta_s = growing ? head / rate : INFINITY;

    int climb = growing && climbing(c, rate);
    int rising = growing && climb;
    int near = known && rising && r->eta_s < horizon_s;
    int below_past = 0;
    if (near && past->have) {
        /* the floor over the newest 2.5 min (at coarse sampling: the
         * newest sample). Not widened to two samples like climbing()'s:
         * compared with the past's two-sample minima it would be like
         * with like, but on report at 90-120 s sampling that told two
         * urgent leaks 38 min later for one false claim fewer in 1925
         * traces (bench/leaks/README.md, "Coarse sampling"). */
        double floor_now = NAN;
        mv__bucket b;
        int64_t width = MV_LEAK_HOUR_MS / MV_LEAK_WIN_BUCKETS;
        if (mv__series_window(c->s, c->now_ms - width, c->now_ms, width + 1,
                              &b, 1) == 1)
            floor_now = b.min;
        /* by a quarter of an hour's growth: the top of a cycle reached
         * again clears the old highs by a bucket's growth at most; a climb
         * is an hour's growth above what was there an hour ago */
        below_past = !(floor_now > past->hi + rate * RISK_MARGIN_S);
    }
    int64_t watched_ms = c->now_ms - c->data_start_ms;
    int enough = watched_ms >= RISK_MIN_DATA_MS ||
                 (near && watched_ms >= RISK_URGENT_MIN_DATA_MS &&
                  r->eta_s * 1000.0 < (double)watched_ms);
    /* and a young process's rate is not projected further than
     * RISK_MAX_PROJECTION x the time its data covers */
    if (enough && !(r->eta_s * 1000.0 <=
                    RISK_MAX_PROJECTION * (double)watched_ms))
        enough = 0;
    double level_off = NAN;
    if (near && (r->active || (!below_past && enough)))
        level_off = levels_off_at(c, head, r->active ? DECAY_RATIO_CLEAR
                                                     : DECAY_RATIO_RAISE);
    /* the rate raises the claim, or keeps it raised */
    int by_rate = r->active ? known && rising && isnan(level_off) &&
                                  r->eta_s < RISK_CLEAR_FACTOR * horizon_s
                            : near && !below_past && enough && isnan(level_off);
    double s_eta = known ? stair_eta(c, stairs, head) : NAN;
    /* the staircase carries the claim when the rate does not */
    int by_stairs = 0;
    if (!by_rate &&
        s_eta < (r->active ? RISK_CLEAR_FACTOR * horizon_s : horizon_s)) {
        by_stairs = 1;
        r->eta_s = s_eta;
        r->growth_bytes_per_h = stairs->stair_pace * 3600.0;
        r->window_s = (double)(c->now_ms - c->data_start_ms) / 1000.0;
    }

    if (r->active) {
        if (!by_rate && !by_stairs) {
            r->active = 0;
            r->since_ms = -1;
            st->cleared_ms = c->now_ms;
        }
        st->streak = 0;
    } else {
        int at_risk = by_rate || by_stairs;
        if (at_risk && st->streak == 0)
            st->streak_since_ms = c->now_ms;
        st->streak = at_risk ? st->streak + 1 : 0;
        /* soon after a clear, the claim must hold RISK_REARM_MS again */
        int rearmed = st->cleared_ms < 0 ||
                      c->now_ms - st->cleared_ms >= RISK_REARM_AFTER_MS ||
                      c->now_ms - st->streak_since_ms >= RISK_REARM_MS;
        if (st->streak >= RISK_PERSIST && rearmed) {
            r->active = 1;
            r->since_ms = c->now_ms;
            if (r->first_ms < 0)
                r->first_ms = c->now_ms;
        }
    }
    if (by_stairs)
        stair_evidence(signal, c, stairs, r);
    else
        risk_evidence(signal, c, &g, climb, below_past, enough, level_off,
                      horizon_s, r);
}
