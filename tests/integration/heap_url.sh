#!/usr/bin/env bash
# heap_url.sh — `memvigil heap watch --url` on a real Go service: a program
# built here from go/heap_url_leak.go (standard library only, no network)
# serves net/http/pprof with one leaking structure (leakRecords) and one
# bounded one (churnCache). While it runs, memvigil polls
# /debug/pprof/heap: the leaking function must rank first as growing, the
# bounded one must not be growing, the growing site must appear as an event
# line and on /metrics, and `heap top DIR` must rank the kept profiles the
# same way. Then the service dies: memvigil keeps its last data and says
# why. (Bad URLs: heap_url_errors.sh.)
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
command -v go >/dev/null || { echo "SKIP: go is not installed"; exit 0; }
tmp=$(mktemp -d)
svc=
watch=
cleanup() {
    [ -n "$svc" ] && kill "$svc" 2>/dev/null
    [ -n "$watch" ] && kill "$watch" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# the Go toolchain writes only under the build directory, never fetches
export GOCACHE="$MV_BUILD/go/cache" GOPATH="$MV_BUILD/go/path" HOME="$tmp"
export GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GO111MODULE=off
go build -o "$tmp/leak" "$(dirname "$0")/go/heap_url_leak.go" ||
    { echo "FAIL: go build" >&2; exit 1; }

"$tmp/leak" -port-file "$tmp/port" & svc=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: the Go service did not start" >&2; exit 1; }
# ?gc=1: Go runs a GC before answering, so every poll is a new observation
# (without it Go answers the same profile until its next GC, which the
# growing heap spaces out to 5-10 s here, and memvigil keeps one of each)
url="http://127.0.0.1:$(cat "$tmp/port")/debug/pprof/heap?gc=1"

# 1. watch it, polling every second (the 1 s, 2 s ... backoff is capped at
# once by --heap-interval). Every step below waits for its condition with a
# generous deadline instead of sleeping a fixed time: a loaded machine
# (ctest -j, sanitizers) slows the polls, not the outcome. --duration only
# bounds a watch the test failed to stop.
"$MEMVIGIL" heap watch --url "$url" --heap-interval 1s --duration 120s \
    --heap-dir "$tmp/heap" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
watch=$!
start=$SECONDS
base=$(endpoint_url)
# the growing site reaches /metrics while the watch runs
metric=
while [ $((SECONDS - start)) -lt 45 ]; do
    metric=$(curl -sf --max-time 5 "$base/metrics" | grep '^memvigil_heap_site_growth_bytes_per_second{' || true)
    [ -n "$metric" ] && break
    sleep 0.1
done
[ -n "$metric" ] || fail "no memvigil_heap_site_growth_bytes_per_second on /metrics within 45 s"
grep -q 'site="main.leakRecords (heap_url_leak.go:[0-9]*)"' <<<"$metric" ||
    fail "the growing site on /metrics is not main.leakRecords: $metric"
! grep -q churnCache <<<"$metric" || fail "the bounded cache is exported as growing: $metric"
# at 1 s, 10 profiles within 45 s (an uncapped backoff, 1 + 2 + 4 ... s,
# keeps 6) ...
n=0
while [ $((SECONDS - start)) -lt 45 ]; do
    n=$(find "$tmp/heap" -name 'heap-*.pb.gz' | wc -l)
    [ "$n" -ge 10 ] && break
    sleep 0.2
done
[ "$n" -ge 10 ] || fail "only $n profiles kept in 45 s at 1 s"
# ... about a second apart from the start: the median gap between the first
# ten is under 2.5 s (a backoff capped at 3 s or more, or not at once, is
# not; a slow poll now and then does not move the median)
gap=$(find "$tmp/heap" -name 'heap-*.pb.gz' -printf '%T@\n' | sort -n | head -10 |
      awk 'NR > 1 { print $1 - prev } { prev = $1 }' | sort -n | sed -n 5p)
awk -v g="$gap" 'BEGIN { exit !(g != "" && g < 2.5) }' ||
    fail "kept profiles are ${gap:-?} s apart (median), not about 1 s"
# 2. the service dies while the watch runs: it keeps the last data and says
# why; then it is stopped (SIGTERM) and prints its summary
kill "$svc"; wait "$svc" 2>/dev/null || true; svc=
for _ in $(seq 150); do
    grep -q "cannot fetch.*keeping the last data" "$tmp/err" && break
    sleep 0.1
done
grep -q "cannot fetch.*keeping the last data" "$tmp/err" ||
    fail "no message about the unreachable service within 15 s"
kill -TERM "$watch" 2>/dev/null || true  # it may have ended on its own: wait says how
wait "$watch" || fail "heap watch exited with $? when stopped after the service died"
watch=
grep -Eq "warning +heap: call site main.leakRecords \(heap_url_leak.go:[0-9]+\).* is growing" "$tmp/out" ||
    fail "no event line for the growing site"
grep -Eq "^ +1 .*main.leakRecords \(heap_url_leak.go:[0-9]+\)" "$tmp/out" ||
    fail "main.leakRecords is not ranked first"
! grep -q "heap: call site main.churnCache" "$tmp/out" ||
    fail "an event calls the bounded cache (churnCache) growing"
sed -n '/^growing call sites:/,/^largest other sites:/p' "$tmp/out" | grep -q churnCache &&
    fail "the bounded cache (churnCache) is reported as growing"
grep -Eq "^ +[0-9.]+ [KM]iB .*main.churnCache" "$tmp/out" ||
    fail "the bounded cache is not among the largest other sites"
n=$(find "$tmp/heap" -name 'heap-*.pb.gz' | wc -l)
first=$(grep -E "^ +1 " "$tmp/out" | sed 's/^ *//')

# 3. the kept profiles are an ordinary heap directory
"$MEMVIGIL" heap top "$tmp/heap" >"$tmp/out" 2>"$tmp/err" || fail "heap top DIR"
grep -Eq "^ +1 .*main.leakRecords" "$tmp/out" || fail "heap top DIR does not rank main.leakRecords first"

echo "PASS: heap_url: $n profiles; rank $first"
