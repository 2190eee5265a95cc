/* test_stackwalk.c — the preload's stack walker (src/heap/stackwalk.c)
 * against libgcc's _Unwind_Backtrace on real stacks: code at -O2 without
 * frame pointers and at -O0 (stackwalk_work.c), recursion, inlined calls,
 * variable-length arrays, a frame larger than a page, a shared library
 * reached through the PLT (stackwalk_lib.c), libc's qsort calling back, a
 * second thread (its stack ends in clone3), a signal handler (a signal
 * frame) and a function without unwind information (the walker must give
 * up on both). Each probe walks the same stack both
 * ways and the frames must be the same; then the rule cache: every frame's
 * rule is cached after a walk, a second walk is equal, a tag mismatch is a
 * miss. x86-64 only: elsewhere the walker always gives up (checked). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unwind.h>

#include "stackwalk.h"
#include "stackwalk_work.h"

#define DEPTH 64 /* MV_HEAP_MAX_DEPTH */

/* ---- one probe: walk both ways, compare ---- */

typedef struct gcc_walk {
    uintptr_t f[DEPTH];
    int n;
} gcc_walk;

static _Unwind_Reason_Code gcc_frame(struct _Unwind_Context *ctx, void *arg)
{
    gcc_walk *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    if (!ip)
        return _URC_END_OF_STACK;
    w->f[w->n++] = ip;
    return w->n < DEPTH ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* Results of the probes since the last reset (probes run inside qsort and
 * other threads, so they count rather than assert). */
static struct {
    int stacks, same, gave_up, min_depth, max_depth;
    char first_diff[512];
} tally;

static void tally_reset(void)
{
    memset(&tally, 0, sizeof tally);
    tally.min_depth = DEPTH + 1;
}

/* Walks from here both ways. Both lists start with a return address into
 * this function (from two different calls), so the comparison starts at
 * the second frame: the caller of probe and everything above it. */
static __attribute__((noinline)) int probe(void)
{
    uintptr_t ours[DEPTH];
    int n = mv__heap_unwind(ours, DEPTH, 0, 0);
    gcc_walk g = {.n = 0};
    _Unwind_Backtrace(gcc_frame, &g);
    tally.stacks++;
    if (n < 0) {
        tally.gave_up++;
        return 0;
    }
    if (n < tally.min_depth)
        tally.min_depth = n;
    if (n > tally.max_depth)
        tally.max_depth = n;
    if (n == g.n && n >= 2 && memcmp(ours + 1, g.f + 1, (size_t)(n - 1) * sizeof ours[0]) == 0) {
        tally.same++;
    } else if (!tally.first_diff[0]) {
        int k = 1;
        while (k < n && k < g.n && ours[k] == g.f[k])
            k++;
        snprintf(tally.first_diff, sizeof tally.first_diff,
                 "depth ours %d libgcc %d, first difference at frame %d: %#lx vs %#lx", n, g.n, k,
                 k < n ? (unsigned long)ours[k] : 0ul, k < g.n ? (unsigned long)g.f[k] : 0ul);
    }
    return 1;
}

static void expect_all_same(int min_stacks)
{
    if (tally.first_diff[0])
        fail_msg("%s", tally.first_diff);
    assert_int_equal(tally.gave_up, 0);
    assert_true(tally.stacks >= min_stacks);
    assert_int_equal(tally.same, tally.stacks);
}

/* ---- the shapes, each at -O2 and -O0 ---- */

typedef struct shapes {
    int (*recurse)(int, sw_probe_fn);
    int (*inlined)(int, sw_probe_fn);
    int (*vla)(int, sw_probe_fn);
    int (*bigframe)(sw_probe_fn);
    int (*via_lib)(int, sw_probe_fn);
    int (*qsort_cb)(sw_probe_fn);
} shapes;

static const shapes o2 = {sw_recurse_o2, sw_inlined_o2, sw_vla_o2,
                          sw_bigframe_o2, sw_via_lib_o2, sw_qsort_o2};
static const shapes o0 = {sw_recurse_o0, sw_inlined_o0, sw_vla_o0,
                          sw_bigframe_o0, sw_via_lib_o0, sw_qsort_o0};

static void run_shapes(const shapes *s)
{
    for (int d = 0; d < 80; d += 7) /* 80 deep: past the 64-frame cap */
        s->recurse(d, probe);
    s->inlined(5, probe);
    for (int n = 1; n < 5000; n *= 3)
        s->vla(n, probe);
    s->bigframe(probe);
    for (int d = 0; d < 12; d += 3)
        s->via_lib(d, probe);
    s->qsort_cb(probe);
}

static void test_same_frames_o2(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    tally_reset();
    run_shapes(&o2);
    expect_all_same(150);
    assert_int_equal(tally.max_depth, DEPTH); /* the deep recursion was capped */
    assert_true(tally.min_depth >= 4);
}

static void test_same_frames_o0(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    tally_reset();
    run_shapes(&o0);
    expect_all_same(150);
    assert_int_equal(tally.max_depth, DEPTH);
}

/* Mixed: -O0 code above -O2 code above the library. */
static int mixed_inner(void)
{
    return sw_via_lib_o2(3, probe);
}

static int mixed_mid(void)
{
    return sw_recurse_o0(4, (sw_probe_fn)mixed_inner) + 1;
}

static void test_same_frames_mixed(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    tally_reset();
    sw_qsort_o2(mixed_mid);
    expect_all_same(100);
}

/* A thread's stack ends in clone3, whose CFI marks the return address
 * undefined: both walks must end at the same outermost frame. */
static void *thread_main(void *arg)
{
    (void)arg;
    run_shapes(&o2);
    return NULL;
}

static void test_same_frames_thread(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    tally_reset();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_main, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    expect_all_same(150);
}

/* In a signal handler the stack holds the kernel's signal frame, described
 * by CFI with the 'S' augmentation: the walker gives up (the caller then
 * uses libgcc, which knows signal frames). */
static volatile int sig_result = -2;

static void on_signal(int sig)
{
    (void)sig;
    uintptr_t f[DEPTH];
    sig_result = mv__heap_unwind(f, DEPTH, 0, 0);
}

static void test_signal_frame_gives_up(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    raise(SIGUSR1);
    sigaction(SIGUSR1, &old, NULL);
    assert_int_equal(sig_result, -1);
}

/* A function without unwind information (hand-written, no .cfi
 * directives, so no FDE): a walk through it gives up rather than guess,
 * and the caller would use libgcc. */
int sw_nocfi_call(int (*fn)(void));
__asm__(".text\n"
        ".globl sw_nocfi_call\n"
        ".type sw_nocfi_call, @function\n"
        "sw_nocfi_call:\n"
        "  push %rbx\n"         /* realigns the stack for the call */
        "  call *%rdi\n"
        "  pop %rbx\n"
        "  ret\n"
        ".size sw_nocfi_call, .-sw_nocfi_call\n");

static void test_no_fde_gives_up(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#else
    tally_reset();
    sw_nocfi_call(probe);
    assert_int_equal(tally.stacks, 1);
    assert_int_equal(tally.gave_up, 1);
#endif
}

/* ---- the rule cache ---- */

static uintptr_t cache_frames[DEPTH];
static int cache_n;

static __attribute__((noinline)) int cache_probe(void)
{
    cache_n = mv__heap_unwind(cache_frames, DEPTH, 0, 0);
    return 0;
}

/* Leading frames in [skip_lo, skip_hi) are left out (skip_probe). */
static uintptr_t skip_lo, skip_hi;

static __attribute__((noinline)) int skip_probe(void)
{
    cache_n = mv__heap_unwind(cache_frames, DEPTH, skip_lo, skip_hi);
    return 0;
}

/* Walks `passes` times from one call site (so the frames are the same
 * from pass to pass), calling before(pass) first; pass i's frames go to
 * out[i], their number to ns[i]. */
static __attribute__((noinline)) void walk_passes(sw_probe_fn fn, int passes,
                                                  uintptr_t (*out)[DEPTH], int *ns,
                                                  void (*before)(int pass))
{
    /* A trip count the compiler cannot see keeps the loop (and its one
     * call site) whole: clang -O2 otherwise propagates passes (always 3)
     * into this function and unrolls the loop into three call sites, each
     * pass's frame in walk_passes then its own return address. */
    volatile int npasses = passes;
    for (int i = 0; i < npasses; i++) {
        before(i);
        sw_via_lib_o2(6, fn);
        memcpy(out[i], cache_frames, sizeof out[i]);
        ns[i] = cache_n;
    }
}

static uintptr_t passes_out[3][DEPTH];
static int passes_n[3];

static void cache_before(int pass)
{
    if (pass != 1)
        mv__heap_unwind_cache_clear(); /* passes 0 and 2 start cold, 1 warm */
    if (pass == 2) {
        mv_heap_unwind_rule r;
        assert_false(mv__heap_unwind_cache_lookup(passes_out[0][1], &r));
    }
}

static void test_cache(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    int n = mv__heap_unwind(cache_frames, DEPTH, 0, 0);
    assert_int_equal(n, -1);
    skip();
#endif
#ifndef DLFO_EH_SEGMENT_TYPE
    skip(); /* glibc < 2.35: no _dl_find_object, stackwalk.c caches nothing */
#endif
    walk_passes(cache_probe, 3, passes_out, passes_n, cache_before);
    int n1 = passes_n[0];
    const uintptr_t *first = passes_out[0];
    assert_true(n1 > 8);
    /* the hit path (pass 1) and a cold walk again (pass 2) give the same */
    for (int p = 1; p < 3; p++) {
        assert_int_equal(passes_n[p], n1);
        assert_memory_equal(passes_out[p], first, (size_t)n1 * sizeof first[0]);
    }
    /* every frame's rule is cached (all fit the packed form here), and it
     * is the rule the CFI gives */
    struct {
        void *t, *d, *func;
    } bases;
    extern const void *_Unwind_Find_FDE(void *pc, void *bases);
    mv_heap_unwind_rule r;
    for (int i = 0; i < n1; i++) {
        assert_true(mv__heap_unwind_cache_lookup(first[i], &r));
        const void *fde = _Unwind_Find_FDE((void *)(first[i] - 1), &bases);
        assert_non_null(fde);
        mv_heap_unwind_rule want;
        assert_int_equal(mv__heap_cfi_rule(fde, (uintptr_t)bases.func, first[i] - 1, &want), 0);
        assert_int_equal(r.outermost, want.outermost);
        if (!want.outermost) {
            assert_int_equal(r.cfa_is_rbp, want.cfa_is_rbp);
            assert_int_equal(r.cfa_off, want.cfa_off);
            assert_int_equal(r.rbp_saved, want.rbp_saved);
            if (want.rbp_saved)
                assert_int_equal(r.rbp_off, want.rbp_off);
        }
    }
    /* Same slot, other tag: a miss, never another address's rule. The
     * slot is (ra ^ ra >> 12 ^ ra >> 24) mod 4096: flipping bit 12 and
     * bit 0 together keeps it. */
    uintptr_t alias = first[1] ^ ((uintptr_t)1 << 12) ^ 1;
    assert_false(mv__heap_unwind_cache_lookup(alias, &r));
}

static void skip_before(int pass)
{
    if (pass == 0) {
        skip_lo = skip_hi = 0;
    } else if (pass == 1) { /* the first frame: the walk starts at the second */
        skip_lo = passes_out[0][0];
        skip_hi = skip_lo + 1;
    } else { /* only a later frame: nothing is left out */
        skip_lo = passes_out[0][2];
        skip_hi = skip_lo + 1;
    }
}

static void test_skip(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    walk_passes(skip_probe, 3, passes_out, passes_n, skip_before);
    int n = passes_n[0];
    const uintptr_t *all = passes_out[0];
    assert_true(n > 6);
    assert_int_equal(passes_n[1], n - 1);
    assert_memory_equal(passes_out[1], all + 1, (size_t)(n - 1) * sizeof all[0]);
    assert_int_equal(passes_n[2], n);
    assert_memory_equal(passes_out[2], all, (size_t)n * sizeof all[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_frames_o2),
        cmocka_unit_test(test_same_frames_o0),
        cmocka_unit_test(test_same_frames_mixed),
        cmocka_unit_test(test_same_frames_thread),
        cmocka_unit_test(test_signal_frame_gives_up),
        cmocka_unit_test(test_no_fde_gives_up),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
