#!/usr/bin/env bash
# heap_cli_errors.sh — `memvigil heap` refuses bad input with one clear line
# and the documented exit status (1 unreadable/corrupt input, 2 usage), and
# `run --heap` says so when the preload library cannot be found.
set -uo pipefail
: "${MEMVIGIL:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect() { # expect STATUS PATTERN CMD...
    local want=$1 pat=$2; shift 2
    "$@" > "$tmp/out" 2> "$tmp/err"; local got=$?
    [ "$got" = "$want" ] || fail "$*: exit $got, want $want ($(cat "$tmp/err"))"
    grep -q -- "$pat" "$tmp/err" || fail "$*: stderr lacks '$pat': $(cat "$tmp/err")"
}

head -c 3000 /dev/urandom > "$tmp/junk.pb.gz"
printf '\x1f\x8b\x08\x00garbage' > "$tmp/badgz.pb.gz"
mkdir "$tmp/empty"
expect 2 "missing subcommand" "$MEMVIGIL" heap
expect 2 "no such subcommand" "$MEMVIGIL" heap bogus
expect 2 "top takes one" "$MEMVIGIL" heap top
expect 2 "diff takes two" "$MEMVIGIL" heap diff "$tmp/junk.pb.gz"
expect 2 "bad --type" "$MEMVIGIL" heap top "$tmp/junk.pb.gz" --type cpu
expect 2 "bad -n" "$MEMVIGIL" heap top "$tmp/junk.pb.gz" -n 0
expect 1 "No such file" "$MEMVIGIL" heap top "$tmp/nope"
expect 1 "not a pprof profile" "$MEMVIGIL" heap top "$tmp/badgz.pb.gz"
expect 1 "cannot read" "$MEMVIGIL" heap folded "$tmp/junk.pb.gz"
expect 1 "no snapshots" "$MEMVIGIL" heap top "$tmp/empty"
MEMVIGIL_HEAP_LIB=/nonexistent/lib.so expect 1 "cannot find libmemvigil_heap.so" \
    "$MEMVIGIL" run --heap --listen none -- true
expect 2 "bad --heap-interval" "$MEMVIGIL" run --heap-interval 10ms -- true
"$MEMVIGIL" heap --help | grep -q "heap top DIR" || fail "heap --help"
echo PASS
