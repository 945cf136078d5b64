#!/usr/bin/env bats
# Notifications: the outbox, delivered by osm-run to the notification
# hook in order per order, at least once, retried while the hook fails.

load helper

ASYNC=$OSM_SRCDIR/tests/fixtures/cartridges/async

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$ASYNC" >/dev/null
}

job() {
    echo "{\"kind\":\"job\",\"ref\":\"$1\",\"items\":[{\"id\":\"1\",\"spec\":\"$2\"}]}" |
        osm-submit --plan >/dev/null
}

@test "notify: subscribed events are queued with the change and delivered by osm-run" {
    job J-1 D
    osm-run 1 >/dev/null
    # order.state in_progress, first completed; delayed still pending
    assert_equal "$(jq -c '[.type, .to, .function]' notices | tr '\n' ' ')" '["order.state","in_progress",null] ["task.completed","completed","first"] '
    assert_equal "$(sql "select count(*) from outbox where delivered_at is null")" 0
    OSM_NOW=2026-11-26T10:00:00Z osm-run 1 >/dev/null
    assert_equal "$(jq -r '[.type, .to] | join(":")' notices | tr '\n' ' ')" 'order.state:in_progress task.completed:completed task.completed:completed order.state:completed '
}

@test "notify: a hook that is down delays notices, in order, and loses none" {
    touch notify.down
    job J-1 D
    job J-2 A
    echo accepted >mode.ask
    run -0 --separate-stderr osm-run 1 2
    [[ $stderr == *'notification'*'notification hook exited with status 1 (attempt 1, next at 2026-11-26T09:00:05Z)'* ]]
    assert_file_not_exist notices
    # only the first of each order was tried: the rest wait behind it
    assert_equal "$(sort -n notify.calls | tr '\n' ' ')" "$(sql "select min(x.event_id) from outbox x join events e on e.id = x.event_id group by e.order_id order by 1" | tr '\n' ' ')"
    # more happens while the hook is down
    osm-task respond --correlation C-3 <<<'{"status":"completed"}' >/dev/null 2>&1
    OSM_NOW=2026-11-26T09:00:03Z osm-run --notify-only 2>/dev/null
    assert_file_not_exist notices
    OSM_NOW=2026-11-26T09:00:06Z osm-run --notify-only 2>/dev/null || true
    assert_file_not_exist notices
    # the hook comes back: everything is delivered, in order per order
    rm notify.down
    OSM_NOW=2026-11-26T10:00:00Z run -0 osm-run 1 2
    assert_equal "$(sql "select count(*) from outbox where delivered_at is null")" 0
    assert_equal "$(jq -r 'select(.order == 1) | [.type, .to] | join(":")' notices | tr '\n' ' ')" 'order.state:in_progress task.completed:completed task.completed:completed order.state:completed '
    assert_equal "$(jq -r 'select(.order == 2) | [.type, .to] | join(":")' notices | tr '\n' ' ')" 'order.state:in_progress task.completed:completed order.state:completed '
    # every queued event delivered exactly once here (no delivery was interrupted)
    assert_equal "$(wc -l <notices)" "$(sql "select count(*) from outbox")"
}

@test "notify: osm.conf [notify] command overrides the cartridge's" {
    printf '[notify]\ncommand = cat >>"$OSM_TEST_DIR/site-notices"\n' >osm.conf
    job J-1 T
    osm-run 1 >/dev/null
    assert_file_not_exist notices
    assert_equal "$(jq -r .type site-notices | head -1)" order.state
}

@test "jeopardy: a task past its expected duration and an order past its requested date, raised once each and notified" {
    # due at 12:00, one hour of work: the plan starts it at 11:00
    echo '{"kind":"job","ref":"J-1","due":"2026-11-26T12:00:00Z","items":[{"id":"1","spec":"L"}]}' |
        osm-submit --plan >/dev/null
    echo accepted >mode.slow
    for t in 09:00 11:00 11:59; do OSM_NOW=2026-11-26T${t}:00Z osm-run 1 >/dev/null; done
    assert_equal "$(sql "select state from tasks")" waiting
    assert_equal "$(sql "select count(*) from events where type = 'jeopardy'")" 0
    for t in 12:01 12:30 13:00 14:00; do OSM_NOW=2026-11-26T${t}:00Z osm-run 1 >/dev/null; done
    assert_equal "$(sql "select task_id, data from events where type = 'jeopardy' and task_id is not null" |
        json_rows 1 '[.reason, .expectedDuration] | map(sqlv) | join("|")')" '1|task late|PT1H'
    assert_equal "$(sql "select data from events where type = 'jeopardy' and task_id is null" |
        json_rows 0 '[.reason, .lateBy] | map(sqlv) | join("|")')" 'late|PT1M'
    assert_equal "$(sql "select count(*) from events where type = 'jeopardy'")" 2
    assert_equal "$(sql "select (select jeopardy_at from tasks) = (select jeopardy_at from orders)")" 1
    assert_equal "$(jq -r 'select(.type == "jeopardy") | .order' notices | tr '\n' ' ')" '1 1 '
}
