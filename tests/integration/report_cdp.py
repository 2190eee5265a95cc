#!/usr/bin/env python3
"""report_cdp.py — opens an HTML page (a memvigil report, or any URL such as
the live page) in headless Chromium and checks it over the DevTools protocol:
charts drew, no console errors or exceptions, no network requests besides
the page itself; hover shows a tooltip, a drag zooms, a flame-graph click
zooms. Saves a screenshot. The browser plumbing is in cdp.py.

usage: report_cdp.py URL SCREENSHOT.png [--expect-charts N] [--flame]
                     [--chromium PATH]
Prints one JSON object with what it saw; exits 0 when every check passed,
1 otherwise (the failures are listed on stderr).
"""
import os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, find_chromium, finish, page_problems, screenshot  # noqa: E402


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    url, shot = args[0], args[1]
    expect = int(args[args.index("--expect-charts") + 1]) if "--expect-charts" in args else 1
    flame = "--flame" in args
    chromium = find_chromium(args)
    if not chromium:
        print("SKIP: chromium not installed (scripts/install-deps.sh installs it)")
        sys.exit(77)
    fails, seen = [], {}
    try:
        with Browser(chromium, 1280, 1000) as p:
            check(p, url, shot, expect, flame, fails, seen)
    except Exception as e:  # report, never hang
        fails.append("%s: %s" % (type(e).__name__, e))
    finish(seen, fails)


def check(p, url, shot, expect, flame, fails, seen):
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
    screenshot(p, shot)
    requests, errors_seen, exc = page_problems(p)
    others = [u for u in requests if u != url]
    seen.update(requests=requests, console_errors=len(errors_seen), exceptions=exc)
    if others:
        fails.append("network requests besides the page: %s" % others)
    if errors_seen:
        fails.append("console errors: %s" % errors_seen)
    if exc:
        fails.append("exceptions: %s" % exc)


if __name__ == "__main__":
    main()
