#!/usr/bin/env python3
"""cdp.py — what the browser tests share: a minimal WebSocket client (just
enough RFC 6455 for a local DevTools socket), a DevTools page wrapper, and
launching Debian's headless Chromium with a throw-away profile. Standard
library only, so the browser tests need nothing beyond chromium and python3.

Used by report_cdp.py (reports) and livepage_cdp.py (the live page).
"""
import base64, json, os, re, shutil, socket, struct, subprocess, tempfile, threading, time
import urllib.request


class WS:
    """Just enough RFC 6455 for a local DevTools socket: text frames, client
    masking, no extensions."""

    def __init__(self, url):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        self.s = socket.create_connection((m.group(1), int(m.group(2))), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (m.group(3), m.group(1), m.group(2), key)).encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            resp += self.s.recv(4096)
        if b" 101 " not in resp.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake failed: %r" % resp[:200])
        self.buf = resp.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        hdr = bytearray([0x81])
        n = len(data)
        if n < 126:
            hdr.append(0x80 | n)
        elif n < 65536:
            hdr.append(0x80 | 126)
            hdr += struct.pack(">H", n)
        else:
            hdr.append(0x80 | 127)
            hdr += struct.pack(">Q", n)
        mask = os.urandom(4)
        hdr += mask
        self.s.sendall(bytes(hdr) + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise EOFError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise EOFError("websocket closed")
            if op in (0, 1, 2):
                msg += payload
                if b0 & 0x80:
                    return msg.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.id, self.events = ws, 0, []

    def call(self, method, **params):
        self.id += 1
        my = self.id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == my:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, timeout=30):
        end = time.time() + timeout
        for e in self.events:
            if e.get("method") == name:
                return e
        while time.time() < end:
            m = json.loads(self.ws.recv())
            self.events.append(m)
            if m.get("method") == name:
                return m
        raise TimeoutError(name)

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def mouse(self, kind, x, y, button="none", clicks=0):
        self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button=button, clickCount=clicks)


def find_chromium(args):
    """The browser given by --chromium PATH in args, else Debian's."""
    if "--chromium" in args:
        return args[args.index("--chromium") + 1]
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """Headless Chromium with its own profile; `with Browser(...) as p:`
    yields a Page already attached to the first tab with the Runtime, Log,
    Network and Page domains enabled and the viewport set. Killed and its
    profile removed on exit. offline=True makes every name lookup fail, so
    a request anywhere but 127.0.0.1 could not even resolve."""

    def __init__(self, chromium, width, height, offline=False):
        self.chromium, self.width, self.height, self.offline = chromium, width, height, offline
        self.proc = self.profile = None

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="mv-chromium-")
        argv = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
        if self.offline:
            argv.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
        argv += ["--user-data-dir=" + self.profile, "--remote-debugging-port=0",
                 "--window-size=%d,%d" % (self.width, self.height), "about:blank"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        end = time.time() + 60
        while time.time() < end and port is None:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            self.__exit__(None, None, None)
            raise RuntimeError("chromium did not start its DevTools endpoint")
        # keep draining stderr so chromium never blocks on a full pipe
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
        page_t = [t for t in targets if t.get("type") == "page"][0]
        p = Page(WS(page_t["webSocketDebuggerUrl"]))
        for d in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            p.call(d)
        p.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
               deviceScaleFactor=1, mobile=False)
        return p

    def __exit__(self, *exc):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
        return False


def screenshot(p, path):
    png = p.call("Page.captureScreenshot", format="png")["data"]
    with open(path, "wb") as f:
        f.write(base64.b64decode(png))


def page_problems(p):
    """(requests, console error texts, exception texts) seen so far."""
    p.js("1")  # flush pending events into p.events
    requests = [e["params"]["request"]["url"] for e in p.events if e.get("method") == "Network.requestWillBeSent"]
    console = [e["params"] for e in p.events
               if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert")]
    logs = [e["params"]["entry"] for e in p.events
            if e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"]
    exc = [e["params"]["exceptionDetails"].get("text", "") for e in p.events
           if e.get("method") == "Runtime.exceptionThrown"]
    return requests, [c.get("args") for c in console] + [l.get("text") for l in logs], exc


def finish(seen, fails):
    """Prints what was seen as one JSON object, the failures on stderr, and
    exits 0 when there were none."""
    import sys
    seen["failures"] = fails
    print(json.dumps(seen))
    for f in fails:
        print("FAIL: " + f, file=sys.stderr)
    sys.exit(1 if fails else 0)
