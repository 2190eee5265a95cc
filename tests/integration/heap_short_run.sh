#!/usr/bin/env bash
# heap_short_run.sh — a run of well under a minute still gets a heap
# trend: with the default 60 s interval the profiler's first snapshots come
# 1, 2, 4, 8 s apart, so `memvigil run --heap` on a 20-second leak ranks its
# call site as growing (one snapshot at exit, as before, gave "no trend").
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || { echo "SKIP: no preload library in this build"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

"$MEMVIGIL" run --heap --heap-dir "$tmp/heap" --listen none --quiet \
    -- "$MV_BUILD/examples/leaky" --seconds 20 --leak-rate 4MiB --cache-cap 1MiB \
    >"$tmp/out" 2>"$tmp/err" || fail "run --heap of a 20 s leak"
n=$(ls "$tmp/heap"/heap-*.pb.gz | wc -l)
# 1, 3, 7 and 15 s, then at exit
[ "$n" -ge 5 ] || fail "$n snapshots in 20 s at the default interval, want 5 or more"
"$MEMVIGIL" heap top "$tmp/heap" >"$tmp/out" 2>"$tmp/err" || fail "heap top"
grep -q "^growing call sites:" "$tmp/out" || fail "no growing call site in a 20 s run"
grep -Eq "^ +1 .*main \(leaky.c:[0-9]+\)" "$tmp/out" || fail "the leak is not ranked first"
echo "PASS: heap_short_run: $n snapshots in 20 s; $(grep -E '^ +1 ' "$tmp/out" | sed 's/^ *//')"
