/*
 * main.c — the `memvigil` command: a git-style table of subcommands, the
 * top-level options (--version, --help, `help CMD`), and the final check of
 * stdout write errors.
 *
 * Each subcommand lives in its own file and returns the process exit status
 * (docs/cli.md lists them). Output that could not be written (a full disk,
 * a closed pipe with SIGPIPE ignored) is an error: stdout is flushed and
 * checked before exit, so `memvigil inspect 1 > /dev/full` fails loudly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kubelet.h"

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;         /* one line for the command list */
    const char *usage;        /* full usage text */
    int agent_options;        /* append the common run/watch options */
    const char *extra;        /* more options of its own, before those; NULL */
} cli_command;

static const cli_command commands[] = {
    {"run", cli_cmd_run, "start a program and watch its memory until it exits",
     cli_run_usage, 1, NULL},
    {"watch", cli_cmd_watch, "watch running processes or a cgroup",
     cli_watch_usage, 1, cli_kubelet_options_help},
    {"inspect", cli_cmd_inspect, "one-shot diagnosis of a process's memory",
     cli_inspect_usage, 0, NULL},
    {"heap", cli_cmd_heap, "read heap snapshots: growing call sites, top, diff, folded",
     cli_heap_usage, 0, NULL},
    {"analyze", cli_cmd_analyze, "judge recorded or exported series for leaks",
     cli_analyze_usage, 0, NULL},
    {"report", cli_cmd_report, "render a recording as an HTML, Markdown, text or JSON report",
     cli_report_usage, 0, NULL},
    {"estimate", cli_cmd_estimate, "capacity planning from memory per unit of work",
     cli_estimate_usage, 0, NULL},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const cli_command *find_command(const char *name)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_help(FILE *f)
{
    size_t i;

    fputs("usage: memvigil [--version] [--help] COMMAND [ARGS...]\n"
          "\n"
          "memvigil watches the memory of Linux services: it tells a slow leak\n"
          "from normal growth, says how long until the limit, and serves\n"
          "Prometheus metrics.\n"
          "\n"
          "Options:\n"
          "  -V, --version   print the version and exit\n"
          "  -h, --help      this help\n"
          "\n"
          "Commands:\n", f);
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fputs("\n"
          "'memvigil help COMMAND' or 'memvigil COMMAND --help' shows a\n"
          "command's options.\n"
          "\n"
          "Exit status: 0 ok, 1 runtime error, 2 usage error; analyze exits\n"
          "3 when a series leaks; run exits with the program's status (128+N\n"
          "when killed by signal N, 137 when the OOM killer killed it, 127\n"
          "when it was not found).\n", f);
}

static int print_command_help(const cli_command *c)
{
    fputs(c->usage, stdout);
    if (c->extra) {
        fputs(c->extra, stdout);
        fputs("\n", stdout);
    }
    if (c->agent_options)
        fputs(cli_agent_options_help, stdout);
    return CLI_EXIT_OK;
}

/* Flushes stdout and reports a write error; returns 0 or CLI_EXIT_ERROR. */
static int check_stdout(void)
{
    int flush_failed, err;

    errno = 0;
    flush_failed = fflush(stdout) != 0;
    err = errno;
    if (flush_failed && err != 0) {
        cli_error(NULL, "error writing to standard output: %s", strerror(err));
        return CLI_EXIT_ERROR;
    }
    if (flush_failed || ferror(stdout)) {
        cli_error(NULL, "error writing to standard output (output is "
                  "incomplete)");
        return CLI_EXIT_ERROR;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const cli_command *c;
    int rc;

    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
        strcmp(argv[1], "version") == 0) {
        printf("memvigil %s\n", mv_version());
        return check_stdout();
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(stdout);
        return check_stdout();
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return check_stdout();
        }
        c = find_command(argv[2]);
        if (!c)
            return cli_usage_error(NULL, "no such command '%s'", argv[2]);
        print_command_help(c);
        return check_stdout();
    }
    if (argv[1][0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", argv[1]);
    c = find_command(argv[1]);
    if (!c)
        return cli_usage_error(NULL, "no such command '%s'", argv[1]);

    rc = c->fn(argc - 1, argv + 1);
    if (check_stdout() != 0 && rc == CLI_EXIT_OK)
        rc = CLI_EXIT_ERROR;
    return rc;
}
