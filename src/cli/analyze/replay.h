/*
 * replay.h — replays one ingested series through the online leak detector
 * (src/lib/detect/leak.h), point by point, exactly as the monitor feeds it live:
 * push into an mv__series of the monitor's default shape, then
 * mv__leak_tick at that point's time. The verdict after the last point is
 * the answer; detected_at_s is when, counted from the first point, the
 * live detector would first have said "leak", and oom_risk_at_s when it
 * would first have raised the OOM-risk claim (r.risk.active: the limit is
 * reached within 6 h at the current rate, whatever the cause).
 *
 * Ownership: plain value results; nothing to free. Thread-safety: none
 * needed; no globals.
 */
#ifndef MV_CLI_REPLAY_H
#define MV_CLI_REPLAY_H

#include <stdint.h>

#include "frag.h"
#include "ingest.h"
#include "leak.h"

typedef struct cli_replay_result {
    mv__leak_result r;     /* the verdict after the last point */
    double detected_at_s;  /* seconds from the first point; NAN = never */
    int64_t detected_at_ms;/* the point's own time; MV_NA = never */
    /* The urgency claim (r.risk), apart from the verdict: its first
     * activation during the replay, kept when it cleared later. */
    double oom_risk_at_s;  /* seconds from the first point; NAN = never */
    int64_t oom_risk_at_ms;/* the point's own time; MV_NA = never */
    double oom_risk_at_eta_s;       /* the ETA it told then; NAN never */
    char oom_risk_at_evidence[256]; /* its evidence then; "" never */
    int64_t limit_bytes;   /* limit in force at the end; MV_NA unknown */
    /* The allocator diagnosis (frag.h), replayed beside the verdict from
     * a recording's alloc_* fields: */
    int alloc_seen;        /* 1 when some point had allocator figures */
    mv__frag_result frag;  /* its result after the last point */
    mv__frag_verdict frag_ever; /* the first diagnosis raised, kept when it
                              cleared later (MV_FRAG_NONE never) */
    int leak_is_allocator; /* 1: the verdict's rise (suspect/leak) was not
                              in the live heap (mv__frag_explains_rise):
                              the cause is the allocator, not a leak */
    size_t points;         /* points replayed */
    double span_s;         /* last point - first point */
} cli_replay_result;

/* Replays s. limit_bytes > 0 overrides any limit the input carries (the
 * --limit option); MV_NA uses the input's (per point for recordings).
 * A series with fewer than two points gives insufficient_data with the
 * series' note as evidence. alloc_window_ms > 0 sets the allocator
 * diagnosis's window (mv_config.alloc_window_ms); 0 = its default.
 * 0 or -ENOMEM. */
int cli_replay(const cli_series *s, int64_t limit_bytes,
               int64_t alloc_window_ms, cli_replay_result *out);
/* The settings of analyze's detector a run may change, in ms; 0 (or
 * less) = the default of each. */
typedef struct cli_replay_settings {
    int64_t alloc_window_ms; /* --alloc-window: the allocator diagnosis's */
    int64_t min_rise_ms;     /* --leak-min-rise: the leak patience */
    int64_t risk_horizon_ms; /* --oom-risk-horizon: the OOM-risk claim's */
} cli_replay_settings;

/* The same with the settings of *set (NULL = all defaults). */
int cli_replay_with(const cli_series *s, int64_t limit_bytes,
                    const cli_replay_settings *set, cli_replay_result *out);

#endif /* MV_CLI_REPLAY_H */
