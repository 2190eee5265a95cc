#!/usr/bin/env bash
# bench/leaks/run.sh — builds the leak benchmark through the project's CMake
# (MV_BUILD_BENCH=ON, target leakbench) and runs it on the seeds of one
# generator configuration: one summary row per seed as it finishes, then
# the tables over all of them (detectors, per family, every rule at
# memvigil's false-alarm rate, paired delays), the real-program fixtures
# and the replay time of a 7-day trace. Markdown output.
#
# Usage: bench/leaks/run.sh [--config tune|report] [SEEDS...] [-- LEAKBENCH_FLAGS...]
#   --config  tune (default; seeds 1..5) to tune on; report (seeds
#             101..105) to report on — look at it once per kept change
#             and write the look down (README.md)
#   SEEDS     seeds to run instead of the configuration's five
#   env       MV_BUILD (build dir, default build-bench-leaks),
#             MV_PER_KIND (traces per family before the mix, default 20)
# e.g. bench/leaks/run.sh --config tune 1
#      bench/leaks/run.sh --config report -- --verbose --tsv /tmp/r.tsv
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${MV_BUILD:-$src/build-bench-leaks}"
config=tune
seeds=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="${2:?--config needs tune or report}"; shift 2 ;;
    --config=*) config="${1#--config=}"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *[!0-9]*) echo "run.sh: not a seed: $1" >&2; exit 2 ;;
    *) seeds+=("$1"); shift ;;
  esac
done
case "$config" in
  tune|report) ;;
  *) echo "run.sh: --config must be tune or report" >&2; exit 2 ;;
esac
cmake -S "$src" -B "$build" -DMV_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target leakbench -j2 >/dev/null
args=(--config "$config" --per-kind "${MV_PER_KIND:-20}" --markdown --timing)
for s in "${seeds[@]}"; do
  args+=(--seed "$s")
done
if [ -f "$src/bench/leaks/fixtures/manifest.txt" ]; then
  args+=(--fixtures "$src/bench/leaks/fixtures")
fi
exec "$build/bench/leaks/leakbench" "${args[@]}" "${extra[@]}"
