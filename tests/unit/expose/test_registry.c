/* test_registry.c — unit tests of the registry: gauges (labels, removal,
 * cardinality cap), operation histograms, progress per-unit math and the
 * rising detector, phases, name validation, text and JSON rendering
 * (JSON checked with jq), a complete 10k-series rendering, and the heap-site
 * families. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "util.h"

static char *render(mv__registry *r, mv_format fmt)
{
    mv_buf b;
    mv_buf_init(&b);
    assert_int_equal(mv__registry_render(r, fmt, &b), 0);
    assert_non_null(b.data);
    return b.data; /* caller frees */
}

/* Runs `jq -e FILTER` on json; returns jq's stdout (trimmed) in out. */
static int jq(const char *json, const char *filter, char *out, size_t n)
{
    char path[] = "/tmp/mv_test_registry_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(json, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "jq -e -r '%s' < %s 2>&1", filter, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    while (got && (out[got - 1] == '\n'))
        out[--got] = '\0';
    int st = pclose(p);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_names(void **state)
{
    (void)state;
    assert_true(mv__registry_name_ok("index"));
    assert_true(mv__registry_name_ok("seg_cache.v2-a:b"));
    assert_false(mv__registry_name_ok(""));
    assert_false(mv__registry_name_ok(NULL));
    assert_false(mv__registry_name_ok("9lives"));
    assert_false(mv__registry_name_ok("has space"));
    assert_false(mv__registry_name_ok("quote\""));
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(mv__registry_name_ok(longname));
    longname[128] = '\0';
    assert_true(mv__registry_name_ok(longname));
    longname[129 - 1] = 'a';
    longname[129] = '\0';
    assert_false(mv__registry_name_ok(longname));

    mv__registry *r = mv__registry_new(0);
    assert_non_null(r);
    assert_int_equal(mv__registry_gauge_set(r, "bad name", NULL, 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "k", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "k=", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "=v", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "k=v=w", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "k=v,", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "1k=v", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "a=1,a=2", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "component=x", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "__x=1", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", "le=1", 1), -EINVAL);
    assert_int_equal(mv__registry_gauge_set(r, "ok", NULL, -5), -EINVAL);
    assert_int_equal(mv__registry_op_observe(r, "", 1, 0.1), -EINVAL);
    assert_int_equal(mv__registry_op_observe(r, "op", 1, -1.0), -EINVAL);
    assert_int_equal(mv__registry_op_observe(r, "op", 1, NAN), -EINVAL);
    assert_int_equal(mv__registry_progress_add(r, "a b", 1, 0, 0, NULL), -EINVAL);
    assert_int_equal(mv__registry_progress_add(r, "u", -1, 0, 0, NULL), -EINVAL);
    assert_int_equal(mv__registry_phase_begin(r, "", 0), -EINVAL);
    assert_int_equal(mv__registry_phase_end(r, "x y", 0), -EINVAL);
    /* nothing was created by the refused calls */
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    assert_null(strstr(t, "memvigil_app_memory_bytes"));
    assert_null(strstr(t, "memvigil_operations_total"));
    assert_non_null(strstr(t, "memvigil_series_dropped_total 0\n"));
    free(t);
    assert_int_equal(mv__registry_dropped(r), 0);
    mv__registry_free(r);
    mv__registry_free(NULL);
}

static void test_gauges(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    assert_int_equal(mv__registry_gauge_set(r, "index", "shard=2,kind=main", 1000), 0);
    /* same label set in another order is the same series */
    assert_int_equal(mv__registry_gauge_set(r, "index", "kind=main,shard=2", 4096), 0);
    assert_int_equal(mv__registry_gauge_set(r, "cache", NULL, 123456789012LL), 0);
    assert_int_equal(mv__registry_gauge_set(r, "cache", "note=a\"b\\c", 7), 0);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t, "# HELP memvigil_app_memory_bytes "));
    assert_non_null(strstr(t, "# TYPE memvigil_app_memory_bytes gauge\n"));
    assert_non_null(strstr(t,
        "memvigil_app_memory_bytes{component=\"index\",kind=\"main\",shard=\"2\"} 4096\n"));
    assert_non_null(strstr(t, "memvigil_app_memory_bytes{component=\"cache\"} 123456789012\n"));
    assert_non_null(strstr(t,
        "memvigil_app_memory_bytes{component=\"cache\",note=\"a\\\"b\\\\c\"} 7\n"));
    /* sorted: cache before index */
    assert_true(strstr(t, "component=\"cache\"") < strstr(t, "component=\"index\""));
    free(t);

    /* 0 removes; removing an absent series is fine */
    assert_int_equal(mv__registry_gauge_set(r, "index", "shard=2,kind=main", 0), 0);
    assert_int_equal(mv__registry_gauge_set(r, "nothing", NULL, 0), 0);
    t = render(r, MV_FORMAT_PROMETHEUS);
    assert_null(strstr(t, "component=\"index\""));
    assert_null(strstr(t, "component=\"nothing\""));
    assert_non_null(strstr(t, "component=\"cache\"} 123456789012"));
    free(t);
    mv__registry_free(r);
}

static void test_cardinality_cap(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(3);
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=1", 1), 0);
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=2", 1), 0);
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=3", 1), 0);
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=4", 1), -ENOSPC);
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=5", 1), -ENOSPC);
    /* updating an existing series is still allowed at the cap */
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=3", 99), 0);
    assert_int_equal(mv__registry_dropped(r), 2);
    /* freeing one makes room */
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=1", 0), 0);
    assert_int_equal(mv__registry_gauge_set(r, "c", "id=4", 4), 0);
    /* the cap is per family: ops have their own 3 */
    assert_int_equal(mv__registry_op_observe(r, "a", 1, 0), 0);
    assert_int_equal(mv__registry_op_observe(r, "b", 1, 0), 0);
    assert_int_equal(mv__registry_op_observe(r, "c", 1, 0), 0);
    assert_int_equal(mv__registry_op_observe(r, "d", 1, 0), -ENOSPC);
    assert_int_equal(mv__registry_phase_begin(r, "p1", 0), 0);
    assert_int_equal(mv__registry_phase_begin(r, "p2", 0), 0);
    assert_int_equal(mv__registry_phase_begin(r, "p3", 0), 0);
    assert_int_equal(mv__registry_phase_begin(r, "p4", 0), -ENOSPC);
    assert_int_equal(mv__registry_progress_add(r, "u1", 1, 0, 0, NULL), 0);
    assert_int_equal(mv__registry_progress_add(r, "u2", 1, 0, 0, NULL), 0);
    assert_int_equal(mv__registry_progress_add(r, "u3", 1, 0, 0, NULL), 0);
    assert_int_equal(mv__registry_progress_add(r, "u4", 1, 0, 0, NULL), -ENOSPC);
    assert_int_equal(mv__registry_dropped(r), 5);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t, "# TYPE memvigil_series_dropped_total counter\n"));
    assert_non_null(strstr(t, "\nmemvigil_series_dropped_total 5\n"));
    assert_non_null(strstr(t, "{component=\"c\",id=\"3\"} 99\n"));
    assert_non_null(strstr(t, "{component=\"c\",id=\"4\"} 4\n"));
    assert_null(strstr(t, "id=\"5\""));
    free(t);
    t = render(r, MV_FORMAT_OPENMETRICS);
    assert_non_null(strstr(t, "# TYPE memvigil_series_dropped counter\n"));
    assert_non_null(strstr(t, "\nmemvigil_series_dropped_total 5\n"));
    free(t);
    mv__registry_free(r);
}

static void test_op_histogram(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    /* -8192 and 0 -> le=0; 4096 -> le=4096; 5000 -> 65536; 2 MiB -> 16 MiB;
     * 2 GiB -> +Inf */
    assert_int_equal(mv__registry_op_observe(r, "query", -8192, 0.5), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", 0, 0.25), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", 4096, 0.25), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", 5000, 0), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", 2 << 20, 0), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", 2LL << 30, 1), 0);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    const char *f = "memvigil_operation_memory_delta_bytes_bucket{operation=\"query\",le=";
    char line[256];
    static const struct { const char *le; int n; } exp[] = {
        {"0", 2}, {"4096", 3}, {"65536", 4}, {"1048576", 4}, {"16777216", 5},
        {"268435456", 5}, {"1073741824", 5}, {"+Inf", 6}};
    for (size_t i = 0; i < sizeof exp / sizeof exp[0]; i++) {
        snprintf(line, sizeof line, "%s\"%s\"} %d\n", f, exp[i].le, exp[i].n);
        assert_non_null(strstr(t, line));
    }
    long long sum = -8192 + 4096 + 5000 + (2 << 20) + (2LL << 30);
    snprintf(line, sizeof line,
             "memvigil_operation_memory_delta_bytes_sum{operation=\"query\"} %lld\n", sum);
    assert_non_null(strstr(t, line));
    assert_non_null(strstr(t,
        "memvigil_operation_memory_delta_bytes_count{operation=\"query\"} 6\n"));
    assert_non_null(strstr(t, "memvigil_operations_total{operation=\"query\"} 6\n"));
    assert_non_null(strstr(t,
        "memvigil_operation_duration_seconds_total{operation=\"query\"} 2\n"));
    snprintf(line, sizeof line,
             "memvigil_operation_memory_delta_net_bytes{operation=\"query\"} %lld\n", sum);
    assert_non_null(strstr(t, line));
    free(t);

    /* OpenMetrics: canonical float bounds, no (possibly negative) _sum */
    t = render(r, MV_FORMAT_OPENMETRICS);
    assert_non_null(strstr(t, "{operation=\"query\",le=\"4096.0\"} 3\n"));
    assert_non_null(strstr(t, "{operation=\"query\",le=\"+Inf\"} 6\n"));
    assert_null(strstr(t, "_sum{"));
    assert_non_null(strstr(t, "# TYPE memvigil_operation_duration_seconds counter\n"));
    assert_non_null(strstr(t, "# UNIT memvigil_operation_duration_seconds seconds\n"));
    assert_non_null(strstr(t, "# UNIT memvigil_operation_memory_delta_bytes bytes\n"));
    free(t);
    mv__registry_free(r);
}

static void test_progress(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    int rising = -1;
    const int64_t base = 100 << 20;
    /* the first call fixes the baseline: 10 units at 100 MiB */
    assert_int_equal(mv__registry_progress_add(r, "files", 10, base, 1000, &rising), 0);
    assert_int_equal(rising, 0);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t, "memvigil_progress_units_total{unit=\"files\"} 10\n"));
    assert_null(strstr(t, "memvigil_progress_memory_per_unit_bytes{"));
    assert_null(strstr(t, "memvigil_progress_units_per_second{"));
    free(t);
    /* 1000 more units over 4 s, 2 MB more: 2000 bytes per unit (a base
     * unit, not per 1000), 250 units/s */
    assert_int_equal(mv__registry_progress_add(r, "files", 1000, base + 2000000, 5000,
                                               &rising), 0);
    assert_int_equal(rising, 0);
    t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t, "memvigil_progress_units_total{unit=\"files\"} 1010\n"));
    assert_non_null(strstr(t,
        "# TYPE memvigil_progress_memory_per_unit_bytes gauge\n"
        "memvigil_progress_memory_per_unit_bytes{unit=\"files\"} 2000\n"));
    assert_null(strstr(t, "per_1000"));
    assert_non_null(strstr(t, "memvigil_progress_units_per_second{unit=\"files\"} 250\n"));
    free(t);
    /* the status JSON: the same figure, bytes per unit, under one key */
    t = render(r, MV_FORMAT_JSON);
    assert_non_null(strstr(t, "{\"unit\":\"files\",\"units\":1010,"
                              "\"memory_per_unit_bytes\":2000,"
                              "\"units_per_second\":250}"));
    assert_null(strstr(t, "per_1000"));
    free(t);
    /* an n/a private reading counts the units, keeps the figure */
    assert_int_equal(mv__registry_progress_add(r, "files", 0, MV_NA, 5000, &rising), 0);
    mv__registry_free(r);
}

/* Per unit (bytes) at units since baseline u: feeds private = base + u*pu. */
static int feed(mv__registry *r, int64_t *units_done, int64_t u, double pu)
{
    int rising = -1;
    int64_t n = u - *units_done;
    *units_done = u;
    assert_int_equal(mv__registry_progress_add(r, "rows", n,
                                               (int64_t)(1000000 + pu * (double)u),
                                               u * 10, &rising), 0);
    return rising;
}

static void test_progress_rising(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    int64_t done = 0;
    int rising = -1;
    /* baseline: 0 units at 1,000,000 B */
    assert_int_equal(mv__registry_progress_add(r, "rows", 0, 1000000, 0, &rising), 0);
    assert_int_equal(rising, 0);
    assert_int_equal(feed(r, &done, 100, 1000), 0);   /* first checkpoint */
    assert_int_equal(feed(r, &done, 105, 5000), 0);   /* < 10% more units: no checkpoint */
    assert_int_equal(feed(r, &done, 200, 1100), 0);   /* rise 1 */
    assert_int_equal(feed(r, &done, 300, 1300), 0);   /* rise 2 */
    assert_int_equal(feed(r, &done, 400, 1500), 1);   /* rise 3: reported */
    assert_int_equal(feed(r, &done, 500, 1700), 0);   /* still rising: once only */
    assert_int_equal(feed(r, &done, 600, 1700), 0);   /* flat: re-arms */
    assert_int_equal(feed(r, &done, 700, 1800), 0);
    assert_int_equal(feed(r, &done, 800, 1900), 0);
    assert_int_equal(feed(r, &done, 900, 2000), 1);   /* a new run of rises */
    /* constant cost per unit (a linear leak) never counts as rising */
    int64_t d2 = 0;
    mv__registry *r2 = mv__registry_new(0);
    assert_int_equal(mv__registry_progress_add(r2, "rows", 0, 1000000, 0, &rising), 0);
    for (int64_t u = 100; u < 5000; u += 100)
        assert_int_equal(feed(r2, &d2, u, 1000), 0);
    mv__registry_free(r2);
    mv__registry_free(r);
}

static void test_phases(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    char names[64];
    assert_int_equal(mv__registry_phase_end(r, "load", 0), -ENOENT);
    assert_int_equal(mv__registry_active_phases(r, names, sizeof names), 0);
    assert_string_equal(names, "");
    assert_int_equal(mv__registry_phase_begin(r, "load", 1), 0);
    assert_int_equal(mv__registry_phase_begin(r, "load", 2), 0); /* nested */
    assert_int_equal(mv__registry_phase_begin(r, "build", 3), 0);
    assert_int_equal(mv__registry_active_phases(r, names, sizeof names), 2);
    assert_string_equal(names, "build,load");
    assert_int_equal(mv__registry_phase_end(r, "load", 4), 0);
    assert_int_equal(mv__registry_active_phases(r, names, sizeof names), 2);
    assert_int_equal(mv__registry_phase_end(r, "load", 5), 0);
    assert_int_equal(mv__registry_active_phases(r, names, sizeof names), 1);
    assert_string_equal(names, "build");
    assert_int_equal(mv__registry_phase_end(r, "load", 6), -ENOENT);
    /* a too-small output buffer truncates whole names, count stays right */
    assert_int_equal(mv__registry_phase_begin(r, "load", 7), 0);
    char tiny[7];
    assert_int_equal(mv__registry_active_phases(r, tiny, sizeof tiny), 2);
    assert_string_equal(tiny, "build");
    assert_int_equal(mv__registry_active_phases(r, NULL, 0), 2);
    assert_int_equal(mv__registry_phase_end(r, "load", 8), 0);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t, "memvigil_phase_active{phase=\"build\"} 1\n"));
    assert_non_null(strstr(t, "memvigil_phase_active{phase=\"load\"} 0\n"));
    free(t);
    mv__registry_free(r);
}

static void test_json(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    assert_int_equal(mv__registry_gauge_set(r, "index", "shard=2,note=q\"x", 4096), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", -100, 0.5), 0);
    assert_int_equal(mv__registry_op_observe(r, "query", 5000, 0.25), 0);
    assert_int_equal(mv__registry_progress_add(r, "files", 10, 1000, 0, NULL), 0);
    assert_int_equal(mv__registry_phase_begin(r, "load", 0), 0);
    char *j = render(r, MV_FORMAT_JSON);
    char out[512];
    assert_int_equal(jq(j, ".gauges[0].bytes", out, sizeof out), 0);
    assert_string_equal(out, "4096");
    assert_int_equal(jq(j, ".gauges[0].labels.note", out, sizeof out), 0);
    assert_string_equal(out, "q\"x");
    assert_int_equal(jq(j, ".gauges[0].labels.shard", out, sizeof out), 0);
    assert_string_equal(out, "2");
    assert_int_equal(jq(j, ".operations[0].delta_sum_bytes", out, sizeof out), 0);
    assert_string_equal(out, "4900");
    assert_int_equal(jq(j, ".operations[0].duration_sum_seconds", out, sizeof out), 0);
    assert_string_equal(out, "0.75");
    assert_int_equal(jq(j, "[.operations[0].buckets[] | .count] | join(\",\")", out,
                        sizeof out), 0);
    assert_string_equal(out, "1,1,2,2,2,2,2,2");
    assert_int_equal(jq(j, ".operations[0].buckets[7].le", out, sizeof out), 0);
    assert_string_equal(out, "+Inf");
    assert_int_equal(jq(j, ".progress[0] | has(\"memory_per_unit_bytes\") and "
                           ".memory_per_unit_bytes == null", out, sizeof out), 0);
    assert_string_equal(out, "true");
    assert_int_equal(jq(j, ".phases[0].active", out, sizeof out), 0);
    assert_string_equal(out, "true");
    assert_int_equal(jq(j, ".series_dropped", out, sizeof out), 0);
    assert_string_equal(out, "0");
    free(j);
    mv__registry_free(r);
}

static void test_render_10k(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(10000);
    char labels[64];
    /* insert in a scrambled order to exercise the sorted insert */
    for (int i = 0; i < 10000; i++) {
        int k = (i * 7919) % 10000;
        snprintf(labels, sizeof labels, "shard=%05d", k);
        assert_int_equal(mv__registry_gauge_set(r, "seg", labels, k + 1), 0);
    }
    assert_int_equal(mv__registry_gauge_set(r, "seg", "shard=x", 1), -ENOSPC);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    /* every series present exactly once, in order */
    const char *p = t;
    char line[128];
    for (int k = 0; k < 10000; k++) {
        snprintf(line, sizeof line,
                 "memvigil_app_memory_bytes{component=\"seg\",shard=\"%05d\"} %d\n",
                 k, k + 1);
        const char *q = strstr(p, line);
        assert_non_null(q);
        p = q + strlen(line);
    }
    size_t lines = 0;
    for (const char *c = t; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 10000 + 2 + 3); /* samples + gauge meta + dropped */
    free(t);
    mv__registry_free(r);
}

typedef struct writer_arg {
    mv__registry *r;
    int id;
    int ok, nospc, other; /* results of gauge_set; other calls' failures */
} writer_arg;

/* cmocka asserts are not thread-safe: threads only count results. */
static void *writer(void *p)
{
    writer_arg *a = p;
    char labels[32];
    for (int i = 0; i < 500; i++) {
        snprintf(labels, sizeof labels, "t=%d,i=%d", a->id, i);
        int rc = mv__registry_gauge_set(a->r, "conc", labels, i + 1);
        if (rc == 0)
            a->ok++;
        else if (rc == -ENOSPC)
            a->nospc++;
        else
            a->other++;
        a->other += mv__registry_op_observe(a->r, "op", i, 0.001) != 0;
        a->other += mv__registry_progress_add(a->r, "u", 1, 1000 + i, i, NULL) != 0;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    pthread_t th[4];
    writer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg){.r = r, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int k = 0; k < 20; k++) {
        char *t = render(r, k % 2 ? MV_FORMAT_OPENMETRICS : MV_FORMAT_PROMETHEUS);
        free(t);
    }
    int ok = 0, nospc = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        nospc += args[i].nospc;
        assert_int_equal(args[i].other, 0);
    }
    assert_int_equal(ok, 1000);
    assert_int_equal(nospc, 1000);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    /* 2000 series wanted, cap 1000: 1000 kept, 1000 dropped */
    assert_int_equal(mv__registry_dropped(r), 1000);
    assert_non_null(strstr(t, "memvigil_operations_total{operation=\"op\"} 2000\n"));
    assert_non_null(strstr(t, "memvigil_progress_units_total{unit=\"u\"} 2000\n"));
    free(t);
    mv__registry_free(r);
}

/* ---- changes since the last drain (the recorder's app lines) ---- */

static mv__registry_change *find_change(mv__registry_change *v, size_t n,
                                        mv__registry_kind k, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == k && strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static void test_changes(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    mv__registry_change *v;
    size_t n;
    uint64_t skipped = 7;

    assert_int_equal(mv__registry_changes(r, 256, &v, &n, &skipped), 0);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_int_equal(skipped, 0);

    assert_int_equal(mv__registry_gauge_set(r, "idx", "b=2,a=1", 1000), 0);
    assert_int_equal(mv__registry_gauge_set(r, "tmp", NULL, 5), 0);
    assert_int_equal(mv__registry_gauge_set(r, "tmp", NULL, 0), 0);
    assert_int_equal(mv__registry_op_observe(r, "q", 100, 0.5), 0);
    assert_int_equal(mv__registry_op_observe(r, "q", -50, 0.25), 0);
    assert_int_equal(mv__registry_op_observe(r, "q", 5000, 0.25), 0);
    assert_int_equal(mv__registry_progress_add(r, "rows", 1000, 1 << 20, 1, NULL), 0);
    assert_int_equal(mv__registry_progress_add(r, "rows", 1000, 3 << 20, 2, NULL), 0);
    assert_int_equal(mv__registry_changes(r, 256, &v, &n, &skipped), 0);
    assert_int_equal(n, 3);   /* tmp came and went within the tick */
    assert_int_equal(skipped, 0);
    /* order: operations, progress, gauges */
    assert_int_equal(v[0].kind, MV__REG_OP);
    assert_int_equal(v[1].kind, MV__REG_PROGRESS);
    assert_int_equal(v[2].kind, MV__REG_GAUGE);
    mv__registry_change *c = find_change(v, n, MV__REG_OP, "q");
    assert_non_null(c);
    assert_int_equal(c->count, 3);
    assert_int_equal(c->sum_bytes, 5050);
    assert_int_equal(c->min_bytes, -50);
    assert_int_equal(c->max_bytes, 5000);
    assert_true(c->duration_s == 1.0);
    uint64_t want[MV__REGISTRY_OP_BUCKETS] = {1, 1, 1, 0, 0, 0, 0, 0};
    assert_memory_equal(c->buckets, want, sizeof want);
    c = find_change(v, n, MV__REG_PROGRESS, "rows");
    assert_int_equal(c->units, 2000);
    assert_int_equal(c->private_bytes, 3 << 20);
    /* 2 MiB more over 1000 more units: bytes per unit */
    assert_true(c->memory_per_unit_bytes == 2.0 * (1 << 20) / 1000.0);
    c = find_change(v, n, MV__REG_GAUGE, "idx");
    assert_string_equal(c->labels, "a=1,b=2");
    assert_int_equal(c->value, 1000);
    assert_null(find_change(v, n, MV__REG_GAUGE, "tmp"));
    mv__registry_changes_free(v, n);

    /* nothing new: nothing reported; the same value is not a change */
    assert_int_equal(mv__registry_gauge_set(r, "idx", "a=1,b=2", 1000), 0);
    assert_int_equal(mv__registry_changes(r, 256, &v, &n, &skipped), 0);
    assert_int_equal(n, 0);
    assert_null(v);

    /* removal of a reported gauge is reported with value 0, before a
     * re-set in the same tick */
    assert_int_equal(mv__registry_gauge_set(r, "idx", "a=1,b=2", 0), 0);
    assert_int_equal(mv__registry_gauge_set(r, "idx", "a=1,b=2", 77), 0);
    assert_int_equal(mv__registry_op_observe(r, "q", 8, 0), 0);
    assert_int_equal(mv__registry_changes(r, 256, &v, &n, &skipped), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].kind, MV__REG_GAUGE);
    assert_int_equal(v[0].value, 0);
    assert_string_equal(v[0].name, "idx");
    assert_int_equal(v[1].kind, MV__REG_OP);
    assert_int_equal(v[1].count, 1);   /* only since the last drain */
    assert_int_equal(v[1].sum_bytes, 8);
    assert_int_equal(v[1].min_bytes, 8);
    assert_int_equal(v[2].value, 77);
    mv__registry_changes_free(v, n);
    mv__registry_free(r);
}

static void test_changes_cap(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    mv__registry_change *v;
    size_t n;
    uint64_t skipped;
    char name[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "g%d", i);
        assert_int_equal(mv__registry_gauge_set(r, name, NULL, 10 + i), 0);
    }
    assert_int_equal(mv__registry_changes(r, 2, &v, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 3);
    assert_string_equal(v[0].name, "g0");
    assert_string_equal(v[1].name, "g1");
    mv__registry_changes_free(v, n);
    /* g0 changes again; the walk resumes after g1, so g2, g3 come first */
    assert_int_equal(mv__registry_gauge_set(r, "g0", NULL, 99), 0);
    assert_int_equal(mv__registry_changes(r, 2, &v, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 2);
    assert_string_equal(v[0].name, "g2");
    assert_string_equal(v[1].name, "g3");
    mv__registry_changes_free(v, n);
    assert_int_equal(mv__registry_changes(r, 256, &v, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 0);
    assert_string_equal(v[0].name, "g4");
    assert_string_equal(v[1].name, "g0");
    assert_int_equal(v[1].value, 99);
    mv__registry_changes_free(v, n);
    /* bad arguments */
    assert_int_equal(mv__registry_changes(NULL, 2, &v, &n, &skipped), -EINVAL);
    assert_int_equal(mv__registry_changes(r, 0, &v, &n, &skipped), -EINVAL);
    assert_true(isinf(mv__registry_op_bound(7)));
    assert_true(mv__registry_op_bound(1) == 4096.0);
    assert_true(isnan(mv__registry_op_bound(8)));
    mv__registry_free(r);
}

/* The heap-site families: the site is the only label (no rank, so a site
 * that changes place keeps its series), the set is replaced whole, capped
 * at MV__HEAP_SITES_MAX, a site named twice is one series. */
static void test_heap_sites(void **state)
{
    (void)state;
    mv__registry *r = mv__registry_new(0);
    mv__heap_site s[MV__HEAP_SITES_MAX + 3];
    memset(s, 0, sizeof s);
    snprintf(s[0].site, sizeof s[0].site, "leak_fast (a.c:12)");
    s[0].growth_bytes_per_second = 1500.5;
    s[0].inuse_bytes = 4096;
    snprintf(s[1].site, sizeof s[1].site, "f \"q\" (b.c:3)");
    s[1].growth_bytes_per_second = 10;
    s[1].inuse_bytes = 100;
    assert_int_equal(mv__registry_heap_sites_set(r, s, 2), 0);
    char *t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t,
        "# TYPE memvigil_heap_site_growth_bytes_per_second gauge\n"
        "memvigil_heap_site_growth_bytes_per_second{site=\"leak_fast (a.c:12)\"} 1500.5\n"
        "memvigil_heap_site_growth_bytes_per_second{site=\"f \\\"q\\\" (b.c:3)\"} 10\n"));
    assert_non_null(strstr(t,
        "# TYPE memvigil_heap_site_inuse_bytes gauge\n"
        "memvigil_heap_site_inuse_bytes{site=\"leak_fast (a.c:12)\"} 4096\n"
        "memvigil_heap_site_inuse_bytes{site=\"f \\\"q\\\" (b.c:3)\"} 100\n"));
    assert_null(strstr(t, "rank"));
    free(t);

    /* the two swap places: the same two series, in the new order */
    mv__heap_site sw[2] = {s[1], s[0]};
    sw[0].growth_bytes_per_second = 2000;
    assert_int_equal(mv__registry_heap_sites_set(r, sw, 2), 0);
    t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t,
        "memvigil_heap_site_growth_bytes_per_second{site=\"f \\\"q\\\" (b.c:3)\"} 2000\n"
        "memvigil_heap_site_growth_bytes_per_second{site=\"leak_fast (a.c:12)\"} 1500.5\n"));
    free(t);

    /* a site named twice is one series with the figures summed */
    s[2] = s[0];
    s[2].growth_bytes_per_second = 0.5;
    s[2].inuse_bytes = 4;
    mv__heap_site dup[3] = {s[0], s[1], s[2]};
    assert_int_equal(mv__registry_heap_sites_set(r, dup, 3), 0);
    t = render(r, MV_FORMAT_PROMETHEUS);
    assert_non_null(strstr(t,
        "memvigil_heap_site_growth_bytes_per_second{site=\"leak_fast (a.c:12)\"} 1501\n"));
    assert_non_null(strstr(t,
        "memvigil_heap_site_inuse_bytes{site=\"leak_fast (a.c:12)\"} 4100\n"));
    const char *p = t;
    int n = 0;
    while ((p = strstr(p, "\nmemvigil_heap_site_inuse_bytes{")) != NULL)
        n++, p++;
    assert_int_equal(n, 2);
    free(t);

    /* more than the cap: the first MV__HEAP_SITES_MAX are kept */
    for (int i = 0; i < MV__HEAP_SITES_MAX + 3; i++) {
        snprintf(s[i].site, sizeof s[i].site, "site%d (c.c:%d)", i, i);
        s[i].growth_bytes_per_second = 100 - i;
        s[i].inuse_bytes = 1000 - i;
    }
    assert_int_equal(mv__registry_heap_sites_set(r, s, MV__HEAP_SITES_MAX + 3), 0);
    t = render(r, MV_FORMAT_OPENMETRICS);
    assert_non_null(strstr(t, "# UNIT memvigil_heap_site_growth_bytes_per_second "
                              "bytes_per_second\n"));
    assert_non_null(strstr(t, "\nmemvigil_heap_site_inuse_bytes{site=\"site9 (c.c:9)\"} 991\n"));
    assert_null(strstr(t, "site10 "));
    n = 0;
    for (p = t; (p = strstr(p, "\nmemvigil_heap_site_inuse_bytes{")) != NULL; p++)
        n++;
    assert_int_equal(n, MV__HEAP_SITES_MAX);
    free(t);

    /* JSON has no heap sites; n = 0 clears; bad arguments */
    t = render(r, MV_FORMAT_JSON);
    assert_null(strstr(t, "heap_site"));
    free(t);
    assert_int_equal(mv__registry_heap_sites_set(r, NULL, 0), 0);
    t = render(r, MV_FORMAT_PROMETHEUS);
    assert_null(strstr(t, "heap_site"));
    free(t);
    assert_int_equal(mv__registry_heap_sites_set(r, NULL, 1), -EINVAL);
    assert_int_equal(mv__registry_heap_sites_set(NULL, s, 1), -EINVAL);
    mv__registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_changes_cap),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_cardinality_cap),
        cmocka_unit_test(test_op_histogram),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_progress_rising),
        cmocka_unit_test(test_phases),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_render_10k),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_heap_sites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
