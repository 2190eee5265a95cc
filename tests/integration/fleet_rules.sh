#!/usr/bin/env bash
# fleet_rules.sh — the Prometheus rules in deploy/prometheus: promtool
# accepts them and their unit tests pass; every alert carries severity,
# summary, description and a runbook_url whose anchor exists in
# docs/operating.md; every alert has a unit test that fires it and one where
# it stays quiet. Needs promtool (Debian prometheus) and python3-yaml;
# prints SKIP and exits 0 without them.
set -euo pipefail
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
RULES="$MV_SOURCE/deploy/prometheus/memvigil-rules.yml"
TESTS="$MV_SOURCE/deploy/prometheus/tests/memvigil-rules-test.yml"
DOC="$MV_SOURCE/docs/operating.md"

skip() { echo "SKIP: $*"; exit 0; }
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"

promtool check rules "$RULES" || { echo "FAIL: promtool check rules" >&2; exit 1; }
out=$(promtool test rules "$TESTS" 2>&1) || { echo "$out" >&2; echo "FAIL: promtool test rules" >&2; exit 1; }
echo "$out" | grep -q SUCCESS || { echo "$out" >&2; echo "FAIL: no SUCCESS from promtool test rules" >&2; exit 1; }

python3 - "$RULES" "$TESTS" "$DOC" <<'PY'
import re, sys, yaml
rules_path, tests_path, doc_path = sys.argv[1:4]
rules = yaml.safe_load(open(rules_path))
tests = yaml.safe_load(open(tests_path))
doc = open(doc_path, encoding="utf-8").read()

def anchor(title):
    # GitHub's heading anchors: lower case, punctuation dropped, spaces to '-'
    a = title.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")

anchors = {anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", doc, re.M)}
err = []
alerts = []
for g in rules["groups"]:
    for r in g["rules"]:
        if "alert" not in r:
            continue
        name = r["alert"]
        alerts.append(name)
        sev = r.get("labels", {}).get("severity")
        if sev not in ("info", "warning", "critical"):
            err.append(f"{name}: severity {sev!r} is not info/warning/critical")
        ann = r.get("annotations", {})
        for k in ("summary", "description", "runbook_url"):
            if not ann.get(k):
                err.append(f"{name}: no {k} annotation")
        url = ann.get("runbook_url", "")
        m = re.match(r"^docs/operating\.md#([\w-]+)$", url)
        if not m:
            err.append(f"{name}: runbook_url {url!r} is not docs/operating.md#anchor")
        elif m.group(1) not in anchors:
            err.append(f"{name}: anchor #{m.group(1)} not in docs/operating.md")
        for m in re.finditer(r"\b(rate|irate|increase)\s*\(\s*([A-Za-z_:][A-Za-z0-9_:]*)", r["expr"]):
            if not re.search(r"_(total|bucket|sum|count)$", m.group(2)):
                err.append(f"{name}: {m.group(1)}() on {m.group(2)}, not a counter")

fires, quiet = set(), set()
for t in tests["tests"]:
    for a in t.get("alert_rule_test", []):
        (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
for name in alerts:
    if name not in fires:
        err.append(f"{name}: no unit test makes it fire")
    if name not in quiet:
        err.append(f"{name}: no unit test shows it quiet")
if len(set(alerts)) != len(alerts):
    err.append("duplicate alert names")
if err:
    print("FAIL: " + "\n      ".join(err), file=sys.stderr)
    sys.exit(1)
print(f"PASS: fleet_rules: {len(alerts)} alerts, each with annotations, a runbook "
      f"anchor, a firing and a quiet unit test")
PY
