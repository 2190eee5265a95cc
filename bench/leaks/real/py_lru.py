#!/usr/bin/env python3
"""py_lru.py — a recording subject of the leak benchmark (label ok): a
"service" loop answering requests for keys, each answer (2-8 KB) computed
once and kept by functools.lru_cache(maxsize=MAXSIZE). Half the requests
go to a hot set of 2000 keys, half to keys never seen before, so the cache
fills linearly (RATE/2 new entries per second) until MAXSIZE, then evicts
and its memory stays flat. Defaults (40/s, 20000 entries) fill in ~17 min.

usage: py_lru.py [RATE [MAXSIZE [SECONDS]]]
"""
import functools
import random
import sys

from paced import answer_of, every_second, service_key


def main():
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        sys.exit(__doc__.strip())
    rate = int(args[0]) if len(args) > 0 else 40
    maxsize = int(args[1]) if len(args) > 1 else 20000
    secs = float(args[2]) if len(args) > 2 else 3600.0
    answer = functools.lru_cache(maxsize=maxsize)(answer_of)
    rnd = random.Random(1)

    def one_second():
        for _ in range(rate):
            answer(service_key(rnd))

    every_second(secs, one_second)


if __name__ == "__main__":
    main()
