#!/usr/bin/env bash
# heap_summary_bound.sh — the heap trend reader (`heap top DIR`, and the
# end-of-run summary of `run --heap`, which share heapdir.c) reads at most
# CLI_HEAPDIR_MAX_READ (24) snapshots a pass, spread over the run, and still
# ranks the leak. A real leaky process under the preload is asked for a
# snapshot ~60 times (SIGRTMIN+8); `heap top DIR --json` must report 24
# snapshots read and the rest skipped, and name leaky's leak as growing.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
lib="$MV_BUILD/libmemvigil_heap.so"
[ -e "$lib" ] || { echo "SKIP: no preload library in this build"; exit 0; }
command -v jq >/dev/null || { echo "FAIL: jq is needed" >&2; exit 1; }
tmp=$(mktemp -d)
leaky_pid=
trap '[ -n "$leaky_pid" ] && kill "$leaky_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

LD_PRELOAD="$lib" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$tmp/heap" MEMVIGIL_HEAP_INTERVAL=0 \
    "$MV_BUILD/examples/leaky" --seconds 30 --leak-rate 16MiB --cache-cap 1MiB >/dev/null 2>&1 &
leaky_pid=$!
sleep 0.5
for _ in $(seq 60); do
    kill -s RTMIN+8 "$leaky_pid" 2>/dev/null || fail "leaky exited early"
    sleep 0.05
done
sleep 0.5
kill "$leaky_pid" 2>/dev/null || true
wait "$leaky_pid" 2>/dev/null || true
leaky_pid=
files=$(ls "$tmp/heap"/heap-*.pb.gz | wc -l)
[ "$files" -ge 40 ] || fail "only $files snapshots from 60 requests"

"$MEMVIGIL" heap top "$tmp/heap" --json >"$tmp/out" 2>"$tmp/err" || fail "heap top --json"
read_n=$(jq '.snapshots' "$tmp/out")
skipped=$(jq '.snapshots_unread' "$tmp/out")
[ "$read_n" -eq 24 ] || fail "read $read_n of $files snapshots, want 24"
[ "$((read_n + skipped))" -eq "$files" ] || fail "read $read_n + skipped $skipped != $files files"
jq -e '.growing[0].site | test("^main \\(leaky.c:[0-9]+\\)")' "$tmp/out" >/dev/null ||
    fail "leaky's leak is not the first growing site"
"$MEMVIGIL" heap top "$tmp/heap" >"$tmp/out" 2>"$tmp/err" || fail "heap top"
grep -q "^($skipped more snapshots not read: at most 24 a pass" "$tmp/out" ||
    fail "the text output does not say how many snapshots were left unread"
echo "PASS: heap_summary_bound: read 24 of $files snapshots ($skipped skipped), leak ranked first"
