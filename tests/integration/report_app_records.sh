#!/usr/bin/env bash
# report_app_records.sh — the recorder's application lines end to end:
#  - examples/embed --record FILE (gauges, a bulk import with progress,
#    searches as operations): `memvigil report -f json FILE` shows the two
#    component gauges at their loaded sizes, the "search" operation with
#    its calls, and the "rows" progress at 100000 units;
#  - tests/integration/app_records.c (8 steps of 4 MiB per 1000 rows, one
#    tick each): `memvigil estimate --json FILE` fits ~4 MiB per 1000 rows
#    (average_memory_per_unit_bytes ~4194 bytes per row) from the recorded progress
#    lines, the recording's last progress line and the report carry the
#    same bytes per unit under the same key, and the report shows the
#    "load" operation at ~4 MiB per call and the "cache" gauge's last value.
set -euo pipefail
: "${MEMVIGIL:?}" "${MV_BUILD:?}" "${MV_SOURCE:?}"
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"  # static_lib_deps (its fail is replaced below)
skip() { echo "SKIP: $*"; exit 0; }
command -v jq >/dev/null || skip "jq not installed"
[ -x "$MV_BUILD/examples/embed" ] || skip "examples/embed not built"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- embed ----
"$MV_BUILD/examples/embed" --seconds 3 --listen 127.0.0.1:0 \
    --record "$tmp/embed.jsonl" >"$tmp/embed.out" 2>&1 || fail "embed exited $?"
grep -q '"type":"gauge"' "$tmp/embed.jsonl" || fail "no gauge line recorded"
"$MEMVIGIL" report -f json "$tmp/embed.jsonl" >"$tmp/embed.json" \
    || fail "report exited $?"
j() { jq -r "$1" "$tmp/embed.json"; }
# embed zeroes both gauges when it releases them at shutdown, and
# mv_monitor_stop writes that last change: the peak while loaded, 0 at the end
[ "$(j '.gauges[] | select(.name=="index{collection=7,index_type=hnsw}") | .max | max')" = 25165824 ] \
    || fail "index gauge: $(j '.gauges')"
[ "$(j '.gauges[] | select(.name=="segment{collection=7,segment=42}") | .max | max')" = 14788608 ] \
    || fail "segment gauge: $(j '.gauges')"
[ "$(j '.gauges[] | select(.name=="index{collection=7,index_type=hnsw}") | .last')" = 0 ] \
    || fail "index gauge not released at shutdown: $(j '.gauges')"
n=$(j '.ops[] | select(.name=="search") | .count')
[ -n "$n" ] && [ "$n" -ge 100 ] || fail "search op count '$n': $(j '.ops')"
# the count is exact: one line per tick carries the calls since the last
calls=$(jq -s 'map(select(.type=="op" and .name=="search") | .count) | add' "$tmp/embed.jsonl")
[ "$n" = "$calls" ] || fail "report count $n != recorded calls $calls"
[ "$(j '.progress[] | select(.unit=="rows") | .units_total')" = 100000 ] \
    || fail "rows progress: $(j '.progress')"
# lines per tick are bounded: at most one op line per name per tick
ticks=$(grep -c '"type":"sample"' "$tmp/embed.jsonl")
oplines=$(grep -c '"type":"op"' "$tmp/embed.jsonl")
[ "$oplines" -le "$ticks" ] || fail "$oplines op lines for $ticks ticks"

# ---- progress over several ticks -> estimate ----
command -v cc >/dev/null || skip "no C compiler (embed part passed)"
[ -e "$MV_BUILD/libmemvigil.a" ] || skip "libmemvigil.a not built (embed part passed)"
cc -O1 -I "$MV_SOURCE/include" -o "$tmp/app_records" \
   "$MV_SOURCE/tests/integration/app_records.c" "$MV_BUILD/libmemvigil.a" \
   $(static_lib_deps) || fail "cannot build app_records.c"
"$tmp/app_records" "$tmp/app.jsonl" || fail "app_records exited $?"
"$MEMVIGIL" estimate --json "$tmp/app.jsonl" >"$tmp/est.json" || fail "estimate exited $?"
jq -e '.unit == "rows" and .model == "fitted" and .points >= 5 and
       .average_memory_per_unit_bytes > 3800 and
       .average_memory_per_unit_bytes < 4600 and
       (has("bytes_per_1000_units") or has("bytes_per_unit") | not)' \
   "$tmp/est.json" >/dev/null || fail "estimate: $(cat "$tmp/est.json")"
# the recording (version 2) names the figure as every JSON output does
grep -q '"per1000"' "$tmp/app.jsonl" && fail "a progress line still has per1000"
rec_per_unit=$(jq -s 'map(select(.type=="progress" and .unit=="rows")) | last
                      | .memory_per_unit_bytes' "$tmp/app.jsonl")
"$MEMVIGIL" report -f json "$tmp/app.jsonl" >"$tmp/app.json" || fail "report exited $?"
jq -e '(.ops[] | select(.name=="load") | .count == 8 and .p50 > 4.0e6 and .p50 < 4.4e6)
       and (.gauges[] | select(.name=="cache{tier=hot}") | .last == 33554432)
       and (.progress[] | select(.unit=="rows") | .units_total == 8000 and
            .memory_per_unit_bytes > 3800 and .memory_per_unit_bytes < 4600 and
            .memory_per_unit_bytes == '"$rec_per_unit"')' "$tmp/app.json" >/dev/null \
    || fail "report: $(jq -c '{ops,gauges,progress}' "$tmp/app.json"), recorded $rec_per_unit"
echo "OK: gauges, ops and progress recorded and reported"
