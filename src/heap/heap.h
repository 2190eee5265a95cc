/* heap.h — internal contracts between the files of libmemvigil_heap.so, the
 * LD_PRELOAD sampling heap profiler.
 *
 *   interpose.c  the malloc family: resolve the real allocator, static pool
 *                for dlsym's own allocations, the unsampled fast path.
 *   track.c      sampling slow path: per-thread countdown, PRNG, unwinding,
 *                stack table, live table, free filter, fork handling.
 *   snapshot.c   snapshot thread, signals, files (pprof + status), mappings.
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
    uint64_t sample_bytes;   /* MEMVIGIL_HEAP_SAMPLE, mean interval, >= 1 */
    uint64_t interval_s;     /* MEMVIGIL_HEAP_INTERVAL, 0 = request/exit only */
    uint64_t keep;           /* MEMVIGIL_HEAP_KEEP, >= 1 */
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
 * of n bytes: decides, records, redraws. Returns p. Any thread. */
void *mv__heap_on_countdown(void *p, size_t n);

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
/* free filter buckets = 2^MV_HEAP_FILTER_BITS (see mv__heap_maybe_sampled) */
#define MV_HEAP_FILTER_BITS 20

typedef struct mv_heap_shard {
    atomic_int lock;           /* spinlock; rank 2 (after the stack lock) */
    uint32_t count;
    char pad[56];
} mv_heap_shard;

typedef struct mv_heap_state {
    mv_heap_config cfg;
    atomic_int init_state;     /* 0 none, 1 in progress, 2 done */
    atomic_int enabled;        /* sampling on; written by signal/agent */
    atomic_int ever_enabled;
    pid_t pid;                 /* current pid (updated in a fork child) */
    int is_fork_child;
    uintptr_t self_lo, self_hi;/* our own text, skipped in stacks */

    /* tables (one mmap, except the free filter below) */
    void *arena;
    size_t arena_bytes;
    mv_heap_shard shards[MV_HEAP_SHARDS];
    mv_heap_live *live;        /* MV_HEAP_SHARDS * shard_cap entries */
    uint32_t shard_cap;        /* power of two */
    atomic_int stack_lock;     /* rank 1 */
    mv_heap_stack *stacks;
    uint32_t stack_cap, stack_count;
    uint32_t *stack_index;     /* open addressing: stack id + 1, 0 = empty */
    uint32_t index_cap;        /* power of two */
    uintptr_t *frames;
    uint32_t frame_cap, frame_count;

    atomic_ullong samples, samples_since_fork, dropped_stacks, dropped_live;
    atomic_ullong allocated_bytes;

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

    /* The free filter (see mv__heap_maybe_sampled), read by every free:
     * kept apart from the fields written under the locks. */
    _Alignas(64) atomic_uchar filter[1u << MV_HEAP_FILTER_BITS];
} mv_heap_state;

extern mv_heap_state mv__heap;

/* The free filter: a counting filter over address bits, one byte per bucket,
 * incremented for each live sampled block hashing there. Zero means "surely
 * not sampled". Its size is a compile-time constant and it lives inside the
 * singleton (static storage: pages materialise only when a sample touches
 * them), so the test costs no loads of a base pointer or a shift count: a
 * shift, a multiply, a constant shift and one byte load. 2^20 buckets = 1 MiB
 * keeps the false-positive rate near live samples / 1 Mi (default budget:
 * at most 64 Ki live samples). Lock-free; any thread. */
static inline unsigned mv__heap_filter_slot(const void *p)
{
    return (unsigned)((((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - MV_HEAP_FILTER_BITS));
}

/* 1 when p may be in the live table or in interpose.c's bootstrap pool
 * (pool blocks raise their bucket for good), i.e. when free must look
 * closer; 0 means free can go straight to the real free.
 *
 * Why a relaxed load cannot miss a live entry: p's bucket is raised by the
 * thread whose malloc returns p, before that malloc returns (the sampled
 * path inserts synchronously; a pool block is marked before pool_alloc
 * returns it). Any free of p comes after that return in happens-before
 * order: the same thread later, or another thread that got p through the
 * program's own synchronisation (handing a pointer to another thread
 * without it is already a data race in the program). Write-read coherence
 * then makes this load see the increment or a later value of the byte, and
 * every later value still counts p until p itself is removed — which only
 * this free (or a realloc of p, equally ordered) does; a saturated bucket
 * never goes down. Racing inserts and removals of *other* addresses in the
 * same bucket only move the count above p's share. */
static inline int mv__heap_maybe_sampled(const void *p)
{
    return atomic_load_explicit(&mv__heap.filter[mv__heap_filter_slot(p)],
                                memory_order_relaxed) != 0;
}

/* Adds delta (+1/-1) to p's bucket; saturates at 255 (then stays "maybe"). */
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
/* Fork child: reset snapshot state (async-signal-safe operations only). */
void mv__heap_snapshot_child(void);

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

#endif /* MV_HEAP_H */
