# common.bash — shared by the integration scripts that source it (named so
# that the *.sh glob in tests/CMakeLists.txt does not run it as a test).
#
# fail MSG...: reports a failed check with what the last memvigil command
# wrote to "$tmp/out" and "$tmp/err", and exits 1. The sourcing script owns
# $tmp (mktemp -d) and its cleanup trap.

fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout" >&2; cat "$tmp/out" >&2 || true
    echo "--- stderr" >&2; cat "$tmp/err" >&2 || true
    exit 1
}

# endpoint_url [ERRFILE]: the endpoint's base URL (http://HOST:PORT) that
# memvigil prints on stderr ("metrics at http://.../metrics"), waiting up to
# 10 s for it; ERRFILE defaults to "$tmp/err". Fails the test when none.
endpoint_url() {
    local errfile=${1:-$tmp/err} url=
    for _ in $(seq 100); do
        url=$(grep -o 'http://[^ ]*/metrics' "$errfile" | head -n 1 || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || fail "no metrics URL on stderr"
    echo "${url%/metrics}"
}

# static_lib_deps: what a program linked with the build's libmemvigil.a
# needs beside it: the packages its memvigil.pc names in Requires.private
# (their shared libraries) and its Libs.private. One place, so a dependency
# the library gains is added to memvigil.pc, not to every test.
static_lib_deps() {
    local pc="$MV_BUILD/memvigil.pc"
    echo "$(pkg-config --libs $(PKG_CONFIG_PATH="$MV_BUILD" pkg-config --print-requires-private memvigil)) \
$(sed -n 's/^Libs.private: *//p' "$pc")"
}

# cgroup_tree_remove DIR: a test-made cgroup tree gone — every process in it
# killed, then the directories removed deepest first (a cgroup empties a
# moment after its last process dies, so this retries for up to 5 s).
# Silent; safe on a DIR that does not exist. For cleanup traps.
cgroup_tree_remove() {
    local dir=$1 f p
    [ -d "$dir" ] || return 0
    find "$dir" -name cgroup.procs | while read -r f; do
        while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$f"
    done
    for _ in $(seq 50); do
        find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [ -d "$dir" ] || break
        sleep 0.1
    done
}
