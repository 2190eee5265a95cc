/*
 * watch_node.c — `memvigil watch --cgroup-root PATH`: node mode. One agent
 * per node watches every container cgroup under PATH through the public
 * node API (mv_node_*), prints each container's events (their messages
 * name the container), serves the labelled metrics, and says when the
 * number of watched containers changes. With --kubelet URL the
 * containers are named from the kubelet's pods API (node_kubelet.h): the
 * main loop below fetches, the sampler only looks in the cached index.
 *
 * Why an option of watch and not a command of its own: it watches cgroups
 * as `watch --cgroup` does, with the same endpoint, event, threshold and
 * leak-detector (--leak-min-rise, --oom-risk-horizon) options; only what
 * is watched differs. Options that name one target
 * (--pid, --cgroup, --limit, --record, --smaps-rollup, --on-alert) are
 * refused with it rather than silently ignored.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node_kubelet.h"
#include "util.h"

int cli_node_opts_parse(cli_node_opts *n, int which, const char *arg)
{
    char *end;
    long v;

    switch (which) {
    case 0:
        if (!*arg)
            return cli_usage_error("watch", "empty --cgroup-root");
        n->root = arg;
        return 0;
    case 1:
        if (!*arg)
            return cli_usage_error("watch", "empty --services glob");
        n->services = arg;
        break;
    case 2:
        if (cli_parse_duration_ms(arg, &n->grace_ms) != 0 || n->grace_ms < 0)
            return cli_usage_error("watch", "bad --grace '%s': expected a "
                                   "duration such as 30s or 2m", arg);
        break;
    default:
        errno = 0;
        v = strtol(arg, &end, 10);
        if (errno || end == arg || *end || v <= 0 || v > 1000000)
            return cli_usage_error("watch", "bad --max-containers '%s': "
                                   "expected a count from 1 to 1000000",
                                   arg);
        n->max_containers = (int)v;
        break;
    }
    n->given = 1;
    return 0;
}

/* Options of the common set that name one target. */
static int refuse_single_target(const cli_agent_opts *o)
{
    const char *bad = o->limit_bytes ? "--limit"
                      : o->record ? "--record"
                      : o->smaps_rollup ? "--smaps-rollup"
                      : o->on_alert ? "--on-alert"
                      : NULL;
    if (bad)
        return cli_usage_error("watch", "%s applies to one target and "
                               "cannot be combined with --cgroup-root", bad);
    /* node mode does not lengthen its interval on its own: its cost is
     * measured (bench_node) rather than capped */
    if (o->cpu_budget > 0)
        return cli_usage_error("watch", "--cpu-budget is not supported with "
                               "--cgroup-root");
    /* containers watched from outside have no allocator figures
     * (--leak-min-rise and --oom-risk-horizon apply to every container's
     * detector: node_config) */
    const struct {
        int64_t ms;
        const char *name;
    } settings[] = {
        {o->alloc_window_ms, "--alloc-window"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (settings[i].ms > 0)
            return cli_usage_error("watch", "%s is not supported with "
                                   "--cgroup-root", settings[i].name);
    return 0;
}

static void node_config(const cli_agent_opts *o, const cli_node_opts *no,
                        cli_agent *a, mv_node_config *cfg)
{
    mv_node_config_init(cfg);
    cfg->cgroup_root = no->root;
    cfg->service_glob = no->services;
    if (no->grace_ms >= 0)
        cfg->grace_ms = no->grace_ms;
    if (no->max_containers > 0)
        cfg->max_containers = no->max_containers;
    cfg->interval_ms = o->interval_ms;
    cfg->warning_ratio = o->warning;
    cfg->critical_ratio = o->critical;
    if (cfg->hysteresis_ratio >= o->warning / 2)
        cfg->hysteresis_ratio = o->warning / 2;
    cfg->http_listen = o->listen;
    cfg->http_token = o->token;
    cfg->event_log = o->event_log;
    cfg->event_log_max_bytes = o->event_log_max_bytes;
    cfg->event_log_keep = o->event_log_keep;
    /* every container's leak detector: 0 = its defaults */
    cfg->leak_min_rise_ms = o->leak_min_rise_ms;
    cfg->oom_risk_horizon_ms = o->oom_risk_horizon_ms;
    /* one kernel-log watch for the node; kills go to their containers */
    cfg->kmsg_path = o->kmsg ? o->kmsg : "/dev/kmsg";
    cfg->on_event = cli_agent_on_event;
    cfg->userdata = a;
}

static int start(const cli_agent_opts *o, const cli_node_opts *no,
                 mv_node_config *cfg, mv_node **out)
{
    int rc = mv_node_start(cfg, out);

    if (rc == -EADDRINUSE && o->listen_is_default) {
        cli_error("watch", "%s is in use; no metrics endpoint (pick one with "
                  "--listen ADDR)", cfg->http_listen);
        cfg->http_listen = NULL;
        rc = mv_node_start(cfg, out);
    }
    if (rc == 0) {
        if (cfg->http_listen) {
            char host[256];
            int port = 0;
            if (mv__http_parse_listen(cfg->http_listen, host, sizeof host,
                                      &port) != 0)
                mv__strlcpy(host, "127.0.0.1", sizeof host);
            if (mv_node_http_port(*out) > 0)
                port = mv_node_http_port(*out);
            fprintf(stderr, "memvigil watch: metrics at http://%s%s%s:%d/"
                    "metrics\n", strchr(host, ':') ? "[" : "", host,
                    strchr(host, ':') ? "]" : "", port);
        }
        return 0;
    }
    if (rc == -ENOENT)
        cli_error("watch", "no memory cgroup hierarchy at '%s' (expected "
                  "cgroup v2, or the v1 memory controller in it or at it)",
                  no->root);
    else if (rc == -EACCES || rc == -EPERM)
        cli_error("watch", "permission denied reading '%s'", no->root);
    else if (rc == -EADDRINUSE)
        cli_error("watch", "cannot listen on %s: address already in use",
                  o->listen);
    else
        cli_error("watch", "cannot start node mode: %s", mv_strerror(rc));
    return rc;
}

/* Says how many containers are watched, when that changed. */
static void say_count(mv_node *n, int64_t *last_total, int64_t *last_up)
{
    mv_node_status st;

    if (mv_node_status_get(n, &st) != 0 ||
        (st.containers == *last_total && st.containers_up == *last_up))
        return;
    *last_total = st.containers;
    *last_up = st.containers_up;
    fprintf(stderr, "memvigil watch: watching %lld container%s (%lld up)\n",
            (long long)st.containers, st.containers == 1 ? "" : "s",
            (long long)st.containers_up);
}

int cli_watch_node(const cli_agent_opts *opts, const cli_node_opts *no)
{
    cli_agent_opts o = *opts;
    cli_agent a;
    mv_node_config cfg;
    mv_node *n = NULL;
    cli_kubelet *kc = NULL;
    cli_node_kubelet *nk = NULL;
    sigset_t set, oldmask;
    siginfo_t info;
    int64_t deadline = 0, last_total = -1, last_up = -1;
    int rc;

    if (!no->root)
        return cli_usage_error("watch", "--services, --grace, "
                               "--max-containers and --kubelet need "
                               "--cgroup-root PATH");
    if ((rc = refuse_single_target(&o)) != 0 ||
        (rc = cli_agent_opts_check(&o, "watch")) != 0 ||
        (no->kubelet &&
         (rc = cli_kubelet_opts_check(no->kubelet, "watch")) != 0))
        return rc;
    o.no_tty = 1;                /* the live view shows one target */
    o.quiet = 1;                 /* its status lines too; counts below */

    cli_block_signals(&set, &oldmask, 0);
    signal(SIGPIPE, SIG_IGN);

    cli_agent_init(&a, &o, "watch");
    node_config(&o, no, &a, &cfg);
    if (no->kubelet && no->kubelet->url) {
        if (!(kc = cli_kubelet_new(no->kubelet)) ||
            !(nk = cli_node_kubelet_new(kc))) {
            cli_error("watch", "cannot set up the kubelet client: %s",
                      mv_strerror(-ENOMEM));
            cli_kubelet_free(kc);
            cli_agent_release(&a);
            sigprocmask(SIG_SETMASK, &oldmask, NULL);
            return CLI_EXIT_ERROR;
        }
        /* the first fetch before the first tick, so that the first
         * samples already carry names when the kubelet answers */
        cli_node_kubelet_refresh(nk, mv__now_mono_ms());
        cfg.resolve = cli_node_kubelet_resolve;
        cfg.resolve_ctx = nk;
    }
    if (start(&o, no, &cfg, &n) != 0) {
        cli_node_kubelet_free(nk);
        cli_kubelet_free(kc);
        cli_agent_release(&a);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        return CLI_EXIT_ERROR;
    }
    if (o.duration_ms > 0)
        deadline = mv__now_mono_ms() + o.duration_ms;
    for (;;) {
        int64_t wait_ms = cli_agent_poll_ms(&a), now = mv__now_mono_ms();
        if (!opts->quiet)
            say_count(n, &last_total, &last_up);
        if (nk)  /* may block up to the kubelet timeout (5 s) */
            cli_node_kubelet_refresh(nk, now);
        if (deadline && deadline - now < wait_ms)
            wait_ms = deadline - now;
        int sig = cli_wait_signal(&set, wait_ms, &info);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            fprintf(stderr, "memvigil watch: stopping on %s\n",
                    strsignal(sig));
            break;
        }
        if (deadline && mv__now_mono_ms() >= deadline)
            break;
    }
    mv_node_stop(n);
    cli_node_kubelet_free(nk);   /* after the sampler stopped */
    cli_kubelet_free(kc);
    cli_agent_release(&a);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    return CLI_EXIT_OK;
}
