/*
 * bench_oom_watch.c — what OOM-kill forensics adds to each sampler tick
 * (src/lib/probe/oom_watch.c): one poll of the kernel log with nothing new
 * (the usual case: a non-blocking read that returns EAGAIN) plus the host's
 * kill counter (/proc/vmstat: the read itself, and as a tick pays for it
 * with its 30 s cache), wall and thread-CPU time,
 * median and p90 over 2000 calls, 2 ms apart. Also a poll that parses one
 * complete OOM report (6.x format, from a file) to show the cost when a
 * kill happens. Needs root (or CAP_SYSLOG) for /dev/kmsg; without it the
 * kmsg figures are skipped and only vmstat is measured.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "bench_util.h"
#include "oom_watch.h"

#define CALLS 2000

static void measure(const char *name, mv__oom_watch *w, int poll, int vmstat)
{
    static double wall[CALLS], cpu[CALLS];
    mv_oom_kill k[8];
    for (int i = 0; i < CALLS; i++) {
        int64_t w0 = bench_ns(CLOCK_MONOTONIC), c0 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
        if (poll)
            (void)mv__oom_watch_poll(w, k, 8);
        if (vmstat)
            (void)mv__oom_watch_host_kills(w);
        cpu[i] = (double)(bench_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 1000.0;
        wall[i] = (double)(bench_ns(CLOCK_MONOTONIC) - w0) / 1000.0;
        bench_sleep_ms(2);
    }
    char n[128];
    snprintf(n, sizeof n, "%s_wall_median_us", name);
    bench_result(n, bench_quantile(wall, CALLS, 0.5));
    snprintf(n, sizeof n, "%s_wall_p90_us", name);
    bench_result(n, bench_quantile(wall, CALLS, 0.9));
    snprintf(n, sizeof n, "%s_cpu_median_us", name);
    bench_result(n, bench_quantile(cpu, CALLS, 0.5));
}

int main(void)
{
    mv__oom_watch *w = NULL;
    /* /proc/vmstat itself (a fresh watch each time: no 30 s cache) */
    static double vm[CALLS];
    for (int i = 0; i < CALLS; i++) {
        if (mv__oom_watch_new("", NULL, &w) != 0)
            return 1;
        int64_t w0 = bench_ns(CLOCK_MONOTONIC);
        (void)mv__oom_watch_host_kills(w);
        vm[i] = (double)(bench_ns(CLOCK_MONOTONIC) - w0) / 1000.0;
        mv__oom_watch_free(w);
        bench_sleep_ms(2);
    }
    bench_result("oom_vmstat_read_wall_median_us", bench_quantile(vm, CALLS, 0.5));
    /* what a tick pays for it: the figure cached for 30 s */
    if (mv__oom_watch_new("", NULL, &w) != 0)
        return 1;
    measure("oom_vmstat_cached", w, 0, 1);
    mv__oom_watch_free(w);

    if (mv__oom_watch_new("/dev/kmsg", NULL, &w) != 0)
        return 1;
    if (mv__oom_watch_kmsg_ok(w)) {
        measure("oom_kmsg_idle", w, 1, 0);
        measure("oom_tick_added", w, 1, 1);
    } else {
        printf("# /dev/kmsg not readable here: kmsg figures skipped\n");
    }
    mv__oom_watch_free(w);

    /* one complete report per poll: the file is rewound by reopening */
    char path[] = "/tmp/bench_oom_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    static double wall[200];
    for (int i = 0; i < 200; i++) {
        if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
            return 1;
        if (mv__oom_watch_new(path, NULL, &w) != 0)
            return 1;
        dprintf(fd, "4,1,1,-;leaky invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
                    "6,2,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                    "oom_memcg=/a,task_memcg=/a,task=leaky,pid=31190,uid=0\n"
                    "3,3,3,-;Memory cgroup out of memory: Killed process 31190 (leaky) total-vm:69036kB, "
                    "anon-rss:65280kB, file-rss:1220kB, shmem-rss:0kB, UID:0 pgtables:176kB oom_score_adj:0\n");
        mv_oom_kill k[8];
        int64_t w0 = bench_ns(CLOCK_MONOTONIC);
        size_t n = mv__oom_watch_poll(w, k, 8);
        wall[i] = (double)(bench_ns(CLOCK_MONOTONIC) - w0) / 1000.0;
        mv__oom_watch_free(w);
        if (n != 1)
            return 1;
    }
    close(fd);
    unlink(path);
    bench_result("oom_report_parse_wall_median_us", bench_quantile(wall, 200, 0.5));
    return 0;
}
