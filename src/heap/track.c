/* track.c — the sampling heap profiler's slow path and tables.
 *
 * DESIGN. Sampling is by bytes: each thread counts down a random number of
 * bytes drawn from an exponential distribution with mean T
 * (MEMVIGIL_HEAP_SAMPLE); the allocation that takes the countdown to <= 0 is
 * sampled and a fresh interval is drawn. Because the exponential is
 * memoryless, an allocation of s bytes is sampled with probability
 * p = 1 - exp(-s/T) whatever came before it, so counting each sample as
 * s/p bytes and 1/p objects gives unbiased estimates (mv__heap_unbias in
 * heap.h, the formula's one home). The fast path (in
 * interpose.c) is one thread-local subtraction and a branch.
 *
 * A sample walks the stack (frames inside this library skipped) with the
 * profiler's own walker (stackwalk.c: per-return-address unwind rules in a
 * lock-free cache, ~60 instructions a frame once warm), or, when that gives
 * up or off x86-64, with libgcc's _Unwind_Backtrace; interns it in a bounded stack
 * table (open addressing over an append-only frame pool, one spinlock:
 * sampled events are rare, ~2 per MiB allocated) and records the block in a live table sharded 64 ways by
 * address, each shard with its own spinlock, so 64+ threads freeing at once
 * rarely meet. A counting filter over address bits (heap.h) lets free skip
 * the live table for unsampled blocks without touching any lock.
 *
 * Every table lives in one mmap sized from MEMVIGIL_HEAP_MAX_MB; when a table
 * is full the sample is dropped and counted, never grown.
 *
 * Why not libunwind's unw_backtrace (and libgcc's unwinder behind our own
 * walker rather than alone): unw_backtrace
 * keeps a per-thread trace cache, a 256 KiB mmap filled on the thread's
 * first call (64 page faults) and unmapped at thread exit, so every thread
 * that took one sample cost 256 KiB of RSS and ~1 ms (1000 threads: +212
 * MB; 10k short-lived threads: 14x slower). libunwind without that cache
 * (unw_init_local + unw_step) masks and unmasks signals around each step
 * (two rt_sigprocmask syscalls a frame, ~60 us a stack on the benchmark VM).
 * libgcc's walk keeps no per-thread state and makes no syscall: with glibc
 * >= 2.35 it finds each frame's FDE through _dl_find_object, lock-free, and
 * interprets its CFI on the stack, ~0.3 us a frame (~1.3-1.9k instructions,
 * most of a sample's cost: hence stackwalk.c, which reads each address's
 * CFI once and looks the FDE up through the same _Unwind_Find_FDE). It takes one lock,
 * libgcc's object_mutex, only when a program registered frames itself
 * (__register_frame: JITs), and libgcc may call malloc while holding it; a
 * sample taken there would unwind into that lock again, so an allocation
 * whose caller is the unwinder's own code is never sampled (see
 * mv__heap_on_countdown). bench/heap/README.md, "Threads", has the figures.
 *
 * Locks, in rank order: stack_lock (1), shard locks 0..63 (2). The snapshot
 * lock (0) is taken before them. No code calls into libc or the unwinder while
 * holding a rank 1/2 lock, so a fork prepare handler can take them all in
 * order without deadlock (the snapshot lock within a bound: fork_prepare);
 * the child resets them.
 */
#include "heap.h"
#include "stackwalk.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <unwind.h>

/* The process-wide singleton: all profiler state. Written by init (once),
 * the sampled path (under its locks), signal handlers (atomics) and the
 * snapshot thread; see the field comments in heap.h. */
mv_heap_state mv__heap;

__thread int64_t mv__heap_countdown __attribute__((tls_model("initial-exec")));
__thread int mv__heap_tguard __attribute__((tls_model("initial-exec")));
/* Per-thread PRNG (xorshift64*) and the last interval drawn (for the
 * allocated-bytes estimate). Owned by the thread. */
static __thread uint64_t t_rng __attribute__((tls_model("initial-exec")));
static __thread int64_t t_last_draw __attribute__((tls_model("initial-exec")));

extern char **environ;

/* ---- spinlocks ---- */

void mv__heap_lock(atomic_int *l)
{
    for (unsigned spins = 0;; spins++) {
        int expect = 0;
        if (atomic_compare_exchange_weak_explicit(l, &expect, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        if (spins > 64)
            sched_yield();
    }
}

void mv__heap_unlock(atomic_int *l)
{
    atomic_store_explicit(l, 0, memory_order_release);
}

/* ---- random intervals ---- */

static uint64_t rng_next(void)
{
    uint64_t x = t_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t_rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Exponential with mean T, at least 1 byte. */
static int64_t draw_interval(void)
{
    double u = ((double)(rng_next() >> 11) + 1.0) * (1.0 / 9007199254740993.0); /* (0,1] */
    double v = -log(u) * (double)mv__heap.cfg.sample_bytes;
    if (v < 1.0)
        v = 1.0;
    if (v > 4e18)
        v = 4e18;
    return (int64_t)v;
}

static void seed_thread(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                 (uint64_t)(uintptr_t)&t_rng ^ ((uint64_t)getpid() << 16);
    s = (s ^ (s >> 33)) * 0xff51afd7ed558ccdull;
    t_rng = s ? s : 0x9E3779B97F4A7C15ull;
}

/* ---- sizing ---- */

static size_t round_pow2_down(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

/* Splits the budget: free filter 1/8 (reserved; the filter and its summary
 * are a fixed 272 KiB inside the singleton, see heap.h, and only pages
 * touched become resident), live table 1/4, stack entries + index ~1/8,
 * frame pool the rest (~1/2) in one mmap. Default 8 MiB: 64 Ki live blocks
 * (in levels of 16..512 per shard: 63 Ki usable), ~16 Ki stacks, ~512 Ki
 * frames. */
static int tables_create(void)
{
    size_t budget = (size_t)mv__heap.cfg.max_mb << 20;
    size_t filter_n = budget / 8; /* the filter's share of the budget */
    size_t live_n = round_pow2_down(budget / 4 / sizeof(mv_heap_live));
    if (live_n < MV_HEAP_SHARDS * 32)
        live_n = MV_HEAP_SHARDS * 32; /* at least two levels */
    if (live_n > (size_t)MV_HEAP_SHARDS * (16u << MV_HEAP_LIVE_LEVELS))
        live_n = (size_t)MV_HEAP_SHARDS * (16u << MV_HEAP_LIVE_LEVELS);
    size_t stack_n = round_pow2_down(budget / 8 / (sizeof(mv_heap_stack) + 2 * sizeof(uint32_t)));
    size_t frames_n = (budget - filter_n - live_n * sizeof(mv_heap_live) -
                       stack_n * (sizeof(mv_heap_stack) + 2 * sizeof(uint32_t))) /
                      sizeof(uintptr_t);
    size_t total = live_n * sizeof(mv_heap_live) + stack_n * sizeof(mv_heap_stack) +
                   2 * stack_n * sizeof(uint32_t) + frames_n * sizeof(uintptr_t) + 4096;
    void *a = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (a == MAP_FAILED)
        return -errno;
    uint8_t *c = a;
    mv__heap.arena = a;
    mv__heap.arena_bytes = total;
    mv__heap.live = (mv_heap_live *)c;
    c += live_n * sizeof(mv_heap_live);
    mv__heap.shard_cap = (uint32_t)(live_n / MV_HEAP_SHARDS);
    mv__heap.live_levels = 0;
    while ((32u << mv__heap.live_levels) <= mv__heap.shard_cap)
        mv__heap.live_levels++; /* levels 16..shard_cap/2: shard_cap - 16 entries */
    mv__heap.stacks = (mv_heap_stack *)c;
    c += stack_n * sizeof(mv_heap_stack);
    mv__heap.stack_cap = (uint32_t)stack_n;
    mv__heap.frames = (uintptr_t *)c;
    c += frames_n * sizeof(uintptr_t);
    mv__heap.frame_cap = (uint32_t)frames_n;
    mv__heap.stack_index = (uint32_t *)c;
    c += 2 * stack_n * sizeof(uint32_t);
    mv__heap.index_cap = (uint32_t)(2 * stack_n);
    return 0;
}

/* ---- text ranges: ours (skipped in stacks) and the unwinder's ---- */

typedef struct text_range {
    uintptr_t base;            /* the object's load base (dli_fbase) */
    uintptr_t lo, hi;          /* its executable segments, [lo, hi) */
} text_range;

static int text_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
    (void)sz;
    text_range *r = arg;
    if (info->dlpi_addr != r->base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            if (!r->lo || lo < r->lo)
                r->lo = lo;
            if (lo + ph->p_memsz > r->hi)
                r->hi = lo + ph->p_memsz;
        }
    }
    return 1;
}

/* The executable range of the shared object containing fn; {0} when none.
 * dli_fbase is a shared object's load base, equal to dlpi_addr for a DSO
 * linked at address 0 (all shared libraries). */
static text_range text_of(const void *fn)
{
    text_range r = {0, 0, 0};
    Dl_info di;
    if (dladdr(fn, &di) && di.dli_fbase) {
        r.base = (uintptr_t)di.dli_fbase;
        dl_iterate_phdr(text_cb, &r);
    }
    return r;
}

static void find_text_ranges(void)
{
    text_range self = text_of((const void *)(uintptr_t)mv__heap_init);
    mv__heap.self_lo = self.lo;
    mv__heap.self_hi = self.hi;
    /* whichever object _Unwind_Backtrace resolved to (libgcc_s, or a
     * libunwind the program linked, which exports the same API) */
    text_range uw = text_of((const void *)(uintptr_t)_Unwind_Backtrace);
    mv__heap.unwinder_lo = uw.lo;
    mv__heap.unwinder_hi = uw.hi;
}

/* ---- fork ---- */

/* Whether fork_prepare took the snapshot lock (the forking thread only). */
static int fork_took_snap_lock;

/* The snapshot lock first (rank 0), within a bound: a snapshot reads
 * /proc/self/maps and build ids inside dl_iterate_phdr, which holds
 * glibc's dl_load_write_lock — a lock fork does not reset in the child. A
 * fork in the middle of it left the child's own snapshot (at its exit)
 * waiting on that lock for good (heap_preload.sh step 6 once timed out so:
 * the fast-start snapshots of issue 14 part 5 land while the test forks).
 * Waiting for the snapshot to end keeps the lock free at the fork; a
 * snapshot running past 1 s (a loaded machine) is not waited for, and the
 * child then never calls dl_iterate_phdr for its snapshots
 * (loader_lock_suspect: they go without build ids). */
static void fork_prepare(void)
{
    fork_took_snap_lock = mv__heap_snap_lock_bounded(1000);
    mv__heap_lock(&mv__heap.stack_lock);
    for (int i = 0; i < MV_HEAP_SHARDS; i++)
        mv__heap_lock(&mv__heap.shards[i].lock);
}

static void fork_parent(void)
{
    for (int i = MV_HEAP_SHARDS - 1; i >= 0; i--)
        mv__heap_unlock(&mv__heap.shards[i].lock);
    mv__heap_unlock(&mv__heap.stack_lock);
    if (fork_took_snap_lock)
        mv__heap_unlock(&mv__heap.snap_lock);
}

/* The child has one thread (this one); every lock is either held by it
 * (prepare) or by no live thread (the snapshot lock): reset them all. The
 * live table is kept: the blocks it names are live in the child too. */
static void fork_child(void)
{
    for (int i = MV_HEAP_SHARDS - 1; i >= 0; i--)
        atomic_store(&mv__heap.shards[i].lock, 0);
    atomic_store(&mv__heap.stack_lock, 0);
    mv__heap.pid = getpid();
    mv__heap.is_fork_child = 1;
    mv__heap.loader_lock_suspect = !fork_took_snap_lock;
    atomic_store(&mv__heap.samples_since_fork, 0);
    mv__heap_snapshot_child();
}

/* ---- init ---- */

static const char *env_get(const char *name)
{
    return secure_getenv(name);
}

static uint64_t rss_bytes(void);
int mv__heap_init(void)
{
    int st = atomic_load(&mv__heap.init_state);
    if (st == 2)
        return 1;
    if (st == 1 || !environ)
        return 0; /* another thread is at it, or too early to read env */
    int expect = 0;
    if (!atomic_compare_exchange_strong(&mv__heap.init_state, &expect, 1))
        return 0;
    mv__heap.pid = getpid();
    mv__heap_config_parse(&mv__heap.cfg, env_get, (int)getauxval(AT_SECURE), mv__heap.pid);
    if (mv__heap.cfg.active && tables_create() != 0)
        mv__heap.cfg.active = 0;
    if (mv__heap.cfg.active) {
        find_text_ranges();
        sem_init(&mv__heap.sem, 0, 0);
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        if (mv__heap.cfg.enabled_at_start) {
            mv__heap_mark_enabled();
            atomic_store(&mv__heap.enabled, 1);
        }
        atomic_store(&mv__heap.init_state, 2);
        mv__heap_snapshot_setup();
    } else {
        atomic_store(&mv__heap.init_state, 2);
    }
    return 1;
}

/* Resident bytes from /proc/self/statm (plain syscalls: no stdio). */
static uint64_t rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *c = buf;
    while (*c && *c != ' ')
        c++;
    uint64_t pages = 0;
    while (*c == ' ')
        c++;
    for (; *c >= '0' && *c <= '9'; c++)
        pages = pages * 10 + (uint64_t)(*c - '0');
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t mv__heap_rss_bytes(void)
{
    return rss_bytes();
}

void mv__heap_mark_enabled(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    mv__heap.start_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    mv__heap.rss_at_start = rss_bytes();
    mv__heap.alloc_at_start = atomic_load(&mv__heap.allocated_bytes);
    atomic_store(&mv__heap.ever_enabled, 1);
}

/* ---- the counting filter ---- */

static void bucket_add(atomic_uchar *b, int delta)
{
    unsigned char v = atomic_load_explicit(b, memory_order_relaxed);
    for (;;) {
        if (v == 255 || (delta < 0 && v == 0))
            return; /* saturated buckets stay "maybe" for good */
        unsigned char nv = (unsigned char)(v + delta);
        if (atomic_compare_exchange_weak_explicit(b, &v, nv, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

void mv__heap_filter_add(const void *p, int delta)
{
    bucket_add(&mv__heap.filter[mv__heap_filter_slot(p)], delta);
    bucket_add(&mv__heap.summary[mv__heap_summary_slot(p)], delta);
}

/* ---- live table ---- */

static inline uint64_t addr_mix(uintptr_t a)
{
    uint64_t h = (uint64_t)a * 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

/* Finds a in level k of shard sh (lock held): its index, or -1. */
static int64_t level_find(unsigned sh, unsigned k, uintptr_t a, uint64_t h)
{
    mv_heap_live *tab = mv__heap_live_level(sh, k);
    uint32_t mask = (16u << k) - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (tab[i].addr == a)
            return i;
        if (!tab[i].addr)
            return -1;
    }
}

/* Empties slot i of level k of shard sh (lock held). Backward-shift
 * deletion keeps probe chains intact without tombstones. */
static void level_delete(unsigned sh, unsigned k, uint32_t i)
{
    mv_heap_live *tab = mv__heap_live_level(sh, k);
    uint32_t mask = (16u << k) - 1;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!tab[j].addr)
            break;
        uint32_t home = (uint32_t)addr_mix(tab[j].addr) & mask;
        /* move j into hole i when home is not cyclically in (i, j] */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            tab[i] = tab[j];
            i = j;
        }
    }
    tab[i].addr = 0;
    mv__heap.shards[sh].lcount[k]--;
    mv__heap.shards[sh].count--;
}

static int live_insert(uintptr_t a, uint64_t size, uint32_t stack)
{
    uint64_t h = addr_mix(a);
    unsigned s = (unsigned)(h >> 58);
    mv_heap_shard *sh = &mv__heap.shards[s];
    mv__heap_lock(&sh->lock);
    /* A stale entry for a reused address is replaced. */
    for (unsigned k = 0; k < mv__heap.live_levels; k++) {
        int64_t i = sh->lcount[k] ? level_find(s, k, a, h) : -1;
        if (i >= 0) {
            mv_heap_live *e = &mv__heap_live_level(s, k)[i];
            e->size = size;
            e->stack = stack;
            mv__heap_unlock(&sh->lock);
            return 0;
        }
    }
    for (unsigned k = 0; k < mv__heap.live_levels; k++) {
        uint32_t cap = 16u << k;
        if (sh->lcount[k] >= cap - cap / 4)
            continue;
        mv_heap_live *tab = mv__heap_live_level(s, k);
        uint32_t i = (uint32_t)h & (cap - 1);
        while (tab[i].addr)
            i = (i + 1) & (cap - 1);
        tab[i].addr = a;
        tab[i].size = size;
        tab[i].stack = stack;
        sh->lcount[k]++;
        sh->count++;
        mv__heap_filter_add((const void *)a, +1);
        mv__heap_unlock(&sh->lock);
        return 0;
    }
    mv__heap_unlock(&sh->lock);
    return -ENOSPC;
}

int mv__heap_live_remove(const void *p, uint64_t *size, uint32_t *stack)
{
    uintptr_t a = (uintptr_t)p;
    if (!mv__heap.live)
        return 0;
    uint64_t h = addr_mix(a);
    unsigned s = (unsigned)(h >> 58);
    mv_heap_shard *sh = &mv__heap.shards[s];
    mv__heap_guard_enter(); /* a lock held: a signal's _exit must not snapshot */
    mv__heap_lock(&sh->lock);
    for (unsigned k = 0; k < mv__heap.live_levels; k++) {
        int64_t i = sh->lcount[k] ? level_find(s, k, a, h) : -1;
        if (i < 0)
            continue;
        mv_heap_live *e = &mv__heap_live_level(s, k)[i];
        if (size)
            *size = e->size;
        if (stack)
            *stack = e->stack;
        level_delete(s, k, (uint32_t)i);
        mv__heap_filter_add(p, -1);
        mv__heap_unlock(&sh->lock);
        mv__heap_guard_leave();
        return 1;
    }
    mv__heap_unlock(&sh->lock);
    mv__heap_guard_leave();
    return 0;
}

void mv__heap_live_reinsert(const void *p, uint64_t size, uint32_t stack)
{
    mv__heap_guard_enter();
    if (live_insert((uintptr_t)p, size, stack) != 0)
        atomic_fetch_add_explicit(&mv__heap.dropped_live, 1, memory_order_relaxed);
    mv__heap_guard_leave();
}

/* ---- stack table ---- */

static uint64_t frames_hash(const uintptr_t *f, uint32_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (uint32_t i = 0; i < n; i++) {
        h ^= f[i];
        h *= 0x100000001b3ull;
        h ^= h >> 31;
    }
    return h ? h : 1;
}

/* Finds or adds the stack; caller holds stack_lock. Returns id or -1. */
static int64_t stack_intern(const uintptr_t *f, uint32_t n, uint64_t h)
{
    uint32_t mask = mv__heap.index_cap - 1;
    uint32_t i = (uint32_t)h & mask;
    for (;;) {
        uint32_t e = mv__heap.stack_index[i];
        if (!e)
            break;
        mv_heap_stack *s = &mv__heap.stacks[e - 1];
        if (s->hash == h && s->depth == n &&
            memcmp(&mv__heap.frames[s->frames_off], f, n * sizeof *f) == 0)
            return e - 1;
        i = (i + 1) & mask;
    }
    if (mv__heap.stack_count >= mv__heap.stack_cap ||
        mv__heap.frame_count + n > mv__heap.frame_cap)
        return -1;
    uint32_t id = mv__heap.stack_count;
    mv_heap_stack *s = &mv__heap.stacks[id];
    s->hash = h;
    s->depth = n;
    s->frames_off = mv__heap.frame_count;
    s->alloc_objects = 0;
    s->alloc_bytes = 0;
    memcpy(&mv__heap.frames[s->frames_off], f, n * sizeof *f);
    mv__heap.frame_count += n;
    mv__heap.stack_index[i] = id + 1;
    /* Published after the entry is complete (snapshot reads count under the
     * same lock, so a plain store is enough). */
    mv__heap.stack_count = id + 1;
    return id;
}

/* ---- the sampled path ---- */

/* The frames of one walk: return addresses, leaf first, this library's
 * leading frames (record, the slow path, the interposer) left out. */
typedef struct stack_walk {
    uintptr_t f[MV_HEAP_MAX_DEPTH];
    uint32_t depth;
    int in_self;               /* still in our own leading frames */
} stack_walk;

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    stack_walk *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    if (!ip)
        return _URC_END_OF_STACK;
    if (w->in_self) {
        if (ip >= mv__heap.self_lo && ip < mv__heap.self_hi)
            return _URC_NO_REASON;
        w->in_self = 0;
    }
    w->f[w->depth++] = ip;
    return w->depth < MV_HEAP_MAX_DEPTH ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* MEMVIGIL_HEAP_UNWIND_CHECK=1: walks the same stack again with libgcc and
 * counts a difference (tests/heap/heap_preload.sh runs real programs so).
 * Called from record(), whose frames are ours, so both walks skip the same
 * leading frames and see the same caller frames. */
static __attribute__((noinline)) void check_walk(const stack_walk *ours)
{
    stack_walk g;
    g.depth = 0;
    g.in_self = 1;
    _Unwind_Backtrace(walk_frame, &g);
    if (g.depth != ours->depth || memcmp(g.f, ours->f, g.depth * sizeof g.f[0]) != 0)
        atomic_fetch_add_explicit(&mv__heap.unwind_mismatches, 1, memory_order_relaxed);
}

/* Inlined into mv__heap_on_countdown: one frame fewer for every unwind to
 * step through (~1.3k instructions a sample; bench/heap/README.md). */
static inline __attribute__((always_inline)) void record(void *p, size_t n)
{
    stack_walk w;
    int got = mv__heap_unwind(w.f, MV_HEAP_MAX_DEPTH, mv__heap.self_lo, mv__heap.self_hi);
    if (__builtin_expect(got >= 0, 1)) {
        w.depth = (uint32_t)got;
        if (__builtin_expect(mv__heap.cfg.unwind_check, 0))
            check_walk(&w);
    } else {
        /* CFI beyond the cached rules (stackwalk.h): libgcc's full walk */
        atomic_fetch_add_explicit(&mv__heap.unwind_fallbacks, 1, memory_order_relaxed);
        w.depth = 0;
        w.in_self = 1;
        _Unwind_Backtrace(walk_frame, &w);
    }
    const uintptr_t *f = w.f;
    uint32_t depth = w.depth;

    mv_heap_weight wt = mv__heap_unbias(n, mv__heap.cfg.sample_bytes);
    uint64_t h = frames_hash(f, depth);

    mv__heap_lock(&mv__heap.stack_lock);
    int64_t id = stack_intern(f, depth, h);
    if (id >= 0) {
        mv__heap.stacks[id].alloc_objects += wt.objects;
        mv__heap.stacks[id].alloc_bytes += wt.bytes;
    }
    mv__heap_unlock(&mv__heap.stack_lock);
    if (id < 0) {
        atomic_fetch_add_explicit(&mv__heap.dropped_stacks, 1, memory_order_relaxed);
        return;
    }
    if (live_insert((uintptr_t)p, n, (uint32_t)id) != 0) {
        atomic_fetch_add_explicit(&mv__heap.dropped_live, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&mv__heap.samples, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mv__heap.samples_since_fork, 1, memory_order_relaxed);
}

void *mv__heap_on_countdown(void *p, size_t n, const void *caller)
{
    if (mv__heap_tguard)
        return p; /* the profiler's own allocation: never sampled */
    mv__heap_guard_enter();
    if (atomic_load_explicit(&mv__heap.init_state, memory_order_acquire) != 2 && !mv__heap_init()) {
        mv__heap_countdown = 4096; /* too early (no environ yet): retry soon */
        goto out;
    }
    if (!mv__heap.cfg.active) {
        mv__heap_countdown = INT64_MAX / 2; /* inert for good */
        goto out;
    }
    if (!t_rng) {
        /* A thread's first call: its countdown started at 0, not at a
         * drawn interval, so this allocation is not a sample. */
        seed_thread();
        t_last_draw = draw_interval();
        mv__heap_countdown = t_last_draw;
        goto out;
    }
    atomic_fetch_add_explicit(&mv__heap.allocated_bytes,
                              (uint64_t)(t_last_draw - mv__heap_countdown), memory_order_relaxed);
    if (atomic_load_explicit(&mv__heap.enabled, memory_order_relaxed)) {
        if (atomic_load_explicit(&mv__heap.thread_state, memory_order_relaxed) == 0)
            mv__heap_thread_ensure();
        /* Never unwind from inside the unwinder (see DESIGN). */
        if (p && !((uintptr_t)caller >= mv__heap.unwinder_lo &&
                   (uintptr_t)caller < mv__heap.unwinder_hi))
            record(p, n);
    } else if (atomic_load_explicit(&mv__heap.req_snapshot, memory_order_relaxed) &&
               atomic_load_explicit(&mv__heap.thread_state, memory_order_relaxed) == 0) {
        mv__heap_thread_ensure();
    }
    t_last_draw = draw_interval();
    mv__heap_countdown = t_last_draw;
out:
    mv__heap_guard_leave();
    return p;
}

void mv__heap_counters_get(mv_heap_counters *c)
{
    c->samples = atomic_load_explicit(&mv__heap.samples, memory_order_relaxed);
    c->dropped_stacks = atomic_load_explicit(&mv__heap.dropped_stacks, memory_order_relaxed);
    c->dropped_live = atomic_load_explicit(&mv__heap.dropped_live, memory_order_relaxed);
    c->allocated_bytes = atomic_load_explicit(&mv__heap.allocated_bytes, memory_order_relaxed);
    mv__heap_lock(&mv__heap.stack_lock);
    c->stacks = mv__heap.stack_count;
    mv__heap_unlock(&mv__heap.stack_lock);
    uint64_t live = 0;
    for (int i = 0; i < MV_HEAP_SHARDS; i++) {
        mv__heap_lock(&mv__heap.shards[i].lock);
        live += mv__heap.shards[i].count;
        mv__heap_unlock(&mv__heap.shards[i].lock);
    }
    c->live = live;
}
