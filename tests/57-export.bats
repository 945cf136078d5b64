#!/usr/bin/env bats
# osm-status --export and osm-cartridge import: a whole store copied as
# JSON lines and loaded into an empty one, byte for byte; every broken
# stream refused with the store left as it was.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner
ASYNC=$OSM_SRCDIR/tests/fixtures/cartridges/async
BB=$OSM_SRCDIR/examples/broadband
TABLES="cartridges cartridge_defaults orders order_versions order_items tasks task_deps responses events outbox workgroups workgroup_members"

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    export OSM_DB=$BATS_TEST_TMPDIR/a.db OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
    unset OSM_CONFIG
}

# job CARTRIDGE REF SPEC: submit and plan an order with one item
job() {
    echo "{\"kind\":\"job\",\"ref\":\"$2\",\"items\":[{\"id\":\"1\",\"spec\":\"$3\"}]}" |
        osm-submit -c "$1" --plan >/dev/null
}

# a store with a bit of everything: three cartridges (one an explicit
# default), completed and failed orders with fallout, an asynchronous
# answer kept for a suspended order, notifications in the outbox, a revised order, a workgroup
rich_store() {
    osm-cartridge deploy "$RUNNER" "$ASYNC" "$BB" >/dev/null 2>&1
    osm-cartridge default runner@1.0.0 >/dev/null
    job runner J-1 A
    osm-run 1 >/dev/null
    job runner J-2 B
    echo fail >mode.one
    for t in 09:00 09:01 09:03 09:10; do OSM_NOW=2026-11-26T$t:00Z osm-run 2 >/dev/null; done
    rm mode.one
    job async J-3 A
    echo accepted >mode.ask
    osm-run 3 >/dev/null
    osm-task order suspend 3 >/dev/null     # its answer is kept in responses
    osm-task respond --correlation "$(sql "select correlation_id from tasks where correlation_id is not null")" \
        <<<'{"status":"completed"}' >/dev/null
    job async J-4 D
    osm-run 4 >/dev/null
    jq '.revisionNumber = 0' "$BB/orders/02-dsl-self-install.json" >o0.json
    jq '.revisionNumber = 1 | (.productOrderItem[0].product.productCharacteristic[] | select(.name == "bandwidth") | .value) = 14' \
        "$BB/orders/02-dsl-self-install.json" >o1.json
    osm-submit --plan o0.json >/dev/null
    OSM_SIM_ASYNC_SHIPPING=1 osm-run 5 >/dev/null
    OSM_NOW=2026-11-26T12:10:00Z osm-revise 5 o1.json >/dev/null
    osm-task workgroup add checkers root daemon >/dev/null
    # every table has rows
    for t in $TABLES; do
        [ "$(sql "select count(*) from $t")" -gt 0 ] || { echo "no rows in $t"; false; }
    done
}

# the row count of every table of store $1, as "table n" lines
counts() {
    for t in $TABLES; do echo "$t $(OSM_DB=$1 sql "select count(*) from $t")"; done
}

@test "export: a rich store round-trips byte for byte, ids and counts kept" {
    rich_store
    run -0 osm-status --export
    printf '%s\n' "$output" >a.ndjson
    # one header, a line per row, the trailer
    assert_equal "$(head -1 a.ndjson)" '{"format":"osm-export","version":1,"schemaVersion":5}'
    schemacheck -r "$OSM_SRCDIR/specs/export.schema.json" a.ndjson
    # the trailer's counts are the store's; its digest that of the lines before it
    assert_equal "$(tail -1 a.ndjson | jq -r '.counts | to_entries[] | "\(.key) \(.value)"')" "$(counts a.db)"
    assert_equal "$(tail -1 a.ndjson | jq -r .sha256)" "$(head -n -1 a.ndjson | sha256sum | cut -d' ' -f1)"
    # JSON text columns stay strings, as stored; the archive is base64 of the bytes stored
    assert_equal "$(jq -r 'select(.table == "orders" and .row.id == 1) | .row.body' a.ndjson)" "$(sql 'select body from orders where id = 1')"
    assert_equal "$(jq -r 'select(.table == "cartridges" and .row.id == 1) | .row.archive' a.ndjson | base64 -d | sha256sum | cut -d' ' -f1)" "$(sql 'select sha256 from cartridges where id = 1')"

    run -0 --separate-stderr osm-cartridge --db b.db import a.ndjson
    assert_equal "$(jq -c .imported <<<"$output")" "$(tail -1 a.ndjson | jq -c .counts)"
    assert_equal "$(jq -r .sha256 <<<"$output")" "$(tail -1 a.ndjson | jq -r .sha256)"
    assert_equal "$(counts b.db)" "$(counts a.db)"
    osm-status --db b.db --export >b.ndjson
    cmp a.ndjson b.ndjson
    # the same store exports to the same bytes again
    osm-status --export | cmp - a.ndjson

    # ids issued after the import continue above the imported ones
    maxes() { OSM_DB=$1 sql "select (select max(id) from orders), (select max(id) from tasks), (select max(id) from events)"; }
    before=$(maxes b.db)
    OSM_DB=$BATS_TEST_TMPDIR/b.db job runner J-9 A
    assert_equal "$(OSM_DB=b.db sql "select id, external_id from orders where id > ${before%%|*}")" "$((${before%%|*} + 1))|J-9"
    IFS='|' read -r o t e <<<"$before"
    [ "$(OSM_DB=b.db sql "select min(id) from tasks where order_id = $((o + 1))")" -gt "$t" ]
    [ "$(OSM_DB=b.db sql "select min(id) from events where order_id = $((o + 1))")" -gt "$e" ]
    # and the copy works on: its order runs to the end
    OSM_DB=$BATS_TEST_TMPDIR/b.db osm-run "$((o + 1))" >/dev/null
    assert_equal "$(OSM_DB=b.db sql "select state from orders where id = $((o + 1))")" completed
}

@test "export: the man page's pipe moves a store; import reads standard input" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job runner J-1 A
    run -0 bash -c 'osm-status --db a.db --export | osm-cartridge --db new.db import'
    assert_equal "$(jq -c .imported.orders <<<"$output")" 1
    assert_equal "$(osm-status --db new.db --export | sha256sum)" "$(osm-status --export | sha256sum)"
    run -0 bash -c 'osm-status --export | osm-cartridge --db new2.db import -'
}

@test "export: a store with nothing in it exports and imports" {
    osm-cartridge --db empty.db import /dev/null 2>/dev/null || true
    rm -f empty.db*
    osm-cartridge deploy "$RUNNER" >/dev/null
    osm-cartridge undeploy runner@1.0.0 >/dev/null
    sql "delete from events"
    run -0 osm-status --export
    assert_equal "${#lines[@]}" 2
    run -0 osm-cartridge --db b.db import <(printf '%s\n' "$output")
    assert_equal "$(jq -c '[.imported[]] | add' <<<"$output")" 0
}

# the store's contents, to compare before and after a refused import
snapshot() {
    for t in $TABLES; do OSM_DB=$1 sql "select count(*) from $t"; done | tr '\n' ' '
    OSM_DB=$1 sql "select max(id) from events"
}

@test "import: into a store that is not empty: 73 naming what is there, store unchanged" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job runner J-1 A
    osm-status --export >a.ndjson
    before=$(snapshot a.db)
    run -73 --separate-stderr osm-cartridge import a.ndjson
    assert_equal "$stderr" "osm-cartridge: $OSM_DB: the order store is not empty (1 cartridge, 1 order, 3 events): import into a new store"
    assert_equal "$output" ""
    assert_equal "$(snapshot a.db)" "$before"
}

# refused FILE STATUS MESSAGE: importing FILE into b.db fails so, and b.db stays empty
refused() {
    run "-$2" --separate-stderr osm-cartridge --db b.db import "$1"
    assert_equal "$stderr" "osm-cartridge: $3"
    assert_equal "$output" ""
    assert_equal "$(snapshot b.db)" "$empty"
}

@test "import: broken streams are 65 naming the line, and nothing is written" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job runner J-1 A
    osm-run 1 >/dev/null
    osm-status --export >a.ndjson
    n=$(wc -l <a.ndjson)
    # b.db: created empty (by an import of nothing, which is refused)
    run -65 --separate-stderr osm-cartridge --db b.db import /dev/null
    assert_equal "$stderr" "osm-cartridge: /dev/null: empty: not an osm export"
    empty=$(snapshot b.db)
    assert_equal "$empty" "0 0 0 0 0 0 0 0 0 0 0 0 "

    # truncated: no trailer; or cut in the middle of a line
    head -n -1 a.ndjson >cut.ndjson
    refused cut.ndjson 65 "cut.ndjson: no trailer after line $((n - 1)): the stream is cut short"
    head -c -40 a.ndjson >cut.ndjson
    run -65 --separate-stderr osm-cartridge --db b.db import cut.ndjson
    [[ $stderr == "osm-cartridge: cut.ndjson:$n: parse error: "* ]]
    assert_equal "$(snapshot b.db)" "$empty"
    # a row left out (the last event): the counts say so
    sed "$((n - 1))d" a.ndjson >less.ndjson
    assert_equal "$(sed -n "$((n - 1))p" a.ndjson | jq -r .table)" events
    refused less.ndjson 65 "less.ndjson: the trailer counts $(sql 'select count(*) from events') rows of events, the stream holds $(( $(sql 'select count(*) from events') - 1 )): rows are missing or added"
    # a value changed: the digest says so
    sed 's/"state":"completed"/"state":"failed"/' a.ndjson >changed.ndjson
    refused changed.ndjson 65 "changed.ndjson: the digest of the lines read ($(head -n -1 changed.ndjson | sha256sum | cut -d' ' -f1)) is not the trailer's ($(tail -1 a.ndjson | jq -r .sha256)): the stream was changed"
    # unknown table, unknown and missing columns, wrong types, not JSON
    sed '2s/"table":"cartridges"/"table":"gadgets"/' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: unknown table "gadgets"'
    sed '2s/"major":/"majr":/' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: cartridges: unknown column "majr"'
    sed '2s/"major":1,//' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: cartridges: no column "major"'
    sed '2s/"major":1,/"major":"1",/' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: cartridges.major: expected an integer, got a string'
    sed '2s/"major":1,/"major":1.5,/' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: cartridges.major: expected an integer, got a number that is not one'
    sed '2s/"name":"runner"/"name":null/' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: cartridges.name: expected a string, got null'
    sed '2s/"archive":"/"archive":"!/' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:2: cartridges.archive: not base64'
    sed '3s/^{/{{/' a.ndjson >t.ndjson
    run -65 --separate-stderr osm-cartridge --db b.db import t.ndjson
    [[ $stderr == "osm-cartridge: t.ndjson:3: parse error: "* ]]
    assert_equal "$(snapshot b.db)" "$empty"
    # a header of another format or schema version
    sed '1s/"schemaVersion":5/"schemaVersion":4/' a.ndjson >t.ndjson
    refused t.ndjson 65 "t.ndjson:1: exported from order store version 4: this program imports version 5 only (open the old store with the program that matches it, or upgrade it first)"
    sed '1d' a.ndjson >t.ndjson
    refused t.ndjson 65 't.ndjson:1: not an osm export: the first line must be its header {"format":"osm-export",...}'
    # a row the schema refuses (a task of an order that is not there)
    sed '/"table":"orders"/d' a.ndjson >t.ndjson
    run -65 --separate-stderr osm-cartridge --db b.db import t.ndjson
    [[ $stderr == "osm-cartridge: t.ndjson:"*": order_items: the store refuses the row: FOREIGN KEY constraint failed" ]]
    assert_equal "$(snapshot b.db)" "$empty"
    # data after the trailer
    cat a.ndjson <(tail -1 a.ndjson) >t.ndjson
    refused t.ndjson 65 "t.ndjson:$((n + 1)): a line after the trailer"
    # and the good stream still goes in
    run -0 osm-cartridge --db b.db import a.ndjson
}

@test "export: other formats, --jq, --pretty and order ids are refused (2)" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    run -2 --separate-stderr osm-status --export --format table
    assert_equal "${stderr%%$'\n'*}" "osm-status: --export writes JSON lines: not with --format table"
    run -2 --separate-stderr osm-status --export --format html
    assert_equal "${stderr%%$'\n'*}" "osm-status: --export writes JSON lines: not with --format html or --output-dir"
    run -2 --separate-stderr osm-status --export --format prometheus
    assert_equal "${stderr%%$'\n'*}" "osm-status: --export writes JSON lines: not with --format prometheus"
    run -2 --separate-stderr osm-status --export --jq .
    assert_equal "${stderr%%$'\n'*}" "osm-status: --export writes every row as it is: not with --jq"
    run -2 --separate-stderr osm-status --export --pretty
    assert_equal "${stderr%%$'\n'*}" "osm-status: --export writes one line per row: not with --pretty"
    run -2 --separate-stderr osm-status --export 1
    assert_equal "${stderr%%$'\n'*}" "osm-status: --export writes the whole store: give no order ids"
    run -2 --separate-stderr osm-status --export --summary
    assert_equal "${stderr%%$'\n'*}" "osm-status: choose one of --summary, --history, --follow, --wait, --purge, --original and --export"
    run -0 osm-status --export --format json
    run -66 --separate-stderr osm-status --db nowhere.db --export
    run -2 --separate-stderr osm-cartridge import a b
    assert_equal "${stderr%%$'\n'*}" "osm-cartridge: import: expected one FILE or -"
    run -2 --separate-stderr osm-cartridge --dry-run import a.ndjson
    assert_equal "${stderr%%$'\n'*}" "osm-cartridge: import: no --dry-run: import into a new store to try a stream"
    assert_file_not_exist b.db
    run -66 --separate-stderr osm-cartridge --db b.db import nothing.ndjson
    assert_equal "$stderr" "osm-cartridge: nothing.ndjson: No such file or directory"
}

@test "import: only an administrator may import (77), as for deploy" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    osm-status --export >a.ndjson
    chmod 644 a.ndjson
    export OSM_DB=$BATS_TEST_TMPDIR/b.db
    run -65 osm-cartridge import /dev/null     # b.db: root's, empty
    run -77 --separate-stderr as nobody osm-cartridge import a.ndjson
    assert_equal "$stderr" "osm-cartridge: import: only an administrator may import order stores (root, the store's owner root)"
    assert_equal "$(snapshot b.db)" "0 0 0 0 0 0 0 0 0 0 0 0 "
    chown nobody "$OSM_DB"
    run -0 as nobody osm-cartridge import a.ndjson
    assert_equal "$(sql 'select count(*) from cartridges')" 1
}
