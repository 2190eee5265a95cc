/*
 * test_cli_report.c — the report model and its renderers, from recorded
 * fixtures (tests/fixtures/report/, made with `memvigil run --record`) and
 * from bytes: downsampling keeps spikes, the numbers and series reach the
 * JSON/HTML/text, application records are read, bad input gives clear
 * errors. The verdict replay is cmd_report.c's; here a stub stands in, so
 * these tests pin the model, not the detector.
 */
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

#include <jansson.h>

#include "report.h"
#include "util.h"

#define FIX MV_FIXTURES "/report/"

typedef struct stub {
    mv__leak_verdict v;
    double growth_h;
    int calls;
    size_t points;
    int risk;               /* the OOM-risk claim at the end */
    int risk_raised;        /* it was raised, 5 min after the first point */
} stub;

static int stub_verdict(const cli_report_raw *raw, void *ctx, mv__leak_result *out,
                        double *detected_at_s, int64_t *limit)
{
    stub *s = ctx;
    memset(out, 0, sizeof *out);
    out->verdict = s->v;
    out->growth_bytes_per_h = s->growth_h;
    out->growth_lo_bytes_per_h = out->growth_hi_bytes_per_h = s->growth_h;
    out->confidence = 0.9;
    out->eta_s = 3600;
    out->window_s = (double)(raw->t_ms[raw->n - 1] - raw->t_ms[0]) / 1000.0;
    snprintf(out->evidence, sizeof out->evidence, "stub evidence <b>&");
    out->risk.active = s->risk;
    out->risk.growth_bytes_per_h = s->growth_h;
    out->risk.eta_s = s->risk ? 5400 : INFINITY;
    out->risk.window_s = 600;
    out->risk.first_ms = s->risk || s->risk_raised ? raw->t_ms[0] + 300000 : -1;
    out->risk.since_ms = s->risk ? out->risk.first_ms : -1;
    snprintf(out->risk.evidence, sizeof out->risk.evidence, "%s",
             s->risk ? "stub risk <i>" : "stub no risk");
    *detected_at_s = 42;
    *limit = MV_NA;
    s->calls++;
    s->points = raw->n;
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    mv_buf b = {0};
    ssize_t n = mv__read_file(path, &b, 64 << 20);
    assert_true(n >= 0);
    *len = (size_t)n;
    if (!b.data) {
        b.data = calloc(1, 1);
        assert_non_null(b.data);
    }
    return b.data;
}

static int build_file(const char *name, stub *st, cli_report *r, char *err, size_t n)
{
    size_t len;
    char *data = slurp(name, &len);
    cli_report_opts o;
    memset(&o, 0, sizeof o);
    if (st) {
        o.verdict = stub_verdict;
        o.verdict_ctx = st;
    }
    int rc = cli_report_build(name, data, len, &o, r, err, n);
    free(data);
    return rc;
}

static int build_str(const char *s, cli_report *r, char *err, size_t n)
{
    return cli_report_build("mem", s, strlen(s), NULL, r, err, n);
}

/* ---- downsampling ---- */

static void test_downsample_keeps_spike(void **state)
{
    (void)state;
    enum { N = 60480 };
    int64_t *t = malloc(N * sizeof *t);
    double *v = malloc(N * sizeof *v);
    assert_non_null(t);
    assert_non_null(v);
    for (int i = 0; i < N; i++) {
        t[i] = 1000000 + (int64_t)i * 10000;
        v[i] = 100.0 + (i % 7);
    }
    v[31337] = 5000;   /* one sample wide */
    v[31338] = NAN;    /* unavailable: skipped */
    cli_report_cols c;
    assert_int_equal(cli_report_downsample(t, v, N, t[0], t[N - 1], 1200, &c), 0);
    assert_int_equal(c.n, 1200);
    double mx = 0, mn = 1e9;
    for (size_t i = 0; i < c.n; i++) {
        mx = fmax(mx, c.max[i]);
        mn = fmin(mn, c.min[i]);
        if (i)
            assert_true(c.t_ms[i] > c.t_ms[i - 1]);
    }
    assert_true(mx == 5000.0);
    assert_true(mn == 100.0);
    cli_report_cols_release(&c);

    /* fewer points than columns: every point exact */
    assert_int_equal(cli_report_downsample(t, v, 50, t[0], t[49], 1200, &c), 0);
    assert_int_equal(c.n, 50);
    for (size_t i = 0; i < c.n; i++) {
        assert_true(c.min[i] == v[i]);
        assert_true(c.max[i] == v[i]);
        assert_true(c.t_ms[i] == t[i]);
    }
    cli_report_cols_release(&c);
    free(t);
    free(v);
}

/* ---- recorded fixtures ---- */

static json_t *parse_json(const cli_report *r)
{
    mv_buf b = {0};
    assert_int_equal(cli_report_json(r, &b), 0);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    if (!j)
        fail_msg("report JSON does not parse: %s (line %d)", je.text, je.line);
    mv_buf_release(&b);
    return j;
}

static const char css[] = "body{}";
static const char js[] = "/*js*/";

static void test_leak_fixture(void **state)
{
    (void)state;
    cli_report r;
    char err[256];
    stub st = {MV_LEAK_LEAK, 8.0 * 1024 * 1024, 0, 0, 0, 0};   /* 8 MiB/h */
    assert_int_equal(build_file(FIX "short_leak.jsonl", &st, &r, err, sizeof err), 0);
    assert_int_equal(st.calls, 1);
    /* 183 samples in the file, all with private memory */
    assert_int_equal(r.nsamples, 183);
    assert_int_equal(st.points, 183);
    assert_false(r.downsampled);
    assert_int_equal(r.limit_bytes, 25276026880LL);
    assert_true(r.private_first == 520192.0);
    assert_true(r.private_peak > 190.0 * 1024 * 1024);
    assert_int_equal(r.oom_kills, 0);
    assert_true(r.have_trend);
    assert_true(r.trend_v1 > r.trend_v0);

    json_t *j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "verdict"), "verdict")),
                        "leak");
    json_t *ser = json_object_get(json_object_get(j, "timeline"), "series");
    /* series named after the sample's fields */
    const char *want[] = {"rss_bytes", "rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes",
                          "swap_bytes", "private_bytes", "working_set_bytes",
                          "effective_limit_bytes"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *s = json_object_get(ser, want[i]);
        assert_non_null(s);
        assert_int_equal(json_array_size(json_object_get(s, "t")), 183);
        assert_int_equal(json_array_size(json_object_get(s, "max")), 183);
    }
    /* first private point: offset 0, value as recorded */
    json_t *p = json_object_get(ser, "private_bytes");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(p, "t"), 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(p, "max"), 0)), 520192);
    /* events: started, growth, target_exit */
    assert_int_equal(json_array_size(json_object_get(j, "events")), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "events"), 1), "event")), "growth");
    json_decref(j);

    /* text and markdown carry the verdict and the evidence */
    mv_buf b = {0};
    assert_int_equal(cli_report_text(&r, &b), 0);
    assert_non_null(strstr(b.data, "Verdict: LEAK"));
    assert_non_null(strstr(b.data, "growth             8.0 MiB/h"));
    assert_non_null(strstr(b.data, "stub evidence"));
    mv__buf_reset(&b);
    assert_int_equal(cli_report_markdown(&r, &b), 0);
    assert_non_null(strstr(b.data, "**Verdict: LEAK**"));
    assert_non_null(strstr(b.data, "| time to limit | 1 h |"));
    mv_buf_release(&b);
    cli_report_release(&r);
}

/* The two claims apart: the headline says OOM RISK, LEAK or both; text,
 * markdown, JSON and HTML show the OOM-risk claim beside the verdict. */
static void test_two_claims(void **state)
{
    (void)state;
    cli_report r;
    char err[256], hl[40];
    cli_report_assets a = {css, strlen(css), js, strlen(js)};
    mv_buf b = {0};

    /* minutes of growth: an OOM risk, no leak verdict */
    stub st = {MV_LEAK_NO_LEAK, 60.0 * 1024 * 1024, 0, 0, 1, 1};
    assert_int_equal(build_file(FIX "short_leak.jsonl", &st, &r, err, sizeof err), 0);
    assert_string_equal(cli_report_headline(&r, hl, sizeof hl), "OOM RISK");
    assert_string_equal(cli_report_risk_label(&r), "OOM RISK");
    assert_true(fabs(r.oom_risk_at_s - 300.0) < 1e-9);
    assert_int_equal(cli_report_text(&r, &b), 0);
    assert_non_null(strstr(b.data, "Headline: OOM RISK\n"));
    assert_non_null(strstr(b.data, "Verdict: NO LEAK"));
    assert_non_null(strstr(b.data, "OOM risk: OOM RISK"));
    assert_non_null(strstr(b.data, "stub risk <i>"));
    assert_non_null(strstr(b.data, "OOM risk ETA       1 h 30 min"));
    assert_non_null(strstr(b.data, "OOM risk raised    5 min"));
    /* the advice says to act now, and that it is not (yet) a leak */
    assert_non_null(strstr(b.data, "Out of memory in about 1 h 30 min"));
    mv__buf_reset(&b);
    assert_int_equal(cli_report_markdown(&r, &b), 0);
    assert_non_null(strstr(b.data, "**Headline: OOM RISK**"));
    assert_non_null(strstr(b.data, "**OOM risk: OOM RISK**"));
    json_t *j = parse_json(&r);
    assert_true(json_is_true(json_object_get(j, "oom_risk_active")));
    assert_true(fabs(json_number_value(json_object_get(j, "oom_risk_at_s")) - 300.0) < 1e-9);
    assert_true(json_number_value(json_object_get(j, "oom_risk_time_to_limit_seconds")) == 5400.0);
    assert_string_equal(json_string_value(json_object_get(j, "oom_risk_evidence")),
                        "stub risk <i>");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "verdict"), "verdict")),
                        "no_leak");
    json_decref(j);
    mv__buf_reset(&b);
    assert_int_equal(cli_report_html(&r, &a, &b), 0);
    assert_non_null(strstr(b.data, "<title>memvigil report: OOM RISK"));
    assert_non_null(strstr(b.data, "data-verdict=\"no_leak\""));
    assert_non_null(strstr(b.data, "id=\"oom-risk\" data-oom-risk=\"true\""));
    assert_non_null(strstr(b.data, "stub risk &lt;i&gt;"));
    cli_report_release(&r);

    /* both */
    stub st2 = {MV_LEAK_LEAK, 60.0 * 1024 * 1024, 0, 0, 1, 1};
    assert_int_equal(build_file(FIX "short_leak.jsonl", &st2, &r, err, sizeof err), 0);
    assert_string_equal(cli_report_headline(&r, hl, sizeof hl), "OOM RISK + LEAK");
    mv__buf_reset(&b);
    assert_int_equal(cli_report_html(&r, &a, &b), 0);
    assert_non_null(strstr(b.data, "<title>memvigil report: OOM RISK + LEAK"));
    assert_non_null(strstr(b.data, "data-verdict=\"leak\""));
    cli_report_release(&r);

    /* a leak whose risk was raised and cleared: LEAK alone; when it was
     * raised is still said */
    stub st3 = {MV_LEAK_LEAK, 8.0 * 1024 * 1024, 0, 0, 0, 1};
    assert_int_equal(build_file(FIX "short_leak.jsonl", &st3, &r, err, sizeof err), 0);
    assert_string_equal(cli_report_headline(&r, hl, sizeof hl), "LEAK");
    assert_string_equal(cli_report_risk_label(&r), "no OOM risk");
    mv__buf_reset(&b);
    assert_int_equal(cli_report_text(&r, &b), 0);
    assert_non_null(strstr(b.data, "Headline: LEAK\n"));
    assert_non_null(strstr(b.data, "OOM risk: no OOM risk"));
    assert_non_null(strstr(b.data, "OOM risk raised    5 min (cleared later)"));
    assert_null(strstr(b.data, "Out of memory in about"));
    j = parse_json(&r);
    assert_true(json_is_false(json_object_get(j, "oom_risk_active")));
    assert_true(fabs(json_number_value(json_object_get(j, "oom_risk_at_s")) - 300.0) < 1e-9);
    /* the report's JSON spells infinity "+Inf", as for eta_s */
    assert_string_equal(json_string_value(json_object_get(j, "oom_risk_time_to_limit_seconds")),
                        "+Inf");
    json_decref(j);
    mv__buf_reset(&b);
    assert_int_equal(cli_report_html(&r, &a, &b), 0);
    assert_non_null(strstr(b.data, "data-oom-risk=\"false\""));
    cli_report_release(&r);

    /* never raised, and no verdict at all */
    stub st4 = {MV_LEAK_NO_LEAK, 0, 0, 0, 0, 0};
    assert_int_equal(build_file(FIX "short_leak.jsonl", &st4, &r, err, sizeof err), 0);
    assert_true(isnan(r.oom_risk_at_s));
    j = parse_json(&r);
    assert_true(json_is_false(json_object_get(j, "oom_risk_active")));
    assert_true(json_is_null(json_object_get(j, "oom_risk_at_s")));
    json_decref(j);
    cli_report_release(&r);
    assert_int_equal(build_file(FIX "short_leak.jsonl", NULL, &r, err, sizeof err), 0);
    assert_string_equal(cli_report_headline(&r, hl, sizeof hl), "no verdict");
    j = parse_json(&r);
    assert_true(json_is_null(json_object_get(j, "oom_risk_active")));
    json_decref(j);
    cli_report_release(&r);
    mv_buf_release(&b);
}

static void test_oom_fixtures(void **state)
{
    (void)state;
    cli_report r;
    char err[256];
    assert_int_equal(build_file(FIX "oom_killed.jsonl", NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.oom_kills, 1);
    assert_string_equal(r.max_level, "critical");
    assert_int_equal(r.limit_bytes, 64LL << 20);
    assert_non_null(strstr(r.advice[0], "OOM killer struck 1 time"));
    cli_report_release(&r);

    /* the real recording: the kill happened after the last sample; the
     * report says the process ended at its limit */
    assert_int_equal(build_file(FIX "oom_uncounted.jsonl", NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.oom_kills, 0);
    assert_true(r.oom_suspected);
    cli_report_fig f;
    cli_report_figures(&r, &f);
    assert_string_equal(f.oom, "0 counted (ended at the limit)");
    cli_report_release(&r);
}

static void test_app_records(void **state)
{
    (void)state;
    cli_report r;
    char err[256];
    assert_int_equal(build_file(FIX "app_records.jsonl", NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.ngauges, 2);
    assert_string_equal(r.gauges[0].name, "index_bytes");
    assert_string_equal(r.gauges[1].name, "cache_bytes{cache=\"lru\"}");
    assert_true(r.gauges[0].last == 181.0 * 1048576);
    assert_int_equal(r.nops, 1);
    assert_int_equal(r.ops[0].count, 181);
    /* deltas 1000 * (k % 10), k = 1..181: 18 zeros, 19 ones, 18 of each
     * other digit: max 9000, median (the 91st) 4000 */
    assert_true(r.ops[0].max == 9000);
    assert_true(r.ops[0].p50 == 4000);
    unsigned total = 0;
    for (int i = 0; i < CLI_REPORT_HIST_BINS; i++)
        total += r.ops[0].hist[i];
    assert_int_equal(total, 181);
    assert_int_equal(r.nprogress, 1);
    assert_string_equal(r.progress[0].unit, "files");
    assert_int_equal(r.progress[0].units_total, 181000);
    assert_int_equal(r.progress[0].npts, 181);
    /* bytes per unit, as the registry: private growth since the first
     * checkpoint (1000 files, 8451853 B) over the units since; the second
     * checkpoint is 2000 files at 8567493 B, the last 181000 at 162398231 */
    assert_true(r.progress[0].first_per_unit == 115640.0 / 1000.0);
    assert_true(r.progress[0].last_per_unit == 153946378.0 / 180000.0);
    assert_true(r.progress[0].per_unit.n > 0);
    assert_true(r.progress[0].rising_at_ms != MV_NA);
    assert_int_equal(r.nphases, 1);
    assert_string_equal(r.phases[0].name, "index_build");
    assert_false(r.phases[0].open);
    assert_true(r.phases[0].t1_ms > r.phases[0].t0_ms);
    /* samples inside the phase are flagged for the detector */
    size_t in_phase = 0;
    for (size_t i = 0; i < r.raw.n; i++)
        in_phase += r.raw.phase[i];
    assert_int_equal(in_phase, 40);
    cli_report_release(&r);
}


/* The same application records in a version-2 recording (the recorder's
 * copy of app_records.jsonl, tests/fixtures/record/) build the same model:
 * the report parses no JSON of its own, the library's reader gives it
 * gauge, op and progress lines of either version. */
static void test_app_records_v2(void **state)
{
    (void)state;
    cli_report a, b;
    char err[256];
    assert_int_equal(build_file(FIX "app_records.jsonl", NULL, &a, err, sizeof err), 0);
    assert_int_equal(build_file(MV_FIXTURES "/record/app_records_v2.jsonl", NULL,
                                &b, err, sizeof err), 0);
    assert_int_equal(b.version, 2);
    assert_int_equal(a.nsamples, b.nsamples);
    assert_int_equal(a.t0_ms, b.t0_ms);
    assert_int_equal(a.t1_ms, b.t1_ms);
    assert_true(a.private_peak == b.private_peak && a.rss_peak == b.rss_peak);
    assert_int_equal(a.limit_bytes, b.limit_bytes);
    assert_int_equal(a.nevents, b.nevents);
    assert_int_equal(b.ngauges, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(a.gauges[i].name, b.gauges[i].name);
        assert_true(a.gauges[i].last == b.gauges[i].last);
        assert_int_equal(a.gauges[i].cols.n, b.gauges[i].cols.n);
    }
    assert_true(b.gauges[0].last == 181.0 * 1048576);
    assert_int_equal(b.nops, 0);   /* the recorder writes no one-call op line */
    assert_int_equal(b.nprogress, 1);
    assert_string_equal(b.progress[0].unit, "files");
    assert_int_equal(b.progress[0].units_total, 181000);
    assert_int_equal(b.progress[0].npts, a.progress[0].npts);
    for (size_t k = 0; k < b.progress[0].npts; k++)
        assert_true(a.progress[0].private_bytes[k] == b.progress[0].private_bytes[k]);
    assert_true(b.progress[0].first_per_unit == 115640.0 / 1000.0);
    assert_true(a.progress[0].first_per_unit == b.progress[0].first_per_unit);
    assert_true(a.progress[0].last_per_unit == b.progress[0].last_per_unit);
    assert_int_equal(a.progress[0].rising_at_ms, b.progress[0].rising_at_ms);
    assert_int_equal(b.nphases, 1);
    assert_string_equal(b.warnings, "");
    cli_report_release(&a);
    cli_report_release(&b);
}

static void test_html(void **state)
{
    (void)state;
    const char *rec =
        "{\"type\":\"header\",\"version\":1,\"command\":\"evil </script><script>alert(1)</script>\","
        "\"pid\":7,\"start_ms\":1000,\"interval_ms\":1000,\"limit_bytes\":1000000}\n"
        "{\"type\":\"sample\",\"t_ms\":1000,\"rss\":100,\"private\":90,\"limit\":1000000,\"level\":\"ok\"}\n"
        "{\"type\":\"event\",\"t_ms\":1500,\"event\":\"growth\",\"level\":\"ok\",\"message\":\"a <b> & c\"}\n"
        "{\"type\":\"sample\",\"t_ms\":2000,\"rss\":200,\"private\":190,\"limit\":1000000,\"level\":\"ok\"}\n";
    cli_report r;
    char err[256];
    assert_int_equal(build_str(rec, &r, err, sizeof err), 0);
    assert_int_equal(r.nsamples, 2);
    assert_false(r.series_present[CLI_RS_WORKING_SET]);
    cli_report_assets a = {css, strlen(css), js, strlen(js)};
    mv_buf b = {0};
    assert_int_equal(cli_report_html(&r, &a, &b), 0);
    assert_non_null(strstr(b.data, "Content-Security-Policy\" content=\"default-src 'none'"));
    assert_non_null(strstr(b.data, "<style>\nbody{}</style>"));
    assert_non_null(strstr(b.data, "/*js*/"));
    assert_non_null(strstr(b.data, "id=\"chart-timeline\""));
    /* the command is escaped in HTML and cannot end the data script */
    assert_non_null(strstr(b.data, "evil &lt;/script&gt;"));
    assert_null(strstr(b.data, "</script><script>alert"));
    assert_non_null(strstr(b.data, "evil \\u003c/script>"));
    assert_non_null(strstr(b.data, "a &lt;b&gt; &amp; c"));
    /* nothing in the page points at the network */
    assert_null(strstr(b.data, "https://"));
    assert_null(strstr(b.data, "src=\"http"));
    /* what is missing is said */
    assert_non_null(strstr(b.data, "no cgroup figures"));
    assert_non_null(strstr(b.data, "no verdict"));
    mv_buf_release(&b);
    cli_report_release(&r);
}

static void test_heap_section(void **state)
{
    (void)state;
    cli_report r;
    char err[256];
    stub st = {MV_LEAK_LEAK, 900.0 * 1024 * 1024, 0, 0, 0, 0};
    assert_int_equal(build_file(FIX "short_leak.jsonl", &st, &r, err, sizeof err), 0);
    cli_report_heap *h = &r.heap;
    h->requested = 1;
    h->nsnapshots = 12;
    h->span_s = 660;
    h->sites = calloc(1, sizeof *h->sites);
    h->flame = calloc(2, sizeof *h->flame);
    assert_non_null(h->sites);
    assert_non_null(h->flame);
    h->nsites = 1;
    strcpy(h->sites[0].site, "grow (leaky.c:42)");
    strcpy(h->sites[0].stack, "_start;main;grow");
    h->sites[0].growth_bytes_per_h = 900.0 * 1024 * 1024;
    h->sites[0].share = 0.97;
    h->sites[0].live_bytes = 84 << 20;
    h->flame[0].folded = strdup("_start;main;grow");
    h->flame[0].value = 84 << 20;
    h->flame[1].folded = strdup("_start;main;cache_put");
    h->flame[1].value = 8 << 20;
    h->nflame = 2;
    h->flame_total = (84 << 20) + (8 << 20);
    cli_report_finish(&r);
    /* the advice names the site */
    assert_non_null(strstr(r.advice[0], "Look at grow (leaky.c:42) first"));
    assert_non_null(strstr(r.advice[0], "97%"));
    json_t *j = parse_json(&r);
    json_t *hj = json_object_get(j, "heap");
    assert_int_equal(json_integer_value(json_object_get(hj, "snapshots")), 12);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(hj, "sites"), 0), "site")),
                        "grow (leaky.c:42)");
    json_t *stacks = json_object_get(json_object_get(hj, "flame"), "stacks");
    assert_int_equal(json_array_size(stacks), 2);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(stacks, 1), 1)), 8 << 20);
    json_decref(j);
    cli_report_assets a = {css, strlen(css), js, strlen(js)};
    mv_buf b = {0};
    assert_int_equal(cli_report_html(&r, &a, &b), 0);
    assert_non_null(strstr(b.data, "<table id=\"sites\">"));
    assert_non_null(strstr(b.data, "<code>grow (leaky.c:42)</code>"));
    assert_non_null(strstr(b.data, "12 snapshots over 11 min"));
    assert_non_null(strstr(b.data, "<div id=\"flame\" data-total=\"96468992\">"));
    mv_buf_release(&b);
    cli_report_release(&r);

    /* heap requested but nothing usable: the page says what is missing */
    assert_int_equal(build_file(FIX "short_leak.jsonl", NULL, &r, err, sizeof err), 0);
    r.heap.requested = 1;
    strcpy(r.heap.note, "/nope: no such directory");
    cli_report_finish(&r);
    int found = 0;
    for (size_t i = 0; i < r.nmissing; i++)
        found |= strstr(r.missing[i], "heap snapshots: /nope: no such directory") != NULL;
    assert_true(found);
    cli_report_release(&r);
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
    (void)state;
    cli_report r;
    char err[256];
    assert_int_equal(build_str("", &r, err, sizeof err), -ENODATA);
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(build_str("\n  \n", &r, err, sizeof err), -ENODATA);
    assert_non_null(strstr(err, "no samples"));

    const char *events_only =
        "{\"type\":\"event\",\"t_ms\":1,\"event\":\"started\",\"level\":\"ok\",\"message\":\"x\"}\n";
    assert_int_equal(build_str(events_only, &r, err, sizeof err), -ENODATA);
    assert_non_null(strstr(err, "no samples"));

    const char *newer =
        "{\"type\":\"header\",\"version\":1,\"pid\":1,\"start_ms\":1,\"interval_ms\":1}\n"
        "{\"type\":\"sample\",\"t_ms\":1,\"private\":5,\"level\":\"ok\"}\n"
        "{\"type\":\"header\",\"version\":3,\"pid\":1,\"start_ms\":1,\"interval_ms\":1}\n";
    assert_int_equal(build_str(newer, &r, err, sizeof err), -ENOTSUP);
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "version 3"));

    const char *garbage =
        "{\"type\":\"sample\",\"t_ms\":1,\"private\":5,\"level\":\"ok\"}\n"
        "not json at all\n"
        "{\"type\":\"sample\",\"t_ms\":2,\"private\":5,\"level\":\"ok\"}\n";
    assert_int_equal(build_str(garbage, &r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "mem: line 2"));

    /* a torn last line: skipped, the report says so */
    const char *torn =
        "{\"type\":\"sample\",\"t_ms\":1,\"private\":5,\"level\":\"ok\"}\n"
        "{\"type\":\"sample\",\"t_ms\":2,\"private\":6,\"level\":\"ok\"}\n"
        "{\"type\":\"sample\",\"t_ms\":3,\"priv";
    assert_int_equal(build_str(torn, &r, err, sizeof err), 0);
    assert_int_equal(r.nsamples, 2);
    assert_non_null(strstr(r.warnings, "torn"));
    cli_report_release(&r);

    /* broken optional lines are counted and skipped; samples going back in
     * time are dropped rather than drawn backwards */
    const char *extras =
        "{\"type\":\"sample\",\"t_ms\":10,\"private\":5,\"level\":\"ok\"}\n"
        "{\"type\":\"gauge\",\"t_ms\":10,\"name\":\"g\"}\n"
        "{\"type\":\"sample\",\"t_ms\":5,\"private\":6,\"level\":\"ok\"}\n"
        "{\"type\":\"sample\",\"t_ms\":20,\"private\":7,\"level\":\"ok\"}\n";
    assert_int_equal(build_str(extras, &r, err, sizeof err), 0);
    assert_int_equal(r.nsamples, 2);
    assert_int_equal(r.ngauges, 0);
    assert_non_null(strstr(r.warnings, "1 gauge/op/progress line could not be read"));
    cli_report_release(&r);
    cli_report_release(&r);   /* released twice: a no-op */
}

/* "private": null on a progress line (docs/recording.md allows it): the
 * private memory comes from the newest sample at or before the checkpoint.
 * Issue 12: this read the sample series after it had moved to r->raw. */
static void test_progress_private_null(void **state)
{
    (void)state;
    const char *rec =
        "{\"type\":\"header\",\"version\":1,\"pid\":1,\"start_ms\":1000,\"interval_ms\":1000}\n"
        "{\"type\":\"sample\",\"t_ms\":1000,\"private\":100000000,\"level\":\"ok\"}\n"
        "{\"type\":\"sample\",\"t_ms\":2000,\"private\":101000000,\"level\":\"ok\"}\n"
        "{\"type\":\"progress\",\"t_ms\":2500,\"unit\":\"files\",\"units\":1000,\"private\":null}\n"
        "{\"type\":\"sample\",\"t_ms\":3000,\"private\":103000000,\"level\":\"ok\"}\n"
        "{\"type\":\"progress\",\"t_ms\":3500,\"unit\":\"files\",\"units\":2000,\"private\":null}\n"
        "{\"type\":\"progress\",\"t_ms\":3600,\"unit\":\"files\",\"units\":3000}\n";
    cli_report r;
    char err[256];
    assert_int_equal(build_str(rec, &r, err, sizeof err), 0);
    assert_int_equal(r.nprogress, 1);
    assert_int_equal(r.progress[0].units_total, 3000);
    assert_int_equal(r.progress[0].npts, 3);
    assert_true(r.progress[0].private_bytes[0] == 101000000.0);
    assert_true(r.progress[0].private_bytes[1] == 103000000.0);
    assert_true(r.progress[0].private_bytes[2] == 103000000.0);
    /* (103 MB - 101 MB) over 1000 units: 2000 bytes per unit; over 2000
     * units at the last checkpoint: 1000 */
    assert_true(r.progress[0].first_per_unit == 2000.0);
    assert_true(r.progress[0].last_per_unit == 1000.0);
    /* the JSON carries bytes per unit under the key of every output; the
     * text shows it per 1000 units */
    mv_buf b = {0};
    assert_int_equal(cli_report_json(&r, &b), 0);
    assert_non_null(strstr(b.data, "{\"unit\":\"files\",\"units_total\":3000,"
                                   "\"memory_per_unit_bytes\":1000,"
                                   "\"first_memory_per_unit_bytes\":2000,"));
    assert_null(strstr(b.data, "per1k"));
    mv__buf_reset(&b);
    assert_int_equal(cli_report_text(&r, &b), 0);
    assert_non_null(strstr(b.data, "3000 files; memory per 1000 files: "
                                   "1.9 MiB -> 977 KiB"));
    mv_buf_release(&b);
    cli_report_release(&r);
}

/* Renders r as text, Markdown and JSON into one buffer. */
static void render_all(const cli_report *r, mv_buf *b)
{
    assert_int_equal(cli_report_text(r, b), 0);
    assert_int_equal(cli_report_markdown(r, b), 0);
    assert_int_equal(cli_report_json(r, b), 0);
}

/* No wrapped int64: what a cast of NAN or 1e300 printed before issue 12. */
static void assert_no_garbage(const char *text)
{
    assert_null(strstr(text, "-8.0 EiB"));
    assert_null(strstr(text, "8.0 EiB"));
    assert_null(strstr(text, "9223372036854775808"));
    assert_null(strstr(text, "9223372036854775807"));
}

#define HDR_LINE "{\"type\":\"header\",\"version\":1,\"pid\":1,\"start_ms\":1000,\"interval_ms\":1000}\n"
#define SAMPLE_LINE(t, p) "{\"type\":\"sample\",\"t_ms\":" #t ",\"private\":" #p ",\"level\":\"ok\"}\n"

/* Crafted values (issue 12): huge, NAN-producing and infinite figures in
 * optional lines are refused as bad lines or shown as n/a, never cast. */
static void test_crafted_values(void **state)
{
    (void)state;
    cli_report r;
    char err[256];
    mv_buf b = {0};

    /* units 1e300 / -1e300 / 1e20, count 1e300: not counts */
    const char *huge =
        HDR_LINE SAMPLE_LINE(1000, 5000000) SAMPLE_LINE(2000, 6000000)
        "{\"type\":\"progress\",\"t_ms\":1500,\"unit\":\"rows\",\"units\":1e300,\"private\":null}\n"
        "{\"type\":\"progress\",\"t_ms\":1600,\"unit\":\"rows\",\"units\":-1e300,\"private\":null}\n"
        "{\"type\":\"progress\",\"t_ms\":1700,\"unit\":\"rows\",\"units\":1e20,\"private\":null}\n"
        "{\"type\":\"op\",\"t_ms\":1800,\"name\":\"q\",\"count\":1e300,\"sum_bytes\":1,"
        "\"min_bytes\":0,\"max_bytes\":1,\"buckets\":[1e300,0,0,0,0,0,0,0]}\n";
    assert_int_equal(build_str(huge, &r, err, sizeof err), 0);
    assert_int_equal(r.nprogress, 0);
    assert_int_equal(r.ngauges, 0);
    assert_int_equal(r.nops, 0);
    assert_non_null(strstr(r.warnings, "4 gauge/op/progress lines could not be read"));
    render_all(&r, &b);
    assert_no_garbage(b.data);
    cli_report_release(&r);

    /* deltas of 1e300 and -1e300 are numbers JSON allows: the model keeps
     * them, people see n/a rather than a wrapped size */
    mv__buf_reset(&b);
    const char *ops =
        HDR_LINE SAMPLE_LINE(1000, 5000000) SAMPLE_LINE(2000, 6000000)
        "{\"type\":\"op\",\"t_ms\":1500,\"name\":\"q\",\"delta_bytes\":1e300}\n"
        "{\"type\":\"op\",\"t_ms\":1600,\"name\":\"q\",\"delta_bytes\":-1e300}\n"
        "{\"type\":\"op\",\"t_ms\":1700,\"name\":\"q\",\"delta_bytes\":1.7e308}\n"
        "{\"type\":\"progress\",\"t_ms\":1500,\"unit\":\"rows\",\"units\":0,\"private\":9000000000000000000}\n"
        "{\"type\":\"progress\",\"t_ms\":1600,\"unit\":\"rows\",\"units\":1,\"private\":-9000000000000000000}\n";
    assert_int_equal(build_str(ops, &r, err, sizeof err), 0);
    assert_int_equal(r.nops, 1);
    assert_int_equal(r.ops[0].count, 3);
    assert_true(r.ops[0].max == 1.7e308);
    assert_int_equal(r.nprogress, 1);
    assert_int_equal(r.progress[0].units_total, 1);
    render_all(&r, &b);
    assert_no_garbage(b.data);
    assert_non_null(strstr(b.data, "n/a"));
    cli_report_release(&r);

    /* no private memory at all, an OOM kill: the advice names no peak */
    mv__buf_reset(&b);
    const char *oom =
        HDR_LINE
        "{\"type\":\"sample\",\"t_ms\":1000,\"private\":null,\"level\":\"ok\"}\n"
        "{\"type\":\"event\",\"t_ms\":1500,\"event\":\"oom_kill\",\"level\":\"critical\",\"message\":\"x\"}\n"
        "{\"type\":\"sample\",\"t_ms\":2000,\"private\":null,\"limit\":9223372036854775806,\"level\":\"ok\"}\n";
    assert_int_equal(build_str(oom, &r, err, sizeof err), 0);
    assert_true(r.oom_kills == 1);
    assert_true(r.limit_bytes == MV_NA);       /* 2^63 as a double: unknown */
    assert_true(r.raw.limit[1] == MV_NA);
    assert_non_null(strstr(r.advice[0], "(n/a private, n/a RSS)"));
    render_all(&r, &b);
    assert_no_garbage(b.data);
    cli_report_release(&r);

    /* sample times the reader refuses: beyond 2^53 ms either way */
    const char *far =
        HDR_LINE SAMPLE_LINE(-9000000000000000000, 1) SAMPLE_LINE(9000000000000000000, 2);
    assert_int_equal(build_str(far, &r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "line 2: field \"t_ms\": time out of range"));
    /* the same words for the optional kinds, whose t_ms the reader checks */
    const char *far_gauge =
        HDR_LINE SAMPLE_LINE(1000, 1)
        "{\"type\":\"gauge\",\"t_ms\":-9e18,\"name\":\"g\",\"labels\":\"\",\"value\":1}\n";
    assert_int_equal(build_str(far_gauge, &r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "line 3: field \"t_ms\": time out of range"));
    mv_buf_release(&b);
}

/* The first MiB of a long input must read as a recording (issue 12). */
static void test_sniff(void **state)
{
    (void)state;
    enum { HEAD = 1 << 20 };
    char *head = malloc(HEAD);
    char why[256];
    assert_non_null(head);
    for (size_t i = 0; i < HEAD; i += 2)
        memcpy(head + i, "y\n", 2);
    assert_int_equal(cli_report_sniff(head, HEAD, NULL, why, sizeof why), -EINVAL);
    assert_string_equal(why, "line 1: not a JSON object (not a memvigil recording)");
    /* recording lines, the last one cut: read on */
    size_t off = 0;
    for (int i = 0; off + 100 < HEAD; i++)
        off += (size_t)snprintf(head + off, HEAD - off, SAMPLE_LINE(%d, 5), 1000 + i);
    memset(head + off, 'x', HEAD - off);
    assert_int_equal(cli_report_sniff(head, HEAD, NULL, why, sizeof why), 0);
    /* only lines of kinds it does not know, or blanks: not a recording */
    memset(head, '\n', HEAD);
    assert_int_equal(cli_report_sniff(head, HEAD, NULL, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "no recording line in the first MiB"));
    free(head);
}

static void test_large_is_bounded(void **state)
{
    (void)state;
    /* a week at 10 s: the JSON stays small because columns are bounded */
    mv_buf rec = {0};
    int64_t t0 = 1700000000000LL;
    mv__buf_printf(&rec, "{\"type\":\"header\",\"version\":1,\"pid\":1,\"start_ms\":%lld,"
                   "\"interval_ms\":10000,\"limit_bytes\":2147483648}\n", (long long)t0);
    for (int i = 0; i < 60480; i++)
        mv__buf_printf(&rec, "{\"type\":\"sample\",\"t_ms\":%lld,\"rss\":%d,\"anon\":%d,\"file\":1000,"
                       "\"shmem\":0,\"swap\":0,\"private\":%d,\"working_set\":%d,\"limit\":2147483648,"
                       "\"level\":\"ok\"}\n", (long long)(t0 + (int64_t)i * 10000),
                       100000000 + i * 100, 90000000 + i * 100, 90000000 + i * 100,
                       95000000 + i * 100 + (i == 30000 ? 500000000 : 0));
    cli_report r;
    char err[256];
    assert_int_equal(cli_report_build("week", rec.data, rec.len, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.nsamples, 60480);
    assert_true(r.downsampled);
    assert_int_equal(r.cols[CLI_RS_PRIVATE].n, CLI_REPORT_COLUMNS);
    double mx = 0;
    for (size_t i = 0; i < r.cols[CLI_RS_WORKING_SET].n; i++)
        mx = fmax(mx, r.cols[CLI_RS_WORKING_SET].max[i]);
    assert_true(mx == 95000000.0 + 30000 * 100 + 500000000);
    mv_buf b = {0};
    assert_int_equal(cli_report_json(&r, &b), 0);
    assert_true(b.len < 1024 * 1024);
    mv_buf_release(&b);
    mv_buf_release(&rec);
    cli_report_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_downsample_keeps_spike),
        cmocka_unit_test(test_leak_fixture),
        cmocka_unit_test(test_two_claims),
        cmocka_unit_test(test_oom_fixtures),
        cmocka_unit_test(test_app_records),
        cmocka_unit_test(test_app_records_v2),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_heap_section),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_large_is_bounded),
        cmocka_unit_test(test_progress_private_null),
        cmocka_unit_test(test_crafted_values),
        cmocka_unit_test(test_sniff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
