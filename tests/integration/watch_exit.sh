#!/usr/bin/env bash
# watch_exit.sh — `memvigil watch --pid` notices that the process exited and
# stops by itself with status 0 and a "target exited" message.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"

tmp=$(mktemp -d)
sleeper=
cleanup() {
    if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/out" "$tmp/err" >&2 || true; exit 1; }

sleep 3 &
sleeper=$!
start=$(date +%s)
rc=0
timeout 30 "$MEMVIGIL" watch --pid "$sleeper" --interval 200ms --listen none \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$rc" -eq 0 ] || fail "memvigil watch exited $rc"
[ "$elapsed" -ge 2 ] || fail "stopped after ${elapsed}s, before the process exited"
[ "$elapsed" -le 10 ] || fail "took ${elapsed}s to notice the exit"
grep -q "target exited" "$tmp/err" || fail "no 'target exited' message"
grep -q "monitoring pid $sleeper" "$tmp/out" || fail "no start event on stdout"
echo "PASS: watch_exit (${elapsed}s)"
