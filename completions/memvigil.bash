# memvigil.bash — bash completion for memvigil(1), installed as
# share/bash-completion/completions/memvigil (loaded on demand by the
# bash-completion package, whose helpers it uses).
#
# Nothing here lists an option: subcommands, heap's subcommands, every
# option, which options take a value (and its kind, from the metavariable:
# FILE, DIR, PID, PROGRAM, PATH...) and enumerated values such as
# `--format html|markdown|text|json` are read at completion time from
# `memvigil [CMD [SUB]] --help`, so completion follows the usage strings in
# src/cli. tests/integration/completion.sh checks the two agree.

# _memvigil_help BIN ARGS...: the help text of `BIN ARGS... --help`.
_memvigil_help()
{
    "$1" "${@:2}" --help 2>/dev/null
}

# _memvigil_commands BIN: the entries of the "Commands:" list.
_memvigil_commands()
{
    _memvigil_help "$1" | awk '
        /^Commands:/ { on = 1; next }
        on && /^ +[a-z]/ { print $1; next }
        on { exit }'
}

# _memvigil_subcommands BIN CMD: the second words of CMD's usage forms
# ("usage: memvigil heap top ...", "       memvigil heap diff ...").
_memvigil_subcommands()
{
    _memvigil_help "$1" "$2" | awk -v cmd="$2" '
        /^usage: / { on = 1 }
        on && /^ *$/ { exit }
        on {
            sub(/^usage: /, "")
            sub(/^ +/, "")
            if ($1 == "memvigil" && $2 == cmd && $3 ~ /^[a-z][a-z-]*$/)
                print $3
        }' | sort -u
}

# _memvigil_options BIN ARGS...: one line per option of `BIN ARGS... --help`:
# "OPTION METAVARIABLE" (no metavariable for a flag), from the option entries
# ("  --record FILE   ...", "  -o, --output FILE   ...") and the usage
# lines ("[--format html|markdown|text|json]").
_memvigil_options()
{
    _memvigil_help "$@" | awk '
        function add(opt, meta) {
            if (opt == "--" || opt !~ /^--?[A-Za-z0-9]/)
                return
            if (!(opt in metas) || (metas[opt] == "" && meta != ""))
                metas[opt] = meta
            if (!(opt in seen)) { seen[opt] = 1; order[++n] = opt }
        }
        /^usage: / { usage = 1 }
        usage && /^ *$/ { usage = 0 }
        usage {
            line = $0
            sub(/^usage: /, "", line)
            k = split(line, w, / +/)
            for (i = 1; i <= k; i++) {
                o = w[i]
                sub(/^[[(]/, "", o)
                if (o !~ /^-/)
                    continue
                # a value follows unless the option closes its brackets
                m = ""
                if (o !~ /[])]$/ && i < k) {
                    m = w[i + 1]
                    sub(/[])]+$/, "", m)
                    if (m ~ /^[-[]/ || (m ~ /[a-z]/ && m !~ /[|]/))
                        m = ""
                }
                sub(/[])]+$/, "", o)
                add(o, m)
            }
            next
        }
        /^ +-/ && match($0, /^ +/) && RLENGTH <= 7 {
            t = $0
            sub(/^ +/, "", t)
            sub(/  .*/, "", t)
            k = split(t, piece, /, +/)
            # "-o, --output FILE": the short form takes the value of the long one
            next_opt = ""
            for (i = k; i >= 1; i--) {
                split(piece[i], w, / +/)
                m = w[2]
                if (m == "" && next_opt != "" && w[1] ~ /^-[^-]/)
                    m = metas[next_opt]
                add(w[1], m)
                next_opt = w[1]
            }
        }
        END { for (i = 1; i <= n; i++) print order[i], metas[order[i]] }'
}

# _memvigil_value OPTION META CUR: completes the value of an option.
_memvigil_value()
{
    local opt=$1 meta=$2 cur=$3
    if [[ $opt == --pid || $meta == PID ]]; then
        _pids
    elif [[ $meta == *'|'* && $meta != *[A-Z]* ]]; then
        COMPREPLY=($(compgen -W "${meta//|/ }" -- "$cur"))
    elif [[ $meta == DIR ]]; then
        _filedir -d
    elif [[ $meta == FILE* || $meta == *'|FILE' || $meta == RECORDING ]]; then
        _filedir
    elif [[ $meta == PROGRAM || $meta == CMD ]]; then
        COMPREPLY=($(compgen -c -- "$cur"))
        [[ $cur == */* ]] && _filedir
    elif [[ $opt == --cgroup ]]; then
        local root=/sys/fs/cgroup d
        COMPREPLY=()
        for d in $(compgen -d -- "$root/${cur#/}"); do
            COMPREPLY+=("${d#"$root"}/")
        done
        compopt -o nospace 2>/dev/null
    else
        COMPREPLY=()
    fi
}

_memvigil()
{
    local cur prev words cword split
    _init_completion -s || return

    local bin=${words[0]}
    [[ $bin == */* && -x $bin ]] || bin=$(type -P memvigil) || return
    [[ -n $bin ]] || return

    # the subcommand: the first word after memvigil
    if ((cword == 1)); then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_memvigil_commands "$bin") help" -- "$cur"))
        fi
        return
    fi
    local cmd=${words[1]}
    if [[ $cmd == help ]]; then
        ((cword == 2)) && COMPREPLY=($(compgen -W "$(_memvigil_commands "$bin")" -- "$cur"))
        return
    fi

    # heap's subcommand: its first operand (options, and their values,
    # may come before it)
    local -a ctx=("$cmd")
    local first=2
    local subs
    subs=$(_memvigil_subcommands "$bin" "$cmd")
    if [[ -n $subs ]]; then
        local -A hmeta=()
        local ho hm j hw sub="" subi=0
        while read -r ho hm; do
            [[ -n $ho ]] && hmeta[$ho]=$hm
        done <<<"$(_memvigil_options "$bin" "$cmd")"
        for ((j = 2; j < cword; j++)); do
            hw=${words[j]}
            if [[ $hw == -?* ]]; then
                [[ $hw != *=* && -n ${hmeta[$hw]-} ]] && ((j++))
            else
                sub=$hw subi=$j
                break
            fi
        done
        if [[ -z $sub ]]; then
            if [[ -n ${hmeta[$prev]-} ]]; then
                _memvigil_value "$prev" "${hmeta[$prev]}" "$cur"
            elif [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "${!hmeta[*]}" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$subs" -- "$cur"))
            fi
            return
        fi
        ctx+=("$sub")
        first=$((subi + 1))
    fi

    local optlist
    optlist=$(_memvigil_options "$bin" "${ctx[@]}")
    local -A meta=()
    local o m
    while read -r o m; do
        [[ -n $o ]] && meta[$o]=$m
    done <<<"$optlist"

    # the value of an option: `--opt VALUE` or `--opt=VALUE`
    if [[ -n ${meta[$prev]-} ]]; then
        _memvigil_value "$prev" "${meta[$prev]}" "$cur"
        return
    fi
    $split && return

    # walk the words before the cursor: operands, `--`, option values
    local i w operands=0 dashdash=0 cmdstart=0
    for ((i = first; i < cword; i++)); do
        w=${words[i]}
        if ((dashdash)); then
            ((operands++))
            ((cmdstart)) || cmdstart=$i
            continue
        fi
        if [[ $w == -- ]]; then
            dashdash=1
        elif [[ $w == -?* ]]; then
            [[ $w != *=* && -n ${meta[$w]-} ]] && ((i++))
        else
            ((operands++))
            ((cmdstart)) || cmdstart=$i
            # run: options end at CMD, the rest is CMD's own line
            [[ $cmd == run ]] && dashdash=1
        fi
    done

    if [[ $cmd == run ]] && ((cmdstart)); then
        _command_offset "$cmdstart"
        return
    fi
    if [[ $cur == -* ]] && ((!dashdash)); then
        COMPREPLY=($(compgen -W "$(cut -d' ' -f1 <<<"$optlist")" -- "$cur"))
        return
    fi
    case $cmd in
        run)  # the word at the cursor is CMD
            COMPREPLY=($(compgen -c -- "$cur")) ;;
        inspect)
            ((operands == 0)) && _pids ;;
        heap | analyze | report | estimate)
            _filedir ;;
        *)  # no operands (watch): the options
            COMPREPLY=($(compgen -W "$(cut -d' ' -f1 <<<"$optlist")" -- "$cur")) ;;
    esac
}
complete -F _memvigil memvigil
