/*
 * kubelet.h — names for container cgroups from the kubelet's pods API
 * (GET <URL>/pods: the PodList of the pods on this node), so that series
 * and events can carry namespace, pod, container and QoS class instead of
 * bare IDs.
 *
 * Two parts:
 *  - the index (kubelet_pods.c): a pure parser of a PodList document into
 *    lookups by pod UID (-> namespace, pod, qos) and by container ID (->
 *    container name and its pod), bounded in pods and containers;
 *  - the client (kubelet.c): fetches the document with libcurl (https with
 *    a bearer token file and a CA file, or plain http for the read-only
 *    port 10255), keeps the last good index, refreshes it every
 *    refresh_ms or sooner when a lookup missed (a new container), and
 *    keeps the last good index through failures (refused, timeout,
 *    garbage, HTTP errors), with one clear message per spell.
 *
 * How node mode plugs it in: `watch --cgroup-root` registers
 * CLI_KUBELET_LONG_OPTIONS and calls cli_kubelet_opts_parse() from its
 * getopt loop, appends cli_kubelet_options_help to its --help, creates one
 * client with cli_kubelet_new() when opts.url is set, calls
 * cli_kubelet_refresh() from its main loop (never the sampler: it may
 * block up to timeout_ms), prints what cli_kubelet_take_message() gives,
 * and labels each discovered cgroup with cli_kubelet_lookup(pod UID from
 * the path, container ID from the path). Without --kubelet, or until the
 * kubelet first answers, lookups return -ENOENT and series keep their IDs.
 * Nothing here assumes a cgroup layout: callers pass the UID and ID as the
 * path spells them (systemd's '_' in UIDs and runtime prefixes such as
 * "cri-containerd-" are the caller's to strip; '_' is accepted for '-').
 *
 * Ownership: cli_kubelet_new()'s client is freed with cli_kubelet_free()
 * (NULL is a no-op); cli_kubelet_index_parse()'s index with
 * cli_kubelet_index_free(). Strings in opts are borrowed for the client's
 * life.
 * Thread-safety: an index is immutable once parsed (any thread may look
 * up). A client's lookups may run on any thread, concurrently with one
 * thread calling cli_kubelet_refresh()/take_message() (the index is
 * swapped under the client's lock).
 */
#ifndef CLI_KUBELET_H
#define CLI_KUBELET_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Bounds: a node runs at most a few hundred pods (kubelet's default
 * maxPods is 110); more than this is not a node's own list. Beyond them
 * the rest is left out and counted (cli_kubelet_index_dropped). */
#define CLI_KUBELET_MAX_PODS 2048
#define CLI_KUBELET_MAX_CONTAINERS 8192
/* Largest /pods body accepted: ~10 KiB per pod at the pod cap. */
#define CLI_KUBELET_MAX_BODY (32u << 20)

/* ---- the names ---- */

/* What a lookup gives, copied out (Kubernetes' own length limits). */
typedef struct cli_kubelet_names {
    char ns[64];           /* metadata.namespace (DNS label, <= 63) */
    char pod[254];         /* metadata.name (DNS subdomain, <= 253) */
    char pod_uid[40];      /* metadata.uid */
    char qos[16];          /* status.qosClass: Guaranteed, Burstable,
                              BestEffort; "" when absent */
    char container[64];    /* container name; "" for a pod-level lookup */
} cli_kubelet_names;

/* ---- the index (kubelet_pods.c) ---- */

typedef struct cli_kubelet_index cli_kubelet_index;

/* Parses a PodList document (len bytes, not NUL-terminated needed).
 * Indexes every item's metadata.{namespace,name,uid}, status.qosClass, and
 * the name and containerID of status.containerStatuses[],
 * initContainerStatuses[] and ephemeralContainerStatuses[] (also the
 * previous container's ID from lastState.terminated.containerID, so a
 * restarted container's old cgroup still has its name). Container IDs are
 * stored without their runtime prefix ("containerd://", "cri-o://",
 * "docker://"). Items without a uid, and statuses without an ID (waiting
 * containers), are skipped. 0 and *out, or -EINVAL (not a PodList: err
 * says why) or -ENOMEM; *out is NULL on error. */
int cli_kubelet_index_parse(const char *json, size_t len,
                            cli_kubelet_index **out, char *err, size_t errlen);
void cli_kubelet_index_free(cli_kubelet_index *ix);
size_t cli_kubelet_index_pods(const cli_kubelet_index *ix);
size_t cli_kubelet_index_containers(const cli_kubelet_index *ix);
/* Pods and containers left out by the caps. */
size_t cli_kubelet_index_dropped(const cli_kubelet_index *ix);

/* By pod UID (dashes, or underscores as systemd slice names spell it):
 * 0 and *out (container ""), or -ENOENT. */
int cli_kubelet_index_pod(const cli_kubelet_index *ix, const char *uid,
                          cli_kubelet_names *out);
/* By container ID, with or without a "<runtime>://" prefix: 0 and *out
 * (its pod's names too), or -ENOENT. */
int cli_kubelet_index_container(const cli_kubelet_index *ix, const char *id,
                                cli_kubelet_names *out);

/* ---- the client (kubelet.c) ---- */

typedef struct cli_kubelet_opts {
    const char *url;         /* --kubelet URL: https://127.0.0.1:10250 or
                                http://127.0.0.1:10255; NULL = none */
    const char *token_file;  /* --kubelet-token-file: bearer token, re-read
                                at each fetch (projected tokens rotate) */
    const char *ca_file;     /* --kubelet-ca-file: CA bundle for https */
    int insecure_tls;        /* --kubelet-insecure-tls: no certificate check */
    int64_t refresh_ms;      /* full refresh period; 0 = 60 s */
    int64_t timeout_ms;      /* one request, connect included; 0 = 5 s */
} cli_kubelet_opts;

/* The options, from CLI_OPT_KUBELET_FIRST up: clear of CLI_OPT_* and of
 * the values a command numbers from CLI_OPT_LAST + 1 for its own. */
enum {
    CLI_OPT_KUBELET_FIRST = CLI_OPT_LAST + 100,
    CLI_OPT_KUBELET = CLI_OPT_KUBELET_FIRST,
    CLI_OPT_KUBELET_TOKEN_FILE,
    CLI_OPT_KUBELET_CA_FILE,
    CLI_OPT_KUBELET_INSECURE_TLS,
};
#define CLI_KUBELET_LONG_OPTIONS                                              \
    {"kubelet", required_argument, NULL, CLI_OPT_KUBELET},                    \
    {"kubelet-token-file", required_argument, NULL, CLI_OPT_KUBELET_TOKEN_FILE}, \
    {"kubelet-ca-file", required_argument, NULL, CLI_OPT_KUBELET_CA_FILE},    \
    {"kubelet-insecure-tls", no_argument, NULL, CLI_OPT_KUBELET_INSECURE_TLS}
extern const char cli_kubelet_options_help[];

void cli_kubelet_opts_init(cli_kubelet_opts *o);
/* Handles option c with its argument: 1 when it is a kubelet option, 0
 * when not, CLI_EXIT_USAGE (after printing) when the value is bad (a URL
 * that is not http:// or https://). */
int cli_kubelet_opts_parse(cli_kubelet_opts *o, const char *cmd, int c,
                           const char *arg);
/* Cross-option checks after parsing (token/CA/insecure without --kubelet;
 * a token sent over plain http is refused). 0 or CLI_EXIT_USAGE. */
int cli_kubelet_opts_check(const cli_kubelet_opts *o, const char *cmd);

typedef struct cli_kubelet cli_kubelet;

/* A client; nothing is fetched yet. NULL on -ENOMEM or without a URL. */
cli_kubelet *cli_kubelet_new(const cli_kubelet_opts *o);
void cli_kubelet_free(cli_kubelet *k);

/* Fetches the pods when due: at the first call, every refresh_ms, after a
 * failure with a backoff (1 s doubling to refresh_ms), or, after a lookup
 * missed, once at least 5 s after the previous fetch. Blocks up to
 * timeout_ms. Returns 1 when a new index is in use, 0 when nothing was due
 * or the fetch failed (the last good index stays; see take_message). */
int cli_kubelet_refresh(cli_kubelet *k, int64_t now_mono_ms);

/* Lookups in the index in use: 0 and *out, or -ENOENT (unknown, or no
 * index yet); a miss asks for an early refresh. */
int cli_kubelet_lookup_pod(cli_kubelet *k, const char *uid,
                           cli_kubelet_names *out);
int cli_kubelet_lookup_container(cli_kubelet *k, const char *id,
                                 cli_kubelet_names *out);

/* When the kubelet's state changed in a way worth one line (the first
 * failure of a spell, its cause changing, a reminder every 10 minutes of
 * failure, the recovery, an index truncated by the caps), copies it to buf
 * and returns 1; else 0. */
int cli_kubelet_take_message(cli_kubelet *k, char *buf, size_t n);

/* Fetches done and failed so far (for tests and status). */
void cli_kubelet_counts(cli_kubelet *k, uint64_t *fetches, uint64_t *failures);

#endif /* CLI_KUBELET_H */
