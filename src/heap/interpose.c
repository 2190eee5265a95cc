/* interpose.c — the malloc family, interposed by LD_PRELOAD.
 *
 * Each wrapper calls the real allocator (found with dlsym(RTLD_NEXT)) and
 * subtracts the size from the thread's byte countdown: that subtraction and
 * one branch are the whole cost of an unsampled allocation. malloc subtracts
 * *before* the call, so its unsampled path ends in a tail jump to the real
 * malloc (no stack frame, no saved registers); only the sampled path calls
 * the real malloc and then the slow path. A free's whole unsampled path is
 * one byte load from the 16 KiB summary of the counting free filter
 * (heap.h; 11 instructions in all), a branch and a tail jump through
 * mv__heap_real.free — which, until resolution, points at free_unresolved,
 * so free needs no "resolved" check of its own. Pool blocks mark their
 * filter buckets, so the pool range test (one unsigned compare) and the
 * live-table lookup both sit behind a filter hit.
 * dlclose is wrapped too, only to let unloaded.c note the mappings of the
 * objects it unloads. Everything else lives in track.c.
 *
 * dlsym itself allocates (calloc for its error state), so while the real
 * symbols are being resolved the wrappers serve requests from a small static
 * pool; blocks from it are recognised by address (after a filter hit in
 * free), never freed, and realloc copies them out.
 *
 * A thread writing a process's last snapshot on its way out through _exit
 * or exec (leave.c) must not enter the real allocator: it may be a signal
 * handler that interrupted malloc, whose arena lock is not recursive. While
 * such a thread is "leaving" (mv__heap_leave_begin), its allocations come
 * from a private mmap'd arena that works like the bootstrap pool. The
 * unsampled paths do not test for it: leave_begin drives the thread's
 * countdown far below zero, so every allocation takes the sampled path,
 * which looks first. That is why every allocating wrapper charges the
 * countdown *before* calling the real allocator.
 */
#include "heap.h"
#include "stackwalk.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static void free_unresolved(void *p);
static void *malloc_unresolved(size_t n);

/* The real allocator: written once by resolve() (benign races: every
 * resolver stores the same values), read by every wrapper. `malloc` is
 * stored last with release order and doubles as the "resolved" flag
 * (acquire loads, see ready()). `malloc` and `free` start as resolver
 * stubs, so their fast paths jump through the pointer with no test. */
mv_heap_real mv__heap_real = {.malloc = malloc_unresolved, .free = free_unresolved};
static __thread int t_resolving __attribute__((tls_model("initial-exec")));

/* ---- bootstrap pool (dlsym's own allocations) ---- */

#define POOL_BYTES (64 * 1024)
static _Alignas(64) unsigned char pool[POOL_BYTES];
static atomic_size_t pool_used;

/* One unsigned compare: addresses below the pool wrap to huge values. */
static inline int in_pool(const void *p)
{
    return (uintptr_t)p - (uintptr_t)pool < POOL_BYTES;
}

/* 16-byte header holding the size; align must be a power of two <= 4096. */
static void *pool_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    for (;;) {
        size_t used = atomic_load(&pool_used);
        size_t start = (used + 16 + align - 1) & ~(align - 1);
        if (n > POOL_BYTES || start + n > POOL_BYTES)
            return NULL;
        if (atomic_compare_exchange_weak(&pool_used, &used, start + n)) {
            memcpy(pool + start - sizeof(size_t), &n, sizeof n);
            mv__heap_filter_add(pool + start, +1); /* free must look closer */
            return pool + start;
        }
    }
}

static size_t pool_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - sizeof(size_t), sizeof n);
    return n;
}

/* ---- the leaving arena (see the top of the file) ---- */

/* Mapped on first use by a leaving thread, then kept (an exec that fails
 * returns to a program that may still hold a block from it). Written by that
 * thread before any block of it exists; read by in_leave, which only ever
 * sees its own arena's blocks after the arena is published. */
static _Atomic(unsigned char *) leave_base;
static atomic_size_t leave_bytes, leave_used;
static __thread int t_leaving __attribute__((tls_model("initial-exec")));
static __thread int64_t t_leave_saved __attribute__((tls_model("initial-exec")));

static inline int in_leave(const void *p)
{
    unsigned char *b = atomic_load_explicit(&leave_base, memory_order_relaxed);
    return b && (uintptr_t)p - (uintptr_t)b <
                    atomic_load_explicit(&leave_bytes, memory_order_relaxed);
}

/* Same 16-byte size header as pool_alloc; never freed. NULL when full. */
static void *leave_alloc(size_t n, size_t align)
{
    unsigned char *b = atomic_load_explicit(&leave_base, memory_order_relaxed);
    size_t cap = atomic_load_explicit(&leave_bytes, memory_order_relaxed);
    if (align < 16)
        align = 16;
    if (!b || align > 4096 || n > cap)
        return NULL;
    for (;;) {
        size_t used = atomic_load(&leave_used);
        size_t start = (used + 16 + align - 1) & ~(align - 1);
        if (start + n > cap)
            return NULL;
        if (atomic_compare_exchange_weak(&leave_used, &used, start + n)) {
            memcpy(b + start - sizeof(size_t), &n, sizeof n);
            mv__heap_filter_add(b + start, +1); /* free must look closer */
            return b + start;
        }
    }
}

int mv__heap_leave_begin(size_t bytes)
{
    if (!atomic_load(&leave_base)) {
        void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return -errno;
        atomic_store(&leave_bytes, bytes);
        atomic_store(&leave_base, (unsigned char *)m);
    }
    t_leaving = 1;
    t_leave_saved = mv__heap_countdown;
    mv__heap_countdown = INT64_MIN / 2; /* every allocation: the slow path */
    return 0;
}

int mv__heap_leaving(void)
{
    return t_leaving;
}

void mv__heap_leave_end(void)
{
    t_leaving = 0;
    mv__heap_countdown = t_leave_saved;
}

/* A block of the pool or of the leaving arena: never freed; its size is in
 * the header before it. */
static inline int in_static(const void *p)
{
    return in_pool(p) || in_leave(p);
}

static void resolve(void)
{
    t_resolving++;
    mv_heap_real r;
    memset(&r, 0, sizeof r);
    r.free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    r.calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    r.realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    r.reallocarray = (void *(*)(void *, size_t, size_t))dlsym(RTLD_NEXT, "reallocarray");
    r.posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    r.aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    r.memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    r.valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
    r.pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
    r.malloc_usable_size = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    r.malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    if (!r.malloc || !r.free || !r.calloc || !r.realloc || !r.memalign) {
        static const char msg[] = "memvigil-heap: cannot find the real malloc; aborting\n";
        (void)!write(2, msg, sizeof msg - 1);
        abort();
    }
    /* Everything but malloc (the first field), then malloc, released. */
    memcpy((char *)&mv__heap_real + offsetof(mv_heap_real, free),
           (const char *)&r + offsetof(mv_heap_real, free),
           sizeof r - offsetof(mv_heap_real, free));
    __atomic_store_n(&mv__heap_real.malloc, r.malloc, __ATOMIC_RELEASE);
    t_resolving--;
}

/* 1: use the real allocator; 0: serve from the pool (resolution running). */
static inline int ready(void)
{
    if (LIKELY(__atomic_load_n(&mv__heap_real.malloc, __ATOMIC_ACQUIRE) != malloc_unresolved))
        return 1;
    if (t_resolving)
        return 0;
    resolve();
    return 1;
}

/* mv__heap_real.free before resolution. free(NULL) is a no-op. A pool block
 * never gets here (its filter bucket is marked: free_marked drops it). Any
 * other block came from
 * the real allocator, so the real symbols can be resolved — unless this
 * thread is inside resolve() (dlsym freeing a block it got before the
 * switch: impossible, as dlsym's blocks then come from the pool), in which
 * case the block is leaked rather than risk recursion. */
static __attribute__((noinline, cold)) void free_unresolved(void *p)
{
    if (!p || !ready())
        return;
    mv__heap_real.free(p);
}

/* Charges n bytes to the thread's countdown: 1 while it stays above zero
 * (unsampled), 0 when it crossed (the caller takes its sampled path). On
 * x86-64 the subtraction goes straight to the TLS slot and its flags are
 * the answer: two instructions, where the compiler emits load, subtract,
 * store and test (bench/heap/README.md, "Overhead, third pass"). */
static inline __attribute__((always_inline)) int charge(size_t n)
{
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
    int above;
    uintptr_t off;
    __asm__("movq mv__heap_countdown@gottpoff(%%rip), %1\n\t"
            "subq %2, %%fs:(%1)"
            : "=@ccg"(above), "=&r"(off)
            : "r"(n)
            : "memory");
    return above;
#else
    return (mv__heap_countdown -= (int64_t)n) > 0;
#endif
}

/* The fast path: count the bytes; sample when the countdown crosses zero.
 * `caller` is the interposer's return address (ACCOUNT passes it). */
static inline void *account(void *p, size_t n, const void *caller)
{
    if (LIKELY((mv__heap_countdown -= (int64_t)n) > 0))
        return p;
    return mv__heap_on_countdown(p, n, caller);
}
#define ACCOUNT(p, n) account((p), (n), __builtin_return_address(0))

/* free after a filter hit: a pool block (never freed), or maybe a sampled
 * block, forgotten before the real free (afterwards another thread may get
 * the same address). */
#ifdef MV_HEAP_FILTER_STATS
#include <stdio.h>

/* Measurement build only (-DMV_HEAP_FILTER_STATS, bench/heap/README.md): of
 * all frees, how many hit the summary, how many the filter too (sent to the
 * live table), and how many of those found their block there; the rest are
 * false positives. Printed at exit. */
static atomic_ullong stat_frees, stat_summary, stat_hits, stat_found;
#define STAT(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)

static void stat_print(void) __attribute__((destructor(101)));
static void stat_print(void)
{
    char b[160];
    int n = snprintf(b, sizeof b, "memvigil-heap filter: frees=%llu summary=%llu hits=%llu found=%llu\n",
                     (unsigned long long)stat_frees, (unsigned long long)stat_summary,
                     (unsigned long long)stat_hits,
                     (unsigned long long)stat_found);
    if (n > 0)
        (void)!write(2, b, (size_t)n);
}
#else
#define STAT(x) ((void)0)
#endif

static __attribute__((noinline)) void free_marked(void *p)
{
    if (in_static(p))
        return;
    STAT(stat_hits);
    if (mv__heap_live_remove(p, NULL, NULL))
        STAT(stat_found);
    __atomic_load_n(&mv__heap_real.free, __ATOMIC_RELAXED)(p);
}

/* free after a summary hit: the filter decides (mv__heap_maybe_sampled's
 * second half, out of line so that free's own path is the summary byte
 * alone). */
static __attribute__((noinline)) void free_summary_hit(void *p)
{
    if (atomic_load_explicit(&mv__heap.filter[mv__heap_filter_slot(p)], memory_order_relaxed)) {
        free_marked(p);
        return;
    }
    __atomic_load_n(&mv__heap_real.free, __ATOMIC_RELAXED)(p);
}

/* mv__heap_real.malloc before resolution, called already charged: the
 * first allocation(s) resolve the real allocator or, while dlsym runs, come
 * from the pool. */
static __attribute__((noinline, cold)) void *malloc_unresolved(size_t n)
{
    if (!ready())
        return pool_alloc(n, 16);
    return mv__heap_real.malloc(n);
}

/* The countdown crossed zero (already charged with n): a leaving thread's
 * block from its arena, or the real allocator's block and the slow path. */
static __attribute__((noinline)) void *malloc_sampled(size_t n, const void *caller)
{
    if (UNLIKELY(t_leaving))
        return leave_alloc(n, 16);
    if (UNLIKELY(!ready()))
        return pool_alloc(n, 16); /* dlsym's own: not sampled */
    return mv__heap_on_countdown(mv__heap_real.malloc(n), n, caller);
}

static __attribute__((noinline)) void *calloc_sampled(size_t k, size_t n, const void *caller)
{
    size_t t;
    if (UNLIKELY(t_leaving))
        return __builtin_mul_overflow(k, n, &t) ? NULL : leave_alloc(t, 16); /* fresh: zero */
    void *p = mv__heap_real.calloc(k, n);
    return mv__heap_on_countdown(p, k * n, caller);
}

/* Copies old (usable size `have`) into a fresh block of the leaving arena;
 * old is not freed (a leaving thread never enters the real allocator). */
static void *leave_move(void *old, size_t have, size_t n)
{
    void *p = leave_alloc(n, 16);
    if (p && old)
        memcpy(p, old, have < n ? have : n);
    return p;
}

/* The usable size of a real block, for leave_move (0 when unknown: then
 * nothing is copied, as a leaving snapshot never reallocs a real block). */
static size_t real_usable(void *p)
{
    return p && mv__heap_real.malloc_usable_size ? mv__heap_real.malloc_usable_size(p) : 0;
}

static __attribute__((noinline)) void *realloc_sampled(void *old, size_t n, const void *caller)
{
    if (UNLIKELY(t_leaving))
        return leave_move(old, real_usable(old), n);
    return mv__heap_on_countdown(mv__heap_real.realloc(old, n), n, caller);
}

/* realloc of a block whose filter bucket is marked: a pool or arena block
 * (copied out), or maybe a sampled one (forgotten first, re-inserted if the
 * real realloc fails and leaves it in place). */
static __attribute__((noinline)) void *realloc_marked(void *old, size_t n, const void *caller)
{
    if (in_static(old)) {
        void *p = malloc(n);
        if (p)
            memcpy(p, old, pool_size(old) < n ? pool_size(old) : n);
        return p;
    }
    uint64_t osz = 0;
    uint32_t ost = 0;
    int had = mv__heap_live_remove(old, &osz, &ost);
    if (UNLIKELY(t_leaving))
        return leave_move(old, real_usable(old), n);
    void *p = mv__heap_real.realloc(old, n);
    if (!p) {
        if (had && n)
            mv__heap_live_reinsert(old, osz, ost); /* the old block survives */
        return p;
    }
    return account(p, n, caller);
}

/* Which `malloc` does the program call? dlsym(RTLD_DEFAULT) answers, with
 * one wrinkle: a non-PIE executable that takes malloc's address carries a
 * "canonical PLT" entry, an undefined symbol with a value, which dlsym
 * returns. dladdr1 skips undefined symbols, so a real definition in the
 * executable (its own allocator) is told apart from such a stub by the name
 * and address dladdr reports. */
static int interposed_now(void)
{
    Dl_info a, self;
    const ElfW(Sym) *sym = NULL;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (!m || !dladdr((void *)(uintptr_t)mv__heap_init, &self))
        return 0;
    if (!dladdr1(m, &a, (void **)&sym, RTLD_DL_SYMENT))
        return 1; /* no object claims it: a stub, not an allocator */
    if (a.dli_fbase == self.dli_fbase)
        return 1;
    if (sym && sym->st_shndx == SHN_UNDEF)
        return 1;
    if (a.dli_saddr == m && a.dli_sname && strcmp(a.dli_sname, "malloc") == 0)
        return 0; /* the program defines its own malloc */
    return 1;
}

/* Both answers are fixed once the real allocator is resolved (a later
 * dlopen adds definitions behind the ones symbol lookup already finds), so
 * each is worked out once (dlsym and dladdr: ~90k instructions, once per
 * status file before) and kept: 0 unknown, 1 no, 2 yes. Racing first calls
 * store the same answer. */
static atomic_int interposed_known, next_glibc_known;

int mv__heap_interposed(void)
{
    int k = atomic_load_explicit(&interposed_known, memory_order_relaxed);
    if (!k && ready()) {
        k = interposed_now() ? 2 : 1;
        atomic_store_explicit(&interposed_known, k, memory_order_relaxed);
    }
    return k ? k == 2 : interposed_now();
}

/* dl_iterate_phdr callback: the name of the object whose loaded segments
 * hold *(uintptr_t *)arg, stored back through arg (dladdr would also
 * search the object's symbol table: ~100k instructions for libc). */
static int object_of_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
    (void)sz;
    const void **io = arg;
    uintptr_t a = (uintptr_t)io[0];
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a - lo < ph->p_memsz) {
            io[1] = info->dlpi_name;
            return 1;
        }
    }
    return 0;
}

int mv__heap_next_is_glibc(void)
{
    int k = atomic_load_explicit(&next_glibc_known, memory_order_relaxed);
    if (k)
        return k == 2;
    const void *io[2] = {NULL, NULL};
    if (!ready())
        return 0;
    io[0] = (const void *)(uintptr_t)mv__heap_real.malloc;
    if (!dl_iterate_phdr(object_of_cb, io) || !io[1])
        return 0;
    k = strstr(io[1], "/libc.so") != NULL ? 2 : 1;
    atomic_store_explicit(&next_glibc_known, k, memory_order_relaxed);
    return k == 2;
}

/* ---- the interposers ---- */

/* Unsampled: TLS subtract, branch, tail jump through the real malloc
 * (malloc_unresolved until resolution, which makes its own acquire load; a
 * relaxed load suffices here, as only the pointer itself is used). The countdown is charged before the allocation; a failed sampled
 * allocation reaches the slow path with p = NULL, which records nothing. */
EXPORT void *malloc(size_t n)
{
    if (LIKELY(charge(n)))
        return __atomic_load_n(&mv__heap_real.malloc, __ATOMIC_RELAXED)(n);
    return malloc_sampled(n, __builtin_return_address(0));
}

/* NULL is neither a pool block nor sampled (a bucket hit costs a fruitless
 * live-table probe) and goes to the real free, a no-op. */
EXPORT void free(void *p)
{
    STAT(stat_frees);
#ifdef MV_HEAP_FILTER_STATS
    if (mv__heap.summary[mv__heap_summary_slot(p)])
        STAT(stat_summary);
#endif
    if (UNLIKELY(atomic_load_explicit(&mv__heap.summary[mv__heap_summary_slot(p)],
                                      memory_order_relaxed) != 0)) {
        free_summary_hit(p);
        return;
    }
    __atomic_load_n(&mv__heap_real.free, __ATOMIC_RELAXED)(p);
}

EXPORT void *calloc(size_t k, size_t n)
{
    if (UNLIKELY(!ready())) {
        size_t t;
        if (__builtin_mul_overflow(k, n, &t))
            return NULL;
        return pool_alloc(t, 16); /* static storage: already zero */
    }
    if (LIKELY(charge(k * n)))
        return mv__heap_real.calloc(k, n);
    return calloc_sampled(k, n, __builtin_return_address(0));
}

EXPORT void *realloc(void *old, size_t n)
{
    if (UNLIKELY(!ready()))
        return pool_alloc(n, 16); /* (only during dlsym; never reached with old) */
    if (old && UNLIKELY(mv__heap_maybe_sampled(old)))
        return realloc_marked(old, n, __builtin_return_address(0));
    if (LIKELY(charge(n)))
        return mv__heap_real.realloc(old, n);
    return realloc_sampled(old, n, __builtin_return_address(0));
}

EXPORT void *reallocarray(void *old, size_t k, size_t n)
{
    size_t t;
    if (__builtin_mul_overflow(k, n, &t)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, t);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (UNLIKELY(!ready() || t_leaving)) {
        void *p = t_leaving ? leave_alloc(n, align) : pool_alloc(n, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    int rc = mv__heap_real.posix_memalign(out, align, n);
    if (rc == 0 && *out)
        ACCOUNT(*out, n);
    return rc;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (UNLIKELY(!ready() || t_leaving))
        return t_leaving ? leave_alloc(n, align) : pool_alloc(n, align);
    void *p = mv__heap_real.aligned_alloc ? mv__heap_real.aligned_alloc(align, n)
                                          : mv__heap_real.memalign(align, n);
    return p ? ACCOUNT(p, n) : p;
}

EXPORT void *memalign(size_t align, size_t n)
{
    if (UNLIKELY(!ready() || t_leaving))
        return t_leaving ? leave_alloc(n, align) : pool_alloc(n, align);
    void *p = mv__heap_real.memalign(align, n);
    return p ? ACCOUNT(p, n) : p;
}

EXPORT void *valloc(size_t n)
{
    if (UNLIKELY(!ready() || t_leaving))
        return t_leaving ? leave_alloc(n, 4096) : pool_alloc(n, 4096);
    void *p = mv__heap_real.valloc ? mv__heap_real.valloc(n)
                                   : mv__heap_real.memalign((size_t)sysconf(_SC_PAGESIZE), n);
    return p ? ACCOUNT(p, n) : p;
}

EXPORT void *pvalloc(size_t n)
{
    if (UNLIKELY(!ready() || t_leaving))
        return t_leaving ? leave_alloc(n, 4096) : pool_alloc(n, 4096);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mv__heap_real.pvalloc ? mv__heap_real.pvalloc(n)
                                    : mv__heap_real.memalign(pg, (n + pg - 1) & ~(pg - 1));
    return p ? ACCOUNT(p, n) : p;
}

/* dlclose: unloaded.c notes the loaded objects before the real dlclose and
 * records the mappings of those gone after it, so frames inside a library
 * unloaded before the next snapshot can still be symbolized. The guard is
 * down during the real dlclose (the destructors it runs are the program's
 * and are sampled as usual); errno is the real dlclose's. Not on any
 * allocation path; resolved on first use. */
EXPORT int dlclose(void *handle)
{
    static int (*real_dlclose)(void *);
    int (*real)(void *) = __atomic_load_n(&real_dlclose, __ATOMIC_ACQUIRE);
    if (!real) {
        mv__heap_guard_enter();
        real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
        mv__heap_guard_leave();
        if (!real)
            return -1;
        __atomic_store_n(&real_dlclose, real, __ATOMIC_RELEASE);
    }
    mv_heap_unload *u = NULL;
    if (atomic_load_explicit(&mv__heap.init_state, memory_order_acquire) == 2 &&
        mv__heap.cfg.active) {
        int e = errno;
        mv__heap_guard_enter();
        u = mv__heap_unload_begin();
        mv__heap_guard_leave();
        errno = e;
    }
    int rc = real(handle);
    /* Code may now be unmapped and its addresses reused by another object:
     * forget every cached unwind rule (a stack walking through the closed
     * object would be the program's own use after unload). */
    if (rc == 0)
        mv__heap_unwind_cache_clear();
    if (u) {
        int e = errno;
        mv__heap_guard_enter();
        mv__heap_unload_end(u);
        mv__heap_guard_leave();
        errno = e;
    }
    return rc;
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (in_static(p))
        return pool_size(p);
    if (!ready() || !mv__heap_real.malloc_usable_size)
        return 0;
    return mv__heap_real.malloc_usable_size(p);
}
