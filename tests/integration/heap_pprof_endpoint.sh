#!/usr/bin/env bash
# heap_pprof_endpoint.sh — /debug/pprof/heap of `memvigil run --heap` read by
# real clients while the program runs: `go tool pprof -top URL` names the
# leaking function (leak_grow) of a C program first, ahead of its bounded
# churn; ?seconds=2 is a delta (about the 2 s of growth, not the whole heap)
# that /metrics does not wait for; ?debug=1 is Go's legacy text with
# symbolized frames; ?seconds past the bound and seconds with debug are
# 400; with --token, no token is 401 like /metrics; and the profile stands
# alone: go tool pprof reads a copy of it with no binary in reach.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
command -v go >/dev/null || { echo "FAIL: go not installed (golang-go)"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl not installed"; exit 1; }
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || { echo "SKIP: no preload library in this build"; exit 0; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"
export HOME=$tmp PPROF_TMPDIR=$tmp/pprof GOCACHE=$tmp/gocache GOFLAGS=-mod=mod

cat >"$tmp/leak.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
void *kept[4096];
/* grows for good: 256 KiB every 50 ms */
__attribute__((noinline)) void leak_grow(int i) {
    kept[i] = malloc(256 * 1024);
    memset(kept[i], 1, 256 * 1024);
}
/* bounded: a ring of 8 blocks of 64 KiB */
__attribute__((noinline)) void churn(int i) {
    static void *ring[8];
    free(ring[i % 8]);
    ring[i % 8] = malloc(64 * 1024);
    memset(ring[i % 8], 2, 64 * 1024);
}
int main(void) {
    for (int i = 0; i < 4096; i++) { leak_grow(i); churn(i); usleep(50000); }
    return kept[0] == 0;
}
C
gcc -O1 -g -o "$tmp/leak" "$tmp/leak.c"

"$MEMVIGIL" run --heap --heap-interval 1s --heap-dir "$tmp/heap" --listen 127.0.0.1:0 \
    --token s3cret --quiet -- "$tmp/leak" >"$tmp/out" 2>"$tmp/err" &
pid=$!
base=$(endpoint_url)
url=$base/debug/pprof/heap
auth=(-H "Authorization: Bearer s3cret")
sleep 3   # a few snapshots (1, 2 s ...)

# the token rule of /metrics: 401 without it, 401 with a wrong one
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url")
[ "$code" = 401 ] || fail "no token: $code, not 401"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer nope" "$url")
[ "$code" = 401 ] || fail "wrong token: $code, not 401"

# the default profile, as go tool pprof fetches it
curl -s -D "$tmp/headers" -o "$tmp/heap.pb.gz" "${auth[@]}" "$url" || fail "GET $url"
grep -qi '^content-type: application/octet-stream' "$tmp/headers" || fail "content type: $(cat "$tmp/headers")"
grep -qi '^content-disposition: attachment; filename="heap"' "$tmp/headers" ||
    fail "content disposition: $(cat "$tmp/headers")"
# (go tool pprof cannot send a bearer token: the fetched file is read
# here, and go tool pprof fetches the URL itself from a second run without
# a token, at the end)
(cd "$tmp" && go tool pprof -top -nodecount=5 heap.pb.gz) >"$tmp/out" 2>"$tmp/err" ||
    fail "go tool pprof -top on the served profile"
first=$(awk '/flat%/ {getline; print $NF; exit}' "$tmp/out")
[ "$first" = leak_grow ] || fail "go tool pprof ranks '$first' first, not leak_grow"

# the profile stands alone: a copy, no binary, no symbolization
mkdir "$tmp/alone" "$tmp/nobin"
cp "$tmp/heap.pb.gz" "$tmp/alone/"
(cd "$tmp/alone" && PPROF_BINARY_PATH=$tmp/nobin go tool pprof -top -sample_index=alloc_space \
    -symbolize=none heap.pb.gz) \
    >"$tmp/out" 2>"$tmp/err" || fail "go tool pprof on a copy"
grep -q ' leak_grow$' "$tmp/out" || fail "the copy does not name leak_grow"
grep -q ' churn$' "$tmp/out" || fail "the copy does not name churn"
if grep -Eq ' 0x[0-9a-f]+$' "$tmp/out"; then fail "an address where a name should be"; fi

# ?seconds=2: a delta of about 2 s of growth (40 x 256 KiB = 10 MiB, the
# sampling gives or takes), while /metrics answers at once meanwhile
t0=$(date +%s%N)
curl -s -D "$tmp/dheaders" -o "$tmp/delta.pb.gz" "${auth[@]}" "$url?seconds=2" &
dpid=$!
sleep 0.5
m0=$(date +%s%N)
curl -s -o /dev/null "${auth[@]}" "$base/metrics" || fail "/metrics during a delta"
m1=$(date +%s%N)
wait "$dpid" || fail "GET ?seconds=2"
t1=$(date +%s%N)
[ $(( (m1 - m0) / 1000000 )) -lt 1000 ] || fail "/metrics waited $(( (m1 - m0) / 1000000 )) ms behind a delta"
[ $(( (t1 - t0) / 1000000 )) -ge 2000 ] || fail "?seconds=2 answered in under 2 s"
grep -qi 'filename="heap-delta"' "$tmp/dheaders" || fail "delta disposition: $(cat "$tmp/dheaders")"
(cd "$tmp" && go tool pprof -raw delta.pb.gz) >"$tmp/out" 2>"$tmp/err" || fail "go tool pprof -raw delta"
(cd "$tmp" && go tool pprof -top -sample_index=inuse_space -unit=MB delta.pb.gz) >"$tmp/out" 2>"$tmp/err" ||
    fail "go tool pprof -top delta"
grep -Eq 'Duration: 2(\.[0-9]+)?s,' "$tmp/out" || fail "the delta's duration is not about 2 s"
total=$(awk '/Total samples =/ {for (i = 1; i <= NF; i++) if ($i == "=") {print $(i + 1); exit}}' "$tmp/out")
total=${total%MB}
awk -v t="$total" 'BEGIN {exit !(t >= 4 && t <= 20)}' ||
    fail "the 2 s delta holds $total MB, not about 10"
first=$(awk '/flat%/ {getline; print $NF; exit}' "$tmp/out")
[ "$first" = leak_grow ] || fail "the delta ranks '$first' first"

# ?debug=1: the legacy text, symbolized
curl -s -D "$tmp/theaders" -o "$tmp/text" "${auth[@]}" "$url?debug=1" || fail "GET ?debug=1"
grep -qi '^content-type: text/plain' "$tmp/theaders" || fail "debug=1 content type"
head -n 1 "$tmp/text" | grep -Eq '^heap profile: [0-9]+: [0-9]+ \[[0-9]+: [0-9]+\] @ heap/1048576$' ||
    fail "debug=1 header: $(head -n 1 "$tmp/text")"
grep -Eq '^#	0x[0-9a-f]+	leak_grow	.*leak\.c:[0-9]+$' "$tmp/text" || fail "debug=1 frames: $(head -n 8 "$tmp/text")"
(cd "$tmp" && go tool pprof -top text) >"$tmp/out" 2>"$tmp/err" || fail "go tool pprof reads the debug=1 text"

# bad parameters: 400 with a reason
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$url?seconds=100000")
[ "$code" = 400 ] && grep -q 'exceeds' "$tmp/out" || fail "?seconds=100000: $code"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$url?seconds=1&debug=1")
[ "$code" = 400 ] && grep -q 'incompatible' "$tmp/out" || fail "?seconds&debug: $code"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$url?gc=1")
[ "$code" = 200 ] || fail "?gc=1: $code"
# a torn or foreign file as the newest snapshot: a 500 that names it, and
# the endpoint keeps serving
child=$(ls "$tmp/heap" | sed -n 's/^heap-\([0-9]*\)-[0-9]*\.pb\.gz$/\1/p' | head -n 1)
[ -n "$child" ] || fail "no snapshot names the child's pid"
printf '\x1f\x8b\x08garbage' >"$tmp/heap/heap-$child-999999.pb.gz"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$url")
[ "$code" = 500 ] && grep -q "cannot read the snapshot .*heap-$child-999999.pb.gz" "$tmp/out" ||
    fail "a garbage snapshot: $code"
rm "$tmp/heap/heap-$child-999999.pb.gz"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$base/metrics")
[ "$code" = 200 ] || fail "/metrics after a garbage snapshot: $code"
kill "$pid"; wait "$pid" 2>/dev/null || true
pid=

# go tool pprof fetching the URL itself (no token set)
"$MEMVIGIL" run --heap --heap-interval 1s --heap-dir "$tmp/heap2" --listen 127.0.0.1:0 \
    --quiet -- "$tmp/leak" >"$tmp/out" 2>"$tmp/err" &
pid=$!
base=$(endpoint_url)
sleep 3
(cd "$tmp" && go tool pprof -top -nodecount=5 "$base/debug/pprof/heap") >"$tmp/out" 2>"$tmp/err" ||
    fail "go tool pprof -top $base/debug/pprof/heap"
first=$(awk '/flat%/ {getline; print $NF; exit}' "$tmp/out")
[ "$first" = leak_grow ] || fail "go tool pprof URL ranks '$first' first, not leak_grow"
echo "ok"
