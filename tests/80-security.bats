#!/usr/bin/env bats
# Hardening: hostile input, untrusted configuration, read-only users,
# terminal escapes, cartridge trees on disk (specs/security.md).

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
}

# job REF [SPEC]: one order of the runner cartridge, as NDJSON
job() {
    echo "{\"kind\":\"job\",\"ref\":\"$1\",\"items\":[{\"id\":\"1\",\"spec\":\"${2:-B}\"}]}"
}

# ------------------------------------------------------------ input

@test "input: a record separator (0x1E) costs its record only, in every reader" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    { job J-1; job J-2; printf '\036'; job J-3; job J-4; } >orders.json
    run -65 --separate-stderr osm-submit orders.json
    assert_equal "$stderr" "osm-submit: orders.json:3:1: parse error: unexpected record separator (0x1E)"
    assert_equal "$(jq -r .externalId <<<"$output" | tr '\n' ' ')" "J-1 J-2 J-4 "
    assert_equal "$(sql 'select external_id from orders order by id' | paste -sd,)" "J-1,J-2,J-4"
    run -65 --separate-stderr osm-validate orders.json
    assert_equal "$stderr" "osm-validate: orders.json:3:1: parse error: unexpected record separator (0x1E)"
    assert_equal "$(jq -r .valid <<<"$output" | tr '\n' ' ')" "true true true "
    run -65 --separate-stderr bash -c "printf '1\n\0362\n' | osm-run"
    assert_equal "$stderr" "osm-run: <stdin>:2:1: parse error: unexpected record separator (0x1E)"
    run -65 --separate-stderr bash -c "printf '\036{}' | osm-submit"
    assert_equal "$stderr" "osm-submit: <stdin>:1:1: parse error: unexpected record separator (0x1E)"
}

@test "input: orders stored before a bad record are printed, batch or not" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    { for i in 1 2 3 4 5; do job J-$i; done; printf '{"kind":\036\n'; job J-6; } >orders.json
    for b in 1 4; do
        if [ "$backend" = sqlite ]; then rm -f "$OSM_DB"*; else osm_teardown && osm_store; fi
        osm-cartridge deploy "$RUNNER" >/dev/null
        run -65 --separate-stderr osm-submit -b $b orders.json
        assert_equal "$(jq -r .externalId <<<"$output" | tr '\n' ' ')" "J-1 J-2 J-3 J-4 J-5 J-6 "
        assert_equal "$(sql 'select count(*) from orders')" 6
    done
}

# parcel: the small cartridge of osm-cartridge(5)'s example, without an
# items section, into ./parcel
parcel() {
    mkdir -p parcel/hooks
    printf '#!/bin/sh\necho '"'"'{"status":"SHIPPED"}'"'"'\n' >parcel/hooks/ship.sh
    chmod 755 parcel/hooks/ship.sh
    cat >parcel/cartridge.json <<'EOF'
{
  "name": "parcel", "version": "1.0.0", "falloutWorkgroup": "desk",
  "orderTypes": {
    "shop-order": {
      "recognize": ".source == \"shop\"",
      "validate": "if (.lines | length) == 0 then {path: \".lines\", message: \"no lines\"} else empty end",
      "transform": "{externalId: .id, items: [.lines[] | {id: .sku, spec: \"PARCEL\", action}]}",
      "key": ".id"
    }
  },
  "patterns": { "PARCEL": { "add": ["ship"] } },
  "functions": {
    "ship": { "kind": "automated", "system": "warehouse", "group": "order", "duration": "P1D",
              "request": "{skus: [.items[].id]}" }
  },
  "systems": { "warehouse": { "command": "hooks/ship.sh", "timeout": "PT30S",
                              "statuses": { "SHIPPED": "DONE" } } },
  "fulfillmentStates": { "states": ["OPEN", "DONE"] },
  "workgroups": { "desk": { "fallout": true } }
}
EOF
}

@test "input: a manifest without an items section takes every default" {
    parcel
    osm-cartridge check parcel >/dev/null
    osm-cartridge deploy parcel >/dev/null
    good='{"source":"shop","id":"S-1","lines":[{"sku":"A"},{"sku":"B","action":"add"}]}'
    bad='{"source":"shop","id":"S-2","lines":[{"sku":"A"},{"action":"add"}]}'
    run -0 osm-validate <<<"$good"
    assert_equal "$(jq -c .valid <<<"$output")" true
    run -1 osm-validate <<<"$bad"
    assert_equal "$(jq -c '.errors[].path' <<<"$output")" '".items[1].id"'
    run -1 --separate-stderr osm-submit <<<"$bad"
    run -0 osm-submit <<<"$good"
    assert_equal "$(sql "select item_id || ':' || action from order_items order by id" | paste -sd,)" "A:add,B:add"
}

@test "plan: an order with nothing to do is completed when it is planned" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    nothing='{"kind":"job","ref":"J-1","items":[{"id":"1","spec":"B","action":"noChange"}]}'
    run -0 osm-submit --plan <<<"$nothing"
    assert_equal "$(jq -c '[.state, .tasks]' <<<"$output")" '["completed",[]]'
    run -0 osm-run --wait --timeout PT5S 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(sql "select type from events where order_id = 1 order by id" | paste -sd,)" \
        "order.created,order.planned,order.state"
    # planned apart from the intake, as osm-plan does
    osm-submit <<<"${nothing/J-1/J-2}" >/dev/null
    run -0 osm-plan 2
    assert_equal "$(sql "select state from orders where id = 2")" completed
}

@test "input: a reliesOn cycle between items is refused at intake, named" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    cyc='{"kind":"job","ref":"J-1","items":[{"id":"a","spec":"B"},{"id":"b","spec":"B","reliesOn":["c"]},{"id":"c","spec":"B","reliesOn":["a","b"]}]}'
    run -1 osm-validate <<<"$cyc"
    assert_equal "$(jq -c '.errors' <<<"$output")" \
        '[{"path":".items[1].reliesOn","message":"the items'"'"' relations have a cycle (-> relies on): \"b\" -> \"c\" -> \"b\""}]'
    run -1 --separate-stderr osm-submit --plan <<<"$cyc"
    assert_equal "$(sql "select count(*) from orders")" 0
    run -1 osm-validate <<<'{"kind":"job","ref":"J-2","items":[{"id":"a","spec":"B","reliesOn":["a"]}]}'
    assert_equal "$(jq -r '.errors[].message' <<<"$output")" \
        'the items'"'"' relations have a cycle (-> relies on): "a" -> "a"'
    run -0 osm-submit --plan <<<"${cyc/\"b\"]/\"a\"]}"
    assert_equal "$(jq -r .state <<<"$output")" not_started
}

@test "input: text holding a NUL character is refused whole, never cut at it" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    run -65 --separate-stderr osm-submit <<<'{"kind":"job","ref":"A\u0000x","items":[{"id":"1","spec":"B"}]}'
    assert_equal "$stderr" 'osm-submit: <stdin>:1: text at .ref holds a NUL character (\u0000), which cannot be stored'
    run -65 --separate-stderr osm-validate <<<'{"kind":"job","ref":"A","items":[{"id":"1","spec":"B","x y":{"\u0000":1}}]}'
    assert_equal "$stderr" 'osm-validate: <stdin>:1: text at .items[0]["x y"]["\u0000"] holds a NUL character (\u0000), which cannot be stored'
    assert_equal "$(sql "select count(*) from orders")" 0
    run -0 osm-submit <<<'{"kind":"job","ref":"A","items":[{"id":"1","spec":"B"}]}'
    assert_equal "$(sql "select external_id from orders")" A
}

@test "input: a number past 2^53 is refused at its path, never rounded" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    big='{"kind":"job","ref":"J-1","iccid":4915212345678901234567,"items":[{"id":"1","spec":"B","n":[9007199254740991,-9007199254740993]}]}'
    run -1 osm-validate <<<"$big"
    assert_equal "$(jq -c '[.errors[].path]' <<<"$output")" '[".iccid",".items[0].n[1]"]'
    assert_equal "$(jq -r '.errors[0].message' <<<"$output")" \
        "a number this large (2^53 or more) cannot be kept exact: send it as a string"
    run -1 --separate-stderr osm-submit <<<"$big"
    assert_equal "$(sql "select count(*) from orders")" 0
    run -0 osm-submit <<<'{"kind":"job","ref":"J-1","iccid":"4915212345678901234567","items":[{"id":"1","spec":"B","n":[9007199254740991]}]}'
    assert_equal "$(sql "select original from orders" | jq -r .iccid)" 4915212345678901234567
}

# ------------------------------------------------------------ files

@test "init: the skeleton's files follow the umask" {
    (umask 077 && osm-cartridge init private >/dev/null)
    assert_equal "$(stat -c %a private private/hooks/example.sh private/cartridge.json | tr '\n' ' ')" "700 700 600 "
    (umask 022 && osm-cartridge init shared >/dev/null)
    assert_equal "$(stat -c %a shared/hooks/example.sh shared/cartridge.json | tr '\n' ' ')" "755 644 "
}

# ------------------------------------------------------------ output

@test "status: a --jq that fails exits non-zero, listing the orders it holds for" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    { job J-1; job J-2; } | osm-submit >/dev/null
    run -65 --separate-stderr osm-status --jq 'error("boom")'
    assert_equal "$output" ""
    assert_equal "$stderr" $'osm-status: order 1: --jq: boom\nosm-status: order 2: --jq: boom'
    run -65 --separate-stderr osm-status --jq 'if .ref == "J-1" then error("boom") else true end'
    assert_equal "$(jq -r .externalId <<<"$output")" J-2
    run -65 --separate-stderr osm-status --history --jq 'error("boom")' 1
    assert_equal "$output" ""
    assert_regex "$stderr" '^osm-status: event [0-9]+: --jq: boom'
    run -0 osm-status --jq '.ref == "J-2"'
    assert_equal "$(jq -r .externalId <<<"$output")" J-2
}

@test "table: control characters are shown escaped in every table and diagnostic" {
    copy_cartridge "$RUNNER" runner
    printf '%s\n' 'evil) printf '"'"'{"status":"failed","message":"\\u001b]0;pwned\\u0007down"}\n'"'"' ;;' >evil.case
    sed -i '/^esac/e cat evil.case' runner/hooks/hook.sh
    osm-cartridge deploy runner >/dev/null
    echo '{"kind":"job","ref":"\u001b[2J\u001b[31mX","items":[{"id":"1","spec":"B"}]}' >evil.json
    osm-submit --plan evil.json >/dev/null
    echo evil >mode.one
    for t in 09:00 09:01 09:03 09:10; do OSM_NOW=2026-11-26T$t:00Z osm-run 1 >/dev/null || true; done
    esc=$'\e'
    for cmd in "osm-status -a --format table" "osm-status --format table 1" \
               "osm-status --format table --history 1" "osm-plan --format table 1" \
               "osm-validate --format table evil.json" "osm-task list --format table"; do
        run -0 $cmd
        [[ "$output" != *"$esc"* ]] || { echo "raw escape from: $cmd"; echo "$output" | cat -v; false; }
        [[ "$output" != *$'\a'* ]] || { echo "raw bell from: $cmd"; false; }
    done
    run -0 osm-status -a --format table
    assert_line --index 1 --regexp '^1 +\\x1b\[2J\\x1b\[31mX +runner '
    run -0 osm-status --format table 1
    assert_line --index 0 --regexp '^order 1 \(\\x1b\[2J\\x1b\[31mX\): runner 1.0.0, job$'
    run -0 osm-task list --format table
    assert_line --index 1 --regexp 'fallout .*\\x1b\]0;pwned\\x07down$'
    mkdir $'bad\e[2Jdir'
    run -78 --separate-stderr osm-cartridge check --format table $'bad\e[2Jdir'
    assert_line --index 0 --regexp '^bad\\x1b\[2Jdir +FAILED$'
    # and diagnostics on standard error likewise
    assert_equal "$stderr" 'osm-cartridge: bad\x1b[2Jdir: no cartridge.json at the top of the directory: not a cartridge (osm-cartridge init NAME makes one)'
}

# ------------------------------------------------------------ read-only users

# reader CMD...: run a command as nobody, who may read the store but not write it
reader() {
    [ "$(id -u)" = 0 ] || skip "acting as another user needs root"
    local d=$BATS_TEST_TMPDIR
    chmod 755 "$d"
    while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod a+x "$d"; d=$(dirname "$d"); done
    chmod 644 "$OSM_DB"*
    runuser -u nobody -- env PATH="$PATH" OSM_DB="$OSM_DB" OSM_NOW="$OSM_NOW" "$@"
}

@test "read-only: a user who may only read the store can use every program that reads" {
    require_sqlite "a reader is a user without write permission on the store's file"
    osm-cartridge deploy "$RUNNER" >/dev/null
    job J-1 M | osm-submit --plan >/dev/null
    job J-2 | osm-submit >/dev/null
    osm-run 1 >/dev/null
    before=$(sha256sum "$OSM_DB")
    run -0 reader osm-status -a
    assert_equal "$(jq -r .externalId <<<"$output" | tr '\n' ' ')" "J-1 J-2 "
    run -0 reader osm-status --summary
    run -0 reader osm-status --history 1
    run -0 reader osm-task list
    assert_equal "$(jq -r .function <<<"$output")" check
    run -0 reader osm-task show 2
    run -0 reader osm-task workgroup list
    run -0 reader osm-cartridge list
    run -0 reader osm-cartridge show runner
    run -0 reader osm-plan 1
    assert_equal "$(jq -r .kind <<<"$output")" plan
    job J-3 >j3.json
    run -0 reader osm-validate j3.json
    assert_equal "$(jq -r .valid <<<"$output")" true
    run -0 reader osm-plan --dry-run 2
    # what would write is refused, naming the store
    run -77 --separate-stderr reader osm-plan 2
    assert_equal "$stderr" "osm-plan: $OSM_DB: no permission to write the order store"
    run -77 --separate-stderr reader osm-task suspend 1
    assert_equal "$stderr" "osm-task: $OSM_DB: no permission to write the order store"
    assert_equal "$(sha256sum "$OSM_DB")" "$before"
}

@test "read-only: without its -wal and -shm files the store is refused with the reason" {
    require_sqlite "about the store's -wal and -shm files"
    osm-cartridge deploy "$RUNNER" >/dev/null
    sqlite3 "$OSM_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
    rm -f "$OSM_DB-wal" "$OSM_DB-shm"
    run -74 --separate-stderr reader osm-status -a
    assert_equal "$stderr" "osm-status: $OSM_DB: cannot read the order store: its -wal and -shm files are missing and this user may not create them (any program that writes the store creates them again)"
    osm-status -a >/dev/null
    run -0 reader osm-status -a
}

@test "read-only: reading programs never create, migrate or fill a store" {
    require_sqlite "empty and missing store files, SQLite's PRAGMA user_version"
    : >empty.db
    for cmd in "osm-status -a" "osm-status --summary" "osm-task list" "osm-cartridge list" \
               "osm-plan --dry-run 1" "osm-task show 1"; do
        run -66 --separate-stderr $cmd -d empty.db
        assert_equal "$stderr" "${cmd%% *}: empty.db: no such order store (the file is empty)"
    done
    assert_equal "$(stat -c %s empty.db)" 0
    assert_file_not_exists empty.db-wal
    run -66 --separate-stderr osm-status -a -d missing.db
    assert_file_not_exists missing.db
    # an older schema is not migrated by a reader
    osm-cartridge deploy "$RUNNER" >/dev/null
    current=$(sqlite3 "$OSM_DB" 'PRAGMA user_version')
    sqlite3 "$OSM_DB" 'PRAGMA user_version = 2'
    run -74 --separate-stderr osm-status -a
    assert_equal "$stderr" "osm-status: $OSM_DB: order store version 2 needs upgrading to $current, which a read-only open cannot do"
    assert_equal "$(sqlite3 "$OSM_DB" 'PRAGMA user_version')" 2
}

# ------------------------------------------------------------ site configuration

# a manual task (2) of workgroup checkers waiting for a person
manual_task() {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job J-1 M | osm-submit --plan >/dev/null
    osm-run 1 >/dev/null
}

@test "config: OSM_CONFIG naming one's own file does not make one an administrator" {
    manual_task
    as nobody sh -c 'printf "[admin]\ngroup = nogroup\n" >evil.conf'
    export OSM_CONFIG=$BATS_TEST_TMPDIR/evil.conf
    # a PostgreSQL store's owner is the role owning it, which nobody is not
    owner=" or by the store's owner (root)"
    [ "$backend" = sqlite ] || owner=
    run -78 --separate-stderr as nobody osm-task workgroup add checkers nobody
    assert_equal "$stderr" "osm-task: $OSM_CONFIG: not trusted to grant rights ([admin] group): owned by nobody, not by root$owner"
    run -78 --separate-stderr as nobody osm-task claim 2
    assert_equal "$stderr" "osm-task: $OSM_CONFIG: not trusted to grant rights ([admin] group): owned by nobody, not by root$owner"
    run -78 as nobody osm-cartridge default runner@1.0.0
    assert_equal "$(sql 'select count(*) from workgroup_members')" 0
    assert_equal "$(sql "select state from tasks where id = 2")" waiting
    # the same rule from a file root keeps is an administrator's
    printf '[admin]\ngroup = nogroup\n' >site.conf
    export OSM_CONFIG=$BATS_TEST_TMPDIR/site.conf
    run -0 as nobody osm-task claim 2
    assert_equal "$(jq -r .assignee <<<"$output")" nobody
    # ... unless others may write it
    chmod 666 site.conf
    run -78 --separate-stderr as nobody osm-task release 2
    assert_equal "$stderr" "osm-task: $OSM_CONFIG: not trusted to grant rights ([admin] group): writable by group or others (mode 0666)"
}

@test "config: the store's owner and root are administrators; others are not" {
    require_sqlite "the store's owner is its file's owner"
    manual_task
    run -77 --separate-stderr as nobody osm-task workgroup add checkers nobody
    assert_equal "$stderr" "osm-task: workgroup checkers: only an administrator may change workgroups"
    run -77 --separate-stderr as nobody osm-cartridge deploy "$RUNNER"
    assert_equal "$stderr" "osm-cartridge: deploy: only an administrator may deploy cartridges (root, the store's owner root)"
    run -77 --separate-stderr as nobody osm-cartridge undeploy runner@1.0.0
    run -77 --separate-stderr as nobody osm-cartridge default runner@1.0.0
    assert_equal "$stderr" "osm-cartridge: default: only an administrator may default cartridges (root, the store's owner root)"
    chown nobody "$OSM_DB"
    run -0 as nobody osm-task workgroup add checkers nobody
    run -0 as nobody osm-cartridge default runner@1.0.0
    assert_equal "$(sql "select actor from events where type = 'workgroup.add'")" nobody
}

@test "config: commands come only from a file owned by root or the user running them" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job J-1 B | osm-submit --plan >/dev/null
    # someone who may write the store's directory leaves an osm.conf there
    as nobody sh -c 'printf "[system.alpha]\ncommand = touch %s/pwned\n" "$PWD" >osm.conf'
    run -78 --separate-stderr osm-run 1
    assert_equal "$stderr" "osm-run: $BATS_TEST_TMPDIR/osm.conf: not trusted to name commands: owned by nobody, not by root or by you (root)"
    assert_file_not_exists pwned
    assert_equal "$(sql 'select state from tasks')" pending
    # reading programs do not run commands: they read on
    run -0 osm-status 1
    # root's own file, if no one else may write it
    rm -f osm.conf
    printf '[system.alpha]\ncommand = touch %s/ran\n[notify]\ncommand = true\n' "$PWD" >osm.conf
    chmod 664 osm.conf
    run -78 --separate-stderr osm-run 1
    assert_equal "$stderr" "osm-run: $BATS_TEST_TMPDIR/osm.conf: not trusted to name commands: writable by group or others (mode 0664)"
    chmod 644 osm.conf
    run osm-run 1
    assert_file_exists ran
    # env. variables of hooks count as commands (LD_PRELOAD, PATH)
    printf '[system.alpha]\nenv.LD_PRELOAD = /tmp/x.so\n' >other.conf
    chown nobody other.conf
    OSM_CONFIG=$PWD/other.conf run -78 --separate-stderr osm-run 1
    assert_regex "$stderr" "other.conf: not trusted to name commands: owned by nobody"
}

# ------------------------------------------------------------ cartridge trees

# the extracted tree of the runner cartridge
tree() {
    ls -d "$(trees)"/runner-1.0.0-*
}

# where the store's cartridge trees are: beside an SQLite file, in the
# cache directory for a PostgreSQL store (lib/cartdir.c)
trees() {
    if [ "$backend" = sqlite ]; then
        echo "$OSM_DB.cartridges"
    else
        echo "$XDG_CACHE_HOME/osm/$(printf %s "$OSM_DB" | sha256sum | cut -c1-16).cartridges"
    fi
}

@test "cartridge tree: a hook edited on disk does not run; the deployed one does" {
    osm-cartridge deploy "$RUNNER" >/dev/null
    job J-1 | osm-submit --plan >/dev/null
    osm-run 1 >/dev/null
    t=$(tree)
    printf '#!/bin/sh\ntouch "%s/pwned"\necho "{\\"status\\":\\"completed\\"}"\n' "$PWD" >"$t/hooks/hook.sh"
    job J-2 | osm-submit --plan >/dev/null
    run -0 osm-run 2
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_file_not_exists pwned
    assert_equal "$(wc -l <calls)" 2
    cmp "$t/hooks/hook.sh" "$RUNNER/hooks/hook.sh"
    # an extra file, a link or a mode others may write: extracted afresh too
    for spoil in 'echo x >"$t/extra"' 'ln -s /bin/true "$t/hooks/link"' 'chmod g+w "$t/hooks/hook.sh"' \
                 'chmod 777 "$t/hooks"' 'rm "$t/cartridge.json"'; do
        eval "$spoil"
        job "J-$RANDOM" | osm-submit --plan >/dev/null
        run -0 osm-run --all
        [ ! -e "$t/extra" ] && [ ! -L "$t/hooks/link" ] && [ -f "$t/cartridge.json" ] || { echo "$spoil: kept"; false; }
        assert_equal "$(stat -c %a "$t/hooks" "$t/hooks/hook.sh" | tr '\n' ' ')" "755 755 "
    done
    assert_equal "$(ls -a "$(trees)" | grep -c stale)" 0
}

@test "cartridge tree: one left by another user is not used" {
    [ "$(id -u)" = 0 ] || skip "acting as another user needs root"
    osm-cartridge deploy "$RUNNER" >/dev/null
    sha=$(sql "select sha256 from cartridges")
    t=$(trees)/runner-1.0.0-${sha:0:16}
    mkdir -p "$t"
    cp -R "$RUNNER"/. "$t"
    printf '#!/bin/sh\ntouch "%s/pwned"\n' "$PWD" >"$t/hooks/hook.sh"
    chown -R nobody "$t"
    job J-1 | osm-submit --plan >/dev/null
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_file_not_exists pwned
    assert_equal "$(stat -c %U "$t/hooks/hook.sh")" root
    # where the trees are must be no one else's either
    rm -rf "$(trees)"
    mkdir "$(trees)"
    chown nobody "$(trees)"
    job J-2 | osm-submit --plan >/dev/null
    osm-run 2 >/dev/null || true
    assert_equal "$(sql "select error from tasks where kind = 'automated' and order_id = 2")" \
        "$(trees): not trusted to run hooks from: owned by nobody, not by root, this user or the store's owner"
    assert_file_not_exists pwned
}

# ------------------------------------------------------------ jq budget

# parcel_loops: the parcel cartridge, whose programs loop for ever on
# the orders named LOOP (validate), PLANLOOP (duration) and SLOW (request)
parcel_loops() {
    parcel
    sed -i -e 's|"validate": "if|"validate": "if .id == \\"LOOP\\" then last(range(1e15)) elif|' \
        -e 's|"request": "{skus: \[.items\[\].id\]}"|"request": "if .order.externalId == \\"SLOW\\" then last(range(1e15)) else {skus: [.items[].id]} end"|' \
        -e 's|"duration": "P1D"|"duration": "if .id == \\"PLANLOOP\\" then def f: f; f else \\"P1D\\" end"|' \
        parcel/cartridge.json
    osm-cartridge deploy parcel >/dev/null
}

@test "jq budget: a program past its CPU budget refuses the order at intake, named" {
    parcel_loops
    export OSM_JQ_BUDGET=200ms
    run -1 osm-validate <<<'{"source":"shop","id":"LOOP","lines":[{"sku":"A"}]}'
    assert_equal "$(jq -c .errors <<<"$output")" \
        '[{"path":".","message":"validation failed: cartridge.json: .orderTypes[\"shop-order\"].validate: stopped after its budget of PT0.2S of CPU time (OSM_JQ_BUDGET)"}]'
    # the next order of the same stream is taken normally
    run -1 --separate-stderr osm-submit <<<'{"source":"shop","id":"LOOP","lines":[{"sku":"A"}]}
{"source":"shop","id":"S-2","lines":[{"sku":"A"}]}'
    assert_equal "$(jq -r .externalId <<<"$output")" S-2
    assert_equal "$(sql "select external_id from orders order by id" | paste -sd,)" S-2
    [[ $stderr == *'order LOOP: .: validation failed: cartridge.json: .orderTypes["shop-order"].validate: stopped after its budget of PT0.2S'* ]]
}

@test "jq budget: planning past it fails with the function named; a mapping past it is fallout" {
    parcel_loops
    export OSM_JQ_BUDGET=200ms
    run -65 --separate-stderr osm-submit --plan <<<'{"source":"shop","id":"S-1","lines":[{"sku":"PLANLOOP"}]}'
    assert_equal "$stderr" "osm-submit: order 1: item PLANLOOP: cartridge.json: .functions.ship.duration: stopped after its budget of PT0.2S of CPU time (OSM_JQ_BUDGET)"
    assert_equal "$(sql "select count(*) from tasks where order_id = 1")" 0
    run -0 osm-submit --plan <<<'{"source":"shop","id":"SLOW","lines":[{"sku":"A"}]}'
    run -0 osm-run 2
    assert_equal "$(sql "select state || ': ' || error from tasks where order_id = 2 and function = 'ship' order by id limit 1")" \
        "failed: building the request failed: cartridge.json: .functions.ship.request: stopped after its budget of PT0.2S of CPU time (OSM_JQ_BUDGET)"
    assert_equal "$(sql "select state from orders where id = 2")" failed
}

@test "jq budget: OSM_JQ_BUDGET must be a duration; 0s means none" {
    parcel_loops
    OSM_JQ_BUDGET=soon run -78 --separate-stderr osm-validate <<<'{"source":"shop","id":"S-1","lines":[{"sku":"A"}]}'
    [[ $stderr == *'OSM_JQ_BUDGET: '*'"soon"'* ]]
    OSM_JQ_BUDGET=0s run -0 osm-validate <<<'{"source":"shop","id":"S-1","lines":[{"sku":"A"}]}'
    assert_equal "$(jq -c .valid <<<"$output")" true
}
