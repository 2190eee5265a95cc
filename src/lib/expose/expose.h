/*
 * expose.h — rendering the monitor's state as Prometheus text 0.0.4,
 * OpenMetrics 1.0 text, or the JSON status document.
 *
 * The renderer is a pure function of an mv__expose_state snapshot (taken by
 * the monitor under its lock) plus the registry (which has its own lock), so
 * it can be tested on hand-made states.
 *
 * Thread-safety: reentrant.
 */
#ifndef MV_EXPOSE_H
#define MV_EXPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"
#include "frag.h"
#include "leak.h"
#include "registry.h"

/* Upper bounds (seconds) of the sampler tick-duration histogram. */
#define MV_TICK_BUCKETS 8
extern const double mv__tick_bucket_bounds[MV_TICK_BUCKETS];

/* The monitor's cost of itself. */
typedef struct mv__self_stats {
    uint64_t ticks;                       /* samples taken */
    uint64_t tick_hist[MV_TICK_BUCKETS];  /* non-cumulative counts per bucket;
                                             the last bucket is +Inf */
    double tick_seconds_sum;
    uint64_t errors;                      /* failed samples */
    double cpu_seconds;                   /* sampler thread CPU time */
    double cpu_share;                     /* recent CPU share of the sampler */
    int64_t interval_ms;                  /* current interval */
    int64_t footprint_bytes;              /* memory the monitor holds */
    uint64_t events_dropped;              /* events lost: the pending queue
                                             was full, or an event-log line
                                             waited too long for a stalled
                                             pipe */
    int recording;                        /* 1: a recording is written */
    uint64_t recording_lines_lost;        /* its lines that could not be
                                             written (a full disk), so far */
    uint64_t trims;                       /* allocator trims (mv_trim and
                                             the periodic trim) */
    uint64_t trim_released_bytes;         /* resident memory they returned */
} mv__self_stats;

typedef struct mv__expose_state {
    const mv_sample *sample;              /* last sample; may be NULL */
    mv_level level;
    double growth_bytes_per_s;            /* NAN if n/a */
    double growth_window_s;
    double time_to_limit_s;               /* INFINITY / NAN */
    int target_alive;
    const mv__self_stats *self;           /* may be NULL */
    mv__registry *registry;               /* may be NULL */
    int process_metrics;                  /* emit process_* of this process */
    const char *proc_root;                /* for process_*: "/proc" */
    const mv_event *events;               /* recent events, oldest first */
    size_t nevents;
    /* Extensions (leak detection); zero-initialised states render as before */
    const mv__leak_result *leak;          /* NULL: leak figures left out */
    double cpu_budget;                    /* configured budget; <= 0 left out */
    /* OOM-kill forensics (oom_watch.h); zero-initialised: left out */
    const int64_t *host_oom_kills;        /* /proc/vmstat oom_kill; NULL or
                                             MV_NA: left out */
    const mv_oom_kill *oom_victims;       /* the target's last victims */
    size_t n_oom_victims;
    const char *const *oom_victim_labels; /* NULL, or n_oom_victims extra
                                             label sets ('namespace="a",
                                             pod="b"', escaped; NULL or ""
                                             for none): how node mode
                                             attaches a container's labels */
    const mv__frag_result *frag;          /* allocator diagnosis; NULL: left out */
} mv__expose_state;

/* Appends the rendering of st to out. 0, -EINVAL (NULL args) or -ENOMEM
 * (out keeps what it had).
 *
 * Leak families (when st->leak is set), in both text formats as gauges (so
 * alert rules see the same names and labels whichever format is scraped):
 * memvigil_leak_verdict{verdict="leak|suspect|no_leak|insufficient_data"}
 * one-hot; memvigil_leak_confidence (0..1);
 * memvigil_leak_growth_bytes_per_second (absent while n/a);
 * memvigil_leak_time_to_limit_seconds (+Inf when not leaking/growing,
 * absent while unknown); the OOM-risk claim, apart from the verdict:
 * memvigil_oom_risk (1 while st->leak->risk.active, else 0) and
 * memvigil_oom_risk_time_to_limit_seconds (the risk's ETA; +Inf when not
 * rising, absent while unknown). memvigil_monitor_cpu_budget_ratio when
 * cpu_budget > 0.
 *
 * OOM kills: memvigil_host_oom_kills_total (counter) when host_oom_kills
 * is known; memvigil_oom_kill_victim_rss_bytes{pid,comm,cgroup,constraint,
 * type="anon|file|shmem"} (gauge) per victim in oom_victims, each with its
 * oom_victim_labels appended.
 *
 * Text formats: families with all samples unavailable are left out
 * entirely; unset limits are +Inf; OpenMetrics ends with "# EOF".
 * process_* (st->process_metrics) are read from proc_root/self/{stat,
 * limits,fd} and proc_root/stat (btime), as client_golang does.
 *
 * JSON (MV_FORMAT_JSON), the /api/v1/status document, one line + "\n":
 *  {"version":"0.1.0","target_up":true,"level":"ok",
 *   "growth_bytes_per_second":n|null,"growth_window_seconds":n|null,
 *   "time_to_limit_seconds":n|null, "time_to_limit_infinite":bool,
 *   "sample":{every mv_sample field by its C name; psi as
 *             {"avg10","avg60","avg300","total_us"}; "limit_source":
 *             "none|cgroup_max|cgroup_high|memtotal|config"} | null,
 *   "monitor":{"ticks","tick_errors","tick_seconds_sum","cpu_seconds",
 *              "cpu_ratio","interval_seconds","memory_bytes",
 *              "events_dropped",
 *              "recording_lines_lost" (null when nothing is recorded),
 *              "cpu_budget_ratio" (when cpu_budget > 0)} | null,
 *   "app":<mv__registry_render JSON> | null,
 *   "leak":{"verdict":"leak|suspect|no_leak|insufficient_data",
 *           "confidence":0..1,"growth_bytes_per_second":n|null,
 *           "growth_bytes_per_hour":n|null,"growth_lo_bytes_per_hour",
 *           "growth_hi_bytes_per_hour","time_to_limit_seconds":n|null,
 *           "time_to_limit_infinite":bool,"time_to_limit_lo_seconds",
 *           "time_to_limit_hi_seconds","window_seconds","reason":
 *           mv__leak_reason_name,"held_by_phase":bool,"evidence":"..."}
 *          (only when st->leak is set),
 *   "oom_risk":{"active":bool,"growth_bytes_per_second":n|null,
 *           "growth_bytes_per_hour":n|null,"time_to_limit_seconds":n|null,
 *           "time_to_limit_infinite":bool,"window_seconds":n|null,
 *           "active_seconds":n|null (length of the current spell),
 *           "evidence":"..."} (only when st->leak is set),
 *   "events":[mv__event_to_json objects, oldest first]}
 * Unavailable figures are null. time_to_limit_seconds is null both when
 * unknown and when infinite (JSON has no infinity); time_to_limit_infinite
 * tells them apart. Unset limits (cg_max_bytes, cg_high_bytes,
 * effective_limit_bytes) are the string "max", as cgroup v2 spells it. */
/* The OOM-kill families' names and help, shared with node mode
 * (node_render.c); defined in expose.c. */
extern const char mv__host_oom_kills_name[], mv__host_oom_kills_help[];
extern const char mv__oom_victim_name[], mv__oom_victim_help[];
/* The labels of victim k's figure of one type ("anon", "file", "shmem")
 * into lab (reset first): pid, comm, cgroup, constraint, type, then
 * extra (without braces) when not NULL or "". 0 or -ENOMEM. Pure. */
int mv__expose_oom_victim_labels(mv_buf *lab, const mv_oom_kill *k,
                                 const char *type, const char *extra);

int mv__expose_render(const mv__expose_state *st, mv_format fmt, mv_buf *out);

/* Picks the format for an HTTP Accept header value (NULL -> Prometheus):
 * application/openmetrics-text -> OpenMetrics, otherwise Prometheus text. */
mv_format mv__expose_negotiate(const char *accept);

#endif /* MV_EXPOSE_H */
