#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# asap.sh REGION: simulated service activation system (ASAP) of one region,
# north or south, for the broadband cartridge (see sim.sh).  Each region is
# its own system: asap-north, asap-south.  activate answers ACTIVATED with a
# service id per item; deactivate, and undo of an activation, DEACTIVATED.
. "$(dirname "$0")/sim.sh"

case ${1:-} in
north | south) ;;
*) echo "usage: $0 north|south" >&2; exit 2 ;;
esac

sim_run "asap-$1" '
    .request as $r
    | .seq as $seq
    | (.system | ascii_upcase | sub("-"; "")) as $sys
    | if .mode == "undo" or $r.action == "deactivate" then
          {status: "completed", externalStatus: "DEACTIVATED",
           data: {services: [($r.services // [])[] | {itemId, serviceId: .productId}
                             | with_entries(select(.value != null))]}}
      elif $r.action == "activate" then
          {status: "completed", externalStatus: "ACTIVATED",
           data: {workOrder: "WO-\($sys)-\(100000 + $seq)",
                  services: [($r.services // [])[]
                             | {itemId, serviceId: (.productId // "SVC-\($sys)-\(100000 + $seq)-\(.itemId)")}]}}
      else
          {status: "failed", externalStatus: "ERROR",
           message: "unknown activation action \($r.action | tojson)"}
      end'
