/* unloaded.c — remembers the executable mappings of objects dlclose unloads
 * (the dlclose bookkeeping: mv__heap_unload_begin/end, called by interpose.c's
 * dlclose wrapper), so that later snapshots can still name the file and
 * build id of frames inside them (mv__heap_add_unloaded, called by
 * mappings.c).
 *
 * Owns its state: the ring of unloaded segments and its lock `ulock` (a leaf
 * spinlock; reset in a fork child by mv__heap_unloaded_child), and the
 * static note buffers (taken by compare-and-swap, never waited for). The
 * dlclose side never calls malloc; see the notes below and in heap.h.
 */
#include "heap.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Guards the table of unloaded objects' mappings (see below): a leaf lock,
 * held only while comparing and copying entries. */
static atomic_int ulock;

/* The executable mappings of objects that dlclose unloaded, so that a
 * snapshot can still name the file and build id of frames inside a library
 * that is gone from /proc/self/maps. The dlclose wrapper notes every loaded
 * object just before the real dlclose (mv__heap_unload_begin) and, just
 * after it, records the segments of those that vanished: the object the
 * handle names and every dependency that went with it, and nothing for a
 * dlclose that unloads nothing (another reference, RTLD_NODELETE). A ring
 * of the last MAX_UNLOADED segments, guarded by `ulock` (a leaf spinlock,
 * held only while comparing and copying entries: no allocation, no I/O, no
 * other lock; reset in a fork child). ~34 KiB of static storage, untouched
 * (no RSS) until a library unloads. */
#define MAX_UNLOADED 96
static mv_heap_pmap unloaded[MAX_UNLOADED];
static unsigned unloaded_next;  /* total recorded; slot = next % MAX; written
                                   under ulock, read without it atomically */

/* What one dlclose notes: in one of UNL_SLOTS static buffers, taken with a
 * compare-and-swap and given back after the real dlclose — not a lock: a
 * dlclose finding none free (another thread's, or one nested in the
 * destructors the real dlclose runs) notes into an anonymous mapping of
 * its own (mmap), and nobody ever waits. No malloc. A buffer taken by a
 * thread that a fork leaves behind stays taken in the child (then: mmap).
 * Bounded: objects, segments and text beyond the caps are not noted, so
 * they are not recorded either. ~290 KiB of address space each, of which a
 * dlclose touches a few pages (~32 bytes + ~120 bytes of text per loaded
 * object); untouched until the first dlclose. */
#define UNL_SLOTS 2
#define UNL_OBJS 1024
#define UNL_SEGS 2048
#define UNL_TEXT (200 * 1024)

typedef struct unl_obj {
    uintptr_t addr;                  /* dlpi_addr and dlpi_phdr: identity */
    const void *phdr;
    uint32_t file, bid;              /* offsets of path and hex build id in text */
    uint16_t seg, nseg;              /* executable segments: seg[seg..seg+nseg) */
    uint8_t relative;                /* file is not an absolute path (yet) */
    uint8_t present;                 /* still loaded after the dlclose */
} unl_obj;

typedef struct unl_seg {
    uint64_t start, limit, offset;   /* page-rounded, as in /proc/self/maps */
} unl_seg;

struct mv_heap_unload {
    int slot;                        /* index in unl_slot, or -1: mmap'd */
    unsigned long long subs;         /* dlpi_subs when noted */
    int have_subs, same, started;
    unsigned n, nseg, ntext, nrel, cur;
    unl_obj obj[UNL_OBJS];
    unl_seg seg[UNL_SEGS];
    char text[UNL_TEXT];
    char io[8192];                   /* /proc/self/maps, read piecewise */
};

static mv_heap_unload unl_slot[UNL_SLOTS];
static atomic_int unl_taken[UNL_SLOTS];

/* 1 for the objects noted: a name with a '/' (not the executable, "", nor
 * the vdso; dlopen keeps a name with a '/' as given, so it may be relative). */
static int noteworthy(const struct dl_phdr_info *info)
{
    return info->dlpi_name && strchr(info->dlpi_name, '/');
}

static int have_subs(size_t sz)
{
    return sz >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(unsigned long long);
}

static int note_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
    mv_heap_unload *u = arg;
    if (!u->started) {
        u->started = 1;
        u->have_subs = have_subs(sz);
        if (u->have_subs)
            u->subs = info->dlpi_subs;
    }
    if (!noteworthy(info))
        return 0;
    if (u->n == UNL_OBJS)
        return 1;
    unl_obj *o = &u->obj[u->n];
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    o->seg = (uint16_t)u->nseg;
    o->nseg = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        if (u->nseg == UNL_SEGS)
            return 1;
        unl_seg *g = &u->seg[u->nseg++];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        g->start = lo & ~(pg - 1);
        g->limit = (lo + ph->p_memsz + pg - 1) & ~(pg - 1);
        g->offset = ph->p_offset & ~(uint64_t)(pg - 1);
        o->nseg++;
    }
    if (!o->nseg)
        return 0;
    char bid[80];
    mv__heap_build_id_of(info, bid, sizeof bid);
    size_t fl = strnlen(info->dlpi_name, sizeof ((mv_heap_pmap *)0)->file - 1);
    size_t bl = strlen(bid);
    if (u->ntext + fl + bl + 2 > UNL_TEXT) {
        u->nseg = o->seg;
        return 1;
    }
    o->file = u->ntext;
    memcpy(u->text + u->ntext, info->dlpi_name, fl);
    u->text[u->ntext + fl] = 0;
    u->ntext += (unsigned)fl + 1;
    o->bid = u->ntext;
    memcpy(u->text + u->ntext, bid, bl + 1);
    u->ntext += (unsigned)bl + 1;
    o->addr = info->dlpi_addr;
    o->phdr = info->dlpi_phdr;
    o->relative = info->dlpi_name[0] != '/';
    o->present = 0;
    u->nrel += o->relative;
    u->n++;
    return 0;
}

/* One line of /proc/self/maps: the path of a mapping that holds the first
 * executable segment of an object noted by a relative name replaces it. */
static void resolve_line(mv_heap_unload *u, const char *line)
{
    uint64_t lo = 0, hi = 0;
    const char *c = line;
    int d;
    for (d = 0; (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'); c++, d++)
        lo = lo * 16 + (uint64_t)(*c <= '9' ? *c - '0' : *c - 'a' + 10);
    if (!d || *c++ != '-')
        return;
    for (d = 0; (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'); c++, d++)
        hi = hi * 16 + (uint64_t)(*c <= '9' ? *c - '0' : *c - 'a' + 10);
    if (!d)
        return;
    for (int f = 0; f < 4; f++) { /* perms, offset, device, inode */
        while (*c == ' ')
            c++;
        while (*c && *c != ' ')
            c++;
    }
    while (*c == ' ')
        c++;
    if (*c != '/')
        return;
    size_t len = strnlen(c, sizeof ((mv_heap_pmap *)0)->file - 1);
    const char *del = strstr(c, " (deleted)");
    if (del && (size_t)(del - c) < len)
        len = (size_t)(del - c);
    for (unsigned i = 0; i < u->n && u->nrel; i++) {
        unl_obj *o = &u->obj[i];
        uint64_t a = u->seg[o->seg].start;
        if (!o->relative || a < lo || a >= hi)
            continue;
        if (u->ntext + len + 1 > UNL_TEXT)
            return;
        o->file = u->ntext;
        memcpy(u->text + u->ntext, c, len);
        u->text[u->ntext + len] = 0;
        u->ntext += (unsigned)len + 1;
        o->relative = 0;
        u->nrel--;
    }
}

/* Replaces the relative names of noted objects by the kernel's path of
 * their text mapping: dlopen("./x.so") keeps "./x.so", which the working
 * directory (maybe changed since) cannot be trusted to resolve. First the
 * link /proc/self/map_files/LO-HI (one readlink, when the text segment is
 * exactly one mapping), else a scan of /proc/self/maps streamed through
 * u->io (a line longer than that is skipped). Objects left relative (no
 * /proc) are not recorded. Costs syscalls only while some loaded object
 * has a relative name. */
static void resolve_relative(mv_heap_unload *u)
{
    for (unsigned i = 0; i < u->n && u->nrel; i++) {
        unl_obj *o = &u->obj[i];
        if (!o->relative)
            continue;
        char link[64];
        const unl_seg *g = &u->seg[o->seg];
        snprintf(link, sizeof link, "/proc/self/map_files/%llx-%llx",
                 (unsigned long long)g->start, (unsigned long long)g->limit);
        size_t room = UNL_TEXT - u->ntext;
        if (room > sizeof ((mv_heap_pmap *)0)->file)
            room = sizeof ((mv_heap_pmap *)0)->file;
        ssize_t r = room > 1 ? readlink(link, u->text + u->ntext, room - 1) : -1;
        if (r <= 0 || u->text[u->ntext] != '/')
            continue;
        size_t len = (size_t)r;
        u->text[u->ntext + len] = 0;
        char *del = strstr(u->text + u->ntext, " (deleted)");
        if (del) {
            *del = 0;
            len = (size_t)(del - (u->text + u->ntext));
        }
        o->file = u->ntext;
        u->ntext += (unsigned)len + 1;
        o->relative = 0;
        u->nrel--;
    }
    if (!u->nrel)
        return;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t have = 0;
    int skip = 0; /* inside an overlong line */
    while (u->nrel) {
        ssize_t r = read(fd, u->io + have, sizeof u->io - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        u->io[have] = 0;
        char *line = u->io, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - u->io))) != NULL) {
            *nl = 0;
            if (!skip)
                resolve_line(u, line);
            skip = 0;
            line = nl + 1;
        }
        have -= (size_t)(line - u->io);
        memmove(u->io, line, have);
        if (have == sizeof u->io - 1) {
            have = 0;
            skip = 1;
        }
    }
    close(fd);
}

mv_heap_unload *mv__heap_unload_begin(void)
{
    mv_heap_unload *u = NULL;
    int slot = -1;
    for (int i = 0; i < UNL_SLOTS && slot < 0; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&unl_taken[i], &expect, 1))
            slot = i;
    }
    if (slot >= 0) {
        u = &unl_slot[slot];
    } else {
        u = mmap(NULL, sizeof *u, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (u == MAP_FAILED)
            return NULL;
    }
    u->slot = slot;
    u->subs = 0;
    u->have_subs = u->same = u->started = 0;
    u->n = u->nseg = u->ntext = u->nrel = u->cur = 0;
    dl_iterate_phdr(note_cb, u);
    if (u->nrel)
        resolve_relative(u);
    return u;
}

static int present_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
    mv_heap_unload *u = arg;
    if (!u->started) {
        u->started = 1;
        if (u->have_subs && have_subs(sz) && info->dlpi_subs == u->subs) {
            u->same = 1; /* nothing unloaded since the notes */
            return 1;
        }
    }
    if (!noteworthy(info))
        return 0;
    /* The list keeps its order (loads append, unloads remove), so the
     * search resumes where the last match was; an object loaded since
     * matches nothing and moves nothing. */
    for (unsigned i = u->cur; i < u->n; i++)
        if (u->obj[i].addr == info->dlpi_addr && u->obj[i].phdr == info->dlpi_phdr) {
            u->obj[i].present = 1;
            u->cur = i + 1;
            break;
        }
    return 0;
}

/* Appends p to the ring unless the newest entry overlapping it is p itself
 * (the same library unloaded again from the same address, or two threads'
 * dlcloses both seeing it go): that adds nothing. */
static void record_unloaded(const mv_heap_pmap *p)
{
    mv__heap_lock(&ulock);
    unsigned total = unloaded_next;
    unsigned k = total < MAX_UNLOADED ? total : MAX_UNLOADED;
    int dup = 0;
    for (unsigned i = 0; i < k; i++) { /* newest first */
        const mv_heap_pmap *e = &unloaded[(total - 1 - i) % MAX_UNLOADED];
        if (e->start < p->limit && p->start < e->limit) {
            dup = memcmp(e, p, sizeof *p) == 0;
            break;
        }
    }
    if (!dup) {
        unloaded[total % MAX_UNLOADED] = *p;
        __atomic_store_n(&unloaded_next, total + 1, __ATOMIC_RELAXED);
    }
    mv__heap_unlock(&ulock);
}

void mv__heap_unload_end(mv_heap_unload *u)
{
    if (!u)
        return;
    u->started = 0;
    u->cur = 0;
    dl_iterate_phdr(present_cb, u);
    for (unsigned i = 0; !u->same && i < u->n; i++) {
        const unl_obj *o = &u->obj[i];
        if (o->present || o->relative)
            continue;
        for (unsigned j = 0; j < o->nseg; j++) {
            const unl_seg *g = &u->seg[o->seg + j];
            mv_heap_pmap p;
            memset(&p, 0, sizeof p); /* whole, padding too: compared by memcmp */
            p.start = g->start;
            p.limit = g->limit;
            p.offset = g->offset;
            memcpy(p.file, u->text + o->file, strlen(u->text + o->file));
            memcpy(p.build_id, u->text + o->bid, strlen(u->text + o->bid));
            record_unloaded(&p);
        }
    }
    if (u->slot >= 0)
        atomic_store(&unl_taken[u->slot], 0);
    else
        munmap(u, sizeof *u);
}

static int overlaps(const mv_heap_pmap *a, const mv_heap_pmap *b)
{
    return a->start < b->limit && b->start < a->limit;
}

/* Appends to m[0..*n) the recorded unloaded segments that overlap neither
 * a current executable mapping (x[0..nx): file-backed or anonymous, a JIT's
 * code say — the current mapping wins the address) nor a newer unloaded
 * one. Mappings without execute permission do not count: no frame can lie
 * in them, so frames there predate them (and the next mmap'd malloc block
 * often lands where a library was). Grows m as needed; returns the
 * (possibly moved) array. */
mv_heap_pmap *mv__heap_add_unloaded(mv_heap_pmap *m, size_t *n, size_t *cap,
                                    const mv_heap_xrange *x, size_t nx)
{
    if (!__atomic_load_n(&unloaded_next, __ATOMIC_RELAXED))
        return m; /* nothing ever unloaded (a racing record: next snapshot) */
    mv_heap_pmap *copy = malloc(MAX_UNLOADED * sizeof *copy); /* before the lock */
    if (!copy)
        return m;
    mv__heap_lock(&ulock);
    unsigned total = unloaded_next;
    unsigned k = total < MAX_UNLOADED ? total : MAX_UNLOADED;
    for (unsigned i = 0; i < k; i++) /* newest first */
        copy[i] = unloaded[(total - 1 - i) % MAX_UNLOADED];
    mv__heap_unlock(&ulock);
    size_t first = *n; /* m[first..) are unloaded ones */
    for (unsigned i = 0; i < k; i++) {
        int clash = 0;
        for (size_t j = 0; j < nx && !clash; j++)
            clash = copy[i].start < x[j].hi && x[j].lo < copy[i].limit;
        for (size_t j = first; j < *n && !clash; j++)
            clash = overlaps(&copy[i], &m[j]);
        if (clash)
            continue;
        if (*n == *cap) {
            mv_heap_pmap *nm = realloc(m, *cap * 2 * sizeof *nm);
            if (!nm)
                break;
            m = nm;
            *cap *= 2;
        }
        m[(*n)++] = copy[i];
    }
    free(copy);
    return m;
}

void mv__heap_unloaded_child(void)
{
    atomic_store(&ulock, 0);
}
