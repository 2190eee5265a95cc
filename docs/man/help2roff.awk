# help2roff.awk — turns the text of `memvigil [CMD] --help` into roff for a
# man page, so that the usage strings in src/cli stay the one owner of the
# synopsis, the option list and the command list (render.sh splices the
# result into the hand-written page templates *.in).
#
#   awk -v part=synopsis|options|commands -f help2roff.awk < help.txt
#
# The help layout it reads (the house style of every usage string):
#   - "usage: memvigil ..." then continuation lines ("       memvigil ...",
#     or a wrapped line indented further), up to the first blank line;
#   - entries indented 1..7 spaces: a term, two or more spaces, and the
#     first line of its description; a term starting with '-' is an option
#     ("--record FILE", "-o, --output FILE"), any other a command ("top FILE",
#     "run"); a term alone on its line has its description below;
#   - description continuation lines indented 8 spaces or more;
#   - a line at column 0 ending in ':' right before entries heads them
#     ("Common options (run and watch):"): a subsection of OPTIONS.
# Anything else (paragraphs at column 0) is prose the templates own.

# Escapes text for roff: backslashes, hyphens (an option must print as an
# ASCII hyphen-minus) and a leading control character.
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}

# A term in bold (option and command names) and italics (metavariables):
# "-o, --output FILE" -> \fB\-o\fR, \fB\-\-output\fR \fIFILE\fR
function term(t,    n, w, i, j, out, word, alts, m, a, sep) {
    n = split(t, w, / +/)
    out = ""
    for (i = 1; i <= n; i++) {
        word = w[i]
        sep = ""
        if (word ~ /,$/) {
            sep = ","
            word = substr(word, 1, length(word) - 1)
        }
        m = split(word, alts, /\|/)
        a = ""
        for (j = 1; j <= m; j++) {
            if (alts[j] ~ /^-/ || alts[j] ~ /^[a-z][a-z0-9_-]*$/)
                a = a (j > 1 ? "|" : "") "\\fB" esc(alts[j]) "\\fR"
            else
                a = a (j > 1 ? "|" : "") "\\fI" esc(alts[j]) "\\fR"
        }
        out = out (i > 1 ? " " : "") a sep
    }
    return out
}

# A usage line: the leading command words in bold, options in bold,
# upper-case metavariables in italics, the rest as it is.
function usage_line(s,    n, w, i, out, lead, word, pre, post, core) {
    n = split(s, w, / /)
    out = ""
    lead = 1
    for (i = 1; i <= n; i++) {
        word = w[i]
        if (word == "") { out = out " "; continue }
        if (lead && word ~ /^[a-z][a-z-]*$/) {
            out = out (i > 1 ? " " : "") "\\fB" esc(word) "\\fR"
            continue
        }
        lead = 0
        # split off brackets and trailing dots: "[--pid" "M" "...]"
        pre = word; sub(/[^[(]*$/, "", pre)
        core = substr(word, length(pre) + 1)
        post = core; sub(/^[^])|.]*/, "", post)
        core = substr(core, 1, length(core) - length(post))
        if (core ~ /^-/)
            core = "\\fB" esc(core) "\\fR"
        else if (core ~ /^[a-z][a-z0-9_-]*$/ && post ~ /^\|/)
            core = "\\fB" esc(core) "\\fR"
        else if (core ~ /^[A-Z][A-Z_]*$/)
            core = "\\fI" core "\\fR"
        else
            core = esc(core)
        out = out (i > 1 ? " " : "") esc(pre) core usage_post(post)
    }
    return out
}

# The tail of a usage word: "|json]" or "...]": alternatives in bold.
function usage_post(p,    out, c, rest, k, word) {
    out = ""
    while (p != "") {
        c = substr(p, 1, 1)
        if (c == "|") {
            rest = substr(p, 2)
            k = match(rest, /[])|.]/)
            word = k ? substr(rest, 1, k - 1) : rest
            p = k ? substr(rest, k) : ""
            if (word ~ /^[A-Z][A-Z_]*$/)
                out = out "|\\fI" word "\\fR"
            else
                out = out "|\\fB" esc(word) "\\fR"
        } else {
            out = out (c == "-" ? "\\-" : c)
            p = substr(p, 2)
        }
    }
    return out
}

function flush_entry() {
    if (etype == "")
        return
    if ((part == "options" && etype == "option") ||
        (part == "commands" && etype == "command")) {
        if (part == "options" && pending_header != "") {
            print ".SS \"" esc(pending_header) "\""
            pending_header = ""
        }
        print ".TP"
        print term(eterm)
        if (edesc != "")
            print esc(edesc)
    }
    etype = ""
    eterm = ""
    edesc = ""
}

BEGIN { in_usage = 0; seen_usage = 0; etype = ""; prev0 = ""; pending_header = "" }

{
    sub(/\r$/, "")
    line = $0
}

# the usage block
!seen_usage && line ~ /^usage: / {
    in_usage = 1
    seen_usage = 1
    sub(/^usage: /, "", line)
    if (part == "synopsis")
        print usage_line(line)
    next
}
in_usage {
    if (line ~ /^ *$/) { in_usage = 0; next }
    # "       memvigil watch ...": a second form; a line indented past the
    # command name continues the previous form
    if (line ~ /^ +memvigil /) {
        sub(/^ +/, "", line)
        if (part == "synopsis")
            print usage_line(line)
    } else {
        sub(/^ +/, "", line)
        if (part == "synopsis")
            print "    " usage_line(line)
    }
    next
}

# a blank line ends an entry and forgets a header
line ~ /^ *$/ { flush_entry(); prev0 = ""; next }

# column 0: prose, or the header of the entries that follow
line ~ /^[^ ]/ { flush_entry(); prev0 = line; next }

{
    match(line, /^ +/)
    indent = RLENGTH
}

# an entry: term, 2+ spaces, description
indent <= 7 {
    flush_entry()
    if (prev0 ~ /:$/) {
        pending_header = substr(prev0, 1, length(prev0) - 1)
        if (pending_header == "Commands")
            pending_header = ""
    }
    prev0 = ""
    body = substr(line, indent + 1)
    k = match(body, /  +/)
    if (k) {
        eterm = substr(body, 1, k - 1)
        edesc = substr(body, k + RLENGTH)
    } else {
        eterm = body
        edesc = ""
    }
    etype = (eterm ~ /^-/) ? "option" : "command"
    next
}

# a description continued
etype != "" {
    sub(/^ +/, "", line)
    edesc = (edesc == "") ? line : edesc " " line
    next
}

END { flush_entry() }
