/*
 * record_app.c — writes the application's own records (gauges, operation
 * deltas, progress) into a recording: once per tick, one line per thing the
 * registry says changed since the previous tick.
 *
 * Design: the registry copies the changes out under its mutex
 * (mv__registry_changes) and the lines are written after it is released, so
 * application threads calling mv_gauge_set / mv_op_end / mv_progress_add
 * never wait on disk I/O. Volume is bounded twice: an operation is one
 * aggregated line per tick (count, sum, min, max and delta-bucket counts),
 * however many calls it saw, and a tick writes at most `max` lines; the rest
 * stay pending in the registry (operations keep accumulating) and are
 * counted as skipped. Kept apart from record.c so the writer itself does not
 * depend on the registry. After a rotation every gauge and progress unit is
 * marked changed once, so a file that outlives its predecessors still says
 * what a gauge that has not moved since holds.
 */
#include <errno.h>
#include <string.h>

#include "record.h"
#include "registry.h"

_Static_assert(MV__RECORD_OP_BUCKETS == MV__REGISTRY_OP_BUCKETS,
               "one line carries the registry's buckets");

int mv__record_app_changes(mv__recorder *r, struct mv__registry *reg,
                           int64_t t_ms, size_t max)
{
    if (!r || !reg || max == 0)
        return -EINVAL;
    mv__registry_change *v = NULL;
    size_t n = 0;
    uint64_t skipped = 0;
    if (mv__recorder_take_rotated(r))
        mv__registry_mark_all_changed(reg);
    int rc = mv__registry_changes(reg, max, &v, &n, &skipped);
    mv__recorder_add_app_skipped(r, skipped);
    int written = 0;
    for (size_t i = 0; i < n; i++) {
        const mv__registry_change *c = &v[i];
        int wrc;
        if (c->kind == MV__REG_GAUGE) {
            wrc = mv__recorder_gauge(r, t_ms, c->name, c->labels, c->value);
        } else if (c->kind == MV__REG_OP) {
            mv__record_op op = {
                .name = c->name, .count = c->count, .sum_bytes = c->sum_bytes,
                .min_bytes = c->min_bytes, .max_bytes = c->max_bytes,
                .duration_s = c->duration_s,
            };
            memcpy(op.buckets, c->buckets, sizeof op.buckets);
            wrc = mv__recorder_op(r, t_ms, &op);
        } else {
            wrc = mv__recorder_progress(r, t_ms, c->name, c->units,
                                        c->private_bytes,
                                        c->memory_per_unit_bytes);
        }
        if (wrc == 0)
            written++;
        else if (rc == 0)
            rc = wrc;   /* counted as lost by the recorder; go on */
    }
    mv__registry_changes_free(v, n);
    return rc ? rc : written;
}
