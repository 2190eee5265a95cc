/*
 * test_series.c — the bounded multi-resolution series: argument checks,
 * ordering rules, raw ring wrap-around, tier aggregation and eviction,
 * windows from raw and from tiers, resolution, footprint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "series.h"

static void test_new_bad_args(void **state)
{
    (void)state;
    int64_t w[2] = {100, 10};
    size_t c[2] = {4, 4};
    assert_null(mv__series_new(0, 0, NULL, NULL));
    assert_null(mv__series_new(10, 2, NULL, NULL));
    assert_null(mv__series_new(10, 2, w, c)); /* widths not increasing */
    assert_null(mv__series_new(10, MV_SERIES_MAX_TIERS + 1, w, c));
    int64_t w0[1] = {0};
    assert_null(mv__series_new(10, 1, w0, c));
    size_t c0[1] = {0};
    assert_null(mv__series_new(10, 1, w, c0));
    mv__series_free(NULL);

    mv__series *s = mv__series_new(10, 0, NULL, NULL);
    assert_non_null(s);
    assert_int_equal(mv__series_ntiers(s), 0);
    assert_int_equal(mv__series_tier_width_ms(s, 0), 0);
    mv__series_free(s);
}

static void test_push_rules(void **state)
{
    (void)state;
    mv__series *s = mv__series_new(8, 0, NULL, NULL);
    assert_non_null(s);
    assert_int_equal(mv__series_push(s, 1000, 1.0), 0);
    assert_int_equal(mv__series_push(s, 999, 2.0), -EINVAL);
    assert_int_equal(mv__series_push(s, 2000, NAN), -EINVAL);
    assert_int_equal(mv__series_push(s, 2000, INFINITY), -EINVAL);
    assert_int_equal(mv__series_push(s, 1000, 3.0), 0); /* same time: ok */
    assert_int_equal(mv__series_push(NULL, 1000, 3.0), -EINVAL);
    assert_int_equal(mv__series_count(s), 2);
    mv__bucket out[8];
    assert_int_equal(mv__series_raw(s, out, 8), 2);
    assert_int_equal(out[0].t_start_ms, 1000);
    assert_true(out[0].min == 1.0);
    assert_true(out[1].last == 3.0);
    assert_int_equal(out[1].n, 1);
    mv__series_free(s);
}

static void test_raw_wrap(void **state)
{
    (void)state;
    mv__series *s = mv__series_new(5, 0, NULL, NULL);
    assert_non_null(s);
    for (int i = 0; i < 8; i++)
        assert_int_equal(mv__series_push(s, i * 10, (double)i), 0);
    assert_int_equal(mv__series_count(s), 8);
    assert_int_equal(mv__series_raw(s, NULL, 0), 5);
    mv__bucket out[5];
    assert_int_equal(mv__series_raw(s, out, 5), 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(out[i].t_start_ms, (i + 3) * 10);
        assert_int_equal(out[i].t_end_ms, (i + 3) * 10);
        assert_true(out[i].min == (double)(i + 3));
        assert_true(out[i].max == (double)(i + 3));
        assert_true(out[i].sum == (double)(i + 3));
    }
    /* fewer than held: the newest, oldest first */
    assert_int_equal(mv__series_raw(s, out, 2), 2);
    assert_int_equal(out[0].t_start_ms, 60);
    assert_int_equal(out[1].t_start_ms, 70);
    mv__series_free(s);
}

static void test_tiers(void **state)
{
    (void)state;
    int64_t w[2] = {10, 100};
    size_t c[2] = {3, 10};
    mv__series *s = mv__series_new(4, 2, w, c);
    assert_non_null(s);
    assert_int_equal(mv__series_ntiers(s), 2);
    assert_int_equal(mv__series_tier_width_ms(s, 1), 100);
    /* points every 2 ms, t = 0..98, v = t except a spike at t = 54 */
    for (int t = 0; t < 100; t += 2)
        assert_int_equal(mv__series_push(s, t, t == 54 ? 1000.0 : (double)t), 0);
    mv__bucket b[16];
    /* tier 0: 10 buckets made, 9 closed; ring of 3 keeps 70..99, open 90.. */
    size_t n = mv__series_tier(s, 0, b, 16);
    assert_int_equal(n, 4);
    assert_int_equal(b[0].t_start_ms, 60);
    assert_int_equal(b[0].t_end_ms, 68);
    assert_int_equal(b[0].n, 5);
    assert_true(b[0].min == 60);
    assert_true(b[0].max == 68);
    assert_true(b[0].sum == 60 + 62 + 64 + 66 + 68);
    assert_true(b[0].last == 68);
    assert_int_equal(b[3].t_start_ms, 90); /* the open bucket */
    assert_int_equal(b[3].t_end_ms, 98);
    /* tier 1: one open bucket holding everything, the spike in max */
    n = mv__series_tier(s, 1, b, 16);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].n, 50);
    assert_true(b[0].min == 0);
    assert_true(b[0].max == 1000);
    assert_true(b[0].last == 98);
    assert_int_equal(mv__series_tier(s, 2, b, 16), 0);
    assert_int_equal(mv__series_tier(s, 0, NULL, 0), 4);
    mv__series_free(s);
}

static void test_negative_times_align(void **state)
{
    (void)state;
    int64_t w[1] = {10};
    size_t c[1] = {8};
    mv__series *s = mv__series_new(4, 1, w, c);
    assert_non_null(s);
    assert_int_equal(mv__series_push(s, -15, 1), 0);
    assert_int_equal(mv__series_push(s, -11, 2), 0);
    assert_int_equal(mv__series_push(s, -10, 3), 0);
    assert_int_equal(mv__series_push(s, -1, 4), 0);
    assert_int_equal(mv__series_push(s, 0, 5), 0);
    mv__bucket b[8];
    assert_int_equal(mv__series_tier(s, 0, b, 8), 3);
    assert_int_equal(b[0].n, 2); /* [-20, -10) */
    assert_int_equal(b[1].n, 2); /* [-10, 0) */
    assert_int_equal(b[2].n, 1); /* [0, 10) */
    mv__series_free(s);
}

static void test_window_raw(void **state)
{
    (void)state;
    mv__series *s = mv__series_new(100, 0, NULL, NULL);
    assert_non_null(s);
    /* 1 s spacing, t = 0..59 s, gap from 20 to 39 s */
    for (int i = 0; i < 60; i++) {
        if (i >= 20 && i < 40)
            continue;
        assert_int_equal(mv__series_push(s, i * 1000, (double)(100 + i)), 0);
    }
    mv__bucket b[16];
    size_t n = mv__series_window(s, 0, 59000, 10000, b, 16);
    assert_int_equal(n, 4); /* the two empty buckets are skipped */
    assert_int_equal(b[0].t_start_ms, 0);
    assert_int_equal(b[0].t_end_ms, 9000);
    assert_int_equal(b[0].n, 10);
    assert_true(b[0].min == 100);
    assert_true(b[0].max == 109);
    assert_true(b[0].last == 109);
    assert_int_equal(b[2].t_start_ms, 40000);
    assert_int_equal(b[3].t_end_ms, 59000);
    /* a point at exactly to_ms joins the last bucket */
    n = mv__series_window(s, 0, 50000, 10000, b, 16);
    assert_int_equal(n, 3);
    assert_int_equal(b[2].n, 11);
    assert_int_equal(b[2].t_end_ms, 50000);
    /* sub-range */
    n = mv__series_window(s, 5000, 14000, 5000, b, 16);
    assert_int_equal(n, 2);
    assert_int_equal(b[0].t_start_ms, 5000);
    assert_int_equal(b[1].t_end_ms, 14000);
    /* out too small keeps the oldest */
    n = mv__series_window(s, 0, 59000, 10000, b, 2);
    assert_int_equal(n, 2);
    assert_int_equal(b[1].t_start_ms, 10000);
    /* bad arguments */
    assert_int_equal(mv__series_window(s, 0, 59000, 0, b, 16), 0);
    assert_int_equal(mv__series_window(s, 10, 0, 10, b, 16), 0);
    assert_int_equal(mv__series_window(s, 0, 10, 10, NULL, 16), 0);
    assert_int_equal(mv__series_window(NULL, 0, 10, 10, b, 16), 0);
    assert_int_equal(mv__series_resolution_ms(s, 0), 1000);
    mv__series_free(s);
}

static void test_window_tier(void **state)
{
    (void)state;
    mv__series *s = mv__series_new_default();
    assert_non_null(s);
    /* 1 s sampling for 3 h: raw (720) holds only the last 12 min */
    const int64_t t0 = 1700000040000LL; /* a whole minute */
    for (int i = 0; i < 3 * 3600; i++)
        assert_int_equal(mv__series_push(s, t0 + i * 1000LL, (double)i), 0);
    int64_t now = t0 + (3 * 3600 - 1) * 1000LL;
    /* last 5 minutes: raw covers it */
    assert_int_equal(mv__series_resolution_ms(s, now - 300000), 1000);
    mv__bucket b[200];
    size_t n = mv__series_window(s, now - 299999, now, 60000, b, 200);
    assert_int_equal(n, 5);
    assert_int_equal(b[0].n, 60);
    /* last 2 hours: from the 1 min tier */
    assert_int_equal(mv__series_resolution_ms(s, now - 7200000), 60000);
    n = mv__series_window(s, now - 7200000, now, 600000, b, 200);
    assert_true(n == 12 || n == 13);
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += b[i].n;
        assert_true(b[i].min <= b[i].max);
        if (i > 0)
            assert_true(b[i].min > b[i - 1].min);
    }
    assert_true(total >= 7200 - 60 && total <= 7200 + 60);
    /* minima are exact per tier bucket: the first point of each minute */
    assert_true(fmod(b[1].min, 60.0) == 0.0);
    mv__series_free(s);
}

/* Wide window buckets are re-bucketed from a tier 1/8 of their width or
 * less even when the raw ring covers the range (fewer points to merge); the
 * minima match those from the raw points. Narrow ones still read raw, and a
 * range that starts inside a wrapped raw ring begins at its first point. */
static void test_window_coarse_source(void **state)
{
    (void)state;
    int64_t w[1] = {10000};
    size_t c[1] = {1000};
    mv__series *raw_only = mv__series_new(2000, 0, NULL, NULL);
    mv__series *s = mv__series_new(1500, 1, w, c);
    assert_non_null(raw_only);
    assert_non_null(s);
    /* 1 s spacing for 2000 s: the ring of s wrapped (holds 500..1999 s) */
    for (int i = 0; i < 2000; i++) {
        double v = 1000.0 + (double)((i * 37) % 101) + 0.5 * i;
        assert_int_equal(mv__series_push(raw_only, i * 1000LL, v), 0);
        assert_int_equal(mv__series_push(s, i * 1000LL, v), 0);
    }
    mv__bucket a[32], b[32];
    /* 80 s buckets >= 8 x 10 s: from the tier, same minima as raw */
    size_t na = mv__series_window(raw_only, 600000, 1399999, 80000, a, 32);
    size_t nb = mv__series_window(s, 600000, 1399999, 80000, b, 32);
    assert_int_equal(na, 10);
    assert_int_equal(nb, 10);
    uint32_t merged = 0;
    for (size_t i = 0; i < nb; i++) {
        assert_true(a[i].min == b[i].min);
        merged += b[i].n;
    }
    assert_int_equal(merged, 800); /* every point, counted via the tier */
    /* 40 s buckets < 8 x 10 s: raw, starting exactly at 1234 s (four
     * buckets: the point at exactly to_ms joins the last) */
    nb = mv__series_window(s, 1234000, 1394000, 40000, b, 32);
    assert_int_equal(nb, 4);
    assert_int_equal(b[0].t_start_ms, 1234000);
    assert_int_equal(b[0].n, 40);
    assert_int_equal(b[3].n, 41);
    mv__series_free(raw_only);
    mv__series_free(s);
}

static void test_tier_falls_back_to_longest(void **state)
{
    (void)state;
    int64_t w[1] = {10};
    size_t c[1] = {4};
    mv__series *s = mv__series_new(3, 1, w, c);
    assert_non_null(s);
    for (int t = 0; t < 100; t++)
        assert_int_equal(mv__series_push(s, t, t), 0);
    /* neither raw (97..99) nor the tier (50..99) reaches 0: tier used */
    mv__bucket b[16];
    size_t n = mv__series_window(s, 0, 99, 10, b, 16);
    assert_int_equal(n, 5);
    assert_true(b[0].min == 50);
    assert_int_equal(mv__series_resolution_ms(s, 0), 10);
    mv__series_free(s);
}

static void test_footprint(void **state)
{
    (void)state;
    mv__series *s = mv__series_new_default();
    assert_non_null(s);
    size_t f = mv__series_footprint(s);
    size_t data = 720 * 16 + (1440 + 1008 + 720) * sizeof(mv__bucket);
    assert_true(f >= data);
    assert_true(f < data + 4096);
    for (int i = 0; i < 100000; i++)
        mv__series_push(s, i * 10LL, i);
    assert_int_equal(mv__series_footprint(s), f); /* never grows */
    assert_int_equal(mv__series_footprint(NULL), 0);
    assert_int_equal(mv__series_resolution_ms(NULL, 0), 0);
    mv__series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_bad_args),
        cmocka_unit_test(test_push_rules),
        cmocka_unit_test(test_raw_wrap),
        cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_negative_times_align),
        cmocka_unit_test(test_window_raw),
        cmocka_unit_test(test_window_tier),
        cmocka_unit_test(test_window_coarse_source),
        cmocka_unit_test(test_tier_falls_back_to_longest),
        cmocka_unit_test(test_footprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
