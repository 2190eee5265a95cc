#!/usr/bin/env bash
# run_oom_cgroup_v1.sh — a program that the kernel OOM-kills under a cgroup
# v1 memory limit: `memvigil run` must say so plainly ("OOM killer") and exit
# 137. Needs a writable v1 memory hierarchy (root); otherwise prints SKIP and
# exits 0.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
LEAKY="$MV_BUILD/examples/leaky"
ROOT=/sys/fs/cgroup/memory

skip() { echo "SKIP: $*"; exit 0; }
[ -f "$ROOT/memory.limit_in_bytes" ] || skip "no cgroup v1 memory hierarchy at $ROOT"
[ "$(id -u)" -eq 0 ] || skip "not root"
CG="$ROOT/memvigil-test-$$"
mkdir "$CG" 2>/dev/null || skip "cannot create $CG"

tmp=$(mktemp -d)
mv_pid=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; fi
    # kill whatever is left in the cgroup, then remove it
    if [ -f "$CG/cgroup.procs" ]; then
        while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$CG/cgroup.procs"
    fi
    for _ in $(seq 50); do
        rmdir "$CG" 2>/dev/null && break
        sleep 0.1
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

echo 64M >"$CG/memory.limit_in_bytes"
if [ -f "$CG/memory.memsw.limit_in_bytes" ]; then
    echo 64M >"$CG/memory.memsw.limit_in_bytes" || true  # no swap escape
fi
echo 0 >"$CG/memory.oom_control" 2>/dev/null || true      # OOM killer on
grep -q '^oom_kill ' "$CG/memory.oom_control" ||
    skip "this kernel's memory.oom_control has no oom_kill counter"

# The wrapper moves itself into the cgroup, then becomes leaky (same pid).
rc=0
timeout 60 "$MEMVIGIL" run --interval 200ms --listen none --record "$tmp/rec.jsonl" -- \
    sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --until-oom --leak-rate 16MiB --cache-cap 1MiB' \
    wrapper "$CG" "$LEAKY" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 137 ] || fail "memvigil exited $rc, want 137"
grep -q "killed by the kernel OOM killer" "$tmp/err" || fail "no OOM message"
grep -q "oom_kill 0 -> 1" "$tmp/err" || fail "OOM message lacks the oom_kill count"
# the kill is in the recording too (read from the cgroup once the process
# has gone), before target_exit, so a report of it says so
grep -q '"event":"oom_kill".*count 0 -> 1' "$tmp/rec.jsonl" || fail "no oom_kill event in the recording"
"$MEMVIGIL" report "$tmp/rec.jsonl" --format text >"$tmp/report.txt"
grep -Eq "OOM kills +1" "$tmp/report.txt" || fail "report does not count the OOM kill: $(grep 'OOM kills' "$tmp/report.txt")"
echo "PASS: run_oom_cgroup_v1: $(grep 'OOM killer' "$tmp/err")"
