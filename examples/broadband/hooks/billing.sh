#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# billing.sh: simulated billing system for the broadband cartridge (see
# sim.sh).  charge answers BILLED; close, and undo of a charge, CLOSED.
# An account the billing system does not know (not BA- and digits: an
# order sent with no billing account is charged to its customer id) is
# REJECTED: the task falls out until someone gives the order an account.
. "$(dirname "$0")/sim.sh"

sim_run billing '
    .request as $r
    | if .mode == "undo" or $r.action == "close" then
          {status: "completed", externalStatus: "CLOSED",
           data: {billingAccount: $r.billingAccount}}
      elif ($r.billingAccount // "" | test("^BA-[0-9]+$") | not) then
          {status: "failed", externalStatus: "REJECTED",
           message: "unknown billing account \($r.billingAccount // "" | tojson)"}
      elif $r.action == "charge" then
          {status: "completed", externalStatus: "BILLED",
           data: {billingAccount: $r.billingAccount, monthlyTotal: $r.monthlyTotal,
                  chargesFrom: ($r.startDate // .now)}}
      else
          {status: "failed", externalStatus: "REJECTED",
           message: "unknown billing action \($r.action | tojson)"}
      end'
