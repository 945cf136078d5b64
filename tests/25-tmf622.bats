#!/usr/bin/env bats
# TMF622 ProductOrders as sources send them: the v5 externalId array,
# string priorities, requested start dates, every problem with the
# customer order's path, the order as received, item-level TMF states;
# open catalogues (glob and default patterns, a pattern chosen by jq, an
# order type's own items mapping).

load helper

TMF=$OSM_SRCDIR/tests/fixtures/tmf622
CART=$OSM_SRCDIR/tests/fixtures/cartridges/tmf622

deploy_tmf() {
    osm-cartridge deploy "$CART" >/dev/null
}

@test "tmf622: the default key takes a v5 externalId array's first id; a string priority counts" {
    deploy_tmf
    run -0 --separate-stderr osm-submit "$TMF/v5-key.json"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.externalId, .priority, .requestedStartDate, .items[0].requestedStartDate]' <<<"$output")" \
        '["SO-5001",1,"2026-12-01T08:00:00.123Z",null]'
    assert_equal "$(sql 'select external_id, priority from orders')" 'SO-5001|1'
}

@test "tmf622: a key osm cannot use is named at its field, with what to write instead" {
    run -1 --separate-stderr osm-validate -c "$CART" "$TMF/several-problems.json"
    assert_equal "$(jq -r '.errors[0].path' <<<"$output")" .externalId
    assert_equal "$(jq -r '.errors[0].message' <<<"$output")" \
        'the order key must be a string, a whole number or a TMF622 externalId array (its first entry'"'"'s id), got {"id":"SO-5002"}: set the order type'"'"'s "key" to a jq program giving it, e.g. first(.externalId[] | select(.owner == "crm") | .id)'
}

@test "tmf622: every problem is listed: a bad key hides neither priority, dates nor items" {
    deploy_tmf
    run -1 --separate-stderr osm-submit "$TMF/several-problems.json"
    assert_equal "$output" ""
    assert_equal "$(grep -c . <<<"$stderr")" 5
    assert_equal "$(printf '%s\n' "$stderr" | sed 's/^osm-submit: [^ ]*: order: //; s/: .*//')" \
        $'.externalId\n.priority\n.requestedCompletionDate\n.productOrderItem[1].requestedStartDate\n.productOrderItem[1].productOrderItemRelationship[0]'
    assert_equal "$(printf '%s\n' "$stderr" | sed -n 5p)" \
        "osm-submit: $TMF/several-problems.json:1: order: .productOrderItem[1].productOrderItemRelationship[0]: relies on unknown item \"9\""
    assert_equal "$(sql 'select count(*) from orders')" 0
}

@test "tmf622: a relation cycle is named at the customer order's relationship" {
    run -1 osm-validate -c "$CART" "$TMF/cycle.json"
    assert_equal "$(jq -c '.errors' <<<"$output")" \
        '[{"path":".productOrderItem[0].productOrderItemRelationship[0]","message":"the items'"'"' relations have a cycle (-> relies on): \"1\" -> \"2\" -> \"1\""}]'
}

@test "tmf622: osm-status --original prints the order as received, dates to the nanosecond" {
    deploy_tmf
    osm-submit "$TMF/v5-key.json" >/dev/null
    run -0 --separate-stderr osm-status --original 1
    assert_equal "$stderr" ""
    assert_equal "$(jq -S . <<<"$output")" "$(jq -S . "$TMF/v5-key.json")"
    assert_equal "$(jq -r .requestedStartDate <<<"$output")" 2026-12-01T08:00:00.123456789Z
    # ids on standard input, as the other modes take them
    run -0 bash -c 'echo 1 | osm-status --original | jq -c .externalId[0].id'
    assert_equal "$output" '"SO-5001"'
    run -66 --separate-stderr osm-status --original 7
    assert_equal "$stderr" "osm-status: no such order: 7"
    run -2 --separate-stderr osm-status --original --history 1
    assert_equal "$(head -1 <<<"$stderr")" "osm-status: choose one of --summary, --history, --follow, --wait, --purge and --original"
    run -2 --separate-stderr osm-status --original --format table 1
    assert_equal "$(head -1 <<<"$stderr")" "osm-status: --original prints the customer order as JSON: not with --format"
}

@test "tmf622: the same key and revision with other content is 65, with an error document" {
    deploy_tmf
    osm-submit "$TMF/v5-key.json" >/dev/null
    jq -c '.productOrderItem[0].action = "modify"' "$TMF/v5-key.json" >changed.json
    run -65 --separate-stderr osm-submit --errors-to-stdout changed.json
    assert_equal "$stderr" "osm-submit: changed.json:1: order SO-5001: revision 0 is already stored as order 1 with other content: a changed order needs a higher revision number"
    assert_equal "$output" '{"kind":"error","source":"changed.json","line":1,"status":65,"message":"order SO-5001: revision 0 is already stored as order 1 with other content: a changed order needs a higher revision number"}'
    run -0 osm-submit "$TMF/v5-key.json"
    assert_equal "$(jq .id <<<"$output")" 1
}

@test "tmf622: requestedStartDate holds the order's and each item's work; the plan shows it" {
    deploy_tmf
    run -0 --separate-stderr bash -c "osm-submit '$TMF/start.json' | osm-plan"
    assert_equal "$stderr" ""
    first=$output
    printf '%s\n' "$output" >plan.json
    schemacheck -r "$OSM_SRCDIR/specs/plan.schema.json" plan.json
    osm-status 1 >/dev/null
    run -0 osm-submit "$TMF/start.json"
    printf '%s\n' "$output" >order.json
    schemacheck -r "$OSM_SRCDIR/specs/order.schema.json" order.json
    run -0 osm-plan 1
    assert_equal "$(jq -c '[.requestedStartDate, .startDate, .expectedCompletion]' <<<"$output")" \
        '["2026-12-01T08:00:00Z","2026-12-01T08:00:00Z","2026-12-04T00:00:00Z"]'
    assert_equal "$(jq -c '[.tasks[] | [.function, .items[0], .notBefore, .earliestStart, .start]]' <<<"$output")" \
        '[["allocate","1","2026-12-01T08:00:00Z","2026-12-01T08:00:00Z","2026-12-01T08:00:00Z"],["activate","1","2026-12-01T08:00:00Z","2026-12-01T08:10:00Z","2026-12-01T08:10:00Z"],["bill","1","2026-12-01T08:00:00Z","2026-12-01T08:40:00Z","2026-12-01T08:40:00Z"],["ship","2","2026-12-03T00:00:00Z","2026-12-03T00:00:00Z","2026-12-03T00:00:00Z"]]'
    assert_equal "$(sql "select CAST((start_requested_at = $(epoch_ms 2026-12-01T08:00:00Z)) AS INTEGER) from orders")" 1
    assert_equal "$(sql "select item_id, CAST((start_requested_at = $(epoch_ms 2026-12-03)) AS INTEGER) from order_items where start_requested_at is not null")" '2|1'
    # the stored plan reads back the same
    OSM_NOW=2026-11-30T00:00:00Z run -0 osm-plan 1
    assert_equal "$output" "$first"
    run -0 osm-plan 1 --format table
    assert_equal "${lines[0]}" 'order 1 (SO-5004): start 2026-12-01T08:00:00Z, expected completion 2026-12-04T00:00:00Z, no requested date, not before 2026-12-01T08:00:00Z'
    # nothing runs before the order's start; then only what its dates allow
    run -0 osm-run 1
    assert_equal "$(sql "select count(*) from tasks where state <> 'pending'")" 0
    OSM_NOW=2026-12-01T09:00:00Z run -0 osm-run 1
    assert_equal "$(sql 'select function, state from tasks order by id')" \
        $'allocate|completed\nactivate|completed\nbill|completed\nship|pending'
    OSM_NOW=2026-12-01T09:00:00Z run -0 osm-status 1
    assert_equal "$(jq -c '[.tmfState, [.items[] | [.id, .tmfState]]]' <<<"$output")" \
        '["inProgress",[["1","completed"],["2","acknowledged"]]]'
    printf '%s\n' "$output" >status.json
    schemacheck -r "$OSM_SRCDIR/specs/status.schema.json" status.json
    OSM_NOW=2026-12-01T09:00:00Z run -0 osm-status --format table 1
    assert_line 'ITEM  ACTION  SPEC       FULFILLMENT  TMF'
    assert_line '1     add     FIBRE-500  -            completed'
    assert_line '2     add     ROUTER     -            acknowledged'
    OSM_NOW=2026-12-03T00:00:00Z run -0 osm-run 1
    OSM_NOW=2026-12-03T00:00:00Z run -0 osm-status 1
    assert_equal "$(jq -c '[.state, .tmfState, [.items[] | .tmfState]]' <<<"$output")" \
        '["completed","completed",["completed","completed"]]'
}

@test "tmf622: an item's TMF state follows its tasks: failed, held" {
    copy_cartridge "$CART" tmf
    printf '#!/bin/sh\ncat >/dev/null\necho %s\n' "'{\"status\":\"failed\",\"error\":\"no port\"}'" >tmf/hooks/fail.sh
    chmod +x tmf/hooks/fail.sh
    jq '.systems.inventory.command = "hooks/fail.sh"' tmf/cartridge.json >tmf/c.json
    mv tmf/c.json tmf/cartridge.json
    osm-cartridge deploy tmf >/dev/null
    osm-submit "$TMF/targeted.json" | osm-plan >/dev/null
    run osm-run 1
    run -0 osm-status 1
    assert_equal "$(jq -c '[.state, .tmfState, [.items[] | .tmfState]]' <<<"$output")" \
        '["failed","held",["failed","failed"]]'
}

@test "tmf622: glob patterns, the most specific winning, and the default pattern" {
    run -0 --separate-stderr osm-plan -n -c "$CART" <"$TMF/globs.json"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.tasks[] | [.items[0], .function]] | group_by(.[0]) | map([.[0][0], map(.[1])])' <<<"$output")" \
        '[["1",["allocate","activate","install","bill"]],["2",["allocate","activate","bill"]],["3",["bill"]]]'
}

@test "tmf622: an order type's own items mapping, and a pattern chosen by jq over the item" {
    run -0 --separate-stderr bash -c "osm-validate -c '$CART' '$TMF/catalogue.json' >/dev/null && osm-plan -n -c '$CART' <'$TMF/catalogue.json'"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.tasks[] | [.items[0], .function]]' <<<"$output")" \
        '[["L1","ship"],["L2","allocate"],["L2","activate"],["L2","install"],["L2","bill"]]'
    # the catalogue numbers are the specifications; the product order type keeps the cartridge's mapping
    deploy_tmf
    run -0 osm-submit -n "$TMF/catalogue.json"
    assert_equal "$(jq -c '[.items[] | [.id, .spec]]' <<<"$output")" '[["L1","100234"],["L2","100999"]]'
    run -0 osm-submit -n "$TMF/targeted.json"
    assert_equal "$(jq -c '[.items[] | [.id, .spec, .reliesOn]]' <<<"$output")" '[["1","FIBRE-500",[]],["2","VOICE",["1"]]]'
}

@test "tmf622: the v5 example order goes through validate, submit, plan, run and status" {
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
    V5=$EXAMPLES/broadband/v5/fibre-voice-bundle.json
    osm-cartridge deploy "$EXAMPLES/broadband" >/dev/null
    run -0 osm-validate "$V5"
    assert_equal "$(jq -c '[.valid, .cartridge, .orderType, .externalId, .errors]' <<<"$output")" \
        '[true,"broadband","residential-broadband","CRM-200001",[]]'
    # the key from the externalId array, the string priority (TMF 1 is osm 7),
    # the bundle's nested items after it, their relations and start dates
    run -0 --separate-stderr osm-submit "$V5"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.externalId, .priority, .requestedStartDate, .requestedDate]' <<<"$output")" \
        '["CRM-200001",7,"2026-12-01T08:00:00Z","2026-12-20T17:00:00Z"]'
    assert_equal "$(jq -c '[.items[] | [.id, .spec, .reliesOn, .requestedStartDate]]' <<<"$output")" \
        '[["100","BB-BUNDLE",[],null],["101","BB-FIBRE",[],null],["102","VOICE",["101"],"2026-12-02T08:00:00Z"]]'
    # planned back from the requested completion, never before the start dates
    run -0 osm-plan 1
    assert_equal "$(jq -c '[.requestedStartDate, .startDate, .expectedCompletion, .late]' <<<"$output")" \
        '["2026-12-01T08:00:00Z","2026-12-15T16:45:00Z","2026-12-20T17:00:00Z",false]'
    assert_equal "$(jq -c '[.tasks[] | select(.items == ["102"]) | [.function, .notBefore]]' <<<"$output")" \
        '[["allocate-number","2026-12-02T08:00:00Z"],["activate","2026-12-02T08:00:00Z"],["price","2026-12-02T08:00:00Z"]]'
    # the phone's activation waits for the line's activation, nothing else of it
    assert_equal "$(jq -c '(.tasks | map({(.key): .function}) | add) as $f | [.tasks[] | select(.items == ["102"]) | .function as $g | .after[] | select(.why.rule == "reliesOn") | [$g, $f[.task], .why.reliesOn, .why.targeted]]' <<<"$output")" \
        '[["activate","activate","101",true]]'
    # run: everything but the technician's visit, then the visit, then the bill
    OSM_NOW=2026-12-21T00:00:00Z run -0 osm-run 1
    run -0 osm-status 1
    assert_equal "$(jq -c '[.state, .tmfState, [.items[] | [.id, .tmfState]]]' <<<"$output")" \
        '["in_progress","inProgress",[["100","completed"],["101","inProgress"],["102","inProgress"]]]'
    install=$(sql "select id from tasks where function = 'install'")
    OSM_NOW=2026-12-21T00:00:00Z osm-task claim "$install" >/dev/null
    OSM_NOW=2026-12-21T00:00:00Z osm-task complete "$install" >/dev/null
    OSM_NOW=2026-12-21T02:00:00Z run -0 osm-run 1
    OSM_NOW=2026-12-21T02:00:00Z run -0 osm-status 1
    assert_equal "$(jq -c '[.state, .tmfState, .fulfillmentState, [.items[] | [.id, .tmfState, .fulfillmentState]]]' <<<"$output")" \
        '["completed","completed","COMPLETE",[["100","completed","COMPLETE"],["101","completed","COMPLETE"],["102","completed","COMPLETE"]]]'
    # the order as the CRM sent it, its dates as precise as they came
    run -0 osm-status --original 1
    assert_equal "$(jq -S . <<<"$output")" "$(jq -S . "$V5")"
    assert_equal "$(jq -r .requestedStartDate <<<"$output")" 2026-12-01T08:00:00.000000000Z
}

@test "tmf622: a revision keeps the requested start dates, and its new work waits for them" {
    deploy_tmf
    osm-submit --plan "$TMF/start.json" >/dev/null
    jq -c '.revisionNumber = 1 | .productOrderItem += [{"id": "3", "action": "add",
           "product": {"productSpecification": {"id": "ROUTER"}}, "requestedStartDate": "2026-12-05T00:00:00Z"}]' \
        "$TMF/start.json" >r1.json
    run -0 osm-revise 1 r1.json
    assert_equal "$(jq -c '[.components[] | select(.action == "do") | [.function, .items]]' <<<"$output")" '[["ship",["3"]]]'
    assert_equal "$(sql "select item_id, start_requested_at from order_items order by id" |
        awk -F'|' -v t0="$(epoch_ms 2026-12-01)" '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, ($2 == "" ? "-" : int(($2 - t0) / 1000)) }')" \
        '1:- 2:172800 3:345600'
    assert_equal "$(sql "select CAST((start_requested_at = $(epoch_ms 2026-12-01T08:00:00Z)) AS INTEGER) from orders")" 1
    assert_equal "$(sql "select CAST((not_before = $(epoch_ms 2026-12-05)) AS INTEGER) from tasks where items = '[\"3\"]'")" 1
    OSM_NOW=2026-12-04T00:00:00Z run -0 osm-run 1
    assert_equal "$(sql "select function, state, items from tasks order by id" | json_rows 2 '.[0]' |
        awk -F'|' '{ printf "%s%s/%s:%s", (NR > 1 ? " " : ""), $1, $3, $2 }')" \
        'allocate/1:completed activate/1:completed bill/1:completed ship/2:completed ship/3:pending'
    OSM_NOW=2026-12-05T00:00:00Z run -0 osm-run 1
    assert_equal "$(sql "select state from orders")" completed
}
