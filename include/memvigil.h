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
/* Appends data[0..n) (any bytes) to b, keeping it NUL-terminated.
 * 0, -EINVAL (b NULL, or data NULL with n > 0) or -ENOMEM (b unchanged). */
MV_EXPORT int mv_buf_append(mv_buf *b, const void *data, size_t n);

/* ---- extra HTTP routes ----------------------------------------------- */

/* A route of the application's own on the monitor's HTTP endpoint (for
 * example memvigil's CLI serves /debug/pprof/heap this way). It answers GET
 * and HEAD (and POST when max_body_bytes > 0) at exactly path, behind the endpoint's token (mv_config's
 * http_token) like /metrics. The handler runs on a worker thread of the
 * endpoint's own, never on the thread that serves /metrics, so it may block
 * (read files, wait with mv_http_request_wait); at most 4 such requests run
 * at once, more are answered 503. A route named like a built-in one
 * (/metrics, /healthz, /, /api/v1/...) is -EINVAL; a route at
 * /debug/pprof/heap replaces the library's own (see docs/embedding.md). */
typedef struct mv_http_request mv_http_request;

/* The query parameter name of the request ("" when given without a value),
 * or NULL when absent. Valid during the handler. Thread-safety: the
 * handler's thread. */
MV_EXPORT const char *mv_http_request_arg(const mv_http_request *req,
                                          const char *name);

/* The query parameter name as a whole number of at most max (digits only,
 * as Go's pprof handlers take seconds=N and debug=N) into *out: 0 (absent
 * or "" reads 0), -EINVAL (not digits) or -ERANGE (above max); *out is 0
 * on error. Thread-safety: the handler's thread. */
MV_EXPORT int mv_http_request_count(const mv_http_request *req,
                                    const char *name, long max, long *out);

/* The request's body (POST to a route with max_body_bytes > 0; "" and
 * *len 0 otherwise), valid during the handler. len may be NULL.
 * Thread-safety: the handler's thread. */
MV_EXPORT const char *mv_http_request_body(const mv_http_request *req,
                                           size_t *len);

/* Sleeps ms milliseconds, or less when the endpoint is stopping. 0 after
 * the full wait, -ECANCELED when the endpoint stops (the handler should then
 * return at once). Thread-safety: the handler's thread. */
MV_EXPORT int mv_http_request_wait(const mv_http_request *req, int64_t ms);

/* What a handler answers. The body is binary-safe; the endpoint releases it.
 * content_type and filename must have static storage (string literals). */
typedef struct mv_http_reply {
    int status;                  /* HTTP status; 0 = 200 */
    const char *content_type;    /* NULL = "text/plain; charset=utf-8" */
    const char *filename;        /* NULL, or sends Content-Disposition:
                                  * attachment; filename="<filename>" */
    mv_buf body;
} mv_http_reply;

/* Fills reply (initialised empty); returns 0, or a negative errno, which is
 * answered 500 with mv_strerror's text (the body is then discarded). */
typedef int (*mv_http_handler_fn)(void *ctx, const mv_http_request *req,
                                  mv_http_reply *reply);

/* The longest delta profile /debug/pprof/heap?seconds=N serves, on the
 * library's endpoint and on `memvigil run --heap`'s (400 beyond): a delta
 * holds a connection and a worker thread for N seconds; 5 minutes covers
 * go tool pprof -seconds uses (Go's own bound is the server's write
 * timeout, often 30-60 s) while a client cannot hold the workers for
 * hours. */
#define MV_PPROF_MAX_SECONDS 300

typedef struct mv_http_route {
    const char *path;            /* "/debug/pprof/heap" (copied) */
    mv_http_handler_fn handler;
    void *ctx;                   /* passed to handler; must outlive the
                                  * monitor */
    size_t max_body_bytes;       /* 0: GET and HEAD only; else POST too,
                                  * with a body of at most this (413
                                  * beyond) */
} mv_http_route;

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

/* ---- node mode: who a container is ---------------------------------- */

/* The labels of one watched container cgroup in node mode (mv_node_*),
 * carried by its metrics and events. Plain value struct; strings are
 * NUL-terminated, "" when unknown. The IDs come from the cgroup path's
 * layout (always known for a container); the names (namespace, pod,
 * container) stay empty until a resolver fills them (the kubelet's pods
 * API; mv_node_config.resolve). */
typedef struct mv_container_labels {
    char namespace_name[64];   /* Kubernetes namespace ("" = unknown) */
    char pod[256];             /* pod name */
    char container[64];        /* container name in the pod spec */
    char pod_uid[40];          /* "0f3c...-..." with '-', as the API spells it */
    char container_id[72];     /* the runtime's ID (64 hex digits) */
    char qos[16];              /* "guaranteed", "burstable", "besteffort";
                                  "" outside kubepods */
    char runtime[16];          /* "containerd", "crio", "docker"; "" when
                                  the layout does not say (cgroupfs driver) */
    char unit[128];            /* a systemd service's unit name */
    char id[MV_CGROUP_PATH_MAX]; /* the cgroup's path inside the hierarchy
                                    (cAdvisor's `id`) */
} mv_container_labels;

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
    MV_EVENT_OOM_KILL,        /* the cgroup's oom_kill count rose, or the
                                 kernel log reported a kill of the target
                                 or in its cgroup (oom_kill names the victim) */
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
                                 is reached within the risk horizon
                                 (oom_risk_horizon_ms, default 12 h),
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

/* What the kernel said about one OOM kill (its log, /dev/kmsg): the
 * victim and its memory at the kill. Sizes are the kernel's kB figures in
 * bytes; a figure this kernel does not print (older kernels lack UID,
 * pgtables and oom_score_adj on the kill line) is MV_NA. */
typedef enum mv_oom_constraint {
    MV_OOM_CONSTRAINT_UNKNOWN = 0,
    MV_OOM_CONSTRAINT_MEMCG,     /* a cgroup's limit (CONSTRAINT_MEMCG) */
    MV_OOM_CONSTRAINT_NONE,      /* the whole host ran out (CONSTRAINT_NONE) */
    MV_OOM_CONSTRAINT_CPUSET,    /* CONSTRAINT_CPUSET */
    MV_OOM_CONSTRAINT_MEMORY_POLICY /* CONSTRAINT_MEMORY_POLICY */
} mv_oom_constraint;

/* Returns "cgroup", "global", "cpuset", "memory_policy" or "unknown". */
MV_EXPORT const char *mv_oom_constraint_name(mv_oom_constraint c);

#define MV_OOM_COMM_MAX 64
typedef struct mv_oom_kill {
    int64_t kernel_ts_us;        /* the kill line's kernel time stamp, us
                                    since boot (CLOCK_MONOTONIC) */
    int64_t seq;                 /* its kmsg sequence number */
    int32_t pid;                 /* the victim */
    char comm[MV_OOM_COMM_MAX];  /* its command name, as the kernel printed */
    int64_t uid;                 /* MV_NA when not printed */
    mv_oom_constraint constraint;
    char task_cgroup[MV_CGROUP_PATH_MAX]; /* the victim's memory cgroup
                                    (task_memcg); "" when not printed */
    char oom_cgroup[MV_CGROUP_PATH_MAX];  /* the cgroup whose limit was hit
                                    (oom_memcg); "" for a global OOM */
    int64_t total_vm_bytes;
    int64_t anon_rss_bytes;      /* resident anonymous memory at the kill */
    int64_t file_rss_bytes;
    int64_t shmem_rss_bytes;
    int64_t pgtables_bytes;      /* MV_NA when not printed */
    int64_t oom_score_adj;       /* -1000..1000; MV_OOM_SCORE_ADJ_NA when not
                                    printed (-1 is a valid value) */
} mv_oom_kill;
#define MV_OOM_SCORE_ADJ_NA INT64_MIN

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
    const mv_container_labels *container; /* node mode: the container the
                                    event is about (its metrics' labels);
                                    NULL for a single target */
    const mv_oom_kill *oom_kill;   /* MV_EVENT_OOM_KILL when the kernel log
                                      named the victim; else NULL */
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
    const mv_http_route *http_routes; /* extra routes (see above); copied */
    size_t http_nroutes;

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

    /* The kernel log read for OOM-kill reports (victim, its memory at the
     * kill), e.g. "/dev/kmsg"; NULL or "" (the default) = none: a service
     * that embeds the library is rarely allowed to read it, and its own
     * kill it could not report anyway (the memvigil agent reads
     * /dev/kmsg by default). Read without blocking from its end; where it
     * is not permitted (no CAP_SYSLOG, dmesg_restrict) the monitor says so
     * once (MV_EVENT_PROBE_ERROR) and OOM kills are counted from the
     * cgroup's counters only. /proc/vmstat's host count is read either
     * way. */
    const char *kmsg_path;
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

    /* Leak patience: how long memory must have been rising before the
     * leak detector says `leak` (a ticket-level claim about cause), in ms;
     * 0 (the default) = the detector's default (docs/leak-detection.md),
     * < 0 is -EINVAL. A cache filling for longer than this looks like a
     * leak until it caps; urgent growth is the oom_risk claim's from
     * minutes on, whatever this is. A rise that has used 90% of the room
     * between its lowest level and the limit is judged without waiting.
     * Shorten it for a service whose caches are known to be bounded
     * sooner. */
    int64_t leak_min_rise_ms;
    /* The OOM-risk claim's horizon: memvigil_oom_risk holds while, at the
     * current growth rate, the effective limit is less than this away, in
     * ms; 0 (the default) = the detector's default (12 h,
     * docs/leak-detection.md), < 0 is -EINVAL. It is about urgency, not
     * cause: longer warns sooner of more growth that later levels off. */
    int64_t oom_risk_horizon_ms;
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

/* Hands the monitor an OOM-kill report read elsewhere, as if its own
 * kernel log (kmsg_path) had given it: the caller has decided it is the
 * target's. For an agent that reads the kernel log once for many monitors
 * (one per container) and gives each its own kills. The next tick's
 * oom_kill event names it (or it is told on its own when no counter rises;
 * see mv_event.oom_kill). 0, or -EINVAL (NULL, pid <= 0), -ECHILD in a fork
 * child. Thread-safety: any thread. */
MV_EXPORT int mv_monitor_oom_kill(mv_monitor *m, const mv_oom_kill *k);

/* Current state, copied out under the monitor's lock. Thread-safety: any. */
typedef struct mv_status {
    mv_sample sample;              /* last sample; its alloc_* fields are the
                                      last allocator reading (readings are
                                      spaced by their cost, so a sample may
                                      have none of its own) */
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

/* ---- node mode: every container cgroup of a host -------------------- */

/* One object watches every container cgroup under a hierarchy root (the
 * layouts are listed in docs/operating.md, "Node mode"): each is its own
 * target with its own series, levels, leak detector and OOM-risk claim,
 * all sampled by ONE thread (no thread per container). Containers that
 * appear are picked up at the next tick; those that vanish keep their
 * series (memvigil_target_up 0) for grace_ms, then are dropped. */
typedef struct mv_node mv_node;

/* Fills the names of a container's labels (namespace_name, pod,
 * container) from its IDs; returns 0, or a negative errno when it cannot
 * (the IDs are kept, and it is asked again at a later tick). Called on
 * the sampler thread, at most once per container per tick, for
 * containers whose names are still empty. Must not block for long: the
 * tick waits for it. */
typedef int (*mv_node_resolve_fn)(void *ctx, mv_container_labels *labels);

/* Plain value struct. Initialise with mv_node_config_init(), then
 * override. Strings are borrowed during mv_node_start() and copied. */
typedef struct mv_node_config {
    const char *cgroup_root;     /* the tree to walk: "/sys/fs/cgroup" (v2,
                                    or v1 with its memory/ mount), the v1
                                    memory mount itself, or a subtree of
                                    either; default "/sys/fs/cgroup" */
    const char *proc_root;       /* default "/proc" (meminfo, PSI) */
    const char *service_glob;    /* also watch systemd services whose unit
                                    name matches (fnmatch, "*.service");
                                    NULL (the default) = containers only */
    int64_t interval_ms;         /* default 10000; minimum 100 */
    int64_t grace_ms;            /* a vanished container's series stay this
                                    long (target_up 0); default 120000 */
    int max_containers;          /* containers watched at most; more are
                                    counted and said once; default 2000 */
    double warning_ratio;        /* as in mv_config (0.80) */
    double critical_ratio;       /* 0.90 */
    double hysteresis_ratio;     /* 0.05 */
    int64_t level_min_duration_ms; /* -1 = 2 x interval_ms */
    mv_event_cb on_event;        /* called on the sampler thread; events
                                    carry ev->container; may be NULL */
    void *userdata;
    const char *event_log;       /* JSON event lines: NULL, "-" or a path */
    int64_t event_log_max_bytes; /* 0 = 64 MiB (see mv_config) */
    int event_log_keep;          /* 0 = 4 */
    const char *http_listen;     /* as mv_config.http_listen; NULL = none */
    const char *http_token;      /* bearer token required when set */
    mv_node_resolve_fn resolve;  /* names from IDs; NULL = IDs only */
    void *resolve_ctx;
    const char *kmsg_path;       /* the kernel log read for OOM-kill reports
                                    ("/dev/kmsg"), ONE watch for the node:
                                    each kill is matched to its container
                                    by the victim's cgroup, and its oom_kill
                                    event and victim metric carry the
                                    container's labels; NULL or "" (the
                                    default) = none (counters only). Not
                                    permitted: told once, counters only. */
    /* Leak patience of every container's detector, in ms, as
     * mv_config.leak_min_rise_ms: 0 (the default) = the detector's default
     * (docs/leak-detection.md), < 0 is -EINVAL. */
    int64_t leak_min_rise_ms;
    /* The OOM-risk claim's horizon of every container, in ms, as
     * mv_config.oom_risk_horizon_ms: 0 (the default) = the detector's
     * default (12 h), < 0 is -EINVAL. */
    int64_t oom_risk_horizon_ms;
} mv_node_config;

MV_EXPORT void mv_node_config_init(mv_node_config *cfg);

/* Walks the tree once synchronously (errors such as a missing root are
 * returned here), then starts the sampler thread and, if configured, the
 * HTTP endpoint. *out owns the node: free with mv_node_stop(). Errors:
 * -EINVAL bad config, -ENOENT no memory cgroup hierarchy at cgroup_root,
 * -EACCES, -EADDRINUSE, -ENOMEM. Thread-safety: any thread. */
MV_EXPORT int mv_node_start(const mv_node_config *cfg, mv_node **out);
/* Stops the thread and endpoint, frees everything. NULL is a no-op. Not
 * from the event callback. */
MV_EXPORT void mv_node_stop(mv_node *n);
/* Runs one tick now (discovery, samples, detectors, events) and waits for
 * it. Thread-safety: any thread but the callback's. */
MV_EXPORT int mv_node_sample_now(mv_node *n);
/* The bound HTTP port, or -ENOENT without an endpoint. */
MV_EXPORT int mv_node_http_port(mv_node *n);
/* Appends the metrics of every watched container (labelled) and of the
 * node agent itself to buf. -ENOMEM (buf keeps what it had). Any thread. */
MV_EXPORT int mv_node_render(mv_node *n, mv_format fmt, mv_buf *buf);

/* Counts, copied out under the node's lock. */
typedef struct mv_node_status {
    int64_t containers;          /* watched now (those in grace included) */
    int64_t containers_up;       /* of which still present */
    int64_t ticks;               /* ticks run */
    int64_t discovered_total;    /* containers ever picked up */
    int64_t dropped_total;       /* dropped after their grace period */
    int64_t capped_total;        /* left unwatched: max_containers reached */
    int64_t read_errors_total;   /* container reads that failed */
    double last_tick_seconds;    /* wall time of the last tick */
} mv_node_status;
MV_EXPORT int mv_node_status_get(mv_node *n, mv_node_status *out);

#ifdef __cplusplus
}
#endif

#endif /* MEMVIGIL_H */
