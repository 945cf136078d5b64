#!/usr/bin/env bats
# The progress display of long runs (lib/progress.c): on a terminal's
# standard error unless -q, off a terminal only with --progress, and a
# summary line at the end.  A terminal is given by script(1).

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# orders N: N orders of one automated task each, stored, in orders.json too
orders() {
    for i in $(seq "$1"); do
        echo "{\"kind\":\"job\",\"ref\":\"J-$i\",\"items\":[{\"id\":\"1\",\"spec\":\"B\"}]}"
    done >orders.json
}

@test "progress: osm-run on a terminal draws the line in place and ends with a summary" {
    orders 3
    osm-submit orders.json >/dev/null
    run -0 script -qec "osm-run --all" /dev/null
    # drawn in place: a carriage return and erase-line before each drawing
    assert_output --partial $'\r\e[Kosm-run: 0/3 tasks'
    assert_output --regexp $'\r\e\\[Kosm-run: 3 tasks in 0:0[0-9] \\([0-9.]+/s\\)'
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 3
}

@test "progress: -q silences it on a terminal; off a terminal nothing unless --progress" {
    orders 2
    osm-submit orders.json >/dev/null
    run -0 script -qec "osm-run -q --all" /dev/null
    assert_output ""
    orders 4
    osm-submit orders.json >/dev/null
    run -0 --separate-stderr osm-run --all
    assert_equal "$stderr" ""
    for i in 5 6; do echo "{\"kind\":\"job\",\"ref\":\"J-$i\",\"items\":[{\"id\":\"1\",\"spec\":\"B\"}]}"; done | osm-submit >/dev/null
    run -0 --separate-stderr osm-run --all --progress
    # off a terminal: whole lines, no redrawing
    assert_equal "${stderr_lines[0]}" 'osm-run: 0/2 tasks  0.0/s  0:00'
    assert_regex "${stderr_lines[1]}" '^osm-run: 2 tasks in 0:0[0-9] \([0-9.]+/s\)$'
    [[ "$stderr" != *$'\r'* ]]
    run -0 --separate-stderr osm-run -q --all --progress
    assert_equal "$stderr" ""
}

@test "progress: fallout is counted" {
    echo fail >mode.one
    orders 2
    osm-submit orders.json >/dev/null
    OSM_NOW=2026-11-26T09:00:00Z osm-run --all >/dev/null
    OSM_NOW=2026-11-26T09:01:00Z osm-run --all >/dev/null
    run -0 --separate-stderr env OSM_NOW=2026-11-26T09:10:00Z osm-run --all --progress
    assert_regex "${stderr_lines[-1]}" '^osm-run: 2 tasks in 0:0[0-9] \([0-9.]+/s\), 2 fallout$'
}

@test "progress: osm-submit of a stream, osm-status --purge, osm-cartridge test" {
    orders 3
    echo 'not json' >>orders.json
    run -65 --separate-stderr osm-submit --progress orders.json
    assert_equal "$(wc -l <<<"$output")" 3
    assert_regex "${stderr_lines[-1]}" '^osm-submit: 3 orders in 0:0[0-9] \([0-9./s-]+\)$'
    run -65 script -qec "osm-submit orders.json >/dev/null" /dev/null
    assert_output --partial $'\r\e[Kosm-submit: 1 orders'
    # a diagnostic clears the line first
    assert_output --partial $'\r\e[Kosm-submit: orders.json:4:4: parse error'
    osm-run --all >/dev/null
    run -0 --separate-stderr osm-status --purge --before +1d --progress
    assert_equal "$(jq -c .deleted <<<"$output")" 3
    assert_regex "${stderr_lines[-1]}" '^osm-status: 3 orders purged in 0:0[0-9] \([0-9./s-]+\)$'
    run -2 --separate-stderr osm-status --progress
    assert_equal "${stderr_lines[0]}" 'osm-status: --progress goes with --purge'
    run -0 --separate-stderr osm-cartridge test --progress "$FIXTURES/cartridges/tested"
    assert_regex "${stderr_lines[-1]}" '^osm-cartridge: [0-9]+ tests in [0-9]:[0-9]{2} \([0-9./s-]+\)$'
    run -0 --separate-stderr osm-cartridge test "$FIXTURES/cartridges/tested"
    assert_equal "$stderr" ""
}
