/*
 * monitor.c — the monitor's lifecycle and its sampler thread: configuration
 * checks and copies, start (first sample taken synchronously, then endpoint,
 * event log, recorder, thread), the tick (probe -> series -> detectors ->
 * events -> sinks), the monitor's measurement of its own cost, and stop.
 *
 * DESIGN
 * Only the sampler thread runs ticks and delivers events, so the recorder
 * and the event log have a single writer and the user's callback is always
 * called on the sampler thread, with no monitor lock held (it may call any
 * mv_* function except mv_monitor_stop()). mv_monitor_sample_now() asks the
 * thread for a tick and waits for it; called from the callback itself it
 * runs the tick inline. Application events (phases, memory per unit) are
 * queued by the calling thread and delivered by the sampler thread, which is
 * woken at once. The thread sleeps with pthread_cond_timedwait on
 * CLOCK_MONOTONIC, so stop wakes it immediately and wall-clock jumps do not
 * disturb the schedule.
 *
 * Detector choices (documented here because they are policy, not maths):
 *  - Levels: usage_ratio of each sample; level_min_duration_ms < 0 (the
 *    mv_config_init default, -1) means 2 x interval_ms; 0 means at once.
 *  - Growth: mv__growth_now() over private memory since the first sample:
 *    the newest hour, or 24 samples at coarse sampling (mv__growth_now_window_ms;
 *    everything held when the monitor has run for less
 *    than an hour, so a young monitor gives a slope as soon as the
 *    detector has its minimum number of buckets), or the last 10 minutes
 *    once growth has visibly dropped, so a plateau shows within minutes.
 *    It is the one estimator live figures quote (status, metrics, the
 *    recording's sample lines, GROWTH). Time to limit compares the
 *    quantity the usage ratio uses (mv__sample_limit_quantity: working set
 *    in a cgroup with a limit, else RSS) with the effective limit at that
 *    slope.
 *  - MV_EVENT_GROWTH: growth valid, the slope's lower confidence bound > 0
 *    and a time to limit under 24 h. Raised once; re-armed when the lower
 *    bound drops to <= 0 (growth stopped) or the estimate becomes invalid.
 *    While an application phase is active the event is held back; if growth
 *    still holds when no phase is active it is raised with the names of the
 *    phases it was held during (subject and message).
 *  - MV_EVENT_SWAP_GROWING: over the last 6 samples the target's swap
 *    (process VmSwap, else the cgroup's) never fell, rose in at least 3 of
 *    the 5 steps and by at least 4 MiB in all. Raised once; re-armed when
 *    swap falls.
 *  - MV_EVENT_OOM_KILL: the cgroup's oom_kill count is higher than in the
 *    previous sample, or, read once when the target has gone, than in
 *    its last sample (the kill that took it). The kernel log
 *    (cfg.kmsg_path, oom_watch.h) is read on every tick right after the
 *    probe; its kill reports that concern the target (the victim is a
 *    target pid, or ran in the target's cgroup or below:
 *    mv__oom_kill_in_target) are queued, and the next oom_kill event
 *    names the oldest (ev.oom_kill: pid, comm, RSS at the kill). Where no
 *    counter exists (no cgroup, v1 without oom_kill), or a report waited
 *    OOM_WAIT_TICKS ticks with no rise to go with it, the report is its own
 *    oom_kill event (at most OOM_EVENTS_PER_TICK per tick); one that comes
 *    after its counter's event (the counter rises a few lines before the
 *    kernel prints the kill) only joins the recent victims. A kernel log
 *    that cannot be read is told once as MV_EVENT_PROBE_ERROR, and kills
 *    are then counted from the counters alone.
 *  - -ESRCH from the probe gives MV_EVENT_TARGET_EXIT; a changed start time
 *    for the same PID gives MV_EVENT_PID_REUSE. Both keep the last good
 *    sample, clear target_alive and stop sampling (the thread stays, to
 *    deliver application events, until mv_monitor_stop()).
 *  - Other probe errors are counted (self.errors); MV_EVENT_PROBE_ERROR is
 *    raised on the first failure after a success, not on every tick.
 *  - Leak: mv__leak_tick() over the private-memory series after every push
 *    (it recomputes once a minute of series time), with the effective limit
 *    of the sample and phase_active while the registry has an active phase
 *    (verdicts are held then). Verdict transitions raise
 *    MV_EVENT_LEAK_SUSPECTED (-> suspect), MV_EVENT_LEAK (-> leak) and
 *    MV_EVENT_LEAK_CLEARED (suspect/leak -> no_leak), with the detector's
 *    evidence sentence as message. The verdict says WHY (cause) and needs
 *    hours of growth (the leak patience, cfg.leak_min_rise_ms: 19 h of rise
 *    by default, in a process 2 h old).
 *  - OOM risk, the urgency claim (DESIGN.md "Two claims"), is apart from
 *    the verdict and not gated by it: the detector's result carries
 *    risk.active ("at the current rate the effective limit is reached
 *    within cfg.oom_risk_horizon_ms, 12 h by default"), raised early whatever the cause and
 *    cleared as soon as the rate drops. The monitor follows it on every
 *    tick: risk.active 0 -> 1 raises MV_EVENT_OOM_RISK ("out of memory in
 *    about <eta>: <risk evidence>"), 1 -> 0 raises
 *    MV_EVENT_OOM_RISK_CLEARED; both carry the risk's growth and ETA.
 *    Once per spell: the detector's own hysteresis decides the spell.
 *  - Recording: MV_EVENT_RECORDING_FAILED when its lines begin to be lost
 *    (a full disk: the message names the file and the error),
 *    MV_EVENT_RECORDING_RESUMED when a tick's lines are written again (with
 *    the count lost meanwhile): once per spell, never once per lost line.
 *    The count is self.recording_lines_lost.
 *  - CPU budget: the sampler thread's CPU time (the user's callback
 *    excluded) over the last 10 ticks divided by the wall time they spanned;
 *    above cpu_budget the interval doubles (at most 60 x the configured one)
 *    and MV_EVENT_BUDGET says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "monitor.h"
#include "oom_report.h"
#include "util.h"
#include "util_guest.h"

/* Events one tick can raise (level, growth, oom, swap, exit, budget, the
 * kernel log's kills and notice, the allocator diagnosis...). */
#define TICK_EVENTS 12
/* Kills read from the kernel log told on their own per tick at most (more
 * wait for the next tick). */
#define OOM_EVENTS_PER_TICK 2
/* Ticks a kill read from the log waits for the cgroup counter to rise
 * before it is told on its own. */
#define OOM_WAIT_TICKS 2
/* A tick remembers at most one victim for the counter's event and
 * OOM_EVENTS_PER_TICK from the log: its victims are still held when the
 * tick delivers its events (mv__monitor_victim). */
_Static_assert(1 + OOM_EVENTS_PER_TICK < MV_MONITOR_OOM_RECENT,
               "a tick's victims must fit in oom_recent");
/* A growth event needs the limit to be reached within this. */
#define GROWTH_HORIZON_S (24.0 * 3600.0)
/* The budget may lengthen the interval up to this factor. */
#define BUDGET_MAX_FACTOR 60
/* CPU share is judged only with this many ticks in the window. */
#define BUDGET_MIN_TICKS 5
/* Swap growth: minimum total rise over the window, and rising steps. */
#define SWAP_MIN_RISE_BYTES (4LL << 20)
#define SWAP_MIN_RISING_STEPS 3
/* Longest accepted interval (a year): keeps now + interval, 2 x interval and
 * the budget's 60 x interval far from int64 overflow (an overflowed deadline
 * would make the sampler tick in a tight loop). */
#define MAX_INTERVAL_MS (365LL * 24 * 3600 * 1000)

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- configuration --------------------------------------------------- */

void mv_config_init(mv_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->pid = 0;
    cfg->proc_root = "/proc";
    cfg->cgroup_root = "/sys/fs/cgroup";
    /* 10 s: a leak that matters takes minutes to hours; finer sampling only
     * costs CPU. */
    cfg->interval_ms = 10000;
    cfg->smaps_rollup = 0;
    cfg->smaps_max_vm_bytes = 64LL << 30;
    cfg->warning_ratio = 0.80;
    cfg->critical_ratio = 0.90;
    cfg->hysteresis_ratio = 0.05;
    /* -1: "2 x interval_ms", resolved at start (see the file comment). */
    cfg->level_min_duration_ms = -1;
    cfg->cpu_budget = 0.01;
    cfg->max_series_per_family = 1000;
    cfg->process_metrics = 1;
    cfg->limit_bytes = 0; /* no configured budget: the kernel's limits */
}

static int config_check(const mv_config *c)
{
    if (c->interval_ms < 100 || c->interval_ms > MAX_INTERVAL_MS)
        return -EINVAL;
    if (!(c->warning_ratio > 0.0) || !(c->critical_ratio > c->warning_ratio) ||
        !(c->critical_ratio <= 1.0))
        return -EINVAL;
    if (!(c->hysteresis_ratio >= 0.0) || !(c->hysteresis_ratio < c->warning_ratio))
        return -EINVAL;
    if (!(c->cpu_budget > 0.0) || !(c->cpu_budget <= 1.0))
        return -EINVAL;
    if (c->max_series_per_family <= 0)
        return -EINVAL;
    if (c->level_min_duration_ms < -1)
        return -EINVAL;
    if (c->smaps_max_vm_bytes < 0)
        return -EINVAL;
    if (c->limit_bytes < 0)
        return -EINVAL;
    if ((c->alloc_stats_file && !c->alloc_stats_file[0]) ||
        (c->alloc_window_ms != 0 && c->alloc_window_ms < 1000))
        return -EINVAL;
    /* a periodic trim only of the process the monitor runs in */
    if (c->trim_interval_ms != 0 &&
        (c->trim_interval_ms < 1000 || c->cgroup || c->npids > 1 ||
         (c->npids == 1 && c->pids && c->pids[0] != 0 &&
          c->pids[0] != (int32_t)getpid()) ||
         (c->npids == 0 && c->pid != 0 && c->pid != (int32_t)getpid())))
        return -EINVAL;
    if (c->leak_min_rise_ms < 0 || c->oom_risk_horizon_ms < 0)
        return -EINVAL;
    if (c->npids > 0) {
        if (!c->pids)
            return -EINVAL;
        for (size_t i = 0; i < c->npids; i++)
            if (c->pids[i] < 0)
                return -EINVAL;
    } else if (c->pid < 0) {
        return -EINVAL;
    }
    if (c->cgroup && !c->cgroup[0])
        return -EINVAL;
    if (c->http_listen && !c->http_listen[0])
        return -EINVAL;
    if (c->event_log && !c->event_log[0])
        return -EINVAL;
    if (c->record_path && !c->record_path[0])
        return -EINVAL;
    /* rotation: 0 = default, else in range (record.h) */
    if ((c->record_max_bytes != 0 &&
         c->record_max_bytes < MV_RECORD_MIN_MAX_BYTES) ||
        (c->event_log_max_bytes != 0 &&
         c->event_log_max_bytes < MV_RECORD_MIN_MAX_BYTES) ||
        c->record_keep < 0 || c->record_keep > MV_RECORD_MAX_KEEP ||
        c->event_log_keep < 0 || c->event_log_keep > MV_RECORD_MAX_KEEP)
        return -EINVAL;
    return 0;
}

static int config_copy(mv_monitor *m, const mv_config *c)
{
    m->cfg = *c;
    if (!c->proc_root)
        m->cfg.proc_root = "/proc";
    if (!c->cgroup_root)
        m->cfg.cgroup_root = "/sys/fs/cgroup";
    if (mv__strdup_opt(m->cfg.proc_root, &m->s_proc_root) ||
        mv__strdup_opt(m->cfg.cgroup_root, &m->s_cgroup_root) ||
        mv__strdup_opt(c->cgroup, &m->s_cgroup) ||
        mv__strdup_opt(c->event_log, &m->s_event_log) ||
        mv__strdup_opt(c->record_path, &m->s_record_path) ||
        mv__strdup_opt(c->record_command, &m->s_record_command) ||
        mv__strdup_opt(c->http_listen, &m->s_http_listen) ||
        mv__strdup_opt(c->http_token, &m->s_http_token) ||
        mv__strdup_opt(c->alloc_stats_file, &m->s_alloc_stats_file))
        return -ENOMEM;
    m->cfg.alloc_stats_file = m->s_alloc_stats_file;
    m->cfg.proc_root = m->s_proc_root;
    m->cfg.cgroup_root = m->s_cgroup_root;
    m->cfg.cgroup = m->s_cgroup;
    m->cfg.event_log = m->s_event_log;
    m->cfg.record_path = m->s_record_path;
    m->cfg.record_command = m->s_record_command;
    m->cfg.http_listen = m->s_http_listen;
    m->cfg.http_token = m->s_http_token;
    /* routes are copied by the endpoint at start; none kept here */
    m->cfg.http_routes = NULL;
    m->cfg.http_nroutes = 0;

    m->npids = c->npids > 0 ? c->npids : 1;
    m->pids = calloc(m->npids, sizeof *m->pids);
    if (!m->pids)
        return -ENOMEM;
    for (size_t i = 0; i < m->npids; i++) {
        int32_t p = c->npids > 0 ? c->pids[i] : c->pid;
        m->pids[i] = p == 0 ? (int32_t)getpid() : p;
    }
    m->cfg.pids = m->pids;
    m->cfg.npids = c->npids;
    m->cfg.pid = m->pids[0];

    mv__probe_opts_init(&m->popts);
    m->popts.proc_root = m->s_proc_root;
    m->popts.cgroup_root = m->s_cgroup_root;
    m->popts.smaps_rollup = c->smaps_rollup;
    m->popts.smaps_max_vm_bytes = c->smaps_max_vm_bytes;

    m->lcfg.warning_ratio = c->warning_ratio;
    m->lcfg.critical_ratio = c->critical_ratio;
    m->lcfg.hysteresis_ratio = c->hysteresis_ratio;
    m->lcfg.min_duration_ms = c->level_min_duration_ms < 0
                                  ? 2 * c->interval_ms
                                  : c->level_min_duration_ms;
    m->base_interval_ms = c->interval_ms;
    m->interval_ms = c->interval_ms;
    return 0;
}

/* ---- events ---------------------------------------------------------- */

/* Points ev's pointers at the stored copies (after the struct moved). */
static void stored_fix(mv__stored_event *se)
{
    se->ev.sample = se->has_sample ? &se->sample : NULL;
    se->ev.subject = se->subject[0] ? se->subject : NULL;
}

const mv_oom_kill *mv__monitor_victim(const mv_oom_kill *ring,
                                      uint64_t last_gen, uint64_t gen)
{
    if (!ring || gen == 0 || gen > last_gen ||
        last_gen - gen >= MV_MONITOR_OOM_RECENT)
        return NULL;
    return &ring[(gen - 1) % MV_MONITOR_OOM_RECENT];
}

/* The last good sample, for events raised without a new one. */
static const mv_sample *last_sample(const mv_monitor *m)
{
    return m->have_last ? &m->last : NULL;
}

/* Builds an event from the current state. Caller holds m->lock. message
 * NULL: the standard description of mv__event_describe(). */
static void make_event(mv_monitor *m, mv__stored_event *se, mv_event_kind kind,
                       const mv_sample *s, const char *subject,
                       const char *message)
{
    memset(se, 0, sizeof *se);
    se->ev.kind = kind;
    se->ev.timestamp_ms = mv__now_wall_ms();
    se->ev.level = m->lstate.level;
    se->ev.prev_level = m->lstate.level;
    se->ev.growth_bytes_per_s = m->growth.valid ? m->growth.bytes_per_s : NAN;
    se->ev.time_to_limit_s = m->time_to_limit_s;
    if (s) {
        se->sample = *s;
        se->has_sample = 1;
    }
    if (subject)
        mv__strlcpy(se->subject, subject, sizeof se->subject);
    stored_fix(se);
    if (message)
        mv__strlcpy(se->ev.message, message, sizeof se->ev.message);
    else
        mv__event_describe(&se->ev);
}

void mv__monitor_queue_event(mv_monitor *m, mv_event_kind kind,
                             const char *subject, const char *message)
{
    pthread_mutex_lock(&m->lock);
    if (m->pending_n < MV_MONITOR_PENDING && !m->stopping) {
        make_event(m, &m->pending[m->pending_n++], kind,
                   last_sample(m), subject, message);
        pthread_cond_signal(&m->wake);
    } else {
        m->self.events_dropped++;
    }
    pthread_mutex_unlock(&m->lock);
}

/* Delivers events: callback (no lock held), event log and recorder (under
 * sink_lock), recent-event ring (under lock). Returns the CPU time spent in
 * the user's callback, in microseconds, so the budget can leave it out. */
static int64_t deliver(mv_monitor *m, mv__stored_event *evs, size_t n)
{
    int64_t cb_cpu = 0;
    int64_t log_dropped = 0;
    uint64_t rec_lost = 0;
    mv_buf line = {0};

    for (size_t i = 0; i < n; i++) {
        mv__stored_event *se = &evs[i];
        stored_fix(se);
        /* the sampler thread is the only writer of oom_recent, and a tick
         * tells fewer victims than it holds: the pointer stays valid */
        se->ev.oom_kill = mv__monitor_victim(m->oom_recent, m->oom_gen,
                                             se->oom_gen);
        if (m->cfg.on_event) {
            int64_t c0 = mv__thread_cpu_us();
            m->cfg.on_event(&se->ev, m->cfg.userdata);
            cb_cpu += mv__thread_cpu_us() - c0;
        }
        pthread_mutex_lock(&m->sink_lock);
        if (m->log) {
            mv__buf_reset(&line);
            if (mv__event_to_json(&se->ev, &line) == 0 &&
                mv__buf_append(&line, "\n", 1) == 0 &&
                mv__linefile_write(m->log, line.data, line.len) != 0)
                log_dropped++;
        }
        if (m->rec) {
            mv__recorder_event(m->rec, &se->ev);
            rec_lost = mv__recorder_lost(m->rec);
        }
        pthread_mutex_unlock(&m->sink_lock);

        pthread_mutex_lock(&m->lock);
        if (m->self.recording)
            m->self.recording_lines_lost = rec_lost;
        m->ring[m->ring_head] = *se;
        stored_fix(&m->ring[m->ring_head]);
        m->ring[m->ring_head].ev.oom_kill = NULL; /* resolved when rendered */
        m->ring_head = (m->ring_head + 1) % MV_MONITOR_RING;
        if (m->ring_n < MV_MONITOR_RING)
            m->ring_n++;
        m->self.events_dropped += log_dropped;
        log_dropped = 0;
        pthread_mutex_unlock(&m->lock);
    }
    mv_buf_release(&line);
    return cb_cpu;
}

/* ---- detectors over one probe result --------------------------------- */

/* What the recorder writes beside a sample. */
typedef struct tick_view {
    int record;              /* a new sample was accepted */
    mv_sample sample;
    mv_level level;
    double growth_bps;
    double ttl_s;
} tick_view;

static int64_t swap_of(const mv_sample *s)
{
    if (s->swap_bytes != MV_NA)
        return s->swap_bytes;
    return s->cg_swap_bytes;
}

/* Caller holds m->lock. Returns 1 when swap keeps growing (see above). */
static int swap_rule(mv_monitor *m, const mv_sample *s)
{
    int64_t v = swap_of(s);
    if (v == MV_NA || v < 0) {
        m->swap_n = 0;
        return 0;
    }
    if (m->swap_n > 0 && v < m->swap_hist[m->swap_n - 1])
        m->swap_armed = 1; /* swap fell: growth stopped */
    if (m->swap_n == MV_MONITOR_SWAP_WINDOW) {
        memmove(m->swap_hist, m->swap_hist + 1,
                (MV_MONITOR_SWAP_WINDOW - 1) * sizeof m->swap_hist[0]);
        m->swap_n--;
    }
    m->swap_hist[m->swap_n++] = v;
    if (m->swap_n < MV_MONITOR_SWAP_WINDOW)
        return 0;
    int rising = 0;
    for (size_t i = 1; i < m->swap_n; i++) {
        if (m->swap_hist[i] < m->swap_hist[i - 1])
            return 0;
        if (m->swap_hist[i] > m->swap_hist[i - 1])
            rising++;
    }
    return rising >= SWAP_MIN_RISING_STEPS &&
           m->swap_hist[m->swap_n - 1] - m->swap_hist[0] >= SWAP_MIN_RISE_BYTES;
}

/* Appends name to the comma list in out unless already there. */
static void add_names(char *out, size_t n, const char *names)
{
    char tmp[MV_MONITOR_SUBJECT];
    mv__strlcpy(tmp, names, sizeof tmp);
    for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        size_t tl = strlen(tok);
        for (const char *p = out; (p = strstr(p, tok)) != NULL; p += tl) {
            if ((p == out || p[-1] == ',') && (p[tl] == ',' || p[tl] == 0)) {
                found = 1;
                break;
            }
        }
        if (found)
            continue;
        size_t len = strlen(out);
        if (len + (len ? 1 : 0) + tl + 1 > n)
            break;
        if (len)
            out[len++] = ',';
        memcpy(out + len, tok, tl + 1);
    }
}

int mv__monitor_oom_risk_event(int *was_active, const mv__oom_risk *r,
                               mv_event *ev)
{
    int now = r->active != 0;
    if (now == *was_active)
        return 0;
    *was_active = now;
    ev->kind = now ? MV_EVENT_OOM_RISK : MV_EVENT_OOM_RISK_CLEARED;
    ev->growth_bytes_per_s = r->growth_bytes_per_h / 3600.0;
    ev->time_to_limit_s = r->eta_s;
    if (!r->evidence[0]) {
        mv__event_describe(ev); /* the standard sentence */
    } else if (now) {
        char eta[40];
        snprintf(ev->message, sizeof ev->message,
                 "out of memory in about %s: %.250s",
                 mv__human_eta(r->eta_s, eta, sizeof eta), r->evidence);
    } else {
        snprintf(ev->message, sizeof ev->message,
                 "out-of-memory risk cleared: %.250s", r->evidence);
    }
    return 1;
}

/* A leak event carrying the verdict's figures and evidence. Caller holds
 * m->lock. */
void mv__monitor_event(mv_monitor *m, mv__stored_event *se, mv_event_kind kind,
                       const mv_sample *s, const char *message)
{
    make_event(m, se, kind, s, NULL, message);
}

static void leak_event(mv_monitor *m, mv__stored_event *se, mv_event_kind kind,
                       const mv_sample *s)
{
    const mv__leak_result *lr = &m->leak_res;
    char msg[320];
    if (kind == MV_EVENT_LEAK_CLEARED)
        snprintf(msg, sizeof msg, "leak verdict cleared: %.290s", lr->evidence);
    else
        mv__strlcpy(msg, lr->evidence, sizeof msg);
    make_event(m, se, kind, s, NULL, msg[0] ? msg : NULL);
    se->ev.growth_bytes_per_s = lr->growth_bytes_per_h / 3600.0;
    se->ev.time_to_limit_s = lr->eta_s;
}

/* ---- the tick's event rules ------------------------------------------
 *
 * One function per rule (the policy is in the file comment), called by
 * collect() in this order, which is the order of the tick's events. Each
 * appends its event to evs[*nev] and advances *nev; the caller holds
 * m->lock. The rules before the sample is accepted (target exit, probe
 * error, PID reuse) end the tick; the others see the new sample s. */

/* ---- OOM-kill forensics: the kernel log's reports ---- */

/* What one tick read from the kernel log (oom_poll_read, no lock held). */
typedef struct oom_poll {
    mv_oom_kill kills[MV_MONITOR_OOM_QUEUE];
    size_t n;
    int has_notice;
    char notice[300];
    int64_t host_kills;
} oom_poll;

/* Sampler thread, no lock: the log's new kill reports, a notice to give,
 * the host's counter. */
static void oom_poll_read(mv_monitor *m, oom_poll *op)
{
    op->n = 0;
    op->has_notice = 0;
    op->host_kills = MV_NA;
    if (!m->oomw)
        return;
    op->n = mv__oom_watch_poll(m->oomw, op->kills, MV_MONITOR_OOM_QUEUE);
    op->has_notice = mv__oom_watch_take_notice(m->oomw, op->notice,
                                               sizeof op->notice);
    op->host_kills = mv__oom_watch_host_kills(m->oomw);
}

/* Keeps k among the recent victims (the metric's, the events'),
 * overwriting the oldest; returns its generation. */
static uint64_t remember_victim(mv_monitor *m, const mv_oom_kill *k)
{
    uint64_t gen = ++m->oom_gen;
    m->oom_recent[(gen - 1) % MV_MONITOR_OOM_RECENT] = *k;
    return gen;
}

/* Queues k for the next oom_kill event; the oldest goes when full.
 * Caller holds m->lock. */
static void oom_queue_push(mv_monitor *m, const mv_oom_kill *k)
{
    if (m->oom_queue_n == MV_MONITOR_OOM_QUEUE) {
        memmove(&m->oom_queue[0], &m->oom_queue[1],
                (MV_MONITOR_OOM_QUEUE - 1) * sizeof m->oom_queue[0]);
        memmove(&m->oom_queue_age[0], &m->oom_queue_age[1],
                (MV_MONITOR_OOM_QUEUE - 1) * sizeof m->oom_queue_age[0]);
        m->oom_queue_n--;
    }
    m->oom_queue_age[m->oom_queue_n] = 0;
    m->oom_queue[m->oom_queue_n++] = *k;
}

int mv_monitor_oom_kill(mv_monitor *m, const mv_oom_kill *k)
{
    if (!m || !k || k->pid <= 0)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    mv_oom_kill copy = *k;  /* terminate what the caller may not have */
    copy.comm[sizeof copy.comm - 1] = '\0';
    copy.task_cgroup[sizeof copy.task_cgroup - 1] = '\0';
    copy.oom_cgroup[sizeof copy.oom_cgroup - 1] = '\0';
    pthread_mutex_lock(&m->lock);
    oom_queue_push(m, &copy);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

/* Queues the polled kills that concern the target (cgroup: the path of
 * the sample s, else of the last one); the oldest goes when full. */
static void oom_queue_kills(mv_monitor *m, const oom_poll *op,
                            const mv_sample *s)
{
    if (!op)
        return;
    if (op->host_kills != MV_NA)
        m->host_oom_kills = op->host_kills;
    const mv_sample *where = s ? s : last_sample(m);
    const char *path = where && where->cgroup_version != 0 ? where->cgroup_path
                                                           : NULL;
    for (size_t i = 0; i < op->n; i++) {
        if (mv__oom_kill_in_target(&op->kills[i], m->pids, m->npids, path))
            oom_queue_push(m, &op->kills[i]);
    }
}

/* Takes the oldest queued kill into *out; 0 when none. */
static int oom_pop(mv_monitor *m, mv_oom_kill *out)
{
    if (m->oom_queue_n == 0)
        return 0;
    *out = m->oom_queue[0];
    m->oom_queue_n--;
    memmove(&m->oom_queue[0], &m->oom_queue[1],
            m->oom_queue_n * sizeof m->oom_queue[0]);
    memmove(&m->oom_queue_age[0], &m->oom_queue_age[1],
            m->oom_queue_n * sizeof m->oom_queue_age[0]);
    return 1;
}

/* Makes se an oom_kill event for sample s naming the oldest queued victim,
 * if any; prev is the counter before (MV_NA: not from a counter). */
static void raise_oom_kill(mv_monitor *m, mv__stored_event *se,
                           const mv_sample *s, int64_t prev)
{
    make_event(m, se, MV_EVENT_OOM_KILL, s, NULL, NULL);
    int64_t rise = prev != MV_NA && s && s->cg_oom_kill_events != MV_NA
                       ? s->cg_oom_kill_events - prev
                       : 0;
    mv_oom_kill k;
    if (oom_pop(m, &k)) {
        se->oom_gen = remember_victim(m, &k);
        se->ev.oom_kill = mv__monitor_victim(m->oom_recent, m->oom_gen,
                                             se->oom_gen);
        rise--;
    }
    if (rise > 0)
        m->oom_unnamed += rise;
    mv__event_describe_oom(&se->ev, prev);
}

/* The queued kills no counter event took: told on their own where no
 * counter can (none known, or the target has gone: at_exit), or after
 * OOM_WAIT_TICKS; dropped into the recent victims when a counter event
 * already told them without a name. */
static void rule_oom_kmsg(mv_monitor *m, const mv_sample *s, int at_exit,
                          mv__stored_event *evs, size_t *nev)
{
    int counter = s && s->cgroup_version != 0 && s->cg_oom_kill_events != MV_NA;
    int handled = 0;  /* told or kept: each takes a slot of oom_recent */
    while (m->oom_queue_n > 0 && handled < OOM_EVENTS_PER_TICK) {
        handled++;
        if (counter && m->oom_unnamed > 0) {
            mv_oom_kill k;
            (void)oom_pop(m, &k);
            (void)remember_victim(m, &k);
            m->oom_unnamed--;
            continue;
        }
        if (counter && !at_exit && m->oom_queue_age[0] < OOM_WAIT_TICKS)
            break;
        raise_oom_kill(m, &evs[(*nev)++], s, MV_NA);
    }
    for (size_t i = 0; i < m->oom_queue_n; i++)
        m->oom_queue_age[i]++;
}

/* The kernel log cannot be read (or lost records): told once. */
static void rule_oom_notice(mv_monitor *m, const oom_poll *op,
                            mv__stored_event *evs, size_t *nev)
{
    if (!op || !op->has_notice)
        return;
    make_event(m, &evs[(*nev)++], MV_EVENT_PROBE_ERROR, last_sample(m), NULL,
               op->notice);
}

/* The target's cgroup once the target has gone: a kill by the OOM killer
 * takes the process before the next sample, so the count that rose is
 * read here, once, from the cgroup the last sample was in (through the
 * session's open descriptor: its path may not resolve in a container).
 * On the sampler thread, as every tick. */
static void rule_oom_kill_at_exit(mv_monitor *m, mv__stored_event *evs,
                                  size_t *nev)
{
    if (!m->have_last || !m->ps || m->last.cgroup_version == 0 ||
        m->last.cg_oom_kill_events == MV_NA)
        return;
    mv_sample now;
    mv_sample_clear(&now);
    if (mv__probe_session_read_cgroup(m->ps, &now) != 0 ||
        now.cg_oom_kill_events == MV_NA ||
        now.cg_oom_kill_events <= m->last.cg_oom_kill_events)
        return;
    int64_t before = m->last.cg_oom_kill_events;
    m->last.cg_oom_kill_events = now.cg_oom_kill_events;
    raise_oom_kill(m, &evs[(*nev)++], &m->last, before);
}

/* The probe found no target: it exited (or never was). */
static void rule_target_exit(mv_monitor *m, mv__stored_event *evs,
                             size_t *nev)
{
    if (m->target_alive) {
        rule_oom_kill_at_exit(m, evs, nev);
        rule_oom_kmsg(m, last_sample(m), 1, evs, nev);
    }
    m->target_alive = 0;
    make_event(m, &evs[(*nev)++], MV_EVENT_TARGET_EXIT, last_sample(m), NULL,
               NULL);
}

/* Any other probe failure: counted every time, raised only on the first
 * failure after a success (collect re-arms it on every success). */
static void rule_probe_error(mv_monitor *m, int rc, mv__stored_event *evs,
                             size_t *nev)
{
    char msg[320];

    m->self.errors++;
    if (!m->error_armed)
        return;
    m->error_armed = 0;
    snprintf(msg, sizeof msg, "sampling failed: %s", mv_strerror(rc));
    make_event(m, &evs[(*nev)++], MV_EVENT_PROBE_ERROR, last_sample(m), NULL,
               msg);
}

/* The target's PID now names another process (a changed start time):
 * watching stops. Returns 1 then. */
static int rule_pid_reuse(mv_monitor *m, const mv_sample *s,
                          mv__stored_event *evs, size_t *nev)
{
    char msg[320];

    if (m->start_time_ticks == MV_NA || s->start_time_ticks == MV_NA ||
        s->start_time_ticks == m->start_time_ticks)
        return 0;
    m->target_alive = 0;
    snprintf(msg, sizeof msg,
             "pid %d now names another process (start time %lld, was %lld); "
             "watching stopped", (int)s->pid,
             (long long)s->start_time_ticks, (long long)m->start_time_ticks);
    make_event(m, &evs[(*nev)++], MV_EVENT_PID_REUSE, last_sample(m), NULL,
               msg);
    return 1;
}

/* Accepts s as the last good sample and feeds its private memory to the
 * series (growth and leak read it). */
static void accept_sample(mv_monitor *m, const mv_sample *s)
{
    m->last = *s;
    m->have_last = 1;
    m->samples_taken++;
    if (m->samples_taken == 1)
        m->first_mono_ms = s->monotonic_ms;
    if (s->private_bytes != MV_NA)
        mv__series_push(m->series, s->monotonic_ms, (double)s->private_bytes);
}

/* The usage ratio's level changed (after its minimum duration). */
static void rule_level(mv_monitor *m, const mv_sample *s,
                       mv__stored_event *evs, size_t *nev)
{
    mv_level prev_level;

    if (!mv__level_update(&m->lstate, &m->lcfg, s->usage_ratio,
                          s->monotonic_ms, &prev_level))
        return;
    mv__stored_event *se = &evs[(*nev)++];
    make_event(m, se, MV_EVENT_LEVEL, s, NULL, NULL);
    se->ev.prev_level = prev_level;
    mv__event_describe(&se->ev);
}

/* The live growth estimate and the time to limit at that slope (what
 * later events, status and the recording quote). */
static void update_growth(mv_monitor *m, const mv_sample *s)
{
    mv__growth g;

    memset(&g, 0, sizeof g);
    if (s->monotonic_ms > m->first_mono_ms &&
        mv__growth_now(m->series, s->monotonic_ms, m->first_mono_ms,
                       &g) == 0 && g.valid) {
        m->growth = g;
        m->time_to_limit_s = mv__time_to_limit(mv__sample_limit_quantity(s),
                                               s->effective_limit_bytes,
                                               g.bytes_per_s);
    } else {
        m->growth.valid = 0;
        m->time_to_limit_s = NAN;
    }
}

/* Growth that reaches the limit within GROWTH_HORIZON_S: once, held back
 * during application phases (and then labelled with them), re-armed when
 * growth stops or the estimate becomes invalid. */
static void rule_growth(mv_monitor *m, const mv_sample *s, int nphases,
                        const char *phases, mv__stored_event *evs, size_t *nev)
{
    int growing = m->growth.valid && m->growth.lo_bytes_per_s > 0 &&
                  isfinite(m->time_to_limit_s) &&
                  m->time_to_limit_s < GROWTH_HORIZON_S;

    if (growing && m->growth_armed) {
        if (nphases > 0) {
            m->growth_held = 1;
            add_names(m->held_phases, sizeof m->held_phases, phases);
            return;
        }
        mv__stored_event *se = &evs[(*nev)++];
        make_event(m, se, MV_EVENT_GROWTH, s,
                   m->growth_held ? m->held_phases : NULL, NULL);
        if (m->growth_held) {
            size_t len = strlen(se->ev.message);
            snprintf(se->ev.message + len, sizeof se->ev.message - len,
                     " (held back during phase %s)", m->held_phases);
        }
        m->growth_armed = 0;
        m->growth_held = 0;
        m->held_phases[0] = 0;
    } else if (!growing &&
               (!m->growth.valid || !(m->growth.lo_bytes_per_s > 0))) {
        m->growth_armed = 1;
        m->growth_held = 0;
        m->held_phases[0] = 0;
    }
}

mv_event_kind mv__monitor_leak_event_kind(mv__leak_verdict was,
                                          mv__leak_verdict now)
{
    if (now == MV_LEAK_LEAK)
        return MV_EVENT_LEAK;
    if (now == MV_LEAK_SUSPECT && was != MV_LEAK_LEAK)
        return MV_EVENT_LEAK_SUSPECTED;
    if (now == MV_LEAK_NO_LEAK &&
        (was == MV_LEAK_SUSPECT || was == MV_LEAK_LEAK))
        return MV_EVENT_LEAK_CLEARED;
    return MV_EVENT_KIND_COUNT;
}

/* The leak detector's tick over the private-memory series (verdicts held
 * while a phase is active); a changed verdict raises its event. Runs only
 * when the sample has private memory (see collect). */
static void rule_leak_verdict(mv_monitor *m, const mv_sample *s, int nphases,
                              mv__stored_event *evs, size_t *nev)
{
    mv__leak_verdict was = m->leak_res.verdict;

    mv__leak_set_limit(m->leak, s->effective_limit_bytes);
    if (!mv__leak_tick(m->leak, m->series, s->monotonic_ms, nphases > 0,
                       &m->leak_res))
        return;
    mv_event_kind kind = mv__monitor_leak_event_kind(was, m->leak_res.verdict);
    /* a rise the live heap did not take part in is the allocator's: the
     * fragmentation rule speaks for it, not a leak event */
    if ((kind == MV_EVENT_LEAK || kind == MV_EVENT_LEAK_SUSPECTED) &&
        mv__monitor_leak_is_allocator(m, s->monotonic_ms))
        return;
    if (kind != MV_EVENT_KIND_COUNT)
        leak_event(m, &evs[(*nev)++], kind, s);
}

/* The urgency claim, whatever the verdict: its changes are followed
 * (mv__monitor_oom_risk_event). After rule_leak_verdict's tick. */
static void rule_oom_risk(mv_monitor *m, const mv_sample *s,
                          mv__stored_event *evs, size_t *nev)
{
    if ((m->leak_res.risk.active != 0) == m->oom_risk_active)
        return;
    mv__stored_event *se = &evs[(*nev)++];
    make_event(m, se, MV_EVENT_OOM_RISK, s, NULL, NULL);
    mv__monitor_oom_risk_event(&m->oom_risk_active, &m->leak_res.risk,
                               &se->ev);
}

/* The cgroup's oom_kill count rose since the previous sample (prev NULL:
 * none). */
static void rule_oom_kill(mv_monitor *m, const mv_sample *prev,
                          const mv_sample *s, mv__stored_event *evs,
                          size_t *nev)
{
    if (!prev || prev->cg_oom_kill_events == MV_NA ||
        s->cg_oom_kill_events == MV_NA ||
        s->cg_oom_kill_events <= prev->cg_oom_kill_events)
        return;
    raise_oom_kill(m, &evs[(*nev)++], s, prev->cg_oom_kill_events);
}

/* Swap keeps growing (swap_rule): once, re-armed when swap falls. */
static void rule_swap(mv_monitor *m, const mv_sample *s,
                      mv__stored_event *evs, size_t *nev)
{
    if (!swap_rule(m, s) || !m->swap_armed)
        return;
    m->swap_armed = 0;
    make_event(m, &evs[(*nev)++], MV_EVENT_SWAP_GROWING, s, NULL, NULL);
}

/* Runs the detectors over one probe result, updating state and filling
 * evs (at most 6 events once a sample is accepted). Caller holds m->lock.
 * Returns the tick's result (-ESRCH when the target is gone, including PID
 * reuse). */
static int collect(mv_monitor *m, int rc, const mv_sample *s,
                   int nphases, const char *phases, const oom_poll *op,
                   mv__stored_event *evs, size_t *nev, tick_view *view)
{
    *nev = 0;
    view->record = 0;
    rule_oom_notice(m, op, evs, nev);
    oom_queue_kills(m, op, rc == 0 ? s : NULL);

    if (rc == -ESRCH) {
        rule_target_exit(m, evs, nev);
        return rc;
    }
    if (rc < 0) {
        rule_probe_error(m, rc, evs, nev);
        return rc;
    }
    m->error_armed = 1;
    if (rule_pid_reuse(m, s, evs, nev))
        return -ESRCH;

    mv_sample prev = m->last;
    int had_prev = m->have_last;
    accept_sample(m, s);

    rule_level(m, s, evs, nev);
    update_growth(m, s);
    rule_growth(m, s, nphases, phases, evs, nev);
    if (m->leak && s->private_bytes != MV_NA) {
        rule_leak_verdict(m, s, nphases, evs, nev);
        rule_oom_risk(m, s, evs, nev);
    }
    mv__monitor_rule_frag(m, s, evs, nev);
    rule_oom_kill(m, had_prev ? &prev : NULL, s, evs, nev);
    rule_oom_kmsg(m, s, 0, evs, nev);
    rule_swap(m, s, evs, nev);

    /* the live page's ring (only with an endpoint) */
    if (m->live) {
        mv__live_point lp;
        mv__live_point_from(&lp, s, m->lstate.level);
        (void)mv__live_push(m->live, &lp);  /* a wall-clock step back: skipped */
    }

    view->record = 1;
    view->sample = *s;
    view->level = m->lstate.level;
    view->growth_bps = m->growth.valid ? m->growth.bytes_per_s : NAN;
    view->ttl_s = m->time_to_limit_s;
    return 0;
}

/* ---- the recording's health ------------------------------------------ */

/* What the tick's recording lines did (read under sink_lock). */
typedef struct rec_view {
    mv__record_change change;  /* a spell of losses began or ended */
    int err;                   /* LOSING: the write's errno */
    uint64_t spell_lost;       /* RESUMED: lines lost during the spell */
    uint64_t lost;             /* lines lost so far */
} rec_view;

/* Updates the lost-line count and, when a spell of losses began or ended,
 * fills *se with recording_failed / recording_resumed (returns 1 then): a
 * full disk is said once, not once per lost line. Caller holds m->lock. */
static int recording_health(mv_monitor *m, const rec_view *rv,
                            mv__stored_event *se)
{
    char msg[320];

    m->self.recording_lines_lost = rv->lost;
    if (rv->change == MV__RECORD_LOSING) {
        snprintf(msg, sizeof msg,
                 "cannot write the recording %.200s: %s; lines are lost "
                 "(and counted) until it can be written again",
                 m->cfg.record_path, strerror(rv->err));
        make_event(m, se, MV_EVENT_RECORDING_FAILED,
                   last_sample(m), NULL, msg);
        return 1;
    }
    if (rv->change == MV__RECORD_RESUMED) {
        snprintf(msg, sizeof msg,
                 "the recording %.200s is written again; %llu line%s lost",
                 m->cfg.record_path, (unsigned long long)rv->spell_lost,
                 rv->spell_lost == 1 ? " was" : "s were");
        make_event(m, se, MV_EVENT_RECORDING_RESUMED,
                   last_sample(m), NULL, msg);
        return 1;
    }
    return 0;
}

/* ---- self-watching --------------------------------------------------- */

/* Accounts one tick's cost; may lengthen the interval and fill *budget_ev
 * (returns 1 then). Caller holds m->lock. */
static int account(mv_monitor *m, int64_t t0_us, int64_t wall_us,
                   int64_t cpu_us, mv__stored_event *budget_ev)
{
    double secs = (double)wall_us / 1e6;
    size_t b = 0;
    while (b < MV_TICK_BUCKETS - 1 && secs > mv__tick_bucket_bounds[b])
        b++;
    m->self.ticks++;
    m->self.tick_hist[b]++;
    m->self.tick_seconds_sum += secs;
    if (cpu_us < 0)
        cpu_us = 0;
    m->self.cpu_seconds += (double)cpu_us / 1e6;

    size_t slot = m->cpu_head;
    m->cpu_t0_us[slot] = t0_us;
    m->cpu_used_us[slot] = cpu_us;
    m->cpu_head = (m->cpu_head + 1) % MV_MONITOR_CPU_WINDOW;
    if (m->cpu_n < MV_MONITOR_CPU_WINDOW)
        m->cpu_n++;
    size_t oldest = (m->cpu_head + MV_MONITOR_CPU_WINDOW - m->cpu_n) %
                    MV_MONITOR_CPU_WINDOW;
    int64_t used = 0;
    for (size_t i = 0; i < m->cpu_n; i++)
        used += m->cpu_used_us[i];
    int64_t span = t0_us + wall_us - m->cpu_t0_us[oldest];
    int fired = 0;
    if (m->cpu_n >= BUDGET_MIN_TICKS && span > 0) {
        double share = (double)used / (double)span;
        m->self.cpu_share = share;
        int64_t cap = m->base_interval_ms * BUDGET_MAX_FACTOR;
        if (share > m->cfg.cpu_budget && m->interval_ms < cap) {
            int64_t old = m->interval_ms;
            m->interval_ms = old * 2 > cap ? cap : old * 2;
            m->cpu_n = 0;
            m->cpu_head = 0;
            char msg[320];
            snprintf(msg, sizeof msg,
                     "sampler used %.2f%% CPU (budget %.2f%%); interval "
                     "lengthened from %lld ms to %lld ms",
                     share * 100.0, m->cfg.cpu_budget * 100.0, (long long)old,
                     (long long)m->interval_ms);
            make_event(m, budget_ev, MV_EVENT_BUDGET,
                       last_sample(m), NULL, msg);
            fired = 1;
        }
    }
    m->self.interval_ms = m->interval_ms;
    m->self.footprint_bytes =
        (int64_t)(sizeof *m + mv__series_footprint(m->series) +
                  mv__live_footprint(m->live) +
                  m->npids * sizeof *m->pids);
    return fired;
}

/* ---- the tick -------------------------------------------------------- */

/* One tick on the sampler thread: probe, detect, record, deliver, account.
 * Returns the probe's result (-ESRCH once the target is gone). */
static int run_tick(mv_monitor *m)
{
    int64_t t0 = mono_us();
    int64_t c0 = mv__thread_cpu_us();
    mv_sample s;
    mv__stored_event evs[TICK_EVENTS + 1];
    size_t nev = 0;
    tick_view view;
    rec_view rv = { MV__RECORD_SAME, 0, 0, 0 };
    char phases[MV_MONITOR_SUBJECT] = "";
    int nphases = 0;

    pthread_mutex_lock(&m->app_lock);
    nphases = mv__registry_active_phases(m->reg, phases, sizeof phases);
    pthread_mutex_unlock(&m->app_lock);
    if (nphases < 0)
        nphases = 0;

    /* before the probe, so this tick's sample shows what it returned */
    int trimmed = mv__monitor_periodic_trim(m, nphases, mono_us() / 1000,
                                            &evs[TICK_EVENTS]);
    int rc = mv__probe_session_sample(m->ps, &s);
    if (rc == 0) { /* a configured budget (limit_bytes) when it is tighter */
        mv__sample_apply_limit(&s, m->cfg.limit_bytes);
        mv__monitor_alloc_fill(m, &s);
    }
    /* the kernel log right after the probe: a kill whose counter the probe
     * saw has (almost always) been printed by now */
    oom_poll op;
    oom_poll_read(m, &op);

    pthread_mutex_lock(&m->lock);
    rc = collect(m, rc, &s, nphases, phases, &op, evs, &nev, &view);
    pthread_mutex_unlock(&m->lock);

    if (view.record) {
        pthread_mutex_lock(&m->sink_lock);
        if (m->rec)
            mv__recorder_sample(m->rec, &view.sample, view.level,
                                view.growth_bps, view.ttl_s);
        if (m->rec) /* app gauges/ops/progress changed since the last tick */
            (void)mv__record_app_changes(m->rec, m->reg, view.sample.timestamp_ms,
                                         MV__RECORD_APP_MAX_LINES);
        if (m->rec) {
            rv.change = mv__recorder_take_change(m->rec, &rv.err,
                                                 &rv.spell_lost);
            rv.lost = mv__recorder_lost(m->rec);
        }
        pthread_mutex_unlock(&m->sink_lock);
        /* collect() raises at most 10 events: room is left for this one */
        pthread_mutex_lock(&m->lock);
        if (m->self.recording && nev < TICK_EVENTS &&
            recording_health(m, &rv, &evs[nev]))
            nev++;
        pthread_mutex_unlock(&m->lock);
    }
    if (trimmed && nev < TICK_EVENTS)
        evs[nev++] = evs[TICK_EVENTS];
    int64_t cb_cpu = deliver(m, evs, nev);

    int64_t t1 = mono_us();
    int64_t cpu = mv__thread_cpu_us() - c0 - cb_cpu;
    pthread_mutex_lock(&m->lock);
    int fired = account(m, t0, t1 - t0, cpu, &evs[0]);
    pthread_mutex_unlock(&m->lock);
    if (fired)
        deliver(m, evs, 1);
    return rc;
}

/* ---- the sampler thread ---------------------------------------------- */

static void abs_deadline(int64_t due_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(due_ms / 1000);
    ts->tv_nsec = (long)(due_ms % 1000) * 1000000L;
}

static void *sampler_main(void *arg)
{
    mv_monitor *m = arg;
    mv__stored_event batch[MV_MONITOR_PENDING];
    locale_t prev_loc;
    locale_t cloc = mv__guest_c_locale_enter(&prev_loc);

    pthread_mutex_lock(&m->lock);
    int64_t next_due = mv__now_mono_ms() + m->interval_ms;
    while (!m->stopping) {
        if (m->pending_n > 0) {
            size_t n = m->pending_n;
            memcpy(batch, m->pending, n * sizeof batch[0]);
            m->pending_n = 0;
            pthread_mutex_unlock(&m->lock);
            deliver(m, batch, n);
            pthread_mutex_lock(&m->lock);
            continue;
        }
        int want = m->tick_req > m->tick_done;
        if (!m->target_alive && want) {
            m->tick_done = m->tick_req;
            m->tick_result = -ESRCH;
            pthread_cond_broadcast(&m->done);
            continue;
        }
        int64_t now = mv__now_mono_ms();
        if (m->target_alive && (want || now >= next_due)) {
            uint64_t req = m->tick_req;
            pthread_mutex_unlock(&m->lock);
            int rc = run_tick(m);
            pthread_mutex_lock(&m->lock);
            if (req > m->tick_done) {
                m->tick_done = req;
                m->tick_result = rc;
            }
            pthread_cond_broadcast(&m->done);
            next_due = mv__now_mono_ms() + m->interval_ms;
            continue;
        }
        if (m->target_alive) {
            /* clock_gettime based: the condvar uses CLOCK_MONOTONIC */
            struct timespec ts;
            int64_t due_ms;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            due_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
                     (next_due - now);
            abs_deadline(due_ms, &ts);
            pthread_cond_timedwait(&m->wake, &m->lock, &ts);
        } else {
            pthread_cond_wait(&m->wake, &m->lock);
        }
    }
    /* stopping: events already queued (a phase that just ended, STARTED of
     * a monitor stopped at once) still reach the sinks */
    size_t n = m->pending_n;
    memcpy(batch, m->pending, n * sizeof batch[0]);
    m->pending_n = 0;
    pthread_mutex_unlock(&m->lock);
    deliver(m, batch, n);
    mv__guest_c_locale_leave(cloc, prev_loc);
    return NULL;
}

/* ---- start / stop ---------------------------------------------------- */

static int locks_init(mv_monitor *m)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca))
        return -ENOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&m->app_lock, NULL);
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->sink_lock, NULL);
    pthread_cond_init(&m->wake, &ca);
    pthread_cond_init(&m->done, &ca);
    pthread_condattr_destroy(&ca);
    return 0;
}

void mv__monitor_reinit_locks(mv_monitor *m)
{
    locks_init(m);
}

/* Frees everything the monitor owns (no thread, no endpoint left). */
static void monitor_free(mv_monitor *m, int destroy_locks)
{
    mv__recorder_close(m->rec);
    mv__linefile_close(m->log);
    mv__registry_free(m->reg);
    mv__probe_session_free(m->ps);
    mv__oom_watch_free(m->oomw);
    mv__series_free(m->series);
    mv__live_free(m->live);
    mv__leak_free(m->leak);
    mv__frag_free(m->frag);
    free(m->s_alloc_stats_file);
    if (destroy_locks) {
        pthread_mutex_destroy(&m->app_lock);
        pthread_mutex_destroy(&m->lock);
        pthread_mutex_destroy(&m->sink_lock);
        pthread_cond_destroy(&m->wake);
        pthread_cond_destroy(&m->done);
    }
    free(m->s_proc_root);
    free(m->s_cgroup_root);
    free(m->s_cgroup);
    free(m->s_event_log);
    free(m->s_record_path);
    free(m->s_record_command);
    free(m->s_http_listen);
    free(m->s_http_token);
    free(m->pids);
    free(m);
}

static int start_impl(const mv_config *cfg, mv_monitor **out)
{
    sigset_t oldmask;
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg)
        return -EINVAL;
    int rc = config_check(cfg);
    if (rc)
        return rc;

    mv_monitor *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    if (locks_init(m)) {
        free(m);
        return -ENOMEM;
    }
    rc = config_copy(m, cfg);
    if (rc)
        goto fail;
    m->series = mv__series_new_default();
    m->reg = mv__registry_new(cfg->max_series_per_family);
    {
        mv__leak_cfg lc;
        mv__leak_cfg_init(&lc);
        mv__leak_cfg_settings(&lc, cfg->leak_min_rise_ms,
                              cfg->oom_risk_horizon_ms);
        m->leak = mv__leak_new(&lc);
    }
    /* recent compact samples for the live page, only when it is served */
    if (cfg->http_listen)
        m->live = mv__live_new(MV_LIVE_POINTS);
    /* the allocator diagnosis, where allocator figures can exist */
    if (mv__monitor_alloc_self(m) || m->cfg.alloc_stats_file) {
        mv__frag_cfg fc;
        mv__frag_cfg_init(&fc);
        if (cfg->alloc_window_ms > 0)
            fc.window_ms = cfg->alloc_window_ms;
        m->frag = mv__frag_new(&fc);
    }
    if (!m->series || !m->reg || !m->leak || (cfg->http_listen && !m->live) ||
        ((mv__monitor_alloc_self(m) || m->cfg.alloc_stats_file) && !m->frag)) {
        rc = -ENOMEM;
        goto fail;
    }

    /* the first sample, synchronously: a missing target is reported here */
    /* A probe session keeps the target's files open between ticks (half
     * the cost of reopening them, and a reused PID is never followed). */
    m->ps = mv__probe_session_new(&m->popts, m->pids, m->npids,
                                  m->cfg.include_descendants, m->cfg.cgroup,
                                  &rc);
    if (!m->ps)
        goto fail;
    /* the kernel log from now on (its end), before the first sample */
    m->host_oom_kills = MV_NA;
    rc = mv__oom_watch_new(cfg->kmsg_path, m->s_proc_root, &m->oomw);
    if (rc)
        goto fail;
    mv_sample s;
    rc = mv__probe_session_sample(m->ps, &s);
    if (rc)
        goto fail;
    mv__sample_apply_limit(&s, m->cfg.limit_bytes);
    mv__monitor_alloc_fill(m, &s);

    mv__level_init(&m->lstate);
    m->growth.valid = 0;
    m->time_to_limit_s = NAN;
    m->target_alive = 1;
    m->growth_armed = 1;
    m->oom_risk_active = 0;
    mv__leak_tick(NULL, NULL, 0, 0, &m->leak_res); /* resets the result */
    m->swap_armed = 1;
    m->error_armed = 1;
    m->self.interval_ms = m->interval_ms;
    /* PID reuse is checked for a single root pid (the tree's root too) */
    m->start_time_ticks = (!m->cfg.cgroup && m->npids == 1)
                              ? s.start_time_ticks
                              : MV_NA;

    /* STARTED first, then whatever the first sample raises; the thread
     * delivers them */
    tick_view view;
    {
        mv__stored_event evs[TICK_EVENTS];
        size_t nev = 0;
        pthread_mutex_lock(&m->lock);
        collect(m, 0, &s, 0, "", NULL, evs, &nev, &view);
        make_event(m, &m->pending[m->pending_n++], MV_EVENT_STARTED, &s, NULL,
                   NULL);
        for (size_t i = 0; i < nev && m->pending_n < MV_MONITOR_PENDING; i++)
            m->pending[m->pending_n++] = evs[i];
        pthread_mutex_unlock(&m->lock);
    }

    if (m->cfg.http_listen) {
        mv__guest_block_signals(&oldmask); /* MHD's thread inherits the mask */
        /* the library's /debug/pprof/heap first: a route of the
         * application's at the same path replaces it */
        size_t nextra = 2 + (cfg->http_routes ? cfg->http_nroutes : 0);
        mv_http_route *extra = calloc(nextra, sizeof *extra);
        if (!extra) {
            mv__guest_restore_signals(&oldmask);
            rc = -ENOMEM;
            goto fail;
        }
        extra[0] = (mv_http_route){"/debug/pprof/heap",
                                   mv__monitor_heap_pprof, m, 0};
        extra[1] = (mv_http_route){"/debug/pprof/symbol",
                                   mv__monitor_pprof_symbol, m,
                                   MV_PPROF_SYMBOL_MAX_BODY};
        for (size_t i = 2; i < nextra; i++)
            extra[i] = cfg->http_routes[i - 2];
        mv__http_routes routes = { mv__monitor_http_render,
                                   mv__monitor_http_samples,
                                   mv__monitor_http_page, extra, nextra };
        rc = mv__http_start_routes(m->cfg.http_listen, m->cfg.http_token,
                                   &routes, m, &m->http);
        free(extra);
        mv__guest_restore_signals(&oldmask);
        if (rc)
            goto fail;
    }
    if (m->cfg.event_log) {
        rc = strcmp(m->cfg.event_log, "-") == 0
                 ? mv__linefile_from_fd(STDERR_FILENO, &m->log)
                 : mv__linefile_open(m->cfg.event_log, 0,
                                     m->cfg.event_log_max_bytes,
                                     m->cfg.event_log_keep, NULL, NULL,
                                     &m->log);
        if (rc)
            goto fail;
    }
    if (m->cfg.record_path) {
        mv__record_header h = {
            .command = m->cfg.record_command,
            .pid = m->cfg.cgroup ? 0 : m->pids[0],
            .start_ms = s.timestamp_ms,
            .interval_ms = m->interval_ms,
            .limit_bytes = s.effective_limit_bytes,
        };
        rc = mv__recorder_open_capped(m->cfg.record_path, &h,
                                      m->cfg.record_max_bytes,
                                      m->cfg.record_keep, &m->rec);
        if (rc)
            goto fail;
        m->self.recording = 1;  /* no thread yet: no lock needed */
        mv__recorder_sample(m->rec, &view.sample, view.level, view.growth_bps,
                            view.ttl_s);
    }

    mv__monitor_live_add(m);
    mv__guest_block_signals(&oldmask);
    rc = pthread_create(&m->thread, NULL, sampler_main, m);
    mv__guest_restore_signals(&oldmask);
    if (rc) {
        mv__monitor_live_remove(m);
        rc = -rc;
        goto fail;
    }
    m->thread_started = 1;
    *out = m;
    return 0;

fail:
    if (m->http)
        mv__http_stop(m->http);
    m->http = NULL;
    monitor_free(m, 1);
    return rc;
}

int mv_monitor_start(const mv_config *cfg, mv_monitor **out)
{
    /* the recording header, first sample and first events are formatted on
     * the caller's thread: C locale there too (see c_locale_enter) */
    locale_t prev_loc;
    locale_t cloc = mv__guest_c_locale_enter(&prev_loc);
    int rc = start_impl(cfg, out);
    mv__guest_c_locale_leave(cloc, prev_loc);
    return rc;
}

void mv_monitor_stop(mv_monitor *m)
{
    if (!m)
        return;
    mv__monitor_live_remove(m);
    pthread_mutex_lock(&m->lock);
    int inherited = m->inherited;
    int self_call = m->thread_started && !inherited &&
                    pthread_equal(pthread_self(), m->thread);
    m->stopping = 1;
    pthread_cond_broadcast(&m->wake);
    pthread_cond_broadcast(&m->done);
    pthread_mutex_unlock(&m->lock);

    if (inherited) {
        /* fork child: no thread to join; the endpoint's handle belongs to
         * the parent's server thread, so it is leaked, never stopped */
        monitor_free(m, 1);
        return;
    }
    if (self_call) {
        /* misuse (called from the callback): the thread ends after this
         * callback returns; the monitor is leaked rather than freed under it */
        pthread_detach(m->thread);
        return;
    }
    if (m->thread_started)
        pthread_join(m->thread, NULL);
    mv__http_stop(m->http);
    m->http = NULL;
    if (m->rec) {
        /* what the application recorded since the last tick (a gauge zeroed
         * at shutdown, the last operations) still reaches the recording;
         * the thread is gone, so this thread is the only writer */
        locale_t prev_loc;
        locale_t cloc = mv__guest_c_locale_enter(&prev_loc);
        (void)mv__record_app_changes(m->rec, m->reg, mv__now_wall_ms(),
                                     MV__RECORD_APP_MAX_LINES);
        mv__guest_c_locale_leave(cloc, prev_loc);
    }
    monitor_free(m, 1);
}

int mv_monitor_sample_now(mv_monitor *m)
{
    if (!m)
        return -EINVAL;
    pthread_mutex_lock(&m->lock);
    if (m->inherited) {
        pthread_mutex_unlock(&m->lock);
        return -ECHILD;
    }
    if (!m->target_alive) {
        pthread_mutex_unlock(&m->lock);
        return -ESRCH;
    }
    if (m->thread_started && pthread_equal(pthread_self(), m->thread)) {
        /* from the callback: run it here */
        pthread_mutex_unlock(&m->lock);
        return run_tick(m);
    }
    uint64_t mine = ++m->tick_req;
    pthread_cond_signal(&m->wake);
    while (m->tick_done < mine && !m->stopping)
        pthread_cond_wait(&m->done, &m->lock);
    int rc = m->tick_done >= mine ? m->tick_result : -ECANCELED;
    pthread_mutex_unlock(&m->lock);
    return rc;
}
