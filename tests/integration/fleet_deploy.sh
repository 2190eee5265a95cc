#!/usr/bin/env bash
# fleet_deploy.sh — the deployment files in deploy/ as far as they can be
# validated here: the Kubernetes manifests and the Alertmanager fragment
# parse as YAML; the sidecar shares the pod's process namespace; every
# memvigil container has resource limits, a read-only root, no privilege
# escalation and all capabilities dropped; each is scraped (ServiceMonitor
# and prometheus.io annotations); every memvigil option the manifests and
# the systemd unit use is one `memvigil watch --help` lists; amtool accepts
# the Alertmanager fragment; `systemd-analyze verify` accepts the unit (an
# instance of it, bound to a dummy service). Missing tools are skipped with a
# message; python3-yaml is required (SKIP without it).
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
D="$MV_SOURCE/deploy"
UNIT="$D/systemd/memvigil-watch@.service"

skip() { echo "SKIP: $*"; exit 0; }
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MEMVIGIL" watch --help >"$tmp/help.txt" 2>&1 || true
grep -q -- '--cgroup' "$tmp/help.txt" || fail "memvigil watch --help lists no --cgroup"

python3 - "$D" "$UNIT" "$tmp/help.txt" <<'PY'
import glob, re, sys, yaml
d, unit, helpf = sys.argv[1:4]
known = set(re.findall(r"--[a-z][a-z-]*", open(helpf).read()))
err = []
def opts_ok(where, text):
    # memvigil's own options in a command line (after "memvigil watch"/"run"
    # or in an args list starting with "watch")
    for o in re.findall(r"(?<![\w-])--[a-z][a-z-]*", text):
        if o not in known:
            err.append(f"{where}: memvigil has no option {o}")

docs = {}
for path in sorted(glob.glob(f"{d}/kubernetes/*.yaml")) + [f"{d}/alertmanager/memvigil-routes.yml"]:
    try:
        docs[path] = [x for x in yaml.safe_load_all(open(path)) if x]
    except yaml.YAMLError as e:
        err.append(f"{path}: YAML: {e}")
kinds = {}
for path, ds in docs.items():
    if "/kubernetes/" not in path:
        continue
    for doc in ds:
        for k in ("apiVersion", "kind", "metadata"):
            if k not in doc:
                err.append(f"{path}: a document without {k}")
        kinds.setdefault(doc.get("kind"), []).append((path, doc))
for want in ("Deployment", "DaemonSet", "Service", "ServiceMonitor"):
    if want not in kinds:
        err.append(f"no {want} in deploy/kubernetes")

for kind in ("Deployment", "DaemonSet"):
    for path, doc in kinds.get(kind, []):
        tpl = doc["spec"]["template"]
        spec = tpl["spec"]
        ann = tpl.get("metadata", {}).get("annotations", {})
        if ann.get("prometheus.io/scrape") != "true":
            err.append(f"{path}: {kind} pods lack prometheus.io/scrape")
        if kind == "Deployment" and spec.get("shareProcessNamespace") is not True:
            err.append(f"{path}: sidecar pod does not share its process namespace")
        if kind == "DaemonSet" and spec.get("hostPID") is not True:
            err.append(f"{path}: node DaemonSet without hostPID")
        mv = [c for c in spec["containers"] if "memvigil" in c.get("image", "")]
        if not mv:
            err.append(f"{path}: no memvigil container")
        for c in mv:
            where = f"{path}:{c['name']}"
            lim = c.get("resources", {}).get("limits", {})
            if not (lim.get("cpu") and lim.get("memory")):
                err.append(f"{where}: no cpu+memory limits")
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                err.append(f"{where}: root filesystem not read-only")
            if sc.get("allowPrivilegeEscalation") is not False:
                err.append(f"{where}: privilege escalation allowed")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                err.append(f"{where}: capabilities not all dropped")
            if not c.get("ports"):
                err.append(f"{where}: no metrics port")
            cmd = " ".join(c.get("command", []) + c.get("args", []))
            opts_ok(where, cmd)
            if not re.search(r"(memvigil |^)watch ", cmd):
                err.append(f"{where}: does not run memvigil watch")
            if kind == "Deployment":
                # the sidecar judges against the app container's limit, fed
                # by the downward API into --limit
                apps = [a["name"] for a in spec["containers"] if a is not c]
                refs = {e["name"]: e.get("valueFrom", {}).get("resourceFieldRef", {})
                        for e in c.get("env", [])}
                fed = [n for n, r in refs.items()
                       if r.get("resource") == "limits.memory" and r.get("containerName") in apps]
                if not fed:
                    err.append(f"{where}: no env var with the app container's limits.memory (resourceFieldRef)")
                elif not re.search(r"--limit +\"?\$\{?" + re.escape(fed[0]), cmd):
                    err.append(f"{where}: --limit is not fed from ${fed[0]}")

u = open(unit).read()
m = re.search(r"^ExecStart=(.*)$", u, re.M)
if not m or "memvigil watch" not in m.group(1):
    err.append("systemd unit: ExecStart is not memvigil watch")
else:
    opts_ok("systemd unit", m.group(1))
for opt in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=",
            "DynamicUser=yes", "MemoryMax=", "CPUQuota=", "SystemCallFilter="):
    if not re.search(r"^" + re.escape(opt), u, re.M):
        err.append(f"systemd unit: no {opt}")
if err:
    print("FAIL: " + "\n      ".join(err), file=sys.stderr)
    sys.exit(1)
print(f"manifests: {sum(len(v) for v in kinds.values())} Kubernetes objects checked")
PY

if command -v amtool >/dev/null; then
    amtool check-config "$D/alertmanager/memvigil-routes.yml" >"$tmp/am.out" 2>&1 ||
        { cat "$tmp/am.out" >&2; fail "amtool check-config"; }
else
    echo "NOTE: amtool not installed; Alertmanager fragment only parsed as YAML"
fi

if command -v systemd-analyze >/dev/null; then
    sd="$tmp/units"
    mkdir "$sd"
    # verify an instance bound to a dummy service; ExecStart must exist
    sed "s#/usr/local/bin/memvigil#$MEMVIGIL#" "$UNIT" >"$sd/memvigil-watch@.service"
    printf '[Unit]\nDescription=dummy\n[Service]\nExecStart=/bin/true\n' >"$sd/dummy.service"
    ln -s memvigil-watch@.service "$sd/memvigil-watch@dummy.service.service"
    (cd "$sd" && SYSTEMD_UNIT_PATH="$sd:" timeout 60 systemd-analyze verify \
        ./memvigil-watch@dummy.service.service) >"$tmp/sd.out" 2>&1 || true
    if [ -s "$tmp/sd.out" ]; then
        cat "$tmp/sd.out" >&2
        fail "systemd-analyze verify reported problems"
    fi
else
    echo "NOTE: systemd-analyze not available; unit checked by the script only"
fi
echo "PASS: fleet_deploy: manifests, Alertmanager fragment and systemd unit validated"
