/*
 * oom_watch.h — following the kernel log for OOM-kill reports, and the
 * host's kill counter: the I/O around oom_report.h.
 *
 * The kernel log (/dev/kmsg) is opened non-blocking and read from its end,
 * so a poll returns at once with the kills reported since the last one and
 * never blocks the sampler. Where it cannot be read (EACCES/EPERM: no
 * CAP_SYSLOG, kernel.dmesg_restrict) or disappears, the watch says so once
 * (mv__oom_watch_take_notice) and goes on without it; callers then count
 * kills from memory.events only.
 *
 * How node mode plugs it in: one watch per agent (not per container, whose
 * monitors get kmsg_path NULL): each kill carries task_cgroup, which the
 * agent matches against its containers' cgroup paths
 * (mv__oom_kill_in_target) and hands to that container's monitor with
 * mv_monitor_oom_kill(), which names it in its oom_kill event and metric
 * (where the container's labels are attached: mv__expose_state's
 * oom_victim_labels).
 *
 * Ownership: mv__oom_watch_new's object is freed with mv__oom_watch_free
 * (NULL is a no-op). Thread-safety: one thread at a time per watch.
 */
#ifndef MV_OOM_WATCH_H
#define MV_OOM_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

typedef struct mv__oom_watch mv__oom_watch;

/* Records read per poll at most, so a flood of kernel messages costs one
 * tick a bounded time (the rest is read on the next poll). */
#define MV_OOM_WATCH_MAX_RECORDS 2048

/* Opens kmsg_path (NULL or "" = no kernel log) at its end and remembers
 * proc_root (NULL = "/proc") for vmstat. A log that cannot be opened is not
 * an error: it becomes the notice. 0, -EINVAL or -ENOMEM. */
int mv__oom_watch_new(const char *kmsg_path, const char *proc_root,
                      mv__oom_watch **out);
void mv__oom_watch_free(mv__oom_watch *w);

/* Reads what the log holds now, without blocking; stores up to max kill
 * reports in kills (more are dropped, counted in the notice). Returns how
 * many were stored. */
size_t mv__oom_watch_poll(mv__oom_watch *w, mv_oom_kill *kills, size_t max);

/* 1 while the kernel log is being read, 0 once it could not be. */
int mv__oom_watch_kmsg_ok(const mv__oom_watch *w);

/* When something new is worth one message (the log is not permitted, it
 * failed, records were overwritten before they were read), copies it to
 * buf (size n) and returns 1; each cause is told once. Else 0. */
int mv__oom_watch_take_notice(mv__oom_watch *w, char *buf, size_t n);

/* The host's OOM kills since boot (/proc/vmstat oom_kill), MV_NA when
 * unreadable. Read again every 30 s, or at once after a poll found a kill
 * report (the file costs ~70 us to build); in between the last figure. */
int64_t mv__oom_watch_host_kills(mv__oom_watch *w);

#endif /* MV_OOM_WATCH_H */
