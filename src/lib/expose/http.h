/*
 * http.h — the embedded HTTP endpoint (libmicrohttpd, internal thread):
 * GET /metrics (format by Accept), /healthz, /api/v1/status (JSON), / (the
 * live page, or a short index without one), /api/v1/samples (live page),
 * and the application's routes (mv_http_route: /debug/pprof/heap, ...),
 * whose handlers run on worker threads (http_route.c).
 * Binds 127.0.0.1 unless another address is asked for; optional bearer
 * token; bounded connections, per-IP connections, request sizes and query
 * parameters; a request head must arrive within 5 s, and slow heads are
 * evicted before they fill the server; no request bodies (405/413); anything
 * else gets a 4xx. The limits are listed in docs/api-status.md. The server
 * is http.c; the slow-client defence is http_guard.c.
 *
 * Thread-safety: start/stop from one owner. The server runs two threads of
 * its own, MHD's polling thread and a watchdog for the head deadline; the
 * render, samples and page callbacks are called on the polling thread, one
 * at a time; the application routes' handlers on worker threads, up to 4 at
 * once.
 */
#ifndef MV_HTTP_H
#define MV_HTTP_H

#include <stdint.h>

#include "memvigil.h"

typedef struct mv__http mv__http;

/* Renders a response body for fmt into out; returns 0 or -errno (-> 500). */
typedef int (*mv__http_render_fn)(void *ctx, mv_format fmt, mv_buf *out);

/* The live page (livepage.h): GET /api/v1/samples?since=MS renders through
 * samples (since_ms >= 0; a malformed since is answered 400 here), and GET /
 * serves what page renders (text/html). NULL callbacks keep the short index
 * at / and 404 for /api/v1/samples. With a token, / and /api/v1/samples also
 * accept it as the query parameter token=... (a browser cannot add a header
 * to the page's own load; docs/live-page.md). */
typedef int (*mv__http_samples_fn)(void *ctx, int64_t since_ms, mv_buf *out);
typedef int (*mv__http_page_fn)(void *ctx, mv_buf *out);
typedef struct mv__http_routes {
    mv__http_render_fn render;   /* required */
    mv__http_samples_fn samples; /* optional */
    mv__http_page_fn page;       /* optional */
    /* The application's routes (memvigil.h, mv_http_route), copied; of two
     * with one path the later wins. Their handlers run on worker threads
     * (http_route.c). */
    const mv_http_route *extra;
    size_t nextra;
} mv__http_routes;

/* The listen address is parsed by mv__http_parse_listen (util.h). */

/* Starts the server. token may be NULL. -EADDRINUSE, -EINVAL, -ENOMEM. */
int mv__http_start(const char *listen, const char *token,
                   mv__http_render_fn render, void *ctx, mv__http **out);
/* Same with the live page's routes; routes is copied. */
int mv__http_start_routes(const char *listen, const char *token,
                          const mv__http_routes *routes, void *ctx,
                          mv__http **out);
/* The bound port (useful with port 0). */
int mv__http_port(const mv__http *h);
/* Stops and frees; NULL is a no-op. */
void mv__http_stop(mv__http *h);

/* Content negotiation for /metrics from an Accept header value (NULL: no
 * header). OpenMetrics only when application/openmetrics-text is named
 * with q > 0 and a q >= the one text/plain gets (from its most specific
 * matching range: text/plain, text/ *, * / *); Prometheus text otherwise.
 * Malformed elements (bad q) are ignored. Pure. (http_negotiate.c) */
mv_format mv__http_negotiate(const char *accept);

#endif /* MV_HTTP_H */
