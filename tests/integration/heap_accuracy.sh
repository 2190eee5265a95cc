#!/usr/bin/env bash
# heap_accuracy.sh — `memvigil run --heap` on a program with known
# allocation sites (heap_sites.c: two leaks at known rates, a bounded cache,
# a churning pool, short-lived garbage), at the default 512 KiB sampling
# rate with a snapshot every second, for ~20 s. Checks:
#  - the leaking sites are ranked first (leak_fast, then leak_slow), and
#    only they are reported growing (no event, no rank for churn/bounded);
#  - live bytes per site in the last snapshot within +-10% of the truth the
#    program wrote, for every site over 5% of the heap;
#  - growth/hour of leak_fast near its known rate;
#  - the top-10 metrics family is served while it runs;
#  - `heap top FILE` names the same top function as `go tool pprof -top`;
#    `heap folded` and `heap diff` agree.
set -euo pipefail
: "${MEMVIGIL:?}" "${MV_BUILD:?}" "${MV_SOURCE:?}"
skip() { echo "SKIP: $*"; exit 0; }
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || skip "libmemvigil_heap.so not built"
command -v cc >/dev/null || skip "no C compiler"
command -v jq >/dev/null || skip "jq not installed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- run output"; cat "$tmp/run.out" "$tmp/run.err" 2>/dev/null || true; exit 1; }

cc -O1 -g -fno-omit-frame-pointer -fno-inline -o "$tmp/heap_sites" \
   "$MV_SOURCE/tests/integration/heap_sites.c"

cd "$tmp"
"$MEMVIGIL" run --heap --heap-dir "$tmp/snap" --heap-interval 1 --interval 1s \
    --listen 127.0.0.1:0 --quiet -- ./heap_sites 20 truth.txt \
    > run.out 2> run.err &
runpid=$!
sleep 12
url=$(grep -o 'http://[^ ]*/metrics' run.err | head -1 || true)
[ -n "$url" ] || fail "no metrics URL"
curl -sf "$url" > metrics.txt || fail "cannot scrape $url"
wait "$runpid" || fail "run exited with $?"

# metrics: bounded family naming the leak first (the order of the lines;
# the site is the only label, no rank)
grep -m1 '^memvigil_heap_site_growth_bytes_per_second{' metrics.txt \
    | grep -q '^memvigil_heap_site_growth_bytes_per_second{site="leak_fast (heap_sites.c:[0-9]*)"} ' \
    || fail "metrics: leak_fast is not first: $(grep heap_site metrics.txt)"
! grep -q '^memvigil_heap_site.*rank=' metrics.txt || fail "metrics: heap sites carry a rank label"
n=$(grep -c '^memvigil_heap_site_inuse_bytes{' metrics.txt)
[ "$n" -le 10 ] || fail "more than 10 heap site series"
! grep -q 'heap_site.*site="\(churn\|bounded_fill\)' metrics.txt || fail "churn/bounded in metrics"

# events: the two leaks, nothing else
grep -q 'heap: call site leak_fast ' run.out || fail "no growing event for leak_fast"
grep -q 'heap: call site leak_slow ' run.out || fail "no growing event for leak_slow"
! grep -q 'heap: call site \(churn\|bounded_fill\|small_garbage\)' run.out \
    || fail "a non-leaking site was reported growing"

# ranking over all snapshots
"$MEMVIGIL" heap top "$tmp/snap" --json > top.json
[ "$(jq '.growing | length' top.json)" = 2 ] || fail "growing sites: $(jq -c '.growing' top.json)"
jq -e '.growing[0].site | startswith("leak_fast ")' top.json >/dev/null || fail "rank 1 is not leak_fast"
jq -e '.growing[1].site | startswith("leak_slow ")' top.json >/dev/null || fail "rank 2 is not leak_slow"
# 48 MiB/s nominal (a little less in practice: the ticks also sleep)
jq -e '.growing[0].growth_bytes_per_hour > 0.75*48*1048576*3600 and
       .growing[0].growth_bytes_per_hour < 1.1*48*1048576*3600' top.json >/dev/null \
    || fail "leak_fast growth/h off: $(jq '.growing[0].growth_bytes_per_hour' top.json)"

# estimates in the last snapshot vs the truth
last=$(ls "$tmp"/snap/heap-*.pb.gz | sort | tail -1)
"$MEMVIGIL" heap top "$last" --json -n 50 > last.json
total=$(awk '{s+=$2} END {print s}' truth.txt)
while read -r fn bytes; do
    est=$(jq --arg f "$fn " '[.sites[] | select(.site | startswith($f)) | .value] | add // 0' last.json)
    awk -v e="$est" -v t="$bytes" -v tot="$total" -v f="$fn" 'BEGIN {
        if (t < 0.05 * tot) exit 0
        r = (e - t) / t
        printf "%-14s true %12d estimated %12d (%+.1f%%)\n", f, t, e, 100 * r
        exit (r > 0.10 || r < -0.10) }' || fail "estimate of $fn off by more than 10%"
done < truth.txt

# folded and diff
"$MEMVIGIL" heap folded "$last" > folded.txt
grep -Eq '(^|;)main;leak_fast [0-9]+$' folded.txt || fail "folded: no main;leak_fast line"
first=$(ls "$tmp"/snap/heap-*.pb.gz | sort | head -1)
"$MEMVIGIL" heap diff "$first" "$last" --json > diff.json
jq -e '.stacks[0].site | startswith("leak_fast ")' diff.json >/dev/null || fail "diff: top growth is not leak_fast"

# the standard tool agrees on the top function
ours=$(jq -r '.sites[0].site | split(" ")[0]' last.json)
if command -v go >/dev/null; then
    theirs=$(go tool pprof -top "$last" 2>/dev/null | awk '/flat%/ {getline; print $6; exit}')
    [ "$ours" = "$theirs" ] || fail "top function: ours '$ours', go tool pprof '$theirs'"
    echo "go tool pprof -top agrees: $theirs"
else
    echo "note: go not installed, pprof cross-check skipped"
fi
echo "PASS"
