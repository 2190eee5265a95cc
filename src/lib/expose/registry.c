/*
 * registry.c — the application's own memory records: component gauges,
 * per-operation memory-delta histograms, progress counters with memory per
 * unit, and phases; rendered as Prometheus/OpenMetrics families or JSON.
 *
 * Design:
 *  - Each family is a sorted array of pointers to series, keyed by a string
 *    (gauges: "component\x01canonical labels"; others: the name). Binary
 *    search makes lookups O(log n); inserting costs a memmove of pointers,
 *    which for the capped sizes (default 1000, tested at 10k) is a few
 *    microseconds. Rendering walks the array in order: output is sorted and
 *    deterministic, and there is no O(n^2) anywhere.
 *  - Labels are canonicalised on entry (sorted by key, duplicates refused),
 *    so "a=1,b=2" and "b=2,a=1" name one series, and the escaped exposition
 *    text of the label set is built once, at insert, not on every scrape.
 *  - Every family is capped at max_series_per_family; a new series beyond
 *    the cap is refused with -ENOSPC and counted in
 *    memvigil_series_dropped_total, because one runaway label (a request id)
 *    must not turn the exporter into the leak it is meant to find.
 *  - One mutex guards everything; calls are short and rendering under the
 *    lock is bounded by the cap.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"

/* Bounds of the operation delta histogram, bytes. The first bucket (le=0)
 * takes frees and operations that did not grow; the others are spaced x16
 * to span a page-sized allocation to a gigabyte with few series. */
#define OP_BUCKETS 8
static const double op_bounds[OP_BUCKETS] = {
    0, 4096.0, 65536.0, 1048576.0, 16777216.0, 268435456.0, 1073741824.0,
    INFINITY};

_Static_assert(OP_BUCKETS == MV__REGISTRY_OP_BUCKETS,
               "registry.h exports the bucket count");

#define NAME_MAX_LEN 128
#define LABELS_MAX_LEN 1024
#define LABELS_MAX_COUNT 16
/* Default cap: generous for components (indexes, caches, shards) yet a hard
 * ceiling on the exporter's own memory (~1000 x ~200 B per family). */
#define DEFAULT_MAX_SERIES 1000

/* ---- series types: each starts with its sort key ---- */

typedef struct gauge {
    char *key;        /* "component\x01labels" */
    char *component;  /* the component name */
    char *labels;     /* canonical "k=v,k=v" (sorted by key), "" if none */
    char *text;       /* exposition label body: component="x",k="v" */
    int64_t bytes;
    int dirty;        /* changed since the last mv__registry_changes */
    int emitted;      /* reported by mv__registry_changes at least once */
} gauge;

typedef struct op {
    char *key;                  /* operation name */
    char *text;                 /* operation="x" */
    uint64_t buckets[OP_BUCKETS]; /* non-cumulative counts */
    uint64_t count;
    int64_t delta_sum;          /* signed sum of deltas */
    double duration_sum;        /* seconds */
    /* since the last mv__registry_changes (count 0: nothing new) */
    uint64_t s_buckets[OP_BUCKETS];
    uint64_t s_count;
    int64_t s_sum, s_min, s_max;
    double s_duration;
} op;

typedef struct progress {
    char *key;            /* unit name */
    char *text;           /* unit="x" */
    int64_t units;        /* all units added */
    int64_t first_ms;     /* time of the first call */
    int64_t first_units;  /* units after the first call */
    int have_base;        /* baseline of private memory known */
    int64_t base_private; /* private bytes at the baseline */
    int64_t base_units;   /* units at the baseline */
    double per_unit;      /* private bytes per unit of work; NAN until known */
    double rate;          /* units per second; NAN until time passed */
    int have_cp;          /* a checkpoint exists */
    int64_t cp_units;     /* units since baseline at the last checkpoint */
    double cp_per_unit;   /* bytes per unit at the last checkpoint */
    int rises;            /* consecutive rising checkpoints */
    int reported;         /* this run of rises was already reported */
    int64_t last_private; /* private bytes at the last call (MV_NA) */
    int dirty;            /* changed since the last mv__registry_changes */
} progress;

typedef struct phase {
    char *key;            /* phase name */
    char *text;           /* phase="x" */
    int depth;            /* nesting depth; 0 = not active */
    int64_t since_ms;     /* when the outermost begin happened */
} phase;

/* A removed gauge waiting to be reported (value 0) by
 * mv__registry_changes. Owns both strings. */
typedef struct removed_gauge {
    char *name;
    char *labels;
} removed_gauge;

/* A sorted array of series pointers. */
typedef struct vec {
    void **v;
    size_t n, cap;
} vec;

struct mv__registry {
    pthread_mutex_t mu;
    int max_series;   /* per family */
    vec gauges;       /* gauge*, by component then labels */
    vec ops;          /* op*, by name */
    vec progs;        /* progress*, by unit */
    vec phases;       /* phase*, by name */
    int64_t dropped;  /* series refused by the cap */
    mv__heap_site heap_sites[MV__HEAP_SITES_MAX]; /* as given, sites unique */
    size_t heap_n;
    /* change tracking for mv__registry_changes (the recorder) */
    int tracking;          /* set by the first mv__registry_changes call */
    removed_gauge *removed; /* removals of reported gauges, oldest first */
    size_t nremoved;       /* <= max_series; more are lost (counted) */
    uint64_t removed_lost;
    size_t cur_gauge, cur_op, cur_prog; /* round-robin start under the cap */
};

static const char *key_of(const void *item) { return *(char *const *)item; }

/* Index of key in a, or of where it would be inserted; *found set. */
static size_t vec_find(const vec *a, const char *key, int *found)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key_of(a->v[mid]), key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static int vec_insert(vec *a, size_t at, void *item)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        void **v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    memmove(a->v + at + 1, a->v + at, (a->n - at) * sizeof *a->v);
    a->v[at] = item;
    a->n++;
    return 0;
}

static void vec_remove(vec *a, size_t at)
{
    memmove(a->v + at, a->v + at + 1, (a->n - at - 1) * sizeof *a->v);
    a->n--;
}

/* ---- lifecycle ---- */

mv__registry *mv__registry_new(int max_series_per_family)
{
    mv__registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return NULL;
    }
    r->max_series = max_series_per_family > 0 ? max_series_per_family
                                              : DEFAULT_MAX_SERIES;
    return r;
}

static void gauge_free(gauge *g)
{
    if (!g)
        return;
    free(g->key);
    free(g->component);
    free(g->labels);
    free(g->text);
    free(g);
}

/* op, progress and phase all begin with the members of `named` (key, text)
 * and own exactly those two strings, so one allocator and one destructor
 * serve the three families (named_get allocates the full struct size). */
typedef struct named {
    char *key;
    char *text;
} named;

static void named_free(void *item)
{
    if (!item)
        return;
    named *n = item;
    free(n->key);
    free(n->text);
    free(item);
}

void mv__registry_free(mv__registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->gauges.n; i++)
        gauge_free(r->gauges.v[i]);
    for (size_t i = 0; i < r->ops.n; i++)
        named_free(r->ops.v[i]);
    for (size_t i = 0; i < r->progs.n; i++)
        named_free(r->progs.v[i]);
    for (size_t i = 0; i < r->phases.n; i++)
        named_free(r->phases.v[i]);
    free(r->gauges.v);
    free(r->ops.v);
    free(r->progs.v);
    free(r->phases.v);
    for (size_t i = 0; i < r->nremoved; i++) {
        free(r->removed[i].name);
        free(r->removed[i].labels);
    }
    free(r->removed);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- validation ---- */

static int is_alpha_(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

int mv__registry_name_ok(const char *name)
{
    if (!name || !is_alpha_((unsigned char)name[0]))
        return 0;
    size_t i = 1;
    for (; name[i]; i++) {
        int c = (unsigned char)name[i];
        if (!is_alpha_(c) && !is_digit(c) && c != ':' && c != '.' && c != '-')
            return 0;
        if (i >= NAME_MAX_LEN)
            return 0;
    }
    return 1;
}

typedef struct label {
    const char *k, *v;
    size_t kl, vl;
} label;

static int label_cmp(const void *a, const void *b)
{
    const label *x = a, *y = b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    if (c)
        return c;
    return (x->kl > y->kl) - (x->kl < y->kl);
}

/* Parses "k=v,k=v" into canonical form (sorted by key) in *canon and the
 * exposition body (prefix, then ,k="v"...) in *text. Keys must be label
 * names, not reserved ("__*", "le", reserved_key); values non-empty without
 * ',' or '='. 0, -EINVAL or -ENOMEM. */
static int parse_labels(const char *labels, const char *reserved_key,
                        mv_buf *canon, mv_buf *text)
{
    label l[LABELS_MAX_COUNT];
    size_t n = 0;
    if (!labels || !*labels)
        return 0;
    if (strlen(labels) > LABELS_MAX_LEN)
        return -EINVAL;
    const char *p = labels;
    for (;;) {
        if (n == LABELS_MAX_COUNT)
            return -EINVAL;
        const char *eq = strchr(p, '=');
        if (!eq)
            return -EINVAL;
        size_t kl = (size_t)(eq - p);
        if (kl == 0 || !is_alpha_((unsigned char)p[0]))
            return -EINVAL;
        for (size_t i = 1; i < kl; i++)
            if (!is_alpha_((unsigned char)p[i]) && !is_digit((unsigned char)p[i]))
                return -EINVAL;
        if ((kl >= 2 && p[0] == '_' && p[1] == '_') ||
            (kl == 2 && memcmp(p, "le", 2) == 0) ||
            (kl == strlen(reserved_key) && memcmp(p, reserved_key, kl) == 0))
            return -EINVAL;
        const char *v = eq + 1;
        size_t vl = strcspn(v, ",=");
        if (vl == 0 || v[vl] == '=')
            return -EINVAL;
        l[n++] = (label){p, v, kl, vl};
        if (v[vl] == '\0')
            break;
        p = v + vl + 1; /* past the ',' */
    }
    qsort(l, n, sizeof l[0], label_cmp);
    for (size_t i = 1; i < n; i++)
        if (label_cmp(&l[i - 1], &l[i]) == 0)
            return -EINVAL;
    char val[LABELS_MAX_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        int rc = 0;
        if (i)
            rc = mv__buf_append(canon, ",", 1);
        if (!rc) rc = mv__buf_append(canon, l[i].k, l[i].kl);
        if (!rc) rc = mv__buf_append(canon, "=", 1);
        if (!rc) rc = mv__buf_append(canon, l[i].v, l[i].vl);
        if (!rc) rc = mv__buf_append(text, ",", 1);
        if (!rc) rc = mv__buf_append(text, l[i].k, l[i].kl);
        if (!rc) rc = mv__buf_append(text, "=\"", 2);
        memcpy(val, l[i].v, l[i].vl);
        val[l[i].vl] = '\0';
        if (!rc) rc = mv__metric_label_value(text, val);
        if (!rc) rc = mv__buf_append(text, "\"", 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Drops a series: counted, -ENOSPC. Lock held. */
static int drop(mv__registry *r)
{
    r->dropped++;
    return -ENOSPC;
}

/* "kind=\"name\"" — names are validated, so no escaping is needed. */
static char *label_text(const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 4;
    char *t = malloc(n);
    if (t) {
        strcpy(t, kind);
        strcat(t, "=\"");
        strcat(t, name);
        strcat(t, "\"");
    }
    return t;
}

/* Finds or creates the named series of family a; sz is the struct size.
 * Returns it, or NULL with *err = -ENOSPC/-ENOMEM. Lock held. */
static void *named_get(mv__registry *r, vec *a, const char *name,
                       const char *kind, size_t sz, int *err)
{
    int found;
    size_t at = vec_find(a, name, &found);
    if (found)
        return a->v[at];
    if (a->n >= (size_t)r->max_series) {
        *err = drop(r);
        return NULL;
    }
    named *n = calloc(1, sz);
    if (!n) {
        *err = -ENOMEM;
        return NULL;
    }
    n->key = strdup(name);
    n->text = label_text(kind, name);
    if (!n->key || !n->text || vec_insert(a, at, n) != 0) {
        named_free(n);
        *err = -ENOMEM;
        return NULL;
    }
    return n;
}

/* ---- gauges ---- */

/* Remembers the removal of g for mv__registry_changes, when a recorder is
 * draining and g's value was reported (a gauge set and removed within one
 * tick never appeared, so its removal is not news). Bounded by the cap;
 * beyond it the removal is counted as lost. Lock held. */
static void note_removed(mv__registry *r, const gauge *g)
{
    if (!r->tracking || !g->emitted)
        return;
    if (r->nremoved >= (size_t)r->max_series) {
        r->removed_lost++;
        return;
    }
    if (!r->removed) {
        r->removed = calloc((size_t)r->max_series, sizeof *r->removed);
        if (!r->removed) {
            r->removed_lost++;
            return;
        }
    }
    removed_gauge *x = &r->removed[r->nremoved];
    x->name = strdup(g->component);
    x->labels = strdup(g->labels);
    if (!x->name || !x->labels) {
        free(x->name);
        free(x->labels);
        r->removed_lost++;
        return;
    }
    r->nremoved++;
}

int mv__registry_gauge_set(mv__registry *r, const char *name,
                           const char *labels, int64_t bytes)
{
    if (!r || !mv__registry_name_ok(name) || bytes < 0)
        return -EINVAL;
    mv_buf canon, text, key;
    mv_buf_init(&canon);
    mv_buf_init(&text);
    mv_buf_init(&key);
    int rc = mv__buf_printf(&text, "component=\"%s\"", name);
    if (!rc)
        rc = parse_labels(labels, "component", &canon, &text);
    if (!rc)
        rc = mv__buf_printf(&key, "%s\x01%s", name, canon.data ? canon.data : "");
    if (rc)
        goto out;

    pthread_mutex_lock(&r->mu);
    int found;
    size_t at = vec_find(&r->gauges, key.data, &found);
    if (found) {
        gauge *g = r->gauges.v[at];
        if (bytes == 0) {
            vec_remove(&r->gauges, at);
            note_removed(r, g);
            gauge_free(g);
        } else {
            if (g->bytes != bytes)
                g->dirty = 1;
            g->bytes = bytes;
        }
    } else if (bytes == 0) {
        /* nothing to remove */
    } else if (r->gauges.n >= (size_t)r->max_series) {
        rc = drop(r);
    } else {
        gauge *g = calloc(1, sizeof *g);
        if (g) {
            g->key = key.data;
            g->text = text.data;
            g->component = strdup(name);
            g->labels = canon.data ? canon.data : strdup("");
            key.data = text.data = canon.data = NULL; /* moved */
            g->bytes = bytes;
            g->dirty = 1;
        }
        if (!g || !g->component || !g->labels ||
            vec_insert(&r->gauges, at, g) != 0) {
            gauge_free(g);
            rc = -ENOMEM;
        }
    }
    pthread_mutex_unlock(&r->mu);
out:
    mv_buf_release(&canon);
    mv_buf_release(&text);
    mv_buf_release(&key);
    return rc;
}

/* ---- operations ---- */

int mv__registry_op_observe(mv__registry *r, const char *name,
                            int64_t delta_bytes, double duration_s)
{
    if (!r || !mv__registry_name_ok(name) || !(duration_s >= 0) ||
        !isfinite(duration_s))
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    op *o = named_get(r, &r->ops, name, "operation", sizeof(op), &rc);
    if (o) {
        size_t b = 0;
        while (b + 1 < OP_BUCKETS && (double)delta_bytes > op_bounds[b])
            b++;
        o->buckets[b]++;
        o->count++;
        o->delta_sum += delta_bytes;
        o->duration_sum += duration_s;
        o->s_buckets[b]++;
        if (o->s_count == 0 || delta_bytes < o->s_min)
            o->s_min = delta_bytes;
        if (o->s_count == 0 || delta_bytes > o->s_max)
            o->s_max = delta_bytes;
        o->s_count++;
        o->s_sum += delta_bytes;
        o->s_duration += duration_s;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- progress ---- */

int mv__registry_progress_add(mv__registry *r, const char *unit, int64_t n,
                              int64_t private_bytes, int64_t now_ms,
                              int *rising)
{
    if (rising)
        *rising = 0;
    if (!r || !mv__registry_name_ok(unit) || n < 0)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    int found;
    vec_find(&r->progs, unit, &found);
    progress *p = named_get(r, &r->progs, unit, "unit", sizeof(progress), &rc);
    if (!p)
        goto out;
    if (n > INT64_MAX - p->units) {
        /* the counter would overflow: refuse, nothing changes (a new
         * series has units 0, so only an existing one gets here) */
        rc = -EINVAL;
        goto out;
    }
    p->units += n;
    p->dirty = 1;
    p->last_private = private_bytes;
    if (!found) {
        p->first_ms = now_ms;
        p->first_units = p->units;
        p->per_unit = NAN;
        p->rate = NAN;
    } else if (now_ms > p->first_ms) {
        p->rate = (double)(p->units - p->first_units) * 1000.0 /
                  (double)(now_ms - p->first_ms);
    }
    if (private_bytes == MV_NA)
        goto out;
    if (!p->have_base) {
        p->have_base = 1;
        p->base_private = private_bytes;
        p->base_units = p->units;
        goto out;
    }
    int64_t u = p->units - p->base_units;
    if (u <= 0)
        goto out;
    double per_unit = (double)(private_bytes - p->base_private) / (double)u;
    p->per_unit = per_unit;
    if (p->have_cp && (double)u < 1.1 * (double)p->cp_units)
        goto out;
    if (p->have_cp) {
        if (per_unit > 0 && per_unit > p->cp_per_unit + fabs(p->cp_per_unit) * 0.01) {
            p->rises++;
        } else {
            p->rises = 0;
            p->reported = 0;
        }
    }
    p->have_cp = 1;
    p->cp_units = u;
    p->cp_per_unit = per_unit;
    if (p->rises >= 3 && !p->reported) {
        p->reported = 1;
        if (rising)
            *rising = 1;
    }
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- phases ---- */

int mv__registry_phase_begin(mv__registry *r, const char *name, int64_t now_ms)
{
    if (!r || !mv__registry_name_ok(name))
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    phase *ph = named_get(r, &r->phases, name, "phase", sizeof(phase), &rc);
    if (ph) {
        if (ph->depth == 0)
            ph->since_ms = now_ms;
        ph->depth++;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int mv__registry_phase_end(mv__registry *r, const char *name, int64_t now_ms)
{
    (void)now_ms;
    if (!r || !mv__registry_name_ok(name))
        return -EINVAL;
    int rc = -ENOENT;
    pthread_mutex_lock(&r->mu);
    int found;
    size_t at = vec_find(&r->phases, name, &found);
    if (found) {
        phase *ph = r->phases.v[at];
        if (ph->depth > 0) {
            ph->depth--;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int mv__registry_active_phases(mv__registry *r, char *out, size_t n)
{
    if (out && n)
        out[0] = '\0';
    if (!r)
        return 0;
    int count = 0;
    size_t used = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->phases.n; i++) {
        phase *ph = r->phases.v[i];
        if (ph->depth <= 0)
            continue;
        if (out && n) {
            size_t len = strlen(ph->key);
            size_t need = len + (count ? 1 : 0);
            if (used + need < n) {
                if (count)
                    out[used++] = ',';
                memcpy(out + used, ph->key, len);
                used += len;
                out[used] = '\0';
            }
        }
        count++;
    }
    pthread_mutex_unlock(&r->mu);
    return count;
}

int64_t mv__registry_dropped(mv__registry *r)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    int64_t d = r->dropped;
    pthread_mutex_unlock(&r->mu);
    return d;
}

/* ---- rendering: text ---- */

/* Appends "<name>_bucket{<text>,le=\"<bound>\"} <count>\n". */
static int bucket_line(mv_buf *b, mv_format fmt, const char *family,
                       const char *text, double bound, uint64_t count)
{
    int rc = mv__buf_puts(b, family);
    if (!rc) rc = mv__buf_puts(b, "_bucket{");
    if (!rc) rc = mv__buf_puts(b, text);
    if (!rc) rc = mv__buf_puts(b, ",le=\"");
    if (!rc) rc = mv__metric_le(b, fmt, bound);
    if (!rc) rc = mv__buf_puts(b, "\"} ");
    if (!rc) rc = mv__metric_int(b, (int64_t)count);
    if (!rc) rc = mv__buf_append(b, "\n", 1);
    return rc;
}

static int render_text(mv__registry *r, mv_format fmt, mv_buf *b)
{
    int rc = 0;
#define TRY(x) do { if ((rc = (x)) != 0) return rc; } while (0)
    if (r->gauges.n) {
        const char *f = "memvigil_app_memory_bytes";
        TRY(mv__metric_family(b, fmt, f, "gauge", "bytes",
            "Bytes held by an application component, as reported by the "
            "application (mv_gauge_set)."));
        for (size_t i = 0; i < r->gauges.n; i++) {
            gauge *g = r->gauges.v[i];
            TRY(mv__metric_sample_int(b, f, g->text, g->bytes));
        }
    }
    if (r->ops.n) {
        const char *f = "memvigil_operation_memory_delta_bytes";
        TRY(mv__metric_family(b, fmt, f, "histogram", "bytes",
            "Change of the process's anonymous resident memory across one "
            "operation; frees and no growth fall in le=0."));
        for (size_t i = 0; i < r->ops.n; i++) {
            op *o = r->ops.v[i];
            uint64_t cum = 0;
            for (size_t k = 0; k < OP_BUCKETS; k++) {
                cum += o->buckets[k];
                TRY(bucket_line(b, fmt, f, o->text, op_bounds[k], cum));
            }
            if (fmt != MV_FORMAT_OPENMETRICS)
                TRY(mv__metric_sample_int(b, "memvigil_operation_memory_delta_bytes_sum",
                                          o->text, o->delta_sum));
            TRY(mv__metric_sample_int(b, "memvigil_operation_memory_delta_bytes_count",
                                      o->text, (int64_t)o->count));
        }
        f = "memvigil_operation_memory_delta_net_bytes";
        TRY(mv__metric_family(b, fmt, f, "gauge", "bytes",
            "Signed sum of the memory deltas of all operations of this name "
            "(growth minus frees)."));
        for (size_t i = 0; i < r->ops.n; i++) {
            op *o = r->ops.v[i];
            TRY(mv__metric_sample_int(b, f, o->text, o->delta_sum));
        }
        f = "memvigil_operations_total";
        TRY(mv__metric_family(b, fmt, f, "counter", NULL,
            "Operations measured with mv_op_begin/mv_op_end."));
        for (size_t i = 0; i < r->ops.n; i++) {
            op *o = r->ops.v[i];
            TRY(mv__metric_sample_int(b, f, o->text, (int64_t)o->count));
        }
        f = "memvigil_operation_duration_seconds_total";
        TRY(mv__metric_family(b, fmt, f, "counter", "seconds",
            "Wall time spent in measured operations."));
        for (size_t i = 0; i < r->ops.n; i++) {
            op *o = r->ops.v[i];
            TRY(mv__metric_sample_double(b, f, o->text, o->duration_sum));
        }
    }
    if (r->progs.n) {
        const char *f = "memvigil_progress_units_total";
        TRY(mv__metric_family(b, fmt, f, "counter", NULL,
            "Units of work reported done by the application (mv_progress_add)."));
        for (size_t i = 0; i < r->progs.n; i++) {
            progress *p = r->progs.v[i];
            TRY(mv__metric_sample_int(b, f, p->text, p->units));
        }
        int any = 0;
        f = "memvigil_progress_memory_per_unit_bytes";
        for (size_t i = 0; i < r->progs.n; i++) {
            progress *p = r->progs.v[i];
            if (isnan(p->per_unit))
                continue;
            if (!any++)
                TRY(mv__metric_family(b, fmt, f, "gauge", "bytes",
                    "Growth of private memory since progress began, per "
                    "unit of work."));
            TRY(mv__metric_sample_double(b, f, p->text, p->per_unit));
        }
        any = 0;
        f = "memvigil_progress_units_per_second";
        for (size_t i = 0; i < r->progs.n; i++) {
            progress *p = r->progs.v[i];
            if (isnan(p->rate))
                continue;
            if (!any++)
                TRY(mv__metric_family(b, fmt, f, "gauge", NULL,
                    "Average rate of work since progress began, units per second."));
            TRY(mv__metric_sample_double(b, f, p->text, p->rate));
        }
    }
    if (r->phases.n) {
        const char *f = "memvigil_phase_active";
        TRY(mv__metric_family(b, fmt, f, "gauge", NULL,
            "1 while an application phase of expected growth is active, else 0."));
        for (size_t i = 0; i < r->phases.n; i++) {
            phase *ph = r->phases.v[i];
            TRY(mv__metric_sample_int(b, f, ph->text, ph->depth > 0));
        }
    }
    TRY(mv__metric_family(b, fmt, "memvigil_series_dropped_total", "counter",
        NULL, "New application series refused because their family reached "
        "the cardinality cap."));
    TRY(mv__metric_sample_int(b, "memvigil_series_dropped_total", NULL,
                              r->dropped));
#undef TRY
    return 0;
}

/* ---- changes since the last call (the recorder's app lines) ---- */

double mv__registry_op_bound(size_t i)
{
    return i < OP_BUCKETS ? op_bounds[i] : NAN;
}

/* Appends one change with copies of name and labels (labels NULL: none).
 * 0 or -ENOMEM (nothing appended). */
static int change_push(mv__registry_change *v, size_t *n, mv__registry_kind k,
                       const char *name, const char *labels)
{
    mv__registry_change *c = &v[*n];
    memset(c, 0, sizeof *c);
    c->kind = k;
    c->name = strdup(name);
    c->labels = labels ? strdup(labels) : NULL;
    if (!c->name || (labels && !c->labels)) {
        free(c->name);
        free(c->labels);
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

int mv__registry_changes(mv__registry *r, size_t max,
                         mv__registry_change **out, size_t *nout,
                         uint64_t *skipped)
{
    if (out)
        *out = NULL;
    if (nout)
        *nout = 0;
    if (skipped)
        *skipped = 0;
    if (!r || !out || !nout || max == 0)
        return -EINVAL;
    int rc = 0;
    size_t n = 0;
    uint64_t skip = 0;
    mv__registry_change *v = NULL;

    pthread_mutex_lock(&r->mu);
    r->tracking = 1;
    size_t pending = r->nremoved;
    for (size_t i = 0; i < r->gauges.n; i++)
        pending += ((gauge *)r->gauges.v[i])->dirty != 0;
    for (size_t i = 0; i < r->ops.n; i++)
        pending += ((op *)r->ops.v[i])->s_count != 0;
    for (size_t i = 0; i < r->progs.n; i++)
        pending += ((progress *)r->progs.v[i])->dirty != 0;
    skip = r->removed_lost;
    r->removed_lost = 0;
    if (pending == 0)
        goto out;
    v = calloc(pending < max ? pending : max, sizeof *v);
    if (!v) {
        rc = -ENOMEM;
        goto out;
    }
    /* removals first, oldest first, so a gauge removed and set again in one
     * tick ends at its new value */
    size_t taken = 0;
    while (taken < r->nremoved && n < max && rc == 0) {
        removed_gauge *x = &r->removed[taken];
        rc = change_push(v, &n, MV__REG_GAUGE, x->name, x->labels);
        if (rc == 0) {
            free(x->name);
            free(x->labels);
            taken++;
        }
    }
    if (taken > 0) {   /* r->removed may be NULL when nothing was removed */
        memmove(r->removed, r->removed + taken,
                (r->nremoved - taken) * sizeof *r->removed);
        r->nremoved -= taken;
    }
    /* each family is walked from where the cap stopped it last time, so a
     * family larger than the cap is reported round-robin, none starves */
    for (size_t i = 0; i < r->ops.n && n < max && rc == 0; i++) {
        size_t at = (r->cur_op + i) % r->ops.n;
        op *o = r->ops.v[at];
        if (o->s_count == 0)
            continue;
        if (n + 1 == max)
            r->cur_op = at + 1;
        rc = change_push(v, &n, MV__REG_OP, o->key, NULL);
        if (rc)
            break;
        mv__registry_change *c = &v[n - 1];
        c->count = o->s_count;
        c->sum_bytes = o->s_sum;
        c->min_bytes = o->s_min;
        c->max_bytes = o->s_max;
        c->duration_s = o->s_duration;
        memcpy(c->buckets, o->s_buckets, sizeof c->buckets);
        memset(o->s_buckets, 0, sizeof o->s_buckets);
        o->s_count = 0;
        o->s_sum = o->s_min = o->s_max = 0;
        o->s_duration = 0;
    }
    for (size_t i = 0; i < r->progs.n && n < max && rc == 0; i++) {
        size_t at = (r->cur_prog + i) % r->progs.n;
        progress *p = r->progs.v[at];
        if (!p->dirty)
            continue;
        if (n + 1 == max)
            r->cur_prog = at + 1;
        rc = change_push(v, &n, MV__REG_PROGRESS, p->key, NULL);
        if (rc)
            break;
        mv__registry_change *c = &v[n - 1];
        c->units = p->units;
        c->private_bytes = p->last_private;
        c->memory_per_unit_bytes = p->per_unit;
        p->dirty = 0;
    }
    for (size_t i = 0; i < r->gauges.n && n < max && rc == 0; i++) {
        size_t at = (r->cur_gauge + i) % r->gauges.n;
        gauge *g = r->gauges.v[at];
        if (!g->dirty)
            continue;
        if (n + 1 == max)
            r->cur_gauge = at + 1;
        rc = change_push(v, &n, MV__REG_GAUGE, g->component, g->labels);
        if (rc)
            break;
        v[n - 1].value = g->bytes;
        g->dirty = 0;
        g->emitted = 1;
    }
    skip += pending - n;
out:
    pthread_mutex_unlock(&r->mu);
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *nout = n;
    if (skipped)
        *skipped = skip;
    return rc;
}

void mv__registry_mark_all_changed(mv__registry *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->gauges.n; i++) {
        gauge *g = r->gauges.v[i];
        if (g->bytes != 0)
            g->dirty = 1;
    }
    for (size_t i = 0; i < r->progs.n; i++)
        ((progress *)r->progs.v[i])->dirty = 1;
    pthread_mutex_unlock(&r->mu);
}

void mv__registry_changes_free(mv__registry_change *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].labels);
    }
    free(v);
}

/* ---- rendering: JSON ---- */

static int json_labels(mv_buf *b, const char *canon)
{
    int rc = mv__buf_append(b, "{", 1);
    char tmp[LABELS_MAX_LEN + 1];
    const char *p = canon;
    int first = 1;
    while (!rc && *p) {
        size_t kl = strcspn(p, "=");
        const char *v = p + kl + 1;
        size_t vl = strcspn(v, ",");
        if (!first)
            rc = mv__buf_append(b, ",", 1);
        first = 0;
        memcpy(tmp, p, kl);
        tmp[kl] = '\0';
        if (!rc) rc = mv__buf_json_string(b, tmp);
        if (!rc) rc = mv__buf_append(b, ":", 1);
        memcpy(tmp, v, vl);
        tmp[vl] = '\0';
        if (!rc) rc = mv__buf_json_string(b, tmp);
        p = v + vl + (v[vl] ? 1 : 0);
    }
    if (!rc)
        rc = mv__buf_append(b, "}", 1);
    return rc;
}

static int render_json(mv__registry *r, mv_buf *b)
{
    int rc = 0;
#define TRY(x) do { if ((rc = (x)) != 0) return rc; } while (0)
    TRY(mv__buf_puts(b, "{\"gauges\":["));
    for (size_t i = 0; i < r->gauges.n; i++) {
        gauge *g = r->gauges.v[i];
        TRY(mv__buf_puts(b, i ? ",{\"component\":" : "{\"component\":"));
        TRY(mv__buf_json_string(b, g->component));
        TRY(mv__buf_puts(b, ",\"labels\":"));
        TRY(json_labels(b, g->labels));
        TRY(mv__buf_puts(b, ",\"bytes\":"));
        TRY(mv__metric_int(b, g->bytes));
        TRY(mv__buf_puts(b, "}"));
    }
    TRY(mv__buf_puts(b, "],\"operations\":["));
    for (size_t i = 0; i < r->ops.n; i++) {
        op *o = r->ops.v[i];
        TRY(mv__buf_puts(b, i ? ",{\"operation\":" : "{\"operation\":"));
        TRY(mv__buf_json_string(b, o->key));
        TRY(mv__buf_puts(b, ",\"count\":"));
        TRY(mv__metric_int(b, (int64_t)o->count));
        TRY(mv__buf_puts(b, ",\"delta_sum_bytes\":"));
        TRY(mv__metric_int(b, o->delta_sum));
        TRY(mv__buf_puts(b, ",\"duration_sum_seconds\":"));
        TRY(mv__json_number(b, o->duration_sum));
        TRY(mv__buf_puts(b, ",\"buckets\":["));
        uint64_t cum = 0;
        for (size_t k = 0; k < OP_BUCKETS; k++) {
            cum += o->buckets[k];
            TRY(mv__buf_puts(b, k ? ",{\"le\":" : "{\"le\":"));
            if (isinf(op_bounds[k]))
                TRY(mv__buf_puts(b, "\"+Inf\""));
            else
                TRY(mv__json_number(b, op_bounds[k]));
            TRY(mv__buf_puts(b, ",\"count\":"));
            TRY(mv__metric_int(b, (int64_t)cum));
            TRY(mv__buf_puts(b, "}"));
        }
        TRY(mv__buf_puts(b, "]}"));
    }
    TRY(mv__buf_puts(b, "],\"progress\":["));
    for (size_t i = 0; i < r->progs.n; i++) {
        progress *p = r->progs.v[i];
        TRY(mv__buf_puts(b, i ? ",{\"unit\":" : "{\"unit\":"));
        TRY(mv__buf_json_string(b, p->key));
        TRY(mv__buf_puts(b, ",\"units\":"));
        TRY(mv__metric_int(b, p->units));
        TRY(mv__buf_puts(b, ",\"memory_per_unit_bytes\":"));
        TRY(mv__json_number(b, p->per_unit));
        TRY(mv__buf_puts(b, ",\"units_per_second\":"));
        TRY(mv__json_number(b, p->rate));
        TRY(mv__buf_puts(b, "}"));
    }
    TRY(mv__buf_puts(b, "],\"phases\":["));
    for (size_t i = 0; i < r->phases.n; i++) {
        phase *ph = r->phases.v[i];
        TRY(mv__buf_puts(b, i ? ",{\"phase\":" : "{\"phase\":"));
        TRY(mv__buf_json_string(b, ph->key));
        TRY(mv__buf_printf(b, ",\"active\":%s,\"depth\":%d}",
                           ph->depth > 0 ? "true" : "false", ph->depth));
    }
    TRY(mv__buf_puts(b, "],\"series_dropped\":"));
    TRY(mv__metric_int(b, r->dropped));
    TRY(mv__buf_puts(b, "}"));
#undef TRY
    return 0;
}

int mv__registry_heap_sites_set(mv__registry *r, const mv__heap_site *sites,
                                size_t n)
{
    if (!r || (n && !sites))
        return -EINVAL;
    if (n > MV__HEAP_SITES_MAX)
        n = MV__HEAP_SITES_MAX;
    pthread_mutex_lock(&r->mu);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        mv__heap_site s = sites[i];
        s.site[sizeof s.site - 1] = '\0';
        /* The site is the only label: a site named twice (two call sites
         * that symbolize alike) is one series, its figures summed. */
        size_t j = 0;
        while (j < k && strcmp(r->heap_sites[j].site, s.site) != 0)
            j++;
        if (j < k) {
            r->heap_sites[j].growth_bytes_per_second += s.growth_bytes_per_second;
            if (__builtin_add_overflow(r->heap_sites[j].inuse_bytes, s.inuse_bytes,
                                       &r->heap_sites[j].inuse_bytes))
                r->heap_sites[j].inuse_bytes = s.inuse_bytes < 0 ? INT64_MIN : INT64_MAX;
        } else {
            r->heap_sites[k++] = s;
        }
    }
    r->heap_n = k;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* The heap-site families (caller holds r->mu). */
static int render_heap_sites(mv__registry *r, mv_format fmt, mv_buf *b)
{
    static const char *const fam[2] = {"memvigil_heap_site_growth_bytes_per_second",
                                       "memvigil_heap_site_inuse_bytes"};
    static const char *const help[2] = {
        "Growth of the live heap bytes allocated at a call site (memvigil run "
        "--heap; top growing sites only).",
        "Live heap bytes allocated at a call site, estimated from sampling "
        "(memvigil run --heap; top growing sites only)."};
    static const char *const unit[2] = {"bytes_per_second", "bytes"};
    int rc = 0;

    for (int f = 0; f < 2 && !rc && r->heap_n; f++) {
        rc = mv__metric_family(b, fmt, fam[f], "gauge", unit[f], help[f]);
        for (size_t i = 0; i < r->heap_n && !rc; i++) {
            mv_buf l = {0};
            rc = mv__buf_puts(&l, "site=\"");
            if (!rc)
                rc = mv__metric_label_value(&l, r->heap_sites[i].site);
            if (!rc)
                rc = mv__buf_puts(&l, "\"");
            if (!rc)
                rc = f == 0 ? mv__metric_sample_double(b, fam[f], l.data,
                                  r->heap_sites[i].growth_bytes_per_second)
                            : mv__metric_sample_int(b, fam[f], l.data,
                                  r->heap_sites[i].inuse_bytes);
            mv_buf_release(&l);
        }
    }
    return rc;
}

int mv__registry_render(mv__registry *r, mv_format fmt, mv_buf *out)
{
    if (!r || !out)
        return -EINVAL;
    size_t start = out->len;
    pthread_mutex_lock(&r->mu);
    /* one growth up front instead of a realloc cascade on big registries
     * (~90 bytes per gauge line) */
    int rc = mv__buf_reserve(out, 1024 + r->gauges.n * 96 +
                                      (r->ops.n + r->progs.n + r->phases.n) * 1024);
    if (!rc)
        rc = fmt == MV_FORMAT_JSON ? render_json(r, out) : render_text(r, fmt, out);
    if (!rc && fmt != MV_FORMAT_JSON)
        rc = render_heap_sites(r, fmt, out);
    pthread_mutex_unlock(&r->mu);
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
