/* test_sample_json.c — one name per sample field in every JSON output of
 * the library: the status document (/api/v1/status), an event line (the
 * event log, `--json`, the status document's events) and the live page's
 * samples document all name a field of mv_sample by its member, the key of
 * the one table (sample_fields.h).
 *
 * How: one sample whose every field holds a value no other field holds is
 * rendered by each output; jq then lists every number of the document with
 * the nearest key above it (a column's key for the numbers in its array).
 * Wherever a field's value appears, its key must be the field's member, and
 * no key of the old spellings (anon_bytes, ratio, ts, limit ...) may remain.
 * The CLI's outputs (run/watch --json, inspect --json) are checked the same
 * way by tests/integration/json_keys.sh. */
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
#include "expose.h"
#include "livepage.h"
#include "sample_fields.h"
#include "sample_json.h"
#include "util.h"

/* ---- one sample, every field distinct ---- */

/* Values far from any other number of the documents (counts, ratios,
 * levels, capacities), and from each other. */
#define BIG(k) (1000003LL + 10007LL * (k))

static void fill(mv_sample *s)
{
    const mv_psi na = {NAN, NAN, NAN, MV_NA};
    int k = 0;

    memset(s, 0, sizeof *s);
#define SET_I64(m) s->m = BIG(k);
#define SET_LIM(m) s->m = BIG(k);
#define SET_I32(m) s->m = (int32_t)(70001 + k);
#define SET_INT(m) s->m = 2;
#define SET_DBL(m) s->m = 0.123456789 + k / 1e6;
#define X(member, type, where, help) SET_##type(member) k++;
    MV_SAMPLE_FIELDS(X)
#undef X
    snprintf(s->cgroup_path, sizeof s->cgroup_path, "/h2.slice");
    s->cg_psi_some = s->cg_psi_full = s->sys_psi_some = s->sys_psi_full = na;
    s->limit_source = MV_LIMIT_CONFIG;
}

/* The expected values as a JSON object {member: value}: all fields, or
 * those marked REC. Written here by hand (not by the code under test). */
static void want_json(const mv_sample *s, int rec_only, char *out, size_t n)
{
    size_t len = 0;
    int first = 1;
#define W_REC 1
#define W_ALL 0
#define W_ALC (s->alloc_kind != 0)
#define FMT_I64(m) "%lld", (long long)s->m
#define FMT_LIM(m) "%lld", (long long)s->m
#define FMT_I32(m) "%d", (int)s->m
#define FMT_INT(m) "%d", s->m
#define FMT_DBL(m) "%.17g", s->m
#define X(member, type, where, help)                                          \
    if (!rec_only || W_##where) {                                              \
        len += (size_t)snprintf(out + len, n - len, "%s\"" #member "\":",      \
                                first ? "{" : ",");                            \
        len += (size_t)snprintf(out + len, n - len, FMT_##type(member));       \
        first = 0;                                                             \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
    snprintf(out + len, n - len, "}");
    assert_true(len + 1 < n);
}

/* ---- jq ---- */

/* Runs jq -e -c with $want bound to want on json; 0 when the filter's
 * result is truthy. out gets the result. */
static int jq(const char *json, const char *want, const char *filter, char *out,
              size_t n)
{
    char doc[] = "/tmp/mv_test_sample_json_XXXXXX";
    char prog[] = "/tmp/mv_test_sample_jq_XXXXXX";
    char wantf[] = "/tmp/mv_test_sample_want_XXXXXX";
    int fd;
    FILE *f;

    assert_true((fd = mkstemp(doc)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs(json, f);
    fclose(f);
    assert_true((fd = mkstemp(prog)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs(filter, f);
    fclose(f);
    assert_true((fd = mkstemp(wantf)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs(want, f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "jq -e -c --slurpfile w %s -f %s < %s 2>&1", wantf,
             prog, doc);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    while (got && out[got - 1] == '\n')
        out[--got] = '\0';
    int st = pclose(p);
    unlink(doc);
    unlink(prog);
    unlink(wantf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Every number of the document with its key; those equal to a field's value
 * under another key than the field's are listed (must be none). */
static const char misnamed[] =
    "$w[0] as $want"
    " | [paths(numbers) as $p | {k: ([$p[] | strings] | last), v: getpath($p)}]"
    " | map(. as $n | ($want | to_entries | map(select(.value == $n.v and"
    "     (.value >= 1000 or .value != (.value | floor))))) as $f"
    "     | select(($f | length) > 0 and ($f | map(.key) | index($n.k)) == null)"
    "     | {key: $n.k, value: $n.v, field: $f[0].key})"
    " | if length == 0 then true else . end";

/* Keys of the spellings before the table (status lines, events, inspect,
 * the live page, the recording): none may remain in any output. */
static const char old_keys[] =
    "[.. | objects | keys[]] | map(select(IN(\"anon\", \"anon_bytes\", \"rss\","
    " \"file\", \"file_bytes\", \"shmem\", \"shmem_bytes\", \"swap\", \"private\","
    " \"working_set\", \"limit\", \"limit_bytes\", \"ratio\", \"t\", \"t_ms\","
    " \"ts\", \"ts_ms\", \"cgroup\", \"oom_kill_count\", \"oom_kill\", \"cg_usage\","
    " \"growth_bps\", \"ttl_s\", \"growth_bytes_per_s\", \"time_to_limit_s\","
    " \"eta_s\", \"growth_bytes_per_h\", \"usage_bytes\", \"high_bytes\")))"
    " | if length == 0 then true else . end";

static void assert_jq(const char *json, const char *want, const char *filter)
{
    char out[4096];
    int rc = jq(json, want, filter, out, sizeof out);
    if (rc != 0 || strcmp(out, "true") != 0)
        fail_msg("jq: %s\non: %.600s", out, json);
}

/* ---- the outputs ---- */

static void event_of(mv_event *ev, const mv_sample *s)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = MV_EVENT_GROWTH;
    ev->level = MV_LEVEL_WARNING;
    ev->timestamp_ms = s->timestamp_ms;
    ev->growth_bytes_per_s = 12.5;
    ev->time_to_limit_s = 321.0;
    ev->sample = s;
    snprintf(ev->message, sizeof ev->message, "growth");
}

static void test_status_document(void **state)
{
    (void)state;
    static char all[8192];
    mv_sample s;
    mv_event ev;
    mv__expose_state st;
    mv_buf b = {0};

    fill(&s);
    want_json(&s, 0, all, sizeof all);
    event_of(&ev, &s);
    memset(&st, 0, sizeof st);
    st.sample = &s;
    st.level = MV_LEVEL_WARNING;
    st.growth_bytes_per_s = 12.5;
    st.growth_window_s = 60;
    st.time_to_limit_s = 321.0;
    st.target_alive = 1;
    st.events = &ev;
    st.nevents = 1;
    assert_int_equal(mv__expose_render(&st, MV_FORMAT_JSON, &b), 0);
    /* every field of the table, by its member name, with its value */
    assert_jq(b.data, all,
              "$w[0] as $want | .sample as $s"
              " | [$want | to_entries[] | select($s[.key] != .value)]"
              " | if length == 0 then true else . end");
    assert_jq(b.data, all, misnamed);
    assert_jq(b.data, all, old_keys);
    /* the scalars written by hand */
    assert_jq(b.data, all, ".sample.cgroup_path == \"/h2.slice\" and"
                           " .sample.limit_source == \"config\" and"
                           " .sample.cg_psi_some.avg10 == null");
    /* the growth figures under the names every output uses */
    assert_jq(b.data, all, ".growth_bytes_per_second == 12.5 and"
                           " .time_to_limit_seconds == 321");
    mv_buf_release(&b);
}

static void test_event_line(void **state)
{
    (void)state;
    static char all[8192], rec[4096];
    mv_sample s;
    mv_event ev;
    mv_buf b = {0};

    fill(&s);
    want_json(&s, 0, all, sizeof all);
    want_json(&s, 1, rec, sizeof rec);
    event_of(&ev, &s);
    assert_int_equal(mv__event_to_json(&ev, &b), 0);
    /* the short set, every member by its name; timestamp_ms is the line's */
    assert_jq(b.data, rec,
              "$w[0] as $want | . as $e"
              " | [$want | to_entries[] | select($e[.key] != .value)]"
              " | if length == 0 then true else . end");
    assert_jq(b.data, all, misnamed);
    assert_jq(b.data, all, old_keys);
    assert_jq(b.data, all, ".time == \"1970-01-01T00:16:40.003Z\" and .pid == 70003"
                           " and .cgroup_path == \"/h2.slice\""
                           " and .growth_bytes_per_second == 12.5"
                           " and .time_to_limit_seconds == 321");
    /* an unset limit: "max", as in the status document */
    s.effective_limit_bytes = MV_UNLIMITED;
    mv__buf_reset(&b);
    assert_int_equal(mv__event_to_json(&ev, &b), 0);
    assert_jq(b.data, all, ".effective_limit_bytes == \"max\"");
    mv__buf_reset(&b);
    assert_int_equal(mv__sample_to_json(&b, &s), 0);
    assert_jq(b.data, all, ".effective_limit_bytes == \"max\"");
    mv_buf_release(&b);
}

static void test_live_samples(void **state)
{
    (void)state;
    static char all[8192];
    mv_sample s;
    mv_event ev;
    mv__live_point p;
    mv__live_extra x;
    mv_buf b = {0};

    fill(&s);
    want_json(&s, 0, all, sizeof all);
    event_of(&ev, &s);
    mv__live_point_from(&p, &s, MV_LEVEL_WARNING);
    memset(&x, 0, sizeof x);
    x.now_ms = 5;
    x.interval_ms = 1000;
    x.target_alive = 1;
    x.level = MV_LEVEL_WARNING;
    x.warning_ratio = 0.8;
    x.critical_ratio = 0.9;
    x.growth_bytes_per_s = 12.5;
    x.time_to_limit_s = 321.0;
    x.events = &ev;
    x.nevents = 1;
    assert_int_equal(mv__live_render_json(&p, 1, 0, 720, &x, &b), 0);
    assert_jq(b.data, all, misnamed);
    assert_jq(b.data, all, old_keys);
    /* the columns the page draws, named after their fields */
    assert_jq(b.data, all,
              "$w[0] as $want | .samples as $c"
              " | [\"timestamp_ms\", \"rss_bytes\", \"rss_anon_bytes\","
              "    \"rss_file_bytes\", \"rss_shmem_bytes\", \"swap_bytes\","
              "    \"working_set_bytes\", \"private_bytes\", \"effective_limit_bytes\"]"
              " | map(select($c[.][0] != $want[.])) | if length == 0 then true else . end");
    assert_jq(b.data, all, ".growth_bytes_per_second == 12.5 and"
                           " .time_to_limit_seconds == 321 and"
                           " .events[0].timestamp_ms == $w[0].timestamp_ms");
    mv_buf_release(&b);
}

/* The short set is a subset, in the table's order; the flags do what they
 * say; a failed append leaves the buffer as it was. */
static void test_fields_flags(void **state)
{
    (void)state;
    mv_sample s;
    mv_buf b = {0};

    fill(&s);
    assert_int_equal(mv__sample_json_fields(&b, &s, MV__SJ_REC | MV__SJ_NO_TIMESTAMP), 0);
    assert_null(strstr(b.data, "\"timestamp_ms\""));
    assert_null(strstr(b.data, "\"threads\""));   /* ALL only */
    assert_non_null(strstr(b.data, "\"usage_ratio\":"));
    assert_true(b.data[0] == ',');
    mv__buf_reset(&b);
    assert_int_equal(mv__sample_json_fields(&b, &s, 0), 0);
    assert_non_null(strstr(b.data, ",\"timestamp_ms\":1000003,"));
    assert_non_null(strstr(b.data, "\"threads\":"));
    assert_int_equal(mv__sample_json_fields(NULL, &s, 0), -EINVAL);
    assert_int_equal(mv__sample_json_fields(&b, NULL, 0), -EINVAL);
    assert_int_equal(mv__sample_to_json(&b, NULL), -EINVAL);
    mv__buf_reset(&b);
    assert_int_equal(mv__json_line_time(&b, 1714564800123LL), 0);
    assert_string_equal(b.data, "\"time\":\"2024-05-01T12:00:00.123Z\","
                                "\"timestamp_ms\":1714564800123");
    mv_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_document),
        cmocka_unit_test(test_event_line),
        cmocka_unit_test(test_live_samples),
        cmocka_unit_test(test_fields_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
