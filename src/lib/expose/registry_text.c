/*
 * registry_text.c — the low-level writers of the Prometheus text 0.0.4 and
 * OpenMetrics 1.0 exposition formats: family metadata, sample lines, number
 * and label-value spelling. Shared by the registry (its own families) and by
 * expose.c (the monitor's families), so both spell numbers and metadata the
 * same way.
 *
 * Design: the writers are the hot path of a scrape (10k series must render
 * in a few milliseconds), so integers are converted by hand rather than via
 * printf, and a sample line is reserved once and copied in. Doubles use the
 * shortest "%.*g" that reads back to the same value, so 0.85 is written
 * "0.85", not "0.84999999999999998".
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"

/* Writes v in decimal into tmp (at least 21 bytes); returns the length. */
static size_t fmt_i64(char *tmp, int64_t v)
{
    char rev[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (v < 0)
        tmp[k++] = '-';
    while (n)
        tmp[k++] = rev[--n];
    tmp[k] = '\0';
    return k;
}

/* Shortest %g spelling of a finite double that parses back identically. */
static size_t fmt_double(char *tmp, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 9.0e15)
        return fmt_i64(tmp, (int64_t)v);
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(tmp, n, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return len > 0 ? (size_t)len : 0;
}

int mv__metric_int(mv_buf *b, int64_t v)
{
    char tmp[24];
    size_t k = fmt_i64(tmp, v);
    return mv__buf_append(b, tmp, k);
}

int mv__metric_double(mv_buf *b, double v)
{
    if (isnan(v))
        return mv__buf_append(b, "NaN", 3);
    if (isinf(v))
        return mv__buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    char tmp[40];
    size_t k = fmt_double(tmp, sizeof tmp, v);
    return mv__buf_append(b, tmp, k);
}

int mv__json_number(mv_buf *b, double v)
{
    if (!isfinite(v))
        return mv__buf_append(b, "null", 4);
    char tmp[40];
    size_t k = fmt_double(tmp, sizeof tmp, v);
    return mv__buf_append(b, tmp, k);
}

int mv__metric_le(mv_buf *b, mv_format fmt, double bound)
{
    if (isinf(bound) || isnan(bound))
        return mv__metric_double(b, bound);
    char tmp[40];
    size_t k = fmt_double(tmp, sizeof tmp, bound);
    if (fmt == MV_FORMAT_OPENMETRICS && !memchr(tmp, '.', k) &&
        !memchr(tmp, 'e', k)) {
        tmp[k++] = '.';
        tmp[k++] = '0';
    }
    return mv__buf_append(b, tmp, k);
}

int mv__metric_label_value(mv_buf *b, const char *v)
{
    size_t start = b->len;
    const char *p = v ? v : "";
    int rc = 0;
    while (!rc && *p) {
        size_t run = strcspn(p, "\\\"\n");
        if (run) {
            rc = mv__buf_append(b, p, run);
            p += run;
            continue;
        }
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n";
        rc = mv__buf_append(b, esc, 2);
        p++;
    }
    if (rc) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    return rc;
}

int mv__metric_family(mv_buf *b, mv_format fmt, const char *name,
                      const char *type, const char *unit, const char *help)
{
    size_t nlen = strlen(name);
    if (fmt == MV_FORMAT_OPENMETRICS && strcmp(type, "counter") == 0 &&
        nlen > 6 && strcmp(name + nlen - 6, "_total") == 0)
        nlen -= 6;
    if (strcmp(type, "info") == 0) {
        /* OpenMetrics has an info type (family without _info); 0.0.4 does
         * not, so there it is the conventional gauge of value 1. */
        if (fmt == MV_FORMAT_OPENMETRICS && nlen > 5 &&
            strcmp(name + nlen - 5, "_info") == 0)
            nlen -= 5;
        else
            type = "gauge";
    }
    int rc;
    if (fmt == MV_FORMAT_OPENMETRICS) {
        rc = mv__buf_printf(b, "# TYPE %.*s %s\n# HELP %.*s %s\n", (int)nlen,
                            name, type, (int)nlen, name, help);
        if (!rc && unit)
            rc = mv__buf_printf(b, "# UNIT %.*s %s\n", (int)nlen, name, unit);
    } else {
        rc = mv__buf_printf(b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)nlen,
                            name, help, (int)nlen, name, type);
    }
    return rc;
}

/* Appends "name{labels} " (the value follows). */
static int sample_head(mv_buf *b, const char *name, const char *labels)
{
    size_t nl = strlen(name), ll = labels ? strlen(labels) : 0;
    int rc = mv__buf_reserve(b, nl + ll + 4);
    if (rc)
        return rc;
    char *p = b->data + b->len;
    memcpy(p, name, nl);
    p += nl;
    if (ll) {
        *p++ = '{';
        memcpy(p, labels, ll);
        p += ll;
        *p++ = '}';
    }
    *p++ = ' ';
    *p = '\0';
    b->len = (size_t)(p - b->data);
    return 0;
}

int mv__metric_sample_int(mv_buf *b, const char *name, const char *labels,
                          int64_t v)
{
    size_t start = b->len;
    int rc = sample_head(b, name, labels);
    if (!rc)
        rc = mv__metric_int(b, v);
    if (!rc)
        rc = mv__buf_append(b, "\n", 1);
    if (rc) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    return rc;
}

int mv__metric_sample_double(mv_buf *b, const char *name, const char *labels,
                             double v)
{
    size_t start = b->len;
    int rc = sample_head(b, name, labels);
    if (!rc)
        rc = mv__metric_double(b, v);
    if (!rc)
        rc = mv__buf_append(b, "\n", 1);
    if (rc) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    return rc;
}
