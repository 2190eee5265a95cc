#!/usr/bin/env python3
"""py_dict.py — a recording subject of the leak benchmark (label leak): the
py_lru.py "service" with its answers (2-8 KB each) memoised in a plain dict
that nothing ever prunes. Half the requests go to a hot set of 2000 keys,
half to keys never seen before, so the dict gains RATE/2 entries a second
for as long as it runs: at the default 24 requests/s, ~12 x 5 KB/s, about
210 MiB an hour.

usage: py_dict.py [RATE [SECONDS]]
"""
import random
import sys

from paced import answer_of, every_second, service_key


def main():
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        sys.exit(__doc__.strip())
    rate = int(args[0]) if len(args) > 0 else 24
    secs = float(args[1]) if len(args) > 1 else 3600.0
    cache = {}
    rnd = random.Random(1)

    def one_second():
        for _ in range(rate):
            key = service_key(rnd)
            if cache.get(key) is None:
                cache[key] = answer_of(key)

    every_second(secs, one_second)


if __name__ == "__main__":
    main()
