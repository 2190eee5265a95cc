/*
 * cli.h — shared pieces of the memvigil command-line tool: the subcommand
 * entry points, option parsing helpers (opts.c) and the agent that `run`
 * and `watch` share (agent.c: common options, event printing, status lines,
 * --on-alert hooks).
 *
 * Conventions: a subcommand function returns the process exit status
 * (see docs/cli.md): 0 ok, 1 runtime error, 2 usage error; `run` returns the
 * child's status (128 + signal when it died by a signal, 127/126 when it
 * could not be executed). Errors are one line on stderr, prefixed
 * "memvigil CMD: ".
 *
 * Thread-safety: everything here runs on the main thread, except
 * cli_agent_on_event(), which the monitor calls on its sampler thread; the
 * agent's shared fields are guarded by its mutex.
 */
#ifndef MV_CLI_H
#define MV_CLI_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "leak_window.h" /* MV_LEAK_MIN_RISE_H, MV_LEAK_RISK_HORIZON_H, for --help */
#include "memvigil.h"

/* Exit statuses. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CANNOT_EXEC 126
#define CLI_EXIT_NOT_FOUND 127
#define CLI_EXIT_OOM 137

/* ---- subcommands (argv[0] is the subcommand name) ---- */

int cli_cmd_run(int argc, char **argv);
int cli_cmd_watch(int argc, char **argv);
int cli_cmd_inspect(int argc, char **argv);
int cli_cmd_heap(int argc, char **argv);
/* heap --skip, run/report --heap-skip REGEX (cmd_heap.c): adds the
 * expression (cli_heap_skip_add); 0, or the usage error naming option. */
int cli_heap_skip_option(const char *cmd, const char *option,
                         const char *regex);
int cli_cmd_analyze(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
int cli_cmd_estimate(int argc, char **argv);

/* Usage texts, printed by -h/--help and `memvigil help CMD`. */
extern const char cli_run_usage[];
extern const char cli_watch_usage[];
extern const char cli_inspect_usage[];
extern const char cli_heap_usage[];
extern const char cli_analyze_usage[];
extern const char cli_report_usage[];
extern const char cli_estimate_usage[];
/* Help for the options common to run and watch. */
extern const char cli_agent_options_help[];

/* ---- opts.c: messages and value parsers ---- */

/* Prints "memvigil CMD: <message>\n" on stderr (cmd may be NULL). */
void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the usage error line plus a hint to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The usage error for what getopt_long() just refused (c is '?' or ':'):
 * names the option as typed ("-x", also from inside a cluster such as
 * "-qx", "--bogus", "--json=1" for a flag that takes no value) and says
 * whether it is unknown, needs a value or takes none. Returns
 * CLI_EXIT_USAGE. */
int cli_option_error(const char *cmd, int c, char **argv);

/* "500ms", "1s", "10s", "2m", "2min", "1h", "1.5s"; a bare number is
 * seconds. 0 or -EINVAL. */
int cli_parse_duration_ms(const char *s, int64_t *out_ms);
/* A ratio in (0, 1]: "0.8" or "80%". 0 or -EINVAL. */
int cli_parse_ratio(const char *s, double *out);
/* A decimal PID > 0. 0 or -EINVAL. */
int cli_parse_pid(const char *s, int32_t *out);
/* Formats a wall-clock time in ms as RFC 3339 UTC "2026-11-25T16:40:03Z". */
char *cli_format_time(int64_t wall_ms, char *out, size_t n);
/* Returns 1 when the process does not exist or is a zombie, else 0. */
int cli_process_gone(int32_t pid);

/* Waits up to timeout_ms for one of the (blocked) signals in set. Returns
 * the signal number (info filled) or 0 on timeout. */
int cli_wait_signal(const sigset_t *set, int64_t timeout_ms, siginfo_t *info);
/* Blocks SIGINT, SIGTERM, SIGHUP and, when want_child, SIGCHLD and SIGWINCH
 * (the live view redraws on it) on the calling thread, into *set; the mask
 * before goes to *oldmask. Call before any thread starts (see opts.c). */
void cli_block_signals(sigset_t *set, sigset_t *oldmask, int want_child);

/* ---- agent.c: what run and watch share ---- */

/* Options common to run and watch (see cli_agent_options_help). */
typedef struct cli_agent_opts {
    int64_t interval_ms;   /* --interval; default 10 s, minimum 100 ms */
    const char *listen;    /* --listen; NULL = no endpoint */
    int listen_is_default; /* listen was not given: fall back if busy */
    const char *token;     /* --token */
    const char *record;    /* --record FILE */
    const char *event_log; /* --event-log FILE|- */
    double warning;        /* --warning ratio */
    double critical;       /* --critical ratio */
    int smaps_rollup;      /* --smaps-rollup */
    const char *on_alert;  /* --on-alert PROGRAM */
    int quiet;             /* --quiet: no status lines */
    int64_t duration_ms;   /* --duration; 0 = until the target ends */
    int json;              /* --json: event/status lines as JSON */
    double cpu_budget;     /* --cpu-budget; 0 = the library's default */
    int no_tty;            /* --no-tty: plain lines even on a terminal */
    int64_t record_max_bytes;    /* --record-max-size; 0 = library default */
    int record_keep;             /* --record-keep; 0 = library default */
    int64_t event_log_max_bytes; /* --event-log-max-size; 0 = default */
    int event_log_keep;          /* --event-log-keep; 0 = default */
    int64_t limit_bytes;   /* --limit: the target's budget; 0 = none */
    const char *kmsg;      /* --kmsg FILE|none: the kernel log read for
                              OOM-kill reports; NULL = /dev/kmsg (the
                              agent's default, not the library's), "" = none */
    int64_t leak_min_rise_ms; /* --leak-min-rise; 0 = the detector's default */
    int64_t oom_risk_horizon_ms; /* --oom-risk-horizon; 0 = the detector's */
    int64_t alloc_window_ms;  /* --alloc-window; 0 = the diagnosis's default */
} cli_agent_opts;

/* Long options of the common set, for inclusion in a getopt_long table:
 * values from CLI_OPT_FIRST up. */
enum {
    CLI_OPT_FIRST = 256,
    CLI_OPT_INTERVAL = CLI_OPT_FIRST,
    CLI_OPT_LISTEN,
    CLI_OPT_TOKEN,
    CLI_OPT_RECORD,
    CLI_OPT_EVENT_LOG,
    CLI_OPT_WARNING,
    CLI_OPT_CRITICAL,
    CLI_OPT_SMAPS,
    CLI_OPT_ON_ALERT,
    CLI_OPT_QUIET,
    CLI_OPT_DURATION,
    CLI_OPT_JSON,
    CLI_OPT_CPU_BUDGET,
    CLI_OPT_NO_TTY,
    CLI_OPT_RECORD_MAX_SIZE,
    CLI_OPT_RECORD_KEEP,
    CLI_OPT_EVENT_LOG_MAX_SIZE,
    CLI_OPT_EVENT_LOG_KEEP,
    CLI_OPT_LIMIT,
    CLI_OPT_KMSG,
    CLI_OPT_LEAK_MIN_RISE,
    CLI_OPT_OOM_RISK_HORIZON,
    CLI_OPT_ALLOC_WINDOW,
    CLI_OPT_LAST
};

#define CLI_AGENT_LONG_OPTIONS                                      \
    {"limit", required_argument, NULL, CLI_OPT_LIMIT},             \
    {"kmsg", required_argument, NULL, CLI_OPT_KMSG},               \
    {"interval", required_argument, NULL, CLI_OPT_INTERVAL},       \
    {"listen", required_argument, NULL, CLI_OPT_LISTEN},           \
    {"token", required_argument, NULL, CLI_OPT_TOKEN},             \
    {"record", required_argument, NULL, CLI_OPT_RECORD},           \
    {"event-log", required_argument, NULL, CLI_OPT_EVENT_LOG},     \
    {"warning", required_argument, NULL, CLI_OPT_WARNING},         \
    {"critical", required_argument, NULL, CLI_OPT_CRITICAL},       \
    {"smaps-rollup", no_argument, NULL, CLI_OPT_SMAPS},            \
    {"on-alert", required_argument, NULL, CLI_OPT_ON_ALERT},       \
    {"quiet", no_argument, NULL, CLI_OPT_QUIET},                   \
    {"duration", required_argument, NULL, CLI_OPT_DURATION},       \
    {"json", no_argument, NULL, CLI_OPT_JSON},                     \
    {"cpu-budget", required_argument, NULL, CLI_OPT_CPU_BUDGET},   \
    {"no-tty", no_argument, NULL, CLI_OPT_NO_TTY},                 \
    {"record-max-size", required_argument, NULL, CLI_OPT_RECORD_MAX_SIZE}, \
    {"record-keep", required_argument, NULL, CLI_OPT_RECORD_KEEP},         \
    {"event-log-max-size", required_argument, NULL,                 \
     CLI_OPT_EVENT_LOG_MAX_SIZE},                                   \
    {"event-log-keep", required_argument, NULL, CLI_OPT_EVENT_LOG_KEEP}, \
    {"leak-min-rise", required_argument, NULL, CLI_OPT_LEAK_MIN_RISE}, \
    {"oom-risk-horizon", required_argument, NULL, CLI_OPT_OOM_RISK_HORIZON}, \
    {"alloc-window", required_argument, NULL, CLI_OPT_ALLOC_WINDOW}

#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)
/* The help lines of --leak-min-rise (run, watch and analyze share them,
 * so the wording lives once; the default itself is the detector's). */
#define CLI_LEAK_MIN_RISE_HELP                                              \
    "  --leak-min-rise DURATION  leak patience: memory must have been\n"     \
    "                        rising this long before the verdict is 'leak'\n" \
    "                        (30m, 6h; default " CLI_STR(MV_LEAK_MIN_RISE_H) \
    "h); a cache filling for\n"                                             \
    "                        longer looks like a leak until it caps; urgent\n" \
    "                        growth is oom_risk's, from minutes on (a rise\n" \
    "                        that has used 90% of the room to the limit is\n" \
    "                        judged without waiting)\n"
/* The help lines of --oom-risk-horizon (run, watch and analyze). */
#define CLI_OOM_RISK_HORIZON_HELP                                           \
    "  --oom-risk-horizon DURATION  the OOM-risk claim holds while, at the\n" \
    "                        current rate, the limit is less than this away\n" \
    "                        (6h, 1d; default " CLI_STR(MV_LEAK_RISK_HORIZON_H) \
    "h); it is about urgency,\n"                                            \
    "                        whatever the cause\n"
/* parse --leak-min-rise: 1 ms .. 30 days. Returns 0 or CLI_EXIT_USAGE. */
int cli_parse_leak_min_rise(const char *cmd, const char *arg, int64_t *out_ms);
/* parse --oom-risk-horizon: 1 min .. 30 days. Returns 0 or CLI_EXIT_USAGE. */
int cli_parse_oom_risk_horizon(const char *cmd, const char *arg,
                               int64_t *out_ms);

/* The help lines of --alloc-window (run, watch and analyze share them). */
#define CLI_ALLOC_WINDOW_HELP                                               \
    "  --alloc-window DURATION  how long the allocator diagnosis\n"          \
    "                        (fragmentation, retention) must hold before it\n" \
    "                        is said (default 10min, at least 1s); needs\n"  \
    "                        allocator figures (run --heap, or a recording\n" \
    "                        that has them)\n"
/* parse --alloc-window: at least 1 s (the diagnosis's floor, frag.c), at
 * most 30 days. Returns 0 or CLI_EXIT_USAGE. */
int cli_parse_alloc_window(const char *cmd, const char *arg, int64_t *out_ms);

/* Default endpoint, as a Prometheus exporter would have. */
#define CLI_DEFAULT_LISTEN "127.0.0.1:9464"

void cli_agent_opts_init(cli_agent_opts *o);
/* Handles option c (from the common set) with its argument. Returns 1 when
 * handled, 0 when c is not a common option, CLI_EXIT_USAGE (after printing
 * the error) when the value is bad. */
int cli_agent_opts_parse(cli_agent_opts *o, const char *cmd, int c,
                         const char *arg);
/* Cross-option checks after parsing (warning < critical). 0 or
 * CLI_EXIT_USAGE after printing. */
int cli_agent_opts_check(cli_agent_opts *o, const char *cmd);

/* The running agent. Initialise with cli_agent_init, release with
 * cli_agent_release (after the monitor is stopped). */
typedef struct cli_agent {
    const cli_agent_opts *opts; /* borrowed */
    const char *cmd;            /* "run" / "watch", for messages */
    int stdout_tty;             /* stdout is a terminal */
    int64_t status_every_ms;    /* period of status lines; 0 = none */
    int64_t next_status_ms;     /* monotonic deadline of the next one */

    pthread_mutex_t lock;       /* guards the fields below */
    int target_gone;            /* TARGET_EXIT or PID_REUSE seen */
    int pid_reused;             /* PID_REUSE seen */
    int64_t oom_kill_events;    /* OOM_KILL events seen */
    int have_victim;            /* an OOM_KILL event named its victim */
    mv_oom_kill victim;         /* the last one named (kernel log) */
    mv_level max_level;         /* highest level reached */
    mv_level level;             /* current level (from events) */
    const char *alloc_diag;     /* allocator diagnosis in force (from the
                                   fragmentation events): "fragmentation",
                                   "retention"; NULL none */

    struct cli_tty *tty;        /* live terminal view (tty.h); NULL when
                                   lines are plain. Owned; own lock. */
} cli_agent;

void cli_agent_init(cli_agent *a, const cli_agent_opts *o, const char *cmd);
void cli_agent_release(cli_agent *a);

/* Fills the common part of cfg from the options (interval, thresholds,
 * listen, token, record, event log, smaps, event callback). */
void cli_agent_config(cli_agent *a, mv_config *cfg);

/* Starts the monitor. When the endpoint was the default one and its port is
 * busy, warns and starts without an endpoint. Prints the metrics URL on
 * stderr when listening. On error returns the negative errno and prints
 * nothing: the caller words it (-ESRCH, -ENOENT, -EADDRINUSE...). */
int cli_agent_start(cli_agent *a, mv_config *cfg, mv_monitor **out);

/* The monitor's event callback (sampler thread): prints the event line,
 * runs --on-alert for alerting events, updates the shared flags. */
void cli_agent_on_event(const mv_event *ev, void *userdata);

/* Called by the main loop: prints a status line when one is due. */
void cli_agent_tick(cli_agent *a, mv_monitor *m);

/* Prints one status line for st now (text or JSON). */
void cli_agent_print_status(cli_agent *a, const mv_status *st);

/* Copies the shared flags under the lock. */
void cli_agent_flags(cli_agent *a, int *target_gone, int *pid_reused,
                     int64_t *oom_kill_events, mv_level *max_level);
/* The last OOM-kill victim an event named, copied to *out: 1, else 0. */
int cli_agent_victim(cli_agent *a, mv_oom_kill *out);

/* ---- watch_node.c: `watch --cgroup-root` (node mode) ---- */

/* The node-mode options of watch. */
struct cli_kubelet_opts;        /* kubelet.h */
typedef struct cli_node_opts {
    const char *root;           /* --cgroup-root PATH */
    const char *services;       /* --services GLOB; NULL = none */
    int64_t grace_ms;           /* --grace; -1 = the library's default */
    int max_containers;         /* --max-containers; 0 = the default */
    int given;                  /* a node-only option other than the root */
    const struct cli_kubelet_opts *kubelet; /* --kubelet...; borrowed */
} cli_node_opts;

/* Handles the node option number which (0 --cgroup-root, 1 --services,
 * 2 --grace, 3 --max-containers) with its argument. 0 or CLI_EXIT_USAGE
 * after printing. */
int cli_node_opts_parse(cli_node_opts *n, int which, const char *arg);
/* Runs node mode until --duration or a signal; the exit status. */
int cli_watch_node(const cli_agent_opts *o, const cli_node_opts *n);

/* Live view (tty.h; no-op without one): draws the final frame and gives
 * the screen back. Call before the closing messages; idempotent. Others may
 * print while the view is live: it has rows of its own. */
void cli_agent_view_finish(cli_agent *a, mv_monitor *m);

/* The main-loop poll period: min(interval, 1 s). */
int64_t cli_agent_poll_ms(const cli_agent *a);

#endif /* MV_CLI_H */
