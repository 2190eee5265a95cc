/*
 * leak_stats.c — the small-sample statistics of the leak detector: a
 * Theil–Sen fit over one window's bucket minima (stack arrays and
 * quickselect, no allocation), the Mann–Kendall z with the Hamed–Rao
 * correction for autocorrelation, and slopes of parts of a window.
 * Pure functions; reentrant.
 */
#include "leak_stats.h"

#include <errno.h>
#include <math.h>

double mv__leak_norm_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Ranks (1-based, average for ties) of v[0..n) into r. n <= 64. */
static void ranks(const double *v, size_t n, double *r)
{
    for (size_t i = 0; i < n; i++) {
        size_t less = 0, eq = 0;
        for (size_t j = 0; j < n; j++) {
            if (v[j] < v[i])
                less++;
            else if (v[j] == v[i])
                eq++;
        }
        r[i] = (double)less + ((double)eq + 1.0) / 2.0;
    }
}

/* Mann–Kendall z with the Hamed–Rao (1998) correction. x sorted. */
double mv__leak_mk_z(const double *x, const double *y, size_t n, double slope)
{
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++)
            s += (y[j] > y[i]) - (y[j] < y[i]);
    double dn = (double)n;
    double var = dn * (dn - 1) * (2 * dn + 5) / 18.0;

    double e[64], r[64];
    for (size_t i = 0; i < n; i++)
        e[i] = y[i] - slope * x[i];
    ranks(e, n, r);
    double mean = (dn + 1) / 2.0, den = 0;
    for (size_t i = 0; i < n; i++)
        den += (r[i] - mean) * (r[i] - mean);
    double sum = 0;
    if (den > 0) {
        double sig = 1.96 / sqrt(dn);
        for (size_t k = 1; k < n / 3 + 1 && k + 2 < n; k++) {
            double num = 0;
            for (size_t i = 0; i + k < n; i++)
                num += (r[i] - mean) * (r[i + k] - mean);
            double rho = num / den;
            if (fabs(rho) > sig) {
                double a = dn - (double)k;
                sum += a * (a - 1) * (a - 2) * rho;
            }
        }
    }
    double factor = 1.0 + 2.0 * sum / (dn * (dn - 1) * (dn - 2));
    if (factor < 1.0)
        factor = 1.0;
    double sgn = (s > 0) - (s < 0);
    return (s - sgn) / sqrt(var * factor);
}

/* An upper bound of mv__leak_mk_z() whatever the slope: the correction factor is
 * >= 1, so a window with (S - sgn S) / sqrt(var) below Z_SUSPECT is flat
 * without fitting its bounds. */
double mv__leak_mk_z_upper(const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++)
            s += (y[j] > y[i]) - (y[j] < y[i]);
    double dn = (double)n;
    double sgn = (s > 0) - (s < 0);
    return (s - sgn) / sqrt(dn * (dn - 1) * (2 * dn + 5) / 18.0);
}

/* Theil–Sen over n <= MV_LEAK_WIN_BUCKETS + 2 points with distinct, increasing x:
 * slope (median of pairwise slopes), Sen's ~95% bounds (same ranks as
 * mv__theil_sen: Kendall S variance without tie correction) and tau-a.
 * Written here rather than calling mv__theil_sen because the detector
 * fits thousands of small windows per replayed day: a stack array
 * instead of malloc. -EINVAL n < 3. */
int mv__leak_ts_fit(const double *x, const double *y, size_t n, int want_bounds,
                  mv__slope *o)
{
    double sl[(MV_LEAK_WIN_BUCKETS + 2) * (MV_LEAK_WIN_BUCKETS + 1) / 2];
    size_t m = 0;
    double s = 0;
    if (n < 3 || n > MV_LEAK_WIN_BUCKETS + 2)
        return -EINVAL;
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            s += (y[j] > y[i]) - (y[j] < y[i]);
            if (x[j] != x[i])
                sl[m++] = (y[j] - y[i]) / (x[j] - x[i]);
        }
    if (m == 0)
        return -EINVAL;
    double dn = (double)n;
    double var = dn * (dn - 1) * (2 * dn + 5) / 18.0;
    double c = 1.96 * sqrt(var);
    double dm = (double)m;
    double m1 = floor((dm - c) / 2.0), m2 = ceil((dm + c) / 2.0) + 1;
    if (m1 < 1)
        m1 = 1;
    if (m2 > dm)
        m2 = dm;
    if (m2 < 1)
        m2 = 1;
    /* median first; then each bound is selected inside its side only */
    size_t k = m / 2;
    double med = mv__select_kth(sl, m, k);
    if (m % 2 == 0) {
        double below = sl[0];
        for (size_t i = 1; i < k; i++)
            if (sl[i] > below)
                below = sl[i];
        med = 0.5 * (med + below);
    }
    o->slope = med;
    if (!want_bounds) {
        o->lo = o->hi = NAN;
    } else {
        size_t r1 = (size_t)m1 - 1, r2 = (size_t)m2 - 1;
        o->lo = r1 < k ? mv__select_kth(sl, k, r1) : sl[k];
        o->hi = r2 > k ? mv__select_kth(sl + k, m - k, r2 - k) : sl[k];
    }
    o->tau = s / (dn * (dn - 1) / 2.0);
    o->n = n;
    o->intercept = NAN;
    return 0;
}

/* Theil–Sen slope of a part; NAN when it cannot be fitted. */
double mv__leak_part_slope(const double *x, const double *y, size_t n)
{
    mv__slope sl;
    if (n < 3 || mv__leak_ts_fit(x, y, n, 0, &sl) != 0)
        return NAN;
    return sl.slope;
}

/* Theil–Sen slopes of the first quarter, the middle half (when mid is not
 * NULL) and the last quarter of the n points; NAN where one cannot be
 * fitted. The shape tests compare them: a leak grows alike in all three. */
void mv__leak_quarter_slopes(const double *x, const double *y, size_t n,
                           double *first, double *mid, double *last)
{
    size_t qn = n / 4;
    *first = mv__leak_part_slope(x, y, qn);
    *last = mv__leak_part_slope(x + n - qn, y + n - qn, qn);
    if (mid)
        *mid = mv__leak_part_slope(x + qn, y + qn, n - 2 * qn);
}
