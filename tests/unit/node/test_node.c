/*
 * test_node.c — unit tests of node mode (src/lib/node) over writable
 * copies of the fixture trees tests/fixtures/node/{v2,v1}: every
 * container found with its own limit (ancestors included) and labels in
 * the rendering; a container appearing and one vanishing (kept for the
 * grace period with target_up 0, then dropped); a container whose files
 * turn to garbage (a read-error event naming it, the others still read);
 * one removed between the walk and its read (gone, not an error);
 * the cap on watched containers (counted, said once); bad configs; the
 * leak patience and OOM-risk horizon given to the node reaching every
 * container's detector.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memvigil.h"
#include "leak.h"
#include "node.h"
#include "series.h"
#include "util.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
#define ID_C "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc3"
#define ID_D "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd4"
#define UID_1 "1a2b3c4d-0000-4000-8000-000000000001"
#define POD_A "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" \
              "1a2b3c4d_0000_4000_8000_000000000001.slice"

/* Events seen by the callback (any thread; guarded). */
typedef struct seen {
    pthread_mutex_t lock;
    int errors_with_label;       /* probe_error events naming ID_B */
    int cap_messages;
    int oom_kill_events;
} seen;

static void on_event(const mv_event *ev, void *userdata)
{
    seen *s = userdata;
    pthread_mutex_lock(&s->lock);
    if (ev->kind == MV_EVENT_PROBE_ERROR && ev->container &&
        strcmp(ev->container->container_id, ID_B) == 0 &&
        strstr(ev->message, "still watched"))
        s->errors_with_label++;
    if (ev->kind == MV_EVENT_PROBE_ERROR && !ev->container &&
        strstr(ev->message, "cap reached"))
        s->cap_messages++;
    if (ev->kind == MV_EVENT_OOM_KILL && ev->container)
        s->oom_kill_events++;
    pthread_mutex_unlock(&s->lock);
}

static void copy_tree(const char *which, char *dir)
{
    char cmd[1024];
    strcpy(dir, "/tmp/mv-node-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp -r '%s/node/%s/cgroup/.' '%s/'",
             MV_FIXTURES, which, dir);
    assert_int_equal(system(cmd), 0);
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void config(mv_node_config *c, const char *root, seen *s)
{
    static char proc[512];
    mv_node_config_init(c);
    snprintf(proc, sizeof proc, "%s/node/proc", MV_FIXTURES);
    c->cgroup_root = root;
    c->proc_root = proc;
    c->interval_ms = 3600 * 1000;    /* ticks come from sample_now */
    c->service_glob = "*.service";
    c->on_event = on_event;
    c->userdata = s;
}

/* The value of the sample of family name whose labels hold needle; -1
 * when there is none. */
static double metric(const char *text, const char *name, const char *needle)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, name, n) != 0 || p[n] != '{')
            continue;
        const char *end = strchr(p, '\n');
        const char *close = strstr(p, "} ");
        if (!close || (end && close > end))
            continue;
        char line[2048];
        size_t len = (size_t)(close - p);
        if (len >= sizeof line)
            continue;
        memcpy(line, p, len);
        line[len] = '\0';
        if (strstr(line, needle))
            return strtod(close + 2, NULL);
    }
    return -1;
}

static void render(mv_node *n, mv_buf *b)
{
    mv_buf_release(b);
    assert_int_equal(mv_node_render(n, MV_FORMAT_PROMETHEUS, b), 0);
    assert_non_null(b->data);
}

static void test_v2_limits_and_labels(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64];
    mv_node_config c;
    mv_node *n = NULL;
    mv_buf b = {0};
    mv_node_status st;

    char log[128];
    copy_tree("v2", dir);
    config(&c, dir, &s);
    snprintf(log, sizeof log, "%s.events", dir);
    c.event_log = log;
    assert_int_equal(mv_node_start(&c, &n), 0);
    render(n, &b);
    /* the pod slice's 1 GiB binds the containerd container */
    assert_true(metric(b.data, "memvigil_cgroup_limit_max_bytes",
                       "container_id=\"" ID_A "\"") == 1073741824.0);
    assert_true(metric(b.data, "memvigil_effective_limit_bytes",
                       "container_id=\"" ID_A "\"") == 1073741824.0);
    /* the guaranteed pod's docker scope: memory.high 400 MiB wins */
    assert_true(metric(b.data, "memvigil_effective_limit_bytes",
                       "container_id=\"" ID_C "\"") == 419430400.0);
    /* besteffort: kubepods.slice's 8 GiB, an ancestor two levels up */
    assert_true(metric(b.data, "memvigil_cgroup_limit_max_bytes",
                       "container_id=\"" ID_B "\"") == 8589934592.0);
    assert_true(metric(b.data, "memvigil_cgroup_usage_bytes",
                       "id=\"/system.slice/nginx.service\"") == 31457280.0);
    /* working set: usage minus inactive_file (300 - 20 MiB) */
    assert_true(metric(b.data, "memvigil_cgroup_working_set_bytes",
                       "container_id=\"" ID_A "\"") == 293601280.0);
    assert_true(metric(b.data, "memvigil_cgroup_events_total",
                       "container_id=\"" ID_A "\",qos=\"burstable\"") == 2.0);
    assert_non_null(strstr(b.data, "memvigil_cgroup_pressure_some_seconds_total{"));
    /* the labels, in order, IDs only (no resolver) */
    assert_non_null(strstr(b.data,
        "memvigil_target_up{namespace=\"\",pod=\"\",container=\"\","
        "pod_uid=\"1a2b3c4d-0000-4000-8000-000000000001\",container_id=\""
        ID_A "\",qos=\"burstable\",id=\"/" POD_A "/cri-containerd-" ID_A
        ".scope\"} 1"));
    assert_true(metric(b.data, "memvigil_leak_verdict",
                       "container_id=\"" ID_A "\",qos=\"burstable\"") >= 0);
    assert_null(strstr(b.data, "crio-conmon"));
    assert_non_null(strstr(b.data, "memvigil_node_containers 6\n"));

    /* OpenMetrics ends with # EOF; JSON lists the containers */
    mv_buf_release(&b);
    assert_int_equal(mv_node_render(n, MV_FORMAT_OPENMETRICS, &b), 0);
    assert_non_null(strstr(b.data, "# EOF\n"));
    mv_buf_release(&b);
    assert_int_equal(mv_node_render(n, MV_FORMAT_JSON, &b), 0);
    assert_non_null(strstr(b.data, "\"container_id\":\"" ID_C "\""));

    /* an oom_kill that rises raises an event with the container's labels */
    write_file(dir, POD_A "/cri-containerd-" ID_A ".scope/memory.events",
               "low 0\nhigh 0\nmax 0\noom 3\noom_kill 3\n");
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(s.oom_kill_events, 1);
    /* ... and its JSON line in the event log carries them too */
    FILE *f = fopen(log, "r");
    char line[4096];
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "\"event\":\"oom_kill\""));
    assert_non_null(strstr(line, "\"labels\":{\"namespace\":\"\",\"pod\":\"\","
                                 "\"container\":\"\",\"pod_uid\":\"" UID_1 "\","
                                 "\"container_id\":\"" ID_A "\",\"qos\":"
                                 "\"burstable\",\"id\":\"/" POD_A));
    assert_non_null(strstr(line, "\"message\":\"[pod " UID_1
                                 " container aaaaaaaaaaaa] "));
    unlink(log);

    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 6);
    assert_int_equal(st.containers_up, 6);
    assert_int_equal(st.read_errors_total, 0);
    mv_node_stop(n);
    mv_buf_release(&b);
    remove_tree(dir);
}

static void test_changes_and_grace(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64], cmd[512];
    mv_node_config c;
    mv_node *n = NULL;
    mv_buf b = {0};
    mv_node_status st;

    copy_tree("v2", dir);
    config(&c, dir, &s);
    c.grace_ms = 3600 * 1000;
    assert_int_equal(mv_node_start(&c, &n), 0);

    /* a new plain-docker container appears: picked up at the next tick */
    snprintf(cmd, sizeof cmd, "cp -r '%s/system.slice/docker-" ID_D
             ".scope' '%s/system.slice/docker-" "e%063d" ".scope'",
             dir, dir, 7);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 7);
    assert_int_equal(st.discovered_total, 7);

    /* one vanishes: kept with target_up 0 during the grace period */
    snprintf(cmd, sizeof cmd, "rm -rf '%s/system.slice/docker-" ID_D
             ".scope'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 7);
    assert_int_equal(st.containers_up, 6);
    render(n, &b);
    assert_true(metric(b.data, "memvigil_target_up",
                       "container_id=\"" ID_D "\"") == 0.0);
    /* its last figures stay until it is dropped */
    assert_true(metric(b.data, "memvigil_cgroup_limit_max_bytes",
                       "container_id=\"" ID_D "\"") == 268435456.0);
    assert_int_equal(st.read_errors_total, 0);  /* vanishing is no error */
    mv_node_stop(n);

    /* with no grace, it is dropped at once */
    c.grace_ms = 0;
    assert_int_equal(mv_node_start(&c, &n), 0);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 6);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/system.slice/nginx.service'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 5);
    assert_int_equal(st.dropped_total, 1);
    render(n, &b);
    assert_null(strstr(b.data, "nginx.service"));
    mv_node_stop(n);
    mv_buf_release(&b);
    remove_tree(dir);
}

static void test_bad_files_and_cap(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64];
    mv_node_config c;
    mv_node *n = NULL;
    mv_buf b = {0};
    mv_node_status st;

    copy_tree("v2", dir);
    config(&c, dir, &s);
    assert_int_equal(mv_node_start(&c, &n), 0);
    /* container B's files turn to garbage: an error naming it, once */
    const char *bdir = "kubepods.slice/kubepods-besteffort.slice/"
                       "kubepods-besteffort-pod1a2b3c4d_0000_4000_8000_"
                       "000000000002.slice/crio-" ID_B ".scope";
    char rel[512];
    snprintf(rel, sizeof rel, "%s/memory.current", bdir);
    write_file(dir, rel, "garbage\n");
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.read_errors_total, 2);
    assert_int_equal(st.containers_up, 6);
    assert_int_equal(s.errors_with_label, 1);
    render(n, &b);
    /* the others are still read */
    assert_true(metric(b.data, "memvigil_cgroup_usage_bytes",
                       "container_id=\"" ID_A "\"") == 314572800.0);
    assert_true(metric(b.data, "memvigil_node_read_errors_total", "") < 0);
    assert_non_null(strstr(b.data, "memvigil_node_read_errors_total 2\n"));
    mv_node_stop(n);

    /* a cap of 2: two watched, the rest counted, said once */
    c.max_containers = 2;
    assert_int_equal(mv_node_start(&c, &n), 0);
    assert_int_equal(mv_node_sample_now(n), 0);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 2);
    assert_int_equal(st.capped_total, 8);       /* 4 left out, 2 ticks */
    assert_int_equal(s.cap_messages, 1);
    mv_node_stop(n);
    mv_buf_release(&b);
    remove_tree(dir);
}

/* The resolver runs just before a container is read: removing the
 * container there is a cgroup that vanishes between the walk and the
 * read. It must read as gone (target_up 0), not as an error. */
typedef struct remover {
    char dir[64];
    int removed;
} remover;

static int remove_d(void *ctx, mv_container_labels *l)
{
    remover *r = ctx;
    char cmd[1024];
    if (!r->removed && strcmp(l->container_id, ID_D) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s%s'", r->dir, l->id);
        assert_int_equal(system(cmd), 0);
        r->removed = 1;
    }
    return -ENOENT;                  /* names unknown: asked again */
}

static void test_removed_mid_read(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    remover r = {"", 0};
    mv_node_config c;
    mv_node *n = NULL;
    mv_buf b = {0};
    mv_node_status st;

    copy_tree("v2", r.dir);
    config(&c, r.dir, &s);
    c.resolve = remove_d;
    c.resolve_ctx = &r;
    assert_int_equal(mv_node_start(&c, &n), 0);
    assert_int_equal(r.removed, 1);
    assert_int_equal(mv_node_status_get(n, &st), 0);
    assert_int_equal(st.containers, 6);
    assert_int_equal(st.containers_up, 5);
    assert_int_equal(st.read_errors_total, 0);
    render(n, &b);
    assert_true(metric(b.data, "memvigil_target_up",
                       "container_id=\"" ID_D "\"") == 0.0);
    assert_true(metric(b.data, "memvigil_cgroup_usage_bytes",
                       "container_id=\"" ID_C "\"") == 209715200.0);
    mv_node_stop(n);
    mv_buf_release(&b);
    remove_tree(r.dir);
}

static void test_v1_tree(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64];
    mv_node_config c;
    mv_node *n = NULL;
    mv_buf b = {0};

    copy_tree("v1", dir);
    config(&c, dir, &s);           /* the root holding memory/ */
    assert_int_equal(mv_node_start(&c, &n), 0);
    render(n, &b);
    /* the pod's 256 MiB through hierarchical_memory_limit */
    assert_true(metric(b.data, "memvigil_effective_limit_bytes",
                       "qos=\"burstable\"") == 268435456.0);
    assert_true(metric(b.data, "memvigil_effective_limit_bytes",
                       "qos=\"guaranteed\"") == 536870912.0);
    assert_true(metric(b.data, "memvigil_cgroup_limit_max_bytes",
                       "id=\"/docker/") == 134217728.0);
    assert_true(metric(b.data, "memvigil_cgroup_events_total",
                       "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
                       "eeeeeeee5\",event=\"oom_kill\"") == 1.0);
    assert_non_null(strstr(b.data, "memvigil_node_containers 5\n"));
    mv_node_stop(n);
    mv_buf_release(&b);
    remove_tree(dir);
}

/* docs/metrics.md's rows: first cells in backticks of the tables whose
 * header starts with `header`, appended to out (space-separated, with a
 * space on each side). */
static void doc_rows(const char *doc, const char *header, mv_buf *out)
{
    int in_table = 0;
    for (const char *p = doc; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, header, strlen(header)) == 0)
            in_table = 1;
        else if (*p != '|')
            in_table = 0;
        if (!in_table || strncmp(p, "| `", 3) != 0)
            continue;
        size_t n = strcspn(p + 3, "`\n");
        assert_int_equal(mv__buf_printf(out, " %.*s ", (int)n, p + 3), 0);
    }
}

/* Every family node mode renders has a row in docs/metrics.md (the
 * single-target tables or the "Node family" table), and every row of the
 * node table is rendered. */
static void test_families_documented(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64], name[160];
    mv_node_config c;
    mv_node *n = NULL;
    mv_buf b = {0}, all = {0}, node_rows = {0}, doc = {0};
    FILE *f = fopen(MV_FIXTURES "/../../docs/metrics.md", "r");
    char chunk[4096];
    size_t got;

    assert_non_null(f);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(mv__buf_append(&doc, chunk, got), 0);
    fclose(f);
    doc_rows(doc.data, "| Family |", &all);
    doc_rows(doc.data, "| Node family |", &node_rows);
    assert_true(node_rows.len > 0);

    copy_tree("v2", dir);
    config(&c, dir, &s);
    assert_int_equal(mv_node_start(&c, &n), 0);
    render(n, &b);
    int families = 0;
    for (const char *p = b.data; (p = strstr(p, "# TYPE ")) != NULL;) {
        p += 7;
        snprintf(name, sizeof name, " %.*s ", (int)strcspn(p, " "), p);
        if (!strstr(all.data ? all.data : "", name) &&
            !strstr(node_rows.data, name))
            fail_msg("%s is rendered in node mode but not in docs/metrics.md",
                     name);
        families++;
    }
    assert_true(families > 30);
    for (const char *p = node_rows.data; *p;) {
        size_t k = strcspn(p + 1, " ");
        snprintf(name, sizeof name, "# TYPE %.*s ", (int)k, p + 1);
        if (!strstr(b.data, name))
            fail_msg("%s is in the node table but not rendered", name + 7);
        p += k + 2;
    }
    mv_node_stop(n);
    mv_buf_release(&b);
    mv_buf_release(&all);
    mv_buf_release(&node_rows);
    mv_buf_release(&doc);
    remove_tree(dir);
}

/* Scrapes while the sampler ticks on its own (100 ms) and containers come
 * and go: every rendering is whole (TSan runs this test for the locks). */
static void test_render_while_ticking(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64], cmd[512];
    mv_node_config c;
    mv_node *n = NULL;
    mv_node_status st;

    copy_tree("v2", dir);
    config(&c, dir, &s);
    c.interval_ms = 100;
    c.grace_ms = 0;
    assert_int_equal(mv_node_start(&c, &n), 0);
    for (int i = 0; i < 20; i++) {
        mv_buf b = {0};
        if (i == 5) {
            snprintf(cmd, sizeof cmd, "rm -rf '%s/system.slice/cron.service'",
                     dir);
            assert_int_equal(system(cmd), 0);
        }
        assert_int_equal(mv_node_render(n, i % 2 ? MV_FORMAT_OPENMETRICS
                                                 : MV_FORMAT_PROMETHEUS, &b), 0);
        assert_non_null(strstr(b.data, "memvigil_build_info"));
        mv_buf_release(&b);
        assert_int_equal(mv_node_status_get(n, &st), 0);
        usleep(30 * 1000);
    }
    assert_true(st.ticks >= 3);
    assert_int_equal(st.containers, 5);
    mv_node_stop(n);
    remove_tree(dir);
}

/* Replays `hours` of a steady rise (from base_mib at rate_mib_h MiB/h,
 * one point every 10 s, +-1 MiB of jitter) against limit_mib through the
 * leak detector node mode made for the container at index i of a node
 * started with c; returns the last result. The series starts after the
 * container's own first sample (the detector's clock only goes forward). */
static mv__leak_result replay(const mv_node_config *c, size_t i,
                              double base_mib, double rate_mib_h,
                              double limit_mib, double hours)
{
    const double mib = 1024.0 * 1024.0;
    mv_node *n = NULL;
    mv__leak_result r;
    mv__series *ser = mv__series_new_default();

    assert_non_null(ser);
    assert_int_equal(mv_node_start(c, &n), 0);
    pthread_mutex_lock(&n->lock);
    assert_true(i < n->ntargets);
    mv__node_target *t = n->targets[i];
    assert_non_null(t->leak);
    mv__leak_set_limit(t->leak, (int64_t)(limit_mib * mib));
    int64_t t0 = t->last.monotonic_ms + 60000;
    for (int k = 0; k <= (int)(hours * 360); k++) {
        int64_t ms = t0 + (int64_t)k * 10000;
        double v = (base_mib + rate_mib_h * k / 360.0 + (k % 2 ? 1 : -1)) * mib;
        assert_int_equal(mv__series_push(ser, ms, v), 0);
        mv__leak_tick(t->leak, ser, ms, 0, &r);
    }
    pthread_mutex_unlock(&n->lock);
    mv_node_stop(n);
    mv__series_free(ser);
    return r;
}

/* mv_node_config.oom_risk_horizon_ms and leak_min_rise_ms reach every
 * container's detector: a climb whose limit is ~7 h away is an OOM risk
 * with the default 12 h horizon and none with 6 h (same ETA either way);
 * 6 h of steady rise is a leak with a 2 h patience, not with the
 * default 19 h. */
static void test_leak_settings(void **state)
{
    (void)state;
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char dir[64];
    mv_node_config dflt, set;
    mv__leak_result r;

    copy_tree("v2", dir);
    config(&dflt, dir, &s);
    assert_int_equal(dflt.leak_min_rise_ms, 0);
    assert_int_equal(dflt.oom_risk_horizon_ms, 0);
    set = dflt;
    set.oom_risk_horizon_ms = 6 * 3600 * 1000LL;
    set.leak_min_rise_ms = 2 * 3600 * 1000LL;

    /* 1 GiB + 128 MiB/h for 1 h against 2 GiB: 896 MiB left, ~7 h */
    r = replay(&dflt, 0, 1024, 128, 2048, 1.0);
    assert_int_equal(r.risk.active, 1);
    assert_true(r.risk.eta_s > 6 * 3600.0 && r.risk.eta_s < 8 * 3600.0);
    r = replay(&set, 0, 1024, 128, 2048, 1.0);
    assert_int_equal(r.risk.active, 0);
    assert_true(r.risk.eta_s > 6 * 3600.0 && r.risk.eta_s < 8 * 3600.0);
    /* the last container too, not only the first */
    r = replay(&set, 5, 1024, 128, 2048, 1.0);
    assert_int_equal(r.risk.active, 0);

    /* 512 MiB + 64 MiB/h for 6 h against 2 GiB (~18 h left at the end) */
    r = replay(&set, 1, 512, 64, 2048, 6.0);
    assert_int_equal(r.verdict, MV_LEAK_LEAK);
    assert_int_equal(r.risk.active, 0);
    r = replay(&dflt, 1, 512, 64, 2048, 6.0);
    assert_true(r.verdict != MV_LEAK_LEAK);
    assert_int_equal(r.first_leak_ms, -1);
    remove_tree(dir);
}

static void test_bad_config(void **state)
{
    (void)state;
    mv_node_config c;
    mv_node *n = (mv_node *)1;

    mv_node_config_init(&c);
    c.cgroup_root = "/nonexistent/mv-cgroup";
    assert_int_equal(mv_node_start(&c, &n), -ENOENT);
    assert_null(n);
    mv_node_config_init(&c);
    c.interval_ms = 10;
    assert_int_equal(mv_node_start(&c, &n), -EINVAL);
    mv_node_config_init(&c);
    c.max_containers = 0;
    assert_int_equal(mv_node_start(&c, &n), -EINVAL);
    mv_node_config_init(&c);
    c.service_glob = "";
    assert_int_equal(mv_node_start(&c, &n), -EINVAL);
    mv_node_config_init(&c);
    c.leak_min_rise_ms = -1;
    assert_int_equal(mv_node_start(&c, &n), -EINVAL);
    mv_node_config_init(&c);
    c.oom_risk_horizon_ms = -1;
    assert_int_equal(mv_node_start(&c, &n), -EINVAL);
    assert_int_equal(mv_node_start(NULL, &n), -EINVAL);
    mv_node_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_limits_and_labels),
        cmocka_unit_test(test_changes_and_grace),
        cmocka_unit_test(test_bad_files_and_cap),
        cmocka_unit_test(test_removed_mid_read),
        cmocka_unit_test(test_v1_tree),
        cmocka_unit_test(test_families_documented),
        cmocka_unit_test(test_render_while_ticking),
        cmocka_unit_test(test_leak_settings),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
