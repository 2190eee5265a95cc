/*
 * report_text.c — the report as Markdown (for tickets) and plain text (for
 * terminals), plus the headline phrases the HTML page shares.
 *
 * Design: one writer with a flag for the two flavours; they differ only in
 * markup (headings, bold, table pipes), so the words stay identical and a
 * ticket and a terminal say the same thing. No charts: a one-line
 * sparkline of private memory stands in for the timeline.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <time.h>

#include "callers.h"
#include "report.h"
#include "util.h"

const char *cli_report_verdict_label(const cli_report *r)
{
    if (!r->have_verdict)
        return "no verdict";
    switch (r->verdict.verdict) {
    case MV_LEAK_LEAK: return "LEAK";
    case MV_LEAK_SUSPECT: return "SUSPECT";
    case MV_LEAK_NO_LEAK: return "NO LEAK";
    default: return "INSUFFICIENT DATA";
    }
}

const char *cli_report_risk_label(const cli_report *r)
{
    if (!r->have_verdict)
        return "no verdict";
    return r->verdict.risk.active ? "OOM RISK" : "no OOM risk";
}

const char *cli_report_headline(const cli_report *r, char *out, size_t n)
{
    int risk = r->have_verdict && r->verdict.risk.active;
    int leak = r->have_verdict && r->verdict.verdict == MV_LEAK_LEAK;
    if (risk && leak)
        snprintf(out, n, "OOM RISK + LEAK");
    else if (risk)
        snprintf(out, n, "OOM RISK");
    else
        snprintf(out, n, "%s", cli_report_verdict_label(r));
    return out;
}

void cli_report_figures(const cli_report *r, cli_report_fig *f)
{
    char a[40];
    const mv__leak_result *v = &r->verdict;
    memset(f, 0, sizeof *f);
    if (r->have_verdict && !isnan(v->growth_bytes_per_h)) {
        double g = v->growth_bytes_per_h;
        mv__human_bytes_d(fabs(g), a, sizeof a);
        snprintf(f->growth, sizeof f->growth, "%s%s/h", g < 0 ? "-" : "", a);
    } else {
        mv__strlcpy(f->growth, "n/a", sizeof f->growth);
    }
    if (r->have_verdict && !isnan(v->confidence))
        snprintf(f->confidence, sizeof f->confidence, "%.0f%%", v->confidence * 100);
    else
        mv__strlcpy(f->confidence, "n/a", sizeof f->confidence);
    if (r->have_verdict)
        mv__leak_eta_text(v, r->limit_bytes > 0 && r->limit_bytes != MV_UNLIMITED,
                          f->eta, sizeof f->eta);
    else
        mv__strlcpy(f->eta, "n/a", sizeof f->eta);
    if (r->have_verdict && r->verdict.risk.active)
        mv__human_eta(r->verdict.risk.eta_s, f->risk_eta, sizeof f->risk_eta);
    else if (r->have_verdict && isinf(r->verdict.risk.eta_s))
        mv__strlcpy(f->risk_eta, "never (not growing)", sizeof f->risk_eta);
    else if (r->have_verdict && !isnan(r->verdict.risk.eta_s))
        mv__human_eta(r->verdict.risk.eta_s, f->risk_eta, sizeof f->risk_eta);
    else
        mv__strlcpy(f->risk_eta, "n/a", sizeof f->risk_eta);
    if (!isnan(r->oom_risk_at_s)) {
        char d[40];
        mv__human_duration(r->oom_risk_at_s, d, sizeof d);
        snprintf(f->risk_at, sizeof f->risk_at, "%s%s", d,
                 r->verdict.risk.active ? "" : " (cleared later)");
    } else {
        mv__strlcpy(f->risk_at, "never", sizeof f->risk_at);
    }
    mv__human_bytes(r->limit_bytes, f->limit, sizeof f->limit);
    mv__human_duration((double)(r->t1_ms - r->t0_ms) / 1000.0, f->duration,
                       sizeof f->duration);
    mv__human_bytes_d(r->private_peak, f->peak, sizeof f->peak);
    if (r->oom_kills > 0)
        snprintf(f->oom, sizeof f->oom, "%lld", (long long)r->oom_kills);
    else
        mv__strlcpy(f->oom, r->oom_suspected ? "0 counted (ended at the limit)"
                                             : "none", sizeof f->oom);
}

char *cli_report_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, n, "%lld", (long long)ms);
    return out;
}

static const char spark_chars[][4] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

static int sparkline(mv_buf *b, const cli_report_cols *c, size_t width)
{
    if (c->n == 0)
        return 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        lo = fmin(lo, c->min[i]);
        hi = fmax(hi, c->max[i]);
    }
    int rc = 0;
    size_t w = c->n < width ? c->n : width;
    for (size_t k = 0; k < w; k++) {
        size_t i0 = k * c->n / w, i1 = (k + 1) * c->n / w;
        double m = -INFINITY;
        for (size_t i = i0; i < i1; i++)
            m = fmax(m, c->max[i]);
        /* clamped as a double: with crafted extremes the ratio can be
         * NAN or infinite, which no cast may see */
        double f = hi > lo ? (m - lo) / (hi - lo) * 7.999 : 0;
        int lvl = f >= 7 ? 7 : f > 0 ? (int)f : 0;
        rc |= mv__buf_puts(b, spark_chars[lvl]);
    }
    return rc;
}

static int write_report(const cli_report *r, mv_buf *b, int md)
{
    cli_report_fig f;
    cli_report_figures(r, &f);
    char t0[40], t[40], a[40], c[96], d[40];
    int rc = 0;
    const char *h1 = md ? "# " : "", *h2 = md ? "\n## " : "\n", *bold = md ? "**" : "";

    rc |= mv__buf_printf(b, "%smemvigil report: %s\n\n", h1,
                         r->command[0] ? r->command : r->source);
    char hl[40];
    rc |= mv__buf_printf(b, "%sHeadline: %s%s\n\n", bold,
                         cli_report_headline(r, hl, sizeof hl), bold);
    rc |= mv__buf_printf(b, "%sVerdict: %s%s\n", bold, cli_report_verdict_label(r), bold);
    if (r->have_verdict && r->verdict.evidence[0])
        rc |= mv__buf_printf(b, "%s%s\n", md ? "\n> " : "  ", r->verdict.evidence);
    /* the urgency claim, apart from the verdict */
    rc |= mv__buf_printf(b, "%s%sOOM risk: %s%s\n", md ? "\n" : "", bold,
                         cli_report_risk_label(r), bold);
    if (r->have_verdict && r->verdict.risk.evidence[0])
        rc |= mv__buf_printf(b, "%s%s\n", md ? "\n> " : "  ", r->verdict.risk.evidence);
    rc |= mv__buf_puts(b, "\n");
    if (md)
        rc |= mv__buf_puts(b, "| | |\n|---|---|\n");
#define ROW(k, v) rc |= mv__buf_printf(b, md ? "| %s | %s |\n" : "  %-18s %s\n", k, v)
    ROW("growth", f.growth);
    ROW("confidence", f.confidence);
    ROW("time to limit", f.eta);
    ROW("OOM risk ETA", f.risk_eta);
    ROW("OOM risk raised", f.risk_at);
    ROW("limit", f.limit);
    ROW("peak private", f.peak);
    ROW("OOM kills", f.oom);
    ROW("highest level", r->max_level);
    cli_report_time(r->t0_ms, t0, sizeof t0);
    snprintf(c, sizeof c, "%s (%zu samples)", f.duration, r->nsamples);
    ROW("recorded from", t0);
    ROW("duration", c);
    if (r->have_verdict && !isnan(r->detected_at_s)) {
        mv__human_duration(r->detected_at_s, d, sizeof d);
        ROW("detected after", d);
    }
#undef ROW
    if (r->cols[CLI_RS_PRIVATE].n) {
        rc |= mv__buf_printf(b, "%sPrivate memory%s\n\n%s", h2, md ? "\n" : ":",
                             md ? "```\n" : "  ");
        rc |= sparkline(b, &r->cols[CLI_RS_PRIVATE], 60);
        mv__human_bytes_d(r->private_first, a, sizeof a);
        mv__human_bytes_d(r->private_last, t, sizeof t);
        rc |= mv__buf_printf(b, "\n%s%s -> %s\n%s", md ? "" : "  ", a, t,
                             md ? "```\n" : "");
    }
    if (r->nadvice) {
        rc |= mv__buf_printf(b, "%sWhat to do next%s\n\n", h2, md ? "" : ":");
        for (size_t i = 0; i < r->nadvice; i++)
            rc |= mv__buf_printf(b, "%s%s\n", md ? "- " : "  - ", r->advice[i]);
    }
    if (r->heap.nsites) {
        rc |= mv__buf_printf(b, "%sGrowing call sites%s\n\n", h2, md ? "" : ":");
        if (md)
            rc |= mv__buf_puts(b, "| site | growth/h | share | live |\n|---|---|---|---|\n");
        for (size_t i = 0; i < r->heap.nsites; i++) {
            const cli_report_site *s = &r->heap.sites[i];
            mv__human_bytes_d(s->growth_bytes_per_h, a, sizeof a);
            mv__human_bytes(s->live_bytes, t, sizeof t);
            rc |= mv__buf_printf(b, md ? "| `%s` | %s | %.0f%% | %s |\n"
                                       : "  %-50s %10s/h %4.0f%% %10s\n",
                                 s->site, a, isnan(s->share) ? 0 : s->share * 100, t);
            char callers[512];
            if (cli_heap_callers(s->stack, 3, callers, sizeof callers)[0])
                rc |= mv__buf_printf(b, md ? "| &nbsp;&nbsp;from `%s` | | | |\n"
                                           : "    from %s\n", callers);
        }
    }
    if (r->nops) {
        rc |= mv__buf_printf(b, "%sMemory per operation%s\n\n", h2, md ? "" : ":");
        if (md)
            rc |= mv__buf_puts(b, "| operation | calls | p50 | p95 | max |\n|---|---|---|---|---|\n");
        for (size_t i = 0; i < r->nops; i++) {
            const cli_report_op *o = &r->ops[i];
            char p50[40], p95[40], mx[40];
            mv__human_bytes_d(o->p50, p50, sizeof p50);
            mv__human_bytes_d(o->p95, p95, sizeof p95);
            mv__human_bytes_d(o->max, mx, sizeof mx);
            rc |= mv__buf_printf(b, md ? "| %s | %zu | %s | %s | %s |\n"
                                       : "  %-20s %8zu calls  p50 %s  p95 %s  max %s\n",
                                 o->name, o->count, p50, p95, mx);
        }
    }
    for (size_t i = 0; i < r->nprogress; i++) {
        const cli_report_progress *p = &r->progress[i];
        mv__human_bytes_d(cli_per_shown_units(p->first_per_unit), a, sizeof a);
        mv__human_bytes_d(cli_per_shown_units(p->last_per_unit), t, sizeof t);
        rc |= mv__buf_printf(b, "%sProgress (%s)%s\n\n  %lld %s; memory per %d %s: "
                             "%s -> %s%s\n", h2, p->unit, md ? "" : ":",
                             (long long)p->units_total, p->unit, CLI_SHOWN_UNITS,
                             p->unit, a, t,
                             p->rising_at_ms != MV_NA ? " (keeps rising)" : "");
    }
    size_t shown = 0;
    for (size_t i = 0; i < r->nevents; i++)
        if (strcmp(r->events[i].event, "started") != 0)
            shown++;
    if (shown) {
        rc |= mv__buf_printf(b, "%sEvents%s\n\n", h2, md ? "" : ":");
        size_t k = 0;
        for (size_t i = 0; i < r->nevents && k < 30; i++) {
            const cli_report_event *e = &r->events[i];
            if (strcmp(e->event, "started") == 0)
                continue;
            k++;
            cli_report_time(e->t_ms, t, sizeof t);
            rc |= mv__buf_printf(b, md ? "- `%s` %s: %s\n" : "  %s %-16s %s\n",
                                 t, e->event, e->message);
        }
        if (shown > k)
            rc |= mv__buf_printf(b, "%s... %zu more\n", md ? "- " : "  ", shown - k);
    }
    if (r->nmissing || r->warnings[0]) {
        rc |= mv__buf_printf(b, "%sNot in this report%s\n\n", h2, md ? "" : ":");
        for (size_t i = 0; i < r->nmissing; i++)
            rc |= mv__buf_printf(b, "%s%s\n", md ? "- " : "  - ", r->missing[i]);
        if (r->warnings[0])
            rc |= mv__buf_printf(b, "%s%s\n", md ? "- " : "  - ", r->warnings);
    }
    return rc ? -ENOMEM : 0;
}

int cli_report_markdown(const cli_report *r, mv_buf *out)
{
    return write_report(r, out, 1);
}

int cli_report_text(const cli_report *r, mv_buf *out)
{
    return write_report(r, out, 0);
}
