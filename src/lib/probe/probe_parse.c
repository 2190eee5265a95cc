/*
 * probe_parse.c — pure parsers for the text of /proc and cgroupfs files.
 *
 * Every parser takes the NUL-terminated text of one file and fills only the
 * fields it owns. Those fields are first set to "unavailable" (MV_NA / NAN),
 * so a missing line (a truncated file, an older kernel) or a garbage number
 * leaves exactly that field unavailable: a parser never guesses and never
 * reports 0 for something it did not read.
 *
 * Design choices:
 *  - No stdio, no strtod: numbers are parsed by hand. strtod follows
 *    LC_NUMERIC, and a service that embeds the library may run in a locale
 *    whose decimal separator is ',', which would silently misread PSI's
 *    "avg10=1.50". Integer parsing checks overflow and the whole token.
 *  - "Key: value [kB]" and "key value" files share one table-driven scanner
 *    that writes into an int64_t array; each parser maps that array onto
 *    mv_sample fields. A parser returns -EINVAL only when none of its keys
 *    appear (the text is not that file at all).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

/* ---- low-level scanning ---------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p;
}

static const char *line_end(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? nl : p + strlen(p);
}

/* Parses an unsigned decimal at [p, end). Returns 0 and sets *out and *rest
 * (first byte after the digits), or -EINVAL for no digits or overflow. */
static int parse_u64(const char *p, const char *end, uint64_t *out,
                     const char **rest)
{
    uint64_t v = 0;
    const char *start = p;

    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
        p++;
    }
    if (p == start)
        return -EINVAL;
    *out = v;
    *rest = p;
    return 0;
}

/* Parses a non-negative decimal fraction "12.34" (locale independent).
 * Returns 0 or -EINVAL. */
static int parse_udouble(const char *p, const char *end, double *out,
                         const char **rest)
{
    double v = 0.0, scale = 1.0;
    int digits = 0;

    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10.0 + (*p - '0');
        p++;
        digits++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            scale /= 10.0;
            v += (*p - '0') * scale;
            p++;
            digits++;
        }
    }
    if (digits == 0)
        return -EINVAL;
    *out = v;
    *rest = p;
    return 0;
}

/* A value [p, end) that must be "N" or "N kB" (kb != 0: the unit is
 * required and the value is returned in bytes), followed only by blanks.
 * Returns the value or MV_NA. */
static int64_t parse_value(const char *p, const char *end, int kb)
{
    uint64_t v;
    const char *q;

    p = skip_blanks(p, end);
    if (parse_u64(p, end, &v, &q) != 0 || v > (uint64_t)INT64_MAX)
        return MV_NA;
    q = skip_blanks(q, end);
    if (kb) {
        if (end - q < 2 || q[0] != 'k' || q[1] != 'B')
            return MV_NA;
        q = skip_blanks(q + 2, end);
        if (v > (uint64_t)INT64_MAX / 1024)
            return MV_NA;
        v *= 1024;
    }
    if (q != end)
        return MV_NA;
    return (int64_t)v;
}

typedef struct kv_key {
    const char *key;
    int idx;   /* index into the caller's value array */
    int kb;    /* value carries a " kB" unit: convert to bytes */
} kv_key;

/* Scans "key<sep>value" lines. sep is ':' ("VmRSS:\t 12 kB") or ' '
 * ("anon 4096"). Fills vals[k->idx] for every key found (MV_NA when its
 * value is garbage). Returns how many table keys were seen. */
static int scan_kv(const char *text, char sep, const kv_key *keys, size_t nkeys,
                   int64_t *vals)
{
    int seen = 0;
    const char *p = text;

    while (*p) {
        const char *end = line_end(p);
        const char *s = p;
        while (s < end && *s != sep && !(sep == ' ' && *s == '\t'))
            s++;
        if (s < end) {
            size_t klen = (size_t)(s - p);
            for (size_t i = 0; i < nkeys; i++) {
                if (strlen(keys[i].key) == klen &&
                    memcmp(keys[i].key, p, klen) == 0) {
                    vals[keys[i].idx] = parse_value(s + 1, end, keys[i].kb);
                    seen++;
                    break;
                }
            }
        }
        p = *end ? end + 1 : end;
    }
    return seen;
}

static void fill_na(int64_t *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = MV_NA;
}

/* ---- /proc/PID files -------------------------------------------------- */

int mv__parse_status(const char *text, mv_sample *s)
{
    static const kv_key keys[] = {
        {"VmRSS", 0, 1},   {"RssAnon", 1, 1}, {"RssFile", 2, 1},
        {"RssShmem", 3, 1}, {"VmSwap", 4, 1}, {"VmHWM", 5, 1},
        {"VmSize", 6, 1},  {"Threads", 7, 0},
    };
    int64_t v[8];

    if (!s)
        return -EINVAL;
    fill_na(v, 8);
    int seen = text ? scan_kv(text, ':', keys, 8, v) : 0;
    s->rss_bytes = v[0];
    s->rss_anon_bytes = v[1];
    s->rss_file_bytes = v[2];
    s->rss_shmem_bytes = v[3];
    s->swap_bytes = v[4];
    s->rss_peak_bytes = v[5];
    s->vm_size_bytes = v[6];
    s->threads = v[7];
    /* A zombie or kernel thread has Threads but no Vm* lines: still valid. */
    return seen > 0 ? 0 : -EINVAL;
}

/* The fields of mv_sample read from /proc/PID/stat, by field number (1 =
 * pid; proc(5)): counters and times, unsigned in the kernel, kept when they
 * fit an int64_t. A field added here is summed over a process tree unless
 * probe_proc.c names it as the target's own. */
static const struct {
    int field;
    size_t off;
} stat_fields[] = {
    {12, offsetof(mv_sample, major_faults)},
    {22, offsetof(mv_sample, start_time_ticks)},
};
#define STAT_NFIELDS (sizeof stat_fields / sizeof stat_fields[0])

static void stat_na(mv_sample *s)
{
    for (size_t k = 0; s && k < STAT_NFIELDS; k++)
        *(int64_t *)((char *)s + stat_fields[k].off) = MV_NA;
}

int mv__parse_stat(const char *text, int32_t *ppid, mv_sample *s)
{
    int64_t vals[STAT_NFIELDS];
    int last = 4;

    if (ppid)
        *ppid = -1;
    stat_na(s);
    if (!text)
        return -EINVAL;
    for (size_t k = 0; k < STAT_NFIELDS; k++) {
        vals[k] = MV_NA;
        if (stat_fields[k].field > last)
            last = stat_fields[k].field;
    }

    /* comm is "(...)" and may itself contain ") "; the real end is the
     * last ')' in the line. */
    const char *close = strrchr(text, ')');
    if (!close)
        return -EINVAL;
    const char *end = text + strlen(text);
    const char *p = close + 1;
    int64_t pp = MV_NA;

    /* Fields after comm start at field 3 (state). */
    for (int field = 3; field <= last; field++) {
        p = skip_blanks(p, end);
        if (p >= end || *p == '\n')
            return -EINVAL;
        const char *tok = p;
        while (p < end && !is_blank(*p) && *p != '\n')
            p++;
        uint64_t v;
        const char *rest;
        if (field == 4) {
            if (parse_u64(tok, p, &v, &rest) != 0 || rest != p || v > INT32_MAX)
                return -EINVAL;
            pp = (int64_t)v;
        }
        for (size_t k = 0; k < STAT_NFIELDS; k++) {
            if (stat_fields[k].field != field)
                continue;
            if (parse_u64(tok, p, &v, &rest) != 0 || rest != p ||
                v > (uint64_t)INT64_MAX)
                return -EINVAL;
            vals[k] = (int64_t)v;
        }
    }
    if (ppid)
        *ppid = (int32_t)pp;
    for (size_t k = 0; s && k < STAT_NFIELDS; k++)
        *(int64_t *)((char *)s + stat_fields[k].off) = vals[k];
    return 0;
}

int mv__parse_smaps_rollup(const char *text, mv_sample *s)
{
    static const kv_key keys[] = {
        {"Pss", 0, 1}, {"Pss_Anon", 1, 1}, {"Pss_File", 2, 1},
        {"Pss_Shmem", 3, 1},
    };
    int64_t v[4];

    if (!s)
        return -EINVAL;
    fill_na(v, 4);
    int seen = text ? scan_kv(text, ':', keys, 4, v) : 0;
    s->pss_bytes = v[0];
    s->pss_anon_bytes = v[1];
    s->pss_file_bytes = v[2];
    s->pss_shmem_bytes = v[3];
    return seen > 0 ? 0 : -EINVAL;
}

int mv__parse_meminfo(const char *text, mv_sample *s)
{
    static const kv_key keys[] = {
        {"MemTotal", 0, 1}, {"MemAvailable", 1, 1},
        {"SwapTotal", 2, 1}, {"SwapFree", 3, 1},
    };
    int64_t v[4];

    if (!s)
        return -EINVAL;
    fill_na(v, 4);
    int seen = text ? scan_kv(text, ':', keys, 4, v) : 0;
    s->mem_total_bytes = v[0];
    s->mem_available_bytes = v[1];
    s->swap_total_bytes = v[2];
    s->swap_free_bytes = v[3];
    return seen > 0 ? 0 : -EINVAL;
}

static void psi_na(mv_psi *p)
{
    if (!p)
        return;
    p->avg10 = NAN;
    p->avg60 = NAN;
    p->avg300 = NAN;
    p->total_us = MV_NA;
}

/* One PSI line after its "some"/"full" word: "avg10=.. avg60=.. avg300=..
 * total=..". Unknown tokens are ignored; bad values stay n/a. */
static void parse_psi_line(const char *p, const char *end, mv_psi *out)
{
    while (p < end) {
        p = skip_blanks(p, end);
        const char *tok = p;
        while (p < end && !is_blank(*p))
            p++;
        const char *eq = memchr(tok, '=', (size_t)(p - tok));
        if (!eq)
            continue;
        size_t klen = (size_t)(eq - tok);
        const char *val = eq + 1, *rest;
        if (klen == 5 && memcmp(tok, "total", 5) == 0) {
            uint64_t v;
            if (parse_u64(val, p, &v, &rest) == 0 && rest == p &&
                v <= (uint64_t)INT64_MAX)
                out->total_us = (int64_t)v;
        } else {
            double d;
            double *dst = NULL;
            if (klen == 5 && memcmp(tok, "avg10", 5) == 0)
                dst = &out->avg10;
            else if (klen == 5 && memcmp(tok, "avg60", 5) == 0)
                dst = &out->avg60;
            else if (klen == 6 && memcmp(tok, "avg300", 6) == 0)
                dst = &out->avg300;
            if (dst && parse_udouble(val, p, &d, &rest) == 0 && rest == p)
                *dst = d;
        }
    }
}

int mv__parse_psi(const char *text, mv_psi *some, mv_psi *full)
{
    int seen = 0;

    psi_na(some);
    psi_na(full);
    if (!text)
        return -EINVAL;
    for (const char *p = text; *p;) {
        const char *end = line_end(p);
        if (end - p >= 5 && (memcmp(p, "some ", 5) == 0 ||
                             memcmp(p, "full ", 5) == 0)) {
            mv_psi *dst = p[0] == 's' ? some : full;
            seen++;
            if (dst)
                parse_psi_line(p + 5, end, dst);
        }
        p = *end ? end + 1 : end;
    }
    return seen > 0 ? 0 : -EINVAL;
}

/* ---- cgroup files ----------------------------------------------------- */

/* Does the comma-separated controller list [p, end) contain "memory"? */
static int has_memory_controller(const char *p, const char *end)
{
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;
        if (e - p == 6 && memcmp(p, "memory", 6) == 0)
            return 1;
        p = e + 1;
    }
    return 0;
}

int mv__parse_proc_cgroup(const char *text, int *version, char *path, size_t n)
{
    const char *v1 = NULL, *v1_end = NULL, *v2 = NULL, *v2_end = NULL;

    if (version)
        *version = 0;
    if (path && n)
        path[0] = '\0';
    if (!text || !version || !path || n == 0)
        return -EINVAL;

    /* Lines are "hierarchy-ID:controller-list:path"; the path may itself
     * contain ':' so only the first two colons split. */
    for (const char *p = text; *p;) {
        const char *end = line_end(p);
        const char *c1 = memchr(p, ':', (size_t)(end - p));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (c2) {
            if (c1 - p == 1 && p[0] == '0' && c2 == c1 + 1) {
                if (!v2) {
                    v2 = c2 + 1;
                    v2_end = end;
                }
            } else if (!v1 && has_memory_controller(c1 + 1, c2)) {
                v1 = c2 + 1;
                v1_end = end;
            }
        }
        p = *end ? end + 1 : end;
    }

    const char *src = v1 ? v1 : v2;
    const char *src_end = v1 ? v1_end : v2_end;
    if (!src)
        return -ENOENT;
    size_t len = (size_t)(src_end - src);
    if (len == 0 || src[0] != '/')
        return -EINVAL;
    if (len >= n)
        return -ENAMETOOLONG;
    memcpy(path, src, len);
    path[len] = '\0';
    *version = v1 ? 1 : 2;
    return 0;
}

int mv__parse_cgroup_value(const char *text, int64_t *out)
{
    if (!out)
        return -EINVAL;
    *out = MV_NA;
    if (!text)
        return -EINVAL;

    const char *end = text + strlen(text);
    while (end > text && (is_blank(end[-1]) || end[-1] == '\n'))
        end--;
    const char *p = skip_blanks(text, end);
    if (end - p == 3 && memcmp(p, "max", 3) == 0) {
        *out = MV_UNLIMITED;
        return 0;
    }
    uint64_t v;
    const char *rest;
    if (parse_u64(p, end, &v, &rest) != 0 || rest != end)
        return -EINVAL;
    /* v1 reports "no limit" as LONG_MAX rounded down to a page
     * (9223372036854771712); nothing real is that large. */
    *out = v >= ((uint64_t)1 << 62) ? MV_UNLIMITED : (int64_t)v;
    return 0;
}

int mv__parse_cgroup_stat(const char *text, int version, mv_sample *s)
{
    /* indexes: 0 anon, 1 file, 2 inactive_file, 3 shmem; v1 plain names
     * 4..7 as fall-backs for the total_ ones; 8 hierarchical limit. */
    static const kv_key v2keys[] = {
        {"anon", 0, 0}, {"file", 1, 0}, {"inactive_file", 2, 0},
        {"shmem", 3, 0},
    };
    static const kv_key v1keys[] = {
        {"total_rss", 0, 0}, {"total_cache", 1, 0},
        {"total_inactive_file", 2, 0}, {"total_shmem", 3, 0},
        {"rss", 4, 0}, {"cache", 5, 0}, {"inactive_file", 6, 0},
        {"shmem", 7, 0},
    };
    int64_t v[8];
    int seen;

    if (!s)
        return -EINVAL;
    fill_na(v, 8);
    if (version == 2)
        seen = text ? scan_kv(text, ' ', v2keys, 4, v) : 0;
    else if (version == 1)
        seen = text ? scan_kv(text, ' ', v1keys, 8, v) : 0;
    else
        seen = 0;
    if (version == 1) {
        for (int i = 0; i < 4; i++)
            if (v[i] == MV_NA)
                v[i] = v[i + 4];
    }
    s->cg_anon_bytes = v[0];
    s->cg_file_bytes = v[1];
    s->cg_inactive_file_bytes = v[2];
    s->cg_shmem_bytes = v[3];
    return seen > 0 ? 0 : -EINVAL;
}

int mv__parse_cgroup_events(const char *text, mv_sample *s)
{
    static const kv_key keys[] = {
        {"oom", 0, 0}, {"oom_kill", 1, 0}, {"high", 2, 0}, {"max", 3, 0},
    };
    int64_t v[4];

    if (!s)
        return -EINVAL;
    fill_na(v, 4);
    int seen = text ? scan_kv(text, ' ', keys, 4, v) : 0;
    s->cg_oom_events = v[0];
    s->cg_oom_kill_events = v[1];
    s->cg_high_events = v[2];
    s->cg_max_events = v[3];
    return seen > 0 ? 0 : -EINVAL;
}

int mv__parse_oom_control(const char *text, mv_sample *s)
{
    static const kv_key keys[] = {
        {"oom_kill_disable", 0, 0}, {"under_oom", 1, 0}, {"oom_kill", 2, 0},
    };
    int64_t v[3];

    if (!s)
        return -EINVAL;
    fill_na(v, 3);
    int seen = text ? scan_kv(text, ' ', keys, 3, v) : 0;
    /* Kernels before 4.13 have no oom_kill line: it stays n/a. */
    s->cg_oom_kill_events = v[2];
    return seen > 0 ? 0 : -EINVAL;
}

int64_t mv__parse_v1_hierarchical_limit(const char *text)
{
    static const kv_key keys[] = {{"hierarchical_memory_limit", 0, 0}};
    int64_t v = MV_NA;

    if (!text)
        return MV_NA;
    scan_kv(text, ' ', keys, 1, &v);
    if (v != MV_NA && v >= ((int64_t)1 << 62))
        v = MV_UNLIMITED;
    return v;
}

/* ---- /proc/PID/smaps -------------------------------------------------- */

/* One mapping as parsed, before merging by name. name points into the
 * text (not NUL-terminated). */
typedef struct raw_map {
    const char *name;
    size_t name_len;
    int64_t rss, anon, swap;
} raw_map;

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* A header line "start-end perms offset dev inode [name]". On success sets
 * the name span (empty for anonymous) and returns 1. */
static int smaps_header(const char *p, const char *end, const char **name,
                        size_t *name_len)
{
    const char *q = p;
    while (q < end && is_hex(*q))
        q++;
    if (q == p || q >= end || *q != '-')
        return 0;
    const char *r = ++q;
    while (q < end && is_hex(*q))
        q++;
    if (q == r || q >= end || !is_blank(*q))
        return 0;
    /* perms, offset, dev, inode */
    for (int f = 0; f < 4; f++) {
        q = skip_blanks(q, end);
        const char *t = q;
        while (q < end && !is_blank(*q))
            q++;
        if (q == t)
            return 0;
    }
    q = skip_blanks(q, end);
    const char *e = end;
    while (e > q && is_blank(e[-1]))
        e--;
    *name = q;
    *name_len = (size_t)(e - q);
    return 1;
}

static int cmp_raw_name(const void *a, const void *b)
{
    const raw_map *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int cmp_mapping_rss(const void *a, const void *b)
{
    const mv__mapping *x = a, *y = b;
    if (x->rss_bytes != y->rss_bytes)
        return x->rss_bytes < y->rss_bytes ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* acc += v skipping MV_NA; saturates (values are >= 0, see parse_value),
 * so thousands of garbage-huge mappings cannot overflow. */
static void add_na(int64_t *acc, int64_t v)
{
    if (v == MV_NA)
        return;
    if (*acc == MV_NA)
        *acc = v;
    else if (v > 0 && *acc > INT64_MAX - v)
        *acc = INT64_MAX;
    else
        *acc += v;
}

int mv__parse_smaps_top(const char *text, mv__mapping *out, size_t max,
                        size_t *count)
{
    raw_map *maps = NULL;
    size_t n = 0, cap = 0;
    raw_map *cur = NULL;
    int headers = 0;

    if (count)
        *count = 0;
    if (!text || !count || (max > 0 && !out))
        return -EINVAL;

    for (const char *p = text; *p;) {
        const char *end = line_end(p);
        const char *name;
        size_t name_len;
        if (smaps_header(p, end, &name, &name_len)) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                raw_map *nm = realloc(maps, ncap * sizeof(*nm));
                if (!nm) {
                    free(maps);
                    return -ENOMEM;
                }
                maps = nm;
                cap = ncap;
            }
            cur = &maps[n++];
            if (name_len == 0) {
                name = "[anon]";
                name_len = 6;
            }
            cur->name = name;
            cur->name_len = name_len;
            cur->rss = cur->anon = cur->swap = MV_NA;
            headers++;
        } else if (cur) {
            const char *colon = memchr(p, ':', (size_t)(end - p));
            if (colon) {
                size_t klen = (size_t)(colon - p);
                int64_t *dst = NULL;
                if (klen == 3 && memcmp(p, "Rss", 3) == 0)
                    dst = &cur->rss;
                else if (klen == 9 && memcmp(p, "Anonymous", 9) == 0)
                    dst = &cur->anon;
                else if (klen == 4 && memcmp(p, "Swap", 4) == 0)
                    dst = &cur->swap;
                if (dst)
                    *dst = parse_value(colon + 1, end, 1);
            }
        }
        p = *end ? end + 1 : end;
    }
    if (headers == 0) {
        free(maps);
        /* An empty smaps (kernel thread, zombie) is valid; other text not. */
        const char *q = text;
        while (*q == ' ' || *q == '\t' || *q == '\n')
            q++;
        return *q ? -EINVAL : 0;
    }

    /* Merge by name: sort by name, fold runs into the first entry. */
    qsort(maps, n, sizeof(*maps), cmp_raw_name);
    mv__mapping *merged = calloc(n, sizeof(*merged));
    if (!merged) {
        free(maps);
        return -ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        mv__mapping *mp = &merged[m++];
        size_t len = maps[i].name_len < sizeof(mp->name) - 1
                         ? maps[i].name_len : sizeof(mp->name) - 1;
        memcpy(mp->name, maps[i].name, len);
        mp->name[len] = '\0';
        mp->file_backed = maps[i].name[0] == '/';
        mp->rss_bytes = mp->anon_bytes = mp->swap_bytes = MV_NA;
        size_t j = i;
        for (; j < n && cmp_raw_name(&maps[i], &maps[j]) == 0; j++) {
            add_na(&mp->rss_bytes, maps[j].rss);
            add_na(&mp->anon_bytes, maps[j].anon);
            add_na(&mp->swap_bytes, maps[j].swap);
        }
        /* rss stays MV_NA when no Rss line was seen (a truncated file);
         * MV_NA (-1) then sorts last. */
        if (mp->rss_bytes == MV_NA) {
            mp->file_bytes = MV_NA;
        } else if (mp->file_backed && mp->anon_bytes != MV_NA) {
            int64_t f = mp->rss_bytes - mp->anon_bytes;
            mp->file_bytes = f > 0 ? f : 0;
        } else if (mp->file_backed) {
            mp->file_bytes = mp->rss_bytes;
        } else {
            mp->file_bytes = 0;
        }
        i = j;
    }
    free(maps);

    qsort(merged, m, sizeof(*merged), cmp_mapping_rss);
    size_t k = m < max ? m : max;
    if (k)
        memcpy(out, merged, k * sizeof(*merged));
    *count = k;
    free(merged);
    return 0;
}
