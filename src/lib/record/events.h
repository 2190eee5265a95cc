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
/* With ev->oom_kill set the message names the victim instead: "OOM kill in
 * cgroup /x (count 0 -> 1): the kernel killed pid 123 (leaky) at anon-rss
 * 63.8 MiB, file-rss 1.2 MiB, shmem-rss 0 B, oom_score_adj 0 (limit of
 * cgroup /x)"; the count only when prev_count and the sample's are known. */

/* Appends the JSON object of one kill (no newline): {"pid","comm","uid",
 * "constraint" (mv_oom_constraint_name), "task_cgroup", "oom_cgroup",
 * "total_vm_bytes", "anon_rss_bytes", "file_rss_bytes", "shmem_rss_bytes",
 * "pgtables_bytes", "kernel_ts_us", "oom_score_adj"}; figures not printed
 * by the kernel are null. mv__event_to_json writes it as "oom_kill" when
 * ev->oom_kill is set. 0, -EINVAL or -ENOMEM (out unchanged). */
int mv__oom_kill_to_json(const mv_oom_kill *k, mv_buf *out);
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
 *             "qos","id"} (node mode: ev->container set),
 *   "oom_kill":{...} (mv__oom_kill_to_json; when ev->oom_kill is set),
 *   "message":"..."}
 * n/a figures are null, an unset limit "max". 0 or -ENOMEM (out unchanged). */

#endif /* MV_EVENTS_H */
