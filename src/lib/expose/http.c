/*
 * http.c — the embedded HTTP endpoint on libmicrohttpd (see http.h): the
 * daemon's start and stop, routing, responses and auth. Its parts elsewhere:
 * http_listen.c (listen address, listening socket), http_negotiate.c (the
 * Accept header for /metrics), http_guard.c (slow-header clients and
 * oversized queries: the head deadline, the head cap, the 414; the design
 * and its threads are described there).
 *
 * DESIGN. One MHD daemon with its own polling thread serves a handful of
 * read-only routes; the page bodies come from the owner's render callback,
 * so this file knows nothing about metrics. Hostile or broken clients are
 * bounded by MHD itself: a connection cap, a per-IP cap, an idle timeout and
 * a per-connection memory pool that caps the size of a request's header
 * (MHD answers malformed or oversized requests with a 4xx on its own), and
 * by http_guard.c: a deadline for a whole request head, a cap on the
 * connections in a head, and a bound on the query.
 *
 * Threads: every MHD callback (handle here, the guard's in http_guard.c)
 * runs on MHD's polling thread (MHD_USE_INTERNAL_POLLING_THREAD); the
 * guard's watchdog is a second thread, which touches only the guard's
 * connection list. The owner's thread only starts and stops.
 *
 * No built-in route takes a request body. A request that announces one is
 * answered on the handler's first call (405 for a method other than GET and
 * HEAD, 413 for a GET or HEAD with a body), before MHD reads the body; MHD
 * then closes the connection. Answering on the second call, as for other
 * requests, is refused by MHD once a body is being read (that was issue
 * 12's silent close). The one exception is a POST to an application route
 * that takes a body (mv_http_route.max_body_bytes, e.g.
 * /debug/pprof/symbol): its announced length is checked on the first call
 * (413), the body is gathered up to the bound as MHD hands it over, and
 * the route runs once it is all in (http_route.c).
 *
 * Application routes (mv_http_route, memvigil.h) run their handlers on
 * worker threads, the connection suspended meanwhile, so a slow handler
 * never holds up /metrics (http_route.c).
 *
 * The listening socket is created by http_listen.c rather than by MHD so
 * that a bind failure is reported with its real errno (-EADDRINUSE,
 * -EACCES, -EADDRNOTAVAIL); MHD_start_daemon only says "NULL". MHD takes the
 * socket over and closes it in MHD_stop_daemon (but not when
 * MHD_start_daemon fails: see mv__http_start). MHD's own error log is not
 * enabled: a library must not write into its host's stderr.
 *
 * /metrics picks OpenMetrics or Prometheus text from the Accept list with
 * its q-values (mv__http_negotiate, http_negotiate.c). Responses are queued
 * on the access handler's second call, so HTTP/1.1 keep-alive works (a
 * scraper reuses its connection).
 *
 * Auth: with a token, every route but /healthz (so liveness probes need no
 * secret) requires "Authorization: Bearer <token>"; the comparison takes
 * the same time wherever the first difference is. The live page (/) and its
 * data (/api/v1/samples) also take it as ?token=..., since a browser cannot
 * add a header when it opens a page (docs/live-page.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "http_guard.h"
#include "http_listen.h"
#include "http_route.h"
#include "util.h"

/* Tunables. Why these values: a scrape endpoint sees a few scrapers, so 64
 * connections and 16 per IP leave room for bursts while bounding what a
 * misbehaving client can pin; 10 s is far above any scrape's think time;
 * 32 KiB of per-connection pool bounds a request header (MHD answers 431
 * beyond it) while real scrapers send well under 1 KiB. The request-head
 * deadline and cap, and the query bounds, are http_guard.c's. */
#define CONN_LIMIT 64u
#define PER_IP_LIMIT 16u
#define CONN_TIMEOUT_S 10u
#define CONN_MEMORY_LIMIT ((size_t)32 * 1024)

struct mv__http {
    struct MHD_Daemon *daemon;
    int port;
    char *token;             /* NULL when no auth; owned */
    size_t token_len;
    mv__http_render_fn render;
    mv__http_samples_fn samples; /* NULL: no live page */
    mv__http_page_fn page;
    void *ctx;
    mv__http_guard *guard;   /* owned; slow-client defence (http_guard.h) */
    mv__http_route_table *extra; /* owned; the application's routes */
};

/* ---- request handling ---- */

/* Constant-time comparison of a presented token with the expected one. */
static int token_equal(const mv__http *h, const char *auth)
{
    size_t n, i;
    unsigned char diff = 0;

    n = strlen(auth);
    /* Constant time in the token: always walk the whole expected token. */
    for (i = 0; i < h->token_len; i++) {
        unsigned char c = i < n ? (unsigned char)auth[i] : 0;
        diff |= (unsigned char)(c ^ (unsigned char)h->token[i]);
    }
    return diff == 0 && n == h->token_len;
}

static int token_ok(const mv__http *h, const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return token_equal(h, auth);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *ctype, const char *body, size_t len,
                             const char *hname, const char *hvalue)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(len, (void *)body,
                                        MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
                                  const char *text)
{
    return reply(c, status, "text/plain; charset=utf-8", text, strlen(text),
                 NULL, NULL);
}

static mv_format negotiate(struct MHD_Connection *c)
{
    return mv__http_negotiate(MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
}

/* 500 for a render callback's -errno. */
static enum MHD_Result reply_render_failed(struct MHD_Connection *c, int rc)
{
    char msg[160];
    snprintf(msg, sizeof msg, "internal error: rendering failed: %s\n",
             mv_strerror(rc));
    return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}

static enum MHD_Result serve_render(mv__http *h, struct MHD_Connection *c,
                                    mv_format fmt)
{
    mv_buf b;
    enum MHD_Result ret;
    int rc;

    mv_buf_init(&b);
    rc = h->render(h->ctx, fmt, &b);
    if (rc < 0) {
        mv_buf_release(&b);
        return reply_render_failed(c, rc);
    }
    ret = reply(c, MHD_HTTP_OK, mv_format_content_type(fmt),
                b.data ? b.data : "", b.len, NULL, NULL);
    mv_buf_release(&b);
    return ret;
}

/* since=MS: digits only (at most 18), absent or empty = 0. 0 or -EINVAL. */
static int parse_since(const char *s, int64_t *out)
{
    int64_t v = 0;

    *out = 0;
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || p - s >= 18)
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

/* The live page, or the samples document for ?since=MS. */
static enum MHD_Result serve_live(mv__http *h, struct MHD_Connection *c,
                                  int samples)
{
    mv_buf b;
    enum MHD_Result ret;
    int64_t since = 0;
    int rc;

    if (samples &&
        parse_since(MHD_lookup_connection_value(
                                     c, MHD_GET_ARGUMENT_KIND, "since"),
                                 &since) != 0)
        return reply_text(c, MHD_HTTP_BAD_REQUEST,
                          "bad request: since must be milliseconds since the "
                          "epoch (digits only)\n");
    mv_buf_init(&b);
    rc = samples ? h->samples(h->ctx, since, &b) : h->page(h->ctx, &b);
    if (rc < 0) {
        mv_buf_release(&b);
        return reply_render_failed(c, rc);
    }
    ret = reply(c, MHD_HTTP_OK,
                samples ? "application/json; charset=utf-8"
                        : "text/html; charset=utf-8",
                b.data ? b.data : "", b.len, NULL, NULL);
    mv_buf_release(&b);
    return ret;
}

static const char index_html[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<title>memvigil</title></head>\n<body><h1>memvigil</h1>\n<ul>\n"
    "<li><a href=\"/metrics\">/metrics</a> &mdash; Prometheus / OpenMetrics</li>\n"
    "<li><a href=\"/api/v1/status\">/api/v1/status</a> &mdash; status (JSON)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a> &mdash; liveness</li>\n"
    "</ul></body></html>\n";

/* Does the request announce a body (Transfer-Encoding, or a Content-Length
 * other than 0)? MHD has already refused a malformed Content-Length. */
static int has_body(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 1;
    if (!cl)
        return 0;
    while (*cl == ' ' || *cl == '\t' || *cl == '0')
        cl++;
    return *cl != '\0' && *cl != ' ' && *cl != '\t';
}

typedef enum route {
    R_NONE, R_INDEX, R_METRICS, R_HEALTH, R_STATUS, R_SAMPLES, R_EXTRA
} route;

static route route_of(const mv__http *h, const char *url)
{
    if (mv__http_route_find(h->extra, url))
        return R_EXTRA;
    if (!strcmp(url, "/"))
        return R_INDEX;
    if (!strcmp(url, "/metrics"))
        return R_METRICS;
    if (!strcmp(url, "/healthz"))
        return R_HEALTH;
    if (!strcmp(url, "/api/v1/status"))
        return R_STATUS;
    if (!strcmp(url, "/api/v1/samples") && h->samples)
        return R_SAMPLES;
    return R_NONE;
}

/* The Content-Length a request announces, 0 when none or malformed (MHD
 * has refused a malformed one already). */
static uint64_t content_length(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl ? strtoull(cl, NULL, 10) : 0;
}

/* Starts the extra route's request *con_cls (its body, if any, is in):
 * 413, 503 or 500 when it cannot run; else the reply comes from
 * mv__http_route_finish once the worker is done. */
static enum MHD_Result start_extra(mv__http *h, struct MHD_Connection *c,
                                   void **con_cls)
{
    int rc = mv__http_route_start(con_cls, h);

    if (rc == -EFBIG)
        return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "content too large\n");
    if (rc == -EBUSY) {
        static const char msg[] =
            "service unavailable: too many requests in progress\n";
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "text/plain; charset=utf-8", msg, sizeof msg - 1,
                     MHD_HTTP_HEADER_RETRY_AFTER, "1");
    }
    if (rc < 0)
        return reply_render_failed(c, rc);
    return MHD_YES; /* suspended; answered by mv__http_route_finish */
}

/* Answers one request: 401, 404, 405, 413, or the route's page. An extra
 * route's request is opened instead (*con_cls becomes it): a POST's body
 * is read first, a GET starts at once. */
static enum MHD_Result respond(mv__http *h, struct MHD_Connection *c,
                               const char *url, const char *method,
                               int body, void **con_cls)
{
    route r = route_of(h, url);
    const mv_http_route *xr = r == R_EXTRA ? mv__http_route_find(h->extra, url)
                                           : NULL;
    int is_get, post_ok;

    if (h->token && r != R_HEALTH) {
        const char *auth = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *qtok = r == R_INDEX || r == R_SAMPLES
            ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token")
            : NULL;
        if (!token_ok(h, auth) && !(qtok && token_equal(h, qtok))) {
            static const char msg[] = "unauthorized: bearer token required\n";
            return reply(c, MHD_HTTP_UNAUTHORIZED, "text/plain; charset=utf-8",
                         msg, sizeof msg - 1, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                         "Bearer realm=\"memvigil\"");
        }
    }
    if (r == R_NONE)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");

    is_get = !strcmp(method, MHD_HTTP_METHOD_GET) ||
             !strcmp(method, MHD_HTTP_METHOD_HEAD);
    post_ok = xr && xr->max_body_bytes > 0 &&
              !strcmp(method, MHD_HTTP_METHOD_POST);
    if (!is_get && !post_ok) {
        static const char msg[] = "method not allowed\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                     "text/plain; charset=utf-8", msg, sizeof msg - 1,
                     MHD_HTTP_HEADER_ALLOW,
                     xr && xr->max_body_bytes ? "GET, HEAD, POST"
                                              : "GET, HEAD");
    }
    if (body && (!post_ok || content_length(c) > xr->max_body_bytes))
        return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          post_ok ? "content too large\n"
                                  : "content too large: requests here take "
                                    "no body\n");
    if (xr) {
        int rc = mv__http_route_open(h->extra, xr, c, con_cls);
        if (rc < 0)
            return reply_render_failed(c, rc);
        if (post_ok)
            return MHD_YES; /* the body (if any) comes in the next calls */
        return start_extra(h, c, con_cls);
    }
    switch (r) {
    case R_INDEX:
        if (h->page)
            return serve_live(h, c, 0);
        return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", index_html,
                     sizeof index_html - 1, NULL, NULL);
    case R_HEALTH:
        return reply_text(c, MHD_HTTP_OK, "ok\n");
    case R_METRICS:
        return serve_render(h, c, negotiate(c));
    case R_STATUS:
        return serve_render(h, c, MV_FORMAT_JSON);
    case R_SAMPLES:
        return serve_live(h, c, 1);
    case R_EXTRA:
    case R_NONE:
        break;
    }
    return MHD_NO;
}

/* The access handler; MHD thread. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    mv__http *h = cls;

    (void)version;

    if (!con_cls || !url || !method || !upload_data_size)
        return MHD_NO;
    /* MHD calls us once when the headers are in, then again when the
     * (empty) body is. A response queued on the first call makes MHD close
     * the connection (it cannot know whether a body follows), so the first
     * call only marks the request, unless the request has a body: then it
     * is answered at once, since MHD refuses a response while it reads a
     * body. MHD resets *con_cls for the next request on a kept-alive
     * connection. */
    if (*con_cls == NULL) {
        int body;

        if (mv__http_guard_head_in(h->guard, c))
            return MHD_NO;   /* answered 414 by the guard; close */
        *con_cls = h;
        body = has_body(c);
        if (body || (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
                     strcmp(method, MHD_HTTP_METHOD_HEAD) != 0))
            return respond(h, c, url, method, body, con_cls);
        return MHD_YES;
    }
    if (*con_cls != h) { /* an extra route's request */
        if (!mv__http_route_reading(*con_cls))   /* back from its worker */
            return mv__http_route_finish(c, con_cls, h);
        if (*upload_data_size != 0) {   /* a piece of a POST's body */
            (void)mv__http_route_body(*con_cls, upload_data,
                                      *upload_data_size);
            *upload_data_size = 0;
            return MHD_YES;
        }
        return start_extra(h, c, con_cls);
    }
    if (*upload_data_size != 0)
        return MHD_NO;   /* a body we did not announce: cannot happen */
    return respond(h, c, url, method, 0, con_cls);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the guard's bookkeeping, and the request of
 * an extra route whose connection ended before its reply was queued. */
static void request_completed(void *cls, struct MHD_Connection *c,
                              void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    mv__http *h = cls;

    mv__http_guard_request_completed(h->guard, c, con_cls, toe);
    mv__http_route_completed(con_cls, h);
}

/* ---- lifecycle ---- */

/* Does fd still name the socket whose fstat gave st? */
static int same_socket(int fd, const struct stat *st)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == st->st_dev &&
           now.st_ino == st->st_ino;
}

/* Frees a server that never started or has stopped: the guard, the token
 * and h. */
static void discard(mv__http *h)
{
    mv__http_route_table_free(h->extra);
    mv__http_guard_free(h->guard);
    free(h->token);
    free(h);
}

int mv__http_start(const char *listen_addr, const char *token,
                   mv__http_render_fn render, void *ctx, mv__http **out)
{
    mv__http_routes r = { render, NULL, NULL, NULL, 0 };
    return mv__http_start_routes(listen_addr, token, &r, ctx, out);
}

int mv__http_start_routes(const char *listen_addr, const char *token,
                          const mv__http_routes *routes, void *ctx,
                          mv__http **out)
{
    mv__http_render_fn render = routes ? routes->render : NULL;
    char host[256];
    int port, fd, is_v6 = 0, rc;
    mv__http *h;
    const union MHD_DaemonInfo *info;
    unsigned flags;
    struct stat lst;

    if (out)
        *out = NULL;
    if (!listen_addr || !render || !out)
        return -EINVAL;
    rc = mv__http_parse_listen(listen_addr, host, sizeof host, &port);
    if (rc)
        return rc;
    if (token && !*token)
        token = NULL;
    if (token && (strchr(token, '\r') || strchr(token, '\n')))
        return -EINVAL;

    h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    rc = mv__http_guard_create(CONN_LIMIT, &h->guard);
    if (rc) {
        free(h);
        return rc;
    }
    rc = mv__http_route_table_new(routes->extra, routes->nextra, &h->extra);
    if (rc) {
        discard(h);
        return rc;
    }
    h->render = render;
    h->samples = routes->page ? routes->samples : NULL;
    h->page = routes->samples ? routes->page : NULL;
    h->ctx = ctx;
    if (token) {
        h->token = strdup(token);
        if (!h->token) {
            discard(h);
            return -ENOMEM;
        }
        h->token_len = strlen(token);
    }

    fd = mv__http_listen_open(host, port, &is_v6);
    if (fd < 0) {
        discard(h);
        return fd;
    }
    if (fstat(fd, &lst) != 0) {
        rc = -errno;
        close(fd);
        discard(h);
        return rc;
    }
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
            MHD_ALLOW_SUSPEND_RESUME;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, h,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_IP_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_CONNECTION, mv__http_guard_notify_connection,
        h->guard,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
        MHD_OPTION_URI_LOG_CALLBACK, mv__http_guard_uri_logged, h->guard,
        MHD_OPTION_END);
    if (!h->daemon) {
        /* libmicrohttpd 0.9.75 leaves an application's listen socket open
         * when MHD_start_daemon fails, even after it has made it
         * non-blocking (checked by failing its epoll_create1 with
         * RLIMIT_NOFILE). Should a version close it, the number may
         * already name another file: close only our own socket. */
        if (same_socket(fd, &lst))
            close(fd);
        discard(h);
        return -ENOMEM;   /* MHD gives no reason; resources is the likely one */
    }
    rc = mv__http_guard_start(h->guard);
    if (rc) {
        MHD_stop_daemon(h->daemon);
        discard(h);
        return rc;
    }
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? (int)info->port : 0;
    if (h->port == 0)
        h->port = mv__http_listen_port(fd, port);
    *out = h;
    return 0;
}

int mv__http_port(const mv__http *h)
{
    return h ? h->port : -EINVAL;
}

void mv__http_stop(mv__http *h)
{
    if (!h)
        return;
    mv__http_guard_stop(h->guard);
    /* No connection may stay suspended when MHD stops: wait for the extra
     * routes' handlers (their waits are cut short). */
    mv__http_route_stop(h->extra);
    /* Joins MHD's thread and closes the listening socket; every connection
     * is closed first, with its CLOSED notification, which empties the
     * guard's list. */
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    if (h->token) {
        /* Do not leave the secret in freed memory. */
        volatile char *p = h->token;
        for (size_t i = 0; i < h->token_len; i++)
            p[i] = 0;
    }
    discard(h);
}
