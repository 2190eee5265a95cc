#!/usr/bin/env bash
# completion.sh — drives the shell completions in completions/ for real.
# bash: memvigil.bash is sourced with the bash-completion framework in a
# non-interactive bash, COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT are set
# and _memvigil's COMPREPLY is checked: subcommands, every option of every
# command (and of heap's subcommands) against what --help prints, `run
# --int`, heap's subcommands, `report --format` values, an option after an
# operand, PIDs, files, directories, and run's command line. zsh: _memvigil
# loads in `zsh -f` with compinit, is registered for memvigil, and its
# option specs name exactly the options --help prints.
set -euo pipefail
: "${MEMVIGIL:?}" "${MV_SOURCE:?}"
here=$(dirname "$0")
source "$here/help_options.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }

framework=/usr/share/bash-completion/bash_completion
[ -r "$framework" ] || die "no $framework (scripts/install-deps.sh installs bash-completion)"
command -v zsh >/dev/null || die "zsh not installed (scripts/install-deps.sh installs it)"
MEMVIGIL=$(readlink -f "$MEMVIGIL")
export PATH="$(dirname "$MEMVIGIL"):$PATH"   # `memvigil` is the built one
[ "$(type -P memvigil)" = "$MEMVIGIL" ] || die "memvigil in PATH is $(type -P memvigil)"

# the framework expects a few interactive defaults; errors must not pass
set +eu
source "$framework"
source "$MV_SOURCE/completions/memvigil.bash"
set -eu
[ "$(complete -p memvigil)" = "complete -F _memvigil memvigil" ] || die "complete -p: $(complete -p memvigil)"

# comp LINE: completes at the end of LINE; the candidates, sorted, one a line
comp() {
    local line=$1
    COMP_LINE=$line
    COMP_POINT=${#line}
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    set +eu
    _memvigil memvigil "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    set -eu
    ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort -u
    return 0
}
# expect LINE WANT: the candidates are exactly WANT (a newline-separated list)
expect() {
    local got
    got=$(comp "$1")
    [ "$got" = "$(sort -u <<<"$2")" ] || die "'$1<TAB>': got [$(echo $got)], want [$(echo $2)]"
}
# expect_has LINE WORD: WORD is among the candidates
expect_has() {
    comp "$1" | grep -qxF -- "$2" || die "'$1<TAB>': no '$2' in [$(comp "$1" | tr '\n' ' ')]"
}

commands=$(help_commands)
grep -qx run <<<"$commands" && grep -qx estimate <<<"$commands" || die "command list: $commands"
expect "memvigil " "$commands"$'\nhelp'
expect "memvigil rep" "report"
expect "memvigil run --int" "--interval"
expect "memvigil help ins" "inspect"

subs=$(help_subcommands heap)
[ "$(echo $subs)" = "diff folded symbolize top watch" ] || die "heap subcommands in its usage: $(echo $subs)"
expect "memvigil heap " "$subs"
# heap takes options before its subcommand too: the subcommand is then the
# first operand, and an option's value is not taken for it
expect "memvigil heap --json " "$subs"
expect "memvigil heap -n 5 t" "top"
expect "memvigil heap -n 5 top dir --no-s" "--no-symbolize"

# every option of every command, and of heap's subcommands, as --help prints them
for c in $commands; do
    s=$(help_subcommands "$c")
    if [ -n "$s" ]; then
        expect "memvigil $c -" "$(help_options "$c")"
        for sub in $s; do
            expect "memvigil $c $sub -" "$(help_options "$c" "$sub")"
        done
    else
        expect "memvigil $c -" "$(help_options "$c")"
    fi
done
expect "memvigil -" $'--help\n--version'

# enumerated values, from the usage line "[--format html|markdown|text|json]"
formats=$("$MEMVIGIL" report --help | grep -oE -- '--format [a-z|]+' | head -1 | cut -d' ' -f2 | tr '|' '\n')
grep -qx html <<<"$formats" || die "report --help has no --format html|...: $formats"
expect "memvigil report --format " "$formats"
expect "memvigil report -f " "$formats"
expect "memvigil report --format m" "markdown"
# options after an operand (GNU style), and none after `--`
expect "memvigil report rec.jsonl --fo" "--format"
expect "memvigil analyze a.csv b.csv --js" "--json"
expect "memvigil heap top dir --no-s" "--no-symbolize"
expect "memvigil report -- --fo" ""

# PIDs, files, directories
expect_has "memvigil watch --pid " "$$"
expect_has "memvigil inspect " "$$"
expect_has "memvigil heap top --pid " "$$"
mkdir -p "$tmp/work/snaps"
touch "$tmp/work/rec.jsonl" "$tmp/work/rec.jsonl.1"
cd "$tmp/work"
expect "memvigil report " $'rec.jsonl\nrec.jsonl.1\nsnaps'
expect "memvigil report --heap " "snaps"
expect "memvigil report -o rec.jsonl --heap s" "snaps"
expect_has "memvigil heap top " "snaps"
expect "memvigil run --record r" $'rec.jsonl\nrec.jsonl.1'
# a value never counts as run's command: --interval 1s, then CMD
expect_has "memvigil run --interval 1s sle" "sleep"
expect_has "memvigil run -- sle" "sleep"
# CMD's own arguments: its completion (here, files)
expect "memvigil run --quiet cat rec.jsonl." "rec.jsonl.1"
expect "memvigil run --quiet cat --int" ""
cd - >/dev/null

# zsh: loads, registers, and its specs name the options of --help
zsh -f -c '
    fpath=("$1" $fpath)
    autoload -Uz compinit && compinit -u -d "$2/zcompdump" || exit 3
    [[ $_comps[memvigil] == _memvigil ]] || { print "not registered: ${_comps[memvigil]}"; exit 4; }
    (( $+functions[_memvigil] )) || exit 5
    source "$1/_memvigil" || exit 6
    (( $+functions[_memvigil_specs] )) || exit 7
' zsh "$MV_SOURCE/completions" "$tmp" 2>"$tmp/zsh.err" || die "zsh -f: loading _memvigil (status $?): $(cat "$tmp/zsh.err")"
[ ! -s "$tmp/zsh.err" ] || die "zsh -f printed: $(cat "$tmp/zsh.err")"
zsh_options() {
    zsh -f -c 'autoload -Uz compinit && compinit -u -d "$1/zcompdump"; source "$2/_memvigil"; shift 2; _memvigil_specs "$@"' \
        zsh "$tmp" "$MV_SOURCE/completions" "$MEMVIGIL" "$@" | sed -E 's/[+=[].*//' | sort -u
}
for c in $commands; do
    got=$(zsh_options "$c")
    [ "$got" = "$(help_options "$c")" ] || die "zsh specs of $c: [$(echo $got)] want [$(echo $(help_options "$c"))]"
    for sub in $(help_subcommands "$c"); do
        got=$(zsh_options "$c" "$sub")
        [ "$got" = "$(help_options "$c" "$sub")" ] || die "zsh specs of $c $sub: [$(echo $got)]"
    done
done
zsh_options report > /dev/null
spec=$(zsh -f -c 'autoload -Uz compinit && compinit -u -d "$1/zcompdump"; source "$2/_memvigil"; _memvigil_specs "$3" report' \
    zsh "$tmp" "$MV_SOURCE/completions" "$MEMVIGIL" | grep -- '^--format=')
[ "$spec" = "--format=[html (default), markdown, text or json]:html|markdown|text|json:(html markdown text json)" ] ||
    die "zsh --format spec: $spec"

echo "PASS: bash and zsh completion follow --help (commands, options, values, operands)"
