#!/usr/bin/env bats
# osm-run killed with SIGKILL in the middle of a batch of outcomes: what
# it reported durable (-v, after each commit) is in the store, and no
# task ever runs twice under the same fencing token.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

@test "crash: kill -9 mid-batch loses no outcome reported durable and reuses no fencing token" {
    for i in $(seq 400); do
        printf '{"kind":"job","ref":"K-%d","items":[{"id":"1","spec":"A"}]}\n' "$i"
    done | osm-submit --plan --batch 400 >/dev/null
    for round in 1 2 3; do
        osm-run --all -j 4 -v 2>"run.$round.err" &
        pid=$!
        want=$((round * 300))
        for i in $(seq 400); do [ "$(wc -l <calls 2>/dev/null || echo 0)" -ge $want ] && break; sleep 0.02; done
        kill -9 $pid
        wait $pid || true
        # every outcome it said was durable is there, under the same token
        grep -o 'task [0-9]* [a-z]* (fencing [0-9]*)' "run.$round.err" |
            awk '{ gsub(/\)/, "", $5); print $2 "|" $3 "|" $5 }' | sort >reported
        [ -s reported ]
        sql "select id || '|' || state || '|' || fencing from tasks where id in ($(cut -d'|' -f1 reported | paste -sd,))" |
            sort >stored
        # (every hook answers completed: a completed task never changes again)
        assert_equal "$(diff reported stored)" ""
    done
    osm-run --all -j 2 >/dev/null
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 400
    # no two hook runs of a task with one fencing token
    assert_equal "$(cut -d' ' -f1,6 calls | sort | uniq -d | wc -l)" 0
    # and one idempotency key per task, though other tasks' answers changed
    # the order between its runs
    assert_equal "$(cut -d' ' -f1,4 calls | sort -u | cut -d' ' -f1 | uniq -d | wc -l)" 0
    assert_equal "$(sql "select count(*) from tasks where state <> 'completed'")" 0
}

@test "crash: a task whose worker died before the order was cancelled is run again, then undone" {
    echo hang >mode.left
    osm-submit --plan <<<'{"kind":"job","ref":"K-1","items":[{"id":"1","spec":"A"}]}' >/dev/null
    osm-run 1 >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 500); do [ -s hang.child ] && break; sleep 0.02; done
    kill -9 $pid
    wait $pid || true
    kill -9 "$(cat hang.pid)" "$(cat hang.child)" 2>/dev/null || true
    assert_equal "$(sql "select state from tasks where function = 'left'")" running
    run -0 osm-revise --cancel 1
    assert_equal "$(jq -r .state <<<"$output")" cancelling
    rm mode.left
    # the dead worker's task is run again (its outcome is unknown), under
    # the same idempotency key, then undone with the rest
    run -0 osm-run --all
    assert_equal "$(sql "select state from orders where id = 1")" cancelled
    do=$(sql "select id from tasks where function = 'left' and mode = 'do'")
    assert_equal "$(awk -v t="$do" '$1 == t { print $4 }' calls | uniq -c | awk '{ print $1 }')" 2
    assert_equal "$(awk '$2 == "left"' calls | wc -l)" 3
    assert_equal "$(sql "select state from tasks where function = 'left' order by id" | paste -sd,)" completed,completed
    assert_equal "$(sql "select count(*) from tasks where state in ('pending', 'running', 'failed')")" 0
}
