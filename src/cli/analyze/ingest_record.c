/*
 * ingest_record.c — memvigil recordings (JSON Lines, docs/recording.md) as
 * analyze input: one series of the chosen signal per file.
 *
 * DESIGN. The recording reader of the library (mv__record_read) does the
 * parsing and its rules hold unchanged: strict JSON per line, unknown keys
 * and line types skipped, version-1 keys read, a torn last line skipped,
 * any other bad line an error "line N: why"; the application lines it
 * gives (gauge, op, progress) are not analyze's and are passed over. The
 * signal is read from the line's mv_sample. It reads a FILE line by line — cli_ingest_file's
 * stream over the file (or the files of a rotated recording), or a buffer
 * through fmemopen() — so only the series is held, never the text; the
 * reader numbers each line it hands over, which lets this file's own
 * checks (time order, negative values) name the line too.
 * The signal is a sample field ("private" — anon + swap — by default, the
 * leak detector's signal). A null in it (unreadable at that tick) is not a
 * value: the sample is skipped and counted in a warning. The effective limit
 * and the application's phases are kept per point, so the replay can give
 * the detector exactly what the monitor gave it: the limit as it changed
 * and phase_active while a phase (from "phase NAME began/ended" events) ran.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "record.h"
#include "util.h"

#define MAX_PHASES 16

typedef struct rctx {
    const char *name;
    const char *signal;
    const char *time_key;   /* the time's key in the recording's version */
    cli_series *s;
    int64_t header_limit, last_limit;
    int64_t prev_t;
    size_t prev_line;
    size_t samples, nulls, first_null_line;
    char phases[MAX_PHASES][64];
    size_t nphases;
    int rc;
    char *err;
    size_t errlen;
} rctx;

static const char *const signals[] = {
    "private", "rss", "anon", "file", "shmem", "swap", "working_set",
    "cg_usage", NULL
};

/* The signal's sample field (the signal names are analyze's --signal
 * words, which predate the table of sample fields). */
static int64_t field_of(const mv_sample *m, const char *sig)
{
    if (strcmp(sig, "private") == 0) return m->private_bytes;
    if (strcmp(sig, "rss") == 0) return m->rss_bytes;
    if (strcmp(sig, "anon") == 0) return m->rss_anon_bytes;
    if (strcmp(sig, "file") == 0) return m->rss_file_bytes;
    if (strcmp(sig, "shmem") == 0) return m->rss_shmem_bytes;
    if (strcmp(sig, "swap") == 0) return m->swap_bytes;
    if (strcmp(sig, "working_set") == 0) return m->working_set_bytes;
    return m->cg_usage_bytes;
}

static void phase_event(rctx *c, const char *msg)
{
    const char *name = msg + 6, *tail;
    size_t n, i;
    int began;

    if (strncmp(msg, "phase ", 6) != 0)
        return;
    if ((tail = strstr(name, " began")) != NULL)
        began = 1;
    else if ((tail = strstr(name, " ended")) != NULL)
        began = 0;
    else
        return;
    n = (size_t)(tail - name);
    if (n >= sizeof c->phases[0])
        n = sizeof c->phases[0] - 1;
    for (i = 0; i < c->nphases; i++)
        if (strncmp(c->phases[i], name, n) == 0 && c->phases[i][n] == '\0')
            break;
    if (began && i == c->nphases && c->nphases < MAX_PHASES) {
        memcpy(c->phases[c->nphases], name, n);
        c->phases[c->nphases++][n] = '\0';
    } else if (!began && i < c->nphases) {
        memmove(c->phases[i], c->phases[i + 1],
                (c->nphases - i - 1) * sizeof c->phases[0]);
        c->nphases--;
    }
}

static int visit(const mv__record_line *r, void *ctx)
{
    rctx *c = ctx;
    size_t line = (size_t)r->lineno;
    int64_t v, limit;

    if (r->kind == MV_REC_HEADER) {
        if (r->limit_bytes != MV_NA && r->limit_bytes > 0)
            c->header_limit = r->limit_bytes;
        c->time_key = r->version == 1 ? "t_ms" : "timestamp_ms";
        return 0;
    }
    if (r->kind == MV_REC_EVENT) {
        if (strcmp(r->event, "phase") == 0)
            phase_event(c, r->message);
        return 0;
    }
    if (r->kind != MV_REC_SAMPLE)
        return 0;   /* application lines: the report's */
    c->samples++;
    limit = r->sample.effective_limit_bytes;
    if (limit != MV_NA && limit > 0)
        c->last_limit = limit;
    v = field_of(&r->sample, c->signal);
    if (v == MV_NA) {
        if (c->nulls++ == 0)
            c->first_null_line = line;
        return 0;
    }
    if (v < 0) {
        snprintf(c->err, c->errlen, "%s: line %zu: negative %s %lld (memory "
                 "cannot be negative)", c->name, line, c->signal,
                 (long long)v);
        c->rc = -EINVAL;
        return 1;
    }
    if (c->s->n > 0 && r->t_ms <= c->prev_t) {
        if (r->t_ms == c->prev_t)
            snprintf(c->err, c->errlen, "%s: line %zu: duplicate timestamp "
                     "%s %lld (also at line %zu)", c->name, line,
                     c->time_key, (long long)r->t_ms, c->prev_line);
        else
            snprintf(c->err, c->errlen, "%s: line %zu: %s %lld is before "
                     "the previous sample's (%lld at line %zu); timestamps "
                     "must increase", c->name, line, c->time_key,
                     (long long)r->t_ms,
                     (long long)c->prev_t, c->prev_line);
        c->rc = -EINVAL;
        return 1;
    }
    if (cli_series_push(c->s, r->t_ms, (double)v) != 0) {
        c->rc = -ENOMEM;
        return 1;
    }
    c->s->limit[c->s->n - 1] = limit > 0 ? limit : MV_NA;
    c->s->phase[c->s->n - 1] = c->nphases > 0;
    c->s->alloc[c->s->n - 1] = (cli_alloc_point){
        r->sample.alloc_kind, r->sample.private_bytes,
        r->sample.alloc_in_use_bytes, r->sample.alloc_free_bytes,
        r->sample.alloc_arenas};
    c->prev_t = r->t_ms;
    c->prev_line = line;
    return 0;
}

int cli_ingest_recording(const char *name, const char *data, size_t len,
                         const cli_ingest_opts *o, cli_series_set *out,
                         mv_buf *warn, char *err, size_t errlen)
{
    if (len == 0)
        return -EINVAL;
    FILE *f = fmemopen((void *)data, len, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", name, strerror(e));
        return -e;
    }
    int rc = cli_ingest_recording_read(name, f, o, out, warn, err, errlen);
    fclose(f);
    return rc;
}

int cli_ingest_recording_read(const char *name, FILE *f,
                              const cli_ingest_opts *o, cli_series_set *out,
                              mv_buf *warn, char *err, size_t errlen)
{
    cli_ingest_opts none = {0};
    mv__record_read_info ri;
    size_t keep = out->n, i;
    char why[256];
    rctx c;
    int rc;

    memset(&c, 0, sizeof c);
    if (!o)
        o = &none;
    c.signal = o->signal ? o->signal : "private";
    for (i = 0; signals[i]; i++)
        if (strcmp(signals[i], c.signal) == 0)
            break;
    if (!signals[i]) {
        snprintf(err, errlen, "%s: a recording has no signal '%s' (one of: "
                 "private, rss, anon, file, shmem, swap, working_set, "
                 "cg_usage)", name, c.signal);
        return -ENOENT;
    }
    c.s = cli_series_set_add(out, name, CLI_FMT_RECORDING);
    if (!c.s)
        return -ENOMEM;
    mv__strlcpy(c.s->signal, c.signal, sizeof c.s->signal);
    c.name = name;
    c.time_key = "timestamp_ms";
    c.header_limit = c.last_limit = MV_NA;
    c.err = err;
    c.errlen = errlen;
    why[0] = '\0';
    rc = mv__record_read_ex(f, visit, &c, &ri, why, sizeof why);
    if (rc == 0)
        rc = c.rc;
    else
        snprintf(err, errlen, "%s: %s", name, why);
    if (rc != 0) {
        cli_series_set_truncate(out, keep);
        return rc == -ENOTSUP ? -EINVAL : rc;
    }
    if (ri.torn_line > 0 && warn)
        mv__buf_printf(warn, "%s: line %lld: incomplete last line (no "
                       "newline) skipped\n", name, ri.torn_line);
    c.s->limit_bytes = c.last_limit != MV_NA ? c.last_limit : c.header_limit;
    /* Points before any sample knew the limit get the header's. */
    for (i = 0; i < c.s->n; i++)
        if (c.s->limit[i] == MV_NA)
            c.s->limit[i] = c.header_limit;
    if (c.nulls > 0 && warn && c.s->n > 0)
        mv__buf_printf(warn, "%s: line %zu: %s is null in %zu of %zu samples "
                       "(first here); those samples were skipped\n", name,
                       c.first_null_line, c.signal, c.nulls, c.samples);
    if (c.samples == 0)
        snprintf(c.s->note, sizeof c.s->note, "no samples in the recording");
    else if (c.s->n == 0)
        snprintf(c.s->note, sizeof c.s->note, "%s is null in all %zu samples",
                 c.signal, c.samples);
    else if (c.s->n == 1)
        snprintf(c.s->note, sizeof c.s->note, "only one sample with %s",
                 c.signal);
    return 0;
}
