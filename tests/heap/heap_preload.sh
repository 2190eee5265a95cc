#!/usr/bin/env bash
# heap_preload.sh — runs programs under libmemvigil_heap.so and checks the
# files it writes: pprof snapshots (decoded by pprof_check.py and opened by
# `go tool pprof -top`, which must name the right top function), the status
# file, dormancy, signals, 64 threads, fork with locks held, python3, RSS
# per sampling thread, no files from processes without samples, the keep cap
# across pids, mappings of dlclosed libraries (with their dependencies, by a
# relative name, one nothing unloads, a range reused by a JIT), temp names
# planted by others.
# Env: HEAP_LIB (the .so), HEAP_BIN (test programs), HEAP_SRC (this dir).
set -euo pipefail
: "${HEAP_LIB:?}" "${HEAP_BIN:?}" "${HEAP_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOCACHE="$tmp/gocache" HOME="$tmp/home" GOFLAGS=-mod=mod
mkdir -p "$HOME"
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { python3 "$HEAP_SRC/pprof_check.py" "$@"; }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
top_fn() { # top function by flat inuse_space (first row of -top)
  go tool pprof -top -sample_index="${3:-inuse_space}" "$1" "$2" 2>/dev/null |
    awk '/flat%/ {getline; print $6; exit}'
}
hrun() { local t=$1; shift; timeout "$t" env "$@"; } # timeout outside the preload
have_go=1; command -v go >/dev/null || { echo "note: go not installed, skipping pprof checks"; have_go=0; }

echo "== 1. known sites: exit snapshot, structure, top function, estimates ($SECONDS s)"
d="$tmp/sites"
# 64 KiB mean interval: the estimates' spread is ~3% (at the default 512 KiB
# it is ~10%, too wide for a test that must not flake).
hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=65536 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_sites"
f=$(ls "$d"/heap-*-000001.pb.gz) || fail "no snapshot written at exit"
[ "$(ls "$d" | grep -c '\.tmp$' || true)" = 0 ] || fail "temp file left behind"
out=$(check "$f" --period 65536) || fail "bad profile"
echo "$out"
pid=$(basename "$f" | cut -d- -f2)
st="$d/status-$pid.json"
[ "$(json "$st" enabled)" = True ] || fail "status enabled"
[ "$(json "$st" glibc_malloc)" = True ] || fail "status glibc_malloc"
[ "$(json "$st" last)" = "$(basename "$f")" ] || fail "status last"
[ "$(json "$st" snapshots)" = 1 ] || fail "status snapshots"
python3 - "$out" <<'PY' || fail "estimates out of range"
import json, sys
t = json.loads(sys.argv[1])["totals"]
live = 56 << 20           # leak_big 48 MiB + leak_small 8 MiB stay live
alloc = live + (256 << 20)  # + churn 256 MiB
assert 0.85 * live < t["inuse_space"] < 1.15 * live, t
assert 0.9 * alloc < t["alloc_space"] < 1.1 * alloc, t
assert json.loads(sys.argv[1])["build_ids"] >= 2
PY
if [ $have_go = 1 ]; then
  [ "$(top_fn "$HEAP_BIN/heap_sites" "$f")" = leak_big ] || fail "inuse top is not leak_big"
  [ "$(top_fn "$HEAP_BIN/heap_sites" "$f" alloc_space)" = churn ] || fail "alloc top is not churn"
fi

echo "== 2. dormant by default: no files, no directory ($SECONDS s)"
d="$tmp/dormant"
hrun 60 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_sites"
[ ! -e "$d" ] || fail "dormant library wrote $(ls "$d")"

echo "== 3. signals: SIGRTMIN+9 toggles sampling, SIGRTMIN+8 writes a snapshot ($SECONDS s)"
d="$tmp/signal"
hrun 60 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_sites" signal ||
  fail "signal mode"
n=$(ls "$d"/heap-*.pb.gz | wc -l)
[ "$n" = 2 ] || fail "expected the signal snapshot and the exit one, got $n"
f=$(ls "$d"/heap-*-000001.pb.gz)
check "$f" >/dev/null || fail "bad signal profile"
st=$(ls "$d"/status-*.json)
[ "$(json "$st" enabled)" = False ] || fail "status must show sampling off after the 2nd toggle"
if [ $have_go = 1 ]; then
  [ "$(top_fn "$HEAP_BIN/heap_sites" "$f")" = leak_small ] || fail "signal: top is not leak_small"
  go tool pprof -top "$HEAP_BIN/heap_sites" "$f" 2>/dev/null | grep -q leak_big &&
    fail "leak_big ran while dormant but was sampled"
fi

echo "== 4. MEMVIGIL_HEAP_SIGNALS=0: no handlers (SIGRTMIN+9 keeps its default: terminate) ($SECONDS s)"
d="$tmp/nosig"
rc=0
hrun 60 MEMVIGIL_HEAP_SIGNALS=0 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_sites" signal 2>/dev/null || rc=$?
sigrt9=$(( $(kill -l SIGRTMIN) + 9 ))
[ "$rc" = $((128 + sigrt9)) ] || fail "signals disabled: expected death by signal $sigrt9, rc $rc"

echo "== 5. 64 threads, small interval, every entry point ($SECONDS s)"
d="$tmp/threads"
hrun 120 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=4096 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_threads" | grep -q ok || fail "threads"
st=$(ls "$d"/status-*.json)
[ "$(json "$st" samples)" -gt 10000 ] || fail "threads: too few samples"
check "$(ls "$d"/heap-*.pb.gz | tail -1)" >/dev/null || fail "threads profile"
if [ $have_go = 1 ]; then
  go tool pprof -top "$HEAP_BIN/heap_threads" "$(ls "$d"/heap-*.pb.gz | tail -1)" >/dev/null 2>&1 ||
    fail "pprof cannot open the threads profile"
fi

echo "== 6. fork while threads hold the profiler's locks ($SECONDS s)"
d="$tmp/fork"
hrun 120 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=1024 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_fork" 30 || fail "fork test failed or deadlocked (rc $?)"
pids=$(ls "$d" | sed -n 's/^heap-\([0-9]*\)-.*/\1/p' | sort -u | wc -l)
[ "$pids" -ge 30 ] || fail "expected files from >= 30 pids (children), got $pids"
for f in $(ls "$d"/heap-*.pb.gz | head -5); do check "$f" >/dev/null || fail "fork profile $f"; done

echo "== 7. keep cap, periodic snapshots ($SECONDS s)"
d="$tmp/keep"
hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_INTERVAL=1 MEMVIGIL_HEAP_KEEP=2 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" /usr/bin/python3 -c "import time; x=[bytearray(10**5) for i in range(100)]; time.sleep(3.6)"
n=$(ls "$d"/heap-*.pb.gz | wc -l)
[ "$n" = 2 ] || fail "keep=2 but $n files"
st=$(ls "$d"/status-*.json)
[ "$(json "$st" snapshots)" -ge 4 ] || fail "periodic: expected >= 4 snapshots, got $(json "$st" snapshots)"

echo "== 8. a real program: python3 runs and is profiled ($SECONDS s)"
d="$tmp/py"
hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" /usr/bin/python3 -c "
import json, sqlite3, threading, os, signal, time
keep = [bytearray(200000) for i in range(200)]
db = sqlite3.connect(':memory:'); db.execute('create table t(a,b)')
db.executemany('insert into t values(?,?)', ((i, str(i)*10) for i in range(100000)))
ts = [threading.Thread(target=lambda: [json.dumps(list(range(1000))) for _ in range(200)]) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
os.kill(os.getpid(), signal.SIGRTMIN + 8)
for i in range(500):
    if os.path.isdir('$d') and any(n.endswith('.pb.gz') for n in os.listdir('$d')): break
    time.sleep(0.01)
print(len(keep), db.execute('select count(*) from t').fetchone()[0])
" | grep -q "200 100000" || fail "python3 under the preload"
f=$(ls "$d"/heap-*-000001.pb.gz)
out=$(check "$f") || fail "python profile"
python3 -c "import json,sys; t=json.loads(sys.argv[1])['totals']; assert t['inuse_space'] > 30e6, t" "$out" ||
  fail "python: 40 MB held but not seen"
if [ $have_go = 1 ]; then
  go tool pprof -top /usr/bin/python3 "$f" >/dev/null 2>&1 || fail "pprof cannot open the python profile"
fi

echo "== 9. a program with its own malloc is reported, not profiled ($SECONDS s)"
d="$tmp/ownd"
cat > "$tmp/own.c" <<'C'
#include <stddef.h>
#include <string.h>
static char arena[1 << 24]; static size_t used;
void *malloc(size_t n) { n = (n + 15) & ~(size_t)15; if (used + n > sizeof arena) return NULL;
                         void *p = arena + used; used += n; return p; }
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b) { void *p = malloc(a * b); if (p) memset(p, 0, a * b); return p; }
void *realloc(void *o, size_t n) { void *p = malloc(n); if (p && o) memcpy(p, o, n); return p; }
int main(void) { for (int i = 0; i < 100; i++) { volatile char *p = malloc(50000); p[0] = 1; } return 0; }
C
cc -O0 -o "$tmp/own_malloc" "$tmp/own.c"
hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$tmp/own_malloc"
st=$(ls "$d"/status-*.json)
[ "$(json "$st" glibc_malloc)" = False ] || fail "own malloc: glibc_malloc should be false"
[ "$(json "$st" interposed)" = False ] || fail "own malloc: interposed should be false"

echo "== 10. RSS per sampling thread is bounded ($SECONDS s)"
# 200 threads each take ~16 samples and wait; VmRSS with the preload minus
# VmRSS without, per thread (fixed costs included). libunwind's per-thread
# trace cache made it ~265 KiB; the bound is 64 KiB. Median of 3 pairs.
d="$tmp/rss"
rss_of() { "$@" "$HEAP_BIN/heap_thread_rss" 200 | awk '/^rss_kib/ {print $2}'; }
per=()
for i in 1 2 3; do
  base=$(rss_of hrun 60)
  prof=$(rss_of hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=65536 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB")
  [ -n "$base" ] && [ -n "$prof" ] || fail "heap_thread_rss printed no rss"
  per+=($(( (prof - base) / 200 )))
done
med=$(printf '%s\n' "${per[@]}" | sort -n | sed -n 2p)
echo "extra RSS per thread: ${per[*]} KiB (median $med)"
[ "$med" -lt 64 ] || fail "profiler costs $med KiB of RSS per sampling thread (bound 64)"
st=$(ls "$d"/status-*.json | head -1)
[ "$(json "$st" samples)" -gt 1000 ] || fail "rss: the threads were not sampled"

echo "== 11. no files from processes without samples; keep caps the directory ($SECONDS s)"
d="$tmp/many"
hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" bash -c 'for i in $(seq 50); do /bin/true; done'
n=$({ ls "$d" 2>/dev/null || true; } | wc -l)
echo "bash + 50 x /bin/true: $n files"
# Before: a snapshot and a status file per process (~104). Now only a
# process that happened to take a sample (a few % chance each, at 512 KiB
# for the ~30 KiB bash or seq allocate) writes its two files.
[ "$n" -le 10 ] || fail "processes without samples wrote files: $n in $d"
for st in $(ls "$d"/status-*.json 2>/dev/null || true); do
  [ "$(json "$st" samples)" -ge 1 ] || fail "$st: a process with 0 samples wrote files"
done
d="$tmp/keepdir"
for i in 1 2 3 4 5 6; do
  hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=65536 MEMVIGIL_HEAP_KEEP=3 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" "$HEAP_BIN/heap_sites"
done
snaps=$(ls "$d" | grep -c '^heap-.*\.pb\.gz$' || true)
stats=$(ls "$d" | grep -c '^status-.*\.json$' || true)
pids=$(ls "$d" | sed -n 's/^heap-\([0-9]*\)-.*/\1/p' | sort -u | wc -l)
echo "6 processes, keep=3: $snaps snapshots from $pids pids, $stats status files"
[ "$snaps" = 3 ] || fail "keep=3 per directory, but $snaps snapshots"
[ "$pids" = 3 ] || fail "expected the 3 newest pids' snapshots, got $pids pids"
[ "$stats" = 3 ] || fail "expected status files of the 3 pids kept, got $stats"

echo "== 12. frames of dlclosed libraries keep their mapping ($SECONDS s)"
# The plugin (libheap_plugin.so) depends on libheap_helper.so; both leak,
# both unload at the plugin's dlclose. dl_run NAME ARGS... runs heap_dlclose
# with its exit snapshot in $tmp/NAME and prints pprof_check's summary;
# dl_last NAME prints that snapshot's path.
# dl_files OUT KIND... checks which of the two files the frames map to:
# KIND is +plugin/+helper (must be there, by their real path) or -plugin.
bin_real=$(readlink -f "$HEAP_BIN")
dl_run() {
  local n=$1 d="$tmp/$1"; shift
  hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=65536 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" \
    "$@" || fail "heap_dlclose $* (rc $?)"
  check "$(dl_last "$n")" || fail "bad dlclose profile ($*)"
}
dl_last() { ls "$tmp/$1"/heap-*.pb.gz | tail -1; }
dl_files() {
  python3 - "$bin_real" "$@" <<'PY'
import json, sys
d, j = sys.argv[1], json.loads(sys.argv[2])
for k in sys.argv[3:]:
    want = "%s/libheap_%s.so" % (d, k[1:])
    if (want in j["files"]) != (k[0] == "+"):
        sys.exit("%s %s: files %r" % (k[0] == "+" and "no mapping for" or "still mapped:", want, j["files"]))
PY
}
out=$(dl_run dlclose "$HEAP_BIN/heap_dlclose" "$HEAP_BIN/libheap_plugin.so") || exit 1
dl_files "$out" +plugin +helper || fail "the unloaded plugin's or its dependency's frames lost their mapping"
if [ $have_go = 1 ]; then
  top=$(go tool pprof -top "$(dl_last dlclose)" 2>/dev/null)
  grep -q plugin_leak <<<"$top" || fail "pprof cannot name plugin_leak after dlclose"
  grep -q helper_leak <<<"$top" || fail "pprof cannot name helper_leak (a dependency) after dlclose"
fi
# Opened by a relative name ("./", found through LD_LIBRARY_PATH=. too),
# and the working directory changes before the dlclose: both still map to
# their real paths.
out=$(cd "$HEAP_BIN" && dl_run dlclose_rel LD_LIBRARY_PATH=. ./heap_dlclose --chdir ./libheap_plugin.so) || exit 1
dl_files "$out" +plugin +helper || fail "a plugin opened by a relative name lost its mapping"
if [ $have_go = 1 ]; then
  top=$(go tool pprof -top "$(dl_last dlclose_rel)" 2>/dev/null)
  grep -q plugin_leak <<<"$top" && grep -q helper_leak <<<"$top" || fail "pprof cannot name a relatively opened plugin's functions"
fi
# The helper opened first and kept: the plugin unloads alone; then 200
# dlopen/dlclose pairs of the helper unload nothing and must not push the
# plugin's record out of the ring; the helper's last dlclose records it.
out=$(dl_run dlclose_cycles "$HEAP_BIN/heap_dlclose" --cycles "$HEAP_BIN/libheap_helper.so" "$HEAP_BIN/libheap_plugin.so") || exit 1
dl_files "$out" +plugin +helper || fail "dlcloses that unload nothing evicted a real unload (or the last close was missed)"
# Anonymous executable memory (a JIT) now where the plugin's text was: the
# current mapping wins, the range is no longer the plugin's.
out=$(dl_run dlclose_reuse "$HEAP_BIN/heap_dlclose" --reuse "$HEAP_BIN/libheap_plugin.so") || exit 1
dl_files "$out" -plugin +helper || fail "a range now anonymous executable memory still maps to the unloaded plugin"
python3 -c "import json,sys; assert json.loads(sys.argv[1])['unmapped'] > 0" "$out" || fail "the plugin's frames should be unmapped: $out"

echo "== 13. a FIFO or a symlink planted at a temp file name neither blocks nor redirects the writer ($SECONDS s)"
# The program plants it under its own pid, then execs into heap_sites (same
# pid), at the status file's temp name (the one temp name known in advance):
# a FIFO, which an open for writing would wait on forever, or a symlink to a
# file outside the directory, which a write would follow.
echo keep >"$tmp/outside"
for planted in fifo symlink; do
  d="$tmp/planted-$planted"
  mkdir -p "$d"
  hrun 60 MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_SAMPLE=65536 MEMVIGIL_HEAP_DIR="$d" LD_PRELOAD="$HEAP_LIB" \
    bash -c 'echo $$ >"$1.pid"; t="$1/status-$$.json.tmp"
             if [ "$2" = fifo ]; then mkfifo "$t"; else ln -s "$3" "$t"; fi; exec "$4"' \
    - "$d" "$planted" "$tmp/outside" "$HEAP_BIN/heap_sites" ||
    fail "$planted: the writer blocked or failed (rc $?)"
  pid=$(cat "$d.pid")
  # (mkfifo or ln may have been sampled too and written files of their own)
  f=$(ls "$d"/heap-"$pid"-*.pb.gz | head -n 1) || fail "$planted: no snapshot"
  check "$f" --period 65536 >/dev/null || fail "$planted: bad profile"
  [ "$(json "$d/status-$pid.json" snapshots)" = 1 ] || fail "$planted: no status file"
  [ -L "$d/status-$pid.json" ] && fail "$planted: the status file is the planted symlink"
  [ "$(cat "$tmp/outside")" = keep ] || fail "$planted: the writer followed the planted symlink"
done

echo "PASS"
