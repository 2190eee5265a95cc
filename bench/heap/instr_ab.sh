#!/usr/bin/env bash
# instr_ab.sh — callgrind instruction counts of the heap profiler's cost,
# side by side in one run: no profiler, library A, library B (e.g. before and
# after a change), on the small inputs of run.sh's --instr: the malloc
# microbenchmark (4 threads x 100k ops), sqlite3 (50k rows), python
# (alloc_heavy.py 3 rounds, PYTHONHASHSEED=0) and gcc (cc1 -O2 on 10
# generated functions). Counts are
# deterministic (all threads and children summed), so one run of each is
# enough; the run takes ~5 min on the benchmark VM.
#
# Usage: bench/heap/instr_ab.sh MALLOCBENCH LIB_A LIB_B [WORKLOAD...]
#   WORKLOAD: micro, sqlite, python, gcc (default micro and sqlite)
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,10p' "$0"; exit 2; }
mb=$1 liba=$2 libb=$3
shift 3
[ $# -gt 0 ] || set -- micro sqlite
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{ echo "CREATE TEMP TABLE bench_n(n); INSERT INTO bench_n VALUES(50000);"
  cat "$src/bench/heap/sqlite_1m.sql"; } > "$work/sqlite-small.sql"
/usr/bin/python3 "$src/bench/heap/gen_c.py" 10 > "$work/gcc-small.c"
cc1=$(gcc -print-prog-name=cc1)

count() { # ARM WORKLOAD: prints the instructions executed
    local arm=$1 wl=$2 pre=() cmd=() stdin=/dev/null
    rm -rf "$work"/cg.* "$work/out"; mkdir -p "$work/out"
    case $arm in
        A) pre=(env LD_PRELOAD="$liba" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$work/out") ;;
        B) pre=(env LD_PRELOAD="$libb" MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$work/out") ;;
    esac
    case $wl in
        micro) cmd=("$mb" -t 4 -n 100000) ;;
        sqlite) cmd=(sqlite3 :memory:); stdin="$work/sqlite-small.sql" ;;
        python) cmd=(env PYTHONHASHSEED=0 /usr/bin/python3 "$src/bench/heap/alloc_heavy.py" 3) ;;
        gcc) cmd=("$cc1" -quiet -O2 "$work/gcc-small.c" -o "$work/gcc.s") ;;
    esac
    nice valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/cg.%p" \
        "${pre[@]}" "${cmd[@]}" < "$stdin" > /dev/null 2> "$work/stderr" || true
    grep -h '^summary:' "$work"/cg.* | awk '{s += $2} END {print s + 0}'
}

printf '| workload | none | A | B |\n|---|---:|---:|---:|\n'
for wl in "$@"; do
    n=$(count none "$wl") a=$(count A "$wl") b=$(count B "$wl")
    awk -v w="$wl" -v n="$n" -v a="$a" -v b="$b" 'BEGIN {
        printf "| %s | %d | %d (%+.2f%%) | %d (%+.2f%%) |\n", w, n, a, (a / n - 1) * 100, b, (b / n - 1) * 100 }'
done
