#!/usr/bin/env bash
# container_image.sh — builds the container image (deploy/container/Dockerfile)
# with podman and runs it the way the Kubernetes manifests do: read-only
# root (no tmpfs either), all capabilities dropped, no new privileges, as
# the image's non-root user. Checks the OCI labels and config, `--version`
# (the project's version), `id` (UID/GID 65532), `inspect 1` (a real
# diagnosis of PID 1, memvigil itself, and the container's memory limit),
# that a write outside volumes fails, `run --heap --record` into a mounted
# volume (the preload library is found, snapshots and the recording are
# written, owned by 65532), the sidecar's command (sh, pgrep, watch --pid)
# as another UID, and the DaemonSet's `watch --cgroup` through the host's
# cgroup tree; and that deploy/kubernetes names this image and its user.
# States the image's size and fails above MAX_IMAGE_MB.
#
# No Docker engine or registry is needed: the Debian 12 base is made with
# mmdebstrap (from deb.debian.org) and imported as localhost/debian-base:12,
# and podman keeps everything in a private store under
# $MV_BUILD/container-cache (own root, runroot, tmp dir and file locks, so
# other podman use on the machine is untouched). That store is kept between
# runs as a cache of the base and of the build's apt layers: the first run
# takes a few minutes, later ones much less. Delete the directory (or set
# MV_CONTAINER_CACHE elsewhere) for a cold start.
set -euo pipefail
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
MEMVIGIL=${MEMVIGIL:-$MV_BUILD/memvigil}
# The measured image is 103 MB (a 78 MB base, 25 MB of libraries and
# memvigil); 120 MB leaves room for Debian point releases but catches a
# builder toolchain, docs or apt lists slipping into the runtime stage.
MAX_IMAGE_MB=${MAX_IMAGE_MB:-120}
UIDGID=65532
IMAGE=localhost/memvigil-test
BASE=localhost/debian-base:12

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out_fail() { echo "FAIL: $*" >&2; exit 1; }
for t in podman runc mmdebstrap jq python3; do
    command -v "$t" >/dev/null || out_fail "$t not installed (scripts/install-deps.sh installs it)"
done

cache=${MV_CONTAINER_CACHE:-$MV_BUILD/container-cache}
mkdir -p "$cache/root" "$cache/runroot" "$cache/tmp"
# crun refuses some hosts' hybrid cgroup setups: runc; no systemd or
# journald assumed: cgroupfs and a file event log; default_ulimits empty
# (the host's limits may be lower than podman's default nofile).
cat >"$tmp/containers.conf" <<EOF
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$cache/events.log"
lock_type = "file"
tmp_dir = "$cache/tmp"
EOF
export CONTAINERS_CONF="$tmp/containers.conf"
export TMPDIR="$tmp"
pm() {
    podman --root "$cache/root" --runroot "$cache/runroot" --storage-driver overlay \
        --runtime runc "$@"
}
cleanup() {
    local c
    for c in $(pm ps -aq --filter "label=memvigil-test=$$" 2>/dev/null); do
        pm rm -f "$c" >/dev/null 2>&1 || true
    done
    # images the new build replaced; the base and the layers of the tagged
    # images stay cached
    pm image prune -f >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout" >&2; cat "$tmp/out" >&2 2>/dev/null || true
    echo "--- stderr" >&2; cat "$tmp/err" >&2 2>/dev/null || true
    exit 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

version=$(sed -n 's/^project(memvigil VERSION \([0-9.]*\).*/\1/p' "$MV_SOURCE/CMakeLists.txt")
[ -n "$version" ] || out_fail "no project version in CMakeLists.txt"

# The Dockerfile's user and the manifests agree: the DaemonSet runs as the
# image's user, every memvigil container names the image of this version.
grep -qx "USER $UIDGID:$UIDGID" "$MV_SOURCE/deploy/container/Dockerfile" ||
    out_fail "the Dockerfile does not set USER $UIDGID:$UIDGID"
python3 - "$MV_SOURCE/deploy/kubernetes" "$UIDGID" "localhost/memvigil:$version" <<'PY' ||
import glob, sys, yaml
d, uid, image = sys.argv[1], int(sys.argv[2]), sys.argv[3]
err = []
for path in sorted(glob.glob(f"{d}/*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        if not doc or doc.get("kind") not in ("DaemonSet", "Deployment"):
            continue
        spec = doc["spec"]["template"]["spec"]
        sc = spec.get("securityContext", {})
        if doc["kind"] == "DaemonSet" and (sc.get("runAsUser"), sc.get("runAsGroup")) != (uid, uid):
            err.append(f"{path}: DaemonSet runs as {sc.get('runAsUser')}:{sc.get('runAsGroup')}")
        if sc.get("runAsNonRoot") is not True:
            err.append(f"{path}: {doc['kind']} without runAsNonRoot")
        for c in spec["containers"]:
            if "memvigil" in c.get("image", "") and c["image"] != image:
                err.append(f"{path}: {c['name']} runs {c['image']}, not {image}")
if err:
    sys.exit("\n".join(err))
PY
    out_fail "deploy/kubernetes does not match the image"

# ---- the base image: Debian 12 minbase without docs, man pages and
# locales, as debian:bookworm-slim ----
t0=$(now)
if pm image exists "$BASE"; then
    echo "base: $BASE cached in $cache"
else
    # merged-usr hook: merged /usr without the usrmerge package (and the
    # perl it pulls in)
    mmdebstrap --variant=minbase --quiet \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        bookworm "$tmp/base.tar" >"$tmp/mmdebstrap.log" 2>&1 ||
        { tail -20 "$tmp/mmdebstrap.log" >&2; out_fail "mmdebstrap"; }
    pm import "$tmp/base.tar" "$BASE" >/dev/null || out_fail "podman import of the base"
    rm -f "$tmp/base.tar"
    echo "base: $BASE made with mmdebstrap in $(secs "$t0") s"
fi

# ---- the image ----
# The builder stage is tagged too (the second build takes it from the layer
# cache): the cleanup's prune then keeps its layers, the toolchain's apt
# install above all, for the next run.
t0=$(now)
for target in build ""; do
    tag=$IMAGE
    [ -n "$target" ] && tag=$IMAGE-$target
    pm build --network host --pull=never --layers ${target:+--target "$target"} \
        --build-arg BUILDER_IMAGE="$BASE" --build-arg BASE_IMAGE="$BASE" \
        --build-arg JOBS=2 --build-arg VERSION="$version" \
        --build-arg REVISION="$(git -C "$MV_SOURCE" rev-parse HEAD 2>/dev/null || echo unknown)" \
        --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        -f "$MV_SOURCE/deploy/container/Dockerfile" -t "$tag" "$MV_SOURCE" \
        >"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log" >&2; out_fail "podman build ${target:-image}"; }
done
echo "build: $(secs "$t0") s"

pm image inspect "$IMAGE" >"$tmp/image.json"
jq -e --arg v "$version" --arg u "$UIDGID:$UIDGID" --arg base "$BASE" '.[0] |
    .Labels["org.opencontainers.image.version"] == $v and
    .Labels["org.opencontainers.image.title"] == "memvigil" and
    .Labels["org.opencontainers.image.base.name"] == $base and
    (.Labels["org.opencontainers.image.revision"] | length) > 0 and
    .Config.User == $u and
    .Config.Entrypoint == ["memvigil"] and .Config.Cmd == ["--help"]' \
    "$tmp/image.json" >/dev/null ||
    { jq '.[0] | {Labels, User: .Config.User, Entrypoint: .Config.Entrypoint, Cmd: .Config.Cmd}' \
        "$tmp/image.json" >&2; out_fail "image labels or config"; }
size=$(jq '.[0].Size' "$tmp/image.json")
size_mb=$((size / 1000000))
echo "image: $IMAGE, $size_mb MB ($size bytes; bound $MAX_IMAGE_MB MB)"
[ "$size_mb" -le "$MAX_IMAGE_MB" ] || out_fail "image is $size_mb MB, more than $MAX_IMAGE_MB MB"

# The run options of the Kubernetes manifests: read-only root without the
# tmpfs podman would add on /tmp, /run and /var/tmp, no capabilities, no
# privilege escalation, no network; a memory limit, and the container's own
# cgroup namespace (as Kubernetes gives on cgroup v2; on a v1 host podman
# would share the host's, whose paths do not resolve inside).
LIMIT_MIB=200
RUN=(run --rm --label "memvigil-test=$$" --network none --read-only --read-only-tmpfs=false
     --cap-drop all --security-opt no-new-privileges --cgroupns private --memory "${LIMIT_MIB}m")

# default command: --help
pm "${RUN[@]}" "$IMAGE" >"$tmp/out" 2>"$tmp/err" || fail "default command"
grep -q '^usage: memvigil' "$tmp/out" || fail "default command is not --help"

pm "${RUN[@]}" "$IMAGE" --version >"$tmp/out" 2>"$tmp/err" || fail "--version"
grep -qx "memvigil $version" "$tmp/out" || fail "--version is not memvigil $version"

pm "${RUN[@]}" --entrypoint id "$IMAGE" >"$tmp/out" 2>"$tmp/err" || fail "id"
grep -q "^uid=$UIDGID(memvigil) gid=$UIDGID(memvigil)" "$tmp/out" ||
    fail "the image does not run as $UIDGID:$UIDGID (memvigil)"

# inspect PID 1: memvigil itself, as the image's user. Every section reads
# (its own process: mappings and OOM score too), with real figures; the
# cgroup's limit is the container's.
pm "${RUN[@]}" "$IMAGE" inspect 1 >"$tmp/out" 2>"$tmp/err" || fail "inspect 1"
grep -qx 'memvigil inspect: pid 1 (memvigil)' "$tmp/out" || fail "inspect 1: no header for pid 1"
for section in Process 'Top mappings by RSS' 'OOM score' Cgroup System Findings; do
    grep -qx "$section" "$tmp/out" || fail "inspect 1: no section $section"
done
grep -q 'unavailable' "$tmp/out" && fail "inspect 1: a section is unavailable"
grep -Eq '^  rss +[0-9.]+ MiB$' "$tmp/out" || fail "inspect 1: no RSS in MiB"
grep -q '/usr/local/bin/memvigil' "$tmp/out" || fail "inspect 1: the binary is not among the top mappings"
grep -Eq "^  limit +$LIMIT_MIB MiB$" "$tmp/out" || fail "inspect 1: the cgroup limit is not $LIMIT_MIB MiB"
pm "${RUN[@]}" "$IMAGE" inspect --json 1 >"$tmp/out" 2>"$tmp/err" || fail "inspect --json 1"
jq -e --argjson lim $((LIMIT_MIB << 20)) '.pid == 1 and .comm == "memvigil" and .errors == {} and
       .sample.rss_bytes > 1048576 and .sample.rss_bytes < 268435456 and
       .sample.threads >= 1 and .sample.cg_max_bytes == $lim and
       .sample.effective_limit_bytes == $lim and .sample.limit_source == "cgroup_max" and
       .sample.cg_usage_bytes > 0 and .sample.cg_usage_bytes < $lim and
       (.findings | length) >= 1' "$tmp/out" >/dev/null || fail "inspect --json 1: figures"
echo "inspect 1: $(jq -r '.sample | "rss \(.rss_bytes) bytes, cgroup v\(.cgroup_version) usage \(.cg_usage_bytes) of \(.cg_max_bytes) bytes"' "$tmp/out")"

# The root is read-only: a recording outside a volume fails, and says why.
if pm "${RUN[@]}" "$IMAGE" watch --pid 1 --duration 1s --listen none --quiet \
        --record /recording.jsonl >"$tmp/out" 2>"$tmp/err"; then
    fail "--record on the read-only root succeeded"
fi
grep -qi 'read-only file system' "$tmp/err" || fail "--record on the read-only root: no reason given"

# run --heap --record into a volume: the preload library is found in the
# image, the snapshots and the recording land in the volume, owned by the
# image's user. A small sampling interval, so a short program samples.
mkdir "$tmp/data"
chown "$UIDGID:$UIDGID" "$tmp/data"
pm "${RUN[@]}" -v "$tmp/data:/data" -e MEMVIGIL_HEAP_SAMPLE=256 "$IMAGE" \
    run --heap --heap-dir /data/heap --heap-interval 1s --interval 500ms \
    --listen none --no-tty --record /data/recording.jsonl \
    -- sh -c 'sleep 1; memvigil inspect 1 >/dev/null' >"$tmp/out" 2>"$tmp/err" ||
    fail "run --heap --record into the volume"
grep -q 'cannot find libmemvigil_heap.so' "$tmp/err" && fail "run --heap: no preload library"
ls "$tmp/data/heap"/heap-*.pb.gz >/dev/null 2>&1 || fail "run --heap: no snapshot in the volume"
[ "$(stat -c %u:%g "$tmp/data/recording.jsonl")" = "$UIDGID:$UIDGID" ] ||
    fail "the recording is not owned by $UIDGID:$UIDGID"
head -n 1 "$tmp/data/recording.jsonl" |
    jq -e --arg v "memvigil $version" '.type == "header" and .tool == $v' >/dev/null ||
    fail "recording: no header of memvigil $version"
jq -s -e '[.[] | select(.type == "sample")] | length >= 2 and all(.rss_bytes > 0)' \
    "$tmp/data/recording.jsonl" >/dev/null || fail "recording: fewer than 2 samples with RSS"
# and the host's memvigil reads the snapshots the image wrote
"$MEMVIGIL" heap top "$tmp/data/heap" >"$tmp/out" 2>"$tmp/err" || fail "heap top of the image's snapshots"
grep -q 'live heap' "$tmp/out" || fail "heap top: no live heap"
echo "run --heap: $(ls "$tmp/data/heap"/heap-*.pb.gz | wc -l) snapshots," \
     "$(grep -c '"type":"sample"' "$tmp/data/recording.jsonl") samples in the volume"

# The sidecar's way (deploy/kubernetes/sidecar.yaml): /bin/sh as the
# command, pgrep finds the app, under the pod's user (not the image's).
# The app's limit comes as APP_MEMORY_LIMIT (the downward API there).
pm "${RUN[@]}" --user 10001:10001 -e APP_MEMORY_LIMIT=104857600 --entrypoint /bin/sh "$IMAGE" -c '
    id -u >&2
    sleep 30 & app=$!
    while ! pid=$(pgrep -o -f "^sleep 30$"); do sleep 0.1; done
    [ "$pid" = "$app" ] || { echo "pgrep found $pid, not $app" >&2; exit 9; }
    exec memvigil watch --pid "$pid" --duration 2s --interval 500ms --listen none --json --quiet \
        --limit "$APP_MEMORY_LIMIT"' \
    >"$tmp/out" 2>"$tmp/err" || fail "the sidecar's command as 10001"
grep -qx 10001 "$tmp/err" || fail "the sidecar's command did not run as 10001"
jq -s -e '.[0].event == "started" and .[0].pid > 1 and .[0].rss_bytes > 0' "$tmp/out" >/dev/null ||
    fail "the sidecar's watch: no started event with the app's RSS"
jq -s -e '[.[] | select(.effective_limit_bytes != null)][0].effective_limit_bytes == 104857600' "$tmp/out" >/dev/null ||
    fail "the sidecar's watch: the effective limit is not the app's --limit (100 MiB)"

# The DaemonSet's way (deploy/kubernetes/daemonset.yaml): the host's PID
# namespace and cgroup tree (read-only), `watch --cgroup` of a host cgroup:
# this test's own, as the host's memvigil names it.
"$MEMVIGIL" inspect --json $$ >"$tmp/host.json" 2>"$tmp/err" || fail "inspect of this shell on the host"
cg=$(jq -r '.sample.cgroup_path // empty' "$tmp/host.json")
[ -n "$cg" ] || fail "the host's memvigil sees no cgroup for this shell"
pm "${RUN[@]}" --pid host -v /sys/fs/cgroup:/sys/fs/cgroup:ro "$IMAGE" \
    watch --cgroup "$cg" --duration 2s --interval 500ms --listen none --json --quiet \
    >"$tmp/out" 2>"$tmp/err" || fail "watch --cgroup $cg with the host's cgroup tree"
jq -s -e --arg cg "$cg" '.[0].event == "started" and .[0].cgroup_path == $cg and
          .[0].cg_usage_bytes > 0' "$tmp/out" >/dev/null ||
    fail "watch --cgroup $cg: no started event with the cgroup's usage"
echo "watch --cgroup $cg (host PID namespace): usage $(jq -s '.[0].cg_usage_bytes' "$tmp/out") bytes"

echo "PASS: container image ($size_mb MB) builds and runs read-only as $UIDGID"
