#!/usr/bin/env bash
# heap_redis_site.sh — a real program that allocates through its own
# wrapper: Debian's redis-server, fed unbounded SETs under
# `memvigil run --heap`. The growing site must be redis's own code
# (_sdsnewlen, where the values are made), not its allocator wrapper
# zmalloc_usable that every allocation passes through.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
command -v redis-server >/dev/null || { echo "FAIL: redis-server not installed (scripts/install-deps.sh installs it)"; exit 1; }
[ -e "$MV_BUILD/libmemvigil_heap.so" ] || { echo "SKIP: no preload library in this build"; exit 0; }
tmp=$(mktemp -d)
mv_pid=
trap '[ -n "$mv_pid" ] && kill "$mv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$MEMVIGIL" run --heap --heap-interval 1s --heap-dir "$tmp/heap" --listen none --quiet \
    -- redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    >"$tmp/out" 2>"$tmp/err" &
mv_pid=$!
# 8 s of pipelined SETs of 1000-byte values to fresh keys
python3 - "$port" <<'PY' || fail "feeding redis"
import socket, sys, time
port = int(sys.argv[1])
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("redis did not listen")
val, i, t0 = b"x" * 1000, 0, time.time()
while time.time() - t0 < 8:
    cmds = b""
    for _ in range(200):
        k = b"key:%d" % i; i += 1
        cmds += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(val), val)
    s.sendall(cmds)
    got = 0
    while got < 200 * 5:
        got += len(s.recv(65536))
    time.sleep(0.01)
s.sendall(b"*1\r\n$8\r\nSHUTDOWN\r\n")
print("keys", i)
PY
wait "$mv_pid" || true
mv_pid=
"$MEMVIGIL" heap top "$tmp/heap" >"$tmp/out" 2>"$tmp/err" || fail "heap top"
first=$(awk '/^ +1 / {print $NF; exit}' "$tmp/out")
[ -n "$first" ] || fail "no growing call site"
case $first in
    zmalloc*|ztrymalloc*|zcalloc*|malloc|"operator new"*) fail "rank 1 is the allocator wrapper $first" ;;
esac
grep -Eq "^ +1 .*(_sdsnewlen|sdsnewlen|createStringObject|processMultibulkBuffer)" "$tmp/out" ||
    fail "rank 1 is not redis's own string/request code: $first"
# the frames above it say which request path makes the values
callers=$(awk '/^ +1 / {getline; print; exit}' "$tmp/out")
case $callers in
    *"<- createStringObject"*) ;;
    *) fail "no caller line naming createStringObject under rank 1: '$callers'" ;;
esac
echo "PASS: heap_redis_site: rank 1 $first$callers"
