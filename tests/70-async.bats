#!/usr/bin/env bats
# Asynchronous answers (osm-task respond), response timeouts, timers and
# dependency waits, against the async fixture.

load helper

ASYNC=$OSM_SRCDIR/tests/fixtures/cartridges/async

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$ASYNC" >/dev/null
}

# job REF SPEC [EXTRA-JSON]: submit and plan an order with one item
job() {
    echo "{\"kind\":\"job\",\"ref\":\"$1\",\"items\":[{\"id\":\"1\",\"spec\":\"$2\"}]${3:+,$3}}" |
        osm-submit --plan >/dev/null
}

# an order whose "ask" task was accepted and waits with correlation id C-1
accepted() {
    job J-1 A
    echo accepted >mode.ask
    osm-run 1 >/dev/null
}

@test "respond: an accepted task waits, and its answer completes it and the order" {
    accepted
    assert_equal "$(sql "select state, correlation_id from tasks")" 'waiting|C-1'
    run -0 --separate-stderr osm-task respond --correlation C-1 <<<'{"status":"completed","externalStatus":"DONE","data":{"value":42}}'
    assert_equal "$(jq -c '[.kind, .id, .state, .externalStatus]' <<<"$output")" '["task",1,"completed","DONE"]'
    assert_equal "$(sql "select state, body from orders" | json_rows 1 .answer)" 'completed|42'
    assert_equal "$(sql "select type from events where type in ('response', 'task.state') order by id" | tail -2 | tr '\n' ' ')" 'response task.state '
}

@test "respond: interim updates keep the task waiting and record the external status" {
    accepted
    run -0 osm-task respond --correlation C-1 <<<'{"externalStatus":"RESERVED"}'
    assert_equal "$(sql "select state, external_status from tasks")" 'waiting|RESERVED'
    run -0 osm-task respond --correlation C-1 - <<<'{"status":"accepted","externalStatus":"SCHEDULED"}'
    assert_equal "$(sql "select state, external_status from tasks")" 'waiting|SCHEDULED'
    assert_equal "$(sql "select count(*) from events where type = 'response'")" 2
    assert_equal "$(sql "select state from orders")" in_progress
    echo '{"status":"completed","data":{"value":7}}' >answer.json
    run -0 osm-task respond --correlation C-1 answer.json
    assert_equal "$(sql "select state, external_status from tasks")" 'completed|SCHEDULED'
    assert_equal "$(sql "select state, body from orders" | json_rows 1 .answer)" 'completed|7'
}

@test "respond: several answers in one stream are applied in order" {
    accepted
    run -0 osm-task respond --correlation C-1 <<<'{"externalStatus":"A"} {"externalStatus":"B"} {"status":"completed"}'
    assert_equal "$(sql "select state, external_status from tasks")" 'completed|B'
}

@test "respond: a failed answer is fallout" {
    accepted
    run -0 osm-task respond --correlation C-1 <<<'{"status":"failed","message":"no port free"}'
    assert_equal "$(sql "select state, error from tasks where kind <> 'fallout'")" 'failed|the system answered failed: no port free'
    assert_equal "$(sql "select state, workgroup from tasks where kind = 'fallout'")" 'waiting|fallout'
    assert_equal "$(sql "select state from orders")" failed
}

@test "respond: an unknown correlation id is 66 and changes nothing" {
    accepted
    before=$(sql "select count(*) from events")
    run -66 --separate-stderr osm-task respond --correlation C-99 <<<'{"status":"completed"}'
    assert_equal "$stderr" 'osm-task: no task waits for correlation id "C-99"'
    assert_equal "$(sql "select count(*) from events")" "$before"
    assert_equal "$(sql "select state from tasks")" waiting
}

@test "respond: an answer without a valid status is 65; a task that no longer waits is 1" {
    accepted
    run -65 --separate-stderr osm-task respond --correlation C-1 <<<'{"status":"maybe"}'
    assert_equal "$(sql "select state from tasks")" waiting
    run -0 osm-task respond --correlation C-1 <<<'{"status":"completed"}'
    run -1 --separate-stderr osm-task respond --correlation C-1 <<<'{"status":"completed"}'
    assert_equal "$stderr" 'osm-task: correlation id "C-1": task 1 is completed: it waits for no answer'
    run -2 --separate-stderr osm-task respond <<<'{"status":"completed"}'
    assert_equal "${stderr%%$'\n'*}" 'osm-task: respond: --correlation ID is required'
}

@test "respond: no answer within the response timeout is fallout at the next run" {
    accepted
    OSM_NOW=2026-11-26T09:59:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks")" waiting
    OSM_NOW=2026-11-26T10:01:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" failed
    assert_equal "$(sql "select state, error from tasks where kind <> 'fallout'")" 'failed|no answer within PT1H'
    assert_equal "$(sql "select count(*) from tasks where kind = 'fallout'")" 1
    # a late answer finds the task no longer waiting
    run -1 osm-task respond --correlation C-1 <<<'{"status":"completed"}'
}

@test "respond: an answer for a suspended order is kept and applied when it resumes" {
    accepted
    osm-task suspend 1 >/dev/null
    run -0 --separate-stderr osm-task -v respond --correlation C-1 <<<'{"status":"completed","data":{"value":9}}'
    assert_equal "$(sql "select state from tasks")" waiting
    assert_equal "$(sql "select count(*) from responses where applied_at is null")" 1
    # osm-run leaves it alone while the order is suspended
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks")" waiting
    run -0 osm-task resume 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(sql "select state, body from orders" | json_rows 1 .answer)" 'completed|9'
    assert_equal "$(sql "select count(*) from responses where applied_at is null")" 0
}

@test "respond: a kept answer is picked up by osm-run once the order runs again" {
    accepted
    osm-task suspend 1 >/dev/null
    osm-task respond --correlation C-1 <<<'{"status":"completed","data":{"value":5}}' >/dev/null
    # the order leaves suspension some other way (e.g. a revision ending)
    sql "update orders set state = 'in_progress' where id = 1"
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(sql "select body from orders" | json_rows 0 .answer)" 5
}

@test "timer: waits its duration: not done before, done after (OSM_NOW)" {
    job J-1 T
    osm-run 1 >/dev/null
    assert_equal "$(sql "select function || ':' || state from tasks order by id" | tr '\n' ' ')" 'pause:waiting resume:pending '
    OSM_NOW=2026-11-26T09:09:59Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'pause'")" waiting
    OSM_NOW=2026-11-26T09:10:00Z run -0 osm-run 1
    assert_equal "$(jq -c '[.state, .order.resumed]' <<<"$output")" '["completed","2026-11-26T09:10:00Z"]'
}

@test "timer: waits until a date computed by jq" {
    job J-1 W '"wakeAt":"2026-11-27T08:00:00Z"'
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'pause-until'")" waiting
    OSM_NOW=2026-11-27T07:59:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from orders")" in_progress
    OSM_NOW=2026-11-27T08:00:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
}

@test "wait: a delay after the dependency completes holds the dependent task" {
    job J-1 D
    osm-run 1 >/dev/null
    assert_equal "$(sql "select function || ':' || state from tasks order by id" | tr '\n' ' ')" 'first:completed delayed:pending '
    OSM_NOW=2026-11-26T09:29:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'delayed'")" pending
    OSM_NOW=2026-11-26T09:30:00Z run -0 osm-run 1
    assert_equal "$(jq -c '[.state, .order.delayed]' <<<"$output")" '["completed","2026-11-26T09:30:00Z"]'
}

@test "wait: until a date from the order holds the dependent task" {
    job J-1 U '"notBefore":"2026-11-28T00:00:00Z"'
    osm-run 1 >/dev/null
    OSM_NOW=2026-11-27T23:59:59Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'dated'")" pending
    OSM_NOW=2026-11-28T00:00:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
}

@test "wait: a condition on order data holds until it is true" {
    job J-1 C
    osm-run 1 >/dev/null
    OSM_NOW=2026-11-27T09:00:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'gated'")" pending
    local body
    body=$(sql "select body from orders where id = 1" | jq -c '.go = true')
    sql "update orders set body = '${body//\'/\'\'}' where id = 1"
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
}

@test "cancel: a timer left waiting by a cancellation fires, then is undone, and the order ends" {
    job J-1 T
    osm-run 1 >/dev/null
    run -0 osm-revise --cancel 1
    assert_equal "$(jq -c '[.state, [.components[] | .action]]' <<<"$output")" '["cancelling",["wait","cancel"]]'
    OSM_NOW=2026-11-26T09:10:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" cancelled
    assert_equal "$(sql "select function || ':' || mode || ':' || state from tasks order by id" | paste -sd' ')" \
        'pause:do:completed resume:do:cancelled pause:undo:completed'
}

@test "cancel: an answer that never comes to a cancelled order is fallout; skipping it ends the cancellation" {
    accepted
    run -0 osm-revise --cancel 1
    rm mode.ask
    OSM_NOW=2026-11-26T09:59:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where id = 1")" waiting
    OSM_NOW=2026-11-26T10:01:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" cancelling
    assert_equal "$(sql "select state, error from tasks where id = 1")" 'failed|no answer within PT1H'
    assert_equal "$(sql "select workgroup, state from tasks where kind = 'fallout'")" 'fallout|waiting'
    OSM_NOW=2026-11-26T10:05:00Z osm-task skip --reason "never answered" 1 >/dev/null
    OSM_NOW=2026-11-26T10:05:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" cancelled
    assert_equal "$(sql "select state from tasks where mode = 'undo'")" completed
}

# per_item: this cartridge, whose ask and inspect answers go on the item
# their task covers (a response program reads .items)
per_item() {
    mkdir peritem
    cp -r "$ASYNC/hooks" peritem/
    jq '.version = "1.1.0" | .workgroups.desk = {}
        | .patterns.I = {add: ["inspect"]}
        | .functions.inspect = {kind: "manual", workgroup: "desk", duration: "PT1H"}
        | (.functions.ask, .functions.inspect).response =
            ". as $in | $in.order | .items |= map(if .id == $in.items[0].id then
               . + {answer: ($in.response.data.token // $in.response.data.value), seen: [$in.items[].id]}
             else . end)"' "$ASYNC/cartridge.json" >peritem/cartridge.json
    osm-cartridge deploy peritem >/dev/null
}

# answers ID: the items' answers and what each mapping saw, "ID:ANSWER:SEEN ..."
answers() {
    sql "select body from orders where id = $1" |
        jq -r '[.items[] | "\(.id):\(.answer):\(.seen // [] | join(","))"] | join(" ")'
}

@test "response: a mapping gets the items its task covers, from a hook, respond and complete" {
    per_item
    echo '{"kind":"job","ref":"J-1","items":[{"id":"a","spec":"A"},{"id":"b","spec":"A"}]}' |
        osm-submit --plan >/dev/null
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(answers 1)" "a:T-1:a b:T-2:b"
    # an asynchronous answer, given with osm-task respond
    echo accepted >mode.ask
    echo '{"kind":"job","ref":"J-2","items":[{"id":"a","spec":"A"},{"id":"b","spec":"A"}]}' |
        osm-submit --plan >/dev/null
    osm-run 2 >/dev/null
    osm-task respond --correlation C-4 <<<'{"status":"completed","data":{"value":"late"}}' >/dev/null
    assert_equal "$(answers 2)" "a:null: b:late:b"
    # a person's answer, given with osm-task complete --data
    echo '{"kind":"job","ref":"J-3","items":[{"id":"x","spec":"I"}]}' | osm-submit --plan >/dev/null
    osm-run 3 >/dev/null
    osm-task workgroup add desk "$(id -un)" >/dev/null
    task=$(sql "select id from tasks where order_id = 3 and function = 'inspect'")
    osm-task claim "$task" >/dev/null
    echo '{"value":"checked"}' | osm-task complete "$task" --data - >/dev/null
    assert_equal "$(answers 3)" "x:checked:x"
}
