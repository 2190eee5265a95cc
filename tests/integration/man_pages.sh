#!/usr/bin/env bash
# man_pages.sh — the man pages the build makes in $MV_BUILD/man (docs/man):
# one per command of `memvigil --help` plus memvigil(1), libmemvigil(3) and
# libmemvigil_heap(7); each renders with `man -l` at 80 columns without a
# groff warning and has its sections and NAME line. The OPTIONS section of
# memvigil(1) and of each memvigil-CMD(1) lists exactly the options that
# `memvigil [CMD [SUB]] --help` prints (heap's subcommands included), and
# every long option a page names is one memvigil has. libmemvigil(3)'s
# SYNOPSIS names exactly the functions include/memvigil.h exports;
# libmemvigil_heap(7)'s ENVIRONMENT exactly the variables src/heap/config.c
# reads (as docs/heap-profiler.md does). A page with an option taken out or
# one added is shown to fail the comparison.
set -euo pipefail
: "${MEMVIGIL:?}" "${MV_BUILD:?}" "${MV_SOURCE:?}"
here=$(dirname "$0")
source "$here/help_options.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }

command -v man >/dev/null || die "man not installed (scripts/install-deps.sh installs man-db)"
mandir=$MV_BUILD/man
[ -d "$mandir" ] || die "no $mandir: configure with -DMV_MAN=ON (the default)"

render() { LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$1"; }

# roff_section PAGE NAME: the roff source of section NAME (.SH NAME to the next .SH)
roff_section() {
    awk -v s="$2" '/^\.SH/ { on = ($0 == ".SH " s || $0 == ".SH \"" s "\""); next } on' "$1"
}

# page_options PAGE: the options named in the terms (.TP lines) of OPTIONS.
page_options() {
    roff_section "$1" OPTIONS | awk 'p { print; p = 0 } /^\.TP/ { p = 1 }' |
        sed -E 's/\\f[BIRP]//g; s/\\-/-/g' |
        grep -oE -- '(^|[ ,|])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ ,|]//' | sort -u
}

# compare PAGE ARGS...: the OPTIONS of PAGE against `memvigil ARGS --help`;
# prints the differences, returns 1 when there are any.
compare() {
    local page=$1; shift
    page_options "$page" > "$tmp/page.opts"
    help_options "$@" > "$tmp/help.opts"
    local missing extra
    missing=$(comm -23 "$tmp/help.opts" "$tmp/page.opts" | tr '\n' ' ')
    extra=$(comm -13 "$tmp/help.opts" "$tmp/page.opts" | tr '\n' ' ')
    [ -z "$missing$extra" ] && return 0
    [ -n "$missing" ] && echo "$(basename "$page"): missing options that 'memvigil $* --help' prints: $missing"
    [ -n "$extra" ] && echo "$(basename "$page"): options that 'memvigil $* --help' does not print: $extra"
    return 1
}

commands=$(help_commands)
[ -n "$commands" ] || die "no commands in memvigil --help"
grep -qx estimate <<<"$commands" || die "estimate missing from the command list: $commands"

pages=(memvigil.1 libmemvigil.3 libmemvigil_heap.7)
for c in $commands; do pages+=("memvigil-$c.1"); done
n=0
all_opts=$(help_options)
for c in $commands; do
    all_opts+=$'\n'$(help_options "$c")
    for s in $(help_subcommands "$c"); do all_opts+=$'\n'$(help_options "$c" "$s"); done
done
all_opts=$(sort -u <<<"$all_opts")

for p in "${pages[@]}"; do
    f=$mandir/$p
    [ -s "$f" ] || die "$p not built in $mandir"
    name=${p%.*} section=${p##*.}
    warnings=$(render "$f" 2>&1 >/dev/null) || die "$p: man failed: $warnings"
    [ -z "$warnings" ] || die "$p: groff warnings at 80 columns: $warnings"
    render "$f" > "$tmp/$p.txt" 2>/dev/null
    head -1 "$tmp/$p.txt" | grep -qE "^${name^^}\($section\) " || die "$p: header line: $(head -1 "$tmp/$p.txt")"
    grep -A1 -x NAME "$tmp/$p.txt" | grep -qE "^ +$name +- +[a-z]" || die "$p: NAME line"
    case $section in
        1) want=(NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO") ;;
        3) want=(NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS FILES EXAMPLES "SEE ALSO") ;;
        7) want=(NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES EXAMPLES "SEE ALSO") ;;
    esac
    for s in "${want[@]}"; do
        grep -qx "$s" "$tmp/$p.txt" || die "$p: no $s section"
    done
    grep -q 'memvigil 0\.1\.0' "$tmp/$p.txt" || die "$p: no version in the footer"
    if [ "$section" = 1 ]; then
        # every long option named (outside the command line after `--` of
        # run's examples) is one memvigil has
        named=$(sed 's/ -- .*//' "$tmp/$p.txt" | grep -oE -- '(^|[ ([])--[a-z][a-z0-9-]*' |
                sed 's/^[ ([]//' | sort -u)
        unknown=$(comm -23 <(echo "$named") <(echo "$all_opts") | tr '\n' ' ')
        [ -z "${unknown// /}" ] || die "$p names options memvigil does not have: $unknown"
    fi
    n=$((n + 1))
done

# OPTIONS against --help, for every command and heap's subcommands
compare "$mandir/memvigil.1" || die "memvigil(1) and memvigil --help disagree"
for c in $commands; do
    compare "$mandir/memvigil-$c.1" "$c" || die "memvigil-$c(1) and --help disagree"
    for s in $(help_subcommands "$c"); do
        compare "$mandir/memvigil-$c.1" "$c" "$s" || die "memvigil-$c(1) and '$c $s --help' disagree"
    done
done
[ -n "$(help_subcommands heap)" ] || die "heap has no subcommands in its usage"

# known contents, rendered
grep -qE '^ +--interval DURATION$' "$tmp/memvigil-run.1.txt" || die "memvigil-run(1): no --interval DURATION"
grep -qE '^ +-f, --format FMT$' "$tmp/memvigil-report.1.txt" || die "memvigil-report(1): no -f, --format FMT"
grep -qE '^ +memvigil report \[-o FILE\] \[--format html\|markdown\|text\|json\]$' "$tmp/memvigil-report.1.txt" ||
    die "memvigil-report(1): synopsis"
grep -qE '^ +folded FILE$' "$tmp/memvigil-heap.1.txt" || die "memvigil-heap(1): no folded in COMMANDS"
grep -qE '^ +estimate$' "$tmp/memvigil.1.txt" || die "memvigil(1): no estimate in COMMANDS"
grep -qE '^ +3 +analyze only' "$tmp/memvigil.1.txt" || die "memvigil(1): exit status 3"

# the comparison fails on a page with an option taken out, or one added
sed '/^\\fB\\-\\-heap\\fR \\fIDIR\\fR$/,+1d' "$mandir/memvigil-report.1" > "$tmp/less.1"
cmp -s "$tmp/less.1" "$mandir/memvigil-report.1" && die "self-check: no --heap entry to take out"
out=$(compare "$tmp/less.1" report) && die "self-check: a page without --heap passed"
grep -q 'missing options.*--heap' <<<"$out" || die "self-check: $out"
cp "$mandir/memvigil-report.1" "$tmp/more.1"
printf '.SH OPTIONS\n.TP\n\\fB\\-\\-bogus\\fR\nnot an option\n' >> "$tmp/more.1"
out=$(compare "$tmp/more.1" report) && die "self-check: a page with --bogus passed"
grep -q 'does not print.*--bogus' <<<"$out" || die "self-check: $out"

# libmemvigil(3): the exported functions, no more, no fewer
grep -E '^MV_EXPORT' "$MV_SOURCE/include/memvigil.h" | grep -oE 'mv_[a-z_]+ *\(' | tr -d ' (' | sort -u > "$tmp/h.fns"
[ "$(wc -l < "$tmp/h.fns")" -ge 20 ] || die "memvigil.h: only $(wc -l < "$tmp/h.fns") exported functions found"
roff_section "$mandir/libmemvigil.3" SYNOPSIS | sed 's/\\f[BIRP]//g' | grep -oE 'mv_[a-z_]+ *\(' | tr -d ' (' | sort -u > "$tmp/p.fns"
diff "$tmp/h.fns" "$tmp/p.fns" >&2 || die "libmemvigil(3) SYNOPSIS and memvigil.h's MV_EXPORT functions differ (< header, > page)"
named=$(sed 's/\\f[BIRP]//g' "$mandir/libmemvigil.3" | grep -oE 'mv_[a-z_]+\(' | tr -d '(' | sort -u)
unknown=$(comm -23 <(echo "$named") "$tmp/h.fns" | tr '\n' ' ')
[ -z "${unknown// /}" ] || die "libmemvigil(3) names functions memvigil.h does not export: $unknown"

# libmemvigil_heap(7): the variables config.c reads, in the page and in docs/heap-profiler.md
grep -oE '"MEMVIGIL_HEAP[A-Z_]*"' "$MV_SOURCE/src/heap/config.c" | tr -d '"' | sort -u > "$tmp/c.vars"
[ "$(wc -l < "$tmp/c.vars")" -ge 5 ] || die "src/heap/config.c: only $(wc -l < "$tmp/c.vars") variables found"
roff_section "$mandir/libmemvigil_heap.7" ENVIRONMENT | awk 'p { print; p = 0 } /^\.TP/ { p = 1 }' |
    sed -E 's/^\.B //; s/\\f[BIRP]//g' | sort -u > "$tmp/p.vars"
diff "$tmp/c.vars" "$tmp/p.vars" >&2 || die "libmemvigil_heap(7) ENVIRONMENT and src/heap/config.c differ (< code, > page)"
grep -oE '^\| `MEMVIGIL_HEAP[A-Z_]*`' "$MV_SOURCE/docs/heap-profiler.md" | tr -d '|` ' | sort -u > "$tmp/d.vars"
diff "$tmp/c.vars" "$tmp/d.vars" >&2 || die "docs/heap-profiler.md and src/heap/config.c differ (< code, > doc)"

echo "PASS: $n man pages render without warnings; options agree with --help; API and environment complete"
