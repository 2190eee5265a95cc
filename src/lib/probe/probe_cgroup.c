/*
 * probe_cgroup.c — reading a memory cgroup (v2 unified or v1 memory
 * controller) into the cg_* fields of an mv_sample.
 *
 * Design choices:
 *  - A cgroup is named either by its path inside the hierarchy ("/a/b", as
 *    /proc/PID/cgroup gives it) with a known version, or by an absolute
 *    filesystem path under cgroup_root (`watch --cgroup /sys/fs/cgroup/..`).
 *    For the latter, the version is told by the files in the directory, not
 *    by the mount: hybrid hosts have both v1 (cgroup_root/memory) and v2
 *    (cgroup_root/unified) trees.
 *  - Each knob is one small file read into a stack buffer; a file that is
 *    missing, unreadable or garbage makes only its fields MV_NA.
 *  - v2 root has no memory.current/max/high: usage is MV_NA (not 0) and the
 *    limits are MV_UNLIMITED (the root cannot be limited).
 *  - v1 limits: the effective limit of a cgroup includes its ancestors'
 *    (use_hierarchy), which memory.stat reports as
 *    hierarchical_memory_limit; we take the tighter of it and
 *    memory.limit_in_bytes at no extra cost.
 *  - v2 limits: a memory.max or memory.high set on an ancestor binds too
 *    (a systemd slice's MemoryMax= over an unlimited service, a Kubernetes
 *    pod cgroup over its containers), and v2 has no hierarchical summary.
 *    So cg_max_bytes / cg_high_bytes are the tightest of the cgroup's own
 *    knob and those of its ancestors, walked with openat(dirfd,
 *    "../memory.max"), "../../memory.max", ... up to the mount root. The
 *    number of steps comes from the path inside the hierarchy, so the walk
 *    never leaves the mount. The mount root is read too: the host's root
 *    has no memory.max / memory.high (the files are missing, nothing
 *    counts), but inside a container with a cgroup namespace the root is
 *    the container's own cgroup and carries its limit, which binds a
 *    process in a sub-cgroup of it. An ancestor file that is missing,
 *    unreadable or garbage is skipped.
 *  - Cost: ancestor limits change rarely (a unit started, `systemctl
 *    set-property`, a pod resized), so a kept handle (the probe session)
 *    walks them with transient opens at its first read and then at most
 *    every MV__CG_ANCESTOR_REFRESH_MS (30 s); the ticks in between add one
 *    clock read and no syscall, and no descriptor is kept per ancestor. A
 *    change on an ancestor therefore shows within 30 s; the cgroup's own
 *    knobs are read every tick as before. A one-shot read (keep 0) walks
 *    every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

#define STAT_BUF 16384
#define VALUE_BUF 128

static int join(char *out, size_t n, const char *a, const char *b)
{
    int len = snprintf(out, n, "%s/%s", a, b);
    return (len < 0 || (size_t)len >= n) ? -ENAMETOOLONG : 0;
}

static int exists_in(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    return join(p, sizeof(p), dir, name) == 0 && stat(p, &st) == 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Knob slots of a handle, by version. */
enum {
    V2_CURRENT, V2_MAX, V2_HIGH, V2_STAT, V2_SWAP, V2_EVENTS, V2_PRESSURE
};
enum {
    V1_USAGE, V1_LIMIT, V1_STAT, V1_OOM, V1_FAILCNT, V1_MEMSW
};

/* Reads one knob of h into buf. A kept descriptor that fails with ENODEV
 * (kernfs: the cgroup was removed) or ENOENT marks the handle removed. */
static ssize_t read_knob(mv__cgroup_handle *h, int k, const char *name,
                         char *buf, size_t cap)
{
    int was_open = h->fd[k] >= 0;
    ssize_t r = mv__probe_slot_read(&h->fd[k], h->dirfd, name, h->keep, buf,
                                    cap);
    if (was_open && (r == -ENODEV || r == -ENOENT))
        h->removed = 1;
    return r;
}

/* A single-value knob; MV_NA when missing or garbage. *missing set when
 * the file does not exist. */
static int64_t read_value(mv__cgroup_handle *h, int k, const char *name,
                          int *missing)
{
    char buf[VALUE_BUF];
    int64_t v;
    ssize_t r = read_knob(h, k, name, buf, sizeof(buf));

    if (missing)
        *missing = (r == -ENOENT);
    if (r < 0 || mv__parse_cgroup_value(buf, &v) != 0)
        return MV_NA;
    return v;
}

int mv__probe_cgroup_version(const mv__probe_opts *o)
{
    if (!o || !o->cgroup_root)
        return 0;
    if (exists_in(o->cgroup_root, "cgroup.controllers"))
        return 2;
    char p[PATH_MAX];
    if (join(p, sizeof(p), o->cgroup_root, "memory") == 0 && is_dir(p))
        return 1;
    return 0;
}

/* Is path the same as root or below it ("/sys/fs/cgroup/x")? Returns the
 * part after root ("" or "/x"), or NULL. */
static const char *under_root(const char *path, const char *root)
{
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    if (strncmp(path, root, rl) != 0)
        return NULL;
    if (path[rl] != '\0' && path[rl] != '/')
        return NULL;
    return path + rl;
}

/* Strips a leading "/<word>" component from rel when present. */
static const char *strip_component(const char *rel, const char *word)
{
    size_t wl = strlen(word);
    if (rel[0] == '/' && strncmp(rel + 1, word, wl) == 0 &&
        (rel[1 + wl] == '\0' || rel[1 + wl] == '/'))
        return rel + 1 + wl;
    return rel;
}

/* Walks h's ancestors (see the file comment) and stores their tightest
 * memory.max / memory.high in h. */
static void read_ancestors(mv__cgroup_handle *h)
{
    static const char *const knob[2] = {"memory.max", "memory.high"};
    int64_t best[2] = {MV_UNLIMITED, MV_UNLIMITED};
    int best_up[2] = {0, 0};
    char path[PATH_MAX];
    char buf[VALUE_BUF];

    for (int up = 1; up <= h->anc_depth; up++) {
        size_t off = (size_t)up * 3;
        if (off + sizeof("memory.high") > sizeof(path))
            break;
        for (int i = 0; i < up; i++)
            memcpy(path + (size_t)i * 3, "../", 3);
        for (int k = 0; k < 2; k++) {
            int64_t v;
            memcpy(path + off, knob[k], strlen(knob[k]) + 1);
            if (mv__probe_read_at(h->dirfd, path, buf, sizeof(buf)) < 0 ||
                mv__parse_cgroup_value(buf, &v) != 0 || v == MV_NA ||
                v < 0 || v >= best[k])
                continue;
            best[k] = v;
            best_up[k] = up;
        }
    }
    h->anc_max_bytes = best[0];
    h->anc_high_bytes = best[1];
    h->anc_max_up = best_up[0];
    h->anc_high_up = best_up[1];
    h->anc_read_ms = mv__now_mono_ms();
}

/* *own becomes anc when anc is a set limit below it (or own is unknown). */
static void tighten(int64_t *own, int64_t anc)
{
    if (anc == MV_NA || anc == MV_UNLIMITED)
        return;
    if (*own == MV_NA || anc < *own)
        *own = anc;
}

static void read_v2(mv__cgroup_handle *h, mv_sample *s)
{
    char buf[STAT_BUF];
    int missing = 0;

    s->cg_usage_bytes = read_value(h, V2_CURRENT, "memory.current", NULL);
    s->cg_max_bytes = read_value(h, V2_MAX, "memory.max", &missing);
    if (s->cg_max_bytes == MV_NA && missing && h->is_root)
        s->cg_max_bytes = MV_UNLIMITED;
    s->cg_high_bytes = read_value(h, V2_HIGH, "memory.high", &missing);
    if (s->cg_high_bytes == MV_NA && missing && h->is_root)
        s->cg_high_bytes = MV_UNLIMITED;
    if (h->anc_depth > 0) {
        if (!h->keep || h->anc_read_ms == MV_NA ||
            mv__now_mono_ms() - h->anc_read_ms >= MV__CG_ANCESTOR_REFRESH_MS)
            read_ancestors(h);
        tighten(&s->cg_max_bytes, h->anc_max_bytes);
        tighten(&s->cg_high_bytes, h->anc_high_bytes);
    }

    if (read_knob(h, V2_STAT, "memory.stat", buf, sizeof(buf)) >= 0)
        (void)mv__parse_cgroup_stat(buf, 2, s);
    /* Absent when swap accounting is off: stays MV_NA. */
    s->cg_swap_bytes = read_value(h, V2_SWAP, "memory.swap.current", NULL);
    if (read_knob(h, V2_EVENTS, "memory.events", buf, sizeof(buf)) >= 0)
        (void)mv__parse_cgroup_events(buf, s);
    if (read_knob(h, V2_PRESSURE, "memory.pressure", buf, sizeof(buf)) >= 0)
        (void)mv__parse_psi(buf, &s->cg_psi_some, &s->cg_psi_full);
}

static void read_v1(mv__cgroup_handle *h, mv_sample *s)
{
    char buf[STAT_BUF];

    s->cg_usage_bytes = read_value(h, V1_USAGE, "memory.usage_in_bytes", NULL);
    s->cg_max_bytes = read_value(h, V1_LIMIT, "memory.limit_in_bytes", NULL);
    s->cg_high_bytes = MV_UNLIMITED;  /* no such knob in v1 */

    if (read_knob(h, V1_STAT, "memory.stat", buf, sizeof(buf)) >= 0) {
        (void)mv__parse_cgroup_stat(buf, 1, s);
        int64_t hier = mv__parse_v1_hierarchical_limit(buf);
        if (hier != MV_NA &&
            (s->cg_max_bytes == MV_NA || hier < s->cg_max_bytes))
            s->cg_max_bytes = hier;
    }
    if (read_knob(h, V1_OOM, "memory.oom_control", buf, sizeof(buf)) >= 0)
        (void)mv__parse_oom_control(buf, s);
    s->cg_max_events = read_value(h, V1_FAILCNT, "memory.failcnt", NULL);

    /* memsw counts memory + swap; only present with swap accounting. The
     * two files are read at slightly different moments: clamp at 0. */
    int64_t memsw = read_value(h, V1_MEMSW, "memory.memsw.usage_in_bytes", NULL);
    if (memsw != MV_NA && memsw != MV_UNLIMITED && s->cg_usage_bytes != MV_NA) {
        int64_t sw = memsw - s->cg_usage_bytes;
        s->cg_swap_bytes = sw > 0 ? sw : 0;
    }
}

void mv__cgroup_handle_init(mv__cgroup_handle *h)
{
    memset(h, 0, sizeof(*h));
    h->dirfd = -1;
    for (int i = 0; i < MV__CG_KNOBS; i++)
        h->fd[i] = MV__SLOT_UNOPENED;
    h->anc_max_bytes = MV_NA;
    h->anc_high_bytes = MV_NA;
    h->anc_read_ms = MV_NA;
}

/* v2 ancestors of rel up to the mount root ("/a/b/c" -> 3: /a/b, /a and
 * the root); 0 for the root itself, and when rel has a "." or ".."
 * component (a cgroup outside our namespace, shown as "/../x": its
 * ancestors are not ours to walk). */
static int ancestor_depth(const char *rel)
{
    int n = 0;
    for (const char *p = rel; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if ((len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        n++;
        p += len;
    }
    return n;
}

void mv__probe_cgroup_close(mv__cgroup_handle *h)
{
    if (!h)
        return;
    for (int i = 0; i < MV__CG_KNOBS; i++)
        mv__probe_slot_close(&h->fd[i]);
    if (h->dirfd >= 0)
        close(h->dirfd);
    mv__cgroup_handle_init(h);
}

void mv__probe_cgroup_retry_missing(mv__cgroup_handle *h)
{
    for (int i = 0; i < MV__CG_KNOBS; i++)
        if (h->fd[i] == MV__SLOT_MISSING)
            h->fd[i] = MV__SLOT_UNOPENED;
}

int mv__probe_cgroup_read(mv__cgroup_handle *h, mv_sample *s)
{
    if (!s)
        return -EINVAL;
    mv__sample_clear_cgroup(s);
    if (!h || h->dirfd < 0)
        return -ENOENT;
    if (h->version == 2)
        read_v2(h, s);
    else
        read_v1(h, s);
    if (h->removed) {
        mv__sample_clear_cgroup(s);
        return -ENODEV;
    }
    s->cgroup_version = h->version;
    mv__strlcpy(s->cgroup_path, h->rel, sizeof(s->cgroup_path));
    return 0;
}

int mv__probe_cgroup(const mv__probe_opts *o, int version, const char *path,
                     mv_sample *s)
{
    mv__cgroup_handle h;

    if (!s)
        return -EINVAL;
    mv__sample_clear_cgroup(s);
    int rc = mv__probe_cgroup_open(o, version, path, 0, &h);
    if (rc)
        return rc;
    rc = mv__probe_cgroup_read(&h, s);
    mv__probe_cgroup_close(&h);
    return rc;
}

int mv__probe_cgroup_open(const mv__probe_opts *o, int version,
                          const char *path, int keep, mv__cgroup_handle *h)
{
    char dir[PATH_MAX];
    const char *rel;

    if (!h)
        return -EINVAL;
    mv__cgroup_handle_init(h);
    if (!o || !o->cgroup_root || !path || !*path ||
        version < 0 || version > 2)
        return -EINVAL;

    const char *abs_rel = under_root(path, o->cgroup_root);
    if (abs_rel) {
        /* An absolute filesystem path: the files tell the version. */
        if (mv__strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
            return -ENAMETOOLONG;
        if (!is_dir(dir))
            return -ENOENT;
        if (exists_in(dir, "memory.current") || exists_in(dir, "memory.max"))
            version = 2;
        else if (exists_in(dir, "memory.usage_in_bytes"))
            version = 1;
        else if (exists_in(dir, "cgroup.controllers"))
            version = 2;  /* v2 root, or memory controller not enabled */
        else
            return -ENOENT;
        rel = abs_rel;
        if (version == 1)
            rel = strip_component(rel, "memory");
        else if (!exists_in(o->cgroup_root, "cgroup.controllers"))
            rel = strip_component(rel, "unified");  /* hybrid host */
    } else {
        if (path[0] != '/')
            return -EINVAL;
        if (version == 0)
            version = mv__probe_cgroup_version(o);
        if (version == 0)
            return -ENOENT;
        int len = version == 1
                      ? snprintf(dir, sizeof(dir), "%s/memory%s", o->cgroup_root, path)
                      : snprintf(dir, sizeof(dir), "%s%s", o->cgroup_root, path);
        if (len < 0 || (size_t)len >= sizeof(dir))
            return -ENAMETOOLONG;
        rel = path;
    }

    /* Normalise "" and trailing slashes: "/" is the root. */
    char relbuf[MV_CGROUP_PATH_MAX];
    if (mv__strlcpy(relbuf, *rel ? rel : "/", sizeof(relbuf)) >= sizeof(relbuf))
        return -ENAMETOOLONG;
    size_t rl = strlen(relbuf);
    while (rl > 1 && relbuf[rl - 1] == '/')
        relbuf[--rl] = '\0';

    /* One directory fd: each knob is then one openat() without walking
     * the whole path again. */
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOTDIR ? -ENOENT : -errno;
    h->dirfd = dfd;
    h->version = version;
    h->keep = keep;
    h->is_root = strcmp(relbuf, "/") == 0;
    h->anc_depth = version == 2 ? ancestor_depth(relbuf) : 0;
    mv__strlcpy(h->rel, relbuf, sizeof(h->rel));
    return 0;
}
