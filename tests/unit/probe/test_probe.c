/*
 * test_probe.c — unit tests of the probe module: the pure parsers fed with
 * text, the I/O functions pointed at fixture trees under tests/fixtures/
 * (v1, v2, v2_root, v2_ancestors, v2_ns, no_cgroup, tree, garbage,
 * truncated), trees built at run time with unreadable or changing pieces,
 * and the real /proc for this process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "sample_fields.h"

#define KB(x) ((int64_t)(x) * 1024)

static mv__probe_opts fixture_opts(const char *name, char *proc, char *cg,
                                   size_t n)
{
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    snprintf(proc, n, "%s/%s/proc", MV_FIXTURES, name);
    snprintf(cg, n, "%s/%s/cgroup", MV_FIXTURES, name);
    o.proc_root = proc;
    o.cgroup_root = cg;
    return o;
}

/* The process fields of pid and its descendants. */
static int probe_tree(const mv__probe_opts *o, int32_t pid, mv_sample *s)
{
    return mv__probe_pids(o, &pid, 1, 1, s);
}

#define FIXTURE(name)                                                        \
    char proc_[512], cg_[512];                                               \
    mv__probe_opts o = fixture_opts(name, proc_, cg_, sizeof(proc_))

/* ---- pure parsers ------------------------------------------------------ */

static void test_parse_status(void **state)
{
    (void)state;
    mv_sample s;
    mv_sample_clear(&s);
    const char *t = "Name:\tx\nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\n"
                    "VmHWM:\t    1724 kB\nVmRSS:\t    1724 kB\n"
                    "RssAnon:\t     112 kB\nRssFile:\t    1612 kB\n"
                    "RssShmem:\t       0 kB\nVmSwap:\t       4 kB\nThreads:\t7\n";
    assert_int_equal(mv__parse_status(t, &s), 0);
    assert_int_equal(s.rss_bytes, KB(1724));
    assert_int_equal(s.rss_anon_bytes, KB(112));
    assert_int_equal(s.rss_file_bytes, KB(1612));
    assert_int_equal(s.rss_shmem_bytes, 0);
    assert_int_equal(s.swap_bytes, KB(4));
    assert_int_equal(s.rss_peak_bytes, KB(1724));
    assert_int_equal(s.vm_size_bytes, KB(3060));
    assert_int_equal(s.threads, 7);

    /* a garbage value marks only that field; missing lines stay n/a */
    assert_int_equal(mv__parse_status("VmRSS:\t12x kB\nRssAnon:\t5 kB\n", &s), 0);
    assert_int_equal(s.rss_bytes, MV_NA);
    assert_int_equal(s.rss_anon_bytes, KB(5));
    assert_int_equal(s.threads, MV_NA);
    /* missing unit, negative, overflow */
    assert_int_equal(mv__parse_status("VmRSS:\t12\nRssAnon:\t-5 kB\n"
                                      "VmSwap:\t99999999999999999999 kB\n", &s), 0);
    assert_int_equal(s.rss_bytes, MV_NA);
    assert_int_equal(s.rss_anon_bytes, MV_NA);
    assert_int_equal(s.swap_bytes, MV_NA);
    /* not a status file at all */
    assert_int_equal(mv__parse_status("hello world\n", &s), -EINVAL);
    assert_int_equal(mv__parse_status("", &s), -EINVAL);
    assert_int_equal(mv__parse_status(NULL, &s), -EINVAL);
    assert_int_equal(s.rss_bytes, MV_NA);
    /* a prefix of a key is not the key */
    assert_int_equal(mv__parse_status("VmRSSx:\t5 kB\nThreads:\t1\n", &s), 0);
    assert_int_equal(s.rss_bytes, MV_NA);
}

static void test_parse_stat(void **state)
{
    (void)state;
    int32_t ppid;
    mv_sample s;
    mv_sample_clear(&s);
    s.rss_bytes = 5;  /* other fields are left alone */
    const char *t = "3528 (cat) R 3525 3525 3146 0 -1 4194304 99 0 0 0 0 0 0 0 "
                    "20 0 1 0 29271 3133440 393 18446744073709551615 1 2 3\n";
    assert_int_equal(mv__parse_stat(t, &ppid, &s), 0);
    assert_int_equal(ppid, 3525);
    assert_int_equal(s.start_time_ticks, 29271);
    assert_int_equal(s.major_faults, 0);
    assert_int_equal(s.rss_bytes, 5);
    assert_int_equal(mv__parse_stat(t, &ppid, NULL), 0);  /* the ppid alone */
    assert_int_equal(ppid, 3525);

    /* comm with spaces and parentheses: parse after the LAST ')' */
    const char *w = "77 (a) b (c) d) S 12 77 77 0 -1 0 0 0 0 0 0 0 0 0 "
                    "20 0 1 0 424242 0 0\n";
    assert_int_equal(mv__parse_stat(w, &ppid, &s), 0);
    assert_int_equal(ppid, 12);
    assert_int_equal(s.start_time_ticks, 424242);
    /* major faults: field 12 */
    const char *mf = "9 (m) S 1 9 9 0 -1 0 5 0 4242 0 0 0 0 0 20 0 1 0 77 0 0\n";
    assert_int_equal(mv__parse_stat(mf, &ppid, &s), 0);
    assert_int_equal(s.major_faults, 4242);
    assert_int_equal(s.start_time_ticks, 77);

    /* truncated before field 22, garbage, no ')' */
    assert_int_equal(mv__parse_stat("1 (x) S 0 1 1 0\n", &ppid, &s), -EINVAL);
    assert_int_equal(s.start_time_ticks, MV_NA);
    assert_int_equal(ppid, -1);
    assert_int_equal(mv__parse_stat("1 (x) S zz 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
                                    &ppid, &s), -EINVAL);
    assert_int_equal(mv__parse_stat("no parens", &ppid, &s), -EINVAL);
    assert_int_equal(mv__parse_stat(NULL, &ppid, &s), -EINVAL);
}

static void test_parse_meminfo_rollup(void **state)
{
    (void)state;
    mv_sample s;
    mv_sample_clear(&s);
    assert_int_equal(mv__parse_meminfo("MemTotal:       24683620 kB\n"
                                       "MemFree:        24529212 kB\n"
                                       "MemAvailable:   24441552 kB\n"
                                       "SwapTotal:             0 kB\n"
                                       "SwapFree:              0 kB\n"
                                       "HugePages_Total:       0\n", &s), 0);
    assert_int_equal(s.mem_total_bytes, KB(24683620));
    assert_int_equal(s.mem_available_bytes, KB(24441552));
    assert_int_equal(s.swap_total_bytes, 0);
    assert_int_equal(s.swap_free_bytes, 0);

    assert_int_equal(mv__parse_smaps_rollup("x-y ---p 0 00:00 0 [rollup]\n"
                                            "Rss:  100 kB\nPss:   60 kB\n"
                                            "Pss_Anon:  40 kB\n", &s), 0);
    assert_int_equal(s.pss_bytes, KB(60));
    assert_int_equal(s.pss_anon_bytes, KB(40));
    assert_int_equal(s.pss_file_bytes, MV_NA);   /* older kernel */
    assert_int_equal(s.pss_shmem_bytes, MV_NA);
    assert_int_equal(mv__parse_smaps_rollup("nothing\n", &s), -EINVAL);
}

static void test_parse_psi(void **state)
{
    (void)state;
    mv_psi some, full;
    assert_int_equal(mv__parse_psi("some avg10=1.50 avg60=0.75 avg300=0.20 total=123456\n"
                                   "full avg10=0.50 avg60=0.25 avg300=0.05 total=45678\n",
                                   &some, &full), 0);
    assert_true(fabs(some.avg10 - 1.5) < 1e-9);
    assert_true(fabs(some.avg60 - 0.75) < 1e-9);
    assert_true(fabs(some.avg300 - 0.2) < 1e-9);
    assert_int_equal(some.total_us, 123456);
    assert_true(fabs(full.avg10 - 0.5) < 1e-9);
    assert_int_equal(full.total_us, 45678);

    /* only "some" (the cpu file on old kernels), a garbage field */
    assert_int_equal(mv__parse_psi("some avg10=x avg60=2.00 avg300=0.00 total=9\n",
                                   &some, &full), 0);
    assert_true(isnan(some.avg10));
    assert_true(fabs(some.avg60 - 2.0) < 1e-9);
    assert_int_equal(some.total_us, 9);
    assert_true(isnan(full.avg10));
    assert_int_equal(full.total_us, MV_NA);
    assert_int_equal(mv__parse_psi("garbage\n", &some, &full), -EINVAL);
    assert_true(isnan(some.avg60));
}

static void test_parse_proc_cgroup(void **state)
{
    (void)state;
    int v;
    char path[MV_CGROUP_PATH_MAX];

    /* hybrid host: the v1 memory line wins over 0:: */
    assert_int_equal(mv__parse_proc_cgroup("9:name=systemd:/\n4:memory:/process_api/abc\n"
                                           "0::/\n", &v, path, sizeof(path)), 0);
    assert_int_equal(v, 1);
    assert_string_equal(path, "/process_api/abc");
    /* combined controller list */
    assert_int_equal(mv__parse_proc_cgroup("7:cpu,memory:/x\n", &v, path, sizeof(path)), 0);
    assert_int_equal(v, 1);
    assert_string_equal(path, "/x");
    /* "memoryx" is not "memory" */
    assert_int_equal(mv__parse_proc_cgroup("7:cpu,memoryx:/x\n0::/y\n", &v, path,
                                           sizeof(path)), 0);
    assert_int_equal(v, 2);
    assert_string_equal(path, "/y");
    /* v2 only; a ':' inside the path */
    assert_int_equal(mv__parse_proc_cgroup("0::/a:b/c", &v, path, sizeof(path)), 0);
    assert_int_equal(v, 2);
    assert_string_equal(path, "/a:b/c");
    /* neither */
    assert_int_equal(mv__parse_proc_cgroup("3:cpu:/x\n2:pids:/x\n", &v, path, sizeof(path)),
                     -ENOENT);
    assert_int_equal(v, 0);
    assert_string_equal(path, "");
    /* too long for the output */
    char tiny[4];
    assert_int_equal(mv__parse_proc_cgroup("0::/abcdef\n", &v, tiny, sizeof(tiny)),
                     -ENAMETOOLONG);
}

static void test_parse_cgroup_value(void **state)
{
    (void)state;
    int64_t x;
    assert_int_equal(mv__parse_cgroup_value("1073741824\n", &x), 0);
    assert_int_equal(x, 1073741824);
    assert_int_equal(mv__parse_cgroup_value("0\n", &x), 0);
    assert_int_equal(x, 0);
    assert_int_equal(mv__parse_cgroup_value("max\n", &x), 0);
    assert_int_equal(x, MV_UNLIMITED);
    assert_int_equal(mv__parse_cgroup_value("9223372036854771712\n", &x), 0);
    assert_int_equal(x, MV_UNLIMITED);
    assert_int_equal(mv__parse_cgroup_value("18446744073709551615\n", &x), 0);
    assert_int_equal(x, MV_UNLIMITED);
    assert_int_equal(mv__parse_cgroup_value("lots\n", &x), -EINVAL);
    assert_int_equal(x, MV_NA);
    assert_int_equal(mv__parse_cgroup_value("12 34\n", &x), -EINVAL);
    assert_int_equal(mv__parse_cgroup_value("", &x), -EINVAL);
    assert_int_equal(mv__parse_cgroup_value("-1\n", &x), -EINVAL);
    assert_int_equal(mv__parse_cgroup_value("99999999999999999999999\n", &x), -EINVAL);
}

static void test_parse_cgroup_stat_events(void **state)
{
    (void)state;
    mv_sample s;
    mv_sample_clear(&s);
    assert_int_equal(mv__parse_cgroup_stat("anon 100\nfile 200\nkernel 5\n"
                                           "inactive_file 50\nshmem 7\n", 2, &s), 0);
    assert_int_equal(s.cg_anon_bytes, 100);
    assert_int_equal(s.cg_file_bytes, 200);
    assert_int_equal(s.cg_inactive_file_bytes, 50);
    assert_int_equal(s.cg_shmem_bytes, 7);
    /* v1: total_ preferred, plain names as fall-back */
    assert_int_equal(mv__parse_cgroup_stat("cache 1\nrss 2\nshmem 3\ninactive_file 4\n"
                                           "total_cache 10\ntotal_rss 20\n", 1, &s), 0);
    assert_int_equal(s.cg_anon_bytes, 20);
    assert_int_equal(s.cg_file_bytes, 10);
    assert_int_equal(s.cg_shmem_bytes, 3);
    assert_int_equal(s.cg_inactive_file_bytes, 4);
    assert_int_equal(mv__parse_cgroup_stat("what ever\n", 2, &s), -EINVAL);
    assert_int_equal(s.cg_anon_bytes, MV_NA);

    assert_int_equal(mv__parse_cgroup_events("low 0\nhigh 5\nmax 3\noom 1\noom_kill 2\n"
                                             "oom_group_kill 9\n", &s), 0);
    assert_int_equal(s.cg_high_events, 5);
    assert_int_equal(s.cg_max_events, 3);
    assert_int_equal(s.cg_oom_events, 1);
    assert_int_equal(s.cg_oom_kill_events, 2);

    assert_int_equal(mv__parse_oom_control("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n",
                                           &s), 0);
    assert_int_equal(s.cg_oom_kill_events, 4);
    /* kernels before 4.13: no oom_kill line */
    assert_int_equal(mv__parse_oom_control("oom_kill_disable 0\nunder_oom 0\n", &s), 0);
    assert_int_equal(s.cg_oom_kill_events, MV_NA);

    assert_int_equal(mv__parse_v1_hierarchical_limit("hierarchical_memory_limit 4096\n"), 4096);
    assert_int_equal(mv__parse_v1_hierarchical_limit(
                         "hierarchical_memory_limit 9223372036854771712\n"), MV_UNLIMITED);
    assert_int_equal(mv__parse_v1_hierarchical_limit("rss 1\n"), MV_NA);
}

static void test_parse_smaps_top(void **state)
{
    (void)state;
    const char *t =
        "00400000-00401000 r-xp 00000000 fe:00 1 /bin/a b\n"
        "Rss:                 40 kB\nAnonymous:            0 kB\nSwap: 0 kB\n"
        "VmFlags: rd ex\n"
        "00401000-00402000 rw-p 00001000 fe:00 1 /bin/a b\n"
        "Rss:                  8 kB\nAnonymous:            8 kB\nSwap: 0 kB\n"
        "01000000-02000000 rw-p 00000000 00:00 0          [heap]\n"
        "Rss:               1000 kB\nAnonymous:         1000 kB\nSwap: 12 kB\n"
        "7f000000-7f100000 rw-p 00000000 00:00 0 \n"
        "Rss:                300 kB\nAnonymous:          300 kB\nSwap: 1 kB\n"
        "7f100000-7f200000 rw-p 00000000 00:00 0\n"
        "Rss:                200 kB\nAnonymous:          200 kB\nSwap: 2 kB\n";
    mv__mapping m[8];
    size_t n;
    assert_int_equal(mv__parse_smaps_top(t, m, 8, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].name, "[heap]");
    assert_int_equal(m[0].rss_bytes, KB(1000));
    assert_int_equal(m[0].swap_bytes, KB(12));
    assert_int_equal(m[0].file_backed, 0);
    assert_int_equal(m[0].file_bytes, 0);
    assert_string_equal(m[1].name, "[anon]");
    assert_int_equal(m[1].rss_bytes, KB(500));
    assert_int_equal(m[1].anon_bytes, KB(500));
    assert_int_equal(m[1].swap_bytes, KB(3));
    assert_string_equal(m[2].name, "/bin/a b");  /* path with a space */
    assert_int_equal(m[2].rss_bytes, KB(48));
    assert_int_equal(m[2].anon_bytes, KB(8));
    assert_int_equal(m[2].file_bytes, KB(40));
    assert_int_equal(m[2].file_backed, 1);

    /* max limits the output */
    assert_int_equal(mv__parse_smaps_top(t, m, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].name, "[heap]");
    /* empty (kernel thread) is fine; garbage is not */
    assert_int_equal(mv__parse_smaps_top("", m, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mv__parse_smaps_top("Rss: 4 kB\nfoo\n", m, 8, &n), -EINVAL);
    assert_int_equal(n, 0);
}

/* ---- derive ------------------------------------------------------------ */

static void test_derive(void **state)
{
    (void)state;
    mv_sample s;

    /* limited cgroup: working set / cgroup max */
    mv_sample_clear(&s);
    s.rss_bytes = 300;
    s.rss_anon_bytes = 200;
    s.swap_bytes = 10;
    s.cg_usage_bytes = 600;
    s.cg_inactive_file_bytes = 100;
    s.cg_max_bytes = 1000;
    s.cg_high_bytes = MV_UNLIMITED;
    s.mem_total_bytes = 4000;
    mv__sample_derive(&s);
    assert_int_equal(s.working_set_bytes, 500);
    assert_int_equal(s.private_bytes, 210);
    assert_int_equal(s.effective_limit_bytes, 1000);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_true(fabs(s.usage_ratio - 0.5) < 1e-12);

    /* memory.high tighter than max */
    s.cg_high_bytes = 800;
    mv__sample_derive(&s);
    assert_int_equal(s.effective_limit_bytes, 800);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_HIGH);
    assert_true(fabs(s.usage_ratio - 500.0 / 800.0) < 1e-12);

    /* cgroup limit above MemTotal: MemTotal wins, RSS is the numerator */
    s.cg_max_bytes = 9000;
    s.cg_high_bytes = MV_UNLIMITED;
    mv__sample_derive(&s);
    assert_int_equal(s.effective_limit_bytes, 4000);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    assert_true(fabs(s.usage_ratio - 300.0 / 4000.0) < 1e-12);

    /* clamp at 0, and usage n/a -> working set n/a */
    s.cg_inactive_file_bytes = 700;
    mv__sample_derive(&s);
    assert_int_equal(s.working_set_bytes, 0);
    s.cg_usage_bytes = MV_NA;
    mv__sample_derive(&s);
    assert_int_equal(s.working_set_bytes, MV_NA);

    /* cgroup target (no process fields): cgroup anon + swap, working set */
    mv_sample_clear(&s);
    s.cg_usage_bytes = 400;
    s.cg_inactive_file_bytes = 100;
    s.cg_anon_bytes = 250;
    s.cg_swap_bytes = 50;
    s.cg_max_bytes = MV_UNLIMITED;
    s.mem_total_bytes = 3000;
    mv__sample_derive(&s);
    assert_int_equal(s.private_bytes, 300);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    assert_true(fabs(s.usage_ratio - 300.0 / 3000.0) < 1e-12);
    s.cg_swap_bytes = MV_NA;  /* swap accounting off: anon alone */
    mv__sample_derive(&s);
    assert_int_equal(s.private_bytes, 250);

    /* nothing known */
    mv_sample_clear(&s);
    mv__sample_derive(&s);
    assert_int_equal(s.working_set_bytes, MV_NA);
    assert_int_equal(s.private_bytes, MV_NA);
    assert_int_equal(s.effective_limit_bytes, MV_NA);
    assert_int_equal(s.limit_source, MV_LIMIT_NONE);
    assert_true(isnan(s.usage_ratio));
}

/* mv__sample_apply_limit: a configured budget joins the kernel's limits;
 * the tightest wins, a tie names the kernel's. */
static void test_apply_limit(void **state)
{
    (void)state;
    mv_sample s;

    /* no cgroup limit: MemTotal 4000, RSS 300 */
    mv_sample_clear(&s);
    s.rss_bytes = 300;
    s.mem_total_bytes = 4000;
    mv__sample_derive(&s);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    mv__sample_apply_limit(&s, 600);
    assert_int_equal(s.effective_limit_bytes, 600);
    assert_int_equal(s.limit_source, MV_LIMIT_CONFIG);
    assert_true(fabs(s.usage_ratio - 0.5) < 1e-12);
    /* a budget above MemTotal does not count; a tie keeps MemTotal */
    mv__sample_derive(&s);
    mv__sample_apply_limit(&s, 8000);
    assert_int_equal(s.effective_limit_bytes, 4000);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    mv__sample_apply_limit(&s, 4000);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    assert_true(fabs(s.usage_ratio - 300.0 / 4000.0) < 1e-12);
    /* 0 and negative: nothing changes */
    mv__sample_apply_limit(&s, 0);
    mv__sample_apply_limit(&s, -5);
    assert_int_equal(s.effective_limit_bytes, 4000);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);

    /* limited cgroup (max 1000, working set 500, RSS 300) */
    mv_sample_clear(&s);
    s.rss_bytes = 300;
    s.cg_usage_bytes = 600;
    s.cg_inactive_file_bytes = 100;
    s.cg_max_bytes = 1000;
    s.cg_high_bytes = MV_UNLIMITED;
    s.mem_total_bytes = 4000;
    mv__sample_derive(&s);
    mv__sample_apply_limit(&s, 2000);   /* looser: the cgroup's stays */
    assert_int_equal(s.effective_limit_bytes, 1000);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_true(fabs(s.usage_ratio - 0.5) < 1e-12);
    mv__sample_apply_limit(&s, 1000);   /* tie: the cgroup's stays */
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    mv__sample_apply_limit(&s, 600);    /* tighter: RSS against it */
    assert_int_equal(s.effective_limit_bytes, 600);
    assert_int_equal(s.limit_source, MV_LIMIT_CONFIG);
    assert_true(fabs(s.usage_ratio - 0.5) < 1e-12);

    /* cgroup target without RSS: the working set against the budget */
    mv_sample_clear(&s);
    s.cg_usage_bytes = 400;
    s.cg_inactive_file_bytes = 100;
    s.cg_max_bytes = MV_UNLIMITED;
    mv__sample_derive(&s);
    assert_int_equal(s.limit_source, MV_LIMIT_NONE);
    mv__sample_apply_limit(&s, 1200);
    assert_int_equal(s.effective_limit_bytes, 1200);
    assert_int_equal(s.limit_source, MV_LIMIT_CONFIG);
    assert_true(fabs(s.usage_ratio - 0.25) < 1e-12);

    /* nothing to compare: limit set, ratio unknown */
    mv_sample_clear(&s);
    mv__sample_derive(&s);
    mv__sample_apply_limit(&s, 1200);
    assert_int_equal(s.effective_limit_bytes, 1200);
    assert_true(isnan(s.usage_ratio));
    mv__sample_apply_limit(NULL, 1200);  /* no crash */
}

/* mv__sample_limit_quantity: the working set against a cgroup's limit,
 * else RSS; each stands in for the other when unavailable. usage_ratio is
 * that quantity over the effective limit. */
static void test_limit_quantity(void **state)
{
    (void)state;
    mv_sample s;

    mv_sample_clear(&s);
    assert_int_equal(mv__sample_limit_quantity(&s), MV_NA);
    s.rss_bytes = 300;
    s.working_set_bytes = 500;
    s.effective_limit_bytes = 1000;
    const struct { mv_limit_source src; int64_t want; } cases[] = {
        {MV_LIMIT_CGROUP_MAX, 500}, {MV_LIMIT_CGROUP_HIGH, 500},
        {MV_LIMIT_MEMTOTAL, 300},   {MV_LIMIT_CONFIG, 300},
        {MV_LIMIT_NONE, 300},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s.limit_source = cases[i].src;
        assert_int_equal(mv__sample_limit_quantity(&s), cases[i].want);
        assert_string_equal(mv__sample_limit_quantity_name(&s),
                            cases[i].want == 500 ? "working set" : "rss");
    }
    /* fallbacks: a cgroup limit without a working set, RSS unknown */
    s.limit_source = MV_LIMIT_CGROUP_MAX;
    s.working_set_bytes = MV_NA;
    assert_int_equal(mv__sample_limit_quantity(&s), 300);
    assert_string_equal(mv__sample_limit_quantity_name(&s), "rss");
    s.limit_source = MV_LIMIT_MEMTOTAL;
    s.working_set_bytes = 500;
    s.rss_bytes = MV_NA;
    assert_int_equal(mv__sample_limit_quantity(&s), 500);
    assert_string_equal(mv__sample_limit_quantity_name(&s), "working set");

    /* the ratio derive computes uses the same quantity */
    mv_sample_clear(&s);
    s.rss_bytes = 300;
    s.cg_usage_bytes = 600;
    s.cg_inactive_file_bytes = 100;
    s.cg_max_bytes = 1000;
    s.mem_total_bytes = 4000;
    mv__sample_derive(&s);
    assert_int_equal(mv__sample_limit_quantity(&s), 500);
    assert_true(fabs(s.usage_ratio - 500.0 / 1000.0) < 1e-12);
    s.cg_max_bytes = 9000;
    mv__sample_derive(&s);
    assert_int_equal(mv__sample_limit_quantity(&s), 300);
    assert_true(fabs(s.usage_ratio - 300.0 / 4000.0) < 1e-12);
}

static void test_sample_clear(void **state)
{
    (void)state;
    mv_sample s;
    memset(&s, 0x5a, sizeof(s));
    mv_sample_clear(&s);
    assert_int_equal(s.rss_bytes, MV_NA);
    assert_int_equal(s.cg_max_bytes, MV_NA);
    assert_int_equal(s.cg_oom_kill_events, MV_NA);
    assert_int_equal(s.mem_total_bytes, MV_NA);
    assert_int_equal(s.pid, 0);
    assert_int_equal(s.nprocs, 0);
    assert_int_equal(s.cgroup_version, 0);
    assert_string_equal(s.cgroup_path, "");
    assert_true(isnan(s.cg_psi_full.avg300));
    assert_int_equal(s.sys_psi_some.total_us, MV_NA);
    assert_true(isnan(s.usage_ratio));
    mv_sample_clear(NULL);  /* no crash */

    /* every field of the table, by its type: a field added there is
     * cleared without another edit; the blocks clear only their own */
#define NA_IS_I64(m) assert_int_equal(s.m, MV_NA);
#define NA_IS_LIM(m) assert_int_equal(s.m, MV_NA);
#define NA_IS_I32(m) assert_int_equal(s.m, 0);
#define NA_IS_INT(m) assert_int_equal(s.m, 0);
#define NA_IS_DBL(m) assert_true(isnan(s.m));
    memset(&s, 0x5a, sizeof(s));
    mv_sample_clear(&s);
#define X(member, type, where, help) NA_IS_##type(member)
    MV_SAMPLE_FIELDS(X)
#undef X
    memset(&s, 0x5a, sizeof(s));
    mv__sample_clear_process(&s);
#define X(member, type, where, help)                                          \
    if (MV__PROCESS_FIELD(member)) {                                           \
        NA_IS_##type(member)                                                   \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
    assert_int_equal(s.nprocs, 0);
    assert_int_equal(s.mem_total_bytes, 0x5a5a5a5a5a5a5a5aLL);  /* not its block */
    assert_int_equal(s.cg_usage_bytes, 0x5a5a5a5a5a5a5a5aLL);
    memset(&s, 0x5a, sizeof(s));
    mv__sample_clear_cgroup(&s);
#define X(member, type, where, help)                                          \
    if (MV__CGROUP_FIELD(member)) {                                            \
        NA_IS_##type(member)                                                   \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
    assert_string_equal(s.cgroup_path, "");
    assert_int_equal(s.rss_bytes, 0x5a5a5a5a5a5a5a5aLL);
}

/* ---- fixture trees ----------------------------------------------------- */

static void test_fixture_v1(void **state)
{
    (void)state;
    FIXTURE("v1");
    mv_sample s;
    int32_t pid = 1234;

    assert_int_equal(mv__probe_cgroup_version(&o), 1);
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_true(s.timestamp_ms > 1600000000000LL);
    assert_true(s.monotonic_ms >= 0);
    assert_int_equal(s.pid, 1234);
    assert_int_equal(s.nprocs, 1);
    assert_int_equal(s.start_time_ticks, 29271);
    assert_int_equal(s.rss_bytes, KB(153600));
    assert_int_equal(s.rss_anon_bytes, KB(102400));
    assert_int_equal(s.rss_file_bytes, KB(50176));
    assert_int_equal(s.rss_shmem_bytes, KB(1024));
    assert_int_equal(s.swap_bytes, KB(10240));
    assert_int_equal(s.rss_peak_bytes, KB(262144));
    assert_int_equal(s.vm_size_bytes, KB(2097152));
    assert_int_equal(s.threads, 12);
    assert_int_equal(s.pss_bytes, MV_NA);  /* smaps_rollup off by default */

    assert_int_equal(s.cgroup_version, 1);
    assert_string_equal(s.cgroup_path, "/process_api/abc");
    assert_int_equal(s.cg_usage_bytes, 314572800);
    assert_int_equal(s.cg_max_bytes, 1073741824);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_anon_bytes, 209715200);
    assert_int_equal(s.cg_file_bytes, 104857600);
    assert_int_equal(s.cg_inactive_file_bytes, 52428800);
    assert_int_equal(s.cg_shmem_bytes, 4096);
    assert_int_equal(s.cg_swap_bytes, 325058560 - 314572800);
    assert_int_equal(s.cg_oom_kill_events, 2);
    assert_int_equal(s.cg_oom_events, MV_NA);
    assert_int_equal(s.cg_high_events, MV_NA);
    assert_int_equal(s.cg_max_events, 17);
    assert_true(isnan(s.cg_psi_some.avg10));

    assert_int_equal(s.mem_total_bytes, KB(24683620));
    assert_int_equal(s.mem_available_bytes, KB(20441552));
    assert_int_equal(s.swap_total_bytes, KB(8388604));
    assert_true(fabs(s.sys_psi_some.avg10 - 1.5) < 1e-9);
    assert_int_equal(s.sys_psi_full.total_us, 45678);

    assert_int_equal(s.working_set_bytes, 314572800 - 52428800);
    assert_int_equal(s.private_bytes, KB(102400) + KB(10240));
    assert_int_equal(s.effective_limit_bytes, 1073741824);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_true(fabs(s.usage_ratio - (314572800.0 - 52428800.0) / 1073741824.0) < 1e-12);

    /* smaps_rollup on, under the gate */
    o.smaps_rollup = 1;
    assert_int_equal(mv__probe_process(&o, 1234, &s), 0);
    assert_int_equal(s.pss_bytes, KB(120000));
    assert_int_equal(s.pss_anon_bytes, KB(98304));
    assert_int_equal(s.pss_file_bytes, KB(20672));
    assert_int_equal(s.pss_shmem_bytes, KB(1024));
    /* VmSize (2 GiB) above the gate: skipped */
    o.smaps_max_vm_bytes = (int64_t)1 << 30;
    assert_int_equal(mv__probe_process(&o, 1234, &s), 0);
    assert_int_equal(s.pss_bytes, MV_NA);
    assert_int_equal(s.rss_bytes, KB(153600));
}

static void test_fixture_v1_cgroup_paths(void **state)
{
    (void)state;
    FIXTURE("v1");
    mv_sample s;
    char abs[1024];

    /* absolute filesystem path: version from the files */
    snprintf(abs, sizeof(abs), "%s/memory/process_api/abc", cg_);
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, abs, &s), 0);
    assert_int_equal(s.pid, 0);
    assert_int_equal(s.nprocs, 0);
    assert_int_equal(s.rss_bytes, MV_NA);
    assert_int_equal(s.cgroup_version, 1);
    assert_string_equal(s.cgroup_path, "/process_api/abc");
    assert_int_equal(s.cg_usage_bytes, 314572800);
    /* cgroup target: working set drives the ratio, cgroup anon the private */
    assert_int_equal(s.private_bytes, 209715200 + (325058560 - 314572800));
    assert_true(fabs(s.usage_ratio - (314572800.0 - 52428800.0) / 1073741824.0) < 1e-12);

    /* path inside the hierarchy; the child's own limit is unlimited but
     * its parent's (hierarchical_memory_limit) applies */
    assert_int_equal(mv__probe_cgroup(&o, 1, "/process_api/abc/child", &s), 0);
    assert_int_equal(s.cg_max_bytes, 1073741824);
    assert_int_equal(s.cg_usage_bytes, 104857600);
    assert_int_equal(s.cg_swap_bytes, MV_NA);  /* no memsw file */
    assert_int_equal(s.cg_max_events, 0);
    assert_int_equal(s.cg_oom_kill_events, 0);

    /* v1 root: unlimited */
    assert_int_equal(mv__probe_cgroup(&o, 1, "/", &s), 0);
    assert_string_equal(s.cgroup_path, "/");
    assert_int_equal(s.cg_max_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_usage_bytes, 2147483648LL);

    /* missing cgroup */
    assert_int_equal(mv__probe_cgroup(&o, 1, "/nope", &s), -ENOENT);
    assert_int_equal(s.cg_usage_bytes, MV_NA);
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/nope", &s), -ENOENT);
    snprintf(abs, sizeof(abs), "%s/memory/nope", cg_);
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, abs, &s), -ENOENT);
    assert_int_equal(mv__probe_cgroup(&o, 1, "relative", &s), -EINVAL);
}

static void test_fixture_v2(void **state)
{
    (void)state;
    FIXTURE("v2");
    mv_sample s;
    int32_t pid = 2000;

    assert_int_equal(mv__probe_cgroup_version(&o), 2);
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.start_time_ticks, 88888);
    assert_int_equal(s.rss_bytes, KB(524288));
    assert_int_equal(s.swap_bytes, 0);
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/system.slice/app.service");
    assert_int_equal(s.cg_usage_bytes, 629145600);
    assert_int_equal(s.cg_max_bytes, 1073741824);
    assert_int_equal(s.cg_high_bytes, 805306368);
    assert_int_equal(s.cg_anon_bytes, 419430400);
    assert_int_equal(s.cg_file_bytes, 188743680);
    assert_int_equal(s.cg_inactive_file_bytes, 104857600);
    assert_int_equal(s.cg_shmem_bytes, 4194304);
    assert_int_equal(s.cg_swap_bytes, 8388608);
    assert_int_equal(s.cg_oom_events, 1);
    assert_int_equal(s.cg_oom_kill_events, 1);
    assert_int_equal(s.cg_high_events, 5);
    assert_int_equal(s.cg_max_events, 3);
    assert_true(fabs(s.cg_psi_some.avg10 - 12.34) < 1e-9);
    assert_int_equal(s.cg_psi_some.total_us, 987654321);
    assert_int_equal(s.cg_psi_full.total_us, 12345678);
    assert_int_equal(s.swap_total_bytes, 0);

    assert_int_equal(s.working_set_bytes, 629145600 - 104857600);
    assert_int_equal(s.effective_limit_bytes, 805306368);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_HIGH);
    assert_true(fabs(s.usage_ratio - (629145600.0 - 104857600.0) / 805306368.0) < 1e-12);

    /* "max" literals; absolute path */
    char abs[1024];
    snprintf(abs, sizeof(abs), "%s/system.slice/db.service", cg_);
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, abs, &s), 0);
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/system.slice/db.service");
    assert_int_equal(s.cg_max_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_swap_bytes, MV_NA);  /* no memory.swap.current */
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    assert_int_equal(s.effective_limit_bytes, KB(16777216));
    assert_true(fabs(s.usage_ratio - (209715200.0 - 52428800.0) / (double)KB(16777216)) < 1e-12);
    /* same cgroup as a hierarchy path with version detected */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/system.slice/db.service", &s), 0);
    assert_int_equal(s.cg_usage_bytes, 209715200);
}

static void test_fixture_v2_root(void **state)
{
    (void)state;
    FIXTURE("v2_root");
    mv_sample s;
    int32_t pid = 1;

    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/");
    assert_int_equal(s.cg_usage_bytes, MV_NA);   /* not 0 */
    assert_int_equal(s.cg_max_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_anon_bytes, 2147483648LL);
    assert_int_equal(s.working_set_bytes, MV_NA);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    assert_true(fabs(s.usage_ratio - (double)KB(12000) / (double)KB(8388608)) < 1e-12);
    assert_int_equal(s.cg_oom_kill_events, MV_NA);  /* no memory.events */

    /* the root as an absolute path */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, cg_, &s), 0);
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/");
    assert_int_equal(s.cg_usage_bytes, MV_NA);
    assert_true(isnan(s.usage_ratio));  /* no RSS, no working set */
    assert_int_equal(s.private_bytes, 2147483648LL);
}

/* v2: a limit on an ancestor binds (fixture v2_ancestors: a slice with a
 * tighter memory.max, a pod and its parent with a tighter memory.high and
 * a garbage one, garbage ancestors, nothing set; a memory.max of 1 MiB
 * sits above the mount root and must never count). */
static void test_fixture_v2_ancestors(void **state)
{
    (void)state;
    FIXTURE("v2_ancestors");
    mv_sample s;
    mv__cgroup_handle h;
    const double ws = 629145600.0 - 104857600.0;

    /* parent foo.slice: memory.max 512 MiB over an unlimited service
     * whose own memory.high is 1 GiB */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0,
                                      "/system.slice/foo.slice/app.service", &s), 0);
    assert_int_equal(s.cg_max_bytes, 536870912);
    assert_int_equal(s.cg_high_bytes, 1073741824);
    assert_int_equal(s.effective_limit_bytes, 536870912);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_true(fabs(s.usage_ratio - ws / 536870912.0) < 1e-12);
    assert_int_equal(mv__probe_cgroup_open(&o, 2, "/system.slice/foo.slice/app.service",
                                           0, &h), 0);
    assert_int_equal(h.anc_depth, 3);
    assert_int_equal(mv__probe_cgroup_read(&h, &s), 0);
    assert_int_equal(h.anc_max_bytes, 536870912);
    assert_int_equal(h.anc_max_up, 1);
    assert_int_equal(h.anc_high_bytes, MV_UNLIMITED);
    assert_int_equal(h.anc_high_up, 0);
    mv__probe_cgroup_close(&h);

    /* pid in a pod: the pod's max 1 GiB beats the container's 2 GiB; the
     * pod's memory.high is garbage, the grandparent's 256 MiB counts */
    int32_t pid = 2100;
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_string_equal(s.cgroup_path, "/kubepods.slice/pod1.slice/ctr.scope");
    assert_int_equal(s.cg_max_bytes, 1073741824);
    assert_int_equal(s.cg_high_bytes, 268435456);
    assert_int_equal(s.effective_limit_bytes, 268435456);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_HIGH);
    assert_true(fabs(s.usage_ratio - ws / 268435456.0) < 1e-12);
    assert_int_equal(mv__probe_cgroup_open(&o, 2, "/kubepods.slice/pod1.slice/ctr.scope",
                                           0, &h), 0);
    assert_int_equal(mv__probe_cgroup_read(&h, &s), 0);
    assert_int_equal(h.anc_max_up, 1);
    assert_int_equal(h.anc_high_up, 2);
    mv__probe_cgroup_close(&h);
    /* the same cgroup by absolute path */
    char abs[1024];
    snprintf(abs, sizeof(abs), "%s/kubepods.slice/pod1.slice/ctr.scope", cg_);
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, abs, &s), 0);
    assert_int_equal(s.cg_max_bytes, 1073741824);
    assert_int_equal(s.cg_high_bytes, 268435456);

    /* garbage ancestor ("lots", empty): skipped, the own limit stays */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/odd.slice/svc.service", &s), 0);
    assert_int_equal(s.cg_max_bytes, 402653184);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    /* own memory.max garbage too ("-1"): unknown, never 0 or a guess */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/odd.slice/broken.service", &s), 0);
    assert_int_equal(s.cg_max_bytes, MV_NA);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.effective_limit_bytes, KB(16777216));
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);

    /* unlimited all the way up: MemTotal */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/open.slice/svc.service", &s), 0);
    assert_int_equal(s.cg_max_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.effective_limit_bytes, KB(16777216));
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    /* a child of the root: only the root above it (no knobs there) */
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/kubepods.slice", &s), 0);
    assert_int_equal(s.cg_max_bytes, MV_UNLIMITED);
    assert_int_equal(s.cg_high_bytes, 268435456);
}

/* Inside a cgroup namespace the mount root is the container's own cgroup:
 * its memory.max binds a process in a sub-cgroup (fixture v2_ns; the
 * 1 MiB memory.max above the mount root must not count). */
static void test_fixture_v2_ns(void **state)
{
    (void)state;
    FIXTURE("v2_ns");
    mv_sample s;
    int32_t pid = 77;

    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_string_equal(s.cgroup_path, "/app");
    assert_int_equal(s.cg_max_bytes, 805306368);
    assert_int_equal(s.cg_high_bytes, MV_UNLIMITED);
    assert_int_equal(s.effective_limit_bytes, 805306368);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_int_equal(mv__probe_target(&o, NULL, 0, 0, "/", &s), 0);
    assert_int_equal(s.cg_max_bytes, 805306368);
}

static void test_fixture_no_cgroup(void **state)
{
    (void)state;
    FIXTURE("no_cgroup");
    mv_sample s;
    int32_t pid = 3000;
    int v;
    char path[64];

    assert_int_equal(mv__probe_find_cgroup(&o, pid, &v, path, sizeof(path)), -ENOENT);
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.cgroup_version, 0);
    assert_string_equal(s.cgroup_path, "");
    assert_int_equal(s.cg_usage_bytes, MV_NA);
    assert_int_equal(s.cg_max_bytes, MV_NA);
    assert_int_equal(s.limit_source, MV_LIMIT_MEMTOTAL);
    assert_true(fabs(s.usage_ratio - 8000.0 / 4194304.0) < 1e-12);
    assert_true(isnan(s.sys_psi_some.avg10));  /* no /proc/pressure */
}

static void test_fixture_tree(void **state)
{
    (void)state;
    FIXTURE("tree");
    mv_sample s;

    /* 100 -> 101 -> 103, 100 -> 102, 100 -> 104 (gone), 100 -> 105 (zombie);
     * 200 unrelated */
    assert_int_equal(probe_tree(&o, 100, &s), 0);
    assert_int_equal(s.pid, 100);
    assert_int_equal(s.nprocs, 5);
    assert_int_equal(s.rss_bytes, KB(10000 + 5000 + 3000 + 1000));
    assert_int_equal(s.rss_anon_bytes, KB(8000 + 4000 + 2000 + 1000));
    assert_int_equal(s.swap_bytes, KB(40));
    assert_int_equal(s.threads, 2 * 4 + 1);
    assert_int_equal(s.rss_peak_bytes, KB(10100));  /* target's own */
    assert_int_equal(s.start_time_ticks, 200);
    assert_int_equal(s.major_faults, 11 + 22 + 33 + 44);  /* zombie: 0 */

    /* every integer process field of the table is the sum of the
     * processes' own (MV_NA skipped), but the target's start time and
     * peak: a field added to the table is summed without another edit */
    {
        static const int32_t members[] = {100, 101, 102, 103, 105};
        mv_sample one, want;
        mv_sample_clear(&want);
        for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
            assert_int_equal(mv__probe_process(&o, members[i], &one), 0);
#define SUM_I64(m)                                                            \
            if (one.m != MV_NA)                                                \
                want.m = (want.m == MV_NA ? 0 : want.m) + one.m;
#define SUM_LIM(m) SUM_I64(m)
#define SUM_I32(m)
#define SUM_INT(m)
#define SUM_DBL(m)
#define X(member, type, where, help)                                          \
            if (MV__PROCESS_FIELD(member)) {                                   \
                SUM_##type(member)                                             \
            }
            MV_SAMPLE_FIELDS(X)
#undef X
        }
        assert_int_equal(probe_tree(&o, 100, &s), 0);
        int checked = 0;
#define X(member, type, where, help)                                          \
        if (MV__PROCESS_FIELD(member) && sizeof(s.member) == 8 &&              \
            offsetof(mv_sample, member) != offsetof(mv_sample, start_time_ticks) && \
            offsetof(mv_sample, member) != offsetof(mv_sample, rss_peak_bytes)) { \
            if (s.member != want.member)                                       \
                fail_msg(#member ": tree %lld, sum %lld", (long long)s.member,  \
                         (long long)want.member);                              \
            checked++;                                                         \
        }
        MV_SAMPLE_FIELDS(X)
#undef X
        assert_true(checked >= 11);
    }

    /* subtree */
    assert_int_equal(probe_tree(&o, 101, &s), 0);
    assert_int_equal(s.nprocs, 2);
    assert_int_equal(s.rss_bytes, KB(6000));
    assert_int_equal(s.major_faults, 22 + 44);

    /* leaf and unrelated */
    assert_int_equal(probe_tree(&o, 200, &s), 0);
    assert_int_equal(s.nprocs, 1);
    assert_int_equal(s.rss_bytes, KB(7777));

    /* several pids summed, overlap counted once, first is primary */
    int32_t pids[] = {102, 200, 102, 103};
    assert_int_equal(mv__probe_target(&o, pids, 4, 0, NULL, &s), 0);
    assert_int_equal(s.pid, 102);
    assert_int_equal(s.nprocs, 3);
    assert_int_equal(s.rss_bytes, KB(3000 + 7777 + 1000));
    assert_int_equal(s.rss_peak_bytes, KB(3102));
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/tree.slice");
    assert_int_equal(s.cg_usage_bytes, 104857600);

    /* several trees: 101's tree and 100's tree overlap */
    int32_t roots[] = {100, 101};
    assert_int_equal(mv__probe_target(&o, roots, 2, 1, NULL, &s), 0);
    assert_int_equal(s.nprocs, 5);
    assert_int_equal(s.rss_bytes, KB(19000));

    /* a missing secondary pid is skipped; a missing primary is -ESRCH */
    int32_t with_gone[] = {200, 104};
    assert_int_equal(mv__probe_target(&o, with_gone, 2, 0, NULL, &s), 0);
    assert_int_equal(s.nprocs, 1);
    int32_t gone_first[] = {104, 200};
    assert_int_equal(mv__probe_target(&o, gone_first, 2, 0, NULL, &s), -ESRCH);
    assert_int_equal(probe_tree(&o, 99999, &s), -ESRCH);
    assert_int_equal(s.rss_bytes, MV_NA);
}

static void test_fixture_garbage(void **state)
{
    (void)state;
    FIXTURE("garbage");
    mv_sample s;
    int32_t pid = 4000;

    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.rss_bytes, MV_NA);       /* "lots kB" */
    assert_int_equal(s.rss_file_bytes, MV_NA);  /* "-12 kB" */
    assert_int_equal(s.swap_bytes, MV_NA);      /* overflow */
    assert_int_equal(s.threads, MV_NA);         /* "3x" */
    assert_int_equal(s.rss_anon_bytes, KB(6000));  /* neighbours intact */
    assert_int_equal(s.start_time_ticks, MV_NA);   /* garbage stat */

    assert_int_equal(s.cgroup_version, 1);
    assert_string_equal(s.cgroup_path, "/junk");
    assert_int_equal(s.cg_usage_bytes, MV_NA);
    assert_int_equal(s.cg_max_bytes, 536870912);
    assert_int_equal(s.cg_anon_bytes, 111);        /* non-total_ fall-back */
    assert_int_equal(s.cg_file_bytes, 222);
    assert_int_equal(s.cg_inactive_file_bytes, 333);
    assert_int_equal(s.cg_shmem_bytes, MV_NA);     /* "4x4" */
    assert_int_equal(s.cg_oom_kill_events, MV_NA); /* old kernel */
    assert_int_equal(s.cg_max_events, MV_NA);      /* empty failcnt */
    assert_int_equal(s.cg_swap_bytes, MV_NA);      /* usage unknown */

    assert_int_equal(s.mem_total_bytes, KB(24683620));
    assert_int_equal(s.mem_available_bytes, MV_NA);  /* "12.5 GB" */
    assert_true(isnan(s.sys_psi_some.avg10));
    assert_true(fabs(s.sys_psi_some.avg60 - 0.75) < 1e-9);
    assert_int_equal(s.sys_psi_some.total_us, MV_NA);
    assert_true(isnan(s.sys_psi_full.avg10));

    /* working set n/a, RSS n/a: no ratio, never 0 */
    assert_int_equal(s.working_set_bytes, MV_NA);
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_true(isnan(s.usage_ratio));
}

static void test_fixture_truncated(void **state)
{
    (void)state;
    FIXTURE("truncated");
    mv_sample s;
    int32_t pid = 5000;

    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.vm_size_bytes, KB(100000));
    assert_int_equal(s.rss_peak_bytes, KB(9000));
    assert_int_equal(s.rss_bytes, MV_NA);
    assert_int_equal(s.rss_anon_bytes, MV_NA);
    assert_int_equal(s.threads, MV_NA);
    assert_int_equal(s.start_time_ticks, MV_NA);
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/cut");   /* no trailing newline */
    assert_int_equal(s.cg_usage_bytes, 104857600);
    assert_int_equal(s.cg_anon_bytes, 52428800);
    assert_int_equal(s.cg_inactive_file_bytes, MV_NA);
    assert_int_equal(s.cg_high_bytes, MV_NA);      /* file missing, not root */
    assert_int_equal(s.working_set_bytes, 104857600);
    assert_int_equal(s.mem_total_bytes, KB(24683620));
    assert_int_equal(s.mem_available_bytes, MV_NA);
    assert_int_equal(s.sys_psi_some.total_us, 123456);
    assert_int_equal(s.sys_psi_full.total_us, MV_NA);
    /* limited cgroup, working set known */
    assert_int_equal(s.limit_source, MV_LIMIT_CGROUP_MAX);
    assert_true(fabs(s.usage_ratio - 0.5) < 1e-12);

    /* truncated smaps: the cut mapping has its Rss, later ones missing */
    mv__mapping m[16];
    size_t n;
    assert_int_equal(mv__probe_top_mappings(&o, pid, m, 16, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].name, "[heap]");
    assert_int_equal(m[0].rss_bytes, KB(65536));
    assert_string_equal(m[1].name, "/usr/bin/myapp");
}

static void test_fixture_inspect_helpers(void **state)
{
    (void)state;
    FIXTURE("v1");
    mv__mapping m[4];
    size_t n;
    int score, adj;
    char comm[64];

    assert_int_equal(mv__probe_top_mappings(&o, 1234, m, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(m[0].name, "[heap]");
    assert_int_equal(m[0].rss_bytes, KB(65536));
    assert_int_equal(m[0].swap_bytes, KB(2048));
    assert_string_equal(m[1].name, "/var/lib/data/index (v2).bin");
    assert_int_equal(m[1].file_bytes, KB(40960));
    assert_int_equal(m[1].file_backed, 1);
    assert_string_equal(m[2].name, "[anon]");
    assert_int_equal(m[2].rss_bytes, KB(30000 + 2768));
    assert_int_equal(m[2].swap_bytes, KB(8192));
    assert_string_equal(m[3].name, "/usr/lib/x86_64-linux-gnu/libc.so.6");

    assert_int_equal(mv__probe_oom_score(&o, 1234, &score, &adj), 0);
    assert_int_equal(score, 667);
    assert_int_equal(adj, -100);
    assert_int_equal(mv__probe_comm(&o, 1234, comm, sizeof(comm)), 0);
    assert_string_equal(comm, "my (weird) a");
    char small[4];
    assert_int_equal(mv__probe_comm(&o, 1234, small, sizeof(small)), 0);
    assert_string_equal(small, "my ");

    assert_int_equal(mv__probe_top_mappings(&o, 999, m, 4, &n), -ESRCH);
    assert_int_equal(mv__probe_oom_score(&o, 999, &score, &adj), -ESRCH);
    assert_int_equal(score, MV__OOM_SCORE_NA);
    assert_int_equal(mv__probe_comm(&o, 999, comm, sizeof(comm)), -ESRCH);

    /* the v2 fixture has neither oom_score file: treated as gone */
    char p2[512], c2[512];
    mv__probe_opts o2 = fixture_opts("v2", p2, c2, sizeof(p2));
    assert_int_equal(mv__probe_oom_score(&o2, 2000, &score, &adj), -ESRCH);
}

/* ---- a tree built at run time: unreadable and odd files --------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[2048];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
    assert_int_equal(system(cmd), 0);
}

/* A kept handle re-reads its ancestors every MV__CG_ANCESTOR_REFRESH_MS,
 * not every read; a one-shot read sees a change at once. An unreadable
 * ancestor file (a directory: EISDIR) is skipped. */
static void test_cgroup_ancestor_refresh(void **state)
{
    (void)state;
    char root[] = "/tmp/mv_probe_XXXXXX";
    char d[1400], cg[256];
    assert_non_null(mkdtemp(root));
    snprintf(cg, sizeof(cg), "%s/cg", root);
    assert_int_equal(mkdir(cg, 0755), 0);
    write_file(cg, "cgroup.controllers", "memory\n");
    snprintf(d, sizeof(d), "%s/a", cg);
    assert_int_equal(mkdir(d, 0755), 0);
    write_file(d, "memory.max", "1000000\n");
    write_file(d, "memory.high", "max\n");
    snprintf(d, sizeof(d), "%s/a/b", cg);
    assert_int_equal(mkdir(d, 0755), 0);
    write_file(d, "memory.max", "5000000\n");
    write_file(d, "memory.high", "max\n");
    write_file(d, "memory.current", "4096\n");

    mv__probe_opts o;
    mv__probe_opts_init(&o);
    o.cgroup_root = cg;
    mv__cgroup_handle h;
    mv_sample s;
    assert_int_equal(mv__probe_cgroup_open(&o, 2, "/a/b", 1, &h), 0);
    assert_int_equal(mv__probe_cgroup_read(&h, &s), 0);
    assert_int_equal(s.cg_max_bytes, 1000000);

    /* the parent's limit drops: the kept handle keeps the old value until
     * its refresh is due, a one-shot read sees the new one */
    snprintf(d, sizeof(d), "%s/a", cg);
    write_file(d, "memory.max", "700000\n");
    assert_int_equal(mv__probe_cgroup_read(&h, &s), 0);
    assert_int_equal(s.cg_max_bytes, 1000000);
    mv_sample t;
    assert_int_equal(mv__probe_cgroup(&o, 2, "/a/b", &t), 0);
    assert_int_equal(t.cg_max_bytes, 700000);
    mv__cgroup_handle once;   /* keep 0: every read walks */
    assert_int_equal(mv__probe_cgroup_open(&o, 2, "/a/b", 0, &once), 0);
    assert_int_equal(mv__probe_cgroup_read(&once, &t), 0);
    write_file(d, "memory.max", "600000\n");
    assert_int_equal(mv__probe_cgroup_read(&once, &t), 0);
    assert_int_equal(t.cg_max_bytes, 600000);
    mv__probe_cgroup_close(&once);
    h.anc_read_ms -= MV__CG_ANCESTOR_REFRESH_MS;
    assert_int_equal(mv__probe_cgroup_read(&h, &s), 0);
    assert_int_equal(s.cg_max_bytes, 600000);
    assert_int_equal(h.anc_max_up, 1);

    /* the parent's file unreadable: skipped, the own limit again */
    char f[1500];
    snprintf(f, sizeof(f), "%s/a/memory.max", cg);
    assert_int_equal(unlink(f), 0);
    assert_int_equal(mkdir(f, 0755), 0);
    h.anc_read_ms = MV_NA;
    assert_int_equal(mv__probe_cgroup_read(&h, &s), 0);
    assert_int_equal(s.cg_max_bytes, 5000000);
    assert_int_equal(h.anc_max_bytes, MV_UNLIMITED);
    assert_int_equal(h.anc_max_up, 0);
    mv__probe_cgroup_close(&h);
    rm_rf(root);
}

static void test_unreadable(void **state)
{
    (void)state;
    char root[] = "/tmp/mv_probe_XXXXXX";
    char d[1400], proc[256], cg[256];
    assert_non_null(mkdtemp(root));

    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(cg, sizeof(cg), "%s/cgroup", root);
    assert_int_equal(mkdir(proc, 0755), 0);
    assert_int_equal(mkdir(cg, 0755), 0);
    write_file(cg, "cgroup.controllers", "memory\n");
    snprintf(d, sizeof(d), "%s/cg1", cg);
    assert_int_equal(mkdir(d, 0755), 0);
    write_file(d, "memory.current", "1000\n");
    write_file(d, "memory.max", "4000\n");
    /* memory.stat is a directory: EISDIR -> its fields n/a */
    snprintf(d, sizeof(d), "%s/cg1/memory.stat", cg);
    assert_int_equal(mkdir(d, 0755), 0);

    /* pid 10: status ok, smaps_rollup a directory, stat unreadable */
    snprintf(d, sizeof(d), "%s/10", proc);
    assert_int_equal(mkdir(d, 0755), 0);
    write_file(d, "status", "VmSize:\t100 kB\nVmRSS:\t50 kB\nRssAnon:\t20 kB\n");
    write_file(d, "stat", "10 (t) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0 0\n");
    write_file(d, "cgroup", "0::/cg1\n");
    snprintf(d, sizeof(d), "%s/10/smaps_rollup", proc);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(d, sizeof(d), "%s/10/stat", proc);
    assert_int_equal(chmod(d, 0), 0);
    write_file(proc, "meminfo", "MemTotal: 10000 kB\n");

    /* pid 11: status is a directory -> the error is returned */
    snprintf(d, sizeof(d), "%s/11", proc);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(d, sizeof(d), "%s/11/status", proc);
    assert_int_equal(mkdir(d, 0755), 0);

    mv__probe_opts o;
    mv__probe_opts_init(&o);
    o.proc_root = proc;
    o.cgroup_root = cg;
    o.smaps_rollup = 1;
    mv_sample s;
    int32_t pid = 10;
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.rss_bytes, KB(50));
    assert_int_equal(s.pss_bytes, MV_NA);  /* EISDIR */
    if (geteuid() != 0)
        assert_int_equal(s.start_time_ticks, MV_NA);  /* EACCES */
    else
        assert_int_equal(s.start_time_ticks, 77);     /* root reads 000 files */
    assert_int_equal(s.cgroup_version, 2);
    assert_int_equal(s.cg_usage_bytes, 1000);
    assert_int_equal(s.cg_anon_bytes, MV_NA);
    assert_int_equal(s.cg_inactive_file_bytes, MV_NA);
    assert_int_equal(s.working_set_bytes, 1000);
    assert_true(fabs(s.usage_ratio - 0.25) < 1e-12);

    int32_t pid11 = 11;
    assert_int_equal(mv__probe_target(&o, &pid11, 1, 0, NULL, &s), -EISDIR);

    /* an unreadable status (non-root only) gives -EACCES */
    if (geteuid() != 0) {
        snprintf(d, sizeof(d), "%s/10/status", proc);
        assert_int_equal(chmod(d, 0), 0);
        assert_int_equal(mv__probe_process(&o, 10, &s), -EACCES);
        assert_int_equal(s.rss_bytes, MV_NA);
    }

    /* /proc/PID/cgroup pointing at a missing directory: the hierarchy root
     * is read (container without cgroup namespace), the path is kept */
    write_file(proc, "10/cgroup", "0::/docker/abcdef\n");
    write_file(cg, "memory.stat", "anon 7\n");
    snprintf(d, sizeof(d), "%s/10/status", proc);
    assert_int_equal(chmod(d, 0644), 0);
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.cgroup_version, 2);
    assert_string_equal(s.cgroup_path, "/docker/abcdef");
    assert_int_equal(s.cg_anon_bytes, 7);
    assert_int_equal(s.cg_max_bytes, MV_UNLIMITED);

    /* no meminfo at all: system fields n/a, no crash */
    snprintf(d, sizeof(d), "%s/meminfo", proc);
    assert_int_equal(unlink(d), 0);
    assert_true(mv__probe_system(&o, &s) < 0);
    assert_int_equal(s.mem_total_bytes, MV_NA);

    /* a status file larger than the read buffer: cut at a line boundary */
    char *big = malloc(20000);
    assert_non_null(big);
    size_t off = 0;
    off += (size_t)sprintf(big + off, "VmRSS:\t123 kB\n");
    while (off < 19000)
        off += (size_t)sprintf(big + off, "Filler:\t0123456789\n");
    sprintf(big + off, "Threads:\t4\n");
    write_file(proc, "10/status", big);
    free(big);
    assert_int_equal(mv__probe_process(&o, 10, &s), 0);
    assert_int_equal(s.rss_bytes, KB(123));
    assert_int_equal(s.threads, MV_NA);  /* beyond the bound */

    rm_rf(root);
}

/* ---- the real /proc ---------------------------------------------------- */

static void test_real_proc(void **state)
{
    (void)state;
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    mv_sample s;
    int32_t pid = (int32_t)getpid();

    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    assert_int_equal(s.pid, pid);
    assert_int_equal(s.nprocs, 1);
    assert_true(s.rss_bytes > 0);
    assert_true(s.rss_anon_bytes >= 0);
    assert_true(s.rss_anon_bytes <= s.rss_bytes);
    assert_true(s.vm_size_bytes >= s.rss_bytes);
    assert_true(s.rss_peak_bytes >= s.rss_bytes);
    assert_true(s.threads >= 1);
    assert_true(s.start_time_ticks > 0);
    assert_true(s.cgroup_version == 0 || s.cgroup_version == 1 ||
                s.cgroup_version == 2);
    assert_true(s.mem_total_bytes > 0);
    assert_true(s.mem_available_bytes > 0);
    assert_true(s.effective_limit_bytes > 0);
    assert_true(s.usage_ratio > 0 && s.usage_ratio < 1);
    assert_true(s.private_bytes >= s.rss_anon_bytes);

    /* pid 0 means this process */
    int32_t zero = 0;
    assert_int_equal(mv__probe_target(&o, &zero, 1, 0, NULL, &s), 0);
    assert_int_equal(s.pid, pid);

    /* with smaps_rollup: read under the VmSize gate, skipped above it
     * (ASan builds reserve terabytes of address space) */
    o.smaps_rollup = 1;
    assert_int_equal(mv__probe_process(&o, pid, &s), 0);
    if (s.vm_size_bytes <= o.smaps_max_vm_bytes)
        assert_true(s.pss_bytes > 0 && s.pss_anon_bytes >= 0);
    else
        assert_int_equal(s.pss_bytes, MV_NA);
    o.smaps_max_vm_bytes = INT64_MAX;
    assert_int_equal(mv__probe_process(&o, pid, &s), 0);
    assert_true(s.pss_bytes > 0);
    assert_true(s.pss_bytes <= s.rss_bytes + s.swap_bytes);

    /* a nonexistent pid */
    int32_t none = 0x3ffffff0;
    assert_int_equal(mv__probe_target(&o, &none, 1, 0, NULL, &s), -ESRCH);
    assert_int_equal(mv__probe_target(&o, &none, 1, 1, NULL, &s), -ESRCH);

    /* the real tree of this process: itself (no children) */
    assert_int_equal(probe_tree(&o, pid, &s), 0);
    assert_int_equal(s.nprocs, 1);

    /* real smaps, comm, oom_score */
    mv__mapping m[8];
    size_t n;
    assert_int_equal(mv__probe_top_mappings(&o, pid, m, 8, &n), 0);
    assert_true(n >= 1);
    assert_true(m[0].rss_bytes > 0);
    char comm[32];
    assert_int_equal(mv__probe_comm(&o, pid, comm, sizeof(comm)), 0);
    char want[16];  /* the kernel keeps 15 bytes of the name */
    snprintf(want, sizeof(want), "%s", program_invocation_short_name);
    assert_string_equal(comm, want);
    int score, adj;
    assert_int_equal(mv__probe_oom_score(&o, pid, &score, &adj), 0);
    assert_true(score >= 0);
    assert_true(adj >= -1000 && adj <= 1000);
}


/* ---- the probe session -------------------------------------------------- */

/* Samples equal but for the timestamps (NaN fields compare by bits: both
 * come from the same mv_sample_clear). */
static void assert_same_sample(mv_sample *a, mv_sample *b)
{
    a->timestamp_ms = b->timestamp_ms;
    a->monotonic_ms = b->monotonic_ms;
    assert_int_equal(a->pid, b->pid);
    assert_int_equal(a->nprocs, b->nprocs);
    assert_int_equal(a->rss_bytes, b->rss_bytes);
    assert_int_equal(a->cg_usage_bytes, b->cg_usage_bytes);
    assert_string_equal(a->cgroup_path, b->cgroup_path);
    assert_memory_equal(a, b, sizeof(*a));
}

/* Session and mv__probe_target on one fixture target, several samples
 * (past a recheck), field by field. */
static void check_session_fixture(const char *name, const int32_t *pids,
                                  size_t npids, int tree, const char *cgroup)
{
    char proc[512], cg[512];
    mv__probe_opts o = fixture_opts(name, proc, cg, sizeof(proc));
    mv_sample a, b;
    int err = 1;

    int want = mv__probe_target(&o, pids, npids, tree, cgroup, &b);
    mv__probe_session *ps = mv__probe_session_new(&o, pids, npids, tree,
                                                  cgroup, &err);
    if (want != 0) {
        assert_null(ps);
        assert_int_equal(err, want);
        return;
    }
    assert_non_null(ps);
    assert_int_equal(err, 0);
    for (int i = 0; i < MV__PROBE_SESSION_RECHECK + 2; i++) {
        assert_int_equal(mv__probe_session_sample(ps, &a), 0);
        assert_same_sample(&a, &b);
    }
    mv__probe_session_free(ps);
}

static void test_session_fixtures(void **state)
{
    (void)state;
    int32_t p1234 = 1234, p2000 = 2000, p1 = 1, p3000 = 3000, p4000 = 4000,
            p5000 = 5000, p100 = 100, p101 = 101;
    int32_t set[] = {102, 200, 102, 103}, roots[] = {100, 101},
            with_gone[] = {200, 104};
    char abs[600];

    check_session_fixture("v1", &p1234, 1, 0, NULL);
    check_session_fixture("v1", &p1234, 1, 1, NULL);
    check_session_fixture("v2", &p2000, 1, 0, NULL);
    check_session_fixture("v2_root", &p1, 1, 0, NULL);
    check_session_fixture("no_cgroup", &p3000, 1, 0, NULL);
    check_session_fixture("garbage", &p4000, 1, 0, NULL);
    check_session_fixture("truncated", &p5000, 1, 0, NULL);
    check_session_fixture("tree", &p100, 1, 1, NULL);
    check_session_fixture("tree", &p101, 1, 1, NULL);
    check_session_fixture("tree", set, 4, 0, NULL);
    check_session_fixture("tree", roots, 2, 1, NULL);
    check_session_fixture("tree", with_gone, 2, 0, NULL);
    /* cgroup targets: inside the hierarchy, and absolute */
    check_session_fixture("v2", NULL, 0, 0, "/system.slice/db.service");
    snprintf(abs, sizeof(abs), "%s/v2/cgroup/system.slice/app.service",
             MV_FIXTURES);
    check_session_fixture("v2", NULL, 0, 0, abs);
    check_session_fixture("v1", NULL, 0, 0, "/process_api/abc");
    int32_t p2100 = 2100, p77 = 77;
    check_session_fixture("v2_ancestors", &p2100, 1, 0, NULL);
    check_session_fixture("v2_ancestors", NULL, 0, 0,
                          "/system.slice/foo.slice/app.service");
    check_session_fixture("v2_ns", &p77, 1, 0, NULL);

    /* with smaps_rollup (kept too) */
    char proc[512], cg[512];
    mv__probe_opts o = fixture_opts("v1", proc, cg, sizeof(proc));
    o.smaps_rollup = 1;
    mv_sample a, b;
    int err;
    assert_int_equal(mv__probe_target(&o, &p1234, 1, 0, NULL, &b), 0);
    assert_true(b.pss_bytes > 0);
    mv__probe_session *ps = mv__probe_session_new(&o, &p1234, 1, 0, NULL, &err);
    assert_non_null(ps);
    assert_int_equal(mv__probe_session_sample(ps, &a), 0);
    assert_same_sample(&a, &b);
    mv__probe_session_free(ps);

    /* errors: missing pid, missing cgroup, bad arguments */
    int32_t none = 99999, zero_in_set[] = {100, 0};
    o = fixture_opts("tree", proc, cg, sizeof(proc));
    assert_null(mv__probe_session_new(&o, &none, 1, 0, NULL, &err));
    assert_int_equal(err, -ESRCH);
    assert_null(mv__probe_session_new(&o, NULL, 0, 1, "/nope", &err));
    assert_int_equal(err, -ENOENT);
    assert_null(mv__probe_session_new(&o, zero_in_set, 2, 0, NULL, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(mv__probe_session_new(NULL, &p100, 1, 0, NULL, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(mv__probe_session_new(&o, NULL, 1, 0, NULL, &err));
    assert_int_equal(err, -EINVAL);
    assert_int_equal(mv__probe_session_sample(NULL, &a), -EINVAL);
    assert_int_equal(a.rss_bytes, MV_NA);
    mv__probe_session_free(NULL);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_session_self(void **state)
{
    (void)state;
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    mv_sample a, b;
    int32_t zero = 0, pid = (int32_t)getpid();
    int err;

    int fds0 = count_fds();
    mv__probe_session *ps = mv__probe_session_new(&o, &zero, 1, 0, NULL, &err);
    assert_non_null(ps);
    for (int i = 0; i < 2 * MV__PROBE_SESSION_RECHECK; i++) {
        assert_int_equal(mv__probe_session_sample(ps, &a), 0);
        assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &b), 0);
        /* stable fields */
        assert_int_equal(a.pid, pid);
        assert_int_equal(a.nprocs, 1);
        assert_int_equal(a.start_time_ticks, b.start_time_ticks);
        assert_int_equal(a.threads, b.threads);
        assert_int_equal(a.cgroup_version, b.cgroup_version);
        assert_string_equal(a.cgroup_path, b.cgroup_path);
        assert_int_equal(a.cg_max_bytes, b.cg_max_bytes);
        assert_int_equal(a.cg_high_bytes, b.cg_high_bytes);
        assert_int_equal(a.mem_total_bytes, b.mem_total_bytes);
        assert_int_equal(a.effective_limit_bytes, b.effective_limit_bytes);
        assert_true(a.rss_bytes > 0);
        assert_true(llabs(a.rss_bytes - b.rss_bytes) < (4 << 20));
        assert_true(a.vm_size_bytes > 0);
        assert_true(a.mem_available_bytes > 0);
        assert_true(a.timestamp_ms > 0 && a.monotonic_ms > 0);
    }
    /* bounded descriptors, all released by _free */
    int held = count_fds() - fds0;
    assert_true(held >= 3 && held <= 14);
    mv__probe_session_free(ps);
    assert_int_equal(count_fds(), fds0);

    /* tree of this process (no children): itself */
    ps = mv__probe_session_new(&o, &pid, 1, 1, NULL, &err);
    assert_non_null(ps);
    assert_int_equal(mv__probe_session_sample(ps, &a), 0);
    assert_int_equal(a.nprocs, 1);
    assert_int_equal(a.pid, pid);
    mv__probe_session_free(ps);
}

/* A child that exits: -ESRCH, and it stays so (the pid is not followed). */
/* A child that waits for its signal; the caller kills and reaps it. */
static pid_t spawn_pauser(void)
{
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (;;)
            pause();
    }
    return child;
}

static void test_session_child_exit(void **state)
{
    (void)state;
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    mv_sample s;
    int err;

    pid_t child = spawn_pauser();
    int32_t pid = (int32_t)child;
    mv__probe_session *ps = mv__probe_session_new(&o, &pid, 1, 0, NULL, &err);
    assert_non_null(ps);
    assert_int_equal(mv__probe_session_sample(ps, &s), 0);
    assert_int_equal(s.pid, pid);
    assert_true(s.rss_bytes > 0);
    assert_true(s.start_time_ticks > 0);

    assert_int_equal(kill(child, SIGKILL), 0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_int_equal(mv__probe_session_sample(ps, &s), -ESRCH);
    assert_int_equal(s.rss_bytes, MV_NA);
    assert_int_equal(mv__probe_session_sample(ps, &s), -ESRCH);
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), -ESRCH);
    mv__probe_session_free(ps);

    /* exited but not yet reaped (a zombie: its memory is gone, /proc still
     * answers without any Vm line): exited too, not a sample whose private
     * memory falls back to the whole cgroup's */
    child = spawn_pauser();
    pid = (int32_t)child;
    ps = mv__probe_session_new(&o, &pid, 1, 0, NULL, &err);
    assert_non_null(ps);
    assert_int_equal(mv__probe_session_sample(ps, &s), 0);
    assert_true(s.rss_bytes > 0);
    assert_int_equal(kill(child, SIGKILL), 0);
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0);
    assert_int_equal(mv__probe_session_sample(ps, &s), -ESRCH);
    assert_int_equal(s.private_bytes, MV_NA);
    assert_int_equal(mv__probe_session_sample(ps, &s), -ESRCH);
    assert_int_equal(waitpid(child, NULL, 0), child);
    mv__probe_session_free(ps);

    /* tree mode: the same */
    child = spawn_pauser();
    pid = (int32_t)child;
    ps = mv__probe_session_new(&o, &pid, 1, 1, NULL, &err);
    assert_non_null(ps);
    assert_int_equal(mv__probe_session_sample(ps, &s), 0);
    assert_int_equal(s.nprocs, 1);
    assert_int_equal(kill(child, SIGKILL), 0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_int_equal(mv__probe_session_sample(ps, &s), -ESRCH);
    mv__probe_session_free(ps);
}

/* A process moved to another cgroup: the session follows it within
 * MV__PROBE_SESSION_RECHECK samples. */
static void test_session_cgroup_move(void **state)
{
    (void)state;
    char root[] = "/tmp/mv_probe_XXXXXX";
    char cmd[1400], proc[256], cg[256], pdir[300];
    mv_sample a, b;
    int err;

    assert_non_null(mkdtemp(root));
    snprintf(cmd, sizeof(cmd), "cp -r '%s/v2/proc' '%s/v2/cgroup' '%s/'",
             MV_FIXTURES, MV_FIXTURES, root);
    assert_int_equal(system(cmd), 0);
    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(cg, sizeof(cg), "%s/cgroup", root);
    snprintf(pdir, sizeof(pdir), "%s/2000", proc);
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    o.proc_root = proc;
    o.cgroup_root = cg;
    int32_t pid = 2000;

    mv__probe_session *ps = mv__probe_session_new(&o, &pid, 1, 0, NULL, &err);
    assert_non_null(ps);
    assert_int_equal(mv__probe_session_sample(ps, &a), 0);
    assert_string_equal(a.cgroup_path, "/system.slice/app.service");
    assert_int_equal(a.cg_usage_bytes, 629145600);

    /* moved: rewritten in place (the kept descriptor sees new text) */
    write_file(pdir, "cgroup", "0::/system.slice/db.service\n");
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &b), 0);
    assert_string_equal(b.cgroup_path, "/system.slice/db.service");
    int moved_at = -1;
    for (int i = 0; i < MV__PROBE_SESSION_RECHECK; i++) {
        assert_int_equal(mv__probe_session_sample(ps, &a), 0);
        if (strcmp(a.cgroup_path, "/system.slice/db.service") == 0) {
            moved_at = i;
            break;
        }
        assert_int_equal(a.cg_usage_bytes, 629145600);  /* still the old */
    }
    assert_true(moved_at >= 0);
    assert_int_equal(a.cg_usage_bytes, 209715200);
    assert_same_sample(&a, &b);

    /* moved to a cgroup that does not exist here: the container fall-back
     * (hierarchy root) as mv__probe_target does */
    write_file(pdir, "cgroup", "0::/docker/abc\n");
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &b), 0);
    for (int i = 0; i < MV__PROBE_SESSION_RECHECK; i++)
        assert_int_equal(mv__probe_session_sample(ps, &a), 0);
    assert_string_equal(a.cgroup_path, "/docker/abc");
    assert_same_sample(&a, &b);

    /* no memory cgroup any more */
    write_file(pdir, "cgroup", "1:cpu:/x\n");
    assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &b), 0);
    for (int i = 0; i < MV__PROBE_SESSION_RECHECK; i++)
        assert_int_equal(mv__probe_session_sample(ps, &a), 0);
    assert_int_equal(a.cgroup_version, 0);
    assert_same_sample(&a, &b);

    /* the process is gone: status removed (a fixture file stays readable
     * through the kept fd, so truncate it: 0 bytes means exited) */
    write_file(pdir, "status", "");
    assert_int_equal(mv__probe_session_sample(ps, &a), -ESRCH);
    mv__probe_session_free(ps);
    rm_rf(root);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Reports the cost of one sample of this process (no assertion on time:
 * machines vary; bench/ holds the real measurement). */
static void test_real_proc_cost(void **state)
{
    (void)state;
    mv__probe_opts o;
    mv__probe_opts_init(&o);
    mv_sample s;
    int32_t pid = (int32_t)getpid();
    const int iters = 2000;

    double t0 = now_us();
    for (int i = 0; i < iters; i++)
        assert_int_equal(mv__probe_target(&o, &pid, 1, 0, NULL, &s), 0);
    double per = (now_us() - t0) / iters;
    fprintf(stderr, "[ probe    ] mv__probe_target on self: %.1f us per sample\n", per);
    assert_true(per > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_status),
        cmocka_unit_test(test_parse_stat),
        cmocka_unit_test(test_parse_meminfo_rollup),
        cmocka_unit_test(test_parse_psi),
        cmocka_unit_test(test_parse_proc_cgroup),
        cmocka_unit_test(test_parse_cgroup_value),
        cmocka_unit_test(test_parse_cgroup_stat_events),
        cmocka_unit_test(test_parse_smaps_top),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_apply_limit),
        cmocka_unit_test(test_limit_quantity),
        cmocka_unit_test(test_sample_clear),
        cmocka_unit_test(test_fixture_v1),
        cmocka_unit_test(test_fixture_v1_cgroup_paths),
        cmocka_unit_test(test_fixture_v2),
        cmocka_unit_test(test_fixture_v2_root),
        cmocka_unit_test(test_fixture_v2_ancestors),
        cmocka_unit_test(test_fixture_v2_ns),
        cmocka_unit_test(test_cgroup_ancestor_refresh),
        cmocka_unit_test(test_fixture_no_cgroup),
        cmocka_unit_test(test_fixture_tree),
        cmocka_unit_test(test_fixture_garbage),
        cmocka_unit_test(test_fixture_truncated),
        cmocka_unit_test(test_fixture_inspect_helpers),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_real_proc),
        cmocka_unit_test(test_real_proc_cost),
        cmocka_unit_test(test_session_fixtures),
        cmocka_unit_test(test_session_self),
        cmocka_unit_test(test_session_child_exit),
        cmocka_unit_test(test_session_cgroup_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
