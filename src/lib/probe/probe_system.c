/*
 * probe_system.c — system-wide memory (/proc/meminfo, /proc/pressure/memory)
 * and the whole-sample entry point mv__probe_target, which ties process,
 * cgroup and system probes together and derives the computed fields.
 *
 * Design choices:
 *  - Process errors decide the result (a gone target is -ESRCH); cgroup and
 *    system files only add information, so their failures leave fields
 *    MV_NA and the sample is still returned.
 *  - Containers without a cgroup namespace (Docker on v1) see their own
 *    cgroup mounted at the hierarchy root while /proc/PID/cgroup names the
 *    host path ("/docker/<id>"), which does not exist inside. When the named
 *    directory is missing we read the hierarchy root instead and keep the
 *    path from /proc/PID/cgroup in cgroup_path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

void mv__probe_opts_init(mv__probe_opts *o)
{
    if (!o)
        return;
    o->proc_root = "/proc";
    o->cgroup_root = "/sys/fs/cgroup";
    o->smaps_rollup = 0;
    /* smaps_rollup costs ~5 ms per GiB mapped under the target's mmap
     * lock; above 64 GiB of address space one read could stall it visibly. */
    o->smaps_max_vm_bytes = (int64_t)64 << 30;
}

int mv__probe_system_read(const mv__probe_opts *o, int *meminfo_slot,
                          int *psi_slot, int keep, mv_sample *s)
{
    char path[PATH_MAX];
    char buf[8192];
    int len;

    if (!s)
        return -EINVAL;
    (void)mv__parse_meminfo(NULL, s);  /* sets the fields MV_NA */
    (void)mv__parse_psi(NULL, &s->sys_psi_some, &s->sys_psi_full);
    if (!o || !o->proc_root || !meminfo_slot || !psi_slot)
        return -EINVAL;

    len = *psi_slot >= 0 ? 0 : snprintf(path, sizeof(path), "%s/pressure/memory",
                                        o->proc_root);
    if (len >= 0 && (size_t)len < sizeof(path) &&
        mv__probe_slot_read(psi_slot, AT_FDCWD, path, keep, buf, sizeof(buf)) >= 0)
        (void)mv__parse_psi(buf, &s->sys_psi_some, &s->sys_psi_full);

    len = *meminfo_slot >= 0 ? 0 : snprintf(path, sizeof(path), "%s/meminfo",
                                            o->proc_root);
    if (len < 0 || (size_t)len >= sizeof(path))
        return -ENAMETOOLONG;
    ssize_t r = mv__probe_slot_read(meminfo_slot, AT_FDCWD, path, keep, buf,
                                    sizeof(buf));
    if (r < 0)
        return (int)r;
    return mv__parse_meminfo(buf, s);
}

int mv__probe_system(const mv__probe_opts *o, mv_sample *s)
{
    int mi = MV__SLOT_UNOPENED, psi = MV__SLOT_UNOPENED;
    return mv__probe_system_read(o, &mi, &psi, 0, s);
}

/* The cgroup of the primary pid, with the container fall-back above. */
static void probe_pid_cgroup(const mv__probe_opts *o, int32_t pid, mv_sample *s)
{
    char path[MV_CGROUP_PATH_MAX];
    int version;

    if (mv__probe_find_cgroup(o, pid, &version, path, sizeof(path)) != 0)
        return;  /* no memory cgroup: version stays 0 */
    int rc = mv__probe_cgroup(o, version, path, s);
    if (rc == -ENOENT && !(path[0] == '/' && path[1] == '\0'))
        rc = mv__probe_cgroup(o, version, "/", s);
    s->cgroup_version = version;
    mv__strlcpy(s->cgroup_path, path, sizeof(s->cgroup_path));
}

int mv__probe_target(const mv__probe_opts *o, const int32_t *pids, size_t npids,
                     int tree, const char *cgroup, mv_sample *s)
{
    int rc;

    if (!s)
        return -EINVAL;
    mv_sample_clear(s);
    if (!o)
        return -EINVAL;
    s->timestamp_ms = mv__now_wall_ms();
    s->monotonic_ms = mv__now_mono_ms();

    if (cgroup) {
        if ((rc = mv__probe_cgroup(o, 0, cgroup, s)) != 0)
            return rc;
        s->pid = 0;
        s->nprocs = 0;
    } else {
        if (!pids || npids == 0)
            return -EINVAL;
        int32_t self = (int32_t)getpid();
        if (npids == 1 && pids[0] == 0)
            pids = &self;
        if ((rc = mv__probe_pids(o, pids, npids, tree, s)) != 0)
            return rc;
        probe_pid_cgroup(o, pids[0], s);
    }
    (void)mv__probe_system(o, s);
    mv__sample_derive(s);
    return 0;
}
