/*
 * report.h — `memvigil report`: turns a recording (plus, optionally, heap
 * snapshots) into a model of what happened, then renders that model as a
 * self-contained HTML page, Markdown, plain text or JSON.
 *
 * Pieces:
 *  - report_model.c: reads the recording once, as a stream
 *    (mv__record_read_ex: the library's one reader gives every line kind,
 *    the optional gauge / op / progress too, parsed; no JSON is parsed
 *    here) and builds the model:
 *    header facts, a timeline downsampled to at most CLI_REPORT_COLUMNS
 *    columns keeping min and max per column (so spikes stay visible),
 *    events, phases, gauges, operation deltas with percentiles and a
 *    histogram, progress as memory per unit (bytes per unit, the figure
 *    every JSON output and the recording carry; the human-readable
 *    renderers show it per CLI_SHOWN_UNITS units), OOM kills, and the
 *    "what to do next" advice.
 *  - report_json.c: the model as one JSON document. The HTML page embeds
 *    exactly this document and draws its charts from it, so the JSON format
 *    and the page cannot drift apart (docs/report.md documents it).
 *  - report_html.c: the page: static HTML for the verdict, tables and advice
 *    (readable without scripts, e.g. in a mail preview), the JSON, and the
 *    chart code (src/charts/, embedded at build time).
 *  - report_text.c: Markdown and plain text.
 *
 * The verdict is not computed here: the caller passes a function that
 * replays the private-memory series through the leak detector (cmd_report.c
 * uses cli_replay from replay.h), so the report and `memvigil analyze` give
 * the same verdict for the same file. The heap section is likewise filled
 * by the caller (cmd_report.c, from pprof snapshots).
 *
 * Ownership: cli_report_build fills a caller-owned cli_report; release it
 * with cli_report_release (a zeroed or released report may be released
 * again). Renderers append to a caller-owned mv_buf.
 * Thread-safety: none needed; no globals.
 */
#ifndef MV_CLI_REPORT_H
#define MV_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "leak.h"
#include "memvigil.h"

/* Columns the timeline is downsampled to: about the pixel width of a wide
 * chart. Each column keeps the min and max of every series, so a spike one
 * sample wide still shows; 1200 columns x 9 series stay well under 1 MiB of
 * JSON whatever the recording's length. */
#define CLI_REPORT_COLUMNS 1200
/* Operation-delta histogram bins. */
#define CLI_REPORT_HIST_BINS 20

/* Timeline series, in JSON/drawing order. */
enum {
    CLI_RS_RSS, CLI_RS_ANON, CLI_RS_FILE, CLI_RS_SHMEM, CLI_RS_SWAP,
    CLI_RS_PRIVATE, CLI_RS_WORKING_SET, CLI_RS_LIMIT, CLI_RS_COUNT
};

/* Raw samples kept for the verdict replay and for estimate. */
typedef struct cli_report_raw {
    int64_t *t_ms;
    double *private_bytes;   /* NAN when unavailable */
    int64_t *limit;          /* MV_NA when unknown */
    unsigned char *phase;    /* 1 while an application phase is active */
    size_t n;
} cli_report_raw;

typedef struct cli_report_event {
    int64_t t_ms;
    char event[32];
    char level[16];
    char message[320];
} cli_report_event;

typedef struct cli_report_phase {
    char name[64];
    int64_t t0_ms, t1_ms;    /* t1 = end of recording when never ended */
    int open;                /* never ended in the recording */
} cli_report_phase;

/* A downsampled series of (t, min, max) columns. */
typedef struct cli_report_cols {
    int64_t *t_ms;
    double *min, *max;
    size_t n;
} cli_report_cols;

typedef struct cli_report_gauge {
    char name[160];          /* name{labels} */
    cli_report_cols cols;
    double last;
} cli_report_gauge;

typedef struct cli_report_op {
    char name[64];
    size_t count;
    double p50, p95, max, mean;   /* bytes per call */
    double hist_lo, hist_hi;      /* histogram range (bytes) */
    uint32_t hist[CLI_REPORT_HIST_BINS];
} cli_report_op;

/* Memory per unit is kept and exported in bytes per unit (a base unit);
 * the human-readable outputs (report text, Markdown and HTML, estimate's
 * table, the page's chart in src/charts/report.js) show it per this many
 * units, which reads better for small per-unit costs. */
#define CLI_SHOWN_UNITS 1000

/* Bytes per CLI_SHOWN_UNITS units from bytes per unit: the one place the
 * human-readable outputs scale it. */
static inline double cli_per_shown_units(double bytes_per_unit)
{
    return bytes_per_unit * CLI_SHOWN_UNITS;
}

typedef struct cli_report_progress {
    char unit[64];
    cli_report_cols per_unit; /* private bytes per unit over time */
    int64_t units_total;
    double first_per_unit, last_per_unit; /* bytes per unit */
    int64_t rising_at_ms;    /* per_unit_rising event time; MV_NA = none */
    double *units, *private_bytes; /* raw checkpoints (cumulative units,
                                    * private memory then), for estimate */
    size_t npts;
} cli_report_progress;

/* ---- heap snapshots (filled by the caller) ---- */

typedef struct cli_report_site {
    char site[256];          /* "function (file:line)" */
    char stack[1024];        /* folded "root;...;site" */
    double growth_bytes_per_h;
    double share;            /* share of the process's growth, 0..1; NAN */
    int64_t live_bytes;      /* at the last snapshot */
} cli_report_site;

typedef struct cli_report_flame {
    char *folded;            /* "root;caller;site", owned */
    int64_t value;           /* live bytes */
} cli_report_flame;

typedef struct cli_report_heap {
    int requested;           /* --heap was given */
    size_t nsnapshots;
    double span_s;           /* first to last snapshot */
    cli_report_site *sites;  /* top growing sites, owned */
    size_t nsites;
    cli_report_flame *flame; /* stacks of the last snapshot, owned */
    size_t nflame;
    int64_t flame_total;
    char note[256];          /* what is missing, or "" */
} cli_report_heap;

/* ---- the model ---- */

typedef struct cli_report {
    /* header */
    char source[256];        /* recording path as given */
    char command[256];
    int32_t pid;
    int version;
    int64_t interval_ms;
    int64_t t0_ms, t1_ms;    /* first and last sample */
    size_t nsamples, nevents_total;
    /* verdict */
    int have_verdict;
    mv__leak_result verdict;
    double detected_at_s;    /* NAN = never */
    /* the urgency claim (verdict.risk), apart from the verdict: when it
     * was first raised, from the first sample (NAN never); whether it holds
     * at the end is verdict.risk.active */
    double oom_risk_at_s;
    int64_t limit_bytes;     /* at the end; MV_NA unknown */
    double warning_ratio, critical_ratio;
    char max_level[16];
    int64_t oom_kills;       /* counted from oom_kill events and counters */
    int oom_suspected;       /* exited at the limit without a counted kill */
    double trend_t0_s, trend_v0, trend_t1_s, trend_v1; /* fitted line */
    int have_trend;
    /* figures */
    double private_first, private_last, private_peak, rss_peak;
    /* timeline */
    cli_report_cols cols[CLI_RS_COUNT]; /* one per series, each with its own times */
    int series_present[CLI_RS_COUNT];
    int downsampled;         /* more samples than columns */
    cli_report_raw raw;
    cli_report_event *events; size_t nevents;
    cli_report_phase *phases; size_t nphases;
    cli_report_gauge *gauges; size_t ngauges;
    cli_report_op *ops; size_t nops;
    cli_report_progress *progress; size_t nprogress;
    cli_report_heap heap;
    /* "what to do next" and "what is missing" */
    char advice[8][400]; size_t nadvice;
    char missing[8][240]; size_t nmissing;
    char warnings[400];      /* reader warnings (torn line skipped...) */
} cli_report;

/* Replays raw through the leak detector: fills *out, *detected_at_s (NAN
 * when never) and *limit (MV_NA unknown). out->risk is the OOM-risk claim
 * at the end, out->risk.first_ms the series time (ms since the epoch) it
 * was first raised (-1 never). 0 or negative errno. */
typedef int (*cli_report_verdict_fn)(const cli_report_raw *raw, void *ctx,
                                     mv__leak_result *out,
                                     double *detected_at_s, int64_t *limit);

typedef struct cli_report_opts {
    size_t columns;          /* 0 = CLI_REPORT_COLUMNS */
    cli_report_verdict_fn verdict;  /* NULL: no verdict section */
    void *verdict_ctx;
    /* called now and then while reading with (lines read, 0), and once
     * with (1, 1) before the verdict replay starts (may be NULL) */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} cli_report_opts;

/* Largest recording `report` and `estimate` read, all its files together
 * (a week at 1 s is ~200 MB). It is streamed, never held, so the cap
 * bounds the time an endless pipe of valid lines can take, and the
 * model's size. */
#define CLI_REPORT_MAX_FILE ((size_t)1 << 30)

struct mv__record_join;
/* The words for an input error rc (a -errno of mv__record_stream_open or
 * a stream's error): "file too large (over 1 GiB)", the refusal's reason
 * (j->why) or strerror. The string is static or j's. */
const char *cli_report_input_error(int rc, const struct mv__record_join *j);

/* Builds the model from a recording read from f (to its end, once, line
 * by line; f stays the caller's) named name. What is held is the model:
 * every sample's columns (about 90 bytes a sample), the events and the
 * optional lines' points, never the text. Errors: -EINVAL with
 * "NAME: line N: why" in err (a bad line), -ENOTSUP (newer version),
 * -ENODATA ("NAME: no samples": empty input or no sample line), -EIO (a
 * read error of f: "NAME: line N: read error"), -ENOMEM. On error r is
 * released. */
int cli_report_read(const char *name, FILE *f, const cli_report_opts *o,
                    cli_report *r, char *err, size_t errlen);
/* cli_report_read of a recording held in data (len bytes; fmemopen): for
 * tests and the fuzz target. */
int cli_report_build(const char *name, const char *data, size_t len,
                     const cli_report_opts *o, cli_report *r,
                     char *err, size_t errlen);

/* mv__record_sniff_fn for `report` and `estimate` (ctx unused): the first
 * MiB of a longer input, up to its last newline, must read as a recording
 * (mv__record_read) with at least one recording line, so a wrong file or an
 * endless stream is refused before the rest is read. 0 or -EINVAL with
 * "line N: why" in why. Thread-safety: reentrant. */
int cli_report_sniff(const char *head, size_t len, void *ctx, char *why,
                     size_t whylen);

/* Recomputes advice and missing-data notes (call after filling r->heap). */
void cli_report_finish(cli_report *r);

void cli_report_release(cli_report *r);
void cli_report_heap_release(cli_report_heap *h);

/* Downsamples n points (t ascending, v; NAN skipped) into at most columns
 * columns of equal time width over [t0, t1]: each column holds the time of
 * its first point and the min and max of its points. Empty columns are
 * dropped. 0 or -ENOMEM. out is owned by the caller (cli_report_cols_release). */
int cli_report_downsample(const int64_t *t, const double *v, size_t n,
                          int64_t t0, int64_t t1, size_t columns,
                          cli_report_cols *out);
void cli_report_cols_release(cli_report_cols *c);

/* ---- shared wording (report_text.c) ---- */

/* "LEAK", "SUSPECT", "NO LEAK", "INSUFFICIENT DATA", "no verdict". */
const char *cli_report_verdict_label(const cli_report *r);

/* The OOM-risk claim at the end: "OOM RISK", "no OOM risk" (raised earlier
 * or never), "no verdict". */
const char *cli_report_risk_label(const cli_report *r);

/* The headline, both claims apart: "OOM RISK + LEAK", "OOM RISK" (risk,
 * no leak verdict), else the verdict label ("LEAK", "NO LEAK"...). */
const char *cli_report_headline(const cli_report *r, char *out, size_t n);

/* The headline figures, formatted for people. */
typedef struct cli_report_fig {
    char growth[48], confidence[16], eta[96], limit[40], duration[48],
        peak[40], oom[48];
    char risk_eta[48];       /* the OOM-risk claim's ETA at the end */
    char risk_at[64];        /* when it was first raised, or "never" */
} cli_report_fig;
void cli_report_figures(const cli_report *r, cli_report_fig *f);

/* RFC 3339 UTC time of ms since the epoch into out; returns out. */
char *cli_report_time(int64_t ms, char *out, size_t n);

/* ---- renderers (append to out; 0 or -ENOMEM) ---- */

int cli_report_json(const cli_report *r, mv_buf *out);
int cli_report_markdown(const cli_report *r, mv_buf *out);
int cli_report_text(const cli_report *r, mv_buf *out);

/* The page's scripts and styles (src/charts/), passed in so the
 * renderer does not depend on the generated C file (tests pass the files). */
typedef struct cli_report_assets {
    const char *css; size_t css_len;
    const char *js; size_t js_len;
} cli_report_assets;

int cli_report_html(const cli_report *r, const cli_report_assets *a,
                    mv_buf *out);

/* Escapes s for HTML text and attributes (& < > " '). */
int cli_report_html_escape(mv_buf *out, const char *s);

#endif /* MV_CLI_REPORT_H */
