/*
 * replay.c — offline replay of a series through the live leak detector
 * (see replay.h).
 *
 * DESIGN. DESIGN.md's rule "online and offline share code" is kept
 * literally: no batch shortcut, no separate offline algorithm. Each point is
 * pushed into a series of the monitor's default shape and followed by one
 * mv__leak_tick, so the detector sees the same envelope, the same eval
 * cadence and the same history limits it would have seen live, and
 * detected_at_s is an honest "the alarm would have gone off here". What the
 * monitor knows beside the signal is replayed too when the input has it:
 * the effective limit as it changed (recordings) and application phases.
 * The detector decides itself how often to recompute (once per eval period
 * of series time), so ticking on every point is cheap.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"
#include "series.h"
#include "util.h"

/* How the signal is named in the evidence sentence. */
static const char *signal_words(const cli_series *s)
{
    static const struct { const char *sig, *words; } map[] = {
        {"private", NULL},               /* the detector's default words */
        {"rss", "RSS"},
        {"anon", "anonymous memory"},
        {"file", "file-backed memory"},
        {"shmem", "shared memory"},
        {"swap", "swap"},
        {"working_set", "the working set"},
        {"cg_usage", "cgroup memory usage"},
        {"bytes", "memory"},
    };
    size_t i;

    if (s->format == CLI_FMT_RECORDING || s->format == CLI_FMT_CSV)
        for (i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcmp(s->signal, map[i].sig) == 0)
                return map[i].words;
    return s->signal[0] ? s->signal : "memory";
}

static void insufficient(const cli_series *s, cli_replay_result *out)
{
    mv__leak_result *r = &out->r;

    mv__leak_result_reset(r);
    r->window_s = out->span_s;
    r->risk.window_s = out->span_s;
    snprintf(r->evidence, sizeof r->evidence, "%s",
             s->note[0] ? s->note : "not enough data points");
    mv__strlcpy(r->risk.evidence, r->evidence, sizeof r->risk.evidence);
}

/* The allocator diagnosis over the recording's alloc_* figures, with the
 * same calls as the monitor's (monitor_alloc.c). */
static int replay_frag(const cli_series *s, int64_t window_ms,
                       cli_replay_result *out)
{
    mv__frag_detector *d;
    mv__frag_cfg fc;
    mv_sample smp;

    if (!s->alloc || s->n == 0)
        return 0;
    mv__frag_cfg_init(&fc);
    if (window_ms > 0)
        fc.window_ms = window_ms;
    d = mv__frag_new(&fc);
    if (!d)
        return -ENOMEM;
    mv_sample_clear(&smp);
    for (size_t i = 0; i < s->n; i++) {
        const cli_alloc_point *a = &s->alloc[i];
        smp.alloc_kind = a->kind;
        smp.private_bytes = a->private_bytes;
        smp.alloc_in_use_bytes = a->in_use_bytes;
        smp.alloc_free_bytes = a->free_bytes;
        smp.alloc_arenas = a->arenas;
        if (a->kind != 0)
            out->alloc_seen = 1;
        mv__frag_tick(d, s->t_ms[i], &smp, &out->frag);
        if (out->frag.verdict != MV_FRAG_NONE && out->frag_ever == MV_FRAG_NONE)
            out->frag_ever = out->frag.verdict;
    }
    out->leak_is_allocator =
        out->r.verdict >= MV_LEAK_SUSPECT &&
        mv__frag_explains_rise(d, s->t_ms[s->n - 1], out->r.window_s);
    mv__frag_free(d);
    return 0;
}

int cli_replay(const cli_series *s, int64_t limit_bytes,
               int64_t alloc_window_ms, cli_replay_result *out)
{
    cli_replay_settings set = {alloc_window_ms, 0, 0};
    return cli_replay_with(s, limit_bytes, &set, out);
}

int cli_replay_with(const cli_series *s, int64_t limit_bytes,
                    const cli_replay_settings *set, cli_replay_result *out)
{
    static const cli_replay_settings defaults = {0, 0, 0};
    if (!set)
        set = &defaults;
    int64_t alloc_window_ms = set->alloc_window_ms;
    mv__leak_detector *d;
    mv__series *ser;
    mv__leak_cfg cfg;
    int64_t cur_limit;
    size_t i;

    memset(out, 0, sizeof *out);
    out->detected_at_s = NAN;
    out->detected_at_ms = MV_NA;
    out->oom_risk_at_s = NAN;
    out->oom_risk_at_ms = MV_NA;
    out->oom_risk_at_eta_s = NAN;
    out->points = s->n;
    out->span_s = s->n > 1 ? (double)(s->t_ms[s->n - 1] - s->t_ms[0]) / 1000.0
                           : 0.0;
    cur_limit = limit_bytes > 0 ? limit_bytes
                : s->limit ? (s->n ? s->limit[0] : MV_NA) : s->limit_bytes;
    out->limit_bytes = cur_limit;
    if (s->n < 2) {
        insufficient(s, out);
        return replay_frag(s, alloc_window_ms, out);
    }

    mv__leak_cfg_init(&cfg);
    cfg.limit_bytes = cur_limit;
    cfg.signal_name = signal_words(s);
    mv__leak_cfg_settings(&cfg, set->min_rise_ms, set->risk_horizon_ms);
    d = mv__leak_new(&cfg);
    ser = mv__series_new_default();
    if (!d || !ser) {
        mv__leak_free(d);
        mv__series_free(ser);
        return -ENOMEM;
    }
    for (i = 0; i < s->n; i++) {
        if (limit_bytes <= 0 && s->limit && s->limit[i] != cur_limit) {
            cur_limit = s->limit[i];
            mv__leak_set_limit(d, cur_limit);
        }
        mv__series_push(ser, s->t_ms[i], s->v[i]);
        mv__leak_tick(d, ser, s->t_ms[i], s->phase ? s->phase[i] : 0,
                      &out->r);
        if (out->r.verdict == MV_LEAK_LEAK &&
            out->detected_at_ms == MV_NA) {
            out->detected_at_ms = s->t_ms[i];
            out->detected_at_s = (double)(s->t_ms[i] - s->t_ms[0]) / 1000.0;
        }
        if (out->r.risk.active && out->oom_risk_at_ms == MV_NA) {
            out->oom_risk_at_ms = s->t_ms[i];
            out->oom_risk_at_s = (double)(s->t_ms[i] - s->t_ms[0]) / 1000.0;
            out->oom_risk_at_eta_s = out->r.risk.eta_s;
            snprintf(out->oom_risk_at_evidence,
                     sizeof out->oom_risk_at_evidence, "%s",
                     out->r.risk.evidence);
        }
    }
    out->limit_bytes = cur_limit;
    mv__leak_free(d);
    mv__series_free(ser);
    return replay_frag(s, alloc_window_ms, out);
}
