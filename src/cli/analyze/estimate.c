/*
 * estimate.c — the fit and the plan behind `memvigil estimate` (see
 * estimate.h for the model).
 *
 * Design: a log-log least-squares fit of growth above the first checkpoint
 * is the simplest estimator of a power law and is exact on clean data; the
 * checkpoints come from progress counters, which are smooth (they average
 * over many units), so a robust estimator buys little here. The marginal
 * cost per unit at the end of the data (d bytes / d u = c k u^(k-1)) is
 * reported next to the average because for superlinear growth it is the one
 * that predicts the next batch.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "estimate.h"
#include "util.h"

static void init(cli_estimate *e)
{
    memset(e, 0, sizeof *e);
    e->r2 = NAN;
    e->memory_bytes = NAN;
    e->concurrency = -1;
}

int cli_estimate_fit(const double *units, const double *bytes, size_t n,
                     cli_estimate *e, char *err, size_t errlen)
{
    if (!units || !bytes || !e)
        return -EINVAL;
    init(e);
    e->from_data = 1;
    /* the first checkpoint with finite values is the origin */
    size_t first = 0;
    while (first < n && !(isfinite(units[first]) && isfinite(bytes[first])))
        first++;
    if (first == n) {
        snprintf(err, errlen, "no progress checkpoints with memory figures");
        return -ENODATA;
    }
    e->u0 = units[first];
    e->base_bytes = bytes[first];
    e->u_max = e->u0;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    double su = 0, sb = 0;
    size_t k = 0;
    for (size_t i = first + 1; i < n; i++) {
        double du = units[i] - e->u0, db = bytes[i] - e->base_bytes;
        if (!isfinite(du) || !isfinite(db) || du <= 0)
            continue;
        if (units[i] > e->u_max)
            e->u_max = units[i];
        su += du;
        sb += db;
        if (db <= 0)
            continue;
        double x = log(du), y = log(db);
        sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
        k++;
    }
    e->points = k;
    if (k < 3) {
        snprintf(err, errlen, "%zu usable progress checkpoint%s (units and memory "
                 "both above the first); at least 3 are needed", k, k == 1 ? "" : "s");
        return -ENODATA;
    }
    double dn = (double)k;
    double vx = sxx - sx * sx / dn, vy = syy - sy * sy / dn, cxy = sxy - sx * sy / dn;
    if (vx <= 0) {
        snprintf(err, errlen, "progress never advanced: cannot fit memory per unit");
        return -ENODATA;
    }
    e->exponent = cxy / vx;
    e->coef = exp((sy - e->exponent * sx) / dn);
    e->r2 = vy > 0 ? cxy * cxy / (vx * vy) : 1.0;
    e->per_unit_bytes = su > 0 ? sb / su : NAN;
    double du_max = e->u_max - e->u0;
    e->per_unit_last = e->coef * e->exponent * pow(du_max, e->exponent - 1);
    e->superlinear = e->exponent > CLI_ESTIMATE_SUPERLINEAR_K;
    return 0;
}

void cli_estimate_linear(double base_bytes, double per_unit_bytes,
                         cli_estimate *e)
{
    init(e);
    e->base_bytes = base_bytes;
    e->coef = per_unit_bytes;
    e->exponent = 1.0;
    e->per_unit_bytes = per_unit_bytes;
    e->per_unit_last = per_unit_bytes;
}

double cli_estimate_predict(const cli_estimate *e, double units)
{
    double du = units - e->u0;
    if (du <= 0)
        return e->base_bytes;
    return e->base_bytes + e->coef * pow(du, e->exponent);
}

int cli_estimate_plan(cli_estimate *e, double units, double margin,
                      double memory_bytes)
{
    if (!(units > 0) || !(margin >= 0))
        return -EINVAL;
    e->units = units;
    e->margin = margin;
    e->need_bytes = cli_estimate_predict(e, units);
    double lim = e->need_bytes * (1.0 + margin);
    double g = (double)CLI_ESTIMATE_ROUND;
    e->limit_bytes = ceil(lim / g) * g;
    e->memory_bytes = memory_bytes;
    e->concurrency = -1;
    if (isfinite(memory_bytes) && memory_bytes > 0 && lim > 0)
        e->concurrency = mv__double_to_i64_or(floor(memory_bytes / lim), -1);
    e->extrapolated = e->from_data && units > e->u_max;
    return 0;
}
