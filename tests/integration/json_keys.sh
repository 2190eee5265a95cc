#!/usr/bin/env bash
# json_keys.sh — one name per sample field in every JSON output of the CLI
# and the endpoint, on a real child (examples/leaky): `run --json` and
# `watch --json` status and event lines, `inspect --json`, /api/v1/status
# and the live page's /api/v1/samples all name a field of the sample by its
# member in the one table (src/lib/record/sample_fields.h): the status and
# event lines carry every field marked REC, inspect and the status document
# every field, the live page's columns are table fields; the line time is
# "time" + "timestamp_ms" in both kinds of line; no key of the old spellings
# (anon_bytes, ratio, limit_bytes, ts, ts_ms, anon ...) remains anywhere.
# The library's outputs are checked value by value by unit_sample_json.
#
# Status lines come every 10 s on a terminal (60 s otherwise), so run and
# watch run under script(1), which gives them one.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_SOURCE:?MV_SOURCE must name the source tree}"
LEAKY="$MV_BUILD/examples/leaky"

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"
: >"$tmp/out"
: >"$tmp/err"

# `run --json` on a terminal, with the endpoint (its URL is on stderr, which
# the terminal shares)
script -qefc "'$MEMVIGIL' run --json --interval 200ms --cpu-budget 0.25 \
    --listen 127.0.0.1:0 --warning 0.0001 --critical 0.9 -- \
    '$LEAKY' --seconds 13 --leak-rate 4MiB --cache-cap 8MiB" /dev/null \
    >"$tmp/run.tty" 2>&1 </dev/null &
pids+=($!)
run_pid=$!
url=$(endpoint_url "$tmp/run.tty")
sleep 3
curl -sSf "$url/api/v1/status" >"$tmp/status.json" || fail "GET /api/v1/status"
curl -sSf "$url/api/v1/samples" >"$tmp/samples.json" || fail "GET /api/v1/samples"

# `watch --json` and `inspect --json` on a child of our own
"$LEAKY" --seconds 30 --leak-rate 1MiB --cache-cap 4MiB >/dev/null 2>&1 &
pids+=($!)
child=$!
script -qefc "'$MEMVIGIL' watch --json --interval 200ms --cpu-budget 0.25 \
    --listen none --pid $child --duration 11s" /dev/null \
    >"$tmp/watch.tty" 2>&1 </dev/null &
pids+=($!)
watch_pid=$!
"$MEMVIGIL" inspect --json "$child" >"$tmp/inspect.json" 2>"$tmp/err" ||
    fail "inspect --json $child"

wait "$run_pid" || fail "memvigil run under script exited $?"
wait "$watch_pid" || fail "memvigil watch under script exited $?"
tr -d '\r' <"$tmp/run.tty" | grep '^{' >"$tmp/run.jsonl" || true
tr -d '\r' <"$tmp/watch.tty" | grep '^{' >"$tmp/watch.jsonl" || true
cp "$tmp/run.jsonl" "$tmp/out"

python3 - "$MV_SOURCE/src/lib/record/sample_fields.h" "$tmp" <<'PY' || fail "JSON keys differ"
import json, re, sys
table_h, tmp = sys.argv[1], sys.argv[2]
fields = re.findall(r"X\((\w+),\s*(I64|LIM|I32|INT|DBL),\s*(REC|ALL),",
                    open(table_h).read())
ALL = [f[0] for f in fields]
REC = [f[0] for f in fields if f[2] == "REC"]
OLD = {"anon", "anon_bytes", "rss", "file", "file_bytes", "shmem", "shmem_bytes",
       "swap", "private", "working_set", "limit", "limit_bytes", "ratio", "t",
       "t_ms", "ts", "ts_ms", "cgroup", "oom_kill_count", "oom_kill", "cg_usage",
       "growth_bps", "ttl_s", "growth_bytes_per_s", "time_to_limit_s", "eta_s",
       "growth_bytes_per_h", "usage_bytes", "high_bytes",
       # memory per progress unit: now memory_per_unit_bytes, bytes per unit
       "per1000", "memory_per_1000_units_bytes", "first_per1k", "last_per1k",
       "bytes_per_1000_units"}
err = []

def keys(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from keys(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys(x)

def check_old(name, doc):
    bad = sorted(set(keys(doc)) & OLD)
    if bad:
        err.append(f"{name}: old keys {bad}")

def check_has(name, obj, want):
    miss = [k for k in want if k not in obj]
    if miss:
        err.append(f"{name}: no {miss}")

def lines(path):
    out = []
    for l in open(path):
        try:
            out.append(json.loads(l))
        except ValueError:
            err.append(f"{path}: not JSON: {l[:120]}")
    return out

line_keys = {}
for cmd in ("run", "watch"):
    ls = lines(f"{tmp}/{cmd}.jsonl")
    status = [l for l in ls if l.get("event") == "status"]
    events = [l for l in ls if l.get("event") not in (None, "status")]
    if not status:
        err.append(f"{cmd} --json: no status line")
    if not events:
        err.append(f"{cmd} --json: no event line")
    for i, l in enumerate(ls):
        name = f"{cmd} --json line {i + 1} ({l.get('event')})"
        check_old(name, l)
        check_has(name, l, ["time", "timestamp_ms", "event", "level"])
        if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", str(l.get("time"))):
            err.append(f"{name}: time {l.get('time')!r} is not RFC 3339 UTC")
        if "rss_bytes" in l or l.get("event") == "status":
            check_has(name, l, REC + ["pid", "growth_bytes_per_second",
                                      "time_to_limit_seconds"])
            line_keys.setdefault(cmd, set()).update(k for k in l if k in ALL)
    if status and not isinstance(status[-1].get("rss_anon_bytes"), int):
        err.append(f"{cmd} --json: rss_anon_bytes of a live child is not a number")
# the short set, and the pid whose figures they are
if line_keys.get("run") != set(REC) | {"pid"} or line_keys.get("watch") != set(REC) | {"pid"}:
    err.append(f"line outputs name other fields: {line_keys}")

ins = json.load(open(f"{tmp}/inspect.json"))
check_old("inspect --json", ins)
check_has("inspect --json .sample", ins.get("sample", {}), ALL)
# a live process's counters from /proc/PID/stat (major_faults, the field
# added last through the table alone) are numbers, not null
if not isinstance(ins.get("sample", {}).get("major_faults"), int):
    err.append(f"inspect --json: major_faults {ins.get('sample', {}).get('major_faults')!r}")
st = json.load(open(f"{tmp}/status.json"))
check_old("/api/v1/status", st)
check_has("/api/v1/status .sample", st.get("sample") or {}, ALL)
check_has("/api/v1/status", st, ["growth_bytes_per_second", "time_to_limit_seconds"])
for i, e in enumerate(st.get("events", [])):
    check_has(f"/api/v1/status event {i}", e, ["time", "timestamp_ms"])
sm = json.load(open(f"{tmp}/samples.json"))
check_old("/api/v1/samples", sm)
cols = set(sm.get("samples", {})) - {"level"}
if not cols or not cols <= set(ALL):
    err.append(f"/api/v1/samples: columns not named after fields: {sorted(cols - set(ALL))}")
check_has("/api/v1/samples", sm, ["growth_bytes_per_second", "time_to_limit_seconds"])
# the same figure under the same key: inspect's and the endpoint's samples
# name the same fields
if set(ins.get("sample", {})) != set(st.get("sample") or {}):
    err.append("inspect --json and /api/v1/status name the sample's fields differently: "
               f"{sorted(set(ins.get('sample', {})) ^ set(st.get('sample') or {}))}")
for e in err[:30]:
    print("json_keys:", e, file=sys.stderr)
sys.exit(1 if err else 0)
PY
echo "PASS: json_keys ($(wc -l <"$tmp/run.jsonl") run lines, $(wc -l <"$tmp/watch.jsonl") watch lines)"
