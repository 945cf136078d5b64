#!/usr/bin/env bats
# osm-submit: recognise, validate, transform and store customer orders.

load helper

ORDERS=$OSM_SRCDIR/tests/fixtures/orders

deploy() {
    for c in "$@"; do osm-cartridge deploy "$FIXTURES/cartridges/$c" >/dev/null; done
}

@test "submit: a valid order is stored not_started and printed" {
    deploy gadgets
    run -0 --separate-stderr osm-submit "$ORDERS/gadget-1.json"
    assert_equal "$stderr" ""
    assert_equal "$(jq -c 'del(.order)' <<<"$output")" \
        '{"kind":"order","id":1,"externalId":"G-1001","revision":0,"cartridge":"gadgets","cartridgeVersion":"1.0.0","orderType":"gadget","state":"not_started","priority":7,"requestedDate":"2026-12-24T12:00:00Z","requestedStartDate":null,"createdAt":"2026-11-26T10:00:00Z","items":[{"id":"1","action":"add","spec":"G-1","reliesOn":[],"requestedDate":null,"requestedStartDate":null,"fulfillmentState":null},{"id":"2","action":"add","spec":"G-2","reliesOn":["1"],"requestedDate":"2026-12-20T12:00:00Z","requestedStartDate":null,"fulfillmentState":null}]}'
    assert_equal "$(jq -c .order.customer <<<"$output")" '"ACME"'
    assert_equal "$(sql "select external_id, revision, cartridge, cartridge_version, order_type, state, priority, original from orders" | json_rows 7 .ref)|$(sql 'select body from orders' | jq -r .customer)" \
        'G-1001|0|gadgets|1.0.0|gadget|not_started|7|G-1001|ACME'
    assert_equal "$(sql "select item_id, action, spec, relies_on, data from order_items order by id" | json_rows 4 .qty)" \
        $'1|add|G-1|[]|2\n2|add|G-2|["1"]|1'
    assert_equal "$(sql "select type, CAST((actor = '$(id -un)') AS INTEGER), data from events where order_id is not null" | json_rows 2 .state)" 'order.created|1|not_started'
}

@test "submit: the highest relevancy that matches wins" {
    deploy gadgets gadgets-premium
    run -0 osm-submit "$ORDERS/premium-1.json" "$ORDERS/gadget-1.json"
    assert_equal "$(jq -sc 'map([.externalId, .cartridge, .orderType])' <<<"$output")" \
        '[["P-2001","gadgets-premium","premium-gadget"],["G-1001","gadgets","gadget"]]'
}

@test "submit: two order types of one relevancy matching is ambiguous (65), nothing stored" {
    deploy gadgets gadgets-premium
    copy_cartridge "$FIXTURES/cartridges/gadgets-premium" clone
    jq '.name = "gadgets-clone"' clone/cartridge.json >m && mv m clone/cartridge.json
    osm-cartridge -q deploy clone >/dev/null
    run -65 --separate-stderr osm-submit "$ORDERS/premium-1.json"
    assert_equal "$stderr" "osm-submit: $ORDERS/premium-1.json:1: order is ambiguous: recognised by gadgets-clone:premium-gadget and gadgets-premium:premium-gadget, all of relevancy 20"
    assert_equal "$output" ""
    assert_equal "$(sql 'select count(*) from orders')" 0
}

@test "submit: an order no cartridge recognises is 65 naming what was tried; the stream goes on" {
    deploy gadgets gadgets-premium
    run -65 --separate-stderr osm-submit "$ORDERS/unknown.json" "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-submit: $ORDERS/unknown.json:1: no cartridge recognises the order (tried gadgets-premium:premium-gadget, gadgets:gadget)"
    assert_equal "$(jq -r .externalId <<<"$output")" G-1001
    assert_equal "$(sql 'select external_id from orders')" G-1001
}

@test "submit: --cartridge forces the cartridge, and a version" {
    deploy gadgets gadgets-premium
    copy_cartridge "$FIXTURES/cartridges/gadgets" g2
    jq '.version = "2.0.0"' g2/cartridge.json >m && mv m g2/cartridge.json
    osm-cartridge deploy g2 >/dev/null
    run -0 osm-submit --cartridge gadgets "$ORDERS/premium-1.json"
    assert_equal "$(jq -c '[.cartridge, .cartridgeVersion, .orderType]' <<<"$output")" '["gadgets","2.0.0","gadget"]'
    run -0 osm-submit -c gadgets@1.0.0 "$ORDERS/gadget-1.json"
    assert_equal "$(jq -c '[.cartridge, .cartridgeVersion]' <<<"$output")" '["gadgets","1.0.0"]'
    run -66 --separate-stderr osm-submit -c nosuch "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-submit: no such cartridge: nosuch"
    run -66 --separate-stderr osm-submit -c gadgets@9.0.0 "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-submit: no such cartridge: gadgets@9.0.0"
    run -2 --separate-stderr osm-submit -c gadgets@ "$ORDERS/gadget-1.json"
}

@test "submit: an invalid order is refused with every problem (exit 1), nothing stored" {
    deploy gadgets
    run -1 --separate-stderr osm-submit "$ORDERS/gadget-invalid.json"
    assert_equal "$output" ""
    diff -u - <(printf '%s\n' "$stderr") <<EOF
osm-submit: $ORDERS/gadget-invalid.json:1: order G-1002: .customer: customer is required
osm-submit: $ORDERS/gadget-invalid.json:1: order G-1002: .lines[0].qty: quantity must be a positive number
osm-submit: $ORDERS/gadget-invalid.json:1: order G-1002: .lines[0].sku: unknown sku "G-9"
osm-submit: $ORDERS/gadget-invalid.json:1: order G-1002: .due: due date 2026-01-01T00:00:00Z is in the past
EOF
    assert_equal "$(sql 'select count(*) from orders')" 0
    assert_equal "$(sql 'select count(*) from events where order_id is not null')" 0
}

@test "submit: --errors-to-stdout adds an error document per bad order" {
    deploy gadgets
    run -1 --separate-stderr osm-submit --errors-to-stdout "$ORDERS/gadget-invalid.json" "$ORDERS/gadget-1.json"
    assert_equal "$(jq -sc '.[0] | {kind, line, status, externalId, cartridge, orderType, n: (.errors | length), first: .errors[0]}' <<<"$output")" \
        '{"kind":"error","line":1,"status":1,"externalId":"G-1002","cartridge":"gadgets","orderType":"gadget","n":4,"first":{"path":".customer","message":"customer is required"}}'
    assert_equal "$(jq -sc '.[1] | [.kind, .externalId]' <<<"$output")" '["order","G-1001"]'
}

@test "submit: onInvalid fallout stores the order failed with a fallout task" {
    deploy gadgets gadgets-premium
    run -1 --separate-stderr osm-submit "$ORDERS/premium-invalid.json"
    assert_equal "$stderr" "osm-submit: $ORDERS/premium-invalid.json:1: order P-2002: .customer: customer is required
osm-submit: $ORDERS/premium-invalid.json:1: order P-2002: .lines: at least one line is required"
    assert_equal "$(jq -c '[.id, .state, .reason, .cartridge]' <<<"$output")" '[1,"failed","order is not valid","gadgets-premium"]'
    assert_equal "$(sql "select kind, state, workgroup, function, error from tasks" | json_rows 4 '.problems[0].path')" \
        'fallout|waiting|fallout|validate|.customer'
    assert_equal "$(sql 'select type from events where order_id is not null order by id')" $'order.created\nfallout'
}

@test "submit: the same order again prints the stored order and stores nothing" {
    deploy gadgets
    first=$(osm-submit "$ORDERS/gadget-1.json")
    events=$(sql 'select count(*) from events')
    run -0 --separate-stderr osm-submit "$ORDERS/gadget-1.json"
    assert_equal "$output" "$first"
    assert_equal "$(sql 'select count(*) from orders')" 1
    assert_equal "$(sql 'select count(*) from events')" "$events"
}

@test "submit: a lower revision is ignored with a warning; a higher one is a revision" {
    deploy gadgets
    jq '.rev = 2' "$ORDERS/gadget-1.json" >rev2.json
    jq '.rev = 1' "$ORDERS/gadget-1.json" >rev1.json
    jq '.rev = 3' "$ORDERS/gadget-1.json" >rev3.json
    osm-submit rev2.json >/dev/null
    run -0 --separate-stderr osm-submit rev1.json
    assert_equal "$output" ""
    assert_equal "$stderr" "osm-submit: rev1.json:1: order G-1001: revision 1 is older than the stored revision 2: ignored"
    run -0 --separate-stderr osm-submit rev3.json
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.kind, .id, .result, .baseRevision, .revision]' <<<"$output")" '["revision",1,"applied",2,3]'
    assert_equal "$(sql 'select revision from orders')" 3
}

@test "submit: a malformed record in an NDJSON stream: the others stored, 65 with line and column" {
    deploy gadgets
    {
        jq -c '.ref = "S-1"' "$ORDERS/gadget-1.json"
        echo '{"kind": "gadget", "ref": }'
        jq -c '.ref = "S-3"' "$ORDERS/gadget-1.json"
    } >stream.ndjson
    run -65 --separate-stderr osm-submit <stream.ndjson
    assert_regex "$stderr" '^osm-submit: <stdin>:2:[0-9]+: parse error: '
    assert_equal "$(jq -sc 'map(.externalId)' <<<"$output")" '["S-1","S-3"]'
    assert_equal "$(sql 'select external_id from orders order by id')" $'S-1\nS-3'
}

@test "submit: a value that is not an object is 65" {
    deploy gadgets
    run -65 --separate-stderr osm-submit <<<'[1, 2]'
    assert_equal "$stderr" "osm-submit: <stdin>:1: expected an order (a JSON object), got array"
}

@test "submit: a 50 MB order is refused without exhausting memory; the next is read" {
    deploy gadgets
    { printf '{"kind":"gadget","ref":"BIG","pad":"'; head -c 52428800 /dev/zero | tr '\0' a; printf '"}\n'
      jq -c . "$ORDERS/gadget-1.json"; } >big.ndjson
    run -65 --separate-stderr osm-submit big.ndjson
    assert_equal "$stderr" "osm-submit: big.ndjson:1: document larger than 16 MiB"
    assert_equal "$(jq -r .externalId <<<"$output")" G-1001
    assert_equal "$(sql 'select external_id from orders')" G-1001
}

@test "submit: --dry-run prints the order and stores nothing" {
    deploy gadgets
    run -0 osm-submit --dry-run "$ORDERS/gadget-1.json"
    assert_equal "$(jq -c '[.id, .externalId, .state]' <<<"$output")" '[null,"G-1001","not_started"]'
    assert_equal "$(sql 'select count(*) from orders')" 0
}

@test "submit: --batch commits every N orders and keeps the input order" {
    deploy gadgets
    for i in 1 2 3 4 5; do jq -c --arg r "B-$i" '.ref = $r' "$ORDERS/gadget-1.json"; done >five.ndjson
    jq -c '.ref = "B-2"' "$ORDERS/gadget-1.json" >>five.ndjson
    run -0 osm-submit --batch 2 five.ndjson
    assert_equal "$(jq -sc 'map([.id, .externalId])' <<<"$output")" \
        '[[1,"B-1"],[2,"B-2"],[3,"B-3"],[4,"B-4"],[5,"B-5"],[2,"B-2"]]'
    assert_equal "$(sql 'select count(*) from orders')" 5
    run -2 --separate-stderr osm-submit --batch 0 five.ndjson
    assert_equal "${stderr_lines[0]}" 'osm-submit: --batch: expected a number from 1 to 1000000, got "0"'
}

@test "submit: items that contradict each other make the order invalid" {
    deploy gadgets
    jq '.lines = [{id: "1", sku: "G-1", qty: 1}, {id: "1", sku: "G-2", qty: 1, after: ["7"]}]' \
        "$ORDERS/gadget-1.json" >dup.json
    run -1 --separate-stderr osm-submit dup.json
    # the duplicate does not hide the other problem of the same item
    assert_equal "$stderr" 'osm-submit: dup.json:1: order G-1001: .items[1].id: duplicate item id "1"
osm-submit: dup.json:1: order G-1001: .items[1].reliesOn: relies on unknown item "7"'
}

@test "submit: dates are judged against OSM_NOW" {
    deploy gadgets
    OSM_NOW=2027-01-01T00:00:00Z run -1 --separate-stderr osm-submit "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-submit: $ORDERS/gadget-1.json:1: order G-1001: .due: due date 2026-12-24T12:00:00Z is in the past"
}

@test "submit: no store is 66; a bad OSM_NOW is 78" {
    run -66 --separate-stderr osm-submit "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-submit: $OSM_DB: no such order store"
    OSM_NOW=soon run -78 --separate-stderr osm-submit "$ORDERS/gadget-1.json"
    assert_equal "$stderr" 'osm-submit: OSM_NOW: "soon" is not an RFC 3339 instant'
}

@test "submit: the broadband examples: valid ones stored, invalid ones refused or fallen out" {
    osm-cartridge deploy "$EXAMPLES/broadband" >/dev/null
    run -1 --separate-stderr osm-submit "$EXAMPLES"/broadband/orders/*.json
    assert_equal "$(sql "select count(*) from orders where state = 'not_started'")" \
        "$(ls "$EXAMPLES"/broadband/orders/[0-9]*.json | wc -l)"
    assert_equal "$(sql "select external_id from orders where state = 'failed'")" CRM-100106
}

@test "submit: the same key and revision with other content is refused (65)" {
    deploy gadgets
    osm-submit "$ORDERS/gadget-1.json" >/dev/null
    jq '.customer = "Initech"' "$ORDERS/gadget-1.json" >changed.json
    run -65 --separate-stderr osm-submit changed.json
    assert_equal "$stderr" "osm-submit: changed.json:1: order G-1001: revision 0 is already stored as order 1 with other content: a changed order needs a higher revision number"
    assert_equal "$(sql "select body from orders" | jq -r .customer)" ACME
}

@test "submit: --dry-run also finds orders already stored" {
    deploy gadgets
    stored=$(osm-submit "$ORDERS/gadget-1.json")
    run -0 osm-submit --dry-run "$ORDERS/gadget-1.json"
    assert_equal "$output" "$stored"
}

@test "submit: concurrent submitters of one order store it once" {
    deploy gadgets
    for i in $(seq 8); do osm-submit -q "$ORDERS/gadget-1.json" >"out.$i" 2>"err.$i" & done
    wait
    assert_equal "$(sql 'select count(*) from orders')" 1
    assert_equal "$(cat out.* | jq -r .id | sort -u)" 1
    assert_equal "$(cat err.*)" ""
}

@test "submit: error documents keep their place among batched orders" {
    deploy gadgets
    { jq -c '.ref = "K-1"' "$ORDERS/gadget-1.json"; echo '[]'; jq -c '.ref = "K-2"' "$ORDERS/gadget-1.json"; } >mix.ndjson
    run -65 --separate-stderr osm-submit --batch 10 --errors-to-stdout mix.ndjson
    assert_equal "$(jq -sc 'map(.kind)' <<<"$output")" '["order","error","order"]'
}

@test "submit: every document printed matches its schema in specs/" {
    deploy gadgets gadgets-premium
    osm-submit --errors-to-stdout "$ORDERS"/*.json >out.ndjson 2>/dev/null || true
    jq -c 'select(.kind == "order")' out.ndjson >orders.ndjson
    jq -c 'select(.kind == "error")' out.ndjson >errors.ndjson
    [ "$(wc -l <orders.ndjson)" -ge 2 ] && [ "$(wc -l <errors.ndjson)" -ge 2 ]
    schemacheck -r "$OSM_SRCDIR/specs/order.schema.json" orders.ndjson
    schemacheck -r "$OSM_SRCDIR/specs/error.schema.json" errors.ndjson
    osm-validate -t -c "$FIXTURES/cartridges/gadgets" -c "$FIXTURES/cartridges/gadgets-premium" \
        "$ORDERS"/*.json >reports.ndjson 2>/dev/null || true
    schemacheck -r "$OSM_SRCDIR/specs/validation.schema.json" reports.ndjson
}

@test "submit: in a batch, an order refused at store time stores nothing of itself; the others are stored" {
    deploy gadgets
    for i in 1 2 3 4 5; do jq -c --arg r "F-$i" '.ref = $r' "$ORDERS/gadget-1.json"; done >five.ndjson
    # (triggers are written in each backend's own dialect)
    if [ "$backend" = sqlite ]; then
        sql "CREATE TRIGGER refuse BEFORE INSERT ON order_items
             WHEN (SELECT external_id FROM orders WHERE id = NEW.order_id) = 'F-3' AND NEW.item_id = '2'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    else
        sql "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$body\$ BEGIN
                 IF (SELECT external_id FROM orders WHERE id = NEW.order_id) = 'F-3' AND NEW.item_id = '2' THEN
                     RAISE EXCEPTION 'refused by the test';
                 END IF;
                 RETURN NEW;
             END \$body\$;
             CREATE TRIGGER refuse BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION refuse()"
    fi
    run -70 --separate-stderr osm-submit --batch 5 five.ndjson
    assert_equal "$stderr" "osm-submit: five.ndjson:3: order F-3: $OSM_DB: internal error: refused by the test"
    assert_equal "$(jq -sc 'map([.id, .externalId])' <<<"$output")" \
        '[[1,"F-1"],[2,"F-2"],[3,"F-4"],[4,"F-5"]]'
    assert_equal "$(sql 'select external_id from orders order by id' | paste -sd,)" 'F-1,F-2,F-4,F-5'
    assert_equal "$(sql 'select count(*) from order_items')" 8
    assert_equal "$(sql "select count(*) from events where type = 'order.created'")" 4
}

@test "submit: in a batch, a changed copy of an order or an invalid one is refused alone" {
    deploy gadgets
    {
        jq -c '.ref = "C-1"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "C-2"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "C-1" | .customer = "Initech"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "C-4"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "C-5"' "$ORDERS/gadget-1.json"
    } >dup.ndjson
    run -65 --separate-stderr osm-submit --batch 5 dup.ndjson
    assert_equal "$stderr" "osm-submit: dup.ndjson:3: order C-1: revision 0 is already stored as order 1 with other content: a changed order needs a higher revision number"
    assert_equal "$(jq -sc 'map(.externalId)' <<<"$output")" '["C-1","C-2","C-4","C-5"]'
    assert_equal "$(sql 'select external_id from orders order by id' | paste -sd,)" 'C-1,C-2,C-4,C-5'
    assert_equal "$(sql "select body from orders where external_id = 'C-1'" | jq -r .customer)" ACME

    sql 'delete from events; delete from order_items; delete from orders'
    {
        jq -c '.ref = "V-1"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "V-2"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "V-3"' "$ORDERS/gadget-invalid.json"
        jq -c '.ref = "V-4"' "$ORDERS/gadget-1.json"
        jq -c '.ref = "V-5"' "$ORDERS/gadget-1.json"
    } >invalid.ndjson
    run -1 --separate-stderr osm-submit --batch 5 invalid.ndjson
    assert_equal "${#stderr_lines[@]}" 4
    assert_equal "${stderr_lines[0]}" "osm-submit: invalid.ndjson:3: order V-3: .customer: customer is required"
    assert_equal "$(jq -sc 'map(.externalId)' <<<"$output")" '["V-1","V-2","V-4","V-5"]'
    assert_equal "$(sql 'select external_id from orders order by id' | paste -sd,)" 'V-1,V-2,V-4,V-5'
}

@test "submit: an order printed from memory is the order read back from the store" {
    deploy gadgets gadgets-premium minimal
    {
        cat "$ORDERS/gadget-1.json" "$ORDERS/premium-1.json" "$ORDERS/premium-invalid.json"
        jq -nc '{type: "thing", externalId: "M-1", x: [1.5, -0, 1e-300, 9007199254740991, 0.1,
                 "tab\there \"quoted\" \\ \u00e9 \u0001 \u007f \ud83d\ude00", {}, [], null, true],
                 items: [{id: "1", spec: "thing", note: "\n"}, {id: 2, action: "modify", spec: "thing"}]}'
    } >mixed.ndjson
    run -1 --separate-stderr osm-submit --batch 3 mixed.ndjson
    printf '%s\n' "$output" >printed.ndjson
    assert_equal "$(wc -l <printed.ndjson)" 4
    run -0 --separate-stderr osm-submit mixed.ndjson
    printf '%s\n' "$output" >again.ndjson
    assert_equal "$(sql 'select count(*) from orders')" 4
    diff -u printed.ndjson again.ndjson
}

@test "submit: a batch holds a bounded text of documents; the rest are read back, in order" {
    deploy minimal
    jq -nc '("p" * 300000) as $pad
        | range(40) | {type: "thing", externalId: "L-\(.)", pad: $pad, items: [{id: "1", spec: "thing"}]}' \
        >large.ndjson
    run -0 --separate-stderr osm-submit --batch 40 large.ndjson
    printf '%s\n' "$output" >printed.ndjson
    assert_equal "$(jq -r .externalId printed.ndjson | tr '\n' ' ')" "$(seq -f 'L-%g' 0 39 | tr '\n' ' ')"
    run -0 --separate-stderr osm-submit large.ndjson
    printf '%s\n' "$output" >again.ndjson
    cmp printed.ndjson again.ndjson
}
