#!/usr/bin/env python3
"""report_cdp.py — opens an HTML page (a memvigil report, or any URL such as
the live page) in headless Chromium and checks it over the DevTools protocol:
charts drew, no console errors or exceptions, no network requests besides
the page itself; hover shows a tooltip, a drag zooms, a flame-graph click
zooms. Saves a screenshot. Standard library only (a minimal WebSocket
client), so the test needs nothing beyond Debian's chromium and python3.

usage: report_cdp.py URL SCREENSHOT.png [--expect-charts N] [--flame]
                     [--chromium PATH]
Prints one JSON object with what it saw; exits 0 when every check passed,
1 otherwise (the failures are listed on stderr).
"""
import base64, json, os, re, shutil, socket, struct, subprocess, sys, tempfile, time
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


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    url, shot = args[0], args[1]
    expect = int(args[args.index("--expect-charts") + 1]) if "--expect-charts" in args else 1
    flame = "--flame" in args
    chromium = args[args.index("--chromium") + 1] if "--chromium" in args else (
        shutil.which("chromium") or shutil.which("chromium-browser"))
    if not chromium:
        print("SKIP: chromium not installed (scripts/install-deps.sh installs it)")
        sys.exit(77)
    profile = tempfile.mkdtemp(prefix="mv-chromium-")
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync",
                             "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                             "--remote-debugging-port=0", "--window-size=1280,1000", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    fails = []
    seen = {}
    try:
        port = None
        end = time.time() + 60
        while time.time() < end and port is None:
            line = proc.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            raise RuntimeError("chromium did not start its DevTools endpoint")
        # keep draining stderr so chromium never blocks on a full pipe
        import threading
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
        page_t = [t for t in targets if t.get("type") == "page"][0]
        p = Page(WS(page_t["webSocketDebuggerUrl"]))
        for d in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            p.call(d)
        p.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        p.call("Page.navigate", url=url)
        p.wait_event("Page.loadEventFired")
        time.sleep(0.5)
        charts = p.js("Number(document.documentElement.getAttribute('data-charts') || 0)")
        errors = p.js("document.documentElement.getAttribute('data-errors')")
        series = p.js("Array.from(document.querySelectorAll('#chart-timeline polyline.series')).map(e => [e.dataset.name, +e.dataset.points])")
        seen.update(charts=charts, series=series)
        if charts < expect:
            fails.append("charts drawn: %s, expected at least %d" % (charts, expect))
        if errors:
            fails.append("page recorded errors: %s" % errors)
        if not series:
            fails.append("the timeline has no series")
        # hover: a tooltip with exact values appears
        box = p.js("(() => { const r = document.querySelector('#chart-timeline svg').getBoundingClientRect();"
                   " return [r.left, r.top, r.width, r.height]; })()")
        if box:
            p.js("document.querySelector('#chart-timeline svg').scrollIntoView()")
            box = p.js("(() => { const r = document.querySelector('#chart-timeline svg').getBoundingClientRect();"
                       " return [r.left, r.top, r.width, r.height]; })()")
            cx, cy = box[0] + box[2] * 0.5, box[1] + box[3] * 0.5
            p.mouse("mouseMoved", cx, cy)
            tip = p.js("(() => { const t = document.querySelector('#chart-timeline .tip');"
                       " return t && t.style.display === 'block' ? t.textContent : ''; })()")
            seen["tooltip"] = tip
            if " B)" not in (tip or ""):
                fails.append("hover showed no exact values (tooltip %r)" % tip)
            # drag across the middle fifth: zoom, then the reset button shows
            x0, x1 = box[0] + box[2] * 0.4, box[0] + box[2] * 0.6
            p.mouse("mousePressed", x0, cy, "left", 1)
            p.mouse("mouseMoved", (x0 + x1) / 2, cy, "left")
            p.mouse("mouseMoved", x1, cy, "left")
            p.mouse("mouseReleased", x1, cy, "left", 1)
            zoomed = p.js("document.querySelector('#chart-timeline button.reset').style.display !== 'none'")
            seen["zoomed"] = zoomed
            if not zoomed:
                fails.append("dragging across the timeline did not zoom")
            p.js("document.querySelector('#chart-timeline button.reset').click()")
        if flame:
            before = p.js("document.querySelector('#flame .hint').textContent")
            p.js("(() => { const c = Array.from(document.querySelectorAll('#flame .flame div'))"
                 ".filter(d => d.style.top !== '0px').sort((a, b) => parseFloat(a.style.width) - parseFloat(b.style.width))[0];"
                 " c && c.click(); })()")
            after = p.js("document.querySelector('#flame .hint').textContent")
            seen["flame_zoom"] = after
            if not after or before == after or not after.startswith("Zoomed into"):
                fails.append("clicking a flame-graph frame did not zoom (%r)" % after)
            p.js("document.querySelector('#flame .flame div').click()")
        p.js("window.scrollTo(0, 0)")
        height = p.js("Math.ceil(document.documentElement.scrollHeight)")
        p.call("Emulation.setDeviceMetricsOverride", width=1280, height=min(int(height), 6000),
               deviceScaleFactor=1, mobile=False)
        time.sleep(0.2)
        png = p.call("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        # collect what happened on the wire and in the console
        p.js("1")
        requests = [e["params"]["request"]["url"] for e in p.events if e.get("method") == "Network.requestWillBeSent"]
        others = [u for u in requests if u != url]
        console = [e["params"] for e in p.events
                   if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert")]
        exc = [e["params"]["exceptionDetails"].get("text", "") for e in p.events if e.get("method") == "Runtime.exceptionThrown"]
        logs = [e["params"]["entry"] for e in p.events
                if e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"]
        seen.update(requests=requests, console_errors=len(console) + len(logs), exceptions=exc)
        if others:
            fails.append("network requests besides the page: %s" % others)
        if console or logs:
            fails.append("console errors: %s" % ([c.get("args") for c in console] + [l.get("text") for l in logs]))
        if exc:
            fails.append("exceptions: %s" % exc)
    except Exception as e:  # report, never hang
        fails.append("%s: %s" % (type(e).__name__, e))
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    seen["failures"] = fails
    print(json.dumps(seen))
    for f in fails:
        print("FAIL: " + f, file=sys.stderr)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
