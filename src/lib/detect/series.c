/*
 * series.c — a bounded, multi-resolution time series of one signal.
 *
 * DESIGN. Raw points live in a ring of (time, value) pairs, 16 bytes each;
 * when it is full the oldest point is overwritten. Every push also folds the
 * point into each tier: a tier keeps one open bucket (the bucket the newest
 * point belongs to) plus a ring of closed buckets. Tier buckets are aligned
 * to absolute multiples of the tier width (floor(t / width)), so the same
 * input always yields the same buckets, whatever time the series started.
 * A bucket keeps min, max, sum, count and last, so downsampling never hides
 * a spike (max) nor a trough (min — the lower envelope the leak detector
 * fits).
 *
 * All storage is allocated once in mv__series_new(); push is O(tiers) and
 * never allocates, so the sampler's memory does not grow with uptime.
 *
 * mv__series_window() re-buckets a time range from the finest source that
 * covers it: the raw ring when its oldest point is at or before the range
 * start (or nothing was ever evicted from it), else the finest tier with
 * that property, else the tier reaching furthest back. When the window
 * buckets are at least COARSE_SOURCE_SHARE times as wide as a coarser tier
 * that also covers the range, that tier is read instead: the minima are the
 * same and there are far fewer points to merge (the leak detector asks for
 * thousands of windows per replayed day). Sources are never mixed, so a
 * window has one resolution throughout. The first point of the range is
 * found by bisection (times never decrease).
 */
#include "series.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Spacings looked at by mv__series_resolution_ms(): enough for a stable
 * median, small enough for a stack array. */
#define SPACING_SAMPLES 64
/* mv__series_window() reads a coarser tier when its buckets are at most
 * 1 / COARSE_SOURCE_SHARE of the window buckets wide. */
#define COARSE_SOURCE_SHARE 8

typedef struct tier {
    int64_t width_ms;
    size_t cap;          /* closed buckets the ring holds */
    size_t head;         /* index of the oldest closed bucket */
    size_t len;          /* closed buckets held */
    uint64_t dropped;    /* closed buckets overwritten so far */
    mv__bucket *ring;
    int open;            /* cur holds data */
    int64_t cur_key;     /* floor(t / width_ms) of cur */
    mv__bucket cur;      /* the open bucket */
} tier;

struct mv__series {
    size_t raw_cap;
    size_t raw_head;     /* index of the oldest raw point */
    size_t raw_len;
    int64_t *raw_t;
    double *raw_v;
    size_t ntiers;
    tier tiers[MV_SERIES_MAX_TIERS];
    uint64_t count;      /* points accepted so far */
    int64_t newest_ms;   /* time of the newest accepted point */
};

/* floor(a / b) for b > 0, also for negative a. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && a < 0)
        q--;
    return q;
}

static void bucket_start(mv__bucket *b, int64_t t_ms, double v)
{
    b->t_start_ms = t_ms;
    b->t_end_ms = t_ms;
    b->min = v;
    b->max = v;
    b->sum = v;
    b->last = v;
    b->n = 1;
}

/* Folds bucket x (newer than or as new as b's content) into b. */
static void bucket_merge(mv__bucket *b, const mv__bucket *x)
{
    if (x->t_start_ms < b->t_start_ms)
        b->t_start_ms = x->t_start_ms;
    if (x->t_end_ms >= b->t_end_ms) {
        b->t_end_ms = x->t_end_ms;
        b->last = x->last;
    }
    if (x->min < b->min)
        b->min = x->min;
    if (x->max > b->max)
        b->max = x->max;
    b->sum += x->sum;
    b->n += x->n;
}

/* Folds a raw point at t_ms (not older than b's newest) into b. */
static void point_merge(mv__bucket *b, int64_t t_ms, double v)
{
    b->t_end_ms = t_ms;
    b->last = v;
    if (v < b->min)
        b->min = v;
    if (v > b->max)
        b->max = v;
    b->sum += v;
    b->n++;
}

mv__series *mv__series_new(size_t raw_capacity, size_t ntiers,
                           const int64_t *tier_ms, const size_t *tier_cap)
{
    if (raw_capacity == 0 || ntiers > MV_SERIES_MAX_TIERS)
        return NULL;
    if (ntiers > 0 && (tier_ms == NULL || tier_cap == NULL))
        return NULL;
    for (size_t i = 0; i < ntiers; i++) {
        if (tier_ms[i] <= 0 || tier_cap[i] == 0)
            return NULL;
        if (i > 0 && tier_ms[i] <= tier_ms[i - 1])
            return NULL;
        if (tier_cap[i] > SIZE_MAX / sizeof(mv__bucket))
            return NULL;
    }
    if (raw_capacity > SIZE_MAX / sizeof(int64_t))
        return NULL;

    mv__series *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->raw_cap = raw_capacity;
    s->raw_t = malloc(raw_capacity * sizeof(*s->raw_t));
    s->raw_v = malloc(raw_capacity * sizeof(*s->raw_v));
    if (s->raw_t == NULL || s->raw_v == NULL)
        goto fail;
    s->ntiers = ntiers;
    for (size_t i = 0; i < ntiers; i++) {
        tier *tr = &s->tiers[i];
        tr->width_ms = tier_ms[i];
        tr->cap = tier_cap[i];
        tr->ring = malloc(tier_cap[i] * sizeof(*tr->ring));
        if (tr->ring == NULL)
            goto fail;
    }
    return s;
fail:
    mv__series_free(s);
    return NULL;
}

mv__series *mv__series_new_default(void)
{
    /* 720 raw points: 2 h at the default 10 s interval, 72 s at 100 ms.
     * Tiers: 1 min for a day, 10 min for a week, 1 h for 30 days. */
    static const int64_t widths[3] = {60 * 1000, 600 * 1000, 3600 * 1000};
    static const size_t caps[3] = {1440, 1008, 720};
    return mv__series_new(720, 3, widths, caps);
}

void mv__series_free(mv__series *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ntiers; i++)
        free(s->tiers[i].ring);
    free(s->raw_t);
    free(s->raw_v);
    free(s);
}

static void tier_push(tier *tr, int64_t t_ms, double v)
{
    int64_t key = floor_div(t_ms, tr->width_ms);
    if (tr->open && key == tr->cur_key) {
        mv__bucket p;
        bucket_start(&p, t_ms, v);
        bucket_merge(&tr->cur, &p);
        return;
    }
    if (tr->open) {
        /* close the open bucket into the ring */
        size_t at = (tr->head + tr->len) % tr->cap;
        tr->ring[at] = tr->cur;
        if (tr->len < tr->cap) {
            tr->len++;
        } else {
            tr->head = (tr->head + 1) % tr->cap;
            tr->dropped++;
        }
    }
    tr->open = 1;
    tr->cur_key = key;
    bucket_start(&tr->cur, t_ms, v);
}

int mv__series_push(mv__series *s, int64_t t_ms, double v)
{
    if (s == NULL || !isfinite(v))
        return -EINVAL;
    if (s->count > 0 && t_ms < s->newest_ms)
        return -EINVAL;

    size_t at = (s->raw_head + s->raw_len) % s->raw_cap;
    s->raw_t[at] = t_ms;
    s->raw_v[at] = v;
    if (s->raw_len < s->raw_cap)
        s->raw_len++;
    else
        s->raw_head = (s->raw_head + 1) % s->raw_cap;

    for (size_t i = 0; i < s->ntiers; i++)
        tier_push(&s->tiers[i], t_ms, v);
    s->count++;
    s->newest_ms = t_ms;
    return 0;
}

size_t mv__series_raw(const mv__series *s, mv__bucket *out, size_t max)
{
    if (s == NULL)
        return 0;
    if (out == NULL)
        return s->raw_len;
    size_t n = s->raw_len < max ? s->raw_len : max;
    size_t skip = s->raw_len - n; /* keep the newest n */
    for (size_t i = 0; i < n; i++) {
        size_t k = (s->raw_head + skip + i) % s->raw_cap;
        bucket_start(&out[i], s->raw_t[k], s->raw_v[k]);
    }
    return n;
}

/* The i-th bucket of a tier, oldest first, counting the open one last. */
static const mv__bucket *tier_at(const tier *tr, size_t i)
{
    if (i < tr->len)
        return &tr->ring[(tr->head + i) % tr->cap];
    return &tr->cur;
}

static size_t tier_held(const tier *tr)
{
    return tr->len + (tr->open ? 1 : 0);
}

size_t mv__series_tier(const mv__series *s, size_t ti, mv__bucket *out,
                       size_t max)
{
    if (s == NULL || ti >= s->ntiers)
        return 0;
    const tier *tr = &s->tiers[ti];
    size_t held = tier_held(tr);
    if (out == NULL)
        return held;
    size_t n = held < max ? held : max;
    size_t skip = held - n;
    for (size_t i = 0; i < n; i++)
        out[i] = *tier_at(tr, skip + i);
    return n;
}

size_t mv__series_ntiers(const mv__series *s)
{
    return s == NULL ? 0 : s->ntiers;
}

int64_t mv__series_tier_width_ms(const mv__series *s, size_t ti)
{
    if (s == NULL || ti >= s->ntiers)
        return 0;
    return s->tiers[ti].width_ms;
}

uint64_t mv__series_count(const mv__series *s)
{
    return s == NULL ? 0 : s->count;
}

size_t mv__series_footprint(const mv__series *s)
{
    if (s == NULL)
        return 0;
    size_t bytes = sizeof(*s);
    bytes += s->raw_cap * (sizeof(*s->raw_t) + sizeof(*s->raw_v));
    for (size_t i = 0; i < s->ntiers; i++)
        bytes += s->tiers[i].cap * sizeof(mv__bucket);
    return bytes;
}

/* Source for a range starting at from_ms: -1 = raw, else a tier index;
 * -2 when the series is empty. See the file comment. */
static int choose_source(const mv__series *s, int64_t from_ms)
{
    if (s->count == 0)
        return -2;
    if (s->count == s->raw_len || s->raw_t[s->raw_head] <= from_ms)
        return -1;
    int best = -1;
    int64_t best_oldest = s->raw_t[s->raw_head];
    for (size_t i = 0; i < s->ntiers; i++) {
        const tier *tr = &s->tiers[i];
        if (tier_held(tr) == 0)
            continue;
        int64_t oldest = tier_at(tr, 0)->t_start_ms;
        if (tr->dropped == 0 || oldest <= from_ms)
            return (int)i;
        if (oldest < best_oldest) {
            best = (int)i;
            best_oldest = oldest;
        }
    }
    return best;
}

/* Does tier i hold everything from from_ms on? */
static int tier_covers(const mv__series *s, size_t i, int64_t from_ms)
{
    const tier *tr = &s->tiers[i];
    if (tier_held(tr) == 0)
        return 0;
    /* a tier that never dropped a bucket holds everything since the first
     * point, as the raw ring does when it is the source */
    return tr->dropped == 0 || tier_at(tr, 0)->t_start_ms <= from_ms;
}

/* Source for window buckets of bucket_ms: the one choose_source() picks,
 * or a coarser tier that also covers the range when its buckets are at
 * most 1 / COARSE_SOURCE_SHARE of bucket_ms wide. The window's minima come
 * out the same, except where a tier bucket straddles a window bucket's
 * edge (it goes whole to the side holding its midpoint). */
static int window_source(const mv__series *s, int64_t from_ms,
                         int64_t bucket_ms)
{
    int src = choose_source(s, from_ms);
    if (src == -2)
        return src;
    for (size_t i = s->ntiers; i-- > (size_t)(src + 1);)
        if (s->tiers[i].width_ms * COARSE_SOURCE_SHARE <= bucket_ms &&
            tier_covers(s, i, from_ms))
            return (int)i;
    return src;
}

int64_t mv__series_resolution_ms(const mv__series *s, int64_t from_ms)
{
    if (s == NULL)
        return 0;
    int src = choose_source(s, from_ms);
    if (src >= 0)
        return s->tiers[src].width_ms;
    if (src == -2 || s->raw_len < 2)
        return 0;
    /* median of the newest spacings, insertion-sorted on the stack */
    int64_t d[SPACING_SAMPLES];
    size_t nd = s->raw_len - 1;
    if (nd > SPACING_SAMPLES)
        nd = SPACING_SAMPLES;
    for (size_t i = 0; i < nd; i++) {
        size_t b = (s->raw_head + s->raw_len - 1 - i) % s->raw_cap;
        size_t a = (s->raw_head + s->raw_len - 2 - i) % s->raw_cap;
        int64_t x = s->raw_t[b] - s->raw_t[a];
        size_t j = i;
        while (j > 0 && d[j - 1] > x) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = x;
    }
    return d[nd / 2];
}

/* Folds x into the window bucket of time t_key (clamped so that a point at
 * exactly to_ms joins the last bucket); returns 0 when out is full. */
static int window_add(const mv__bucket *x, int64_t t_key, int64_t from_ms,
                      int64_t bucket_ms, int64_t nwin, mv__bucket *out,
                      size_t max, size_t *cnt, int64_t *last_key)
{
    int64_t key = (t_key - from_ms) / bucket_ms;
    if (key >= nwin)
        key = nwin - 1;
    if (*cnt > 0 && key == *last_key) {
        bucket_merge(&out[*cnt - 1], x);
        return 1;
    }
    if (*cnt == max)
        return 0;
    out[(*cnt)++] = *x;
    *last_key = key;
    return 1;
}

size_t mv__series_window(const mv__series *s, int64_t from_ms, int64_t to_ms,
                         int64_t bucket_ms, mv__bucket *out, size_t max)
{
    if (s == NULL || out == NULL || max == 0 || bucket_ms <= 0 ||
        to_ms < from_ms)
        return 0;
    if (from_ms < 0 && to_ms > INT64_MAX + from_ms)
        return 0; /* span would overflow */
    int src = window_source(s, from_ms, bucket_ms);
    if (src == -2)
        return 0;
    /* number of window buckets; the last one is closed on the right */
    int64_t span = to_ms - from_ms;
    int64_t nwin = span / bucket_ms + 1;
    if (span > 0 && span % bucket_ms == 0)
        nwin--;

    size_t cnt = 0;
    int64_t last_key = -1;
    if (src == -1) {
        /* times never decrease: skip what lies before from_ms by bisection */
        size_t lo = 0, hi = s->raw_len;
        while (lo < hi) {
            size_t m = lo + (hi - lo) / 2;
            if (s->raw_t[(s->raw_head + m) % s->raw_cap] < from_ms)
                lo = m + 1;
            else
                hi = m;
        }
        /* end (exclusive) of the window bucket being filled: points before
         * it join that bucket without a division */
        int64_t bucket_end = INT64_MIN;
        for (size_t i = lo; i < s->raw_len; i++) {
            size_t k = (s->raw_head + i) % s->raw_cap;
            int64_t t = s->raw_t[k];
            double v = s->raw_v[k];
            if (t < from_ms)
                continue;
            if (t > to_ms)
                break;
            if (cnt > 0 && t < bucket_end) {
                point_merge(&out[cnt - 1], t, v);
                continue;
            }
            mv__bucket b;
            bucket_start(&b, t, v);
            if (!window_add(&b, t, from_ms, bucket_ms, nwin, out, max, &cnt,
                            &last_key))
                break;
            bucket_end = last_key >= nwin - 1
                             ? INT64_MAX
                             : from_ms + (last_key + 1) * bucket_ms;
        }
        return cnt;
    }
    /* a tier bucket belongs to the window bucket holding its midpoint */
    const tier *tr = &s->tiers[src];
    size_t held = tier_held(tr);
    size_t lo = 0, hi = held;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        const mv__bucket *x = tier_at(tr, m);
        if (x->t_start_ms + (x->t_end_ms - x->t_start_ms) / 2 < from_ms)
            lo = m + 1;
        else
            hi = m;
    }
    for (size_t i = lo; i < held; i++) {
        mv__bucket b = *tier_at(tr, i);
        int64_t mid = b.t_start_ms + (b.t_end_ms - b.t_start_ms) / 2;
        if (mid < from_ms)
            continue;
        if (mid > to_ms)
            break;
        if (!window_add(&b, mid, from_ms, bucket_ms, nwin, out, max, &cnt,
                        &last_key))
            break;
    }
    return cnt;
}
