#!/usr/bin/env bash
# deb_package.sh — the Debian packages (debian/): builds them with
# `dpkg-buildpackage -b -us -uc` from a clean copy of the source tree,
# fails on any lintian error, installs them, then uses what they installed:
# /usr/bin/memvigil --version, examples/embed.c built through
# `pkg-config memvigil` (shared, and static with --static), and
# `memvigil run --heap` loading the packaged preload library. Purges the
# packages again (and any dependency their install pulled in), also when a
# check fails, and checks that the machine's package state is as before.
set -euo pipefail
: "${MV_SOURCE:?MV_SOURCE must name the source directory}"
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: installing packages needs root (CI runs as root)"
    exit 0
fi
for c in dpkg-buildpackage dh lintian fakeroot apt-get cc pkg-config; do
    command -v "$c" >/dev/null ||
        { echo "FAIL: $c not installed (scripts/install-deps.sh installs it)"; exit 1; }
done

PKGS=(memvigil libmemvigil0 libmemvigil-dev)
VERSION=$(sed -n 's/^project(memvigil VERSION \([0-9.]*\).*/\1/p' "$MV_SOURCE/CMakeLists.txt")
[ -n "$VERSION" ] || { echo "FAIL: no project version in CMakeLists.txt"; exit 1; }
# apt and dpkg wait for a lock another apt-get (a parallel test's set-up)
# holds instead of failing.
APT=(apt-get -o DPkg::Lock::Timeout=300 -y -q)
export DEBIAN_FRONTEND=noninteractive

installed() {  # installed PKG: true when dpkg has PKG unpacked or configured
    dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^[ihr][iUFHWt]'
}
for p in "${PKGS[@]}"; do
    if installed "$p"; then
        echo "FAIL: $p is already installed; the test would remove it (dpkg --purge ${PKGS[*]})"
        exit 1
    fi
done

tmp=$(mktemp -d)
chmod 755 "$tmp"   # apt reads the .debs as its unprivileged user
added=()           # the packages our install added, purged by cleanup
state_before=
cleanup() {
    local rc=$?
    if [ ${#added[@]} -gt 0 ]; then
        if ! "${APT[@]}" purge "${added[@]}" >"$tmp/purge.log" 2>&1; then
            echo "FAIL: purging ${added[*]}"; cat "$tmp/purge.log"; rc=1
        fi
        for p in "${added[@]}"; do
            if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qv 'not-installed'; then
                echo "FAIL: $p still known to dpkg after the purge: $(dpkg-query -W -f='${Status}' "$p")"
                rc=1
            fi
        done
        # the packages the install touched are back where they were
        local after
        after=$(dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' "${added[@]}" 2>/dev/null | grep -v ' [up]n *$' || true)
        if [ "$after" != "$state_before" ]; then
            echo "FAIL: package state changed:"; diff <(echo "$state_before") <(echo "$after") || true
            rc=1
        fi
        [ -e /usr/bin/memvigil ] && { echo "FAIL: /usr/bin/memvigil left behind"; rc=1; }
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- a clean copy of the source tree (no build directories) ----
src="$tmp/memvigil-$VERSION"
mkdir "$src"
if git -C "$MV_SOURCE" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and new files, as they are in the working tree (so uncommitted
    # changes are tested too); tracked files deleted in it are left out
    (cd "$MV_SOURCE" && git ls-files -z -co --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$src"
else
    tar -C "$MV_SOURCE" --exclude='./build*' --exclude='./obj-*' --exclude=./.git \
        --exclude='./debian/.debhelper' -cf - . | tar -xf - -C "$src"
fi
[ -x "$src/debian/rules" ] || fail "debian/rules missing or not executable in the copy"

# ---- build ----
start=$SECONDS
(cd "$src" && dpkg-buildpackage -b -us -uc -j2) >"$tmp/build.log" 2>&1 ||
    { tail -n 60 "$tmp/build.log"; fail "dpkg-buildpackage failed (log above)"; }
echo "built in $((SECONDS - start)) s"
changes="$tmp/memvigil_${VERSION}-1_$(dpkg --print-architecture).changes"
[ -f "$changes" ] || fail "no $changes; got: $(ls "$tmp")"
debs=()
for p in "${PKGS[@]}"; do
    d=$(ls "$tmp/${p}_${VERSION}-1_"*.deb 2>/dev/null || true)
    [ -n "$d" ] || fail "no .deb for $p"
    debs+=("$d")
    echo "$p: $(stat -c %s "$d") bytes"
done
# what each package holds
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's#^\./#/#'; }
M=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
contents "$tmp/memvigil_"*.deb | grep -qx /usr/bin/memvigil || fail "memvigil: no /usr/bin/memvigil"
contents "$tmp/memvigil_"*.deb | grep -qx "/usr/lib/$M/memvigil/libmemvigil_heap.so" ||
    fail "memvigil: no /usr/lib/$M/memvigil/libmemvigil_heap.so"
contents "$tmp/libmemvigil0_"*.deb | grep -qx "/usr/lib/$M/libmemvigil.so.0" || fail "libmemvigil0: no libmemvigil.so.0"
# man pages (compressed by dh) and shell completion, where users look
for f in /usr/share/man/man1/memvigil.1.gz /usr/share/man/man1/memvigil-report.1.gz \
         /usr/share/man/man7/libmemvigil_heap.7.gz \
         /usr/share/bash-completion/completions/memvigil /usr/share/zsh/vendor-completions/_memvigil; do
    contents "$tmp/memvigil_"*.deb | grep -qx "$f" || fail "memvigil: no $f"
done
# the systemd template unit, pointing at the packaged binary and docs
contents "$tmp/memvigil_"*.deb | grep -qx "/lib/systemd/system/memvigil-watch@.service" ||
    fail "memvigil: no systemd unit"
dpkg-deb --fsys-tarfile "$tmp/memvigil_"*.deb |
    tar -xO ./lib/systemd/system/memvigil-watch@.service >"$tmp/unit"
grep -q "^ExecStart=/usr/bin/memvigil watch " "$tmp/unit" || fail "unit: ExecStart is not /usr/bin/memvigil"
grep -q "^Documentation=file:///usr/share/doc/memvigil/operating.md" "$tmp/unit" ||
    fail "unit: Documentation is not the packaged docs"
contents "$tmp/libmemvigil-dev_"*.deb | grep -qx /usr/share/man/man3/libmemvigil.3.gz ||
    fail "libmemvigil-dev: no libmemvigil(3)"
for f in /usr/include/memvigil.h "/usr/lib/$M/libmemvigil.so" "/usr/lib/$M/libmemvigil.a" \
         "/usr/lib/$M/pkgconfig/memvigil.pc"; do
    contents "$tmp/libmemvigil-dev_"*.deb | grep -qx "$f" || fail "libmemvigil-dev: no $f"
done
dpkg-deb -f "$tmp/libmemvigil-dev_"*.deb Depends | grep -q "libmemvigil0 (= $VERSION-1)" ||
    fail "libmemvigil-dev does not depend on libmemvigil0 (= $VERSION-1)"

# ---- lintian: no errors ----
# exit 0: no error tags; 1: some; 2 and up: lintian itself failed
rc=0
lintian --tag-display-limit 0 "$changes" >"$tmp/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges' "$tmp/lintian.log" || true
[ "$rc" -le 1 ] || fail "lintian failed to run (exit $rc)"
if [ "$rc" -ne 0 ] || grep -q '^E: ' "$tmp/lintian.log"; then fail "lintian reports errors"; fi

# ---- install ----
# The packages apt is going to add (ours and any missing dependency), and
# their state now, for cleanup to restore.
"${APT[@]}" -s install "${debs[@]}" >"$tmp/sim.log" 2>&1 || { cat "$tmp/sim.log"; fail "apt-get -s install"; }
# an upgrade or a removal would be undone by no purge: refuse them
if grep -q '^Inst [^ ]* \[\|^Remv ' "$tmp/sim.log"; then
    grep '^Inst [^ ]* \[\|^Remv ' "$tmp/sim.log"; fail "installing the .debs would upgrade or remove packages"
fi
mapfile -t added < <(awk '/^Inst /{print $2}' "$tmp/sim.log")
for p in "${PKGS[@]}"; do
    printf '%s\n' "${added[@]}" | grep -qx "$p" || fail "apt would not install $p: $(cat "$tmp/sim.log")"
done
state_before=$(dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' "${added[@]}" 2>/dev/null | grep -v ' [up]n *$' || true)
"${APT[@]}" install --no-install-recommends "${debs[@]}" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "apt-get install of the .debs failed"; }
for p in "${PKGS[@]}"; do installed "$p" || fail "$p not installed after apt-get install"; done

# ---- the CLI ----
out=$(/usr/bin/memvigil --version 2>&1) || fail "memvigil --version failed: $out"
echo "$out" | grep -qw "$VERSION" || fail "memvigil --version printed '$out', not $VERSION"

# ---- the library through pkg-config: examples/embed.c ----
[ "$(pkg-config --modversion memvigil)" = "$VERSION" ] || fail "pkg-config --modversion: $(pkg-config --modversion memvigil)"
[ "$(pkg-config --variable=libdir memvigil)" = "/usr/lib/$M" ] ||
    fail "memvigil.pc libdir: $(pkg-config --variable=libdir memvigil)"
# shellcheck disable=SC2046 # pkg-config's output is a list of words
cc -std=c11 -Wall -Werror -o "$tmp/embed" "$MV_SOURCE/examples/embed.c" \
    $(pkg-config --cflags --libs memvigil) 2>"$tmp/cc.log" || { cat "$tmp/cc.log"; fail "embed.c does not build against the package"; }
lib=$(ldd "$tmp/embed" | awk '$1 == "libmemvigil.so.0" {print $3}')
if [ -z "$lib" ] || [ "$(readlink -f "$lib")" != "$(readlink -f "/usr/lib/$M/libmemvigil.so.0")" ]; then
    fail "embed is not linked to the packaged library: $(ldd "$tmp/embed")"
fi
# and the static library, with what memvigil.pc says it needs besides
# (Requires.private, Libs.private; those linked as shared libraries:
# `pkg-config --static` would want every static library under libmicrohttpd)
pc="/usr/lib/$M/pkgconfig/memvigil.pc"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/embed_static" "$MV_SOURCE/examples/embed.c" \
    $(pkg-config --cflags memvigil) -l:libmemvigil.a \
    $(pkg-config --libs $(pkg-config --print-requires-private memvigil)) \
    $(sed -n 's/^Libs.private: //p' "$pc") 2>"$tmp/cc.log" ||
    { cat "$tmp/cc.log"; fail "embed.c does not build against libmemvigil.a"; }
! readelf -d "$tmp/embed_static" | grep -q 'libmemvigil\.so' || fail "embed_static needs libmemvigil.so"
for exe in embed embed_static; do
    rc=0
    # 3 s: the gauges reach the recording at a sampler tick (1 s)
    timeout 30 "$tmp/$exe" --seconds 3 --listen 127.0.0.1:0 --record "$tmp/$exe.jsonl" \
        >"$tmp/$exe.out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$tmp/$exe.out"; fail "$exe exited $rc"; }
    grep -q '^query node up; metrics on http://127.0.0.1:[1-9][0-9]*/metrics$' "$tmp/$exe.out" ||
        { cat "$tmp/$exe.out"; fail "$exe: no endpoint"; }
    grep -qx 'query node down' "$tmp/$exe.out" || { cat "$tmp/$exe.out"; fail "$exe: no clean shutdown"; }
    # the gauge embed sets, in its mv_render output and in the recording
    grep -qx 'memvigil_app_memory_bytes{component="index",collection="7",index_type="hnsw"} 25165824' \
        "$tmp/$exe.out" || { cat "$tmp/$exe.out"; fail "$exe: mv_render has no index gauge of 24 MiB"; }
    grep -q '^{"type":"gauge",.*"name":"index","labels":"collection=7,index_type=hnsw","value":25165824}$' \
        "$tmp/$exe.jsonl" || fail "$exe: no index gauge of 24 MiB in the recording: $(grep -m3 gauge "$tmp/$exe.jsonl")"
    /usr/bin/memvigil report -f text "$tmp/$exe.jsonl" >"$tmp/$exe.report" 2>&1 ||
        { cat "$tmp/$exe.report"; fail "installed memvigil cannot report $exe's recording"; }
    grep -q '^  100000 rows;' "$tmp/$exe.report" || { cat "$tmp/$exe.report"; fail "$exe: report has not the 100000 rows embed imported"; }
done

# ---- run --heap finds the packaged preload library ----
cat >"$tmp/alloc.c" <<'C'
/* leaks 16 MiB in 1 MiB blocks (enough for the sampler), writes LD_PRELOAD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    for (int i = 0; i < 16; i++) memset(malloc(1 << 20), 1, 1 << 20);
    FILE *f = fopen(argv[1], "w");
    if (!f) return 1;
    fprintf(f, "%s\n", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
    return fclose(f) != 0;
}
C
cc -O1 -o "$tmp/alloc" "$tmp/alloc.c"
rc=0
(cd "$tmp" && /usr/bin/memvigil run --heap --heap-dir "$tmp/heap" --listen none --quiet \
    -- ./alloc "$tmp/preload.txt") >"$tmp/run.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$tmp/run.out"; fail "run --heap exited $rc"; }
grep -q "^/usr/lib/$M/memvigil/libmemvigil_heap.so" "$tmp/preload.txt" ||
    fail "LD_PRELOAD in the child: '$(cat "$tmp/preload.txt")'"
ls "$tmp/heap"/heap-*.pb.gz >/dev/null 2>&1 || { cat "$tmp/run.out"; fail "no heap snapshot written"; }
/usr/bin/memvigil heap top "$tmp/heap" >"$tmp/top.out" 2>&1 || { cat "$tmp/top.out"; fail "heap top"; }
grep -q 'main' "$tmp/top.out" || { cat "$tmp/top.out"; fail "heap top does not name main"; }

echo "PASS: packages build, lintian has no errors, install, work (CLI, pkg-config shared + static, run --heap) and purge"
