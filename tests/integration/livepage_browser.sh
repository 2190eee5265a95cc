#!/usr/bin/env bash
# livepage_browser.sh — the exporter's live page in headless Chromium
# (Debian's chromium, installed by scripts/install-deps.sh): `memvigil run
# --listen 127.0.0.1:0 -- leaky` serves it at /; livepage_cdp.py checks that
# the timeline drew and keeps updating, hover works, no console errors, and
# every request stayed on the page's origin (with name resolution disabled).
# Also: the page and its JSON over curl (no absolute URLs besides the SVG
# namespace), and with --token the page opens as ?token=... and is refused
# without. Screenshots go to $MV_BUILD/Testing/artifacts/. SKIP when
# chromium is missing.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
LEAKY="$MV_BUILD/examples/leaky"
[ -x "$LEAKY" ] || { echo "FAIL: $LEAKY not built" >&2; exit 1; }
command -v chromium >/dev/null || { echo "SKIP: chromium not installed (scripts/install-deps.sh)"; exit 0; }
out="$MV_BUILD/Testing/artifacts"
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: livepage_browser: $*" >&2; exit 1; }

# start NAME [run options...]: memvigil run over leaky; sets $base
start() {
    local name=$1; shift
    "$MEMVIGIL" run --interval 300ms --cpu-budget 0.25 --listen 127.0.0.1:0 --no-tty "$@" -- \
        "$LEAKY" --seconds 60 --leak-rate 4MiB --cache-cap 8MiB >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    base=
    for _ in $(seq 100); do
        base=$(grep -o 'http://[^ ]*/metrics' "$tmp/$name.err" | sed 's#/metrics$#/#' || true)
        [ -n "$base" ] && break
        sleep 0.1
    done
    [ -n "$base" ] || { cat "$tmp/$name.err" >&2; fail "$name: no endpoint URL on stderr"; }
}

# ---- open endpoint ----
start open
sleep 1
curl -sSf "$base" >"$tmp/page.html" || fail "GET / failed"
cp "$tmp/page.html" "$out/livepage.html"
grep -q 'id="chart-timeline"' "$tmp/page.html" || fail "the page has no timeline"
grep -q 'MV.lineChart = function' "$tmp/page.html" || fail "the report's chart code is not inlined"
ext=$(grep -oE "(https?:)?//[A-Za-z0-9.-]+[^\"' )]*" "$tmp/page.html" | grep -v '^http://www.w3.org/2000/svg' || true)
[ -z "$ext" ] || fail "absolute URLs in the page: $ext"
if grep -qiP '<script[^>]+src=|<link[^>]+href="(?!data:)|@import|@font-face' "$tmp/page.html"; then
    fail "the page loads external scripts, styles or fonts"
fi
curl -sSf "${base}api/v1/samples?since=0" >"$tmp/s0.json" || fail "GET samples failed"
jq -e '.version == 1 and (.samples.timestamp_ms | length) >= 2 and (.samples.private_bytes | length) == (.samples.timestamp_ms | length)
       and .capacity == 720 and (.level | type) == "string"' "$tmp/s0.json" >/dev/null ||
    fail "samples JSON: $(head -c 400 "$tmp/s0.json")"
last=$(jq '.samples.timestamp_ms[-1]' "$tmp/s0.json")
sleep 1
n_new=$(curl -sSf "${base}api/v1/samples?since=$last" | jq '[.samples.timestamp_ms[] | select(. <= '"$last"')] | length')
[ "$n_new" = 0 ] || fail "since=$last returned $n_new old points"
code=$(curl -s -o /dev/null -w '%{http_code}' "${base}api/v1/samples?since=abc")
[ "$code" = 400 ] || fail "since=abc gave $code, expected 400"

if ! timeout 180 python3 "$here/livepage_cdp.py" "$base" "$out/livepage.png" --min-points 5 \
        >"$tmp/cdp.json"; then
    cat "$tmp/cdp.json" >&2
    fail "browser checks (open endpoint)"
fi
cp "$tmp/cdp.json" "$out/livepage.cdp.json"
echo "ok: open: $(cat "$tmp/cdp.json")"

# ---- with a bearer token ----
start token --token 'tok-Live-1'
code=$(curl -s -o /dev/null -w '%{http_code}' "$base")
[ "$code" = 401 ] || fail "token: GET / without the token gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "${base}metrics?token=tok-Live-1")
[ "$code" = 401 ] || fail "token: /metrics must not take ?token= (gave $code)"
sleep 1
if ! timeout 180 python3 "$here/livepage_cdp.py" "${base}?token=tok-Live-1" "$out/livepage-token.png" \
        --min-points 3 >"$tmp/cdp-token.json"; then
    cat "$tmp/cdp-token.json" >&2
    fail "browser checks (token)"
fi
echo "ok: token: $(cat "$tmp/cdp-token.json")"
echo "PASS: livepage_browser (screenshots in $out)"
