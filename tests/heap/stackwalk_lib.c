/* stackwalk_lib.c — libstackwalk_lib.so for test_stackwalk: frames in a
 * separate shared object (its own .eh_frame_hdr), reached through the PLT,
 * built at -O2 without frame pointers. */
#include "stackwalk_work.h"

__attribute__((noinline, visibility("default"))) int swlib_recurse(int n, sw_probe_fn probe)
{
    if (n <= 0)
        return probe() + 7;
    int r = swlib_recurse(n - 1, probe);
    return r ^ (r >> 5) ^ n;
}
