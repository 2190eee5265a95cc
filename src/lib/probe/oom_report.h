/*
 * oom_report.h — parsing the kernel's OOM-kill reports (the kernel log as
 * /dev/kmsg gives it) and the host's kill counter (/proc/vmstat oom_kill).
 * Pure: bytes in, figures out; the I/O is oom_watch.h.
 *
 * A kill report is several log lines from mm/oom_kill.c; the ones used:
 *   "<comm> invoked oom-killer: gfp_mask=..., order=N, oom_score_adj=N"
 *   "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=...,cpuset=...,
 *     mems_allowed=...,oom_memcg=/a,task_memcg=/a/b,task=NAME,pid=N,uid=N"
 *                                                        (4.19 and later)
 *   "Task in /a/b killed as a result of limit of /a"     (before 4.19)
 *   "Memory cgroup out of memory: Killed process N (comm) total-vm:NkB,
 *     anon-rss:NkB, file-rss:NkB, shmem-rss:NkB, UID:N pgtables:NkB
 *     oom_score_adj:N"  ("Out of memory: ..." for a global OOM; UID,
 *     pgtables and oom_score_adj since 5.x; no "<why>: " prefix before
 *     4.19, where a "<why>: Kill process N (comm) score ..." line precedes)
 * The "Killed process" line completes a report; the lines before it that
 * name the same pid (or, before 4.19, the last "Task in" line) give the
 * cgroups and the constraint. Reports of parallel OOMs may interleave: a few
 * are held apart by pid. Anything else, torn or garbage, is ignored.
 *
 * Thread-safety: a parser is used by one thread at a time; the functions
 * without a parser are reentrant.
 */
#ifndef MV_OOM_REPORT_H
#define MV_OOM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

/* Summaries ("oom-kill:" lines) waiting for their "Killed process" line.
 * More than this many OOMs in flight at once is not seen in practice; the
 * oldest is overwritten. */
#define MV_OOM_PENDING 4

typedef struct mv__oom_pending {
    int used;
    int32_t pid;                 /* task= pid of the summary; 0 = "Task in" */
    mv_oom_constraint constraint;
    char task_cgroup[MV_CGROUP_PATH_MAX];
    char oom_cgroup[MV_CGROUP_PATH_MAX];
} mv__oom_pending;

/* Plain state; zero it with mv__oom_parser_init. No allocation. */
typedef struct mv__oom_parser {
    mv__oom_pending pend[MV_OOM_PENDING];
    size_t next;                 /* slot the next summary overwrites */
    int memcg_hint;              /* pre-4.19: the last "Kill process" line
                                    said "Memory cgroup out of memory" (1),
                                    another cause (0), none yet (-1) */
} mv__oom_parser;

void mv__oom_parser_init(mv__oom_parser *p);

/* Feeds the text of one log message (no kmsg prefix, no newline needed;
 * len bytes, not NUL-terminated) with its kmsg sequence number and time
 * stamp. Returns 1 and fills *out when the message completes a kill report,
 * 0 when it does not (other messages, garbage, torn lines). */
int mv__oom_parser_feed(mv__oom_parser *p, int64_t seq, int64_t ts_us,
                        const char *text, size_t len, mv_oom_kill *out);

/* Splits one /dev/kmsg record, "<pri>,<seq>,<ts_usec>,<flags>[,..];text\n"
 * followed by optional " KEY=value" dictionary lines: *text points into rec
 * at the message, *text_len excludes the newline and the dictionary.
 * 0, or -EINVAL for a record that is not in this form. */
int mv__kmsg_record_split(const char *rec, size_t len, int64_t *seq,
                          int64_t *ts_us, const char **text, size_t *text_len);

/* The host's OOM kills since boot from the text of /proc/vmstat (its
 * "oom_kill N" line, Linux 4.13+), or MV_NA when absent or garbage. */
int64_t mv__parse_vmstat_oom_kill(const char *text);

/* 1 when kill k concerns a target: its victim is one of pids[0..npids),
 * or it ran in cgroup_path (a path inside the hierarchy, as in
 * mv_sample.cgroup_path) or below it. The root cgroup ("/" or "") matches
 * by pid only, or every kill on the host would be the target's. */
int mv__oom_kill_in_target(const mv_oom_kill *k, const int32_t *pids,
                           size_t npids, const char *cgroup_path);

#endif /* MV_OOM_REPORT_H */
