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
 * dl_iterate_phdr; mappings.c), adds the mappings of objects dlclose
 * unloaded since (recorded by the dlclose wrapper, so their frames still
 * symbolize; unloaded.c), encodes profile.proto, gzips it to
 * heap-...pb.gz.tmp and renames it into place, rewrites status-<pid>.json
 * the same atomic way, and prunes the directory (snapdir.c).
 *
 * Owns the snapshot fields of mv__heap (heap.h) and no other state. Snapshot
 * and status writes run under mv__heap.snap_lock (rank 0, taken before any
 * table lock; reset, not taken, at fork: mv__heap_snapshot_child), with the
 * guard raised.
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

#include "allocstats.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The first periodic snapshots come fast, then back off: 1, 2, 4 ... s
 * after sampling starts, doubling up to the configured interval, so a
 * run of under a minute still leaves enough snapshots for a trend. */
#define FIRST_PERIOD_NS 1000000000LL

static int64_t first_period(int64_t full)
{
    return full < FIRST_PERIOD_NS ? full : FIRST_PERIOD_NS;
}

static void *snapshot_thread(void *arg)
{
    (void)arg;
    mv__heap_guard_enter(); /* for good: this thread is the profiler */
    atomic_store(&mv__heap.thread_state, 2);
    int64_t full = (int64_t)mv__heap.cfg.interval_s * 1000000000;
    int64_t period = first_period(full);
    int64_t next = now_ns(CLOCK_MONOTONIC) + period;
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
            period = first_period(full);
            next = now_ns(CLOCK_MONOTONIC) + period;
        }
        if (atomic_load(&mv__heap.exiting))
            break;
        if (timed_out) {
            period = period * 2 < full ? period * 2 : full;
            next += period;
        }
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
    mv__heap_unloaded_child();
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
    char json[1400], path[640], tmp[660], alloc[320];
    /* the host allocator's figures, for the agent (mallinfo2 walks the
     * arenas under their locks: this thread, at snapshot rate only; never
     * in a leaving snapshot, whose thread may hold an arena lock already:
     * a SIGALRM handler's _exit that interrupted free() waited on it for
     * good, heap_children.sh) */
    mv__alloc_stats ast;
    if (mv__heap_leaving())
        mv__alloc_stats_clear(&ast);
    else
        (void)mv__alloc_stats_read(&ast);
    if (ast.kind == MV_ALLOC_NONE || mv__alloc_stats_format(&ast, alloc, sizeof alloc) < 0)
        snprintf(alloc, sizeof alloc, "null");
    int n = snprintf(json, sizeof json,
                     "{\"pid\":%ld,\"enabled\":%s,\"sample_bytes\":%llu,\"samples\":%llu,"
                     "\"dropped_stacks\":%llu,\"dropped_live\":%llu,\"glibc_malloc\":%s,"
                     "\"interposed\":%s,\"snapshots\":%llu,\"last\":\"%s\","
                     "\"live_samples\":%llu,\"stacks\":%llu,\"allocated_bytes\":%llu,"
                     "\"interval_s\":%llu,\"keep\":%llu,\"unwind_fallbacks\":%llu,"
                     "\"unwind_mismatches\":%llu,\"alloc\":%s}\n",
                     (long)mv__heap.pid, atomic_load(&mv__heap.enabled) ? "true" : "false",
                     (unsigned long long)mv__heap.cfg.sample_bytes, (unsigned long long)c.samples,
                     (unsigned long long)c.dropped_stacks, (unsigned long long)c.dropped_live,
                     glibc ? "true" : "false", explained ? "true" : "false",
                     (unsigned long long)mv__heap.snapshots, mv__heap.last,
                     (unsigned long long)c.live, (unsigned long long)c.stacks,
                     (unsigned long long)c.allocated_bytes,
                     (unsigned long long)mv__heap.cfg.interval_s,
                     (unsigned long long)mv__heap.cfg.keep,
                     (unsigned long long)atomic_load(&mv__heap.unwind_fallbacks),
                     (unsigned long long)atomic_load(&mv__heap.unwind_mismatches), alloc);
    if (n < 0 || (size_t)n >= sizeof json)
        return -EOVERFLOW;
    int rc = mv__heap_mkdir_p(mv__heap.cfg.dir);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/status-%ld.json", mv__heap.cfg.dir, (long)mv__heap.pid);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    return mv__heap_write_atomic(path, tmp, json, (size_t)n, 0);
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

/* The values of every stack at one moment, for a delta profile
 * (mv_heap_pprof_mark): stack i's four values are v[i]. Stack indices never
 * change, so a later profile subtracts by index. Real malloc's memory. */
struct mv_heap_mark {
    int64_t time_ns;
    uint32_t count;
    int64_t v[][4];
};

/* Encodes the current profile (uncompressed profile.proto) into *pb; with
 * base, each stack's values minus base's (stacks left at zero dropped,
 * duration since base); with mark_out (pb unused), only the values, into a
 * new mark. Called with snap_lock held and the guard raised. 0 or -errno. */
static int profile_build(mv_heap_buf *pb, const mv_heap_mark *base,
                         mv_heap_mark **mark_out)
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
    int rc = 0;
    if (!inuse_o || !inuse_b || !smp) {
        rc = -ENOMEM;
        goto out;
    }
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
                mv_heap_weight wt = mv__heap_unbias(tab[i].size,
                                                    mv__heap.cfg.sample_bytes);
                inuse_o[tab[i].stack] += wt.objects;
                inuse_b[tab[i].stack] += wt.bytes;
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

    int64_t now = now_ns(CLOCK_REALTIME);
    if (mark_out) {
        mv_heap_mark *m = malloc(sizeof *m + (size_t)count * sizeof m->v[0]);
        if (!m) {
            rc = -ENOMEM;
            goto out;
        }
        m->time_ns = now;
        m->count = count;
        for (uint32_t i = 0; i < count; i++)
            memcpy(m->v[i], smp[i].values, sizeof m->v[i]);
        *mark_out = m;
        goto out;
    }
    if (base) {
        size_t kept = 0;
        for (size_t i = 0; i < ns; i++) {
            int nonzero = 0;
            for (int k = 0; k < 4; k++) {
                if (i < base->count)
                    smp[i].values[k] -= base->v[i][k];
                nonzero |= smp[i].values[k] != 0;
            }
            if (nonzero)
                smp[kept++] = smp[i];
        }
        ns = kept;
    }
    rc = mv__heap_read_maps(&maps, &nmaps);
    if (rc)
        goto out;
    char comment[160];
    snprintf(comment, sizeof comment, "memvigil-heap pid=%ld dropped_stacks=%llu dropped_live=%llu",
             (long)mv__heap.pid, (unsigned long long)atomic_load(&mv__heap.dropped_stacks),
             (unsigned long long)atomic_load(&mv__heap.dropped_live));
    mv_heap_profile prof = {
        .samples = smp, .nsamples = ns, .maps = maps, .nmaps = nmaps,
        .period = (int64_t)mv__heap.cfg.sample_bytes, .time_nanos = now,
        .duration_nanos = base ? (now > base->time_ns ? now - base->time_ns : 0)
                          : mv__heap.start_ns && now > mv__heap.start_ns ? now - mv__heap.start_ns : 0,
        .comment = comment};
    rc = mv__heap_pprof_encode(&prof, pb);
out:
    free(inuse_o);
    free(inuse_b);
    free(smp);
    free(maps);
    return rc;
}

static int snapshot_locked(void)
{
    mv_heap_buf pb = {0};
    int rc = profile_build(&pb, NULL, NULL);
    if (rc)
        goto out;

    rc = mv__heap_mkdir_p(mv__heap.cfg.dir);
    if (rc)
        goto out;
    if (mv__heap.seq == 0 && mv__heap.snapshots == 0)
        mv__heap_seq_resume();
    uint64_t seq = mv__heap.seq + 1;
    char name[64], path[640], tmp[660];
    snprintf(name, sizeof name, "heap-%ld-%06llu.pb.gz", (long)mv__heap.pid, (unsigned long long)seq);
    snprintf(path, sizeof path, "%s/%s", mv__heap.cfg.dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc = mv__heap_write_atomic(path, tmp, pb.data, pb.len, 1);
    if (rc)
        goto out;
    mv__heap.seq = seq;
    mv__heap.snapshots++;
    snprintf(mv__heap.last, sizeof mv__heap.last, "%s", name);
    mv__heap_prune_dir();
out:
    mv__heap_buf_release(&pb);
    int src = status_write_locked();
    return rc ? rc : src;
}

/* The leaving arena's size: the snapshot's scratch arrays, the encoded
 * profile (grown by doubling, the old copies never freed), /proc/self/maps
 * and zlib's ~300 KiB, with room to spare. The tables are bounded by
 * MEMVIGIL_HEAP_MAX_MB, so the snapshot is too. Reserved, not committed. */
#define LEAVE_ARENA_BYTES(max_mb) (((size_t)(max_mb) * 4 + 32) << 20)

int mv__heap_snap_lock_bounded(int limit_ms)
{
    for (int i = 0; i < limit_ms; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&mv__heap.snap_lock, &expect, 1))
            return 1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

int mv__heap_snapshot_leaving(void)
{
    if (atomic_load(&mv__heap.init_state) != 2 || !mv__heap.cfg.active)
        return 0;
    if (mv__heap_tguard || !atomic_load(&mv__heap.ever_enabled) || !has_samples())
        return 0;
    if (getpid() != mv__heap.pid)
        return 0; /* vfork: the parent's memory, the parent's state */
    int e = errno;
    mv__heap_guard_enter();
    int rc = 0;
    if (mv__heap_snap_lock_bounded(100)) {
        if ((rc = mv__heap_leave_begin(LEAVE_ARENA_BYTES(mv__heap.cfg.max_mb))) == 0) {
            rc = snapshot_locked();
            mv__heap_leave_end();
            rc = rc ? rc : 1;
        }
        mv__heap_unlock(&mv__heap.snap_lock);
    }
    mv__heap_guard_leave();
    errno = e;
    return rc;
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

/* ---- the profile in memory, for libmemvigil's endpoint ---- */

/* Exported (with the malloc family, the library's only public symbols):
 * libmemvigil looks them up at run time with dlsym, so a program that
 * embeds the library serves this process's heap profile at
 * /debug/pprof/heap when the preload is loaded, with no link-time
 * dependency either way. Contracts in heap.h. */
/* 0 when the profiler can give a profile, else why not (see heap.h). */
static int take_ready(void)
{
    if (atomic_load(&mv__heap.init_state) != 2 || !mv__heap.cfg.active)
        return -ENODEV;
    if (!atomic_load(&mv__heap.ever_enabled))
        return -ENODATA;
    return 0;
}

static int take(const mv_heap_mark *base, void **data, size_t *len)
{
    if (!data || !len)
        return -EINVAL;
    *data = NULL;
    *len = 0;
    int rc = take_ready();
    if (rc)
        return rc;
    mv__heap_guard_enter();
    mv__heap_lock(&mv__heap.snap_lock);
    mv_heap_buf pb = {0};
    rc = profile_build(&pb, base, NULL);
    mv__heap_unlock(&mv__heap.snap_lock);
    if (rc == 0 && pb.oom)
        rc = -ENOMEM;
    if (rc == 0) {
        *data = pb.data; /* real malloc's: free() passes it through */
        *len = pb.len;
    } else {
        mv__heap_buf_release(&pb);
    }
    mv__heap_guard_leave();
    return rc;
}

__attribute__((visibility("default"))) int mv_heap_pprof_take(void **data, size_t *len)
{
    return take(NULL, data, len);
}

__attribute__((visibility("default"))) int mv_heap_pprof_mark(mv_heap_mark **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc = take_ready();
    if (rc)
        return rc;
    mv__heap_guard_enter();
    mv__heap_lock(&mv__heap.snap_lock);
    rc = profile_build(NULL, NULL, out);
    mv__heap_unlock(&mv__heap.snap_lock);
    mv__heap_guard_leave();
    return rc;
}

__attribute__((visibility("default"))) int mv_heap_pprof_take_since(const mv_heap_mark *mark,
                                                                     void **data, size_t *len)
{
    if (!mark)
        return -EINVAL;
    return take(mark, data, len);
}
