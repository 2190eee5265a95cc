/*
 * detect.h — pure detectors over samples and series: usage-ratio levels with
 * hysteresis and a minimum duration, a robust growth slope (Theil–Sen over
 * bucket minima, i.e. the lower envelope, so GC sawtooth and bursts do not
 * read as growth), and time to the effective limit.
 *
 * Online and offline share these functions: the monitor calls them on live
 * samples, `analyze` on recordings.
 *
 * Thread-safety: pure functions; state structs are owned by the caller.
 */
#ifndef MV_DETECT_H
#define MV_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"
#include "series.h"

/* ---- levels ---- */

typedef struct mv__level_cfg {
    double warning_ratio;        /* enter warning at >= this */
    double critical_ratio;       /* enter critical at >= this */
    double hysteresis_ratio;     /* leave a level only below threshold - this */
    int64_t min_duration_ms;     /* a new level must hold this long */
} mv__level_cfg;

typedef struct mv__level_state {
    mv_level level;              /* the reported level */
    mv_level candidate;          /* level the ratio currently points to */
    int64_t candidate_since_ms;  /* when the candidate was first seen */
    int initialised;
} mv__level_state;

void mv__level_init(mv__level_state *st);
/* Feeds one ratio observation (NAN is ignored). Returns 1 and sets *prev
 * when the reported level changed, else 0. The very first observation sets
 * the level at once when it is above ok (no waiting on a process that is
 * already critical); that counts as a change from ok (returns 1).
 * A candidate level is reported once the ratio has pointed away from the
 * reported level, in one direction, for min_duration_ms; if it pointed at
 * different levels meanwhile, the one nearest the reported level wins (a
 * brief critical spike inside a longer warning reports warning). ok ->
 * critical directly is allowed. NULL st or cfg: returns 0. prev may be
 * NULL. A clock going backwards restarts the candidate's timer. */
int mv__level_update(mv__level_state *st, const mv__level_cfg *cfg,
                     double ratio, int64_t now_ms, mv_level *prev);

/* ---- robust slope ---- */

typedef struct mv__slope {
    double slope;        /* units per second (median of pairwise slopes) */
    double intercept;    /* value at t = 0 of the fit's time origin */
    double lo, hi;       /* ~95% confidence bounds of the slope */
    double tau;          /* Kendall's tau of the points, -1..1 */
    size_t n;            /* points used */
} mv__slope;

/* Theil–Sen estimator over (t_s[i], v[i]); t in seconds. n >= 3 needed
 * (else -EINVAL). Computes all pairs when n <= 512, else a deterministic
 * subsample. Confidence bounds by Sen's method from Kendall's S variance.
 * Details: points need not be sorted; pairs with equal times give no slope
 * (all times equal: -EINVAL); a non-finite input gives -EINVAL. Above 512
 * points, 512 evenly spaced points (first and last included) are used for
 * the slope, tau and bounds (out->n = 512); the intercept uses all points.
 * tau is Kendall's tau-a. Bounds: 1-based ranks M1 (rounded down) and
 * M2 + 1 (M2 rounded up) of the sorted slopes, clamped to 1..N.
 * Scratch of max(pairs, n) doubles is malloc'ed and freed per call
 * (-ENOMEM, *out untouched). Reentrant. */
int mv__theil_sen(const double *t_s, const double *v, size_t n, mv__slope *out);

/* ---- growth of a series ---- */

typedef struct mv__growth {
    int valid;                   /* 0 until enough data */
    double bytes_per_s;          /* robust slope of the lower envelope */
    double lo_bytes_per_s;       /* confidence bounds */
    double hi_bytes_per_s;
    double window_s;             /* time span the slope is based on */
    double tau;                  /* trend strength */
    size_t buckets;              /* points (bucket minima) used */
} mv__growth;

/* Estimates growth over the newest window_ms of s, using minima of buckets
 * of bucket_ms (0 = choose: window / 30, at least 2x the sampling interval
 * implied by the data). Needs >= 6 buckets spanning >= 1/2 of the window or
 * >= 60 s; else out->valid = 0 and returns 0.
 * Precisely: buckets are laid back from now_ms in whole widths (at most 128
 * buckets; a smaller bucket_ms is widened to window / 128), empty buckets are
 * skipped, each bucket gives (midpoint of its data, its min), and the fit is
 * Theil–Sen. valid = 1 needs >= 6 non-empty buckets whose data spans (first
 * bucket's first point to last bucket's last point) >= min(window / 2,
 * 60 s); with the automatic width, 6 buckets already mean >= 1/6 of the
 * window. When not valid, the slope fields are NAN, buckets and window_s
 * still say what was found. For the minima to sit on the floor of a GC
 * sawtooth, buckets must be at least one GC cycle wide.
 * Returns 0, -EINVAL (NULL s or out, window_ms <= 0, bucket_ms < 0; out is
 * then cleared), or -ENOMEM (valid = 0). Pure; no allocation besides
 * mv__theil_sen's scratch. */
int mv__growth_estimate(const mv__series *s, int64_t now_ms, int64_t window_ms,
                        int64_t bucket_ms, mv__growth *out);

/* k-th smallest (0-based) of a[0..n) by Hoare's selection (n >= 1,
 * k < n): afterwards a[0..k) <= a[k] <= a[k+1..n). O(n) on average; a is
 * reordered. The order statistics of the Theil–Sen fits come from it. */
double mv__select_kth(double *a, size_t n, size_t k);

/* The long window of mv__growth_now ending at now_ms: an hour
 * (GROWTH_NOW_MS), or 24 sampling intervals of s when that is longer (a
 * series sampled every 150 s or slower). Pure. */
int64_t mv__growth_now_window_ms(const mv__series *s, int64_t now_ms);

/* The CURRENT growth rate of s's floor — the one figure the live status,
 * the events and the oom_risk claim all quote. It is mv__growth_estimate
 * over the last hour (mv__growth_now_window_ms: longer for a series
 * sampled every 150 s or slower), or since since_ms when that is later
 * (the start of the data; -1 = no bound), unless growth has visibly
 * dropped: when the hour's slope is positive and the estimate over the
 * recent GROWTH_RECENT_MS (10 min, or 16 sampling intervals if longer) is
 * valid with its upper bound below it, the recent estimate is the answer
 * (with less than two recent spans of data, the newer half is "recent"). So a plateau shows
 * within minutes, not after half an hour of flat data has outvoted the
 * rise, and a sawtooth's drop shows at once. Same returns as
 * mv__growth_estimate. Pure. */
int mv__growth_now(const mv__series *s, int64_t now_ms, int64_t since_ms,
                   mv__growth *out);

/* Seconds until current reaches limit at slope bytes/s: INFINITY when
 * slope <= 0 or limit is MV_UNLIMITED/MV_NA, 0 when already at or above,
 * NAN when current is MV_NA or slope is NAN. */
double mv__time_to_limit(int64_t current, int64_t limit, double slope);

#endif /* MV_DETECT_H */
