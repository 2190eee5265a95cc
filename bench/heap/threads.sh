#!/usr/bin/env bash
# bench/heap/threads.sh — what the heap profiler costs thread-heavy programs
# (bench/heap/README.md, "Threads"): threadbench's `hold` (N threads sample,
# then wait: VmRSS) and `churn` (M short-lived threads: wall time), without
# the preload and under each library given, in alternating rounds (the arm
# order reverses every round). Prints per arm the median VmRSS, its excess
# over no preload per thread, the median churn wall time and the median of
# the per-round ratios to no preload.
#
# Usage: bench/heap/threads.sh [-n ROUNDS] [-t HOLD_THREADS] [-c CHURN_THREADS]
#                              [-b THREADBENCH] NAME=LIB...
#   defaults: 5 rounds, 1000 and 10000 threads, build/bench/heap/threadbench
set -euo pipefail
n=5 hold=1000 churn=10000 tb=build/bench/heap/threadbench
while getopts n:t:c:b:h o; do
  case $o in
    n) n=$OPTARG ;; t) hold=$OPTARG ;; c) churn=$OPTARG ;; b) tb=$OPTARG ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "threads.sh: give at least one NAME=LIB" >&2; exit 2; }
arms=("none=" "$@")
dir=$(mktemp -d /tmp/threads-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
raw="$dir/raw"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < n; r++)); do
  for ((j = 0; j < ${#arms[@]}; j++)); do
    a=$j; [ $((r % 2)) = 1 ] && a=$((${#arms[@]} - 1 - j))
    name=${arms[$a]%%=*} lib=${arms[$a]#*=}
    pre=(); [ -n "$lib" ] && pre=(LD_PRELOAD="$lib" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$dir/out-$name")
    rss=$(env ${pre[@]+"${pre[@]}"} "$tb" hold "$hold" | sed -n 's/.*rss_kib=//p')
    wall=$(env ${pre[@]+"${pre[@]}"} "$tb" churn "$churn" | sed -n 's/.*wall_s=//p')
    printf '%s\t%d\t%s\t%s\n' "$name" "$r" "$rss" "$wall" >> "$raw"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $n rounds, hold $hold threads, churn $churn threads"
python3 - "$raw" "$hold" <<'PY'
import statistics as st, sys
from collections import defaultdict
rows = defaultdict(dict)
for line in open(sys.argv[1]):
    a, r, rss, wall = line.split("\t")
    rows[a][int(r)] = (int(rss), float(wall))
hold = int(sys.argv[2])
base = rows["none"]
print("%-8s %12s %16s %11s %11s %10s" % ("arm", "hold VmRSS", "extra/thread", "churn wall", "wall/none", "all walls"))
for a, d in rows.items():
    rss = st.median(v[0] for v in d.values())
    extra = (rss - st.median(v[0] for v in base.values())) / hold
    ratio = st.median(d[r][1] / base[r][1] for r in d)
    walls = " ".join("%.2f" % d[r][1] for r in sorted(d))
    print("%-8s %9.1f MB %12.1f KiB %10.3fs %11.3f   %s" % (a, rss / 1024, extra,
          st.median(v[1] for v in d.values()), ratio, walls))
PY
