#!/usr/bin/env bash
# heap_url_errors.sh — `memvigil heap watch --url` on endpoints that do not
# serve a heap profile: nothing listening, an HTML page, garbage, gzip'd
# garbage, a pprof profile of another kind (no inuse_space), Go's ?debug=1
# text, HTTP 401 and 404, an answer slower than --timeout, a redirect. Each
# gets one clear line, no snapshot is kept, and the exit status is 1
# (nothing could be fetched); never a crash. Usage errors exit 2.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
tmp=$(mktemp -d)
web=
trap '[ -n "$web" ] && kill "$web" 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

cat >"$tmp/server.py" <<'PY'
import gzip, http.server, os, sys, time
# a pprof profile with one sample type, samples/count: a CPU-like profile
OTHER = (b"\x0a\x04\x08\x01\x10\x02" + b"\x32\x00" + b"\x32\x07samples"
         + b"\x32\x05count")
ANSWERS = {
    "/html": (200, b"<!DOCTYPE html><html><body>hello</body></html>\n"),
    "/garbage": (200, bytes(range(256)) * 8),
    "/gzgarbage": (200, gzip.compress(bytes(range(256)) * 8)),
    "/other": (200, gzip.compress(OTHER)),
    "/text": (200, b"heap profile: 1: 2 [3: 4] @ heap/1048576\n"),
    "/empty": (200, b""),
    "/401": (401, b"no\n"),
}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/slow":
            time.sleep(3)
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/html")
            self.end_headers()
            return
        code, body = ANSWERS.get(path, (404, b"not found\n"))
        try:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (--timeout)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
python3 "$tmp/server.py" "$tmp/port" & web=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: the test server did not start" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$tmp/port")"

# expect_error PATH MESSAGE [OPTIONS...]: exit 1, MESSAGE once, nothing kept
expect_error() {
    local path=$1 msg=$2 rc=0
    shift 2
    rm -rf "$tmp/heap"
    "$MEMVIGIL" heap watch --url "$base$path" --duration 1500ms --heap-dir "$tmp/heap" "$@" \
        >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = 1 ] || fail "$path: exit $rc, want 1"
    grep -qF -- "$msg" "$tmp/err" || fail "$path: no '$msg'"
    [ "$(grep -c "polling on" "$tmp/err")" = 1 ] || fail "$path: the failure is said more than once"
    grep -q "no heap profile could be fetched" "$tmp/err" || fail "$path: no final error"
    [ -z "$(ls "$tmp/heap")" ] || fail "$path: something was kept: $(ls "$tmp/heap")"
}
expect_error /html "HTML or XML, not a profile"
expect_error /garbage "not a pprof profile"
expect_error /gzgarbage "not a pprof profile"
expect_error /other "a profile without inuse_space samples"
expect_error /text "a text heap profile (drop ?debug=1 from the URL)"
expect_error /empty "an empty answer"
expect_error /401 "HTTP 401 (a token is needed: --bearer-token-file)"
expect_error /debug/pprof/heap "HTTP 404 (no pprof heap endpoint at this path?)"
expect_error /redirect "HTTP 302"
expect_error /slow "no answer within 0.5 s" --timeout 500ms
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
expect_error /debug/pprof/heap "cannot fetch"

# usage errors
for args in "" "--url ftp://x/heap" "--url $base/heap extra" "--url $base/heap --heap-interval 0" \
            "--url $base/heap --timeout x" "--url $base/heap --listen nohost"; do
    rc=0
    # shellcheck disable=SC2086
    "$MEMVIGIL" heap watch $args >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = 2 ] || fail "heap watch $args: exit $rc, want 2"
    grep -q "^memvigil heap: " "$tmp/err" || fail "heap watch $args: no error line"
done
rc=0
"$MEMVIGIL" heap watch --url "$base/heap" --bearer-token-file "$tmp/missing" --duration 1s \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q "cannot read --bearer-token-file" "$tmp/err" ||
    fail "a missing token file: exit $rc"
echo "PASS: heap_url_errors"
