#!/usr/bin/env bats
# osm-cartridge deploy, list, show, export, default, undeploy.

load helper

# a copy of the minimal cartridge at another version
version_of_minimal() {
    copy_cartridge "$FIXTURES/cartridges/minimal" "minimal-$1"
    jq --arg v "$1" '.version = $v' "minimal-$1/cartridge.json" >m && mv m "minimal-$1/cartridge.json"
}

@test "deploy: stores archive, digest and manifest" {
    run -0 osm-cartridge deploy "$FIXTURES/cartridges/minimal"
    assert_equal "$(jq -c '{kind, name, version, deployed, default, deployedAt}' <<<"$output")" \
        '{"kind":"cartridge","name":"minimal","version":"1.0.0","deployed":true,"default":true,"deployedAt":"2026-11-26T10:00:00Z"}'
    osm-cartridge pack -o m.osmc "$FIXTURES/cartridges/minimal" >/dev/null
    assert_equal "$(jq -r .sha256 <<<"$output")" "$(sha256sum <m.osmc | cut -d' ' -f1)"
    assert_equal "$(sql 'select name, version, length(archive) from cartridges')" "minimal|1.0.0|$(stat -c %s m.osmc)"
    assert_equal "$(sql 'select manifest from cartridges' | jq -r .name)" minimal
    assert_equal "$(sql "select type, CAST((order_id IS NULL) AS INTEGER), CAST((actor = '$(id -un)') AS INTEGER), data from events" | json_rows 3 .version)" \
        'cartridge.deployed|1|1|1.0.0'
}

@test "deploy: the same cartridge again is a no-op, directory or archive" {
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    osm-cartridge pack -o m.osmc "$FIXTURES/cartridges/minimal" >/dev/null
    run -0 osm-cartridge deploy "$FIXTURES/cartridges/minimal" m.osmc
    assert_equal "$(jq -sc 'map(.deployed)' <<<"$output")" '[false,false]'
    assert_equal "$(sql 'select count(*) from cartridges')" 1
}

@test "deploy: same version with different contents is refused" {
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    before=$(sql 'select sha256 from cartridges')
    copy_cartridge "$FIXTURES/cartridges/minimal" changed
    echo '# changed' >>changed/hooks/factory.sh
    run -78 --separate-stderr osm-cartridge deploy changed
    assert_regex "$stderr" '^osm-cartridge: cartridge minimal@1\.0\.0 is already deployed with different contents \(sha256 [0-9a-f]{64}\); deploy a new version$'
    assert_equal "$(sql 'select sha256 from cartridges')" "$before"
}

@test "deploy: a broken cartridge is refused with its problems, store unchanged" {
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    run -78 --separate-stderr osm-cartridge deploy "$FIXTURES/cartridges/broken-cycle"
    assert_regex "$stderr" 'functions depend on each other in a cycle'
    assert_equal "$(sql 'select name from cartridges')" minimal
}

@test "deploy: several versions; the highest is the default unless set" {
    version_of_minimal 1.2.0
    version_of_minimal 1.10.0
    version_of_minimal 1.10.0-rc1
    osm-cartridge deploy minimal-1.10.0 minimal-1.2.0 minimal-1.10.0-rc1 >/dev/null
    run -0 osm-cartridge list
    assert_equal "$(jq -sc 'map([.version, .default])' <<<"$output")" \
        '[["1.10.0",true],["1.10.0-rc1",false],["1.2.0",false]]'
    run -0 osm-cartridge default minimal@1.2.0
    assert_equal "$(jq -c '[.version, .default]' <<<"$output")" '["1.2.0",true]'
    assert_equal "$(sql "select data from events where type = 'cartridge.default'" | jq -r .version)" 1.2.0
    run -0 osm-cartridge show minimal
    assert_equal "$(jq -r .version <<<"$output")" 1.2.0
}

@test "list: table for people, and 66 without a store" {
    run -66 --separate-stderr osm-cartridge list
    assert_equal "$stderr" "osm-cartridge: $OSM_DB: no such order store"
    assert_file_not_exists "$OSM_DB"
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    run -0 osm-cartridge list --format table
    assert_line --index 0 --regexp '^NAME +VERSION +DEFAULT +OPEN +DEPLOYED +SHA256$'
    assert_line --index 1 --regexp '^minimal  1\.0\.0    yes      0     2026-11-26 10:00  [0-9a-f]{12}$'
}

@test "show: manifest, files, open orders" {
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    run -0 osm-cartridge show minimal@1.0.0
    assert_equal "$(jq -c '{name, version, openOrders, files, m: .manifest.name}' <<<"$output")" \
        '{"name":"minimal","version":"1.0.0","openOrders":0,"files":[{"path":"cartridge.json","size":'"$(stat -c %s "$FIXTURES/cartridges/minimal/cartridge.json")"',"executable":false},{"path":"hooks/factory.sh","size":'"$(stat -c %s "$FIXTURES/cartridges/minimal/hooks/factory.sh")"',"executable":true}],"m":"minimal"}'
}

@test "show, export, default, undeploy: unknown cartridge or version is 66" {
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    run -66 --separate-stderr osm-cartridge show nosuch
    assert_equal "$stderr" "osm-cartridge: no such cartridge: nosuch"
    run -66 --separate-stderr osm-cartridge export minimal@9.9.9
    assert_equal "$stderr" "osm-cartridge: no such cartridge: minimal@9.9.9"
    run -66 --separate-stderr osm-cartridge default minimal@9.9.9
    run -66 --separate-stderr osm-cartridge undeploy minimal@9.9.9
}

@test "export, default, undeploy: NAME@VERSION is required" {
    for verb in export default undeploy; do
        run -2 --separate-stderr osm-cartridge "$verb" minimal
        assert_equal "${stderr_lines[0]}" 'osm-cartridge: expected NAME@VERSION, got "minimal"'
    done
}

@test "export: the stored archive, byte for byte" {
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    osm-cartridge pack -o m.osmc "$FIXTURES/cartridges/minimal" >/dev/null
    osm-cartridge export minimal@1.0.0 >out.osmc
    cmp m.osmc out.osmc
    osm-cartridge export -o out2.osmc minimal@1.0.0
    cmp m.osmc out2.osmc
}

@test "undeploy: removes a version nobody uses" {
    version_of_minimal 2.0.0
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" minimal-2.0.0 >/dev/null
    run -0 osm-cartridge undeploy minimal@2.0.0
    assert_equal "$(jq -c '{undeployed, abortedOrders}' <<<"$output")" '{"undeployed":true,"abortedOrders":0}'
    run -0 osm-cartridge list
    assert_equal "$(jq -sc 'map([.version, .default])' <<<"$output")" '[["1.0.0",true]]'
}

@test "deploy: order types sharing a relevancy across cartridges are a warning" {
    copy_cartridge "$FIXTURES/cartridges/minimal" other
    jq '.name = "other" | .orderTypes = {gadget: {recognize: ".type == \"gadget\""}}' \
        other/cartridge.json >m && mv m other/cartridge.json
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    run -0 --separate-stderr osm-cartridge deploy other
    assert_equal "$stderr" 'osm-cartridge: other: warning: order types "gadget" and minimal:"thing" share relevancy 5: which one recognises an order both match is undefined'
}

@test "usage: unknown verb, unknown option, no verb" {
    run -2 --separate-stderr osm-cartridge frobnicate
    assert_equal "${stderr_lines[0]}" 'osm-cartridge: unknown verb "frobnicate"'
    run -2 --separate-stderr osm-cartridge --frob list
    run -2 --separate-stderr osm-cartridge
    assert_equal "${stderr_lines[0]}" 'osm-cartridge: missing verb'
}

@test "store: a newer store than the program knows is refused with 78" {
    require_sqlite "sets the store's version with SQLite's PRAGMA user_version"
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    sql 'pragma user_version = 999'
    run -78 --separate-stderr osm-cartridge list
    assert_regex "$stderr" 'order store version 999 is newer than this program supports'
}

@test "store: a file that is not a store is refused" {
    require_sqlite "writes over the store's file"
    echo 'not a database' >"$OSM_DB"
    run --separate-stderr osm-cartridge list
    assert_equal "$status" 74
    assert_regex "$stderr" "^osm-cartridge: $OSM_DB: "
}

@test "config: a bad osm.conf beside the store is 78 naming file and line" {
    printf '[store]\nbusy_timeout = soon\n' >osm.conf
    run -78 --separate-stderr osm-cartridge deploy "$FIXTURES/cartridges/minimal"
    assert_equal "$stderr" "osm-cartridge: $BATS_TEST_TMPDIR/osm.conf:2: [store] busy_timeout: not an ISO 8601 duration (e.g. PT30S) \"soon\""
}

@test "undeploy: refused while open orders use the version; --force aborts them" {
    version_of_minimal 2.0.0
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" minimal-2.0.0 >/dev/null
    sql "insert into orders (external_id, cartridge, cartridge_version, order_type, original, body, created_at, updated_at)
         values ('A-1', 'minimal', '2.0.0', 'thing', '{}', '{}', 0, 0),
                ('A-2', 'minimal', '2.0.0', 'thing', '{}', '{}', 0, 0)"
    sql "update orders set state = 'completed' where external_id = 'A-2'"
    run -1 --separate-stderr osm-cartridge undeploy minimal@2.0.0
    assert_equal "$stderr" 'osm-cartridge: minimal@2.0.0: 1 open order uses this version: finish them, or use --force to abort them'
    assert_equal "$(sql "select state from orders order by id")" $'not_started\ncompleted'
    run -0 osm-cartridge undeploy --force minimal@2.0.0
    assert_equal "$(jq -c '{undeployed, abortedOrders}' <<<"$output")" '{"undeployed":true,"abortedOrders":1}'
    assert_equal "$(sql "select external_id, state from orders order by id")" $'A-1|aborted\nA-2|completed'
    assert_equal "$(sql "select type, CAST((actor = '$(id -un)') AS INTEGER), data from events e join orders o on o.id = e.order_id where o.external_id = 'A-1'" | json_rows 2 '[.to, .reason] | join("|")')" \
        'order.state|1|aborted|cartridge undeployed'
    # history of ended orders stays interpretable: the version is kept, hidden
    run -0 osm-cartridge list
    assert_equal "$(jq -sc 'map(.version)' <<<"$output")" '["1.0.0"]'
    run -66 osm-cartridge show minimal@2.0.0
}

@test "deploy: a directory without cartridge.json is refused before it is walked" {
    mkdir -p notcart/deep/er
    ln -s /nonexistent notcart/deep/er/dangling
    run -78 --separate-stderr osm-cartridge deploy notcart
    assert_equal "$stderr" 'osm-cartridge: notcart: no cartridge.json at the top of the directory: not a cartridge (osm-cartridge init NAME makes one)'
    assert_file_not_exists "$OSM_DB"
}

@test "deploy: --dry-run checks and tells, and changes nothing; - reads an archive on stdin" {
    run -0 --separate-stderr osm-cartridge deploy --dry-run "$FIXTURES/cartridges/minimal"
    assert_equal "$(jq -c '{kind, name, version, deployed, dryRun}' <<<"$output")" \
        '{"kind":"cartridge","name":"minimal","version":"1.0.0","deployed":true,"dryRun":true}'
    assert_file_not_exists "$OSM_DB"
    osm-cartridge deploy "$FIXTURES/cartridges/minimal" >/dev/null
    version_of_minimal 1.1.0
    run -0 osm-cartridge deploy -n minimal-1.1.0
    assert_equal "$(jq -c '[.version, .deployed, .dryRun]' <<<"$output")" '["1.1.0",true,true]'
    run -0 osm-cartridge deploy -n "$FIXTURES/cartridges/minimal"
    assert_equal "$(jq -c '[.version, .deployed]' <<<"$output")" '["1.0.0",false]'
    assert_equal "$(sql 'select version from cartridges' | paste -sd,)" 1.0.0
    assert_equal "$(sql "select count(*) from events where type = 'cartridge.deployed'")" 1
    # a packed cartridge on standard input
    osm-cartridge pack -o m.osmc minimal-1.1.0 >/dev/null
    run -0 --separate-stderr osm-cartridge check - <m.osmc
    assert_equal "$(jq -c '[.source, .cartridge, .version, .valid]' <<<"$output")" '["-","minimal","1.1.0",true]'
    run -0 --separate-stderr osm-cartridge deploy - <m.osmc
    assert_equal "$(jq -c '[.version, .deployed]' <<<"$output")" '["1.1.0",true]'
    run -78 --separate-stderr osm-cartridge check - <<<'not an archive'
    assert_equal "$stderr" 'osm-cartridge: standard input: not a tar archive'
}
