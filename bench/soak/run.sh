#!/usr/bin/env bash
# bench/soak/run.sh — the agent's soak benchmark: `memvigil watch
# --interval 100ms` on a leaking child for an hour, recording with
# rotation, while /metrics (and now and then /api/v1/status and the live
# page) is scraped every 100 ms. Prints the agent's RSS and open
# descriptors at the start (after a minute of warm-up) and the end, and at
# every checkpoint in between, plus how many scrapes failed. A measurement
# to read (bench/README.md), not a test.
#
# usage: bench/soak/run.sh [BUILD_DIR] [SECONDS]   (defaults: build 3600)
set -euo pipefail

build=${1:-build}
seconds=${2:-3600}
memvigil=$build/memvigil
leaky=$build/examples/leaky
[ -x "$memvigil" ] && [ -x "$leaky" ] || {
    echo "soak: build first (make build): $memvigil or $leaky missing" >&2; exit 2; }
case $seconds in ''|*[!0-9]*) echo "soak: SECONDS must be a whole number" >&2; exit 2;; esac
warmup=60
[ "$seconds" -gt $((warmup * 2)) ] || warmup=$((seconds / 4))
checkpoints=12

tmp=$(mktemp -d)
agent=""; child=""
cleanup() {
    [ -n "$agent" ] && kill "$agent" 2>/dev/null || true
    [ -n "$child" ] && kill "$child" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# The watched child leaks slowly (the detector has work to do) and stays
# alive past the end of the soak; its cache churns at the cap.
"$leaky" --seconds $((seconds + 120)) --leak-rate 16KiB --cache-cap 8MiB \
    >/dev/null 2>&1 &
child=$!
"$memvigil" watch --pid "$child" --interval 100ms --listen 127.0.0.1:0 \
    --record "$tmp/rec.jsonl" --record-max-size 1M --record-keep 3 \
    >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!

url=""
for _ in $(seq 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/agent.err" | head -n 1 || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "soak: the agent printed no URL:" >&2; cat "$tmp/agent.err" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$agent/status"; }
fds() { ls "/proc/$agent/fd" | wc -l; }
segments() { ls "$tmp" | grep -c '^rec\.jsonl' || true; }

# Scraper: /metrics every 100 ms on a fixed schedule (a new connection each
# time, as Prometheus after an idle period); every 50th round
# /api/v1/status and the live page instead. Prints "ok failed" at the end.
python3 - "$url" "$seconds" >"$tmp/scrapes" <<'PY' &
import sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
ok = bad = i = 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    path = {25: "/api/v1/status", 49: "/"}.get(i % 50, "/metrics")
    try:
        with urllib.request.urlopen(url + path, timeout=2) as r:
            r.read()
            ok += r.status == 200
            bad += r.status != 200
    except Exception:
        bad += 1
    i += 1
    time.sleep(max(0.0, start + i * 0.1 - time.monotonic()))
print(ok, bad)
PY
scraper=$!

sleep "$warmup"
printf '# soak: %s s of watch --interval 100ms, scrapes every 100 ms, rotation at 1M x 3\n' "$seconds"
printf '%-10s %10s %6s %9s\n' elapsed_s rss_kib fds rec_files
start_rss=$(rss_kib); start_fds=$(fds)
printf '%-10s %10s %6s %9s\n' "$warmup" "$start_rss" "$start_fds" "$(segments)"
step=$(( (seconds - warmup) / checkpoints ))
[ "$step" -gt 0 ] || step=1
t=$warmup
while [ $((t + step)) -le "$seconds" ]; do
    sleep "$step"
    t=$((t + step))
    kill -0 "$agent" 2>/dev/null || { echo "soak: the agent died:" >&2; cat "$tmp/agent.err" >&2; exit 1; }
    printf '%-10s %10s %6s %9s\n' "$t" "$(rss_kib)" "$(fds)" "$(segments)"
done
end_rss=$(rss_kib); end_fds=$(fds)
wait "$scraper"
read -r ok bad <"$tmp/scrapes"
cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$agent/stat")
echo "soak_rss_start_kib $start_rss"
echo "soak_rss_end_kib $end_rss"
echo "soak_fds_start $start_fds"
echo "soak_fds_end $end_fds"
echo "soak_scrapes_ok $ok"
echo "soak_scrapes_failed $bad"
echo "soak_agent_cpu_s $cpu"
echo "soak_recording_files $(segments)"
