/*
 * test_http.c — the embedded endpoint, driven over real sockets with raw
 * HTTP/1.1 requests: routes, content negotiation, auth, error statuses,
 * malformed and oversized requests, listen-address parsing, port in use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include "http.h"
#include "util.h"

/* Test double: the real one lives in expose.c, which this test does not
 * link. Same strings as the real implementation. */
const char *mv_format_content_type(mv_format fmt)
{
    switch (fmt) {
    case MV_FORMAT_OPENMETRICS:
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case MV_FORMAT_JSON:
        return "application/json";
    case MV_FORMAT_PROMETHEUS:
    default:
        return "text/plain; version=0.0.4; charset=utf-8";
    }
}

typedef struct fake {
    int fail;        /* render returns -EIO when set */
    int calls;
    mv_format last;
} fake;

static int render(void *ctx, mv_format fmt, mv_buf *out)
{
    fake *f = ctx;
    f->calls++;
    f->last = fmt;
    if (f->fail)
        return -EIO;
    switch (fmt) {
    case MV_FORMAT_OPENMETRICS:
        return mv__buf_puts(out, "memvigil_up 1\n# EOF\n");
    case MV_FORMAT_JSON:
        return mv__buf_puts(out, "{\"level\":\"ok\"}\n");
    default:
        return mv__buf_puts(out, "memvigil_up 1\n");
    }
}

/* ---- a tiny HTTP client ---- */

typedef struct resp {
    int status;          /* -1 when no status line came back */
    char raw[65536];
    size_t len;
    const char *body;    /* into raw */
} resp;

/* Sends raw bytes (ignoring a reset part-way) and reads until EOF. */
static int request(int port, const char *data, size_t n, resp *r)
{
    struct sockaddr_in sa;
    struct timeval tv = { 5, 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t off = 0;

    memset(r, 0, sizeof *r);
    r->status = -1;
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    while (off < n) {
        ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    for (;;) {
        ssize_t got = recv(fd, r->raw + r->len, sizeof r->raw - 1 - r->len, 0);
        if (got <= 0)
            break;
        r->len += (size_t)got;
        if (r->len == sizeof r->raw - 1)
            break;
    }
    r->raw[r->len] = '\0';
    close(fd);
    if (sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
        r->status = -1;
    r->body = strstr(r->raw, "\r\n\r\n");
    r->body = r->body ? r->body + 4 : "";
    return 0;
}

static int get(int port, const char *method, const char *path,
               const char *extra_headers, resp *r)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                     "Connection: close\r\n\r\n",
                     method, path, extra_headers ? extra_headers : "");
    return request(port, req, (size_t)n, r);
}

/* Value of a response header (case-insensitive name), copied into out. */
static const char *header(const resp *r, const char *name, char *out,
                          size_t n)
{
    const char *p = strstr(r->raw, "\r\n");
    size_t nl = strlen(name);

    out[0] = '\0';
    while (p && p[2] != '\r' && p[2] != '\0') {
        const char *line = p + 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            size_t len;
            while (*v == ' ')
                v++;
            len = (size_t)(eol - v);
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
        p = eol;
    }
    return NULL;
}

/* ---- fixtures ---- */

typedef struct server {
    fake f;
    mv__http *h;
    int port;
} server;

static int start_server(void **state, const char *token)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    if (mv__http_start("127.0.0.1:0", token, render, &s->f, &s->h) != 0) {
        free(s);
        return -1;
    }
    s->port = mv__http_port(s->h);
    *state = s;
    return 0;
}

static int setup_open(void **state) { return start_server(state, NULL); }
static int setup_token(void **state) { return start_server(state, "s3cret-T0ken"); }

static int teardown(void **state)
{
    server *s = *state;
    mv__http_stop(s->h);
    free(s);
    return 0;
}

/* ---- tests ---- */

static void test_metrics_prometheus(void **state)
{
    server *s = *state;
    resp r;
    char v[256];

    assert_true(s->port > 0 && s->port < 65536);
    assert_int_equal(get(s->port, "GET", "/metrics", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n");
    assert_non_null(header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(s->f.last, MV_FORMAT_PROMETHEUS);

    /* A Prometheus-style Accept without OpenMetrics stays on 0.0.4. */
    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Accept: text/plain;version=0.0.4;q=0.9,*/*;q=0.1\r\n",
                         &r), 0);
    assert_int_equal(r.status, 200);
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "text/plain; version=0.0.4; charset=utf-8");
}

static void test_metrics_openmetrics(void **state)
{
    server *s = *state;
    resp r;
    char v[256];

    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Accept: application/openmetrics-text;version=1.0.0,"
                         "text/plain;version=0.0.4;q=0.5\r\n",
                         &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n# EOF\n");
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v,
        "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_int_equal(s->f.last, MV_FORMAT_OPENMETRICS);
}

static void test_head_metrics(void **state)
{
    server *s = *state;
    resp r;
    char v[64];

    assert_int_equal(get(s->port, "HEAD", "/metrics", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    assert_non_null(header(&r, "Content-Length", v, sizeof v));
    assert_string_equal(v, "14");   /* strlen("memvigil_up 1\n") */
}

static void test_other_routes(void **state)
{
    server *s = *state;
    resp r;
    char v[256];

    assert_int_equal(get(s->port, "GET", "/healthz", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");

    assert_int_equal(get(s->port, "GET", "/api/v1/status", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"level\":\"ok\"}\n");
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "application/json");
    assert_int_equal(s->f.last, MV_FORMAT_JSON);

    assert_int_equal(get(s->port, "GET", "/", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "href=\"/metrics\""));
    assert_non_null(strstr(r.body, "href=\"/healthz\""));
    assert_non_null(strstr(r.body, "href=\"/api/v1/status\""));

    /* Query strings do not change the route. */
    assert_int_equal(get(s->port, "GET", "/healthz?x=1", NULL, &r), 0);
    assert_int_equal(r.status, 200);
}

static void test_not_found_and_method(void **state)
{
    server *s = *state;
    resp r;
    char v[64];
    int calls = s->f.calls;

    assert_int_equal(get(s->port, "GET", "/nope", NULL, &r), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(get(s->port, "GET", "/metrics/", NULL, &r), 0);
    assert_int_equal(r.status, 404);

    assert_int_equal(get(s->port, "POST", "/metrics",
                         "Content-Length: 0\r\n", &r), 0);
    assert_int_equal(r.status, 405);
    assert_non_null(header(&r, "Allow", v, sizeof v));
    assert_string_equal(v, "GET, HEAD");
    assert_int_equal(get(s->port, "DELETE", "/", NULL, &r), 0);
    assert_int_equal(r.status, 405);
    assert_int_equal(s->f.calls, calls);   /* render never ran */
}

static void test_render_error(void **state)
{
    server *s = *state;
    resp r;

    s->f.fail = 1;
    assert_int_equal(get(s->port, "GET", "/metrics", NULL, &r), 0);
    s->f.fail = 0;
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.body, "rendering failed"));
    /* one line */
    assert_non_null(strchr(r.body, '\n'));
    assert_null(strchr(strchr(r.body, '\n') + 1, '\n'));
}

static void test_malformed_then_ok(void **state)
{
    server *s = *state;
    resp r;
    /* MHD answers these with a status... */
    static const char bad_line[] = "GET /metrics HTTP/1.1 junk\r\n\r\n";
    static const char bad_header[] = "GET / HTTP/1.1\r\nHost: x\r\n"
                                     "no colon here\r\n\r\n";
    static const char bad_proto[] = "GET / FOO/1.1\r\nHost: x\r\n\r\n";
    /* ...and simply closes on a line without a URI (MHD 0.9.75). */
    static const char no_uri[] = "GARBAGE\r\n\r\n";
    static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
                                    "\x03\x03\r\n\r\n";

    assert_int_equal(request(s->port, bad_line, sizeof bad_line - 1, &r), 0);
    assert_int_equal(r.status, 400);
    assert_int_equal(request(s->port, bad_header, sizeof bad_header - 1, &r), 0);
    assert_int_equal(r.status, 400);
    assert_int_equal(request(s->port, bad_proto, sizeof bad_proto - 1, &r), 0);
    assert_int_equal(r.status, 400);
    assert_int_equal(request(s->port, no_uri, sizeof no_uri - 1, &r), 0);
    assert_true(r.status == -1 || (r.status >= 400 && r.status < 500));
    assert_int_equal(request(s->port, tls_hello, sizeof tls_hello - 1, &r), 0);
    assert_true(r.status == -1 || (r.status >= 400 && r.status < 500));
    assert_int_equal(s->f.calls, 0);   /* none reached the renderer */

    /* The server still serves. */
    assert_int_equal(get(s->port, "GET", "/metrics", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n");
}

static void test_oversized_header(void **state)
{
    server *s = *state;
    resp r;
    size_t big = 40 * 1024;
    char *req = malloc(big + 256);
    int n;

    assert_non_null(req);
    n = sprintf(req, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', big);
    n += (int)big;
    n += sprintf(req + n, "\r\nConnection: close\r\n\r\n");
    assert_int_equal(request(s->port, req, (size_t)n, &r), 0);
    free(req);
    assert_true(r.status >= 400 && r.status < 500);

    assert_int_equal(get(s->port, "GET", "/healthz", NULL, &r), 0);
    assert_int_equal(r.status, 200);
}

static void test_token(void **state)
{
    server *s = *state;
    resp r;
    char v[128];

    assert_int_equal(get(s->port, "GET", "/metrics", NULL, &r), 0);
    assert_int_equal(r.status, 401);
    assert_non_null(header(&r, "WWW-Authenticate", v, sizeof v));
    assert_non_null(strstr(v, "Bearer"));

    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Authorization: Bearer wrong\r\n", &r), 0);
    assert_int_equal(r.status, 401);
    /* A prefix of the token is not the token. */
    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Authorization: Bearer s3cret\r\n", &r), 0);
    assert_int_equal(r.status, 401);
    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Authorization: Bearer s3cret-T0kenX\r\n", &r), 0);
    assert_int_equal(r.status, 401);
    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Authorization: Basic czNjcmV0LVQwa2Vu\r\n", &r), 0);
    assert_int_equal(r.status, 401);
    assert_int_equal(get(s->port, "GET", "/api/v1/status", NULL, &r), 0);
    assert_int_equal(r.status, 401);
    assert_int_equal(get(s->port, "GET", "/", NULL, &r), 0);
    assert_int_equal(r.status, 401);

    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Authorization: Bearer s3cret-T0ken\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n");
    assert_int_equal(get(s->port, "GET", "/api/v1/status",
                         "Authorization: bearer s3cret-T0ken\r\n", &r), 0);
    assert_int_equal(r.status, 200);

    /* Liveness needs no secret. */
    assert_int_equal(get(s->port, "GET", "/healthz", NULL, &r), 0);
    assert_int_equal(r.status, 200);
}

static void test_curl(void **state)
{
    server *s = *state;
    char cmd[256], out[512] = "";
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof cmd,
             "curl -s -H 'Accept: application/openmetrics-text' "
             "-w '%%{http_code} %%{content_type}' http://127.0.0.1:%d/metrics",
             s->port);
    p = popen(cmd, "r");
    if (!p)
        skip();
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0 && n == 0)
        skip();   /* no curl */
    assert_string_equal(out, "memvigil_up 1\n# EOF\n200 application/openmetrics-text; "
                             "version=1.0.0; charset=utf-8");
}


static void test_negotiate(void **state)
{
    (void)state;
    /* no header, wildcard, classic Prometheus */
    assert_int_equal(mv__http_negotiate(NULL), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate(""), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate("*/*"), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate("text/plain"), MV_FORMAT_PROMETHEUS);
    /* named OpenMetrics */
    assert_int_equal(mv__http_negotiate("application/openmetrics-text"),
                     MV_FORMAT_OPENMETRICS);
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text;version=1.0.0,"
        "application/openmetrics-text;version=0.0.1;q=0.75,"
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), MV_FORMAT_OPENMETRICS);
    assert_int_equal(mv__http_negotiate(
        "  Application/OpenMetrics-Text ; q=0.8 , text/plain;q=0.8"),
        MV_FORMAT_OPENMETRICS);  /* tie -> OpenMetrics */
    assert_int_equal(mv__http_negotiate("application/openmetrics-text, */*"),
                     MV_FORMAT_OPENMETRICS);
    /* q=0 means "not acceptable" */
    assert_int_equal(mv__http_negotiate("application/openmetrics-text;q=0"),
                     MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text;q=0.000, text/plain"),
        MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text; Q=0;version=1.0.0"),
        MV_FORMAT_PROMETHEUS);
    /* text/plain preferred */
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text;q=0.5,text/plain"), MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text;q=0.5,text/*;q=0.6"), MV_FORMAT_PROMETHEUS);
    /* the most specific range decides text/plain's q */
    assert_int_equal(mv__http_negotiate(
        "text/plain;q=0.1,application/openmetrics-text;q=0.5,*/*"),
        MV_FORMAT_OPENMETRICS);
    assert_int_equal(mv__http_negotiate(
        "text/plain;q=0,application/openmetrics-text;q=0.001"),
        MV_FORMAT_OPENMETRICS);
    /* malformed elements are ignored, not guessed */
    assert_int_equal(mv__http_negotiate("application/openmetrics-text;q=2"),
                     MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate("application/openmetrics-text;q=x"),
                     MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate("application/openmetrics-text;q=0.12345"),
                     MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text;q=;x=1, text/plain;q=0.3"),
        MV_FORMAT_PROMETHEUS);
    assert_int_equal(mv__http_negotiate(",,;,/,a/,/b, application/openmetrics-text"),
                     MV_FORMAT_OPENMETRICS);
    assert_int_equal(mv__http_negotiate(
        "application/openmetrics-text;x=\"a,q=0\";q=1, text/plain;q=0.9"),
        MV_FORMAT_OPENMETRICS);
    /* openmetrics is not matched by a prefix */
    assert_int_equal(mv__http_negotiate("application/openmetrics-textx"),
                     MV_FORMAT_PROMETHEUS);
}

static void test_metrics_q_zero(void **state)
{
    server *s = *state;
    resp r;
    char v[256];

    assert_int_equal(get(s->port, "GET", "/metrics",
                         "Accept: application/openmetrics-text;q=0,"
                         "text/plain;version=0.0.4\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n");
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(s->f.last, MV_FORMAT_PROMETHEUS);
}

/* Reads one response (headers + Content-Length body) from fd into r. */
static int read_one(int fd, resp *r)
{
    char v[32];
    memset(r, 0, sizeof *r);
    r->status = -1;
    for (;;) {
        const char *eoh = strstr(r->raw, "\r\n\r\n");
        if (eoh && header(r, "Content-Length", v, sizeof v)) {
            size_t need = (size_t)(eoh + 4 - r->raw) + (size_t)atol(v);
            if (r->len >= need)
                break;
        }
        ssize_t got = recv(fd, r->raw + r->len, sizeof r->raw - 1 - r->len, 0);
        if (got <= 0)
            return -1;
        r->len += (size_t)got;
        r->raw[r->len] = '\0';
    }
    if (sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    r->body = strstr(r->raw, "\r\n\r\n") + 4;
    return 0;
}

/* Two requests on one TCP connection both get answers (keep-alive). */
static void test_keep_alive(void **state)
{
    server *s = *state;
    struct sockaddr_in sa;
    struct timeval tv = { 5, 0 };
    resp r;
    char v[64];
    static const char req1[] =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    static const char req2[] =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);

    assert_int_equal(send(fd, req1, sizeof req1 - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof req1 - 1));
    assert_int_equal(read_one(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n");
    if (header(&r, "Connection", v, sizeof v))
        assert_true(strcasecmp(v, "close") != 0);

    assert_int_equal(send(fd, req2, sizeof req2 - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof req2 - 1));
    assert_int_equal(read_one(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");

    /* and a third (sequential: scrapers do not pipeline) */
    assert_int_equal(send(fd, req1, sizeof req1 - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof req1 - 1));
    assert_int_equal(read_one(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "memvigil_up 1\n");
    close(fd);
    assert_true(s->f.calls >= 2);
}

static void test_parse_listen(void **state)
{
    char host[64];
    int port = -1;

    (void)state;
    assert_int_equal(mv__http_parse_listen(":9464", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(mv__http_parse_listen("0.0.0.0:80", host, sizeof host, &port), 0);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(port, 80);
    assert_int_equal(mv__http_parse_listen("[::1]:9000", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9000);
    assert_int_equal(mv__http_parse_listen("localhost:0", host, sizeof host, &port), 0);
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 0);
    assert_int_equal(mv__http_parse_listen("127.0.0.1:65535", host, sizeof host, &port), 0);
    assert_int_equal(port, 65535);

    static const char *bad[] = {
        "", "garbage", "9464", ":", "host:", ":65536", ":-1", ":12x",
        "::1:9000", "[::1]", "[::1]9000", "[nothost]:80", "[]:80",
        "a b:80", "1.2.3.4:80:90", ":99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (mv__http_parse_listen(bad[i], host, sizeof host, &port) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(mv__http_parse_listen(NULL, host, sizeof host, &port), -EINVAL);
    /* Host does not fit. */
    assert_int_equal(mv__http_parse_listen("averylonghostname:80", host, 8, &port),
                     -EINVAL);
}

static void test_start_errors(void **state)
{
    fake f = { 0 };
    mv__http *a = NULL, *b = (mv__http *)1;
    char addr[64];

    (void)state;
    assert_int_equal(mv__http_start("127.0.0.1:0", NULL, render, &f, &a), 0);
    assert_non_null(a);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", mv__http_port(a));
    assert_int_equal(mv__http_start(addr, NULL, render, &f, &b), -EADDRINUSE);
    assert_null(b);
    mv__http_stop(a);

    /* After stop the port is free again. */
    assert_int_equal(mv__http_start(addr, NULL, render, &f, &b), 0);
    mv__http_stop(b);

    b = (mv__http *)1;
    assert_int_equal(mv__http_start("nonsense", NULL, render, &f, &b), -EINVAL);
    assert_null(b);
    assert_int_equal(mv__http_start("127.0.0.1:0", NULL, NULL, &f, &b), -EINVAL);
    assert_int_equal(mv__http_start("127.0.0.1:0", "bad\r\ntoken", render, &f, &b),
                     -EINVAL);
    mv__http_stop(NULL);
}

static void test_ipv6_loopback(void **state)
{
    fake f = { 0 };
    mv__http *h = NULL;
    char cmd[128], out[64] = "";
    FILE *p;
    int rc = mv__http_start("[::1]:0", NULL, render, &f, &h);

    (void)state;
    if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT)
        skip();   /* no IPv6 in this sandbox */
    assert_int_equal(rc, 0);
    assert_true(mv__http_port(h) > 0);
    snprintf(cmd, sizeof cmd, "curl -s -g http://[::1]:%d/healthz",
             mv__http_port(h));
    p = popen(cmd, "r");
    if (p) {
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        pclose(p);
        if (n)
            assert_string_equal(out, "ok\n");
    }
    mv__http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_prometheus, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_openmetrics, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_head_metrics, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_other_routes, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_method, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_render_error, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_then_ok, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_header, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_token, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_curl, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_q_zero, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup_open, teardown),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_ipv6_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
