#!/usr/bin/env bats
# osm-run: the engine and the hook protocol, against the runner fixture
# whose hook logs each call and answers as $OSM_TEST_DIR/mode.FUNCTION says.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
}

# job REF SPEC...: submit and plan an order with one item per SPEC
job() {
    local ref=$1 items="" i=0
    shift
    for spec in "$@"; do i=$((i + 1)); items="$items${items:+,}{\"id\":\"$i\",\"spec\":\"$spec\"}"; done
    echo "{\"kind\":\"job\",\"ref\":\"$ref\",\"items\":[$items]}" | osm-submit --plan >/dev/null
}

task_states() {
    sql "select function || ':' || state from tasks where kind <> 'fallout' order by id" | tr '\n' ' ' | sed 's/ $//'
}

@test "run: an order through every function: hooks, a rule, merged data, completed" {
    job J-1 A A
    run -0 --separate-stderr osm-run 1
    assert_equal "$stderr" ""
    assert_equal "$(jq -c '[.id, .state, .order.prepared, .order.price]' <<<"$output")" '[1,"completed","T-1",10]'
    assert_equal "$(task_states)" 'prepare:completed left:completed right:completed price:completed left:completed right:completed price:completed finish:completed'
    assert_equal "$(wc -l <calls)" 6
    assert_equal "$(sql "select data from events where type = 'order.state' order by id" | jq -r .to)" $'in_progress\ncompleted'
    # each hook call is in the history with its request and response
    assert_equal "$(sql "select count(*) from events where type = 'hook'")" 6
    assert_equal "$(sql "select data from events where type = 'hook' order by id limit 1" | json_rows 0 '[.request.ref, .response.status, .exit] | map(sqlv) | join("|")')" 'J-1|completed|0'
}

@test "run: the hook gets the request on stdin, with the protocol's envelope and environment" {
    job J-1 B
    osm-run 1 >/dev/null
    # the key: order, task, mode, plan revision and the request's digest
    key=osm-1-1-do-1-$(printf '%s' "$(head -1 requests | jq -c .request)" | sha256sum | cut -c1-12)
    assert_equal "$(head -1 requests | jq -c '{mode, attempt, idempotencyKey, order, task: (.task | {id, function, system, items})}')" \
        '{"mode":"do","attempt":1,"idempotencyKey":"'"$key"'","order":{"id":1,"externalId":"J-1","cartridge":"runner"},"task":{"id":1,"function":"one","system":"alpha","items":["1"]}}'
    schemacheck -r "$OSM_SRCDIR/specs/hook-request.schema.json" requests
    assert_equal "$(cat calls)" "1 one 1 $key alpha 1"
}

@test "run: a retry of the same request keeps its key; a retry with corrected data gets a new one" {
    echo fail >mode.one
    job J-1 B
    osm-run 1 >/dev/null
    OSM_NOW=2026-11-26T09:01:00Z osm-run 1 >/dev/null
    OSM_NOW=2026-11-26T09:03:00Z osm-run 1 >/dev/null
    assert_equal "$(cut -d' ' -f4 calls | sort -u | wc -l)" 1
    assert_equal "$(sql "select state from tasks where kind <> 'fallout'")" failed
    rm mode.one
    # the operator corrects the order's data and retries: the request changes
    echo '{"ref": "J-1-corrected"}' >fix.json
    osm-task retry 1 --data fix.json >/dev/null
    assert_equal "$(sql "select body from orders" | jq -r .ref)" J-1-corrected
    OSM_NOW=2026-11-26T09:05:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state from tasks where kind <> 'fallout'")" completed
    assert_equal "$(cut -d' ' -f4 calls | sort -u | wc -l)" 2
}

@test "run: independent branches overlap under -j 2" {
    job J-1 A
    echo sleep >mode.left; echo sleep >mode.right
    export OSM_TEST_SLEEP=1
    osm-run -j 2 1 >/dev/null
    assert_equal "$(task_states)" 'prepare:completed left:completed right:completed price:completed finish:completed'
    # each hook logs when it starts and ends: both started before either ended
    assert_equal "$(head -2 spans | cut -d' ' -f1 | tr '\n' ' ')" 'start start '
    assert_equal "$(sort spans | tr '\n' ' ')" 'end left end right start left start right '

}

@test "run: a failure is retried after its backoff, with the same idempotency key" {
    job J-1 B
    echo fail-once >mode.one
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" in_progress
    assert_equal "$(sql "select state, attempts, error from tasks")" 'pending|1|hook exited with status 1'
    # the retry is not due before its backoff (PT30S, +-10%)
    OSM_NOW=2026-11-26T09:00:20Z osm-run 1 >/dev/null
    assert_equal "$(wc -l <calls)" 1
    OSM_NOW=2026-11-26T09:01:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    # the same request, retried: the same key
    assert_equal "$(cut -d' ' -f3 calls | tr '\n' ' ')" '1 2 '
    assert_equal "$(cut -d' ' -f4 calls | sort -u | wc -l)" 1
    [[ $(head -1 calls | cut -d' ' -f4) == osm-1-1-do-1-* ]]
    assert_equal "$(sql "select state, attempts from tasks")" 'completed|2'
    assert_equal "$(sql "select data from events where type = 'hook' order by id limit 1" | jq -r .stderr)" 'simulated outage'
}

@test "run: retries used up: fallout, with the error in the history, and the order failed" {
    job J-1 B
    echo fail >mode.one
    for t in 09:00:00 09:01:00 09:03:00 09:10:00; do OSM_NOW=2026-11-26T${t}Z osm-run 1 >/dev/null; done
    assert_equal "$(wc -l <calls)" 3
    assert_equal "$(sql "select function, kind, state, workgroup from tasks order by id")" $'one|automated|failed|\none|fallout|waiting|fallout'
    assert_equal "$(sql "select state, state_reason from orders")" 'failed|fallout'
    assert_equal "$(sql "select data from events where type = 'fallout'" | json_rows 0 '[.error.message, .error.attempts] | map(sqlv) | join("|")')" 'hook exited with status 1|3'
}

@test "run: a system that answers failed falls out at once" {
    job J-1 B
    echo refuse >mode.one
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state, error from tasks where kind <> 'fallout'")" 'failed|the system answered failed: no capacity'
    assert_equal "$(sql "select state from orders")" failed
}

@test "run: exit 75 is temporary: retried without using up the failure count" {
    job J-1 B
    echo temp >mode.one
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state, attempts, temp_failures, error from tasks")" 'pending|0|1|system temporarily unavailable (exit 75)'
    echo completed >mode.one
    OSM_NOW=2026-11-26T09:10:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(sql "select attempts, temp_failures from tasks")" '1|1'
}

@test "run: a hook that ignores SIGTERM is killed at its timeout, its process group gone" {
    job J-1 B
    echo hang >mode.one
    printf '[system.alpha]\ncommand = hooks/hook.sh alpha\ntimeout = PT1S\n' >osm.conf
    run -0 osm-run 1
    assert_equal "$(sql "select state, error from tasks")" 'pending|hook timed out (limit PT1S)'
    # gone, or at most a zombie waiting for init (the hook's own children
    # are reparented when the group is killed)
    for pid in $(cat hang.pid) $(cat hang.child); do
        [ ! -e "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status" ||
            { echo "process $pid still runs"; false; }
    done
    assert_equal "$(sql "select data from events where type = 'hook'" | json_rows 0 .timedOut)" 1
}

@test "run: garbage on stdout is a failure, retried" {
    job J-1 B
    echo garbage >mode.one
    osm-run 1 >/dev/null
    assert_regex "$(sql "select error from tasks")" '^hook gave no JSON response object: '
    assert_equal "$(sql "select data from events where type = 'hook'" | jq -r .stdout)" 'this is not json'
}

@test "run: 100 MB on stdout is refused at the cap" {
    job J-1 B
    echo flood >mode.one
    osm-run 1 >/dev/null
    assert_equal "$(sql "select error from tasks")" 'hook printed more than 1048576 bytes'
}

@test "run: a hook killed by a signal is a failure" {
    job J-1 B
    echo signal >mode.one
    # a command without shell syntax is run directly: it is the one killed
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state, error from tasks")" 'pending|hook killed by signal 9'
    # through sh, which tells it as an exit status
    printf '[system.alpha]\ncommand = hooks/hook.sh "alpha"\n' >osm.conf
    OSM_NOW=2026-11-26T10:00:00Z osm-run 1 >/dev/null
    assert_equal "$(sql "select state, error from tasks")" 'pending|hook exited with status 137 (killed by signal 9)'
}

@test "run: order data never reaches a command line" {
    printf '#!/bin/sh\necho "$0 $*" >>%s/argv\ncat >%s/stdin\necho %s\n' "$PWD" "$PWD" "'{\"status\":\"completed\"}'" >spy.sh
    chmod +x spy.sh
    printf '[system.alpha]\ncommand = %s/spy.sh fixed-arg\n' "$PWD" >osm.conf
    echo '{"kind":"job","ref":"$(touch pwned)`touch pwned2`\"; touch pwned3","items":[{"id":"1; touch pwned4","spec":"B"}]}' |
        osm-submit --plan >/dev/null
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
    assert_equal "$(cat argv)" "$PWD/spy.sh fixed-arg"
    assert_file_not_exists pwned; assert_file_not_exists pwned2
    assert_file_not_exists pwned3; assert_file_not_exists pwned4
    assert_equal "$(jq -r .order.externalId stdin)" '$(touch pwned)`touch pwned2`"; touch pwned3'
}

@test "run: a future-dated order does not start before its date, and starts after" {
    echo '{"kind":"job","ref":"J-F","due":"2026-12-10T00:00:00Z","items":[{"id":"1","spec":"B"}]}' | osm-submit --plan >/dev/null
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" not_started
    assert_file_not_exists calls
    OSM_NOW=2026-12-09T23:58:00Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" not_started
    OSM_NOW=2026-12-09T23:59:30Z run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" completed
}

@test "run: a manual task waits for its workgroup" {
    job J-1 M
    run -0 osm-run 1
    assert_equal "$(jq -r .state <<<"$output")" in_progress
    assert_equal "$(task_states)" 'one:completed check:waiting'
    assert_equal "$(sql "select workgroup from tasks where function = 'check'")" checkers
}

@test "run: --all runs every order; restrictions leave the rest alone" {
    job J-1 B; job J-2 B; job J-3 A
    run -0 osm-run --all --function one
    assert_equal "$output" ""
    assert_equal "$(sql "select count(*) from tasks where state = 'completed'")" 2
    osm-run --all --system beta >/dev/null
    assert_equal "$(sql "select function from tasks where state = 'completed' order by id")" $'one\none'
    osm-run --all --cartridge nosuch >/dev/null
    osm-run --all -j 3 >/dev/null
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" 3
}

@test "run: --max-tasks bounds a run" {
    job J-1 B; job J-2 B; job J-3 B
    osm-run --all --max-tasks 2 >/dev/null
    assert_equal "$(wc -l <calls)" 2
}

@test "run: --wait holds until the orders end; 1 when one did not complete" {
    job J-1 B; job J-2 B
    echo refuse >mode.one
    run -1 osm-run --wait 1
    assert_equal "$(jq -r .state <<<"$output")" failed
    rm mode.one
    run -0 osm-run --wait --timeout PT5S 2
    assert_equal "$(jq -r .state <<<"$output")" completed
    echo '{"kind":"job","ref":"J-F","due":"2026-12-10T00:00:00Z","items":[{"id":"1","spec":"B"}]}' | osm-submit --plan >/dev/null
    run -75 --separate-stderr osm-run --wait --timeout PT1S --interval PT0.1S 3
    assert_equal "$stderr" "osm-run: --timeout: the orders have not ended"
}

@test "run: order documents on stdin, bad input, unknown orders, usage" {
    job J-1 B
    run -0 bash -c 'osm-plan 1 | osm-run'
    assert_equal "$(jq -r .state <<<"$output")" completed
    run -65 --separate-stderr osm-run <<<'"x"'
    run -66 --separate-stderr osm-run 9
    assert_equal "$stderr" "osm-run: no such order: 9"
    run -2 --separate-stderr osm-run --all 1
    run -2 --separate-stderr osm-run -j 0 1
    assert_equal "${stderr_lines[0]}" 'osm-run: --jobs: expected a number from 1 to 1000000, got "0"'
    run -2 --separate-stderr osm-run --bogus
    assert_equal "${stderr_lines[0]}" 'osm-run: unknown option "--bogus"'
}

@test "run: a system with no command anywhere falls out, naming the setting" {
    copy_cartridge "$RUNNER" nocmd
    jq '.name = "nocmd" | del(.systems.alpha.command) | .orderTypes.job.recognize = ".kind == \"nocmd\""' \
        nocmd/cartridge.json >m && mv m nocmd/cartridge.json
    osm-cartridge deploy nocmd >/dev/null
    echo '{"kind":"nocmd","ref":"N-1","items":[{"id":"1","spec":"B"}]}' | osm-submit --plan >/dev/null
    osm-run 1 >/dev/null
    assert_equal "$(sql "select state, error from tasks where kind <> 'fallout'")" 'failed|no hook command for system "alpha": set [system.alpha] command in osm.conf'
}

@test "run: --loop stops cleanly on SIGTERM, recording what it ran" {
    job J-1 B
    echo sleep >mode.one
    export OSM_TEST_SLEEP=1
    osm-run --loop --interval PT0.1S 2>err &
    pid=$!
    for i in $(seq 50); do [ -s calls ] && break; sleep 0.1; done
    kill -TERM $pid
    wait $pid
    assert_equal "$(sql "select state from tasks")" completed
    assert_equal "$(cat err)" ""
}
