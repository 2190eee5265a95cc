/*
 * cmd_inspect.c — `memvigil inspect PID [--json]`: a one-shot diagnosis of
 * one process's memory in plain words, following the runbooks.
 *
 * Design: each section (process, mappings, OOM score, cgroup, system) is
 * read on its own, so a permission problem in one (smaps of another user's
 * process needs ptrace rights) is reported in that section while the others
 * still print. The findings are rules over the gathered figures; each rule
 * says what the figure means and what to do next, and the thresholds sit
 * next to the rule as named constants.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocstats.h"
#include "cli.h"
#include "frag.h"
#include "probe.h"
#include "sample_json.h"
#include "util.h"

#define TOP_MAPPINGS 10
#define MAX_FINDINGS 16

/* Thresholds of the findings. */
#define FILE_SHARE_HIGH 0.50   /* file-backed share of RSS that dominates */
#define ANON_SHARE_HIGH 0.50   /* anonymous share of RSS that dominates */
#define SHMEM_SHARE_HIGH 0.30  /* shmem share worth a word */
#define NEAR_LIMIT 0.80        /* cgroup usage ratio that is "near" */
#define HOST_AVAIL_LOW 0.10    /* MemAvailable / MemTotal that is "low" */
#define PSI_SOME_HIGH 10.0     /* some avg10 (%) that is pressure */
#define RSS_NOTABLE (64LL << 20) /* below this, shares are not findings */

const char cli_inspect_usage[] =
    "usage: memvigil inspect [--json] [--alloc-stats FILE] PID\n"
    "\n"
    "One-shot diagnosis of a process's memory: RSS split (anonymous, file,\n"
    "shared, swap), top mappings, threads, cgroup usage and limit with OOM\n"
    "counts, OOM score, host memory and pressure, then findings in plain\n"
    "words. Sections that cannot be read (permissions) say so; the others\n"
    "still print. Exits 0, 1 when the process does not exist, 2 on usage\n"
    "errors.\n"
    "\n"
    "  --json                one JSON object (figures, errors, findings)\n"
    "  --alloc-stats FILE    the process's allocator figures (in use, free,\n"
    "                        arenas) from the heap preload's status file,\n"
    "                        DIR/status-PID.json of `run --heap` or\n"
    "                        MEMVIGIL_HEAP=1: tells fragmentation from a leak\n"
    "  -h, --help            this help\n";

typedef struct report {
    int32_t pid;
    char comm[64];
    mv_sample s;
    int err_process, err_cgroup, err_system, err_maps, err_oom;
    const char *alloc_file;      /* --alloc-stats, or NULL */
    int err_alloc;               /* reading or parsing it */
    mv__mapping maps[TOP_MAPPINGS];
    size_t nmaps;
    int oom_score, oom_adj;
    char findings[MAX_FINDINGS][400];
    size_t nfind;
} report;

static double pct(int64_t part, int64_t whole)
{
    if (part == MV_NA || whole == MV_NA || whole <= 0)
        return NAN;
    return 100.0 * (double)part / (double)whole;
}

static const char *hb(int64_t v, char *buf)
{
    return mv__human_bytes(v, buf, 32);
}

static void add_finding(report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_finding(report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->nfind >= MAX_FINDINGS)
        return;
    va_start(ap, fmt);
    vsnprintf(r->findings[r->nfind++], sizeof r->findings[0], fmt, ap);
    va_end(ap);
}

/* ---- gathering ---------------------------------------------------------- */

static void gather(report *r)
{
    mv__probe_opts o;
    int version = 0;
    char path[MV_CGROUP_PATH_MAX];

    mv__probe_opts_init(&o);
    mv_sample_clear(&r->s);
    r->s.timestamp_ms = mv__now_wall_ms();
    r->s.monotonic_ms = mv__now_mono_ms();
    if (mv__probe_comm(&o, r->pid, r->comm, sizeof r->comm) != 0)
        r->comm[0] = '\0';
    r->err_process = mv__probe_process(&o, r->pid, &r->s);
    r->err_cgroup = mv__probe_find_cgroup(&o, r->pid, &version, path,
                                          sizeof path);
    if (r->err_cgroup == 0) {
        r->s.cgroup_version = version;
        mv__strlcpy(r->s.cgroup_path, path, sizeof r->s.cgroup_path);
        r->err_cgroup = mv__probe_cgroup(&o, version, path, &r->s);
    }
    r->err_system = mv__probe_system(&o, &r->s);
    mv__sample_derive(&r->s);
    r->err_maps = mv__probe_top_mappings(&o, r->pid, r->maps, TOP_MAPPINGS,
                                         &r->nmaps);
    if (r->err_maps != 0)
        r->nmaps = 0;
    r->err_oom = mv__probe_oom_score(&o, r->pid, &r->oom_score, &r->oom_adj);
    if (r->alloc_file) {
        mv_buf b = {0};
        mv__alloc_stats st;
        ssize_t n = mv__read_file(r->alloc_file, &b, 65536);
        r->err_alloc = n < 0 ? (int)n
                       : mv__alloc_stats_parse(b.data ? b.data : "", b.len, &st);
        if (r->err_alloc == 0)
            mv__alloc_stats_to_sample(&st, &r->s);
        mv_buf_release(&b);
    }
}

/* Why --alloc-stats gave nothing, in words. */
static const char *alloc_errtext(int err)
{
    if (err == -EINVAL)
        return "malformed: not a heap preload status file";
    if (err == -ENOENT)
        return "no allocator figures (no such file, or a preload that does "
               "not write them)";
    return mv_strerror(err);
}

/* The allocator holds much more than the program uses: the thresholds of
 * the live diagnosis (frag.h), on one reading. */
static void find_allocator(report *r)
{
    const mv_sample *s = &r->s;
    mv__frag_cfg fc;
    char a[32], b[32], c[32], d[32];

    mv__frag_cfg_init(&fc);
    if (s->alloc_kind == MV_ALLOC_NONE || s->private_bytes == MV_NA ||
        s->alloc_in_use_bytes == MV_NA || s->private_bytes <= 0)
        return;
    int64_t excess = s->private_bytes - s->alloc_in_use_bytes;
    if (excess < fc.min_excess_bytes ||
        (double)excess < fc.min_excess_ratio * (double)s->private_bytes)
        return;
    add_finding(r, "private memory (%s) exceeds the %s heap in use (%s) by "
                "%s, the allocator holding %s free: fragmentation or a "
                "retained peak, not a leak; %s",
                hb(s->private_bytes, a), mv__alloc_kind_name(s->alloc_kind),
                hb(s->alloc_in_use_bytes, b), hb(excess, c),
                hb(s->alloc_free_bytes, d),
                s->alloc_kind == MV_ALLOC_JEMALLOC
                    ? "try MALLOC_CONF=background_thread:true"
                    : "try MALLOC_ARENA_MAX=2, malloc_trim(0) or jemalloc "
                      "(docs/leak-detection.md)");
}

/* ---- findings ----------------------------------------------------------- */

static const mv__mapping *top_mapping(const report *r, int file_backed)
{
    size_t i;

    for (i = 0; i < r->nmaps; i++)
        if (!!r->maps[i].file_backed == !!file_backed)
            return &r->maps[i];
    return NULL;
}

static void find(report *r)
{
    const mv_sample *s = &r->s;
    char a[32], b[32];
    int have_proc = r->err_process == 0 && s->rss_bytes != MV_NA;
    double file_share = pct(s->rss_file_bytes, s->rss_bytes) / 100.0;
    double anon_share = pct(s->rss_anon_bytes, s->rss_bytes) / 100.0;
    double shmem_share = pct(s->rss_shmem_bytes, s->rss_bytes) / 100.0;
    int cg_limited = s->cgroup_version > 0 && s->cg_max_bytes != MV_NA &&
                     s->cg_max_bytes != MV_UNLIMITED && s->cg_max_bytes > 0;

    if (have_proc && s->rss_bytes >= RSS_NOTABLE &&
        file_share >= FILE_SHARE_HIGH) {
        const mv__mapping *mp = top_mapping(r, 1);
        if (mp)
            add_finding(r, "RSS is %s but %.0f%% is file-backed mappings "
                        "(%s %s): reclaimable page cache, not a leak",
                        hb(s->rss_bytes, a), file_share * 100, mp->name,
                        hb(mp->rss_bytes, b));
        else
            add_finding(r, "RSS is %s but %.0f%% is file-backed mappings: "
                        "reclaimable page cache, not a leak",
                        hb(s->rss_bytes, a), file_share * 100);
    }
    if (cg_limited && s->cg_usage_bytes != MV_NA) {
        int64_t used = s->working_set_bytes != MV_NA ? s->working_set_bytes
                                                     : s->cg_usage_bytes;
        double ratio = (double)used / (double)s->cg_max_bytes;
        if (ratio >= NEAR_LIMIT) {
            if (s->cg_oom_kill_events > 0)
                add_finding(r, "near the cgroup limit (%.0f%% of %s) with "
                            "%lld OOM kill%s already counted",
                            ratio * 100, hb(s->cg_max_bytes, a),
                            (long long)s->cg_oom_kill_events,
                            s->cg_oom_kill_events == 1 ? "" : "s");
            else
                add_finding(r, "near the cgroup limit (%.0f%% of %s): the "
                            "kernel reclaims, then OOM-kills at the limit",
                            ratio * 100, hb(s->cg_max_bytes, a));
        } else if (s->cg_oom_kill_events > 0) {
            add_finding(r, "the cgroup has counted %lld OOM kill%s: something "
                        "in it hit the limit of %s before",
                        (long long)s->cg_oom_kill_events,
                        s->cg_oom_kill_events == 1 ? "" : "s",
                        hb(s->cg_max_bytes, a));
        }
    } else if (s->cg_oom_kill_events > 0) {
        add_finding(r, "the cgroup has counted %lld OOM kill%s",
                    (long long)s->cg_oom_kill_events,
                    s->cg_oom_kill_events == 1 ? "" : "s");
    }
    if (have_proc && s->swap_bytes != MV_NA && s->swap_bytes > 0)
        add_finding(r, "swap in use: %s (the process is under memory "
                    "pressure; swapped pages are slow to touch)",
                    hb(s->swap_bytes, a));
    if (have_proc && s->rss_bytes >= RSS_NOTABLE &&
        anon_share >= ANON_SHARE_HIGH) {
        const mv__mapping *mp = top_mapping(r, 0);
        add_finding(r, "most memory is anonymous (%s, %.0f%% of RSS%s%s%s%s): "
                    "heap and private data; if it keeps growing it is a leak "
                    "candidate: measure the trend with `memvigil watch --pid "
                    "%d --interval 1s`, then run the program under `memvigil "
                    "run --heap` to find the growing call sites",
                    hb(s->rss_anon_bytes, a), anon_share * 100,
                    mp ? ", largest " : "", mp ? mp->name : "",
                    mp ? " " : "", mp ? hb(mp->anon_bytes, b) : "",
                    (int)r->pid);
    }
    if (have_proc && s->rss_bytes >= RSS_NOTABLE &&
        shmem_share >= SHMEM_SHARE_HIGH)
        add_finding(r, "shared memory is %.0f%% of RSS (%s): tmpfs or shm "
                    "segments, counted in every process that maps them and "
                    "not freed when the process frees its heap",
                    shmem_share * 100, hb(s->rss_shmem_bytes, a));
    if (s->mem_total_bytes > 0 && s->mem_available_bytes != MV_NA &&
        (double)s->mem_available_bytes / (double)s->mem_total_bytes <
            HOST_AVAIL_LOW)
        add_finding(r, "host memory low: MemAvailable %.0f%% of MemTotal "
                    "(%s of %s)",
                    pct(s->mem_available_bytes, s->mem_total_bytes),
                    hb(s->mem_available_bytes, a), hb(s->mem_total_bytes, b));
    if (!isnan(s->sys_psi_some.avg10) && s->sys_psi_some.avg10 >= PSI_SOME_HIGH)
        add_finding(r, "memory pressure on the host: some avg10 %.0f%% (tasks "
                    "stall waiting for memory)", s->sys_psi_some.avg10);
    if (!isnan(s->cg_psi_some.avg10) && s->cg_psi_some.avg10 >= PSI_SOME_HIGH)
        add_finding(r, "memory pressure in the cgroup: some avg10 %.0f%%",
                    s->cg_psi_some.avg10);
    find_allocator(r);
    if (r->nfind == 0)
        add_finding(r, "nothing unusual in one look; a leak shows only over "
                    "time: `memvigil watch --pid %d` measures the trend",
                    (int)r->pid);
}

/* ---- text output -------------------------------------------------------- */

static const char *errtext(int err)
{
    if (err == -EACCES || err == -EPERM)
        return "permission denied (run as the process's user or as root)";
    return mv_strerror(err);
}

static void print_share(const char *label, int64_t v, int64_t rss)
{
    char a[32];
    double p = pct(v, rss);

    if (isnan(p))
        printf("  %-14s %s\n", label, hb(v, a));
    else
        printf("  %-14s %-10s %5.1f%%\n", label, hb(v, a), p);
}

static void print_psi(const char *label, const mv_psi *some,
                      const mv_psi *full)
{
    if (isnan(some->avg10)) {
        printf("  %-14s n/a\n", label);
        return;
    }
    printf("  %-14s some avg10 %.1f%% avg60 %.1f%%", label, some->avg10,
           some->avg60);
    if (!isnan(full->avg10))
        printf("; full avg10 %.1f%% avg60 %.1f%%", full->avg10, full->avg60);
    putchar('\n');
}

static void print_text(const report *r)
{
    const mv_sample *s = &r->s;
    char a[32], b[32];
    size_t i;

    printf("memvigil inspect: pid %d (%s)\n\n", (int)r->pid,
           r->comm[0] ? r->comm : "?");

    puts("Process");
    if (r->err_process != 0) {
        printf("  unavailable: %s\n", errtext(r->err_process));
    } else {
        print_share("rss", s->rss_bytes, MV_NA);
        print_share("anonymous", s->rss_anon_bytes, s->rss_bytes);
        print_share("file-backed", s->rss_file_bytes, s->rss_bytes);
        print_share("shared (shmem)", s->rss_shmem_bytes, s->rss_bytes);
        print_share("swap", s->swap_bytes, MV_NA);
        print_share("private", s->private_bytes, MV_NA);
        print_share("peak rss", s->rss_peak_bytes, MV_NA);
        print_share("virtual", s->vm_size_bytes, MV_NA);
        if (s->threads != MV_NA)
            printf("  %-14s %lld\n", "threads", (long long)s->threads);
        else
            printf("  %-14s n/a\n", "threads");
    }

    printf("\nTop mappings by RSS\n");
    if (r->err_maps != 0) {
        printf("  unavailable: %s\n", errtext(r->err_maps));
    } else if (r->nmaps == 0) {
        puts("  none");
    } else {
        printf("  %-10s %-10s %-10s %-10s %s\n", "rss", "anon", "file",
               "swap", "mapping");
        for (i = 0; i < r->nmaps; i++) {
            char c[32], d[32];
            printf("  %-10s %-10s %-10s %-10s %s\n",
                   hb(r->maps[i].rss_bytes, a), hb(r->maps[i].anon_bytes, b),
                   hb(r->maps[i].file_bytes, c), hb(r->maps[i].swap_bytes, d),
                   r->maps[i].name);
        }
    }

    printf("\nOOM score\n");
    if (r->err_oom != 0)
        printf("  unavailable: %s\n", errtext(r->err_oom));
    else
        printf("  oom_score %d, oom_score_adj %d\n", r->oom_score, r->oom_adj);

    printf("\nCgroup\n");
    if (r->err_cgroup != 0 && s->cgroup_version == 0) {
        printf("  unavailable: %s\n", errtext(r->err_cgroup));
    } else {
        printf("  %-14s v%d %s\n", "cgroup", s->cgroup_version,
               s->cgroup_path);
        if (r->err_cgroup != 0) {
            printf("  unavailable: %s\n", errtext(r->err_cgroup));
        } else {
            printf("  %-14s %s\n", "usage", hb(s->cg_usage_bytes, a));
            printf("  %-14s %s\n", "working set", hb(s->working_set_bytes, a));
            if (s->cg_max_bytes == MV_UNLIMITED)
                printf("  %-14s no limit\n", "limit");
            else
                printf("  %-14s %s\n", "limit", hb(s->cg_max_bytes, a));
            if (s->cgroup_version == 2) {
                if (s->cg_high_bytes == MV_UNLIMITED)
                    printf("  %-14s none\n", "memory.high");
                else
                    printf("  %-14s %s\n", "memory.high",
                           hb(s->cg_high_bytes, a));
            }
            if (s->cg_swap_bytes != MV_NA)
                printf("  %-14s %s\n", "swap", hb(s->cg_swap_bytes, a));
            printf("  %-14s oom %s, oom_kill %s\n", "events",
                   s->cg_oom_events == MV_NA ? "n/a"
                                             : (snprintf(a, sizeof a, "%lld",
                                                (long long)s->cg_oom_events), a),
                   s->cg_oom_kill_events == MV_NA
                       ? "n/a"
                       : (snprintf(b, sizeof b, "%lld",
                                   (long long)s->cg_oom_kill_events), b));
            if (s->cgroup_version == 2)
                print_psi("pressure", &s->cg_psi_some, &s->cg_psi_full);
        }
    }

    printf("\nSystem\n");
    if (r->err_system != 0) {
        printf("  unavailable: %s\n", errtext(r->err_system));
    } else {
        double p = pct(s->mem_available_bytes, s->mem_total_bytes);
        printf("  %-14s %s of %s", "available", hb(s->mem_available_bytes, a),
               hb(s->mem_total_bytes, b));
        if (!isnan(p))
            printf(" (%.0f%%)", p);
        putchar('\n');
        if (s->swap_total_bytes > 0 && s->swap_free_bytes != MV_NA)
            printf("  %-14s %s used of %s\n", "swap",
                   hb(s->swap_total_bytes - s->swap_free_bytes, a),
                   hb(s->swap_total_bytes, b));
        else
            printf("  %-14s none configured\n", "swap");
        print_psi("pressure", &s->sys_psi_some, &s->sys_psi_full);
    }
    printf("  %-14s %s", "eff. limit", hb(s->effective_limit_bytes, a));
    switch (s->limit_source) {
    case MV_LIMIT_CGROUP_MAX: fputs(" (cgroup limit)", stdout); break;
    case MV_LIMIT_CGROUP_HIGH: fputs(" (cgroup memory.high)", stdout); break;
    case MV_LIMIT_MEMTOTAL: fputs(" (physical memory)", stdout); break;
    default: break;
    }
    if (!isnan(s->usage_ratio))
        printf(", usage ratio %.2f", s->usage_ratio);
    putchar('\n');

    if (r->alloc_file) {
        printf("\nAllocator\n");
        if (r->err_alloc != 0) {
            printf("  unavailable: %s (%s)\n", alloc_errtext(r->err_alloc),
                   r->alloc_file);
        } else {
            printf("  %-14s %s, %s arena%s\n", "allocator",
                   mv__alloc_kind_name(s->alloc_kind),
                   s->alloc_arenas == MV_NA ? "?"
                       : (snprintf(b, sizeof b, "%lld", (long long)s->alloc_arenas), b),
                   s->alloc_arenas == 1 ? "" : "s");
            printf("  %-14s %s\n", "in use", hb(s->alloc_in_use_bytes, a));
            printf("  %-14s %s\n", "free inside", hb(s->alloc_free_bytes, a));
            printf("  %-14s %s\n", "mapped", hb(s->alloc_mapped_bytes, a));
        }
    }

    printf("\nFindings\n");
    for (i = 0; i < r->nfind; i++)
        printf("  - %s\n", r->findings[i]);
}

/* ---- JSON output -------------------------------------------------------- */

/* One error of a part that could not be read: "part":"text". */
static int json_error(mv_buf *b, const char *key, int err, int *first)
{
    if (err == 0)
        return 0;
    int rc = mv__buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
    *first = 0;
    return rc ? rc : mv__buf_json_string(b, errtext(err));
}

/* The sample is the status document's "sample" object (mv__sample_to_json:
 * every field by its table name); what could not be read is null there and
 * said in "errors". */
static int render_json(const report *r, mv_buf *b)
{
    const mv_sample *s = &r->s;
    size_t i;
    int rc, first = 1;

    rc = mv__buf_printf(b, "{\"pid\":%d,\"comm\":", (int)r->pid);
    rc = rc ? rc : mv__buf_json_string(b, r->comm);
    rc = rc ? rc : mv__buf_puts(b, ",\"sample\":");
    rc = rc ? rc : mv__sample_to_json(b, s);
    rc = rc ? rc : mv__buf_puts(b, ",\"errors\":{");
    rc = rc ? rc : json_error(b, "process", r->err_process, &first);
    rc = rc ? rc : json_error(b, "mappings", r->err_maps, &first);
    rc = rc ? rc : json_error(b, "oom", r->err_oom, &first);
    rc = rc ? rc : json_error(b, "cgroup", r->err_cgroup, &first);
    rc = rc ? rc : json_error(b, "system", r->err_system, &first);
    if (!rc && r->err_alloc != 0) {
        rc = mv__buf_printf(b, "%s\"allocator\":", first ? "" : ",");
        first = 0;
        rc = rc ? rc : mv__buf_json_string(b, alloc_errtext(r->err_alloc));
    }
    rc = rc ? rc : mv__buf_puts(b, "}");
    if (r->err_maps == 0) {
        /* a mapping's figures under the names of the sample's own */
        rc = rc ? rc : mv__buf_puts(b, ",\"mappings\":[");
        for (i = 0; i < r->nmaps && rc == 0; i++) {
            rc = mv__buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
            rc = rc ? rc : mv__buf_json_string(b, r->maps[i].name);
            rc = rc ? rc : mv__buf_printf(b, ",\"rss_bytes\":");
            rc = rc ? rc : mv__buf_json_int(b, r->maps[i].rss_bytes);
            rc = rc ? rc : mv__buf_printf(b, ",\"rss_anon_bytes\":");
            rc = rc ? rc : mv__buf_json_int(b, r->maps[i].anon_bytes);
            rc = rc ? rc : mv__buf_printf(b, ",\"rss_file_bytes\":");
            rc = rc ? rc : mv__buf_json_int(b, r->maps[i].file_bytes);
            rc = rc ? rc : mv__buf_printf(b, ",\"swap_bytes\":");
            rc = rc ? rc : mv__buf_json_int(b, r->maps[i].swap_bytes);
            rc = rc ? rc : mv__buf_printf(b, ",\"file_backed\":%s}",
                                          r->maps[i].file_backed ? "true"
                                                                 : "false");
        }
        rc = rc ? rc : mv__buf_puts(b, "]");
    }
    if (r->err_oom == 0)
        rc = rc ? rc : mv__buf_printf(b, ",\"oom\":{\"score\":%d,"
                                      "\"score_adj\":%d}", r->oom_score,
                                      r->oom_adj);
    rc = rc ? rc : mv__buf_puts(b, ",\"findings\":[");
    for (i = 0; i < r->nfind && rc == 0; i++) {
        if (i)
            rc = mv__buf_puts(b, ",");
        rc = rc ? rc : mv__buf_json_string(b, r->findings[i]);
    }
    return rc ? rc : mv__buf_puts(b, "]}\n");
}

/* ---- the command -------------------------------------------------------- */

int cli_cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},
        {"alloc-stats", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0}};
    report *r;
    int c, json = 0, rc;
    const char *alloc_file = NULL;
    int32_t pid;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(cli_inspect_usage, stdout);
            return CLI_EXIT_OK;
        case 'j':
            json = 1;
            break;
        case 'a':
            alloc_file = optarg;
            break;
        case ':':
        default:
            return cli_option_error("inspect", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("inspect", "missing PID");
    if (optind + 1 < argc)
        return cli_usage_error("inspect", "unexpected argument '%s'",
                               argv[optind + 1]);
    if (cli_parse_pid(argv[optind], &pid) != 0)
        return cli_usage_error("inspect", "bad PID '%s': expected a process "
                               "id > 0", argv[optind]);

    r = calloc(1, sizeof *r);
    if (!r) {
        cli_error("inspect", "out of memory");
        return CLI_EXIT_ERROR;
    }
    r->pid = pid;
    r->alloc_file = alloc_file;
    gather(r);
    if (r->err_process == -ESRCH || r->err_process == -ENOENT) {
        cli_error("inspect", "no such process %d", (int)pid);
        free(r);
        return CLI_EXIT_ERROR;
    }
    find(r);
    if (json) {
        mv_buf b = {0};
        rc = render_json(r, &b);
        if (rc == 0)
            fputs(b.data, stdout);
        mv_buf_release(&b);
        if (rc != 0) {
            cli_error("inspect", "out of memory");
            free(r);
            return CLI_EXIT_ERROR;
        }
    } else {
        print_text(r);
    }
    free(r);
    return CLI_EXIT_OK;
}
