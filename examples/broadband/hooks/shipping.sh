#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# shipping.sh: simulated warehouse and carrier for the broadband cartridge
# (see sim.sh).  ship answers DELIVERED with a tracking id at once (a real
# carrier would answer accepted, then DISPATCHED and DELIVERED later);
# undo arranges a return.
. "$(dirname "$0")/sim.sh"

sim_run shipping '
    .request as $r
    | .seq as $seq
    | if .mode == "undo" then
          {status: "completed", externalStatus: "RETURN_ARRANGED",
           data: {returnLabel: "RET-\(500000 + $seq)"}}
      elif ($r.address.postcode // "") == "" then
          {status: "failed", externalStatus: "LOST", message: "no delivery address"}
      else
          {status: "completed", externalStatus: "DELIVERED",
           data: {trackingId: "PN\(700000000 + $seq)", carrier: "ParcelNet",
                  articles: [($r.lines // [])[] | .article]}}
      end'
