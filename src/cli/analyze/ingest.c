/*
 * ingest.c — the front of analyze's input readers: format detection by
 * content, reading a file, and dispatch to the per-format parsers
 * (ingest_record.c, ingest_csv.c, ingest_prom.c), which fill the series
 * containers of ingest_series.c (see ingest.h). Dependencies run one way:
 * this file -> the parsers -> ingest_series.c.
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
            rc = mv__record_parse_line(p, (size_t)(eol - p), 0, rec);
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
