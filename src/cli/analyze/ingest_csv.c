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
 * Timestamps may also be ISO 8601 date-times, as spreadsheets and most
 * monitoring exports write them: 2026-01-31T12:00:00Z, with a space for
 * the T, fractions of seconds, an offset (+01:00, +0100) or none (UTC).
 * One file uses one kind: numbers and dates do not mix.
 * --signal picks a value column by header name; the default is column 2.
 * Values are bytes, unless the column's name ends in a unit (rss_kb,
 * "RSS (MiB)", mem_mb, or just KiB): kb/kib, mb/mib, gb/gib scale by
 * powers of 1024 (the kB of /proc and ps is KiB), and a warning says so.
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

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p. 0 or -EINVAL. */
static int digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;

    if (end - *p < n)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -EINVAL;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Parses a whole field as an ISO 8601 date-time, YYYY-MM-DD[T ]HH:MM[:SS
 * [.fff]][Z|+HH[:MM]|-HH[:MM]] (no offset: UTC), into Unix seconds. 0 or
 * -EINVAL. */
static int parse_iso(const field *f, double *out)
{
    const char *p = f->p, *end = f->p + f->n;
    int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 0;
    double frac = 0;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31};

    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
        digits(&p, end, 2, &mo) || p >= end || *p++ != '-' ||
        digits(&p, end, 2, &d) || p >= end || (*p != 'T' && *p != 't' &&
                                               *p != ' '))
        return -EINVAL;
    p++;
    if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' ||
        digits(&p, end, 2, &mi))
        return -EINVAL;
    if (p < end && *p == ':') {
        p++;
        if (digits(&p, end, 2, &sec))
            return -EINVAL;
        if (p < end && *p == '.') {
            double scale = 0.1;
            p++;
            if (p >= end || *p < '0' || *p > '9')
                return -EINVAL;
            while (p < end && *p >= '0' && *p <= '9') {
                frac += (*p++ - '0') * scale;
                scale /= 10;
            }
        }
    }
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, end, 2, &oh))
            return -EINVAL;
        if (p < end && *p == ':' && ++p >= end) /* "+01:" */
            return -EINVAL;
        if (p < end && digits(&p, end, 2, &om))
            return -EINVAL;
    }
    if (p != end || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ||
        h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
        return -EINVAL;
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 +
           mi * 60.0 + sec + frac - sign * (oh * 3600.0 + om * 60.0);
    return 0;
}

/* The bytes one unit of a column is worth, from the last word of its
 * header name (rss_kb, "RSS (MiB)", mem_mb, memory_bytes, or a name that
 * is only a unit: KiB); 1 when it names no unit. *unit_name: the unit as
 * written, for the note saying so. */
static double unit_of(const field *f, char *unit_name, size_t unit_len)
{
    static const struct { const char *word; double bytes; } units[] = {
        {"kb", 1024.0}, {"kib", 1024.0}, {"kbytes", 1024.0},
        {"mb", 1048576.0}, {"mib", 1048576.0}, {"mbytes", 1048576.0},
        {"gb", 1073741824.0}, {"gib", 1073741824.0}, {"gbytes", 1073741824.0},
    };
    size_t e = f->n, b;

    while (e > 0 && !((f->p[e - 1] >= 'a' && f->p[e - 1] <= 'z') ||
                      (f->p[e - 1] >= 'A' && f->p[e - 1] <= 'Z') ||
                      (f->p[e - 1] >= '0' && f->p[e - 1] <= '9')))
        e--;
    b = e;
    while (b > 0 && ((f->p[b - 1] >= 'a' && f->p[b - 1] <= 'z') ||
                     (f->p[b - 1] >= 'A' && f->p[b - 1] <= 'Z')))
        b--;
    if (e - b > 6)
        return 1.0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].word) == e - b &&
            strncasecmp(f->p + b, units[i].word, e - b) == 0) {
            snprintf(unit_name, unit_len, "%.*s", (int)(e - b), f->p + b);
            return units[i].bytes;
        }
    return 1.0;
}

/* A timestamp field: a number (*iso 0) or an ISO 8601 date-time (*iso 1,
 * Unix seconds). 0 or -EINVAL. */
static int parse_time(const field *f, double *out, int *iso)
{
    if (parse_num(f, out) == 0) {
        *iso = 0;
        return 0;
    }
    if (parse_iso(f, out) == 0) {
        *iso = 1;
        return 0;
    }
    return -EINVAL;
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
    int seen_first = 0, in_ms = 0, has_header = 0, iso = 0, first_iso = -1;
    double scale = 1000.0, unit = 1.0;
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
            if (parse_time(&f[0], &t, &iso) != 0) {
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
                unit = unit_of(&f[col], b, sizeof b);
                if (unit != 1.0 && warn)
                    mv__buf_printf(warn, "%s: column '%s' read in %s (x %.0f "
                                   "bytes)\n", name, s->signal, b, unit);
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
        else if (parse_time(&f[0], &t, &iso) != 0 ||
                 (first_iso >= 0 && iso != first_iso))
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
                         "(expected %s)", name, lineno, a,
                         first_iso == 1 ? "an ISO 8601 date-time, as on the "
                                          "lines before"
                         : first_iso == 0 ? "seconds, as on the lines before"
                                          : "seconds or an ISO 8601 "
                                            "date-time");
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
        v *= unit; /* before the checks: 1e300 GiB is infinite */
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
        if (first_iso < 0)
            first_iso = iso;
        if (s->n == 0 && !iso && fabs(t) >= MS_THRESHOLD) {
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
