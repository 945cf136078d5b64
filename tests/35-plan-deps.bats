#!/usr/bin/env bats
# osm-plan dependencies as a designer means them: a pattern's reliesOn map
# (which functions wait for which of a related item's), the rule and scope
# of every edge, and osm-cartridge check catching an after that can never
# hold.

load helper

TMF=$OSM_SRCDIR/tests/fixtures/tmf622
CART=$OSM_SRCDIR/tests/fixtures/cartridges/tmf622
PLANNER=$OSM_SRCDIR/tests/fixtures/cartridges/planner

# edges PLAN: one line per edge, "TASK(FUNCTION/ITEM) <- TASK(FUNCTION/ITEM) RULE SCOPE"
edges() {
    jq -r '(.tasks | map({key: .key, value: "\(.function)/\(.items | join(","))"}) | from_entries) as $n
           | .tasks[] | .key as $k | .after[]
           | "\($n[$k]) <- \($n[.task]) \(.why.rule) \(.scope)\(if .why.targeted then " targeted" else "" end)"' <<<"$1"
}

@test "deps: a pattern's reliesOn map: voice activation waits for the line's activation only" {
    run -0 --separate-stderr osm-plan -n -c "$CART" <"$TMF/targeted.json"
    assert_equal "$stderr" ""
    assert_equal "$(edges "$output")" \
'activate/1 <- allocate/1 after item
bill/1 <- activate/1 after item
activate/2 <- activate/1 reliesOn item targeted
activate/2 <- allocate/2 after item
bill/2 <- activate/2 after item'
    printf '%s\n' "$output" >plan.json
    schemacheck -r "$OSM_SRCDIR/specs/plan.schema.json" plan.json
    # the voice number is allocated at once, beside the line's work
    assert_equal "$(jq -r '.tasks[] | select(.function == "allocate") | .start' <<<"$output" | sort -u)" \
        2026-11-26T10:00:00Z
    assert_equal "$(jq -c '.tasks[4].after[0].why' <<<"$output")" \
        '{"rule":"reliesOn","item":"2","reliesOn":"1","targeted":true}'
}

@test "deps: without a reliesOn map the first functions wait for all of the related item's" {
    jq '.productOrderItem[1].product.productSpecification.id = "FIBRE-300"' "$TMF/targeted.json" >untargeted.json
    run -0 --separate-stderr osm-plan -n -c "$CART" <untargeted.json
    assert_equal "$stderr" ""
    assert_equal "$(edges "$output" | grep reliesOn)" \
'allocate/2 <- allocate/1 reliesOn item
allocate/2 <- activate/1 reliesOn item
allocate/2 <- bill/1 reliesOn item'
}

@test "deps: every edge says why it exists and its scope, and keeps it once stored" {
    run -0 osm-plan -n -c "$PLANNER" <"$OSM_SRCDIR/tests/fixtures/plan/relies.order.json"
    assert_equal "$(jq -c '[.tasks[].after[] | [.scope, .why.rule]] | unique' <<<"$output")" \
        '[["item","after"],["item","reliesOn"]]'
    copy_cartridge "$PLANNER"
    jq '.functions.invoice.after = [{"function": "deliver", "scope": "order"}]' planner/cartridge.json >p.json
    mv p.json planner/cartridge.json
    osm-cartridge deploy planner >/dev/null
    run -0 --separate-stderr bash -c "osm-submit '$OSM_SRCDIR/tests/fixtures/plan/relies.order.json' | osm-plan"
    assert_equal "$stderr" ""
    first=$output
    assert_equal "$(jq -c '.tasks[] | select(.function == "invoice") | .after[] | [.scope, .why]' <<<"$output")" \
        '["order",{"rule":"after","item":"1"}]'
    assert_equal "$(sql 'select count(*) from task_deps where why is null')" 0
    OSM_NOW=2026-12-01T00:00:00Z run -0 osm-plan 1
    assert_equal "$output" "$first"
}

@test "deps: check reports an after no pattern can honour, and a reliesOn map naming other functions" {
    cd "$FIXTURES/cartridges"
    run -78 --separate-stderr osm-cartridge -q check broken-after
    diff -u broken-after.expect <(printf '%s\n' "$stderr")
    assert_equal "$(jq -c '[.problems[].path]' <<<"$output")" \
        '[".patterns.LINE.reliesOn.ship",".patterns.ROUTER.reliesOn.ship[1]",".functions.ship.after[0]"]'
}

@test "deps: the broadband phone line waits for the line's activation only: its number and price go beside the line's" {
    run -0 --separate-stderr osm-plan -n -c "$EXAMPLES/broadband" <"$EXAMPLES/broadband/orders/04-dsl-voice.json"
    assert_equal "$stderr" ""
    assert_equal "$(edges "$output" | grep /2 | grep -v '^bill')" \
'activate/2 <- activate/1 reliesOn item targeted
activate/2 <- allocate-number/2 after item'
    # the number is allocated (inventory) and priced at once, beside the port
    assert_equal "$(jq -c '[.tasks[] | select(.function == "allocate-port" or .function == "allocate-number" or .function == "price") | [.function, .items[0], .start]]' <<<"$output")" \
        '[["allocate-port","1","2026-11-26T10:00:00Z"],["price","1","2026-11-26T10:00:00Z"],["allocate-number","2","2026-11-26T10:00:00Z"],["price","2","2026-11-26T10:00:00Z"]]'
    # and the order's bill no longer waits for the phone's work behind the line's visit
    assert_equal "$(jq -c '[.expectedCompletion, (.tasks[] | select(.function == "bill") | .start)]' <<<"$output")" \
        '["2026-11-30T10:15:00Z","2026-11-30T10:10:00Z"]'
}

@test "deps: broadband billing goes beside inventory: the account is opened once the customer is synced, charging waits for the service" {
    run -0 --separate-stderr osm-plan -n -c "$EXAMPLES/broadband" <"$EXAMPLES/broadband/orders/04-dsl-voice.json"
    assert_equal "$stderr" ""
    plan=$output
    # open-account (the line's and the phone's products) waits for the
    # customer only: not for inventory, nor for either activation
    assert_equal "$(edges "$plan" | grep '^open-account')" 'open-account/1,2 <- sync-customer/1,2 after item'
    assert_equal "$(jq -c '.tasks[] | select(.function == "open-account") | .after | map(.why)' <<<"$plan")" \
        '[{"rule":"after","item":"1"}]'
    # it starts as the customer is synced, while the port and the number
    # are being allocated, and is done before the first activation starts
    assert_equal "$(jq -r '[.startDate, (.tasks[] | select(.function == "sync-customer" or .function == "open-account") | .start, .end)] | join(" ")' <<<"$plan")" \
        '2026-11-26T10:00:00Z 2026-11-26T10:00:00Z 2026-11-26T10:01:00Z 2026-11-26T10:01:00Z 2026-11-26T10:06:00Z'
    assert_equal "$(jq -c '(.tasks | map({key: .function, value: .}) | from_entries) as $f
        | [.tasks[] | select(.function | startswith("allocate-"))
           | .start < $f["open-account"].start and $f["open-account"].start < .end]' <<<"$plan")" '[true,true]'
    assert_equal "$(jq -c '[.tasks[] | select(.function == "activate") | .start > "2026-11-26T10:06:00Z"]' <<<"$plan")" '[true,true]'
    # charging starts an hour after both activations, on the opened account
    assert_equal "$(edges "$plan" | grep '^bill' | grep -E 'open-account|activate')" \
'bill/1,2 <- activate/1 after item
bill/1,2 <- open-account/1,2 after item
bill/1,2 <- activate/2 after item'
    assert_equal "$(jq -c '[.tasks[] | select(.function == "bill") | .after[] | .delay // empty]' <<<"$plan")" '["PT1H","PT1H"]'
    # the phone's own billing work (its price) needs the VOICE pattern's
    # reliesOn map not to wait for the whole of the line's work
    copy_cartridge "$EXAMPLES/broadband"
    jq 'del(.patterns.VOICE.reliesOn)' broadband/cartridge.json >c.json
    mv c.json broadband/cartridge.json
    run -0 osm-plan -n -c broadband <"$EXAMPLES/broadband/orders/04-dsl-voice.json"
    assert_equal "$(jq -r '.tasks[] | select(.function == "price" and .items == ["2"]) | .start' <<<"$output")" 2026-11-30T10:10:00Z
    assert_equal "$(jq -r '.tasks[] | select(.function == "price" and .items == ["2"]) | .start' <<<"$plan")" 2026-11-26T10:00:00Z
}

@test "deps: the Graphviz drawing labels the edges of item relations and of scope order" {
    run -0 --separate-stderr osm-plan -n -c "$CART" --format dot <"$TMF/targeted.json"
    assert_equal "$stderr" ""
    assert_equal "$(grep -c 'label="relies on"' <<<"$output")" 1
    assert_equal "$(grep -c -- '->' <<<"$output")" 5
    copy_cartridge "$PLANNER"
    jq '.functions.invoice.after = [{"function": "deliver", "scope": "order", "delay": "PT2H"}]' planner/cartridge.json >p.json
    mv p.json planner/cartridge.json
    run -0 osm-plan -n -c planner --format dot <"$OSM_SRCDIR/tests/fixtures/plan/relies.order.json"
    assert_equal "$(grep -c 'label="every item\\n+PT2H"' <<<"$output")" 1
}
