/*
 * sample_fields.h — the one table of sample fields. Every output that
 * shows a field of mv_sample (the recording's sample line and its reader,
 * the status JSON, `--json` status lines, `inspect --json`, the report
 * model, the live page) reads this table, so a field has one name
 * everywhere: its key is the mv_sample member's name.
 *
 * MV_SAMPLE_FIELDS(X) expands X(member, type, where, help) once per field:
 *   member  the mv_sample member (and the JSON key, by stringizing it)
 *   type    I64 (int64_t, MV_NA = null), LIM (int64_t limit: MV_NA = null,
 *           MV_UNLIMITED = "max"), I32 (int32_t), INT (int),
 *           DBL (double, NAN = null)
 *   where   REC: also in the recording's sample line; ALL: status JSON
 *           and the fuller outputs only; ALC: as REC, but only in samples
 *           that have allocator figures (alloc_kind != 0), so recordings
 *           of other processes carry no column of nulls
 *   help    one line for docs and --help
 * The PSI pairs, the cgroup path and limit_source are not scalars and are
 * written by hand where they appear.
 *
 * Adding a field: a member in mv_sample (include/memvigil.h), where it is
 * filled (probe), and one line here.
 *
 * Thread-safety: a macro table; no state.
 */
#ifndef MV_SAMPLE_FIELDS_H
#define MV_SAMPLE_FIELDS_H

#define MV_SAMPLE_FIELDS(X)                                                   \
    X(timestamp_ms, I64, REC, "wall clock, ms since the Unix epoch")          \
    X(monotonic_ms, I64, ALL, "CLOCK_MONOTONIC, ms")                          \
    X(pid, I32, ALL, "the target's PID; 0 for a cgroup target")               \
    X(nprocs, I32, ALL, "processes summed (1 + descendants)")                 \
    X(start_time_ticks, I64, ALL, "/proc/PID/stat start time, clock ticks")   \
    X(rss_bytes, I64, REC, "resident set (VmRSS)")                            \
    X(rss_anon_bytes, I64, REC, "resident anonymous memory (RssAnon)")        \
    X(rss_file_bytes, I64, REC, "resident file-backed memory (RssFile)")      \
    X(rss_shmem_bytes, I64, REC, "resident shared memory (RssShmem)")         \
    X(swap_bytes, I64, REC, "swapped-out anonymous memory (VmSwap)")          \
    X(rss_peak_bytes, I64, ALL, "peak resident set of the target (VmHWM)")    \
    X(vm_size_bytes, I64, ALL, "virtual size (VmSize)")                       \
    X(threads, I64, ALL, "threads")                                           \
    X(major_faults, I64, ALL, "major page faults since start (stat majflt)")  \
    X(pss_bytes, I64, ALL, "proportional set size (smaps_rollup Pss)")        \
    X(pss_anon_bytes, I64, ALL, "proportional anonymous memory (Pss_Anon)")   \
    X(pss_file_bytes, I64, ALL, "proportional file-backed memory (Pss_File)") \
    X(pss_shmem_bytes, I64, ALL, "proportional shared memory (Pss_Shmem)")    \
    X(cgroup_version, INT, ALL, "0 none, 1 v1 memory, 2 unified")             \
    X(cg_usage_bytes, I64, REC, "cgroup usage (memory.current)")              \
    X(cg_max_bytes, LIM, ALL, "tightest cgroup memory.max of the chain")      \
    X(cg_high_bytes, LIM, ALL, "tightest cgroup memory.high of the chain")    \
    X(cg_anon_bytes, I64, ALL, "cgroup anonymous memory (memory.stat anon)")  \
    X(cg_file_bytes, I64, ALL, "cgroup page cache (memory.stat file)")        \
    X(cg_inactive_file_bytes, I64, ALL, "cgroup inactive page cache")         \
    X(cg_shmem_bytes, I64, ALL, "cgroup shared memory (memory.stat shmem)")   \
    X(cg_swap_bytes, I64, ALL, "cgroup swap in use")                          \
    X(cg_oom_events, I64, ALL, "cgroup OOM events (memory.events oom)")       \
    X(cg_oom_kill_events, I64, REC, "cgroup OOM kills (memory.events oom_kill)") \
    X(cg_high_events, I64, ALL, "times usage went over memory.high")          \
    X(cg_max_events, I64, ALL, "times usage hit memory.max (v1: failcnt)")    \
    X(mem_total_bytes, I64, ALL, "system memory (MemTotal)")                  \
    X(mem_available_bytes, I64, ALL, "system memory available (MemAvailable)") \
    X(swap_total_bytes, I64, ALL, "system swap (SwapTotal)")                  \
    X(swap_free_bytes, I64, ALL, "system swap free (SwapFree)")               \
    X(working_set_bytes, I64, REC, "cgroup usage less inactive page cache")   \
    X(private_bytes, I64, REC, "anonymous + swap (process, else cgroup)")     \
    X(effective_limit_bytes, LIM, REC, "tightest of cgroup max, high, MemTotal") \
    X(usage_ratio, DBL, REC, "working set (or RSS) / effective limit")      \
    /* allocator statistics (in-process only; allocstats.h) */               \
    X(alloc_kind, INT, ALC, "allocator: 0 none, 1 glibc, 2 jemalloc")         \
    X(alloc_in_use_bytes, I64, ALC, "heap held by the program (allocator in use)") \
    X(alloc_free_bytes, I64, ALC, "held by the allocator but free inside it")  \
    X(alloc_mapped_bytes, I64, ALL, "allocator memory obtained from the kernel") \
    X(alloc_releasable_bytes, I64, ALL, "allocator memory returnable at once") \
    X(alloc_arenas, I64, ALC, "allocator arenas")

#endif
