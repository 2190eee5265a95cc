/*
 * tty.c — the live view on a terminal (see tty.h): decides whether to draw
 * it, keeps its state, and redraws it in place.
 *
 * Design:
 *  - The view lives in rows reserved at the bottom of the screen, below a
 *    scroll region (DECSTBM, "ESC [ 1 ; N r") that holds everything else.
 *    A frame is "save cursor, go to the view's rows, clear and write each,
 *    restore cursor", in one write. Whatever else reaches the terminal —
 *    event lines, memvigil's messages on stderr, and above all the output
 *    of the program `run` started, which shares the terminal and which we
 *    neither see nor should capture — scrolls inside the region and can
 *    never tear the view. (Moving the cursor up over the previous frame,
 *    the simpler way, breaks as soon as the child prints a line.)
 *  - Plain ANSI/VT100 sequences, no curses: TERM=dumb (or unset) gets the
 *    plain lines instead. The size is asked (TIOCGWINSZ) at every frame; run
 *    and watch wake on SIGWINCH, so a resize sets the region up again at
 *    once. The renderer draws one column short of the width so no line ever
 *    wraps. A terminal too short for the view (fewer than the view plus two
 *    rows) gets plain lines until it grows.
 *  - The end (cli_tty_finish; run and watch call it on every way out,
 *    including SIGINT/SIGTERM/SIGHUP, which their main loops take
 *    synchronously): the final frame is drawn, the scroll region reset to
 *    the whole screen, and the cursor put on a fresh line below the view.
 *    A memvigil killed by an uncaught signal (SIGKILL, SIGQUIT) leaves the
 *    region set; `reset` or `tput csr` repairs the terminal.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tty.h"
#include "util.h"

/* Size when the terminal does not say (a pty without a size). */
#define DEFAULT_COLS 80
#define DEFAULT_ROWS 24
/* Narrower than this, lines are cut at this width anyway. */
#define MIN_COLS 20
/* Rows left to the scroll region at the least. */
#define MIN_REGION_ROWS 2

int cli_tty_wanted(int fd, int quiet, int no_tty, int json)
{
    if (quiet || no_tty || json)
        return 0;
    if (!isatty(fd))
        return 0;
    return tty_env_capable(getenv("TERM"));
}

void cli_tty_init(cli_tty *t, int fd, const char *cmd)
{
    memset(t, 0, sizeof *t);
    t->fd = fd;
    t->utf8 = tty_env_utf8(getenv("LC_ALL"), getenv("LC_CTYPE"),
                           getenv("LANG"));
    t->colour = tty_env_colour(getenv("NO_COLOR"), getenv("TERM"));
    pthread_mutex_init(&t->lock, NULL);
    t->st.cmd = cmd;
    t->st.verdict_eta_s = NAN;
    t->st.oom_risk_eta_s = NAN;
    t->last_samples = -1;
}

void cli_tty_release(cli_tty *t)
{
    pthread_mutex_destroy(&t->lock);
}

static void term_size(int fd, int *rows, int *cols)
{
    struct winsize ws;

    *rows = DEFAULT_ROWS;
    *cols = DEFAULT_COLS;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
        if (ws.ws_row > 0)
            *rows = ws.ws_row;
        if (ws.ws_col > 0)
            *cols = ws.ws_col;
    }
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a closed terminal: nothing to recover */
        p += w;
        n -= (size_t)w;
    }
}

/* Gives the whole screen back to scrolling. Cursor: home (DECSTBM). */
static int region_reset(cli_tty *t, mv_buf *b)
{
    t->view_rows = 0;
    return mv__buf_puts(b, "\x1b[r");
}

/* Reserves the bottom rows for the view at the current size: pushes the
 * screen's content up by making room with newlines, then limits scrolling
 * to the rows above. The cursor ends where the content ends. */
static int region_setup(cli_tty *t, int rows, int cols, mv_buf *b)
{
    int h = TTY_VIEW_ROWS, i, rc = 0;

    if (rows - h < MIN_REGION_ROWS)
        h = 0; /* too short: plain lines until it grows */
    t->rows = rows;
    t->cols = cols;
    t->view_rows = h;
    if (h == 0)
        return 0;
    for (i = 0; i < h && rc == 0; i++)
        rc = mv__buf_append(b, "\n", 1);
    if (rc == 0)
        rc = mv__buf_printf(b, "\x1b[%dA\x1b" "7\x1b[1;%dr\x1b" "8", h,
                            rows - h);
    /* clear the view's rows: a resize may have left text there */
    if (rc == 0)
        rc = mv__buf_printf(b, "\x1b" "7\x1b[%d;1H\x1b[J\x1b" "8",
                            rows - h + 1);
    return rc;
}

/* Appends a frame: the rendered view in the reserved rows, the cursor put
 * back where it was. Caller holds the lock. */
static int frame(cli_tty *t, mv_buf *b)
{
    mv_buf text = {0};
    int width = t->cols - 1 < MIN_COLS ? MIN_COLS : t->cols - 1;
    int n, row, rc;
    const char *p, *end;

    if (t->view_rows == 0)
        return 0;
    n = tty_render(&t->st, width, t->utf8, t->colour, &text);
    if (n < 0) {
        mv_buf_release(&text);
        return n;
    }
    rc = mv__buf_puts(b, "\x1b" "7");
    p = text.data;
    end = text.data + text.len;
    for (row = 0; row < t->view_rows && rc == 0; row++) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        rc = mv__buf_printf(b, "\x1b[%d;1H\x1b[2K",
                            t->rows - t->view_rows + 1 + row);
        if (rc == 0 && nl) {
            rc = mv__buf_append(b, p, (size_t)(nl - p));
            p = nl + 1;
        }
    }
    if (rc == 0)
        rc = mv__buf_puts(b, "\x1b" "8");
    mv_buf_release(&text);
    return rc;
}

/* Writes prefix (may be NULL) in the scrolling part, then a frame, setting
 * the region up first when the size changed. Caller holds the lock. */
static void redraw(cli_tty *t, const char *prefix)
{
    mv_buf b = {0};
    int rows, cols, rc = 0;

    term_size(t->fd, &rows, &cols);
    if (rows != t->rows || cols != t->cols) {
        if (t->view_rows > 0) { /* unset the old region, keep the cursor */
            rc = mv__buf_puts(&b, "\x1b" "7");
            if (rc == 0)
                rc = region_reset(t, &b);
            if (rc == 0)
                rc = mv__buf_puts(&b, "\x1b" "8");
        }
        if (rc == 0)
            rc = region_setup(t, rows, cols, &b);
    }
    if (rc == 0 && prefix)
        rc = mv__buf_puts(&b, prefix);
    if (rc == 0)
        rc = frame(t, &b);
    if (b.len > 0) {
        fflush(stdout); /* stdio lines written before go first */
        write_all(t->fd, b.data, b.len);
    }
    mv_buf_release(&b);
}

void cli_tty_update(cli_tty *t, const mv_status *st)
{
    pthread_mutex_lock(&t->lock);
    if (!t->finished) {
        t->st.status = *st;
        t->st.have_status = st->samples_taken > 0;
        if (st->samples_taken > 0 && st->samples_taken != t->last_samples) {
            const mv_sample *x = &st->sample;
            int64_t v = x->private_bytes != MV_NA ? x->private_bytes
                                                  : x->rss_bytes;
            if (v != MV_NA)
                tty_state_push_sample(&t->st, (double)v);
            t->last_samples = st->samples_taken;
        }
        redraw(t, NULL);
    }
    pthread_mutex_unlock(&t->lock);
}

void cli_tty_event(cli_tty *t, const mv_event *ev, const char *line)
{
    pthread_mutex_lock(&t->lock);
    if (t->finished || t->rows == 0) {
        /* before the first frame (the start event) or after the last */
        if (!t->finished)
            tty_state_push_event(&t->st, ev);
        fflush(stdout);
        write_all(t->fd, line, strlen(line));
    } else {
        tty_state_push_event(&t->st, ev);
        redraw(t, line);
    }
    pthread_mutex_unlock(&t->lock);
}

void cli_tty_finish(cli_tty *t, const mv_status *st)
{
    mv_buf b = {0};
    int rc = 0;

    pthread_mutex_lock(&t->lock);
    if (!t->finished) {
        if (st) {
            t->st.status = *st;
            t->st.have_status = st->samples_taken > 0;
        }
        t->st.finished = 1;
        if (t->rows != 0) /* a view was drawn: the final frame */
            redraw(t, NULL);
        if (t->view_rows > 0) {
            /* whole screen scrolls again; a fresh line below the view */
            rc = region_reset(t, &b);
            if (rc == 0)
                rc = mv__buf_printf(&b, "\x1b[%d;1H\n", t->rows);
            if (b.len > 0) {
                fflush(stdout);
                write_all(t->fd, b.data, b.len);
            }
        }
        t->finished = 1;
    }
    pthread_mutex_unlock(&t->lock);
    mv_buf_release(&b);
}
