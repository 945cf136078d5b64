#!/bin/sh
# The demo behind `make demo`: the story of order management, a screen a
# step, on the example cartridges and their simulated systems.  Orders
# arrive (an invalid one is refused), plans are drawn, systems do the
# work, a field technician installs a line, a customer upgrades in flight
# and another cancels, billing refuses an order and an operator fixes it,
# future-dated orders wait for their day, and every order ends completed
# or cancelled.  The clock is OSM_NOW, moved on between steps: nothing
# waits for real time.  The lines beginning with "$" are the commands a
# person would type.
# Usage: demo.sh BINDIR DEMODIR
set -eu
bin=$1
demo=$2
examples=$(cd "$(dirname "$0")" && pwd)
PATH=$bin:$PATH
OSM_DB=$demo/osm.db
OSM_SIM_DIR=$demo/sim
export PATH OSM_DB OSM_SIM_DIR
unset OSM_CONFIG
bb=$examples/broadband/orders
shop=$examples/webshop/orders
me=$(id -un)

# step TITLE: a numbered heading with the clock; at INSTANT: set the clock
n=0
step() { n=$((n + 1)); printf '\n== %d. %s  [%s]\n' "$n" "$1" "$OSM_NOW"; }
at() { OSM_NOW=$1; export OSM_NOW; }
# say COMMAND...: show a command as a person would type it
say() { echo "  \$ $*"; }
# indent: the output of a program, set in from the headings
indent() { sed 's/^/  /'; }
# run: every order with work to do now goes as far as it can
run() { osm-run --all -j 2 >/dev/null; }
# id EXTERNAL_ID: the id of the order its source knows as EXTERNAL_ID
id() { osm-status --external-id "$1" </dev/null | jq -r .id; }
# states ID...: where the orders stand, a line each
states() {
    osm-status "$@" </dev/null | jq -r '"  order \(.id)  \(.externalId)  \(.state)"'
}
# people: the members of the workgroups claim and complete every task
# waiting for them (counted in $done_by_people)
done_by_people=0
people() {
    for t in $(osm-task list --state waiting | jq -r 'select(.taskKind == "manual") | .id'); do
        osm-task claim "$t" >/dev/null && osm-task complete "$t" >/dev/null
        done_by_people=$((done_by_people + 1))
    done
}
# count: how many orders are in each state
count() {
    osm-status --all </dev/null | jq -r .state | sort | uniq -c | awk '{ printf "  %5d %s\n", $1, $2 }'
}

at 2026-11-26T09:00:00Z
step "The cartridges, the business logic, are deployed into the order store"
say osm-cartridge deploy broadband webshop
osm-cartridge -q deploy "$examples/broadband" "$examples/webshop" >/dev/null
osm-cartridge list --format table | indent

step "Orders arrive from the CRM and the web shop; an invalid one is refused"
say osm-submit broadband/orders/*.json webshop/orders/*.json ...
osm-submit --errors-to-stdout "$bb"/[0-9]*.json "$shop"/[0-9]*.json \
        "$bb/invalid-several-problems.json" 2>/dev/null |
    jq -r 'def pad($n): tostring | . + " " * ($n - length);
           if .kind == "order" then
               "  stored   order \(.id | pad(3)) \(.externalId)  \(.cartridge)/\(.orderType)"
           else
               "  REFUSED  \(.externalId): \(.message)",
               (.errors[] | "           \(.path): \(.message)")
           end'

step "Plans are drawn: each order's tasks, their dependencies and dates"
say 'osm-status --all | osm-plan'
osm-status --all </dev/null | osm-plan |
    jq -r 'def pad($n): tostring | . + " " * ($n - length);
           "  order \(.id | pad(3)) \("\(.tasks | length) tasks" | pad(9)) start \(.startDate)  expected \(.expectedCompletion)"'
echo
say osm-plan 1 --format table
osm-plan 1 --format table | indent

step "Systems do the work: CRM, inventory, activation, shipping, payments"
say osm-run --all -j 2
run
printf '  %-12s %s\n' SYSTEM CALLS
for f in "$OSM_SIM_DIR"/*.log; do
    printf '  %-12s %5d\n' "$(basename "$f" .log)" "$(wc -l <"$f")"
done
echo "  the orders:"
count

at 2026-11-26T09:30:00Z
step "A technician of field-tech claims and completes an installation"
say osm-task workgroup add field-tech "$me"
osm-task workgroup add field-tech "$me" >/dev/null
osm-task workgroup add packers "$me" >/dev/null
say osm-task list --workgroup field-tech --format table
osm-task list --workgroup field-tech --format table | indent
task=$(osm-task list --workgroup field-tech --order 1 | jq -r .id)
say osm-task claim "$task"
osm-task claim "$task" | jq -r '"  task \(.id): \(.state) by \(.assignee)"'
say osm-task complete "$task"
osm-task complete "$task" | jq -r '"  task \(.id): \(.state)"'
osm-run 1 >/dev/null
states 1

step "A customer upgrades from 5 to 14 Mbit/s while the order is in flight"
up=$(id CRM-100010)
jq '.revisionNumber = 1
    | (.productOrderItem[0].product.productCharacteristic[] | select(.name == "bandwidth") | .value) = "14"' \
    "$bb/10-dsl-basic.json" >"$demo/upgrade.json"
say osm-revise --dry-run --format table "$up" upgrade.json
osm-revise --dry-run --format table "$up" "$demo/upgrade.json" | indent
say osm-revise "$up" upgrade.json
osm-revise "$up" "$demo/upgrade.json" | jq -r '"  order \(.id): revision \(.revision) \(.result)"'
osm-run "$up" >/dev/null
states "$up"

step "A customer withdraws a speed change before it is billed: cancelled"
cancel=$(id CRM-100007)
say osm-revise --dry-run --format table --cancel "$cancel"
osm-revise --dry-run --format table --cancel "$cancel" | indent
say osm-revise --cancel "$cancel"
osm-revise --cancel "$cancel" >/dev/null
osm-run "$cancel" >/dev/null
states "$cancel"

at 2026-11-26T12:00:00Z
step "Billing refuses an order: its task falls out to the order desk"
run
say osm-task list --workgroup order-fallout --format table
osm-task list --workgroup order-fallout --format table | indent
states "$(id CRM-100011)"

at 2026-11-26T12:30:00Z
step "An operator gives the order its billing account and retries"
fixed=$(id CRM-100011)
fallout=$(osm-task list --workgroup order-fallout --order "$fixed" | jq -r .id)
echo '{"billingAccount": "BA-100011"}' >"$demo/fix.json"
say "echo '$(cat "$demo/fix.json")' >fix.json"
say osm-task retry "$fallout" --data fix.json
osm-task retry "$fallout" --data "$demo/fix.json" >/dev/null
osm-run "$fixed" >/dev/null
states "$fixed"

at 2026-11-28T12:00:00Z
step "Future-dated orders wait for their start date"
run
people
run
later="$(id CRM-100005) $(id WEB-200004) $(id CRM-100006)"
# shellcheck disable=SC2086 # three ids
osm-status $later </dev/null |
    jq -r '"  order \(.id)  \(.externalId)  \(.state)  starts \(.startDate)  wanted by \(.requestedDate)"'

# Time passes: the clock moves to each instant a task of an open order is
# planned to start or end (before UNTIL, when given), the systems run and
# people do the tasks waiting for them.
next_due() {
    osm-status --state open </dev/null | osm-plan |
        jq -r --arg now "$OSM_NOW" --arg until "${1:-9999}" '
            .tasks[] | select(.state != "completed") | .start, .end
            | select(. != null and . > $now and . < $until)' |
        sort | head -n 1
}
rounds=0
advance() {
    while t=$(next_due "$@") && [ -n "$t" ]; do
        rounds=$((rounds + 1))
        at "$t"
        run
        before=$done_by_people
        people
        [ "$done_by_people" -eq "$before" ] || run
    done
}
advance 2027-02-25T12:00:00Z

at 2027-02-25T12:00:00Z
step "The start date of order $(id CRM-100006) has come: its work begins"
run
states "$(id CRM-100006)"
advance

at 2027-03-02T12:00:00Z
step "Every order has ended, completed or cancelled"
echo "  from step 10 on, the clock moved $rounds times, to each instant work was due,"
echo "  and technicians and packers did the $done_by_people other tasks waiting for them"
say osm-status --all --format table
osm-status --all --format table </dev/null | indent
count
