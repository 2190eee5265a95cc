#!/usr/bin/env bash
# run_leaky.sh — `memvigil run` on examples/leaky: the recording shows the
# growth (private memory rises, positive growth, a finite time to the limit)
# but no leak verdict (seconds are not enough for one), the endpoint serves
# the OOM-risk claim (memvigil_oom_risk, the status JSON's oom_risk object)
# beside the verdict, a level event fires (the warning threshold is set tiny
# on purpose), the
# endpoint serves metrics that promtool accepts in both formats, and
# memvigil exits with leaky's own status (0).
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
LEAKY="$MV_BUILD/examples/leaky"

tmp=$(mktemp -d)
mv_pid=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

# om_check FILE: structural OpenMetrics 1.0 checks (python3, stdlib only):
# "# EOF" last, known types, UNIT matching the name, each family declared
# once with its samples together, sample names = family + the suffixes its
# type allows, numeric values, histograms with a +Inf bucket per series.
om_check() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
err = []
if not text.endswith("# EOF\n"):
    err.append("does not end with '# EOF'")
lines = text.split("\n")[:-1]
if lines and lines[-1] == "# EOF":
    lines = lines[:-1]
suffixes = {"counter": ["_total", "_created"], "gauge": [""], "unknown": [""],
            "info": ["_info"], "stateset": [""], "summary": ["", "_count", "_sum", "_created"],
            "histogram": ["_bucket", "_count", "_sum", "_created"],
            "gaugehistogram": ["_bucket", "_gcount", "_gsum"]}
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
sample_re = re.compile(r"^(" + name_re + r")(\{(.*)\})? (\S+)( \S+)?( # .*)?$")
label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
types, done, cur, inf_seen, buckets = {}, set(), None, set(), set()
for i, l in enumerate(lines, 1):
    if l.startswith("#"):
        m = re.match(r"^# (TYPE|HELP|UNIT) (" + name_re + r")(?: (.*))?$", l)
        if not m:
            err.append(f"line {i}: bad metadata: {l}"); continue
        kind, name, rest = m.groups()
        if kind == "TYPE":
            if name in types:
                err.append(f"line {i}: family {name} declared twice")
            if rest not in suffixes:
                err.append(f"line {i}: unknown type {rest}")
            if cur:
                done.add(cur)
            types[name], cur = rest, name
        elif name != cur:
            err.append(f"line {i}: {kind} for {name} outside its family")
        elif kind == "UNIT" and rest and not name.endswith("_" + rest):
            err.append(f"line {i}: unit {rest} is not the suffix of {name}")
        continue
    m = sample_re.match(l)
    if not m:
        err.append(f"line {i}: bad sample: {l}"); continue
    sname, _, labels, value = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    fam = cur
    if fam is None or not any(sname == fam + s for s in suffixes.get(types[fam], [""])):
        err.append(f"line {i}: sample {sname} does not belong to family {fam}")
    pos, lab = 0, {}
    while pos < len(labels):
        lm = label_re.match(labels, pos)
        if not lm or lm.end() == pos:
            err.append(f"line {i}: bad labels {labels}"); break
        lab[lm.group(1)] = lm.group(2); pos = lm.end()
    try:
        float(value)
    except ValueError:
        err.append(f"line {i}: bad value {value}")
    if sname.endswith("_bucket") and fam and types.get(fam) in ("histogram", "gaugehistogram"):
        key = (fam, tuple(sorted((k, v) for k, v in lab.items() if k != "le")))
        buckets.add(key)
        if lab.get("le") == "+Inf":
            inf_seen.add(key)
for key in buckets - inf_seen:
    err.append(f"histogram {key[0]} series {key[1]} has no +Inf bucket")
for e in err[:20]:
    print("om_check:", e, file=sys.stderr)
sys.exit(1 if err else 0)
PY
}

# --cpu-budget 0.25: on a loaded CI machine (or a sanitizer build) the
# default 1% budget would lengthen the 200 ms interval and starve the test of
# samples; the budget itself is tested by the monitor's unit tests.
"$MEMVIGIL" run --interval 200ms --cpu-budget 0.25 --listen 127.0.0.1:0 --record "$tmp/rec.jsonl" \
    --warning 0.0001 --critical 0.9 -- \
    "$LEAKY" --seconds 12 --leak-rate 4MiB --cache-cap 8MiB \
    >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!

url=
for _ in $(seq 100); do
    url=$(grep -o 'http://[^ ]*/metrics' "$tmp/err" || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || fail "no metrics URL on stderr"

sleep 3
curl -sSf "$url" >"$tmp/metrics.prom" || fail "GET $url failed"
curl -sSf -H 'Accept: application/openmetrics-text; version=1.0.0; charset=utf-8' \
    "$url" >"$tmp/metrics.om" || fail "GET $url (OpenMetrics) failed"
promtool check metrics <"$tmp/metrics.prom" >"$tmp/promtool1" 2>&1 ||
    { cat "$tmp/promtool1" >&2; fail "promtool rejects the Prometheus text"; }
# promtool (2.42) parses only the Prometheus text format: it knows neither
# the OpenMetrics types info and stateset (Prometheus ingests them as
# gauges) nor OpenMetrics family names (a counter family "x" has samples
# "x_total", which its linter reads as "x_total has no help text"). So the
# OpenMetrics text is checked by promtool with those two types read as
# gauges, parse errors fatal and only that lint artefact tolerated, and by a
# structural OpenMetrics check (om_check below).
sed -E 's/^(# TYPE [^ ]+ )(info|stateset)$/\1gauge/' "$tmp/metrics.om" |
    promtool check metrics >"$tmp/promtool2" 2>&1 && prc=0 || prc=$?
if [ "$prc" -ne 0 ]; then
    [ "$prc" -eq 3 ] || { cat "$tmp/promtool2" >&2; fail "promtool cannot parse the OpenMetrics text"; }
    if grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*_(total|info) no help text$' "$tmp/promtool2" | grep -q .; then
        cat "$tmp/promtool2" >&2
        fail "promtool lint problems in the OpenMetrics text"
    fi
fi
om_check "$tmp/metrics.om" || fail "the OpenMetrics text is malformed"
grep -Eq '^memvigil_private_memory_bytes(\{[^}]*\})? [0-9.e+]+' "$tmp/metrics.prom" ||
    fail "memvigil_private_memory_bytes missing from /metrics"
# two claims, apart: the OOM-risk gauge is served beside the verdict, and
# seconds of growth are never a leak (the verdict needs an hour or more)
grep -Eq '^memvigil_oom_risk [01]$' "$tmp/metrics.prom" ||
    fail "memvigil_oom_risk (0/1) missing from /metrics"
grep -Eq '^memvigil_oom_risk [01]$' "$tmp/metrics.om" ||
    fail "memvigil_oom_risk (0/1) missing from the OpenMetrics text"
grep -q '^memvigil_leak_verdict{verdict="leak"} 0$' "$tmp/metrics.prom" ||
    fail "a leak verdict after seconds: $(grep '^memvigil_leak_verdict' "$tmp/metrics.prom" | tr '\n' ' ')"
curl -sSf "${url%/metrics}/api/v1/status" >"$tmp/status.json" || fail "GET /api/v1/status failed"
jq -e '(.oom_risk.active | type) == "boolean" and (.oom_risk.evidence | length > 0) and
       has("leak") and .leak.verdict != "leak"' "$tmp/status.json" >/dev/null ||
    fail "/api/v1/status lacks the oom_risk object beside the verdict: $(jq -c '{leak: .leak.verdict, oom_risk}' "$tmp/status.json")"

rc=0
wait "$mv_pid" || rc=$?
mv_pid=
[ "$rc" -eq 0 ] || fail "memvigil exited $rc, leaky exits 0"

rec="$tmp/rec.jsonl"
[ "$(head -n1 "$rec" | jq -r .type)" = header ] || fail "first line is not a header"
n=$(jq -c 'select(.type == "sample")' "$rec" | wc -l)
[ "$n" -ge 20 ] || fail "only $n sample lines"
first=$(jq -s '[.[] | select(.type == "sample" and .private_bytes != null)] | first | .private_bytes' "$rec")
# the peak, not the last sample: the last one may catch the process while
# the kernel is already tearing its memory down at exit
last=$(jq -s '[.[] | select(.type == "sample" and .private_bytes != null) | .private_bytes] | max' "$rec")
# 12 s at 4 MiB/s is ~48 MiB; ask for a third of it
[ "$((last - first))" -gt $((16 * 1024 * 1024)) ] ||
    fail "private memory did not rise: $first -> $last"
jq -s -e '[.[] | select(.type == "sample")] | .[-3:] |
          all(.growth_bytes_per_second != null and .growth_bytes_per_second > 0)' "$rec" >/dev/null ||
    fail "last samples do not show positive growth"
jq -s -e '[.[] | select(.type == "sample")] | last |
          (.time_to_limit_seconds != null and .time_to_limit_seconds > 0 and
           .time_to_limit_seconds < 1e12)' "$rec" >/dev/null ||
    fail "last sample has no finite positive time to limit"
jq -s -e 'any(.[]; .type == "event" and .event == "level_changed" and .level == "warning")' \
    "$rec" >/dev/null || fail "no level warning event in the recording"
grep -q ' warning  level warning' "$tmp/out" || fail "no level warning line on stdout"
if jq -s -e 'any(.[]; .type == "event" and .event == "leak")' "$rec" >/dev/null; then
    fail "a leak event in a 12 s recording (the verdict needs an hour or more)"
fi
echo "PASS: run_leaky ($n samples, private $first -> $last)"
