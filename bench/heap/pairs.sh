#!/usr/bin/env bash
# bench/heap/pairs.sh — many alternating runs of one command under two or
# more "arms" (environment prefixes), to resolve a few-percent difference in
# wall and CPU time on a shared, noisy machine (bench/heap/README.md, "Wall
# time, paired"). run.sh compares many tools with few runs; this compares
# few arms with many runs.
#
# Usage: bench/heap/pairs.sh [-n PAIRS] [-i STDIN] -a NAME=PREFIX [-a ...] -- CMD...
#   -n PAIRS   rounds (default 10); each round runs every arm once, the arm
#              order alternating (ABAB.. then BABA..) so drift hits both
#   -a N=P     an arm: NAME and an `env` prefix, e.g. 'none=' or
#              'mv=LD_PRELOAD=/path/libmemvigil_heap.so MEMVIGIL_HEAP=1'
#              (words split on spaces; the first arm is the baseline)
#   -i FILE    stdin for every run (default /dev/null)
# Prints one line per arm: median wall, median user+sys, median sys, minor
# faults, the median over rounds of the ratio to the baseline arm in the
# same round (wall and user+sys), and the fastest run with its ratio to the
# baseline's fastest, then the load average before/after.
# Raw rows (arm, round, wall_s, user_s, sys_s, minflt, maxrss_kib) go to
# $PAIRS_RAW if set.
set -euo pipefail
n=10 stdin=/dev/null
names=() prefixes=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    -i) stdin="$2"; shift 2 ;;
    -a) names+=("${2%%=*}"); prefixes+=("${2#*=}"); shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "pairs.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] && [ ${#names[@]} -ge 2 ] || { echo "pairs.sh: need two arms and a command (see --help)" >&2; exit 2; }
raw="${PAIRS_RAW:-$(mktemp /tmp/pairs.XXXXXX)}"
: > "$raw"
tf="$(mktemp /tmp/pairs-time.XXXXXX)"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
k=${#names[@]}
for ((r = 0; r < n; r++)); do
  for ((j = 0; j < k; j++)); do
    a=$j; [ $((r % 2)) = 1 ] && a=$((k - 1 - j))
    read -r -a pre <<< "${prefixes[$a]}"
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %R %M' -o "$tf" env ${pre[@]+"${pre[@]}"} "$@" < "$stdin" > /dev/null 2>&1 ||
      { echo "pairs.sh: ${names[$a]} failed" >&2; exit 1; }
    t1=$(date +%s%N)
    read -r u s flt rss < <(tail -1 "$tf")
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "${names[$a]}" "$r" \
      "$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.4f", d / 1e9}')" "$u" "$s" "$flt" "$rss" >> "$raw"
  done
done
rm -f "$tf"
echo "load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg); $n rounds"
python3 - "$raw" "${names[@]}" <<'EOF'
import statistics as st, sys
from collections import defaultdict
raw, names = sys.argv[1], sys.argv[2:]
rows = defaultdict(dict)
for line in open(raw):
    a, r, w, u, s, f, m = line.split("\t")
    rows[a][int(r)] = (float(w), float(u) + float(s), float(s), int(f), int(m))
base = rows[names[0]]
med = lambda v: st.median(v)
# best = the fastest run of the arm: on a shared machine noise only ever
# adds time, so the minimum is the least disturbed estimate of what the
# command itself costs; best/base is the ratio of the two minima
print("%-10s %9s %9s %7s %8s %8s %9s %9s %8s %9s" % ("arm", "wall", "user+sys", "sys", "minflt", "maxrss",
                                                    "wall/base", "cpu/base", "best", "best/base"))
best0 = min(v[0] for v in base.values())
for a in names:
    d = rows[a]
    rw = [d[r][0] / base[r][0] for r in d if r in base]
    rc = [d[r][1] / base[r][1] for r in d if r in base and base[r][1] > 0]
    best = min(v[0] for v in d.values())
    print("%-10s %8.3fs %8.3fs %6.3fs %8d %6.1fMi %9.4f %9.4f %7.3fs %9.4f" % (
        a, med([v[0] for v in d.values()]), med([v[1] for v in d.values()]),
        med([v[2] for v in d.values()]), med([v[3] for v in d.values()]),
        med([v[4] for v in d.values()]) / 1024, med(rw), med(rc), best, best / best0))
EOF
