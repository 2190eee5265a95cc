/*
 * test_cli_ingest.c — analyze's input readers: format detection, CSV,
 * recordings and Prometheus JSON from bytes and fixture files, with the
 * exact error and warning messages for bad input.
 */
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

#include "ingest.h"

#define FIX MV_FIXTURES "/analyze/"

typedef struct got {
    cli_series_set set;
    mv_buf warn;
    char err[512];
    int rc;
} got;

static got *parse(const char *name, const char *text, const char *signal)
{
    got *g = calloc(1, sizeof *g);
    cli_ingest_opts o = {signal};

    assert_non_null(g);
    g->rc = cli_ingest_buffer(name, text, strlen(text), &o, &g->set, &g->warn,
                              g->err, sizeof g->err);
    return g;
}

static got *load(const char *file, const char *signal)
{
    got *g = calloc(1, sizeof *g);
    cli_ingest_opts o = {signal};
    char path[512];

    assert_non_null(g);
    snprintf(path, sizeof path, FIX "%s", file);
    g->rc = cli_ingest_file(path, &o, &g->set, &g->warn, g->err,
                            sizeof g->err);
    return g;
}

static void done(got *g)
{
    cli_series_set_release(&g->set);
    mv_buf_release(&g->warn);
    free(g);
}

/* Checks that err ends with want (the fixture path prefix varies). */
static void assert_err(const got *g, int rc, const char *want)
{
    size_t le = strlen(g->err), lw = strlen(want);

    assert_int_equal(g->rc, rc);
    if (le < lw || strcmp(g->err + le - lw, want) != 0)
        fail_msg("error \"%s\" does not end with \"%s\"", g->err, want);
    assert_int_equal(g->set.n, 0);
}

static void test_detect(void **state)
{
    (void)state;
    assert_int_equal(cli_ingest_detect("", 0), CLI_FMT_EMPTY);
    assert_int_equal(cli_ingest_detect(" \n\n\t", 4), CLI_FMT_EMPTY);
    assert_int_equal(cli_ingest_detect("0,1\n", 4), CLI_FMT_CSV);
    assert_int_equal(cli_ingest_detect("# c\nseconds,bytes\n", 18),
                     CLI_FMT_CSV);
    assert_int_equal(cli_ingest_detect("hello\n", 6), CLI_FMT_UNKNOWN);
    {
        const char *r = "{\"type\":\"sample\",\"t_ms\":1,\"private\":5}\n";
        const char *p = "{\"status\":\"success\",\"data\":{}}";

        assert_int_equal(cli_ingest_detect(r, strlen(r)), CLI_FMT_RECORDING);
        assert_int_equal(cli_ingest_detect(p, strlen(p)), CLI_FMT_PROMETHEUS);
    }
    assert_string_equal(cli_format_name(CLI_FMT_CSV), "csv");
}

static void test_csv_forms(void **state)
{
    got *g;

    (void)state;
    /* header, relative times, extra column ignored */
    g = parse("a.csv", "seconds,bytes,x\n0,1000,9\n60,2000,9\n", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.n, 1);
    assert_int_equal(g->set.s[0].format, CLI_FMT_CSV);
    assert_string_equal(g->set.s[0].source, "a.csv");
    assert_string_equal(g->set.s[0].signal, "bytes");
    assert_int_equal(g->set.s[0].n, 2);
    assert_int_equal(g->set.s[0].t_ms[1], 60000);
    assert_true(g->set.s[0].v[1] == 2000.0);
    assert_int_equal(g->set.s[0].limit_bytes, MV_NA);
    assert_null(g->set.s[0].limit);
    done(g);

    /* no header, absolute fractional seconds, CRLF, spaces, quotes */
    g = parse("b.csv", "1700000000.25, 5e3\r\n1700000001,\"6000\"\r\n", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 2);
    assert_int_equal(g->set.s[0].t_ms[0], 1700000000250LL);
    assert_true(g->set.s[0].v[0] == 5000.0);
    done(g);

    /* epoch milliseconds are recognised, not taken for seconds */
    g = load("csv_epoch_ms.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].t_ms[1] - g->set.s[0].t_ms[0], 60000);
    done(g);

    /* --signal picks a header column */
    g = load("csv_header.csv", "rss");
    assert_int_equal(g->rc, 0);
    assert_string_equal(g->set.s[0].signal, "rss");
    assert_true(g->set.s[0].v[2] == 5200.0);
    done(g);

    g = load("csv_header.csv", "heap");
    assert_err(g, -ENOENT, "csv_header.csv: line 1: no column named 'heap' "
               "in the header");
    done(g);

    g = parse("n.csv", "0,1\n1,2\n", "rss");
    assert_err(g, -ENOENT, "n.csv: --signal rss needs a CSV header naming "
               "the columns");
    done(g);

    /* ISO 8601 times (Z, offsets, a space, fractions, none = UTC) and a
     * unit in the value column's name */
    g = parse("iso.csv", "time,rss_kb\n"
              "2026-01-31T12:00:00Z,100\n"
              "2026-01-31 13:00:00.5+01:00,200\n"
              "2026-01-31T12:01:00-0030,300\n"
              "2026-02-01T00:00,400\n", NULL);
    assert_int_equal(g->rc, 0);
    assert_string_equal(g->set.s[0].signal, "rss_kb");
    assert_int_equal(g->set.s[0].n, 4);
    assert_int_equal(g->set.s[0].t_ms[0], 1769860800000LL);
    assert_int_equal(g->set.s[0].t_ms[1], 1769860800500LL);
    assert_int_equal(g->set.s[0].t_ms[2], 1769862660000LL);
    assert_int_equal(g->set.s[0].t_ms[3], 1769904000000LL);
    assert_true(g->set.s[0].v[0] == 100 * 1024.0);
    done(g);
    /* headerless ISO; units by name, or none */
    g = parse("i.csv", "2024-02-29T23:59:59Z,7\n2024-03-01T00:00:00Z,8\n",
              NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 2);
    assert_int_equal(g->set.s[0].t_ms[1] - g->set.s[0].t_ms[0], 1000);
    assert_true(g->set.s[0].v[1] == 8.0);
    done(g);
    g = parse("u.csv", "t,RSS (MiB),heap_GiB,memory_bytes,mb\n0,1,2,3,4\n",
              "heap_GiB");
    assert_true(g->set.s[0].v[0] == 2 * 1073741824.0);
    done(g);
    g = parse("u.csv", "t,RSS (MiB),heap_GiB,memory_bytes,mb\n0,1,2,3,4\n",
              NULL);
    assert_true(g->set.s[0].v[0] == 1048576.0);
    done(g);
    g = parse("u.csv", "t,RSS (MiB),heap_GiB,memory_bytes,mb\n0,1,2,3,4\n",
              "memory_bytes");
    assert_true(g->set.s[0].v[0] == 3.0);
    done(g);
    g = parse("u.csv", "t,RSS (MiB),heap_GiB,memory_bytes,KiB\n0,1,2,3,4\n",
              "KiB"); /* a name that is only a unit */
    assert_true(g->set.s[0].v[0] == 4 * 1024.0);
    assert_non_null(strstr(g->warn.data,
                           "u.csv: column 'KiB' read in KiB (x 1024 bytes)"));
    done(g);
    g = parse("u.csv", "t,rssKB,mb2\n0,1,2\n", NULL); /* not units */
    assert_true(g->set.s[0].v[0] == 1.0);
    assert_int_equal(g->warn.len, 0);
    done(g);
    /* a value made infinite by its unit is refused like "inf" */
    g = parse("x.csv", "t,rss_gb\n0,1\n60,1e300\n", NULL);
    assert_err(g, -EINVAL, "x.csv: line 3: value is infinite");
    done(g);

    /* comments, blank lines */
    g = load("csv_relative.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 3);
    assert_int_equal(g->set.s[0].t_ms[0], 500);
    assert_true(g->set.s[0].v[2] == 300.0);
    done(g);
}

static void test_csv_little_data(void **state)
{
    got *g;

    (void)state;
    g = load("empty.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.n, 1);
    assert_int_equal(g->set.s[0].n, 0);
    assert_string_equal(g->set.s[0].note, "empty input: no data points");
    done(g);

    g = load("header_only.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 0);
    assert_string_equal(g->set.s[0].note, "no data points (only a header)");
    done(g);

    g = load("one_point.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 1);
    assert_string_equal(g->set.s[0].note, "only one data point");
    done(g);
}

static void test_csv_errors(void **state)
{
    static const struct { const char *file, *msg; } cases[] = {
        {"nonmono.csv", "nonmono.csv: line 4: timestamp 30 is before the "
                        "previous one (60 at line 3); timestamps must "
                        "increase"},
        {"duplicate.csv", "duplicate.csv: line 3: duplicate timestamp 60 "
                          "(also at line 2)"},
        {"nan.csv", "nan.csv: line 2: value is NaN"},
        {"negative.csv", "negative.csv: line 2: negative value -5 (memory "
                         "cannot be negative)"},
        {"garbage.csv", "garbage.csv: line 3: bad timestamp 'hello world' "
                        "(expected seconds, as on the lines before)"},
        {"unknown.txt", "unknown.txt: unknown format: expected a memvigil "
                        "recording (JSON lines), CSV 'seconds,bytes' or a "
                        "Prometheus query_range JSON response"},
    };
    size_t i;
    got *g;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g = load(cases[i].file, NULL);
        assert_err(g, -EINVAL, cases[i].msg);
        done(g);
    }
    {
        /* inline inputs, named x.csv */
        static const struct { const char *text, *msg; } inl[] = {
            {"0,1\n1,inf\n", "line 2: value is infinite"},
            {"0,1\n1\n", "line 2: expected 'seconds,bytes' (at least two "
                         "comma-separated fields)"},
            {"2026-01-31T12:00:00Z,1\n60,2\n", "line 2: bad timestamp '60' "
             "(expected an ISO 8601 date-time, as on the lines before)"},
            {"0,1\n2026-01-31T12:00:00Z,2\n", "line 2: bad timestamp "
             "'2026-01-31T12:00:00Z' (expected seconds, as on the lines "
             "before)"},
            {"t,b\n2026-02-30T12:00:00Z,1\n", "line 2: bad timestamp "
             "'2026-02-30T12:00:00Z' (expected seconds or an ISO 8601 "
             "date-time)"},
            {"t,b\n2026-01-31T12:00:00Zjunk,1\n", "line 2: bad timestamp "
             "'2026-01-31T12:00:00Zjunk' (expected seconds or an ISO 8601 "
             "date-time)"},
            {"t,b\n2026-01-31T12:00:00+01:,1\n", "line 2: bad timestamp "
             "'2026-01-31T12:00:00+01:' (expected seconds or an ISO 8601 "
             "date-time)"},
            {"0,1\n1,12kB\n2,3\n", "line 2: bad value '12kB' (expected "
             "bytes as a number)"},
        };
        char want[256];

        for (i = 0; i < sizeof inl / sizeof inl[0]; i++) {
            snprintf(want, sizeof want, "x.csv: %s", inl[i].msg);
            g = parse("x.csv", inl[i].text, NULL);
            assert_err(g, -EINVAL, want);
            done(g);
        }
    }
    {
        static const char bin[] = "0,1\n\x01\x02,\x00zz\n";
        got *b = calloc(1, sizeof *b);

        b->rc = cli_ingest_buffer("bin", bin, sizeof bin - 1, NULL, &b->set,
                                  &b->warn, b->err, sizeof b->err);
        assert_err(b, -EINVAL, "bin: line 2: binary data (a NUL byte); not a "
                   "recording, CSV or Prometheus JSON file");
        done(b);
    }
    g = load("no_such_file.csv", NULL);
    assert_err(g, -ENOENT, "no_such_file.csv: No such file or directory");
    done(g);
}

static void test_csv_torn(void **state)
{
    got *g;

    (void)state;
    g = load("torn.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 2);
    assert_non_null(strstr(g->warn.data, "torn.csv: line 3: incomplete last "
                                         "line (no newline) skipped\n"));
    done(g);
    /* a last line without newline that parses is kept, silently */
    g = load("torn_ok.csv", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 3);
    assert_int_equal(g->warn.len, 0);
    done(g);
}

static void test_recording(void **state)
{
    got *g;
    const cli_series *s;

    (void)state;
    g = load("rec_small.jsonl", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.n, 1);
    s = &g->set.s[0];
    assert_int_equal(s->format, CLI_FMT_RECORDING);
    assert_string_equal(s->signal, "private");
    /* 4 samples, one with private null (skipped), torn last line skipped */
    assert_int_equal(s->n, 3);
    assert_true(s->v[0] == 1000.0 && s->v[1] == 1100.0 && s->v[2] == 1400.0);
    assert_int_equal(s->t_ms[2], 1700000180000LL);
    /* limit: the header's until samples know it, then theirs */
    assert_int_equal(s->limit[0], 2147483648LL);
    assert_int_equal(s->limit[1], 1073741824LL);
    assert_int_equal(s->limit_bytes, 1073741824LL);
    /* the import phase ran from 30 s to 150 s */
    assert_int_equal(s->phase[0], 0);
    assert_int_equal(s->phase[1], 1);
    assert_int_equal(s->phase[2], 0);
    assert_non_null(strstr(g->warn.data, "rec_small.jsonl: line 8: "
                           "incomplete last line (no newline) skipped\n"));
    assert_non_null(strstr(g->warn.data, "rec_small.jsonl: line 5: private "
                           "is null in 1 of 4 samples (first here); those "
                           "samples were skipped\n"));
    done(g);

    g = load("rec_small.jsonl", "rss");
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 4);
    assert_true(g->set.s[0].v[3] == 3300.0);
    done(g);

    g = load("rec_small.jsonl", "heap");
    assert_err(g, -ENOENT, "rec_small.jsonl: a recording has no signal "
               "'heap' (one of: private, rss, anon, file, shmem, swap, "
               "working_set, cg_usage)");
    done(g);

    g = load("rec_small.jsonl", "working_set");
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.s[0].n, 0);
    assert_string_equal(g->set.s[0].note,
                        "working_set is null in all 4 samples");
    done(g);

    g = load("rec_nosamples.jsonl", NULL);
    assert_int_equal(g->rc, 0);
    assert_string_equal(g->set.s[0].note, "no samples in the recording");
    done(g);

    g = load("rec_nonmono.jsonl", NULL);
    assert_err(g, -EINVAL, "rec_nonmono.jsonl: line 4: t_ms 1700000030000 is "
               "before the previous sample's (1700000060000 at line 3); "
               "timestamps must increase");
    done(g);

    g = load("rec_garbage.jsonl", NULL);
    assert_err(g, -EINVAL, "rec_garbage.jsonl: line 3: field \"private\": "
               "expected an integer or null");
    done(g);

    /* lines before any header have this version's keys */
    g = parse("d.jsonl", "{\"type\":\"sample\",\"timestamp_ms\":5,"
              "\"private_bytes\":1}\n\n"
              "{\"type\":\"sample\",\"timestamp_ms\":5,"
              "\"private_bytes\":2}\n", NULL);
    assert_err(g, -EINVAL, "d.jsonl: line 3: duplicate timestamp "
               "timestamp_ms 5 (also at line 1)");
    done(g);

    g = parse("n.jsonl", "{\"type\":\"sample\",\"timestamp_ms\":5,"
              "\"private_bytes\":-7}\n", NULL);
    assert_err(g, -EINVAL, "n.jsonl: line 1: negative private -7 (memory "
               "cannot be negative)");
    done(g);
}

static void test_prometheus(void **state)
{
    got *g;
    char lt[128];

    (void)state;
    g = load("prom_matrix.json", NULL);
    assert_int_equal(g->rc, 0);
    assert_int_equal(g->set.n, 2);
    assert_int_equal(g->set.s[0].format, CLI_FMT_PROMETHEUS);
    assert_string_equal(g->set.s[0].signal, "mem");
    assert_string_equal(cli_series_label(&g->set.s[0], "job"), "api");
    assert_string_equal(cli_series_label(&g->set.s[0], "instance"),
                        "h1:9464");
    assert_null(cli_series_label(&g->set.s[0], "nope"));
    assert_string_equal(cli_series_labels_text(&g->set.s[0], lt, sizeof lt),
                        "{job=\"api\", instance=\"h1:9464\"}");
    assert_int_equal(g->set.s[0].n, 3);
    assert_int_equal(g->set.s[0].t_ms[2], 1700000120500LL);
    assert_true(g->set.s[0].v[2] == 3000.0);
    assert_int_equal(g->set.s[1].n, 1);
    assert_string_equal(g->set.s[1].note, "only one data point");
    done(g);

    g = load("prom_error.json", NULL);
    assert_err(g, -EINVAL, "prom_error.json: Prometheus error: bad_data: "
               "invalid parameter \"query\": 1:1: parse error");
    done(g);
    g = load("prom_vector.json", NULL);
    assert_err(g, -EINVAL, "prom_vector.json: resultType is 'vector', not "
               "'matrix': analyze needs a range query (/api/v1/query_range)");
    done(g);
    g = load("prom_nan.json", NULL);
    assert_err(g, -EINVAL, "prom_nan.json: series 2 mem{job=\"b\"}: point 2 "
               "(t=1700000060.000): value is NaN");
    done(g);
    g = load("prom_torn.json", NULL);
    assert_int_equal(g->rc, -EINVAL);
    assert_non_null(strstr(g->err, "prom_torn.json: line 1: invalid JSON"));
    done(g);
    g = parse("e.json", "{\"status\":\"success\",\"data\":{\"resultType\":"
              "\"matrix\",\"result\":[]}}", NULL);
    assert_err(g, -EINVAL, "e.json: the response holds no series (the query "
               "matched nothing in that time range)");
    done(g);
    g = parse("o.json", "{\"hello\":1}", NULL);
    assert_err(g, -EINVAL, "o.json: unknown format: a JSON document that is "
               "not a Prometheus query_range response (needs \"status\": "
               "\"success\" and a \"data\" object)");
    done(g);
    g = parse("b.json", "{\"status\":\"success\",\"data\":{\"resultType\":"
              "\"matrix\",\"result\":[{\"metric\":{},\"values\":[[1,\"5\"],"
              "[2,\"-1\"]]}]}}", NULL);
    assert_err(g, -EINVAL, "b.json: series 1 {}: point 2 (t=2.000): negative "
               "value -1 (memory cannot be negative)");
    done(g);
    g = parse("w.json", "{\"status\":\"success\",\"warnings\":[\"slow\"],"
              "\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":"
              "{},\"values\":[[1,\"5\"],[2,\"6\"]]}]}}", NULL);
    assert_int_equal(g->rc, 0);
    assert_string_equal(g->warn.data, "w.json: Prometheus warning: slow\n");
    assert_string_equal(g->set.s[0].signal, "value");
    done(g);
}

static void test_request_url(void **state)
{
    cli_prom_query q = {"http://127.0.0.1:9090/", "rate(x{job=\"a b\"}[5m])",
                        3600000, 60000, 1700000000000LL, 0};
    char *u = cli_prom_request_url(&q);

    (void)state;
    assert_non_null(u);
    assert_string_equal(u, "http://127.0.0.1:9090/api/v1/query_range?query="
                        "rate%28x%7Bjob%3D%22a%20b%22%7D%5B5m%5D%29"
                        "&start=1699996400.000&end=1700000000.000"
                        "&step=60.000");
    free(u);
}

static void test_fetch_errors(void **state)
{
    cli_prom_query q = {"http://127.0.0.1:1", "up", 3600000, 60000, 0, 2000};
    cli_series_set set = {0};
    char err[512];
    int rc;

    (void)state;
    /* port 1 on loopback: nothing listens, the connection is refused */
    rc = cli_ingest_fetch(&q, NULL, &set, NULL, err, sizeof err);
    assert_int_equal(rc, -EIO);
    assert_non_null(strstr(err, "http://127.0.0.1:1: cannot fetch: "));
    assert_int_equal(set.n, 0);
    cli_series_set_release(&set);
}

/* The first MiB of a long input (issue 12): judged by the same parsers
 * before the rest is read; a JSON document gets the document cap. */
static void test_sniff(void **state)
{
    (void)state;
    enum { HEAD = 1 << 20 };
    char *head = malloc(HEAD);
    char why[512];
    assert_non_null(head);
    cli_ingest_sniff_ctx c = { "in", NULL };

    for (size_t i = 0; i < HEAD; i += 2)
        memcpy(head + i, "y\n", 2);
    assert_int_equal(cli_ingest_sniff(head, HEAD, &c, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "unknown format"));

    /* CSV whose third line is garbage: the CSV parser's own words */
    int k = snprintf(head, HEAD, "seconds,bytes\n1,100\nx,y\n");
    memset(head + k, '\n', HEAD - (size_t)k);
    assert_int_equal(cli_ingest_sniff(head, HEAD, &c, why, sizeof why), -EINVAL);
    assert_true(strncmp(why, "line 3: ", 8) == 0);

    /* good CSV lines and a cut last line: read on */
    size_t off = 0;
    for (int i = 1; off + 32 < HEAD; i++)
        off += (size_t)snprintf(head + off, HEAD - off, "%d,%d\n", i, 1000 + i);
    memset(head + off, '7', HEAD - off);
    assert_int_equal(cli_ingest_sniff(head, HEAD, &c, why, sizeof why), 0);

    /* a JSON document: read on, capped */
    memset(head, ' ', HEAD);
    memcpy(head, "{\"status\":\"success\",\"data\":{", 28);
    assert_int_equal(cli_ingest_sniff(head, HEAD, &c, why, sizeof why),
                     (int)CLI_INGEST_MAX_DOC);
    free(head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_csv_forms),
        cmocka_unit_test(test_csv_little_data),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_torn),
        cmocka_unit_test(test_recording),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_request_url),
        cmocka_unit_test(test_fetch_errors),
        cmocka_unit_test(test_sniff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
