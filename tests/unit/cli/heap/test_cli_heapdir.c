/*
 * test_cli_heapdir.c — following a snapshot directory (src/cli/heap/heapdir.c):
 * snapshots deleted between the listing and their reading, and snapshots
 * without the inuse_space sample type. Profiles are raw profile.proto
 * messages from a tiny encoder; cli_pprof_load is wrapped (-Wl,--wrap, see
 * tests/CMakeLists.txt) so a test can delete a file just before it is read,
 * as the preload library's pruning does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapdir.h"
#include "pb_encode.h"

/* ---- cli_pprof_load, with a file deleted just before its reading ---- */

int __real_cli_pprof_load(const char *path, cli_pprof *out);
int __wrap_cli_pprof_load(const char *path, cli_pprof *out);

static const char *vanish_suffix; /* a path ending so is deleted first */

int __wrap_cli_pprof_load(const char *path, cli_pprof *out)
{
    size_t n = strlen(path), k = vanish_suffix ? strlen(vanish_suffix) : 0;

    if (k && n >= k && strcmp(path + n - k, vanish_suffix) == 0)
        unlink(path);
    return __real_cli_pprof_load(path, out);
}

/* dir/name: one sample of `bytes` in leak (a.c:7), sample type `type`,
 * taken at t seconds. */
static void write_snapshot(const char *dir, const char *name, const char *type,
                           uint64_t bytes, uint64_t t)
{
    enc e = {.n = 0}, m = {.n = 0}, l = {.n = 0};
    char path[256];
    FILE *f;

    put_int(&m, 1, 1);                  /* sample_type {type 1, unit 2} */
    put_int(&m, 2, 2);
    put_msg(&e, 1, &m);
    m.n = 0;                            /* sample {location 1, value} */
    put_int(&m, 1, 1);
    put_int(&m, 2, bytes);
    put_msg(&e, 2, &m);
    m.n = 0;                            /* location 1 {line {fn 1, 7}} */
    put_int(&l, 1, 1);
    put_int(&l, 2, 7);
    put_int(&m, 1, 1);
    put_msg(&m, 4, &l);
    put_msg(&e, 4, &m);
    m.n = 0;                            /* function 1 {name 3, file 4} */
    put_int(&m, 1, 1);
    put_int(&m, 2, 3);
    put_int(&m, 4, 4);
    put_msg(&e, 5, &m);
    put_str(&e, "");
    put_str(&e, type);
    put_str(&e, "bytes");
    put_str(&e, "leak");
    put_str(&e, "a.c");
    put_int(&e, 9, t * 1000000000u);    /* time_nanos */
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(e.b, 1, e.n, f), e.n);
    assert_int_equal(fclose(f), 0);
}

static void remove_dir(const char *dir, const char *const *names)
{
    char path[256];

    for (; *names; names++) {
        snprintf(path, sizeof path, "%s/%s", dir, *names);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* A snapshot deleted between the listing and its reading is gone, not
 * unreadable: it is skipped without counting in bad (before the fix: bad 1,
 * "skipped 1 unreadable snapshot(s) (...: No such file or directory)"). */
static void test_vanished_snapshot_not_bad(void **state)
{
    static const char *const names[] = {"heap-7-1.pb.gz", "heap-7-2.pb.gz",
                                        "heap-7-3.pb.gz", NULL};
    char dir[] = "/tmp/test_cli_heapdir.XXXXXX", path[256];
    cli_heapdir h;
    int added = -1;
    (void)state;

    assert_non_null(mkdtemp(dir));
    write_snapshot(dir, names[0], "inuse_space", 100, 1);
    write_snapshot(dir, names[1], "inuse_space", 200, 2);
    write_snapshot(dir, names[2], "inuse_space", 300, 3);
    assert_int_equal(cli_heapdir_init(&h, dir, 0), 0);
    h.symbolize = 0;
    vanish_suffix = "/heap-7-2.pb.gz";
    assert_int_equal(cli_heapdir_update(&h, &added), 0);
    vanish_suffix = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, names[1]);
    assert_int_equal(access(path, F_OK), -1); /* it did go */
    assert_int_equal(added, 2);
    assert_int_equal(h.loaded, 2);
    assert_int_equal(h.bad, 0);
    assert_int_equal(h.bad_rc, 0);
    assert_string_equal(h.bad_file, "");
    assert_int_equal(h.next_seq, 4); /* and is not looked for again */
    cli_heapdir_release(&h);

    /* every listed snapshot gone: nothing loaded, nothing unreadable (heap
     * top DIR then says "no snapshots", not "none readable") */
    assert_int_equal(cli_heapdir_init(&h, dir, 7), 0);
    h.symbolize = 0;
    vanish_suffix = ".pb.gz";
    assert_int_equal(cli_heapdir_update(&h, &added), 0);
    vanish_suffix = NULL;
    assert_int_equal(added, 0);
    assert_int_equal(h.loaded, 0);
    assert_int_equal(h.bad, 0);
    cli_heapdir_release(&h);
    remove_dir(dir, names);
}

/* A snapshot without inuse_space is unreadable for heap top DIR, with a
 * reason of its own: not -ENOENT ("No such file or directory" for a file
 * that is there). A missing file still gives -ENOENT. */
static void test_no_inuse_space(void **state)
{
    static const char *const names[] = {"heap-8-1.pb.gz", NULL};
    char dir[] = "/tmp/test_cli_heapdir.XXXXXX", path[256];
    cli_heapdir h;
    cli_stacks st;
    int bad_type = 0;
    (void)state;

    assert_non_null(mkdtemp(dir));
    write_snapshot(dir, names[0], "alloc_space", 100, 1);
    assert_int_equal(cli_heapdir_init(&h, dir, 0), 0);
    h.symbolize = 0;
    assert_int_equal(cli_heapdir_update(&h, NULL), 0);
    assert_int_equal(h.loaded, 0);
    assert_int_equal(h.bad, 1);
    assert_int_equal(h.bad_rc, CLI_PPROF_ENOTYPE);
    assert_string_equal(cli_pprof_strerror(h.bad_rc),
                        "no such sample type in the profile");
    cli_heapdir_release(&h);

    snprintf(path, sizeof path, "%s/%s", dir, names[0]);
    assert_int_equal(cli_heap_load_stacks(path, "inuse_space", NULL, &st,
                                          &bad_type), CLI_PPROF_ENOTYPE);
    assert_int_equal(bad_type, 1);
    assert_int_equal(cli_heap_load_stacks(path, NULL, NULL, &st, &bad_type), 0);
    assert_int_equal(bad_type, 0);
    assert_int_equal(st.n, 1);
    cli_stacks_release(&st);
    remove_dir(dir, names);
    assert_int_equal(cli_heap_load_stacks(path, NULL, NULL, &st, &bad_type),
                     -ENOENT);
    assert_int_equal(bad_type, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vanished_snapshot_not_bad),
        cmocka_unit_test(test_no_inuse_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
