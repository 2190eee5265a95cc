/*
 * node.c — node mode's lifecycle (mv_node_start / stop), its one sampler
 * thread, and the delivery of events (callback, event log).
 *
 * Design: one thread ticks every container (node_tick.c) at the interval;
 * there is no thread, timer or descriptor set per container beyond the
 * cgroup descriptors, so the cost is a loop over the containers. The HTTP
 * endpoint is the single-target agent's server (http.c: token, loopback
 * by default, the same limits) with node mode's renderer.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "node.h"
#include "util.h"
#include "util_guest.h"

#define MAX_INTERVAL_MS (365LL * 24 * 3600 * 1000)

void mv_node_config_init(mv_node_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->cgroup_root = "/sys/fs/cgroup";
    cfg->proc_root = "/proc";
    cfg->interval_ms = 10000;       /* as a single target (mv_config_init) */
    /* 2 min: one or two scrapes (15-60 s) see target_up 0 and the last
     * oom_kill count of a container that was killed, and a container
     * restarted into the same cgroup keeps its history; longer only
     * keeps dead series around. */
    cfg->grace_ms = 120000;
    /* 2000: the kubelet's default is 110 pods a node, ~4 cgroups each
     * (pause included); 2000 leaves room for dense nodes while bounding
     * memory (~60 KiB a container, see node_tick.c) to ~120 MiB. */
    cfg->max_containers = 2000;
    cfg->warning_ratio = 0.80;
    cfg->critical_ratio = 0.90;
    cfg->hysteresis_ratio = 0.05;
    cfg->level_min_duration_ms = -1;
    /* the leak detector's own defaults (patience 19 h, horizon 12 h) */
    cfg->leak_min_rise_ms = 0;
    cfg->oom_risk_horizon_ms = 0;
}

static int config_check(const mv_node_config *c)
{
    if (!c->cgroup_root || !c->cgroup_root[0] || !c->proc_root)
        return -EINVAL;
    if (c->interval_ms < 100 || c->interval_ms > MAX_INTERVAL_MS)
        return -EINVAL;
    if (c->grace_ms < 0 || c->max_containers <= 0)
        return -EINVAL;
    if (!(c->warning_ratio > 0.0) || !(c->critical_ratio > c->warning_ratio) ||
        !(c->critical_ratio <= 1.0) || !(c->hysteresis_ratio >= 0.0) ||
        !(c->hysteresis_ratio < c->warning_ratio) ||
        c->level_min_duration_ms < -1)
        return -EINVAL;
    if ((c->http_listen && !c->http_listen[0]) ||
        (c->event_log && !c->event_log[0]) ||
        (c->service_glob && !c->service_glob[0]))
        return -EINVAL;
    if ((c->event_log_max_bytes != 0 &&
         c->event_log_max_bytes < MV_RECORD_MIN_MAX_BYTES) ||
        c->event_log_keep < 0 || c->event_log_keep > MV_RECORD_MAX_KEEP)
        return -EINVAL;
    if (c->leak_min_rise_ms < 0 || c->oom_risk_horizon_ms < 0)
        return -EINVAL;
    return 0;
}

/* The directory to walk and its version: the root itself (v2, or a v1
 * memory mount or subtree), else its memory/ (v1 beside other
 * controllers, the hybrid layout included). */
static int find_walk_root(mv_node *n)
{
    const char *root = n->cfg.cgroup_root;
    char mem[sizeof n->walk_root];
    int v;

    snprintf(mem, sizeof mem, "%s/memory", root);
    if (mv__cgroup_dir_version(mem) == 1) {
        mv__strlcpy(n->walk_root, mem, sizeof n->walk_root);
        n->version = 1;
        return 0;
    }
    v = mv__cgroup_dir_version(root);
    if (v == 0) {                /* not a hierarchy, or not readable */
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return errno == EACCES || errno == EPERM ? -EACCES : -ENOENT;
        close(fd);
        return -ENOENT;
    }
    if (mv__strlcpy(n->walk_root, root, sizeof n->walk_root) >=
        sizeof n->walk_root)
        return -ENAMETOOLONG;
    size_t len = strlen(n->walk_root);
    while (len > 1 && n->walk_root[len - 1] == '/')
        n->walk_root[--len] = '\0';
    n->version = v;
    return 0;
}

/* ---- events ------------------------------------------------------------ */

/* Delivers the tick's events (n->evs[0..nev)): callback, then the event
 * log. Called on the sampler thread without n->lock. */
static void deliver(mv_node *n, mv__node_event *evs, size_t nev)
{
    mv_buf line = {0};
    uint64_t lost = 0;

    for (size_t i = 0; i < nev; i++) {
        mv__node_event *ne = &evs[i];
        mv__node_event_fix(ne);
        if (n->cfg.on_event)
            n->cfg.on_event(&ne->ev, n->cfg.userdata);
        pthread_mutex_lock(&n->sink_lock);
        if (n->log) {
            mv__buf_reset(&line);
            if (mv__event_to_json(&ne->ev, &line) == 0 &&
                mv__buf_append(&line, "\n", 1) == 0 &&
                mv__linefile_write(n->log, line.data, line.len) != 0)
                lost++;
        }
        pthread_mutex_unlock(&n->sink_lock);
    }
    mv_buf_release(&line);
    if (lost) {                  /* the count is the state's (n->lock) */
        pthread_mutex_lock(&n->lock);
        n->events_dropped += lost;
        pthread_mutex_unlock(&n->lock);
    }
}

/* ---- the thread -------------------------------------------------------- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One tick with its accounting; events delivered after the lock. */
static void run_tick(mv_node *n)
{
    int64_t t0 = mono_us(), c0 = mv__thread_cpu_us();

    pthread_mutex_lock(&n->lock);
    n->nev = 0;
    mv__node_tick_locked(n);
    size_t nev = n->nev;
    mv__node_event *evs = NULL;
    if (nev) {               /* a copy: a render may run while we deliver */
        evs = malloc(nev * sizeof *evs);
        if (evs)
            memcpy(evs, n->evs, nev * sizeof *evs);
        else
            n->events_dropped += nev;
    }
    pthread_mutex_unlock(&n->lock);
    if (evs)
        deliver(n, evs, nev);
    free(evs);

    double secs = (double)(mono_us() - t0) / 1e6;
    double cpu = (double)(mv__thread_cpu_us() - c0) / 1e6;
    size_t b = 0;
    while (b < MV_TICK_BUCKETS - 1 && secs > mv__tick_bucket_bounds[b])
        b++;
    pthread_mutex_lock(&n->lock);
    n->last_tick_s = secs;
    n->tick_seconds_sum += secs;
    n->tick_hist[b]++;
    n->cpu_seconds += cpu > 0 ? cpu : 0;
    pthread_mutex_unlock(&n->lock);
}

static void deadline_in(int64_t ms, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t ns = (int64_t)ts->tv_nsec + (ms % 1000) * 1000000LL;
    ts->tv_sec += (time_t)(ms / 1000 + ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

static void *sampler_main(void *arg)
{
    mv_node *n = arg;
    locale_t prev;
    locale_t cloc = mv__guest_c_locale_enter(&prev);

    pthread_mutex_lock(&n->lock);
    int64_t next_due = mv__now_mono_ms() + n->cfg.interval_ms;
    while (!n->stopping) {
        int want = n->tick_req > n->tick_done;
        int64_t now = mv__now_mono_ms();
        if (want || now >= next_due) {
            uint64_t req = n->tick_req;
            pthread_mutex_unlock(&n->lock);
            run_tick(n);
            pthread_mutex_lock(&n->lock);
            if (req > n->tick_done)
                n->tick_done = req;
            pthread_cond_broadcast(&n->done);
            next_due = mv__now_mono_ms() + n->cfg.interval_ms;
            continue;
        }
        struct timespec ts;
        deadline_in(next_due - now, &ts);
        pthread_cond_timedwait(&n->wake, &n->lock, &ts);
    }
    pthread_mutex_unlock(&n->lock);
    mv__guest_c_locale_leave(cloc, prev);
    return NULL;
}

/* ---- start / stop ------------------------------------------------------ */

static void node_free(mv_node *n)
{
    for (size_t i = 0; i < n->ntargets; i++)
        mv__node_target_free(n->targets[i]);
    free(n->targets);
    free(n->evs);
    mv__linefile_close(n->log);
    free(n->s_cgroup_root);
    free(n->s_proc_root);
    free(n->s_glob);
    free(n->s_event_log);
    free(n->s_listen);
    free(n->s_token);
    free(n->s_kmsg);
    mv__oom_watch_free(n->oomw);
    free(n->oom_buf);
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->sink_lock);
    pthread_cond_destroy(&n->wake);
    pthread_cond_destroy(&n->done);
    free(n);
}

static int copy_config(mv_node *n, const mv_node_config *c)
{
    n->cfg = *c;
    if (mv__strdup_opt(c->cgroup_root, &n->s_cgroup_root) ||
        mv__strdup_opt(c->proc_root, &n->s_proc_root) ||
        mv__strdup_opt(c->service_glob, &n->s_glob) ||
        mv__strdup_opt(c->event_log, &n->s_event_log) ||
        mv__strdup_opt(c->http_listen, &n->s_listen) ||
        mv__strdup_opt(c->http_token, &n->s_token) ||
        mv__strdup_opt(c->kmsg_path, &n->s_kmsg))
        return -ENOMEM;
    n->cfg.cgroup_root = n->s_cgroup_root;
    n->cfg.proc_root = n->s_proc_root;
    n->cfg.service_glob = n->s_glob;
    n->cfg.event_log = n->s_event_log;
    n->cfg.http_listen = n->s_listen;
    n->cfg.http_token = n->s_token;
    n->cfg.kmsg_path = n->s_kmsg;
    n->lcfg.warning_ratio = c->warning_ratio;
    n->lcfg.critical_ratio = c->critical_ratio;
    n->lcfg.hysteresis_ratio = c->hysteresis_ratio;
    n->lcfg.min_duration_ms = c->level_min_duration_ms < 0
                                  ? 2 * c->interval_ms
                                  : c->level_min_duration_ms;
    return 0;
}

static int init_sync(mv_node *n)
{
    pthread_condattr_t ca;

    if (pthread_mutex_init(&n->lock, NULL) ||
        pthread_mutex_init(&n->sink_lock, NULL))
        return -ENOMEM;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&n->wake, &ca) || pthread_cond_init(&n->done, &ca);
    pthread_condattr_destroy(&ca);
    return rc ? -ENOMEM : 0;
}

static int open_sinks(mv_node *n)
{
    sigset_t old;
    int rc = 0;

    if (n->cfg.event_log) {
        rc = strcmp(n->cfg.event_log, "-") == 0
                 ? mv__linefile_from_fd(STDERR_FILENO, &n->log)
                 : mv__linefile_open(n->cfg.event_log, 0,
                                     n->cfg.event_log_max_bytes,
                                     n->cfg.event_log_keep, NULL, NULL,
                                     &n->log);
        if (rc)
            return rc;
    }
    if (n->cfg.http_listen) {
        mv__guest_block_signals(&old);     /* MHD's threads inherit the mask */
        rc = mv__http_start(n->cfg.http_listen, n->cfg.http_token,
                            mv__node_render, n, &n->http);
        mv__guest_restore_signals(&old);
    }
    return rc;
}

int mv_node_start(const mv_node_config *cfg, mv_node **out)
{
    mv_node *n;
    sigset_t old;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg || (rc = config_check(cfg)) != 0)
        return -EINVAL;
    n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    if ((rc = init_sync(n)) != 0 || (rc = copy_config(n, cfg)) != 0 ||
        (rc = find_walk_root(n)) != 0) {
        node_free(n);
        return rc;
    }
    n->host_oom_kills = MV_NA;
    if (n->cfg.kmsg_path && n->cfg.kmsg_path[0]) {
        rc = (n->oom_buf = calloc(MV_NODE_OOM_POLL, sizeof *n->oom_buf))
                 ? mv__oom_watch_new(n->cfg.kmsg_path, n->cfg.proc_root,
                                     &n->oomw)
                 : -ENOMEM;
        if (rc != 0) {
            node_free(n);
            return rc;
        }
    }
    mv__probe_opts_init(&n->popts);
    n->popts.proc_root = n->cfg.proc_root;
    n->popts.cgroup_root = n->walk_root;

    /* the first tick, synchronously: a missing root fails here */
    pthread_mutex_lock(&n->lock);
    mv__node_tick_locked(n);
    size_t nev = n->nev;
    n->nev = 0;
    pthread_mutex_unlock(&n->lock);

    if ((rc = open_sinks(n)) != 0) {
        mv__http_stop(n->http);
        node_free(n);
        return rc;
    }
    deliver(n, n->evs, nev);

    mv__guest_block_signals(&old);
    rc = pthread_create(&n->thread, NULL, sampler_main, n);
    mv__guest_restore_signals(&old);
    if (rc != 0) {
        mv__http_stop(n->http);
        node_free(n);
        return -rc;
    }
    n->thread_started = 1;
    *out = n;
    return 0;
}

void mv_node_stop(mv_node *n)
{
    if (!n)
        return;
    mv__http_stop(n->http);      /* no render runs after this */
    n->http = NULL;
    pthread_mutex_lock(&n->lock);
    n->stopping = 1;
    pthread_cond_broadcast(&n->wake);
    pthread_mutex_unlock(&n->lock);
    if (n->thread_started)
        pthread_join(n->thread, NULL);
    node_free(n);
}

int mv_node_sample_now(mv_node *n)
{
    if (!n)
        return -EINVAL;
    pthread_mutex_lock(&n->lock);
    uint64_t want = ++n->tick_req;
    pthread_cond_signal(&n->wake);
    while (n->tick_done < want && !n->stopping)
        pthread_cond_wait(&n->done, &n->lock);
    pthread_mutex_unlock(&n->lock);
    return 0;
}

int mv_node_http_port(mv_node *n)
{
    if (!n || !n->http)
        return -ENOENT;
    return mv__http_port(n->http);
}

int mv_node_render(mv_node *n, mv_format fmt, mv_buf *buf)
{
    if (!n || !buf)
        return -EINVAL;
    return mv__node_render(n, fmt, buf);
}

int mv_node_status_get(mv_node *n, mv_node_status *out)
{
    if (!n || !out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&n->lock);
    out->containers = (int64_t)n->ntargets;
    for (size_t i = 0; i < n->ntargets; i++)
        out->containers_up += n->targets[i]->up;
    out->ticks = n->ticks;
    out->discovered_total = n->discovered_total;
    out->dropped_total = n->dropped_total;
    out->capped_total = n->capped_total;
    out->read_errors_total = n->read_errors_total;
    out->last_tick_seconds = n->last_tick_s;
    pthread_mutex_unlock(&n->lock);
    return 0;
}
