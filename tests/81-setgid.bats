#!/usr/bin/env bats
# osm-task installed setgid to the store's group (osm(7), SETGID MODE):
# with real Unix users, workgroups are a boundary that the environment,
# the command line and the files users name cannot cross.
#
# Needs root (to create the users and groups, removed at the end) and a
# file system that honours the setgid bit; skipped with the reason
# otherwise.  tests/osm-task-setgid is osm-task built to read its system
# configuration from $OSM_BUILDDIR/tests/setgid-etc/osm.conf.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

# Why the tests cannot run here, or nothing (bats 1.8 cannot skip from setup_file).
cannot_run() {
    [ "$(id -u)" = 0 ] || { echo "the setgid mode is tested with real users, which needs root"; return; }
    for c in useradd usermod userdel groupadd groupdel runuser findmnt; do
        command -v $c >/dev/null || { echo "the setgid mode test needs $c"; return; }
    done
    if grep -q __asan_init "$OSM_BUILDDIR/tests/osm-task-setgid"; then
        echo "a sanitizer build cannot run setgid (LeakSanitizer stops a setgid process)"
        return
    fi
    local probe
    probe=$(mktemp -d /tmp/osm-setgid.XXXXXX) || { echo "cannot make a directory in /tmp"; return; }
    if findmnt -n -o OPTIONS --target "$probe" | tr , '\n' | grep -qx nosuid; then
        echo "/tmp is on a file system mounted nosuid"
    fi
    rmdir "$probe"
}

setup_file() {
    [ "$backend" = sqlite ] || return 0
    export SG_SKIP=$(cannot_run)
    [ -z "$SG_SKIP" ] || return 0
    local sfx=$(printf '%05d' $(($$ % 100000)))
    export SG_GROUP=osmst$sfx SG_ADMINS=osmad$sfx
    export SG_MEMBER=osmm$sfx SG_OTHER=osmo$sfx SG_ADMIN=osma$sfx
    export SG_DIR=$(mktemp -d /tmp/osm-setgid.XXXXXX)
    export SG_ETC=$OSM_BUILDDIR/tests/setgid-etc
    groupadd "$SG_GROUP"
    groupadd "$SG_ADMINS"
    for u in "$SG_MEMBER" "$SG_OTHER" "$SG_ADMIN"; do
        useradd -M -N -g nogroup -s /usr/sbin/nologin "$u"
    done
    usermod -a -G "$SG_ADMINS" "$SG_ADMIN"
    chmod 755 "$SG_DIR"
    mkdir -p "$SG_DIR/bin" "$SG_DIR/store"
    # the store belongs to the group; only the group may open it
    chgrp "$SG_GROUP" "$SG_DIR/store"
    chmod 2770 "$SG_DIR/store"
    cp "$OSM_BUILDDIR/tests/osm-task-setgid" "$SG_DIR/bin/osm-task"
    chgrp "$SG_GROUP" "$SG_DIR/bin/osm-task"
    chmod 2755 "$SG_DIR/bin/osm-task"
    mkdir -p "$SG_ETC"
    chmod 755 "$SG_ETC"
}

teardown_file() {
    if [ -n "${SG_DIR:-}" ]; then
        for u in "$SG_MEMBER" "$SG_OTHER" "$SG_ADMIN"; do userdel "$u" 2>/dev/null || true; done
        groupdel "$SG_GROUP" 2>/dev/null || true
        groupdel "$SG_ADMINS" 2>/dev/null || true
        rm -rf "$SG_DIR" "$SG_ETC"
    fi
}

setup() {
    require_sqlite "the store's group and modes are those of its file and its -wal and -shm files"
    [ -z "$SG_SKIP" ] || skip "$SG_SKIP"
    cd "$BATS_TEST_TMPDIR" || return 1
    export OSM_DB=$SG_DIR/store/osm.db OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    rm -rf "$OSM_DB"*
    printf '[store]\npath = %s\n[admin]\ngroup = %s\n' "$OSM_DB" "$SG_ADMINS" >"$SG_ETC/osm.conf"
    chmod 644 "$SG_ETC/osm.conf"
    # an order with a manual task (2) of workgroup checkers, waiting
    osm-cartridge deploy "$RUNNER" >/dev/null
    echo '{"kind":"job","ref":"J-1","items":[{"id":"1","spec":"M"}]}' | osm-submit --plan >/dev/null
    osm-run 1 >/dev/null
    chgrp "$SG_GROUP" "$OSM_DB" "$OSM_DB-wal" "$OSM_DB-shm"
    chmod 660 "$OSM_DB" "$OSM_DB-wal" "$OSM_DB-shm"
}

# as USER CMD...: run CMD as USER, with what the caller exported
as() {
    local user=$1; shift
    runuser -u "$user" -- env PATH="$PATH" OSM_DB="$OSM_DB" OSM_NOW="$OSM_NOW" \
        ${OSM_CONFIG:+OSM_CONFIG="$OSM_CONFIG"} "$@"
}

# the setgid osm-task
task() {
    "$SG_DIR/bin/osm-task" "$@"
}

@test "setgid: users outside the store's group work through osm-task only, as themselves" {
    # no direct access to the store
    run -74 as "$SG_OTHER" osm-status -a
    run -0 as "$SG_OTHER" "$SG_DIR/bin/osm-task" list
    assert_equal "$(jq -c '[.id, .function, .workgroup]' <<<"$output")" '[2,"check","checkers"]'
    run -77 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-task" claim 2
    assert_equal "$stderr" "osm-task: task 2: $SG_OTHER is not a member of workgroup \"checkers\""
    osm-task workgroup add checkers "$SG_MEMBER" >/dev/null
    run -0 as "$SG_MEMBER" "$SG_DIR/bin/osm-task" claim 2
    assert_equal "$(jq -r .assignee <<<"$output")" "$SG_MEMBER"
    run -77 as "$SG_OTHER" "$SG_DIR/bin/osm-task" complete 2
    run -0 as "$SG_MEMBER" "$SG_DIR/bin/osm-task" complete 2
    assert_equal "$(sql "select state from tasks where id = 2")" completed
    # recorded as the real user, at the real time: OSM_NOW is not the user's to set
    assert_equal "$(sql "select actor from events where task_id = 2 and type = 'task.state' order by id desc limit 1")" "$SG_MEMBER"
    assert_equal "$(sql "select CAST((at <> 1795683600000) AS INTEGER) from events where task_id = 2 order by id desc limit 1")" 1
    assert_equal "$(sql "select at from events where task_id = 2 order by id limit 1")" 1795683600000
}

@test "setgid: the environment and -d choose neither the configuration nor the store" {
    # a configuration of one's own that would make one an administrator
    printf '[admin]\ngroup = nogroup\n' >evil.conf
    chown "$SG_OTHER" evil.conf
    OSM_CONFIG=$PWD/evil.conf run -77 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-task" workgroup add checkers "$SG_OTHER"
    assert_equal "$stderr" "osm-task: workgroup checkers: only an administrator may change workgroups"
    # a store of one's own
    mkdir own && chmod 777 own
    OSM_DB=$PWD/own/osm.db run -0 as "$SG_OTHER" "$SG_DIR/bin/osm-task" list
    assert_equal "$(jq -r .id <<<"$output")" 2
    assert_file_not_exists own/osm.db
    run -2 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-task" -d own/osm.db list
    assert_equal "${stderr_lines[0]}" "osm-task: -d: a setgid osm-task uses the store that $SG_ETC/osm.conf names"
    assert_equal "$(sql 'select count(*) from workgroup_members')" 0
}

@test "setgid: administrators by the system configuration; order operations and answers are theirs" {
    run -0 as "$SG_ADMIN" "$SG_DIR/bin/osm-task" workgroup add checkers "$SG_MEMBER"
    assert_equal "$(sql "select actor from events where type = 'workgroup.add'")" "$SG_ADMIN"
    run -77 --separate-stderr as "$SG_MEMBER" "$SG_DIR/bin/osm-task" suspend 1
    assert_equal "$stderr" "osm-task: order 1: suspend: only an administrator may, when osm-task runs setgid"
    run -77 --separate-stderr as "$SG_MEMBER" "$SG_DIR/bin/osm-task" respond --correlation C-1
    assert_equal "$stderr" "osm-task: respond: only an administrator may, when osm-task runs setgid"
    run -0 as "$SG_ADMIN" "$SG_DIR/bin/osm-task" suspend 1
    assert_equal "$(jq -r .state <<<"$output")" suspended
    # the same user without setgid, where anyone who can write the store may
    run -0 osm-task resume 1
}

@test "setgid: files named on the command line are read with the user's own rights" {
    osm-task workgroup add checkers "$SG_MEMBER" >/dev/null
    task claim 2 >/dev/null
    osm-task assign 2 --to "$SG_MEMBER" >/dev/null
    # readable by the store's group, not by the user
    echo '{"secret": 42}' >"$SG_DIR/store/secret.json"
    chgrp "$SG_GROUP" "$SG_DIR/store/secret.json"
    chmod 640 "$SG_DIR/store/secret.json"
    run -66 --separate-stderr as "$SG_MEMBER" "$SG_DIR/bin/osm-task" complete 2 --data "$SG_DIR/store/secret.json"
    assert_equal "$stderr" "osm-task: $SG_DIR/store/secret.json: Permission denied"
    assert_equal "$(sql "select body from orders" | json_rows 0 '.secret == null')" 1
    echo '{"checked": true}' >"$SG_DIR/mine.json"
    chmod 644 "$SG_DIR/mine.json"
    run -0 as "$SG_MEMBER" "$SG_DIR/bin/osm-task" complete 2 --data "$SG_DIR/mine.json"
    assert_equal "$(sql "select body from orders" | json_rows 0 .checked)" 1
}

@test "setgid: a system configuration others may change is refused, naming it" {
    chmod 664 "$SG_ETC/osm.conf"
    run -78 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-task" list
    assert_equal "$stderr" "osm-task: $SG_ETC/osm.conf: not trusted: writable by group or others (mode 0664)"
    chmod 644 "$SG_ETC/osm.conf"
    chown "$SG_OTHER" "$SG_ETC/osm.conf"
    run -78 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-task" list
    assert_equal "$stderr" "osm-task: $SG_ETC/osm.conf: not trusted: owned by $SG_OTHER, not by root"
    chown root "$SG_ETC/osm.conf"
    printf '[admin]\ngroup = %s\n' "$SG_ADMINS" >"$SG_ETC/osm.conf"
    run -78 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-task" list
    assert_equal "$stderr" "osm-task: $SG_ETC/osm.conf: names no store ([store] path), which a setuid or setgid program needs"
}

@test "setgid: other programs refuse to run setgid" {
    cp "$OSM_BUILDDIR/bin/osm-status" "$SG_DIR/bin/osm-status"
    chgrp "$SG_GROUP" "$SG_DIR/bin/osm-status"
    chmod 2755 "$SG_DIR/bin/osm-status"
    run -78 --separate-stderr as "$SG_OTHER" "$SG_DIR/bin/osm-status" -a
    assert_equal "$stderr" "osm-status: osm-status may not run setuid or setgid (only osm-task may: see osm(7))"
    rm -f "$SG_DIR/bin/osm-status"
}
