/*
 * leak_risk.h — the oom_risk claim of the leak detector (leak_risk.c):
 * urgency, apart from the leak verdict's cause. Internal to src/lib.
 *
 * Thread-safety: writes only the caller-owned state and result; one owner
 * per detector.
 */
#ifndef MV_LEAK_RISK_H
#define MV_LEAK_RISK_H

#include "leak.h"
#include "leak_window.h"

typedef struct mv__leak_risk_state {
    int streak;              /* evaluations in a row at risk, not raised */
    int64_t streak_since_ms; /* when that run began */
    int64_t cleared_ms;      /* last clear (-1 never) */
} mv__leak_risk_state;

/* A state before the first evaluation. */
#define MV_LEAK_RISK_STATE_INIT {0, 0, -1}

/* Clears *r: inactive, never raised, figures NAN. */
void mv__leak_risk_reset(mv__oom_risk *r);

/* Updates *r at c->now_ms. past is the history of the detector's 1 h
 * window (the floor's highs before the last hour at 2.5 min resolution);
 * stairs is the staircase test's latest result (its stair_pace_* fields:
 * a staircase's pace is a rate the floor's regression cannot see between
 * steps), NULL for none; signal names the series in the evidence
 * sentence. */
void mv__leak_eval_risk(const mv__leak_ctx *c, const char *signal,
                        double horizon_s, const mv__leak_history *past,
                        const mv__leak_window_eval *stairs,
                        mv__leak_risk_state *st, mv__oom_risk *r);

#endif /* MV_LEAK_RISK_H */
