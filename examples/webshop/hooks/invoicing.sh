#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# invoicing.sh: simulated accounts receivable for the webshop cartridge
# (see sim.sh).  invoice answers INVOICED with an invoice number; undo
# issues a credit note (CREDITED).
. "$(dirname "$0")/sim.sh"

sim_run invoicing '
    .request as $r
    | .seq as $seq
    | if .mode == "undo" then
          {status: "completed", externalStatus: "CREDITED",
           data: {creditNote: "CN-\(.now[0:4])-\(100000 + $seq)", amount: $r.amounts.total}}
      elif $r.action != "invoice" then
          {status: "failed", externalStatus: "REJECTED",
           message: "unknown invoicing action \($r.action | tojson)"}
      elif ($r.amounts.total | type) != "number" then
          {status: "failed", externalStatus: "REJECTED", message: "no total to invoice"}
      else
          {status: "completed", externalStatus: "INVOICED",
           data: {invoiceNumber: "INV-\(.now[0:4])-\(100000 + $seq)", amount: $r.amounts.total}}
      end'
