/*
 * test_cli_heapurl.c — a remote heap profile checked and kept as a
 * snapshot (src/cli/heap/heapurl.c): what the check says of answers that
 * are not heap profiles, the digest that tells a re-served profile from a
 * new one (whatever the sample order), the store (temp + rename, pruning,
 * errors), and a fetch from a port where nothing listens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heapurl.h"
#include "pb_encode.h"
#include "pprof.h"

static void value_type(enc *e, uint64_t type, uint64_t unit)
{
    enc m = {.n = 0};
    put_int(&m, 1, type);
    put_int(&m, 2, unit);
    put_msg(e, 1, &m);
}

static void location(enc *e, uint64_t id, uint64_t addr)
{
    enc m = {.n = 0};
    put_int(&m, 1, id);
    put_int(&m, 3, addr);
    put_msg(e, 4, &m);
}

static void sample(enc *e, uint64_t loc, int64_t bytes)
{
    enc m = {.n = 0};
    uint64_t v[2] = {bytes ? 1 : 0, (uint64_t)bytes};
    put_packed(&m, 1, &loc, 1);
    put_packed(&m, 2, v, 2);
    put_msg(e, 2, &m);
}

/* A heap profile (inuse_objects, inuse_space) with two samples at
 * addresses 0x1000 and 0x2000; `swapped` lists them (and numbers their
 * locations) the other way round, as Go may from one answer to the next;
 * `zero` adds a sample of zeros; `type` names the second sample type. */
static void profile(enc *e, int swapped, int zero, int64_t bytes,
                    const char *type)
{
    static const char *strs[] = {"", "inuse_objects", "count", "", "bytes"};
    e->n = 0;
    value_type(e, 1, 2);
    value_type(e, 3, 4);
    location(e, 1, swapped ? 0x2000 : 0x1000);
    location(e, 2, swapped ? 0x1000 : 0x2000);
    location(e, 3, 0x3000);
    sample(e, swapped ? 2 : 1, bytes);
    sample(e, swapped ? 1 : 2, 4096);
    if (zero)
        sample(e, 3, 0);
    for (size_t i = 0; i < 5; i++) {
        const char *s = i == 3 ? type : strs[i];
        put_bytes(e, 6, s, strlen(s));
    }
}

static void test_check(void **state)
{
    enc e;
    char err[256];
    uint64_t d1 = 0, d2 = 0, d3 = 0, d4 = 0;
    (void)state;

    profile(&e, 0, 0, 65536, "inuse_space");
    assert_int_equal(cli_heapurl_check(e.b, e.n, &d1, err, sizeof err), 0);
    profile(&e, 1, 1, 65536, "inuse_space");
    assert_int_equal(cli_heapurl_check(e.b, e.n, &d2, err, sizeof err), 0);
    assert_true(d1 == d2); /* same samples, other order, plus zeros */
    profile(&e, 0, 0, 65536 + 4096, "inuse_space");
    assert_int_equal(cli_heapurl_check(e.b, e.n, &d3, err, sizeof err), 0);
    assert_true(d3 != d1);
    assert_int_equal(cli_heapurl_check(e.b, e.n, NULL, err, sizeof err), 0);

    profile(&e, 0, 0, 65536, "samples"); /* no inuse_space */
    assert_int_equal(cli_heapurl_check(e.b, e.n, &d4, err, sizeof err),
                     CLI_PPROF_ENOTYPE);
    assert_non_null(strstr(err, "without inuse_space"));
    assert_int_equal(cli_heapurl_check((const uint8_t *)"", 0, NULL, err,
                                       sizeof err), -EBADMSG);
    assert_string_equal(err, "an empty answer");
    static const char html[] = "\n  <!DOCTYPE html><html></html>";
    assert_int_equal(cli_heapurl_check((const uint8_t *)html, sizeof html - 1,
                                       NULL, err, sizeof err), -EBADMSG);
    assert_string_equal(err, "HTML or XML, not a profile");
    static const char text[] = "heap profile: 1: 2 [3: 4] @ heap/1048576\n";
    assert_int_equal(cli_heapurl_check((const uint8_t *)text, sizeof text - 1,
                                       NULL, err, sizeof err), -EBADMSG);
    assert_non_null(strstr(err, "?debug=1"));
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(cli_heapurl_check(junk, sizeof junk, NULL, err,
                                       sizeof err), -EBADMSG);
    assert_string_equal(err, "not a pprof profile");
    /* a torn gzip stream */
    static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00};
    assert_int_equal(cli_heapurl_check(gz, sizeof gz, NULL, err, sizeof err),
                     -EBADMSG);
}

static int exists(const char *dir, const char *name)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void test_store(void **state)
{
    char dir[] = "/tmp/mv_heapurl_XXXXXX";
    char path[512];
    enc e;
    (void)state;

    assert_non_null(mkdtemp(dir));
    profile(&e, 0, 0, 65536, "inuse_space");
    for (uint64_t seq = 1; seq <= 5; seq++)
        assert_int_equal(cli_heapurl_store(dir, 42, seq, 3, e.b, e.n), 0);
    /* keep 3: 1 and 2 pruned; no temp file left */
    assert_false(exists(dir, "heap-42-000001.pb.gz"));
    assert_false(exists(dir, "heap-42-000002.pb.gz"));
    assert_true(exists(dir, "heap-42-000003.pb.gz"));
    assert_true(exists(dir, "heap-42-000005.pb.gz"));
    assert_false(exists(dir, "heap-42-000005.pb.gz.tmp"));
    /* the stored file is the answer, readable as a profile */
    snprintf(path, sizeof path, "%s/heap-42-000005.pb.gz", dir);
    cli_pprof p;
    assert_int_equal(cli_pprof_load(path, &p), 0);
    assert_int_equal(p.nsamples, 2);
    cli_pprof_release(&p);
    /* a directory that is gone: an error, nothing half-written */
    char gone[600];
    snprintf(gone, sizeof gone, "%s/missing", dir);
    assert_int_equal(cli_heapurl_store(gone, 42, 6, 3, e.b, e.n), -ENOENT);
    /* a temp name that is taken (planted by another process: O_EXCL):
     * an error, and no snapshot appears */
    snprintf(path, sizeof path, "%s/heap-42-000007.pb.gz.tmp", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cli_heapurl_store(dir, 42, 7, 3, e.b, e.n), -EEXIST);
    assert_false(exists(dir, "heap-42-000007.pb.gz"));
    unlink(path);
    for (uint64_t seq = 3; seq <= 5; seq++) {
        snprintf(path, sizeof path, "%s/heap-42-%06llu.pb.gz", dir,
                 (unsigned long long)seq);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* A loopback port where nothing listens (bound, never listened on). */
static void test_fetch_refused(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    char url[128], err[512];
    uint8_t *body = (uint8_t *)1;
    size_t n = 1;
    long cause = 0;
    (void)state;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/debug/pprof/heap",
             ntohs(a.sin_port));
    cli_heapurl_opts o = {.url = url, .timeout_ms = 2000};
    assert_int_equal(cli_heapurl_fetch(&o, &body, &n, &cause, err, sizeof err),
                     -EIO);
    assert_null(body);
    assert_int_equal(n, 0);
    assert_true(cause != 0);
    assert_non_null(strstr(err, url));
    assert_non_null(strstr(err, "cannot fetch"));
    close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_fetch_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
