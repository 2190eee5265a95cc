/*
 * fuzz_kubelet.c — libFuzzer target: a kubelet /pods answer on arbitrary
 * bytes (src/cli/agent/kubelet_pods.c). The input is parsed into the
 * index; when it is one, every lookup by a key taken from the input must
 * return either -ENOENT or terminated names within their bounds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const cli_kubelet_names *n)
{
    if (rc == -ENOENT)
        return;
    if (rc != 0 || !memchr(n->ns, '\0', sizeof n->ns) ||
        !memchr(n->pod, '\0', sizeof n->pod) ||
        !memchr(n->pod_uid, '\0', sizeof n->pod_uid) ||
        !memchr(n->qos, '\0', sizeof n->qos) ||
        !memchr(n->container, '\0', sizeof n->container))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_kubelet_index *ix = NULL;
    char err[256];
    if (cli_kubelet_index_parse((const char *)data, size, &ix, err, sizeof err) != 0) {
        if (ix || !memchr(err, '\0', sizeof err))
            abort();
        return 0;
    }
    if (cli_kubelet_index_pods(ix) > CLI_KUBELET_MAX_PODS ||
        cli_kubelet_index_containers(ix) > CLI_KUBELET_MAX_CONTAINERS)
        abort();
    /* keys: the input's first bytes, as an ID and as a UID */
    char key[80];
    size_t n = size < sizeof key - 1 ? size : sizeof key - 1;
    memcpy(key, data, n);
    key[n] = '\0';
    cli_kubelet_names names;
    check(cli_kubelet_index_container(ix, key, &names), &names);
    check(cli_kubelet_index_pod(ix, key, &names), &names);
    check(cli_kubelet_index_container(ix, "containerd://x", &names), &names);
    cli_kubelet_index_free(ix);
    return 0;
}
