/*
 * events.h — event helpers: names, the JSON log line, and the one-line human
 * message.
 *
 * Thread-safety: reentrant.
 */
#ifndef MV_EVENTS_H
#define MV_EVENTS_H

#include "memvigil.h"

/* Appends one JSON object (no newline) describing ev: timestamp (RFC 3339
 * UTC and ms), event, level, figures of the sample (rss, private, limit,
 * ratio), growth, time to limit, subject and message. */
int mv__event_to_json(const mv_event *ev, mv_buf *out);

/* Fills ev->message with a one-line human message for its kind and figures
 * (e.g. "level warning: working set 1.7 GiB of 2 GiB (85%)"). */
void mv__event_describe(mv_event *ev);

#endif /* MV_EVENTS_H */
