/*
 * node_tick.c — one tick of node mode: walk the tree, merge what was found
 * with the watched set (new containers in, vanished ones marked, dropped
 * after the grace period, a cap on the count), then read and judge every
 * container that is up.
 *
 * Design: the judging is the single-target monitor's, container by
 * container: private memory goes into a series, and the same detector
 * functions (mv__level_update, mv__growth_now, mv__time_to_limit,
 * mv__leak_tick) and the monitor's pure event rules
 * (mv__monitor_leak_event_kind, mv__monitor_oom_risk_event) make the
 * events. Host figures (meminfo, PSI) are read once per tick and shared.
 *
 * A container's cgroup files are read through a directory descriptor;
 * the knob files stay open too (7 more descriptors) while the process's
 * descriptor limit leaves room for every container, else they are opened
 * per read — the cost then grows by ~7 openat() per container and tick,
 * nothing else changes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "events.h"
#include "monitor.h"
#include "node.h"
#include "oom_report.h"
#include "util.h"

/* The per-container series: 360 raw points (1 h at 10 s: the span
 * mv__growth_now reads), then 1 min x 240 (4 h), 10 min x 288 (2 days),
 * 1 h x 168 (7 days): ~59 KiB, against ~218 KiB for a single target's
 * 30-day shape, so 1000 containers hold ~60 MiB. Leaks that matter on a
 * node show within days; a week of hourly floors is what the leak
 * detector's history test reads. */
mv__series *mv__node_series_new(void)
{
    static const int64_t widths[3] = {60 * 1000, 600 * 1000, 3600 * 1000};
    static const size_t caps[3] = {240, 288, 168};
    return mv__series_new(360, 3, widths, caps);
}

void mv__node_target_free(mv__node_target *t)
{
    if (!t)
        return;
    mv__probe_cgroup_close(&t->cg);
    mv__series_free(t->series);
    mv__leak_free(t->leak);
    free(t->victim);
    free(t);
}

size_t mv__node_target_footprint(const mv__node_target *t)
{
    return sizeof *t + mv__series_footprint(t->series) +
           (t->leak ? mv__leak_footprint() : 0);
}

/* A container's leak detector: the detector's defaults but for the two
 * settings the node was given (0 = keep the default). */
static mv__leak_detector *leak_new(const mv_node_config *cfg)
{
    mv__leak_cfg lc;

    mv__leak_cfg_init(&lc);
    mv__leak_cfg_settings(&lc, cfg->leak_min_rise_ms,
                          cfg->oom_risk_horizon_ms);
    return mv__leak_new(&lc);
}

static mv__node_target *target_new(const mv_node *n, const char *rel,
                                   const mv_container_labels *ids,
                                   mv__cgroup_kind kind)
{
    mv__node_target *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    mv__cgroup_handle_init(&t->cg);
    t->labels = *ids;
    mv__strlcpy(t->labels.id, rel, sizeof t->labels.id);
    t->kind = kind;
    t->up = 1;
    t->series = mv__node_series_new();
    t->leak = leak_new(&n->cfg);
    if (!t->series || !t->leak) {
        mv__node_target_free(t);
        return NULL;
    }
    mv__level_init(&t->lstate);
    mv__leak_tick(NULL, NULL, 0, 0, &t->leak_res); /* resets the result */
    t->time_to_limit_s = NAN;
    t->error_armed = 1;
    return t;
}

/* ---- events ------------------------------------------------------------ */

/* A new event slot for t (NULL when the tick's queue cannot grow: the
 * event is counted as dropped). */
static mv__node_event *event_add(mv_node *n, const mv__node_target *t,
                                 mv_event_kind kind, const mv_sample *s)
{
    if (n->nev == n->cap_evs) {
        size_t cap = n->cap_evs ? n->cap_evs * 2 : 16;
        mv__node_event *e = realloc(n->evs, cap * sizeof *e);
        if (!e) {
            n->events_dropped++;
            return NULL;
        }
        n->evs = e;
        n->cap_evs = cap;
    }
    mv__node_event *ne = &n->evs[n->nev++];
    memset(ne, 0, sizeof *ne);
    ne->ev.kind = kind;
    ne->ev.timestamp_ms = mv__now_wall_ms();
    ne->ev.level = t ? t->lstate.level : MV_LEVEL_OK;
    ne->ev.prev_level = ne->ev.level;
    ne->ev.growth_bytes_per_s =
        t && t->growth.valid ? t->growth.bytes_per_s : NAN;
    ne->ev.time_to_limit_s = t ? t->time_to_limit_s : NAN;
    if (s) {
        ne->sample = *s;
        ne->has_sample = 1;
    }
    if (t)
        ne->labels = t->labels;
    return ne;
}

/* Points the event's pointers at its own storage (the array may have
 * moved since it was filled). */
void mv__node_event_fix(mv__node_event *ne)
{
    ne->ev.sample = ne->has_sample ? &ne->sample : NULL;
    ne->ev.oom_kill = ne->has_kill ? &ne->kill : NULL;
    ne->ev.container = ne->labels.id[0] ? &ne->labels : NULL;
}

/* The container's name for messages: namespace/pod/container when known,
 * else the unit, the pod UID and short container ID, or the path. */
void mv__node_name(const mv_container_labels *l, char *out, size_t cap)
{
    if (l->pod[0])
        snprintf(out, cap, "%s/%s/%s", l->namespace_name, l->pod,
                 l->container[0] ? l->container : l->container_id);
    else if (l->unit[0])
        snprintf(out, cap, "%s", l->unit);
    else if (l->pod_uid[0])
        snprintf(out, cap, "pod %s container %.12s", l->pod_uid,
                 l->container_id);
    else if (l->container_id[0])
        snprintf(out, cap, "container %.12s", l->container_id);
    else
        snprintf(out, cap, "%s", l->id);
}

/* Prefixes ev's message with the container's name ("[name] ..."), so a
 * plain event line says whose it is. */
static void name_message(mv__node_event *ne)
{
    char name[200], msg[sizeof ne->ev.message];

    if (ne->ev.message[0] == '\0') {
        mv__node_event_fix(ne);
        mv__event_describe(&ne->ev);
    }
    mv__node_name(&ne->labels, name, sizeof name);
    int len = snprintf(msg, sizeof msg, "[%.150s] ", name);
    mv__strlcpy(msg + len, ne->ev.message, sizeof msg - (size_t)len);
    mv__strlcpy(ne->ev.message, msg, sizeof ne->ev.message);
}

/* ---- the per-container rules (the monitor's, see monitor.c) ----------- */

static void rule_level(mv_node *n, mv__node_target *t, const mv_sample *s)
{
    mv_level prev;

    if (!mv__level_update(&t->lstate, &n->lcfg, s->usage_ratio,
                          s->monotonic_ms, &prev))
        return;
    mv__node_event *ne = event_add(n, t, MV_EVENT_LEVEL, s);
    if (!ne)
        return;
    ne->ev.prev_level = prev;
    mv__node_event_fix(ne);
    mv__event_describe(&ne->ev);
    name_message(ne);
}

static void update_growth(mv__node_target *t, const mv_sample *s)
{
    mv__growth g;

    memset(&g, 0, sizeof g);
    if (s->monotonic_ms > t->first_mono_ms &&
        mv__growth_now(t->series, s->monotonic_ms, t->first_mono_ms,
                       &g) == 0 && g.valid) {
        t->growth = g;
        t->time_to_limit_s = mv__time_to_limit(mv__sample_limit_quantity(s),
                                               s->effective_limit_bytes,
                                               g.bytes_per_s);
    } else {
        t->growth.valid = 0;
        t->time_to_limit_s = NAN;
    }
}

static void rule_leak(mv_node *n, mv__node_target *t, const mv_sample *s)
{
    mv__leak_verdict was = t->leak_res.verdict;

    mv__leak_set_limit(t->leak, s->effective_limit_bytes);
    if (!mv__leak_tick(t->leak, t->series, s->monotonic_ms, 0, &t->leak_res))
        return;
    mv_event_kind kind = mv__monitor_leak_event_kind(was, t->leak_res.verdict);
    if (kind == MV_EVENT_KIND_COUNT)
        return;
    mv__node_event *ne = event_add(n, t, kind, s);
    if (!ne)
        return;
    if (kind == MV_EVENT_LEAK_CLEARED)
        snprintf(ne->ev.message, sizeof ne->ev.message,
                 "leak verdict cleared: %.290s", t->leak_res.evidence);
    else
        mv__strlcpy(ne->ev.message, t->leak_res.evidence,
                    sizeof ne->ev.message);
    ne->ev.growth_bytes_per_s = t->leak_res.growth_bytes_per_h / 3600.0;
    ne->ev.time_to_limit_s = t->leak_res.eta_s;
    name_message(ne);
}

static void rule_oom_risk(mv_node *n, mv__node_target *t, const mv_sample *s)
{
    if ((t->leak_res.risk.active != 0) == t->oom_risk_active)
        return;
    mv__node_event *ne = event_add(n, t, MV_EVENT_OOM_RISK, s);
    if (!ne) {
        t->oom_risk_active = t->leak_res.risk.active != 0;
        return;
    }
    mv__monitor_oom_risk_event(&t->oom_risk_active, &t->leak_res.risk,
                               &ne->ev);
    name_message(ne);
}

static void rule_oom_kill(mv_node *n, mv__node_target *t,
                          const mv_sample *prev, const mv_sample *s)
{
    if (!prev || prev->cg_oom_kill_events == MV_NA ||
        s->cg_oom_kill_events == MV_NA ||
        s->cg_oom_kill_events <= prev->cg_oom_kill_events)
        return;
    int64_t rise = s->cg_oom_kill_events - prev->cg_oom_kill_events;
    if (t->oom_told >= rise) {   /* told already, naming the victim */
        t->oom_told -= rise;
        return;
    }
    t->oom_unnamed += rise - t->oom_told;
    t->oom_told = 0;
    mv__node_event *ne = event_add(n, t, MV_EVENT_OOM_KILL, s);
    if (!ne)
        return;
    mv__node_event_fix(ne);
    mv__event_describe_oom(&ne->ev, prev->cg_oom_kill_events);
    name_message(ne);
}

/* ---- OOM kills from the kernel log (one watch for the node) ----------- */

/* 1 when the kernel's cgroup path kpath is the container's id or below
 * it, id being the path inside the walked tree: the kernel prints paths
 * from the hierarchy's root, and where the walked tree sits in it is not
 * known from inside a container (a hostPath mount, a cgroup namespace, a
 * subtree given as --cgroup-root), so id may follow any prefix of whole
 * components. IDs are 12-64 hex digits or unit names: unambiguous. */
static int kill_in_container(const mv_oom_kill *k, const char *id)
{
    size_t idlen = strlen(id);
    const char *kp = k->task_cgroup;

    if (idlen < 2 || id[0] != '/')
        return 0;                /* the root: never every kill */
    if (mv__oom_kill_in_target(k, NULL, 0, id))
        return 1;
    for (const char *p = strstr(kp, id); p; p = strstr(p + 1, id))
        if (p[idlen] == '\0' || p[idlen] == '/')
            return 1;
    return 0;
}

/* The container kill k happened in (its victim's cgroup at or below the
 * container's), or NULL: a kill outside every container (the host's count
 * has it). */
static mv__node_target *kill_owner(mv_node *n, const mv_oom_kill *k)
{
    mv__node_target *best = NULL;
    for (size_t i = 0; i < n->ntargets; i++) {
        mv__node_target *t = n->targets[i];
        if (kill_in_container(k, t->labels.id) &&
            (!best || strlen(t->labels.id) > strlen(best->labels.id)))
            best = t;    /* the deepest: a service above a container */
    }
    return best;
}

/* Hands kill k to its container: its last victim (the metric) and, unless
 * its counter already told this kill without a name, an oom_kill event
 * naming the victim (the counter's coming rise is then not told again). */
static void give_kill(mv_node *n, mv__node_target *t, const mv_oom_kill *k)
{
    if (!t->victim && !(t->victim = malloc(sizeof *t->victim)))
        return;
    *t->victim = *k;
    t->victim->comm[sizeof t->victim->comm - 1] = '\0';
    t->victim->task_cgroup[sizeof t->victim->task_cgroup - 1] = '\0';
    t->victim->oom_cgroup[sizeof t->victim->oom_cgroup - 1] = '\0';
    if (t->oom_unnamed > 0) {
        t->oom_unnamed--;
        return;
    }
    t->oom_told++;
    mv__node_event *ne = event_add(n, t, MV_EVENT_OOM_KILL,
                                   t->have_last ? &t->last : NULL);
    if (!ne)
        return;
    ne->kill = *t->victim;
    ne->has_kill = 1;
    mv__node_event_fix(ne);
    mv__event_describe_oom(&ne->ev, MV_NA);
    name_message(ne);
}

/* Reads the kills the kernel log reported since the last tick, and the
 * host's count. Without blocking. */
static void rule_oom_log(mv_node *n)
{
    char notice[256];

    if (!n->oomw)
        return;
    size_t nk = mv__oom_watch_poll(n->oomw, n->oom_buf, MV_NODE_OOM_POLL);
    for (size_t i = 0; i < nk; i++) {
        mv__node_target *t = kill_owner(n, &n->oom_buf[i]);
        if (t)
            give_kill(n, t, &n->oom_buf[i]);
    }
    if (mv__oom_watch_take_notice(n->oomw, notice, sizeof notice)) {
        mv__node_event *ne = event_add(n, NULL, MV_EVENT_PROBE_ERROR, NULL);
        if (ne)
            snprintf(ne->ev.message, sizeof ne->ev.message, "%s; OOM kills "
                     "are counted per container from memory.events only",
                     notice);
    }
    n->host_oom_kills = mv__oom_watch_host_kills(n->oomw);
}

/* A container that could not be read (not because it vanished): one
 * event per spell of errors, counted always. */
static void rule_read_error(mv_node *n, mv__node_target *t, int rc)
{
    t->read_errors++;
    n->read_errors_total++;
    if (!t->error_armed)
        return;
    t->error_armed = 0;
    mv__node_event *ne = event_add(n, t, MV_EVENT_PROBE_ERROR,
                                   t->have_last ? &t->last : NULL);
    if (!ne)
        return;
    snprintf(ne->ev.message, sizeof ne->ev.message,
             "cannot read its cgroup (%s); the other containers are still "
             "watched", mv_strerror(rc));
    name_message(ne);
}

/* Feeds one good sample to t's detectors (the monitor's collect()). */
static void judge(mv_node *n, mv__node_target *t, const mv_sample *s)
{
    mv_sample prev = t->last;
    int had_prev = t->have_last;

    t->last = *s;
    t->have_last = 1;
    if (++t->samples_taken == 1)
        t->first_mono_ms = s->monotonic_ms;
    if (s->private_bytes != MV_NA)
        mv__series_push(t->series, s->monotonic_ms, (double)s->private_bytes);
    t->error_armed = 1;

    rule_level(n, t, s);
    update_growth(t, s);
    if (s->private_bytes != MV_NA) {
        rule_leak(n, t, s);
        rule_oom_risk(n, t, s);
    }
    rule_oom_kill(n, t, had_prev ? &prev : NULL, s);
}

/* ---- reading ----------------------------------------------------------- */

/* Reads t into s (host fields from the tick's system sample). 0, -ENOENT
 * when the cgroup is gone, or another negative errno. */
static int read_target(mv_node *n, mv__node_target *t, int keep,
                       mv_sample *s)
{
    char path[4096 + MV_CGROUP_PATH_MAX];
    int rc;

    *s = n->system;
    if (t->cg.dirfd < 0) {
        snprintf(path, sizeof path, "%s%s", n->walk_root, t->labels.id);
        rc = mv__probe_cgroup_open(&n->popts, 0, path, keep, &t->cg);
        if (rc != 0)
            return rc == -ENOTDIR ? -ENOENT : rc;
    }
    rc = mv__probe_cgroup_read(&t->cg, s);
    if (rc == -ENODEV) {         /* removed under a kept descriptor */
        mv__probe_cgroup_close(&t->cg);
        return -ENOENT;
    }
    if (rc != 0)
        return rc;
    if (s->cg_usage_bytes == MV_NA) {
        /* the one file a memory cgroup always has: gone mid-read, or
         * unreadable; tell the two apart by the directory */
        mv__probe_cgroup_close(&t->cg);
        snprintf(path, sizeof path, "%s%s", n->walk_root, t->labels.id);
        mv__cgroup_handle probe;
        rc = mv__probe_cgroup_open(&n->popts, 0, path, 0, &probe);
        mv__probe_cgroup_close(&probe);
        return rc == 0 ? -EIO : -ENOENT;
    }
    s->pid = 0;
    s->nprocs = 0;
    mv__sample_derive(s);
    return 0;
}

/* ---- discovery --------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
    const mv__node_target *const *x = a, *const *y = b;
    return strcmp((*x)->labels.id, (*y)->labels.id);
}

static mv__node_target *find(mv_node *n, const char *id)
{
    size_t lo = 0, hi = n->ntargets;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(n->targets[mid]->labels.id, id);
        if (c == 0)
            return n->targets[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

typedef struct found_ctx {
    mv_node *n;
    mv__node_target **fresh;     /* new targets of this walk */
    size_t nfresh, cap;
    size_t capped;               /* found but over the cap */
} found_ctx;

static int on_found(void *ctx, const char *rel, mv__cgroup_kind kind,
                    const mv_container_labels *ids)
{
    found_ctx *f = ctx;
    mv_node *n = f->n;
    mv__node_target *t = find(n, rel);

    if (t) {
        t->seen_gen = n->gen;
        if (!t->up) {            /* back within its grace period */
            t->up = 1;
            t->gone_since_ms = 0;
        }
        return 0;
    }
    if (n->ntargets + f->nfresh >= (size_t)n->cfg.max_containers) {
        f->capped++;
        return 0;
    }
    if (f->nfresh == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        mv__node_target **p = realloc(f->fresh, cap * sizeof *p);
        if (!p)
            return 0;            /* picked up at a later tick */
        f->fresh = p;
        f->cap = cap;
    }
    t = target_new(n, rel, ids, kind);
    if (!t)
        return 0;
    t->seen_gen = n->gen;
    f->fresh[f->nfresh++] = t;
    return 0;
}

/* Adds the fresh targets and keeps the array sorted. */
static void merge_fresh(mv_node *n, found_ctx *f)
{
    size_t need = n->ntargets + f->nfresh;

    if (need > n->cap_targets) {
        size_t cap = n->cap_targets ? n->cap_targets : 64;
        while (cap < need)
            cap *= 2;
        mv__node_target **p = realloc(n->targets, cap * sizeof *p);
        if (!p) {
            for (size_t i = 0; i < f->nfresh; i++)
                mv__node_target_free(f->fresh[i]);
            return;
        }
        n->targets = p;
        n->cap_targets = cap;
    }
    for (size_t i = 0; i < f->nfresh; i++)
        n->targets[n->ntargets++] = f->fresh[i];
    n->discovered_total += (int64_t)f->nfresh;
    if (f->nfresh)
        qsort(n->targets, n->ntargets, sizeof *n->targets, by_id);
}

/* The cap: said once per spell (an event without a container), counted
 * at every tick it holds containers out. */
static void cap_rule(mv_node *n, size_t capped)
{
    if (capped == 0) {
        n->cap_said = 0;
        return;
    }
    n->capped_total += (int64_t)capped;
    if (n->cap_said)
        return;
    n->cap_said = 1;
    mv__node_event *ne = event_add(n, NULL, MV_EVENT_PROBE_ERROR, NULL);
    if (ne)
        snprintf(ne->ev.message, sizeof ne->ev.message,
                 "container cap reached: %d containers are watched and %zu "
                 "more are not (raise --max-containers)",
                 n->cfg.max_containers, capped);
}

/* Marks the targets the walk did not see and drops those whose grace
 * period is over. */
static void sweep(mv_node *n, int64_t now_ms)
{
    size_t w = 0;

    for (size_t i = 0; i < n->ntargets; i++) {
        mv__node_target *t = n->targets[i];
        if (t->seen_gen != n->gen && t->up) {
            t->up = 0;
            t->gone_since_ms = now_ms;
            mv__probe_cgroup_close(&t->cg);
        }
        if (!t->up && now_ms - t->gone_since_ms >= n->cfg.grace_ms) {
            mv__node_target_free(t);
            n->dropped_total++;
            continue;
        }
        n->targets[w++] = t;
    }
    n->ntargets = w;
}

/* Keep knob descriptors open while every container fits in the
 * descriptor limit (9 each, with room for the rest of the process). */
static int keep_descriptors(const mv_node *n)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1;
    return (n->ntargets + 1) * (MV__CG_KNOBS + 2) + 256 < rl.rlim_cur;
}

void mv__node_tick_locked(mv_node *n)
{
    found_ctx f;
    int skipped = 0;

    memset(&f, 0, sizeof f);
    f.n = n;
    n->gen++;
    mv_sample_clear(&n->system);
    (void)mv__probe_system(&n->popts, &n->system);
    int64_t now = n->system.monotonic_ms;
    if (now <= 0)
        now = mv__now_mono_ms();

    int rc = mv__cgroup_walk(n->walk_root, n->cfg.service_glob, on_found, &f,
                             &skipped);
    n->walk_skipped_total += skipped;
    if (rc < 0) {
        /* the root itself is unreadable this time: keep every target as it
         * was rather than call them all gone */
        for (size_t i = 0; i < n->ntargets; i++)
            n->targets[i]->seen_gen = n->gen;
        mv__node_event *ne = event_add(n, NULL, MV_EVENT_PROBE_ERROR, NULL);
        if (ne)
            snprintf(ne->ev.message, sizeof ne->ev.message,
                     "cannot read the cgroup tree %.200s: %s",
                     n->walk_root, mv_strerror(rc));
    }
    merge_fresh(n, &f);
    free(f.fresh);
    cap_rule(n, f.capped);
    /* before the containers are read: a kill the log tells now has its
     * counter rise read below, and is told once (give_kill) */
    rule_oom_log(n);

    int keep = keep_descriptors(n);
    for (size_t i = 0; i < n->ntargets; i++) {
        mv__node_target *t = n->targets[i];
        mv_sample s;

        if (!t->up)
            continue;
        if (!keep && t->cg.dirfd >= 0 && t->cg.keep)
            mv__probe_cgroup_close(&t->cg);  /* reopened without knob fds */
        if (n->cfg.resolve && !t->names_resolved &&
            n->cfg.resolve(n->cfg.resolve_ctx, &t->labels) == 0)
            t->names_resolved = 1;
        rc = read_target(n, t, keep, &s);
        if (rc == -ENOENT) {     /* removed between the walk and the read */
            t->up = 0;
            t->gone_since_ms = now;
            continue;
        }
        if (rc != 0) {
            rule_read_error(n, t, rc);
            continue;
        }
        judge(n, t, &s);
    }
    sweep(n, now);
    n->ticks++;
}
