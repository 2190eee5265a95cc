/*
 * node.h — internals of node mode (the object behind mv_node_*): one
 * sampler thread watching every container cgroup under a root.
 * node.c: lifecycle, thread, events; node_tick.c: one tick (discovery,
 * samples, the per-container rules); node_render.c: the metrics.
 *
 * Per container (mv__node_target) the state is what the single-target
 * monitor keeps for its target — a private-memory series, level state,
 * growth, leak detector and OOM-risk flag — fed through the same detector
 * functions (detect.h, leak.h) and the monitor's pure event rules
 * (monitor.h), so a container's verdict is the one `watch --cgroup` would
 * give it.
 *
 * Locks: `lock` guards everything below it in struct mv_node (targets,
 * counters); a tick holds it while it reads and judges, and renders take
 * it, so a scrape waits at most one tick. Events are delivered after the
 * lock is released (callback, then the event log under sink_lock).
 * Thread-safety: see memvigil.h per function.
 */
#ifndef MV_NODE_H
#define MV_NODE_H

#include <pthread.h>
#include <stdint.h>

#include "memvigil.h"
#include "cgroup_layout.h"
#include "detect.h"
#include "expose.h"
#include "http.h"
#include "leak.h"
#include "oom_watch.h"
#include "probe.h"
#include "record.h"
#include "series.h"

/* One watched container. Owned by the node; freed by mv__node_target_free. */
typedef struct mv__node_target {
    mv_container_labels labels;  /* IDs from the path, names from resolve */
    int names_resolved;          /* resolve succeeded (or none configured) */
    mv__cgroup_kind kind;
    mv__cgroup_handle cg;        /* directory descriptor (knobs opened per
                                    read: 1 descriptor per container) */
    int up;                      /* present at the last discovery */
    int64_t gone_since_ms;       /* monotonic ms it vanished; 0 while up */
    uint64_t seen_gen;           /* last discovery generation that saw it */

    mv_sample last;              /* last good sample */
    int have_last;
    int64_t first_mono_ms;
    int64_t samples_taken;
    mv__series *series;          /* private bytes over time (node shape) */
    mv__level_state lstate;
    mv__growth growth;
    double time_to_limit_s;
    mv__leak_detector *leak;
    mv__leak_result leak_res;
    int oom_risk_active;
    int error_armed;             /* 1: the next read error raises an event */
    int64_t read_errors;
    mv_oom_kill *victim;         /* its last OOM-kill victim from the kernel
                                    log (owned; NULL before any): the
                                    memvigil_oom_kill_victim_rss_bytes */
    int64_t oom_told;            /* kills told from the kernel log that its
                                    oom_kill counter has not shown yet */
    int64_t oom_unnamed;         /* counter rises told without a victim
                                    whose log line has not come yet */
} mv__node_target;

/* An event plus the storage its pointers point to. */
typedef struct mv__node_event {
    mv_event ev;
    mv_sample sample;
    int has_sample;
    mv_container_labels labels;
    mv_oom_kill kill;            /* MV_EVENT_OOM_KILL named from the log */
    int has_kill;
} mv__node_event;

struct mv_node {
    /* ---- configuration (immutable after start; owned copies) ---- */
    mv_node_config cfg;          /* strings point at the copies below */
    char *s_cgroup_root, *s_proc_root, *s_glob, *s_event_log, *s_listen,
        *s_token;
    char walk_root[4096];        /* the directory walked (v1: memory/) */
    int version;                 /* 1 or 2 */
    mv__probe_opts popts;        /* cgroup_root = walk_root */
    mv__level_cfg lcfg;

    pthread_mutex_t lock;        /* guards the state below */
    pthread_mutex_t sink_lock;   /* the event log */
    pthread_cond_t wake;         /* the sampler sleeps on it (monotonic) */
    pthread_cond_t done;         /* sample_now waits on it */
    pthread_t thread;
    int thread_started;
    int stopping;
    uint64_t tick_req, tick_done;

    /* ---- state (guarded by lock) ---- */
    mv__node_target **targets;   /* sorted by labels.id; owned */
    size_t ntargets, cap_targets;
    uint64_t gen;                /* discovery generation */
    mv_sample system;            /* host fields of the last tick */
    int64_t ticks;
    int64_t discovered_total, dropped_total, capped_total, read_errors_total;
    int64_t walk_skipped_total;  /* directories the walk could not read */
    int cap_said;                /* the cap message was given this spell */
    double last_tick_s;
    double tick_seconds_sum;
    uint64_t tick_hist[MV_TICK_BUCKETS];
    double cpu_seconds;          /* sampler thread CPU */

    /* events of the running tick (sampler thread only) */
    mv__node_event *evs;
    size_t nev, cap_evs;
    uint64_t events_dropped;

    /* the kernel log: one watch for the node (sampler thread only) */
    char *s_kmsg;
    mv__oom_watch *oomw;         /* NULL without kmsg_path */
    mv_oom_kill *oom_buf;        /* MV_NODE_OOM_POLL kills of one poll */
    int64_t host_oom_kills;      /* /proc/vmstat oom_kill; MV_NA unknown
                                    (guarded by lock) */

    mv__linefile *log;           /* under sink_lock; NULL for none */
    mv__http *http;
};

/* Kills taken from the kernel log per tick at most (the rest wait for
 * the next tick). */
#define MV_NODE_OOM_POLL 16

/* ---- node_tick.c ---- */

/* One tick: walk, merge, read and judge every container, fill n->evs.
 * Caller holds n->lock. */
void mv__node_tick_locked(mv_node *n);
/* Frees a target and its detectors. NULL is a no-op. */
void mv__node_target_free(mv__node_target *t);
/* Memory one target holds (its series and detector included). */
size_t mv__node_target_footprint(const mv__node_target *t);
/* Series shape for a container: smaller than a single target's (see
 * node_tick.c for why). */
mv__series *mv__node_series_new(void);

/* Points ne's pointers at its own storage (call before delivering). */
void mv__node_event_fix(mv__node_event *ne);
/* The container's name for messages: namespace/pod/container when known,
 * else the unit, "pod UID container ID12", "container ID12" or the path. */
void mv__node_name(const mv_container_labels *l, char *out, size_t cap);

/* ---- node_render.c ---- */

/* Render callback for the HTTP endpoint and mv_node_render; ctx is the
 * node. Takes n->lock. */
int mv__node_render(void *ctx, mv_format fmt, mv_buf *out);
/* A label set for t: namespace,pod,container,pod_uid,container_id,qos,id
 * (plus extra "k=\"v\"" when extra is not NULL), appended to b without
 * braces. Pure. */
int mv__node_labels(mv_buf *b, const mv_container_labels *l);

#endif /* MV_NODE_H */
