#!/bin/sh
# A stand-in for the external system: reads the request on stdin and
# answers that the work is done.  Replace it with an adapter to the real
# system, or bind the system to one in osm.conf ([system.example] command=).
request=$(cat)
printf '{"status":"completed","externalStatus":"DONE","data":{}}\n'
: "$request"
