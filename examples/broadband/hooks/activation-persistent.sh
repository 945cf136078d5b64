#!/bin/sh
# activation-persistent.sh REGION: the simulated activation system (ASAP)
# of one region, north or south, as a persistent hook (a system declared
# "mode": "persistent"): one process serves every task of the system
# instead of one process per task (see osm-run(1) and asap.sh, the
# one-shot version).
#
# osm writes one request per line on stdin: the hook request (see
# specs/hook-request.schema.json) as one line of compact JSON.  Each gets
# one line back on stdout, in the order they came:
#   {"task": ID, "status": "completed", "externalStatus": "ACTIVATED",
#    "data": {"workOrder": ..., "services": [{"itemId", "serviceId"}...]}}
# with ID the request's task id, which is what osm matches answers by.
# Activation answers ACTIVATED, with a work order and a service id per
# item; deactivation, and undo of an activation, DEACTIVATED; anything
# else fails.
#
# No process per request: the task id, its items and the kind of request
# are taken from the line with parameter expansion alone.  That relies on
# the layout of the request as osm writes it: the task object
# ("task":{"id":N,...,"items":[...],...) follows the request the
# function built, so it is the last "task":{"id": on the line; and item
# ids are plain strings without quotes, commas or brackets (as the
# broadband transform makes them).  Unlike asap.sh there is no call log
# and no OSM_SIM_* switch.
set -f

case ${1:-} in
north) sys=ASAPNORTH ;;
south) sys=ASAPSOUTH ;;
*) echo "usage: $0 north|south" >&2; exit 2 ;;
esac

task_key='"task":{"id":'
items_key='"items":['
seq=0
while IFS= read -r line; do
    seq=$((seq + 1))
    case $line in
    *"$task_key"[0-9]*) ;;
    *)
        # no task to name: the answer goes to the oldest request, this one
        printf '%s\n' '{"status":"failed","externalStatus":"ERROR","message":"a request without a task id"}'
        continue
        ;;
    esac
    task=${line##*"$task_key"}
    id=${task%%[!0-9]*}

    services='' gone='' sep=''
    case $task in
    *"$items_key"*)
        items=${task#*"$items_key"}
        items=${items%%]*}
        IFS=,
        for item in $items; do
            item=${item#\"}
            item=${item%\"}
            [ -n "$item" ] || continue
            services="$services$sep{\"itemId\":\"$item\",\"serviceId\":\"SVC-$sys-$id-$item\"}"
            gone="$gone$sep{\"itemId\":\"$item\"}"
            sep=,
        done
        IFS=' 	
'
        ;;
    esac

    case $task in
    *'"mode":"undo"'*) action=deactivate ;;
    *)
        case $line in
        *'"action":"deactivate"'*) action=deactivate ;;
        *'"action":"activate"'*) action=activate ;;
        *) action=unknown ;;
        esac
        ;;
    esac
    case $action in
    activate)
        printf '{"task":%s,"status":"completed","externalStatus":"ACTIVATED","data":{"workOrder":"WO-%s-%s","services":[%s]}}\n' \
            "$id" "$sys" "$((100000 + seq))" "$services"
        ;;
    deactivate)
        printf '{"task":%s,"status":"completed","externalStatus":"DEACTIVATED","data":{"services":[%s]}}\n' \
            "$id" "$gone"
        ;;
    *)
        printf '{"task":%s,"status":"failed","externalStatus":"ERROR","message":"unknown activation action"}\n' \
            "$id"
        ;;
    esac
done
