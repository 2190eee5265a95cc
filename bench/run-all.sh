#!/usr/bin/env bash
# bench/run-all.sh — runs every memvigil benchmark and prints a summary table
# of the figures against their targets. Called by `make bench` as
#   ./bench/run-all.sh BUILD_DIR
# Environment:
#   MV_BENCH_QUICK=1   short runs (a smoke check of the benches, not figures)
#   MV_BENCH_LONG=1    also run the sampler at the real 10 s interval for 60 s
#   MV_BENCH_PORT=N    port for the HTTP benches (default: a free one from 19464)
# Raw output of every bench goes to BUILD_DIR/bench/results.txt.
set -euo pipefail

BUILD=${1:-build}
B="$BUILD/bench"
OUT="$B/results.txt"
quick=${MV_BENCH_QUICK:-0}

for b in bench_tick bench_cpu_share bench_render bench_rss bench_allocstats bench_trim bench_http_server bench_http_rate; do
  [ -x "$B/$b" ] || { echo "run-all: $B/$b not built (run: cmake --build $BUILD)" >&2; exit 1; }
done
: > "$OUT"

# run NAME CMD...: runs a bench, echoes its output, appends it to results.txt
run() {
  local name=$1; shift
  echo "== $name: $*" | tee -a "$OUT"
  local rc=0
  "$@" 2>&1 | tee -a "$OUT" || rc=$?
  [ "$rc" -eq 0 ] || echo "run-all: $name exited with $rc" | tee -a "$OUT" >&2
}

if [ "$quick" = 1 ]; then
  tick_iters=200; tick_spaced=20; cpu_secs=3; render_iters=20; rss_runs=2; http_secs=2
else
  tick_iters=2000; tick_spaced=50; cpu_secs=20; render_iters=200; rss_runs=5; http_secs=10
fi
cpu_extra=()
[ "${MV_BENCH_LONG:-0}" = 1 ] && cpu_extra=(--long --long-seconds 60)

run tick      "$B/bench_tick" --iterations "$tick_iters" --spaced "$tick_spaced"
run cpu_share "$B/bench_cpu_share" --seconds "$cpu_secs" --interval-ms 100 "${cpu_extra[@]}"
run render    "$B/bench_render" --series 10000 --iterations "$render_iters"
run rss       "$B/bench_rss" --runs "$rss_runs" --seconds 3
run allocstats "$B/bench_allocstats" --iterations 200
run trim      "$B/bench_trim" --runs 3

# ---- HTTP: a server with ~200 app series, wrk at max rate, fixed 1000/s ----
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${MV_BENCH_PORT:-19464}
while ! port_free "$port"; do port=$((port + 1)); done
"$B/bench_http_server" --listen "127.0.0.1:$port" --series 200 >>"$OUT" 2>&1 &
srv=$!
trap 'kill "$srv" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
  sleep 0.1
done
if ! curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; then
  echo "run-all: bench_http_server did not answer on port $port" >&2
  exit 1
fi
echo "# /metrics body: $(curl -s "http://127.0.0.1:$port/metrics" | wc -c) bytes," \
     "$(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^memvigil_app_memory_bytes{') app gauges" | tee -a "$OUT"

echo "== wrk: wrk -t2 -c16 -d${http_secs}s --latency http://127.0.0.1:$port/metrics" | tee -a "$OUT"
wrk_out=$(wrk -t2 -c16 -d"${http_secs}s" --latency "http://127.0.0.1:$port/metrics" 2>&1) || true
echo "$wrk_out" | tee -a "$OUT"
to_ms() { # "635.00us" / "2.31ms" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
                  else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
rps=$(echo "$wrk_out" | awk '/^Requests\/sec:/ { print $2 }')
p50=$(echo "$wrk_out" | awk '$1 == "50%" { print $2 }')
p99=$(echo "$wrk_out" | awk '$1 == "99%" { print $2 }')
non2xx=$(echo "$wrk_out" | awk '/Non-2xx/ { print $NF }')
{
  echo "http_wrk_rps ${rps:-0}"
  echo "http_wrk_p50_ms $(to_ms "${p50:-0}")"
  echo "http_wrk_p99_ms $(to_ms "${p99:-0}")"
  echo "http_wrk_non2xx ${non2xx:-0}"
} | tee -a "$OUT"

run http_fixed "$B/bench_http_rate" --port "$port" --rate 1000 --seconds "$http_secs" \
    --conns 4 --name http_fixed_1000
kill "$srv" 2>/dev/null || true
wait "$srv" 2>/dev/null || true
trap - EXIT

# ---- summary ----
val() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "n/a" : v) }' "$OUT"; }
# row LABEL KEY TARGET_OP TARGET UNIT
row() {
  local v; v=$(val "$2")
  local verdict=""
  if [ -n "${3:-}" ] && [ "$v" != "n/a" ]; then
    verdict=$(awk -v v="$v" -v t="$4" -v op="$3" 'BEGIN {
      ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "ok" : "MISSED" }')
  fi
  printf "%-44s %12s %-4s %-14s %s\n" "$1" "$v" "$5" "${3:+$3 $4}" "$verdict"
}
echo
echo "memvigil benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, Linux $(uname -r)"
printf "%-44s %12s %-4s %-14s %s\n" "figure" "value" "unit" "target" ""
row "tick, typical process (median)"        tick_typical_median_us        "<=" 200 us
row "tick, typical process (p90)"           tick_typical_p90_us           ""   ""  us
row "tick, typical process (CPU median)"    tick_typical_cpu_median_us    ""   ""  us
row "tick, 10k mappings (median)"           tick_10k_maps_median_us       "<=" 200 us
row "tick, 10k mappings (p90)"              tick_10k_maps_p90_us          ""   ""  us
row "tick (session, as the monitor), 1 per 100 ms (median)" tick_typical_session_spaced_median_us "<=" 200 us
row "tick (session, as the monitor), 1 per 100 ms (p90)"    tick_typical_session_spaced_p90_us    ""   ""  us
row "tick (reopening files), 1 per 100 ms (median)"         tick_typical_spaced_median_us         ""   ""  us
row "tick + smaps_rollup, typical (median)" tick_typical_smaps_median_us  ""   ""  us
row "tick + smaps_rollup, 10k maps (median)" tick_10k_maps_smaps_median_us "" ""  us
row "sampler CPU per tick (process CPU)"    cpu_share_tick_cpu_us         ""   ""  us
row "sampler CPU per tick (self-reported)"  cpu_share_self_reported_tick_cpu_us "" "" us
row "sampler CPU share at 10 s interval"    cpu_share_at_10s_pct          "<=" 0.05 %
[ "${MV_BENCH_LONG:-0}" = 1 ] && row "sampler CPU share, real 10 s run" cpu_share_long_10s_pct "<=" 0.05 %
row "render 10k series, Prometheus (median)" render_10k_prometheus_median_ms "<=" 5 ms
row "render 10k series, OpenMetrics (median)" render_10k_openmetrics_median_ms "<=" 5 ms
row "RSS added by the monitor (median)"     rss_added_median_mib          "<=" 2 MiB
row "  of which anonymous"                  rss_added_anon_median_kib     ""   ""  KiB
row "/metrics, wrk -c16 max rate"           http_wrk_rps                  ""   ""  rq/s
row "/metrics, wrk p99 at max rate (bound)" http_wrk_p99_ms               ""   ""  ms
row "/metrics, fixed 1000 rq/s achieved"    http_fixed_1000_achieved_rps  ">=" 990 rq/s
row "/metrics, p99 at fixed 1000 rq/s"      http_fixed_1000_p99_ms        "<=" 10 ms
row "/metrics, errors at fixed 1000 rq/s"   http_fixed_1000_errors        "<=" 0 ""
echo "raw output: $OUT"
