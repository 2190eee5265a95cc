/*
 * cmd_report.c — `memvigil report RECORDING [--heap DIR] [-o FILE]
 * [--format html|markdown|text|json]`: a report people can read, from a
 * recording and optionally the heap snapshots of the same run.
 *
 * Design: this file is the glue. The model and the renderers live in
 * report*.c and know nothing of the leak detector's replay or of pprof, so
 * they can be tested on their own; here the verdict comes from cli_replay
 * (the very replay `memvigil analyze` runs, so both give the same verdict
 * for the same file) and the heap section from the heap agent's readers
 * (heapdir.c: snapshots in sequence, symbolized, ranked by heaptrend.c).
 * The page's scripts and styles are compiled in (report_assets/, embedded
 * by CMake), so the output needs nothing at view time.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "heapdir.h"
#include "record.h"
#include "replay.h"
#include "report.h"
#include "util.h"

/* Generated from src/charts/ (embed.cmake). */
extern const unsigned char cli_asset_report_css[];
extern const unsigned long cli_asset_report_css_len;
extern const unsigned char cli_asset_report_js[];
extern const unsigned long cli_asset_report_js_len;

/* Growing call sites shown in the report. */
#define REPORT_TOP_SITES 15

const char cli_report_usage[] =
    "usage: memvigil report [-o FILE] [--format html|markdown|text|json]\n"
    "                       [--heap DIR] RECORDING\n"
    "\n"
    "Renders a recording (memvigil run|watch --record) as a report people can\n"
    "read: the leak verdict with growth, confidence and time to limit, the\n"
    "OOM-risk claim (the limit reached within 12 h at the current rate), OOM\n"
    "kills, a timeline (RSS split, swap, working set, limit and thresholds,\n"
    "events, phases, the fitted trend), application gauges, memory per\n"
    "operation and per unit of progress, growing heap call sites with a flame\n"
    "graph (--heap), and what to do next. The HTML page is one self-contained\n"
    "file: no network requests; its charts are drawn from data embedded in it.\n"
    "\n"
    "  -o, --output FILE     write there (default: stdout; for html, a FILE\n"
    "                        is recommended)\n"
    "  -f, --format FMT      html (default), markdown, text or json\n"
    "      --heap DIR        heap snapshots of the same run (memvigil run --heap)\n"
    "      --heap-skip REGEX skip frames matching REGEX to find a call site,\n"
    "                        as `heap --skip` (repeatable)\n"
    "  -h, --help            this help\n"
    "\n"
    "Exits 0, 1 when the recording cannot be read (the message says why and\n"
    "where), 2 on usage errors.\n";

/* ---- verdict: replay private memory through the leak detector ---- */

static int replay_verdict(const cli_report_raw *raw, void *ctx,
                          mv__leak_result *out, double *detected_at_s,
                          int64_t *limit)
{
    (void)ctx;
    cli_series s;
    memset(&s, 0, sizeof s);
    s.format = CLI_FMT_RECORDING;
    mv__strlcpy(s.signal, "private", sizeof s.signal);
    s.limit_bytes = MV_NA;
    s.t_ms = malloc((raw->n + 1) * sizeof *s.t_ms);
    s.v = malloc((raw->n + 1) * sizeof *s.v);
    s.limit = malloc((raw->n + 1) * sizeof *s.limit);
    s.phase = malloc(raw->n + 1);
    int rc = -ENOMEM;
    if (!s.t_ms || !s.v || !s.limit || !s.phase)
        goto out;
    /* the replay wants finite, non-negative values, strictly increasing
     * times: unavailable points and repeated times are left out */
    for (size_t i = 0; i < raw->n; i++) {
        double v = raw->private_bytes[i];
        if (isnan(v) || v < 0)
            continue;
        if (s.n > 0 && raw->t_ms[i] <= s.t_ms[s.n - 1])
            continue;
        s.t_ms[s.n] = raw->t_ms[i];
        s.v[s.n] = v;
        s.limit[s.n] = raw->limit[i];
        s.phase[s.n] = raw->phase[i];
        if (raw->limit[i] != MV_NA)
            s.limit_bytes = raw->limit[i];
        s.n++;
    }
    s.cap = s.n;
    if (s.n < 2)
        snprintf(s.note, sizeof s.note, "fewer than two samples of private memory");
    cli_replay_result res;
    rc = cli_replay(&s, MV_NA, 0, &res);
    if (rc == 0) {
        *out = res.r;
        /* the replay's own record of the first OOM-risk activation (the
         * same point the detector's risk.first_ms names) */
        out->risk.first_ms = res.oom_risk_at_ms != MV_NA ? res.oom_risk_at_ms
                                                         : -1;
        *detected_at_s = res.detected_at_s;
        *limit = res.limit_bytes;
    }
out:
    free(s.t_ms);
    free(s.v);
    free(s.limit);
    free(s.phase);
    return rc;
}

/* ---- heap section ---- */

static int load_heap(const char *dir, cli_report_heap *h)
{
    cli_heapdir hd;
    h->requested = 1;
    h->span_s = NAN;
    int rc = cli_heapdir_init(&hd, dir, 0);
    if (rc)
        return rc;
    rc = cli_heapdir_update(&hd, NULL);
    if (rc == -ENOENT || rc == -ENOTDIR) {
        snprintf(h->note, sizeof h->note, "%s: %s", dir,
                 rc == -ENOENT ? "no such directory" : "not a directory");
        cli_heapdir_release(&hd);
        return 0;
    }
    if (rc) {
        snprintf(h->note, sizeof h->note, "%s: %s", dir, strerror(-rc));
        cli_heapdir_release(&hd);
        return 0;
    }
    h->nsnapshots = (size_t)hd.loaded;
    if (hd.loaded == 0) {
        snprintf(h->note, sizeof h->note, "%s: no readable heap snapshots "
                 "(heap-PID-SEQ.pb.gz)%s", dir, hd.bad ? "; some files were corrupt" : "");
        cli_heapdir_release(&hd);
        return 0;
    }
    if (hd.bad)
        snprintf(h->note, sizeof h->note, "%lld snapshot file%s could not be read "
                 "and %s skipped", (long long)hd.bad, hd.bad == 1 ? "" : "s",
                 hd.bad == 1 ? "was" : "were");
    else if (hd.loaded < 3)
        snprintf(h->note, sizeof h->note, "only %lld snapshot%s: growth needs at "
                 "least 3", (long long)hd.loaded, hd.loaded == 1 ? "" : "s");

    cli_site_trend *tr = NULL;
    size_t n = 0;
    rc = cli_heaptrend_rank(hd.trend, &tr, &n);
    if (rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (tr[i].growing)
                k++;
        if (k > REPORT_TOP_SITES)
            k = REPORT_TOP_SITES;
        h->sites = k ? calloc(k, sizeof *h->sites) : NULL;
        if (k && !h->sites)
            rc = -ENOMEM;
        for (size_t i = 0; i < n && h->nsites < k; i++) {
            if (!tr[i].growing)
                continue;
            cli_report_site *s = &h->sites[h->nsites++];
            mv__strlcpy(s->site, tr[i].site ? tr[i].site : "?", sizeof s->site);
            mv__strlcpy(s->stack, tr[i].folded ? tr[i].folded : "", sizeof s->stack);
            s->growth_bytes_per_h = tr[i].growth_per_hour;
            s->share = tr[i].share;
            s->live_bytes = mv__double_to_i64_or(tr[i].bytes, MV_NA);
        }
        free(tr);
    }
    /* the flame graph: stacks of the newest snapshot */
    cli_stacks st;
    memset(&st, 0, sizeof st);
    if (rc == 0 && hd.last_file[0] &&
        cli_heap_load_stacks(hd.last_file, NULL, hd.sym, &st, NULL) == 0) {
        h->flame = st.n ? calloc(st.n, sizeof *h->flame) : NULL;
        for (size_t i = 0; h->flame && i < st.n; i++) {
            h->flame[i].folded = strdup(st.v[i].folded ? st.v[i].folded : "?");
            if (!h->flame[i].folded) {
                rc = -ENOMEM;
                break;
            }
            h->flame[i].value = st.v[i].value;
            h->nflame++;
        }
        h->flame_total = st.total;
        cli_stacks_release(&st);
    }
    cli_heapdir_release(&hd);
    return rc;
}

/* ---- progress bar ---- */

typedef struct bar {
    int tty;
    int64_t start_ms;
    size_t est_lines;
    int shown;
    const char *stage;
} bar;

/* Draws "memvigil report: STAGE [####    ] NN%" once a second has passed
 * (a quick report never shows it). done/total as cli_report_opts says. */
static void bar_update(void *ctx, size_t done, size_t total)
{
    bar *b = ctx;
    if (!b->tty)
        return;
    double f;
    if (total == 1) {
        b->stage = "running the leak detector";
        f = 0.6;
    } else if (total == 2) {
        b->stage = "rendering";
        f = 0.95;
    } else {
        b->stage = "reading";
        f = b->est_lines ? 0.5 * (double)done / (double)b->est_lines : 0;
        if (f > 0.5)
            f = 0.5;
    }
    if (mv__now_mono_ms() - b->start_ms < 1000)
        return;
    int w = (int)(f * 30);
    fprintf(stderr, "\r\033[Kmemvigil report: [%.*s%*s] %3.0f%% %s", w,
            "##############################", 30 - w, "", f * 100, b->stage);
    b->shown = 1;
}

static void bar_done(bar *b)
{
    if (b->shown)
        fputs("\r\033[K", stderr);
}

int cli_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"heap", required_argument, NULL, 'H'},
        {"heap-skip", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *format = "html", *heap = NULL;
    int c;
    /* options anywhere (GNU permutation): `report REC -o out.html` */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'f': format = optarg; break;
        case 'H': heap = optarg; break;
        case 'S': {
            int rc = cli_heap_skip_option("report", "--heap-skip", optarg);
            if (rc != 0)
                return rc;
            break;
        }
        case 'h': fputs(cli_report_usage, stdout); return CLI_EXIT_OK;
        case ':':
        default:
            return cli_option_error("report", c, argv);
        }
    }
    if (strcmp(format, "html") && strcmp(format, "markdown") && strcmp(format, "md") &&
        strcmp(format, "text") && strcmp(format, "json"))
        return cli_usage_error("report", "--format must be html, markdown, text or json, not '%s'", format);
    if (optind != argc - 1)
        return cli_usage_error("report", optind >= argc ? "which recording? (give one file)"
                                                        : "one recording at a time");
    const char *path = argv[optind];

    mv_buf out = {0};
    /* streamed: a rotated recording's earlier files first (record.h) */
    mv__record_stream in;
    int rc = mv__record_stream_open(&in, path, CLI_REPORT_MAX_FILE, 0,
                                    cli_report_sniff, NULL);
    if (rc) {
        cli_error("report", "%s: %s", path, cli_report_input_error(rc, &in.join));
        return CLI_EXIT_ERROR;
    }
    size_t est = in.size_bytes > 0 ? (size_t)in.size_bytes : 0;
    bar pb = {isatty(2), mv__now_mono_ms(), est / 330 + 1, 0, "reading"};
    cli_report_opts o;
    memset(&o, 0, sizeof o);
    o.verdict = replay_verdict;
    o.progress = bar_update;
    o.progress_ctx = &pb;
    cli_report r;
    char err[512];
    rc = cli_report_read(path, in.f, &o, &r, err, sizeof err);
    if (in.error) {   /* refused while reading: say why, not "read error" */
        if (rc == 0)
            cli_report_release(&r);
        bar_done(&pb);
        cli_error("report", "%s: %s", path, cli_report_input_error(in.error, &in.join));
        mv__record_stream_close(&in);
        return CLI_EXIT_ERROR;
    }
    if (in.join.note[0]) {
        bar_done(&pb);
        cli_error("report", "note: %s: %s", path, in.join.note);
    }
    mv__record_stream_close(&in);
    if (rc) {
        bar_done(&pb);
        cli_error("report", "%s", err);
        return CLI_EXIT_ERROR;
    }
    if (heap) {
        rc = load_heap(heap, &r.heap);
        if (rc) {
            bar_done(&pb);
            cli_error("report", "%s: %s", heap, strerror(-rc));
            cli_report_release(&r);
            return CLI_EXIT_ERROR;
        }
        cli_report_finish(&r);
    }
    bar_update(&pb, 2, 2);
    if (strcmp(format, "json") == 0) {
        rc = cli_report_json(&r, &out);
    } else if (strcmp(format, "text") == 0) {
        rc = cli_report_text(&r, &out);
    } else if (format[0] == 'm') {
        rc = cli_report_markdown(&r, &out);
    } else {
        cli_report_assets a = {(const char *)cli_asset_report_css, cli_asset_report_css_len,
                               (const char *)cli_asset_report_js, cli_asset_report_js_len};
        rc = cli_report_html(&r, &a, &out);
    }
    bar_done(&pb);
    if (r.warnings[0])
        cli_error("report", "warning: %s: %s", path, r.warnings);
    cli_report_release(&r);
    if (rc) {
        cli_error("report", "out of memory");
        mv_buf_release(&out);
        return CLI_EXIT_ERROR;
    }
    int status = CLI_EXIT_OK;
    if (output) {
        FILE *f = fopen(output, "w");
        int bad = !f;
        if (f) {
            bad = fwrite(out.data, 1, out.len, f) != out.len;
            bad |= fclose(f) != 0;
        }
        if (bad) {
            cli_error("report", "%s: %s", output, strerror(errno));
            status = CLI_EXIT_ERROR;
        }
    } else if (out.len) {
        fwrite(out.data, 1, out.len, stdout);
    }
    mv_buf_release(&out);
    return status;
}
