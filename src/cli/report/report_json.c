/*
 * report_json.c — the report model as one JSON document (docs/report.md has
 * the schema). The HTML page embeds this very document and its scripts draw
 * from it, so `--format json` is also the page's data contract.
 *
 * Design: written with mv_buf appends rather than a JSON library because
 * the bulk is a few long arrays of numbers; times inside the timeline are
 * offsets in ms from t0_ms (shorter than epoch times), byte figures are
 * printed as integers, other numbers with 6 significant digits. Non-finite
 * numbers are null, except the times to the limit, which are "+Inf" when
 * memory is not growing (the recording format's convention).
 *
 * Names: a series of the timeline is named after the sample field it
 * draws (the mv_sample member, as in every JSON output: see
 * src/lib/record/sample_fields.h), growth and time to limit are
 * growth_bytes_per_second and time_to_limit_seconds as in the status
 * document, and an event's time is timestamp_ms.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "util.h"

/* The key of a timeline series: its sample field's member name (the sizeof
 * fails to compile when the name is not an mv_sample member; 0 * it leaves
 * the name as it is). */
#define FIELD_KEY(m) (&(#m)[0 * sizeof(((const mv_sample *)0)->m)])

static const char *const series_keys[CLI_RS_COUNT] = {
    [CLI_RS_RSS] = FIELD_KEY(rss_bytes),
    [CLI_RS_ANON] = FIELD_KEY(rss_anon_bytes),
    [CLI_RS_FILE] = FIELD_KEY(rss_file_bytes),
    [CLI_RS_SHMEM] = FIELD_KEY(rss_shmem_bytes),
    [CLI_RS_SWAP] = FIELD_KEY(swap_bytes),
    [CLI_RS_PRIVATE] = FIELD_KEY(private_bytes),
    [CLI_RS_WORKING_SET] = FIELD_KEY(working_set_bytes),
    [CLI_RS_LIMIT] = FIELD_KEY(effective_limit_bytes),
};

static int num(mv_buf *b, double v)
{
    char tmp[48];
    if (isnan(v))
        return mv__buf_puts(b, "null");
    if (isinf(v))
        return mv__buf_puts(b, v > 0 ? "\"+Inf\"" : "\"-Inf\"");
    if (v == floor(v) && fabs(v) < 9e15)
        snprintf(tmp, sizeof tmp, "%.0f", v);
    else
        snprintf(tmp, sizeof tmp, "%.6g", v);
    return mv__buf_puts(b, tmp);
}

static int key(mv_buf *b, const char *k, int comma)
{
    int rc = comma ? mv__buf_puts(b, ",") : 0;
    rc |= mv__buf_json_string(b, k);
    rc |= mv__buf_puts(b, ":");
    return rc;
}

static int kstr(mv_buf *b, const char *k, const char *v)
{
    return key(b, k, 1) | mv__buf_json_string(b, v ? v : "");
}

static int knum(mv_buf *b, const char *k, double v)
{
    return key(b, k, 1) | num(b, v);
}

static int kint(mv_buf *b, const char *k, int64_t v)
{
    return key(b, k, 1) | mv__buf_json_int(b, v);
}

/* "t":[...],"min":[...],"max":[...] (no braces), times relative to t0. */
static int cols(mv_buf *b, const cli_report_cols *c, int64_t t0)
{
    int rc = mv__buf_puts(b, "\"t\":[");
    char tmp[32];
    for (size_t i = 0; i < c->n && !rc; i++) {
        snprintf(tmp, sizeof tmp, "%s%lld", i ? "," : "",
                 (long long)(c->t_ms[i] - t0));
        rc = mv__buf_puts(b, tmp);
    }
    rc |= mv__buf_puts(b, "],\"min\":[");
    for (size_t i = 0; i < c->n && !rc; i++)
        rc = (i ? mv__buf_puts(b, ",") : 0) | num(b, c->min[i]);
    rc |= mv__buf_puts(b, "],\"max\":[");
    for (size_t i = 0; i < c->n && !rc; i++)
        rc = (i ? mv__buf_puts(b, ",") : 0) | num(b, c->max[i]);
    return rc | mv__buf_puts(b, "]");
}

static const char *verdict_name(const cli_report *r)
{
    return r->have_verdict ? mv__leak_verdict_name(r->verdict.verdict)
                           : "unknown";
}

/* Flame stacks kept in the document: the largest ones (stacks come sorted
 * by bytes), enough for the picture; the rest only counts in the total.
 * Bounded by count and by text, so deep C++ stacks cannot push the page
 * past its 5 MB budget. */
#define FLAME_MAX_STACKS 3000
#define FLAME_MAX_TEXT (1536u * 1024u)

int cli_report_json(const cli_report *r, mv_buf *b)
{
    int rc = mv__buf_puts(b, "{\"memvigil_report\":1");
    rc |= kstr(b, "source", r->source);
    rc |= kstr(b, "command", r->command);
    rc |= kint(b, "pid", r->pid);
    rc |= kint(b, "interval_ms", r->interval_ms);
    rc |= kint(b, "t0_ms", r->t0_ms);
    rc |= kint(b, "t1_ms", r->t1_ms);
    rc |= knum(b, "duration_s", (double)(r->t1_ms - r->t0_ms) / 1000.0);
    rc |= kint(b, "samples", (int64_t)r->nsamples);
    rc |= kint(b, "events_total", (int64_t)r->nevents_total);
    rc |= key(b, "downsampled", 1) | mv__buf_puts(b, r->downsampled ? "true" : "false");

    rc |= key(b, "verdict", 1);
    if (r->have_verdict) {
        const mv__leak_result *v = &r->verdict;
        rc |= mv__buf_puts(b, "{\"verdict\":");
        rc |= mv__buf_json_string(b, verdict_name(r));
        rc |= knum(b, "growth_bytes_per_second", v->growth_bytes_per_h / 3600.0);
        rc |= knum(b, "growth_bytes_per_hour", v->growth_bytes_per_h);
        rc |= knum(b, "growth_lo_bytes_per_hour", v->growth_lo_bytes_per_h);
        rc |= knum(b, "growth_hi_bytes_per_hour", v->growth_hi_bytes_per_h);
        rc |= knum(b, "confidence", v->confidence);
        rc |= knum(b, "time_to_limit_seconds", v->eta_s);
        rc |= knum(b, "time_to_limit_lo_seconds", v->eta_lo_s);
        rc |= knum(b, "time_to_limit_hi_seconds", v->eta_hi_s);
        rc |= knum(b, "window_seconds", v->window_s);
        rc |= knum(b, "detected_at_s", r->detected_at_s);
        rc |= key(b, "held_by_phase", 1) | mv__buf_puts(b, v->held_by_phase ? "true" : "false");
        rc |= kstr(b, "evidence", v->evidence);
        rc |= mv__buf_puts(b, "}");
    } else {
        rc |= mv__buf_puts(b, "null");
    }
    /* the urgency claim, apart from the verdict; the names analyze --json
     * uses (null without a verdict) */
    rc |= key(b, "oom_risk_active", 1) |
          mv__buf_puts(b, !r->have_verdict ? "null"
                          : r->verdict.risk.active ? "true" : "false");
    rc |= knum(b, "oom_risk_at_s", r->oom_risk_at_s);
    rc |= knum(b, "oom_risk_time_to_limit_seconds",
               r->have_verdict ? r->verdict.risk.eta_s : NAN);
    rc |= knum(b, "oom_risk_growth_bytes_per_second",
               r->have_verdict ? r->verdict.risk.growth_bytes_per_h / 3600.0 : NAN);
    rc |= knum(b, "oom_risk_growth_bytes_per_hour",
               r->have_verdict ? r->verdict.risk.growth_bytes_per_h : NAN);
    if (r->have_verdict)
        rc |= kstr(b, "oom_risk_evidence", r->verdict.risk.evidence);
    else
        rc |= key(b, "oom_risk_evidence", 1) | mv__buf_puts(b, "null");
    rc |= kint(b, "effective_limit_bytes", r->limit_bytes);
    rc |= knum(b, "warning_ratio", r->warning_ratio);
    rc |= knum(b, "critical_ratio", r->critical_ratio);
    rc |= kstr(b, "max_level", r->max_level);
    rc |= kint(b, "oom_kills", r->oom_kills);
    rc |= key(b, "oom_suspected", 1) | mv__buf_puts(b, r->oom_suspected ? "true" : "false");
    rc |= key(b, "figures", 1) | mv__buf_puts(b, "{\"private_first\":") |
          num(b, r->private_first);
    rc |= knum(b, "private_last", r->private_last);
    rc |= knum(b, "private_peak", r->private_peak);
    rc |= knum(b, "rss_peak", r->rss_peak);
    rc |= mv__buf_puts(b, "}");

    rc |= key(b, "timeline", 1) | mv__buf_puts(b, "{\"series\":{");
    int first = 1;
    for (int k = 0; k < CLI_RS_COUNT; k++) {
        if (!r->series_present[k])
            continue;
        rc |= key(b, series_keys[k], !first) | mv__buf_puts(b, "{");
        rc |= cols(b, &r->cols[k], r->t0_ms) | mv__buf_puts(b, "}");
        first = 0;
    }
    rc |= mv__buf_puts(b, "},\"trend\":");
    if (r->have_trend) {
        rc |= mv__buf_puts(b, "{\"t0_s\":") | num(b, r->trend_t0_s);
        rc |= knum(b, "v0", r->trend_v0) | knum(b, "t1_s", r->trend_t1_s);
        rc |= knum(b, "v1", r->trend_v1) | mv__buf_puts(b, "}");
    } else {
        rc |= mv__buf_puts(b, "null");
    }
    rc |= mv__buf_puts(b, "}");

    rc |= key(b, "events", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->nevents && !rc; i++) {
        const cli_report_event *e = &r->events[i];
        rc |= mv__buf_puts(b, i ? ",{\"timestamp_ms\":" : "{\"timestamp_ms\":") |
              mv__buf_json_int(b, e->t_ms);
        rc |= kstr(b, "event", e->event) | kstr(b, "level", e->level);
        rc |= kstr(b, "message", e->message) | mv__buf_puts(b, "}");
    }
    rc |= mv__buf_puts(b, "]");

    rc |= key(b, "phases", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->nphases && !rc; i++) {
        const cli_report_phase *p = &r->phases[i];
        rc |= mv__buf_puts(b, i ? ",{\"name\":" : "{\"name\":") |
              mv__buf_json_string(b, p->name);
        rc |= kint(b, "t0_ms", p->t0_ms) | kint(b, "t1_ms", p->t1_ms);
        rc |= key(b, "open", 1) | mv__buf_puts(b, p->open ? "true}" : "false}");
    }
    rc |= mv__buf_puts(b, "]");

    rc |= key(b, "gauges", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->ngauges && !rc; i++) {
        const cli_report_gauge *g = &r->gauges[i];
        rc |= mv__buf_puts(b, i ? ",{\"name\":" : "{\"name\":") |
              mv__buf_json_string(b, g->name);
        rc |= knum(b, "last", g->last) | mv__buf_puts(b, ",");
        rc |= cols(b, &g->cols, r->t0_ms) | mv__buf_puts(b, "}");
    }
    rc |= mv__buf_puts(b, "]");

    rc |= key(b, "ops", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->nops && !rc; i++) {
        const cli_report_op *o = &r->ops[i];
        rc |= mv__buf_puts(b, i ? ",{\"name\":" : "{\"name\":") |
              mv__buf_json_string(b, o->name);
        rc |= kint(b, "count", (int64_t)o->count) | knum(b, "p50", o->p50);
        rc |= knum(b, "p95", o->p95) | knum(b, "max", o->max);
        rc |= knum(b, "mean", o->mean) | knum(b, "hist_lo", o->hist_lo);
        rc |= knum(b, "hist_hi", o->hist_hi) | mv__buf_puts(b, ",\"hist\":[");
        for (int k = 0; k < CLI_REPORT_HIST_BINS; k++)
            rc |= mv__buf_printf(b, "%s%u", k ? "," : "", o->hist[k]);
        rc |= mv__buf_puts(b, "]}");
    }
    rc |= mv__buf_puts(b, "]");

    rc |= key(b, "progress", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->nprogress && !rc; i++) {
        const cli_report_progress *p = &r->progress[i];
        rc |= mv__buf_puts(b, i ? ",{\"unit\":" : "{\"unit\":") |
              mv__buf_json_string(b, p->unit);
        rc |= kint(b, "units_total", p->units_total);
        /* bytes per unit, as the status document and the recording: the
         * last checkpoint's under the same key and the first's, exact
         * (round-trip digits), then the series (t, min, max) */
        rc |= key(b, "memory_per_unit_bytes", 1) |
              mv__buf_json_double(b, p->last_per_unit);
        rc |= key(b, "first_memory_per_unit_bytes", 1) |
              mv__buf_json_double(b, p->first_per_unit);
        rc |= kint(b, "rising_at_ms", p->rising_at_ms) | mv__buf_puts(b, ",");
        rc |= cols(b, &p->per_unit, r->t0_ms) | mv__buf_puts(b, "}");
    }
    rc |= mv__buf_puts(b, "]");

    const cli_report_heap *h = &r->heap;
    rc |= key(b, "heap", 1);
    rc |= mv__buf_puts(b, h->requested ? "{\"requested\":true" : "{\"requested\":false");
    rc |= kint(b, "snapshots", (int64_t)h->nsnapshots);
    rc |= knum(b, "span_s", h->span_s) | kstr(b, "note", h->note);
    rc |= key(b, "sites", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < h->nsites && !rc; i++) {
        const cli_report_site *s = &h->sites[i];
        rc |= mv__buf_puts(b, i ? ",{\"site\":" : "{\"site\":") |
              mv__buf_json_string(b, s->site);
        rc |= kstr(b, "stack", s->stack);
        rc |= knum(b, "growth_bytes_per_hour", s->growth_bytes_per_h);
        rc |= knum(b, "share", s->share) | kint(b, "live_bytes", s->live_bytes);
        rc |= mv__buf_puts(b, "}");
    }
    rc |= mv__buf_puts(b, "],\"flame\":{\"total\":") |
          mv__buf_json_int(b, h->flame_total);
    rc |= mv__buf_puts(b, ",\"stacks\":[");
    size_t text = 0;
    for (size_t i = 0; i < h->nflame && i < FLAME_MAX_STACKS && !rc; i++) {
        text += strlen(h->flame[i].folded);
        if (text > FLAME_MAX_TEXT)
            break;
        rc |= mv__buf_puts(b, i ? ",[" : "[") |
              mv__buf_json_string(b, h->flame[i].folded);
        rc |= mv__buf_printf(b, ",%lld]", (long long)h->flame[i].value);
    }
    rc |= mv__buf_puts(b, "]}}");

    rc |= key(b, "advice", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->nadvice; i++)
        rc |= (i ? mv__buf_puts(b, ",") : 0) | mv__buf_json_string(b, r->advice[i]);
    rc |= mv__buf_puts(b, "]");
    rc |= key(b, "missing", 1) | mv__buf_puts(b, "[");
    for (size_t i = 0; i < r->nmissing; i++)
        rc |= (i ? mv__buf_puts(b, ",") : 0) | mv__buf_json_string(b, r->missing[i]);
    rc |= mv__buf_puts(b, "]");
    rc |= kstr(b, "warnings", r->warnings);
    rc |= mv__buf_puts(b, "}\n");
    return rc ? -ENOMEM : 0;
}
