/* stackwalk_work.c — the call shapes of stackwalk_work.h, compiled once per
 * WORK_SUFFIX (_o2, _o0; see tests/heap/CMakeLists.txt). Every probe call
 * is followed by work on its result, so no call is a tail call and every
 * frame stays on the stack. */
#include "stackwalk_work.h"

#include <stdlib.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define W(name) CAT(name, WORK_SUFFIX)

__attribute__((noinline)) int W(sw_recurse)(int n, sw_probe_fn probe)
{
    if (n <= 0)
        return probe() + 1;
    int r = W(sw_recurse)(n - 1, probe);
    return r ^ (r >> 3) ^ n; /* not a form gcc turns into a loop */
}

/* At -O2 this is inlined into its caller: the probe's return address lies
 * in sw_inlined's code, under sw_inlined's CFI. */
static inline int W(inl)(int i, sw_probe_fn probe)
{
    return probe() * 2 + i;
}

__attribute__((noinline)) int W(sw_inlined)(int n, sw_probe_fn probe)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += W(inl)(i, probe);
    return s;
}

/* A variable-length array: the CFA is RBP-based even at -O2. */
__attribute__((noinline)) int W(sw_vla)(int n, sw_probe_fn probe)
{
    volatile char buf[n + 1];
    buf[0] = (char)n;
    return probe() + buf[0];
}

/* A frame larger than a page (a big CFA offset). */
__attribute__((noinline)) int W(sw_bigframe)(sw_probe_fn probe)
{
    volatile char buf[20000];
    buf[100] = 1;
    return probe() + buf[100];
}

/* Through the PLT into a shared library that calls back. */
__attribute__((noinline)) int W(sw_via_lib)(int n, sw_probe_fn probe)
{
    return swlib_recurse(n, probe) * 5 + 1;
}

/* libc's qsort calling a comparator of ours that probes: libc's -O2 frames
 * (msort_with_tmp, recursive) between two of ours. */
static sw_probe_fn W(q_probe);

static int W(cmp)(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    W(q_probe)();
    return (x > y) - (x < y);
}

__attribute__((noinline)) int W(sw_qsort)(sw_probe_fn probe)
{
    int v[48];
    for (int i = 0; i < 48; i++)
        v[i] = (i * 37) % 48;
    W(q_probe) = probe;
    qsort(v, 48, sizeof v[0], W(cmp));
    return v[0] + v[47];
}
