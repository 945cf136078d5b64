#!/usr/bin/env bats
# What every program's command line shares (lib/cli.c): "-" for standard
# input, orders named by external id, the same words for unknown options
# and verbs, usage instead of waiting on a terminal, and the forms of
# durations and dates.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# submit REF: store an order of one item (not planned)
submit() {
    echo "{\"kind\":\"job\",\"ref\":\"$1\",\"items\":[{\"id\":\"1\",\"spec\":\"B\"}]}" | osm-submit >/dev/null
}

@test "cli: unknown options say so the same way in every program, with a suggestion when one is close" {
    for p in osm-cartridge osm-plan osm-revise osm-run osm-status osm-submit osm-task osm-validate; do
        run -2 --separate-stderr $p --bogus-option
        assert_equal "${stderr_lines[0]}" "$p: unknown option \"--bogus-option\""
        assert_equal "${stderr_lines[1]}" "Try '$p --help' for more information."
        run -2 --separate-stderr $p -Z
        assert_equal "${stderr_lines[0]}" "$p: unknown option \"-Z\""
    done
    run -2 --separate-stderr osm-run --cartrige runner 1
    assert_equal "${stderr_lines[0]}" 'osm-run: unknown option "--cartrige" (did you mean "--cartridge"?)'
    run -2 --separate-stderr osm-status --extrnal-id=X
    assert_equal "${stderr_lines[0]}" 'osm-status: unknown option "--extrnal-id" (did you mean "--external-id"?)'
    run -2 --separate-stderr osm-run --pretty=yes 1
    assert_equal "${stderr_lines[0]}" 'osm-run: option "--pretty" takes no argument'
    run -2 --separate-stderr osm-run --ver
    assert_equal "${stderr_lines[0]}" 'osm-run: option "--ver" is ambiguous: say which'
    run -2 --separate-stderr osm-run -j
    assert_equal "${stderr_lines[0]}" 'osm-run: option "-j" needs an argument'
    run -2 --separate-stderr osm-run --jobs
    assert_equal "${stderr_lines[0]}" 'osm-run: option "--jobs" needs an argument'
}

@test "cli: unknown verbs get a did-you-mean" {
    run -2 --separate-stderr osm-cartridge deplyo x
    assert_equal "${stderr_lines[0]}" 'osm-cartridge: unknown verb "deplyo" (did you mean "deploy"?)'
    run -2 --separate-stderr osm-task clam 1
    assert_equal "${stderr_lines[0]}" 'osm-task: unknown verb "clam" (did you mean "claim"?)'
    run -2 --separate-stderr osm-task frobnicate 1
    assert_equal "${stderr_lines[0]}" 'osm-task: unknown verb "frobnicate"'
}

@test "cli: - is standard input wherever ids are taken" {
    submit J-1
    submit J-2
    run -0 --separate-stderr osm-plan - <<<'1'
    assert_equal "$(jq -c '[.kind, .id]' <<<"$output")" '["plan",1]'
    run -0 --separate-stderr osm-plan 2 - <<<'1'
    assert_equal "$(jq -c .id <<<"$output" | tr '\n' ' ')" '2 1 '
    run -0 --separate-stderr osm-task suspend - <<<'{"kind":"order","id":2}'
    assert_equal "$(sql 'select state from orders where id = 2')" suspended
    run -0 --separate-stderr osm-task resume 2
    run -0 --separate-stderr osm-run - <<<'1'
    assert_equal "$(jq -c '[.id, .state]' <<<"$output")" '[1,"completed"]'
    run -0 --separate-stderr osm-status - <<<'2'
    assert_equal "$(jq -c .id <<<"$output")" 2
    run -0 --separate-stderr osm-revise --cancel - <<<'2'
    assert_equal "$(sql 'select state from orders where id = 2')" cancelled
}

@test "cli: orders are named by external id with ext: in every program" {
    submit J-1
    submit J-2
    run -0 --separate-stderr osm-plan ext:J-1
    assert_equal "$(jq -c '[.kind, .id]' <<<"$output")" '["plan",1]'
    run -0 --separate-stderr osm-run ext:J-1
    assert_equal "$(jq -c '[.id, .state]' <<<"$output")" '[1,"completed"]'
    run -0 --separate-stderr osm-status ext:J-2
    assert_equal "$(jq -c '[.id, .externalId]' <<<"$output")" '[2,"J-2"]'
    run -0 --separate-stderr osm-status --external-id J-2
    assert_equal "$(jq -c .id <<<"$output")" 2
    run -0 --separate-stderr osm-task suspend ext:J-2
    assert_equal "$(sql 'select state from orders where id = 2')" suspended
    run -0 --separate-stderr osm-revise --cancel ext:J-2
    assert_equal "$(sql 'select state from orders where id = 2')" cancelled
    run -66 --separate-stderr osm-status ext:NOPE
    assert_equal "$stderr" 'osm-status: no order has the external id "NOPE"'
    run -66 --separate-stderr osm-run ext:NOPE
    assert_equal "$stderr" 'osm-run: no order has the external id "NOPE"'
}

@test "cli: a bare external id is not an order id, and the message says how to name it" {
    submit CRM-100001
    for p in osm-status osm-plan osm-run "osm-task suspend" "osm-revise --cancel"; do
        run -2 --separate-stderr $p CRM-100001
        assert_equal "${stderr_lines[0]}" "${p%% *}: \"CRM-100001\" is not an order id (an external id? name it ext:CRM-100001)"
    done
    run -2 --separate-stderr osm-plan 0
    assert_equal "${stderr_lines[0]}" 'osm-plan: "0" is not an order id'
}

@test "cli: a program that reads orders on a terminal with nothing given prints its usage, exit 2" {
    for p in osm-run osm-plan osm-submit osm-validate "osm-task suspend" "osm-revise --cancel" "osm-revise 1" "osm-task respond --correlation X"; do
        # script passes the program's status on with -e; its output is the terminal's
        run script -qec "$p; echo \"exit=\$?\"" /dev/null
        assert_output --partial "usage: ${p%% *}"
        assert_output --partial "exit=2"
    done
    # with input given on the terminal's behalf nothing changes
    submit J-1
    run -0 script -qec "echo 1 | osm-plan" /dev/null
    assert_output --partial '"kind":"plan"'
}

@test "cli: durations as 5s, 90m, 1h30m, 2d or ISO 8601; dates as RFC 3339, now, -2h" {
    submit J-1
    run -0 osm-status --since -1h
    assert_equal "$(jq -c .id <<<"$output")" 1
    run -0 osm-status --since +1m
    assert_equal "$output" ""
    run -0 osm-status --until +1d
    assert_equal "$(jq -c .id <<<"$output")" 1
    run -0 osm-status --since 2026-11-26T08:00:00Z --until 2026-11-26
    assert_equal "$output" ""
    run -0 osm-run --wait --timeout 1h30m 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    run -0 osm-status --wait --timeout 2d 1
    run -0 osm-status --wait --timeout PT5S 1
    run -2 --separate-stderr osm-run --wait --timeout '5 minutes' 1
    assert_equal "${stderr_lines[0]}" 'osm-run: --timeout: not a duration: "5 minutes" (e.g. 200ms, 0.2s, 2m, 1h30m, 2d or PT5S)'
}

@test "cli: every program's short options follow the one table of osm(7)" {
    table=$(sed -n '/^A short option means the same/,/^\.TE/p' "$OSM_SRCDIR/man/osm.7" | grep -P '^\\-[a-zA-Z]\t' | sed 's/\\//g' | cut -f1,2)
    [ -n "$table" ]
    for f in "$OSM_SRCDIR"/bin/osm-*.c; do
        p=$(basename "$f" .c)
        while read -r short long; do
            long=${long%,}
            want=$(awk -F'\t' -v s="$short" '$1 == s { print $2 }' <<<"$table")
            [ "$want" = "$long" ] || { echo "$p: $short is $long, the table says \"$want\""; false; }
            # and the program lists it where the table says it does
            sed -n "/^\\\\$short\t/p" "$OSM_SRCDIR/man/osm.7" | sed 's/\\//g' | grep -qE "$p|every program" ||
                { echo "$p: $short $long is not in the table's row"; false; }
        done < <("$p" --help | grep -oE '^  -[a-zA-Z], --[a-z-]+' | sed 's/^  //; s/,$//' | tr -d ',')
    done
    # the older spellings keep working
    osm-cartridge deploy "$RUNNER" >/dev/null
    run -0 osm-task list -w nobody
    run -0 osm-task list -g nobody
    run -0 osm-status -n 1 -a
}

@test "cli: --jq shapes the documents of every program that prints them" {
    submit J-1
    run -0 osm-plan --jq '[.kind, .id]' 1
    assert_output '["plan",1]'
    run -0 osm-run --jq '.state' ext:J-1
    assert_output '"completed"'
    run -0 osm-cartridge list --jq '.name'
    assert_output '"runner"'
    run -0 osm-task show 1 --jq '.function'
    assert_output '"one"'
    run -0 osm-submit --jq '.externalId' <<<'{"kind":"job","ref":"J-2","items":[{"id":"1","spec":"B"}]}'
    assert_output '"J-2"'
    run -0 osm-validate --jq '.valid' <<<'{"kind":"job","ref":"J-3","items":[{"id":"1","spec":"B"}]}'
    assert_output 'true'
    run -0 osm-revise --cancel --jq '[.kind, .id]' 2
    assert_output '["revision",2]'
    # several outputs, and none
    run -0 osm-plan --jq '.tasks[].function, empty' 1
    assert_output '"one"'
    run -2 --separate-stderr osm-run --jq '.[' 1
    assert_equal "${stderr_lines[0]}" 'osm-run: --jq: syntax error, unexpected end of program'
    run -65 --separate-stderr osm-plan --jq 'error("no")' 1
    assert_equal "$stderr" 'osm-plan: --jq: no'
}

@test "cli: --format table on a verb that has no table is a usage error" {
    run -2 --separate-stderr osm-cartridge show runner --format table
    assert_equal "${stderr_lines[0]}" 'osm-cartridge: --format table: "show" prints documents only (list and check have a table)'
    run -2 --separate-stderr osm-task --format table show 1
    assert_equal "${stderr_lines[0]}" 'osm-task: --format table: "show" prints documents only (list has a table)'
    run -0 osm-cartridge list --format table
    assert_line --index 0 --regexp '^NAME +VERSION'
    run -0 osm-task list --format table
}

@test "cli: tables size columns to their content, show - for empty cells, colour states on a terminal" {
    copy_cartridge "$FIXTURES/cartridges/minimal" long
    jq '.name = "a-cartridge-with-a-rather-long-name"' long/cartridge.json >m && mv m long/cartridge.json
    osm-cartridge -q deploy long >/dev/null
    run -0 osm-cartridge list --format table
    assert_line --index 0 'NAME                                 VERSION  DEFAULT  OPEN  DEPLOYED          SHA256'
    assert_line --index 1 --regexp '^a-cartridge-with-a-rather-long-name  1\.0\.0    yes      0     2026-11-26 09:00  [0-9a-f]{12}$'
    assert_line --index 2 --regexp '^runner                               1\.0\.0    yes      0     2026-11-26 09:00  [0-9a-f]{12}$'
    # a task waiting for a person: the empty assignee and error are "-"
    echo '{"kind":"job","ref":"J-1","items":[{"id":"1","spec":"M"}]}' | osm-submit >/dev/null
    osm-run 1 >/dev/null
    run -0 osm-task list --format table
    assert_line --index 0 'TASK  ORDER  FUNCTION  KIND    STATE    WORKGROUP  ASSIGNEE  ERROR'
    assert_line --index 1 '2     1      check     manual  waiting  checkers   -         -'
    # colours on a terminal, not with NO_COLOR, never in a pipe
    run -0 script -qec "osm-task list --format table" /dev/null
    assert_output --partial $'\e[0m'
    run -0 script -qec "NO_COLOR=1 osm-task list --format table" /dev/null
    refute_output --partial $'\e['
    run -0 osm-task list --format table
    refute_output --partial $'\e['
}
