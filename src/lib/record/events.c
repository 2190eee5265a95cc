/*
 * events.c — names of levels and event kinds, the JSON form of an event
 * (event log lines, the status document) and the one-line human message.
 *
 * Design: messages say what a person on call needs first — the level or
 * the rate, against which limit, and how long is left — in binary units
 * ("1.7 GiB of 2.0 GiB limit (85%)"). The measure named is the one the usage
 * ratio is computed from: the cgroup working set when a cgroup limit is the
 * effective one, else resident memory. Figures that are unavailable are left
 * out of the sentence rather than printed as "n/a" where possible.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container_labels.h"
#include "events.h"
#include "sample_json.h"
#include "util.h"

static const char *const level_names[] = {"ok", "warning", "critical"};

const char *mv_level_name(mv_level level)
{
    if ((unsigned)level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "unknown";
}

static const char *const kind_names[MV_EVENT_KIND_COUNT] = {
    [MV_EVENT_STARTED] = "started",
    [MV_EVENT_LEVEL] = "level_changed",
    [MV_EVENT_GROWTH] = "growth",
    [MV_EVENT_OOM_KILL] = "oom_kill",
    [MV_EVENT_SWAP_GROWING] = "swap_growing",
    [MV_EVENT_PER_UNIT_RISING] = "per_unit_rising",
    [MV_EVENT_PHASE] = "phase",
    [MV_EVENT_BUDGET] = "budget",
    [MV_EVENT_TARGET_EXIT] = "target_exit",
    [MV_EVENT_PID_REUSE] = "pid_reuse",
    [MV_EVENT_PROBE_ERROR] = "probe_error",
    [MV_EVENT_LEAK_SUSPECTED] = "leak_suspected",
    [MV_EVENT_LEAK] = "leak",
    [MV_EVENT_LEAK_CLEARED] = "leak_cleared",
    [MV_EVENT_OOM_RISK] = "oom_risk",
    [MV_EVENT_RECORDING_FAILED] = "recording_failed",
    [MV_EVENT_RECORDING_RESUMED] = "recording_resumed",
    [MV_EVENT_OOM_RISK_CLEARED] = "oom_risk_cleared",
    [MV_EVENT_FRAGMENTATION] = "fragmentation",
    [MV_EVENT_FRAGMENTATION_CLEARED] = "fragmentation_cleared",
    [MV_EVENT_TRIM] = "trim",
};

const char *mv_event_kind_name(mv_event_kind kind)
{
    /* a kind added to memvigil.h without a name here must not give NULL */
    if ((unsigned)kind < MV_EVENT_KIND_COUNT && kind_names[kind])
        return kind_names[kind];
    return "unknown";
}

/* ---- figures ---- */

/* snprintf into a fixed message; a message longer than the field is cut,
 * which is the intended behaviour (a message is one line). */
static void say(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

/* The measure the usage ratio is based on, and its name. */
static int64_t usage_measure(const mv_sample *s, const char **what)
{
    int cg_limit = s->limit_source == MV_LIMIT_CGROUP_MAX ||
                   s->limit_source == MV_LIMIT_CGROUP_HIGH;
    if (cg_limit && s->working_set_bytes != MV_NA) {
        *what = "working set";
        return s->working_set_bytes;
    }
    if (s->rss_bytes != MV_NA) {
        *what = "resident memory";
        return s->rss_bytes;
    }
    *what = "working set";
    return s->working_set_bytes;
}

static int known_limit(int64_t v) { return v != MV_NA && v != MV_UNLIMITED && v > 0; }

/* "working set 1.7 GiB of 2.0 GiB limit (85%)", or shorter without a limit;
 * empty when nothing is known. */
static void usage_phrase(const mv_sample *s, char *out, size_t n)
{
    out[0] = '\0';
    if (!s)
        return;
    const char *what;
    int64_t used = usage_measure(s, &what);
    if (used == MV_NA)
        return;
    char u[32], l[32];
    mv__human_bytes(used, u, sizeof u);
    if (!known_limit(s->effective_limit_bytes)) {
        say(out, n, "%s %s", what, u);
        return;
    }
    mv__human_bytes(s->effective_limit_bytes, l, sizeof l);
    double ratio = isnan(s->usage_ratio)
                       ? (double)used / (double)s->effective_limit_bytes
                       : s->usage_ratio;
    say(out, n, "%s %s of %s limit (%.0f%%)", what, u, l, ratio * 100.0);
}

const char *mv_oom_constraint_name(mv_oom_constraint c)
{
    switch (c) {
    case MV_OOM_CONSTRAINT_MEMCG: return "cgroup";
    case MV_OOM_CONSTRAINT_NONE: return "global";
    case MV_OOM_CONSTRAINT_CPUSET: return "cpuset";
    case MV_OOM_CONSTRAINT_MEMORY_POLICY: return "memory_policy";
    default: return "unknown";
    }
}

/* "pid 123 (leaky) at anon-rss 63.8 MiB, file-rss 1.2 MiB, shmem-rss 0 B,
 * oom_score_adj 0, cgroup limit of /x" into out. */
static void victim_phrase(const mv_oom_kill *k, char *out, size_t n)
{
    char anon[32], file[32], shmem[32], adj[40] = "", why[MV_CGROUP_PATH_MAX + 32];
    char comm[MV_OOM_COMM_MAX];
    memcpy(comm, k->comm, sizeof comm); /* never trust termination */
    comm[sizeof comm - 1] = '\0';
    mv__human_bytes(k->anon_rss_bytes, anon, sizeof anon);
    mv__human_bytes(k->file_rss_bytes, file, sizeof file);
    mv__human_bytes(k->shmem_rss_bytes, shmem, sizeof shmem);
    if (k->oom_score_adj != MV_OOM_SCORE_ADJ_NA)
        snprintf(adj, sizeof adj, ", oom_score_adj %" PRId64, k->oom_score_adj);
    if (k->constraint == MV_OOM_CONSTRAINT_MEMCG && k->oom_cgroup[0])
        snprintf(why, sizeof why, "limit of cgroup %.*s", MV_CGROUP_PATH_MAX - 1,
                 k->oom_cgroup);
    else
        snprintf(why, sizeof why, "%s OOM", mv_oom_constraint_name(k->constraint));
    say(out, n, "the kernel killed pid %d (%s) at anon-rss %s, file-rss %s, "
        "shmem-rss %s%s (%s)", (int)k->pid, comm, anon, file, shmem, adj, why);
}

void mv__event_describe_oom(mv_event *ev, int64_t prev_count)
{
    if (ev->oom_kill) {
        const mv_sample *s = ev->sample;
        int64_t now = s ? s->cg_oom_kill_events : MV_NA;
        char victim[256], count[64] = "";
        victim_phrase(ev->oom_kill, victim, sizeof victim);
        if (prev_count != MV_NA && now != MV_NA)
            snprintf(count, sizeof count, " (count %" PRId64 " -> %" PRId64 ")",
                     prev_count, now);
        const char *path = ev->oom_kill->task_cgroup[0] ? ev->oom_kill->task_cgroup
                           : s && s->cgroup_path[0] ? s->cgroup_path : "?";
        say(ev->message, sizeof ev->message, "OOM kill in cgroup %.*s%s: %s",
            120, path, count, victim);
        return;
    }
    const mv_sample *s = ev->sample;
    char usage[160];
    usage_phrase(s, usage, sizeof usage);
    const char *path = s && s->cgroup_path[0] ? s->cgroup_path : "?";
    int64_t now = s ? s->cg_oom_kill_events : MV_NA;
    char count[64];
    if (prev_count != MV_NA && now != MV_NA)
        snprintf(count, sizeof count, "count %" PRId64 " -> %" PRId64, prev_count, now);
    else if (now != MV_NA)
        snprintf(count, sizeof count, "count %" PRId64, now);
    else
        snprintf(count, sizeof count, "count unknown");
    say(ev->message, sizeof ev->message, "OOM kill in cgroup %s (%s)%s%s", path,
             count, usage[0] ? "; last: " : "", usage);
}

void mv__event_describe_phase(mv_event *ev, int began)
{
    say(ev->message, sizeof ev->message, "phase %s %s%s",
             ev->subject ? ev->subject : "?", began ? "began" : "ended",
             began ? "; growth warnings are held back while it runs" : "");
}

void mv__event_describe(mv_event *ev)
{
    const mv_sample *s = ev->sample;
    char usage[160], a[40], b[40];
    usage_phrase(s, usage, sizeof usage);
    char *m = ev->message;
    size_t n = sizeof ev->message;
    switch (ev->kind) {
    case MV_EVENT_STARTED:
        if (s && s->pid > 0)
            say(m, n, "monitoring pid %d%s%s", (int)s->pid, usage[0] ? ": " : "",
                     usage);
        else if (s && s->cgroup_path[0])
            say(m, n, "monitoring cgroup %s%s%s", s->cgroup_path,
                     usage[0] ? ": " : "", usage);
        else
            say(m, n, "monitoring started");
        break;
    case MV_EVENT_LEVEL:
        if (ev->level < ev->prev_level)
            say(m, n, "level %s (was %s)%s%s", mv_level_name(ev->level),
                     mv_level_name(ev->prev_level), usage[0] ? ": " : "", usage);
        else
            say(m, n, "level %s%s%s", mv_level_name(ev->level),
                     usage[0] ? ": " : "", usage);
        break;
    case MV_EVENT_GROWTH: {
        if (isnan(ev->growth_bytes_per_s)) {
            say(m, n, "growth detected");
            break;
        }
        mv__human_rate(ev->growth_bytes_per_s, a, sizeof a);
        if (s && known_limit(s->effective_limit_bytes) && isfinite(ev->time_to_limit_s)) {
            mv__human_bytes(s->effective_limit_bytes, b, sizeof b);
            char eta[40];
            mv__human_eta(ev->time_to_limit_s, eta, sizeof eta);
            say(m, n, "growth %s; at this rate the %s limit is reached in %s", a, b,
                     eta);
        } else if (isfinite(ev->time_to_limit_s)) {
            char eta[40];
            mv__human_eta(ev->time_to_limit_s, eta, sizeof eta);
            say(m, n, "growth %s; at this rate the limit is reached in %s", a, eta);
        } else {
            say(m, n, "growth %s", a);
        }
        break;
    }
    case MV_EVENT_OOM_KILL:
        mv__event_describe_oom(ev, MV_NA);
        break;
    case MV_EVENT_SWAP_GROWING:
        if (s && s->swap_bytes != MV_NA) {
            mv__human_bytes(s->swap_bytes, a, sizeof a);
            say(m, n, "swap used by the target keeps rising: %s", a);
        } else if (s && s->cg_swap_bytes != MV_NA) {
            mv__human_bytes(s->cg_swap_bytes, a, sizeof a);
            say(m, n, "swap used by the cgroup keeps rising: %s", a);
        } else {
            say(m, n, "swap used by the target keeps rising");
        }
        break;
    case MV_EVENT_PER_UNIT_RISING:
        say(m, n, "memory per %s keeps rising (3 checkpoints in a row)%s%s",
                 ev->subject ? ev->subject : "unit", usage[0] ? "; " : "", usage);
        break;
    case MV_EVENT_PHASE:
        say(m, n, "phase %s", ev->subject ? ev->subject : "?");
        break;
    case MV_EVENT_BUDGET:
        say(m, n, "monitor over its CPU budget; sampling less often%s%s",
                 ev->subject ? ": " : "", ev->subject ? ev->subject : "");
        break;
    case MV_EVENT_TARGET_EXIT:
        if (s && s->pid > 0)
            say(m, n, "target process %d exited%s%s", (int)s->pid,
                     usage[0] ? "; last: " : "", usage);
        else
            say(m, n, "target exited");
        break;
    case MV_EVENT_PID_REUSE:
        if (s && s->pid > 0)
            say(m, n, "pid %d now names another process; the target is gone",
                     (int)s->pid);
        else
            say(m, n, "the target's pid now names another process");
        break;
    case MV_EVENT_PROBE_ERROR:
        say(m, n, "sampling failed%s%s", ev->subject ? ": " : "",
                 ev->subject ? ev->subject : "");
        break;
    /* The monitor passes the leak detector's evidence sentence as the
     * message of the leak events; these are the fallbacks. */
    case MV_EVENT_LEAK_SUSPECTED:
    case MV_EVENT_LEAK:
    case MV_EVENT_OOM_RISK: {
        const char *what = ev->kind == MV_EVENT_LEAK ? "leak detected"
                           : ev->kind == MV_EVENT_OOM_RISK ? "out-of-memory risk"
                                                           : "possible leak";
        if (isnan(ev->growth_bytes_per_s)) {
            say(m, n, "%s", what);
            break;
        }
        mv__human_rate(ev->growth_bytes_per_s, a, sizeof a);
        if (isfinite(ev->time_to_limit_s)) {
            mv__human_eta(ev->time_to_limit_s, b, sizeof b);
            say(m, n, "%s: private memory grows %s; the limit is reached in %s",
                what, a, b);
        } else {
            say(m, n, "%s: private memory grows %s", what, a);
        }
        break;
    }
    case MV_EVENT_LEAK_CLEARED:
        say(m, n, "leak verdict cleared: private memory no longer grows");
        break;
    case MV_EVENT_OOM_RISK_CLEARED:
        say(m, n, "out-of-memory risk cleared: private memory no longer "
                  "grows toward the limit");
        break;
    /* The monitor passes the verdict, evidence and advice as message. */
    case MV_EVENT_FRAGMENTATION:
        say(m, n, "allocator fragmentation: private memory exceeds the heap "
                  "in use");
        break;
    case MV_EVENT_FRAGMENTATION_CLEARED:
        say(m, n, "allocator fragmentation cleared");
        break;
    case MV_EVENT_TRIM:
        say(m, n, "allocator trimmed");
        break;
    /* The monitor passes the file, the error and the count as message. */
    case MV_EVENT_RECORDING_FAILED:
        say(m, n, "recording lines are being lost");
        break;
    case MV_EVENT_RECORDING_RESUMED:
        say(m, n, "recording lines are written again");
        break;
    default:
        say(m, n, "event %d", (int)ev->kind);
        break;
    }
}

/* ---- JSON ---- */

int mv__event_to_json(const mv_event *ev, mv_buf *out)
{
    if (!ev || !out)
        return -EINVAL;
    size_t start = out->len;
    const mv_sample *s = ev->sample;
    int rc = mv__buf_puts(out, "{");
    if (!rc) rc = mv__json_line_time(out, ev->timestamp_ms);
    if (!rc) rc = mv__buf_printf(out, ",\"event\":\"%s\",\"level\":\"%s\"",
                                 mv_event_kind_name(ev->kind), mv_level_name(ev->level));
    if (!rc && ev->kind == MV_EVENT_LEVEL)
        rc = mv__buf_printf(out, ",\"prev_level\":\"%s\"", mv_level_name(ev->prev_level));
    if (!rc && s) {
        /* the sample's short set, by the table's names; pid and the cgroup
         * say whose figures they are */
        rc = mv__buf_printf(out, ",\"pid\":%d", (int)s->pid);
        if (!rc) rc = mv__sample_json_fields(out, s, MV__SJ_REC | MV__SJ_NO_TIMESTAMP);
        if (!rc && s->cgroup_path[0]) {
            char path[sizeof s->cgroup_path];
            memcpy(path, s->cgroup_path, sizeof path); /* never trust termination */
            path[sizeof path - 1] = '\0';
            rc = mv__buf_puts(out, ",\"cgroup_path\":");
            if (!rc) rc = mv__buf_json_string(out, path);
        }
    }
    if (!rc) rc = mv__buf_puts(out, ",\"growth_bytes_per_second\":");
    if (!rc) rc = mv__json_double(out, ev->growth_bytes_per_s);
    /* null for both "n/a" and "never": time_to_limit_infinite tells which */
    if (!rc) rc = mv__buf_puts(out, ",\"time_to_limit_seconds\":");
    if (!rc) rc = mv__json_double(out, ev->time_to_limit_s);
    if (!rc && isinf(ev->time_to_limit_s))
        rc = mv__buf_puts(out, ",\"time_to_limit_infinite\":true");
    if (!rc && ev->subject) {
        rc = mv__buf_puts(out, ",\"subject\":");
        if (!rc) rc = mv__buf_json_string(out, ev->subject);
    }
    if (!rc && ev->container) {
        /* node mode: the container's labels, named as on its metrics */
        const mv_container_labels *l = ev->container;
#define KEY(name, member) #name,
#define VAL(name, member) l->member,
        const char *keys[] = {MV__CONTAINER_LABELS(KEY)};
        const char *vals[] = {MV__CONTAINER_LABELS(VAL)};
#undef KEY
#undef VAL
        rc = mv__buf_puts(out, ",\"labels\":{");
        for (size_t i = 0; i < sizeof keys / sizeof *keys && !rc; i++) {
            char v[MV_CGROUP_PATH_MAX];
            mv__strlcpy(v, vals[i], sizeof v);
            rc = mv__buf_printf(out, "%s\"%s\":", i ? "," : "", keys[i]);
            if (!rc) rc = mv__buf_json_string(out, v);
        }
        if (!rc) rc = mv__buf_puts(out, "}");
    }
    if (!rc && ev->oom_kill) {
        rc = mv__buf_puts(out, ",\"oom_kill\":");
        if (!rc) rc = mv__oom_kill_to_json(ev->oom_kill, out);
    }
    if (!rc) rc = mv__buf_puts(out, ",\"message\":");
    if (!rc) {
        char msg[sizeof ev->message];
        memcpy(msg, ev->message, sizeof msg); /* never trust termination */
        msg[sizeof msg - 1] = '\0';
        rc = mv__buf_json_string(out, msg);
    }
    if (!rc) rc = mv__buf_puts(out, "}");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

/* Appends a JSON string of the first n bytes of s (never trusting its
 * termination). */
static int json_field_string(mv_buf *out, const char *key, const char *s, size_t n)
{
    char tmp[MV_CGROUP_PATH_MAX];
    if (n > sizeof tmp)
        n = sizeof tmp;
    memcpy(tmp, s, n);
    tmp[n - 1] = '\0';
    int rc = mv__buf_printf(out, ",\"%s\":", key);
    return rc ? rc : mv__buf_json_string(out, tmp);
}

int mv__oom_kill_to_json(const mv_oom_kill *k, mv_buf *out)
{
    if (!k || !out)
        return -EINVAL;
    size_t start = out->len;
    int rc = mv__buf_printf(out, "{\"pid\":%d", (int)k->pid);
    if (!rc) rc = json_field_string(out, "comm", k->comm, sizeof k->comm);
    if (!rc) rc = mv__buf_puts(out, ",\"uid\":");
    if (!rc) rc = mv__buf_json_int(out, k->uid);
    if (!rc) rc = mv__buf_printf(out, ",\"constraint\":\"%s\"",
                                 mv_oom_constraint_name(k->constraint));
    if (!rc) rc = json_field_string(out, "task_cgroup", k->task_cgroup, sizeof k->task_cgroup);
    if (!rc) rc = json_field_string(out, "oom_cgroup", k->oom_cgroup, sizeof k->oom_cgroup);
    static const struct { const char *key; size_t off; } figs[] = {
        { "total_vm_bytes", offsetof(mv_oom_kill, total_vm_bytes) },
        { "anon_rss_bytes", offsetof(mv_oom_kill, anon_rss_bytes) },
        { "file_rss_bytes", offsetof(mv_oom_kill, file_rss_bytes) },
        { "shmem_rss_bytes", offsetof(mv_oom_kill, shmem_rss_bytes) },
        { "pgtables_bytes", offsetof(mv_oom_kill, pgtables_bytes) },
        { "kernel_ts_us", offsetof(mv_oom_kill, kernel_ts_us) },
    };
    for (size_t i = 0; !rc && i < sizeof figs / sizeof figs[0]; i++) {
        int64_t v;
        memcpy(&v, (const char *)k + figs[i].off, sizeof v);
        rc = mv__buf_printf(out, ",\"%s\":", figs[i].key);
        if (!rc) rc = mv__buf_json_int(out, v);
    }
    if (!rc) rc = mv__buf_puts(out, ",\"oom_score_adj\":");
    if (!rc) rc = k->oom_score_adj == MV_OOM_SCORE_ADJ_NA
                      ? mv__buf_puts(out, "null")
                      : mv__buf_printf(out, "%" PRId64, k->oom_score_adj);
    if (!rc) rc = mv__buf_puts(out, "}");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
