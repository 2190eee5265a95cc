/*
 * record.c — the JSON Lines recording writer (see record.h for the line
 * shapes; the reader lives in record_read.c, the joined reading of rotated
 * files in record_stream.c).
 *
 * DESIGN. Each line is built completely in memory and handed to the kernel
 * with a single write() on an O_APPEND descriptor: there is no stdio buffer,
 * so a crash of the process loses nothing already recorded and at worst
 * leaves a torn final line, which the reader skips. When the disk fills up,
 * a short write would leave a fragment in the middle of the file (and make
 * every later line look like garbage after it), so after a short or failed
 * write the file is truncated back to the end of the last complete line.
 * The failed line is counted as lost and -errno is returned; the recorder
 * stays usable and later lines are tried again. A full disk can last hours
 * at one line per tick, so the recorder also keeps the spell of losses
 * (mv__recorder_take_change): the monitor says once that lines are being
 * lost, and once, with the count, that they are written again.
 *
 * ROTATION. Lines go through a size-capped line file (mv__linefile, below;
 * the event log uses it too). Before each write its size is compared with
 * the cap; only when the line would not fit does it rotate: the oldest kept
 * file is removed, FILE.k -> FILE.(k+1), FILE -> FILE.1, and a new FILE is
 * opened and given the header of the next segment (the recorder's header
 * callback; an event log has none). Renaming keeps the descriptor of a
 * reader or `tail -F` valid and makes each step atomic: a crash between two
 * renames leaves a gap in the numbering, never a mixed file, and the reader
 * orders segments by the header's "segment", not by the file name. If the
 * new FILE cannot be opened, FILE.1 is renamed back and the old descriptor
 * is kept: the file grows past the cap rather than losing lines, and the
 * rotation is retried 64 lines later. A header that cannot be written after
 * a rotation (disk full) is retried before the next line, and the line is
 * lost meanwhile, so every file starts with its header.
 *
 * Doubles: NAN is written as null; +/-INFINITY (e.g. "time to limit: never")
 * as the strings "+Inf" / "-Inf", which JSON can carry and the reader turns
 * back into infinities. Finite doubles are written with the shortest of
 * %.15g / %.17g that reads back to the same value.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "events.h"
#include "record.h"
#include "sample_fields.h"
#include "util.h"

/* Lines between retries of a rotation that failed. */
#define ROTATE_RETRY_LINES 64
/* How long a line may wait for room in a pipe, FIFO or terminal. */
#define LINEFILE_WAIT_MS 100

struct mv__linefile {
    int fd;             /* O_WRONLY | O_APPEND | O_CLOEXEC */
    int owned;          /* 0: a descriptor lent by the caller (stderr) */
    char *path;         /* owned */
    int regular;        /* a regular file: can be cut back and rotated */
    off_t size;         /* bytes of complete lines in the current file */
    int64_t max_bytes;  /* rotation cap */
    int keep;           /* files kept, FILE included */
    int64_t segment;    /* segment number of the current file (1 first) */
    off_t header_size;  /* bytes of the current file's header line */
    int header_pending; /* a rotation's header is not written yet */
    unsigned retry_in;  /* lines until a failed rotation is retried */
    mv__linefile_header_fn header;
    void *ctx;
    mv_buf hbuf;        /* header line scratch */
    uint64_t lost, rotations;
};

struct mv__recorder {
    mv__linefile *lf;   /* owned */
    mv__record_header h; /* for the headers of later segments */
    char *command;      /* owned copy of h.command */
    char host[256];
    uint64_t lost;      /* lines that could not be built (ENOMEM) */
    /* spells of losses (mv__recorder_take_change) */
    int failing;        /* 1: the latest line was lost */
    int last_errno;     /* positive errno of the latest lost line */
    int told_failing;   /* 1: LOSING was told, RESUMED not yet */
    uint64_t lost_told; /* mv__recorder_lost() before the spell told */
    uint64_t lost_seen; /* spell losses at the previous take_change */
    uint64_t excused;   /* lost lines of the spell's own events (below) */
    uint64_t all_told;  /* mv__recorder_lost() when the last spell ended */
    uint64_t app_skipped; /* application changes deferred by the cap */
    uint64_t app_rotations_seen; /* rotations the app lines have caught up
                                    with (mv__recorder_take_rotated) */
    mv_buf line;        /* reused line buffer */
};

/* ---- line building ---- */

static int put_double(mv_buf *b, double v)
{
    char tmp[40];

    if (isnan(v))
        return mv__buf_puts(b, "null");
    if (isinf(v))
        return mv__buf_puts(b, v > 0 ? "\"+Inf\"" : "\"-Inf\"");
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    return mv__buf_puts(b, tmp);
}

static int put_int(mv_buf *b, int64_t v)
{
    if (v == MV_NA)
        return mv__buf_puts(b, "null");
    return mv__buf_printf(b, "%lld", (long long)v);
}

/* Appends ,"key":<int>. */
static int kv_int(mv_buf *b, const char *key, int64_t v)
{
    int rc = mv__buf_printf(b, ",\"%s\":", key);
    return rc ? rc : put_int(b, v);
}

static int kv_double(mv_buf *b, const char *key, double v)
{
    int rc = mv__buf_printf(b, ",\"%s\":", key);
    return rc ? rc : put_double(b, v);
}

/* Appends ,"key":"value" or ,"key":null for a NULL value. */
static int kv_str(mv_buf *b, const char *key, const char *v)
{
    int rc = mv__buf_printf(b, ",\"%s\":", key);
    if (rc)
        return rc;
    return v ? mv__buf_json_string(b, v) : mv__buf_puts(b, "null");
}

/* ---- size-capped line files ---- */

int mv__record_segment_path(const char *path, int k, char *out, size_t n)
{
    int len = k == 0 ? snprintf(out, n, "%s", path)
                     : snprintf(out, n, "%s.%d", path, k);
    if (len < 0 || (size_t)len >= n)
        return -ENAMETOOLONG;
    return 0;
}

/* Waits at most LINEFILE_WAIT_MS for fd to take more bytes. 0, or -EAGAIN
 * when it stayed full. */
static int wait_writable(int fd)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int r = poll(&pfd, 1, LINEFILE_WAIT_MS);
        if (r < 0 && errno == EINTR)
            continue;
        return r > 0 && (pfd.revents & POLLOUT) ? 0 : -EAGAIN;
    }
}

/* Writes len bytes with write() on the O_APPEND descriptor; on failure cuts
 * the file back to lf->size. 0 or -errno. Counts nothing.
 * A pipe, FIFO or terminal (the host's stderr whose reader stalled) could
 * block a write indefinitely, and the monitor writes under sink_lock, which
 * the host's fork() waits for (monitor_fork.c): so before each write to a
 * file that is not regular, it waits at most LINEFILE_WAIT_MS for room and
 * gives the line up after that (-EAGAIN, counted lost by the caller). The
 * descriptor's own blocking mode is left alone (it may be the host's). */
static int put_bytes(mv__linefile *lf, const char *p, size_t len)
{
    size_t left = len;
    int err = 0;

    while (left > 0) {
        if (!lf->regular && wait_writable(lf->fd) != 0) {
            err = EAGAIN;
            break;
        }
        ssize_t n = write(lf->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (n == 0) {
            err = EIO;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (err == 0) {
        lf->size += (off_t)len;
        return 0;
    }
    /* A fragment may have reached the file: remove it so the file stays
     * readable. Best effort; the caller counts the loss either way. */
    if (lf->regular && left != len) {
        while (ftruncate(lf->fd, lf->size) < 0 && errno == EINTR) {
        }
    }
    return -err;
}

/* Writes the header of the current segment. 0 or -errno. */
static int put_header(mv__linefile *lf)
{
    int rc;

    mv__buf_reset(&lf->hbuf);
    rc = lf->header(lf->ctx, lf->segment, &lf->hbuf);
    if (rc == 0)
        rc = put_bytes(lf, lf->hbuf.data, lf->hbuf.len);
    if (rc == 0) {
        lf->header_size = (off_t)lf->hbuf.len;
        lf->header_pending = 0;
    }
    return rc;
}

static int open_fd(const char *path, int truncate)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                          (truncate ? O_TRUNC : 0),
                0644);
}

/* Rotates: drops the oldest, shifts FILE.k -> FILE.(k+1), FILE -> FILE.1,
 * opens a new FILE. 0, or -errno with the current file kept. */
static int rotate(mv__linefile *lf)
{
    char from[4096], to[4096];
    int fd, rc, moved = 0;

    if (lf->keep == 1) {
        /* No rotated files: start FILE over. */
        while ((rc = ftruncate(lf->fd, 0)) < 0 && errno == EINTR) {
        }
        if (rc < 0)
            return -errno;
    } else {
        if ((rc = mv__record_segment_path(lf->path, lf->keep - 1, from,
                                          sizeof from)) != 0)
            return rc;
        if (unlink(from) < 0 && errno != ENOENT)
            return -errno;
        for (int k = lf->keep - 2; k >= 0; k--) {
            if (mv__record_segment_path(lf->path, k, from, sizeof from) ||
                mv__record_segment_path(lf->path, k + 1, to, sizeof to))
                return -ENAMETOOLONG;
            /* A missing FILE.k is a gap, and a missing FILE was removed
             * under us: either way there is nothing to move. */
            if (rename(from, to) == 0)
                moved = k == 0;
            else if (errno != ENOENT)
                return -errno;
        }
        /* FILE is now FILE.1 (to); the old descriptor still writes there. */
        fd = open_fd(lf->path, 1);
        if (fd < 0) {
            rc = -errno;
            if (moved)
                (void)rename(to, lf->path); /* undo the last step */
            return rc;
        }
        close(lf->fd);
        lf->fd = fd;
    }
    lf->size = 0;
    lf->header_size = 0;
    lf->segment++;
    lf->rotations++;
    lf->header_pending = lf->header != NULL;
    return 0;
}

int mv__linefile_write(mv__linefile *lf, const char *line, size_t len)
{
    int rc;

    if (!lf || (!line && len))
        return -EINVAL;
    /* The only cost per line when no rotation is due: this comparison. */
    if (lf->size + (off_t)len > lf->max_bytes && lf->regular &&
        lf->size > lf->header_size) {
        if (lf->retry_in > 0) {
            lf->retry_in--;
        } else if (rotate(lf) != 0) {
            lf->retry_in = ROTATE_RETRY_LINES;
        }
    }
    if (lf->header_pending && (rc = put_header(lf)) != 0) {
        lf->lost++;
        return rc;
    }
    rc = put_bytes(lf, line, len);
    if (rc)
        lf->lost++;
    return rc;
}

int mv__linefile_open(const char *path, int truncate, int64_t max_bytes,
                      int keep, mv__linefile_header_fn header, void *ctx,
                      mv__linefile **out)
{
    mv__linefile *lf;
    struct stat st;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !*path || !out)
        return -EINVAL;
    if (max_bytes == 0)
        max_bytes = MV_RECORD_DEFAULT_MAX_BYTES;
    if (keep == 0)
        keep = MV_RECORD_DEFAULT_KEEP;
    if (max_bytes < MV_RECORD_MIN_MAX_BYTES || keep < 1 ||
        keep > MV_RECORD_MAX_KEEP)
        return -EINVAL;
    lf = calloc(1, sizeof *lf);
    if (!lf)
        return -ENOMEM;
    lf->path = strdup(path);
    if (!lf->path) {
        free(lf);
        return -ENOMEM;
    }
    mv_buf_init(&lf->hbuf);
    lf->max_bytes = max_bytes;
    lf->keep = keep;
    lf->segment = 1;
    lf->header = header;
    lf->ctx = ctx;
    lf->fd = open_fd(path, truncate);
    lf->owned = 1;
    if (lf->fd < 0) {
        rc = -errno;
        goto fail;
    }
    /* Only regular files can be cut back after a torn write, or rotated. */
    lf->regular = fstat(lf->fd, &st) == 0 && S_ISREG(st.st_mode);
    lf->size = lf->regular ? st.st_size : 0;
    if (header && (rc = put_header(lf)) != 0) {
        close(lf->fd);
        goto fail;
    }
    *out = lf;
    return 0;
fail:
    mv_buf_release(&lf->hbuf);
    free(lf->path);
    free(lf);
    return rc;
}

uint64_t mv__linefile_lost(const mv__linefile *lf)
{
    return lf ? lf->lost : 0;
}

uint64_t mv__linefile_rotations(const mv__linefile *lf)
{
    return lf ? lf->rotations : 0;
}

int mv__linefile_regular(const mv__linefile *lf)
{
    return lf ? lf->regular : 0;
}

int mv__linefile_from_fd(int fd, mv__linefile **out)
{
    if (out)
        *out = NULL;
    if (fd < 0 || !out)
        return -EINVAL;
    mv__linefile *lf = calloc(1, sizeof *lf);
    if (!lf)
        return -ENOMEM;
    mv_buf_init(&lf->hbuf);
    lf->fd = fd;
    lf->owned = 0;
    /* never rotated or cut back (not ours to rename or truncate), and
     * written with the bounded wait (poll returns at once on a file) */
    lf->regular = 0;
    lf->max_bytes = INT64_MAX;
    lf->keep = 1;
    lf->segment = 1;
    *out = lf;
    return 0;
}

void mv__linefile_close(mv__linefile *lf)
{
    if (!lf)
        return;
    if (lf->owned) {
        /* Nothing is buffered in user space; make the file durable. Errors
         * (e.g. EINVAL on a character device) do not matter here. */
        (void)fdatasync(lf->fd);
        close(lf->fd);
    }
    mv_buf_release(&lf->hbuf);
    free(lf->path);
    free(lf);
}

/* ---- the recorder ---- */

/* Notes whether the latest line reached the file (for take_change). */
static int note_result(mv__recorder *r, int rc)
{
    r->failing = rc != 0;
    if (rc)
        r->last_errno = -rc;
    return rc;
}

static int finish_and_emit(mv__recorder *r, int rc)
{
    if (rc == 0)
        rc = mv__buf_puts(&r->line, "}\n");
    if (rc) {
        r->lost++;
        return note_result(r, rc);
    }
    return note_result(r, mv__linefile_write(r->lf, r->line.data,
                                             r->line.len));
}

/* mv__linefile_header_fn: the header line of a segment. */
static int build_header(void *ctx, int64_t segment, mv_buf *b)
{
    const mv__recorder *r = ctx;
    char tool[64];
    int rc;

    rc = mv__buf_printf(b, "{\"type\":\"header\",\"version\":%d",
                        MV_RECORD_VERSION);
    snprintf(tool, sizeof tool, "memvigil %s", mv_version());
    if (!rc)
        rc = kv_str(b, "tool", tool);
    if (!rc)
        rc = kv_str(b, "command", r->h.command);
    if (!rc)
        rc = kv_int(b, "pid", r->h.pid);
    if (!rc)
        rc = kv_str(b, "host", r->host);
    if (!rc)
        rc = kv_int(b, "start_ms", r->h.start_ms);
    if (!rc)
        rc = kv_int(b, "interval_ms", r->h.interval_ms);
    if (!rc)
        rc = kv_int(b, "limit_bytes", r->h.limit_bytes);
    if (!rc)
        rc = kv_int(b, "segment", segment);
    if (!rc)
        rc = mv__buf_puts(b, "}\n");
    return rc;
}

int mv__recorder_open_capped(const char *path, const mv__record_header *h,
                             int64_t max_bytes, int keep, mv__recorder **out)
{
    mv__recorder *r;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !*path || !h || !out)
        return -EINVAL;
    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    mv_buf_init(&r->line);
    r->h = *h;
    if (h->command && !(r->command = strdup(h->command))) {
        free(r);
        return -ENOMEM;
    }
    r->h.command = r->command;
    if (gethostname(r->host, sizeof r->host) != 0)
        r->host[0] = '\0';
    r->host[sizeof r->host - 1] = '\0';
    rc = mv__linefile_open(path, 1, max_bytes, keep, build_header, r, &r->lf);
    if (rc) {
        free(r->command);
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int mv__recorder_open(const char *path, const mv__record_header *h,
                      mv__recorder **out)
{
    return mv__recorder_open_capped(path, h, 0, 0, out);
}

/* One sample field of sample_fields.h by its type: I64 / I32 / INT as
 * integers (MV_NA: null), LIM as I64 but MV_UNLIMITED as "max", DBL as
 * put_double; by its place: REC fields are written, ALL ones are not part
 * of the recording, ALC ones are written when the sample has allocator
 * figures (alloc_kind != 0). The key is the mv_sample member's name. */
#define KV_I64(b, k, v) kv_int(b, k, v)
#define KV_I32(b, k, v) kv_int(b, k, (int64_t)(v))
#define KV_INT(b, k, v) kv_int(b, k, (int64_t)(v))
#define KV_DBL(b, k, v) kv_double(b, k, v)
#define KV_LIM(b, k, v) ((v) == MV_UNLIMITED ? kv_str(b, k, "max") : kv_int(b, k, v))
#define KV_REC(type, b, k, v) KV_##type(b, k, v)
#define KV_ALL(type, b, k, v) 0
#define KV_ALC(type, b, k, v) (s->alloc_kind != 0 ? KV_##type(b, k, v) : 0)

int mv__recorder_sample(mv__recorder *r, const mv_sample *s, mv_level level,
                        double growth_bytes_per_s, double time_to_limit_s)
{
    mv_buf *b;
    int rc;

    if (!r || !s)
        return -EINVAL;
    b = &r->line;
    mv__buf_reset(b);
    rc = mv__buf_puts(b, "{\"type\":\"sample\"");
    /* every REC field of the table, under its own name */
#define X(member, type, where, help) \
    if (!rc)                        \
        rc = KV_##where(type, b, #member, s->member);
    MV_SAMPLE_FIELDS(X)
#undef X
    if (!rc)
        rc = kv_str(b, "level", mv_level_name(level));
    if (!rc)
        rc = kv_double(b, "growth_bytes_per_second", growth_bytes_per_s);
    if (!rc)
        rc = kv_double(b, "time_to_limit_seconds", time_to_limit_s);
    return finish_and_emit(r, rc);
}

int mv__recorder_event(mv__recorder *r, const mv_event *ev)
{
    mv_buf *b;
    int rc;

    if (!r || !ev)
        return -EINVAL;
    b = &r->line;
    mv__buf_reset(b);
    rc = mv__buf_puts(b, "{\"type\":\"event\"");
    if (!rc)
        rc = kv_int(b, "timestamp_ms", ev->timestamp_ms);
    if (!rc)
        rc = kv_str(b, "event", mv_event_kind_name(ev->kind));
    if (!rc)
        rc = kv_str(b, "level", mv_level_name(ev->level));
    if (!rc && ev->kind == MV_EVENT_LEVEL)
        rc = kv_str(b, "prev_level", mv_level_name(ev->prev_level));
    if (!rc && ev->subject)
        rc = kv_str(b, "subject", ev->subject);
    if (!rc)
        rc = kv_double(b, "growth_bytes_per_second", ev->growth_bytes_per_s);
    if (!rc)
        rc = kv_double(b, "time_to_limit_seconds", ev->time_to_limit_s);
    if (!rc) {
        char msg[sizeof ev->message];
        /* message is a fixed array: never read past it. */
        memcpy(msg, ev->message, sizeof msg);
        msg[sizeof msg - 1] = '\0';
        rc = kv_str(b, "message", msg);
    }
    /* the victim the kernel log named: the event log's object, as is */
    if (!rc && ev->oom_kill) {
        rc = mv__buf_puts(b, ",\"oom_kill\":");
        if (!rc)
            rc = mv__oom_kill_to_json(ev->oom_kill, b);
    }
    /* The spell's own events (recording_failed / recording_resumed) take no
     * part in the spell: an event line longer than the sample lines may not
     * fit where samples do, and its loss must neither start a spell nor
     * keep one going (it is still counted in mv__recorder_lost). */
    if (ev->kind != MV_EVENT_RECORDING_FAILED && ev->kind != MV_EVENT_RECORDING_RESUMED)
        return finish_and_emit(r, rc);
    uint64_t before = mv__recorder_lost(r);
    int failing = r->failing;
    rc = finish_and_emit(r, rc);
    r->excused += mv__recorder_lost(r) - before;
    r->failing = failing;
    return rc;
}

/* ---- application lines (shapes in record.h) ---- */

int mv__recorder_gauge(mv__recorder *r, int64_t t_ms, const char *name,
                       const char *labels, int64_t value)
{
    if (!r || !name)
        return -EINVAL;
    mv_buf *b = &r->line;
    mv__buf_reset(b);
    int rc = mv__buf_puts(b, "{\"type\":\"gauge\"");
    if (!rc)
        rc = kv_int(b, "timestamp_ms", t_ms);
    if (!rc)
        rc = kv_str(b, "name", name);
    if (!rc)
        rc = kv_str(b, "labels", labels ? labels : "");
    if (!rc)
        rc = kv_int(b, "value", value);
    return finish_and_emit(r, rc);
}

int mv__recorder_op(mv__recorder *r, int64_t t_ms, const mv__record_op *op)
{
    if (!r || !op || !op->name)
        return -EINVAL;
    mv_buf *b = &r->line;
    mv__buf_reset(b);
    int rc = mv__buf_puts(b, "{\"type\":\"op\"");
    if (!rc)
        rc = kv_int(b, "timestamp_ms", t_ms);
    if (!rc)
        rc = kv_str(b, "name", op->name);
    if (!rc)
        rc = mv__buf_printf(b, ",\"count\":%llu",
                            (unsigned long long)op->count);
    if (!rc)
        rc = kv_int(b, "sum_bytes", op->sum_bytes);
    if (!rc)
        rc = kv_int(b, "min_bytes", op->min_bytes);
    if (!rc)
        rc = kv_int(b, "max_bytes", op->max_bytes);
    if (!rc)
        rc = kv_double(b, "duration_s", op->duration_s);
    if (!rc)
        rc = mv__buf_puts(b, ",\"buckets\":[");
    for (size_t i = 0; !rc && i < MV__RECORD_OP_BUCKETS; i++)
        rc = mv__buf_printf(b, "%s%llu", i ? "," : "",
                            (unsigned long long)op->buckets[i]);
    if (!rc)
        rc = mv__buf_puts(b, "]");
    return finish_and_emit(r, rc);
}

int mv__recorder_progress(mv__recorder *r, int64_t t_ms, const char *unit,
                          int64_t units, int64_t private_bytes,
                          double memory_per_unit_bytes)
{
    if (!r || !unit)
        return -EINVAL;
    mv_buf *b = &r->line;
    mv__buf_reset(b);
    int rc = mv__buf_puts(b, "{\"type\":\"progress\"");
    if (!rc)
        rc = kv_int(b, "timestamp_ms", t_ms);
    if (!rc)
        rc = kv_str(b, "unit", unit);
    if (!rc)
        rc = kv_int(b, "units", units);
    if (!rc)
        rc = kv_int(b, "private_bytes", private_bytes);
    if (!rc)
        rc = kv_double(b, "memory_per_unit_bytes",
                       isinf(memory_per_unit_bytes) ? NAN
                                                    : memory_per_unit_bytes);
    return finish_and_emit(r, rc);
}

uint64_t mv__recorder_app_skipped(const mv__recorder *r)
{
    return r ? r->app_skipped : 0;
}

int mv__recorder_take_rotated(mv__recorder *r)
{
    if (!r)
        return 0;
    uint64_t rot = mv__linefile_rotations(r->lf);
    if (rot == r->app_rotations_seen)
        return 0;
    r->app_rotations_seen = rot;
    return 1;
}

void mv__recorder_add_app_skipped(mv__recorder *r, uint64_t n)
{
    if (r)
        r->app_skipped += n;
}

uint64_t mv__recorder_lost(const mv__recorder *r)
{
    return r ? r->lost + mv__linefile_lost(r->lf) : 0;
}

mv__record_change mv__recorder_take_change(mv__recorder *r, int *err,
                                           uint64_t *lost)
{
    if (!r)
        return MV__RECORD_SAME;
    uint64_t all = mv__recorder_lost(r);
    uint64_t now = all - r->excused;   /* the losses that make a spell */
    int lost_since = now != r->lost_seen;
    r->lost_seen = now;
    if (!r->told_failing) {
        /* a loss since the last spell ended (the latest line may already
         * have been written again: the loss is still told) */
        if (now == r->lost_told)
            return MV__RECORD_SAME;
        r->told_failing = 1;
        if (err)
            *err = r->last_errno > 0 ? r->last_errno : EIO;
        return MV__RECORD_LOSING;
    }
    /* a spell ends with a whole tick's lines written: on a disk at the
     * edge, short lines may fit while a sample line does not, and saying
     * "resumed" for those would alternate with "failing" every tick */
    if (r->failing || lost_since)
        return MV__RECORD_SAME;
    r->told_failing = 0;
    if (lost)   /* every line lost since the previous spell ended */
        *lost = all - r->all_told;
    r->lost_told = now;
    r->all_told = all;
    return MV__RECORD_RESUMED;
}

void mv__recorder_close(mv__recorder *r)
{
    if (!r)
        return;
    mv__linefile_close(r->lf);
    mv_buf_release(&r->line);
    free(r->command);
    free(r);
}
