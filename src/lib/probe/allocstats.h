/*
 * allocstats.h — the host process's allocator statistics: how much of the
 * heap the program holds ("in use") and how much the allocator keeps free
 * inside itself, read from glibc's mallinfo2() or, when the process runs
 * jemalloc, from its mallctl() "stats.*" (found at run time with dlsym, no
 * link-time dependency). Read by the embedded library's sampler thread
 * (a monitor watching its own process) and by the heap preload, which
 * writes the figures into its status file; the agent parses that file
 * (mv__alloc_stats_parse) for programs it runs with --heap.
 *
 * Cost: mallinfo2() takes every arena's lock in turn and walks its free
 * lists (fast bins and bins), malloc_info() (the arena count) the same
 * again, so the cost grows with the number of free chunks: microseconds
 * for a compact heap, ~90 ms for 64 fragmented arenas
 * (bench/bench_allocstats.c, figures in bench/README.md), an arena lock
 * held meanwhile. They must never be called from a signal handler (locks)
 * and only at a bounded rate: the monitor spaces its readings by 1000x
 * their cost (monitor_alloc.c).
 *
 * allocstats_read.c holds the reader and the formatter and depends on libc
 * only, so the preload compiles it into itself; allocstats_parse.c (jansson)
 * is core only.
 *
 * Thread-safety: every function is reentrant (no state besides a dlsym
 * lookup cached in an atomic); mv__alloc_stats_read may allocate (malloc_info
 * writes through a stdio stream).
 */
#ifndef MV_ALLOCSTATS_H
#define MV_ALLOCSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

/* Which allocator the figures come from (mv_sample.alloc_kind). */
enum {
    MV_ALLOC_NONE = 0,     /* not available (another process, unknown) */
    MV_ALLOC_GLIBC = 1,    /* glibc ptmalloc, mallinfo2() */
    MV_ALLOC_JEMALLOC = 2  /* jemalloc, mallctl("stats.*") */
};

/* "none", "glibc", "jemalloc". */
const char *mv__alloc_kind_name(int kind);
/* The reverse; MV_ALLOC_NONE for anything else. */
int mv__alloc_kind_from_name(const char *name);

/* One reading. Byte figures are MV_NA when unavailable. */
typedef struct mv__alloc_stats {
    int kind;                  /* MV_ALLOC_* */
    int64_t in_use_bytes;      /* held by the program: glibc uordblks +
                                  hblkhd; jemalloc stats.allocated */
    int64_t free_bytes;        /* held by the allocator but free: glibc
                                  fordblks; jemalloc stats.resident -
                                  stats.allocated */
    int64_t mapped_bytes;      /* obtained from the kernel: glibc arena +
                                  hblkhd; jemalloc stats.mapped */
    int64_t releasable_bytes;  /* could go back at once: glibc keepcost
                                  (top of the main arena, what trimming
                                  frees at the least); jemalloc
                                  stats.resident - stats.active (dirty
                                  pages a purge returns) */
    int64_t arenas;            /* arenas: glibc heaps in malloc_info();
                                  jemalloc arenas.narenas */
} mv__alloc_stats;

/* Sets every figure to unavailable (kind NONE, bytes MV_NA). */
void mv__alloc_stats_clear(mv__alloc_stats *st);

/* Reads this process's allocator: jemalloc when a "mallctl" symbol is
 * visible (the program links or preloads jemalloc), else glibc. Returns 0,
 * or -ENOTSUP when neither is available, or glibc's malloc has served
 * nothing (another allocator is in charge) (st cleared). Sampler threads
 * only: see the cost above. */
int mv__alloc_stats_read(mv__alloc_stats *st);
/* The same; with count_arenas 0 glibc's malloc_info walk (half the cost)
 * is skipped and st->arenas is MV_NA. */
int mv__alloc_stats_read2(mv__alloc_stats *st, int count_arenas);

/* Formats st as a JSON object {"kind":"glibc","in_use_bytes":...} (null
 * for unavailable figures) into out. Returns the length, or -EOVERFLOW
 * when n is too small (out then undefined). No allocation: the preload
 * calls it. */
int mv__alloc_stats_format(const mv__alloc_stats *st, char *out, size_t n);

/* Parses the object written by mv__alloc_stats_format, found as the value
 * of key "alloc" in a JSON document (the preload's status file), into st.
 * Returns 0, -ENOENT when the document has no "alloc" object (an older
 * preload, or a process the allocator could not be read in), -EINVAL for
 * malformed text or figures (negative, wrong type). st is cleared on
 * error. */
int mv__alloc_stats_parse(const char *text, size_t len, mv__alloc_stats *st);

/* Copies st into the allocator fields of a sample (alloc_*). */
void mv__alloc_stats_to_sample(const mv__alloc_stats *st, mv_sample *s);

/* Returns memory the allocator holds free to the kernel: glibc
 * malloc_trim(0) (every arena, also the middle of heaps via
 * MADV_DONTNEED), jemalloc "arena.<all>.purge". Returns 0 or -ENOTSUP.
 * Takes arena locks: sampler threads or the application's own idle
 * points only. */
int mv__alloc_trim(void);

#endif /* MV_ALLOCSTATS_H */
