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
