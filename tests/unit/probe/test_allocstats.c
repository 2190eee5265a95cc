/* test_allocstats.c — the allocator statistics reader against this
 * process's real glibc malloc (a known allocation moves "in use" by its
 * size), the JSON round trip the preload's status file relies on, and bad
 * status files (garbage, wrong types, negative figures, no "alloc"). */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allocstats.h"

#include "sanitizer.h"

#if defined(MV_UNDER_ASAN) || defined(MV_UNDER_TSAN)
#define UNDER_SANITIZER 1 /* its malloc is not glibc's: mallinfo2 sees none */
#else
#define UNDER_SANITIZER 0
#endif

static void reads_glibc_in_use(void **state)
{
    (void)state;
    if (UNDER_SANITIZER)
        skip();
    mv__alloc_stats a, b;
    assert_int_equal(mv__alloc_stats_read(&a), 0);
    assert_int_equal(a.kind, MV_ALLOC_GLIBC);
    assert_true(a.arenas >= 1);
    /* 40 MiB in 4 KiB blocks (below the mmap threshold: the arena grows) */
    enum { N = 10240 };
    char **p = malloc(N * sizeof *p);
    assert_non_null(p);
    for (int i = 0; i < N; i++) {
        p[i] = malloc(4096);
        assert_non_null(p[i]);
        memset(p[i], 1, 4096);
    }
    assert_int_equal(mv__alloc_stats_read(&b), 0);
    int64_t grew = b.in_use_bytes - a.in_use_bytes;
    assert_true(grew >= (int64_t)N * 4096);
    assert_true(grew < (int64_t)N * 4096 + (4 << 20));
    assert_true(b.mapped_bytes >= b.in_use_bytes);
    /* free every other block: in use halves, the holes stay free inside */
    for (int i = 0; i < N; i += 2)
        free(p[i]);
    mv__alloc_stats c;
    assert_int_equal(mv__alloc_stats_read(&c), 0);
    assert_true(b.in_use_bytes - c.in_use_bytes >= (int64_t)N / 2 * 4096);
    assert_true(c.free_bytes >= (int64_t)N / 2 * 4096);
    for (int i = 1; i < N; i += 2)
        free(p[i]);
    free(p);
    assert_int_equal(mv__alloc_trim(), 0);
}

/* Under a sanitizer glibc's malloc serves nothing: no figures, not
 * zeros that would read as "nothing in use". */
static void foreign_malloc_is_unsupported(void **state)
{
    (void)state;
    if (!UNDER_SANITIZER)
        skip();
    mv__alloc_stats st;
    assert_int_equal(mv__alloc_stats_read(&st), -ENOTSUP);
    assert_int_equal(st.kind, MV_ALLOC_NONE);
    assert_int_equal(st.in_use_bytes, MV_NA);
}

static void json_round_trip(void **state)
{
    (void)state;
    mv__alloc_stats a = {MV_ALLOC_JEMALLOC, 123, 45, 6789, MV_NA, 4}, b;
    char buf[256];
    int n = mv__alloc_stats_format(&a, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf, "{\"kind\":\"jemalloc\",\"in_use_bytes\":123,"
                             "\"free_bytes\":45,\"mapped_bytes\":6789,"
                             "\"releasable_bytes\":null,\"arenas\":4}");
    assert_int_equal(mv__alloc_stats_format(&a, buf, 20), -EOVERFLOW);
    char doc[320];
    mv__alloc_stats_format(&a, buf, sizeof buf);
    snprintf(doc, sizeof doc, "{\"pid\":1,\"alloc\":%s}", buf);
    assert_int_equal(mv__alloc_stats_parse(doc, strlen(doc), &b), 0);
    assert_int_equal(b.kind, MV_ALLOC_JEMALLOC);
    assert_int_equal(b.in_use_bytes, 123);
    assert_int_equal(b.free_bytes, 45);
    assert_int_equal(b.mapped_bytes, 6789);
    assert_int_equal(b.releasable_bytes, MV_NA);
    assert_int_equal(b.arenas, 4);

    mv_sample s;
    mv_sample_clear(&s);
    assert_int_equal(s.alloc_kind, MV_ALLOC_NONE);
    assert_int_equal(s.alloc_in_use_bytes, MV_NA);
    mv__alloc_stats_to_sample(&b, &s);
    assert_int_equal(s.alloc_kind, MV_ALLOC_JEMALLOC);
    assert_int_equal(s.alloc_free_bytes, 45);
}

static void bad_status_files(void **state)
{
    (void)state;
    static const struct { const char *text; int rc; } cases[] = {
        {"", -EINVAL},
        {"{\"pid\":1,\"alloc\":{\"kind\":\"glibc\",\"in_use_", -EINVAL}, /* torn */
        {"{\"pid\":1}", -ENOENT},                                  /* older preload */
        {"{\"alloc\":null}", -ENOENT},
        {"{\"alloc\":[1,2]}", -EINVAL},
        {"{\"alloc\":{\"kind\":7}}", -EINVAL},
        {"{\"alloc\":{\"kind\":\"none\"}}", -ENOENT},
        {"{\"alloc\":{\"kind\":\"glibc\",\"in_use_bytes\":-5}}", -EINVAL},
        {"{\"alloc\":{\"kind\":\"glibc\",\"free_bytes\":\"12\"}}", -EINVAL},
        {"\xff\xfe garbage", -EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mv__alloc_stats st = {MV_ALLOC_GLIBC, 1, 2, 3, 4, 5};
        assert_int_equal(mv__alloc_stats_parse(cases[i].text, strlen(cases[i].text), &st),
                         cases[i].rc);
        assert_int_equal(st.kind, MV_ALLOC_NONE);
        assert_int_equal(st.in_use_bytes, MV_NA);
    }
    assert_string_equal(mv__alloc_kind_name(MV_ALLOC_GLIBC), "glibc");
    assert_int_equal(mv__alloc_kind_from_name("jemalloc"), MV_ALLOC_JEMALLOC);
    assert_int_equal(mv__alloc_kind_from_name(NULL), MV_ALLOC_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_glibc_in_use),
        cmocka_unit_test(foreign_malloc_is_unsupported),
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test(bad_status_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
