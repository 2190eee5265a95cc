/*
 * sample_json.c — the JSON form of a sample's fields (see sample_json.h).
 *
 * Design: one loop over MV_SAMPLE_FIELDS writes every output's sample
 * members, so a field added to the table appears, under its member name, in
 * the status document, `inspect --json` and (when marked REC) the one-line
 * outputs without another edit. The table's type picks the writer; the
 * table's where column picks the short set.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample_fields.h"
#include "sample_json.h"
#include "util.h"

int mv__json_double(mv_buf *out, double v)
{
    if (!isfinite(v))
        return mv__buf_append(out, "null", 4);
    char tmp[40];
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return mv__buf_append(out, tmp, (size_t)len);
}

int mv__json_line_time(mv_buf *out, int64_t wall_ms)
{
    char ts[64];
    time_t secs = (time_t)(wall_ms / 1000);
    int ms = (int)(wall_ms % 1000);
    struct tm tm;

    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    if (gmtime_r(&secs, &tm))
        snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ms);
    else
        snprintf(ts, sizeof ts, "1970-01-01T00:00:00.000Z");
    return mv__buf_printf(out, "\"time\":\"%s\",\"timestamp_ms\":%lld", ts,
                          (long long)wall_ms);
}

static int put_I64(mv_buf *b, int64_t v) { return mv__buf_json_int(b, v); }

static int put_LIM(mv_buf *b, int64_t v)
{
    return v == MV_UNLIMITED ? mv__buf_puts(b, "\"max\"") : mv__buf_json_int(b, v);
}

static int put_I32(mv_buf *b, int32_t v) { return mv__buf_printf(b, "%d", (int)v); }
static int put_INT(mv_buf *b, int v) { return mv__buf_printf(b, "%d", v); }
static int put_DBL(mv_buf *b, double v) { return mv__json_double(b, v); }

/* where column: is the field in the short (REC) set */
#define SJ_IN_REC_REC 1
#define SJ_IN_REC_ALL 0
#define SJ_IN_REC_ALC (s->alloc_kind != 0)

int mv__sample_json_fields(mv_buf *out, const mv_sample *s, unsigned flags)
{
    if (!out || !s)
        return -EINVAL;
    size_t start = out->len;
    int rc = 0;
#define X(member, type, where, help)                                          \
    if (!rc && (!(flags & MV__SJ_REC) || SJ_IN_REC_##where) &&                 \
        !((flags & MV__SJ_NO_TIMESTAMP) &&                                     \
          offsetof(mv_sample, member) == offsetof(mv_sample, timestamp_ms))) { \
        rc = mv__buf_puts(out, ",\"" #member "\":");                           \
        if (!rc) rc = put_##type(out, s->member);                              \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

const char *mv__limit_source_name(mv_limit_source src)
{
    switch (src) {
    case MV_LIMIT_CGROUP_MAX: return "cgroup_max";
    case MV_LIMIT_CGROUP_HIGH: return "cgroup_high";
    case MV_LIMIT_MEMTOTAL: return "memtotal";
    case MV_LIMIT_CONFIG: return "config";
    case MV_LIMIT_NONE:
    default: return "none";
    }
}

static int json_psi(mv_buf *b, const char *key, const mv_psi *p)
{
    int rc = mv__buf_printf(b, ",\"%s\":{\"avg10\":", key);
    if (!rc) rc = mv__json_double(b, p->avg10);
    if (!rc) rc = mv__buf_puts(b, ",\"avg60\":");
    if (!rc) rc = mv__json_double(b, p->avg60);
    if (!rc) rc = mv__buf_puts(b, ",\"avg300\":");
    if (!rc) rc = mv__json_double(b, p->avg300);
    if (!rc) rc = mv__buf_puts(b, ",\"total_us\":");
    if (!rc) rc = mv__buf_json_int(b, p->total_us);
    if (!rc) rc = mv__buf_puts(b, "}");
    return rc;
}

int mv__sample_to_json(mv_buf *out, const mv_sample *s)
{
    if (!out || !s)
        return -EINVAL;
    size_t start = out->len;
    /* a member first, so the table's members all take a leading comma */
    int rc = mv__buf_puts(out, "{\"cgroup_path\":");
    if (!rc) {
        char path[sizeof s->cgroup_path];
        memcpy(path, s->cgroup_path, sizeof path); /* never trust termination */
        path[sizeof path - 1] = '\0';
        rc = s->cgroup_version ? mv__buf_json_string(out, path)
                               : mv__buf_puts(out, "null");
    }
    if (!rc) rc = mv__sample_json_fields(out, s, 0);
    if (!rc) rc = json_psi(out, "cg_psi_some", &s->cg_psi_some);
    if (!rc) rc = json_psi(out, "cg_psi_full", &s->cg_psi_full);
    if (!rc) rc = json_psi(out, "sys_psi_some", &s->sys_psi_some);
    if (!rc) rc = json_psi(out, "sys_psi_full", &s->sys_psi_full);
    if (!rc) rc = mv__buf_printf(out, ",\"limit_source\":\"%s\"}",
                                 mv__limit_source_name(s->limit_source));
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
