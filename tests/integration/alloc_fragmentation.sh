#!/usr/bin/env bash
# alloc_fragmentation.sh — the allocator diagnosis end to end (issue 17):
#  - frag_prog.c (8 threads, mixed lifetimes, embedded monitor) is diagnosed
#    `fragmentation` live (its recording's event) and from its recording
#    (analyze), `retention` when the monitor saw the freed peak;
#  - MALLOC_ARENA_MAX=1 plus the periodic malloc_trim shrinks its resident
#    anonymous memory by a measured amount, reported in trim events;
#  - under Debian's libjemalloc2 (LD_PRELOAD) the figures come from mallctl.
# A real leak under the preload (`run --heap`), live and replayed to a leak
# verdict, and jemalloc under the preload: alloc_leak_preload.sh.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"
skip() { echo "SKIP: $*"; exit 0; }
command -v jq >/dev/null || skip "jq not installed"
command -v cc >/dev/null || skip "no C compiler"
[ -e "$MV_BUILD/libmemvigil.a" ] || skip "libmemvigil.a not built"
: >"$tmp/out"; : >"$tmp/err"
cc -O1 -I "$MV_SOURCE/include" -o "$tmp/frag_prog" \
   "$MV_SOURCE/tests/integration/frag_prog.c" "$MV_BUILD/libmemvigil.a" \
   $(static_lib_deps) || fail "cannot build frag_prog.c"

kb() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# ---- fragmentation, live and replayed ----
"$tmp/frag_prog" after 5 "$tmp/frag.jsonl" >"$tmp/frag.out" || fail "frag_prog exited $?"
jq -e -s '[.[] | select(.type == "event" and .event == "fragmentation")] | length == 1 and
          (.[0].message | test("^fragmentation: .*glibc heap in use.*free in [0-9]+ arenas.*MALLOC_ARENA_MAX=2"))' \
   "$tmp/frag.jsonl" >/dev/null || fail "no live fragmentation event: $(grep -v '"sample"' "$tmp/frag.jsonl")"
"$MEMVIGIL" analyze --json --alloc-window 3s "$tmp/frag.jsonl" >"$tmp/out" 2>"$tmp/err" ||
    fail "analyze exited $?"
jq -e '.allocator_diagnosis == "fragmentation" and .leak_is_allocator == false and
       (.allocator_advice | test("MALLOC_ARENA_MAX=2") and test("malloc_trim\\(0\\)") and
        test("background_thread"))' "$tmp/out" >/dev/null || fail "analyze: no fragmentation"
"$MEMVIGIL" report --format text "$tmp/frag.jsonl" >"$tmp/out" 2>"$tmp/err" || fail "report exited $?"
grep -q "Not a leak, the allocator's memory: fragmentation: .*MALLOC_ARENA_MAX=2" "$tmp/out" ||
    fail "the report's advice does not say fragmentation"
rss_default=$(kb rss_anon_kb "$tmp/frag.out")
inuse=$(kb alloc_in_use_kb "$tmp/frag.out")
[ "$rss_default" -gt $((inuse * 4)) ] || fail "no fragmentation to speak of: rss $rss_default KiB, in use $inuse KiB"

# ---- retention: the monitor saw the peak being freed ----
"$tmp/frag_prog" before 5 "$tmp/ret.jsonl" >/dev/null || fail "frag_prog before exited $?"
"$MEMVIGIL" analyze --json --alloc-window 3s "$tmp/ret.jsonl" >"$tmp/out" 2>"$tmp/err" || true
jq -e '.allocator_diagnosis == "retention" and (.allocator_evidence | test("freed peak"))' \
   "$tmp/out" >/dev/null || fail "analyze: no retention"

# ---- the advice's effect: one arena and a periodic trim ----
MALLOC_ARENA_MAX=1 "$tmp/frag_prog" after 5 "$tmp/trim.jsonl" 1000 >"$tmp/trim.out" ||
    fail "frag_prog with trim exited $?"
rss_trim=$(kb rss_anon_kb "$tmp/trim.out")
released=$(jq -s '[.[] | select(.type == "event" and .event == "trim") | .message |
                   capture("returned (?<n>[0-9.]+) MiB") | .n | tonumber] | add // 0' "$tmp/trim.jsonl")
echo "resident anonymous: default $rss_default KiB, MALLOC_ARENA_MAX=1 + malloc_trim $rss_trim KiB; trims reported $released MiB"
[ "$rss_trim" -lt $((rss_default / 3)) ] || fail "the trim did not shrink it: $rss_trim KiB vs $rss_default KiB"
awk -v r="$released" 'BEGIN { exit !(r >= 100) }' || fail "trim events report $released MiB"
"$MEMVIGIL" report --format text "$tmp/trim.jsonl" >"$tmp/out" 2>"$tmp/err" || fail "report exited $?"
grep -Eq "[0-9]+ allocator trims? returned [0-9.]+ MiB to the kernel" "$tmp/out" ||
    fail "the report does not say what the trims returned"

# ---- jemalloc through mallctl ----
je=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
if [ -n "$je" ]; then
    LD_PRELOAD="$je" "$tmp/frag_prog" after 2 "$tmp/je.jsonl" >"$tmp/je.out" || fail "frag_prog under jemalloc exited $?"
    # readings are spaced by their cost: samples between them carry none
    jq -e -s '[.[] | select(.type == "sample" and .alloc_kind != null)] | length >= 3 and
              all(.alloc_kind == 2) and all(.alloc_in_use_bytes > 10000000 and .alloc_arenas >= 1)' \
       "$tmp/je.jsonl" >/dev/null ||
        fail "no jemalloc figures: $(grep -m1 '"sample"' "$tmp/je.jsonl")"
else
    echo "note: libjemalloc2 not installed, jemalloc part skipped"
fi

echo "ok"
