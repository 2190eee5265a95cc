/*
 * kubelet_pods.c — the kubelet's PodList parsed into an index of pod UIDs
 * and container IDs (see kubelet.h).
 *
 * The document is parsed with jansson and only the fields named in
 * kubelet.h are kept, in two arrays sorted by key for binary search: pods
 * by UID, containers by ID (the runtime prefix stripped). A container
 * refers to its pod by index. Fields of the wrong JSON type are treated as
 * absent, so a kubelet of another version (extra or missing fields) still
 * yields what it has; a document that is not an object with an "items"
 * array is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kubelet.h"
#include "util.h"

typedef struct pod_entry {
    char uid[40];
    char ns[64];
    char name[254];
    char qos[16];
} pod_entry;

typedef struct container_entry {
    char id[72];               /* without the runtime prefix */
    char name[64];
    size_t pod;                /* index into pods */
} container_entry;

struct cli_kubelet_index {
    pod_entry *pods;
    size_t npods, pods_cap;
    container_entry *cs;
    size_t ncs, cs_cap;
    size_t dropped;
};

void cli_kubelet_index_free(cli_kubelet_index *ix)
{
    if (!ix)
        return;
    free(ix->pods);
    free(ix->cs);
    free(ix);
}

size_t cli_kubelet_index_pods(const cli_kubelet_index *ix) { return ix ? ix->npods : 0; }
size_t cli_kubelet_index_containers(const cli_kubelet_index *ix) { return ix ? ix->ncs : 0; }
size_t cli_kubelet_index_dropped(const cli_kubelet_index *ix) { return ix ? ix->dropped : 0; }

/* The string at obj.key, or NULL when absent or not a string. */
static const char *str_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "containerd://abc" -> "abc"; an ID without prefix is returned as is. */
static const char *strip_runtime(const char *id)
{
    const char *p = strstr(id, "://");
    return p ? p + 3 : id;
}

/* A UID with '_' (systemd slice names) read as '-', into dst (n bytes);
 * -1 when too long. */
static int normal_uid(const char *uid, char *dst, size_t n)
{
    size_t len = strlen(uid);
    if (len >= n)
        return -1;
    for (size_t i = 0; i <= len; i++)
        dst[i] = uid[i] == '_' ? '-' : uid[i];
    return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

static int add_container(cli_kubelet_index *ix, size_t pod, const char *name,
                         const char *id)
{
    if (!name || !id || !id[0])
        return 0;
    const char *bare = strip_runtime(id);
    if (!bare[0] || strlen(bare) >= sizeof ix->cs[0].id)
        return 0;
    if (ix->ncs >= CLI_KUBELET_MAX_CONTAINERS) {
        ix->dropped++;
        return 0;
    }
    if (grow((void **)&ix->cs, &ix->cs_cap, ix->ncs + 1, sizeof *ix->cs))
        return -ENOMEM;
    container_entry *c = &ix->cs[ix->ncs++];
    mv__strlcpy(c->id, bare, sizeof c->id);
    mv__strlcpy(c->name, name, sizeof c->name);
    c->pod = pod;
    return 0;
}

/* Every status of one of the three lists: its current ID and, when it
 * restarted, the previous one. */
static int add_statuses(cli_kubelet_index *ix, size_t pod, json_t *list)
{
    size_t i;
    json_t *st;
    if (!json_is_array(list))
        return 0;
    json_array_foreach(list, i, st) {
        const char *name = str_at(st, "name");
        if (add_container(ix, pod, name, str_at(st, "containerID")))
            return -ENOMEM;
        json_t *term = json_object_get(json_object_get(st, "lastState"), "terminated");
        if (add_container(ix, pod, name, str_at(term, "containerID")))
            return -ENOMEM;
    }
    return 0;
}

static int add_pod(cli_kubelet_index *ix, json_t *item)
{
    json_t *meta = json_object_get(item, "metadata");
    json_t *status = json_object_get(item, "status");
    const char *uid = str_at(meta, "uid");
    const char *ns = str_at(meta, "namespace");
    const char *name = str_at(meta, "name");
    const char *qos = str_at(status, "qosClass");
    if (!uid || !name)
        return 0;
    if (ix->npods >= CLI_KUBELET_MAX_PODS) {
        ix->dropped++;
        return 0;
    }
    if (grow((void **)&ix->pods, &ix->pods_cap, ix->npods + 1, sizeof *ix->pods))
        return -ENOMEM;
    pod_entry *p = &ix->pods[ix->npods];
    if (normal_uid(uid, p->uid, sizeof p->uid) != 0)
        return 0;
    mv__strlcpy(p->ns, ns ? ns : "", sizeof p->ns);
    mv__strlcpy(p->name, name, sizeof p->name);
    mv__strlcpy(p->qos, qos ? qos : "", sizeof p->qos);
    size_t at = ix->npods++;
    static const char *const lists[] = {"containerStatuses", "initContainerStatuses",
                                        "ephemeralContainerStatuses"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (add_statuses(ix, at, json_object_get(status, lists[i])))
            return -ENOMEM;
    return 0;
}

static int cmp_pod(const void *a, const void *b)
{
    return strcmp(((const pod_entry *)a)->uid, ((const pod_entry *)b)->uid);
}

static int cmp_container(const void *a, const void *b)
{
    return strcmp(((const container_entry *)a)->id, ((const container_entry *)b)->id);
}

/* Sorts the pods by UID, keeping the containers' references right. */
static int sort_index(cli_kubelet_index *ix)
{
    if (ix->npods == 0)
        return 0;
    /* sort a copy, then map each old index to its sorted place */
    pod_entry *sorted = malloc(ix->npods * sizeof *sorted);
    size_t *where = malloc(ix->npods * sizeof *where);
    if (!sorted || !where) {
        free(sorted);
        free(where);
        return -ENOMEM;
    }
    memcpy(sorted, ix->pods, ix->npods * sizeof *sorted);
    qsort(sorted, ix->npods, sizeof *sorted, cmp_pod);
    for (size_t i = 0; i < ix->npods; i++) {
        pod_entry *hit = bsearch(&ix->pods[i], sorted, ix->npods, sizeof *sorted, cmp_pod);
        where[i] = (size_t)(hit - sorted);
    }
    for (size_t i = 0; i < ix->ncs; i++)
        ix->cs[i].pod = where[ix->cs[i].pod];
    free(ix->pods);
    ix->pods = sorted;
    ix->pods_cap = ix->npods;
    free(where);
    if (ix->ncs > 1)
        qsort(ix->cs, ix->ncs, sizeof *ix->cs, cmp_container);
    return 0;
}

int cli_kubelet_index_parse(const char *json, size_t len,
                            cli_kubelet_index **out, char *err, size_t errlen)
{
    json_error_t je;
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!json) {
        snprintf(err, errlen, "no document");
        return -EINVAL;
    }
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "not JSON (%s at line %d)", je.text, je.line);
        return -EINVAL;
    }
    json_t *items = json_object_get(root, "items");
    if (!json_is_object(root) || !json_is_array(items)) {
        snprintf(err, errlen, "not a PodList (no \"items\" array)");
        json_decref(root);
        return -EINVAL;
    }
    cli_kubelet_index *ix = calloc(1, sizeof *ix);
    int rc = ix ? 0 : -ENOMEM;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (rc)
            break;
        if (json_is_object(item))
            rc = add_pod(ix, item);
    }
    json_decref(root);
    if (!rc)
        rc = sort_index(ix);
    if (rc) {
        cli_kubelet_index_free(ix);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    *out = ix;
    return 0;
}

static void names_of_pod(const pod_entry *p, cli_kubelet_names *out)
{
    memset(out, 0, sizeof *out);
    mv__strlcpy(out->ns, p->ns, sizeof out->ns);
    mv__strlcpy(out->pod, p->name, sizeof out->pod);
    mv__strlcpy(out->pod_uid, p->uid, sizeof out->pod_uid);
    mv__strlcpy(out->qos, p->qos, sizeof out->qos);
}

int cli_kubelet_index_pod(const cli_kubelet_index *ix, const char *uid,
                          cli_kubelet_names *out)
{
    pod_entry key;
    if (!ix || !uid || !out || normal_uid(uid, key.uid, sizeof key.uid) != 0)
        return -ENOENT;
    const pod_entry *p = ix->npods ? bsearch(&key, ix->pods, ix->npods,
                                             sizeof *ix->pods, cmp_pod)
                                   : NULL;
    if (!p)
        return -ENOENT;
    names_of_pod(p, out);
    return 0;
}

int cli_kubelet_index_container(const cli_kubelet_index *ix, const char *id,
                                cli_kubelet_names *out)
{
    container_entry key;
    if (!ix || !id || !out)
        return -ENOENT;
    const char *bare = strip_runtime(id);
    if (strlen(bare) >= sizeof key.id)
        return -ENOENT;
    mv__strlcpy(key.id, bare, sizeof key.id);
    const container_entry *c = ix->ncs ? bsearch(&key, ix->cs, ix->ncs,
                                                 sizeof *ix->cs, cmp_container)
                                       : NULL;
    if (!c)
        return -ENOENT;
    names_of_pod(&ix->pods[c->pod], out);
    mv__strlcpy(out->container, c->name, sizeof out->container);
    return 0;
}
