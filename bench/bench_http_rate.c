/*
 * bench_http_rate.c — a fixed-rate HTTP load generator for the /metrics
 * latency target ("p99 <= 10 ms at 1000 req/s").
 *
 * wrk only runs closed-loop (each connection sends its next request when the
 * previous answer arrives), so it reports latency at the maximum rate, and
 * wrk2 (which schedules requests at a fixed rate) is not packaged in Debian.
 * This program does the fixed-rate part: C connections (threads) with
 * keep-alive share a schedule of R requests per second, request k of
 * connection i being due at t0 + (k*C + i)/R. Latency is measured from the
 * time a request was DUE, not when it was sent, so a slow answer that delays
 * the next requests is charged to them too (no "coordinated omission").
 * Responses are read completely (Content-Length or chunked); a server that
 * closes the connection is reconnected to.
 *
 * Prints <name>_achieved_rps, _p50_ms, _p99_ms, _p999_ms, _max_ms, _errors.
 *
 * Usage: bench_http_rate --port P [--host 127.0.0.1] [--rate 1000]
 *                        [--seconds 10] [--conns 4] [--path /metrics]
 *                        [--name http_fixed]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

typedef struct client {
    /* set by main, read by the thread */
    struct sockaddr_in addr;
    const char *request;
    size_t request_len;
    int index, conns;
    int64_t t0_ns;
    double period_ns;     /* 1e9 / rate */
    long nreq;            /* requests this thread sends */
    /* written by the thread, read by main after join */
    double *lat_ms;       /* nreq entries; filled for each completed request */
    long done;
    long errors;
    int64_t last_done_ns;
} client;

static int connect_to(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* Finds header `name` (case-insensitive) in the header block [h, end) and
 * returns a pointer to its value, or NULL. */
static const char *find_header(const char *h, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = h; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Returns the offset just past a complete chunked body starting at `off`, or
 * 0 when more bytes are needed, or -1 on a malformed body. */
static long chunked_end(const char *b, size_t len, size_t off)
{
    for (;;) {
        const char *crlf = NULL;
        for (size_t i = off; i + 1 < len; i++)
            if (b[i] == '\r' && b[i + 1] == '\n') {
                crlf = b + i;
                break;
            }
        if (crlf == NULL)
            return 0;
        char *endp;
        unsigned long sz = strtoul(b + off, &endp, 16);
        if (endp == b + off)
            return -1;
        size_t data = (size_t)(crlf - b) + 2;
        if (sz == 0) {
            /* trailers end with an empty line */
            for (size_t i = data; i + 1 < len; i++)
                if (b[i] == '\r' && b[i + 1] == '\n') {
                    if (i == data)
                        return (long)(i + 2);
                    data = i + 2;
                }
            return 0;
        }
        if (len < data + sz + 2)
            return 0;
        off = data + sz + 2;
    }
}

/* Sends one request on *fd (reconnecting when needed) and reads the whole
 * response. Returns 0 on a 200 answer, else -1. */
static int do_request(client *c, int *fd, char **buf, size_t *cap)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (*fd < 0) {
            *fd = connect_to(&c->addr);
            if (*fd < 0)
                return -1;
        }
        if (send(*fd, c->request, c->request_len, MSG_NOSIGNAL) != (ssize_t)c->request_len) {
            close(*fd);
            *fd = -1;
            continue;
        }
        size_t len = 0;
        long hdr_end = -1, body_end = -1;
        int chunked = 0, close_after = 0, status = 0;
        for (;;) {
            if (len + 4096 + 1 > *cap) {
                size_t ncap = *cap * 2 + 8192;
                char *nb = realloc(*buf, ncap);
                if (nb == NULL)
                    return -1;
                *buf = nb;
                *cap = ncap;
            }
            ssize_t n = recv(*fd, *buf + len, *cap - len - 1, 0);
            if (n <= 0) {
                close(*fd);
                *fd = -1;
                if (hdr_end >= 0 && body_end < 0 && !chunked && n == 0) {
                    body_end = (long)len; /* read-until-close body */
                    break;
                }
                if (len == 0 && attempt == 0)
                    break; /* stale keep-alive connection: retry once */
                return -1;
            }
            len += (size_t)n;
            (*buf)[len] = '\0';
            if (hdr_end < 0) {
                char *e = strstr(*buf, "\r\n\r\n");
                if (e == NULL)
                    continue;
                hdr_end = (long)(e - *buf) + 4;
                if (sscanf(*buf, "HTTP/1.%*d %d", &status) != 1)
                    return -1;
                const char *v = find_header(*buf, e, "Content-Length");
                if (v != NULL)
                    body_end = hdr_end + strtol(v, NULL, 10);
                v = find_header(*buf, e, "Transfer-Encoding");
                if (v != NULL && strncasecmp(v, "chunked", 7) == 0)
                    chunked = 1, body_end = -1;
                v = find_header(*buf, e, "Connection");
                if (v != NULL && strncasecmp(v, "close", 5) == 0)
                    close_after = 1;
            }
            if (chunked) {
                long end = chunked_end(*buf, len, (size_t)hdr_end);
                if (end < 0)
                    return -1;
                if (end > 0) {
                    body_end = end;
                    break;
                }
            } else if (body_end >= 0 && (long)len >= body_end) {
                break;
            }
        }
        if (body_end < 0)
            continue; /* retrying after a stale connection */
        if (close_after && *fd >= 0) {
            close(*fd);
            *fd = -1;
        }
        return status == 200 ? 0 : -1;
    }
    return -1;
}

static void *client_main(void *arg)
{
    client *c = arg;
    int fd = -1;
    size_t cap = 65536;
    char *buf = malloc(cap);
    if (buf == NULL) {
        c->errors = c->nreq;
        return NULL;
    }
    for (long k = 0; k < c->nreq; k++) {
        int64_t due = c->t0_ns +
                      (int64_t)((double)(k * c->conns + c->index) * c->period_ns);
        struct timespec ts = { (time_t)(due / 1000000000), (long)(due % 1000000000) };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        if (do_request(c, &fd, &buf, &cap) != 0) {
            c->errors++;
            continue;
        }
        int64_t now = bench_ns(CLOCK_MONOTONIC);
        c->lat_ms[c->done++] = (double)(now - due) / 1e6;
        c->last_done_ns = now;
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *path = "/metrics", *name = "http_fixed";
    int port = 0, conns = 4, seconds = 10;
    double rate = 1000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            port = -1;
        else if (strcmp(argv[i], "--host") == 0)
            host = argv[++i];
        else if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rate") == 0)
            rate = atof(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--conns") == 0)
            conns = atoi(argv[++i]);
        else if (strcmp(argv[i], "--path") == 0)
            path = argv[++i];
        else if (strcmp(argv[i], "--name") == 0)
            name = argv[++i];
        else
            port = -1;
        if (port < 0)
            break;
    }
    if (port <= 0 || port > 65535 || rate <= 0 || rate > 1e6 || seconds < 1 ||
        conns < 1 || conns > 256) {
        fprintf(stderr, "usage: bench_http_rate --port P [--host H] [--rate R]"
                        " [--seconds S] [--conns C] [--path P] [--name N]\n");
        return 2;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "bench_http_rate: --host must be an IPv4 address\n");
        return 2;
    }
    char request[512];
    int rlen = snprintf(request, sizeof request,
                        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: bench_http_rate\r\n"
                        "Connection: keep-alive\r\n\r\n", path, host, port);
    if (rlen < 0 || (size_t)rlen >= sizeof request) {
        fprintf(stderr, "bench_http_rate: path too long\n");
        return 2;
    }

    long total = (long)(rate * seconds);
    client *cl = calloc((size_t)conns, sizeof *cl);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    if (cl == NULL || th == NULL)
        return 1;
    int64_t t0 = bench_ns(CLOCK_MONOTONIC) + 100000000; /* start in 100 ms */
    for (int i = 0; i < conns; i++) {
        cl[i].addr = addr;
        cl[i].request = request;
        cl[i].request_len = (size_t)rlen;
        cl[i].index = i;
        cl[i].conns = conns;
        cl[i].t0_ns = t0;
        cl[i].period_ns = 1e9 / rate;
        cl[i].nreq = total / conns + (i < total % conns ? 1 : 0);
        cl[i].lat_ms = calloc((size_t)cl[i].nreq + 1, sizeof(double));
        if (cl[i].lat_ms == NULL || pthread_create(&th[i], NULL, client_main, &cl[i]) != 0) {
            fprintf(stderr, "bench_http_rate: cannot start client %d\n", i);
            return 1;
        }
    }
    double *all = calloc((size_t)total + 1, sizeof *all);
    long n = 0, errors = 0;
    int64_t last = t0;
    for (int i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        for (long k = 0; k < cl[i].done; k++)
            all[n++] = cl[i].lat_ms[k];
        errors += cl[i].errors;
        if (cl[i].last_done_ns > last)
            last = cl[i].last_done_ns;
        free(cl[i].lat_ms);
    }
    double span_s = (double)(last - t0) / 1e9;
    printf("# bench_http_rate: %ld requests scheduled at %.0f/s over %d connections,"
           " %ld ok, %ld errors, %.2f s\n", total, rate, conns, n, errors, span_s);
    char key[160];
#define RESULT(suffix, value)                                     \
    do {                                                          \
        snprintf(key, sizeof key, "%s_%s", name, suffix);         \
        bench_result(key, value);                                 \
    } while (0)
    RESULT("achieved_rps", span_s > 0 ? (double)n / span_s : 0.0);
    RESULT("p50_ms", bench_quantile(all, (size_t)n, 0.50));
    RESULT("p99_ms", bench_quantile(all, (size_t)n, 0.99));
    RESULT("p999_ms", bench_quantile(all, (size_t)n, 0.999));
    RESULT("max_ms", n > 0 ? all[n - 1] : 0.0);
    RESULT("errors", (double)errors);
#undef RESULT
    free(all);
    free(cl);
    free(th);
    return errors == 0 ? 0 : 1;
}
