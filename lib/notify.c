/*
 * Notifications (see notify.h): queueing subscribed events with the
 * change that wrote them, and delivering the outbox to the hook.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hook.h"
#include "jqprog.h"
#include "json.h"
#include "notify.h"
#include "store-notify.h"
#include "xalloc.h"

#define NOTIFY_TIMEOUT_MS 30000
#define NOTIFY_BACKOFF_MS 5000
#define NOTIFY_MAX_BACKOFF_MS (5 * 60 * 1000)
#define NOTIFY_BATCH 64
#define NOTIFY_LEASE_MS (15 * 60 * 1000)  /* a delivery's lease; timeouts stay under half */

int
notify_mark(store *st, int64_t *mark, osm_err *err)
{
    return store_notify_mark(st, mark, err);
}

int
notify_enqueue(store *st, int64_t mark, osm_err *err)
{
    return store_notify_enqueue(st, mark, 0, NULL, err);
}

/* c's notify.events, or invalid when it subscribes to nothing. */
static jv
events_of(cartridge *c)
{
    jv n = jv_object_get(jv_copy(c->manifest), jv_string("notify"));
    jv ev = jv_get_kind(n) == JV_KIND_OBJECT ? jv_object_get(n, jv_string("events"))
                                             : (jv_free(n), jv_invalid());
    if (jv_get_kind(ev) != JV_KIND_ARRAY || jv_array_length(jv_copy(ev)) == 0) {
        jv_free(ev);
        return jv_invalid();
    }
    return ev;
}

int
notify_subscribes(cartridge *c)
{
    jv ev = events_of(c);
    int yes = jv_is_valid(ev);
    jv_free(ev);
    return yes;
}

int
notify_enqueue_order(store *st, int64_t mark, int64_t order_id, cartridge *c, osm_err *err)
{
    jv ev = events_of(c);
    if (!jv_is_valid(ev))
        return 0;
    jv text = jv_dump_string(ev, 0);
    int rc = store_notify_enqueue(st, mark, order_id, jv_string_value(text), err);
    jv_free(text);
    return rc;
}

static int64_t
backoff(int attempts)
{
    int64_t d = NOTIFY_BACKOFF_MS;
    for (int i = 1; i < attempts && d < NOTIFY_MAX_BACKOFF_MS; i++)
        d *= 2;
    return d > NOTIFY_MAX_BACKOFF_MS ? NOTIFY_MAX_BACKOFF_MS : d;
}

/* The document given to the payload program: {event, order}. */
static jv
notice(store *st, jv ev, int64_t order_id)
{
    char at[CLOCK_RFC3339_MAX];
    order_rec o;
    jv type = jv_object_get(jv_copy(ev), jv_string("type"));
    jv data = jv_object_get(jv_copy(ev), jv_string("data"));
    jv to = jv_get_kind(data) == JV_KIND_OBJECT ? jv_object_get(jv_copy(data), jv_string("to"))
                                                 : jv_invalid();
    if (strcmp(jv_string_value(type), "task.state") == 0 && jv_get_kind(to) == JV_KIND_STRING &&
        strcmp(jv_string_value(to), "completed") == 0) {
        jv_free(type);
        type = jv_string("task.completed");
    }
    jv_free(to);
    jv_free(data);
    jv atv = jv_object_get(jv_copy(ev), jv_string("at"));
    rfc3339_format((int64_t)jv_number_value(atv), at);
    jv_free(atv);
    ev = jv_object_set(ev, jv_string("type"), type);
    ev = jv_object_set(ev, jv_string("at"), jv_string(at));
    ev = jv_object_set(ev, jv_string("kind"), jv_string("event"));
    jv order = jv_null();
    if (store_order_get(st, order_id, &o, NULL) == 0) {
        order = order_document(&o);
        order_rec_free(&o);
    }
    return JV_OBJECT(jv_string("event"), ev, jv_string("order"), order);
}

/* Deliver one notification n; NULL on success, else why not (malloc'ed). */
static char *
deliver_one(const notify_ctx *nc, jv n)
{
    osm_err err = { 0, "" };
    cartridge *c;
    jv ev = jv_object_get(jv_copy(n), jv_string("event"));
    jv cn = jv_object_get(jv_copy(n), jv_string("cartridge"));
    jv cv = jv_object_get(n, jv_string("version"));
    jv oid = jv_object_get(jv_copy(ev), jv_string("order"));
    jv eid = jv_object_get(jv_copy(ev), jv_string("id"));
    int64_t order_id = (int64_t)jv_number_value(oid), event_id = (int64_t)jv_number_value(eid);
    char *why = NULL;
    jv_free(oid);
    jv_free(eid);
    int rc = catalog_get(nc->cat, jv_string_value(cn), jv_string_value(cv), &c, &err);
    jv_free(cn);
    jv_free(cv);
    if (rc != 0) {
        jv_free(ev);
        return xstrdup(err.msg);
    }
    jv input = notice(nc->st, ev, order_id);
    int idx = cartridge_prog(c, "notify.payload");
    jv payload;
    if (idx >= 0) {
        jv order = jv_object_get(jv_copy(input), jv_string("order"));
        char now[CLOCK_RFC3339_MAX];
        rfc3339_format(clock_now(), now);
        jv env = JV_OBJECT(jv_string("now"), jv_string(now), jv_string("order"), order);
        if (jqprog_run1(c->jq, idx, input, env, &payload, &err) != 0) {
            jv_free(payload);
            return xasprintf("notify.payload: %s", err.msg);
        }
    } else {
        payload = input;
    }
    jv notify = jv_object_get(jv_copy(c->manifest), jv_string("notify"));
    jv cmd = jv_get_kind(notify) == JV_KIND_OBJECT
                 ? jv_object_get(jv_copy(notify), jv_string("command")) : jv_invalid();
    jv tmo = jv_get_kind(notify) == JV_KIND_OBJECT
                 ? jv_object_get(jv_copy(notify), jv_string("timeout")) : jv_invalid();
    jv_free(notify);
    hook_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.command = nc->conf && nc->conf->notify_command ? nc->conf->notify_command
                   : jv_get_kind(cmd) == JV_KIND_STRING ? jv_string_value(cmd) : NULL;
    spec.timeout_ms = NOTIFY_TIMEOUT_MS;
    int64_t ms;
    if (jv_get_kind(tmo) == JV_KIND_STRING && duration_parse(jv_string_value(tmo), &ms) == 0)
        spec.timeout_ms = ms;
    if (nc->conf && nc->conf->notify_timeout_ms >= 0)
        spec.timeout_ms = nc->conf->notify_timeout_ms;
    if (spec.timeout_ms <= 0 || spec.timeout_ms > NOTIFY_LEASE_MS / 2)
        spec.timeout_ms = NOTIFY_LEASE_MS / 2;
    const char *dir = cartdir_get(nc->dirs, c, &err);
    if (!spec.command || !dir) {
        why = !spec.command ? xstrdup("no notification command: set notify.command in the "
                                      "cartridge or [notify] command in osm.conf")
                            : xstrdup(err.msg);
        jv_free(cmd);
        jv_free(tmo);
        jv_free(payload);
        return why;
    }
    char *in = json_dump(payload, 0);
    jv_free(payload);
    size_t len = strlen(in);
    in = xrealloc(in, len + 2);
    in[len++] = '\n';
    char *env[] = { xasprintf("OSM_ORDER_ID=%lld", (long long)order_id),
                    xasprintf("OSM_EVENT_ID=%lld", (long long)event_id),
                    xasprintf("OSM_DB=%s", nc->db_path), NULL };
    spec.env = env;
    spec.cwd = dir;
    spec.input = in;
    spec.input_len = len;
    hook_result res;
    if (hook_run(&spec, &res, &err) != 0) {
        why = xstrdup(err.msg);
    } else {
        if (res.spawn_error)
            why = xasprintf("cannot start the notification hook: %s", res.spawn_error);
        else if (res.timed_out)
            why = xasprintf("notification hook timed out");
        else if (res.signal)
            why = xasprintf("notification hook killed by signal %d", res.signal);
        else if (res.exit_status != 0)
            why = xasprintf("notification hook exited with status %d", res.exit_status);
        hook_result_free(&res);
    }
    for (char **p = env; *p; p++)
        free(*p);
    free(in);
    jv_free(cmd);
    jv_free(tmo);
    return why;
}

int
notify_deliver(const notify_ctx *nc, int *delivered, int *failed, osm_err *err)
{
    store *st = nc->st;
    int rc = 0, ok = 0, bad = 0;

    for (;;) {
        jv due;
        int progress = 0;
        if ((rc = store_notify_due(st, nc->filter, clock_now(), NOTIFY_BATCH, &due,
                                   err)) != 0) {
            jv_free(due);
            break;
        }
        jv_array_foreach(due, i, n) {
            jv ev = jv_object_get(jv_copy(n), jv_string("event"));
            jv eid = jv_object_get(jv_copy(ev), jv_string("id"));
            jv oid = jv_object_get(ev, jv_string("order"));
            jv att = jv_object_get(jv_copy(n), jv_string("attempts"));
            int64_t event_id = (int64_t)jv_number_value(eid);
            int attempts = (int)jv_number_value(att) + 1;
            jv_free(eid);
            jv_free(att);
            /* a lease past the hook's longest run: one worker at a time */
            int64_t now = clock_now();
            int claim = rc == 0 ? store_notify_claim(st, event_id, now, now + NOTIFY_LEASE_MS, err)
                                : rc;
            if (claim != 0) {
                if (claim != OSM_NEGATIVE)      /* OSM_NEGATIVE: another worker has it */
                    rc = claim;
                jv_free(n);
                jv_free(oid);
                continue;
            }
            char *why = deliver_one(nc, n);
            if (!why) {
                rc = store_notify_done(st, event_id, clock_now(), err);
                ok++;
                progress++;
            } else {
                int64_t next = clock_now() + backoff(attempts);
                char at[CLOCK_RFC3339_MAX];
                rfc3339_format(next, at);
                diag_warn("order %.0f: notification %lld: %s (attempt %d, next at %s)",
                          jv_number_value(oid), (long long)event_id, why, attempts, at);
                rc = store_notify_retry(st, event_id, next, why, err);
                bad++;
                free(why);
            }
            jv_free(oid);
        }
        jv_free(due);
        if (rc != 0 || !progress)
            break;
    }
    if (delivered)
        *delivered = ok;
    if (failed)
        *failed = bad;
    return rc;
}
