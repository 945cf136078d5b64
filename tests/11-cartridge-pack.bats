#!/usr/bin/env bats
# osm-cartridge pack: reproducible archives of checked cartridges.

load helper

@test "pack: writes NAME-VERSION.osmc and reports its sha256" {
    run -0 osm-cartridge pack "$FIXTURES/cartridges/minimal"
    assert_file_exists minimal-1.0.0.osmc
    assert_equal "$(jq -r .sha256 <<<"$output")" "$(sha256sum minimal-1.0.0.osmc | cut -d' ' -f1)"
    assert_equal "$(jq -c '{kind, name, version, file}' <<<"$output")" \
        '{"kind":"archive","name":"minimal","version":"1.0.0","file":"minimal-1.0.0.osmc"}'
}

@test "pack: the same tree twice gives the same bytes" {
    copy_cartridge "$FIXTURES/cartridges/minimal" a
    osm-cartridge pack -o one.osmc a >/dev/null
    touch -d '2001-01-01' a/cartridge.json a/hooks/factory.sh
    copy_cartridge a b
    osm-cartridge pack -o two.osmc b >/dev/null
    assert_equal "$(sha256sum <one.osmc)" "$(sha256sum <two.osmc)"
}

@test "pack: sorted entries, fixed times and owners, modes from the exec bit" {
    osm-cartridge pack -o m.osmc "$FIXTURES/cartridges/minimal" >/dev/null
    run -0 tar -tvzf m.osmc --numeric-owner
    assert_line --index 0 --regexp '^-rw-r--r-- 0/0 .* 1970-01-01 00:00 cartridge.json$'
    assert_line --index 1 --regexp '^-rwxr-xr-x 0/0 .* 1970-01-01 00:00 hooks/factory.sh$'
    # gzip header: no modification time (bytes 4-7), no original name
    assert_equal "$(od -An -tx1 -j4 -N4 m.osmc | tr -d ' ')" 00000000
}

@test "pack: the archive checks and deploys like its directory" {
    osm-cartridge pack -o m.osmc "$FIXTURES/cartridges/minimal" >/dev/null
    run -0 osm-cartridge -q check m.osmc
    assert_equal "$(jq -r .valid <<<"$output")" true
}

@test "pack: -o - writes the archive to a pipe" {
    osm-cartridge pack -o - "$FIXTURES/cartridges/minimal" >piped.osmc
    osm-cartridge pack -o file.osmc "$FIXTURES/cartridges/minimal" >/dev/null
    cmp piped.osmc file.osmc
}

@test "pack: a broken cartridge is not packed" {
    run -78 --separate-stderr osm-cartridge -q pack -o x.osmc "$FIXTURES/cartridges/broken-cycle"
    assert_file_not_exists x.osmc
    assert_equal "$output" ""
}

@test "pack: wrong number of arguments is a usage error" {
    run -2 --separate-stderr osm-cartridge pack
    assert_equal "${stderr_lines[0]}" 'osm-cartridge: pack: name one cartridge directory'
}

@test "pack: an unwritable output is an I/O error and leaves nothing behind" {
    mkdir ro && chmod a-w ro
    if touch ro/probe 2>/dev/null; then skip "running with permissions that ignore modes"; fi
    run -74 --separate-stderr osm-cartridge pack -o ro/x.osmc "$FIXTURES/cartridges/minimal"
    assert_equal "$stderr" "osm-cartridge: ro/x.osmc: Permission denied"
    run ls ro
    assert_output ""
}
