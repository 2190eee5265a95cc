/*
 * container_labels.h — the ONE list of a container's labels in node mode:
 * the label name every output uses (metrics, the status JSON, event lines)
 * and the field of mv_container_labels it comes from, in output order.
 * Each output expands MV__CONTAINER_LABELS(X) with its own X(name, member).
 *
 * Thread-safety: a macro; nothing at run time.
 */
#ifndef MV_CONTAINER_LABELS_H
#define MV_CONTAINER_LABELS_H

#define MV__CONTAINER_LABELS(X)      \
    X(namespace, namespace_name)     \
    X(pod, pod)                      \
    X(container, container)          \
    X(pod_uid, pod_uid)              \
    X(container_id, container_id)    \
    X(qos, qos)                      \
    X(id, id)

#endif /* MV_CONTAINER_LABELS_H */
