/*
 * record_read.c — the recording reader: one line of any kind into an
 * mv__record_line (mv__record_parse_line) and the line-by-line reader built
 * on it (mv__record_read, mv__record_read_ex); see record.h. The joined
 * stream over a rotated recording's files, which the commands hand to this
 * reader, is record_stream.c.
 *
 * DESIGN. JSON is parsed by jansson, the one JSON parser of memvigil outside
 * the preload library; this file only maps keys to fields. A sample line's
 * keys are the table of sample fields (sample_fields.h: the key is the
 * mv_sample member's name), decoded straight into an mv_sample by the type
 * the table gives; the other line kinds have a small table each. Version-1
 * recordings used other keys (t_ms, rss, anon, ...): one alias table maps
 * them, and only lines read under a version-1 header (or before any
 * header, which says nothing) look them up; an alias whose figure was in
 * another unit (per1000: bytes per 1000 units) says by what to divide it
 * into this version's (bytes per unit). Unknown
 * keys are ignored so newer writers may add fields. jansson checks the
 * grammar strictly (RFC 8259, UTF-8, no trailing garbage), because a line
 * that is only half right is more likely torn or corrupted than valid.
 * Parsing is separate from I/O: mv__record_parse_line works on bytes,
 * mv__record_read only splits a FILE into lines and decides what an error
 * means where:
 *  - the last line without a newline that does not parse is a torn write
 *    (the process died mid-line) and is skipped silently;
 *  - any other bad line is an error "line N: why" and -EINVAL; a line
 *    over 1 MiB is one ("line N: longer than 1 MiB"), and is never held
 *    in memory whole: reading stops after its first MiB (read_line);
 *  - a valid object of an unknown "type" is skipped (forward compatible);
 *  - a header of a newer version than MV_RECORD_VERSION is refused with
 *    -ENOTSUP and a message naming the version.
 * Header, sample and event lines are strict: a field of the wrong type
 * makes the line bad. Application lines (gauge, op, progress) are optional
 * extras: their time is checked as every line's, but their figures are
 * read as doubles, a wrong type as missing, and their consumer judges them
 * (record.h).
 *
 * Thread-safety: reentrant, no shared state; a FILE is read by one thread
 * at a time. Ownership: mv__record_read_ex holds its line buffer and
 * parsed line only for the call; the visitor's line is valid only during
 * its call.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record.h"
#include "sample_fields.h"
#include "util.h"

#define MAX_LINE_BYTES MV_RECORD_MAX_LINE_BYTES

/* ---- keys ---- */

/* Version 1's names of the fields that version 2 names by their field
 * (sample_fields.h for the sample's, record.h for the rest), and, when
 * version 1 had another unit, what to divide its figure by (0: the same). */
static const struct alias {
    const char *key, *v1;
    double divide_by;
} v1_keys[] = {
    {"timestamp_ms", "t_ms", 0},
    {"rss_bytes", "rss", 0},
    {"rss_anon_bytes", "anon", 0},
    {"rss_file_bytes", "file", 0},
    {"rss_shmem_bytes", "shmem", 0},
    {"swap_bytes", "swap", 0},
    {"private_bytes", "private", 0},   /* samples and progress lines */
    {"working_set_bytes", "working_set", 0},
    {"cg_usage_bytes", "cg_usage", 0},
    {"effective_limit_bytes", "limit", 0},
    {"usage_ratio", "ratio", 0},
    {"cg_oom_kill_events", "oom_kill", 0},
    {"growth_bytes_per_second", "growth_bps", 0},
    {"time_to_limit_seconds", "ttl_s", 0},
    /* progress lines: bytes per 1000 units, now bytes per unit */
    {"memory_per_unit_bytes", "per1000", 1000},
};

/* Version 1's spelling of a field: NULL when it had the same name. */
static const struct alias *v1_key(const char *key)
{
    for (size_t i = 0; i < sizeof v1_keys / sizeof v1_keys[0]; i++)
        if (strcmp(v1_keys[i].key, key) == 0)
            return &v1_keys[i];
    return NULL;
}

/* Field key's value in o of a line of version `version` (0: unknown, a
 * line before any header: this version's key, else version 1's, old), with
 * the key found in *found. NULL when absent. */
static json_t *get_field(json_t *o, const char *key, const char *old,
                         int version, const char **found)
{
    json_t *v;

    if (version != 1 && version != 0)
        old = NULL;
    v = version == 1 && old ? NULL : json_object_get(o, key);

    *found = key;
    if (!v && old) {
        v = json_object_get(o, old);
        *found = old;
    }
    return v;
}

/* ---- typed fields ---- */

typedef enum fkind {
    F_I64,    /* int64_t; null = MV_NA */
    F_LIM,    /* F_I64, and "max" = MV_UNLIMITED */
    F_I32,    /* int32_t */
    F_INT,    /* int */
    F_DBL,    /* double; null = NAN, "+Inf" / "-Inf" / "NaN" */
    F_STR,    /* char[size]; null = "", truncated to fit */
    F_TIME,   /* F_I64 within MV_RECORD_MAX_ABS_T_MS */
    F_PID,    /* int32_t; out of range reads as 0 (a header's pid) */
    F_XDBL,   /* application figure: double, NAN when not a number */
    F_XSTR,   /* application string: "" when not a string */
    F_XBUCKETS /* application op buckets (an array of numbers) */
} fkind;

typedef struct field {
    const char *key;
    fkind kind;
    size_t off;
    size_t size;   /* F_STR, F_XSTR: capacity */
} field;

#define LINE_OFF(m) offsetof(mv__record_line, m)
#define F(k, kind, m) {k, kind, LINE_OFF(m), 0}
#define FS(k, kind, m) {k, kind, LINE_OFF(m), sizeof(((mv__record_line *)0)->m)}

#define SAMPLE_KIND_I64 F_I64
#define SAMPLE_KIND_LIM F_LIM
#define SAMPLE_KIND_I32 F_I32
#define SAMPLE_KIND_INT F_INT
#define SAMPLE_KIND_DBL F_DBL
#define SAMPLE_FIELD(member, type, where, help) \
    F(#member, SAMPLE_KIND_##type, sample.member),

static const field sample_fields[] = {
    MV_SAMPLE_FIELDS(SAMPLE_FIELD)
    FS("level", F_STR, level),
    F("growth_bytes_per_second", F_DBL, growth_bytes_per_second),
    F("time_to_limit_seconds", F_DBL, time_to_limit_seconds),
};

static const field header_fields[] = {
    F("start_ms", F_TIME, t_ms),
    F("pid", F_PID, pid),
    F("interval_ms", F_I64, interval_ms),
    F("limit_bytes", F_I64, limit_bytes),
    F("segment", F_I64, segment),
    FS("command", F_STR, command),
    FS("host", F_STR, host),
};

static const field event_fields[] = {
    F("timestamp_ms", F_TIME, t_ms),
    FS("event", F_STR, event),
    FS("level", F_STR, level),
    FS("message", F_STR, message),
    F("growth_bytes_per_second", F_DBL, growth_bytes_per_second),
    F("time_to_limit_seconds", F_DBL, time_to_limit_seconds),
};

static const field gauge_fields[] = {
    F("timestamp_ms", F_TIME, t_ms),
    FS("name", F_XSTR, app.name),
    FS("labels", F_XSTR, app.labels),
    F("value", F_XDBL, app.value),
};

static const field op_fields[] = {
    F("timestamp_ms", F_TIME, t_ms),
    FS("name", F_XSTR, app.name),
    F("delta_bytes", F_XDBL, app.delta_bytes),
    F("count", F_XDBL, app.count),
    F("sum_bytes", F_XDBL, app.sum_bytes),
    F("min_bytes", F_XDBL, app.min_bytes),
    F("max_bytes", F_XDBL, app.max_bytes),
    F("duration_s", F_XDBL, app.duration_s),
    F("buckets", F_XBUCKETS, app.buckets),
};

static const field progress_fields[] = {
    F("timestamp_ms", F_TIME, t_ms),
    FS("unit", F_XSTR, app.name),
    F("units", F_XDBL, app.units),
    F("private_bytes", F_XDBL, app.private_bytes),
    F("memory_per_unit_bytes", F_XDBL, app.memory_per_unit_bytes),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct kind_table {
    const char *type;
    mv__record_kind kind;
    const field *fields;
    size_t n;
} kinds[] = {
    {"sample", MV_REC_SAMPLE, sample_fields, N(sample_fields)},
    {"event", MV_REC_EVENT, event_fields, N(event_fields)},
    {"header", MV_REC_HEADER, header_fields, N(header_fields)},
    {"gauge", MV_REC_GAUGE, gauge_fields, N(gauge_fields)},
    {"op", MV_REC_OP, op_fields, N(op_fields)},
    {"progress", MV_REC_PROGRESS, progress_fields, N(progress_fields)},
};

#define MAX_FIELDS 64
_Static_assert(N(sample_fields) <= MAX_FIELDS, "raise MAX_FIELDS");

/* Version 1's spelling of each field of each kind (NULL: the same key),
 * looked up in v1_keys once per read instead of once per field and line. */
typedef struct v1_names {
    const struct alias *of[N(kinds)][MAX_FIELDS];
} v1_names;

static void v1_names_init(v1_names *n)
{
    for (size_t k = 0; k < N(kinds); k++)
        for (size_t i = 0; i < kinds[k].n; i++)
            n->of[k][i] = v1_key(kinds[k].fields[i].key);
}

/* A JSON number as an int64_t: integers as they are, reals when integral
 * and in range (1.5e9). 0, or -EINVAL. */
static int num_i64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return -EINVAL;
}

/* A JSON value as a double: numbers, and the strings the writer uses for
 * infinities (and "NaN"). 0, or -EINVAL. */
static int num_dbl(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "+Inf") || !strcmp(s, "Inf")) {
            *out = INFINITY;
            return 0;
        }
        if (!strcmp(s, "-Inf")) {
            *out = -INFINITY;
            return 0;
        }
        if (!strcmp(s, "NaN")) {
            *out = NAN;
            return 0;
        }
    }
    return -EINVAL;
}

/* Assigns v to field f of out as a `kind`. 0, or -EINVAL with the reason
 * in *why. */
static int assign(const field *f, fkind kind, const json_t *v,
                  mv__record_line *out, const char **why)
{
    char *dst = (char *)out + f->off;
    int64_t i;
    double d;

    switch (kind) {
    case F_I64:
    case F_LIM:
    case F_TIME:
        if (json_is_null(v)) {
            i = MV_NA;
        } else if (kind == F_LIM && json_is_string(v) &&
                   !strcmp(json_string_value(v), "max")) {
            i = MV_UNLIMITED;
        } else if (num_i64(v, &i) != 0) {
            *why = kind == F_LIM ? "expected an integer, \"max\" or null"
                                    : "expected an integer or null";
            return -EINVAL;
        } else if (kind == F_TIME && (i > MV_RECORD_MAX_ABS_T_MS ||
                                         i < -MV_RECORD_MAX_ABS_T_MS)) {
            *why = "time out of range";
            return -EINVAL;
        }
        memcpy(dst, &i, sizeof i);
        return 0;
    case F_I32:
    case F_INT:
    case F_PID:
        if (json_is_null(v)) {
            if (kind != F_PID)
                return 0;   /* stays as mv_sample_clear left it */
            i = 0;
        } else if (num_i64(v, &i) != 0) {
            *why = "expected an integer or null";
            return -EINVAL;
        }
        if (i < INT32_MIN || i > INT32_MAX) {
            if (kind != F_PID) {
                *why = "out of range";
                return -EINVAL;
            }
            i = 0;
        }
        if (kind == F_INT) {
            int x = (int)i;
            memcpy(dst, &x, sizeof x);
        } else {
            int32_t x = (int32_t)i;
            memcpy(dst, &x, sizeof x);
        }
        return 0;
    case F_DBL:
        if (json_is_null(v)) {
            d = NAN;
        } else if (num_dbl(v, &d) != 0) {
            *why = "expected a number or null";
            return -EINVAL;
        }
        memcpy(dst, &d, sizeof d);
        return 0;
    case F_STR:
        if (json_is_null(v)) {
            dst[0] = '\0';
            return 0;
        }
        if (!json_is_string(v)) {
            *why = "expected a string or null";
            return -EINVAL;
        }
        mv__strlcpy(dst, json_string_value(v), f->size);
        return 0;
    case F_XDBL:
        d = json_is_number(v) ? json_number_value(v) : NAN;
        memcpy(dst, &d, sizeof d);
        return 0;
    case F_XSTR:
        mv__strlcpy(dst, json_is_string(v) ? json_string_value(v) : "",
                    f->size);
        return 0;
    case F_XBUCKETS:
        out->app.nbuckets = json_is_array(v) ? json_array_size(v) : 0;
        for (size_t k = 0; k < out->app.nbuckets && k < MV__RECORD_OP_BUCKETS;
             k++) {
            const json_t *b = json_array_get(v, k);
            out->app.buckets[k] = json_is_number(b) ? json_number_value(b)
                                                    : NAN;
        }
        return 0;
    }
    return 0;
}

static void line_clear(mv__record_line *l)
{
    /* only what a line of any kind may leave unset: the big strings are
     * cleared by their first byte */
    l->t_ms = MV_NA;
    mv_sample_clear(&l->sample);
    l->level[0] = l->event[0] = l->message[0] = '\0';
    l->command[0] = l->host[0] = '\0';
    l->growth_bytes_per_second = l->time_to_limit_seconds = NAN;
    l->version = 0;
    l->pid = 0;
    l->interval_ms = l->limit_bytes = l->segment = MV_NA;
    l->app.name[0] = l->app.labels[0] = '\0';
    l->app.value = l->app.delta_bytes = l->app.count = l->app.sum_bytes =
        l->app.min_bytes = l->app.max_bytes = l->app.duration_s = NAN;
    for (size_t k = 0; k < MV__RECORD_OP_BUCKETS; k++)
        l->app.buckets[k] = NAN;
    l->app.nbuckets = 0;
    l->app.units = l->app.private_bytes = l->app.memory_per_unit_bytes = NAN;
    l->lineno = 0;
}

/* The fields of one line kind from the object o. 0, or -EINVAL with the
 * reason in why. */
static int decode(const struct kind_table *k, const struct alias *const *v1,
                  json_t *o, int version, mv__record_line *out, char *why,
                  size_t whylen)
{
    for (size_t i = 0; i < k->n; i++) {
        const field *f = &k->fields[i];
        const char *key;
        json_t *v = get_field(o, f->key, v1[i] ? v1[i]->v1 : NULL, version,
                              &key);
        const char *r = NULL;
        /* the sample's time is an I64 of the table, bounded as every
         * line's time */
        fkind kind = f->off == LINE_OFF(sample.timestamp_ms) ? F_TIME
                                                             : f->kind;
        if (!v)
            continue;   /* missing: stays n/a */
        if (assign(f, kind, v, out, &r) != 0) {
            snprintf(why, whylen, "field \"%s\": %s", key, r);
            return -EINVAL;
        }
        if (v1[i] && v1[i]->divide_by != 0 && key == v1[i]->v1 &&
            (kind == F_DBL || kind == F_XDBL)) {
            /* version 1's figure in version 1's unit */
            double d;
            memcpy(&d, (char *)out + f->off, sizeof d);
            d /= v1[i]->divide_by;
            memcpy((char *)out + f->off, &d, sizeof d);
        }
    }
    if (k->kind == MV_REC_SAMPLE)
        out->t_ms = out->sample.timestamp_ms;
    return 0;
}

/* The header's version. 0, or -EINVAL with the reason in why. */
static int header_version(json_t *o, mv__record_line *out, char *why,
                          size_t whylen)
{
    json_t *v = json_object_get(o, "version");
    int64_t x;

    if (!v || json_is_null(v)) {
        mv__strlcpy(why, "header without a version", whylen);
        return -EINVAL;
    }
    if (num_i64(v, &x) != 0 || x <= 0 || x > 1000000) {
        mv__strlcpy(why, "field \"version\": bad version", whylen);
        return -EINVAL;
    }
    out->version = (int)x;
    return 0;
}

/* Parses one line read under header version `version`; on error why names
 * the reason. -EINVAL: not a recording line; -ENOMSG: a valid object of an
 * unknown type; -ENOMEM. */
static int parse_line(const char *line, size_t len, int version,
                      const v1_names *names, mv__record_line *out, char *why,
                      size_t whylen)
{
    json_error_t je;
    json_t *o, *t;
    const char *type;
    int rc = -EINVAL;

    line_clear(out);
    why[0] = '\0';
    /* JSON_REJECT_DUPLICATES is not set: the last of a repeated key wins */
    o = json_loadb(line, len, 0, &je);
    if (!o) {
        size_t i = 0;
        if (json_error_code(&je) == json_error_out_of_memory)
            return -ENOMEM;
        while (i < len && (line[i] == ' ' || line[i] == '\t' ||
                           line[i] == '\r'))
            i++;
        if (i < len && line[i] != '{' && line[i] != '[')
            mv__strlcpy(why, "not a JSON object", whylen);
        else
            snprintf(why, whylen, "bad JSON: %s", je.text);
        return -EINVAL;
    }
    if (!json_is_object(o)) {
        mv__strlcpy(why, "not a JSON object", whylen);
        goto out;
    }
    t = json_object_get(o, "type");
    if (!t) {
        mv__strlcpy(why, "no \"type\"", whylen);
        goto out;
    }
    if (!json_is_string(t)) {
        mv__strlcpy(why, "\"type\" is not a string", whylen);
        goto out;
    }
    type = json_string_value(t);
    for (size_t i = 0; i < N(kinds); i++) {
        if (strcmp(type, kinds[i].type) != 0)
            continue;
        out->kind = kinds[i].kind;
        if (kinds[i].kind == MV_REC_HEADER &&
            header_version(o, out, why, whylen) != 0)
            goto out;
        rc = decode(&kinds[i], names->of[i], o, version, out, why, whylen);
        goto out;
    }
    rc = -ENOMSG;
out:
    json_decref(o);
    return rc;
}

int mv__record_parse_line(const char *line, size_t len, int version,
                          mv__record_line *out)
{
    char why[256];
    v1_names names;

    if (!line || !out)
        return -EINVAL;
    v1_names_init(&names);
    return parse_line(line, len, version > 0 ? version : 0, &names, out, why,
                      sizeof why);
}

/* Reads one line of f (without its '\n') into *buf, grown as needed but
 * never past MAX_LINE_BYTES + 1: reading stops there, the rest of a longer
 * line is left unread, so a hostile file (or an endless stream) can make
 * us neither buffer gigabytes nor read forever. NUL bytes
 * are kept (the parser rejects them). Returns 1 when a line was read, 0 at
 * EOF (or a read error: see ferror), -ENOMEM. *len is the kept length
 * (MAX_LINE_BYTES + 1 means "longer than the cap"). */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len,
                     int *has_nl)
{
    size_t n = 0;
    int c, any = 0;

    *has_nl = 0;
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF) {
        any = 1;
        if (c == '\n') {
            *has_nl = 1;
            break;
        }
        if (n + 1 >= *cap) {
            size_t ncap = *cap ? *cap * 2 : 4096;
            if (ncap > MAX_LINE_BYTES + 2)
                ncap = MAX_LINE_BYTES + 2;
            char *nb = realloc(*buf, ncap);
            if (!nb) {
                funlockfile(f);
                return -ENOMEM;
            }
            *buf = nb;
            *cap = ncap;
        }
        (*buf)[n++] = (char)c;
        if (n > MAX_LINE_BYTES)
            break;   /* over the cap: the caller refuses the line, so the
                      * rest (maybe endless: a FIFO) is never read */
    }
    funlockfile(f);
    if (!any)
        return 0;
    if (*buf)
        (*buf)[n] = '\0';
    *len = n;
    return 1;
}

int mv__record_read(FILE *f, mv__record_visit_fn visit, void *ctx,
                    char *err, size_t errlen)
{
    return mv__record_read_ex(f, visit, ctx, NULL, err, errlen);
}

int mv__record_read_ex(FILE *f, mv__record_visit_fn visit, void *ctx,
                       mv__record_read_info *info, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0, len = 0;
    int has_nl, got;
    long long lineno = 0;
    int rc = 0;
    int version = 0;   /* before any header: either version's keys */
    mv__record_line *rec;
    v1_names names;

    if (err && errlen)
        err[0] = '\0';
    if (info)
        memset(info, 0, sizeof *info);
    if (!f || !visit)
        return -EINVAL;
    rec = malloc(sizeof *rec);
    if (!rec)
        return -ENOMEM;
    v1_names_init(&names);

    while ((got = read_line(f, &line, &cap, &len, &has_nl)) > 0) {
        char why[256];
        int prc;
        size_t i;

        lineno++;
        for (i = 0; i < len && len <= MAX_LINE_BYTES &&
                    (line[i] == ' ' || line[i] == '\t' || line[i] == '\r');
             i++) {
        }
        if (i == len)
            continue;   /* blank line (an over-long one is not skipped) */
        if (len > MAX_LINE_BYTES) {
            prc = -EINVAL;
            mv__strlcpy(why, "longer than 1 MiB", sizeof why);
        } else {
            prc = parse_line(line, len, version, &names, rec, why,
                             sizeof why);
        }
        if (prc == -ENOMSG)
            continue;   /* a kind from a newer writer */
        if (prc == -EINVAL) {
            /* Torn final line: the writer died mid-write. */
            if (!has_nl && getc(f) == EOF && !ferror(f)) {
                if (info)
                    info->torn_line = lineno;
                break;
            }
            if (err && errlen)
                snprintf(err, errlen, "line %lld: %s", lineno, why);
            rc = -EINVAL;
            break;
        }
        if (prc < 0) {
            rc = prc;
            break;
        }
        if (rec->kind == MV_REC_HEADER && rec->version > MV_RECORD_VERSION) {
            if (err && errlen)
                snprintf(err, errlen,
                         "line %lld: recording version %d is newer than this "
                         "memvigil reads (version %d)",
                         lineno, rec->version, MV_RECORD_VERSION);
            rc = -ENOTSUP;
            break;
        }
        if (rec->kind == MV_REC_HEADER)
            version = rec->version;   /* the keys of the lines after it */
        rec->lineno = lineno;
        if (visit(rec, ctx) != 0)
            break;
    }
    if (info)
        info->lines = lineno;
    if (got < 0 && rc == 0)
        rc = got;
    if (rc == 0 && ferror(f)) {
        rc = -EIO;
        if (err && errlen)
            snprintf(err, errlen, "line %lld: read error", lineno + 1);
    }
    free(line);
    free(rec);
    return rc;
}
