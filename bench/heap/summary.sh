#!/usr/bin/env bash
# summary.sh — what reading a heap snapshot directory costs the agent: peak
# RSS and wall time of `memvigil heap top DIR` (the same reader, heapdir.c,
# as the end-of-run summary of `memvigil run --heap` and as a switch of the
# followed pid), for one or more memvigil binaries side by side, on one
# fixed directory: examples/leaky (16 MiB/s) under the preload, asked for a
# snapshot every 0.1 s for 12 s (~100 snapshots, MEMVIGIL_HEAP_KEEP=100).
#
# Usage: bench/heap/summary.sh [-n REPS] BUILD_DIR MEMVIGIL [MEMVIGIL...]
#   BUILD_DIR  the build with libmemvigil_heap.so and examples/leaky
#   MEMVIGIL   binaries to compare (e.g. before and after a change)
# Prints, per binary: snapshots read, median wall, median peak RSS
# (/usr/bin/time %M, KiB), over REPS runs (default 5), alternating.
set -euo pipefail
reps=5
[ "${1:-}" = -n ] && { reps=$2; shift 2; }
[ $# -ge 2 ] || { sed -n '2,13p' "$0"; exit 2; }
build=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
LD_PRELOAD="$build/libmemvigil_heap.so" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$work/heap" \
    MEMVIGIL_HEAP_INTERVAL=0 MEMVIGIL_HEAP_KEEP=100 \
    "$build/examples/leaky" --seconds 60 --leak-rate 16MiB --cache-cap 1MiB >/dev/null 2>&1 &
pid=$!
sleep 0.5
for _ in $(seq 120); do kill -s RTMIN+8 "$pid"; sleep 0.1; done
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "directory: $(ls "$work/heap"/heap-*.pb.gz | wc -l) snapshots, $(du -sk "$work/heap" | cut -f1) KiB"
for r in $(seq "$reps"); do
    for bin in "$@"; do
        /usr/bin/time -f "%e %M" -o "$work/t" "$bin" heap top "$work/heap" --json >"$work/out" 2>/dev/null
        echo "$bin $(jq .snapshots "$work/out") $(cat "$work/t")" >>"$work/rows"
    done
done
printf '| memvigil | snapshots read | wall (median) | peak RSS (median) |\n|---|---:|---:|---:|\n'
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for bin in "$@"; do
    grep "^$bin " "$work/rows" >"$work/r" || true
    n=$(awk '{ print $2 }' "$work/r" | median)
    w=$(awk '{ print $3 }' "$work/r" | median)
    m=$(awk '{ print $4 }' "$work/r" | median)
    awk -v b="$bin" -v n="$n" -v w="$w" -v m="$m" 'BEGIN { printf "| %s | %d | %.2f s | %.1f MiB |\n", b, n, w, m / 1024 }'
done
