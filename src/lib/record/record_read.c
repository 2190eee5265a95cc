/*
 * record_read.c — the recording reader: a small JSON object parser
 * (mv__record_parse_line) and the line-by-line reader built on it
 * (mv__record_read, mv__record_read_ex); see record.h. The joined stream
 * over a rotated recording's files, which the commands hand to this reader,
 * is record_stream.c.
 *
 * DESIGN. Recording lines are flat JSON objects of strings, numbers, null
 * and booleans, so the parser is a single pass over one object that assigns
 * each known key straight into the mv__record_line; unknown keys are
 * skipped (nested objects and arrays included, depth-bounded) so newer
 * writers may add fields. The grammar is checked strictly (RFC 8259 numbers,
 * string escapes, no trailing garbage) because a line that is only half
 * right is more likely a torn or corrupted line than a valid one. Parsing is
 * separate from I/O: mv__record_parse_line works on bytes, mv__record_read
 * only splits a FILE into lines and decides what an error means where:
 *  - the last line without a newline that does not parse is a torn write
 *    (the process died mid-line) and is skipped silently;
 *  - any other bad line is an error "line N: why" and -EINVAL; a line
 *    over 1 MiB is one ("line N: longer than 1 MiB"), and is never held
 *    in memory whole: reading stops after its first MiB (read_line);
 *  - a valid object of an unknown "type" is skipped (forward compatible);
 *  - a header of a newer version than MV_RECORD_VERSION is refused with
 *    -ENOTSUP and a message naming the version.
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

#include "record.h"
#include "util.h"

#define MAX_DEPTH 32
#define MAX_LINE_BYTES MV_RECORD_MAX_LINE_BYTES

typedef struct parser {
    const char *p, *end;
    const char *why;     /* static reason of the first error */
    char msg[128];       /* the reason with context, when built */
} parser;

typedef enum vkind { V_NULL, V_BOOL, V_NUM, V_STR, V_NESTED } vkind;

typedef struct value {
    vkind kind;
    int boolean;
    double num;          /* V_NUM */
    int is_int;          /* V_NUM written without fraction/exponent */
    long long ival;      /* V_NUM when is_int and it fits */
    int ival_ok;
    char str[512];       /* V_STR, decoded UTF-8, truncated if longer */
} value;

static int fail(parser *ps, const char *why)
{
    if (!ps->why)
        ps->why = why;
    return -EINVAL;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\r' || *ps->p == '\n'))
        ps->p++;
}

static int hex4(parser *ps, unsigned *out)
{
    unsigned v = 0;

    if (ps->end - ps->p < 4)
        return fail(ps, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(ps, "bad \\u escape");
    }
    *out = v;
    return 0;
}

/* Appends c to out (size n, at *len) if it fits, keeping room for NUL. */
static void put_byte(char *out, size_t n, size_t *len, char c)
{
    if (out && *len + 1 < n)
        out[*len] = c;
    (*len)++;
}

static void put_utf8(char *out, size_t n, size_t *len, unsigned cp)
{
    if (cp < 0x80) {
        put_byte(out, n, len, (char)cp);
    } else if (cp < 0x800) {
        put_byte(out, n, len, (char)(0xC0 | (cp >> 6)));
        put_byte(out, n, len, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put_byte(out, n, len, (char)(0xE0 | (cp >> 12)));
        put_byte(out, n, len, (char)(0x80 | ((cp >> 6) & 0x3F)));
        put_byte(out, n, len, (char)(0x80 | (cp & 0x3F)));
    } else {
        put_byte(out, n, len, (char)(0xF0 | (cp >> 18)));
        put_byte(out, n, len, (char)(0x80 | ((cp >> 12) & 0x3F)));
        put_byte(out, n, len, (char)(0x80 | ((cp >> 6) & 0x3F)));
        put_byte(out, n, len, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Parses a string literal at ps->p (the opening quote). Decodes into out
 * (size n; may be NULL to only skip), truncating silently; *full is the
 * decoded length before truncation. */
static int parse_string(parser *ps, char *out, size_t n, size_t *full)
{
    size_t len = 0;

    if (ps->p >= ps->end || *ps->p != '"')
        return fail(ps, "expected a string");
    ps->p++;
    for (;;) {
        unsigned char c;
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        c = (unsigned char)*ps->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(ps, "control character in string");
        if (c != '\\') {
            put_byte(out, n, &len, (char)c);
            continue;
        }
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        c = (unsigned char)*ps->p++;
        switch (c) {
        case '"': case '\\': case '/':
            put_byte(out, n, &len, (char)c);
            break;
        case 'b': put_byte(out, n, &len, '\b'); break;
        case 'f': put_byte(out, n, &len, '\f'); break;
        case 'n': put_byte(out, n, &len, '\n'); break;
        case 'r': put_byte(out, n, &len, '\r'); break;
        case 't': put_byte(out, n, &len, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(ps, &cp))
                return -EINVAL;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                    ps->p[1] == 'u') {
                    ps->p += 2;
                    if (hex4(ps, &lo))
                        return -EINVAL;
                    if (lo >= 0xDC00 && lo <= 0xDFFF)
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    else
                        cp = 0xFFFD;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            if (cp == 0)
                cp = 0xFFFD;   /* keep C strings whole */
            put_utf8(out, n, &len, cp);
            break;
        }
        default:
            return fail(ps, "bad escape in string");
        }
    }
    if (out && n > 0)
        out[len < n ? len : n - 1] = '\0';
    if (full)
        *full = len;
    return 0;
}

/* RFC 8259 number. */
static int parse_number(parser *ps, value *v)
{
    const char *start = ps->p;
    char tmp[64];
    size_t len;
    char *endp;

    v->is_int = 1;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end)
        return fail(ps, "bad number");
    if (*ps->p == '0') {
        ps->p++;
    } else if (*ps->p >= '1' && *ps->p <= '9') {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    } else {
        return fail(ps, "bad value");
    }
    if (ps->p < ps->end && *ps->p == '.') {
        v->is_int = 0;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return fail(ps, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        v->is_int = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return fail(ps, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    len = (size_t)(ps->p - start);
    if (len >= sizeof tmp)
        return fail(ps, "number too long");
    memcpy(tmp, start, len);
    tmp[len] = '\0';
    v->kind = V_NUM;
    v->num = strtod(tmp, NULL);
    v->ival_ok = 0;
    if (v->is_int) {
        errno = 0;
        v->ival = strtoll(tmp, &endp, 10);
        v->ival_ok = (errno == 0 && *endp == '\0');
    }
    return 0;
}

static int match_word(parser *ps, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
        return fail(ps, "bad value");
    ps->p += n;
    return 0;
}

static int skip_value(parser *ps, int depth);

/* Skips a nested object or array (at '{' or '['). */
static int skip_nested(parser *ps, int depth)
{
    char close = *ps->p == '{' ? '}' : ']';
    int is_obj = close == '}';

    if (depth >= MAX_DEPTH)
        return fail(ps, "nesting too deep");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        if (is_obj) {
            if (parse_string(ps, NULL, 0, NULL))
                return -EINVAL;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, "expected ':'");
            ps->p++;
            skip_ws(ps);
        }
        if (skip_value(ps, depth + 1))
            return -EINVAL;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, "unterminated object or array");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, "expected ',' or end of object/array");
    }
}

static int skip_value(parser *ps, int depth)
{
    value v;

    if (ps->p >= ps->end)
        return fail(ps, "missing value");
    switch (*ps->p) {
    case '{': case '[':
        return skip_nested(ps, depth);
    case '"':
        return parse_string(ps, NULL, 0, NULL);
    case 't': return match_word(ps, "true");
    case 'f': return match_word(ps, "false");
    case 'n': return match_word(ps, "null");
    default:
        return parse_number(ps, &v);
    }
}

/* Parses a top-level member value into v (nested values are skipped and
 * reported as V_NESTED). */
static int parse_value(parser *ps, value *v)
{
    v->str[0] = '\0';
    if (ps->p >= ps->end)
        return fail(ps, "missing value");
    switch (*ps->p) {
    case '{': case '[':
        v->kind = V_NESTED;
        return skip_nested(ps, 1);
    case '"':
        v->kind = V_STR;
        return parse_string(ps, v->str, sizeof v->str, NULL);
    case 't':
        v->kind = V_BOOL;
        v->boolean = 1;
        return match_word(ps, "true");
    case 'f':
        v->kind = V_BOOL;
        v->boolean = 0;
        return match_word(ps, "false");
    case 'n':
        v->kind = V_NULL;
        return match_word(ps, "null");
    default:
        return parse_number(ps, v);
    }
}

/* ---- typed assignment ---- */

static int as_int(parser *ps, const value *v, int64_t *out)
{
    if (v->kind == V_NULL) {
        *out = MV_NA;
        return 0;
    }
    if (v->kind != V_NUM)
        return fail(ps, "expected an integer or null");
    if (v->is_int && v->ival_ok) {
        *out = v->ival;
        return 0;
    }
    /* 1.5e9 style: accept when integral and in range. */
    if (isfinite(v->num) && v->num == floor(v->num) &&
        v->num >= -9.2e18 && v->num <= 9.2e18) {
        *out = (int64_t)v->num;
        return 0;
    }
    return fail(ps, "expected an integer");
}

static int as_double(parser *ps, const value *v, double *out)
{
    if (v->kind == V_NULL) {
        *out = NAN;
        return 0;
    }
    if (v->kind == V_NUM) {
        *out = v->num;
        return 0;
    }
    if (v->kind == V_STR) {
        if (!strcmp(v->str, "+Inf") || !strcmp(v->str, "Inf")) {
            *out = INFINITY;
            return 0;
        }
        if (!strcmp(v->str, "-Inf")) {
            *out = -INFINITY;
            return 0;
        }
        if (!strcmp(v->str, "NaN")) {
            *out = NAN;
            return 0;
        }
    }
    return fail(ps, "expected a number or null");
}

static int as_str(parser *ps, const value *v, char *out, size_t n)
{
    if (v->kind == V_NULL) {
        out[0] = '\0';
        return 0;
    }
    if (v->kind != V_STR)
        return fail(ps, "expected a string or null");
    mv__strlcpy(out, v->str, n);
    return 0;
}

typedef enum fkind { F_INT, F_DBL, F_STR } fkind;

typedef struct field {
    const char *key;
    fkind kind;
    size_t off;
    size_t size;   /* F_STR: capacity */
} field;

#define FI(k, m) { k, F_INT, offsetof(mv__record_line, m), 0 }
#define FD(k, m) { k, F_DBL, offsetof(mv__record_line, m), 0 }
#define FS(k, m) { k, F_STR, offsetof(mv__record_line, m), \
                   sizeof(((mv__record_line *)0)->m) }

/* Keys of every line kind; a key means the same in each kind it appears. */
static const field fields[] = {
    FI("t_ms", t_ms), FI("start_ms", t_ms),
    FI("rss", rss), FI("anon", anon), FI("file", file),
    FI("shmem", shmem), FI("swap", swap), FI("private", private_bytes),
    FI("working_set", working_set), FI("cg_usage", cg_usage),
    FI("limit", limit), FI("limit_bytes", limit), FI("oom_kill", oom_kill),
    FD("ratio", ratio), FD("growth_bps", growth_bps), FD("ttl_s", ttl_s),
    FS("level", level), FS("event", event), FS("message", message),
    FS("command", command), FI("interval_ms", interval_ms),
    FI("segment", segment), FS("host", host),
};

static void line_clear(mv__record_line *l)
{
    memset(l, 0, sizeof *l);
    l->t_ms = MV_NA;
    l->rss = l->anon = l->file = l->shmem = l->swap = l->private_bytes =
        l->working_set = l->cg_usage = l->limit = l->oom_kill = MV_NA;
    l->ratio = l->growth_bps = l->ttl_s = NAN;
    l->interval_ms = MV_NA;
    l->segment = MV_NA;
    l->pid = 0;
    l->version = 0;
}

static int assign(parser *ps, const char *key, const value *v,
                  mv__record_line *out, int *type_seen, char *type,
                  size_t typelen)
{
    if (!strcmp(key, "type")) {
        if (v->kind != V_STR)
            return fail(ps, "\"type\" is not a string");
        mv__strlcpy(type, v->str, typelen);
        *type_seen = 1;
        return 0;
    }
    if (!strcmp(key, "version")) {
        int64_t x;
        if (as_int(ps, v, &x))
            return -EINVAL;
        if (x < 0 || x > 1000000)
            return fail(ps, "bad version");
        out->version = (int)x;
        return 0;
    }
    if (!strcmp(key, "pid")) {
        int64_t x;
        if (as_int(ps, v, &x))
            return -EINVAL;
        out->pid = (x >= INT32_MIN && x <= INT32_MAX) ? (int32_t)x : 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const field *f = &fields[i];
        char *dst = (char *)out + f->off;
        if (strcmp(key, f->key) != 0)
            continue;
        switch (f->kind) {
        case F_INT: {
            int64_t x;
            if (as_int(ps, v, &x))
                return -EINVAL;
            if (f->off == offsetof(mv__record_line, t_ms) &&
                (x > MV_RECORD_MAX_ABS_T_MS || x < -MV_RECORD_MAX_ABS_T_MS))
                return fail(ps, "time out of range");
            memcpy(dst, &x, sizeof x);
            return 0;
        }
        case F_DBL: {
            double x;
            if (as_double(ps, v, &x))
                return -EINVAL;
            memcpy(dst, &x, sizeof x);
            return 0;
        }
        case F_STR:
            return as_str(ps, v, dst, f->size);
        }
    }
    return 0;   /* unknown key: ignored */
}

/* Parses one line; on error *why names the reason. -EINVAL: not a
 * recording line; -ENOMSG: a valid object of an unknown type. */
static int parse_line(const char *line, size_t len, mv__record_line *out,
                      char *why, size_t whylen, char *type, size_t typelen)
{
    parser ps = { line, line + len, NULL, "" };
    value *v;
    int type_seen = 0;
    int rc = -EINVAL;

    line_clear(out);
    type[0] = '\0';
    why[0] = '\0';
    v = malloc(sizeof *v);
    if (!v)
        return -ENOMEM;

    skip_ws(&ps);
    if (ps.p >= ps.end) {
        fail(&ps, "empty line");
        goto out;
    }
    if (*ps.p != '{') {
        fail(&ps, "not a JSON object");
        goto out;
    }
    ps.p++;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            char key[64];
            size_t klen;
            skip_ws(&ps);
            if (parse_string(&ps, key, sizeof key, &klen))
                goto out;
            if (klen >= sizeof key)
                key[0] = '\0';   /* too long to be one of ours */
            skip_ws(&ps);
            if (ps.p >= ps.end || *ps.p != ':') {
                fail(&ps, "expected ':' after a key");
                goto out;
            }
            ps.p++;
            skip_ws(&ps);
            if (parse_value(&ps, v))
                goto out;
            if (key[0] && assign(&ps, key, v, out, &type_seen, type, typelen)) {
                snprintf(ps.msg, sizeof ps.msg, "field \"%s\": %s", key,
                         ps.why ? ps.why : "bad value");
                ps.why = ps.msg;
                goto out;
            }
            skip_ws(&ps);
            if (ps.p >= ps.end) {
                fail(&ps, "unterminated object");
                goto out;
            }
            if (*ps.p == ',') {
                ps.p++;
                continue;
            }
            if (*ps.p == '}') {
                ps.p++;
                break;
            }
            fail(&ps, "expected ',' or '}'");
            goto out;
        }
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing data after the object");
        goto out;
    }
    if (!type_seen) {
        fail(&ps, "no \"type\"");
        goto out;
    }
    if (!strcmp(type, "header")) {
        out->kind = MV_REC_HEADER;
        if (out->version <= 0) {
            fail(&ps, "header without a version");
            goto out;
        }
    } else if (!strcmp(type, "sample")) {
        out->kind = MV_REC_SAMPLE;
    } else if (!strcmp(type, "event")) {
        out->kind = MV_REC_EVENT;
    } else {
        rc = -ENOMSG;
        goto out;
    }
    rc = 0;
out:
    free(v);
    if (rc == -EINVAL)
        mv__strlcpy(why, ps.why ? ps.why : "invalid line", whylen);
    return rc;
}

int mv__record_parse_line(const char *line, size_t len, mv__record_line *out)
{
    char why[128];
    char type[32];

    if (!line || !out)
        return -EINVAL;
    return parse_line(line, len, out, why, sizeof why, type, sizeof type);
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
    return mv__record_read_ex(f, visit, NULL, ctx, NULL, err, errlen);
}

int mv__record_read_ex(FILE *f, mv__record_visit_fn visit,
                       mv__record_other_fn other, void *ctx,
                       mv__record_read_info *info, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0, len = 0;
    int has_nl, got;
    long long lineno = 0;
    int rc = 0;
    mv__record_line *rec;

    if (err && errlen)
        err[0] = '\0';
    if (info)
        memset(info, 0, sizeof *info);
    if (!f || !visit)
        return -EINVAL;
    rec = malloc(sizeof *rec);
    if (!rec)
        return -ENOMEM;

    while ((got = read_line(f, &line, &cap, &len, &has_nl)) > 0) {
        char why[128];
        char type[32];
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
            prc = parse_line(line, len, rec, why, sizeof why, type, sizeof type);
        }
        if (prc == -ENOMSG) {
            /* an application line, or a kind from a newer writer */
            if (other && other(line, len, lineno, ctx) != 0)
                break;
            continue;
        }
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
