#!/usr/bin/env bats
# Workers on three hosts against one PostgreSQL store over TCP, one host
# cut off in the middle of the run: every order completes, no task runs
# twice under a live lease, each task is completed once in the store, and
# the cut host's late outcomes, when it comes back, are refused by their
# fencing tokens and change nothing.  PostgreSQL only (make
# check-postgresql); the file starts a server of its own, reached over TCP.
#
# Where network namespaces can be made (root, or CAP_NET_ADMIN), a host is
# a network namespace joined to the others by a veth pair and a bridge, on
# a private /24, in a UTS namespace of its own whose hostname (h1, h2, h3)
# names its leases; the server runs in a fourth namespace and listens on
# its address there; a host is cut off by taking its link down.  Elsewhere
# a host is a process group with a working directory of its own, in a UTS
# namespace of its own where unshare --uts works (as root, or in a user
# namespace), talking TCP to 127.0.0.1, and is cut off by SIGSTOP.
# OSM_TEST_MULTIHOST=processes makes the second kind where the first could
# be made; the test's name says which kind ran.  OSM_TEST_MULTIHOST_ORDERS
# sets how many orders there are (default 60, of five tasks each), and the
# file timeline in the test's directory says when each stage ended.
#
# A lease lasts the hook's timeout and 70 seconds more (lib/engine.c), too
# long to wait for here, so the workers' clocks are fixed (OSM_NOW) and
# time passes for the hosts that stay by restarting their workers, once
# they have finished what they run, with a clock just past the cut host's
# last lease, as if they had run on until then.  The cut host comes back,
# with its old clock, only when every order has completed: no worker's
# clock is behind another's while there is work to take.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner
T0=2026-11-26T09:00:00Z
ORDERS=${OSM_TEST_MULTIHOST_ORDERS:-60}   # of five tasks, four of them hooks

# ------------------------------------------------------------ the hosts

# Whether network namespaces can be made here: root or CAP_NET_ADMIN, and
# ip that makes one.
netns_possible() {
    local probe=osm-$MH_TAG-probe
    command -v ip >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 || return 1
    ip netns add "$probe" 2>/dev/null || return 1
    ip netns del "$probe" 2>/dev/null
    ip link add "${MH_IF}pr" type bridge 2>/dev/null || return 1
    ip link del "${MH_IF}pr" 2>/dev/null
    return 0
}

# How a host gets a UTS namespace of its own (hostname h1...): with
# unshare --uts, in a user namespace of its own, or not at all.
uts_kind() {
    if unshare --uts true 2>/dev/null; then
        echo uts
    elif unshare --user --map-root-user --uts true 2>/dev/null; then
        echo userns
    else
        echo none
    fi
}

# The network: a bridge here and, for the server (db) and each host, a
# network namespace joined to it by a veth pair, on 10.231.0.0/24 (the
# bridge has no address: nothing here routes to it, and another run's
# network is another bridge).  In the server's namespace, retransmissions
# back off to at most 2s, so that a host whose link comes back hears from
# the server soon, and go on for longer than the default 15 times before
# the server gives a connection up, so that the cut host's connection
# outlives the cut.
net_up() {
    local i=1 name ns
    ip link add "${MH_IF}br" type bridge || return 1
    ip link set "${MH_IF}br" up || return 1
    for name in db h1 h2 h3; do
        ns=osm-$MH_TAG-$name
        ip netns add "$ns" || return 1
        ip link add "${MH_IF}$name" type veth peer name "${MH_IF}${name}p" || return 1
        ip link set "${MH_IF}${name}p" netns "$ns" || return 1
        ip -n "$ns" link set "${MH_IF}${name}p" name eth0 || return 1
        ip link set "${MH_IF}$name" master "${MH_IF}br" up || return 1
        ip -n "$ns" addr add "10.231.0.$i/24" dev eth0 || return 1
        ip -n "$ns" link set lo up || return 1
        ip -n "$ns" link set eth0 up || return 1
        i=$((i + 1))
    done
    if [ -e /proc/sys/net/ipv4/tcp_rto_max_ms ]; then
        ip netns exec "osm-$MH_TAG-db" sh -c 'echo 2000 >/proc/sys/net/ipv4/tcp_rto_max_ms &&
            echo 40 >/proc/sys/net/ipv4/tcp_retries2' || return 1
    fi
}

# Remove what net_up made, whatever of it there is.
net_down() {
    local name
    for name in db h1 h2 h3; do
        ip netns del "osm-$MH_TAG-$name" 2>/dev/null
        ip link del "${MH_IF}$name" 2>/dev/null
    done
    ip link del "${MH_IF}br" 2>/dev/null
    return 0
}

# A TCP port nothing listens on here (without ss, one that is likely free).
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 20000))
        if ! command -v ss >/dev/null 2>&1 || [ -z "$(ss -Htln "sport = :$port")" ]; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Start the server: in the db namespace on 10.231.0.1:5432, or here on
# 127.0.0.1 and a free port.  Exports the PG* variables that reach it
# through its socket, and MH_ADDR and MH_PORT, the hosts' way to it.
server_up() {
    local env a
    MH_PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/osm-multihost.XXXXXX") || return 1
    export MH_PGDIR
    if [ "$MH_KIND" = netns ]; then
        MH_ADDR=10.231.0.1 MH_PORT=5432
        env=$(ip netns exec "osm-$MH_TAG-db" sh "$OSM_SRCDIR/tests/pg-server" start "$MH_PGDIR" --tcp "$MH_PORT") ||
            return 1
    else
        MH_ADDR=127.0.0.1
        MH_PORT=$(free_port) || return 1
        env=$(sh "$OSM_SRCDIR/tests/pg-server" start "$MH_PGDIR" --tcp "$MH_PORT") || return 1
    fi
    for a in $env; do export "${a?}"; done
    export MH_ADDR MH_PORT
}

# (this bats cannot skip from setup_file: it says why in MH_SKIP, and the
# test skips in setup)
setup_file() {
    export MH_HOSTS="three hosts" MH_CUT="losing its link" MH_SKIP=
    if [ "$backend" != postgresql ]; then
        MH_SKIP="PostgreSQL only (make check-postgresql): hosts share one store over TCP"
        return 0
    fi
    export MH_TAG=$(($$ % 100000)) MH_IF=om$(($$ % 100000))
    if [ "${OSM_TEST_MULTIHOST:-}" != processes ] && netns_possible; then
        MH_KIND=netns MH_UTS=uts
        MH_HOSTS="three network namespaces on 10.231.0.0/24, server in a fourth"
        MH_CUT="its link taken down"
    else
        MH_KIND=processes MH_UTS=$(uts_kind)
        case $MH_UTS in
        uts) MH_HOSTS="three process groups on 127.0.0.1 (simulated: no network namespaces), own hostnames" ;;
        userns) MH_HOSTS="three process groups on 127.0.0.1 (simulated: no network namespaces), own hostnames in user namespaces" ;;
        none) MH_HOSTS="three process groups on 127.0.0.1 (simulated: no network namespaces, one hostname for all)" ;;
        esac
        MH_CUT="SIGSTOP"
    fi
    export MH_KIND MH_UTS MH_HOSTS MH_CUT
    if [ "$MH_KIND" = netns ]; then
        net_up || { net_down; return 1; }
    fi
    server_up || { teardown_file; return 1; }
}

teardown_file() {
    if [ -n "${MH_PGDIR:-}" ] && [ -d "$MH_PGDIR" ]; then
        sh "$OSM_SRCDIR/tests/pg-server" stop "$MH_PGDIR"
    fi
    if [ "${MH_KIND:-}" = netns ]; then
        net_down
    fi
}

setup() {
    [ -z "$MH_SKIP" ] || skip "$MH_SKIP"
    osm_setup || return 1
    export OSM_NOW=$T0
    copy_cartridge "$RUNNER" cart
    cat >cart/hooks/hook.sh <<'EOF'
#!/bin/sh
# The multi-host test's hook: a run takes some tens of milliseconds,
# appends "TASK HOST START END FENCING" (times in milliseconds since the
# epoch) to runs.log in its host's directory, and answers completed,
# naming its host and fencing token.  While that directory holds a file
# named hold, a run waits for it to go, after leaving held.TASK there.
dir=$OSM_TEST_DIR
cat >/dev/null
start=$(date +%s%3N)
if [ -e "$dir/hold" ]; then
    : >"$dir/held.$OSM_TASK_ID"
    while [ -e "$dir/hold" ]; do sleep 0.01; done
fi
sleep 0.02
printf '%s %s %s %s %s\n' "$OSM_TASK_ID" "$OSM_TEST_HOST" "$start" "$(date +%s%3N)" "$OSM_FENCING" \
    >>"$dir/runs.log"
printf '{"status":"completed","data":{"token":"T-%s","host":"%s","fencing":%s}}\n' \
    "$OSM_TASK_ID" "$OSM_TEST_HOST" "$OSM_FENCING"
EOF
    osm-cartridge deploy cart >/dev/null
    mkdir h1 h2 h3
}

teardown() {
    # no worker outlives the test, nor a hook held
    local p
    [ -z "$MH_SKIP" ] || return 0
    rm -f h1/hold h2/hold h3/hold
    while read -r p; do
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done < <(cat pids 2>/dev/null)
    osm_teardown
}

# host_uri HOST: the store as host HOST reaches it, over TCP.
host_uri() {
    echo "postgresql://osm@$MH_ADDR:$MH_PORT/osm?options=-csearch_path%3D$OSM_TEST_SCHEMA&application_name=$1"
}

# host_start HOST CLOCK: start osm-run --loop -j 2 on host HOST (h1, h2,
# h3) in its directory, with OSM_NOW=CLOCK; its pid in pid_HOST (and in
# the file pids), its output in HOST/worker.N.out and .err (N counts the
# workers started on it).
host_start() {
    local h=$1 dir=$BATS_TEST_TMPDIR/$1 n pid
    local -a wrap
    n=1
    while [ -e "$dir/worker.$n.err" ]; do n=$((n + 1)); done
    case $MH_KIND.$MH_UTS in
    netns.*) wrap=(ip netns exec "osm-$MH_TAG-$h" unshare --uts) ;;
    processes.uts) wrap=(setsid unshare --uts) ;;
    processes.userns) wrap=(setsid unshare --user --map-root-user --uts) ;;
    processes.none) wrap=(setsid) ;;
    esac
    (
        cd "$dir" || exit 1
        OSM_DB=$(host_uri "$h")
        export OSM_DB OSM_NOW=$2 OSM_TEST_DIR=$dir OSM_TEST_HOST=$h XDG_CACHE_HOME=$dir/cache
        # shellcheck disable=SC2016
        exec "${wrap[@]}" sh -c '[ "$1" = none ] || hostname "$2" || exit 1
            exec osm-run --loop --interval 0.2s -j 2 -v' sh "$MH_UTS" "$h"
    ) >"$dir/worker.$n.out" 2>"$dir/worker.$n.err" 3>&- &
    pid=$!
    echo "$pid" >>pids
    printf -v "pid_$h" %s "$pid"
    # the pid is osm-run's once the wrappers have made way for it
    wait_for 10 "osm-run on $h" is_osm_run "$pid"
}

# host_stop HOST: SIGTERM to its worker, which finishes what it runs and
# ends; fails unless it ends with status 0 within 20s.
host_stop() {
    local var=pid_$1
    local st=0
    kill -TERM "${!var}"
    wait_for 20 "the worker of $1 to end" ended "${!var}"
    wait "${!var}" || st=$?
    [ "$st" -eq 0 ] && return 0
    echo "the worker of $1 ended with status $st:"
    cat "$BATS_TEST_TMPDIR/$1"/worker.*.err
    return 1
}

# is_osm_run PID: whether process PID runs osm-run.
is_osm_run() {
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = osm-run ]
}

# ended PID: whether process PID has ended (or is a zombie).
ended() {
    ! ps -o stat= -p "$1" | grep -qv Z
}

# The lease owner prefix of host HOST's current worker: "HOSTNAME:PID:".
owner_of() {
    local var=pid_$1 name=$1
    [ "$MH_UTS" = none ] && name=$(uname -n)
    echo "$name:${!var}:"
}

# wait_for SECONDS WHAT COMMAND...: run COMMAND every 50ms until it
# succeeds; fail saying WHAT was waited for after SECONDS.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    echo "gave up waiting for $what after ${secs}s"
    return 1
}

# mark WHAT: note in the file timeline (and on standard output, which
# bats shows when the test fails) the milliseconds since the test began,
# and WHAT happened then.
mark() {
    local now
    now=$(date +%s%3N)
    : "${MH_BEGAN:=$now}"
    echo "$((now - MH_BEGAN))ms $*" | tee -a "$BATS_TEST_TMPDIR/timeline"
}

# The runs logged by every host, "TASK HOST START END FENCING" a line.
runs() {
    cat "$BATS_TEST_TMPDIR"/h?/runs.log 2>/dev/null
}

# runs_at_least N: whether the hosts logged N runs or more.
runs_at_least() {
    [ "$(runs | wc -l)" -ge "$1" ]
}

# held HOST: the tasks whose runs on HOST wait for its hold file to go,
# "ID,ID..." in order.
held() {
    find "$BATS_TEST_TMPDIR/$1" -name 'held.*' | sed 's/.*held\.//' | sort -n | paste -sd,
}

# held_count_is HOST N: whether N runs on HOST wait for its hold file.
held_count_is() {
    [ "$(find "$BATS_TEST_TMPDIR/$1" -name 'held.*' | wc -l)" -eq "$2" ]
}

# only_open_with TASKS: whether every order is completed but those of
# tasks TASKS ("ID,ID...").
only_open_with() {
    [ "$(sql "select count(*) from tasks where state <> 'completed'
              and order_id not in (select order_id from tasks where id in ($1))")" = 0 ]
}

# What the store holds that an outcome could change: every order's and
# every task's state, and how many events, responses and outbox rows.
store_digest() {
    sql "select string_agg(id || ' ' || state || ' ' || updated_at, ',' order by id) from orders"
    sql "select string_agg(concat_ws(' ', id, state, fencing, attempts, lease_owner, lease_expires,
                                     updated_at, md5(coalesce(response, ''))), ',' order by id) from tasks"
    sql "select (select count(*) from events) || ' ' || (select coalesce(max(id), 0) from events) || ' ' ||
                (select count(*) from responses) || ' ' || (select count(*) from outbox)"
}

# ------------------------------------------------------------ the test

@test "multihost: $MH_HOSTS; one cut off by $MH_CUT; every order completes, no task twice under a live lease" {
    local ids tasks hooks held h3owner h3fencing h3until t1 cut_ms restart_ms back_ms t
    local host1 start1 end1 fencing1 host2 start2 fencing2
    ids=$(for i in $(seq "$ORDERS"); do
        printf '{"kind":"job","ref":"H-%d","items":[{"id":"1","spec":"A"}]}\n' "$i"
    done | osm-submit --plan --batch 100 | jq -r 'select(.kind == "plan") | .id')
    assert_equal "$(wc -w <<<"$ids")" "$ORDERS"
    tasks=$(sql "select count(*) from tasks")
    hooks=$(sql "select count(*) from tasks where kind = 'automated'")
    assert_equal "$tasks" $((ORDERS * 5))

    mark "$ORDERS orders, $tasks tasks ($hooks hooks) planned"
    # three hosts at work on one clock
    host_start h1 $T0
    host_start h2 $T0
    host_start h3 $T0
    wait_for 30 "a quarter of the hooks to run" runs_at_least $((hooks / 4))
    # hold h3's next hooks, both its -j 2 slots, and cut it off while they run
    mark "a quarter of the hooks ran; h3's next two are held"
    : >h3/hold
    wait_for 20 "h3 to hold two hooks" held_count_is h3 2
    cut_ms=$(date +%s%3N)
    if [ "$MH_KIND" = netns ]; then
        ip link set "${MH_IF}h3" down
    else
        kill -STOP "$pid_h3"
    fi
    mark "h3 cut off ($MH_CUT) while it runs two hooks"
    held=$(held h3)
    h3owner=$(owner_of h3)
    # the store has both under h3's lease, and h3's leases name its host
    assert_equal "$(sql "select string_agg(id::text, ',' order by id) from tasks
                         where state = 'running' and lease_owner like '$h3owner%'")" "$held"
    h3fencing=$(sql "select string_agg(id || ':' || fencing, ',' order by id) from tasks where id in ($held)")
    h3until=$(sql "select max(lease_expires) from tasks where id in ($held)")

    # h1 and h2 finish every other order, and leave h3's tasks alone: their
    # leases are live on the clock every host keeps
    wait_for 60 "h1 and h2 to finish the orders h3 holds no task of" only_open_with "$held"
    mark "h1 and h2 finished every order but h3's"
    host_stop h1
    host_stop h2
    assert_equal "$(sql "select string_agg(id || ':' || fencing, ',' order by id) from tasks
                         where id in ($held) and state = 'running' and lease_owner like '$h3owner%'")" "$h3fencing"

    # time passes for h1 and h2, past h3's leases: they take h3's tasks over
    t1=$(date -u -d "@$((h3until / 1000 + 2))" +%Y-%m-%dT%H:%M:%SZ)
    mark "h1 and h2 stopped; started again at $t1, past h3's leases"
    restart_ms=$(date +%s%3N)
    host_start h1 "$t1"
    host_start h2 "$t1"
    # (osm-status --wait prints each order, then exits 0 when all completed)
    # shellcheck disable=SC2086
    run -0 osm-status --wait --timeout 40s $ids
    assert_equal "$(sql "select count(*) from orders where state = 'completed'")" "$ORDERS"
    mark "every order completed"
    store_digest >before

    # h3 comes back: its held hooks end and it tries to record their late
    # outcomes, under fencing tokens that have moved on
    back_ms=$(date +%s%3N)
    if [ "$MH_KIND" = netns ]; then
        ip link set "${MH_IF}h3" up
    else
        kill -CONT "$pid_h3"
    fi
    kill -TERM "$pid_h3"
    rm h3/hold
    host_stop h3
    mark "h3 came back, tried to record its late outcomes, and ended"
    host_stop h1
    host_stop h2
    store_digest >after
    # nothing changed in the store
    assert_equal "$(diff before after)" ""

    # every task completed, each once in the store's history, each hook's
    # run recorded once
    assert_equal "$(sql "select count(*) from tasks where state = 'completed'")" "$tasks"
    assert_equal "$(sql "select count(*) || ' ' || count(distinct task_id) from events
                         where type = 'task.state' and data::jsonb ->> 'to' = 'completed'")" "$tasks $tasks"
    assert_equal "$(sql "select count(*) from events where type = 'hook'")" "$hooks"
    # no task lost: every automated task ran
    assert_equal "$(runs | cut -d' ' -f1 | sort -n -u | paste -sd,)" \
        "$(sql "select string_agg(id::text, ',' order by id) from tasks where kind = 'automated'")"
    # only h3's two tasks ran twice: first on h3 before the cut, then on h1
    # or h2, once the clock was past h3's lease, under a greater fencing token
    assert_equal "$(runs | cut -d' ' -f1 | sort -n | uniq -d | paste -sd,)" "$held"
    for t in ${held//,/ }; do
        run -0 awk -v t="$t" '$1 == t' h1/runs.log h2/runs.log h3/runs.log
        assert_equal "${#lines[@]}" 2
        read -r _ host1 start1 end1 fencing1 <<<"$(grep "^$t " h3/runs.log)"
        read -r _ host2 start2 _ fencing2 <<<"$(cat h1/runs.log h2/runs.log | grep "^$t ")"
        assert_equal "$host1" h3
        assert [ "$start1" -lt "$cut_ms" ]
        assert [ "$end1" -ge "$back_ms" ]
        assert_equal "$t:$fencing1" "$(tr , '\n' <<<"$h3fencing" | grep "^$t:")"
        assert [ "$host2" = h1 -o "$host2" = h2 ]
        assert [ "$start2" -ge "$restart_ms" ]
        assert [ "$fencing2" -gt "$fencing1" ]
        # the outcome kept is the second run's
        assert_equal "$(sql "select (response::jsonb -> 'data' ->> 'host') || ' ' || fencing from tasks where id = $t")" \
            "$host2 $fencing2"
    done
    assert [ "$(date -u -d "$t1" +%s)000" -gt "$h3until" ]
    # h3 said none of its late outcomes was durable, and the store's hook
    # events hold none of them
    run -1 grep -E "task (${held//,/|}) completed" h3/worker.1.err
    assert_equal "$(sql "select count(*) from events where type = 'hook' and task_id in ($held)
                         and data::jsonb -> 'response' -> 'data' ->> 'host' = 'h3'")" 0
    # no worker said anything but what it made durable and that it stopped
    assert_equal "$(cat h?/worker.*.err |
        grep -v -e '^osm-run: order [0-9]*: task [0-9]* completed (fencing [0-9]*)$' \
            -e '^osm-run: signal 15: finishing running hooks$')" ""
}
