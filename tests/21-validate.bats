#!/usr/bin/env bats
# osm-validate: intake without storing, for CI.

load helper

ORDERS=$OSM_SRCDIR/tests/fixtures/orders
GADGETS=$OSM_SRCDIR/tests/fixtures/cartridges/gadgets

@test "validate: against a cartridge directory, with no store at all" {
    run -0 --separate-stderr osm-validate --cartridge "$GADGETS" "$ORDERS/gadget-1.json"
    assert_equal "$stderr" ""
    assert_equal "$output" "{\"kind\":\"validation\",\"source\":\"$ORDERS/gadget-1.json\",\"line\":1,\"valid\":true,\"externalId\":\"G-1001\",\"cartridge\":\"gadgets\",\"cartridgeVersion\":\"1.0.0\",\"orderType\":\"gadget\",\"errors\":[]}"
    assert_file_not_exists "$OSM_DB"
}

@test "validate: an invalid order lists every problem, exit 1" {
    run -1 --separate-stderr osm-validate -c "$GADGETS" "$ORDERS/gadget-invalid.json" "$ORDERS/gadget-1.json"
    assert_equal "$stderr" ""
    assert_equal "$(jq -sc 'map([.valid, (.errors | map(.path))])' <<<"$output")" \
        '[[false,[".customer",".lines[0].qty",".lines[0].sku",".due"]],[true,[]]]'
}

@test "validate: --transform adds the internal order to valid reports" {
    run -0 osm-validate -t -c "$GADGETS" "$ORDERS/gadget-1.json"
    assert_equal "$(jq -c '.order | {externalId, customer, n: (.items | length)}' <<<"$output")" \
        '{"externalId":"G-1001","customer":"ACME","n":2}'
}

@test "validate: from an archive, and across several cartridges by relevancy" {
    osm-cartridge pack -o g.osmc "$GADGETS" >/dev/null
    run -0 osm-validate -c g.osmc -c "$FIXTURES/cartridges/gadgets-premium" \
        "$ORDERS/gadget-1.json" "$ORDERS/premium-1.json"
    assert_equal "$(jq -sc 'map(.cartridge)' <<<"$output")" '["gadgets","gadgets-premium"]'
}

@test "validate: against the deployed cartridges" {
    osm-cartridge deploy "$GADGETS" >/dev/null
    run -0 osm-validate "$ORDERS/gadget-1.json"
    assert_equal "$(jq -c '[.valid, .cartridge]' <<<"$output")" '[true,"gadgets"]'
    run -0 osm-validate -c gadgets@1.0.0 "$ORDERS/gadget-1.json"
    assert_equal "$(sql 'select count(*) from orders')" 0
}

@test "validate: unrecognised and unparsable input is 65, reported and the rest goes on" {
    printf '%s\n' '{"kind": "widget"}' '{"kind": ' >bad.json
    run -65 --separate-stderr osm-validate -c "$GADGETS" bad.json "$ORDERS/gadget-1.json"
    assert_equal "${stderr_lines[0]}" "osm-validate: bad.json:1: no cartridge recognises the order (tried gadgets:gadget)"
    assert_regex "${stderr_lines[1]}" '^osm-validate: bad.json:2:[0-9]+: parse error: '
    assert_equal "$(jq -sc 'map([.kind, .valid])' <<<"$output")" '[["validation",false],["validation",true]]'
}

@test "validate: --format table for people" {
    cd "$ORDERS"
    run -1 osm-validate -c "$GADGETS" --format table gadget-1.json gadget-invalid.json
    assert_line --index 0 --regexp '^RESULT +EXTERNAL ID +CARTRIDGE:TYPE +SOURCE$'
    assert_line --index 1 --regexp '^valid +G-1001 +gadgets:gadget +gadget-1.json:1$'
    assert_line --index 2 --regexp '^INVALID +G-1002 +gadgets:gadget +gadget-invalid.json:1$'
    assert_line --index 3 '    .customer: customer is required'
}

@test "validate: the table is sized to its content, read whole first; problems under their order, at most 20" {
    cd "$BATS_TEST_TMPDIR"
    jq -c '.ref = "G-1001-WITH-A-MUCH-LONGER-EXTERNAL-ID"' "$ORDERS/gadget-1.json" >long.json
    jq -c '.ref = "G-7" | .lines = [range(25) | {id: "\(.)", sku: "G-1", qty: 0}]' "$ORDERS/gadget-1.json" >many.json
    jq -c 'del(.ref)' "$ORDERS/gadget-1.json" >noref.json
    run -1 osm-validate -c "$GADGETS" --format table long.json many.json noref.json
    assert_equal "${lines[0]}" 'RESULT   EXTERNAL ID                            CARTRIDGE:TYPE  SOURCE'
    assert_equal "${lines[1]}" 'valid    G-1001-WITH-A-MUCH-LONGER-EXTERNAL-ID  gadgets:gadget  long.json:1'
    assert_equal "${lines[2]}" 'INVALID  G-7                                    gadgets:gadget  many.json:1'
    assert_equal "${lines[3]}" '    .lines[0].qty: quantity must be a positive number'
    assert_equal "${lines[22]}" '    .lines[19].qty: quantity must be a positive number'
    assert_equal "${lines[23]}" '    and 5 more (see --format json)'
    assert_equal "${lines[24]}" 'valid    -                                      gadgets:gadget  noref.json:1'
    assert_equal "${#lines[@]}" 25
    # a short table is as narrow as its content
    run -0 osm-validate -c "$GADGETS" --format table "$ORDERS/gadget-1.json"
    assert_equal "${lines[0]}" 'RESULT  EXTERNAL ID  CARTRIDGE:TYPE  SOURCE'
    # on a terminal the result is coloured, with NO_COLOR or off a terminal not
    esc=$'\e'
    run -1 script -qec "osm-validate -c '$GADGETS' --format table long.json many.json" /dev/null
    assert_line --index 1 --partial "${esc}[32mvalid${esc}[0m    G-1001-"
    assert_line --index 2 --partial "${esc}[31mINVALID${esc}[0m  G-7 "
    run -1 env NO_COLOR=1 script -qec "osm-validate -c '$GADGETS' --format table long.json many.json" /dev/null
    [[ "$output" != *"$esc"* ]]
}

@test "validate: a broken cartridge is 78, a missing one 66" {
    run -78 --separate-stderr osm-validate -c "$FIXTURES/cartridges/broken-cycle" "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-validate: $FIXTURES/cartridges/broken-cycle: cartridge.json: .functions.ship.after[0]: function \"ship\" depends on itself (and more: see osm-cartridge check)"
    run -66 --separate-stderr osm-validate -c ./nowhere "$ORDERS/gadget-1.json"
    assert_equal "$stderr" "osm-validate: ./nowhere: No such file or directory"
}

@test "validate: every broadband sample order is judged as its name says" {
    cd "$EXAMPLES/broadband/orders"
    run -1 osm-validate -c "$EXAMPLES/broadband" *.json
    assert_equal "$(jq -sc 'map(select(.valid != (.source | startswith("invalid") | not))) | map(.source)' <<<"$output")" '[]'
    assert_equal "$(jq -s 'length' <<<"$output")" "$(ls *.json | wc -l)"
}
