/*
 * livepage.h — the exporter's live page: a bounded ring of recent compact
 * samples (what the page draws), its JSON rendering for
 * GET /api/v1/samples?since=MS, and the self-contained HTML page served at
 * GET / (styles and scripts embedded at build time: the chart code is the
 * report's own src/charts/report.js, plus src/lib/expose/assets/live.*).
 * docs/live-page.md describes the page and the JSON.
 *
 * Thread-safety: none; the owner (the monitor) serialises access to a ring
 * (it pushes under its lock and renders from a copy).
 */
#ifndef MV_LIVEPAGE_H
#define MV_LIVEPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

/* Points kept by the monitor: 720 x the interval (2 h at 10 s). */
#define MV_LIVE_POINTS 720

/* One compact sample: the fields the page draws. Each member is the
 * mv_sample member of the same name, and its JSON column is named after it
 * (livepage.c checks that the name is an mv_sample member), so the page
 * speaks the names of every other output. Byte fields are MV_NA when not
 * available. */
typedef struct mv__live_point {
    int64_t timestamp_ms;       /* wall clock, ms since the epoch */
    int64_t rss_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes;
    /* a cgroup target (no process RSS): the cgroup's split; else MV_NA */
    int64_t cg_anon_bytes, cg_file_bytes, cg_shmem_bytes, cg_swap_bytes;
    int64_t working_set_bytes, private_bytes;
    int64_t effective_limit_bytes; /* MV_NA also when unlimited */
    int8_t level;               /* mv_level at that sample */
} mv__live_point;

typedef struct mv__live_ring mv__live_ring;

/* A ring of capacity points (>= 1). NULL on bad args or ENOMEM. All storage
 * is allocated here; push never allocates. Free with mv__live_free. */
mv__live_ring *mv__live_new(size_t capacity);
void mv__live_free(mv__live_ring *r);
/* Fills p from a sample (MV_UNLIMITED limits become MV_NA). */
void mv__live_point_from(mv__live_point *p, const mv_sample *s, mv_level level);
/* Appends p, dropping the oldest when full. A point older than the newest
 * is refused (-EINVAL; the page asks for "newer than t"). */
int mv__live_push(mv__live_ring *r, const mv__live_point *p);
/* Points held; copies up to max of the newest, oldest first, into out
 * (out may be NULL to count). */
size_t mv__live_copy(const mv__live_ring *r, mv__live_point *out, size_t max);
size_t mv__live_capacity(const mv__live_ring *r);
size_t mv__live_footprint(const mv__live_ring *r);

/* Everything else the page shows beside the samples. Strings may be NULL. */
typedef struct mv__live_extra {
    int64_t now_ms;             /* wall clock of the rendering */
    int64_t interval_ms;        /* sampling interval */
    int target_alive;
    mv_level level;
    double warning_ratio, critical_ratio;
    double growth_bytes_per_s;  /* NAN n/a */
    double growth_window_s;     /* span of data behind it; NAN n/a */
    double time_to_limit_s;     /* INFINITY never, NAN n/a */
    const char *verdict;        /* "leak", "suspect", "no_leak",
                                   "insufficient_data"; NULL: no detector */
    double leak_growth_bytes_per_h, leak_confidence, leak_eta_s;
    const char *evidence;
    /* The OOM-risk claim (urgency), apart from the verdict; rendered only
     * with a detector (verdict != NULL). */
    int oom_risk;               /* 1 while it holds */
    double oom_risk_growth_bytes_per_h, oom_risk_eta_s;
    const char *oom_risk_evidence;
    const mv_event *events;     /* recent events, oldest first */
    size_t nevents;
} mv__live_extra;

/* Appends the samples document: the points with timestamp_ms > since_ms (all of
 * them with since_ms <= 0), column-wise, plus x. pts are oldest first.
 * 0 or -ENOMEM/-EINVAL (out keeps its previous contents on error). */
int mv__live_render_json(const mv__live_point *pts, size_t n, int64_t since_ms,
                         size_t capacity, const mv__live_extra *x, mv_buf *out);

/* Appends the page (HTML with its styles and scripts inlined). */
int mv__live_render_page(mv_buf *out);

#endif /* MV_LIVEPAGE_H */
