#!/usr/bin/env bash
# baseline.sh: the benchmark's baseline, the jobs of osm written the
# obvious way, as a shell script that calls jq and sqlite3 for each step
# of each order and each task.  bench/run times it beside osm; it is not
# a second implementation of osm (no retries, revisions, leases, fallout
# or notifications), only the same work for orders that go well:
#
#   baseline.sh init DB                      create the store
#   baseline.sh submit [--plan] DB CART      NDJSON orders on stdin: recognise
#                                            (jq), validate (jq), transform (jq),
#                                            insert (sqlite3); with --plan, plan
#                                            (a jq program printing the task
#                                            inserts) and insert (sqlite3)
#   baseline.sh run [-j N] DB CART           run every pending task: per order,
#                                            N orders at once, each task by
#                                            building its request (sqlite3, jq),
#                                            calling the hook, reading its answer
#                                            (jq) and recording it (sqlite3)
#   baseline.sh fill DB N                    N planned orders in one statement
#                                            (a store for the status job)
#   baseline.sh status DB ID                 the order's status document
#
# CART is the bench cartridge directory (bench/cartridge): its jq programs
# and hooks are the ones osm runs.  OSM_NOW is the clock, as for osm.
# Each sqlite3 connection uses synchronous=NORMAL, as osm does, so that the
# difference measured is the process per step, not the fsync policy.

set -u

now=${OSM_NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

die() { printf 'baseline.sh: %s\n' "$*" >&2; exit 1; }

sq() {
    sqlite3 -batch -cmd '.timeout 30000' -cmd 'PRAGMA synchronous=NORMAL' "$@"
}

# A string as an SQL literal.
q() {
    local s=${1//\'/\'\'}
    printf "'%s'" "$s"
}

cmd_init() {
    [ $# -eq 1 ] || die "usage: baseline.sh init DB"
    rm -f "$1" "$1-wal" "$1-shm"
    sqlite3 -batch "$1" >/dev/null <<'EOF'
PRAGMA journal_mode = WAL;
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    external_id TEXT UNIQUE,
    order_type  TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'not_started',
    priority    INTEGER NOT NULL DEFAULT 5,
    original    TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    planned_at  TEXT
);
CREATE TABLE items (
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    item_id     TEXT NOT NULL,
    action      TEXT NOT NULL,
    spec        TEXT,
    data        TEXT NOT NULL,
    PRIMARY KEY (order_id, item_id)
);
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    key         TEXT NOT NULL,
    function    TEXT NOT NULL,
    system      TEXT,
    command     TEXT,
    items       TEXT NOT NULL,
    after       TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    request     TEXT,
    response    TEXT,
    updated_at  TEXT
);
CREATE INDEX tasks_order ON tasks (order_id);
CREATE INDEX tasks_state ON tasks (state);
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL,
    task_id     INTEGER,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX events_order ON events (order_id);
EOF
}

# The plan: the order's items through the cartridge's patterns give
# (function, item) pairs; pairs of the same function and group key are one
# task; a task waits for the tasks holding the pairs its function is
# after; the tasks are printed in dependency order, as SQL inserts.
# An order that has a plan is not planned again.
# Input: the internal order; $c: the manifest; $now: the clock.
# shellcheck disable=SC2016 # $names are jq's
PLAN_JQ='
def q: "\u0027" + (tostring | gsub("\u0027"; "\u0027\u0027")) + "\u0027";
def topo:
    {todo: ., out: []}
    | until(.todo == [];
        (.out | map(.key)) as $done
        | [.todo[] | select(all(.after[]; . as $d | $done | index([$d]) != null))] as $ready
        | if $ready == [] then error("dependency cycle") else .out += $ready | .todo -= $ready end)
    | .out;
$c[0] as $c
| .externalId as $o
| [.items[] as $it
   | ($c.patterns[$it.spec][$it.action // "add"] // [])[] as $f
   | $c.functions[$f] as $fn
   | {function: $f, system: $fn.system, item: $it.id,
      group: (if ($fn.group // "item") == "order" then "order" else $it.id end),
      after: [($fn.after // [])[] | if type == "object" then .function else . end]}
   | .key = "\(.function)/\(.group)"] as $pairs
| [$pairs | group_by(.key)[]
   | {key: .[0].key, function: .[0].function, system: .[0].system,
      items: map(.item), after: (map(.after) | add | unique)}
   | . as $t
   | .after = ([$pairs[] | select(.function as $f | $t.after | index([$f]) != null)
                         | select(.item as $i | $t.items | index([$i]) != null)
                         | .key] | unique - [$t.key])]
| topo
| "BEGIN;",
  (.[] | "INSERT INTO tasks (order_id, key, function, system, command, items, after)"
         + " SELECT id, \(.key | q), \(.function | q), \(.system | q),"
         + " \($c.systems[.system].command | q), \(.items | tojson | q), \(.after | tojson | q)"
         + " FROM orders WHERE external_id = \($o | q) AND planned_at IS NULL;"),
  "UPDATE orders SET planned_at = \($now | q) WHERE external_id = \($o | q) AND planned_at IS NULL;",
  "COMMIT;"
'

cmd_submit() {
    local plan=0
    [ "${1:-}" = --plan ] && { plan=1; shift; }
    [ $# -eq 2 ] || die "usage: baseline.sh submit [--plan] DB CART"
    local db=$1 cart=$2 line problems internal status=0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        if ! printf '%s\n' "$line" | jq -e --arg now "$now" -f "$cart/recognize.jq" >/dev/null; then
            echo "baseline.sh: order not recognised" >&2; status=65; continue
        fi
        problems=$(printf '%s\n' "$line" | jq -c --arg now "$now" -f "$cart/validate.jq") || { status=65; continue; }
        if [ -n "$problems" ]; then
            printf 'baseline.sh: invalid order: %s\n' "$problems" >&2; status=1; continue
        fi
        internal=$(printf '%s\n' "$line" | jq -c --arg now "$now" -f "$cart/transform.jq") || { status=65; continue; }
        sq "$db" "BEGIN;
INSERT INTO orders (external_id, order_type, priority, original, body, created_at, updated_at)
 VALUES (json_extract($(q "$internal"), '\$.externalId'), 'bench-order',
         coalesce(json_extract($(q "$internal"), '\$.priority'), 5),
         $(q "$line"), $(q "$internal"), $(q "$now"), $(q "$now"))
 ON CONFLICT (external_id) DO NOTHING;
INSERT OR IGNORE INTO items (order_id, item_id, action, spec, data)
 SELECT last_insert_rowid(), json_extract(value, '\$.id'), json_extract(value, '\$.action'),
        json_extract(value, '\$.spec'), value
 FROM json_each($(q "$internal"), '\$.items') WHERE changes() > 0;
COMMIT;" || { status=74; continue; }
        if [ $plan = 1 ]; then
            printf '%s\n' "$internal" \
                | jq -r --slurpfile c "$cart/cartridge.json" --arg now "$now" "$PLAN_JQ" \
                | sq "$db" || status=74
        fi
    done
    return $status
}

# Run the pending tasks of one order, in plan order (dependency order, so
# that each task's dependencies are done when it starts).
cmd_run_order() {
    local db=$1 cart=$2 oid=$3 tasks tid fn sys cmd req resp rc st state
    tasks=$(sq -separator $'\t' "$db" \
        "SELECT id, function, system, command FROM tasks WHERE order_id = $oid AND state = 'pending' ORDER BY id")
    sq "$db" "UPDATE orders SET state = 'in_progress', updated_at = $(q "$now") WHERE id = $oid"
    while IFS=$'\t' read -r tid fn sys cmd; do
        [ -n "$tid" ] || continue
        sq "$db" "UPDATE tasks SET state = 'running', attempts = attempts + 1, updated_at = $(q "$now") WHERE id = $tid"
        req=$(sq "$db" "SELECT body FROM orders WHERE id = $oid" \
            | jq -c --argjson oid "$oid" --argjson tid "$tid" --arg fn "$fn" --arg sys "$sys" \
                '{request: {order: ., task: {id: $tid, function: $fn, system: $sys}},
                  order: {id: $oid, externalId: .externalId}, mode: "do", attempt: 1,
                  idempotencyKey: "\($oid)-\($tid)"}')
        resp=$(printf '%s\n' "$req" | (cd "$cart" && OSM_ORDER_ID=$oid OSM_TASK_ID=$tid \
            OSM_FUNCTION=$fn OSM_SYSTEM=$sys OSM_MODE="do" OSM_ATTEMPT=1 OSM_DB=$db sh -c "$cmd"))
        rc=$?
        st=$(printf '%s\n' "$resp" | jq -r '.status? // empty' 2>/dev/null)
        if [ $rc -eq 0 ] && [ "$st" = completed ]; then state=completed; else state=failed; fi
        sq "$db" "BEGIN;
UPDATE tasks SET state = '$state', request = $(q "$req"), response = $(q "$resp"),
 updated_at = $(q "$now") WHERE id = $tid;
INSERT INTO events (order_id, task_id, kind, data, at)
 VALUES ($oid, $tid, 'hook', json_object('function', $(q "$fn"), 'exit', $rc,
         'response', $(q "$resp")), $(q "$now"));
COMMIT;"
        [ $state = completed ] || break
    done <<<"$tasks"
    sq "$db" "UPDATE orders SET updated_at = $(q "$now"), state = CASE
 WHEN (SELECT count(*) FROM tasks WHERE order_id = $oid AND state <> 'completed') = 0
 THEN 'completed' ELSE 'failed' END WHERE id = $oid"
}

cmd_run() {
    local jobs=1
    [ "${1:-}" = -j ] && { jobs=$2; shift 2; }
    [ $# -eq 2 ] || die "usage: baseline.sh run [-j N] DB CART"
    sq "$1" "SELECT DISTINCT order_id FROM tasks WHERE state = 'pending' ORDER BY order_id" \
        | xargs -r -P "$jobs" -n 1 "$0" run-order "$1" "$2"
}

cmd_fill() {
    [ $# -eq 2 ] || die "usage: baseline.sh fill DB N"
    sq "$1" "BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO orders (id, external_id, order_type, state, original, body, created_at, updated_at)
 SELECT i, printf('BENCH-%07d', i), 'bench-order', 'completed', '{}',
        json_object('externalId', printf('BENCH-%07d', i), 'items',
                    json_array(json_object('id', '1', 'action', 'add', 'spec', 'BENCH-LINE'))),
        $(q "$now"), $(q "$now") FROM n;
INSERT INTO items (order_id, item_id, action, spec, data)
 SELECT id, '1', 'add', 'BENCH-LINE', json_extract(body, '\$.items[0]') FROM orders;
WITH f(k, f) AS (VALUES (1, 'sync-customer'), (2, 'allocate-port'), (3, 'activate'),
                        (4, 'ship-cpe'), (5, 'bill'), (6, 'notify'))
INSERT INTO tasks (order_id, key, function, system, items, after, state, attempts)
 SELECT o.id, f.f || '/1', f.f, 'crm', '[\"1\"]', '[]', 'completed', 1
 FROM orders o, f ORDER BY o.id, f.k;
COMMIT;"
}

# The order, its items and its tasks, as one document.
cmd_status() {
    [ $# -eq 2 ] || die "usage: baseline.sh status DB ID"
    case $2 in '' | *[!0-9]*) die "not an order id: $2" ;; esac
    sq -json "$1" "SELECT o.id, o.external_id, o.state, o.priority, o.created_at,
        (SELECT json_group_array(json_object('id', item_id, 'action', action, 'spec', spec))
           FROM items WHERE order_id = o.id) AS items,
        (SELECT json_group_array(json_object('id', id, 'function', function, 'state', state,
                                             'attempts', attempts))
           FROM tasks WHERE order_id = o.id) AS tasks
        FROM orders o WHERE o.id = $2" \
        | jq -ce '.[0] // error("no such order")
                  | {kind: "status", id, externalId: .external_id, state, priority, createdAt: .created_at,
                     items: (.items | fromjson), tasks: (.tasks | fromjson)}
                  | .progress = {done: ([.tasks[] | select(.state == "completed")] | length),
                                 total: (.tasks | length)}'
}

case ${1:-} in
init) shift; cmd_init "$@" ;;
submit) shift; cmd_submit "$@" ;;
run) shift; cmd_run "$@" ;;
run-order) shift; cmd_run_order "$@" ;;
fill) shift; cmd_fill "$@" ;;
status) shift; cmd_status "$@" ;;
*) die "usage: baseline.sh init|submit|run|fill|status ..." ;;
esac
