#!/usr/bin/env bash
# fleet_e2e.sh — end to end on the real engines, on loopback: a Prometheus
# (Debian package) scrapes two `memvigil run` agents every second — one
# watching examples/leaky leaking 160 KiB/s under a 256 MiB cgroup v1 memory
# limit (target="leaky"), one watching leaky with no leak (target="flat") —
# evaluates deploy/prometheus/memvigil-rules.yml every second and sends its
# alerts to an Alertmanager (Debian package, clustering off, group_wait 1s),
# which delivers them to a webhook receiver in this test (python3
# http.server). Asserts:
#   - MemvigilOOMImminent (memvigil's time-to-limit under 30 min) arrives at
#     the webhook, firing, with severity=critical, job=memvigil,
#     target=leaky and the leaky agent's instance;
#   - nothing about the flat control target arrives, and Prometheus holds no
#     pending or firing alert for it;
#   - memvigil's live leak verdict for each target (memvigil_leak_verdict,
#     read back from Prometheus) equals what `memvigil analyze --prometheus`
#     says about the same target's series on the same server.
#
# Timing. The rules' `for:` durations are production ones (minutes); the test
# loads a copy with every `for:` set to 5s and the recording group's
# interval set to 1s (sed, below). The leak detector judges windows of 15
# minutes and up and needs 90% of one covered, so within the default run
# (about 75 s) both live and offline verdicts are insufficient_data — the
# test asserts that they agree, and that no leak alert fires on the flat
# target. MV_E2E_LONG=1 runs 17 minutes instead and then also asserts that
# MemvigilLeakConfirmed (verdict="leak") and MemvigilTimeToLimitShort arrive
# for the leaky target only, and that analyze says "leak" for it and
# "no_leak" for the flat one, like the live detector. (First tried at the
# time of writing: the live verdict had not reached "leak" after 17.5 min at
# 160 KiB/s against 256 MiB, so the long mode fails until the detector's
# wiring or this rate is tuned; the default mode is unaffected.)
#
# Without root or a cgroup v1 memory hierarchy the leaky target runs without
# a cgroup: its limit is the host's MemTotal, so the copy of the rules also
# widens MemvigilOOMImminent's horizon from 30 min to 30 days (say so).
# SKIP (exit 0) only when prometheus / prometheus-alertmanager cannot be
# found (install them with scripts/install-deps.sh).
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
LEAKY="$MV_BUILD/examples/leaky"
RULES="$MV_SOURCE/deploy/prometheus/memvigil-rules.yml"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
LONG=${MV_E2E_LONG:-0}
if [ "$LONG" = 1 ]; then RUN_S=1080; WATCH_S=1050; else RUN_S=150; WATCH_S=75; fi
LIMIT=256M
RATE=160KiB

skip() { echo "SKIP: $*"; exit 0; }
if [ ! -x "$PROMETHEUS" ] || [ ! -x "$ALERTMANAGER" ]; then
    if [ -x "$MV_SOURCE/scripts/install-deps.sh" ] || [ -f "$MV_SOURCE/scripts/install-deps.sh" ]; then
        bash "$MV_SOURCE/scripts/install-deps.sh" >/dev/null 2>&1 || true
    fi
fi
[ -x "$PROMETHEUS" ] || skip "no $PROMETHEUS (Debian package prometheus could not be installed)"
[ -x "$ALERTMANAGER" ] || skip "no $ALERTMANAGER (Debian package prometheus-alertmanager could not be installed)"
command -v curl >/dev/null || skip "curl not installed"
command -v jq >/dev/null || skip "jq not installed"

tmp=$(mktemp -d)
pids=()
CG=
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -n "$CG" ] && [ -d "$CG" ]; then
        if [ -f "$CG/cgroup.procs" ]; then
            while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$CG/cgroup.procs"
        fi
        for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in prom.log am.log hook.log leaky.err flat.err alerts.jsonl; do
        [ -s "$tmp/$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$tmp/$f" >&2; }
    done
    exit 1
}
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() { # URL TRIES
    for _ in $(seq "$2"); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done
    return 1
}

# ---- the cgroup for the leaky target ----
ROOT=/sys/fs/cgroup/memory
horizon_note=
if [ "$(id -u)" -eq 0 ] && [ -f "$ROOT/memory.limit_in_bytes" ] &&
   mkdir "$ROOT/memvigil-fleet-e2e-$$" 2>/dev/null; then
    CG="$ROOT/memvigil-fleet-e2e-$$"
    echo "$LIMIT" >"$CG/memory.limit_in_bytes"
else
    horizon_note="no writable cgroup v1 memory hierarchy (or not root): limit is MemTotal, MemvigilOOMImminent horizon widened to 30 days"
    echo "NOTE: $horizon_note"
fi

# ---- the two agents ----
LEAKY_PORT=$(free_port)
FLAT_PORT=$(free_port)
if [ -n "$CG" ]; then
    "$MEMVIGIL" run --interval 250ms --listen "127.0.0.1:$LEAKY_PORT" --quiet -- \
        sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --seconds "$3" --leak-rate "$4" --cache-cap 256KiB' \
        wrapper "$CG" "$LEAKY" "$RUN_S" "$RATE" >"$tmp/leaky.out" 2>"$tmp/leaky.err" &
else
    "$MEMVIGIL" run --interval 250ms --listen "127.0.0.1:$LEAKY_PORT" --quiet -- \
        "$LEAKY" --seconds "$RUN_S" --leak-rate "$RATE" --cache-cap 256KiB \
        >"$tmp/leaky.out" 2>"$tmp/leaky.err" &
fi
pids+=($!)
"$MEMVIGIL" run --interval 250ms --listen "127.0.0.1:$FLAT_PORT" --quiet -- \
    "$LEAKY" --seconds "$RUN_S" --leak-rate 0 --cache-cap 256KiB \
    >"$tmp/flat.out" 2>"$tmp/flat.err" &
pids+=($!)
wait_http "http://127.0.0.1:$LEAKY_PORT/metrics" 50 || fail "leaky agent does not serve /metrics"
wait_http "http://127.0.0.1:$FLAT_PORT/metrics" 50 || fail "flat agent does not serve /metrics"

# ---- webhook receiver ----
HOOK_PORT=$(free_port)
python3 - "$HOOK_PORT" "$tmp/alerts.jsonl" >"$tmp/hook.log" 2>&1 <<'PY' &
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port, out = int(sys.argv[1]), sys.argv[2]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            for a in json.loads(body).get("alerts", []):
                f.write(json.dumps(a) + "\n")
        self.send_response(200); self.end_headers()
    def do_GET(self):
        self.send_response(200); self.end_headers()
HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pids+=($!)
wait_http "http://127.0.0.1:$HOOK_PORT/" 50 || fail "webhook receiver did not start"

# ---- Alertmanager ----
AM_PORT=$(free_port)
cat >"$tmp/am.yml" <<EOF
route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$HOOK_PORT/
        send_resolved: false
EOF
mkdir "$tmp/am-data"
"$ALERTMANAGER" --config.file="$tmp/am.yml" --storage.path="$tmp/am-data" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
    --log.level=warn >"$tmp/am.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$AM_PORT/-/ready" 100 || fail "Alertmanager did not become ready"

# ---- Prometheus with a fast copy of the rules ----
# every `for:` -> 5s, the recording group's interval -> 1s
sed -E -e 's/^([[:space:]]*)for: [0-9]+[smh]$/\1for: 5s/' \
       -e 's/^([[:space:]]*)interval: [0-9]+[smh]$/\1interval: 1s/' "$RULES" >"$tmp/rules.yml"
if [ -n "$horizon_note" ]; then
    sed -i -E 's/memvigil_time_to_limit_seconds < 1800$/memvigil_time_to_limit_seconds < 2592000/' "$tmp/rules.yml"
fi
grep -q 'for: 5s' "$tmp/rules.yml" || fail "sed did not shorten the for: durations"
PROM_PORT=$(free_port)
cat >"$tmp/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [$tmp/rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM_PORT']
scrape_configs:
  - job_name: memvigil
    static_configs:
      - targets: ['127.0.0.1:$LEAKY_PORT']
        labels: {target: leaky}
      - targets: ['127.0.0.1:$FLAT_PORT']
        labels: {target: flat}
EOF
"$PROMETHEUS" --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/prom-data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$tmp/prom.log" 2>&1 &
pids+=($!)
PROM="http://127.0.0.1:$PROM_PORT"
wait_http "$PROM/-/ready" 150 || fail "Prometheus did not become ready"

promq() { curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1"; }

# ---- watch the alerts arrive ----
want_long=(MemvigilOOMImminent)
[ "$LONG" = 1 ] && want_long+=(MemvigilLeakConfirmed MemvigilTimeToLimitShort)
start=$(date +%s)
got_all=
while :; do
    now=$(date +%s)
    elapsed=$((now - start))
    got_all=1
    for a in "${want_long[@]}"; do
        jq -e --arg a "$a" 'select(.labels.alertname == $a and .labels.target == "leaky")' \
            "$tmp/alerts.jsonl" >/dev/null 2>&1 || got_all=
    done
    # once everything wanted has arrived, keep watching the control for at
    # least 60 s in total so that its silence means something
    [ -n "$got_all" ] && [ "$elapsed" -ge 60 ] && break
    [ "$elapsed" -ge "$WATCH_S" ] && break
    sleep 1
done
[ -n "$got_all" ] || {
    promq 'ALERTS' >"$tmp/alerts_now.json" || true
    echo "--- ALERTS in Prometheus: $(cat "$tmp/alerts_now.json" 2>/dev/null)" >&2
    echo "--- live leak verdicts: $(promq 'memvigil_leak_verdict == 1' | jq -c '[.data.result[].metric | {target, verdict}]' 2>/dev/null)" >&2
    echo "--- leaky agent now: $(curl -sf "http://127.0.0.1:$LEAKY_PORT/metrics" | grep -E '^memvigil_(leak_|time_to_limit|growth_bytes|private_memory)' | tr '\n' ' ')" >&2
    fail "after ${elapsed}s not all of ${want_long[*]} reached the webhook for target=leaky"
}

# the OOM-imminent alert, with the right labels
jq -e --arg inst "127.0.0.1:$LEAKY_PORT" '
    select(.labels.alertname == "MemvigilOOMImminent") |
    select(.status == "firing" and .labels.severity == "critical" and
           .labels.job == "memvigil" and .labels.target == "leaky" and
           .labels.instance == $inst and
           (.annotations.runbook_url | endswith("#memvigiloomimminent")) and
           (.annotations.summary | length > 0))' "$tmp/alerts.jsonl" >/dev/null ||
    fail "MemvigilOOMImminent arrived without the expected labels/annotations"
if [ "$LONG" = 1 ]; then
    jq -e 'select(.labels.alertname == "MemvigilLeakConfirmed" and .labels.verdict == "leak" and
                  .labels.severity == "warning" and .labels.target == "leaky")' \
        "$tmp/alerts.jsonl" >/dev/null || fail "MemvigilLeakConfirmed lacks its labels"
fi

# the control target stayed quiet: nothing delivered, nothing pending
if jq -e 'select(.labels.target == "flat")' "$tmp/alerts.jsonl" >/dev/null 2>&1; then
    fail "an alert about the flat control target was delivered"
fi
n=$(promq 'ALERTS{target="flat"}' | jq '.data.result | length')
[ "$n" = 0 ] || fail "Prometheus holds $n pending/firing alerts for the flat target"
# and the rules really were evaluated against both (up == 1 for both)
n=$(promq 'up{job="memvigil"} == 1' | jq '.data.result | length')
[ "$n" = 2 ] || fail "expected both agents up in Prometheus, got $n"

# ---- live verdicts vs memvigil analyze on the same server ----
verdict_note=
live_verdict() { # TARGET -> verdict name, or empty
    promq "memvigil_leak_verdict{job=\"memvigil\",target=\"$1\"} == 1" |
        jq -r '.data.result[0].metric.verdict // empty'
}
if ! promq 'count(memvigil_leak_verdict)' | jq -e '.data.result | length > 0' >/dev/null; then
    if grep -q 'memvigil_leak_verdict' "$MV_SOURCE"/src/lib/expose*.c 2>/dev/null; then
        fail "memvigil exports no memvigil_leak_verdict, though expose names it"
    fi
    verdict_note="memvigil_leak_verdict not exported yet (leak detector not wired into the exposition): verdict comparison skipped"
elif ! "$MEMVIGIL" analyze --help >/dev/null 2>&1; then
    verdict_note="memvigil analyze not built: verdict comparison skipped"
else
    limit_leaky=$((256 * 1024 * 1024))
    [ -n "$CG" ] || limit_leaky=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
    limit_flat=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
    range=$(( $(date +%s) - start + 30 ))s
    for t in leaky flat; do
        lim=limit_$t
        live=$(live_verdict "$t")
        [ -n "$live" ] || fail "no live memvigil_leak_verdict == 1 for target=$t"
        rc=0
        "$MEMVIGIL" analyze --prometheus "$PROM" \
            --query "memvigil_private_memory_bytes{job=\"memvigil\",target=\"$t\"}" \
            --range "$range" --step 1s --limit "${!lim}" --json \
            >"$tmp/analyze_$t.json" 2>"$tmp/analyze_$t.err" || rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] ||
            { cat "$tmp/analyze_$t.err" >&2; fail "memvigil analyze --prometheus exited $rc for $t"; }
        n=$(jq -s 'length' "$tmp/analyze_$t.json")
        [ "$n" = 1 ] || fail "analyze returned $n series for target=$t, want 1"
        offline=$(jq -r '.verdict' "$tmp/analyze_$t.json")
        jq -e --arg t "$t" '.labels.target == $t' "$tmp/analyze_$t.json" >/dev/null ||
            fail "analyze's series labels do not name target=$t"
        [ "$offline" = "$live" ] ||
            fail "target=$t: live verdict $live but analyze --prometheus says $offline"
        if [ "$LONG" = 1 ]; then
            case "$t" in
            leaky) [ "$live" = leak ] || fail "after ${RUN_S}s the leaky target's verdict is $live" ;;
            flat) [ "$live" = no_leak ] || fail "after ${RUN_S}s the flat target's verdict is $live" ;;
            esac
            [ "$t" = leaky ] && [ "$rc" -ne 3 ] && fail "analyze exit $rc, want 3 (a leak)"
        fi
        eval "verdict_$t=\$live"
    done
fi

msg="PASS: fleet_e2e: ${want_long[*]} delivered for target=leaky (after $(( $(date +%s) - start ))s); flat control quiet"
if [ -z "$verdict_note" ]; then
    msg+="; live and analyze --prometheus verdicts agree (leaky: $verdict_leaky, flat: $verdict_flat)"
else
    echo "NOTE: $verdict_note"
fi
[ -z "$horizon_note" ] || msg+=" [$horizon_note]"
echo "$msg"
