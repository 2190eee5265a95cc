/*
 * expose.c — renders the monitor's state as Prometheus text 0.0.4,
 * OpenMetrics 1.0 text, or the JSON status document, and picks the format
 * from an HTTP Accept header.
 *
 * Design:
 *  - A pure function of an mv__expose_state snapshot plus the registry, so
 *    tests render hand-made states and the monitor holds its lock only for
 *    the copy, never for the rendering.
 *  - Naming follows Prometheus practice: base units (_bytes, _seconds),
 *    counters end in _total, ratios are 0..1, and there is no pid label (a
 *    restart must not create new series). Labelled families are sum-safe:
 *    their label values are parts that do not overlap (or one-hot states);
 *    a total or a part of a part is a family of its own.
 *  - A field that is unavailable (MV_NA, NAN) has no sample at all — never
 *    a 0 that would read as a fact — and a family whose samples are all
 *    unavailable has no metadata either. An unset limit is +Inf.
 *  - The two text formats differ only where OpenMetrics requires it: counter
 *    metadata without _total, # UNIT lines for families named after their
 *    unit, "info" families, canonical le bounds, no negative histogram _sum
 *    (registry), and the closing "# EOF".
 *  - process_* follow client_golang's process collector, so dashboards made
 *    for Go services work for a C service embedding the library.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "events.h"
#include "allocstats.h"
#include "expose.h"
#include "registry.h"
#include "sample_json.h"
#include "util.h"

/* Sampler tick durations: a tick reads a handful of small /proc and cgroup
 * files, typically 50-500 us; smaps_rollup on a big process can take
 * milliseconds, and anything near a second means the host is in trouble. */
const double mv__tick_bucket_bounds[MV_TICK_BUCKETS] = {
    50e-6, 200e-6, 1e-3, 5e-3, 20e-3, 100e-3, 1.0, INFINITY};

const char *mv_format_content_type(mv_format fmt)
{
    switch (fmt) {
    case MV_FORMAT_OPENMETRICS:
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case MV_FORMAT_JSON:
        return "application/json";
    case MV_FORMAT_PROMETHEUS:
    default:
        return "text/plain; version=0.0.4; charset=utf-8";
    }
}

/* ---- Accept negotiation ---- */

/* Is the media range [p, end) application/openmetrics-text without q=0? */
static int range_is_openmetrics(const char *p, const char *end)
{
    static const char om[] = "application/openmetrics-text";
    while (p < end && isspace((unsigned char)*p))
        p++;
    size_t oml = sizeof om - 1;
    if ((size_t)(end - p) < oml || strncasecmp(p, om, oml) != 0)
        return 0;
    p += oml;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p < end && *p != ';')
        return 0; /* e.g. application/openmetrics-textual */
    /* parameters: look for q=0 (refused) */
    while (p < end) {
        const char *semi = memchr(p + 1, ';', (size_t)(end - p - 1));
        const char *pe = semi ? semi : end;
        const char *q = p + 1;
        while (q < pe && isspace((unsigned char)*q))
            q++;
        if (pe - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
            char num[16];
            size_t nl = (size_t)(pe - q - 2);
            if (nl >= sizeof num)
                nl = sizeof num - 1;
            memcpy(num, q + 2, nl);
            num[nl] = '\0';
            char *e;
            double qv = strtod(num, &e);
            if (e != num && qv <= 0.0)
                return 0;
        }
        p = pe;
    }
    return 1;
}

mv_format mv__expose_negotiate(const char *accept)
{
    if (!accept)
        return MV_FORMAT_PROMETHEUS;
    const char *p = accept;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        if (range_is_openmetrics(p, end))
            return MV_FORMAT_OPENMETRICS;
        if (!comma)
            break;
        p = comma + 1;
    }
    return MV_FORMAT_PROMETHEUS;
}

/* ---- family emitter: metadata written lazily before the first sample ---- */

typedef struct emit {
    mv_buf *b;
    mv_format fmt;
    int rc;              /* first error; later calls do nothing */
    const char *name;    /* current family (Prometheus name) */
    const char *type;
    const char *unit;    /* OpenMetrics unit or NULL */
    const char *help;
    int opened;          /* metadata written */
} emit;

static void fam(emit *e, const char *name, const char *type, const char *unit,
                const char *help)
{
    e->name = name;
    e->type = type;
    e->unit = unit;
    e->help = help;
    e->opened = 0;
}

static int open_fam(emit *e)
{
    if (!e->rc && !e->opened) {
        e->rc = mv__metric_family(e->b, e->fmt, e->name, e->type, e->unit, e->help);
        e->opened = 1;
    }
    return e->rc;
}

/* Integer sample; MV_NA omitted; MV_UNLIMITED written +Inf. */
static void put_int(emit *e, const char *labels, int64_t v)
{
    if (v == MV_NA || open_fam(e))
        return;
    if (v == MV_UNLIMITED)
        e->rc = mv__metric_sample_double(e->b, e->name, labels, INFINITY);
    else
        e->rc = mv__metric_sample_int(e->b, e->name, labels, v);
}

/* Double sample; NAN omitted. */
static void put_dbl(emit *e, const char *labels, double v)
{
    if (isnan(v) || open_fam(e))
        return;
    e->rc = mv__metric_sample_double(e->b, e->name, labels, v);
}

/* ---- families of the sample ---- */

static void render_sample(emit *e, const mv_sample *s)
{
    fam(e, "memvigil_resident_memory_bytes", "gauge", "bytes",
        "Resident memory of the target by kind: anon (private; where leaks "
        "live), file (mapped files, reclaimable), shmem; summed over the "
        "process tree.");
    put_int(e, "kind=\"anon\"", s->rss_anon_bytes);
    put_int(e, "kind=\"file\"", s->rss_file_bytes);
    put_int(e, "kind=\"shmem\"", s->rss_shmem_bytes);
    fam(e, "memvigil_resident_memory_total_bytes", "gauge", "bytes",
        "Resident set size (VmRSS) of the target, summed over the process tree.");
    put_int(e, NULL, s->rss_bytes);
    fam(e, "memvigil_resident_memory_peak_bytes", "gauge", "bytes",
        "Peak resident set size (VmHWM) of the target process.");
    put_int(e, NULL, s->rss_peak_bytes);
    fam(e, "memvigil_swap_bytes", "gauge", "bytes",
        "Swap used by the target (VmSwap), summed over the process tree.");
    put_int(e, NULL, s->swap_bytes);
    fam(e, "memvigil_proportional_set_size_bytes", "gauge", "bytes",
        "Proportional set size (Pss from smaps_rollup: shared pages divided "
        "among their users), summed over the process tree; present when "
        "smaps_rollup is enabled.");
    put_int(e, NULL, s->pss_bytes);
    fam(e, "memvigil_proportional_memory_bytes", "gauge", "bytes",
        "Proportional set size by kind: anon, file, shmem (Pss_Anon, "
        "Pss_File, Pss_Shmem; they add up to the proportional set size).");
    put_int(e, "kind=\"anon\"", s->pss_anon_bytes);
    put_int(e, "kind=\"file\"", s->pss_file_bytes);
    put_int(e, "kind=\"shmem\"", s->pss_shmem_bytes);
    fam(e, "memvigil_private_memory_bytes", "gauge", "bytes",
        "Private memory of the target: anonymous resident plus swap (the "
        "leak detector's signal).");
    put_int(e, NULL, s->private_bytes);
    fam(e, "memvigil_virtual_memory_bytes", "gauge", "bytes",
        "Virtual address space (VmSize) of the target, summed over the process tree.");
    put_int(e, NULL, s->vm_size_bytes);
    fam(e, "memvigil_threads", "gauge", NULL,
        "Threads of the target, summed over the process tree.");
    put_int(e, NULL, s->threads);
    fam(e, "memvigil_processes", "gauge", NULL,
        "Processes summed into the target (1 plus descendants when following "
        "a process tree).");
    if (s->pid > 0 || s->nprocs > 0)
        put_int(e, NULL, s->nprocs);

    if (s->cgroup_version != 0) {
        mv_buf lab;
        mv_buf_init(&lab);
        int rc = mv__buf_puts(&lab, "path=\"");
        if (!rc) rc = mv__metric_label_value(&lab, s->cgroup_path);
        if (!rc) rc = mv__buf_printf(&lab, "\",version=\"%d\"", s->cgroup_version);
        if (rc && !e->rc)
            e->rc = rc;
        fam(e, "memvigil_cgroup_info", "info", NULL,
            "The cgroup the cgroup_* figures come from (path inside the "
            "hierarchy, cgroup version); value 1.");
        if (!rc)
            put_int(e, lab.data, 1);
        mv_buf_release(&lab);
        fam(e, "memvigil_cgroup_usage_bytes", "gauge", "bytes",
            "Memory charged to the cgroup (memory.current / usage_in_bytes), "
            "page cache included.");
        put_int(e, NULL, s->cg_usage_bytes);
        fam(e, "memvigil_cgroup_working_set_bytes", "gauge", "bytes",
            "Cgroup usage minus inactive file cache, as the kubelet computes "
            "the working set it evicts on.");
        put_int(e, NULL, s->working_set_bytes);
        /* Two limits, two families: a sum of max and high means nothing. */
        fam(e, "memvigil_cgroup_limit_max_bytes", "gauge", "bytes",
            "Cgroup hard memory limit (memory.max; OOM kill above it), the "
            "tightest of the cgroup's and its ancestors'; +Inf when not set.");
        put_int(e, NULL, s->cg_max_bytes);
        fam(e, "memvigil_cgroup_limit_high_bytes", "gauge", "bytes",
            "Cgroup memory throttling limit (memory.high; reclaim and "
            "throttling above it), the tightest of the chain; +Inf when not set.");
        put_int(e, NULL, s->cg_high_bytes);
        /* Sum-safe: anon and file do not overlap. inactive_file and shmem
         * are parts of file, so each has a family of its own. */
        fam(e, "memvigil_cgroup_memory_bytes", "gauge", "bytes",
            "Cgroup memory by kind from memory.stat: anon, file (page cache, "
            "shmem included); they do not overlap.");
        put_int(e, "kind=\"anon\"", s->cg_anon_bytes);
        put_int(e, "kind=\"file\"", s->cg_file_bytes);
        fam(e, "memvigil_cgroup_inactive_file_bytes", "gauge", "bytes",
            "Inactive page cache of the cgroup (memory.stat inactive_file, "
            "part of file): reclaimed first, left out of the working set.");
        put_int(e, NULL, s->cg_inactive_file_bytes);
        fam(e, "memvigil_cgroup_shmem_bytes", "gauge", "bytes",
            "Shared memory and tmpfs of the cgroup (memory.stat shmem, part "
            "of file).");
        put_int(e, NULL, s->cg_shmem_bytes);
        fam(e, "memvigil_cgroup_swap_bytes", "gauge", "bytes",
            "Swap used by the cgroup.");
        put_int(e, NULL, s->cg_swap_bytes);
        fam(e, "memvigil_cgroup_events_total", "counter", NULL,
            "Cgroup memory events (memory.events): oom (allocation failed at "
            "the limit), oom_kill (a process was killed), high, max.");
        put_int(e, "event=\"oom\"", s->cg_oom_events);
        put_int(e, "event=\"oom_kill\"", s->cg_oom_kill_events);
        put_int(e, "event=\"high\"", s->cg_high_events);
        put_int(e, "event=\"max\"", s->cg_max_events);
    }

    /* One family per PSI line: full time is part of some time, and the
     * host's stalls include the cgroup's, so no label could be summed. */
    const struct { const char *name, *help; const mv_psi *psi; } psi[] = {
        {"memvigil_cgroup_pressure_some_seconds_total",
         "Time at least one task of the cgroup was stalled waiting for memory "
         "(memory.pressure some total).", &s->cg_psi_some},
        {"memvigil_cgroup_pressure_full_seconds_total",
         "Time all non-idle tasks of the cgroup were stalled waiting for "
         "memory (memory.pressure full total; part of some).", &s->cg_psi_full},
        {"memvigil_host_pressure_some_seconds_total",
         "Time at least one task of the host was stalled waiting for memory "
         "(/proc/pressure/memory some total).", &s->sys_psi_some},
        {"memvigil_host_pressure_full_seconds_total",
         "Time all non-idle tasks of the host were stalled waiting for memory "
         "(/proc/pressure/memory full total; part of some).", &s->sys_psi_full},
    };
    for (size_t i = 0; i < sizeof psi / sizeof psi[0]; i++) {
        fam(e, psi[i].name, "counter", "seconds", psi[i].help);
        if (psi[i].psi->total_us != MV_NA && psi[i].psi->total_us >= 0)
            put_dbl(e, NULL, (double)psi[i].psi->total_us / 1e6);
    }

    fam(e, "memvigil_host_memory_total_bytes", "gauge", "bytes",
        "Physical memory of the host (MemTotal).");
    put_int(e, NULL, s->mem_total_bytes);
    fam(e, "memvigil_host_memory_available_bytes", "gauge", "bytes",
        "Memory available for new work without swapping (MemAvailable).");
    put_int(e, NULL, s->mem_available_bytes);
    fam(e, "memvigil_host_swap_total_bytes", "gauge", "bytes",
        "Swap space of the host (SwapTotal).");
    put_int(e, NULL, s->swap_total_bytes);
    fam(e, "memvigil_host_swap_free_bytes", "gauge", "bytes",
        "Unused swap space of the host (SwapFree).");
    put_int(e, NULL, s->swap_free_bytes);

    fam(e, "memvigil_effective_limit_bytes", "gauge", "bytes",
        "The limit the target will hit first: the tightest of cgroup max, "
        "cgroup high and physical memory.");
    put_int(e, NULL, s->effective_limit_bytes);
    fam(e, "memvigil_usage_ratio", "gauge", NULL,
        "Working set (or resident memory without a cgroup limit) divided by "
        "the effective limit, 0..1.");
    put_dbl(e, NULL, s->usage_ratio);
}

/* ---- the allocator (in-process figures; allocstats.h, frag.h) ---- */

static void render_alloc(emit *e, const mv_sample *s)
{
    char lab[48];

    if (!s || s->alloc_kind == MV_ALLOC_NONE)
        return;
    snprintf(lab, sizeof lab, "allocator=\"%s\"",
             mv__alloc_kind_name(s->alloc_kind));
    fam(e, "memvigil_alloc_in_use_bytes", "gauge", "bytes",
        "Heap held by the program, from its allocator (glibc mallinfo2 "
        "uordblks + hblkhd, jemalloc stats.allocated): the live heap.");
    put_int(e, lab, s->alloc_in_use_bytes);
    fam(e, "memvigil_alloc_free_bytes", "gauge", "bytes",
        "Memory the allocator holds but has free inside it (glibc fordblks, "
        "jemalloc resident - allocated): fragmentation and retained peaks.");
    put_int(e, lab, s->alloc_free_bytes);
    fam(e, "memvigil_alloc_mapped_bytes", "gauge", "bytes",
        "Memory the allocator obtained from the kernel (glibc arena + "
        "hblkhd, jemalloc stats.mapped).");
    put_int(e, lab, s->alloc_mapped_bytes);
    fam(e, "memvigil_alloc_releasable_bytes", "gauge", "bytes",
        "Allocator memory that could go back to the kernel at once (glibc "
        "keepcost, jemalloc resident - active).");
    put_int(e, lab, s->alloc_releasable_bytes);
    fam(e, "memvigil_alloc_arenas", "gauge", NULL,
        "Allocator arenas (glibc heaps of malloc_info, jemalloc "
        "arenas.narenas).");
    put_int(e, lab, s->alloc_arenas);
}

static void render_frag(emit *e, const mv__expose_state *st)
{
    static const mv__frag_verdict vs[] = {MV_FRAG_FRAGMENTATION,
                                          MV_FRAG_RETENTION, MV_FRAG_NONE};
    if (!st->frag)
        return;
    fam(e, "memvigil_alloc_diagnosis", "gauge", NULL,
        "Allocator diagnosis: 1 for the current one (fragmentation: private "
        "memory exceeds a flat live heap; retention: a freed peak kept; "
        "none), 0 for the others. A rise it explains is not called a leak.");
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        char lab[48];
        snprintf(lab, sizeof lab, "diagnosis=\"%s\"",
                 mv__frag_verdict_name(vs[i]));
        put_int(e, lab, st->frag->verdict == vs[i]);
    }
    if (!st->self)
        return;
    fam(e, "memvigil_alloc_trims_total", "counter", NULL,
        "Allocator trims (mv_trim and the periodic trim).");
    put_int(e, NULL, (int64_t)st->self->trims);
    fam(e, "memvigil_alloc_trim_released_bytes_total", "counter", "bytes",
        "Resident anonymous memory the trims returned to the kernel.");
    put_int(e, NULL, (int64_t)st->self->trim_released_bytes);
}

/* ---- process_* of this process (client_golang semantics) ---- */

/* Value of "key N" at the start of a line of text: the number, -1 for
 * "unlimited" (client_golang's convention), NAN when absent or garbage. */
static double line_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0) {
            const char *v = p + kl;
            while (*v == ' ' || *v == '\t')
                v++;
            /* client_golang (procfs) reports "unlimited" as 2^64 - 1 */
            if (strncmp(v, "unlimited", 9) == 0)
                return 18446744073709551615.0;
            char *end;
            long long x = strtoll(v, &end, 10);
            return end == v ? NAN : (double)x;
        }
    }
    return NAN;
}

static void render_process(emit *e, const char *proc_root)
{
    const char *root = proc_root && *proc_root ? proc_root : "/proc";
    char path[4096];
    mv_buf f;
    mv_buf_init(&f);
    long tck = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (tck <= 0)
        tck = 100;
    if (page <= 0)
        page = 4096;

    double btime = NAN;
    snprintf(path, sizeof path, "%s/stat", root);
    if (mv__read_file(path, &f, 1 << 20) > 0)
        btime = line_value(f.data, "btime");

    double cpu = NAN, start = NAN;
    int64_t vsize = MV_NA, rss = MV_NA;
    snprintf(path, sizeof path, "%s/self/stat", root);
    if (mv__read_file(path, &f, 1 << 16) > 0) {
        const char *p = strrchr(f.data, ')');
        unsigned long long v[24];
        /* fields 3.. after the command name; we need 14,15 and 22..24 */
        if (p && sscanf(p + 1,
                        " %*c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu"
                        " %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                        &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
                        &v[12], &v[13], &v[14], &v[15], &v[16], &v[17], &v[18],
                        &v[19], &v[20], &v[21], &v[22], &v[23], &v[0]) == 21) {
            /* v[k] is field k for 4..23; field 24 (rss) landed in v[0] */
            cpu = (double)(v[14] + v[15]) / (double)tck;
            start = btime + (double)v[22] / (double)tck; /* NAN if no btime */
            /* garbage-huge values (a fixture proc_root) stay n/a rather
             * than overflow */
            if (v[23] <= (unsigned long long)INT64_MAX)
                vsize = (int64_t)v[23];
            if (v[0] <= (unsigned long long)(INT64_MAX / page))
                rss = (int64_t)v[0] * page;
        }
    }

    double max_fds = NAN, max_as = NAN;
    snprintf(path, sizeof path, "%s/self/limits", root);
    if (mv__read_file(path, &f, 1 << 16) > 0) {
        max_fds = line_value(f.data, "Max open files");
        max_as = line_value(f.data, "Max address space");
    }
    mv_buf_release(&f);

    int64_t open_fds = MV_NA;
    snprintf(path, sizeof path, "%s/self/fd", root);
    DIR *d = opendir(path);
    if (d) {
        open_fds = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                open_fds++;
        closedir(d);
    }

    fam(e, "process_cpu_seconds_total", "counter", "seconds",
        "Total user and system CPU time spent in seconds.");
    put_dbl(e, NULL, cpu);
    fam(e, "process_open_fds", "gauge", NULL, "Number of open file descriptors.");
    put_int(e, NULL, open_fds);
    fam(e, "process_max_fds", "gauge", NULL,
        "Maximum number of open file descriptors.");
    put_dbl(e, NULL, max_fds);
    fam(e, "process_virtual_memory_bytes", "gauge", "bytes",
        "Virtual memory size in bytes.");
    put_int(e, NULL, vsize);
    fam(e, "process_virtual_memory_max_bytes", "gauge", "bytes",
        "Maximum amount of virtual memory available in bytes.");
    put_dbl(e, NULL, max_as);
    fam(e, "process_resident_memory_bytes", "gauge", "bytes",
        "Resident memory size in bytes.");
    put_int(e, NULL, rss);
    fam(e, "process_start_time_seconds", "gauge", "seconds",
        "Start time of the process since unix epoch in seconds.");
    put_dbl(e, NULL, start);
}

/* ---- OOM kills (the kernel log's victims, the host's counter) ---- */

int mv__expose_oom_victim_labels(mv_buf *lab, const mv_oom_kill *k,
                                 const char *type, const char *extra)
{
    char comm[MV_OOM_COMM_MAX], cg[MV_CGROUP_PATH_MAX];
    memcpy(comm, k->comm, sizeof comm);  /* never trust termination */
    comm[sizeof comm - 1] = '\0';
    memcpy(cg, k->task_cgroup, sizeof cg);
    cg[sizeof cg - 1] = '\0';
    lab->len = 0;
    int rc = mv__buf_printf(lab, "pid=\"%d\",comm=\"", (int)k->pid);
    rc = rc ? rc : mv__metric_label_value(lab, comm);
    rc = rc ? rc : mv__buf_puts(lab, "\",cgroup=\"");
    rc = rc ? rc : mv__metric_label_value(lab, cg);
    rc = rc ? rc : mv__buf_printf(lab, "\",constraint=\"%s\",type=\"%s\"",
                                  mv_oom_constraint_name(k->constraint), type);
    if (!rc && extra && extra[0])
        rc = mv__buf_printf(lab, ",%s", extra);
    return rc;
}

const char mv__host_oom_kills_name[] = "memvigil_host_oom_kills_total";
const char mv__host_oom_kills_help[] =
    "Processes the kernel OOM killer killed on the host since boot "
    "(/proc/vmstat oom_kill).";
const char mv__oom_victim_name[] = "memvigil_oom_kill_victim_rss_bytes";
const char mv__oom_victim_help[] =
    "Resident memory of the target's last OOM-kill victims at the kill, "
    "from the kernel log (anon-rss, file-rss, shmem-rss).";

static void render_oom(emit *e, const mv__expose_state *st)
{
    fam(e, mv__host_oom_kills_name, "counter", NULL, mv__host_oom_kills_help);
    if (st->host_oom_kills)
        put_int(e, NULL, *st->host_oom_kills);
    fam(e, mv__oom_victim_name, "gauge", "bytes", mv__oom_victim_help);
    mv_buf lab = {0};
    for (size_t i = 0; i < st->n_oom_victims && st->oom_victims && !e->rc; i++) {
        const mv_oom_kill *k = &st->oom_victims[i];
        const char *extra = st->oom_victim_labels ? st->oom_victim_labels[i] : NULL;
        const struct { const char *type; int64_t v; } f[] = {
            {"anon", k->anon_rss_bytes},
            {"file", k->file_rss_bytes},
            {"shmem", k->shmem_rss_bytes},
        };
        for (size_t j = 0; j < sizeof f / sizeof f[0] && !e->rc; j++) {
            if (mv__expose_oom_victim_labels(&lab, k, f[j].type, extra)) {
                e->rc = -ENOMEM;
                break;
            }
            put_int(e, lab.data, f[j].v);
        }
    }
    mv_buf_release(&lab);
}

/* ---- the monitor's own cost and state ---- */

static void render_state(emit *e, const mv__expose_state *st)
{
    static const char *const lv[] = {"ok", "warning", "critical"};
    fam(e, "memvigil_level", "gauge", NULL,
        "Memory level of the target: 0 ok, 1 warning, 2 critical (usage "
        "ratio against thresholds, with hysteresis).");
    put_int(e, NULL, (int64_t)st->level);
    fam(e, "memvigil_level_state", "gauge", NULL,
        "1 for the current memory level of the target, 0 for the others.");
    for (int i = 0; i < 3; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "level=\"%s\"", lv[i]);
        put_int(e, lab, (int)st->level == i);
    }
    fam(e, "memvigil_growth_bytes_per_second", "gauge", NULL,
        "Current robust growth rate of private memory (Theil-Sen slope of "
        "the lower envelope over the last hour, or the last 10 minutes once "
        "growth has visibly dropped; 24 and 16 samples when sampling is "
        "coarser); absent until enough samples.");
    put_dbl(e, NULL, st->growth_bytes_per_s);
    fam(e, "memvigil_growth_window_seconds", "gauge", "seconds",
        "Time span of the samples behind the growth rate.");
    if (!isnan(st->growth_bytes_per_s))
        put_dbl(e, NULL, st->growth_window_s);
    fam(e, "memvigil_time_to_limit_seconds", "gauge", "seconds",
        "Time until the effective limit is reached at the current growth "
        "rate; +Inf when not growing.");
    put_dbl(e, NULL, st->time_to_limit_s);
    if (st->leak) {
        static const mv__leak_verdict vs[] = {MV_LEAK_LEAK, MV_LEAK_SUSPECT,
                                              MV_LEAK_NO_LEAK,
                                              MV_LEAK_INSUFFICIENT_DATA};
        const mv__leak_result *lr = st->leak;
        fam(e, "memvigil_leak_verdict", "gauge", NULL,
            "Leak detector verdict on private memory: 1 for the current "
            "verdict (leak, suspect, no_leak, insufficient_data), 0 for the "
            "others.");
        for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
            char lab[48];
            snprintf(lab, sizeof lab, "verdict=\"%s\"",
                     mv__leak_verdict_name(vs[i]));
            put_int(e, lab, lr->verdict == vs[i]);
        }
        fam(e, "memvigil_leak_confidence", "gauge", NULL,
            "Confidence, 0..1, that private memory leaks (trend test of the "
            "lower envelope, corrected for autocorrelation).");
        put_dbl(e, NULL, lr->confidence);
        fam(e, "memvigil_leak_growth_bytes_per_second", "gauge", NULL,
            "Growth rate of private memory's lower envelope in the window "
            "behind the leak verdict.");
        put_dbl(e, NULL, lr->growth_bytes_per_h / 3600.0);
        fam(e, "memvigil_leak_time_to_limit_seconds", "gauge", "seconds",
            "Time until a detected (or suspected) leak reaches the effective "
            "limit; +Inf when not leaking.");
        /* a slow no_leak rise has a (long) time to limit of its own, for
         * the words; the metric keeps to leaks, as alerts expect */
        put_dbl(e, NULL, lr->verdict >= MV_LEAK_SUSPECT ? lr->eta_s : INFINITY);
        /* the urgency claim, apart from the verdict (cause) */
        fam(e, "memvigil_oom_risk", "gauge", NULL,
            "1 while the out-of-memory risk claim holds: at the current "
            "growth rate of private memory the effective limit is reached "
            "within the risk horizon (12 h by default), whatever the cause; 0 otherwise. "
            "Independent of memvigil_leak_verdict.");
        put_int(e, NULL, lr->risk.active ? 1 : 0);
        fam(e, "memvigil_oom_risk_time_to_limit_seconds", "gauge", "seconds",
            "Time until the effective limit is reached at the current growth "
            "rate behind the OOM-risk claim; +Inf when not rising, absent "
            "while unknown.");
        put_dbl(e, NULL, lr->risk.eta_s);
    }
    fam(e, "memvigil_target_up", "gauge", NULL,
        "1 while the watched target exists, 0 after it exited.");
    put_int(e, NULL, st->target_alive ? 1 : 0);

    const mv__self_stats *m = st->self;
    if (m) {
        fam(e, "memvigil_tick_duration_seconds", "histogram", "seconds",
            "Wall time of one sampler tick (probe, detectors, sinks).");
        if (!open_fam(e)) {
            uint64_t cum = 0;
            for (int i = 0; i < MV_TICK_BUCKETS && !e->rc; i++) {
                cum += m->tick_hist[i];
                int rc = mv__buf_puts(e->b, "memvigil_tick_duration_seconds_bucket{le=\"");
                if (!rc) rc = mv__metric_le(e->b, e->fmt, mv__tick_bucket_bounds[i]);
                if (!rc) rc = mv__buf_puts(e->b, "\"} ");
                if (!rc) rc = mv__metric_int(e->b, (int64_t)cum);
                if (!rc) rc = mv__buf_puts(e->b, "\n");
                e->rc = rc;
            }
            if (!e->rc)
                e->rc = mv__metric_sample_double(e->b, "memvigil_tick_duration_seconds_sum",
                                                 NULL, m->tick_seconds_sum);
            if (!e->rc)
                e->rc = mv__metric_sample_int(e->b, "memvigil_tick_duration_seconds_count",
                                              NULL, (int64_t)cum);
        }
        fam(e, "memvigil_tick_errors_total", "counter", NULL,
            "Sampler ticks that failed to read the target.");
        put_int(e, NULL, (int64_t)m->errors);
        fam(e, "memvigil_events_dropped_total", "counter", NULL,
            "Events lost: the pending queue was full, or an event-log line "
            "waited too long for a stalled reader.");
        put_int(e, NULL, (int64_t)m->events_dropped);
        fam(e, "memvigil_recording_lines_lost_total", "counter", NULL,
            "Recording lines that could not be written (a full disk); "
            "the recording resumes by itself when there is room again.");
        if (m->recording)
            put_int(e, NULL, (int64_t)m->recording_lines_lost);
        fam(e, "memvigil_monitor_cpu_seconds_total", "counter", "seconds",
            "CPU time used by the sampler thread.");
        put_dbl(e, NULL, m->cpu_seconds);
        fam(e, "memvigil_monitor_cpu_ratio", "gauge", NULL,
            "Recent CPU share of the sampler thread, 0..1 (kept under the "
            "configured budget by lengthening the interval).");
        put_dbl(e, NULL, m->cpu_share);
        fam(e, "memvigil_monitor_cpu_budget_ratio", "gauge", NULL,
            "Configured CPU budget of the sampler thread, 0..1 (compare with "
            "memvigil_monitor_cpu_ratio).");
        if (st->cpu_budget > 0)
            put_dbl(e, NULL, st->cpu_budget);
        fam(e, "memvigil_monitor_interval_seconds", "gauge", "seconds",
            "Current sampling interval.");
        if (m->interval_ms > 0)
            put_dbl(e, NULL, (double)m->interval_ms / 1000.0);
        fam(e, "memvigil_monitor_memory_bytes", "gauge", "bytes",
            "Memory held by the monitor itself (series, registry, buffers).");
        put_int(e, NULL, m->footprint_bytes);
    }
    fam(e, "memvigil_build_info", "info", NULL,
        "Version of libmemvigil; value 1.");
    put_int(e, "version=\"" MV_VERSION_STRING "\"", 1);
}

/* ---- JSON ---- */

static int json_key_int(mv_buf *b, const char *key, int64_t v)
{
    int rc = mv__buf_printf(b, ",\"%s\":", key);
    return rc ? rc : mv__buf_json_int(b, v);
}

static int json_key_dbl(mv_buf *b, const char *key, double v)
{
    int rc = mv__buf_printf(b, ",\"%s\":", key);
    return rc ? rc : mv__json_number(b, v);
}

static int render_json(const mv__expose_state *st, mv_buf *b)
{
    int rc = mv__buf_printf(b, "{\"version\":\"%s\",\"target_up\":%s,\"level\":\"%s\"",
                            MV_VERSION_STRING, st->target_alive ? "true" : "false",
                            mv_level_name(st->level));
    if (!rc) rc = json_key_dbl(b, "growth_bytes_per_second", st->growth_bytes_per_s);
    if (!rc) rc = json_key_dbl(b, "growth_window_seconds",
                               isnan(st->growth_bytes_per_s) ? NAN : st->growth_window_s);
    if (!rc) rc = json_key_dbl(b, "time_to_limit_seconds", st->time_to_limit_s);
    if (!rc) rc = mv__buf_printf(b, ",\"time_to_limit_infinite\":%s",
                                 isinf(st->time_to_limit_s) ? "true" : "false");
    if (!rc) rc = mv__buf_puts(b, ",\"sample\":");
    if (!rc) rc = st->sample ? mv__sample_to_json(b, st->sample) : mv__buf_puts(b, "null");
    if (!rc) rc = mv__buf_puts(b, ",\"monitor\":");
    if (!rc) {
        const mv__self_stats *m = st->self;
        if (!m) {
            rc = mv__buf_puts(b, "null");
        } else {
            rc = mv__buf_printf(b, "{\"ticks\":%" PRIu64 ",\"tick_errors\":%" PRIu64,
                                m->ticks, m->errors);
            if (!rc) rc = json_key_dbl(b, "tick_seconds_sum", m->tick_seconds_sum);
            if (!rc) rc = json_key_dbl(b, "cpu_seconds", m->cpu_seconds);
            if (!rc) rc = json_key_dbl(b, "cpu_ratio", m->cpu_share);
            if (!rc) rc = json_key_dbl(b, "interval_seconds",
                                       m->interval_ms > 0 ? (double)m->interval_ms / 1000.0
                                                          : NAN);
            if (!rc) rc = json_key_int(b, "memory_bytes", m->footprint_bytes);
            if (!rc) rc = json_key_int(b, "events_dropped", (int64_t)m->events_dropped);
            if (!rc) rc = json_key_int(b, "recording_lines_lost",
                                       m->recording ? (int64_t)m->recording_lines_lost
                                                    : MV_NA);
            if (!rc && st->cpu_budget > 0)
                rc = json_key_dbl(b, "cpu_budget_ratio", st->cpu_budget);
            if (!rc) rc = mv__buf_puts(b, "}");
        }
    }
    if (!rc) rc = mv__buf_puts(b, ",\"app\":");
    if (!rc) rc = st->registry ? mv__registry_render(st->registry, MV_FORMAT_JSON, b)
                               : mv__buf_puts(b, "null");
    if (!rc && st->leak) {
        const mv__leak_result *lr = st->leak;
        rc = mv__buf_printf(b, ",\"leak\":{\"verdict\":\"%s\"",
                            mv__leak_verdict_name(lr->verdict));
        if (!rc) rc = json_key_dbl(b, "confidence", lr->confidence);
        if (!rc) rc = json_key_dbl(b, "growth_bytes_per_second",
                                   lr->growth_bytes_per_h / 3600.0);
        if (!rc) rc = json_key_dbl(b, "growth_bytes_per_hour", lr->growth_bytes_per_h);
        if (!rc) rc = json_key_dbl(b, "growth_lo_bytes_per_hour", lr->growth_lo_bytes_per_h);
        if (!rc) rc = json_key_dbl(b, "growth_hi_bytes_per_hour", lr->growth_hi_bytes_per_h);
        if (!rc) rc = json_key_dbl(b, "time_to_limit_seconds", lr->eta_s);
        if (!rc) rc = mv__buf_printf(b, ",\"time_to_limit_infinite\":%s",
                                     isinf(lr->eta_s) ? "true" : "false");
        if (!rc) rc = json_key_dbl(b, "time_to_limit_lo_seconds", lr->eta_lo_s);
        if (!rc) rc = json_key_dbl(b, "time_to_limit_hi_seconds", lr->eta_hi_s);
        if (!rc) rc = json_key_dbl(b, "window_seconds", lr->window_s);
        if (!rc) rc = mv__buf_printf(b, ",\"reason\":\"%s\",\"held_by_phase\":%s,"
                                     "\"evidence\":",
                                     mv__leak_reason_name(lr->reason),
                                     lr->held_by_phase ? "true" : "false");
        if (!rc) rc = mv__buf_json_string(b, lr->evidence);
        if (!rc) rc = mv__buf_puts(b, "}");
    }
    if (!rc && st->leak) {
        const mv__oom_risk *rk = &st->leak->risk;
        rc = mv__buf_printf(b, ",\"oom_risk\":{\"active\":%s",
                            rk->active ? "true" : "false");
        if (!rc) rc = json_key_dbl(b, "growth_bytes_per_second",
                                   rk->growth_bytes_per_h / 3600.0);
        if (!rc) rc = json_key_dbl(b, "growth_bytes_per_hour", rk->growth_bytes_per_h);
        if (!rc) rc = json_key_dbl(b, "time_to_limit_seconds", rk->eta_s);
        if (!rc) rc = mv__buf_printf(b, ",\"time_to_limit_infinite\":%s",
                                     isinf(rk->eta_s) ? "true" : "false");
        if (!rc) rc = json_key_dbl(b, "window_seconds", rk->window_s);
        if (!rc) rc = json_key_dbl(b, "active_seconds",
                                   rk->active && rk->since_ms >= 0 &&
                                           st->leak->evaluated_ms >= rk->since_ms
                                       ? (double)(st->leak->evaluated_ms -
                                                  rk->since_ms) / 1000.0
                                       : NAN);
        if (!rc) rc = mv__buf_puts(b, ",\"evidence\":");
        if (!rc) rc = mv__buf_json_string(b, rk->evidence);
        if (!rc) rc = mv__buf_puts(b, "}");
    }
    if (!rc && st->frag) {
        const mv__frag_result *fr = st->frag;
        rc = mv__buf_printf(b, ",\"allocator\":{\"diagnosis\":\"%s\"",
                            mv__frag_verdict_name(fr->verdict));
        if (!rc) rc = json_key_int(b, "excess_bytes", fr->excess_bytes);
        if (!rc) rc = json_key_int(b, "free_bytes", fr->free_bytes);
        if (!rc) rc = json_key_int(b, "arenas", fr->arenas);
        if (!rc) rc = json_key_dbl(b, "window_seconds", fr->window_s);
        if (!rc) rc = mv__buf_puts(b, ",\"evidence\":");
        if (!rc) rc = mv__buf_json_string(b, fr->evidence);
        if (!rc) rc = mv__buf_puts(b, ",\"advice\":");
        if (!rc) rc = mv__buf_json_string(b, fr->advice);
        if (!rc && st->self)
            rc = mv__buf_printf(b, ",\"trims\":%llu,\"trim_released_bytes\":%llu",
                                (unsigned long long)st->self->trims,
                                (unsigned long long)st->self->trim_released_bytes);
        if (!rc) rc = mv__buf_puts(b, "}");
    }
    if (!rc) rc = mv__buf_puts(b, ",\"events\":[");
    for (size_t i = 0; !rc && st->events && i < st->nevents; i++) {
        if (i)
            rc = mv__buf_puts(b, ",");
        if (!rc)
            rc = mv__event_to_json(&st->events[i], b);
    }
    if (!rc) rc = mv__buf_puts(b, "]}\n");
    return rc;
}

/* ---- entry point ---- */

int mv__expose_render(const mv__expose_state *st, mv_format fmt, mv_buf *out)
{
    if (!st || !out)
        return -EINVAL;
    size_t start = out->len;
    int rc;
    if (fmt == MV_FORMAT_JSON) {
        rc = render_json(st, out);
    } else {
        if (fmt != MV_FORMAT_OPENMETRICS)
            fmt = MV_FORMAT_PROMETHEUS;
        emit e = {.b = out, .fmt = fmt};
        if (st->sample)
            render_sample(&e, st->sample);
        render_state(&e, st);
        render_oom(&e, st);
        render_alloc(&e, st->sample);
        render_frag(&e, st);
        if (!e.rc && st->registry)
            e.rc = mv__registry_render(st->registry, fmt, out);
        if (!e.rc && st->process_metrics)
            render_process(&e, st->proc_root);
        if (!e.rc && fmt == MV_FORMAT_OPENMETRICS)
            e.rc = mv__buf_puts(out, "# EOF\n");
        rc = e.rc;
    }
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
