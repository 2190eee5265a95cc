#!/usr/bin/env bash
# tty_view.sh — the live terminal view of `run` and `watch` under a real
# pseudo-terminal (python3's pty module): the view is drawn in rows reserved
# below a scroll region and redrawn in place (save cursor, absolute rows,
# clear line, restore), shows the figures, the sparkline and the events,
# follows a resize (SIGWINCH), and gives the screen back at the end — also
# when memvigil is stopped by SIGINT. NO_COLOR drops every colour code, a
# non-UTF-8 locale gets the ASCII sparkline; --no-tty, TERM=dumb and a pipe
# get plain lines without a single escape sequence. Under `run --heap` a
# fragmenting program gets the allocator's line (diagnosis, live heap, free
# inside, advice) in the view and in the plain status lines.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
LEAKY="$MV_BUILD/examples/leaky"

tmp=$(mktemp -d)
sleeper=
cleanup() {
    if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"   # static_lib_deps; fail is this file's own
fail() {
    echo "FAIL: $*" >&2
    for f in "$tmp"/*.out; do
        echo "--- $f" >&2
        cat -v "$f" | tail -c 3000 >&2 || true
    done
    exit 1
}

# ptyrun OUT ROWS COLS [--resize-at S ROWS2 COLS2] [--int-at S] -- CMD...
# Runs CMD on a pty of ROWS x COLS, writes everything it printed to OUT,
# exits with CMD's exit status.
cat >"$tmp/ptyrun.py" <<'PY'
import fcntl, os, pty, signal, struct, sys, termios, time
out, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
args = sys.argv[4:]
resize = intr = None
while args and args[0] != "--":
    if args[0] == "--resize-at":
        resize = (float(args[1]), int(args[2]), int(args[3])); args = args[4:]
    elif args[0] == "--int-at":
        intr = float(args[1]); args = args[2:]
    else:
        sys.exit("ptyrun: bad option " + args[0])
cmd = args[1:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.execvp(cmd[0], cmd)
data = bytearray()
t0 = time.monotonic()
deadline = t0 + 60
while time.monotonic() < deadline:
    now = time.monotonic() - t0
    if resize and now >= resize[0]:
        fcntl.ioctl(fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", resize[1], resize[2], 0, 0))
        os.kill(pid, signal.SIGWINCH)  # the pty master does not send it
        resize = None
    if intr is not None and now >= intr:
        os.kill(pid, signal.SIGINT)
        intr = None
    import select
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
else:
    os.kill(pid, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
open(out, "wb").write(bytes(data))
sys.exit(os.waitstatus_to_exitcode(st) & 0xff)
PY
ptyrun() { python3 "$tmp/ptyrun.py" "$@"; }
has() { python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode().decode("unicode_escape").encode("latin-1") in open(sys.argv[1],"rb").read() else 1)' "$1" "$2"; }
no_escape() { ! grep -q $'\x1b' "$1"; }

RUN=("$MEMVIGIL" run --interval 200ms --listen none --warning 0.001
     --critical 0.002 -- "$LEAKY" --seconds 3 --leak-rate 8MiB)

# ---- 1. the live view on a UTF-8 colour terminal, resized halfway ----
rc=0
env TERM=xterm-256color LANG=C.UTF-8 LC_ALL= LC_CTYPE= NO_COLOR= \
    python3 "$tmp/ptyrun.py" "$tmp/live.out" 30 100 --resize-at 1.8 40 120 \
    -- "${RUN[@]}" || rc=$?
[ "$rc" -eq 0 ] || fail "run under a pty exited $rc (expected leaky's 0)"
# scroll region above 12 view rows (30 - 12 = 18), view drawn from row 19
has "$tmp/live.out" '\x1b[1;18r' || fail "no scroll region 1;18 for 30 rows"
has "$tmp/live.out" '\x1b7\x1b[19;1H\x1b[2Kmemvigil run [' ||
    fail "no in-place frame at row 19 (save cursor, row, clear line)"
has "$tmp/live.out" '\x1b[30;1H\x1b[2K' || fail "the view does not reach row 30"
# after the resize to 40 rows: region set up again, view from row 29
has "$tmp/live.out" '\x1b[1;28r' || fail "no new scroll region after SIGWINCH"
has "$tmp/live.out" '\x1b[29;1H\x1b[2Kmemvigil run [' ||
    fail "no frame at the new position after the resize"
frames=$(grep -o $'\x1b7\x1b\\[[0-9]*;1H\x1b\\[2Kmemvigil run' "$tmp/live.out" | wc -l)
[ "$frames" -ge 5 ] || fail "only $frames frames drawn in 3 s at 200 ms"
grep -q 'rss [0-9.]* [KMG]*i*B = anon ' "$tmp/live.out" || fail "no rss split"
grep -q 'private [0-9.]* [KMG]*i*B  swap ' "$tmp/live.out" || fail "no private/swap"
grep -q ' / limit .* ratio ' "$tmp/live.out" || fail "no usage / limit ratio"
grep -q 'growth .*time to limit ' "$tmp/live.out" || fail "no growth / ETA line"
grep -q '^leak \|leak none reported\|leak suspect\|leak .*LEAK' "$tmp/live.out" ||
    fail "no leak line"
# the OOM-risk claim on its own line, apart from the verdict
grep -q 'oom risk none reported\|oom risk .*OOM RISK\|oom risk cleared' "$tmp/live.out" ||
    fail "no oom risk line"
grep -q 'private ▁[▁▂▃▄▅▆▇█]*' "$tmp/live.out" || fail "no UTF-8 sparkline"
has "$tmp/live.out" '\x1b[33mWARNING\x1b[0m' ||
    has "$tmp/live.out" '\x1b[1;31mCRITICAL\x1b[0m' || fail "no coloured level"
# event lines scroll above the view; the last ones are also in the view
grep -q 'Z [a-z]* *target process [0-9]* exited' "$tmp/live.out" ||
    fail "target_exit event line not printed"
grep -q '  [0-9:]\{8\} .*target process [0-9]* exited' "$tmp/live.out" ||
    fail "target_exit not in the view's event list"
grep -q 'leaky: leaked' "$tmp/live.out" || fail "the child's own output is missing"
# the end: final frame says so, region reset, cursor on a line below the view
grep -q '| target ended' "$tmp/live.out" || fail "no final frame"
tail -c 20 "$tmp/live.out" | grep -q $'\x1b\\[r\x1b\\[40;1H' ||
    fail "the screen is not given back at the end (region reset, bottom row)"

# ---- 2. NO_COLOR and a non-UTF-8 locale ----
# PYTHONCOERCECLOCALE=0: python would otherwise export LC_CTYPE=C.UTF-8
env TERM=xterm NO_COLOR=1 LANG=C LC_ALL= LC_CTYPE= PYTHONCOERCECLOCALE=0 \
    python3 "$tmp/ptyrun.py" "$tmp/nocolor.out" 30 100 -- "${RUN[@]}" ||
    fail "run with NO_COLOR failed"
has "$tmp/nocolor.out" '\x1b[1;18r' || fail "NO_COLOR: no live view"
! grep -q $'\x1b\\[[0-9;]*m' "$tmp/nocolor.out" ||
    fail "NO_COLOR: colour codes present"
! grep -q '▁' "$tmp/nocolor.out" || fail "LANG=C: UTF-8 blocks in the sparkline"
grep -q 'private [_.:=+*#-]\+ [0-9]' "$tmp/nocolor.out" ||
    fail "LANG=C: no ASCII sparkline"

# ---- 3. plain lines: --no-tty, TERM=dumb, a pipe ----
env TERM=xterm LANG=C.UTF-8 python3 "$tmp/ptyrun.py" "$tmp/notty.out" 30 100 \
    -- "$MEMVIGIL" run --no-tty --interval 200ms --listen none -- \
    "$LEAKY" --seconds 1 --leak-rate 1MiB || fail "run --no-tty failed"
no_escape "$tmp/notty.out" || fail "--no-tty: escape sequences on the terminal"
grep -q 'Z ok       monitoring pid [0-9]*' "$tmp/notty.out" ||
    fail "--no-tty: no plain event line"

env TERM=dumb LANG=C.UTF-8 python3 "$tmp/ptyrun.py" "$tmp/dumb.out" 30 100 \
    -- "$MEMVIGIL" run --interval 200ms --listen none -- \
    "$LEAKY" --seconds 1 --leak-rate 1MiB || fail "run with TERM=dumb failed"
no_escape "$tmp/dumb.out" || fail "TERM=dumb: escape sequences"
grep -q 'Z ok       monitoring pid [0-9]*' "$tmp/dumb.out" ||
    fail "TERM=dumb: no plain event line"

TERM=xterm "$MEMVIGIL" run --interval 200ms --listen none -- "$LEAKY" \
    --seconds 1 --leak-rate 1MiB 2>&1 | cat >"$tmp/pipe.out" ||
    fail "run into a pipe failed"
no_escape "$tmp/pipe.out" || fail "pipe: escape sequences"
grep -q 'Z ok       monitoring pid [0-9]*' "$tmp/pipe.out" ||
    fail "pipe: no plain event line"

# ---- 4. watch stopped by SIGINT gives the screen back ----
sleep 30 &
sleeper=$!
rc=0
env TERM=xterm LANG=C.UTF-8 python3 "$tmp/ptyrun.py" "$tmp/sigint.out" 24 80 \
    --int-at 1.5 -- "$MEMVIGIL" watch --pid "$sleeper" --interval 200ms \
    --listen none || rc=$?
[ "$rc" -eq 0 ] || fail "watch stopped by SIGINT exited $rc"
has "$tmp/sigint.out" '\x1b[1;12r' || fail "watch: no live view (24 rows)"
grep -q "memvigil watch \[.*\] pid $sleeper | .* | stopped" "$tmp/sigint.out" ||
    fail "watch: no final frame saying stopped"
has "$tmp/sigint.out" '\x1b[r\x1b[24;1H' || fail "watch: region not reset on SIGINT"
grep -q 'stopping on Interrupt' "$tmp/sigint.out" ||
    fail "watch: no stop message"
python3 - "$tmp/sigint.out" <<'PY' || fail "watch: output after the region reset"
import sys
d = open(sys.argv[1], "rb").read()
i = d.rfind(b"\x1b[r")
# after the reset only the newline and the stop message may follow
rest = d[i:]
assert b"\x1b7" not in rest, rest
PY

# ---- 5. the allocator's line: a fragmenting program under run --heap ----
if [ -n "${MV_SOURCE:-}" ] && command -v cc >/dev/null &&
   [ -e "$MV_BUILD/libmemvigil.a" ] && [ -e "$MV_BUILD/libmemvigil_heap.so" ]; then
    cc -O1 -I "$MV_SOURCE/include" -o "$tmp/frag_prog" \
       "$MV_SOURCE/tests/integration/frag_prog.c" "$MV_BUILD/libmemvigil.a" \
       $(static_lib_deps) || fail "cannot build frag_prog.c"
    # frag_prog '-': no embedded monitor, the agent reads the preload's figures
    heap() { # DIR
        echo "$MEMVIGIL" run --heap --heap-dir "$1" --heap-interval 1s \
            --interval 200ms --alloc-window 3s --listen none
    }
    env TERM=xterm NO_COLOR=1 LANG=C.UTF-8 python3 "$tmp/ptyrun.py" "$tmp/alloc.out" \
        30 200 -- $(heap "$tmp/heap1") -- "$tmp/frag_prog" after 7 - &
    view=$!
    # plain status lines come every 10 s on a terminal
    env TERM=xterm LANG=C.UTF-8 python3 "$tmp/ptyrun.py" "$tmp/allocplain.out" \
        30 200 -- $(heap "$tmp/heap2") --no-tty -- "$tmp/frag_prog" after 12 - ||
        fail "run --heap --no-tty of frag_prog failed"
    wait "$view" || fail "run --heap of frag_prog under a pty failed"
    # fragmentation, or retention when a status file caught the short peak
    grep -Eq 'allocator (FRAGMENTATION|RETENTION) glibc heap in use [0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B free inside \([0-9]+ arenas\); try MALLOC_ARENA_MAX=2' \
        "$tmp/alloc.out" || fail "no allocator line with the diagnosis in the view"
    grep -Eq 'status .* heap in use [0-9.]+ [KMG]?i?B free inside [0-9.]+ [KMG]?i?B \((fragmentation|retention)\)' \
        "$tmp/allocplain.out" || fail "no allocator figures and diagnosis in the status line"
else
    echo "note: frag_prog cannot be built here, allocator line part skipped"
fi

echo "PASS: tty_view ($frames frames)"
