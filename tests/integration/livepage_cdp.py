#!/usr/bin/env python3
"""livepage_cdp.py — opens the exporter's live page (GET /) in headless
Chromium over the DevTools protocol and checks it: the timeline drew, it
keeps updating from api/v1/samples (more points on a later poll), hover
shows exact values, no console errors or exceptions, and every request went
to the page's own origin. Saves a screenshot. The browser plumbing is in cdp.py.

usage: livepage_cdp.py URL SCREENSHOT.png [--min-points N] [--chromium PATH]
Prints one JSON object with what it saw; exits 0 when every check passed,
1 otherwise (the failures are listed on stderr), 77 without chromium.
"""
import os, sys, time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, find_chromium, finish, page_problems, screenshot  # noqa: E402


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
    chromium = find_chromium(args)
    if not chromium:
        print("SKIP: chromium not installed (scripts/install-deps.sh installs it)")
        sys.exit(77)
    u = urllib.parse.urlsplit(url)
    origin = "%s://%s/" % (u.scheme, u.netloc)
    fails, seen = [], {}
    try:
        with Browser(chromium, 1280, 900, offline=True) as p:
            check(p, url, origin, shot, min_points, fails, seen)
    except Exception as e:  # report, never hang
        fails.append("%s: %s" % (type(e).__name__, e))
    finish(seen, fails)


def check(p, url, origin, shot, min_points, fails, seen):
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
    # the headline's rate says its span and reads per hour, as the event
    # messages do; the events say their figures are of their own moment
    if "growth now" not in (figures or "") or "/h" not in (figures or ""):
        fails.append("the headline growth does not say its span in /h: %r" % figures)
    ev_head = p.js("document.querySelector('#events tr').textContent")
    if "as of the event" not in (ev_head or ""):
        fails.append("the events table does not say when its figures are from: %r" % ev_head)
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
    screenshot(p, shot)
    requests, errors_seen, exc = page_problems(p)
    others = [r for r in requests if not r.startswith(origin)]
    samples = [r for r in requests if "/api/v1/samples" in r]
    seen.update(requests=len(requests), sample_requests=len(samples), other_origins=others,
                console_errors=len(errors_seen), exceptions=exc)
    if others:
        fails.append("requests to other origins: %s" % others)
    if len(samples) < 2:
        fails.append("the page polled api/v1/samples %d times" % len(samples))
    if errors_seen:
        fails.append("console errors: %s" % errors_seen)
    if exc:
        fails.append("exceptions: %s" % exc)


if __name__ == "__main__":
    main()
