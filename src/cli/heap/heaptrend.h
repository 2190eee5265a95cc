/*
 * heaptrend.h — growing call sites: per stack, live bytes (inuse_space)
 * over a window of heap snapshots, a robust trend with significance, and a
 * test against sampling noise (heaptrend.c). Pure: it knows nothing of
 * files or pprof; callers feed it (key, bytes) per snapshot.
 *
 * Ownership: the trend copies every string it is given (interned once).
 * Results of cli_heaptrend_rank point at those copies and stay valid until
 * the next cli_heaptrend_add or cli_heaptrend_free.
 * Thread-safety: one thread at a time.
 */
#ifndef MV_CLI_HEAPTREND_H
#define MV_CLI_HEAPTREND_H

#include <stddef.h>
#include <stdint.h>

/* Stacks interned per trend; more distinct stacks are left out.
 * 65536 stacks is more than a profile of 8 MiB of tables can hold. */
#define CLI_HEAPTREND_MAX_KEYS 65536
/* Snapshots kept in the window (older ones are forgotten). With the
 * library's default 60 s interval that is two hours. */
#define CLI_HEAPTREND_WINDOW 120
/* Growth must exceed this many standard deviations of the sampling noise
 * of the site's latest estimate (sd = sqrt(bytes * period)) ... */
#define CLI_HEAPTREND_NOISE_K 3.0
/* ... times sqrt(CLI_HEAPTREND_FEW_POINTS / snapshots), 1 to 2: over few
 * snapshots a churning site's growth is noisier than one estimate
 * (heaptrend.c, growth_noise). */
#define CLI_HEAPTREND_FEW_POINTS 40.0
/* Snapshots needed before a site may be called growing: with 5 points a
 * steadily rising series already has a significant Kendall trend, and the
 * startup transients of the first seconds are behind. */
#define CLI_HEAPTREND_MIN_POINTS 5
/* The sampling period assumed when a profile does not say (the library's
 * default MEMVIGIL_HEAP_SAMPLE). */
#define CLI_HEAPTREND_DEFAULT_PERIOD 524288.0

typedef struct cli_heap_entry {
    const char *key;     /* stack identity */
    const char *site;    /* "function (file:line)", for people */
    const char *folded;  /* "root;...;site", may be NULL */
    double bytes;        /* live bytes of the stack in this snapshot */
} cli_heap_entry;

typedef struct cli_site_trend {
    const char *key, *site, *folded;  /* borrowed from the trend */
    double bytes;          /* live bytes in the latest snapshot */
    double first_bytes;    /* in the first snapshot of the window */
    double slope;          /* bytes per second (Theil-Sen), NAN when < 3 points */
    double lo, hi;         /* ~95% bounds of the slope */
    double tau;            /* Kendall's tau */
    double growth_per_hour;/* slope * 3600 */
    double growth;         /* slope * window span, bytes */
    double noise;          /* sqrt(max(bytes, period) * period), times
                            * sqrt(CLI_HEAPTREND_FEW_POINTS / n) in 1..2 */
    double share;          /* slope / the total heap's slope, 0..1; NAN when
                            * the total is not growing */
    int growing;           /* significant, above noise, still growing */
    int rank;              /* 1.. among growing sites; 0 when not growing */
} cli_site_trend;

typedef struct cli_heaptrend cli_heaptrend;

/* window: snapshots kept (0 = CLI_HEAPTREND_WINDOW). NULL on ENOMEM. */
cli_heaptrend *cli_heaptrend_new(size_t window);
void cli_heaptrend_free(cli_heaptrend *t);

/* Adds a snapshot taken at time_s (seconds, any origin; must not go back)
 * with sampling period period_bytes (0 = default), total live bytes of the
 * process's profile (all stacks) and its entries (duplicate keys are
 * summed). 0, -EINVAL (time going back, bad values) or -ENOMEM. */
int cli_heaptrend_add(cli_heaptrend *t, double time_s, double period_bytes,
                      double total_bytes, const cli_heap_entry *e, size_t n);

size_t cli_heaptrend_count(const cli_heaptrend *t);

/* Trend of the total (all stacks): slope in bytes/s, NAN with < 3 points. */
double cli_heaptrend_total_slope(const cli_heaptrend *t);
/* Latest total bytes (0 when empty). */
double cli_heaptrend_total(const cli_heaptrend *t);

/* Every stack seen in the window: growing ones first by slope (rank 1..),
 * then the rest by latest bytes. *out is malloc'ed (caller frees with
 * free()), *n its length. 0 or -ENOMEM. */
int cli_heaptrend_rank(cli_heaptrend *t, cli_site_trend **out, size_t *n);

#endif /* MV_CLI_HEAPTREND_H */
