/*
 * node_kubelet.h — names for node mode's containers from the kubelet: the
 * mv_node_config.resolve callback over a kubelet client (kubelet.h).
 *
 * The resolver only looks in the client's cached index (it never fetches:
 * it runs on the node's sampler thread under the node lock); the agent's
 * main loop calls cli_node_kubelet_refresh(), which fetches when due and
 * prints the client's messages.
 *
 * A container whose ID the index does not know yet but whose pod it knows
 * gets its pod's names at once and is asked again, so that its container
 * name fills in after the next fetch; still unknown after two fetches made
 * since it was first seen, it is taken for the pod's sandbox ("pause"), as
 * its ID is never in the pod's container statuses, and keeps container "".
 * That bounds the refetches a sandbox causes (the client refetches early
 * after a miss).
 *
 * Ownership: the resolver borrows the client; free with
 * cli_node_kubelet_free() after mv_node_stop(). Thread-safety: resolve on
 * one thread (the sampler), refresh on one other thread.
 */
#ifndef CLI_NODE_KUBELET_H
#define CLI_NODE_KUBELET_H

#include "kubelet.h"
#include "memvigil.h"

typedef struct cli_node_kubelet cli_node_kubelet;

/* NULL on -ENOMEM. */
cli_node_kubelet *cli_node_kubelet_new(cli_kubelet *k);
void cli_node_kubelet_free(cli_node_kubelet *nk);

/* mv_node_resolve_fn; ctx is a cli_node_kubelet. */
int cli_node_kubelet_resolve(void *ctx, mv_container_labels *labels);

/* Fetches when due (may block up to the client's timeout) and prints what
 * the client has to say on stderr, prefixed "memvigil watch: ". */
void cli_node_kubelet_refresh(cli_node_kubelet *nk, int64_t now_mono_ms);

#endif /* CLI_NODE_KUBELET_H */
