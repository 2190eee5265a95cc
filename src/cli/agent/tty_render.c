/*
 * tty_render.c — the pure half of the live terminal view: tty_state in,
 * lines of text out (see tty.h). No I/O, clock or environment here, so the
 * unit tests render known states and compare text.
 *
 * Design:
 *  - Every line goes through a small line builder that counts display
 *    columns as it appends and silently drops what would pass the width: a
 *    line never wraps, so each line stays in its own row of the view.
 *    Escape sequences count zero columns; a UTF-8 character counts one (the
 *    view writes only narrow characters; wide ones in a phase name would be
 *    undercounted, an accepted approximation). Control characters coming
 *    from messages are shown as '?', so a message cannot move the cursor.
 *  - Colour is one SGR code per coloured word, always closed on the same
 *    line; with colour off no escape byte is produced at all (NO_COLOR).
 *  - The sparkline scales the shown window between its own min and max:
 *    what matters on a terminal is the shape (rising, sawtooth, flat), and
 *    the numeric range is printed next to it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tty.h"
#include "allocstats.h"
#include "probe.h"
#include "util.h"

/* Eight levels, lowest first. */
static const char *const spark_utf8[8] = {
    "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
static const char spark_ascii[8] = {'_', '.', ':', '-', '=', '+', '*', '#'};

#define SGR_RESET "0"
#define SGR_GREEN "32"
#define SGR_YELLOW "33"
#define SGR_RED "1;31"

/* ---- state ------------------------------------------------------------ */

void tty_state_push_sample(tty_state *s, double v)
{
    if (isnan(v) || v < 0)
        return;
    if (s->spark_n == TTY_SPARK_MAX) {
        memmove(s->spark, s->spark + 1, (TTY_SPARK_MAX - 1) * sizeof s->spark[0]);
        s->spark_n--;
    }
    s->spark[s->spark_n++] = v;
}

void tty_state_push_event(tty_state *s, const mv_event *ev)
{
    tty_event_line *e;

    switch (ev->kind) {
    case MV_EVENT_LEAK_SUSPECTED:
    case MV_EVENT_LEAK:
    case MV_EVENT_LEAK_CLEARED:
        s->verdict = ev->kind == MV_EVENT_LEAK ? TTY_VERDICT_LEAK
                     : ev->kind == MV_EVENT_LEAK_SUSPECTED ? TTY_VERDICT_SUSPECT
                                                           : TTY_VERDICT_NO_LEAK;
        s->verdict_eta_s = ev->kind == MV_EVENT_LEAK_CLEARED ? NAN
                                                             : ev->time_to_limit_s;
        mv__strlcpy(s->verdict_text, ev->message, sizeof s->verdict_text);
        break;
    case MV_EVENT_FRAGMENTATION:
    case MV_EVENT_FRAGMENTATION_CLEARED: {
        /* "retention: ...; try ADVICE" / "fragmentation: ..." (monitor_alloc.c) */
        const char *try = strstr(ev->message, "; try ");
        s->alloc_diag = ev->kind == MV_EVENT_FRAGMENTATION_CLEARED
                            ? TTY_ALLOC_CLEARED
                        : strncmp(ev->message, "retention", 9) == 0
                            ? TTY_ALLOC_RETENTION
                            : TTY_ALLOC_FRAGMENTATION;
        mv__strlcpy(s->alloc_advice,
                    try && ev->kind == MV_EVENT_FRAGMENTATION ? try + 2 : "",
                    sizeof s->alloc_advice);
        break;
    }
    case MV_EVENT_OOM_RISK:
    case MV_EVENT_OOM_RISK_CLEARED:
        s->oom_risk = ev->kind == MV_EVENT_OOM_RISK ? TTY_OOM_RISK_ACTIVE
                                                    : TTY_OOM_RISK_CLEARED;
        s->oom_risk_eta_s = ev->kind == MV_EVENT_OOM_RISK ? ev->time_to_limit_s
                                                          : NAN;
        mv__strlcpy(s->oom_risk_text, ev->message, sizeof s->oom_risk_text);
        break;
    default:
        break;
    }
    if (s->events_n == TTY_EVENTS) {
        memmove(s->events, s->events + 1,
                (TTY_EVENTS - 1) * sizeof s->events[0]);
        s->events_n--;
    }
    e = &s->events[s->events_n++];
    e->timestamp_ms = ev->timestamp_ms;
    e->level = ev->level;
    e->kind = ev->kind;
    mv__strlcpy(e->text, ev->message[0] ? ev->message
                                        : mv_event_kind_name(ev->kind),
                sizeof e->text);
}

/* ---- small pure helpers ----------------------------------------------- */

size_t tty_display_cols(const char *s, size_t n)
{
    size_t i = 0, cols = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b && i + 1 < n && s[i + 1] == '[') {
            i += 2;
            while (i < n && !((unsigned char)s[i] >= 0x40 &&
                              (unsigned char)s[i] <= 0x7e))
                i++;
            i++; /* the final byte */
            continue;
        }
        if ((c & 0xc0) != 0x80 && c != '\n')
            cols++;
        i++;
    }
    return cols;
}

char *tty_format_growth(double g, char *out, size_t n)
{
    char b[32];

    mv__human_rate(g, b, sizeof b);
    if (strcmp(b, "0 B/h") == 0 || strcmp(b, "n/a") == 0 || g < 0)
        snprintf(out, n, "%s", b);
    else
        snprintf(out, n, "+%s", b);
    return out;
}

char *tty_format_eta(double s, char *out, size_t n)
{
    if (isnan(s))
        snprintf(out, n, "n/a (no limit or too few samples)");
    else if (isinf(s))
        snprintf(out, n, "never (not growing)");
    else
        mv__human_eta(s, out, n);
    return out;
}

static int has_utf8(const char *v)
{
    char low[64];
    size_t i;

    for (i = 0; v[i] && i + 1 < sizeof low; i++)
        low[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
    low[i] = '\0';
    return strstr(low, "utf-8") != NULL || strstr(low, "utf8") != NULL;
}

int tty_env_utf8(const char *lc_all, const char *lc_ctype, const char *lang)
{
    if (lc_all && *lc_all)
        return has_utf8(lc_all);
    if (lc_ctype && *lc_ctype)
        return has_utf8(lc_ctype);
    if (lang && *lang)
        return has_utf8(lang);
    return 0;
}

int tty_env_capable(const char *term)
{
    return term && *term && strcmp(term, "dumb") != 0;
}

int tty_env_colour(const char *no_color, const char *term)
{
    if (no_color && *no_color)
        return 0;
    return tty_env_capable(term);
}

int tty_sparkline(const double *v, size_t n, int utf8, mv_buf *out)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    for (i = 0; i < n && rc == 0; i++) {
        int k = 0;
        if (hi > lo)
            k = (int)lround((v[i] - lo) / (hi - lo) * 7.0);
        if (k < 0)
            k = 0;
        if (k > 7)
            k = 7;
        if (utf8)
            rc = mv__buf_puts(out, spark_utf8[k]);
        else
            rc = mv__buf_append(out, &spark_ascii[k], 1);
    }
    return rc;
}

/* ---- the line builder ------------------------------------------------- */

typedef struct line {
    mv_buf *out;
    size_t width;   /* columns allowed */
    size_t cols;    /* columns used */
    int full;       /* something was dropped */
    int colour;
    int sgr_open;   /* a colour is on and must be reset before '\n' */
    int err;        /* first error */
    int lines;      /* lines ended so far */
} line;

static void put(line *l, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && l->err == 0) {
        unsigned char c = (unsigned char)s[i];
        size_t len = 1;
        char q = '?';

        if (c >= 0xc0 && c < 0xf8) /* a UTF-8 lead: keep its sequence whole */
            len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        else if (c >= 0x80)        /* stray continuation byte */
            len = 1;
        if (i + len > n)
            len = n - i;
        if (l->cols + 1 > l->width) {
            l->full = 1;
            return;
        }
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xc0))
            l->err = mv__buf_append(l->out, &q, 1);
        else
            l->err = mv__buf_append(l->out, s + i, len);
        l->cols++;
        i += len;
    }
}

static void text(line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void textf(line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void textf(line *l, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    text(l, tmp);
}

/* Starts colour `code` (nothing when colour is off). */
static void sgr(line *l, const char *code)
{
    if (!l->colour || l->err)
        return;
    if (l->full) /* nothing more will be shown on this line */
        return;
    l->err = mv__buf_printf(l->out, "\x1b[%sm", code);
    l->sgr_open = strcmp(code, SGR_RESET) != 0;
}

static void sgr_end(line *l)
{
    if (l->sgr_open && l->err == 0) {
        l->err = mv__buf_puts(l->out, "\x1b[0m");
        l->sgr_open = 0;
    }
}

static void end_line(line *l)
{
    sgr_end(l);
    if (l->err == 0)
        l->err = mv__buf_append(l->out, "\n", 1);
    l->cols = 0;
    l->full = 0;
    l->lines++;
}

/* ---- the frame -------------------------------------------------------- */

static const char *level_sgr(mv_level lv)
{
    return lv == MV_LEVEL_CRITICAL ? SGR_RED
           : lv == MV_LEVEL_WARNING ? SGR_YELLOW
                                    : SGR_GREEN;
}

static const char *level_upper(mv_level lv)
{
    return lv == MV_LEVEL_CRITICAL ? "CRITICAL"
           : lv == MV_LEVEL_WARNING ? "WARNING"
                                    : "OK";
}

static const char *limit_source_name(mv_limit_source src)
{
    switch (src) {
    case MV_LIMIT_CGROUP_MAX:
        return "cgroup memory.max";
    case MV_LIMIT_CGROUP_HIGH:
        return "cgroup memory.high";
    case MV_LIMIT_MEMTOTAL:
        return "MemTotal";
    case MV_LIMIT_CONFIG:
        return "--limit";
    default:
        return "unknown";
    }
}

static void title_line(line *l, const tty_state *s)
{
    const mv_status *st = &s->status;
    const mv_sample *x = &st->sample;
    char iv[40];

    text(l, "memvigil ");
    text(l, s->cmd ? s->cmd : "");
    text(l, " [");
    if (s->have_status) {
        sgr(l, level_sgr(st->level));
        text(l, level_upper(st->level));
        sgr_end(l);
    } else {
        text(l, "..");
    }
    text(l, "] ");
    if (!s->have_status) {
        text(l, "waiting for the first sample");
        end_line(l);
        return;
    }
    if (x->pid > 0) {
        textf(l, "pid %d", (int)x->pid);
        if (x->nprocs > 1)
            textf(l, " (%d processes)", (int)x->nprocs);
    } else if (x->cgroup_path[0]) {
        textf(l, "cgroup %s", x->cgroup_path);
    }
    mv__human_duration((double)st->interval_ms / 1000.0, iv, sizeof iv);
    textf(l, " | %lld samples, every %s", (long long)st->samples_taken, iv);
    if (s->finished)
        text(l, st->target_alive ? " | stopped" : " | target ended");
    else if (!st->target_alive)
        text(l, " | target ended");
    end_line(l);
}

static void memory_lines(line *l, const tty_state *s)
{
    const mv_sample *x = &s->status.sample;
    char a[32], b[32], c[32], d[32];
    int64_t swap;

    if (x->rss_bytes != MV_NA) {
        textf(l, "rss %s = anon %s + file %s + shmem %s",
              mv__human_bytes(x->rss_bytes, a, sizeof a),
              mv__human_bytes(x->rss_anon_bytes, b, sizeof b),
              mv__human_bytes(x->rss_file_bytes, c, sizeof c),
              mv__human_bytes(x->rss_shmem_bytes, d, sizeof d));
    } else {
        textf(l, "cgroup %s = anon %s + file %s + shmem %s",
              mv__human_bytes(x->cg_usage_bytes, a, sizeof a),
              mv__human_bytes(x->cg_anon_bytes, b, sizeof b),
              mv__human_bytes(x->cg_file_bytes, c, sizeof c),
              mv__human_bytes(x->cg_shmem_bytes, d, sizeof d));
    }
    end_line(l);

    swap = x->swap_bytes != MV_NA ? x->swap_bytes : x->cg_swap_bytes;
    textf(l, "private %s  swap %s",
          mv__human_bytes(x->private_bytes, a, sizeof a),
          mv__human_bytes(swap, b, sizeof b));
    if (x->pss_bytes != MV_NA)
        textf(l, "  pss %s", mv__human_bytes(x->pss_bytes, c, sizeof c));
    end_line(l);

    {
        /* the figure the ratio is of (probe's one rule) */
        textf(l, "%s %s / limit %s (%s)", mv__sample_limit_quantity_name(x),
              mv__human_bytes(mv__sample_limit_quantity(x), a, sizeof a),
              mv__human_bytes(x->effective_limit_bytes, b, sizeof b),
              limit_source_name(x->limit_source));
        text(l, "  ratio ");
        if (isnan(x->usage_ratio)) {
            text(l, "n/a");
        } else {
            sgr(l, level_sgr(s->status.level));
            textf(l, "%.2f (%.0f%%)", x->usage_ratio, x->usage_ratio * 100.0);
            sgr_end(l);
        }
        end_line(l);
    }
}

static void trend_lines(line *l, const tty_state *s)
{
    const mv_status *st = &s->status;
    char g[48], w[40], e[64];

    tty_format_growth(st->growth_bytes_per_s, g, sizeof g);
    textf(l, "growth %s", g);
    if (!isnan(st->growth_bytes_per_s) && !isnan(st->growth_window_s))
        textf(l, " over %s", mv__human_duration(st->growth_window_s, w,
                                                 sizeof w));
    text(l, "  time to limit ");
    tty_format_eta(st->time_to_limit_s, e, sizeof e);
    if (isfinite(st->time_to_limit_s) && st->time_to_limit_s < 3600.0) {
        sgr(l, SGR_RED);
        text(l, e);
        sgr_end(l);
    } else {
        text(l, e);
    }
    end_line(l);

    text(l, "leak ");
    switch (s->verdict) {
    case TTY_VERDICT_LEAK:
        sgr(l, SGR_RED);
        text(l, "LEAK");
        break;
    case TTY_VERDICT_SUSPECT:
        sgr(l, SGR_YELLOW);
        text(l, "suspect");
        break;
    case TTY_VERDICT_NO_LEAK:
        sgr(l, SGR_GREEN);
        text(l, "no leak");
        break;
    default:
        text(l, "none reported");
        break;
    }
    sgr_end(l);
    if (s->verdict != TTY_VERDICT_NONE && s->verdict != TTY_VERDICT_NO_LEAK &&
        isfinite(s->verdict_eta_s)) {
        textf(l, " (limit in %s)", mv__human_eta(s->verdict_eta_s, e,
                                                       sizeof e));
    }
    if (s->verdict_text[0]) {
        text(l, ": ");
        text(l, s->verdict_text);
    }
    end_line(l);

    /* the urgency claim, apart from the verdict */
    text(l, "oom risk ");
    switch (s->oom_risk) {
    case TTY_OOM_RISK_ACTIVE:
        sgr(l, SGR_RED);
        text(l, "OOM RISK");
        break;
    case TTY_OOM_RISK_CLEARED:
        sgr(l, SGR_GREEN);
        text(l, "cleared");
        break;
    default:
        text(l, "none reported");
        break;
    }
    sgr_end(l);
    if (s->oom_risk == TTY_OOM_RISK_ACTIVE && isfinite(s->oom_risk_eta_s))
        textf(l, " (limit in %s)", mv__human_eta(s->oom_risk_eta_s, e,
                                                       sizeof e));
    if (s->oom_risk != TTY_OOM_RISK_NONE && s->oom_risk_text[0]) {
        /* the event's message without its lead ("out of memory in about
         * ...: ", "out-of-memory risk cleared: "): this line says both */
        const char *t = s->oom_risk_text, *colon = strstr(t, ": ");
        if (colon && (!strncmp(t, "out of memory in about ", 23) ||
                      !strncmp(t, "out-of-memory risk cleared", 26)))
            t = colon + 2;
        text(l, ": ");
        text(l, t);
    }
    end_line(l);
}

/* The allocator's line is shown: figures, or a diagnosis told. */
static int has_alloc_line(const tty_state *s)
{
    return s->have_status && (s->status.sample.alloc_kind != 0 ||
                              s->alloc_diag != TTY_ALLOC_NONE);
}

/* "allocator FRAGMENTATION glibc heap in use 19 MiB, 256 MiB free inside
 * (10 arenas); try ...": the diagnosis (cause: not a leak), the live heap
 * and what the allocator holds free, the advice while the claim holds. */
static void alloc_line(line *l, const tty_state *s)
{
    const mv_sample *x = &s->status.sample;
    char a[32], b[32];

    text(l, "allocator ");
    switch (s->alloc_diag) {
    case TTY_ALLOC_FRAGMENTATION:
        sgr(l, SGR_YELLOW);
        text(l, "FRAGMENTATION");
        break;
    case TTY_ALLOC_RETENTION:
        sgr(l, SGR_YELLOW);
        text(l, "RETENTION");
        break;
    case TTY_ALLOC_CLEARED:
        sgr(l, SGR_GREEN);
        text(l, "cleared");
        break;
    default:
        text(l, "no fragmentation");
        break;
    }
    sgr_end(l);
    if (x->alloc_kind != 0) {
        textf(l, " %s heap in use %s, %s free inside",
              mv__alloc_kind_name(x->alloc_kind),
              mv__human_bytes(x->alloc_in_use_bytes, a, sizeof a),
              mv__human_bytes(x->alloc_free_bytes, b, sizeof b));
        if (x->alloc_arenas != MV_NA)
            textf(l, " (%lld arena%s)", (long long)x->alloc_arenas,
                  x->alloc_arenas == 1 ? "" : "s");
    }
    if ((s->alloc_diag == TTY_ALLOC_FRAGMENTATION ||
         s->alloc_diag == TTY_ALLOC_RETENTION) && s->alloc_advice[0]) {
        text(l, "; ");
        text(l, s->alloc_advice);
    }
    end_line(l);
}

static int spark_line(line *l, const tty_state *s, int utf8)
{
    char lo[32], hi[32], suffix[96];
    double vlo = INFINITY, vhi = -INFINITY;
    size_t i, fit, n, first;
    mv_buf sp = {0};
    int rc;

    text(l, "private ");
    if (s->spark_n == 0) {
        text(l, "(no samples yet)");
        end_line(l);
        return 0;
    }
    /* the range text depends on the shown window; size the window first
     * with the widest range text of the whole series (close enough) */
    for (i = 0; i < s->spark_n; i++) {
        vlo = fmin(vlo, s->spark[i]);
        vhi = fmax(vhi, s->spark[i]);
    }
    snprintf(suffix, sizeof suffix, " %s..%s",
             mv__human_bytes_d(vlo, lo, sizeof lo),
             mv__human_bytes_d(vhi, hi, sizeof hi));
    fit = l->width > l->cols + strlen(suffix) ? l->width - l->cols -
                                                    strlen(suffix)
                                              : 0;
    if (fit < 8)
        fit = 8;
    n = s->spark_n < fit ? s->spark_n : fit;
    first = s->spark_n - n;
    vlo = INFINITY;
    vhi = -INFINITY;
    for (i = first; i < s->spark_n; i++) {
        vlo = fmin(vlo, s->spark[i]);
        vhi = fmax(vhi, s->spark[i]);
    }
    rc = tty_sparkline(s->spark + first, n, utf8, &sp);
    if (rc != 0) {
        mv_buf_release(&sp);
        return rc;
    }
    put(l, sp.data, sp.len);
    mv_buf_release(&sp);
    textf(l, " %s..%s", mv__human_bytes_d(vlo, lo, sizeof lo),
          mv__human_bytes_d(vhi, hi, sizeof hi));
    end_line(l);
    return 0;
}

static void event_lines(line *l, const tty_state *s)
{
    /* the allocator's line takes one event line's row */
    size_t i = has_alloc_line(s) && s->events_n == TTY_EVENTS ? 1 : 0;

    for (; i < s->events_n; i++) {
        const tty_event_line *e = &s->events[i];
        time_t t = (time_t)(e->timestamp_ms / 1000);
        struct tm tm;
        char hms[16] = "--:--:--";

        if (gmtime_r(&t, &tm))
            strftime(hms, sizeof hms, "%H:%M:%S", &tm);
        textf(l, "  %s ", hms);
        if (e->level != MV_LEVEL_OK)
            sgr(l, level_sgr(e->level));
        textf(l, "%-8s", mv_level_name(e->level));
        sgr_end(l);
        text(l, " ");
        text(l, e->text);
        end_line(l);
    }
}

int tty_render(const tty_state *s, int width, int utf8, int colour,
               mv_buf *out)
{
    line l;
    int rc;

    if (!s || !out || width <= 0)
        return -EINVAL;
    memset(&l, 0, sizeof l);
    l.out = out;
    l.width = (size_t)width;
    l.colour = colour;

    title_line(&l, s);
    if (s->have_status) {
        memory_lines(&l, s);
        trend_lines(&l, s);
        if (has_alloc_line(s))
            alloc_line(&l, s);
        if ((rc = spark_line(&l, s, utf8)) != 0)
            return rc;
    }
    event_lines(&l, s);
    if (l.err)
        return l.err;
    return l.lines;
}
