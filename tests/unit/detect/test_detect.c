/*
 * test_detect.c — the detectors: levels (hysteresis, minimum duration, no
 * flapping, single reports), Theil–Sen (exact lines, outliers, confidence
 * ranks, subsampling, bad input), growth of synthetic series (linear with
 * noise, GC sawtooth, sawtooth on a leak, spikes, too little data) and time
 * to limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define MIB (1024.0 * 1024.0)

/* |a - b| <= eps, printing both values on failure (cmocka 1.1 has no
 * double comparison with a tolerance). */
static void near_at(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (eps %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#define assert_near(a, b, eps) near_at((a), (b), (eps), __FILE__, __LINE__)

/* Deterministic noise: xorshift64*, uniform in [-1, 1). */
static double noise(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 4503599627370496.0 - 1.0;
}

/* ---- levels ---- */

static const mv__level_cfg LCFG = {0.80, 0.90, 0.05, 10000};

typedef struct level_log {
    int changes;
    mv_level from[16], to[16];
    int64_t at[16];
} level_log;

static void feed(mv__level_state *st, const mv__level_cfg *cfg, double r,
                 int64_t now, level_log *log)
{
    mv_level prev = (mv_level)-1;
    if (mv__level_update(st, cfg, r, now, &prev)) {
        assert_int_not_equal(prev, st->level);
        if (log->changes < 16) {
            log->from[log->changes] = prev;
            log->to[log->changes] = st->level;
            log->at[log->changes] = now;
        }
        log->changes++;
    }
}

static void test_level_first_observation(void **state)
{
    (void)state;
    mv__level_state st;
    mv_level prev = MV_LEVEL_WARNING;
    mv__level_init(&st);
    assert_int_equal(mv__level_update(&st, &LCFG, 0.95, 0, &prev), 1);
    assert_int_equal(st.level, MV_LEVEL_CRITICAL);
    assert_int_equal(prev, MV_LEVEL_OK);

    mv__level_init(&st);
    assert_int_equal(mv__level_update(&st, &LCFG, NAN, 0, &prev), 0);
    assert_int_equal(st.initialised, 0);
    assert_int_equal(mv__level_update(&st, &LCFG, 0.5, 0, &prev), 0);
    assert_int_equal(st.level, MV_LEVEL_OK);
    assert_int_equal(mv__level_update(&st, NULL, 0.95, 0, &prev), 0);
    assert_int_equal(mv__level_update(NULL, &LCFG, 0.95, 0, &prev), 0);

    mv__level_init(&st);
    assert_int_equal(mv__level_update(&st, &LCFG, 0.85, 0, NULL), 1);
    assert_int_equal(st.level, MV_LEVEL_WARNING);
}

static void test_level_no_flapping(void **state)
{
    (void)state;
    mv__level_state st;
    level_log log;
    /* fast alternation 0.78 / 0.82 every second: never 10 s above */
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    for (int i = 0; i < 600; i++)
        feed(&st, &LCFG, (i % 2) ? 0.82 : 0.78, i * 1000LL, &log);
    assert_int_equal(log.changes, 0);
    assert_int_equal(st.level, MV_LEVEL_OK);

    /* slow oscillation 0.80 +- 0.02, period 60 s: above for ~30 s, so
     * warning is entered once and hysteresis holds it */
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    for (int i = 0; i < 1200; i++) {
        double r = 0.80 - 0.02 * cos(2 * M_PI * i / 60.0);
        feed(&st, &LCFG, r, i * 1000LL, &log);
    }
    assert_int_equal(log.changes, 1);
    assert_int_equal(log.from[0], MV_LEVEL_OK);
    assert_int_equal(log.to[0], MV_LEVEL_WARNING);
    assert_int_equal(st.level, MV_LEVEL_WARNING);
}

static void test_level_transitions_once(void **state)
{
    (void)state;
    mv__level_state st;
    level_log log;
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    int64_t t = 0;
    /* 0.5 for 60 s, ramp to 0.95 over 90 s, hold 60 s, ramp down, hold */
    for (int i = 0; i < 60; i++, t += 1000)
        feed(&st, &LCFG, 0.5, t, &log);
    for (int i = 0; i <= 90; i++, t += 1000)
        feed(&st, &LCFG, 0.5 + 0.45 * i / 90.0, t, &log);
    for (int i = 0; i < 60; i++, t += 1000)
        feed(&st, &LCFG, 0.95, t, &log);
    for (int i = 0; i <= 90; i++, t += 1000)
        feed(&st, &LCFG, 0.95 - 0.45 * i / 90.0, t, &log);
    for (int i = 0; i < 60; i++, t += 1000)
        feed(&st, &LCFG, 0.5, t, &log);
    assert_int_equal(log.changes, 4);
    assert_int_equal(log.to[0], MV_LEVEL_WARNING);
    assert_int_equal(log.to[1], MV_LEVEL_CRITICAL);
    assert_int_equal(log.to[2], MV_LEVEL_WARNING);
    assert_int_equal(log.to[3], MV_LEVEL_OK);
    /* ratio reaches 0.80 at i = 60 of the ramp: t = 120 s; +10 s */
    assert_int_equal(log.at[0], 130000);
    /* 0.90 at i = 80: t = 140 s; +10 s */
    assert_int_equal(log.at[1], 150000);
    /* down ramp starts at t = 211 s; below 0.85 at i > 20 (t = 232 s) */
    assert_int_equal(log.at[2], 242000);
    /* below 0.75 at i > 40 (t = 252 s) */
    assert_int_equal(log.at[3], 262000);
}

static void test_level_short_spike_ignored(void **state)
{
    (void)state;
    mv__level_state st;
    level_log log;
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    for (int i = 0; i < 100; i++) {
        double r = (i >= 50 && i < 55) ? 0.97 : 0.5;
        feed(&st, &LCFG, r, i * 1000LL, &log);
    }
    assert_int_equal(log.changes, 0);
    assert_int_equal(st.level, MV_LEVEL_OK);
}

static void test_level_direct_to_critical(void **state)
{
    (void)state;
    mv__level_state st;
    level_log log;
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    for (int i = 0; i < 100; i++)
        feed(&st, &LCFG, i < 20 ? 0.3 : 0.96, i * 1000LL, &log);
    assert_int_equal(log.changes, 1);
    assert_int_equal(log.from[0], MV_LEVEL_OK);
    assert_int_equal(log.to[0], MV_LEVEL_CRITICAL);
    assert_int_equal(log.at[0], 30000);
}

static void test_level_mixed_candidates(void **state)
{
    (void)state;
    mv__level_state st;
    level_log log;
    /* warning 7 s then a critical spike of 4 s: warning after 10 s */
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    feed(&st, &LCFG, 0.5, 0, &log);
    for (int i = 1; i <= 11; i++)
        feed(&st, &LCFG, i <= 7 ? 0.85 : 0.95, i * 1000LL, &log);
    assert_int_equal(log.changes, 1);
    assert_int_equal(log.to[0], MV_LEVEL_WARNING);
    assert_int_equal(log.at[0], 11000);

    /* alternating 0.88 / 0.91: always >= warning, never critical long */
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    feed(&st, &LCFG, 0.5, 0, &log);
    for (int i = 1; i <= 100; i++)
        feed(&st, &LCFG, (i % 2) ? 0.88 : 0.91, i * 1000LL, &log);
    assert_int_equal(log.changes, 1);
    assert_int_equal(log.to[0], MV_LEVEL_WARNING);

    /* hysteresis: critical holds at 0.86, leaves to warning at 0.84 */
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    feed(&st, &LCFG, 0.95, 0, &log);
    for (int i = 1; i <= 60; i++)
        feed(&st, &LCFG, 0.86, i * 1000LL, &log);
    assert_int_equal(st.level, MV_LEVEL_CRITICAL);
    for (int i = 61; i <= 100; i++)
        feed(&st, &LCFG, 0.84, i * 1000LL, &log);
    assert_int_equal(st.level, MV_LEVEL_WARNING);
    assert_int_equal(log.changes, 2);
    assert_int_equal(log.at[1], 71000);

    /* min_duration 0: immediate */
    mv__level_cfg c0 = LCFG;
    c0.min_duration_ms = 0;
    mv__level_init(&st);
    memset(&log, 0, sizeof(log));
    feed(&st, &c0, 0.5, 0, &log);
    feed(&st, &c0, 0.81, 1, &log);
    assert_int_equal(st.level, MV_LEVEL_WARNING);
    feed(&st, &c0, NAN, 2, &log);
    assert_int_equal(st.level, MV_LEVEL_WARNING);
    feed(&st, &c0, 0.7, 3, &log);
    assert_int_equal(st.level, MV_LEVEL_OK);
    assert_int_equal(log.changes, 2);
}

/* ---- Theil–Sen ---- */

static void test_theil_sen_exact(void **state)
{
    (void)state;
    double t[20], v[20];
    for (int i = 0; i < 20; i++) {
        t[i] = i * 0.5;
        v[i] = 3.0 * t[i] + 2.0;
    }
    mv__slope s;
    assert_int_equal(mv__theil_sen(t, v, 20, &s), 0);
    assert_near(s.slope, 3.0, 1e-12);
    assert_near(s.intercept, 2.0, 1e-12);
    assert_near(s.lo, 3.0, 1e-12);
    assert_near(s.hi, 3.0, 1e-12);
    assert_near(s.tau, 1.0, 1e-12);
    assert_int_equal(s.n, 20);

    for (int i = 0; i < 20; i++)
        v[i] = -t[i];
    assert_int_equal(mv__theil_sen(t, v, 20, &s), 0);
    assert_near(s.slope, -1.0, 1e-12);
    assert_near(s.tau, -1.0, 1e-12);
}

static void test_theil_sen_outliers(void **state)
{
    (void)state;
    double t[50], v[50];
    for (int i = 0; i < 50; i++) {
        t[i] = i;
        v[i] = 10.0 * i + ((i % 7 == 3) ? 5000.0 : 0.0); /* 7 wild points */
    }
    mv__slope s;
    assert_int_equal(mv__theil_sen(t, v, 50, &s), 0);
    assert_near(s.slope, 10.0, 1e-9);
    assert_near(s.intercept, 0.0, 1e-9);
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_theil_sen_bounds(void **state)
{
    (void)state;
    /* n = 10, N = 45: var = 10*9*25/18 = 125, C = 21.91, M1 = 11.54 -> 11,
     * M2 = 33.45 -> 34: bounds are the 11th and 35th smallest slopes */
    double t[10], v[10], sl[45];
    uint64_t rs = 42;
    for (int i = 0; i < 10; i++) {
        t[i] = i;
        v[i] = 2.0 * i + 3.0 * noise(&rs);
    }
    size_t k = 0;
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++)
            sl[k++] = (v[j] - v[i]) / (t[j] - t[i]);
    qsort(sl, 45, sizeof(double), cmpd);
    mv__slope s;
    assert_int_equal(mv__theil_sen(t, v, 10, &s), 0);
    assert_true(s.slope == sl[22]);
    assert_true(s.lo == sl[10]);
    assert_true(s.hi == sl[34]);
    assert_true(s.lo <= s.slope && s.slope <= s.hi);

    /* noisy line, 60 points: the interval holds the true slope */
    double t2[60], v2[60];
    for (int i = 0; i < 60; i++) {
        t2[i] = i;
        v2[i] = 5.0 * i + 20.0 * noise(&rs);
    }
    assert_int_equal(mv__theil_sen(t2, v2, 60, &s), 0);
    assert_true(s.lo < 5.0 && 5.0 < s.hi);
    assert_true(s.hi - s.lo < 2.0);
    assert_true(s.tau > 0.8);

    /* n = 3: the interval spans every slope */
    double t3[3] = {0, 1, 2}, v3[3] = {0, 1, 5};
    assert_int_equal(mv__theil_sen(t3, v3, 3, &s), 0);
    assert_near(s.slope, 2.5, 1e-12);
    assert_near(s.lo, 1.0, 1e-12);
    assert_near(s.hi, 4.0, 1e-12);
}

static void test_theil_sen_bad_input(void **state)
{
    (void)state;
    double t[4] = {0, 1, 2, 3}, v[4] = {0, 1, 2, 3};
    mv__slope s;
    assert_int_equal(mv__theil_sen(t, v, 2, &s), -EINVAL);
    assert_int_equal(mv__theil_sen(NULL, v, 4, &s), -EINVAL);
    assert_int_equal(mv__theil_sen(t, NULL, 4, &s), -EINVAL);
    assert_int_equal(mv__theil_sen(t, v, 4, NULL), -EINVAL);
    v[2] = NAN;
    assert_int_equal(mv__theil_sen(t, v, 4, &s), -EINVAL);
    v[2] = 2;
    t[1] = INFINITY;
    assert_int_equal(mv__theil_sen(t, v, 4, &s), -EINVAL);
    double tt[4] = {5, 5, 5, 5};
    assert_int_equal(mv__theil_sen(tt, v, 4, &s), -EINVAL);
    /* unsorted times and a tie are fine */
    double tu[4] = {3, 1, 1, 0}, vu[4] = {6, 2, 2, 0};
    assert_int_equal(mv__theil_sen(tu, vu, 4, &s), 0);
    assert_near(s.slope, 2.0, 1e-12);
}

static void test_theil_sen_subsample(void **state)
{
    (void)state;
    size_t n = 5000;
    double *t = malloc(n * sizeof(double)), *v = malloc(n * sizeof(double));
    assert_non_null(t);
    assert_non_null(v);
    uint64_t rs = 7;
    for (size_t i = 0; i < n; i++) {
        t[i] = i * 0.1;
        v[i] = 7.0 * t[i] + 100.0 + noise(&rs);
    }
    mv__slope a, b;
    assert_int_equal(mv__theil_sen(t, v, n, &a), 0);
    assert_int_equal(a.n, 512);
    assert_true(fabs(a.slope - 7.0) < 0.01);
    assert_true(fabs(a.intercept - 100.0) < 0.2);
    assert_true(a.lo <= 7.0 && 7.0 <= a.hi);
    assert_int_equal(mv__theil_sen(t, v, n, &b), 0);
    /* deterministic */
    assert_true(a.slope == b.slope && a.intercept == b.intercept);
    assert_true(a.lo == b.lo && a.hi == b.hi && a.tau == b.tau);
    free(t);
    free(v);
}

/* ---- growth ---- */

static mv__series *big_series(void)
{
    return mv__series_new(8192, 0, NULL, NULL);
}

static void test_growth_linear_noise(void **state)
{
    (void)state;
    mv__series *s = big_series();
    assert_non_null(s);
    uint64_t rs = 1;
    int64_t t0 = 1700000000000LL;
    for (int i = 0; i < 1200; i++)
        assert_int_equal(mv__series_push(s, t0 + i * 1000LL,
                                          2000 * MIB + i * MIB + 20 * MIB * noise(&rs)), 0);
    int64_t now = t0 + 1199 * 1000LL;
    mv__growth g;
    assert_int_equal(mv__growth_estimate(s, now, 1200 * 1000LL, 0, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_true(fabs(g.bytes_per_s - MIB) < 0.05 * MIB);
    assert_true(g.lo_bytes_per_s <= g.bytes_per_s);
    assert_true(g.hi_bytes_per_s >= g.bytes_per_s);
    assert_true(g.tau > 0.9);
    assert_true(g.buckets >= 28 && g.buckets <= 30);
    assert_true(g.window_s > 1100 && g.window_s <= 1200);

    /* same input, same answer */
    mv__growth g2;
    assert_int_equal(mv__growth_estimate(s, now, 1200 * 1000LL, 0, &g2), 0);
    assert_int_equal(g.valid, g2.valid);
    assert_true(g.bytes_per_s == g2.bytes_per_s);
    assert_true(g.lo_bytes_per_s == g2.lo_bytes_per_s);
    assert_true(g.hi_bytes_per_s == g2.hi_bytes_per_s);
    assert_true(g.tau == g2.tau);
    assert_true(g.window_s == g2.window_s);
    assert_int_equal(g.buckets, g2.buckets);
    mv__series_free(s);

    /* the default series at 10 s over 2 h (raw) */
    s = mv__series_new_default();
    assert_non_null(s);
    for (int i = 0; i < 720; i++)
        mv__series_push(s, t0 + i * 10000LL, 500 * MIB + i * 10 * MIB +
                                                 50 * MIB * noise(&rs));
    now = t0 + 719 * 10000LL;
    assert_int_equal(mv__growth_estimate(s, now, 3600 * 1000LL, 0, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_true(fabs(g.bytes_per_s - MIB) < 0.05 * MIB);
    mv__series_free(s);
}

/* GC sawtooth: rises `rise` bytes over period_s then drops to the floor. */
static double sawtooth(int i, int period_s, double rise)
{
    return rise * (double)(i % period_s) / (double)period_s;
}

static void test_growth_sawtooth_flat(void **state)
{
    (void)state;
    mv__series *s = big_series();
    assert_non_null(s);
    uint64_t rs = 3;
    const int period = 37;
    const double rise = 100 * MIB, rate = rise / period;
    for (int i = 0; i < 3600; i++)
        mv__series_push(s, i * 1000LL, 1000 * MIB + sawtooth(i, period, rise) +
                                           0.5 * MIB * noise(&rs));
    mv__growth g;
    assert_int_equal(mv__growth_estimate(s, 3599000, 1800 * 1000LL, 0, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_true(fabs(g.bytes_per_s) < 0.02 * rate);
    assert_true(g.lo_bytes_per_s <= 0 && g.hi_bytes_per_s >= 0);
    mv__series_free(s);
}

static void test_growth_sawtooth_leak(void **state)
{
    (void)state;
    const int period = 37;
    const double rise = 100 * MIB;
    const double leak = 0.1 * MIB; /* 3% of the sawtooth's rise rate */
    uint64_t rs = 5;

    mv__series *s = big_series();
    assert_non_null(s);
    for (int i = 0; i < 3600; i++)
        mv__series_push(s, i * 1000LL, 1000 * MIB + leak * i +
                                           sawtooth(i, period, rise) +
                                           0.5 * MIB * noise(&rs));
    mv__growth g;
    assert_int_equal(mv__growth_estimate(s, 3599000, 1800 * 1000LL, 0, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_true(fabs(g.bytes_per_s - leak) < 0.15 * leak);
    assert_true(g.lo_bytes_per_s > 0);
    mv__series_free(s);

    /* default series, 1 s sampling for 3 h: the 2 h window comes from the
     * 1 min tier */
    s = mv__series_new_default();
    assert_non_null(s);
    int64_t t0 = 1700000040000LL;
    for (int i = 0; i < 3 * 3600; i++)
        mv__series_push(s, t0 + i * 1000LL, 1000 * MIB + leak * i +
                                                sawtooth(i, period, rise) +
                                                0.5 * MIB * noise(&rs));
    int64_t now = t0 + (3 * 3600 - 1) * 1000LL;
    assert_int_equal(mv__growth_estimate(s, now, 7200 * 1000LL, 0, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_true(g.buckets >= 29 && g.buckets <= 31);
    assert_true(fabs(g.bytes_per_s - leak) < 0.15 * leak);
    mv__series_free(s);
}

static void test_growth_spike(void **state)
{
    (void)state;
    uint64_t rs = 9;
    mv__growth base, up, down;
    for (int variant = 0; variant < 3; variant++) {
        mv__series *s = big_series();
        assert_non_null(s);
        rs = 9;
        for (int i = 0; i < 1200; i++) {
            double v = 1000 * MIB + i * MIB + 5 * MIB * noise(&rs);
            if (i == 700 && variant == 1)
                v += 4096 * MIB; /* a burst */
            if (i == 700 && variant == 2)
                v = 10 * MIB; /* a glitch to near zero */
            mv__series_push(s, i * 1000LL, v);
        }
        mv__growth *g = variant == 0 ? &base : variant == 1 ? &up : &down;
        assert_int_equal(mv__growth_estimate(s, 1199000, 1200000, 0, g), 0);
        assert_int_equal(g->valid, 1);
        mv__series_free(s);
    }
    assert_true(fabs(base.bytes_per_s - MIB) < 0.05 * MIB);
    assert_true(up.bytes_per_s == base.bytes_per_s); /* minima unchanged */
    assert_true(fabs(down.bytes_per_s - base.bytes_per_s) < 0.02 * MIB);
}

static void test_growth_not_enough(void **state)
{
    (void)state;
    mv__growth g;
    mv__series *s = big_series();
    assert_non_null(s);
    /* empty */
    assert_int_equal(mv__growth_estimate(s, 100000, 600000, 0, &g), 0);
    assert_int_equal(g.valid, 0);
    assert_true(isnan(g.bytes_per_s));
    assert_int_equal(g.buckets, 0);
    /* three points */
    for (int i = 0; i < 3; i++)
        mv__series_push(s, 100000 + i * 1000LL, i * MIB);
    assert_int_equal(mv__growth_estimate(s, 102000, 600000, 0, &g), 0);
    assert_int_equal(g.valid, 0);
    assert_true(isnan(g.bytes_per_s));
    mv__series_free(s);

    /* 40 s of 1 s data in a 10 min window, 5 s buckets: 8 buckets, but
     * they span < min(300 s, 60 s) */
    s = big_series();
    for (int i = 0; i < 40; i++)
        mv__series_push(s, i * 1000LL, i * MIB);
    assert_int_equal(mv__growth_estimate(s, 39000, 600000, 5000, &g), 0);
    assert_int_equal(g.valid, 0);
    assert_int_equal(g.buckets, 8);
    /* same data, 40 s window: span 39 s >= 20 s: valid */
    assert_int_equal(mv__growth_estimate(s, 39000, 40000, 5000, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_near(g.bytes_per_s, MIB, 1e-6 * MIB);

    /* bad arguments */
    assert_int_equal(mv__growth_estimate(NULL, 0, 1000, 0, &g), -EINVAL);
    assert_int_equal(g.valid, 0);
    assert_int_equal(mv__growth_estimate(s, 0, 0, 0, &g), -EINVAL);
    assert_int_equal(mv__growth_estimate(s, 0, 1000, -1, &g), -EINVAL);
    assert_int_equal(mv__growth_estimate(s, 0, 1000, 0, NULL), -EINVAL);
    /* bucket wider than the window */
    assert_int_equal(mv__growth_estimate(s, 39000, 10000, 20000, &g), 0);
    assert_int_equal(g.valid, 0);
    mv__series_free(s);
}

static void test_growth_tiny_buckets_capped(void **state)
{
    (void)state;
    mv__series *s = big_series();
    assert_non_null(s);
    for (int i = 0; i < 3000; i++)
        mv__series_push(s, i * 1000LL, 2.0 * i);
    mv__growth g;
    /* 1 ms buckets over 3000 s would be 3M buckets: capped at 128 */
    assert_int_equal(mv__growth_estimate(s, 2999000, 3000000, 1, &g), 0);
    assert_int_equal(g.valid, 1);
    assert_true(g.buckets <= 129);
    assert_true(g.buckets >= 120);
    assert_near(g.bytes_per_s, 0.002 * 1000, 0.01);
    mv__series_free(s);
}

/* ---- time to limit ---- */

/* mv__growth_now follows a plateau within minutes: 50 min of 1 MiB/s,
 * then flat. The hour's regression still reads a rise for half an hour;
 * the current rate does not. Young data uses its newer half. */
static void test_growth_now_follows_plateau(void **state)
{
    (void)state;
    mv__series *s = mv__series_new_default();
    assert_non_null(s);
    uint64_t rs = 3;
    int64_t t0 = 1700000000000LL;
    for (int i = 0; i <= 360; i++) { /* every 10 s for 60 min */
        double t = i * 10.0;
        double v = 500 * MIB + fmin(t, 3000.0) * MIB + 2 * MIB * noise(&rs);
        assert_int_equal(mv__series_push(s, t0 + i * 10000LL, v), 0);
    }
    int64_t now = t0 + 3600 * 1000LL;
    mv__growth hour, cur;
    assert_int_equal(mv__growth_estimate(s, now, 3600 * 1000LL, 0, &hour), 0);
    assert_int_equal(hour.valid, 1);
    assert_true(hour.bytes_per_s > 0.5 * MIB); /* still reads the rise */
    assert_int_equal(mv__growth_now(s, now, t0, &cur), 0);
    assert_int_equal(cur.valid, 1);
    assert_true(fabs(cur.bytes_per_s) < 0.02 * MIB); /* the plateau */
    assert_true(cur.window_s <= 600);
    /* while it still rose (at 40 min): the hour's figure, 1 MiB/s */
    assert_int_equal(mv__growth_now(s, t0 + 2400 * 1000LL, t0, &cur), 0);
    assert_int_equal(cur.valid, 1);
    assert_true(fabs(cur.bytes_per_s - MIB) < 0.05 * MIB);
    assert_true(cur.window_s > 2000);
    /* young data (6 min) that levelled off after 2 min: its newer half */
    mv__series_free(s);
    s = mv__series_new_default();
    for (int i = 0; i <= 360; i++) { /* every second */
        double v = 100 * MIB + fmin(i, 120) * MIB;
        mv__series_push(s, t0 + i * 1000LL, v);
    }
    assert_int_equal(mv__growth_now(s, t0 + 360 * 1000LL, t0, &cur), 0);
    assert_int_equal(cur.valid, 1);
    assert_true(fabs(cur.bytes_per_s) < 0.01 * MIB);
    /* bad arguments */
    assert_int_equal(mv__growth_now(NULL, now, t0, &cur), -EINVAL);
    assert_int_equal(cur.valid, 0);
    assert_int_equal(mv__growth_now(s, now, t0, NULL), -EINVAL);
    /* since_ms at or after now: nothing to measure */
    assert_int_equal(mv__growth_now(s, t0, t0, &cur), 0);
    assert_int_equal(cur.valid, 0);
    mv__series_free(s);
}

/* Sampled every 5 minutes (a metrics export, a slow agent), an hour holds
 * too few buckets of two samples for a rate: the window stretches to 24
 * sampling intervals, so the rate is there and right. At 10 s it stays
 * an hour. */
static void test_growth_now_coarse_sampling(void **state)
{
    (void)state;
    mv__series *s = mv__series_new_default();
    assert_non_null(s);
    uint64_t rs = 5;
    int64_t t0 = 1700000000000LL;
    double t = 0;
    int checked = 0;
    while (t < 10 * 3600.0) {
        t += 300.0 * (1.0 + 0.25 * noise(&rs)); /* 225-375 s apart */
        double v = 1000 * MIB + 0.1 * MIB * t + 4 * MIB * noise(&rs);
        int64_t now = t0 + (int64_t)(t * 1000.0);
        assert_int_equal(mv__series_push(s, now, v), 0);
        if (t < 3 * 3600.0)
            continue;
        mv__growth g;
        assert_int_equal(mv__growth_now(s, now, t0, &g), 0);
        assert_int_equal(g.valid, 1);
        assert_true(fabs(g.bytes_per_s - 0.1 * MIB) < 0.1 * 0.1 * MIB);
        assert_true(g.window_s > 1.5 * 3600);
        assert_true(mv__growth_now_window_ms(s, now) >= 24 * 225 * 1000LL);
        checked++;
    }
    assert_true(checked > 70);
    mv__series_free(s);
    s = mv__series_new_default();
    for (int i = 0; i <= 720; i++)
        assert_int_equal(mv__series_push(s, t0 + i * 10000LL, 100 * MIB), 0);
    assert_true(mv__growth_now_window_ms(s, t0 + 7200 * 1000LL) == 3600 * 1000LL);
    mv__series_free(s);
}

static void test_time_to_limit(void **state)
{
    (void)state;
    assert_near(mv__time_to_limit(100, 1100, 10.0), 100.0, 1e-12);
    assert_true(isinf(mv__time_to_limit(100, 1100, 0.0)));
    assert_true(isinf(mv__time_to_limit(100, 1100, -5.0)));
    assert_true(isinf(mv__time_to_limit(100, MV_UNLIMITED, 5.0)));
    assert_true(isinf(mv__time_to_limit(100, MV_NA, 5.0)));
    assert_true(mv__time_to_limit(1100, 1100, 5.0) == 0.0);
    assert_true(mv__time_to_limit(2000, 1100, -5.0) == 0.0);
    assert_true(isnan(mv__time_to_limit(MV_NA, 1100, 5.0)));
    assert_true(isnan(mv__time_to_limit(100, 1100, NAN)));
    assert_true(isnan(mv__time_to_limit(MV_NA, MV_UNLIMITED, NAN)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_first_observation),
        cmocka_unit_test(test_level_no_flapping),
        cmocka_unit_test(test_level_transitions_once),
        cmocka_unit_test(test_level_short_spike_ignored),
        cmocka_unit_test(test_level_direct_to_critical),
        cmocka_unit_test(test_level_mixed_candidates),
        cmocka_unit_test(test_theil_sen_exact),
        cmocka_unit_test(test_theil_sen_outliers),
        cmocka_unit_test(test_theil_sen_bounds),
        cmocka_unit_test(test_theil_sen_bad_input),
        cmocka_unit_test(test_theil_sen_subsample),
        cmocka_unit_test(test_growth_linear_noise),
        cmocka_unit_test(test_growth_sawtooth_flat),
        cmocka_unit_test(test_growth_sawtooth_leak),
        cmocka_unit_test(test_growth_spike),
        cmocka_unit_test(test_growth_not_enough),
        cmocka_unit_test(test_growth_tiny_buckets_capped),
        cmocka_unit_test(test_growth_now_follows_plateau),
        cmocka_unit_test(test_growth_now_coarse_sampling),
        cmocka_unit_test(test_time_to_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
