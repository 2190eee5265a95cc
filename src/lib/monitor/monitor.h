/*
 * monitor.h — internals of the monitor (the object behind mv_monitor_*):
 * its state, its locks, and the helpers its source files share
 * (monitor.c: lifecycle, sampler thread and tick; monitor_app.c: application
 * records; monitor_render.c: status and rendering; monitor_fork.c: fork
 * safety).
 *
 * Locks (per monitor), always taken in this order, never the other way:
 *   app_lock  -> serialises every call into the registry, so that at fork
 *                time no thread is inside the registry (its own mutex is
 *                then free in the child);
 *   lock      -> the state: last sample, detectors, event ring, pending
 *                event queue, self stats, the sampler's wake-up condition;
 *   sink_lock -> the recorder and the event log (held only while writing a
 *                line, never across the user's callback).
 * The fork handlers (monitor_fork.c) take the live-monitor list lock and
 * then these three, for every live monitor.
 *
 * Threads: only the sampler thread runs ticks and delivers events (the
 * callback is therefore always called on the sampler thread).
 * mv_monitor_sample_now() asks the sampler thread for a tick and waits.
 * Application events (phases, memory per unit rising) are queued and the
 * sampler thread is woken to deliver them.
 */
#ifndef MV_MONITOR_H
#define MV_MONITOR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"
#include "detect.h"
#include "allocstats.h"
#include "expose.h"
#include "frag.h"
#include "http.h"
#include "leak.h"
#include "livepage.h"
#include "oom_watch.h"
#include "probe.h"
#include "record.h"
#include "registry.h"
#include "series.h"

/* Recent events kept for the JSON status document. */
#define MV_MONITOR_RING 32
/* Application events waiting for the sampler thread; more are dropped. */
#define MV_MONITOR_PENDING 32
/* Subject strings (phase and unit names) are truncated to this size. */
#define MV_MONITOR_SUBJECT 160
/* Ticks over which the sampler's CPU share is measured. */
#define MV_MONITOR_CPU_WINDOW 10
/* Samples of swap over which "swap keeps growing" is judged. */
#define MV_MONITOR_SWAP_WINDOW 6

/* An event plus storage for what its pointers point to. */
typedef struct mv__stored_event {
    mv_event ev;
    int has_sample;
    mv_sample sample;
    char subject[MV_MONITOR_SUBJECT];
    uint64_t oom_gen;            /* 0, or the victim kept in the monitor's
                                    oom_recent under this generation
                                    (mv__monitor_victim): events do not
                                    carry the 1 KiB victim themselves */
} mv__stored_event;

/* OOM kills of the target read from the kernel log and not yet told in an
 * event; more at once are dropped (the oldest). */
#define MV_MONITOR_OOM_QUEUE 8
/* Last victims kept for memvigil_oom_kill_victim_rss_bytes and for the
 * events that name them. A tick tells at most 3 (monitor.c), fewer than
 * this, so a tick's victims stay put until they are delivered. */
#define MV_MONITOR_OOM_RECENT 4

struct mv_monitor {
    /* ---- configuration (immutable after start; owned copies) ---- */
    mv_config cfg;               /* string fields point at the copies below */
    char *s_proc_root, *s_cgroup_root, *s_cgroup, *s_event_log, *s_record_path,
        *s_record_command, *s_http_listen, *s_http_token, *s_alloc_stats_file;
    int32_t *pids;               /* owned; npids entries (pid 0 resolved) */
    size_t npids;
    mv__probe_opts popts;
    mv__probe_session *ps;      /* kept descriptors; used by the sampler
                                   thread only (created in start) */
    mv__level_cfg lcfg;
    int64_t base_interval_ms;    /* the configured interval */

    /* ---- locks (see the file comment for the order) ---- */
    pthread_mutex_t app_lock;
    pthread_mutex_t lock;
    pthread_mutex_t sink_lock;
    pthread_cond_t wake;         /* sampler sleeps on this (CLOCK_MONOTONIC) */
    pthread_cond_t done;         /* sample_now waits on this */

    /* ---- thread (guarded by lock) ---- */
    pthread_t thread;
    int thread_started;          /* pthread_create succeeded (join at stop) */
    int stopping;
    uint64_t tick_req;           /* tick requests by sample_now */
    uint64_t tick_done;          /* requests served */
    int tick_result;             /* result of the last served tick */
    int inherited;               /* 1 in a fork child: no thread, no sinks */

    /* ---- state (guarded by lock) ---- */
    mv_sample last;              /* last good sample */
    int have_last;
    int64_t first_mono_ms;       /* first sample's monotonic time */
    int64_t start_time_ticks;    /* the target's, for PID reuse */
    mv__series *series;          /* private bytes over time */
    mv__live_ring *live;         /* recent compact samples for the live page
                                    (NULL without an HTTP endpoint) */
    mv__level_state lstate;
    mv__growth growth;
    double time_to_limit_s;
    int target_alive;
    int64_t samples_taken;
    int64_t interval_ms;         /* current (lengthened by the budget) */
    mv__self_stats self;

    mv__leak_detector *leak;     /* leak detector over series (owned) */
    mv__leak_result leak_res;    /* its current result */
    mv__frag_detector *frag;     /* allocator diagnosis (owned); NULL when
                                    no allocator figures can exist */
    mv__frag_result frag_res;    /* its current result */
    int64_t last_trim_ms;        /* periodic trim: when it last ran (0 never;
                                    sampler thread only) */
    /* own-allocator readings, spaced by their cost (monitor_alloc.c;
     * sampler thread only) */
    mv__alloc_stats alloc_last;  /* the last reading (its arena count is
                                    reused until the next count) */
    int64_t alloc_next_us;       /* monotonic time of the next reading */
    int64_t alloc_arenas_next_us;/* ... and of the next arena count */
    int64_t alloc_file_mtime_ns; /* alloc_stats_file's last reading */
    mv__alloc_stats alloc_shown; /* the last reading of either source, for
                                    the exposition's gauges (samples carry
                                    only fresh readings); guarded by lock */
    int oom_risk_active;         /* leak_res.risk.active as last told by an
                                    oom_risk / oom_risk_cleared event */
    int growth_armed;            /* 1: a growth event may be raised */
    int growth_held;             /* growth seen while a phase was active */
    char held_phases[MV_MONITOR_SUBJECT]; /* phases active during it */
    int swap_armed;
    int64_t swap_hist[MV_MONITOR_SWAP_WINDOW];
    size_t swap_n;               /* valid entries in swap_hist (newest last) */
    int error_armed;             /* 1: next probe error raises an event */

    /* CPU share window: per tick, its start (mono us) and CPU used (us) */
    int64_t cpu_t0_us[MV_MONITOR_CPU_WINDOW];
    int64_t cpu_used_us[MV_MONITOR_CPU_WINDOW];
    size_t cpu_n, cpu_head;

    mv__stored_event ring[MV_MONITOR_RING]; /* recent events, circular */
    size_t ring_head, ring_n;    /* ring_head: next slot to write */
    mv__stored_event pending[MV_MONITOR_PENDING]; /* queued app events */
    size_t pending_n;

    /* ---- OOM-kill forensics (guarded by lock, but oomw: sampler thread
     * only) ---- */
    mv__oom_watch *oomw;         /* the kernel log and vmstat; NULL when
                                    cfg.kmsg_path is "" (owned) */
    mv_oom_kill oom_queue[MV_MONITOR_OOM_QUEUE]; /* the target's kills read
                                    from the log, not yet told (oldest first) */
    size_t oom_queue_n;
    int oom_queue_age[MV_MONITOR_OOM_QUEUE]; /* ticks each has waited */
    int64_t oom_unnamed;         /* kills the cgroup counter told without a
                                    victim (the log line came late) */
    mv_oom_kill oom_recent[MV_MONITOR_OOM_RECENT]; /* last victims told: a
                                    ring, generation g in slot
                                    (g - 1) % MV_MONITOR_OOM_RECENT */
    uint64_t oom_gen;            /* generation of the last victim; 0 none */
    int64_t host_oom_kills;      /* /proc/vmstat oom_kill; MV_NA */

    /* ---- components ---- */
    mv__registry *reg;           /* own lock; called under app_lock */
    mv__recorder *rec;           /* sampler thread only, under sink_lock */
    mv__linefile *log;           /* the event log (record.h): a size-capped
                                    file, or stderr for "-" (not owned);
                                    NULL for none */
    mv__http *http;              /* NULL when no endpoint */

    /* ---- the process-wide live list (monitor_fork.c) ---- */
    struct mv_monitor *live_next;
};

/* ---- monitor_fork.c ---- */

/* Registers the fork handlers once and adds m to the live list. */
void mv__monitor_live_add(mv_monitor *m);
/* Removes m from the live list (no-op when absent). */
void mv__monitor_live_remove(mv_monitor *m);

/* ---- monitor.c ---- */

/* Initialises m's mutexes and condition variables afresh (the condition
 * variables on CLOCK_MONOTONIC). Used at start and in the fork child. */
void mv__monitor_reinit_locks(mv_monitor *m);

/* Queues an application event for the sampler thread and wakes it. The
 * event's sample is the last sample. Caller must NOT hold m->lock. */
void mv__monitor_queue_event(mv_monitor *m, mv_event_kind kind,
                             const char *subject, const char *message);

/* The victim kept under generation gen in ring (a copy of oom_recent whose
 * last generation is last_gen), or NULL when gen is 0 or overwritten. */
const mv_oom_kill *mv__monitor_victim(const mv_oom_kill *ring,
                                      uint64_t last_gen, uint64_t gen);
/* Fills *se as an event of kind with the sample s (may be NULL) and
 * message (NULL: described from the kind). Caller holds m->lock. */
void mv__monitor_event(mv_monitor *m, mv__stored_event *se, mv_event_kind kind,
                       const mv_sample *s, const char *message);

/* ---- monitor_alloc.c ---- */

/* 1 when the monitor watches its own process (its allocator is readable). */
int mv__monitor_alloc_self(const mv_monitor *m);
/* Fills s's alloc_* fields: this process's allocator, or the
 * cfg.alloc_stats_file; left n/a otherwise. Sampler thread (or start). */
void mv__monitor_alloc_fill(mv_monitor *m, mv_sample *s);
/* The current-state view of s (exposition, mv_monitor_status): when s has
 * no allocator reading (readings are spaced by their cost or by the
 * preload's status file), the last one there was, so that the
 * memvigil_alloc_* gauges and the status do not come and go between
 * readings. Caller holds m->lock. */
void mv__monitor_alloc_shown(const mv_monitor *m, mv_sample *s);
/* The allocator diagnosis's tick: MV_EVENT_FRAGMENTATION when a verdict
 * begins, MV_EVENT_FRAGMENTATION_CLEARED when it ends (at most one event
 * appended). Caller holds m->lock. */
void mv__monitor_rule_frag(mv_monitor *m, const mv_sample *s,
                           mv__stored_event *evs, size_t *nev);
/* 1 when the leak verdict's rise is the allocator's (the heap in use was
 * flat over the verdict's window): its leak events are not raised. Caller
 * holds m->lock. */
int mv__monitor_leak_is_allocator(const mv_monitor *m, int64_t now_ms);
/* The opt-in periodic trim (cfg.trim_interval_ms), outside phases; returns
 * 1 when it freed memory (then *se is its MV_EVENT_TRIM). Sampler thread;
 * caller must NOT hold m->lock. */
int mv__monitor_periodic_trim(mv_monitor *m, int nphases, int64_t now_ms,
                              mv__stored_event *se);

/* ---- monitor_render.c ---- */

/* Render callback handed to the HTTP endpoint; ctx is the monitor. */
int mv__monitor_http_render(void *ctx, mv_format fmt, mv_buf *out);
/* The live page's callbacks (livepage.h); ctx is the monitor. */
int mv__monitor_http_samples(void *ctx, int64_t since_ms, mv_buf *out);
int mv__monitor_http_page(void *ctx, mv_buf *out);

/* ---- monitor_heap.c ---- */

/* The library's /debug/pprof/heap (an mv_http_handler_fn; ctx is the
 * monitor): the preload's profile of this process, or a 404 that says why
 * there is none. Any worker thread. */
int mv__monitor_heap_pprof(void *ctx, const mv_http_request *req,
                           mv_http_reply *reply);
/* /debug/pprof/symbol as Go serves it, for go tool pprof's remote
 * symbolization of what it cannot symbolize locally: GET says
 * "num_symbols: 1"; POST "0xADDR+0xADDR..." gets "0xADDR name" lines for
 * the addresses of this process that dladdr names. Any worker thread. */
int mv__monitor_pprof_symbol(void *ctx, const mv_http_request *req,
                             mv_http_reply *reply);
/* Its body bound: pprof posts one mapping's unsymbolized addresses, ~20
 * bytes each; 1 MiB is some 50000 of them. */
#define MV_PPROF_SYMBOL_MAX_BODY ((size_t)1 << 20)

/* The monitor's rule for the OOM-risk claim (urgency), apart from the leak
 * verdict: when r->active differs from *was_active, updates *was_active and
 * makes ev (its kind, figures and message; the rest is the caller's) an
 * MV_EVENT_OOM_RISK ("out of memory in about <eta>: <r->evidence>") or an
 * MV_EVENT_OOM_RISK_CLEARED ("out-of-memory risk cleared: <evidence>"),
 * growth and time to limit from r; returns 1. Returns 0 (ev untouched) when
 * nothing changed. Pure. */
int mv__monitor_oom_risk_event(int *was_active, const mv__oom_risk *r,
                               mv_event *ev);
/* The monitor's rule for the leak verdict's events: the kind a change of
 * verdict from was to now raises, MV_EVENT_KIND_COUNT for none.
 * MV_EVENT_LEAK on reaching leak, MV_EVENT_LEAK_SUSPECTED on reaching
 * suspect (not when a leak fades to suspect), MV_EVENT_LEAK_CLEARED on
 * reaching no_leak from suspect or leak. Pure. */
mv_event_kind mv__monitor_leak_event_kind(mv__leak_verdict was,
                                          mv__leak_verdict now);

#endif /* MV_MONITOR_H */
