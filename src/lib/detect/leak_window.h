/*
 * leak_window.h — one window of the leak detector (leak_window.c) and the
 * staircase test (leak_stairs.c): the lower envelope of the newest W of a
 * series, judged by a list of named tests, each a small function, into a
 * vote (none / suspect / leak) with a reason. Internal to src/lib.
 *
 * Thread-safety: the functions read the series and write only the
 * caller-owned structs passed in; one owner per detector.
 */
#ifndef MV_LEAK_WINDOW_H
#define MV_LEAK_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "leak.h"
#include "leak_stats.h"
#include "series.h"

#define MV_LEAK_MIN_MS 60000LL
#define MV_LEAK_HOUR_MS (3600LL * 1000)

/* What a window needs to know about the detector and the moment. */
typedef struct mv__leak_ctx {
    const mv__series *s;
    int64_t now_ms;
    int64_t data_start_ms;   /* first sample, or end of the last app phase */
    int64_t first_ms;        /* first sample (the process's age is now -
                                first_ms as far as the detector knows) */
    double top;              /* current high of the signal */
    int64_t limit;           /* effective limit; MV_NA/MV_UNLIMITED unknown */
    double floor_per_s;      /* absolute floor of trivial growth, bytes/s */
    double horizon_s;        /* the oom_risk horizon */
    int64_t min_rise_ms;     /* leak patience: the minimum age of a rise
                                before a leak vote (mv__leak_cfg) */
} mv__leak_ctx;

/* The highest floor the series reached before a window, at the window's
 * own resolution: the minima of the buckets that have left the window,
 * folded in as they leave. A GC sawtooth climbing back to its usual peak
 * does not clear it; a leak does. One per window; zeroed = empty. */
typedef struct mv__leak_history {
    int have;                /* hi is meaningful */
    double hi;               /* highest bucket minimum folded in */
    int64_t hi_at_ms;        /* when (the bucket's start) */
    int64_t first_ms;        /* start of the oldest bucket folded in */
    size_t n;                /* buckets of the previous envelope */
    int64_t t_start[MV_LEAK_MAX_POINTS];
    double min[MV_LEAK_MAX_POINTS];
} mv__leak_history;

typedef struct mv__leak_window_eval {
    int valid;           /* enough data for this window */
    int level;           /* 0 none, 1 suspect, 2 leak */
    mv__leak_reason reason;
    double b, lo, hi;    /* slope, bytes/s */
    double tau, z;
    double span_s;       /* data span of the minima */
    double rise;         /* b * span_s */
    double eta, eta_lo, eta_hi; /* to the limit (or doubling); s */
    double b1, b2;       /* halves' (or context/window) slopes */
    double step_size, step_ago_s;
    double dod;          /* day-over-day rise of the floor (NAN n/a) */
    int wander;          /* history fell back >= WANDER_SHARE x the rise */
    double above_past;   /* floor now minus the highest floor before the
                            window at its resolution (NAN: no history) */
    double past_s;       /* span of that history, s */
    double rise_age_s;   /* how long ago the rise the window is part of
                            left its lowest level, when it was judged
                            younger than the leak patience and the look-
                            back reached the data's start (NAN otherwise,
                            the age unknown): the evidence
                            of a suspect says what it waits for */
    double room_used;    /* share of the room between the rise's lowest
                            level and the limit the floor has used, when
                            that let a rise younger than the leak patience
                            vote (NAN otherwise) */
    int stairs;          /* staircase vote: number of steps (0 = a window) */
    double stair_step, stair_period_s;
    /* The staircase test sets these whether or not it votes (the leak
     * patience may not be met yet): a staircase is going on, of
     * stair_pace_steps >= 2 steps at stair_pace bytes/s, until
     * stair_until_ms (its last step plus the wait after which it is
     * overdue). 0 / 0 / 0 when there is none. The oom_risk claim reads
     * them (leak_risk.c): between steps the floor's rate is zero. */
    int stair_pace_steps;
    double stair_pace;
    int64_t stair_until_ms;
    /* A window that cannot be even a suspect (Kendall's S too small) is
     * fitted without Sen's bounds and with z at its uncorrected upper bound
     * (which is below the suspect z, as the corrected z is): exact == 0.
     * The minima are kept so mv__leak_exact_fit() can finish the job for
     * the few flat windows whose bounds or z are read. */
    int exact;
    size_t n;
    double x[MV_LEAK_MAX_POINTS], y[MV_LEAK_MAX_POINTS];
} mv__leak_window_eval;

/* The lower envelope of [from, now] in buckets of width /
 * MV_LEAK_WIN_BUCKETS (at least two samples' worth; the width used in
 * *bucket_ms, which may be NULL) into bk[MV_LEAK_MAX_POINTS]. Returns the
 * buckets filled. */
size_t mv__leak_envelope(const mv__leak_ctx *c, int64_t from, int64_t width,
                         mv__bucket *bk, int64_t *bucket_ms);

/* An empty judgement: zeros, the figures that may be unknown (dod,
 * above_past, rise_age_s) NAN, reason MV_LEAK_R_NONE. */
void mv__leak_eval_reset(mv__leak_window_eval *ev);

/* Judges the newest W of c->s into *ev, folding the buckets that left the
 * window since the last call into *h. */
void mv__leak_eval_window(const mv__leak_ctx *c, int64_t W,
                          mv__leak_history *h, mv__leak_window_eval *ev);

/* The staircase test (equal steps at a steady pace): a leak vote or
 * nothing (ev->valid 0); and, vote or not, the pace of a staircase going
 * on (ev->stair_pace_*, for the oom_risk claim). */
void mv__leak_eval_stairs(const mv__leak_ctx *c, mv__leak_window_eval *ev);

/* Sen's bounds and the corrected z of a window fitted without them. */
void mv__leak_exact_fit(mv__leak_window_eval *ev);

/* Windows of W or more may vote leak (growth must have lasted this long). */
#define MV_LEAK_MIN_GROWTH_MS MV_LEAK_HOUR_MS
/* Leak patience, the default (the one home of the number; per detector it
 * is mv__leak_cfg.min_rise_ms, per run mv_config.leak_min_rise_ms and
 * --leak-min-rise): a rise (since the floor left its lowest level) this
 * old at least before a leak vote. A cache filling at a steady pace, or a
 * batch ramp, cannot be told from a leak until it stops, so a fill lasting
 * longer than the wait is a false leak; urgency meanwhile is the oom_risk
 * claim's. 19 h: the shortest whole-hour wait with <= 1 false leak per
 * 100 process-days on every `tune` seed 1-3 and every family (12 h still
 * let random walks rising for 14-18 h through; bench/leaks/README.md,
 * "Leak patience"). */
#define MV_LEAK_MIN_RISE_H 19
#define MV_LEAK_MIN_RISE_MS (MV_LEAK_MIN_RISE_H * MV_LEAK_HOUR_MS)
/* ... unless the rise has used this share of the room between its lowest
 * level and the limit without levelling off: a cache or a batch ramp that
 * stops short of the limit has levelled off before it (the caches
 * cap at up to 80% of the room, `report`'s at 85%), a leak gets there on
 * its way to the limit. bench/leaks/README.md, "Near the limit". */
#define MV_LEAK_ROOM_USED_LEAK 0.9
/* The share of the room to the limit a rise of the floor from lo to now
 * has used, (now - lo) / (limit - lo); NAN when the limit is unknown or
 * not above lo. The floor's, not the peaks': a GC sawtooth or a page
 * cache pressed against a cgroup's limit (reclaim) puts the peaks at the
 * limit with room to spare below. */
double mv__leak_room_used(const mv__leak_ctx *c, double lo, double now);
/* The oom_risk claim's horizon, the default (its one home; per detector
 * mv__leak_cfg.oom_risk_horizon_s, per run mv_config.oom_risk_horizon_ms
 * and --oom-risk-horizon): the claim holds while the limit is less than
 * this away at the current rate. 12 h: a leak that fills its limit within
 * 12 h gets the claim within 2 h of visible growth (123 of 127 on `tune`
 * seeds 1-3, against 85 with 6 h; bench/leaks/README.md, "Risk
 * horizon"). The alert rules page only under 6 h (MemvigilOOMRisk) and
 * warn before (MemvigilOOMRiskAhead). */
#define MV_LEAK_RISK_HORIZON_H 12
#define MV_LEAK_RISK_HORIZON_S (MV_LEAK_RISK_HORIZON_H * 3600.0)
/* Data this old at least before any leak vote: growth in a process's first
 * hour is warm-up until shown otherwise, so it must go on past it. */
#define MV_LEAK_MIN_AGE_MS (120 * MV_LEAK_MIN_MS)

/* Mann–Kendall z (autocorrelation-corrected) for leak / suspect. */
#define MV_LEAK_Z_LEAK 4.0
#define MV_LEAK_Z_SUSPECT 2.0

int mv__leak_limit_known(int64_t l);

#endif /* MV_LEAK_WINDOW_H */
