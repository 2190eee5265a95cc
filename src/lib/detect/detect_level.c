/*
 * detect_level.c — usage-ratio levels (ok / warning / critical) with
 * hysteresis and a minimum duration, so a ratio hovering around a threshold
 * does not flap and a short spike is not reported.
 *
 * DESIGN. Each observation maps to a target level: the plain thresholds,
 * except that the reported level is kept while the ratio stays within
 * hysteresis_ratio below its threshold. A target different from the reported
 * level becomes the candidate; it is reported once the ratio has pointed
 * away from the reported level, in the same direction, for min_duration_ms.
 * While it does, the candidate is the level closest to the reported one seen
 * since candidate_since_ms (so ok -> 0.85 for 25 s -> 0.95 for 5 s reports
 * warning after 30 s, not critical, while a ratio alternating 0.88 / 0.91
 * still reports warning). A jump straight to a sustained critical reports
 * critical directly. The state depends only on the observations fed, so
 * replays of recordings give the same transitions.
 */
#include "detect.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

void mv__level_init(mv__level_state *st)
{
    if (st == NULL)
        return;
    st->level = MV_LEVEL_OK;
    st->candidate = MV_LEVEL_OK;
    st->candidate_since_ms = 0;
    st->initialised = 0;
}

/* Level the ratio points to, given the currently reported level. */
static mv_level target_level(const mv__level_cfg *cfg, mv_level cur,
                             double ratio)
{
    double h = cfg->hysteresis_ratio > 0 ? cfg->hysteresis_ratio : 0;
    if (ratio >= cfg->critical_ratio ||
        (cur == MV_LEVEL_CRITICAL && ratio >= cfg->critical_ratio - h))
        return MV_LEVEL_CRITICAL;
    if (ratio >= cfg->warning_ratio ||
        (cur != MV_LEVEL_OK && ratio >= cfg->warning_ratio - h))
        return MV_LEVEL_WARNING;
    return MV_LEVEL_OK;
}

int mv__level_update(mv__level_state *st, const mv__level_cfg *cfg,
                     double ratio, int64_t now_ms, mv_level *prev)
{
    if (st == NULL || cfg == NULL || isnan(ratio))
        return 0;

    if (!st->initialised) {
        mv_level first = target_level(cfg, MV_LEVEL_OK, ratio);
        mv_level old = st->level;
        st->initialised = 1;
        st->level = first;
        st->candidate = first;
        st->candidate_since_ms = now_ms;
        if (first != old) {
            if (prev != NULL)
                *prev = old;
            return 1;
        }
        return 0;
    }

    mv_level target = target_level(cfg, st->level, ratio);
    if (target == st->level) {
        st->candidate = st->level;
        st->candidate_since_ms = now_ms;
        return 0;
    }

    int dir_t = (int)target - (int)st->level;
    int dir_c = (int)st->candidate - (int)st->level;
    if (dir_c != 0 && (dir_t > 0) == (dir_c > 0) &&
        now_ms >= st->candidate_since_ms) {
        /* same direction: keep the start, keep the level nearest the
         * reported one */
        if (abs(dir_t) < abs(dir_c))
            st->candidate = target;
    } else {
        st->candidate = target;
        st->candidate_since_ms = now_ms;
    }

    if (now_ms - st->candidate_since_ms >= cfg->min_duration_ms) {
        mv_level old = st->level;
        st->level = st->candidate;
        st->candidate_since_ms = now_ms;
        if (prev != NULL)
            *prev = old;
        return 1;
    }
    return 0;
}
