#!/usr/bin/env bash
# options_anywhere.sh — every subcommand takes its options after its
# operands too, as git and GNU tools do (`report REC -o out.html`); the
# output is the same as with the options first. `--` ends the options
# everywhere; for `run`, whatever follows the program is the program's.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
MV=$MEMVIGIL
F="$MV_SOURCE/tests/fixtures"
tmp=$(mktemp -d)
child=
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# same_output NAME CMD-A... ::: CMD-B...: both succeed and print the same.
same_output() {
    local name=$1; shift
    local a=() b=() side=a
    for w in "$@"; do
        if [ "$w" = ":::" ]; then side=b; continue; fi
        if [ $side = a ]; then a+=("$w"); else b+=("$w"); fi
    done
    "$MV" "${a[@]}" >"$tmp/a.out" 2>"$tmp/err" || fail "$name: options first failed"
    "$MV" "${b[@]}" >"$tmp/out" 2>"$tmp/err" || fail "$name: options after the operand failed"
    [ -s "$tmp/a.out" ] || fail "$name: no output"
    cmp -s "$tmp/a.out" "$tmp/out" || fail "$name: output differs with the options moved"
    echo "ok: $name"
}

rec="$F/report/app_records.jsonl"

# analyze
same_output "analyze FILE --json" analyze --json "$rec" ::: analyze "$rec" --json
jq -e '.verdict' "$tmp/out" >/dev/null || fail "analyze --json after FILE: not JSON"

# report, the README's own example: options after the recording
same_output "report REC --format json" report --format json "$rec" ::: report "$rec" --format json
"$MV" report "$rec" -o "$tmp/r.html" >"$tmp/out" 2>"$tmp/err" || fail "report REC -o FILE"
grep -q "<html" "$tmp/r.html" || fail "report REC -o FILE wrote no HTML"
"$MV" report "$rec" --format >"$tmp/out" 2>"$tmp/err" && fail "report --format without a value succeeded"
grep -q "option '--format' needs a value" "$tmp/err" || fail "report: no 'needs a value' message"
"$MV" report "$rec" --bogus >"$tmp/out" 2>"$tmp/err" && fail "report --bogus succeeded"
grep -q "unknown option '--bogus'" "$tmp/err" || fail "report: unknown option not named"
"$MV" heap top "$F/report/heap" -qx >"$tmp/out" 2>"$tmp/err" && fail "heap -qx succeeded"
grep -q "unknown option '-q'" "$tmp/err" || fail "heap: an unknown short option in a cluster not named"
"$MV" analyze --json=1 "$rec" >"$tmp/out" 2>"$tmp/err" && fail "analyze --json=1 succeeded"
grep -q "option '--json' takes no value" "$tmp/err" || fail "analyze --json=1: not 'takes no value'"
# a bad --skip / --heap-skip expression: a usage error that says why,
# before anything is read or started
rc=0; "$MV" heap top "$F/report/heap" --skip '(' >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "bad --skip '(': " "$tmp/err" || fail "heap --skip '(': rc $rc"
rc=0; "$MV" report "$rec" --heap-skip '[' >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "bad --heap-skip '\[': " "$tmp/err" || fail "report --heap-skip '[': rc $rc"
rc=0; "$MV" run --heap-skip '(' -- touch "$tmp/ran" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$tmp/ran" ] || fail "run --heap-skip '(': rc $rc, or the program ran"
echo "ok: report REC -o FILE, errors name the option"

# estimate
same_output "estimate REC --json" estimate --json --units 500000 "$rec" ::: estimate "$rec" --units 500000 --json

# heap: options before the subcommand, between, and after its operands
same_output "heap top DIR --json -n 2" heap top --json -n 2 "$F/report/heap" ::: heap top "$F/report/heap" -n 2 --json
same_output "heap --json top DIR" heap -n 2 --json top "$F/report/heap" ::: heap top "$F/report/heap" --json -n 2
# as its usage shows, heap's options follow its subcommand even where
# POSIXLY_CORRECT stops options at the first operand
POSIXLY_CORRECT=1 "$MV" heap top -n 2 --json "$F/report/heap" >"$tmp/out" 2>"$tmp/err" ||
    fail "POSIXLY_CORRECT heap top -n 2 DIR"
jq -e '.growing | length > 0' "$tmp/out" >/dev/null || fail "POSIXLY_CORRECT heap top: no growing site"
jq -e '.growing | length > 0' "$tmp/out" >/dev/null || fail "heap top --json: no growing site"

# inspect (a real process of ours)
sleep 30 & child=$!
"$MV" inspect "$child" --json >"$tmp/out" 2>"$tmp/err" || fail "inspect PID --json"
jq -e --argjson p "$child" '.pid == $p' "$tmp/out" >/dev/null || fail "inspect PID --json: not JSON about $child"
echo "ok: inspect PID --json"

# watch: no operands; options in any order, a stray operand refused by name
"$MV" watch --duration 1s --listen none --quiet --pid "$child" --interval 200ms \
    >"$tmp/out" 2>"$tmp/err" || fail "watch with options in any order"
"$MV" watch --pid "$child" stray --duration 1s >"$tmp/out" 2>"$tmp/err" && fail "watch took a stray operand"
grep -q "unexpected argument 'stray'" "$tmp/err" || fail "watch: stray operand not named"
echo "ok: watch"

# run: options before the program; after it, they are the program's
rc=0
"$MV" run --listen none --quiet -- sh -c 'exit 3' >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 3 ] || fail "run -- sh -c 'exit 3' exited $rc"
"$MV" run --listen none --quiet printf '%s\n' --interval >"$tmp/out" 2>"$tmp/err" ||
    fail "run PROG --interval"
grep -qx -- "--interval" "$tmp/out" || fail "run: an option after the program was not passed to it"
echo "ok: run"

# `--` ends the options everywhere: a file named like an option
cp "$F/analyze/csv_header.csv" "$tmp/-odd.csv"
(cd "$tmp" && "$MV" analyze --json -- -odd.csv) >"$tmp/out" 2>"$tmp/err" || fail "analyze -- -odd.csv"
jq -e '.source == "-odd.csv"' "$tmp/out" >/dev/null || fail "analyze -- -odd.csv: wrong source"
echo "ok: -- ends the options"

# help the git way, for every command
for c in run watch inspect heap analyze report estimate; do
    "$MV" help "$c" >"$tmp/a.out" 2>"$tmp/err" || fail "help $c"
    "$MV" "$c" --help >"$tmp/out" 2>"$tmp/err" || fail "$c --help"
    cmp -s "$tmp/a.out" "$tmp/out" || fail "'help $c' and '$c --help' differ"
    grep -q "^usage: memvigil $c" "$tmp/out" || fail "$c --help: no usage line"
done
echo "ok: help"
echo "PASS: options_anywhere"
