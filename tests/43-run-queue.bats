#!/usr/bin/env bats
# The ready queue (migration 003): which tasks may be claimed is kept as
# tasks finish, and claims still follow priority, not-before and id.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    # the runner cartridge, with an order priority and a due date per order
    copy_cartridge "$RUNNER" runner
    jq '.orderTypes.job.priority = ".prio // 5"' runner/cartridge.json >m && mv m runner/cartridge.json
    osm-cartridge deploy runner >/dev/null
}

# job REF SPEC [JSON...]: submit and plan a one-item order, extra fields merged
job() {
    jq -nc --arg ref "$1" --arg spec "$2" --argjson extra "${3:-{\}}" \
        '{kind: "job", ref: $ref, items: [{id: "1", spec: $spec}]} + $extra' | osm-submit --plan >/dev/null
}

# open dependencies and readiness of each task, in id order
queue() {
    sql "select function || ':' || deps_open || (case when state = 'pending' and deps_open = 0 and held = 0 then '*' else '' end) from tasks where kind <> 'fallout' order by id" | tr '\n' ' ' | sed 's/ $//'
}

@test "queue: a plan's tasks count their open dependencies; only those with none are ready" {
    job Q-1 A
    assert_equal "$(queue)" 'prepare:0* left:1 right:1 price:1 finish:3'
}

@test "queue: a dependency finishing makes exactly its dependants ready" {
    job Q-1 A
    osm-run --max-tasks 1 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'prepare'")" completed
    assert_equal "$(queue)" 'prepare:0 left:0* right:0* price:1 finish:3'
    # right finishes: finish still waits for left and price
    osm-run --function right 1 >/dev/null
    assert_equal "$(queue)" 'prepare:0 left:0* right:0 price:1 finish:2'
    # left finishes: price (a rule) runs with it, and finish is ready
    osm-run --function left 1 >/dev/null
    osm-run --function price 1 >/dev/null
    assert_equal "$(queue)" 'prepare:0 left:0 right:0 price:0 finish:0*'
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state from orders")" completed
}

@test "queue: a failed dependency holds its dependants; skipping it releases them" {
    echo fail >mode.prepare
    job Q-1 A
    OSM_NOW=2026-11-26T09:00:00Z osm-run 1 >/dev/null
    for t in 09:01 09:03 09:10; do OSM_NOW=2026-11-26T$t:00Z osm-run 1 >/dev/null; done
    assert_equal "$(sql "select state from tasks where function = 'prepare' and kind <> 'fallout'")" failed
    assert_equal "$(queue)" 'prepare:0 left:1 right:1 price:1 finish:3'
    rm mode.prepare
    osm-task skip 1 --reason "done by hand" >/dev/null
    assert_equal "$(queue)" 'prepare:0 left:0* right:0* price:1 finish:3'
}

@test "queue: a suspended order's ready tasks are held, and released on resume" {
    job Q-1 A
    osm-task suspend 1 >/dev/null 2>&1 || true
    # a not_started order is suspended too
    assert_equal "$(sql "select state from orders")" suspended
    assert_equal "$(sql "select held from tasks where function = 'prepare'")" 1
    run -0 osm-run --all
    assert_equal "$(sql "select count(*) from tasks where state <> 'pending'")" 0
    osm-task resume 1 >/dev/null
    assert_equal "$(sql "select held from tasks where function = 'prepare'")" 0
    osm-run --all >/dev/null
    assert_equal "$(sql "select state from orders")" completed
}

@test "queue: higher order priority is claimed first, then earlier not-before, then lower id" {
    job P-low B '{"prio": 1}'
    job P-mid-1 B
    job P-high B '{"prio": 9}'
    job P-mid-2 B
    osm-run --all >/dev/null
    assert_equal "$(cut -d' ' -f1 calls | tr '\n' ' ')" '3 2 4 1 '
    # not-before: two orders due at different times, planned before both
    rm calls
    job D-late B '{"due": "2026-11-26T14:00:00Z"}'
    job D-early B '{"due": "2026-11-26T12:00:00Z"}'
    assert_equal "$(sql "select count(*) from tasks where not_before is not null and state = 'pending'")" 2
    run -0 osm-run --all
    assert [ ! -e calls ]
    OSM_NOW=2026-11-26T15:00:00Z osm-run --all >/dev/null
    assert_equal "$(cut -d' ' -f1 calls | tr '\n' ' ')" '6 5 '
}

@test "queue: the store of an older version gets the queue built from its tasks" {
    require_sqlite "rebuilds a version-2 SQLite schema with sqlite3"
    job Q-1 A
    osm-run --max-tasks 1 1 >/dev/null
    # back to version 2 as it was: no queue columns, triggers or indexes
    sqlite3 "$OSM_DB" "drop trigger tasks_dep_done; drop trigger tasks_dep_reopened;
        drop trigger orders_hold; drop index tasks_ready;
        drop index tasks_open; drop index tasks_timers;
        create index tasks_queue on tasks (state, not_before);
        alter table tasks drop column deps_open; alter table tasks drop column held;
        alter table tasks drop column priority; alter table orders drop column body_rev;
        alter table tasks drop column amend; alter table tasks drop column previous_request;
        alter table tasks drop column idem_key;
        alter table orders drop column start_requested_at;
        alter table order_items drop column start_requested_at;
        alter table task_deps drop column why;
        pragma user_version = 2;"
    # a program that only reads does not migrate it; the next that writes does
    run -74 osm-status 1
    assert_equal "$(sql 'pragma user_version')" 2
    osm-run --function none 1 >/dev/null 2>&1 || true
    assert_equal "$(sql 'pragma user_version')" 5
    assert_equal "$(queue)" 'prepare:0 left:0* right:0* price:1 finish:3'
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state from orders")" completed
}
