/*
 * ingest.h — input readers of `memvigil analyze`: memvigil recordings
 * (JSONL), plain CSV (`seconds,bytes`) and Prometheus range-query JSON, read
 * from bytes, from a file or fetched from a Prometheus server, into plain
 * in-memory series (time in ms, value in bytes) that replay.h feeds to the
 * leak detector.
 *
 * Parsing is separate from I/O: cli_ingest_buffer() works on bytes, so tests
 * feed it strings; cli_ingest_file() and cli_ingest_fetch() only get the
 * bytes (cli_ingest_file streams a recording's to its parser). Every error names the input and, where there is one, the line
 * ("r.csv: line 7: timestamp 120 is not after the previous one (line 6)").
 *
 * What is an error and what is not (docs/analyze.md):
 *  - errors (-EINVAL, the input is refused): garbage lines, NaN/Inf or
 *    negative values, timestamps that go backwards or repeat, an unknown
 *    format, an invalid JSON document, a Prometheus error body;
 *  - not errors: an empty input, a single point, a recording whose signal is
 *    null everywhere — the series is returned with fewer than two points
 *    and a note, and the detector honestly says insufficient_data;
 *  - warnings (appended to the caller's buffer, the input is kept): a torn
 *    last line (the writer died mid-line) and skipped null samples.
 *
 * Ownership: a cli_series_set owns its series and their arrays; release it
 * with cli_series_set_release(). Thread-safety: none needed (main thread);
 * no globals. cli_ingest_fetch() calls curl_global_init on first use.
 */
#ifndef MV_CLI_INGEST_H
#define MV_CLI_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memvigil.h"

typedef enum cli_format {
    CLI_FMT_UNKNOWN = 0,
    CLI_FMT_EMPTY,          /* nothing but whitespace */
    CLI_FMT_RECORDING,      /* memvigil JSONL recording */
    CLI_FMT_CSV,            /* seconds,bytes[,...] */
    CLI_FMT_PROMETHEUS      /* /api/v1/query_range response body */
} cli_format;

/* "unknown", "empty", "recording", "csv", "prometheus". */
const char *cli_format_name(cli_format f);

/* One label of a Prometheus series (both strings owned by the series). */
typedef struct cli_label {
    char *name;
    char *value;
} cli_label;

/* One series to judge. Arrays hold n points, time strictly increasing. */
/* Recordings: the allocator figures of one point (alloc_* sample fields;
 * kind 0 when the sample had none), for the allocator diagnosis. */
typedef struct cli_alloc_point {
    int kind;                  /* MV_ALLOC_* (allocstats.h) */
    int64_t private_bytes;     /* the sample's private memory (MV_NA) */
    int64_t in_use_bytes, free_bytes, arenas; /* MV_NA when unknown */
} cli_alloc_point;

typedef struct cli_series {
    char *source;          /* file name or Prometheus URL (owned) */
    cli_format format;
    char signal[64];       /* recording field, CSV column or metric name */
    cli_label *labels;     /* Prometheus labels, __name__ included; owned */
    size_t nlabels;
    int64_t *t_ms;         /* point times, ms (epoch or relative) */
    double *v;             /* point values, bytes (finite, >= 0) */
    int64_t *limit;        /* recordings: the effective limit at each point
                              (MV_NA unknown); NULL for other formats */
    unsigned char *phase;  /* recordings: 1 while an application phase was
                              active (from phase events); NULL otherwise */
    cli_alloc_point *alloc;/* recordings: allocator figures per point;
                              NULL otherwise */
    size_t n, cap;
    int64_t limit_bytes;   /* limit known from the input (recording header
                              or last sample); MV_NA when unknown */
    char note[160];        /* why there is little or no data, or "" */
} cli_series;

typedef struct cli_series_set {
    cli_series *s;
    size_t n, cap;
} cli_series_set;

typedef struct cli_ingest_opts {
    const char *signal;    /* --signal; NULL = the format's default */
} cli_ingest_opts;

/* Detects the format from the content (never from the file name):
 * a first non-blank line that is a recording line -> recording; a JSON
 * document with "status"/"data" -> prometheus; a first line of comma
 * separated fields -> csv; only whitespace -> empty. */
cli_format cli_ingest_detect(const char *data, size_t len);

/* What cli_ingest_sniff needs to know (its ctx). */
typedef struct cli_ingest_sniff_ctx {
    const char *name;            /* the input's name in messages */
    const cli_ingest_opts *o;    /* may be NULL */
} cli_ingest_sniff_ctx;

/* mv__record_sniff_fn of cli_ingest_file (ctx: a cli_ingest_sniff_ctx): the
 * first MiB, up to its last newline, must parse as a recording or CSV
 * (the parser's own "line N: why" otherwise), or start a JSON document
 * (then CLI_INGEST_MAX_DOC is returned as the cap). */
int cli_ingest_sniff(const char *head, size_t len, void *ctx, char *why,
                     size_t whylen);

/* Parses data (len bytes, need not be NUL-terminated) named name and
 * appends its series to out (one for a recording or CSV, one per result
 * for Prometheus). On error appends nothing, writes "NAME: [line N: ]why"
 * into err and returns -EINVAL (bad data), -ENOENT (unknown signal) or
 * -ENOMEM. Warnings ("NAME: line N: ...\n") are appended to warn when it is
 * not NULL. */
int cli_ingest_buffer(const char *name, const char *data, size_t len,
                      const cli_ingest_opts *o, cli_series_set *out,
                      mv_buf *warn, char *err, size_t errlen);

/* Reads path (at most CLI_INGEST_MAX_FILE bytes; a Prometheus JSON file,
 * which is parsed as one document, at most CLI_INGEST_MAX_DOC) and parses
 * it as above. A recording (with the earlier files of a rotated one) is
 * streamed: what is held is its series, not its text; CSV and JSON are
 * read whole, then parsed. An input longer than 1 MiB is judged on its
 * first MiB before the rest is read (cli_ingest_sniff), so a wrong file,
 * /dev/zero or an endless pipe is refused early: "PATH: why" and -EINVAL.
 * I/O errors: "PATH: strerror" and the negative errno. */
#define CLI_INGEST_MAX_FILE ((size_t)1 << 30)
/* jansson holds a document as a tree several times its size: 64 MiB of
 * JSON (about 2 million points) stays well under 1 GiB of memory. */
#define CLI_INGEST_MAX_DOC ((size_t)64 << 20)
int cli_ingest_file(const char *path, const cli_ingest_opts *o,
                    cli_series_set *out, mv_buf *warn, char *err,
                    size_t errlen);

/* Prometheus query_range request. */
typedef struct cli_prom_query {
    const char *url;       /* base URL, e.g. http://127.0.0.1:9090 */
    const char *query;     /* PromQL */
    int64_t range_ms;      /* how far back from end_ms */
    int64_t step_ms;       /* resolution */
    int64_t end_ms;        /* wall clock end; 0 = now */
    int64_t timeout_ms;    /* whole request; 0 = 30 s */
} cli_prom_query;

/* Builds the request URL (owned by the caller, free()). NULL on ENOMEM. */
char *cli_prom_request_url(const cli_prom_query *q);

/* Fetches q with libcurl and parses the body. Errors name the URL and say
 * what went wrong: connection failure or timeout (curl's reason), an HTTP
 * status (with Prometheus' errorType/error when the body carries them), a
 * body that is not a query_range response. Returns 0, -EIO (transport or
 * HTTP), -EINVAL (body) or -ENOMEM. */
int cli_ingest_fetch(const cli_prom_query *q, const cli_ingest_opts *o,
                     cli_series_set *out, mv_buf *warn, char *err,
                     size_t errlen);

/* Appends point (t_ms, v) to s (growing the arrays); 0 or -ENOMEM. */
int cli_series_push(cli_series *s, int64_t t_ms, double v);

/* Label value by name, or NULL. */
const char *cli_series_label(const cli_series *s, const char *name);

/* Formats the labels as {a="x", b="y"} (without __name__) into out. */
char *cli_series_labels_text(const cli_series *s, char *out, size_t n);

void cli_series_set_release(cli_series_set *set);

/* ---- between the ingest*.c files ---- */

/* Appends an empty series for source (copied) with format f; NULL on ENOMEM. */
cli_series *cli_series_set_add(cli_series_set *set, const char *source,
                               cli_format f);
/* Drops (and frees) the series from index keep on. */
void cli_series_set_truncate(cli_series_set *set, size_t keep);

/* The per-format parsers behind cli_ingest_buffer (same contract). */
int cli_ingest_recording(const char *name, const char *data, size_t len,
                         const cli_ingest_opts *o, cli_series_set *out,
                         mv_buf *warn, char *err, size_t errlen);
/* The same for a recording read from f (to its end, line by line; f stays
 * the caller's): only the series is held. A read error of f is -EIO with
 * "NAME: line N: read error". o may be NULL. */
int cli_ingest_recording_read(const char *name, FILE *f,
                              const cli_ingest_opts *o, cli_series_set *out,
                              mv_buf *warn, char *err, size_t errlen);
int cli_ingest_csv(const char *name, const char *data, size_t len,
                   const cli_ingest_opts *o, cli_series_set *out,
                   mv_buf *warn, char *err, size_t errlen);
int cli_ingest_prometheus(const char *name, const char *data, size_t len,
                          const cli_ingest_opts *o, cli_series_set *out,
                          mv_buf *warn, char *err, size_t errlen);

#endif /* MV_CLI_INGEST_H */
