/*
 * monitor_app.c — the application's records through the monitor: component
 * gauges, operation scopes, progress and phases.
 *
 * Every registry call is made under the monitor's app_lock (see monitor.h:
 * it keeps fork children from inheriting a registry locked mid-update).
 * Events these calls raise (MV_EVENT_PHASE, MV_EVENT_PER_UNIT_RISING) are
 * queued for the sampler thread, which is woken and delivers them at once,
 * so the user's callback still runs only on the sampler thread.
 * On a monitor inherited through fork() every call returns -ECHILD.
 *
 * Operation scopes measure this process's anonymous resident memory from
 * /proc/self/statm (resident - shared pages): one small read, cheap enough
 * to wrap operations of a millisecond or more. Timestamps given to the
 * registry are CLOCK_MONOTONIC milliseconds (rates are immune to clock
 * jumps).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "monitor.h"
#include "util.h"

struct mv_op {
    mv_monitor *m;
    char *name;            /* owned copy */
    int64_t anon0_bytes;   /* MV_NA when /proc/self/statm was unreadable */
    int64_t t0_ns;         /* CLOCK_MONOTONIC at begin */
};

int mv_gauge_set(mv_monitor *m, const char *name, const char *labels,
                 int64_t bytes)
{
    if (!m || !name)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    pthread_mutex_lock(&m->app_lock);
    int rc = mv__registry_gauge_set(m->reg, name, labels, bytes);
    pthread_mutex_unlock(&m->app_lock);
    return rc;
}

int mv_heap_sites_set(mv_monitor *m, const mv_heap_site *sites, size_t n)
{
    mv__heap_site s[MV__HEAP_SITES_MAX];
    size_t k;

    if (!m || (n > 0 && !sites))
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    for (k = 0; k < n; k++)
        if (!sites[k].site)
            return -EINVAL;
    for (k = 0; k < n && k < MV__HEAP_SITES_MAX; k++) {
        mv__strlcpy(s[k].site, sites[k].site, sizeof s[k].site);
        s[k].growth_bytes_per_second = sites[k].growth_bytes_per_second;
        s[k].inuse_bytes = sites[k].inuse_bytes;
    }
    pthread_mutex_lock(&m->app_lock);
    int rc = mv__registry_heap_sites_set(m->reg, s, k);
    pthread_mutex_unlock(&m->app_lock);
    return rc;
}

/* This process's anonymous resident bytes, or MV_NA. */
static int64_t self_anon_bytes(void)
{
    char buf[256];
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return MV_NA;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    long long size, resident, shared;
    if (sscanf(buf, "%lld %lld %lld", &size, &resident, &shared) != 3 ||
        resident < shared)
        return MV_NA;
    return (int64_t)(resident - shared) * (int64_t)sysconf(_SC_PAGESIZE);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

mv_op *mv_op_begin(mv_monitor *m, const char *name)
{
    if (!m || !name || !mv__registry_name_ok(name)) {
        errno = EINVAL;
        return NULL;
    }
    if (m->inherited) {
        errno = ECHILD;
        return NULL;
    }
    mv_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->name = strdup(name);
    if (!op->name) {
        free(op);
        return NULL;
    }
    op->m = m;
    op->anon0_bytes = self_anon_bytes();
    op->t0_ns = mono_ns();
    return op;
}

void mv_op_end(mv_op *op)
{
    if (!op)
        return;
    int64_t anon1 = self_anon_bytes();
    double dur_s = (double)(mono_ns() - op->t0_ns) / 1e9;
    mv_monitor *m = op->m;
    if (!m->inherited && anon1 != MV_NA && op->anon0_bytes != MV_NA) {
        pthread_mutex_lock(&m->app_lock);
        mv__registry_op_observe(m->reg, op->name, anon1 - op->anon0_bytes,
                                dur_s);
        pthread_mutex_unlock(&m->app_lock);
    }
    free(op->name);
    free(op);
}

int mv_progress_add(mv_monitor *m, const char *unit, int64_t n)
{
    if (!m || !unit)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    pthread_mutex_lock(&m->lock);
    int64_t priv = m->have_last ? m->last.private_bytes : MV_NA;
    pthread_mutex_unlock(&m->lock);

    int rising = 0;
    pthread_mutex_lock(&m->app_lock);
    int rc = mv__registry_progress_add(m->reg, unit, n, priv,
                                       mv__now_mono_ms(), &rising);
    pthread_mutex_unlock(&m->app_lock);
    if (rc == 0 && rising)
        mv__monitor_queue_event(m, MV_EVENT_PER_UNIT_RISING, unit, NULL);
    return rc;
}

static int phase_common(mv_monitor *m, const char *name, int begin)
{
    if (!m || !name)
        return -EINVAL;
    if (m->inherited)
        return -ECHILD;
    pthread_mutex_lock(&m->app_lock);
    int rc = begin ? mv__registry_phase_begin(m->reg, name, mv__now_mono_ms())
                   : mv__registry_phase_end(m->reg, name, mv__now_mono_ms());
    pthread_mutex_unlock(&m->app_lock);
    if (rc)
        return rc;
    mv_event tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.subject = name;
    mv__event_describe_phase(&tmp, begin);
    mv__monitor_queue_event(m, MV_EVENT_PHASE, name, tmp.message);
    return 0;
}

int mv_phase_begin(mv_monitor *m, const char *name)
{
    return phase_common(m, name, 1);
}

int mv_phase_end(mv_monitor *m, const char *name)
{
    return phase_common(m, name, 0);
}
