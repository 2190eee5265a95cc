#!/bin/sh
# render.sh — builds one man page from its template (docs/man/*.in):
# @VERSION@ becomes the project version, and a line that is exactly
# @SYNOPSIS@, @OPTIONS@ or @COMMANDS@ becomes the roff that help2roff.awk
# makes of `MEMVIGIL [CMD...] --help`, so the usage strings in src/cli stay
# the one owner of synopses, options and command lists. Run by the `man`
# target (docs/man/CMakeLists.txt):
#
#   render.sh AWK_SCRIPT MEMVIGIL VERSION IN OUT [CMD...]
#
# A marker whose part comes out empty is an error: a --help layout the
# script no longer understands must fail the build, not drop options.
set -eu
[ $# -ge 5 ] || { echo "usage: $0 AWK_SCRIPT MEMVIGIL VERSION IN OUT [CMD...]" >&2; exit 2; }
awk_prog=$1 bin=$2 version=$3 in=$4 out=$5
shift 5
name=$(basename "$in" .in)
work=$(mktemp -d "${TMPDIR:-/tmp}/mvman.XXXXXX")
trap 'rm -rf "$work"' EXIT

: > "$work/help"
if grep -qE '^@(SYNOPSIS|OPTIONS|COMMANDS)@$' "$in"; then
    if ! "$bin" "$@" --help > "$work/help"; then
        echo "render.sh: $name: '$bin $* --help' failed" >&2
        exit 1
    fi
fi
for part in synopsis options commands; do
    awk -v part="$part" -f "$awk_prog" "$work/help" > "$work/$part"
    marker=$(echo "$part" | tr a-z A-Z)
    if grep -qx "@$marker@" "$in" && [ ! -s "$work/$part" ]; then
        echo "render.sh: $name: nothing for @$marker@ in '$bin $* --help'" >&2
        exit 1
    fi
done

awk -v ver="$version" -v dir="$work" '
    function splice(f,    l) {
        while ((getline l < f) > 0)
            print l
        close(f)
    }
    $0 == "@SYNOPSIS@" { splice(dir "/synopsis"); next }
    $0 == "@OPTIONS@"  { splice(dir "/options");  next }
    $0 == "@COMMANDS@" { splice(dir "/commands"); next }
    { gsub(/@VERSION@/, ver); print }
' "$in" > "$work/page"
left=$(grep -v '^\.\\"' "$work/page" | grep -o '@[A-Z]*@' | head -1) || true
if [ -n "$left" ]; then
    echo "render.sh: $name: unknown marker $left" >&2
    exit 1
fi
mv "$work/page" "$out"
