/*
 * leak.h — the leak detector: tells a real leak from warm-up, caches filling
 * to a cap, GC sawtooth, batch bursts, level shifts and daily cycles, and says
 * how long is left before the effective limit.
 *
 * One detector serves both faces (DESIGN.md: online and offline share code):
 * the monitor feeds it live samples every tick; `memvigil analyze` replays a
 * recording, CSV or Prometheus series through the very same calls, so a
 * verdict can be reproduced from a file. The detector reads the series
 * (mv__series, lower envelope = bucket minima) and decides itself how often
 * to recompute (at most once per eval period of series time), so calling
 * mv__leak_tick on every sample is cheap.
 *
 * Thread-safety: a detector has one owner; no global state.
 * Ownership: mv__leak_new allocates; mv__leak_free frees (NULL is a no-op).
 */
#ifndef MV_LEAK_H
#define MV_LEAK_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"
#include "series.h"

typedef enum mv__leak_verdict {
    MV_LEAK_INSUFFICIENT_DATA = 0,
    MV_LEAK_NO_LEAK,
    MV_LEAK_SUSPECT,
    MV_LEAK_LEAK
} mv__leak_verdict;

/* "insufficient_data", "no_leak", "suspect", "leak". Inline, so that the
 * exposition (which does not link the detector) names verdicts from the
 * same list. */
static inline const char *mv__leak_verdict_name(mv__leak_verdict v)
{
    switch (v) {
    case MV_LEAK_NO_LEAK: return "no_leak";
    case MV_LEAK_SUSPECT: return "suspect";
    case MV_LEAK_LEAK: return "leak";
    case MV_LEAK_INSUFFICIENT_DATA:
    default: return "insufficient_data";
    }
}

typedef struct mv__leak_cfg {
    int64_t limit_bytes;        /* effective limit; MV_NA/MV_UNLIMITED = unknown */
    double min_growth_bytes_per_h; /* absolute floor: growth below is trivial */
    int64_t eval_period_ms;     /* recompute at most this often (series time) */
    double oom_risk_horizon_s;  /* oom_risk while the ETA at the current
                                   rate is below this (<= 0 = the default,
                                   MV_LEAK_RISK_HORIZON_S in leak_window.h) */
    /* Extension (leak engineer): what the series is, for the evidence
     * sentence ("private memory", "heap", "rss"); borrowed, copied by
     * mv__leak_new. NULL = "private memory". */
    const char *signal_name;
    /* Leak patience: a rise must be this old before `leak` (ms; <= 0 =
     * the default, MV_LEAK_MIN_RISE_MS in leak_window.h). Shorter calls a
     * steady leak sooner and a cache filling for longer a leak. */
    int64_t min_rise_ms;
} mv__leak_cfg;

/* Why the verdict is what it is (the evidence sentence says it in words). */
typedef enum mv__leak_reason {
    MV_LEAK_R_NONE = 0,        /* insufficient data */
    MV_LEAK_R_TREND,           /* leak/suspect: a straight, significant rise */
    MV_LEAK_R_FLAT,            /* no significant trend */
    MV_LEAK_R_TRIVIAL,         /* rising, below the absolute floor */
    MV_LEAK_R_SLOW,            /* rising, but the limit is far away */
    MV_LEAK_R_STEP,            /* a one-off level shift, then level */
    MV_LEAK_R_SLOWING,         /* growth slowing down: warm-up, cache fill */
    MV_LEAK_R_NO_NEW_HIGH,     /* the envelope stopped making new highs */
    MV_LEAK_R_DAILY,           /* the rise is matched by the day before */
    MV_LEAK_R_PHASE,           /* held: an application phase is active */
    MV_LEAK_R_PLATEAU          /* cleared: no new high for a while, at peak */
} mv__leak_reason;

/* "none", "trend", "flat", "trivial", "slow", "step", "slowing",
 * "no_new_high", "daily_cycle", "phase", "plateau" (inline, as above). */
static inline const char *mv__leak_reason_name(mv__leak_reason r)
{
    static const char *const names[] = {"none", "trend", "flat", "trivial",
                                        "slow", "step", "slowing",
                                        "no_new_high", "daily_cycle", "phase",
                                        "plateau"};
    _Static_assert(sizeof names / sizeof names[0] == MV_LEAK_R_PLATEAU + 1,
                   "one name per reason");
    if ((unsigned)r >= sizeof names / sizeof names[0])
        return "none";
    return names[r];
}

/* Defaults documented in leak.c. */
void mv__leak_cfg_init(mv__leak_cfg *cfg);

/* The two settings users give (mv_config, mv_node_config, analyze's
 * options): the leak patience and the oom_risk horizon, in ms; 0 or less
 * keeps the default. The one place they are mapped onto a detector. */
void mv__leak_cfg_settings(mv__leak_cfg *cfg, int64_t min_rise_ms,
                           int64_t oom_risk_horizon_ms);

/* The urgency claim, apart from the leak verdict (which is about cause):
 * at the CURRENT growth rate of the floor (mv__growth_now: the last hour,
 * or the last 10 minutes once growth has visibly slowed; longer at coarse
 * sampling), the effective
 * limit is reached within cfg.oom_risk_horizon_s, and the floor is higher
 * than it has been before (a GC sawtooth climbing back to its usual peak
 * is not a risk). It may be raised early, whatever the cause of the growth
 * (a warm-up that would fill the container is a risk), and it clears as
 * soon as the rate drops. Only with a known limit. */
typedef struct mv__oom_risk {
    int active;                 /* 1 while the claim holds */
    double growth_bytes_per_h;  /* the current rate (NAN until measured) */
    double eta_s;               /* to the limit at that rate: INFINITY when
                                   not growing significantly, NAN unknown */
    double window_s;            /* span the rate was measured over (NAN
                                   until measured) */
    int64_t first_ms;           /* series time it first became active (-1
                                   never); kept when it clears */
    int64_t since_ms;           /* start of the current spell (-1 none) */
    char evidence[256];         /* one sentence, whether active or not */
} mv__oom_risk;

typedef struct mv__leak_result {
    mv__leak_verdict verdict;
    double growth_bytes_per_h;  /* NAN when n/a */
    double growth_lo_bytes_per_h, growth_hi_bytes_per_h; /* interval */
    double confidence;          /* 0..1 */
    double eta_s;               /* to limit_bytes; INFINITY not growing; NAN n/a */
    double eta_lo_s, eta_hi_s;  /* interval */
    double window_s;            /* span of data behind the verdict */
    int held_by_phase;          /* verdict held back: an app phase is active */
    char evidence[512];         /* one human sentence */
    /* Extensions (leak engineer): */
    mv__leak_reason reason;
    int64_t first_leak_ms;      /* series time the verdict first became
                                   "leak" (-1 never); kept when it clears */
    int64_t evaluated_ms;       /* series time of the last recomputation */
    mv__oom_risk risk;          /* the urgency claim (see above) */
} mv__leak_result;

/* A result before any data: insufficient_data, figures NAN, never raised
 * (first_leak_ms and risk.first_ms -1), evidence "not enough data yet". */
void mv__leak_result_reset(mv__leak_result *r);
/* The verdict's time to the limit in words, said the same by analyze and
 * the report: "3 h 12 min"; "more than 14 days at this rate"; "never (not
 * growing)" or "never (no significant growth)"; "n/a (no limit known)";
 * for a rise the verdict projects nothing from, why ("not projected:
 * growth below the trivial floor", "...: the rise is not a lasting
 * trend"). out should hold 64 bytes. Returns out. */
char *mv__leak_eta_text(const mv__leak_result *r, int limit_known, char *out,
                        size_t n);

typedef struct mv__leak_detector mv__leak_detector;

mv__leak_detector *mv__leak_new(const mv__leak_cfg *cfg);
void mv__leak_free(mv__leak_detector *d);
/* Bytes one detector holds (node mode's memory accounting). */
size_t mv__leak_footprint(void);
/* Updates the limit (it may change while a process runs). */
void mv__leak_set_limit(mv__leak_detector *d, int64_t limit_bytes);

/* Called after each push of the signal into s, at series time now_ms, with
 * phase_active != 0 while the application marks expected growth. Recomputes
 * when an eval period has passed; returns 1 when the verdict changed since
 * the previous call (then *out holds the new result), 0 otherwise (*out holds
 * the current result either way). A change of out->risk.active alone does
 * not count: callers compare it with the previous result. */
int mv__leak_tick(mv__leak_detector *d, const mv__series *s, int64_t now_ms,
                  int phase_active, mv__leak_result *out);

#endif /* MV_LEAK_H */
