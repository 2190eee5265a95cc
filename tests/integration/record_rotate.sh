#!/usr/bin/env bash
# record_rotate.sh — `memvigil run --record F --record-max-size 8K
# --record-keep 3` on a real child (examples/leaky) at 100 ms: F, F.1 and F.2
# exist and nothing older; every file is at most 8 KiB, starts with a header
# whose "segment" counts up to F's, holds whole JSON lines only; the sample
# times run on across the files; `memvigil analyze F --json` reads all three
# (its points and span are those of the three files together) and says what
# it joined; `memvigil report` reads them too. The event log rotates the same
# way, and bad rotation options are usage errors.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
LEAKY="$MV_BUILD/examples/leaky"

tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout" >&2; cat "$tmp/out" >&2 || true
    echo "--- stderr" >&2; cat "$tmp/err" >&2 || true
    ls -l "$tmp" >&2 || true
    exit 1
}

# Bad values are refused before anything runs.
for bad in "--record-max-size 10" "--record-max-size 8Q" "--record-keep 0" \
           "--record-keep 1001" "--event-log-max-size x" "--event-log-keep -1"; do
    rc=0
    # shellcheck disable=SC2086
    "$MEMVIGIL" run --listen none $bad --record "$tmp/never" -- true \
        >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "'$bad' exited $rc, expected 2 (usage)"
    grep -q "bad --" "$tmp/err" || fail "'$bad': no message naming the option"
done

F="$tmp/F"
E="$tmp/E"
rc=0
# --cpu-budget 1: a budget slowdown on a loaded machine would thin the lines.
timeout 60 "$MEMVIGIL" run --interval 100ms --record "$F" \
    --record-max-size 8K --record-keep 3 --event-log "$E" \
    --event-log-max-size 1K --event-log-keep 2 --cpu-budget 1 --listen none \
    --quiet -- "$LEAKY" --seconds 13 --leak-rate 1048576 \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 0 ] || fail "memvigil run exited $rc"

python3 - "$F" "$E" >"$tmp/facts" <<'PY' || fail "rotated files are wrong (above)"
import json, os, sys
F, E = sys.argv[1], sys.argv[2]
bad = []
names = [F + ".2", F + ".1", F]
for n in names:
    if not os.path.exists(n):
        sys.exit(f"missing {n}")
for k in range(3, 6):
    if os.path.exists(f"{F}.{k}"):
        bad.append(f"{F}.{k} exists: keep 3 allows F, F.1, F.2 only")
segs, times, private = [], [], 0
head0 = None
for n in names:
    data = open(n, "rb").read()
    if len(data) > 8192:
        bad.append(f"{n}: {len(data)} bytes, over the 8K cap")
    if not data.endswith(b"\n"):
        bad.append(f"{n}: does not end with a whole line")
    lines = data.decode().split("\n")[:-1]
    for i, l in enumerate(lines):
        o = json.loads(l)           # a split line would not parse
        if (o["type"] == "header") != (i == 0):
            bad.append(f"{n}: line {i + 1}: header only and always first")
        if o["type"] == "header":
            segs.append(o["segment"])
            h = {k: o[k] for k in ("command", "pid", "host", "start_ms")}
            if head0 is None:
                head0 = h
            elif h != head0:
                bad.append(f"{n}: header names another recording: {h}")
        elif o["type"] == "sample":
            times.append(o["timestamp_ms"])
            if o["private_bytes"] is not None:
                private += 1
if segs[2] < 4:
    bad.append(f"F is segment {segs[2]}: expected at least 4 (one dropped)")
if segs != [segs[2] - 2, segs[2] - 1, segs[2]]:
    bad.append(f"segments {segs}: expected consecutive, oldest in F.2")
if any(b <= a for a, b in zip(times, times[1:])):
    bad.append("sample times do not increase across the files")
gaps = [b - a for a, b in zip(times, times[1:])]
if max(gaps) > 2000:
    bad.append(f"a gap of {max(gaps)} ms between samples: lines lost")
# the event log: no header, whole JSON lines, at most 2 files
for n in (E, E + ".1"):
    if os.path.exists(n):
        data = open(n, "rb").read()
        if not data.endswith(b"\n"):
            bad.append(f"{n}: torn")
        for l in data.decode().split("\n")[:-1]:
            json.loads(l)["event"]
if os.path.exists(E + ".2"):
    bad.append("E.2 exists with --event-log-keep 2")
if bad:
    sys.exit("\n".join(bad))
print(len(times), private, times[0], times[-1], segs[0], segs[2])
PY
read -r nsamples nprivate t0 t1 seg0 seg2 <"$tmp/facts"

"$MEMVIGIL" analyze "$F" --json >"$tmp/out" 2>"$tmp/err" ||
    fail "memvigil analyze exited $?"
python3 - "$tmp/out" "$nprivate" "$t0" "$t1" <<'PY' || fail "analyze did not read every file"
import json, sys
o = json.loads(open(sys.argv[1]).read())
n, t0, t1 = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if o["points"] != n:
    sys.exit(f"analyze read {o['points']} points; the three files hold {n}")
if abs(o["span_s"] - (t1 - t0) / 1000.0) > 1e-6:
    sys.exit(f"span {o['span_s']} s; the three files span {(t1 - t0) / 1000} s")
PY
grep -q "joined 3 files of a rotated recording, oldest first: $F.2, $F.1, $F (segments $seg0-$seg2)" "$tmp/err" ||
    fail "analyze does not say what it joined"
grep -q "segments 1-$((seg0 - 1)) were rotated away" "$tmp/err" ||
    fail "analyze does not say the oldest segments are gone"

"$MEMVIGIL" report --format json "$F" >"$tmp/out" 2>"$tmp/err" ||
    fail "memvigil report exited $?"
grep -q "note: $F: joined 3 files" "$tmp/err" || fail "report does not say what it joined"

# A missing middle file is a note, not a failure.
rm "$F.1"
"$MEMVIGIL" analyze "$F" --json >"$tmp/out" 2>"$tmp/err" ||
    fail "analyze failed on a missing middle segment"
grep -q "1 segment(s) in between are missing" "$tmp/err" ||
    fail "no note about the missing segment"
echo "PASS: record_rotate ($nsamples samples in segments $seg0-$seg2)"
