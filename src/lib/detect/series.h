/*
 * series.h — a bounded, multi-resolution time series of one signal.
 *
 * A raw ring keeps the newest points; each tier keeps buckets of a fixed
 * width (e.g. 1 min, 10 min, 1 h) with min, max, sum and count, so a long
 * horizon fits in fixed memory and spikes stay visible. All storage is
 * allocated in mv__series_new(); push never allocates.
 *
 * Thread-safety: none; the owner (the monitor) serialises access.
 */
#ifndef MV_SERIES_H
#define MV_SERIES_H

#include <stddef.h>
#include <stdint.h>

typedef struct mv__bucket {
    int64_t t_start_ms;  /* first point's time */
    int64_t t_end_ms;    /* last point's time */
    double min, max;     /* envelope of the points in the bucket */
    double sum;          /* for the mean */
    double last;         /* newest value */
    uint32_t n;          /* points in the bucket (1 for raw points) */
} mv__bucket;

#define MV_SERIES_MAX_TIERS 4

typedef struct mv__series mv__series;

/* raw_capacity points in the raw ring; ntiers tiers of widths tier_ms[i]
 * (increasing) and capacities tier_cap[i]. NULL on bad args or ENOMEM.
 * Free with mv__series_free() (NULL is a no-op). */
mv__series *mv__series_new(size_t raw_capacity, size_t ntiers,
                           const int64_t *tier_ms, const size_t *tier_cap);
/* Default shape for the monitor: 720 raw points; tiers 1 min x 1440,
 * 10 min x 1008 (7 days), 1 h x 720 (30 days). */
mv__series *mv__series_new_default(void);
void mv__series_free(mv__series *s);

/* Appends a point. Points older than the newest are ignored (returns
 * -EINVAL); NAN values are ignored (-EINVAL), and so are +/-INFINITY.
 * A point with the same time as the newest is accepted. Never allocates.
 * Tier buckets are aligned to absolute multiples of the tier width. */
int mv__series_push(mv__series *s, int64_t t_ms, double v);

/* Number of raw points held; copies up to max of them, oldest first, into
 * out (each as a bucket with n = 1) and returns how many were copied.
 * When max is smaller than the number held, the newest max are copied.
 * With out == NULL nothing is copied and the number held is returned. */
size_t mv__series_raw(const mv__series *s, mv__bucket *out, size_t max);
/* Same for tier i (closed buckets plus the open one, oldest first). */
size_t mv__series_tier(const mv__series *s, size_t tier, mv__bucket *out,
                       size_t max);
size_t mv__series_ntiers(const mv__series *s);
int64_t mv__series_tier_width_ms(const mv__series *s, size_t tier);
/* Total points ever pushed. */
uint64_t mv__series_count(const mv__series *s);
/* Bytes this series holds (for the monitor's own-footprint accounting). */
size_t mv__series_footprint(const mv__series *s);

/* Buckets of width bucket_ms over [from_ms, to_ms] built from whatever
 * resolution covers that range best (raw where possible); out must hold max.
 * Returns the number of buckets (empty buckets are skipped).
 * Window buckets are [from_ms + k * bucket_ms, from_ms + (k+1) * bucket_ms);
 * the last one also takes a point at exactly to_ms. The source is the raw
 * ring when it reaches back to from_ms (or never evicted a point), else the
 * finest tier that does, else the tier reaching furthest back; a coarser
 * tier that covers the range is read instead when bucket_ms is >= 8 times
 * its width. A tier bucket goes to the window bucket holding its midpoint. t_start_ms / t_end_ms of
 * a result are those of its data. Buckets past max are dropped (the oldest
 * are kept). Bad arguments (NULL, bucket_ms <= 0, to_ms < from_ms) give 0. */
size_t mv__series_window(const mv__series *s, int64_t from_ms, int64_t to_ms,
                         int64_t bucket_ms, mv__bucket *out, size_t max);

/* Resolution, in ms, of the finest data mv__series_window() uses for a range
 * starting at from_ms: the median spacing of the newest (up to 64) raw
 * points when the raw ring is the source, else the width of the chosen tier.
 * 0 when there are fewer than 2 points. Used to size growth buckets. */
int64_t mv__series_resolution_ms(const mv__series *s, int64_t from_ms);

#endif /* MV_SERIES_H */
