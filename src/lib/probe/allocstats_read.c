/*
 * allocstats_read.c — reads the calling process's allocator statistics
 * (glibc mallinfo2 and malloc_info, or jemalloc mallctl) and formats them
 * as JSON with no allocation of its own. Depends on libc only: the heap
 * preload compiles this file into itself (src/heap/CMakeLists.txt).
 *
 * A glibc whose arenas are empty (no arena, no mmap'd chunk) is not the
 * allocator in use: -ENOTSUP rather than figures that say "nothing in use".
 *
 * jemalloc is chosen when the process can see a "mallctl" symbol: jemalloc
 * then replaces malloc (linked, or LD_PRELOADed as Debian's
 * libjemalloc.so.2), and glibc's mallinfo2 would describe an arena nobody
 * uses. The lookup is done once and cached (an atomic pointer; a race only
 * repeats the dlsym).
 *
 * glibc has no counter of arenas; malloc_info() prints one <heap nr="N">
 * element per arena, so its output is counted as it is written through a
 * cookie stream (no buffer of the whole document).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "allocstats.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

/* (void *)1 = looked up, not found; NULL = not looked up yet. */
static _Atomic(void *) mallctl_cache;

static mallctl_fn find_mallctl(void)
{
    void *p = atomic_load_explicit(&mallctl_cache, memory_order_acquire);
    if (!p) {
        p = dlsym(RTLD_DEFAULT, "mallctl");
        if (!p)
            p = (void *)1;
        atomic_store_explicit(&mallctl_cache, p, memory_order_release);
    }
    if (p == (void *)1)
        return NULL;
    mallctl_fn fn;
    memcpy(&fn, &p, sizeof fn); /* object pointer to function pointer */
    return fn;
}

const char *mv__alloc_kind_name(int kind)
{
    switch (kind) {
    case MV_ALLOC_GLIBC: return "glibc";
    case MV_ALLOC_JEMALLOC: return "jemalloc";
    default: return "none";
    }
}

int mv__alloc_kind_from_name(const char *name)
{
    if (name && strcmp(name, "glibc") == 0)
        return MV_ALLOC_GLIBC;
    if (name && strcmp(name, "jemalloc") == 0)
        return MV_ALLOC_JEMALLOC;
    return MV_ALLOC_NONE;
}

void mv__alloc_stats_clear(mv__alloc_stats *st)
{
    st->kind = MV_ALLOC_NONE;
    st->in_use_bytes = MV_NA;
    st->free_bytes = MV_NA;
    st->mapped_bytes = MV_NA;
    st->releasable_bytes = MV_NA;
    st->arenas = MV_NA;
}

/* ---- jemalloc ---- */

static int64_t je_size(mallctl_fn ctl, const char *name)
{
    size_t v = 0, len = sizeof v;
    if (ctl(name, &v, &len, NULL, 0) != 0 || len != sizeof v)
        return MV_NA;
    return v > (size_t)INT64_MAX ? MV_NA : (int64_t)v;
}

static int64_t diff_or_na(int64_t a, int64_t b)
{
    if (a == MV_NA || b == MV_NA)
        return MV_NA;
    return a > b ? a - b : 0;
}

static int read_jemalloc(mallctl_fn ctl, mv__alloc_stats *st)
{
    uint64_t epoch = 1;
    size_t elen = sizeof epoch;
    /* the stats are a snapshot taken when the epoch advances */
    if (ctl("epoch", &epoch, &elen, &epoch, sizeof epoch) != 0)
        return -ENOTSUP;
    int64_t allocated = je_size(ctl, "stats.allocated");
    int64_t active = je_size(ctl, "stats.active");
    int64_t resident = je_size(ctl, "stats.resident");
    if (allocated == MV_NA) /* built without --enable-stats */
        return -ENOTSUP;
    unsigned narenas = 0;
    size_t nlen = sizeof narenas;
    st->kind = MV_ALLOC_JEMALLOC;
    st->in_use_bytes = allocated;
    st->free_bytes = diff_or_na(resident, allocated);
    st->mapped_bytes = je_size(ctl, "stats.mapped");
    st->releasable_bytes = diff_or_na(resident, active);
    if (ctl("arenas.narenas", &narenas, &nlen, NULL, 0) == 0 &&
        nlen == sizeof narenas)
        st->arenas = narenas;
    return 0;
}

/* ---- glibc ---- */

/* Counts "<heap nr=" in what malloc_info writes, across write boundaries. */
typedef struct heap_counter {
    int64_t heaps;
    size_t matched; /* characters of the needle matched so far */
} heap_counter;

static const char HEAP_TAG[] = "<heap nr=";

static ssize_t count_write(void *cookie, const char *buf, size_t n)
{
    heap_counter *c = cookie;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == HEAP_TAG[c->matched]) {
            if (++c->matched == sizeof HEAP_TAG - 1) {
                c->heaps++;
                c->matched = 0;
            }
        } else {
            c->matched = buf[i] == HEAP_TAG[0] ? 1 : 0;
        }
    }
    return (ssize_t)n;
}

static int64_t glibc_arenas(void)
{
    heap_counter c = {0, 0};
    cookie_io_functions_t io = {NULL, count_write, NULL, NULL};
    FILE *f = fopencookie(&c, "w", io);
    if (!f)
        return MV_NA;
    int rc = malloc_info(0, f);
    fclose(f); /* flushes into count_write */
    return rc == 0 && c.heaps > 0 ? c.heaps : MV_NA;
}

static int64_t sz(size_t v)
{
    return v > (size_t)INT64_MAX ? MV_NA : (int64_t)v;
}

static int read_glibc(mv__alloc_stats *st, int count_arenas)
{
    struct mallinfo2 mi = mallinfo2();
    /* glibc's malloc has served nothing: another allocator without
     * mallctl (a sanitizer's, tcmalloc, mimalloc) is in charge, and
     * figures of an idle arena would read as "nothing in use" */
    if (mi.arena == 0 && mi.hblkhd == 0)
        return -ENOTSUP;
    st->kind = MV_ALLOC_GLIBC;
    st->in_use_bytes = sz(mi.uordblks + mi.hblkhd);
    st->free_bytes = sz(mi.fordblks);
    st->mapped_bytes = sz(mi.arena + mi.hblkhd);
    st->releasable_bytes = sz(mi.keepcost);
    st->arenas = count_arenas ? glibc_arenas() : MV_NA;
    return 0;
}

int mv__alloc_stats_read(mv__alloc_stats *st)
{
    return mv__alloc_stats_read2(st, 1);
}

int mv__alloc_stats_read2(mv__alloc_stats *st, int count_arenas)
{
    mv__alloc_stats_clear(st);
    mallctl_fn ctl = find_mallctl();
    if (ctl) {
        int rc = read_jemalloc(ctl, st);
        if (rc != 0)
            mv__alloc_stats_clear(st);
        return rc;
    }
    return read_glibc(st, count_arenas);
}

int mv__alloc_trim(void)
{
    mallctl_fn ctl = find_mallctl();
    if (ctl) {
        /* 4096 = MALLCTL_ARENAS_ALL: every arena's dirty pages */
        return ctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0 ? 0 : -ENOTSUP;
    }
    malloc_trim(0);
    return 0;
}

/* ---- JSON ---- */

static int put(char *out, size_t n, size_t *at, const char *key, int64_t v)
{
    int r = v == MV_NA ? snprintf(out + *at, n - *at, ",\"%s\":null", key)
                       : snprintf(out + *at, n - *at, ",\"%s\":%lld", key,
                                  (long long)v);
    if (r < 0 || (size_t)r >= n - *at)
        return -EOVERFLOW;
    *at += (size_t)r;
    return 0;
}

int mv__alloc_stats_format(const mv__alloc_stats *st, char *out, size_t n)
{
    size_t at = 0;
    int r = snprintf(out, n, "{\"kind\":\"%s\"", mv__alloc_kind_name(st->kind));
    if (r < 0 || (size_t)r >= n)
        return -EOVERFLOW;
    at = (size_t)r;
    if (put(out, n, &at, "in_use_bytes", st->in_use_bytes) ||
        put(out, n, &at, "free_bytes", st->free_bytes) ||
        put(out, n, &at, "mapped_bytes", st->mapped_bytes) ||
        put(out, n, &at, "releasable_bytes", st->releasable_bytes) ||
        put(out, n, &at, "arenas", st->arenas) || at + 2 > n)
        return -EOVERFLOW;
    out[at++] = '}';
    out[at] = '\0';
    return (int)at;
}
