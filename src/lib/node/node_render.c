/*
 * node_render.c — node mode's /metrics: every container's families with
 * its labels (namespace, pod, container, pod_uid, container_id, qos, id),
 * then the node agent's own families.
 *
 * Design: a container's families have the names the single-target agent
 * gives the same figures (docs/metrics.md), so alert rules and dashboards
 * read one name for one field; the labels tell containers apart. The
 * family table below says, per row, where the value comes from; rows of
 * one family are adjacent, and each family's samples are written for
 * every container in turn, as the text formats want them grouped.
 * Host figures (MemTotal, PSI of the host) are written once, unlabelled.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "container_labels.h"
#include "node.h"
#include "registry.h"
#include "util.h"

/* The label names and values of container_labels.h, for a labels
 * struct named l. */
#define KEY(name, member) #name,
#define VAL(name, member) l->member,

int mv__node_labels(mv_buf *b, const mv_container_labels *l)
{
    static const char *const keys[] = {MV__CONTAINER_LABELS(KEY)};
    const char *vals[] = {MV__CONTAINER_LABELS(VAL)};
    int rc = 0;

    for (size_t i = 0; i < sizeof keys / sizeof *keys && !rc; i++) {
        rc = mv__buf_printf(b, "%s%s=\"", i ? "," : "", keys[i]);
        if (!rc)
            rc = mv__metric_label_value(b, vals[i]);
        if (!rc)
            rc = mv__buf_puts(b, "\"");
    }
    return rc;
}

/* Where a row's value comes from. */
typedef enum src {
    CGROUP_INFO,     /* 1, with path and version labels */
    SAMPLE_INT,      /* int64 field of the last sample at `off` */
    SAMPLE_PSI,      /* psi total_us at `off`, as seconds */
    SAMPLE_RATIO,    /* usage_ratio */
    LEVEL,           /* 0/1/2 */
    LEVEL_STATE,     /* one-hot on `arg` (mv_level) */
    GROWTH,          /* growth bytes/s */
    TIME_TO_LIMIT,
    OOM_RISK,
    OOM_RISK_TTL,
    LEAK_VERDICT,    /* one-hot on `arg` (mv__leak_verdict) */
    LEAK_CONFIDENCE,
    TARGET_UP
} src;

typedef struct row {
    const char *name, *type, *unit, *help;
    const char *extra;   /* extra label ("kind=\"anon\""), or NULL */
    src from;
    size_t off;
    int arg;
} row;

#define S(f) offsetof(mv_sample, f)

/* Help texts name the per-container meaning; docs/metrics.md has the
 * full one, shared with the single-target agent. */
static const row rows[] = {
    {"memvigil_cgroup_info", "info", NULL,
     "The cgroup the container's figures come from (path inside the "
     "hierarchy, as the id label; cgroup version); value 1.",
     NULL, CGROUP_INFO, 0, 0},
    {"memvigil_cgroup_usage_bytes", "gauge", "bytes",
     "Memory charged to the container's cgroup, page cache included.",
     NULL, SAMPLE_INT, S(cg_usage_bytes), 0},
    {"memvigil_cgroup_working_set_bytes", "gauge", "bytes",
     "Container usage minus inactive file cache (the kubelet's working set).",
     NULL, SAMPLE_INT, S(working_set_bytes), 0},
    {"memvigil_cgroup_limit_max_bytes", "gauge", "bytes",
     "Container hard memory limit, the tightest of its cgroup's and its "
     "ancestors' (pod, QoS class); +Inf when not set.",
     NULL, SAMPLE_INT, S(cg_max_bytes), 0},
    {"memvigil_cgroup_limit_high_bytes", "gauge", "bytes",
     "Container memory.high, the tightest of the chain; +Inf when not set.",
     NULL, SAMPLE_INT, S(cg_high_bytes), 0},
    {"memvigil_cgroup_memory_bytes", "gauge", "bytes",
     "Container memory by kind from memory.stat: anon, file.",
     "kind=\"anon\"", SAMPLE_INT, S(cg_anon_bytes), 0},
    {"memvigil_cgroup_memory_bytes", NULL, NULL, NULL,
     "kind=\"file\"", SAMPLE_INT, S(cg_file_bytes), 0},
    {"memvigil_cgroup_inactive_file_bytes", "gauge", "bytes",
     "Inactive page cache of the container (left out of the working set).",
     NULL, SAMPLE_INT, S(cg_inactive_file_bytes), 0},
    {"memvigil_cgroup_shmem_bytes", "gauge", "bytes",
     "Shared memory and tmpfs of the container (part of file).",
     NULL, SAMPLE_INT, S(cg_shmem_bytes), 0},
    {"memvigil_cgroup_swap_bytes", "gauge", "bytes",
     "Swap used by the container.", NULL, SAMPLE_INT, S(cg_swap_bytes), 0},
    {"memvigil_private_memory_bytes", "gauge", "bytes",
     "Private memory of the container: anon plus swap (the leak "
     "detector's signal).", NULL, SAMPLE_INT, S(private_bytes), 0},
    {"memvigil_cgroup_events_total", "counter", NULL,
     "Container memory events (memory.events; v1: oom_kill, max).",
     "event=\"oom\"", SAMPLE_INT, S(cg_oom_events), 0},
    {"memvigil_cgroup_events_total", NULL, NULL, NULL,
     "event=\"oom_kill\"", SAMPLE_INT, S(cg_oom_kill_events), 0},
    {"memvigil_cgroup_events_total", NULL, NULL, NULL,
     "event=\"high\"", SAMPLE_INT, S(cg_high_events), 0},
    {"memvigil_cgroup_events_total", NULL, NULL, NULL,
     "event=\"max\"", SAMPLE_INT, S(cg_max_events), 0},
    {"memvigil_cgroup_pressure_some_seconds_total", "counter", "seconds",
     "Time at least one task of the container was stalled on memory (v2).",
     NULL, SAMPLE_PSI, S(cg_psi_some.total_us), 0},
    {"memvigil_cgroup_pressure_full_seconds_total", "counter", "seconds",
     "Time all non-idle tasks of the container were stalled on memory (v2).",
     NULL, SAMPLE_PSI, S(cg_psi_full.total_us), 0},
    {"memvigil_effective_limit_bytes", "gauge", "bytes",
     "The container's limit hit first: the tightest of its cgroup max, "
     "high and MemTotal.", NULL, SAMPLE_INT, S(effective_limit_bytes), 0},
    {"memvigil_usage_ratio", "gauge", "ratio",
     "Container working set / effective limit.", NULL, SAMPLE_RATIO, 0, 0},
    {"memvigil_level", "gauge", NULL,
     "Container level: 0 ok, 1 warning, 2 critical.", NULL, LEVEL, 0, 0},
    {"memvigil_level_state", "gauge", NULL,
     "1 for the container's current level, 0 for the others.",
     "level=\"ok\"", LEVEL_STATE, 0, MV_LEVEL_OK},
    {"memvigil_level_state", NULL, NULL, NULL,
     "level=\"warning\"", LEVEL_STATE, 0, MV_LEVEL_WARNING},
    {"memvigil_level_state", NULL, NULL, NULL,
     "level=\"critical\"", LEVEL_STATE, 0, MV_LEVEL_CRITICAL},
    {"memvigil_growth_bytes_per_second", "gauge", NULL,
     "Current robust growth rate of the container's private memory.",
     NULL, GROWTH, 0, 0},
    {"memvigil_time_to_limit_seconds", "gauge", "seconds",
     "Time until the container reaches its effective limit at the current "
     "growth rate; +Inf when not growing.", NULL, TIME_TO_LIMIT, 0, 0},
    {"memvigil_oom_risk", "gauge", NULL,
     "1 while the container's out-of-memory risk claim holds (limit within "
     "12 h at the current rate), else 0.", NULL, OOM_RISK, 0, 0},
    {"memvigil_oom_risk_time_to_limit_seconds", "gauge", "seconds",
     "Time to the container's limit behind the OOM-risk claim.",
     NULL, OOM_RISK_TTL, 0, 0},
    {"memvigil_leak_verdict", "gauge", NULL,
     "Leak verdict on the container's private memory, one-hot.",
     "verdict=\"leak\"", LEAK_VERDICT, 0, MV_LEAK_LEAK},
    {"memvigil_leak_verdict", NULL, NULL, NULL,
     "verdict=\"suspect\"", LEAK_VERDICT, 0, MV_LEAK_SUSPECT},
    {"memvigil_leak_verdict", NULL, NULL, NULL,
     "verdict=\"no_leak\"", LEAK_VERDICT, 0, MV_LEAK_NO_LEAK},
    {"memvigil_leak_verdict", NULL, NULL, NULL,
     "verdict=\"insufficient_data\"", LEAK_VERDICT, 0,
     MV_LEAK_INSUFFICIENT_DATA},
    {"memvigil_leak_confidence", "gauge", NULL,
     "Confidence, 0..1, that the container's private memory leaks.",
     NULL, LEAK_CONFIDENCE, 0, 0},
    {"memvigil_target_up", "gauge", NULL,
     "1 while the container's cgroup exists, 0 during its grace period "
     "after it vanished.", NULL, TARGET_UP, 0, 0},
};

/* The row's value for t; NAN when absent. */
static double value(const row *r, const mv__node_target *t)
{
    const mv_sample *s = &t->last;
    int64_t v;

    switch (r->from) {
    case CGROUP_INFO:
        return 1;
    case SAMPLE_INT:
        memcpy(&v, (const char *)s + r->off, sizeof v);
        return v == MV_NA ? NAN : v == MV_UNLIMITED ? INFINITY : (double)v;
    case SAMPLE_PSI:
        memcpy(&v, (const char *)s + r->off, sizeof v);
        return v == MV_NA || v < 0 ? NAN : (double)v / 1e6;
    case SAMPLE_RATIO:
        return s->usage_ratio;
    case LEVEL:
        return (double)t->lstate.level;
    case LEVEL_STATE:
        return (int)t->lstate.level == r->arg;
    case GROWTH:
        return t->growth.valid ? t->growth.bytes_per_s : NAN;
    case TIME_TO_LIMIT:
        return t->time_to_limit_s;
    case OOM_RISK:
        return t->leak_res.risk.active ? 1 : 0;
    case OOM_RISK_TTL:
        return t->leak_res.risk.eta_s;
    case LEAK_VERDICT:
        return (int)t->leak_res.verdict == r->arg;
    case LEAK_CONFIDENCE:
        return t->leak_res.verdict == MV_LEAK_INSUFFICIENT_DATA
                   ? NAN : t->leak_res.confidence;
    case TARGET_UP:
        return t->up;
    }
    return NAN;
}

/* "name{labels[,extra]} value\n" by appends (no format parsing: a
 * scrape writes tens of thousands of these). */
static int put(mv_buf *b, const char *name, const char *labels,
               const char *extra, double v)
{
    int rc = mv__buf_append(b, name, strlen(name));
    if (!rc) rc = mv__buf_append(b, "{", 1);
    if (!rc) rc = mv__buf_append(b, labels, strlen(labels));
    if (!rc && extra) {
        rc = mv__buf_append(b, ",", 1);
        if (!rc) rc = mv__buf_append(b, extra, strlen(extra));
    }
    if (!rc) rc = mv__buf_append(b, "} ", 2);
    if (!rc)
        rc = mv__metric_double(b, v);
    if (!rc)
        rc = mv__buf_puts(b, "\n");
    return rc;
}

/* The container families: rows in order, each family's samples for
 * every container that has been read at least once. */
static int render_containers(const mv_node *n, mv_format fmt, mv_buf *b,
                             char **labels)
{
    int rc = 0;
    size_t i = 0, nrows = sizeof rows / sizeof *rows;

    while (i < nrows && !rc) {
        size_t end = i + 1;
        while (end < nrows && !rows[end].type)
            end++;                       /* rows of the same family */
        int opened = 0;
        for (size_t k = 0; k < n->ntargets && !rc; k++) {
            const mv__node_target *t = n->targets[k];
            if (!t->have_last && rows[i].from != TARGET_UP)
                continue;
            for (size_t r = i; r < end && !rc; r++) {
                double v = value(&rows[r], t);
                if (isnan(v))
                    continue;
                if (!opened) {
                    rc = mv__metric_family(b, fmt, rows[i].name, rows[i].type,
                                           rows[i].unit, rows[i].help);
                    opened = 1;
                }
                if (!rc && rows[r].from == CGROUP_INFO) {
                    mv_buf ex = {0};
                    rc = mv__buf_puts(&ex, "path=\"");
                    if (!rc) rc = mv__metric_label_value(&ex, t->labels.id);
                    if (!rc) rc = mv__buf_printf(&ex, "\",version=\"%d\"",
                                                 t->last.cgroup_version);
                    if (!rc)
                        rc = put(b, rows[r].name, labels[k], ex.data, v);
                    mv_buf_release(&ex);
                } else if (!rc) {
                    rc = put(b, rows[r].name, labels[k], rows[r].extra, v);
                }
            }
        }
        i = end;
    }
    return rc;
}

/* Each container's last OOM-kill victim (kernel log), with the victim's
 * labels then the container's; the host's kill count once. */
static int render_oom(const mv_node *n, mv_format fmt, mv_buf *b,
                      char **labels)
{
    mv_buf lab = {0};
    int rc = 0, opened = 0;

    if (n->oomw && n->host_oom_kills != MV_NA) {
        rc = mv__metric_family(b, fmt, mv__host_oom_kills_name, "counter",
                               NULL, mv__host_oom_kills_help);
        if (!rc)
            rc = mv__metric_sample_double(b, mv__host_oom_kills_name, NULL,
                                          (double)n->host_oom_kills);
    }
    for (size_t k = 0; k < n->ntargets && !rc; k++) {
        const mv_oom_kill *v = n->targets[k]->victim;
        if (!v)
            continue;
        if (!opened) {
            rc = mv__metric_family(b, fmt, mv__oom_victim_name, "gauge",
                                   "bytes", mv__oom_victim_help);
            opened = 1;
        }
        const struct { const char *type; int64_t v; } f[] = {
            {"anon", v->anon_rss_bytes},
            {"file", v->file_rss_bytes},
            {"shmem", v->shmem_rss_bytes},
        };
        for (size_t j = 0; j < sizeof f / sizeof *f && !rc; j++) {
            if (f[j].v == MV_NA)
                continue;
            rc = mv__expose_oom_victim_labels(&lab, v, f[j].type, labels[k]);
            if (!rc)   /* the victim's labels, then the container's */
                rc = mv__metric_sample_double(b, mv__oom_victim_name,
                                              lab.data, (double)f[j].v);
        }
    }
    mv_buf_release(&lab);
    return rc;
}

static int fam_int(mv_buf *b, mv_format fmt, const char *name,
                   const char *type, const char *unit, const char *help,
                   double v)
{
    if (isnan(v))
        return 0;
    int rc = mv__metric_family(b, fmt, name, type, unit, help);
    if (!rc)
        rc = mv__metric_sample_double(b, name, NULL, v);
    return rc;
}

static double na(int64_t v)
{
    return v == MV_NA ? NAN : (double)v;
}

/* The agent's own families and the host's. */
static int render_node(const mv_node *n, mv_format fmt, mv_buf *b)
{
    size_t up = 0, mem = sizeof *n + n->cap_targets * sizeof *n->targets +
                         n->cap_evs * sizeof *n->evs;
    int rc = 0;

    for (size_t i = 0; i < n->ntargets; i++) {
        up += n->targets[i]->up;
        mem += mv__node_target_footprint(n->targets[i]);
    }
    const mv_sample *s = &n->system;
    rc = fam_int(b, fmt, "memvigil_node_containers", "gauge", NULL,
                 "Containers watched now (those in their grace period "
                 "included).", (double)n->ntargets);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_containers_up", "gauge", NULL,
                     "Watched containers whose cgroup exists now.",
                     (double)up);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_containers_max", "gauge", NULL,
                     "The cap on watched containers (--max-containers).",
                     (double)n->cfg.max_containers);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_containers_discovered_total",
                     "counter", NULL, "Containers picked up so far.",
                     (double)n->discovered_total);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_containers_dropped_total",
                     "counter", NULL,
                     "Containers whose series were dropped after their "
                     "grace period.", (double)n->dropped_total);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_containers_capped_total",
                     "counter", NULL,
                     "Container sightings left unwatched because the cap "
                     "was reached (one per container per tick).",
                     (double)n->capped_total);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_read_errors_total", "counter",
                     NULL, "Container reads that failed (not counting "
                     "containers that vanished).",
                     (double)n->read_errors_total);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_node_walk_skipped_total", "counter",
                     NULL, "Directories the discovery walk could not read.",
                     (double)n->walk_skipped_total);
    if (!rc)
        rc = mv__metric_family(b, fmt, "memvigil_tick_duration_seconds",
                               "histogram", "seconds",
                               "Wall time of one sampler tick (discovery, "
                               "every container, detectors, events).");
    uint64_t cum = 0;
    for (int i = 0; i < MV_TICK_BUCKETS && !rc; i++) {
        cum += n->tick_hist[i];
        rc = mv__buf_puts(b, "memvigil_tick_duration_seconds_bucket{le=\"");
        if (!rc) rc = mv__metric_le(b, fmt, mv__tick_bucket_bounds[i]);
        if (!rc) rc = mv__buf_puts(b, "\"} ");
        if (!rc) rc = mv__metric_int(b, (int64_t)cum);
        if (!rc) rc = mv__buf_puts(b, "\n");
    }
    if (!rc)
        rc = mv__metric_sample_double(b, "memvigil_tick_duration_seconds_sum",
                                      NULL, n->tick_seconds_sum);
    if (!rc)
        rc = mv__metric_sample_int(b, "memvigil_tick_duration_seconds_count",
                                   NULL, (int64_t)cum);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_monitor_cpu_seconds_total", "counter",
                     "seconds", "CPU time of the sampler thread.",
                     n->cpu_seconds);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_monitor_interval_seconds", "gauge",
                     "seconds", "Sampling interval.",
                     (double)n->cfg.interval_ms / 1000.0);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_monitor_memory_bytes", "gauge",
                     "bytes", "Memory the node agent holds for its "
                     "containers (series, detectors, state).", (double)mem);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_events_dropped_total", "counter",
                     NULL, "Events lost (no memory, or a stalled event log).",
                     (double)n->events_dropped);
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_host_memory_total_bytes", "gauge",
                     "bytes", "Physical memory of the host (MemTotal).",
                     na(s->mem_total_bytes));
    if (!rc)
        rc = fam_int(b, fmt, "memvigil_host_memory_available_bytes", "gauge",
                     "bytes", "Memory available for new work (MemAvailable).",
                     na(s->mem_available_bytes));
    if (!rc && s->sys_psi_some.total_us >= 0)
        rc = fam_int(b, fmt, "memvigil_host_pressure_some_seconds_total",
                     "counter", "seconds",
                     "Time at least one task of the host was stalled "
                     "waiting for memory.",
                     (double)s->sys_psi_some.total_us / 1e6);
    if (!rc) {
        char lab[64];
        snprintf(lab, sizeof lab, "version=\"%s\"", mv_version());
        rc = mv__metric_family(b, fmt, "memvigil_build_info", "info", NULL,
                               "memvigil build information; value 1.");
        if (!rc)
            rc = mv__metric_sample_int(b, "memvigil_build_info", lab, 1);
    }
    if (!rc && fmt == MV_FORMAT_OPENMETRICS)
        rc = mv__buf_puts(b, "# EOF\n");
    return rc;
}

/* JSON: {"containers":[{labels, "up", the figures}], "node":{counts}}. */
static int render_json(const mv_node *n, mv_buf *b)
{
    int rc = mv__buf_puts(b, "{\"containers\":[");

    for (size_t k = 0; k < n->ntargets && !rc; k++) {
        const mv__node_target *t = n->targets[k];
        const mv_container_labels *l = &t->labels;
        static const char *const keys[] = {MV__CONTAINER_LABELS(KEY)};
        const char *vals[] = {MV__CONTAINER_LABELS(VAL)};
        rc = mv__buf_puts(b, k ? ",{" : "{");
        for (size_t i = 0; i < sizeof keys / sizeof *keys && !rc; i++) {
            rc = mv__buf_printf(b, "%s\"%s\":\"", i ? "," : "", keys[i]);
            if (!rc) rc = mv__metric_label_value(b, vals[i]);
            if (!rc) rc = mv__buf_puts(b, "\"");
        }
        if (!rc)
            rc = mv__buf_printf(b, ",\"up\":%s,\"level\":\"%s\","
                                "\"leak_verdict\":\"%s\",\"oom_risk\":%s,"
                                "\"working_set_bytes\":",
                                t->up ? "true" : "false",
                                mv_level_name(t->lstate.level),
                                mv__leak_verdict_name(t->leak_res.verdict),
                                t->leak_res.risk.active ? "true" : "false");
        if (!rc)
            rc = mv__json_number(b, t->have_last
                                        ? na(t->last.working_set_bytes) : NAN);
        if (!rc)
            rc = mv__buf_puts(b, ",\"effective_limit_bytes\":");
        if (!rc)
            rc = t->have_last && t->last.effective_limit_bytes == MV_UNLIMITED
                     ? mv__buf_puts(b, "\"max\"")
                     : mv__json_number(b, t->have_last
                                   ? na(t->last.effective_limit_bytes) : NAN);
        if (!rc)
            rc = mv__buf_puts(b, ",\"time_to_limit_seconds\":");
        if (!rc)
            rc = mv__json_number(b, t->time_to_limit_s);
        if (!rc)
            rc = mv__buf_puts(b, "}");
    }
    if (!rc)
        rc = mv__buf_printf(b, "],\"node\":{\"containers\":%zu,\"ticks\":%lld,"
                            "\"dropped_total\":%lld,\"capped_total\":%lld,"
                            "\"read_errors_total\":%lld}}\n",
                            n->ntargets, (long long)n->ticks,
                            (long long)n->dropped_total,
                            (long long)n->capped_total,
                            (long long)n->read_errors_total);
    return rc;
}

int mv__node_render(void *ctx, mv_format fmt, mv_buf *out)
{
    mv_node *n = ctx;
    size_t start = out->len;
    int rc = 0;

    pthread_mutex_lock(&n->lock);
    if (fmt == MV_FORMAT_JSON) {
        rc = render_json(n, out);
    } else {
        char **labels = calloc(n->ntargets + 1, sizeof *labels);
        mv_buf lb = {0};
        if (!labels)
            rc = -ENOMEM;
        for (size_t k = 0; k < n->ntargets && !rc; k++) {
            mv__buf_reset(&lb);
            rc = mv__node_labels(&lb, &n->targets[k]->labels);
            if (!rc && !(labels[k] = strdup(lb.data ? lb.data : "")))
                rc = -ENOMEM;
        }
        mv_buf_release(&lb);
        if (!rc)
            rc = render_containers(n, fmt, out, labels);
        if (!rc)
            rc = render_oom(n, fmt, out, labels);
        if (!rc)
            rc = render_node(n, fmt, out);
        for (size_t k = 0; labels && k < n->ntargets; k++)
            free(labels[k]);
        free(labels);
    }
    pthread_mutex_unlock(&n->lock);
    if (rc && out->len > start) {    /* out keeps what it had */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
