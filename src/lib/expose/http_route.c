/*
 * http_route.c — the application's extra routes on the embedded endpoint
 * (mv_http_route in memvigil.h; internal contract in http_route.h), run off
 * the polling thread.
 *
 * DESIGN. An extra route's handler may take seconds (a delta heap profile
 * waits ?seconds=N; symbolizing reads debug info), and MHD's one polling
 * thread also serves /metrics: a handler run there would stall every
 * scrape. So the request is suspended (MHD_suspend_connection, with
 * MHD_ALLOW_SUSPEND_RESUME), its query copied, and a detached worker thread
 * runs the handler; when it returns, the worker stores the reply and resumes
 * the connection, and MHD calls the access handler again, which queues the
 * reply (mv__http_route_finish). At most MAX_WORKERS run at once; a request
 * beyond that is answered 503 at once, so a client cannot pile up threads.
 *
 * Stopping: MHD must not be stopped while a connection is suspended, so
 * mv__http_route_stop sets `stopping`, wakes every mv_http_request_wait
 * (which then returns -ECANCELED) and waits until no worker is left; only
 * then does http.c stop the daemon.
 *
 * Ownership: the request object belongs to the worker until it sets done
 * and resumes the connection, then to the connection (its *con_cls): freed
 * by mv__http_route_finish once the reply is queued, or by
 * mv__http_route_completed when the connection ends first.
 *
 * Threads: begin and finish run on the polling thread; the handler and
 * mv_http_request_* on the worker; `active`, `stopping` and the wakeups
 * under the table's mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_route.h"
#include "util.h"

/* Four at once: a heap profile request is rare (a scraper every 15 s or
 * more, a person with go tool pprof); four leave room for both while a
 * client that opens many cannot make the endpoint start many threads. */
#define MAX_WORKERS 4
/* Query parameters copied per request: the guard already bounds them
 * (http_guard.c); handlers look up a few names. */
#define MAX_ARGS 32

struct mv__http_route_table {
    mv_http_route *routes;   /* paths owned */
    size_t n;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* workers finishing, stop */
    int active;              /* workers running */
    int stopping;
};

struct mv_http_request {
    mv__http_route_table *t;
    const mv_http_route *route;
    struct MHD_Connection *conn;
    char *keys[MAX_ARGS], *values[MAX_ARGS];
    int nargs;
    int reading;             /* the body is still arriving */
    int too_large;           /* the body went past route->max_body_bytes */
    mv_buf body;
    int rc;                  /* the handler's result */
    mv_http_reply reply;
};

static const char *const builtin[] = {"/", "/metrics", "/healthz"};

int mv__http_route_table_new(const mv_http_route *routes, size_t n,
                             mv__http_route_table **out)
{
    mv__http_route_table *t;
    size_t i, j;

    *out = NULL;
    if (n && !routes)
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (!routes[i].path || routes[i].path[0] != '/' || !routes[i].handler ||
            !strncmp(routes[i].path, "/api/", 5))
            return -EINVAL;
        for (j = 0; j < sizeof builtin / sizeof *builtin; j++)
            if (!strcmp(routes[i].path, builtin[j]))
                return -EINVAL;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->routes = calloc(n ? n : 1, sizeof *t->routes);
    if (!t->routes) {
        free(t);
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        t->routes[i] = routes[i];
        t->routes[i].path = strdup(routes[i].path);
        t->n = i + 1;
        if (!t->routes[i].path) {
            mv__http_route_table_free(t);
            return -ENOMEM;
        }
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    *out = t;
    return 0;
}

void mv__http_route_table_free(mv__http_route_table *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n; i++)
        free((char *)t->routes[i].path);
    free(t->routes);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    free(t);
}

const mv_http_route *mv__http_route_find(const mv__http_route_table *t,
                                         const char *url)
{
    size_t i;

    if (!t)
        return NULL;
    /* later routes win: the library appends its own defaults first */
    for (i = t->n; i-- > 0;)
        if (!strcmp(t->routes[i].path, url))
            return &t->routes[i];
    return NULL;
}

static void request_free(mv_http_request *r)
{
    int i;

    if (!r)
        return;
    for (i = 0; i < r->nargs; i++) {
        free(r->keys[i]);
        free(r->values[i]);
    }
    mv_buf_release(&r->reply.body);
    mv_buf_release(&r->body);
    free(r);
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    mv_http_request *r = cls;

    (void)kind;
    if (r->nargs == MAX_ARGS || !key)
        return MHD_NO;
    r->keys[r->nargs] = strdup(key);
    r->values[r->nargs] = strdup(value ? value : "");
    if (!r->keys[r->nargs] || !r->values[r->nargs]) {
        free(r->keys[r->nargs]);
        free(r->values[r->nargs]);
        r->rc = -ENOMEM;
        return MHD_NO;
    }
    r->nargs++;
    return MHD_YES;
}

static void *worker(void *arg)
{
    mv_http_request *r = arg;
    mv__http_route_table *t = r->t;
    struct MHD_Connection *c = r->conn;

    r->rc = r->route->handler(r->route->ctx, r, &r->reply);
    /* from here r belongs to the connection: the polling thread may free
     * it as soon as the connection is resumed */
    MHD_resume_connection(c);
    pthread_mutex_lock(&t->lock);
    t->active--;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int mv__http_route_open(mv__http_route_table *t, const mv_http_route *route,
                        struct MHD_Connection *c, void **con_cls)
{
    mv_http_request *r = calloc(1, sizeof *r);

    if (!r)
        return -ENOMEM;
    r->t = t;
    r->route = route;
    r->conn = c;
    r->reading = 1;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, copy_arg, r);
    if (r->rc) {
        request_free(r);
        return -ENOMEM;
    }
    *con_cls = r;
    return 0;
}

int mv__http_route_reading(void *con_cls)
{
    return ((mv_http_request *)con_cls)->reading;
}

int mv__http_route_body(void *con_cls, const char *data, size_t n)
{
    mv_http_request *r = con_cls;

    if (r->too_large || r->body.len + n > r->route->max_body_bytes) {
        r->too_large = 1;
        return -EFBIG;
    }
    if (mv__buf_append(&r->body, data, n) != 0) {
        r->too_large = 1;
        return -ENOMEM;
    }
    return 0;
}

int mv__http_route_start(void **con_cls, void *marker)
{
    mv_http_request *r = *con_cls;
    mv__http_route_table *t = r->t;
    struct MHD_Connection *c = r->conn;
    pthread_attr_t at;
    pthread_t tid;
    int rc;

    r->reading = 0;
    if (r->too_large) {
        request_free(r);
        *con_cls = marker;
        return -EFBIG;
    }
    pthread_mutex_lock(&t->lock);
    if (t->stopping || t->active >= MAX_WORKERS) {
        pthread_mutex_unlock(&t->lock);
        request_free(r);
        *con_cls = marker;
        return -EBUSY;
    }
    t->active++;
    pthread_mutex_unlock(&t->lock);
    MHD_suspend_connection(c);
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&tid, &at, worker, r);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        /* nothing ran: answer 500 from mv__http_route_finish */
        r->rc = -rc;
        MHD_resume_connection(c);
        pthread_mutex_lock(&t->lock);
        t->active--;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
    }
    return 0;
}

enum MHD_Result mv__http_route_finish(struct MHD_Connection *c, void **con_cls,
                                      void *marker)
{
    mv_http_request *r = *con_cls;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char msg[160];
    const char *body;
    size_t len;
    unsigned status;

    if (r->rc < 0) {
        snprintf(msg, sizeof msg, "internal error: %s\n", mv_strerror(r->rc));
        body = msg;
        len = strlen(msg);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    } else {
        body = r->reply.body.data ? r->reply.body.data : "";
        len = r->reply.body.len;
        status = r->reply.status > 0 ? (unsigned)r->reply.status : MHD_HTTP_OK;
    }
    resp = MHD_create_response_from_buffer(len, (void *)body,
                                           MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        request_free(r);
        *con_cls = marker;
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->rc >= 0 && r->reply.content_type
                                ? r->reply.content_type
                                : "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->rc >= 0 && r->reply.filename) {
        char cd[160];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"",
                 r->reply.filename);
        MHD_add_response_header(resp, "Content-Disposition", cd);
    }
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    request_free(r);
    *con_cls = marker;
    return ret;
}

void mv__http_route_completed(void **con_cls, void *marker)
{
    if (con_cls && *con_cls && *con_cls != marker) {
        request_free(*con_cls);
        *con_cls = NULL;
    }
}

void mv__http_route_stop(mv__http_route_table *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_broadcast(&t->cond);
    while (t->active > 0)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

/* ---- the handler's side (memvigil.h) ---- */

const char *mv_http_request_arg(const mv_http_request *req, const char *name)
{
    int i;

    if (!req || !name)
        return NULL;
    for (i = 0; i < req->nargs; i++)
        if (!strcmp(req->keys[i], name))
            return req->values[i];
    return NULL;
}

int mv_http_request_count(const mv_http_request *req, const char *name,
                          long max, long *out)
{
    const char *v = mv_http_request_arg(req, name);
    long n = 0;

    if (!out || max < 0)
        return -EINVAL;
    *out = 0;
    if (!v || !*v)
        return 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        if (n > (max - (*p - '0')) / 10)
            return -ERANGE;
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return 0;
}

const char *mv_http_request_body(const mv_http_request *req, size_t *len)
{
    if (!req) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

int mv_http_request_wait(const mv_http_request *req, int64_t ms)
{
    mv__http_route_table *t;
    struct timespec dl;
    int rc = 0;

    if (!req || ms < 0)
        return -EINVAL;
    t = req->t;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    while (!t->stopping && rc == 0)
        rc = pthread_cond_timedwait(&t->cond, &t->lock, &dl);
    rc = t->stopping ? -ECANCELED : 0;
    pthread_mutex_unlock(&t->lock);
    return rc;
}
