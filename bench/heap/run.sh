#!/usr/bin/env bash
# bench/heap/run.sh — the heap profiler benchmark (issue 4 part 4): the same
# workloads under no profiler, memvigil's libmemvigil_heap.so at the default
# rate, jemalloc's and gperftools' heap profilers, heaptrack and valgrind
# massif; wall time, peak RSS and bytes written; medians of interleaved runs.
#
# Usage: bench/heap/run.sh [--quick] [--reps N] [--slow-reps N] [--no-alloc-rows]
#   --quick        fewer runs and smaller inputs (~3 min instead of ~13)
#   --reps N       runs per (workload, tool) for the fast tools (default 5)
#   --slow-reps N  runs for tcmalloc-prof / heaptrack / massif (default 2)
#   --instr        also count instructions with callgrind (deterministic,
#                  immune to a noisy machine) for none vs memvigil on the
#                  small inputs (adds ~5 min)
#   --no-alloc-rows  skip the reference rows "jemalloc"/"tcmalloc" (the
#                  replacement allocator alone, profiler off)
# Env: MV_BUILD (build dir, default build-bench-heap), BENCH_KEEP=1 keeps the
# work directory (raw results in results.tsv).
#
# Method. Fast tools (none, memvigil, jemalloc-prof) run the full inputs;
# gperftools' heap profiler, heaptrack and massif are 10-100x slower (the
# first two record every call; gperftools under a global lock) and run a
# small input (python 1/10, sqlite 1/20, gcc 1/20, microbenchmark 1/120),
# compared with a baseline ("none") on that same reduced input. Runs are
# interleaved: for each repetition every (workload, tool) runs once, the tool
# order rotating, so slow drift of a shared machine hits all tools alike.
# Slowdown = median wall / median baseline wall; +RSS = median peak RSS
# (/usr/bin/time %M, the largest process) minus the baseline's; written =
# median bytes in the tool's output directory after the run.
set -euo pipefail
# Python randomises string hashing per process; a fixed seed makes the python
# workload do the same work in every run (and callgrind's counts repeatable).
export PYTHONHASHSEED=0
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${MV_BUILD:-$src/build-bench-heap}"
reps=5 slow_reps=2 quick=0 alloc_rows=1 instr=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; reps=3; slow_reps=1; alloc_rows=0 ;;
    --reps) reps="$2"; shift ;;
    --slow-reps) slow_reps="$2"; shift ;;
    --no-alloc-rows) alloc_rows=0 ;;
    --instr) instr=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

for t in /usr/bin/time /usr/bin/python3 sqlite3 gcc; do
  command -v "$t" >/dev/null || { echo "run.sh: $t missing; run scripts/install-bench-deps.sh" >&2; exit 1; }
done
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target mallocbench memvigil_heap -j2 >/dev/null
MB="$build/bench/heap/mallocbench"
MVLIB="$build/libmemvigil_heap.so"
LIBDIR=/usr/lib/x86_64-linux-gnu
JEMALLOC="$LIBDIR/libjemalloc.so.2"
TCMALLOC="$LIBDIR/libtcmalloc.so.4"
CC1="$(gcc -print-prog-name=cc1)"

work="$(mktemp -d /tmp/heapbench.XXXXXX)"
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
res="$work/results.tsv"
: > "$res"

# Inputs: "full" for the fast tools, "small" for the slow tools.
if [ "$quick" = 1 ]; then
  mb_n=(6000000 50000) py_r=(15 2) sq_n=(500000 25000) cc_f=(100 5)
else
  mb_n=(12000000 100000) py_r=(30 3) sq_n=(1000000 50000) cc_f=(200 10)
fi
mkinputs() {  # $1 = index (0 full, 1 small), $2 = suffix
  { echo "CREATE TEMP TABLE bench_n(n); INSERT INTO bench_n VALUES(${sq_n[$1]});"
    cat "$src/bench/heap/sqlite_1m.sql"; } > "$work/sqlite-$2.sql"
  /usr/bin/python3 "$src/bench/heap/gen_c.py" "${cc_f[$1]}" > "$work/big-$2.c"
}
mkinputs 0 full
mkinputs 1 small

# wl_cmd WORKLOAD SCALE -> the command, one word per line
wl_cmd() {
  local i=0; [ "$2" = small ] && i=1
  case "$1" in
    micro)  printf '%s\n' "$MB" -t 4 -n "${mb_n[$i]}" ;;
    python) printf '%s\n' /usr/bin/python3 "$src/bench/heap/alloc_heavy.py" "${py_r[$i]}" ;;
    sqlite) printf '%s\n' sqlite3 :memory: ;;   # stdin: the SQL script
    gcc)    printf '%s\n' "$CC1" -quiet -O2 "$work/big-$2.c" -o "$work/out-$$.s" ;;
  esac
}

# run_one WORKLOAD TOOL SCALE REP [CMD...]: one measured run, appended to $res
run_one() {
  local wl="$1" tool="$2" scale="$3" rep="$4"; shift 4
  local -a cmd
  mapfile -t cmd < <(wl_cmd "$wl" "$scale")
  local out="$work/out-$tool"
  rm -rf "$out"; mkdir -p "$out"
  local -a pre=()
  case "$tool" in
    none) ;;
    memvigil) pre=(env LD_PRELOAD="$MVLIB" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$out" "$@") ;;
    jemalloc) pre=(env LD_PRELOAD="$JEMALLOC") ;;
    jemalloc-prof) pre=(env LD_PRELOAD="$JEMALLOC" MALLOC_CONF="prof:true,lg_prof_sample:19,prof_final:true,prof_prefix:$out/jeprof") ;;
    tcmalloc) pre=(env LD_PRELOAD="$TCMALLOC") ;;
    tcmalloc-prof) pre=(env LD_PRELOAD="$TCMALLOC" HEAPPROFILE="$out/hp") ;;
    heaptrack) pre=(heaptrack -o "$out/ht") ;;
    massif) pre=(valgrind -q --tool=massif --massif-out-file="$out/massif.out") ;;
  esac
  local stdin=/dev/null
  [ "$wl" = sqlite ] && stdin="$work/sqlite-$scale.sql"
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f %M -o "$work/rss" "${pre[@]}" "${cmd[@]}" < "$stdin" > "$work/stdout" 2> "$work/stderr" || rc=$?
  t1=$(date +%s%N)
  if [ "$rc" != 0 ]; then
    echo "run.sh: $wl/$tool/$scale failed (exit $rc):" >&2; tail -3 "$work/stderr" >&2
    return 0
  fi
  local bytes
  bytes=$(du -sb "$out" | cut -f1); bytes=$((bytes - $(stat -c %s "$out")))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$tool" "$scale" "$rep" \
    "$(( (t1 - t0) / 1000000 ))" "$(tail -1 "$work/rss")" "$bytes" >> "$res"
}

have() { [ -e "$1" ] || command -v "$1" >/dev/null 2>&1; }
fast=(none memvigil)
have "$JEMALLOC" && { [ "$alloc_rows" = 1 ] && fast+=(jemalloc); fast+=(jemalloc-prof); }
slow=(none)
have "$TCMALLOC" && { [ "$alloc_rows" = 1 ] && fast+=(tcmalloc); slow+=(tcmalloc-prof); }
have heaptrack && slow+=(heaptrack)
have valgrind && slow+=(massif)
workloads=(micro python sqlite gcc)

echo "heapbench: fast tools x${reps}: ${fast[*]}; slow tools x${slow_reps} on small inputs: ${slow[*]}" >&2
start=$(date +%s)
for ((r = 0; r < reps; r++)); do
  for wl in "${workloads[@]}"; do
    n=${#fast[@]}
    for ((k = 0; k < n; k++)); do run_one "$wl" "${fast[$(((k + r) % n))]}" full "$r"; done
  done
  echo "heapbench: fast rep $((r + 1))/$reps done ($(( $(date +%s) - start )) s)" >&2
done
for ((r = 0; r < slow_reps; r++)); do
  for wl in "${workloads[@]}"; do
    n=${#slow[@]}
    for ((k = 0; k < n; k++)); do run_one "$wl" "${slow[$(((k + r) % n))]}" small "$r"; done
  done
  echo "heapbench: slow rep $((r + 1))/$slow_reps done ($(( $(date +%s) - start )) s)" >&2
done

# Output bounded by snapshots kept, not by run length: the microbenchmark at
# 2x and 6x its length with a snapshot every second and at most 3 kept, next
# to heaptrack (small input, 2x and 6x), whose output grows with the run.
mb_full=${mb_n[0]} mb_small=${mb_n[1]}
[ "$reps" = 0 ] && [ "$slow_reps" = 0 ] || for f in 2 6; do
  mb_n[0]=$((mb_full * f)) mb_n[1]=$((mb_small * f))
  run_one micro memvigil full "len$f" MEMVIGIL_HEAP_INTERVAL=1 MEMVIGIL_HEAP_KEEP=3
  have heaptrack && run_one micro heaptrack small "len$f"
done
mb_n[0]=$mb_full mb_n[1]=$mb_small
# Instructions (callgrind, all threads and children): the repeatable cost.
if [ "$instr" = 1 ] && have valgrind; then
  for wl in "${workloads[@]}"; do
    for tool in none memvigil; do
      mapfile -t cmd < <(wl_cmd "$wl" small)
      out="$work/out-$tool"; rm -rf "$out" "$work"/cg.*; mkdir -p "$out"
      pre=(); [ "$tool" = memvigil ] && pre=(env LD_PRELOAD="$MVLIB" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$out")
      stdin=/dev/null; [ "$wl" = sqlite ] && stdin="$work/sqlite-small.sql"
      valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/cg.%p" \
        "${pre[@]}" "${cmd[@]}" < "$stdin" > /dev/null 2> "$work/stderr" || true
      n=$(grep -h '^summary:' "$work"/cg.* | awk '{s += $2} END {print s + 0}')
      printf '%s\t%s\tsmall\tinstr\t0\t0\t%s\n' "$wl" "$tool" "$n" >> "$res"
    done
  done
fi
echo "heapbench: all runs done in $(( $(date +%s) - start )) s" >&2

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo "versions: glibc $(ldd --version | head -1 | awk '{print $NF}'), gcc $(gcc -dumpversion), python $(/usr/bin/python3 -c 'import platform; print(platform.python_version())'), sqlite $(sqlite3 --version | cut -d' ' -f1), heaptrack $(dpkg-query -W -f='${Version}' heaptrack 2>/dev/null || echo -), valgrind $(dpkg-query -W -f='${Version}' valgrind 2>/dev/null || echo -), jemalloc $(dpkg-query -W -f='${Version}' libjemalloc2 2>/dev/null || echo -), gperftools $(dpkg-query -W -f='${Version}' libgoogle-perftools4 2>/dev/null || echo -)"
echo "inputs: micro 4 threads x ${mb_n[0]} ops (small: ${mb_n[1]}); python alloc_heavy.py ${py_r[0]} rounds (${py_r[1]}); sqlite ${sq_n[0]} rows (${sq_n[1]}); gcc: cc1 -O2 on ${cc_f[0]} generated functions, $(stat -c %s "$work/big-full.c") B (${cc_f[1]})"
echo "runs: fast tools $reps each, tcmalloc-prof/heaptrack/massif $slow_reps each on the small inputs; interleaved; medians"
echo
/usr/bin/python3 "$src/bench/heap/table.py" "$res"
