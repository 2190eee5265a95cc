/*
 * test_record.c — the JSONL recording: write then read back real values
 * (MV_NA, NAN, INFINITY included), the reader's tolerance rules (torn final
 * line, garbage in the middle, unknown types, newer versions, empty file),
 * the JSON parser's strictness, and a full disk (/dev/full: lines lost,
 * counted, and the spell told once, then its end with the count). Rotation: the
 * file names, a header atop every file, no line split, the oldest dropped,
 * a full disk around a rotation (RLIMIT_FSIZE); the loader joining the
 * files of a rotated recording, with torn, missing and foreign files, more
 * files than free descriptors, crafted segment numbers and a file
 * truncated while read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "registry.h"
#include "sample_fields.h"
#include "util.h"

/* ---- helpers ---- */

typedef struct collected {
    mv__record_line lines[16];
    int n;
    int stop_after;   /* 0 = never stop */
} collected;

static int collect(const mv__record_line *l, void *ctx)
{
    collected *c = ctx;
    if (c->n < 16)
        c->lines[c->n] = *l;
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void tmp_path(char *out, size_t n)
{
    static int seq;
    snprintf(out, n, "/tmp/mv_test_record_%d_%d.jsonl", (int)getpid(), seq++);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Reads path with mv__record_read into c; returns its result. */
static int read_path(const char *path, collected *c, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    int rc;
    assert_non_null(f);
    rc = mv__record_read(f, collect, c, err, errlen);
    fclose(f);
    return rc;
}

static int read_text(const char *text, collected *c, char *err, size_t errlen)
{
    char path[128];
    int rc;
    tmp_path(path, sizeof path);
    write_text(path, text);
    rc = read_path(path, c, err, errlen);
    unlink(path);
    return rc;
}

/* Every field unavailable. */
static void sample_none(mv_sample *s)
{
    mv_sample_clear(s);
}

static void sample_fill(mv_sample *s, int64_t t, int64_t rss)
{
    sample_none(s);
    s->timestamp_ms = t;
    s->rss_bytes = rss;
    s->rss_anon_bytes = rss - 4096;
    s->rss_file_bytes = 4096;
    s->rss_shmem_bytes = 0;
    s->swap_bytes = MV_NA;
    s->private_bytes = rss - 4096;
    s->working_set_bytes = 123456789012LL;
    s->cg_usage_bytes = MV_NA;
    s->effective_limit_bytes = INT64_MAX;
    s->usage_ratio = 0.8512345678901234;
    s->cg_oom_kill_events = 3;
}

/* ---- round trip ---- */

static void test_round_trip(void **state)
{
    char path[128], err[256];
    mv__recorder *r = NULL;
    mv__record_header h = { "leaky --rate \"10M\" ünïcode", 4242,
                            1700000000123LL, 10000, 2147483648LL };
    mv_sample s;
    mv_event ev;
    collected c = { .n = 0 };
    const mv__record_line *l;

    (void)state;
    tmp_path(path, sizeof path);
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    assert_non_null(r);

    sample_fill(&s, 1700000010000LL, 104857600);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_WARNING, 1234.5,
                                         INFINITY), 0);
    sample_none(&s);            /* everything unavailable */
    s.timestamp_ms = 1700000020000LL;
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);

    memset(&ev, 0, sizeof ev);
    ev.kind = MV_EVENT_LEVEL;
    ev.timestamp_ms = 1700000030000LL;
    ev.level = MV_LEVEL_CRITICAL;
    ev.prev_level = MV_LEVEL_WARNING;
    ev.growth_bytes_per_s = -2.5e-3;
    ev.time_to_limit_s = 3600.25;
    snprintf(ev.message, sizeof ev.message,
             "level critical: \"working set\"\n1.9 GiB\tof 2 GiB");
    assert_int_equal(mv__recorder_event(r, &ev), 0);
    assert_int_equal(mv__recorder_lost(r), 0);
    mv__recorder_close(r);

    assert_int_equal(read_path(path, &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 4);

    l = &c.lines[0];
    assert_int_equal(l->kind, MV_REC_HEADER);
    assert_int_equal(l->version, MV_RECORD_VERSION);
    assert_string_equal(l->command, "leaky --rate \"10M\" ünïcode");
    assert_int_equal(l->pid, 4242);
    assert_int_equal(l->t_ms, 1700000000123LL);
    assert_int_equal(l->interval_ms, 10000);
    assert_int_equal(l->limit_bytes, 2147483648LL);

    l = &c.lines[1];
    assert_int_equal(l->kind, MV_REC_SAMPLE);
    assert_int_equal(l->t_ms, 1700000010000LL);
    assert_int_equal(l->sample.rss_bytes, 104857600);
    assert_int_equal(l->sample.rss_anon_bytes, 104857600 - 4096);
    assert_int_equal(l->sample.rss_file_bytes, 4096);
    assert_int_equal(l->sample.rss_shmem_bytes, 0);
    assert_int_equal(l->sample.swap_bytes, MV_NA);
    assert_int_equal(l->sample.private_bytes, 104857600 - 4096);
    assert_int_equal(l->sample.working_set_bytes, 123456789012LL);
    assert_int_equal(l->sample.cg_usage_bytes, MV_NA);
    assert_true(l->sample.effective_limit_bytes == MV_UNLIMITED);
    assert_int_equal(l->sample.cg_oom_kill_events, 3);
    assert_true(l->sample.usage_ratio == 0.8512345678901234);   /* exact round trip */
    assert_true(l->growth_bytes_per_second == 1234.5);
    assert_true(isinf(l->time_to_limit_seconds) && l->time_to_limit_seconds > 0);
    assert_string_equal(l->level, "warning");

    l = &c.lines[2];
    assert_int_equal(l->kind, MV_REC_SAMPLE);
    assert_int_equal(l->sample.rss_bytes, MV_NA);
    assert_int_equal(l->sample.working_set_bytes, MV_NA);
    assert_int_equal(l->sample.cg_oom_kill_events, MV_NA);
    assert_true(isnan(l->sample.usage_ratio));
    assert_true(isnan(l->growth_bytes_per_second));
    assert_true(isnan(l->time_to_limit_seconds));
    assert_string_equal(l->level, "ok");

    l = &c.lines[3];
    assert_int_equal(l->kind, MV_REC_EVENT);
    assert_int_equal(l->t_ms, 1700000030000LL);
    assert_string_equal(l->event, mv_event_kind_name(MV_EVENT_LEVEL));
    assert_string_equal(l->level, "critical");
    assert_string_equal(l->message,
                        "level critical: \"working set\"\n1.9 GiB\tof 2 GiB");
    assert_true(l->growth_bytes_per_second == -2.5e-3);
    assert_true(l->time_to_limit_seconds == 3600.25);
    unlink(path);
}

/* The bytes on disk: one JSON object per line, "type" first, header fields
 * as documented, every line newline-terminated. */
static void test_file_shape(void **state)
{
    char path[128], host[256], want[320];
    mv__recorder *r = NULL;
    mv__record_header h = { NULL, 7, 1000, 500, MV_NA };
    mv_sample s;
    mv_buf b = { 0 };
    char *nl;

    (void)state;
    tmp_path(path, sizeof path);
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    sample_fill(&s, 2000, 8192);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, 0.0, INFINITY), 0);
    mv__recorder_close(r);

    assert_true(mv__read_file(path, &b, 1 << 20) > 0);
    snprintf(want, sizeof want,
             "{\"type\":\"header\",\"version\":2,\"tool\":\"memvigil %s\","
             "\"command\":null,\"pid\":7,\"host\":", mv_version());
    assert_int_equal(strncmp(b.data, want, strlen(want)), 0);
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_non_null(strstr(b.data, host));
    assert_non_null(strstr(b.data, "\"start_ms\":1000,\"interval_ms\":500,"
                                   "\"limit_bytes\":null,\"segment\":1}\n"));
    nl = strchr(b.data, '\n');
    assert_non_null(nl);
    /* every REC field of sample_fields.h under its member's name, in the
     * table's order; limits unlimited as "max" */
    assert_string_equal(nl + 1,
        "{\"type\":\"sample\",\"timestamp_ms\":2000,\"rss_bytes\":8192,"
        "\"rss_anon_bytes\":4096,\"rss_file_bytes\":4096,"
        "\"rss_shmem_bytes\":0,\"swap_bytes\":null,\"cg_usage_bytes\":null,"
        "\"cg_oom_kill_events\":3,\"working_set_bytes\":123456789012,"
        "\"private_bytes\":4096,\"effective_limit_bytes\":\"max\","
        "\"usage_ratio\":0.85123456789012342,\"level\":\"ok\","
        "\"growth_bytes_per_second\":0,\"time_to_limit_seconds\":\"+Inf\"}\n");
    assert_int_equal(b.data[b.len - 1], '\n');
    mv_buf_release(&b);
    unlink(path);
}

/* ---- reader tolerance ---- */

#define HDR "{\"type\":\"header\",\"version\":1,\"pid\":1,\"start_ms\":5}\n"
#define S1 "{\"type\":\"sample\",\"t_ms\":10,\"rss\":100}\n"
#define S2 "{\"type\":\"sample\",\"t_ms\":20,\"rss\":200}\n"

static void test_torn_last_line(void **state)
{
    collected c = { .n = 0 };
    char err[128];

    (void)state;
    assert_int_equal(read_text(HDR S1 "{\"type\":\"sample\",\"t_ms\":30,\"rs",
                               &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 2);
    assert_int_equal(c.lines[1].sample.rss_bytes, 100);

    /* A torn line cut right after a number is still not a whole object. */
    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(HDR S1 "{\"type\":\"sample\",\"t_ms\":3",
                               &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);

    /* A complete last line without its newline is kept. */
    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(HDR "{\"type\":\"sample\",\"t_ms\":30,\"rss\":7}",
                               &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.lines[1].sample.rss_bytes, 7);

    /* A broken last line WITH a newline was written whole: an error. */
    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(HDR S1 "{\"type\":\"sample\",\"t_ms\":\n",
                               &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "line 3: "));
}

static void test_garbage_in_middle(void **state)
{
    collected c = { .n = 0 };
    char err[128];

    (void)state;
    assert_int_equal(read_text(HDR S1 "this is not json\n" S2, &c, err,
                               sizeof err), -EINVAL);
    assert_int_equal(strncmp(err, "line 3: ", 8), 0);
    assert_true(strlen(err) > 8);   /* and says why */
    assert_int_equal(c.n, 2);       /* lines before it were delivered */

    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(HDR "{\"type\":\"sample\",\"t_ms\":\"soon\"}\n" S2,
                               &c, err, sizeof err), -EINVAL);
    assert_int_equal(strncmp(err, "line 2: ", 8), 0);
    assert_string_equal(err, "line 2: field \"t_ms\": expected an integer or null");

    /* A torn line followed by more lines is garbage too. */
    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(HDR "{\"type\":\"sam" S2, &c, err, sizeof err),
                     -EINVAL);
    assert_int_equal(strncmp(err, "line 2: ", 8), 0);

    /* err may be NULL. */
    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(HDR "x\n" S2, &c, NULL, 0), -EINVAL);
}

static void test_empty_and_blank(void **state)
{
    collected c = { .n = 0 };
    char err[64] = "junk";

    (void)state;
    assert_int_equal(read_text("", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 0);
    assert_string_equal(err, "");

    assert_int_equal(read_text("\n\n" HDR "\r\n  \n" S1, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);
}

static void test_unknown_type_and_keys(void **state)
{
    collected c = { .n = 0 };
    char err[128];

    (void)state;
    assert_int_equal(read_text(HDR
        "{\"type\":\"heap_snapshot\",\"sites\":[{\"a\":[1,2,{\"b\":null}]}],"
        "\"x\":true}\n"
        "{\"type\":\"sample\",\"t_ms\":20,\"future\":{\"k\":[1.5e3,\"v\"]},"
        "\"rss\":200,\"flag\":false}\n",
        &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 2);
    assert_int_equal(c.lines[1].kind, MV_REC_SAMPLE);
    assert_int_equal(c.lines[1].sample.rss_bytes, 200);
    assert_int_equal(c.lines[1].sample.rss_anon_bytes, MV_NA);   /* missing -> n/a */
    assert_true(isnan(c.lines[1].sample.usage_ratio));
}

static void test_newer_version(void **state)
{
    collected c = { .n = 0 };
    char err[160];

    (void)state;
    assert_int_equal(read_text(HDR S1
                               "{\"type\":\"header\",\"version\":3,\"pid\":9}\n" S2,
                               &c, err, sizeof err), -ENOTSUP);
    assert_int_equal(c.n, 2);
    assert_string_equal(err, "line 3: recording version 3 is newer than this "
                             "memvigil reads (version 2)");
}

static void test_visit_stops(void **state)
{
    collected c = { .n = 0, .stop_after = 1 };

    (void)state;
    assert_int_equal(read_text(HDR S1 S2, &c, NULL, 0), 0);
    assert_int_equal(c.n, 1);
}

/* ---- the parser ---- */

/* Parses s as a line of a version-1 recording (the keys the tests below
 * write: t_ms, rss, ...). */
static int parse(const char *s, mv__record_line *l)
{
    return mv__record_parse_line(s, strlen(s), 1, l);
}

static void test_parse_strict(void **state)
{
    mv__record_line l;
    static const char *bad[] = {
        "", "   ", "null", "[1,2]", "{", "}",
        "{\"type\":\"sample\",}",
        "{\"type\":\"sample\" \"t_ms\":1}",
        "{\"type\":\"sample\",\"t_ms\":01}",
        "{\"type\":\"sample\",\"t_ms\":1.}",
        "{\"type\":\"sample\",\"t_ms\":-}",
        "{\"type\":\"sample\",\"t_ms\":1e}",
        "{\"type\":\"sample\",\"t_ms\":+1}",
        "{\"type\":\"sample\",\"t_ms\":NaN}",
        "{\"type\":\"sample\",\"t_ms\":1.5}",
        "{\"type\":\"sample\",\"rss\":\"100\"}",
        "{\"type\":\"sample\",\"ratio\":\"high\"}",
        "{\"type\":\"sample\",\"level\":3}",
        "{\"type\":\"sample\"} trailing",
        "{\"type\":\"sample\"}{}",
        "{\"t_ms\":1}",
        "{\"type\":7}",
        "{\"type\":\"sample\",\"message\":\"bad \\q escape\"}",
        "{\"type\":\"sample\",\"message\":\"tab\tinside\"}",
        "{\"type\":\"sample\",\"message\":\"\\u12G4\"}",
        "{\"type\":\"sample\",\"message\":\"unterminated}",
        "{\"type\":\"sample\",\"x\":tru}",
        "{\"type\":\"sample\",\"x\":[1,2}",
        "{\"type\":\"sample\",\"x\":{\"a\" 1}}",
        "{\"type\":\"header\",\"pid\":1}",   /* header without version */
        "{'type':'sample'}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i], &l) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
    }
    assert_int_equal(mv__record_parse_line(NULL, 0, 1, &l), -EINVAL);

    /* Nesting deeper than jansson's bound (2048) is refused, not recursed
     * into without end. */
    {
        char deep[8192];
        size_t n = 0;
        n += (size_t)sprintf(deep, "{\"type\":\"sample\",\"x\":");
        for (int i = 0; i < 3000; i++)
            deep[n++] = '[';
        for (int i = 0; i < 3000; i++)
            deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        assert_int_equal(parse(deep, &l), -EINVAL);
    }
    /* Embedded NUL in the middle of a line is not a line. */
    assert_int_equal(mv__record_parse_line("{\"type\":\"sample\"}\0x", 19, 1, &l),
                     -EINVAL);
    assert_int_equal(parse("{\"type\":\"gizmo\"}", &l), -ENOMSG);
}

static void test_parse_values(void **state)
{
    mv__record_line l;

    (void)state;
    assert_int_equal(parse(" { \"rss\" : 9223372036854775807 , \"type\" : "
                           "\"sample\", \"anon\":-1, \"file\":2e3, "
                           "\"ratio\":1E-2, \"ttl_s\":\"-Inf\", "
                           "\"growth_bps\":-0.5 } ", &l), 0);
    assert_int_equal(l.kind, MV_REC_SAMPLE);
    assert_true(l.sample.rss_bytes == INT64_MAX);
    assert_int_equal(l.sample.rss_anon_bytes, MV_NA);     /* -1 is MV_NA */
    assert_int_equal(l.sample.rss_file_bytes, 2000);
    assert_true(l.sample.usage_ratio == 0.01);
    assert_true(isinf(l.time_to_limit_seconds) && l.time_to_limit_seconds < 0);
    assert_true(l.growth_bytes_per_second == -0.5);
    assert_int_equal(l.t_ms, MV_NA);
    assert_string_equal(l.level, "");

    /* Escapes: \u with a surrogate pair and \/; a lone surrogate is not
     * Unicode (the writer never writes one) and makes the line bad. */
    assert_int_equal(parse("{\"type\":\"event\",\"event\":\"phase\","
                           "\"message\":\"a\\u00e9\\ud83d\\ude00\\/x\\n\"}",
                           &l), 0);
    assert_int_equal(l.kind, MV_REC_EVENT);
    assert_string_equal(l.event, "phase");
    assert_string_equal(l.message, "a\xc3\xa9\xf0\x9f\x98\x80/x\n");
    assert_int_equal(parse("{\"type\":\"event\",\"message\":\"\\ud800x\"}",
                           &l), -EINVAL);

    /* Too long for the field: truncated, still NUL-terminated. */
    {
        char line[1024];
        snprintf(line, sizeof line, "{\"type\":\"event\",\"event\":\"%s\"}",
                 "a_very_long_event_name_that_does_not_fit_in_32");
        assert_int_equal(parse(line, &l), 0);
        assert_int_equal(strlen(l.event), sizeof l.event - 1);
    }
}

/* ---- full disk ---- */

/* The descriptor the recorder holds for path (found via /proc/self/fd). */
static int find_fd(const char *path)
{
    for (int fd = 3; fd < 1024; fd++) {
        char link[64], target[PATH_MAX];
        ssize_t n;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (!strcmp(target, path))
            return fd;
    }
    return -1;
}

/* The disk under a running recorder, switched between full and not: the
 * recorder's descriptor is replaced by /dev/full (every write ENOSPC) and
 * back by its saved copy. */
typedef struct disk_switch {
    int fd, saved, full;
} disk_switch;

static void disk_switch_init(disk_switch *d, const char *path)
{
    d->fd = find_fd(path);
    assert_true(d->fd >= 0);
    d->saved = dup(d->fd);
    d->full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(d->saved >= 0 && d->full >= 0);
}

static void disk_full(disk_switch *d)
{
    assert_int_equal(dup2(d->full, d->fd), d->fd);
}

static void disk_room(disk_switch *d)
{
    assert_int_equal(dup2(d->saved, d->fd), d->fd);
}

static void disk_switch_release(disk_switch *d)
{
    close(d->saved);
    close(d->full);
}

/* A recorder on a fresh file in a test with a disk switch (skips the test
 * where /dev/full cannot be written). */
static mv__recorder *recorder_on_switch(char *path, size_t n, disk_switch *d)
{
    mv__record_header h = { "x", 1, 0, 1000, MV_NA };
    mv__recorder *r = NULL;

    if (access("/dev/full", W_OK) != 0)
        skip();
    tmp_path(path, n);
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    disk_switch_init(d, path);
    return r;
}

static void test_disk_full(void **state)
{
    char path[128], err[128];
    mv__recorder *r = (mv__recorder *)1;
    mv__record_header h = { "x", 1, 0, 1000, MV_NA };
    mv_sample s;
    mv_event ev;
    collected c = { .n = 0 };
    disk_switch d;

    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    /* No room even for the header: refused, nothing leaks. */
    assert_int_equal(mv__recorder_open("/dev/full", &h, &r), -ENOSPC);
    assert_null(r);

    /* The disk fills up under a running recorder. */
    tmp_path(path, sizeof path);
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    sample_fill(&s, 1000, 4096);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);

    disk_switch_init(&d, path);
    disk_full(&d);

    sample_fill(&s, 2000, 8192);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), -ENOSPC);
    assert_int_equal(mv__recorder_lost(r), 1);
    memset(&ev, 0, sizeof ev);
    ev.kind = MV_EVENT_OOM_KILL;
    snprintf(ev.message, sizeof ev.message, "oom");
    assert_int_equal(mv__recorder_event(r, &ev), -ENOSPC);
    assert_int_equal(mv__recorder_lost(r), 2);

    /* Space comes back: the recorder carries on. */
    disk_room(&d);
    disk_switch_release(&d);
    sample_fill(&s, 3000, 12288);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
    assert_int_equal(mv__recorder_lost(r), 2);
    mv__recorder_close(r);

    /* What was written before is intact and readable. */
    assert_int_equal(read_path(path, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.lines[0].kind, MV_REC_HEADER);
    assert_int_equal(c.lines[1].sample.rss_bytes, 4096);
    assert_int_equal(c.lines[2].sample.rss_bytes, 12288);
    unlink(path);
}


/* A full disk is told once per spell of losses, not once per lost line:
 * LOSING (with ENOSPC) at the first lost line, nothing while lines keep
 * being lost (all counted), RESUMED with the spell's count at the first line
 * written again; a second spell is told again. The file stays readable. */
static void test_disk_full_told_once(void **state)
{
    char path[128], err[128];
    mv__recorder *r = NULL;
    mv__record_header h = { "x", 1, 0, 1000, MV_NA };
    mv_sample s;
    mv_event ev;
    collected c = { .n = 0 };
    disk_switch d;
    int e = 0;
    uint64_t lost = 0;

    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    assert_int_equal(mv__recorder_take_change(NULL, &e, &lost), MV__RECORD_SAME);
    tmp_path(path, sizeof path);
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    sample_fill(&s, 1000, 4096);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
    assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_SAME);

    disk_switch_init(&d, path);
    memset(&ev, 0, sizeof ev);
    ev.kind = MV_EVENT_LEVEL;
    snprintf(ev.message, sizeof ev.message, "level");

    for (int spell = 0; spell < 2; spell++) {
        disk_full(&d);
        for (int i = 0; i < 5; i++) {
            sample_fill(&s, 2000 + i, 8192);
            assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN),
                             -ENOSPC);
            e = 0;
            lost = 99;
            assert_int_equal(mv__recorder_take_change(r, &e, &lost),
                             i == 0 ? MV__RECORD_LOSING : MV__RECORD_SAME);
            assert_int_equal(e, i == 0 ? ENOSPC : 0);
            assert_int_equal(lost, 99);     /* untouched by LOSING / SAME */
        }
        assert_int_equal(mv__recorder_event(r, &ev), -ENOSPC);
        assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_SAME);
        assert_int_equal(mv__recorder_lost(r), 6 * (uint64_t)(spell + 1));

        /* space again: the next line is written and the spell's count told */
        disk_room(&d);
        sample_fill(&s, 3000 + spell, 12288);
        assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
        assert_int_equal(mv__recorder_take_change(r, &e, &lost),
                         MV__RECORD_RESUMED);
        assert_int_equal(lost, 6);
        assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_SAME);
        assert_int_equal(mv__recorder_lost(r), 6 * (uint64_t)(spell + 1));
    }
    disk_switch_release(&d);
    mv__recorder_close(r);

    assert_int_equal(read_path(path, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 4);   /* header, 1000, 3000, 3001 */
    assert_int_equal(c.lines[1].t_ms, 1000);
    assert_int_equal(c.lines[2].t_ms, 3000);
    assert_int_equal(c.lines[3].t_ms, 3001);
    unlink(path);
}

/* A disk at the edge: each tick the sample line is lost but a short line
 * fits. That is one spell (LOSING once, no RESUMED while every tick loses a
 * line), which ends at the first tick with nothing lost. */
static void test_disk_full_edge_one_spell(void **state)
{
    char path[128];
    mv__recorder *r = NULL;
    mv_sample s;
    mv_event ev;
    disk_switch d;
    int e = 0;
    uint64_t lost = 0;

    (void)state;
    r = recorder_on_switch(path, sizeof path, &d);
    memset(&ev, 0, sizeof ev);
    ev.kind = MV_EVENT_LEVEL;
    for (int tick = 0; tick < 5; tick++) {
        disk_full(&d);
        sample_fill(&s, 1000 + tick, 4096);
        assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), -ENOSPC);
        disk_room(&d);
        assert_int_equal(mv__recorder_event(r, &ev), 0);
        assert_int_equal(mv__recorder_take_change(r, &e, &lost),
                         tick == 0 ? MV__RECORD_LOSING : MV__RECORD_SAME);
    }
    sample_fill(&s, 2000, 4096);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
    assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_RESUMED);
    assert_int_equal(lost, 5);
    disk_switch_release(&d);
    mv__recorder_close(r);
    unlink(path);
}

/* The spell's own event lines may be longer than a sample line and be lost
 * where samples fit: that loss neither keeps the spell going nor starts a
 * new one (one LOSING, one RESUMED), and it is still counted. */
static void test_disk_full_own_events_excused(void **state)
{
    char path[128];
    mv__recorder *r = NULL;
    mv_sample s;
    mv_event ev;
    disk_switch d;
    int e = 0, losing = 0, resumed = 0;
    uint64_t lost = 0;

    (void)state;
    r = recorder_on_switch(path, sizeof path, &d);
    memset(&ev, 0, sizeof ev);
    /* tick 0: the sample is lost */
    disk_full(&d);
    sample_fill(&s, 1000, 4096);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), -ENOSPC);
    for (int tick = 0; tick < 6; tick++) {
        if (tick > 0) {   /* samples fit from tick 1 on */
            disk_room(&d);
            sample_fill(&s, 1000 + tick, 4096);
            assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
        }
        mv__record_change c = mv__recorder_take_change(r, &e, &lost);
        if (c == MV__RECORD_SAME)
            continue;
        /* the event saying so does not fit */
        losing += c == MV__RECORD_LOSING;
        resumed += c == MV__RECORD_RESUMED;
        ev.kind = c == MV__RECORD_LOSING ? MV_EVENT_RECORDING_FAILED
                                         : MV_EVENT_RECORDING_RESUMED;
        disk_full(&d);
        assert_int_equal(mv__recorder_event(r, &ev), -ENOSPC);
    }
    assert_int_equal(losing, 1);
    assert_int_equal(resumed, 1);
    assert_int_equal(lost, 2);   /* the sample and the recording_failed line */
    assert_int_equal(mv__recorder_lost(r), 3);
    disk_switch_release(&d);
    mv__recorder_close(r);
    unlink(path);
}

/* A loss and a recovery between two looks (one tick: the sample lost, an
 * event line written) is still told: LOSING, then RESUMED with its count. */
static void test_disk_full_brief_spell(void **state)
{
    char path[128];
    mv__recorder *r = NULL;
    mv_sample s;
    mv_event ev;
    disk_switch d;
    int e = 0;
    uint64_t lost = 0;

    (void)state;
    r = recorder_on_switch(path, sizeof path, &d);
    disk_full(&d);
    sample_fill(&s, 1000, 4096);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), -ENOSPC);
    disk_room(&d);
    memset(&ev, 0, sizeof ev);
    ev.kind = MV_EVENT_LEVEL;
    assert_int_equal(mv__recorder_event(r, &ev), 0);
    assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_LOSING);
    assert_int_equal(e, ENOSPC);
    assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_RESUMED);
    assert_int_equal(lost, 1);
    assert_int_equal(mv__recorder_take_change(r, &e, &lost), MV__RECORD_SAME);
    disk_switch_release(&d);
    mv__recorder_close(r);
    unlink(path);
}


/* A line of exactly `len` bytes (no newline): a valid sample whose unknown
 * key "pad" holds a long string, so only its length matters. */
static char *long_line(size_t len)
{
    static const char head[] = "{\"type\":\"sample\",\"t_ms\":15,\"rss\":150,\"pad\":\"";
    static const char tail[] = "\"}";
    char *s = malloc(len + 1);
    assert_non_null(s);
    assert_true(len > sizeof head + sizeof tail);
    memcpy(s, head, sizeof head - 1);
    memset(s + sizeof head - 1, 'x', len - (sizeof head - 1) - (sizeof tail - 1));
    memcpy(s + len - (sizeof tail - 1), tail, sizeof tail - 1);
    s[len] = '\0';
    return s;
}

static int read_with_line(const char *before, const char *big, const char *after,
                          collected *c, char *err, size_t errlen)
{
    char path[128];
    FILE *f;
    int rc;
    tmp_path(path, sizeof path);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(before, f);
    fputs(big, f);
    fputs(after, f);
    assert_int_equal(fclose(f), 0);
    rc = read_path(path, c, err, errlen);
    unlink(path);
    return rc;
}

static void test_long_lines(void **state)
{
    collected c = { .n = 0 };
    char err[128];
    (void)state;

    /* 3 MiB in the middle: an error naming the line, earlier lines kept */
    char *big = long_line((size_t)3 << 20);
    assert_int_equal(read_with_line(HDR, big, "\n" S2, &c, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "line 2: longer than 1 MiB");
    assert_int_equal(c.n, 1);

    /* the same as a final line without newline: refused too, not taken for
     * a torn write, because telling the two apart meant reading an endless
     * line (a FIFO, /dev/zero) to its end (issue 12); the writer never
     * writes such lines */
    memset(&c, 0, sizeof c);
    assert_int_equal(read_with_line(HDR S1, big, "", &c, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "line 3: longer than 1 MiB");
    assert_int_equal(c.n, 2);
    free(big);

    /* exactly 1 MiB is fine; one byte more is not */
    big = long_line((size_t)1 << 20);
    memset(&c, 0, sizeof c);
    assert_int_equal(read_with_line(HDR, big, "\n" S2, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.lines[1].sample.rss_bytes, 150);
    assert_int_equal(c.lines[2].sample.rss_bytes, 200);
    free(big);
    big = long_line(((size_t)1 << 20) + 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(read_with_line(HDR, big, "\n" S2, &c, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "line 2: longer than 1 MiB");
    free(big);

    /* a NUL byte inside a line is not silently cut there */
    char path[128];
    static const char nul_line[] = "{\"type\":\"sample\",\"t_ms\":1}\0junk\n";
    tmp_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(HDR, f);
    fwrite(nul_line, 1, sizeof nul_line - 1, f);
    fputs(S2, f);
    assert_int_equal(fclose(f), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(read_path(path, &c, err, sizeof err), -EINVAL);
    assert_int_equal(strncmp(err, "line 2: ", 8), 0);
    unlink(path);
}

static void test_bad_args(void **state)
{
    mv__recorder *r = (mv__recorder *)1;
    mv__record_header h = { NULL, 1, 0, 0, 0 };
    mv_sample s;

    (void)state;
    assert_int_equal(mv__recorder_open(NULL, &h, &r), -EINVAL);
    assert_null(r);
    assert_int_equal(mv__recorder_open("/nonexistent-dir/x.jsonl", &h, &r),
                     -ENOENT);
    assert_null(r);
    sample_none(&s);
    assert_int_equal(mv__recorder_sample(NULL, &s, MV_LEVEL_OK, 0, 0), -EINVAL);
    assert_int_equal(mv__recorder_event(NULL, NULL), -EINVAL);
    assert_int_equal(mv__recorder_lost(NULL), 0);
    mv__recorder_close(NULL);
    assert_int_equal(mv__record_read(NULL, collect, NULL, NULL, 0), -EINVAL);
}

/* ---- application lines ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_app_lines(void **state)
{
    (void)state;
    char path[128];
    tmp_path(path, sizeof path);
    mv__record_header h = {.command = "x", .pid = 1, .start_ms = 1000,
                           .interval_ms = 10, .limit_bytes = MV_NA};
    mv__recorder *r;
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    assert_int_equal(mv__recorder_gauge(r, 2000, "idx", "a=1", 4096), 0);
    assert_int_equal(mv__recorder_gauge(r, 2000, "tmp", NULL, 0), 0);
    mv__record_op op = {.name = "q", .count = 3, .sum_bytes = 5050,
                        .min_bytes = -50, .max_bytes = 5000,
                        .duration_s = 0.5, .buckets = {1, 1, 1}};
    assert_int_equal(mv__recorder_op(r, 2000, &op), 0);
    /* 2 MiB over 1000 units: bytes per unit, as the registry gives it */
    assert_int_equal(mv__recorder_progress(r, 2000, "rows", 2000, 3145728,
                                           2097152.0 / 1000.0), 0);
    assert_int_equal(mv__recorder_progress(r, 2001, "rows", 1, MV_NA, NAN), 0);
    assert_int_equal(mv__recorder_gauge(r, 1, NULL, NULL, 1), -EINVAL);
    assert_int_equal(mv__recorder_op(r, 1, NULL), -EINVAL);
    assert_int_equal(mv__recorder_progress(NULL, 1, "u", 1, 1, 1), -EINVAL);
    mv__recorder_close(r);
    const char *text = slurp(path);
    const char *want =
        "{\"type\":\"gauge\",\"timestamp_ms\":2000,\"name\":\"idx\",\"labels\":\"a=1\",\"value\":4096}\n"
        "{\"type\":\"gauge\",\"timestamp_ms\":2000,\"name\":\"tmp\",\"labels\":\"\",\"value\":0}\n"
        "{\"type\":\"op\",\"timestamp_ms\":2000,\"name\":\"q\",\"count\":3,\"sum_bytes\":5050,"
        "\"min_bytes\":-50,\"max_bytes\":5000,\"duration_s\":0.5,"
        "\"buckets\":[1,1,1,0,0,0,0,0]}\n"
        "{\"type\":\"progress\",\"timestamp_ms\":2000,\"unit\":\"rows\",\"units\":2000,"
        "\"private_bytes\":3145728,\"memory_per_unit_bytes\":2097.152}\n"
        "{\"type\":\"progress\",\"timestamp_ms\":2001,\"unit\":\"rows\",\"units\":1,"
        "\"private_bytes\":null,\"memory_per_unit_bytes\":null}\n";
    const char *body = strchr(text, '\n');
    assert_non_null(body);
    assert_string_equal(body + 1, want);

    /* the one reader gives every line back with its figures */
    collected c = {0};
    assert_int_equal(read_path(path, &c, NULL, 0), 0);
    assert_int_equal(c.n, 6);
    assert_int_equal(c.lines[0].kind, MV_REC_HEADER);
    const mv__record_line *l = &c.lines[1];
    assert_int_equal(l->kind, MV_REC_GAUGE);
    assert_int_equal(l->t_ms, 2000);
    assert_string_equal(l->app.name, "idx");
    assert_string_equal(l->app.labels, "a=1");
    assert_true(l->app.value == 4096);
    l = &c.lines[2];
    assert_int_equal(l->kind, MV_REC_GAUGE);
    assert_string_equal(l->app.labels, "");
    assert_true(l->app.value == 0);
    l = &c.lines[3];
    assert_int_equal(l->kind, MV_REC_OP);
    assert_string_equal(l->app.name, "q");
    assert_true(l->app.count == 3 && l->app.sum_bytes == 5050);
    assert_true(l->app.min_bytes == -50 && l->app.max_bytes == 5000);
    assert_true(l->app.duration_s == 0.5);
    assert_true(isnan(l->app.delta_bytes));
    assert_int_equal(l->app.nbuckets, 8);
    assert_true(l->app.buckets[0] == 1 && l->app.buckets[2] == 1 &&
                l->app.buckets[3] == 0 && l->app.buckets[7] == 0);
    l = &c.lines[4];
    assert_int_equal(l->kind, MV_REC_PROGRESS);
    assert_string_equal(l->app.name, "rows");
    assert_true(l->app.units == 2000);
    assert_true(l->app.private_bytes == 3145728);
    assert_true(l->app.memory_per_unit_bytes == 2097152.0 / 1000.0);
    l = &c.lines[5];
    assert_int_equal(l->t_ms, 2001);
    assert_true(l->app.units == 1);
    assert_true(isnan(l->app.private_bytes) &&
                isnan(l->app.memory_per_unit_bytes));

    /* version 1 wrote t_ms and "private"; wrong types read as missing
     * (application lines are optional), but a time out of range is a bad
     * line as in every kind */
    mv__record_line p;
    const char *g = "{\"type\":\"progress\",\"t_ms\":1,\"unit\":\"u\","
                    "\"units\":5,\"private\":7}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 1, &p), 0);
    assert_int_equal(p.kind, MV_REC_PROGRESS);
    assert_int_equal(p.t_ms, 1);
    assert_true(p.app.units == 5 && p.app.private_bytes == 7);
    /* version 1's "per1000" was bytes per 1000 units: read as bytes per
     * unit (divided by 1000), also before any header; a version-2 line
     * names the figure memory_per_unit_bytes, and "per1000" there is an
     * unknown key */
    g = "{\"type\":\"progress\",\"t_ms\":1,\"unit\":\"u\",\"units\":2000,"
        "\"private\":3145728,\"per1000\":2097152}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 1, &p), 0);
    assert_true(p.app.memory_per_unit_bytes == 2097152.0 / 1000.0);
    assert_int_equal(mv__record_parse_line(g, strlen(g), 0, &p), 0);
    assert_true(p.app.memory_per_unit_bytes == 2097.152);
    g = "{\"type\":\"progress\",\"t_ms\":1,\"unit\":\"u\",\"per1000\":null}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 1, &p), 0);
    assert_true(isnan(p.app.memory_per_unit_bytes));
    g = "{\"type\":\"progress\",\"timestamp_ms\":1,\"unit\":\"u\","
        "\"memory_per_unit_bytes\":2097.152}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 2, &p), 0);
    assert_true(p.app.memory_per_unit_bytes == 2097.152);
    assert_int_equal(mv__record_parse_line(g, strlen(g), 0, &p), 0);
    assert_true(p.app.memory_per_unit_bytes == 2097.152);
    g = "{\"type\":\"progress\",\"timestamp_ms\":1,\"unit\":\"u\","
        "\"per1000\":2097152}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 2, &p), 0);
    assert_true(isnan(p.app.memory_per_unit_bytes));
    g = "{\"type\":\"op\",\"timestamp_ms\":9007199254740993}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 0, &p), -EINVAL);
    g = "{\"type\":\"op\",\"name\":3,\"count\":\"x\",\"buckets\":[1,\"y\"]}";
    assert_int_equal(mv__record_parse_line(g, strlen(g), 0, &p), 0);
    assert_int_equal(p.kind, MV_REC_OP);
    assert_int_equal(p.t_ms, MV_NA);
    assert_string_equal(p.app.name, "");
    assert_true(isnan(p.app.count));
    assert_int_equal(p.app.nbuckets, 2);
    assert_true(p.app.buckets[0] == 1 && isnan(p.app.buckets[1]));
    unlink(path);
}

static void test_app_changes_from_registry(void **state)
{
    (void)state;
    char path[128];
    tmp_path(path, sizeof path);
    mv__record_header h = {.pid = 1, .start_ms = 1000, .interval_ms = 10,
                           .limit_bytes = MV_NA};
    mv__recorder *r;
    mv__registry *reg = mv__registry_new(0);
    assert_int_equal(mv__recorder_open(path, &h, &r), 0);
    assert_int_equal(mv__record_app_changes(r, reg, 5, 256), 0); /* nothing */
    char name[16];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "g%d", i);
        assert_int_equal(mv__registry_gauge_set(reg, name, "k=v", 100 + i), 0);
    }
    for (int i = 0; i < 1000; i++)   /* 1000 calls: still one line */
        assert_int_equal(mv__registry_op_observe(reg, "q", 4096, 0.001), 0);
    assert_int_equal(mv__record_app_changes(r, reg, 6, 3), 3);
    assert_int_equal(mv__recorder_app_skipped(r), 2);
    assert_int_equal(mv__record_app_changes(r, reg, 7, 256), 2);
    assert_int_equal(mv__recorder_app_skipped(r), 2);
    assert_int_equal(mv__record_app_changes(NULL, reg, 7, 256), -EINVAL);
    assert_int_equal(mv__record_app_changes(r, NULL, 7, 256), -EINVAL);
    mv__recorder_close(r);
    mv__registry_free(reg);
    const char *text = slurp(path);
    assert_non_null(strstr(text,
        "{\"type\":\"op\",\"timestamp_ms\":6,\"name\":\"q\",\"count\":1000,"
        "\"sum_bytes\":4096000,\"min_bytes\":4096,\"max_bytes\":4096,"));
    assert_non_null(strstr(text, "\"buckets\":[0,1000,0,0,0,0,0,0]}\n"));
    assert_non_null(strstr(text,
        "{\"type\":\"gauge\",\"timestamp_ms\":6,\"name\":\"g0\",\"labels\":\"k=v\",\"value\":100}\n"));
    assert_non_null(strstr(text,
        "{\"type\":\"gauge\",\"timestamp_ms\":7,\"name\":\"g3\",\"labels\":\"k=v\",\"value\":103}\n"));
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + 5);
    unlink(path);
}


/* ---- version 1 and version 2 ---- */

/* Every line of a recording, as read (grown as needed). */
typedef struct all_lines {
    mv__record_line *v;
    size_t n, cap;
} all_lines;

static int all_visit(const mv__record_line *l, void *ctx)
{
    all_lines *a = ctx;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        assert_non_null(a->v);
    }
    a->v[a->n++] = *l;
    return 0;
}

static void read_all(const char *path, all_lines *a)
{
    char err[256] = "";
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int rc = mv__record_read(f, all_visit, a, err, sizeof err);
    fclose(f);
    if (rc != 0)
        fail_msg("%s: %s", path, err);
}

static mv_level level_of(const char *name)
{
    for (int k = MV_LEVEL_OK; k <= MV_LEVEL_CRITICAL; k++)
        if (strcmp(mv_level_name((mv_level)k), name) == 0)
            return (mv_level)k;
    fail_msg("level %s", name);
    return MV_LEVEL_OK;
}

/* Writes what a was read from with today's recorder (version 2): the
 * header, samples, events, gauges and progress lines (the recorder writes
 * no single-call op line). */
static void write_v2(const all_lines *a, const char *path)
{
    const mv__record_line *h = &a->v[0];
    assert_int_equal(h->kind, MV_REC_HEADER);
    mv__record_header hd = {h->command, h->pid, h->t_ms, h->interval_ms,
                            h->limit_bytes};
    mv__recorder *r;
    assert_int_equal(mv__recorder_open(path, &hd, &r), 0);
    for (size_t i = 1; i < a->n; i++) {
        const mv__record_line *l = &a->v[i];
        if (l->kind == MV_REC_SAMPLE) {
            assert_int_equal(mv__recorder_sample(r, &l->sample, level_of(l->level),
                                                 l->growth_bytes_per_second,
                                                 l->time_to_limit_seconds), 0);
        } else if (l->kind == MV_REC_EVENT) {
            mv_event ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = MV_EVENT_KIND_COUNT;
            for (int k = 0; k < MV_EVENT_KIND_COUNT; k++)
                if (strcmp(mv_event_kind_name((mv_event_kind)k), l->event) == 0)
                    ev.kind = (mv_event_kind)k;
            assert_true(ev.kind != MV_EVENT_KIND_COUNT);
            ev.timestamp_ms = l->t_ms;
            ev.level = level_of(l->level);
            ev.growth_bytes_per_s = l->growth_bytes_per_second;
            ev.time_to_limit_s = l->time_to_limit_seconds;
            snprintf(ev.message, sizeof ev.message, "%s", l->message);
            assert_int_equal(mv__recorder_event(r, &ev), 0);
        } else if (l->kind == MV_REC_GAUGE) {
            assert_int_equal(mv__recorder_gauge(r, l->t_ms, l->app.name,
                                                l->app.labels,
                                                (int64_t)l->app.value), 0);
        } else if (l->kind == MV_REC_PROGRESS) {
            assert_int_equal(mv__recorder_progress(
                r, l->t_ms, l->app.name, (int64_t)l->app.units,
                isnan(l->app.private_bytes) ? MV_NA : (int64_t)l->app.private_bytes,
                l->app.memory_per_unit_bytes), 0);
        }
    }
    mv__recorder_close(r);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* a (version 1) and b (version 2) hold the same lines but b's op lines,
 * with identical values: every sample field of the table, and the line's
 * own figures. */
static void assert_same_lines(const all_lines *a, const all_lines *b)
{
    size_t j = 0, samples = 0;
    for (size_t i = 0; i < a->n; i++) {
        const mv__record_line *x = &a->v[i];
        if (x->kind == MV_REC_OP)
            continue;
        assert_true(j < b->n);
        const mv__record_line *y = &b->v[j++];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->t_ms, y->t_ms);
        switch (x->kind) {
        case MV_REC_HEADER:
            assert_int_equal(x->version, 1);
            assert_int_equal(y->version, 2);
            assert_string_equal(x->command, y->command);
            assert_int_equal(x->pid, y->pid);
            assert_int_equal(x->interval_ms, y->interval_ms);
            assert_int_equal(x->limit_bytes, y->limit_bytes);
            break;
        case MV_REC_SAMPLE:
            samples++;
#define SAME(member, type, where, help)                                     \
            if (!same_double((double)x->sample.member, (double)y->sample.member)) \
                fail_msg("line %lld: " #member " %g != %g", x->lineno,        \
                         (double)x->sample.member, (double)y->sample.member);
            MV_SAMPLE_FIELDS(SAME)
#undef SAME
            assert_string_equal(x->level, y->level);
            assert_true(same_double(x->growth_bytes_per_second,
                                    y->growth_bytes_per_second));
            assert_true(same_double(x->time_to_limit_seconds,
                                    y->time_to_limit_seconds));
            break;
        case MV_REC_EVENT:
            assert_string_equal(x->event, y->event);
            assert_string_equal(x->level, y->level);
            assert_string_equal(x->message, y->message);
            assert_true(same_double(x->growth_bytes_per_second,
                                    y->growth_bytes_per_second));
            assert_true(same_double(x->time_to_limit_seconds,
                                    y->time_to_limit_seconds));
            break;
        case MV_REC_GAUGE:
            assert_string_equal(x->app.name, y->app.name);
            assert_string_equal(x->app.labels, y->app.labels);
            assert_true(x->app.value == y->app.value);
            break;
        case MV_REC_PROGRESS:
            assert_string_equal(x->app.name, y->app.name);
            assert_true(x->app.units == y->app.units);
            assert_true(same_double(x->app.private_bytes, y->app.private_bytes));
            assert_true(same_double(x->app.memory_per_unit_bytes,
                                    y->app.memory_per_unit_bytes));
            break;
        case MV_REC_OP:
            break;
        }
    }
    assert_int_equal(j, b->n);
    assert_int_equal(samples, 181);
}

/* Which keys a line is read with: its header's version's only; before any
 * header the current key, else version 1's; errors name the key as
 * written; "max" is an unlimited limit. */
static void test_version_keys(void **state)
{
    (void)state;
    collected c = {0};
    char err[160];
    assert_int_equal(read_text(
        "{\"type\":\"sample\",\"t_ms\":1,\"rss\":5,\"rss_bytes\":7,\"anon\":3}\n"
        "{\"type\":\"header\",\"version\":2,\"start_ms\":1}\n"
        "{\"type\":\"sample\",\"timestamp_ms\":2,\"t_ms\":9,\"rss\":5,"
        "\"effective_limit_bytes\":\"max\",\"usage_ratio\":0.5}\n"
        "{\"type\":\"header\",\"version\":1,\"start_ms\":1}\n"
        "{\"type\":\"sample\",\"t_ms\":3,\"timestamp_ms\":8,\"rss_bytes\":5,"
        "\"rss\":6,\"limit\":1024,\"growth_bps\":2.5}\n",
        &c, err, sizeof err), 0);
    assert_int_equal(c.n, 5);
    /* before a header: the version-2 key wins, version 1's fills in */
    assert_int_equal(c.lines[0].t_ms, 1);
    assert_int_equal(c.lines[0].sample.rss_bytes, 7);
    assert_int_equal(c.lines[0].sample.rss_anon_bytes, 3);
    /* under version 2: version 1's keys are unknown keys */
    assert_int_equal(c.lines[2].t_ms, 2);
    assert_int_equal(c.lines[2].sample.rss_bytes, MV_NA);
    assert_true(c.lines[2].sample.effective_limit_bytes == MV_UNLIMITED);
    assert_true(c.lines[2].sample.usage_ratio == 0.5);
    /* under version 1: only version 1's keys */
    assert_int_equal(c.lines[4].t_ms, 3);
    assert_int_equal(c.lines[4].sample.timestamp_ms, 3);
    assert_int_equal(c.lines[4].sample.rss_bytes, 6);
    assert_int_equal(c.lines[4].sample.effective_limit_bytes, 1024);
    assert_true(c.lines[4].growth_bytes_per_second == 2.5);

    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(
        "{\"type\":\"header\",\"version\":2,\"start_ms\":1}\n"
        "{\"type\":\"sample\",\"timestamp_ms\":2,\"effective_limit_bytes\":\"min\"}\n",
        &c, err, sizeof err), -EINVAL);
    assert_string_equal(err, "line 2: field \"effective_limit_bytes\": "
                             "expected an integer, \"max\" or null");
    memset(&c, 0, sizeof c);
    assert_int_equal(read_text(
        "{\"type\":\"sample\",\"t_ms\":2,\"swap\":true}\n", &c, err, sizeof err),
        -EINVAL);
    assert_string_equal(err, "line 1: field \"swap\": expected an integer or null");
}

/* A version-1 recording made by the version-1 writer (the report's
 * app_records fixture), the same data written by today's recorder, and the
 * version-2 fixture made from it that way read to identical values; the
 * first sample's figures are the ones in the file. */
static void test_version1_and_2(void **state)
{
    (void)state;
    all_lines v1, v2, fx;
    char path[128];
    read_all(MV_FIXTURES "/report/app_records.jsonl", &v1);
    assert_int_equal(v1.n, 911);
    const mv__record_line *s = &v1.v[1];
    assert_int_equal(s->kind, MV_REC_SAMPLE);
    assert_int_equal(s->t_ms, 1795625436004LL);
    assert_int_equal(s->sample.timestamp_ms, 1795625436004LL);
    assert_int_equal(s->sample.rss_bytes, 520192);
    assert_int_equal(s->sample.rss_anon_bytes, 520192);
    assert_int_equal(s->sample.rss_file_bytes, 0);
    assert_int_equal(s->sample.swap_bytes, 0);
    assert_int_equal(s->sample.private_bytes, 520192);
    assert_int_equal(s->sample.working_set_bytes, 166539264);
    assert_int_equal(s->sample.cg_usage_bytes, 723333120);
    assert_int_equal(s->sample.effective_limit_bytes, 25276026880LL);
    assert_true(s->sample.usage_ratio == 2.0580449707133717e-05);
    assert_int_equal(s->sample.cg_oom_kill_events, 0);
    assert_int_equal(s->sample.pss_bytes, MV_NA);     /* not recorded */
    assert_true(isnan(s->growth_bytes_per_second));
    assert_string_equal(s->level, "ok");
    const mv__record_line *p = &v1.v[5];               /* "private" key */
    assert_int_equal(p->kind, MV_REC_PROGRESS);
    assert_false(isnan(p->app.private_bytes));
    assert_true(isnan(p->app.memory_per_unit_bytes));  /* "per1000":null */
    /* "per1000":115640 (bytes per 1000 units) reads as bytes per unit */
    p = &v1.v[11];
    assert_int_equal(p->kind, MV_REC_PROGRESS);
    assert_true(p->app.units == 2000);
    assert_true(p->app.memory_per_unit_bytes == 115.64);

    tmp_path(path, sizeof path);
    write_v2(&v1, path);
    read_all(path, &v2);
    assert_same_lines(&v1, &v2);
    read_all(MV_FIXTURES "/record/app_records_v2.jsonl", &fx);
    assert_same_lines(&v1, &fx);
    /* the last checkpoint: version 1's "per1000":855257.65555555548, the
     * fixture's "memory_per_unit_bytes":855.25765555555552 */
    const mv__record_line *last = NULL;
    for (size_t i = 0; i < fx.n; i++)
        if (fx.v[i].kind == MV_REC_PROGRESS)
            last = &fx.v[i];
    assert_non_null(last);
    assert_true(last->app.units == 181000);
    assert_true(last->app.memory_per_unit_bytes == 855.25765555555552);
    assert_true(last->app.memory_per_unit_bytes == 855257.65555555548 / 1000.0);
    free(v1.v);
    free(v2.v);
    free(fx.v);
    unlink(path);
}

/* ---- rotation ---- */

/* What a rotated file or a joined recording holds. */
typedef struct seen {
    int headers;
    int64_t segment[8];      /* of each header, in order */
    int64_t t[256];          /* sample times, in order */
    int n;
} seen;

static int seen_visit(const mv__record_line *l, void *ctx)
{
    seen *v = ctx;
    if (l->kind == MV_REC_HEADER) {
        if (v->headers < 8)
            v->segment[v->headers] = l->segment;
        v->headers++;
    } else if (l->kind == MV_REC_SAMPLE && v->n < 256) {
        v->t[v->n++] = l->t_ms;
    }
    return 0;
}

static void seen_buf(const char *data, size_t len, seen *v)
{
    char err[128];
    FILE *f = fmemopen((void *)data, len, "r");
    assert_non_null(f);
    memset(v, 0, sizeof *v);
    assert_int_equal(mv__record_read(f, seen_visit, v, err, sizeof err), 0);
    fclose(f);
}

/* Checks one rotated file: at most cap bytes, a header first and only
 * there, every line whole and parseable; returns its header's segment and
 * fills v. */
static int64_t check_segment_file(const char *path, int64_t cap, seen *v)
{
    mv_buf b = {0};
    mv__record_line *l = malloc(sizeof *l);
    ssize_t n = mv__read_file(path, &b, 1 << 20);

    assert_non_null(l);
    assert_true(n > 0);
    assert_true(n <= cap);
    assert_int_equal(b.data[b.len - 1], '\n');
    for (const char *p = b.data; p < b.data + b.len;) {
        const char *nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
        assert_non_null(nl);
        assert_int_equal(mv__record_parse_line(p, (size_t)(nl - p), 0, l), 0);
        assert_true((l->kind == MV_REC_HEADER) == (p == b.data));
        p = nl + 1;
    }
    seen_buf(b.data, b.len, v);
    assert_int_equal(v->headers, 1);
    mv_buf_release(&b);
    free(l);
    return v->segment[0];
}

static void seg_name(const char *path, int k, char *out, size_t n)
{
    assert_int_equal(mv__record_segment_path(path, k, out, n), 0);
}

static void unlink_segments(const char *path, int upto)
{
    char name[160];
    for (int k = 0; k <= upto; k++) {
        seg_name(path, k, name, sizeof name);
        unlink(name);
    }
}

/* Writes samples t = 1000, 2000, ... (count of them) through a recorder
 * capped at cap bytes keeping keep files. */
static mv__recorder *record_samples(const char *path, int64_t cap, int keep,
                                    int count)
{
    mv__record_header h = { "svc --port 1", 42, 500, 1000, 1 << 30 };
    mv__recorder *r = NULL;
    mv_sample s;
    assert_int_equal(mv__recorder_open_capped(path, &h, cap, keep, &r), 0);
    for (int i = 1; i <= count; i++) {
        sample_fill(&s, 1000 * i, 4096 * (i + 1));
        assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, 1.5, 3600.0), 0);
    }
    return r;
}

/* A tiny cap: FILE, FILE.1, FILE.2 and nothing else at keep 3; each file a
 * header then whole lines, under the cap; the samples run on without a gap
 * from FILE.2 through FILE; the oldest segments were dropped. */
static void test_rotate_files(void **state)
{
    char path[128], name[160];
    seen v[3];
    int64_t seg[3];
    struct stat st;

    (void)state;
    tmp_path(path, sizeof path);
    mv__recorder *r = record_samples(path, 1024, 3, 40);
    assert_int_equal(mv__recorder_lost(r), 0);
    mv__recorder_close(r);

    for (int k = 0; k < 3; k++) {
        seg_name(path, k, name, sizeof name);
        seg[k] = check_segment_file(name, 1024, &v[k]);
    }
    seg_name(path, 3, name, sizeof name);
    assert_int_equal(stat(name, &st), -1);           /* oldest dropped */
    assert_int_equal(errno, ENOENT);
    /* header ~170 bytes + 3 samples of ~265 fill 1 KiB: 14 segments */
    assert_true(seg[0] >= 10);
    assert_int_equal(seg[1], seg[0] - 1);
    assert_int_equal(seg[2], seg[0] - 2);
    /* oldest first: .2, .1, FILE; consecutive times across boundaries */
    int64_t want = v[2].t[0];
    assert_true(want > 1000);                       /* segment 1 is gone */
    for (int k = 2; k >= 0; k--) {
        assert_true(v[k].n >= 1);
        for (int i = 0; i < v[k].n; i++, want += 1000)
            assert_int_equal(v[k].t[i], want);
    }
    assert_int_equal(want, 41000);                  /* the last was 40000 */
    unlink_segments(path, 3);
}

/* The writer's file names, and keep 1: FILE starts over. */
static void test_rotate_keep_one(void **state)
{
    char path[128], name[160];
    seen v;
    struct stat st;

    (void)state;
    assert_int_equal(mv__record_segment_path("/a/b", 0, name, sizeof name), 0);
    assert_string_equal(name, "/a/b");
    assert_int_equal(mv__record_segment_path("/a/b", 12, name, sizeof name), 0);
    assert_string_equal(name, "/a/b.12");
    assert_int_equal(mv__record_segment_path("/a/b", 12, name, 7), -ENAMETOOLONG);

    tmp_path(path, sizeof path);
    /* header ~170 bytes + 3 samples of ~380 fill 1450 bytes: 7 samples
     * make segments 1 (1-3), 2 (4-6) and 3 (7) */
    mv__recorder *r = record_samples(path, 1450, 1, 7);
    mv__recorder_close(r);
    assert_int_equal(check_segment_file(path, 1450, &v), 3);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.t[0], 7000);
    seg_name(path, 1, name, sizeof name);
    assert_int_equal(stat(name, &st), -1);
    unlink(path);
}

/* Bad caps and counts are refused before anything is created. */
static void test_rotate_bad_args(void **state)
{
    char path[128];
    struct stat st;
    mv__record_header h = { NULL, 1, 0, 1000, MV_NA };
    mv__recorder *r = (mv__recorder *)1;
    mv__linefile *lf = (mv__linefile *)1;

    (void)state;
    tmp_path(path, sizeof path);
    assert_int_equal(mv__recorder_open_capped(path, &h, 1023, 4, &r), -EINVAL);
    assert_null(r);
    assert_int_equal(mv__recorder_open_capped(path, &h, 4096, -1, &r), -EINVAL);
    assert_int_equal(mv__recorder_open_capped(path, &h, 4096, 1001, &r), -EINVAL);
    assert_int_equal(mv__linefile_open(path, 0, -5, 0, NULL, NULL, &lf), -EINVAL);
    assert_null(lf);
    assert_int_equal(stat(path, &st), -1);
}

/* The event log's file: appended to (its old size counts), no header, the
 * same rotation. */
static void test_linefile_append(void **state)
{
    char path[128], name[160], line[200];
    mv__linefile *lf = NULL;
    mv_buf b = {0};

    (void)state;
    tmp_path(path, sizeof path);
    memset(line, 'a', 99);
    line[99] = '\n';
    write_text(path, "old line\n");                  /* 9 bytes */
    assert_int_equal(mv__linefile_open(path, 0, 1024, 2, NULL, NULL, &lf), 0);
    assert_int_equal(mv__linefile_regular(lf), 1);
    for (int i = 0; i < 10; i++)                     /* 9 + 1000: fits */
        assert_int_equal(mv__linefile_write(lf, line, 100), 0);
    assert_int_equal(mv__linefile_rotations(lf), 0);
    assert_int_equal(mv__linefile_write(lf, line, 100), 0);
    assert_int_equal(mv__linefile_rotations(lf), 1);
    mv__linefile_close(lf);

    assert_int_equal(mv__read_file(path, &b, 1 << 20), 100);
    seg_name(path, 1, name, sizeof name);
    assert_int_equal(mv__read_file(name, &b, 1 << 20), 1009);
    assert_int_equal(strncmp(b.data, "old line\naaaa", 13), 0);
    mv_buf_release(&b);
    unlink_segments(path, 1);
}

/* A FIFO whose reader stalled: a line waits a bounded time for room, then
 * is given up and counted lost (never a blocked writer); once the reader
 * drains the pipe, lines go through again. The same for a lent descriptor
 * (the event log's stderr), which close leaves open. */
static void test_linefile_stalled_pipe(void **state)
{
    char path[128], line[100];
    mv__linefile *lf = NULL;

    (void)state;
    alarm(30); /* a blocked write ends the test instead of hanging it */
    tmp_path(path, sizeof path);
    assert_int_equal(mkfifo(path, 0600), 0);
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    assert_int_equal(mv__linefile_open(path, 0, 0, 0, NULL, NULL, &lf), 0);
    assert_int_equal(mv__linefile_regular(lf), 0);
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    int lost_at = -1;
    for (int i = 0; i < 100000 && lost_at < 0; i++)  /* fill the pipe */
        if (mv__linefile_write(lf, line, sizeof line) != 0)
            lost_at = i;
    assert_true(lost_at > 0);
    assert_int_equal(mv__linefile_write(lf, line, sizeof line), -EAGAIN);
    assert_true(mv__linefile_lost(lf) >= 2);
    char sink[65536];
    while (read(rd, sink, sizeof sink) > 0) {
    }
    assert_int_equal(mv__linefile_write(lf, line, sizeof line), 0);
    mv__linefile_close(lf);

    /* a lent descriptor: same wait, and it stays open after close */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(fcntl(pfd[1], F_SETFL, O_NONBLOCK), 0);
    while (write(pfd[1], line, sizeof line) > 0) {
    }
    assert_int_equal(fcntl(pfd[1], F_SETFL, 0), 0);
    assert_int_equal(mv__linefile_from_fd(pfd[1], &lf), 0);
    assert_int_equal(mv__linefile_write(lf, line, sizeof line), -EAGAIN);
    assert_int_equal(mv__linefile_rotations(lf), 0);
    mv__linefile_close(lf);
    assert_true(fcntl(pfd[1], F_GETFD) >= 0);
    assert_int_equal(mv__linefile_from_fd(-1, &lf), -EINVAL);
    assert_null(lf);
    close(pfd[0]);
    close(pfd[1]);
    close(rd);
    unlink(path);
    alarm(0);
}

/* The disk fills up (RLIMIT_FSIZE: a write past it is cut short, then
 * EFBIG): the fragment is cut off, the line counted lost; a rotation whose
 * new header cannot be written writes it before the next line. */
static void test_rotate_disk_full(void **state)
{
    char path[128], name[160];
    struct rlimit old, lim;
    struct stat st;
    mv_sample s;
    seen v;
    void (*oldsig)(int);

    (void)state;
    tmp_path(path, sizeof path);
    /* header ~170 + 3 samples ~380 = ~1310 bytes; two more ~380-byte
     * samples fit under 2200, a third does not */
    mv__recorder *r = record_samples(path, 2200, 3, 3);
    assert_int_equal(stat(path, &st), 0);
    off_t good = st.st_size;

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    oldsig = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)good + 100;     /* room for a third of a line */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    sample_fill(&s, 4000, 1 << 20);
    int rc = mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);
    assert_int_equal(mv__recorder_lost(r), 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, good);    /* no fragment left */

    /* space again: lines 5 and 6 fit, 7 rotates; the new FILE's header
     * fails, so line 7 is lost; line 8 brings the header, then itself */
    for (int i = 5; i <= 6; i++) {
        sample_fill(&s, 1000 * i, 1 << 20);
        assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
    }
    lim.rlim_cur = 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    sample_fill(&s, 7000, 1 << 20);
    rc = mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);
    assert_int_equal(rc, -EFBIG);
    assert_int_equal(mv__recorder_lost(r), 2);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);       /* the header's fragment cut */
    sample_fill(&s, 8000, 1 << 20);
    assert_int_equal(mv__recorder_sample(r, &s, MV_LEVEL_OK, NAN, NAN), 0);
    mv__recorder_close(r);

    assert_int_equal(check_segment_file(path, 2200, &v), 2);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.t[0], 8000);
    seg_name(path, 1, name, sizeof name);
    assert_int_equal(check_segment_file(name, 2200, &v), 1);
    assert_int_equal(v.n, 5);              /* 1, 2, 3, 5, 6 */
    assert_int_equal(v.t[2], 3000);
    assert_int_equal(v.t[3], 5000);
    unlink_segments(path, 2);
}

/* ---- reading rotated recordings ---- */

/* The loader joins the kept files into one recording: one header (the
 * oldest kept, segment S-2), the samples continuous across boundaries. */
static void test_load_joins(void **state)
{
    char path[128];
    mv_buf b = {0};
    mv__record_join j;
    seen v;

    (void)state;
    tmp_path(path, sizeof path);
    mv__recorder *r = record_samples(path, 1024, 3, 40);
    mv__recorder_close(r);

    ssize_t n = mv__record_load(path, &b, 1 << 20, &j);
    assert_true(n > 0);
    assert_int_equal((size_t)n, b.len);
    seen_buf(b.data, b.len, &v);
    assert_int_equal(v.headers, 1);
    assert_int_equal(j.files, 3);
    assert_true(j.last_segment >= 10);
    assert_int_equal(j.first_segment, j.last_segment - 2);
    assert_int_equal(v.segment[0], j.first_segment);
    assert_int_equal(j.missing, 0);
    assert_int_equal(j.torn_dropped, 0);
    assert_true(v.n >= 5 && v.n <= 9);  /* 2 to 3 samples per 1 KiB file */
    for (int i = 0; i < v.n; i++)
        assert_int_equal(v.t[i], 40000 - 1000 * (v.n - 1 - i));
    assert_non_null(strstr(j.note, "joined 3 files"));
    assert_non_null(strstr(j.note, "rotated away"));

    /* Not rotated (segment 1; or no "segment" at all): read as it is. */
    write_text(path, HDR S1 S2);
    assert_int_equal(mv__record_load(path, &b, 1 << 20, &j), (ssize_t)strlen(HDR S1 S2));
    assert_string_equal(b.data, HDR S1 S2);
    assert_int_equal(j.files, 1);
    assert_int_equal(j.first_segment, MV_NA);
    assert_string_equal(j.note, "");
    /* Not a recording at all. */
    write_text(path, "0,100\n60,200\n");
    assert_int_equal(mv__record_load(path, &b, 1 << 20, &j), 13);
    assert_string_equal(j.note, "");
    assert_int_equal(mv__record_load(path, &b, 5, &j), -EFBIG);
    mv_buf_release(&b);
    unlink_segments(path, 3);
}

#define RH(seg, start) "{\"type\":\"header\",\"version\":1,\"command\":\"x\"," \
    "\"pid\":1,\"host\":\"h\",\"start_ms\":" start ",\"segment\":" seg "}\n"
#define RS(t) "{\"type\":\"sample\",\"t_ms\":" t ",\"rss\":1}\n"

/* A torn last line in a middle file is left out (not glued to the next
 * file's first line); a missing middle segment and a file of another
 * recording are notes, not errors. */
static void test_load_torn_and_missing(void **state)
{
    char path[128], name[160];
    mv_buf b = {0};
    mv__record_join j;
    seen v;

    (void)state;
    tmp_path(path, sizeof path);
    seg_name(path, 2, name, sizeof name);
    write_text(name, RH("1", "5") RS("10") RS("20"));
    seg_name(path, 1, name, sizeof name);
    write_text(name, RH("2", "5") RS("30") "{\"type\":\"sample\",\"t_");
    write_text(path, RH("3", "5") RS("40"));

    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    seen_buf(b.data, b.len, &v);
    assert_int_equal(v.headers, 1);
    assert_int_equal(v.n, 4);
    assert_int_equal(v.t[0], 10);
    assert_int_equal(v.t[2], 30);
    assert_int_equal(v.t[3], 40);
    assert_int_equal(j.files, 3);
    assert_int_equal(j.torn_dropped, 1);
    assert_non_null(strstr(j.note, "torn last line"));
    assert_int_equal(j.first_segment, 1);
    assert_int_equal(j.last_segment, 3);

    /* segment 2 missing: its file is gone, the join goes on */
    unlink(name);
    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    seen_buf(b.data, b.len, &v);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.t[2], 40);
    assert_int_equal(j.files, 2);
    assert_int_equal(j.missing, 1);
    assert_non_null(strstr(j.note, "1 segment(s) in between are missing"));

    /* a path.1 of another recording (other start) is skipped */
    write_text(name, RH("2", "6") RS("30"));
    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    assert_int_equal(j.files, 2);
    assert_int_equal(j.skipped, 1);
    assert_non_null(strstr(j.note, "another recording"));

    /* only FILE is left: read alone, with a note */
    unlink_segments(path, 2);
    write_text(path, RH("3", "5") RS("40"));
    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    assert_string_equal(b.data, RH("3", "5") RS("40"));
    assert_int_equal(j.files, 1);
    assert_non_null(strstr(j.note, "segment 3 of a rotated recording"));
    mv_buf_release(&b);
    unlink(path);
}

/* ---- streaming (issue 12, defect 9) ---- */

typedef struct others {
    int n;
    long long lineno[4];
    char name[4][160];
    double value[4];
    int64_t t[4];
    long long sample_lines[4];
    int samples;
} others;

static int others_visit(const mv__record_line *l, void *ctx)
{
    others *o = ctx;
    if (l->kind == MV_REC_SAMPLE && o->samples < 4)
        o->sample_lines[o->samples++] = l->lineno;
    if (l->kind == MV_REC_GAUGE && o->n < 4) {
        o->lineno[o->n] = l->lineno;
        snprintf(o->name[o->n], sizeof o->name[0], "%s", l->app.name);
        o->value[o->n] = l->app.value;
        o->t[o->n] = l->t_ms;
        o->n++;
    }
    return 0;
}

/* mv__record_read_ex: line numbers, application lines handed to the same
 * visitor, unknown kinds skipped, the torn last line reported. */
static void test_read_ex(void **state)
{
    (void)state;
    const char *text =
        RH("1", "5")
        "\n"
        RS("10")
        "{\"type\":\"gauge\",\"t_ms\":10,\"name\":\"g\",\"value\":1}\n"
        "{\"type\":\"span\",\"t_ms\":10,\"name\":\"s\"}\n"
        RS("20")
        "{\"type\":\"sample\",\"t_";
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    others o;
    memset(&o, 0, sizeof o);
    mv__record_read_info ri;
    char err[128];
    assert_int_equal(mv__record_read_ex(f, others_visit, &o, &ri, err,
                                        sizeof err), 0);
    fclose(f);
    assert_int_equal(o.samples, 2);
    assert_int_equal(o.sample_lines[0], 3);
    assert_int_equal(o.sample_lines[1], 6);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.lineno[0], 4);
    assert_string_equal(o.name[0], "g");
    assert_true(o.value[0] == 1);
    assert_int_equal(o.t[0], 10);
    assert_int_equal(ri.torn_line, 7);
    assert_int_equal(ri.lines, 7);
}

/* The joined stream is read as a FILE and holds no file: what it gives
 * equals mv__record_load's buffer; renaming the files after the open (a
 * rotation while reading) changes nothing; an earlier file that is not text
 * loses its rest, not the join, and when that is all of it the next file
 * keeps its header. */
static void test_stream(void **state)
{
    char path[128], n1[160], n2[160], n3[160];
    mv_buf b = {0};
    seen v;

    (void)state;
    tmp_path(path, sizeof path);
    seg_name(path, 1, n1, sizeof n1);
    seg_name(path, 2, n2, sizeof n2);
    seg_name(path, 3, n3, sizeof n3);
    write_text(n2, RH("1", "5") RS("10") RS("20"));
    write_text(n1, RH("2", "5") RS("30") "{\"type\":\"sample\",\"t_");
    write_text(path, RH("3", "5") RS("40"));

    mv__record_stream st;
    assert_int_equal(mv__record_stream_open(&st, path, 1 << 20, 0, NULL, NULL), 0);
    assert_int_equal(st.join.files, 3);
    assert_int_equal(st.size_bytes, (int64_t)(strlen(RH("1", "5") RS("10") RS("20")) +
        strlen(RH("2", "5") RS("30") "{\"type\":\"sample\",\"t_") +
        strlen(RH("3", "5") RS("40"))));
    assert_int_equal(st.head_len, strlen(RH("3", "5") RS("40")));
    /* a rotation now: FILE.2 -> FILE.3, FILE.1 -> FILE.2, FILE -> FILE.1 */
    assert_int_equal(rename(n2, n3), 0);
    assert_int_equal(rename(n1, n2), 0);
    assert_int_equal(rename(path, n1), 0);
    write_text(path, RH("4", "5") RS("50"));
    memset(&v, 0, sizeof v);
    char err[128];
    assert_int_equal(mv__record_read(st.f, seen_visit, &v, err, sizeof err), 0);
    assert_int_equal(st.error, 0);
    assert_int_equal(v.headers, 1);
    assert_int_equal(v.n, 4);
    assert_int_equal(v.t[0], 10);
    assert_int_equal(v.t[2], 30);
    assert_int_equal(v.t[3], 40);
    assert_int_equal(st.join.torn_dropped, 1);
    assert_non_null(strstr(st.join.note, "torn last line"));
    mv__record_stream_close(&st);
    mv__record_stream_close(&st);   /* closed twice: a no-op */
    unlink(n3);

    /* FILE.2 (segment 2) turns binary after its first read (64 KiB of
     * samples): its rest is left out, with a note; FILE.1 (segment 3) and
     * FILE go on */
    {
        FILE *f = fopen(n2, "w");
        assert_non_null(f);
        fputs(RH("2", "5"), f);
        for (int i = 0; i < 3000; i++)   /* t = 0 .. 29, over and over */
            fprintf(f, "{\"type\":\"sample\",\"t_ms\":%d,\"rss\":1}\n", i % 30);
        static const char bin[] = "{\"type\0\0\n";
        assert_int_equal(fwrite(bin, 1, sizeof bin - 1, f), sizeof bin - 1);
        assert_int_equal(fclose(f), 0);
    }
    mv__record_join j;
    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    assert_non_null(memmem(b.data, b.len, RS("40") RS("50"), strlen(RS("40") RS("50"))));
    assert_null(memchr(b.data, '\0', b.len));
    seen_buf(b.data, b.len, &v);
    assert_int_equal(v.headers, 1);
    assert_int_equal(v.segment[0], 2);
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    /* the header, FILE.2's samples of its first read only, 40 and 50 */
    assert_true(lines > 1000 && lines < 3000);
    assert_int_equal(j.skipped, 1);
    assert_non_null(strstr(j.note, "the rest of"));
    assert_non_null(strstr(j.note, "NUL byte"));

    /* nothing of FILE.2 given (a NUL in its first read): the header of
     * FILE.1 (segment 3) is the recording's */
    {
        FILE *f = fopen(n2, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(RH("2", "5") RS("30") "\0\n", 1,
                                strlen(RH("2", "5") RS("30")) + 2, f),
                         strlen(RH("2", "5") RS("30")) + 2);
        assert_int_equal(fclose(f), 0);
    }
    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    seen_buf(b.data, b.len, &v);
    assert_int_equal(v.headers, 1);
    assert_int_equal(v.segment[0], 3);
    assert_int_equal(v.n, 2);
    assert_int_equal(j.skipped, 1);
    mv_buf_release(&b);
    unlink_segments(path, 3);
}

/* A recording of more files than free descriptors is joined whole: an
 * earlier file is opened only when the stream reaches it (before, every
 * file was opened up front and the oldest were skipped at EMFILE, with the
 * note "segments 1-N were rotated away"). A file replaced after the open
 * is left out with a note, not read. */
static void test_stream_few_descriptors(void **state)
{
    enum { NSEG = 40 };
    char path[128], name[160], text[256];
    mv_buf b = {0};
    mv__record_join j;
    seen v;

    (void)state;
    tmp_path(path, sizeof path);
    for (int s = 1; s <= NSEG; s++) {   /* path.k holds segment NSEG - k */
        seg_name(path, NSEG - s, name, sizeof name);
        snprintf(text, sizeof text, "{\"type\":\"header\",\"version\":1,"
                 "\"command\":\"x\",\"pid\":1,\"host\":\"h\",\"start_ms\":5,"
                 "\"segment\":%d}\n{\"type\":\"sample\",\"t_ms\":%d,"
                 "\"rss\":1}\n", s, s * 10);
        write_text(name, text);
    }
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 16;   /* stdio, cmocka and a few: well under NSEG */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    ssize_t n = mv__record_load(path, &b, 1 << 20, &j);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_true(n > 0);
    seen_buf(b.data, b.len, &v);
    assert_int_equal(v.headers, 1);
    assert_int_equal(v.segment[0], 1);
    assert_int_equal(v.n, NSEG);
    for (int i = 0; i < NSEG; i++)
        assert_int_equal(v.t[i], (i + 1) * 10);
    assert_int_equal(j.files, NSEG);
    assert_int_equal(j.first_segment, 1);
    assert_int_equal(j.skipped, 0);
    assert_null(strstr(j.note, "rotated away"));

    /* path.3 (segment NSEG - 3) replaced after the open: left out */
    mv__record_stream st;
    assert_int_equal(mv__record_stream_open(&st, path, 1 << 20, 0, NULL, NULL), 0);
    seg_name(path, 3, name, sizeof name);
    snprintf(text, sizeof text, "%s.new", path);
    write_text(text, RH("37", "5") RS("999"));
    assert_int_equal(rename(text, name), 0);
    char err[128];
    memset(&v, 0, sizeof v);
    assert_int_equal(mv__record_read(st.f, seen_visit, &v, err, sizeof err), 0);
    assert_int_equal(v.n, NSEG - 1);
    assert_int_equal(v.t[NSEG - 5], (NSEG - 4) * 10);
    assert_int_equal(v.t[NSEG - 4], (NSEG - 2) * 10);
    assert_int_equal(st.join.files, NSEG - 1);
    assert_int_equal(st.join.skipped, 1);
    snprintf(text, sizeof text, "%s changed while reading (rotated?)", name);
    assert_non_null(strstr(st.join.note, text));
    mv__record_stream_close(&st);
    mv_buf_release(&b);
    unlink_segments(path, NSEG);
}

/* Segment numbers far out (2^63 - 1, -(2^63 - 1)) are not taken: no
 * overflow in the counts (UBSan), the file read alone or the stray earlier
 * file skipped. */
static void test_stream_segment_range(void **state)
{
    char path[128], n1[160], n2[160];
    mv_buf b = {0};
    mv__record_join j;

    (void)state;
    tmp_path(path, sizeof path);
    seg_name(path, 1, n1, sizeof n1);
    seg_name(path, 2, n2, sizeof n2);
    write_text(n1, RH("-9223372036854775807", "5") RS("10"));
    write_text(path, RH("9223372036854775807", "5") RS("20"));
    assert_int_equal(mv__record_load(path, &b, 1 << 20, &j),
                     (ssize_t)strlen(RH("9223372036854775807", "5") RS("20")));
    assert_string_equal(b.data, RH("9223372036854775807", "5") RS("20"));
    assert_int_equal(j.files, 1);
    assert_int_equal(j.first_segment, MV_NA);
    assert_int_equal(j.missing, 0);
    assert_non_null(strstr(j.note, "read alone"));

    /* segment 3 with a path.1 claiming -(2^63 - 1): skipped */
    write_text(n2, RH("1", "5") RS("10"));
    write_text(path, RH("3", "5") RS("30"));
    assert_true(mv__record_load(path, &b, 1 << 20, &j) > 0);
    assert_int_equal(j.files, 2);
    assert_int_equal(j.first_segment, 1);
    assert_int_equal(j.missing, 1);
    assert_int_equal(j.skipped, 1);
    assert_non_null(strstr(j.note, "is not 1 to 2^53"));
    assert_null(strstr(j.note, "rotated away"));
    mv_buf_release(&b);
    unlink_segments(path, 2);
}

/* Writes n sample lines (t = 0, 1, ...) after a header of segment seg. */
static void write_samples(const char *path, const char *seg, int n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"type\":\"header\",\"version\":1,\"command\":\"x\","
            "\"pid\":1,\"host\":\"h\",\"start_ms\":5,\"segment\":%s}\n", seg);
    for (int i = 0; i < n; i++)
        fprintf(f, "{\"type\":\"sample\",\"t_ms\":%d,\"rss\":1}\n", i);
    assert_int_equal(fclose(f), 0);
}

/* A file truncated while the stream reads it: what was read stays, and a
 * note says so (before, the result was silently shorter). */
static void test_stream_truncated(void **state)
{
    char path[128], n1[160], line[256];
    (void)state;
    tmp_path(path, sizeof path);
    seg_name(path, 1, n1, sizeof n1);

    /* path itself, 3 MiB: its first MiB is read at open time */
    write_samples(path, "1", 80000);
    mv__record_stream st;
    assert_int_equal(mv__record_stream_open(&st, path, 1 << 30, 0, NULL, NULL), 0);
    assert_non_null(fgets(line, sizeof line, st.f));
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    close(fd);
    size_t got = strlen(line);
    while (fgets(line, sizeof line, st.f))
        got += strlen(line);
    assert_false(ferror(st.f));
    assert_int_equal(st.error, 0);
    assert_true(got >= MV_RECORD_SNIFF_BYTES && got < ((size_t)2 << 20));
    assert_int_equal(st.join.truncated, 1);
    snprintf(line, sizeof line, "%s was truncated while being read", path);
    assert_non_null(strstr(st.join.note, line));
    mv__record_stream_close(&st);

    /* an earlier file, read in chunks after the open */
    write_samples(n1, "1", 5000);
    write_text(path, RH("2", "5") RS("99999"));
    assert_int_equal(mv__record_stream_open(&st, path, 1 << 30, 0, NULL, NULL), 0);
    assert_non_null(fgets(line, sizeof line, st.f));
    fd = open(n1, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 0), 0);
    close(fd);
    int has_last = 0;
    while (fgets(line, sizeof line, st.f))
        has_last |= strcmp(line, RS("99999")) == 0;
    assert_true(has_last);
    assert_int_equal(st.error, 0);
    assert_int_equal(st.join.truncated, 1);
    snprintf(line, sizeof line, "%s was truncated while being read", n1);
    assert_non_null(strstr(st.join.note, line));
    mv__record_stream_close(&st);
    unlink_segments(path, 1);
}

/* ---- endless and binary inputs (issue 12) ---- */

/* An endless stream of 'a' (no newline), stopping at 64 MiB so that a
 * reader that reads to the line's end fails the test rather than hangs. */
static ssize_t endless_read(void *cookie, char *buf, size_t size)
{
    size_t *served = cookie;
    if (*served >= ((size_t)64 << 20))
        return 0;
    memset(buf, 'a', size);
    *served += size;
    return (ssize_t)size;
}

static int count_visit(const mv__record_line *l, void *ctx)
{
    (void)l;
    (*(int *)ctx)++;
    return 0;
}

static void test_read_endless_line(void **state)
{
    (void)state;
    size_t served = 0;
    cookie_io_functions_t io = { .read = endless_read };
    FILE *f = fopencookie(&served, "r", io);
    assert_non_null(f);
    char err[128];
    int n = 0;
    assert_int_equal(mv__record_read(f, count_visit, &n, err, sizeof err), -EINVAL);
    assert_string_equal(err, "line 1: longer than 1 MiB");
    assert_true(served <= ((size_t)2 << 20));   /* stopped after its first MiB */
    fclose(f);
}

typedef struct sniff_seen {
    int calls;
    size_t len;
    int refuse;
} sniff_seen;

static int test_sniff(const char *head, size_t len, void *ctx, char *why,
                      size_t whylen)
{
    sniff_seen *s = ctx;
    s->calls++;
    s->len = len;
    assert_true(head[0] == 'y' || head[0] == '{');
    if (s->refuse) {
        snprintf(why, whylen, "no thanks");
        return -EINVAL;
    }
    return 0;
}

/* Writes n bytes of the repeated pattern to path. */
static void write_pattern(const char *path, const char *pat, size_t n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t k = strlen(pat);
    for (size_t i = 0; i < n; i += k)
        assert_int_equal(fwrite(pat, 1, n - i < k ? n - i : k, f), n - i < k ? n - i : k);
    assert_int_equal(fclose(f), 0);
}

static void test_load_text_refusals(void **state)
{
    (void)state;
    mv_buf b = {0};
    mv__record_join j;
    char path[128];

    /* /dev/zero: refused at its first byte, not after max_bytes */
    assert_int_equal(mv__record_load_text("/dev/zero", &b, (size_t)1 << 30, 0,
                                          NULL, NULL, &j), -EINVAL);
    assert_non_null(strstr(j.why, "a NUL byte at offset 0"));
    assert_int_equal(b.len, 0);

    /* the sniff sees exactly the first MiB of a longer input, once */
    tmp_path(path, sizeof path);
    write_pattern(path, "y\n", (size_t)3 << 20);
    sniff_seen s = { 0, 0, 0 };
    assert_int_equal(mv__record_load_text(path, &b, (size_t)1 << 30, 0,
                                          test_sniff, &s, &j), 3 << 20);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.len, MV_RECORD_SNIFF_BYTES);
    s.refuse = 1;
    assert_int_equal(mv__record_load_text(path, &b, (size_t)1 << 30, 0,
                                          test_sniff, &s, &j), -EINVAL);
    assert_string_equal(j.why, "no thanks");
    assert_int_equal(b.len, 0);
    /* ... and not at all a shorter one: the parsers judge it whole */
    write_pattern(path, "y\n", (size_t)1 << 20);
    s.calls = 0;
    assert_int_equal(mv__record_load_text(path, &b, (size_t)1 << 30, 0,
                                          test_sniff, &s, &j), 1 << 20);
    assert_int_equal(s.calls, 0);

    /* one 3 MiB line: over the line cap, unless it may be a JSON document,
     * which then has a cap of its own */
    write_pattern(path, "a", (size_t)3 << 20);
    assert_int_equal(mv__record_load(path, &b, (size_t)1 << 30, &j), -EINVAL);
    assert_string_equal(j.why, "line 1 is longer than 1 MiB: not a recording, "
                               "CSV or JSON file");
    write_pattern(path, "{", (size_t)3 << 20);
    assert_int_equal(mv__record_load(path, &b, (size_t)1 << 30, &j), -EINVAL);
    assert_int_equal(mv__record_load_text(path, &b, (size_t)1 << 30,
                                          (size_t)2 << 20, NULL, NULL, &j), -EINVAL);
    assert_string_equal(j.why, "a JSON document larger than 2 MiB");
    assert_int_equal(mv__record_load_text(path, &b, (size_t)1 << 30,
                                          (size_t)4 << 20, NULL, NULL, &j), 3 << 20);
    assert_string_equal(j.why, "");
    unlink(path);
    mv_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_linefile_stalled_pipe),
        cmocka_unit_test(test_file_shape),
        cmocka_unit_test(test_torn_last_line),
        cmocka_unit_test(test_garbage_in_middle),
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_unknown_type_and_keys),
        cmocka_unit_test(test_newer_version),
        cmocka_unit_test(test_visit_stops),
        cmocka_unit_test(test_parse_strict),
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_disk_full_told_once),
        cmocka_unit_test(test_disk_full_brief_spell),
        cmocka_unit_test(test_disk_full_edge_one_spell),
        cmocka_unit_test(test_disk_full_own_events_excused),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_read_endless_line),
        cmocka_unit_test(test_load_text_refusals),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_app_lines),
        cmocka_unit_test(test_version_keys),
        cmocka_unit_test(test_version1_and_2),
        cmocka_unit_test(test_app_changes_from_registry),
        cmocka_unit_test(test_rotate_files),
        cmocka_unit_test(test_rotate_keep_one),
        cmocka_unit_test(test_rotate_bad_args),
        cmocka_unit_test(test_linefile_append),
        cmocka_unit_test(test_rotate_disk_full),
        cmocka_unit_test(test_load_joins),
        cmocka_unit_test(test_load_torn_and_missing),
        cmocka_unit_test(test_read_ex),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_few_descriptors),
        cmocka_unit_test(test_stream_segment_range),
        cmocka_unit_test(test_stream_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
