/*
 * record.h — JSON Lines recordings: a writer (header line, one line per
 * sample, one per event, each flushed as written) and a tolerant reader
 * (a torn final line is skipped, never fatal; a garbage line in the middle is
 * reported with its line number).
 *
 * Line shapes (one JSON object per line, "type" first):
 *  {"type":"header","version":1,"tool":"memvigil 0.1.0","command":"...",
 *   "pid":123,"host":"...","start_ms":...,"interval_ms":...,"limit_bytes":...}
 *  {"type":"sample","t_ms":...,"rss":...,"anon":...,"file":...,"shmem":...,
 *   "swap":...,"private":...,"working_set":...,"cg_usage":...,"limit":...,
 *   "ratio":...,"oom_kill":...,"level":"ok","growth_bps":...,"ttl_s":...}
 *   (MV_NA fields and NAN doubles are written as null; +/-INFINITY, e.g.
 *   ttl_s when not growing, as the strings "+Inf" / "-Inf")
 *  {"type":"event","t_ms":...,"event":"level_changed","level":"warning",
 *   "message":"..."}
 *
 * Application lines (written each tick by mv__record_app_changes for what the
 * registry says changed since the previous tick; the reader below skips them
 * as unknown types, `memvigil report` / `estimate` read them):
 *  {"type":"gauge","t_ms":...,"name":"index","labels":"k=v,k=v","value":N}
 *   (value 0: the gauge was removed)
 *  {"type":"op","t_ms":...,"name":"search","count":N,"sum_bytes":S,
 *   "min_bytes":A,"max_bytes":B,"duration_s":D,"buckets":[c0,...,c7]}
 *   (observations since the previous op line of that name; buckets are
 *   non-cumulative counts of deltas <= 0, 4 KiB, 64 KiB, 1 MiB, 16 MiB,
 *   256 MiB, 1 GiB, +Inf)
 *  {"type":"progress","t_ms":...,"unit":"rows","units":N,"private":P,
 *   "per1000":X}   (units cumulative; private/per1000 may be null)
 *
 * Thread-safety: a recorder has one owner (the monitor's thread).
 */
#ifndef MV_RECORD_H
#define MV_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memvigil.h"

#define MV_RECORD_VERSION 1

typedef struct mv__recorder mv__recorder;

typedef struct mv__record_header {
    const char *command;   /* may be NULL */
    int32_t pid;
    int64_t start_ms;
    int64_t interval_ms;
    int64_t limit_bytes;   /* MV_NA when unknown */
} mv__record_header;

/* Opens (truncates) path and writes the header line. -errno on failure. */
int mv__recorder_open(const char *path, const mv__record_header *h,
                      mv__recorder **out);
/* Appends one sample line with the detector's view. A write error (disk
 * full) is returned as -errno; the recorder keeps trying on later lines and
 * counts the lost ones. */
int mv__recorder_sample(mv__recorder *r, const mv_sample *s, mv_level level,
                        double growth_bytes_per_s, double time_to_limit_s);
int mv__recorder_event(mv__recorder *r, const mv_event *ev);
/* ---- application lines ---- */

#define MV__RECORD_OP_BUCKETS 8
/* At most this many application lines per tick (mv__record_app_changes). */
#define MV__RECORD_APP_MAX_LINES 256

typedef struct mv__record_op {
    const char *name;
    uint64_t count;
    int64_t sum_bytes, min_bytes, max_bytes;
    double duration_s;
    uint64_t buckets[MV__RECORD_OP_BUCKETS];
} mv__record_op;

/* labels may be NULL (written as ""). 0, -EINVAL or -errno as above. */
int mv__recorder_gauge(mv__recorder *r, int64_t t_ms, const char *name,
                       const char *labels, int64_t value);
int mv__recorder_op(mv__recorder *r, int64_t t_ms, const mv__record_op *op);
/* private_bytes MV_NA and per1000 NAN are written as null. */
int mv__recorder_progress(mv__recorder *r, int64_t t_ms, const char *unit,
                          int64_t units, int64_t private_bytes,
                          double per1000);

struct mv__registry;
/* Writes one line per change the registry reports since the previous call
 * (mv__registry_changes, record_app.c): at most max lines; changes over the
 * cap stay pending in the registry and are counted in
 * mv__recorder_app_skipped. Returns the lines written, or -errno (-EINVAL
 * for NULL r/reg, -ENOMEM). Call from the recorder's owner. */
int mv__record_app_changes(mv__recorder *r, struct mv__registry *reg,
                           int64_t t_ms, size_t max);
/* Application changes deferred by the per-tick cap (or lost) so far. */
uint64_t mv__recorder_app_skipped(const mv__recorder *r);
void mv__recorder_add_app_skipped(mv__recorder *r, uint64_t n);

/* Lines that could not be written. */
uint64_t mv__recorder_lost(const mv__recorder *r);
/* Flushes and closes; NULL is a no-op. */
void mv__recorder_close(mv__recorder *r);

/* ---- reader ---- */

typedef enum mv__record_kind {
    MV_REC_HEADER, MV_REC_SAMPLE, MV_REC_EVENT
} mv__record_kind;

typedef struct mv__record_line {
    mv__record_kind kind;
    int64_t t_ms;            /* sample/event time; header: start_ms */
    /* sample */
    int64_t rss, anon, file, shmem, swap, private_bytes, working_set,
        cg_usage, limit, oom_kill;   /* MV_NA when null/missing */
    double ratio, growth_bps, ttl_s; /* NAN when null/missing */
    char level[16];
    /* event */
    char event[32];
    char message[320];
    /* header */
    int version;
    int32_t pid;
    int64_t interval_ms;
    char command[256];
} mv__record_line;

/* Parses one line (len bytes, no newline needed). 0, or -EINVAL for a line
 * that is not a recording line, or -ENOMSG for a valid JSON object whose
 * "type" is unknown (a newer writer's line; callers skip it). Unknown keys
 * are ignored; missing fields read as MV_NA / NAN / "". */
int mv__record_parse_line(const char *line, size_t len, mv__record_line *out);

typedef int (*mv__record_visit_fn)(const mv__record_line *line, void *ctx);
/* Reads a recording, calling visit per good line (a non-zero return stops;
 * mv__record_read then returns 0). A torn final line (no newline, does not
 * parse) is skipped; lines of unknown type and blank lines are skipped.
 * A bad line elsewhere: "line N: why" in err (if err != NULL) and -EINVAL.
 * A header with a version newer than MV_RECORD_VERSION: "line N: recording
 * version V is newer ..." and -ENOTSUP. -EIO on a read error. */
int mv__record_read(FILE *f, mv__record_visit_fn visit, void *ctx,
                    char *err, size_t errlen);

#endif /* MV_RECORD_H */
