/*
 * bench_render.c — how long a /metrics rendering takes with 10,000
 * application series.
 *
 * A monitor is started on this process (no HTTP endpoint, a long interval so
 * the sampler stays out of the way) with max_series_per_family raised to
 * 10,000, and 10,000 component gauges with two labels each are set through
 * the public API (mv_gauge_set), as a service with many segments would. Then
 * mv_render() is timed N times (200 by default) in Prometheus text and in
 * OpenMetrics; each call renders into a fresh buffer, as an HTTP handler
 * would, so buffer growth is part of the cost. Medians and p90 printed.
 *
 * Target: median <= 5 ms.
 *
 * Usage: bench_render [--series N] [--iterations N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "memvigil.h"

/* Times `iters` renderings in fmt; prints <prefix>_median_ms, _p90_ms and
 * _bytes. Returns 0 or the first mv_render error. */
static int time_render(mv_monitor *m, mv_format fmt, const char *prefix, int iters,
                       int expect_series)
{
    double *ms = calloc((size_t)iters, sizeof *ms);
    if (ms == NULL)
        return -1;
    size_t bytes = 0;
    int rc = 0;
    for (int i = 0; i < iters && rc == 0; i++) {
        mv_buf b;
        mv_buf_init(&b);
        int64_t t0 = bench_ns(CLOCK_MONOTONIC);
        rc = mv_render(m, fmt, &b);
        int64_t t1 = bench_ns(CLOCK_MONOTONIC);
        ms[i] = (double)(t1 - t0) / 1e6;
        bytes = b.len;
        if (i == 0 && rc == 0) {
            /* check the series really are in the output */
            int n = 0;
            for (const char *p = b.data; p != NULL && (p = strstr(p, "\nmemvigil_app_memory_bytes{")) != NULL; p++)
                n++;
            printf("# %s: %d app series in the output, %zu bytes\n", prefix, n, b.len);
            if (n < expect_series)
                fprintf(stderr, "bench_render: only %d of %d series rendered\n", n,
                        expect_series);
        }
        mv_buf_release(&b);
    }
    if (rc != 0) {
        fprintf(stderr, "bench_render: mv_render: %s\n", mv_strerror(rc));
    } else {
        char name[128];
        snprintf(name, sizeof name, "%s_median_ms", prefix);
        bench_result(name, bench_quantile(ms, (size_t)iters, 0.5));
        snprintf(name, sizeof name, "%s_p90_ms", prefix);
        bench_result(name, bench_quantile(ms, (size_t)iters, 0.9));
        snprintf(name, sizeof name, "%s_bytes", prefix);
        bench_result(name, (double)bytes);
    }
    free(ms);
    return rc;
}

int main(int argc, char **argv)
{
    int nseries = 10000, iters = 200;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--series") == 0 && i + 1 < argc)
            nseries = atoi(argv[++i]);
        else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
            iters = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_render [--series N] [--iterations N]\n");
            return 2;
        }
    }
    if (nseries < 1 || nseries > 1000000 || iters < 1) {
        fprintf(stderr, "bench_render: --series 1..1000000, --iterations >= 1\n");
        return 2;
    }

    mv_config cfg;
    mv_config_init(&cfg);
    cfg.interval_ms = 60000;
    cfg.max_series_per_family = nseries;
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, "bench_render: mv_monitor_start: %s\n", mv_strerror(rc));
        return 1;
    }

    /* 10,000 series: 100 collections x 100 segments, bytes varying */
    int set_errors = 0;
    int64_t t0 = bench_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < nseries; i++) {
        char labels[96];
        snprintf(labels, sizeof labels, "collection=%d,segment=%d", i / 100, i);
        int64_t bytes = 4096 + (int64_t)i * 1021;
        if (mv_gauge_set(m, "segment", labels, bytes) != 0)
            set_errors++;
    }
    int64_t t1 = bench_ns(CLOCK_MONOTONIC);
    printf("# bench_render: %d gauges set (%d errors) in %.1f ms\n", nseries,
           set_errors, (double)(t1 - t0) / 1e6);
    bench_result("gauge_set_mean_us", (double)(t1 - t0) / 1e3 / nseries);

    if (set_errors != 0 ||
        time_render(m, MV_FORMAT_PROMETHEUS, "render_10k_prometheus", iters, nseries) != 0 ||
        time_render(m, MV_FORMAT_OPENMETRICS, "render_10k_openmetrics", iters, nseries) != 0)
        rc = 1;
    mv_monitor_stop(m);
    return rc;
}
