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
 * memvigil_progress_units_total, memvigil_progress_memory_per_unit_bytes,
 * memvigil_progress_units_per_second, memvigil_phase_active,
 * memvigil_series_dropped_total) in the given text format.
 * MV_FORMAT_JSON appends a JSON object value {"gauges":[...],...}. */
int mv__registry_render(mv__registry *r, mv_format fmt, mv_buf *out);

/* Details of the registry families (added by the registry module):
 *  - memvigil_operation_memory_delta_bytes buckets: le = 0 (frees and no
 *    growth), 4 KiB, 64 KiB, 1 MiB, 16 MiB, 256 MiB, 1 GiB, +Inf. In
 *    Prometheus text _sum is the signed sum of deltas. OpenMetrics forbids a
 *    negative histogram sum, so there _sum is omitted; the signed sum is also
 *    exported in both formats as the gauge
 *    memvigil_operation_memory_delta_net_bytes{operation}.
 *  - memvigil_operation_duration_seconds_total{operation}: summed durations.
 *  - Progress: memory per unit = (private bytes now - private bytes at the
 *    first call that knew them) / (units added since that call), in bytes
 *    per unit (a base unit: the metric, the status JSON's
 *    "memory_per_unit_bytes" and the recording all carry this figure);
 *    units/s = units added since the first call / seconds since it.
 *  - Rising: a checkpoint is taken each time the units since the baseline
 *    reach >= 1.1x those of the previous checkpoint; a checkpoint "rises"
 *    when memory per unit is positive and > 1.01x the previous one (1%
 *    absorbs rounding noise). Three rising checkpoints in a row report once;
 *    a checkpoint that does not rise re-arms the report. */

/* ---- changes since the last call (added for the recorder's app lines) ----
 * The sampler thread drains, once per tick, what changed since its previous
 * drain, and the recorder writes one line per change:
 *  - a gauge whose value changed (or was created), with its value; a gauge
 *    removed (set to 0) after it had been reported, with value 0;
 *  - per operation with observations since the last drain: their count,
 *    signed sum, min, max, summed duration and non-cumulative counts in the
 *    MV__REGISTRY_OP_BUCKETS delta buckets (upper bounds
 *    mv__registry_op_bound(i): 0, 4 KiB, 64 KiB, 1 MiB, 16 MiB, 256 MiB,
 *    1 GiB, +Inf) — at most one change per operation per drain;
 *  - per progress unit added to since the last drain: total units, the
 *    private bytes passed with the last add (MV_NA if unknown) and memory
 *    per unit in bytes (NAN until known).
 * Order: removals (oldest first), operations, progress, gauges. At most max
 * changes per call; the rest stay pending for the next call (operations keep
 * accumulating, nothing is lost), each family resuming round-robin where the
 * cap stopped it. *skipped = changes left pending by the cap plus removals
 * lost because more than max_series_per_family were waiting.
 * Change tracking of removals starts with the first call, so a registry
 * nobody drains keeps no journal. */
#define MV__REGISTRY_OP_BUCKETS 8

typedef enum mv__registry_kind {
    MV__REG_GAUGE, MV__REG_OP, MV__REG_PROGRESS
} mv__registry_kind;

typedef struct mv__registry_change {
    mv__registry_kind kind;
    char *name;      /* gauge component / operation / unit; owned */
    char *labels;    /* gauge: canonical "k=v,k=v" ("" if none); else NULL */
    int64_t value;   /* gauge: bytes; 0 = removed */
    /* op: observations since the previous drain */
    uint64_t count;
    int64_t sum_bytes, min_bytes, max_bytes;
    double duration_s;
    uint64_t buckets[MV__REGISTRY_OP_BUCKETS];
    /* progress */
    int64_t units;          /* cumulative */
    int64_t private_bytes;  /* at the last add; MV_NA if unknown */
    double memory_per_unit_bytes; /* bytes per unit; NAN until known */
} mv__registry_change;

/* Drains up to max changes into a new array (*out, *n; *out NULL when
 * nothing changed); free it with mv__registry_changes_free. 0, -EINVAL, or
 * -ENOMEM (the changes copied before the failure are still returned and
 * consumed; the others stay pending). */
int mv__registry_changes(mv__registry *r, size_t max,
                         mv__registry_change **out, size_t *n,
                         uint64_t *skipped);
void mv__registry_changes_free(mv__registry_change *v, size_t n);
/* Marks every gauge (with a value) and every progress unit changed, so the
 * next mv__registry_changes reports them all again (a recording that
 * rotated starts its new file with the full state). Thread-safe. */
void mv__registry_mark_all_changed(mv__registry *r);
/* Upper bound of delta bucket i (INFINITY for the last); NAN past it. */
double mv__registry_op_bound(size_t i);

/* ---- heap profiler: top growing allocation sites (memvigil run --heap) ----
 * A bounded family set by the agent from heap snapshot trends, rendered in
 * Prometheus/OpenMetrics text (not in JSON) as
 *   memvigil_heap_site_growth_bytes_per_second{site="f (file.c:12)"}
 *   memvigil_heap_site_inuse_bytes{site=...}
 * The site is the only label (no rank: a site that changes place keeps its
 * series; the order is in the values). At most MV__HEAP_SITES_MAX series
 * per family: the set is replaced whole, so stale sites disappear, and
 * cardinality never exceeds the cap. */
#define MV__HEAP_SITES_MAX 10
typedef struct mv__heap_site {
    char site[160];                 /* "function (file:line)" */
    double growth_bytes_per_second; /* trend of the site's live bytes */
    int64_t inuse_bytes;            /* live bytes in the latest snapshot */
} mv__heap_site;
/* Replaces the set with sites[0..n), rendered in that order (entries past
 * MV__HEAP_SITES_MAX are ignored; a site named twice is one series with
 * the two figures summed); n = 0 clears it. 0 or -EINVAL. */
int mv__registry_heap_sites_set(mv__registry *r, const mv__heap_site *sites,
                                size_t n);

/* ---- text exposition helpers, shared with expose.c ----
 * All append to b and return 0 or -ENOMEM. fmt is MV_FORMAT_PROMETHEUS or
 * MV_FORMAT_OPENMETRICS. Reentrant. */

/* # HELP / # TYPE (and in OpenMetrics # UNIT when unit != NULL) of a family.
 * name is the Prometheus family name; for a counter it ends in _total, which
 * OpenMetrics metadata drops. type: "gauge", "counter", "histogram", or
 * "info" (name ends in _info; OpenMetrics info family, 0.0.4 gauge). */
int mv__metric_family(mv_buf *b, mv_format fmt, const char *name,
                      const char *type, const char *unit, const char *help);
/* A sample value: integers exactly; +Inf, -Inf, NaN spelled that way;
 * other doubles in the shortest form that reads back identically. */
int mv__metric_int(mv_buf *b, int64_t v);
int mv__metric_double(mv_buf *b, double v);
/* A JSON number, or null for NAN/infinity. Shortest round-trip form. */
int mv__json_number(mv_buf *b, double v);
/* A histogram bound as an le label value, without quotes. OpenMetrics wants
 * canonical floats ("4096.0"); Prometheus text takes "4096". */
int mv__metric_le(mv_buf *b, mv_format fmt, double bound);
/* A label value with \\, \" and \n escaped, without quotes. */
int mv__metric_label_value(mv_buf *b, const char *v);
/* "name{labels} value\n"; labels may be NULL or "" (no braces then). */
int mv__metric_sample_int(mv_buf *b, const char *name, const char *labels,
                          int64_t v);
int mv__metric_sample_double(mv_buf *b, const char *name, const char *labels,
                             double v);

#endif /* MV_REGISTRY_H */
