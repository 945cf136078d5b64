#!/bin/sh
# The demo behind `make demo`: deploy the example cartridges into a fresh
# store, take their valid sample orders in and plan them, drive them with
# the simulated external systems while the clock moves on, revise one
# order and cancel another in flight, and show where every order stands.
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

# The sample orders are dated for this instant; the clock then moves on.
clock() { OSM_NOW=$1; export OSM_NOW; echo "== $1"; }

clock 2026-11-26T09:00:00Z
for c in "$examples"/*/; do osm-cartridge -q deploy "$c" >/dev/null; done
osm-cartridge list --format table
echo

echo "== orders taken in and planned"
osm-submit --plan "$examples"/*/orders/[0-9]*.json |
    jq -r '[.id, .externalId, .cartridge, (.tasks | length), .startDate, .expectedCompletion] | @tsv' |
    awk -F '\t' 'BEGIN { printf "%-4s %-12s %-10s %5s  %-20s %s\n", "ID", "EXTERNAL", "CARTRIDGE", "TASKS", "START", "EXPECTED" }
                 { printf "%-4s %-12s %-10s %5s  %-20s %s\n", $1, $2, $3, $4, $5, $6 }'
echo

# Drive everything that can run, then let time pass: delays, timers and
# future-dated orders come due.
for t in 2026-11-26T09:00:00Z 2026-11-26T12:00:00Z 2026-11-28T12:00:00Z \
         2026-12-20T12:00:00Z 2027-03-02T12:00:00Z; do
    clock "$t"
    osm-run --all -j 2
done
echo

# The source changes its mind about orders in flight: the line of order 1
# gets more bandwidth (its revision 1), and the customer of order 11
# cancels.  What the revision would do, then it is done, with what it
# compensates; the cancellation undoes what was done.
echo "== order 1 revised in flight: what the revision does"
jq '.revisionNumber = 1
    | (.productOrderItem[0].product.productCharacteristic[]? | select(.name == "bandwidth") | .value) = 100' \
    "$examples/broadband/orders/01-dsl-install.json" >"$demo/revised.json"
osm-revise -n --format table 1 "$demo/revised.json"
osm-revise 1 "$demo/revised.json" >/dev/null
osm-run 1 >/dev/null
echo
echo "== order 11 cancelled: what was done is undone"
osm-revise -n --format table --cancel 11
osm-revise --cancel 11 >/dev/null
osm-run 11 >/dev/null
echo

echo "== why the invalid sample orders are refused"
(cd "$examples" && osm-validate -q --format table */orders/[a-z]*.json) || test $? -le 65
echo

# Last, where every order stands.  Manual tasks wait for people (field
# technicians, packers): those orders stay in progress.
echo "== where the orders stand"
osm-status --all --format table </dev/null
