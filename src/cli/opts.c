/*
 * opts.c — small helpers shared by the subcommands: one-line error
 * messages, parsers for durations, ratios and PIDs, RFC 3339 time stamps,
 * blocking the signals the main loops wait for, and waiting for one with a
 * timeout.
 *
 * Design: the CLI blocks the signals it cares about (SIGINT, SIGTERM,
 * SIGHUP, SIGCHLD) on the main thread before any library thread starts, so
 * every thread inherits the mask and the signals are taken synchronously by
 * the main loop with sigtimedwait() — no handlers, no async-signal-safety
 * puzzles, and the timeout doubles as the loop's tick.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    if (cmd)
        fprintf(stderr, "memvigil %s: ", cmd);
    else
        fputs("memvigil: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    if (cmd)
        fprintf(stderr, "memvigil %s: ", cmd);
    else
        fputs("memvigil: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, " (see 'memvigil %s --help')\n", cmd);
    else
        fputs(" (see 'memvigil --help')\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_option_error(const char *cmd, int c, char **argv)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    int is_long = word[0] == '-' && word[1] == '-';
    char shortopt[3] = {'-', (char)optopt, '\0'};

    /* an unknown or value-less short option: optopt is the letter, and
     * optind may not have moved past its cluster yet */
    if (!is_long && optopt > 0 && optopt < 128 && isalnum(optopt))
        word = shortopt;
    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", word);
    const char *eq = is_long ? strchr(word, '=') : NULL;
    if (eq && optopt != 0) /* a known flag given "=VALUE" */
        return cli_usage_error(cmd, "option '%.*s' takes no value",
                               (int)(eq - word), word);
    return cli_usage_error(cmd, "unknown option '%s'", word);
}

int cli_parse_duration_ms(const char *s, int64_t *out_ms)
{
    char *end;
    double v, mult;

    if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -EINVAL;
    if (*end == '\0' || strcmp(end, "s") == 0 || strcmp(end, "sec") == 0)
        mult = 1000.0;
    else if (strcmp(end, "ms") == 0)
        mult = 1.0;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mult = 60000.0;
    else if (strcmp(end, "h") == 0)
        mult = 3600000.0;
    else if (strcmp(end, "d") == 0)
        mult = 86400000.0;
    else
        return -EINVAL;
    v *= mult;
    if (v > 1e15)
        return -EINVAL;
    *out_ms = (int64_t)llround(v);
    return 0;
}

/* One detector setting given as a duration: --NAME ARG, from min_ms (said
 * as lo) to 30 days, e.g. ex. Returns 0 or CLI_EXIT_USAGE. */
static int parse_setting_duration(const char *cmd, const char *name,
                                  const char *arg, int64_t min_ms,
                                  const char *lo, const char *ex,
                                  int64_t *out_ms)
{
    int64_t ms;

    if (cli_parse_duration_ms(arg, &ms) != 0 || ms < min_ms ||
        ms > 30 * 86400000LL)
        return cli_usage_error(cmd, "bad --%s '%s': expected a duration "
                               "from %s to 30d such as %s", name, arg, lo, ex);
    *out_ms = ms;
    return 0;
}

int cli_parse_oom_risk_horizon(const char *cmd, const char *arg,
                               int64_t *out_ms)
{
    return parse_setting_duration(cmd, "oom-risk-horizon", arg, 60000, "1min",
                                  "6h or 1d", out_ms);
}

int cli_parse_leak_min_rise(const char *cmd, const char *arg, int64_t *out_ms)
{
    return parse_setting_duration(cmd, "leak-min-rise", arg, 1, "1ms",
                                  "30m or 6h", out_ms);
}

int cli_parse_alloc_window(const char *cmd, const char *arg, int64_t *out_ms)
{
    return parse_setting_duration(cmd, "alloc-window", arg, 1000, "1s",
                                  "3s or 10min", out_ms);
}

int cli_parse_ratio(const char *s, double *out)
{
    char *end;
    double v;

    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return -EINVAL;
    if (strcmp(end, "%") == 0)
        v /= 100.0;
    else if (*end != '\0')
        return -EINVAL;
    if (!(v > 0.0 && v <= 1.0))
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_parse_pid(const char *s, int32_t *out)
{
    char *end;
    long v;

    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v <= 0 || v > INT32_MAX)
        return -EINVAL;
    *out = (int32_t)v;
    return 0;
}

char *cli_format_time(int64_t wall_ms, char *out, size_t n)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, n, "%lld", (long long)wall_ms);
    return out;
}

int cli_process_gone(int32_t pid)
{
    char path[64], buf[512];
    FILE *f;
    const char *rp;
    size_t len;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return errno == ENOENT || errno == ESRCH;
    len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* the state follows the last ')' of the comm field */
    rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
        return 1;
    return 0;
}

int cli_wait_signal(const sigset_t *set, int64_t timeout_ms, siginfo_t *info)
{
    struct timespec ts;
    int sig;

    if (timeout_ms < 0)
        timeout_ms = 0;
    ts.tv_sec = (time_t)(timeout_ms / 1000);
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    for (;;) {
        sig = sigtimedwait(set, info, &ts);
        if (sig > 0)
            return sig;
        if (errno == EINTR)
            continue;
        return 0; /* EAGAIN: timeout */
    }
}

void cli_block_signals(sigset_t *set, sigset_t *oldmask, int want_child)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    if (want_child) {
        sigaddset(set, SIGCHLD);
        sigaddset(set, SIGWINCH);
    }
    sigprocmask(SIG_BLOCK, set, oldmask);
}
