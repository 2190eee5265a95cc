/*
 * test_cli_replay.c — analyze's replay through the live leak detector:
 * a steady leak is a leak with a detection time inside the data, a flat
 * sawtooth is not, too little data is insufficient_data with the reason,
 * --limit overrides the input's limit; the OOM-risk claim is kept apart
 * from the verdict (raised within minutes without a leak, its first
 * activation kept when it clears).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leak_window.h" /* MV_LEAK_MIN_RISE_MS */
#include "replay.h"

#define MIB (1024.0 * 1024.0)

/* Deterministic noise in [0, 1). */
static double noise(uint32_t *st)
{
    *st = *st * 1664525u + 1013904223u;
    return (double)(*st >> 8) / 16777216.0;
}

/* The test links replay.c alone, so series are built by hand here. */
static cli_series *make(cli_format f, size_t n, int64_t step_ms,
                        double base, double per_h, double saw)
{
    cli_series *s = calloc(1, sizeof *s);
    uint32_t st = 42;
    size_t i;

    assert_non_null(s);
    s->source = strdup("t.csv");
    s->format = f;
    s->limit_bytes = MV_NA;
    s->t_ms = calloc(n, sizeof *s->t_ms);
    s->v = calloc(n, sizeof *s->v);
    assert_non_null(s->t_ms);
    assert_non_null(s->v);
    if (f == CLI_FMT_RECORDING) {
        s->limit = calloc(n, sizeof *s->limit);
        s->phase = calloc(n, sizeof *s->phase);
    }
    for (i = 0; i < n; i++) {
        double t_h = (double)i * (double)step_ms / 3600000.0;

        s->t_ms[i] = 1700000000000LL + (int64_t)i * step_ms;
        s->v[i] = base + per_h * t_h + saw * (double)(i % 12) / 12.0 +
                  noise(&st) * MIB;
    }
    s->n = s->cap = n;
    return s;
}

/* a 3 h leak patience, every other setting the default */
static const cli_replay_settings PATIENCE_3H = {0, 3 * 3600 * 1000LL, 0};

static void drop(cli_series *s)
{
    free(s->source);
    free(s->t_ms);
    free(s->v);
    free(s->limit);
    free(s->phase);
    free(s);
}

static void test_leak(void **state)
{
    /* 12 h at 60 s, 300 MiB + 40 MiB/h with a GC sawtooth, 1 GiB limit */
    cli_series *s = make(CLI_FMT_CSV, 720, 60000, 300 * MIB, 40 * MIB,
                         30 * MIB);
    cli_replay_result rr;

    (void)state;
    /* --leak-min-rise 3h: the rise is old enough within the 12 h */
    assert_int_equal(cli_replay_with(s, 1LL << 30, &PATIENCE_3H, &rr),
                     0);
    assert_int_equal(rr.r.verdict, MV_LEAK_LEAK);
    assert_true(rr.detected_at_s >= 3 * 3600.0);
    assert_int_equal(rr.points, 720);
    assert_true(fabs(rr.span_s - 719 * 60.0) < 1e-9);
    assert_int_equal(rr.limit_bytes, 1LL << 30);
    assert_true(rr.r.growth_bytes_per_h > 30 * MIB &&
                rr.r.growth_bytes_per_h < 50 * MIB);
    assert_true(rr.r.confidence > 0.5 && rr.r.confidence <= 1.0);
    assert_true(isfinite(rr.r.eta_s) && rr.r.eta_s > 0);
    /* detected inside the data, at a point's time */
    assert_false(isnan(rr.detected_at_s));
    assert_true(rr.detected_at_s > 0 && rr.detected_at_s <= rr.span_s);
    assert_int_equal(rr.detected_at_ms,
                     1700000000000LL + (int64_t)(rr.detected_at_s * 1000));
    assert_true(strlen(rr.r.evidence) > 10);
    drop(s);
}

/* The default patience (MV_LEAK_MIN_RISE_MS): no `leak` before the rise
 * is that old, so on the same 12 h trace `leak` comes later than with 3 h,
 * if at all. */
static void test_default_patience(void **state)
{
    cli_series *s = make(CLI_FMT_CSV, 720, 60000, 300 * MIB, 40 * MIB,
                         30 * MIB);
    cli_replay_result rr, fast;

    (void)state;
    assert_int_equal(cli_replay(s, 1LL << 30, 0, &rr), 0);
    assert_int_equal(cli_replay_with(s, 1LL << 30, &PATIENCE_3H, &fast),
                     0);
    assert_false(isnan(fast.detected_at_s));
    if (isnan(rr.detected_at_s)) {
        assert_true(rr.r.verdict != MV_LEAK_LEAK);
        assert_true(rr.span_s < MV_LEAK_MIN_RISE_MS / 1000.0 + 3600);
    } else {
        assert_true(rr.detected_at_s >= MV_LEAK_MIN_RISE_MS / 1000.0);
        assert_true(rr.detected_at_s > fast.detected_at_s);
    }
    drop(s);
}

static void test_flat(void **state)
{
    /* 12 h flat at 300 MiB with a sawtooth of 30 MiB every 12 min */
    cli_series *s = make(CLI_FMT_CSV, 720, 60000, 300 * MIB, 0, 30 * MIB);
    cli_replay_result rr;

    (void)state;
    assert_int_equal(cli_replay(s, 1LL << 30, 0, &rr), 0);
    assert_int_equal(rr.r.verdict, MV_LEAK_NO_LEAK);
    assert_true(isnan(rr.detected_at_s));
    assert_int_equal(rr.detected_at_ms, MV_NA);
    drop(s);
}

static void test_little_data(void **state)
{
    cli_series *s = make(CLI_FMT_CSV, 1, 60000, 300 * MIB, 0, 0);
    cli_replay_result rr;

    (void)state;
    strcpy(s->note, "only one data point");
    assert_int_equal(cli_replay(s, MV_NA, 0, &rr), 0);
    assert_int_equal(rr.r.verdict, MV_LEAK_INSUFFICIENT_DATA);
    assert_string_equal(rr.r.evidence, "only one data point");
    assert_true(isnan(rr.r.growth_bytes_per_h));
    assert_true(isnan(rr.r.eta_s));
    assert_true(isnan(rr.detected_at_s));
    assert_int_equal(rr.points, 1);
    drop(s);

    /* 10 minutes: too short for any window */
    s = make(CLI_FMT_CSV, 11, 60000, 300 * MIB, 400 * MIB, 0);
    assert_int_equal(cli_replay(s, MV_NA, 0, &rr), 0);
    assert_int_equal(rr.r.verdict, MV_LEAK_INSUFFICIENT_DATA);
    drop(s);
}

static void test_oom_risk_apart_from_verdict(void **state)
{
    /* 20 min at 10 s of fast growth (300 MiB + 1.2 GiB/h) under a 1 GiB
     * limit: the OOM-risk claim is raised within minutes, whatever the
     * cause, while the verdict (needs an hour or more) is not leak */
    cli_series *s = make(CLI_FMT_CSV, 121, 10000, 300 * MIB, 1200 * MIB, 0);
    cli_replay_result rr;
    size_t i;

    (void)state;
    assert_int_equal(cli_replay(s, 1LL << 30, 0, &rr), 0);
    assert_true(rr.r.verdict != MV_LEAK_LEAK);
    assert_true(isnan(rr.detected_at_s));
    assert_int_equal(rr.r.risk.active, 1);
    assert_true(isfinite(rr.r.risk.eta_s) && rr.r.risk.eta_s > 0 &&
                rr.r.risk.eta_s < 6 * 3600.0);
    assert_true(rr.r.risk.growth_bytes_per_h > 900 * MIB &&
                rr.r.risk.growth_bytes_per_h < 1500 * MIB);
    assert_true(strlen(rr.r.risk.evidence) > 10);
    /* the first activation is kept, at a point's time inside the data */
    assert_false(isnan(rr.oom_risk_at_s));
    assert_true(rr.oom_risk_at_s > 0 && rr.oom_risk_at_s <= rr.span_s);
    assert_int_equal(rr.oom_risk_at_ms,
                     1700000000000LL + (int64_t)(rr.oom_risk_at_s * 1000));
    assert_true(isfinite(rr.oom_risk_at_eta_s) &&
                rr.oom_risk_at_eta_s < 6 * 3600.0);
    assert_true(strlen(rr.oom_risk_at_evidence) > 10);
    double first_at = rr.oom_risk_at_s;
    drop(s);

    /* the same climb, then 30 min level: the claim clears as the rate
     * drops, and the replay still says when it was first raised */
    s = make(CLI_FMT_CSV, 301, 10000, 300 * MIB, 1200 * MIB, 0);
    for (i = 121; i < s->n; i++)
        s->v[i] = s->v[120] + (double)(i % 3) * 0.1 * MIB;
    assert_int_equal(cli_replay(s, 1LL << 30, 0, &rr), 0);
    assert_true(rr.r.verdict != MV_LEAK_LEAK);
    assert_int_equal(rr.r.risk.active, 0);
    assert_false(isnan(rr.oom_risk_at_s));
    assert_true(fabs(rr.oom_risk_at_s - first_at) < 1e-9);
    drop(s);

    /* flat: never raised */
    s = make(CLI_FMT_CSV, 121, 10000, 300 * MIB, 0, 0);
    assert_int_equal(cli_replay(s, 1LL << 30, 0, &rr), 0);
    assert_int_equal(rr.r.risk.active, 0);
    assert_true(isnan(rr.oom_risk_at_s));
    assert_int_equal(rr.oom_risk_at_ms, MV_NA);
    assert_true(isnan(rr.oom_risk_at_eta_s));
    drop(s);

    /* no limit known: no time to the limit, no risk */
    s = make(CLI_FMT_CSV, 121, 10000, 300 * MIB, 1200 * MIB, 0);
    assert_int_equal(cli_replay(s, MV_NA, 0, &rr), 0);
    assert_int_equal(rr.r.risk.active, 0);
    assert_true(isnan(rr.oom_risk_at_s));
    drop(s);

    /* one point: insufficient data, no risk, its reason as evidence */
    s = make(CLI_FMT_CSV, 1, 60000, 300 * MIB, 0, 0);
    strcpy(s->note, "only one data point");
    assert_int_equal(cli_replay(s, 1LL << 30, 0, &rr), 0);
    assert_int_equal(rr.r.risk.active, 0);
    assert_true(isnan(rr.r.risk.eta_s));
    assert_int_equal(rr.r.risk.first_ms, -1);
    assert_string_equal(rr.r.risk.evidence, "only one data point");
    drop(s);
}

static void test_limits(void **state)
{
    /* a recording's per-point limit is followed; --limit overrides it */
    cli_series *s = make(CLI_FMT_RECORDING, 120, 60000, 300 * MIB, 0, 0);
    cli_replay_result rr;
    size_t i;

    (void)state;
    for (i = 0; i < s->n; i++)
        s->limit[i] = i < 60 ? (1LL << 30) : (2LL << 30);
    assert_int_equal(cli_replay(s, MV_NA, 0, &rr), 0);
    assert_int_equal(rr.limit_bytes, 2LL << 30);
    assert_int_equal(cli_replay(s, 512LL << 20, 0, &rr), 0);
    assert_int_equal(rr.limit_bytes, 512LL << 20);
    drop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leak),
        cmocka_unit_test(test_default_patience),
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_little_data),
        cmocka_unit_test(test_oom_risk_apart_from_verdict),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
