/*
 * livepage.c — the live page's data and page (see livepage.h).
 *
 * DESIGN. The monitor's mv__series keeps one signal (private bytes) at
 * several resolutions for the detectors; the page needs several quantities
 * side by side (the RSS split, swap, working set, private, limit, level), so
 * a separate small ring of compact points is kept: 720 points of 112 bytes,
 * allocated once, pushed under the monitor's lock at each good sample.
 *
 * The JSON is column-wise ({"timestamp_ms":[...],"rss_bytes":[...],...},
 * each column named after its mv_sample field, as in every JSON output),
 * which is about half the size of an array of objects and what the page's
 * script turns into the report's chart input (MV.timelineSpec); the page
 * asks with since=<newest timestamp_ms it holds> and
 * appends, so a poll every interval moves a few hundred bytes. Unknown
 * values are null (the chart skips them).
 *
 * The page is one HTML document with everything inlined: the report's
 * stylesheet and chart script (src/charts/, the single source of
 * the chart code, embedded into the library at build time as mv__asset_*)
 * and the page's own script and styles (src/lib/expose/assets/). It fetches only
 * relative URLs, so it works through a port-forward or a path-prefixing
 * proxy, and it loads nothing else.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "livepage.h"
#include "util.h"

/* Generated at build time by src/charts/embed.cmake. */
extern const unsigned char mv__asset_report_js[], mv__asset_report_css[];
extern const unsigned long mv__asset_report_js_len, mv__asset_report_css_len;
extern const unsigned char mv__asset_live_js[], mv__asset_live_css[];
extern const unsigned long mv__asset_live_js_len, mv__asset_live_css_len;

struct mv__live_ring {
    size_t cap, head, n;        /* head: next slot to write */
    mv__live_point pts[];
};

mv__live_ring *mv__live_new(size_t capacity)
{
    mv__live_ring *r;

    if (capacity == 0 || capacity > ((size_t)1 << 24))
        return NULL;
    r = calloc(1, sizeof *r + capacity * sizeof r->pts[0]);
    if (r)
        r->cap = capacity;
    return r;
}

void mv__live_free(mv__live_ring *r) { free(r); }

static int64_t limit_of(int64_t v)
{
    return v == MV_UNLIMITED || v < 0 ? MV_NA : v;
}

void mv__live_point_from(mv__live_point *p, const mv_sample *s, mv_level level)
{
    memset(p, 0, sizeof *p);
    p->timestamp_ms = s->timestamp_ms;
    p->rss_bytes = s->rss_bytes;
    p->rss_anon_bytes = s->rss_anon_bytes;
    p->rss_file_bytes = s->rss_file_bytes;
    p->rss_shmem_bytes = s->rss_shmem_bytes;
    p->swap_bytes = s->swap_bytes;
    p->cg_anon_bytes = p->cg_file_bytes = MV_NA;
    p->cg_shmem_bytes = p->cg_swap_bytes = MV_NA;
    /* a cgroup target has no process RSS: keep the cgroup's split */
    if (p->rss_bytes == MV_NA && s->cg_usage_bytes != MV_NA) {
        p->cg_anon_bytes = s->cg_anon_bytes;
        p->cg_file_bytes = s->cg_file_bytes;
        p->cg_shmem_bytes = s->cg_shmem_bytes;
        p->cg_swap_bytes = s->cg_swap_bytes;
    }
    p->working_set_bytes = s->working_set_bytes;
    p->private_bytes = s->private_bytes;
    p->effective_limit_bytes = limit_of(s->effective_limit_bytes);
    p->level = (int8_t)level;
}

int mv__live_push(mv__live_ring *r, const mv__live_point *p)
{
    if (!r || !p)
        return -EINVAL;
    if (r->n) {
        const mv__live_point *last = &r->pts[(r->head + r->cap - 1) % r->cap];
        if (p->timestamp_ms < last->timestamp_ms)
            return -EINVAL;
    }
    r->pts[r->head] = *p;
    r->head = (r->head + 1) % r->cap;
    if (r->n < r->cap)
        r->n++;
    return 0;
}

size_t mv__live_copy(const mv__live_ring *r, mv__live_point *out, size_t max)
{
    size_t k, first;

    if (!r)
        return 0;
    if (!out)
        return r->n;
    k = r->n < max ? r->n : max;
    first = (r->head + r->cap - k) % r->cap;
    for (size_t i = 0; i < k; i++)
        out[i] = r->pts[(first + i) % r->cap];
    return k;
}

size_t mv__live_capacity(const mv__live_ring *r) { return r ? r->cap : 0; }

size_t mv__live_footprint(const mv__live_ring *r)
{
    return r ? sizeof *r + r->cap * sizeof r->pts[0] : 0;
}

/* ---- JSON ---- */

static int key(mv_buf *b, const char *k)
{
    return mv__buf_printf(b, ",\"%s\":", k);
}

/* One column: "name":[v,...] over pts[from..n). A sparse column (the
 * cgroup split of a process target) is left out when it holds no value. */
static int column(mv_buf *b, const char *name, const mv__live_point *pts,
                  size_t from, size_t n, size_t off, int sparse)
{
    if (sparse) {
        size_t i = from;
        while (i < n && *(const int64_t *)((const char *)&pts[i] + off) == MV_NA)
            i++;
        if (i == n)
            return 0;
    }
    int rc = mv__buf_printf(b, "%s\"%s\":[", off ? "," : "", name);
    for (size_t i = from; i < n && !rc; i++) {
        int64_t v = *(const int64_t *)((const char *)&pts[i] + off);
        if (i > from)
            rc = mv__buf_puts(b, ",");
        if (!rc)
            rc = mv__buf_json_int(b, v);
    }
    return rc ? rc : mv__buf_puts(b, "]");
}

/* A column named after its mv__live_point member, which must be an
 * mv_sample member too: the sizeof fails to compile otherwise (0 * it
 * leaves the name as it is). */
#define COL(m, sparse)                                                        \
    { &(#m)[0 * sizeof(((const mv_sample *)0)->m)], offsetof(mv__live_point, m), \
      sparse }

int mv__live_render_json(const mv__live_point *pts, size_t n, int64_t since_ms,
                         size_t capacity, const mv__live_extra *x, mv_buf *out)
{
    static const struct { const char *name; size_t off; int sparse; } cols[] = {
        COL(timestamp_ms, 0),
        COL(rss_bytes, 0),
        COL(rss_anon_bytes, 0),
        COL(rss_file_bytes, 0),
        COL(rss_shmem_bytes, 0),
        COL(swap_bytes, 0),
        COL(cg_anon_bytes, 1),
        COL(cg_file_bytes, 1),
        COL(cg_shmem_bytes, 1),
        COL(cg_swap_bytes, 1),
        COL(working_set_bytes, 0),
        COL(private_bytes, 0),
        COL(effective_limit_bytes, 0),
    };
    size_t from = 0, old_len;
    int rc;

    if (!out || !x || (n && !pts))
        return -EINVAL;
    old_len = out->len;
    while (from < n && pts[from].timestamp_ms <= since_ms)
        from++;

    rc = mv__buf_printf(out, "{\"version\":1,\"now_ms\":%lld,\"since_ms\":%lld,"
                        "\"interval_ms\":%lld,\"capacity\":%zu,\"target_alive\":%s,"
                        "\"level\":\"%s\"",
                        (long long)x->now_ms, (long long)since_ms,
                        (long long)x->interval_ms, capacity,
                        x->target_alive ? "true" : "false", mv_level_name(x->level));
    if (!rc) rc = key(out, "warning_ratio");
    if (!rc) rc = mv__buf_json_double(out, x->warning_ratio);
    if (!rc) rc = key(out, "critical_ratio");
    if (!rc) rc = mv__buf_json_double(out, x->critical_ratio);
    if (!rc) rc = key(out, "growth_bytes_per_second");
    if (!rc) rc = mv__buf_json_double(out, x->growth_bytes_per_s);
    if (!rc) rc = key(out, "growth_window_seconds");
    if (!rc) rc = mv__buf_json_double(out, isnan(x->growth_bytes_per_s) ? NAN
                                                                     : x->growth_window_s);
    if (!rc) rc = key(out, "time_to_limit_seconds");
    /* JSON has no infinity: "never" is said with a flag */
    if (!rc) rc = mv__buf_json_double(out, isinf(x->time_to_limit_s) ? NAN
                                                                      : x->time_to_limit_s);
    if (!rc) rc = mv__buf_printf(out, ",\"growing\":%s",
                                 isinf(x->time_to_limit_s) ? "false" : "true");
    if (!rc) rc = key(out, "leak");
    if (!rc && !x->verdict) {
        rc = mv__buf_puts(out, "null");
    } else if (!rc) {
        rc = mv__buf_puts(out, "{\"verdict\":");
        if (!rc) rc = mv__buf_json_string(out, x->verdict);
        if (!rc) rc = key(out, "growth_bytes_per_second");
        if (!rc) rc = mv__buf_json_double(out, x->leak_growth_bytes_per_h / 3600.0);
        if (!rc) rc = key(out, "confidence");
        if (!rc) rc = mv__buf_json_double(out, x->leak_confidence);
        if (!rc) rc = key(out, "time_to_limit_seconds");
        if (!rc) rc = mv__buf_json_double(out, isinf(x->leak_eta_s) ? NAN : x->leak_eta_s);
        if (!rc) rc = key(out, "evidence");
        if (!rc) rc = mv__buf_json_string(out, x->evidence ? x->evidence : "");
        if (!rc) rc = mv__buf_puts(out, "}");
    }
    /* the urgency claim, apart from the verdict */
    if (!rc) rc = key(out, "oom_risk");
    if (!rc && !x->verdict) {
        rc = mv__buf_puts(out, "null");
    } else if (!rc) {
        rc = mv__buf_printf(out, "{\"active\":%s", x->oom_risk ? "true" : "false");
        if (!rc) rc = key(out, "growth_bytes_per_second");
        if (!rc) rc = mv__buf_json_double(out, x->oom_risk_growth_bytes_per_h / 3600.0);
        if (!rc) rc = key(out, "time_to_limit_seconds");
        if (!rc) rc = mv__buf_json_double(out, isinf(x->oom_risk_eta_s) ? NAN
                                                                        : x->oom_risk_eta_s);
        if (!rc) rc = key(out, "evidence");
        if (!rc) rc = mv__buf_json_string(out, x->oom_risk_evidence
                                                   ? x->oom_risk_evidence : "");
        if (!rc) rc = mv__buf_puts(out, "}");
    }
    if (!rc) rc = mv__buf_puts(out, ",\"samples\":{");
    for (size_t c = 0; c < sizeof cols / sizeof cols[0] && !rc; c++)
        rc = column(out, cols[c].name, pts, from, n, cols[c].off, cols[c].sparse);
    if (!rc) rc = mv__buf_puts(out, ",\"level\":[");
    for (size_t i = from; i < n && !rc; i++)
        rc = mv__buf_printf(out, "%s%d", i > from ? "," : "", pts[i].level);
    if (!rc) rc = mv__buf_puts(out, "]},\"events\":[");
    for (size_t i = 0; i < x->nevents && !rc; i++) {
        const mv_event *e = &x->events[i];
        rc = mv__buf_printf(out, "%s{\"timestamp_ms\":%lld,\"event\":\"%s\",\"level\":\"%s\","
                            "\"message\":", i ? "," : "", (long long)e->timestamp_ms,
                            mv_event_kind_name(e->kind), mv_level_name(e->level));
        if (!rc) rc = mv__buf_json_string(out, e->message);
        if (!rc) rc = mv__buf_puts(out, "}");
    }
    if (!rc) rc = mv__buf_puts(out, "]}\n");
    if (rc) {
        out->len = old_len;
        if (out->data)
            out->data[old_len] = 0;
    }
    return rc;
}

/* ---- the page ---- */

static int put_asset(mv_buf *b, const unsigned char *a, unsigned long n)
{
    return mv__buf_append(b, (const char *)a, (size_t)n);
}

int mv__live_render_page(mv_buf *out)
{
    int rc;

    if (!out)
        return -EINVAL;
    rc = mv__buf_puts(out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        /* no favicon request (it would be a 404 in the console) */
        "<link rel=\"icon\" href=\"data:,\">\n"
        "<title>memvigil live</title>\n<style>\n");
    if (!rc) rc = put_asset(out, mv__asset_report_css, mv__asset_report_css_len);
    if (!rc) rc = put_asset(out, mv__asset_live_css, mv__asset_live_css_len);
    if (!rc) rc = mv__buf_puts(out,
        "</style></head>\n<body>\n"
        "<h1>memvigil &mdash; live</h1>\n"
        "<p class=\"sub\" id=\"conn\">connecting&hellip;</p>\n"
        "<header class=\"verdict\" id=\"verdict\" data-verdict=\"\">\n"
        "<div class=\"label\" id=\"verdict-label\">waiting for samples</div>\n"
        "<p class=\"evidence\" id=\"evidence\"></p>\n"
        "<dl class=\"figures\" id=\"figures\"></dl>\n</header>\n"
        "<header class=\"verdict risk\" id=\"oom-risk\" data-oom-risk=\"\">\n"
        "<div class=\"label\" id=\"oom-risk-label\">OOM risk: waiting for samples</div>\n"
        "<p class=\"evidence\" id=\"oom-risk-evidence\"></p>\n</header>\n"
        "<h2>Memory over time</h2>\n"
        "<div class=\"chart\" id=\"chart-timeline\"></div>\n"
        "<p class=\"hint\">Updated every sampling interval. Hover for exact values; "
        "drag across the chart to zoom (updates pause while zoomed; reset zoom or "
        "double-click to follow again); click a legend entry to show or hide it.</p>\n"
        "<h2>Recent events</h2>\n"
        "<table id=\"events\"><tr><th>time (UTC)</th><th>event</th><th>level</th>"
        "<th>message (figures as of the event)</th></tr></table>\n"
        "<footer>memvigil live page &mdash; data: <a href=\"api/v1/samples\">api/v1/samples</a>, "
        "<a href=\"api/v1/status\">api/v1/status</a>, <a href=\"metrics\">metrics</a>. "
        "Nothing here is loaded from elsewhere.</footer>\n<script>\n");
    if (!rc) rc = put_asset(out, mv__asset_report_js, mv__asset_report_js_len);
    if (!rc) rc = mv__buf_puts(out, "\n</script>\n<script>\n");
    if (!rc) rc = put_asset(out, mv__asset_live_js, mv__asset_live_js_len);
    if (!rc) rc = mv__buf_puts(out, "\n</script>\n</body></html>\n");
    return rc;
}
