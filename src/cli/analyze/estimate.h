/*
 * estimate.h — capacity planning from memory per unit of work (estimate.c):
 * fits how private memory grows with the units done (files indexed, rows
 * imported), says whether memory per unit is flat (linear) or rising
 * (superlinear, with the fitted exponent), and turns the fit into the
 * memory N units need, a recommended limit and how many such jobs fit in a
 * memory budget. This is the runbooks' "memory per 1k files" formula, fitted
 * from data instead of guessed.
 *
 * Model: bytes(u) = base + c * (u - u0)^k over checkpoints (u, bytes), where
 * (u0, base) is the first checkpoint; k is fitted by least squares on
 * log(bytes - base) against log(u - u0). k near 1 is linear; above
 * CLI_ESTIMATE_SUPERLINEAR_K it is superlinear and extrapolation gets
 * expensive fast.
 *
 * Ownership: plain values. Thread-safety: none needed; no globals.
 */
#ifndef MV_CLI_ESTIMATE_H
#define MV_CLI_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

/* Exponent above which growth is called superlinear: 1.1 means memory per
 * unit rises by ~7% each time the work doubles, which a capacity plan must
 * not ignore; below, per-unit noise dominates. */
#define CLI_ESTIMATE_SUPERLINEAR_K 1.1
/* Default safety margin on top of the prediction. */
#define CLI_ESTIMATE_DEFAULT_MARGIN 0.25
/* Limits are rounded up to this granularity. */
#define CLI_ESTIMATE_ROUND ((int64_t)16 << 20)

typedef struct cli_estimate {
    size_t points;            /* checkpoints used by the fit */
    double u0, base_bytes;    /* first checkpoint: units, memory */
    double u_max;             /* largest units observed */
    double coef, exponent;    /* bytes = base + coef * (u - u0)^exponent */
    double r2;                /* of the log-log fit; NAN for --per-unit */
    double per_unit_bytes;    /* average over the data (linear slope) */
    double per_unit_last;     /* marginal bytes per unit at u_max */
    int superlinear;          /* exponent > CLI_ESTIMATE_SUPERLINEAR_K */
    int from_data;            /* fitted (1) or given with --per-unit (0) */
    /* the plan (cli_estimate_plan) */
    double units;             /* N */
    double margin;            /* 0.25 = 25 % */
    double need_bytes;        /* predicted memory for N units */
    double limit_bytes;       /* need * (1 + margin), rounded up */
    double memory_bytes;      /* budget for concurrency; NAN when not given */
    int64_t concurrency;      /* jobs of N units that fit; -1 when no budget */
    int extrapolated;         /* N beyond the data (u_max) */
} cli_estimate;

/* Fits n checkpoints (units ascending or not; cumulative units and private
 * bytes). Points with fewer units than the first, or no memory above the
 * first, are not used by the log-log fit. 0, or -ENODATA when fewer than 3
 * usable points (why in err), -EINVAL on NULL. */
int cli_estimate_fit(const double *units, const double *bytes, size_t n,
                     cli_estimate *e, char *err, size_t errlen);

/* The --per-unit model: bytes = base + per_unit * u (exponent 1). */
void cli_estimate_linear(double base_bytes, double per_unit_bytes,
                         cli_estimate *e);

/* Memory needed at units u under the model. */
double cli_estimate_predict(const cli_estimate *e, double units);

/* Fills the plan for N units, a margin (>= 0) and a budget (NAN = none).
 * 0 or -EINVAL (N <= 0, margin < 0). */
int cli_estimate_plan(cli_estimate *e, double units, double margin,
                      double memory_bytes);

#endif /* MV_CLI_ESTIMATE_H */
