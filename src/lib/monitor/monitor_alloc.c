/*
 * monitor_alloc.c — the monitor's allocator part: filling the sample's
 * alloc_* fields (this process's allocator read directly, or the heap
 * preload's status file for a process memvigil runs), the allocator
 * diagnosis rule (frag.h) with its events, the qualification of the leak
 * verdict, mv_trim() and the opt-in periodic trim.
 *
 * DESIGN
 * mallinfo2()/malloc_info() take every arena lock and walk free lists, so
 * they run on the sampler thread only, never in a signal handler, and at
 * most once per tick, spaced so that they stay within the monitor's CPU
 * budget (a fragmented heap makes them slow: bench/bench_allocstats.c,
 * bench/README.md); samples in between have no allocator figures. The periodic trim runs before
 * the tick's probe, so the tick's sample shows its effect, and only while
 * no application phase is active: a phase is the application saying "now
 * I allocate", the worst moment to give pages back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "allocstats.h"
#include "frag.h"
#include "monitor.h"
#include "util.h"

/* A status file is a few hundred bytes; anything larger is not one. */
#define ALLOC_FILE_MAX 65536
/* Own-allocator readings are spaced so that they stay within the
 * monitor's CPU budget (mv_config.cpu_budget, 1 %): a reading that took C
 * of CPU is followed by the next after C / budget (90 us: every tick; 90 ms,
 * 64 fragmented arenas: every 9 s), at most ALLOC_MAX_GAP_US apart, since
 * they hold arena locks the host's threads may wait on. The cost is thread
 * CPU time, so a loaded machine does not stretch it. The arena count
 * (malloc_info, as costly again) changes rarely: once a minute at most. */
#define ALLOC_MAX_GAP_US 60000000LL
#define ALLOC_ARENAS_PERIOD_US 60000000LL

int mv__monitor_alloc_self(const mv_monitor *m)
{
    return !m->cfg.cgroup && m->npids == 1 && m->pids[0] == (int32_t)getpid();
}

static int64_t clock_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* This process's allocator, read when the CPU budget allows; st stays
 * unavailable in between (the diagnosis skips such samples: a sample
 * never repeats an old reading as if it were new). */
static void read_self_spaced(mv_monitor *m, mv__alloc_stats *st)
{
    int64_t t0 = clock_us(CLOCK_MONOTONIC);
    if (t0 < m->alloc_next_us)
        return;
    int count_arenas = t0 >= m->alloc_arenas_next_us;
    int64_t c0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
    if (mv__alloc_stats_read2(st, count_arenas) != 0)
        return;
    double cost = (double)(clock_us(CLOCK_THREAD_CPUTIME_ID) - c0);
    if (count_arenas)
        m->alloc_arenas_next_us = t0 + ALLOC_ARENAS_PERIOD_US;
    else
        st->arenas = m->alloc_last.arenas;
    m->alloc_last = *st;
    double gap = cost / (m->cfg.cpu_budget > 0 ? m->cfg.cpu_budget : 0.01);
    m->alloc_next_us = t0 + (gap < (double)ALLOC_MAX_GAP_US ? (int64_t)gap
                                                            : ALLOC_MAX_GAP_US);
}

/* The alloc_stats_file, when it was rewritten since its last reading (the
 * preload rewrites it at snapshot rate): a repeated reading is not a new
 * one. Absent, torn or foreign: st stays unavailable. */
static void read_file_fresh(mv_monitor *m, mv__alloc_stats *st)
{
    struct stat sb;
    mv_buf buf = {0};

    if (stat(m->cfg.alloc_stats_file, &sb) != 0)
        return;
    int64_t mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
                       sb.st_mtim.tv_nsec;
    if (mtime_ns == m->alloc_file_mtime_ns)
        return;
    if (mv__read_file(m->cfg.alloc_stats_file, &buf, ALLOC_FILE_MAX) > 0 &&
        mv__alloc_stats_parse(buf.data, buf.len, st) == 0)
        m->alloc_file_mtime_ns = mtime_ns;
    mv_buf_release(&buf);
}

void mv__monitor_alloc_fill(mv_monitor *m, mv_sample *s)
{
    mv__alloc_stats st;

    mv__alloc_stats_clear(&st);
    if (mv__monitor_alloc_self(m))
        read_self_spaced(m, &st);
    else if (m->cfg.alloc_stats_file)
        read_file_fresh(m, &st);
    mv__alloc_stats_to_sample(&st, s);
    if (st.kind != MV_ALLOC_NONE) {
        pthread_mutex_lock(&m->lock);
        m->alloc_shown = st;
        pthread_mutex_unlock(&m->lock);
    }
}

void mv__monitor_alloc_shown(const mv_monitor *m, mv_sample *s)
{
    if (s->alloc_kind == MV_ALLOC_NONE && m->alloc_shown.kind != MV_ALLOC_NONE)
        mv__alloc_stats_to_sample(&m->alloc_shown, s);
}

/* ---- the diagnosis ---- */

void mv__monitor_rule_frag(mv_monitor *m, const mv_sample *s,
                           mv__stored_event *evs, size_t *nev)
{
    char msg[320];

    if (!m->frag)
        return;
    mv__frag_verdict was = m->frag_res.verdict;
    if (!mv__frag_tick(m->frag, s->monotonic_ms, s, &m->frag_res))
        return;
    if (m->frag_res.verdict != MV_FRAG_NONE) {
        int n = snprintf(msg, sizeof msg, "%s; try %s", m->frag_res.evidence,
                         m->frag_res.alloc_kind == MV_ALLOC_JEMALLOC
                             ? "MALLOC_CONF=background_thread:true"
                             : "MALLOC_ARENA_MAX=2 and malloc_trim(0), or jemalloc");
        if (n < 0 || (size_t)n >= sizeof msg) /* the evidence whole, first */
            mv__strlcpy(msg, m->frag_res.evidence, sizeof msg);
        mv__monitor_event(m, &evs[(*nev)++], MV_EVENT_FRAGMENTATION, s, msg);
    } else if (was != MV_FRAG_NONE) {
        snprintf(msg, sizeof msg, "%s cleared: %.250s",
                 mv__frag_verdict_name(was), m->frag_res.evidence);
        mv__monitor_event(m, &evs[(*nev)++], MV_EVENT_FRAGMENTATION_CLEARED,
                          s, msg);
    }
}

int mv__monitor_leak_is_allocator(const mv_monitor *m, int64_t now_ms)
{
    return m->frag &&
           mv__frag_explains_rise(m->frag, now_ms, m->leak_res.window_s);
}

/* ---- trimming ---- */

/* RssAnon of this process, or MV_NA. */
static int64_t self_rss_anon(const char *proc_root)
{
    char path[512];
    mv_buf buf = {0};
    mv_sample s;
    int64_t v = MV_NA;

    snprintf(path, sizeof path, "%s/self/status", proc_root ? proc_root : "/proc");
    mv_sample_clear(&s);
    if (mv__read_file(path, &buf, 1 << 20) > 0 &&
        mv__parse_status(buf.data, &s) == 0)
        v = s.rss_anon_bytes;
    mv_buf_release(&buf);
    return v;
}

/* Trims and measures; 0 or a negative errno. */
static int trim_measured(const char *proc_root, int64_t *released)
{
    int64_t before = self_rss_anon(proc_root);
    int rc = mv__alloc_trim();
    int64_t after = self_rss_anon(proc_root);
    *released = 0;
    if (rc)
        return rc;
    if (before == MV_NA || after == MV_NA)
        return -EIO;
    *released = before > after ? before - after : 0;
    return 0;
}

/* Counts a trim and says so. Caller holds m->lock. */
static void count_trim(mv_monitor *m, int64_t released, const char *why,
                       mv__stored_event *se)
{
    char msg[320], b[32];

    m->self.trims++;
    m->self.trim_released_bytes += (uint64_t)released;
    mv__human_bytes(released, b, sizeof b);
    snprintf(msg, sizeof msg,
             "%s: malloc_trim returned %s to the kernel (resident anonymous "
             "memory before minus after)", why, b);
    mv__monitor_event(m, se, MV_EVENT_TRIM, m->have_last ? &m->last : NULL,
                      msg);
}

int mv__monitor_periodic_trim(mv_monitor *m, int nphases, int64_t now_ms,
                              mv__stored_event *se)
{
    int64_t released;

    if (m->cfg.trim_interval_ms <= 0 || nphases > 0 ||
        (m->last_trim_ms > 0 && now_ms - m->last_trim_ms < m->cfg.trim_interval_ms))
        return 0;
    int rc = trim_measured(m->cfg.proc_root, &released);
    /* the interval counts from the end: a trim of a large heap takes a
     * while (MADV_DONTNEED page by page under the arena locks) */
    m->last_trim_ms = clock_us(CLOCK_MONOTONIC) / 1000;
    if (rc != 0)
        return 0;
    pthread_mutex_lock(&m->lock);
    count_trim(m, released, "periodic trim", se);
    pthread_mutex_unlock(&m->lock);
    return released > 0;
}

MV_EXPORT int mv_trim(mv_monitor *m, int64_t *released_bytes)
{
    int64_t released = 0;
    int rc = trim_measured(m ? m->cfg.proc_root : NULL, &released);

    if (released_bytes)
        *released_bytes = released;
    if (rc || !m || !mv__monitor_alloc_self(m) || m->inherited)
        return rc;
    mv__stored_event se;
    pthread_mutex_lock(&m->lock);
    count_trim(m, released, "mv_trim", &se);
    pthread_mutex_unlock(&m->lock);
    mv__monitor_queue_event(m, MV_EVENT_TRIM, NULL, se.ev.message);
    return 0;
}
