/* mappings.c — the executable mappings a snapshot's profile names: reads
 * /proc/self/maps, gives each file-backed executable mapping the build id of
 * its loaded object (the ELF notes, read from memory via dl_iterate_phdr),
 * and appends the still-unclaimed mappings of objects dlclose unloaded
 * (unloaded.c).
 *
 * No state of its own. mv__heap_read_maps allocates through libc: snapshot
 * time only, guard raised, no table lock held. mv__heap_build_id_of only
 * reads memory (no allocation, no lock): any thread.
 */
#include "heap.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- build ids ---- */

typedef struct seg {
    uintptr_t lo, hi;
    char build_id[80];
} seg;

typedef struct segs {
    seg *v;
    size_t n, cap;
} segs;

static void hex(char *out, size_t cap, const uint8_t *d, size_t n)
{
    static const char x[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        out[o++] = x[d[i] >> 4];
        out[o++] = x[d[i] & 15];
    }
    out[o] = 0;
}

void mv__heap_build_id_of(const struct dl_phdr_info *info, char *out, size_t cap)
{
    out[0] = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *c = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = c + ph->p_memsz;
        while (c + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)c;
            const uint8_t *name = c + sizeof *nh;
            const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((nh->n_descsz + 3) & ~3u);
            if (next > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                hex(out, cap, desc, nh->n_descsz);
                return;
            }
            c = next;
        }
    }
}

static int segs_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
    segs *s = arg;
    (void)sz;
    char bid[80];
    mv__heap_build_id_of(info, bid, sizeof bid);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            seg *nv = realloc(s->v, cap * sizeof *nv);
            if (!nv)
                return 1;
            s->v = nv;
            s->cap = cap;
        }
        seg *g = &s->v[s->n++];
        g->lo = info->dlpi_addr + ph->p_vaddr;
        g->hi = g->lo + ph->p_memsz;
        memcpy(g->build_id, bid, sizeof bid);
    }
    return 0;
}

/* ---- /proc/self/maps ---- */

/* Parses one line of /proc/self/maps, "lo-hi perms offset dev inode [path]",
 * as sscanf("%llx-%llx %7s %llx %*s %*s %n") would: returns the fields read
 * up to the offset (4 for a well-formed line), *x = 1 when perms has an
 * 'x', *path_at = where the path starts, 0 when dev or inode is missing.
 * By hand because sscanf costs ~4k instructions a line, a third of a
 * snapshot (bench/heap/README.md, "Overhead, third pass"). */
static int parse_maps_line(const char *s, unsigned long long *lo, unsigned long long *hi,
                           int *x, unsigned long long *off, int *path_at)
{
    const char *p = s;
    char *e;
    *x = 0;
    *path_at = 0;
    *lo = strtoull(p, &e, 16);
    if (e == p || *e != '-')
        return 0;
    p = e + 1;
    *hi = strtoull(p, &e, 16);
    if (e == p)
        return 1;
    p = e;
    while (*p == ' ')
        p++;
    const char *perms = p;
    while (*p && *p != ' ' && p - perms < 7)
        p++;
    if (p == perms)
        return 2;
    *x = memchr(perms, 'x', (size_t)(p - perms)) != NULL;
    while (*p == ' ')
        p++;
    *off = strtoull(p, &e, 16);
    if (e == p)
        return 3;
    p = e;
    for (int field = 0; field < 2; field++) { /* dev, inode */
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 4;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    *path_at = (int)(p - s);
    return 4;
}

/* Reads /proc/self/maps: executable file-backed mappings, with build ids,
 * then the segments of unloaded objects still unclaimed
 * (mv__heap_add_unloaded: by any executable mapping, file-backed or not). */
int mv__heap_read_maps(mv_heap_pmap **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    for (;;) {
        if (!text) {
            close(fd);
            return -ENOMEM;
        }
        if (len + 4096 > cap) {
            char *nt = realloc(text, cap * 2);
            if (!nt) {
                free(text);
                close(fd);
                return -ENOMEM;
            }
            text = nt;
            cap *= 2;
        }
        ssize_t r = read(fd, text + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    text[len] = 0;

    segs sg = {0};
    /* not in a fork child that may hold the loader's lock (heap.h) */
    if (!mv__heap.loader_lock_suspect)
        dl_iterate_phdr(segs_cb, &sg);

    size_t n = 0, mcap = 16, nx = 0, xcap = 0;
    int x_oom = 0; /* x misses one: then no unloaded segment is added */
    mv_heap_pmap *m = calloc(mcap, sizeof *m);
    mv_heap_xrange *x = NULL;
    for (char *line = text; m && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        unsigned long long lo = 0, hi = 0, off = 0;
        int x_perm = 0, pos = 0;
        int exec = parse_maps_line(line, &lo, &hi, &x_perm, &off, &pos) >= 4 && x_perm;
        if (exec) { /* every executable mapping, for mv__heap_add_unloaded */
            if (nx == xcap) {
                size_t nc = xcap ? xcap * 2 : 64;
                mv_heap_xrange *nv = realloc(x, nc * sizeof *nv);
                if (nv) {
                    x = nv;
                    xcap = nc;
                }
            }
            if (nx < xcap)
                x[nx++] = (mv_heap_xrange){lo, hi};
            else
                x_oom = 1;
        }
        if (exec && pos > 0 && line[pos] == '/') {
            if (n == mcap) {
                mv_heap_pmap *nm = realloc(m, mcap * 2 * sizeof *nm);
                if (!nm)
                    break;
                m = nm;
                mcap *= 2;
            }
            mv_heap_pmap *p = &m[n++];
            memset(p, 0, sizeof *p);
            p->start = lo;
            p->limit = hi;
            p->offset = off;
            snprintf(p->file, sizeof p->file, "%s", line + pos);
            char *del = strstr(p->file, " (deleted)");
            if (del)
                *del = 0;
            for (size_t i = 0; i < sg.n; i++)
                if (lo >= sg.v[i].lo && lo < sg.v[i].hi) {
                    memcpy(p->build_id, sg.v[i].build_id, sizeof p->build_id);
                    break;
                }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(sg.v);
    free(text);
    if (m && x && !x_oom)
        m = mv__heap_add_unloaded(m, &n, &mcap, x, nx);
    free(x);
    if (!m)
        return -ENOMEM;
    *out = m;
    *nout = n;
    return 0;
}
