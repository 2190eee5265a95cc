#!/usr/bin/env bash
# node_oom_v1.sh — a REAL OOM kill in a container cgroup of a node-mode run
# (`watch --cgroup-root` over a REAL v1 memory hierarchy
# kubepods/burstable/pod<UID>/<ID>, names from a real HTTP server serving
# the recorded kubelet /pods document): the agent's ONE kernel-log watch
# hands the kill to its container, so the oom_kill event (event log, JSON)
# names the victim (pid, comm, anon-rss near the 64 MiB limit) and carries
# the container's labels (namespace, pod, container, pod_uid,
# container_id); memvigil_oom_kill_victim_rss_bytes carries them too; the
# kill is told once; memvigil_host_oom_kills_total appears once; the other
# container is still watched. Needs root, a writable v1 memory hierarchy,
# a readable /dev/kmsg, python3 and jq; otherwise prints SKIP and exits 0.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
LEAKY="$MV_BUILD/examples/leaky"
ROOT=/sys/fs/cgroup/memory
LIMIT=$((64 << 20))
HERE=$(cd "$(dirname "$0")" && pwd)

skip() { echo "SKIP: $*"; exit 0; }
[ -f "$ROOT/memory.limit_in_bytes" ] || skip "no cgroup v1 memory hierarchy at $ROOT"
[ "$(id -u)" -eq 0 ] || skip "not root"
[ -r /dev/kmsg ] || skip "no readable /dev/kmsg"
command -v python3 >/dev/null || skip "no python3"
command -v jq >/dev/null || skip "no jq"
command -v curl >/dev/null || skip "no curl"
T="$ROOT/memvigil-nodeoom-$$"
mkdir "$T" 2>/dev/null || skip "cannot create $T"

UID1=33333333-4444-4555-8666-000000000001
UID2=33333333-4444-4555-8666-000000000002
ID1=$(printf 'f%.0s' $(seq 63))1
ID2=$(printf 'a%.0s' $(seq 63))2
C1="$T/kubepods/burstable/pod$UID1/$ID1"
C2="$T/kubepods/besteffort/pod$UID2/$ID2"

tmp=$(mktemp -d)
mv_pid=
srv_pid=
cleanup() {
    for p in "$mv_pid" "$srv_pid"; do
        if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
    done
    cgroup_tree_remove "$T"
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$HERE/common.bash"

mkdir -p "$C1" "$C2"
echo $LIMIT >"$C1/memory.limit_in_bytes"
if [ -f "$C1/memory.memsw.limit_in_bytes" ]; then
    echo $LIMIT >"$C1/memory.memsw.limit_in_bytes" || true  # no swap escape
fi
echo 0 >"$C1/memory.oom_control" 2>/dev/null || true      # OOM killer on
(sh -c 'echo $$ > "$1/cgroup.procs"; exec sleep 300' holder "$C2" >/dev/null 2>&1 &)

mkdir "$tmp/www"
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
python3 -c '
import http.server, socketserver, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = socketserver.TCPServer(("127.0.0.1", 0), h)
print(s.server_address[1], flush=True)
s.serve_forever()' "$tmp/www" >"$tmp/srv.log" 2>/dev/null &
srv_pid=$!
kport=
for _ in $(seq 50); do kport=$(head -n 1 "$tmp/srv.log"); [ -n "$kport" ] && break; sleep 0.1; done
[ -n "$kport" ] || fail "the test's kubelet server did not start"

host_before=$(awk '$1 == "oom_kill" {print $2}' /proc/vmstat)
"$MEMVIGIL" watch --cgroup-root "$T" --interval 200ms --listen 127.0.0.1:0 \
    --kubelet "http://127.0.0.1:$kport" --event-log "$tmp/ev.jsonl" \
    >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
url=$(endpoint_url)
for _ in $(seq 100); do
    curl -sf "$url/metrics" >"$tmp/metrics" || true
    grep -q "container_id=\"$ID1\"" "$tmp/metrics" && break
    sleep 0.1
done
grep -q "container_id=\"$ID1\"" "$tmp/metrics" || fail "container 1 not watched"

sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --until-oom --leak-rate 16MiB --cache-cap 1MiB' \
    wrapper "$C1" "$LEAKY" &
victim=$!
wait "$victim" || true
ev=
for _ in $(seq 100); do
    ev=$(grep '"event":"oom_kill"' "$tmp/ev.jsonl" 2>/dev/null | head -n 1 || true)
    [ -n "$ev" ] && break
    sleep 0.1
done
[ -n "$ev" ] || fail "no oom_kill event in the event log: $(cat "$tmp/ev.jsonl" 2>/dev/null)"
[ "$(jq -r .oom_kill.pid <<<"$ev")" = "$victim" ] || fail "victim pid, want $victim: $ev"
[ "$(jq -r .oom_kill.comm <<<"$ev")" = leaky ] || fail "victim comm: $ev"
[ "$(jq -r .oom_kill.constraint <<<"$ev")" = cgroup ] || fail "constraint: $ev"
anon=$(jq -r .oom_kill.anon_rss_bytes <<<"$ev")
if [ "$anon" -lt $((LIMIT * 3 / 4)) ] || [ "$anon" -gt $((LIMIT + (1 << 20))) ]; then
    fail "anon-rss at the kill $anon, want about the limit $LIMIT: $ev"
fi
[ "$(jq -r .labels.container_id <<<"$ev")" = "$ID1" ] || fail "event container_id: $ev"
[ "$(jq -r .labels.pod_uid <<<"$ev")" = "$UID1" ] || fail "event pod_uid: $ev"
[ "$(jq -r '.labels.namespace + "/" + .labels.pod + "/" + .labels.container' <<<"$ev")" = \
  "shop/web-7d4b9c8f6-x2x9k/web" ] || fail "event names: $ev"
grep -q "\[shop/web-7d4b9c8f6-x2x9k/web\] .*the kernel killed pid $victim (leaky) at anon-rss" "$tmp/out" ||
    fail "the event line does not name the container and the victim"

sleep 1   # a few ticks: the counter's rise must not be told again
[ "$(grep -c '"event":"oom_kill"' "$tmp/ev.jsonl")" -eq 1 ] || fail "one kill told $(grep -c '"event":"oom_kill"' "$tmp/ev.jsonl") times"
curl -fsS "$url/metrics" >"$tmp/metrics" || fail "no /metrics"
grep -E "^memvigil_oom_kill_victim_rss_bytes\{pid=\"$victim\",comm=\"leaky\",cgroup=\"/memvigil-nodeoom-$$/kubepods/burstable/pod$UID1/$ID1\",constraint=\"cgroup\",type=\"anon\",namespace=\"shop\",pod=\"web-7d4b9c8f6-x2x9k\",container=\"web\",pod_uid=\"$UID1\",container_id=\"$ID1\"" \
    "$tmp/metrics" >"$tmp/victim" || fail "no victim metric with the container's labels: $(grep oom_kill_victim "$tmp/metrics")"
v=$(awk '{print $NF}' "$tmp/victim")
[ "$v" -ge $((LIMIT * 3 / 4)) ] || fail "victim anon-rss metric $v, want about $LIMIT"
[ "$(grep -c '^memvigil_host_oom_kills_total ' "$tmp/metrics")" -eq 1 ] || fail "host kills not exactly once"
h=$(awk '$1 == "memvigil_host_oom_kills_total" {print $2}' "$tmp/metrics")
[ "$h" -gt "$host_before" ] || fail "memvigil_host_oom_kills_total $h, want more than $host_before"
grep -q "^memvigil_target_up{.*container_id=\"$ID2\".*} 1" "$tmp/metrics" || fail "the other container is no longer watched"
echo "PASS: node_oom_v1: $(cat "$tmp/victim"); host kills $host_before -> $h"
