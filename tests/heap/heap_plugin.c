/* heap_plugin.c — a plugin for heap_dlclose.c: allocates `mib` MiB in
 * 64 KiB blocks and keeps them (a leak that outlives the plugin), and as
 * much again through helper_leak of libheap_helper.so, a library it
 * depends on (unloaded with it). */
#include <stdlib.h>

__attribute__((visibility("default"))) void *plugin_leak(int mib);
void *helper_leak(int mib);

void *plugin_leak(int mib)
{
    void *last = NULL;
    for (int i = 0; i < mib * 16; i++) {
        void **p = malloc(64 * 1024);
        if (!p)
            return NULL;
        *p = last; /* chained, so the blocks stay reachable */
        last = p;
    }
    return helper_leak(mib) ? last : NULL;
}
