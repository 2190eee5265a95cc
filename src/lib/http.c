/*
 * http.c — the embedded HTTP endpoint on libmicrohttpd (see http.h).
 *
 * DESIGN. One MHD daemon with its own polling thread serves a handful of
 * read-only routes; the page bodies come from the owner's render callback,
 * so this file knows nothing about metrics. Hostile or broken clients are
 * bounded by MHD itself: a connection cap, a per-IP cap, an idle timeout and
 * a per-connection memory pool that caps the size of a request's header
 * (MHD answers malformed or oversized requests with a 4xx on its own).
 *
 * MHD's idle timeout does not stop a client that sends a header line every
 * few seconds (slowloris): 100 such clients held all 64 slots and no scrape
 * got through (issue 12). So this file tracks every connection from MHD's
 * accept notification to its close notification, and whether it is waiting
 * for (or reading) a request head: (a) a head must be complete within
 * HEAD_DEADLINE_MS of the moment the connection began waiting for it (the
 * accept, or the end of the previous response on a kept-alive connection);
 * a small watchdog thread shuts down the socket of a head past its deadline,
 * and MHD then sees EOF and closes the connection; (b) at most HEAD_LIMIT
 * connections may be in a head at once, the rest of CONN_LIMIT being kept
 * for requests being answered: when one more arrives, the oldest head is
 * shut down. A scraper sends its whole request at once, so it is always the
 * newest head and never the one evicted.
 *
 * Threads: MHD runs one polling thread (MHD_USE_INTERNAL_POLLING_THREAD);
 * every MHD callback below (handle, notify_connection, request_completed,
 * uri_logged) runs on it. The watchdog is a second thread. The connection
 * list is shared by both and guarded by mv__http.lock; a listed connection's
 * socket stays open while it is listed, because MHD notifies the close
 * before closing the socket, so shutdown() never hits a reused descriptor.
 * The owner's thread only starts and stops.
 *
 * MHD 0.9.75 drops a request whose query has more parameters than its
 * per-connection pool can hold (it queues a 431, then loses it and closes),
 * and it parses the query before any callback could refuse it. The URI log
 * callback sees the raw request target first, so a target with too many
 * parameters or too long a query is answered 414 there, written straight to
 * the socket, whose sending side is then shut so that nothing MHD might
 * send later can follow it; the request is dropped when it reaches handle.
 *
 * No route takes a request body. A request that announces one is answered
 * on the handler's first call (405 for a method other than GET and HEAD, 413
 * for a GET or HEAD with a body), before MHD reads the body; MHD then closes
 * the connection. Answering on the second call, as for other requests, is
 * refused by MHD once a body is being read (that was issue 12's silent
 * close).
 *
 * The listening socket is created here rather than by MHD so that a bind
 * failure is reported with its real errno (-EADDRINUSE, -EACCES,
 * -EADDRNOTAVAIL); MHD_start_daemon only says "NULL". MHD takes the socket
 * over and closes it in MHD_stop_daemon (but not when MHD_start_daemon
 * fails: see mv__http_start). MHD's own error log is not enabled:
 * a library must not write into its host's stderr.
 *
 * /metrics picks OpenMetrics or Prometheus text from the Accept list with
 * its q-values (mv__http_negotiate). Responses are queued on the access
 * handler's second call, so HTTP/1.1 keep-alive works (a scraper reuses
 * its connection).
 *
 * Auth: with a token, every route but /healthz (so liveness probes need no
 * secret) requires "Authorization: Bearer <token>"; the comparison takes
 * the same time wherever the first difference is. The live page (/) and its
 * data (/api/v1/samples) also take it as ?token=..., since a browser cannot
 * add a header when it opens a page (docs/live-page.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "util.h"

/* Tunables. Why these values: a scrape endpoint sees a few scrapers, so 64
 * connections and 16 per IP leave room for bursts while bounding what a
 * misbehaving client can pin; 10 s is far above any scrape's think time;
 * 32 KiB of per-connection pool bounds a request header (MHD answers 431
 * beyond it) while real scrapers send well under 1 KiB. */
#define CONN_LIMIT 64u
#define PER_IP_LIMIT 16u
#define CONN_TIMEOUT_S 10u
#define CONN_MEMORY_LIMIT ((size_t)32 * 1024)
#define LISTEN_BACKLOG 64

/* A scraper or browser sends its request head in one packet, within
 * milliseconds of connecting even across a slow link; 5 s leaves room for a
 * bad network while a slow-header client holds a slot for 5 s at most. The
 * same bound applies to a kept-alive connection waiting for its next
 * request, so an idle kept-alive connection is closed after 5 s (clients
 * reconnect; Prometheus's interval is longer than the idle timeout anyway).
 * The watchdog looks every 250 ms, so a head is cut 5.0-5.25 s after. */
#define HEAD_DEADLINE_MS 5000
#define WATCHDOG_TICK_MS 250
/* Connections that may be in a request head at once; the other 16 of the
 * 64 stay free for requests being answered, so a flood of slow heads cannot
 * fill the server (the oldest head is evicted instead). */
#define HEAD_LIMIT (CONN_LIMIT - 16u)
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
    struct conn *prev, *next;   /* mv__http.conns; under mv__http.lock */
    int fd;                     /* MHD's socket, open while listed */
    conn_state state;           /* under mv__http.lock */
    int64_t head_since_ms;      /* monotonic; meaningful in CONN_HEAD */
    int uri_rejected;           /* this request was answered 414 by
                                 * uri_logged; MHD thread only */
} conn;

struct mv__http {
    struct MHD_Daemon *daemon;
    int port;
    char *token;             /* NULL when no auth; owned */
    size_t token_len;
    mv__http_render_fn render;
    mv__http_samples_fn samples; /* NULL: no live page */
    mv__http_page_fn page;
    void *ctx;

    /* Written by the MHD thread and the watchdog, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* wakes the watchdog for stop */
    conn *conns;             /* every open connection */
    unsigned heads;          /* how many of them are in CONN_HEAD */
    int stopping;            /* set by mv__http_stop */
    pthread_t watchdog;
    int watchdog_running;    /* owner thread only */
};

/* ---- listen address ---- */

static int parse_port(const char *s, int *port)
{
    long v = 0;

    if (!*s)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (*p - '0');
        if (v > 65535)
            return -EINVAL;
    }
    *port = (int)v;
    return 0;
}

int mv__http_parse_listen(const char *listen, char *host, size_t hostlen,
                          int *port)
{
    const char *colon, *hb, *he;
    char tmp[INET6_ADDRSTRLEN + 1];
    size_t n;

    if (!listen || !host || hostlen == 0 || !port)
        return -EINVAL;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        hb = listen + 1;
        he = close;
        colon = close + 1;
        n = (size_t)(he - hb);
        if (n == 0 || n >= sizeof tmp)
            return -EINVAL;
        memcpy(tmp, hb, n);
        tmp[n] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, tmp, &a6) != 1)
            return -EINVAL;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return -EINVAL;
        hb = listen;
        he = colon;
        n = (size_t)(he - hb);
        /* A host name or IPv4 address; IPv6 needs brackets. */
        for (const char *p = hb; p < he; p++) {
            char c = *p;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '-'))
                return -EINVAL;
        }
    }
    if (parse_port(colon + 1, port))
        return -EINVAL;
    if (n == 0) {
        if (hostlen <= strlen("127.0.0.1"))
            return -EINVAL;
        mv__strlcpy(host, "127.0.0.1", hostlen);
        return 0;
    }
    if (n >= hostlen)
        return -EINVAL;
    memcpy(host, hb, n);
    host[n] = '\0';
    return 0;
}

/* Creates a bound, listening TCP socket. Returns the fd or -errno. */
static int open_listener(const char *host, int port, int *is_v6)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int fd, rc, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        if (res)
            freeaddrinfo(res);
        return rc == EAI_MEMORY ? -ENOMEM : -EINVAL;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
                res->ai_protocol);
    if (fd < 0) {
        rc = -errno;
        freeaddrinfo(res);
        return rc;
    }
    /* Restarting while old connections sit in TIME_WAIT must work; a port
     * held by a live listener still fails with EADDRINUSE on Linux. */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        rc = -errno;
        close(fd);
        freeaddrinfo(res);
        return rc;
    }
    *is_v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return fd;
}

/* The port a listening socket got (for port 0), else fallback. */
static int bound_port(int fd, int fallback)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return fallback;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return fallback;
}

/* ---- connection tracking (slow heads) ---- */

/* Shuts a connection's socket down so that MHD sees EOF (or a reset) on its
 * next read and closes it. Caller holds h->lock. */
static void conn_cut(mv__http *h, conn *c)
{
    if (c->state == CONN_HEAD)
        h->heads--;
    c->state = CONN_CUT;
    (void)shutdown(c->fd, SHUT_RDWR);
}

/* Puts c on the clock for a request head from now. Caller holds h->lock. */
static void conn_enter_head(mv__http *h, conn *c)
{
    if (c->state == CONN_CUT || c->state == CONN_HEAD)
        return;
    c->state = CONN_HEAD;
    c->head_since_ms = mv__now_mono_ms();
    h->heads++;
}

/* Evicts the oldest heads while more than HEAD_LIMIT are open. Caller holds
 * h->lock. */
static void enforce_head_limit(mv__http *h)
{
    while (h->heads > HEAD_LIMIT) {
        conn *oldest = NULL;
        for (conn *c = h->conns; c; c = c->next)
            if (c->state == CONN_HEAD &&
                (!oldest || c->head_since_ms < oldest->head_since_ms))
                oldest = c;
        if (!oldest)
            break;   /* cannot happen: heads counts CONN_HEAD nodes */
        conn_cut(h, oldest);
    }
}

/* The tracking node of an MHD connection, or NULL (allocation failed). */
static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* MHD_OPTION_NOTIFY_CONNECTION; MHD thread. STARTED comes right after the
 * accept, CLOSED before MHD closes the socket. */
static void notify_connection(void *cls, struct MHD_Connection *connection,
                              void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    mv__http *h = cls;
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
        pthread_mutex_lock(&h->lock);
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        conn_enter_head(h, c);
        enforce_head_limit(h);
        pthread_mutex_unlock(&h->lock);
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    c = *socket_context;   /* non-NULL: listed */
    *socket_context = NULL;
    if (!c)
        return;
    pthread_mutex_lock(&h->lock);
    if (c->state == CONN_HEAD)
        h->heads--;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&h->lock);
    free(c);
}

/* MHD_OPTION_NOTIFY_COMPLETED; MHD thread. A request is over (answered or
 * abandoned): a kept-alive connection now waits for its next head. */
static void request_completed(void *cls, struct MHD_Connection *connection,
                              void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    mv__http *h = cls;
    conn *c = conn_of(connection);

    (void)con_cls;
    (void)toe;
    if (!c)
        return;
    pthread_mutex_lock(&h->lock);
    conn_enter_head(h, c);
    enforce_head_limit(h);
    pthread_mutex_unlock(&h->lock);
}

/* Called on the handler's first call: the head is complete. MHD thread. */
static void head_done(mv__http *h, conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&h->lock);
    if (c->state == CONN_HEAD) {
        c->state = CONN_BUSY;
        h->heads--;
    }
    pthread_mutex_unlock(&h->lock);
}

/* The watchdog thread: every WATCHDOG_TICK_MS, cuts heads past their
 * deadline, until h->stopping. */
static void *watchdog_main(void *arg)
{
    mv__http *h = arg;

    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        struct timespec until;
        int64_t now = mv__now_mono_ms();

        for (conn *c = h->conns; c; c = c->next)
            if (c->state == CONN_HEAD &&
                now - c->head_since_ms >= HEAD_DEADLINE_MS)
                conn_cut(h, c);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)WATCHDOG_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&h->wake, &h->lock, &until);
    }
    pthread_mutex_unlock(&h->lock);
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

/* MHD_OPTION_URI_LOG_CALLBACK; MHD thread. Called with the raw target once
 * the request line is in, before MHD parses the query. Returns the request's
 * initial *con_cls: NULL, so that handle can tell its first call. */
static void *uri_logged(void *cls, const char *uri,
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

/* ---- content negotiation ---- */

/* Skips optional white space (RFC 9110 OWS). */
static const char *ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Trims OWS at the end of [b, e). */
static const char *trim_end(const char *b, const char *e)
{
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return e;
}

/* Is [b, e) equal to s, ignoring case? */
static int token_is(const char *b, const char *e, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(e - b) == n && strncasecmp(b, s, n) == 0;
}

/* A qvalue ("0", "0.5", "1.000") in thousandths; -1 when malformed. */
static int parse_qvalue(const char *b, const char *e)
{
    int v, digits = 0;

    if (b == e || (*b != '0' && *b != '1'))
        return -1;
    v = (*b++ - '0') * 1000;
    if (b < e) {
        if (*b++ != '.')
            return -1;
        for (int scale = 100; b < e; b++, scale /= 10) {
            if (*b < '0' || *b > '9' || ++digits > 3)
                return -1;
            v += (*b - '0') * scale;
        }
    }
    return v > 1000 ? -1 : v;
}

/* Finds the end of one list element (a ',' outside quotes). */
static const char *element_end(const char *p, const char *end)
{
    int quoted = 0;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\\' && quoted && p + 1 < end)
            p++;
        else if (*p == ',' && !quoted)
            break;
    }
    return p;
}

/* One media range of the Accept list: its type, subtype and q. Returns 0,
 * or -1 when malformed (then ignored). */
static int parse_range(const char *b, const char *e, const char **tb,
                       const char **te, const char **sb, const char **se,
                       int *q)
{
    const char *semi = memchr(b, ';', (size_t)(e - b));
    const char *mend = trim_end(b, semi ? semi : e);
    const char *slash = memchr(b, '/', (size_t)(mend - b));

    if (!slash || slash == b || slash + 1 == mend)
        return -1;
    *tb = b;
    *te = slash;
    *sb = slash + 1;
    *se = mend;
    *q = 1000;
    while (semi) {
        const char *pb = ows(semi + 1, e);
        const char *pe;
        semi = pb < e ? memchr(pb, ';', (size_t)(e - pb)) : NULL;
        pe = trim_end(pb, semi ? semi : e);
        if (pe - pb >= 2 && (pb[0] == 'q' || pb[0] == 'Q') && pb[1] == '=') {
            *q = parse_qvalue(pb + 2, pe);
            if (*q < 0)
                return -1;
        }
    }
    return 0;
}

mv_format mv__http_negotiate(const char *accept)
{
    /* best q per specificity: [0] * / *, [1] type/ *, [2] exact */
    int om = -1, text[3] = { -1, -1, -1 };
    const char *p, *end;

    if (!accept)
        return MV_FORMAT_PROMETHEUS;
    end = accept + strlen(accept);
    for (p = accept; p < end;) {
        const char *b = ows(p, end);
        const char *e = element_end(b, end);
        const char *tb, *te, *sb, *se;
        int q;

        p = e < end ? e + 1 : e;
        e = trim_end(b, e);
        if (b == e || parse_range(b, e, &tb, &te, &sb, &se, &q) != 0)
            continue;
        if (token_is(tb, te, "application") &&
            token_is(sb, se, "openmetrics-text")) {
            if (q > om)
                om = q;
        } else if (token_is(tb, te, "*") && token_is(sb, se, "*")) {
            if (q > text[0])
                text[0] = q;
        } else if (token_is(tb, te, "text")) {
            int spec = token_is(sb, se, "*") ? 1
                       : token_is(sb, se, "plain") ? 2 : -1;
            if (spec > 0 && q > text[spec])
                text[spec] = q;
        }
    }
    /* The most specific range that matches text/plain decides its q; none
     * at all means "not acceptable", i.e. 0. */
    int tq = text[2] >= 0 ? text[2] : text[1] >= 0 ? text[1]
             : text[0] >= 0 ? text[0] : 0;
    /* OpenMetrics must be named: a bare * / * keeps the classic format. */
    if (om > 0 && om >= tq)
        return MV_FORMAT_OPENMETRICS;
    return MV_FORMAT_PROMETHEUS;
}

static mv_format negotiate(struct MHD_Connection *c)
{
    return mv__http_negotiate(MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
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
        char msg[160];
        snprintf(msg, sizeof msg, "internal error: rendering failed: %s\n",
                 mv_strerror(rc));
        mv_buf_release(&b);
        return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
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
        char msg[160];
        snprintf(msg, sizeof msg, "internal error: rendering failed: %s\n",
                 mv_strerror(rc));
        mv_buf_release(&b);
        return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
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
    R_NONE, R_INDEX, R_METRICS, R_HEALTH, R_STATUS, R_SAMPLES
} route;

static route route_of(const mv__http *h, const char *url)
{
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

/* Answers one request: 401, 404, 405, 413, or the route's page. */
static enum MHD_Result respond(mv__http *h, struct MHD_Connection *c,
                               const char *url, const char *method,
                               int body)
{
    route r = route_of(h, url);
    int is_get;

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
    if (!is_get) {
        static const char msg[] = "method not allowed\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                     "text/plain; charset=utf-8", msg, sizeof msg - 1,
                     MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    if (body)
        return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "content too large: requests here take no body\n");
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
    (void)upload_data;

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
        conn *tc = conn_of(c);
        int body;

        head_done(h, tc);
        if (tc && tc->uri_rejected)
            return MHD_NO;   /* answered 414 by uri_logged; close */
        *con_cls = h;
        body = has_body(c);
        if (body || (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
                     strcmp(method, MHD_HTTP_METHOD_HEAD) != 0))
            return respond(h, c, url, method, body);
        return MHD_YES;
    }
    if (*upload_data_size != 0)
        return MHD_NO;   /* a body we did not announce: cannot happen */
    return respond(h, c, url, method, 0);
}

/* ---- lifecycle ---- */

/* The lock and the watchdog's condition variable (on the monotonic clock,
 * which its deadline uses). 0 or -errno; nothing to release on error. */
static int sync_init(mv__http *h)
{
    pthread_condattr_t ca;
    int rc;

    rc = pthread_mutex_init(&h->lock, NULL);
    if (rc)
        return -rc;
    rc = pthread_condattr_init(&ca);
    if (!rc) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (!rc)
            rc = pthread_cond_init(&h->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc) {
        pthread_mutex_destroy(&h->lock);
        return -rc;
    }
    return 0;
}

/* Frees what MHD may not have closed (nothing, normally) and the sync
 * objects; no other thread may run on h any more. */
static void sync_release(mv__http *h)
{
    while (h->conns) {
        conn *c = h->conns;
        h->conns = c->next;
        free(c);
    }
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
}

/* Does fd still name the socket whose fstat gave st? */
static int same_socket(int fd, const struct stat *st)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == st->st_dev &&
           now.st_ino == st->st_ino;
}

int mv__http_start(const char *listen_addr, const char *token,
                   mv__http_render_fn render, void *ctx, mv__http **out)
{
    mv__http_routes r = { render, NULL, NULL };
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
    rc = sync_init(h);
    if (rc) {
        free(h);
        return rc;
    }
    h->render = render;
    h->samples = routes->page ? routes->samples : NULL;
    h->page = routes->samples ? routes->page : NULL;
    h->ctx = ctx;
    if (token) {
        h->token = strdup(token);
        if (!h->token) {
            sync_release(h);
            free(h);
            return -ENOMEM;
        }
        h->token_len = strlen(token);
    }

    fd = open_listener(host, port, &is_v6);
    if (fd < 0) {
        sync_release(h);
        free(h->token);
        free(h);
        return fd;
    }
    if (fstat(fd, &lst) != 0) {
        rc = -errno;
        close(fd);
        sync_release(h);
        free(h->token);
        free(h);
        return rc;
    }
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, h,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_IP_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logged, h,
        MHD_OPTION_END);
    if (!h->daemon) {
        /* libmicrohttpd 0.9.75 leaves an application's listen socket open
         * when MHD_start_daemon fails, even after it has made it
         * non-blocking (checked by failing its epoll_create1 with
         * RLIMIT_NOFILE). Should a version close it, the number may
         * already name another file: close only our own socket. */
        if (same_socket(fd, &lst))
            close(fd);
        sync_release(h);
        free(h->token);
        free(h);
        return -ENOMEM;   /* MHD gives no reason; resources is the likely one */
    }
    rc = pthread_create(&h->watchdog, NULL, watchdog_main, h);
    if (rc) {
        MHD_stop_daemon(h->daemon);
        sync_release(h);
        free(h->token);
        free(h);
        return -rc;
    }
    h->watchdog_running = 1;
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? (int)info->port : 0;
    if (h->port == 0)
        h->port = bound_port(fd, port);
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
    if (h->watchdog_running) {
        pthread_mutex_lock(&h->lock);
        h->stopping = 1;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->watchdog, NULL);
    }
    /* Joins MHD's thread and closes the listening socket; every connection
     * is closed first, with its CLOSED notification, which empties the
     * list. */
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    sync_release(h);
    if (h->token) {
        /* Do not leave the secret in freed memory. */
        volatile char *p = h->token;
        for (size_t i = 0; i < h->token_len; i++)
            p[i] = 0;
        free(h->token);
    }
    free(h);
}
