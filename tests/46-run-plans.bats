#!/usr/bin/env bats
# osm-run plans a stored order that has no plan yet, as osm-plan would,
# so that osm-submit | osm-run is a pipeline that works.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# submit REF SPEC...: store (without planning) an order with one item per SPEC
submit() {
    local ref=$1 items="" i=0
    shift
    for spec in "$@"; do i=$((i + 1)); items="$items${items:+,}{\"id\":\"$i\",\"spec\":\"$spec\"}"; done
    echo "{\"kind\":\"job\",\"ref\":\"$ref\",\"items\":[$items]}"
}

@test "run-plans: osm-submit | osm-run plans the order and runs it to the end" {
    run -0 --separate-stderr bash -c "$(declare -f submit); submit J-1 B | osm-submit | osm-run"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.id, .state]' <<<"$output")" '[1,"completed"]'
    # the plan is recorded as osm-plan records it: revision 1, an order.planned event
    assert_equal "$(sql "select plan_revision from orders where id = 1")" 1
    assert_equal "$(sql "select count(*) from events where type = 'order.planned'")" 1
    assert_equal "$(sql "select actor from events where type = 'order.planned'")" "$(id -un)"
    run -0 osm-plan 1
    assert_equal "$(jq -r .kind <<<"$output")" plan
}

@test "run-plans: -v says an order was planned" {
    submit J-1 B | osm-submit >/dev/null
    run -0 --separate-stderr osm-run -v 1
    assert_equal "${stderr_lines[0]}" 'osm-run: order 1: planned, 1 task'
    run -0 --separate-stderr osm-run 1
    assert_equal "$stderr" ""
    assert_equal "$(jq -r .state <<<"$output")" completed
}

@test "run-plans: --all plans and runs every unplanned order; a planned one is not planned again" {
    submit J-1 B | osm-submit >/dev/null
    submit J-2 B | osm-submit --plan >/dev/null
    submit J-3 B | osm-submit >/dev/null
    run -0 --separate-stderr osm-run -v --all
    assert_equal "$(grep planned <<<"$stderr")" $'osm-run: order 1: planned, 1 task\nosm-run: order 3: planned, 1 task'
    assert_equal "$(sql "select state || '/' || plan_revision from orders order by id" | paste -sd' ')" 'completed/1 completed/1 completed/1'
    assert_equal "$(sql "select count(*) from events where type = 'order.planned'")" 3
}

@test "run-plans: --all --cartridge plans only that cartridge's orders" {
    submit J-1 B | osm-submit >/dev/null
    run -0 osm-run --all --cartridge other
    assert_equal "$(sql "select state || '/' || plan_revision from orders")" 'not_started/0'
    run -0 osm-run --all --cartridge runner
    assert_equal "$(sql "select state || '/' || plan_revision from orders")" 'completed/1'
}

@test "run-plans: an order that is no longer not_started is not planned" {
    submit J-1 B | osm-submit >/dev/null
    osm-task suspend 1 >/dev/null
    run -0 --separate-stderr osm-run 1
    assert_equal "$stderr" ""
    assert_equal "$(sql "select state || '/' || plan_revision from orders")" 'suspended/0'
}

# the counts of tasks and events and the orders' states, to compare
counts() {
    sql 'select count(*) from tasks'
    sql 'select count(*) from events'
    sql 'select state from orders order by id' | paste -sd,
}

@test "run-plans: --dry-run prints the plans it would make and the tasks ready now, and changes nothing" {
    submit J-1 B | osm-submit --plan >/dev/null
    submit J-2 B | osm-submit >/dev/null
    before=$(counts)
    run -0 --separate-stderr osm-run --dry-run --all
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.kind, .id, .function // .state]' <<<"$output" | tr '\n' ' ')" '["plan",2,"not_started"] ["task",1,"one"] '
    assert_equal "$(counts)" "$before"
    assert_file_not_exists calls
    run -0 osm-run -n 1
    assert_equal "$(jq -c '[.kind, .id, .order]' <<<"$output")" '["task",1,1]'
    run -0 osm-run -n -c other --all
    assert_equal "$output" ""
    run -66 --separate-stderr osm-run -n 9
    assert_equal "$stderr" 'osm-run: no such order: 9'
    run -2 --separate-stderr osm-run -n --loop
    assert_equal "${stderr_lines[0]}" 'osm-run: --dry-run says what would run now: not with --loop, --wait or --notify-only'
}

@test "run-plans: -c takes a cartridge name; a version or a path is refused" {
    run -2 --separate-stderr osm-run -c runner@1.0.0 --all
    assert_equal "${stderr_lines[0]}" 'osm-run: --cartridge: osm-run picks orders by cartridge NAME, whatever their version: "runner@1.0.0"'
    run -2 --separate-stderr osm-run --cartridge ./runner --all
}
