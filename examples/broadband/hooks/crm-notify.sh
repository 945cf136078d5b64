#!/bin/sh
# crm-notify.sh: simulated CRM notification endpoint for the broadband
# cartridge (see sim.sh).  Takes the TMF622 event built by notify.jq on
# stdin and keeps it in "$OSM_SIM_DIR/crm-notify.log"; exit 0 = delivered.
# OSM_SIM_FAIL_CRM_NOTIFY=N makes the first N deliveries fail.
. "$(dirname "$0")/sim.sh"

sim_run crm-notify '{status: "completed", externalStatus: "RECEIVED"}'
