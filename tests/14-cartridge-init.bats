#!/usr/bin/env bats
# osm-cartridge init: a skeleton that passes check and deploys.

load helper

@test "init: creates a cartridge that checks clean and deploys" {
    run -0 osm-cartridge init widgets
    assert_equal "$(jq -c '{kind, name, path}' <<<"$output")" \
        '{"kind":"cartridge-source","name":"widgets","path":"widgets"}'
    assert_file_exists widgets/cartridge.json
    assert_file_executable widgets/hooks/example.sh
    assert_equal "$(jq -r .name widgets/cartridge.json)" widgets
    run -0 --separate-stderr osm-cartridge check widgets
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.valid, .warnings]' <<<"$output")" '[true,[]]'
    run -0 osm-cartridge deploy widgets
    assert_equal "$(sql 'select name, version from cartridges')" 'widgets|0.1.0'
}

@test "init: the skeleton's sample order passes its own validation" {
    osm-cartridge init widgets >/dev/null
    run -0 jq --arg now "$OSM_NOW" --argjson order null --argjson item null \
        --argjson task null --argjson old null --argjson new null --argjson env null \
        -f widgets/validate.jq widgets/orders/example.json
    assert_equal "$output" ""
}

@test "init: the skeleton's request sends what it says: the order key and the task's items" {
    osm-cartridge init widgets >/dev/null
    osm-cartridge deploy widgets >/dev/null
    osm-submit widgets/orders/example.json | osm-plan >/dev/null
    # the sample order wants its work done by 2030: run it then
    OSM_NOW=2029-12-31T23:00:00Z run -0 osm-run 1
    assert_equal "$(sql "select request from tasks where function = 'provision'")" \
        '{"order":"widgets-0001","items":[{"id":"1","action":"add","spec":"widget"}]}'
    assert_equal "$(jq -r .functions.provision.description widgets/cartridge.json)" \
        'one task per item; its request program reads {order, items, task}: the internal order, the items the task covers, the task; it sends the order key and those items'
}

@test "init: into a directory that exists is refused" {
    mkdir widgets
    run -73 --separate-stderr osm-cartridge init widgets
    assert_equal "$stderr" 'osm-cartridge: widgets: the directory exists already: choose another, as in "osm-cartridge init widgets DIR", or remove it first'
    assert_dir_not_exists widgets/hooks
}

@test "init: a name that is not a cartridge name is a usage error" {
    run -2 --separate-stderr osm-cartridge init 'Bad Name'
    assert_equal "${stderr_lines[0]}" 'osm-cartridge: init: "Bad Name" is not a cartridge name (lowercase letters, digits, - and _)'
    assert_dir_not_exists 'Bad Name'
}

@test "init: a second directory argument chooses where" {
    run -0 osm-cartridge init widgets widgets-cartridge
    assert_equal "$(jq -r .path <<<"$output")" widgets-cartridge
    assert_equal "$(jq -r .name widgets-cartridge/cartridge.json)" widgets
    assert_dir_not_exists widgets
}
