/*
 * ingest_csv.c — plain CSV input of `memvigil analyze`: `seconds,bytes`
 * per line, an optional header, extra columns ignored (see ingest.h).
 *
 * DESIGN. The format is what people export from anything (a spreadsheet, a
 * shell loop over /proc, a monitoring export), so the reader is lenient in
 * form and strict in meaning:
 *  - lenient: an optional header (a first line whose first field is not a
 *    number), '#' comment lines, blank lines, CRLF, spaces around fields,
 *    double quotes around fields, extra columns;
 *  - strict: every data line must give a finite timestamp and a finite,
 *    non-negative value; times must strictly increase. A value that is
 *    wrong is never skipped quietly, because a silently dropped stretch of
 *    data can turn into a wrong verdict.
 * Timestamps are seconds, absolute (Unix epoch) or relative (from any
 * origin), fractions allowed. A first timestamp >= 1e11 cannot be seconds
 * (that is the year 5138) and is taken for epoch milliseconds, a common
 * export mistake, rather than producing a 1000x too slow time axis.
 * --signal picks a value column by header name; the default is column 2.
 * The last line without a newline that does not parse is a torn write and
 * is skipped with a warning, as in recordings.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest.h"
#include "util.h"

#define MAX_FIELDS 64
#define MS_THRESHOLD 1e11   /* first timestamp at or above: milliseconds */

typedef struct field {
    const char *p;
    size_t n;
} field;

static size_t split(const char *p, size_t len, field *f, size_t max)
{
    size_t nf = 0, i = 0;

    while (nf < max) {
        size_t start = i, end;

        while (i < len && p[i] != ',')
            i++;
        end = i;
        while (start < end && (p[start] == ' ' || p[start] == '\t'))
            start++;
        while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end - start >= 2 && p[start] == '"' && p[end - 1] == '"') {
            start++;
            end--;
        }
        f[nf].p = p + start;
        f[nf].n = end - start;
        nf++;
        if (i >= len)
            break;
        i++;   /* the comma */
    }
    return nf;
}

/* Parses a whole field as a double. 0, or -EINVAL (not a number). */
static int parse_num(const field *f, double *out)
{
    char tmp[64], *end;

    if (f->n == 0 || f->n >= sizeof tmp)
        return -EINVAL;
    memcpy(tmp, f->p, f->n);
    tmp[f->n] = '\0';
    if (tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X'))
        return -EINVAL;
    errno = 0;
    *out = strtod(tmp, &end);
    if (end == tmp || *end != '\0' || errno == ERANGE)
        return -EINVAL;
    return 0;
}

static void show(const field *f, char *out, size_t n)
{
    size_t k = f->n < n - 1 ? f->n : n - 1;
    size_t i;

    memcpy(out, f->p, k);
    out[k] = '\0';
    for (i = 0; i < k; i++)
        if ((unsigned char)out[i] < 0x20)
            out[i] = '?';
    if (f->n > k && k > 3)
        memcpy(out + k - 3, "...", 3);
}

static int printable(const field *f)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        if ((unsigned char)f->p[i] < 0x20 || f->p[i] == 0x7f)
            return 0;
    return 1;
}

int cli_ingest_csv(const char *name, const char *data, size_t len,
                   const cli_ingest_opts *o, cli_series_set *out,
                   mv_buf *warn, char *err, size_t errlen)
{
    const char *p = data, *end = data + len;
    size_t keep = out->n, lineno = 0, col = 1, prev_line = 0, nf;
    int seen_first = 0, in_ms = 0, has_header = 0;
    double scale = 1000.0;
    int64_t prev_t = 0;
    field f[MAX_FIELDS];
    char a[48], b[48];
    cli_series *s;

    s = cli_series_set_add(out, name, CLI_FMT_CSV);
    if (!s)
        return -ENOMEM;
    mv__strlcpy(s->signal, "bytes", sizeof s->signal);
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        int has_nl = eol != NULL;
        size_t n;
        double t, v;
        int64_t t_ms;
        const char *why = NULL;

        if (!eol)
            eol = end;
        n = (size_t)(eol - p);
        lineno++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        {
            size_t i = 0;

            while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (i == n || p[i] == '#') {   /* blank or comment */
                p = eol + has_nl;
                continue;
            }
        }
        nf = split(p, n, f, MAX_FIELDS);
        if (!seen_first) {
            seen_first = 1;
            if (parse_num(&f[0], &t) != 0) {
                /* A header: names only, one of which may be the signal. */
                size_t i;

                for (i = 0; i < nf; i++)
                    if (!printable(&f[i])) {
                        snprintf(err, errlen, "%s: line %zu: not CSV text "
                                 "(control characters in the header)",
                                 name, lineno);
                        goto fail;
                    }
                if (nf < 2) {
                    snprintf(err, errlen, "%s: line %zu: header has one "
                             "column; expected at least 'seconds,bytes'",
                             name, lineno);
                    goto fail;
                }
                has_header = 1;
                if (o->signal) {
                    for (i = 1; i < nf; i++)
                        if (f[i].n == strlen(o->signal) &&
                            strncasecmp(f[i].p, o->signal, f[i].n) == 0)
                            break;
                    if (i == nf) {
                        snprintf(err, errlen, "%s: line %zu: no column "
                                 "named '%s' in the header", name, lineno,
                                 o->signal);
                        cli_series_set_truncate(out, keep);
                        return -ENOENT;
                    }
                    col = i;
                }
                show(&f[col], s->signal, sizeof s->signal);
                p = eol + has_nl;
                continue;
            }
            if (o->signal) {
                snprintf(err, errlen, "%s: --signal %s needs a CSV header "
                         "naming the columns", name, o->signal);
                cli_series_set_truncate(out, keep);
                return -ENOENT;
            }
        }
        if (nf <= col)
            why = col == 1 ? "expected 'seconds,bytes' (at least two "
                             "comma-separated fields)"
                           : "missing the signal's column";
        else if (parse_num(&f[0], &t) != 0)
            why = "bad timestamp";
        else if (parse_num(&f[col], &v) != 0)
            why = "bad value";
        if (why) {
            if (!has_nl) {   /* torn last line: the writer died mid-line */
                if (warn)
                    mv__buf_printf(warn, "%s: line %zu: incomplete last line "
                                   "(no newline) skipped\n", name, lineno);
                break;
            }
            if (nf <= col)
                snprintf(err, errlen, "%s: line %zu: %s", name, lineno, why);
            else if (strcmp(why, "bad timestamp") == 0) {
                show(&f[0], a, sizeof a);
                snprintf(err, errlen, "%s: line %zu: bad timestamp '%s' "
                         "(expected seconds)", name, lineno, a);
            } else {
                show(&f[col], a, sizeof a);
                snprintf(err, errlen, "%s: line %zu: bad value '%s' (expected "
                         "bytes as a number)", name, lineno, a);
            }
            goto fail;
        }
        if (!isfinite(t)) {
            snprintf(err, errlen, "%s: line %zu: timestamp is %s", name,
                     lineno, isnan(t) ? "NaN" : "infinite");
            goto fail;
        }
        if (isnan(v) || isinf(v)) {
            snprintf(err, errlen, "%s: line %zu: value is %s", name, lineno,
                     isnan(v) ? "NaN" : "infinite");
            goto fail;
        }
        if (v < 0) {
            show(&f[col], a, sizeof a);
            snprintf(err, errlen, "%s: line %zu: negative value %s (memory "
                     "cannot be negative)", name, lineno, a);
            goto fail;
        }
        if (s->n == 0 && fabs(t) >= MS_THRESHOLD) {
            in_ms = 1;
            scale = 1.0;
        }
        if (fabs(t * scale) > 9e15) {
            show(&f[0], a, sizeof a);
            snprintf(err, errlen, "%s: line %zu: timestamp %s out of range",
                     name, lineno, a);
            goto fail;
        }
        t_ms = (int64_t)llround(t * scale);
        if (s->n > 0 && t_ms <= prev_t) {
            show(&f[0], a, sizeof a);
            snprintf(b, sizeof b, "%.15g", (double)prev_t / scale);
            if (t_ms == prev_t)
                snprintf(err, errlen, "%s: line %zu: duplicate timestamp %s "
                         "(also at line %zu)", name, lineno, a, prev_line);
            else
                snprintf(err, errlen, "%s: line %zu: timestamp %s is before "
                         "the previous one (%s at line %zu); timestamps must "
                         "increase", name, lineno, a, b, prev_line);
            goto fail;
        }
        if (cli_series_push(s, t_ms, v) != 0) {
            cli_series_set_truncate(out, keep);
            return -ENOMEM;
        }
        prev_t = t_ms;
        prev_line = lineno;
        p = eol + has_nl;
    }
    (void)in_ms;
    if (s->n == 0)
        snprintf(s->note, sizeof s->note, "%s", has_header ?
                 "no data points (only a header)" : "no data points");
    else if (s->n == 1)
        snprintf(s->note, sizeof s->note, "only one data point");
    return 0;

fail:
    cli_series_set_truncate(out, keep);
    return -EINVAL;
}
