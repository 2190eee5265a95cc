/*
 * probe_derive.c — the "unavailable" sample (mv_sample_clear) and the
 * fields computed from the others (mv__sample_derive): working set,
 * private memory, effective limit and usage ratio.
 *
 * Design choices:
 *  - Working set is cgroup usage minus inactive file cache, as the kubelet
 *    computes it: inactive file pages are the first reclaimed, so they do
 *    not bring a cgroup closer to an OOM kill.
 *  - The effective limit is the tightest of memory.max, memory.high and
 *    MemTotal. A cgroup limit counts only when strictly below MemTotal;
 *    otherwise the machine is the real bound.
 *  - The usage ratio compares like with like: with a real cgroup limit the
 *    kernel charges the whole cgroup, so its working set is what matters;
 *    without one, the target's own RSS against MemTotal. That rule is
 *    mv__sample_limit_quantity, its one home: the monitor's time to limit
 *    uses it too.
 *  - A configured limit (mv_config.limit_bytes, `--limit`) is applied after
 *    the derivation by mv__sample_apply_limit, so the sample alone stays
 *    the kernel's view: it replaces the effective limit only when strictly
 *    tighter (a tie names the kernel's limit) and, being a budget for the
 *    target rather than a cgroup charge, is compared with the target's RSS
 *    (a cgroup target's working set), as MemTotal is.
 */
#include <math.h>
#include <string.h>

#include "probe.h"
#include "sample_fields.h"

/* "Unavailable" by the table's type (sample_fields.h): MV_NA for integers
 * and limits, NAN for doubles; counts of things (pid, nprocs,
 * cgroup_version) are 0. */
#define NA_I64(x) (x) = MV_NA;
#define NA_LIM(x) (x) = MV_NA;
#define NA_I32(x) (x) = 0;
#define NA_INT(x) (x) = 0;
#define NA_DBL(x) (x) = NAN;

void mv__sample_clear_process(mv_sample *s)
{
#define X(member, type, where, help)                                          \
    if (MV__PROCESS_FIELD(member)) {                                           \
        NA_##type(s->member)                                                   \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
}

void mv__sample_clear_cgroup(mv_sample *s)
{
    const mv_psi na = {NAN, NAN, NAN, MV_NA};

#define X(member, type, where, help)                                          \
    if (MV__CGROUP_FIELD(member)) {                                            \
        NA_##type(s->member)                                                   \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
    s->cgroup_path[0] = '\0';
    s->cg_psi_some = na;
    s->cg_psi_full = na;
}

MV_EXPORT void mv_sample_clear(mv_sample *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    const mv_psi na = {NAN, NAN, NAN, MV_NA};

#define X(member, type, where, help) NA_##type(s->member)
    MV_SAMPLE_FIELDS(X)
#undef X
    s->cg_psi_some = na;
    s->cg_psi_full = na;
    s->sys_psi_some = na;
    s->sys_psi_full = na;
    s->limit_source = MV_LIMIT_NONE;
}

/* a + b for byte counts >= 0, saturating at INT64_MAX (a garbage "max"
 * in memory.swap.current reads as MV_UNLIMITED = INT64_MAX). */
static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    return a + b;
}

/* A usable limit: known, set, positive. */
static int is_limit(int64_t v)
{
    return v != MV_NA && v != MV_UNLIMITED && v > 0;
}

/* 1 when the rule picks the working set, 0 when RSS. */
static int limit_quantity_is_working_set(const mv_sample *s)
{
    if (s->limit_source == MV_LIMIT_CGROUP_MAX ||
        s->limit_source == MV_LIMIT_CGROUP_HIGH)
        return s->working_set_bytes != MV_NA;
    return s->rss_bytes == MV_NA;
}

int64_t mv__sample_limit_quantity(const mv_sample *s)
{
    return limit_quantity_is_working_set(s) ? s->working_set_bytes
                                            : s->rss_bytes;
}

const char *mv__sample_limit_quantity_name(const mv_sample *s)
{
    return limit_quantity_is_working_set(s) ? "working set" : "rss";
}

/* usage_ratio from effective_limit_bytes and mv__sample_limit_quantity. */
static void derive_ratio(mv_sample *s)
{
    int64_t lim = s->effective_limit_bytes;
    int64_t num = mv__sample_limit_quantity(s);
    if (num != MV_NA && lim != MV_NA && lim > 0)
        s->usage_ratio = (double)num / (double)lim;
    else
        s->usage_ratio = NAN;
}

void mv__sample_derive(mv_sample *s)
{
    if (!s)
        return;

    /* working set */
    if (s->cg_usage_bytes != MV_NA && s->cg_usage_bytes >= 0) {
        int64_t inactive = s->cg_inactive_file_bytes != MV_NA
                               ? s->cg_inactive_file_bytes : 0;
        int64_t ws = s->cg_usage_bytes - inactive;
        s->working_set_bytes = ws > 0 ? ws : 0;
    } else {
        s->working_set_bytes = MV_NA;
    }

    /* private: anon + swap, of the process when known, else the cgroup */
    if (s->rss_anon_bytes != MV_NA) {
        s->private_bytes = sat_add(s->rss_anon_bytes,
                                   s->swap_bytes != MV_NA ? s->swap_bytes : 0);
    } else if (s->cg_anon_bytes != MV_NA) {
        s->private_bytes = sat_add(s->cg_anon_bytes,
                                   s->cg_swap_bytes != MV_NA ? s->cg_swap_bytes : 0);
    } else {
        s->private_bytes = MV_NA;
    }

    /* effective limit: MemTotal, replaced by a strictly tighter cgroup
     * max, then a strictly tighter high (so ties go to max, then MemTotal) */
    int64_t lim = MV_NA;
    mv_limit_source src = MV_LIMIT_NONE;
    if (is_limit(s->mem_total_bytes)) {
        lim = s->mem_total_bytes;
        src = MV_LIMIT_MEMTOTAL;
    }
    int64_t cg_lim = MV_NA;
    mv_limit_source cg_src = MV_LIMIT_NONE;
    if (is_limit(s->cg_max_bytes)) {
        cg_lim = s->cg_max_bytes;
        cg_src = MV_LIMIT_CGROUP_MAX;
    }
    if (is_limit(s->cg_high_bytes) && (cg_lim == MV_NA || s->cg_high_bytes < cg_lim)) {
        cg_lim = s->cg_high_bytes;
        cg_src = MV_LIMIT_CGROUP_HIGH;
    }
    if (cg_lim != MV_NA && (lim == MV_NA || cg_lim < lim)) {
        lim = cg_lim;
        src = cg_src;
    }
    s->effective_limit_bytes = lim;
    s->limit_source = src;
    derive_ratio(s);
}

void mv__sample_apply_limit(mv_sample *s, int64_t limit_bytes)
{
    if (!s || limit_bytes <= 0)
        return;
    if (is_limit(s->effective_limit_bytes) &&
        s->effective_limit_bytes <= limit_bytes)
        return;
    s->effective_limit_bytes = limit_bytes;
    s->limit_source = MV_LIMIT_CONFIG;
    derive_ratio(s);
}
