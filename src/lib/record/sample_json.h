/*
 * sample_json.h — the JSON form of an mv_sample's fields, read from the one
 * table of sample fields (sample_fields.h), so every JSON output names a
 * field by its mv_sample member: the status document (/api/v1/status),
 * `inspect --json`, the `--json` status and event lines, the event log.
 *
 * Values by the table's type: I64 a number or null (MV_NA); LIM a number,
 * null (MV_NA) or "max" (MV_UNLIMITED); I32 and INT a number; DBL a number
 * in its shortest round-trip form or null (NAN, infinities).
 *
 * Thread-safety: reentrant; a given mv_buf has one owner at a time.
 */
#ifndef MV_SAMPLE_JSON_H
#define MV_SAMPLE_JSON_H

#include "memvigil.h"

/* Flags of mv__sample_json_fields. */
#define MV__SJ_REC 1u          /* only the fields marked REC in the table:
                                  the short set of the one-line outputs */
#define MV__SJ_NO_TIMESTAMP 2u /* leave out timestamp_ms: the caller writes
                                  the line's own time under that key */

/* Appends ,"member":value for each table field that flags select, in the
 * table's order (each member with its leading comma, so the caller has
 * opened the object and written at least one member). 0, or -EINVAL
 * (NULL argument) or -ENOMEM; on error out is unchanged. */
int mv__sample_json_fields(mv_buf *out, const mv_sample *s, unsigned flags);

/* Appends the whole sample as one JSON object: every table field, then the
 * members that are not scalars: cgroup_path (null without a cgroup),
 * cg_psi_some, cg_psi_full, sys_psi_some, sys_psi_full
 * ({"avg10","avg60","avg300","total_us"}) and limit_source ("none",
 * "cgroup_max", "cgroup_high", "memtotal", "config"). 0, -EINVAL or
 * -ENOMEM (out unchanged). */
int mv__sample_to_json(mv_buf *out, const mv_sample *s);

/* The name of a limit source, as mv__sample_to_json writes it. Static. */
const char *mv__limit_source_name(mv_limit_source src);

/* The time of a one-line output (status and event lines): appends
 * "time":"2024-05-01T12:00:00.123Z","timestamp_ms":N — RFC 3339 UTC with
 * milliseconds, then the same instant in ms since the epoch — with no
 * leading comma (it opens the line's object). 0 or -ENOMEM (out
 * unchanged). */
int mv__json_line_time(mv_buf *out, int64_t wall_ms);

/* Appends a double as JSON: shortest form that reads back identically;
 * null for NAN and infinities. 0 or -ENOMEM. */
int mv__json_double(mv_buf *out, double v);

#endif /* MV_SAMPLE_JSON_H */
