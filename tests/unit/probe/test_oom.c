/*
 * test_oom.c — unit tests of the OOM-kill report parser (oom_report.c) fed
 * with the kmsg fixtures of several kernels (tests/fixtures/kmsg: 4.14,
 * 4.19, 5.10, 6.1, garbage), and of the kernel-log watch (oom_watch.c) on
 * files written at run time: read from the end, records appended later,
 * a torn record completed by the next write, an unreadable log, vmstat,
 * and records overwritten before they were read (EPIPE, injected through
 * the linker's --wrap=read: a regular file never gives it).
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
#include <sys/stat.h>
#include <unistd.h>

#include "oom_report.h"
#include "oom_watch.h"

#define KB(x) ((int64_t)(x) * 1024)
#define MAXK 8

/* read() as the linker wraps it (tests/CMakeLists.txt): fails with EPIPE
 * epipe_reads times, as /dev/kmsg does when the reader's next record was
 * overwritten, then reads. */
static int epipe_reads;
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (epipe_reads > 0) {
        epipe_reads--;
        errno = EPIPE;
        return -1;
    }
    return __real_read(fd, buf, n);
}

/* Parses a fixture record by record (as oom_watch does): the kills found. */
static size_t parse_fixture(const char *name, mv_oom_kill *k, size_t max)
{
    char path[4096], line[8192];
    snprintf(path, sizeof path, "%s/kmsg/%s", MV_FIXTURES, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    mv__oom_parser p;
    mv__oom_parser_init(&p);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        int64_t seq, ts;
        const char *text;
        size_t len;
        if (mv__kmsg_record_split(line, strlen(line), &seq, &ts, &text, &len) != 0)
            continue;
        mv_oom_kill one;
        if (mv__oom_parser_feed(&p, seq, ts, text, len, &one) && n < max)
            k[n++] = one;
    }
    fclose(f);
    return n;
}

static void test_linux_4_14(void **state)
{
    (void)state;
    mv_oom_kill k[MAXK];
    assert_int_equal(parse_fixture("linux-4.14.kmsg", k, MAXK), 1);
    assert_int_equal(k[0].pid, 2212);
    assert_string_equal(k[0].comm, "stress");
    assert_int_equal(k[0].seq, 2125);
    assert_int_equal(k[0].kernel_ts_us, 884211650);
    assert_int_equal(k[0].constraint, MV_OOM_CONSTRAINT_MEMCG);
    assert_string_equal(k[0].task_cgroup, "/docker/3f2a9c0d1e");
    assert_string_equal(k[0].oom_cgroup, "/docker/3f2a9c0d1e");
    assert_int_equal(k[0].total_vm_bytes, KB(109764));
    assert_int_equal(k[0].anon_rss_bytes, KB(101488));
    assert_int_equal(k[0].file_rss_bytes, KB(280));
    assert_int_equal(k[0].shmem_rss_bytes, 0);
    assert_int_equal(k[0].uid, MV_NA);            /* not printed before 5.x */
    assert_int_equal(k[0].pgtables_bytes, MV_NA);
    assert_true(k[0].oom_score_adj == MV_OOM_SCORE_ADJ_NA);
}

static void test_linux_4_19(void **state)
{
    (void)state;
    mv_oom_kill k[MAXK];
    const char *cg = "/kubepods/burstable/pod6b1d2c3e-0f4a-4b5c-8d9e-a1b2c3d4e5f6/0a1b2c3d4e5f";
    /* the oom_reaper line ("reaped process") is not a second kill */
    assert_int_equal(parse_fixture("linux-4.19.kmsg", k, MAXK), 1);
    assert_int_equal(k[0].pid, 9001);
    assert_string_equal(k[0].comm, "python3");
    assert_int_equal(k[0].constraint, MV_OOM_CONSTRAINT_MEMCG);
    assert_string_equal(k[0].task_cgroup, cg);
    assert_string_equal(k[0].oom_cgroup, cg);
    assert_int_equal(k[0].anon_rss_bytes, KB(259980));
    assert_int_equal(k[0].file_rss_bytes, KB(6412));
    assert_int_equal(k[0].shmem_rss_bytes, KB(4));
    assert_int_equal(k[0].uid, MV_NA);
    assert_true(k[0].oom_score_adj == MV_OOM_SCORE_ADJ_NA);
}

static void test_linux_5_10_global(void **state)
{
    (void)state;
    mv_oom_kill k[MAXK];
    assert_int_equal(parse_fixture("linux-5.10.kmsg", k, MAXK), 1);
    assert_int_equal(k[0].pid, 31337);
    assert_string_equal(k[0].comm, "Web Content");  /* a space in comm */
    assert_int_equal(k[0].constraint, MV_OOM_CONSTRAINT_NONE);
    assert_string_equal(mv_oom_constraint_name(k[0].constraint), "global");
    assert_string_equal(k[0].task_cgroup, "/user.slice/user-1000.slice/session-2.scope");
    assert_string_equal(k[0].oom_cgroup, "");
    assert_int_equal(k[0].anon_rss_bytes, KB(1620332));
    assert_int_equal(k[0].shmem_rss_bytes, KB(18744));
    assert_int_equal(k[0].total_vm_bytes, KB(3892776));
    assert_int_equal(k[0].uid, 1000);
    assert_int_equal(k[0].pgtables_bytes, KB(5844));
    assert_true(k[0].oom_score_adj == 985);
}

static void test_linux_6_1_interleaved(void **state)
{
    (void)state;
    mv_oom_kill k[MAXK];
    /* two summaries, then the kills in the other order: each kill gets its
     * own cgroup by pid */
    assert_int_equal(parse_fixture("linux-6.1.kmsg", k, MAXK), 2);
    assert_int_equal(k[0].pid, 31190);
    assert_string_equal(k[0].comm, "leaky");
    assert_string_equal(k[0].task_cgroup, "/memvigil-test-31182");
    assert_int_equal(k[0].anon_rss_bytes, KB(65280));
    assert_true(k[0].oom_score_adj == 0);
    assert_int_equal(k[1].pid, 4242);
    assert_string_equal(k[1].comm, "java");
    assert_int_equal(k[1].constraint, MV_OOM_CONSTRAINT_MEMCG);
    assert_non_null(strstr(k[1].task_cgroup, "/cri-containerd-9c1f0e2d3b4a"));
    assert_string_equal(k[1].task_cgroup, k[1].oom_cgroup);
    assert_int_equal(k[1].anon_rss_bytes, KB(520112));
    assert_true(k[1].oom_score_adj == -997);
    assert_int_equal(k[1].uid, 0);
    assert_int_equal(k[1].kernel_ts_us, 5123457020);
}

static void test_garbage(void **state)
{
    (void)state;
    mv_oom_kill k[MAXK];
    assert_int_equal(parse_fixture("garbage.kmsg", k, MAXK), 0);
}

static void test_record_split(void **state)
{
    (void)state;
    int64_t seq = -1, ts = -1;
    const char *text;
    size_t len;
    const char *rec = "6,77,123456,-,caller=T12;hello world\n SUBSYSTEM=cpu\n";
    assert_int_equal(mv__kmsg_record_split(rec, strlen(rec), &seq, &ts, &text, &len), 0);
    assert_int_equal(seq, 77);
    assert_int_equal(ts, 123456);
    assert_int_equal(len, strlen("hello world"));
    assert_memory_equal(text, "hello world", len);
    static const char *bad[] = { "", ";", "6,77;x", "6,,1,-;x", "a,1,2,-;x",
                                 "6,1,2,-\n;x", "6,1,2;x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mv__kmsg_record_split(bad[i], strlen(bad[i]), &seq, &ts,
                                               &text, &len), -EINVAL);
}

static void test_vmstat(void **state)
{
    (void)state;
    assert_int_equal(mv__parse_vmstat_oom_kill("nr_free_pages 1\noom_kill 17\nfoo 3\n"), 17);
    assert_int_equal(mv__parse_vmstat_oom_kill("oom_kill 0"), 0);
    assert_int_equal(mv__parse_vmstat_oom_kill("nr_free_pages 1\n"), MV_NA);
    assert_int_equal(mv__parse_vmstat_oom_kill("oom_kill x\n"), MV_NA);
    assert_int_equal(mv__parse_vmstat_oom_kill("oom_kill 12x\n"), MV_NA);
    assert_int_equal(mv__parse_vmstat_oom_kill("xoom_kill 3\n"), MV_NA);
    assert_int_equal(mv__parse_vmstat_oom_kill(NULL), MV_NA);
}

static void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The watch reads from the end: what was there before is not reported;
 * records appended later are, a torn one once it is complete. */
static void test_watch_follows_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mv-test-oom-XXXXXX", log[256], proc[256], vm[300];
    assert_non_null(mkdtemp(dir));
    snprintf(log, sizeof log, "%s/kmsg", dir);
    snprintf(proc, sizeof proc, "%s/proc", dir);
    snprintf(vm, sizeof vm, "%s/vmstat", proc);
    assert_int_equal(mkdir(proc, 0700), 0);
    append(vm, "pgfault 5\noom_kill 3\n");
    append(log, "3,1,10,-;Out of memory: Killed process 5 (old) total-vm:1kB, "
                "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n");

    mv__oom_watch *w = NULL;
    assert_int_equal(mv__oom_watch_new(log, proc, &w), 0);
    assert_true(mv__oom_watch_kmsg_ok(w));
    mv_oom_kill k[MAXK];
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 0);
    assert_int_equal(mv__oom_watch_host_kills(w), 3);

    append(log, "6,2,20,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
                "cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a/b,task=x,"
                "pid=42,uid=0\n"
                "3,3,30,-;Memory cgroup out of memory: Killed process 42 (x) "
                "total-vm:2048kB, anon-rss:1024kB, file-r");
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 0);  /* torn: waits */
    append(log, "ss:8kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n");
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 1);
    assert_int_equal(k[0].pid, 42);
    assert_string_equal(k[0].task_cgroup, "/a/b");
    assert_string_equal(k[0].oom_cgroup, "/a");
    assert_int_equal(k[0].anon_rss_bytes, KB(1024));
    assert_int_equal(k[0].file_rss_bytes, KB(8));
    /* the kill makes the host counter be read again at once... */
    unlink(vm);
    append(vm, "oom_kill 4\n");
    assert_int_equal(mv__oom_watch_host_kills(w), 4);
    /* ...otherwise it is read every 30 s, the last figure in between */
    unlink(vm);
    append(vm, "oom_kill 9\n");
    assert_int_equal(mv__oom_watch_host_kills(w), 4);
    char msg[512];
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 0);

    /* records overwritten before they were read (EPIPE): counted, told
     * once, and reading goes on with what is still there */
    append(log, "3,5,35,-;Out of memory: Killed process 8 (z) total-vm:1kB, "
                "anon-rss:2kB, file-rss:0kB, shmem-rss:0kB\n");
    epipe_reads = 2;
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 1);
    assert_int_equal(k[0].pid, 8);
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "records were overwritten before they were read"));
    epipe_reads = 1;
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 0);
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 0);  /* once */
    assert_true(mv__oom_watch_kmsg_ok(w));

    /* more kills than the caller takes: the rest is told once */
    for (int i = 0; i < 3; i++)
        append(log, "3,9,40,-;Out of memory: Killed process 7 (y) total-vm:1kB, "
                    "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n");
    assert_int_equal(mv__oom_watch_poll(w, k, 1), 1);
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "2 not reported"));
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 0);

    mv__oom_watch_free(w);
    unlink(vm);
    rmdir(proc);
    unlink(log);
    rmdir(dir);
}

/* A log that cannot be read (here a directory: its seek or read fails; a missing
 * one: ENOENT on open) is told once, and the watch goes on without it. */
static void test_watch_unreadable(void **state)
{
    (void)state;
    char dir[] = "/tmp/mv-test-oom-XXXXXX", missing[256], msg[512];
    assert_non_null(mkdtemp(dir));
    snprintf(missing, sizeof missing, "%s/none", dir);
    mv_oom_kill k[MAXK];

    mv__oom_watch *w = NULL;
    assert_int_equal(mv__oom_watch_new(missing, "/nonexistent", &w), 0);
    assert_false(mv__oom_watch_kmsg_ok(w));
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 0);
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "unreadable"));
    assert_non_null(strstr(msg, "memory.events only"));
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 0);
    assert_int_equal(mv__oom_watch_host_kills(w), MV_NA);
    mv__oom_watch_free(w);

    assert_int_equal(mv__oom_watch_new(dir, NULL, &w), 0);
    assert_int_equal(mv__oom_watch_poll(w, k, MAXK), 0);
    assert_false(mv__oom_watch_kmsg_ok(w));
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "unreadable"));  /* EISDIR or EINVAL */
    mv__oom_watch_free(w);

    /* no log at all: nothing to tell */
    assert_int_equal(mv__oom_watch_new("", NULL, &w), 0);
    assert_int_equal(mv__oom_watch_take_notice(w, msg, sizeof msg), 0);
    mv__oom_watch_free(w);
    mv__oom_watch_free(NULL);
    rmdir(dir);
}

/* The real /dev/kmsg, where this process may read it: opened at its end, a
 * poll returns at once (non-blocking) and the host counter is a number. */
static void test_watch_real_kmsg(void **state)
{
    (void)state;
    mv__oom_watch *w = NULL;
    assert_int_equal(mv__oom_watch_new("/dev/kmsg", NULL, &w), 0);
    mv_oom_kill k[MAXK];
    (void)mv__oom_watch_poll(w, k, MAXK);  /* must return, not block */
    if (access("/proc/vmstat", R_OK) == 0)
        assert_true(mv__oom_watch_host_kills(w) >= 0);
    mv__oom_watch_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_4_14),
        cmocka_unit_test(test_linux_4_19),
        cmocka_unit_test(test_linux_5_10_global),
        cmocka_unit_test(test_linux_6_1_interleaved),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_record_split),
        cmocka_unit_test(test_vmstat),
        cmocka_unit_test(test_watch_follows_file),
        cmocka_unit_test(test_watch_unreadable),
        cmocka_unit_test(test_watch_real_kmsg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
