/*
 * test_cli_kubelet.c — kubelet names (src/cli/agent/kubelet*.c): the index
 * parsed from a recorded kubelet /pods document (tests/fixtures/kubelet/
 * pods.json, written after the Kubernetes PodList schema), garbage and
 * oversized documents, and the client against a small real HTTP server
 * run by this test on 127.0.0.1 (a thread; libcurl talks to it over TCP):
 * names resolve, the bearer token is sent, and with the server answering
 * garbage, an HTTP error, hanging past the timeout or gone, lookups keep
 * the last good names (or IDs when none ever resolved) and one clear
 * message is given per spell; and over https against python3's server
 * with a certificate made by openssl (CA file, insecure TLS).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kubelet.h"
#include "util.h"

#define WEB_ID "9c1f0e2d3b4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
#define WEB_UID "6b1d2c3e-0f4a-4b5c-8d9e-a1b2c3d4e5f6"

static char *read_fixture(size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/kubelet/pods.json", MV_FIXTURES);
    mv_buf b = {0};
    ssize_t r = mv__read_file(path, &b, 1 << 20);
    assert_true(r > 0);
    *len = b.len;
    return b.data;
}

/* ---- the index ---- */

static void test_index_fixture(void **state)
{
    (void)state;
    size_t len;
    char *doc = read_fixture(&len);
    char err[200];
    cli_kubelet_index *ix = NULL;
    assert_int_equal(cli_kubelet_index_parse(doc, len, &ix, err, sizeof err), 0);
    free(doc);
    assert_int_equal(cli_kubelet_index_pods(ix), 4);
    /* web pod: init, sidecar, web (current + the OOM-killed previous one),
     * ephemeral; batch: 1; apiserver: 1; pending: none (waiting) */
    assert_int_equal(cli_kubelet_index_containers(ix), 7);
    assert_int_equal(cli_kubelet_index_dropped(ix), 0);

    cli_kubelet_names n;
    assert_int_equal(cli_kubelet_index_container(ix, "containerd://" WEB_ID, &n), 0);
    assert_string_equal(n.ns, "shop");
    assert_string_equal(n.pod, "web-7d4b9c8f6-x2x9k");
    assert_string_equal(n.container, "web");
    assert_string_equal(n.pod_uid, WEB_UID);
    assert_string_equal(n.qos, "Burstable");
    assert_int_equal(cli_kubelet_index_container(ix, WEB_ID, &n), 0);  /* bare */
    assert_string_equal(n.container, "web");
    /* the container before the restart (lastState.terminated) */
    assert_int_equal(cli_kubelet_index_container(ix,
        "8888888888888888888888888888888888888888888888888888888888888888", &n), 0);
    assert_string_equal(n.container, "web");
    assert_int_equal(cli_kubelet_index_container(ix,
        "1111111111111111111111111111111111111111111111111111111111111111", &n), 0);
    assert_string_equal(n.container, "migrate");
    assert_int_equal(cli_kubelet_index_container(ix,
        "3333333333333333333333333333333333333333333333333333333333333333", &n), 0);
    assert_string_equal(n.container, "debugger-x7k2p");
    assert_int_equal(cli_kubelet_index_container(ix,
        "cri-o://4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796", &n), 0);
    assert_string_equal(n.ns, "jobs");
    assert_string_equal(n.container, "worker");
    assert_string_equal(n.qos, "BestEffort");
    assert_int_equal(cli_kubelet_index_container(ix,
        "e7d6c5b4a3928170f6e5d4c3b2a19080e7d6c5b4a3928170f6e5d4c3b2a19080", &n), 0);
    assert_string_equal(n.pod, "kube-apiserver-node-a");
    assert_string_equal(n.qos, "Guaranteed");
    assert_int_equal(cli_kubelet_index_container(ix, "ffff", &n), -ENOENT);
    assert_int_equal(cli_kubelet_index_container(ix, "", &n), -ENOENT);

    /* by pod UID, as the cgroupfs driver (dashes) and systemd ('_') spell it */
    assert_int_equal(cli_kubelet_index_pod(ix, WEB_UID, &n), 0);
    assert_string_equal(n.pod, "web-7d4b9c8f6-x2x9k");
    assert_string_equal(n.container, "");
    assert_int_equal(cli_kubelet_index_pod(ix, "6b1d2c3e_0f4a_4b5c_8d9e_a1b2c3d4e5f6", &n), 0);
    assert_string_equal(n.ns, "shop");
    assert_int_equal(cli_kubelet_index_pod(ix, "dddddddd-0000-4000-8000-000000000001", &n), 0);
    assert_string_equal(n.pod, "pending-0");
    assert_int_equal(cli_kubelet_index_pod(ix, "00000000-0000-0000-0000-000000000000", &n), -ENOENT);
    cli_kubelet_index_free(ix);
    cli_kubelet_index_free(NULL);
}

static void test_index_garbage(void **state)
{
    (void)state;
    char err[200];
    cli_kubelet_index *ix = (cli_kubelet_index *)1;
    static const char *bad[] = { "", "not json", "[]", "{}", "{\"items\":5}",
                                 "{\"items\":[", "\xff\xfe" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(cli_kubelet_index_parse(bad[i], strlen(bad[i]), &ix, err,
                                                 sizeof err), -EINVAL);
        assert_null(ix);
        assert_true(err[0] != '\0');
    }
    /* a torn document: the first half of the fixture */
    size_t len;
    char *doc = read_fixture(&len);
    assert_int_equal(cli_kubelet_index_parse(doc, len / 2, &ix, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "not JSON"));
    free(doc);
    /* pods without any container yet (all waiting) */
    const char *bare = "{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"p\"}},"
                       "{\"metadata\":{\"uid\":\"v\",\"name\":\"q\"}}]}";
    assert_int_equal(cli_kubelet_index_parse(bare, strlen(bare), &ix, err, sizeof err), 0);
    assert_int_equal(cli_kubelet_index_pods(ix), 2);
    assert_int_equal(cli_kubelet_index_containers(ix), 0);
    cli_kubelet_names none;
    assert_int_equal(cli_kubelet_index_container(ix, "ab", &none), -ENOENT);
    assert_int_equal(cli_kubelet_index_pod(ix, "v", &none), 0);
    assert_string_equal(none.pod, "q");
    cli_kubelet_index_free(ix);
    /* wrong types inside are skipped, not fatal */
    const char *odd = "{\"items\":[1,\"x\",{\"metadata\":5},"
                      "{\"metadata\":{\"uid\":7,\"name\":\"a\"}},"
                      "{\"metadata\":{\"uid\":\"u1\",\"name\":\"p\"},"
                      " \"status\":{\"qosClass\":3,\"containerStatuses\":"
                      "[5,{\"name\":\"c\",\"containerID\":9},"
                      " {\"name\":\"c\",\"containerID\":\"containerd://\"},"
                      " {\"name\":\"d\",\"containerID\":\"docker://ab\"}]}}]}";
    assert_int_equal(cli_kubelet_index_parse(odd, strlen(odd), &ix, err, sizeof err), 0);
    assert_int_equal(cli_kubelet_index_pods(ix), 1);
    assert_int_equal(cli_kubelet_index_containers(ix), 1);
    cli_kubelet_names n;
    assert_int_equal(cli_kubelet_index_container(ix, "ab", &n), 0);
    assert_string_equal(n.qos, "");
    assert_string_equal(n.ns, "");
    cli_kubelet_index_free(ix);
}

/* More pods than the cap: the rest is left out and counted. */
static void test_index_caps(void **state)
{
    (void)state;
    mv_buf b = {0};
    size_t total = CLI_KUBELET_MAX_PODS + 52;
    assert_int_equal(mv__buf_puts(&b, "{\"items\":["), 0);
    for (size_t i = 0; i < total; i++)
        assert_int_equal(mv__buf_printf(&b, "%s{\"metadata\":{\"uid\":\"uid-%zu\","
                                        "\"name\":\"p%zu\",\"namespace\":\"n\"},"
                                        "\"status\":{\"containerStatuses\":[{\"name\":"
                                        "\"c\",\"containerID\":\"containerd://id%zu\"}]}}",
                                        i ? "," : "", i, i, i), 0);
    assert_int_equal(mv__buf_puts(&b, "]}"), 0);
    cli_kubelet_index *ix;
    char err[200];
    assert_int_equal(cli_kubelet_index_parse(b.data, b.len, &ix, err, sizeof err), 0);
    assert_int_equal(cli_kubelet_index_pods(ix), CLI_KUBELET_MAX_PODS);
    assert_int_equal(cli_kubelet_index_dropped(ix), 52);
    cli_kubelet_names n;
    assert_int_equal(cli_kubelet_index_container(ix, "id2047", &n), 0);
    assert_string_equal(n.pod, "p2047");
    assert_int_equal(cli_kubelet_index_container(ix, "id2048", &n), -ENOENT);
    cli_kubelet_index_free(ix);
    mv_buf_release(&b);
}

/* ---- a small real HTTP server ---- */

enum mode { SERVE, GARBAGE, STATUS_500, HANG };

typedef struct server {
    int fd;                      /* listening socket; -1 once down */
    int port;
    int stop[2];                 /* pipe: a byte stops the thread */
    pthread_t thread;
    pthread_mutex_t lock;
    enum mode mode;
    const char *token;           /* required bearer token; NULL = none */
    char *doc;                   /* the /pods document */
    size_t doc_len;
    int requests;
    char last_auth[256];
} server;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int status, const char *type, const char *body, size_t n)
{
    char head[256];
    int h = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, n);
    send_all(fd, head, (size_t)h);
    send_all(fd, body, n);
}

static void serve_one(server *s, int c)
{
    char req[8192];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t r = recv(c, req + got, sizeof req - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[got] = '\0';
    pthread_mutex_lock(&s->lock);
    enum mode mode = s->mode;
    const char *token = s->token;
    s->requests++;
    const char *a = strstr(req, "Authorization: ");
    s->last_auth[0] = '\0';
    if (a)
        snprintf(s->last_auth, sizeof s->last_auth, "%.*s",
                 (int)strcspn(a + 15, "\r\n"), a + 15);
    char auth[256];
    snprintf(auth, sizeof auth, "%s", s->last_auth);
    pthread_mutex_unlock(&s->lock);

    if (strncmp(req, "GET /pods ", 10) != 0) {
        reply(c, 404, "text/plain", "no\n", 3);
    } else if (token && !(strncmp(auth, "Bearer ", 7) == 0 && strcmp(auth + 7, token) == 0)) {
        reply(c, 401, "text/plain", "Unauthorized\n", 13);
    } else if (mode == SERVE) {
        reply(c, 200, "application/json", s->doc, s->doc_len);
    } else if (mode == GARBAGE) {
        static const char g[] = "<html>502 Bad Gateway</html>\x01\xff";
        reply(c, 200, "application/json", g, sizeof g - 1);
    } else if (mode == STATUS_500) {
        reply(c, 500, "text/plain", "internal error\n", 15);
    } else { /* HANG: say nothing until the client gives up (or we stop) */
        struct pollfd p[2] = { { s->stop[0], POLLIN, 0 }, { c, POLLIN, 0 } };
        (void)poll(p, 2, 10000);
    }
    close(c);
}

static void *server_main(void *arg)
{
    server *s = arg;
    for (;;) {
        struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int c = accept(s->fd, NULL, NULL);
            if (c >= 0)
                serve_one(s, c);
        }
    }
    return NULL;
}

static void server_start(server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->doc = read_fixture(&s->doc_len);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_set(server *s, enum mode m)
{
    pthread_mutex_lock(&s->lock);
    s->mode = m;
    pthread_mutex_unlock(&s->lock);
}

/* Stops the thread and closes the socket: the port refuses from now on. */
static void server_down(server *s)
{
    if (s->fd < 0)
        return;
    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    s->fd = -1;
}

static void server_free(server *s)
{
    server_down(s);
    close(s->stop[0]);
    close(s->stop[1]);
    free(s->doc);
    pthread_mutex_destroy(&s->lock);
}

static int message(cli_kubelet *k, char *buf, size_t n)
{
    buf[0] = '\0';
    return cli_kubelet_take_message(k, buf, n);
}

/* Names resolve through a real HTTP exchange with a bearer token; then the
 * server answers garbage, 500, hangs past the timeout and goes down: the
 * names stay, each spell is told once, the recovery is told. */
static void test_client_keeps_last_good(void **state)
{
    (void)state;
    server s;
    server_start(&s);
    char dir[] = "/tmp/mv-test-kubelet-XXXXXX", tok[256], url[64], msg[600];
    assert_non_null(mkdtemp(dir));
    snprintf(tok, sizeof tok, "%s/token", dir);
    FILE *f = fopen(tok, "w");
    assert_non_null(f);
    fputs("s3cr3t-token\n", f);
    fclose(f);
    s.token = "s3cr3t-token";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);

    cli_kubelet_opts o;
    cli_kubelet_opts_init(&o);
    o.url = url;
    o.token_file = tok;   /* over http here: the option check refuses it,
                             the client itself does as told */
    o.timeout_ms = 400;
    o.refresh_ms = 60000;
    cli_kubelet *k = cli_kubelet_new(&o);
    assert_non_null(k);
    cli_kubelet_names n;
    int64_t t = 1000000;

    assert_int_equal(cli_kubelet_refresh(k, t), 1);
    assert_string_equal(s.last_auth, "Bearer s3cr3t-token");
    assert_int_equal(cli_kubelet_lookup_container(k, "containerd://" WEB_ID, &n), 0);
    assert_string_equal(n.pod, "web-7d4b9c8f6-x2x9k");
    assert_string_equal(n.container, "web");
    assert_int_equal(message(k, msg, sizeof msg), 0);
    assert_int_equal(cli_kubelet_refresh(k, t + 1000), 0);  /* not due */
    assert_int_equal(s.requests, 1);

    /* garbage: the last good names stay, one message */
    server_set(&s, GARBAGE);
    t += 60000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "/pods: the answer is not JSON"));
    assert_non_null(strstr(msg, "keeping the names read 60s ago"));
    assert_int_equal(cli_kubelet_lookup_container(k, WEB_ID, &n), 0);
    assert_string_equal(n.container, "web");
    /* the same cause again: no new message (rate-limited) */
    t += 2000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 0);

    /* an HTTP error: a new cause, told */
    server_set(&s, STATUS_500);
    t += 5000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "HTTP status 500"));

    /* hanging: the request times out (400 ms), names stay */
    server_set(&s, HANG);
    t += 10000;
    int64_t w0 = mv__now_mono_ms();
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    int64_t waited = mv__now_mono_ms() - w0;
    assert_true(waited >= 300 && waited < 3000);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "imed out"));  /* "Operation timed out ..." */
    /* timing out again is the same spell, whatever the milliseconds say */
    t += 10000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 0);
    assert_int_equal(cli_kubelet_lookup_pod(k, WEB_UID, &n), 0);
    assert_string_equal(n.qos, "Burstable");

    /* a wrong token: 401, told with a hint */
    server_set(&s, SERVE);
    f = fopen(tok, "w");
    fputs("wrong\n", f);
    fclose(f);
    t += 60000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "HTTP status 401 (check --kubelet-token-file"));

    /* the token rotated (re-read at each fetch): recovery, told */
    f = fopen(tok, "w");
    fputs("s3cr3t-token", f);
    fclose(f);
    t += 60000;
    assert_int_equal(cli_kubelet_refresh(k, t), 1);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "answers again: 4 pods, 7 containers named"));

    /* down: connection refused, names stay */
    server_down(&s);
    t += 60000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "keeping the names"));
    assert_int_equal(cli_kubelet_lookup_container(k, WEB_ID, &n), 0);
    uint64_t fetches, failures;
    cli_kubelet_counts(k, &fetches, &failures);
    assert_true(failures >= 5 && fetches > failures);

    cli_kubelet_free(k);
    server_free(&s);
    unlink(tok);
    rmdir(dir);
}

/* A kubelet that never answered: IDs only, said so; a miss brings the next
 * fetch forward (a new container gets its name within seconds). */
static void test_client_never_answered(void **state)
{
    (void)state;
    server s;
    server_start(&s);
    char url[64], msg[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    server_set(&s, GARBAGE);
    cli_kubelet_opts o;
    cli_kubelet_opts_init(&o);
    o.url = url;
    o.timeout_ms = 400;
    cli_kubelet *k = cli_kubelet_new(&o);
    cli_kubelet_names n;
    int64_t t = 5000;
    assert_int_equal(cli_kubelet_refresh(k, t), 0);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "containers are named by their IDs until it answers"));
    assert_int_equal(cli_kubelet_lookup_container(k, WEB_ID, &n), -ENOENT);

    /* the server comes back: the backoff (1 s) lets the next try through */
    server_set(&s, SERVE);
    assert_int_equal(cli_kubelet_refresh(k, t + 500), 0);  /* backing off */
    assert_int_equal(cli_kubelet_refresh(k, t + 1000), 1);
    assert_int_equal(cli_kubelet_lookup_container(k, WEB_ID, &n), 0);

    /* a miss brings the next fetch forward, but not closer than 5 s */
    t += 1000;
    int before = s.requests;
    assert_int_equal(cli_kubelet_lookup_container(k, "feedface", &n), -ENOENT);
    assert_int_equal(cli_kubelet_refresh(k, t + 2000), 0);
    assert_int_equal(s.requests, before);
    assert_int_equal(cli_kubelet_refresh(k, t + 5000), 1);
    assert_int_equal(s.requests, before + 1);
    cli_kubelet_free(k);
    server_free(&s);
}

/* ---- https: a real TLS server (python3's http.server over ssl, with a
 * certificate openssl makes for 127.0.0.1) ---- */

static const char tls_server_py[] =
    "import functools, http.server, os, ssl, sys, threading\n"
    "threading.Timer(60, os._exit, [0]).start()  # never outlives a failed test\n"
    "d, cert, key = sys.argv[1:4]\n"
    "h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), h)\n"
    "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "c.load_cert_chain(cert, key)\n"
    "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

/* The certificate's own file is the CA bundle that verifies it; without
 * it the check fails with a clear message; --kubelet-insecure-tls skips
 * the check; the bearer token goes over TLS. */
static void test_client_https(void **state)
{
    (void)state;
    if (system("command -v openssl >/dev/null && command -v python3 >/dev/null") != 0)
        skip();
    char dir[] = "/tmp/mv-test-kubelet-tls-XXXXXX", cmd[2048], path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout key.pem -out cert.pem >/dev/null 2>&1 && cp %s/kubelet/pods.json pods "
             "&& echo tok > token", dir, MV_FIXTURES);
    if (system(cmd) != 0)
        skip();  /* an openssl without -addext (< 1.1.1) */
    snprintf(path, sizeof path, "%s/server.py", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(tls_server_py, f);
    fclose(f);
    char cert[320], key[320];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t srv = fork();
    assert_true(srv >= 0);
    if (srv == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execlp("python3", "python3", path, dir, cert, key, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *srv_out = fdopen(out[0], "r");
    assert_non_null(srv_out);
    int port = 0;
    assert_int_equal(fscanf(srv_out, "%d", &port), 1);

    char url[64], tok[320], msg[600];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    snprintf(tok, sizeof tok, "%s/token", dir);
    cli_kubelet_opts o;
    cli_kubelet_opts_init(&o);
    o.url = url;
    o.token_file = tok;
    o.ca_file = cert;
    o.timeout_ms = 5000;
    assert_int_equal(cli_kubelet_opts_check(&o, "watch"), 0);
    cli_kubelet_names n;

    cli_kubelet *k = cli_kubelet_new(&o);
    assert_int_equal(cli_kubelet_refresh(k, 1000), 1);
    assert_int_equal(cli_kubelet_lookup_container(k, WEB_ID, &n), 0);
    assert_string_equal(n.ns, "shop");
    cli_kubelet_free(k);

    o.ca_file = NULL;  /* the system's CAs do not know this certificate */
    k = cli_kubelet_new(&o);
    assert_int_equal(cli_kubelet_refresh(k, 1000), 0);
    assert_int_equal(message(k, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "certificate"));
    assert_non_null(strstr(msg, "named by their IDs"));
    cli_kubelet_free(k);

    o.insecure_tls = 1;
    k = cli_kubelet_new(&o);
    assert_int_equal(cli_kubelet_refresh(k, 1000), 1);
    assert_int_equal(cli_kubelet_lookup_pod(k, WEB_UID, &n), 0);
    cli_kubelet_free(k);

    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    fclose(srv_out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_opts(void **state)
{
    (void)state;
    cli_kubelet_opts o;
    cli_kubelet_opts_init(&o);
    assert_int_equal(cli_kubelet_opts_parse(&o, "watch", CLI_OPT_KUBELET, "ftp://x"), CLI_EXIT_USAGE);
    assert_int_equal(cli_kubelet_opts_parse(&o, "watch", CLI_OPT_KUBELET,
                                            "https://127.0.0.1:10250"), 1);
    assert_int_equal(cli_kubelet_opts_parse(&o, "watch", CLI_OPT_KUBELET_TOKEN_FILE, "/t"), 1);
    assert_int_equal(cli_kubelet_opts_parse(&o, "watch", CLI_OPT_KUBELET_CA_FILE, "/ca"), 1);
    assert_int_equal(cli_kubelet_opts_parse(&o, "watch", 'x', NULL), 0);
    assert_int_equal(cli_kubelet_opts_check(&o, "watch"), 0);
    assert_int_equal(cli_kubelet_opts_parse(&o, "watch", CLI_OPT_KUBELET_INSECURE_TLS, NULL), 1);
    assert_int_equal(cli_kubelet_opts_check(&o, "watch"), CLI_EXIT_USAGE); /* + CA */
    cli_kubelet_opts_init(&o);
    o.url = "http://127.0.0.1:10255";
    o.token_file = "/t";
    assert_int_equal(cli_kubelet_opts_check(&o, "watch"), CLI_EXIT_USAGE); /* token in clear */
    cli_kubelet_opts_init(&o);
    o.ca_file = "/ca";
    assert_int_equal(cli_kubelet_opts_check(&o, "watch"), CLI_EXIT_USAGE); /* no URL */
    assert_null(cli_kubelet_new(&o));
    assert_non_null(strstr(cli_kubelet_options_help, "--kubelet-insecure-tls"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_fixture),
        cmocka_unit_test(test_index_garbage),
        cmocka_unit_test(test_index_caps),
        cmocka_unit_test(test_client_keeps_last_good),
        cmocka_unit_test(test_client_never_answered),
        cmocka_unit_test(test_client_https),
        cmocka_unit_test(test_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
