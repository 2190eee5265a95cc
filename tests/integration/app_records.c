/*
 * app_records.c — a small embedder for report_app_records.sh: records a run
 * whose progress spans several ticks with a known cost per unit, so
 * `memvigil estimate` can fit it from the recorder's progress lines.
 *
 * Each step touches STEP_BYTES of new heap, takes a sample
 * (mv_monitor_sample_now, so the private bytes passed with the progress are
 * fresh), adds 1000 units, and waits past one tick so the recorder writes a
 * progress line per step. Also one gauge and one operation per step.
 *
 * Usage: app_records FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memvigil.h"

enum { STEPS = 8, STEP_BYTES = 4 << 20 };

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: app_records FILE\n");
        return 2;
    }
    mv_config cfg;
    mv_config_init(&cfg);
    cfg.interval_ms = 100;
    cfg.record_path = argv[1];
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, "app_records: %s\n", mv_strerror(rc));
        return 1;
    }
    char *keep[STEPS];
    for (int i = 0; i < STEPS; i++) {
        mv_op *op = mv_op_begin(m, "load");
        keep[i] = malloc(STEP_BYTES);
        if (!keep[i])
            return 1;
        memset(keep[i], i + 1, STEP_BYTES);
        mv_op_end(op);
        mv_gauge_set(m, "cache", "tier=hot", (int64_t)(i + 1) * STEP_BYTES);
        mv_monitor_sample_now(m);
        mv_progress_add(m, "rows", 1000);
        struct timespec ts = {0, 250 * 1000000L};
        nanosleep(&ts, NULL);
    }
    mv_monitor_stop(m);
    for (int i = 0; i < STEPS; i++)
        free(keep[i]);
    return 0;
}
