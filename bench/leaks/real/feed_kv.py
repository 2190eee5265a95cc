#!/usr/bin/env python3
"""feed_kv.py — the write load for the redis and memcached recordings of the
leak benchmark: RATE sets per second of SIZE-byte values on random 40-bit
keys, over one TCP connection, each second's batch answered before the next.

usage: feed_kv.py redis|memcached PORT RATE SIZE SECONDS
"""
import os
import random
import socket
import sys
import time

from paced import every_second


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.strip())
    proto, port, rate, size, secs = sys.argv[1], int(sys.argv[2]), \
        int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    for _ in range(100):
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"feed_kv.py: cannot connect to 127.0.0.1:{port}")
    value = os.urandom(size // 2).hex().encode()[:size]
    rnd = random.Random(42)

    def one_second():
        batch = []
        for _ in range(rate):
            key = b"k:%010x" % rnd.getrandbits(40)
            if proto == "redis":
                batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                             % (len(key), key, len(value), value))
            else:
                batch.append(b"set %s 0 0 %d noreply\r\n%s\r\n"
                             % (key, len(value), value))
        sock.sendall(b"".join(batch))
        if proto == "redis":
            want, got = rate * 5, b""  # "+OK\r\n" per SET
            while len(got) < want:
                chunk = sock.recv(65536)
                if not chunk:
                    sys.exit("feed_kv.py: server closed the connection")
                got += chunk

    every_second(secs, one_second)

if __name__ == "__main__":
    main()
