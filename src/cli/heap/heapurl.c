/*
 * heapurl.c — one heap profile from a pprof HTTP endpoint, checked and kept
 * as a heap-directory snapshot (see heapurl.h).
 *
 * Design: a remote profile is stored in the very format the preload writes
 * (heap-<id>-<seq>.pb.gz, temp + rename), so there is one trend code path:
 * heapdir.c reads it, heaptrend.c ranks it, `heap top DIR` works on the
 * directory afterwards. The answer is decoded once before it is stored, so
 * a wrong URL (an HTML page, a CPU profile, a truncated body) is reported
 * at once and never becomes a snapshot the trend would count as
 * unreadable.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapurl.h"
#include "http_body.h"
#include "pprof.h"
#include "util.h"

/* Connecting should take far less than the whole fetch. */
#define MAX_CONNECT_TIMEOUT_MS 5000

int cli_heapurl_fetch(const cli_heapurl_opts *o, uint8_t **out, size_t *out_n,
                      long *cause, char *err, size_t errlen)
{
    static int curl_ready;
    char cerr[CURL_ERROR_SIZE] = "";
    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms
                                        : CLI_HEAPURL_DEFAULT_TIMEOUT_MS;
    cli_http_body b = CLI_HTTP_BODY_INIT(o->max_body ? o->max_body
                                                    : CLI_HEAPURL_MAX_BODY);
    struct curl_slist *hdr = NULL;
    long status = 0;
    CURL *c;
    CURLcode cc;

    *out = NULL;
    *out_n = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "%s: cannot initialise libcurl", o->url);
            return -EIO;
        }
        curl_ready = 1; /* kept for the process's life: one per fetch
                         * would reload TLS every interval */
    }
    c = curl_easy_init();
    if (!c)
        return -ENOMEM;
    if (o->bearer_token && o->bearer_token[0]) {
        mv_buf h = {0};
        if (mv__buf_printf(&h, "Authorization: Bearer %s", o->bearer_token) == 0)
            hdr = curl_slist_append(NULL, h.data);
        mv_buf_release(&h);
        if (!hdr) {
            curl_easy_cleanup(c);
            return -ENOMEM;
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* a redirect would carry the token to wherever it points: not followed */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout < MAX_CONNECT_TIMEOUT_MS
                                ? timeout : MAX_CONNECT_TIMEOUT_MS));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "memvigil/" MV_VERSION_STRING);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    if (cause)
        *cause = cc != CURLE_OK ? (long)cc : 1000 + status;
    if (cc != CURLE_OK || status != 200) {
        if (b.too_big)
            snprintf(err, errlen, "%s: answer larger than %zu MiB", o->url,
                     b.max >> 20);
        else if (cc == CURLE_OPERATION_TIMEDOUT)
            snprintf(err, errlen, "%s: no answer within %.1f s", o->url,
                     (double)timeout / 1000.0);
        else if (cc != CURLE_OK)
            snprintf(err, errlen, "%s: cannot fetch: %s", o->url,
                     cerr[0] ? cerr : curl_easy_strerror(cc));
        else
            snprintf(err, errlen, "%s: HTTP %ld%s", o->url, status,
                     status == 401 || status == 403
                         ? " (a token is needed: --bearer-token-file)"
                     : status == 404 ? " (no pprof heap endpoint at this path?)"
                                     : "");
        mv_buf_release(&b.buf);
        return b.too_big ? -EFBIG : -EIO;
    }
    *out = (uint8_t *)b.buf.data;
    *out_n = b.buf.len;
    return 0;
}

/* What a body that is not a profile looks like, for the message. */
static const char *looks_like(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    if (i == n)
        return "an empty answer";
    if (p[i] == '<')
        return "HTML or XML, not a profile";
    if (p[i] == '{' || p[i] == '[')
        return "JSON, not a profile";
    if (n - i >= 5 && memcmp(p + i, "heap ", 5) == 0)
        return "a text heap profile (drop ?debug=1 from the URL)";
    return "not a pprof profile";
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n--) {
        h ^= *b++;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Order-insensitive: Go numbers locations and orders samples afresh in
 * each answer, so each sample is hashed by its locations' addresses and
 * its values, and the sample hashes are summed. Samples of zeros are left
 * out. */
static uint64_t samples_digest(const cli_pprof *p)
{
    uint64_t sum = 0;
    size_t i, k;

    for (i = 0; i < p->nsamples; i++) {
        const cli_pprof_sample *s = &p->samples[i];
        uint64_t h = 0xcbf29ce484222325ull;
        int zero = 1;
        for (k = 0; k < p->ntypes; k++)
            zero &= p->values[s->val0 + k] == 0;
        if (zero)
            continue; /* Go lists stacks first seen since its last GC
                       * with zeros until the next one */
        for (k = 0; k < s->nlocs; k++) {
            const cli_pprof_location *l =
                cli_pprof_location_get(p, p->locids[s->loc0 + k]);
            uint64_t a = l ? l->address : 0;
            h = fnv1a(h, &a, sizeof a);
        }
        h = fnv1a(h, &p->values[s->val0], p->ntypes * sizeof *p->values);
        sum += h;
    }
    return sum;
}

int cli_heapurl_check(const uint8_t *data, size_t n, uint64_t *digest,
                      char *err, size_t errlen)
{
    cli_pprof p;
    int rc;

    if (n == 0) { /* a valid empty message, but no answer */
        snprintf(err, errlen, "%s", looks_like(data, n));
        return -EBADMSG;
    }
    rc = cli_pprof_parse(data, n, CLI_PPROF_MAX_INFLATED_BYTES, &p);
    if (rc == -EBADMSG) {
        snprintf(err, errlen, "%s", looks_like(data, n));
        return rc;
    }
    if (rc) {
        snprintf(err, errlen, "%s", cli_pprof_strerror(rc));
        return rc;
    }
    if (cli_pprof_value_index(&p, "inuse_space") < 0) {
        snprintf(err, errlen, "a profile without inuse_space samples (a CPU "
                 "or allocs profile? the URL should end in "
                 "/debug/pprof/heap)");
        rc = CLI_PPROF_ENOTYPE;
    }
    if (rc == 0 && digest)
        *digest = samples_digest(&p);
    cli_pprof_release(&p);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cli_heapurl_store(const char *dir, int32_t id, uint64_t seq,
                      uint64_t keep, const uint8_t *data, size_t n)
{
    char path[4096], tmp[4200];
    int fd, rc;

    if (snprintf(path, sizeof path, "%s/heap-%" PRId32 "-%06" PRIu64 ".pb.gz",
                 dir, id, seq) >= (int)sizeof path)
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, data, n);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (keep >= 1 && seq >= keep) {
        snprintf(path, sizeof path, "%s/heap-%" PRId32 "-%06" PRIu64 ".pb.gz",
                 dir, id, seq - keep);
        (void)unlink(path); /* already gone is fine */
    }
    return 0;
}
