/*
 * heapdir.h — a directory of heap snapshots written by libmemvigil_heap.so
 * (heap-<pid>-<seq>.pb.gz, status-<pid>.json), followed incrementally: each
 * update loads the snapshots not seen yet, symbolizes them and feeds the
 * growth trend (heapdir.c). Used by `memvigil heap top DIR` and by
 * `memvigil run --heap`.
 *
 * Ownership: a cli_heapdir owns its symbolizer and trend; release with
 * cli_heapdir_release. Thread-safety: one thread at a time.
 */
#ifndef MV_CLI_HEAPDIR_H
#define MV_CLI_HEAPDIR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "memvigil.h"

#include "heaptrend.h"
#include "pprof.h"
#include "symbolize.h"

typedef struct cli_heapdir {
    char *dir;
    int32_t pid;             /* followed pid; 0 = pick the newest */
    int pid_fixed;           /* pid given by the caller */
    int32_t prefer_pid;      /* when not fixed: follow this pid whenever it
                              * has a snapshot (`run --heap`: the supervised
                              * process, so its forked children's snapshots
                              * do not take over its trend); 0 = none */
    uint64_t next_seq;       /* first sequence number not loaded yet */
    cli_symbolizer *sym;
    cli_heaptrend *trend;
    int symbolize;           /* use libdw (default 1) */
    int64_t loaded;          /* snapshots loaded */
    int64_t unread;          /* new snapshots left unread by the bound below */
    int64_t bad;             /* files that could not be read (skipped) */
    int bad_rc;              /* why the last of them failed (negative
                              * errno or CLI_PPROF_E*, see
                              * cli_pprof_strerror), 0 = none */
    char bad_file[4096];     /* the last of them, "" = none */
    char last_file[4096];    /* newest snapshot loaded */
    double last_period;
    cli_skipped skipped[CLI_STACKS_MAX_SKIPPED]; /* wrappers skipped in the
                              * newest snapshot (names owned, freed by
                              * cli_heapdir_release) */
    size_t nskipped;
} cli_heapdir;

/* The most snapshots one cli_heapdir_update reads. More pending (a
 * directory of a long run opened by `heap top DIR`, a switch to another
 * pid) and it reads this many spread evenly over them by sequence, the
 * first and the newest included: a trend needs its span and a few points
 * along it, not every point, and each read costs a decompression and a
 * stack build (bench/heap/README.md, "End-of-run summary"). */
#define CLI_HEAPDIR_MAX_READ 24

/* pid 0: follow the pid with the newest snapshot (h->prefer_pid, set after
 * init, takes precedence when it has one). 0 or -ENOMEM. */
int cli_heapdir_init(cli_heapdir *h, const char *dir, int32_t pid);
void cli_heapdir_release(cli_heapdir *h);

/* Loads new snapshots in sequence order, at most CLI_HEAPDIR_MAX_READ
 * (the others counted in h->unread). *added (may be NULL) gets how many.
 * 0, or -ENOENT (no such directory), -ENOTDIR. Unreadable or corrupt
 * snapshots are skipped and counted in h->bad, the last one named in
 * h->bad_file (a snapshot being renamed into place is never half-read: the
 * library writes temp + rename). A snapshot deleted between the listing and
 * its reading (the library's pruning) is skipped without being counted. A
 * FIFO, socket or device named like a snapshot is never opened: it is not
 * followed and counts as unreadable. */
int cli_heapdir_update(cli_heapdir *h, int *added);

/* Parses "heap-<pid>-<seq>.pb.gz". 0 or -EINVAL. */
int cli_heapdir_parse_name(const char *name, int32_t *pid, uint64_t *seq);

/* Loads one profile file and builds its stacks for sample type `type`
 * (NULL = default). sym may be NULL. 0, a negative errno or CLI_PPROF_E*
 * (cli_pprof_strerror names them all); a profile without that sample type
 * gives CLI_PPROF_ENOTYPE and sets *bad_type to 1 (may be NULL). -ENOENT
 * always means the file is missing. */
int cli_heap_load_stacks(const char *path, const char *type,
                         cli_symbolizer *sym, cli_stacks *out, int *bad_type);

/* cmd_heap.c: prints the ranking r (n trends from cli_heaptrend_rank of
 * h->trend) as `heap top DIR` does: text or one JSON object; rows per
 * list. */
void cli_heap_print_trend(FILE *f, const cli_heapdir *h,
                          const cli_site_trend *r, size_t n, int rows,
                          int json);

/* ---- heapwatch.c: `memvigil run --heap` ----
 * Lifecycle, all on the main thread: init; set enabled/dir_opt/interval_s/
 * json/quiet from the options; prepare (before fork); child_env (in the
 * forked child, before exec, while the parent is single-threaded); start
 * (parent, after fork); tick (main loop); finish (after the child exits);
 * release. Functions returning int return 0 or CLI_EXIT_ERROR after
 * printing the reason. */
typedef struct cli_heapwatch {
    int enabled;             /* --heap */
    const char *dir_opt;     /* --heap-dir, NULL = ./memvigil-heap-<pid> */
    int64_t interval_s;      /* --heap-interval; 0 = the library's default */
    int json, quiet;         /* output style (from the agent options) */
    const char *url;         /* heap watch --url: the profile's source,
                              * named in JSON events instead of a pid */

    char lib[4096];          /* the preload library found by prepare */
    char dir[4096];          /* absolute dir (prefix when dir_has_pid) */
    int dir_has_pid;
    char status_path[4160];  /* the child's status-PID.json (its allocator
                                figures: mv_config.alloc_stats_file) */
    int started;
    pid_t child;
    mv_level last_level;
    cli_heapdir hd;
    char **reported;         /* keys already announced as growing */
    size_t nreported;
    struct cli_heapserve *serve; /* /debug/pprof/heap (heapserve.h); owned */
    mv_http_route route;     /* its route, for the monitor's config */
} cli_heapwatch;

void cli_heapwatch_init(cli_heapwatch *w);
int cli_heapwatch_prepare(cli_heapwatch *w, const char *cmd);
void cli_heapwatch_child_env(const cli_heapwatch *w);
int cli_heapwatch_start(cli_heapwatch *w, pid_t child, const char *cmd);
/* `heap watch --url` (cmd_heap_watch.c): follows the snapshots of pid in
 * dir, written by someone else (no child, no preload, no symbolization on
 * this host: remote profiles carry their own names). Then tick and finish
 * as for run. 0 or CLI_EXIT_ERROR after printing. */
int cli_heapwatch_follow(cli_heapwatch *w, const char *dir, int32_t pid,
                         const char *cmd);
/* Signals the child (if any) for a snapshot when level turns critical, loads new
 * snapshots, announces newly growing sites, updates the metrics of m. */
void cli_heapwatch_tick(cli_heapwatch *w, mv_monitor *m, mv_level level);
/* Loads the final snapshot and prints the ranking (also with --quiet:
 * it is the run's result, not a status line). */
void cli_heapwatch_finish(cli_heapwatch *w, mv_monitor *m);
/* After start: adds /debug/pprof/heap (heapserve.h) to cfg's HTTP routes
 * when --heap is on; w must outlive the monitor started with cfg. */
void cli_heapwatch_config(cli_heapwatch *w, mv_config *cfg);
/* Call after the monitor has stopped (it frees the route's state). */
void cli_heapwatch_release(cli_heapwatch *w);

#endif /* MV_CLI_HEAPDIR_H */
