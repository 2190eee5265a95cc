/*
 * heapserve.c — the agent's /debug/pprof/heap (see heapserve.h).
 *
 * Semantics, after Go's net/http/pprof and runtime/pprof:
 *  - GET /debug/pprof/heap: the newest snapshot of the run's child (else of
 *    any process of the run), symbolized into Function records
 *    (heapexport.c), gzip'd profile.proto, Content-Type
 *    application/octet-stream, Content-Disposition attachment;
 *    filename="heap". Like Go's heap profile, which is as of the last
 *    garbage collection, it is not taken at the request: it is the last
 *    periodic snapshot (at most --heap-interval old). Scrapers (Pyroscope,
 *    Parca) poll every 10-15 s; asking for a snapshot at each would fill
 *    the directory and cut the trend's history short (MEMVIGIL_HEAP_KEEP).
 *    Only when there is no snapshot yet is one asked for.
 *  - ?seconds=N (1..MV_PPROF_MAX_SECONDS): a snapshot now (SIGRTMIN+8
 *    to the child, whose preload writes one), N seconds, a snapshot again,
 *    the second minus the first (cli_pprof_subtract), filename
 *    "heap-delta". Beyond the bound: 400, as Go answers when seconds
 *    exceeds the server's write timeout.
 *  - ?debug=N (N > 0): the legacy text (cli_pprof_text), text/plain.
 *    With seconds: 400, "seconds and debug params are incompatible", as Go.
 *  - ?gc=1: accepted and ignored; a malloc heap has no collector to run.
 *  - No snapshot at all (the program has not allocated through malloc yet,
 *    or is static and the preload is not in it): 404 with the reason.
 * A snapshot is asked for by the signal (through a pidfd, so a reaped
 * child's reused pid is never hit) and waited for (at most
 * FRESH_WAIT_MS) by watching the child's sequence numbers grow; when none
 * comes (the program owns the signal, or it is gone), the newest snapshot
 * there is serves.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heapdir.h"
#include "heapexport.h"
#include "heapserve.h"
#include "pprof.h"
#include "symbolize.h"
#include "util.h"

/* How long a request waits for the snapshot it asked for: the preload's
 * thread writes one in well under a second (tens of ms for a few thousand
 * stacks), so 3 s means it is not coming. */
#define FRESH_WAIT_MS 3000
#define FRESH_POLL_MS 50

struct cli_heapserve {
    char *dir;
    pid_t pid;
    int pidfd;                  /* the child, opened while it cannot have
                                 * been reaped; -1: never signalled */
    pthread_mutex_t lock;       /* sym */
    cli_symbolizer *sym;
};

cli_heapserve *cli_heapserve_new(const char *dir, pid_t pid)
{
    cli_heapserve *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->dir = strdup(dir);
    s->sym = cli_symbolizer_new();
    if (!s->dir || !s->sym) {
        free(s->dir);
        cli_symbolizer_free(s->sym);
        free(s);
        return NULL;
    }
    s->pid = pid;
    /* Signalled through a pidfd: once the child is reaped its pid may name
     * another process, which a plain kill() would hit (SIGRTMIN+8's default
     * action terminates). Without pidfds (Linux < 5.3) no snapshot is asked
     * for; the newest there is serves. */
    s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void cli_heapserve_free(cli_heapserve *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    if (s->pidfd >= 0)
        close(s->pidfd);
    cli_symbolizer_free(s->sym);
    free(s->dir);
    free(s);
}

/* ---- the newest snapshot ---- */

typedef struct newest {
    char path[4096];            /* "" when none */
    uint64_t child_seq;         /* the child's highest sequence, 0 = none */
} newest;

/* The child's newest snapshot, else the newest (by mtime) of any pid. */
static void find_newest(const cli_heapserve *s, newest *n)
{
    char other[4096] = "";
    struct timespec other_t = {0, 0};
    DIR *d = opendir(s->dir);
    struct dirent *e;

    n->path[0] = '\0';
    n->child_seq = 0;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        int32_t pid;
        uint64_t seq;
        char path[4096];
        struct stat st;

        if (cli_heapdir_parse_name(e->d_name, &pid, &seq) != 0)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name) >=
            (int)sizeof path)
            continue;
        if (pid == (int32_t)s->pid) {
            if (seq > n->child_seq) {
                n->child_seq = seq;
                mv__strlcpy(n->path, path, sizeof n->path);
            }
            continue;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!other[0] || st.st_mtim.tv_sec > other_t.tv_sec ||
            (st.st_mtim.tv_sec == other_t.tv_sec &&
             st.st_mtim.tv_nsec > other_t.tv_nsec)) {
            other_t = st.st_mtim;
            mv__strlcpy(other, path, sizeof other);
        }
    }
    closedir(d);
    if (!n->path[0])
        mv__strlcpy(n->path, other, sizeof n->path);
}

/* Asks the child for a snapshot and waits for it (see the top). n gets the
 * newest then. 0, or -ECANCELED when the endpoint stops meanwhile. */
static int fresh(const cli_heapserve *s, const mv_http_request *req,
                 newest *n)
{
    uint64_t before;
    int waited;

    find_newest(s, n);
    before = n->child_seq;
    if (s->pidfd < 0 ||
        syscall(SYS_pidfd_send_signal, s->pidfd, SIGRTMIN + 8, NULL, 0) != 0)
        return 0;   /* gone (or no pidfd): the newest there is */
    for (waited = 0; waited < FRESH_WAIT_MS; waited += FRESH_POLL_MS) {
        if (mv_http_request_wait(req, FRESH_POLL_MS) != 0)
            return -ECANCELED;
        find_newest(s, n);
        if (n->child_seq > before)
            return 0;
    }
    return 0;
}

/* ---- the request ---- */

static int say(mv_http_reply *reply, int status, const char *text)
{
    reply->status = status;
    return mv_buf_append(&reply->body, text, strlen(text));
}

/* Loads path into p, saying why in reply on failure. 0, 1 (answered),
 * or -errno. */
static int load(const char *path, cli_pprof *p, mv_http_reply *reply)
{
    int rc = cli_pprof_load(path, p);
    char msg[4400];

    if (rc == 0)
        return 0;
    snprintf(msg, sizeof msg,
             "internal error: cannot read the snapshot %s: %s\n", path,
             cli_pprof_strerror(rc));
    reply->status = 500;
    return mv_buf_append(&reply->body, msg, strlen(msg)) ? -ENOMEM : 1;
}

static int no_snapshot(const cli_heapserve *s, mv_http_reply *reply)
{
    char msg[4400];

    snprintf(msg, sizeof msg,
             "not found: no heap snapshot in %s yet (the program has not "
             "allocated through malloc since it started, or the heap "
             "profiler is not loaded in it: a statically linked program "
             "cannot be profiled with LD_PRELOAD)\n", s->dir);
    return say(reply, 404, msg);
}

/* The delta profile of ?seconds=secs into *out. 0, 1 (answered) or
 * -errno. */
static int take_delta(const cli_heapserve *s, const mv_http_request *req,
                      long secs, cli_pprof *out, mv_http_reply *reply)
{
    cli_pprof a;
    newest n;
    int rc;

    memset(&a, 0, sizeof a);
    if (fresh(s, req, &n) != 0)
        return say(reply, 503, "service unavailable: the endpoint is "
                   "stopping\n") ? -ENOMEM : 1;
    if (!n.path[0])
        return no_snapshot(s, reply) ? -ENOMEM : 1;
    if ((rc = load(n.path, &a, reply)) != 0)
        return rc;
    if (mv_http_request_wait(req, (int64_t)secs * 1000) != 0 ||
        fresh(s, req, &n) != 0) {
        cli_pprof_release(&a);
        return say(reply, 503, "service unavailable: the endpoint is "
                   "stopping\n") ? -ENOMEM : 1;
    }
    rc = load(n.path, out, reply);
    if (rc == 0) {
        rc = cli_pprof_subtract(out, &a);
        if (rc)
            cli_pprof_release(out);
    }
    cli_pprof_release(&a);
    return rc;
}

static int handle(void *ctx, const mv_http_request *req, mv_http_reply *reply)
{
    cli_heapserve *s = ctx;
    cli_pprof p;
    newest n;
    long secs, debug;
    int rc;

    if (mv_http_request_count(req, "seconds", LONG_MAX / 10, &secs) != 0)
        return say(reply, 400, "bad request: seconds must be a whole number "
                   "of seconds\n");
    if (secs > MV_PPROF_MAX_SECONDS) {
        char msg[160];
        snprintf(msg, sizeof msg, "bad request: profile duration %ld s "
                 "exceeds the server's limit of %d s\n", secs,
                 MV_PPROF_MAX_SECONDS);
        return say(reply, 400, msg);
    }
    if (mv_http_request_count(req, "debug", 1000, &debug) != 0)
        return say(reply, 400, "bad request: debug must be a number\n");
    if (secs > 0 && debug > 0)
        return say(reply, 400, "bad request: seconds and debug params are "
                   "incompatible\n");
    memset(&p, 0, sizeof p);
    if (secs > 0) {
        rc = take_delta(s, req, secs, &p, reply);
    } else {
        find_newest(s, &n);
        if (!n.path[0] && fresh(s, req, &n) != 0)
            return say(reply, 503, "service unavailable: the endpoint is "
                       "stopping\n");
        if (!n.path[0])
            return no_snapshot(s, reply);
        rc = load(n.path, &p, reply);
    }
    if (rc)
        return rc < 0 ? rc : 0;
    pthread_mutex_lock(&s->lock);
    if (debug > 0) {
        rc = cli_pprof_symbolize(&p, cli_symbolize, s->sym);
        if (!rc)
            rc = cli_pprof_text(&p, &reply->body);
        reply->content_type = "text/plain; charset=utf-8";
    } else {
        rc = cli_heap_export(&p, s->sym, &reply->body);
        reply->content_type = "application/octet-stream";
        reply->filename = secs > 0 ? "heap-delta" : "heap";
    }
    pthread_mutex_unlock(&s->lock);
    cli_pprof_release(&p);
    return rc;
}

mv_http_route cli_heapserve_route(cli_heapserve *s)
{
    mv_http_route r = {"/debug/pprof/heap", handle, s, 0};
    return r;
}
