/*
 * test_cli_pprof.c — the pprof reader (src/cli/heap/pprof.c) and stack builder
 * (pprof_stacks.c), on profiles made by a tiny protobuf encoder below (so
 * the reader is tested without the preload library), gzip'd with zlib.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "blocked_writer.h"
#include "pb_encode.h"
#include "pprof.h"

/* Strings: 0 "", 1 alloc_objects, 2 count, 3 alloc_space, 4 bytes,
 * 5 inuse_objects, 6 inuse_space, 7 space, 8 /usr/bin/app, 9 abcdef01,
 * 10 leak_fast, 11 app.c, 12 main, 13 malloc, 14 churn, 15 helper */
static const char *const strs[] = {"", "alloc_objects", "count", "alloc_space",
    "bytes", "inuse_objects", "inuse_space", "space", "/usr/bin/app",
    "abcdef01", "leak_fast", "app.c", "main", "malloc", "churn", "helper"};

static void value_type(enc *e, unsigned field, uint64_t type, uint64_t unit)
{
    enc m = {.n = 0};
    put_int(&m, 1, type);
    put_int(&m, 2, unit);
    put_msg(e, field, &m);
}

static void function(enc *e, uint64_t id, uint64_t name, uint64_t file)
{
    enc m = {.n = 0};
    put_int(&m, 1, id);
    put_int(&m, 2, name);
    put_int(&m, 4, file);
    put_msg(e, 5, &m);
}

/* location with lines (fn_ids/lines, innermost first) or none */
static void location(enc *e, uint64_t id, uint64_t addr, const uint64_t *fns,
                     const int64_t *lines, size_t nl)
{
    enc m = {.n = 0};
    put_int(&m, 1, id);
    put_int(&m, 2, 1);
    put_int(&m, 3, addr);
    for (size_t i = 0; i < nl; i++) {
        enc l = {.n = 0};
        put_int(&l, 1, fns[i]);
        put_int(&l, 2, (uint64_t)lines[i]);
        put_msg(&m, 4, &l);
    }
    put_msg(e, 4, &m);
}

static void sample(enc *e, const uint64_t *locs, size_t nlocs, int64_t objs,
                   int64_t space, int packed)
{
    enc m = {.n = 0};
    uint64_t v[4] = {(uint64_t)objs, (uint64_t)space, (uint64_t)objs,
                     (uint64_t)space};
    if (packed) {
        put_packed(&m, 1, locs, nlocs);
    } else {
        for (size_t i = 0; i < nlocs; i++)
            put_int(&m, 1, locs[i]);
    }
    put_packed(&m, 2, v, 4);
    put_msg(e, 2, &m);
}

/* The reference profile:
 *  loc 1: malloc (allocator, dropped) ; loc 2: leak_fast app.c:42 ;
 *  loc 3: main app.c:7 ; loc 4: no lines, address 0x401234 in app ;
 *  loc 5: inlined helper app.c:20 inside churn app.c:30.
 *  samples: [1,2,3] 3 objs 3 MiB (packed) ; [2,3] 1 obj 1 MiB (unpacked,
 *  same stack once malloc is dropped) ; [4,3] 2 objs 512 KiB ; [5,3] 1 obj
 *  4 KiB. */
static void build_profile(enc *e)
{
    enc m = {.n = 0};
    uint64_t f1[] = {1}, f2[] = {2}, f3[] = {3}, f5[] = {5, 4};
    int64_t l1[] = {0}, l2[] = {42}, l3[] = {7}, l5[] = {20, 30};
    uint64_t s1[] = {1, 2, 3}, s2[] = {2, 3}, s3[] = {4, 3}, s4[] = {5, 3};

    e->n = 0;
    value_type(e, 1, 1, 2);
    value_type(e, 1, 3, 4);
    value_type(e, 1, 5, 2);
    value_type(e, 1, 6, 4);
    sample(e, s1, 3, 3, 3 << 20, 1);
    sample(e, s2, 2, 1, 1 << 20, 0);
    sample(e, s3, 2, 2, 512 << 10, 1);
    sample(e, s4, 2, 1, 4096, 1);
    put_int(&m, 1, 1);
    put_int(&m, 2, 0x400000);
    put_int(&m, 3, 0x500000);
    put_int(&m, 4, 0);
    put_int(&m, 5, 8);
    put_int(&m, 6, 9);
    put_msg(e, 3, &m);
    location(e, 1, 0x401000, f1, l1, 1);
    location(e, 2, 0x401100, f2, l2, 1);
    location(e, 3, 0x401200, f3, l3, 1);
    location(e, 4, 0x401234, NULL, NULL, 0);
    location(e, 5, 0x401300, f5, l5, 2);
    function(e, 1, 13, 0);
    function(e, 2, 10, 11);
    function(e, 3, 12, 11);
    function(e, 4, 14, 11);
    function(e, 5, 15, 11);
    /* the string table after its users, as the decoder must allow */
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        put_bytes(e, 6, strs[i], strlen(strs[i]));
    put_int(e, 9, 1700000000123456789ull);
    value_type(e, 11, 7, 4);
    put_int(e, 12, 524288);
    put_int(e, 14, 6);
}

static void test_decode(void **state)
{
    enc e;
    cli_pprof p;
    const cli_pprof_location *loc;
    const cli_pprof_mapping *m;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(p.ntypes, 4);
    assert_string_equal(p.types[3].type, "inuse_space");
    assert_string_equal(p.types[3].unit, "bytes");
    assert_int_equal(p.nsamples, 4);
    assert_int_equal(p.samples[0].nlocs, 3);
    assert_int_equal(p.locids[p.samples[0].loc0], 1);
    assert_int_equal(p.values[p.samples[0].val0 + 3], 3 << 20);
    assert_int_equal(p.samples[1].nlocs, 2);
    assert_int_equal(p.nmappings, 1);
    m = cli_pprof_mapping_get(&p, 1);
    assert_non_null(m);
    assert_string_equal(m->filename, "/usr/bin/app");
    assert_string_equal(m->build_id, "abcdef01");
    assert_int_equal(m->start, 0x400000);
    loc = cli_pprof_location_get(&p, 5);
    assert_non_null(loc);
    assert_int_equal(loc->nlines, 2);
    assert_int_equal(p.lines[loc->line0 + 1].line, 30);
    assert_null(cli_pprof_location_get(&p, 99));
    assert_string_equal(cli_pprof_function_get(&p, 2)->name, "leak_fast");
    assert_int_equal(p.time_nanos, 1700000000123456789ll);
    assert_int_equal(p.period, 524288);
    assert_string_equal(p.period_type.type, "space");
    assert_string_equal(p.default_type, "inuse_space");
    assert_int_equal(cli_pprof_value_index(&p, NULL), 3);
    assert_int_equal(cli_pprof_value_index(&p, "alloc_space"), 1);
    assert_int_equal(cli_pprof_value_index(&p, "cpu"), -ENOENT);
    cli_pprof_release(&p);
    cli_pprof_release(&p); /* twice is harmless */
}

static void test_stacks(void **state)
{
    enc e;
    cli_pprof p;
    cli_stacks st;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(cli_stacks_build(&p, 3, NULL, NULL, &st), 0);
    assert_int_equal(st.total, (3 << 20) + (1 << 20) + (512 << 10) + 4096);
    assert_int_equal(st.period, 524288);
    assert_true(st.time_s > 1.7e9 && st.time_s < 1.7e9 + 1);
    assert_int_equal(st.n, 3); /* the first two samples merge */
    assert_string_equal(st.v[0].site, "leak_fast (app.c:42)");
    assert_string_equal(st.v[0].folded, "main;leak_fast");
    assert_int_equal(st.v[0].value, 4 << 20);
    assert_int_equal(st.v[0].values[0], 4);   /* alloc_objects */
    assert_int_equal(st.v[0].values[2], 4);   /* inuse_objects */
    assert_string_equal(st.v[1].site, "app+0x1234");
    assert_string_equal(st.v[1].folded, "main;app+0x1234");
    /* inlined helper inside churn: two frames */
    assert_string_equal(st.v[2].site, "helper (app.c:20)");
    assert_string_equal(st.v[2].folded, "main;churn;helper");
    assert_non_null(strstr(st.v[2].key, "helper@app.c:20|churn@app.c:30|main"));
    cli_stacks_release(&st);
    /* by object count */
    assert_int_equal(cli_stacks_build(&p, 2, NULL, NULL, &st), 0);
    assert_int_equal(st.total, 7);
    cli_stacks_release(&st);
    assert_int_equal(cli_stacks_build(&p, 9, NULL, NULL, &st), -EINVAL);
    cli_pprof_release(&p);
}

/* A symbolizer that names address-only frames. */
static int fake_sym(void *ctx, const cli_pprof_mapping *m, uint64_t addr,
                    int pc_is_return, cli_frame *frames, int max)
{
    int *calls = ctx;
    (*calls)++;
    assert_string_equal(m->filename, "/usr/bin/app");
    assert_int_equal(addr, 0x401234);
    assert_int_equal(pc_is_return, 0); /* loc 4 is the leaf of its sample */
    assert_true(max >= 1);
    frames[0].function = "parse_request";
    frames[0].file = "/src/net/req.c";
    frames[0].line = 88;
    return 1;
}

static void test_symbolizer_callback(void **state)
{
    enc e;
    cli_pprof p;
    cli_stacks st;
    int calls = 0;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    /* only the address-only location is symbolized: once per pass (the
     * wrapper detection's pass, then the stacks'; cli_symbolize caches
     * by address), once without the detection */
    assert_int_equal(cli_stacks_build(&p, 3, fake_sym, &calls, &st), 0);
    assert_int_equal(calls, 2);
    assert_string_equal(st.v[1].site, "parse_request (req.c:88)");
    assert_string_equal(st.v[1].folded, "main;parse_request");
    cli_stacks_release(&st);
    calls = 0;
    cli_heap_auto_skip_set(0);
    assert_int_equal(cli_stacks_build(&p, 3, fake_sym, &calls, &st), 0);
    cli_heap_auto_skip_set(1);
    assert_int_equal(calls, 1);
    assert_string_equal(st.v[1].site, "parse_request (req.c:88)");
    cli_stacks_release(&st);
    cli_pprof_release(&p);
}

static void test_allocator_names(void **state)
{
    (void)state;
    assert_true(cli_is_allocator_frame("malloc"));
    assert_true(cli_is_allocator_frame("operator new(unsigned long)"));
    assert_true(cli_is_allocator_frame("_Znwm"));
    assert_true(cli_is_allocator_frame("posix_memalign"));
    assert_false(cli_is_allocator_frame("malloc_wrapper_in_app"));
    /* wrappers and the C++ standard library: the caller is the site */
    assert_true(cli_is_allocator_frame("zmalloc_usable"));
    assert_true(cli_is_allocator_frame("ztrymalloc_usable_internal"));
    assert_true(cli_is_allocator_frame("g_malloc0"));
    assert_true(cli_is_allocator_frame("PyObject_Malloc"));
    assert_true(cli_is_allocator_frame("ngx_palloc"));
    assert_true(cli_is_allocator_frame("std::__new_allocator<int>::allocate"));
    assert_true(cli_is_allocator_frame("std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>"));
    assert_true(cli_is_allocator_frame("__gnu_cxx::new_allocator<char>::allocate"));
    assert_false(cli_is_allocator_frame("_sdsnewlen"));
    assert_false(cli_is_allocator_frame("store::Shelf<int>::grow"));
    assert_false(cli_is_allocator_frame("stdio_flush"));
    assert_false(cli_is_allocator_frame("main"));
    assert_false(cli_is_allocator_frame(NULL));
}


/* ---- pprof_autoskip.c: wrappers found from the profile's shape ---- */

/* Strings of the synthetic profiles below; function k is named wstrs[k]
 * and sits alone at location k (file app.c, line 100 + k). */
static const char *const wstrs[] = {"", "alloc_objects", "count",
    "alloc_space", "bytes", "inuse_objects", "inuse_space", "space",
    "malloc", "my_xalloc", "caller_a", "caller_b", "caller_c", "caller_d",
    "caller_e", "caller_f", "leak_node", "main", "app.c", "zmalloc",
    "load_index"};
enum { W_MALLOC = 8, W_XALLOC, W_A, W_B, W_C, W_D, W_E, W_F, W_LEAK, W_MAIN,
       W_FILE, W_ZMALLOC, W_LOAD, W_N };

typedef struct wsample {
    uint64_t locs[6];   /* leaf first, 0-terminated */
    int64_t bytes;
} wsample;

static void build_shaped(enc *e, const wsample *ws, size_t n)
{
    e->n = 0;
    value_type(e, 1, 1, 2);
    value_type(e, 1, 3, 4);
    value_type(e, 1, 5, 2);
    value_type(e, 1, 6, 4);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < 6 && ws[i].locs[k])
            k++;
        sample(e, ws[i].locs, k, 1, ws[i].bytes, 1);
    }
    for (uint64_t f = W_MALLOC; f < W_N; f++) {
        uint64_t fn[] = {f};
        int64_t ln[] = {(int64_t)(100 + f)};
        if (f == W_FILE)
            continue;
        location(e, f, 0x401000 + f * 16, fn, ln, 1);
        function(e, f, f, W_FILE);
    }
    for (size_t i = 0; i < sizeof wstrs / sizeof wstrs[0]; i++)
        put_bytes(e, 6, wstrs[i], strlen(wstrs[i]));
    put_int(e, 12, 4096);
}

static const cli_stack *find_site(const cli_stacks *st, const char *fn)
{
    for (size_t i = 0; i < st->n; i++)
        if (strncmp(st->v[i].site, fn, strlen(fn)) == 0 &&
            st->v[i].site[strlen(fn)] == ' ')
            return &st->v[i];
    return NULL;
}

static int skipped_kind(const cli_stacks *st, const char *fn)
{
    for (size_t i = 0; i < st->nskipped; i++)
        if (strcmp(st->skipped[i].function, fn) == 0)
            return st->skipped[i].kind;
    return CLI_SKIP_NONE;
}

static void build_stacks(const wsample *ws, size_t n, cli_stacks *st)
{
    enc e;
    cli_pprof p;

    build_shaped(&e, ws, n);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(cli_stacks_build(&p, 3, NULL, NULL, st), 0);
    cli_pprof_release(&p);
}

/* A program's own wrapper under six callers: skipped, its callers are the
 * sites, and the leak behind it (caller_a, 90% of its bytes) ranks first;
 * --no-auto-skip brings the wrapper back. */
static void test_autoskip_wrapper(void **state)
{
    const wsample ws[] = {
        {{W_MALLOC, W_XALLOC, W_A, W_MAIN}, 9 << 20},
        {{W_MALLOC, W_XALLOC, W_B, W_MAIN}, 256 << 10},
        {{W_MALLOC, W_XALLOC, W_C, W_MAIN}, 256 << 10},
        {{W_MALLOC, W_XALLOC, W_D, W_MAIN}, 128 << 10},
        {{W_MALLOC, W_XALLOC, W_E, W_MAIN}, 64 << 10},
        {{W_MALLOC, W_XALLOC, W_F, W_MAIN}, 64 << 10},
        {{W_MALLOC, W_ZMALLOC, W_LOAD, W_MAIN}, 1 << 20},
    };
    cli_stacks st;
    (void)state;

    build_stacks(ws, 7, &st);
    assert_string_equal(st.v[0].site, "caller_a (app.c:110)");
    assert_string_equal(st.v[0].folded, "main;caller_a");
    assert_null(find_site(&st, "my_xalloc"));
    assert_non_null(find_site(&st, "caller_f"));
    assert_non_null(find_site(&st, "load_index"));
    assert_int_equal(skipped_kind(&st, "my_xalloc"), CLI_SKIP_AUTO);
    assert_int_equal(skipped_kind(&st, "zmalloc"), CLI_SKIP_BUILTIN);
    assert_int_equal(skipped_kind(&st, "malloc"), CLI_SKIP_NONE); /* not listed */
    cli_stacks_release(&st);

    cli_heap_auto_skip_set(0);
    build_stacks(ws, 7, &st);
    cli_heap_auto_skip_set(1);
    assert_string_equal(st.v[0].site, "my_xalloc (app.c:109)");
    assert_null(find_site(&st, "caller_a"));
    assert_int_equal(skipped_kind(&st, "my_xalloc"), CLI_SKIP_NONE);
    cli_stacks_release(&st);
}

/* A genuine leaking function called from one or two places stays the
 * site; so does one under three callers (below the threshold), and one
 * under four callers that does not sit right above an allocator frame
 * (Go's profiles start at the program's own function). */
static void test_autoskip_keeps_sites(void **state)
{
    const wsample two[] = {
        {{W_MALLOC, W_LEAK, W_A, W_MAIN}, 9 << 20},
        {{W_MALLOC, W_LEAK, W_B, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_C, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_D, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_E, W_MAIN}, 1 << 20},
        {{W_XALLOC, W_A, W_MAIN}, 1 << 20},
        {{W_XALLOC, W_B, W_MAIN}, 1 << 20},
        {{W_XALLOC, W_C, W_MAIN}, 1 << 20},
        {{W_XALLOC, W_D, W_MAIN}, 1 << 20},
    };
    const wsample four[] = {
        {{W_MALLOC, W_LOAD, W_C, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_D, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_E, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_F, W_MAIN}, 1 << 20},
        {{W_MALLOC, W_LOAD, W_F, W_A}, 1 << 20}, /* same caller again */
    };
    const cli_stack *leak;
    cli_stacks st;
    (void)state;

    build_stacks(two, 9, &st);
    leak = find_site(&st, "leak_node");
    assert_non_null(leak);
    assert_int_equal(leak->value, 9 << 20); /* the a-path, by line */
    assert_string_equal(st.v[0].site, "leak_node (app.c:116)");
    assert_non_null(find_site(&st, "load_index"));
    assert_non_null(find_site(&st, "my_xalloc"));
    assert_null(find_site(&st, "caller_a"));
    assert_int_equal(st.nskipped, 0);
    cli_stacks_release(&st);

    /* four distinct callers (caller_f twice): the threshold */
    build_stacks(four, 5, &st);
    assert_null(find_site(&st, "load_index"));
    assert_int_equal(skipped_kind(&st, "load_index"), CLI_SKIP_AUTO);
    cli_stacks_release(&st);
}

static void test_autoskip_collector(void **state)
{
    cli_autoskip *a = cli_autoskip_new();
    (void)state;

    assert_non_null(a);
    assert_int_equal(cli_autoskip_add(a, NULL, "x"), -EINVAL);
    for (int i = 0; i < 8; i++) {
        char c[16];
        snprintf(c, sizeof c, "f%d", i % 4);
        assert_int_equal(cli_autoskip_add(a, "wrap", c), 0);
        assert_int_equal(cli_autoskip_add(a, "main", c), 0);
    }
    assert_int_equal(cli_autoskip_add(a, "once", "f1"), 0);
    assert_int_equal(cli_autoskip_decide(a), 0);
    assert_true(cli_autoskip_is_wrapper(a, "wrap"));
    assert_false(cli_autoskip_is_wrapper(a, "main")); /* an entry point */
    assert_false(cli_autoskip_is_wrapper(a, "once"));
    assert_false(cli_autoskip_is_wrapper(a, "f1"));
    assert_false(cli_autoskip_is_wrapper(NULL, "wrap"));
    cli_autoskip_free(a);
    cli_autoskip_free(NULL);
}

/* Every truncation is either a valid shorter message or -EBADMSG. */
static void test_truncated_and_garbage(void **state)
{
    enc e;
    cli_pprof p;
    size_t cut;
    uint8_t junk[64];
    (void)state;

    build_profile(&e);
    for (cut = 0; cut < e.n; cut++) {
        int rc = cli_pprof_decode(e.b, cut, &p);
        assert_true(rc == 0 || rc == -EBADMSG);
        if (rc == 0)
            cli_pprof_release(&p);
    }
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    for (cut = 1; cut <= sizeof junk; cut++) {
        int rc = cli_pprof_decode(junk, cut, &p);
        assert_true(rc == 0 || rc == -EBADMSG);
        if (rc == 0)
            cli_pprof_release(&p);
    }
}

static void test_bad_references(void **state)
{
    enc e = {.n = 0}, m = {.n = 0};
    cli_pprof p;
    uint64_t locs[] = {1};
    (void)state;

    /* string index beyond the table */
    value_type(&e, 1, 40, 0);
    put_bytes(&e, 6, "", 0);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), -EBADMSG);
    /* a sample with 4 values in a profile of 1 type */
    e.n = 0;
    value_type(&e, 1, 0, 0);
    sample(&e, locs, 1, 1, 1, 1);
    put_bytes(&e, 6, "", 0);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), -EBADMSG);
    /* string_table[0] must be "" */
    e.n = 0;
    value_type(&e, 1, 0, 0);
    put_bytes(&e, 6, "x", 1);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), -EBADMSG);
    /* a sample naming a missing location: decodes, stacks refuse */
    e.n = 0;
    value_type(&e, 1, 0, 0);
    put_int(&m, 1, 7);
    put_packed(&m, 2, locs, 1);
    put_msg(&e, 2, &m);
    put_bytes(&e, 6, "", 0);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    {
        cli_stacks st;
        assert_int_equal(cli_stacks_build(&p, 0, NULL, NULL, &st), -EBADMSG);
    }
    cli_pprof_release(&p);
    /* an empty message is an empty profile */
    assert_int_equal(cli_pprof_decode(e.b, 0, &p), 0);
    assert_int_equal(p.nsamples, 0);
    assert_int_equal(cli_pprof_value_index(&p, NULL), -ENOENT);
    cli_pprof_release(&p);
}

static size_t gzip_bytes(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    n = z.total_out;
    deflateEnd(&z);
    return n;
}

static void test_gzip_file(void **state)
{
    enc e;
    static uint8_t gz[70000];
    char path[] = "/tmp/test_cli_pprof.XXXXXX";
    cli_pprof p;
    uint8_t *out;
    size_t gn, on;
    int fd;
    (void)state;

    build_profile(&e);
    gn = gzip_bytes(e.b, e.n, gz, sizeof gz);
    assert_int_equal(cli_pprof_gunzip(gz, gn, &out, &on, 1 << 20), 0);
    assert_int_equal(on, e.n);
    assert_memory_equal(out, e.b, e.n);
    free(out);
    assert_int_equal(cli_pprof_gunzip(gz, gn, &out, &on, 16), -EFBIG);
    assert_int_equal(cli_pprof_gunzip(gz, gn / 2, &out, &on, 1 << 20), -EBADMSG);
    assert_int_equal(cli_pprof_gunzip(e.b, e.n, &out, &on, 1 << 20), -EBADMSG);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, gz, gn), (ssize_t)gn);
    close(fd);
    assert_int_equal(cli_pprof_load(path, &p), 0);
    assert_int_equal(p.nsamples, 4);
    cli_pprof_release(&p);
    /* raw (uncompressed) files are read too */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, e.b, e.n), (ssize_t)e.n);
    close(fd);
    assert_int_equal(cli_pprof_load(path, &p), 0);
    assert_int_equal(p.nlocations, 5);
    cli_pprof_release(&p);
    /* truncated gzip file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, gz, gn - 10), (ssize_t)(gn - 10));
    close(fd);
    assert_int_equal(cli_pprof_load(path, &p), -EBADMSG);
    unlink(path);
    assert_int_equal(cli_pprof_load(path, &p), -ENOENT);
    assert_int_equal(cli_pprof_load("/tmp", &p), -EISDIR);
}

/* The reference profile's tables (types, mapping, locations, functions,
 * strings) with caller-chosen samples: each {locs, nlocs, value}, the value
 * put in all four sample types. */
typedef struct tsample {
    uint64_t locs[8];
    size_t nlocs;
    int64_t value;
} tsample;

static void build_with_samples(enc *e, const tsample *ss, size_t n)
{
    enc m = {.n = 0};
    uint64_t f1[] = {1}, f2[] = {2}, f3[] = {3};
    int64_t l1[] = {0}, l2[] = {42}, l3[] = {7};

    e->n = 0;
    value_type(e, 1, 1, 2);
    value_type(e, 1, 3, 4);
    value_type(e, 1, 5, 2);
    value_type(e, 1, 6, 4);
    for (size_t i = 0; i < n; i++)
        sample(e, ss[i].locs, ss[i].nlocs, ss[i].value, ss[i].value, 1);
    put_int(&m, 1, 1);
    put_int(&m, 2, 0x400000);
    put_int(&m, 3, 0x500000);
    put_int(&m, 5, 8);
    put_msg(e, 3, &m);
    location(e, 1, 0x401000, f1, l1, 1);
    location(e, 2, 0x401100, f2, l2, 1);
    location(e, 3, 0x401200, f3, l3, 1);
    location(e, 4, 0x401234, NULL, NULL, 0);
    function(e, 1, 13, 0);
    function(e, 2, 10, 11);
    function(e, 3, 12, 11);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        put_bytes(e, 6, strs[i], strlen(strs[i]));
}

/* A "module+0x..." fallback frame at the leaf of a stack deep enough that
 * the frame array is reallocated after it was stored: its name must not
 * point into the old array (ASan: heap-use-after-free in sample_frames). */
static void test_fallback_frame_survives_realloc(void **state)
{
    static const tsample ss[] = {
        {{4, 3, 3, 3, 3, 3}, 6, 100},      /* fallback leaf, then 5 frames */
        {{1, 4, 3, 3, 3, 3, 3}, 7, 50},    /* malloc, then the same */
        {{1, 1, 1, 2, 3, 3, 3}, 7, 10},    /* allocator frames, then code */
    };
    enc e;
    cli_pprof p;
    cli_stacks st;
    (void)state;

    build_with_samples(&e, ss, 3);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(cli_stacks_build(&p, 3, NULL, NULL, &st), 0);
    assert_int_equal(st.n, 2); /* malloc dropped: the first two merge */
    assert_int_equal(st.total, 160);
    assert_string_equal(st.v[0].site, "app+0x1234");
    assert_string_equal(st.v[0].folded, "main;main;main;main;main;app+0x1234");
    assert_int_equal(st.v[0].value, 150);
    assert_non_null(strstr(st.v[0].key, "app+0x1234@:0|main@app.c:7|"));
    assert_string_equal(st.v[1].site, "leak_fast (app.c:42)");
    assert_string_equal(st.v[1].folded, "main;main;main;leak_fast");
    assert_int_equal(st.v[1].value, 10);
    cli_stacks_release(&st);
    cli_pprof_release(&p);
}

/* Values near the int64 limits: sums saturate instead of overflowing
 * (UBSan: signed integer overflow in cli_stacks_build). */
static void test_sums_saturate(void **state)
{
    static const tsample ss[] = {
        {{2, 3}, 2, INT64_MAX - 1},
        {{2, 3}, 2, 5},
        {{3}, 1, INT64_MIN + 1},
        {{3}, 1, -10},
    };
    enc e;
    cli_pprof p;
    cli_stacks st;
    (void)state;

    build_with_samples(&e, ss, 4);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(cli_stacks_build(&p, 3, NULL, NULL, &st), 0);
    /* in sample order: MAX-1 + 5 -> MAX; + (MIN+1) -> 0; - 10 -> -10 */
    assert_int_equal(st.total, -10);
    assert_int_equal(st.n, 2);
    assert_string_equal(st.v[0].folded, "main;leak_fast");
    assert_true(st.v[0].value == INT64_MAX);
    for (int j = 0; j < 4; j++)
        assert_true(st.v[0].values[j] == INT64_MAX);
    assert_string_equal(st.v[1].folded, "main");
    assert_true(st.v[1].value == INT64_MIN);
    assert_true(st.v[1].values[1] == INT64_MIN);
    cli_stacks_release(&st);
    cli_pprof_release(&p);
    assert_true(cli_sat_add64(INT64_MAX, 1) == INT64_MAX);
    assert_true(cli_sat_add64(INT64_MIN, -1) == INT64_MIN);
    assert_true(cli_sat_add64(-3, 5) == 2);
    assert_true(cli_sat_sub64(INT64_MIN, 1) == INT64_MIN);
    assert_true(cli_sat_sub64(0, INT64_MIN) == INT64_MAX);
    assert_true(cli_sat_sub64(7, 9) == -2);
}

/* cli_pprof_parse: raw and gzip'd bytes, the inflate cap, and the decoded
 * size cap (a small message of many empty samples). */
static void test_parse_bytes_and_caps(void **state)
{
    static enc e;
    static uint8_t gz[70000];
    cli_pprof p;
    size_t gn;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_parse(e.b, e.n, 1 << 20, &p), 0);
    assert_int_equal(p.nsamples, 4);
    cli_pprof_release(&p);
    gn = gzip_bytes(e.b, e.n, gz, sizeof gz);
    assert_int_equal(cli_pprof_parse(gz, gn, 1 << 20, &p), 0);
    assert_int_equal(p.nlocations, 5);
    cli_pprof_release(&p);
    assert_int_equal(cli_pprof_parse(gz, gn, 64, &p), -EFBIG);
    assert_int_equal(cli_pprof_parse(gz, gn - 8, 1 << 20, &p), -EBADMSG);
    assert_int_equal(cli_pprof_parse(NULL, 0, 0, &p), 0);
    cli_pprof_release(&p);
}

/* A message that decodes into more than CLI_PPROF_MAX_DECODED_BYTES: 2^25
 * empty locations (2 bytes each, 40 bytes decoded: 1.25 GiB) is refused
 * before anything is allocated. */
static void test_decoded_size_cap(void **state)
{
    size_t n = (size_t)64 << 20;
    uint8_t *b = malloc(n);
    cli_pprof p;
    (void)state;

    assert_non_null(b);
    b[0] = 0x22; /* field 4 (location), length-delimited */
    b[1] = 0;    /* empty */
    for (size_t have = 2; have < n; have *= 2)
        memcpy(b + have, b, have);
    assert_int_equal(cli_pprof_decode(b, n, &p), -EFBIG);
    /* a thousandth of it is fine */
    assert_int_equal(cli_pprof_decode(b, n / 1024, &p), 0);
    assert_int_equal(p.nlocations, n / 2048);
    cli_pprof_release(&p);
    free(b);
}

/* A stack keeps its 1024 innermost frames (a crafted sample of thousands
 * of locations costs bounded memory). */
static void test_deep_stack_cut(void **state)
{
    static tsample deep; /* locs[] holds 8: the sample is written by hand */
    static uint64_t locs[3000];
    enc e;
    cli_pprof p;
    cli_stacks st;
    size_t semis = 0;
    (void)state;

    build_with_samples(&e, &deep, 0);
    locs[0] = 1; /* malloc, dropped */
    locs[1] = 2; /* leak_fast */
    for (size_t i = 2; i < 3000; i++)
        locs[i] = 3;
    sample(&e, locs, 3000, 1, 4096, 1);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(cli_stacks_build(&p, 3, NULL, NULL, &st), 0);
    assert_int_equal(st.n, 1);
    assert_string_equal(st.v[0].site, "leak_fast (app.c:42)");
    for (const char *c = st.v[0].folded; *c; c++)
        semis += *c == ';';
    assert_int_equal(semis, 1022); /* 1024 frames less malloc: 1023 names */
    assert_int_equal(strlen(st.v[0].folded), 1022 * 5 + 9);
    cli_stacks_release(&st);
    cli_pprof_release(&p);
}

/* The stacks' text is bounded: one 160 KiB function name in a location of
 * 16 inlined frames, 64 times in one sample, would make a 320 MiB key. */
static void test_stack_text_cap(void **state)
{
    size_t big = 160 << 10, n;
    enc e = {.n = 0}, m = {.n = 0}, *tail = malloc(sizeof *tail);
    uint8_t *msg = malloc(big + 2 * sizeof e.b);
    uint64_t fns[16], locs[64];
    int64_t lines[16];
    cli_pprof p;
    cli_stacks st;
    (void)state;

    assert_non_null(msg);
    assert_non_null(tail);
    for (int i = 0; i < 16; i++) {
        fns[i] = 1;
        lines[i] = i + 1;
    }
    for (int i = 0; i < 64; i++)
        locs[i] = 1;
    value_type(&e, 1, 1, 2);
    sample(&e, locs, 64, 1, 1, 1); /* four values: four types */
    value_type(&e, 1, 1, 2);
    value_type(&e, 1, 1, 2);
    value_type(&e, 1, 1, 2);
    location(&e, 1, 0x401000, fns, lines, 16);
    put_int(&m, 1, 1);
    put_int(&m, 2, 3);
    put_msg(&e, 5, &m);
    put_bytes(&e, 6, "", 0);
    put_bytes(&e, 6, "alloc_objects", 13);
    put_bytes(&e, 6, "count", 5);
    memcpy(msg, e.b, e.n);
    n = e.n;
    tail->n = 0;
    put_varint(tail, 6 << 3 | 2); /* string 3: the long name */
    put_varint(tail, big);
    memcpy(msg + n, tail->b, tail->n);
    n += tail->n;
    memset(msg + n, 'f', big);
    n += big;
    assert_int_equal(cli_pprof_decode(msg, n, &p), 0);
    assert_int_equal(cli_stacks_build(&p, 0, NULL, NULL, &st),
                     CLI_PPROF_ESTACKS);
    cli_pprof_release(&p);
    free(tail);
    free(msg);
}

/* Millions of empty samples (4 bytes each in the file, a 72-byte stack
 * record each) are refused before the records are allocated. */
static void test_many_samples_cap(void **state)
{
    size_t ns = CLI_STACKS_MAX_BYTES / sizeof(cli_stack) + 1, n = 0;
    uint8_t *b = malloc(ns * 4 + 64);
    cli_pprof p;
    cli_stacks st;
    (void)state;

    assert_non_null(b);
    memcpy(b, "\x0a\x00", 2); /* sample_type {} */
    n = 2;
    for (size_t i = 0; i < ns; i++) {
        memcpy(b + n, "\x12\x02\x10\x00", 4); /* sample {value: 0} */
        n += 4;
    }
    memcpy(b + n, "\x32\x00", 2); /* string_table "" */
    n += 2;
    assert_int_equal(cli_pprof_decode(b, n, &p), 0);
    assert_int_equal(p.nsamples, ns);
    assert_int_equal(cli_stacks_build(&p, 0, NULL, NULL, &st),
                     CLI_PPROF_ESTACKS);
    cli_pprof_release(&p);
    free(b);
}

/* cli_pprof_load reads regular files only and never blocks opening one:
 * a FIFO is refused at once (before the fix, open() waited for a writer
 * forever; the alarm turns that into a failure). */
static void test_load_fifo_refused(void **state)
{
    char dir[] = "/tmp/test_cli_pprof_fifo.XXXXXX", path[64];
    cli_pprof p;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/heap-1-1.pb.gz", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10);
    assert_int_equal(cli_pprof_load(path, &p), -EINVAL);
    alarm(0);
    assert_string_equal(cli_pprof_strerror(-EINVAL), "not a regular file");
    assert_int_equal(cli_pprof_load("/dev/null", &p), -EINVAL);
    unlink(path);
    rmdir(dir);
}

/* cli_open_regular stat()s before it opens: a FIFO is refused without
 * being opened, so a writer blocked in open() stays blocked (before the
 * fix the reader's non-blocking open released it and its byte was lost),
 * and a device is refused likewise (its open hook never runs; not
 * observable here, so only the refusal is checked). */
static void test_open_regular_stat_first(void **state)
{
    char dir[] = "/tmp/test_cli_pprof_fifo.XXXXXX", path[64];
    uint64_t size = 1;
    cli_pprof p;
    pid_t w;
    int fd;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/heap-1-1.pb.gz", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10);
    w = blocked_writer(path);
    assert_int_equal(cli_pprof_load(path, &p), -EINVAL);
    assert_true(writer_still_blocked(w));
    w = blocked_writer(path);
    assert_int_equal(cli_open_regular(path, &size), -EINVAL);
    assert_true(writer_still_blocked(w));
    alarm(0);
    assert_int_equal(size, 1); /* untouched on failure */
    assert_int_equal(cli_open_regular("/dev/null", &size), -EINVAL);
    assert_string_equal(cli_pprof_strerror(cli_open_regular("/dev/null", NULL)),
                        "not a regular file");
    assert_int_equal(cli_open_regular(dir, NULL), -EISDIR);
    unlink(path);
    assert_int_equal(cli_open_regular(path, NULL), -ENOENT);
    /* a regular file: its fd and size */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    fd = cli_open_regular(path, &size);
    assert_true(fd >= 0);
    assert_int_equal(size, 3);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    unlink(path);
    rmdir(dir);
}

/* Each cause its own message: the stacks' cap is not a file's size cap. */
static void test_strerror_distinct(void **state)
{
    (void)state;
    assert_string_equal(cli_pprof_strerror(CLI_PPROF_ESTACKS),
                        "stacks over 256 MiB (too many samples, or long "
                        "names in deep stacks)");
    assert_string_equal(cli_pprof_strerror(CLI_PPROF_ENOTYPE),
                        "no such sample type in the profile");
    assert_string_equal(cli_pprof_strerror(-ENOENT),
                        "No such file or directory");
    assert_true(strstr(cli_pprof_strerror(-EFBIG), "256 MiB as stored"));
}


/* ---- writing (pprof_write.c), symbolizing and subtracting (pprof_edit.c),
 * text (pprof_text.c) ---- */

/* A symbolizer giving loc 4 two frames: parse inlined into serve, with
 * linkage names and start lines. */
static int inline_sym(void *ctx, const cli_pprof_mapping *m, uint64_t addr,
                      int pc_is_return, cli_frame *frames, int max)
{
    (void)ctx;
    (void)m;
    (void)pc_is_return;
    if (addr != 0x401234 || max < 2)
        return 0;
    frames[0].function = "net::Req<int>::parse";
    frames[0].system_name = "_ZN3net3ReqIiE5parseEv";
    frames[0].file = "/src/net/req.c";
    frames[0].line = 88;
    frames[0].start_line = 80;
    frames[1].function = "serve";
    frames[1].file = "/src/net/srv.c";
    frames[1].line = 12;
    frames[1].start_line = 10;
    return 2;
}

static const cli_pprof_function *fn_named(const cli_pprof *p, const char *name)
{
    for (size_t i = 0; i < p->nfunctions; i++)
        if (!strcmp(p->functions[i].name, name))
            return &p->functions[i];
    return NULL;
}

static void test_symbolize_encode_roundtrip(void **state)
{
    enc e;
    cli_pprof p, q;
    cli_stacks st;
    mv_buf raw, gz;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    assert_int_equal(cli_pprof_symbolize(&p, inline_sym, NULL), 0);
    /* only the address-only location got lines; new functions after 5 */
    assert_int_equal(p.nfunctions, 7);
    const cli_pprof_location *l4 = cli_pprof_location_get(&p, 4);
    assert_int_equal(l4->nlines, 2);

    mv_buf_init(&raw);
    assert_int_equal(cli_pprof_encode(&p, &raw), 0);
    assert_int_equal(cli_pprof_decode((const uint8_t *)raw.data, raw.len, &q), 0);
    /* what the profile said survives */
    assert_int_equal(q.ntypes, 4);
    assert_string_equal(q.types[3].type, "inuse_space");
    assert_int_equal(q.nsamples, 4);
    assert_int_equal(q.period, 524288);
    assert_string_equal(q.period_type.type, "space");
    assert_int_equal(q.time_nanos, 1700000000123456789ll);
    assert_string_equal(q.default_type, "inuse_space");
    assert_int_equal(q.nmappings, 1);
    assert_string_equal(q.mappings[0].filename, "/usr/bin/app");
    assert_string_equal(q.mappings[0].build_id, "abcdef01");
    assert_int_equal(q.mappings[0].start, 0x400000);
    /* the new Function records and Lines, innermost first */
    const cli_pprof_function *f = fn_named(&q, "net::Req<int>::parse");
    assert_non_null(f);
    assert_string_equal(f->system_name, "_ZN3net3ReqIiE5parseEv");
    assert_string_equal(f->filename, "/src/net/req.c");
    assert_int_equal(f->start_line, 80);
    const cli_pprof_location *q4 = cli_pprof_location_get(&q, 4);
    assert_int_equal(q4->address, 0x401234);
    assert_int_equal(q4->nlines, 2);
    assert_int_equal(q.lines[q4->line0].function_id, f->id);
    assert_int_equal(q.lines[q4->line0].line, 88);
    assert_int_equal(q.lines[q4->line0 + 1].line, 12);
    assert_string_equal(cli_pprof_function_get(&q, q.lines[q4->line0 + 1].function_id)->name,
                        "serve");
    /* read without any symbolizer, the stacks name the frames */
    assert_int_equal(cli_stacks_build(&q, 3, NULL, NULL, &st), 0);
    assert_string_equal(st.v[1].site, "net::Req<int>::parse (req.c:88)");
    assert_string_equal(st.v[1].folded, "main;serve;net::Req<int>::parse");
    assert_string_equal(st.v[0].site, "leak_fast (app.c:42)");
    cli_stacks_release(&st);

    /* gzip'd, it parses the same */
    mv_buf_init(&gz);
    assert_int_equal(cli_pprof_gzip(raw.data, raw.len, &gz), 0);
    assert_true((unsigned char)gz.data[0] == 0x1f && (unsigned char)gz.data[1] == 0x8b);
    cli_pprof_release(&q);
    assert_int_equal(cli_pprof_parse((const uint8_t *)gz.data, gz.len,
                                     CLI_PPROF_MAX_INFLATED_BYTES, &q), 0);
    assert_int_equal(q.nfunctions, 7);
    cli_pprof_release(&q);
    mv_buf_release(&gz);
    mv_buf_release(&raw);
    cli_pprof_release(&p);
}

/* Two locations resolving to one function share its record. */
static int same_fn_sym(void *ctx, const cli_pprof_mapping *m, uint64_t addr,
                       int pc_is_return, cli_frame *frames, int max)
{
    (void)ctx;
    (void)m;
    (void)pc_is_return;
    (void)max;
    frames[0].function = "worker";
    frames[0].file = "w.c";
    frames[0].line = (int64_t)(addr & 0xff);
    return 1;
}

static void test_symbolize_shares_functions(void **state)
{
    enc e;
    cli_pprof p;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    /* drop the lines of every location: all five get resolved */
    for (size_t i = 0; i < p.nlocations; i++)
        p.locations[i].nlines = 0;
    assert_int_equal(cli_pprof_symbolize(&p, same_fn_sym, NULL), 0);
    assert_int_equal(p.nfunctions, 6);   /* 5 from the file + "worker" */
    for (size_t i = 0; i < p.nlocations; i++) {
        assert_int_equal(p.locations[i].nlines, 1);
        assert_int_equal(p.lines[p.locations[i].line0].function_id, 6);
    }
    assert_int_equal(cli_pprof_symbolize(&p, NULL, NULL), -EINVAL);
    cli_pprof_release(&p);
}

static void test_subtract(void **state)
{
    enc e;
    cli_pprof a, b;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &a), 0);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &b), 0);
    /* the older profile: sample 0 had 1 object, 1 MiB less; sample 2 the
     * same as now (so it drops out of the delta) */
    a.values[a.samples[0].val0 + 0] -= 1;
    a.values[a.samples[0].val0 + 1] -= 1 << 20;
    a.values[a.samples[0].val0 + 3] -= 1 << 20;
    b.time_nanos = a.time_nanos + 2000000000ll;
    /* a type only b has is left alone */
    assert_int_equal(cli_pprof_subtract(&b, &a), 0);
    assert_int_equal(b.nsamples, 1);
    assert_int_equal(b.values[b.samples[0].val0 + 0], 1);
    assert_int_equal(b.values[b.samples[0].val0 + 1], 1 << 20);
    assert_int_equal(b.values[b.samples[0].val0 + 3], 1 << 20);
    assert_int_equal(b.duration_nanos, 2000000000ll);
    /* the stack is the original one (malloc, leak_fast, main) */
    assert_int_equal(b.samples[0].nlocs, 3);
    cli_pprof_release(&a);
    cli_pprof_release(&b);
}

static void test_text(void **state)
{
    enc e;
    cli_pprof p;
    mv_buf t;
    (void)state;

    build_profile(&e);
    assert_int_equal(cli_pprof_decode(e.b, e.n, &p), 0);
    mv_buf_init(&t);
    assert_int_equal(cli_pprof_text(&p, &t), 0);
    /* totals: in-use objects 3+1+2+1, bytes 3 MiB+1 MiB+512 KiB+4 KiB;
     * Go's "@ heap/" is twice the sampling period */
    assert_non_null(strstr(t.data, "heap profile: 7: 4722688 [7: 4722688] @ heap/1048576\n"));
    /* largest first; addresses as return addresses (+1) */
    assert_non_null(strstr(t.data, "\n3: 3145728 [3: 3145728] @ 0x401001 0x401101 0x401201\n"));
    assert_non_null(strstr(t.data, "#\t0x401101\tleak_fast\tapp.c:42\n"));
    /* inlined frames: one line each, innermost first */
    assert_non_null(strstr(t.data, "#\t0x401301\thelper\tapp.c:20\n#\t0x401301\tchurn\tapp.c:30\n"));
    /* an address-only frame is its address */
    assert_non_null(strstr(t.data, "#\t0x401235\n"));
    assert_true(strstr(t.data, "3: 3145728") < strstr(t.data, "2: 524288"));
    mv_buf_release(&t);
    cli_pprof_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_stacks),
        cmocka_unit_test(test_symbolizer_callback),
        cmocka_unit_test(test_allocator_names),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_bad_references),
        cmocka_unit_test(test_gzip_file),
        cmocka_unit_test(test_fallback_frame_survives_realloc),
        cmocka_unit_test(test_sums_saturate),
        cmocka_unit_test(test_parse_bytes_and_caps),
        cmocka_unit_test(test_decoded_size_cap),
        cmocka_unit_test(test_load_fifo_refused),
        cmocka_unit_test(test_deep_stack_cut),
        cmocka_unit_test(test_stack_text_cap),
        cmocka_unit_test(test_many_samples_cap),
        cmocka_unit_test(test_open_regular_stat_first),
        cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_symbolize_encode_roundtrip),
        cmocka_unit_test(test_symbolize_shares_functions),
        cmocka_unit_test(test_subtract),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_autoskip_wrapper),
        cmocka_unit_test(test_autoskip_keeps_sites),
        cmocka_unit_test(test_autoskip_collector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
