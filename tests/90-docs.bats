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
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
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
