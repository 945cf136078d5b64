#!/usr/bin/env bats
# osm-run --interval: the short forms (200ms, 0.2s, 2m, 1h30m, 2d), ISO 8601,
# the usage errors, and that the pause of --loop is the one given.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# job REF: submit and plan an order of one task (function "one")
job() {
    echo "{\"kind\":\"job\",\"ref\":\"$1\",\"items\":[{\"id\":\"1\",\"spec\":\"B\"}]}" | osm-submit --plan >/dev/null
}

# until_sql QUERY WANT SECONDS: poll the store until QUERY gives WANT
until_sql() {
    for _ in $(seq $(($3 * 20))); do
        [ "$(sql "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "gave up waiting: $1 -> $(sql "$1"), want $2"
    return 1
}

# ended PID SECONDS: wait until PID has exited, at most SECONDS
ended() {
    for _ in $(seq $(($2 * 20))); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    echo "process $1 still running after $2 s"
    return 1
}

@test "run --interval: short forms and ISO 8601 are accepted" {
    n=0
    for d in 0.2s 200ms 2m 1h30m 2d 1.5h 1d2h3m4s5ms 0s PT0.2S P1DT2H; do
        n=$((n + 1))
        job "I-$n"
        run -0 --separate-stderr osm-run --loop --interval "$d" --max-tasks 1
        assert_equal "$stderr" ""
        assert_equal "$(sql "select count(*) from orders where state = 'completed'")" "$n"
    done
    assert_equal "$(wc -l <calls)" "$n"
}

@test "run --interval: empty, negative and malformed durations are usage errors" {
    hint='(e.g. 200ms, 0.2s, 2m, 1h30m, 2d or PT5S)'
    while IFS='|' read -r arg msg; do
        run -2 --separate-stderr osm-run --loop --interval "$arg"
        assert_equal "$output" ""
        assert_equal "$stderr" "osm-run: --interval: $msg
Try 'osm-run --help' for more information."
    done <<EOF
|empty duration
-1s|negative duration: "-1s"
-PT1S|negative duration: "-PT1S"
abc|not a duration: "abc" $hint
5|not a duration: "5" $hint
5 s|not a duration: "5 s" $hint
1h30|not a duration: "1h30" $hint
5S|not a duration: "5S" $hint
.5s|not a duration: ".5s" $hint
5sec|not a duration: "5sec" $hint
1m1h|units out of order in "1m1h" (d, h, m, s, ms, each at most once)
5s5s|units out of order in "5s5s" (d, h, m, s, ms, each at most once)
PT5|not an ISO 8601 duration: "PT5" (e.g. PT5S, PT0.2S, P1DT2H)
99999999999s|duration too long: "99999999999s" (at most 3000 years)
EOF
    # no hook ran
    assert_file_not_exists calls
}

@test "run --interval: --loop wakes after a short pause and picks up new work" {
    job I-1
    osm-run --loop --interval 100ms --max-tasks 2 2>err &
    pid=$!
    until_sql "select count(*) from orders where state = 'completed'" 1 20
    # the worker is now idle, pausing 100 ms between rounds
    job I-2
    # it takes the new order on a later round, reaches --max-tasks and ends
    ended $pid 20
    wait $pid
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 2
    assert_equal "$(cat err)" ""
}

@test "run --interval: a long pause holds new work back until signalled" {
    job I-1
    osm-run --loop --interval 2d --max-tasks 2 2>err &
    pid=$!
    until_sql "select count(*) from orders where state = 'completed'" 1 20
    sleep 0.3
    job I-2
    # two days is longer than this test: the new order waits
    sleep 1
    assert_equal "$(sql "select state from tasks where order_id = 2")" pending
    # SIGTERM ends the pause at once
    kill -TERM $pid
    ended $pid 5
    wait $pid
    assert_equal "$(sql "select state from orders where id = 2")" not_started
    assert_equal "$(cat err)" ""
}
