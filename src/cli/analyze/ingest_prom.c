/*
 * ingest_prom.c — Prometheus as analyze input: the body of
 * /api/v1/query_range (from a file or fetched with libcurl), one series per
 * result with its labels (see ingest.h).
 *
 * DESIGN. The response is parsed with jansson: it is a real JSON document
 * (nested, any key order, escapes in label values) and the recording
 * parser's flat-object grammar does not fit it. Prometheus writes sample
 * values as strings ("123", "NaN", "+Inf") and times as float seconds; a
 * value that is not a finite, non-negative number is an error naming the
 * series and the point, never skipped, for the same reason as in CSV. A
 * response that is not a matrix (an instant query's vector) is refused with
 * a hint, because judging a trend from one point per series is meaningless.
 * Fetch errors say which of the layers failed: the connection (curl's own
 * words: refused, timed out, DNS), HTTP (the status, plus Prometheus'
 * errorType and error from the body when it has them) or the body. The
 * body is capped (CLI_PROM_MAX_BODY) so a wrong URL streaming forever
 * cannot eat memory.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ingest.h"
#include "http_body.h"
#include "util.h"

#define CLI_PROM_MAX_BODY ((size_t)512 << 20)
#define DEFAULT_TIMEOUT_MS 30000
#define MAX_CONNECT_TIMEOUT_MS 10000

static int add_label(cli_series *s, const char *name, const char *value)
{
    cli_label *l = realloc(s->labels, (s->nlabels + 1) * sizeof *l);

    if (!l)
        return -ENOMEM;
    s->labels = l;
    l[s->nlabels].name = strdup(name);
    l[s->nlabels].value = strdup(value);
    if (!l[s->nlabels].name || !l[s->nlabels].value) {
        free(l[s->nlabels].name);
        free(l[s->nlabels].value);
        return -ENOMEM;
    }
    s->nlabels++;
    return 0;
}

/* "series 2 {job="a"}" for messages. */
static void series_id(const cli_series *s, size_t idx, char *out, size_t n)
{
    char labels[256];
    const char *metric = cli_series_label(s, "__name__");

    cli_series_labels_text(s, labels, sizeof labels);
    snprintf(out, n, "series %zu %s%s", idx + 1, metric ? metric : "",
             labels);
}

static int parse_series(const char *name, size_t idx, json_t *res,
                        cli_series *s, char *err, size_t errlen)
{
    json_t *metric = json_object_get(res, "metric");
    json_t *values = json_object_get(res, "values");
    const char *k;
    json_t *jv;
    size_t i;
    char id[320];
    int64_t prev = 0;

    if (metric && json_is_object(metric)) {
        json_object_foreach(metric, k, jv) {
            if (!json_is_string(jv))
                continue;
            if (add_label(s, k, json_string_value(jv)) != 0)
                return -ENOMEM;
        }
    }
    k = cli_series_label(s, "__name__");
    mv__strlcpy(s->signal, k ? k : "value", sizeof s->signal);
    series_id(s, idx, id, sizeof id);
    if (!values || !json_is_array(values)) {
        if (json_object_get(res, "histograms"))
            snprintf(err, errlen, "%s: %s: native histograms are not a "
                     "memory series", name, id);
        else
            snprintf(err, errlen, "%s: %s: no \"values\" array (not a "
                     "query_range result)", name, id);
        return -EINVAL;
    }
    for (i = 0; i < json_array_size(values); i++) {
        json_t *pt = json_array_get(values, i);
        json_t *jt = json_array_get(pt, 0), *jval = json_array_get(pt, 1);
        const char *vs, *e;
        char *end;
        double t, v;
        int64_t t_ms;

        if (!json_is_array(pt) || json_array_size(pt) != 2 ||
            !json_is_number(jt) || !json_is_string(jval)) {
            snprintf(err, errlen, "%s: %s: point %zu is not "
                     "[seconds, \"value\"]", name, id, i + 1);
            return -EINVAL;
        }
        t = json_number_value(jt);
        vs = json_string_value(jval);
        errno = 0;
        v = strtod(vs, &end);
        for (e = end; *e == ' '; e++) {
        }
        if (end == vs || *e != '\0') {
            snprintf(err, errlen, "%s: %s: point %zu (t=%.3f): bad value "
                     "\"%.40s\"", name, id, i + 1, t, vs);
            return -EINVAL;
        }
        if (!isfinite(v)) {
            snprintf(err, errlen, "%s: %s: point %zu (t=%.3f): value is %s",
                     name, id, i + 1, t, isnan(v) ? "NaN" : "infinite");
            return -EINVAL;
        }
        if (v < 0) {
            snprintf(err, errlen, "%s: %s: point %zu (t=%.3f): negative "
                     "value %s (memory cannot be negative)", name, id, i + 1,
                     t, vs);
            return -EINVAL;
        }
        if (!isfinite(t) || fabs(t) > 9e12) {
            snprintf(err, errlen, "%s: %s: point %zu: bad timestamp", name,
                     id, i + 1);
            return -EINVAL;
        }
        t_ms = (int64_t)llround(t * 1000.0);
        if (s->n > 0 && t_ms <= prev) {
            snprintf(err, errlen, "%s: %s: point %zu (t=%.3f): %s", name, id,
                     i + 1, t, t_ms == prev ? "duplicate timestamp"
                                            : "timestamp goes backwards");
            return -EINVAL;
        }
        if (cli_series_push(s, t_ms, v) != 0)
            return -ENOMEM;
        prev = t_ms;
    }
    if (s->n == 0)
        snprintf(s->note, sizeof s->note, "no data points");
    else if (s->n == 1)
        snprintf(s->note, sizeof s->note, "only one data point");
    return 0;
}

/* The Prometheus error body {"status":"error","errorType":..,"error":..},
 * formatted as "errorType: error" into out; 0 when root is one. */
static int error_body(json_t *root, char *out, size_t n)
{
    json_t *st = json_object_get(root, "status");
    const char *type = json_string_value(json_object_get(root, "errorType"));
    const char *msg = json_string_value(json_object_get(root, "error"));

    if (!json_is_string(st) || strcmp(json_string_value(st), "error") != 0)
        return -1;
    snprintf(out, n, "%s%s%s", type ? type : "", type ? ": " : "",
             msg ? msg : "(no message)");
    return 0;
}

int cli_ingest_prometheus(const char *name, const char *data, size_t len,
                          const cli_ingest_opts *o, cli_series_set *out,
                          mv_buf *warn, char *err, size_t errlen)
{
    size_t keep = out->n, i;
    json_error_t jerr;
    json_t *root, *d, *res, *w;
    const char *rt, *st;
    char msg[400];
    int rc = 0;

    (void)o;
    root = json_loadb(data, len, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: line %d: invalid JSON (column %d): %s",
                 name, jerr.line, jerr.column, jerr.text);
        return -EINVAL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: unknown format: a JSON document that is "
                 "not a Prometheus query_range response (not an object)",
                 name);
        rc = -EINVAL;
        goto out;
    }
    if (error_body(root, msg, sizeof msg) == 0) {
        snprintf(err, errlen, "%s: Prometheus error: %s", name, msg);
        rc = -EINVAL;
        goto out;
    }
    st = json_string_value(json_object_get(root, "status"));
    d = json_object_get(root, "data");
    if (!st || strcmp(st, "success") != 0 || !json_is_object(d)) {
        snprintf(err, errlen, "%s: unknown format: a JSON document that is "
                 "not a Prometheus query_range response (needs \"status\": "
                 "\"success\" and a \"data\" object)", name);
        rc = -EINVAL;
        goto out;
    }
    rt = json_string_value(json_object_get(d, "resultType"));
    if (!rt || strcmp(rt, "matrix") != 0) {
        snprintf(err, errlen, "%s: resultType is '%s', not 'matrix': analyze "
                 "needs a range query (/api/v1/query_range)", name,
                 rt ? rt : "(missing)");
        rc = -EINVAL;
        goto out;
    }
    res = json_object_get(d, "result");
    if (!json_is_array(res)) {
        snprintf(err, errlen, "%s: no \"result\" array in \"data\"", name);
        rc = -EINVAL;
        goto out;
    }
    if (json_array_size(res) == 0) {
        snprintf(err, errlen, "%s: the response holds no series (the query "
                 "matched nothing in that time range)", name);
        rc = -EINVAL;
        goto out;
    }
    w = json_object_get(root, "warnings");
    if (warn && json_is_array(w))
        for (i = 0; i < json_array_size(w); i++)
            if (json_is_string(json_array_get(w, i)))
                mv__buf_printf(warn, "%s: Prometheus warning: %s\n", name,
                               json_string_value(json_array_get(w, i)));
    for (i = 0; i < json_array_size(res); i++) {
        cli_series *s = cli_series_set_add(out, name, CLI_FMT_PROMETHEUS);
        json_t *r = json_array_get(res, i);

        if (!s) {
            rc = -ENOMEM;
            break;
        }
        if (!json_is_object(r)) {
            snprintf(err, errlen, "%s: result %zu is not an object", name,
                     i + 1);
            rc = -EINVAL;
            break;
        }
        rc = parse_series(name, i, r, s, err, errlen);
        if (rc != 0)
            break;
    }
out:
    if (rc != 0)
        cli_series_set_truncate(out, keep);
    json_decref(root);
    return rc;
}

/* ---- fetching ---- */

char *cli_prom_request_url(const cli_prom_query *q)
{
    CURL *c = curl_easy_init();
    char *esc, *url = NULL;
    size_t blen = strlen(q->url), n;
    int64_t end = q->end_ms ? q->end_ms : mv__now_wall_ms();
    int64_t start = end - q->range_ms;

    if (!c)
        return NULL;
    while (blen > 0 && q->url[blen - 1] == '/')
        blen--;
    esc = curl_easy_escape(c, q->query, 0);
    if (esc) {
        n = blen + strlen(esc) + 160;
        url = malloc(n);
        if (url)
            snprintf(url, n, "%.*s/api/v1/query_range?query=%s&start=%.3f"
                     "&end=%.3f&step=%.3f", (int)blen, q->url, esc,
                     (double)start / 1000.0, (double)end / 1000.0,
                     (double)q->step_ms / 1000.0);
        curl_free(esc);
    }
    curl_easy_cleanup(c);
    return url;
}

int cli_ingest_fetch(const cli_prom_query *q, const cli_ingest_opts *o,
                     cli_series_set *out, mv_buf *warn, char *err,
                     size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    int64_t timeout = q->timeout_ms > 0 ? q->timeout_ms : DEFAULT_TIMEOUT_MS;
    cli_http_body b = CLI_HTTP_BODY_INIT(CLI_PROM_MAX_BODY);
    long status = 0;
    char *url;
    CURL *c;
    CURLcode cc;
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "%s: cannot initialise libcurl", q->url);
        return -EIO;
    }
    url = cli_prom_request_url(q);
    c = curl_easy_init();
    if (!url || !c) {
        free(url);
        curl_easy_cleanup(c);
        curl_global_cleanup();
        return -ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout < MAX_CONNECT_TIMEOUT_MS
                                ? timeout : MAX_CONNECT_TIMEOUT_MS));
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "memvigil/" MV_VERSION_STRING);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK) {
        if (b.too_big)
            snprintf(err, errlen, "%s: response larger than %zu MiB",
                     q->url, CLI_PROM_MAX_BODY >> 20);
        else if (cc == CURLE_OPERATION_TIMEDOUT)
            snprintf(err, errlen, "%s: no answer within %.1f s (%s)", q->url,
                     (double)timeout / 1000.0, cerr[0] ? cerr
                                                : curl_easy_strerror(cc));
        else
            snprintf(err, errlen, "%s: cannot fetch: %s", q->url,
                     cerr[0] ? cerr : curl_easy_strerror(cc));
        rc = -EIO;
    } else if (status != 200) {
        json_t *root = json_loadb(b.buf.data ? b.buf.data : "", b.buf.len, 0,
                                  NULL);
        char msg[400];

        if (root && error_body(root, msg, sizeof msg) == 0)
            snprintf(err, errlen, "%s: HTTP %ld: Prometheus error: %s",
                     q->url, status, msg);
        else
            snprintf(err, errlen, "%s: HTTP %ld from %s%s", q->url, status,
                     url, status == 404 ? " (is this a Prometheus server?)"
                                        : "");
        json_decref(root);
        rc = -EIO;
    } else {
        rc = cli_ingest_prometheus(q->url, b.buf.data ? b.buf.data : "",
                                   b.buf.len, o, out, warn, err, errlen);
    }
    mv_buf_release(&b.buf);
    free(url);
    curl_global_cleanup();
    return rc;
}
