#!/usr/bin/env python3
"""gen_week.py — writes a synthetic memvigil recording (JSONL, format v1) of
a process watched for DAYS days at INTERVAL seconds: a slow leak under a
daily cycle with GC sawtooth and noise, a phase, events and a few spikes.
Deterministic (seeded). Used by bench/report/run.sh to time `memvigil report`.

usage: gen_week.py OUT [--days 7] [--interval 10]
"""
import json, math, random, sys

def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = args[0]
    days, interval = 7.0, 10.0
    if "--days" in args:
        days = float(args[args.index("--days") + 1])
    if "--interval" in args:
        interval = float(args[args.index("--interval") + 1])
    rnd = random.Random(42)
    t0 = 1795000000000
    n = int(days * 86400 / interval)
    limit = 2 << 30
    lines = [json.dumps({"type": "header", "version": 1, "tool": "memvigil 0.1.0",
                         "command": "bench-service --workers 8", "pid": 4242, "host": "bench",
                         "start_ms": t0, "interval_ms": int(interval * 1000),
                         "limit_bytes": limit}, separators=(",", ":"))]
    leak_per_s = 96 * 1024 * 1024 / 86400.0          # 96 MiB a day
    for i in range(n):
        t = t0 + int(i * interval * 1000)
        s = i * interval
        daily = 60e6 * (1 + math.sin(2 * math.pi * s / 86400.0))
        saw = 40e6 * ((s % 900) / 900.0)
        anon = int(300e6 + leak_per_s * s + daily + saw + rnd.gauss(0, 2e6))
        if rnd.random() < 0.0005:
            anon += int(rnd.uniform(100e6, 300e6))       # rare spikes
        file_ = int(80e6 + rnd.gauss(0, 1e6))
        ws = anon + file_ // 2
        lines.append(json.dumps({"type": "sample", "t_ms": t, "rss": anon + file_, "anon": anon,
                                 "file": file_, "shmem": 4096000, "swap": 0, "private": anon,
                                 "working_set": ws, "cg_usage": ws + file_ // 2, "limit": limit,
                                 "ratio": ws / limit, "oom_kill": 0, "level": "ok",
                                 "growth_bps": leak_per_s, "ttl_s": (limit - ws) / leak_per_s},
                                separators=(",", ":")))
        if i % 8640 == 100:
            lines.append(json.dumps({"type": "event", "t_ms": t + 1, "event": "phase", "level": "ok",
                                     "message": "phase nightly_reindex began; growth warnings are held back while it runs"},
                                    separators=(",", ":")))
        if i % 8640 == 460:
            lines.append(json.dumps({"type": "event", "t_ms": t + 1, "event": "phase", "level": "ok",
                                     "message": "phase nightly_reindex ended"}, separators=(",", ":")))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
