#!/usr/bin/env bash
# node_kubelet_names_v1.sh — node mode names containers from the kubelet's
# pods API: a REAL cgroup v1 hierarchy (kubepods/burstable/pod<UID>/<ID>
# with real processes) and a real HTTP server (python3 http.server) serving
# the recorded /pods document (tests/fixtures/kubelet/pods.json) with its
# pod UIDs and container IDs set to those of the test's cgroups. Checks:
# names resolve on /metrics; with the server stopped the series keep the
# names they had; a run that starts with no server keeps IDs, says so, and
# fills the names in once the server answers; a server answering garbage
# or never answering gives a clear message and the containers keep being
# watched. Needs root, a writable v1 memory hierarchy and python3;
# otherwise prints SKIP and exits 0.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
ROOT=/sys/fs/cgroup/memory
HERE=$(cd "$(dirname "$0")" && pwd)

skip() { echo "SKIP: $*"; exit 0; }
[ -f "$ROOT/memory.limit_in_bytes" ] || skip "no cgroup v1 memory hierarchy at $ROOT"
[ "$(id -u)" -eq 0 ] || skip "not root"
command -v curl >/dev/null || skip "no curl"
command -v python3 >/dev/null || skip "no python3"
T="$ROOT/memvigil-nodekube-test-$$"
mkdir "$T" 2>/dev/null || skip "cannot create $T"

UID1=22222222-3333-4444-8555-000000000001
UID2=22222222-3333-4444-8555-000000000002
ID1=$(printf 'd%.0s' $(seq 63))1
ID2=$(printf 'e%.0s' $(seq 63))2
C1="$T/kubepods/burstable/pod$UID1/$ID1"
C2="$T/kubepods/besteffort/pod$UID2/$ID2"

tmp=$(mktemp -d)
mv_pid=
srv_pid=
stop_server() {
    if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
    srv_pid=
}
stop_agent() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; wait "$mv_pid" 2>/dev/null || true; fi
    mv_pid=
}
cleanup() {
    stop_agent
    stop_server
    cgroup_tree_remove "$T"
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$HERE/common.bash"

start_in() {
    (sh -c 'echo $$ > "$1/cgroup.procs"; x=$(head -c 4000000 /dev/zero | tr "\0" a); sleep 300; echo "${#x}"' \
        holder "$1" >/dev/null 2>&1 &)
}
mkdir -p "$C1" "$C2"
start_in "$C1"
start_in "$C2"

# the recorded document, its first two pods re-pointed at the test's cgroups
mkdir "$tmp/www" "$tmp/garbage"
python3 - "$HERE/../fixtures/kubelet/pods.json" "$tmp/www/pods" \
    "$UID1" "containerd://$ID1" "$UID2" "cri-o://$ID2" <<'PY'
import json, sys
src, dst, uid1, cid1, uid2, cid2 = sys.argv[1:]
d = json.load(open(src))
shop, jobs = d["items"][0], d["items"][1]
shop["metadata"]["uid"] = uid1
[c for c in shop["status"]["containerStatuses"] if c["name"] == "web"][0]["containerID"] = cid1
jobs["metadata"]["uid"] = uid2
jobs["status"]["containerStatuses"][0]["containerID"] = cid2
json.dump(d, open(dst, "w"))
PY
printf '{"kind": "PodList", "items": [{"metadata": ' >"$tmp/garbage/pods"   # torn

# serve DIR: a real HTTP server on a free port serving DIR; sets $kport
serve() {
    : >"$tmp/srv.log"
    python3 -c '
import http.server, socketserver, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = socketserver.TCPServer(("127.0.0.1", int(sys.argv[2])), h)
print(s.server_address[1], flush=True)
s.serve_forever()' "$1" "${2:-0}" >"$tmp/srv.log" 2>/dev/null &
    srv_pid=$!
    for _ in $(seq 50); do kport=$(head -n 1 "$tmp/srv.log"); [ -n "$kport" ] && break; sleep 0.1; done
    [ -n "$kport" ] || fail "the test's kubelet server did not start"
}
# agent ARGS...: node mode over the test's tree
agent() {
    "$MEMVIGIL" watch --cgroup-root "$T" --interval 300ms --listen 127.0.0.1:0 \
        "$@" >"$tmp/out" 2>"$tmp/err" &
    mv_pid=$!
    url=$(endpoint_url)
}
scrape() { curl -sf "$url/metrics" >"$tmp/metrics" || fail "scrape failed"; }
wait_for() {   # COND... retried for up to 10 s
    for _ in $(seq 100); do
        scrape
        if "$@"; then return 0; fi
        sleep 0.1
    done
    return 1
}
named() {   # the working-set series of container $1 carries labels $2
    grep "^memvigil_cgroup_usage_bytes{" "$tmp/metrics" | grep -F "container_id=\"$1\"" | grep -qF "$2"
}
watched() { grep -qx "memvigil_node_containers 2" "$tmp/metrics"; }
LBL1='namespace="shop",pod="web-7d4b9c8f6-x2x9k",container="web"'
LBL2='namespace="jobs",pod="batch-job-28374650-q8w2d",container="worker"'

# 1. the kubelet answers: names on /metrics
serve "$tmp/www"
agent --kubelet "http://127.0.0.1:$kport"
wait_for named "$ID1" "$LBL1" || fail "container 1 not named: $(grep "$ID1" "$tmp/metrics" | head -n 2)"
named "$ID2" "$LBL2" || fail "container 2 not named: $(grep "$ID2" "$tmp/metrics" | head -n 2)"
named "$ID1" "pod_uid=\"$UID1\"" || fail "container 1 lost its pod_uid"
# 2. the kubelet goes away: the series keep the names they had
stop_server
sleep 2
scrape
named "$ID1" "$LBL1" || fail "container 1 lost its names when the kubelet went away"
named "$ID2" "$LBL2" || fail "container 2 lost its names when the kubelet went away"
stop_agent

# 3. a run that starts with the kubelet down: IDs only, said once; names
#    fill in when it comes up on that port
serve "$tmp/www"; port=$kport; stop_server
agent --kubelet "http://127.0.0.1:$port"
wait_for watched || fail "containers not watched with the kubelet down"
named "$ID1" 'namespace="",pod="",container=""' || fail "container 1 should have empty names: $(grep "$ID1" "$tmp/metrics" | head -n 1)"
named "$ID1" "container_id=\"$ID1\"" || fail "container 1 lost its ID"
grep -q "kubelet http://127.0.0.1:$port/pods: .*containers are named by their IDs until it answers" "$tmp/err" ||
    fail "no clear message about the kubelet being down"
serve "$tmp/www" "$port"
wait_for named "$ID1" "$LBL1" || fail "names did not fill in once the kubelet answered"
grep -q "answers again" "$tmp/err" || fail "no message saying the kubelet answers again"
stop_agent; stop_server

# 4. a kubelet answering garbage: clear message, containers watched
serve "$tmp/garbage"
agent --kubelet "http://127.0.0.1:$kport"
wait_for watched || fail "containers not watched with a garbage kubelet"
for _ in $(seq 50); do grep -q "kubelet http://127.0.0.1:$kport/pods: " "$tmp/err" && break; sleep 0.1; done
grep -q "kubelet http://127.0.0.1:$kport/pods: .*named by their IDs" "$tmp/err" || fail "no clear message about a garbage answer"
named "$ID2" 'namespace="",pod=""' || fail "a garbage answer named container 2"
stop_agent; stop_server

# 5. a kubelet that accepts and never answers: times out (5 s), said, the
#    containers are still sampled meanwhile
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' >"$tmp/srv.log" 2>/dev/null &
srv_pid=$!
for _ in $(seq 50); do kport=$(head -n 1 "$tmp/srv.log"); [ -n "$kport" ] && break; sleep 0.1; done
agent --kubelet "http://127.0.0.1:$kport"
wait_for watched || fail "containers not watched with a hanging kubelet"
t0=$(grep -m1 "^memvigil_tick_duration_seconds_count " "$tmp/metrics" | awk '{print $2}')
for _ in $(seq 120); do grep -q "kubelet http://127.0.0.1:$kport/pods: " "$tmp/err" && break; sleep 0.1; done
grep -qi "kubelet http://127.0.0.1:$kport/pods: .*tim" "$tmp/err" || fail "no clear timeout message"
# the main loop is (again) inside a 5 s fetch; ticks go on meanwhile
ticks_above() { t1=$(grep -m1 "^memvigil_tick_duration_seconds_count " "$tmp/metrics" | awk '{print $2}'); [ "${t1%.*}" -gt "$((${t0%.*} + 2))" ]; }
wait_for ticks_above || fail "sampling stalled behind the hanging kubelet ($t0 -> $t1 ticks)"
stop_agent; stop_server
echo "PASS: node_kubelet_names_v1: names resolve, survive the kubelet going away, fill in later; garbage and hangs are told"
