/* heap_helper.c — a library heap_plugin.c depends on (DT_NEEDED), so it is
 * loaded and unloaded together with the plugin: allocates `mib` MiB in
 * 64 KiB blocks and keeps them (heap_preload.sh, test 12). */
#include <stdlib.h>

__attribute__((visibility("default"))) void *helper_leak(int mib);

__attribute__((noinline)) void *helper_leak(int mib)
{
    void *last = NULL;
    for (int i = 0; i < mib * 16; i++) {
        void **p = malloc(64 * 1024);
        if (!p)
            return NULL;
        *p = last; /* chained, so the blocks stay reachable */
        last = p;
    }
    return last;
}
