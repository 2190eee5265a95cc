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

# endless or binary inputs (issue 12): refused within the first MiB, fast
# and in bounded memory, naming the input and why; before, 1 GiB was read
# (2 GB RSS, 10 s) before the refusal
peak_kb() {  # peak_kb CMD...: runs CMD (stdin inherited), peak RSS in KiB on stdout
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$tmp/rss" "$@" >"$tmp/out" 2>"$tmp/err" || true
        tail -1 "$tmp/rss"
    else
        "$@" >"$tmp/out" 2>"$tmp/err" || true
        echo 0
    fi
}
bounded() {  # bounded WHAT WORDS KB SECS [MAX_KB]: the last command failed
             # fast (SECS), said WORDS, peaked under MAX_KB (default 64 MiB)
    local what=$1 words=$2 kb=$3 secs=$4 max=${5:-65536}
    grep -q "$words" "$tmp/err" || { cat "$tmp/err" >&2; fail "$what: no '$words'"; }
    one_line "$what"
    # ASan's shadow memory and quarantine multiply the footprint
    if grep -q '^MV_SANITIZE:BOOL=ON' "${MV_BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
        max=$((max * 4))
    fi
    [ "$kb" -lt "$max" ] || fail "$what: peak RSS $kb KiB"
    [ "$secs" -lt 15 ] || fail "$what: took $secs s"
}
for cmd in analyze report estimate; do
    t0=$SECONDS
    kb=$(peak_kb timeout 20 "$MEMVIGIL" $cmd /dev/zero)
    bounded "$cmd /dev/zero" "/dev/zero: binary data (a NUL byte at offset 0" "$kb" $((SECONDS - t0))
    # 200 MB of short garbage lines through a pipe
    t0=$SECONDS
    # (the writers die of SIGPIPE once memvigil stops reading: not a failure)
    kb=$({ yes || true; } | { head -c 200M || true; } | peak_kb timeout 20 "$MEMVIGIL" $cmd /dev/stdin)
    bounded "$cmd of 'yes'" "/dev/stdin: .*\(unknown format\|not a memvigil recording\)" "$kb" $((SECONDS - t0))
    # one endless line through a FIFO
    rm -f "$tmp/fifo"; mkfifo "$tmp/fifo"
    { yes | tr -d '\n' >"$tmp/fifo" 2>/dev/null || true; } &
    t0=$SECONDS
    kb=$(peak_kb timeout 20 "$MEMVIGIL" $cmd "$tmp/fifo")
    wait
    bounded "$cmd of an endless line" "fifo: line 1 is longer than 1 MiB" "$kb" $((SECONDS - t0))
done
# an endless JSON document: analyze reads it as Prometheus JSON, up to its
# 64 MiB cap (CLI_INGEST_MAX_DOC), so the bound is higher
t0=$SECONDS
kb=$({ yes '{' || true; } | { tr -d '\n' || true; } | { head -c 300M || true; } |
     peak_kb timeout 20 "$MEMVIGIL" analyze -)
bounded "analyze of an endless JSON document" "stdin: a JSON document larger than 64 MiB" "$kb" $((SECONDS - t0)) 131072

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
