/*
 * cmd_analyze.c — `memvigil analyze FILE... [--prometheus URL --query Q]`:
 * judges recorded or exported memory series offline with the live leak
 * detector and prints one verdict per series (docs/analyze.md).
 *
 * DESIGN. Inputs are read by ingest*.c (format detected from content) and
 * replayed by replay.c through the same detector the monitor runs, so a
 * verdict printed here is the one the agent would have raised. One bad
 * input does not hide the others: its error is printed, the rest are still
 * judged, and the exit status says that something failed (1). Otherwise the
 * status answers the question scripts ask — "is anything leaking?" — with 3
 * when any series is a leak and 0 when none is (no_leak, suspect or
 * insufficient_data); the OOM-risk claim, printed apart from the verdict,
 * does not change it. --json prints one compact object per series, one per
 * line (JSON Lines): with one series that is exactly one JSON object, and
 * with many it streams and greps well; the schema is in docs/analyze.md.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"
#include "replay.h"
#include "util.h"

#define CMD "analyze"
#define EXIT_LEAK 3
/* Prometheus refuses a range query above this many points per series. */
#define PROM_MAX_POINTS 11000
#define DEFAULT_RANGE_MS (7LL * 86400 * 1000)
#define DEFAULT_STEP_MS 60000LL

const char cli_analyze_usage[] =
    "usage: memvigil analyze [options] FILE...\n"
    "       memvigil analyze [options] --prometheus URL --query PROMQL\n"
    "\n"
    "Judges memory series offline with the live leak detector: each series is\n"
    "replayed point by point, and the verdict (leak, suspect, no_leak,\n"
    "insufficient_data) is printed with growth per hour, confidence, time to\n"
    "the limit, one sentence of evidence and when the live detector would\n"
    "first have raised the leak alarm. Apart from the verdict (the cause),\n"
    "the OOM-risk claim (the urgency: at the current rate the limit is\n"
    "reached within 12 h, whatever the cause) is printed as it stood at the\n"
    "end, with when it was first raised. A recording with allocator figures\n"
    "(alloc_*: embedded library, run --heap) also gets the allocator\n"
    "diagnosis: fragmentation or retention when private memory exceeds a flat\n"
    "live heap, with its advice; a leak verdict whose rise the live heap took\n"
    "no part in is then the allocator's (exit status 0, not 3).\n"
    "FILE is a memvigil recording (JSON\n"
    "lines), a CSV of 'seconds,bytes' (header optional, timestamps absolute or\n"
    "relative seconds or ISO 8601 date-times, values in bytes or in the unit\n"
    "the column's name ends in, as rss_kb; extra columns ignored) or a\n"
    "Prometheus query_range JSON response; the format is detected from the\n"
    "content. '-' reads stdin.\n"
    "\n"
    "  --json                one JSON object per series, one per line\n"
    "  --limit BYTES         the memory limit to judge against (512M, 2GiB);\n"
    "                        default: the recording's, else unknown\n"
    "  --signal NAME         recordings: private (default: anon + swap), rss,\n"
    "                        anon, file, shmem, swap, working_set, cg_usage;\n"
    "                        CSV: a column name from the header\n"
    "  --prometheus URL      fetch series from this Prometheus server\n"
    "  --query PROMQL        the query (one verdict per returned series)\n"
    "  --range DURATION      how far back to fetch (default 7d)\n"
    "  --step DURATION       resolution of the fetch (default 60s)\n"
    "  --timeout DURATION    give up on the server after this (default 30s)\n"
    CLI_ALLOC_WINDOW_HELP
    CLI_LEAK_MIN_RISE_HELP
    CLI_OOM_RISK_HORIZON_HELP
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 no series leaks (no_leak, suspect, insufficient_data),\n"
    "3 at least one series is a leak, 1 an input could not be read (the\n"
    "others are still judged and printed), 2 usage error.\n";

enum {
    OPT_JSON = 1000, OPT_LIMIT, OPT_SIGNAL, OPT_PROM, OPT_QUERY, OPT_RANGE,
    OPT_STEP, OPT_TIMEOUT, OPT_ALLOC_WINDOW, OPT_LEAK_MIN_RISE,
    OPT_OOM_RISK_HORIZON
};

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"signal", required_argument, NULL, OPT_SIGNAL},
    {"prometheus", required_argument, NULL, OPT_PROM},
    {"query", required_argument, NULL, OPT_QUERY},
    {"range", required_argument, NULL, OPT_RANGE},
    {"step", required_argument, NULL, OPT_STEP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"alloc-window", required_argument, NULL, OPT_ALLOC_WINDOW},
    {"leak-min-rise", required_argument, NULL, OPT_LEAK_MIN_RISE},
    {"oom-risk-horizon", required_argument, NULL, OPT_OOM_RISK_HORIZON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}
};

typedef struct opts {
    int json;
    int64_t limit;        /* MV_NA = from the input */
    const char *signal;
    const char *prom_url, *query;
    int64_t range_ms, step_ms, timeout_ms;
    cli_replay_settings det;  /* --alloc-window, --leak-min-rise,
                                 --oom-risk-horizon; 0 = the defaults */
    const char *range_arg, *step_arg;   /* as given, for messages */
} opts;

static const char *hbytes(double v, char *out, size_t n)
{
    char tmp[32];

    if (isnan(v)) {
        snprintf(out, n, "n/a");
        return out;
    }
    mv__human_bytes_d(fabs(v), tmp, sizeof tmp);
    snprintf(out, n, "%s%s", v <= -0.5 && strcmp(tmp, "n/a") != 0 ? "-" : "", tmp);
    return out;
}

static const char *hdur(double s, char *out, size_t n)
{
    return mv__human_duration(s, out, n);
}

static const char *heta(double s, char *out, size_t n)
{
    return mv__human_eta(s, out, n);
}

static const char *series_title(const cli_series *s, char *out, size_t n)
{
    char labels[512];

    if (s->format == CLI_FMT_PROMETHEUS) {
        const char *metric = cli_series_label(s, "__name__");

        cli_series_labels_text(s, labels, sizeof labels);
        snprintf(out, n, "%s%s", metric ? metric : "", labels);
    } else {
        snprintf(out, n, "%s", s->source);
    }
    return out;
}

/* The allocator diagnosis (recordings with alloc_* figures only): the
 * cause when the live heap was flat (docs/leak-detection.md). */
static void print_alloc(const cli_replay_result *rr)
{
    const mv__frag_result *f = &rr->frag;

    if (!rr->alloc_seen)
        return;
    printf("  allocator    %s%s\n", mv__frag_verdict_name(f->verdict),
           f->verdict == MV_FRAG_NONE && rr->frag_ever != MV_FRAG_NONE
               ? " at the end (it was raised, then cleared)" : "");
    if (rr->leak_is_allocator)
        printf("  cause        the allocator, not a leak: the heap in use was "
               "flat while private memory rose\n");
    printf("  alloc evidence %s\n", f->evidence);
    if (f->advice[0])
        printf("  advice       %s\n", f->advice);
}

/* The urgency claim, apart from the verdict: "OOM RISK" while it holds at
 * the end of the replay; when it was first raised either way. */
static void print_risk(const cli_replay_result *rr)
{
    const mv__oom_risk *k = &rr->r.risk;
    char a[40], b[40];

    if (k->active)
        printf("  oom risk     OOM RISK: out of memory in about %s at the "
               "current rate (%s/h)\n", heta(k->eta_s, a, sizeof a),
               hbytes(k->growth_bytes_per_h, b, sizeof b));
    else
        printf("  oom risk     none at the end%s\n",
               isnan(rr->oom_risk_at_s) ? "" : " (it was raised, then cleared)");
    if (isnan(rr->oom_risk_at_s))
        printf("  risk raised  never (no OOM-risk alarm during the replay)\n");
    else
        printf("  risk raised  %s after the first point (out of memory in "
               "about %s then)\n", hdur(rr->oom_risk_at_s, a, sizeof a),
               heta(rr->oom_risk_at_eta_s, b, sizeof b));
    if (k->evidence[0])
        printf("  risk evidence %s\n", k->evidence);
}

static void print_text(const cli_series *s, const cli_replay_result *rr)
{
    const mv__leak_result *r = &rr->r;
    char title[600], a[40], b[40], c[40], lim[40];

    printf("%s: %s\n", series_title(s, title, sizeof title),
           mv__leak_verdict_name(r->verdict));
    if (s->format == CLI_FMT_PROMETHEUS)
        printf("  source       %s\n", s->source);
    printf("  signal       %s, %zu points over %s\n",
           s->signal[0] ? s->signal : "-", rr->points,
           hdur(rr->span_s, a, sizeof a));
    if (r->verdict == MV_LEAK_INSUFFICIENT_DATA) {
        printf("  evidence     %s\n", r->evidence);
        print_alloc(rr);
        print_risk(rr);
        return;
    }
    printf("  growth       %s/h", hbytes(r->growth_bytes_per_h, a, sizeof a));
    if (!isnan(r->growth_lo_bytes_per_h) && !isnan(r->growth_hi_bytes_per_h))
        printf(" (%s/h to %s/h)",
               hbytes(r->growth_lo_bytes_per_h, b, sizeof b),
               hbytes(r->growth_hi_bytes_per_h, c, sizeof c));
    printf("\n  confidence   %.2f\n", r->confidence);
    int limit_known = rr->limit_bytes > 0 && rr->limit_bytes != MV_UNLIMITED;
    char eta[96];
    printf("  time to limit %s",
           mv__leak_eta_text(r, limit_known, eta, sizeof eta));
    if (isfinite(r->eta_s) && r->eta_s <= MV_ETA_SAY_MAX_S &&
        !isnan(r->eta_lo_s) && !isnan(r->eta_hi_s))
        printf(" (%s to %s)", heta(r->eta_lo_s, b, sizeof b),
               heta(r->eta_hi_s, c, sizeof c));
    if (limit_known)
        printf(" (limit %s)", mv__human_bytes(rr->limit_bytes, lim, sizeof lim));
    putchar('\n');
    if (isnan(rr->detected_at_s))
        printf("  detected at  never (no leak alarm during the replay)\n");
    else
        printf("  detected at  %s after the first point%s\n",
               hdur(rr->detected_at_s, a, sizeof a),
               r->verdict == MV_LEAK_LEAK ? "" : " (the alarm cleared later)");
    printf("  evidence     %s\n", r->evidence);
    print_alloc(rr);
    print_risk(rr);
}

static int print_json(const cli_series *s, const cli_replay_result *rr)
{
    const mv__leak_result *r = &rr->r;
    mv_buf b = {0};
    size_t i;
    int first = 1;

    mv__buf_puts(&b, "{\"source\":");
    mv__buf_json_string(&b, s->source);
    mv__buf_puts(&b, ",\"format\":");
    mv__buf_json_string(&b, cli_format_name(s->format));
    mv__buf_puts(&b, ",\"labels\":");
    if (s->format == CLI_FMT_PROMETHEUS) {
        mv__buf_puts(&b, "{");
        for (i = 0; i < s->nlabels; i++) {
            if (!first)
                mv__buf_puts(&b, ",");
            first = 0;
            mv__buf_json_string(&b, s->labels[i].name);
            mv__buf_puts(&b, ":");
            mv__buf_json_string(&b, s->labels[i].value);
        }
        mv__buf_puts(&b, "}");
    } else {
        mv__buf_puts(&b, "null");
    }
    mv__buf_puts(&b, ",\"signal\":");
    mv__buf_json_string(&b, s->signal);
    mv__buf_printf(&b, ",\"points\":%zu,\"span_s\":", rr->points);
    mv__buf_json_double(&b, rr->span_s);
    mv__buf_puts(&b, ",\"verdict\":");
    mv__buf_json_string(&b, mv__leak_verdict_name(r->verdict));
    mv__buf_puts(&b, ",\"reason\":");
    mv__buf_json_string(&b, mv__leak_reason_name(r->reason));
    mv__buf_puts(&b, ",\"detected_at_s\":");
    mv__buf_json_double(&b, rr->detected_at_s);
    /* the same names as the report's verdict and the status JSON's leak
     * object (docs/api-status.md "Renamed keys") */
    mv__buf_puts(&b, ",\"growth_bytes_per_hour\":");
    mv__buf_json_double(&b, r->growth_bytes_per_h);
    mv__buf_puts(&b, ",\"growth_lo_bytes_per_hour\":");
    mv__buf_json_double(&b, r->growth_lo_bytes_per_h);
    mv__buf_puts(&b, ",\"growth_hi_bytes_per_hour\":");
    mv__buf_json_double(&b, r->growth_hi_bytes_per_h);
    mv__buf_puts(&b, ",\"confidence\":");
    mv__buf_json_double(&b, r->confidence);
    /* JSON has no infinity: null, and time_to_limit_infinite says "never" */
    mv__buf_puts(&b, ",\"time_to_limit_seconds\":");
    mv__buf_json_double(&b, isinf(r->eta_s) ? NAN : r->eta_s);
    mv__buf_printf(&b, ",\"time_to_limit_infinite\":%s",
                   isinf(r->eta_s) ? "true" : "false");
    int eta_known = isfinite(r->eta_s);
    mv__buf_puts(&b, ",\"time_to_limit_lo_seconds\":");
    mv__buf_json_double(&b, eta_known && isfinite(r->eta_lo_s) ? r->eta_lo_s : NAN);
    mv__buf_puts(&b, ",\"time_to_limit_hi_seconds\":");
    mv__buf_json_double(&b, eta_known && isfinite(r->eta_hi_s) ? r->eta_hi_s : NAN);
    mv__buf_puts(&b, ",\"effective_limit_bytes\":");
    mv__buf_json_int(&b, rr->limit_bytes > 0 &&
                             rr->limit_bytes != MV_UNLIMITED
                         ? rr->limit_bytes : MV_NA);
    mv__buf_puts(&b, ",\"window_seconds\":");
    mv__buf_json_double(&b, r->window_s);
    mv__buf_puts(&b, ",\"evidence\":");
    mv__buf_json_string(&b, r->evidence);
    /* the urgency claim, apart from the verdict (docs/analyze.md) */
    mv__buf_printf(&b, ",\"oom_risk_active\":%s,\"oom_risk_at_s\":",
                   r->risk.active ? "true" : "false");
    mv__buf_json_double(&b, rr->oom_risk_at_s);
    mv__buf_puts(&b, ",\"oom_risk_time_to_limit_seconds\":");
    mv__buf_json_double(&b, isinf(r->risk.eta_s) ? NAN : r->risk.eta_s);
    mv__buf_puts(&b, ",\"oom_risk_growth_bytes_per_hour\":");
    mv__buf_json_double(&b, r->risk.growth_bytes_per_h);
    mv__buf_puts(&b, ",\"oom_risk_evidence\":");
    mv__buf_json_string(&b, r->risk.evidence);
    /* the allocator diagnosis: null where the input has no figures */
    mv__buf_puts(&b, ",\"allocator_diagnosis\":");
    if (rr->alloc_seen)
        mv__buf_json_string(&b, mv__frag_verdict_name(rr->frag.verdict));
    else
        mv__buf_puts(&b, "null");
    mv__buf_printf(&b, ",\"leak_is_allocator\":%s,\"allocator_evidence\":",
                   rr->leak_is_allocator ? "true" : "false");
    if (rr->alloc_seen)
        mv__buf_json_string(&b, rr->frag.evidence);
    else
        mv__buf_puts(&b, "null");
    mv__buf_puts(&b, ",\"allocator_advice\":");
    if (rr->alloc_seen && rr->frag.advice[0])
        mv__buf_json_string(&b, rr->frag.advice);
    else
        mv__buf_puts(&b, "null");
    mv__buf_puts(&b, ",\"note\":");
    if (s->note[0])
        mv__buf_json_string(&b, s->note);
    else
        mv__buf_puts(&b, "null");
    if (mv__buf_puts(&b, "}\n") != 0) {
        mv_buf_release(&b);
        return -ENOMEM;
    }
    fwrite(b.data, 1, b.len, stdout);
    mv_buf_release(&b);
    return 0;
}

static void flush_warnings(mv_buf *warn)
{
    char *p, *nl;

    if (!warn->len)
        return;
    for (p = warn->data; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        cli_error(CMD, "warning: %.*s", (int)(nl - p), p);
        if (!*nl)
            break;
    }
    mv__buf_reset(warn);
}

static int parse_opts(int argc, char **argv, opts *o)
{
    int c;

    memset(o, 0, sizeof *o);
    o->limit = MV_NA;
    o->range_ms = DEFAULT_RANGE_MS;
    o->step_ms = DEFAULT_STEP_MS;
    o->timeout_ms = 30000;
    o->range_arg = "7d";
    o->step_arg = "60s";
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(cli_analyze_usage, stdout);
            return -1;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_LIMIT:
            if (mv__parse_size(optarg, &o->limit) != 0 || o->limit <= 0)
                return cli_usage_error(CMD, "bad --limit '%s' (a size such "
                                       "as 512M or 2GiB)", optarg);
            break;
        case OPT_SIGNAL:
            if (!*optarg)
                return cli_usage_error(CMD, "empty --signal");
            o->signal = optarg;
            break;
        case OPT_PROM:
            o->prom_url = optarg;
            break;
        case OPT_LEAK_MIN_RISE:
            if (cli_parse_leak_min_rise(CMD, optarg, &o->det.min_rise_ms))
                return CLI_EXIT_USAGE;
            break;
        case OPT_OOM_RISK_HORIZON:
            if (cli_parse_oom_risk_horizon(CMD, optarg,
                                           &o->det.risk_horizon_ms))
                return CLI_EXIT_USAGE;
            break;
        case OPT_QUERY:
            o->query = optarg;
            break;
        case OPT_RANGE:
            if (cli_parse_duration_ms(optarg, &o->range_ms) != 0 ||
                o->range_ms <= 0)
                return cli_usage_error(CMD, "bad --range '%s' (a duration "
                                       "such as 2d or 12h)", optarg);
            o->range_arg = optarg;
            break;
        case OPT_STEP:
            if (cli_parse_duration_ms(optarg, &o->step_ms) != 0 ||
                o->step_ms < 1000)
                return cli_usage_error(CMD, "bad --step '%s' (a duration of "
                                       "at least 1s, such as 60s)", optarg);
            o->step_arg = optarg;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_duration_ms(optarg, &o->timeout_ms) != 0 ||
                o->timeout_ms <= 0)
                return cli_usage_error(CMD, "bad --timeout '%s'", optarg);
            break;
        case OPT_ALLOC_WINDOW:
            if (cli_parse_alloc_window(CMD, optarg, &o->det.alloc_window_ms) != 0)
                return CLI_EXIT_USAGE;
            break;
        case ':':
        default:
            return cli_option_error(CMD, c, argv);
        }
    }
    if (!!o->prom_url != !!o->query)
        return cli_usage_error(CMD, "--prometheus and --query go together");
    if (!o->prom_url && optind >= argc)
        return cli_usage_error(CMD, "no input: give FILE... or --prometheus "
                               "URL --query PROMQL");
    if (o->prom_url && o->range_ms / o->step_ms + 1 > PROM_MAX_POINTS)
        return cli_usage_error(CMD, "--range %s at --step %s is %lld points "
                               "per series; Prometheus returns at most %d "
                               "(raise --step to at least %llds)",
                               o->range_arg, o->step_arg,
                               (long long)(o->range_ms / o->step_ms + 1),
                               PROM_MAX_POINTS,
                               (long long)((o->range_ms / (PROM_MAX_POINTS - 1)
                                            + 999) / 1000));
    return 0;
}

int cli_cmd_analyze(int argc, char **argv)
{
    cli_ingest_opts io = {0};
    cli_series_set set = {0};
    mv_buf warn = {0};
    char err[1024];
    size_t i, leaks = 0;
    int failed = 0, rc;
    opts o;
    int a;

    rc = parse_opts(argc, argv, &o);
    if (rc == -1)
        return CLI_EXIT_OK;
    if (rc != 0)
        return rc;
    io.signal = o.signal;

    for (a = optind; a < argc; a++) {
        rc = cli_ingest_file(argv[a], &io, &set, &warn, err, sizeof err);
        flush_warnings(&warn);
        if (rc != 0) {
            cli_error(CMD, "%s", rc == -ENOMEM ? "out of memory" : err);
            failed = 1;
        }
    }
    if (o.prom_url) {
        cli_prom_query q = {o.prom_url, o.query, o.range_ms, o.step_ms, 0,
                            o.timeout_ms};

        rc = cli_ingest_fetch(&q, &io, &set, &warn, err, sizeof err);
        flush_warnings(&warn);
        if (rc != 0) {
            cli_error(CMD, "%s", rc == -ENOMEM ? "out of memory" : err);
            failed = 1;
        }
    }

    for (i = 0; i < set.n; i++) {
        cli_replay_result rr;

        if (cli_replay_with(&set.s[i], o.limit, &o.det, &rr) != 0) {
            cli_error(CMD, "%s: out of memory", set.s[i].source);
            failed = 1;
            continue;
        }
        /* a rise the live heap took no part in is not a leak */
        if (rr.r.verdict == MV_LEAK_LEAK && !rr.leak_is_allocator)
            leaks++;
        if (o.json) {
            if (print_json(&set.s[i], &rr) != 0)
                failed = 1;
        } else {
            if (i > 0)
                putchar('\n');
            print_text(&set.s[i], &rr);
        }
    }
    cli_series_set_release(&set);
    mv_buf_release(&warn);
    if (failed)
        return CLI_EXIT_ERROR;
    return leaks > 0 ? EXIT_LEAK : CLI_EXIT_OK;
}
