/*
 * cgroup_layout.c — names of container cgroups (mv__cgroup_classify, pure)
 * and the walk that finds them under a hierarchy root (mv__cgroup_walk).
 *
 * Design: classification looks at the last one to three path components
 * only, so it does not matter whether the tree is v1 or v2, or whether the
 * walk started at the real root or at a subtree made by a test. A
 * container is recognised by its own directory name (a runtime scope, or
 * a bare ID under a pod or docker/); its pod and QoS class come from the
 * components above it. Anything that does not match exactly is OTHER: a
 * guess would make series with wrong labels.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_layout.h"
#include "util.h"

/* Runtime scope prefixes of the systemd drivers ("<prefix><ID>.scope")
 * and the runtime each names. crio-conmon-<ID>.scope is CRI-O's monitor
 * process, not the container: it fails the hex test below. */
static const struct { const char *prefix, *runtime; } scope_prefixes[] = {
    {"cri-containerd-", "containerd"},
    {"crio-", "crio"},
    {"docker-", "docker"},
    {"containerd-", "containerd"},
    {"libpod-", "podman"},
};

static int is_hex_id(const char *s, size_t n)
{
    /* runtimes use 64 hex digits; 12 (docker's short form) at least */
    if (n < 12 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* A pod UID as found after "pod" ('_' or '-' between groups; static pods
 * have a 32-hex-digit hash). Copied to out with '-'. */
static int pod_uid(const char *s, size_t n, char *out, size_t cap)
{
    if (n < 8 || n >= cap)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_')
            c = '-';
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
            return 0;
        out[i] = c;
    }
    out[n] = '\0';
    return 1;
}

static int has_suffix(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static int has_prefix(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && memcmp(s, pre, k) == 0;
}

/* Path components, last first: comp[i] = start, len[i] = length. */
#define MAX_COMPS 4
typedef struct comps {
    const char *s[MAX_COMPS];
    size_t n[MAX_COMPS];
    size_t count;
} comps;

static void split_tail(const char *path, size_t len, comps *c)
{
    c->count = 0;
    while (len > 0 && path[len - 1] == '/')
        len--;
    while (len > 0 && c->count < MAX_COMPS) {
        size_t end = len;
        while (len > 0 && path[len - 1] != '/')
            len--;
        c->s[c->count] = path + len;
        c->n[c->count] = end - len;
        c->count++;
        while (len > 0 && path[len - 1] == '/')
            len--;
    }
}

static int comp_is(const comps *c, size_t i, const char *word)
{
    return i < c->count && c->n[i] == strlen(word) &&
           memcmp(c->s[i], word, c->n[i]) == 0;
}

static void set_qos(mv_container_labels *l, const char *q, size_t n)
{
    if (n < sizeof l->qos) {
        memcpy(l->qos, q, n);
        l->qos[n] = '\0';
    }
}

/* systemd driver: comps[1] is "kubepods[-<qos>]-pod<UID>.slice". */
static int systemd_pod(const comps *c, mv_container_labels *l)
{
    const char *s = c->s[1];
    size_t n = c->n[1];

    if (!has_prefix(s, n, "kubepods-") || !has_suffix(s, n, ".slice"))
        return 0;
    s += 9;
    n -= 9 + 6;
    const char *p = memmem(s, n, "pod", 3);
    if (!p)
        return 0;
    if (p == s)
        set_qos(l, "guaranteed", 10);
    else if (p[-1] == '-')
        set_qos(l, s, (size_t)(p - 1 - s));
    else
        return 0;
    if (strcmp(l->qos, "guaranteed") && strcmp(l->qos, "burstable") &&
        strcmp(l->qos, "besteffort"))
        return 0;
    return pod_uid(p + 3, n - (size_t)(p + 3 - s), l->pod_uid,
                   sizeof l->pod_uid);
}

/* cgroupfs driver: comps[1] is "pod<UID>", under kubepods[/<qos>]. */
static int cgroupfs_pod(const comps *c, mv_container_labels *l)
{
    if (!has_prefix(c->s[1], c->n[1], "pod") ||
        !pod_uid(c->s[1] + 3, c->n[1] - 3, l->pod_uid, sizeof l->pod_uid))
        return 0;
    if (comp_is(c, 2, "kubepods")) {
        set_qos(l, "guaranteed", 10);
        return 1;
    }
    if (comp_is(c, 3, "kubepods") &&
        (comp_is(c, 2, "burstable") || comp_is(c, 2, "besteffort"))) {
        set_qos(l, c->s[2], c->n[2]);
        return 1;
    }
    return 0;
}

/* "<prefix><ID>.scope": the runtime and the ID. */
static int runtime_scope(const char *s, size_t n, mv_container_labels *l)
{
    if (!has_suffix(s, n, ".scope"))
        return 0;
    n -= 6;
    for (size_t i = 0; i < sizeof scope_prefixes / sizeof *scope_prefixes;
         i++) {
        size_t k = strlen(scope_prefixes[i].prefix);
        if (!has_prefix(s, n, scope_prefixes[i].prefix) ||
            !is_hex_id(s + k, n - k))
            continue;
        memcpy(l->container_id, s + k, n - k);
        l->container_id[n - k] = '\0';
        mv__strlcpy(l->runtime, scope_prefixes[i].runtime, sizeof l->runtime);
        return 1;
    }
    return 0;
}

static void clear_ids(mv_container_labels *l)
{
    l->qos[0] = l->pod_uid[0] = l->container_id[0] = '\0';
    l->runtime[0] = l->unit[0] = '\0';
}

mv__cgroup_kind mv__cgroup_classify(const char *path, const char *service_glob,
                                    mv_container_labels *l)
{
    comps c;

    clear_ids(l);
    if (!path)
        return MV__CGROUP_OTHER;
    split_tail(path, strlen(path), &c);
    if (c.count == 0)
        return MV__CGROUP_OTHER;

    /* a runtime's scope: in a pod slice (kubelet, systemd driver) or
     * alone (docker/containerd with systemd, e.g. system.slice) */
    if (runtime_scope(c.s[0], c.n[0], l)) {
        if (c.count >= 2 && has_prefix(c.s[1], c.n[1], "kubepods") &&
            !systemd_pod(&c, l)) {
            clear_ids(l);   /* a kubepods layout we do not know */
            return MV__CGROUP_OTHER;
        }
        return MV__CGROUP_CONTAINER;
    }
    /* podman with the cgroupfs manager: libpod_parent/libpod-<ID> */
    if (comp_is(&c, 1, "libpod_parent") &&
        has_prefix(c.s[0], c.n[0], "libpod-") &&
        is_hex_id(c.s[0] + 7, c.n[0] - 7)) {
        memcpy(l->container_id, c.s[0] + 7, c.n[0] - 7);
        l->container_id[c.n[0] - 7] = '\0';
        mv__strlcpy(l->runtime, "podman", sizeof l->runtime);
        return MV__CGROUP_CONTAINER;
    }
    if (is_hex_id(c.s[0], c.n[0]) && c.count >= 2) {
        /* cgroupfs driver: kubepods[/<qos>]/pod<UID>/<ID> */
        int known = cgroupfs_pod(&c, l);
        if (!known && comp_is(&c, 1, "docker")) {
            mv__strlcpy(l->runtime, "docker", sizeof l->runtime);
            known = 1;
        }
        if (known) {
            memcpy(l->container_id, c.s[0], c.n[0]);
            l->container_id[c.n[0]] = '\0';
            return MV__CGROUP_CONTAINER;
        }
        clear_ids(l);
        return MV__CGROUP_OTHER;
    }
    if (service_glob && has_suffix(c.s[0], c.n[0], ".service") &&
        c.n[0] < sizeof l->unit) {
        memcpy(l->unit, c.s[0], c.n[0]);
        l->unit[c.n[0]] = '\0';
        if (fnmatch(service_glob, l->unit, 0) == 0)
            return MV__CGROUP_SERVICE;
        l->unit[0] = '\0';
    }
    return MV__CGROUP_OTHER;
}

/* ---- the walk --------------------------------------------------------- */

typedef struct walk {
    const char *glob;
    mv__cgroup_found_fn found;
    void *ctx;
    int skipped;
    char rel[MV_CGROUP_PATH_MAX];
    mv_container_labels labels;
} walk;

/* Walks the directory open at fd (closed here), whose path is w->rel
 * (length len). */
static int walk_dir(walk *w, int fd, size_t len, int depth)
{
    DIR *d = fdopendir(fd);
    struct dirent *e;
    int rc = 0;

    if (!d) {
        close(fd);
        w->skipped++;
        return 0;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        size_t n = strlen(e->d_name);
        if (len + 1 + n >= sizeof w->rel)
            continue;   /* deeper than any cgroup we report */
        w->rel[len] = '/';
        memcpy(w->rel + len + 1, e->d_name, n + 1);
        mv__cgroup_kind k = mv__cgroup_classify(w->rel, w->glob, &w->labels);
        if (k != MV__CGROUP_OTHER) {
            rc = w->found(w->ctx, w->rel, k, &w->labels);
        } else if (depth + 1 < MV__CGROUP_WALK_DEPTH) {
            int sub = openat(dirfd(d), e->d_name,
                             O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub >= 0)
                rc = walk_dir(w, sub, len + 1 + n, depth + 1);
            else if (errno != ENOTDIR)
                w->skipped++;   /* vanished or unreadable */
        }
        w->rel[len] = '\0';
    }
    closedir(d);
    return rc;
}

int mv__cgroup_walk(const char *root_dir, const char *service_glob,
                    mv__cgroup_found_fn found, void *ctx, int *skipped)
{
    walk w;

    if (!root_dir || !found)
        return -EINVAL;
    memset(&w, 0, sizeof w);
    w.glob = service_glob;
    w.found = found;
    w.ctx = ctx;
    int fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = walk_dir(&w, fd, 0, 0);
    if (skipped)
        *skipped = w.skipped;
    return rc;
}

static int has_file(const char *dir, const char *name)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int ok = faccessat(fd, name, F_OK, 0) == 0;
    close(fd);
    return ok;
}

int mv__cgroup_dir_version(const char *dir)
{
    if (has_file(dir, "cgroup.controllers"))
        return 2;
    if (has_file(dir, "memory.usage_in_bytes"))
        return 1;
    return 0;
}
