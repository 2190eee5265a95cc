/*
 * test_cgroup_layout.c — unit tests of cgroup_layout.c: the pure
 * classification of cgroup paths for every layout node mode knows
 * (kubelet systemd and cgroupfs drivers, docker, containerd, CRI-O,
 * systemd services by glob) and of paths that must not be taken for a
 * container; then the walk over the fixture trees tests/fixtures/node/v2
 * and v1 (what it finds, with which IDs), a missing root, and a tree with
 * an unreadable directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_layout.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
#define UID_1 "1a2b3c4d-0000-4000-8000-000000000001"
#define UIDU_1 "1a2b3c4d_0000_4000_8000_000000000001"

typedef struct want {
    const char *path, *glob;
    mv__cgroup_kind kind;
    const char *qos, *pod_uid, *container_id, *runtime, *unit;
} want;

static const want cases[] = {
    /* kubelet, systemd driver */
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU_1
     ".slice/cri-containerd-" ID_A ".scope", NULL, MV__CGROUP_CONTAINER,
     "burstable", UID_1, ID_A, "containerd", ""},
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU_1
     ".slice/crio-" ID_A ".scope/", NULL, MV__CGROUP_CONTAINER,
     "besteffort", UID_1, ID_A, "crio", ""},
    {"/kubepods.slice/kubepods-pod" UIDU_1 ".slice/docker-" ID_A ".scope",
     NULL, MV__CGROUP_CONTAINER, "guaranteed", UID_1, ID_A, "docker", ""},
    /* the pod's own slice and CRI-O's conmon are not containers */
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU_1
     ".slice", NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU_1
     ".slice/crio-conmon-" ID_A ".scope", NULL, MV__CGROUP_OTHER,
     "", "", "", "", ""},
    /* an unknown QoS word in a kubepods slice: no guess */
    {"/kubepods.slice/kubepods-gold.slice/kubepods-gold-pod" UIDU_1
     ".slice/cri-containerd-" ID_A ".scope", NULL, MV__CGROUP_OTHER,
     "", "", "", "", ""},
    /* kubelet, cgroupfs driver (v1 or v2) */
    {"/kubepods/burstable/pod" UID_1 "/" ID_A, NULL, MV__CGROUP_CONTAINER,
     "burstable", UID_1, ID_A, "", ""},
    {"/kubepods/besteffort/pod" UID_1 "/" ID_A, NULL, MV__CGROUP_CONTAINER,
     "besteffort", UID_1, ID_A, "", ""},
    {"/kubepods/pod" UID_1 "/" ID_A, NULL, MV__CGROUP_CONTAINER,
     "guaranteed", UID_1, ID_A, "", ""},
    {"/kubepods/burstable/pod" UID_1, NULL, MV__CGROUP_OTHER,
     "", "", "", "", ""},
    /* a hex name that is not under a pod or docker/ */
    {"/somewhere/" ID_A, NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
    /* plain docker and containerd */
    {"/docker/" ID_A, NULL, MV__CGROUP_CONTAINER, "", "", ID_A, "docker", ""},
    {"/system.slice/docker-" ID_A ".scope", NULL, MV__CGROUP_CONTAINER,
     "", "", ID_A, "docker", ""},
    {"/system.slice/containerd-" ID_A ".scope", NULL, MV__CGROUP_CONTAINER,
     "", "", ID_A, "containerd", ""},
    {"/machine.slice/libpod-" ID_A ".scope", NULL, MV__CGROUP_CONTAINER,
     "", "", ID_A, "podman", ""},
    {"/libpod_parent/libpod-" ID_A, NULL, MV__CGROUP_CONTAINER,
     "", "", ID_A, "podman", ""},
    {"/libpod_parent/conmon", NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
    {"/elsewhere/libpod-" ID_A, NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
    /* not hex, too short */
    {"/system.slice/docker-xyz.scope", NULL, MV__CGROUP_OTHER,
     "", "", "", "", ""},
    {"/docker/abc", NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
    /* services: only with a glob, only matching ones */
    {"/system.slice/nginx.service", NULL, MV__CGROUP_OTHER,
     "", "", "", "", ""},
    {"/system.slice/nginx.service", "*.service", MV__CGROUP_SERVICE,
     "", "", "", "", "nginx.service"},
    {"/system.slice/nginx.service", "ngin*", MV__CGROUP_SERVICE,
     "", "", "", "", "nginx.service"},
    {"/system.slice/cron.service", "ngin*", MV__CGROUP_OTHER,
     "", "", "", "", ""},
    {"/system.slice", "*", MV__CGROUP_OTHER, "", "", "", "", ""},
    {"/", NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
    {"", NULL, MV__CGROUP_OTHER, "", "", "", "", ""},
};

static void test_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const want *w = &cases[i];
        mv_container_labels l;
        memset(&l, 'x', sizeof l);   /* stale content must be cleared */
        l.pod[0] = '\0';
        mv__cgroup_kind k = mv__cgroup_classify(w->path, w->glob, &l);
        if (k != w->kind)
            fail_msg("case %zu (%s): kind %d, want %d", i, w->path, k,
                     w->kind);
        assert_string_equal(l.qos, w->qos);
        assert_string_equal(l.pod_uid, w->pod_uid);
        assert_string_equal(l.container_id, w->container_id);
        assert_string_equal(l.runtime, w->runtime);
        assert_string_equal(l.unit, w->unit);
    }
    mv_container_labels l;
    assert_int_equal(mv__cgroup_classify(NULL, NULL, &l), MV__CGROUP_OTHER);
}

/* ---- the walk ---- */

#define MAX_FOUND 32
typedef struct found {
    char rel[MAX_FOUND][MV_CGROUP_PATH_MAX];
    mv_container_labels l[MAX_FOUND];
    mv__cgroup_kind kind[MAX_FOUND];
    size_t n;
    size_t stop_after;           /* 0: never stop */
} found;

static int on_found(void *ctx, const char *rel, mv__cgroup_kind kind,
                    const mv_container_labels *l)
{
    found *f = ctx;
    assert_true(f->n < MAX_FOUND);
    snprintf(f->rel[f->n], sizeof f->rel[f->n], "%s", rel);
    f->l[f->n] = *l;
    f->kind[f->n] = kind;
    f->n++;
    return f->stop_after && f->n >= f->stop_after ? 7 : 0;
}

static const mv_container_labels *by_id(const found *f, const char *cid)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->l[i].container_id, cid) == 0 ||
            strcmp(f->l[i].unit, cid) == 0)
            return &f->l[i];
    return NULL;
}

static void test_walk_v2(void **state)
{
    (void)state;
    found f = {0};
    int skipped = -1;
    char root[512];

    snprintf(root, sizeof root, "%s/node/v2/cgroup", MV_FIXTURES);
    assert_int_equal(mv__cgroup_dir_version(root), 2);
    assert_int_equal(mv__cgroup_walk(root, "*.service", on_found, &f,
                                     &skipped), 0);
    assert_int_equal(skipped, 0);
    /* 3 pod containers, plain docker, 2 services; not conmon, not slices */
    assert_int_equal(f.n, 6);
    const mv_container_labels *a = by_id(&f, ID_A);
    assert_non_null(a);
    assert_string_equal(a->qos, "burstable");
    assert_string_equal(a->pod_uid, UID_1);
    assert_string_equal(a->runtime, "containerd");
    const mv_container_labels *b = by_id(
        &f, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2");
    assert_non_null(b);
    assert_string_equal(b->qos, "besteffort");
    assert_string_equal(b->runtime, "crio");
    const mv_container_labels *c = by_id(
        &f, "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc3");
    assert_non_null(c);
    assert_string_equal(c->qos, "guaranteed");
    const mv_container_labels *d = by_id(
        &f, "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd4");
    assert_non_null(d);
    assert_string_equal(d->qos, "");
    assert_string_equal(d->pod_uid, "");
    assert_non_null(by_id(&f, "nginx.service"));
    assert_non_null(by_id(&f, "cron.service"));

    /* without a glob, no services */
    memset(&f, 0, sizeof f);
    assert_int_equal(mv__cgroup_walk(root, NULL, on_found, &f, NULL), 0);
    assert_int_equal(f.n, 4);
    /* the callback stops the walk */
    memset(&f, 0, sizeof f);
    f.stop_after = 2;
    assert_int_equal(mv__cgroup_walk(root, NULL, on_found, &f, NULL), 7);
    assert_int_equal(f.n, 2);
}

static void test_walk_v1(void **state)
{
    (void)state;
    found f = {0};
    char root[512];

    snprintf(root, sizeof root, "%s/node/v1/cgroup", MV_FIXTURES);
    assert_int_equal(mv__cgroup_dir_version(root), 0);  /* memory/ is */
    snprintf(root, sizeof root, "%s/node/v1/cgroup/memory", MV_FIXTURES);
    assert_int_equal(mv__cgroup_dir_version(root), 1);
    assert_int_equal(mv__cgroup_walk(root, "*.service", on_found, &f, NULL),
                     0);
    assert_int_equal(f.n, 5);
    const mv_container_labels *e = by_id(
        &f, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee5");
    assert_non_null(e);
    assert_string_equal(e->qos, "burstable");
    assert_string_equal(e->pod_uid, "1a2b3c4d-0000-4000-8000-000000000004");
    assert_string_equal(e->runtime, "");
    const mv_container_labels *g = by_id(
        &f, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff6");
    assert_non_null(g);
    assert_string_equal(g->qos, "guaranteed");
    const mv_container_labels *h = by_id(
        &f, "9999999999999999999999999999999999999999999999999999999999999999");
    assert_non_null(h);
    assert_string_equal(h->runtime, "docker");
    assert_non_null(by_id(&f, "sshd.service"));
    for (size_t i = 0; i < f.n; i++)
        assert_int_equal(f.rel[i][0], '/');
}

static void test_walk_bad(void **state)
{
    (void)state;
    found f = {0};
    char dir[] = "/tmp/mv-layout-XXXXXX";
    char path[256];
    int skipped = 0;

    assert_int_equal(mv__cgroup_walk("/nonexistent/mv-cgroup", NULL,
                                     on_found, &f, NULL), -ENOENT);
    assert_int_equal(mv__cgroup_walk(NULL, NULL, on_found, &f, NULL),
                     -EINVAL);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/docker", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/docker/" ID_A, dir);
    assert_int_equal(mkdir(path, 0755), 0);
    /* a file named like a container is not one; a regular file is skipped */
    snprintf(path, sizeof path, "%s/docker/" ID_A "0", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(mv__cgroup_walk(dir, NULL, on_found, &f, &skipped), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.rel[0], "/docker/" ID_A);
    remove(path);
    snprintf(path, sizeof path, "%s/docker/" ID_A, dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/docker", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_walk_v2),
        cmocka_unit_test(test_walk_v1),
        cmocka_unit_test(test_walk_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
