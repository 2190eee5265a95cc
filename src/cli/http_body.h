/*
 * http_body.h — the body of an HTTP answer fetched with libcurl, kept in
 * memory up to a bound: the write callback shared by every fetch the CLI
 * makes (the kubelet's /pods, Prometheus's query_range, a pprof heap
 * endpoint). Header-only, so each stage's objects and unit tests get it
 * without another source file.
 *
 * Ownership: the caller owns the cli_http_body and releases buf with
 * mv_buf_release() (or takes buf.data, malloc'd storage, and frees it).
 * Thread-safety: one body per transfer.
 */
#ifndef MV_CLI_HTTP_BODY_H
#define MV_CLI_HTTP_BODY_H

#include <stddef.h>

#include "memvigil.h"

typedef struct cli_http_body {
    mv_buf buf;     /* what has come so far */
    size_t max;     /* the bound, in bytes */
    int too_big;    /* the answer went past max: the transfer was stopped */
} cli_http_body;

/* An empty body bounded at max bytes. */
#define CLI_HTTP_BODY_INIT(max) {{NULL, 0, 0}, (max), 0}

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a cli_http_body: appends,
 * or stops the transfer (returns 0) past the bound or out of memory. */
static inline size_t cli_http_body_write(char *p, size_t size, size_t nmemb,
                                         void *ud)
{
    cli_http_body *b = ud;
    size_t n = size * nmemb;

    if (n > b->max - b->buf.len) {
        b->too_big = 1;
        return 0;
    }
    return mv_buf_append(&b->buf, p, n) == 0 ? n : 0;
}

#endif /* MV_CLI_HTTP_BODY_H */
