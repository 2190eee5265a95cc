/*
 * bench_http_server.c — the target for the exporter load tests: a process
 * embedding a monitor with the HTTP endpoint on, holding ~200 application
 * series (gauges of 4 components, a few operation histograms, progress
 * counters), as a mid-sized service would. It serves until SIGTERM/SIGINT
 * or --seconds elapse. bench/run-all.sh points wrk and bench_http_rate at it.
 *
 * SIGTERM/SIGINT are blocked before the monitor starts (its threads inherit
 * the mask) and collected with sigtimedwait, so no signal handler and no
 * global flag are needed.
 *
 * Usage: bench_http_server --listen HOST:PORT [--seconds S] [--series N]
 *                          [--interval-ms MS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "memvigil.h"

int main(int argc, char **argv)
{
    const char *listen = NULL;
    int seconds = 0, nseries = 200;
    int64_t interval_ms = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--series") == 0 && i + 1 < argc)
            nseries = atoi(argv[++i]);
        else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval_ms = atoll(argv[++i]);
        else {
            listen = NULL;
            break;
        }
    }
    if (listen == NULL || nseries < 0 || seconds < 0) {
        fprintf(stderr, "usage: bench_http_server --listen HOST:PORT [--seconds S]"
                        " [--series N] [--interval-ms MS]\n");
        return 2;
    }

    sigset_t stopset;
    sigemptyset(&stopset);
    sigaddset(&stopset, SIGTERM);
    sigaddset(&stopset, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopset, NULL);

    mv_config cfg;
    mv_config_init(&cfg);
    cfg.interval_ms = interval_ms;
    cfg.http_listen = listen;
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, "bench_http_server: mv_monitor_start(%s): %s\n", listen,
                mv_strerror(rc));
        return 1;
    }

    /* ~200 series: gauges over 4 components, plus op histograms and progress */
    static const char *const components[] = { "index", "segment", "cache", "buffer" };
    int gauges = nseries > 10 ? nseries - 10 : nseries;
    for (int i = 0; i < gauges; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "collection=%d,shard=%d", i % 7, i);
        mv_gauge_set(m, components[i % 4], labels, 1048576 + (int64_t)i * 4096);
    }
    static const char *const ops[] = { "search", "insert", "compact" };
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 20; k++)
            mv_op_end(mv_op_begin(m, ops[i]));
    mv_progress_add(m, "rows", 100000);
    mv_progress_add(m, "files", 500);

    printf("# bench_http_server: serving %s with %d gauges\n", listen, gauges);
    fflush(stdout);

    struct timespec tick = { 1, 0 };
    int64_t deadline = bench_ns(CLOCK_MONOTONIC) + (int64_t)seconds * 1000000000;
    for (;;) {
        int sig = sigtimedwait(&stopset, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (seconds > 0 && bench_ns(CLOCK_MONOTONIC) >= deadline)
            break;
    }
    mv_monitor_stop(m);
    return 0;
}
