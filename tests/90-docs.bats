#!/usr/bin/env bats
# The documentation cannot rot: --help and the man pages agree, and the
# examples of the man pages and the README's tour run.

load helper

programs() {
    for f in "$OSM_SRCDIR"/bin/osm-*.c; do basename "$f" .c; done
}

@test "docs: every program has a man page, --help and --version" {
    for p in $(programs); do
        assert_file_exists "$OSM_SRCDIR/man/$p.1"
        run -0 "$p" --help
        assert_line --index 0 --regexp "^usage: $p "
        run -0 "$p" --version
        assert_output --regexp "^$p \(osm\) [0-9]+\.[0-9]+\.[0-9]+$"
    done
}

@test "docs: each long option of --help is documented in the man page, and back" {
    for p in $(programs); do
        man="$OSM_SRCDIR/man/$p.1"
        for o in $("$p" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
            grep -qF -- "$(sed 's/-/\\-/g' <<<"$o")" "$man" || { echo "$p: $o not in $man"; false; }
        done
        for o in $(grep -oE -- '\\-\\-[a-z][a-z-]+' "$man" | sed 's/\\//g' | sort -u); do
            "$p" --help | grep -qF -- "$o" || { echo "$p: $o documented but not in --help"; false; }
        done
    done
}

@test "docs: osm-cartridge verbs in --help and the SYNOPSIS agree" {
    help=$(osm-cartridge --help | sed -n '/^verbs:/,/^$/p' | grep -oE '^  [a-z]+' | tr -d ' ' | sort)
    man=$(grep -oE '^\.B osm-cartridge [a-z]+' "$OSM_SRCDIR/man/osm-cartridge.1" | awk '{print $3}' | sort)
    assert_equal "$man" "$help"
}

# The "$ command" lines of a man page's EXAMPLES, continuation lines joined.
man_examples() {
    sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$1" | sed -n '/^\.EX/,/^\.EE/p' |
        grep -v '^\.E[XE]' | sed 's/\\e$/\\/; s/\\e/\\/g' |
        awk '/\\$/ { sub(/\\$/, ""); buf = buf $0; next } { print buf $0; buf = "" }' |
        sed -n 's/^\$ //p'
}

@test "docs: the examples of osm-cartridge(1) run" {
    mkdir cartridges
    cp -R "$FIXTURES/cartridges/minimal" cartridges/
    osm-cartridge deploy "$EXAMPLES/broadband" >/dev/null
    while IFS= read -r cmd; do
        run bash -c "$cmd"
        [ "$status" -eq 0 ] || { echo "failed ($status): $cmd"; echo "$output"; false; }
    done < <(man_examples "$OSM_SRCDIR/man/osm-cartridge.1")
}

@test "docs: the examples of osm-submit(1), osm-validate(1) and osm-plan(1) run" {
    export OSM_NOW=2026-11-26T09:00:00Z
    for page in osm-submit osm-validate osm-plan; do
        rm -rf "$BATS_TEST_TMPDIR/$page" && mkdir "$BATS_TEST_TMPDIR/$page" && cd "$BATS_TEST_TMPDIR/$page"
        cp -R "$EXAMPLES/broadband" broadband
        export OSM_DB=$PWD/osm.db
        while IFS= read -r cmd; do
            run bash -c "$cmd"
            [ "$status" -eq 0 ] || { echo "$page: failed ($status): $cmd"; echo "$output"; false; }
        done < <(man_examples "$OSM_SRCDIR/man/$page.1")
    done
}

@test "docs: the examples of osm-run(1) run" {
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    cp -R "$FIXTURES/cartridges/runner" runner
    while IFS= read -r cmd; do
        run bash -c "$cmd"
        [ "$status" -eq 0 ] || { echo "failed ($status): $cmd"; echo "$output"; false; }
    done < <(man_examples "$OSM_SRCDIR/man/osm-run.1")
}

@test "docs: the examples of osm-task(1) run" {
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    [ "$(id -u)" = 0 ] || printf '[admin]\ngroup = %s\n' "$(id -gn)" >osm.conf
    cp -R "$FIXTURES/cartridges/runner" runner
    while IFS= read -r cmd; do
        run bash -c "$cmd"
        [ "$status" -eq 0 ] || { echo "failed ($status): $cmd"; echo "$output"; false; }
    done < <(man_examples "$OSM_SRCDIR/man/osm-task.1")
}

@test "docs: the examples of osm-status(1) run" {
    # its examples name osm.db, the store of the current directory
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR OSM_DB=$BATS_TEST_TMPDIR/osm.db
    cp -R "$FIXTURES/cartridges/runner" runner
    while IFS= read -r cmd; do
        run bash -c "$cmd"
        [ "$status" -eq 0 ] || { echo "failed ($status): $cmd"; echo "$output"; false; }
    done < <(man_examples "$OSM_SRCDIR/man/osm-status.1")
}

@test "docs: the README's tour runs" {
    cp -R "$EXAMPLES" examples
    chmod -R u+w examples
    sed -n '/^A five-minute tour/,/^Documentation/p' "$OSM_SRCDIR/README" |
        sed -n 's/^    //p' | grep -v -e '^\./bootstrap' -e '^export ' >tour.sh
    [ -s tour.sh ]
    run bash -e tour.sh
    [ "$status" -eq 0 ] || { cat tour.sh; echo "$output"; false; }
}

# render PAGE: the page as text, in lines wide enough not to be broken,
# nor words hyphenated
render() {
    groff -t -man -Tascii -P-cbou -rLL=250n -rHY=0 "$1" 2>/dev/null
}

# section NAME: the lines of a rendered page's section NAME
section() {
    awk -v s="$1" '/^[A-Z]/ { on = ($0 == s); next } on'
}

# opt_args: the options in the text on stdin, each with its argument when
# it has one ("--interval DURATION", "-d DB", "--format json|table"),
# one a line, sorted
opt_args() {
    grep -oE -- '(^|[][ |,])--?[a-zA-Z][a-z-]*( [A-Z][A-Za-z_|.@-]*(\[@?[A-Z]+\])?| [a-z]+(\|[a-z]+)+)?' |
        sed 's/^[][ |,]*//' | sort -u
}

# help_synopsis PROG: the usage and verb lines of PROG's --help, without
# their descriptions
help_synopsis() {
    "$1" --help | sed -n '1,/^options:/p' | grep -E '^usage:|^ +[[-]|^ +osm-|^  [a-z]' | sed -E 's/([^ ])   +.*/\1/'
}

# pages: every manual page
pages() {
    ls "$OSM_SRCDIR"/man/*.[1-9]
}

@test "docs: --help's usage and the SYNOPSIS name the same options, with the same arguments" {
    for p in $(programs); do
        diff -u <(help_synopsis "$p" | opt_args) <(render "$OSM_SRCDIR/man/$p.1" | section SYNOPSIS | opt_args) ||
            { echo "$p: --help's usage (-) and the SYNOPSIS (+) differ"; false; }
    done
}

@test "docs: each option's argument has the same name in --help and OPTIONS" {
    for p in $(programs); do
        diff -u <("$p" --help | sed -n '/^options:/,$p' | grep -E '^ +-' | sed -E 's/^ +//; s/   +.*//' | opt_args | grep ' ') \
                <(render "$OSM_SRCDIR/man/$p.1" | section OPTIONS | grep -E '^       -' | opt_args | grep ' ') ||
            { echo "$p: --help's options (-) and OPTIONS (+) differ"; false; }
    done
}

# help_options PROG: the options list of PROG's --help, a line per option
# that takes an argument: "--long ARG", its short form beside it ("-x --long")
help_options() {
    "$1" --help | sed -n '/^options:/,$p' | grep -E '^ +-' | sed -E 's/^ +//; s/   +.*//' |
        while read -r line; do
            args=$(opt_args <<<"$line")
            long=$(grep -E '^--' <<<"$args" | head -1)
            short=$(grep -E '^-[a-zA-Z]$' <<<"$args" | head -1)
            [[ $long == *" "* ]] || continue
            echo "$long"
            [ -z "$short" ] || echo "$short ${long#* }"
        done
}

@test "docs: in --help the usage lines and the options list name each option's argument the same way" {
    for p in $(programs); do
        opts=$(help_options "$p")
        [ -n "$opts" ] || { echo "$p: no options with arguments in --help"; false; }
        while read -r o arg; do
            [ -n "$arg" ] || continue
            listed=$(awk -v o="$o" '$1 == o { print $2 }' <<<"$opts" | head -1)
            [ -z "$listed" ] || [ "$listed" = "$arg" ] ||
                { echo "$p: $o is $o $arg in the usage, $o $listed in the options list"; false; }
        done < <(help_synopsis "$p" | opt_args)
    done
}

@test "docs: osm(7) names every program in its DESCRIPTION and every page in SEE ALSO" {
    osm7=$(render "$OSM_SRCDIR/man/osm.7")
    for p in $(programs); do
        section DESCRIPTION <<<"$osm7" | grep -qF "$p(1)" || { echo "osm(7) DESCRIPTION: no $p(1)"; false; }
    done
    want=$(for f in $(pages); do n=${f##*/}; echo "${n%.*}(${n##*.})"; done | grep -vxF 'osm(7)' | sort)
    got=$(section "SEE ALSO" <<<"$osm7" | grep -oE 'osm(-[a-z]+)?\([0-9]\)' | sort)
    assert_equal "$got" "$want"
}

@test "docs: every SEE ALSO names osm(7) and every osm page the page refers to, each of which exists" {
    for f in $(pages); do
        n=${f##*/}
        self="${n%.*}(${n##*.})"
        text=$(render "$f")
        see=$(section "SEE ALSO" <<<"$text" | grep -oE 'osm(-[a-z]+)?\([0-9]\)' | sort -u)
        body=$(grep -v '^SEE ALSO' <<<"$text" | section_not_see_also | grep -oE 'osm(-[a-z]+)?\([0-9]\)' | sort -u | grep -vxF "$self" || true)
        [ "$self" = "osm(7)" ] || grep -qxF 'osm(7)' <<<"$see" || { echo "$self: SEE ALSO lacks osm(7)"; false; }
        for r in $body; do
            grep -qxF "$r" <<<"$see" || { echo "$self: refers to $r, which SEE ALSO lacks"; false; }
        done
        for r in $see; do
            m=${r%(*}; s=${r#*(}; s=${s%)}
            assert_file_exists "$OSM_SRCDIR/man/$m.$s"
        done
    done
}

# section_not_see_also: the rendered page but its SEE ALSO
section_not_see_also() {
    awk '/^[A-Z]/ { on = ($0 != "SEE ALSO") } on'
}

# exit_statuses: the statuses of a rendered EXIT STATUS section, in order
exit_statuses() {
    section "EXIT STATUS" | grep -oE '^       [0-9]+(, [0-9]+)*( |$)' | grep -oE '[0-9]+'
}

@test "docs: the exit statuses of every page are osm(7)'s, in order, and 69 means one thing" {
    all=$(render "$OSM_SRCDIR/man/osm.7" | exit_statuses)
    assert_equal "$(tr '\n' ' ' <<<"$all")" "0 1 2 65 66 69 70 73 74 75 77 78 "
    for p in $(programs); do
        text=$(render "$OSM_SRCDIR/man/$p.1")
        codes=$(exit_statuses <<<"$text")
        [ -n "$codes" ] || { echo "$p: no exit statuses"; false; }
        assert_equal "$p: $(sort -n <<<"$codes" | tr '\n' ' ')" "$p: $(tr '\n' ' ' <<<"$codes")"
        for c in $codes; do
            grep -qxF "$c" <<<"$all" || { echo "$p: exit status $c is not in osm(7)"; false; }
        done
        # 69: a program osm needs (Graphviz) is missing, wherever it is listed
        if grep -qx 69 <<<"$codes"; then
            section "EXIT STATUS" <<<"$text" | sed -n '/^       69/,/^       70/p' | grep -q Graphviz ||
                { echo "$p: 69 is not Graphviz missing"; false; }
        fi
    done
    render "$OSM_SRCDIR/man/osm.7" | section "EXIT STATUS" | sed -n '/^       69/,/^       70/p' | grep -q Graphviz
    # the README's summary lists the same statuses, 69 as osm(7) has it
    readme=$(sed -n '/^Exit statuses (all programs)/,/^$/p' "$OSM_SRCDIR/README" | tr '\n' ' ')
    assert_equal "$(grep -oE '(^|[ ,:])[0-9]+ [a-zA-Z]' <<<"$readme" | grep -oE '[0-9]+' | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$all")"
    grep -q '69 [^,]*Graphviz' <<<"$readme"
}

@test "docs: every page has the same footer: ISO date, osm and its version, the osm manual" {
    version=$(osm-run --version | awk '{ print $3 }')
    for f in $(pages); do
        th=$(grep -m 1 '^\.TH ' "$f")
        n=${f##*/}
        name=$(tr 'a-z' 'A-Z' <<<"${n%.*}")
        [[ $th =~ ^\.TH\ $name\ ${n##*.}\ [0-9]{4}-[0-9]{2}-[0-9]{2}\ \"osm\ $version\"\ \"osm\ manual\"$ ]] ||
            { echo "$n: $th"; false; }
    done
}

@test "docs: osm-run(1) says how asynchronous answers arrive, and SYNOPSIS shows --pretty" {
    text=$(render "$OSM_SRCDIR/man/osm-run.1")
    run grep -c 'later release' <<<"$text"
    assert_output 0
    section DESCRIPTION <<<"$text" >/dev/null
    grep -q 'delivered to the store with osm-task respond' <<<"$text"
    section SYNOPSIS <<<"$text" | grep -qF -- '[--pretty]'
}
