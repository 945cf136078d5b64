#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# carrier.sh CARRIER: simulated parcel carrier, dhl or ups, for the webshop
# cartridge (see sim.sh).  Each carrier is its own system.  ship answers
# DELIVERED with a tracking id at once (a real carrier would answer
# accepted, then DISPATCHED and DELIVERED later); undo arranges a return.
. "$(dirname "$0")/sim.sh"

case ${1:-} in
dhl | ups) ;;
*) echo "usage: $0 dhl|ups" >&2; exit 2 ;;
esac

sim_run "$1" '
    .request as $r
    | .seq as $seq
    | .system as $carrier
    | if .mode == "undo" then
          {status: "completed", externalStatus: "RETURN_ARRANGED",
           data: {carrier: $carrier, returnLabel: "RET-\($carrier | ascii_upcase)-\(500000 + $seq)"}}
      elif $r.action != "ship" then
          {status: "failed", externalStatus: "LOST",
           message: "unknown carrier action \($r.action | tojson)"}
      elif ($r.address.country // "") == "" or ($r.address.city // "") == "" then
          {status: "failed", externalStatus: "LOST", message: "no delivery address"}
      else
          {status: "completed", externalStatus: "DELIVERED",
           data: {carrier: $carrier,
                  trackingId: (if $carrier == "dhl" then "JJD\(4000000000 + $seq)"
                               else "1Z999AA1\(10000000 + $seq)" end)}}
      end'
