#!/usr/bin/env bash
# heap_children.sh — forked children that leave without exit handlers still
# leave a heap snapshot, and they do not take over the parent's trend.
# Under `memvigil run --heap`, tests/heap/heap_leave (a parent leaking in
# parent_leak while two threads churn malloc/free) forks one child that
# keeps 16 MiB from child_exit_alloc and calls _exit(0), one that keeps
# 16 MiB from child_exec_alloc and execs /bin/true, one whose SIGALRM handler
# calls _exit while it churns malloc (the handler may interrupt malloc: no
# hang), and a vfork child that execs — 23.5 s in, once the parent's leak is
# ranked as growing. Each of the first two leaves heap-<its pid>-*.pb.gz
# naming its function with ~16 MiB live. The parent's trend is unaffected:
# once its growing site is in the metrics, every later scrape still has it
# and none shows a child's site (following the newest snapshot's pid, the
# run switched to a child's one-snapshot trend and dropped the parent's
# sites until its next snapshot), and the summary ranks parent_leak.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || { echo "SKIP: no preload library in this build"; exit 0; }
prog="$MV_BUILD/tests/heap/heap_leave"
[ -x "$prog" ] || { echo "FAIL: $prog not built" >&2; exit 1; }
tmp=$(mktemp -d)
run_pid=
trap '[ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# 30 s with snapshots at 1, 3, 7, 11, 15, 19, 23, 27 s and at exit
# (--heap-interval 4): the parent's leak is ranked growing from the 23 s
# one on, and the children leave 23.5 s in, 3.5 s before the parent's next.
MEMVIGIL_HEAP_SAMPLE=65536 timeout 120 "$MEMVIGIL" run --heap --heap-dir "$tmp/heap" --heap-interval 4 --interval 200ms \
    --listen 127.0.0.1:0 --quiet -- "$prog" "$tmp/pids" 30 16 23.5 >"$tmp/out" 2>"$tmp/err" &
run_pid=$!
url=$(endpoint_url)
# Scrape the heap site metrics while the run lasts, one line per scrape:
# how many series name parent_leak, how many a child's function.
: >"$tmp/metrics"
while kill -0 "$run_pid" 2>/dev/null; do
    if curl -sf "$url/metrics" >"$tmp/scrape" 2>/dev/null; then
        echo "$(grep -c '^memvigil_heap_site_inuse_bytes{.*parent_leak' "$tmp/scrape") $(grep -c '^memvigil_heap_site_.*child_[a-z]*_alloc' "$tmp/scrape")" >>"$tmp/metrics"
    fi
    sleep 0.25
done
wait "$run_pid" || fail "run --heap of heap_leave (rc $?)"
run_pid=

read -r _ exit_pid < <(grep '^exit ' "$tmp/pids") || fail "no pid file"
read -r _ exec_pid < <(grep '^exec ' "$tmp/pids")
read -r _ signal_pid < <(grep '^signal ' "$tmp/pids")

# child_live PID FUNCTION: the bytes live under FUNCTION in PID's last snapshot.
child_live() {
    local f
    f=$(ls "$tmp/heap"/heap-"$1"-*.pb.gz 2>/dev/null | tail -n 1)
    [ -n "$f" ] || fail "pid $1 left no snapshot (ls: $(ls "$tmp/heap" | tr '\n' ' '))"
    "$MEMVIGIL" heap folded "$f" 2>>"$tmp/err" |
        awk -v fn="$2" '{ n = split($1, fr, ";"); for (i = 1; i <= n; i++) if (fr[i] == fn) { s += $2; break } }
                        END { print s + 0 }'
}
mib=$((1024 * 1024))
for c in "exit:$exit_pid:child_exit_alloc" "exec:$exec_pid:child_exec_alloc"; do
    IFS=: read -r how pid fn <<<"$c"
    live=$(child_live "$pid" "$fn")
    # 16 MiB kept in 256 blocks of 64 KiB, sampled every 64 KiB on average
    # (MEMVIGIL_HEAP_SAMPLE above): ~160 samples, 5% standard error
    [ "$live" -ge $((12 * mib)) ] && [ "$live" -le $((20 * mib)) ] ||
        fail "the $how child ($pid): $live bytes live in $fn, want 12-20 MiB"
    "$MEMVIGIL" heap top "$tmp/heap" --pid "$pid" >"$tmp/out.top" 2>>"$tmp/err" ||
        fail "heap top --pid $pid"
    grep -q "$fn" "$tmp/out.top" || fail "heap top --pid $pid does not name $fn"
done
# The signal child may skip its snapshot (the handler interrupted the
# profiler) but must not hang: heap_leave waited for it with status 0.
signal_note="the signal child $( [ -n "$(ls "$tmp/heap"/heap-"$signal_pid"-*.pb.gz 2>/dev/null)" ] && echo "left a snapshot" || echo "skipped its snapshot")"

# The parent's trend: its metrics never named a child's site, its summary
# follows it and ranks its own leak.
awk '$1 > 0 { seen = 1 } seen && $1 == 0 { gap++ } $2 > 0 { child++ }
     END { exit !(seen && !gap && !child) }' "$tmp/metrics" ||
    fail "the parent's site in the metrics, per scrape (parent child): $(tr '\n' ',' <"$tmp/metrics")"
scrapes=$(awk '$1 > 0' "$tmp/metrics" | wc -l)
parent_snaps=$(ls "$tmp/heap" | grep -vc -e "-$exit_pid-" -e "-$exec_pid-" -e "-$signal_pid-" -e '^status' || true)
grep -Eq "^pid [0-9]+: $parent_snaps snapshots" "$tmp/out" || fail "the summary does not follow the parent ($parent_snaps snapshots)"
grep -q "^growing call sites:" "$tmp/out" || fail "no growing call site in the parent's summary"
grep -Eq "^ +1 .*parent_leak \(heap_leave.c:[0-9]+\)" "$tmp/out" || fail "parent_leak is not ranked first"
echo "PASS: heap_children: _exit child $(( $(child_live "$exit_pid" child_exit_alloc) / mib )) MiB in child_exit_alloc, exec child $(( $(child_live "$exec_pid" child_exec_alloc) / mib )) MiB in child_exec_alloc; $signal_note; parent trend over $parent_snaps snapshots ranks parent_leak, in $scrapes scrapes in a row"
