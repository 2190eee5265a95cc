#!/usr/bin/env bash
# bench/leaks/real/record_real.sh — records real programs, in real time, for
# the leak benchmark: caches that fill to a cap (memcached, redis with
# maxmemory, Python functools.lru_cache), the same without a cap (redis, a
# Python dict nobody prunes), a Go program drawing a GC sawtooth and glibc
# fragmentation under many threads. Each is started (with its load: a
# server is fed by feed_kv.py), then watched with
#   memvigil watch --pid P --interval 2s --limit L --listen none --quiet
#                  --duration D --record OUT/NAME.jsonl
# and stopped (the Python, Go and C programs and the feeder also end by
# themselves a minute after their recording; the servers only when
# stopped).
# Recordings run in parallel. With --fixtures DIR, each
# recording becomes DIR/NAME.csv (seconds from the first sample, private
# bytes; NOT time-scaled) and DIR/NAME.jsonl.gz, and the manifest line to
# add is printed. Needs: memcached, redis-server, python3 (>= 3.9), go, cc,
# jq, gzip.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../../.." && pwd)"
MEMVIGIL="${MEMVIGIL:-$src/build/memvigil}"
PYTHON="${PYTHON:-python3}"

# name          minutes limit label  what
TABLE="
memcached_cap   45      1G    ok     memcached -m 128, 100 sets/s of 1000 B
py_lru          40      1G    ok     Python functools.lru_cache(maxsize=20000), 2-8 KB values
py_dict         60      1G    leak   Python dict memo never pruned, ~12 new 2-8 KB values/s
go_saw          45      1G    ok     Go: 64 MiB live, 192 KiB/s garbage, GOGC=off GOMEMLIMIT=192MiB
glibc_frag      40      1G    ok     C: 8 threads, mixed sizes and lifetimes, bounded live set
redis_cap       65      1G    ok     redis-server --maxmemory 256mb allkeys-lru, 170 SET/s of 1000 B
redis_grow      100     2G    leak   redis-server without maxmemory, the same feed
"

usage() {
    cat <<USAGE
usage: $0 [--out DIR] [--minutes M] [--fixtures DIR] [--convert] [NAME...]

Records each NAME (default: all) in parallel into DIR/NAME.jsonl (default
DIR: /tmp/memvigil-real). Takes as long as the longest duration.
  --out DIR       where recordings, logs and built programs go
  --minutes M     record every NAME for M minutes instead of its own
                  duration (a smoke test)
  --fixtures DIR  afterwards write DIR/NAME.csv and DIR/NAME.jsonl.gz
  --convert       do not record: only turn existing DIR/NAME.jsonl into
                  fixtures (needs --fixtures)
Environment: MEMVIGIL (default $src/build/memvigil), PYTHON (python3).

name, minutes, limit, label:
$(echo "$TABLE" | awk 'NF{d=$0; for(i=0;i<4;i++) sub(/^[ \t]*[^ \t]+/, "", d); sub(/^[ \t]+/, "", d)
    printf "  %-14s %4s min  %-3s %-5s %s\n", $1, $2, $3, $4, d}')
USAGE
}

field() { # NAME COLUMN
    echo "$TABLE" | awk -v n="$1" -v c="$2" '$1 == n {print $c}'
}

out=/tmp/memvigil-real
minutes=""
fixtures=""
convert=0
names=()
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) usage; exit 0 ;;
    --out) out="$2"; shift 2 ;;
    --minutes) minutes="$2"; shift 2 ;;
    --fixtures) fixtures="$2"; shift 2 ;;
    --convert) convert=1; shift ;;
    -*) usage >&2; exit 2 ;;
    *) [ -n "$(field "$1" 1)" ] || { echo "$0: unknown name $1" >&2; usage >&2; exit 2; }
       names+=("$1"); shift ;;
    esac
done
[ ${#names[@]} -gt 0 ] || read -r -a names <<<"$(echo "$TABLE" | awk 'NF{printf "%s ", $1}')"
[ $convert -eq 0 ] || [ -n "$fixtures" ] || { echo "$0: --convert needs --fixtures" >&2; exit 2; }
mkdir -p "$out"
build="$out/build"

secs_of() { echo $(( ${minutes:-$(field "$1" 2)} * 60 )); }

# watch NAME PID...: record the processes for NAME's duration
watch_pids() {
    local name=$1; shift
    local args=()
    for p in "$@"; do args+=(--pid "$p"); done
    "$MEMVIGIL" watch "${args[@]}" --interval 2s --limit "$(field "$name" 3)" \
        --listen none --quiet --duration "$(secs_of "$name")s" \
        --record "$out/$name.jsonl" >"$out/$name.memvigil.log" 2>&1 || true
}

stop() { # PID...: end what we started
    kill "$@" 2>/dev/null || true
    wait "$@" 2>/dev/null || true
}

free_port() { # first port from $1 with nothing listening
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}

rec_memcached_cap() {
    local port user=() s
    port=$(free_port 21211)
    s=$(secs_of memcached_cap)
    [ "$(id -u)" -ne 0 ] || user=(-u root)
    memcached -l 127.0.0.1 -p "$port" -U 0 -m 128 -t 2 "${user[@]}" \
        >"$out/memcached_cap.log" 2>&1 &
    local srv=$!
    "$PYTHON" "$here/feed_kv.py" memcached "$port" 100 1000 $((s + 60)) \
        >"$out/memcached_cap.feed.log" 2>&1 &
    local feed=$!
    watch_pids memcached_cap "$srv"
    stop "$feed" "$srv"
}

rec_redis() { # NAME EXTRA-ARGS...
    local name=$1; shift
    local port s
    port=$(free_port 26379)
    s=$(secs_of "$name")
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no "$@" \
        >"$out/$name.log" 2>&1 &
    local srv=$!
    sleep 0.5
    "$PYTHON" "$here/feed_kv.py" redis "$port" 170 1000 $((s + 60)) \
        >"$out/$name.feed.log" 2>&1 &
    local feed=$!
    watch_pids "$name" "$srv"
    stop "$feed" "$srv"
}
rec_redis_cap() { rec_redis redis_cap --maxmemory 256mb --maxmemory-policy allkeys-lru; }
rec_redis_grow() { rec_redis redis_grow; }

rec_py_lru() {
    "$PYTHON" "$here/py_lru.py" 40 20000 $(( $(secs_of py_lru) + 60 )) >"$out/py_lru.log" 2>&1 &
    local p=$!
    watch_pids py_lru "$p"
    stop "$p"
}

rec_py_dict() {
    "$PYTHON" "$here/py_dict.py" 24 $(( $(secs_of py_dict) + 60 )) >"$out/py_dict.log" 2>&1 &
    local p=$!
    watch_pids py_dict "$p"
    stop "$p"
}

rec_go_saw() {
    # GOGC=off + GOMEMLIMIT: the Go runtime otherwise forces a collection
    # every 2 minutes, which caps the sawtooth's period there.
    GOGC=off GOMEMLIMIT=192MiB "$build/go_saw" -live-mb 64 -garbage-kb-s 192 \
        -duration "$(( $(secs_of go_saw) + 60 ))s" >"$out/go_saw.log" 2>&1 &
    local p=$!
    watch_pids go_saw "$p"
    stop "$p"
}

rec_glibc_frag() {
    "$build/frag" $(( $(secs_of glibc_frag) + 60 )) 8 10 >"$out/glibc_frag.log" 2>&1 &
    local p=$!
    watch_pids glibc_frag "$p"
    stop "$p"
}

to_fixture() { # NAME
    local name=$1 rec="$out/$1.jsonl"
    [ -s "$rec" ] || { echo "$0: no recording $rec" >&2; return 1; }
    mkdir -p "$fixtures"
    # recording version 2 keys (timestamp_ms, private_bytes); version 1's
    # (t_ms, private) too
    jq -r -s '[.[] | select(.type == "sample")
               | {t: (.timestamp_ms // .t_ms), p: (.private_bytes // .private)}
               | select(.p != null)]
        | .[0].t as $t0 | .[] | "\((.t - $t0) / 1000),\(.p)"' \
        "$rec" >"$fixtures/$name.csv"
    gzip -9 -c "$rec" >"$fixtures/$name.jsonl.gz"
    printf '%-18s %-5s %s\n' "$name.csv" "$(field "$name" 4)" \
        "$(numfmt --from=iec "$(field "$name" 3)")"
}

if [ $convert -eq 0 ]; then
    [ -x "$MEMVIGIL" ] || { echo "$0: no memvigil at $MEMVIGIL (set MEMVIGIL)" >&2; exit 1; }
    mkdir -p "$build"
    for n in "${names[@]}"; do
        case "$n" in
        go_saw) (cd "$here/go_saw" && GOFLAGS=-mod=mod GOPROXY=off go build -o "$build/go_saw" main.go) ;;
        glibc_frag) ${CC:-cc} -O2 -pthread -o "$build/frag" "$here/frag.c" ;;
        esac
    done
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM
    for n in "${names[@]}"; do
        echo "recording $n for $(( $(secs_of "$n") / 60 )) min -> $out/$n.jsonl" >&2
        "rec_$n" &
        pids+=($!)
    done
    wait
    trap - INT TERM
fi
if [ -n "$fixtures" ]; then
    echo "# manifest lines ($fixtures/manifest.txt):"
    for n in "${names[@]}"; do to_fixture "$n"; done
fi
