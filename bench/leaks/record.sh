#!/usr/bin/env bash
# bench/leaks/record.sh — records the real-program fixtures of the leak
# benchmark: builds the small programs in programs/, runs each under
# `memvigil run --interval 1s --record`, keeps the JSON Lines recording and
# derives the CSV the scorer reads (fixtures/NAME.csv: seconds,private
# bytes). The programs are time-compressed — one second of theirs stands
# for one minute of a service — so the CSV's timestamps are scaled by
# TIME_SCALE (60): a 6-minute recording becomes a 6-hour trace sampled
# every minute. Labels and limits are in fixtures/manifest.txt.
# Usage: bench/leaks/record.sh [SECONDS]   (default 360; takes that long)
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${MV_BUILD:-$src/build-bench-leaks}"
secs="${1:-360}"
TIME_SCALE=60
out="$src/bench/leaks/fixtures"
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" --target memvigil_cli leak_prog_grow leak_prog_lru leak_prog_frag -j2 >/dev/null
bin="$build/bench/leaks"
mkdir -p "$out"
rec() { # NAME CMD...
    local name=$1; shift
    "$build/memvigil" run --interval 1s --listen none --quiet \
        --record "$out/$name.jsonl" -- "$@" >/dev/null
}
rec grow "$bin/leak_prog_grow" "$secs" 512 &
rec grow_slow "$bin/leak_prog_grow" "$secs" 160 &
rec lru "$bin/leak_prog_lru" "$secs" 120 40 &
rec frag "$bin/leak_prog_frag" "$secs" &
wait
for f in "$out"/*.jsonl; do
    # recording version 2 keys (timestamp_ms, private_bytes); version 1's
    # (t_ms, private) too
    jq -r --argjson k "$TIME_SCALE" 'select(.type == "sample")
        | {t: (.timestamp_ms // .t_ms), p: (.private_bytes // .private)}
        | select(.p != null)
        | "\((.t / 1000 * $k * 10 | round) / 10),\(.p)"' "$f" \
        >"${f%.jsonl}.csv"
done
echo "recorded into $out"
