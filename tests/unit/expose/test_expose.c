/* test_expose.c — unit tests of expose.c: a hand-made full state and an
 * all-unavailable state rendered as Prometheus text (checked by
 * `promtool check metrics` and by exact lines), as OpenMetrics (checked by a
 * structural validator below, since promtool 2.42's `check metrics` only
 * parses the 0.0.4 text format, plus exact lines), and as JSON (checked with
 * jq); process_* from a fixture proc tree; every rendered family has a row
 * in docs/metrics.md and every row is rendered; Accept negotiation; content
 * types. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "expose.h"
#include "registry.h"
#include "util.h"

#define MiB (1024LL * 1024)
#define GiB (1024LL * MiB)

/* ---- helpers ---- */

static void psi_na(mv_psi *p)
{
    p->avg10 = p->avg60 = p->avg300 = NAN;
    p->total_us = MV_NA;
}

/* Everything unavailable (probe's mv_sample_clear is not linked here). */
static void sample_na(mv_sample *s)
{
    memset(s, 0, sizeof *s);
    int64_t *ints[] = {
        &s->start_time_ticks, &s->rss_bytes, &s->rss_anon_bytes, &s->rss_file_bytes,
        &s->rss_shmem_bytes, &s->swap_bytes, &s->rss_peak_bytes, &s->vm_size_bytes,
        &s->threads, &s->pss_bytes, &s->pss_anon_bytes, &s->pss_file_bytes,
        &s->pss_shmem_bytes, &s->cg_usage_bytes, &s->cg_max_bytes, &s->cg_high_bytes,
        &s->cg_anon_bytes, &s->cg_file_bytes, &s->cg_inactive_file_bytes,
        &s->cg_shmem_bytes, &s->cg_swap_bytes, &s->cg_oom_events,
        &s->cg_oom_kill_events, &s->cg_high_events, &s->cg_max_events,
        &s->mem_total_bytes, &s->mem_available_bytes, &s->swap_total_bytes,
        &s->swap_free_bytes, &s->working_set_bytes, &s->private_bytes,
        &s->effective_limit_bytes};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        *ints[i] = MV_NA;
    psi_na(&s->cg_psi_some);
    psi_na(&s->cg_psi_full);
    psi_na(&s->sys_psi_some);
    psi_na(&s->sys_psi_full);
    s->usage_ratio = NAN;
}

static void sample_full(mv_sample *s)
{
    sample_na(s);
    s->timestamp_ms = 1714564800000LL;
    s->monotonic_ms = 123456;
    s->pid = 4242;
    s->nprocs = 3;
    s->start_time_ticks = 777;
    s->rss_bytes = 1500000000;
    s->rss_anon_bytes = 1234567890;
    s->rss_file_bytes = 200000000;
    s->rss_shmem_bytes = 65432110;
    s->swap_bytes = 4096;
    s->rss_peak_bytes = 1600000000;
    s->vm_size_bytes = 8000000000LL;
    s->threads = 17;
    s->pss_bytes = 1400000000;
    s->pss_anon_bytes = 1234567890;
    s->pss_file_bytes = 100000000;
    s->pss_shmem_bytes = 65432110;
    s->cgroup_version = 2;
    mv__strlcpy(s->cgroup_path, "/system.slice/my \"svc\".service", sizeof s->cgroup_path);
    s->cg_usage_bytes = 1800000000;
    s->cg_max_bytes = 2 * GiB;
    s->cg_high_bytes = MV_UNLIMITED;
    s->cg_anon_bytes = 1300000000;
    s->cg_file_bytes = 400000000;
    s->cg_inactive_file_bytes = 150000000;
    s->cg_shmem_bytes = 65432110;
    s->cg_swap_bytes = 0;
    s->cg_oom_events = 3;
    s->cg_oom_kill_events = 2;
    s->cg_high_events = 0;
    s->cg_max_events = 41;
    s->cg_psi_some = (mv_psi){1.5, 0.75, 0.25, 12345678};
    s->cg_psi_full = (mv_psi){0.5, 0.25, 0.1, 2500000};
    s->sys_psi_some = (mv_psi){0, 0, 0, 99000000};
    s->sys_psi_full = (mv_psi){0, 0, 0, 1};
    s->mem_total_bytes = 16 * GiB;
    s->mem_available_bytes = 9 * GiB;
    s->swap_total_bytes = 2 * GiB;
    s->swap_free_bytes = 2 * GiB - 4096;
    s->working_set_bytes = 1650000000;
    s->private_bytes = 1234567890 + 4096;
    s->effective_limit_bytes = 2 * GiB;
    s->limit_source = MV_LIMIT_CGROUP_MAX;
    s->usage_ratio = 1650000000.0 / (2.0 * GiB);
}

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/mv_test_expose_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Runs "cmd < file-with-text"; returns its exit status, output in out. */
static int run_with_input(const char *cmd0, const char *text, char *out, size_t n)
{
    char *path = write_temp(text);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s < %s 2>&1", cmd0, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    while (got && out[got - 1] == '\n')
        out[--got] = '\0';
    int st = pclose(p);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int promtool(const char *text, char *out, size_t n)
{
    return run_with_input("promtool check metrics", text, out, n);
}

static int jq(const char *json, const char *filter, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "jq -e -r '%s'", filter);
    return run_with_input(cmd, json, out, n);
}

/* ---- a structural OpenMetrics 1.0 validator ----
 * promtool 2.42's `check metrics` parses only 0.0.4 text, so OpenMetrics
 * output is checked here against the rules of the spec that matter for us:
 * metadata before samples, each family declared once and its samples
 * contiguous, sample names matching the family type (counter -> _total,
 * histogram -> _bucket/_count/_sum, info -> _info, gauge -> name), # UNIT
 * only when the family name ends in the unit, label syntax and escapes,
 * values that parse (+Inf/-Inf/NaN spelled so), histogram buckets
 * non-decreasing ending at le="+Inf" equal to _count, no negative sum or
 * counter, and exactly one "# EOF" as the last line. Returns NULL or a
 * description of the first problem (static buffer). */
static const char *om_validate(const char *text)
{
    static char err[512];
    char seen[256][128];
    size_t nseen = 0;
    char family[128] = "", type[32] = "";
    int have_samples = 0;
    double last_bucket = -1, inf_bucket = -1, count = -1;
    char hist_series[512] = "";
    const char *p = text;
    int lineno = 0, eof = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            snprintf(err, sizeof err, "line %d: no newline at end", lineno + 1);
            return err;
        }
        lineno++;
        char line[2048];
        size_t len = (size_t)(nl - p);
        if (len >= sizeof line) {
            snprintf(err, sizeof err, "line %d too long", lineno);
            return err;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl + 1;
        if (eof) {
            snprintf(err, sizeof err, "line %d after # EOF", lineno);
            return err;
        }
        if (strcmp(line, "# EOF") == 0) {
            eof = 1;
            continue;
        }
        if (line[0] == '#') {
            char kw[16], name[128], rest[1024] = "";
            if (sscanf(line, "# %15s %127s %1023[^\n]", kw, name, rest) < 2) {
                snprintf(err, sizeof err, "line %d: bad comment: %.100s", lineno, line);
                return err;
            }
            if (strcmp(name, family) != 0) {
                for (size_t i = 0; i < nseen; i++)
                    if (strcmp(seen[i], name) == 0) {
                        snprintf(err, sizeof err, "line %d: family %s declared twice",
                                 lineno, name);
                        return err;
                    }
                if (nseen < 256)
                    strcpy(seen[nseen++], name);
                strcpy(family, name);
                type[0] = '\0';
                have_samples = 0;
            } else if (have_samples) {
                snprintf(err, sizeof err, "line %d: metadata after samples", lineno);
                return err;
            }
            if (strcmp(kw, "TYPE") == 0) {
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") &&
                    strcmp(rest, "histogram") && strcmp(rest, "info")) {
                    snprintf(err, sizeof err, "line %d: type %.40s", lineno, rest);
                    return err;
                }
                strcpy(type, rest);
            } else if (strcmp(kw, "UNIT") == 0) {
                size_t fl = strlen(name), ul = strlen(rest);
                if (ul == 0 || fl <= ul + 1 || strcmp(name + fl - ul, rest) != 0 ||
                    name[fl - ul - 1] != '_') {
                    snprintf(err, sizeof err, "line %d: %.100s does not end in unit %.40s",
                             lineno, name, rest);
                    return err;
                }
            } else if (strcmp(kw, "HELP") != 0) {
                snprintf(err, sizeof err, "line %d: unknown keyword %.15s", lineno, kw);
                return err;
            }
            continue;
        }
        /* a sample: name{labels} value */
        if (!type[0]) {
            snprintf(err, sizeof err, "line %d: sample without # TYPE", lineno);
            return err;
        }
        size_t nlen = strcspn(line, "{ ");
        char sname[128];
        memcpy(sname, line, nlen);
        sname[nlen] = '\0';
        char expect[4][160];
        int nexp = 0;
        if (!strcmp(type, "counter")) {
            snprintf(expect[nexp++], 160, "%s_total", family);
        } else if (!strcmp(type, "gauge")) {
            snprintf(expect[nexp++], 160, "%s", family);
        } else if (!strcmp(type, "info")) {
            snprintf(expect[nexp++], 160, "%s_info", family);
        } else {
            snprintf(expect[nexp++], 160, "%s_bucket", family);
            snprintf(expect[nexp++], 160, "%s_count", family);
            snprintf(expect[nexp++], 160, "%s_sum", family);
        }
        int ok = 0;
        for (int i = 0; i < nexp; i++)
            ok |= strcmp(sname, expect[i]) == 0;
        if (!ok) {
            snprintf(err, sizeof err, "line %d: sample %s not of family %s (%s)", lineno,
                     sname, family, type);
            return err;
        }
        have_samples = 1;
        const char *q = line + nlen;
        char labels[1024] = "", le[64] = "";
        if (*q == '{') {
            q++;
            size_t lo = 0;
            while (*q != '}') {
                const char *ls = q;
                if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_')) {
                    snprintf(err, sizeof err, "line %d: bad label name", lineno);
                    return err;
                }
                while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                       (*q >= '0' && *q <= '9') || *q == '_')
                    q++;
                int is_le = (q - ls == 2 && strncmp(ls, "le", 2) == 0);
                if (q[0] != '=' || q[1] != '"') {
                    snprintf(err, sizeof err, "line %d: bad label syntax", lineno);
                    return err;
                }
                q += 2;
                size_t vl = 0;
                while (*q != '"') {
                    if (!*q) {
                        snprintf(err, sizeof err, "line %d: unterminated value", lineno);
                        return err;
                    }
                    if (*q == '\\') {
                        if (q[1] != '\\' && q[1] != '"' && q[1] != 'n') {
                            snprintf(err, sizeof err, "line %d: bad escape", lineno);
                            return err;
                        }
                        q++;
                    }
                    if (is_le && vl < sizeof le - 1)
                        le[vl++] = *q;
                    q++;
                }
                if (is_le)
                    le[vl] = '\0';
                else {
                    size_t l = (size_t)(q + 1 - ls);
                    if (lo + l + 1 < sizeof labels) {
                        memcpy(labels + lo, ls, l);
                        lo += l;
                        labels[lo++] = ',';
                        labels[lo] = '\0';
                    }
                }
                q++;
                if (*q == ',')
                    q++;
                else if (*q != '}') {
                    snprintf(err, sizeof err, "line %d: bad label list", lineno);
                    return err;
                }
            }
            q++;
        }
        if (*q != ' ') {
            snprintf(err, sizeof err, "line %d: no space before value", lineno);
            return err;
        }
        q++;
        double v;
        if (!strcmp(q, "+Inf"))
            v = INFINITY;
        else if (!strcmp(q, "-Inf"))
            v = -INFINITY;
        else if (!strcmp(q, "NaN"))
            v = NAN;
        else {
            char *end;
            v = strtod(q, &end);
            if (end == q || *end || strstr(q, "inf") || strstr(q, "nan")) {
                snprintf(err, sizeof err, "line %d: bad value '%.40s'", lineno, q);
                return err;
            }
        }
        if (!strcmp(type, "counter") && !(v >= 0)) {
            snprintf(err, sizeof err, "line %d: negative or NaN counter", lineno);
            return err;
        }
        if (!strcmp(type, "histogram")) {
            size_t sl = strlen(sname);
            if (strcmp(hist_series, labels) != 0) {
                strcpy(hist_series, labels);
                last_bucket = -1;
                inf_bucket = -1;
                count = -1;
            }
            if (sl > 7 && !strcmp(sname + sl - 7, "_bucket")) {
                if (!le[0] || v < last_bucket) {
                    snprintf(err, sizeof err, "line %d: bucket order/le", lineno);
                    return err;
                }
                char *end;
                double bound = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, &end);
                (void)bound;
                if (strcmp(le, "+Inf") != 0 && (!strchr(le, '.') && !strchr(le, 'e'))) {
                    snprintf(err, sizeof err, "line %d: le %s not canonical", lineno, le);
                    return err;
                }
                last_bucket = v;
                if (!strcmp(le, "+Inf"))
                    inf_bucket = v;
            } else if (sl > 6 && !strcmp(sname + sl - 6, "_count")) {
                if (inf_bucket < 0 || v != inf_bucket) {
                    snprintf(err, sizeof err, "line %d: _count != +Inf bucket", lineno);
                    return err;
                }
                count = v;
            } else if (v < 0) {
                snprintf(err, sizeof err, "line %d: negative histogram sum", lineno);
                return err;
            }
        }
    }
    (void)count;
    if (!eof) {
        snprintf(err, sizeof err, "no # EOF");
        return err;
    }
    return NULL;
}

/* ---- fixture proc tree for process_* ---- */

static char proc_dir[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int make_proc(void **state)
{
    (void)state;
    snprintf(proc_dir, sizeof proc_dir, "/tmp/mv_test_proc_XXXXXX");
    assert_non_null(mkdtemp(proc_dir));
    char path[256];
    snprintf(path, sizeof path, "%s/self", proc_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/self/fd", proc_dir);
    mkdir(path, 0700);
    write_file(proc_dir, "stat", "cpu  1 2 3 4\nintr 5\nbtime 1700000000\nprocesses 9\n");
    /* utime 250, stime 150 ticks; starttime 12345 ticks; vsize; rss 1000 pages */
    write_file(proc_dir, "self/stat",
               "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 "
               "0 5 0 12345 987654321 1000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 "
               "17 3 0 0 0 0 0\n");
    write_file(proc_dir, "self/limits",
               "Limit                     Soft Limit           Hard Limit           Units\n"
               "Max cpu time              unlimited            unlimited            seconds\n"
               "Max open files            1024                 524288               files\n"
               "Max address space         unlimited            unlimited            bytes\n");
    write_file(proc_dir, "self/fd/0", "");
    write_file(proc_dir, "self/fd/1", "");
    write_file(proc_dir, "self/fd/7", "");
    return 0;
}

static int remove_proc(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", proc_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the full state ---- */

static mv__self_stats self_full(void)
{
    mv__self_stats m;
    memset(&m, 0, sizeof m);
    m.ticks = 10;
    m.tick_hist[0] = 2;
    m.tick_hist[1] = 5;
    m.tick_hist[3] = 2;
    m.tick_hist[MV_TICK_BUCKETS - 1] = 1;
    m.tick_seconds_sum = 1.25;
    m.errors = 1;
    m.cpu_seconds = 0.5;
    m.cpu_share = 0.004;
    m.interval_ms = 10000;
    m.footprint_bytes = 262144;
    m.recording = 1;
    m.recording_lines_lost = 7;
    return m;
}

static char *render(const mv__expose_state *st, mv_format fmt)
{
    mv_buf b;
    mv_buf_init(&b);
    assert_int_equal(mv__expose_render(st, fmt, &b), 0);
    assert_non_null(b.data);
    return b.data;
}

static void has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing: %s", line);
}

static void lacks(const char *text, const char *what)
{
    if (strstr(text, what))
        fail_msg("unexpected: %s", what);
}

static void full_state(mv__expose_state *st, mv_sample *s, mv__self_stats *m,
                       mv__registry *r, mv_event *ev)
{
    sample_full(s);
    *m = self_full();
    assert_int_equal(mv__registry_gauge_set(r, "index", "shard=1", 4096), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", -100, 0.5), 0);
    assert_int_equal(mv__registry_progress_add(r, "files", 10, 1000, 0, NULL), 0);
    assert_int_equal(mv__registry_phase_begin(r, "load", 0), 0);
    memset(ev, 0, 2 * sizeof *ev);
    ev[0].kind = MV_EVENT_STARTED;
    ev[0].timestamp_ms = 1714564800000LL;
    ev[0].growth_bytes_per_s = NAN;
    ev[0].time_to_limit_s = NAN;
    ev[0].sample = s;
    mv__event_describe(&ev[0]);
    ev[1] = ev[0];
    ev[1].kind = MV_EVENT_LEVEL;
    ev[1].level = MV_LEVEL_WARNING;
    mv__event_describe(&ev[1]);
    memset(st, 0, sizeof *st);
    st->sample = s;
    st->level = MV_LEVEL_WARNING;
    st->growth_bytes_per_s = 1024.0;
    st->growth_window_s = 3600;
    st->time_to_limit_s = 483201.5;
    st->target_alive = 1;
    st->self = m;
    st->registry = r;
    st->process_metrics = 1;
    st->proc_root = proc_dir;
    st->events = ev;
    st->nevents = 2;
}

static void test_full_prometheus(void **state)
{
    (void)state;
    mv_sample s;
    mv__self_stats m;
    mv_event ev[2];
    mv__expose_state st;
    mv__registry *r = mv__registry_new(0);
    full_state(&st, &s, &m, r, ev);
    char *t = render(&st, MV_FORMAT_PROMETHEUS);
    char out[8192];
    int rc = promtool(t, out, sizeof out);
    if (rc != 0)
        fail_msg("promtool: %s", out);
    has(t, "# HELP memvigil_resident_memory_bytes Resident memory");
    has(t, "# TYPE memvigil_resident_memory_bytes gauge\n");
    has(t, "\nmemvigil_resident_memory_bytes{kind=\"anon\"} 1234567890\n");
    has(t, "\nmemvigil_resident_memory_bytes{kind=\"shmem\"} 65432110\n");
    has(t, "\nmemvigil_resident_memory_total_bytes 1500000000\n");
    has(t, "\nmemvigil_resident_memory_peak_bytes 1600000000\n");
    has(t, "\nmemvigil_private_memory_bytes 1234571986\n");
    has(t, "\nmemvigil_threads 17\n");
    has(t, "\nmemvigil_processes 3\n");
    /* sum-safe families: the parts in one, the total or an overlapping
     * part in its own */
    has(t, "\nmemvigil_proportional_set_size_bytes 1400000000\n");
    has(t, "\nmemvigil_proportional_memory_bytes{kind=\"anon\"} 1234567890\n");
    has(t, "\nmemvigil_proportional_memory_bytes{kind=\"shmem\"} 65432110\n");
    lacks(t, "kind=\"all\"");
    has(t, "\nmemvigil_cgroup_info{path=\"/system.slice/my \\\"svc\\\".service\","
           "version=\"2\"} 1\n");
    has(t, "\nmemvigil_cgroup_limit_max_bytes 2147483648\n");
    has(t, "\nmemvigil_cgroup_limit_high_bytes +Inf\n");
    lacks(t, "type=\"");
    has(t, "\nmemvigil_cgroup_working_set_bytes 1650000000\n");
    has(t, "# TYPE memvigil_cgroup_memory_bytes gauge\n"
           "memvigil_cgroup_memory_bytes{kind=\"anon\"} 1300000000\n"
           "memvigil_cgroup_memory_bytes{kind=\"file\"} 400000000\n# HELP ");
    has(t, "\nmemvigil_cgroup_inactive_file_bytes 150000000\n");
    has(t, "\nmemvigil_cgroup_shmem_bytes 65432110\n");
    lacks(t, "kind=\"inactive_file\"");
    has(t, "\nmemvigil_cgroup_swap_bytes 0\n");
    has(t, "# TYPE memvigil_cgroup_events_total counter\n");
    has(t, "\nmemvigil_cgroup_events_total{event=\"oom_kill\"} 2\n");
    has(t, "\nmemvigil_cgroup_events_total{event=\"max\"} 41\n");
    has(t, "# TYPE memvigil_cgroup_pressure_some_seconds_total counter\n"
           "memvigil_cgroup_pressure_some_seconds_total 12.345678\n");
    has(t, "\nmemvigil_cgroup_pressure_full_seconds_total 2.5\n");
    has(t, "\nmemvigil_host_pressure_some_seconds_total 99\n");
    has(t, "\nmemvigil_host_pressure_full_seconds_total 1e-06\n");
    lacks(t, "scope=");
    has(t, "\nmemvigil_host_memory_total_bytes 17179869184\n");
    has(t, "\nmemvigil_host_swap_free_bytes 2147479552\n");
    has(t, "\nmemvigil_effective_limit_bytes 2147483648\n");
    const char *ur = strstr(t, "\nmemvigil_usage_ratio ");
    assert_non_null(ur);
    assert_true(strtod(ur + strlen("\nmemvigil_usage_ratio "), NULL) == s.usage_ratio);
    has(t, "\nmemvigil_level 1\n");
    has(t, "\nmemvigil_level_state{level=\"warning\"} 1\n");
    has(t, "\nmemvigil_level_state{level=\"ok\"} 0\n");
    has(t, "\nmemvigil_growth_bytes_per_second 1024\n");
    has(t, "\nmemvigil_growth_window_seconds 3600\n");
    has(t, "\nmemvigil_time_to_limit_seconds 483201.5\n");
    has(t, "\nmemvigil_target_up 1\n");
    has(t, "# TYPE memvigil_tick_duration_seconds histogram\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"5e-05\"} 2\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"0.0002\"} 7\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"0.001\"} 7\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"0.005\"} 9\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"1\"} 9\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"+Inf\"} 10\n");
    has(t, "\nmemvigil_tick_duration_seconds_sum 1.25\n");
    has(t, "\nmemvigil_tick_duration_seconds_count 10\n");
    has(t, "\nmemvigil_tick_errors_total 1\n");
    has(t, "\nmemvigil_monitor_cpu_seconds_total 0.5\n");
    has(t, "\nmemvigil_monitor_cpu_ratio 0.004\n");
    has(t, "\nmemvigil_monitor_interval_seconds 10\n");
    has(t, "\nmemvigil_monitor_memory_bytes 262144\n");
    has(t, "# TYPE memvigil_recording_lines_lost_total counter\n");
    has(t, "\nmemvigil_recording_lines_lost_total 7\n");
    has(t, "# TYPE memvigil_build_info gauge\n");
    has(t, "\nmemvigil_build_info{version=\"" MV_VERSION_STRING "\"} 1\n");
    /* registry families are included, with the signed sum */
    has(t, "\nmemvigil_app_memory_bytes{component=\"index\",shard=\"1\"} 4096\n");
    has(t, "\nmemvigil_operation_memory_delta_bytes_sum{operation=\"query\"} -100\n");
    has(t, "\nmemvigil_phase_active{phase=\"load\"} 1\n");
    /* process_* from the fixture tree */
    has(t, "\nprocess_cpu_seconds_total ");
    char line[128];
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    mv_buf num;
    mv_buf_init(&num);
    mv__metric_double(&num, 400.0 / (double)tck);
    snprintf(line, sizeof line, "\nprocess_cpu_seconds_total %s\n", num.data);
    has(t, line);
    mv__buf_reset(&num);
    mv__metric_double(&num, 1700000000.0 + 12345.0 / (double)tck);
    snprintf(line, sizeof line, "\nprocess_start_time_seconds %s\n", num.data);
    has(t, line);
    mv_buf_release(&num);
    snprintf(line, sizeof line, "\nprocess_resident_memory_bytes %ld\n", 1000 * page);
    has(t, line);
    has(t, "\nprocess_virtual_memory_bytes 987654321\n");
    has(t, "\nprocess_virtual_memory_max_bytes 1.8446744073709552e+19\n");
    has(t, "\nprocess_open_fds 3\n");
    has(t, "\nprocess_max_fds 1024\n");
    /* Prometheus text: no pid label, no OpenMetrics-only lines */
    lacks(t, "pid=");
    lacks(t, "# EOF");
    lacks(t, "# UNIT");
    assert_int_equal(t[strlen(t) - 1], '\n');
    free(t);
    mv__registry_free(r);
}

static void test_full_openmetrics(void **state)
{
    (void)state;
    mv_sample s;
    mv__self_stats m;
    mv_event ev[2];
    mv__expose_state st;
    mv__registry *r = mv__registry_new(0);
    full_state(&st, &s, &m, r, ev);
    char *t = render(&st, MV_FORMAT_OPENMETRICS);
    const char *err = om_validate(t);
    if (err)
        fail_msg("OpenMetrics: %s", err);
    /* the validator itself catches what it claims to */
    assert_non_null(om_validate("# TYPE a counter\na 1\n# EOF\n"));
    assert_non_null(om_validate("# TYPE a gauge\na 1\n"));
    assert_non_null(om_validate("# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n"));
    assert_non_null(om_validate("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n"
                                "# EOF\n"));
    assert_non_null(om_validate("# TYPE h histogram\nh_bucket{le=\"1.0\"} 2\n"
                                "h_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n"));
    assert_null(om_validate("# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\n"
                            "h_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3\n# EOF\n"));

    /* counters: family without _total in metadata, samples with it */
    has(t, "# TYPE memvigil_cgroup_events counter\n");
    has(t, "# HELP memvigil_cgroup_events Cgroup memory events");
    has(t, "\nmemvigil_cgroup_events_total{event=\"oom_kill\"} 2\n");
    has(t, "# TYPE memvigil_cgroup_pressure_some_seconds counter\n");
    has(t, "# UNIT memvigil_cgroup_pressure_some_seconds seconds\n");
    has(t, "# UNIT memvigil_resident_memory_bytes bytes\n");
    has(t, "# TYPE process_cpu_seconds counter\n");
    has(t, "\nprocess_cpu_seconds_total ");
    lacks(t, "# TYPE memvigil_cgroup_events_total");
    /* info families */
    has(t, "# TYPE memvigil_build info\n");
    has(t, "\nmemvigil_build_info{version=\"" MV_VERSION_STRING "\"} 1\n");
    has(t, "# TYPE memvigil_cgroup info\n");
    /* values */
    has(t, "\nmemvigil_resident_memory_bytes{kind=\"anon\"} 1234567890\n");
    has(t, "\nmemvigil_cgroup_limit_high_bytes +Inf\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"1.0\"} 9\n");
    has(t, "\nmemvigil_tick_duration_seconds_bucket{le=\"+Inf\"} 10\n");
    lacks(t, "_sum{operation=");
    /* # EOF exactly once, at the end */
    const char *eof = strstr(t, "# EOF\n");
    assert_non_null(eof);
    assert_string_equal(eof, "# EOF\n");
    free(t);
    mv__registry_free(r);
}

static void test_na_state(void **state)
{
    (void)state;
    mv_sample s;
    sample_na(&s);
    mv__expose_state st;
    memset(&st, 0, sizeof st);
    st.sample = &s;
    st.level = MV_LEVEL_OK;
    st.growth_bytes_per_s = NAN;
    st.growth_window_s = 0;
    st.time_to_limit_s = NAN;
    st.target_alive = 0;
    for (int f = 0; f < 2; f++) {
        mv_format fmt = f ? MV_FORMAT_OPENMETRICS : MV_FORMAT_PROMETHEUS;
        char *t = render(&st, fmt);
        if (fmt == MV_FORMAT_PROMETHEUS) {
            char out[8192];
            if (promtool(t, out, sizeof out) != 0)
                fail_msg("promtool: %s", out);
        } else {
            const char *err = om_validate(t);
            if (err)
                fail_msg("OpenMetrics: %s", err);
        }
        /* n/a families are left out entirely: no sample, no metadata */
        lacks(t, "memvigil_resident_memory");
        lacks(t, "memvigil_private_memory_bytes");
        lacks(t, "memvigil_cgroup");
        lacks(t, "_pressure_");
        lacks(t, "memvigil_proportional");
        lacks(t, "memvigil_host_");
        lacks(t, "memvigil_effective_limit_bytes");
        lacks(t, "memvigil_usage_ratio");
        lacks(t, "memvigil_growth");
        lacks(t, "memvigil_time_to_limit_seconds");
        lacks(t, "memvigil_tick_duration");
        lacks(t, "memvigil_processes");
        lacks(t, "process_");
        lacks(t, "memvigil_app_memory_bytes");
        /* what is known is still there */
        has(t, "\nmemvigil_target_up 0\n");
        has(t, "\nmemvigil_level 0\n");
        has(t, "\nmemvigil_level_state{level=\"ok\"} 1\n");
        assert_int_equal(strstr(t, "# EOF") != NULL, fmt == MV_FORMAT_OPENMETRICS);
        free(t);
    }
    /* not growing: time to limit is +Inf; no sample at all is fine too */
    st.sample = NULL;
    st.growth_bytes_per_s = -5.0;
    st.time_to_limit_s = INFINITY;
    char *t = render(&st, MV_FORMAT_PROMETHEUS);
    has(t, "\nmemvigil_time_to_limit_seconds +Inf\n");
    has(t, "\nmemvigil_growth_bytes_per_second -5\n");
    free(t);
}

static void test_process_real(void **state)
{
    (void)state;
    /* this very process, from the real /proc */
    mv__expose_state st;
    memset(&st, 0, sizeof st);
    st.growth_bytes_per_s = NAN;
    st.time_to_limit_s = NAN;
    st.process_metrics = 1;
    st.proc_root = NULL;
    char *t = render(&st, MV_FORMAT_PROMETHEUS);
    char out[8192];
    if (promtool(t, out, sizeof out) != 0)
        fail_msg("promtool: %s", out);
    const char *p = strstr(t, "\nprocess_resident_memory_bytes ");
    assert_non_null(p);
    long long rss = atoll(p + strlen("\nprocess_resident_memory_bytes "));
    assert_true(rss > 100 * 1024 && rss < 4LL * GiB);
    p = strstr(t, "\nprocess_start_time_seconds ");
    assert_non_null(p);
    double start = atof(p + strlen("\nprocess_start_time_seconds "));
    double now = (double)mv__now_wall_ms() / 1000.0;
    assert_true(start > now - 600 && start <= now + 1);
    p = strstr(t, "\nprocess_open_fds ");
    assert_non_null(p);
    assert_true(atoi(p + strlen("\nprocess_open_fds ")) >= 3);
    free(t);
}

static void test_json(void **state)
{
    (void)state;
    mv_sample s;
    mv__self_stats m;
    mv_event ev[2];
    mv__expose_state st;
    mv__registry *r = mv__registry_new(0);
    full_state(&st, &s, &m, r, ev);
    st.time_to_limit_s = INFINITY;
    char *j = render(&st, MV_FORMAT_JSON);
    char out[4096];
    assert_int_equal(jq(j, ".version", out, sizeof out), 0);
    assert_string_equal(out, MV_VERSION_STRING);
    assert_int_equal(jq(j, ".level", out, sizeof out), 0);
    assert_string_equal(out, "warning");
    assert_int_equal(jq(j, ".target_up", out, sizeof out), 0);
    assert_int_equal(jq(j, ".time_to_limit_seconds == null and .time_to_limit_infinite",
                        out, sizeof out), 0);
    assert_int_equal(jq(j, ".sample.rss_anon_bytes", out, sizeof out), 0);
    assert_string_equal(out, "1234567890");
    assert_int_equal(jq(j, ".sample.cg_high_bytes", out, sizeof out), 0);
    assert_string_equal(out, "max");
    assert_int_equal(jq(j, ".sample.cg_max_bytes", out, sizeof out), 0);
    assert_string_equal(out, "2147483648");
    assert_int_equal(jq(j, ".sample.cgroup_path", out, sizeof out), 0);
    assert_string_equal(out, "/system.slice/my \"svc\".service");
    assert_int_equal(jq(j, ".sample.cg_psi_some.total_us", out, sizeof out), 0);
    assert_string_equal(out, "12345678");
    assert_int_equal(jq(j, ".sample.limit_source", out, sizeof out), 0);
    assert_string_equal(out, "cgroup_max");
    assert_int_equal(jq(j, ".monitor.interval_seconds", out, sizeof out), 0);
    assert_string_equal(out, "10");
    assert_int_equal(jq(j, ".monitor.recording_lines_lost", out, sizeof out), 0);
    assert_string_equal(out, "7");
    assert_int_equal(jq(j, ".app.gauges[0].bytes", out, sizeof out), 0);
    assert_string_equal(out, "4096");
    assert_int_equal(jq(j, "[.events[].event] | join(\",\")", out, sizeof out), 0);
    assert_string_equal(out, "started,level_changed");
    assert_int_equal(jq(j, ".events[1].message", out, sizeof out), 0);
    assert_string_equal(out, ev[1].message);
    free(j);

    /* nothing recorded: the count is null and its family left out */
    m.recording = 0;
    m.recording_lines_lost = 0;
    j = render(&st, MV_FORMAT_JSON);
    assert_int_equal(jq(j, ".monitor.recording_lines_lost == null", out,
                        sizeof out), 0);
    free(j);
    j = render(&st, MV_FORMAT_PROMETHEUS);
    lacks(j, "memvigil_recording_lines_lost_total");
    free(j);

    /* all n/a: nulls, not zeros */
    mv_sample na;
    sample_na(&na);
    mv__expose_state st2;
    memset(&st2, 0, sizeof st2);
    st2.sample = &na;
    st2.growth_bytes_per_s = NAN;
    st2.time_to_limit_s = NAN;
    j = render(&st2, MV_FORMAT_JSON);
    assert_int_equal(jq(j, "[.sample.rss_bytes, .sample.usage_ratio, .sample.cgroup_path,"
                           " .sample.cg_psi_full.avg10, .growth_bytes_per_second,"
                           " .time_to_limit_seconds, .monitor, .app] | all(. == null)",
                        out, sizeof out), 0);
    assert_int_equal(jq(j, ".time_to_limit_infinite", out, sizeof out), 1);
    assert_int_equal(jq(j, ".events | length", out, sizeof out), 0);
    assert_string_equal(out, "0");
    free(j);
    mv__registry_free(r);
}

/* The two claims, apart: the leak verdict (cause) and the OOM-risk claim
 * (urgency) have their own families and JSON objects, and one does not
 * follow the other (a risk without a leak verdict, and back). */
static void test_leak_and_oom_risk(void **state)
{
    (void)state;
    mv_sample s;
    mv__self_stats m;
    mv_event ev[2];
    mv__expose_state st;
    mv__leak_result lr;
    char out[4096];
    mv__registry *r = mv__registry_new(0);
    full_state(&st, &s, &m, r, ev);
    memset(&lr, 0, sizeof lr);
    lr.verdict = MV_LEAK_NO_LEAK;
    lr.growth_bytes_per_h = NAN;
    lr.growth_lo_bytes_per_h = lr.growth_hi_bytes_per_h = NAN;
    lr.eta_s = lr.eta_lo_s = lr.eta_hi_s = INFINITY;
    lr.window_s = 900;
    lr.first_leak_ms = -1;
    lr.evaluated_ms = 1000000;
    snprintf(lr.evidence, sizeof lr.evidence, "warm-up");
    lr.risk.active = 1;
    lr.risk.growth_bytes_per_h = 36.0 * 1024 * 1024;
    lr.risk.eta_s = 10800;
    lr.risk.window_s = 600;
    lr.risk.first_ms = 700000;
    lr.risk.since_ms = 880000;
    snprintf(lr.risk.evidence, sizeof lr.risk.evidence,
             "private memory grows 36 MiB/h; the limit is reached in 3 h");
    st.leak = &lr;

    char *t = render(&st, MV_FORMAT_PROMETHEUS);
    has(t, "# TYPE memvigil_oom_risk gauge\n");
    has(t, "\nmemvigil_oom_risk 1\n");
    has(t, "\nmemvigil_oom_risk_time_to_limit_seconds 10800\n");
    has(t, "\nmemvigil_leak_verdict{verdict=\"no_leak\"} 1\n");
    has(t, "\nmemvigil_leak_verdict{verdict=\"leak\"} 0\n");
    has(t, "\nmemvigil_leak_time_to_limit_seconds +Inf\n");
    free(t);
    t = render(&st, MV_FORMAT_OPENMETRICS);
    has(t, "# UNIT memvigil_oom_risk_time_to_limit_seconds seconds\n");
    has(t, "\nmemvigil_oom_risk 1\n");
    free(t);
    char *j = render(&st, MV_FORMAT_JSON);
    assert_int_equal(jq(j, ".leak.verdict == \"no_leak\" and .oom_risk.active == true"
                           " and .oom_risk.time_to_limit_seconds == 10800"
                           " and .oom_risk.time_to_limit_infinite == false"
                           " and .oom_risk.growth_bytes_per_hour == 37748736"
                           " and .oom_risk.window_seconds == 600"
                           " and .oom_risk.active_seconds == 120",
                        out, sizeof out), 0);
    assert_int_equal(jq(j, ".oom_risk.evidence", out, sizeof out), 0);
    assert_string_equal(out, lr.risk.evidence);
    free(j);

    /* the rate dropped: the claim clears while a leak verdict holds */
    lr.verdict = MV_LEAK_LEAK;
    lr.eta_s = 200000;
    lr.risk.active = 0;
    lr.risk.eta_s = INFINITY;
    lr.risk.since_ms = -1;
    t = render(&st, MV_FORMAT_PROMETHEUS);
    has(t, "\nmemvigil_oom_risk 0\n");
    has(t, "\nmemvigil_oom_risk_time_to_limit_seconds +Inf\n");
    has(t, "\nmemvigil_leak_verdict{verdict=\"leak\"} 1\n");
    free(t);
    j = render(&st, MV_FORMAT_JSON);
    assert_int_equal(jq(j, ".leak.verdict == \"leak\" and .oom_risk.active == false"
                           " and .oom_risk.time_to_limit_seconds == null"
                           " and .oom_risk.time_to_limit_infinite"
                           " and .oom_risk.active_seconds == null",
                        out, sizeof out), 0);
    free(j);

    /* every reason by the detector's own name (a plateau read "none" while
     * expose kept a copy of the list) */
    lr.verdict = MV_LEAK_NO_LEAK;
    lr.reason = MV_LEAK_R_PLATEAU;
    j = render(&st, MV_FORMAT_JSON);
    assert_int_equal(jq(j, ".leak.reason", out, sizeof out), 0);
    assert_string_equal(out, "plateau");
    free(j);
    lr.reason = MV_LEAK_R_DAILY;
    j = render(&st, MV_FORMAT_JSON);
    assert_int_equal(jq(j, ".leak.reason", out, sizeof out), 0);
    assert_string_equal(out, "daily_cycle");
    free(j);

    /* unknown ETA: the family is left out; no detector: no claim at all */
    lr.risk.eta_s = NAN;
    t = render(&st, MV_FORMAT_PROMETHEUS);
    lacks(t, "\nmemvigil_oom_risk_time_to_limit_seconds ");
    has(t, "\nmemvigil_oom_risk 0\n");
    free(t);
    st.leak = NULL;
    t = render(&st, MV_FORMAT_PROMETHEUS);
    lacks(t, "memvigil_oom_risk");
    free(t);
    j = render(&st, MV_FORMAT_JSON);
    assert_int_equal(jq(j, "has(\"oom_risk\") | not", out, sizeof out), 0);
    free(j);
    mv__registry_free(r);
}

/* ---- every family is documented ---- */

#define MAX_NAMES 256

/* Adds name [p, p + n) to set (names, *count) unless present. */
static void name_add(char names[][96], size_t *count, const char *p, size_t n)
{
    assert_true(n > 0 && n < 96);
    for (size_t i = 0; i < *count; i++)
        if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0)
            return;
    assert_true(*count < MAX_NAMES);
    memcpy(names[*count], p, n);
    names[(*count)++][n] = '\0';
}

static int name_in(char names[][96], size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* docs/metrics.md, found from the fixtures directory (tests/fixtures). */
static char *read_metrics_doc(void)
{
    const char *path = MV_FIXTURES "/../../docs/metrics.md";
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    mv_buf b;
    mv_buf_init(&b);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(mv__buf_append(&b, chunk, got), 0);
    fclose(f);
    assert_non_null(b.data);
    return b.data;
}

/* OOM kills: the host counter, and per victim its RSS at the kill with
 * escaped labels and node mode's extra labels appended. */
static void test_oom_families(void **state)
{
    (void)state;
    mv__expose_state st;
    memset(&st, 0, sizeof st);
    char *t = render(&st, MV_FORMAT_PROMETHEUS);
    assert_null(strstr(t, "oom_kill"));   /* zero state: left out */
    free(t);

    int64_t host_kills = 7;
    mv_oom_kill v[2];
    memset(v, 0, sizeof v);
    v[0].pid = 42;
    snprintf(v[0].comm, sizeof v[0].comm, "we\"ird");
    snprintf(v[0].task_cgroup, sizeof v[0].task_cgroup, "/kubepods/pod1/c1");
    v[0].constraint = MV_OOM_CONSTRAINT_MEMCG;
    v[0].anon_rss_bytes = 1 << 20;
    v[0].file_rss_bytes = 4096;
    v[0].shmem_rss_bytes = MV_NA;
    v[1] = v[0];
    v[1].pid = 43;
    v[1].constraint = MV_OOM_CONSTRAINT_NONE;
    const char *labels[2] = {"namespace=\"default\",pod=\"web-1\"", NULL};
    st.host_oom_kills = &host_kills;
    st.oom_victims = v;
    st.n_oom_victims = 2;
    st.oom_victim_labels = labels;
    t = render(&st, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t, "\nmemvigil_host_oom_kills_total 7\n"));
    assert_non_null(strstr(t, "memvigil_oom_kill_victim_rss_bytes{pid=\"42\",comm=\"we\\\"ird\","
                              "cgroup=\"/kubepods/pod1/c1\",constraint=\"cgroup\",type=\"anon\","
                              "namespace=\"default\",pod=\"web-1\"} 1048576\n"));
    assert_non_null(strstr(t, "pod=\"web-1\"} 4096\n"));
    assert_null(strstr(t, "type=\"shmem\",namespace"));   /* MV_NA: no sample */
    assert_non_null(strstr(t, "{pid=\"43\",comm=\"we\\\"ird\",cgroup=\"/kubepods/pod1/c1\","
                              "constraint=\"global\",type=\"anon\"} 1048576\n"));
    free(t);
}

/* Every family of a full rendering (sample, state, leak claims, monitor
 * stats, every registry family including progress figures and heap sites,
 * process_*) has a row in docs/metrics.md — a row of a "| Family |" table
 * whose first cell is the family name in backticks — and every documented
 * family is rendered:
 * a new, renamed or removed family fails here until the reference says so. */
static void test_families_documented(void **state)
{
    (void)state;
    mv_sample s;
    mv__self_stats m;
    mv_event ev[2];
    mv__expose_state st;
    mv__leak_result lr;
    mv__registry *r = mv__registry_new(0);
    full_state(&st, &s, &m, r, ev);
    /* a second progress call: per-unit memory and the rate become known */
    assert_int_equal(mv__registry_progress_add(r, "files", 100, 1000 + 5000, 2000, NULL), 0);
    mv__heap_site hs = {.growth_bytes_per_second = 12.5, .inuse_bytes = 4096};
    snprintf(hs.site, sizeof hs.site, "leak (a.c:1)");
    assert_int_equal(mv__registry_heap_sites_set(r, &hs, 1), 0);
    memset(&lr, 0, sizeof lr);
    lr.verdict = MV_LEAK_LEAK;
    lr.confidence = 0.99;
    lr.growth_bytes_per_h = 3600.0 * 1024;
    lr.growth_lo_bytes_per_h = lr.growth_hi_bytes_per_h = NAN;
    lr.eta_s = 7200;
    lr.eta_lo_s = lr.eta_hi_s = NAN;
    lr.risk.active = 1;
    lr.risk.eta_s = 7200;
    st.leak = &lr;
    st.cpu_budget = 0.01;
    /* the kernel log's victims and the host's kill counter */
    int64_t host_kills = 3;
    mv_oom_kill victim;
    memset(&victim, 0, sizeof victim);
    victim.pid = 42;
    snprintf(victim.comm, sizeof victim.comm, "leaky");
    victim.anon_rss_bytes = 1 << 20;
    victim.file_rss_bytes = victim.shmem_rss_bytes = 0;
    st.host_oom_kills = &host_kills;
    st.oom_victims = &victim;
    st.n_oom_victims = 1;
    /* allocator figures and the allocator diagnosis */
    s.alloc_kind = 1;
    s.alloc_in_use_bytes = 100 << 20;
    s.alloc_free_bytes = 300 << 20;
    s.alloc_mapped_bytes = 420 << 20;
    s.alloc_releasable_bytes = 1 << 20;
    s.alloc_arenas = 8;
    mv__frag_result fr;
    memset(&fr, 0, sizeof fr);
    fr.verdict = MV_FRAG_FRAGMENTATION;
    st.frag = &fr;

    char *t = render(&st, MV_FORMAT_PROMETHEUS);
    static char exposed[MAX_NAMES][96], documented[MAX_NAMES][96];
    size_t ne = 0, nd = 0;
    for (const char *p = t; (p = strstr(p, "# TYPE ")) != NULL;) {
        p += strlen("# TYPE ");
        name_add(exposed, &ne, p, strcspn(p, " "));
    }
    free(t);
    mv__registry_free(r);

    /* the reference tables: those whose header row starts "| Family |" */
    char *doc = read_metrics_doc();
    int in_table = 0;
    for (const char *p = doc; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, "| Family |", 10) == 0)
            in_table = 1;
        else if (*p != '|')
            in_table = 0;
        if (!in_table || strncmp(p, "| `", 3) != 0)
            continue;
        const char *name = p + 3;
        size_t n = strcspn(name, "`\n");
        if (name[n] == '`' &&
            (strncmp(name, "memvigil_", 9) == 0 || strncmp(name, "process_", 8) == 0))
            name_add(documented, &nd, name, n);
    }
    free(doc);

    assert_true(ne > 60);
    mv_buf missing, extra;
    mv_buf_init(&missing);
    mv_buf_init(&extra);
    assert_int_equal(mv__buf_puts(&missing, ""), 0);
    assert_int_equal(mv__buf_puts(&extra, ""), 0);
    for (size_t i = 0; i < ne; i++)
        if (!name_in(documented, nd, exposed[i]))
            assert_int_equal(mv__buf_printf(&missing, " %s", exposed[i]), 0);
    for (size_t i = 0; i < nd; i++)
        if (!name_in(exposed, ne, documented[i]))
            assert_int_equal(mv__buf_printf(&extra, " %s", documented[i]), 0);
    if (missing.len || extra.len)
        fail_msg("docs/metrics.md is out of date; exposed but not documented:%s;"
                 " documented but not exposed:%s", missing.data, extra.data);
    mv_buf_release(&missing);
    mv_buf_release(&extra);
}

static void test_negotiate(void **state)
{
    (void)state;
    assert_int_equal(mv__expose_negotiate(NULL), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__expose_negotiate(""), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__expose_negotiate("*/*"), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__expose_negotiate("text/plain;version=0.0.4"), MV_FORMAT_PROMETHEUS);
    /* what Prometheus 2.x sends */
    assert_int_equal(mv__expose_negotiate(
                         "application/openmetrics-text;version=1.0.0,application/"
                         "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                         "q=0.5,*/*;q=0.1"),
                     MV_FORMAT_OPENMETRICS);
    assert_int_equal(mv__expose_negotiate("text/plain, Application/OpenMetrics-Text"),
                     MV_FORMAT_OPENMETRICS);
    assert_int_equal(mv__expose_negotiate("application/openmetrics-text; q=0"),
                     MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__expose_negotiate("application/openmetrics-text;q=0.0, text/plain"),
                     MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__expose_negotiate("application/openmetrics-textual"),
                     MV_FORMAT_PROMETHEUS);
    assert_string_equal(mv_format_content_type(MV_FORMAT_PROMETHEUS),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(mv_format_content_type(MV_FORMAT_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_string_equal(mv_format_content_type(MV_FORMAT_JSON), "application/json");
}

static void test_errors(void **state)
{
    (void)state;
    mv_buf b;
    mv_buf_init(&b);
    mv__expose_state st;
    memset(&st, 0, sizeof st);
    assert_int_equal(mv__expose_render(NULL, MV_FORMAT_PROMETHEUS, &b), -EINVAL);
    assert_int_equal(mv__expose_render(&st, MV_FORMAT_PROMETHEUS, NULL), -EINVAL);
    /* appends: what the buffer had stays in front */
    assert_int_equal(mv__buf_puts(&b, "# mine\n"), 0);
    st.growth_bytes_per_s = NAN;
    st.time_to_limit_s = NAN;
    assert_int_equal(mv__expose_render(&st, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_memory_equal(b.data, "# mine\n# HELP memvigil_level ", 28);
    mv_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_prometheus),
        cmocka_unit_test(test_full_openmetrics),
        cmocka_unit_test(test_na_state),
        cmocka_unit_test(test_process_real),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_leak_and_oom_risk),
        cmocka_unit_test(test_families_documented),
        cmocka_unit_test(test_oom_families),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, make_proc, remove_proc);
}
