/* test_frag.c — the allocator diagnosis (frag.h) on sample sequences whose
 * answer is known: a flat live heap under much larger private memory is
 * fragmentation, a freed peak kept is retention, a live heap that grows
 * with private memory (a leak) or a small excess is neither, samples
 * without figures are skipped and sparse readings claim nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "allocstats.h"
#include "frag.h"

#define MiB (1ll << 20)
#define STEP_MS 10000

static mv_sample sample(int64_t priv, int64_t in_use, int64_t free_b, int64_t arenas)
{
    mv_sample s;
    mv_sample_clear(&s);
    s.private_bytes = priv;
    s.alloc_kind = MV_ALLOC_GLIBC;
    s.alloc_in_use_bytes = in_use;
    s.alloc_free_bytes = free_b;
    s.alloc_arenas = arenas;
    return s;
}

/* Feeds n samples from t (STEP_MS apart); returns the last result. */
static mv__frag_result feed(mv__frag_detector *d, int64_t *t, int n, mv_sample s)
{
    mv__frag_result r;
    for (int i = 0; i < n; i++, *t += STEP_MS)
        mv__frag_tick(d, *t, &s, &r);
    return r;
}

static void flat_heap_under_high_private_is_fragmentation(void **state)
{
    (void)state;
    mv__frag_detector *d = mv__frag_new(NULL);
    int64_t t = 1000;
    /* 9 min: not yet a 10 min window */
    mv__frag_result r = feed(d, &t, 55, sample(400 * MiB, 100 * MiB, 280 * MiB, 8));
    assert_int_equal(r.verdict, MV_FRAG_NONE);
    assert_non_null(strstr(r.evidence, "not enough"));
    r = feed(d, &t, 10, sample(400 * MiB, 102 * MiB, 278 * MiB, 8));
    assert_int_equal(r.verdict, MV_FRAG_FRAGMENTATION);
    assert_int_equal(r.excess_bytes, 298 * MiB);
    assert_int_equal(r.arenas, 8);
    assert_non_null(strstr(r.evidence, "fragmentation"));
    assert_non_null(strstr(r.evidence, "8 arenas"));
    assert_non_null(strstr(r.evidence, "free"));
    assert_non_null(strstr(r.advice, "MALLOC_ARENA_MAX=2"));
    assert_non_null(strstr(r.advice, "malloc_trim(0)"));
    assert_non_null(strstr(r.advice, "background_thread"));
    /* a leak-like rise of private memory over the last 10 min is not in
     * the live heap */
    assert_int_equal(mv__frag_explains_rise(d, t - STEP_MS, 600.0), 1);
    /* ... but nothing is said of an hour the figures do not cover */
    assert_int_equal(mv__frag_explains_rise(d, t - STEP_MS, 3600.0), 0);
    mv__frag_free(d);
}

static void freed_peak_kept_is_retention(void **state)
{
    (void)state;
    mv__frag_detector *d = mv__frag_new(NULL);
    int64_t t = 0;
    feed(d, &t, 30, sample(420 * MiB, 380 * MiB, 30 * MiB, 4));
    mv__frag_result r = feed(d, &t, 70, sample(400 * MiB, 60 * MiB, 330 * MiB, 4));
    assert_int_equal(r.verdict, MV_FRAG_RETENTION);
    assert_int_equal(r.peak_in_use_bytes, 380 * MiB);
    assert_non_null(strstr(r.evidence, "freed peak"));
    assert_non_null(strstr(r.advice, "malloc_trim(0)"));
    /* the peak given back (a trim): the claim clears */
    mv_sample s = sample(70 * MiB, 60 * MiB, 5 * MiB, 4);
    assert_int_equal(mv__frag_tick(d, t, &s, &r), 1);
    assert_int_equal(r.verdict, MV_FRAG_NONE);
    mv__frag_free(d);
}

static void growing_heap_is_not_fragmentation(void **state)
{
    (void)state;
    mv__frag_detector *d = mv__frag_new(NULL);
    mv__frag_result r;
    int64_t t = 0;
    /* a leak: the heap in use grows with private memory, 2 MiB a step */
    for (int i = 0; i < 120; i++, t += STEP_MS) {
        mv_sample s = sample((200 + 2 * i) * MiB, (100 + 2 * i) * MiB, 90 * MiB, 2);
        mv__frag_tick(d, t, &s, &r);
        assert_int_equal(r.verdict, MV_FRAG_NONE);
    }
    assert_int_equal(mv__frag_explains_rise(d, t - STEP_MS, 600.0), 0);
    mv__frag_free(d);
}

static void small_excess_or_gap_is_nothing(void **state)
{
    (void)state;
    mv__frag_detector *d = mv__frag_new(NULL);
    int64_t t = 0;
    /* 40 MiB over the heap: below the 64 MiB floor */
    mv__frag_result r = feed(d, &t, 80, sample(140 * MiB, 100 * MiB, 38 * MiB, 1));
    assert_int_equal(r.verdict, MV_FRAG_NONE);
    /* a true claim; samples without figures (no reading) change nothing */
    r = feed(d, &t, 80, sample(400 * MiB, 100 * MiB, 290 * MiB, 1));
    assert_int_equal(r.verdict, MV_FRAG_FRAGMENTATION);
    mv_sample none;
    mv_sample_clear(&none);
    none.private_bytes = 400 * MiB;
    assert_int_equal(mv__frag_tick(d, t, &none, &r), 0);
    assert_int_equal(r.verdict, MV_FRAG_FRAGMENTATION);
    /* readings too sparse for the window (one per 20 min): no claim */
    mv__frag_detector *sparse = mv__frag_new(NULL);
    int64_t ts = 0;
    for (int i = 0; i < 6; i++, ts += 20 * 60 * 1000) {
        mv_sample s = sample(400 * MiB, 100 * MiB, 290 * MiB, 1);
        mv__frag_tick(sparse, ts, &s, &r);
        assert_int_equal(r.verdict, MV_FRAG_NONE);
    }
    mv__frag_free(sparse);
    mv__frag_free(d);
    mv__frag_free(NULL);
}

static void advice_follows_the_allocator(void **state)
{
    (void)state;
    char buf[400];
    mv__frag_advice(MV_FRAG_FRAGMENTATION, MV_ALLOC_JEMALLOC, 4, buf, sizeof buf);
    assert_non_null(strstr(buf, "background_thread:true"));
    assert_null(strstr(buf, "MALLOC_ARENA_MAX"));
    mv__frag_advice(MV_FRAG_FRAGMENTATION, MV_ALLOC_GLIBC, 16, buf, sizeof buf);
    assert_non_null(strstr(buf, "now 16"));
    mv__frag_advice(MV_FRAG_NONE, MV_ALLOC_GLIBC, 16, buf, sizeof buf);
    assert_string_equal(buf, "none needed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_heap_under_high_private_is_fragmentation),
        cmocka_unit_test(freed_peak_kept_is_retention),
        cmocka_unit_test(growing_heap_is_not_fragmentation),
        cmocka_unit_test(small_excess_or_gap_is_nothing),
        cmocka_unit_test(advice_follows_the_allocator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
