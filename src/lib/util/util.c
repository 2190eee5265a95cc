/*
 * util.c — shared helpers: the growable buffer (public mv_buf plus internal
 * appenders), JSON literal writers, bounded reads of /proc-like files,
 * clocks, human-readable sizes and durations, error strings and the version.
 *
 * Buffers grow geometrically and keep a terminating NUL so their contents can
 * be handed to string functions; on allocation failure the buffer is left as
 * it was, so a caller can report -ENOMEM without losing what it had.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors and version ---- */

const char *mv_strerror(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case 0: return "success";
    case ESRCH: return "no such process";
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EINVAL: return "invalid argument";
    case ENOMEM: return "out of memory";
    case ENOSPC: return "limit reached (no space)";
    case EADDRINUSE: return "address already in use";
    case ECHILD: return "object inherited across fork; only release is allowed";
    case EFBIG: return "file too large";
    default: return strerror(err); /* glibc: static strings for known codes */
    }
}

const char *mv_version(void) { return MV_VERSION_STRING; }

/* ---- buffer ---- */

void mv_buf_init(mv_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mv_buf_release(mv_buf *b)
{
    if (!b)
        return;
    free(b->data);
    mv_buf_init(b);
}

int mv_buf_append(mv_buf *b, const void *data, size_t n)
{
    if (!b || (!data && n))
        return -EINVAL;
    return mv__buf_append(b, data, n);
}

void mv__buf_reset(mv_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int mv__buf_reserve(mv_buf *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int mv__buf_append(mv_buf *b, const char *data, size_t n)
{
    int rc = mv__buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int mv__buf_puts(mv_buf *b, const char *s) { return mv__buf_append(b, s, strlen(s)); }

int mv__buf_vprintf(mv_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return mv__buf_append(b, small, (size_t)n);
    int rc = mv__buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int mv__buf_printf(mv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mv__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- JSON ---- */

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2)
        n = 2;
    else if ((c & 0xF0) == 0xE0)
        n = 3;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

int mv__buf_json_string(mv_buf *b, const char *s)
{
    size_t start_len = b->len;
    int rc = mv__buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (!rc && *p) {
        unsigned char c = *p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rc = mv__buf_append(b, esc, 2);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': rc = mv__buf_append(b, "\\n", 2); break;
            case '\r': rc = mv__buf_append(b, "\\r", 2); break;
            case '\t': rc = mv__buf_append(b, "\\t", 2); break;
            default:
                snprintf(esc, sizeof esc, "\\u%04x", c);
                rc = mv__buf_append(b, esc, 6);
            }
            p++;
        } else {
            size_t n = utf8_seq_len(p);
            if (n == 0) {
                rc = mv__buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
                p++;
            } else {
                rc = mv__buf_append(b, (const char *)p, n);
                p += n;
            }
        }
    }
    if (!rc)
        rc = mv__buf_append(b, "\"", 1);
    if (rc) { /* leave b as it was */
        b->len = start_len;
        if (b->data)
            b->data[b->len] = '\0';
    }
    return rc;
}

int mv__buf_json_double(mv_buf *b, double v)
{
    if (!isfinite(v))
        return mv__buf_append(b, "null", 4);
    return mv__buf_printf(b, "%.17g", v);
}

int mv__buf_json_int(mv_buf *b, int64_t v)
{
    if (v == MV_NA)
        return mv__buf_append(b, "null", 4);
    return mv__buf_printf(b, "%" PRId64, v);
}

/* ---- files ---- */

ssize_t mv__read_file(const char *path, mv_buf *buf, size_t max_bytes)
{
    mv__buf_reset(buf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t total = 0;
    for (;;) {
        /* /proc files report size 0: read in chunks until EOF. */
        int rc = mv__buf_reserve(buf, 4096);
        if (rc) {
            close(fd);
            return rc;
        }
        size_t room = buf->cap - buf->len - 1;
        ssize_t n = read(fd, buf->data + buf->len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        buf->len += (size_t)n;
        total += n;
        buf->data[buf->len] = '\0';
        if ((size_t)total > max_bytes) {
            close(fd);
            return -EFBIG;
        }
    }
    close(fd);
    if (buf->data)
        buf->data[buf->len] = '\0';
    else if (mv__buf_reserve(buf, 0) == 0)
        buf->data[0] = '\0';
    return total;
}

/* ---- clocks ---- */

static int64_t ts_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mv__now_wall_ms(void) { return ts_ms(CLOCK_REALTIME); }
int64_t mv__now_mono_ms(void) { return ts_ms(CLOCK_MONOTONIC); }

int64_t mv__thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- human-readable ---- */

int mv__double_to_i64(double v, int64_t *out)
{
    /* -0x1p63 is INT64_MIN exactly; 0x1p63 is one past INT64_MAX. The
     * comparisons are false for NAN, so it is refused too. */
    if (!(v >= -0x1p63 && v < 0x1p63))
        return -ERANGE;
    *out = (int64_t)v;
    return 0;
}

int64_t mv__double_to_i64_or(double v, int64_t fallback)
{
    int64_t x;
    return mv__double_to_i64(v, &x) == 0 ? x : fallback;
}

char *mv__human_bytes_d(double bytes, char *out, size_t n)
{
    int64_t b;
    if (mv__double_to_i64(round(bytes), &b) != 0 || b == MV_UNLIMITED) {
        snprintf(out, n, "n/a");
        return out;
    }
    if (b == MV_NA) {   /* -1 byte is a real figure here, not "unknown" */
        snprintf(out, n, "-1 B");
        return out;
    }
    return mv__human_bytes(b, out, n);
}

char *mv__human_bytes(int64_t bytes, char *out, size_t n)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes == MV_NA) {
        snprintf(out, n, "n/a");
        return out;
    }
    if (bytes == MV_UNLIMITED) {
        snprintf(out, n, "unlimited");
        return out;
    }
    const char *sign = bytes < 0 ? "-" : "";
    double v = bytes < 0 ? -(double)bytes : (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, n, "%s%.0f B", sign, v);
    else if (v < 10.0)
        snprintf(out, n, "%s%.1f %s", sign, v, units[u]);
    else
        snprintf(out, n, "%s%.0f %s", sign, v, units[u]);
    return out;
}

char *mv__human_rate(double bytes_per_second, char *out, size_t n)
{
    char b[32];
    if (isnan(bytes_per_second) || isinf(bytes_per_second)) {
        snprintf(out, n, "n/a");
        return out;
    }
    mv__human_bytes_d(bytes_per_second * 3600.0, b, sizeof b);
    if (strcmp(b, "n/a") == 0)
        snprintf(out, n, "n/a");
    else
        snprintf(out, n, "%s/h", b);
    return out;
}

char *mv__human_eta(double s, char *out, size_t n)
{
    if (isfinite(s) && s > MV_ETA_SAY_MAX_S) {
        snprintf(out, n, "more than %.0f days", MV_ETA_SAY_MAX_S / 86400.0);
        return out;
    }
    return mv__human_duration(s, out, n);
}

char *mv__human_duration(double s, char *out, size_t n)
{
    if (isnan(s)) {
        snprintf(out, n, "n/a");
        return out;
    }
    if (isinf(s)) {
        snprintf(out, n, "never");
        return out;
    }
    if (s < 0)
        s = 0;
    if (s > 1e15) /* ~31 million years; beyond it the cast would overflow */
        s = 1e15;
    uint64_t t = (uint64_t)(s + 0.5);
    uint64_t d = t / 86400, h = (t % 86400) / 3600, m = (t % 3600) / 60, sec = t % 60;
    /* a zero second unit is left out: "6 h", not "6 h 0 min" */
    if (d > 0 && h > 0)
        snprintf(out, n, "%" PRIu64 " d %" PRIu64 " h", d, h);
    else if (d > 0)
        snprintf(out, n, "%" PRIu64 " d", d);
    else if (h > 0 && m > 0)
        snprintf(out, n, "%" PRIu64 " h %" PRIu64 " min", h, m);
    else if (h > 0)
        snprintf(out, n, "%" PRIu64 " h", h);
    else if (m > 0 && sec > 0)
        snprintf(out, n, "%" PRIu64 " min %" PRIu64 " s", m, sec);
    else if (m > 0)
        snprintf(out, n, "%" PRIu64 " min", m);
    else if (s < 10 && s != (double)t)
        snprintf(out, n, "%.1f s", s);
    else
        snprintf(out, n, "%" PRIu64 " s", sec);
    return out;
}

int mv__parse_size(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v))
        return -EINVAL;
    while (*end == ' ')
        end++;
    double mult = 1;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': mult = 1; end++; break;
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: return -EINVAL;
    }
    if (mult > 1) { /* optional "i", "iB", "B" after the prefix */
        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end != '\0')
        return -EINVAL;
    double r = v * mult;
    if (r >= 9.2e18)
        return -EINVAL;
    *out = (int64_t)r;
    return 0;
}

size_t mv__strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return len;
}

int mv__strdup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}
