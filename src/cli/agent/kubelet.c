/*
 * kubelet.c — the kubelet pods API client: options, fetching with libcurl,
 * the refresh schedule and the messages (see kubelet.h).
 *
 * DESIGN
 * A fetch runs without the client's lock (it may block up to timeout_ms)
 * and only the swap of the index takes it, so lookups from other threads
 * never wait for the network. A failed fetch (connection refused, timeout,
 * an HTTP status other than 200, a body that is not a PodList, a token
 * file that cannot be read) keeps the last good index: names do not vanish
 * because the kubelet restarted. Messages are per spell of failure, not
 * per attempt: the first failure, a change of cause, a reminder every 10
 * minutes, and the recovery; until the first success they say that series
 * keep their IDs, afterwards how old the names in use are.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "kubelet.h"
#include "http_body.h"
#include "util.h"

/* Full refresh: pods come and go within minutes; a missed lookup (a new
 * container) brings the next fetch forward anyway. */
#define DEFAULT_REFRESH_MS 60000
/* One request; the kubelet answers /pods in milliseconds when healthy. */
#define DEFAULT_TIMEOUT_MS 5000
/* A lookup miss may bring a fetch forward, but not closer than this to the
 * previous one (a cgroup that is not a pod's would otherwise fetch every
 * tick). */
#define MISS_REFETCH_MS 5000
/* After a failure the next try comes after this, doubling up to the
 * refresh period. */
#define FAIL_RETRY_MS 1000
/* A failure that goes on is told again this often. */
#define REMIND_MS (10 * 60 * 1000)
/* Bearer tokens are a few KiB at most. */
#define TOKEN_MAX 16384

const char cli_kubelet_options_help[] =
    "Kubernetes names (namespace, pod, container, qos) from the kubelet:\n"
    "  --kubelet URL         the kubelet's base URL; GET URL/pods lists this\n"
    "                        node's pods (https://127.0.0.1:10250, or the\n"
    "                        read-only http://127.0.0.1:10255); without it,\n"
    "                        or while it does not answer, IDs only\n"
    "  --kubelet-token-file FILE  bearer token sent to the kubelet, re-read at\n"
    "                        each fetch (a service account token)\n"
    "  --kubelet-ca-file FILE  CA bundle that signed the kubelet's certificate\n"
    "  --kubelet-insecure-tls  do not verify the kubelet's certificate (its\n"
    "                        self-signed serving certificate)\n";

void cli_kubelet_opts_init(cli_kubelet_opts *o)
{
    memset(o, 0, sizeof *o);
}

int cli_kubelet_opts_parse(cli_kubelet_opts *o, const char *cmd, int c,
                           const char *arg)
{
    switch (c) {
    case CLI_OPT_KUBELET:
        if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)
            return cli_usage_error(cmd, "bad --kubelet '%s': expected an "
                                   "http:// or https:// URL such as "
                                   "https://127.0.0.1:10250", arg);
        o->url = arg;
        return 1;
    case CLI_OPT_KUBELET_TOKEN_FILE:
        o->token_file = arg;
        return 1;
    case CLI_OPT_KUBELET_CA_FILE:
        o->ca_file = arg;
        return 1;
    case CLI_OPT_KUBELET_INSECURE_TLS:
        o->insecure_tls = 1;
        return 1;
    default:
        return 0;
    }
}

int cli_kubelet_opts_check(const cli_kubelet_opts *o, const char *cmd)
{
    if (!o->url && (o->token_file || o->ca_file || o->insecure_tls))
        return cli_usage_error(cmd, "--kubelet-token-file, --kubelet-ca-file "
                               "and --kubelet-insecure-tls need --kubelet URL");
    if (o->url && strncmp(o->url, "http://", 7) == 0 && o->token_file)
        return cli_usage_error(cmd, "--kubelet-token-file with a plain http:// "
                               "URL would send the token in clear; use "
                               "https:// (port 10250)");
    if (o->insecure_tls && o->ca_file)
        return cli_usage_error(cmd, "--kubelet-insecure-tls and "
                               "--kubelet-ca-file contradict each other");
    return 0;
}

struct cli_kubelet {
    cli_kubelet_opts o;           /* strings borrowed */
    char *pods_url;               /* owned: URL + "/pods" */

    pthread_mutex_t lock;         /* guards ix, miss, last_ok_ms */
    cli_kubelet_index *ix;        /* in use; NULL until the first success */
    int miss;                     /* a lookup missed since the last fetch */
    int64_t last_ok_ms;           /* monotonic time of the last success */

    /* the refreshing thread's own (no lock) */
    int64_t next_ms;              /* next scheduled fetch; 0 = now */
    int64_t last_try_ms;          /* previous attempt; -1 = none */
    int64_t retry_ms;             /* current backoff */
    uint64_t fetches, failures;
    int failing;                  /* in a spell of failures */
    int cause;                    /* the spell's cause as last told (a
                                     cause_key; the text may vary, e.g. a
                                     timeout's milliseconds) */
    int64_t told_ms;              /* when it was last told */
    char msg[512];                /* the message waiting, "" = none */
    size_t told_dropped;
};

cli_kubelet *cli_kubelet_new(const cli_kubelet_opts *o)
{
    if (!o || !o->url)
        return NULL;
    cli_kubelet *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->o = *o;
    if (k->o.refresh_ms <= 0)
        k->o.refresh_ms = DEFAULT_REFRESH_MS;
    if (k->o.timeout_ms <= 0)
        k->o.timeout_ms = DEFAULT_TIMEOUT_MS;
    size_t n = strlen(o->url);
    while (n > 0 && o->url[n - 1] == '/')
        n--;
    k->pods_url = malloc(n + sizeof "/pods");
    if (!k->pods_url || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(k->pods_url);
        free(k);
        return NULL;
    }
    memcpy(k->pods_url, o->url, n);
    memcpy(k->pods_url + n, "/pods", sizeof "/pods");
    pthread_mutex_init(&k->lock, NULL);
    k->last_try_ms = -1;
    k->retry_ms = FAIL_RETRY_MS;
    return k;
}

void cli_kubelet_free(cli_kubelet *k)
{
    if (!k)
        return;
    cli_kubelet_index_free(k->ix);
    pthread_mutex_destroy(&k->lock);
    free(k->pods_url);
    free(k);
    curl_global_cleanup();
}

/* ---- one fetch ---- */

/* The token file's content without surrounding whitespace, into *hdr as an
 * Authorization header. 0, or -1 with why. */
static int bearer_header(const char *path, mv_buf *hdr, char *why, size_t n)
{
    mv_buf tok = {0};
    ssize_t r = mv__read_file(path, &tok, TOKEN_MAX);
    if (r < 0) {
        snprintf(why, n, "cannot read the token file %s: %s", path,
                 strerror((int)-r));
        mv_buf_release(&tok);
        return -1;
    }
    const char *s = tok.data ? tok.data : "";
    size_t len = tok.len;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    int bad = len == 0 || memchr(s, '\n', len) || memchr(s, '\r', len);
    if (bad)
        snprintf(why, n, "the token file %s is empty or not one line", path);
    else if (mv__buf_printf(hdr, "Authorization: Bearer %.*s", (int)len, s) != 0)
        snprintf(why, n, "out of memory");
    mv_buf_release(&tok);
    return bad || !hdr->data ? -1 : 0;
}

/* What kind of failure, for telling a spell once: */
enum { CAUSE_NONE = 0, CAUSE_TOKEN = -1, CAUSE_TOO_BIG = -2, CAUSE_BODY = -3,
       CAUSE_CURL = 1000 /* + the CURLcode */ };  /* > 0 below: HTTP status */

/* GET pods_url: 0 and *out, or -1 with why and *cause. No lock held. */
static int fetch(cli_kubelet *k, cli_kubelet_index **out, char *why, size_t n,
                 int *cause)
{
    char cerr[CURL_ERROR_SIZE] = "";
    cli_http_body b = CLI_HTTP_BODY_INIT(CLI_KUBELET_MAX_BODY);
    mv_buf auth = {0};
    struct curl_slist *hdrs = NULL;
    long status = 0;
    int rc = -1;
    *out = NULL;

    *cause = CAUSE_TOKEN;
    if (k->o.token_file && bearer_header(k->o.token_file, &auth, why, n) != 0)
        return -1;
    *cause = CAUSE_CURL;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, n, "cannot initialise libcurl");
        mv_buf_release(&auth);
        return -1;
    }
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (auth.data)
        hdrs = curl_slist_append(hdrs, auth.data);
    curl_easy_setopt(c, CURLOPT_URL, k->pods_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)k->o.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)k->o.timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (k->o.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, k->o.ca_file);
    if (k->o.insecure_tls) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    *cause = b.too_big ? CAUSE_TOO_BIG
             : cc != CURLE_OK ? CAUSE_CURL + (int)cc
             : status != 200 ? (int)status
                             : CAUSE_BODY;
    if (b.too_big)
        snprintf(why, n, "the answer is larger than %u MiB",
                 CLI_KUBELET_MAX_BODY >> 20);
    else if (cc != CURLE_OK)
        snprintf(why, n, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
    else if (status != 200)
        snprintf(why, n, "HTTP status %ld%s", status,
                 status == 401 || status == 403
                     ? " (check --kubelet-token-file and the service "
                       "account's nodes/proxy permission)"
                     : "");
    else {
        char perr[200];
        if (cli_kubelet_index_parse(b.buf.data, b.buf.len, out, perr,
                                    sizeof perr) == 0)
            rc = 0;
        else
            snprintf(why, n, "the answer is %s", perr);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    mv_buf_release(&b.buf);
    mv_buf_release(&auth);
    return rc;
}

/* ---- the schedule and the messages ---- */

static int due(cli_kubelet *k, int64_t now)
{
    if (k->last_try_ms < 0 || now >= k->next_ms)
        return 1;
    pthread_mutex_lock(&k->lock);
    int miss = k->miss;
    pthread_mutex_unlock(&k->lock);
    return miss && now >= k->last_try_ms + MISS_REFETCH_MS;
}

static void say_failure(cli_kubelet *k, int64_t now, const char *why,
                        int cause)
{
    pthread_mutex_lock(&k->lock);
    int have = k->ix != NULL;
    int64_t age_s = have ? (now - k->last_ok_ms) / 1000 : 0;
    pthread_mutex_unlock(&k->lock);
    int changed = cause != k->cause;
    if (k->failing && !changed && now - k->told_ms < REMIND_MS)
        return;
    if (have)
        snprintf(k->msg, sizeof k->msg, "kubelet %s: %s; keeping the names "
                 "read %llds ago", k->pods_url, why, (long long)age_s);
    else
        snprintf(k->msg, sizeof k->msg, "kubelet %s: %s; containers are "
                 "named by their IDs until it answers", k->pods_url, why);
    k->cause = cause;
    k->told_ms = now;
}

int cli_kubelet_refresh(cli_kubelet *k, int64_t now)
{
    char why[256];
    int cause = CAUSE_NONE;
    cli_kubelet_index *ix;
    if (!k || !due(k, now))
        return 0;
    k->last_try_ms = now;
    k->fetches++;
    if (fetch(k, &ix, why, sizeof why, &cause) != 0) {
        k->failures++;
        say_failure(k, now, why, cause);
        k->failing = 1;
        k->next_ms = now + k->retry_ms;
        k->retry_ms = k->retry_ms * 2 > k->o.refresh_ms ? k->o.refresh_ms
                                                        : k->retry_ms * 2;
        pthread_mutex_lock(&k->lock);
        k->miss = 0;
        pthread_mutex_unlock(&k->lock);
        return 0;
    }
    if (k->failing)
        snprintf(k->msg, sizeof k->msg, "kubelet %s answers again: %zu pods, "
                 "%zu containers named", k->pods_url,
                 cli_kubelet_index_pods(ix), cli_kubelet_index_containers(ix));
    else if (cli_kubelet_index_dropped(ix) > k->told_dropped)
        snprintf(k->msg, sizeof k->msg, "kubelet %s: %zu pods or containers "
                 "beyond the caps (%d pods, %d containers) are left unnamed",
                 k->pods_url, cli_kubelet_index_dropped(ix),
                 CLI_KUBELET_MAX_PODS, CLI_KUBELET_MAX_CONTAINERS);
    k->told_dropped = cli_kubelet_index_dropped(ix);
    k->failing = 0;
    k->cause = CAUSE_NONE;
    k->retry_ms = FAIL_RETRY_MS;
    k->next_ms = now + k->o.refresh_ms;
    pthread_mutex_lock(&k->lock);
    cli_kubelet_index *old = k->ix;
    k->ix = ix;
    k->miss = 0;
    k->last_ok_ms = now;
    pthread_mutex_unlock(&k->lock);
    cli_kubelet_index_free(old);
    return 1;
}

int cli_kubelet_lookup_pod(cli_kubelet *k, const char *uid,
                           cli_kubelet_names *out)
{
    if (!k)
        return -ENOENT;
    pthread_mutex_lock(&k->lock);
    int rc = cli_kubelet_index_pod(k->ix, uid, out);
    if (rc)
        k->miss = 1;
    pthread_mutex_unlock(&k->lock);
    return rc;
}

int cli_kubelet_lookup_container(cli_kubelet *k, const char *id,
                                 cli_kubelet_names *out)
{
    if (!k)
        return -ENOENT;
    pthread_mutex_lock(&k->lock);
    int rc = cli_kubelet_index_container(k->ix, id, out);
    if (rc)
        k->miss = 1;
    pthread_mutex_unlock(&k->lock);
    return rc;
}

int cli_kubelet_take_message(cli_kubelet *k, char *buf, size_t n)
{
    if (!k || !buf || n == 0 || !k->msg[0])
        return 0;
    mv__strlcpy(buf, k->msg, n);
    k->msg[0] = '\0';
    return 1;
}

void cli_kubelet_counts(cli_kubelet *k, uint64_t *fetches, uint64_t *failures)
{
    if (fetches)
        *fetches = k ? k->fetches : 0;
    if (failures)
        *failures = k ? k->failures : 0;
}
