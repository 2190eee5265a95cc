/*
 * test_cli_heaptrend.c — growing call sites (src/cli/heap/heaptrend.c), fed with
 * simulated byte sampling: each allocation of s bytes is sampled with
 * probability 1 - exp(-s/T) and weighted s/p, as the preload library does,
 * so the tests see the same noise the real profiles have.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heaptrend.h"

#define T 524288.0

static uint64_t rng_state = 88172645463325252ull;

static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Sampled weight of one allocation of s bytes (0 when not sampled). */
static double sample(double s)
{
    double p = 1.0 - exp(-s / T);
    return urand() < p ? s / p : 0.0;
}

/* A simulated site: live objects with their sampled weights. */
typedef struct site {
    double *w;      /* weights of live objects */
    double *size;
    size_t n, cap;
} site;

static void site_alloc(site *s, double size)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->w = realloc(s->w, s->cap * sizeof *s->w);
        s->size = realloc(s->size, s->cap * sizeof *s->size);
        assert_non_null(s->w);
        assert_non_null(s->size);
    }
    s->w[s->n] = sample(size);
    s->size[s->n] = size;
    s->n++;
}

static void site_free_random(site *s)
{
    size_t i = (size_t)(urand() * (double)s->n);
    if (s->n == 0)
        return;
    if (i >= s->n)
        i = s->n - 1;
    s->w[i] = s->w[s->n - 1];
    s->size[i] = s->size[s->n - 1];
    s->n--;
}

static double site_estimate(const site *s)
{
    double e = 0;
    for (size_t i = 0; i < s->n; i++)
        e += s->w[i];
    return e;
}

static double site_true(const site *s)
{
    double e = 0;
    for (size_t i = 0; i < s->n; i++)
        e += s->size[i];
    return e;
}

static void site_release(site *s)
{
    free(s->w);
    free(s->size);
    memset(s, 0, sizeof *s);
}

static const cli_site_trend *find(const cli_site_trend *r, size_t n,
                                  const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].key, key) == 0)
            return &r[i];
    return NULL;
}

/* leak (8 MiB/s in 64 KiB blocks), slow leak (2 MiB/s in 256 KiB), bounded
 * (fills 64 MiB in the first 2 s then holds), churn (256 MiB pool, 20% of it
 * replaced per second) over 30 snapshots one second apart. */
static void test_ranks_leaks_not_churn(void **state)
{
    site leak = {0}, slow = {0}, bounded = {0}, churn = {0};
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_site_trend *r = NULL;
    size_t n = 0;
    int sec, i;
    (void)state;

    assert_non_null(t);
    for (i = 0; i < 1024; i++)
        site_alloc(&churn, 262144);
    for (sec = 0; sec < 30; sec++) {
        cli_heap_entry e[4];
        for (i = 0; i < 128; i++)
            site_alloc(&leak, 65536);
        for (i = 0; i < 8; i++)
            site_alloc(&slow, 262144);
        if (sec < 2)
            for (i = 0; i < 32; i++)
                site_alloc(&bounded, 1048576);
        for (i = 0; i < 205; i++) {
            site_free_random(&churn);
            site_alloc(&churn, 262144);
        }
        e[0] = (cli_heap_entry){"leak", "leak (a.c:1)", "main;leak", site_estimate(&leak)};
        e[1] = (cli_heap_entry){"slow", "slow (a.c:2)", "main;slow", site_estimate(&slow)};
        e[2] = (cli_heap_entry){"bounded", "bounded (a.c:3)", NULL, site_estimate(&bounded)};
        e[3] = (cli_heap_entry){"churn", "churn (a.c:4)", NULL, site_estimate(&churn)};
        assert_int_equal(cli_heaptrend_add(t, 1000.0 + sec, T,
                                           e[0].bytes + e[1].bytes + e[2].bytes + e[3].bytes,
                                           e, 4), 0);
    }
    assert_int_equal(cli_heaptrend_count(t), 30);
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(r[0].key, "leak");
    assert_int_equal(r[0].rank, 1);
    assert_true(r[0].growing);
    assert_string_equal(r[1].key, "slow");
    assert_int_equal(r[1].rank, 2);
    assert_true(r[1].growing);
    assert_false(find(r, n, "bounded")->growing);
    assert_false(find(r, n, "churn")->growing);
    assert_int_equal(find(r, n, "churn")->rank, 0);
    /* 8 MiB/s within 10% */
    assert_true(fabs(r[0].slope - 8.0 * 1048576) < 0.1 * 8.0 * 1048576);
    assert_true(fabs(r[0].growth_per_hour - r[0].slope * 3600) < 1e-6 * r[0].growth_per_hour);
    assert_true(fabs(r[1].slope - 2.0 * 1048576) < 0.15 * 2.0 * 1048576);
    /* the two leaks explain most of the total's growth */
    assert_true(r[0].share > 0.6 && r[0].share <= 1.0);
    assert_true(r[0].share + r[1].share > 0.85);
    /* latest live estimate within 10% of the truth */
    assert_true(fabs(r[0].bytes - site_true(&leak)) < 0.1 * site_true(&leak));
    assert_string_equal(r[0].folded, "main;leak");
    assert_null(find(r, n, "bounded")->folded);
    free(r);
    cli_heaptrend_free(t);
    site_release(&leak);
    site_release(&slow);
    site_release(&bounded);
    site_release(&churn);
}

static void test_too_few_points(void **state)
{
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_heap_entry e = {"a", "a", NULL, 1e9};
    cli_site_trend *r;
    size_t n;
    (void)state;

    assert_int_equal(cli_heaptrend_add(t, 1, T, 1e9, &e, 1), 0);
    e.bytes = 2e9;
    assert_int_equal(cli_heaptrend_add(t, 2, T, 2e9, &e, 1), 0);
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_int_equal(n, 1);
    assert_false(r[0].growing);
    assert_true(isnan(r[0].slope));
    assert_true(isnan(cli_heaptrend_total_slope(t)));
    assert_true(r[0].bytes == 2e9);
    free(r);
    cli_heaptrend_free(t);
}

static void test_bad_input(void **state)
{
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_heap_entry e = {"a", "a", NULL, 1};
    cli_heap_entry bad = {NULL, "a", NULL, 1};
    (void)state;

    assert_int_equal(cli_heaptrend_add(t, 10, T, 1, &e, 1), 0);
    assert_int_equal(cli_heaptrend_add(t, 9, T, 1, &e, 1), -EINVAL);
    assert_int_equal(cli_heaptrend_add(t, NAN, T, 1, &e, 1), -EINVAL);
    assert_int_equal(cli_heaptrend_add(t, 11, -1, 1, &e, 1), -EINVAL);
    assert_int_equal(cli_heaptrend_add(t, 11, T, 1, &bad, 1), -EINVAL);
    assert_int_equal(cli_heaptrend_add(NULL, 11, T, 1, &e, 1), -EINVAL);
    assert_int_equal(cli_heaptrend_count(t), 1);
    cli_heaptrend_free(t);
    cli_heaptrend_free(NULL);
}

/* A site growing by one sample's worth over the window is not growth above
 * noise, however steady. */
static void test_noise_floor(void **state)
{
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_site_trend *r;
    size_t n;
    int i;
    (void)state;

    for (i = 0; i < 20; i++) {
        cli_heap_entry e = {"tiny", "tiny", NULL, i * T / 10};
        assert_int_equal(cli_heaptrend_add(t, i, T, e.bytes, &e, 1), 0);
    }
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_true(r[0].lo > 0);        /* significant ... */
    assert_false(r[0].growing);      /* ... but within sampling noise */
    free(r);
    cli_heaptrend_free(t);
}

/* A churning pool re-samples most of its live set between snapshots, so
 * the site's estimate is noise around a constant level. Asked after every
 * snapshot, as `heap watch` and `run --heap` do, from the fifth on, the
 * site must never be called growing. The pool is that of the integration
 * program heap_sites.c: 512 blocks of 512 KiB, 510 replacements at random
 * a second (about 63% of the pool), one snapshot a second, asked up to 45
 * snapshots (past the 40 where the bar stops being raised). A growth bar
 * of 3 sd of one estimate at any count let 26 GiB/h through in one run of
 * that program (36 MiB over 5 s against a 35 MiB bar), and here 7
 * times in the 41000 checks: over few snapshots the growth is noisier
 * than one estimate. */
static void test_churn_never_growing(void **state)
{
    const int runs = 1000, secs = 45;
    int run, sec, i, growing = 0, asked = 0;
    (void)state;

    for (run = 0; run < runs; run++) {
        site churn = {0};
        cli_heaptrend *t = cli_heaptrend_new(0);
        assert_non_null(t);
        for (i = 0; i < 512; i++)
            site_alloc(&churn, T);
        for (sec = 0; sec < secs; sec++) {
            cli_heap_entry e = {"churn", "churn (a.c:4)", NULL, 0};
            cli_site_trend *r;
            size_t n;
            for (i = 0; i < 510; i++) {
                site_free_random(&churn);
                site_alloc(&churn, T);
            }
            e.bytes = site_estimate(&churn);
            assert_int_equal(cli_heaptrend_add(t, sec, T, e.bytes, &e, 1), 0);
            if (sec + 1 < CLI_HEAPTREND_MIN_POINTS)
                continue;
            assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
            assert_int_equal(n, 1);
            growing += r[0].growing;
            asked++;
            free(r);
        }
        cli_heaptrend_free(t);
        site_release(&churn);
    }
    if (growing)
        fprintf(stderr, "churn called growing %d times in %d\n", growing, asked);
    assert_int_equal(growing, 0);
}

/* A site that grew early and stopped is not "still growing". */
static void test_stopped_growing(void **state)
{
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_site_trend *r;
    size_t n;
    int i;
    (void)state;

    for (i = 0; i < 20; i++) {
        cli_heap_entry e = {"cache", "cache", NULL, (i < 12 ? i : 12) * 64 * T};
        assert_int_equal(cli_heaptrend_add(t, i, T, e.bytes, &e, 1), 0);
    }
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_true(r[0].slope > 0);
    assert_false(r[0].growing);
    free(r);
    cli_heaptrend_free(t);
}

static void test_window_and_absent(void **state)
{
    cli_heaptrend *t = cli_heaptrend_new(5);
    cli_site_trend *r;
    size_t n;
    int i;
    (void)state;

    for (i = 0; i < 10; i++) {
        cli_heap_entry e[2] = {{"grow", "grow", NULL, (i + 1) * 100 * T},
                               {"dup", "dup", NULL, 5}};
        /* "old" appears only in the first snapshot: it leaves the window */
        cli_heap_entry old = {"old", "old", NULL, 7};
        assert_int_equal(cli_heaptrend_add(t, i * 60.0, 0, 1, e, 2), 0);
        if (i == 0)
            assert_int_equal(cli_heaptrend_add(t, 1, 0, 1, &old, 1), 0);
    }
    assert_int_equal(cli_heaptrend_count(t), 5);
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_int_equal(n, 2);
    assert_null(find(r, n, "old"));
    assert_string_equal(r[0].key, "grow");
    assert_true(r[0].growing);
    assert_true(fabs(r[0].slope - 100 * T / 60.0) < 1e-6 * r[0].slope);
    /* the total (1 byte) does not grow: share unknown */
    assert_true(isnan(r[0].share));
    free(r);
    cli_heaptrend_free(t);
}

static void test_duplicates_summed(void **state)
{
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_heap_entry e[2] = {{"k", "k", NULL, 3}, {"k", "k", NULL, 4}};
    cli_site_trend *r;
    size_t n;
    (void)state;

    assert_int_equal(cli_heaptrend_add(t, 0, 0, 7, e, 2), 0);
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_int_equal(n, 1);
    assert_true(r[0].bytes == 7);
    free(r);
    cli_heaptrend_free(t);
}

/* Past CLI_HEAPTREND_MAX_KEYS distinct stacks, new ones are left out of
 * the trend; the snapshot is still taken and known stacks still count. */
static void test_key_cap(void **state)
{
    const size_t max = CLI_HEAPTREND_MAX_KEYS, extra = 10;
    cli_heaptrend *t = cli_heaptrend_new(0);
    cli_heap_entry *e = calloc(max + extra, sizeof *e);
    char (*keys)[16] = calloc(max + extra, sizeof *keys);
    cli_site_trend *r;
    size_t n;
    (void)state;

    assert_non_null(t);
    assert_non_null(e);
    assert_non_null(keys);
    for (size_t i = 0; i < max + extra; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        e[i].key = e[i].site = keys[i];
        e[i].bytes = 1;
    }
    assert_int_equal(cli_heaptrend_add(t, 0, 0, (double)(max + extra), e,
                                       max + extra), 0);
    e[0].bytes = 5; /* a known stack, then one more unknown */
    assert_int_equal(cli_heaptrend_add(t, 60, 0, 5, e, 1), 0);
    assert_int_equal(cli_heaptrend_add(t, 120, 0, 1, &e[max + extra - 1], 1), 0);
    assert_int_equal(cli_heaptrend_count(t), 3);
    assert_int_equal(cli_heaptrend_rank(t, &r, &n), 0);
    assert_int_equal(n, max);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(r[i].key, keys[max + extra - 1]);
    free(r);
    free(keys);
    free(e);
    cli_heaptrend_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranks_leaks_not_churn),
        cmocka_unit_test(test_too_few_points),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_noise_floor),
        cmocka_unit_test(test_churn_never_growing),
        cmocka_unit_test(test_stopped_growing),
        cmocka_unit_test(test_window_and_absent),
        cmocka_unit_test(test_duplicates_summed),
        cmocka_unit_test(test_key_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
