#!/usr/bin/env bash
# http_abuse.sh — the embedded endpoint of a real `memvigil run` under the
# abuse of issue 12: a GET with 500 query parameters gets 414 (or 431), a
# POST with a body gets 405, and 100 slow-header (slowloris) connections
# from 127.0.0.2..101, each sending a header line a second and reconnecting
# when cut, do not starve /metrics (at least 14 of 15 scrapes from
# 127.0.0.1 answered); a trickling request head is closed by the 5 s head
# deadline. Loopback only; about 20 s.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"

tmp=$(mktemp -d)
mv_pid=
cleanup() {
    if [ -n "$mv_pid" ]; then kill "$mv_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

"$MEMVIGIL" run --interval 200ms --listen 127.0.0.1:0 --quiet --duration 60s \
    -- sleep 60 >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
url=$(endpoint_url)
port=${url#http://127.0.0.1:}

timeout 90 python3 - "$port" <<'PY' || fail "endpoint abuse checks"
import select, socket, sys, time

port = int(sys.argv[1])

def exchange(data, src="127.0.0.1", timeout=5.0):
    """Sends data, reads to EOF; returns the status (or -1) and the bytes."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(data)
    except OSError:
        pass   # the server may answer and close before reading it all
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    try:
        return int(got.split(b" ", 2)[1]), got
    except (IndexError, ValueError):
        return -1, got

# 1. 500 query parameters (about 4 KB): an answer, not a silent close.
q = "&".join(f"p{i}={i}" for i in range(500))
st, _ = exchange(f"GET /metrics?{q} HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\n\r\n".encode())
print(f"GET with 500 query parameters: {st}")
if st not in (414, 431):
    sys.exit(f"GET with 500 query parameters: status {st}, want 414 or 431")

# 2. POST with a body: 405 with Allow.
st, got = exchange(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                   b"Content-Type: application/x-www-form-urlencoded\r\n"
                   b"Connection: close\r\n\r\nhello=world")
print(f"POST with a body: {st}")
if st != 405 or b"\r\nAllow: GET, HEAD\r\n" not in got:
    sys.exit(f"POST with a body: status {st}, want 405 with Allow")

# 3. Slowloris from 100 addresses while scraping from 127.0.0.1.
N = 100
socks = [None] * N
next_connect = [0.0] * N
opened = cut = 0

def attack_step(send_line):
    global opened, cut
    now = time.monotonic()
    for i in range(N):
        s = socks[i]
        if s is None:
            if now < next_connect[i]:
                continue
            next_connect[i] = now + 0.1   # at most 10 a second per address
            s = socket.socket()
            s.setblocking(False)
            s.bind((f"127.0.0.{i + 2}", 0))
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            socks[i] = s
            opened += 1
            data = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
        elif send_line:
            data = b"X-Slow: 1\r\n"
        else:
            continue
        try:
            s.send(data)
        except OSError:
            pass
    live = [s for s in socks if s is not None]
    r, _, _ = select.select(live, [], [], 0.05)
    for s in r:
        try:
            if s.recv(512):
                continue
        except OSError:
            pass
        socks[socks.index(s)] = None
        s.close()
        cut += 1

def scrape():
    try:
        st, got = exchange(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Connection: close\r\n\r\n", timeout=2.0)
    except OSError:
        return False
    return st == 200 and b"memvigil_" in got

def attack_for(seconds, state):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        now = time.monotonic()
        attack_step(now >= state["next_line"])
        if now >= state["next_line"]:
            state["next_line"] = now + 1.0

import threading
state = {"next_line": 0.0}
stop = threading.Event()
def attacker():
    while not stop.is_set():
        attack_for(0.2, state)
t = threading.Thread(target=attacker)
t.start()
time.sleep(2)
ok = 0
for _ in range(15):
    ok += scrape()
    time.sleep(0.3)
stop.set()
t.join()
for s in socks:
    if s is not None:
        s.close()
print(f"scrapes answered under attack: {ok} of 15 "
      f"({opened} attack connections opened, {cut} closed by the server)")
if ok < 14:
    sys.exit(f"only {ok} of 15 scrapes answered during the attack")

# 4. A request head trickling in a line a second is cut near 5 s.
s = socket.socket()
s.connect(("127.0.0.1", port))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
t0 = time.monotonic()
closed = None
while time.monotonic() - t0 < 9 and closed is None:
    try:
        s.send(b"X-Slow: 1\r\n")
    except OSError:
        closed = time.monotonic() - t0
        break
    r, _, _ = select.select([s], [], [], 1.0)
    if r:
        try:
            if not s.recv(512):
                closed = time.monotonic() - t0
        except OSError:
            closed = time.monotonic() - t0
s.close()
if closed is None:
    sys.exit("a trickling request head was still open after 9 s")
print(f"trickling head closed after {closed:.2f} s")
if not 4.5 <= closed <= 6.5:
    sys.exit(f"trickling head closed after {closed:.2f} s, want about 5 s")
PY

kill "$mv_pid" 2>/dev/null || true
wait "$mv_pid" 2>/dev/null || true
mv_pid=
echo "ok"
