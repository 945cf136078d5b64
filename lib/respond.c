/*
 * Asynchronous answers (see respond.h).  Every answer is one
 * transaction: the "response" history event with the answer, the task's
 * new state, the mapped order data or the fallout, and the order's
 * rolled-up state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "outcome.h"
#include "json.h"
#include "notify.h"
#include "respond.h"
#include "store-async.h"
#include "store-ops.h"
#include "xalloc.h"

/* What an answer says: "completed", "failed", "interim", or NULL (not valid). */
static const char *
classify(jv resp)
{
    if (jv_get_kind(resp) != JV_KIND_OBJECT)
        return NULL;
    jv status = jv_object_get(jv_copy(resp), jv_string("status"));
    jv ext = jv_object_get(jv_copy(resp), jv_string("externalStatus"));
    const char *what = NULL;
    if (jv_get_kind(status) == JV_KIND_STRING) {
        const char *s = jv_string_value(status);
        if (strcmp(s, "completed") == 0)
            what = "completed";
        else if (strcmp(s, "failed") == 0)
            what = "failed";
        else if (strcmp(s, "accepted") == 0)
            what = "interim";
    } else if (!jv_is_valid(status) && jv_get_kind(ext) == JV_KIND_STRING) {
        what = "interim";
    }
    jv_free(status);
    jv_free(ext);
    return what;
}

static char *
string_of(jv obj, const char *key)
{
    jv v = jv_object_get(jv_copy(obj), jv_string(key));
    char *s = jv_get_kind(v) == JV_KIND_STRING ? xstrdup(jv_string_value(v)) : NULL;
    jv_free(v);
    return s;
}

/*
 * Apply answer resp (consumed) to waiting task t, inside the caller's
 * transaction.  OSM_NEGATIVE when the task does not wait.
 */
static int
apply(store *st, catalog *cat, const char *actor, const store_task *t, jv resp, int64_t now,
      osm_err *err)
{
    const char *what = classify(resp);
    task_outcome oc = { 0 };
    char *ext = string_of(resp, "externalStatus"), *errtext = NULL;
    char *text = json_dump(resp, 0);
    jv fallout = jv_invalid(), body = jv_invalid();
    cartridge *c = NULL;
    int rc;

    if (!what) {
        rc = osm_fail(err, OSM_EDATA, "the answer has no valid status (completed, accepted or "
                                      "failed, or an externalStatus)");
        goto out;
    }
    if (strcmp(t->state, "waiting") != 0) {
        rc = osm_fail(err, OSM_NEGATIVE, "task %lld is %s: it waits for no answer",
                      (long long)t->id, t->state);
        goto out;
    }
    if ((rc = catalog_get(cat, t->cartridge, t->cartridge_version, &c, err)) != 0)
        goto out;
    oc.response = text;
    oc.external_status = ext;
    oc.not_before = -1;
    oc.deadline_at = -1;
    if (strcmp(what, "completed") == 0) {
        order_rec o;
        osm_err merr = { 0, "" };
        if ((rc = store_order_get(st, t->order_id, &o, err)) != 0)
            goto out;
        jv task = JV_OBJECT(jv_string("id"), jv_number((double)t->id), jv_string("function"),
                            jv_string(t->function), jv_string("system"),
                            t->system ? jv_string(t->system) : jv_null());
        rc = outcome_map_response(st, c, t->id, t->function, jv_copy(o.body), jv_copy(resp), task,
                                  &body, &merr);
        order_rec_free(&o);
        if (rc == OSM_EIO || rc == OSM_ETEMPFAIL) {     /* the store's */
            rc = osm_fail(err, rc, "%s", merr.msg);
            goto out;
        } else if (rc != 0) {
            errtext = xasprintf("response mapping failed: %s", merr.msg);
            body = jv_invalid();
        }
        oc.state = errtext ? "failed" : "completed";
    } else if (strcmp(what, "failed") == 0) {
        char *msg = string_of(resp, "message");
        errtext = xasprintf("the system answered failed%s%s", msg ? ": " : "", msg ? msg : "");
        free(msg);
        oc.state = "failed";
    } else {
        oc.state = "waiting";
    }
    oc.error = errtext;
    if (errtext)
        fallout = JV_OBJECT(jv_string("message"), jv_string(errtext));
    rc = store_event_add(st, t->order_id, t->id, "response", actor,
                         JV_OBJECT(jv_string("function"), jv_string(t->function),
                                   jv_string("system"),
                                   t->system ? jv_string(t->system) : jv_null(),
                                   jv_string("response"), jv_copy(resp)),
                         now, NULL, err);
    if (rc == 0)
        rc = store_task_answer(st, t->id, &oc, actor, now, err);
    if (rc == OSM_NEGATIVE)
        osm_fail(err, OSM_NEGATIVE, "task %lld: it waits for no answer", (long long)t->id);
    if (rc == 0 && jv_is_valid(body))
        rc = store_order_set_body(st, t->order_id, jv_copy(body), now, err);
    if (rc == 0 && jv_is_valid(fallout))
        rc = store_fallout_add(st, t->order_id, t->id, t->function,
                               outcome_fallout_workgroup(c, t->function), jv_copy(fallout), actor,
                               now, err);
    if (rc == 0)
        rc = store_order_rollup(st, t->order_id, actor, now, NULL, err);
out:
    jv_free(resp);
    jv_free(body);
    jv_free(fallout);
    free(ext);
    free(text);
    free(errtext);
    return rc;
}

int
respond_deliver(store *st, catalog *cat, const char *actor, const char *corr, jv resp, jv *doc,
                int *kept, osm_err *err)
{
    int64_t now = clock_now(), mark = 0;
    store_task *t = NULL;
    int rc;

    *doc = jv_invalid();
    *kept = 0;
    if (!classify(resp)) {
        jv_free(resp);
        return osm_fail(err, OSM_EDATA, "the answer must be a JSON object with a status "
                                        "(completed, accepted or failed) or an externalStatus");
    }
    if ((rc = store_begin(st, err)) != 0) {
        jv_free(resp);
        return rc;
    }
    if ((rc = notify_mark(st, &mark, err)) != 0 ||
        (rc = store_task_find(st, 0, corr, &t, err)) != 0) {
        jv_free(resp);
        goto fail;
    }
    if (strcmp(t->state, "waiting") != 0) {
        jv_free(resp);
        rc = osm_fail(err, OSM_NEGATIVE, "correlation id \"%s\": task %lld is %s: it waits for "
                                         "no answer", corr, (long long)t->id, t->state);
        goto fail;
    }
    /*
     * Kept for later: an answer for a suspended order, and for an amending
     * one unless it answers a task of the plan the revision replaced (its
     * redo or undo waits for that answer).
     */
    if (strcmp(t->order_state, "suspended") == 0 ||
        (strcmp(t->order_state, "amending") == 0 &&
         t->plan_revision == t->order_plan_revision)) {
        rc = store_event_add(st, t->order_id, t->id, "response.kept", actor,
                             JV_OBJECT(jv_string("function"), jv_string(t->function),
                                       jv_string("orderState"), jv_string(t->order_state),
                                       jv_string("response"), jv_copy(resp)),
                             now, NULL, err);
        if (rc == 0)
            rc = store_response_add(st, t->id, corr, actor, resp, now, err);
        else
            jv_free(resp);
        *kept = 1;
    } else {
        rc = apply(st, cat, actor, t, resp, now, err);
    }
    if (rc == 0)
        rc = notify_enqueue(st, mark, err);
    if (rc != 0)
        goto fail;
    if ((rc = store_commit(st, err)) != 0)
        goto done;
    jv task;
    if ((rc = store_task_get(st, t->id, &task, err)) == 0)
        *doc = jv_object_merge(JV_OBJECT(jv_string("kind"), jv_string("task")), task);
    goto done;
fail:
    store_rollback(st);
done:
    if (t)
        store_tasks_free(t, 1);
    return rc;
}

int
respond_apply_kept(store *st, catalog *cat, const char *actor, const store_task_filter *f,
                   int *applied, osm_err *err)
{
    int64_t now = clock_now();
    jv list;
    int rc;

    if (applied)
        *applied = 0;
    if ((rc = store_responses_pending(st, f, &list, err)) != 0) {
        jv_free(list);
        return rc;
    }
    jv_array_foreach(list, i, r) {
        jv idv = jv_object_get(jv_copy(r), jv_string("id"));
        jv task = jv_object_get(jv_copy(r), jv_string("task"));
        jv body = jv_object_get(r, jv_string("body"));
        store_task *t = NULL;
        if (rc == 0)
            rc = store_task_find(st, (int64_t)jv_number_value(task), NULL, &t, err);
        if (rc == 0 && strcmp(t->state, "waiting") == 0)
            rc = apply(st, cat, actor, t, jv_copy(body), now, err);
        /* a task that stopped waiting (aborted, retried) has no use for it */
        if (rc == 0)
            rc = store_response_applied(st, (int64_t)jv_number_value(idv), now, err);
        if (rc == 0 && applied)
            (*applied)++;
        if (t)
            store_tasks_free(t, 1);
        jv_free(idv);
        jv_free(task);
        jv_free(body);
    }
    jv_free(list);
    return rc;
}

/* The responseTimeout of task t's function, as text, into buf. */
static void
timeout_text(catalog *cat, const store_task *t, char *buf)
{
    cartridge *c;
    snprintf(buf, CLOCK_DURATION_MAX, "its response timeout");
    if (catalog_get(cat, t->cartridge, t->cartridge_version, &c, NULL) != 0)
        return;
    jv fns = jv_object_get(jv_copy(c->manifest), jv_string("functions"));
    jv v = jv_get_kind(fns) == JV_KIND_OBJECT ? jv_object_get(fns, jv_string(t->function))
                                               : (jv_free(fns), jv_invalid());
    v = jv_get_kind(v) == JV_KIND_OBJECT ? jv_object_get(v, jv_string("responseTimeout"))
                                         : (jv_free(v), jv_invalid());
    int64_t ms;
    if (jv_get_kind(v) == JV_KIND_STRING && duration_parse(jv_string_value(v), &ms) == 0)
        duration_format(ms, buf);
    jv_free(v);
}

int
respond_timeouts(store *st, catalog *cat, const char *actor, const store_task_filter *f, int *n,
                 osm_err *err)
{
    int64_t now = clock_now();
    store_task *ts;
    size_t nt;
    int rc;

    if (n)
        *n = 0;
    if ((rc = store_tasks_overdue(st, f, now, &ts, &nt, err)) != 0)
        return rc;
    for (size_t i = 0; i < nt && rc == 0; i++) {
        char lim[CLOCK_DURATION_MAX];
        int64_t mark;
        cartridge *c = NULL;
        timeout_text(cat, &ts[i], lim);
        char *msg = xasprintf("no answer within %s", lim);
        task_outcome oc = { .state = "failed", .error = msg, .not_before = -1, .deadline_at = -1 };
        if ((rc = store_begin(st, err)) != 0) {
            free(msg);
            break;
        }
        catalog_get(cat, ts[i].cartridge, ts[i].cartridge_version, &c, NULL);
        rc = notify_mark(st, &mark, err);
        if (rc == 0)
            rc = store_task_answer(st, ts[i].id, &oc, actor, now, err);
        if (rc == 0)
            rc = store_fallout_add(st, ts[i].order_id, ts[i].id, ts[i].function,
                                   c ? outcome_fallout_workgroup(c, ts[i].function) : NULL,
                                   JV_OBJECT(jv_string("message"), jv_string(msg)), actor, now,
                                   err);
        if (rc == 0)
            rc = store_order_rollup(st, ts[i].order_id, actor, now, NULL, err);
        if (rc == 0)
            rc = notify_enqueue(st, mark, err);
        free(msg);
        if (rc == OSM_NEGATIVE) {   /* answered meanwhile */
            store_rollback(st);
            rc = 0;
            continue;
        }
        if (rc != 0) {
            store_rollback(st);
            break;
        }
        if ((rc = store_commit(st, err)) == 0 && n)
            (*n)++;
    }
    store_tasks_free(ts, nt);
    return rc;
}
