# help_options.bash — sourced by man_pages.sh and completion.sh (named so
# that the *.sh glob in tests/CMakeLists.txt does not run it): what the
# usage strings say, read from the built binary's --help the plain way
# (grep and sed), independently of the parsers under test (docs/man's
# help2roff.awk, the completion scripts' own).

# help_options ARGS...: the options `$MEMVIGIL ARGS... --help` prints,
# sorted, one a line: those of the usage lines ("[--format html|...]",
# "--pid N") and of the option entries ("  -o, --output FILE   ...").
help_options() {
    local help
    help=$("$MEMVIGIL" "$@" --help) || { echo "FAIL: $MEMVIGIL $* --help" >&2; return 1; }
    {
        # the usage block: up to the first blank line
        sed -n '1,/^ *$/p' <<<"$help" |
            grep -oE -- '(^|[[( ])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[[( ]//' || true
        # entries indented 1 to 7 columns; their term ends at two spaces
        grep -E '^ {1,7}-' <<<"$help" | sed -E 's/^ +//; s/  .*//' |
            grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ ,]//' || true
    } | sort -u
}

# help_commands: the subcommands in the "Commands:" list of `memvigil --help`.
help_commands() {
    "$MEMVIGIL" --help | sed -n '/^Commands:/,/^ *$/p' | grep -E '^  [a-z]' | awk '{print $1}'
}

# help_subcommands CMD: CMD's own subcommands, from its usage forms
# ("memvigil heap top ...": top); none for most commands.
help_subcommands() {
    "$MEMVIGIL" "$1" --help | sed -n '1,/^ *$/p' | sed -E 's/^(usage:)? +//' |
        { grep -E "^memvigil $1 [a-z][a-z-]*( |$)" || true; } | awk '{print $3}' | sort -u
}
