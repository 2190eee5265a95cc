#!/usr/bin/env bash
# heap_cli_errors.sh — `memvigil heap` refuses bad input with one clear line
# and the documented exit status (1 unreadable/corrupt input, 2 usage), and
# `run --heap` says so when the preload library cannot be found. Hostile
# input: a FIFO among the snapshots (must not hang), an oversize file and a
# gzip bomb (size caps), stacks over their cap and a snapshot without
# inuse_space (each with its own message), values near the int64 limits
# (saturating sums).
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
    # an error exit is expected here, so a sanitizer's report (whose exit
    # status may be the same 1) is looked for in the text
    ! grep -q "runtime error\|Sanitizer" "$tmp/err" ||
        fail "$*: sanitizer report: $(cat "$tmp/err")"
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

# --- a FIFO named like a snapshot must not hang the readers (open() of a
# FIFO blocks until a writer comes): it is skipped, named, and the real
# snapshots are still ranked. One FIFO continues the real sequence, one
# claims a newer pid (it must not win the "newest snapshot" choice).
: "${MV_FIXTURES:?MV_FIXTURES must name tests/fixtures}"
F="$MV_FIXTURES/report"
H="$MV_FIXTURES/heap_crafted"
cp -r "$F/heap" "$tmp/heap"
mkfifo "$tmp/heap/heap-10089-000018.pb.gz" "$tmp/heap/heap-99999-000001.pb.gz"
timed() { # timed OUTFILE CMD...: runs CMD under a 20 s timeout
    local out=$1; shift
    timeout 20 "$@" > "$out" 2> "$tmp/err"; local got=$?
    [ "$got" != 124 ] || fail "$*: hung (killed after 20 s)"
    return "$got"
}
timed "$tmp/top.out" "$MEMVIGIL" heap top --no-symbolize "$tmp/heap" ||
    fail "heap top DIR with a FIFO: exit $? ($(cat "$tmp/err"))"
grep -q "^pid 10089: 17 snapshots" "$tmp/top.out" ||
    fail "heap top DIR with a FIFO: $(cat "$tmp/top.out")"
grep -q "skipped 1 unreadable.*heap-10089-000018.pb.gz: not a regular file" \
    "$tmp/err" || fail "heap top DIR with a FIFO: stderr $(cat "$tmp/err")"
timed "$tmp/report.json" "$MEMVIGIL" report -f json --heap "$tmp/heap" \
    "$F/leak.jsonl" || fail "report --heap with a FIFO: exit $? ($(cat "$tmp/err"))"
grep -q '"snapshots": *17' "$tmp/report.json" ||
    fail "report --heap with a FIFO: $(grep -o '"heap".\{0,200\}' "$tmp/report.json")"
timed "$tmp/out" "$MEMVIGIL" heap top "$tmp/heap/heap-10089-000018.pb.gz"
[ $? = 1 ] && grep -q "heap-10089-000018.pb.gz: not a regular file" "$tmp/err" ||
    fail "heap top FIFO: $(cat "$tmp/err")"

# --- nor a FIFO named as a profile's mapped file (the symbolizer would
# open it to read its debug info): fifo_mapping.pb names
# /tmp/memvigil-fifo-XXXXXXXXXX/app, a path of mktemp's length
fd=$(mktemp -d /tmp/memvigil-fifo-XXXXXXXXXX)
mkfifo "$fd/app"
LC_ALL=C sed "s|/tmp/memvigil-fifo-XXXXXXXXXX|$fd|" "$H/fifo_mapping.pb" > "$fd/p.pb"
timed "$tmp/out" "$MEMVIGIL" heap top "$fd/p.pb"; rc=$?
rm -rf "$fd"
[ $rc = 0 ] && grep -q "4.0 KiB 100.0%  app+0x1234" "$tmp/out" ||
    fail "mapping is a FIFO: exit $rc $(cat "$tmp/out" "$tmp/err")"

# --- size caps: a file over 256 MiB is refused without being read, and a
# gzip bomb (300 MiB of zeros in 300 KiB) stops inflating at 256 MiB
truncate -s 300M "$tmp/huge.pb.gz"
expect 1 "huge.pb.gz: too large" "$MEMVIGIL" heap top "$tmp/huge.pb.gz"
head -c 300M /dev/zero | gzip -1 > "$tmp/bomb.pb.gz"
[ "$(stat -c %s "$tmp/bomb.pb.gz")" -lt 2000000 ] || fail "bomb too big"
timed "$tmp/out" "$MEMVIGIL" heap folded "$tmp/bomb.pb.gz"
[ $? = 1 ] && grep -q "bomb.pb.gz: too large" "$tmp/err" ||
    fail "gzip bomb: $(cat "$tmp/err")"
cp "$tmp/bomb.pb.gz" "$tmp/heap/heap-10089-000019.pb.gz"
timed "$tmp/top.out" "$MEMVIGIL" heap top --no-symbolize "$tmp/heap" ||
    fail "heap top DIR with a bomb: exit $? ($(cat "$tmp/err"))"
grep -q "^pid 10089: 17 snapshots" "$tmp/top.out" ||
    fail "heap top DIR with a bomb: $(cat "$tmp/top.out")"

# --- each cause its own message: the stacks' 256 MiB cap is not a file
# size cap (long_names.pb: 1500 samples of a 64 KiB function name), and a
# snapshot without inuse_space is there, not "No such file or directory"
expect 1 "long_names.pb: stacks over 256 MiB" \
    "$MEMVIGIL" heap folded --no-symbolize "$H/long_names.pb"
mkdir "$tmp/alloc"
cp "$H/alloc_space_only.pb" "$tmp/alloc/heap-4242-000001.pb.gz"
expect 1 "none readable (last: .*heap-4242-000001.pb.gz: no inuse_space sample type)" \
    "$MEMVIGIL" heap top --no-symbolize "$tmp/alloc"
! grep -q "No such file" "$tmp/err" || fail "alloc only: $(cat "$tmp/err")"
cp "$H/near_max.pb" "$tmp/alloc/heap-4242-000002.pb.gz"
expect 0 "skipped 1 unreadable.*heap-4242-000001.pb.gz: no inuse_space sample type" \
    "$MEMVIGIL" heap top --no-symbolize "$tmp/alloc"

# --- values near INT64_MAX / INT64_MIN: sums saturate (the sanitizer
# build aborts on a signed overflow), nothing wraps to a wrong sign
"$MEMVIGIL" heap top --json --no-symbolize "$H/near_max.pb" > "$tmp/out" ||
    fail "top near_max"
grep -q '"total":9223372036854775807,' "$tmp/out" || fail "top total: $(cat "$tmp/out")"
grep -q '"site":"leak_fast (app.c:42)","value":9223372036854775807,"stacks":2' \
    "$tmp/out" || fail "top site sum: $(cat "$tmp/out")"
"$MEMVIGIL" heap folded --no-symbolize "$H/near_max.pb" > "$tmp/out" ||
    fail "folded near_max"
grep -qx 'main;leak_fast 9223372036854775807' "$tmp/out" ||
    fail "folded sum: $(cat "$tmp/out")"
"$MEMVIGIL" heap diff --json --no-symbolize "$H/near_min.pb" "$H/near_max.pb" \
    > "$tmp/out" || fail "diff near_min near_max"
grep -q '"a":-9223372036854775808,"b":9223372036854775806,"delta":9223372036854775807' \
    "$tmp/out" || fail "diff delta: $(cat "$tmp/out")"
"$MEMVIGIL" heap diff --no-symbolize "$H/near_min.pb" "$H/near_max.pb" \
    > "$tmp/out" || fail "diff text near_min near_max"
grep -q "n/a.*-8.0 EiB.*n/a  leak_fast (app.c:42)" "$tmp/out" ||
    fail "diff text: $(cat "$tmp/out")"
echo PASS
