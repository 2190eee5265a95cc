/*
 * events.h — event helpers: names, the JSON log line, and the one-line human
 * message.
 *
 * Thread-safety: reentrant.
 */
#ifndef MV_EVENTS_H
#define MV_EVENTS_H

#include <stdint.h>

#include "memvigil.h"

/* Appends one JSON object (no newline) describing ev: its time ("time",
 * RFC 3339 UTC, and "timestamp_ms", as every one-line output), event, level,
 * the sample's short set of fields by their table names (sample_json.h),
 * growth, time to limit, subject and message. */
int mv__event_to_json(const mv_event *ev, mv_buf *out);

/* Fills ev->message with a one-line human message for its kind and figures
 * (e.g. "level warning: working set 1.7 GiB of 2 GiB (85%)"). */
void mv__event_describe(mv_event *ev);

/* Names of the kinds and levels are mv_event_kind_name() / mv_level_name()
 * (public, implemented in events.c). */

/* Variants that know more than mv_event carries (added by the events
 * module): the OOM-kill message with the previous count ("count 1 -> 2";
 * MV_NA when unknown), and the phase message saying whether the phase
 * (ev->subject) began or ended. */
void mv__event_describe_oom(mv_event *ev, int64_t prev_count);
void mv__event_describe_phase(mv_event *ev, int began);

/* JSON shape of mv__event_to_json:
 *  {"time":"2024-05-01T12:00:00.123Z","timestamp_ms":...,
 *   "event":"level_changed","level":"warning",
 *   "prev_level":"ok" (level events only),
 *   "pid":..,"rss_bytes":..,"rss_anon_bytes":..,... every field marked REC
 *   in sample_fields.h, by its member name (timestamp_ms being the line's),
 *   "cgroup_path":"/x" (when known)   <- these only when ev->sample != NULL
 *   "growth_bytes_per_second":..,"time_to_limit_seconds":..,
 *   "time_to_limit_infinite":true (only when infinite),
 *   "subject":"..." (when set),
 *   "labels":{"namespace","pod","container","pod_uid","container_id",
 *             "qos","id"} (node mode: ev->container set),"message":"..."}
 * n/a figures are null, an unset limit "max". 0 or -ENOMEM (out unchanged). */

#endif /* MV_EVENTS_H */
