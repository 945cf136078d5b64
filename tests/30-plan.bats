#!/usr/bin/env bats
# osm-plan: decomposition, dependencies, schedule, storage, renderings.

load helper

PLANS=$OSM_SRCDIR/tests/fixtures/plan
PLANNER=$OSM_SRCDIR/tests/fixtures/cartridges/planner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z
    unset OSM_CONFIG
}

# plan_fixture NAME: the dry-run plan of NAME.order.json is NAME.plan.json,
# or the run fails with status 65 and exactly NAME.err
plan_fixture() {
    if [ -f "$PLANS/$1.err" ]; then
        run -65 --separate-stderr osm-plan -n -c "$PLANNER" <"$PLANS/$1.order.json"
        assert_equal "$stderr" "$(cat "$PLANS/$1.err")"
        assert_equal "$output" ""
    else
        run -0 --separate-stderr osm-plan -n -c "$PLANNER" <"$PLANS/$1.order.json"
        assert_equal "$stderr" ""
        diff -u <(jq -S . "$PLANS/$1.plan.json") <(jq -S . <<<"$output")
    fi
}

@test "plan: grouping per order, per system, per item and by a jq key; when; jq durations" { plan_fixture grouping; }
@test "plan: a selector chooses between two systems by region" { plan_fixture selector; }
@test "plan: an item relying on another waits for the other's own components" { plan_fixture relies; }
@test "plan: a future-dated order is worked back from its delivery date, delays included" { plan_fixture future; }
@test "plan: an order that cannot make its date is late, by how much" { plan_fixture late; }
@test "plan: an item date earlier than the order's wins for the components it is in" { plan_fixture itemdate; }
@test "plan: a cycle of item relations is refused before planning, named" {
    run -1 --separate-stderr osm-plan -n -c "$PLANNER" <"$PLANS/cycle.order.json"
    assert_equal "$stderr" "$(cat "$PLANS/cycle.err")"
}

@test "plan: a stored order is planned once; its tasks, dependencies and dates stored" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    run -0 --separate-stderr bash -c "osm-submit '$PLANS/future.order.json' | osm-plan"
    assert_equal "$stderr" ""
    first=$output
    assert_equal "$(jq -c '[.kind, .id, .state, .startDate, .expectedCompletion, ([.tasks[].id] | map(type))]' <<<"$first")" \
        '["plan",1,"not_started","2027-01-08T17:25:00Z","2027-01-10T00:00:00Z",["number","number","number","number"]]'
    assert_equal "$(sql "select plan_revision, CAST((start_at = $(epoch_ms 2027-01-08T17:25:00Z)) AS INTEGER), CAST((expected_at = $(epoch_ms 2027-01-10)) AS INTEGER), late_ms from orders")" '1|1|1|0'
    assert_equal "$(sql "select function, state, system, group_key, items, expected_ms, critical from tasks order by id")" \
        $'reserve|pending|stock-north|stock-north|["1"]|1800000|1\nbuild|pending|factory|1|["1"]|14400000|1\ndeliver|pending|carrier|order|["1"]|86400000|1\ninvoice|pending|billing|order|["1"]|300000|1'
    assert_equal "$(sql "select t.function, d.function, coalesce(p.delay_ms, 0) from task_deps p join tasks t on t.id = p.task_id join tasks d on d.id = p.depends_on order by t.id")" \
        $'build|reserve|0\ndeliver|build|0\ninvoice|deliver|7200000'
    assert_equal "$(sql "select CAST((not_before = $(epoch_ms 2027-01-08T17:25:00Z)) AS INTEGER) from tasks order by id limit 1")" 1
    assert_equal "$(sql "select type from events where order_id is not null order by id")" $'order.created\norder.planned'
    # again: the stored plan, nothing new
    OSM_NOW=2026-12-01T00:00:00Z run -0 osm-plan 1
    assert_equal "$output" "$first"
    assert_equal "$(sql 'select count(*) from tasks')" 4
}

@test "plan: a late order raises a jeopardy once" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    osm-submit "$PLANS/late.order.json" >/dev/null
    run -0 osm-plan 1
    assert_equal "$(jq -c '[.late, .lateBy]' <<<"$output")" '[true,"P1DT3H35M"]'
    assert_equal "$(sql "select type, data from events where type = 'jeopardy'" | json_rows 1 .lateBy)" 'jeopardy|P1DT3H35M'
    assert_equal "$(sql "select CAST((jeopardy_at IS NOT NULL) AS INTEGER), late_ms from orders")" '1|99300000'
    osm-plan 1 >/dev/null
    assert_equal "$(sql "select count(*) from events where type = 'jeopardy'")" 1
}

@test "plan: ids as arguments, and order documents on stdin" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    osm-submit "$PLANS/selector.order.json" "$PLANS/grouping.order.json" >orders.ndjson
    run -0 osm-plan 2 1
    assert_equal "$(jq -sc 'map(.externalId)' <<<"$output")" '["P-GROUP","P-SOUTH"]'
    run -0 osm-plan <orders.ndjson
    assert_equal "$(jq -sc 'map(.externalId)' <<<"$output")" '["P-SOUTH","P-GROUP"]'
    run -0 bash -c 'echo 1 2 | osm-plan'
    assert_equal "$(jq -sc 'map(.id)' <<<"$output")" '[1,2]'
}

@test "plan: unknown order 66, not an id 2, a cartridge without --dry-run 2" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    run -66 --separate-stderr osm-plan 7
    assert_equal "$stderr" "osm-plan: no such order: 7"
    run -2 --separate-stderr osm-plan seven
    assert_equal "${stderr_lines[0]}" 'osm-plan: "seven" is not an order id (an external id? name it ext:seven)'
    run -2 --separate-stderr osm-plan -c "$PLANNER" 1
    run -65 --separate-stderr osm-plan <<<'{"kind": "task", "id": 3}'
    assert_equal "$stderr" "osm-plan: <stdin>:1: expected an order id or an order document"
}

@test "plan: an order that failed at intake is refused (1), others go on" {
    osm-cartridge deploy "$FIXTURES/cartridges/gadgets" "$FIXTURES/cartridges/gadgets-premium" >/dev/null
    osm-submit "$FIXTURES/orders/premium-invalid.json" "$FIXTURES/orders/gadget-1.json" >/dev/null 2>&1 || true
    run -1 --separate-stderr osm-plan 1 2
    assert_equal "$stderr" "osm-plan: order 1: it is failed and has no plan: only a not_started order is planned"
    assert_equal "$(jq -r .id <<<"$output")" 2
}

@test "plan: an order whose items relate in a cycle is never stored, so never planned" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    run -1 --separate-stderr osm-submit --plan "$PLANS/cycle.order.json"
    assert_equal "$(sql 'select count(*) from orders')" 0
    assert_equal "$(sql 'select count(*) from tasks')" 0
}

@test "plan: --dry-run of a stored order stores nothing" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    osm-submit "$PLANS/selector.order.json" >/dev/null
    run -0 osm-plan -n 1
    assert_equal "$(jq -c '[.id, (.tasks | map(.id))]' <<<"$output")" '[1,[null,null,null,null]]'
    assert_equal "$(sql 'select count(*) from tasks')" 0
}

@test "plan: osm-submit --plan plans right after storing" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    run -0 osm-submit --plan "$PLANS/grouping.order.json"
    assert_equal "$(jq -c '[.kind, .id, (.tasks | length)]' <<<"$output")" '["plan",1,8]'
    assert_equal "$(sql 'select count(*) from tasks')" 8
}

@test "plan: --format dot renders with Graphviz" {
    command -v dot >/dev/null || skip "graphviz (dot) is not installed"
    osm-cartridge deploy "$PLANNER" >/dev/null
    osm-submit --plan "$PLANS/grouping.order.json" >/dev/null
    osm-plan 1 --format dot >plan.dot
    grep -q '^digraph' plan.dot
    dot -Tsvg plan.dot -o plan.svg
    grep -q '<svg' plan.svg
    [ "$(grep -c '<g id="node' plan.svg)" -eq 8 ]
}

@test "plan: --format table is a Gantt listing, one row per task" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    osm-submit --plan "$PLANS/late.order.json" >/dev/null
    run -0 osm-plan 1 --format table
    assert_line --index 0 --partial 'P-LATE'
    assert_line --partial 'LATE'
    assert_equal "$(grep -cE '^t[0-9]+ ' <<<"$output")" 4
    # the plan's names beside the ids osm-task and osm-status take, and a bar on every row
    assert_line --index 1 --regexp '^TASK +ID +FUNCTION +SYSTEM +ITEMS +START +DURATION'
    for id in $(sql 'select id from tasks where order_id = 1 order by id'); do
        assert_line --regexp "^t[0-9]+ +$id .*[#=]"
    done
    run -2 --separate-stderr osm-plan 1 --format png
}

@test "plan: every plan printed matches specs/plan.schema.json" {
    for f in "$PLANS"/*.order.json; do
        osm-plan -n -c "$PLANNER" <"$f" 2>/dev/null || true
    done >plans.ndjson
    schemacheck -r "$OSM_SRCDIR/specs/plan.schema.json" plans.ndjson
}

@test "plan: the broadband sample orders all plan" {
    osm-cartridge deploy "$EXAMPLES/broadband" >/dev/null
    run -0 --separate-stderr osm-submit --plan "$EXAMPLES"/broadband/orders/[0-9]*.json
    assert_equal "$stderr" ""
    assert_equal "$(jq -s 'map(select(.kind == "plan" and (.tasks | length) > 0)) | length' <<<"$output")" \
        "$(ls "$EXAMPLES"/broadband/orders/[0-9]*.json | wc -l)"
}

@test "plan: a stored plan printed again lists every task's dependencies as at planning time" {
    osm-cartridge deploy "$PLANNER" >/dev/null
    for f in grouping relies itemdate selector; do
        first=$(osm-submit "$PLANS/$f.order.json" | osm-plan)
        id=$(jq -r .id <<<"$first")
        again=$(osm-plan "$id")
        assert_equal "$(jq -c '[.tasks[] | [.key, [.after[].task]]]' <<<"$again")" \
            "$(jq -c '[.tasks[] | [.key, [.after[].task]]]' <<<"$first")"
        # in task order
        assert_equal "$(jq -c '[.tasks[].after | map(.task) | . == sort] | all' <<<"$first")" true
    done
}
