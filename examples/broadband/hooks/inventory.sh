#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted $names are jq variables
# inventory.sh: simulated network inventory for the broadband cartridge
# (see sim.sh).  allocate-port and allocate-number hand out a new port or
# telephone number per call (ALLOCATED); release-port, and undo of an
# allocation, give it back (RELEASED).
. "$(dirname "$0")/sim.sh"

sim_run inventory '
    .request as $r
    | .seq as $seq
    | ($r.region // "south") as $region
    | (if $region == "north" then "N" else "S" end) as $r1
    | if $r.action == "release-port" or $r.action == "release-number"
         or (.mode == "undo" and ($r.action == "allocate-port" or $r.action == "allocate-number")) then
          {status: "completed", externalStatus: "RELEASED", data: {itemId: $r.itemId}}
      elif $r.action == "allocate-port" then
          if $r.technology == "VDSL2" and ($r.bandwidth // 0) > 250 then
              {status: "failed", externalStatus: "REJECTED",
               message: "no VDSL2 port gives \($r.bandwidth) Mbit/s"}
          else
              (($r.postcode // "00") | tostring | .[0:2]) as $area
              | {status: "completed", externalStatus: "ALLOCATED",
                 data: {itemId: $r.itemId,
                        exchange: "EX-\($r1)\($area)",
                        port: "\(if $r.technology == "GPON" then "OLT" else "DSLAM" end)-\($r1)\($area)-\(1000 + $seq)"}}
          end
      elif $r.action == "allocate-number" then
          {status: "completed", externalStatus: "ALLOCATED",
           data: {itemId: $r.itemId,
                  number: "+49 \(if $region == "north" then "40" else "89" end) 555 \(10000 + $seq)"}}
      else
          {status: "failed", externalStatus: "REJECTED",
           message: "unknown inventory action \($r.action | tojson)"}
      end'
