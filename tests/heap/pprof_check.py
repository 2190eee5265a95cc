#!/usr/bin/env python3
"""pprof_check.py FILE.pb.gz [--period N] — a minimal profile.proto decoder
that checks a memvigil heap snapshot's structure and prints its totals as
JSON: {"totals": {type: sum}, "samples": n, "locations": n, "mappings": n,
"build_ids": n, "files": [mapping files that locations point into],
"unmapped": locations with no mapping}. Exits 1 with a message on any
violation."""
import gzip, json, sys


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return v, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        key, i = varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        elif w == 1:
            v = b[i:i + 8]; i += 8
        elif w == 5:
            v = b[i:i + 4]; i += 4
        else:
            raise ValueError("bad wire type %d" % w)
        out.append((f, w, v))
    return out


def packed(v, w):
    if w == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i); out.append(x)
    return out


def fail(msg):
    print("pprof_check: " + msg, file=sys.stderr); sys.exit(1)


def main():
    path = sys.argv[1]
    period = int(sys.argv[sys.argv.index("--period") + 1]) if "--period" in sys.argv else None
    raw = gzip.open(path).read()
    top = fields(raw)
    strings = [v.decode() for f, w, v in top if f == 6]
    if not strings or strings[0] != "":
        fail("string_table[0] must be empty")
    def vt(v):
        d = {f: x for f, _, x in fields(v)}
        return strings[d.get(1, 0)], strings[d.get(2, 0)]
    types = [vt(v) for f, w, v in top if f == 1]
    want = [("alloc_objects", "count"), ("alloc_space", "bytes"),
            ("inuse_objects", "count"), ("inuse_space", "bytes")]
    if types != want:
        fail("sample types %r" % types)
    scalars = {f: v for f, w, v in top if w == 0 and f in (9, 10, 12, 14)}
    if strings[scalars.get(14, 0)] != "inuse_space":
        fail("default_sample_type")
    pt = [vt(v) for f, w, v in top if f == 11]
    if pt != [("space", "bytes")]:
        fail("period_type %r" % pt)
    if period is not None and scalars.get(12) != period:
        fail("period %r != %d" % (scalars.get(12), period))
    if not scalars.get(9):
        fail("time_nanos missing")
    maps = {}
    for f, w, v in (x for x in top if x[0] == 3):
        d = {ff: vv for ff, _, vv in fields(v)}
        maps[d.get(1, 0)] = (d.get(2, 0), d.get(3, 0), strings[d.get(5, 0)], strings[d.get(6, 0)])
    if not maps or 0 in maps:
        fail("no mappings / mapping id 0")
    for mid, (lo, hi, fn, bid) in maps.items():
        if not (lo < hi) or not fn.startswith("/"):
            fail("bad mapping %r" % (maps[mid],))
    locs = {}
    for f, w, v in (x for x in top if x[0] == 4):
        d = {ff: vv for ff, _, vv in fields(v)}
        lid, mid, addr = d.get(1, 0), d.get(2, 0), d.get(3, 0)
        if lid == 0 or lid in locs:
            fail("location id %d" % lid)
        if mid:
            lo, hi = maps[mid][0], maps[mid][1]
            if not lo <= addr < hi:
                fail("location %x outside its mapping" % addr)
        locs[lid] = (mid, addr)
    totals = [0, 0, 0, 0]
    nsamp = 0
    for f, w, v in (x for x in top if x[0] == 2):
        ids, vals = [], []
        for ff, ww, vv in fields(v):
            if ff == 1: ids += packed(vv, ww)
            if ff == 2: vals += packed(vv, ww)
        if len(vals) != 4:
            fail("sample with %d values" % len(vals))
        for i in ids:
            if i not in locs:
                fail("sample names unknown location %d" % i)
        totals = [a + b for a, b in zip(totals, vals)]
        nsamp += 1
    print(json.dumps({"totals": dict(zip([t for t, _ in want], totals)), "samples": nsamp,
                      "locations": len(locs), "mappings": len(maps),
                      "build_ids": sum(1 for m in maps.values() if m[3]),
                      "files": sorted({maps[m][2] for m, _ in locs.values() if m}),
                      "unmapped": sum(1 for m, _ in locs.values() if not m)}))


if __name__ == "__main__":
    main()
