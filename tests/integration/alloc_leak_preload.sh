#!/usr/bin/env bash
# alloc_leak_preload.sh — a real leak under the heap preload is still a leak,
# and fragmentation through the same pipeline is still fragmentation
# (issue 17):
#  - live: examples/leaky (a steady leak) and frag_prog.c (8 arenas, 15/16
#    of 256 MiB freed, no embedded monitor) each run 30 s under
#    `memvigil run --heap --alloc-window 3s`: the preload's allocator figures
#    reach the samples; the fragmenting program gets a `fragmentation` event
#    and memvigil_alloc_diagnosis says fragmentation — or retention when a
#    status file was written during its short peak (the agent then saw the
#    peak being freed; both are the allocator's memory) — the leak neither
#    (its live heap grows with private memory);
#  - replayed: the leak verdict needs a rise the leak patience old (19 h)
#    in a process 2 h old, so each recording is time-scaled to span 30 h
#    (every line's timestamp_ms stretched from the header's start_ms; the
#    real run is 30 s, so each second stands for an hour) and judged by
#    `analyze` with the allocator window scaled alike: the leak is `leak`
#    (exit 3), not the allocator's, no fragmentation or retention; the
#    fragmenting program is fragmentation (or retention, as live), exit 0;
#  - under Debian's libjemalloc2 (LD_PRELOAD after the heap preload, which
#    forwards with RTLD_NEXT) the preload's status file has jemalloc's
#    figures read through mallctl, and the recording carries them.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"
skip() { echo "SKIP: $*"; exit 0; }
command -v jq >/dev/null || skip "jq not installed"
command -v curl >/dev/null || skip "curl not installed"
command -v cc >/dev/null || skip "no C compiler"
[ -e "$MV_BUILD/libmemvigil.a" ] || skip "libmemvigil.a not built"
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || skip "the heap preload is not built"
[ -x "$MV_BUILD/examples/leaky" ] || skip "examples/leaky not built"
: >"$tmp/out"; : >"$tmp/err"
cc -O1 -I "$MV_SOURCE/include" -o "$tmp/frag_prog" \
   "$MV_SOURCE/tests/integration/frag_prog.c" "$MV_BUILD/libmemvigil.a" \
   $(static_lib_deps) || fail "cannot build frag_prog.c"

SECS=30
SPAN_MS=$((30 * 3600 * 1000))   # the scaled recordings span 30 h
LIMIT=512M                      # the budget the leak is judged against

# run_heap NAME CMD...: CMD under run --heap for about SECS s, recorded in
# $tmp/NAME.jsonl, its endpoint's stderr in $tmp/NAME.err
run_heap() {
    local name=$1; shift
    "$MEMVIGIL" run --heap --heap-dir "$tmp/heap-$name" --heap-interval 1s \
        --interval 200ms --alloc-window 3s --listen 127.0.0.1:0 --quiet \
        --record "$tmp/$name.jsonl" -- "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
}
# diagnosis URL: the allocator diagnosis /metrics says is in force
diagnosis() {
    curl -sf "$1/metrics" | sed -n 's/^memvigil_alloc_diagnosis{diagnosis="\([a-z]*\)"} 1$/\1/p'
}

# ---- live: the two programs side by side ----
run_heap leak "$MV_BUILD/examples/leaky" --seconds "$SECS" --leak-rate 4000000 --cache-cap 64K &
pids+=($!); leak_pid=$!
run_heap frag "$tmp/frag_prog" after "$SECS" - &
pids+=($!); frag_pid=$!
leak_url=$(endpoint_url "$tmp/leak.err")
frag_url=$(endpoint_url "$tmp/frag.err")
# the fragmenting program's live diagnosis (3 s window, 1 s status file);
# the leak has been running as long meanwhile, its live heap growing
t0=$SECONDS
frag_live=
for _ in $(seq 150); do   # ~20 s at most: the runs last 30 s
    frag_live=$(diagnosis "$frag_url" || true)
    case $frag_live in fragmentation|retention) break ;; esac
    sleep 0.1
done
case $frag_live in
    fragmentation|retention) ;;
    *) fail "frag_prog under run --heap: live diagnosis '$frag_live' after $((SECONDS - t0)) s" ;;
esac
sleep 2   # the leak's own 3 s window has passed too, with readings in it
curl -sf "$leak_url/metrics" >"$tmp/leak.metrics" ||
    fail "cannot scrape the leak's /metrics after $((SECONDS - t0)) s"
leak_live=$(sed -n 's/^memvigil_alloc_diagnosis{diagnosis="\([a-z]*\)"} 1$/\1/p' "$tmp/leak.metrics")
wait "$leak_pid" || fail "run --heap leaky exited $?"
wait "$frag_pid" || fail "run --heap frag_prog exited $?"
pids=()
echo "live diagnosis: leak '$leak_live', frag_prog '$frag_live'"
jq -e -s '[.[] | select(.type == "event" and .event == "fragmentation")] | length >= 1 and
          (.[0].message | test("^(fragmentation|retention): .*glibc heap in use.*free in [0-9]+ arenas"))' \
   "$tmp/frag.jsonl" >/dev/null || fail "frag_prog: no fragmentation event in its recording"
[ "$leak_live" = none ] || fail "leaky under run --heap: live diagnosis '$leak_live'"
grep -q '^memvigil_alloc_in_use_bytes{allocator="glibc"} [1-9]' "$tmp/leak.metrics" ||
    fail "the leak's /metrics has no allocator figures: $(grep alloc "$tmp/leak.metrics")"
! grep -q '"event":"fragmentation"' "$tmp/leak.jsonl" ||
    fail "a leak under the preload got a fragmentation event: $(grep '"fragmentation"' "$tmp/leak.jsonl")"
# the preload's figures follow the leak: the live heap grows with private
# memory (the exiting target's sample left out, as below)
jq -e -s '[.[] | select(.type == "sample" and .alloc_kind == 1 and .rss_bytes != null)] as $s | ($s | length) > 10 and
          ($s[-1].alloc_in_use_bytes - $s[0].alloc_in_use_bytes) > 0.8 * ($s[-1].private_bytes - $s[0].private_bytes) and
          ($s[-1].private_bytes - $s[0].private_bytes) > 60000000' \
   "$tmp/leak.jsonl" >/dev/null || fail "the preload's allocator figures do not follow the leak"

# ---- replayed, time-scaled to 30 h ----
# scale IN OUT: every timestamp_ms (and the header's interval_ms) stretched
# from start_ms so that the last sample is SPAN_MS after it; prints the
# factor. (The exiting target, a zombie for a moment, is not sampled: the
# probe reads it as gone, so no last sample falls back to the cgroup's
# anon memory beside the preload's last reading.)
scale() {
    local s0 k
    s0=$(jq -n 'first(inputs | select(.type == "header") | .start_ms)' "$1") &&
    k=$(jq -n --argjson s0 "$s0" --argjson span "$SPAN_MS" '
           $span / ([inputs | select(.type == "sample") | .timestamp_ms] | max - $s0)' "$1") ||
        fail "cannot read $1"
    jq -c --argjson k "$k" --argjson s0 "$s0" '
        if .type == "header" then .interval_ms = (.interval_ms * $k | round)
        elif .timestamp_ms != null then .timestamp_ms = ($s0 + (.timestamp_ms - $s0) * $k | round)
        else . end' "$1" >"$2" || fail "cannot scale $1"
    echo "$k"
}
k_leak=$(scale "$tmp/leak.jsonl" "$tmp/leak30h.jsonl")
k_frag=$(scale "$tmp/frag.jsonl" "$tmp/frag30h.jsonl")
# the live runs' 3 s allocator window, scaled alike
win() { awk -v k="$1" 'BEGIN { printf "%ds", 3 * k + 0.5 }'; }

rc=0
"$MEMVIGIL" analyze --json --limit "$LIMIT" --alloc-window "$(win "$k_leak")" \
    "$tmp/leak30h.jsonl" >"$tmp/out" 2>"$tmp/err" || rc=$?
echo "leak, scaled x$k_leak: $(jq -c '{verdict, exit: '"$rc"', detected_at_s, leak_is_allocator, allocator_diagnosis, allocator_evidence}' "$tmp/out")"
[ "$rc" -eq 3 ] || fail "analyze of the scaled leak exited $rc, not 3 (leak)"
jq -e '.verdict == "leak" and .leak_is_allocator == false and
       .allocator_diagnosis == "none" and
       (.allocator_evidence | test("^no allocator excess over the last"))' "$tmp/out" >/dev/null ||
    fail "the leak under the preload is not a plain leak"
"$MEMVIGIL" analyze --limit "$LIMIT" --alloc-window "$(win "$k_leak")" \
    "$tmp/leak30h.jsonl" >"$tmp/out" 2>"$tmp/err" || true
! grep -Eqi 'fragmentation|retention' "$tmp/out" || fail "analyze's text speaks of the allocator for a leak"

rc=0
"$MEMVIGIL" analyze --json --limit "$LIMIT" --alloc-window "$(win "$k_frag")" \
    "$tmp/frag30h.jsonl" >"$tmp/out" 2>"$tmp/err" || rc=$?
echo "frag_prog, scaled x$k_frag: $(jq -c '{verdict, exit: '"$rc"', leak_is_allocator, allocator_diagnosis}' "$tmp/out")"
[ "$rc" -eq 0 ] || fail "analyze of the scaled fragmenting program exited $rc, not 0"
jq -e '.verdict != "leak" and (.allocator_diagnosis | test("^(fragmentation|retention)$")) and
       (.allocator_evidence | test("free in [0-9]+ arenas")) and
       (.allocator_advice | test("MALLOC_ARENA_MAX=2") and test("malloc_trim\\(0\\)"))' \
   "$tmp/out" >/dev/null || fail "the fragmenting program under the preload is not the allocator's"

# ---- jemalloc under the preload: figures through mallctl ----
je=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
if [ -z "$je" ]; then
    echo "note: libjemalloc2 not installed, jemalloc part skipped"
    echo "ok"
    exit 0
fi
LD_PRELOAD="$je" "$MEMVIGIL" run --heap --heap-dir "$tmp/heap-je" --heap-interval 1s \
    --interval 200ms --listen none --quiet --record "$tmp/je.jsonl" -- \
    "$MV_BUILD/examples/leaky" --seconds 5 --leak-rate 4000000 --cache-cap 64K \
    >"$tmp/out" 2>"$tmp/err" || fail "run --heap under jemalloc exited $?"
status=$(ls "$tmp"/heap-je/status-*.json 2>/dev/null | head -n 1 || true)
[ -n "$status" ] || fail "no status file from the preload under jemalloc"
jq -e '.glibc_malloc == false and .alloc.kind == "jemalloc" and
       .alloc.in_use_bytes > 10000000 and .alloc.arenas >= 1 and
       .alloc.mapped_bytes >= .alloc.in_use_bytes' "$status" >/dev/null ||
    fail "the preload's status file has no jemalloc figures: $(cat "$status")"
jq -e -s '[.[] | select(.type == "sample" and .alloc_kind != null)] as $s | ($s | length) >= 3 and
          ($s | all(.alloc_kind == 2 and .alloc_arenas >= 1)) and
          ($s[-1].alloc_in_use_bytes - $s[0].alloc_in_use_bytes) > 8000000' \
   "$tmp/je.jsonl" >/dev/null ||
    fail "the recording has no jemalloc figures: $(grep -m1 '"alloc_kind"' "$tmp/je.jsonl")"
echo "jemalloc: $(jq -c '.alloc' "$status")"
echo "ok"
