#!/usr/bin/env bash
# analyze_files.sh — `memvigil analyze` on files: a leak and a flat sawtooth
# in every input format (recording, CSV with and without header, relative
# and absolute times, Prometheus JSON) give the same verdicts; a real
# recording from `memvigil run` is read; every kind of bad input gives its
# exact message (file and line) and exit status; output shapes (one JSON
# object for one series, JSON Lines for several) and exit codes (0, 3, 1, 2).
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_FIXTURES:?MV_FIXTURES must name tests/fixtures}"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }

fx="$MV_FIXTURES/analyze"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS ARGS...: runs analyze, output in $tmp/out and $tmp/err
expect() {
    local want=$1 rc=0
    shift
    (cd "$tmp" && timeout 30 "$MEMVIGIL" analyze "$@") >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "'analyze $*' exited $rc, want $want"; }
}
# err_is TEXT: stderr is exactly this one line
err_is() {
    [ "$(cat "$tmp/err")" = "$1" ] || { echo "got:  $(cat "$tmp/err")" >&2; echo "want: $1" >&2; fail "message"; }
}
field() { jq -r "$1" "$tmp/out"; }

# ---- the same two traces in every format ----
# 24 h at 60 s: leak = 300 MiB + 25 MiB/h under a 12-minute GC sawtooth;
# flat = 500 MiB under the same sawtooth. Limit 2 GiB (recording header).
python3 - "$tmp" <<'EOF'
import json, random, sys
d = sys.argv[1]
MIB = 1024 * 1024
n, step, t0 = 24 * 60, 60, 1790000000
def trace(base, per_h, seed):
    r = random.Random(seed)
    return [int(base + per_h * i * step / 3600 + 40 * MIB * (i % 12) / 12
                + r.random() * 2 * MIB) for i in range(n)]
for name, vals in (("leak", trace(300 * MIB, 25 * MIB, 1)),
                   ("flat", trace(500 * MIB, 0, 2))):
    with open(f"{d}/{name}.jsonl", "w") as f:
        f.write(json.dumps({"type": "header", "version": 1, "tool": "memvigil 0.1.0",
                            "command": name, "pid": 7, "host": "h", "start_ms": t0 * 1000,
                            "interval_ms": 60000, "limit_bytes": 2 << 30}) + "\n")
        for i, v in enumerate(vals):
            f.write(json.dumps({"type": "sample", "t_ms": (t0 + i * step) * 1000,
                                "rss": v + 50 * MIB, "anon": v, "file": 50 * MIB,
                                "shmem": 0, "swap": 0, "private": v, "working_set": None,
                                "cg_usage": None, "limit": 2 << 30, "ratio": None,
                                "oom_kill": None, "level": "ok", "growth_bps": None,
                                "ttl_s": None}) + "\n")
    with open(f"{d}/{name}_rel.csv", "w") as f:
        f.write("seconds,bytes,comment\n")
        for i, v in enumerate(vals):
            f.write(f"{i * step},{v},x\n")
    with open(f"{d}/{name}_abs.csv", "w") as f:
        for i, v in enumerate(vals):
            f.write(f"{t0 + i * step},{v}\n")
    with open(f"{d}/{name}_prom.json", "w") as f:
        json.dump({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"__name__": "mem_private_bytes", "job": name},
             "values": [[t0 + i * step, str(v)] for i, v in enumerate(vals)]}]}}, f)
EOF

for t in leak flat; do
    want=$([ $t = leak ] && echo leak || echo no_leak)
    code=$([ $t = leak ] && echo 3 || echo 0)
    for f in $t.jsonl ${t}_rel.csv ${t}_abs.csv ${t}_prom.json; do
        expect "$code" "$f" --json --limit 2G
        [ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "$f: want exactly one JSON object"
        [ "$(field .verdict)" = "$want" ] || { cat "$tmp/out" >&2; fail "$f: verdict $(field .verdict), want $want"; }
        [ "$(field .points)" = 1440 ] || fail "$f: points $(field .points)"
        [ "$(field .effective_limit_bytes)" = 2147483648 ] || fail "$f: limit"
        [ -s "$tmp/err" ] && { cat "$tmp/err" >&2; fail "$f: unexpected stderr"; }
    done
done
# the leak's figures (recording: limit from the file, no --limit)
expect 3 leak.jsonl --json
jq -e '.source == "leak.jsonl" and .format == "recording" and .labels == null and
       .signal == "private" and .effective_limit_bytes == 2147483648 and
       .detected_at_s > 0 and .detected_at_s < 86400 and
       .growth_bytes_per_hour > 20*1048576 and .growth_bytes_per_hour < 30*1048576 and
       .growth_lo_bytes_per_hour <= .growth_bytes_per_hour and
       .growth_bytes_per_hour <= .growth_hi_bytes_per_hour and
       .confidence > 0.5 and .confidence <= 1 and
       .time_to_limit_seconds > 0 and .time_to_limit_infinite == false and
       .time_to_limit_lo_seconds > 0 and .time_to_limit_hi_seconds >= .time_to_limit_lo_seconds and
       (has("eta_s") or has("limit_bytes") or has("window_s") or has("oom_risk_eta_s")) == false and
       (.evidence | test("2.0 GiB"))' "$tmp/out" >/dev/null || { cat "$tmp/out" >&2; fail "leak fields"; }
expect 0 flat.jsonl --json
jq -e '.detected_at_s == null and .verdict == "no_leak" and
       .oom_risk_active == false and .oom_risk_at_s == null and
       (.oom_risk_evidence | length > 0)' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "flat fields"; }
expect 0 flat_prom.json --json
jq -e '.labels == {"__name__": "mem_private_bytes", "job": "flat"} and .signal == "mem_private_bytes"' \
    "$tmp/out" >/dev/null || { cat "$tmp/out" >&2; fail "prometheus labels"; }
# --signal on a recording: rss = private + 50 MiB file, the same leak
expect 3 leak.jsonl --json --signal rss
[ "$(field .signal)" = rss ] || fail "--signal rss"

# several inputs: JSON Lines, one object per series, exit 3 if any leaks
expect 3 flat.jsonl leak_rel.csv --json
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "two inputs: want two lines"
[ "$(jq -sr 'map(.verdict) | join(",")' "$tmp/out")" = "no_leak,leak" ] || fail "two inputs: verdicts"

# text output
expect 3 leak.jsonl
grep -q '^leak.jsonl: leak$' "$tmp/out" || fail "text title"
grep -q '^  growth       2[0-9]\(\.[0-9]\)\? MiB/h (' "$tmp/out" || { cat "$tmp/out" >&2; fail "text growth"; }
grep -q '^  detected at  .* after the first point$' "$tmp/out" || fail "text detected at"
grep -q '(limit 2.0 GiB)$' "$tmp/out" || fail "text limit"
grep -q '^  oom risk     ' "$tmp/out" || fail "text oom risk line"

# ---- two claims apart: 20 minutes of fast growth under a 1 GiB limit ----
# the OOM-risk claim (urgency) is raised within minutes, whatever the cause;
# the verdict (cause) needs an hour or more, so it is not leak (exit 0)
# fast_growth FILE MINUTES: 300 MiB + 1.2 GiB/h, a point every 10 s
fast_growth() {
    python3 - "$1" "$2" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("seconds,bytes\n")
    for i in range(int(sys.argv[2]) * 6 + 1):
        f.write(f"{i * 10},{300 * 2**20 + i * 10 * 1200 * 2**20 // 3600 + (i % 3) * 4096}\n")
EOF
}
fast_growth "$tmp/fast.csv" 20
expect 0 fast.csv --json --limit 1G
jq -e '.verdict != "leak" and .detected_at_s == null and
       .oom_risk_active == true and .oom_risk_at_s > 0 and .oom_risk_at_s <= .span_s and
       .oom_risk_time_to_limit_seconds > 0 and .oom_risk_time_to_limit_seconds < 21600 and
       .oom_risk_growth_bytes_per_hour > 900*1048576 and
       (.oom_risk_evidence | length > 0)' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "fast growth: want oom_risk without a leak verdict"; }
expect 0 fast.csv --limit 1G
grep -q '^  oom risk     OOM RISK: out of memory in about ' "$tmp/out" || { cat "$tmp/out" >&2; fail "text OOM RISK"; }
grep -q '^  risk raised  .* after the first point' "$tmp/out" || fail "text risk raised"
grep -q '^  detected at  never' "$tmp/out" || fail "text: a leak alarm after 20 minutes"
# a young process's rate is not projected more than 8 x as far as it was
# watched: with 10 GiB the limit is ~8 h away, and 20 minutes of data do
# not tell that yet (a warm-up looks the same)
expect 0 fast.csv --json --limit 10G
jq -e '.oom_risk_active == false and .oom_risk_at_s == null and
       (.oom_risk_evidence | test("too little data"))' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "20 min of growth, 10 GiB: want no oom_risk yet"; }
# 75 minutes of the same growth do: ~7 h to the limit, within the default
# 12 h horizon, raised once 8 x the data reaches it (~55 min), and beyond
# a 6 h horizon (the horizon is a setting)
fast_growth "$tmp/long.csv" 75
expect 0 long.csv --json --limit 10G
jq -e '.oom_risk_active == true and .oom_risk_time_to_limit_seconds > 6*3600 and
       .oom_risk_time_to_limit_seconds < 8*3600 and
       .oom_risk_at_s >= 45*60 and .oom_risk_at_s <= 65*60' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "75 min of growth, 10 GiB: want oom_risk within the 12 h horizon"; }
expect 0 long.csv --json --limit 10G --oom-risk-horizon 6h
jq -e '.oom_risk_active == false and .oom_risk_at_s == null and
       (.oom_risk_evidence | test("beyond the 6 h horizon"))' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "75 min of growth, 10 GiB, --oom-risk-horizon 6h: want no oom_risk"; }
expect 2 fast.csv --oom-risk-horizon 10s
# no limit: no time to the limit, no risk
expect 0 fast.csv --json
jq -e '.oom_risk_active == false and .oom_risk_at_s == null' "$tmp/out" >/dev/null \
    || { cat "$tmp/out" >&2; fail "fast growth without a limit: no risk"; }

# ---- a real recording ----
if (cd "$tmp" && timeout 20 "$MEMVIGIL" run --interval 100ms --record real.jsonl --listen none \
        --quiet -- sleep 1.5) >/dev/null 2>&1; then
    expect 0 real.jsonl --json
    [ "$(field .verdict)" = insufficient_data ] || fail "short real recording: $(field .verdict)"
    [ "$(field .points)" -ge 5 ] || fail "real recording: points $(field .points)"
fi

# ---- bad input ----
expect 0 "$fx/empty.csv" --json
[ "$(field .verdict)" = insufficient_data ] && [ "$(field .note)" = "empty input: no data points" ] \
    || fail "empty file"
expect 0 "$fx/one_point.csv"
grep -qx "$fx/one_point.csv: insufficient_data" "$tmp/out" || fail "one point title"
grep -q '^  evidence     only one data point$' "$tmp/out" || fail "one point evidence"
expect 0 "$fx/header_only.csv" --json
[ "$(field .evidence)" = "no data points (only a header)" ] || fail "header only"
expect 0 "$fx/rec_nosamples.jsonl" --json
[ "$(field .evidence)" = "no samples in the recording" ] || fail "recording without samples"
expect 0 "$fx/rec_small.jsonl" --json --signal working_set
[ "$(field .evidence)" = "working_set is null in all 4 samples" ] || fail "null signal"

expect 1 "$fx/nonmono.csv"
err_is "memvigil analyze: $fx/nonmono.csv: line 4: timestamp 30 is before the previous one (60 at line 3); timestamps must increase"
expect 1 "$fx/duplicate.csv"
err_is "memvigil analyze: $fx/duplicate.csv: line 3: duplicate timestamp 60 (also at line 2)"
expect 1 "$fx/nan.csv"
err_is "memvigil analyze: $fx/nan.csv: line 2: value is NaN"
expect 1 "$fx/negative.csv"
err_is "memvigil analyze: $fx/negative.csv: line 2: negative value -5 (memory cannot be negative)"
expect 1 "$fx/garbage.csv"
err_is "memvigil analyze: $fx/garbage.csv: line 3: bad timestamp 'hello world' (expected seconds, as on the lines before)"
expect 1 "$fx/unknown.txt"
err_is "memvigil analyze: $fx/unknown.txt: unknown format: expected a memvigil recording (JSON lines), CSV 'seconds,bytes' or a Prometheus query_range JSON response"
expect 1 "$fx/rec_nonmono.jsonl"
err_is "memvigil analyze: $fx/rec_nonmono.jsonl: line 4: t_ms 1700000030000 is before the previous sample's (1700000060000 at line 3); timestamps must increase"
expect 1 "$fx/rec_garbage.jsonl"
err_is "memvigil analyze: $fx/rec_garbage.jsonl: line 3: field \"private\": expected an integer or null"
expect 1 "$fx/prom_error.json"
err_is "memvigil analyze: $fx/prom_error.json: Prometheus error: bad_data: invalid parameter \"query\": 1:1: parse error"
expect 1 "$fx/prom_vector.json"
err_is "memvigil analyze: $fx/prom_vector.json: resultType is 'vector', not 'matrix': analyze needs a range query (/api/v1/query_range)"
expect 1 "$fx/prom_nan.json"
err_is "memvigil analyze: $fx/prom_nan.json: series 2 mem{job=\"b\"}: point 2 (t=1700000060.000): value is NaN"
expect 1 "$fx/prom_torn.json"
grep -q "^memvigil analyze: $fx/prom_torn.json: line 1: invalid JSON (column [0-9]*): " "$tmp/err" || fail "torn JSON"
expect 1 "$tmp/no_such_file.csv"
err_is "memvigil analyze: $tmp/no_such_file.csv: No such file or directory"
expect 1 "$tmp"
err_is "memvigil analyze: $tmp: Is a directory"
# a torn last line is skipped with a warning; the rest is judged
expect 0 "$fx/torn.csv" --json
err_is "memvigil analyze: warning: $fx/torn.csv: line 3: incomplete last line (no newline) skipped"
[ "$(field .points)" = 2 ] || fail "torn: points"
head -c -40 "$tmp/leak.jsonl" >"$tmp/leak_torn.jsonl"
expect 3 leak_torn.jsonl --json
err_is "memvigil analyze: warning: leak_torn.jsonl: line 1441: incomplete last line (no newline) skipped"
[ "$(field .points)" = 1439 ] || fail "torn recording: points $(field .points)"
# one bad input among good ones: the good ones are still judged, exit 1
expect 1 leak_rel.csv "$fx/nan.csv" flat_abs.csv --json
[ "$(jq -sr 'map(.verdict) | join(",")' "$tmp/out")" = "leak,no_leak" ] || fail "mixed inputs"
err_is "memvigil analyze: $fx/nan.csv: line 2: value is NaN"
# stdin
expect 3 - --json <"$tmp/leak_abs.csv"
[ "$(field .source)" = stdin ] || fail "stdin source"

# ---- usage ----
expect 2
expect 2 leak.jsonl --limit lots
err_is "memvigil analyze: bad --limit 'lots' (a size such as 512M or 2GiB) (see 'memvigil analyze --help')"
expect 2 --prometheus http://127.0.0.1:1
expect 2 leak.jsonl --nope
expect 1 leak.jsonl --signal heap
err_is "memvigil analyze: leak.jsonl: a recording has no signal 'heap' (one of: private, rss, anon, file, shmem, swap, working_set, cg_usage)"
expect 0 --help
grep -q '^Exit status: 0 no series leaks' "$tmp/out" || fail "--help"
echo "ok: analyze on files"
