/*
 * http_guard.c — the HTTP endpoint's defence against slow-header clients
 * and oversized query strings (see http_guard.h; the server is http.c).
 *
 * DESIGN. MHD's idle timeout does not stop a client that sends a header
 * line every few seconds (slowloris): 100 such clients held all 64 slots and
 * no scrape got through (issue 12). So every connection is tracked from
 * MHD's accept notification to its close notification, and whether it is
 * waiting for (or reading) a request head: (a) a head must be complete
 * within HEAD_DEADLINE_MS of the moment the connection began waiting for it
 * (the accept, or the end of the previous response on a kept-alive
 * connection); a small watchdog thread shuts down the socket of a head past
 * its deadline, and MHD then sees EOF and closes the connection; (b) at most
 * head_limit connections may be in a head at once, the rest of the server's
 * connections being kept for requests being answered: when one more
 * arrives, the oldest head is shut down. A scraper sends its whole request
 * at once, so it is always the newest head and never the one evicted.
 *
 * Threads: MHD runs one polling thread (MHD_USE_INTERNAL_POLLING_THREAD);
 * the MHD callbacks here (notify_connection, request_completed, uri_logged)
 * and mv__http_guard_head_in (from http.c's access handler) run on it. The
 * watchdog is a second thread. The connection list is shared by both and
 * guarded by mv__http_guard.lock; a listed connection's socket stays open
 * while it is listed, because MHD notifies the close before closing the
 * socket, so shutdown() never hits a reused descriptor. The owner's thread
 * only creates, starts, stops and frees.
 *
 * MHD 0.9.75 drops a request whose query has more parameters than its
 * per-connection pool can hold (it queues a 431, then loses it and closes),
 * and it parses the query before any callback could refuse it. The URI log
 * callback sees the raw request target first, so a target with too many
 * parameters or too long a query is answered 414 there, written straight to
 * the socket, whose sending side is then shut so that nothing MHD might
 * send later can follow it; the request is dropped when it reaches the
 * access handler (mv__http_guard_head_in says so).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http_guard.h"
#include "util.h"

/* A scraper or browser sends its request head in one packet, within
 * milliseconds of connecting even across a slow link; 5 s leaves room for a
 * bad network while a slow-header client holds a slot for 5 s at most. The
 * same bound applies to a kept-alive connection waiting for its next
 * request, so an idle kept-alive connection is closed after 5 s (clients
 * reconnect; Prometheus's interval is longer than the idle timeout anyway).
 * The watchdog looks every 250 ms, so a head is cut 5.0-5.25 s after. */
#define HEAD_DEADLINE_MS 5000
#define WATCHDOG_TICK_MS 250
/* Connections kept out of the head limit: with 64, 48 may be in a request
 * head at once and 16 stay free for requests being answered, so a flood of
 * slow heads cannot fill the server (the oldest head is evicted instead). */
#define HEADS_KEPT_FREE 16u
/* The routes take at most since= and token=; the bounds leave room for a
 * cache-buster and a long token while keeping MHD's parse of the query
 * within the connection's pool (about 64 bytes a parameter). */
#define MAX_QUERY_PARAMS 16u
#define MAX_QUERY_BYTES 2048u

/* Where a tracked connection is. */
typedef enum conn_state {
    CONN_HEAD,      /* waiting for or reading a request head: on the clock */
    CONN_BUSY,      /* head complete, being answered */
    CONN_CUT        /* socket shut down by us; MHD will close it */
} conn_state;

/* One connection, from MHD's STARTED notification to its CLOSED one; owned
 * by the list (allocated in notify_connection, freed there). */
typedef struct conn {
    struct conn *prev, *next;   /* mv__http_guard.conns; under its lock */
    int fd;                     /* MHD's socket, open while listed */
    conn_state state;           /* under mv__http_guard.lock */
    int64_t head_since_ms;      /* monotonic; meaningful in CONN_HEAD */
    int uri_rejected;           /* this request was answered 414 by
                                 * uri_logged; MHD thread only */
} conn;

struct mv__http_guard {
    unsigned head_limit;     /* connections that may be in a head at once */

    /* Written by the MHD thread and the watchdog, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* wakes the watchdog for stop */
    conn *conns;             /* every open connection */
    unsigned heads;          /* how many of them are in CONN_HEAD */
    int stopping;            /* set by mv__http_guard_stop */
    pthread_t watchdog;
    int watchdog_running;    /* owner thread only */
};

/* ---- the connection list ---- */

/* Shuts a connection's socket down so that MHD sees EOF (or a reset) on its
 * next read and closes it. Caller holds g->lock. */
static void conn_cut(mv__http_guard *g, conn *c)
{
    if (c->state == CONN_HEAD)
        g->heads--;
    c->state = CONN_CUT;
    (void)shutdown(c->fd, SHUT_RDWR);
}

/* Puts c on the clock for a request head from now. Caller holds g->lock. */
static void conn_enter_head(mv__http_guard *g, conn *c)
{
    if (c->state == CONN_CUT || c->state == CONN_HEAD)
        return;
    c->state = CONN_HEAD;
    c->head_since_ms = mv__now_mono_ms();
    g->heads++;
}

/* Evicts the oldest heads while more than g->head_limit are open. Caller
 * holds g->lock. */
static void enforce_head_limit(mv__http_guard *g)
{
    while (g->heads > g->head_limit) {
        conn *oldest = NULL;
        for (conn *c = g->conns; c; c = c->next)
            if (c->state == CONN_HEAD &&
                (!oldest || c->head_since_ms < oldest->head_since_ms))
                oldest = c;
        if (!oldest)
            break;   /* cannot happen: heads counts CONN_HEAD nodes */
        conn_cut(g, oldest);
    }
}

/* The tracking node of an MHD connection, or NULL (allocation failed). */
static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* MHD thread. STARTED comes right after the accept, CLOSED before MHD
 * closes the socket. */
void mv__http_guard_notify_connection(void *cls,
                                      struct MHD_Connection *connection,
                                      void **socket_context,
                                      enum MHD_ConnectionNotificationCode toe)
{
    mv__http_guard *g = cls;
    conn *c;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
            connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = NULL;
        if (!ci)
            return;   /* cannot happen for an accepted connection */
        c = calloc(1, sizeof *c);
        if (!c) {
            /* A connection we cannot put on the clock must not be able to
             * hold a slot: refuse it. */
            (void)shutdown(ci->connect_fd, SHUT_RDWR);
            return;
        }
        *socket_context = c;
        c->fd = ci->connect_fd;
        c->state = CONN_BUSY;
        pthread_mutex_lock(&g->lock);
        c->next = g->conns;
        if (g->conns)
            g->conns->prev = c;
        g->conns = c;
        conn_enter_head(g, c);
        enforce_head_limit(g);
        pthread_mutex_unlock(&g->lock);
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    c = *socket_context;   /* non-NULL: listed */
    *socket_context = NULL;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->state == CONN_HEAD)
        g->heads--;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

/* MHD thread. A request is over (answered or abandoned). */
void mv__http_guard_request_completed(void *cls,
                                      struct MHD_Connection *connection,
                                      void **con_cls,
                                      enum MHD_RequestTerminationCode toe)
{
    mv__http_guard *g = cls;
    conn *c = conn_of(connection);

    (void)con_cls;
    (void)toe;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    conn_enter_head(g, c);
    enforce_head_limit(g);
    pthread_mutex_unlock(&g->lock);
}

/* MHD thread. */
int mv__http_guard_head_in(mv__http_guard *g, struct MHD_Connection *c)
{
    conn *tc = conn_of(c);

    if (!tc)
        return 0;
    pthread_mutex_lock(&g->lock);
    if (tc->state == CONN_HEAD) {
        tc->state = CONN_BUSY;
        g->heads--;
    }
    pthread_mutex_unlock(&g->lock);
    return tc->uri_rejected;
}

/* ---- the head deadline ---- */

/* The watchdog thread: every WATCHDOG_TICK_MS, cuts heads past their
 * deadline, until g->stopping. */
static void *watchdog_main(void *arg)
{
    mv__http_guard *g = arg;

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until;
        int64_t now = mv__now_mono_ms();

        for (conn *c = g->conns; c; c = c->next)
            if (c->state == CONN_HEAD &&
                now - c->head_since_ms >= HEAD_DEADLINE_MS)
                conn_cut(g, c);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)WATCHDOG_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&g->wake, &g->lock, &until);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* ---- request targets ---- */

/* Is the query of a raw request target within MAX_QUERY_PARAMS and
 * MAX_QUERY_BYTES? Pure. */
static int query_ok(const char *uri)
{
    const char *q = uri ? strchr(uri, '?') : NULL;
    unsigned params = 1;

    if (!q)
        return 1;
    q++;
    if (strlen(q) > MAX_QUERY_BYTES)
        return 0;
    for (; *q; q++)
        if (*q == '&' && ++params > MAX_QUERY_PARAMS)
            return 0;
    return 1;
}

/* Writes a whole 414 response on fd and shuts its sending side. */
static void reject_target(int fd)
{
    static const char body[] =
        "uri too long: at most 16 query parameters and 2048 bytes of query\n";
    char msg[512];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 414 URI Too Long\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Cache-Control: no-store\r\n"
                     "Connection: close\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sizeof body - 1, body);

    /* A fresh request on a socket with nothing queued: a few hundred bytes
     * always fit its send buffer; should they not, the client gets a
     * truncated answer, never a hang. */
    if (n > 0 && (size_t)n < sizeof msg)
        (void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)shutdown(fd, SHUT_WR);
}

/* MHD thread. Called with the raw target once the request line is in,
 * before MHD parses the query. */
void *mv__http_guard_uri_logged(void *cls, const char *uri,
                                struct MHD_Connection *connection)
{
    conn *c = conn_of(connection);
    const union MHD_ConnectionInfo *ci;

    (void)cls;
    if (c)
        c->uri_rejected = 0;
    if (query_ok(uri))
        return NULL;
    ci = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        reject_target(ci->connect_fd);
    if (c)
        c->uri_rejected = 1;
    return NULL;
}

/* ---- lifecycle ---- */

/* The lock and the watchdog's condition variable (on the monotonic clock,
 * which its deadline uses). 0 or -errno; nothing to release on error. */
static int sync_init(mv__http_guard *g)
{
    pthread_condattr_t ca;
    int rc;

    rc = pthread_mutex_init(&g->lock, NULL);
    if (rc)
        return -rc;
    rc = pthread_condattr_init(&ca);
    if (!rc) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (!rc)
            rc = pthread_cond_init(&g->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc) {
        pthread_mutex_destroy(&g->lock);
        return -rc;
    }
    return 0;
}

int mv__http_guard_create(unsigned conn_limit, mv__http_guard **out)
{
    mv__http_guard *g;
    int rc;

    *out = NULL;
    if (conn_limit <= HEADS_KEPT_FREE)
        return -EINVAL;
    g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    rc = sync_init(g);
    if (rc) {
        free(g);
        return rc;
    }
    g->head_limit = conn_limit - HEADS_KEPT_FREE;
    *out = g;
    return 0;
}

int mv__http_guard_start(mv__http_guard *g)
{
    int rc = pthread_create(&g->watchdog, NULL, watchdog_main, g);

    if (rc)
        return -rc;
    g->watchdog_running = 1;
    return 0;
}

void mv__http_guard_stop(mv__http_guard *g)
{
    if (!g->watchdog_running)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->watchdog, NULL);
    g->watchdog_running = 0;
}

void mv__http_guard_free(mv__http_guard *g)
{
    if (!g)
        return;
    /* What MHD may not have closed (nothing, normally). */
    while (g->conns) {
        conn *c = g->conns;
        g->conns = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
