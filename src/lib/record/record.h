/*
 * record.h — JSON Lines recordings: a writer (header line, one line per
 * sample, one per event, each flushed as written) and a tolerant reader
 * (a torn final line is skipped, never fatal; a garbage line in the middle is
 * reported with its line number).
 *
 * Line shapes (one JSON object per line, "type" first):
 *  {"type":"header","version":2,"tool":"memvigil 0.1.0","command":"...",
 *   "pid":123,"host":"...","start_ms":...,"interval_ms":...,"limit_bytes":...,
 *   "segment":1}
 *   (segment: 1 in the first file of a recording, N in the file started by
 *   the (N-1)th rotation; the other fields are the same in every segment,
 *   which is how a reader knows the files belong together. Files written
 *   before rotation existed have no "segment": read as 1.)
 *  {"type":"sample","timestamp_ms":...,"rss_bytes":...,...,"usage_ratio":...,
 *   "level":"ok","growth_bytes_per_second":...,"time_to_limit_seconds":...}
 *   (every REC field of sample_fields.h under its mv_sample member's name,
 *   in the table's order; MV_NA fields and NAN doubles are written as null,
 *   an MV_UNLIMITED limit as "max"; +/-INFINITY, e.g. time_to_limit_seconds
 *   when not growing, as the strings "+Inf" / "-Inf")
 *  {"type":"event","timestamp_ms":...,"event":"level_changed",
 *   "level":"warning","growth_bytes_per_second":...,
 *   "time_to_limit_seconds":...,"message":"...",
 *   "oom_kill":{...} (oom_kill events naming their victim; the object of
 *   mv__oom_kill_to_json, events.h)}
 * Version 1 (t_ms, rss, anon, file, shmem, swap, private, working_set,
 * cg_usage, limit, ratio, oom_kill, growth_bps, ttl_s) is still read:
 * record_read.c maps those keys.
 *
 * Application lines (written each tick by mv__record_app_changes for what the
 * registry says changed since the previous tick; the reader below gives
 * them as MV_REC_GAUGE / MV_REC_OP / MV_REC_PROGRESS, `memvigil report` /
 * `estimate` use them):
 *  {"type":"gauge","timestamp_ms":...,"name":"index","labels":"k=v,k=v",
 *   "value":N}   (value 0: the gauge was removed)
 *  {"type":"op","timestamp_ms":...,"name":"search","count":N,"sum_bytes":S,
 *   "min_bytes":A,"max_bytes":B,"duration_s":D,"buckets":[c0,...,c7]}
 *   (observations since the previous op line of that name; buckets are
 *   non-cumulative counts of deltas <= 0, 4 KiB, 64 KiB, 1 MiB, 16 MiB,
 *   256 MiB, 1 GiB, +Inf)
 *  {"type":"progress","timestamp_ms":...,"unit":"rows","units":N,
 *   "private_bytes":P,"memory_per_unit_bytes":X}   (units cumulative;
 *   X is the registry's memory per unit, in bytes per unit; private_bytes
 *   and X may be null. Version 1 wrote "per1000", bytes per 1000 units:
 *   the reader divides it by 1000)
 *
 * Rotation (size cap). A recorder, and an event log (mv__linefile below),
 * never lets FILE grow past max_bytes: when the next line would take it
 * past, and FILE holds more than its header, FILE.(keep-1) is removed,
 * FILE.k is renamed FILE.(k+1), FILE is renamed FILE.1 and a new FILE is
 * started with a header of the next segment. Lines are never split across
 * files. A line longer than the cap on its own still goes whole into a
 * fresh file. Only regular files rotate (a pipe or /dev/null does not).
 *
 * Files: record.c writes (line files, rotation, the recorder),
 * record_app.c writes the application lines, record_read.c parses and
 * reads lines, record_stream.c joins a rotated recording's files into one
 * stream and loads inputs; each section below names its file.
 *
 * Thread-safety: a recorder or a line file has one owner (the monitor's
 * thread); the reader functions are reentrant.
 */
#ifndef MV_RECORD_H
#define MV_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memvigil.h"

/* 2: every key is its field's one name (sample_fields.h; timestamp_ms,
 * growth_bytes_per_second, time_to_limit_seconds, private_bytes). Version 1
 * files (t_ms, rss, anon, ...) are still read. */
#define MV_RECORD_VERSION 2

/* Rotation defaults (mv_config.record_max_bytes / record_keep and the event
 * log's pair, 0 = these). 64 MiB holds about 2.5 weeks of samples at 10 s
 * (~420 bytes a line) or 1.8 days at 1 s; 4 files bound the disk use to
 * 256 MiB, which no service host should miss, while keeping well over a
 * week at the default interval. */
#define MV_RECORD_DEFAULT_MAX_BYTES ((int64_t)64 << 20)
#define MV_RECORD_DEFAULT_KEEP 4
/* Smallest cap accepted: a header and a few lines. */
#define MV_RECORD_MIN_MAX_BYTES ((int64_t)1024)
/* Most files kept (FILE + FILE.1 .. FILE.999). */
#define MV_RECORD_MAX_KEEP 1000

/* ---- size-capped line files (record.c) ---- */

typedef struct mv__linefile mv__linefile;

/* Builds the header line (newline included) that starts segment `segment`
 * into out (reset by the caller). 0 or -errno. */
typedef int (*mv__linefile_header_fn)(void *ctx, int64_t segment, mv_buf *out);

/* Opens path for appending complete lines with rotation at max_bytes
 * (0 = MV_RECORD_DEFAULT_MAX_BYTES; below MV_RECORD_MIN_MAX_BYTES: -EINVAL)
 * keeping `keep` files (0 = MV_RECORD_DEFAULT_KEEP; 1..MV_RECORD_MAX_KEEP,
 * else -EINVAL). truncate: start path empty (a recording) or append to what
 * is there (an event log; its size counts toward the cap). header/ctx: when
 * not NULL, the header of segment 1 is written at once (an error there is
 * returned and nothing stays open) and every rotation starts the new file
 * with the next segment's header. *out owns the file: mv__linefile_close. */
int mv__linefile_open(const char *path, int truncate, int64_t max_bytes,
                      int keep, mv__linefile_header_fn header, void *ctx,
                      mv__linefile **out);
/* Wraps a descriptor the caller keeps owning (the event log's "-" =
 * stderr): lines go through mv__linefile_write with its bounded wait, and
 * it is never rotated, cut back or closed. 0, -EINVAL or -ENOMEM. */
int mv__linefile_from_fd(int fd, mv__linefile **out);
/* Appends one complete line (len bytes, ending in '\n') with one write(),
 * rotating first when it would take the file past the cap. On a short or
 * failed write the file is cut back to its last complete line, the line is
 * counted as lost and -errno is returned; later lines are tried again. The
 * normal path costs one comparison beyond the write. A file that is not
 * regular (a pipe, FIFO, terminal) gets at most 100 ms per write to take
 * the line, else it is given up (-EAGAIN, counted lost): a stalled reader
 * never blocks the writer (and with it the host's fork()). */
int mv__linefile_write(mv__linefile *lf, const char *line, size_t len);
/* Lines lost so far (write errors; a line is never half written). */
uint64_t mv__linefile_lost(const mv__linefile *lf);
/* Rotations done so far. */
uint64_t mv__linefile_rotations(const mv__linefile *lf);
/* 1 when the file is a regular file (it rotates and is cut back after a
 * failed write), 0 for a FIFO, terminal or device. */
int mv__linefile_regular(const mv__linefile *lf);
/* fdatasync (best effort), close, free. NULL is a no-op. */
void mv__linefile_close(mv__linefile *lf);

/* The name of rotated file k of path ("path.k"; k == 0: path itself) into
 * out. 0, or -ENAMETOOLONG when it does not fit. */
int mv__record_segment_path(const char *path, int k, char *out, size_t n);

/* ---- the recorder (record.c) ---- */

typedef struct mv__recorder mv__recorder;

typedef struct mv__record_header {
    const char *command;   /* may be NULL */
    int32_t pid;
    int64_t start_ms;
    int64_t interval_ms;
    int64_t limit_bytes;   /* MV_NA when unknown */
} mv__record_header;

/* Opens (truncates) path and writes the header line (segment 1), with the
 * default rotation. -errno on failure. h->command is copied. */
int mv__recorder_open(const char *path, const mv__record_header *h,
                      mv__recorder **out);
/* The same with the rotation cap and count of mv__linefile_open (0 =
 * defaults; -EINVAL out of range). */
int mv__recorder_open_capped(const char *path, const mv__record_header *h,
                             int64_t max_bytes, int keep, mv__recorder **out);
/* Appends one sample line with the detector's view. A write error (disk
 * full) is returned as -errno; the recorder keeps trying on later lines and
 * counts the lost ones. */
int mv__recorder_sample(mv__recorder *r, const mv_sample *s, mv_level level,
                        double growth_bytes_per_s, double time_to_limit_s);
int mv__recorder_event(mv__recorder *r, const mv_event *ev);
/* ---- application lines (record.c, record_app.c) ---- */

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
/* private_bytes MV_NA and memory_per_unit_bytes NAN (or infinite) are
 * written as null. */
int mv__recorder_progress(mv__recorder *r, int64_t t_ms, const char *unit,
                          int64_t units, int64_t private_bytes,
                          double memory_per_unit_bytes);

struct mv__registry;
/* Writes one line per change the registry reports since the previous call
 * (mv__registry_changes, record_app.c): at most max lines; changes over the
 * cap stay pending in the registry and are counted in
 * mv__recorder_app_skipped. After the recording rotated, every gauge and
 * progress unit is written again (not only the changed ones), so each file
 * holds the application's current state once the oldest files are gone.
 * Returns the lines written, or -errno (-EINVAL for NULL r/reg, -ENOMEM).
 * Call from the recorder's owner, always with the same registry. */
int mv__record_app_changes(mv__recorder *r, struct mv__registry *reg,
                           int64_t t_ms, size_t max);
/* Application changes deferred by the per-tick cap (or lost) so far. */
uint64_t mv__recorder_app_skipped(const mv__recorder *r);
/* 1 once after each rotation of the recording (then 0 until the next):
 * the application lines must be written in full again. */
int mv__recorder_take_rotated(mv__recorder *r);
void mv__recorder_add_app_skipped(mv__recorder *r, uint64_t n);

/* Lines that could not be written. */
uint64_t mv__recorder_lost(const mv__recorder *r);

/* Whether the recording's lines reach the file, told once per spell of
 * losses rather than once per lost line (the monitor turns it into its
 * recording_failed / recording_resumed events). A spell begins with a lost
 * line while none was being lost and ends at a call with no line lost since
 * the previous call (a whole tick written), so a disk where short lines fit
 * and sample lines do not is one spell, not a pair of events per tick. */
typedef enum mv__record_change {
    MV__RECORD_SAME = 0,   /* nothing new to say */
    MV__RECORD_LOSING,     /* a spell began: *err = its (latest) errno, > 0 */
    MV__RECORD_RESUMED     /* a line was written again: *lost = the lines
                              lost during the spell */
} mv__record_change;
/* What changed since the previous call (each spell gives one LOSING, then
 * one RESUMED once it ends). err and lost may be NULL; they are set only for
 * the change that names them. NULL r: MV__RECORD_SAME. Cost: a few
 * comparisons; call it after each tick's lines. */
mv__record_change mv__recorder_take_change(mv__recorder *r, int *err,
                                           uint64_t *lost);
/* Flushes and closes; NULL is a no-op. */
void mv__recorder_close(mv__recorder *r);

/* ---- reader (record_read.c) ---- */

/* Times (timestamp_ms, start_ms) further than this from the epoch either
 * way are refused by the reader ("out of range"): 2^53 ms is 285 000 years,
 * every such time is exact in a double, and the difference of two never
 * overflows int64_t. */
#define MV_RECORD_MAX_ABS_T_MS ((int64_t)1 << 53)

typedef enum mv__record_kind {
    MV_REC_HEADER, MV_REC_SAMPLE, MV_REC_EVENT,
    MV_REC_GAUGE, MV_REC_OP, MV_REC_PROGRESS    /* application lines */
} mv__record_kind;

/* The figures of an application line (gauge, op, progress) as written:
 * doubles, NAN when missing or not a number, "" for a missing or
 * non-string name. Application lines are optional: a figure of the wrong
 * type reads as missing instead of failing the recording (their time is
 * checked as every line's), and the consumer (the report) judges whether
 * the line is usable. Counts the writer puts in a line are exact in a
 * double up to 2^53. */
typedef struct mv__record_app {
    char name[160];          /* gauge and op: "name"; progress: "unit" */
    char labels[256];        /* gauge: "k=v,k=v" or "" */
    double value;            /* gauge (0: the gauge was removed) */
    /* op: either one call (delta_bytes) or the recorder's aggregate
     * (count, sum_bytes, min_bytes, max_bytes, buckets) */
    double delta_bytes;
    double count, sum_bytes, min_bytes, max_bytes, duration_s;
    double buckets[MV__RECORD_OP_BUCKETS]; /* first ones, NAN if not a number */
    size_t nbuckets;         /* length of "buckets" (0: none or not an array) */
    /* progress */
    double units;            /* cumulative */
    double private_bytes;    /* private memory at the checkpoint, or NAN */
    double memory_per_unit_bytes; /* bytes per unit, or NAN (version 1's
                                     "per1000" is read divided by 1000) */
} mv__record_app;

/* One line of a recording, of any kind. */
typedef struct mv__record_line {
    mv__record_kind kind;
    int64_t t_ms;            /* the line's "timestamp_ms" (version 1:
                                "t_ms"); header: start_ms; MV_NA when
                                missing or null */
    /* sample: every field of sample_fields.h found in the line (those
     * missing or null are MV_NA / NAN, as mv_sample_clear leaves them) */
    mv_sample sample;
    /* sample and event */
    char level[16];
    double growth_bytes_per_second;   /* NAN when null/missing */
    double time_to_limit_seconds;     /* +INFINITY: not growing */
    /* event */
    char event[32];
    char message[320];
    /* header */
    int version;
    int32_t pid;
    int64_t interval_ms;
    int64_t limit_bytes;     /* MV_NA when unknown */
    int64_t segment;         /* MV_NA when absent (files before rotation) */
    char command[256];
    char host[256];
    /* gauge, op, progress */
    mv__record_app app;
    /* where: the line's 1-based number in the stream mv__record_read read
     * it from (blank and skipped lines counted); 0 from
     * mv__record_parse_line */
    long long lineno;
} mv__record_line;

/* Parses one line (len bytes, no newline needed) written under header
 * version `version` (1: the version-1 keys, t_ms, rss, anon, ...; 2: this
 * version's; 0: unknown, as a line before any header: this version's key
 * where present, else version 1's). 0, or -EINVAL for a line that is not a recording line,
 * or -ENOMSG for a valid JSON object whose "type" is unknown (a newer
 * writer's line; callers skip it), or -ENOMEM. Unknown keys are ignored;
 * missing fields read as MV_NA / NAN / "". A header line reads the same in
 * every version. */
int mv__record_parse_line(const char *line, size_t len, int version,
                          mv__record_line *out);

typedef int (*mv__record_visit_fn)(const mv__record_line *line, void *ctx);
/* Reads a recording, calling visit per good line of every kind (a non-zero
 * return stops; mv__record_read then returns 0). Lines are read with the
 * keys of the version of the latest header line (before any header:
 * either version's, as version 0 above). A torn final line (no newline, does not parse) is skipped;
 * lines of unknown type and blank lines are skipped. A bad line elsewhere:
 * "line N: why" in err (if err != NULL) and -EINVAL. A header with a
 * version newer than MV_RECORD_VERSION: "line N: recording version V is
 * newer ..." and -ENOTSUP. -EIO on a read error, -ENOMEM. */
int mv__record_read(FILE *f, mv__record_visit_fn visit, void *ctx,
                    char *err, size_t errlen);

/* What mv__record_read_ex saw. */
typedef struct mv__record_read_info {
    long long lines;       /* lines read (blank ones included) */
    long long torn_line;   /* number of the torn last line that was skipped
                              (no newline, did not parse); 0 = none */
} mv__record_read_info;

/* mv__record_read that also fills info (may be NULL). Same returns and
 * errors. */
int mv__record_read_ex(FILE *f, mv__record_visit_fn visit, void *ctx,
                       mv__record_read_info *info, char *err, size_t errlen);

/* ---- rotated recordings, and inputs that may be anything
 * (record_stream.c) ---- */

/* What a stream joined (mv__record_stream_open, mv__record_load). */
typedef struct mv__record_join {
    int files;               /* files read: 1 when path is not rotated */
    int64_t first_segment;   /* segment of the oldest file read; MV_NA
                                when path has no "segment" */
    int64_t last_segment;    /* path's segment; MV_NA as above */
    int64_t missing;         /* segments absent between first and last */
    int torn_dropped;        /* torn last lines of earlier files dropped */
    int skipped;             /* path.k files skipped: another recording,
                                no header, unreadable, not text, gone or
                                replaced before the stream reached them */
    int truncated;           /* files found shorter at their end than the
                                bytes read of them (truncated meanwhile) */
    char note[1024];         /* one line saying what was read, or "" when
                                path was read alone */
    char why[256];           /* when the input was refused as content
                                (-EINVAL): the reason, without the path */
} mv__record_join;

/* The longest line the reader takes (record_read.c); a text input with a
 * longer one is refused where the reader would refuse the line
 * (record_stream.c). */
#define MV_RECORD_MAX_LINE_BYTES ((size_t)1 << 20)
/* How much of an input is looked at before the rest is read: one longest
 * line. */
#define MV_RECORD_SNIFF_BYTES MV_RECORD_MAX_LINE_BYTES

/* A caller's check of the first MV_RECORD_SNIFF_BYTES of an input that is
 * longer than that (head holds exactly them): 0 to read on; a positive
 * number to read on but refuse the input past that many bytes (a JSON
 * document, which is parsed whole); or -EINVAL with the reason (without
 * the path) in why, and nothing more is read. */
typedef int (*mv__record_sniff_fn)(const char *head, size_t len, void *ctx,
                                   char *why, size_t whylen);

typedef struct mv__record_src mv__record_src;

/* A recording (or any text input) read as one stream, never held whole.
 *
 * Joining. When path's header says it is segment S > 1 of a rotated
 * recording, the stream first gives its predecessors: each path.k (k = 1 ..
 * min(S-1, MV_RECORD_MAX_KEEP)) whose header has the same command, pid,
 * host and start_ms and a segment below S, oldest segment first, so the
 * stream reads as one recording in time order. The header lines of all but
 * the oldest file are left out, as is a torn last line (no newline) of any
 * file but path (so no line is glued to the next file's); path's own torn
 * last line stays for the reader to judge. A missing segment, a file of
 * another recording or an unreadable one is a note in join, not an error;
 * so is an earlier file that turns out not to be text (its rest is left
 * out). Anything that is not a rotated recording (CSV, JSON, an old
 * recording) is given as it is; so is one whose header's segment is not
 * 1 .. 2^53 (with a note). The earlier files are chosen at open time and
 * remembered by name and st_dev/st_ino, but opened only when the stream
 * reaches them (path stays open throughout: two descriptors at most,
 * whatever the number of files); each must still be the file chosen, found
 * under its name or, after a rotation while reading renamed it, under a
 * later path.k, so a rotation does not change what is read. One that is
 * gone, replaced or cannot be opened then is left out with a note
 * ("changed while reading"). A file found shorter at its end than what was
 * read of it (truncated while read) keeps what was read, with a note
 * (join.truncated).
 *
 * Refusal. Because path may be anything (a FIFO, /dev/zero, a wrong file),
 * its first MV_RECORD_SNIFF_BYTES (+1) are read at open time and the
 * input is refused as soon as it cannot be a text input: a NUL byte; a
 * line longer than MV_RECORD_SNIFF_BYTES, except a first line that begins
 * with '{' or '[' when max_doc_bytes > 0 (a single JSON document, e.g. a
 * Prometheus response, then refused past max_doc_bytes in all); sniff
 * (may be NULL) refusing the first MV_RECORD_SNIFF_BYTES of a longer
 * input, or capping the rest. The same checks run on every byte read later,
 * and more than max_bytes in all is -EFBIG; a refusal while reading makes
 * the stream's read fail (ferror) with error and join.why set.
 *
 * Memory: a few MiB whatever the input's size — the head (at most
 * MV_RECORD_SNIFF_BYTES + 64 KiB) and a read buffer of about that size
 * (the head's copy, later one 64 KiB chunk and at most one partial line,
 * which the line cap keeps under 1 MiB). */
typedef struct mv__record_stream {
    FILE *f;                 /* the joined text; owned by the stream */
    const char *head;        /* path's first bytes as read at open time
                                (its first MiB and a little more, or all of
                                a shorter input), NUL-terminated; owned */
    size_t head_len;
    int64_t size_bytes;      /* bytes of the files at open time, or -1 when
                                one is not a regular file (a pipe) */
    int error;               /* 0, or the -errno that stopped reading:
                                -EINVAL (reason in join.why), -EFBIG, -EIO */
    mv__record_join join;    /* what is read; notes added while reading
                                (torn lines dropped) are there once the
                                stream has been read to its end */
    mv__record_src *src;     /* private */
} mv__record_stream;

/* Opens path as documented above into s (caller-owned; it must not move
 * until closed). 0, or -errno for path itself with nothing left open
 * (-EINVAL with s->join.why when refused as content, -EFBIG). On success
 * release with mv__record_stream_close. Thread-safety: reentrant; one
 * thread reads a stream (sniff is called on the opening thread). */
int mv__record_stream_open(mv__record_stream *s, const char *path,
                           size_t max_bytes, size_t max_doc_bytes,
                           mv__record_sniff_fn sniff, void *sniff_ctx);
/* Closes the files and frees what the stream holds. A zeroed or closed
 * stream may be closed again. */
void mv__record_stream_close(mv__record_stream *s);

/* The whole stream of mv__record_stream_open read into out (reset first;
 * NUL-terminated): for tests and for the inputs that are parsed whole
 * (CSV, JSON). Returns the bytes in out, or -errno (the stream's error:
 * -EINVAL with info->why, -EFBIG past max_bytes in all). info (may be
 * NULL) gets the stream's join. Thread-safety: reentrant. */
ssize_t mv__record_load_text(const char *path, mv_buf *out, size_t max_bytes,
                             size_t max_doc_bytes, mv__record_sniff_fn sniff,
                             void *sniff_ctx, mv__record_join *info);
/* mv__record_load_text with max_doc_bytes 0 and no sniff. */
ssize_t mv__record_load(const char *path, mv_buf *out, size_t max_bytes,
                        mv__record_join *info);

#endif /* MV_RECORD_H */
