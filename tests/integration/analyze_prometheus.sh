#!/usr/bin/env bash
# analyze_prometheus.sh — `memvigil analyze --prometheus` against a REAL
# Prometheus (the Debian package) on loopback: two synthetic series over two
# days at 60 s (a steady leak under a GC sawtooth, and a flat sawtooth) are
# backfilled into a fresh TSDB with `promtool tsdb create-blocks-from
# openmetrics`, Prometheus is started on a free port, and analyze must judge
# each series by its labels: leak for the leaker, no_leak for the flat one.
# Also checks the error paths against the live server (a PromQL syntax error
# reported with Prometheus' own words, a query matching nothing, a server
# that is not there). Bounded: everything has a timeout; total < 60 s.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"

for tool in prometheus promtool curl jq python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

tmp=$(mktemp -d)
prom_pid=
cleanup() {
    if [ -n "$prom_pid" ]; then
        kill "$prom_pid" 2>/dev/null || true
        wait "$prom_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$tmp/prom.log" ] && tail -20 "$tmp/prom.log" >&2
    exit 1
}

# ---- synthetic data: 2 days at 60 s, ending a minute ago ----
now=$(date +%s)
python3 - "$now" >"$tmp/in.om" <<'EOF'
import random, sys
now = int(sys.argv[1])
MIB = 1024 * 1024
step, n = 60, 2 * 24 * 60
start = now - 60 - (n - 1) * step
rnd = random.Random(7)
print("# HELP mvtest_private_bytes synthetic private memory")
print("# TYPE mvtest_private_bytes gauge")
# leaker: 200 MiB + 20 MiB/h under a 15-minute GC sawtooth of 40 MiB
for i in range(n):
    t = start + i * step
    v = 200 * MIB + 20 * MIB * (i * step) / 3600 + 40 * MIB * (i % 15) / 15 \
        + rnd.random() * 2 * MIB
    print('mvtest_private_bytes{job="api",instance="leaker:9464"} %d %d' % (v, t))
# flat: 400 MiB under a 10-minute sawtooth of 50 MiB, noise
for i in range(n):
    t = start + i * step
    v = 400 * MIB + 50 * MIB * (i % 10) / 10 + rnd.random() * 4 * MIB
    print('mvtest_private_bytes{job="api",instance="flat:9464"} %d %d' % (v, t))
print("# EOF")
EOF

mkdir -p "$tmp/data"
timeout 30 promtool tsdb create-blocks-from openmetrics --quiet "$tmp/in.om" \
    "$tmp/data" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log" >&2; fail "promtool backfill"; }

cat >"$tmp/prometheus.yml" <<'EOF'
global:
  scrape_interval: 1h
scrape_configs: []
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Retention far beyond the data's age: blocks older than retention are
# deleted at startup.
prometheus --config.file="$tmp/prometheus.yml" \
    --storage.tsdb.path="$tmp/data" \
    --storage.tsdb.retention.time=3650d \
    --web.listen-address="127.0.0.1:$port" >"$tmp/prom.log" 2>&1 &
prom_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf -m 1 "$url/-/ready" >/dev/null 2>&1 && break
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    sleep 0.2
done
curl -sf -m 1 "$url/-/ready" >/dev/null || fail "prometheus not ready within 20 s"

# ---- the verdicts ----
rc=0
timeout 30 "$MEMVIGIL" analyze --prometheus "$url" --query 'mvtest_private_bytes' \
    --range 2d --step 60s --limit 2G --json >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$(wc -l <"$tmp/out")" -eq 2 ] || { cat "$tmp/out" "$tmp/err" >&2; fail "want 2 JSON lines"; }
jq -e . "$tmp/out" >/dev/null || fail "output is not JSON lines"
verdict() {
    jq -r --arg i "$1" 'select(.labels.instance == $i) | .verdict' "$tmp/out"
}
leak=$(verdict leaker:9464)
flat=$(verdict flat:9464)
[ "$leak" = leak ] || { cat "$tmp/out" >&2; fail "leaker judged '$leak', want leak"; }
[ "$flat" = no_leak ] || { cat "$tmp/out" >&2; fail "flat series judged '$flat', want no_leak"; }
[ "$rc" -eq 3 ] || fail "exit $rc with a leak, want 3"
jq -se 'first(.[] | select(.labels.instance == "leaker:9464")) |
       .labels.job == "api" and .labels.__name__ == "mvtest_private_bytes" and
       .points > 2800 and .detected_at_s > 0 and .detected_at_s < 172800 and
       .growth_bytes_per_hour > 15*1048576 and .growth_bytes_per_hour < 25*1048576 and
       .confidence > 0.5 and .time_to_limit_seconds > 0 and (.evidence | length) > 20 and
       .effective_limit_bytes == 2147483648 and .source == "'"$url"'"' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "leaker's fields"; }
jq -se 'first(.[] | select(.labels.instance == "flat:9464")) | .detected_at_s == null' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "flat series raised a leak alarm during the replay"; }
# the OOM-risk claim is printed for every series, apart from the verdict:
# flat never raises it; a slow leak's is a boolean with its evidence
jq -se 'first(.[] | select(.labels.instance == "flat:9464")) |
        .oom_risk_active == false and .oom_risk_at_s == null and (.oom_risk_evidence | length > 0)' \
    "$tmp/out" >/dev/null || { cat "$tmp/out" >&2; fail "flat series: OOM-risk fields"; }
jq -se 'first(.[] | select(.labels.instance == "leaker:9464")) |
        (.oom_risk_active | type) == "boolean" and has("oom_risk_at_s") and has("oom_risk_time_to_limit_seconds") and
        (.oom_risk_evidence | length > 0)' \
    "$tmp/out" >/dev/null || { cat "$tmp/out" >&2; fail "leaker: OOM-risk fields"; }

# text output names each series by its labels
rc=0
timeout 30 "$MEMVIGIL" analyze --prometheus "$url" --query 'mvtest_private_bytes{instance="flat:9464"}' \
    --range 2d --step 60s >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$tmp/err" >&2; fail "flat only: exit $rc, want 0"; }
grep -q '^mvtest_private_bytes{instance="flat:9464", job="api"}: no_leak$' "$tmp/out" \
    || { cat "$tmp/out" >&2; fail "text title"; }

# ---- errors from a live server ----
rc=0
"$MEMVIGIL" analyze --prometheus "$url" --query 'rate(' >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad PromQL: exit $rc, want 1"
grep -q "^memvigil analyze: $url: HTTP 400: Prometheus error: bad_data: 1:6: parse error: unclosed left parenthesis$" "$tmp/err" \
    || { cat "$tmp/err" >&2; fail "bad PromQL message"; }
rc=0
"$MEMVIGIL" analyze --prometheus "$url" --query 'no_such_metric' --range 1h >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "empty result: exit $rc, want 1"
grep -q "the response holds no series" "$tmp/err" || { cat "$tmp/err" >&2; fail "empty result message"; }
rc=0
"$MEMVIGIL" analyze --prometheus "$url" --query up --range 7d --step 10s >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || fail "too many points: exit $rc, want 2"
grep -q "Prometheus returns at most 11000 (raise --step to at least 55s)" "$tmp/err" \
    || { cat "$tmp/err" >&2; fail "too many points message"; }

kill "$prom_pid"
wait "$prom_pid" 2>/dev/null || true
prom_pid=
rc=0
"$MEMVIGIL" analyze --prometheus "$url" --query up --timeout 3s >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "server gone: exit $rc, want 1"
grep -q "^memvigil analyze: $url: cannot fetch: " "$tmp/err" || { cat "$tmp/err" >&2; fail "server gone message"; }
echo "ok: analyze against a real Prometheus"
