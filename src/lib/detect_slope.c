/*
 * detect_slope.c — the Theil–Sen robust slope with Kendall's tau and Sen's
 * confidence interval, and the time-to-limit arithmetic.
 *
 * DESIGN. The slope is the median of the slopes of all point pairs, so up
 * to ~29% of wild points (a spike, a burst) cannot move it. The pairwise
 * slopes are sorted with qsort: the median and both confidence ranks come
 * from the same sorted array. Cost is O(m^2 log m) for m points used; above
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double sorted_median(const double *x, size_t n)
{
    if (n % 2 == 1)
        return x[n / 2];
    return 0.5 * (x[n / 2 - 1] + x[n / 2]);
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
    qsort(buf, N, sizeof(*buf), cmp_double);

    double slope = sorted_median(buf, N);
    double md = (double)m;
    double var = md * (md - 1) * (2 * md + 5) / 18.0;
    double C = 1.96 * sqrt(var);
    double M1 = floor(((double)N - C) / 2);
    double M2 = ceil(((double)N + C) / 2);
    size_t r_lo = M1 < 1 ? 1 : (size_t)M1;
    size_t r_hi = M2 + 1 > (double)N ? N : (size_t)M2 + 1;
    if (r_lo > N)
        r_lo = N;
    out->lo = buf[r_lo - 1];
    out->hi = buf[r_hi - 1];
    out->slope = slope;
    out->tau = (double)S / (double)npairs;
    out->n = m;

    /* intercept: median of the residual offsets over all points */
    for (size_t i = 0; i < n; i++)
        buf[i] = v[i] - slope * t_s[i];
    qsort(buf, n, sizeof(*buf), cmp_double);
    out->intercept = sorted_median(buf, n);
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
