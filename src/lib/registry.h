/*
 * registry.h — the application's own memory records: component gauges with
 * labels, per-operation memory deltas (histograms), progress counters with
 * memory per unit, and phases. Bounded cardinality: at most
 * max_series_per_family series per family; extra series are dropped and
 * counted.
 *
 * Thread-safety: every function takes the registry's own mutex; any thread.
 * Ownership: the registry copies every string it is given.
 */
#ifndef MV_REGISTRY_H
#define MV_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

typedef struct mv__registry mv__registry;

/* NULL on ENOMEM. Free with mv__registry_free (NULL is a no-op). */
mv__registry *mv__registry_new(int max_series_per_family);
void mv__registry_free(mv__registry *r);

/* Validates a metric-ish name ([a-zA-Z_][a-zA-Z0-9_:.-]*, <= 128 chars). */
int mv__registry_name_ok(const char *name);

/* Component gauge; labels "k=v,k=v" or NULL; bytes 0 removes the series.
 * -EINVAL bad name/labels/negative bytes; -ENOSPC cap reached (counted). */
int mv__registry_gauge_set(mv__registry *r, const char *name,
                           const char *labels, int64_t bytes);

/* Operation memory delta observation (may be negative). */
int mv__registry_op_observe(mv__registry *r, const char *name,
                            int64_t delta_bytes, double duration_s);

/* Progress: n units of `unit` done at now_ms while the target's private
 * memory was private_bytes (MV_NA allowed). The first call per unit fixes the
 * baseline. Sets *rising = 1 (if rising != NULL) when memory per unit has
 * risen over each of the last 3 checkpoints of >= 10% more units (the
 * "memory per unit keeps rising" warning); reported once per rise. */
int mv__registry_progress_add(mv__registry *r, const char *unit, int64_t n,
                              int64_t private_bytes, int64_t now_ms,
                              int *rising);

/* Phases; begin of an active phase increments its depth. end of a phase not
 * active -> -ENOENT. */
int mv__registry_phase_begin(mv__registry *r, const char *name, int64_t now_ms);
int mv__registry_phase_end(mv__registry *r, const char *name, int64_t now_ms);
/* Number of active phases; writes their names, comma-separated, to out. */
int mv__registry_active_phases(mv__registry *r, char *out, size_t n);

/* Series dropped by the cardinality cap so far. */
int64_t mv__registry_dropped(mv__registry *r);

/* Appends the registry's families (memvigil_app_memory_bytes,
 * memvigil_operation_memory_delta_bytes, memvigil_operations_total,
 * memvigil_progress_units_total, memvigil_progress_memory_per_1000_units_bytes,
 * memvigil_progress_units_per_second, memvigil_phase_active,
 * memvigil_series_dropped_total) in the given text format.
 * MV_FORMAT_JSON appends a JSON object value {"gauges":[...],...}. */
int mv__registry_render(mv__registry *r, mv_format fmt, mv_buf *out);

#endif /* MV_REGISTRY_H */
