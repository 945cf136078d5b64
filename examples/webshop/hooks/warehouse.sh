#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# warehouse.sh: simulated warehouse management system for the webshop
# cartridge (see sim.sh).  pick answers PICKED with a pick list, pack
# PACKED with a parcel id and weight; undo puts the articles back on the
# shelves (RESTOCKED).  More than 20 of one article is out of stock.
. "$(dirname "$0")/sim.sh"

sim_run warehouse '
    .request as $r
    | .seq as $seq
    | ([($r.lines // [])[] | select((.quantity // 1) > 20)] | first) as $short
    | if .mode == "undo" then
          {status: "completed", externalStatus: "RESTOCKED",
           data: {orderRef: $r.orderRef}}
      elif $r.action == "pick" and $short != null then
          {status: "failed", externalStatus: "OUT_OF_STOCK",
           message: "only 20 of \($short.sku) in stock, \($short.quantity) wanted"}
      elif $r.action == "pick" then
          {status: "completed", externalStatus: "PICKED",
           data: {pickList: "PL-\(200000 + $seq)",
                  lines: [($r.lines // [])[] | {itemId, sku, quantity}]}}
      elif $r.action == "pack" then
          {status: "completed", externalStatus: "PACKED",
           data: {parcelId: "PCL-\(200000 + $seq)",
                  weightKg: ([($r.lines // [])[] | 0.6 * (.quantity // 1)] | add // 0
                             | (. + 0.3) * 10 | round / 10)}}
      else
          {status: "failed", externalStatus: "OUT_OF_STOCK",
           message: "unknown warehouse action \($r.action | tojson)"}
      end'
