/*
 * tty.h — the live terminal view of `run` and `watch`: a compact block of
 * lines (figures, level, growth, time to limit, leak verdict, a sparkline of
 * private memory, the allocator's figures and diagnosis where there are
 * some, the last events) redrawn in place, with event lines printed above
 * it.
 *
 * Two halves:
 *  - tty_render.c: the pure renderer. tty_state in, text out; no I/O, no
 *    clock, no environment, so tests feed it known values.
 *  - tty.c: the view on a terminal (cli_tty): decides whether to use it
 *    (isatty, TERM, NO_COLOR, locale), keeps the state, draws the frames in
 *    rows reserved below a scroll region, and gives the screen back at the
 *    end.
 *
 * Ownership: tty_state and cli_tty are caller-owned value structs; cli_tty
 * owns nothing on the heap but its mutex (cli_tty_release destroys it).
 * Thread-safety: tty_render and the tty_* helpers are pure (any thread).
 * cli_tty_event may be called on the monitor's sampler thread while the main
 * thread calls cli_tty_update / cli_tty_clear / cli_tty_finish: the view's
 * mutex serialises them, and every write to the terminal happens under it.
 */
#ifndef MV_CLI_TTY_H
#define MV_CLI_TTY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

/* Private-memory points kept for the sparkline (the renderer shows the last
 * ones that fit the width; 240 fills a wide terminal). */
#define TTY_SPARK_MAX 240
/* Events shown under the figures. */
#define TTY_EVENTS 4
/* One event line's message is cut to this size. */
#define TTY_EVENT_TEXT 200

/* The leak verdict as the view knows it (from the monitor's leak events). */
typedef enum tty_verdict {
    TTY_VERDICT_NONE = 0, /* no leak event yet */
    TTY_VERDICT_NO_LEAK,  /* leak_cleared */
    TTY_VERDICT_SUSPECT,  /* leak_suspected */
    TTY_VERDICT_LEAK      /* leak */
} tty_verdict;

typedef enum tty_oom_risk {
    TTY_OOM_RISK_NONE = 0,    /* no oom_risk event yet */
    TTY_OOM_RISK_ACTIVE,      /* oom_risk */
    TTY_OOM_RISK_CLEARED      /* oom_risk_cleared */
} tty_oom_risk;

/* The allocator diagnosis as the view knows it (from the monitor's
 * fragmentation events; only where allocator figures exist: run --heap). */
typedef enum tty_alloc_diag {
    TTY_ALLOC_NONE = 0,         /* no fragmentation event yet */
    TTY_ALLOC_FRAGMENTATION,    /* fragmentation */
    TTY_ALLOC_RETENTION,        /* fragmentation event naming retention */
    TTY_ALLOC_CLEARED           /* fragmentation_cleared */
} tty_alloc_diag;

typedef struct tty_event_line {
    int64_t timestamp_ms;       /* wall clock, ms since the epoch */
    mv_level level;
    mv_event_kind kind;
    char text[TTY_EVENT_TEXT];  /* the event's message */
} tty_event_line;

/* Everything one frame shows. Plain value struct; zero it, then fill. */
typedef struct tty_state {
    const char *cmd;            /* "run" / "watch"; borrowed; may be NULL */
    int have_status;            /* 0: nothing sampled yet ("waiting") */
    mv_status status;           /* latest status */

    double spark[TTY_SPARK_MAX]; /* private bytes, oldest first */
    size_t spark_n;             /* valid entries */

    tty_verdict verdict;
    double verdict_eta_s;       /* ETA told by the last leak event; NAN when
                                   none */
    char verdict_text[TTY_EVENT_TEXT]; /* its message; "" when none */

    /* The urgency claim, shown apart from the verdict (cause). */
    tty_oom_risk oom_risk;
    double oom_risk_eta_s;      /* ETA told by the last oom_risk event; NAN
                                   when none or cleared */
    char oom_risk_text[TTY_EVENT_TEXT]; /* its message; "" when none */

    /* The allocator's line, shown when status.sample has allocator figures
     * (alloc_kind != 0) or a diagnosis was told: figures from the status,
     * the diagnosis and its advice from the events. */
    tty_alloc_diag alloc_diag;
    char alloc_advice[TTY_EVENT_TEXT]; /* "try ..." of the last fragmentation
                                          event; "" when none */

    tty_event_line events[TTY_EVENTS]; /* last events, oldest first */
    size_t events_n;
    int finished;               /* the final frame (title says "ended") */
} tty_state;

/* Appends a private-memory point (drops the oldest when full). NaN and
 * negative values are ignored. */
void tty_state_push_sample(tty_state *s, double private_bytes);
/* Records an event: the event list, the verdict for leak events, the
 * OOM-risk claim for oom_risk / oom_risk_cleared, the allocator diagnosis
 * for fragmentation / fragmentation_cleared. */
void tty_state_push_event(tty_state *s, const mv_event *ev);

/* Renders the view into out (appended): lines ending in '\n', each at most
 * width display columns (escape sequences count zero; a UTF-8 character
 * counts one). utf8: use ▁..█ block characters, else ASCII. colour: ANSI SGR
 * colours for the level and verdict, else none at all. Returns the number
 * of lines (> 0) or -ENOMEM (out may hold part of the frame) / -EINVAL. */
int tty_render(const tty_state *s, int width, int utf8, int colour,
               mv_buf *out);

/* The sparkline of v[0..n) scaled between its min and max, one character
 * per value (a flat series sits on the lowest level). Appends to out. */
int tty_sparkline(const double *v, size_t n, int utf8, mv_buf *out);

/* Display columns of s[0..n): escape sequences (ESC [ ... final) count 0,
 * UTF-8 continuation bytes count 0, everything else 1. */
size_t tty_display_cols(const char *s, size_t n);

/* A growth rate per hour as mv__human_rate writes it, with a "+" when
 * rising: "+720 MiB/h", "-180 KiB/h", "0 B/h", "n/a". */
char *tty_format_growth(double bytes_per_s, char *out, size_t n);
/* Time-to-limit text: "3 h 12 min", "never (not growing)", "n/a (no limit
 * or too few samples)". */
char *tty_format_eta(double seconds, char *out, size_t n);

/* Environment decisions, pure so that tests can give the values:
 * the first non-empty of LC_ALL, LC_CTYPE, LANG names a UTF-8 codeset. */
int tty_env_utf8(const char *lc_all, const char *lc_ctype, const char *lang);
/* Colour unless NO_COLOR is set and non-empty, or TERM is dumb/unset. */
int tty_env_colour(const char *no_color, const char *term);
/* The live view can be used with this TERM (set, not "dumb"). */
int tty_env_capable(const char *term);

/* ---- the view on a terminal (tty.c) ---- */

/* Rows of the view: title, 3 memory lines, growth, leak verdict, OOM risk,
 * (the allocator's line,) sparkline, and TTY_EVENTS event lines — one
 * fewer event line when the allocator's line is shown. The view keeps this height (blank rows pad
 * it). */
#define TTY_VIEW_ROWS (8 + TTY_EVENTS)

typedef struct cli_tty {
    int fd;                     /* the terminal (stdout) */
    int utf8, colour;
    pthread_mutex_t lock;       /* guards everything below and the writes */
    tty_state st;
    int64_t last_samples;       /* samples_taken behind the last spark point */
    int rows, cols;             /* terminal size the region was set up for */
    int view_rows;              /* rows reserved at the bottom; 0 = none */
    int finished;               /* finish done: events print as plain lines */
} cli_tty;

/* Whether `cmd` should draw the live view on fd: fd is a terminal, not
 * --quiet / --no-tty / --json, TERM is capable. */
int cli_tty_wanted(int fd, int quiet, int no_tty, int json);

/* Initialises t for fd (reads TERM, NO_COLOR, locale). Draws nothing yet. */
void cli_tty_init(cli_tty *t, int fd, const char *cmd);
/* Destroys the mutex (after cli_tty_finish). */
void cli_tty_release(cli_tty *t);

/* Main thread: takes in a status (a new sparkline point when samples_taken
 * moved) and redraws the view at the terminal's current width. */
void cli_tty_update(cli_tty *t, const mv_status *st);
/* Any thread: prints line (one event line, '\n'-terminated) above the view,
 * records the event, and redraws. After finish: prints the line only. */
void cli_tty_event(cli_tty *t, const mv_event *ev, const char *line);
/* Draws the final frame (st may be NULL: the last one), leaves it on the
 * screen, gives scrolling back to the whole screen and puts the cursor on
 * a fresh line below the view. Idempotent. */
void cli_tty_finish(cli_tty *t, const mv_status *st);

#endif /* MV_CLI_TTY_H */
