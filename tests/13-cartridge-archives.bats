#!/usr/bin/env bats
# Hostile cartridge archives: each refused with the entry and the reason,
# status 78, and the store left exactly as it was.

load helper

setup_file() {
    export OSM_DB_TEMPLATE=$BATS_FILE_TMPDIR/template.db
    OSM_DB=$OSM_DB_TEMPLATE osm-cartridge deploy "$OSM_SRCDIR/tests/fixtures/cartridges/minimal" >/dev/null
}

# refused KIND MESSAGE-REGEX: check and deploy both refuse, store unchanged
refused() {
    if [ "$backend" = sqlite ]; then
        cp "$OSM_DB_TEMPLATE" "$OSM_DB"
    else
        osm-cartridge deploy "$OSM_SRCDIR/tests/fixtures/cartridges/minimal" >/dev/null
    fi
    local before; before=$(sql 'select name, version, sha256 from cartridges')
    mkarchive "$1" "$1.osmc"
    run -78 --separate-stderr osm-cartridge check "$1.osmc"
    assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
    [[ $stderr =~ $2 ]] || { echo "stderr: $stderr"; echo "want:   $2"; false; }
    run -78 --separate-stderr osm-cartridge deploy "$1.osmc"
    [[ $stderr =~ $2 ]] || { echo "stderr: $stderr"; echo "want:   $2"; false; }
    assert_equal "$(sql 'select name, version, sha256 from cartridges')" "$before"
}

@test "archive: absolute path" { refused absolute '^osm-cartridge: absolute.osmc: entry "/[^"]*": absolute path$'; }
@test "archive: .. escape" { refused dotdot '^osm-cartridge: dotdot.osmc: entry "[^"]*\.\./[^"]*": path leaves the cartridge \(\.\.\)$'; }
@test "archive: symlink out of the tree" { refused symlink '^osm-cartridge: symlink.osmc: entry "[^"]*": symbolic link'; }
@test "archive: hardlink" { refused hardlink '^osm-cartridge: hardlink.osmc: entry "[^"]*": hard link'; }
@test "archive: device node" { refused device '^osm-cartridge: device.osmc: entry "[^"]*": device'; }
@test "archive: fifo" { refused fifo '^osm-cartridge: fifo.osmc: entry "[^"]*": fifo'; }
@test "archive: 10,000 entries" { refused many '^osm-cartridge: many.osmc: more than 1000 entries'; }
@test "archive: a member claiming 1 GiB" {
    refused sparse '^osm-cartridge: sparse.osmc: entry "[^"]*": larger than 16 MiB'
    [ "$(stat -c %s sparse.osmc)" -lt 1048576 ]
}
@test "archive: not a tar file" { refused notar '^osm-cartridge: notar.osmc: not a tar archive'; }
@test "archive: truncated gzip" { refused truncated '^osm-cartridge: truncated.osmc: truncated or corrupt archive'; }
@test "archive: decompression bomb" { refused bomb '^osm-cartridge: bomb.osmc: .*more than 64 MiB'; }
@test "archive: no manifest" { refused nomanifest '^osm-cartridge: nomanifest.osmc: no cartridge.json at the top of the archive$'; }

@test "archive: a well-formed one is accepted" {
    mkarchive ok ok.osmc
    run -78 --separate-stderr osm-cartridge -q check ok.osmc
    # its manifest is {}: loading works, and the manifest check fails
    assert_equal "$(jq -c '.problems[0]' <<<"$output")" \
        '{"file":"cartridge.json","path":".","message":"missing required property \"name\""}'
}
