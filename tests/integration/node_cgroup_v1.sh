#!/usr/bin/env bash
# node_cgroup_v1.sh — node mode on a REAL cgroup v1 memory hierarchy:
# builds kubepods/burstable/pod<UID>/<ID> and kubepods/pod<UID>/<ID> under
# a test cgroup with real processes and different limits (one on the pod,
# one on the container, one inherited from the test cgroup above the walk
# root), runs `memvigil watch --cgroup-root`, and checks on /metrics that
# each series carries its own limit and usage; a container added while
# the agent runs is picked up within an interval; one removed shows
# target_up 0 and is dropped after --grace. Needs root and a writable v1
# memory hierarchy; otherwise prints SKIP and exits 0.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
ROOT=/sys/fs/cgroup/memory

skip() { echo "SKIP: $*"; exit 0; }
[ -f "$ROOT/memory.limit_in_bytes" ] || skip "no cgroup v1 memory hierarchy at $ROOT"
[ "$(id -u)" -eq 0 ] || skip "not root"
command -v curl >/dev/null || skip "no curl"
T="$ROOT/memvigil-node-test-$$"
mkdir "$T" 2>/dev/null || skip "cannot create $T"

UID1=11111111-2222-4333-8444-000000000001
UID2=11111111-2222-4333-8444-000000000002
UID3=11111111-2222-4333-8444-000000000003
ID1=$(printf 'a%.0s' $(seq 63))1
ID2=$(printf 'b%.0s' $(seq 63))2
ID3=$(printf 'c%.0s' $(seq 63))3
C1="$T/kubepods/burstable/pod$UID1/$ID1"
C2="$T/kubepods/pod$UID2/$ID2"
C3="$T/kubepods/besteffort/pod$UID3/$ID3"

tmp=$(mktemp -d)
mv_pid=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; wait "$mv_pid" 2>/dev/null || true; fi
    cgroup_tree_remove "$T"
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# start_in CGROUP: a process holding ~8 MB of its own memory, in CGROUP
start_in() {
    # in a subshell: not a job of this shell, so its kill is not reported
    (sh -c 'echo $$ > "$1/cgroup.procs"; x=$(head -c 8000000 /dev/zero | tr "\0" a); sleep 300; echo "${#x}"' \
        holder "$1" >/dev/null 2>&1 &)
}

mkdir -p "$C1" "$C2" "$C3"
echo 512M >"$T/memory.limit_in_bytes"                     # above the walk root
echo 96M >"$T/kubepods/burstable/pod$UID1/memory.limit_in_bytes"  # the pod's
echo 48M >"$C2/memory.limit_in_bytes"                     # the container's
rmdir "$C3"                                               # appears later
start_in "$C1"
start_in "$C2"
sleep 0.5

"$MEMVIGIL" watch --cgroup-root "$T" --interval 500ms --grace 1s \
    --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
url=$(endpoint_url)

scrape() { curl -sf "$url/metrics" >"$tmp/metrics" || fail "scrape failed"; }
# value FAMILY NEEDLE: the value of FAMILY's sample whose labels hold NEEDLE
value() {
    grep "^$1{" "$tmp/metrics" | grep -F -- "$2" | head -n 1 | awk '{print $NF}'
}
# wait_for COND...: retries COND (after a scrape) for up to 5 s
wait_for() {
    for _ in $(seq 50); do
        scrape
        if "$@"; then return 0; fi
        sleep 0.1
    done
    return 1
}
has_containers() { grep -qx "memvigil_node_containers $1" "$tmp/metrics"; }
up_is() { [ "$(value memvigil_target_up "container_id=\"$1\"")" = "$2" ]; }

wait_for has_containers 2 || fail "want 2 containers: $(grep node_containers "$tmp/metrics")"
l1=$(value memvigil_effective_limit_bytes "container_id=\"$ID1\"")
l2=$(value memvigil_effective_limit_bytes "container_id=\"$ID2\"")
[ "$l1" = $((96 << 20)) ] || fail "burstable container: limit $l1, want the pod's 96 MiB"
[ "$l2" = $((48 << 20)) ] || fail "guaranteed container: limit $l2, want its own 48 MiB"
grep -q "^memvigil_cgroup_usage_bytes{.*pod_uid=\"$UID1\",container_id=\"$ID1\",qos=\"burstable\"" "$tmp/metrics" ||
    fail "no usage series with the burstable container's labels"
grep -q "container_id=\"$ID2\",qos=\"guaranteed\"" "$tmp/metrics" || fail "no guaranteed qos label"
usage_above() { local u; u=$(value memvigil_cgroup_usage_bytes "container_id=\"$1\""); [ "${u:-0}" -gt "$2" ]; }
wait_for usage_above "$ID1" $((4 << 20)) ||
    fail "usage of container 1 is $(value memvigil_cgroup_usage_bytes "container_id=\"$ID1\""), want > 4 MiB (its process holds 8 MB)"

# a container appears while the agent runs: picked up within an interval,
# with the 512 MiB of the test cgroup above the walk root
mkdir "$C3"
start_in "$C3"
wait_for has_containers 3 || fail "the new container was not picked up"
l3=$(value memvigil_effective_limit_bytes "container_id=\"$ID3\"")
[ "$l3" = $((512 << 20)) ] || fail "besteffort container: limit $l3, want the ancestor's 512 MiB"
[ "$(value memvigil_cgroup_limit_max_bytes "container_id=\"$ID1\"")" = $((96 << 20)) ] ||
    fail "container 1 lost its limit"

# one vanishes: target_up 0 during the grace period, then dropped
while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$C2/cgroup.procs"
for _ in $(seq 50); do rmdir "$C2" 2>/dev/null && break; sleep 0.1; done
[ ! -d "$C2" ] || fail "could not remove $C2"
wait_for up_is "$ID2" 0 || fail "the removed container is not target_up 0"
wait_for has_containers 2 || fail "the removed container was not dropped after its grace"
grep -qx "memvigil_node_containers_dropped_total 1" "$tmp/metrics" || fail "dropped count"
grep -q "container_id=\"$ID2\"" "$tmp/metrics" && fail "the dropped container still has series"
up_is "$ID1" 1 || fail "container 1 is no longer up"

kill "$mv_pid"
wait "$mv_pid" || fail "memvigil exited $? on SIGTERM"
mv_pid=
grep -q "watching 3 containers" "$tmp/err" || fail "no count line for 3 containers"
echo "PASS: node_cgroup_v1: limits 96M/48M/512M per container, appear, vanish, drop"
