/*
 * cmd_watch.c — `memvigil watch --pid N [--pid M ...] | --cgroup PATH`:
 * follow running processes (summed as one target) or a cgroup, serve
 * metrics, print events, until the target exits, --duration runs out, or
 * memvigil is told to stop (SIGINT / SIGTERM / SIGHUP: exit 0).
 *
 * Design: the monitor reports the end of a process target (target_exit,
 * pid_reuse events; target_alive in its status). The main loop also checks
 * the PIDs itself (gone or zombie), so a target that is an unreaped child of
 * some other process is still seen to end. A cgroup target keeps being
 * watched even when it empties: services restart into the same cgroup.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kubelet.h"
#include "util.h"

#define MAX_PIDS 256

const char cli_watch_usage[] =
    "usage: memvigil watch [options] --pid N [--pid M ...]\n"
    "       memvigil watch [options] --cgroup PATH\n"
    "       memvigil watch [options] --cgroup-root PATH [--services GLOB]\n"
    "\n"
    "Watch running processes (several --pid are summed as one target) or a\n"
    "cgroup (a path inside the hierarchy such as /system.slice/x.service, or\n"
    "an absolute path under /sys/fs/cgroup). Exits 0 when the processes exit\n"
    "or their PID is reused, when --duration is over, or on SIGINT/SIGTERM;\n"
    "a cgroup is watched until stopped. Exits 1 when the target cannot be\n"
    "read (no such process, permission denied).\n"
    "\n"
    "  --pid N               a process to watch (repeatable)\n"
    "  --children            include each process's descendants\n"
    "  --cgroup PATH         watch a cgroup instead of processes\n"
    "\n"
    "Node mode: --cgroup-root PATH watches every container cgroup under PATH\n"
    "(/sys/fs/cgroup: cgroup v2, or v1 with its memory controller), each as a\n"
    "target of its own with its own limit, levels, leak verdict and OOM risk,\n"
    "labelled namespace, pod, container, pod_uid, container_id, qos and id\n"
    "(kubelet systemd and cgroupfs drivers, docker, containerd, CRI-O).\n"
    "Containers that appear are picked up within one interval.\n"
    "--leak-min-rise and --oom-risk-horizon apply to every container.\n"
    "\n"
    "  --cgroup-root PATH    node mode: watch every container under PATH\n"
    "  --services GLOB       node mode: also watch systemd services whose unit\n"
    "                        name matches GLOB ('*.service', 'nginx*.service')\n"
    "  --grace DURATION      node mode: keep a vanished container's series this\n"
    "                        long, with memvigil_target_up 0 (default 2m)\n"
    "  --max-containers N    node mode: watch at most N containers; more are\n"
    "                        counted and said once (default 2000)\n"
    "\n";

enum { OPT_PID = CLI_OPT_LAST + 1, OPT_CGROUP, OPT_CHILDREN, OPT_CGROUP_ROOT,
       OPT_SERVICES, OPT_GRACE, OPT_MAX_CONTAINERS };

/* Checks a pid before the monitor starts, so the message names it. */
static int check_pid(int32_t pid)
{
    char path[64];

    if (kill(pid, 0) != 0 && errno == ESRCH) {
        cli_error("watch", "no such process %d", (int)pid);
        return CLI_EXIT_ERROR;
    }
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (access(path, R_OK) != 0) {
        if (errno == ENOENT)
            cli_error("watch", "no such process %d", (int)pid);
        else
            cli_error("watch", "permission denied reading process %d (%s): "
                      "run as its user or as root", (int)pid, path);
        return CLI_EXIT_ERROR;
    }
    return 0;
}

static int all_gone(const int32_t *pids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!cli_process_gone(pids[i]))
            return 0;
    return 1;
}

int cli_cmd_watch(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"pid", required_argument, NULL, OPT_PID},
        {"cgroup", required_argument, NULL, OPT_CGROUP},
        {"children", no_argument, NULL, OPT_CHILDREN},
        {"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
        {"services", required_argument, NULL, OPT_SERVICES},
        {"grace", required_argument, NULL, OPT_GRACE},
        {"max-containers", required_argument, NULL, OPT_MAX_CONTAINERS},
        CLI_KUBELET_LONG_OPTIONS,
        CLI_AGENT_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    cli_agent_opts o;
    cli_agent a;
    mv_config cfg;
    mv_monitor *m = NULL;
    int32_t pids[MAX_PIDS];
    size_t npids = 0, i;
    const char *cgroup = NULL;
    int children = 0, c, rc, stop = 0;
    sigset_t set, oldmask;
    siginfo_t info;
    int64_t deadline = 0;
    cli_node_opts node = {NULL, NULL, -1, 0, 0, NULL};
    cli_kubelet_opts kubelet;

    cli_agent_opts_init(&o);
    cli_kubelet_opts_init(&kubelet);
    node.kubelet = &kubelet;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            /* as `memvigil help watch` prints it (main.c) */
            fputs(cli_watch_usage, stdout);
            fputs(cli_kubelet_options_help, stdout);
            fputs("\n", stdout);
            fputs(cli_agent_options_help, stdout);
            return CLI_EXIT_OK;
        case '?':
        case ':':
            return cli_option_error("watch", c, argv);
        case OPT_PID:
            if (npids >= MAX_PIDS)
                return cli_usage_error("watch", "too many --pid (at most %d)",
                                       MAX_PIDS);
            if (cli_parse_pid(optarg, &pids[npids]) != 0)
                return cli_usage_error("watch", "bad --pid '%s': expected a "
                                       "process id > 0", optarg);
            npids++;
            break;
        case OPT_CGROUP:
            cgroup = optarg;
            break;
        case OPT_CHILDREN:
            children = 1;
            break;
        case OPT_CGROUP_ROOT:
        case OPT_SERVICES:
        case OPT_GRACE:
        case OPT_MAX_CONTAINERS:
            if ((rc = cli_node_opts_parse(&node, c - OPT_CGROUP_ROOT,
                                          optarg)) != 0)
                return rc;
            break;
        case CLI_OPT_KUBELET:
        case CLI_OPT_KUBELET_TOKEN_FILE:
        case CLI_OPT_KUBELET_CA_FILE:
        case CLI_OPT_KUBELET_INSECURE_TLS:
            rc = cli_kubelet_opts_parse(&kubelet, "watch", c, optarg);
            if (rc != 1)
                return rc;
            node.given = 1;
            break;
        default:
            rc = cli_agent_opts_parse(&o, "watch", c, optarg);
            if (rc != 1)
                return rc ? rc : cli_usage_error("watch", "unhandled option");
        }
    }
    if (optind < argc)
        return cli_usage_error("watch", "unexpected argument '%s' (use --pid "
                               "N or --cgroup PATH)", argv[optind]);
    if (node.root || node.given) {
        if (npids > 0 || cgroup || children)
            return cli_usage_error("watch", "--cgroup-root cannot be "
                                   "combined with --pid, --cgroup or "
                                   "--children");
        return cli_watch_node(&o, &node);
    }
    if (npids == 0 && !cgroup)
        return cli_usage_error("watch", "nothing to watch: give --pid N or "
                               "--cgroup PATH");
    if (npids > 0 && cgroup)
        return cli_usage_error("watch", "--pid and --cgroup cannot be "
                               "combined");
    if ((rc = cli_agent_opts_check(&o, "watch")) != 0)
        return rc;
    for (i = 0; i < npids; i++)
        if ((rc = check_pid(pids[i])) != 0)
            return rc;

    cli_block_signals(&set, &oldmask, 1); /* SIGWINCH: the view redraws */

    signal(SIGPIPE, SIG_IGN); /* write errors are reported at exit */
    cli_agent_init(&a, &o, "watch");
    mv_config_init(&cfg);
    cli_agent_config(&a, &cfg);
    if (cgroup) {
        cfg.cgroup = cgroup;
    } else {
        cfg.pid = pids[0];
        if (npids > 1) {
            cfg.pids = pids;
            cfg.npids = npids;
        }
        cfg.include_descendants = children;
    }
    rc = cli_agent_start(&a, &cfg, &m);
    if (rc != 0) {
        if (rc == -ESRCH)
            cli_error("watch", "no such process %d", (int)pids[0]);
        else if (rc == -ENOENT && cgroup)
            cli_error("watch", "no such cgroup '%s'", cgroup);
        else if ((rc == -EACCES || rc == -EPERM) && cgroup)
            cli_error("watch", "permission denied reading cgroup '%s'",
                      cgroup);
        else if (rc == -EACCES || rc == -EPERM)
            cli_error("watch", "permission denied reading process %d: run "
                      "as its user or as root", (int)pids[0]);
        else if (rc == -EADDRINUSE)
            cli_error("watch", "cannot listen on %s: address already in use",
                      o.listen);
        else
            cli_error("watch", "cannot start monitoring: %s",
                      mv_strerror(rc));
        cli_agent_release(&a);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        return CLI_EXIT_ERROR;
    }

    if (o.duration_ms > 0)
        deadline = mv__now_mono_ms() + o.duration_ms;
    rc = CLI_EXIT_OK;
    while (!stop) {
        int64_t wait_ms = cli_agent_poll_ms(&a), now = mv__now_mono_ms();
        int sig, gone = 0, reused = 0;
        mv_status st;

        if (deadline && deadline - now < wait_ms)
            wait_ms = deadline - now;
        sig = cli_wait_signal(&set, wait_ms, &info);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            cli_agent_view_finish(&a, m);
            fprintf(stderr, "memvigil watch: stopping on %s\n",
                    strsignal(sig));
            break;
        }
        if (deadline && mv__now_mono_ms() >= deadline)
            break;
        cli_agent_tick(&a, m);
        if (cgroup)
            continue;
        cli_agent_flags(&a, &gone, &reused, NULL, NULL);
        if (!gone && mv_monitor_status(m, &st) == 0 && !st.target_alive)
            gone = 1;
        if (!gone && all_gone(pids, npids))
            gone = 1;
        if (gone) {
            cli_agent_view_finish(&a, m);
            if (reused)
                fprintf(stderr, "memvigil watch: target exited (pid %d now "
                        "names another process); stopping\n", (int)pids[0]);
            else if (npids > 1)
                fprintf(stderr, "memvigil watch: target exited (all %zu "
                        "processes); stopping\n", npids);
            else
                fprintf(stderr, "memvigil watch: target exited (pid %d); "
                        "stopping\n", (int)pids[0]);
            stop = 1;
        }
    }
    cli_agent_view_finish(&a, m);
    mv_monitor_stop(m);
    cli_agent_release(&a);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    return rc;
}
