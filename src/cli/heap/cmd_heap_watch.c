/*
 * cmd_heap_watch.c — `memvigil heap watch --url URL`: poll a pprof heap
 * endpoint (Go's net/http/pprof first: a Go heap is invisible to an
 * LD_PRELOAD) and rank the call sites whose live bytes keep growing, with
 * the events and metrics `run --heap` gives for the preload.
 *
 * Design:
 *  - Each answer is checked (a pprof profile with inuse_space) and kept as
 *    a snapshot heap-<our pid>-<seq>.pb.gz in the heap directory
 *    (heapurl.c), then followed by the very code that follows the
 *    preload's directory (heapwatch.c: heapdir, heaptrend, announce,
 *    mv_heap_sites_set). One trend path; `heap top DIR` works afterwards.
 *  - Polls start fast and back off (0, 1, 2, 4 ... s up to the interval),
 *    as the preload's snapshots do, so a short watch still has a trend.
 *  - An answer with the same samples as the last one kept is not kept
 *    again (see poll_once).
 *  - A failed fetch (unreachable, timeout, HTTP error, not a heap profile)
 *    is said once per distinct cause; the last data stay and polling goes
 *    on. The directory keeps CLI_HEAPTREND_WINDOW snapshots, the trend's
 *    own window, so disk use is bounded.
 *  - With --listen, a monitor serves /metrics (memvigil_heap_site_*). Its
 *    sampled target is memvigil itself: the watched service may be on
 *    another host, so its memory is not ours to read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "heapdir.h"
#include "heapurl.h"
#include "util.h"

/* The poll interval when none is given: the preload's default snapshot
 * interval (`run --heap`), and a usual Pyroscope/Parca scrape period. */
#define DEFAULT_INTERVAL_MS 60000
/* A token file is one line; more is not a token. */
#define MAX_TOKEN_BYTES 4096

/* Reads the first line of path into tok. 0 or CLI_EXIT_ERROR (said). */
static int read_token(const char *path, char *tok, size_t n)
{
    uint64_t size = 0;
    int fd = cli_open_regular(path, &size);
    ssize_t r;
    char *nl;

    if (fd < 0) {
        cli_error("heap", "cannot read --bearer-token-file %s: %s", path,
                  fd == -EINVAL ? "not a regular file" : strerror(-fd));
        return CLI_EXIT_ERROR;
    }
    r = read(fd, tok, n - 1);
    close(fd);
    if (r < 0 || size >= n - 1) {
        cli_error("heap", "cannot read --bearer-token-file %s: %s", path,
                  r < 0 ? strerror(errno) : "longer than a token");
        return CLI_EXIT_ERROR;
    }
    tok[r] = '\0';
    nl = strpbrk(tok, "\r\n");
    if (nl)
        *nl = '\0';
    if (!tok[0]) {
        cli_error("heap", "--bearer-token-file %s is empty", path);
        return CLI_EXIT_ERROR;
    }
    return 0;
}

/* Starts the metrics endpoint (o->listen set). 0 or CLI_EXIT_ERROR. */
static int start_endpoint(const cli_heap_watch_opts *o, mv_monitor **m)
{
    mv_config cfg;
    char host[256];
    int port = 0, rc, bound;

    mv_config_init(&cfg);
    cfg.pid = 0; /* memvigil itself: see the design note */
    cfg.http_listen = o->listen;
    cfg.http_token = o->token;
    rc = mv_monitor_start(&cfg, m);
    if (rc != 0) {
        cli_error("heap", "cannot listen on %s: %s", o->listen,
                  mv_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (mv__http_parse_listen(o->listen, host, sizeof host, &port) != 0)
        mv__strlcpy(host, "127.0.0.1", sizeof host);
    bound = mv_monitor_http_port(*m);
    if (bound > 0)
        port = bound;
    fprintf(stderr, "memvigil heap: metrics at http://%s%s%s:%d/metrics\n",
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
            port);
    return 0;
}

/* The snapshot directory (--heap-dir, else ./memvigil-heap-PID), created
 * when missing. */
static int make_dir(const cli_heap_watch_opts *o, char *dir, size_t n)
{
    if (o->dir)
        mv__strlcpy(dir, o->dir, n);
    else
        snprintf(dir, n, "memvigil-heap-%ld", (long)getpid());
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cli_error("heap", "cannot create %s: %s", dir, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    return 0;
}

/* One poll: fetch, check, store. 0 when a snapshot was stored, 1 when
 * the answer holds the same samples as the last one stored (*last_digest:
 * Go's profile is that of the last GC, unchanged until the next one; the
 * same data twice would be two points of one observation and make any
 * wobble look like a trend, so it is not stored); else a negative errno
 * and err says why (the last data stay), *cause which cause it is (for
 * saying each cause once: err's text may vary, see cli_heapurl_fetch). */
static int poll_once(const cli_heap_watch_opts *o, const char *dir,
                     uint64_t seq, uint64_t *last_digest, long *cause,
                     char *err, size_t errlen)
{
    uint8_t *body = NULL;
    size_t n = 0;
    char why[256];
    uint64_t digest = 0;
    int rc = cli_heapurl_fetch(&o->fetch, &body, &n, cause, err, errlen);

    if (rc)
        return rc;
    rc = cli_heapurl_check(body, n, &digest, why, sizeof why);
    *cause = 2000 - rc; /* apart from libcurl's codes and HTTP statuses;
                        * CLI_PPROF_E* go past 60000 */
    if (rc) {
        snprintf(err, errlen, "%s: %s", o->fetch.url, why);
    } else if (seq > 1 && digest == *last_digest) {
        rc = 1;
    } else {
        rc = cli_heapurl_store(dir, (int32_t)getpid(), seq,
                               CLI_HEAPTREND_WINDOW, body, n);
        if (rc) {
            *cause = 100000 - rc;
            snprintf(err, errlen, "cannot write a snapshot in %.512s: %s", dir,
                     strerror(-rc));
        } else {
            *last_digest = digest;
        }
    }
    free(body);
    return rc;
}

int cli_heap_watch(const cli_heap_watch_opts *opts)
{
    cli_heap_watch_opts o = *opts;
    cli_heapwatch w;
    mv_monitor *m = NULL;
    char dir[4096], token[MAX_TOKEN_BYTES], err[1024], last_err[1024] = "";
    int64_t interval = o.interval_ms > 0 ? o.interval_ms : DEFAULT_INTERVAL_MS;
    int64_t delay = 0, deadline = 0, now;
    uint64_t seq = 1, stored = 0, failed = 0, digest = 0;
    long cause = 0, last_cause = -1;
    int polled;
    sigset_t set, oldmask;
    siginfo_t info;
    int rc = CLI_EXIT_OK;

    if (o.token_file) {
        if (read_token(o.token_file, token, sizeof token) != 0)
            return CLI_EXIT_ERROR;
        o.fetch.bearer_token = token;
    }
    if (make_dir(&o, dir, sizeof dir) != 0)
        return CLI_EXIT_ERROR;
    cli_heapwatch_init(&w);
    w.enabled = 1;
    w.json = o.json;
    w.url = o.fetch.url;
    if (cli_heapwatch_follow(&w, dir, (int32_t)getpid(), "heap") != 0)
        return CLI_EXIT_ERROR;
    cli_block_signals(&set, &oldmask, 0);
    signal(SIGPIPE, SIG_IGN);
    if (o.listen && start_endpoint(&o, &m) != 0) {
        cli_heapwatch_release(&w);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        return CLI_EXIT_ERROR;
    }
    fprintf(stderr, "memvigil heap: watching %s, snapshots in %s\n",
            o.fetch.url, dir);
    if (o.duration_ms > 0)
        deadline = mv__now_mono_ms() + o.duration_ms;
    for (;;) {
        polled = poll_once(&o, dir, seq, &digest, &cause, err, sizeof err);
        if (polled >= 0) {
            last_cause = -1;
            if (last_err[0])
                fprintf(stderr, "memvigil heap: %s answers again\n",
                        o.fetch.url);
            last_err[0] = '\0';
        }
        if (polled == 0) {
            seq++;
            stored++;
            cli_heapwatch_tick(&w, m, MV_LEVEL_OK);
        } else if (polled < 0) {
            failed++;
            if (cause != last_cause)
                cli_error("heap", "%s%s", err, stored
                          ? "; keeping the last data, polling on" : "; polling on");
            last_cause = cause;
            mv__strlcpy(last_err, err, sizeof last_err);
        }
        now = mv__now_mono_ms();
        if (deadline && now >= deadline)
            break; /* the poll just made is the last one */
        /* back off: 1, 2, 4 ... s after the first poll, up to interval */
        delay = delay == 0 ? 1000 : delay * 2;
        if (delay > interval)
            delay = interval;
        if (deadline && now + delay > deadline)
            delay = deadline - now;
        if (cli_wait_signal(&set, delay, &info) != 0)
            break;
    }
    if (stored == 0) {
        cli_error("heap", "no heap profile could be fetched from %s (%" PRIu64
                  " attempts; last: %s)", o.fetch.url, failed, last_err);
        rc = CLI_EXIT_ERROR;
    } else {
        cli_heapwatch_finish(&w, m);
    }
    mv_monitor_stop(m);
    cli_heapwatch_release(&w);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    return rc;
}
