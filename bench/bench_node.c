/*
 * bench_node.c — what node mode (`watch --cgroup-root`) costs at 50, 200
 * and 1000 container cgroups: CPU per tick (and the share of one core at
 * the 10 s interval), /metrics render time, and the agent's RSS.
 *
 * The tree: kubelet systemd-driver layout (kubepods.slice/
 * kubepods-burstable.slice/kubepods-burstable-pod<UID>.slice/
 * cri-containerd-<ID>.scope), one container per pod, built either
 *   --tree fixture  as files in a tmpfs directory (/dev/shm), v2 knobs with
 *                   plausible values (the default: needs nothing), or
 *   --tree v1       as REAL cgroups under /sys/fs/cgroup/memory (root; the
 *                   kernel generates every file at each read, so this is
 *                   the honest figure), removed at the end.
 *
 * Per size: a node is started (interval 1 h, so only our ticks run), two
 * warm-up ticks, then TICKS ticks back to back via mv_node_sample_now();
 * the process CPU time (all threads, getrusage) per tick is the tick's
 * cost. Back-to-back ticks do not advance series time, so the leak
 * detector's evaluation — at most once per minute of series time per
 * container, i.e. every 6th tick at 10 s — is timed apart
 * (leak_eval_us: one evaluation over 6 h of 10 s points in the node's
 * series shape) and added: share_10s = (tick_cpu + N x leak_eval / 6) /
 * 10 s. Render: median of 30 mv_node_render() calls (Prometheus text)
 * into a fresh buffer, wall and thread-CPU time (on a shared machine the
 * wall time includes waiting for a core). RSS: VmRSS after the ticks, and its growth over
 * the process before the node started.
 *
 * Usage: bench_node [--tree fixture|v1] [--sizes 50,200,1000] [--ticks N]
 * Targets (issue 13): 200 containers at 10 s <= 1% of one core, /metrics
 * <= 20 ms.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "leak.h"
#include "memvigil.h"
#include "node.h"
#include "series.h"

static int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
           (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void mkdir_or_die(const char *p)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        perror(p);
        exit(1);
    }
}

/* Builds n containers under root; v1: real cgroups (no files written). */
static void build(const char *root, int n, int v1)
{
    char dir[700];
    mkdir_or_die(root);
    if (!v1)
        put(root, "cgroup.controllers", "cpu memory pids\n");
    snprintf(dir, sizeof dir, "%s/kubepods.slice", root);
    mkdir_or_die(dir);
    snprintf(dir, sizeof dir, "%s/kubepods.slice/kubepods-burstable.slice",
             root);
    mkdir_or_die(dir);
    for (int i = 0; i < n; i++) {
        char pod[1200];
        snprintf(pod, sizeof pod, "%s/kubepods-burstable-pod0000%04x_1111_"
                 "4222_8333_%012d.slice", dir, i, i);
        mkdir_or_die(pod);
        char c[1400];
        snprintf(c, sizeof c, "%s/cri-containerd-%060d%04x.scope", pod, 0, i);
        mkdir_or_die(c);
        if (v1)
            continue;
        put(pod, "memory.max", "536870912\n");
        put(pod, "memory.high", "max\n");
        put(c, "memory.current", "104857600\n");
        put(c, "memory.max", "max\n");
        put(c, "memory.high", "max\n");
        put(c, "memory.stat", "anon 73400320\nfile 31457280\nkernel 1048576\n"
            "shmem 0\nfile_mapped 1048576\nactive_anon 73400320\n"
            "inactive_anon 0\nactive_file 10485760\ninactive_file "
            "20971520\nunevictable 0\npgfault 123456\npgmajfault 12\n");
        put(c, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        put(c, "memory.swap.current", "0\n");
        put(c, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 "
            "total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=12\n");
    }
}

static void remove_tree(const char *root, int v1)
{
    char cmd[1200];
    if (v1) /* cgroups: rmdir deepest first (their files cannot be removed) */
        snprintf(cmd, sizeof cmd, "find '%s' -depth -type d -exec rmdir {} +",
                 root);
    else
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", root);
}

/* One leak evaluation over 6 h of 10 s points in the node series shape. */
static double leak_eval_us(void)
{
    mv__series *s = mv__node_series_new();
    mv__leak_cfg lc;
    mv__leak_result r;
    mv__leak_cfg_init(&lc);
    mv__leak_detector *d = mv__leak_new(&lc);
    int64_t t = 0;
    mv__leak_set_limit(d, 1LL << 30);
    for (int i = 0; i < 6 * 360; i++, t += 10000) {
        mv__series_push(s, t, 1e8 + (i % 7) * 1e6 + i * 1000.0);
        mv__leak_tick(d, s, t, 0, &r);
    }
    enum { N = 40 };
    double v[N];
    for (int i = 0; i < N; i++) {
        t += 60000;                 /* one eval period on: it evaluates */
        mv__series_push(s, t, 1e8 + i * 1000.0);
        int64_t c0 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
        mv__leak_tick(d, s, t, 0, &r);
        v[i] = (double)(bench_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 1000.0;
    }
    mv__leak_free(d);
    mv__series_free(s);
    return bench_quantile(v, N, 0.5);
}

static void run_size(const char *base, int n, int v1, int ticks, double leak_us)
{
    char root[512];
    mv_node_config c;
    mv_node *node = NULL;
    mv_node_status st;

    snprintf(root, sizeof root, "%s/mvbench-node-%d-%d", base, (int)getpid(), n);
    build(root, n, v1);
    int64_t rss0 = bench_status_kb_field(getpid(), "VmRSS") / 1024;
    mv_node_config_init(&c);
    c.cgroup_root = root;
    c.interval_ms = 3600 * 1000;
    int rc = mv_node_start(&c, &node);
    if (rc != 0) {
        fprintf(stderr, "bench_node: mv_node_start: %s\n", mv_strerror(rc));
        remove_tree(root, v1);
        exit(1);
    }
    mv_node_sample_now(node);
    mv_node_sample_now(node);
    int64_t c0 = cpu_us(), w0 = bench_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < ticks; i++)
        mv_node_sample_now(node);
    double tick_cpu_us = (double)(cpu_us() - c0) / ticks;
    double tick_wall_us = (double)(bench_ns(CLOCK_MONOTONIC) - w0) / 1000.0 / ticks;
    mv_node_status_get(node, &st);
    if (st.containers != n)
        fprintf(stderr, "# warning: %lld containers found, %d built\n",
                (long long)st.containers, n);

    enum { R = 30 };
    double rv[R], rc_cpu[R];
    size_t bytes = 0;
    for (int i = 0; i < R; i++) {
        mv_buf b = {0};
        int64_t t0 = bench_ns(CLOCK_MONOTONIC);
        int64_t u0 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
        mv_node_render(node, MV_FORMAT_PROMETHEUS, &b);
        rv[i] = (double)(bench_ns(CLOCK_MONOTONIC) - t0) / 1e6;
        rc_cpu[i] = (double)(bench_ns(CLOCK_THREAD_CPUTIME_ID) - u0) / 1e6;
        bytes = b.len;
        mv_buf_release(&b);
    }
    int64_t rss1 = bench_status_kb_field(getpid(), "VmRSS") / 1024;
    double share = (tick_cpu_us + n * leak_us / 6.0) / 10e6;
    char name[128];
#define OUT(fmt, v) (snprintf(name, sizeof name, fmt, n), bench_result(name, v))
    OUT("node_%d_tick_cpu_us", tick_cpu_us);
    OUT("node_%d_tick_wall_us", tick_wall_us);
    OUT("node_%d_cpu_share_10s_percent", share * 100.0);
    OUT("node_%d_render_median_ms", bench_quantile(rv, R, 0.5));
    OUT("node_%d_render_cpu_median_ms", bench_quantile(rc_cpu, R, 0.5));
    OUT("node_%d_render_bytes", (double)bytes);
    OUT("node_%d_rss_kib", (double)rss1);
    OUT("node_%d_rss_added_kib", (double)(rss1 - rss0));
    mv_node_stop(node);
    remove_tree(root, v1);
}

int main(int argc, char **argv)
{
    const char *tree = "fixture", *sizes = "50,200,1000";
    int ticks = 20;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tree") && i + 1 < argc)
            tree = argv[++i];
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            sizes = argv[++i];
        else if (!strcmp(argv[i], "--ticks") && i + 1 < argc)
            ticks = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_node [--tree fixture|v1] "
                    "[--sizes 50,200,1000] [--ticks N]\n");
            return 2;
        }
    }
    int v1 = strcmp(tree, "v1") == 0;
    const char *base = v1 ? "/sys/fs/cgroup/memory" : "/dev/shm";
    if (v1 && access("/sys/fs/cgroup/memory/memory.usage_in_bytes", W_OK) &&
        access("/sys/fs/cgroup/memory/cgroup.procs", W_OK)) {
        printf("# SKIP: no writable cgroup v1 memory hierarchy\n");
        return 0;
    }
    if (ticks < 1)
        ticks = 1;
    double leak_us = leak_eval_us();
    printf("# node mode, %s tree, %d ticks per size\n", tree, ticks);
    bench_result("node_leak_eval_us", leak_us);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", sizes);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        run_size(base, atoi(tok), v1, ticks, leak_us);
    return 0;
}
