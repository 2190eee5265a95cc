#!/usr/bin/env bash
# heap_unwind_check.sh — the preload's own stack walker (src/heap/stackwalk.c)
# against libgcc's _Unwind_Backtrace on real programs, sample by sample:
# with MEMVIGIL_HEAP_UNWIND_CHECK=1 every sample is walked both ways and the
# status file counts the walks that differ (unwind_mismatches, must be 0)
# and the samples the walker left to libgcc (unwind_fallbacks). Debian's
# -O2 builds without frame pointers (python3, sqlite3, gcc's cc1) and the
# 64-thread test program, at a small sample interval for many stacks.
# Env: HEAP_LIB (the .so), HEAP_BIN (test programs), HEAP_SRC (this dir).
set -euo pipefail
: "${HEAP_LIB:?}" "${HEAP_BIN:?}" "${HEAP_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
[ "$(uname -m)" = x86_64 ] || { echo "skip: the walker is x86-64 only"; exit 0; }

# check NAME MIN_SAMPLES CMD...: runs CMD under the preload in check mode,
# then checks its status file (the first process's: CMD is exec'd directly).
check() {
  local name=$1 min=$2 d="$tmp/$1"
  shift 2
  timeout 120 env MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_UNWIND_CHECK=1 MEMVIGIL_HEAP_SAMPLE=8192 \
    MEMVIGIL_HEAP_INTERVAL=0 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$@" \
    < "${stdin:-/dev/null}" > /dev/null
  local st n fb mm
  st=$(ls "$d"/status-*.json | head -1) || fail "$name: no status file"
  n=$(json "$st" samples) fb=$(json "$st" unwind_fallbacks) mm=$(json "$st" unwind_mismatches)
  echo "$name: $n samples, $fb walked by libgcc, $mm different"
  [ "$n" -ge "$min" ] || fail "$name: only $n samples"
  [ "$mm" = 0 ] || fail "$name: $mm walks differ from _Unwind_Backtrace"
  # every program here is plain compiled code: the walker answers nearly always
  [ $((fb * 100)) -le "$n" ] || fail "$name: $fb of $n samples fell back"
}

echo "== threads ($SECONDS s)"
check threads 1000 "$HEAP_BIN/heap_threads"

echo "== python3 ($SECONDS s)"
check python3 500 /usr/bin/python3 -c '
import json
d = [{"k%d" % i: [str(j) * 7 for j in range(i % 50)]} for i in range(20000)]
s = json.dumps(d); print(len(json.loads(s)), sorted(str(x) for x in d[:5000])[:1])'

if command -v sqlite3 > /dev/null; then
  echo "== sqlite3 ($SECONDS s)"
  { echo "CREATE TEMP TABLE bench_n(n); INSERT INTO bench_n VALUES(20000);"
    cat "$HEAP_SRC/../../bench/heap/sqlite_1m.sql"; } > "$tmp/sq.sql"
  stdin="$tmp/sq.sql" check sqlite3 500 sqlite3 :memory:
else
  echo "note: sqlite3 not installed, skipping it"
fi

cc1=$(gcc -print-prog-name=cc1 2>/dev/null || true)
if [ -x "$cc1" ]; then
  echo "== cc1 ($SECONDS s)"
  python3 "$HEAP_SRC/../../bench/heap/gen_c.py" 10 > "$tmp/big.c"
  check cc1 500 "$cc1" -quiet -O2 "$tmp/big.c" -o "$tmp/big.s"
else
  echo "note: gcc's cc1 not found, skipping it"
fi
echo "ok ($SECONDS s)"
