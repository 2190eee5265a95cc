#!/usr/bin/env bash
# cli_errors.sh — the CLI's contract at its edges: usage errors exit 2 with
# one line, a missing PID exits 1 naming it, a command that does not exist
# exits 127, --help and --version work, and inspect gives its sections and
# valid JSON.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS CMD...: runs CMD, output in $tmp/out and $tmp/err
expect() {
    local want=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$tmp/err" >&2; fail "'$*' exited $rc, want $want"; }
}
one_line() {
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || { cat "$tmp/err" >&2; fail "$1: stderr is not one line"; }
}

expect 2 "$MEMVIGIL" run --no-such-flag -- true
one_line "run --no-such-flag"
grep -q "unknown option '--no-such-flag'" "$tmp/err" || fail "bad flag not named"
expect 2 "$MEMVIGIL" watch --interval 10ms --pid 1
one_line "watch --interval 10ms"
expect 2 "$MEMVIGIL" nosuchcommand
one_line "nosuchcommand"
expect 2 "$MEMVIGIL" watch
one_line "watch without a target"
expect 2 "$MEMVIGIL" run
one_line "run without a command"
expect 2 "$MEMVIGIL" inspect notapid
one_line "inspect notapid"

expect 1 "$MEMVIGIL" watch --pid 999999 --listen none
one_line "watch --pid 999999"
grep -q "memvigil watch: no such process 999999" "$tmp/err" || fail "watch: wrong message"

expect 127 "$MEMVIGIL" run --listen none -- /nonexistent/program
grep -q "/nonexistent/program" "$tmp/err" || fail "run: exec failure not named"

expect 3 "$MEMVIGIL" run --listen none --quiet -- sh -c 'exit 3'
expect 143 "$MEMVIGIL" run --listen none --quiet -- sh -c 'kill -TERM $$'

for cmd in run watch inspect; do
    expect 0 "$MEMVIGIL" "$cmd" --help
    grep -q "usage: memvigil $cmd" "$tmp/out" || fail "$cmd --help has no usage"
    expect 0 "$MEMVIGIL" help "$cmd"
    grep -q "usage: memvigil $cmd" "$tmp/out" || fail "help $cmd has no usage"
done
expect 0 "$MEMVIGIL" --help
grep -q "inspect" "$tmp/out" || fail "--help does not list the commands"
expect 0 "$MEMVIGIL" --version
grep -Eq '^memvigil [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "--version: $(cat "$tmp/out")"

expect 0 "$MEMVIGIL" inspect $$
for section in Process "Top mappings" "OOM score" Cgroup System Findings; do
    grep -q "^$section" "$tmp/out" || fail "inspect: no '$section' section"
done
expect 0 "$MEMVIGIL" inspect --json $$
jq -e '.pid > 0 and .process.rss_bytes > 0 and (.findings | length) > 0' \
    "$tmp/out" >/dev/null || fail "inspect --json: $(cat "$tmp/out")"
expect 1 "$MEMVIGIL" inspect 999999
grep -q "no such process 999999" "$tmp/err" || fail "inspect: missing pid message"

if [ -w /dev/full ]; then
    for args in "--version" "inspect $$"; do
        rc=0
        # shellcheck disable=SC2086
        "$MEMVIGIL" $args >/dev/full 2>"$tmp/err" || rc=$?
        [ "$rc" -eq 1 ] || fail "'$args' to /dev/full exited $rc, want 1"
        grep -q "error writing to standard output" "$tmp/err" ||
            fail "'$args' to /dev/full: no write error message"
    done
fi
echo "PASS: cli_errors"
