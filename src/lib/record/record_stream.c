/*
 * record_stream.c — a recording (or any text input) read as one bounded
 * stream: the files of a rotated recording joined in segment order
 * (mv__record_stream_open / _close, a fopencookie(3) FILE), the refusal
 * within the first MiB of inputs that cannot be text, and the whole stream
 * read into a buffer (mv__record_load_text, mv__record_load); see record.h.
 * The lines it gives are parsed by record_read.c.
 *
 * DESIGN. Rotated recordings: the files of one recording are recognised by
 * their headers, not their names — the same command, pid, host and
 * start_ms, and a "segment" number — because a crash between two renames
 * or a person moving files can leave the names out of step. The stream
 * gives the segments in order as one text shaped like a single recording
 * (one header, then every line), so each reader above it (analyze, report,
 * estimate) reads a FILE as before, and a missing segment or a stray file
 * becomes a note rather than an error. It is a fopencookie(3) FILE over the
 * segment files rather than a buffer, so a GiB recording costs a read chunk
 * and one partial line, not a GiB: bytes of an earlier file are given only
 * up to its last newline seen so far, and what is left at its end (a torn
 * last line) is dropped. The files are chosen when the stream is opened;
 * path stays open from then on, an earlier file is opened only when the
 * stream reaches it (so a recording of any number of segments needs two
 * descriptors) and must be the file chosen (same st_dev/st_ino), found
 * under its name or, after a rotation while reading (a rename), under a
 * later path.k — so a rotation changes nothing; a file that cannot be
 * found or opened then is left out with a note. A file that shrinks while
 * read (truncated) keeps what was read of it, with a note.
 * mv__record_load is the same stream read into a buffer, so the joining
 * rules have this one home.
 *
 * Inputs that may be anything (a FIFO, /dev/zero) are read in chunks and
 * refused within the first MiB that cannot be text: a NUL byte, an
 * over-long line, the caller's sniff.
 *
 * Thread-safety: reentrant, no shared state; one thread reads a stream.
 * Ownership: the stream owns its FILE, head and descriptors until
 * mv__record_stream_close (fclose of the FILE frees them through
 * src_close).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

#define MAX_LINE_BYTES MV_RECORD_MAX_LINE_BYTES

/* ---- bounded reading of inputs that may be anything ---- */

/* Read size: small enough that a refusal comes early, large enough that a
 * GiB recording is a few thousand reads. */
#define TEXT_CHUNK ((size_t)64 << 10)

/* What the text checks know about one file's bytes so far. */
typedef struct text_scan {
    size_t line_len;        /* bytes of the current line so far */
    long long lineno;       /* 1-based number of the current line */
    int before_first;       /* no non-blank line has ended yet */
    char first;             /* first non-blank byte of that line, or 0 */
    int doc;                /* the first line is one JSON document */
} text_scan;

/* Scans n new bytes at p (offset off in the file); 0, or -EINVAL with why. */
static int text_scan_bytes(text_scan *sc, const char *p, size_t n, size_t off,
                           size_t max_doc, char *why, size_t whylen)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\0') {
            snprintf(why, whylen, "binary data (a NUL byte at offset %zu, "
                     "line %lld): not a text file", off + i, sc->lineno);
            return -EINVAL;
        }
        if (c == '\n') {
            if (sc->first)
                sc->before_first = 0;
            sc->line_len = 0;
            sc->lineno++;
            continue;
        }
        if (sc->before_first && !sc->first && c != ' ' && c != '\t' &&
            c != '\r')
            sc->first = c;
        if (++sc->line_len > MAX_LINE_BYTES && !sc->doc) {
            if (sc->before_first && max_doc > 0 &&
                (sc->first == '{' || sc->first == '[')) {
                sc->doc = 1;   /* one JSON document: capped as a whole */
                continue;
            }
            snprintf(why, whylen, "line %lld is longer than 1 MiB: not a "
                     "recording, CSV or JSON file", sc->lineno);
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- the joined stream (mv__record_stream) ---- */

/* Consecutive missing path.k names after which the search stops: rotation
 * leaves the names contiguous; only a crash mid-rotation or a person
 * deleting files leaves holes, and those are short. */
#define JOIN_MAX_HOLE 16

/* The highest segment taken (2^53, as times are): a header with a segment
 * outside 1 .. MAX_SEGMENT is read as one without, so no count overflows. */
#define MAX_SEGMENT ((int64_t)1 << 53)

/* One file of the stream, in the order given. */
typedef struct src_file {
    int fd;                /* path: open from selection until its end; an
                              earlier file: open while read; -1 otherwise */
    char *name;            /* for notes; owned */
    int k;                 /* found as path.k; 0 for path */
    dev_t dev;             /* the file chosen (fstat at selection) */
    ino_t ino;
    int64_t size;          /* st_size then, or -1 when not a regular file */
    int64_t segment;
    int is_path;           /* the file asked for: its refusal is the
                              stream's, its torn last line stays */
    int skip_header;       /* leave its first line out */
} src_file;

struct mv__record_src {
    mv__record_stream *s;
    src_file *files;
    size_t nfiles, cur;
    /* the current file: bytes read and not yet given */
    mv_buf buf;
    size_t pos;            /* given so far */
    size_t ready;          /* may be given: complete lines (all of path) */
    int eof;               /* the current file is read to its end */
    int started;           /* the current file's first read happened */
    int emitted;           /* some byte of some file was made ready */
    int truncated;         /* the current file shrank while read */
    text_scan sc;          /* checks of the current file */
    size_t off;            /* bytes read of the current file */
    text_scan path_sc;     /* path's checks after its head (open time) */
    size_t path_off;
    size_t total;          /* bytes read of all files */
    size_t max_bytes, max_doc, doc_cap;
    mv_buf head;           /* path's first bytes (s->head) */
};

/* The header on the first line of data (len bytes), or -EINVAL. */
static int header_of(const char *data, size_t len, mv__record_line *h)
{
    const char *nl = memchr(data, '\n', len);

    if (!nl || mv__record_parse_line(data, (size_t)(nl - data), 0, h) != 0 ||
        h->kind != MV_REC_HEADER)
        return -EINVAL;
    return 0;
}

/* Reads the header line of the file open at fd (its first 8 KiB, with
 * pread: the offset stays 0). 0, -errno, or -EINVAL when it does not start
 * with one. */
static int fd_header(int fd, mv__record_line *h)
{
    char buf[8192];
    ssize_t n;

    do
        n = pread(fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return header_of(buf, (size_t)n, h);
}

static int same_recording(const mv__record_line *a, const mv__record_line *b)
{
    return a->t_ms == b->t_ms && a->pid == b->pid &&
           strcmp(a->command, b->command) == 0 &&
           strcmp(a->host, b->host) == 0;
}

static int file_cmp(const void *a, const void *b)
{
    const src_file *x = a, *y = b;
    return x->segment < y->segment ? -1 : x->segment > y->segment;
}

/* Appends to the note, keeping it one line that fits. */
static void note_add(mv__record_join *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_add(mv__record_join *info, const char *fmt, ...)
{
    size_t len = strlen(info->note);
    va_list ap;

    if (len + 1 >= sizeof info->note)
        return;
    va_start(ap, fmt);
    vsnprintf(info->note + len, sizeof info->note - len, fmt, ap);
    va_end(ap);
}

/* note_add for notes made while reading: fmt starts with "; ", which is
 * left out when the note is still empty. */
static void note_more(mv__record_join *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_more(mv__record_join *info, const char *fmt, ...)
{
    char tmp[sizeof info->note];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    note_add(info, "%s", info->note[0] == '\0' && strncmp(tmp, "; ", 2) == 0
                             ? tmp + 2 : tmp);
}

static void file_close(src_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void src_free(mv__record_src *sr)
{
    if (!sr)
        return;
    for (size_t i = 0; i < sr->nfiles; i++) {
        file_close(&sr->files[i]);
        free(sr->files[i].name);
    }
    free(sr->files);
    mv_buf_release(&sr->buf);
    mv_buf_release(&sr->head);
    free(sr);
}

/* Adds a file to the list (name copied): fd (-1 for an earlier file,
 * opened when reached), found as path.k, st from fstat at selection.
 * 0 or -ENOMEM (fd then closed). */
static int src_add(mv__record_src *sr, size_t *cap, int fd, const char *name,
                   int k, const struct stat *st, int64_t segment)
{
    if (sr->nfiles == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        src_file *nf = realloc(sr->files, nc * sizeof *nf);
        if (!nf) {
            if (fd >= 0)
                close(fd);
            return -ENOMEM;
        }
        sr->files = nf;
        *cap = nc;
    }
    src_file *f = &sr->files[sr->nfiles];
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->k = k;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = S_ISREG(st->st_mode) ? (int64_t)st->st_size : -1;
    f->segment = segment;
    f->name = strdup(name);
    if (!f->name) {
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    sr->nfiles++;
    return 0;
}

/* The checks every byte read goes through: the cap in all, the text
 * checks of the current file, a JSON document's cap. 0 or -errno (why set
 * for -EINVAL). */
static int src_check(mv__record_src *sr, const char *p, size_t n, int is_path,
                     char *why, size_t whylen)
{
    sr->total += n;
    if (sr->total > sr->max_bytes)
        return -EFBIG;
    int rc = text_scan_bytes(&sr->sc, p, n, sr->off, is_path ? sr->max_doc : 0,
                             why, whylen);
    sr->off += n;
    if (rc)
        return rc;
    if (sr->sc.doc && (!sr->doc_cap || sr->max_doc < sr->doc_cap))
        sr->doc_cap = sr->max_doc;
    if (is_path && sr->doc_cap && sr->off > sr->doc_cap) {
        snprintf(why, whylen, "a JSON document larger than %zu MiB",
                 sr->doc_cap >> 20);
        return -EINVAL;
    }
    return 0;
}

/* read(2) of up to TEXT_CHUNK bytes of fd appended to b; bytes or -errno. */
static ssize_t read_chunk(int fd, mv_buf *b)
{
    if (mv__buf_reserve(b, TEXT_CHUNK) != 0)
        return -ENOMEM;
    for (;;) {
        ssize_t n = read(fd, b->data + b->len, TEXT_CHUNK);
        if (n >= 0) {
            b->len += (size_t)n;
            b->data[b->len] = '\0';
            return n;
        }
        if (errno != EINTR)
            return -errno;
    }
}

/* Starts the checks of the current file: path's go on from its head. */
static void src_begin(mv__record_src *sr)
{
    if (sr->cur < sr->nfiles && sr->files[sr->cur].is_path) {
        sr->sc = sr->path_sc;
        sr->off = sr->path_off;
        return;
    }
    memset(&sr->sc, 0, sizeof sr->sc);
    sr->sc.lineno = 1;
    sr->sc.before_first = 1;
    sr->off = 0;
}

/* Moves on to the next file (the current one is done). */
static void src_next(mv__record_src *sr)
{
    file_close(&sr->files[sr->cur]);
    sr->cur++;
    sr->buf.len = 0;
    sr->pos = sr->ready = 0;
    sr->eof = sr->started = sr->truncated = 0;
    src_begin(sr);
}

/* Leaves the rest of the current earlier file out and moves on; when
 * nothing was given yet, the next file's header is the recording's. */
static void src_leave_out(mv__record_src *sr)
{
    sr->s->join.skipped++;
    if (sr->cur + 1 < sr->nfiles && !sr->emitted)
        sr->files[sr->cur + 1].skip_header = 0;
    src_next(sr);
}

/* Opens name if it is still the file f chosen at open time: the fd, or -1
 * with *err (an errno, or 0 when name is another file now). */
static int open_same(const char *name, const src_file *f, int *err)
{
    struct stat st;
    /* non-blocking: a FIFO under that name must not hang the open */
    int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    if (st.st_dev != f->dev || st.st_ino != f->ino) {
        *err = 0;
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens the current (earlier) file when the stream reaches it: the file
 * chosen at open time, under its name or — renamed by a rotation since —
 * under a later path.j. 0, or -1 when it is left out (with a note). */
static int src_reopen(mv__record_src *sr)
{
    src_file *f = &sr->files[sr->cur];
    const char *path = sr->files[sr->nfiles - 1].name;
    char name[4096];
    struct stat st;
    int err = 0;

    f->fd = open_same(f->name, f, &err);
    if (f->fd < 0 && (err == 0 || err == ENOENT)) {
        int hole = 0;
        for (int j = f->k + 1; j < MV_RECORD_MAX_KEEP && hole < JOIN_MAX_HOLE;
             j++) {
            if (mv__record_segment_path(path, j, name, sizeof name) != 0)
                break;
            if (stat(name, &st) != 0) {
                hole += errno == ENOENT;
                continue;
            }
            hole = 0;
            if (st.st_dev == f->dev && st.st_ino == f->ino) {
                int e2 = 0;
                f->fd = open_same(name, f, &e2);
                if (f->fd < 0 && e2 != 0)
                    err = e2;
                break;
            }
        }
    }
    if (f->fd >= 0) {
        /* an inode number reused since: not the file chosen */
        mv__record_line *ph = malloc(sizeof *ph);
        int hrc = ph ? fd_header(f->fd, ph) : -ENOMEM;
        if (hrc == 0 && ph->segment == f->segment) {
            free(ph);
            return 0;
        }
        free(ph);
        file_close(f);
        err = hrc < 0 && hrc != -EINVAL ? -hrc : 0;
    }
    mv__record_join *info = &sr->s->join;
    if (err == 0 || err == ENOENT)
        note_more(info, "; %s changed while reading (rotated?): left out",
                  f->name);
    else
        note_more(info, "; %s could not be opened (%s): left out", f->name,
                  strerror(err));
    info->files--;
    src_leave_out(sr);
    return -1;
}

/* Makes more bytes ready, or moves on a file. 0, or -errno for the stream
 * (s->error and join.why are the caller's to set from it). */
static int src_fill(mv__record_src *sr)
{
    mv__record_join *info = &sr->s->join;
    src_file *f = &sr->files[sr->cur];
    char why[sizeof info->why] = "";

    /* what is left is a partial line: keep it at the start */
    if (sr->pos > 0) {
        memmove(sr->buf.data, sr->buf.data + sr->pos, sr->buf.len - sr->pos);
        sr->buf.len -= sr->pos;
        sr->pos = sr->ready = 0;
    }
    if (sr->eof) {
        if (sr->buf.len > 0 && !f->skip_header) {
            info->torn_dropped++;
            if (!sr->truncated)   /* the truncation's note says it */
                note_more(info, "; a torn last line of %s was left out",
                          f->name);
        }
        src_next(sr);
        return 0;
    }
    if (!sr->started && f->fd < 0 && src_reopen(sr) != 0)
        return 0;
    size_t old = sr->buf.len;
    if (!sr->started && f->is_path) {
        /* path's first bytes were read (and checked) at open time */
        if (mv__buf_append(&sr->buf, sr->head.data, sr->head.len) != 0)
            return -ENOMEM;
        sr->started = 1;
        if (sr->head.len == 0)
            sr->eof = 1;
    } else {
        sr->started = 1;
        ssize_t n = read_chunk(f->fd, &sr->buf);
        if (n < 0)
            return (int)n;
        struct stat st;
        if (n == 0) {
            sr->eof = 1;
            /* shrunk under the reader: what was read stays, with a note */
            if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) &&
                (uint64_t)st.st_size < (uint64_t)sr->off) {
                sr->truncated = 1;
                info->truncated++;
                note_more(info, "; %s was truncated while being read (to "
                          "%lld bytes, after %zu were read): the rest of it "
                          "is not there", f->name, (long long)st.st_size,
                          sr->off);
            }
        }
        int rc = src_check(sr, sr->buf.data + old, (size_t)n, f->is_path, why,
                           sizeof why);
        if (rc == -EINVAL && !f->is_path) {
            /* an earlier file that is not text: the rest of it is left out */
            note_more(info, "; the rest of %s was left out (%s)", f->name, why);
            src_leave_out(sr);
            return 0;
        }
        if (rc) {
            if (rc == -EINVAL)
                mv__strlcpy(info->why, why, sizeof info->why);
            return rc;
        }
    }
    if (f->skip_header) {
        char *nl = memchr(sr->buf.data, '\n', sr->buf.len);
        if (!nl) {
            sr->buf.len = 0;   /* still in the header line */
            return 0;
        }
        sr->pos = (size_t)(nl - sr->buf.data) + 1;
        f->skip_header = 0;
    }
    if (f->is_path) {
        sr->ready = sr->buf.len;   /* its torn last line is the reader's */
    } else {
        const char *nl = sr->buf.len > sr->pos
            ? memrchr(sr->buf.data + sr->pos, '\n', sr->buf.len - sr->pos)
            : NULL;
        sr->ready = nl ? (size_t)(nl - sr->buf.data) + 1 : sr->pos;
    }
    if (sr->ready > sr->pos)
        sr->emitted = 1;
    return 0;
}

static ssize_t src_read(void *cookie, char *dst, size_t size)
{
    mv__record_src *sr = cookie;

    for (;;) {
        if (sr->pos < sr->ready) {
            size_t n = sr->ready - sr->pos;
            if (n > size)
                n = size;
            memcpy(dst, sr->buf.data + sr->pos, n);
            sr->pos += n;
            return (ssize_t)n;
        }
        if (sr->s->error) {
            errno = -sr->s->error;
            return -1;
        }
        if (sr->cur >= sr->nfiles)
            return 0;
        int rc = src_fill(sr);
        if (rc) {
            sr->s->error = rc;
            errno = -rc;
            return -1;
        }
    }
}

static int src_close(void *cookie)
{
    src_free(cookie);
    return 0;
}

/* Reads path's head into sr->head with the checks, then sniffs it. */
static int read_head(mv__record_src *sr, int fd, mv__record_sniff_fn sniff,
                     void *sniff_ctx, char *why, size_t whylen)
{
    while (sr->head.len <= MV_RECORD_SNIFF_BYTES) {
        size_t old = sr->head.len;
        ssize_t n = read_chunk(fd, &sr->head);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        int rc = src_check(sr, sr->head.data + old, (size_t)n, 1, why, whylen);
        if (rc)
            return rc;
    }
    if (mv__buf_reserve(&sr->head, 0) != 0)
        return -ENOMEM;
    sr->head.data[sr->head.len] = '\0';
    if (sniff && sr->head.len > MV_RECORD_SNIFF_BYTES) {
        int s = sniff(sr->head.data, MV_RECORD_SNIFF_BYTES, sniff_ctx, why,
                      whylen);
        if (s < 0)
            return -EINVAL;
        if (s > 0 && (!sr->doc_cap || (size_t)s < sr->doc_cap))
            sr->doc_cap = (size_t)s;
        if (sr->doc_cap && sr->head.len > sr->doc_cap) {
            snprintf(why, whylen, "a JSON document larger than %zu MiB",
                     sr->doc_cap >> 20);
            return -EINVAL;
        }
    }
    return 0;
}

/* Chooses the earlier files of the rotated recording whose newest file
 * has header h (segment 2 .. MAX_SEGMENT) and puts them, oldest first,
 * before path in sr->files (closed: each is opened when reached), writing
 * the notes. 0 or -ENOMEM. */
static int find_segments(mv__record_src *sr, size_t *cap, const char *path,
                         const mv__record_line *h)
{
    mv__record_join *info = &sr->s->join;
    mv__record_line *ph = malloc(sizeof *ph);
    char name[4096];
    struct stat st;
    int rc = 0, unread = 0;

    if (!ph)
        return -ENOMEM;
    int64_t maxk = h->segment - 1 < MV_RECORD_MAX_KEEP - 1
                       ? h->segment - 1 : MV_RECORD_MAX_KEEP - 1;
    int hole = 0;
    for (int k = 1; k <= maxk && hole < JOIN_MAX_HOLE; k++) {
        if (mv__record_segment_path(path, k, name, sizeof name) != 0)
            break;
        /* non-blocking: a FIFO under that name must not hang the open */
        int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        int frc = fd < 0 ? -errno : fd_header(fd, ph);
        if (frc == 0 && fstat(fd, &st) != 0)
            frc = -errno;
        if (fd >= 0)
            close(fd);
        if (frc == -ENOENT) {
            hole++;
            continue;
        }
        hole = 0;
        if (frc != 0 && frc != -EINVAL)
            unread++;   /* there, but not read: not "rotated away" */
        if (frc != 0 || !same_recording(h, ph) || ph->segment == MV_NA ||
            ph->segment < 1 || ph->segment >= h->segment) {
            info->skipped++;
            if (frc == 0 && same_recording(h, ph) && ph->segment != MV_NA &&
                ph->segment < 1)
                note_add(info, "; skipped %s (segment %lld is not 1 to 2^53)",
                         name, (long long)ph->segment);
            else
                note_add(info, "; skipped %s (%s)", name,
                         frc == -EINVAL ? "no recording header"
                         : frc != 0     ? strerror(-frc)
                                        : "another recording");
            continue;
        }
        rc = src_add(sr, cap, -1, name, k, &st, ph->segment);
        if (rc)
            goto out;
    }
    if (sr->nfiles == 0) {
        note_add(info, "; segment %lld of a rotated recording: the earlier "
                 "segments are not there%s", (long long)h->segment,
                 unread ? " or could not be read" : "");
        goto out;
    }
    qsort(sr->files, sr->nfiles, sizeof *sr->files, file_cmp);

    /* two files claiming one segment: keep the first */
    size_t n = 0;
    char list[512] = "";
    for (size_t i = 0; i < sr->nfiles; i++) {
        src_file *f = &sr->files[i];
        if (n > 0 && f->segment == sr->files[n - 1].segment) {
            info->skipped++;
            file_close(f);
            free(f->name);
            continue;
        }
        if (n == 0)
            info->first_segment = f->segment;
        else
            info->missing += f->segment - sr->files[n - 1].segment - 1;
        f->skip_header = n > 0;
        sr->files[n++] = *f;
        size_t ll = strlen(list);
        if (ll + strlen(f->name) + 8 < sizeof list)
            snprintf(list + ll, sizeof list - ll, "%s, ", f->name);
        else if (ll + 5 < sizeof list && !strstr(list, "..."))
            snprintf(list + ll, sizeof list - ll, "..., ");
    }
    sr->nfiles = n;
    info->files = (int)n + 1;
    info->missing += h->segment - sr->files[n - 1].segment - 1;

    /* the note: what was joined first, then what was not */
    char rest[sizeof info->note];
    mv__strlcpy(rest, info->note, sizeof rest);
    info->note[0] = '\0';
    note_add(info, "joined %d files of a rotated recording, oldest first: "
             "%s%s (segments %lld-%lld)", info->files, list, path,
             (long long)info->first_segment, (long long)h->segment);
    if (info->first_segment > 1)
        note_add(info, "; segments 1-%lld were %s",
                 (long long)info->first_segment - 1,
                 unread ? "not read" : "rotated away");
    if (info->missing > 0)
        note_add(info, "; %lld segment(s) in between are %s",
                 (long long)info->missing, unread ? "not read" : "missing");
    note_add(info, "%s", rest);
out:
    free(ph);
    return rc;
}

int mv__record_stream_open(mv__record_stream *s, const char *path,
                           size_t max_bytes, size_t max_doc_bytes,
                           mv__record_sniff_fn sniff, void *sniff_ctx)
{
    mv__record_src *sr = NULL;
    mv__record_line *h = NULL;
    size_t cap = 0;
    struct stat st;
    int rc = 0, fd;

    if (!s)
        return -EINVAL;
    memset(s, 0, sizeof *s);
    s->join.files = 1;
    s->join.first_segment = s->join.last_segment = MV_NA;
    if (!path)
        return -EINVAL;
    sr = calloc(1, sizeof *sr);
    h = malloc(sizeof *h);
    if (!sr || !h) {
        free(sr);
        free(h);
        return -ENOMEM;
    }
    sr->s = s;
    sr->max_bytes = max_bytes;
    sr->max_doc = max_doc_bytes;
    sr->sc.lineno = 1;
    sr->sc.before_first = 1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto fail;
    }
    rc = read_head(sr, fd, sniff, sniff_ctx, s->join.why, sizeof s->join.why);
    if (rc) {
        close(fd);
        goto fail;
    }
    /* a rotated recording's newest file: its predecessors come first */
    if (header_of(sr->head.data, sr->head.len, h) == 0 &&
        h->segment != MV_NA) {
        if (h->segment < 1 || h->segment > MAX_SEGMENT) {
            /* as if it had none (and no overflow in the counts) */
            note_add(&s->join, "; segment %lld is not 1 to 2^53: read alone",
                     (long long)h->segment);
        } else {
            s->join.first_segment = s->join.last_segment = h->segment;
            if (h->segment > 1)
                rc = find_segments(sr, &cap, path, h);
        }
    }
    if (rc == 0 && fstat(fd, &st) != 0)
        rc = -errno;
    if (rc == 0)
        rc = src_add(sr, &cap, fd, path, 0, &st, s->join.last_segment);
    else
        close(fd);
    if (rc)
        goto fail;
    if (s->join.note[0] == ';')   /* notes without the "joined" sentence */
        memmove(s->join.note, s->join.note + 2, strlen(s->join.note + 2) + 1);
    src_file *last = &sr->files[sr->nfiles - 1];
    last->is_path = 1;
    last->skip_header = sr->nfiles > 1;
    /* path's checks go on from where its head left them */
    sr->path_sc = sr->sc;
    sr->path_off = sr->off;
    src_begin(sr);
    s->size_bytes = 0;
    for (size_t i = 0; i < sr->nfiles; i++) {
        if (sr->files[i].size < 0) {
            s->size_bytes = -1;
            break;
        }
        s->size_bytes += sr->files[i].size;
    }
    free(h);
    h = NULL;
    s->src = sr;
    s->head = sr->head.data;
    s->head_len = sr->head.len;
    cookie_io_functions_t io = { .read = src_read, .close = src_close };
    s->f = fopencookie(sr, "r", io);
    if (!s->f) {
        s->src = NULL;
        rc = -ENOMEM;
        goto fail;
    }
    return 0;
fail:
    free(h);
    src_free(sr);
    if (rc != -EINVAL)
        s->join.why[0] = '\0';
    s->head = NULL;
    s->head_len = 0;
    return rc;
}

void mv__record_stream_close(mv__record_stream *s)
{
    if (!s)
        return;
    if (s->f)
        fclose(s->f);   /* frees s->src (src_close) */
    else
        src_free(s->src);
    s->f = NULL;
    s->src = NULL;
    s->head = NULL;
    s->head_len = 0;
}

ssize_t mv__record_load_text(const char *path, mv_buf *out, size_t max_bytes,
                             size_t max_doc_bytes, mv__record_sniff_fn sniff,
                             void *sniff_ctx, mv__record_join *info)
{
    mv__record_stream s;
    ssize_t rc = 0;

    if (!out) {
        if (info)
            memset(info, 0, sizeof *info);
        return -EINVAL;
    }
    mv__buf_reset(out);
    rc = mv__record_stream_open(&s, path, max_bytes, max_doc_bytes, sniff,
                                sniff_ctx);
    while (rc == 0) {
        if (mv__buf_reserve(out, TEXT_CHUNK) != 0) {
            rc = -ENOMEM;
            break;
        }
        size_t n = fread(out->data + out->len, 1, TEXT_CHUNK, s.f);
        out->len += n;
        if (n == 0) {
            if (ferror(s.f))
                rc = s.error ? s.error : -EIO;
            break;
        }
    }
    if (info)
        *info = s.join;
    mv__record_stream_close(&s);
    if (rc) {
        mv__buf_reset(out);
        return rc;
    }
    if (mv__buf_reserve(out, 0) != 0)
        return -ENOMEM;
    out->data[out->len] = '\0';
    return (ssize_t)out->len;
}

ssize_t mv__record_load(const char *path, mv_buf *out, size_t max_bytes,
                        mv__record_join *info)
{
    return mv__record_load_text(path, out, max_bytes, 0, NULL, NULL, info);
}
