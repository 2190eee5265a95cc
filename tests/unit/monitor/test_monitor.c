/*
 * test_monitor.c — the monitor end to end: start/stop, samples of this very
 * process, growth and time to limit on a process that allocates, levels and
 * OOM kills driven through a fake /proc + cgroup tree written in /tmp, target
 * exit and PID reuse, phases holding back growth, the CPU budget, the event
 * log and recording sinks (a full disk under the recording said once, counted
 * and recovered from), the HTTP endpoint, config validation and fork
 * safety.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sanitizer.h"

#include "memvigil.h"
#include "probe.h"
#include "monitor.h"
#include "util.h"

/* ---- event capture --------------------------------------------------- */

typedef struct capture {
    pthread_mutex_t mu;
    int count[MV_EVENT_KIND_COUNT];
    mv_level last_level, last_prev;
    char last_subject[MV_EVENT_KIND_COUNT][128];
    char last_message[MV_EVENT_KIND_COUNT][320];
    int wrong_thread;             /* callback not on a non-main thread */
    pthread_t main_thread;
    int oom_named;                /* OOM_KILL events with ev->oom_kill */
    mv_oom_kill last_victim;
} capture;

static void cap_init(capture *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->main_thread = pthread_self();
}

static void on_event(const mv_event *ev, void *ud)
{
    capture *c = ud;
    pthread_mutex_lock(&c->mu);
    if (ev->kind < MV_EVENT_KIND_COUNT) {
        c->count[ev->kind]++;
        snprintf(c->last_subject[ev->kind], 128, "%s",
                 ev->subject ? ev->subject : "");
        snprintf(c->last_message[ev->kind], 320, "%s", ev->message);
    }
    if (ev->kind == MV_EVENT_OOM_KILL && ev->oom_kill) {
        c->oom_named++;
        c->last_victim = *ev->oom_kill;
    }
    if (ev->kind == MV_EVENT_LEVEL) {
        c->last_level = ev->level;
        c->last_prev = ev->prev_level;
    }
    if (pthread_equal(pthread_self(), c->main_thread))
        c->wrong_thread = 1;
    pthread_mutex_unlock(&c->mu);
}

static int cap_count(capture *c, mv_event_kind k)
{
    pthread_mutex_lock(&c->mu);
    int n = c->count[k];
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Waits up to timeout_ms for at least n events of kind k. */
static int wait_events(capture *c, mv_event_kind k, int n, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 10) {
        if (cap_count(c, k) >= n)
            return 1;
        sleep_ms(10);
    }
    return cap_count(c, k) >= n;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int self_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* ---- a fake /proc and cgroup v2 tree ---------------------------------- */

typedef struct fake {
    char root[128];
    char proc[192];
    char cg[192];
} fake;

static void put(const char *dir, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(const char *dir, const char *name, const char *fmt, ...)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

#define FAKE_PID 4242
#define FAKE_LIMIT 1000000000LL /* memory.max, bytes */

static void fake_process_swap(fake *fk, long long start_ticks, long long swap_kb)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%d", fk->proc, FAKE_PID);
    mkdir(dir, 0755);
    put(dir, "status",
        "Name:\tfake\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t1\n"
        "VmPeak:\t  200000 kB\nVmSize:\t  100000 kB\nVmHWM:\t   60000 kB\n"
        "VmRSS:\t   50000 kB\nRssAnon:\t   40000 kB\nRssFile:\t   10000 kB\n"
        "RssShmem:\t       0 kB\nVmSwap:\t%8lld kB\nThreads:\t4\n",
        FAKE_PID, swap_kb);
    put(dir, "stat",
        "%d (fake) S 1 %d %d 0 -1 4194304 100 0 0 0 10 5 0 0 20 0 4 0 %lld "
        "102400000 12500\n", FAKE_PID, FAKE_PID, FAKE_PID, start_ticks);
    put(dir, "cgroup", "0::/svc\n");
}

static void fake_process(fake *fk, long long start_ticks)
{
    fake_process_swap(fk, start_ticks, 0);
}

/* Sets the cgroup's usage (working set = usage, inactive_file 0) and its
 * oom_kill count. */
static void fake_cgroup(fake *fk, long long usage, int oom_kills)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/svc", fk->cg);
    put(dir, "memory.current", "%lld\n", usage);
    put(dir, "memory.stat", "anon %lld\nfile 0\ninactive_file 0\nshmem 0\n",
        usage);
    put(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom %d\noom_kill %d\n",
        oom_kills, oom_kills);
}

static void fake_make(fake *fk)
{
    snprintf(fk->root, sizeof fk->root, "/tmp/mv_test_monitor.XXXXXX");
    assert_non_null(mkdtemp(fk->root));
    snprintf(fk->proc, sizeof fk->proc, "%s/proc", fk->root);
    snprintf(fk->cg, sizeof fk->cg, "%s/cg", fk->root);
    mkdir(fk->proc, 0755);
    mkdir(fk->cg, 0755);
    put(fk->proc, "meminfo",
        "MemTotal:       16000000 kB\nMemFree:         8000000 kB\n"
        "MemAvailable:   12000000 kB\nSwapTotal:              0 kB\n"
        "SwapFree:               0 kB\n");
    put(fk->cg, "cgroup.controllers", "cpu memory pids\n");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/svc", fk->cg);
    mkdir(dir, 0755);
    put(dir, "memory.max", "%lld\n", FAKE_LIMIT);
    put(dir, "memory.high", "max\n");
    fake_process(fk, 123456);
    fake_cgroup(fk, FAKE_LIMIT / 2, 0);
}

static void fake_remove(fake *fk)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fk->root);
    assert_int_equal(system(cmd), 0);
}

static void fake_config(fake *fk, mv_config *cfg, capture *cap)
{
    mv_config_init(cfg);
    cfg->pid = FAKE_PID;
    cfg->proc_root = fk->proc;
    cfg->cgroup_root = fk->cg;
    cfg->interval_ms = 60000; /* ticks come from mv_monitor_sample_now */
    cfg->level_min_duration_ms = 0;
    cfg->on_event = on_event;
    cfg->userdata = cap;
}

/* Appends kmsg records (text) to the file at path. */
static void kmsg_append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- tests ------------------------------------------------------------ */

static void test_config_defaults(void **state)
{
    (void)state;
    mv_config c;
    memset(&c, 0x5a, sizeof c);
    mv_config_init(&c);
    assert_int_equal(c.pid, 0);
    assert_null(c.pids);
    assert_int_equal(c.npids, 0);
    assert_int_equal(c.include_descendants, 0);
    assert_null(c.cgroup);
    assert_string_equal(c.proc_root, "/proc");
    assert_string_equal(c.cgroup_root, "/sys/fs/cgroup");
    assert_int_equal(c.interval_ms, 10000);
    assert_int_equal(c.smaps_rollup, 0);
    assert_int_equal(c.smaps_max_vm_bytes, 64LL << 30);
    assert_true(c.warning_ratio == 0.80);
    assert_true(c.critical_ratio == 0.90);
    assert_true(c.hysteresis_ratio == 0.05);
    assert_int_equal(c.level_min_duration_ms, -1);
    assert_true(c.cpu_budget == 0.01);
    assert_int_equal(c.max_series_per_family, 1000);
    assert_int_equal(c.process_metrics, 1);
    assert_null(c.on_event);
    assert_null(c.event_log);
    assert_null(c.record_path);
    assert_null(c.http_listen);
    assert_null(c.http_token);
}

static void test_invalid_configs(void **state)
{
    (void)state;
    mv_config c;
    mv_monitor *m = (mv_monitor *)0x1;
    /* a good start/stop first (sanitizer runtimes start helper threads) */
    mv_config_init(&c);
    c.interval_ms = 100;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    mv_monitor_stop(m);
    int threads = self_threads();

    assert_int_equal(mv_monitor_start(NULL, &m), -EINVAL);
    assert_null(m);
    mv_config_init(&c);
    assert_int_equal(mv_monitor_start(&c, NULL), -EINVAL);

#define BAD(stmt)                                                   \
    do {                                                            \
        mv_config_init(&c);                                         \
        stmt;                                                       \
        m = (mv_monitor *)0x1;                                      \
        assert_int_equal(mv_monitor_start(&c, &m), -EINVAL);        \
        assert_null(m);                                             \
    } while (0)
    BAD(c.interval_ms = 99);
    BAD(c.interval_ms = 0);
    BAD(c.warning_ratio = 0.0);
    BAD(c.warning_ratio = 0.95);           /* above critical */
    BAD(c.critical_ratio = 1.01);
    BAD(c.critical_ratio = NAN);
    BAD(c.cpu_budget = 0.0);
    BAD(c.cpu_budget = 1.5);
    BAD(c.max_series_per_family = 0);
    BAD(c.hysteresis_ratio = -0.1);
    BAD(c.level_min_duration_ms = -2);
    BAD(c.pid = -5);
    BAD((c.npids = 2, c.pids = NULL));
    BAD(c.cgroup = "");
    BAD(c.limit_bytes = -1);
    BAD(c.leak_min_rise_ms = -1);
    BAD(c.record_max_bytes = 1023);        /* below the 1 KiB minimum */
    BAD(c.record_keep = -1);
    BAD(c.record_keep = 1001);
    BAD(c.event_log_max_bytes = 100);
    BAD(c.event_log_keep = 5000);
    BAD(c.alloc_stats_file = "");
    BAD(c.alloc_window_ms = 999);
    BAD(c.trim_interval_ms = 999);                    /* below 1 s */
    BAD(c.trim_interval_ms = -1);
    BAD((c.trim_interval_ms = 1000, c.pid = (int32_t)getppid())); /* not us */
    BAD((c.trim_interval_ms = 1000, c.cgroup = "/"));
#undef BAD
    /* critical == 1.0 is allowed */
    mv_config_init(&c);
    c.critical_ratio = 1.0;
    c.interval_ms = 100;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    mv_monitor_stop(m);
    assert_int_equal(self_threads(), threads);
}

static void test_missing_target(void **state)
{
    (void)state;
    int threads = self_threads();
    mv_config c;
    mv_monitor *m = (mv_monitor *)0x1;
    mv_config_init(&c);
    c.pid = 999999999; /* above any pid_max */
    c.interval_ms = 100;
    assert_int_equal(mv_monitor_start(&c, &m), -ESRCH);
    assert_null(m);
    assert_int_equal(self_threads(), threads); /* nothing left running */

    fake fk;
    fake_make(&fk);
    mv_config_init(&c);
    c.proc_root = fk.proc;
    c.cgroup_root = fk.cg;
    c.cgroup = "/no/such/group";
    m = (mv_monitor *)0x1;
    assert_int_equal(mv_monitor_start(&c, &m), -ENOENT);
    assert_null(m);
    assert_int_equal(self_threads(), threads);
    fake_remove(&fk);
}

static void test_self_samples_and_render(void **state)
{
    (void)state;
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_non_null(m);
    assert_true(wait_events(&cap, MV_EVENT_STARTED, 1, 2000));
    assert_int_equal(cap_count(&cap, MV_EVENT_STARTED), 1);

    mv_status st;
    for (int i = 0; i < 300; i++) {
        assert_int_equal(mv_monitor_status(m, &st), 0);
        if (st.samples_taken >= 4)
            break;
        sleep_ms(10);
    }
    assert_true(st.samples_taken >= 4);
    assert_int_equal(st.sample.pid, (int32_t)getpid());
    assert_true(st.sample.rss_bytes > 0);
    assert_true(st.sample.private_bytes > 0);
    assert_int_equal(st.target_alive, 1);
    assert_true(st.interval_ms >= 100);

    int64_t before = st.samples_taken;
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_true(st.samples_taken >= before + 1);

    assert_int_equal(mv_gauge_set(m, "index", "shard=3", 123456789), 0);
    assert_int_equal(mv_gauge_set(m, "bad name", NULL, 1), -EINVAL);
    assert_int_equal(mv_gauge_set(m, "index", "=x", 1), -EINVAL);
    assert_int_equal(mv_gauge_set(NULL, "index", NULL, 1), -EINVAL);

    mv_op *op = mv_op_begin(m, "bulk_load");
    assert_non_null(op);
    char *block = malloc(8 << 20);
    assert_non_null(block);
    memset(block, 1, 8 << 20);
    mv_op_end(op);
    free(block);
    mv_op_end(NULL);
    assert_null(mv_op_begin(m, "no spaces"));

    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(b.data);
    assert_non_null(strstr(b.data, "memvigil_app_memory_bytes{component=\"index\",shard=\"3\"} 123456789"));
    assert_non_null(strstr(b.data, "memvigil_operation_memory_delta_bytes"));
    assert_non_null(strstr(b.data, "operation=\"bulk_load\""));
    assert_non_null(strstr(b.data, "memvigil_resident_memory_bytes"));
    /* the two claims have their own families: a young monitor has neither */
    assert_non_null(strstr(b.data, "\nmemvigil_oom_risk 0\n"));
    assert_non_null(strstr(b.data, "\nmemvigil_leak_verdict{verdict=\"leak\"} 0\n"));
    mv_buf_release(&b);

    assert_int_equal(mv_render(m, MV_FORMAT_OPENMETRICS, &b), 0);
    assert_true(b.len > 6);
    assert_string_equal(b.data + b.len - 6, "# EOF\n");
    mv_buf_release(&b);

    assert_int_equal(mv_render(m, MV_FORMAT_JSON, &b), 0);
    assert_int_equal(b.data[0], '{');
    assert_non_null(strstr(b.data, "\"started\""));
    assert_non_null(strstr(b.data, "\"oom_risk\":{\"active\":false,"));
    mv_buf_release(&b);
    assert_int_equal(mv_render(m, (mv_format)42, &b), -EINVAL);
    assert_int_equal(b.len, 0);

    /* a gauge set to 0 disappears */
    assert_int_equal(mv_gauge_set(m, "index", "shard=3", 0), 0);
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_null(strstr(b.data, "component=\"index\""));
    mv_buf_release(&b);

    int64_t t0 = now_ms();
    mv_monitor_stop(m);
    assert_true(now_ms() - t0 < 2000);
    assert_int_equal(cap.wrong_thread, 0);
    mv_monitor_stop(NULL);
}

/* Lines of a rendering that start with prefix. */
static int count_prefixed(const char *text, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, pl) == 0)
            n++;
    return n;
}

/* The public mv_heap_sites_set through a real monitor's rendering: the site
 * is the only label (no rank), a new set replaces the old one, more than 10
 * are capped, a NULL site is -EINVAL and changes nothing. */
/* A monitor of its own process reads its allocator: the sample's alloc_*
 * fields, the memvigil_alloc_* families, the status JSON's allocator
 * object; mv_trim() is counted and raises a trim event, and a bad
 * alloc_stats_file (not a status file) only leaves the figures out. */
static void test_allocator_on_self(void **state)
{
    (void)state;
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
#if defined(MV_UNDER_ASAN) || defined(MV_UNDER_TSAN)
    /* the sanitizer's malloc is not glibc's: no figures rather than zeros */
    int have_glibc = 0;
    assert_int_equal(st.sample.alloc_kind, 0);
#else
    int have_glibc = 1;
    assert_int_equal(st.sample.alloc_kind, 1); /* glibc: the first reading */
    assert_true(st.sample.alloc_in_use_bytes > 0);
    assert_true(st.sample.alloc_arenas >= 1);
#endif

    int64_t released = -1;
    assert_int_equal(mv_trim(m, &released), 0);
    assert_true(released >= 0);
    assert_true(wait_events(&cap, MV_EVENT_TRIM, 1, 2000));

    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    if (have_glibc)
        assert_non_null(strstr(b.data, "memvigil_alloc_in_use_bytes{allocator=\"glibc\"} "));
    assert_non_null(strstr(b.data, "memvigil_alloc_trims_total 1\n"));
    assert_non_null(strstr(b.data, "memvigil_alloc_diagnosis{diagnosis=\"none\"} 1\n"));
    mv_buf_release(&b);
    assert_int_equal(mv_render(m, MV_FORMAT_JSON, &b), 0);
    assert_non_null(strstr(b.data, "\"allocator\":{\"diagnosis\":\"none\""));
    assert_non_null(strstr(b.data, "\"trims\":1,"));
    mv_buf_release(&b);
    mv_monitor_stop(m);
    pthread_mutex_destroy(&cap.mu);

    /* another process with a garbage status file: no figures, no crash */
    char path[] = "/tmp/mv_test_alloc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char torn[] = "{\"alloc\":{\"kind\":\"glibc\",\"in_use_bytes\":-1";
    assert_int_equal(write(fd, torn, sizeof torn - 1), (ssize_t)(sizeof torn - 1));
    close(fd);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    mv_config_init(&c);
    c.interval_ms = 100;
    c.pid = child;
    c.alloc_stats_file = path;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.sample.alloc_kind, 0);
    assert_int_equal(st.sample.alloc_in_use_bytes, MV_NA);
    mv_monitor_stop(m);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    unlink(path);
}

/* The preload's status file of another process: the sample after a
 * rewrite carries the reading; the next one (file unchanged) has none of
 * its own — a recorded sample never repeats a reading — but the current
 * state (mv_monitor_status, the memvigil_alloc_* gauges) keeps showing the
 * last reading, so a scrape or a status line between readings does not
 * lose them. */
static void test_allocator_gauges_between_readings(void **state)
{
    (void)state;
    char path[] = "/tmp/mv_test_alloc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char status[] =
        "{\"pid\":1,\"alloc\":{\"kind\":\"glibc\",\"in_use_bytes\":123456789,"
        "\"free_bytes\":1000,\"mapped_bytes\":123457789,"
        "\"releasable_bytes\":10,\"arenas\":3}}";
    assert_int_equal(write(fd, status, sizeof status - 1),
                     (ssize_t)(sizeof status - 1));
    close(fd);
    pid_t child = fork();
    if (child == 0) {
        alarm(60); /* gone even if an assertion below leaves it behind */
        pause();
        _exit(0);
    }
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 60000;
    c.pid = child;
    c.alloc_stats_file = path;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.sample.alloc_kind, 1);
    assert_int_equal(st.sample.alloc_in_use_bytes, 123456789);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.sample.alloc_kind, 1); /* the last reading */
    assert_int_equal(st.sample.alloc_arenas, 3);
    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(strstr(b.data, "memvigil_alloc_in_use_bytes{allocator=\"glibc\"} 123456789\n"));
    assert_non_null(strstr(b.data, "memvigil_alloc_arenas{allocator=\"glibc\"} 3\n"));
    mv_buf_release(&b);
    mv_monitor_stop(m);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    unlink(path);
}

static void test_heap_sites_public(void **state)
{
    (void)state;
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 60000;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);

    mv_heap_site two[2] = {{"leak_fast (heap_sites.c:33)", 49670200.25, 380786746},
                           {"leak_slow (heap_sites.c:40)", 1024, 65536}};
    assert_int_equal(mv_heap_sites_set(m, two, 2), 0);
    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(strstr(b.data,
        "\nmemvigil_heap_site_growth_bytes_per_second{site=\"leak_fast (heap_sites.c:33)\"}"
        " 49670200.25\n"
        "memvigil_heap_site_growth_bytes_per_second{site=\"leak_slow (heap_sites.c:40)\"}"
        " 1024\n"));
    assert_non_null(strstr(b.data,
        "\nmemvigil_heap_site_inuse_bytes{site=\"leak_fast (heap_sites.c:33)\"} 380786746\n"));
    assert_null(strstr(b.data, "rank="));
    mv_buf_release(&b);

    /* a new set replaces the old one: leak_slow's series are gone */
    mv_heap_site one = {"other (o.c:7)", 5, 4096};
    assert_int_equal(mv_heap_sites_set(m, &one, 1), 0);
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(strstr(b.data,
        "\nmemvigil_heap_site_inuse_bytes{site=\"other (o.c:7)\"} 4096\n"));
    assert_null(strstr(b.data, "leak_fast ("));
    assert_null(strstr(b.data, "leak_slow ("));
    assert_int_equal(count_prefixed(b.data, "memvigil_heap_site_inuse_bytes{"), 1);
    mv_buf_release(&b);

    /* twelve sites: the first ten are kept */
    char names[12][32];
    mv_heap_site many[12];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof names[i], "f%d (m.c:%d)", i, i + 1);
        many[i] = (mv_heap_site){names[i], 1000.0 - i, 100 + i};
    }
    assert_int_equal(mv_heap_sites_set(m, many, 12), 0);
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_int_equal(count_prefixed(b.data, "memvigil_heap_site_growth_bytes_per_second{"), 10);
    assert_int_equal(count_prefixed(b.data, "memvigil_heap_site_inuse_bytes{"), 10);
    assert_non_null(strstr(b.data, "\nmemvigil_heap_site_inuse_bytes{site=\"f9 (m.c:10)\"} 109\n"));
    assert_null(strstr(b.data, "f10 "));
    assert_null(strstr(b.data, "other (o.c:7)"));
    mv_buf_release(&b);

    /* errors change nothing */
    mv_heap_site bad[2] = {{"ok (a.c:1)", 1, 1}, {NULL, 2, 2}};
    assert_int_equal(mv_heap_sites_set(m, bad, 2), -EINVAL);
    assert_int_equal(mv_heap_sites_set(m, NULL, 1), -EINVAL);
    assert_int_equal(mv_heap_sites_set(NULL, many, 1), -EINVAL);
    assert_int_equal(mv_render(m, MV_FORMAT_OPENMETRICS, &b), 0);
    assert_int_equal(count_prefixed(b.data, "memvigil_heap_site_inuse_bytes{"), 10);
    assert_null(strstr(b.data, "ok (a.c:1)"));
    assert_non_null(strstr(b.data, "# UNIT memvigil_heap_site_inuse_bytes bytes\n"));
    mv_buf_release(&b);

    /* n == 0 clears: no series, no metadata */
    assert_int_equal(mv_heap_sites_set(m, NULL, 0), 0);
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_null(strstr(b.data, "memvigil_heap_site"));
    mv_buf_release(&b);
    mv_monitor_stop(m);
}

/* Allocates and touches 2 MiB every 50 ms for ms milliseconds. */
typedef struct grower {
    char **blocks;
    size_t n, cap;
} grower;

static void grow_for(grower *g, int ms)
{
    for (int t = 0; t < ms; t += 50) {
        if (g->n == g->cap) {
            g->cap = g->cap ? 2 * g->cap : 64;
            g->blocks = realloc(g->blocks, g->cap * sizeof *g->blocks);
            assert_non_null(g->blocks);
        }
        char *p = malloc(2 << 20);
        assert_non_null(p);
        memset(p, (int)(g->n & 0x7f) + 1, 2 << 20);
        g->blocks[g->n++] = p;
        sleep_ms(50);
    }
}

static void grow_free(grower *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->blocks[i]);
    free(g->blocks);
    memset(g, 0, sizeof *g);
}

static void test_growth_on_self(void **state)
{
    (void)state;
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    c.cpu_budget = 1.0; /* keep the 100 ms interval whatever the load */
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);

    /* growth during a phase is held back ... */
    assert_int_equal(mv_phase_begin(m, "initial_load"), 0);
    grower g = {0};
    grow_for(&g, 3000);
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_true(st.growth_bytes_per_s > 1e6); /* ~40 MiB/s */
    assert_true(st.growth_window_s > 1.0);
    assert_true(isfinite(st.time_to_limit_s));
    assert_true(st.time_to_limit_s > 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_GROWTH), 0);
    assert_true(wait_events(&cap, MV_EVENT_PHASE, 1, 1000));

    /* ... and raised, labelled with the phase, once it ended */
    assert_int_equal(mv_phase_end(m, "initial_load"), 0);
    assert_int_equal(mv_phase_end(m, "initial_load"), -ENOENT);
    grow_for(&g, 600);
    assert_true(wait_events(&cap, MV_EVENT_GROWTH, 1, 2000));
    assert_int_equal(cap_count(&cap, MV_EVENT_GROWTH), 1);
    assert_true(cap_count(&cap, MV_EVENT_PHASE) >= 2);
    pthread_mutex_lock(&cap.mu);
    assert_string_equal(cap.last_subject[MV_EVENT_GROWTH], "initial_load");
    assert_non_null(strstr(cap.last_message[MV_EVENT_GROWTH], "initial_load"));
    assert_string_equal(cap.last_subject[MV_EVENT_PHASE], "initial_load");
    pthread_mutex_unlock(&cap.mu);

    mv_monitor_stop(m);
    grow_free(&g);
}

static void test_levels_and_oom_fake_tree(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.sample.pid, FAKE_PID);
    assert_int_equal(st.sample.rss_bytes, 50000LL * 1024);
    assert_int_equal(st.sample.cg_max_bytes, FAKE_LIMIT);
    assert_true(fabs(st.sample.usage_ratio - 0.5) < 1e-9);
    assert_int_equal(st.level, MV_LEVEL_OK);
    assert_int_equal(st.samples_taken, 1);

    fake_cgroup(&fk, FAKE_LIMIT * 85 / 100, 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_LEVEL), 1);
    assert_int_equal(cap.last_level, MV_LEVEL_WARNING);
    assert_int_equal(cap.last_prev, MV_LEVEL_OK);

    fake_cgroup(&fk, FAKE_LIMIT * 95 / 100, 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_LEVEL), 2);
    assert_int_equal(cap.last_level, MV_LEVEL_CRITICAL);
    assert_int_equal(cap.last_prev, MV_LEVEL_WARNING);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.level, MV_LEVEL_CRITICAL);

    /* an OOM kill in the cgroup */
    fake_cgroup(&fk, FAKE_LIMIT * 95 / 100, 1);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 1);
    assert_int_equal(mv_monitor_sample_now(m), 0); /* same count: no event */
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 1);

    fake_cgroup(&fk, FAKE_LIMIT * 40 / 100, 1);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_LEVEL), 3);
    assert_int_equal(cap.last_level, MV_LEVEL_OK);
    assert_int_equal(cap.last_prev, MV_LEVEL_CRITICAL);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.samples_taken, 6);

    /* PID reuse: same pid, another start time. The probe session keeps the
     * process's files open (on a real /proc that pins the process) and
     * compares the start time every MV__PROBE_SESSION_RECHECK samples, so a
     * fixture tree shows the change within that many samples. */
    fake_process(&fk, 999999);
    int reuse_rc = 0, extra = 0;
    while ((reuse_rc = mv_monitor_sample_now(m)) == 0 &&
           extra < MV__PROBE_SESSION_RECHECK)
        extra++;
    assert_int_equal(reuse_rc, -ESRCH);
    assert_int_equal(cap_count(&cap, MV_EVENT_PID_REUSE), 1);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.target_alive, 0);
    assert_int_equal(st.samples_taken, 6 + extra); /* last good sample kept */
    assert_int_equal(st.sample.cg_usage_bytes, FAKE_LIMIT * 40 / 100);
    assert_int_equal(mv_monitor_sample_now(m), -ESRCH);
    assert_int_equal(cap_count(&cap, MV_EVENT_PID_REUSE), 1);
    mv_monitor_stop(m);

    /* target exit: the process directory disappears */
    fake_process(&fk, 123456);
    cap_init(&cap);
    fake_config(&fk, &c, &cap);
    m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%d'", fk.proc, FAKE_PID);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mv_monitor_sample_now(m), -ESRCH);
    assert_int_equal(cap_count(&cap, MV_EVENT_TARGET_EXIT), 1);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.target_alive, 0);
    assert_int_equal(st.sample.pid, FAKE_PID);
    /* application calls still work after the target is gone */
    assert_int_equal(mv_phase_begin(m, "shutdown"), 0);
    assert_true(wait_events(&cap, MV_EVENT_PHASE, 1, 1000));
    mv_monitor_stop(m);
    fake_remove(&fk);
}

/* The kernel log (a file standing for /dev/kmsg): a kill of the target
 * read from it names the victim in the counter's oom_kill event (callback,
 * metrics); a kill elsewhere is not the target's; a kill with no counter
 * rise is told on its own after OOM_WAIT_TICKS; an unreadable log is told
 * once and sampling goes on. */
static void test_oom_kmsg_fake_tree(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    char log[300], vm[300];
    snprintf(log, sizeof log, "%s/kmsg", fk.root);
    snprintf(vm, sizeof vm, "%s/vmstat", fk.proc);
    kmsg_append(log, "6,1,5,-;boot noise\n");
    kmsg_append(vm, "pgfault 1\noom_kill 5\n");
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    c.kmsg_path = log;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);

    /* the target is killed: the log says who, the counter rises */
    kmsg_append(log,
        "6,10,100,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
        "mems_allowed=0,oom_memcg=/svc,task_memcg=/svc,task=fake,pid=4242,uid=0\n"
        "3,11,101,-;Memory cgroup out of memory: Killed process 4242 (fake) "
        "total-vm:100000kB, anon-rss:61440kB, file-rss:2048kB, shmem-rss:0kB, "
        "UID:0 pgtables:200kB oom_score_adj:0\n");
    fake_cgroup(&fk, FAKE_LIMIT / 2, 1);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 1);
    assert_int_equal(cap.oom_named, 1);
    assert_int_equal(cap.last_victim.pid, FAKE_PID);
    assert_string_equal(cap.last_victim.comm, "fake");
    assert_int_equal(cap.last_victim.anon_rss_bytes, 61440LL * 1024);
    assert_non_null(strstr(cap.last_message[MV_EVENT_OOM_KILL],
                           "(count 0 -> 1): the kernel killed pid 4242 (fake) "
                           "at anon-rss 60 MiB"));
    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(strstr(b.data, "\nmemvigil_host_oom_kills_total 5\n"));
    assert_non_null(strstr(b.data, "memvigil_oom_kill_victim_rss_bytes{pid=\"4242\","
                                   "comm=\"fake\",cgroup=\"/svc\",constraint=\"cgroup\","
                                   "type=\"anon\"} 62914560\n"));
    b.len = 0;
    /* the status JSON's recent events carry the victim too */
    assert_int_equal(mv_render(m, MV_FORMAT_JSON, &b), 0);
    assert_non_null(strstr(b.data, "\"oom_kill\":{\"pid\":4242,\"comm\":\"fake\""));
    mv_buf_release(&b);

    /* a kill in another cgroup: not the target's */
    kmsg_append(log,
        "6,20,200,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
        "mems_allowed=0,oom_memcg=/other,task_memcg=/other,task=x,pid=999,uid=0\n"
        "3,21,201,-;Memory cgroup out of memory: Killed process 999 (x) "
        "total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n");
    for (int i = 0; i < 4; i++)
        assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 1);

    /* a kill of a process in the cgroup the counter does not show (yet):
     * told on its own once it has waited OOM_WAIT_TICKS */
    kmsg_append(log,
        "6,30,300,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
        "mems_allowed=0,oom_memcg=/svc,task_memcg=/svc/worker,task=w,pid=777,uid=0\n"
        "3,31,301,-;Memory cgroup out of memory: Killed process 777 (w) "
        "total-vm:1kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB\n");
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 1);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 2);
    assert_int_equal(cap.last_victim.pid, 777);
    assert_int_equal(cap_count(&cap, MV_EVENT_PROBE_ERROR), 0);

    /* a kill handed over by the caller (node mode reads the log once for
     * every container), told with the next counter rise */
    mv_oom_kill given;
    memset(&given, 0, sizeof given);
    given.pid = 31337;
    snprintf(given.comm, sizeof given.comm, "handed");
    given.anon_rss_bytes = 1 << 20;
    given.file_rss_bytes = given.shmem_rss_bytes = 0;
    given.oom_score_adj = MV_OOM_SCORE_ADJ_NA;
    assert_int_equal(mv_monitor_oom_kill(m, &given), 0);
    assert_int_equal(mv_monitor_oom_kill(m, NULL), -EINVAL);
    fake_cgroup(&fk, FAKE_LIMIT / 2, 2);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_OOM_KILL), 3);
    assert_int_equal(cap.last_victim.pid, 31337);
    assert_non_null(strstr(cap.last_message[MV_EVENT_OOM_KILL],
                           "(count 1 -> 2): the kernel killed pid 31337 (handed)"));
    mv_monitor_stop(m);

    /* an unreadable log: told once, sampling goes on */
    cap_init(&cap);
    c.userdata = &cap;
    char missing[320];
    snprintf(missing, sizeof missing, "%s/no-kmsg", fk.root);
    c.kmsg_path = missing;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_PROBE_ERROR), 1);
    assert_non_null(strstr(cap.last_message[MV_EVENT_PROBE_ERROR],
                           "no-kmsg unreadable (No such file or directory): OOM "
                           "kills are counted from the cgroup's memory.events only"));
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_true(st.samples_taken >= 4);
    mv_monitor_stop(m);
    fake_remove(&fk);
}

static void test_probe_error_event(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    /* a status "file" that cannot be read (a directory): an error, not an
     * exit */
    char path[300];
    snprintf(path, sizeof path, "%s/%d/status", fk.proc, FAKE_PID);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    int rc = mv_monitor_sample_now(m);
    assert_true(rc < 0 && rc != -ESRCH);
    assert_int_equal(cap_count(&cap, MV_EVENT_PROBE_ERROR), 1);
    assert_int_equal(mv_monitor_sample_now(m), rc);
    assert_int_equal(cap_count(&cap, MV_EVENT_PROBE_ERROR), 1); /* not again */
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.target_alive, 1);
    assert_int_equal(st.samples_taken, 1);
    /* readable again: sampling resumes, and a later failure is reported */
    assert_int_equal(rmdir(path), 0);
    fake_process(&fk, 123456);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.samples_taken, 2);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(mv_monitor_sample_now(m), rc);
    assert_int_equal(cap_count(&cap, MV_EVENT_PROBE_ERROR), 2);
    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    mv_buf_release(&b);
    mv_monitor_stop(m);
    fake_remove(&fk);
}

static void test_swap_growing(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0); /* swap 0 */
    /* 5 steps of 1 MiB: the 6-sample window rose 5 MiB, never fell */
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(cap_count(&cap, MV_EVENT_SWAP_GROWING), 0);
        fake_process_swap(&fk, 123456, 1024LL * i);
        assert_int_equal(mv_monitor_sample_now(m), 0);
    }
    assert_int_equal(cap_count(&cap, MV_EVENT_SWAP_GROWING), 1);
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.sample.swap_bytes, 5LL << 20);
    /* still rising: raised once only */
    fake_process_swap(&fk, 123456, 6 * 1024);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_SWAP_GROWING), 1);
    /* falls (re-armed), then rises again for a whole window */
    fake_process_swap(&fk, 123456, 1024);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    for (int i = 1; i <= 4; i++) {
        fake_process_swap(&fk, 123456, 1024 + 2048LL * i);
        assert_int_equal(mv_monitor_sample_now(m), 0);
        assert_int_equal(cap_count(&cap, MV_EVENT_SWAP_GROWING), 1);
    }
    fake_process_swap(&fk, 123456, 1024 + 2048LL * 5);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_SWAP_GROWING), 2);
    mv_monitor_stop(m);
    fake_remove(&fk);
}

static void test_per_unit_rising(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_progress_add(m, "rows", 100), 0); /* baseline */
    /* private memory grows with the square of the units: per unit rises */
    for (int k = 1; k <= 4; k++) {
        fake_process_swap(&fk, 123456, 1024LL * k * k);
        assert_int_equal(mv_monitor_sample_now(m), 0);
        assert_int_equal(mv_progress_add(m, "rows", 100), 0);
    }
    assert_true(wait_events(&cap, MV_EVENT_PER_UNIT_RISING, 1, 2000));
    pthread_mutex_lock(&cap.mu);
    assert_string_equal(cap.last_subject[MV_EVENT_PER_UNIT_RISING], "rows");
    pthread_mutex_unlock(&cap.mu);
    assert_int_equal(cap.wrong_thread, 0);
    mv_monitor_stop(m);
    fake_remove(&fk);
}

static void test_real_child_exit(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        alarm(20);
        pause();
        _exit(0);
    }
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c);
    c.pid = child;
    c.interval_ms = 100;
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(wait_events(&cap, MV_EVENT_TARGET_EXIT, 1, 2000));
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_int_equal(st.target_alive, 0);
    assert_int_equal(st.sample.pid, child);
    assert_int_equal(mv_monitor_sample_now(m), -ESRCH);
    mv_monitor_stop(m);
}

static void test_budget_lengthens_interval(void **state)
{
    (void)state;
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    c.cpu_budget = 1e-7; /* any tick exceeds it */
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_true(wait_events(&cap, MV_EVENT_BUDGET, 1, 2000));
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_true(st.interval_ms >= 200);
    assert_true(st.interval_ms <= 100 * 60);
    pthread_mutex_lock(&cap.mu);
    assert_non_null(strstr(cap.last_message[MV_EVENT_BUDGET], "100 ms"));
    pthread_mutex_unlock(&cap.mu);
    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(strstr(b.data, "memvigil_monitor_interval_seconds "));
    assert_non_null(strstr(b.data, "memvigil_tick_duration_seconds_count "));
    mv_buf_release(&b);
    mv_monitor_stop(m);
}

static void test_stop_is_prompt(void **state)
{
    (void)state;
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c); /* 10 s interval */
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    sleep_ms(50);
    int64_t t0 = now_ms();
    mv_monitor_stop(m);
    assert_true(now_ms() - t0 < 2000);

    /* events queued just before stop are still delivered */
    cap_init(&cap);
    m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_phase_begin(m, "warmup"), 0);
    mv_monitor_stop(m);
    assert_int_equal(cap_count(&cap, MV_EVENT_STARTED), 1);
    assert_int_equal(cap_count(&cap, MV_EVENT_PHASE), 1);
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (!needle || strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static void test_sinks(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    char log[256], rec[256];
    snprintf(log, sizeof log, "%s/events.jsonl", fk.root);
    snprintf(rec, sizeof rec, "%s/rec.jsonl", fk.root);
    c.event_log = log;
    c.record_path = rec;
    c.record_command = "fake --serve";
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    fake_cgroup(&fk, FAKE_LIMIT * 95 / 100, 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_true(wait_events(&cap, MV_EVENT_STARTED, 1, 1000));
    mv_monitor_stop(m);

    assert_int_equal(count_lines(log, NULL), 2); /* started, level */
    assert_int_equal(count_lines(log, "\"started\""), 1);
    assert_int_equal(count_lines(log, "\"critical\""), 1);
    assert_int_equal(count_lines(rec, "\"type\":\"header\""), 1);
    assert_int_equal(count_lines(rec, "fake --serve"), 1);
    assert_int_equal(count_lines(rec, "\"type\":\"sample\""), 3);
    assert_int_equal(count_lines(rec, "\"type\":\"event\""), 2);

    /* a log file that cannot be opened: start fails, nothing runs */
    int threads = self_threads();
    fake_config(&fk, &c, &cap);
    c.event_log = "/nonexistent-dir/x.log";
    m = (mv_monitor *)0x1;
    assert_int_equal(mv_monitor_start(&c, &m), -ENOENT);
    assert_null(m);
    assert_int_equal(self_threads(), threads);
    fake_remove(&fk);
}

/* The recorder's application lines: what changed since the last tick,
 * one line per gauge / operation / progress unit. */
static void test_record_app_lines(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    char rec[256];
    snprintf(rec, sizeof rec, "%s/app.jsonl", fk.root);
    c.record_path = rec;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_gauge_set(m, "index", "shard=1", 4096), 0);
    for (int i = 0; i < 3; i++)
        mv_op_end(mv_op_begin(m, "query"));
    assert_int_equal(mv_progress_add(m, "rows", 500), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(count_lines(rec, "{\"type\":\"gauge\""), 1);
    assert_int_equal(count_lines(rec, "\"name\":\"index\",\"labels\":\"shard=1\",\"value\":4096}"), 1);
    assert_int_equal(count_lines(rec, "{\"type\":\"op\""), 1);
    assert_int_equal(count_lines(rec, "\"name\":\"query\",\"count\":3,"), 1);
    assert_int_equal(count_lines(rec, "\"unit\":\"rows\",\"units\":500,"), 1);
    /* nothing changed: the next tick writes only its sample */
    assert_int_equal(mv_gauge_set(m, "index", "shard=1", 4096), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(count_lines(rec, "{\"type\":\"gauge\""), 1);
    assert_int_equal(count_lines(rec, "{\"type\":\"op\""), 1);
    assert_int_equal(count_lines(rec, "{\"type\":\"progress\""), 1);
    /* removal is written as value 0; more progress as the new total */
    assert_int_equal(mv_gauge_set(m, "index", "shard=1", 0), 0);
    assert_int_equal(mv_progress_add(m, "rows", 250), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    /* set after the last tick: written by mv_monitor_stop */
    assert_int_equal(mv_gauge_set(m, "cache", NULL, 8192), 0);
    mv_monitor_stop(m);
    assert_int_equal(count_lines(rec, "\"name\":\"index\",\"labels\":\"shard=1\",\"value\":0}"), 1);
    assert_int_equal(count_lines(rec, "\"unit\":\"rows\",\"units\":750,"), 1);
    assert_int_equal(count_lines(rec, "\"name\":\"cache\",\"labels\":\"\",\"value\":8192}") +
                     count_lines(rec, "\"name\":\"cache\",\"labels\":null,\"value\":8192}"), 1);
    assert_int_equal(count_lines(rec, "{\"type\":\"sample\""), 4);
    fake_remove(&fk);
}

/* A recording that rotates writes the application's gauges and progress
 * again at the top of each new file: once the oldest files are dropped,
 * the kept ones still say what a gauge that has not moved since holds. */
static void test_record_app_lines_after_rotation(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    char rec[256], rec1[300];
    snprintf(rec, sizeof rec, "%s/rot.jsonl", fk.root);
    snprintf(rec1, sizeof rec1, "%s.1", rec);
    c.record_path = rec;
    c.record_max_bytes = 2048;  /* a few samples per file */
    c.record_keep = 2;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_gauge_set(m, "index", "shard=1", 4096), 0);
    assert_int_equal(mv_progress_add(m, "rows", 500), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(mv_monitor_sample_now(m), 0);
    mv_monitor_stop(m);
    /* it rotated (FILE.1 exists, at most 2 files) and each file kept has
     * its header and the unchanged gauge and progress */
    assert_true(count_lines(rec1, "\"type\":\"header\"") == 1);
    assert_int_equal(count_lines(rec, "\"type\":\"header\""), 1);
    assert_int_equal(count_lines(rec, "\"name\":\"index\",\"labels\":\"shard=1\",\"value\":4096}"), 1);
    assert_int_equal(count_lines(rec, "\"unit\":\"rows\",\"units\":500,"), 1);
    assert_int_equal(count_lines(rec1, "\"name\":\"index\",\"labels\":\"shard=1\",\"value\":4096}"), 1);
    char rec2[300];
    snprintf(rec2, sizeof rec2, "%s.2", rec);
    assert_int_equal(access(rec2, F_OK), -1);
    fake_remove(&fk);
}

static void test_http_endpoint(void **state)
{
    (void)state;
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    c.http_listen = "127.0.0.1:0";
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    int port = mv_monitor_http_port(m);
    assert_true(port > 0 && port < 65536);
    assert_int_equal(mv_gauge_set(m, "cache", NULL, 4096), 0);

    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "curl -s --max-time 5 http://127.0.0.1:%d/metrics", port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    mv_buf body = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        assert_int_equal(mv__buf_append(&body, chunk, n), 0);
    assert_int_equal(pclose(p), 0);
    assert_non_null(body.data);
    assert_non_null(strstr(body.data, "memvigil_app_memory_bytes{component=\"cache\"} 4096"));
    assert_non_null(strstr(body.data, "memvigil_resident_memory_bytes"));
    mv_buf_release(&body);

    /* the same port cannot be taken twice */
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    mv_config c2;
    mv_config_init(&c2);
    c2.http_listen = listen;
    mv_monitor *m2 = (mv_monitor *)0x1;
    assert_int_equal(mv_monitor_start(&c2, &m2), -EADDRINUSE);
    assert_null(m2);

    mv_monitor *m3 = NULL;
    c2.http_listen = NULL;
    assert_int_equal(mv_monitor_start(&c2, &m3), 0);
    assert_int_equal(mv_monitor_http_port(m3), -ENOENT);
    mv_monitor_stop(m3);
    mv_monitor_stop(m);
}

static void test_progress(void **state)
{
    (void)state;
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_progress_add(m, "files", 10), 0);
    assert_int_equal(mv_progress_add(m, "files", 15), 0);
    assert_int_equal(mv_progress_add(m, "bad unit", 1), -EINVAL);
    assert_int_equal(mv_progress_add(NULL, "files", 1), -EINVAL);
    assert_int_equal(mv_phase_end(m, "never"), -ENOENT);
    mv_buf b = {0};
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    assert_non_null(strstr(b.data, "memvigil_progress_units_total{unit=\"files\"} 25"));
    mv_buf_release(&b);
    mv_monitor_stop(m);
}

/* ThreadSanitizer cannot start threads in the child of a multi-threaded
 * process ("starting new threads after multi-threaded fork is not
 * supported"), and starting a monitor in the child is what
 * test_fork_safety checks; `make test` runs it in the plain and ASan
 * builds instead. */
/* (MV_UNDER_TSAN: sanitizer.h) */

static void test_fork_safety(void **state)
{
    (void)state;
#ifdef MV_UNDER_TSAN
    skip();
#endif
    capture cap;
    cap_init(&cap);
    mv_config c;
    mv_config_init(&c);
    c.interval_ms = 100;
    c.cpu_budget = 1.0;
    c.http_listen = "127.0.0.1:0";
    c.on_event = on_event;
    c.userdata = &cap;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_gauge_set(m, "segments", NULL, 1 << 20), 0);

    for (int i = 0; i < 20; i++) {
        /* keep the monitor busy while forking */
        mv_gauge_set(m, "segments", NULL, (int64_t)(i + 1) << 20);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(5);
            int ok = 1;
            mv_buf b = {0};
            ok &= mv_gauge_set(m, "segments", NULL, 42) == -ECHILD;
            ok &= mv_render(m, MV_FORMAT_PROMETHEUS, &b) == -ECHILD;
            ok &= mv_monitor_sample_now(m) == -ECHILD;
            mv_status st;
            ok &= mv_monitor_status(m, &st) == -ECHILD;
            ok &= mv_op_begin(m, "x") == NULL;
            ok &= mv_phase_begin(m, "p") == -ECHILD;
            mv_monitor_stop(m);
            /* a fresh monitor works in the child */
            mv_config cc;
            mv_config_init(&cc);
            cc.interval_ms = 100;
            mv_monitor *mc = NULL;
            ok &= mv_monitor_start(&cc, &mc) == 0;
            ok &= mc && mv_monitor_sample_now(mc) == 0;
            mv_monitor_stop(mc);
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        sleep_ms(7 * (i % 5));
    }
    /* the parent's monitor is untouched */
    mv_status st;
    assert_int_equal(mv_monitor_status(m, &st), 0);
    int64_t n = st.samples_taken;
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(mv_monitor_status(m, &st), 0);
    assert_true(st.samples_taken > n);
    assert_int_equal(st.target_alive, 1);
    int port = mv_monitor_http_port(m);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "curl -s -o /dev/null -w '%%{http_code}' --max-time 5 "
             "http://127.0.0.1:%d/metrics", port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char code[16] = "";
    assert_non_null(fgets(code, sizeof code, p));
    pclose(p);
    assert_string_equal(code, "200");
    mv_monitor_stop(m);
}

/* An event log on a pipe nobody reads (the host's stderr piped to a stalled
 * logger): the sampler drops the lines after a short wait instead of
 * blocking under sink_lock, so fork() in the host still goes through, and
 * the drops are counted. */
static void test_stalled_event_log(void **state)
{
    (void)state;
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    /* fill the pipe, then make it blocking again like a real stderr */
    int fl = fcntl(pfd[1], F_GETFL);
    assert_int_equal(fcntl(pfd[1], F_SETFL, fl | O_NONBLOCK), 0);
    char junk[4096];
    memset(junk, 'x', sizeof junk);
    size_t filled = 0;
    for (;;) {
        ssize_t w = write(pfd[1], junk, sizeof junk);
        if (w <= 0)
            break;
        filled += (size_t)w;
    }
    assert_true(filled > 0);
    assert_int_equal(fcntl(pfd[1], F_SETFL, fl), 0);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(pfd[1], STDERR_FILENO), STDERR_FILENO);
    alarm(30); /* a blocked sampler or fork ends the test, not hangs it */

    mv_config c;
    fake_config(&fk, &c, &cap);
    c.event_log = "-";
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&c, &m);
    fake_cgroup(&fk, FAKE_LIMIT * 95 / 100, 0);
    int s1 = rc == 0 ? mv_monitor_sample_now(m) : rc;
    int s2 = rc == 0 ? mv_monitor_sample_now(m) : rc;
    int got = rc == 0 && wait_events(&cap, MV_EVENT_LEVEL, 1, 5000);

    /* fork while the sampler may be writing: must not wait for the pipe */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status = -1;
    pid_t w = pid > 0 ? waitpid(pid, &status, 0) : -1;
    alarm(0);

    mv_buf b = {0};
    int rr = rc == 0 ? mv_render(m, MV_FORMAT_PROMETHEUS, &b) : rc;
    if (m)
        mv_monitor_stop(m);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(pfd[0]);
    close(pfd[1]);

    assert_int_equal(rc, 0);
    assert_int_equal(s1, 0);
    assert_int_equal(s2, 0);
    assert_true(got);
    assert_true(pid > 0);
    assert_int_equal(w, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(rr, 0);
    const char *line = strstr(b.data, "\nmemvigil_events_dropped_total ");
    assert_non_null(line);
    /* "started" and the critical level change were both dropped */
    assert_true(atoll(line + strlen("\nmemvigil_events_dropped_total ")) >= 2);
    mv_buf_release(&b);
    fake_remove(&fk);
}

/* The descriptor this process holds for path (via /proc/self/fd). */
static int find_fd(const char *path)
{
    for (int fd = 3; fd < 1024; fd++) {
        char link[64], target[512];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (!strcmp(target, path))
            return fd;
    }
    return -1;
}

/* memvigil_recording_lines_lost_total from the Prometheus rendering, or -1
 * when absent. */
static long long rendered_lost(mv_monitor *m)
{
    mv_buf b = {0};
    long long v = -1;
    assert_int_equal(mv_render(m, MV_FORMAT_PROMETHEUS, &b), 0);
    const char *p = strstr(b.data, "\nmemvigil_recording_lines_lost_total ");
    if (p)
        v = atoll(p + strlen("\nmemvigil_recording_lines_lost_total "));
    mv_buf_release(&b);
    return v;
}

static int count_visit(const mv__record_line *l, void *ctx)
{
    (void)l;
    (*(int *)ctx)++;
    return 0;
}

/* The recording's disk fills up (its descriptor swapped for /dev/full):
 * one recording_failed event naming the file and the error, however many
 * lines are lost; the lost lines counted in the metric and the status
 * document; when space returns, one recording_resumed event with the count,
 * the count stops growing, and the file reads back whole. */
static void test_recording_disk_full(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    fake fk;
    fake_make(&fk);
    capture cap;
    cap_init(&cap);
    mv_config c;
    fake_config(&fk, &c, &cap);
    c.cpu_budget = 1.0;    /* no budget event among the lines counted */
    char rec[256];
    snprintf(rec, sizeof rec, "%s/rec.jsonl", fk.root);
    c.record_path = rec;
    mv_monitor *m = NULL;
    assert_int_equal(mv_monitor_start(&c, &m), 0);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(rendered_lost(m), 0);

    int fd = find_fd(rec);
    assert_true(fd >= 0);
    int saved = dup(fd);
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(saved >= 0 && full >= 0);
    assert_int_equal(dup2(full, fd), fd);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_RECORDING_FAILED), 1);
    assert_int_equal(cap_count(&cap, MV_EVENT_RECORDING_RESUMED), 0);
    pthread_mutex_lock(&cap.mu);
    char failed_msg[320];
    snprintf(failed_msg, sizeof failed_msg, "%s",
             cap.last_message[MV_EVENT_RECORDING_FAILED]);
    pthread_mutex_unlock(&cap.mu);
    assert_non_null(strstr(failed_msg, rec));
    assert_non_null(strstr(failed_msg, strerror(ENOSPC)));
    /* 3 samples and the recording_failed line itself */
    long long lost = rendered_lost(m);
    assert_true(lost >= 4);
    mv_buf b = {0};
    char want[64];
    assert_int_equal(mv_render(m, MV_FORMAT_JSON, &b), 0);
    snprintf(want, sizeof want, "\"recording_lines_lost\":%lld", lost);
    assert_non_null(strstr(b.data, want));
    mv_buf_release(&b);

    /* space again */
    assert_int_equal(dup2(saved, fd), fd);
    close(saved);
    close(full);
    assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(cap_count(&cap, MV_EVENT_RECORDING_RESUMED), 1);
    pthread_mutex_lock(&cap.mu);
    snprintf(want, sizeof want, "; %lld lines were lost", lost);
    assert_non_null(strstr(cap.last_message[MV_EVENT_RECORDING_RESUMED], want));
    pthread_mutex_unlock(&cap.mu);
    for (int i = 0; i < 2; i++)
        assert_int_equal(mv_monitor_sample_now(m), 0);
    assert_int_equal(rendered_lost(m), lost);
    assert_int_equal(cap_count(&cap, MV_EVENT_RECORDING_FAILED), 1);
    assert_int_equal(cap_count(&cap, MV_EVENT_RECORDING_RESUMED), 1);
    mv_monitor_stop(m);

    /* whole lines only: the start, the tick before and the three after */
    FILE *f = fopen(rec, "r");
    assert_non_null(f);
    char err[128] = "";
    int nread = 0;
    assert_int_equal(mv__record_read(f, count_visit, &nread, err, sizeof err), 0);
    fclose(f);
    assert_int_equal(nread, count_lines(rec, NULL));
    assert_int_equal(count_lines(rec, "\"type\":\"sample\""), 5);
    assert_int_equal(count_lines(rec, "\"recording_resumed\""), 1);
    assert_int_equal(count_lines(rec, "\"recording_failed\""), 0);
    fake_remove(&fk);
}

/* The OOM-risk claim (urgency) is followed by itself, not gated by the
 * leak verdict: an event when risk.active turns 1 and when it turns 0,
 * with the risk's figures and evidence, once per change. (The detector
 * needs minutes of data to raise it, so the rule is tested directly; the
 * end-to-end path is tests/integration/fleet_e2e.sh.) */
static void test_oom_risk_events(void **state)
{
    (void)state;
    mv__oom_risk r;
    mv_event ev;
    int was = 0;
    memset(&r, 0, sizeof r);
    memset(&ev, 0, sizeof ev);
    r.growth_bytes_per_h = NAN;
    r.eta_s = NAN;
    r.first_ms = r.since_ms = -1;
    snprintf(r.evidence, sizeof r.evidence, "not enough data yet");
    assert_int_equal(mv__monitor_oom_risk_event(&was, &r, &ev), 0);
    assert_int_equal(ev.kind, 0);

    /* raised */
    r.active = 1;
    r.growth_bytes_per_h = 36.0 * 1024 * 1024;
    r.eta_s = 3 * 3600.0;
    r.first_ms = r.since_ms = 360000;
    snprintf(r.evidence, sizeof r.evidence,
             "private memory grows 36 MiB/h; the 256 MiB limit is reached in 3 h");
    assert_int_equal(mv__monitor_oom_risk_event(&was, &r, &ev), 1);
    assert_int_equal(was, 1);
    assert_int_equal(ev.kind, MV_EVENT_OOM_RISK);
    assert_string_equal(mv_event_kind_name(ev.kind), "oom_risk");
    assert_string_equal(ev.message, "out of memory in about 3 h: private "
                                    "memory grows 36 MiB/h; the 256 MiB limit "
                                    "is reached in 3 h");
    assert_true(fabs(ev.growth_bytes_per_s - 36.0 * 1024 * 1024 / 3600.0) < 1e-6);
    assert_true(ev.time_to_limit_s == 3 * 3600.0);
    /* still active: once per spell */
    memset(&ev, 0, sizeof ev);
    r.eta_s = 2 * 3600.0;
    assert_int_equal(mv__monitor_oom_risk_event(&was, &r, &ev), 0);
    assert_int_equal(ev.kind, 0);

    /* cleared as the rate drops */
    r.active = 0;
    r.since_ms = -1;
    r.growth_bytes_per_h = 0;
    r.eta_s = INFINITY;
    snprintf(r.evidence, sizeof r.evidence, "private memory is not growing");
    assert_int_equal(mv__monitor_oom_risk_event(&was, &r, &ev), 1);
    assert_int_equal(was, 0);
    assert_int_equal(ev.kind, MV_EVENT_OOM_RISK_CLEARED);
    assert_string_equal(mv_event_kind_name(ev.kind), "oom_risk_cleared");
    assert_string_equal(ev.message, "out-of-memory risk cleared: private memory "
                                    "is not growing");
    assert_true(isinf(ev.time_to_limit_s));
    assert_int_equal(mv__monitor_oom_risk_event(&was, &r, &ev), 0);

    /* no evidence: the standard sentence, never an empty message */
    r.active = 1;
    r.growth_bytes_per_h = 3600.0;
    r.eta_s = 600;
    r.evidence[0] = 0;
    assert_int_equal(mv__monitor_oom_risk_event(&was, &r, &ev), 1);
    assert_non_null(strstr(ev.message, "out-of-memory risk"));
}

/* The leak verdict's events (the detector needs hours of data to reach a
 * verdict, so the rule is tested directly): each change of verdict and the
 * event it raises, if any. */
static void test_leak_event_kinds(void **state)
{
    (void)state;
    const mv__leak_verdict I = MV_LEAK_INSUFFICIENT_DATA, N = MV_LEAK_NO_LEAK,
                           S = MV_LEAK_SUSPECT, L = MV_LEAK_LEAK;
    const mv_event_kind none = MV_EVENT_KIND_COUNT;
    const struct {
        mv__leak_verdict was, now;
        mv_event_kind kind;
    } cases[] = {
        {I, N, none}, {I, S, MV_EVENT_LEAK_SUSPECTED}, {I, L, MV_EVENT_LEAK},
        {N, I, none}, {N, S, MV_EVENT_LEAK_SUSPECTED}, {N, L, MV_EVENT_LEAK},
        {S, I, none}, {S, N, MV_EVENT_LEAK_CLEARED},   {S, L, MV_EVENT_LEAK},
        {L, I, none}, {L, N, MV_EVENT_LEAK_CLEARED},
        {L, S, none}, /* a leak fading to suspect is not news */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(mv__monitor_leak_event_kind(cases[i].was, cases[i].now),
                         cases[i].kind);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_missing_target),
        cmocka_unit_test(test_self_samples_and_render),
        cmocka_unit_test(test_growth_on_self),
        cmocka_unit_test(test_oom_risk_events),
        cmocka_unit_test(test_leak_event_kinds),
        cmocka_unit_test(test_levels_and_oom_fake_tree),
        cmocka_unit_test(test_oom_kmsg_fake_tree),
        cmocka_unit_test(test_probe_error_event),
        cmocka_unit_test(test_swap_growing),
        cmocka_unit_test(test_per_unit_rising),
        cmocka_unit_test(test_real_child_exit),
        cmocka_unit_test(test_budget_lengthens_interval),
        cmocka_unit_test(test_stop_is_prompt),
        cmocka_unit_test(test_sinks),
        cmocka_unit_test(test_record_app_lines),
        cmocka_unit_test(test_record_app_lines_after_rotation),
        cmocka_unit_test(test_http_endpoint),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_fork_safety),
        cmocka_unit_test(test_stalled_event_log),
        cmocka_unit_test(test_recording_disk_full),
        cmocka_unit_test(test_heap_sites_public),
        cmocka_unit_test(test_allocator_on_self),
        cmocka_unit_test(test_allocator_gauges_between_readings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
