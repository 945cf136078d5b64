#!/usr/bin/env bats
# Persistent systems: one process per worker serves many tasks, one
# request and one answer per line; a crash, a timeout or a bad line fails
# only the tasks in flight, which are retried like any hook failure.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    # the runner cartridge with system alpha served by hooks/persist.sh
    copy_cartridge "$RUNNER" runner
    jq '.systems.alpha = {command: "hooks/persist.sh", mode: "persistent", timeout: "PT2S",
                          maxInFlight: 4, maxLine: 4096}' runner/cartridge.json >m
    mv m runner/cartridge.json
    osm-cartridge deploy runner >/dev/null
}

# orders N: N one-task orders (function one, system alpha), planned
orders() {
    for i in $(seq "$1"); do
        printf '{"kind":"job","ref":"P-%d","items":[{"id":"1","spec":"B"}]}\n' "$i"
    done | osm-submit --plan --batch 500 >/dev/null
}

@test "persistent: many tasks through one process, each answer on its task" {
    orders 50
    run -0 --separate-stderr osm-run --all -j 2
    assert_equal "$stderr" ""
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 50
    # one process for all of them, each task once, with its own token
    assert_equal "$(cut -d' ' -f1 pcalls | sort -u | wc -l)" 1
    assert_equal "$(wc -l <pcalls)" 50
    assert_equal "$(cut -d' ' -f2 pcalls | sort -u | wc -l)" 50
    # the answer went to its task: the data merged into its own order
    assert_equal "$(sql "select (select min(id) from tasks t where t.order_id = orders.id), body from orders" |
        json_rows 1 .token | awk -F'|' '$2 == "P-" $1' | wc -l)" 50
    assert_equal "$(sql "select data from events where type = 'hook'" |
        jq -s 'map(select(.persistent and .response.status == "completed")) | length')" 50
}

@test "persistent: an answer without a task goes to the oldest request" {
    orders 3
    echo untagged >pmode
    run -0 osm-run --all
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 3
}

@test "persistent: a crash fails the tasks in flight only; they are retried on a new process" {
    orders 6
    echo exit >pmode
    run -0 osm-run --all -j 2
    # every request in flight failed with how the process ended, and each
    # process read one request only: no task ran and none completed
    failed=$(sql "select count(*) from tasks where state = 'pending' and attempts = 1 and error = 'persistent hook exited with status 3'")
    [ "$failed" -ge 1 ]
    assert_equal "$(sql "select count(*) from tasks where attempts = 1")" "$failed"
    assert_equal "$(sql "select count(*) from tasks where state = 'completed'")" 0
    rm pmode
    OSM_NOW=2026-11-26T09:10:00Z run -0 osm-run --all -j 2
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 6
    assert_equal "$(sql "select count(*) from tasks where state = 'completed' and attempts = 2")" "$failed"
    # more than one process served them
    [ "$(cut -d' ' -f1 pcalls | sort -u | wc -l)" -ge 2 ]
    # no task ran twice under one fencing token
    assert_equal "$(cut -d' ' -f2,3 pcalls | sort | uniq -d | wc -l)" 0
}

@test "persistent: an answer that does not come in time fails the request; the group is killed" {
    orders 1
    echo hang >pmode
    run -0 osm-run --all
    assert_equal "$(sql "select state || ' ' || error from tasks")" 'pending persistent hook timed out (limit PT2S)'
    assert_equal "$(sql "select data from events where type = 'hook'" | json_rows 0 .error)" 'persistent hook timed out (limit PT2S)'
    # the process and its sleeping child are gone (a zombie left to an
    # init that does not reap is gone too)
    pid=$(cut -d' ' -f1 pcalls)
    [ -n "$pid" ]
    assert_equal "$(ps -eo pgid=,stat= | awk -v g="$pid" '$1 == g && $2 !~ /^Z/' | wc -l)" 0
}

@test "persistent: a line that is not JSON, or too long, fails the request and restarts the process" {
    orders 1
    echo garbage >pmode
    run -0 osm-run --all
    assert_equal "$(sql "select state from tasks")" pending
    assert_equal "$(sql "select CAST((error LIKE 'persistent hook sent a malformed answer: %') AS INTEGER) from tasks")" 1
    echo long >pmode
    OSM_NOW=2026-11-26T09:10:00Z run -0 osm-run --all
    assert_equal "$(sql "select error from tasks")" 'persistent hook sent a line longer than 4096 bytes'
    rm pmode
    OSM_NOW=2026-11-26T09:20:00Z run -0 osm-run --all
    assert_equal "$(sql "select state || ' ' || attempts from tasks")" 'completed 3'
    assert_equal "$(cut -d' ' -f1 pcalls | sort -u | wc -l)" 3
}

@test "persistent: status retry is temporary: the attempt does not count" {
    orders 1
    echo retry >pmode
    run -0 osm-run --all
    assert_equal "$(sql "select state, attempts, temp_failures, error from tasks")" \
        'pending|0|1|system temporarily unavailable (status retry)'
    rm pmode
    OSM_NOW=2026-11-26T09:10:00Z run -0 osm-run --all
    assert_equal "$(sql "select state, attempts from tasks")" 'completed|1'
}

@test "persistent: the mode and limits are checked in the manifest" {
    jq '.systems.alpha.mode = "sometimes"' runner/cartridge.json >m && mv m runner/cartridge.json
    run -78 osm-cartridge check runner
    assert_output --partial 'mode'
}
