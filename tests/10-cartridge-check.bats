#!/usr/bin/env bats
# osm-cartridge check: every problem of a cartridge, with file and field.
# Each broken fixture in tests/fixtures/cartridges/ is one class of problem;
# its .expect file holds exactly the diagnostics check must print.

load helper

# check_fixture NAME: check must exit 78 and print exactly NAME.expect
check_fixture() {
    cd "$FIXTURES/cartridges"
    run -78 --separate-stderr osm-cartridge -q check "$1"
    diff -u "$1.expect" <(printf '%s\n' "$stderr")
    [ "$(jq -r .valid <<<"$output")" = false ]
    [ "$(jq '.problems | length' <<<"$output")" = "$(wc -l <"$1.expect")" ]
}

@test "check: a valid cartridge passes with an empty report" {
    run -0 --separate-stderr osm-cartridge check "$FIXTURES/cartridges/minimal"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '{kind, cartridge, version, valid, problems, warnings}' <<<"$output")" \
        '{"kind":"check","cartridge":"minimal","version":"1.0.0","valid":true,"problems":[],"warnings":[]}'
}

@test "check: manifest that is not JSON" { check_fixture broken-json; }
@test "check: schema violations, all of them" { check_fixture broken-schema; }
@test "check: jq that does not compile, inline and in files" { check_fixture broken-jq; }
@test "check: dangling references to functions, systems, workgroups, files" { check_fixture broken-refs; }
@test "check: cycles in after, named" { check_fixture broken-cycle; }
@test "check: unknown fulfillment states" { check_fixture broken-states; }
@test "check: hook commands naming missing or non-executable files" { check_fixture broken-hooks; }
@test "check: a directory without cartridge.json" { check_fixture no-manifest; }

@test "check: warnings go to stderr, -q silences them, the status stays 0" {
    copy_cartridge "$FIXTURES/cartridges/minimal" warn
    jq '.functions.spare = {kind: "automated", system: "factory"}' warn/cartridge.json >m
    mv m warn/cartridge.json
    run -0 --separate-stderr osm-cartridge check warn
    assert_equal "$stderr" 'osm-cartridge: warn: cartridge.json: .functions.spare: warning: function "spare" is not used by any pattern'
    assert_equal "$(jq -c .warnings <<<"$output")" \
        '[{"file":"cartridge.json","path":".functions.spare","message":"function \"spare\" is not used by any pattern"}]'
    run -0 --separate-stderr osm-cartridge -q check warn
    assert_equal "$stderr" ""
}

@test "check: several cartridges, worst status wins, each reported" {
    cd "$FIXTURES/cartridges"
    run -78 --separate-stderr osm-cartridge -q check minimal broken-cycle
    assert_equal "$(jq -sc 'map(.valid)' <<<"$output")" '[true,false]'
}

@test "check: --format table lists problems under each cartridge" {
    cd "$FIXTURES/cartridges"
    run -78 --separate-stderr osm-cartridge -q --format table check minimal broken-cycle
    assert_line --index 0 --regexp '^minimal +ok$'
    assert_line --index 1 --regexp '^broken-cycle +FAILED$'
    assert_line '    cartridge.json: .functions.design.after: functions depend on each other in a cycle: design -> test -> make -> design'
}

@test "check: a missing path is 66" {
    run -66 --separate-stderr osm-cartridge check nowhere
    assert_equal "$stderr" "osm-cartridge: nowhere: No such file or directory"
}

@test "check: the shipped examples pass" {
    for d in "$EXAMPLES"/*/; do
        run -0 --separate-stderr osm-cartridge -q check "$d"
        assert_equal "$(jq -r .valid <<<"$output")" true
    done
}

@test "check: a broken jq file used by several fields is reported once" {
    copy_cartridge "$FIXTURES/cartridges/minimal" shared
    echo '.a |' >shared/v.jq
    jq '.orderTypes.thing.validate = "@v.jq" | .orderTypes.other = {recognize: ".type == \"other\"", relevancy: 6, validate: "@v.jq"}' \
        shared/cartridge.json >m && mv m shared/cartridge.json
    run -78 --separate-stderr osm-cartridge -q check shared
    assert_equal "${#stderr_lines[@]}" 1
    assert_regex "$stderr" '^osm-cartridge: shared: v\.jq: \.: jq does not compile \(used by \.orderTypes\.[a-z]+\.validate\): '
}
