/*
 * heapurl.h — fetching a heap profile from a pprof HTTP endpoint (Go's
 * net/http/pprof /debug/pprof/heap, memvigil's own, any producer of
 * profile.proto) and keeping it as a snapshot in a heap directory
 * (heapurl.c), so that heapdir.c, the growth trend and `heap top DIR` read
 * it exactly as they read the preload's snapshots. Used by `memvigil heap
 * watch --url` (cmd_heap_watch.c).
 *
 * Ownership: the caller owns every buffer it passes; cli_heapurl_fetch
 * returns a malloc'ed body the caller frees.
 * Thread-safety: one thread at a time (libcurl's global init is done
 * here, on first use, from the main thread).
 */
#ifndef MV_CLI_HEAPURL_H
#define MV_CLI_HEAPURL_H

#include <stddef.h>
#include <stdint.h>

/* Largest answer accepted: a Go heap profile of a large service is a few
 * MiB gzip'd; 64 MiB leaves room and bounds what a wrong URL (a file
 * server, a stream) can make us hold. Beyond it the fetch fails. */
#define CLI_HEAPURL_MAX_BODY ((size_t)64 << 20)
/* Default time allowed for one fetch: Go answers /debug/pprof/heap in
 * milliseconds (it only serializes the last GC's profile), so 10 s means
 * the service is not answering. */
#define CLI_HEAPURL_DEFAULT_TIMEOUT_MS 10000

typedef struct cli_heapurl_opts {
    const char *url;           /* http(s)://host:port/debug/pprof/heap */
    const char *bearer_token;  /* "Authorization: Bearer ..." or NULL */
    int64_t timeout_ms;        /* 0 = CLI_HEAPURL_DEFAULT_TIMEOUT_MS */
    size_t max_body;           /* 0 = CLI_HEAPURL_MAX_BODY */
} cli_heapurl_opts;

/* GETs the profile. On success 0 with *body (malloc'ed, caller frees) and
 * *n. On failure a negative errno (-EIO unreachable / timeout / HTTP
 * status not 200, -EFBIG over max_body, -ENOMEM) and err holds one line
 * naming the URL and the cause; *body is NULL. *cause (may be NULL) gets
 * a number that tells causes apart where err's text may vary (libcurl's
 * messages carry timings): the CURLcode, or 1000 + the HTTP status. */
int cli_heapurl_fetch(const cli_heapurl_opts *o, uint8_t **body, size_t *n,
                      long *cause, char *err, size_t errlen);

/* Checks that body is a heap profile memvigil can follow: a pprof
 * profile (gzip'd or raw) with an inuse_space sample type. 0, or
 * -EBADMSG / CLI_PPROF_ENOTYPE / -EFBIG / -ENOMEM with err naming what the
 * answer looked like (HTML, text, a profile of another kind). On success
 * *digest (may be NULL) gets a hash of the samples (their locations and
 * values, not the profile's time): equal digests mean the same data. */
int cli_heapurl_check(const uint8_t *body, size_t n, uint64_t *digest,
                      char *err, size_t errlen);

/* Writes body as dir/heap-<id>-<seq>.pb.gz (a temp file renamed into
 * place, so a reader never sees half a file), then removes the snapshot
 * seq - keep of the same id (keep >= 1 files stay). 0 or a negative errno
 * (-ENOSPC, -EACCES...); on error no partial file is left. */
int cli_heapurl_store(const char *dir, int32_t id, uint64_t seq,
                      uint64_t keep, const uint8_t *body, size_t n);

/* ---- cmd_heap_watch.c: `memvigil heap watch --url URL` ---- */

typedef struct cli_heap_watch_opts {
    cli_heapurl_opts fetch;    /* --url, --bearer-token-file, --timeout */
    const char *token_file;    /* --bearer-token-file (read at start) */
    const char *dir;           /* --heap-dir; NULL = ./memvigil-heap-PID */
    int64_t interval_ms;       /* --heap-interval; 0 = 60 s */
    int64_t duration_ms;       /* --duration; 0 = until a signal */
    const char *listen;        /* --listen; NULL = no endpoint */
    const char *token;         /* --token for the endpoint */
    int json;                  /* --json */
} cli_heap_watch_opts;

/* Polls the URL until SIGINT/SIGTERM/SIGHUP or the duration, then prints
 * the ranking. Exit status: 0, or 1 when no profile could be fetched at
 * all (each failure is said on stderr as it happens). */
int cli_heap_watch(const cli_heap_watch_opts *o);

#endif /* MV_CLI_HEAPURL_H */
