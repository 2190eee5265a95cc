/*
 * test_livepage.c — the live page's sample ring, its JSON (column-wise,
 * since filtering, nulls, events, verdict), the self-contained page, and
 * the HTTP routes (/ and /api/v1/samples, token by header or ?token=),
 * over a real socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "livepage.h"
#include "util.h"

/* Test double: the real one lives in expose.c, which this test does not
 * link (http.c uses it for /metrics). */
const char *mv_format_content_type(mv_format fmt)
{
    return fmt == MV_FORMAT_JSON ? "application/json" : "text/plain; charset=utf-8";
}

/* mv_sample_clear lives in the probe; the fields the ring reads suffice. */
static void clear(mv_sample *s)
{
    memset(s, 0, sizeof *s);
    s->rss_bytes = s->rss_anon_bytes = s->rss_file_bytes = s->rss_shmem_bytes = MV_NA;
    s->swap_bytes = s->cg_usage_bytes = s->cg_anon_bytes = s->cg_file_bytes = MV_NA;
    s->cg_shmem_bytes = s->cg_swap_bytes = s->working_set_bytes = MV_NA;
    s->private_bytes = s->effective_limit_bytes = MV_NA;
}

static mv__live_point pt(int64_t t, int64_t priv)
{
    mv__live_point p;
    memset(&p, 0, sizeof p);
    p.timestamp_ms = t;
    p.rss_bytes = priv + 1000;
    p.rss_anon_bytes = priv;
    p.rss_file_bytes = 1000;
    p.rss_shmem_bytes = 0;
    p.swap_bytes = MV_NA;
    p.cg_anon_bytes = p.cg_file_bytes = p.cg_shmem_bytes = p.cg_swap_bytes = MV_NA;
    p.working_set_bytes = priv + 500;
    p.private_bytes = priv;
    p.effective_limit_bytes = 1 << 30;
    p.level = MV_LEVEL_OK;
    return p;
}

static void test_ring_wraps_and_refuses_older(void **state)
{
    (void)state;
    mv__live_ring *r = mv__live_new(3);
    mv__live_point out[5];
    assert_non_null(r);
    assert_null(mv__live_new(0));
    assert_int_equal(mv__live_capacity(r), 3);
    for (int i = 1; i <= 5; i++) {
        mv__live_point p = pt(i * 1000, i * 10);
        assert_int_equal(mv__live_push(r, &p), 0);
    }
    assert_int_equal(mv__live_copy(r, NULL, 0), 3);
    assert_int_equal(mv__live_copy(r, out, 5), 3);
    assert_int_equal(out[0].timestamp_ms, 3000);
    assert_int_equal(out[2].timestamp_ms, 5000);
    assert_int_equal(out[2].private_bytes, 50);
    /* max smaller than held: the newest */
    assert_int_equal(mv__live_copy(r, out, 2), 2);
    assert_int_equal(out[0].timestamp_ms, 4000);
    mv__live_point old = pt(4500, 1);
    assert_int_equal(mv__live_push(r, &old), -EINVAL);
    mv__live_point same = pt(5000, 2);
    assert_int_equal(mv__live_push(r, &same), 0);
    assert_int_equal(mv__live_push(NULL, &same), -EINVAL);
    assert_true(mv__live_footprint(r) >= 3 * sizeof(mv__live_point));
    mv__live_free(r);
    mv__live_free(NULL);
}

static void test_point_from_sample(void **state)
{
    (void)state;
    mv_sample s;
    mv__live_point p;
    clear(&s);
    s.timestamp_ms = 1700000000123;
    s.rss_bytes = 5000;
    s.rss_anon_bytes = 3000;
    s.rss_file_bytes = 2000;
    s.rss_shmem_bytes = 0;
    s.swap_bytes = 100;
    s.private_bytes = 3100;
    s.effective_limit_bytes = MV_UNLIMITED;
    mv__live_point_from(&p, &s, MV_LEVEL_WARNING);
    assert_int_equal(p.timestamp_ms, 1700000000123);
    assert_int_equal(p.rss_anon_bytes, 3000);
    assert_int_equal(p.cg_anon_bytes, MV_NA);
    assert_int_equal(p.private_bytes, 3100);
    assert_int_equal(p.effective_limit_bytes, MV_NA);
    assert_int_equal(p.working_set_bytes, MV_NA);
    assert_int_equal(p.level, MV_LEVEL_WARNING);
    /* a cgroup target: the cgroup's split */
    clear(&s);
    s.timestamp_ms = 1;
    s.cg_usage_bytes = 9000;
    s.cg_anon_bytes = 7000;
    s.cg_file_bytes = 1500;
    s.cg_shmem_bytes = 500;
    s.effective_limit_bytes = 1 << 20;
    mv__live_point_from(&p, &s, MV_LEVEL_OK);
    assert_int_equal(p.rss_bytes, MV_NA);
    assert_int_equal(p.rss_anon_bytes, MV_NA);
    assert_int_equal(p.cg_anon_bytes, 7000);
    assert_int_equal(p.cg_file_bytes, 1500);
    assert_int_equal(p.effective_limit_bytes, 1 << 20);
}

static mv__live_extra extra(void)
{
    mv__live_extra x;
    memset(&x, 0, sizeof x);
    x.now_ms = 9000;
    x.interval_ms = 1000;
    x.target_alive = 1;
    x.level = MV_LEVEL_WARNING;
    x.warning_ratio = 0.8;
    x.critical_ratio = 0.9;
    x.growth_bytes_per_s = 12.5;
    x.growth_window_s = 1800;
    x.time_to_limit_s = INFINITY;
    return x;
}

static void test_json_since_and_columns(void **state)
{
    (void)state;
    mv__live_point pts[3] = { pt(1000, 10), pt(2000, 20), pt(3000, 30) };
    mv__live_extra x = extra();
    mv_event ev;
    mv_buf b;
    memset(&ev, 0, sizeof ev);
    ev.kind = MV_EVENT_LEAK;
    ev.timestamp_ms = 2500;
    ev.level = MV_LEVEL_WARNING;
    snprintf(ev.message, sizeof ev.message, "leak: \"quoted\"");
    x.events = &ev;
    x.nevents = 1;
    x.verdict = "leak";
    x.leak_growth_bytes_per_h = 3600;
    x.leak_confidence = 0.75;
    x.leak_eta_s = 120;
    x.evidence = "grew 1 MiB/h";
    /* the OOM-risk claim, apart from the verdict */
    x.oom_risk = 1;
    x.oom_risk_growth_bytes_per_h = 7200;
    x.oom_risk_eta_s = 600;
    x.oom_risk_evidence = "limit in 10 min";

    mv_buf_init(&b);
    assert_int_equal(mv__live_render_json(pts, 3, 1000, 720, &x, &b), 0);
    assert_non_null(strstr(b.data, "\"since_ms\":1000,\"interval_ms\":1000,\"capacity\":720,"
                                   "\"target_alive\":true,\"level\":\"warning\""));
    /* columns named after the sample's fields; the cgroup split of a
     * process target, all null, is left out */
    assert_non_null(strstr(b.data, "\"samples\":{\"timestamp_ms\":[2000,3000],"
                                   "\"rss_bytes\":[1020,1030],"
                                   "\"rss_anon_bytes\":[20,30],\"rss_file_bytes\":[1000,1000],"
                                   "\"rss_shmem_bytes\":[0,0],"
                                   "\"swap_bytes\":[null,null],\"working_set_bytes\":[520,530],"
                                   "\"private_bytes\":[20,30],"
                                   "\"effective_limit_bytes\":[1073741824,1073741824],"
                                   "\"level\":[0,0]}"));
    /* the headline's rate says over which span it was measured */
    assert_non_null(strstr(b.data, "\"growth_bytes_per_second\":12.5,"
                                   "\"growth_window_seconds\":1800,"));
    assert_non_null(strstr(b.data, "\"time_to_limit_seconds\":null,\"growing\":false"));
    assert_non_null(strstr(b.data, "\"leak\":{\"verdict\":\"leak\",\"growth_bytes_per_second\":1,"
                                   "\"confidence\":0.75,\"time_to_limit_seconds\":120,"
                                   "\"evidence\":\"grew 1 MiB/h\"},"
                                   "\"oom_risk\":{\"active\":true,\"growth_bytes_per_second\":2,"
                                   "\"time_to_limit_seconds\":600,\"evidence\":\"limit in 10 min\"}"));
    assert_non_null(strstr(b.data, "\"events\":[{\"timestamp_ms\":2500,\"event\":\"leak\","
                                   "\"level\":\"warning\",\"message\":\"leak: \\\"quoted\\\"\"}]"));

    /* nothing newer: empty columns; no detector: leak null */
    mv__buf_reset(&b);
    x.verdict = NULL;
    x.nevents = 0;
    assert_int_equal(mv__live_render_json(pts, 3, 3000, 720, &x, &b), 0);
    assert_non_null(strstr(b.data, "\"timestamp_ms\":[],\"rss_bytes\":[]"));
    assert_non_null(strstr(b.data, "\"leak\":null,\"oom_risk\":null"));
    assert_non_null(strstr(b.data, "\"events\":[]}"));
    /* since 0: everything */
    mv__buf_reset(&b);
    assert_int_equal(mv__live_render_json(pts, 3, 0, 720, &x, &b), 0);
    assert_non_null(strstr(b.data, "\"timestamp_ms\":[1000,2000,3000]"));
    /* bad arguments */
    assert_int_equal(mv__live_render_json(NULL, 3, 0, 720, &x, &b), -EINVAL);
    assert_int_equal(mv__live_render_json(pts, 3, 0, 720, NULL, &b), -EINVAL);
    mv_buf_release(&b);
}

static void test_page_self_contained(void **state)
{
    (void)state;
    mv_buf b;
    mv_buf_init(&b);
    assert_int_equal(mv__live_render_page(&b), 0);
    assert_non_null(strstr(b.data, "<!DOCTYPE html>"));
    assert_non_null(strstr(b.data, "id=\"chart-timeline\""));
    assert_non_null(strstr(b.data, "id=\"oom-risk-label\""));
    /* the report's chart code and the page's own script are inlined */
    assert_non_null(strstr(b.data, "MV.lineChart = function"));
    assert_non_null(strstr(b.data, "MV.timelineSpec = function"));
    assert_non_null(strstr(b.data, "fetch('api/v1/samples?since="));
    /* nothing loaded from elsewhere: no external scripts, styles, fonts */
    assert_null(strstr(b.data, "<script src"));
    assert_null(strstr(b.data, "<link rel=\"stylesheet"));
    assert_non_null(strstr(b.data, "<link rel=\"icon\" href=\"data:,\">"));
    assert_null(strstr(b.data, "@import"));
    assert_null(strstr(b.data, "url(http"));
    assert_null(strstr(b.data, "fetch('/"));
    assert_null(strstr(b.data, "https://"));
    /* the only absolute http URL is the SVG namespace (not a request) */
    const char *p = b.data;
    while ((p = strstr(p, "http://")) != NULL) {
        assert_int_equal(strncmp(p, "http://www.w3.org/2000/svg", 26), 0);
        p += 7;
    }
    assert_int_equal(mv__live_render_page(NULL), -EINVAL);
    mv_buf_release(&b);
}

/* ---- over HTTP ---- */

static int render(void *ctx, mv_format fmt, mv_buf *out)
{
    (void)ctx;
    (void)fmt;
    return mv__buf_puts(out, "{}\n");
}

static int samples(void *ctx, int64_t since, mv_buf *out)
{
    mv__live_point pts[2] = { pt(1000, 10), pt(2000, 20) };
    mv__live_extra x = extra();
    (void)ctx;
    return mv__live_render_json(pts, 2, since, 720, &x, out);
}

static int page(void *ctx, mv_buf *out)
{
    (void)ctx;
    return mv__live_render_page(out);
}

/* GET path with an optional Authorization header; returns the status and
 * the body in *body (malloc'd). */
static int get(int port, const char *path, const char *auth, char **body)
{
    struct sockaddr_in sa;
    char req[512];
    mv_buf b;
    char chunk[4096];
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s\r\n",
             path, auth ? "Authorization: Bearer " : "", auth ? auth : "", auth ? "\r\n" : "");
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    mv_buf_init(&b);
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        mv__buf_append(&b, chunk, (size_t)n);
    close(fd);
    if (b.data && sscanf(b.data, "HTTP/1.%*d %d", &status) != 1)
        status = -1;
    const char *sep = b.data ? strstr(b.data, "\r\n\r\n") : NULL;
    *body = strdup(sep ? sep + 4 : "");
    mv_buf_release(&b);
    return status;
}

static void test_http_routes(void **state)
{
    (void)state;
    mv__http *h;
    mv__http_routes r = { render, samples, page, NULL, 0 };
    char *body;

    assert_int_equal(mv__http_start_routes("127.0.0.1:0", NULL, &r, NULL, &h), 0);
    int port = mv__http_port(h);
    assert_int_equal(get(port, "/", NULL, &body), 200);
    assert_non_null(strstr(body, "id=\"chart-timeline\""));
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=1000", NULL, &body), 200);
    assert_non_null(strstr(body, "\"timestamp_ms\":[2000]"));
    free(body);
    assert_int_equal(get(port, "/api/v1/samples", NULL, &body), 200);
    assert_non_null(strstr(body, "\"timestamp_ms\":[1000,2000]"));
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=-5", NULL, &body), 400);
    assert_non_null(strstr(body, "since must be"));
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=12x", NULL, &body), 400);
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=99999999999999999999", NULL, &body), 400);
    free(body);
    mv__http_stop(h);

    /* without the live callbacks: the short index and no samples route */
    assert_int_equal(mv__http_start("127.0.0.1:0", NULL, render, NULL, &h), 0);
    port = mv__http_port(h);
    assert_int_equal(get(port, "/", NULL, &body), 200);
    assert_null(strstr(body, "chart-timeline"));
    free(body);
    assert_int_equal(get(port, "/api/v1/samples", NULL, &body), 404);
    free(body);
    mv__http_stop(h);
}

static void test_http_token(void **state)
{
    (void)state;
    mv__http *h;
    mv__http_routes r = { render, samples, page, NULL, 0 };
    char *body;

    assert_int_equal(mv__http_start_routes("127.0.0.1:0", "tok-1", &r, NULL, &h), 0);
    int port = mv__http_port(h);
    assert_int_equal(get(port, "/", NULL, &body), 401);
    free(body);
    assert_int_equal(get(port, "/?token=wrong", NULL, &body), 401);
    free(body);
    assert_int_equal(get(port, "/?token=tok-1", NULL, &body), 200);
    assert_non_null(strstr(body, "chart-timeline"));
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=0", "tok-1", &body), 200);
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=0&token=tok-1", NULL, &body), 200);
    free(body);
    assert_int_equal(get(port, "/api/v1/samples?since=0", "tok-2", &body), 401);
    free(body);
    /* the query token is for the page and its data only */
    assert_int_equal(get(port, "/metrics?token=tok-1", NULL, &body), 401);
    free(body);
    assert_int_equal(get(port, "/api/v1/status?token=tok-1", NULL, &body), 401);
    free(body);
    mv__http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_wraps_and_refuses_older),
        cmocka_unit_test(test_point_from_sample),
        cmocka_unit_test(test_json_since_and_columns),
        cmocka_unit_test(test_page_self_contained),
        cmocka_unit_test(test_http_routes),
        cmocka_unit_test(test_http_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
