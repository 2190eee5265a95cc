#!/usr/bin/env bash
# run.sh — times `memvigil report` on a 7-day recording at 10 s resolution
# (60480 samples, made by gen_week.py) and reports the median of 5 runs and
# the size of the HTML. Targets (issue 5): <= 2 s and <= 5 MB.
#   bench/report/run.sh [path/to/memvigil]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MEMVIGIL=${1:-${MEMVIGIL:-$here/../../build/memvigil}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_week.py" "$tmp/week.jsonl" --days 7 --interval 10
samples=$(grep -c '"type":"sample"' "$tmp/week.jsonl")
# wall time and CPU time (user + sys, from bash's `times` of the child):
# on a busy machine the wall time includes waiting for a CPU
times=() cpus=()
for _ in 1 2 3 4 5; do
    s=$(date +%s.%N)
    cpu=$( { TIMEFORMAT='%U %S'; time "$MEMVIGIL" report -o "$tmp/week.html" "$tmp/week.jsonl"; } 2>&1 )
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc -l)")
    cpus+=("$(echo "$cpu" | tail -1 | awk '{print $1 + $2}')")
done
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
median_cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n 3p)
html=$(stat -c %s "$tmp/week.html")
rec=$(stat -c %s "$tmp/week.jsonl")
printf 'recording: %d samples, %.1f MB\n' "$samples" "$(echo "$rec / 1000000" | bc -l)"
printf 'memvigil report -o week.html week.jsonl: median %.3f s of 5 (runs: %s)\n' "$median" "${times[*]}"
printf 'cpu (user+sys): median %.3f s; load average: %s\n' "$median_cpu" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'html: %d bytes (%.2f MB)\n' "$html" "$(echo "$html / 1000000" | bc -l)"
ok=1
(( $(echo "$median <= 2" | bc -l) )) || { echo "FAIL: over 2 s"; ok=0; }
(( html <= 5000000 )) || { echo "FAIL: over 5 MB"; ok=0; }
[ $ok -eq 1 ] && echo "PASS: within the targets (<= 2 s, <= 5 MB)"
