/*
 * report_html.c — the self-contained HTML page of `memvigil report`.
 *
 * Design: the verdict, figures, tables, advice and events are written as
 * static HTML here, so the page says what happened even where scripts do
 * not run (a mail preview); the charts are drawn in the browser by the
 * embedded report.js from the embedded JSON document (report_json.c). A
 * Content-Security-Policy of default-src 'none' makes the "no network"
 * promise enforceable: the page could not fetch anything even by mistake.
 * In the embedded JSON every '<' is written as \u003c, so no string in the
 * data (a command line, an event message) can close the script element.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "util.h"

int cli_report_html_escape(mv_buf *out, const char *s)
{
    int rc = 0;
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        rc |= mv__buf_append(out, run, (size_t)(s - run));
        rc |= mv__buf_puts(out, rep);
        run = s + 1;
    }
    rc |= mv__buf_append(out, run, (size_t)(s - run));
    return rc;
}

#define ESC(s) (rc |= cli_report_html_escape(b, (s)))
#define PUT(s) (rc |= mv__buf_puts(b, (s)))

static int figure(mv_buf *b, const char *label, const char *value, const char *cls)
{
    int rc = mv__buf_printf(b, "<div><dt>%s</dt><dd%s%s%s>", label,
                            cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    ESC(value);
    PUT("</dd></div>");
    return rc;
}

static int json_embed(mv_buf *b, const cli_report *r)
{
    mv_buf j = {0};
    int rc = cli_report_json(r, &j);
    if (rc == 0) {
        const char *p = j.data, *run = p, *end = j.data + j.len;
        for (; p < end; p++)
            if (*p == '<') {
                rc |= mv__buf_append(b, run, (size_t)(p - run));
                rc |= mv__buf_puts(b, "\\u003c");
                run = p + 1;
            }
        rc |= mv__buf_append(b, run, (size_t)(end - run));
    }
    mv_buf_release(&j);
    return rc;
}

int cli_report_html(const cli_report *r, const cli_report_assets *a, mv_buf *b)
{
    int rc = 0;
    cli_report_fig f;
    cli_report_figures(r, &f);
    char t0[40], t1[40], tmp[64], x[40], y[40], hl[40];
    const char *vname = r->have_verdict ? mv__leak_verdict_name(r->verdict.verdict)
                                        : "unknown";

    PUT("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"memvigil report\">\n<title>memvigil report: ");
    ESC(cli_report_headline(r, hl, sizeof hl));
    PUT(" — ");
    ESC(r->command[0] ? r->command : r->source);
    PUT("</title>\n<style>\n");
    rc |= mv__buf_append(b, a->css, a->css_len);
    PUT("</style></head>\n<body>\n<h1>memvigil report</h1>\n<p class=\"sub\"><code>");
    ESC(r->command[0] ? r->command : "(no command recorded)");
    cli_report_time(r->t0_ms, t0, sizeof t0);
    cli_report_time(r->t1_ms, t1, sizeof t1);
    rc |= mv__buf_printf(b, "</code> · pid %d · %s to %s · %zu samples", (int)r->pid,
                         t0, t1, r->nsamples);
    PUT(" · from <code>");
    ESC(r->source);
    PUT("</code></p>\n");

    /* verdict */
    rc |= mv__buf_printf(b, "<header class=\"verdict v-%s\" id=\"verdict\" "
                         "data-verdict=\"%s\">\n<div class=\"label\">", vname, vname);
    ESC(cli_report_verdict_label(r));
    PUT("</div>\n<p class=\"evidence\">");
    if (r->have_verdict && r->verdict.evidence[0])
        ESC(r->verdict.evidence);
    else if (!r->have_verdict)
        PUT("The leak detector could not be run on this recording.");
    PUT("</p>\n<dl class=\"figures\">");
    rc |= figure(b, "growth", f.growth, NULL);
    rc |= figure(b, "confidence", f.confidence, NULL);
    rc |= figure(b, "time to limit", f.eta, NULL);
    rc |= figure(b, "limit", f.limit, NULL);
    rc |= figure(b, "peak private memory", f.peak, NULL);
    rc |= figure(b, "OOM kills", f.oom, r->oom_kills > 0 || r->oom_suspected ? "oom" : NULL);
    rc |= figure(b, "highest level", r->max_level, NULL);
    rc |= figure(b, "recorded", f.duration, NULL);
    if (r->have_verdict && !isnan(r->detected_at_s))
        rc |= figure(b, "detected after", mv__human_duration(r->detected_at_s, tmp, sizeof tmp), NULL);
    PUT("</dl>\n</header>\n");

    /* the urgency claim, apart from the verdict (the cause) */
    {
        int on = r->have_verdict && r->verdict.risk.active;
        rc |= mv__buf_printf(b, "<header class=\"verdict risk %s\" id=\"oom-risk\" "
                             "data-oom-risk=\"%s\">\n<div class=\"label\">",
                             on ? "r-active" : "r-none",
                             !r->have_verdict ? "unknown" : on ? "true" : "false");
        ESC(cli_report_risk_label(r));
        PUT("</div>\n<p class=\"evidence\">");
        if (r->have_verdict && r->verdict.risk.evidence[0])
            ESC(r->verdict.risk.evidence);
        PUT("</p>\n<dl class=\"figures\">");
        rc |= figure(b, "time to limit at the current rate", f.risk_eta, on ? "oom" : NULL);
        rc |= figure(b, "raised after", f.risk_at, NULL);
        PUT("</dl>\n</header>\n");
    }

    /* advice */
    PUT("<h2 id=\"next\">What to do next</h2>\n<ul class=\"advice\">\n");
    for (size_t i = 0; i < r->nadvice; i++) {
        PUT("<li>");
        ESC(r->advice[i]);
        PUT("</li>\n");
    }
    if (r->nadvice == 0)
        PUT("<li>Nothing stands out.</li>\n");
    PUT("</ul>\n");

    /* timeline */
    PUT("<h2>Memory over time</h2>\n<div class=\"chart\" id=\"chart-timeline\"></div>\n"
        "<p class=\"hint\">Hover for exact values; drag across the chart to zoom into a "
        "range, double-click to zoom out; click a legend entry to show or hide it. ");
    if (r->downsampled)
        rc |= mv__buf_printf(b, "%zu samples drawn as %zu columns, each showing the min "
                             "and max of its samples (shaded), so spikes stay visible. ",
                             r->nsamples, r->cols[CLI_RS_PRIVATE].n ? r->cols[CLI_RS_PRIVATE].n
                                                                    : r->cols[CLI_RS_RSS].n);
    PUT("Shaded bands are application phases; flags are events; the dotted red line "
        "is the detector's fitted trend.</p>\n");

    /* application records */
    PUT("<h2>Application gauges</h2>\n");
    if (r->ngauges)
        PUT("<div class=\"chart\" id=\"chart-gauges\"></div>\n");
    else
        PUT("<p class=\"empty\">No gauges in this recording.</p>\n");

    PUT("<h2>Memory per operation</h2>\n");
    if (r->nops) {
        PUT("<table id=\"ops\"><tr><th>operation</th><th class=\"num\">calls</th>"
            "<th class=\"num\">p50</th><th class=\"num\">p95</th><th class=\"num\">max</th>"
            "<th>histogram of deltas</th></tr>\n");
        for (size_t i = 0; i < r->nops; i++) {
            const cli_report_op *o = &r->ops[i];
            char p50[40], p95[40], mx[40];
            PUT("<tr><td>");
            ESC(o->name);
            rc |= mv__buf_printf(b, "</td><td class=\"num\">%zu</td><td class=\"num\">%s</td>"
                                 "<td class=\"num\">%s</td><td class=\"num\">%s</td>"
                                 "<td style=\"width:45%%\"><div class=\"chart\" "
                                 "id=\"chart-op-%zu\"></div></td></tr>\n", o->count,
                                 mv__human_bytes_d(o->p50, p50, sizeof p50),
                                 mv__human_bytes_d(o->p95, p95, sizeof p95),
                                 mv__human_bytes_d(o->max, mx, sizeof mx), i);
        }
        PUT("</table>\n");
    } else {
        PUT("<p class=\"empty\">No operation records in this recording.</p>\n");
    }

    PUT("<h2>Progress</h2>\n");
    if (r->nprogress) {
        PUT("<ul>\n");
        for (size_t i = 0; i < r->nprogress; i++) {
            const cli_report_progress *p = &r->progress[i];
            PUT("<li>");
            ESC(p->unit);
            rc |= mv__buf_printf(b, ": %lld units; memory per %d: %s → %s%s</li>\n",
                                 (long long)p->units_total, CLI_SHOWN_UNITS,
                                 mv__human_bytes_d(cli_per_shown_units(p->first_per_unit),
                                                   x, sizeof x),
                                 mv__human_bytes_d(cli_per_shown_units(p->last_per_unit),
                                                   y, sizeof y),
                                 p->rising_at_ms != MV_NA
                                     ? " — <b class=\"oom\">memory per unit keeps rising</b>"
                                     : " (flat)");
        }
        PUT("</ul>\n<div class=\"chart\" id=\"chart-progress\"></div>\n");
    } else {
        PUT("<p class=\"empty\">No progress counters in this recording.</p>\n");
    }

    /* heap */
    PUT("<h2>Heap: growing call sites</h2>\n");
    const cli_report_heap *h = &r->heap;
    if (!h->requested) {
        PUT("<p class=\"empty\">No heap snapshots were given (render with --heap DIR "
            "after `memvigil run --heap`).</p>\n");
    } else {
        if (h->note[0]) {
            PUT("<p class=\"missing\">");
            ESC(h->note);
            PUT("</p>\n");
        }
        if (h->nsites) {
            if (isnan(h->span_s))
                rc |= mv__buf_printf(b, "<p class=\"hint\">From %zu snapshots.</p>\n",
                                     h->nsnapshots);
            else
                rc |= mv__buf_printf(b, "<p class=\"hint\">%zu snapshots over %s.</p>\n",
                                     h->nsnapshots,
                                     mv__human_duration(h->span_s, tmp, sizeof tmp));
            PUT("<table id=\"sites\"><tr><th>#</th><th>call site and stack</th>"
                "<th class=\"num\">growth/h</th><th class=\"num\">share of growth</th>"
                "<th class=\"num\">live</th></tr>\n");
            for (size_t i = 0; i < h->nsites; i++) {
                const cli_report_site *s = &h->sites[i];
                rc |= mv__buf_printf(b, "<tr><td>%zu</td><td><code>", i + 1);
                ESC(s->site);
                PUT("</code><div class=\"stack\">");
                ESC(s->stack);
                rc |= mv__buf_printf(b, "</div></td><td class=\"num\">%s</td>",
                                     mv__human_bytes_d(s->growth_bytes_per_h, x, sizeof x));
                if (isnan(s->share))
                    PUT("<td class=\"num\">n/a</td>");
                else
                    rc |= mv__buf_printf(b, "<td class=\"num\">%.0f%%</td>", s->share * 100);
                rc |= mv__buf_printf(b, "<td class=\"num\">%s</td></tr>\n",
                                     mv__human_bytes(s->live_bytes, y, sizeof y));
            }
            PUT("</table>\n");
        } else if (!h->note[0]) {
            PUT("<p class=\"empty\">No call site grows across the snapshots.</p>\n");
        }
        if (h->nflame) {
            rc |= mv__buf_printf(b, "<h2>Heap: live bytes at the last snapshot</h2>\n"
                                 "<div id=\"flame\" data-total=\"%lld\"></div>\n",
                                 (long long)h->flame_total);
        }
    }

    /* events */
    PUT("<h2>Events</h2>\n");
    if (r->nevents) {
        PUT("<table id=\"events\"><tr><th>time</th><th>event</th><th>level</th><th>message</th></tr>\n");
        size_t shown = 0;
        for (size_t i = 0; i < r->nevents && shown < 500; i++, shown++) {
            const cli_report_event *e = &r->events[i];
            rc |= mv__buf_printf(b, "<tr class=\"lvl-%s\"><td class=\"mono\">%s</td><td>",
                                 strcmp(e->level, "critical") == 0 ? "critical"
                                 : strcmp(e->level, "warning") == 0 ? "warning" : "ok",
                                 cli_report_time(e->t_ms, tmp, sizeof tmp));
            ESC(e->event);
            PUT("</td><td>");
            ESC(e->level);
            PUT("</td><td>");
            ESC(e->message);
            PUT("</td></tr>\n");
        }
        PUT("</table>\n");
        if (r->nevents > shown)
            rc |= mv__buf_printf(b, "<p class=\"hint\">%zu more events are in the "
                                 "recording (the chart shows all).</p>\n", r->nevents - shown);
    } else {
        PUT("<p class=\"empty\">No events.</p>\n");
    }

    if (r->nmissing || r->warnings[0]) {
        PUT("<h2>Not in this report</h2>\n<ul class=\"missing\" id=\"missing\">\n");
        for (size_t i = 0; i < r->nmissing; i++) {
            PUT("<li>");
            ESC(r->missing[i]);
            PUT("</li>\n");
        }
        if (r->warnings[0]) {
            PUT("<li>");
            ESC(r->warnings);
            PUT("</li>\n");
        }
        PUT("</ul>\n");
    }
    PUT("<footer>Made by memvigil report. This file is self-contained: it makes no "
        "network requests; the charts are drawn from the data embedded below.</footer>\n"
        "<script type=\"application/json\" id=\"mv-data\">");
    rc |= json_embed(b, r);
    PUT("</script>\n<script>\n");
    rc |= mv__buf_append(b, a->js, a->js_len);
    PUT("</script>\n</body></html>\n");
    return rc ? -ENOMEM : 0;
}
