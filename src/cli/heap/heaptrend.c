/*
 * heaptrend.c — which call stacks keep growing (see heaptrend.h).
 *
 * Design:
 *  - Stacks are interned once (open-addressing hash: key -> id) and each
 *    snapshot keeps only (id, bytes) pairs sorted by id, so a window of 120
 *    snapshots of thousands of stacks stays small.
 *  - A stack absent from a snapshot had no sampled live bytes: 0.
 *  - A site is "growing" when, over at least CLI_HEAPTREND_MIN_POINTS
 *    snapshots, three things hold:
 *     1. significance: the lower ~95% bound of the Theil–Sen slope (Sen's
 *        interval, mv__theil_sen) is above zero — a monotone trend, not a
 *        wobble;
 *     2. above sampling noise: an estimate of B live bytes sampled with
 *        period T has a standard deviation of about sqrt(B * T) (the Poisson
 *        count of samples, each weighted ~T). The growth over the window
 *        must exceed CLI_HEAPTREND_NOISE_K times that (B at least T, so a
 *        site of one or two samples never counts), up to twice that with
 *        fewer than CLI_HEAPTREND_FEW_POINTS snapshots, where the growth
 *        of a churning site is noisier than one estimate (growth_noise);
 *     3. still growing: with 6 or more snapshots the slope of the newer half
 *        alone is positive, so a cache that filled early and stopped is not
 *        reported for the rest of the window.
 *    Churning sites (constant live bytes, high turnover) re-sample their
 *    live set between snapshots: their series is noise around a level and
 *    fails 1 or 2.
 *  - Share: the site's slope over the slope of the whole profile's total,
 *    clamped to 0..1 (other sites may shrink while this one grows).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "heaptrend.h"

typedef struct pair {
    uint32_t id;
    double bytes;
} pair;

typedef struct snap {
    double t;          /* seconds, caller's origin */
    double period;
    double total;
    pair *v;
    size_t n;
} snap;

typedef struct skey {
    char *key, *site, *folded;
} skey;

struct cli_heaptrend {
    size_t window;
    snap *snaps;       /* circular: oldest at head */
    size_t head, n;
    skey *keys;        /* id -> strings */
    size_t nkeys, capkeys;
    uint32_t *hash;    /* id + 1, 0 = empty; capacity hcap (power of 2) */
    size_t hcap;
};

cli_heaptrend *cli_heaptrend_new(size_t window)
{
    cli_heaptrend *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->window = window ? window : CLI_HEAPTREND_WINDOW;
    t->snaps = calloc(t->window, sizeof *t->snaps);
    if (!t->snaps) {
        free(t);
        return NULL;
    }
    return t;
}

void cli_heaptrend_free(cli_heaptrend *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->window; i++)
        free(t->snaps[i].v);
    for (i = 0; i < t->nkeys; i++) {
        free(t->keys[i].key);
        free(t->keys[i].site);
        free(t->keys[i].folded);
    }
    free(t->snaps);
    free(t->keys);
    free(t->hash);
    free(t);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;    /* FNV-1a */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static int rehash(cli_heaptrend *t, size_t cap)
{
    uint32_t *h = calloc(cap, sizeof *h);
    size_t i;

    if (!h)
        return -ENOMEM;
    for (i = 0; i < t->nkeys; i++) {
        size_t j = (size_t)hash_str(t->keys[i].key) & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = (uint32_t)i + 1;
    }
    free(t->hash);
    t->hash = h;
    t->hcap = cap;
    return 0;
}

/* Id of e's key, interning it. -ENOSPC when full, -ENOMEM. */
static int64_t intern(cli_heaptrend *t, const cli_heap_entry *e)
{
    size_t j;
    skey *k;

    if (t->hcap == 0 || (t->nkeys + 1) * 2 > t->hcap)
        if (rehash(t, t->hcap ? t->hcap * 2 : 1024) != 0)
            return -ENOMEM;
    j = (size_t)hash_str(e->key) & (t->hcap - 1);
    while (t->hash[j]) {
        if (strcmp(t->keys[t->hash[j] - 1].key, e->key) == 0)
            return t->hash[j] - 1;
        j = (j + 1) & (t->hcap - 1);
    }
    if (t->nkeys >= CLI_HEAPTREND_MAX_KEYS)
        return -ENOSPC;
    if (t->nkeys == t->capkeys) {
        size_t cap = t->capkeys ? t->capkeys * 2 : 256;
        skey *v = realloc(t->keys, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        t->keys = v;
        t->capkeys = cap;
    }
    k = &t->keys[t->nkeys];
    k->key = strdup(e->key);
    k->site = strdup(e->site ? e->site : e->key);
    k->folded = e->folded ? strdup(e->folded) : NULL;
    if (!k->key || !k->site || (e->folded && !k->folded)) {
        free(k->key);
        free(k->site);
        free(k->folded);
        return -ENOMEM;
    }
    t->hash[j] = (uint32_t)t->nkeys + 1;
    return (int64_t)t->nkeys++;
}

static int cmp_pair(const void *a, const void *b)
{
    uint32_t x = ((const pair *)a)->id, y = ((const pair *)b)->id;
    return x < y ? -1 : x > y;
}

static const snap *snap_at(const cli_heaptrend *t, size_t i)
{
    return &t->snaps[(t->head + i) % t->window];
}

int cli_heaptrend_add(cli_heaptrend *t, double time_s, double period_bytes,
                      double total_bytes, const cli_heap_entry *e, size_t n)
{
    pair *v;
    size_t i, w, m = 0;
    snap *s;

    if (!t || (n && !e) || !isfinite(time_s) || !isfinite(total_bytes) ||
        !(period_bytes >= 0))
        return -EINVAL;
    if (t->n && time_s < snap_at(t, t->n - 1)->t)
        return -EINVAL;
    v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        int64_t id;
        if (!e[i].key || !isfinite(e[i].bytes)) {
            free(v);
            return -EINVAL;
        }
        id = intern(t, &e[i]);
        if (id == -ENOSPC)
            continue;  /* CLI_HEAPTREND_MAX_KEYS reached: left out */
        if (id < 0) {
            free(v);
            return (int)id;
        }
        v[m].id = (uint32_t)id;
        v[m].bytes = e[i].bytes;
        m++;
    }
    qsort(v, m, sizeof *v, cmp_pair);
    for (i = 0, w = 0; i < m; i++) {
        if (w && v[w - 1].id == v[i].id)
            v[w - 1].bytes += v[i].bytes;
        else
            v[w++] = v[i];
    }
    if (t->n == t->window) {   /* forget the oldest */
        free(t->snaps[t->head].v);
        t->snaps[t->head].v = NULL;
        t->head = (t->head + 1) % t->window;
        t->n--;
    }
    s = &t->snaps[(t->head + t->n) % t->window];
    s->t = time_s;
    s->period = period_bytes > 0 ? period_bytes : CLI_HEAPTREND_DEFAULT_PERIOD;
    s->total = total_bytes;
    s->v = v;
    s->n = w;
    t->n++;
    return 0;
}

size_t cli_heaptrend_count(const cli_heaptrend *t)
{
    return t ? t->n : 0;
}

double cli_heaptrend_total(const cli_heaptrend *t)
{
    return t && t->n ? snap_at(t, t->n - 1)->total : 0;
}

static double bytes_of(const snap *s, uint32_t id)
{
    pair key, *p;

    key.id = id;
    p = s->n ? bsearch(&key, s->v, s->n, sizeof key, cmp_pair) : NULL;
    return p ? p->bytes : 0;
}

/* Theil-Sen slope of (ts, vs) over n points; NAN when not computable. */
static double slope_of(const double *ts, const double *vs, size_t n,
                       mv__slope *out)
{
    mv__slope sl;

    if (n < 3 || mv__theil_sen(ts, vs, n, &sl) != 0) {
        if (out)
            memset(out, 0, sizeof *out);
        if (out)
            out->slope = out->lo = out->hi = NAN;
        return NAN;
    }
    if (out)
        *out = sl;
    return sl.slope;
}

double cli_heaptrend_total_slope(const cli_heaptrend *t)
{
    double ts[CLI_HEAPTREND_WINDOW * 4], vs[CLI_HEAPTREND_WINDOW * 4];
    double *tp = ts, *vp = vs, r;
    size_t i;

    if (!t || t->n < 3)
        return NAN;
    if (t->n > sizeof ts / sizeof ts[0]) {
        tp = malloc(t->n * sizeof *tp);
        vp = malloc(t->n * sizeof *vp);
        if (!tp || !vp) {
            if (tp != ts)
                free(tp);
            if (vp != vs)
                free(vp);
            return NAN;
        }
    }
    for (i = 0; i < t->n; i++) {
        tp[i] = snap_at(t, i)->t - snap_at(t, 0)->t;
        vp[i] = snap_at(t, i)->total;
    }
    r = slope_of(tp, vp, t->n, NULL);
    if (tp != ts) {
        free(tp);
        free(vp);
    }
    return r;
}

/* The noise the growth of a site of `bytes` live bytes over n snapshots
 * must clear, sampled with period T: one estimate's sd, sqrt(max(B, T) *
 * T), times sqrt(CLI_HEAPTREND_FEW_POINTS / n) clamped to 1..2.
 *  - A churning site re-samples much of its live set between snapshots:
 *    its estimates are noise around a level, correlated from one snapshot
 *    to the next, and the growth (Theil-Sen slope x span) of a few of them
 *    is noisier than one estimate. Simulated (heap_sites.c's pool: 63%
 *    replaced between snapshots), its sd is 1.47 x one estimate's over 5
 *    snapshots, 1.37 over 10, 1.04 over 20, 0.78 over 40, 0.65 over 60:
 *    about sqrt(20 / n) from 16 on. The bar of one estimate alone let the
 *    pool through 2 times in 6400 checks at 5-19 snapshots
 *    (unit_cli_heaptrend test_churn_never_growing).
 *  - The factor keeps the bar above ~4 sd of that growth up to 40
 *    snapshots, and is 1 from there on, where the bar is what it was: a
 *    site that holds its objects shares its samples between snapshots and
 *    its growth is far less noisy, so a bar that shrank with n would buy
 *    little, and one that stayed high (sqrt(2) x, the difference of two
 *    independent estimates, was tried) left a leak of 40 MiB/h on a 1 GiB
 *    base unreported within the 120-snapshot window. */
static double growth_noise(double bytes, size_t n, double period)
{
    double b = bytes > period ? bytes : period;
    double k = n > 0 ? sqrt(CLI_HEAPTREND_FEW_POINTS / (double)n) : 2.0;

    k = k < 1.0 ? 1.0 : (k > 2.0 ? 2.0 : k);
    return sqrt(b * period) * k;
}

static int cmp_trend(const void *a, const void *b)
{
    const cli_site_trend *x = a, *y = b;

    if (x->growing != y->growing)
        return x->growing ? -1 : 1;
    if (x->growing && x->slope != y->slope)
        return x->slope > y->slope ? -1 : 1;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->key, y->key);
}

int cli_heaptrend_rank(cli_heaptrend *t, cli_site_trend **out, size_t *nout)
{
    cli_site_trend *r;
    double *ts, *vs, total_slope, span;
    uint8_t *present;
    size_t i, k, n = 0, half;
    const snap *last;

    *out = NULL;
    *nout = 0;
    if (!t || t->n == 0)
        return 0;
    last = snap_at(t, t->n - 1);
    present = calloc(t->nkeys ? t->nkeys : 1, 1);
    ts = malloc(t->n * sizeof *ts);
    vs = malloc(t->n * sizeof *vs);
    r = calloc(t->nkeys ? t->nkeys : 1, sizeof *r);
    if (!present || !ts || !vs || !r) {
        free(present);
        free(ts);
        free(vs);
        free(r);
        return -ENOMEM;
    }
    for (i = 0; i < t->n; i++) {
        const snap *s = snap_at(t, i);
        ts[i] = s->t - snap_at(t, 0)->t;
        for (k = 0; k < s->n; k++)
            present[s->v[k].id] = 1;
    }
    span = ts[t->n - 1];
    total_slope = cli_heaptrend_total_slope(t);
    half = t->n / 2;
    for (k = 0; k < t->nkeys; k++) {
        cli_site_trend *x;
        mv__slope sl;
        if (!present[k])
            continue;
        x = &r[n++];
        x->key = t->keys[k].key;
        x->site = t->keys[k].site;
        x->folded = t->keys[k].folded;
        for (i = 0; i < t->n; i++)
            vs[i] = bytes_of(snap_at(t, i), (uint32_t)k);
        x->bytes = vs[t->n - 1];
        x->first_bytes = vs[0];
        x->slope = slope_of(ts, vs, t->n, &sl);
        x->lo = sl.lo;
        x->hi = sl.hi;
        x->tau = sl.tau;
        x->growth_per_hour = x->slope * 3600.0;
        x->growth = x->slope * span;
        x->noise = growth_noise(x->bytes, t->n, last->period);
        x->share = NAN;
        if (isfinite(total_slope) && total_slope > 0 && isfinite(x->slope)) {
            double sh = x->slope / total_slope;
            x->share = sh < 0 ? 0 : (sh > 1 ? 1 : sh);
        }
        if (!isfinite(x->slope))
            continue;
        x->growing = t->n >= CLI_HEAPTREND_MIN_POINTS && x->lo > 0 &&
                     x->growth > CLI_HEAPTREND_NOISE_K * x->noise;
        if (x->growing && t->n >= 6) {
            size_t m = t->n - half;
            double recent = slope_of(ts + half, vs + half, m, NULL);
            x->growing = isfinite(recent) && recent > 0;
        }
    }
    qsort(r, n, sizeof *r, cmp_trend);
    for (i = 0; i < n && r[i].growing; i++)
        r[i].rank = (int)i + 1;
    free(present);
    free(ts);
    free(vs);
    *out = r;
    *nout = n;
    return 0;
}
