/*
 * report_model.c — builds the report's model from a recording: what the
 * renderers draw and print (see report.h).
 *
 * Design: every line kind — header, sample, event and the optional
 * "gauge", "op" and "progress" lines (shapes in docs/report.md) — is read
 * by the library's reader (mv__record_read_ex), so torn last lines, newer
 * versions, version-1 keys and bad lines get the same words as everywhere
 * else, and this file parses no JSON of its own. The input is a
 * FILE read once, line by line (cmd_report.c gives the joined stream of a
 * rotated recording), so what is held is the parsed model, never the file. Samples are kept as columns
 * (struct of arrays) and downsampled per series into at most
 * CLI_REPORT_COLUMNS time columns with min and max, so a week at 10 s draws
 * as fast as a minute and a one-sample spike stays visible. The verdict
 * comes from the caller's replay function (the same detector `analyze`
 * runs); the fitted trend line is drawn from its slope through the median
 * intercept of the private-memory points inside the detector's window.
 * Figures from the file are doubles that may be anything JSON allows
 * (1e300): they become integers only through mv__double_to_i64 and sizes
 * only through mv__human_bytes_d, so a crafted value shows as n/a or makes
 * its line "could not be read", never a wrapped number.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "report.h"
#include "util.h"

/* ---- growable arrays ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

/* Samples as columns while reading. */
typedef struct sample_cols {
    int64_t *t;
    double *v[CLI_RS_COUNT];
    unsigned char *phase;
    size_t n, cap;
} sample_cols;

struct extras;

typedef struct read_ctx {
    cli_report *r;
    struct extras *x;        /* optional line kinds, read in the same pass */
    sample_cols s;
    size_t ev_cap, ph_cap;
    int active_phases;
    int64_t oom_first, oom_last;
    int rc;
    const cli_report_opts *o;
    size_t lines;
} read_ctx;

static double na(int64_t v)
{
    return v == MV_NA ? NAN : (double)v;
}

static int push_sample(read_ctx *c, const mv__record_line *l)
{
    sample_cols *s = &c->s;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        int64_t *t = realloc(s->t, nc * sizeof *t);
        if (!t)
            return -ENOMEM;
        s->t = t;
        for (int i = 0; i < CLI_RS_COUNT; i++) {
            double *v = realloc(s->v[i], nc * sizeof *v);
            if (!v)
                return -ENOMEM;
            s->v[i] = v;
        }
        unsigned char *ph = realloc(s->phase, nc);
        if (!ph)
            return -ENOMEM;
        s->phase = ph;
        s->cap = nc;
    }
    size_t i = s->n++;
    const mv_sample *m = &l->sample;
    s->t[i] = l->t_ms;
    s->v[CLI_RS_RSS][i] = na(m->rss_bytes);
    s->v[CLI_RS_ANON][i] = na(m->rss_anon_bytes);
    s->v[CLI_RS_FILE][i] = na(m->rss_file_bytes);
    s->v[CLI_RS_SHMEM][i] = na(m->rss_shmem_bytes);
    s->v[CLI_RS_SWAP][i] = na(m->swap_bytes);
    s->v[CLI_RS_PRIVATE][i] = na(m->private_bytes);
    s->v[CLI_RS_WORKING_SET][i] = na(m->working_set_bytes);
    s->v[CLI_RS_LIMIT][i] = (m->effective_limit_bytes == MV_NA ||
                             m->effective_limit_bytes == MV_UNLIMITED)
                                ? NAN : (double)m->effective_limit_bytes;
    s->phase[i] = c->active_phases > 0;
    return 0;
}

static int level_rank(const char *l)
{
    if (strcmp(l, "critical") == 0)
        return 2;
    if (strcmp(l, "warning") == 0)
        return 1;
    return 0;
}

/* "phase NAME began..." / "phase NAME ended" -> name, began. */
static int parse_phase_message(const char *m, char *name, size_t n, int *began)
{
    if (strncmp(m, "phase ", 6) != 0)
        return -1;
    const char *p = m + 6;
    const char *b = strstr(p, " began");
    const char *e = strstr(p, " ended");
    const char *end = b && (!e || b < e) ? b : e;
    if (!end)
        return -1;
    *began = end == b;
    size_t k = (size_t)(end - p);
    if (k >= n)
        k = n - 1;
    memcpy(name, p, k);
    name[k] = '\0';
    return 0;
}

static int on_phase(read_ctx *c, const mv__record_line *l)
{
    cli_report *r = c->r;
    char name[64];
    int began;
    if (parse_phase_message(l->message, name, sizeof name, &began) != 0)
        return 0;
    if (began) {
        if (grow((void **)&r->phases, &c->ph_cap, r->nphases + 1,
                 sizeof *r->phases))
            return -ENOMEM;
        cli_report_phase *p = &r->phases[r->nphases++];
        memset(p, 0, sizeof *p);
        mv__strlcpy(p->name, name, sizeof p->name);
        p->t0_ms = l->t_ms;
        p->t1_ms = MV_NA;
        p->open = 1;
        c->active_phases++;
        return 0;
    }
    for (size_t i = r->nphases; i-- > 0;) {
        cli_report_phase *p = &r->phases[i];
        if (p->open && strcmp(p->name, name) == 0) {
            p->open = 0;
            p->t1_ms = l->t_ms;
            if (c->active_phases > 0)
                c->active_phases--;
            break;
        }
    }
    return 0;
}

static void extra_line(struct extras *x, const mv__record_line *l);

static int visit(const mv__record_line *l, void *ctx)
{
    read_ctx *c = ctx;
    cli_report *r = c->r;
    int rc = 0;
    c->lines++;
    if (c->o && c->o->progress && (c->lines & 4095) == 0)
        c->o->progress(c->o->progress_ctx, c->lines, 0);
    switch (l->kind) {
    case MV_REC_HEADER:
        r->version = l->version;
        r->pid = l->pid;
        mv__strlcpy(r->command, l->command, sizeof r->command);
        r->interval_ms = l->interval_ms;
        break;
    case MV_REC_SAMPLE:
        if (c->s.n > 0 && l->t_ms < c->s.t[c->s.n - 1])
            break;   /* out of order: the timeline only moves forward */
        rc = push_sample(c, l);
        if (level_rank(l->level) > level_rank(r->max_level))
            mv__strlcpy(r->max_level, l->level, sizeof r->max_level);
        if (l->sample.cg_oom_kill_events != MV_NA) {
            if (c->oom_first == MV_NA)
                c->oom_first = l->sample.cg_oom_kill_events;
            c->oom_last = l->sample.cg_oom_kill_events;
        }
        break;
    case MV_REC_EVENT:
        r->nevents_total++;
        if (grow((void **)&r->events, &c->ev_cap, r->nevents + 1,
                 sizeof *r->events)) {
            rc = -ENOMEM;
            break;
        }
        cli_report_event *e = &r->events[r->nevents++];
        e->t_ms = l->t_ms;
        mv__strlcpy(e->event, l->event, sizeof e->event);
        mv__strlcpy(e->level, l->level, sizeof e->level);
        mv__strlcpy(e->message, l->message, sizeof e->message);
        if (strcmp(l->event, "oom_kill") == 0)
            r->oom_kills++;
        if (strcmp(l->event, "phase") == 0)
            rc = on_phase(c, l);
        if (level_rank(l->level) > level_rank(r->max_level))
            mv__strlcpy(r->max_level, l->level, sizeof r->max_level);
        break;
    case MV_REC_GAUGE:
    case MV_REC_OP:
    case MV_REC_PROGRESS:
        extra_line(c->x, l);
        break;
    }
    if (rc) {
        c->rc = rc;
        return 1;
    }
    return 0;
}

/* ---- downsampling ---- */

void cli_report_cols_release(cli_report_cols *c)
{
    if (!c)
        return;
    free(c->t_ms);
    free(c->min);
    free(c->max);
    memset(c, 0, sizeof *c);
}

int cli_report_downsample(const int64_t *t, const double *v, size_t n,
                          int64_t t0, int64_t t1, size_t columns,
                          cli_report_cols *out)
{
    memset(out, 0, sizeof *out);
    if (columns == 0)
        columns = CLI_REPORT_COLUMNS;
    size_t cap = n < columns ? n : columns;
    if (cap == 0)
        return 0;
    out->t_ms = malloc(cap * sizeof *out->t_ms);
    out->min = malloc(cap * sizeof *out->min);
    out->max = malloc(cap * sizeof *out->max);
    if (!out->t_ms || !out->min || !out->max) {
        cli_report_cols_release(out);
        return -ENOMEM;
    }
    double span = (double)(t1 - t0) + 1.0;
    size_t cur = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        size_t col;
        if (n <= columns) {
            col = i;   /* every point its own column: exact values */
        } else {
            double f = (double)(t[i] - t0) / span;
            col = f <= 0 ? 0 : (size_t)(f * (double)columns);
            if (col >= columns)
                col = columns - 1;
        }
        if (out->n > 0 && col == cur) {
            double *mn = &out->min[out->n - 1], *mx = &out->max[out->n - 1];
            if (v[i] < *mn)
                *mn = v[i];
            if (v[i] > *mx)
                *mx = v[i];
            continue;
        }
        if (out->n == cap)
            break;   /* cannot happen: columns increase with time */
        cur = col;
        out->t_ms[out->n] = t[i];
        out->min[out->n] = v[i];
        out->max[out->n] = v[i];
        out->n++;
    }
    return 0;
}

/* ---- optional line kinds: gauge, op, progress ---- */

typedef struct pts {
    int64_t *t;
    double *v;
    size_t n, cap;
} pts;

static int pts_push(pts *p, int64_t t, double v)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        int64_t *nt = realloc(p->t, nc * sizeof *nt);
        if (!nt)
            return -ENOMEM;
        p->t = nt;
        double *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        p->v = nv;
        p->cap = nc;
    }
    p->t[p->n] = t;
    p->v[p->n] = v;
    p->n++;
    return 0;
}

typedef struct named_pts {
    char name[160];
    pts p;
    pts aux;  /* progress: units in v (private bytes looked up later);
                 ops: the weight (calls) of each value in p */
    double count, sum, min, max;   /* ops: exact totals over all lines */
} named_pts;

typedef struct named_set {
    named_pts *v;
    size_t n, cap;
} named_set;

static named_pts *named_get(named_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    if (s->n >= 256)
        return NULL;   /* bounded: a runaway writer cannot blow the page up */
    if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
        return NULL;
    named_pts *p = &s->v[s->n++];
    memset(p, 0, sizeof *p);
    mv__strlcpy(p->name, name, sizeof p->name);
    return p;
}

static void named_release(named_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].p.t);
        free(s->v[i].p.v);
        free(s->v[i].aux.t);
        free(s->v[i].aux.v);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Largest count of calls one op line may claim, and the largest progress
 * total: integers up to 2^53 are exact in a double, so sums and the casts
 * to integers stay defined; a bigger figure is a corrupted line. */
#define EXTRA_MAX_COUNT 0x1p53

typedef struct extras {
    named_set gauges, ops, progress;
    size_t bad;
} extras;

/* One value with a weight (calls) for op p, plus exact totals. */
static void op_add(named_pts *p, int64_t t, double v, double w, double sum,
                   double mn, double mx)
{
    if (pts_push(&p->p, t, v) || pts_push(&p->aux, t, w)) {
        if (p->p.n > p->aux.n)
            p->p.n--;   /* keep the two arrays paired */
        return;
    }
    if (p->count == 0 || mn < p->min)
        p->min = mn;
    if (p->count == 0 || mx > p->max)
        p->max = mx;
    p->count += w;
    p->sum += sum;
}

/* Upper bounds of the recorder's delta buckets (the registry's). */
static const double op_bucket_hi[8] = {
    0, 4096.0, 65536.0, 1048576.0, 16777216.0, 268435456.0, 1073741824.0,
    INFINITY};

/* The recorder's aggregated op line (count, sum_bytes, min_bytes, max_bytes,
 * buckets[8]): each non-empty bucket becomes one value weighted by its
 * count, at the middle of the bucket clipped to [min, max] (the mean when
 * one bucket holds every call, so uniform deltas stay exact). 0 or -EINVAL. */
static int op_line_agg(const mv__record_app *a, named_set *ops, int64_t t)
{
    double c = a->count, sum = a->sum_bytes;
    double mn = a->min_bytes, mx = a->max_bytes;
    if (!(c >= 1 && c <= EXTRA_MAX_COUNT) || !isfinite(sum) || !isfinite(mn) ||
        !isfinite(mx) || mn > mx)
        return -EINVAL;
    named_pts *p = named_get(ops, a->name);
    if (!p)
        return 0;   /* over the name cap: dropped, not bad */
    double w[8];
    double tot = 0;
    int ok = a->nbuckets == 8;
    for (size_t i = 0; ok && i < 8; i++) {
        w[i] = a->buckets[i];
        ok = w[i] >= 0;   /* NAN (not a number) fails too */
        tot += ok ? w[i] : 0;
    }
    if (!ok || tot != c) {
        op_add(p, t, sum / c, c, sum, mn, mx);   /* no usable buckets */
        return 0;
    }
    int first = 1;
    for (size_t i = 0; i < 8; i++) {
        if (w[i] <= 0)
            continue;
        double v;
        if (w[i] == c) {
            v = sum / c;
        } else {
            double lo = i == 0 ? mn : op_bucket_hi[i - 1];
            double hi = isinf(op_bucket_hi[i]) ? mx : op_bucket_hi[i];
            lo = lo < mn ? mn : lo;
            hi = hi > mx ? mx : hi;
            v = lo <= hi ? (lo + hi) / 2 : (lo < mn ? mn : mx);
        }
        /* totals counted once, with the first value */
        op_add(p, t, v, w[i], first ? sum : 0, mn, mx);
        first = 0;
    }
    return 0;
}

/* One optional line (the reader's figures as written; see record.h):
 * kept when usable, else counted as bad. A line with no time in range
 * (t_ms MV_NA) or no name is bad. */
static void extra_line(extras *x, const mv__record_line *l)
{
    const mv__record_app *a = &l->app;
    int64_t t = l->t_ms;
    if (t == MV_NA) {
        x->bad++;
        return;
    }
    char name[160];
    named_pts *p = NULL;
    if (l->kind == MV_REC_GAUGE) {
        if (a->name[0] && isfinite(a->value)) {
            /* name{labels}, cut to the name cap as before */
            int n = snprintf(name, sizeof name, "%s%s%s%s", a->name,
                             a->labels[0] ? "{" : "", a->labels,
                             a->labels[0] ? "}" : "");
            if (n >= 0 && (p = named_get(&x->gauges, name)))
                pts_push(&p->p, t, a->value);
        } else {
            x->bad++;
        }
    } else if (l->kind == MV_REC_OP) {
        double d = a->delta_bytes;
        if (a->name[0] && isfinite(d)) {
            if ((p = named_get(&x->ops, a->name)))
                op_add(p, t, d, 1, d, d, d);
        } else if (a->name[0] && op_line_agg(a, &x->ops, t) == 0) {
            /* the recorder's aggregated line */
        } else {
            x->bad++;
        }
    } else if (l->kind == MV_REC_PROGRESS) {
        double units = a->units;
        if (a->name[0] && units >= 0 && units <= EXTRA_MAX_COUNT) {
            if ((p = named_get(&x->progress, a->name))) {
                /* both or neither: the two arrays stay paired */
                if (pts_push(&p->aux, t, units) == 0 &&
                    pts_push(&p->p, t, a->private_bytes) != 0)
                    p->aux.n--;
            }
        } else {
            x->bad++;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile_sorted(const double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    double f = pos - (double)i;
    return i + 1 < n ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

/* A value with a weight (the number of calls it stands for). */
typedef struct wv {
    double v, w;
} wv;

static int cmp_wv(const void *a, const void *b)
{
    return cmp_double(&((const wv *)a)->v, &((const wv *)b)->v);
}

/* Quantile q of sorted weighted values totalling W: the same linear
 * interpolation as quantile_sorted over the list with each value repeated
 * w times, without expanding it. */
static double quantile_weighted(const wv *v, size_t n, double W, double q)
{
    if (n == 0 || !(W > 0))
        return NAN;
    double pos = q * (W - 1);
    double i = floor(pos), f = pos - i;
    double cum = 0, a = NAN, b = NAN;
    for (size_t k = 0; k < n; k++) {
        cum += v[k].w;
        if (isnan(a) && i < cum)
            a = v[k].v;
        if (i + 1 < cum) {
            b = v[k].v;
            break;
        }
    }
    if (isnan(a))
        a = v[n - 1].v;
    if (isnan(b))
        b = a;
    return a * (1 - f) + b * f;
}

/* Private memory at time t: the newest sample at or before t. Reads the
 * report's own raw series (r->raw owns the samples once the timeline is
 * built; the reading columns are gone by then). */
static double private_at(const cli_report_raw *raw, int64_t t)
{
    size_t lo = 0, hi = raw->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (raw->t_ms[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;)
        if (!isnan(raw->private_bytes[i]))
            return raw->private_bytes[i];
    return NAN;
}

static int build_extras(cli_report *r, extras *x, size_t columns)
{
    int rc = 0;
    if (x->gauges.n) {
        r->gauges = calloc(x->gauges.n, sizeof *r->gauges);
        if (!r->gauges)
            return -ENOMEM;
        for (size_t i = 0; i < x->gauges.n; i++) {
            named_pts *g = &x->gauges.v[i];
            if (g->p.n == 0)
                continue;   /* its only point was lost to ENOMEM */
            cli_report_gauge *o = &r->gauges[r->ngauges++];
            mv__strlcpy(o->name, g->name, sizeof o->name);
            o->last = g->p.n ? g->p.v[g->p.n - 1] : NAN;
            rc = cli_report_downsample(g->p.t, g->p.v, g->p.n, g->p.t[0],
                                       g->p.t[g->p.n - 1], columns, &o->cols);
            if (rc)
                return rc;
        }
    }
    if (x->ops.n) {
        r->ops = calloc(x->ops.n, sizeof *r->ops);
        if (!r->ops)
            return -ENOMEM;
        for (size_t i = 0; i < x->ops.n; i++) {
            named_pts *g = &x->ops.v[i];
            cli_report_op *o = &r->ops[r->nops++];
            mv__strlcpy(o->name, g->name, sizeof o->name);
            size_t n = g->p.n;
            wv *v = malloc((n ? n : 1) * sizeof *v);
            if (!v)
                return -ENOMEM;
            for (size_t k = 0; k < n; k++) {
                v[k].v = g->p.v[k];
                v[k].w = g->aux.v[k];
            }
            qsort(v, n, sizeof *v, cmp_wv);
            /* a sum of counts of at most 2^53 each: saturates, never wraps */
            o->count = (size_t)mv__double_to_i64_or(g->count, INT64_MAX);
            o->p50 = quantile_weighted(v, n, g->count, 0.50);
            o->p95 = quantile_weighted(v, n, g->count, 0.95);
            o->max = g->max;
            o->mean = g->sum / g->count;
            o->hist_lo = g->min;
            o->hist_hi = g->max;
            double w = (o->hist_hi - o->hist_lo) / CLI_REPORT_HIST_BINS;
            for (size_t k = 0; k < n; k++) {
                double at = (v[k].v - o->hist_lo) / w;
                /* clamped as a double: at may be NAN or huge (w overflowed) */
                size_t b = !(w > 0 && at > 0) ? 0
                           : at >= CLI_REPORT_HIST_BINS ? CLI_REPORT_HIST_BINS - 1
                                                        : (size_t)at;
                double h = o->hist[b] + v[k].w;
                o->hist[b] = h > UINT32_MAX ? UINT32_MAX : (uint32_t)h;
            }
            free(v);
        }
    }
    if (x->progress.n) {
        r->progress = calloc(x->progress.n, sizeof *r->progress);
        if (!r->progress)
            return -ENOMEM;
        for (size_t i = 0; i < x->progress.n; i++) {
            named_pts *g = &x->progress.v[i];
            cli_report_progress *o = &r->progress[r->nprogress++];
            mv__strlcpy(o->unit, g->name, sizeof o->unit);
            o->rising_at_ms = MV_NA;
            o->first_per_unit = o->last_per_unit = NAN;
            /* memory per unit (bytes per unit) as the registry computes
             * it: growth of private memory since the first checkpoint over
             * units since */
            pts per = {0};
            double base_p = NAN, base_u = NAN;
            o->units = malloc((g->aux.n + 1) * sizeof *o->units);
            o->private_bytes = malloc((g->aux.n + 1) * sizeof *o->private_bytes);
            if (!o->units || !o->private_bytes)
                return -ENOMEM;
            for (size_t k = 0; k < g->aux.n; k++) {
                double u = g->aux.v[k];
                double pb = g->p.v[k];
                if (isnan(pb))
                    pb = private_at(&r->raw, g->aux.t[k]);
                o->units_total = mv__double_to_i64_or(u, MV_NA); /* u <= 2^53 */
                if (isnan(pb))
                    continue;
                o->units[o->npts] = u;
                o->private_bytes[o->npts++] = pb;
                if (isnan(base_p)) {
                    base_p = pb;
                    base_u = u;
                    continue;
                }
                if (u - base_u <= 0)
                    continue;
                double v = (pb - base_p) / (u - base_u);
                if (pts_push(&per, g->aux.t[k], v)) {
                    free(per.t);
                    free(per.v);
                    return -ENOMEM;
                }
            }
            if (per.n) {
                o->first_per_unit = per.v[0];
                o->last_per_unit = per.v[per.n - 1];
                rc = cli_report_downsample(per.t, per.v, per.n, per.t[0],
                                           per.t[per.n - 1], columns,
                                           &o->per_unit);
            }
            free(per.t);
            free(per.v);
            if (rc)
                return rc;
            for (size_t k = 0; k < r->nevents; k++)
                if (strcmp(r->events[k].event, "per_unit_rising") == 0 &&
                    strstr(r->events[k].message, o->unit)) {
                    o->rising_at_ms = r->events[k].t_ms;
                    break;
                }
        }
    }
    return 0;
}

/* ---- trend line ---- */

static void fit_trend(cli_report *r)
{
    const mv__leak_result *v = &r->verdict;
    if (!r->have_verdict || isnan(v->growth_bytes_per_h) || r->raw.n < 2)
        return;
    double slope = v->growth_bytes_per_h / 3600.0 / 1000.0; /* per ms */
    double win_ms = v->window_s > 0 ? v->window_s * 1000.0
                                    : (double)(r->t1_ms - r->t0_ms);
    int64_t span = r->t1_ms - r->t0_ms;
    int64_t win = mv__double_to_i64_or(win_ms, span);
    int64_t from = r->t1_ms - (win >= 0 && win < span ? win : span);
    size_t n = 0;
    double *b = malloc(r->raw.n * sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < r->raw.n; i++)
        if (r->raw.t_ms[i] >= from && !isnan(r->raw.private_bytes[i]))
            b[n++] = r->raw.private_bytes[i] - slope * (double)(r->raw.t_ms[i] - r->t0_ms);
    if (n >= 2) {
        qsort(b, n, sizeof *b, cmp_double);
        double icpt = quantile_sorted(b, n, 0.5);
        int64_t start = from > r->t0_ms ? from : r->t0_ms;
        r->trend_t0_s = (double)(start - r->t0_ms) / 1000.0;
        r->trend_t1_s = (double)(r->t1_ms - r->t0_ms) / 1000.0;
        r->trend_v0 = icpt + slope * (double)(start - r->t0_ms);
        r->trend_v1 = icpt + slope * (double)(r->t1_ms - r->t0_ms);
        r->have_trend = 1;
    }
    free(b);
}

/* ---- advice ---- */

static void add_advice(cli_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_advice(cli_report *r, const char *fmt, ...)
{
    if (r->nadvice >= sizeof r->advice / sizeof r->advice[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->advice[r->nadvice++], sizeof r->advice[0], fmt, ap);
    va_end(ap);
}

static void add_missing(cli_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_missing(cli_report *r, const char *fmt, ...)
{
    if (r->nmissing >= sizeof r->missing / sizeof r->missing[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->missing[r->nmissing++], sizeof r->missing[0], fmt, ap);
    va_end(ap);
}

/* The allocator's part of the advice, from the recording's own events
 * (the live diagnosis, frag.h): the last fragmentation claim still in
 * force, and what trims returned. */
static void advise_allocator(cli_report *r)
{
    const cli_report_event *claim = NULL;
    double released = 0;
    size_t ntrims = 0;
    char a[40];

    for (size_t i = 0; i < r->nevents; i++) {
        const cli_report_event *e = &r->events[i];
        if (strcmp(e->event, "fragmentation") == 0)
            claim = e;
        else if (strcmp(e->event, "fragmentation_cleared") == 0)
            claim = NULL;
        else if (strcmp(e->event, "trim") == 0) {
            /* "...: malloc_trim returned 214 MiB to the kernel ..." */
            const char *p = strstr(e->message, "returned ");
            int64_t b;
            char num[48];
            if (p && sscanf(p + 9, "%47s", num) == 1) {
                const char *unit = p + 9 + strlen(num) + 1;
                char sz[64];
                snprintf(sz, sizeof sz, "%s%.3s", num, unit);
                if (mv__parse_size(sz, &b) == 0)
                    released += (double)b;
            }
            ntrims++;
        }
    }
    if (claim) {
        char what[240];
        mv__strlcpy(what, claim->message, sizeof what);
        char *cut = strstr(what, "; try ");  /* the event's short advice */
        if (cut)
            *cut = '\0';
        add_advice(r, "Not a leak, the allocator's memory: %s. Set "
                   "MALLOC_ARENA_MAX=2, call malloc_trim(0) (mv_trim(), the "
                   "periodic trim) after peaks, or use jemalloc "
                   "(background_thread:true).", what);
    }
    if (ntrims > 0)
        add_advice(r, "%zu allocator trim%s returned %s to the kernel during "
                   "the recording (resident memory before minus after).",
                   ntrims, ntrims == 1 ? "" : "s",
                   mv__human_bytes_d(released, a, sizeof a));
}

void cli_report_finish(cli_report *r)
{
    char a[40], b[40];
    r->nadvice = 0;
    r->nmissing = 0;
    const mv__leak_result *v = &r->verdict;
    mv__leak_verdict vd = r->have_verdict ? v->verdict : MV_LEAK_INSUFFICIENT_DATA;

    if (r->have_verdict && v->risk.active)
        add_advice(r, "Out of memory in about %s at the current growth rate "
                   "(%s/h), whatever the cause: restart, raise the limit or "
                   "shed load before then.%s",
                   mv__human_eta(v->risk.eta_s, a, sizeof a),
                   mv__human_bytes_d(fabs(v->risk.growth_bytes_per_h), b,
                                     sizeof b),
                   vd == MV_LEAK_LEAK ? "" : " The leak verdict does not "
                   "(yet) call it a leak: the growth may be warm-up or a "
                   "cache filling; keep recording to tell.");
    if (r->oom_kills > 0) {
        /* the last victim the kernel log named, in the event's own words
         * (events.c: "...: the kernel killed pid N (comm) at anon-rss ...") */
        const char *victim = NULL;
        for (size_t k = r->nevents; k-- > 0 && !victim;)
            if (strcmp(r->events[k].event, "oom_kill") == 0)
                victim = strstr(r->events[k].message, "the kernel killed ");
        add_advice(r, "The kernel OOM killer struck %lld time%s%s%s. Raise the limit "
                   "above the peak (%s private, %s RSS) or reduce concurrency so "
                   "the peak fits; if memory keeps growing, find the leak first "
                   "(raising the limit only delays the kill).",
                   (long long)r->oom_kills, r->oom_kills == 1 ? "" : "s",
                   victim ? "; last: " : "", victim ? victim : "",
                   mv__human_bytes_d(r->private_peak, a, sizeof a),
                   mv__human_bytes_d(r->rss_peak, b, sizeof b));
    }
    else if (r->oom_suspected)
        add_advice(r, "The process ended at its memory limit without a recorded "
                   "OOM count: check `dmesg` / the cgroup's memory.events for an "
                   "OOM kill, then raise the limit or reduce concurrency.");
    advise_allocator(r);
    if (vd == MV_LEAK_LEAK || vd == MV_LEAK_SUSPECT) {
        if (r->heap.nsites > 0)
            add_advice(r, "Look at %s first: it grows %s/h and explains %.0f%% of "
                       "the heap growth.", r->heap.sites[0].site,
                       mv__human_bytes_d(r->heap.sites[0].growth_bytes_per_h,
                                       a, sizeof a),
                       isnan(r->heap.sites[0].share) ? 0.0
                                                     : r->heap.sites[0].share * 100);
        else
            add_advice(r, "Find the growing call sites: run with `memvigil run "
                       "--heap -- CMD` (or LD_PRELOAD libmemvigil_heap.so) and "
                       "render this report again with --heap DIR.");
        if (!isnan(v->eta_s) && isfinite(v->eta_s))
            add_advice(r, "Until it is fixed, plan a restart or a higher limit "
                       "before the limit is reached (in about %s).",
                       mv__human_eta(v->eta_s, a, sizeof a));
        if (vd == MV_LEAK_SUSPECT)
            add_advice(r, "The growth is not yet certain: keep recording (a longer "
                       "window raises the confidence) and compare with the "
                       "application's own counters.");
    } else if (vd == MV_LEAK_NO_LEAK && r->oom_kills == 0) {
        add_advice(r, "No leak: memory is stable. If usage is close to the limit, "
                   "size the limit from the peak (%s) plus a safety margin, or "
                   "use `memvigil estimate` when the work grows.",
                   mv__human_bytes_d(r->private_peak, a, sizeof a));
    } else if (vd == MV_LEAK_INSUFFICIENT_DATA) {
        add_advice(r, "Record longer (hours rather than minutes) so the detector "
                   "can tell a leak from warm-up.");
    }
    for (size_t i = 0; i < r->nprogress; i++)
        if (r->progress[i].rising_at_ms != MV_NA)
            add_advice(r, "Memory per %s keeps rising (superlinear): something "
                       "is kept per %s; run `memvigil estimate` on this recording "
                       "before feeding it more work.", r->progress[i].unit,
                       r->progress[i].unit);
    if (strcmp(r->max_level, "critical") == 0 && r->oom_kills == 0 &&
        vd != MV_LEAK_LEAK)
        add_advice(r, "Usage reached the critical level: reduce concurrency or "
                   "cache sizes, or raise the limit.");

    if (!r->have_verdict)
        add_missing(r, "no verdict: the leak detector could not be run");
    if (!r->series_present[CLI_RS_LIMIT])
        add_missing(r, "no memory limit known: time to limit cannot be given");
    if (!r->series_present[CLI_RS_RSS])
        add_missing(r, "no per-process figures (cgroup-only target)");
    if (!r->series_present[CLI_RS_WORKING_SET])
        add_missing(r, "no cgroup figures (working set)");
    if (r->ngauges == 0 && r->nops == 0 && r->nprogress == 0)
        add_missing(r, "no application records (gauges, operations, progress)");
    if (r->heap.requested && r->heap.note[0])
        add_missing(r, "heap snapshots: %s", r->heap.note);
    else if (!r->heap.requested)
        add_missing(r, "no heap snapshots (--heap DIR)");
}

/* ---- sniffing a long input ---- */

static int count_line(const mv__record_line *l, void *ctx)
{
    (void)l;
    (*(size_t *)ctx)++;
    return 0;
}

int cli_report_sniff(const char *head, size_t len, void *ctx, char *why,
                     size_t whylen)
{
    (void)ctx;
    const char *nl = memrchr(head, '\n', len);
    size_t known = 0;
    if (!nl) {
        snprintf(why, whylen, "no line end in the first MiB: not a recording");
        return -EINVAL;
    }
    FILE *f = fmemopen((void *)head, (size_t)(nl - head) + 1, "r");
    if (!f)
        return 0;   /* cannot look: the full reader will judge */
    char msg[200] = "";
    int rc = mv__record_read(f, count_line, &known, msg, sizeof msg);
    fclose(f);
    if (rc == -EINVAL) {
        snprintf(why, whylen, "%s (not a memvigil recording)", msg);
        return -EINVAL;
    }
    if (rc == 0 && known == 0) {
        snprintf(why, whylen, "no recording line in the first MiB: not a "
                 "memvigil recording");
        return -EINVAL;
    }
    return 0;
}

/* ---- build ---- */

const char *cli_report_input_error(int rc, const mv__record_join *j)
{
    if (rc == -EFBIG)
        return "file too large (over 1 GiB)";
    if (rc == -EINVAL && j && j->why[0])
        return j->why;
    return strerror(-rc);
}

static void sample_cols_release(sample_cols *s)
{
    free(s->t);
    for (int i = 0; i < CLI_RS_COUNT; i++)
        free(s->v[i]);
    free(s->phase);
    memset(s, 0, sizeof *s);
}

int cli_report_build(const char *name, const char *data, size_t len,
                     const cli_report_opts *o, cli_report *r,
                     char *err, size_t errlen)
{
    if (len == 0) {
        memset(r, 0, sizeof *r);
        snprintf(err, errlen, "%s: empty file: no samples to report", name);
        return -ENODATA;
    }
    FILE *f = fmemopen((void *)data, len, "r");
    if (!f) {
        int e = errno;
        memset(r, 0, sizeof *r);
        snprintf(err, errlen, "%s: %s", name, strerror(e));
        return -e;
    }
    int rc = cli_report_read(name, f, o, r, err, errlen);
    fclose(f);
    return rc;
}

int cli_report_read(const char *name, FILE *f, const cli_report_opts *o,
                    cli_report *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    mv__strlcpy(r->source, name, sizeof r->source);
    mv__strlcpy(r->max_level, "ok", sizeof r->max_level);
    r->detected_at_s = NAN;
    r->oom_risk_at_s = NAN;
    r->limit_bytes = MV_NA;
    r->warning_ratio = 0.80;
    r->critical_ratio = 0.90;
    size_t columns = o && o->columns ? o->columns : CLI_REPORT_COLUMNS;

    read_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.o = o;
    c.oom_first = c.oom_last = MV_NA;
    extras x;
    memset(&x, 0, sizeof x);
    c.x = &x;
    int rc;

    /* one pass over every line kind; nothing of the input is kept but
     * what visit keeps */
    char why[256] = "";
    mv__record_read_info ri;
    rc = mv__record_read_ex(f, visit, &c, &ri, why, sizeof why);
    if (rc == 0 && c.rc)
        rc = c.rc;
    if (rc) {
        snprintf(err, errlen, "%s: %s", name,
                 why[0] ? why : rc == -ENOMEM ? "out of memory" : strerror(-rc));
        goto fail;
    }
    if (ri.lines == 0) {
        snprintf(err, errlen, "%s: empty file: no samples to report", name);
        rc = -ENODATA;
        goto fail;
    }
    if (ri.torn_line > 0)   /* the reader skips it silently; say so */
        snprintf(r->warnings, sizeof r->warnings,
                 "the last line is torn (the writer stopped mid-line) and "
                 "was skipped");
    if (c.s.n == 0) {
        snprintf(err, errlen, "%s: no samples: not a recording with data "
                 "(%zu event lines)", name, r->nevents);
        rc = -ENODATA;
        goto fail;
    }

    sample_cols *s = &c.s;
    r->nsamples = s->n;
    r->t0_ms = s->t[0];
    r->t1_ms = s->t[s->n - 1];
    r->downsampled = s->n > columns;
    r->private_first = r->private_last = r->private_peak = r->rss_peak = NAN;
    for (size_t i = 0; i < s->n; i++) {
        double p = s->v[CLI_RS_PRIVATE][i], q = s->v[CLI_RS_RSS][i];
        if (!isnan(p)) {
            if (isnan(r->private_first))
                r->private_first = p;
            r->private_last = p;
            if (isnan(r->private_peak) || p > r->private_peak)
                r->private_peak = p;
        }
        if (!isnan(q) && (isnan(r->rss_peak) || q > r->rss_peak))
            r->rss_peak = q;
    }
    for (int k = 0; k < CLI_RS_COUNT; k++) {
        rc = cli_report_downsample(s->t, s->v[k], s->n, r->t0_ms, r->t1_ms,
                                   columns, &r->cols[k]);
        if (rc)
            goto nomem;
        r->series_present[k] = r->cols[k].n > 0;
    }
    if (r->cols[CLI_RS_LIMIT].n)
        r->limit_bytes = mv__double_to_i64_or(
            r->cols[CLI_RS_LIMIT].min[r->cols[CLI_RS_LIMIT].n - 1], MV_NA);
    for (size_t i = 0; i < r->nphases; i++)
        if (r->phases[i].open)
            r->phases[i].t1_ms = r->t1_ms;

    /* OOM kills: events plus the rise of the cgroup counter, whichever
     * says more (a kill between two samples may have no event line) */
    if (c.oom_first != MV_NA && c.oom_last - c.oom_first > r->oom_kills)
        r->oom_kills = c.oom_last - c.oom_first;
    if (r->oom_kills == 0) {
        double ratio_last = NAN;
        size_t i = s->n - 1;
        double use = !isnan(s->v[CLI_RS_WORKING_SET][i]) ? s->v[CLI_RS_WORKING_SET][i]
                                                         : s->v[CLI_RS_RSS][i];
        if (!isnan(s->v[CLI_RS_LIMIT][i]) && s->v[CLI_RS_LIMIT][i] > 0)
            ratio_last = use / s->v[CLI_RS_LIMIT][i];
        int exited = 0;
        for (size_t k = 0; k < r->nevents; k++)
            if (strcmp(r->events[k].event, "target_exit") == 0)
                exited = 1;
        r->oom_suspected = exited && ratio_last >= 0.97;
    }

    /* the drawn columns are done with: freed before the raw series are
     * made, so the peak stays that of the columns while reading */
    for (int k = 0; k < CLI_RS_COUNT; k++)
        if (k != CLI_RS_PRIVATE && k != CLI_RS_LIMIT) {
            free(s->v[k]);
            s->v[k] = NULL;
        }

    /* raw series for the verdict replay (ownership moves from s) */
    r->raw.t_ms = s->t;
    r->raw.private_bytes = s->v[CLI_RS_PRIVATE];
    r->raw.phase = s->phase;
    r->raw.n = s->n;
    r->raw.limit = malloc(s->n * sizeof *r->raw.limit);
    if (!r->raw.limit)
        goto nomem_raw;
    for (size_t i = 0; i < s->n; i++)
        r->raw.limit[i] = mv__double_to_i64_or(s->v[CLI_RS_LIMIT][i], MV_NA);
    s->t = NULL;
    s->v[CLI_RS_PRIVATE] = NULL;
    s->phase = NULL;
    sample_cols_release(s);

    rc = build_extras(r, &x, columns);
    if (rc)
        goto nomem;

    if (o && o->verdict) {
        int64_t lim = MV_NA;
        if (o->progress)
            o->progress(o->progress_ctx, 1, 1);   /* stage: the detector */
        rc = o->verdict(&r->raw, o->verdict_ctx, &r->verdict, &r->detected_at_s, &lim);
        if (rc == 0) {
            r->have_verdict = 1;
            if (lim != MV_NA)
                r->limit_bytes = lim;
            if (r->verdict.risk.first_ms >= 0 && r->t0_ms != MV_NA &&
                r->verdict.risk.first_ms >= r->t0_ms)
                r->oom_risk_at_s =
                    (double)(r->verdict.risk.first_ms - r->t0_ms) / 1000.0;
        } else if (rc == -ENOMEM) {
            goto nomem;
        }
        rc = 0;
        fit_trend(r);
    }
    if (x.bad)
        snprintf(r->warnings + strlen(r->warnings),
                 sizeof r->warnings - strlen(r->warnings),
                 "%s%zu gauge/op/progress line%s could not be read and %s skipped",
                 r->warnings[0] ? "; " : "", x.bad, x.bad == 1 ? "" : "s",
                 x.bad == 1 ? "was" : "were");
    cli_report_finish(r);
    sample_cols_release(&c.s);
    named_release(&x.gauges);
    named_release(&x.ops);
    named_release(&x.progress);
    return 0;

nomem_raw:
    r->raw.t_ms = NULL;
    r->raw.private_bytes = NULL;
    r->raw.phase = NULL;
nomem:
    snprintf(err, errlen, "%s: out of memory", name);
    rc = -ENOMEM;
fail:
    sample_cols_release(&c.s);
    named_release(&x.gauges);
    named_release(&x.ops);
    named_release(&x.progress);
    cli_report_release(r);
    return rc;
}

void cli_report_heap_release(cli_report_heap *h)
{
    if (!h)
        return;
    free(h->sites);
    for (size_t i = 0; i < h->nflame; i++)
        free(h->flame[i].folded);
    free(h->flame);
    memset(h, 0, sizeof *h);
}

void cli_report_release(cli_report *r)
{
    if (!r)
        return;
    for (int k = 0; k < CLI_RS_COUNT; k++)
        cli_report_cols_release(&r->cols[k]);
    free(r->raw.t_ms);
    free(r->raw.private_bytes);
    free(r->raw.limit);
    free(r->raw.phase);
    free(r->events);
    free(r->phases);
    for (size_t i = 0; i < r->ngauges; i++)
        cli_report_cols_release(&r->gauges[i].cols);
    free(r->gauges);
    free(r->ops);
    for (size_t i = 0; i < r->nprogress; i++) {
        cli_report_cols_release(&r->progress[i].per_unit);
        free(r->progress[i].units);
        free(r->progress[i].private_bytes);
    }
    free(r->progress);
    cli_report_heap_release(&r->heap);
    memset(r, 0, sizeof *r);
}
