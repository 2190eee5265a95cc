#!/usr/bin/env bash
# bench/leaks/run.sh — builds the leak benchmark and prints the table for a
# corpus made with a seed the detector was NOT tuned on (tuning used seed 1).
# Usage: bench/leaks/run.sh [SEED] [TRACES_PER_KIND]   (defaults: 2 and 20)
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${MV_BUILD:-$src/build-bench-leaks}"
seed="${1:-2}"
per_kind="${2:-20}"
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" --target leakbench -j2 >/dev/null
args=(--seed "$seed" --per-kind "$per_kind")
if [ -f "$src/bench/leaks/fixtures/manifest.txt" ]; then
  args+=(--fixtures "$src/bench/leaks/fixtures")
fi
exec "$build/bench/leaks/leakbench" "${args[@]}"
