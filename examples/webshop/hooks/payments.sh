#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# payments.sh: simulated payment service provider for the webshop cartridge
# (see sim.sh).  capture takes the amount from the shop's card or PayPal
# authorisation (CAPTURED), or approves payment on invoice (AUTHORISED);
# undo refunds it (REFUNDED).  A redo captures the new amount.
. "$(dirname "$0")/sim.sh"

sim_run payments '
    .request as $r
    | .seq as $seq
    | if .mode == "undo" then
          {status: "completed", externalStatus: "REFUNDED",
           data: {refundId: "REF-\(300000 + $seq)", amount: $r.amount}}
      elif $r.action != "capture" then
          {status: "failed", externalStatus: "DECLINED",
           message: "unknown payment action \($r.action | tojson)"}
      elif ($r.amount | type) != "number" or $r.amount <= 0 then
          {status: "failed", externalStatus: "DECLINED",
           message: "nothing to capture: amount \($r.amount | tojson)"}
      elif $r.method == "invoice" then
          {status: "completed", externalStatus: "AUTHORISED",
           data: {captureId: "APR-\(300000 + $seq)", amount: $r.amount}}
      elif ($r.authorizationId // "") == "" then
          {status: "failed", externalStatus: "DECLINED",
           message: "no \($r.method) authorisation to capture from"}
      else
          {status: "completed", externalStatus: "CAPTURED",
           data: {captureId: "CAP-\(300000 + $seq)", amount: $r.amount}}
      end'
