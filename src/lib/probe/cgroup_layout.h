/*
 * cgroup_layout.h — what a cgroup path names on a node: a container (of a
 * Kubernetes pod or a plain docker/containerd/CRI-O container), a systemd
 * service, or nothing of interest; and the walk that finds them all under a
 * hierarchy root (node mode, `memvigil watch --cgroup-root`).
 *
 * The layouts (facts as the kubelet, the runtimes and cAdvisor name them):
 *  - kubelet, systemd driver: /kubepods.slice/kubepods-<qos>.slice/
 *    kubepods-<qos>-pod<UID>.slice/<runtime>-<ID>.scope, guaranteed pods
 *    directly under kubepods.slice (kubepods-pod<UID>.slice); the UID's '-'
 *    are '_' in slice names; <runtime> is cri-containerd, crio or docker;
 *  - kubelet, cgroupfs driver: /kubepods/<qos>/pod<UID>/<ID>, guaranteed
 *    pods directly under /kubepods/pod<UID>/<ID>;
 *  - plain docker: /docker/<ID> (cgroupfs), /system.slice/docker-<ID>.scope
 *    (systemd); containerd and CRI-O scopes outside kubepods likewise, and
 *    podman's libpod-<ID>.scope (systemd) and libpod_parent/libpod-<ID>
 *    (cgroupfs);
 *  - systemd services: a directory named <unit>.service, watched when the
 *    unit name matches the caller's glob.
 * The same paths appear in cgroup v2 (relative to /sys/fs/cgroup) and in
 * the v1 memory controller (relative to /sys/fs/cgroup/memory).
 *
 * Thread-safety: reentrant, no global state. Ownership: plain values.
 */
#ifndef MV_CGROUP_LAYOUT_H
#define MV_CGROUP_LAYOUT_H

#include <stddef.h>

#include "memvigil.h"

/* What a cgroup directory is, for node mode. */
typedef enum mv__cgroup_kind {
    MV__CGROUP_OTHER = 0,   /* a slice, a pod's own cgroup, anything else */
    MV__CGROUP_CONTAINER,   /* a container (pod container or plain one) */
    MV__CGROUP_SERVICE      /* a systemd service matching the glob */
} mv__cgroup_kind;

/* Parses the path of a cgroup (inside the hierarchy, "/a/b"; a trailing
 * '/' is ignored) into the IDs its layout gives (labels->qos, pod_uid,
 * container_id, runtime, unit; the name fields are left alone) and
 * returns its kind. service_glob (fnmatch(3) pattern over the unit name,
 * e.g. "*.service" or "nginx*.service"; NULL: services are not watched)
 * selects services. Pod UIDs are given with '-' whatever the slice spelled.
 * A container's own children (a runtime's sub-cgroups) are OTHER. Fields
 * that do not apply are empty strings. Pure. */
mv__cgroup_kind mv__cgroup_classify(const char *path, const char *service_glob,
                                    mv_container_labels *labels);

/* Called by mv__cgroup_walk for each container or service found: rel is
 * its path inside the hierarchy ("/kubepods/..."), labels its IDs.
 * Return 0 to go on, non-zero to stop the walk (returned by the walk). */
typedef int (*mv__cgroup_found_fn)(void *ctx, const char *rel,
                                   mv__cgroup_kind kind,
                                   const mv_container_labels *labels);

/* Walks the directory tree under root_dir (the hierarchy root, or a
 * subtree of it whose paths are then relative to it), at most
 * MV__CGROUP_WALK_DEPTH levels down, calling found for every directory
 * that mv__cgroup_classify calls a container or service (it does not
 * descend into those). Directories that vanish or cannot be read during
 * the walk are skipped and counted in *skipped (may be NULL). Returns 0,
 * the callback's non-zero value, or a negative errno when root_dir itself
 * cannot be opened. */
#define MV__CGROUP_WALK_DEPTH 8
int mv__cgroup_walk(const char *root_dir, const char *service_glob,
                    mv__cgroup_found_fn found, void *ctx, int *skipped);

/* The version of the memory hierarchy at dir: 2 when dir holds
 * cgroup.controllers, 1 when it holds memory.usage_in_bytes (the v1
 * memory controller's mount or a cgroup in it); 0 otherwise. */
int mv__cgroup_dir_version(const char *dir);

#endif /* MV_CGROUP_LAYOUT_H */
