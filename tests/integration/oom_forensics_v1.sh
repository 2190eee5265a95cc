#!/usr/bin/env bash
# oom_forensics_v1.sh — a REAL OOM kill in a test-made cgroup v1 memory
# cgroup is reported with its victim, read from the kernel log:
#  1. `memvigil run`: the oom_kill event (stdout, recording) names the
#     target's pid and comm and its anon-rss at the kill (about the 64 MiB
#     limit); the exit message says so; the report shows it.
#  2. `memvigil watch --cgroup`: a process in the watched cgroup is killed;
#     /metrics has memvigil_oom_kill_victim_rss_bytes for it and
#     memvigil_host_oom_kills_total at least /proc/vmstat's count before.
#  3. the kernel log not permitted (memvigil as user nobody, /dev/kmsg under
#     kernel.dmesg_restrict=1, or a root-only --kmsg file): one clear
#     message, and sampling goes on.
# Needs root and a writable v1 memory hierarchy; otherwise prints SKIP and
# exits 0.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
LEAKY="$MV_BUILD/examples/leaky"
ROOT=/sys/fs/cgroup/memory
LIMIT=$((64 << 20))

skip() { echo "SKIP: $*"; exit 0; }
[ -f "$ROOT/memory.limit_in_bytes" ] || skip "no cgroup v1 memory hierarchy at $ROOT"
[ "$(id -u)" -eq 0 ] || skip "not root"
[ -r /dev/kmsg ] || skip "no readable /dev/kmsg"
CG="$ROOT/memvigil-oomf-$$"
mkdir "$CG" 2>/dev/null || skip "cannot create $CG"

tmp=$(mktemp -d)
chmod 755 "$tmp"
bg_pid=
cleanup() {
    if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; fi
    if [ -f "$CG/cgroup.procs" ]; then
        while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$CG/cgroup.procs"
    fi
    for _ in $(seq 50); do
        rmdir "$CG" 2>/dev/null && break
        sleep 0.1
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

echo $LIMIT >"$CG/memory.limit_in_bytes"
if [ -f "$CG/memory.memsw.limit_in_bytes" ]; then
    echo $LIMIT >"$CG/memory.memsw.limit_in_bytes" || true  # no swap escape
fi
echo 0 >"$CG/memory.oom_control" 2>/dev/null || true      # OOM killer on

# ---- 1. run: the target itself is the victim -------------------------------
rc=0
timeout 60 "$MEMVIGIL" run --interval 200ms --listen none --record "$tmp/rec.jsonl" -- \
    sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --until-oom --leak-rate 16MiB --cache-cap 1MiB' \
    wrapper "$CG" "$LEAKY" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 137 ] || fail "memvigil exited $rc, want 137"
target=$(head -n 1 "$tmp/rec.jsonl" | jq -r .pid)
[ "$target" -gt 0 ] || fail "no target pid in the recording header"
ev=$(grep '"event":"oom_kill"' "$tmp/rec.jsonl" | head -n 1)
[ -n "$ev" ] || fail "no oom_kill event in the recording"
[ "$(jq -r .oom_kill.pid <<<"$ev")" = "$target" ] ||
    fail "victim pid $(jq -r .oom_kill.pid <<<"$ev"), want the target $target: $ev"
[ "$(jq -r .oom_kill.comm <<<"$ev")" = leaky ] || fail "victim comm: $ev"
[ "$(jq -r .oom_kill.constraint <<<"$ev")" = cgroup ] || fail "constraint: $ev"
[ "$(jq -r .oom_kill.task_cgroup <<<"$ev")" = "/memvigil-oomf-$$" ] || fail "task_cgroup: $ev"
anon=$(jq -r .oom_kill.anon_rss_bytes <<<"$ev")
# at the kill the leak has filled the limit: anon-rss within 75%..100%+1MiB
if [ "$anon" -lt $((LIMIT * 3 / 4)) ] || [ "$anon" -gt $((LIMIT + (1 << 20))) ]; then
    fail "anon-rss at the kill $anon, want about the limit $LIMIT: $ev"
fi
grep -q "OOM kill in cgroup .*: the kernel killed pid $target (leaky) at anon-rss" "$tmp/out" ||
    fail "the oom_kill event line does not name the victim"
grep -q "killed by the kernel OOM killer: pid $target (leaky) at anon-rss" "$tmp/err" ||
    fail "the exit message does not name the victim"
[ "$(grep -c '"event":"oom_kill"' "$tmp/rec.jsonl")" -eq 1 ] || fail "one kill told twice"
"$MEMVIGIL" report "$tmp/rec.jsonl" --format text >"$tmp/report.txt"
grep -q "the kernel killed pid $target (leaky)" "$tmp/report.txt" ||
    fail "the report does not show the victim"
grep -q "OOM killer struck 1 time; last: the kernel killed pid $target (leaky) at anon-rss" "$tmp/report.txt" ||
    fail "the report's advice does not name the victim"
"$MEMVIGIL" report "$tmp/rec.jsonl" --format html -o "$tmp/report.html"
grep -q "the kernel killed pid $target (leaky)" "$tmp/report.html" ||
    fail "the HTML report does not show the victim"
echo "ok 1: run: $(grep 'OOM killer' "$tmp/err")"

# ---- 2. watch --cgroup: a process in the cgroup, the metrics ----------------
host_before=$(awk '$1 == "oom_kill" {print $2}' /proc/vmstat)
"$MEMVIGIL" watch --cgroup "$CG" --interval 200ms --listen 127.0.0.1:0 --quiet \
    --duration 60s >"$tmp/out" 2>"$tmp/err" &
bg_pid=$!
url=$(endpoint_url)
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --until-oom --leak-rate 16MiB --cache-cap 1MiB' \
    wrapper "$CG" "$LEAKY" &
victim=$!
wait "$victim" || true
for _ in $(seq 50); do
    grep -q "the kernel killed pid $victim (leaky)" "$tmp/out" && break
    sleep 0.1
done
grep -q "the kernel killed pid $victim (leaky)" "$tmp/out" || fail "watch: no oom_kill event naming pid $victim"
curl -fsS "$url/metrics" >"$tmp/metrics" || fail "no /metrics"
grep -E "^memvigil_oom_kill_victim_rss_bytes\{pid=\"$victim\",comm=\"leaky\",cgroup=\"/memvigil-oomf-$$\",constraint=\"cgroup\",type=\"anon\"\} [0-9]+" \
    "$tmp/metrics" >"$tmp/victim" || fail "no victim metric: $(grep oom "$tmp/metrics")"
v=$(awk '{print $2}' "$tmp/victim")
[ "$v" -ge $((LIMIT * 3 / 4)) ] || fail "victim anon-rss metric $v, want about $LIMIT"
h=$(awk '$1 == "memvigil_host_oom_kills_total" {print $2}' "$tmp/metrics")
if [ -z "$h" ] || [ "$h" -le "$host_before" ]; then
    fail "memvigil_host_oom_kills_total '$h', want more than $host_before (before the kill)"
fi
kill "$bg_pid"; wait "$bg_pid" 2>/dev/null || true; bg_pid=
echo "ok 2: watch: $(cat "$tmp/victim"); host kills $host_before -> $h"

# ---- 3. the kernel log not permitted -----------------------------------------
if [ "$(sysctl -n kernel.dmesg_restrict 2>/dev/null || echo 0)" = 1 ]; then
    kmsg=/dev/kmsg        # the real thing: EPERM for a user without CAP_SYSLOG
else
    kmsg=$tmp/kmsg-root-only
    : >"$kmsg"; chmod 600 "$kmsg"
fi
mkdir "$tmp/nobody" && chown nobody "$tmp/nobody"
rc=0
timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    "$MEMVIGIL" run --kmsg "$kmsg" --interval 200ms --listen none --quiet \
    --record "$tmp/nobody/rec.jsonl" -- sleep 1.5 >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 0 ] || fail "memvigil as nobody exited $rc"
grep -q "kernel log $kmsg not permitted" "$tmp/out" || fail "no clear 'not permitted' message"
grep -q "memory.events only" "$tmp/out" || fail "the message does not say what is left"
[ "$(grep -c "not permitted" "$tmp/out")" -eq 1 ] || fail "the message is not given once"
n=$(grep -c '"type":"sample"' "$tmp/nobody/rec.jsonl" || true)
[ "$n" -ge 3 ] || fail "sampling did not go on: $n sample lines"
echo "ok 3: not permitted: $(grep -o 'kernel log .* not permitted ([^)]*)' "$tmp/out")"
echo "PASS: oom_forensics_v1"
