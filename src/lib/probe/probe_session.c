/*
 * probe_session.c — mv__probe_target for a sampler that probes the same
 * target every tick, with the per-file descriptors kept open between ticks.
 *
 * Why: a tick spaced 100 ms or 10 s after the last one runs with cold
 * caches, and open/close of ~12 procfs and cgroupfs files (path walk,
 * dentry and file allocation, permission checks) was most of its cost. A
 * pread(fd, .., 0) on a kept descriptor skips all of that; procfs and
 * cgroupfs regenerate the text at offset 0.
 *
 * Design choices:
 *  - Same readers as the one-shot path (probe_proc.c, probe_cgroup.c,
 *    probe_system.c): they take "slots" that are either opened per read or
 *    kept, so the two paths cannot drift apart in what they parse.
 *  - The primary's /proc/PID descriptors pin the process they were opened
 *    on: after it exits the kernel answers ESRCH (or 0 bytes), never the
 *    text of a new process that got the same pid. The session then answers
 *    -ESRCH for good; so it does once the primary is a zombie (it had
 *    VmRSS and has no Vm lines any more: exited, not yet reaped). The start time read at creation is compared as well.
 *  - /proc/PID/stat gives the primary's start time, which cannot change
 *    for a pinned process (compared at _new and at each recheck), and
 *    counters that are sample fields (probe_parse.c's list of stat
 *    fields), so it is read at every tick: one pread of the kept
 *    descriptor (~14 us spaced).
 *  - The cgroup of a pid target can change (a process moved by systemd or a
 *    container runtime): /proc/PID/cgroup, itself kept open, is read again
 *    every MV__PROBE_SESSION_RECHECK samples, and at once when a kept
 *    cgroup file reads ENODEV (its cgroup was removed). The check is one
 *    pread; reopening (8 opens) happens only when the path changed.
 *  - Tree members and extra pids use transient opens: their number is not
 *    bounded, descriptors are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

#define CGFILE_BUF 8192

struct mv__probe_session {
    mv__probe_opts o;          /* proc_root/cgroup_root point into the
                                  copies below */
    char *proc_root;
    char *cgroup_root;
    int32_t *pids;             /* copy; pids[0] resolved (0 -> getpid) */
    size_t npids;
    int tree;
    char *cgroup;              /* cgroup target, or NULL */

    mv__proc_handle proc;      /* primary's status, stat, smaps_rollup */
    int64_t start_time;        /* primary's, at _new; MV_NA when unknown */
    int dead;                  /* primary gone: -ESRCH from now on */
    int had_vm;                /* the primary's status had VmRSS once */

    int cgfile;                /* slot: /proc/PID/cgroup */
    int cg_resolved;           /* cg_version/cg_path hold a parsed value */
    int cg_version;            /* 0: no memory cgroup */
    char cg_path[MV_CGROUP_PATH_MAX];
    mv__cgroup_handle cg;

    int meminfo, psi;          /* slots */
    unsigned since_check;      /* samples since the last recheck */
};

/* Every descriptor but the cgroup's: what a gone target leaves, so that
 * mv__probe_session_read_cgroup can still read what happened to it. */
static void close_but_cgroup(mv__probe_session *ps)
{
    mv__proc_handle_close(&ps->proc);
    mv__probe_slot_close(&ps->cgfile);
    mv__probe_slot_close(&ps->meminfo);
    mv__probe_slot_close(&ps->psi);
}

static void close_all(mv__probe_session *ps)
{
    close_but_cgroup(ps);
    mv__probe_cgroup_close(&ps->cg);
}

void mv__probe_session_free(mv__probe_session *ps)
{
    if (!ps)
        return;
    close_all(ps);
    free(ps->proc_root);
    free(ps->cgroup_root);
    free(ps->pids);
    free(ps->cgroup);
    free(ps);
}

static char *dup_or_null(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

/* Opens the cgroup (version, path) into ps->cg, with the container
 * fall-back of mv__probe_target: a missing directory means the hierarchy
 * root is ours. Failure leaves ps->cg closed (fields MV_NA). */
static void open_pid_cgroup(mv__probe_session *ps)
{
    mv__probe_cgroup_close(&ps->cg);
    if (ps->cg_version == 0)
        return;
    int rc = mv__probe_cgroup_open(&ps->o, ps->cg_version, ps->cg_path, 1,
                                   &ps->cg);
    if (rc == -ENOENT && strcmp(ps->cg_path, "/") != 0)
        (void)mv__probe_cgroup_open(&ps->o, ps->cg_version, "/", 1, &ps->cg);
}

/* Reads /proc/PID/cgroup; reopens the cgroup when it changed, when force,
 * or when it is not open. A failed read keeps what we have. */
static void resolve_pid_cgroup(mv__probe_session *ps, int force)
{
    char buf[CGFILE_BUF];
    char path[MV_CGROUP_PATH_MAX];
    int version = 0;
    const char *file = NULL;
    char p[4096];

    if (ps->cgfile < 0) {
        int len = snprintf(p, sizeof(p), "%s/%d/cgroup", ps->o.proc_root,
                           (int)ps->pids[0]);
        if (len < 0 || (size_t)len >= sizeof(p))
            return;
        file = p;
    }
    if (mv__probe_slot_read(&ps->cgfile, AT_FDCWD, file, 1, buf,
                            sizeof(buf)) <= 0)
        return;
    if (mv__parse_proc_cgroup(buf, &version, path, sizeof(path)) != 0) {
        version = 0;  /* no memory cgroup */
        path[0] = '\0';
    }
    int same = ps->cg_resolved && version == ps->cg_version &&
               strcmp(path, ps->cg_path) == 0;
    if (same && !force && (ps->cg.dirfd >= 0 || version == 0)) {
        mv__probe_cgroup_retry_missing(&ps->cg);
        return;
    }
    ps->cg_version = version;
    mv__strlcpy(ps->cg_path, path, sizeof(ps->cg_path));
    ps->cg_resolved = 1;
    open_pid_cgroup(ps);
}

static void sample_pid_cgroup(mv__probe_session *ps, int recheck,
                              mv_sample *s)
{
    if (!ps->cg_resolved || recheck)
        resolve_pid_cgroup(ps, 0);
    if (!ps->cg_resolved || ps->cg_version == 0)
        return;  /* no memory cgroup: version stays 0 */
    int rc = mv__probe_cgroup_read(&ps->cg, s);
    if (rc == -ENODEV) {
        resolve_pid_cgroup(ps, 1);
        (void)mv__probe_cgroup_read(&ps->cg, s);
    }
    s->cgroup_version = ps->cg_version;
    mv__strlcpy(s->cgroup_path, ps->cg_path, sizeof(s->cgroup_path));
}

static int sample_cgroup_target(mv__probe_session *ps, int recheck,
                                mv_sample *s)
{
    int rc;

    if (ps->cg.dirfd < 0) {
        if ((rc = mv__probe_cgroup_open(&ps->o, 0, ps->cgroup, 1,
                                        &ps->cg)) != 0)
            return rc;
    } else if (recheck) {
        mv__probe_cgroup_retry_missing(&ps->cg);
    }
    rc = mv__probe_cgroup_read(&ps->cg, s);
    if (rc == -ENODEV) {
        /* removed, perhaps created again under the same name */
        mv__probe_cgroup_close(&ps->cg);
        if ((rc = mv__probe_cgroup_open(&ps->o, 0, ps->cgroup, 1,
                                        &ps->cg)) != 0)
            return rc;
        rc = mv__probe_cgroup_read(&ps->cg, s);
    }
    return rc;
}

mv__probe_session *mv__probe_session_new(const mv__probe_opts *o,
                                         const int32_t *pids, size_t npids,
                                         int tree, const char *cgroup,
                                         int *err)
{
    int dummy, fail = 0, rc;
    if (!err)
        err = &dummy;
    *err = -EINVAL;
    if (!o || !o->proc_root || !o->cgroup_root)
        return NULL;
    if (!cgroup) {
        if (!pids || npids == 0)
            return NULL;
        for (size_t i = 0; i < npids; i++)
            if (pids[i] < 0 || (pids[i] == 0 && npids > 1))
                return NULL;
    }

    mv__probe_session *ps = calloc(1, sizeof(*ps));
    if (!ps) {
        *err = -ENOMEM;
        return NULL;
    }
    mv__proc_handle_init(&ps->proc, 1);
    mv__cgroup_handle_init(&ps->cg);
    ps->cgfile = ps->meminfo = ps->psi = MV__SLOT_UNOPENED;
    ps->start_time = MV_NA;
    ps->o = *o;
    ps->proc_root = dup_or_null(o->proc_root, &fail);
    ps->cgroup_root = dup_or_null(o->cgroup_root, &fail);
    ps->cgroup = dup_or_null(cgroup, &fail);
    ps->tree = tree;
    if (!cgroup) {
        ps->pids = malloc(npids * sizeof(*ps->pids));
        if (!ps->pids)
            fail = 1;
        else
            memcpy(ps->pids, pids, npids * sizeof(*ps->pids));
        ps->npids = npids;
    }
    if (fail) {
        mv__probe_session_free(ps);
        *err = -ENOMEM;
        return NULL;
    }
    ps->o.proc_root = ps->proc_root;
    ps->o.cgroup_root = ps->cgroup_root;

    if (cgroup) {
        rc = mv__probe_cgroup_open(&ps->o, 0, ps->cgroup, 1, &ps->cg);
    } else {
        if (ps->pids[0] == 0)
            ps->pids[0] = (int32_t)getpid();
        /* Opens the primary's descriptors: from now on they name this
         * process and no other. */
        mv_sample s;
        rc = mv__probe_process_read(&ps->o, ps->pids[0], &ps->proc, 1, &s);
        ps->start_time = s.start_time_ticks;
    }
    if (rc) {
        mv__probe_session_free(ps);
        *err = rc;
        return NULL;
    }
    *err = 0;
    return ps;
}

int mv__probe_session_read_cgroup(mv__probe_session *ps, mv_sample *s)
{
    if (!ps || !s)
        return -EINVAL;
    mv__sample_clear_cgroup(s);
    if (ps->cg.dirfd < 0)
        return -ENOENT;
    return mv__probe_cgroup_read(&ps->cg, s);
}

int mv__probe_session_sample(mv__probe_session *ps, mv_sample *s)
{
    int rc;

    if (!s)
        return -EINVAL;
    mv_sample_clear(s);
    if (!ps)
        return -EINVAL;
    s->timestamp_ms = mv__now_wall_ms();
    s->monotonic_ms = mv__now_mono_ms();
    int recheck = ++ps->since_check >= MV__PROBE_SESSION_RECHECK;
    if (recheck)
        ps->since_check = 0;

    if (ps->cgroup) {
        if ((rc = sample_cgroup_target(ps, recheck, s)) != 0)
            return rc;
        s->pid = 0;
        s->nprocs = 0;
    } else {
        if (ps->dead)
            return -ESRCH;
        /* stat is read at every tick: besides the start time (constant
         * for the pinned process, compared at each recheck) it holds
         * counters that are sample fields (probe_parse.c's list). */
        rc = mv__probe_process_read(&ps->o, ps->pids[0], &ps->proc, 1, s);
        if (rc == 0 && recheck && ps->start_time != MV_NA &&
            s->start_time_ticks != ps->start_time) {
            /* Cannot happen with pinned fds on a real /proc: a safety net.
             * Return the new start time so the caller can name the PID
             * reuse; every later sample is -ESRCH. */
            ps->dead = 1;
            close_all(ps);
            return 0;
        }
        if (rc == 0 && !recheck)
            s->start_time_ticks = ps->start_time;
        if (rc == 0 && ps->start_time == MV_NA)
            ps->start_time = s->start_time_ticks;  /* stat was unreadable */
        /* A process that had memory and now has no Vm lines has exited and
         * waits to be reaped (a zombie): gone, not a sample whose private
         * memory would fall back to its whole cgroup's (a kernel thread
         * never had Vm lines and stays a target). */
        if (rc == 0 && s->rss_bytes != MV_NA)
            ps->had_vm = 1;
        else if (rc == 0 && ps->had_vm) {
            int64_t wall = s->timestamp_ms, mono = s->monotonic_ms;
            mv_sample_clear(s);
            s->timestamp_ms = wall;
            s->monotonic_ms = mono;
            rc = -ESRCH;
        }
        if (rc == -ESRCH) {
            ps->dead = 1;
            close_but_cgroup(ps);
        }
        if (rc)
            return rc;
        if (ps->tree || ps->npids > 1) {
            if ((rc = mv__probe_pids_rest(&ps->o, ps->pids, ps->npids,
                                          ps->tree, s)) != 0)
                return rc;
        }
        sample_pid_cgroup(ps, recheck, s);
    }
    (void)mv__probe_system_read(&ps->o, &ps->meminfo, &ps->psi, 1, s);
    mv__sample_derive(s);
    return 0;
}
