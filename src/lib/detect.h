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
 * already critical). */
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
 * subsample. Confidence bounds by Sen's method from Kendall's S variance. */
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
 * >= 60 s; else out->valid = 0 and returns 0. */
int mv__growth_estimate(const mv__series *s, int64_t now_ms, int64_t window_ms,
                        int64_t bucket_ms, mv__growth *out);

/* Seconds until current reaches limit at slope bytes/s: INFINITY when
 * slope <= 0 or limit is MV_UNLIMITED/MV_NA, 0 when already at or above,
 * NAN when current is MV_NA or slope is NAN. */
double mv__time_to_limit(int64_t current, int64_t limit, double slope);

#endif /* MV_DETECT_H */
