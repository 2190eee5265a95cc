/*
 * record.c — the JSON Lines recording writer (see record.h for the line
 * shapes; the reader lives in record_read.c).
 *
 * DESIGN. Each line is built completely in memory and handed to the kernel
 * with a single write() on an O_APPEND descriptor: there is no stdio buffer,
 * so a crash of the process loses nothing already recorded and at worst
 * leaves a torn final line, which the reader skips. When the disk fills up,
 * a short write would leave a fragment in the middle of the file (and make
 * every later line look like garbage after it), so after a short or failed
 * write the file is truncated back to the end of the last complete line.
 * The failed line is counted as lost and -errno is returned; the recorder
 * stays usable and later lines are tried again.
 *
 * Doubles: NAN is written as null; +/-INFINITY (e.g. "time to limit: never")
 * as the strings "+Inf" / "-Inf", which JSON can carry and the reader turns
 * back into infinities. Finite doubles are written with the shortest of
 * %.15g / %.17g that reads back to the same value.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

struct mv__recorder {
    int fd;             /* O_WRONLY | O_APPEND | O_CLOEXEC */
    off_t good_size;    /* bytes of complete lines (-1 if not seekable) */
    uint64_t lost;      /* lines that could not be written */
    uint64_t app_skipped; /* application changes deferred by the cap */
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

/* ---- writing ---- */

/* Writes the line in r->line (newline included) with one write(); on
 * failure cuts the file back to the last complete line. 0 or -errno. */
static int emit(mv__recorder *r)
{
    const char *p = r->line.data;
    size_t left = r->line.len;
    int err = 0;

    while (left > 0) {
        ssize_t n = write(r->fd, p, left);
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
        if (r->good_size >= 0)
            r->good_size += (off_t)r->line.len;
        return 0;
    }
    /* A fragment may have reached the file: remove it so the recording
     * stays readable. Best effort; the lost line is counted either way. */
    if (r->good_size >= 0 && left != r->line.len) {
        while (ftruncate(r->fd, r->good_size) < 0 && errno == EINTR) {
        }
    }
    r->lost++;
    return -err;
}

static int finish_and_emit(mv__recorder *r, int rc)
{
    if (rc == 0)
        rc = mv__buf_puts(&r->line, "}\n");
    if (rc) {
        r->lost++;
        return rc;
    }
    return emit(r);
}

int mv__recorder_open(const char *path, const mv__record_header *h,
                      mv__recorder **out)
{
    mv__recorder *r;
    char host[256];
    struct stat st;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !*path || !h || !out)
        return -EINVAL;
    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    mv_buf_init(&r->line);
    r->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                 0644);
    if (r->fd < 0) {
        rc = -errno;
        free(r);
        return rc;
    }
    /* Only regular files can be cut back after a torn write. */
    r->good_size = (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) ? 0 : -1;

    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';

    rc = mv__buf_printf(&r->line, "{\"type\":\"header\",\"version\":%d",
                        MV_RECORD_VERSION);
    if (!rc) {
        char tool[64];
        snprintf(tool, sizeof tool, "memvigil %s", mv_version());
        rc = kv_str(&r->line, "tool", tool);
    }
    if (!rc)
        rc = kv_str(&r->line, "command", h->command);
    if (!rc)
        rc = kv_int(&r->line, "pid", h->pid);
    if (!rc)
        rc = kv_str(&r->line, "host", host);
    if (!rc)
        rc = kv_int(&r->line, "start_ms", h->start_ms);
    if (!rc)
        rc = kv_int(&r->line, "interval_ms", h->interval_ms);
    if (!rc)
        rc = kv_int(&r->line, "limit_bytes", h->limit_bytes);
    rc = finish_and_emit(r, rc);
    if (rc) {
        close(r->fd);
        mv_buf_release(&r->line);
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

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
    if (!rc)
        rc = kv_int(b, "t_ms", s->timestamp_ms);
    if (!rc)
        rc = kv_int(b, "rss", s->rss_bytes);
    if (!rc)
        rc = kv_int(b, "anon", s->rss_anon_bytes);
    if (!rc)
        rc = kv_int(b, "file", s->rss_file_bytes);
    if (!rc)
        rc = kv_int(b, "shmem", s->rss_shmem_bytes);
    if (!rc)
        rc = kv_int(b, "swap", s->swap_bytes);
    if (!rc)
        rc = kv_int(b, "private", s->private_bytes);
    if (!rc)
        rc = kv_int(b, "working_set", s->working_set_bytes);
    if (!rc)
        rc = kv_int(b, "cg_usage", s->cg_usage_bytes);
    if (!rc)
        rc = kv_int(b, "limit", s->effective_limit_bytes);
    if (!rc)
        rc = kv_double(b, "ratio", s->usage_ratio);
    if (!rc)
        rc = kv_int(b, "oom_kill", s->cg_oom_kill_events);
    if (!rc)
        rc = kv_str(b, "level", mv_level_name(level));
    if (!rc)
        rc = kv_double(b, "growth_bps", growth_bytes_per_s);
    if (!rc)
        rc = kv_double(b, "ttl_s", time_to_limit_s);
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
        rc = kv_int(b, "t_ms", ev->timestamp_ms);
    if (!rc)
        rc = kv_str(b, "event", mv_event_kind_name(ev->kind));
    if (!rc)
        rc = kv_str(b, "level", mv_level_name(ev->level));
    if (!rc && ev->kind == MV_EVENT_LEVEL)
        rc = kv_str(b, "prev_level", mv_level_name(ev->prev_level));
    if (!rc && ev->subject)
        rc = kv_str(b, "subject", ev->subject);
    if (!rc)
        rc = kv_double(b, "growth_bps", ev->growth_bytes_per_s);
    if (!rc)
        rc = kv_double(b, "ttl_s", ev->time_to_limit_s);
    if (!rc) {
        char msg[sizeof ev->message];
        /* message is a fixed array: never read past it. */
        memcpy(msg, ev->message, sizeof msg);
        msg[sizeof msg - 1] = '\0';
        rc = kv_str(b, "message", msg);
    }
    return finish_and_emit(r, rc);
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
        rc = kv_int(b, "t_ms", t_ms);
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
        rc = kv_int(b, "t_ms", t_ms);
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
                          double per1000)
{
    if (!r || !unit)
        return -EINVAL;
    mv_buf *b = &r->line;
    mv__buf_reset(b);
    int rc = mv__buf_puts(b, "{\"type\":\"progress\"");
    if (!rc)
        rc = kv_int(b, "t_ms", t_ms);
    if (!rc)
        rc = kv_str(b, "unit", unit);
    if (!rc)
        rc = kv_int(b, "units", units);
    if (!rc)
        rc = kv_int(b, "private", private_bytes);
    if (!rc)
        rc = kv_double(b, "per1000", isinf(per1000) ? NAN : per1000);
    return finish_and_emit(r, rc);
}

uint64_t mv__recorder_app_skipped(const mv__recorder *r)
{
    return r ? r->app_skipped : 0;
}

void mv__recorder_add_app_skipped(mv__recorder *r, uint64_t n)
{
    if (r)
        r->app_skipped += n;
}

uint64_t mv__recorder_lost(const mv__recorder *r)
{
    return r ? r->lost : 0;
}

void mv__recorder_close(mv__recorder *r)
{
    if (!r)
        return;
    /* Nothing is buffered in user space; make the file durable. Errors
     * (e.g. EINVAL on a character device) do not matter here. */
    (void)fdatasync(r->fd);
    close(r->fd);
    mv_buf_release(&r->line);
    free(r);
}
