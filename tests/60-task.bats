#!/usr/bin/env bats
# osm-task: workgroups, manual tasks, fallout handling, order operations,
# and the state tables of specs/ against the program.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    # whoever runs the suite administers this store
    printf '[admin]\ngroup = %s\n' "$(id -gn)" >osm.conf
    osm-cartridge deploy "$RUNNER" >/dev/null
}

job() {
    local ref=$1 items="" i=0
    shift
    for spec in "$@"; do i=$((i + 1)); items="$items${items:+,}{\"id\":\"$i\",\"spec\":\"$spec\"}"; done
    echo "{\"kind\":\"job\",\"ref\":\"$ref\",\"items\":[$items]}" | osm-submit --plan >/dev/null
}

# a failed automated task with its fallout: order 1, task 1 failed, fallout task 2
fallout_order() {
    job J-1 B
    echo fail >mode.one
    for t in 09:00 09:01 09:03 09:10; do OSM_NOW=2026-11-26T$t:00Z osm-run 1 >/dev/null; done
    rm mode.one
}

@test "task: a manual task: claim, complete with data, the order completes" {
    job J-1 M
    osm-run 1 >/dev/null
    run -0 osm-task list
    assert_equal "$(jq -c '[.kind, .id, .function, .state, .workgroup]' <<<"$output")" '["task",2,"check","waiting","checkers"]'
    osm-task workgroup add checkers root >/dev/null
    run -0 osm-task claim 2
    assert_equal "$(jq -c '[.state, .assignee]' <<<"$output")" '["claimed","root"]'
    run -0 bash -c 'echo "{\"checked\": true}" | osm-task complete 2 --data - --status OK'
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(sql "select state, body from orders" | json_rows 1 .checked)" 'completed|1'
    assert_equal "$(sql "select CAST((actor = '$(id -un)') AS INTEGER) from events where type = 'task.state' and task_id = 2" | sort -u)" 1
}

@test "task: release gives it back; assign gives it to a member only" {
    job J-1 M
    osm-run 1 >/dev/null
    osm-task workgroup add checkers root alice >/dev/null
    osm-task claim 2 >/dev/null
    run -0 osm-task release 2
    assert_equal "$(jq -c '[.state, .assignee]' <<<"$output")" '["waiting",null]'
    run -0 osm-task assign 2 --to alice
    assert_equal "$(jq -c '[.state, .assignee]' <<<"$output")" '["claimed","alice"]'
    run -77 --separate-stderr osm-task assign 2 --to nobody
    assert_equal "$stderr" 'osm-task: task 2: nobody is not a member of workgroup "checkers"'
    run -0 osm-task list --mine
    assert_equal "$output" ""
    run -0 osm-task list --workgroup checkers --format table
    assert_line --index 1 --regexp '^2 +1 +check +manual +claimed +checkers +alice'
}

@test "task: a non-member is refused (77), nothing changed" {
    job J-1 M
    osm-run 1 >/dev/null
    run -77 --separate-stderr as nobody osm-task claim 2
    assert_equal "$stderr" 'osm-task: task 2: nobody is not a member of workgroup "checkers"'
    assert_equal "$(sql "select state, CAST((assignee IS NULL) AS INTEGER) from tasks where id = 2")" 'waiting|1'
    run -77 --separate-stderr as nobody osm-task workgroup add checkers nobody
    assert_equal "$stderr" 'osm-task: workgroup checkers: only an administrator may change workgroups'
    osm-task workgroup add checkers nobody >/dev/null
    run -0 as nobody osm-task claim 2
    assert_equal "$(jq -r .assignee <<<"$output")" nobody
    run -77 --separate-stderr osm-task -q complete 2 2>/dev/null || true
}

@test "task: refusals: wrong state, wrong kind, unknown task or workgroup" {
    job J-1 M
    osm-run 1 >/dev/null
    run -1 --separate-stderr osm-task complete 2
    assert_equal "$stderr" 'osm-task: task 2: cannot complete a manual task that is waiting (complete needs claimed)'
    run -1 --separate-stderr osm-task claim 1
    assert_equal "$stderr" 'osm-task: task 1: cannot claim a automated task that is completed (claim needs waiting)'
    run -66 --separate-stderr osm-task claim 99
    assert_equal "$stderr" 'osm-task: no such task: 99'
    run -66 --separate-stderr osm-task workgroup add nosuch root
    assert_equal "$stderr" 'osm-task: no such workgroup: nosuch (no deployed cartridge declares it)'
    run -2 --separate-stderr osm-task assign 2
    run -2 --separate-stderr osm-task skip 1
    run -2 --separate-stderr osm-task frob
}

@test "task: the fallout round trip: hook fails, fallout, retry --data, the order completes" {
    fallout_order
    assert_equal "$(sql "select state from orders")" failed
    run -0 osm-task list --workgroup fallout
    assert_equal "$(jq -c '[.id, .taskKind, .function, .state, .error.message]' <<<"$output")" '[2,"fallout","one","waiting","hook exited with status 1"]'
    echo '{"fixed": "yes"}' >fix.json
    run -0 osm-task retry 2 --data fix.json
    assert_equal "$(jq -c '[.id, .state, .attempts]' <<<"$output")" '[1,"pending",0]'
    assert_equal "$(sql "select state from orders")" in_progress
    assert_equal "$(sql "select state from tasks where id = 2")" completed
    run -0 osm-run 1
    assert_equal "$(jq -c '[.state, .order.fixed]' <<<"$output")" '["completed","yes"]'
    assert_equal "$(sql "select data from events where type = 'order.state' order by id desc" |
        jq -r 'select(.to == "in_progress") | .reason' | head -n 1)" 'task retried'
}

@test "task: skip marks a failed task done; the order goes on" {
    fallout_order
    run -0 osm-task skip 1 --reason "done by hand"
    assert_equal "$(jq -r .state <<<"$output")" skipped
    assert_equal "$(sql "select state from orders")" completed
    assert_equal "$(sql "select data from events where type = 'task.state' and task_id = 1 order by id desc limit 1" | jq -r .reason)" 'done by hand'
}

@test "task: a manual task that cannot be done falls out" {
    job J-1 M
    osm-run 1 >/dev/null
    osm-task claim 2 >/dev/null
    run -0 osm-task fail 2 --reason "customer not at home"
    assert_equal "$(jq -r .state <<<"$output")" failed
    assert_equal "$(sql "select kind, workgroup, error from tasks where id = 3" | json_rows 2 .message)" 'fallout|fallout|customer not at home'
    assert_equal "$(sql "select state from orders")" failed
}

@test "task: intake fallout is not retried: a revision fixes it" {
    osm-cartridge deploy "$FIXTURES/cartridges/gadgets-premium" >/dev/null
    osm-submit "$FIXTURES/orders/premium-invalid.json" >/dev/null 2>&1 || true
    run -1 --separate-stderr osm-task retry 1
    assert_equal "$stderr" 'osm-task: task 1: order 1 failed at intake: it is fixed by a revision from its source, not retried'
}

@test "orders: bulk suspend and resume over a stream, refusals reported, exit 1" {
    job J-1 B; job J-2 B; job J-3 B
    osm-run 3 >/dev/null
    run -1 --separate-stderr bash -c 'osm-plan 1 2 3 | osm-task suspend'
    assert_equal "$stderr" 'osm-task: order 3: cannot suspend an order that is completed'
    assert_equal "$(jq -sc 'map([.id, .state])' <<<"$output")" '[[1,"suspended"],[2,"suspended"]]'
    # a suspended order starts no task
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" suspended
    assert_file_not_exists calls.1 2>/dev/null
    assert_equal "$(sql "select state from tasks where order_id = 1")" pending
    run -0 osm-task resume 1 2
    assert_equal "$(jq -sc 'map(.state)' <<<"$output")" '["not_started","not_started"]'
    run -0 osm-run 1 2
    assert_equal "$(jq -sc 'map(.state)' <<<"$output")" '["completed","completed"]'
}

@test "orders: abort stops for good, no running work left" {
    job J-1 A
    osm-run --max-tasks 1 1 >/dev/null
    run -2 --separate-stderr osm-task abort 1
    run -0 osm-task abort 1 --reason "customer withdrew"
    assert_equal "$(jq -c '[.state, .reason]' <<<"$output")" '["aborted","customer withdrew"]'
    assert_equal "$(sql "select count(*) from tasks where state in ('pending', 'running', 'waiting', 'claimed')")" 0
    run -0 osm-run --all
    assert_equal "$(wc -l <calls)" 1
}

@test "orders: fail and resolve" {
    fallout_order
    run -1 --separate-stderr osm-task resolve 1
    assert_equal "$stderr" 'osm-task: order 1: 1 fallout task is still open: retry or skip it first'
    osm-task skip 1 --reason manual >/dev/null
    job J-2 B
    run -0 osm-task order fail 2 --reason "wrong customer"
    assert_equal "$(jq -c '[.state, .reason]' <<<"$output")" '["failed","wrong customer"]'
    run -0 osm-task resolve 2
    assert_equal "$(jq -r .state <<<"$output")" in_progress
}

@test "state table: every (state, operation) pair behaves as specs/order-states.json says" {
    table=$OSM_SRCDIR/specs/order-states.json
    n=0
    for state in $(jq -r '.states[]' "$table"); do
        for op in $(jq -r '.operations | keys[]' "$table"); do
            n=$((n + 1))
            job "S-$n" B
            sql "update orders set state = '$state', resume_state = 'in_progress' where id = $n"
            allowed=$(jq --arg s "$state" --arg o "$op" '.operations[$o].from | index($s) != null' "$table")
            run --separate-stderr osm-task order "$op" --reason test "$n"
            if [ "$allowed" = true ]; then
                [ "$status" -eq 0 ] || { echo "$op from $state: refused ($status): $stderr"; false; }
                to=$(jq -r --arg o "$op" '.operations[$o].to' "$table")
                case $to in
                "(the state it was suspended in)") to=in_progress ;;
                esac
                [ "$op" = resolve ] && to=$(sql "select state from orders where id = $n")
                assert_equal "$(sql "select state from orders where id = $n")" "$to"
            else
                [ "$status" -eq 1 ] || { echo "$op from $state: status $status, want 1"; false; }
                assert_equal "$stderr" "osm-task: order $n: cannot $op an order that is $state"
                assert_equal "$(sql "select state from orders where id = $n")" "$state"
            fi
        done
    done
}

@test "state table: task verbs follow specs/task-states.json" {
    table=$OSM_SRCDIR/specs/task-states.json
    job J-1 M
    osm-run 1 >/dev/null
    osm-task workgroup add checkers root >/dev/null
    for state in $(jq -r '.states[]' "$table"); do
        for verb in claim release complete; do
            sql "update tasks set state = '$state', assignee = 'root' where id = 2"
            allowed=$(jq --arg s "$state" --arg v "$verb" '.verbs[$v].from | index($s) != null' "$table")
            run --separate-stderr osm-task "$verb" 2
            if [ "$allowed" = true ]; then
                [ "$status" -eq 0 ] || { echo "$verb from $state: $status $stderr"; false; }
                assert_equal "$(sql "select state from tasks where id = 2")" "$(jq -r --arg v "$verb" '.verbs[$v].to' "$table")"
            else
                [ "$status" -eq 1 ] || { echo "$verb from $state: status $status"; false; }
            fi
        done
    done
}

@test "history: every operator action names the Unix user" {
    job J-1 M
    osm-run 1 >/dev/null
    osm-task workgroup add checkers root >/dev/null
    osm-task claim 2 >/dev/null
    osm-task release 2 >/dev/null
    osm-task suspend 1 >/dev/null
    assert_equal "$(sql "select type, actor from events where id >= (select id from events where type = 'workgroup.add') order by id" | tr '\n' ' ')" \
        "workgroup.add|$(id -un) task.state|$(id -un) task.state|$(id -un) order.state|$(id -un) "
}
