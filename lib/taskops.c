/*
 * Operator actions (see taskops.h).
 */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "outcome.h"
#include "notify.h"
#include "respond.h"
#include "store-ops.h"
#include "taskops.h"
#include "xalloc.h"

/* The order state table (specs/order-states.json). */
static const struct {
    const char *op, *from, *to;
} order_table[] = {
    { "suspend", "not_started,in_progress,failed,waiting_for_revision", "suspended" },
    { "resume", "suspended", NULL },
    { "abort", "not_started,in_progress,suspended,amending,cancelling,failed,"
               "waiting_for_revision", "aborted" },
    { "fail", "not_started,in_progress,suspended", "failed" },
    { "resolve", "failed", "in_progress" },
};

/* The task table (specs/task-states.json): verb, kinds, from states, to. */
static const struct {
    const char *verb, *kinds, *from, *to;
} task_table[] = {
    { "claim", "manual,fallout", "waiting", "claimed" },
    { "release", "manual,fallout", "claimed", "waiting" },
    { "assign", "manual,fallout", "waiting,claimed", "claimed" },
    { "complete", "manual", "claimed", "completed" },
    { "fail", "manual", "claimed", "failed" },
    { "retry", "automated,rule,timer,manual", "failed", "pending" },
    { "skip", "automated,rule,timer,manual", "failed", "skipped" },
};

static int
in_csv(const char *csv, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = csv; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

int
taskops_order_allows(const char *op, const char *state)
{
    for (size_t i = 0; i < sizeof order_table / sizeof order_table[0]; i++)
        if (strcmp(order_table[i].op, op) == 0)
            return in_csv(order_table[i].from, state);
    return 0;
}

int
taskops_is_admin(const taskops *t, osm_err *err)
{
    return siteconf_is_admin(t->conf, getuid(), err);
}

int
taskops_may_operate(const taskops *t, const char *what, osm_err *err)
{
    int admin;
    if (!t->strict)
        return 0;
    if ((admin = taskops_is_admin(t, err)) > 1)
        return admin;
    if (!admin)
        return osm_fail(err, OSM_ENOPERM, "%s: only an administrator may, when osm-task runs "
                        "setgid", what);
    return 0;
}

static const char *
str(jv obj, const char *key, char *buf, size_t len)
{
    jv v = jv_object_get(jv_copy(obj), jv_string(key));
    if (jv_get_kind(v) == JV_KIND_STRING)
        snprintf(buf, len, "%s", jv_string_value(v));
    else
        buf[0] = '\0';
    jv_free(v);
    return buf[0] ? buf : NULL;
}

static int64_t
num(jv obj, const char *key)
{
    jv v = jv_object_get(jv_copy(obj), jv_string(key));
    int64_t n = jv_get_kind(v) == JV_KIND_NUMBER ? (int64_t)jv_number_value(v) : 0;
    jv_free(v);
    return n;
}

/* May the user act on workgroup wg?  0, or OSM_ENOPERM with a message. */
static int
may_work(taskops *t, const char *wg, int64_t task, osm_err *err)
{
    int yes = 0, rc;
    if ((rc = taskops_is_admin(t, err)) != 0)
        return rc == 1 ? 0 : rc;
    if (!wg)
        return osm_fail(err, OSM_ENOPERM, "task %lld: has no workgroup: only an administrator may",
                        (long long)task);
    if ((rc = store_is_member(t->st, wg, t->user, &yes, err)) != 0)
        return rc;
    if (!yes)
        return osm_fail(err, OSM_ENOPERM, "task %lld: %s is not a member of workgroup \"%s\"",
                        (long long)task, t->user, wg);
    return 0;
}

/* Deep-merge data into order id's body. */
static int
merge_data(taskops *t, int64_t order_id, jv data, int64_t now, osm_err *err)
{
    order_rec o;
    int rc;
    if (jv_get_kind(data) == JV_KIND_NULL) {
        jv_free(data);
        return 0;
    }
    if (jv_get_kind(data) != JV_KIND_OBJECT) {
        jv_free(data);
        return osm_fail(err, OSM_EDATA, "--data must be a JSON object to merge into the order");
    }
    if ((rc = store_order_get(t->st, order_id, &o, err)) != 0) {
        jv_free(data);
        return rc;
    }
    jv body = jv_object_merge_recursive(jv_copy(o.body), data);
    order_rec_free(&o);
    return store_order_set_body(t->st, order_id, body, now, err);
}

/* complete: the function's response mapping with {status, externalStatus, data}. */
static int
complete_manual(taskops *t, jv task, const char *status, jv data, int64_t now, osm_err *err)
{
    char fn[128];
    int64_t order_id = num(task, "order");
    order_rec o;
    cartridge *c;
    int rc;

    if ((rc = store_order_get(t->st, order_id, &o, err)) != 0) {
        jv_free(data);
        return rc;
    }
    if ((rc = catalog_get(t->cat, o.cartridge, o.cartridge_version, &c, err)) != 0) {
        jv_free(data);
        order_rec_free(&o);
        return rc;
    }
    if (jv_get_kind(data) != JV_KIND_NULL && jv_get_kind(data) != JV_KIND_OBJECT) {
        jv_free(data);
        order_rec_free(&o);
        return osm_fail(err, OSM_EDATA, "--data must be a JSON object");
    }
    jv response = JV_OBJECT(jv_string("status"), jv_string("completed"), jv_string("data"),
                            jv_get_kind(data) == JV_KIND_NULL ? jv_object() : data);
    if (jv_get_kind(data) == JV_KIND_NULL)
        jv_free(data);
    if (status)
        response = jv_object_set(response, jv_string("externalStatus"), jv_string(status));
    jv body;
    str(task, "function", fn, sizeof fn);
    rc = outcome_map_response(t->st, c, (int64_t)num(task, "id"), fn, jv_copy(o.body), response,
                              JV_OBJECT(jv_string("id"), jv_number((double)num(task, "id")),
                                        jv_string("function"), jv_string(fn)),
                              &body, err);
    order_rec_free(&o);
    if (rc != 0)
        return rc;
    if (jv_is_valid(body))
        rc = store_order_set_body(t->st, order_id, body, now, err);
    else
        jv_free(body);
    return rc;
}

int
taskops_task(taskops *t, const char *verb, int64_t id, const char *to, const char *status,
             const char *reason, jv data, jv *doc, osm_err *err)
{
    char kind[32], state[32], wg[128], assignee[128];
    int64_t now = clock_now();
    jv task;
    size_t v;
    int rc;

    *doc = jv_invalid();
    for (v = 0; v < sizeof task_table / sizeof task_table[0]; v++)
        if (strcmp(task_table[v].verb, verb) == 0)
            break;
    if (v == sizeof task_table / sizeof task_table[0]) {
        jv_free(data);
        return osm_fail(err, OSM_EUSAGE, "unknown verb \"%s\"", verb);
    }
    if ((rc = store_begin(t->st, err)) != 0) {
        jv_free(data);
        return rc;
    }
    task = jv_invalid();
    int64_t mark;
    if ((rc = notify_mark(t->st, &mark, err)) != 0)
        goto fail;
    if ((rc = store_task_get(t->st, id, &task, err)) != 0)
        goto fail;
    /* retry and skip also take the fallout task of the failed one */
    if ((strcmp(verb, "retry") == 0 || strcmp(verb, "skip") == 0) &&
        strcmp(str(task, "taskKind", kind, sizeof kind), "fallout") == 0) {
        int64_t of = num(task, "falloutOf");
        if (!of) {
            rc = osm_fail(err, OSM_NEGATIVE,
                          "task %lld: order %lld failed at intake: it is fixed by a revision "
                          "from its source, not retried",
                          (long long)id, (long long)num(task, "order"));
            goto fail;
        }
        str(task, "workgroup", wg, sizeof wg);
        if ((rc = may_work(t, wg[0] ? wg : NULL, id, err)) != 0)
            goto fail;
        jv_free(task);
        id = of;
        if ((rc = store_task_get(t->st, id, &task, err)) != 0)
            goto fail;
    } else {
        const char *w = str(task, "workgroup", wg, sizeof wg);
        if (strcmp(verb, "retry") == 0 || strcmp(verb, "skip") == 0) {
            /* a failed task's fallout workgroup decides */
            order_rec o;
            cartridge *c;
            char fn[128];
            if (store_order_get(t->st, num(task, "order"), &o, err) == 0) {
                if (catalog_get(t->cat, o.cartridge, o.cartridge_version, &c, err) == 0) {
                    const char *fw = outcome_fallout_workgroup(c, str(task, "function", fn, sizeof fn));
                    if (fw)
                        snprintf(wg, sizeof wg, "%s", fw);
                    w = fw ? wg : w;
                }
                order_rec_free(&o);
            }
        }
        if ((rc = may_work(t, w, id, err)) != 0)
            goto fail;
    }
    str(task, "taskKind", kind, sizeof kind);
    str(task, "state", state, sizeof state);
    if (!in_csv(task_table[v].kinds, kind) || !in_csv(task_table[v].from, state)) {
        rc = osm_fail(err, OSM_NEGATIVE, "task %lld: cannot %s a %s task that is %s (%s needs %s)",
                      (long long)id, verb, kind, state, verb, task_table[v].from);
        goto fail;
    }
    const char *who = NULL;
    if (strcmp(verb, "claim") == 0) {
        who = t->user;
    } else if (strcmp(verb, "release") == 0) {
        int admin = taskops_is_admin(t, err);
        if (admin > 1) {
            rc = admin;
            goto fail;
        }
        if (!admin && strcmp(str(task, "assignee", assignee, sizeof assignee) ?
                             assignee : "", t->user) != 0) {
            rc = osm_fail(err, OSM_ENOPERM, "task %lld: claimed by %s, not by %s", (long long)id,
                          assignee, t->user);
            goto fail;
        }
        who = "";
    } else if (strcmp(verb, "assign") == 0) {
        int yes = 0;
        if ((rc = store_is_member(t->st, wg, to, &yes, err)) != 0)
            goto fail;
        if (!yes) {
            rc = osm_fail(err, OSM_ENOPERM, "task %lld: %s is not a member of workgroup \"%s\"",
                          (long long)id, to, wg);
            goto fail;
        }
        who = to;
    } else if (strcmp(verb, "complete") == 0 || strcmp(verb, "fail") == 0) {
        const char *a = str(task, "assignee", assignee, sizeof assignee);
        int admin = taskops_is_admin(t, err);
        if (admin > 1) {
            rc = admin;
            goto fail;
        }
        if (!admin && (!a || strcmp(a, t->user) != 0)) {
            rc = osm_fail(err, OSM_ENOPERM, "task %lld: claimed by %s, not by %s", (long long)id,
                          a ? a : "nobody", t->user);
            goto fail;
        }
    }
    int64_t order_id = num(task, "order");
    if (strcmp(verb, "complete") == 0) {
        rc = complete_manual(t, task, status, data, now, err);
        data = jv_null();
        if (rc != 0)
            goto fail;
    }
    rc = store_task_set(t->st, id, task_table[v].from, task_table[v].to, who,
                        strcmp(verb, "retry") == 0, strcmp(verb, "fail") == 0 ? reason : NULL,
                        reason, t->user, now, err);
    if (rc != 0)
        goto fail;
    if (strcmp(verb, "fail") == 0) {
        order_rec o;
        cartridge *c;
        char fn[128];
        const char *fw = NULL;
        str(task, "function", fn, sizeof fn);
        if ((rc = store_order_get(t->st, order_id, &o, err)) != 0)
            goto fail;
        if (catalog_get(t->cat, o.cartridge, o.cartridge_version, &c, err) == 0)
            fw = outcome_fallout_workgroup(c, fn);
        order_rec_free(&o);
        rc = store_fallout_add(t->st, order_id, id, fn, fw,
                               JV_OBJECT(jv_string("message"), jv_string(reason)), t->user, now,
                               err);
    }
    if (rc == 0 && (strcmp(verb, "retry") == 0 || strcmp(verb, "skip") == 0)) {
        rc = store_fallout_close(t->st, id, t->user, now, err);
        if (rc == 0)
            rc = merge_data(t, order_id, data, now, err);
        data = jv_null();
        if (rc == 0) {
            rc = store_order_transition(t->st, order_id, "failed", "in_progress",
                                        strcmp(verb, "retry") == 0 ? "task retried"
                                                                   : "task skipped",
                                        t->user, now, err);
            if (rc == OSM_NEGATIVE)
                rc = 0;
        }
    }
    if (rc == 0)
        rc = store_order_rollup(t->st, order_id, t->user, now, NULL, err);
    if (rc == 0)
        rc = notify_enqueue(t->st, mark, err);
    if (rc != 0)
        goto fail;
    if ((rc = store_commit(t->st, err)) != 0) {
        jv_free(task);
        jv_free(data);
        return rc;
    }
    jv_free(task);
    jv_free(data);
    if ((rc = store_task_get(t->st, id, &task, err)) != 0)
        return rc;
    *doc = jv_object_merge(JV_OBJECT(jv_string("kind"), jv_string("task")), task);
    return 0;
fail:
    store_rollback(t->st);
    jv_free(task);
    jv_free(data);
    return rc;
}

int
taskops_order(taskops *t, const char *op, int64_t id, const char *reason, jv *doc,
              osm_err *err)
{
    int64_t now = clock_now();
    char *state;
    size_t i;
    int rc;

    *doc = jv_invalid();
    for (i = 0; i < sizeof order_table / sizeof order_table[0]; i++)
        if (strcmp(order_table[i].op, op) == 0)
            break;
    if (i == sizeof order_table / sizeof order_table[0])
        return osm_fail(err, OSM_EUSAGE, "unknown operation \"%s\"", op);
    char what[64];
    snprintf(what, sizeof what, "order %lld: %s", (long long)id, op);
    if ((rc = taskops_may_operate(t, what, err)) != 0)
        return rc;
    if ((rc = store_begin(t->st, err)) != 0)
        return rc;
    int64_t mark;
    if ((rc = notify_mark(t->st, &mark, err)) != 0)
        goto fail;
    if ((rc = store_order_state(t->st, id, &state, err)) != 0)
        goto fail;
    if (!in_csv(order_table[i].from, state)) {
        rc = osm_fail(err, OSM_NEGATIVE, "order %lld: cannot %s an order that is %s", (long long)id,
                      op, state);
        free(state);
        goto fail;
    }
    free(state);
    if (strcmp(op, "suspend") == 0) {
        rc = store_order_suspend(t->st, id, order_table[i].from, t->user, now, err);
    } else if (strcmp(op, "resume") == 0) {
        rc = store_order_resume(t->st, id, t->user, now, err);
        if (rc == 0) {
            /* the answers kept while it was suspended */
            store_task_filter f = { JV_ARRAY(jv_number((double)id)), NULL, NULL, NULL };
            rc = respond_apply_kept(t->st, t->cat, t->user, &f, NULL, err);
            jv_free(f.orders);
        }
    } else if (strcmp(op, "abort") == 0) {
        rc = store_order_cancel_tasks(t->st, id, now, err);
        if (rc == 0)
            rc = store_order_transition(t->st, id, order_table[i].from, "aborted", reason, t->user,
                                        now, err);
    } else if (strcmp(op, "fail") == 0) {
        rc = store_order_transition(t->st, id, order_table[i].from, "failed", reason, t->user,
                                    now, err);
    } else {    /* resolve */
        int64_t open = 0;
        if ((rc = store_fallout_open(t->st, id, &open, err)) == 0 && open > 0)
            rc = osm_fail(err, OSM_NEGATIVE,
                          "order %lld: %lld fallout task%s still open: retry or skip %s first",
                          (long long)id, (long long)open, open == 1 ? " is" : "s are",
                          open == 1 ? "it" : "them");
        if (rc == 0)
            rc = store_order_transition(t->st, id, "failed", "in_progress", "resolved", t->user,
                                        now, err);
        if (rc == 0)
            rc = store_order_rollup(t->st, id, t->user, now, NULL, err);
    }
    if (rc == 0)
        rc = notify_enqueue(t->st, mark, err);
    if (rc != 0)
        goto fail;
    if ((rc = store_commit(t->st, err)) != 0)
        return rc;
    order_rec o;
    if ((rc = store_order_get(t->st, id, &o, err)) != 0)
        return rc;
    *doc = order_document(&o);
    order_rec_free(&o);
    return 0;
fail:
    store_rollback(t->st);
    return rc;
}
