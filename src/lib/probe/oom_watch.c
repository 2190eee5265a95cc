/*
 * oom_watch.c — the kernel log followed for OOM-kill reports (see
 * oom_watch.h), and /proc/vmstat's oom_kill.
 *
 * /dev/kmsg returns one record per read(); a regular file (tests, a saved
 * log) returns many, so records are split on newlines and an incomplete
 * tail is kept for the next poll. EPIPE means the reader's position was
 * overwritten in the kernel's ring; the next read goes on from the oldest
 * record still there, so it is counted and told once, not fatal. Any other
 * read error ends kernel-log reading for good (told once).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oom_report.h"
#include "oom_watch.h"
#include "util.h"

/* A kmsg record is at most ~1 KiB of text plus its dictionary; 8 KiB reads
 * never see EINVAL (buffer too small). */
#define READ_BYTES 8192
/* /proc/vmstat is about 5 KiB on 6.x kernels. */
#define VMSTAT_MAX_BYTES (64 * 1024)
/* The kernel builds all of /proc/vmstat (some 180 counters summed over
 * CPUs) for one read: ~70 us, as much as the rest of a tick
 * (bench_oom_watch). The host's kill count is read again after this long,
 * or at once when the kernel log has just reported a kill. */
#define VMSTAT_EVERY_MS 30000

enum notice { NOTICE_NONE = 0, NOTICE_DENIED, NOTICE_FAILED };

struct mv__oom_watch {
    int fd;                      /* the kernel log; -1 when none */
    char *kmsg_path;             /* owned; NULL when none */
    char *proc_root;             /* owned */
    mv__oom_parser parser;
    char buf[2 * READ_BYTES];    /* carry (an incomplete record) + read */
    size_t carry;                /* bytes of buf held from the last read */
    int err;                     /* errno that ended the log, 0 */
    int told_err;                /* the end was told */
    uint64_t lost_records;       /* EPIPE: overwritten before read */
    uint64_t told_lost;
    uint64_t dropped_kills;      /* beyond poll's max */
    uint64_t told_dropped;
    mv_buf vmstat;
    int64_t vmstat_at_ms;         /* monotonic time of the last read; -1 */
    int64_t host_kills;           /* its result */
    int kill_seen;                /* a poll found a kill since that read */
};

static int open_log(mv__oom_watch *w)
{
    w->fd = open(w->kmsg_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (w->fd < 0) {
        w->err = errno;
        return -1;
    }
    if (lseek(w->fd, 0, SEEK_END) < 0 && errno != ESPIPE) {
        w->err = errno;
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    return 0;
}

int mv__oom_watch_new(const char *kmsg_path, const char *proc_root,
                      mv__oom_watch **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    mv__oom_watch *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->fd = -1;
    w->vmstat_at_ms = -1;
    w->host_kills = MV_NA;
    mv__oom_parser_init(&w->parser);
    w->proc_root = strdup(proc_root ? proc_root : "/proc");
    if (kmsg_path && kmsg_path[0])
        w->kmsg_path = strdup(kmsg_path);
    if (!w->proc_root || (kmsg_path && kmsg_path[0] && !w->kmsg_path)) {
        mv__oom_watch_free(w);
        return -ENOMEM;
    }
    if (w->kmsg_path)
        (void)open_log(w);
    *out = w;
    return 0;
}

void mv__oom_watch_free(mv__oom_watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->kmsg_path);
    free(w->proc_root);
    mv_buf_release(&w->vmstat);
    free(w);
}

int mv__oom_watch_kmsg_ok(const mv__oom_watch *w)
{
    return w && w->fd >= 0;
}

/* Feeds the complete records in buf[0, len) to the parser; returns the
 * bytes consumed (an incomplete last record stays). */
static size_t feed_records(mv__oom_watch *w, size_t len, mv_oom_kill *kills,
                           size_t max, size_t *n)
{
    size_t at = 0;
    while (at < len) {
        char *nl = memchr(w->buf + at, '\n', len - at);
        if (!nl)
            break;
        size_t rlen = (size_t)(nl - (w->buf + at)) + 1;
        int64_t seq, ts;
        const char *text;
        size_t tlen;
        /* dictionary lines (" KEY=value") and garbage fail the split */
        if (mv__kmsg_record_split(w->buf + at, rlen, &seq, &ts, &text, &tlen) == 0) {
            mv_oom_kill k;
            if (mv__oom_parser_feed(&w->parser, seq, ts, text, tlen, &k)) {
                w->kill_seen = 1;
                if (*n < max)
                    kills[(*n)++] = k;
                else
                    w->dropped_kills++;
            }
        }
        at += rlen;
    }
    return at;
}

size_t mv__oom_watch_poll(mv__oom_watch *w, mv_oom_kill *kills, size_t max)
{
    size_t n = 0;
    if (!w || w->fd < 0 || (!kills && max > 0))
        return 0;
    for (int i = 0; i < MV_OOM_WATCH_MAX_RECORDS; i++) {
        ssize_t r = read(w->fd, w->buf + w->carry, READ_BYTES);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EPIPE) {
            w->lost_records++;
            continue;
        }
        if (r < 0 && errno == EAGAIN)
            break;
        if (r < 0) {
            w->err = errno;
            close(w->fd);
            w->fd = -1;
            break;
        }
        if (r == 0)  /* a regular file's end */
            break;
        size_t len = w->carry + (size_t)r;
        size_t used = feed_records(w, len, kills, max, &n);
        w->carry = len - used;
        if (w->carry >= READ_BYTES)  /* no newline in 8 KiB: not a log */
            w->carry = 0;
        else if (w->carry > 0)
            memmove(w->buf, w->buf + used, w->carry);
    }
    return n;
}

int mv__oom_watch_take_notice(mv__oom_watch *w, char *buf, size_t n)
{
    if (!w || !buf || n == 0)
        return 0;
    if (w->kmsg_path && w->fd < 0 && w->err && !w->told_err) {
        w->told_err = 1;
        if (w->err == EACCES || w->err == EPERM)
            snprintf(buf, n, "kernel log %s not permitted (%s; needs "
                     "CAP_SYSLOG or kernel.dmesg_restrict=0): OOM kills are "
                     "counted from the cgroup's memory.events only, without "
                     "the victim", w->kmsg_path, strerror(w->err));
        else
            snprintf(buf, n, "kernel log %s unreadable (%s): OOM kills are "
                     "counted from the cgroup's memory.events only, without "
                     "the victim", w->kmsg_path, strerror(w->err));
        return 1;
    }
    if (w->lost_records > w->told_lost && w->told_lost == 0) {
        w->told_lost = w->lost_records;
        snprintf(buf, n, "kernel log %s: records were overwritten before they "
                 "were read; an OOM-kill report may have been missed",
                 w->kmsg_path);
        return 1;
    }
    if (w->dropped_kills > w->told_dropped && w->told_dropped == 0) {
        w->told_dropped = w->dropped_kills;
        snprintf(buf, n, "kernel log %s: more OOM kills at once than are "
                 "kept; %" PRIu64 " not reported one by one", w->kmsg_path,
                 w->dropped_kills);
        return 1;
    }
    return 0;
}

int64_t mv__oom_watch_host_kills(mv__oom_watch *w)
{
    char path[4096];
    if (!w)
        return MV_NA;
    int64_t now = mv__now_mono_ms();
    if (w->vmstat_at_ms >= 0 && !w->kill_seen &&
        now - w->vmstat_at_ms < VMSTAT_EVERY_MS)
        return w->host_kills;
    w->vmstat_at_ms = now;
    w->kill_seen = 0;
    w->host_kills = MV_NA;
    if (snprintf(path, sizeof path, "%s/vmstat", w->proc_root) < (int)sizeof path &&
        mv__read_file(path, &w->vmstat, VMSTAT_MAX_BYTES) >= 0 && w->vmstat.data)
        w->host_kills = mv__parse_vmstat_oom_kill(w->vmstat.data);
    return w->host_kills;
}
