/*
 * expose.h — rendering the monitor's state as Prometheus text 0.0.4,
 * OpenMetrics 1.0 text, or the JSON status document.
 *
 * The renderer is a pure function of an mv__expose_state snapshot (taken by
 * the monitor under its lock) plus the registry (which has its own lock), so
 * it can be tested on hand-made states.
 *
 * Thread-safety: reentrant.
 */
#ifndef MV_EXPOSE_H
#define MV_EXPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"
#include "registry.h"

/* Upper bounds (seconds) of the sampler tick-duration histogram. */
#define MV_TICK_BUCKETS 8
extern const double mv__tick_bucket_bounds[MV_TICK_BUCKETS];

/* The monitor's cost of itself. */
typedef struct mv__self_stats {
    uint64_t ticks;                       /* samples taken */
    uint64_t tick_hist[MV_TICK_BUCKETS];  /* non-cumulative counts per bucket;
                                             the last bucket is +Inf */
    double tick_seconds_sum;
    uint64_t errors;                      /* failed samples */
    double cpu_seconds;                   /* sampler thread CPU time */
    double cpu_share;                     /* recent CPU share of the sampler */
    int64_t interval_ms;                  /* current interval */
    int64_t footprint_bytes;              /* memory the monitor holds */
} mv__self_stats;

typedef struct mv__expose_state {
    const mv_sample *sample;              /* last sample; may be NULL */
    mv_level level;
    double growth_bytes_per_s;            /* NAN if n/a */
    double growth_window_s;
    double time_to_limit_s;               /* INFINITY / NAN */
    int target_alive;
    const mv__self_stats *self;           /* may be NULL */
    mv__registry *registry;               /* may be NULL */
    int process_metrics;                  /* emit process_* of this process */
    const char *proc_root;                /* for process_*: "/proc" */
    const mv_event *events;               /* recent events, oldest first */
    size_t nevents;
} mv__expose_state;

/* Appends the rendering of st to out. 0 or -ENOMEM. */
int mv__expose_render(const mv__expose_state *st, mv_format fmt, mv_buf *out);

/* Picks the format for an HTTP Accept header value (NULL -> Prometheus):
 * application/openmetrics-text -> OpenMetrics, otherwise Prometheus text. */
mv_format mv__expose_negotiate(const char *accept);

#endif /* MV_EXPOSE_H */
