/*
 * test_leak.c — the leak detector on deterministic synthetic traces, one
 * per kind the detector must tell apart: steady, rising-floor sawtooth,
 * staircase, late-starting and daily-cycle leaks must be flagged (and in
 * time); flat noise, GC sawtooth, warm-up, a cache filling to a cap, batch
 * bursts, a one-off level shift and a daily cycle must never be. Plus
 * phases, an unknown limit, insufficient data and bad arguments.
 *
 * Each trace is sampled every 10 s and replayed as the monitor does: push
 * into a default series, then mv__leak_tick().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leak.h"
#include "series.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)
#define H 3600.0

typedef struct shape {
    int kind;
    double base, rate;       /* bytes, bytes/s */
    double a, b, c;          /* kind parameters */
} shape;

enum { FLAT, LINEAR, SAW, WARMUP, CACHE, STEP, BURSTS, DAILY, LATE, STAIRS };

/* Deterministic noise in [-1, 1] (an LCG; no global state). */
static double noise(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*st >> 11) / 4503599627370496.0 - 1.0;
}

static double value(const shape *s, double t, uint64_t *st)
{
    double v = s->base;
    switch (s->kind) {
    case LINEAR: v += s->rate * t; break;
    case SAW: v += s->rate * t + s->a * fmod(t / s->b, 1.0); break;
    case WARMUP: v += s->a * (1 - exp(-t / s->b)); break;
    case CACHE: v += s->a * (t >= s->b ? 1.0 : pow(t / s->b, s->c > 0 ? s->c : 0.5)); break;
    case STEP: v += t >= s->b ? s->a : 0; break;
    case BURSTS: v += fmod(t, s->b) < s->c ? s->a : 0; break;
    case DAILY: v += s->rate * t + s->a * sin(2 * M_PI * t / 86400.0 + s->c); break;
    case LATE: v += t > s->b ? s->rate * (t - s->b) : 0; break;
    case STAIRS: v += s->a * floor(t / s->b); break;
    default: break;
    }
    return v + 2.0 * MIB * noise(st);
}

typedef struct run_out {
    mv__leak_result last;
    double first_leak_h;      /* -1 never */
    double first_suspect_h;
    int changes;
    int held_seen;
} run_out;

/* Replays hours of shape s against limit, one sample every step_s;
 * phase active in [p0, p1) h. */
static void run_step(const shape *s, double hours, int64_t limit, double p0,
                     double p1, double step_s, run_out *o)
{
    mv__series *ser = mv__series_new_default();
    mv__leak_cfg cfg;
    mv__leak_cfg_init(&cfg);
    cfg.limit_bytes = limit;
    mv__leak_detector *d = mv__leak_new(&cfg);
    assert_non_null(ser);
    assert_non_null(d);
    uint64_t st = 42;
    memset(o, 0, sizeof *o);
    o->first_leak_h = o->first_suspect_h = -1;
    for (double t = 0; t <= hours * H; t += step_s) {
        int64_t ms = 1000000 + (int64_t)(t * 1000);
        assert_int_equal(mv__series_push(ser, ms, value(s, t, &st)), 0);
        int phase = t >= p0 * H && t < p1 * H;
        o->changes += mv__leak_tick(d, ser, ms, phase, &o->last);
        if (o->last.held_by_phase)
            o->held_seen = 1;
        if (o->first_leak_h < 0 && o->last.verdict == MV_LEAK_LEAK)
            o->first_leak_h = t / H;
        if (o->first_suspect_h < 0 && o->last.verdict == MV_LEAK_SUSPECT)
            o->first_suspect_h = t / H;
    }
    mv__leak_free(d);
    mv__series_free(ser);
}

/* Every 10 s, like the monitor's default interval. */
static void run(const shape *s, double hours, int64_t limit, double p0,
                double p1, run_out *o)
{
    run_step(s, hours, limit, p0, p1, 10, o);
}

static const int64_t LIMIT = (int64_t)(2 * GIB);

static void test_names_and_bad_args(void **state)
{
    (void)state;
    assert_string_equal(mv__leak_verdict_name(MV_LEAK_LEAK), "leak");
    assert_string_equal(mv__leak_verdict_name(MV_LEAK_SUSPECT), "suspect");
    assert_string_equal(mv__leak_verdict_name(MV_LEAK_NO_LEAK), "no_leak");
    assert_string_equal(mv__leak_verdict_name(MV_LEAK_INSUFFICIENT_DATA),
                        "insufficient_data");
    assert_string_equal(mv__leak_verdict_name((mv__leak_verdict)99),
                        "insufficient_data");
    assert_string_equal(mv__leak_reason_name(MV_LEAK_R_STEP), "step");
    assert_string_equal(mv__leak_reason_name((mv__leak_reason)99), "none");
    mv__leak_result r;
    memset(&r, 0x5a, sizeof r);
    assert_int_equal(mv__leak_tick(NULL, NULL, 0, 0, &r), 0);
    assert_int_equal(r.verdict, MV_LEAK_INSUFFICIENT_DATA);
    assert_true(isnan(r.eta_s));
    assert_int_equal(r.first_leak_ms, -1);
    mv__leak_free(NULL);
    mv__leak_set_limit(NULL, 5);
    mv__leak_cfg c;
    mv__leak_cfg_init(&c);
    assert_int_equal(c.eval_period_ms, 60000);
    assert_true(c.min_growth_bytes_per_h > 0);
    assert_true(c.oom_risk_horizon_s > 0);
    /* an empty series: insufficient data, no crash */
    mv__series *s = mv__series_new_default();
    mv__leak_detector *d = mv__leak_new(NULL);
    assert_int_equal(mv__leak_tick(d, s, 1000, 0, &r), 0);
    assert_int_equal(r.verdict, MV_LEAK_INSUFFICIENT_DATA);
    mv__leak_free(d);
    mv__series_free(s);
}

static void test_insufficient(void **state)
{
    (void)state;
    shape s = {.kind = LINEAR, .base = 600 * MIB, .rate = 200 * MIB / H};
    run_out o;
    run(&s, 0.15, LIMIT, -1, -1, &o);
    assert_int_equal(o.last.verdict, MV_LEAK_INSUFFICIENT_DATA);
    assert_int_equal(o.changes, 0);
    assert_non_null(strstr(o.last.evidence, "needed before a verdict"));
}

static void test_steady_leak(void **state)
{
    (void)state;
    /* 600 MiB -> 2 GiB in ~10 h: must be flagged within 2 h */
    shape s = {.kind = LINEAR, .base = 600 * MIB, .rate = 140 * MIB / H};
    run_out o;
    run(&s, 6, LIMIT, -1, -1, &o);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
    assert_true(o.first_leak_h > 0 && o.first_leak_h <= 2.0);
    assert_true(o.last.confidence > 0.95);
    assert_true(o.last.growth_bytes_per_h > 120 * MIB &&
                o.last.growth_bytes_per_h < 160 * MIB);
    assert_true(o.last.growth_lo_bytes_per_h <= o.last.growth_bytes_per_h);
    assert_true(o.last.growth_hi_bytes_per_h >= o.last.growth_bytes_per_h);
    /* at 6 h: 1440 MiB used, ~608 MiB left at 140 MiB/h: ~4.3 h */
    assert_true(o.last.eta_s > 3.3 * H && o.last.eta_s < 5.3 * H);
    assert_true(o.last.eta_lo_s <= o.last.eta_s && o.last.eta_hi_s >= o.last.eta_s);
    assert_int_equal(o.last.reason, MV_LEAK_R_TREND);
    assert_non_null(strstr(o.last.evidence, "private memory rose"));
    assert_non_null(strstr(o.last.evidence, "along a straight line (tau="));
    assert_non_null(strstr(o.last.evidence, "the 2.0 GiB limit is reached in"));
    assert_true(o.last.first_leak_ms > 0);
}

static void test_flat_and_sawtooth(void **state)
{
    (void)state;
    shape flat = {.kind = FLAT, .base = 900 * MIB};
    run_out o;
    run(&flat, 30, LIMIT, -1, -1, &o);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    assert_true(o.first_leak_h < 0);
    assert_true(o.last.confidence < 0.9);
    assert_true(isinf(o.last.eta_s));

    /* GC sawtooth: +300 MiB every 5 min, floor flat */
    shape saw = {.kind = SAW, .base = 700 * MIB, .a = 300 * MIB, .b = 300};
    run(&saw, 30, LIMIT, -1, -1, &o);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    assert_true(o.first_leak_h < 0);

    /* same sawtooth, floor rising 60 MiB/h (limit in ~17 h) */
    saw.rate = 60 * MIB / H;
    run(&saw, 8, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h < 4);
}

static void test_warmup_cache_never(void **state)
{
    (void)state;
    run_out o;
    /* warm-up: +500 MiB with a 10 min time constant */
    shape w = {.kind = WARMUP, .base = 400 * MIB, .a = 500 * MIB, .b = 600};
    run(&w, 30, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    /* cache: +600 MiB, concave fill over 3 h, then capped */
    shape c = {.kind = CACHE, .base = 400 * MIB, .a = 600 * MIB, .b = 3 * H};
    run(&c, 30, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
}

static void test_step_and_bursts_never(void **state)
{
    (void)state;
    run_out o;
    /* one-off shift of +400 MiB at 5 h */
    shape st = {.kind = STEP, .base = 500 * MIB, .a = 400 * MIB, .b = 5 * H};
    run(&st, 30, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    /* a 30-min batch of +600 MiB every 4 h, back to baseline */
    shape b = {.kind = BURSTS, .base = 500 * MIB, .a = 600 * MIB, .b = 4 * H,
               .c = 1800};
    run(&b, 30, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
}

static void test_daily(void **state)
{
    (void)state;
    run_out o;
    /* daily cycle of +-150 MiB, no leak, 3 days */
    shape d = {.kind = DAILY, .base = 800 * MIB, .a = 150 * MIB};
    run(&d, 72, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    /* the same cycle on top of a leak reaching the limit in ~3.5 days */
    d.rate = 14 * MIB / H;
    run(&d, 72, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
}

static void test_late_and_stairs(void **state)
{
    (void)state;
    run_out o;
    /* flat for 10 h, then 100 MiB/h */
    shape l = {.kind = LATE, .base = 500 * MIB, .rate = 100 * MIB / H, .b = 10 * H};
    run(&l, 16, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 10.0 && o.first_leak_h < 13.0);
    /* staircase: +20 MiB every 15 min (80 MiB/h) */
    shape s = {.kind = STAIRS, .base = 500 * MIB, .a = 20 * MIB, .b = 900};
    run(&s, 10, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h < 4);
    /* big steps far apart: +300 MiB every 2 h (the limit 4-5 steps away):
     * one step is a level shift, the second one at the same pace makes a
     * staircase */
    shape big = {.kind = STAIRS, .base = 600 * MIB, .a = 300 * MIB, .b = 2 * H};
    run(&big, 7, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 4.0 && o.first_leak_h < 5.0);
    assert_non_null(strstr(o.last.evidence, "equal steps of"));
    /* ... two such steps 10 h apart are two shifts, not a leak */
    big.b = 10 * H;
    run(&big, 30, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
}

/* Leaks that start with the process are judged on their window's own
 * quarters (no earlier data to compare with), and from 12 h on without a
 * day of history unless the rise is S-shaped like a daily upswing. */
static void test_history_short(void **state)
{
    (void)state;
    run_out o;
    /* 600 MiB -> 2 GiB in ~12 h from the start: flagged within 1.5 h
     * (12% of the time to the limit) */
    shape fast = {.kind = LINEAR, .base = 600 * MIB, .rate = 120 * MIB / H};
    run(&fast, 3, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h <= 1.5);
    /* ~4.5 h to the limit: the 20 min rung flags it within 0.45 h (the
     * 30 min window could not before ~0.52 h) */
    shape four = {.kind = LINEAR, .base = 600 * MIB, .rate = 322 * MIB / H};
    run(&four, 1, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h <= 0.45);
    /* ~10 h to the limit: the 30 min window must wait for the limit to be
     * 7.5 h away, the 1 h window for 1 h of data; the 45 min rung flags it
     * within 0.9 h (9% of the time to the limit) */
    shape ten = {.kind = LINEAR, .base = 600 * MIB, .rate = 145 * MIB / H};
    run(&ten, 2, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h <= 0.9);
    /* a cache filling as t^0.55 by 250 MiB in 50 min in a 1 GiB container
     * (shaped after a bench/leaks corpus trace), judged from 0.9 widths on
     * by windows that are all the history there is: never a leak */
    shape c = {.kind = CACHE, .base = 460 * MIB, .a = 250 * MIB, .b = 50 * 60,
               .c = 0.55};
    run(&c, 12, (int64_t)(1 * GIB), -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    /* ~48 h to the limit: flagged by the 12 h window, before 13 h */
    shape slow = {.kind = LINEAR, .base = 600 * MIB, .rate = 30 * MIB / H};
    run(&slow, 16, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h < 13.0);
    /* a daily cycle starting at its trough: its 12 h upswing (875 ->
     * 1125 MiB, 30 MiB/h at its steepest, the limit ~30 h away at that
     * rate) is S-shaped and is not called a leak in the first day (nor
     * later) */
    shape d = {.kind = DAILY, .base = 1000 * MIB, .a = 125 * MIB, .c = -M_PI / 2};
    run(&d, 40, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    /* the same cycle starting 4 h before its steepest point: the 8 h
     * window sees the most leak-like stretch of it (outer quarters ~0.7 x
     * the middle): not a leak either */
    d.c = -M_PI / 3;
    run(&d, 22, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    /* ... and 2.75 h before: the 6 h window, judged from 80% coverage on,
     * sees about its most leak-like 6 h (outer quarters up to ~0.85 x the
     * middle): not a leak (it would be at 5.6 h with S_SHAPE_RATIO_6H 0.8) */
    d.c = -11 * M_PI / 48;
    run(&d, 22, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    /* ~60 h to the limit from the start: the 6 h window flags it before
     * 6.5 h (the 8 h window could not before ~7.4 h) */
    shape sixty = {.kind = LINEAR, .base = 600 * MIB, .rate = 24 * MIB / H};
    run(&sixty, 8, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h < 6.5);
}

static void test_phase_holds(void **state)
{
    (void)state;
    run_out o;
    /* growth for 4 h inside a bulk-import phase, then flat: no verdict of
     * leak, and the verdict is held during the phase */
    shape w = {.kind = CACHE, .base = 400 * MIB, .a = 800 * MIB, .b = 4 * H};
    w.kind = LINEAR;
    w.rate = 200 * MIB / H;
    run(&w, 4, LIMIT, 0.5, 5, &o);
    assert_true(o.held_seen);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.held_by_phase, 1);
    assert_true(o.last.verdict != MV_LEAK_LEAK);
}

static void test_unknown_limit(void **state)
{
    (void)state;
    run_out o;
    /* 300 MiB growing 60 MiB/h, no limit: judged by doubling time (5 h) */
    shape s = {.kind = LINEAR, .base = 300 * MIB, .rate = 60 * MIB / H};
    run(&s, 6, MV_UNLIMITED, -1, -1, &o);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
    assert_true(isnan(o.last.eta_s));
    assert_non_null(strstr(o.last.evidence, "no limit known"));
    /* a trivial rise (100 KiB/h) is below the absolute floor */
    s.base = 300 * MIB;
    s.rate = 100 * 1024.0 / H;
    s.kind = LINEAR;
    run(&s, 30, MV_NA, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
}

static void test_urgent_fast_leak(void **state)
{
    (void)state;
    /* 256 MiB container, 160 KiB/s from 30 MiB (full in ~24 min), sampled
     * every second: "leak" within 3 minutes of data (urgent windows) */
    const int64_t lim = (int64_t)(256 * MIB);
    shape s = {.kind = LINEAR, .base = 30 * MIB, .rate = 160 * 1024.0};
    run_out o;
    run_step(&s, 4.0 / 60, lim, -1, -1, 1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h * H <= 180);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
    assert_int_equal(o.last.reason, MV_LEAK_R_TREND);
    /* at 4 min: ~67.5 MiB used, ~188 MiB left at 160 KiB/s: ~20 min */
    assert_true(o.last.eta_s > 15 * 60 && o.last.eta_s < 25 * 60);
    assert_true(o.last.growth_bytes_per_h > 0.9 * 160 * 1024 * H &&
                o.last.growth_bytes_per_h < 1.1 * 160 * 1024 * H);
    /* the same leak sampled every 10 s: too few points for the urgent
     * windows, judged by the regular ones (15 min and up) */
    run_step(&s, 4.0 / 60, lim, -1, -1, 10, &o);
    assert_true(o.first_leak_h < 0);
    /* slow in a big limit: the urgent windows stay silent */
    shape slow = {.kind = LINEAR, .base = 30 * MIB, .rate = 160 * 1024.0};
    run_step(&slow, 4.0 / 60, (int64_t)(64 * GIB), -1, -1, 1, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_INSUFFICIENT_DATA);
}

static void test_urgent_warmup_never(void **state)
{
    (void)state;
    /* fast warm-up in a 256 MiB container: 5% -> 30% of the limit with a
     * 1 min time constant (level after ~5 min), sampled every second,
     * watched 40 min: never "leak" (not even briefly) */
    const int64_t lim = (int64_t)(256 * MIB);
    shape w = {.kind = WARMUP, .base = 12.8 * MIB, .a = 64 * MIB, .b = 60};
    run_out o;
    run_step(&w, 40.0 / 60, lim, -1, -1, 1, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    /* slower: 3 min time constant (level after ~15 min). Its first two
     * minutes are a straight rise that would fill the container in ~14
     * min: indistinguishable from a leak that urgent, so it is flagged
     * (oom_risk is right for it) and the verdict clears once it plateaus */
    shape w3 = {.kind = WARMUP, .base = 12.8 * MIB, .a = 64 * MIB, .b = 180};
    run_step(&w3, 40.0 / 60, lim, -1, -1, 1, &o);
    assert_true(o.first_leak_h > 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    assert_true(isinf(o.last.eta_s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_bad_args),
        cmocka_unit_test(test_insufficient),
        cmocka_unit_test(test_steady_leak),
        cmocka_unit_test(test_flat_and_sawtooth),
        cmocka_unit_test(test_warmup_cache_never),
        cmocka_unit_test(test_step_and_bursts_never),
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_late_and_stairs),
        cmocka_unit_test(test_history_short),
        cmocka_unit_test(test_phase_holds),
        cmocka_unit_test(test_unknown_limit),
        cmocka_unit_test(test_urgent_fast_leak),
        cmocka_unit_test(test_urgent_warmup_never),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
