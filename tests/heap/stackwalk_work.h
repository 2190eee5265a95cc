/* stackwalk_work.h — call shapes for test_stackwalk: each calls `probe`
 * from a different kind of frame. stackwalk_work.c is compiled twice, at
 * -O2 without frame pointers (Debian's default flags) with names ending in
 * _o2, and at -O0 with names ending in _o0; stackwalk_lib.c is a shared
 * library reached through the PLT. Single-threaded per call; the probe may
 * run on any thread that calls in. */
#ifndef STACKWALK_WORK_H
#define STACKWALK_WORK_H

typedef int (*sw_probe_fn)(void);

#define SW_DECLARE(sfx)                                                        \
    int sw_recurse##sfx(int n, sw_probe_fn probe);                             \
    int sw_inlined##sfx(int n, sw_probe_fn probe);                             \
    int sw_vla##sfx(int n, sw_probe_fn probe);                                 \
    int sw_bigframe##sfx(sw_probe_fn probe);                                   \
    int sw_via_lib##sfx(int n, sw_probe_fn probe);                             \
    int sw_qsort##sfx(sw_probe_fn probe);
SW_DECLARE(_o2)
SW_DECLARE(_o0)

/* stackwalk_lib.c (libstackwalk_lib.so, -O2): recurses n deep in the
 * library, then calls probe through a pointer. */
int swlib_recurse(int n, sw_probe_fn probe);

#endif
