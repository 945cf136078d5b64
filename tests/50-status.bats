#!/usr/bin/env bats
# osm-status: status documents, fulfillment and TMF states, listings,
# the summary, histories, the event feed, --wait and --purge.  Orders run
# against two fixture cartridges whose hooks answer as
# $OSM_TEST_DIR/mode.FUNCTION (and, for status-fs, ext.FUNCTION) say.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner
STATUSFS=$OSM_SRCDIR/tests/fixtures/cartridges/status-fs
STATUS_SCHEMA=$OSM_SRCDIR/specs/status.schema.json
EVENT_SCHEMA=$OSM_SRCDIR/specs/event.schema.json

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$STATUSFS" >/dev/null
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# order KIND REF [DUE] SPEC...: submit and plan an order of the status-fs
# ("svc") or runner ("job") cartridge with one item per SPEC
order() {
    local kind=$1 ref=$2 due="" items="" i=0
    shift 2
    case ${1:-} in 20*) due=",\"due\":\"$1\""; shift ;; esac
    for spec in "$@"; do i=$((i + 1)); items="$items${items:+,}{\"id\":\"$i\",\"spec\":\"$spec\"}"; done
    echo "{\"kind\":\"$kind\",\"ref\":\"$ref\"$due,\"items\":[$items]}" | osm-submit --plan >/dev/null
}

# st ID JQ: a jq view of order ID's status document
st() {
    osm-status "$1" | jq -c "$2"
}

@test "status: an order run to the end, in its schema" {
    order svc S-1 LINE
    echo ALLOCATED >ext.reserve; echo ACTIVATED >ext.activate
    osm-run 1 >/dev/null
    run -0 --separate-stderr osm-status 1
    assert_equal "$stderr" ""
    schemacheck -r "$STATUS_SCHEMA" <<<"$output"
    assert_equal "$(jq -c '[.kind, .id, .externalId, .cartridge, .orderType, .state, .tmfState, .fulfillmentState, .processingState]' <<<"$output")" \
        '["status",1,"S-1","status-fs","svc","completed","completed","COMPLETE","normal"]'
    assert_equal "$(jq -c '[.progress, .late, .lateBy, .jeopardy, .openFallout, .endedAt]' <<<"$output")" \
        '[{"tasksDone":2,"tasks":2,"percentExpected":100},false,null,false,0,"2026-11-26T09:00:00Z"]'
    assert_equal "$(jq -c '.items' <<<"$output")" '[{"id":"1","action":"add","spec":"LINE","fulfillmentState":"COMPLETE","tmfState":"completed"}]'
    assert_equal "$(jq -c '[.tasks[] | [.id, .function, .system, .state, .attempts, .externalStatus, .fulfillmentState, .endedAt]]' <<<"$output")" \
        '[[1,"reserve","inventory","completed",1,"ALLOCATED","COMPLETE","2026-11-26T09:00:00Z"],[2,"activate","network","completed",1,"ACTIVATED","ACTIVE","2026-11-26T09:00:00Z"]]'
    assert_equal "$(jq -c .fallout <<<"$output")" '[]'
    run -0 osm-status --pretty 1
    assert_line --index 0 '{'
    assert_line --index 1 '  "kind": "status",'
}

@test "status: external statuses map to fulfillment states, composed by the item rules, then the order's" {
    order svc S-1 LINE BOX
    echo ALLOCATED >ext.reserve
    echo accepted >mode.activate; echo QUEUED >ext.activate
    echo accepted >mode.ship; echo DISPATCHED >ext.ship
    osm-run 1 >/dev/null
    assert_equal "$(st 1 '[.tasks[] | [.function, .state, .externalStatus, .fulfillmentState]]')" \
        '[["reserve","completed","ALLOCATED","COMPLETE"],["activate","waiting","QUEUED","IN_PROGRESS"],["reserve","completed","ALLOCATED","COMPLETE"],["ship","waiting","DISPATCHED","SHIPPED"]]'
    # item rules: FAILED any FAILED; COMPLETE all ACTIVE/COMPLETE; NOT_STARTED all NOT_STARTED; else IN_PROGRESS
    assert_equal "$(st 1 '[.fulfillmentState, [.items[].fulfillmentState], .processingState, .tmfState]')" \
        '["IN_PROGRESS",["IN_PROGRESS","IN_PROGRESS"],"normal","inProgress"]'
    # no order rules: the least advanced item state wins, a failure over all
    order svc S-2 LINE BOX
    echo completed >mode.activate; echo ACTIVATED >ext.activate
    echo completed >mode.ship; echo DELIVERED >ext.ship
    osm-run 2 >/dev/null
    assert_equal "$(st 2 '[.fulfillmentState, [.items[].fulfillmentState]]')" '["COMPLETE",["COMPLETE","COMPLETE"]]'
    order svc S-3 LINE BOX
    echo refuse >mode.ship; echo LOST >ext.ship
    osm-run 3 >/dev/null
    run -0 osm-status 3
    schemacheck -r "$STATUS_SCHEMA" <<<"$output"
    assert_equal "$(jq -c '[.state, .reason, .tmfState, .fulfillmentState, [.items[].fulfillmentState], .processingState, .openFallout]' <<<"$output")" \
        '["failed","fallout","held","FAILED",["COMPLETE","FAILED"],"failure",1]'
    assert_equal "$(jq -c '.fallout[] | [.task, .falloutTask, .function, .workgroup, .state, .error, .details.message]' <<<"$output")" \
        '[12,13,"ship","fallout","waiting","the system answered failed: refused","the system answered failed: refused"]'
}

@test "status: an order not yet planned has not started; a cartridge without states shows none" {
    echo '{"kind":"svc","ref":"S-1","items":[{"id":"1","spec":"LINE"}]}' | osm-submit >/dev/null
    assert_equal "$(st 1 '[.state, .tmfState, .fulfillmentState, [.items[].fulfillmentState], .progress, .startDate, .tasks]')" \
        '["not_started","acknowledged","NOT_STARTED",["NOT_STARTED"],{"tasksDone":0,"tasks":0,"percentExpected":0},null,[]]'
    order job J-1 A
    osm-run 2 >/dev/null
    assert_equal "$(st 2 '[.state, .fulfillmentState, ([.items[], .tasks[]] | map(.fulfillmentState) | unique)]')" \
        '["completed",null,[null]]'
}

@test "status: an order sent to fallout when it was taken in: a fallout without a task" {
    copy_cartridge "$STATUSFS" fb
    jq '.name = "status-fb" | .orderTypes.svc.recognize = ".kind == \"fb\"" | .orderTypes.svc.onInvalid = "fallout"
        | .orderTypes.svc.validate = "if .ref == \"BAD\" then {path: \".ref\", message: \"bad ref\"} else empty end"' \
        fb/cartridge.json >m && mv m fb/cartridge.json
    osm-cartridge deploy fb >/dev/null
    echo '{"kind":"fb","ref":"BAD","items":[{"id":"1","spec":"LINE"}]}' | osm-submit >/dev/null 2>&1 || true
    run -0 osm-status 1
    schemacheck -r "$STATUS_SCHEMA" <<<"$output"
    assert_equal "$(jq -c '[.state, .reason, .tmfState, .processingState, .openFallout, .items]' <<<"$output")" \
        '["failed","order is not valid","held","failure",1,[]]'
    assert_equal "$(jq -c '.fallout[] | [.task, .falloutTask, .function, .workgroup, .error, .details.problems]' <<<"$output")" \
        '[null,1,"validate","fallout","order is not valid",[{"path":".ref","message":"bad ref"}]]'
}

@test "status: each order state in TMF622 terms" {
    order job J-1 B
    order job J-2 B
    osm-run 2 >/dev/null
    for pair in not_started:acknowledged in_progress:inProgress suspended:held amending:inProgress \
                cancelling:pendingCancellation cancelled:cancelled completed:completed failed:held \
                waiting_for_revision:pending aborted:failed; do
        sql "update orders set state = '${pair%%:*}' where id = 1"
        assert_equal "${pair%%:*} $(st 1 .tmfState)" "${pair%%:*} \"${pair#*:}\""
    done
    # aborted after some work was done: partial
    sql "update orders set state = 'aborted' where id = 2"
    assert_equal "$(st 2 .tmfState)" '"partial"'
}

@test "status: late, jeopardy and retries; processing states" {
    # the plan takes 40 minutes, the customer wants it in 20
    order svc S-1 2026-11-26T09:20:00Z LINE
    assert_equal "$(st 1 '[.late, .lateBy, .jeopardy, .jeopardyAt, .processingState, .expectedCompletion]')" \
        '[true,"PT20M",true,"2026-11-26T09:00:00Z","warning","2026-11-26T09:40:00Z"]'
    # a task waiting past its expected duration (PT30M from 09:00)
    order svc S-2 LINE
    echo accepted >mode.activate
    osm-run 2 >/dev/null
    OSM_NOW=2026-11-26T09:20:00Z run -0 osm-status 2
    assert_equal "$(jq -c '[.jeopardy, .processingState]' <<<"$output")" '[false,"normal"]'
    OSM_NOW=2026-11-26T10:00:00Z run -0 osm-status 2
    assert_equal "$(jq -c '[.jeopardy, .jeopardyAt, .late, .processingState]' <<<"$output")" '[true,"2026-11-26T09:30:00Z",false,"warning"]'
    # a failure being retried
    order svc S-3 LINE
    echo fail >mode.reserve
    osm-run 3 >/dev/null
    assert_equal "$(st 3 '[.state, .processingState, .tasks[0].state, .tasks[0].attempts, .tasks[0].lastError]')" \
        '["in_progress","warning","pending",1,"hook exited with status 1"]'
    # an ended order is late by how late it ended, and in jeopardy no more
    order svc S-4 2026-11-26T08:00:00Z LINE
    rm mode.activate mode.reserve
    osm-run 4 >/dev/null
    assert_equal "$(st 4 '[.state, .late, .lateBy, .jeopardy]')" '["completed",true,"PT1H",false]'
    OSM_NOW=2026-11-26T10:00:00Z run -0 osm-status --summary
    assert_equal "$(jq -c '[.jeopardy, .late]' <<<"$output")" '[2,1]'
}

@test "status: order, plan and status documents on standard input; unknown orders; bad records" {
    run -0 --separate-stderr bash -c "echo '{\"kind\":\"job\",\"ref\":\"J-1\",\"items\":[{\"id\":\"1\",\"spec\":\"B\"}]}' | osm-submit --plan | osm-status"
    assert_equal "$(jq -c '[.kind, .id, .state]' <<<"$output")" '["status",1,"not_started"]'
    order job J-2 B
    run -0 bash -c 'osm-plan 2 1 | osm-status | osm-status | jq -c .id'
    assert_equal "$output" $'2\n1'
    run -0 bash -c 'echo 2 | osm-status 1 - | jq -c .id'
    assert_equal "$output" $'1\n2'
    run -66 --separate-stderr osm-status 1 99 2
    assert_equal "$stderr" 'osm-status: no such order: 99'
    assert_equal "$(jq -c .id <<<"$output")" $'1\n2'
    run -65 --separate-stderr bash -c "printf '%s\n' 1 '\"x\"' '{\"kind\":\"task\",\"id\":2}' 2 | osm-status"
    assert_equal "$stderr" $'osm-status: <stdin>:2: expected an order id or an order, plan or status document\nosm-status: <stdin>:3: expected an order id or an order, plan or status document'
    assert_equal "$(jq -c .id <<<"$output")" $'1\n2'
    run -65 --separate-stderr bash -c "echo '{' | osm-status"
    assert_regex "$stderr" '^osm-status: <stdin>:1:[0-9]+: parse error: '
    # a store that is not there
    run -66 --separate-stderr osm-status -d nosuch.db 1
    assert_equal "$stderr" 'osm-status: nosuch.db: no such order store'
}

@test "status: the table for a person" {
    order svc S-1 LINE BOX
    echo refuse >mode.ship; echo LOST >ext.ship
    osm-run 1 >/dev/null
    run -0 osm-status --format table 1
    assert_line --index 0 'order 1 (S-1): status-fs 1.0.0, svc'
    assert_line --index 1 'state        failed (TMF held): fallout'
    assert_line --index 2 'fulfillment  FAILED'
    assert_line --index 3 'processing   failure'
    assert_line 'progress     3/4 tasks, 3% of the expected work'
    assert_line 'fallout      1 open'
    assert_line '2     add     BOX   FAILED       failed'
    assert_line '4     ship      shipping   failed     1      LOST      FAILED       2026-11-26 09:00  the system answered failed: refused'
    assert_line '5        4     ship      fallout    waiting  the system answered failed: refused'
    # no line ends in a blank
    run -0 bash -c 'osm-status --format table 1 | { grep -c " $" || true; }'
    assert_output 0
}

# list_ids ARGS...: the ids osm-status ARGS lists
list_ids() {
    osm-status "$@" | jq -r .id | tr '\n' ' ' | sed 's/ $//'
}

@test "list: filters by state, cartridge, type, creation time, external id and jq; limit and offset" {
    OSM_NOW=2026-11-20T09:00:00Z order svc S-1 LINE
    OSM_NOW=2026-11-21T09:00:00Z order svc S-2 BOX
    OSM_NOW=2026-11-22T09:00:00Z order job J-3 B
    OSM_NOW=2026-11-23T09:00:00Z order job J-4 B
    OSM_NOW=2026-11-24T09:00:00Z order svc S-5 LINE
    echo refuse >mode.one
    osm-run 1 2 3 >/dev/null
    run -0 osm-status -a
    schemacheck -r "$STATUS_SCHEMA" <<<"$output"
    assert_equal "$(jq -c '[.id, .state, has("items"), has("tasks"), has("fallout")]' <<<"$output" | head -1)" '[1,"completed",false,false,false]'
    assert_equal "$(list_ids -a)" '1 2 3 4 5'
    assert_equal "$(list_ids --state failed)" '3'
    assert_equal "$(list_ids -s completed,failed)" '1 2 3'
    assert_equal "$(list_ids -s completed -s not_started)" '1 2 4 5'
    assert_equal "$(list_ids --state open)" '3 4 5'
    assert_equal "$(list_ids --cartridge runner)" '3 4'
    assert_equal "$(list_ids -c status-fs@1.0.0)" '1 2 5'
    assert_equal "$(list_ids -c status-fs@9.9.9)" ''
    assert_equal "$(list_ids --order-type job)" '3 4'
    assert_equal "$(list_ids --since 2026-11-21T09:00:00Z --until 2026-11-23)" '2 3'
    assert_equal "$(list_ids --since 2026-11-23)" '4 5'
    assert_equal "$(list_ids --until 2026-11-21)" '1'
    assert_equal "$(list_ids --external-id J-4)" '4'
    assert_equal "$(list_ids --external-id nosuch)" ''
    assert_equal "$(list_ids --jq '.kind == "svc" and (.items | length) == 1')" '1 2 5'
    assert_equal "$(list_ids -n 2)" '1 2'
    assert_equal "$(list_ids --offset 1 --limit 2)" '2 3'
    assert_equal "$(list_ids --offset 4)" '5'
    assert_equal "$(list_ids --limit 0)" ''
    assert_equal "$(list_ids --jq '.kind == "svc"' --offset 1 -n 1)" '2'
    assert_equal "$(list_ids --state open --cartridge status-fs --since 2026-11-24)" '5'
    # a listing pipes into another stage
    run -0 bash -c 'osm-status --state failed | osm-status | jq -c "[.id, .state, (.tasks | length)]"'
    assert_output '[3,"failed",1]'
}

@test "list: the table, one row per order, with progress and flags" {
    order svc S-1 LINE
    order svc S-2 2026-11-26T09:10:00Z LINE
    echo refuse >mode.reserve
    osm-run 2 >/dev/null
    OSM_NOW=2026-11-26T11:30:00Z run -0 osm-status -a --format table
    assert_equal "${lines[0]}" 'ID  EXTERNAL  CARTRIDGE  STATE        PROGRESS        AGE    EXPECTED          FLAGS'
    assert_equal "${lines[1]}" '1   S-1       status-fs  not_started  .......... 0/2  2h30m  2026-11-26 09:40  -'
    assert_equal "${lines[2]}" '2   S-2       status-fs  failed       .......... 0/2  2h30m  2026-11-26 09:40  late,jeopardy,fallout'
    assert_equal "${#lines[@]}" 3
    # an empty listing is a header
    run -0 osm-status --state cancelled --format table
    assert_output 'ID  EXTERNAL  CARTRIDGE  STATE  PROGRESS  AGE  EXPECTED  FLAGS'
}

@test "tables: every table of osm-status sized to its content, - for empty cells, states coloured on a terminal only" {
    order svc S-1 LINE BOX
    order job A-much-longer-external-id B
    echo refuse >mode.ship; echo LOST >ext.ship
    osm-run 1 2 >/dev/null
    run -0 osm-status -a --format table
    assert_equal "${lines[0]}" 'ID  EXTERNAL                   CARTRIDGE  STATE      PROGRESS        AGE  EXPECTED          FLAGS'
    assert_equal "${lines[1]}" '1   S-1                        status-fs  failed     .......... 3/4  0s   2026-11-27 09:10  fallout'
    assert_equal "${lines[2]}" '2   A-much-longer-external-id  runner     completed  ########## 1/1  0s   2026-11-26 09:01  -'
    # empty cells show "-", to the end of the line
    run -0 osm-status --format table 1
    assert_line 'TASK  FUNCTION  SYSTEM     STATE      TRIES  EXTERNAL  FULFILLMENT  ENDED             ERROR'
    assert_line '1     reserve   inventory  completed  1      DONE      COMPLETE     2026-11-26 09:00  -'
    run -0 osm-status --format table 2
    assert_line '1     add     B     -            completed'
    assert_line '5     one       alpha   completed  1      DONE      -            2026-11-26 09:00  -'
    esc=$'\e'
    # on a terminal: each state cell in its colour, in every table
    for cmd in "osm-status -a --format table" "osm-status --format table 1" "osm-status -S --format table"; do
        run -0 script -qec "$cmd" /dev/null
        [[ "$output" == *"${esc}[31mfailed${esc}[0m"* ]] || { echo "no colour from: $cmd"; echo "$output" | cat -v; false; }
        # NO_COLOR, TERM=dumb, or off a terminal: none
        run -0 env NO_COLOR=1 script -qec "$cmd" /dev/null
        [[ "$output" != *"$esc"* ]] || { echo "colour with NO_COLOR from: $cmd"; false; }
        run -0 env TERM=dumb script -qec "$cmd" /dev/null
        [[ "$output" != *"$esc"* ]] || { echo "colour with TERM=dumb from: $cmd"; false; }
        run -0 $cmd
        [[ "$output" != *"$esc"* ]] || { echo "colour off a terminal from: $cmd"; false; }
    done
    run -0 script -qec "osm-status -a --format table" /dev/null
    assert_line --index 2 --partial "runner     ${esc}[32mcompleted${esc}[0m  ##########"
    # the heading row is never coloured
    run -0 script -qec "osm-status -S --format table" /dev/null
    assert_line --partial "STATE                 ORDERS"
    # an empty value in the order view's heading lines is "-" too
    run -0 osm-status --format table 2
    assert_line 'fulfillment  -'
}

@test "list: bad filters are usage errors; a --jq that fails on an order skips it, exit 65" {
    order svc S-1 LINE
    run -2 --separate-stderr osm-status --state bogus
    assert_equal "${stderr_lines[0]}" 'osm-status: --state: unknown order state "bogus" (not_started, in_progress, suspended, amending, cancelling, cancelled, completed, failed, waiting_for_revision, aborted, or open)'
    assert_equal "${stderr_lines[1]}" "Try 'osm-status --help' for more information."
    run -2 --separate-stderr osm-status --since yesterday
    assert_equal "${stderr_lines[0]}" 'osm-status: --since: not a date: "yesterday" (e.g. 2026-11-26, 2026-11-26T09:00:00Z, now, -2h, +1d)'
    run -2 --separate-stderr osm-status --until 2026-13-01
    run -2 --separate-stderr osm-status --limit -1
    assert_equal "${stderr_lines[0]}" 'osm-status: --limit: expected a whole number, got "-1"'
    run -2 --separate-stderr osm-status --offset x
    run -2 --separate-stderr osm-status --jq '.ref =='
    assert_regex "${stderr_lines[0]}" '^osm-status: --jq: syntax error'
    run -2 --separate-stderr osm-status --state failed 1
    assert_equal "${stderr_lines[0]}" 'osm-status: filters list orders: give no ids'
    run -65 --separate-stderr osm-status --jq '.ref + 1'
    assert_equal "$output" ''
    assert_equal "$stderr" 'osm-status: order 1: --jq: string ("S-1") and number (1) cannot be added'
    run -65 --separate-stderr osm-status -q --jq '.ref + 1'
    assert_equal "$stderr" 'osm-status: order 1: --jq: string ("S-1") and number (1) cannot be added'
}

@test "summary: counts by state and by cartridge, open fallout, jeopardy and late; table; prometheus" {
    order svc S-1 LINE
    order svc S-2 2026-11-26T09:10:00Z LINE
    order job J-3 B
    order job J-4 B
    echo refuse >mode.one
    osm-run 1 3 >/dev/null
    run -0 osm-status --summary
    schemacheck -r "$STATUS_SCHEMA" <<<"$output"
    assert_equal "$(jq -c '[.kind, .at, .orders, .openFallout, .jeopardy, .late]' <<<"$output")" '["summary","2026-11-26T09:00:00Z",4,1,1,1]'
    assert_equal "$(jq -c '.byState | with_entries(select(.value > 0))' <<<"$output")" '{"not_started":2,"completed":1,"failed":1}'
    assert_equal "$(jq -c '.byCartridge | map_values(with_entries(select(.value > 0)))' <<<"$output")" \
        '{"runner":{"not_started":1,"failed":1},"status-fs":{"not_started":1,"completed":1}}'
    run -0 osm-status -S --format table
    assert_line --index 0 '4 orders at 2026-11-26T09:00:00Z: 1 open fallout, 1 in jeopardy, 1 late'
    assert_line 'waiting_for_revision  0'
    assert_line 'runner     failed       1'
    run -0 osm-status --format prometheus
    assert_line --index 0 '# HELP osm_orders Orders in the store, by state.'
    assert_line --index 1 '# TYPE osm_orders gauge'
    assert_line 'osm_orders{state="completed"} 1'
    assert_line 'osm_orders{state="cancelled"} 0'
    assert_line '# TYPE osm_orders_by_cartridge gauge'
    assert_line 'osm_orders_by_cartridge{cartridge="runner",state="failed"} 1'
    assert_line 'osm_orders_by_cartridge{cartridge="status-fs",state="not_started"} 1'
    assert_line '# TYPE osm_fallout_open gauge'
    assert_line 'osm_fallout_open 1'
    assert_line 'osm_orders_jeopardy 1'
    assert_line 'osm_orders_late 1'
    # every sample line is NAME{LABELS} VALUE or NAME VALUE, under its HELP and TYPE
    run -0 bash -c "osm-status --format prometheus | grep -v '^# ' | { grep -cvE '^osm_[a-z_]+(\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*\})? [0-9]+$' || true; }"
    assert_output 0
    assert_equal "$(osm-status --format prometheus | grep -c '^# TYPE ')" 5
    run -2 --separate-stderr osm-status --summary 1
    assert_equal "${stderr_lines[0]}" 'osm-status: --summary and --purge take no order ids'
    run -2 --separate-stderr osm-status --summary --state failed
    assert_equal "${stderr_lines[0]}" 'osm-status: filters and -a go with listing only'
}

@test "history: every event of an order, oldest first, hooks with their requests and answers" {
    order job J-1 B
    order job J-2 B
    echo fail-once >mode.one
    osm-run 1 >/dev/null
    OSM_NOW=2026-11-26T09:01:00Z osm-run 1 >/dev/null
    run -0 osm-status --history 1
    schemacheck -r "$EVENT_SCHEMA" <<<"$output"
    assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$(sql 'select id from events where order_id = 1 order by id' | tr '\n' ' ')"
    assert_equal "$(jq -r .type <<<"$output" | tr '\n' ' ')" 'order.created order.planned order.state task.state hook task.state hook order.state '
    assert_equal "$(jq -c 'select(.type == "hook") | [.order, .task, .data.attempt, .data.exit, .data.stderr, .data.response.status]' <<<"$output")" \
        $'[1,1,1,1,"simulated outage\\n",null]\n[1,1,2,0,"","completed"]'
    assert_equal "$(jq -c 'select(.type == "hook") | .data.request.order.ref' <<<"$output" | head -1)" '"J-1"'
    assert_equal "$(jq -c 'select(.type == "order.state") | [.actor, .data.from, .data.to]' <<<"$output" | tail -1)" "[\"$(id -un)\",\"in_progress\",\"completed\"]"
    # --after, --jq, the table, documents on standard input
    after=$(jq -r 'select(.type == "hook") | .id' <<<"$output" | head -1)
    assert_equal "$(osm-status -H --after "$after" 1 | jq -r .type | tr '\n' ' ')" 'task.state hook order.state '
    assert_equal "$(osm-status -H --jq '.type == "task.state"' 1 | jq -c .data.to | tr '\n' ' ')" '"pending" "completed" '
    run -0 osm-status --history --format table 1
    assert_equal "${#lines[@]}" 9
    assert_regex "${lines[0]}" '^EVENT  AT                ORDER  TASK  TYPE           ACTOR +DETAILS$'
    assert_regex "${lines[2]}" '^[0-9]+ +2026-11-26 09:00  1      -     order.planned  [^ ]+ +1 tasks, start 2026-11-26 09:00, expected 2026-11-26 09:01$'
    assert_regex "${lines[5]}" '^[0-9]+ +2026-11-26 09:00  1      1     hook           [^ ]+ +one on alpha, attempt 1, exit 1$'
    assert_regex "${lines[8]}" '^[0-9]+ +2026-11-26 09:01  1      -     order.state    [^ ]+ +in_progress -> completed$'
    run -0 bash -c 'osm-plan 2 | osm-status --history | jq -r .type'
    assert_output $'order.created\norder.planned'
    run -66 --separate-stderr osm-status --history 1 99
    assert_equal "$stderr" 'osm-status: no such order: 99'
}

@test "follow: the events of a concurrent osm-run, in id order, flushed as they come; resumed without gaps" {
    order job J-1 A
    osm-status --follow --after 0 >feed 2>err &
    pid=$!
    osm-run 1 >/dev/null
    for i in $(seq 100); do grep -q '"to":"completed"}' feed 2>/dev/null && break; sleep 0.05; done
    kill -TERM $pid
    rc=0; wait $pid || rc=$?
    assert_equal "$rc" 0
    assert_equal "$(cat err)" ''
    schemacheck -r "$EVENT_SCHEMA" feed
    # every event, store-wide ones too, once each, in id order
    assert_equal "$(jq -r .id feed)" "$(sql 'select id from events order by id')"
    assert_equal "$(jq -r 'select(.order == null) | .type' feed)" $'cartridge.deployed\ncartridge.deployed'
    # resumed after an event: exactly those after it
    mid=$(sql 'select id from events order by id limit 1 offset 6')
    run -0 timeout --foreground --preserve-status -s TERM 1 osm-status --follow --after "$mid"
    assert_equal "$(jq -r .id <<<"$output")" "$(sql "select id from events where id > $mid order by id")"
    # without --after: only what comes next
    osm-status --follow >next &
    pid=$!
    sleep 0.5
    order job J-2 B
    for i in $(seq 100); do grep -q order.planned next 2>/dev/null && break; sleep 0.05; done
    kill -TERM $pid
    wait $pid
    assert_equal "$(jq -r '[.order, .type] | @tsv' next)" $'2\torder.created\n2\torder.planned'
}

@test "follow: only some orders, a cartridge's, or the events --jq picks" {
    order job J-1 B
    order svc S-2 LINE
    osm-run 1 2 >/dev/null
    run -0 timeout --foreground --preserve-status -s TERM 0.5 osm-status --follow --after 0 2
    assert_equal "$(jq -r .order <<<"$output" | sort -u)" '2'
    assert_equal "$(jq -r .id <<<"$output")" "$(sql 'select id from events where order_id = 2 order by id')"
    run -0 timeout --foreground --preserve-status -s TERM 0.5 osm-status -f --after 0 -c runner
    assert_equal "$(jq -r .order <<<"$output" | sort -u)" '1'
    run -0 timeout --foreground --preserve-status -s TERM 0.5 osm-status -f --after 0 --jq '.type == "order.state" and .data.to == "completed"'
    assert_equal "$(jq -r .order <<<"$output")" $'1\n2'
    run -0 timeout --foreground --preserve-status -s TERM 0.5 osm-status -f --after 0 --format table 1
    assert_regex "${lines[0]}" '^EVENT +AT +ORDER +TASK +TYPE +ACTOR +DETAILS$'
    assert_regex "${lines[1]}" '^[0-9]+ +2026-11-26 09:00  1      -     order.created  [^ ]+ +runner 1.0.0 job, not_started$'
    run -2 --separate-stderr osm-status --follow -c runner@1.0.0
    assert_equal "${stderr_lines[0]}" 'osm-status: --follow --cartridge takes a name, not a version: "runner@1.0.0"'
}

@test "wait: 0 when the orders complete, 1 when one fails, 75 at the timeout, 66 for an unknown one" {
    order job J-1 B
    osm-status --wait 1 >out &
    pid=$!
    sleep 0.3
    osm-run 1 >/dev/null
    rc=0; wait $pid || rc=$?
    assert_equal "$rc" 0
    assert_equal "$(jq -c '[.kind, .id, .state]' out)" '["status",1,"completed"]'
    order job J-2 B
    echo refuse >mode.one
    osm-run 2 >/dev/null
    run -1 osm-status --wait 1 2
    assert_equal "$(jq -c '[.id, .state]' <<<"$output")" $'[1,"completed"]\n[2,"failed"]'
    order job J-3 B
    run -75 --separate-stderr osm-status --wait --timeout PT0.3S 3
    assert_equal "$stderr" 'osm-status: --timeout: the orders have not ended'
    assert_equal "$(jq -c '[.id, .state]' <<<"$output")" '[3,"not_started"]'
    run -66 --separate-stderr osm-status -w 1 99
    assert_equal "$stderr" 'osm-status: no such order: 99'
    assert_equal "$(jq -c .id <<<"$output")" '1'
    run -0 bash -c 'echo 1 | osm-status --wait | jq -r .state'
    assert_output completed
    run -0 osm-status -w --format table 1
    assert_line --index 0 'order 1 (J-1): runner 1.0.0, job'
    run -2 --separate-stderr osm-status --timeout PT1S 1
    assert_equal "${stderr_lines[0]}" 'osm-status: --timeout goes with --wait'
}

@test "purge: ended orders before the date go, with their tasks and history; open ones stay" {
    order job J-1 A                     # completed at 09:00
    order job J-2 B                     # failed: open, however old
    order job J-3 B                     # not started
    echo refuse >mode.one
    osm-run 1 2 >/dev/null
    rm mode.one
    OSM_NOW=2026-12-05T00:00:00Z order job J-4 B
    OSM_NOW=2026-12-05T00:00:00Z osm-run 4 >/dev/null
    order job J-5 B
    sql "update orders set state = 'aborted', ended_at = $(epoch_ms 2026-11-27) where id = 5"
    run -0 --separate-stderr osm-status --purge --before 2026-12-01
    assert_equal "$stderr" ''
    schemacheck -r "$STATUS_SCHEMA" <<<"$output"
    assert_equal "$output" '{"kind":"purge","deleted":2,"before":"2026-12-01T00:00:00Z"}'
    assert_equal "$(sql 'select id, state from orders order by id' | tr '\n' ' ')" '2|failed 3|not_started 4|completed '
    assert_equal "$(sql 'select count(*) from tasks where order_id in (1, 5)')" 0
    assert_equal "$(sql 'select count(*) from events where order_id in (1, 5)')" 0
    assert_equal "$(sql 'select count(*) from order_items where order_id in (1, 5)')" 0
    assert_equal "$(sql "select data from events where type = 'orders.purged'" | json_rows 0 '[.deleted, .before] | map(sqlv) | join("|")')" '2|2026-12-01T00:00:00Z'
    run -66 osm-status 1
    run -0 osm-status --purge --before 2026-12-01 --format table
    assert_output 'purged 0 orders that ended before 2026-12-01T00:00:00Z'
    # far in the future: every ended order, never an open one
    run -0 osm-status --purge --before 2100-01-01
    assert_equal "$(jq -c .deleted <<<"$output")" 1
    assert_equal "$(sql 'select id from orders order by id' | tr '\n' ' ')" '2 3 '
}

@test "purge: in transactions of 500 orders" {
    order job J-1 B
    osm-run 1 >/dev/null
    sql "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1100)
         insert into orders (external_id, cartridge, cartridge_version, order_type, state, original, body,
                             created_at, updated_at, ended_at)
         select 'copy-' || i, cartridge, cartridge_version, order_type, 'completed', original, body,
                created_at, updated_at, ended_at from n, orders where orders.id = 1"
    run -0 --separate-stderr osm-status -v --purge --before 2026-11-27
    assert_equal "$output" '{"kind":"purge","deleted":1101,"before":"2026-11-27T00:00:00Z"}'
    assert_equal "$stderr" $'osm-status: purged 500 orders\nosm-status: purged 1000 orders\nosm-status: purged 1101 orders'
    assert_equal "$(sql 'select count(*) from orders')" 0
}

@test "usage: modes that do not go together, missing and bad values" {
    run -2 --separate-stderr osm-status --summary --history 1
    assert_equal "${stderr_lines[0]}" 'osm-status: choose one of --summary, --history, --follow, --wait, --purge and --original'
    run -2 --separate-stderr osm-status --purge
    assert_equal "${stderr_lines[0]}" 'osm-status: --purge needs --before DATE'
    run -2 --separate-stderr osm-status --purge --before 2026-13-45
    assert_regex "${stderr_lines[0]}" '^osm-status: --before: not a date: "2026-13-45"'
    run -2 --separate-stderr osm-status --before 2026-11-01
    assert_equal "${stderr_lines[0]}" 'osm-status: --before goes with --purge'
    run -2 --separate-stderr osm-status --after 3 1
    assert_equal "${stderr_lines[0]}" 'osm-status: --after goes with --follow or --history'
    run -2 --separate-stderr osm-status --wait --timeout soon 1
    assert_equal "${stderr_lines[0]}" 'osm-status: --timeout: not a duration: "soon" (e.g. 200ms, 0.2s, 2m, 1h30m, 2d or PT5S)'
    run -2 --separate-stderr osm-status --format xml
    assert_equal "${stderr_lines[0]}" 'osm-status: unknown format "xml" (json, table, prometheus or html)'
    run -2 --separate-stderr osm-status --format prometheus --history 1
    run -2 --separate-stderr osm-status --jq . 1
    assert_equal "${stderr_lines[0]}" 'osm-status: --jq filters a listing, --history or --follow'
    run -2 --separate-stderr osm-status --cartridge runner --wait 1
    run -2 --separate-stderr osm-status x1
    assert_equal "${stderr_lines[0]}" 'osm-status: "x1" is not an order id (an external id? name it ext:x1)'
    run -2 --separate-stderr osm-status --bogus
    assert_equal "${stderr_lines[0]}" 'osm-status: unknown option "--bogus"'
    run -2 --separate-stderr osm-status --state
    assert_equal "${stderr_lines[0]}" 'osm-status: option "--state" needs an argument'
    run -0 osm-status --help
    assert_line --index 0 --regexp '^usage: osm-status '
    run -0 osm-status --version
}

@test "status: osm-status links no archive library (start-up is most of a call)" {
    command -v readelf >/dev/null || skip "readelf (binutils) is not installed"
    run -0 readelf -d "$(command -v osm-status)"
    [[ $output == *'(NEEDED)'*'libjq'* ]]
    [[ $output != *libarchive* ]]
    run -0 readelf -d "$(command -v osm-cartridge)"
    [[ $output == *'(NEEDED)'*'libarchive'* ]]
}
