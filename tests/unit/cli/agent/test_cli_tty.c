/*
 * test_cli_tty.c — the live terminal view's renderer (src/cli/agent/tty_render.c):
 * known states in, exact text out: figures, sparkline levels, truncation to
 * the width (display columns, escapes excluded), colour codes present or
 * absent, ETA and growth wording, the leak verdict from events, the
 * allocator's line (figures, the fragmentation diagnosis from events), the
 * event list, and the environment decisions (UTF-8 locale, NO_COLOR, TERM).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tty.h"
#include "util.h"

#define MiB (1024LL * 1024LL)

/* A process target at 39% of a 1 GiB cgroup limit, growing 12 MiB/min (720 MiB/h). */
static void fill_state(tty_state *s)
{
    mv_sample *x = &s->status.sample;

    memset(s, 0, sizeof *s);
    mv_sample_clear(x);
    s->cmd = "run";
    s->have_status = 1;
    s->verdict_eta_s = NAN;
    s->status.level = MV_LEVEL_WARNING;
    s->status.growth_bytes_per_s = 12.0 * MiB / 60.0;
    s->status.growth_window_s = 300;
    s->status.time_to_limit_s = 11520; /* 3 h 12 min */
    s->status.samples_taken = 41;
    s->status.interval_ms = 1000;
    s->status.target_alive = 1;
    x->pid = 1234;
    x->nprocs = 3;
    x->rss_bytes = 412 * MiB;
    x->rss_anon_bytes = 300 * MiB;
    x->rss_file_bytes = 100 * MiB;
    x->rss_shmem_bytes = 12 * MiB;
    x->swap_bytes = 0;
    x->private_bytes = 300 * MiB;
    x->working_set_bytes = 400 * MiB;
    x->effective_limit_bytes = 1024 * MiB;
    x->limit_source = MV_LIMIT_CGROUP_MAX;
    x->usage_ratio = 400.0 / 1024.0;
}

static mv_event make_event(mv_event_kind kind, mv_level level, int64_t ts_ms,
                           const char *msg)
{
    mv_event ev;

    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.level = level;
    ev.timestamp_ms = ts_ms;
    ev.growth_bytes_per_s = NAN;
    ev.time_to_limit_s = NAN;
    snprintf(ev.message, sizeof ev.message, "%s", msg);
    return ev;
}

/* The n-th line (0-based) of a rendering, copied into out. */
static const char *nth_line(const char *text, int n, char *out, size_t cap)
{
    const char *p = text, *nl;

    while (n-- > 0) {
        nl = strchr(p, '\n');
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    nl = strchr(p, '\n');
    if (!nl)
        return NULL;
    snprintf(out, cap, "%.*s", (int)(nl - p), p);
    return out;
}

static void test_sparkline_levels(void **state)
{
    static const double up[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    static const double flat[3] = {5e6, 5e6, 5e6};
    static const double two[2] = {100 * MiB, 200 * MiB};
    mv_buf b = {0};

    (void)state;
    assert_int_equal(tty_sparkline(up, 8, 1, &b), 0);
    assert_string_equal(b.data, "▁▂▃▄▅▆▇█");
    mv__buf_reset(&b);
    assert_int_equal(tty_sparkline(up, 8, 0, &b), 0);
    assert_string_equal(b.data, "_.:-=+*#");
    mv__buf_reset(&b);
    /* scaled between the window's own min and max */
    assert_int_equal(tty_sparkline(two, 2, 1, &b), 0);
    assert_string_equal(b.data, "▁█");
    mv__buf_reset(&b);
    assert_int_equal(tty_sparkline(flat, 3, 1, &b), 0);
    assert_string_equal(b.data, "▁▁▁");
    mv_buf_release(&b);
}

static void test_render_figures(void **state)
{
    tty_state s;
    mv_buf b = {0};
    char l[512];
    int i;

    (void)state;
    fill_state(&s);
    for (i = 0; i < 8; i++)
        tty_state_push_sample(&s, (double)(100 + 10 * i) * MiB);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 8);
    assert_string_equal(nth_line(b.data, 0, l, sizeof l),
                        "memvigil run [WARNING] pid 1234 (3 processes) | "
                        "41 samples, every 1 s");
    assert_string_equal(nth_line(b.data, 1, l, sizeof l),
                        "rss 412 MiB = anon 300 MiB + file 100 MiB + "
                        "shmem 12 MiB");
    assert_string_equal(nth_line(b.data, 2, l, sizeof l),
                        "private 300 MiB  swap 0 B");
    assert_string_equal(nth_line(b.data, 3, l, sizeof l),
                        "working set 400 MiB / limit 1.0 GiB (cgroup "
                        "memory.max)  ratio 0.39 (39%)");
    assert_string_equal(nth_line(b.data, 4, l, sizeof l),
                        "growth +720 MiB/h over 5 min  time to limit "
                        "3 h 12 min");
    assert_string_equal(nth_line(b.data, 5, l, sizeof l),
                        "leak none reported");
    /* the OOM-risk claim on its own line, apart from the verdict */
    assert_string_equal(nth_line(b.data, 6, l, sizeof l),
                        "oom risk none reported");
    assert_string_equal(nth_line(b.data, 7, l, sizeof l),
                        "private ▁▂▃▄▅▆▇█ 100 MiB..170 MiB");
    mv_buf_release(&b);
}

static void test_render_cgroup_target_and_waiting(void **state)
{
    tty_state s;
    mv_sample *x = &s.status.sample;
    mv_buf b = {0};
    char l[512];

    (void)state;
    fill_state(&s);
    x->pid = 0;
    x->rss_bytes = x->rss_anon_bytes = x->rss_file_bytes = MV_NA;
    x->rss_shmem_bytes = x->swap_bytes = MV_NA;
    snprintf(x->cgroup_path, sizeof x->cgroup_path, "/system.slice/x.service");
    x->cg_usage_bytes = 500 * MiB;
    x->cg_anon_bytes = 300 * MiB;
    x->cg_file_bytes = 200 * MiB;
    x->cg_shmem_bytes = 0;
    x->cg_swap_bytes = 2 * MiB;
    s.status.level = MV_LEVEL_OK;
    s.status.time_to_limit_s = INFINITY;
    s.status.growth_bytes_per_s = 0;
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 8);
    assert_string_equal(nth_line(b.data, 0, l, sizeof l),
                        "memvigil run [OK] cgroup /system.slice/x.service | "
                        "41 samples, every 1 s");
    assert_string_equal(nth_line(b.data, 1, l, sizeof l),
                        "cgroup 500 MiB = anon 300 MiB + file 200 MiB + "
                        "shmem 0 B");
    assert_string_equal(nth_line(b.data, 2, l, sizeof l),
                        "private 300 MiB  swap 2.0 MiB");
    assert_string_equal(nth_line(b.data, 4, l, sizeof l),
                        "growth 0 B/h over 5 min  time to limit never "
                        "(not growing)");
    assert_string_equal(nth_line(b.data, 7, l, sizeof l),
                        "private (no samples yet)");

    /* before the first sample: one line saying so */
    mv__buf_reset(&b);
    s.have_status = 0;
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 1);
    assert_string_equal(b.data,
                        "memvigil run [..] waiting for the first sample\n");
    mv_buf_release(&b);
}

static void test_truncation_to_width(void **state)
{
    static const int widths[] = {20, 33, 47, 80};
    tty_state s;
    mv_event ev;
    mv_buf b = {0};
    size_t w, i;
    int colour, n;

    (void)state;
    fill_state(&s);
    for (i = 0; i < 200; i++)
        tty_state_push_sample(&s, (double)(i % 17) * MiB);
    ev = make_event(MV_EVENT_GROWTH, MV_LEVEL_CRITICAL, 1764088803000,
                    "growth 24.8 MiB/s; at this rate the 1.0 GiB limit is "
                    "reached in 16 min 11 s and this message is long");
    tty_state_push_event(&s, &ev);
    for (w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        for (colour = 0; colour <= 1; colour++) {
            const char *p;
            mv__buf_reset(&b);
            n = tty_render(&s, widths[w], 1, colour, &b);
            assert_int_equal(n, 9);
            p = b.data;
            for (i = 0; i < (size_t)n; i++) {
                const char *nl = strchr(p, '\n');
                assert_non_null(nl);
                assert_true(tty_display_cols(p, (size_t)(nl - p)) <=
                            (size_t)widths[w]);
                p = nl + 1;
            }
        }
    }
    /* the cut keeps the start of the line exactly */
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 20, 1, 0, &b), 9);
    {
        char l[128];
        assert_string_equal(nth_line(b.data, 1, l, sizeof l),
                            "rss 412 MiB = anon 3");
        /* the sparkline fills the width with the latest points */
        assert_non_null(nth_line(b.data, 7, l, sizeof l));
        assert_int_equal(tty_display_cols(l, strlen(l)), 20);
        assert_memory_equal(l, "private ", 8);
    }
    assert_int_equal(tty_render(&s, 0, 1, 0, &b), -EINVAL);
    assert_int_equal(tty_render(NULL, 80, 1, 0, &b), -EINVAL);
    mv_buf_release(&b);
}

static void test_colour_codes(void **state)
{
    tty_state s;
    mv_event ev;
    mv_buf b = {0};

    (void)state;
    fill_state(&s);
    tty_state_push_sample(&s, 5 * MiB);
    ev = make_event(MV_EVENT_LEAK, MV_LEVEL_CRITICAL, 1764088803000,
                    "private memory rises 40 MiB/h");
    tty_state_push_event(&s, &ev);

    assert_true(tty_render(&s, 200, 1, 0, &b) > 0);
    assert_null(strchr(b.data, '\x1b')); /* NO_COLOR: no escape at all */

    mv__buf_reset(&b);
    assert_true(tty_render(&s, 200, 1, 1, &b) > 0);
    assert_non_null(strstr(b.data, "[\x1b[33mWARNING\x1b[0m]"));
    assert_non_null(strstr(b.data, "leak \x1b[1;31mLEAK\x1b[0m: private"));
    assert_non_null(strstr(b.data, "\x1b[1;31mcritical\x1b[0m private"));

    /* a line cut inside a colour still resets it before its end */
    mv__buf_reset(&b);
    assert_true(tty_render(&s, 16, 1, 1, &b) > 0);
    {
        char l[256];
        assert_non_null(nth_line(b.data, 0, l, sizeof l));
        assert_string_equal(l, "memvigil run [\x1b[33mWA\x1b[0m");
    }
    mv_buf_release(&b);
}

static void test_eta_and_growth_text(void **state)
{
    char t[80];

    (void)state;
    assert_string_equal(tty_format_eta(11520, t, sizeof t), "3 h 12 min");
    assert_string_equal(tty_format_eta(185, t, sizeof t), "3 min 5 s");
    assert_string_equal(tty_format_eta(2 * 86400 + 3600, t, sizeof t),
                        "2 d 1 h");
    assert_string_equal(tty_format_eta(INFINITY, t, sizeof t),
                        "never (not growing)");
    assert_string_equal(tty_format_eta(NAN, t, sizeof t),
                        "n/a (no limit or too few samples)");
    assert_string_equal(tty_format_growth(12.0 * MiB / 60.0, t, sizeof t),
                        "+720 MiB/h");
    assert_string_equal(tty_format_growth(-3.0 * 1024 / 60.0, t, sizeof t),
                        "-180 KiB/h");
    assert_string_equal(tty_format_growth(0, t, sizeof t), "0 B/h");
    assert_string_equal(tty_format_growth(NAN, t, sizeof t), "n/a");
}

static void test_verdict_and_events(void **state)
{
    tty_state s;
    mv_event ev;
    mv_buf b = {0};
    char l[512];
    int i;

    (void)state;
    fill_state(&s);
    tty_state_push_sample(&s, 5 * MiB);

    ev = make_event(MV_EVENT_LEAK_SUSPECTED, MV_LEVEL_WARNING, 1764088803000,
                    "private memory may be leaking");
    ev.time_to_limit_s = 7200;
    tty_state_push_event(&s, &ev);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 9);
    assert_string_equal(nth_line(b.data, 5, l, sizeof l),
                        "leak suspect (limit in 2 h): private memory "
                        "may be leaking");
    assert_string_equal(nth_line(b.data, 6, l, sizeof l),
                        "oom risk none reported");
    assert_string_equal(nth_line(b.data, 8, l, sizeof l),
                        "  16:40:03 warning  private memory may be leaking");

    /* oom_risk is its own claim: its line says OOM RISK with its ETA; the
     * verdict's line (the cause) is left as it was */
    ev = make_event(MV_EVENT_OOM_RISK, MV_LEVEL_CRITICAL, 1764088804000,
                    "out of memory in about 10 min");
    ev.time_to_limit_s = 600;
    tty_state_push_event(&s, &ev);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 10);
    assert_string_equal(nth_line(b.data, 5, l, sizeof l),
                        "leak suspect (limit in 2 h): private memory "
                        "may be leaking");
    assert_string_equal(nth_line(b.data, 6, l, sizeof l),
                        "oom risk OOM RISK (limit in 10 min): out of "
                        "memory in about 10 min");

    ev = make_event(MV_EVENT_LEAK_CLEARED, MV_LEVEL_OK, 1764088805000,
                    "growth stopped");
    tty_state_push_event(&s, &ev);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 11);
    assert_string_equal(nth_line(b.data, 5, l, sizeof l),
                        "leak no leak: growth stopped");
    /* clearing the verdict does not clear the risk, nor the other way */
    assert_string_equal(nth_line(b.data, 6, l, sizeof l),
                        "oom risk OOM RISK (limit in 10 min): out of "
                        "memory in about 10 min");
    ev = make_event(MV_EVENT_OOM_RISK_CLEARED, MV_LEVEL_OK, 1764088805500,
                    "the rate dropped");
    ev.time_to_limit_s = INFINITY;
    tty_state_push_event(&s, &ev);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 12);
    assert_string_equal(nth_line(b.data, 5, l, sizeof l),
                        "leak no leak: growth stopped");
    assert_string_equal(nth_line(b.data, 6, l, sizeof l),
                        "oom risk cleared: the rate dropped");

    /* only the last TTY_EVENTS are kept; control characters are shown as ? */
    for (i = 0; i < 6; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "event %d\x1b[2J\tend", i);
        ev = make_event(MV_EVENT_PHASE, MV_LEVEL_OK,
                        1764088806000 + i * 1000, msg);
        tty_state_push_event(&s, &ev);
    }
    assert_int_equal((int)s.events_n, TTY_EVENTS);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 8 + TTY_EVENTS);
    assert_string_equal(nth_line(b.data, 8, l, sizeof l),
                        "  16:40:08 ok       event 2?[2J?end");
    assert_string_equal(nth_line(b.data, 11, l, sizeof l),
                        "  16:40:11 ok       event 5?[2J?end");
    mv_buf_release(&b);
}

/* Where allocator figures exist (run --heap) the view has the allocator's
 * line under the OOM-risk line: the diagnosis from the fragmentation
 * events (FRAGMENTATION / RETENTION with the event's advice, cleared),
 * the live heap and the free bytes inside the allocator from the status;
 * it takes the oldest event line's row, so the view keeps its height. */
static void test_allocator_line(void **state)
{
    tty_state s;
    mv_sample *x = &s.status.sample;
    mv_event ev;
    mv_buf b = {0};
    char l[512];
    int i;

    (void)state;
    fill_state(&s);
    tty_state_push_sample(&s, 5 * MiB);
    x->alloc_kind = 1;
    x->alloc_in_use_bytes = 19 * MiB;
    x->alloc_free_bytes = 256 * MiB;
    x->alloc_arenas = 10;
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 9);
    assert_string_equal(nth_line(b.data, 7, l, sizeof l),
                        "allocator no fragmentation glibc heap in use "
                        "19 MiB, 256 MiB free inside (10 arenas)");
    assert_string_equal(nth_line(b.data, 8, l, sizeof l),
                        "private ▁ 5.0 MiB..5.0 MiB");

    ev = make_event(MV_EVENT_FRAGMENTATION, MV_LEVEL_OK, 1764088803000,
                    "fragmentation: for 600 s private memory exceeded the "
                    "glibc heap in use by at least 237 MiB; try "
                    "MALLOC_ARENA_MAX=2 and malloc_trim(0), or jemalloc");
    tty_state_push_event(&s, &ev);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 10);
    assert_string_equal(nth_line(b.data, 7, l, sizeof l),
                        "allocator FRAGMENTATION glibc heap in use 19 MiB, "
                        "256 MiB free inside (10 arenas); try "
                        "MALLOC_ARENA_MAX=2 and malloc_trim(0), or jemalloc");
    /* the leak line is left alone: the cause is the allocator's */
    assert_string_equal(nth_line(b.data, 5, l, sizeof l), "leak none reported");
    /* colour: the diagnosis word in yellow, closed on the line */
    mv__buf_reset(&b);
    assert_true(tty_render(&s, 200, 1, 1, &b) > 0);
    assert_non_null(strstr(b.data, "allocator \x1b[33mFRAGMENTATION\x1b[0m glibc"));

    ev = make_event(MV_EVENT_FRAGMENTATION, MV_LEVEL_OK, 1764088804000,
                    "retention: for 600 s ...; try MALLOC_ARENA_MAX=2 and "
                    "malloc_trim(0), or jemalloc");
    tty_state_push_event(&s, &ev);
    x->alloc_kind = 2;
    x->alloc_arenas = 1;
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 11);
    assert_string_equal(nth_line(b.data, 7, l, sizeof l),
                        "allocator RETENTION jemalloc heap in use 19 MiB, "
                        "256 MiB free inside (1 arena); try "
                        "MALLOC_ARENA_MAX=2 and malloc_trim(0), or jemalloc");

    ev = make_event(MV_EVENT_FRAGMENTATION_CLEARED, MV_LEVEL_OK,
                    1764088805000, "retention cleared: ...");
    tty_state_push_event(&s, &ev);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 12);
    assert_string_equal(nth_line(b.data, 7, l, sizeof l),
                        "allocator cleared jemalloc heap in use 19 MiB, "
                        "256 MiB free inside (1 arena)");

    /* a full event list: the view keeps TTY_VIEW_ROWS rows, the newest
     * events shown */
    for (i = 0; i < TTY_EVENTS; i++) {
        ev = make_event(MV_EVENT_PHASE, MV_LEVEL_OK, 1764088810000 + i * 1000,
                        "phase");
        tty_state_push_event(&s, &ev);
    }
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), TTY_VIEW_ROWS);
    assert_string_equal(nth_line(b.data, TTY_VIEW_ROWS - 1, l, sizeof l),
                        "  16:40:13 ok       phase");
    assert_string_equal(nth_line(b.data, 9, l, sizeof l),
                        "  16:40:11 ok       phase");

    /* no figures and no diagnosis told: no allocator line */
    fill_state(&s);
    mv__buf_reset(&b);
    assert_int_equal(tty_render(&s, 200, 1, 0, &b), 8);
    assert_null(strstr(b.data, "allocator"));
    mv_buf_release(&b);
}

static void test_spark_history_cap(void **state)
{
    tty_state s;
    int i;

    (void)state;
    memset(&s, 0, sizeof s);
    for (i = 0; i < TTY_SPARK_MAX + 60; i++)
        tty_state_push_sample(&s, (double)i);
    tty_state_push_sample(&s, NAN);
    tty_state_push_sample(&s, -1);
    assert_int_equal((int)s.spark_n, TTY_SPARK_MAX);
    assert_true(s.spark[0] == 60.0);
    assert_true(s.spark[TTY_SPARK_MAX - 1] == (double)(TTY_SPARK_MAX + 59));
}

static void test_display_cols(void **state)
{
    const char *s = "a\x1b[31mb\x1b[0m\xe2\x96\x81";

    (void)state;
    assert_int_equal(tty_display_cols(s, strlen(s)), 3);
    assert_int_equal(tty_display_cols("", 0), 0);
}

static void test_environment(void **state)
{
    (void)state;
    assert_int_equal(tty_env_utf8(NULL, NULL, "en_US.UTF-8"), 1);
    assert_int_equal(tty_env_utf8("", "", "de_DE.utf8"), 1);
    assert_int_equal(tty_env_utf8("C", NULL, "en_US.UTF-8"), 0); /* LC_ALL wins */
    assert_int_equal(tty_env_utf8(NULL, "C.UTF-8", "C"), 1);
    assert_int_equal(tty_env_utf8(NULL, NULL, NULL), 0);
    assert_int_equal(tty_env_utf8(NULL, NULL, "POSIX"), 0);

    assert_int_equal(tty_env_colour(NULL, "xterm-256color"), 1);
    assert_int_equal(tty_env_colour("", "xterm"), 1); /* empty = not set */
    assert_int_equal(tty_env_colour("1", "xterm"), 0);
    assert_int_equal(tty_env_colour(NULL, "dumb"), 0);
    assert_int_equal(tty_env_capable("dumb"), 0);
    assert_int_equal(tty_env_capable(NULL), 0);
    assert_int_equal(tty_env_capable(""), 0);
    assert_int_equal(tty_env_capable("screen"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparkline_levels),
        cmocka_unit_test(test_render_figures),
        cmocka_unit_test(test_render_cgroup_target_and_waiting),
        cmocka_unit_test(test_truncation_to_width),
        cmocka_unit_test(test_colour_codes),
        cmocka_unit_test(test_eta_and_growth_text),
        cmocka_unit_test(test_verdict_and_events),
        cmocka_unit_test(test_allocator_line),
        cmocka_unit_test(test_spark_history_cap),
        cmocka_unit_test(test_display_cols),
        cmocka_unit_test(test_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
