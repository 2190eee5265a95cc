/*
 * oom_report.c — the kernel's OOM-kill report, parsed from its log lines
 * (formats in oom_report.h, as mm/oom_kill.c prints them in 4.14, 4.19,
 * 5.10 and 6.1).
 *
 * A message is looked at only when it is one of the known lines, matched
 * by its fixed words; within it each figure is found by its key ("anon-rss:")
 * and must be digits, so a torn line yields fewer figures (MV_NA), and a line
 * without a pid, a command or anon-rss is not a kill report at all. The comm
 * is the text between "(" and ") total-vm:", since a command name may hold
 * spaces and parentheses.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "oom_report.h"
#include "util.h"

void mv__oom_parser_init(mv__oom_parser *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->memcg_hint = -1;
}

/* ---- small scanners over [s, end) ---- */

/* First occurrence of needle in [s, end), or NULL. */
static const char *find(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *q = s; q && (size_t)(end - q) >= n; q++) {
        q = memchr(q, needle[0], (size_t)(end - q));
        if (!q || (size_t)(end - q) < n)
            return NULL;
        if (memcmp(q, needle, n) == 0)
            return q;
    }
    return NULL;
}

/* Unsigned decimal at *s (at most 18 digits); advances *s. -1 if none. */
static int64_t digits(const char **s, const char *end)
{
    const char *q = *s;
    int64_t v = 0;
    int n = 0;
    while (q < end && *q >= '0' && *q <= '9' && n < 18) {
        v = v * 10 + (*q - '0');
        q++;
        n++;
    }
    if (n == 0 || (q < end && *q >= '0' && *q <= '9'))
        return -1;
    *s = q;
    return v;
}

/* Signed decimal at *s; 0 and *v set, or -1. */
static int sdigits(const char **s, const char *end, int64_t *v)
{
    const char *q = *s;
    int neg = 0;
    if (q < end && *q == '-') {
        neg = 1;
        q++;
    }
    int64_t u = digits(&q, end);
    if (u < 0)
        return -1;
    *v = neg ? -u : u;
    *s = q;
    return 0;
}

/* The figure after key ("anon-rss:") in [s, end), in kB scaled to bytes
 * when kb (the kernel prints "NkB"), else as is. MV_NA when absent, not
 * digits, or (kb) not followed by "kB". */
static int64_t keyed(const char *s, const char *end, const char *key, int kb)
{
    const char *q = find(s, end, key);
    if (!q)
        return MV_NA;
    q += strlen(key);
    int64_t v = digits(&q, end);
    if (v < 0)
        return MV_NA;
    if (!kb)
        return v;
    if (end - q < 2 || q[0] != 'k' || q[1] != 'B' || v > (INT64_MAX >> 10))
        return MV_NA;
    return v << 10;
}

/* Copies [s, e) into dst (size n), NUL-terminated, truncated. */
static void copy_span(char *dst, size_t n, const char *s, const char *e)
{
    size_t len = (size_t)(e - s);
    if (len >= n)
        len = n - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

/* The value of "key=" up to the next ',' (or end) into dst; 0 or -1. */
static int field(const char *s, const char *end, const char *key, char *dst,
                 size_t n)
{
    const char *q = find(s, end, key);
    if (!q)
        return -1;
    q += strlen(key);
    const char *e = memchr(q, ',', (size_t)(end - q));
    copy_span(dst, n, q, e ? e : end);
    return 0;
}

static mv_oom_constraint constraint_of(const char *s, const char *end)
{
    static const struct { const char *word; mv_oom_constraint c; } t[] = {
        { "CONSTRAINT_MEMCG", MV_OOM_CONSTRAINT_MEMCG },
        { "CONSTRAINT_NONE", MV_OOM_CONSTRAINT_NONE },
        { "CONSTRAINT_CPUSET", MV_OOM_CONSTRAINT_CPUSET },
        { "CONSTRAINT_MEMORY_POLICY", MV_OOM_CONSTRAINT_MEMORY_POLICY },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = strlen(t[i].word);
        if ((size_t)(end - s) >= n && memcmp(s, t[i].word, n) == 0 &&
            ((size_t)(end - s) == n || s[n] == ','))
            return t[i].c;
    }
    return MV_OOM_CONSTRAINT_UNKNOWN;
}

/* ---- the lines ---- */

static mv__oom_pending *pending_slot(mv__oom_parser *p)
{
    mv__oom_pending *slot = &p->pend[p->next];
    p->next = (p->next + 1) % MV_OOM_PENDING;
    memset(slot, 0, sizeof *slot);
    return slot;
}

/* "oom-kill:constraint=...,oom_memcg=...,task_memcg=...,task=..,pid=N,..." */
static void summary_line(mv__oom_parser *p, const char *s, const char *end)
{
    const char *q = s + strlen("oom-kill:constraint=");
    const char *pidk = find(q, end, ",pid=");
    if (!pidk)
        return;
    const char *d = pidk + 5;
    int64_t pid = digits(&d, end);
    if (pid <= 0 || pid > INT32_MAX)
        return;
    mv__oom_pending *slot = pending_slot(p);
    slot->used = 1;
    slot->pid = (int32_t)pid;
    slot->constraint = constraint_of(q, end);
    (void)field(q, end, "oom_memcg=", slot->oom_cgroup, sizeof slot->oom_cgroup);
    (void)field(q, end, "task_memcg=", slot->task_cgroup, sizeof slot->task_cgroup);
}

/* Before 4.19: "Task in /a/b killed as a result of limit of /a". */
static void task_in_line(mv__oom_parser *p, const char *s, const char *end)
{
    const char *q = s + strlen("Task in ");
    const char *k = find(q, end, " killed as a result of limit of ");
    if (!k)
        return;
    mv__oom_pending *slot = pending_slot(p);
    slot->used = 1;
    slot->pid = 0;
    slot->constraint = MV_OOM_CONSTRAINT_MEMCG;
    copy_span(slot->task_cgroup, sizeof slot->task_cgroup, q, k);
    k += strlen(" killed as a result of limit of ");
    copy_span(slot->oom_cgroup, sizeof slot->oom_cgroup, k, end);
}

/* The summary that goes with a kill of pid: the same pid, else a pre-4.19
 * "Task in" one; consumed. NULL when none. */
static mv__oom_pending *take_pending(mv__oom_parser *p, int32_t pid)
{
    mv__oom_pending *any = NULL;
    for (size_t i = 0; i < MV_OOM_PENDING; i++) {
        mv__oom_pending *c = &p->pend[i];
        if (!c->used)
            continue;
        if (c->pid == pid) {
            c->used = 0;
            return c;
        }
        if (c->pid == 0)
            any = c;
    }
    if (any)
        any->used = 0;
    return any;
}

/* "[<why>: ]Killed process N (comm) total-vm:NkB, anon-rss:NkB, ..." at
 * kp (the 'K'). */
static int killed_line(mv__oom_parser *p, const char *s, const char *kp,
                       const char *end, mv_oom_kill *out)
{
    const char *q = kp + strlen("Killed process ");
    int64_t pid = digits(&q, end);
    if (pid <= 0 || pid > INT32_MAX || end - q < 2 || q[0] != ' ' || q[1] != '(')
        return 0;
    const char *comm = q + 2;
    const char *ce = find(comm, end, ") total-vm:");
    if (!ce)
        return 0;
    const char *figs = ce + 1;
    int64_t anon = keyed(figs, end, "anon-rss:", 1);
    if (anon == MV_NA)
        return 0;

    memset(out, 0, sizeof *out);
    out->pid = (int32_t)pid;
    copy_span(out->comm, sizeof out->comm, comm, ce);
    out->anon_rss_bytes = anon;
    out->total_vm_bytes = keyed(figs, end, "total-vm:", 1);
    out->file_rss_bytes = keyed(figs, end, "file-rss:", 1);
    out->shmem_rss_bytes = keyed(figs, end, "shmem-rss:", 1);
    out->pgtables_bytes = keyed(figs, end, "pgtables:", 1);
    out->uid = keyed(figs, end, "UID:", 0);
    out->oom_score_adj = MV_OOM_SCORE_ADJ_NA;
    const char *a = find(figs, end, "oom_score_adj:");
    int64_t adj;
    if (a) {
        a += strlen("oom_score_adj:");
        if (sdigits(&a, end, &adj) == 0 && adj >= -1000 && adj <= 1000)
            out->oom_score_adj = adj;
    }

    /* the cause: "<why>: " before "Killed", else (pre-4.19) the last
     * "Kill process" line's */
    int memcg = p->memcg_hint;
    if (kp > s)
        memcg = find(s, kp, "Memory cgroup out of memory") ? 1 : 0;
    p->memcg_hint = -1;
    out->constraint = memcg == 1   ? MV_OOM_CONSTRAINT_MEMCG
                      : memcg == 0 ? MV_OOM_CONSTRAINT_NONE
                                   : MV_OOM_CONSTRAINT_UNKNOWN;
    mv__oom_pending *sum = take_pending(p, out->pid);
    if (sum) {
        if (sum->constraint != MV_OOM_CONSTRAINT_UNKNOWN)
            out->constraint = sum->constraint;
        mv__strlcpy(out->task_cgroup, sum->task_cgroup, sizeof out->task_cgroup);
        mv__strlcpy(out->oom_cgroup, sum->oom_cgroup, sizeof out->oom_cgroup);
    }
    return 1;
}

int mv__oom_parser_feed(mv__oom_parser *p, int64_t seq, int64_t ts_us,
                        const char *text, size_t len, mv_oom_kill *out)
{
    if (!p || !text || !out)
        return 0;
    const char *end = text + len;
    const char *nl = memchr(text, '\n', len);
    if (nl)
        end = nl;
    if (end - text >= 20 && memcmp(text, "oom-kill:constraint=", 20) == 0) {
        summary_line(p, text, end);
        return 0;
    }
    if (end - text >= 8 && memcmp(text, "Task in ", 8) == 0) {
        task_in_line(p, text, end);
        return 0;
    }
    const char *kp = find(text, end, "Killed process ");
    if (kp && (kp == text || (kp - text >= 2 && kp[-2] == ':' && kp[-1] == ' '))) {
        if (!killed_line(p, text, kp, end, out))
            return 0;
        out->seq = seq;
        out->kernel_ts_us = ts_us;
        return 1;
    }
    /* pre-4.19 "<why>: Kill process N (comm) score S or sacrifice child" */
    const char *kill = find(text, end, ": Kill process ");
    if (kill)
        p->memcg_hint = find(text, kill, "Memory cgroup out of memory") ? 1 : 0;
    return 0;
}

int mv__kmsg_record_split(const char *rec, size_t len, int64_t *seq,
                          int64_t *ts_us, const char **text, size_t *text_len)
{
    if (!rec || !seq || !ts_us || !text || !text_len)
        return -EINVAL;
    const char *end = rec + len;
    const char *semi = memchr(rec, ';', len);
    const char *nl = memchr(rec, '\n', len);
    if (!semi || (nl && nl < semi))
        return -EINVAL;
    const char *q = rec;
    if (digits(&q, semi) < 0 || q >= semi || *q != ',')  /* priority */
        return -EINVAL;
    q++;
    int64_t s = digits(&q, semi);
    if (s < 0 || q >= semi || *q != ',')
        return -EINVAL;
    q++;
    int64_t t = digits(&q, semi);
    if (t < 0 || q >= semi || *q != ',')
        return -EINVAL;
    *seq = s;
    *ts_us = t;
    *text = semi + 1;
    const char *te = memchr(semi + 1, '\n', (size_t)(end - semi - 1));
    *text_len = (size_t)((te ? te : end) - (semi + 1));
    return 0;
}

int64_t mv__parse_vmstat_oom_kill(const char *text)
{
    if (!text)
        return MV_NA;
    for (const char *l = text; l && *l; ) {
        const char *nl = strchr(l, '\n');
        const char *end = nl ? nl : l + strlen(l);
        if (end - l > 9 && memcmp(l, "oom_kill ", 9) == 0) {
            const char *q = l + 9;
            int64_t v = digits(&q, end);
            return v >= 0 && q == end ? v : MV_NA;
        }
        l = nl ? nl + 1 : NULL;
    }
    return MV_NA;
}

int mv__oom_kill_in_target(const mv_oom_kill *k, const int32_t *pids,
                           size_t npids, const char *cgroup_path)
{
    if (!k)
        return 0;
    for (size_t i = 0; pids && i < npids; i++)
        if (pids[i] > 0 && pids[i] == k->pid)
            return 1;
    if (!cgroup_path || !cgroup_path[0] || strcmp(cgroup_path, "/") == 0 ||
        !k->task_cgroup[0])
        return 0;
    size_t n = strlen(cgroup_path);
    while (n > 1 && cgroup_path[n - 1] == '/')
        n--;
    return strncmp(k->task_cgroup, cgroup_path, n) == 0 &&
           (k->task_cgroup[n] == '\0' || k->task_cgroup[n] == '/');
}
