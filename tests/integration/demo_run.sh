#!/usr/bin/env bash
# demo_run.sh — `make run`'s demo (scripts/demo.sh) shows what it promises:
# the time to limit, the warning and critical levels, oom_risk, the
# growing call site from the heap snapshots, a last-gasp snapshot at
# critical, the OOM kill when a real cgroup could be made, the report and
# the verdict, and what to try next. About a minute and a half.
set -euo pipefail
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# bad settings and a directory that is not the demo's: refused at once,
# with nothing removed
for bad in "MV_DEMO_LEAK_RATE=0MiB" "MV_DEMO_LIMIT=lots"; do
    rc=0
    env "$bad" MV_DEMO_DIR="$tmp/bad" bash "$MV_SOURCE/scripts/demo.sh" "$MV_BUILD" \
        >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] && grep -q "take sizes above 0" "$tmp/err" || fail "$bad: rc $rc"
done
mkdir "$tmp/mine" && touch "$tmp/mine/keep"
rc=0
MV_DEMO_DIR="$tmp/mine" bash "$MV_SOURCE/scripts/demo.sh" "$MV_BUILD" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && [ -e "$tmp/mine/keep" ] || fail "a foreign MV_DEMO_DIR: rc $rc, or it was emptied"

rc=0
MV_DEMO_DIR="$tmp/demo" timeout 240 bash "$MV_SOURCE/scripts/demo.sh" "$MV_BUILD" \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 0 ] || fail "demo exited $rc"

grep -q "at this rate the 384 MiB limit is reached in" "$tmp/out" || fail "no time to limit against the demo's limit"
grep -Eq "level warning: .* of 384 MiB limit" "$tmp/out" || fail "no warning level"
grep -Eq "level critical: .* of 384 MiB limit" "$tmp/out" || fail "no critical level"
grep -q "asked [0-9]* for a heap snapshot" "$tmp/err" || fail "no last-gasp snapshot asked for at critical"
grep -Eq "heap: call site main \(leaky.c:[0-9]+\)( \(from [^)]*\))? is growing" "$tmp/out" || fail "no growing call site event"
grep -Eq "^  oom_risk +raised after [0-9]+ s" "$tmp/out" || fail "oom_risk not raised"
grep -Eq "^  heap +growing call site: main \(leaky.c:[0-9]+\)" "$tmp/out" || fail "summary lacks the call site"
grep -Eq "^  leak verdict +insufficient_data" "$tmp/out" || fail "summary lacks the verdict"
grep -q "^next: memvigil watch --pid" "$tmp/out" || fail "no 'next' line"
grep -q "OOM RISK" "$tmp/demo/report.html" || fail "report headline lacks OOM RISK"
if grep -q "in a cgroup v[12] memory cgroup" "$tmp/out"; then
    # a real limit: the kernel killed it, and the recording says so
    grep -Eq "^  OOM kill +after [0-9]+ s, by the kernel; memvigil exited 137" "$tmp/out" || fail "no OOM kill in the summary"
    grep -q '"event":"oom_kill"' "$tmp/demo/recording.jsonl" || fail "no oom_kill event recorded"
    how="a real cgroup, OOM-killed"
else
    how="--limit (no cgroup could be made)"
fi
echo "PASS: demo_run ($how): $(grep -E '^  oom_risk' "$tmp/out" | sed 's/^ *//')"
