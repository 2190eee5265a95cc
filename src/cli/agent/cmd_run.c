/*
 * cmd_run.c — `memvigil run [options] -- CMD ARGS...`: start a program and
 * watch it and its descendants until it exits, then exit with its status.
 *
 * Design:
 *  - The child is forked before the monitor starts but held at a gate (a
 *    pipe) until the monitor is running, so a monitor that cannot start
 *    (port in use, bad recording path) never leaves a half-watched program
 *    behind. A second, close-on-exec pipe carries exec's errno back: EOF
 *    means the exec succeeded; 4 bytes mean it failed (exit 127 for "not
 *    found", 126 otherwise, as shells do).
 *  - The child stays in memvigil's process group, so a terminal's Ctrl-C
 *    reaches it directly. Signals sent to memvigil itself (kill, systemd)
 *    are forwarded; a signal the kernel generated from the terminal
 *    (si_code SI_KERNEL) is not forwarded, since the child already got it —
 *    programs that treat a second SIGINT as "force quit" stay well-behaved.
 *  - OOM: the child was killed by the kernel OOM killer when it died by
 *    SIGKILL and either its cgroup's oom_kill count rose during the run or
 *    the level was critical. The cgroup is tracked as the run goes (a
 *    wrapper may move itself into another cgroup), and the count is read
 *    once more after the child died.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "heapdir.h"
#include "probe.h"
#include "util.h"

/* Grace period between SIGTERM and SIGKILL when --duration ends a run. */
#define KILL_GRACE_MS 5000

const char cli_run_usage[] =
    "usage: memvigil run [options] [--] CMD [ARGS...]\n"
    "\n"
    "Start CMD, watch the memory of it and its descendants, serve metrics,\n"
    "print events, and exit with CMD's exit status (128+N when it died by\n"
    "signal N; 137 with a plain message when the kernel OOM killer killed\n"
    "it; 127 when CMD was not found, 126 when it could not be executed).\n"
    "SIGINT, SIGTERM and SIGHUP sent to memvigil are forwarded to CMD.\n"
    "\n"
    "Heap profiling (docs/heap.md):\n"
    "  --heap                load libmemvigil_heap.so into CMD, follow its heap\n"
    "                        snapshots, report call sites whose live bytes keep\n"
    "                        growing (events, metrics, a summary at exit), and\n"
    "                        serve its heap profile at /debug/pprof/heap on the\n"
    "                        metrics endpoint (go tool pprof, Pyroscope, Parca;\n"
    "                        ?seconds=N delta, ?debug=1 text)\n"
    "  --heap-dir DIR        snapshot directory (default ./memvigil-heap-PID)\n"
    "  --heap-interval DURATION  time between snapshots (default 60s)\n"
    "  --heap-skip REGEX     skip frames matching REGEX to find a call site,\n"
    "                        as `heap --skip` (repeatable)\n"
    "\n";

/* What the main loop learns about the child's cgroup as the run goes. */
typedef struct cg_track {
    int version;                       /* 0 = none known */
    char path[MV_CGROUP_PATH_MAX];
    int64_t oom_kill_base;             /* count when this cgroup was first seen */
    int64_t oom_kill_last;             /* latest count */
    mv_sample last;                    /* last sample while the child lived */
    int have_last;
    mv_level level;                    /* level of the last status */
} cg_track;

static void track_status(cg_track *t, mv_monitor *m)
{
    mv_status st;

    if (mv_monitor_status(m, &st) != 0 || st.samples_taken <= 0)
        return;
    t->level = st.level;
    if (st.sample.rss_bytes != MV_NA) {
        t->last = st.sample;
        t->have_last = 1;
    }
    if (st.sample.cgroup_version == 0)
        return;
    if (st.sample.cgroup_version != t->version ||
        strcmp(st.sample.cgroup_path, t->path) != 0) {
        t->version = st.sample.cgroup_version;
        mv__strlcpy(t->path, st.sample.cgroup_path, sizeof t->path);
        t->oom_kill_base = st.sample.cg_oom_kill_events;
    }
    if (st.sample.cg_oom_kill_events != MV_NA) {
        if (t->oom_kill_base == MV_NA)
            t->oom_kill_base = st.sample.cg_oom_kill_events;
        t->oom_kill_last = st.sample.cg_oom_kill_events;
    }
}

/* Reads the tracked cgroup's oom_kill count now (after the child died). */
static void track_final(cg_track *t)
{
    mv__probe_opts o;
    mv_sample s;

    if (t->version == 0)
        return;
    mv__probe_opts_init(&o);
    mv_sample_clear(&s);
    if (mv__probe_cgroup(&o, t->version, t->path, &s) == 0 &&
        s.cg_oom_kill_events != MV_NA) {
        if (t->oom_kill_base == MV_NA)
            t->oom_kill_base = 0;
        t->oom_kill_last = s.cg_oom_kill_events;
    }
}

/* Joins argv into one command line for messages and the recording. */
static char *join_command(char **argv, int argc)
{
    mv_buf b = {0};
    int i;

    for (i = 0; i < argc; i++) {
        int quote = strpbrk(argv[i], " \t\"'") != NULL || argv[i][0] == '\0';
        if (mv__buf_printf(&b, "%s%s%s%s", i ? " " : "", quote ? "'" : "",
                           argv[i], quote ? "'" : "") != 0) {
            mv_buf_release(&b);
            return NULL;
        }
    }
    return b.data ? b.data : strdup("");
}

enum { OPT_HEAP = 1000, OPT_HEAP_DIR, OPT_HEAP_INTERVAL, OPT_HEAP_SKIP };

static int parse_args(int argc, char **argv, cli_agent_opts *o, int *first,
                      cli_heapwatch *hw)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"heap", no_argument, NULL, OPT_HEAP},
        {"heap-dir", required_argument, NULL, OPT_HEAP_DIR},
        {"heap-interval", required_argument, NULL, OPT_HEAP_INTERVAL},
        {"heap-skip", required_argument, NULL, OPT_HEAP_SKIP},
        CLI_AGENT_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    int c, rc;

    opterr = 0;
    optind = 1;
    /* '+': stop at the first non-option, which starts the command */
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_run_usage, stdout);
            fputs(cli_agent_options_help, stdout);
            return -1;
        }
        if (c == '?' || c == ':')
            return cli_option_error("run", c, argv);
        if (c == OPT_HEAP || c == OPT_HEAP_DIR) {
            hw->enabled = 1;
            if (c == OPT_HEAP_DIR)
                hw->dir_opt = optarg;
            continue;
        }
        if (c == OPT_HEAP_SKIP) {
            if ((rc = cli_heap_skip_option("run", "--heap-skip", optarg)) != 0)
                return rc;
            hw->enabled = 1;
            continue;
        }
        if (c == OPT_HEAP_INTERVAL) {
            int64_t ms;
            if (cli_parse_duration_ms(optarg, &ms) != 0 || ms < 1000)
                return cli_usage_error("run", "bad --heap-interval '%s': "
                                       "expected a duration of 1s or more",
                                       optarg);
            hw->interval_s = (ms + 999) / 1000;
            hw->enabled = 1;
            continue;
        }
        rc = cli_agent_opts_parse(o, "run", c, optarg);
        if (rc != 1)
            return rc ? rc : cli_usage_error("run", "unhandled option");
    }
    if (optind >= argc)
        return cli_usage_error("run", "missing the command to run "
                               "(memvigil run [options] -- CMD ARGS...)");
    *first = optind;
    return 0;
}

/* Forks the child, held at the gate until the parent writes to it. */
static pid_t spawn_held(char **cmd, const sigset_t *oldmask, int *gate_w,
                        int *err_r, const cli_heapwatch *hw)
{
    int gate[2], errp[2];
    pid_t pid;

    if (pipe2(gate, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(errp, O_CLOEXEC) != 0) {
        close(gate[0]);
        close(gate[1]);
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        close(gate[0]);
        close(gate[1]);
        close(errp[0]);
        close(errp[1]);
        return -1;
    }
    if (pid == 0) {
        char go;
        int e;
        close(gate[1]);
        close(errp[0]);
        if (read(gate[0], &go, 1) != 1)
            _exit(CLI_EXIT_NOT_FOUND); /* parent gave up */
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        cli_heapwatch_child_env(hw); /* single-threaded parent: setenv is ok */
        execvp(cmd[0], cmd);
        e = errno;
        if (write(errp[1], &e, sizeof e) < 0) {
            /* the parent sees EOF and a 127 exit */
        }
        _exit(e == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC);
    }
    close(gate[0]);
    close(errp[1]);
    *gate_w = gate[1];
    *err_r = errp[0];
    return pid;
}

static int wait_child(pid_t pid, int *status, int flags)
{
    pid_t r;

    do {
        r = waitpid(pid, status, flags);
    } while (r < 0 && errno == EINTR);
    return r == pid;
}

static int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return CLI_EXIT_ERROR;
}

static void report_start_error(int rc, const cli_agent_opts *o)
{
    if (rc == -EADDRINUSE)
        cli_error("run", "cannot listen on %s: address already in use",
                  o->listen);
    else if (rc == -EADDRNOTAVAIL)
        cli_error("run", "cannot listen on %s: address not available",
                  o->listen);
    else
        cli_error("run", "cannot start monitoring: %s", mv_strerror(rc));
}

int cli_cmd_run(int argc, char **argv)
{
    cli_agent_opts o;
    cli_agent a;
    mv_config cfg;
    mv_monitor *m = NULL;
    sigset_t set, oldmask;
    siginfo_t info;
    cg_track track;
    cli_heapwatch hw;
    char *cmdline = NULL;
    int first = 0, rc, gate_w = -1, err_r = -1, status = 0, exec_errno = 0;
    int reaped = 0, term_sent = 0, kill_sent = 0;
    ssize_t n;
    pid_t child;
    int64_t deadline = 0, kill_at = 0, now;

    cli_agent_opts_init(&o);
    cli_heapwatch_init(&hw);
    rc = parse_args(argc, argv, &o, &first, &hw);
    if (rc < 0)
        return CLI_EXIT_OK; /* --help */
    if (rc != 0)
        return rc;
    if ((rc = cli_agent_opts_check(&o, "run")) != 0)
        return rc;
    hw.json = o.json;
    hw.quiet = o.quiet;
    if (cli_heapwatch_prepare(&hw, "run") != 0)
        return CLI_EXIT_ERROR;
    cmdline = join_command(argv + first, argc - first);
    if (!cmdline) {
        cli_error("run", "out of memory");
        return CLI_EXIT_ERROR;
    }

    /* Take our signals synchronously; every thread inherits this mask. */
    cli_block_signals(&set, &oldmask, 1); /* SIGWINCH: the view redraws */

    fflush(stdout);
    fflush(stderr);
    child = spawn_held(argv + first, &oldmask, &gate_w, &err_r, &hw);
    if (child < 0) {
        cli_error("run", "cannot start '%s': %s", argv[first], strerror(errno));
        free(cmdline);
        return CLI_EXIT_ERROR;
    }
    if (cli_heapwatch_start(&hw, child, "run") != 0) {
        close(gate_w); /* the held child exits without running CMD */
        close(err_r);
        wait_child(child, &status, 0);
        cli_heapwatch_release(&hw);
        free(cmdline);
        return CLI_EXIT_ERROR;
    }

    /* A closed stdout must not kill memvigil and orphan the child: write
     * errors are reported at exit instead. (The child, forked above, keeps
     * the default disposition.) */
    signal(SIGPIPE, SIG_IGN);
    cli_agent_init(&a, &o, "run");
    mv_config_init(&cfg);
    cli_agent_config(&a, &cfg);
    cfg.pid = child;
    cfg.include_descendants = 1;
    cfg.record_command = cmdline;
    cli_heapwatch_config(&hw, &cfg); /* /debug/pprof/heap with --heap */
    /* the preload's status file carries the child's allocator figures */
    if (hw.started && hw.status_path[0])
        cfg.alloc_stats_file = hw.status_path;
    rc = cli_agent_start(&a, &cfg, &m);
    if (rc != 0) {
        report_start_error(rc, &o);
        close(gate_w); /* the held child exits without running CMD */
        close(err_r);
        wait_child(child, &status, 0);
        cli_agent_release(&a);
        cli_heapwatch_release(&hw);
        free(cmdline);
        return CLI_EXIT_ERROR;
    }

    /* Open the gate and learn whether exec worked. */
    if (write(gate_w, "g", 1) != 1) {
        /* the child is gone; reaping it below tells what happened */
    }
    close(gate_w);
    do {
        n = read(err_r, &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    close(err_r);
    if (n == (ssize_t)sizeof exec_errno) {
        wait_child(child, &status, 0);
        mv_monitor_stop(m);
        cli_agent_release(&a);
        cli_heapwatch_release(&hw);
        cli_error("run", "cannot execute '%s': %s", argv[first],
                  strerror(exec_errno));
        free(cmdline);
        return exec_errno == ENOENT ? CLI_EXIT_NOT_FOUND
                                    : CLI_EXIT_CANNOT_EXEC;
    }

    memset(&track, 0, sizeof track);
    track.oom_kill_base = MV_NA;
    track.oom_kill_last = MV_NA;
    track_status(&track, m);
    now = mv__now_mono_ms();
    if (o.duration_ms > 0)
        deadline = now + o.duration_ms;

    while (!reaped) {
        int64_t wait_ms = cli_agent_poll_ms(&a);
        int sig;

        now = mv__now_mono_ms();
        if (deadline && !term_sent && deadline - now < wait_ms)
            wait_ms = deadline - now;
        if (kill_at && !kill_sent && kill_at - now < wait_ms)
            wait_ms = kill_at - now;
        sig = cli_wait_signal(&set, wait_ms, &info);
        if (sig == SIGCHLD || sig == 0) {
            if (wait_child(child, &status, WNOHANG))
                reaped = 1;
        } else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            if (info.si_code != SI_KERNEL)
                kill(child, sig);
        }
        if (reaped)
            break;
        track_status(&track, m);
        cli_heapwatch_tick(&hw, m, track.level);
        cli_agent_tick(&a, m);
        now = mv__now_mono_ms();
        if (deadline && !term_sent && now >= deadline) {
            cli_error("run", "--duration reached; sending SIGTERM to %s",
                      argv[first]);
            kill(child, SIGTERM);
            term_sent = 1;
            kill_at = now + KILL_GRACE_MS;
        }
        if (kill_at && !kill_sent && now >= kill_at) {
            cli_error("run", "%s did not exit within 5 s; sending SIGKILL",
                      argv[first]);
            kill(child, SIGKILL);
            kill_sent = 1;
        }
    }

    /* One more tick: the monitor sees the target gone and raises
     * target_exit (printed, recorded, --on-alert) before it stops. */
    mv_monitor_sample_now(m);
    cli_agent_view_finish(&a, m);
    track_final(&track);
    cli_heapwatch_finish(&hw, m);
    mv_monitor_stop(m);
    rc = exit_code_of(status);

    {
        int64_t oom_events = 0;
        mv_level max_level = MV_LEVEL_OK;
        int rose = track.oom_kill_base != MV_NA &&
                   track.oom_kill_last != MV_NA &&
                   track.oom_kill_last > track.oom_kill_base;
        int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
                     !kill_sent;

        cli_agent_flags(&a, NULL, NULL, &oom_events, &max_level);
        if (killed && (rose || oom_events > 0 ||
                       track.level == MV_LEVEL_CRITICAL)) {
            char rss[32], lim[32];
            mv__human_bytes(track.have_last ? track.last.rss_bytes : MV_NA,
                            rss, sizeof rss);
            mv__human_bytes(track.have_last ? track.last.effective_limit_bytes
                                            : MV_NA, lim, sizeof lim);
            mv_oom_kill v;
            if (cli_agent_victim(&a, &v)) {
                /* the kernel's own report: who, and its memory at the kill */
                char anon[32], file[32], shmem[32], count[96] = "";
                mv__human_bytes(v.anon_rss_bytes, anon, sizeof anon);
                mv__human_bytes(v.file_rss_bytes, file, sizeof file);
                mv__human_bytes(v.shmem_rss_bytes, shmem, sizeof shmem);
                if (rose)
                    snprintf(count, sizeof count, ", oom_kill %lld -> %lld",
                             (long long)track.oom_kill_base,
                             (long long)track.oom_kill_last);
                fprintf(stderr, "memvigil: %s was killed by the kernel OOM "
                        "killer: pid %d (%s) at anon-rss %s, file-rss %s, "
                        "shmem-rss %s (%s OOM, cgroup %s%s); limit %s\n",
                        argv[first], (int)v.pid, v.comm, anon, file, shmem,
                        mv_oom_constraint_name(v.constraint),
                        v.task_cgroup[0] ? v.task_cgroup : track.path, count,
                        lim);
            } else if (rose)
                fprintf(stderr, "memvigil: %s was killed by the kernel OOM "
                        "killer (cgroup %s oom_kill %lld -> %lld); last: rss "
                        "%s, limit %s\n", argv[first], track.path,
                        (long long)track.oom_kill_base,
                        (long long)track.oom_kill_last, rss, lim);
            else
                fprintf(stderr, "memvigil: %s was killed by SIGKILL at level "
                        "critical, most likely by the kernel OOM killer; "
                        "last: rss %s, limit %s\n", argv[first], rss, lim);
            rc = CLI_EXIT_OOM;
        } else if (rose) {
            fprintf(stderr, "memvigil: note: the kernel OOM killer killed "
                    "%lld process(es) in cgroup %s during the run\n",
                    (long long)(track.oom_kill_last - track.oom_kill_base),
                    track.path);
        }
    }
    if (WIFSIGNALED(status) && rc != CLI_EXIT_OOM && !o.quiet)
        fprintf(stderr, "memvigil: %s was killed by signal %d (%s)\n",
                argv[first], WTERMSIG(status), strsignal(WTERMSIG(status)));

    cli_agent_release(&a);
    cli_heapwatch_release(&hw);
    free(cmdline);
    return rc;
}
