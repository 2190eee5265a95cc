/*
 * bench_cpu_share.c — the share of one CPU the embedded sampler uses at the
 * default interval (10 s).
 *
 * At 10 s a minute holds only six ticks, too few to measure, so the monitor
 * is run at a short interval (100 ms for 20 s by default: ~200 ticks) and the
 * process's CPU time (CLOCK_PROCESS_CPUTIME_ID: every thread, so the sampler
 * thread and anything it wakes) is read before and after. An idle baseline
 * (the same process, no monitor, measured first) is subtracted; the main
 * thread only sleeps. CPU per tick = (delta - baseline) / ticks, and the share
 * at 10 s is CPU per tick / 10 s. This is conservative: any fixed per-second
 * cost of the monitor is charged to ticks, which are 100 times denser here.
 *
 * --long also runs the real default interval for --long-seconds (60) and
 * reports the share measured directly, without subtracting the baseline
 * (six ticks are within the baseline's noise), so it is an upper bound.
 *
 * As a cross-check, the monitor's own account of its sampler thread's CPU
 * (memvigil_monitor_cpu_seconds_total in its exposition) is printed per tick
 * too; it excludes wake-ups of other threads, so it is the lower figure.
 *
 * The watched target is this process (pid 0), the usual embedded case; the
 * CPU budget is raised so the monitor's self-throttling does not stretch the
 * interval during the measurement (the actual interval is checked and
 * printed).
 *
 * Target: <= 0.05 % of one CPU at 10 s.
 *
 * Usage: bench_cpu_share [--seconds S] [--interval-ms MS] [--long]
 *                        [--long-seconds S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "memvigil.h"

/* The value of the unlabelled metric `name` in m's Prometheus exposition,
 * or -1 when absent. */
static double exposed_value(mv_monitor *m, const char *name)
{
    mv_buf b;
    mv_buf_init(&b);
    double v = -1;
    if (mv_render(m, MV_FORMAT_PROMETHEUS, &b) == 0 && b.data != NULL) {
        size_t n = strlen(name);
        for (const char *p = b.data; p != NULL && *p; ) {
            if (strncmp(p, name, n) == 0 && p[n] == ' ') {
                v = strtod(p + n + 1, NULL);
                break;
            }
            p = strchr(p, '\n');
            if (p != NULL)
                p++;
        }
    }
    mv_buf_release(&b);
    return v;
}

/* Runs a monitor at interval_ms for seconds; on success sets *cpu_s (process
 * CPU seconds during the run, baseline not yet removed), *wall_s, *ticks and
 * *self_cpu_s (the monitor's own sampler-thread CPU over the run, -1 when
 * it does not expose it). */
static int run_monitor(int64_t interval_ms, int seconds, double *cpu_s,
                       double *wall_s, int64_t *ticks, int64_t *interval_seen,
                       double *self_cpu_s)
{
    mv_config cfg;
    mv_config_init(&cfg);
    cfg.pid = 0;
    cfg.interval_ms = interval_ms;
    cfg.cpu_budget = 0.5;
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, "bench_cpu_share: mv_monitor_start: %s\n", mv_strerror(rc));
        return rc;
    }
    mv_status st0, st1;
    /* let the thread reach its steady state (first sleep) before measuring */
    bench_sleep_ms(interval_ms / 2 > 50 ? 50 : interval_ms / 2);
    if ((rc = mv_monitor_status(m, &st0)) != 0) {
        mv_monitor_stop(m);
        return rc;
    }
    double self0 = exposed_value(m, "memvigil_monitor_cpu_seconds_total");
    int64_t c0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t w0 = bench_ns(CLOCK_MONOTONIC);
    bench_sleep_ms((int64_t)seconds * 1000);
    int64_t c1 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t w1 = bench_ns(CLOCK_MONOTONIC);
    rc = mv_monitor_status(m, &st1);
    double self1 = exposed_value(m, "memvigil_monitor_cpu_seconds_total");
    *self_cpu_s = (self0 >= 0 && self1 >= 0) ? self1 - self0 : -1;
    mv_monitor_stop(m);
    if (rc != 0)
        return rc;
    *cpu_s = (double)(c1 - c0) / 1e9;
    *wall_s = (double)(w1 - w0) / 1e9;
    *ticks = st1.samples_taken - st0.samples_taken;
    *interval_seen = st1.interval_ms;
    return 0;
}

int main(int argc, char **argv)
{
    int seconds = 20, long_seconds = 60, do_long = 0;
    int64_t interval_ms = 100;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval_ms = atoll(argv[++i]);
        else if (strcmp(argv[i], "--long") == 0)
            do_long = 1;
        else if (strcmp(argv[i], "--long-seconds") == 0 && i + 1 < argc)
            long_seconds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_cpu_share [--seconds S] [--interval-ms MS]"
                            " [--long] [--long-seconds S]\n");
            return 2;
        }
    }
    if (seconds < 1 || long_seconds < 1 || interval_ms < 100) {
        fprintf(stderr, "bench_cpu_share: seconds must be >= 1, interval >= 100 ms\n");
        return 2;
    }

    /* idle baseline: this process doing nothing but sleeping */
    int base_s = seconds < 5 ? seconds : 5;
    int64_t bc0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t bw0 = bench_ns(CLOCK_MONOTONIC);
    bench_sleep_ms((int64_t)base_s * 1000);
    double base_rate = (double)(bench_ns(CLOCK_PROCESS_CPUTIME_ID) - bc0) /
                       (double)(bench_ns(CLOCK_MONOTONIC) - bw0); /* CPU s per s */

    double cpu_s, wall_s, self_s;
    int64_t ticks, seen;
    if (run_monitor(interval_ms, seconds, &cpu_s, &wall_s, &ticks, &seen, &self_s) != 0)
        return 1;
    if (ticks <= 0) {
        fprintf(stderr, "bench_cpu_share: the monitor took no samples\n");
        return 1;
    }
    double mon_cpu_s = cpu_s - base_rate * wall_s;
    if (mon_cpu_s < 0)
        mon_cpu_s = 0;
    double per_tick_s = mon_cpu_s / (double)ticks;
    printf("# bench_cpu_share: %lld ticks in %.1f s at %lld ms (interval seen %lld ms),"
           " process CPU %.6f s, idle baseline %.6f s\n",
           (long long)ticks, wall_s, (long long)interval_ms, (long long)seen,
           cpu_s, base_rate * wall_s);
    bench_result("cpu_share_tick_cpu_us", per_tick_s * 1e6);
    bench_result("cpu_share_at_short_interval_pct", mon_cpu_s / wall_s * 100.0);
    bench_result("cpu_share_at_10s_pct", per_tick_s / 10.0 * 100.0);
    if (self_s >= 0)
        bench_result("cpu_share_self_reported_tick_cpu_us", self_s / (double)ticks * 1e6);

    if (do_long) {
        if (run_monitor(10000, long_seconds, &cpu_s, &wall_s, &ticks, &seen, &self_s) != 0)
            return 1;
        printf("# long run: %lld ticks in %.1f s at 10000 ms, process CPU %.6f s"
               " (baseline not subtracted), sampler thread self-reported %.6f s\n",
               (long long)ticks, wall_s, cpu_s, self_s);
        bench_result("cpu_share_long_10s_pct", cpu_s / wall_s * 100.0);
    }
    return 0;
}
