#!/usr/bin/env python3
"""fleet_promql_names.py — helper of the fleet_*.sh tests (not a test itself).

  fleet_promql_names.py dashboard-exprs DASHBOARD.json
      prints every PromQL expression of the dashboard (panel targets and
      query variables), Grafana variables replaced by plain values, one per
      line, as JSON strings.
  fleet_promql_names.py rules-file EXPRS.jsonl OUT.yml
      writes the expressions as recording rules of a throwaway rules file,
      so that `promtool check rules` parses them (promtool 2.42 has no
      standalone PromQL parser).
  fleet_promql_names.py names EXPRS.jsonl
      prints the metric names the expressions select, one per line.
  fleet_promql_names.py check-labels EXPRS.jsonl METRICS.md
      checks every equality matcher name{label="value"} of the expressions
      against the family's row in docs/metrics.md: when the row's Labels
      cell names the label, the value must be one it lists (so a query on a
      label value that was renamed or removed, such as
      memvigil_cgroup_memory_bytes{kind="inactive_file"}, fails). Prints
      one line per bad matcher and exits 1 if there is any.

Metric names are found by a small lexer: string literals, label matchers
({...}), range/subquery brackets, grouping label lists (by/without/on/
ignoring/group_left/group_right (...)) are removed first; what is left that
looks like an identifier and is not a function call, keyword or number is a
metric name.
"""
import json
import re
import sys

GRAFANA_VARS = {
    "$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
    "${__rate_interval}": "5m", "${__interval}": "1m", "${__range}": "1h",
}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "Inf", "NaN", "inf", "nan",
            "atan2"}


def substitute(expr):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace(k, v)
    # remaining template variables ($job, ${instance}, $cgroup) become a
    # plain value; they only ever sit inside label matchers
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "x", expr)


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append(t["expr"])
            walk(p.get("panels", []))
    walk(d.get("panels", []))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and isinstance(q, str):
            m = re.match(r"^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)\s*$", q)
            out.append(m.group(1) if m else q)
    return [substitute(e) for e in out]


def names(expr):
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
               " ", s)
    found = set()
    for m in re.finditer(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word in KEYWORDS:
            continue
        # exponent of a number such as 5e-05 is not a name
        if re.match(r"^[eE]\d*$", word):
            continue
        found.add(word)
    return found


def equality_matchers(expr):
    """(name, label, value) for each name{..., label="value", ...}."""
    out = []
    for m in re.finditer(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}", expr):
        for lm in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"',
                              m.group(2)):
            if lm.group(2) == "=":
                out.append((m.group(1), lm.group(1), lm.group(3)))
    return out


def doc_label_cells(path):
    """family -> Labels cell of its row in a '| Family |' table."""
    cells = {}
    header = None
    for line in open(path, encoding="utf-8"):
        if line.startswith("| Family |"):
            header = [c.strip() for c in line.strip().strip("|").split("|")]
            continue
        if not line.startswith("|"):
            header = None
            continue
        if header is None or "Labels" not in header:
            continue
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.match(r"^`([A-Za-z_:][A-Za-z0-9_:]*)`$", cols[0])
        if m and len(cols) > header.index("Labels"):
            cells[m.group(1)] = cols[header.index("Labels")]
    return cells


def check_labels(exprs_path, doc_path):
    cells = doc_label_cells(doc_path)
    bad = []
    for l in open(exprs_path, encoding="utf-8"):
        if not l.strip():
            continue
        for name, label, value in equality_matchers(json.loads(l)):
            cell = cells.get(name)
            if cell is None or f"`{label}`" not in cell:
                continue
            if f"`{value}`" not in cell:
                bad.append(f'{name}{{{label}="{value}"}}: docs/metrics.md lists {cell}')
    for b in bad:
        print(b)
    return 1 if bad else 0


def main():
    cmd = sys.argv[1]
    if cmd == "dashboard-exprs":
        for e in dashboard_exprs(sys.argv[2]):
            print(json.dumps(e))
    elif cmd == "rules-file":
        exprs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
        with open(sys.argv[3], "w", encoding="utf-8") as f:
            f.write("groups:\n  - name: parse\n    rules:\n")
            for i, e in enumerate(exprs):
                f.write(f"      - record: parse_check_{i}\n")
                f.write(f"        expr: {json.dumps(e)}\n")
    elif cmd == "check-labels":
        sys.exit(check_labels(sys.argv[2], sys.argv[3]))
    elif cmd == "names":
        out = set()
        for l in open(sys.argv[2], encoding="utf-8"):
            if l.strip():
                out |= names(json.loads(l))
        for n in sorted(out):
            print(n)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
