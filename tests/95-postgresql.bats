#!/usr/bin/env bats
# PostgreSQL stores: what only they do (make check-postgresql runs these;
# make check skips them).  The store's schema and version row, refusing
# someone else's schema or a newer store, connection failures, waking on
# LISTEN/NOTIFY instead of polling, a lost connection taken up again, the
# password kept out of messages, and a store copied SQLite -> PostgreSQL ->
# SQLite with every row and digest unchanged.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    [ "$backend" = postgresql ] || skip "PostgreSQL only (make check-postgresql)"
    osm_setup
    export OSM_TEST_DIR=$BATS_TEST_TMPDIR
}

# job REF SPEC...: submit and plan an order with one item per SPEC
job() {
    local ref=$1 items="" i=0
    shift
    for spec in "$@"; do i=$((i + 1)); items="$items${items:+,}{\"id\":\"$i\",\"spec\":\"$spec\"}"; done
    echo "{\"kind\":\"job\",\"ref\":\"$ref\",\"items\":[$items]}" | osm-submit --plan >/dev/null
}

# psql against the harness's database (not the test's schema)
admin_sql() {
    psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# until_sql QUERY VALUE SECONDS: wait for the store to show VALUE
until_sql() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        [ "$(sql "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "waited $3 s for: $1 = $2 (it is $(sql "$1"))" >&2
    return 1
}

@test "postgresql: a store is made in the search_path's first schema, versioned in osm_store" {
    run -0 osm-cartridge deploy "$RUNNER"
    assert_equal "$(sql "select application_id, version from osm_store")" "1330859313|5"
    assert_equal "$(sql "select count(*) from cartridges")" 1
    # the tables are in the test's schema, nowhere else
    assert_equal "$(admin_sql "select count(*) from pg_tables where tablename = 'orders' and schemaname = '$OSM_TEST_SCHEMA'")" 1
    # programs that only read do not make one
    admin_sql "create schema ${OSM_TEST_SCHEMA}_x"
    run -66 --separate-stderr osm-status --db "postgresql:///$PGDATABASE?options=-csearch_path%3D${OSM_TEST_SCHEMA}_x"
    assert_output ""
    assert_equal "$stderr" "osm-status: postgresql:///$PGDATABASE?options=-csearch_path%3D${OSM_TEST_SCHEMA}_x: no such order store"
    admin_sql "drop schema ${OSM_TEST_SCHEMA}_x"
}

@test "postgresql: another program's schema, a newer store, a missing schema are refused" {
    sql "create table accounts (id bigint)"
    run -74 --separate-stderr osm-cartridge deploy "$RUNNER"
    [[ $stderr == *"not an osm order store"* ]]
    assert_equal "$(sql "select count(*) from pg_tables where schemaname = current_schema()")" 1
    sql "drop table accounts"
    osm-cartridge deploy "$RUNNER" >/dev/null
    sql "update osm_store set version = 99"
    run -78 --separate-stderr osm-status
    assert_equal "$stderr" "osm-status: $OSM_DB: order store version 99 is newer than this program supports (5)"
    run -66 --separate-stderr osm-status --db "postgresql:///$PGDATABASE?options=-csearch_path%3Dno_such_schema"
    assert_equal "$stderr" "osm-status: postgresql:///$PGDATABASE?options=-csearch_path%3Dno_such_schema: no schema to keep the order store in (the search_path names none that exists)"
}

@test "postgresql: no server is 75 in one line, and a password never shows" {
    run -75 --separate-stderr osm-status --db "postgresql://osm:s3cret@127.0.0.1:1/osm?connect_timeout=2"
    assert_output ""
    assert_equal "${#lines[@]}" 0
    [[ $stderr == "osm-status: postgresql://osm@127.0.0.1:1/osm?connect_timeout=2: cannot connect: "* ]]
    refute [ "${stderr/s3cret/}" != "$stderr" ]
    [ "$(wc -l <<<"$stderr")" -eq 1 ]
    run -75 --separate-stderr osm-status --db "postgresql:///$PGDATABASE?host=/nonexistent&password=s3cret"
    [[ $stderr != *s3cret* ]]
}

@test "postgresql: an idle osm-run --loop wakes on new work (LISTEN/NOTIFY), not on its interval" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job W-1 B
    osm-run --loop --interval 1h --max-tasks 2 2>err &
    pid=$!
    until_sql "select count(*) from orders where state = 'completed'" 1 20
    # idle now, and for an hour by its interval: a new order wakes it
    job W-2 B
    until_sql "select count(*) from orders where state = 'completed'" 2 20
    # it reached --max-tasks and ended
    for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    run -0 wait $pid
    assert_equal "$(cat err)" ""
}

@test "postgresql: osm-status --follow waits on the store's channel and prints new events" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    osm-status --follow >follow.out 2>follow.err &
    pid=$!
    # idle, it waits on the store's channel and sends no query (it would
    # poll every 100 ms on SQLite)
    q="select query_start from pg_stat_activity where application_name = 'osm-status' and datname = current_database()"
    for _ in $(seq 100); do [ -n "$(admin_sql "$q")" ] && break; sleep 0.1; done
    sleep 0.5
    before=$(admin_sql "$q")
    sleep 1.5
    assert_equal "$(admin_sql "$q")" "$before"
    job F-1 B
    # printed at once, not after its 10 s safety look
    for _ in $(seq 50); do grep -q '"order.planned"' follow.out 2>/dev/null && break; sleep 0.1; done
    kill -TERM $pid
    wait $pid || true
    run -0 jq -sc 'map(.type)' follow.out
    assert_output '["order.created","order.planned"]'
    assert_equal "$(cat follow.err)" ""
}

@test "postgresql: a connection lost between transactions is made again; the loop goes on" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job L-1 B
    osm-run --loop --interval 200ms --max-tasks 2 2>err &
    pid=$!
    until_sql "select count(*) from orders where state = 'completed'" 1 20
    # the server ends the worker's session (as a failover or restart would)
    run -0 admin_sql "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'osm-run' and pid <> pg_backend_pid()"
    assert_output 1
    job L-2 B
    until_sql "select count(*) from orders where state = 'completed'" 2 20
    for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    run -0 wait $pid
}

@test "postgresql: a store copied SQLite -> PostgreSQL -> SQLite keeps every row and digest" {
    # a store with history in SQLite
    lite=$BATS_TEST_TMPDIR/a.db
    osm-cartridge --db "$lite" deploy "$RUNNER" >/dev/null
    for r in C-1 C-2 C-3; do
        echo "{\"kind\":\"job\",\"ref\":\"$r\",\"items\":[{\"id\":\"1\",\"spec\":\"A\"}]}" | osm-submit --db "$lite" --plan >/dev/null
    done
    echo fail >mode.left
    osm-run --db "$lite" --all >/dev/null || true
    osm-status --db "$lite" --export >a.ndjson
    # into PostgreSQL
    run -0 osm-cartridge import a.ndjson
    digest=$(tail -1 a.ndjson | jq -r .sha256)
    assert_equal "$(jq -r .sha256 <<<"$output")" "$digest"
    osm-status --export >b.ndjson
    cmp a.ndjson b.ndjson
    # and back into a new SQLite file
    osm-status --export | osm-cartridge --db "$BATS_TEST_TMPDIR/c.db" import >/dev/null
    osm-status --db "$BATS_TEST_TMPDIR/c.db" --export >c.ndjson
    cmp a.ndjson c.ndjson
    # ids go on above the imported ones on PostgreSQL
    job C-4 B
    assert_equal "$(sql "select max(id) from orders")" 4
    [ "$(sql "select min(id) from events where order_id = 4")" -gt "$(jq -s '[.[] | select(.table == "events") | .row.id] | max' a.ndjson)" ]
}
