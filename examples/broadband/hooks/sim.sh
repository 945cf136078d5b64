# shellcheck shell=sh
# sim.sh: the common part of the broadband cartridge's simulated systems.
# Sourced by each hooks/SYSTEM.sh, which then calls
#
#   sim_run SYSTEM 'JQ'
#
# sim_run reads the document osm writes on the hook's stdin, keeps a log of
# every call in "$OSM_SIM_DIR/SYSTEM.log" (default /tmp/osm-sim; one JSON
# record per line, append-only), and prints the system's answer on stdout:
# {"status": "completed", "externalStatus": ..., "data": {...}}.
#
# JQ is the system's behaviour: a jq program whose input is
#   {request, mode, attempt, key, seq, now, system}
# (request: the request the function built, its "new" half on redo;
# mode: do, undo or redo; key: the idempotency key; seq: how many calls
# the system has had before this one) and whose output is the answer.
#
# A call with an idempotency key already answered gets the same answer
# again without running JQ: a retried request is not done twice.
# OSM_SIM_FAIL_SYSTEM=N (the system's name in capitals, '-' as '_') makes
# the first N calls fail with exit status 1, for trying out retries and
# fallout.  OSM_SIM_HANG_SYSTEM=SECONDS makes every call hang that long
# (for trying out timeouts); OSM_SIM_ASYNC_SYSTEM=1 makes the system answer
# {"status": "accepted", "correlationId": ...} and do the work later (an
# asynchronous system).  Order data is read from stdin only, never from
# the command line.

sim_run() {
    sim_system=$1
    sim_prog=$2
    sim_dir=${OSM_SIM_DIR:-/tmp/osm-sim}
    sim_log=$sim_dir/$sim_system.log
    sim_var=OSM_SIM_FAIL_$(printf '%s' "$sim_system" | tr 'a-z-' 'A-Z_')
    case $sim_var in
    *[!A-Z0-9_]*) echo "$0: bad system name '$sim_system'" >&2; exit 2 ;;
    esac
    sim_upper=${sim_var#OSM_SIM_FAIL_}
    sim_hang=
    eval "sim_hang=\${OSM_SIM_HANG_$sim_upper:-}"
    case $sim_hang in
    '') ;;
    *[!0-9]*) echo "$0: OSM_SIM_HANG_$sim_upper must be a number of seconds" >&2; exit 2 ;;
    *) cat >/dev/null; sleep "$sim_hang" ;;
    esac
    sim_async=
    eval "sim_async=\${OSM_SIM_ASYNC_$sim_upper:-}"
    if [ "$sim_async" = 1 ]; then
        cat >/dev/null
        printf '{"status":"accepted","externalStatus":"QUEUED","correlationId":"%s-%s"}\n' \
            "$sim_system" "${OSM_IDEMPOTENCY_KEY:-${OSM_TASK_ID:-0}}"
        exit 0
    fi
    sim_fail=0
    eval "sim_fail=\${$sim_var:-0}"
    case $sim_fail in
    '' | *[!0-9]*) echo "$0: $sim_var must be a number" >&2; exit 2 ;;
    esac

    mkdir -p "$sim_dir" || exit 1
    sim_in=$(mktemp "${TMPDIR:-/tmp}/osm-sim.XXXXXX") || exit 1
    sim_prev=$(mktemp "${TMPDIR:-/tmp}/osm-sim.XXXXXX") || exit 1
    trap 'rm -f "$sim_in" "$sim_prev"' EXIT
    cat >"$sim_in" || exit 1

    # One call at a time per system, so that the call count is exact when
    # osm runs several hooks at once (-j); without flock(1), best effort.
    exec 9>>"$sim_log" || exit 1
    if command -v flock >/dev/null 2>&1; then
        flock 9
    fi
    sim_seq=$(wc -l <"$sim_log" | tr -d ' ')

    # Earlier calls that may be answered again: those with this call's
    # idempotency key when osm gives it in the environment (a quick
    # pre-selection, the jq below checks), else the whole log.
    if [ -n "${OSM_IDEMPOTENCY_KEY:-}" ]; then
        grep -F -e "$OSM_IDEMPOTENCY_KEY" "$sim_log" >"$sim_prev"
    else
        cat "$sim_log" >"$sim_prev"
    fi
    sim_now=${OSM_NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

    # The document on stdin is the request itself or an envelope
    # {request, mode, attempt, idempotencyKey, ...}; the environment
    # (OSM_MODE, OSM_ATTEMPT, OSM_IDEMPOTENCY_KEY) fills in what it lacks.
    sim_record=$(jq -c --slurpfile log "$sim_prev" \
        --arg system "$sim_system" --arg seq "$sim_seq" --arg now "$sim_now" \
        --arg fail "$sim_fail" '
        def norm:
            (if type == "object" and has("request") then . else {request: .} end) as $doc
            | ($doc.request
               | if type == "object" and has("new") and has("old") then .new else . end) as $req
            | {
                system: $system,
                seq: ($seq | tonumber),
                now: $now,
                mode: ($doc.mode // env.OSM_MODE // "do"),
                attempt: ($doc.attempt // (env.OSM_ATTEMPT // "1" | tonumber? // 1)),
                key: ($doc.idempotencyKey // env.OSM_IDEMPOTENCY_KEY // null),
                order: ($doc.order // env.OSM_ORDER_ID // null),
                task: ($doc.task // env.OSM_TASK_ID // null),
                request: $req
              }
            | if $doc.previousRequest != null then .previousRequest = $doc.previousRequest
              else . end;
        def answer: '"$sim_prog"';
        norm as $call
        | if $call.seq < ($fail | tonumber) then
              $call + {failed: true, response: null}
          else
              ([$log[] | select(.key != null and .key == $call.key and .mode == $call.mode
                                and .failed != true) | .response] | last) as $earlier
              | $call + {replayed: ($earlier != null),
                         response: ($earlier // ($call | answer))}
          end
        ' "$sim_in") || { echo "$0: cannot read the request" >&2; exit 1; }
    if [ -z "$sim_record" ]; then
        echo "$0: no request on stdin" >&2
        exit 1
    fi

    printf '%s\n' "$sim_record" >>"$sim_log" || exit 1
    exec 9>&-
    if [ "$(printf '%s' "$sim_record" | jq -r '.failed // false')" = true ]; then
        echo "$0: $sim_system: simulated failure ($sim_var=$sim_fail, call $((sim_seq + 1)))" >&2
        exit 1
    fi
    printf '%s' "$sim_record" | jq -c '.response'
}
