/*
 * memvigil.h — public API of libmemvigil.
 *
 * libmemvigil samples the memory of a process (or process tree, or cgroup)
 * from a background thread, judges it (levels on the usage ratio, a robust
 * growth slope, time to the effective limit), keeps the application's own
 * memory records (component gauges, per-operation deltas, progress, phases)
 * and exposes everything as Prometheus / OpenMetrics text, JSON, events and
 * an optional embedded HTTP endpoint.
 *
 * Conventions (see shared STYLE.md):
 *  - Functions return 0 or a negative errno; mv_strerror() names it. On error
 *    nothing changed and no callback fires. The library never exits or aborts.
 *  - Opaque objects: mv_monitor, mv_op. Plain value structs (mv_sample,
 *    mv_config, mv_event, mv_buf) are public and documented field by field.
 *  - Units are in field names (_bytes, _ms, _us, _s). A field that could not
 *    be read holds MV_NA (never 0 pretending to be true); a limit that is not
 *    set holds MV_UNLIMITED; a double that is unavailable holds NAN.
 */
#ifndef MEMVIGIL_H
#define MEMVIGIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MV_EXPORT __attribute__((visibility("default")))
#else
#define MV_EXPORT
#endif

#define MV_VERSION_MAJOR 0
#define MV_VERSION_MINOR 1
#define MV_VERSION_PATCH 0
#define MV_VERSION_STRING "0.1.0"

/* A sampled integer field that could not be read (missing, unreadable or
 * garbage file). Never confuse with 0. */
#define MV_NA ((int64_t)-1)
/* A limit that is not set ("max" in cgroup v2, the huge value in v1). */
#define MV_UNLIMITED INT64_MAX

/* ---- errors ---------------------------------------------------------- */

/* Returns a static, human-readable string for a negative errno returned by
 * any mv_* function (or for a positive errno). Thread-safety: any thread. */
MV_EXPORT const char *mv_strerror(int err);

/* Library version string, e.g. "0.1.0". Thread-safety: any thread. */
MV_EXPORT const char *mv_version(void);

/* ---- growable buffer ------------------------------------------------- */

/* A caller-owned growable byte buffer. Initialise with {0} or mv_buf_init();
 * data is NUL-terminated whenever len > 0. Release with mv_buf_release().
 * Thread-safety: not thread-safe; one owner at a time. */
typedef struct mv_buf {
    char *data;  /* heap storage, owned by the buffer; NULL when empty */
    size_t len;  /* bytes used, not counting the terminating NUL */
    size_t cap;  /* bytes allocated */
} mv_buf;

MV_EXPORT void mv_buf_init(mv_buf *b);
/* Frees the storage and resets the buffer to empty. NULL is a no-op. */
MV_EXPORT void mv_buf_release(mv_buf *b);

/* ---- the sample ------------------------------------------------------ */

/* Pressure stall information for one line ("some" or "full") of a PSI file. */
typedef struct mv_psi {
    double avg10;     /* percent of wall time stalled, 10 s average; NAN if n/a */
    double avg60;     /* same, 60 s */
    double avg300;    /* same, 300 s */
    int64_t total_us; /* cumulative stall time, microseconds; MV_NA if n/a */
} mv_psi;

/* Where the effective limit comes from. */
typedef enum mv_limit_source {
    MV_LIMIT_NONE = 0,      /* nothing known */
    MV_LIMIT_CGROUP_MAX,    /* memory.max / memory.limit_in_bytes */
    MV_LIMIT_CGROUP_HIGH,   /* memory.high (v2) */
    MV_LIMIT_MEMTOTAL,      /* physical memory (/proc/meminfo MemTotal) */
    MV_LIMIT_CONFIG         /* mv_config.limit_bytes (`--limit`) */
} mv_limit_source;

#define MV_CGROUP_PATH_MAX 512

/* One observation of a target. Plain value struct; copy freely.
 * For a process tree, the process fields are sums over the tree (peak RSS is
 * the target's own). For a cgroup-only target, process fields are MV_NA. */
typedef struct mv_sample {
    int64_t timestamp_ms;        /* wall clock, ms since the Unix epoch */
    int64_t monotonic_ms;        /* CLOCK_MONOTONIC, ms */

    /* ---- process (from /proc/PID/status, stat; summed over a tree) ---- */
    int32_t pid;                 /* the target's PID; 0 for a cgroup target */
    int32_t nprocs;              /* processes summed (1 + descendants) */
    int64_t start_time_ticks;    /* /proc/PID/stat field 22, to detect PID reuse */
    int64_t rss_bytes;           /* VmRSS */
    int64_t rss_anon_bytes;      /* RssAnon */
    int64_t rss_file_bytes;      /* RssFile */
    int64_t rss_shmem_bytes;     /* RssShmem */
    int64_t swap_bytes;          /* VmSwap */
    int64_t rss_peak_bytes;      /* VmHWM (target process only) */
    int64_t vm_size_bytes;       /* VmSize */
    int64_t threads;             /* Threads */
    int64_t major_faults;        /* /proc/PID/stat majflt (field 12): page
                                    faults that had to read from disk, since
                                    the process started */
    /* smaps_rollup (only when enabled and under the size gate, else MV_NA) */
    int64_t pss_bytes;           /* Pss */
    int64_t pss_anon_bytes;      /* Pss_Anon */
    int64_t pss_file_bytes;      /* Pss_File */
    int64_t pss_shmem_bytes;     /* Pss_Shmem */

    /* ---- cgroup (of the target process, or the watched cgroup) ---- */
    int cgroup_version;          /* 0 = none found, 1 = v1 memory, 2 = unified */
    char cgroup_path[MV_CGROUP_PATH_MAX]; /* path inside the hierarchy, "/" = root */
    int64_t cg_usage_bytes;      /* memory.current / memory.usage_in_bytes */
    int64_t cg_max_bytes;        /* memory.max / limit_in_bytes, the tightest
                                    of the cgroup's and its ancestors';
                                    MV_UNLIMITED if unset */
    int64_t cg_high_bytes;       /* memory.high (v2 only), the tightest of the
                                    cgroup's and its ancestors'; MV_UNLIMITED
                                    if unset */
    int64_t cg_anon_bytes;       /* memory.stat anon / total_rss */
    int64_t cg_file_bytes;       /* memory.stat file / total_cache */
    int64_t cg_inactive_file_bytes; /* memory.stat inactive_file / total_inactive_file */
    int64_t cg_shmem_bytes;      /* memory.stat shmem / total_shmem */
    int64_t cg_swap_bytes;       /* memory.swap.current / memsw - usage; MV_NA if n/a */
    int64_t cg_oom_events;       /* memory.events oom (v2); v1: under_oom transitions n/a */
    int64_t cg_oom_kill_events;  /* memory.events oom_kill / memory.oom_control oom_kill */
    int64_t cg_high_events;      /* memory.events high (v2) */
    int64_t cg_max_events;       /* memory.events max (v2) / memory.failcnt (v1) */
    mv_psi cg_psi_some;          /* memory.pressure (v2) */
    mv_psi cg_psi_full;

    /* ---- system ---- */
    int64_t mem_total_bytes;     /* MemTotal */
    int64_t mem_available_bytes; /* MemAvailable */
    int64_t swap_total_bytes;    /* SwapTotal */
    int64_t swap_free_bytes;     /* SwapFree */
    mv_psi sys_psi_some;         /* /proc/pressure/memory */
    mv_psi sys_psi_full;

    /* ---- derived (mv_sample_derive) ---- */
    int64_t working_set_bytes;   /* cg usage - inactive_file, clamped at 0 */
    int64_t private_bytes;       /* anon + swap (process, else cgroup) */
    int64_t effective_limit_bytes; /* tightest of cg max, cg high, MemTotal */
    mv_limit_source limit_source;
    double usage_ratio;          /* working set (or RSS without a limited
                                    cgroup) / effective limit; NAN if n/a */

    /* ---- allocator (only where memvigil runs inside the process: the
     * embedded library watching its own process, or the heap preload's
     * status file under `run --heap`; else alloc_kind 0 and MV_NA) ---- */
    int alloc_kind;              /* 0 none, 1 glibc (mallinfo2), 2 jemalloc
                                    (mallctl stats) */
    int64_t alloc_in_use_bytes;  /* heap held by the program (glibc
                                    uordblks + hblkhd; jemalloc allocated) */
    int64_t alloc_free_bytes;    /* held by the allocator but free inside it
                                    (glibc fordblks; jemalloc resident -
                                    allocated) */
    int64_t alloc_mapped_bytes;  /* obtained from the kernel (glibc arena +
                                    hblkhd; jemalloc mapped) */
    int64_t alloc_releasable_bytes; /* returnable at once (glibc keepcost;
                                    jemalloc resident - active) */
    int64_t alloc_arenas;        /* allocator arenas */
} mv_sample;

/* Sets every field of *s to "unavailable" (MV_NA / NAN / empty). */
MV_EXPORT void mv_sample_clear(mv_sample *s);

/* ---- levels and events ----------------------------------------------- */

typedef enum mv_level {
    MV_LEVEL_OK = 0,
    MV_LEVEL_WARNING = 1,
    MV_LEVEL_CRITICAL = 2
} mv_level;

/* Returns "ok", "warning" or "critical". */
MV_EXPORT const char *mv_level_name(mv_level level);

typedef enum mv_event_kind {
    MV_EVENT_STARTED = 0,     /* monitor started, first sample taken */
    MV_EVENT_LEVEL,           /* level transition (level, prev_level set) */
    MV_EVENT_GROWTH,          /* sustained growth with a finite time to limit */
    MV_EVENT_OOM_KILL,        /* the cgroup's oom_kill count rose */
    MV_EVENT_SWAP_GROWING,    /* swap used by the target keeps rising */
    MV_EVENT_PER_UNIT_RISING, /* memory per progress unit keeps rising */
    MV_EVENT_PHASE,           /* an application phase began or ended */
    MV_EVENT_BUDGET,          /* the monitor exceeded its CPU budget and slowed */
    MV_EVENT_TARGET_EXIT,     /* the watched process exited */
    MV_EVENT_PID_REUSE,       /* the PID now names another process */
    MV_EVENT_PROBE_ERROR,     /* sampling failed (message says why) */
    MV_EVENT_LEAK_SUSPECTED,  /* the leak detector's verdict became "suspect" */
    MV_EVENT_LEAK,            /* the leak detector's verdict became "leak" */
    MV_EVENT_LEAK_CLEARED,    /* a suspect/leak verdict went back to no_leak */
    MV_EVENT_OOM_RISK,        /* at the current growth rate the effective limit
                                 is reached within the risk horizon (6 h),
                                 whatever the cause (ETA in time_to_limit_s);
                                 independent of the leak verdict */
    MV_EVENT_RECORDING_FAILED, /* recording lines began to be lost (a full
                                  disk): the message names the file and why */
    MV_EVENT_RECORDING_RESUMED,/* recording lines are written again; the
                                  message says how many were lost */
    MV_EVENT_OOM_RISK_CLEARED,/* the OOM-risk claim no longer holds (the
                                 growth rate dropped) */
    /* Allocator diagnosis (docs/leak-detection.md "Fragmentation"): only
     * where allocator statistics exist (mv_sample.alloc_kind != 0). */
    MV_EVENT_FRAGMENTATION,   /* private memory exceeds the heap in use and
                                 the live heap is flat: fragmentation, or
                                 retention of a freed peak; the message
                                 names which, the evidence and the advice */
    MV_EVENT_FRAGMENTATION_CLEARED, /* that claim no longer holds */
    MV_EVENT_TRIM,            /* a trim (mv_trim, or the periodic trim of
                                 mv_config.trim_interval_ms) returned
                                 memory; the message says how much */
    MV_EVENT_KIND_COUNT
} mv_event_kind;

/* Returns the event's snake_case name, e.g. "level_changed", "oom_kill". */
MV_EXPORT const char *mv_event_kind_name(mv_event_kind kind);

/* An event, passed to the callback by const pointer. Valid only during the
 * callback; copy what you keep. */
typedef struct mv_event {
    mv_event_kind kind;
    int64_t timestamp_ms;          /* wall clock, ms since epoch */
    mv_level level;                /* current level */
    mv_level prev_level;           /* for MV_EVENT_LEVEL: the level left */
    double growth_bytes_per_s;     /* robust slope of private memory; NAN if n/a */
    double time_to_limit_s;        /* INFINITY when not growing; NAN if n/a */
    const mv_sample *sample;       /* the sample that raised it; may be NULL */
    const char *subject;           /* phase name / unit name; may be NULL */
    char message[320];             /* one line, human */
} mv_event;

typedef void (*mv_event_cb)(const mv_event *ev, void *userdata);

/* ---- configuration --------------------------------------------------- */

/* Plain value struct. Initialise with mv_config_init(), then override.
 * Strings are borrowed during mv_monitor_start() and copied; the caller may
 * free them afterwards. */
typedef struct mv_config {
    /* what to watch: pid (0 = this process) with or without descendants, or
     * a cgroup path (absolute filesystem path or path inside the hierarchy) */
    int32_t pid;
    const int32_t *pids;         /* or several pids summed as one target */
    size_t npids;                /* (npids > 0 overrides pid); copied */
    int include_descendants;     /* sum the process tree; default 0 */
    const char *cgroup;          /* watch this cgroup instead of a pid; NULL */
    const char *proc_root;       /* default "/proc" (tests use fixture trees) */
    const char *cgroup_root;     /* default "/sys/fs/cgroup" */

    int64_t interval_ms;         /* default 10000; minimum 100, maximum 1 year */
    /* smaps_rollup holds the target's mmap lock (~5 ms/GiB mapped), so it is
     * off by default and skipped when VmSize exceeds the gate. */
    int smaps_rollup;            /* default 0 */
    int64_t smaps_max_vm_bytes;  /* default 64 GiB */

    double warning_ratio;        /* default 0.80 */
    double critical_ratio;       /* default 0.90 */
    double hysteresis_ratio;     /* leave a level only below threshold - this; 0.05 */
    int64_t level_min_duration_ms; /* a level must hold this long; -1 (the
                                    default) = 2 x interval_ms, 0 = at once */

    double cpu_budget;           /* max CPU share of the sampler; default 0.01 */
    int max_series_per_family;   /* label cardinality cap; default 1000 */
    int process_metrics;         /* emit process_* families; default 1 */

    mv_event_cb on_event;        /* called on the sampler thread; may be NULL */
    void *userdata;
    const char *event_log;       /* JSON event lines: NULL none, "-" stderr, or a path */
    const char *record_path;     /* JSONL recording; NULL none */
    const char *record_command;  /* command line written in the recording header */

    const char *http_listen;     /* "127.0.0.1:9464", ":9464" (= 127.0.0.1),
                                    "0.0.0.0:9464"; NULL = no endpoint */
    const char *http_token;      /* bearer token required when set */

    /* Size-capped rotation (docs/recording.md). When the next line would
     * take the file past *_max_bytes, FILE becomes FILE.1 (FILE.1 becomes
     * FILE.2, ...; the oldest beyond *_keep files is removed) and a new FILE
     * is started; a recording's new file opens with a header line carrying
     * its "segment" number. Lines are never split. 0 = the default: 64 MiB
     * and 4 files (FILE + FILE.1..FILE.3), at most 256 MiB on disk. Minimum
     * 1024 bytes; keep 1..1000 (1: FILE starts over). Else -EINVAL. */
    int64_t record_max_bytes;    /* recording cap per file; 0 = 64 MiB */
    int record_keep;             /* recording files kept; 0 = 4 */
    int64_t event_log_max_bytes; /* event log cap per file; 0 = 64 MiB */
    int event_log_keep;          /* event log files kept; 0 = 4 */

    /* A known memory budget of the target, in bytes; 0 (the default) =
     * none, < 0 is -EINVAL. It joins cgroup memory.max, memory.high and
     * MemTotal: the tightest is the effective limit (levels, usage ratio,
     * time to limit, memvigil_effective_limit_bytes); on a tie the
     * kernel's limit is named. When it wins, limit_source is
     * MV_LIMIT_CONFIG and the ratio uses the target's RSS (a cgroup target's working set). For a
     * sidecar that cannot see the application's cgroup, or a process with
     * no cgroup limit. */
    int64_t limit_bytes;

    /* Allocator statistics of a process memvigil does not run in: the path
     * of a JSON file with an "alloc" object (the heap preload's
     * status-PID.json), read on every tick; NULL (the default) = none. A
     * monitor of its own process (pid 0 or getpid()) reads its allocator
     * directly instead (glibc mallinfo2 or jemalloc mallctl, on the sampler
     * thread; cost in bench/README.md). */
    const char *alloc_stats_file;
    /* Opt-in periodic trim of this process's allocator (malloc_trim(0) /
     * jemalloc purge, see mv_trim) every trim_interval_ms, on the sampler
     * thread and only while no application phase is active; each trim that
     * frees memory raises MV_EVENT_TRIM and adds to
     * memvigil_alloc_trim_released_bytes_total. 0 (the default) = never;
     * otherwise at least 1000; only for a monitor of its own process, else
     * -EINVAL. */
    int64_t trim_interval_ms;
    /* The span the allocator diagnosis (fragmentation / retention) must
     * hold over before it is said; 0 (the default) = 10 minutes; at least
     * 1000. */
    int64_t alloc_window_ms;
} mv_config;

MV_EXPORT void mv_config_init(mv_config *cfg);

/* ---- the monitor ----------------------------------------------------- */

typedef struct mv_monitor mv_monitor;

/* Takes a first sample synchronously (so errors such as a missing PID are
 * returned here), then starts the sampler thread and, if configured, the
 * HTTP endpoint. On success *out owns the monitor: free with
 * mv_monitor_stop(). On error *out is NULL and nothing runs.
 * Errors: -EINVAL bad config, -ESRCH no such process, -ENOENT no such
 * cgroup, -EACCES, -EADDRINUSE, -ENOMEM.
 * Thread-safety: any thread. Fork: a child process inherits no sampler
 * thread; in the child, mv_monitor_stop() only frees memory. */
MV_EXPORT int mv_monitor_start(const mv_config *cfg, mv_monitor **out);

/* Stops the thread and endpoint, flushes the recording, frees everything.
 * NULL is a no-op. Must not be called from the event callback, and no other
 * call on m may run concurrently with it or follow it (the caller ends every
 * use of m first, as with free()). */
MV_EXPORT void mv_monitor_stop(mv_monitor *m);

/* The TCP port the HTTP endpoint is bound to (useful with port 0), or
 * -ENOENT when the monitor serves no endpoint. Thread-safety: any thread. */
MV_EXPORT int mv_monitor_http_port(mv_monitor *m);

/* Takes a sample now (outside the schedule) and runs the detectors.
 * Thread-safety: any thread. */
MV_EXPORT int mv_monitor_sample_now(mv_monitor *m);

/* Current state, copied out under the monitor's lock. Thread-safety: any. */
typedef struct mv_status {
    mv_sample sample;              /* last sample */
    mv_level level;
    double growth_bytes_per_s;     /* NAN until enough samples */
    double growth_window_s;        /* span of data behind the slope; NAN if n/a */
    double time_to_limit_s;        /* INFINITY when not growing, NAN if n/a */
    int64_t samples_taken;
    int64_t interval_ms;           /* current (may be lengthened by the budget) */
    int target_alive;              /* 0 once the target exited */
} mv_status;

MV_EXPORT int mv_monitor_status(mv_monitor *m, mv_status *out);

/* ---- application records --------------------------------------------- */

/* Sets the bytes held by a component, exported as
 * memvigil_app_memory_bytes{component=NAME,<labels>}. labels is NULL or
 * "key=value,key=value": at most 16 labels and 1024 characters; keys
 * [a-zA-Z_][a-zA-Z0-9_]* other than "component", "le" and names starting
 * with "__"; values non-empty, without ',' or '='. Label order does not
 * matter. bytes == 0 removes the series (a released segment leaves no trace).
 * Errors: -EINVAL bad name/labels, -ENOSPC cardinality cap reached (counted).
 * Thread-safety: any thread. */
MV_EXPORT int mv_gauge_set(mv_monitor *m, const char *name, const char *labels,
                           int64_t bytes);

/* The call sites whose live heap is growing fastest, as a heap profiler
 * ranked them (memvigil run --heap does; so may an application with a
 * profiler of its own), exported as
 *   memvigil_heap_site_growth_bytes_per_second{site=SITE}
 *   memvigil_heap_site_inuse_bytes{site=SITE}
 * Replaces the whole set with sites[0..n): at most 10 are kept, so stale
 * sites disappear and cardinality stays bounded; n == 0 clears it. site is
 * "function (file:line)", copied (truncated to 159 bytes).
 * Errors: -EINVAL (m NULL, sites NULL with n > 0, a NULL site), -ECHILD in a
 * forked child. Thread-safety: any thread. */
typedef struct mv_heap_site {
    const char *site;
    double growth_bytes_per_second;
    int64_t inuse_bytes;
} mv_heap_site;

MV_EXPORT int mv_heap_sites_set(mv_monitor *m, const mv_heap_site *sites,
                                size_t n);

/* Operation scope: measures the process's memory delta from begin to end
 * (RSS anon, from /proc/self/statm) into the histogram
 * memvigil_operation_memory_delta_bytes{operation=NAME}. Returns NULL on
 * error (bad name, out of memory); mv_op_end(NULL) is a no-op. mv_op_end
 * frees the scope. Thread-safety: any thread; one scope per thread at a time
 * is not required. */
typedef struct mv_op mv_op;
MV_EXPORT mv_op *mv_op_begin(mv_monitor *m, const char *name);
MV_EXPORT void mv_op_end(mv_op *op);

/* Adds n units of work done (files indexed, rows imported). Gives
 * memvigil_progress_units_total{unit}, memory per unit
 * (memvigil_progress_memory_per_unit_bytes) and units/s, and
 * MV_EVENT_PER_UNIT_RISING when memory per unit keeps rising.
 * Thread-safety: any thread. */
MV_EXPORT int mv_progress_add(mv_monitor *m, const char *unit, int64_t n);

/* Marks a phase of expected growth (initial load, bulk import, index build):
 * growth events are held back while any phase is active and labelled with it.
 * Phases nest by name; ending a phase that is not active gives -ENOENT.
 * Thread-safety: any thread. */
MV_EXPORT int mv_phase_begin(mv_monitor *m, const char *name);
MV_EXPORT int mv_phase_end(mv_monitor *m, const char *name);

/* Returns the memory the allocator holds free to the kernel now: glibc
 * malloc_trim(0), or jemalloc's purge of every arena when the process runs
 * jemalloc. *released_bytes (may be NULL) gets how much the process's
 * resident anonymous memory fell (RssAnon before - after, /proc/self/status;
 * 0 when it did not fall). Takes the allocator's arena locks and walks its
 * heaps: returning 245 MiB from 8 fragmented arenas took 1.8 s
 * (bench/bench_trim.c), so call it outside latency-critical paths (after a
 * peak, at an idle point). Errors: -ENOTSUP (no known allocator), -EIO (/proc unreadable).
 * m may be NULL; with a monitor of this process the trim is counted in its
 * metrics (memvigil_alloc_trims_total, ..._released_bytes_total) and raises
 * MV_EVENT_TRIM. Thread-safety: any thread; not from a signal handler. */
MV_EXPORT int mv_trim(mv_monitor *m, int64_t *released_bytes);

/* ---- exposition ------------------------------------------------------ */

typedef enum mv_format {
    MV_FORMAT_PROMETHEUS = 0, /* text 0.0.4 */
    MV_FORMAT_OPENMETRICS,    /* OpenMetrics 1.0 text, ends with # EOF */
    MV_FORMAT_JSON            /* the /api/v1/status document */
} mv_format;

/* Content-Type to send with a rendering in this format. */
MV_EXPORT const char *mv_format_content_type(mv_format fmt);

/* Appends the current metrics to buf (for services with their own HTTP
 * server). Errors: -ENOMEM (buf keeps what it had). Thread-safety: any. */
MV_EXPORT int mv_render(mv_monitor *m, mv_format fmt, mv_buf *buf);

#ifdef __cplusplus
}
#endif

#endif /* MEMVIGIL_H */
