#!/usr/bin/env bats
# Many workers on one store, and a worker killed in the middle of its hooks.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    export OSM_DB=$BATS_TEST_TMPDIR/osm.db OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# orders N: N single-task orders, submitted and planned
orders() {
    for i in $(seq "$1"); do
        printf '{"kind":"job","ref":"W-%d","items":[{"id":"1","spec":"B"}]}\n' "$i"
    done | osm-submit --plan --batch 200 >/dev/null
}

# until_sql QUERY WANT SECONDS: poll the store until QUERY gives WANT
until_sql() {
    for i in $(seq $(($3 * 10))); do
        [ "$(sql "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "gave up waiting: $1 -> $(sql "$1"), want $2"
    return 1
}

@test "workers: 4 --loop workers over 1,000 orders run every task exactly once" {
    orders 1000
    pids=""
    for w in 1 2 3 4; do
        osm-run --loop --interval PT0.05S -j 2 2>"worker.$w.err" &
        pids="$pids $!"
    done
    until_sql "select count(*) from orders where state = 'completed'" 1000 240
    kill -TERM $pids
    wait $pids
    assert_equal "$(wc -l <calls)" 1000
    assert_equal "$(cut -d' ' -f1 calls | sort -u | wc -l)" 1000
    assert_equal "$(sql "select count(*) from tasks where state = 'completed' and attempts = 1")" 1000
    assert_equal "$(cat worker.*.err)" ""
}

@test "workers: kill -9 in the middle of hooks; another worker finishes, same idempotency keys" {
    orders 6
    echo sleep >mode.one
    export OSM_TEST_SLEEP=2
    osm-run --all -j 6 &
    pid=$!
    for i in $(seq 100); do [ "$(wc -l <calls 2>/dev/null || echo 0)" -ge 6 ] && break; sleep 0.05; done
    kill -9 $pid
    wait $pid || true
    assert_equal "$(sql "select count(*) from tasks where state = 'running'")" 6
    # a second worker now: the leases are live, nothing is taken over
    osm-run --all >/dev/null
    assert_equal "$(sql "select count(*) from tasks where state = 'running'")" 6
    # once they have expired, it retakes every task and finishes every order
    OSM_TEST_SLEEP=0 OSM_NOW=2026-11-26T09:30:00Z osm-run --all -j 3 >/dev/null
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 6
    assert_equal "$(sql "select count(*) from tasks where state = 'completed' and attempts = 2")" 6
    # every task ran twice (the killed worker's hooks may have finished
    # on their own), with one idempotency key each
    assert_equal "$(cut -d' ' -f1,4 calls | sort -u | wc -l)" 6
    assert_equal "$(cut -d' ' -f3 calls | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" '1:6 2:6 '
}
