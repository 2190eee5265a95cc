#!/usr/bin/env python3
"""livepage_cdp.py — opens the exporter's live page (GET /) in headless
Chromium over the DevTools protocol and checks it: the timeline drew, it
keeps updating from api/v1/samples (more points on a later poll), hover
shows exact values, no console errors or exceptions, and every request went
to the page's own origin. Saves a screenshot. Reuses the minimal WebSocket
client of report_cdp.py (standard library only).

usage: livepage_cdp.py URL SCREENSHOT.png [--min-points N] [--chromium PATH]
Prints one JSON object with what it saw; exits 0 when every check passed,
1 otherwise (the failures are listed on stderr), 77 without chromium.
"""
import base64, json, os, re, shutil, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_cdp import WS, Page  # noqa: E402


def wait_js(p, expr, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = p.js(expr)
        if v:
            return v
        time.sleep(0.2)
    return None


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    url, shot = args[0], args[1]
    min_points = int(args[args.index("--min-points") + 1]) if "--min-points" in args else 3
    chromium = args[args.index("--chromium") + 1] if "--chromium" in args else (
        shutil.which("chromium") or shutil.which("chromium-browser"))
    if not chromium:
        print("SKIP: chromium not installed (scripts/install-deps.sh installs it)")
        sys.exit(77)
    u = urllib.parse.urlsplit(url)
    origin = "%s://%s/" % (u.scheme, u.netloc)
    profile = tempfile.mkdtemp(prefix="mv-chromium-")
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                             # any name lookup fails: a request elsewhere could not even resolve
                             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                             "--user-data-dir=" + profile, "--remote-debugging-port=0",
                             "--window-size=1280,900", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    fails, seen = [], {}
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
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
        page_t = [t for t in targets if t.get("type") == "page"][0]
        p = Page(WS(page_t["webSocketDebuggerUrl"]))
        for d in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            p.call(d)
        p.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        p.call("Page.navigate", url=url)
        p.wait_event("Page.loadEventFired")
        drawn = wait_js(p, "document.documentElement.getAttribute('data-charts') === '1' && "
                           "+document.documentElement.getAttribute('data-points') >= %d" % min_points, 30)
        if not drawn:
            fails.append("the live chart did not draw %d points within 30 s (conn: %r)"
                         % (min_points, p.js("document.getElementById('conn').textContent")))
        pts0 = p.js("+document.documentElement.getAttribute('data-points')")
        polls0 = p.js("+document.documentElement.getAttribute('data-polls')")
        # a later poll brings more points and redraws
        grew = wait_js(p, "+document.documentElement.getAttribute('data-points') > %d" % (pts0 or 0), 15)
        pts1 = p.js("+document.documentElement.getAttribute('data-points')")
        polls1 = p.js("+document.documentElement.getAttribute('data-polls')")
        series = p.js("Array.from(document.querySelectorAll('#chart-timeline polyline.series'))"
                      ".map(e => [e.dataset.name, +e.dataset.points])")
        hlines = p.js("Array.from(document.querySelectorAll('#chart-timeline .hline')).map(e => e.dataset.name)")
        verdict = p.js("document.getElementById('verdict').dataset.verdict")
        level = p.js("document.getElementById('verdict').dataset.level")
        figures = p.js("document.getElementById('figures').textContent")
        nevents = p.js("document.querySelectorAll('#events tr').length - 1")
        seen.update(points=[pts0, pts1], polls=[polls0, polls1], series=series, hlines=hlines,
                    verdict=verdict, level=level, events=nevents)
        if not grew:
            fails.append("no new points arrived (points %s, polls %s -> %s)" % (pts0, polls0, polls1))
        names = dict(series or [])
        if names.get("private", 0) < min_points:
            fails.append("the private-memory line has %s points, expected >= %d" % (names.get("private"), min_points))
        if "anon" not in names:
            fails.append("the RSS split (anon) is not drawn: %s" % series)
        if not verdict or not level:
            fails.append("the headline has no verdict/level")
        if "private" not in (figures or ""):
            fails.append("the headline figures are missing")
        errors = p.js("document.documentElement.getAttribute('data-errors')")
        stale = p.js("document.documentElement.getAttribute('data-stale')")
        if errors:
            fails.append("page recorded errors: %s" % errors)
        if stale:
            fails.append("a poll failed: %s" % p.js("document.getElementById('conn').textContent"))
        # hover: exact values
        box = p.js("(() => { const r = document.querySelector('#chart-timeline svg').getBoundingClientRect();"
                   " return [r.left, r.top, r.width, r.height]; })()")
        if box:
            p.mouse("mouseMoved", box[0] + box[2] * 0.7, box[1] + box[3] * 0.5)
            tip = p.js("(() => { const t = document.querySelector('#chart-timeline .tip');"
                       " return t && t.style.display === 'block' ? t.textContent : ''; })()")
            seen["tooltip"] = tip
            if " B)" not in (tip or ""):
                fails.append("hover showed no exact values (tooltip %r)" % tip)
            p.mouse("mouseMoved", 5, 5)
        else:
            fails.append("no chart svg")
        png = p.call("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        p.js("1")
        requests = [e["params"]["request"]["url"] for e in p.events if e.get("method") == "Network.requestWillBeSent"]
        others = [r for r in requests if not r.startswith(origin)]
        samples = [r for r in requests if "/api/v1/samples" in r]
        console = [e["params"] for e in p.events
                   if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert")]
        exc = [e["params"]["exceptionDetails"].get("text", "") for e in p.events if e.get("method") == "Runtime.exceptionThrown"]
        logs = [e["params"]["entry"] for e in p.events
                if e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"]
        seen.update(requests=len(requests), sample_requests=len(samples), other_origins=others,
                    console_errors=len(console) + len(logs), exceptions=exc)
        if others:
            fails.append("requests to other origins: %s" % others)
        if len(samples) < 2:
            fails.append("the page polled api/v1/samples %d times" % len(samples))
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
