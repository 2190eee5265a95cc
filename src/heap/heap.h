/* heap.h — internal contracts between the files of libmemvigil_heap.so, the
 * LD_PRELOAD sampling heap profiler.
 *
 *   interpose.c  the malloc family: resolve the real allocator, static pool
 *                for dlsym's own allocations, the unsampled fast path.
 *   track.c      sampling slow path: per-thread countdown, PRNG, unwinding
 *                (stackwalk.c, else libgcc's _Unwind_Backtrace: no
 *                per-thread state), stack table, live table, free filter,
 *                fork handling.
 *   stackwalk.c  x86-64 stack walker: per-return-address unwind rules in a
 *                lock-free cache (stackwalk.h); gives up to libgcc's walk
 *                on anything its rule cannot express.
 *   cfi.c        .eh_frame CIE/FDE reader behind it (pure).
 *   snapshot.c   snapshot thread, signals, the snapshot and status files.
 *   snapdir.c    the output directory: mkdir, sequence numbers, atomic
 *                writes, pruning to MEMVIGIL_HEAP_KEEP.
 *   mappings.c   /proc/self/maps and build ids for a snapshot's mappings.
 *   unloaded.c   dlclose bookkeeping: the mappings of unloaded objects.
 *   pprof.c      profile.proto encoder (no protobuf library).
 *   config.c     environment parsing (pure; unit-tested).
 *
 * The preload state is the one documented process-wide singleton (`mv__heap`,
 * see track.c); everything else hangs off it. All profiler tables come from
 * mmap, never from the interposed malloc. Code that may allocate through
 * libc runs with the thread-local guard raised (mv__heap_guard_enter), so
 * its allocations pass straight to the real allocator, unsampled.
 */
#ifndef MV_HEAP_H
#define MV_HEAP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <sys/types.h>

#define MV_HEAP_MAX_DEPTH 64

/* ---- configuration (config.c) ---- */

/* Tunables read once from the environment. Defaults, and why:
 *  sample_bytes 512 KiB: ~2 samples per MiB allocated keeps the sampled path
 *    (an unwind, two locked table updates) under 1% of a malloc-heavy
 *    program's time while sites above ~1 MiB live are estimated within 10%.
 *  interval_s 60: snapshots are trend points; a minute gives hours of
 *    history within the keep cap (100 files).
 *  max_mb 8: the footprint budget promised in the issue; the tables are
 *    sized from it (see mv__heap_tables_size). */
typedef struct mv_heap_config {
    int active;              /* 0: loaded but inert (setuid, or invalid env) */
    int enabled_at_start;    /* MEMVIGIL_HEAP=1 */
    int signals;             /* install SIGRTMIN+8/+9 handlers (default 1) */
    int unwind_check;        /* MEMVIGIL_HEAP_UNWIND_CHECK=1: every sample also
                              * walked by _Unwind_Backtrace, differences counted */
    uint64_t sample_bytes;   /* MEMVIGIL_HEAP_SAMPLE, mean interval, >= 1 */
    uint64_t interval_s;     /* MEMVIGIL_HEAP_INTERVAL, 0 = request/exit only */
    uint64_t keep;           /* MEMVIGIL_HEAP_KEEP, >= 1: snapshots per directory */
    uint64_t max_mb;         /* MEMVIGIL_HEAP_MAX_MB, 1..1024 */
    char dir[512];           /* MEMVIGIL_HEAP_DIR or /tmp/memvigil-heap-<pid> */
} mv_heap_config;

/* getenv-like lookup: returns the value or NULL. */
typedef const char *(*mv_heap_getenv_fn)(const char *name);

/* Fills *cfg from the environment. `secure` is getauxval(AT_SECURE): a
 * setuid/setgid/capability-raising exec makes the profiler inert
 * (cfg->active = 0) whatever the environment says. Invalid numbers fall back
 * to the default (the library never refuses to let a program run). Returns 0.
 * Allocates nothing; safe before constructors. */
int mv__heap_config_parse(mv_heap_config *cfg, mv_heap_getenv_fn getenv_fn,
                          int secure, pid_t pid);

/* ---- real allocator (interpose.c) ---- */

typedef struct mv_heap_real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
} mv_heap_real;

extern mv_heap_real mv__heap_real;

/* The leaving arena: between begin and end, the calling thread's
 * allocations come from a private mmap'd arena of `bytes` (mapped on the
 * first begin, MAP_NORESERVE, kept for good; later begins reuse it and
 * ignore `bytes`), never from the real allocator, and its frees of them are
 * no-ops; a full arena fails the allocation. For the last snapshot of a
 * thread that may have interrupted the real allocator (leave.c). begin
 * returns 0 or -errno (mmap failed; then the thread is not leaving). Only
 * the calling thread is affected; async-signal-safe (mmap, TLS). */
int mv__heap_leave_begin(size_t bytes);
void mv__heap_leave_end(void);
/* 1 between begin and end on the calling thread: it may have interrupted
 * the real allocator (a signal handler's _exit), so nothing may take the
 * allocator's locks (mallinfo2, mallctl). Async-signal-safe (TLS). */
int mv__heap_leaving(void);

/* 1 when the process's `malloc` symbol resolves to ours (the program does
 * not bring its own allocator that wins symbol lookup). Snapshot time only. */
int mv__heap_interposed(void);
/* 1 when the allocator behind us is glibc's. */
int mv__heap_next_is_glibc(void);

/* ---- sampling and tables (track.c) ---- */

/* Per-thread state. Initial-exec TLS: no __tls_get_addr (which may allocate)
 * on any path. Only the owning thread touches it. */
extern __thread int64_t mv__heap_countdown
    __attribute__((tls_model("initial-exec")));
extern __thread int mv__heap_tguard __attribute__((tls_model("initial-exec")));

static inline void mv__heap_guard_enter(void) { mv__heap_tguard++; }
static inline void mv__heap_guard_leave(void) { mv__heap_tguard--; }

/* Slow path, called when the countdown reached <= 0 after the allocation p
 * of n bytes: decides, records, redraws. `caller` is the interposer's
 * return address (__builtin_return_address(0)): an allocation made by the
 * unwinder itself is never sampled (track.c, DESIGN). Returns p. Any
 * thread. */
void *mv__heap_on_countdown(void *p, size_t n, const void *caller);

/* The sampling unbias: what one sampled block stands for. The countdown
 * (track.c, DESIGN) is exponential with mean T = sample_bytes and
 * memoryless, so a block of n bytes is sampled with probability
 * p = 1 - exp(-n/T) whatever came before it; counting the sample as 1/p
 * objects and n/p bytes makes both totals unbiased. A 0-byte block counts
 * as 1 byte. Far below T, p ~ n/T and a sample stands for about T bytes;
 * far above T, p ~ 1 and it stands for itself. expm1 keeps p exact for
 * small n/T (1 - exp(-x) would cancel to 0). The one home of this formula:
 * track.c (allocated totals) and snapshot.c (in-use totals) both call it.
 * Pure; any thread. */
typedef struct mv_heap_weight {
    double objects;  /* 1/p */
    double bytes;    /* n/p */
} mv_heap_weight;

static inline mv_heap_weight mv__heap_unbias(uint64_t n, uint64_t sample_bytes)
{
    double s = n ? (double)n : 1.0;
    double p = -expm1(-s / (double)sample_bytes);
    if (p <= 0)
        p = 1e-300; /* only for a T so large that n/T underflows */
    mv_heap_weight w = {1.0 / p, s / p};
    return w;
}

/* Removes p from the live table if present (call before the real free).
 * Returns 1 and fills *size and *stack when it was there. */
int mv__heap_live_remove(const void *p, uint64_t *size, uint32_t *stack);
/* Re-inserts an entry removed by mv__heap_live_remove (failed realloc). */
void mv__heap_live_reinsert(const void *p, uint64_t size, uint32_t stack);

/* Initialises the profiler if the environment is readable (environ set).
 * Idempotent; returns 1 when initialised. Runs under the caller's guard. */
int mv__heap_init(void);

/* Counters, read with relaxed loads (values may be a snapshot stale). */
typedef struct mv_heap_counters {
    uint64_t samples;          /* sampled allocations recorded */
    uint64_t dropped_stacks;   /* samples lost: stack table/frame pool full */
    uint64_t dropped_live;     /* samples lost: live table full */
    uint64_t allocated_bytes;  /* bytes allocated through us (approx.) */
    uint64_t stacks;           /* distinct stacks */
    uint64_t live;             /* live sampled blocks */
} mv_heap_counters;

/* Fills *c (takes the table locks briefly; snapshot time). */
void mv__heap_counters_get(mv_heap_counters *c);
/* Resident set size in bytes from /proc/self/statm, 0 when unreadable. */
uint64_t mv__heap_rss_bytes(void);
/* Records "sampling switched on now" (start time, RSS, allocated bytes). */
void mv__heap_mark_enabled(void);

/* ---- the singleton ---- */

typedef struct mv_heap_stack {
    uint64_t hash;
    uint32_t frames_off;       /* index into the frame pool */
    uint32_t depth;
    double alloc_objects;      /* unbiased estimates, under stack lock */
    double alloc_bytes;
} mv_heap_stack;

typedef struct mv_heap_live {
    uintptr_t addr;            /* 0 = empty slot */
    uint64_t size;
    uint32_t stack;            /* index into the stack table */
    uint32_t pad;
} mv_heap_live;

#define MV_HEAP_SHARDS 64
/* The free filter (see mv__heap_filter_slot): 2^MV_HEAP_FILTER_BITS buckets,
 * one per 2^MV_HEAP_FILTER_SHIFT bytes of address space, summarised by
 * 2^MV_HEAP_SUMMARY_BITS buckets that every free reads first. */
#define MV_HEAP_FILTER_BITS 18
#define MV_HEAP_SUMMARY_BITS 14
#ifndef MV_HEAP_FILTER_SHIFT
#define MV_HEAP_FILTER_SHIFT 4
#endif

/* The live table is sharded by address hash; each shard is a series of
 * open-addressing levels of 16, 32, 64, ... entries (level k: 16 << k), and
 * an entry goes into the first level under 3/4 full. Levels of all shards
 * are laid out level by level (level 0 of every shard, then level 1, ...),
 * so a few hundred live samples touch the first few pages only: the table's
 * pages cost a page fault each when first touched (~18 us on the benchmark
 * VM), and one flat hash table spreads even a few samples over all of them.
 * A lookup probes each non-empty level (sampled frees are rare). */
#define MV_HEAP_LIVE_LEVELS 14    /* max levels: shard_cap <= 16 << 14 */

typedef struct mv_heap_shard {
    atomic_int lock;           /* spinlock; rank 2 (after the stack lock) */
    uint32_t count;            /* entries in all levels; under lock */
    uint32_t lcount[MV_HEAP_LIVE_LEVELS]; /* entries per level; under lock */
} mv_heap_shard;

typedef struct mv_heap_state {
    /* The free filter (see mv__heap_filter_slot): the summary, read by
     * every free, first, so free indexes the singleton's own address; then
     * the full filter, read after a summary hit. Both apart from the fields
     * written under the locks. */
    _Alignas(64) atomic_uchar summary[1u << MV_HEAP_SUMMARY_BITS];
    _Alignas(64) atomic_uchar filter[1u << MV_HEAP_FILTER_BITS];

    mv_heap_config cfg;
    atomic_int init_state;     /* 0 none, 1 in progress, 2 done */
    atomic_int enabled;        /* sampling on; written by signal/agent */
    atomic_int ever_enabled;
    pid_t pid;                 /* current pid (updated in a fork child) */
    int is_fork_child;
    /* Fork child whose fork did not wait out a snapshot in progress
     * (fork_prepare's bound ran out): another thread of the parent may
     * have been inside dl_iterate_phdr, whose lock fork does not reset, so
     * this process never calls it for a snapshot (no build ids). */
    int loader_lock_suspect;
    uintptr_t self_lo, self_hi;/* our own text, skipped in stacks */
    uintptr_t unwinder_lo, unwinder_hi; /* _Unwind_Backtrace's object's text */

    /* tables (one mmap, except the free filter below) */
    void *arena;
    size_t arena_bytes;
    mv_heap_shard shards[MV_HEAP_SHARDS];
    mv_heap_live *live;        /* MV_HEAP_SHARDS * (shard_cap - 16) entries */
    uint32_t shard_cap;        /* power of two; levels hold shard_cap - 16 */
    uint32_t live_levels;      /* log2(shard_cap) - 4, >= 1 */
    atomic_int stack_lock;     /* rank 1 */
    mv_heap_stack *stacks;
    uint32_t stack_cap, stack_count;
    uint32_t *stack_index;     /* open addressing: stack id + 1, 0 = empty */
    uint32_t index_cap;        /* power of two */
    uintptr_t *frames;
    uint32_t frame_cap, frame_count;

    atomic_ullong samples, samples_since_fork, dropped_stacks, dropped_live;
    atomic_ullong allocated_bytes;
    atomic_ullong unwind_fallbacks;  /* samples walked by _Unwind_Backtrace (stackwalk.h gave up) */
    atomic_ullong unwind_mismatches; /* check mode: walks that differed from libgcc's */

    /* snapshots (snapshot.c) */
    atomic_int snap_lock;      /* rank 0; not taken at fork (child resets) */
    atomic_int thread_state;   /* 0 none, 1 starting, 2 running */
    atomic_int req_snapshot, req_status, exiting;
    sem_t sem;                 /* posted by signal handlers and exit */
    uint64_t seq;              /* last written sequence number */
    uint64_t snapshots;        /* written by this pid */
    char last[64];
    int64_t start_ns;          /* wall clock at enable, for duration_nanos */
    uint64_t rss_at_start;     /* bytes, for the glibc_malloc heuristic */
    uint64_t alloc_at_start;

} mv_heap_state;

extern mv_heap_state mv__heap;

/* Level k (< mv__heap.live_levels) of shard s's live table: 16 << k
 * entries. Callers hold the shard's lock. */
static inline mv_heap_live *mv__heap_live_level(unsigned s, unsigned k)
{
    return mv__heap.live + (size_t)MV_HEAP_SHARDS * 16 * ((1u << k) - 1) + (size_t)s * (16u << k);
}

/* The free filter: a counting filter over address bits, one byte per bucket,
 * incremented for each live sampled block mapped there. Zero means "surely
 * not sampled". Every free consults it, so where its bytes lie decides what
 * free costs; instruction counts do not show that (bench/heap/README.md,
 * "Where the time went"). Two levels:
 *
 *  - the filter, 2^18 buckets (256 KiB), direct-mapped: bucket = address
 *    bits [4, 22) xor bits [22, 40) (mv__heap_filter_slot), one byte per
 *    16-byte granule of a 4 MiB window, windows xor-folded onto each other
 *    so that regions 4 MiB apart (arenas, mmap'd blocks) get different
 *    offsets. Within a window two blocks never share a bucket (glibc's
 *    blocks are >= 32 bytes apart); a bucket is shared by one granule per
 *    window in use, so false positives stay near live samples / 256 Ki per
 *    free, as with a hash. (It was a 1 MiB hashed table: 4x the pages to
 *    fault in as samples land, for a false-positive rate that only matters
 *    behind a summary hit.)
 *  - the summary, 2^14 buckets (16 KiB), a second counting filter on
 *    address bits [4, 18) alone (no fold: a shift and a mask, four
 *    instructions fewer per free than the filter's key; a block counts in
 *    both, and free needs both non-zero, so either alone is a valid
 *    "surely not" — bench/heap/README.md, "Overhead, third pass"). The
 *    price: blocks 256 KiB apart share a summary bucket, so glibc's mmap'd
 *    blocks (page + 16) all fall on 64 buckets and their frees, once one
 *    of them is sampled, go on to the filter — one more byte load beside a
 *    munmap (test_filter_false_positives bounds the overall rate). 16 KiB stays in the first-level caches and
 *    in four TLB entries; the filter does not, and on a large heap freed in
 *    no particular order (python's) a read of it is a cache and TLB miss
 *    per free whatever the mapping. free reads the summary; only on a
 *    summary hit (about live samples / 16 Ki of frees) the filter.
 *
 * Both tables have compile-time sizes and live inside the singleton (static
 * storage: pages materialise only when touched), so the test costs no loads
 * of a base pointer or a shift count: shifts, an xor, a mask, a byte load.
 * Lock-free; any thread. */
static inline uintptr_t mv__heap_filter_key(const void *p)
{
    uintptr_t g = (uintptr_t)p >> MV_HEAP_FILTER_SHIFT;
    return g ^ (g >> MV_HEAP_FILTER_BITS);
}

static inline unsigned mv__heap_filter_slot(const void *p)
{
    return (unsigned)(mv__heap_filter_key(p) & ((1u << MV_HEAP_FILTER_BITS) - 1));
}

static inline unsigned mv__heap_summary_slot(const void *p)
{
    return (unsigned)(((uintptr_t)p >> MV_HEAP_FILTER_SHIFT) & ((1u << MV_HEAP_SUMMARY_BITS) - 1));
}

/* 1 when p may be in the live table or in interpose.c's bootstrap pool
 * (pool blocks raise their buckets for good), i.e. when free must look
 * closer; 0 means free can go straight to the real free.
 *
 * Why relaxed loads cannot miss a live entry: p's buckets (summary and
 * filter) are raised by the thread whose malloc returns p, before that
 * malloc returns (the sampled path inserts synchronously; a pool block is
 * marked before pool_alloc returns it). Any free of p comes after that
 * return in happens-before order: the same thread later, or another thread
 * that got p through the program's own synchronisation (handing a pointer
 * to another thread without it is already a data race in the program).
 * Write-read coherence then makes each load see the increment or a later
 * value of its byte, and every later value still counts p until p itself
 * is removed — which only this free (or a realloc of p, equally ordered)
 * does; a saturated bucket never goes down. Racing inserts and removals of
 * *other* addresses in the same buckets only move the counts above p's
 * share. The argument holds for each byte separately, so reading two of
 * them, in either order, is as safe as reading one. */
static inline int mv__heap_maybe_sampled(const void *p)
{
    if (__builtin_expect(atomic_load_explicit(&mv__heap.summary[mv__heap_summary_slot(p)],
                                              memory_order_relaxed) == 0, 1))
        return 0;
    return atomic_load_explicit(&mv__heap.filter[mv__heap_filter_slot(p)],
                                memory_order_relaxed) != 0;
}

/* Adds delta (+1/-1) to p's filter and summary buckets; each saturates at
 * 255 (then stays "maybe" for good). */
void mv__heap_filter_add(const void *p, int delta);

void mv__heap_lock(atomic_int *l);
void mv__heap_unlock(atomic_int *l);

/* ---- snapshots (snapshot.c) ---- */

/* Installs the signal handlers and atfork hooks, starts the snapshot thread
 * when sampling is on. Called once from mv__heap_init. */
void mv__heap_snapshot_setup(void);
/* Ensures the snapshot thread runs (lazy; after fork or a toggle). */
void mv__heap_thread_ensure(void);
/* Writes one snapshot + status now (caller holds the guard). 0 or -errno. */
int mv__heap_snapshot_write(void);
/* Rewrites the status file only. */
int mv__heap_status_write(void);
/* Takes mv__heap.snap_lock within about `limit_ms` milliseconds (the snapshot
 * thread may be writing a snapshot), or gives up. Async-signal-safe
 * (nanosleep). 1 when taken. */
int mv__heap_snap_lock_bounded(int limit_ms);
/* Fork child: reset snapshot state (async-signal-safe operations only). */
void mv__heap_snapshot_child(void);
/* ---- the profile in memory (snapshot.c) ----
 * Exported for libmemvigil's /debug/pprof/heap, which finds them with
 * dlsym. Any thread; they take the snapshot lock (serialised with the file
 * snapshots); never from a signal handler. Errors: -ENODEV (the profiler
 * is loaded but inert: setuid, or not initialised), -ENODATA (sampling has
 * never been on: MEMVIGIL_HEAP=1 or SIGRTMIN+9), -EINVAL, -ENOMEM. */

/* The current profile, uncompressed profile.proto (pprof readers take it
 * raw or gzip'd), in a malloc'd *data of *len bytes; the caller free()s
 * it. */
__attribute__((visibility("default"))) int mv_heap_pprof_take(void **data, size_t *len);
/* ?seconds=N: mark the values of every stack now (*out, free() it), then,
 * N seconds later, take the profile minus the mark: each stack's four
 * values less its values at the mark, stacks left at zero dropped,
 * duration_nanos the time since the mark (Go's delta profile). */
typedef struct mv_heap_mark mv_heap_mark;
__attribute__((visibility("default"))) int mv_heap_pprof_mark(mv_heap_mark **out);
__attribute__((visibility("default"))) int mv_heap_pprof_take_since(const mv_heap_mark *mark,
                                                                     void **data, size_t *len);
/* The last snapshot of a process about to leave without running exit
 * handlers (_exit, _Exit, a successful exec; leave.c), written as the exit
 * path would (sampling ever on and a sample recorded — a fork child: since
 * the fork) from the leaving arena, so the real allocator is never entered.
 * Skipped (returns 0) when it might deadlock or corrupt: this thread is
 * inside the profiler (guard raised: it may hold a profiler lock), the
 * snapshot lock stays busy for 100 ms, or this is a vfork child sharing its
 * parent's memory (getpid() is not mv__heap.pid). 1 when written, else 0 or
 * -errno. Any thread, including a signal handler. */
int mv__heap_snapshot_leaving(void);

/* ---- the output directory (snapdir.c) ---- */

/* Snapshot time only (the snapshot thread or the exit path, guard raised),
 * with mv__heap.snap_lock held: they read mv__heap.cfg, and seq_resume and
 * prune_dir read or write mv__heap.seq. They allocate through libc. */

/* mkdir -p with mode 0700. 0 or -errno. */
int mv__heap_mkdir_p(const char *dir);
/* First snapshot of this pid: raises mv__heap.seq past the heap-<pid>-*
 * files already in the directory (an exec keeps the pid). */
void mv__heap_seq_resume(void);
/* Writes data[0..n) (gzipped when gz) to tmp, created afresh (no symlink or
 * FIFO followed), then renames it to path; tmp is removed on failure.
 * 0 or -errno. */
int mv__heap_write_atomic(const char *path, const char *tmp, const void *data, size_t n, int gz);
/* Deletes the directory's oldest snapshots beyond cfg.keep (any pid, never
 * this pid's newest), then the status files of pids left with none. */
void mv__heap_prune_dir(void);

/* ---- pprof encoding (pprof.c) ---- */

/* A growable byte buffer over the real allocator (snapshot time only). */
typedef struct mv_heap_buf {
    uint8_t *data;
    size_t len, cap;
    int oom;
} mv_heap_buf;

void mv__heap_buf_release(mv_heap_buf *b);

typedef struct mv_heap_pmap {    /* one executable mapping */
    uint64_t start, limit, offset;
    char file[256];
    char build_id[80];            /* hex, may be empty */
} mv_heap_pmap;

typedef struct mv_heap_psample { /* one stack with its four values */
    const uintptr_t *frames;      /* return addresses, leaf first */
    uint32_t depth;
    int64_t values[4];            /* alloc_objects, alloc_space, inuse_objects, inuse_space */
} mv_heap_psample;

typedef struct mv_heap_profile {
    const mv_heap_psample *samples;
    size_t nsamples;
    const mv_heap_pmap *maps;
    size_t nmaps;
    int64_t period;               /* mean sample interval, bytes */
    int64_t time_nanos, duration_nanos;
    const char *comment;          /* may be NULL */
} mv_heap_profile;

/* Encodes prof as an (uncompressed) profile.proto into out. Location
 * addresses are the return address - 1 (the call instruction), each tied to
 * the mapping containing it (mapping id 0 when none). 0 or -ENOMEM. */
int mv__heap_pprof_encode(const mv_heap_profile *prof, mv_heap_buf *out);

/* ---- mappings (mappings.c) ---- */

struct dl_phdr_info;

/* The executable mappings of /proc/self/maps that are file-backed, with
 * build ids, then the unloaded objects' segments still unclaimed
 * (mv__heap_add_unloaded). *out is malloc'd (caller frees). 0 or -errno.
 * Snapshot time only: allocates, does I/O; guard raised, no table lock. */
int mv__heap_read_maps(mv_heap_pmap **out, size_t *nout);
/* The hex GNU build id of a loaded object (its PT_NOTE segments, read from
 * memory) into out[0..cap), "" when it has none. No allocation, no lock;
 * any thread (inside a dl_iterate_phdr callback). */
void mv__heap_build_id_of(const struct dl_phdr_info *info, char *out, size_t cap);

/* ---- unloaded objects (unloaded.c) ---- */

/* Around the real dlclose, so later snapshots can still name the frames of
 * what it unloads (only segments no current executable mapping overlaps):
 * mv__heap_unload_begin, just before it, notes every loaded object's
 * executable segments (path — resolved when relative — offset, build id)
 * in a private anonymous mapping; mv__heap_unload_end, just after it,
 * records those of the objects now gone (the handle's and its unloaded
 * dependencies; none when nothing unloaded) and unmaps the notes. begin
 * returns NULL on failure; end accepts NULL. No malloc; bounded work. Any
 * thread; call each with the guard raised, holding none of the profiler's
 * locks (and none across the real dlclose). */
typedef struct mv_heap_unload mv_heap_unload;
mv_heap_unload *mv__heap_unload_begin(void);
void mv__heap_unload_end(mv_heap_unload *u);

/* An executable mapping of /proc/self/maps, file-backed or not. */
typedef struct mv_heap_xrange {
    uint64_t lo, hi;
} mv_heap_xrange;

/* Appends to m[0..*n) the recorded unloaded segments that overlap neither a
 * current executable mapping (x[0..nx)) nor a newer unloaded one; grows m
 * (*cap) as needed and returns the (possibly moved) array. Allocates before
 * taking the ring's lock: snapshot time only (mappings.c). */
mv_heap_pmap *mv__heap_add_unloaded(mv_heap_pmap *m, size_t *n, size_t *cap,
                                    const mv_heap_xrange *x, size_t nx);
/* Fork child: releases the ring's lock (a thread the fork left behind may
 * have held it). Async-signal-safe (one atomic store). */
void mv__heap_unloaded_child(void);

#endif /* MV_HEAP_H */
