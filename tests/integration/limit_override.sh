#!/usr/bin/env bash
# limit_override.sh — `--limit BYTES` on a real child: `memvigil run --limit
# 64M` on a process holding ~48 MiB shows, in /api/v1/status, the effective
# limit 64 MiB with limit_source "config" and the usage ratio RSS / 64 MiB,
# and /metrics exports that limit; a --limit looser than the machine does
# not count (MemTotal stays); `watch --limit` does the same for a pid; bad
# values are usage errors (exit 2).
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"

tmp=$(mktemp -d)
mv_pid=
holder=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; fi
    if [ -n "$holder" ]; then kill "$holder" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# A child that writes 48 MiB (so it is resident), then sleeps.
HOLD='import time; b = b"x" * (48 << 20); time.sleep(float(__import__("sys").argv[1]))'


# check_status BASE LIMIT SOURCE: polls /api/v1/status until the sample
# shows the child's 48 MiB, then checks the limit, its source and the ratio
# (RSS / limit: the budget is compared with the target's resident memory).
check_status() {
    python3 - "$1" "$2" "$3" <<'PY' || fail "status check ($2 $3)"
import json, sys, time, urllib.request
base, want_limit, want_src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = None
for _ in range(100):
    doc = json.load(urllib.request.urlopen(base + "/api/v1/status"))
    s = doc.get("sample")
    if s and s.get("rss_bytes") and s["rss_bytes"] > (40 << 20):
        break
    time.sleep(0.1)
else:
    sys.exit(f"the child's RSS never reached 40 MiB: {s}")
lim, src, ratio, rss = (s["effective_limit_bytes"], s["limit_source"],
                        s["usage_ratio"], s["rss_bytes"])
print(f"limit {lim} source {src} rss {rss} ratio {ratio}")
if src != want_src:
    sys.exit(f"limit_source {src}, want {want_src}")
if want_limit > 0 and lim != want_limit:
    sys.exit(f"effective_limit_bytes {lim}, want {want_limit}")
if want_limit < 0 and not (0 < lim < -want_limit):
    sys.exit(f"effective_limit_bytes {lim}, want below {-want_limit}")
if abs(ratio - rss / lim) > 1e-9:
    sys.exit(f"usage_ratio {ratio} is not rss/limit {rss / lim}")
PY
}

# 1. run --limit 64M: the budget is tighter than this machine and than any
#    cgroup limit the child has here.
"$MEMVIGIL" run --limit 64M --interval 200ms --listen 127.0.0.1:0 --quiet \
    -- python3 -c "$HOLD" 6 >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
base=$(endpoint_url)
check_status "$base" 67108864 config
curl -sSf "$base/metrics" >"$tmp/metrics" || fail "GET /metrics failed"
grep -Eq '^memvigil_effective_limit_bytes 6\.7108864e\+0?7$|^memvigil_effective_limit_bytes 67108864$' \
    "$tmp/metrics" || fail "memvigil_effective_limit_bytes is not 64 MiB: $(grep effective_limit "$tmp/metrics")"
rc=0
wait "$mv_pid" || rc=$?
mv_pid=
[ "$rc" -eq 0 ] || fail "memvigil run exited $rc"

# 2. a budget looser than the machine does not count
"$MEMVIGIL" run --limit 1000T --interval 200ms --listen 127.0.0.1:0 --quiet \
    -- python3 -c "$HOLD" 3 >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
base=$(endpoint_url)
check_status "$base" -1099511627776000 memtotal
wait "$mv_pid" || true
mv_pid=

# 3. watch --pid --limit
python3 -c "$HOLD" 30 &
holder=$!
"$MEMVIGIL" watch --pid "$holder" --limit 100M --interval 200ms \
    --listen 127.0.0.1:0 --quiet --duration 20s >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
base=$(endpoint_url)
check_status "$base" 104857600 config
kill "$mv_pid"
wait "$mv_pid" || true
mv_pid=

# 4. bad values
for bad in 0 -1M lots 12Q ""; do
    rc=0
    "$MEMVIGIL" watch --pid "$holder" --limit "$bad" --listen none \
        >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "--limit '$bad': exit $rc, want 2"
    grep -q "bad --limit" "$tmp/err" || fail "--limit '$bad': no message"
done
echo "PASS: limit_override"
