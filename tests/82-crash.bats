#!/usr/bin/env bats
# Crash test: a stream of orders goes in while osm-submit, osm-run workers
# and osm-revise (cancelling orders) are killed with SIGKILL at random
# moments and started again; once everything is restarted and has run to
# the end, the store must hold every order whose id was printed, each key
# once, every task run at most once under each lease with its outcome
# recorded, every order where it should end, and pass PRAGMA
# integrity_check.
#
# The kill moments come from bash's RANDOM seeded with CRASH_SEED (default
# 14), so a failing run can be repeated.  make check runs CRASH_ROUNDS
# rounds (default 12); make soak sets CRASH_SECONDS (rounds go on until
# that many seconds have passed) and keeps the store it ran on in
# CRASH_KEEP when set.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

teardown() {
    # nothing this test started outlives it
    local p
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
    if [ -n "${CRASH_KEEP:-}" ]; then
        mkdir -p "$CRASH_KEEP" && cp "$OSM_DB" calls ./*.out "$CRASH_KEEP"/ 2>/dev/null || true
    fi
    osm_teardown
}

# Orders K-FROM .. K-TO of the stream, one per line: most with one
# automated task (pattern B), every third with five tasks, two systems and
# a rule (pattern A).
orders() {
    local i
    for ((i = $1; i <= $2; i++)); do
        if ((i % 3 == 0)); then
            printf '{"kind":"job","ref":"K-%d","items":[{"id":"1","spec":"A"}]}\n' "$i"
        else
            printf '{"kind":"job","ref":"K-%d","items":[{"id":"1","spec":"B"}]}\n' "$i"
        fi
    done
}

# Kill -9 process $1 after $2 hundredths of a second unless it ended.
kill_after() {
    (
        sleep "$(printf '0.%02d' "$2")"
        kill -9 "$1" 2>/dev/null
    ) &
}

# "ID KEY" of every whole order document in files $@ (a killed writer
# may leave half a line at the end).
printed() {
    cat "$@" 2>/dev/null | jq -R -r 'fromjson? | select(.id != null and .externalId != null) |
        "\(.id) \(.externalId)"' | sort -u
}

@test "crash: kill -9 of submit, workers and revise at random moments loses, duplicates and reruns nothing" {
    RANDOM=${CRASH_SEED:-14}
    local per=10 round=0 last=0 start=$SECONDS
    : >calls
    : >targets
    while :; do
        if [ -n "${CRASH_SECONDS:-}" ]; then
            ((SECONDS - start < CRASH_SECONDS)) || break
        else
            ((round < ${CRASH_ROUNDS:-12})) || break
        fi
        round=$((round + 1))
        # this round's slice of the stream overlaps the last one, so that
        # what a killed osm-submit left out is sent again (idempotent)
        local from=$((last > per / 2 ? last - per / 2 : 1)) to=$((round * per))
        orders "$from" "$to" >"stream.$round"
        last=$to

        osm-submit --plan -b $((1 + RANDOM % 6)) "stream.$round" >"submit.$round.out" 2>"submit.$round.err" &
        local submit=$!
        kill_after $submit $((RANDOM % 30))

        osm-run --loop --interval 20ms -j 2 >/dev/null 2>"run.$round.err" &
        local run=$!
        kill_after $run $((10 + RANDOM % 60))

        # cancel one of the orders this round printed (one round in three),
        # while the worker runs its tasks
        wait $submit 2>/dev/null || true
        local revise= ids id
        if ((RANDOM % 3 == 0)); then
            mapfile -t ids < <(printed "submit.$round.out" | awk '{ print $1 }' | sort -n)
            if ((${#ids[@]})); then
                id=${ids[RANDOM % ${#ids[@]}]}
                echo "$id" >>targets
                osm-revise --cancel "$id" >"revise.$round.out" 2>&1 &
                revise=$!
                kill_after $revise $((RANDOM % 20))
            fi
        fi
        wait $run $revise 2>/dev/null || true
        wait
    done

    # restart everything and let it run to the end: the whole stream again,
    # the cancellations that were killed, the workers until no work is left
    orders 1 "$last" >stream.all
    run -0 osm-submit --plan -b 7 stream.all
    printf '%s\n' "$output" >submit.final.out
    local id state
    for id in $(sort -un targets); do
        state=$(sql "select state from orders where id = $id")
        case $state in
        cancelled|completed) ;;
        *) osm-revise --cancel "$id" >/dev/null 2>&1 || true ;;
        esac
    done
    run -0 osm-run --all -j 2
    run -0 osm-run --all

    # every order whose id was printed exists, under the key printed
    printed ./submit.*.out >printed.ids
    [ -s printed.ids ]
    sql "select id || ' ' || external_id from orders" | sort -u >stored.ids
    assert_equal "$(comm -23 printed.ids stored.ids)" ""
    # every key of the stream is stored, and only once
    assert_equal "$(sql "select count(*) from orders")" "$last"
    assert_equal "$(sql "select count(distinct external_id) from orders")" "$last"
    assert_equal "$(sql "select count(*) from orders where external_id is null")" 0

    # all orders end where they should: cancelled ones (among the
    # targets) cancelled or, when the cancel came too late, completed;
    # every other one completed; no task left undone, no fallout
    if [ -s targets ]; then
        assert_equal "$(sql "select count(*) from orders where id in ($(sort -un targets | paste -sd,))
                             and state not in ('cancelled', 'completed')")" 0
        assert_equal "$(sql "select count(*) from orders where id not in ($(sort -un targets | paste -sd,))
                             and state <> 'completed'")" 0
    else
        assert_equal "$(sql "select count(*) from orders where state <> 'completed'")" 0
    fi
    # a cancellation osm-revise said it applied stands
    cat revise.*.out 2>/dev/null | jq -R -r 'fromjson? | select(.result == "applied") | .id' |
        sort -u >cancelled
    if [ -s cancelled ]; then
        assert_equal "$(sql "select count(*) from orders where id in ($(paste -sd, cancelled))
                             and state <> 'cancelled'")" 0
    fi
    assert_equal "$(sql "select count(*) from tasks t join orders o on o.id = t.order_id
                         where o.state = 'completed' and t.state <> 'completed'")" 0
    assert_equal "$(sql "select count(*) from tasks where state in ('running', 'failed')")" 0

    # the hook log: every call whole; an idempotency key belongs to one
    # task; no two runs of a task under one fencing token (one lease)
    assert_equal "$(awk 'NF != 6' calls | wc -l)" 0
    assert_equal "$(awk '{ print $4, $1 }' calls | sort -u | awk '{ print $1 }' | uniq -d | wc -l)" 0
    assert_equal "$(awk '{ print $1, $6 }' calls | sort | uniq -d | wc -l)" 0
    # every completed automated task ran, and its outcome is the one of a
    # run under the lease it was recorded with
    sql "select id || ' ' || fencing from tasks where state = 'completed' and system is not null" |
        sort >recorded
    awk '{ print $1, $6 }' calls | sort -u >ran
    assert_equal "$(comm -23 recorded ran)" ""

    # (PostgreSQL checks foreign keys as it writes; SQLite is asked)
    if [ "$backend" = sqlite ]; then
        assert_equal "$(sql "pragma integrity_check")" ok
        assert_equal "$(sql "pragma foreign_key_check" | wc -l)" 0
    fi
}
