# alloc_heavy.py — the python3 workload of bench/heap/run.sh: builds and
# drops dicts, lists and strings of many sizes (small objects go through
# pymalloc's arenas, larger strings, dict tables and list buffers through
# malloc), keeps a bounded cache live, and round-trips JSON.
# Usage: python3 alloc_heavy.py [ROUNDS]   (deterministic; prints a checksum)
import json
import sys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
cache = {}
check = 0
for r in range(rounds):
    rows = []
    for i in range(20000):
        d = {"id": i, "name": "user-%d-%d" % (r, i), "tags": [str(i % 97)] * (i % 7),
             "blob": "x" * (16 + (i * 37) % 2000)}
        rows.append(d)
    text = json.dumps(rows[:5000])
    back = json.loads(text)
    check += len(back) + len(text) % 1000
    index = {d["name"]: d for d in rows}
    words = " ".join(d["name"] for d in rows).split(" ")
    check += len(words) + len(index)
    big = ["".join(words[j:j + 50]) for j in range(0, len(words), 50)]
    cache[r % 8] = (rows[::10], big)
    check += sum(len(b) for b in big) % 977
print("alloc_heavy rounds=%d check=%d" % (rounds, check))
