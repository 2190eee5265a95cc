/*
 * node_kubelet.c — node mode's resolver over the kubelet client: fills a
 * container's namespace, pod, container and qos from the cached /pods
 * index (see node_kubelet.h for the sandbox rule).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_kubelet.h"
#include "util.h"

/* Containers remembered while their ID is unknown (each a few bytes);
 * beyond this a miss is taken as a sandbox at once. */
#define PENDING_MAX 1024
/* Fetches after the first miss before a container is taken for a sandbox. */
#define SANDBOX_AFTER_FETCHES 2

typedef struct pending {
    uint64_t hash;               /* of the container ID; 0 = free slot */
    uint64_t fetches_at_miss;    /* good fetches when it was first missed */
} pending;

struct cli_node_kubelet {
    cli_kubelet *k;              /* borrowed */
    _Atomic uint64_t good_fetches; /* written by refresh, read by resolve */
    pending pend[PENDING_MAX];   /* sampler thread only */
};

cli_node_kubelet *cli_node_kubelet_new(cli_kubelet *k)
{
    cli_node_kubelet *nk = calloc(1, sizeof *nk);
    if (nk)
        nk->k = k;
    return nk;
}

void cli_node_kubelet_free(cli_node_kubelet *nk)
{
    free(nk);
}

static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;       /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* The slot of h: found, else a free one (*found 0), else NULL (full). */
static pending *pending_slot(cli_node_kubelet *nk, uint64_t h, int *found)
{
    pending *free_slot = NULL;
    for (size_t i = 0; i < PENDING_MAX; i++) {
        pending *p = &nk->pend[(h + i) % PENDING_MAX];
        if (p->hash == h) {
            *found = 1;
            return p;
        }
        if (p->hash == 0) {
            free_slot = p;
            break;
        }
    }
    *found = 0;
    return free_slot;
}

static void copy_names(mv_container_labels *l, const cli_kubelet_names *nm)
{
    mv__strlcpy(l->namespace_name, nm->ns, sizeof l->namespace_name);
    mv__strlcpy(l->pod, nm->pod, sizeof l->pod);
    mv__strlcpy(l->container, nm->container, sizeof l->container);
    /* the path says the QoS class for the cgroupfs and systemd drivers;
     * the kubelet's word fills it where the path did not */
    if (!l->qos[0] && nm->qos[0]) {
        size_t i;
        for (i = 0; nm->qos[i] && i + 1 < sizeof l->qos; i++)
            l->qos[i] = (char)(nm->qos[i] >= 'A' && nm->qos[i] <= 'Z'
                                   ? nm->qos[i] - 'A' + 'a' : nm->qos[i]);
        l->qos[i] = '\0';
    }
}

int cli_node_kubelet_resolve(void *ctx, mv_container_labels *l)
{
    cli_node_kubelet *nk = ctx;
    cli_kubelet_names nm;

    if (l->container_id[0] &&
        cli_kubelet_lookup_container(nk->k, l->container_id, &nm) == 0) {
        copy_names(l, &nm);
        if (!l->pod_uid[0])
            mv__strlcpy(l->pod_uid, nm.pod_uid, sizeof l->pod_uid);
        int found;
        pending *p = pending_slot(nk, id_hash(l->container_id), &found);
        if (p && found)
            p->hash = 0;   /* linear probing: a freed slot may end a chain
                              early; the worst is one more miss counted */
        return 0;
    }
    if (!l->pod_uid[0] || cli_kubelet_lookup_pod(nk->k, l->pod_uid, &nm) != 0)
        return -ENOENT;    /* IDs only; asked again at the next tick */
    copy_names(l, &nm);    /* the pod's names now; container "" */
    if (!l->container_id[0])
        return 0;
    uint64_t now = atomic_load(&nk->good_fetches);
    int found;
    pending *p = pending_slot(nk, id_hash(l->container_id), &found);
    if (!p)
        return 0;          /* table full: take it for a sandbox */
    if (!found) {
        p->hash = id_hash(l->container_id);
        p->fetches_at_miss = now;
        return -ENOENT;
    }
    if (now - p->fetches_at_miss < SANDBOX_AFTER_FETCHES)
        return -ENOENT;
    p->hash = 0;
    return 0;              /* its pod's sandbox */
}

void cli_node_kubelet_refresh(cli_node_kubelet *nk, int64_t now_mono_ms)
{
    char msg[512];

    if (cli_kubelet_refresh(nk->k, now_mono_ms) == 1)
        atomic_fetch_add(&nk->good_fetches, 1);
    if (cli_kubelet_take_message(nk->k, msg, sizeof msg))
        fprintf(stderr, "memvigil watch: %s\n", msg);
}
