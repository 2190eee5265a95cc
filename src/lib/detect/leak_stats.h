/*
 * leak_stats.h — small-sample statistics for the leak detector's windows
 * (leak_stats.c): Theil–Sen with Sen's bounds, the autocorrelation-
 * corrected Mann–Kendall z, and slopes of parts of a window. Internal.
 *
 * Thread-safety: pure functions over caller-owned arrays; reentrant.
 */
#ifndef MV_LEAK_STATS_H
#define MV_LEAK_STATS_H

#include <stddef.h>

#include "detect.h"

/* Buckets (lower-envelope points) a window is cut into; a fit takes at
 * most MV_LEAK_MAX_POINTS points. */
#define MV_LEAK_WIN_BUCKETS 24
#define MV_LEAK_MAX_POINTS (MV_LEAK_WIN_BUCKETS + 2)

/* Standard normal CDF. */
double mv__leak_norm_cdf(double z);

/* Mann–Kendall z of y over sorted x with the Hamed–Rao (1998) variance
 * correction: lag autocorrelations of the ranks of the residuals from
 * `slope`, only the significant ones. n <= 64. */
double mv__leak_mk_z(const double *x, const double *y, size_t n, double slope);

/* An upper bound of mv__leak_mk_z whatever the slope (the correction
 * factor is >= 1): (S - sgn S) / sqrt(var). */
double mv__leak_mk_z_upper(const double *y, size_t n);

/* Theil–Sen over 3..MV_LEAK_MAX_POINTS points with distinct, increasing x:
 * slope, Sen's ~95% bounds when want_bounds (else NAN), tau-a; o->intercept
 * NAN. 0, or -EINVAL (n out of range, no pair with distinct x). */
int mv__leak_ts_fit(const double *x, const double *y, size_t n,
                    int want_bounds, mv__slope *o);

/* Theil–Sen slope of n points; NAN when it cannot be fitted (n < 3). */
double mv__leak_part_slope(const double *x, const double *y, size_t n);

/* Slopes of the first quarter, the middle half (when mid is not NULL) and
 * the last quarter of the n points; NAN where one cannot be fitted. */
void mv__leak_quarter_slopes(const double *x, const double *y, size_t n,
                             double *first, double *mid, double *last);

#endif /* MV_LEAK_STATS_H */
