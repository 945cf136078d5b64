#!/bin/sh
# shop-notify.sh: simulated order-status endpoint of the web shop, for the
# webshop cartridge (see sim.sh).  Takes the message built by notify.jq on
# stdin and keeps it in "$OSM_SIM_DIR/shop-notify.log"; exit 0 = delivered.
# OSM_SIM_FAIL_SHOP_NOTIFY=N makes the first N deliveries fail.
. "$(dirname "$0")/sim.sh"

sim_run shop-notify '{status: "completed", externalStatus: "RECEIVED"}'
