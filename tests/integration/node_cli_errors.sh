#!/usr/bin/env bash
# node_cli_errors.sh — `memvigil watch --cgroup-root` (node mode) refuses
# bad command lines with one clear line and exit 2 (node options without
# the root, a single-target option with it, bad values: --leak-min-rise and
# --oom-risk-horizon with watch's own words), and a root that is no memory
# cgroup hierarchy with exit 1; it takes the two leak settings; on the v2
# fixture tree it starts,
# says how many containers it watches, and exits 0 at --duration; its
# endpoint wants the --token, serves metrics that `promtool check metrics`
# accepts, and the status JSON.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_FIXTURES:?MV_FIXTURES must name tests/fixtures}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"
V2="$MV_FIXTURES/node/v2/cgroup"

# expect RC PATTERN ARGS...: memvigil watch ARGS exits RC, stderr matches
expect() {
    local want=$1 pattern=$2 rc=0
    shift 2
    timeout 20 "$MEMVIGIL" watch "$@" --listen none >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "watch $*: exit $rc, want $want"
    grep -q -- "$pattern" "$tmp/err" || fail "watch $*: stderr lacks '$pattern'"
    [ "$(wc -l <"$tmp/err")" -le 2 ] || fail "watch $*: more than one error line"
}

expect 2 "need --cgroup-root PATH" --services '*.service'
expect 2 "need --cgroup-root PATH" --grace 1m
expect 2 "cannot be combined with --pid" --cgroup-root "$V2" --pid 1
expect 2 "cannot be combined with --pid" --cgroup-root "$V2" --cgroup /x
expect 2 "--limit applies to one target" --cgroup-root "$V2" --limit 1G
expect 2 "--record applies to one target" --cgroup-root "$V2" --record "$tmp/r.jsonl"
expect 2 "--on-alert applies to one target" --cgroup-root "$V2" --on-alert /bin/true
expect 2 "--cpu-budget is not supported" --cgroup-root "$V2" --cpu-budget 0.02
expect 2 "--alloc-window is not supported" --cgroup-root "$V2" --alloc-window 3s
# the leak settings are watch's: the same parser, the same words, exit 2
# bad_setting OPTION VALUE: a usage error in node mode, worded as watch's
bad_setting() {
    expect 2 "bad $1 '$2': expected a duration from" --cgroup-root "$V2" "$1" "$2"
    cp "$tmp/err" "$tmp/err.node"
    expect 2 "bad $1 '$2'" --pid $$ "$1" "$2"
    cmp -s "$tmp/err" "$tmp/err.node" ||
        fail "$1 $2: node mode says '$(cat "$tmp/err.node")', watch says '$(cat "$tmp/err")'"
}
bad_setting --oom-risk-horizon 10s
bad_setting --leak-min-rise 0
bad_setting --oom-risk-horizon 31d
bad_setting --leak-min-rise soon
expect 2 "bad --grace 'soon'" --cgroup-root "$V2" --grace soon
expect 2 "bad --max-containers '0'" --cgroup-root "$V2" --max-containers 0
expect 2 "bad --max-containers 'lots'" --cgroup-root "$V2" --max-containers lots
expect 2 "empty --services" --cgroup-root "$V2" --services ''
expect 2 "need --cgroup-root PATH" --kubelet http://127.0.0.1:10255
expect 2 "bad --kubelet 'ftp://x'" --cgroup-root "$V2" --kubelet ftp://x
expect 2 "need --kubelet URL" --cgroup-root "$V2" --kubelet-insecure-tls
expect 2 "would send the token in clear" --cgroup-root "$V2" --kubelet http://127.0.0.1:10255 --kubelet-token-file /dev/null
expect 1 "no memory cgroup hierarchy at '$tmp'" --cgroup-root "$tmp"
expect 1 "no memory cgroup hierarchy at '/nonexistent" --cgroup-root /nonexistent/mv
# options anywhere; a good start and a clean stop
expect 0 "watching 6 containers (6 up)" --duration 1s --cgroup-root "$V2" --services '*.service' --interval 200ms
[ ! -s "$tmp/out" ] || fail "events on a quiet fixture tree: $(cat "$tmp/out")"
# the leak patience and OOM-risk horizon are taken (unit_node shows they
# reach every container's detector)
expect 0 "watching 4 containers (4 up)" --cgroup-root "$V2" --leak-min-rise 3h \
    --oom-risk-horizon 6h --duration 1s --interval 200ms
[ ! -s "$tmp/out" ] || fail "events with the leak settings: $(cat "$tmp/out")"

# the endpoint follows the agent's rules: a token is required when set
"$MEMVIGIL" watch --cgroup-root "$V2" --listen 127.0.0.1:0 --token s3cret \
    --interval 200ms --duration 20s >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=$(endpoint_url)
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/metrics")
[ "$code" = 401 ] || fail "/metrics without the token: HTTP $code, want 401"
curl -sf -H 'Authorization: Bearer s3cret' "$url/metrics" >"$tmp/metrics" ||
    fail "/metrics with the token failed"
grep -qx 'memvigil_node_containers 4' "$tmp/metrics" || fail "want 4 containers (no --services)"
if command -v promtool >/dev/null; then   # Prometheus's own linter
    promtool check metrics <"$tmp/metrics" >"$tmp/lint" 2>&1 || fail "promtool check metrics: $(cat "$tmp/lint")"
fi
curl -sf -H 'Authorization: Bearer s3cret' "$url/api/v1/status" >"$tmp/status.json" ||
    fail "/api/v1/status failed"
jq -e '.containers | length == 4' "$tmp/status.json" >/dev/null || fail "status JSON: $(cat "$tmp/status.json")"
kill "$pid"
wait "$pid" || fail "memvigil exited $? on SIGTERM"
echo "PASS: node_cli_errors"
