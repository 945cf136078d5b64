#!/usr/bin/env bats
# Many workers on one store, and a worker killed in the middle of its hooks.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
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
    # the leases' owner is gone from this host: the next worker retakes
    # every task at once, without waiting for the leases to expire
    OSM_TEST_SLEEP=0 osm-run --all -j 3 >/dev/null
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 6
    assert_equal "$(sql "select count(*) from tasks where state = 'completed' and attempts = 2")" 6
    # every task ran twice (the killed worker's hooks may have finished
    # on their own), with one idempotency key each
    assert_equal "$(cut -d' ' -f1,4 calls | sort -u | wc -l)" 6
    assert_equal "$(cut -d' ' -f3 calls | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" '1:6 2:6 '
}

@test "workers: live leases and other hosts' leases are kept until they expire" {
    orders 3
    # make two tasks look leased: one by a live process here (this shell),
    # one by a process of another host that this host cannot see
    local start
    start=$(awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[20] }' /proc/$$/stat)
    sql "update tasks set state = 'running', lease_owner = '$(hostname):$$:$start',
         lease_expires = $(epoch_ms 2026-11-26T10:30:00Z), fencing = fencing + 1
         where id = (select min(id) from tasks where state = 'pending')"
    sql "update tasks set state = 'running', lease_owner = 'elsewhere.example:1:1',
         lease_expires = $(epoch_ms 2026-11-26T10:30:00Z), fencing = fencing + 1
         where id = (select min(id) from tasks where state = 'pending')"
    held=$(sql "select id from tasks where state = 'running' order by id" | paste -sd,)
    osm-run --all >/dev/null
    assert_equal "$(sql "select id from tasks where state = 'running' order by id" | paste -sd,)" "$held"
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 1
    # past the leases, both are retaken
    OSM_NOW=2026-11-26T10:31:00Z osm-run --all >/dev/null
    assert_equal "$(sql "select count(*) from tasks where state = 'running'")" 0
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 3
}

@test "workers: a lease whose pid now belongs to another process is retaken at once" {
    orders 1
    # this shell's pid with a start time it never had: the owner is gone
    sql "update tasks set state = 'running', lease_owner = '$(hostname):$$:1',
         lease_expires = $(epoch_ms 2026-11-26T10:30:00Z), fencing = fencing + 1
         where id = (select min(id) from tasks where state = 'pending')"
    osm-run --all >/dev/null
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 1
}
