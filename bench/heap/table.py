# table.py — summarises bench/heap/run.sh's results.tsv (workload, tool,
# input, rep, wall ms, peak RSS KiB, bytes written) as the README's table:
# medians per (workload, tool, input), slowdown and extra RSS against the
# baseline ("none") on the same input; "paired" is the median over
# repetitions of the ratio to the baseline run of the same repetition (runs
# are adjacent, so this cancels slow drift of a shared machine). Rows whose rep starts with "len" are
# the output-growth runs, shown in a second table.
import statistics
import sys
from collections import defaultdict

ORDER = ["none", "memvigil", "jemalloc", "jemalloc-prof", "tcmalloc", "tcmalloc-prof", "heaptrack", "massif"]
WL = ["micro", "python", "sqlite", "gcc"]


def human(n):
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


runs = defaultdict(list)
growth = []
instr = {}
byrep = {}
with open(sys.argv[1]) as f:
    for line in f:
        wl, tool, scale, rep, ms, rss, written = line.rstrip("\n").split("\t")
        row = (int(ms) / 1000.0, int(rss) / 1024.0, int(written))
        if rep == "instr":
            instr[(wl, tool)] = int(written)
            continue
        if rep.startswith("len"):
            growth.append((wl, tool, scale, rep[3:], row))
        else:
            runs[(wl, tool, scale)].append(row)
            byrep[(wl, tool, scale, rep)] = row[0]

med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in runs.items()}
print("| workload | tool | input | runs | wall (median) | slowdown | paired | peak RSS | +RSS | written |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
for wl in WL:
    for scale in ["full", "small"]:
        base = med.get((wl, "none", scale))
        for tool in ORDER:
            k = (wl, tool, scale)
            if k not in med or (tool == "none" and scale == "small" and base is None):
                continue
            wall, rss, written = med[k]
            slow = "%.3fx" % (wall / base[0]) if base else "-"
            drss = "%+.1f MiB" % (rss - base[1]) if base else "-"
            pairs = [byrep[(wl, tool, scale, r)] / byrep[(wl, "none", scale, r)]
                     for (w, t, sc, r) in byrep if (w, t, sc) == k and (wl, "none", scale, r) in byrep]
            paired = "%.3fx" % statistics.median(pairs) if pairs else "-"
            if tool == "none":
                slow, drss, paired = "1 (base)", "-", "-"
            print("| %s | %s | %s | %d | %.2f s | %s | %s | %.1f MiB | %s | %s |" % (
                wl, tool, scale, len(runs[k]), wall, slow, paired, rss, drss, human(written)))
if growth:
    print()
    print("Output vs run length (microbenchmark; memvigil with a snapshot every 1 s, 3 kept):")
    print()
    print("| tool | input | length | wall | written |")
    print("|---|---|---:|---:|---:|")
    for wl, tool, scale, f, (wall, rss, written) in growth:
        print("| %s | %s | %sx | %.2f s | %s |" % (tool, scale, f, wall, human(written)))
if instr:
    print()
    print("Instructions executed (callgrind, small inputs, all threads; deterministic):")
    print()
    print("| workload | none | memvigil | overhead |")
    print("|---|---:|---:|---:|")
    for wl in WL:
        a, b = instr.get((wl, "none")), instr.get((wl, "memvigil"))
        if a and b:
            print("| %s | %d | %d | %+.2f%% |" % (wl, a, b, 100.0 * (b - a) / a))
