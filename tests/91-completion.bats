#!/usr/bin/env bats
# Shell completion (share/completion/): the bash completion driven as
# bash does it (COMP_WORDS, COMP_CWORD, then COMPREPLY), over a store
# with orders, tasks and cartridges; the zsh completion with compsys's
# builtins replaced by stubs that print what would be offered.

load helper

# programs: every osm program, one a line
programs() {
    for f in "$OSM_SRCDIR"/bin/osm-*.c; do basename "$f" .c; done
}

BASH_COMPLETION=$OSM_SRCDIR/share/completion/osm.bash
ZSH_COMPLETION=$OSM_SRCDIR/share/completion/_osm

# complete WORD...: what the completion offers for the last word,
# sorted, on one line
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _osm
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# A store with two broadband orders: order 1 waits for a technician (its
# install task), order 2 (a self-install) is completed.
make_store() {
    osm-cartridge deploy "$EXAMPLES/broadband" >/dev/null
    osm-submit --plan "$EXAMPLES/broadband/orders/01-dsl-install.json" \
        "$EXAMPLES/broadband/orders/02-dsl-self-install.json" >/dev/null
    osm-run --all >/dev/null
    OSM_NOW=2026-11-26T12:00:00Z osm-run --all >/dev/null
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T10:00:00Z
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
    unset OSM_CONFIG
    # shellcheck source=share/completion/osm.bash
    source "$BASH_COMPLETION"
}

@test "completion: every program is completed by _osm" {
    for p in $(programs); do
        run complete -p "$p"
        assert_output "complete -F _osm $p"
    done
}

@test "completion: the options of each program are those of its --help" {
    for p in $(programs); do
        want=$("$p" --help | grep -oE -- '(^|[[ ,])--[a-z][a-z-]*' | sed 's/^[[ ,]*//' | sort -u | tr '\n' ' ' | sed 's/ $//')
        assert_equal "$p: $(complete_words "$p" --)" "$p: $want"
    done
    assert_equal "$(complete_words osm-run --sys)" --system
    assert_equal "$(complete_words osm-status --pre)" --pretty
    # short options too, with a single dash
    [[ " $(complete_words osm-task -) " == *" -g "* ]]
}

@test "completion: verbs, and the verbs of osm-task order and workgroup" {
    assert_equal "$(complete_words osm-cartridge '')" "check default deploy export init list pack show test undeploy"
    assert_equal "$(complete_words osm-cartridge de)" "default deploy"
    assert_equal "$(complete_words osm-task '')" \
        "abort assign claim complete fail list order release resolve respond resume retry show skip suspend workgroup"
    assert_equal "$(complete_words osm-task order '')" "abort fail resolve resume suspend"
    assert_equal "$(complete_words osm-task workgroup '')" "add list remove"
    # options before the verb are skipped, with their arguments
    assert_equal "$(complete_words osm-task -d "$OSM_DB" --format table wo)" workgroup
}

@test "completion: option arguments: formats and states from --help, files" {
    assert_equal "$(complete_words osm-plan --format '')" "dot json svg table"
    assert_equal "$(complete_words osm-status --format t)" table
    assert_equal "$(complete_words osm-status --format = h)" html
    assert_equal "$(complete_words osm-status -s c)" "cancelled cancelling completed"
    assert_equal "$(complete_words osm-task list --state cl)" claimed
    touch order-a.json order-b.json
    assert_equal "$(complete_words osm-submit order-)" "order-a.json order-b.json"
    assert_equal "$(complete_words osm-status --db order-a)" order-a.json
}

@test "completion: order ids, task ids, workgroups and cartridges from the store" {
    make_store
    assert_equal "$(osm-status 1 | jq -r .state) $(osm-status 2 | jq -r .state)" "in_progress completed"
    # every order for osm-status and osm-plan; open ones for osm-run and osm-revise
    assert_equal "$(complete_words osm-status '')" "1 2"
    assert_equal "$(complete_words osm-plan '')" "1 2"
    assert_equal "$(complete_words osm-run '')" 1
    assert_equal "$(complete_words osm-revise --cancel '')" 1
    assert_equal "$(complete_words osm-task suspend '')" 1
    assert_equal "$(complete_words osm-task order resume '')" 1
    # the install task waiting for a technician
    task=$(osm-task list --workgroup field-tech | jq -r .id)
    [ -n "$task" ]
    assert_equal "$(complete_words osm-task claim '')" "$task"
    assert_equal "$(complete_words osm-task list --workgroup f)" field-tech
    assert_equal "$(complete_words osm-cartridge show '')" "broadband broadband@1.0.0"
    assert_equal "$(complete_words osm-status --cartridge b)" "broadband broadband@1.0.0"
    assert_equal "$(complete_words osm-cartridge undeploy broadband@)" broadband@1.0.0
}

@test "completion: the store named by -d or --db on the command line" {
    require_sqlite "moves the store's file and its -wal and -shm files"
    make_store
    mv osm.db other.db
    mv osm.db-wal other.db-wal 2>/dev/null || true
    mv osm.db-shm other.db-shm 2>/dev/null || true
    export OSM_DB=$BATS_TEST_TMPDIR/none.db
    assert_equal "$(complete_words osm-status '')" ""
    assert_equal "$(complete_words osm-status -d other.db '')" "1 2"
    assert_equal "$(complete_words osm-status --db other.db '')" "1 2"
    assert_equal "$(complete_words osm-status --db = other.db '')" "1 2"
    # no store, nothing offered and nothing created
    assert_equal "$(complete_words osm-run -d missing.db '')" ""
    assert_file_not_exists missing.db
}

@test "completion: a program typed with its directory completes from there" {
    make_store
    PATH=/usr/bin:/bin
    assert_equal "$(complete_words "$OSM_BUILDDIR/bin/osm-status" '')" "1 2"
    assert_equal "$(complete_words "$OSM_BUILDDIR/bin/osm-run" --sys)" --system
}

@test "completion: zsh: the same offers through compsys" {
    command -v zsh >/dev/null || skip "zsh is not installed"
    make_store
    run zsh -n "$ZSH_COMPLETION"
    assert_success
    assert_equal "$(head -n 1 "$ZSH_COMPLETION")" \
        "#compdef $(programs | tr '\n' ' ' | sed 's/ $//')"
    # compadd prints what it is given; zsh itself would keep the words
    # that match what is typed
    cat >z.zsh <<EOF
compadd() { while [[ \$1 == -* && \$1 != -- ]]; do [[ \$1 == -X ]] && shift; shift; done
            [[ \$1 == -- ]] && shift; print -r -- "\$*"; }
_files() { print -r -- "(files)"; }
_users() { print -r -- "(users)"; }
compset() { : }
z() { words=("\$@"); CURRENT=\$#words; source "$ZSH_COMPLETION"; print -r -- ";"; }
z osm-cartridge ''
z osm-task order ''
z osm-plan --format ''
z osm-status ''
z osm-run ''
z osm-cartridge show ''
z osm-submit ''
z osm-status -d nowhere.db ''
z osm-status --format=t
EOF
    run zsh -f z.zsh
    assert_success
    assert_equal "$(tr '\n' ' ' <<<"$output")" "check default deploy export init list pack show test undeploy ; \
abort fail resolve resume suspend ; json dot svg table ; 1 2 ; 1 ; broadband broadband@1.0.0 ; (files) ; ; \
json table prometheus html ; "
}
