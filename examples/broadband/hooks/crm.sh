#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# crm.sh: simulated CRM for the broadband cartridge (see sim.sh).
# sync-customer: creates or updates the customer and answers SYNCED.
. "$(dirname "$0")/sim.sh"

sim_run crm '
    .request as $r
    | if .mode == "undo" then
          {status: "completed", externalStatus: "SYNCED",
           message: "customer records are kept: nothing to undo",
           data: {customerId: $r.customerId}}
      elif ($r.customerId // "") == "" then
          {status: "failed", externalStatus: "REJECTED", message: "no customer id"}
      else
          {status: "completed", externalStatus: "SYNCED",
           data: {customerId: $r.customerId, crmAccountId: "ACC-\($r.customerId)", syncedAt: .now}}
      end'
