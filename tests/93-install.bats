#!/usr/bin/env bats
# make install (into a DESTDIR): the programs and manual pages, the shell
# completion where bash and zsh look for it, the README and the examples
# under the doc directory, from which the README's tour runs; and make
# uninstall takes them away again.

load helper

# programs: every osm program, one a line
programs() {
    for f in "$OSM_SRCDIR"/bin/osm-*.c; do basename "$f" .c; done
}

# a variable of the build's Makefile (prefix, datadir, docdir...), expanded
makevar() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$OSM_BUILDDIR" --no-print-directory \
        -f Makefile -f - print-var VAR="$1" <<'EOF'
print-var:
	@echo '$($(VAR))'
EOF
}

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$OSM_BUILDDIR" install \
        DESTDIR="$BATS_FILE_TMPDIR/root" >install.log 2>&1
    echo $? >install.status
}

setup() {
    cd "$BATS_FILE_TMPDIR" || return 1
    export OSM_NOW=2026-11-26T10:00:00Z
    unset OSM_CONFIG OSM_DB
    root=$BATS_FILE_TMPDIR/root
    [ "$(cat install.status)" = 0 ] || { cat install.log; false; }
}

@test "install: the programs and their manual pages" {
    bindir=$(makevar bindir)
    mandir=$(makevar mandir)
    for p in $(programs); do
        assert_file_executable "$root$bindir/$p"
        assert_file_exists "$root$mandir/man1/$p.1"
    done
    assert_file_exists "$root$mandir/man7/osm.7"
}

@test "install: bash completion in bash-completion's directory, a file per program" {
    datadir=$(makevar datadir)
    prefix=$(makevar prefix)
    dir=$(pkg-config --define-variable=prefix="$prefix" --define-variable=datadir="$datadir" \
              --variable=completionsdir bash-completion 2>/dev/null) || true
    : "${dir:=$datadir/bash-completion/completions}"
    assert_equal "$(makevar bashcompletiondir)" "$dir"
    for p in $(programs); do
        assert_file_exists "$root$dir/$p"
        cmp "$root$dir/$p" "$OSM_SRCDIR/share/completion/osm.bash"
    done
    # what bash-completion does when osm-run is first completed
    run bash -c "source '$root$dir/osm-run' && complete -p osm-run"
    assert_output "complete -F _osm osm-run"
}

@test "install: zsh completion in zsh's site-functions" {
    datadir=$(makevar datadir)
    cmp "$root$datadir/zsh/site-functions/_osm" "$OSM_SRCDIR/share/completion/_osm"
}

@test "install: the README and the examples under the doc directory, hooks executable" {
    docdir=$(makevar docdir)
    cmp "$root$docdir/README" "$OSM_SRCDIR/README"
    (cd "$OSM_SRCDIR" && find examples -type f | sort) >want
    (cd "$root$docdir" && find examples -type f | sort) >got
    assert_equal "$(cat got)" "$(cat want)"
    assert_file_executable "$root$docdir/examples/broadband/hooks/billing.sh"
    assert_file_executable "$root$docdir/examples/demo.sh"
    # the README says where they go and how to use them
    grep -qF "cp -R $docdir/examples ." "$OSM_SRCDIR/README" ||
        grep -qF 'cp -R /usr/local/share/doc/osm/examples .' "$OSM_SRCDIR/README"
}

@test "install: the README's tour runs from the installed copy" {
    docdir=$(makevar docdir)
    bindir=$(makevar bindir)
    mkdir tour && cd tour
    cp -R "$root$docdir/examples" . && chmod -R u+w examples
    sed -n '/^A five-minute tour/,/^Documentation/p' "$root$docdir/README" |
        sed -n 's/^    //p' | grep -v -e '^\./bootstrap' -e '^export ' >tour.sh
    [ -s tour.sh ]
    PATH=$root$bindir:/usr/bin:/bin OSM_DB=$PWD/tour.db OSM_SIM_DIR=$PWD/sim run bash -e tour.sh
    [ "$status" -eq 0 ] || { cat tour.sh; echo "$output"; false; }
    assert_file_exists tour.db
}

@test "install: make uninstall takes it all away" {
    cp -R root root2
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$OSM_BUILDDIR" uninstall \
        DESTDIR="$BATS_FILE_TMPDIR/root2" >uninstall.log 2>&1
    assert_equal "$(find root2 -type f)" ""
}
