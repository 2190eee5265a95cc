#!/usr/bin/env bash
# heap_pprof_embedded.sh — the embedded library's /debug/pprof/heap: a C
# program that starts a monitor with an endpoint serves its own heap
# profile when libmemvigil_heap.so is preloaded (found at run time, no link
# dependency), which go tool pprof ranks with the leaking function first;
# without the preload, the route answers 404 saying no profiler is active;
# with a token, 401 without it; ?seconds=2 is a 2 s delta; ?debug=1 is 400
# here (run --heap serves it).
set -euo pipefail
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
command -v go >/dev/null || { echo "FAIL: go not installed (golang-go)"; exit 1; }
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || { echo "SKIP: no preload library in this build"; exit 0; }
[ -e "$MV_BUILD/libmemvigil.so" ] || { echo "SKIP: no shared libmemvigil in this build"; exit 0; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"
export HOME=$tmp PPROF_TMPDIR=$tmp/pprof

cat >"$tmp/svc.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memvigil.h"
void *kept[4096];
__attribute__((noinline)) void cache_insert(int i) {
    kept[i] = malloc(256 * 1024);
    memset(kept[i], 1, 256 * 1024);
}
int main(int argc, char **argv) {
    mv_config cfg;
    mv_monitor *m;
    mv_config_init(&cfg);
    cfg.http_listen = "127.0.0.1:0";
    cfg.http_token = argc > 1 ? argv[1] : NULL;
    if (mv_monitor_start(&cfg, &m) != 0) return 1;
    printf("port %d\n", mv_monitor_http_port(m));
    fflush(stdout);
    for (int i = 0; i < 4096; i++) { cache_insert(i); usleep(50000); }
    mv_monitor_stop(m);
    return kept[0] == 0;
}
C
gcc -O1 -g -I"$MV_SOURCE/include" -o "$tmp/svc" "$tmp/svc.c" -L"$MV_BUILD" -lmemvigil \
    -Wl,-rpath,"$MV_BUILD"

port_of() {
    for _ in $(seq 100); do
        p=$(awk '/^port / {print $2}' "$tmp/svc.out")
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.1
    done
    fail "the service printed no port"
}

# without the preload: 404 that says why
"$tmp/svc" >"$tmp/svc.out" 2>"$tmp/err" &
pid=$!
url=http://127.0.0.1:$(port_of)/debug/pprof/heap
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url")
[ "$code" = 404 ] || fail "no preload: $code, not 404"
grep -q 'no heap profiler is active' "$tmp/out" || fail "the 404 does not say why"
kill "$pid"; wait "$pid" 2>/dev/null || true

# with the preload
LD_PRELOAD=$MV_BUILD/libmemvigil_heap.so MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR=$tmp/heap \
    "$tmp/svc" >"$tmp/svc.out" 2>"$tmp/err" &
pid=$!
url=http://127.0.0.1:$(port_of)/debug/pprof/heap
sleep 2
curl -s -D "$tmp/headers" -o "$tmp/heap.pb" "$url" || fail "GET $url"
grep -q '^HTTP/1.1 200' "$tmp/headers" || fail "with the preload: $(head -n 1 "$tmp/headers") $(cat "$tmp/heap.pb")"
grep -qi 'filename="heap"' "$tmp/headers" || fail "content disposition"
(cd "$tmp" && go tool pprof -top -nodecount=5 "$url") >"$tmp/out" 2>"$tmp/err" ||
    fail "go tool pprof -top $url"
first=$(awk '/flat%/ {getline; print $NF; exit}' "$tmp/out")
[ "$first" = cache_insert ] || fail "go tool pprof ranks '$first' first, not cache_insert"
# ?seconds=2: Go's delta, 2 s of growth (40 x 256 KiB = 10 MiB, give or
# take the sampling), as go tool pprof -seconds asks for it
(cd "$tmp" && go tool pprof -top -seconds 2 "$url") >"$tmp/out" 2>"$tmp/err" ||
    fail "go tool pprof -seconds 2 $url"
grep -Eq 'Duration: 2(\.[0-9]+)?s,' "$tmp/out" || fail "the delta's duration is not about 2 s"
total=$(awk '/Total samples =/ {for (i = 1; i <= NF; i++) if ($i == "=") {print $(i + 1); exit}}' "$tmp/out")
awk -v t="${total%MB}" 'BEGIN {exit !(t >= 4 && t <= 20)}' || fail "the 2 s delta holds $total, not about 10MB"
first=$(awk '/flat%/ {getline; print $NF; exit}' "$tmp/out")
[ "$first" = cache_insert ] || fail "the delta ranks '$first' first"
curl -s -D "$tmp/dheaders" -o /dev/null "$url?seconds=1" || fail "GET ?seconds=1"
grep -qi 'filename="heap-delta"' "$tmp/dheaders" || fail "delta disposition"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url?seconds=100000")
[ "$code" = 400 ] && grep -q exceeds "$tmp/out" || fail "?seconds=100000: $code"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url?debug=1")
[ "$code" = 400 ] || fail "?debug=1 on the embedded endpoint: $code"
# /debug/pprof/symbol, Go's protocol (go tool pprof above posted to it for
# libc's frames): GET says it has symbols, POST names exported functions,
# a body past 1 MiB is 413
sym=${url%/heap}/symbol
curl -s "$sym" | grep -qx 'num_symbols: 1' || fail "GET $sym"
# (the outermost libc frame is __libc_start_main, in libc's dynamic
# symbols: libc has no debug info to symbolize it locally)
(cd "$tmp" && go tool pprof -raw "$url") >"$tmp/out" 2>"$tmp/err" || fail "go tool pprof -raw $url"
addr=$(awk '/^ +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ __libc_start_main / {print $2; exit}' "$tmp/out")
if [ -n "$addr" ]; then
    curl -s --data-binary "0x1+$addr" "$sym" | grep -q "^$addr __libc_start_main$" ||
        fail "POST $sym does not name $addr"
fi
code=$(head -c 2000000 /dev/zero | tr '\0' '+' | curl -s -o "$tmp/out" -w '%{http_code}' \
    --data-binary @- "$sym")
[ "$code" = 413 ] || fail "a 2 MB symbol request: $code, not 413"
kill "$pid"; wait "$pid" 2>/dev/null || true

# the token rule
LD_PRELOAD=$MV_BUILD/libmemvigil_heap.so MEMVIGIL_HEAP=1 MEMVIGIL_HEAP_DIR=$tmp/heap \
    "$tmp/svc" s3cret >"$tmp/svc.out" 2>"$tmp/err" &
pid=$!
url=http://127.0.0.1:$(port_of)/debug/pprof/heap
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url")
[ "$code" = 401 ] || fail "no token: $code, not 401"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer s3cret" "$url")
[ "$code" = 200 ] || fail "with the token: $code"
echo ok
