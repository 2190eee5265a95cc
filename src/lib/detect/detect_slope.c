/*
 * detect_slope.c — the Theil–Sen robust slope with Kendall's tau and Sen's
 * confidence interval, and the time-to-limit arithmetic.
 *
 * DESIGN. The slope is the median of the slopes of all point pairs, so up
 * to ~29% of wild points (a spike, a burst) cannot move it. The median and
 * both confidence ranks of the pairwise slopes are found by selection (each
 * bound inside its side of the median), not by sorting: the same order
 * statistics at O(m^2) for m points used, several times faster than a sort
 * for the bucket counts the detectors use. Above
 * TS_MAX_POINTS points a deterministic, evenly spaced subsample of
 * TS_MAX_POINTS points is used, bounding work at ~130k pairs (1 MiB of
 * scratch). Scratch is malloc'ed per call (-ENOMEM on failure) so the
 * function stays reentrant; the monitor calls it with <= 128 points.
 *
 * Confidence bounds (Sen 1968, as in Gilbert 1987 §16.5): with Kendall's S
 * variance var = m(m-1)(2m+5)/18 (no tie correction), C = 1.96 sqrt(var),
 * M1 = (N - C)/2 and M2 = (N + C)/2 over the N sorted slopes, the bounds are
 * the M1-th and (M2+1)-th smallest slopes (1-based ranks; M1 rounded down
 * and M2 rounded up, so the interval errs on the wide side; clamped to
 * 1..N).
 */
#include "detect.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Points above which a subsample is used: 512 points = 130816 pairs. */
#define TS_MAX_POINTS 512

double mv__select_kth(double *a, size_t n, size_t k)
{
    long l = 0, m = (long)n - 1, kk = (long)k;
    while (l < m) {
        double x = a[kk];
        long i = l, j = m;
        do {
            while (a[i] < x)
                i++;
            while (x < a[j])
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < kk)
            l = i;
        if (kk < i)
            m = j;
    }
    return a[kk];
}

/* Largest of a[0..k) (k >= 1). */
static double max_below(const double *a, size_t k)
{
    double v = a[0];
    for (size_t i = 1; i < k; i++)
        if (a[i] > v)
            v = a[i];
    return v;
}

/* Median of a[0..n) by selection (a is reordered). */
static double select_median(double *a, size_t n)
{
    double hi = mv__select_kth(a, n, n / 2);
    if (n % 2 == 1)
        return hi;
    return 0.5 * (max_below(a, n / 2) + hi);
}

static int sign_of(double x)
{
    return (x > 0) - (x < 0);
}

int mv__theil_sen(const double *t_s, const double *v, size_t n, mv__slope *out)
{
    if (t_s == NULL || v == NULL || out == NULL || n < 3)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t_s[i]) || !isfinite(v[i]))
            return -EINVAL;
    }

    size_t m = n > TS_MAX_POINTS ? TS_MAX_POINTS : n;
    size_t npairs = m * (m - 1) / 2;
    size_t cap = npairs > n ? npairs : n;
    double *buf = malloc(cap * sizeof(*buf));
    if (buf == NULL)
        return -ENOMEM;

    /* subsample index k -> point k * (n-1) / (m-1): first and last kept */
    size_t N = 0;
    long long S = 0;
    for (size_t a = 0; a < m; a++) {
        size_t i = m == n ? a : (size_t)((uint64_t)a * (n - 1) / (m - 1));
        for (size_t b = a + 1; b < m; b++) {
            size_t j = m == n ? b : (size_t)((uint64_t)b * (n - 1) / (m - 1));
            double dt = t_s[j] - t_s[i];
            double dv = v[j] - v[i];
            S += sign_of(dt) * sign_of(dv);
            if (dt != 0)
                buf[N++] = dv / dt;
        }
    }
    if (N == 0) {
        free(buf); /* all times equal: no slope */
        return -EINVAL;
    }
    /* order statistics by selection, not a sort: the median first, then
     * each bound inside its side of it */
    size_t k = N / 2;
    double slope = select_median(buf, N);
    double md = (double)m;
    double var = md * (md - 1) * (2 * md + 5) / 18.0;
    double C = 1.96 * sqrt(var);
    double M1 = floor(((double)N - C) / 2);
    double M2 = ceil(((double)N + C) / 2);
    size_t r_lo = M1 < 1 ? 1 : (size_t)M1;
    size_t r_hi = M2 + 1 > (double)N ? N : (size_t)M2 + 1;
    if (r_lo > N)
        r_lo = N;
    out->lo = r_lo - 1 < k ? mv__select_kth(buf, k, r_lo - 1) : buf[k];
    out->hi = r_hi - 1 > k ? mv__select_kth(buf + k, N - k, r_hi - 1 - k)
                           : buf[k];
    out->slope = slope;
    out->tau = (double)S / (double)npairs;
    out->n = m;

    /* intercept: median of the residual offsets over all points */
    for (size_t i = 0; i < n; i++)
        buf[i] = v[i] - slope * t_s[i];
    out->intercept = select_median(buf, n);
    free(buf);
    return 0;
}

double mv__time_to_limit(int64_t current, int64_t limit, double slope)
{
    if (current == MV_NA || isnan(slope))
        return NAN;
    if (limit == MV_UNLIMITED || limit < 0)
        return INFINITY; /* MV_NA and other negative limits: no limit known */
    if (current >= limit)
        return 0;
    if (slope <= 0)
        return INFINITY;
    return (double)(limit - current) / slope;
}
