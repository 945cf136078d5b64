#!/usr/bin/env bats
# osm-cartridge test: a cartridge's tests/NAME.order.json run through a
# throwaway store and compared with NAME.expect.json, as TAP.

load helper

TESTED=$OSM_SRCDIR/tests/fixtures/cartridges/tested

@test "cartridge test: every test of the cartridge passes, as TAP, and no store is left behind" {
    run -0 --separate-stderr osm-cartridge test "$TESTED"
    assert_equal "$output" $'1..4\nok 1 - happy\nok 2 - invalid\nok 3 - refused\nok 4 - timer'
    assert_equal "$stderr" ""
    assert_file_not_exist "$OSM_DB"
}

@test "cartridge test: a mismatch is 'not ok' with a readable difference, and exit status 1" {
    copy_cartridge "$TESTED"
    echo '{"state": "failed", "plan": ["one"], "order": {"token": "T-9"}}' >tested/tests/happy.expect.json
    run -1 --separate-stderr osm-cartridge test tested
    assert_line --index 1 'not ok 1 - happy'
    assert_output --partial $'#   state: expected "failed"\n#   state:   actual "completed"'
    assert_output --partial $'#   plan: expected ["one"]\n#   plan:   actual ["one","price"]'
    assert_output --partial '#   order: expected to contain {"token":"T-9"}'
    assert_line 'ok 2 - invalid'
    assert_equal "$stderr" 'osm-cartridge: tested: 1 test failed'
}

@test "cartridge test: a packed cartridge is tested the same way" {
    osm-cartridge pack "$TESTED" -o tested.osmc >/dev/null
    run -0 osm-cartridge test tested.osmc
    assert_line 'ok 4 - timer'
}

@test "cartridge test: OSM_NOW sets the instant of a test without NAME.now" {
    copy_cartridge "$TESTED"
    echo '{"order": {"token": "T-1"}, "events": ["order.created", "order.planned", "order.state", "task.state", "hook", "task.state", "order.state"]}' >tested/tests/happy.expect.json
    OSM_NOW=2030-01-01T00:00:00Z run -0 osm-cartridge test tested
}

@test "cartridge test: a test without its expectation fails; no tests, no cartridge: 66" {
    copy_cartridge "$TESTED"
    rm tested/tests/timer.expect.json
    run -1 osm-cartridge test tested
    assert_output --partial $'not ok 4 - timer\n# tests/timer.expect.json is missing; the outcome was:'
    rm -r tested/tests
    run -66 --separate-stderr osm-cartridge test tested
    assert_equal "$stderr" 'osm-cartridge: tested: no tests (tests/NAME.order.json)'
    run -66 osm-cartridge test nowhere
    run -2 osm-cartridge test
}

@test "cartridge test: osm-cartridge init makes a cartridge whose tests pass" {
    osm-cartridge init demo >/dev/null
    run -0 osm-cartridge test demo
    assert_equal "$output" $'1..1\nok 1 - example'
}

@test "cartridge test: the shipped examples' tests pass, covering their main flows" {
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
    for c in broadband webshop; do
        run -0 osm-cartridge test "$EXAMPLES/$c"
        assert_line --index 0 --regexp '^1\.\.[0-9]+$'
        refute_line --partial 'not ok'
    done
    run -0 osm-cartridge test "$EXAMPLES/broadband"
    assert_equal "$(grep -c '^ok' <<<"$output")" 5
}
