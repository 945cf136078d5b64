/*
 * Status documents (see status.h): an order's state with its TMF622
 * counterpart, fulfillment and processing states, progress, lateness,
 * jeopardy, items, tasks and fallout; history events; the summary.
 *
 * The fulfillment model of each cartridge version comes from its
 * manifest as the store keeps it, parsed once per process: no jq is
 * compiled to show a status.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "status.h"
#include "xalloc.h"

static const char *const order_states[] = {
    "not_started", "in_progress", "suspended", "amending", "cancelling",
    "cancelled", "completed", "failed", "waiting_for_revision", "aborted",
};
#define NSTATES (sizeof order_states / sizeof order_states[0])

int
status_is_order_state(const char *s)
{
    for (size_t i = 0; i < NSTATES; i++)
        if (strcmp(s, order_states[i]) == 0)
            return 1;
    return 0;
}

int
status_is_terminal(const char *s)
{
    return strcmp(s, "completed") == 0 || strcmp(s, "cancelled") == 0 ||
           strcmp(s, "aborted") == 0;
}

const char *
status_tmf_state(const char *s, int any_done)
{
    static const struct { const char *osm, *tmf; } map[] = {
        { "not_started", "acknowledged" },
        { "in_progress", "inProgress" },
        { "suspended", "held" },
        { "amending", "inProgress" },
        { "cancelling", "pendingCancellation" },
        { "cancelled", "cancelled" },
        { "completed", "completed" },
        { "failed", "held" },
        { "waiting_for_revision", "pending" },
    };
    if (!s)
        return NULL;
    if (strcmp(s, "aborted") == 0)
        return any_done ? "partial" : "failed";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].osm) == 0)
            return map[i].tmf;
    return NULL;
}

/* ------------------------------------------------------------ context */

typedef struct cached_model {
    char *name, *version;
    fulfil_model *model;
} cached_model;

struct status_ctx {
    store *st;
    cached_model *models;
    size_t nmodels;
};

status_ctx *
status_new(store *st)
{
    status_ctx *c = xcalloc(1, sizeof *c);
    c->st = st;
    return c;
}

store *
status_store(status_ctx *c)
{
    return c->st;
}

void
status_free(status_ctx *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nmodels; i++) {
        free(c->models[i].name);
        free(c->models[i].version);
        fulfil_model_free(c->models[i].model);
    }
    free(c->models);
    free(c);
}

/*
 * The fulfillment model of name@version, read once.  A cartridge the
 * store does not hold, or whose manifest does not parse, has a model
 * without states (its orders show no fulfillment state); only store
 * errors fail.
 */
static int
model_of(status_ctx *c, const char *name, const char *version, fulfil_model **out,
         osm_err *err)
{
    char *json;
    jv manifest;
    int rc;

    for (size_t i = 0; i < c->nmodels; i++)
        if (strcmp(c->models[i].name, name) == 0 && strcmp(c->models[i].version, version) == 0) {
            *out = c->models[i].model;
            return 0;
        }
    rc = store_status_manifest(c->st, name, version, &json, err);
    if (rc == OSM_ENOINPUT) {
        osm_err_clear(err);
        manifest = jv_null();
    } else if (rc != 0) {
        return rc;
    } else {
        manifest = json ? jv_parse(json) : jv_null();
        free(json);
    }
    c->models = xrealloc(c->models, (c->nmodels + 1) * sizeof *c->models);
    cached_model *cm = &c->models[c->nmodels++];
    cm->name = xstrdup(name);
    cm->version = xstrdup(version);
    cm->model = fulfil_model_new(manifest);
    jv_free(manifest);
    *out = cm->model;
    return 0;
}

/* ------------------------------------------------------------ helpers */

static jv
time_or_null(int64_t ms)
{
    char buf[CLOCK_RFC3339_MAX];
    if (ms < 0)
        return jv_null();
    rfc3339_format(ms, buf);
    return jv_string(buf);
}

static jv
str_or_null(const char *s)
{
    return s ? jv_string(s) : jv_null();
}

static jv
state_or_null(const fulfil_model *m, int idx)
{
    return str_or_null(fulfil_state_name(m, idx));
}

static int
is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static int
task_done(const store_status_task *t)
{
    return is(t->state, "completed") || is(t->state, "skipped");
}

static int
task_active(const store_status_task *t)
{
    return is(t->state, "running") || is(t->state, "waiting") || is(t->state, "claimed");
}

static int
fallout_open(const store_status_task *t)
{
    return is(t->state, "waiting") || is(t->state, "claimed");
}

/* Does a component run past its expected duration at now? */
static int
task_overdue(const store_status_task *t, int64_t now)
{
    return task_active(t) && t->started_at >= 0 && t->expected_ms >= 0 &&
           t->started_at + t->expected_ms < now;
}

int64_t
status_late_ms(const store_status_order *o, int64_t now)
{
    int64_t at;

    if (o->requested_at < 0)
        return 0;
    if (status_is_terminal(o->state))
        at = o->ended_at;
    else
        at = o->expected_at > now ? o->expected_at : now;
    return at > o->requested_at ? at - o->requested_at : 0;
}

static int
covers(jv items, const char *item_id)
{
    int found = 0;
    jv_array_foreach(items, i, v) {
        if (!found && jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), item_id) == 0)
            found = 1;
        jv_free(v);
    }
    return found;
}

/* The error of a fallout task: the message of its error object, and the object. */
static void
fallout_error(const char *text, jv *message, jv *details)
{
    jv v = text ? jv_parse(text) : jv_null();
    *details = jv_null();
    *message = jv_null();
    if (jv_get_kind(v) == JV_KIND_OBJECT) {
        jv msg = jv_object_get(jv_copy(v), jv_string("message"));
        *message = jv_get_kind(msg) == JV_KIND_STRING ? msg : (jv_free(msg), jv_null());
        *details = v;
    } else if (jv_get_kind(v) == JV_KIND_STRING) {
        *message = v;
    } else {
        jv_free(v);
        if (text)
            *message = jv_string(text);
    }
}

/*
 * The TMF622 ProductOrderItem state of item_id of an order in state
 * ostate (planned when planned), from the tasks covering it: completed
 * when all are done (or, planned, it needs none); failed when one
 * failed; held or pendingCancellation, cancelled, failed as the order
 * is suspended or failed, cancelling, cancelled, aborted; inProgress
 * once one has started; else acknowledged.
 */
static const char *
item_tmf_state(const char *ostate, int planned, const store_status_task *tasks, size_t ntasks,
               const char *item_id)
{
    size_t n = 0, done = 0, started = 0, failed = 0;

    for (size_t i = 0; i < ntasks; i++) {
        const store_status_task *t = &tasks[i];
        if (is(t->kind, "fallout") || !covers(t->items, item_id))
            continue;
        n++;
        done += task_done(t);
        failed += is(t->state, "failed");
        started += !is(t->state, "pending") && !is(t->state, "ready");
    }
    if (planned && done == n && !is(ostate, "cancelled"))
        return "completed";
    if (is(ostate, "cancelled"))
        return "cancelled";
    if (is(ostate, "cancelling"))
        return "pendingCancellation";
    if (failed || is(ostate, "aborted"))
        return "failed";
    if (is(ostate, "suspended") || is(ostate, "failed"))
        return "held";
    return started ? "inProgress" : "acknowledged";
}

/* One component of the plan in the status document. */
static jv
task_document(const store_status_task *t, const fulfil_model *m, int comp)
{
    jv d = JV_OBJECT(jv_string("id"), jv_number((double)t->id), jv_string("function"),
                     str_or_null(t->function), jv_string("kind"), str_or_null(t->kind),
                     jv_string("system"), str_or_null(t->system), jv_string("items"),
                     jv_copy(t->items), jv_string("state"), str_or_null(t->state),
                     jv_string("fulfillmentState"), state_or_null(m, comp),
                     jv_string("attempts"), jv_number(t->attempts));
    d = jv_object_set(d, jv_string("lastError"), str_or_null(t->error));
    d = jv_object_set(d, jv_string("externalStatus"), str_or_null(t->external_status));
    d = jv_object_set(d, jv_string("workgroup"), str_or_null(t->workgroup));
    d = jv_object_set(d, jv_string("assignee"), str_or_null(t->assignee));
    d = jv_object_set(d, jv_string("startedAt"), time_or_null(t->started_at));
    return jv_object_set(d, jv_string("endedAt"), time_or_null(t->ended_at));
}

/* ------------------------------------------------------------ the document */

int
status_document_row(status_ctx *c, const store_status_order *o, int64_t now, int flags,
                    jv *out, osm_err *err)
{
    store_status_task *tasks = NULL;
    store_status_item *items = NULL;
    size_t ntasks = 0, nitems = 0;
    fulfil_model *m;
    int rc;

    *out = jv_invalid();
    if ((rc = store_status_tasks(c->st, o->id, o->plan_revision, &tasks, &ntasks, err)) != 0)
        return rc;
    if ((rc = store_status_items(c->st, o->id, &items, &nitems, err)) != 0 ||
        (rc = model_of(c, o->cartridge, o->cartridge_version, &m, err)) != 0) {
        store_status_tasks_free(tasks, ntasks);
        store_status_items_free(items, nitems);
        return rc;
    }

    int open = !status_is_terminal(o->state);
    int64_t ncomp = 0, ndone = 0, exp_total = 0, exp_done = 0, nfallout_open = 0;
    int failed = 0, retrying = 0, overdue = 0;
    int64_t jeopardy_at = o->jeopardy_at;
    int *comp = xcalloc(ntasks + 1, sizeof *comp);
    jv tasklist = jv_array(), fallout = jv_array();

    for (size_t i = 0; i < ntasks; i++) {
        const store_status_task *t = &tasks[i];
        if (is(t->kind, "fallout")) {
            jv message, details;
            if (fallout_open(t))
                nfallout_open++;
            if (flags & STATUS_BRIEF)
                continue;
            fallout_error(t->error, &message, &details);
            jv failed_task = t->fallout_of >= 0 ? jv_number((double)t->fallout_of) : jv_null();
            fallout = jv_array_append(
                fallout, JV_OBJECT(jv_string("task"), failed_task,
                                   jv_string("falloutTask"), jv_number((double)t->id),
                                   jv_string("function"), str_or_null(t->function),
                                   jv_string("workgroup"), str_or_null(t->workgroup),
                                   jv_string("state"), str_or_null(t->state),
                                   jv_string("assignee"), str_or_null(t->assignee),
                                   jv_string("error"), message, jv_string("details"), details,
                                   jv_string("createdAt"), time_or_null(t->created_at)));
            continue;
        }
        comp[i] = fulfil_component(m, t->system, t->external_status, t->state);
        ncomp++;
        if (task_done(t)) {
            ndone++;
            exp_done += t->expected_ms > 0 ? t->expected_ms : 0;
        }
        exp_total += t->expected_ms > 0 ? t->expected_ms : 0;
        if (is(t->state, "failed"))
            failed = 1;
        if (is(t->state, "pending") && (t->attempts > 0 || t->temp_failures > 0))
            retrying = 1;
        if (open && task_overdue(t, now)) {
            overdue = 1;
            int64_t at = t->started_at + t->expected_ms;
            if (jeopardy_at < 0 || at < jeopardy_at)
                jeopardy_at = at;
        }
        if (t->jeopardy_at >= 0 && (jeopardy_at < 0 || t->jeopardy_at < jeopardy_at))
            jeopardy_at = t->jeopardy_at;
        if (flags & STATUS_BRIEF)
            continue;
        tasklist = jv_array_append(tasklist, task_document(t, m, comp[i]));
    }

    /* fulfillment: components -> items -> order */
    int *istates = xcalloc(nitems + 1, sizeof *istates);
    int *cstates = xcalloc(ntasks + 1, sizeof *cstates);
    jv itemlist = jv_array();
    for (size_t k = 0; k < nitems; k++) {
        size_t n = 0;
        for (size_t i = 0; i < ntasks; i++)
            if (!is(tasks[i].kind, "fallout") && covers(tasks[i].items, items[k].item_id))
                cstates[n++] = comp[i];
        /* a planned item that needs no work is done; an unplanned one not started */
        istates[k] = n == 0 && o->plan_revision > 0 ? fulfil_done(m)
                                                     : fulfil_compose(m, FULFIL_ITEM, cstates, n);
        if (!(flags & STATUS_BRIEF))
            itemlist = jv_array_append(
                itemlist, JV_OBJECT(jv_string("id"), jv_string(items[k].item_id),
                                    jv_string("action"), str_or_null(items[k].action),
                                    jv_string("spec"), str_or_null(items[k].spec),
                                    jv_string("fulfillmentState"), state_or_null(m, istates[k]),
                                    jv_string("tmfState"),
                                    jv_string(item_tmf_state(o->state, o->plan_revision > 0,
                                                             tasks, ntasks, items[k].item_id))));
    }
    int ostate;
    if (nitems > 0) {
        ostate = fulfil_compose(m, FULFIL_ORDER, istates, nitems);
    } else {
        size_t n = 0;
        for (size_t i = 0; i < ntasks; i++)
            if (!is(tasks[i].kind, "fallout"))
                cstates[n++] = comp[i];
        ostate = fulfil_compose(m, FULFIL_ORDER, cstates, n);
    }

    int64_t late = status_late_ms(o, now);
    int jeopardy = open && (o->jeopardy_at >= 0 || late > 0 || overdue);
    if (jeopardy && jeopardy_at < 0)
        jeopardy_at = o->requested_at >= 0 && now > o->requested_at ? o->requested_at
                                                                    : o->updated_at;
    if (!jeopardy)
        jeopardy_at = o->jeopardy_at;
    const char *processing =
        (is(o->state, "failed") || is(o->state, "waiting_for_revision") || failed ||
         nfallout_open > 0) ? "failure" : (retrying || jeopardy) ? "warning" : "normal";
    int64_t percent;
    if (exp_total > 0)
        percent = exp_done * 100 / exp_total;
    else if (ncomp > 0)
        percent = ndone * 100 / ncomp;
    else
        percent = is(o->state, "completed") ? 100 : 0;
    char lateby[CLOCK_DURATION_MAX];
    duration_format(late, lateby);

    jv doc = JV_OBJECT(jv_string("kind"), jv_string("status"), jv_string("id"),
                       jv_number((double)o->id), jv_string("externalId"),
                       str_or_null(o->external_id), jv_string("revision"),
                       jv_number((double)o->revision), jv_string("cartridge"),
                       jv_string(o->cartridge), jv_string("cartridgeVersion"),
                       jv_string(o->cartridge_version), jv_string("orderType"),
                       jv_string(o->order_type), jv_string("state"), jv_string(o->state));
    if (o->state_reason)
        doc = jv_object_set(doc, jv_string("reason"), jv_string(o->state_reason));
    doc = jv_object_merge(
        doc, JV_OBJECT(jv_string("tmfState"), str_or_null(status_tmf_state(o->state, ndone > 0)),
                       jv_string("fulfillmentState"), state_or_null(m, ostate),
                       jv_string("processingState"), jv_string(processing),
                       jv_string("priority"), jv_number(o->priority),
                       jv_string("requestedDate"), time_or_null(o->requested_at),
                       jv_string("startDate"), time_or_null(o->start_at),
                       jv_string("expectedCompletion"), time_or_null(o->expected_at)));
    doc = jv_object_merge(
        doc, JV_OBJECT(jv_string("late"), jv_bool(late > 0), jv_string("lateBy"),
                       late > 0 ? jv_string(lateby) : jv_null(), jv_string("jeopardy"),
                       jv_bool(jeopardy), jv_string("jeopardyAt"), time_or_null(jeopardy_at),
                       jv_string("progress"),
                       JV_OBJECT(jv_string("tasksDone"), jv_number((double)ndone),
                                 jv_string("tasks"), jv_number((double)ncomp),
                                 jv_string("percentExpected"), jv_number((double)percent)),
                       jv_string("openFallout"), jv_number((double)nfallout_open)));
    doc = jv_object_merge(
        doc, JV_OBJECT(jv_string("createdAt"), time_or_null(o->created_at), jv_string("updatedAt"),
                       time_or_null(o->updated_at), jv_string("startedAt"),
                       time_or_null(o->started_at), jv_string("endedAt"),
                       time_or_null(o->ended_at)));
    if (!(flags & STATUS_BRIEF))
        doc = jv_object_merge(doc, JV_OBJECT(jv_string("items"), itemlist, jv_string("tasks"),
                                             tasklist, jv_string("fallout"), fallout));
    else {
        jv_free(itemlist);
        jv_free(tasklist);
        jv_free(fallout);
    }
    free(comp);
    free(istates);
    free(cstates);
    store_status_tasks_free(tasks, ntasks);
    store_status_items_free(items, nitems);
    *out = doc;
    return 0;
}

int
status_document(status_ctx *c, int64_t id, int64_t now, int flags, jv *out, osm_err *err)
{
    store_status_order o;
    int rc;

    *out = jv_invalid();
    if ((rc = store_status_read_begin(c->st, err)) != 0)
        return rc;
    if ((rc = store_status_order_get(c->st, id, &o, err)) == 0) {
        rc = status_document_row(c, &o, now, flags, out, err);
        store_status_order_free(&o);
    }
    store_status_read_end(c->st);
    return rc;
}

/* ------------------------------------------------------------ events, summary */

jv
status_event_document(const store_status_event *e)
{
    jv data = e->data ? jv_parse(e->data) : jv_null();
    if (!jv_is_valid(data)) {
        jv_free(data);
        data = e->data ? jv_string(e->data) : jv_null();
    }
    return JV_OBJECT(jv_string("kind"), jv_string("event"), jv_string("id"),
                     jv_number((double)e->id), jv_string("order"),
                     e->order_id ? jv_number((double)e->order_id) : jv_null(), jv_string("task"),
                     e->task_id ? jv_number((double)e->task_id) : jv_null(), jv_string("at"),
                     time_or_null(e->at), jv_string("type"), str_or_null(e->type),
                     jv_string("actor"), str_or_null(e->actor), jv_string("data"), data);
}

static jv
zero_states(void)
{
    jv o = jv_object();
    for (size_t i = 0; i < NSTATES; i++)
        o = jv_object_set(o, jv_string(order_states[i]), jv_number(0));
    return o;
}

static jv
add_count(jv obj, const char *key, double n)
{
    jv cur = jv_object_get(jv_copy(obj), jv_string(key));
    double have = jv_get_kind(cur) == JV_KIND_NUMBER ? jv_number_value(cur) : 0;
    jv_free(cur);
    return jv_object_set(obj, jv_string(key), jv_number(have + n));
}

jv
status_summary_document(jv counts, int64_t now)
{
    jv by_state = zero_states(), by_cart = jv_object();
    double total = 0;
    jv rows = jv_object_get(jv_copy(counts), jv_string("byCartridge"));

    if (jv_get_kind(rows) == JV_KIND_ARRAY) {
        jv_array_foreach(rows, i, row) {
            jv name = jv_array_get(jv_copy(row), 0), state = jv_array_get(jv_copy(row), 2);
            jv n = jv_array_get(row, 3);
            double k = jv_number_value(n);
            total += k;
            by_state = add_count(by_state, jv_string_value(state), k);
            jv per = jv_object_get(jv_copy(by_cart), jv_copy(name));
            if (!jv_is_valid(per)) {
                jv_free(per);
                per = zero_states();
            }
            per = add_count(per, jv_string_value(state), k);
            by_cart = jv_object_set(by_cart, name, per);
            jv_free(state);
            jv_free(n);
        }
    }
    jv_free(rows);
    jv doc = JV_OBJECT(jv_string("kind"), jv_string("summary"), jv_string("at"),
                       time_or_null(now), jv_string("orders"), jv_number(total),
                       jv_string("byState"), by_state, jv_string("byCartridge"), by_cart);
    doc = jv_object_set(doc, jv_string("openFallout"),
                        jv_object_get(jv_copy(counts), jv_string("openFallout")));
    doc = jv_object_set(doc, jv_string("jeopardy"),
                        jv_object_get(jv_copy(counts), jv_string("jeopardy")));
    doc = jv_object_set(doc, jv_string("late"), jv_object_get(counts, jv_string("late")));
    return doc;
}
