/*
 * monitor_render.c — the monitor's state seen from outside: mv_monitor_status,
 * mv_render (and the embedded endpoint's render callback), the bound port.
 *
 * Rendering copies a snapshot of the state under the monitor's lock and
 * renders outside it, so a slow scrape never delays the sampler. The
 * snapshot is heap-allocated (it holds the recent events with their
 * samples, tens of KiB) rather than put on the HTTP server thread's stack.
 * The registry is rendered under app_lock (see monitor.h).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "util.h"
#include "util_guest.h"

typedef struct snapshot {
    mv_sample sample;
    int have_sample;
    mv_level level;
    double growth_bps, growth_window_s, ttl_s;
    int target_alive;
    mv__self_stats self;
    mv__leak_result leak;
    mv__frag_result frag;
    int have_frag;
    mv__stored_event events[MV_MONITOR_RING];
    mv_event evs[MV_MONITOR_RING];   /* contiguous view for the renderer */
    size_t nevents;
    int64_t host_oom_kills;
    mv_oom_kill ring[MV_MONITOR_OOM_RECENT]; /* m->oom_recent */
    uint64_t oom_gen;
    mv_oom_kill victims[MV_MONITOR_OOM_RECENT]; /* oldest first */
    size_t nvictims;
} snapshot;

int mv_monitor_status(mv_monitor *m, mv_status *out)
{
    if (!m || !out)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    pthread_mutex_lock(&m->lock);
    out->sample = m->last;
    mv__monitor_alloc_shown(m, &out->sample);
    out->level = m->lstate.level;
    out->growth_bytes_per_s = m->growth.valid ? m->growth.bytes_per_s : NAN;
    out->growth_window_s = m->growth.valid ? m->growth.window_s : NAN;
    out->time_to_limit_s = m->time_to_limit_s;
    out->samples_taken = m->samples_taken;
    out->interval_ms = m->interval_ms;
    out->target_alive = m->target_alive;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int mv_render(mv_monitor *m, mv_format fmt, mv_buf *buf)
{
    if (!m || !buf)
        return -EINVAL;
    if (fmt != MV_FORMAT_PROMETHEUS && fmt != MV_FORMAT_OPENMETRICS &&
        fmt != MV_FORMAT_JSON)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    snapshot *sn = malloc(sizeof *sn);
    if (!sn)
        return -ENOMEM;

    pthread_mutex_lock(&m->lock);
    sn->sample = m->last;
    mv__monitor_alloc_shown(m, &sn->sample);
    sn->have_sample = m->have_last;
    sn->level = m->lstate.level;
    sn->growth_bps = m->growth.valid ? m->growth.bytes_per_s : NAN;
    sn->growth_window_s = m->growth.valid ? m->growth.window_s : NAN;
    sn->ttl_s = m->time_to_limit_s;
    sn->target_alive = m->target_alive;
    sn->self = m->self;
    sn->leak = m->leak_res;
    sn->host_oom_kills = m->host_oom_kills;
    memcpy(sn->ring, m->oom_recent, sizeof sn->ring);
    sn->oom_gen = m->oom_gen;
    sn->frag = m->frag_res;
    sn->have_frag = m->frag != NULL;
    sn->nevents = 0;
    if (fmt == MV_FORMAT_JSON) {
        size_t first = (m->ring_head + MV_MONITOR_RING - m->ring_n) %
                       MV_MONITOR_RING;
        for (size_t i = 0; i < m->ring_n; i++)
            sn->events[i] = m->ring[(first + i) % MV_MONITOR_RING];
        sn->nevents = m->ring_n;
    }
    pthread_mutex_unlock(&m->lock);

    for (size_t i = 0; i < sn->nevents; i++) {
        mv__stored_event *se = &sn->events[i];
        sn->evs[i] = se->ev;
        sn->evs[i].sample = se->has_sample ? &se->sample : NULL;
        sn->evs[i].subject = se->subject[0] ? se->subject : NULL;
        sn->evs[i].oom_kill = mv__monitor_victim(sn->ring, sn->oom_gen,
                                                 se->oom_gen);
    }
    sn->nvictims = 0;
    for (uint64_t g = sn->oom_gen >= MV_MONITOR_OOM_RECENT
                          ? sn->oom_gen - MV_MONITOR_OOM_RECENT + 1 : 1;
         g <= sn->oom_gen; g++)
        sn->victims[sn->nvictims++] = *mv__monitor_victim(sn->ring, sn->oom_gen, g);

    mv__expose_state st;
    memset(&st, 0, sizeof st);
    st.sample = sn->have_sample ? &sn->sample : NULL;
    st.level = sn->level;
    st.growth_bytes_per_s = sn->growth_bps;
    st.growth_window_s = sn->growth_window_s;
    st.time_to_limit_s = sn->ttl_s;
    st.target_alive = sn->target_alive;
    st.self = &sn->self;
    st.registry = m->reg;
    st.process_metrics = m->cfg.process_metrics;
    /* process_* describe this process, whatever the target's root */
    st.proc_root = "/proc";
    st.events = sn->nevents ? sn->evs : NULL;
    st.nevents = sn->nevents;
    st.leak = &sn->leak;
    st.frag = sn->have_frag ? &sn->frag : NULL;
    st.cpu_budget = m->cfg.cpu_budget;
    st.host_oom_kills = m->oomw ? &sn->host_oom_kills : NULL;
    st.oom_victims = sn->nvictims ? sn->victims : NULL;
    st.n_oom_victims = sn->nvictims;

    /* numbers must read "0.85" whatever the host's setlocale() said: this
     * thread (the caller's or the HTTP server's) formats in the C locale
     * for the duration of the call (glibc: a static object, no cost) */
    locale_t prev_loc;
    locale_t cloc = mv__guest_c_locale_enter(&prev_loc);
    size_t old_len = buf->len;
    pthread_mutex_lock(&m->app_lock);
    int rc = mv__expose_render(&st, fmt, buf);
    pthread_mutex_unlock(&m->app_lock);
    mv__guest_c_locale_leave(cloc, prev_loc);
    if (rc && buf->len > old_len) {
        /* on error buf keeps what it had */
        buf->len = old_len;
        if (buf->data)
            buf->data[old_len] = 0;
    }
    free(sn);
    return rc;
}

int mv__monitor_http_render(void *ctx, mv_format fmt, mv_buf *out)
{
    return mv_render(ctx, fmt, out);
}

int mv_monitor_http_port(mv_monitor *m)
{
    if (!m || !m->http)
        return -ENOENT;
    return mv__http_port(m->http);
}

/* ---- the live page (livepage.h) ---- */

/* What the samples document needs, copied under the lock (heap: the points
 * and events are tens of KiB, too much for the HTTP thread's stack). */
typedef struct live_snapshot {
    mv__live_point pts[MV_LIVE_POINTS];
    size_t n, cap;
    mv__stored_event events[MV_MONITOR_RING];
    mv_event evs[MV_MONITOR_RING];
    size_t nevents;
    mv__leak_result leak;
    mv__live_extra x;
} live_snapshot;

int mv__monitor_http_samples(void *ctx, int64_t since_ms, mv_buf *out)
{
    mv_monitor *m = ctx;
    live_snapshot *sn;
    int rc;

    if (!m || !out)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    sn = calloc(1, sizeof *sn);
    if (!sn)
        return -ENOMEM;
    pthread_mutex_lock(&m->lock);
    sn->n = mv__live_copy(m->live, sn->pts, MV_LIVE_POINTS);
    sn->cap = mv__live_capacity(m->live);
    size_t first = (m->ring_head + MV_MONITOR_RING - m->ring_n) % MV_MONITOR_RING;
    for (size_t i = 0; i < m->ring_n; i++)
        sn->events[i] = m->ring[(first + i) % MV_MONITOR_RING];
    sn->nevents = m->ring_n;
    sn->leak = m->leak_res;
    sn->x.interval_ms = m->interval_ms;
    sn->x.target_alive = m->target_alive;
    sn->x.level = m->lstate.level;
    sn->x.growth_bytes_per_s = m->growth.valid ? m->growth.bytes_per_s : NAN;
    sn->x.growth_window_s = m->growth.valid ? m->growth.window_s : NAN;
    sn->x.time_to_limit_s = m->time_to_limit_s;
    int have_leak = m->leak != NULL;
    pthread_mutex_unlock(&m->lock);

    for (size_t i = 0; i < sn->nevents; i++) {
        sn->evs[i] = sn->events[i].ev;
        sn->evs[i].sample = NULL;
        sn->evs[i].subject = sn->events[i].subject[0] ? sn->events[i].subject : NULL;
        sn->evs[i].oom_kill = NULL;  /* the live page shows the message */
    }
    sn->x.now_ms = mv__now_wall_ms();
    sn->x.warning_ratio = m->cfg.warning_ratio;
    sn->x.critical_ratio = m->cfg.critical_ratio;
    if (have_leak) {
        sn->x.verdict = mv__leak_verdict_name(sn->leak.verdict);
        sn->x.leak_growth_bytes_per_h = sn->leak.growth_bytes_per_h;
        sn->x.leak_confidence = sn->leak.confidence;
        sn->x.leak_eta_s = sn->leak.eta_s;
        sn->x.evidence = sn->leak.evidence;
        sn->x.oom_risk = sn->leak.risk.active;
        sn->x.oom_risk_growth_bytes_per_h = sn->leak.risk.growth_bytes_per_h;
        sn->x.oom_risk_eta_s = sn->leak.risk.eta_s;
        sn->x.oom_risk_evidence = sn->leak.risk.evidence;
    }
    sn->x.events = sn->evs;
    sn->x.nevents = sn->nevents;

    /* numbers in the C locale whatever the host set (see mv_render) */
    locale_t prev_loc;
    locale_t cloc = mv__guest_c_locale_enter(&prev_loc);
    rc = mv__live_render_json(sn->pts, sn->n, since_ms, sn->cap, &sn->x, out);
    mv__guest_c_locale_leave(cloc, prev_loc);
    free(sn);
    return rc;
}

int mv__monitor_http_page(void *ctx, mv_buf *out)
{
    (void)ctx;
    return mv__live_render_page(out);
}
