/* heap_dlclose.c — dlopens the plugin named by its last argument (which
 * loads libheap_helper.so with it), lets both leak 8 MiB, dlcloses it and
 * exits. The exit snapshot must still tie the frames of both to mappings
 * naming their files (heap_preload.sh, test 12). Options:
 *   --chdir        chdir("/") after the dlopen (a relative plugin name no
 *                  longer resolves against the working directory)
 *   --reuse        after the dlclose, map anonymous executable memory where
 *                  the plugin's text was (a JIT taking the range over)
 *   --cycles HELP  dlopen HELP (the helper library) first and keep it, so
 *                  that only the plugin unloads; after the plugin's dlclose,
 *                  dlopen and dlclose HELP again 200 times (each a dlclose
 *                  that unloads nothing), then close it for good
 * Exit 0, or 1 on any failure (with a message). */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct text {
    uintptr_t base, lo, hi; /* base: the plugin's l_addr */
} text;

static int text_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
    text *t = arg;
    (void)sz;
    if (info->dlpi_addr != t->base)
        return 0;
    long pg = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            t->lo = lo & ~(uintptr_t)(pg - 1);
            t->hi = (lo + ph->p_memsz + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1);
            return 1;
        }
    }
    return 1;
}

static int die(const char *what)
{
    const char *e = dlerror();
    fprintf(stderr, "heap_dlclose: %s%s%s\n", what, e ? ": " : "", e ? e : "");
    return 1;
}

int main(int argc, char **argv)
{
    int chdir_after = 0, reuse = 0;
    const char *helper = NULL;
    int a = 1;
    for (; a < argc - 1; a++) {
        if (strcmp(argv[a], "--chdir") == 0)
            chdir_after = 1;
        else if (strcmp(argv[a], "--reuse") == 0)
            reuse = 1;
        else if (strcmp(argv[a], "--cycles") == 0 && a + 1 < argc - 1)
            helper = argv[++a];
        else
            return die("usage: heap_dlclose [--chdir] [--reuse] [--cycles HELPER] PLUGIN");
    }
    if (a != argc - 1)
        return die("no plugin");
    void *hh = NULL;
    if (helper && !(hh = dlopen(helper, RTLD_NOW)))
        return die("dlopen helper");
    void *h = dlopen(argv[a], RTLD_NOW);
    if (!h)
        return die("dlopen plugin");
    if (chdir_after && chdir("/") != 0)
        return die("chdir");
    void *(*leak)(int) = (void *(*)(int))dlsym(h, "plugin_leak");
    if (!leak || !leak(8))
        return die("plugin_leak");
    text t = {0, 0, 0};
    struct link_map *lm = NULL;
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return die("dlinfo");
    t.base = lm->l_addr;
    dl_iterate_phdr(text_cb, &t);
    if (dlclose(h) != 0)
        return die("dlclose plugin");
    if (reuse) {
        if (!t.hi)
            return die("no plugin text found");
        void *m = mmap((void *)t.lo, t.hi - t.lo, PROT_READ | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (m != (void *)t.lo)
            return die("mmap at the plugin's old text (still mapped?)");
    }
    if (helper) {
        for (int i = 0; i < 200; i++) {
            void *again = dlopen(helper, RTLD_NOW);
            if (!again || again != hh)
                return die("dlopen helper again");
            if (dlclose(again) != 0)
                return die("dlclose helper (not the last)");
        }
        if (dlclose(hh) != 0)
            return die("dlclose helper");
    }
    return 0;
}
