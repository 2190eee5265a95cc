/* snapshot.c — when and how the heap profiler writes its files.
 *
 * Snapshots are written by one background thread (started lazily, the first
 * time sampling is on or a snapshot is asked for, so a dormant process
 * carries no extra thread), every MEMVIGIL_HEAP_INTERVAL seconds, when
 * SIGRTMIN+8 arrives, and by the exiting thread at exit. Signal handlers only
 * set flags and sem_post (async-signal-safe); the thread does the work. The
 * thread raises the reentrancy guard for its whole life and blocks every
 * signal, so it never samples itself and never steals the program's signals.
 *
 * A snapshot copies the stack and live tables under their locks (briefly, no
 * libc calls inside), then — with no table lock held — reads /proc/self/maps
 * and the build ids (ELF notes of every loaded object, from memory via
 * dl_iterate_phdr), adds the mappings of objects dlclose unloaded since
 * (recorded by the dlclose wrapper, so their frames still symbolize), encodes
 * profile.proto, gzips it to heap-...pb.gz.tmp and renames it into place,
 * rewrites status-<pid>.json the same atomic way, and prunes the directory.
 *
 * Files are few by design: a process that has recorded no sample writes
 * nothing, neither at exit nor periodically (only an explicit SIGRTMIN+8, a
 * toggle, or — at exit — a program whose malloc is not ours, so that its
 * status says why its profile is empty), so `MEMVIGIL_HEAP=1 make` leaves files for the few
 * processes that allocated ~MEMVIGIL_HEAP_SAMPLE bytes, not for every
 * /bin/sh. MEMVIGIL_HEAP_KEEP bounds the snapshots of the whole directory,
 * whatever pid wrote them: after each write the oldest (by mtime) beyond it
 * are deleted, then the status files of pids left with no snapshot.
 */
#include "heap.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Guards the table of unloaded objects' mappings (see "unloaded objects"
 * below): a leaf lock, held only while comparing and copying entries. */
static atomic_int ulock;

/* ---- signals ---- */

static void on_snapshot_signal(int sig)
{
    int e = errno;
    (void)sig;
    atomic_store(&mv__heap.req_snapshot, 1);
    sem_post(&mv__heap.sem);
    errno = e;
}

static void on_toggle_signal(int sig)
{
    int e = errno;
    (void)sig;
    int on = !atomic_load(&mv__heap.enabled);
    if (on) {
        /* clock_gettime and read/open are async-signal-safe */
        mv__heap_mark_enabled();
    }
    atomic_store(&mv__heap.enabled, on);
    atomic_store(&mv__heap.req_status, 1);
    sem_post(&mv__heap.sem);
    errno = e;
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction old, sa;
    if (sigaction(sig, NULL, &old) != 0)
        return;
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
        return; /* the program owns this signal: leave it alone */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* ---- the thread ---- */

/* 1 when this process has recorded a sample (a fork child: since the fork;
 * it inherits its parent's counters). Processes without one write no
 * periodic snapshot, and no exit snapshot unless the profiler could not
 * see their allocations at all (see heap_dtor). */
static int has_samples(void)
{
    if (mv__heap.is_fork_child)
        return atomic_load(&mv__heap.samples_since_fork) > 0;
    return atomic_load(&mv__heap.samples) > 0;
}

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *snapshot_thread(void *arg)
{
    (void)arg;
    mv__heap_guard_enter(); /* for good: this thread is the profiler */
    atomic_store(&mv__heap.thread_state, 2);
    int64_t next = now_ns(CLOCK_MONOTONIC) + (int64_t)mv__heap.cfg.interval_s * 1000000000;
    for (;;) {
        int timed_out = 0;
        if (mv__heap.cfg.interval_s && atomic_load(&mv__heap.enabled)) {
            struct timespec ts = {.tv_sec = (time_t)(next / 1000000000),
                                  .tv_nsec = (long)(next % 1000000000)};
            if (sem_clockwait(&mv__heap.sem, CLOCK_MONOTONIC, &ts) != 0 && errno == ETIMEDOUT)
                timed_out = 1;
        } else {
            struct timespec ts = {.tv_sec = time(NULL) + 1, .tv_nsec = 0};
            /* re-check "enabled" every second to arm the period */
            (void)sem_timedwait(&mv__heap.sem, &ts);
            next = now_ns(CLOCK_MONOTONIC) + (int64_t)mv__heap.cfg.interval_s * 1000000000;
        }
        if (atomic_load(&mv__heap.exiting))
            break;
        if (timed_out)
            next += (int64_t)mv__heap.cfg.interval_s * 1000000000;
        if (atomic_exchange(&mv__heap.req_snapshot, 0) ||
            (timed_out && atomic_load(&mv__heap.enabled) && has_samples())) {
            mv__heap_snapshot_write();
            atomic_store(&mv__heap.req_status, 0);
        }
        if (atomic_exchange(&mv__heap.req_status, 0))
            mv__heap_status_write();
    }
    return NULL;
}

void mv__heap_thread_ensure(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&mv__heap.thread_state, &expect, 1))
        return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t t;
    if (pthread_create(&t, &at, snapshot_thread, NULL) != 0)
        atomic_store(&mv__heap.thread_state, 0);
    pthread_attr_destroy(&at);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void mv__heap_snapshot_setup(void)
{
    if (mv__heap.cfg.signals) {
        install(SIGRTMIN + 8, on_snapshot_signal);
        install(SIGRTMIN + 9, on_toggle_signal);
    }
    if (atomic_load(&mv__heap.enabled))
        mv__heap_thread_ensure();
}

void mv__heap_snapshot_child(void)
{
    atomic_store(&mv__heap.snap_lock, 0);
    atomic_store(&ulock, 0);
    atomic_store(&mv__heap.thread_state, 0); /* restarted lazily */
    sem_init(&mv__heap.sem, 0, 0);
    mv__heap.seq = 0;
    mv__heap.snapshots = 0;
    mv__heap.last[0] = 0;
}

/* Library constructor: initialise early when the environment is readable;
 * the first malloc may have done it already. */
__attribute__((constructor)) static void heap_ctor(void)
{
    mv__heap_guard_enter();
    mv__heap_init();
    mv__heap_guard_leave();
}

/* At exit: a last snapshot when sampling was ever on and this process
 * recorded a sample (a fork child: since the fork) — or recorded none
 * because its malloc is not ours (its own allocator): then the status file
 * ("interposed": false) says why the profile is empty. The snapshot thread
 * is told to stop but not joined: it may be blocked, and exit must not
 * wait. */
__attribute__((destructor)) static void heap_dtor(void)
{
    if (atomic_load(&mv__heap.init_state) != 2 || !mv__heap.cfg.active)
        return;
    mv__heap_guard_enter();
    atomic_store(&mv__heap.exiting, 1);
    sem_post(&mv__heap.sem);
    if (atomic_load(&mv__heap.ever_enabled) && (has_samples() || !mv__heap_interposed()))
        mv__heap_snapshot_write();
    mv__heap_guard_leave();
}

/* ---- files ---- */

static int mkdir_p(const char *dir)
{
    char p[sizeof mv__heap.cfg.dir];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -errno;
        *c = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* First snapshot of this pid: continue after files already there (an exec
 * keeps the pid). */
static void seq_resume(void)
{
    DIR *d = opendir(mv__heap.cfg.dir);
    if (!d)
        return;
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "heap-%ld-", (long)mv__heap.pid);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)pl) != 0)
            continue;
        unsigned long long s = strtoull(e->d_name + pl, NULL, 10);
        if (s > mv__heap.seq)
            mv__heap.seq = s;
    }
    closedir(d);
}

/* Creates tmp afresh: whatever has that name is removed first, then the
 * file is created exclusively without following a symlink. Any process of
 * the same user can write the directory, and a FIFO planted at tmp would
 * block an open for writing forever (in the host's exit path), a symlink
 * would redirect the write. A descriptor or -errno. */
static int create_fresh(const char *tmp)
{
    if (unlink(tmp) != 0 && errno != ENOENT)
        return -errno;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

static int write_atomic(const char *path, const char *tmp, const void *data, size_t n, int gz)
{
    int rc = 0;
    int fd = create_fresh(tmp);
    if (fd < 0)
        return fd;
    if (gz) {
        gzFile f = gzdopen(fd, "wb6");   /* owns fd from here */
        if (!f) {
            close(fd);
            unlink(tmp);
            return -ENOMEM;
        }
        if (n && gzwrite(f, data, (unsigned)n) != (int)n)
            rc = -EIO;
        if (gzclose(f) != Z_OK && !rc)
            rc = -EIO;
    } else {
        const char *c = data;
        while (n) {
            ssize_t w = write(fd, c, n);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = -errno;
                break;
            }
            c += w;
            n -= (size_t)w;
        }
        if (close(fd) != 0 && !rc)
            rc = -errno;
    }
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

/* ---- pruning the directory ---- */

typedef struct snap_file {
    int64_t mtime_ns;
    long pid;
    unsigned long long seq;
} snap_file;

/* Parses "heap-<pid>-<seq>.pb.gz" (the name the CLI's heapdir.c reads).
 * Returns 1 and fills pid and seq, or 0 for any other name. */
static int parse_snap_name(const char *name, long *pid, unsigned long long *seq)
{
    char *end;
    if (strncmp(name, "heap-", 5) != 0)
        return 0;
    *pid = strtol(name + 5, &end, 10);
    if (end == name + 5 || *end != '-' || *pid <= 0)
        return 0;
    const char *s = end + 1;
    if (*s < '0' || *s > '9')
        return 0;
    *seq = strtoull(s, &end, 10);
    return strcmp(end, ".pb.gz") == 0;
}

static int snap_older(const void *a, const void *b)
{
    const snap_file *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Lists the snapshots in dir into *out (malloc'd, caller frees). Count, or
 * -errno (then *out is NULL). */
static long list_snaps(DIR *d, snap_file **out)
{
    size_t n = 0, cap = 0;
    snap_file *v = NULL;
    struct dirent *e;
    *out = NULL;
    while ((e = readdir(d)) != NULL) {
        snap_file f;
        struct stat sb;
        if (!parse_snap_name(e->d_name, &f.pid, &f.seq) ||
            fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        f.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            snap_file *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return -ENOMEM;
            }
            v = nv;
            cap = nc;
        }
        v[n++] = f;
    }
    *out = v;
    return (long)n;
}

/* 1 when some snapshot in v[from..n) belongs to pid. */
static int pid_has_snap(const snap_file *v, size_t from, size_t n, long pid)
{
    for (size_t i = from; i < n; i++)
        if (v[i].pid == pid)
            return 1;
    return 0;
}

/* Deletes the oldest snapshots of the directory beyond cfg.keep (any pid,
 * never this pid's newest), then status-<pid>.json of other pids left with
 * no snapshot. Races with other processes pruning the same directory are
 * harmless: a file already gone is skipped. */
static void prune_dir(void)
{
    DIR *d = opendir(mv__heap.cfg.dir);
    if (!d)
        return;
    snap_file *v;
    long n = list_snaps(d, &v);
    if (n > 0) {
        qsort(v, (size_t)n, sizeof *v, snap_older);
        size_t drop = (size_t)n > mv__heap.cfg.keep ? (size_t)n - mv__heap.cfg.keep : 0;
        char name[64];
        for (size_t i = 0; i < drop; i++) {
            if (v[i].pid == (long)mv__heap.pid && v[i].seq == mv__heap.seq)
                continue;
            snprintf(name, sizeof name, "heap-%ld-%06llu.pb.gz", v[i].pid, v[i].seq);
            unlinkat(dirfd(d), name, 0);
        }
        for (size_t i = 0; i < drop; i++) {
            if (v[i].pid == (long)mv__heap.pid || pid_has_snap(v, drop, (size_t)n, v[i].pid) ||
                pid_has_snap(v, 0, i, v[i].pid))
                continue; /* ours, kept, or already handled */
            snprintf(name, sizeof name, "status-%ld.json", v[i].pid);
            unlinkat(dirfd(d), name, 0);
        }
    }
    free(v);
    closedir(d);
}

/* ---- mappings and build ids ---- */

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

static void build_id_of(const struct dl_phdr_info *info, char *out, size_t cap)
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
    build_id_of(info, bid, sizeof bid);
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

/* ---- unloaded objects ---- */

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
    build_id_of(info, bid, sizeof bid);
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

/* An executable mapping of /proc/self/maps, file-backed or not. */
typedef struct xrange {
    uint64_t lo, hi;
} xrange;

/* Appends to m[0..*n) the recorded unloaded segments that overlap neither
 * a current executable mapping (x[0..nx): file-backed or anonymous, a JIT's
 * code say — the current mapping wins the address) nor a newer unloaded
 * one. Mappings without execute permission do not count: no frame can lie
 * in them, so frames there predate them (and the next mmap'd malloc block
 * often lands where a library was). Grows m as needed; returns the
 * (possibly moved) array. */
static mv_heap_pmap *add_unloaded(mv_heap_pmap *m, size_t *n, size_t *cap, const xrange *x,
                                  size_t nx)
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

/* Reads /proc/self/maps: executable file-backed mappings, with build ids,
 * then the segments of unloaded objects still unclaimed (add_unloaded: by
 * any executable mapping, file-backed or not). */
static int read_maps(mv_heap_pmap **out, size_t *nout)
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
    dl_iterate_phdr(segs_cb, &sg);

    size_t n = 0, mcap = 16, nx = 0, xcap = 0;
    int x_oom = 0; /* x misses one: then no unloaded segment is added */
    mv_heap_pmap *m = calloc(mcap, sizeof *m);
    xrange *x = NULL;
    for (char *line = text; m && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        unsigned long long lo, hi, off;
        char perms[8];
        int pos = 0;
        int exec = sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &pos) >= 4 &&
                   strchr(perms, 'x');
        if (exec) { /* every executable mapping, for add_unloaded */
            if (nx == xcap) {
                size_t nc = xcap ? xcap * 2 : 64;
                xrange *nv = realloc(x, nc * sizeof *nv);
                if (nv) {
                    x = nv;
                    xcap = nc;
                }
            }
            if (nx < xcap)
                x[nx++] = (xrange){lo, hi};
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
        m = add_unloaded(m, &n, &mcap, x, nx);
    free(x);
    if (!m)
        return -ENOMEM;
    *out = m;
    *nout = n;
    return 0;
}

/* ---- status ---- */

/* 1 when this profile can explain the process's heap: our malloc is the one
 * the program calls and the heap did not grow (>= 256 MiB) with almost
 * nothing (< 1/32 of it) allocated through us. */
static int heap_explained(void)
{
    if (!mv__heap_interposed())
        return 0;
    uint64_t rss = mv__heap_rss_bytes();
    uint64_t growth = rss > mv__heap.rss_at_start ? rss - mv__heap.rss_at_start : 0;
    uint64_t via = atomic_load(&mv__heap.allocated_bytes) - mv__heap.alloc_at_start;
    if (growth >= (256ull << 20) && via < growth / 32)
        return 0;
    return 1;
}

static int status_write_locked(void)
{
    mv_heap_counters c;
    mv__heap_counters_get(&c);
    int explained = heap_explained();
    int glibc = explained && mv__heap_next_is_glibc();
    char json[1024], path[640], tmp[660];
    int n = snprintf(json, sizeof json,
                     "{\"pid\":%ld,\"enabled\":%s,\"sample_bytes\":%llu,\"samples\":%llu,"
                     "\"dropped_stacks\":%llu,\"dropped_live\":%llu,\"glibc_malloc\":%s,"
                     "\"interposed\":%s,\"snapshots\":%llu,\"last\":\"%s\","
                     "\"live_samples\":%llu,\"stacks\":%llu,\"allocated_bytes\":%llu,"
                     "\"interval_s\":%llu,\"keep\":%llu}\n",
                     (long)mv__heap.pid, atomic_load(&mv__heap.enabled) ? "true" : "false",
                     (unsigned long long)mv__heap.cfg.sample_bytes, (unsigned long long)c.samples,
                     (unsigned long long)c.dropped_stacks, (unsigned long long)c.dropped_live,
                     glibc ? "true" : "false", explained ? "true" : "false",
                     (unsigned long long)mv__heap.snapshots, mv__heap.last,
                     (unsigned long long)c.live, (unsigned long long)c.stacks,
                     (unsigned long long)c.allocated_bytes,
                     (unsigned long long)mv__heap.cfg.interval_s,
                     (unsigned long long)mv__heap.cfg.keep);
    if (n < 0 || (size_t)n >= sizeof json)
        return -EOVERFLOW;
    int rc = mkdir_p(mv__heap.cfg.dir);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/status-%ld.json", mv__heap.cfg.dir, (long)mv__heap.pid);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    return write_atomic(path, tmp, json, (size_t)n, 0);
}

int mv__heap_status_write(void)
{
    mv__heap_guard_enter();
    mv__heap_lock(&mv__heap.snap_lock);
    int rc = status_write_locked();
    mv__heap_unlock(&mv__heap.snap_lock);
    mv__heap_guard_leave();
    return rc;
}

/* ---- the snapshot ---- */

static int snapshot_locked(void)
{
    /* The stacks this snapshot covers: those interned by now (a stack is
     * complete once the count covers it; later ones wait for the next
     * snapshot). Scratch arrays are sized by that count, not by the table's
     * capacity: a few hundred stacks, not 16 Ki, so no megabyte is zeroed
     * and faulted in per snapshot. */
    mv__heap_lock(&mv__heap.stack_lock);
    uint32_t count = mv__heap.stack_count;
    mv__heap_unlock(&mv__heap.stack_lock);
    double *inuse_o = calloc(count ? count : 1, sizeof *inuse_o);
    double *inuse_b = calloc(count ? count : 1, sizeof *inuse_b);
    mv_heap_psample *smp = calloc(count ? count : 1, sizeof *smp);
    mv_heap_pmap *maps = NULL;
    size_t nmaps = 0;
    mv_heap_buf pb = {0};
    int rc = 0;
    if (!inuse_o || !inuse_b || !smp) {
        rc = -ENOMEM;
        goto out;
    }
    double T = (double)mv__heap.cfg.sample_bytes;
    /* live blocks -> in-use estimates per stack (one shard lock at a time).
     * Empty levels are skipped unread, and a level's scan stops at its last
     * entry: reading the whole table would fault in all of its 1.5 MiB. */
    for (unsigned s = 0; s < MV_HEAP_SHARDS; s++) {
        mv_heap_shard *sh = &mv__heap.shards[s];
        mv__heap_lock(&sh->lock);
        for (unsigned k = 0; k < mv__heap.live_levels; k++) {
            const mv_heap_live *tab = mv__heap_live_level(s, k);
            for (uint32_t i = 0, left = sh->lcount[k]; left && i < (16u << k); i++) {
                if (!tab[i].addr)
                    continue;
                left--;
                if (tab[i].stack >= count)
                    continue;
                double sz = tab[i].size ? (double)tab[i].size : 1.0;
                double prob = -expm1(-sz / T);
                inuse_o[tab[i].stack] += 1.0 / prob;
                inuse_b[tab[i].stack] += sz / prob;
            }
        }
        mv__heap_unlock(&sh->lock);
    }
    /* stacks: entries never move and their frames never change once the
     * count covers them; the alloc totals are copied under the lock */
    size_t ns = 0;
    mv__heap_lock(&mv__heap.stack_lock);
    for (uint32_t i = 0; i < count; i++) {
        const mv_heap_stack *st = &mv__heap.stacks[i];
        mv_heap_psample *p = &smp[ns++];
        p->frames = &mv__heap.frames[st->frames_off];
        p->depth = st->depth;
        p->values[0] = llround(st->alloc_objects);
        p->values[1] = llround(st->alloc_bytes);
        p->values[2] = llround(inuse_o[i]);
        p->values[3] = llround(inuse_b[i]);
    }
    mv__heap_unlock(&mv__heap.stack_lock);

    rc = read_maps(&maps, &nmaps);
    if (rc)
        goto out;
    int64_t now = now_ns(CLOCK_REALTIME);
    char comment[160];
    snprintf(comment, sizeof comment, "memvigil-heap pid=%ld dropped_stacks=%llu dropped_live=%llu",
             (long)mv__heap.pid, (unsigned long long)atomic_load(&mv__heap.dropped_stacks),
             (unsigned long long)atomic_load(&mv__heap.dropped_live));
    mv_heap_profile prof = {
        .samples = smp, .nsamples = ns, .maps = maps, .nmaps = nmaps,
        .period = (int64_t)mv__heap.cfg.sample_bytes, .time_nanos = now,
        .duration_nanos = mv__heap.start_ns && now > mv__heap.start_ns ? now - mv__heap.start_ns : 0,
        .comment = comment};
    rc = mv__heap_pprof_encode(&prof, &pb);
    if (rc)
        goto out;

    rc = mkdir_p(mv__heap.cfg.dir);
    if (rc)
        goto out;
    if (mv__heap.seq == 0 && mv__heap.snapshots == 0)
        seq_resume();
    uint64_t seq = mv__heap.seq + 1;
    char name[64], path[640], tmp[660];
    snprintf(name, sizeof name, "heap-%ld-%06llu.pb.gz", (long)mv__heap.pid, (unsigned long long)seq);
    snprintf(path, sizeof path, "%s/%s", mv__heap.cfg.dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc = write_atomic(path, tmp, pb.data, pb.len, 1);
    if (rc)
        goto out;
    mv__heap.seq = seq;
    mv__heap.snapshots++;
    snprintf(mv__heap.last, sizeof mv__heap.last, "%s", name);
    prune_dir();
out:
    free(inuse_o);
    free(inuse_b);
    free(smp);
    free(maps);
    mv__heap_buf_release(&pb);
    int src = status_write_locked();
    return rc ? rc : src;
}

int mv__heap_snapshot_write(void)
{
    mv__heap_guard_enter();
    mv__heap_lock(&mv__heap.snap_lock);
    int rc = snapshot_locked();
    mv__heap_unlock(&mv__heap.snap_lock);
    mv__heap_guard_leave();
    return rc;
}
