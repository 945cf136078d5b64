#!/usr/bin/env bats
# The demo (`make demo`, examples/demo.sh) tells the whole story: every
# step appears, in order, and what it tells happened in the store; every
# order ends completed or cancelled, and the HTML report is written.

load helper

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$OSM_BUILDDIR" demo \
        DEMO_DIR="$BATS_FILE_TMPDIR/demo" >demo.out 2>demo.err
    echo $? >demo.status
}

setup() {
    cd "$BATS_FILE_TMPDIR" || return 1
    export OSM_DB=$BATS_FILE_TMPDIR/demo/osm.db OSM_NOW=2027-03-02T12:00:00Z
    export OSM_SIM_DIR=$BATS_FILE_TMPDIR/demo/sim
    unset OSM_CONFIG
}

@test "demo: make demo succeeds, says nothing on stderr, and writes the report" {
    assert_equal "$(cat demo.status)" 0
    assert_equal "$(cat demo.err)" ""
    assert_file_exists demo/report/index.html
    assert_equal "$(tail -n 1 demo.out)" "$BATS_FILE_TMPDIR/demo/report/index.html"
}

@test "demo: the steps of the story appear, in order, a heading each" {
    run grep -E '^== [0-9]+\. ' demo.out
    assert_equal "$(sed -n 's/^== \([0-9]*\)\. .*/\1/p' demo.out | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 11 12 "
    headings=$(sed -n 's/^== [0-9]*\. \(.*\)  \[.*\]$/\1/p' demo.out)
    assert_equal "$headings" "The cartridges, the business logic, are deployed into the order store
Orders arrive from the CRM and the web shop; an invalid one is refused
Plans are drawn: each order's tasks, their dependencies and dates
Systems do the work: CRM, inventory, activation, shipping, payments
A technician of field-tech claims and completes an installation
A customer upgrades from 5 to 14 Mbit/s while the order is in flight
A customer withdraws a speed change before it is billed: cancelled
Billing refuses an order: its task falls out to the order desk
An operator gives the order its billing account and retries
Future-dated orders wait for their start date
The start date of order 6 has come: its work begins
Every order has ended, completed or cancelled"
    # the clock only moves on, and ends where the report is written
    clocks=$(sed -n 's/^== .*\[\(.*\)\]$/\1/p' demo.out)
    assert_equal "$clocks" "$(sort <<<"$clocks")"
    assert_equal "$(tail -n 1 <<<"$clocks")" 2027-03-02T12:00:00Z
}

@test "demo: every order ends completed or cancelled" {
    run -0 osm-status --all </dev/null
    assert_equal "$(jq -r .state <<<"$output" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')" \
        "cancelled=1 completed=15 "
    assert_equal "$(osm-task list | jq -s length)" 0
    # the people's other work was done as time passed
    run -0 sed -n '/^== 12\./,$p' demo.out
    assert_line --regexp '^  from step 10 on, the clock moved [0-9]+ times, to each instant work was due,$'
    assert_line --regexp '^  and technicians and packers did the [1-9][0-9]* other tasks waiting for them$'
    # and the table of the last step says so
    assert_equal "$(sed -n '/^== 12\./,$p' demo.out | grep -cE '^  [0-9]+ +[A-Z]+-[0-9]+ +[a-z]+ +(completed|cancelled) ')" 16
}

@test "demo: the invalid order is refused with its reasons" {
    run -0 grep -A 6 '^  REFUSED  CRM-100107: order is not valid$' demo.out
    assert_line '           .relatedParty: no related party with role "customer"'
    assert_line '           .productOrderItem[1].action: unknown action "upgrade" (add, modify, delete or noChange)'
    assert_equal "$(osm-status --external-id CRM-100107 </dev/null)" ""
}

@test "demo: a technician of field-tech claimed and completed order 1's installation" {
    run -0 osm-task workgroup list field-tech
    assert_equal "$(jq -r .user <<<"$output")" "$(id -un)"
    run -0 osm-status --history 1
    assert_equal "$(jq -r 'select(.type == "task.state" and .data.function == "install") | .data.to' <<<"$output" | tr '\n' ' ')" \
        "waiting claimed completed "
    assert_equal "$(jq -r 'select(.type == "task.state" and .data.function == "install" and .data.to == "claimed") | .actor' <<<"$output")" "$(id -un)"
}

@test "demo: the upgrade from 5 to 14 Mbit/s was worked out, then applied in flight" {
    id=$(osm-status --external-id CRM-100010 </dev/null | jq -r .id)
    run -0 sed -n '/^== 6\./,/^== 7\./p' demo.out
    assert_line "  \$ osm-revise --dry-run --format table $id upgrade.json"
    assert_line --regexp '^  redo +activate +asap-'
    assert_line "  order $id: revision 1 applied"
    assert_equal "$(osm-status "$id" | jq -c '[.revision, .state]')" '[1,"completed"]'
    assert_equal "$(sql "select body from orders where id = $id" | jq -r '.items[0].bandwidth')" 14
    # the line was activated twice: at 5, then redone at 14
    assert_equal "$(jq -c 'select(.request.customerId == "CUST-5010") | [.mode, .request.services[0].bandwidth // .request.bandwidth]' demo/sim/asap-north.log | tr '\n' ' ')" \
        '["do",5] ["redo",14] '
}

@test "demo: billing refused an order, an operator gave it an account and retried" {
    id=$(osm-status --external-id CRM-100011 </dev/null | jq -r .id)
    run -0 sed -n '/^== 8\./,/^== 10\./p' demo.out
    assert_line --regexp "^  [0-9]+ +$id +bill +fallout +waiting +order-fallout .*unknown billing account \"CUST-5011\"$"
    assert_line "  order $id  CRM-100011  failed"
    assert_line "  order $id  CRM-100011  completed"
    # its products were registered at once, on the customer's own account;
    # only the charge needs an account billing knows
    assert_equal "$(jq -r 'select(.request.customerId == "CUST-5011") | [.request.action, .request.billingAccount // "-", .response.externalStatus] | join(" ")' demo/sim/billing.log)" \
        "open-account - OPENED
charge CUST-5011 REJECTED
charge BA-100011 BILLED"
    assert_equal "$(osm-status --history "$id" | jq -r 'select(.type == "order.state") | .data.to' | tr '\n' ' ')" \
        "in_progress failed in_progress completed "
}

@test "demo: billing registered the products beside inventory, and charged once the services were live" {
    # at the first run every line started now had its products registered
    # as its port or number was allocated; no charge went before 12:00
    assert_equal "$(jq -r 'select(.now == "2026-11-26T09:00:00Z") | .request.action' demo/sim/billing.log | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')" \
        "close=1 open-account=7 "
    assert_equal "$(jq -r 'select(.now == "2026-11-26T09:00:00Z") | .order.id' demo/sim/inventory.log | sort -n | uniq | tr '\n' ' ')" \
        "$(jq -r 'select(.now == "2026-11-26T09:00:00Z" and .request.action == "open-account") | .order.id' demo/sim/billing.log | sort -n | tr '\n' ' ')"
    # and every order's charge came after its registration
    assert_equal "$(jq -s '[group_by(.order.id)[] | map(.request.action) | select(index("open-account") != null and index("charge") < index("open-account"))] | length' demo/sim/billing.log)" 0
}

@test "demo: the future-dated orders waited for their start dates" {
    run -0 sed -n '/^== 10\./,/^== 11\./p' demo.out
    assert_line "  order 6  CRM-100006  not_started  starts 2027-02-25T11:45:00Z  wanted by 2027-03-01T12:00:00Z"
    run -0 osm-status 6
    assert_equal "$(jq -c '[.state, .late, .startedAt >= "2027-02-25T11:45:00Z"]' <<<"$output")" '["completed",false,true]'
}

@test "demo: one order was cancelled, what was done of it undone" {
    id=$(osm-status --external-id CRM-100007 </dev/null | jq -r .id)
    assert_equal "$(osm-status "$id" | jq -r .state)" cancelled
    run -0 sed -n '/^== 7\./,/^== 8\./p' demo.out
    assert_line --regexp '^  undo +activate '
    assert_line "  order $id  CRM-100007  cancelled"
}
