#!/usr/bin/env bash
# record_full_disk.sh — `memvigil watch --record F` on a disk that fills up
# and empties again: a 64 KiB tmpfs holds F; a filler file takes the rest.
# While the disk is full: stderr says once that the recording cannot be
# written (naming F and "No space left on device"), stdout has one
# recording_failed event line, /metrics counts the lost lines
# (memvigil_recording_lines_lost_total > 0) and /api/v1/status has the same
# count (monitor.recording_lines_lost); F holds whole JSON lines only (a
# line cut short by the full disk was cut back). Once the filler is gone:
# stderr says once that F is written again and how many lines were lost,
# new sample lines arrive, the count stops growing, and `memvigil analyze F`
# reads F. Needs root (mount); skipped with a message otherwise.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"

skip() { echo "SKIP: $*"; exit 0; }
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"

tmp=$(mktemp -d)
disk="$tmp/disk"
child=
mv_pid=
mounted=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; fi
    if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    if [ -n "$mounted" ]; then umount "$disk" 2>/dev/null || umount -l "$disk" || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=tests/integration/common.bash
. "$(dirname "$0")/common.bash"

mkdir "$disk"
if ! mount -t tmpfs -o size=64k tmpfs "$disk" 2>"$tmp/mount.err"; then
    skip "cannot mount a tmpfs (needs root): $(cat "$tmp/mount.err")"
fi
mounted=1
F="$disk/rec.jsonl"
deadline=$(( $(date +%s) + 25 ))   # the whole test stays under 30 s

# wait_for WHAT CMD...: polls CMD every 50 ms until it succeeds; fails at the
# deadline, or at once when memvigil is no longer running.
wait_for() {
    local what=$1
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for $what"
        if [ -n "$mv_pid" ] && ! kill -0 "$mv_pid" 2>/dev/null; then
            fail "memvigil watch ended while waiting for $what"
        fi
        sleep 0.05
    done
}
samples() { grep -c '"type":"sample"' "$F" 2>/dev/null || true; }
metric() {
    curl -sf "$url" | awk '$1 == "memvigil_recording_lines_lost_total" {print $2}'
}
status_lost() {
    curl -sf "${url%/metrics}/api/v1/status" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["monitor"]["recording_lines_lost"])'
}
# Every line of F is one whole JSON object and F ends with a newline.
whole_lines() {
    python3 - "$F" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("recording ends in a fragment: %r" % data[-80:])
for i, l in enumerate(data.decode().split("\n")[:-1], 1):
    try:
        json.loads(l)
    except ValueError as e:
        sys.exit("line %d is not whole JSON (%s): %r" % (i, e, l[:120]))
PY
}

sleep 60 &
child=$!
"$MEMVIGIL" watch --pid "$child" --interval 100ms --record "$F" \
    --listen 127.0.0.1:0 --cpu-budget 1 --quiet >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
has_url() { grep -q "metrics at http://" "$tmp/err"; }
wait_for "the metrics address on stderr" has_url
url=$(grep -o 'http://[^ ]*/metrics' "$tmp/err" | head -1)
three_samples() { [ "$(samples)" -ge 3 ]; }
wait_for "the first samples" three_samples
[ "$(metric)" = 0 ] || fail "lines lost before the disk filled: $(metric)"

# Fill the disk: the next lines find no room (one may be cut short).
dd if=/dev/zero of="$disk/filler" bs=1k count=1024 2>/dev/null || true
said_failed() { grep -q "warning: cannot write the recording $F: No space left on device" "$tmp/err"; }
wait_for "the full disk said on stderr" said_failed
lost_some() { [ "$(metric)" -ge 3 ]; }
wait_for "lost lines counted in /metrics" lost_some
sleep 0.5                          # more ticks lost: still said only once
n=$(grep -c "cannot write the recording" "$tmp/err" || true)
[ "$n" -eq 1 ] || fail "stderr said the full disk $n times, expected once"
n=$(grep -c "cannot write the recording" "$tmp/out" || true)
[ "$n" -eq 1 ] || fail "$n recording_failed event lines on stdout, expected 1"
s=$(status_lost) || fail "/api/v1/status has no monitor.recording_lines_lost"
[ "$s" -ge 3 ] || fail "/api/v1/status recording_lines_lost is $s, expected >= 3"
whole_lines || fail "the recording is not whole lines while the disk is full"
before=$(samples)

# Space returns: the next line is written, the count stops growing.
rm -f "$disk/filler"
said_resumed() { grep -q "the recording $F is written again; [0-9]* lines were lost" "$tmp/err"; }
wait_for "the recovery said on stderr" said_resumed
lost=$(metric)
told=$(sed -n "s/.*is written again; \([0-9]*\) lines were lost.*/\1/p" "$tmp/err")
[ "$told" = "$lost" ] || fail "stderr says $told lines were lost, /metrics $lost"
more_samples() { [ "$(samples)" -ge $(( before + 5 )) ]; }
wait_for "new samples after the disk emptied" more_samples
[ "$(metric)" = "$lost" ] || fail "the lost count grew after recovery: $lost -> $(metric)"
[ "$(status_lost)" = "$lost" ] || fail "/api/v1/status disagrees with /metrics ($lost)"
n=$(grep -c "is written again" "$tmp/err" || true)
[ "$n" -eq 1 ] || fail "stderr said the recovery $n times, expected once"

kill -TERM "$mv_pid"
rc=0
wait "$mv_pid" || rc=$?
mv_pid=
[ "$rc" -eq 0 ] || fail "memvigil watch exited $rc after SIGTERM"
whole_lines || fail "the recording is not whole lines after recovery"
grep -q '"event":"recording_resumed"' "$F" || fail "no recording_resumed event in the recording"
rc=0
"$MEMVIGIL" analyze "$F" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 0 ] || fail "memvigil analyze of the recording exited $rc"
echo "PASS: record_full_disk ($lost lines lost and counted, said once, resumed)"
