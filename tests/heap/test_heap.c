/* test_heap.c — unit tests of the heap profiler's pure parts: environment
 * parsing (including the setuid rule: AT_SECURE makes the profiler inert
 * whatever the environment says), the profile.proto encoder, decoded back
 * here with a minimal protobuf reader, and the free filter's bucket mapping
 * (locality, separation of regions, false-positive rate). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"

/* ---- a fake environment ---- */

static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    for (const char *const *e = fake_env; e && *e; e += 2)
        if (strcmp(e[0], name) == 0)
            return e[1];
    return NULL;
}

static void test_config_defaults(void **state)
{
    (void)state;
    static const char *const env[] = {NULL};
    fake_env = env;
    mv_heap_config c;
    assert_int_equal(mv__heap_config_parse(&c, fake_getenv, 0, 4242), 0);
    assert_int_equal(c.active, 1);
    assert_int_equal(c.enabled_at_start, 0); /* dormant by default */
    assert_int_equal(c.signals, 1);
    assert_int_equal(c.sample_bytes, 524288);
    assert_int_equal(c.interval_s, 60);
    assert_int_equal(c.keep, 100);
    assert_int_equal(c.max_mb, 8);
    assert_string_equal(c.dir, "/tmp/memvigil-heap-4242");
}

static void test_config_values(void **state)
{
    (void)state;
    static const char *const env[] = {
        "MEMVIGIL_HEAP", "1", "MEMVIGIL_HEAP_SAMPLE", "1024", "MEMVIGIL_HEAP_INTERVAL", "0",
        "MEMVIGIL_HEAP_KEEP", "3", "MEMVIGIL_HEAP_MAX_MB", "2", "MEMVIGIL_HEAP_DIR", "/var/x",
        "MEMVIGIL_HEAP_SIGNALS", "0", "MEMVIGIL_HEAP_UNWIND_CHECK", "1", NULL};
    fake_env = env;
    mv_heap_config c;
    mv__heap_config_parse(&c, fake_getenv, 0, 1);
    assert_int_equal(c.active, 1);
    assert_int_equal(c.enabled_at_start, 1);
    assert_int_equal(c.signals, 0);
    assert_int_equal(c.unwind_check, 1);
    assert_int_equal(c.sample_bytes, 1024);
    assert_int_equal(c.interval_s, 0);
    assert_int_equal(c.keep, 3);
    assert_int_equal(c.max_mb, 2);
    assert_string_equal(c.dir, "/var/x");
}

static void test_config_bad_values_keep_defaults(void **state)
{
    (void)state;
    static const char *const env[] = {
        "MEMVIGIL_HEAP", "yes", "MEMVIGIL_HEAP_SAMPLE", "12k", "MEMVIGIL_HEAP_INTERVAL", "-5",
        "MEMVIGIL_HEAP_KEEP", "0", "MEMVIGIL_HEAP_MAX_MB", "99999", "MEMVIGIL_HEAP_DIR", "",
        "MEMVIGIL_HEAP_SIGNALS", "no", "MEMVIGIL_HEAP_UNWIND_CHECK", "yes", NULL};
    fake_env = env;
    mv_heap_config c;
    mv__heap_config_parse(&c, fake_getenv, 0, 7);
    assert_int_equal(c.enabled_at_start, 0); /* only "1" enables */
    assert_int_equal(c.signals, 1);
    assert_int_equal(c.unwind_check, 0); /* only "1" */
    assert_int_equal(c.sample_bytes, 524288);
    assert_int_equal(c.interval_s, 60);
    assert_int_equal(c.keep, 100);
    assert_int_equal(c.max_mb, 8);
    assert_string_equal(c.dir, "/tmp/memvigil-heap-7");
}

static void test_config_setuid_inert(void **state)
{
    (void)state;
    static const char *const env[] = {"MEMVIGIL_HEAP", "1", "MEMVIGIL_HEAP_DIR", "/etc", NULL};
    fake_env = env;
    mv_heap_config c;
    mv__heap_config_parse(&c, fake_getenv, 1 /* AT_SECURE */, 9);
    assert_int_equal(c.active, 0);
    assert_int_equal(c.enabled_at_start, 0);
    assert_string_equal(c.dir, "/tmp/memvigil-heap-9"); /* env ignored */
}

/* ---- a minimal protobuf reader ---- */

typedef struct field {
    unsigned num, wire;
    uint64_t v;
    const uint8_t *p;
    size_t n;
} field;

static int next_field(const uint8_t **c, const uint8_t *end, field *f)
{
    uint64_t key = 0;
    int sh = 0;
    f->p = NULL; /* only length-delimited fields set these */
    f->n = 0;
    if (*c >= end)
        return 0;
    do {
        key |= (uint64_t)(**c & 0x7f) << sh;
        sh += 7;
    } while (*(*c)++ & 0x80);
    f->num = (unsigned)(key >> 3);
    f->wire = (unsigned)(key & 7);
    uint64_t v = 0;
    sh = 0;
    do {
        v |= (uint64_t)(**c & 0x7f) << sh;
        sh += 7;
    } while (*(*c)++ & 0x80);
    f->v = v;
    if (f->wire == 2) {
        f->p = *c;
        f->n = (size_t)v;
        *c += v;
    }
    return 1;
}

static uint64_t get_uint(const uint8_t *p, size_t n, unsigned num)
{
    field f;
    const uint8_t *c = p;
    while (next_field(&c, p + n, &f))
        if (f.num == num && f.wire == 0)
            return f.v;
    return 0;
}

static void test_pprof_roundtrip(void **state)
{
    (void)state;
    uintptr_t fa[] = {0x401010, 0x7f0000001234};
    uintptr_t fb[] = {0x401020};
    mv_heap_psample s[2] = {{fa, 2, {3, 3000, 1, 1000}}, {fb, 1, {10, 5000, 0, 0}}};
    mv_heap_pmap m[2];
    memset(m, 0, sizeof m);
    m[0] = (mv_heap_pmap){.start = 0x400000, .limit = 0x500000, .offset = 0};
    strcpy(m[0].file, "/usr/bin/prog");
    strcpy(m[0].build_id, "abcd");
    m[1] = (mv_heap_pmap){.start = 0x7f0000000000, .limit = 0x7f0000100000, .offset = 0x1000};
    strcpy(m[1].file, "/lib/libc.so.6");
    mv_heap_profile prof = {.samples = s, .nsamples = 2, .maps = m, .nmaps = 2,
                            .period = 524288, .time_nanos = 123, .duration_nanos = 456,
                            .comment = "hello"};
    mv_heap_buf b = {0};
    assert_int_equal(mv__heap_pprof_encode(&prof, &b), 0);

    const char *strs[64];
    size_t lens[64], ns = 0;
    int nsample = 0, nloc = 0, nmap = 0, ntype = 0;
    uint64_t period = 0, tnanos = 0, dflt = 0;
    uint64_t loc_addr[8] = {0}, loc_map[8] = {0};
    uint64_t values_b[4] = {0};
    field f;
    const uint8_t *c = b.data;
    while (next_field(&c, b.data + b.len, &f)) {
        switch (f.num) {
        case 1: ntype++; break;
        case 2: {
            nsample++;
            field g;
            const uint8_t *d = f.p;
            while (next_field(&d, f.p + f.n, &g))
                if (g.num == 2 && nsample == 2) { /* packed values of sample 2 */
                    const uint8_t *q = g.p;
                    for (int i = 0; i < 4; i++) {
                        uint64_t v = 0;
                        int sh = 0;
                        do {
                            v |= (uint64_t)(*q & 0x7f) << sh;
                            sh += 7;
                        } while (*q++ & 0x80);
                        values_b[i] = v;
                    }
                }
            break;
        }
        case 3: nmap++; break;
        case 4: {
            uint64_t id = get_uint(f.p, f.n, 1);
            assert_true(id >= 1 && id < 8);
            loc_map[id] = get_uint(f.p, f.n, 2);
            loc_addr[id] = get_uint(f.p, f.n, 3);
            nloc++;
            break;
        }
        case 6: strs[ns] = (const char *)f.p; lens[ns++] = f.n; break;
        case 9: tnanos = f.v; break;
        case 12: period = f.v; break;
        case 14: dflt = f.v; break;
        }
    }
    assert_int_equal(ntype, 4);
    assert_int_equal(nsample, 2);
    assert_int_equal(nmap, 2);
    assert_int_equal(nloc, 3); /* three distinct addresses */
    assert_int_equal(period, 524288);
    assert_int_equal(tnanos, 123);
    assert_int_equal(lens[0], 0);
    assert_true(dflt < ns);
    assert_int_equal(lens[dflt], strlen("inuse_space"));
    assert_memory_equal(strs[dflt], "inuse_space", lens[dflt]);
    /* locations are the call instruction (return address - 1), tied to
     * the mapping that contains them */
    assert_int_equal(loc_addr[1], 0x40100f);
    assert_int_equal(loc_map[1], 1);
    assert_int_equal(loc_addr[2], 0x7f0000001233);
    assert_int_equal(loc_map[2], 2);
    assert_int_equal(loc_addr[3], 0x40101f);
    assert_int_equal(values_b[0], 10);
    assert_int_equal(values_b[1], 5000);
    mv__heap_buf_release(&b);
}

static void test_pprof_empty(void **state)
{
    (void)state;
    mv_heap_profile prof = {.period = 1};
    mv_heap_buf b = {0};
    assert_int_equal(mv__heap_pprof_encode(&prof, &b), 0);
    assert_true(b.len > 0);
    assert_int_equal(get_uint(b.data, b.len, 12), 1);
    mv__heap_buf_release(&b);
}

/* ---- the sampling unbias (heap.h) ---- */

/* What one sample stands for at the default T = 512 KiB: far below T about
 * T bytes (T + n/2 to first order) in T/n objects; at T, 1/(1 - 1/e)
 * objects; far above T, the block itself. n/p over 1/p is always n, and a
 * 0-byte block counts as 1 byte. */
static void test_unbias(void **state)
{
    (void)state;
    const uint64_t T = 524288;
    mv_heap_weight w;

    w = mv__heap_unbias(1, T);                 /* far below */
    assert_true(fabs(w.bytes - (T + 0.5)) < 1e-6);
    assert_true(fabs(w.objects - w.bytes) < 1e-9);
    w = mv__heap_unbias(0, T);
    assert_true(fabs(w.bytes - (T + 0.5)) < 1e-6);

    w = mv__heap_unbias(4096, T);
    assert_true(fabs(w.bytes - (T + 2048.0)) < 4.0); /* + n^2/12T = 2.7 */
    assert_true(fabs(w.objects - w.bytes / 4096.0) < 1e-9);

    w = mv__heap_unbias(T, T);                 /* at T */
    assert_true(fabs(w.objects - 1.0 / (1.0 - exp(-1.0))) < 1e-12);
    assert_true(fabs(w.objects - 1.5819767068693265) < 1e-12);
    assert_true(fabs(w.bytes - (double)T * w.objects) < 1e-6);

    w = mv__heap_unbias(64 * T, T);            /* far above */
    assert_true(w.objects == 1.0);
    assert_true(w.bytes == (double)(64 * T));

    w = mv__heap_unbias(100, 1);               /* T of 1 byte: all sampled */
    assert_true(w.objects == 1.0);
    assert_true(w.bytes == 100.0);
}

/* ---- the free filter's mapping (heap.h) ---- */

#define FBUCKETS (1u << MV_HEAP_FILTER_BITS)
#define SBUCKETS (1u << MV_HEAP_SUMMARY_BITS)

/* Neighbouring blocks get neighbouring buckets, in the filter and in the
 * summary (so frees of blocks that are neighbours touch the same cache
 * lines), and distinct blocks of one window never share a filter bucket
 * (nor, within 256 KiB, a summary bucket). */
static void test_filter_locality(void **state)
{
    (void)state;
    uintptr_t base = 0x55d3a4c00000u; /* window-aligned, like a brk heap */
    unsigned first = mv__heap_filter_slot((void *)base);
    unsigned sfirst = mv__heap_summary_slot((void *)base);
    for (uintptr_t off = 0; off < (16u << MV_HEAP_FILTER_BITS); off += 16) {
        unsigned f = mv__heap_filter_slot((void *)(base + off));
        assert_int_equal(f, first ^ (unsigned)(off >> 4));
        assert_int_equal(mv__heap_summary_slot((void *)(base + off)),
                         (sfirst + (unsigned)(off >> 4)) % SBUCKETS);
    }
    /* within a 16-byte granule: one bucket */
    assert_int_equal(mv__heap_filter_slot((void *)(base + 0x1230)),
                     mv__heap_filter_slot((void *)(base + 0x123f)));
}

/* Regions one window apart do not pile onto one bucket: the first blocks of
 * 64 thread arenas (64 MiB-aligned) and 256 consecutive windows land on as
 * many different buckets. A plain "address bits" mapping, without the fold,
 * puts all of them on bucket 1. */
static void test_filter_regions_apart(void **state)
{
    (void)state;
    static unsigned char seen[FBUCKETS];
    memset(seen, 0, sizeof seen);
    for (uintptr_t i = 0; i < 64; i++) {
        unsigned f = mv__heap_filter_slot((void *)(0x7f3a00000000u + (i << 26) + 0x10));
        assert_int_equal(seen[f], 0);
        seen[f] = 1;
    }
    memset(seen, 0, sizeof seen);
    for (uintptr_t i = 0; i < 256; i++) {
        unsigned f = mv__heap_filter_slot((void *)(0x55d3a4c00010u + (i << (4 + MV_HEAP_FILTER_BITS))));
        assert_int_equal(seen[f], 0);
        seen[f] = 1;
    }
}

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* False positives: 4000 live samples (a ~2 GiB heap at the default rate)
 * spread over a 1 GiB brk heap and 256 MiB of mmap'd blocks; a free of any
 * other block reaches the summary's second look (rate ~ samples / 16 Ki)
 * and the live table (~ samples / 256 Ki) rarely. Bounds are twice the
 * expectation; a mapping that clumps addresses fails them. */
static void test_filter_false_positives(void **state)
{
    (void)state;
    static unsigned char filt[FBUCKETS], summ[SBUCKETS];
    memset(filt, 0, sizeof filt);
    memset(summ, 0, sizeof summ);
    uint64_t rng = 0x9E3779B97F4A7C15u;
    const uintptr_t brk = 0x55d3a4c00000u, mm = 0x7f3a10000000u;
    enum { SAMPLES = 4000, FREES = 1000000 };
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t r = xs(&rng);
        uintptr_t p = (r & 1) ? brk + ((r >> 1) % (1u << 30) & ~(uintptr_t)15)
                              : mm + (((r >> 1) % (1u << 16)) << 12) + 16; /* page + 16 */
        filt[mv__heap_filter_slot((void *)p)]++;
        summ[mv__heap_summary_slot((void *)p)]++;
    }
    int shits = 0, fhits = 0;
    for (int i = 0; i < FREES; i++) {
        uint64_t r = xs(&rng);
        uintptr_t p = (r & 7) ? brk + ((r >> 3) % (1u << 30) & ~(uintptr_t)15)
                              : mm + (((r >> 3) % (1u << 16)) << 12) + 16;
        if (summ[mv__heap_summary_slot((void *)p)]) {
            shits++;
            fhits += filt[mv__heap_filter_slot((void *)p)] != 0;
        }
    }
    double srate = (double)shits / FREES, frate = (double)fhits / FREES;
    assert_true(srate > 0.0); /* the counts are live: the test can fail */
    assert_true(srate < 2.0 * SAMPLES / SBUCKETS);
    assert_true(frate < 2.0 * SAMPLES / FBUCKETS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_bad_values_keep_defaults),
        cmocka_unit_test(test_config_setuid_inert),
        cmocka_unit_test(test_pprof_roundtrip),
        cmocka_unit_test(test_pprof_empty),
        cmocka_unit_test(test_unbias),
        cmocka_unit_test(test_filter_locality),
        cmocka_unit_test(test_filter_regions_apart),
        cmocka_unit_test(test_filter_false_positives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
