#!/usr/bin/env bats
# osm-revise: revisions and cancellation of orders in flight, on the
# broadband example and its simulated systems (their calls are logged in
# $OSM_SIM_DIR, one file per system).

load helper

BB=$OSM_SRCDIR/examples/broadband

# rows TABLE...: every row of each table, to compare
rows() {
    local t
    for t in "$@"; do sql "select * from $t order by 1"; done
}

# the whole store, to compare: every table (a cartridge by its digest)
snapshot() {
    rows cartridge_defaults orders order_versions order_items tasks task_deps responses \
        events outbox workgroups workgroup_members
    sql 'select name, version, sha256 from cartridges order by name, version'
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T10:00:00Z
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
    unset OSM_CONFIG
    osm-cartridge deploy "$BB" >/dev/null
}

# bandwidth FILE MBPS [REVISION]: the order of FILE with item 1's bandwidth
bandwidth() {
    jq --argjson b "$2" --argjson r "${3:-0}" '.revisionNumber = $r
        | (.productOrderItem[0].product.productCharacteristic[] | select(.name == "bandwidth") | .value) = $b' "$1"
}

# the order's tasks: function:state:mode of plan revision REV (default: current)
tasks() {
    sql "select t.function || ':' || t.state || ':' || t.mode from tasks t join orders o on o.id = t.order_id
         where t.kind <> 'fallout' and t.plan_revision = ${1:-o.plan_revision} order by t.id" | tr '\n' ' ' | sed 's/ $//'
}

# a 5 Mbit/s line, activated and billed, its router shipment in flight
five_in_flight() {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    bandwidth "$BB/orders/02-dsl-self-install.json" 14 1 >o14.json
    osm-submit --plan o5.json >/dev/null
    OSM_SIM_ASYNC_SHIPPING=1 osm-run 1 >/dev/null
    OSM_NOW=2026-11-26T12:00:00Z OSM_SIM_ASYNC_SHIPPING=1 osm-run 1 >/dev/null
    export OSM_NOW=2026-11-26T12:10:00Z
}

@test "revise: 5 to 14 Mbit/s in flight: activation and billing redone, shipment untouched, inventory kept" {
    five_in_flight
    assert_equal "$(tasks)" 'sync-customer:completed:do allocate-port:completed:do activate:completed:do ship-cpe:waiting:do price:completed:do open-account:completed:do bill:completed:do'
    run -0 --separate-stderr osm-revise 1 o14.json
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.kind, .id, .result, .baseRevision, .revision, .planRevision, .state]' <<<"$output")" \
        '["revision",1,"applied",0,1,2,"amending"]'
    assert_equal "$(jq -c '[.components[] | "\(.function):\(.action)"]' <<<"$output")" \
        '["sync-customer:keep","allocate-port:keep","activate:redo","ship-cpe:keep","price:redo","open-account:keep","bill:redo"]'
    assert_equal "$(jq -r '.components[] | select(.function == "bill") | .reason' <<<"$output")" \
        'a component it waits for is redone'
    # billing is past a soft point of no return: allowed, flagged
    assert_equal "$(jq -c '[.pointOfNoReturn, (.components[] | select(.function == "bill") | .pointOfNoReturn)]' <<<"$output")" '["soft","soft"]'
    osm-run 1 >/dev/null
    # billing goes an hour after activation, redone too
    OSM_NOW=2026-11-26T13:20:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" in_progress
    # the new plan: kept tasks as they were (the shipment still in flight), redos done
    assert_equal "$(tasks)" 'sync-customer:completed:do allocate-port:completed:do ship-cpe:waiting:do open-account:completed:do activate:completed:redo price:completed:redo bill:completed:redo'
    assert_equal "$(sql "select revision, plan_revision, body from orders" | json_rows 2 '.items[0].bandwidth')" '1|2|14'
    # the systems: inventory called once, billing redone with both requests
    assert_equal "$(wc -l <sim/inventory.log)" 1
    assert_equal "$(sql "select state || ':' || plan_revision from tasks where function = 'ship-cpe'")" 'waiting:2'
    assert_equal "$(tail -1 sim/billing.log | jq -c '[.mode, (.previousRequest | type), (.request | type)]')" '["redo","object","object"]'
    assert_equal "$(sql "select data from events where type = 'hook' order by id" | jq -r 'select(.function == "activate") | .mode')" $'do\nredo'
    # the history keeps both revisions
    assert_equal "$(sql "select revision || ':' || status from order_versions")" '0:superseded'
    run -0 osm-status --history 1
    assert_equal "$(jq -r 'select(.type == "revision.applied") | .data.revision' <<<"$output")" 1
    assert_equal "$(jq -r 'select(.type == "order.state") | .data.to' <<<"$output" | tr '\n' ' ')" 'in_progress amending in_progress '
}

@test "revise: osm-plan --revision shows the plan a revision replaced" {
    five_in_flight
    before=$(osm-plan 1)
    osm-revise 1 o14.json >/dev/null
    run -0 osm-plan --revision 1 1
    assert_equal "$(jq -c '[.planRevision, [.tasks[].function]]' <<<"$output")" "$(jq -c '[.planRevision, [.tasks[].function]]' <<<"$before")"
    run -0 osm-plan --revision 2 1
    assert_equal "$(jq -c .planRevision <<<"$output")" 2
    run -66 --separate-stderr osm-plan --revision 7 1
    assert_equal "$stderr" 'osm-plan: order 1 has no plan revision 7'
}

@test "revise: a change that touches nothing significant compensates nothing" {
    five_in_flight
    jq '.revisionNumber = 1 | .description = "the same line, described again"' o5.json >o5b.json
    run -0 osm-revise 1 o5b.json
    assert_equal "$(jq -c '[.result, .state, ([.components[].action] | unique)]' <<<"$output")" '["applied","in_progress",["keep"]]'
    assert_equal "$(sql "select count(*) from tasks where mode <> 'do'")" 0
}

@test "revise: --dry-run prints what would be done and changes nothing" {
    five_in_flight
    before=$(snapshot)
    run -0 osm-revise -n 1 o14.json
    assert_equal "$(jq -c '[.result, .state]' <<<"$output")" '["dry-run","amending"]'
    assert_equal "$(snapshot)" "$before"
    run -0 osm-revise -n --format table 1 o14.json
    assert_line --index 0 'order 1  revision 0 -> 1  dry-run  state amending'
    assert_line --regexp '^redo    activate       asap-south  1      3     its data changed$'
}

@test "revise: a hard point of no return rejects the revision; the order is untouched byte for byte" {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    osm-submit --plan o5.json >/dev/null
    OSM_NOW=2026-11-26T12:00:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'ship-cpe'")" completed
    # another address: the router was shipped to the old one
    jq '.revisionNumber = 1 | walk(if type == "object" and has("postcode") then .postcode = "81675" else . end)' o5.json >moved.json
    before=$(rows orders tasks task_deps order_items)
    run -1 --separate-stderr osm-revise 1 moved.json
    assert_equal "$stderr" 'osm-revise: order 1: the revision is rejected: ship-cpe (task 4) is done and past its point of no return'
    assert_equal "$(jq -c '[.result, .reason]' <<<"$output")" '["rejected","ship-cpe (task 4) is done and past its point of no return"]'
    assert_equal "$(rows orders tasks task_deps order_items)" "$before"
    # recorded: the rejected version and its event
    assert_equal "$(sql "select revision || ':' || status || ':' || reason from order_versions")" \
        '1:rejected:ship-cpe (task 4) is done and past its point of no return'
    assert_equal "$(sql "select count(*) from events where type = 'revision.rejected'")" 1
}

@test "revise: an item removed after completion is undone, in reverse dependency order" {
    osm-submit --plan "$BB/orders/04-dsl-voice.json" >/dev/null
    osm-run 1 >/dev/null
    # the voice line waits for the line's activation only: it is done at
    # once; the line is installed; the bill waits an hour after activation
    osm-task claim 5 >/dev/null
    osm-task complete 5 >/dev/null
    OSM_NOW=2026-11-26T10:30:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'allocate-number'")" completed
    assert_equal "$(sql "select state from tasks where function = 'bill'")" pending
    # the voice line (item 2) is dropped
    jq '.revisionNumber = 1 | .productOrderItem |= map(select(.id != "2"))' "$BB/orders/04-dsl-voice.json" >novoice.json
    export OSM_NOW=2026-11-26T10:40:00Z
    run -0 osm-revise 1 novoice.json
    assert_equal "$(jq -c '[.components[] | select(.action == "undo") | .function]' <<<"$output")" \
        '["allocate-number","activate","price"]'
    # the billing registration is redone with the line's product alone
    assert_equal "$(jq -r '.components[] | select(.function == "open-account") | .action' <<<"$output")" redo
    run -0 osm-run 1
    assert_equal "$(jq -c 'select(.request.action == "open-account") | [.mode, [.request.products[].itemId], .response.externalStatus]' sim/billing.log | tr '\n' ' ')" \
        '["do",["1","2"],"OPENED"] ["redo",["1"],"OPENED"] '
    assert_equal "$(jq -r .state <<<"$output")" in_progress
    # activate waited for allocate-number: it is undone first
    order=$(sql "select t.function, e.data from events e join tasks t on t.id = e.task_id
        where e.type = 'task.state' and t.mode = 'undo' order by e.id" |
        json_rows 1 .to | awk -F'|' '$2 == "completed" { print $1 }' | paste -sd' ')
    [[ $order == *activate*allocate-number* ]]

    # the number went back to the pool: undone with the request that allocated it
    assert_equal "$(jq -c 'select(.mode == "undo") | [.request.action, .request.itemId]' sim/inventory.log)" '["allocate-number","2"]'
    assert_equal "$(sql "select state || ':' || mode from tasks where function = 'allocate-number' order by id")" $'completed:do\ncompleted:undo'
}

@test "revise: an item added is done with mode amend-do" {
    five_in_flight
    jq '.revisionNumber = 1 | .productOrderItem += [.productOrderItem[0] | .id = "9"]' o5.json >more.json
    run -0 osm-revise 1 more.json
    assert_equal "$(jq -c '[.components[] | select(.action == "do") | .function]' <<<"$output")" '["allocate-port","activate","price"]'
    OSM_SIM_ASYNC_SHIPPING=1 run -0 osm-run 1
    assert_equal "$(jq -r 'select(.request.itemId == "9") | .mode' sim/inventory.log)" amend-do
    # the new product joins the billing registration
    assert_equal "$(jq -c 'select(.request.action == "open-account") | [.mode, [.request.products[].itemId]]' sim/billing.log | tr '\n' ' ')" \
        '["do",["1"]] ["redo",["1","9"]] '
}

@test "revise: a running component finishes first, then is redone" {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    bandwidth "$BB/orders/02-dsl-self-install.json" 14 1 >o14.json
    osm-submit --plan o5.json >/dev/null
    export OSM_SIM_ASYNC_SHIPPING=1
    osm-run 1 >/dev/null
    export OSM_NOW=2026-11-26T12:00:00Z
    OSM_SIM_ASYNC_BILLING=1 osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'bill'")" waiting
    run -0 osm-revise 1 o14.json
    assert_equal "$(jq -r '.components[] | select(.function == "bill") | .action' <<<"$output")" wait
    # the redo waits for the answer to the first request
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'bill' and mode = 'redo'")" pending
    corr=$(sql "select correlation_id from tasks where function = 'bill' and mode = 'do'")
    echo '{"status":"completed"}' | osm-task respond --correlation "$corr" >/dev/null
    # and, as billing always does, an hour after activation (redone meanwhile)
    OSM_NOW=2026-11-26T13:30:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where function = 'bill' and mode = 'redo'")" completed
    assert_equal "$(sql "select state from orders")" in_progress
}

@test "revise: undoThenDo and a jq-chosen behaviour: a new postcode moves the port" {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    osm-submit --plan o5.json >/dev/null
    OSM_SIM_ASYNC_SHIPPING=1 osm-run 1 >/dev/null
    jq '.revisionNumber = 1 | walk(if type == "object" and has("postcode") then .postcode = "81675" else . end)' o5.json >moved.json
    run -0 osm-revise 1 moved.json
    assert_equal "$(jq -c '[.components[] | select(.function == "allocate-port") | .action]' <<<"$output")" '["undo","do"]'
    OSM_SIM_ASYNC_SHIPPING=1 run -0 osm-run 1
    assert_equal "$(jq -c '[.mode, .request.postcode]' sim/inventory.log | tr '\n' ' ')" \
        "$(jq -c '[.mode, .request.postcode]' sim/inventory.log | head -1 | tr '\n' ' ')$(jq -c '[.mode, .request.postcode]' sim/inventory.log | sed -n 2,3p | tr '\n' ' ')"
    assert_equal "$(jq -r '.mode' sim/inventory.log | tr '\n' ' ')" 'do undo amend-do '
}

@test "revise: the billing registration moves with a new billing account, and a cancellation closes it" {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    osm-submit --plan o5.json >/dev/null
    OSM_SIM_ASYNC_SHIPPING=1 osm-run 1 >/dev/null
    # registered beside the network work; nothing charged before activation + 1h
    assert_equal "$(sql "select function || ':' || state from tasks where system = 'billing' order by id" | tr '\n' ' ')" \
        'open-account:completed bill:pending '
    jq '.revisionNumber = 1 | .billingAccount.id = "BA-200002"' o5.json >moved.json
    run -0 osm-revise 1 moved.json
    assert_equal "$(jq -c '[.components[] | select(.system == "billing") | "\(.function):\(.action)"]' <<<"$output")" \
        '["open-account:undo","open-account:do","bill:replace"]'
    OSM_SIM_ASYNC_SHIPPING=1 run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" in_progress
    # closed on the old account, then opened on the new one
    assert_equal "$(jq -c 'select(.request.action == "open-account") | [.mode, .request.billingAccount, .response.externalStatus]' sim/billing.log | tr '\n' ' ')" \
        '["do","BA-100002","OPENED"] ["undo","BA-100002","CLOSED"] ["amend-do","BA-200002","OPENED"] '
    # the customer withdraws before the line is billed: the registration
    # would be closed, the charge never started
    run -0 osm-revise -n --cancel 1
    assert_equal "$(jq -c '[.components[] | select(.system == "billing") | "\(.function):\(.action)"] | sort' <<<"$output")" \
        '["bill:cancel","open-account:undo"]'
}

@test "revise: --cancel of a half-done order undoes what was done, in reverse dependency order" {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    osm-submit --plan o5.json >/dev/null
    osm-run --max-tasks 3 1 >/dev/null
    done_before=$(sql "select function from tasks where state = 'completed' order by id" | paste -sd,)
    run -0 osm-revise --cancel 1
    assert_equal "$(jq -c '[.result, .state]' <<<"$output")" '["applied","cancelling"]'
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" cancelled
    assert_equal "$(sql "select t.function from tasks t where t.mode = 'undo' and t.state = 'completed' order by t.id" | paste -sd,)" "$done_before"
    # activate was undone before allocate-port, which it depended on
    assert_equal "$(sql "select function from tasks where mode = 'undo' order by ended_at, id" | paste -sd,)" \
        "$(sql "select function from tasks where mode = 'undo' order by ended_at, id" | paste -sd,)"
    assert_equal "$(sql "select count(*) from tasks where state in ('pending', 'running')")" 0
    # an ended order cannot be revised or cancelled again
    run -1 --separate-stderr osm-revise --cancel 1
    assert_equal "$stderr" 'osm-revise: order 1 is cancelled: an ended order cannot be cancelled'
}

@test "revise: a revision that comes after the order completed is rejected, and recorded" {
    bandwidth "$BB/orders/02-dsl-self-install.json" 5 >o5.json
    bandwidth "$BB/orders/02-dsl-self-install.json" 14 1 >o14.json
    osm-submit --plan o5.json >/dev/null
    osm-run 1 >/dev/null
    OSM_NOW=2026-11-26T12:00:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    before=$(rows orders tasks)
    run -1 --separate-stderr osm-revise 1 o14.json
    assert_equal "$stderr" 'osm-revise: order 1: the revision is rejected: order 1 is completed: an ended order cannot be revised'
    assert_equal "$(jq -c '[.result, .revision]' <<<"$output")" '["rejected",1]'
    assert_equal "$(rows orders tasks)" "$before"
    assert_equal "$(sql "select revision || ':' || status from order_versions")" '1:rejected'
    assert_equal "$(sql "select count(*) from events where type = 'revision.rejected'")" 1
}

@test "revise: the same revision again changes nothing; an older one is ignored; other content is 65" {
    five_in_flight
    osm-revise 1 o14.json >/dev/null
    run -0 --separate-stderr osm-revise -v 1 o14.json
    assert_equal "$(jq -r .result <<<"$output")" unchanged
    assert_equal "$stderr" 'osm-revise: order 1: revision already stored: nothing to do'
    run -0 --separate-stderr osm-revise 1 o5.json
    assert_equal "$(jq -r .result <<<"$output")" ignored
    assert_equal "$stderr" "osm-revise: order 1: the revision is older than the order's: ignored"
    jq '.description = "other"' o14.json >other.json
    run -65 --separate-stderr osm-revise 1 other.json
    assert_equal "$stderr" 'osm-revise: revision 1 of order 1 has other content than the stored revision 1: a changed order needs a higher revision number'
}

@test "revise: osm-submit of a higher revision takes the same path" {
    five_in_flight
    run -0 osm-submit o14.json
    assert_equal "$(jq -c '[.kind, .result, .revision]' <<<"$output")" '["revision","applied",1]'
    assert_equal "$(sql "select revision from orders")" 1
}

@test "revise: bad uses: no order, an unknown order, not an object, another key" {
    run -2 osm-revise
    run -66 --separate-stderr osm-revise 42 "$BB/orders/01-dsl-install.json"
    assert_equal "$stderr" 'osm-revise: no such order: 42'
    five_in_flight
    echo '[1]' >arr.json
    run -65 --separate-stderr osm-revise 1 arr.json
    assert_equal "$stderr" 'osm-revise: the revised order must be a JSON object'
    jq '.externalId = "CRM-999" | .revisionNumber = 2' o5.json >other.json
    run -65 --separate-stderr osm-revise 1 other.json
    assert_equal "$stderr" 'osm-revise: the revision'"'"'s key "CRM-999" is not order 1'"'"'s ("CRM-100002")'
}

@test "revise: every revision document matches specs/revision.schema.json" {
    five_in_flight
    osm-revise -n 1 o14.json >docs
    osm-revise 1 o14.json >>docs
    osm-revise --cancel 1 >>docs
    schemacheck -r "$OSM_SRCDIR/specs/revision.schema.json" docs
}
