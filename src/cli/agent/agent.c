/*
 * agent.c — what `run` and `watch` share: the common options, starting the
 * monitor (with the metrics endpoint on by default, like an exporter), the
 * event lines and periodic status lines on stdout, and --on-alert hooks.
 *
 * Design:
 *  - Events arrive on the monitor's sampler thread. Each is formatted into
 *    one buffer and written with a single stdio call, so event lines and the
 *    main thread's status lines never interleave mid-line.
 *  - --on-alert must not block the sampler: the hook is started with a
 *    double fork. The sampler waits only for the short-lived intermediate
 *    child (which forks the hook and exits at once); the hook itself is
 *    reparented to init. Everything the grandchild needs (argv, envp, the
 *    error message) is built before fork(), because after fork() in a
 *    threaded process only async-signal-safe calls are allowed.
 *  - Status lines: every 10 s on a terminal, every 60 s otherwise (logs get
 *    events plus a heartbeat), never with --quiet; never more often than the
 *    sampling interval.
 *  - On a terminal (not --quiet, --no-tty, --json, TERM=dumb, nor
 *    --event-log - onto the same terminal) the status lines give way to the
 *    live view of tty.c: it is redrawn at every tick and event lines go
 *    through it, printed above the view.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "record.h"
#include "sample_json.h"
#include "tty.h"
#include "util.h"

extern char **environ;

#define STATUS_TTY_MS 10000
#define STATUS_PIPE_MS 60000

const char cli_agent_options_help[] =
    "Common options (run and watch):\n"
    "  --interval DURATION   sampling interval: 500ms, 1s, 10s (default 10s,\n"
    "                        minimum 100ms)\n"
    "  --listen ADDR         serve /metrics on ADDR (default " CLI_DEFAULT_LISTEN ";\n"
    "                        'none' disables; port 0 picks a free port; the URL\n"
    "                        is printed on stderr)\n"
    "  --token TOKEN         require 'Authorization: Bearer TOKEN' on the endpoint\n"
    "  --record FILE         write a JSON Lines recording (header, samples, events)\n"
    "  --record-max-size SIZE  start a new FILE when the next line would take\n"
    "                        it past SIZE: FILE -> FILE.1 -> FILE.2 ... (64K,\n"
    "                        8M, 1G; default 64M, minimum 1K)\n"
    "  --record-keep N       files kept, FILE included: the oldest beyond N is\n"
    "                        removed (default 4 = FILE + FILE.1..FILE.3)\n"
    "  --event-log FILE|-    append events as JSON lines to FILE ('-' = stderr)\n"
    "  --event-log-max-size SIZE, --event-log-keep N\n"
    "                        the same rotation for the event log (defaults 64M, 4)\n"
    "  --warning RATIO       warning level at this usage ratio (default 0.8)\n"
    "  --critical RATIO      critical level at this usage ratio (default 0.9)\n"
    "  --limit BYTES         the target's memory budget (512M, 2G) when the\n"
    "                        kernel's limit is unseen or looser: the effective\n"
    "                        limit (levels, usage ratio, time to limit) is the\n"
    "                        tightest of BYTES, the cgroup memory.max/memory.high\n"
    "                        (ancestors included) and MemTotal, a tie keeping the\n"
    "                        kernel's; BYTES is compared with RSS (the working set\n"
    "                        for --cgroup). \"limit_source\" in the JSON status\n"
    "                        names the one in force (\"config\" for BYTES)\n"
    "  --kmsg FILE|none      the kernel log read for OOM-kill reports, so an\n"
    "                        oom_kill event names the victim (pid, command,\n"
    "                        its memory at the kill); default /dev/kmsg (needs\n"
    "                        root or CAP_SYSLOG; without it kills are counted\n"
    "                        from the cgroup's memory.events only); 'none' off\n"
    CLI_LEAK_MIN_RISE_HELP
    CLI_OOM_RISK_HORIZON_HELP
    CLI_ALLOC_WINDOW_HELP
    "  --smaps-rollup        also read smaps_rollup (PSS; costs the target's mmap\n"
    "                        lock, skipped above 64 GiB mapped)\n"
    "  --on-alert PROGRAM    run PROGRAM (no shell, no arguments) on alerting\n"
    "                        events: level changes to warning or critical, growth,\n"
    "                        oom_kill, oom_risk, swap_growing, target_exit;\n"
    "                        details in MEMVIGIL_* environment variables\n"
    "                        (see docs/cli.md)\n"
    "  --quiet               no periodic status lines (events are still printed)\n"
    "  --duration DURATION   stop after this long\n"
    "  --json                print events and status lines as JSON objects\n"
    "  --cpu-budget RATIO    CPU share the sampler may use before it samples\n"
    "                        less often (default 0.01 = 1%)\n"
    "  --no-tty              plain event and status lines even on a terminal\n"
    "                        (default there: a live view redrawn in place)\n"
    "  -h, --help            this help\n";

/* ---- options ---------------------------------------------------------- */

void cli_agent_opts_init(cli_agent_opts *o)
{
    memset(o, 0, sizeof *o);
    o->interval_ms = 10000;
    o->listen = CLI_DEFAULT_LISTEN;
    o->listen_is_default = 1;
    o->warning = 0.80;
    o->critical = 0.90;
}

int cli_agent_opts_parse(cli_agent_opts *o, const char *cmd, int c,
                         const char *arg)
{
    switch (c) {
    case CLI_OPT_INTERVAL:
        if (cli_parse_duration_ms(arg, &o->interval_ms) != 0)
            return cli_usage_error(cmd, "bad --interval '%s': expected a "
                                   "duration such as 500ms, 1s or 10s", arg);
        if (o->interval_ms < 100)
            return cli_usage_error(cmd, "--interval %s is too short: the "
                                   "minimum is 100ms", arg);
        return 1;
    case CLI_OPT_LISTEN:
        if (strcmp(arg, "none") == 0 || *arg == '\0') {
            o->listen = NULL;
        } else {
            char host[256];
            int port;
            if (mv__http_parse_listen(arg, host, sizeof host, &port) != 0)
                return cli_usage_error(cmd, "bad --listen '%s': expected "
                                       "HOST:PORT, :PORT or none", arg);
            o->listen = arg;
        }
        o->listen_is_default = 0;
        return 1;
    case CLI_OPT_TOKEN:
        if (*arg == '\0')
            return cli_usage_error(cmd, "--token must not be empty");
        o->token = arg;
        return 1;
    case CLI_OPT_RECORD:
        o->record = arg;
        return 1;
    case CLI_OPT_EVENT_LOG:
        o->event_log = arg;
        return 1;
    case CLI_OPT_WARNING:
        if (cli_parse_ratio(arg, &o->warning) != 0)
            return cli_usage_error(cmd, "bad --warning '%s': expected a ratio "
                                   "in (0, 1] such as 0.8 or 80%%", arg);
        return 1;
    case CLI_OPT_CRITICAL:
        if (cli_parse_ratio(arg, &o->critical) != 0)
            return cli_usage_error(cmd, "bad --critical '%s': expected a ratio "
                                   "in (0, 1] such as 0.9 or 90%%", arg);
        return 1;
    case CLI_OPT_SMAPS:
        o->smaps_rollup = 1;
        return 1;
    case CLI_OPT_ON_ALERT:
        if (*arg == '\0')
            return cli_usage_error(cmd, "--on-alert needs a program");
        o->on_alert = arg;
        return 1;
    case CLI_OPT_QUIET:
        o->quiet = 1;
        return 1;
    case CLI_OPT_DURATION:
        if (cli_parse_duration_ms(arg, &o->duration_ms) != 0 ||
            o->duration_ms <= 0)
            return cli_usage_error(cmd, "bad --duration '%s': expected a "
                                   "duration such as 30s, 5m or 1h", arg);
        return 1;
    case CLI_OPT_JSON:
        o->json = 1;
        return 1;
    case CLI_OPT_NO_TTY:
        o->no_tty = 1;
        return 1;
    case CLI_OPT_RECORD_MAX_SIZE:
    case CLI_OPT_EVENT_LOG_MAX_SIZE: {
        int64_t v;
        const char *name = c == CLI_OPT_RECORD_MAX_SIZE ? "--record-max-size"
                                                        : "--event-log-max-size";
        if (mv__parse_size(arg, &v) != 0 || v < MV_RECORD_MIN_MAX_BYTES)
            return cli_usage_error(cmd, "bad %s '%s': expected a size of at "
                                   "least 1K such as 8M or 1G", name, arg);
        if (c == CLI_OPT_RECORD_MAX_SIZE)
            o->record_max_bytes = v;
        else
            o->event_log_max_bytes = v;
        return 1;
    }
    case CLI_OPT_RECORD_KEEP:
    case CLI_OPT_EVENT_LOG_KEEP: {
        int32_t v;
        const char *name = c == CLI_OPT_RECORD_KEEP ? "--record-keep"
                                                    : "--event-log-keep";
        if (cli_parse_pid(arg, &v) != 0 /* a decimal > 0 */ ||
            v > MV_RECORD_MAX_KEEP)
            return cli_usage_error(cmd, "bad %s '%s': expected a number of "
                                   "files from 1 to %d", name, arg,
                                   MV_RECORD_MAX_KEEP);
        if (c == CLI_OPT_RECORD_KEEP)
            o->record_keep = v;
        else
            o->event_log_keep = v;
        return 1;
    }
    case CLI_OPT_LIMIT:
        if (mv__parse_size(arg, &o->limit_bytes) != 0 || o->limit_bytes <= 0)
            return cli_usage_error(cmd, "bad --limit '%s': expected a size "
                                   "such as 512M or 2G", arg);
        return 1;
    case CLI_OPT_KMSG:
        if (!arg[0])
            return cli_usage_error(cmd, "bad --kmsg '': expected a file or "
                                   "'none'");
        o->kmsg = strcmp(arg, "none") == 0 ? "" : arg;
        return 1;
    case CLI_OPT_LEAK_MIN_RISE:
        if (cli_parse_leak_min_rise(cmd, arg, &o->leak_min_rise_ms) != 0)
            return CLI_EXIT_USAGE;
        return 1;
    case CLI_OPT_OOM_RISK_HORIZON:
        if (cli_parse_oom_risk_horizon(cmd, arg, &o->oom_risk_horizon_ms) != 0)
            return CLI_EXIT_USAGE;
        return 1;
    case CLI_OPT_ALLOC_WINDOW:
        if (cli_parse_alloc_window(cmd, arg, &o->alloc_window_ms) != 0)
            return CLI_EXIT_USAGE;
        return 1;
    case CLI_OPT_CPU_BUDGET:
        if (cli_parse_ratio(arg, &o->cpu_budget) != 0)
            return cli_usage_error(cmd, "bad --cpu-budget '%s': expected a "
                                   "ratio in (0, 1] such as 0.01 or 1%%", arg);
        return 1;
    default:
        return 0;
    }
}

/* Checks that a file the library will write can be created, so that an
 * error names the file instead of surfacing as a vague start failure. */
static int check_writable(const char *cmd, const char *what, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    if (fd < 0) {
        cli_error(cmd, "cannot write %s '%s': %s", what, path, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    close(fd);
    return 0;
}

int cli_agent_opts_check(cli_agent_opts *o, const char *cmd)
{
    int rc;

    if (o->warning >= o->critical)
        return cli_usage_error(cmd, "--warning (%g) must be below --critical "
                               "(%g)", o->warning, o->critical);
    if (o->on_alert && strchr(o->on_alert, '/') &&
        access(o->on_alert, X_OK) != 0) {
        cli_error(cmd, "--on-alert program '%s' is not executable: %s",
                  o->on_alert, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (o->record && (rc = check_writable(cmd, "recording", o->record)) != 0)
        return rc;
    if (o->event_log && strcmp(o->event_log, "-") != 0 &&
        (rc = check_writable(cmd, "event log", o->event_log)) != 0)
        return rc;
    return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

void cli_agent_init(cli_agent *a, const cli_agent_opts *o, const char *cmd)
{
    memset(a, 0, sizeof *a);
    a->opts = o;
    a->cmd = cmd;
    a->stdout_tty = isatty(STDOUT_FILENO);
    if (o->quiet) {
        a->status_every_ms = 0;
    } else {
        a->status_every_ms = a->stdout_tty ? STATUS_TTY_MS : STATUS_PIPE_MS;
        if (a->status_every_ms < o->interval_ms)
            a->status_every_ms = o->interval_ms;
    }
    if (cli_tty_wanted(STDOUT_FILENO, o->quiet, o->no_tty, o->json) &&
        !(o->event_log && strcmp(o->event_log, "-") == 0 &&
          isatty(STDERR_FILENO)) &&
        (a->tty = malloc(sizeof *a->tty)) != NULL) {
        cli_tty_init(a->tty, STDOUT_FILENO, cmd);
        a->status_every_ms = 0; /* the view shows the status */
    }
    a->next_status_ms = mv__now_mono_ms() + a->status_every_ms;
    pthread_mutex_init(&a->lock, NULL);
    a->level = MV_LEVEL_OK;
    a->max_level = MV_LEVEL_OK;
}

void cli_agent_release(cli_agent *a)
{
    if (a->tty) {
        cli_tty_finish(a->tty, NULL);
        cli_tty_release(a->tty);
        free(a->tty);
        a->tty = NULL;
    }
    pthread_mutex_destroy(&a->lock);
}

void cli_agent_config(cli_agent *a, mv_config *cfg)
{
    const cli_agent_opts *o = a->opts;

    cfg->interval_ms = o->interval_ms;
    cfg->warning_ratio = o->warning;
    cfg->critical_ratio = o->critical;
    cfg->limit_bytes = o->limit_bytes;
    cfg->leak_min_rise_ms = o->leak_min_rise_ms;
    cfg->oom_risk_horizon_ms = o->oom_risk_horizon_ms;
    cfg->alloc_window_ms = o->alloc_window_ms;
    cfg->kmsg_path = o->kmsg ? o->kmsg : "/dev/kmsg";  /* the agent's default */
    /* The library wants the hysteresis below the warning threshold; keep
     * its default unless a tiny --warning (tests, demos) needs less. */
    if (cfg->hysteresis_ratio >= o->warning / 2)
        cfg->hysteresis_ratio = o->warning / 2;
    cfg->smaps_rollup = o->smaps_rollup;
    if (o->cpu_budget > 0)
        cfg->cpu_budget = o->cpu_budget;
    cfg->http_listen = o->listen;
    cfg->http_token = o->token;
    cfg->record_path = o->record;
    cfg->record_max_bytes = o->record_max_bytes;
    cfg->record_keep = o->record_keep;
    cfg->event_log = o->event_log;
    cfg->event_log_max_bytes = o->event_log_max_bytes;
    cfg->event_log_keep = o->event_log_keep;
    cfg->on_event = cli_agent_on_event;
    cfg->userdata = a;
}

int cli_agent_start(cli_agent *a, mv_config *cfg, mv_monitor **out)
{
    int rc = mv_monitor_start(cfg, out);

    if (rc == -EADDRINUSE && a->opts->listen_is_default) {
        cli_error(a->cmd, "%s is in use; no metrics endpoint (pick one with "
                  "--listen ADDR)", cfg->http_listen);
        cfg->http_listen = NULL;
        rc = mv_monitor_start(cfg, out);
    }
    if (rc != 0)
        return rc;
    if (cfg->http_listen) {
        char host[256];
        int port = 0;
        int bound = mv_monitor_http_port(*out);

        if (mv__http_parse_listen(cfg->http_listen, host, sizeof host,
                                  &port) != 0)
            mv__strlcpy(host, "127.0.0.1", sizeof host);
        if (bound > 0)
            port = bound;
        fprintf(stderr, "memvigil %s: metrics at http://%s%s%s:%d/metrics\n",
                a->cmd, strchr(host, ':') ? "[" : "", host,
                strchr(host, ':') ? "]" : "", port);
    }
    return 0;
}

/* ---- events ----------------------------------------------------------- */

/* Whether this event runs the --on-alert program. */
static int is_alerting(const mv_event *ev)
{
    switch (ev->kind) {
    case MV_EVENT_LEVEL:
        return ev->level == MV_LEVEL_WARNING || ev->level == MV_LEVEL_CRITICAL;
    case MV_EVENT_GROWTH:
    case MV_EVENT_OOM_KILL:
    case MV_EVENT_OOM_RISK: /* the urgency claim: what pages */
    case MV_EVENT_SWAP_GROWING:
    case MV_EVENT_TARGET_EXIT:
        return 1;
    default:
        return 0;
    }
}

static void fmt_int(char *out, size_t n, int64_t v)
{
    if (v == MV_NA)
        out[0] = '\0';
    else if (v == MV_UNLIMITED)
        snprintf(out, n, "unlimited");
    else
        snprintf(out, n, "%lld", (long long)v);
}

static void fmt_double(char *out, size_t n, double v, int decimals)
{
    if (isnan(v))
        out[0] = '\0';
    else if (isinf(v))
        snprintf(out, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(out, n, "%.*f", decimals, v);
}

#define HOOK_VARS 10

/* Starts the --on-alert program for ev without waiting for it. */
static void run_hook(cli_agent *a, const mv_event *ev)
{
    const char *prog = a->opts->on_alert;
    const mv_sample *s = ev->sample;
    char vars[HOOK_VARS][400];
    char num[64];
    char errmsg[300];
    char *argv[2];
    char **envp;
    size_t nenv = 0, i, k = 0;
    sigset_t empty;
    struct sigaction dfl;
    pid_t pid;
    int st;

    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_EVENT=%s",
             mv_event_kind_name(ev->kind));
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_LEVEL=%s",
             mv_level_name(ev->level));
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_MESSAGE=%s", ev->message);
    fmt_int(num, sizeof num, s ? s->rss_bytes : MV_NA);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_RSS_BYTES=%s", num);
    fmt_int(num, sizeof num, s ? s->private_bytes : MV_NA);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_PRIVATE_BYTES=%s", num);
    fmt_int(num, sizeof num, s ? s->effective_limit_bytes : MV_NA);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_LIMIT_BYTES=%s", num);
    fmt_double(num, sizeof num, s ? s->usage_ratio : NAN, 4);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_RATIO=%s", num);
    fmt_double(num, sizeof num, ev->growth_bytes_per_s, 0);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_GROWTH_BYTES_PER_SECOND=%s",
             num);
    fmt_double(num, sizeof num, ev->time_to_limit_s, 0);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_TIME_TO_LIMIT_SECONDS=%s",
             num);
    fmt_int(num, sizeof num, s ? (int64_t)s->pid : MV_NA);
    snprintf(vars[k++], sizeof vars[0], "MEMVIGIL_PID=%s", num);

    while (environ && environ[nenv])
        nenv++;
    envp = calloc(nenv + HOOK_VARS + 1, sizeof *envp);
    if (!envp) {
        cli_error(a->cmd, "--on-alert: out of memory");
        return;
    }
    /* the inherited environment minus MEMVIGIL_*, then our variables */
    {
        size_t w = 0;
        for (i = 0; i < nenv; i++)
            if (strncmp(environ[i], "MEMVIGIL_", 9) != 0)
                envp[w++] = environ[i];
        for (i = 0; i < HOOK_VARS; i++)
            envp[w++] = vars[i];
        envp[w] = NULL;
    }
    argv[0] = (char *)prog;
    argv[1] = NULL;
    snprintf(errmsg, sizeof errmsg,
             "memvigil %s: --on-alert: cannot execute '%s'\n", a->cmd, prog);
    sigemptyset(&empty);
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;

    pid = fork();
    if (pid < 0) {
        cli_error(a->cmd, "--on-alert: fork failed: %s", strerror(errno));
        free(envp);
        return;
    }
    if (pid == 0) {
        /* intermediate: only async-signal-safe calls from here */
        pid_t g = fork();
        if (g != 0)
            _exit(g < 0 ? 1 : 0);
        sigaction(SIGPIPE, &dfl, NULL); /* memvigil ignores it; hooks don't */
        sigprocmask(SIG_SETMASK, &empty, NULL);
        close_range(3, ~0U, 0);
        execvpe(prog, argv, envp);
        if (write(STDERR_FILENO, errmsg, strlen(errmsg)) < 0) {
            /* nothing more to do */
        }
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    free(envp);
}

/* A recording that cannot be written (a full disk) is said on stderr as
 * well, once when lines begin to be lost and once when they are written
 * again (the monitor raises each event once per spell): stdout may be a log
 * nobody reads. Not while the live view owns a terminal that stderr shares:
 * the line would be drawn over, and the view lists the event itself. */
static void say_recording(cli_agent *a, const mv_event *ev)
{
    if (ev->kind != MV_EVENT_RECORDING_FAILED &&
        ev->kind != MV_EVENT_RECORDING_RESUMED)
        return;
    if (a->tty && isatty(STDERR_FILENO))
        return;
    /* one stdio call: not split by another thread's stderr line */
    fprintf(stderr, "memvigil %s: %s%s\n", a->cmd,
            ev->kind == MV_EVENT_RECORDING_FAILED ? "warning: " : "",
            ev->message);
}

void cli_agent_on_event(const mv_event *ev, void *userdata)
{
    cli_agent *a = userdata;
    mv_event copy;
    mv_buf line = {0};
    char ts[40];

    if (ev->message[0] == '\0') {
        copy = *ev;
        mv__event_describe(&copy);
        ev = &copy;
    }
    pthread_mutex_lock(&a->lock);
    if (ev->kind == MV_EVENT_TARGET_EXIT || ev->kind == MV_EVENT_PID_REUSE)
        a->target_gone = 1;
    if (ev->kind == MV_EVENT_PID_REUSE)
        a->pid_reused = 1;
    if (ev->kind == MV_EVENT_OOM_KILL)
        a->oom_kill_events++;
    if (ev->kind == MV_EVENT_OOM_KILL && ev->oom_kill) {
        a->victim = *ev->oom_kill;
        a->have_victim = 1;
    }
    if (ev->kind == MV_EVENT_LEVEL || ev->kind == MV_EVENT_STARTED)
        a->level = ev->level;
    if (ev->kind == MV_EVENT_FRAGMENTATION) /* the message names which */
        a->alloc_diag = strncmp(ev->message, "retention", 9) == 0
                            ? "retention" : "fragmentation";
    if (ev->kind == MV_EVENT_FRAGMENTATION_CLEARED)
        a->alloc_diag = NULL;
    if (ev->level > a->max_level)
        a->max_level = ev->level;
    pthread_mutex_unlock(&a->lock);

    if (a->opts->json) {
        if (mv__event_to_json(ev, &line) == 0 &&
            mv__buf_append(&line, "\n", 1) == 0)
            fputs(line.data, stdout);
    } else {
        cli_format_time(ev->timestamp_ms, ts, sizeof ts);
        if (mv__buf_printf(&line, "%s %-8s %s\n", ts,
                           mv_level_name(ev->level), ev->message) == 0) {
            if (a->tty)
                cli_tty_event(a->tty, ev, line.data);
            else
                fputs(line.data, stdout);
        }
    }
    fflush(stdout);
    mv_buf_release(&line);
    say_recording(a, ev);

    if (a->opts->on_alert && is_alerting(ev))
        run_hook(a, ev);
}

/* ---- status lines ----------------------------------------------------- */

/* The allocator's part of a text status line, where there are allocator
 * figures (run --heap): " heap in use X free inside Y" and the diagnosis
 * in force, " (fragmentation)". */
static int status_alloc_text(cli_agent *a, const mv_sample *s, mv_buf *line)
{
    char in_use[32], free_b[32];
    const char *diag;

    pthread_mutex_lock(&a->lock);
    diag = a->alloc_diag;
    pthread_mutex_unlock(&a->lock);
    if (s->alloc_kind == 0)
        return 0;
    mv__human_bytes(s->alloc_in_use_bytes, in_use, sizeof in_use);
    mv__human_bytes(s->alloc_free_bytes, free_b, sizeof free_b);
    return mv__buf_printf(line, " heap in use %s free inside %s%s%s%s",
                          in_use, free_b, diag ? " (" : "", diag ? diag : "",
                          diag ? ")" : "");
}

void cli_agent_print_status(cli_agent *a, const mv_status *st)
{
    const mv_sample *s = &st->sample;
    mv_buf line = {0};
    char ts[40], rss[32], anon[32], priv[32], lim[32], gr[64], eta[40];
    double g = st->growth_bytes_per_s;
    int rc;

    int64_t when = s->timestamp_ms > 0 ? s->timestamp_ms : mv__now_wall_ms();

    cli_format_time(when, ts, sizeof ts);
    if (a->opts->json) {
        /* the event lines' shape: line time, then the sample's short set by
         * the table's names (sample_json.h) */
        rc = mv__buf_puts(&line, "{");
        rc = rc ? rc : mv__json_line_time(&line, when);
        rc = rc ? rc : mv__buf_printf(&line, ",\"event\":\"status\",\"level\":\"%s\""
                                      ",\"pid\":%d", mv_level_name(st->level),
                                      (int)s->pid);
        rc = rc ? rc : mv__sample_json_fields(&line, s,
                                              MV__SJ_REC | MV__SJ_NO_TIMESTAMP);
        rc = rc ? rc : mv__buf_puts(&line, ",\"growth_bytes_per_second\":");
        rc = rc ? rc : mv__json_double(&line, g);
        rc = rc ? rc : mv__buf_puts(&line, ",\"time_to_limit_seconds\":");
        rc = rc ? rc : mv__json_double(&line, st->time_to_limit_s);
        if (rc == 0 && isinf(st->time_to_limit_s))
            rc = mv__buf_puts(&line, ",\"time_to_limit_infinite\":true");
        rc = rc ? rc : mv__buf_puts(&line, "}\n");
    } else {
        mv__human_bytes(s->rss_bytes, rss, sizeof rss);
        mv__human_bytes(s->rss_anon_bytes, anon, sizeof anon);
        mv__human_bytes(s->private_bytes, priv, sizeof priv);
        mv__human_bytes(s->effective_limit_bytes, lim, sizeof lim);
        tty_format_growth(g, gr, sizeof gr);
        mv__human_eta(st->time_to_limit_s, eta, sizeof eta);
        rc = mv__buf_printf(&line, "%s %-8s rss %s (anon %s) private %s "
                            "limit %s ratio ", ts, "status", rss, anon, priv,
                            lim);
        if (rc == 0 && isnan(s->usage_ratio))
            rc = mv__buf_puts(&line, "n/a");
        else if (rc == 0)
            rc = mv__buf_printf(&line, "%.2f", s->usage_ratio);
        if (rc == 0)
            rc = mv__buf_printf(&line, " growth %s eta %s", gr, eta);
        if (rc == 0)
            rc = status_alloc_text(a, s, &line);
        if (rc == 0)
            rc = mv__buf_puts(&line, "\n");
    }
    if (rc == 0) {
        fputs(line.data, stdout);
        fflush(stdout);
    }
    mv_buf_release(&line);
}

void cli_agent_tick(cli_agent *a, mv_monitor *m)
{
    mv_status st;
    int64_t now = mv__now_mono_ms();

    if (a->tty) {
        if (mv_monitor_status(m, &st) == 0)
            cli_tty_update(a->tty, &st);
        return;
    }
    if (a->status_every_ms <= 0 || now < a->next_status_ms)
        return;
    a->next_status_ms = now + a->status_every_ms;
    if (mv_monitor_status(m, &st) == 0 && st.samples_taken > 0)
        cli_agent_print_status(a, &st);
}

void cli_agent_view_finish(cli_agent *a, mv_monitor *m)
{
    mv_status st;

    if (!a->tty)
        return;
    if (m && mv_monitor_status(m, &st) == 0)
        cli_tty_finish(a->tty, &st);
    else
        cli_tty_finish(a->tty, NULL);
}

void cli_agent_flags(cli_agent *a, int *target_gone, int *pid_reused,
                     int64_t *oom_kill_events, mv_level *max_level)
{
    pthread_mutex_lock(&a->lock);
    if (target_gone)
        *target_gone = a->target_gone;
    if (pid_reused)
        *pid_reused = a->pid_reused;
    if (oom_kill_events)
        *oom_kill_events = a->oom_kill_events;
    if (max_level)
        *max_level = a->max_level;
    pthread_mutex_unlock(&a->lock);
}

int64_t cli_agent_poll_ms(const cli_agent *a)
{
    return a->opts->interval_ms < 1000 ? a->opts->interval_ms : 1000;
}

int cli_agent_victim(cli_agent *a, mv_oom_kill *out)
{
    pthread_mutex_lock(&a->lock);
    int have = a->have_victim;
    if (have)
        *out = a->victim;
    pthread_mutex_unlock(&a->lock);
    return have;
}
