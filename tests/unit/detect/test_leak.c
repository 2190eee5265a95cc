/*
 * test_leak.c — the leak detector on deterministic synthetic traces, one
 * per kind the detector must tell apart: steady, rising-floor sawtooth,
 * staircase, late-starting and daily-cycle leaks must be flagged (and in
 * time); flat noise, GC sawtooth, warm-up, a cache filling to a cap, batch
 * bursts, a one-off level shift, a daily cycle and a long climb that
 * turns at its top must never be. Plus
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
#include "leak_window.h" /* MV_LEAK_MIN_RISE_MS: the default patience */
#include "series.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)
#define H 3600.0

typedef struct shape {
    int kind;
    double base, rate;       /* bytes, bytes/s */
    double a, b, c;          /* kind parameters */
} shape;

enum { FLAT, LINEAR, SAW, WARMUP, CACHE, STEP, BURSTS, DAILY, LATE, STAIRS,
       LATE_SAW, CAP_LINEAR, RAMP, POISSON, EXCURSION, CAP_SAW, RAMP_HOLD };

/* Poisson-like step times (hours; exponential gaps, mean 40 min). */
static const double POISSON_AT_H[20] = {
    0.76, 0.87, 1.57, 1.62, 2.13, 2.44, 2.48, 2.95, 2.97, 3.35,
    3.40, 3.46, 3.83, 5.00, 5.09, 5.26, 5.92, 7.88, 8.46, 8.80,
};

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
    /* steps of a every b s (until c s, when c > 0) */
    case STAIRS: v += s->a * floor((s->c > 0 ? fmin(t, s->c) : t) / s->b); break;
    /* flat for c h, then a sawtooth of amplitude a and period b s */
    case LATE_SAW: v += t > s->c * H ? s->a * fmod(t / s->b, 1.0) : 0; break;
    /* rate until the cap a is reached */
    case CAP_LINEAR: v += fmin(s->a, s->rate * t); break;
    /* daily: a linear ramp over b s to +a, held c s, then back at once */
    case RAMP_HOLD: {
        double ph = fmod(t, 86400.0);
        v += ph < s->b ? s->a * ph / s->b : (ph < s->b + s->c ? s->a : 0);
        break;
    }
    /* the same under a sawtooth of amplitude c and period b s */
    case CAP_SAW: v += fmin(s->a, s->rate * t) + s->c * fmod(t / s->b, 1.0); break;
    /* batch: every c s ramp over b s to +a, hold b s, drop at once */
    case RAMP: {
        double ph = fmod(t, s->c);
        v += ph < s->b ? s->a * ph / s->b : (ph < 2 * s->b ? s->a : 0);
        break;
    }
    /* a steps of size rate at the times in poisson_at[] (hours) */
    case POISSON:
        for (int i = 0; i < 20; i++)
            if (t >= POISSON_AT_H[i] * H)
                v += s->rate;
        break;
    /* flat for c h, rise at rate for b h, then back down at a x rate */
    case EXCURSION:
        if (t > s->c * H)
            v += s->rate * fmin(t - s->c * H, s->b * H);
        if (t > (s->c + s->b) * H)
            v -= s->a * s->rate * (t - (s->c + s->b) * H);
        break;
    default: break;
    }
    return v + 2.0 * MIB * noise(st);
}

typedef struct run_out {
    mv__leak_result last;
    double first_leak_h;      /* -1 never */
    double first_suspect_h;
    double leak_off_h;        /* last time leak left (-1 never) */
    double first_risk_h;      /* oom_risk first raised (-1 never) */
    double risk_off_h;        /* last time oom_risk cleared (-1 never) */
    int risk_spells;          /* times oom_risk was raised */
    int leak_spells;          /* times the verdict became leak */
    double last_leak_on_h;    /* when it last became leak (-1 never) */
    int changes;
    int held_seen;
} run_out;

/* The oom_risk horizon of the replays below (s; 0 = the default). */
static double risk_horizon_s;

/* Replays hours of shape s against limit, one sample every step_s;
 * phase active in [p0, p1) h; leak patience min_rise_ms (0 = the
 * detector's default). */
static void run_cfg(const shape *s, double hours, int64_t limit, double p0,
                    double p1, double step_s, int64_t min_rise_ms,
                    run_out *o)
{
    mv__series *ser = mv__series_new_default();
    mv__leak_cfg cfg;
    mv__leak_cfg_init(&cfg);
    cfg.limit_bytes = limit;
    if (min_rise_ms > 0)
        cfg.min_rise_ms = min_rise_ms;
    if (risk_horizon_s > 0)
        cfg.oom_risk_horizon_s = risk_horizon_s;
    mv__leak_detector *d = mv__leak_new(&cfg);
    assert_non_null(ser);
    assert_non_null(d);
    uint64_t st = 42;
    memset(o, 0, sizeof *o);
    o->first_leak_h = o->first_suspect_h = o->leak_off_h = -1;
    o->first_risk_h = o->risk_off_h = o->last_leak_on_h = -1;
    for (double t = 0; t <= hours * H; t += step_s) {
        int64_t ms = 1000000 + (int64_t)(t * 1000);
        assert_int_equal(mv__series_push(ser, ms, value(s, t, &st)), 0);
        int phase = t >= p0 * H && t < p1 * H;
        int was_leak = o->last.verdict == MV_LEAK_LEAK;
        int was_risk = o->last.risk.active;
        o->changes += mv__leak_tick(d, ser, ms, phase, &o->last);
        if (was_leak && o->last.verdict != MV_LEAK_LEAK)
            o->leak_off_h = t / H;
        if (!was_leak && o->last.verdict == MV_LEAK_LEAK) {
            o->leak_spells++;
            o->last_leak_on_h = t / H;
        }
        if (!was_risk && o->last.risk.active) {
            o->risk_spells++;
            if (o->first_risk_h < 0)
                o->first_risk_h = t / H;
        }
        if (was_risk && !o->last.risk.active)
            o->risk_off_h = t / H;
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

/* The shape tests below judge the windows' named tests, not the default
 * patience, at a 3 h leak patience (their traces stay hours long, and a
 * linear fill shorter than 3 h must still be told from a leak by its
 * shape); the default's own behaviour is test_patience_setting's and
 * test_default_patience_trade's. */
#define SHAPE_PATIENCE_MS (3 * 3600 * 1000LL)

static void run_step(const shape *s, double hours, int64_t limit, double p0,
                     double p1, double step_s, run_out *o)
{
    run_cfg(s, hours, limit, p0, p1, step_s, SHAPE_PATIENCE_MS, o);
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
    assert_int_equal(c.min_rise_ms, MV_LEAK_MIN_RISE_MS);
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
    /* the same figures as a reset result, over the data seen so far */
    assert_int_equal(o.last.reason, MV_LEAK_R_NONE);
    assert_true(isnan(o.last.growth_bytes_per_h) && isnan(o.last.eta_hi_s));
    assert_true(o.last.confidence == 0.0);
    assert_true(o.last.window_s > 0.1 * 3600 && o.last.window_s <= 0.15 * 3600);
}

static void test_steady_leak(void **state)
{
    (void)state;
    /* 600 MiB -> 2 GiB in ~10 h from the process's start: a rise must
     * last 3 h before it is called a leak (a cache filling at a steady pace
     * looks the same until it caps), so "leak" comes within 3.6 h;
     * oom_risk once the data behind the rate is an eighth of the time to
     * the limit (~10 h at the start: after ~70 min, not 5 min after the
     * start, when a warm-up looks the same) */
    shape s = {.kind = LINEAR, .base = 600 * MIB, .rate = 140 * MIB / H};
    run_out o;
    run(&s, 6, LIMIT, -1, -1, &o);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
    assert_true(o.first_leak_h >= 3.0 && o.first_leak_h <= 3.6);
    assert_true(o.first_risk_h >= 1.0 && o.first_risk_h <= 1.4);
    assert_int_equal(o.risk_spells, 1);
    assert_true(o.last.risk.active);
    assert_true(o.last.risk.eta_s > 3.3 * H && o.last.risk.eta_s < 5.3 * H);
    /* the horizon is a setting: at 6 h the claim waits until the limit is
     * that near (~4 h in) */
    risk_horizon_s = 6 * H;
    run(&s, 6, LIMIT, -1, -1, &o);
    risk_horizon_s = 0;
    assert_true(o.first_risk_h > 3.5 && o.first_risk_h < 4.5);
    assert_int_equal(o.risk_spells, 1);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
    run(&s, 6, LIMIT, -1, -1, &o);
    assert_non_null(strstr(o.last.risk.evidence, "limit is reached in"));
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
    /* the sentence is true of the whole history: above all of it */
    assert_non_null(strstr(o.last.evidence, "above anything in the"));
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
    /* flat for 10 h, then 100 MiB/h: a leak after 3 h of rise (SHAPE_PATIENCE_MS) */
    shape l = {.kind = LATE, .base = 500 * MIB, .rate = 100 * MIB / H, .b = 10 * H};
    run(&l, 16, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 13.0 && o.first_leak_h < 13.6);
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
    /* 600 MiB -> 2 GiB in ~12 h from the start: a leak once the rise has
     * lasted 3 h, within 3.6 h */
    shape fast = {.kind = LINEAR, .base = 600 * MIB, .rate = 120 * MIB / H};
    run(&fast, 4, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h >= 3.0 && o.first_leak_h <= 3.6);
    /* ~4.5 h to the limit: oom_risk after ~35 min (an eighth of it), the
     * verdict only says leak from 2 h */
    shape four = {.kind = LINEAR, .base = 600 * MIB, .rate = 322 * MIB / H};
    run(&four, 1.5, LIMIT, -1, -1, &o);
    assert_true(o.first_risk_h >= 0.5 && o.first_risk_h <= 0.7);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_SUSPECT);
    /* the suspect says what it waits for: the leak patience */
    assert_non_null(strstr(o.last.evidence, "a leak verdict needs 3 h of "
                                            "rise, and it left its lowest "
                                            "level 1 h"));
    assert_true(o.last.risk.active);
    /* with the default 19 h patience, a rise from the start 19.5-21 h old:
     * a short window looks back only 24 widths, into the middle of the
     * rise, and must not give that as the rise's age; a window that sees
     * the data's start gives the age from where the floor left its
     * lowest tenth (at least 85% of the rise's), below the patience */
    shape old = {.kind = LINEAR, .base = 600 * MIB, .rate = 40 * MIB / H};
    for (double h = 19.5; h <= 21.0; h += 0.5) {
        run_cfg(&old, h, LIMIT, -1, -1, 10, 0, &o);
        const char *age = strstr(o.last.evidence, "left its lowest level ");
        int hh = -1, mm = 0;
        if (!age)
            continue;
        assert_int_equal(sscanf(age, "left its lowest level %d h %d min",
                                &hh, &mm), 2);
        assert_true(hh + mm / 60.0 >= 0.85 * h && hh + mm / 60.0 < 19.0);
    }
    /* a leak that starts after 6 flat hours, ~10 h from the limit: the
     * leak once the rise has lasted 3 h */
    shape late = {.kind = LATE, .base = 600 * MIB, .rate = 145 * MIB / H,
                  .b = 6 * H};
    run(&late, 10, LIMIT, -1, -1, &o);
    assert_true(o.first_leak_h > 9.0 && o.first_leak_h <= 9.6);
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

/* A young process: a warm-up, or the first climbs of a GC sawtooth, in the
 * first minutes after a start rise fast enough to fill the limit within
 * the horizon at that rate; the claim waits until the data behind the rate
 * is an eighth of the time to the limit, by which time they have levelled
 * off or dropped. A leak as fast is still told within the hour. */
static void test_risk_young_process(void **state)
{
    (void)state;
    run_out o;
    /* +300 MiB with tau 10 min from 500 MiB, 2 GiB limit: ~1.3 h to the
     * limit at the first minutes' rate */
    shape w = {.kind = WARMUP, .base = 500 * MIB, .a = 300 * MIB, .b = 600};
    run(&w, 3, LIMIT, -1, -1, &o);
    assert_true(o.first_risk_h < 0);
    assert_int_equal(o.risk_spells, 0);
    /* the first climb of a GC sawtooth from the start, 100 MiB in 40 min
     * on 1 GiB (~6.5 h to the limit at its rate; later climbs are judged
     * against the floors before them) */
    shape g = {.kind = SAW, .base = 1 * GIB, .a = 100 * MIB, .b = 2400};
    run(&g, 0.6, LIMIT, -1, -1, &o);
    assert_true(o.first_risk_h < 0);
    assert_int_equal(o.risk_spells, 0);
    /* a leak from the start filling the same limit in ~2 h: told by
     * 20 min (an eighth of ~2 h of data, and two evaluations) */
    shape l = {.kind = LINEAR, .base = 500 * MIB, .rate = 760 * MIB / H};
    run(&l, 1, LIMIT, -1, -1, &o);
    assert_true(o.first_risk_h > 0 && o.first_risk_h <= 20.0 / 60);
    assert_true(o.last.risk.active);
}

static void test_risk_fast_leak(void **state)
{
    (void)state;
    /* 256 MiB container, 160 KiB/s from 30 MiB (full in ~24 min), sampled
     * every second: oom_risk within 6 minutes of data (after 5 min of
     * data, two evaluations 15 s apart); never "leak" that young */
    const int64_t lim = (int64_t)(256 * MIB);
    shape s = {.kind = LINEAR, .base = 30 * MIB, .rate = 160 * 1024.0};
    run_out o;
    run_step(&s, 8.0 / 60, lim, -1, -1, 1, &o);
    assert_true(o.first_risk_h > 0 && o.first_risk_h * H <= 360);
    assert_true(o.last.risk.active);
    assert_true(o.first_leak_h < 0);
    /* at 8 min: ~105 MiB used, ~150 MiB left at 160 KiB/s: ~16 min */
    assert_true(o.last.risk.eta_s > 12 * 60 && o.last.risk.eta_s < 20 * 60);
    assert_true(o.last.risk.growth_bytes_per_h > 0.9 * 160 * 1024 * H &&
                o.last.risk.growth_bytes_per_h < 1.1 * 160 * 1024 * H);
    assert_true(o.last.risk.first_ms > 0 && o.last.risk.since_ms > 0);
    /* the same leak sampled every 10 s: the same claim */
    run_step(&s, 8.0 / 60, lim, -1, -1, 10, &o);
    assert_true(o.first_risk_h > 0 && o.first_risk_h * H <= 420);
    /* the same rate in a big limit: no risk (days away) */
    run_step(&s, 8.0 / 60, (int64_t)(64 * GIB), -1, -1, 1, &o);
    assert_true(o.first_risk_h < 0);
    assert_false(o.last.risk.active);
    assert_non_null(strstr(o.last.risk.evidence, "beyond the 12 h horizon"));
    /* no limit known: no risk, and the sentence says why */
    run_step(&s, 8.0 / 60, MV_NA, -1, -1, 1, &o);
    assert_true(o.first_risk_h < 0);
    assert_true(isnan(o.last.risk.eta_s));
    assert_non_null(strstr(o.last.risk.evidence, "no limit known"));
}

/* A leak sampled every 5-6 minutes (a metrics export fed to analyze) gets
 * oom_risk as one sampled every 10 s does: from 600 MiB at 120 MiB/h
 * into 2 GiB (full in ~12 h), told within 2 h; and a flat series sampled
 * as coarsely gets none. Before the growth window stretched with the
 * sampling interval, an hour held under 6 buckets of two samples from
 * about 300 s on: there was never a rate. */
static void test_risk_coarse_sampling(void **state)
{
    (void)state;
    shape s = {.kind = LINEAR, .base = 600 * MIB, .rate = 120 * MIB / H};
    run_out o;
    const double steps[] = {300, 360};
    for (int i = 0; i < 2; i++) {
        run_step(&s, 6, LIMIT, -1, -1, steps[i], &o);
        assert_true(o.first_risk_h > 0 && o.first_risk_h <= 2.0);
        assert_true(o.last.risk.active);
        assert_true(o.last.risk.growth_bytes_per_h > 0.9 * 120 * MIB &&
                    o.last.risk.growth_bytes_per_h < 1.1 * 120 * MIB);
        shape flat = {.kind = FLAT, .base = 600 * MIB};
        run_step(&flat, 24, LIMIT, -1, -1, steps[i], &o);
        assert_true(o.first_risk_h < 0);
        assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    }
}

static void test_risk_warmup_clears(void **state)
{
    (void)state;
    /* fast warm-up in a 256 MiB container: 5% -> 30% of the limit with a
     * 1 min time constant (level after ~5 min), sampled every second,
     * watched 40 min: level before there are 5 min of data, so no risk
     * and never a leak */
    const int64_t lim = (int64_t)(256 * MIB);
    shape w = {.kind = WARMUP, .base = 12.8 * MIB, .a = 64 * MIB, .b = 60};
    run_out o;
    run_step(&w, 40.0 / 60, lim, -1, -1, 1, &o);
    assert_true(o.first_leak_h < 0);
    assert_true(o.first_risk_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    /* slower: 8 min time constant to 60% of the limit. At 5 min it still
     * climbs ~25 MiB/min towards a limit ~140 MiB away: oom_risk is right
     * then, whatever the cause; it clears once the rate drops (before
     * 25 min) and the verdict never says leak */
    shape w8 = {.kind = WARMUP, .base = 12.8 * MIB, .a = 154 * MIB, .b = 480};
    run_step(&w8, 60.0 / 60, lim, -1, -1, 1, &o);
    assert_true(o.first_risk_h > 0 && o.first_risk_h * 60 < 8);
    assert_true(o.risk_off_h > 0 && o.risk_off_h * 60 < 25);
    assert_false(o.last.risk.active);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
}

/* Issue 11 (a): a flat GC sawtooth with a 30 min period after 20 flat
 * hours: one rising phase looks like a fast leak to a short window, but
 * the level it reaches was visited every cycle before: never leak, and
 * oom_risk at most during the first cycles (no history yet). */
static void test_late_sawtooth_never(void **state)
{
    (void)state;
    const int64_t lim = (int64_t)(2.9 * GIB);
    shape saw = {.kind = LATE_SAW, .base = 1.2 * GIB, .a = 361 * MIB,
                 .b = 1800, .c = 0};
    run_out o;
    run(&saw, 26, lim, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    assert_true(o.risk_spells <= 2);
    assert_true(o.risk_off_h < 1.5);
    assert_false(o.last.risk.active);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    /* the same sawtooth starting after 20 flat hours */
    saw.c = 20;
    run(&saw, 26, lim, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    /* the first cycles above 20 h of history may raise it; none later */
    assert_true(o.risk_spells <= 3);
    assert_true(o.risk_off_h < 21.5);
    assert_false(o.last.risk.active);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
}

/* Issue 11 (b): a cache filling linearly to its cap, and a plateau that
 * must be followed: the leak verdict (right while it climbs 3 h towards
 * the limit) and oom_risk leave within 15 min of the cap; a cache that
 * caps within the first hour is never a leak. */
static void test_capped_cache_clears(void **state)
{
    (void)state;
    const int64_t lim = (int64_t)(2.9 * GIB);
    /* +700 MiB at 175 MiB/h: caps at 4 h (a leak by then: 3 h of
     * straight rise towards the limit) */
    shape c3 = {.kind = CAP_LINEAR, .base = 1.2 * GIB, .rate = 175 * MIB / H,
                .a = 700 * MIB};
    run_out o;
    run(&c3, 8, lim, -1, -1, &o);
    assert_true(o.first_leak_h > 3.0 && o.first_leak_h < 4.0);
    assert_true(o.leak_off_h > 4.0 && o.leak_off_h <= 4.25);
    assert_true(o.risk_off_h < 0 || o.risk_off_h <= 4.25);
    assert_false(o.last.risk.active);
    /* cleared by the plateau, never raised again */
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
    /* like redis with maxmemory: +256 MiB at 660 MiB/h from the start in
     * a 1 GiB limit (caps at 23 min): oom_risk while it climbs, cleared
     * within 15 min of the cap, never a leak */
    shape redis = {.kind = CAP_LINEAR, .base = 3 * MIB, .rate = 660 * MIB / H,
                   .a = 256 * MIB};
    run_step(&redis, 1, (int64_t)GIB, -1, -1, 2, &o);
    assert_true(o.first_risk_h > 0 && o.first_risk_h < 0.2);
    assert_true(o.risk_off_h > 23.0 / 60 && o.risk_off_h <= 38.0 / 60);
    assert_true(o.first_leak_h < 0);
    assert_true(o.last.verdict != MV_LEAK_LEAK);
    /* sampled every 5 minutes: +900 MiB at 300 MiB/h from 600 MiB in 2 GiB
     * (caps at 3 h, the limit ~4.8 h away while it climbs): oom_risk,
     * cleared within 15 min of the cap (3 samples; the climbing test
     * looks back one 10-min bucket there, not two) */
    shape coarse = {.kind = CAP_LINEAR, .base = 600 * MIB, .rate = 300 * MIB / H,
                    .a = 900 * MIB};
    run_step(&coarse, 6, LIMIT, -1, -1, 300, &o);
    assert_true(o.first_risk_h > 0 && o.first_risk_h < 2.5);
    assert_true(o.risk_off_h > 3.0 && o.risk_off_h <= 3.25);
    assert_false(o.last.risk.active);
}

/* Issue 11 (c, d): a warm-up with a 60 min time constant, and batch jobs
 * ramping over 20 min to +150%, holding 20 min, every 4 h: never leak. */
static void test_slow_warmup_and_batches_never(void **state)
{
    (void)state;
    const int64_t lim = (int64_t)(2.9 * GIB);
    shape w = {.kind = WARMUP, .base = 1.2 * GIB, .a = 0.85 * GIB, .b = 3600};
    run_out o;
    run(&w, 10, lim, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    assert_false(o.last.risk.active);
    shape b = {.kind = RAMP, .base = 0.6 * GIB, .a = 0.9 * GIB, .b = 1200,
               .c = 4 * H};
    run(&b, 24, lim, -1, -1, &o);
    assert_true(o.first_leak_h < 0);
    assert_false(o.last.risk.active);
}

/* Issue 11 (e): 20 steps of 3% of the headroom at Poisson-like times
 * (mean gap 40 min) are a leak, flagged before the limit is half used. */
/* A staircase is flat between its steps, so the floor's rate is zero
 * there: the oom_risk claim stands on the staircase's pace instead, and
 * clears once the steps stop (overdue: 1.5 x the interval). */
static void test_risk_staircase(void **state)
{
    (void)state;
    /* +300 MiB every 2 h from 600 MiB, 2 GiB limit, steps until 8.5 h:
     * at the second step (4 h, 1200 MiB; the data start to the first step
     * is the first interval) the pace, 150 MiB/h, reaches the limit in
     * ~5.7 h, within the horizon; between steps the hour's rate is zero.
     * The default leak patience (19 h) keeps `leak` away. */
    shape s = {.kind = STAIRS, .base = 600 * MIB, .a = 300 * MIB, .b = 2 * H,
               .c = 8.5 * H};
    run_out o;
    run_cfg(&s, 7.5, LIMIT, -1, -1, 10, 0, &o);
    assert_true(o.first_risk_h >= 4.0 && o.first_risk_h < 4.5);
    assert_true(o.last.risk.active); /* 1.5 h after the step: still on */
    assert_true(o.first_leak_h < 0);
    assert_non_null(strstr(o.last.risk.evidence, "climbs in steps"));
    assert_true(o.last.risk.growth_bytes_per_h > 0.9 * 150 * MIB &&
                o.last.risk.growth_bytes_per_h < 1.1 * 150 * MIB);
    /* ~548 MiB left at 150 MiB/h */
    assert_true(o.last.risk.eta_s > 3.0 * H && o.last.risk.eta_s < 4.0 * H);
    /* the steps stop after 8 h: cleared 3 h later, not raised again */
    run_cfg(&s, 14, LIMIT, -1, -1, 10, 0, &o);
    assert_int_equal(o.risk_spells, 1);
    assert_false(o.last.risk.active);
    assert_true(o.risk_off_h >= 11.0 && o.risk_off_h < 11.6);
    /* the same steps with 12 GiB of headroom: the limit is days away at
     * this pace, no risk */
    run_cfg(&s, 8, (int64_t)(14 * GIB), -1, -1, 10, 0, &o);
    assert_true(o.first_risk_h < 0);
}

static void test_poisson_steps_leak(void **state)
{
    (void)state;
    const int64_t lim = (int64_t)(2.9 * GIB);
    shape p = {.kind = POISSON, .base = 1.2 * GIB,
               .rate = 0.03 * (2.9 - 1.2) * GIB};
    run_out o;
    run(&p, 9, lim, -1, -1, &o);
    assert_true(o.first_leak_h > 0 && o.first_leak_h < 5.0);
}

/* A default detector judging against limit (for the tests that drive the
 * ticks themselves). */
static mv__leak_detector *detector_for(int64_t limit)
{
    mv__leak_cfg cfg;
    mv__leak_cfg_init(&cfg);
    cfg.limit_bytes = limit;
    cfg.min_rise_ms = SHAPE_PATIENCE_MS;
    mv__leak_detector *d = mv__leak_new(&cfg);
    assert_non_null(d);
    return d;
}

/* A new limit is quoted at the next evaluation, not after the windows'
 * next turn (up to W/30: hours for the long ones). */
static void test_set_limit_applies_at_once(void **state)
{
    (void)state;
    mv__series *ser = mv__series_new_default();
    mv__leak_detector *d = detector_for(LIMIT);
    mv__leak_result r;
    shape s = {.kind = LINEAR, .base = 600 * MIB, .rate = 140 * MIB / H};
    uint64_t st = 42;
    int64_t ms = 0;
    for (double t = 0; t <= 5 * H; t += 10) {
        ms = 1000000 + (int64_t)(t * 1000);
        mv__series_push(ser, ms, value(&s, t, &st));
        mv__leak_tick(d, ser, ms, 0, &r);
    }
    assert_int_equal(r.verdict, MV_LEAK_LEAK);
    /* at 5 h: ~1300 MiB, ~750 MiB left at 140 MiB/h: ~5.3 h */
    assert_true(r.eta_s > 4.5 * H && r.eta_s < 6 * H);
    /* twice the limit: ~2800 MiB left, ~20 h; told at the next tick */
    mv__leak_set_limit(d, 2 * LIMIT);
    ms += 10000;
    mv__series_push(ser, ms, value(&s, 5 * H + 10, &st));
    mv__leak_tick(d, ser, ms, 0, &r);
    assert_true(r.eta_s > 17 * H && r.eta_s < 23 * H);
    assert_non_null(strstr(r.evidence, "4.0 GiB limit"));
    mv__leak_free(d);
    mv__series_free(ser);
}

/* After a plateau clears the verdict, a drop far below it (a restart)
 * lifts the plateau: a new rise is judged, and the sentence no longer
 * says the series "stays at its peak". */
/* Leak patience (mv__leak_cfg.min_rise_ms): a rise must be that old
 * before `leak`. A shorter setting calls a steady leak sooner; the default
 * waits for it, and outwaits a cache filling linearly for 10 h to its cap,
 * which a 3 h patience calls a leak. */
static void test_patience_setting(void **state)
{
    (void)state;
    const double def_h = (double)MV_LEAK_MIN_RISE_MS / 3600000.0;
    run_out fast, dflt;
    /* 300 MiB -> 2 GiB at 40 MiB/h: ~44 h to the limit */
    shape s = {.kind = LINEAR, .base = 300 * MIB, .rate = 40 * MIB / H};
    run_cfg(&s, def_h + 4, LIMIT, -1, -1, 10, (int64_t)(2 * H * 1000), &fast);
    run_cfg(&s, def_h + 4, LIMIT, -1, -1, 10, 0, &dflt);
    assert_true(fast.first_leak_h >= 2.0 && fast.first_leak_h < 7.0);
    print_message("patience 2 h: leak at %.2f h; default %.0f h: at %.2f h\n",
                  fast.first_leak_h, def_h, dflt.first_leak_h);
    assert_true(dflt.first_leak_h >= def_h && dflt.first_leak_h < def_h + 3);
    assert_true(fast.first_leak_h < dflt.first_leak_h);
    assert_int_equal(dflt.last.verdict, MV_LEAK_LEAK);

    /* +600 MiB at 60 MiB/h from the start: capped at 10 h */
    shape c = {.kind = CAP_LINEAR, .base = 400 * MIB, .rate = 60 * MIB / H,
               .a = 600 * MIB};
    run_cfg(&c, 20, LIMIT, -1, -1, 10, 0, &dflt);
    assert_true(dflt.first_leak_h < 0);
    assert_int_equal(dflt.last.verdict, MV_LEAK_NO_LEAK);
    run_cfg(&c, 20, LIMIT, -1, -1, 10, (int64_t)(3 * H * 1000), &fast);
    assert_true(fast.first_leak_h >= 3.0 && fast.first_leak_h < 10.0);
}

/* Near the limit the patience gives way: a leak that reaches its limit
 * before its rise is as old as the patience gets oom_risk (the page) hours
 * before the limit, and `leak` (the ticket) once its floor has used
 * MV_LEAK_ROOM_USED_LEAK of the room between its lowest level and the
 * limit, with the evidence saying so; a fill that caps at 85% of the room
 * is never a leak, nor one capping at 75% under a sawtooth whose peaks
 * reach 99% of the room (the floor's room counts, not the peaks'). */
static void test_near_limit_leak(void **state)
{
    (void)state;
    const double def_h = (double)MV_LEAK_MIN_RISE_MS / 3600000.0;
    const double t_h = 0.8 * def_h; /* 600 MiB -> 2 GiB in t_h */
    const double room = 2 * GIB - 600 * MIB;
    shape s = {.kind = LINEAR, .base = 600 * MIB, .rate = room / (t_h * H)};
    run_out o;
    run_cfg(&s, t_h - 0.1, LIMIT, -1, -1, 10, 0, &o);
    print_message("linear to the limit in %.1f h: oom_risk at %.2f h, leak at "
                  "%.2f h\n", t_h, o.first_risk_h, o.first_leak_h);
    assert_true(o.first_risk_h > 0 && t_h - o.first_risk_h > 5.0);
    assert_true(o.first_leak_h >= 0.88 * t_h && o.first_leak_h < t_h - 0.1);
    assert_true(o.last.risk.active);
    assert_int_equal(o.last.verdict, MV_LEAK_LEAK);
    assert_non_null(strstr(o.last.evidence, "of the room between its lowest "
                                            "level and the limit"));

    /* the same pace, capped at 85% of the room: a cache, never a leak */
    shape c = {.kind = CAP_LINEAR, .base = 600 * MIB, .rate = s.rate,
               .a = 0.85 * room};
    run_cfg(&c, t_h + 4, LIMIT, -1, -1, 10, 0, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);

    /* capped at 93% of the room after a 10 h fill, past the threshold:
     * `leak` while it fills, cleared by the plateau rule within 20
     * minutes of the cap (no new high for 10 min or twice the recent
     * waits between highs), never raised again (without the near-limit
     * climb test a 4 h window voted again an hour after the cap) */
    shape c93 = {.kind = CAP_LINEAR, .base = 600 * MIB,
                 .rate = 0.93 * room / (10 * H), .a = 0.93 * room};
    run_cfg(&c93, 30, LIMIT, -1, -1, 30, 0, &o);
    print_message("capped at 93%% at 10 h: leak %d time(s), the last at "
                  "%.2f h, cleared at %.2f h\n", o.leak_spells,
                  o.last_leak_on_h, o.leak_off_h);
    assert_int_equal(o.leak_spells, 1);
    assert_true(o.last_leak_on_h < 10.0);
    assert_true(o.leak_off_h > 10.0 && o.leak_off_h < 10.0 + 1.0 / 3);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);

    /* a daily batch job: an 8 h ramp to 92% of the room, an hour's hold,
     * then back; five days. The first day has no history to tell it from a
     * leak; every later day is no higher than the first */
    shape b = {.kind = RAMP_HOLD, .base = 600 * MIB, .a = 0.92 * room,
               .b = 8 * H, .c = 1 * H};
    run_cfg(&b, 5 * 24, LIMIT, -1, -1, 30, 0, &o);
    print_message("daily ramp to 92%%: leak %d time(s), the last at %.2f h\n",
                  o.leak_spells, o.last_leak_on_h);
    assert_true(o.leak_spells <= 1);
    assert_true(o.last_leak_on_h < 9.0);

    /* capped at 75% of the room under a 20-minute sawtooth of 24% of it */
    shape w = {.kind = CAP_SAW, .base = 600 * MIB, .rate = s.rate,
               .a = 0.75 * room, .b = 20 * 60, .c = 0.24 * room};
    run_cfg(&w, t_h + 4, LIMIT, -1, -1, 10, 0, &o);
    assert_true(o.first_leak_h < 0);
    assert_int_equal(o.last.verdict, MV_LEAK_NO_LEAK);
}

/* A long climb that turns at its top (a random walk's excursion): the
 * leak vote a window casts near the top must see the floor go on rising
 * while it holds. 19.5 h at 80 MiB/h after 30 flat hours (top 2.12 GiB,
 * under the 2.4 GiB limit), then a slow decline: never leak (without the
 * rule: leak 2.5 h into the decline, with this noise seed; some seeds'
 * windows stop voting before); the same climb lasting 21 h: leak while it
 * still climbs. */
static void test_turning_climb_never(void **state)
{
    (void)state;
    const int64_t limit = (int64_t)(2.4 * GIB);
    shape turn = {EXCURSION, 0.6 * GIB, 80 * MIB / H, 0.3, 19.5, 30};
    run_out o;
    run_cfg(&turn, 30 + 19.5 + 12, limit, -1, -1, 30, 0, &o);
    assert_true(o.first_leak_h < 0);
    shape longer = turn;
    longer.b = 21;
    run_cfg(&longer, 30 + 21 + 12, limit, -1, -1, 30, 0, &o);
    assert_true(o.first_leak_h >= 49.5 && o.first_leak_h <= 51.0);
}

static void test_plateau_lifted_by_drop(void **state)
{
    (void)state;
    mv__series *ser = mv__series_new_default();
    mv__leak_detector *d = detector_for(LIMIT);
    mv__leak_result r;
    uint64_t st = 7;
    int saw_plateau = 0;
    for (double t = 0; t <= 30 * H; t += 10) {
        double v;
        if (t < 9 * H)          /* 100 MiB/h for 9 h, then level */
            v = 500 * MIB + 100 * MIB / H * t;
        else if (t < 12 * H)
            v = 1400 * MIB;
        else                    /* restart at 500 MiB, 60 MiB/h */
            v = 500 * MIB + 60 * MIB / H * (t - 12 * H);
        v += 2.0 * MIB * noise(&st);
        int64_t ms = 1000000 + (int64_t)(t * 1000);
        mv__series_push(ser, ms, v);
        mv__leak_tick(d, ser, ms, 0, &r);
        if (r.reason == MV_LEAK_R_PLATEAU && t < 12 * H)
            saw_plateau = 1;
        if (t > 13 * H)
            assert_int_not_equal(r.reason, MV_LEAK_R_PLATEAU);
    }
    assert_true(saw_plateau);
    mv__leak_free(d);
    mv__series_free(ser);
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
        cmocka_unit_test(test_risk_staircase),
        cmocka_unit_test(test_history_short),
        cmocka_unit_test(test_phase_holds),
        cmocka_unit_test(test_unknown_limit),
        cmocka_unit_test(test_risk_young_process),
        cmocka_unit_test(test_risk_fast_leak),
        cmocka_unit_test(test_risk_coarse_sampling),
        cmocka_unit_test(test_risk_warmup_clears),
        cmocka_unit_test(test_late_sawtooth_never),
        cmocka_unit_test(test_capped_cache_clears),
        cmocka_unit_test(test_slow_warmup_and_batches_never),
        cmocka_unit_test(test_poisson_steps_leak),
        cmocka_unit_test(test_set_limit_applies_at_once),
        cmocka_unit_test(test_plateau_lifted_by_drop),
        cmocka_unit_test(test_turning_climb_never),
        cmocka_unit_test(test_patience_setting),
        cmocka_unit_test(test_near_limit_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
