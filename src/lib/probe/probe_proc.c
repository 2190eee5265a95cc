/*
 * probe_proc.c — reading one process, a process tree or a set of pids from
 * /proc/PID/{status,stat,smaps_rollup,cgroup,smaps,comm,oom_score}.
 *
 * Design choices:
 *  - The sampler tick budget is ~200 us, so the per-tick path reads with
 *    open/read/close into stack buffers (mv__probe_read_small): no stdio, no
 *    allocation. Only smaps (for `inspect`, can be many MB) uses a heap
 *    buffer.
 *  - /proc/PID/status is the one mandatory file: if it is missing the
 *    process is gone (-ESRCH). stat and smaps_rollup only add fields; their
 *    failures leave those fields MV_NA.
 *  - A tree is found the portable way: scan proc_root for numeric
 *    directories, read each stat's ppid, sort the (pid, ppid) pairs by ppid
 *    and walk down from the roots. Only done when a tree is asked for.
 *    Processes that vanish between the scan and the read are skipped.
 */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "sample_fields.h"
#include "util.h"

/* Big enough for status on machines with thousands of CPUs; the fields we
 * want are in its first kilobyte anyway. */
#define STATUS_BUF 8192
#define SMALL_BUF 1024
#define SMAPS_MAX ((size_t)64 << 20)

/* Reads fd from offset 0 into buf (pread, so a kept descriptor is re-read
 * from the start without an lseek; procfs and cgroupfs seq_files restart
 * their text when asked for offset 0). Does not close fd. */
static ssize_t pread_fd(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int more = 0;

    while (n < cap - 1) {
        ssize_t r = pread(fd, buf + n, cap - 1 - n, (off_t)n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            buf[0] = '\0';
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        /* procfs and cgroupfs (seq_file) fill the buffer as far as they
         * can, and regular files only read short at EOF: a short read is
         * the end, which saves the extra read() that would return 0. */
        if (n < cap - 1)
            break;
    }
    if (n == cap - 1) {
        char c;
        ssize_t r;
        do {
            r = pread(fd, &c, 1, (off_t)n);
        } while (r < 0 && errno == EINTR);
        more = r > 0;
    }
    buf[n] = '\0';
    if (more) {
        /* Keep whole lines only: a cut number must not look valid. */
        char *nl = memrchr(buf, '\n', n);
        n = nl ? (size_t)(nl - buf) + 1 : 0;
        buf[n] = '\0';
    }
    return (ssize_t)n;
}

ssize_t mv__probe_read_small(const char *path, char *buf, size_t cap)
{
    return mv__probe_read_at(AT_FDCWD, path, buf, cap);
}

ssize_t mv__probe_read_at(int dirfd, const char *path, char *buf, size_t cap)
{
    int slot = MV__SLOT_UNOPENED;
    return mv__probe_slot_read(&slot, dirfd, path, 0, buf, cap);
}

ssize_t mv__probe_slot_read(int *slot, int dirfd, const char *path, int keep,
                            char *buf, size_t cap)
{
    if (!buf || cap < 2)
        return -EINVAL;
    buf[0] = '\0';
    if (!slot)
        return -EINVAL;
    if (*slot == MV__SLOT_MISSING)
        return -ENOENT;
    /* A kept descriptor whose file was unlinked (a removed cgroup, a file
     * replaced in a fixture tree) reads stale data: open the path again.
     * procfs and cgroupfs files report one link while they exist. */
    struct stat st;
    if (*slot >= 0 && keep && fstat(*slot, &st) == 0 && st.st_nlink == 0)
        mv__probe_slot_close(slot);
    if (*slot < 0) {
        if (!path)
            return -EINVAL;
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            int e = errno;
            if (keep && e == ENOENT)
                *slot = MV__SLOT_MISSING;
            return -e;
        }
        *slot = fd;
    }
    ssize_t r = pread_fd(*slot, buf, cap);
    if (!keep)
        mv__probe_slot_close(slot);
    return r;
}

void mv__probe_slot_close(int *slot)
{
    if (!slot)
        return;
    if (*slot >= 0)
        close(*slot);
    *slot = MV__SLOT_UNOPENED;
}

/* "No such file" and "no such process" both mean the pid is gone. */
static int gone(ssize_t err)
{
    return err == -ENOENT || err == -ESRCH;
}

static int pid_path(char *out, size_t n, const mv__probe_opts *o, int32_t pid,
                    const char *file)
{
    int len = snprintf(out, n, "%s/%d/%s", o->proc_root, (int)pid, file);
    return (len < 0 || (size_t)len >= n) ? -ENAMETOOLONG : 0;
}

void mv__proc_handle_init(mv__proc_handle *h, int keep)
{
    h->status = h->stat = h->smaps = MV__SLOT_UNOPENED;
    h->keep = keep;
}

void mv__proc_handle_close(mv__proc_handle *h)
{
    mv__probe_slot_close(&h->status);
    mv__probe_slot_close(&h->stat);
    mv__probe_slot_close(&h->smaps);
}

int mv__probe_process_read(const mv__probe_opts *o, int32_t pid,
                           mv__proc_handle *h, int want_stat, mv_sample *s)
{
    char path[PATH_MAX];
    char buf[STATUS_BUF];
    ssize_t n;
    int rc;

    if (!o || !o->proc_root || !s || pid <= 0 || !h)
        return -EINVAL;
    mv__sample_clear_process(s);
    s->pid = pid;

    /* the path even with a kept descriptor: a stale one (unlinked file)
     * is reopened by path in mv__probe_slot_read */
    if ((rc = pid_path(path, sizeof(path), o, pid, "status")) != 0)
        return rc;
    n = mv__probe_slot_read(&h->status, AT_FDCWD, path, h->keep, buf,
                            sizeof(buf));
    /* A kept descriptor of a reaped process reads ESRCH (or nothing): the
     * descriptor pins the old process, so a reused pid is never followed. */
    if (n < 0 || (n == 0 && h->keep)) {
        if (n < 0 && !gone(n))
            return (int)n;
        return -ESRCH;
    }
    /* Garbage leaves the fields MV_NA; the process does exist. */
    (void)mv__parse_status(buf, s);

    if (want_stat) {
        /* the path even with a kept descriptor: a stale one (unlinked file)
         * is reopened by path in mv__probe_slot_read */
        if ((rc = pid_path(path, sizeof(path), o, pid, "stat")) != 0)
            return rc;
        n = mv__probe_slot_read(&h->stat, AT_FDCWD, path, h->keep, buf,
                                sizeof(buf));
        if (n > 0) {
            int32_t ppid;
            (void)mv__parse_stat(buf, &ppid, s);
        } else if (gone(n) || (n == 0 && h->keep)) {
            mv__sample_clear_process(s);
            return -ESRCH;  /* exited between the two reads */
        }
    }

    /* smaps_rollup walks every VMA under the target's mmap lock: opt-in
     * and gated on VmSize (unknown VmSize -> skip, we cannot gate). */
    if (o->smaps_rollup && s->vm_size_bytes != MV_NA &&
        s->vm_size_bytes <= o->smaps_max_vm_bytes) {
        /* the path even with a kept descriptor: a stale one (unlinked file)
         * is reopened by path in mv__probe_slot_read */
        if ((rc = pid_path(path, sizeof(path), o, pid, "smaps_rollup")) != 0)
            return rc;
        n = mv__probe_slot_read(&h->smaps, AT_FDCWD, path, h->keep, buf,
                                sizeof(buf));
        if (n >= 0)
            (void)mv__parse_smaps_rollup(buf, s);
    }
    s->nprocs = 1;
    return 0;
}

int mv__probe_process(const mv__probe_opts *o, int32_t pid, mv_sample *s)
{
    mv__proc_handle h;
    mv__proc_handle_init(&h, 0);
    return mv__probe_process_read(o, pid, &h, 1, s);
}

/* ---- sets of pids and trees ------------------------------------------ */

typedef struct pid_pair {
    int32_t pid, ppid;
    int queued;
} pid_pair;

typedef struct pid_vec {
    int32_t *v;
    size_t n, cap;
} pid_vec;

static int vec_push(pid_vec *pv, int32_t pid)
{
    if (pv->n == pv->cap) {
        size_t ncap = pv->cap ? pv->cap * 2 : 16;
        int32_t *nv = realloc(pv->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        pv->v = nv;
        pv->cap = ncap;
    }
    pv->v[pv->n++] = pid;
    return 0;
}

static int cmp_pair_ppid(const void *a, const void *b)
{
    const pid_pair *x = a, *y = b;
    if (x->ppid != y->ppid)
        return x->ppid < y->ppid ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Parses a directory name that is all digits into a positive pid. */
static int32_t numeric_name(const char *name)
{
    long v = 0;
    if (!*name)
        return 0;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX)
            return 0;
    }
    return (int32_t)v;
}

/* Reads (pid, ppid) of every process under proc_root. */
static int scan_pairs(const mv__probe_opts *o, pid_pair **out, size_t *count)
{
    DIR *d = opendir(o->proc_root);
    pid_pair *pairs = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    char path[PATH_MAX];
    char buf[SMALL_BUF];

    *out = NULL;
    *count = 0;
    if (!d)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        int32_t pid = numeric_name(de->d_name);
        int32_t ppid;
        if (pid <= 0 || pid_path(path, sizeof(path), o, pid, "stat") != 0)
            continue;
        if (mv__probe_read_small(path, buf, sizeof(buf)) < 0)
            continue;  /* vanished, or not a process */
        if (mv__parse_stat(buf, &ppid, NULL) != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            pid_pair *np = realloc(pairs, ncap * sizeof(*np));
            if (!np) {
                free(pairs);
                closedir(d);
                return -ENOMEM;
            }
            pairs = np;
            cap = ncap;
        }
        pairs[n].pid = pid;
        pairs[n].ppid = ppid;
        pairs[n].queued = 0;
        n++;
    }
    closedir(d);
    *out = pairs;
    *count = n;
    return 0;
}

/* Builds the list of pids to sum: roots[0] first, then the other roots and
 * (with tree) every descendant, each once. */
static int collect_pids(const mv__probe_opts *o, const int32_t *roots,
                        size_t nroots, int tree, pid_vec *out)
{
    int rc;

    for (size_t i = 0; i < nroots; i++)
        if ((rc = vec_push(out, roots[i])) != 0)
            return rc;

    if (tree) {
        pid_pair *pairs;
        size_t np;
        if ((rc = scan_pairs(o, &pairs, &np)) != 0)
            return rc;
        qsort(pairs, np, sizeof(*pairs), cmp_pair_ppid);
        /* Breadth-first: out->v doubles as the queue. A pair is queued at
         * most once, so a cycle in a corrupt tree still terminates. */
        for (size_t qi = 0; qi < out->n; qi++) {
            int32_t parent = out->v[qi];
            size_t lo = 0, hi = np;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (pairs[mid].ppid < parent)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t j = lo; j < np && pairs[j].ppid == parent; j++) {
                if (pairs[j].queued)
                    continue;
                pairs[j].queued = 1;
                if ((rc = vec_push(out, pairs[j].pid)) != 0) {
                    free(pairs);
                    return rc;
                }
            }
        }
        free(pairs);
    }

    /* Dedupe everything after the primary, and drop copies of it. */
    if (out->n > 1) {
        qsort(out->v + 1, out->n - 1, sizeof(int32_t), cmp_i32);
        size_t w = 1;
        for (size_t i = 1; i < out->n; i++) {
            if (out->v[i] == out->v[0])
                continue;
            if (w > 1 && out->v[w - 1] == out->v[i])
                continue;
            out->v[w++] = out->v[i];
        }
        out->n = w;
    }
    return 0;
}

/* acc += v, where MV_NA means "not known": skipped, and an MV_NA
 * accumulator takes the first known value. Saturates at INT64_MAX: garbage
 * huge values from many processes must not overflow (nor wrap to MV_NA). */
static void add_field(int64_t *acc, int64_t v)
{
    if (v == MV_NA)
        return;
    if (*acc == MV_NA)
        *acc = v;
    else if (v > 0 && *acc > INT64_MAX - v)
        *acc = INT64_MAX;
    else
        *acc += v;
}

/* The process fields that are the target's own, not sums: its start time
 * (PID reuse) and its peak (VmHWM; a sum of peaks reached at different
 * times would be no peak at all). */
#define TARGET_OWN(m)                                                         \
    (offsetof(mv_sample, m) == offsetof(mv_sample, start_time_ticks) ||       \
     offsetof(mv_sample, m) == offsetof(mv_sample, rss_peak_bytes))

/* Every integer process field of the table (sample_fields.h) is summed,
 * so a field added there is summed too; nprocs counts the processes. */
static void add_process(mv_sample *acc, const mv_sample *p)
{
#define ADD_I64(m) add_field(&acc->m, p->m);
#define ADD_LIM(m) add_field(&acc->m, p->m);
#define ADD_I32(m)
#define ADD_INT(m)
#define ADD_DBL(m)
#define X(member, type, where, help)                                          \
    if (MV__PROCESS_FIELD(member) && !TARGET_OWN(member)) {                    \
        ADD_##type(member)                                                     \
    }
    MV_SAMPLE_FIELDS(X)
#undef X
    acc->nprocs += p->nprocs;
}

/* Sums the processes of a pid set into s (process fields only). */
int mv__probe_pids(const mv__probe_opts *o, const int32_t *pids, size_t npids,
                   int tree, mv_sample *s)
{
    int rc;

    if (!o || !pids || npids == 0 || !s)
        return -EINVAL;
    for (size_t i = 0; i < npids; i++)
        if (pids[i] <= 0)
            return -EINVAL;

    /* Read the primary first so a missing target fails fast, before the
     * scan of all of /proc. */
    if ((rc = mv__probe_process(o, pids[0], s)) != 0)
        return rc;
    if (!tree && npids == 1)
        return 0;
    return mv__probe_pids_rest(o, pids, npids, tree, s);
}

int mv__probe_pids_rest(const mv__probe_opts *o, const int32_t *pids,
                        size_t npids, int tree, mv_sample *s)
{
    pid_vec set = {0};
    mv_sample one;
    mv__proc_handle h;
    int rc;

    if (!o || !pids || npids == 0 || !s)
        return -EINVAL;
    for (size_t i = 0; i < npids; i++)
        if (pids[i] <= 0)
            return -EINVAL;
    if ((rc = collect_pids(o, pids, npids, tree, &set)) != 0) {
        free(set.v);
        mv__sample_clear_process(s);
        return rc;
    }
    /* Transient opens; stat is read again (the scan above kept only the
     * ppid) for the counters it holds, which are summed like the rest. */
    mv__proc_handle_init(&h, 0);
    mv_sample_clear(&one);
    for (size_t i = 1; i < set.n; i++) {
        if (mv__probe_process_read(o, set.v[i], &h, 1, &one) != 0)
            continue;  /* vanished mid-scan (or unreadable): skip */
        add_process(s, &one);
    }
    free(set.v);
    s->pid = pids[0];
    return 0;
}

/* ---- cgroup membership, inspect helpers ------------------------------- */

int mv__probe_find_cgroup(const mv__probe_opts *o, int32_t pid, int *version,
                          char *path, size_t n)
{
    char p[PATH_MAX];
    char buf[STATUS_BUF];
    int rc;

    if (version)
        *version = 0;
    if (path && n)
        path[0] = '\0';
    if (!o || !o->proc_root || !version || !path || n == 0 || pid <= 0)
        return -EINVAL;
    if ((rc = pid_path(p, sizeof(p), o, pid, "cgroup")) != 0)
        return rc;
    ssize_t r = mv__probe_read_small(p, buf, sizeof(buf));
    if (r < 0)
        return gone(r) ? -ESRCH : (int)r;
    return mv__parse_proc_cgroup(buf, version, path, n);
}

int mv__probe_comm(const mv__probe_opts *o, int32_t pid, char *out, size_t n)
{
    char p[PATH_MAX];
    char buf[256];
    int rc;

    if (out && n)
        out[0] = '\0';
    if (!o || !o->proc_root || !out || n == 0 || pid <= 0)
        return -EINVAL;
    if ((rc = pid_path(p, sizeof(p), o, pid, "comm")) != 0)
        return rc;
    ssize_t r = mv__probe_read_small(p, buf, sizeof(buf));
    if (r < 0)
        return gone(r) ? -ESRCH : (int)r;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    mv__strlcpy(out, buf, n);
    return 0;
}

/* Reads a file holding one signed int; MV__OOM_SCORE_NA when n/a. */
static ssize_t read_int_file(const char *path, int *out)
{
    char buf[64];
    char *end;

    *out = MV__OOM_SCORE_NA;
    ssize_t r = mv__probe_read_small(path, buf, sizeof(buf));
    if (r < 0)
        return r;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (end == buf || errno != 0 || v < INT_MIN || v > INT_MAX)
        return 0;
    while (*end == '\n' || *end == ' ')
        end++;
    if (*end == '\0')
        *out = (int)v;
    return 0;
}

int mv__probe_oom_score(const mv__probe_opts *o, int32_t pid, int *score,
                        int *score_adj)
{
    char p[PATH_MAX];
    int dummy;
    int rc;

    if (score)
        *score = MV__OOM_SCORE_NA;
    if (score_adj)
        *score_adj = MV__OOM_SCORE_NA;
    if (!o || !o->proc_root || pid <= 0)
        return -EINVAL;
    if ((rc = pid_path(p, sizeof(p), o, pid, "oom_score")) != 0)
        return rc;
    ssize_t r1 = read_int_file(p, score ? score : &dummy);
    if ((rc = pid_path(p, sizeof(p), o, pid, "oom_score_adj")) != 0)
        return rc;
    ssize_t r2 = read_int_file(p, score_adj ? score_adj : &dummy);
    if (gone(r1) && gone(r2))
        return -ESRCH;
    return 0;
}

int mv__probe_top_mappings(const mv__probe_opts *o, int32_t pid,
                           mv__mapping *out, size_t max, size_t *count)
{
    char p[PATH_MAX];
    mv_buf buf = {0};
    int rc;

    if (count)
        *count = 0;
    if (!o || !o->proc_root || !count || pid <= 0 || (max && !out))
        return -EINVAL;
    if ((rc = pid_path(p, sizeof(p), o, pid, "smaps")) != 0)
        return rc;
    ssize_t r = mv__read_file(p, &buf, SMAPS_MAX);
    if (r < 0) {
        mv_buf_release(&buf);
        return gone(r) ? -ESRCH : (int)r;
    }
    rc = mv__parse_smaps_top(buf.data ? buf.data : "", out, max, count);
    mv_buf_release(&buf);
    return rc;
}
