/* heap_dlclose.c — dlopens the plugin named by argv[1], lets it leak 8 MiB,
 * dlcloses it and exits. The exit snapshot must still tie the plugin's
 * frames to a mapping naming the plugin's file (heap_preload.sh, test 12).
 * Exit 0, or 1 when the plugin cannot be loaded. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 1;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        fprintf(stderr, "heap_dlclose: %s\n", dlerror());
        return 1;
    }
    void *(*leak)(int) = (void *(*)(int))dlsym(h, "plugin_leak");
    if (!leak || !leak(8))
        return 1;
    return dlclose(h) != 0;
}
