/*
 * probe.h — reading process, cgroup and system memory into an mv_sample.
 *
 * Parsing is separate from I/O: the mv__parse_* functions take the text of
 * one file and fill the fields they own, leaving fields they could not read
 * at MV_NA / NAN; they never guess. The mv__probe_* functions read files under
 * a configurable root (tests point it at fixture trees in tests/fixtures/).
 *
 * Thread-safety: all functions are reentrant; no global state.
 */
#ifndef MV_PROBE_H
#define MV_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memvigil.h"

typedef struct mv__probe_opts {
    const char *proc_root;       /* "/proc" */
    const char *cgroup_root;     /* "/sys/fs/cgroup" */
    int smaps_rollup;            /* read /proc/PID/smaps_rollup */
    int64_t smaps_max_vm_bytes;  /* skip smaps_rollup above this VmSize */
} mv__probe_opts;

/* Fills opts with the defaults ("/proc", "/sys/fs/cgroup", off, 64 GiB). */
void mv__probe_opts_init(mv__probe_opts *o);

/* ---- pure parsers (text is NUL-terminated; return 0 or -EINVAL when the
 *      text is not of the expected form at all) ---- */

/* /proc/PID/status: VmRSS, RssAnon, RssFile, RssShmem, VmSwap, VmHWM,
 * VmSize (kB -> bytes), Threads. */
int mv__parse_status(const char *text, mv_sample *s);
/* /proc/PID/stat: comm may hold spaces and ')' — parse from the last ')'.
 * Gives ppid (field 4; -1 on error) and, when s is not NULL, the fields of
 * s that come from stat (start_time_ticks = field 22, ...; the list is in
 * probe_parse.c), MV_NA on error; other fields of s are left alone. */
int mv__parse_stat(const char *text, int32_t *ppid, mv_sample *s);
/* /proc/PID/smaps_rollup: Pss, Pss_Anon, Pss_File, Pss_Shmem. */
int mv__parse_smaps_rollup(const char *text, mv_sample *s);
/* /proc/meminfo: MemTotal, MemAvailable, SwapTotal, SwapFree. */
int mv__parse_meminfo(const char *text, mv_sample *s);
/* A PSI file ("some avg10=.. avg60=.. avg300=.. total=.." and "full ..."). */
int mv__parse_psi(const char *text, mv_psi *some, mv_psi *full);
/* /proc/PID/cgroup: prefers the v1 "memory" controller line when present
 * (it is the one that accounts memory on hybrid hosts), else the v2 "0::"
 * line. Sets *version (1 or 2) and the path. -ENOENT when neither exists. */
int mv__parse_proc_cgroup(const char *text, int *version, char *path, size_t n);
/* A single-value cgroup file: a decimal number, or "max" -> MV_UNLIMITED;
 * v1 values >= 2^62 (the page-rounded "unlimited") -> MV_UNLIMITED. */
int mv__parse_cgroup_value(const char *text, int64_t *out);
/* memory.stat, v2 (anon, file, inactive_file, shmem) or v1 (total_rss,
 * total_cache, total_inactive_file, total_shmem; falls back to the
 * non-total_ names). */
int mv__parse_cgroup_stat(const char *text, int version, mv_sample *s);
/* v2 memory.events (oom, oom_kill, high, max). */
int mv__parse_cgroup_events(const char *text, mv_sample *s);
/* v1 memory.oom_control (oom_kill). */
int mv__parse_oom_control(const char *text, mv_sample *s);

/* ---- I/O ---- */

/* Fills the process fields of s for one pid. Returns -ESRCH when the
 * process does not exist (or vanished while being read), -EACCES. */
int mv__probe_process(const mv__probe_opts *o, int32_t pid, mv_sample *s);
/* Finds pid's cgroup (version and path) from /proc/PID/cgroup. */
int mv__probe_find_cgroup(const mv__probe_opts *o, int32_t pid, int *version,
                          char *path, size_t n);
/* Fills the cgroup fields for a cgroup (path inside the hierarchy, or an
 * absolute path under cgroup_root). The v2 root cgroup has no memory.current:
 * usage is then MV_NA. Returns -ENOENT when the directory does not exist. */
int mv__probe_cgroup(const mv__probe_opts *o, int version, const char *path,
                     mv_sample *s);
/* Fills the system fields (meminfo, /proc/pressure/memory). */
int mv__probe_system(const mv__probe_opts *o, mv_sample *s);
/* Set the process fields (nprocs .. pss_shmem_bytes) or the cgroup fields
 * (cgroup_version .. cg_psi_full) of s to "unavailable"; mv_sample_clear
 * is both plus the rest. Each walks the table of sample fields
 * (sample_fields.h), so a field added there is cleared by its type. */
void mv__sample_clear_process(mv_sample *s);
/* Whether member m of mv_sample is a process field or a cgroup field: the
 * struct's blocks (include/memvigil.h), process from nprocs up to
 * cgroup_version, cgroup from cgroup_version up to mem_total_bytes. */
#define MV__PROCESS_FIELD(m)                                                  \
    (offsetof(mv_sample, m) > offsetof(mv_sample, pid) &&                     \
     offsetof(mv_sample, m) < offsetof(mv_sample, cgroup_version))
#define MV__CGROUP_FIELD(m)                                                   \
    (offsetof(mv_sample, m) >= offsetof(mv_sample, cgroup_version) &&         \
     offsetof(mv_sample, m) < offsetof(mv_sample, mem_total_bytes))
void mv__sample_clear_cgroup(mv_sample *s);
/* Computes the derived fields from the others. Pure. */
void mv__sample_derive(mv_sample *s);
/* The quantity compared with the effective limit (by usage_ratio and the
 * time to limit): the working set when the limit is the cgroup's
 * (limit_source CGROUP_MAX or CGROUP_HIGH: the kernel charges the whole
 * cgroup), else the target's RSS (against MemTotal or a configured limit);
 * each falls back to the other when unavailable; MV_NA when both are.
 * Pure; s must not be NULL. */
int64_t mv__sample_limit_quantity(const mv_sample *s);
/* Which one that is, for people: "working set" or "rss". Pure. */
const char *mv__sample_limit_quantity_name(const mv_sample *s);

/* The whole sample for a target: pid (with descendants if tree) or a set of
 * pids summed, or a cgroup when cgroup != NULL. Clears s first, fills
 * timestamps, derives. */
int mv__probe_target(const mv__probe_opts *o, const int32_t *pids, size_t npids,
                     int tree, const char *cgroup, mv_sample *s);

/* Detects the cgroup version mounted at cgroup_root for a path: 2 when
 * cgroup_root/cgroup.controllers exists, 1 when cgroup_root/memory exists. */
int mv__probe_cgroup_version(const mv__probe_opts *o);

/* ---- for `inspect`: mappings from /proc/PID/smaps ---- */

typedef struct mv__mapping {
    char name[256];        /* path, "[heap]", "[anon]", "[stack]", ... */
    int64_t rss_bytes;     /* summed over every mapping with this name */
    int64_t anon_bytes;
    int64_t file_bytes;    /* rss - anon for file-backed mappings */
    int64_t swap_bytes;
    int file_backed;       /* 1 when name is a file path */
} mv__mapping;

/* Parses /proc/PID/smaps text, merging mappings by name, and returns the top
 * `max` by RSS (descending) in out; *count set. */
int mv__parse_smaps_top(const char *text, mv__mapping *out, size_t max,
                        size_t *count);
int mv__probe_top_mappings(const mv__probe_opts *o, int32_t pid,
                           mv__mapping *out, size_t max, size_t *count);
/* /proc/PID/oom_score and oom_score_adj; MV_NA-like -1000000 when n/a. */
int mv__probe_oom_score(const mv__probe_opts *o, int32_t pid, int *score,
                        int *score_adj);
/* /proc/PID/comm into out. */
int mv__probe_comm(const mv__probe_opts *o, int32_t pid, char *out, size_t n);


/* ---- helpers shared by the probe_*.c files (not for other modules) ---- */

/* Reads a small file (procfs, cgroupfs) into buf of size cap with plain
 * open/read/close, no allocation and no stdio, so a sampler tick stays cheap.
 * Always NUL-terminates. When the file is larger than cap - 1, the text is
 * cut after its last complete line, so a parser never sees half a number.
 * Returns bytes kept (>= 0) or a negative errno from open/read (-ENOENT,
 * -EACCES, -EISDIR, -ESRCH, ...). */
ssize_t mv__probe_read_small(const char *path, char *buf, size_t cap);
/* Same, with path relative to the directory dirfd (or AT_FDCWD). */
ssize_t mv__probe_read_at(int dirfd, const char *path, char *buf, size_t cap);

/* The process fields summed over a set of pids (pids[0] is the primary;
 * with tree, every descendant of each pid too, found via each process's
 * ppid under proc_root; s->nprocs says how many). Used by mv__probe_target;
 * see the notes below. */
int mv__probe_pids(const mv__probe_opts *o, const int32_t *pids, size_t npids,
                   int tree, mv_sample *s);

/* v1 memory.stat "hierarchical_memory_limit" (the tightest limit of the
 * cgroup and its ancestors): bytes, MV_UNLIMITED, or MV_NA when absent. */
int64_t mv__parse_v1_hierarchical_limit(const char *text);

/* Sentinel for mv__probe_oom_score when a value is unavailable. */
#define MV__OOM_SCORE_NA (-1000000)

/* ---- descriptors kept between ticks (the probe session) --------------
 *
 * A "slot" is an int holding either an open descriptor or one of the two
 * values below. mv__probe_slot_read opens path (relative to dirfd) when the
 * slot holds no descriptor, reads the file from offset 0 with pread (same
 * cut-at-last-line rule as mv__probe_read_small) and, when keep is 0,
 * closes it again. With keep, an ENOENT at open is remembered as
 * MV__SLOT_MISSING (later reads return -ENOENT without a syscall). */
#define MV__SLOT_UNOPENED (-2)
#define MV__SLOT_MISSING (-1)
ssize_t mv__probe_slot_read(int *slot, int dirfd, const char *path, int keep,
                            char *buf, size_t cap);
/* Closes a slot's descriptor (if any); the slot becomes MV__SLOT_UNOPENED. */
void mv__probe_slot_close(int *slot);

/* The files of one process: status, stat, smaps_rollup slots. */
typedef struct mv__proc_handle {
    int status, stat, smaps;
    int keep;                    /* 1: descriptors stay open */
} mv__proc_handle;
void mv__proc_handle_init(mv__proc_handle *h, int keep);
void mv__proc_handle_close(mv__proc_handle *h);
/* mv__probe_process through h. With keep, a status read of 0 bytes (or
 * ESRCH) is -ESRCH: the kept descriptor belongs to a process that exited.
 * want_stat 0 skips /proc/PID/stat (start_time_ticks stays MV_NA). */
int mv__probe_process_read(const mv__probe_opts *o, int32_t pid,
                           mv__proc_handle *h, int want_stat, mv_sample *s);
/* The part of mv__probe_pids after the primary: s already holds pids[0]'s
 * fields; adds the other pids (and descendants with tree), each once,
 * with transient opens. */
int mv__probe_pids_rest(const mv__probe_opts *o, const int32_t *pids,
                        size_t npids, int tree, mv_sample *s);
/* mv__probe_system with its two files in slots. */
int mv__probe_system_read(const mv__probe_opts *o, int *meminfo_slot,
                          int *psi_slot, int keep, mv_sample *s);

/* An opened memory cgroup: an O_PATH directory descriptor plus one slot per
 * knob file (v2 uses 7, v1 6). */
#define MV__CG_KNOBS 7
typedef struct mv__cgroup_handle {
    int dirfd;                   /* -1 when not open */
    int version;                 /* 1 or 2 */
    int is_root;                 /* v2 hierarchy root */
    int keep;
    int removed;                 /* a kept knob read ENODEV */
    char rel[MV_CGROUP_PATH_MAX];/* path inside the hierarchy */
    int fd[MV__CG_KNOBS];
    /* v2 ancestors up to the mount root (probe_cgroup.c): their tightest
     * memory.max / memory.high, re-read with transient opens at most every
     * MV__CG_ANCESTOR_REFRESH_MS with keep (every read without). */
    int anc_depth;               /* ancestors to read: 0 for v1, the root,
                                    or a path with ".." */
    int64_t anc_max_bytes;       /* tightest memory.max; MV_UNLIMITED when
                                    none is set, MV_NA before the first walk */
    int64_t anc_high_bytes;      /* same for memory.high */
    int anc_max_up, anc_high_up; /* levels above the cgroup that set them
                                    (1 = parent); 0 when none */
    int64_t anc_read_ms;         /* monotonic ms of the last walk; MV_NA:
                                    walk at the next read */
} mv__cgroup_handle;
void mv__cgroup_handle_init(mv__cgroup_handle *h);
/* Resolves (version, path) as mv__probe_cgroup does and opens the directory.
 * -ENOENT when it does not exist. On error h is closed (dirfd -1). */
int mv__probe_cgroup_open(const mv__probe_opts *o, int version,
                          const char *path, int keep, mv__cgroup_handle *h);
/* Fills the cgroup fields from h. -ENODEV (fields MV_NA) when a kept
 * descriptor says the cgroup was removed: close and open again. */
int mv__probe_cgroup_read(mv__cgroup_handle *h, mv_sample *s);
/* Lets knob files found missing be looked for again at the next read. */
void mv__probe_cgroup_retry_missing(mv__cgroup_handle *h);
/* Closes every descriptor; h is then as after mv__cgroup_handle_init. */
void mv__probe_cgroup_close(mv__cgroup_handle *h);
/* v2: how often a kept handle re-reads its ancestors' memory.max and
 * memory.high (see probe_cgroup.c). */
#define MV__CG_ANCESTOR_REFRESH_MS 30000

/* Applies a configured limit (mv_config.limit_bytes) to a derived sample:
 * when limit_bytes > 0 and strictly below effective_limit_bytes (or no
 * limit is known), it becomes the effective limit with source
 * MV_LIMIT_CONFIG and the usage ratio is recomputed; otherwise (a tighter
 * or equal cgroup limit or MemTotal, or limit_bytes <= 0) s is unchanged.
 * Pure. */
void mv__sample_apply_limit(mv_sample *s, int64_t limit_bytes);

/* ---- the probe session: mv__probe_target with descriptors kept open ----
 *
 * A sampler calls mv__probe_target for the same target every tick; each
 * call opens ~12 files. A session opens them once and re-reads them with
 * pread(fd, .., 0): /proc/PID/{status,stat,cgroup} (and smaps_rollup when
 * enabled) of the primary pid, the cgroup directory and its knob files,
 * /proc/meminfo and /proc/pressure/memory.
 *
 * Result: mv__probe_session_sample gives what mv__probe_target gives for
 * the same arguments (pid 0 = the calling process, resolved once in _new).
 *  - The kept /proc/PID descriptors pin the process they were opened on:
 *    once it exits, reads fail (ESRCH or 0 bytes) and the sample is -ESRCH
 *    for good; a reused pid is never followed. The start time taken at
 *    _new is reported, and compared with /proc/PID/stat at each recheck
 *    (below) as a safety net.
 *  - The cgroup is re-resolved from /proc/PID/cgroup every
 *    MV__PROBE_SESSION_RECHECK samples (a process can be moved), and at
 *    once when a kept cgroup file reads ENODEV (the cgroup was removed).
 *    Knob files found missing are looked for again at the same rhythm.
 *    A cgroup target (cgroup != NULL) is reopened when it was removed
 *    (-ENOENT while it does not exist, as mv__probe_target).
 *  - Trees and extra pids: the primary uses kept descriptors; the /proc
 *    scan and the other processes use transient opens as before.
 * Descriptors: at most 14 (6 process/system + 1 cgroup directory + 7
 * knobs), whatever the tree size. All O_RDONLY|O_CLOEXEC.
 * Ownership: _new copies opts strings, pids and cgroup; _free releases all.
 * Thread-safety: one owner; a session must not be used by two threads at
 * once. Sessions are independent of one another. */
#define MV__PROBE_SESSION_RECHECK 10
typedef struct mv__probe_session mv__probe_session;
/* NULL with *err set (-EINVAL, -ENOMEM, -ESRCH when the primary pid does
 * not exist, -ENOENT for a missing cgroup target, -EMFILE...). */
mv__probe_session *mv__probe_session_new(const mv__probe_opts *o,
                                         const int32_t *pids, size_t npids,
                                         int tree, const char *cgroup,
                                         int *err);
int mv__probe_session_sample(mv__probe_session *ps, mv_sample *s);
/* Reads the cgroup fields of s again from the cgroup the last sample was
 * in, through the descriptor already open (so also where its path does
 * not resolve, as in a container): once the target has gone, what its
 * cgroup says of it (an OOM kill). -ENOENT when no cgroup is open. Same
 * thread as mv__probe_session_sample. */
int mv__probe_session_read_cgroup(mv__probe_session *ps, mv_sample *s);
/* NULL is a no-op. */
void mv__probe_session_free(mv__probe_session *ps);

/* Notes on the I/O functions above (behaviour the monitor can rely on):
 *  - mv__probe_process / mv__probe_pids first set every process field of s
 *    to MV_NA, then fill what they can read. Only /proc/PID/status is
 *    mandatory; stat, smaps_rollup errors leave their fields MV_NA.
 *  - Tree sums skip MV_NA (a zombie child has no VmRSS); a field is MV_NA
 *    only when no process in the tree had it. Processes that vanish during
 *    the scan are skipped and not counted in nprocs.
 *  - mv__probe_target with npids > 1: the first pid is the primary target
 *    (pid, start_time_ticks, rss_peak_bytes, cgroup come from it; -ESRCH when
 *    it is gone); the others are summed when present and skipped when gone.
 *    Overlapping pids (or trees) are counted once. pid 0 means the calling
 *    process (getpid()).
 *  - mv__probe_target with a cgroup string: an absolute path under
 *    cgroup_root is used as the directory (version detected by the files in
 *    it); anything else is a path inside the hierarchy found by
 *    mv__probe_cgroup_version. pid and nprocs are 0.
 *  - mv__probe_cgroup with version 0 detects the version from the files in
 *    the directory (as for an absolute path).
 *  - v1: cg_max_bytes is the tighter of memory.limit_in_bytes and
 *    memory.stat hierarchical_memory_limit (an ancestor's limit applies).
 *  - v2: cg_max_bytes / cg_high_bytes are the tightest of the cgroup's own
 *    memory.max / memory.high and those of its ancestors up to the mount
 *    root (a slice's MemoryMax=, a pod's limit, a cgroup-namespace root's);
 *    missing, unreadable or garbage ancestor files are skipped. */

#endif /* MV_PROBE_H */
