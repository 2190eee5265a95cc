/*
 * embed.c — how a C service embeds libmemvigil, shown on a pretend "query
 * node" of a vector database: it loads an index and a segment, bulk-imports
 * rows, answers searches, then releases everything and shuts down.
 *
 * What each memvigil call is for (search for "memvigil:" below):
 *   - mv_config_init / mv_monitor_start at component start: one background
 *     sampler thread watches this process's memory and serves /metrics;
 *   - mv_gauge_set on load / release: the bytes each index and segment holds,
 *     so a dashboard shows WHICH component grows, not just the process RSS;
 *   - mv_phase_begin / mv_phase_end around a bulk import: growth there is
 *     expected, so leak/growth events are held back while it runs;
 *   - mv_progress_add during the import: rows done, which gives memory per
 *     row (bytes per unit) and warns when that keeps rising;
 *   - mv_op_begin / mv_op_end around a search: the memory delta of each
 *     operation, as a histogram;
 *   - mv_render: the exposition text, for a service that serves metrics from
 *     its own HTTP server instead of ours;
 *   - mv_monitor_stop at shutdown.
 *
 * Usage: embed [--seconds N] [--record FILE] [--listen HOST:PORT | HOST:PORT]
 *   --record FILE also writes a JSON Lines recording (samples, events, and
 *   the gauges / operations / progress below) for `memvigil report FILE`;
 *   default 5 s and 127.0.0.1:9464; try `curl 127.0.0.1:9464/metrics` while
 *   it runs. Ctrl-C ends it early (and still shuts down cleanly).
 *
 * Build: cc embed.c $(pkg-config --cflags --libs memvigil)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sigtimedwait */
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memvigil.h"

/* A loaded piece of the pretend database: plain heap memory we touch. */
typedef struct blob {
    char *data;
    size_t bytes;
} blob;

static int blob_load(blob *b, size_t bytes)
{
    b->data = malloc(bytes);
    if (b->data == NULL)
        return -ENOMEM;
    memset(b->data, 0x2a, bytes); /* touch it, so it is resident */
    b->bytes = bytes;
    return 0;
}

static void blob_release(blob *b)
{
    free(b->data);
    b->data = NULL;
    b->bytes = 0;
}

/* memvigil: the event callback. It runs on the sampler thread, so it must be
 * quick and must not call mv_monitor_stop(); copy what you keep (ev and its
 * strings are valid only during the call). A real service would log, page,
 * or shed load (e.g. refuse new segments on "critical"). */
static void on_memory_event(const mv_event *ev, void *userdata)
{
    const char *component = userdata;
    printf("[%s] memvigil event %s (level %s): %s\n", component,
           mv_event_kind_name(ev->kind), mv_level_name(ev->level), ev->message);
    fflush(stdout);
}

/* A "search": allocates scratch space proportional to the query, scores,
 * frees it. The operation scope records the memory delta of the call. */
static double search(mv_monitor *m, const blob *index, unsigned seed)
{
    /* memvigil: open a scope named after the operation. If this returns NULL
     * (bad name, out of memory) the search still runs; mv_op_end(NULL) is a
     * no-op, so no special casing is needed. */
    mv_op *op = mv_op_begin(m, "search");

    size_t scratch_bytes = (size_t)(256 + seed % 512) * 1024;
    unsigned char *scratch = malloc(scratch_bytes);
    double score = 0;
    if (scratch != NULL) {
        for (size_t i = 0; i < scratch_bytes; i += 64) {
            scratch[i] = (unsigned char)index->data[(i * 31 + seed) % index->bytes];
            score += scratch[i];
        }
        free(scratch);
    }

    /* memvigil: close the scope; the delta goes into
     * memvigil_operation_memory_delta_bytes{operation="search"}. */
    mv_op_end(op);
    return score;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:9464";
    int seconds = 5;
    const char *record = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen = argv[++i];
        } else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc) {
            record = argv[++i];
        } else if (argv[i][0] != '-') {
            listen = argv[i];
        } else {
            fprintf(stderr, "usage: embed [--seconds N] [--record FILE] [--listen HOST:PORT | HOST:PORT]\n");
            return 2;
        }
    }
    if (seconds < 1) {
        fprintf(stderr, "embed: --seconds must be at least 1\n");
        return 2;
    }

    /* Ctrl-C / SIGTERM end the serving loop early: block them here (threads
     * started later inherit the mask) and poll with sigtimedwait below, so
     * no handler and no global flag are needed. */
    sigset_t stopset;
    sigemptyset(&stopset);
    sigaddset(&stopset, SIGINT);
    sigaddset(&stopset, SIGTERM);
    sigprocmask(SIG_BLOCK, &stopset, NULL);

    /* ---- component start ---- */

    /* memvigil: start from the defaults (watch this process, 10 s interval,
     * levels at 80 % / 90 % of the effective limit), then override. */
    mv_config cfg;
    mv_config_init(&cfg);
    cfg.interval_ms = 1000;        /* 1 s so a 5 s demo sees a few samples;
                                      keep the 10 s default in production */
    cfg.http_listen = listen;      /* our own /metrics endpoint; NULL = none */
    cfg.on_event = on_memory_event;
    cfg.userdata = (void *)"query-node";
    cfg.record_path = record;      /* NULL = no recording */

    /* memvigil: takes a first sample right away (so a bad config or a busy
     * port is reported here, not later), then starts the sampler thread and
     * the endpoint. On error nothing runs and m stays NULL. */
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, "embed: memory monitor not started: %s\n", mv_strerror(rc));
        return 1;
    }
    /* With port 0 the kernel picks a free port; ask which one. */
    printf("query node up; metrics on http://127.0.0.1:%d/metrics\n",
           mv_monitor_http_port(m));

    /* ---- load an index and a segment ---- */

    blob index = { 0 }, segment = { 0 };
    if (blob_load(&index, 24u << 20) != 0 || blob_load(&segment, 8u << 20) != 0) {
        fprintf(stderr, "embed: out of memory loading\n");
        blob_release(&index);
        mv_monitor_stop(m);
        return 1;
    }
    /* memvigil: record what each component holds. Labels tell series apart
     * ("key=value,key=value"); keep them low-cardinality (ids of long-lived
     * objects are fine, request ids are not). The count per family is capped
     * (cfg.max_series_per_family); over it, -ENOSPC and the drop is counted. */
    mv_gauge_set(m, "index", "index_type=hnsw,collection=7", (int64_t)index.bytes);
    mv_gauge_set(m, "segment", "segment=42,collection=7", (int64_t)segment.bytes);

    /* ---- bulk import, as a phase with progress ---- */

    /* memvigil: growth during a phase is expected, so growth/leak events are
     * held back until it ends (and the phase shows in memvigil_phase_active). */
    mv_phase_begin(m, "bulk_import");
    enum { BATCHES = 20, ROWS_PER_BATCH = 5000, ROW_BYTES = 64 };
    char *rows = NULL;
    size_t nrows = 0;
    for (int b = 0; b < BATCHES; b++) {
        char *grown = realloc(rows, (nrows + ROWS_PER_BATCH) * ROW_BYTES);
        if (grown == NULL)
            break;
        rows = grown;
        memset(rows + nrows * ROW_BYTES, b, (size_t)ROWS_PER_BATCH * ROW_BYTES);
        nrows += ROWS_PER_BATCH;
        /* memvigil: count the work done; memory per row is derived from it,
         * and a steady rise of that ratio raises "per_unit_rising". */
        mv_progress_add(m, "rows", ROWS_PER_BATCH);
        sleep_ms(10);
    }
    mv_phase_end(m, "bulk_import");
    /* the imported rows now belong to the segment */
    mv_gauge_set(m, "segment", "segment=42,collection=7",
                 (int64_t)(segment.bytes + nrows * ROW_BYTES));
    printf("imported %zu rows\n", nrows);

    /* ---- serve searches until the time is up (or Ctrl-C) ---- */

    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned seed = 1;
    double total = 0;
    long searches = 0;
    for (;;) {
        for (int k = 0; k < 50; k++, searches++)
            total += search(m, &index, seed = seed * 1103515245u + 12345u);
        struct timespec poll = { 0, 20 * 1000000L };
        int sig = sigtimedwait(&stopset, NULL, &poll);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= seconds)
            break;
    }
    printf("answered %ld searches (checksum %.0f)\n", searches, total);

    /* ---- show the exposition, then shut down ---- */

    /* memvigil: render into a caller-owned buffer — what a service with its
     * own HTTP server would send on GET /metrics (with the Content-Type from
     * mv_format_content_type). Done before the release below so the
     * component gauges are still in it. */
    mv_buf out;
    mv_buf_init(&out);
    if (mv_render(m, MV_FORMAT_PROMETHEUS, &out) == 0 && out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    mv_buf_release(&out);

    /* memvigil: a released component sets its gauge to 0, which removes the
     * series (a dropped segment leaves no stale line behind). */
    free(rows);
    blob_release(&segment);
    mv_gauge_set(m, "segment", "segment=42,collection=7", 0);
    blob_release(&index);
    mv_gauge_set(m, "index", "index_type=hnsw,collection=7", 0);

    /* memvigil: stops the sampler thread and the endpoint and frees the
     * monitor. Never call it from the event callback. */
    mv_monitor_stop(m);
    printf("query node down\n");
    return ferror(stdout) ? 1 : 0;
}
