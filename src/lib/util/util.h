/*
 * util.h — small shared helpers of libmemvigil: buffer appends, JSON string
 * escaping, bounded file reads, clocks and human-readable sizes.
 *
 * Thread-safety: every function here is reentrant; a given mv_buf has one
 * owner at a time.
 */
#ifndef MV_UTIL_H
#define MV_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memvigil.h"

/* Visibility: internal functions are hidden from the shared library. */
#define MV_INTERNAL __attribute__((visibility("hidden")))

/* Appends bytes to b, keeping it NUL-terminated. 0 or -ENOMEM (b unchanged). */
MV_INTERNAL int mv__buf_append(mv_buf *b, const char *data, size_t n);
MV_INTERNAL int mv__buf_puts(mv_buf *b, const char *s);
MV_INTERNAL int mv__buf_printf(mv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
MV_INTERNAL int mv__buf_vprintf(mv_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Ensures room for n more bytes plus NUL. 0 or -ENOMEM. */
MV_INTERNAL int mv__buf_reserve(mv_buf *b, size_t n);
/* Forgets the contents but keeps the storage. */
MV_INTERNAL void mv__buf_reset(mv_buf *b);

/* Appends s as a JSON string literal (with quotes), escaping as RFC 8259
 * requires; invalid UTF-8 bytes are replaced by U+FFFD. */
MV_INTERNAL int mv__buf_json_string(mv_buf *b, const char *s);
/* Appends a JSON number, or null when v is NAN; +/-INFINITY become null too
 * (JSON has no infinity) unless inf_as_string, then "+Inf"/"-Inf". */
MV_INTERNAL int mv__buf_json_double(mv_buf *b, double v);
/* Appends an integer, or null for MV_NA. */
MV_INTERNAL int mv__buf_json_int(mv_buf *b, int64_t v);

/* Reads a whole (small, /proc-like) file into buf, at most max_bytes.
 * Returns bytes read (>= 0) or a negative errno (-ENOENT, -EACCES, -EFBIG
 * when larger than max_bytes). buf is reset first. */
MV_INTERNAL ssize_t mv__read_file(const char *path, mv_buf *buf, size_t max_bytes);

/* Clocks, milliseconds. */
MV_INTERNAL int64_t mv__now_wall_ms(void);
MV_INTERNAL int64_t mv__now_mono_ms(void);
/* CPU time used by the calling thread, in microseconds. */
MV_INTERNAL int64_t mv__thread_cpu_us(void);

/* Formats bytes as "1.5 GiB", "412 MiB", "830 KiB", "12 B" into out.
 * MV_NA gives "n/a", MV_UNLIMITED gives "unlimited". Returns out. */
MV_INTERNAL char *mv__human_bytes(int64_t bytes, char *out, size_t n);
/* Formats bytes held in a double (a parsed or computed figure) like
 * mv__human_bytes, rounded to the nearest byte; NAN, infinities and values
 * beyond int64_t give "n/a" instead of a wrapped number. Returns out. */
MV_INTERNAL char *mv__human_bytes_d(double bytes, char *out, size_t n);
/* The one way a growth rate is written for people: bytes per second given,
 * bytes per hour printed with mv__human_bytes's rounding ("1.5 GiB/h",
 * "-12 MiB/h"); NAN or out of range gives "n/a". The metrics and JSON keep
 * bytes per second. Returns out. */
MV_INTERNAL char *mv__human_rate(double bytes_per_second, char *out, size_t n);

/* The one checked way from a double that came from input (or was computed
 * from it) to an integer: a plain cast of a NAN, infinite or out-of-range
 * double is undefined behaviour in C. Truncates toward zero and stores in
 * *out when v is finite and -2^63 <= v < 2^63; otherwise returns -ERANGE
 * and leaves *out alone. */
MV_INTERNAL int mv__double_to_i64(double v, int64_t *out);
/* The same for display and "unknown" fields: the integer, or fallback when
 * v cannot be one. */
MV_INTERNAL int64_t mv__double_to_i64_or(double v, int64_t fallback);

/* Formats seconds as "9 h 12 min", "3 min 5 s", "41 s"; INFINITY "never",
 * NAN "n/a". Returns out. */
MV_INTERNAL char *mv__human_duration(double seconds, char *out, size_t n);

/* Beyond this, a time to the limit is said as "more than 14 days": a rate
 * extrapolated further than that is not a date anyone should plan by. */
#define MV_ETA_SAY_MAX_S (14.0 * 86400.0)
/* Formats a time to the limit: "3 h 12 min" up to MV_ETA_SAY_MAX_S, then
 * "more than 14 days"; INFINITY "never", NAN "n/a". The one formatter of
 * every time to limit a person reads (events, evidence, analyze, report,
 * terminal). Returns out. */
MV_INTERNAL char *mv__human_eta(double seconds, char *out, size_t n);

/* Parses a size such as "512M", "2GiB", "1048576", "64k" (binary units).
 * 0 or -EINVAL. */
MV_INTERNAL int mv__parse_size(const char *s, int64_t *out);

/* Copies src into dst of size n, always NUL-terminating; returns strlen(src). */
MV_INTERNAL size_t mv__strlcpy(char *dst, const char *src, size_t n);
/* *out = a malloc'd copy of s, or NULL when s is NULL (an unset option of
 * a config being copied). 0, or -ENOMEM (*out NULL). */
MV_INTERNAL int mv__strdup_opt(const char *s, char **out);

/* Parses "host:port", ":port" (127.0.0.1), "[::1]:port" into host and
 * port. 0 or -EINVAL. Reentrant. (util_listen.c) */
int mv__http_parse_listen(const char *listen, char *host, size_t hostlen,
                          int *port);

#endif /* MV_UTIL_H */
