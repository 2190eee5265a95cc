#!/usr/bin/env bash
# demo.sh — `make run`'s demo: what memvigil is for, in about a minute and
# a half, with nothing staged.
#
# examples/leaky leaks 4 MiB/s next to a small cache, under
# `memvigil run --heap`, against a small memory limit: a real memory cgroup
# (v1 or v2) when this user may create one, so the kernel's OOM killer
# really ends it; else `--limit` (memvigil judges against it, nothing is
# killed). Everything printed comes from the tool: its live output, then
# `memvigil report` and `memvigil analyze` on the recording it wrote.
#
# usage: scripts/demo.sh [BUILD_DIR]   (default: build)
# environment: MV_DEMO_DIR (default demo), MV_DEMO_LIMIT (default 384MiB),
#              MV_DEMO_LEAK_RATE (default 4MiB per second)
set -euo pipefail

BUILD=${1:-build}
OUT=${MV_DEMO_DIR:-demo}
LIMIT=${MV_DEMO_LIMIT:-384MiB}
RATE=${MV_DEMO_LEAK_RATE:-4MiB}
MV="$BUILD/memvigil"
LEAKY="$BUILD/examples/leaky"
for f in "$MV" "$LEAKY"; do
  [ -x "$f" ] || { echo "demo: $f is not built (run 'make build' first)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "demo: jq is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

to_bytes() { numfmt --from=iec-i "${1%B}"; }   # 384MiB -> 402653184
limit_bytes=$(to_bytes "$LIMIT") && rate_bytes=$(to_bytes "$RATE") &&
  [ "$limit_bytes" -gt 0 ] && [ "$rate_bytes" -gt 0 ] ||
  { echo "demo: MV_DEMO_LIMIT/MV_DEMO_LEAK_RATE take sizes above 0, like 384MiB, 4MiB" >&2; exit 2; }
# the output directory is the demo's own: an earlier demo's is replaced,
# anything else is left alone
if [ -e "$OUT" ] && [ ! -e "$OUT/.memvigil-demo" ] &&
   [ -n "$(ls -A "$OUT" 2>/dev/null)" ]; then
  echo "demo: $OUT exists and is not a demo's output; set MV_DEMO_DIR to another directory" >&2
  exit 2
fi
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/.memvigil-demo"

# ---- a real memory cgroup when we may make one -------------------------
cg="" cg_kind=""
make_cgroup() {
  [ "$(id -u)" -eq 0 ] || return 1
  local v1=/sys/fs/cgroup/memory v2=/sys/fs/cgroup
  if [ -f "$v1/memory.limit_in_bytes" ]; then
    mkdir "$v1/memvigil-demo-$$" 2>/dev/null || return 1
    cg="$v1/memvigil-demo-$$"
    echo "$limit_bytes" >"$cg/memory.limit_in_bytes" 2>/dev/null || return 1
    # no escape into swap (memsw exists only with swap accounting)
    echo 0 >"$cg/memory.swappiness" 2>/dev/null || true
    if [ -f "$cg/memory.memsw.limit_in_bytes" ]; then
      echo "$limit_bytes" >"$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
    fi
    cg_kind="cgroup v1"
  elif [ -f "$v2/cgroup.controllers" ] &&
       grep -qw memory "$v2/cgroup.subtree_control" 2>/dev/null; then
    mkdir "$v2/memvigil-demo-$$" 2>/dev/null || return 1
    cg="$v2/memvigil-demo-$$"
    echo "$limit_bytes" >"$cg/memory.max" 2>/dev/null || return 1
    if [ -f "$cg/memory.swap.max" ]; then
      echo 0 >"$cg/memory.swap.max" 2>/dev/null || true
    fi
    cg_kind="cgroup v2"
  else
    return 1
  fi
}
cleanup() {
  if [ -n "$cg" ] && [ -d "$cg" ]; then
    if [ -f "$cg/cgroup.procs" ]; then
      while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$cg/cgroup.procs"
    fi
    for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
  fi
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT TERM
if ! make_cgroup; then
  cleanup
  cg=""
fi

# ---- the run -------------------------------------------------------------
cmd=("$MV" run --interval 1s --heap --heap-interval 5s --heap-dir "$OUT/heap"
     --record "$OUT/recording.jsonl" --listen 127.0.0.1:0)
if [ -n "$cg" ]; then
  echo "demo: examples/leaky leaks $RATE/s in a $cg_kind memory cgroup limited to $LIMIT;"
  echo "      the kernel's OOM killer will end it. memvigil watches from outside:"
  # the wrapper joins the cgroup, then becomes leaky (same pid)
  cmd+=(-- sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --until-oom --leak-rate "$3" --cache-cap 16MiB'
        demo "$cg" "$LEAKY" "$RATE")
else
  echo "demo: no memory cgroup can be made here (needs root and a v1 memory hierarchy"
  echo "      or v2 with the memory controller), so the limit is --limit $LIMIT: memvigil"
  echo "      judges against it, but nothing will kill the program at it."
  secs=$(( limit_bytes / rate_bytes + 10 ))
  cmd+=(--limit "$LIMIT" -- "$LEAKY" --seconds "$secs" --leak-rate "$RATE" --cache-cap 16MiB)
fi
printf '      $ memvigil'; printf ' %q' "${cmd[@]:1}"; echo
echo
rc=0
"${cmd[@]}" || rc=$?
echo
# memvigil stopped by Ctrl-C (130) or a usage/runtime error: no summary
case $rc in 130|1|2) echo "demo: memvigil exited $rc; no summary" >&2; exit "$rc" ;; esac

# ---- what the recording says ----------------------------------------------
rec="$OUT/recording.jsonl"
[ -s "$rec" ] || { echo "demo: no recording was written ($rec)" >&2; exit 1; }
"$MV" report "$rec" --heap "$OUT/heap" -o "$OUT/report.html"
"$MV" analyze "$rec" --json >"$OUT/analyze.json"

t0=$(jq -r 'select(.type=="header") | .start_ms' "$rec" | head -1)
at() { # seconds from the start to the first event of kind $1 (at level $2
        # when given), or ""
  jq -r --arg k "$1" --arg l "${2:-}" --argjson t0 "$t0" \
     'select(.type=="event" and .event==$k and ($l == "" or .level==$l))
      | ((.timestamp_ms - $t0) / 1000 | floor)' "$rec" | head -1
}
verdict=$(jq -r '.verdict' "$OUT/analyze.json" | head -1)
risk_eta=$(jq -r 'select(.type=="event" and .event=="oom_risk" and (.time_to_limit_seconds|type)=="number") | .time_to_limit_seconds | floor' "$rec" | head -1)
site=$("$MV" heap top "$OUT/heap" --json 2>/dev/null | jq -r '.growing[0].site // empty' 2>/dev/null || true)

say() { printf '  %-14s %s\n' "$1" "$2"; }
echo "demo: what memvigil saw (from $rec)"
w=$(at level_changed warning) c=$(at level_changed critical) r=$(at oom_risk) k=$(at oom_kill)
say "levels" "warning after ${w:-(never)} s, critical after ${c:-(never)} s"
if [ -n "$r" ]; then
  say "oom_risk" "raised after $r s: out of memory in about ${risk_eta} s at the rate then"
else
  say "oom_risk" "not raised (in a run this short it needs the limit nearer than the climb has lasted)"
fi
if [ -n "$k" ]; then
  say "OOM kill" "after $k s, by the kernel; memvigil exited $rc (its program's status)"
else
  say "exit" "the program ended; memvigil exited $rc"
fi
nsnap=$(find "$OUT/heap" -name '*.pb.gz' 2>/dev/null | wc -l)
if [ -n "$site" ]; then
  say "heap" "growing call site: $site ($nsnap snapshots in $OUT/heap${c:+, the last asked for at critical})"
fi
say "leak verdict" "$verdict: a leak (the cause) is only called after an hour or more of"
say "" "rise, since a minute of growth can be warm-up; oom_risk (the urgency) does not wait"
say "report" "$OUT/report.html"
echo
echo "next: memvigil watch --pid \$(pgrep -o yourservice) --record svc.jsonl; then"
echo "      memvigil analyze svc.jsonl and memvigil report svc.jsonl; the live page is at"
echo "      http://127.0.0.1:9464/ while it runs (--listen). See README.md and docs/cli.md."
