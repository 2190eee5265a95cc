#!/usr/bin/env bash
# fleet_dashboard.sh — deploy/grafana/memvigil-dashboard.json is a valid
# dashboard (JSON parses; title, uid, unique panel ids, a datasource
# variable, job/cgroup/instance and node mode's namespace/pod/container
# variables, every per-target selector filtered by the latter, every panel
# on ${datasource});
# every PromQL expression of the dashboard and of the rules parses (each is
# put into a throwaway rules file as a recording rule for `promtool check
# rules`, since promtool 2.42 has no standalone PromQL parser); and every
# metric name they select is one memvigil exports: a family of a real scrape
# of `memvigil run`, a family named in src/lib/*/*.c (application and cgroup
# families appear only when used), a recording rule of the rules file, or
# Prometheus's own up / ALERTS; and every label value they match with `=` on
# a documented label is one docs/metrics.md lists for that family (a renamed
# label value, such as kind="inactive_file" after 0.2, fails).
#
# The leak detector's families (memvigil_leak_*, the CPU budget) are a
# contract being implemented in parallel: until src/lib names them they are
# accepted with a NOTE; once it does, a misspelt one fails like any other.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
DASH="$MV_SOURCE/deploy/grafana/memvigil-dashboard.json"
RULES="$MV_SOURCE/deploy/prometheus/memvigil-rules.yml"
HELPER="$MV_SOURCE/tests/integration/fleet_promql_names.py"
LEAKY="$MV_BUILD/examples/leaky"

skip() { echo "SKIP: $*"; exit 0; }
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
command -v jq >/dev/null || skip "jq not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"

tmp=$(mktemp -d)
mv_pid=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; wait "$mv_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- dashboard structure ----
jq empty "$DASH" || fail "dashboard is not valid JSON"
jq -e '.title and .uid and (.panels | length > 0) and .schemaVersion' "$DASH" >/dev/null ||
    fail "dashboard lacks title, uid, schemaVersion or panels"
jq -e '[.. | objects | select(has("gridPos")) | .id] | (length == (unique | length))' "$DASH" >/dev/null ||
    fail "panel ids are not unique"
jq -e '.templating.list | map(select(.type == "datasource" and .query == "prometheus" and .name == "datasource")) | length == 1' "$DASH" >/dev/null ||
    fail "no Prometheus datasource variable named datasource"
for v in job cgroup instance namespace pod container; do
    jq -e --arg v "$v" '.templating.list | map(select(.name == $v and .type == "query")) | length == 1' "$DASH" >/dev/null ||
        fail "no query variable $v"
done
# node mode: every per-target selector also filters on the container
# variables (whose "All" is .*, which series without the label match too)
if jq -r '.. | objects | .expr? // empty' "$DASH" | grep 'instance=~"$instance"' |
    grep -v 'namespace=~"$namespace",pod=~"$pod",container=~"$container"'; then
    fail "a per-target expression does not filter on namespace/pod/container"
fi
bad=$(jq -r '[.. | objects | select(has("targets")) | select(.datasource.uid != "${datasource}") | .title] | join(", ")' "$DASH")
[ -z "$bad" ] || fail "panels not on \${datasource}: $bad"
# no hard-coded instance names: every selector on instance uses the variable
if jq -r '.. | objects | .expr? // empty' "$DASH" | grep -E 'instance=~?"[^$]' ; then
    fail "hard-coded instance in a panel query"
fi

# ---- every expression parses ----
python3 "$HELPER" dashboard-exprs "$DASH" >"$tmp/exprs.jsonl"
python3 - "$RULES" >>"$tmp/exprs.jsonl" <<'PY'
import json, sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        print(json.dumps(r["expr"]))
PY
n=$(wc -l <"$tmp/exprs.jsonl")
[ "$n" -gt 30 ] || fail "only $n expressions found"
python3 "$HELPER" rules-file "$tmp/exprs.jsonl" "$tmp/parse.yml"
promtool check rules "$tmp/parse.yml" >"$tmp/parse.out" 2>&1 ||
    { cat "$tmp/parse.out" >&2; fail "an expression does not parse"; }

# ---- every metric name is exported ----
"$MEMVIGIL" run --interval 100ms --listen 127.0.0.1:0 --quiet -- "$LEAKY" --seconds 10 \
    >"$tmp/run.out" 2>"$tmp/run.err" &
mv_pid=$!
url=
for _ in $(seq 50); do
    url=$(grep -o 'http://[^ ]*/metrics' "$tmp/run.err" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$tmp/run.err" >&2; fail "memvigil run printed no URL"; }
sleep 1.5
curl -sf "$url" >"$tmp/scrape.txt" || fail "cannot scrape $url"

{
    # families of the scrape, with the sample names their types imply
    awk '$1 == "#" && $2 == "TYPE" {
            print $3
            if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" }
         }' "$tmp/scrape.txt"
    # families named in the library (present only when used)
    grep -ohE '"(memvigil|process)_[a-z0-9_]+' "$MV_SOURCE"/src/lib/*/*.c | tr -d '"' |
        while read -r f; do echo "$f"; echo "${f}_bucket"; echo "${f}_sum"; echo "${f}_count"; done
    # recording rules and Prometheus's own series
    python3 -c 'import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        if "record" in r: print(r["record"])' "$RULES"
    echo up; echo ALERTS
} | sort -u >"$tmp/known.txt"
grep -qx memvigil_usage_ratio "$tmp/known.txt" || fail "scrape has no memvigil_usage_ratio"

contract="memvigil_leak_verdict memvigil_leak_confidence memvigil_leak_growth_bytes_per_second memvigil_leak_time_to_limit_seconds memvigil_monitor_cpu_budget_ratio"
python3 "$HELPER" names "$tmp/exprs.jsonl" >"$tmp/used.txt"
missing=()
pending=()
while read -r name; do
    grep -qx "$name" "$tmp/known.txt" && continue
    if [[ " $contract " == *" $name "* ]] && ! grep -q '"memvigil_leak_' "$MV_SOURCE"/src/lib/*/*.c; then
        pending+=("$name")
        continue
    fi
    missing+=("$name")
done <"$tmp/used.txt"
[ ${#missing[@]} -eq 0 ] || fail "queries name metrics memvigil does not export: ${missing[*]}"
[ ${#pending[@]} -eq 0 ] ||
    echo "NOTE: leak-detector families not in src/lib yet (contract, accepted): ${pending[*]}"

# ---- every label value matched is a documented one ----
# (the checker itself: a value that was split off into its own family fails)
echo '"memvigil_cgroup_memory_bytes{kind=\"inactive_file\"}"' >"$tmp/bad.jsonl"
! python3 "$HELPER" check-labels "$tmp/bad.jsonl" "$MV_SOURCE/docs/metrics.md" >/dev/null ||
    fail "check-labels accepts kind=\"inactive_file\""
python3 "$HELPER" check-labels "$tmp/exprs.jsonl" "$MV_SOURCE/docs/metrics.md" >"$tmp/labels.out" ||
    fail "queries match label values memvigil does not export: $(cat "$tmp/labels.out")"
echo "PASS: fleet_dashboard: $(jq '[.. | objects | select(has("gridPos"))] | length' "$DASH") panels," \
     "$n expressions parse, $(wc -l <"$tmp/used.txt") metric names all exported"
