/*
 * monitor_heap.c — the library's own /debug/pprof/heap: the heap profile
 * of this process when libmemvigil_heap.so is preloaded into it.
 *
 * The library has no link-time dependency on the preload: it looks up the
 * preload's one exported function, mv_heap_pprof_take (src/heap/snapshot.c),
 * with dlsym at request time, and serves what it returns (profile.proto,
 * address-only: the preload does not symbolize inside its host, and the
 * library does not either; go tool pprof symbolizes from the local binary,
 * `memvigil heap symbolize` makes a profile that stands alone). Without the
 * preload, or when the monitor watches another process, the answer is a 404
 * that says so. ?seconds=N is Go's delta: the preload marks every stack's
 * values (mv_heap_pprof_mark), N seconds pass, and it writes the profile
 * minus the mark (mv_heap_pprof_take_since). ?debug=1 needs symbolized
 * frames and is answered 400 here; `memvigil run --heap` serves it
 * (docs/heap.md).
 *
 * go tool pprof symbolizes a fetched profile with the local binaries, then
 * asks the server's /debug/pprof/symbol for the mappings it could not
 * (a libc without debug info), and gives up with an error when that route
 * is missing. So it is served too, as Go's net/http/pprof does with
 * runtime.FuncForPC: here dladdr names what the dynamic symbol tables hold
 * (exported functions; a static function stays unnamed, as the local pass
 * already named it when the binary has symbols).
 *
 * Thread-safety: the handler runs on the endpoint's worker threads
 * (http_route.c), any number at once; it reads only the monitor's
 * immutable target (pids, cgroup) and the preload's locked snapshot.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "util.h"

typedef int (*take_fn)(void **data, size_t *len);
typedef struct mv_heap_mark mv_heap_mark;
typedef int (*mark_fn)(mv_heap_mark **out);
typedef int (*since_fn)(const mv_heap_mark *mark, void **data, size_t *len);

static int say(mv_http_reply *reply, int status, const char *text)
{
    reply->status = status;
    return mv__buf_puts(&reply->body, text);
}

/* 1 when the monitor's target is this process alone. */
static int watches_self(const mv_monitor *m)
{
    return !m->cfg.cgroup && m->npids == 1 && m->pids[0] == (int32_t)getpid();
}

int mv__monitor_heap_pprof(void *ctx, const mv_http_request *req,
                           mv_http_reply *reply)
{
    const mv_monitor *m = ctx;
    take_fn take;
    void *data = NULL;
    size_t len = 0;
    long secs, debug;
    int rc;

    if (!watches_self(m))
        return say(reply, 404,
                   "not found: this monitor watches another process; its heap "
                   "profile is served by `memvigil run --heap` or by the "
                   "process's own endpoint\n");
    *(void **)&take = dlsym(RTLD_DEFAULT, "mv_heap_pprof_take");
    if (!take)
        return say(reply, 404,
                   "not found: no heap profiler is active in this process "
                   "(start it with LD_PRELOAD=libmemvigil_heap.so "
                   "MEMVIGIL_HEAP=1, or use `memvigil run --heap`)\n");
    rc = mv_http_request_count(req, "seconds", LONG_MAX / 10, &secs);
    if (rc == 0)
        rc = mv_http_request_count(req, "debug", 1000, &debug);
    if (rc)
        return say(reply, 400, "bad request: seconds and debug must be whole "
                   "numbers\n");
    if (secs > MV_PPROF_MAX_SECONDS) {
        char msg[160];
        snprintf(msg, sizeof msg, "bad request: profile duration %ld s "
                 "exceeds the server's limit of %d s\n", secs,
                 MV_PPROF_MAX_SECONDS);
        return say(reply, 400, msg);
    }
    if (secs > 0 && debug > 0)
        return say(reply, 400, "bad request: seconds and debug params are "
                   "incompatible\n");
    if (debug > 0)
        return say(reply, 400,
                   "bad request: the embedded endpoint serves the binary "
                   "profile only (go tool pprof symbolizes it); ?debug=1 is "
                   "served by `memvigil run --heap`\n");
    if (secs > 0) {
        mark_fn mark;
        since_fn since;
        mv_heap_mark *m0 = NULL;
        *(void **)&mark = dlsym(RTLD_DEFAULT, "mv_heap_pprof_mark");
        *(void **)&since = dlsym(RTLD_DEFAULT, "mv_heap_pprof_take_since");
        if (!mark || !since)
            return say(reply, 404, "not found: this heap profiler has no "
                       "delta profiles (an older libmemvigil_heap.so)\n");
        rc = mark(&m0);
        if (rc == 0) {
            if (mv_http_request_wait(req, (int64_t)secs * 1000) != 0) {
                free(m0);
                return say(reply, 503, "service unavailable: the endpoint "
                           "is stopping\n");
            }
            rc = since(m0, &data, &len);
            free(m0);
        }
    } else {
        rc = take(&data, &len);
    }
    if (rc == -ENODEV || rc == -ENODATA)
        return say(reply, 404,
                   rc == -ENODEV
                       ? "not found: the heap profiler is loaded but inert in "
                         "this process (setuid, or not initialised)\n"
                       : "not found: the heap profiler is loaded but sampling "
                         "is off (MEMVIGIL_HEAP=1, or send SIGRTMIN+9)\n");
    if (rc < 0)
        return rc;
    rc = mv__buf_append(&reply->body, data, len);
    free(data);
    if (rc)
        return rc;
    reply->content_type = "application/octet-stream";
    reply->filename = secs > 0 ? "heap-delta" : "heap";
    return 0;
}

int mv__monitor_pprof_symbol(void *ctx, const mv_http_request *req,
                             mv_http_reply *reply)
{
    const mv_monitor *m = ctx;
    size_t len, i = 0;
    const char *body = mv_http_request_body(req, &len);
    int rc;

    /* another process's addresses mean nothing here: no symbols, which
     * pprof takes without an error (a 404 would stop it) */
    if (!watches_self(m))
        return mv__buf_puts(&reply->body, "num_symbols: 0\n");
    /* pprof only cares whether the count is 0; Go prints 1 too */
    rc = mv__buf_puts(&reply->body, "num_symbols: 1\n");
    while (!rc && i < len) {
        char word[32];
        size_t n = 0;
        Dl_info info;
        uint64_t pc;
        char *end;

        while (i < len && body[i] != '+' && n < sizeof word - 1)
            word[n++] = body[i++];
        while (i < len && body[i] != '+')
            i++;            /* a word too long for an address: dropped */
        i++;
        word[n] = '\0';
        pc = strtoull(word, &end, 0);
        if (end == word || *end || pc == 0)
            continue;
        if (dladdr((void *)(uintptr_t)pc, &info) && info.dli_sname)
            rc = mv__buf_printf(&reply->body, "0x%" PRIx64 " %s\n", pc,
                                info.dli_sname);
    }
    return rc;
}
