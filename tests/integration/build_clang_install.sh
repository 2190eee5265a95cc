#!/usr/bin/env bash
# Builds the project with clang (-Werror), installs it into a temporary
# prefix, and compiles + runs a program against the installed library through
# pkg-config: proves "builds with gcc and clang" and that the install
# (shared + static library, header, memvigil.pc, binary) is usable.
set -euo pipefail
: "${MV_SOURCE:?}"
command -v clang >/dev/null || { echo "FAIL: clang not installed (scripts/install-deps.sh installs it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

CC=clang cmake -S "$MV_SOURCE" -B "$tmp/build" -DMV_WERROR=ON -DMV_BUILD_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" -j 2 >"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; exit 1; }
grep -q "warning:" "$tmp/build.log" && { grep "warning:" "$tmp/build.log" | head; exit 1; }
cmake --install "$tmp/build" >/dev/null

prefix="$tmp/prefix"
libdir=$(ls -d "$prefix"/lib*/ | head -1)
for f in "$prefix/include/memvigil.h" "$prefix/bin/memvigil" "$libdir/pkgconfig/memvigil.pc"; do
  [ -e "$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
ls "$libdir"/libmemvigil.so* >/dev/null && ls "$libdir"/libmemvigil.a >/dev/null
# man pages (docs/man) and shell completion (completions/), Debian's paths
for f in man/man1/memvigil.1 man/man3/libmemvigil.3 man/man7/libmemvigil_heap.7 \
         bash-completion/completions/memvigil zsh/vendor-completions/_memvigil; do
  [ -s "$prefix/share/$f" ] || { echo "FAIL: share/$f not installed"; exit 1; }
done
for c in $("$prefix/bin/memvigil" --help | sed -n '/^Commands:/,/^ *$/p' | awk '/^  [a-z]/ {print $1}'); do
  [ -s "$prefix/share/man/man1/memvigil-$c.1" ] || { echo "FAIL: man page memvigil-$c.1 not installed"; exit 1; }
done

# the systemd template unit, its ExecStart the installed binary
unit="$prefix/lib/systemd/system/memvigil-watch@.service"
grep -q "^ExecStart=$prefix/bin/memvigil watch " "$unit" ||
  { echo "FAIL: $unit missing or its ExecStart is not $prefix/bin/memvigil"; exit 1; }

"$prefix/bin/memvigil" --version | grep -q "0.1.0" || { echo "FAIL: installed binary --version"; exit 1; }

cat > "$tmp/app.c" <<'C'
#include <memvigil.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    mv_config cfg; mv_config_init(&cfg);
    cfg.interval_ms = 100;
    mv_monitor *m = NULL;
    int rc = mv_monitor_start(&cfg, &m);
    if (rc) { fprintf(stderr, "start: %s\n", mv_strerror(rc)); return 1; }
    if (mv_gauge_set(m, "index", "collection=7", 4096) != 0) return 2;
    mv_buf b; mv_buf_init(&b);
    if (mv_render(m, MV_FORMAT_PROMETHEUS, &b) != 0) return 3;
    int ok = b.data && strstr(b.data, "memvigil_app_memory_bytes{component=\"index\",collection=\"7\"} 4096") != NULL;
    mv_buf_release(&b);
    mv_monitor_stop(m);
    puts(ok ? "rendered" : "missing gauge");
    return ok ? 0 : 4;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
clang -std=c11 -Wall -Werror -o "$tmp/app" "$tmp/app.c" $(pkg-config --cflags --libs memvigil)
LD_LIBRARY_PATH="$libdir" "$tmp/app" | grep -qx rendered || { echo "FAIL: app against installed lib"; exit 1; }
# and statically, against the packages memvigil.pc's Requires.private
# names (their shared libraries: Debian ships no static gnutls chain), so a
# dependency the library gains and memvigil.pc does not list fails here
static_libs="$(pkg-config --libs $(pkg-config --print-requires-private memvigil)) -lpthread -lm"
gcc -std=c11 -Wall -Werror -o "$tmp/app_static" "$tmp/app.c" -I"$prefix/include" "$libdir/libmemvigil.a" \
    $static_libs
"$tmp/app_static" | grep -qx rendered || { echo "FAIL: app against static lib"; exit 1; }
echo "PASS: clang build, install, pkg-config (shared and static)"
