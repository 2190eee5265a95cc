/*
 * ingest.c — the common part of analyze's input readers: format detection
 * by content, reading a file, and the series containers (see ingest.h).
 *
 * DESIGN. The format is decided from the bytes, never from the file name,
 * because exported files are routinely renamed (.txt, .log, no extension).
 * The rules are ordered from the most to the least specific: a first line
 * that is a recording line (a JSON object with "type") is a recording; any
 * other JSON document is taken for a Prometheus response (its parser then
 * says precisely what is missing); a first line of comma-separated fields is
 * CSV. Anything else is refused as an unknown format rather than guessed.
 * A file is read through mv__record_stream (which joins the files of a
 * rotated recording): a recording — the large input, up to 1 GiB — goes
 * line by line to its parser, so only the series is held; CSV (two
 * numbers a line, so its points are a fair share of its size) and
 * Prometheus JSON (one document, capped at CLI_INGEST_MAX_DOC) are read
 * whole, which lets one parser serve files, stdin and HTTP bodies alike.
 * Because the input may be anything (/dev/zero, an endless pipe), the
 * stream refuses it early: it stops at a NUL byte or an over-long line,
 * and cli_ingest_sniff runs the parsers on the first MiB of a longer
 * input before the rest is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "record.h"
#include "util.h"

const char *cli_format_name(cli_format f)
{
    switch (f) {
    case CLI_FMT_EMPTY: return "empty";
    case CLI_FMT_RECORDING: return "recording";
    case CLI_FMT_CSV: return "csv";
    case CLI_FMT_PROMETHEUS: return "prometheus";
    default: return "unknown";
    }
}

/* ---- series containers ---- */

int cli_series_push(cli_series *s, int64_t t_ms, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        int64_t *t = realloc(s->t_ms, cap * sizeof *t);
        double *nv;

        if (!t)
            return -ENOMEM;
        s->t_ms = t;
        nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        s->v = nv;
        if (s->format == CLI_FMT_RECORDING) {
            int64_t *l = realloc(s->limit, cap * sizeof *l);
            unsigned char *p;

            if (!l)
                return -ENOMEM;
            s->limit = l;
            p = realloc(s->phase, cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            s->phase = p;
        }
        s->cap = cap;
    }
    s->t_ms[s->n] = t_ms;
    s->v[s->n] = v;
    if (s->limit)
        s->limit[s->n] = MV_NA;
    if (s->phase)
        s->phase[s->n] = 0;
    s->n++;
    return 0;
}

const char *cli_series_label(const cli_series *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

char *cli_series_labels_text(const cli_series *s, char *out, size_t n)
{
    size_t i, used = 0;
    int first = 1;

    if (n == 0)
        return out;
    out[0] = '\0';
    used += (size_t)snprintf(out, n, "{");
    for (i = 0; i < s->nlabels && used < n; i++) {
        if (strcmp(s->labels[i].name, "__name__") == 0)
            continue;
        used += (size_t)snprintf(out + used, n - used, "%s%s=\"%s\"",
                                 first ? "" : ", ", s->labels[i].name,
                                 s->labels[i].value);
        first = 0;
    }
    if (used < n)
        snprintf(out + used, n - used, "}");
    return out;
}

static void series_release(cli_series *s)
{
    size_t i;

    free(s->source);
    for (i = 0; i < s->nlabels; i++) {
        free(s->labels[i].name);
        free(s->labels[i].value);
    }
    free(s->labels);
    free(s->t_ms);
    free(s->v);
    free(s->limit);
    free(s->phase);
    memset(s, 0, sizeof *s);
}

cli_series *cli_series_set_add(cli_series_set *set, const char *source,
                               cli_format f)
{
    cli_series *s;

    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 4;
        cli_series *ns = realloc(set->s, cap * sizeof *ns);

        if (!ns)
            return NULL;
        set->s = ns;
        set->cap = cap;
    }
    s = &set->s[set->n];
    memset(s, 0, sizeof *s);
    s->source = strdup(source ? source : "");
    if (!s->source)
        return NULL;
    s->format = f;
    s->limit_bytes = MV_NA;
    set->n++;
    return s;
}

void cli_series_set_truncate(cli_series_set *set, size_t keep)
{
    while (set->n > keep)
        series_release(&set->s[--set->n]);
}

void cli_series_set_release(cli_series_set *set)
{
    if (!set)
        return;
    cli_series_set_truncate(set, 0);
    free(set->s);
    set->s = NULL;
    set->cap = 0;
}

/* ---- detection ---- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the n bytes at p contain the string needle. */
static int has(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;

    for (i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return 1;
    return 0;
}

cli_format cli_ingest_detect(const char *data, size_t len)
{
    const char *p = data, *end = data + len, *eol;
    mv__record_line *rec;
    int rc;

    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            return CLI_FMT_EMPTY;
        if (*p != '#')
            break;
        while (p < end && *p != '\n')   /* CSV comment line */
            p++;
    }
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    if (*p == '{' || *p == '[') {
        rec = malloc(sizeof *rec);
        if (rec) {
            rc = mv__record_parse_line(p, (size_t)(eol - p), rec);
            free(rec);
            if (rc == 0)
                return CLI_FMT_RECORDING;
        }
        /* A torn or damaged recording line still says what it is. */
        if (*p == '{' && has(p, (size_t)(eol - p), "\"type\"") &&
            !has(p, (size_t)(eol - p), "\"resultType\""))
            return CLI_FMT_RECORDING;
        return CLI_FMT_PROMETHEUS;
    }
    if (memchr(p, ',', (size_t)(eol - p)))
        return CLI_FMT_CSV;
    return CLI_FMT_UNKNOWN;
}

int cli_ingest_buffer(const char *name, const char *data, size_t len,
                      const cli_ingest_opts *o, cli_series_set *out,
                      mv_buf *warn, char *err, size_t errlen)
{
    cli_ingest_opts none = {0};
    cli_series *s;
    cli_format f;

    if (err && errlen)
        err[0] = '\0';
    if (!o)
        o = &none;
    if (memchr(data, '\0', len)) {
        const char *z = memchr(data, '\0', len);
        size_t line = 1;
        const char *q;

        for (q = data; q < z; q++)
            line += *q == '\n';
        snprintf(err, errlen, "%s: line %zu: binary data (a NUL byte); not "
                 "a recording, CSV or Prometheus JSON file", name, line);
        return -EINVAL;
    }
    f = cli_ingest_detect(data, len);
    switch (f) {
    case CLI_FMT_EMPTY:
        s = cli_series_set_add(out, name, CLI_FMT_EMPTY);
        if (!s)
            return -ENOMEM;
        mv__strlcpy(s->signal, o->signal ? o->signal : "", sizeof s->signal);
        snprintf(s->note, sizeof s->note, "empty input: no data points");
        return 0;
    case CLI_FMT_RECORDING:
        return cli_ingest_recording(name, data, len, o, out, warn, err, errlen);
    case CLI_FMT_CSV:
        return cli_ingest_csv(name, data, len, o, out, warn, err, errlen);
    case CLI_FMT_PROMETHEUS:
        return cli_ingest_prometheus(name, data, len, o, out, warn, err,
                                     errlen);
    default:
        snprintf(err, errlen, "%s: unknown format: expected a memvigil "
                 "recording (JSON lines), CSV 'seconds,bytes' or a Prometheus "
                 "query_range JSON response", name);
        return -EINVAL;
    }
}

int cli_ingest_sniff(const char *head, size_t len, void *ctx, char *why,
                     size_t whylen)
{
    const cli_ingest_sniff_ctx *c = ctx;
    const char *name = c && c->name ? c->name : "input";
    const char *nl = memrchr(head, '\n', len);
    cli_series_set set = {0};
    char err[512];
    int rc;

    switch (cli_ingest_detect(head, len)) {
    case CLI_FMT_PROMETHEUS:
        return (int)CLI_INGEST_MAX_DOC;
    case CLI_FMT_RECORDING:
    case CLI_FMT_CSV:
        break;
    case CLI_FMT_EMPTY:
        snprintf(why, whylen, "nothing but blanks in the first MiB: not a "
                 "recording, CSV or Prometheus JSON file");
        return -EINVAL;
    default:
        snprintf(why, whylen, "unknown format (judged on the first MiB): "
                 "expected a memvigil recording (JSON lines), CSV "
                 "'seconds,bytes' or a Prometheus query_range JSON response");
        return -EINVAL;
    }
    if (!nl)
        return 0;   /* the reader refuses the over-long line itself */
    /* the same parser on the complete lines: its own words, line numbers
     * and all (the name prefix is the caller's to add) */
    rc = cli_ingest_buffer(name, head, (size_t)(nl - head) + 1,
                           c ? c->o : NULL, &set, NULL, err, sizeof err);
    cli_series_set_release(&set);
    if (rc != -EINVAL)
        return 0;
    size_t k = strlen(name);
    const char *msg = strncmp(err, name, k) == 0 && err[k] == ':' &&
                              err[k + 1] == ' ' ? err + k + 2 : err;
    mv__strlcpy(why, msg, whylen);
    return -EINVAL;
}

/* The words for the stream error rc of path named name into err. */
static void stream_error(const char *name, int rc, const mv__record_join *j,
                         char *err, size_t errlen)
{
    if (rc == -EFBIG)
        snprintf(err, errlen, "%s: larger than %zu MiB", name,
                 CLI_INGEST_MAX_FILE >> 20);
    else if (rc == -EINVAL && j->why[0])
        snprintf(err, errlen, "%s: %s", name, j->why);
    else
        snprintf(err, errlen, "%s: %s", name, strerror(-rc));
}

/* Whether the stream's head says recording: judged on its complete lines
 * only, so a first line cut at the head's end is never mistaken. */
static int head_is_recording(const mv__record_stream *s)
{
    const char *nl = s->head_len ? memrchr(s->head, '\n', s->head_len) : NULL;
    return nl && cli_ingest_detect(s->head, (size_t)(nl - s->head) + 1) ==
                     CLI_FMT_RECORDING;
}

int cli_ingest_file(const char *path, const cli_ingest_opts *o,
                    cli_series_set *out, mv_buf *warn, char *err,
                    size_t errlen)
{
    mv__record_stream st;
    mv_buf b = {0}, w = {0};
    const char *name = path;
    size_t keep = out->n;
    int rc;

    if (strcmp(path, "-") == 0) {
        path = "/dev/stdin";
        name = "stdin";
    }
    /* a rotated recording: its earlier files first */
    cli_ingest_sniff_ctx sc = { name, o };
    rc = mv__record_stream_open(&st, path, CLI_INGEST_MAX_FILE,
                                CLI_INGEST_MAX_DOC, cli_ingest_sniff, &sc);
    if (rc) {
        stream_error(name, rc, &st.join, err, errlen);
        return rc;
    }
    if (head_is_recording(&st)) {
        rc = cli_ingest_recording_read(name, st.f, o, out, warn ? &w : NULL,
                                       err, errlen);
    } else {
        while (1) {   /* CSV or JSON: parsed whole */
            if (mv__buf_reserve(&b, (size_t)64 << 10) != 0) {
                rc = -ENOMEM;
                snprintf(err, errlen, "%s: out of memory", name);
                break;
            }
            size_t n = fread(b.data + b.len, 1, (size_t)64 << 10, st.f);
            b.len += n;
            if (n == 0)
                break;
        }
        if (rc == 0 && !st.error)
            rc = cli_ingest_buffer(name, b.data ? b.data : "", b.len, o, out,
                                   warn ? &w : NULL, err, errlen);
    }
    /* what was joined (and noted while reading), whatever came of it */
    if (st.join.note[0] && warn)
        mv__buf_printf(warn, "%s: %s\n", name, st.join.note);
    if (st.error) {   /* refused while reading: say why, keep nothing */
        cli_series_set_truncate(out, keep);
        rc = st.error;
        stream_error(name, rc, &st.join, err, errlen);
    }
    if (rc == 0 && warn && w.len)
        mv__buf_append(warn, w.data, w.len);
    mv__record_stream_close(&st);
    mv_buf_release(&b);
    mv_buf_release(&w);
    return rc;
}
