/* test_events.c — unit tests of events.c: level and kind names, the human
 * messages for each kind (exact figures), and the JSON form (parsed by jq). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "util.h"

#define MiB (1024LL * 1024)
#define GiB (1024LL * MiB)

/* The fields events.c reads, all "unavailable" (probe's mv_sample_clear is
 * not linked into this test). */
static void sample_na(mv_sample *s)
{
    memset(s, 0, sizeof *s);
    s->pid = 0;
    s->rss_bytes = s->swap_bytes = s->working_set_bytes = MV_NA;
    s->private_bytes = s->effective_limit_bytes = MV_NA;
    s->cg_oom_kill_events = s->cg_swap_bytes = MV_NA;
    s->limit_source = MV_LIMIT_NONE;
    s->usage_ratio = NAN;
}

static void event_init(mv_event *ev, mv_event_kind kind, const mv_sample *s)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->timestamp_ms = 1714564800123LL; /* 2024-05-01T12:00:00.123Z */
    ev->growth_bytes_per_s = NAN;
    ev->time_to_limit_s = NAN;
    ev->sample = s;
}

static int jq(const char *json, const char *filter, char *out, size_t n)
{
    char path[] = "/tmp/mv_test_events_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(json, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "jq -e -r '%s' < %s 2>&1", filter, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    while (got && out[got - 1] == '\n')
        out[--got] = '\0';
    int st = pclose(p);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mv_level_name(MV_LEVEL_OK), "ok");
    assert_string_equal(mv_level_name(MV_LEVEL_WARNING), "warning");
    assert_string_equal(mv_level_name(MV_LEVEL_CRITICAL), "critical");
    assert_string_equal(mv_level_name((mv_level)7), "unknown");
    static const char *exp[] = {"started", "level_changed", "growth", "oom_kill",
                                "swap_growing", "per_unit_rising", "phase", "budget",
                                "target_exit", "pid_reuse", "probe_error",
                                "leak_suspected", "leak", "leak_cleared", "oom_risk",
                                "recording_failed", "recording_resumed",
                                "oom_risk_cleared", "fragmentation",
                                "fragmentation_cleared", "trim"};
    assert_int_equal(sizeof exp / sizeof exp[0], MV_EVENT_KIND_COUNT);
    for (int k = 0; k < MV_EVENT_KIND_COUNT; k++)
        assert_string_equal(mv_event_kind_name((mv_event_kind)k), exp[k]);
    assert_string_equal(mv_event_kind_name(MV_EVENT_KIND_COUNT), "unknown");
    assert_string_equal(mv_event_kind_name((mv_event_kind)-1), "unknown");
}

static void cgroup_sample(mv_sample *s)
{
    sample_na(s);
    s->pid = 4242;
    s->rss_bytes = 1900 * MiB;
    s->working_set_bytes = 1740 * MiB; /* 1.7 GiB */
    s->effective_limit_bytes = 2 * GiB;
    s->limit_source = MV_LIMIT_CGROUP_MAX;
    s->usage_ratio = 0.85;
    mv__strlcpy(s->cgroup_path, "/x", sizeof s->cgroup_path);
}

static void test_level_message(void **state)
{
    (void)state;
    mv_sample s;
    cgroup_sample(&s);
    mv_event ev;
    event_init(&ev, MV_EVENT_LEVEL, &s);
    ev.level = MV_LEVEL_WARNING;
    ev.prev_level = MV_LEVEL_OK;
    mv__event_describe(&ev);
    assert_string_equal(ev.message,
                        "level warning: working set 1.7 GiB of 2.0 GiB limit (85%)");
    /* going down says what was left */
    ev.level = MV_LEVEL_OK;
    ev.prev_level = MV_LEVEL_CRITICAL;
    s.usage_ratio = 0.5;
    s.working_set_bytes = 1 * GiB;
    mv__event_describe(&ev);
    assert_string_equal(ev.message,
                        "level ok (was critical): working set 1.0 GiB of 2.0 GiB limit (50%)");
    /* no cgroup limit: resident memory against physical memory */
    sample_na(&s);
    s.rss_bytes = 512 * MiB;
    s.effective_limit_bytes = 8 * GiB;
    s.limit_source = MV_LIMIT_MEMTOTAL;
    s.usage_ratio = 0.0625;
    ev.level = MV_LEVEL_WARNING;
    ev.prev_level = MV_LEVEL_OK;
    mv__event_describe(&ev);
    assert_string_equal(ev.message,
                        "level warning: resident memory 512 MiB of 8.0 GiB limit (6%)");
    /* nothing known: no invented figures */
    sample_na(&s);
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "level warning");
    ev.sample = NULL;
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "level warning");
}

static void test_growth_message(void **state)
{
    (void)state;
    mv_sample s;
    cgroup_sample(&s);
    mv_event ev;
    event_init(&ev, MV_EVENT_GROWTH, &s);
    ev.growth_bytes_per_s = 12.3 * MiB / 3600.0;
    ev.time_to_limit_s = 9 * 3600 + 10 * 60;
    mv__event_describe(&ev);
    assert_string_equal(ev.message,
                        "growth 12 MiB/h; at this rate the 2.0 GiB limit is reached in "
                        "9 h 10 min");
    ev.time_to_limit_s = INFINITY;
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "growth 12 MiB/h");
    /* fast growth reads per hour too, as on the live page and in the
     * report (3 MiB/s = 10.5 GiB/h) */
    ev.growth_bytes_per_s = 3.0 * MiB;
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "growth 11 GiB/h");
    ev.growth_bytes_per_s = NAN;
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "growth detected");
}

static void test_oom_and_others(void **state)
{
    (void)state;
    mv_sample s;
    cgroup_sample(&s);
    s.working_set_bytes = 511 * MiB;
    s.effective_limit_bytes = 512 * MiB;
    s.usage_ratio = 511.0 / 512.0;
    s.cg_oom_kill_events = 2;
    mv_event ev;
    event_init(&ev, MV_EVENT_OOM_KILL, &s);
    mv__event_describe_oom(&ev, 1);
    assert_string_equal(ev.message, "OOM kill in cgroup /x (count 1 -> 2); last: working "
                                    "set 511 MiB of 512 MiB limit (100%)");
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "OOM kill in cgroup /x (count 2); last: working "
                                    "set 511 MiB of 512 MiB limit (100%)");

    event_init(&ev, MV_EVENT_PHASE, NULL);
    ev.subject = "bulk_import";
    mv__event_describe_phase(&ev, 1);
    assert_string_equal(ev.message, "phase bulk_import began; growth warnings are held "
                                    "back while it runs");
    mv__event_describe_phase(&ev, 0);
    assert_string_equal(ev.message, "phase bulk_import ended");

    event_init(&ev, MV_EVENT_TARGET_EXIT, &s);
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "target process 4242 exited; last: working set 511 MiB "
                                    "of 512 MiB limit (100%)");
    event_init(&ev, MV_EVENT_PROBE_ERROR, NULL);
    ev.subject = "/proc/4242/status: no such process";
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "sampling failed: /proc/4242/status: no such process");
    event_init(&ev, MV_EVENT_PER_UNIT_RISING, NULL);
    ev.subject = "files";
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "memory per files keeps rising (3 checkpoints in a row)");
    /* the OOM-risk claim and its clearing (the monitor's fallbacks) */
    event_init(&ev, MV_EVENT_OOM_RISK, NULL);
    ev.growth_bytes_per_s = 36.0 * MiB / 3600.0;
    ev.time_to_limit_s = 3 * 3600;
    mv__event_describe(&ev);
    assert_non_null(strstr(ev.message, "out-of-memory risk: private memory grows"));
    assert_non_null(strstr(ev.message, "the limit is reached in 3 h"));
    event_init(&ev, MV_EVENT_OOM_RISK_CLEARED, NULL);
    mv__event_describe(&ev);
    assert_string_equal(ev.message, "out-of-memory risk cleared: private memory no "
                                    "longer grows toward the limit");
    mv_buf jb = {0};
    assert_int_equal(mv__event_to_json(&ev, &jb), 0);
    assert_non_null(strstr(jb.data, "\"event\":\"oom_risk_cleared\""));
    mv_buf_release(&jb);
    /* every kind gives some message, and no kind crashes on a NULL sample */
    for (int k = 0; k <= MV_EVENT_KIND_COUNT; k++) {
        event_init(&ev, (mv_event_kind)k, NULL);
        mv__event_describe(&ev);
        assert_true(strlen(ev.message) > 5);
    }
}

static void test_json(void **state)
{
    (void)state;
    mv_sample s;
    cgroup_sample(&s);
    s.private_bytes = 1500 * MiB;
    mv_event ev;
    event_init(&ev, MV_EVENT_LEVEL, &s);
    ev.level = MV_LEVEL_CRITICAL;
    ev.prev_level = MV_LEVEL_WARNING;
    ev.growth_bytes_per_s = 1024.5;
    ev.time_to_limit_s = INFINITY;
    ev.subject = "quote\" and \\ back\nslash";
    mv__event_describe(&ev);
    mv_buf b;
    mv_buf_init(&b);
    assert_int_equal(mv__event_to_json(&ev, &b), 0);
    char out[512];
    assert_int_equal(jq(b.data, ".time", out, sizeof out), 0);
    assert_string_equal(out, "2024-05-01T12:00:00.123Z");
    assert_int_equal(jq(b.data, ".timestamp_ms", out, sizeof out), 0);
    assert_string_equal(out, "1714564800123");
    assert_int_equal(jq(b.data, ".event + \" \" + .level + \" \" + .prev_level", out,
                        sizeof out), 0);
    assert_string_equal(out, "level_changed critical warning");
    assert_int_equal(jq(b.data, ".working_set_bytes", out, sizeof out), 0);
    assert_string_equal(out, "1824522240");
    assert_int_equal(jq(b.data, ".effective_limit_bytes", out, sizeof out), 0);
    assert_string_equal(out, "2147483648");
    /* the short set of the table, by the table's names, nothing else */
    assert_int_equal(jq(b.data, "has(\"rss_anon_bytes\") and has(\"cg_usage_bytes\") and "
                                "has(\"cg_oom_kill_events\") and (has(\"limit_bytes\") or "
                                "has(\"ts\") or has(\"ts_ms\") or has(\"cgroup\") or "
                                "has(\"oom_kill_count\") | not)", out, sizeof out), 0);
    assert_int_equal(jq(b.data, ".usage_ratio", out, sizeof out), 0);
    assert_string_equal(out, "0.85");
    assert_int_equal(jq(b.data, ".growth_bytes_per_second", out, sizeof out), 0);
    assert_string_equal(out, "1024.5");
    assert_int_equal(jq(b.data, ".time_to_limit_seconds == null and .time_to_limit_infinite",
                        out, sizeof out), 0);
    assert_int_equal(jq(b.data, ".subject", out, sizeof out), 0);
    assert_string_equal(out, "quote\" and \\ back\nslash");
    assert_int_equal(jq(b.data, ".message", out, sizeof out), 0);
    assert_string_equal(out, ev.message);
    assert_int_equal(jq(b.data, ".cgroup_path", out, sizeof out), 0);
    assert_string_equal(out, "/x");

    /* no sample, n/a figures, unterminated message: still valid JSON */
    mv__buf_reset(&b);
    event_init(&ev, MV_EVENT_STARTED, NULL);
    memset(ev.message, 'a', sizeof ev.message);
    assert_int_equal(mv__event_to_json(&ev, &b), 0);
    assert_int_equal(jq(b.data, ".message | length", out, sizeof out), 0);
    assert_string_equal(out, "319");
    assert_int_equal(jq(b.data, "has(\"rss_bytes\") or has(\"prev_level\") or "
                                ".time_to_limit_seconds != null", out, sizeof out), 1);
    assert_null(strchr(b.data, '\n'));
    /* an unset limit is "max", as in the status document */
    mv__buf_reset(&b);
    s.effective_limit_bytes = MV_UNLIMITED;
    event_init(&ev, MV_EVENT_GROWTH, &s);
    assert_int_equal(mv__event_to_json(&ev, &b), 0);
    assert_int_equal(jq(b.data, ".effective_limit_bytes == \"max\" and .rss_bytes == 1992294400", out,
                        sizeof out), 0);
    assert_int_equal(mv__event_to_json(NULL, &b), -EINVAL);
    mv_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_level_message),
        cmocka_unit_test(test_growth_message),
        cmocka_unit_test(test_oom_and_others),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
