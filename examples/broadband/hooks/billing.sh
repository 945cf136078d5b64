#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# billing.sh: simulated billing system for the broadband cartridge (see
# sim.sh).  open-account answers OPENED: the products are registered on
# the account named (else on the customer's own), whatever it is, since
# nothing is charged yet.  charge answers BILLED; close, and undo of a
# registration or a charge, CLOSED.  An undo answers no data: what it
# takes back was on the old account, and an answer's data is merged into
# the order, over the account a revision may have changed.  A charge to
# an account the billing system does not know (not BA- and digits: an
# order sent with no billing account is charged to its customer id) is
# REJECTED: the task falls out until someone gives the order an account.
. "$(dirname "$0")/sim.sh"

sim_run billing '
    .request as $r
    | if .mode == "undo" then
          {status: "completed", externalStatus: "CLOSED"}
      elif $r.action == "close" then
          {status: "completed", externalStatus: "CLOSED",
           data: {billingAccount: $r.billingAccount}}
      elif $r.action == "open-account" then
          {status: "completed", externalStatus: "OPENED"}
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
