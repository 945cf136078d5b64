/*
 * Outcomes of tasks (see outcome.h): retry policy and back-off, fallout,
 * response mapping, the meaning of a hook's exit and answer, and
 * recording all of it with the task's fencing token checked first.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "notify.h"
#include "outcome.h"
#include "xalloc.h"

#define DEFAULT_RETRY_MAX 3
#define DEFAULT_BACKOFF_MS 10000
#define DEFAULT_MAX_BACKOFF_MS 3600000
#define DEFAULT_TEMP_MAX 100
#define EXCERPT (16 * 1024)   /* the hook keeps stderr to 8 KiB */

/* A member of obj (null when there is none): json_get's short name here. */
#define mget json_get

static jv
mget2(jv obj, const char *a, const char *b)
{
    jv x = mget(obj, a);
    jv v = mget(x, b);
    jv_free(x);
    return v;
}

static int64_t
duration_or(jv v, int64_t dflt)
{
    int64_t ms;
    if (jv_get_kind(v) == JV_KIND_STRING && duration_parse(jv_string_value(v), &ms) == 0) {
        jv_free(v);
        return ms;
    }
    jv_free(v);
    return dflt;
}

void
outcome_init(outcome *oc)
{
    memset(oc, 0, sizeof *oc);
    oc->t.not_before = -1;
    oc->t.deadline_at = -1;
    oc->body = jv_invalid();
    oc->hook_event = jv_invalid();
    oc->fallout = jv_invalid();
    oc->response = jv_invalid();
}

const char *
outcome_own(outcome *oc, char *text)
{
    for (size_t i = 0; i < sizeof oc->owned / sizeof oc->owned[0]; i++)
        if (!oc->owned[i])
            return oc->owned[i] = text;
    free(text);     /* cannot happen: at most five are set */
    return NULL;
}

void
outcome_free(outcome *oc)
{
    for (size_t i = 0; i < sizeof oc->owned / sizeof oc->owned[0]; i++)
        free(oc->owned[i]);
    jv_free(oc->body);
    jv_free(oc->hook_event);
    jv_free(oc->fallout);
    jv_free(oc->response);
    free(oc->hook_raw);
    outcome_init(oc);
}

const char *
outcome_fallout_workgroup(cartridge *c, const char *function)
{
    static char name[128];
    jv fns = mget(c->manifest, "functions");
    jv fw = mget2(fns, function, "falloutWorkgroup");
    jv_free(fns);
    if (jv_get_kind(fw) != JV_KIND_STRING) {
        jv_free(fw);
        fw = mget(c->manifest, "falloutWorkgroup");
    }
    if (jv_get_kind(fw) == JV_KIND_STRING) {
        snprintf(name, sizeof name, "%s", jv_string_value(fw));
        jv_free(fw);
        return name;
    }
    jv_free(fw);
    name[0] = '\0';
    jv wgs = mget(c->manifest, "workgroups");
    if (jv_get_kind(wgs) == JV_KIND_OBJECT) {
        jv_object_foreach(wgs, n, wg) {
            jv f = mget(wg, "fallout");
            if (!name[0] && jv_get_kind(f) == JV_KIND_TRUE)
                snprintf(name, sizeof name, "%s", jv_string_value(n));
            jv_free(f);
            jv_free(n);
            jv_free(wg);
        }
    }
    jv_free(wgs);
    return name[0] ? name : NULL;
}

/* The retry policy of a function: its own, else its system's, else the defaults. */
typedef struct retry_policy {
    int max;
    int64_t backoff_ms, max_backoff_ms;
    int temp_max;
} retry_policy;

static retry_policy
retry_of(cartridge *c, const char *function, const char *system)
{
    retry_policy p = { DEFAULT_RETRY_MAX, DEFAULT_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS,
                       DEFAULT_TEMP_MAX };
    jv fns = mget(c->manifest, "functions"), syss = mget(c->manifest, "systems");
    jv r = mget2(fns, function, "retry");
    if (jv_get_kind(r) == JV_KIND_NULL && system) {
        jv_free(r);
        r = mget2(syss, system, "retry");
    }
    if (jv_get_kind(r) == JV_KIND_OBJECT) {
        jv v = mget(r, "max");
        if (jv_get_kind(v) == JV_KIND_NUMBER)
            p.max = (int)jv_number_value(v);
        jv_free(v);
        v = mget(r, "temporaryMax");
        if (jv_get_kind(v) == JV_KIND_NUMBER)
            p.temp_max = (int)jv_number_value(v);
        jv_free(v);
        p.backoff_ms = duration_or(mget(r, "backoff"), p.backoff_ms);
        p.max_backoff_ms = duration_or(mget(r, "maxBackoff"), p.max_backoff_ms);
    }
    jv_free(r);
    jv_free(fns);
    jv_free(syss);
    return p;
}

/*
 * The wait before retry number n (1-based): backoff doubled each time,
 * capped, with a jitter of +-10% derived from the task and attempt so
 * that runs are reproducible.
 */
static int64_t
backoff(const retry_policy *p, int64_t task_id, int n)
{
    int64_t d = p->backoff_ms;
    for (int i = 1; i < n && d < p->max_backoff_ms; i++)
        d *= 2;
    if (d > p->max_backoff_ms)
        d = p->max_backoff_ms;
    uint64_t h = (uint64_t)task_id * 0x9E3779B97F4A7C15ULL ^ (uint64_t)n * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    double jitter = 0.9 + 0.2 * (double)(h % 1000) / 1000.0;
    return (int64_t)((double)d * jitter);
}

void
outcome_failure(outcome *oc, cartridge *c, const char *function, const char *system,
                int64_t task_id, int attempts, const char *error)
{
    retry_policy p = retry_of(c, function, system);
    oc->t.error = outcome_own(oc, xstrdup(error));
    if (attempts <= p.max) {
        oc->t.state = "pending";
        oc->t.not_before = clock_now() + backoff(&p, task_id, attempts);
    } else {
        oc->t.state = "failed";
        jv_free(oc->fallout);
        oc->fallout = JV_OBJECT(jv_string("message"), jv_string(error), jv_string("attempts"),
                                jv_number(attempts));
        oc->fallout_function = outcome_own(oc, xstrdup(function));
        oc->fallout_wg = outcome_fallout_workgroup(c, function);
    }
}

void
outcome_fallout(outcome *oc, cartridge *c, const char *function, const char *error)
{
    oc->t.state = "failed";
    oc->t.error = outcome_own(oc, xstrdup(error));
    jv_free(oc->fallout);
    oc->fallout = JV_OBJECT(jv_string("message"), jv_string(error));
    oc->fallout_function = outcome_own(oc, xstrdup(function));
    oc->fallout_wg = outcome_fallout_workgroup(c, function);
}

static jv
excerpt(const char *text, size_t len)
{
    if (!text)
        return jv_null();
    if (len > EXCERPT)
        len = EXCERPT;
    return jv_string_sized(text, (int)len);
}

static jv
env_task(jv order, jv task)
{
    char now[CLOCK_RFC3339_MAX];
    rfc3339_format(clock_now(), now);
    return JV_OBJECT(jv_string("now"), jv_string(now), jv_string("order"), order,
                     jv_string("task"), task);
}

int
outcome_map_response(store *st, cartridge *c, int64_t task_id, const char *function,
                     jv order, jv response, jv task, jv *body, osm_err *err)
{
    char key[300];
    snprintf(key, sizeof key, "functions.%s.response", function);
    int idx = cartridge_prog(c, key);
    if (idx < 0) {
        jv data = mget(response, "data");
        jv_free(response);
        jv_free(task);
        if (jv_get_kind(data) == JV_KIND_OBJECT && jv_get_kind(order) == JV_KIND_OBJECT)
            *body = jv_object_merge_recursive(order, data);
        else {
            jv_free(data);
            jv_free(order);
            *body = jv_invalid();
        }
        return 0;
    }
    jv items;
    int rc = store_task_items_data(st, task_id, &items, err);
    if (rc != 0) {
        jv_free(items);
        jv_free(order);
        jv_free(response);
        jv_free(task);
        *body = jv_invalid();
        return rc;
    }
    jv input = JV_OBJECT(jv_string("order"), jv_copy(order), jv_string("response"), response,
                         jv_string("task"), jv_copy(task), jv_string("items"), items);
    rc = jqprog_run1(c->jq, idx, input, env_task(order, task), body, err);
    if (rc == 0 && jv_get_kind(*body) != JV_KIND_OBJECT) {
        jv_free(*body);
        *body = jv_invalid();
        return osm_fail(err, OSM_EDATA, "%s: the response mapping must give the order (an object)",
                        key);
    }
    return rc;
}

/* Interpret an answer object resp (consumed) that came back with exit 0. */
static void
answer(outcome *oc, cartridge *c, const hook_run_info *r, jv resp, const char *text, size_t len)
{
    /* the answer as it came (valid JSON: it was just parsed), without the
     * white space around it; dumped again only when it had none to give */
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        len--;
    while (len > 0 && strchr(" \t\r\n", *text)) {
        text++;
        len--;
    }
    oc->t.response = outcome_own(oc, len ? xstrndup(text, len) : json_dump(resp, 0));
    jv status = mget(resp, "status");
    jv ext = mget(resp, "externalStatus");
    if (jv_get_kind(ext) == JV_KIND_STRING)
        oc->t.external_status = outcome_own(oc, xstrdup(jv_string_value(ext)));
    jv_free(ext);
    const char *st = jv_get_kind(status) == JV_KIND_STRING ? jv_string_value(status) : "";
    if (strcmp(st, "completed") == 0) {
        oc->t.state = "completed";
        oc->response = jv_copy(resp);     /* mapped into the order when recorded */
        oc->function = outcome_own(oc, xstrdup(r->function));
        oc->system = r->system ? outcome_own(oc, xstrdup(r->system)) : NULL;
    } else if (strcmp(st, "accepted") == 0) {
        jv corr = mget(resp, "correlationId");
        oc->t.state = "waiting";
        if (jv_get_kind(corr) == JV_KIND_STRING)
            oc->t.correlation_id = outcome_own(oc, xstrdup(jv_string_value(corr)));
        jv_free(corr);
        jv fns = mget(c->manifest, "functions");
        int64_t limit = duration_or(mget2(fns, r->function, "responseTimeout"), -1);
        jv_free(fns);
        if (limit > 0)
            oc->t.deadline_at = clock_now() + limit;
    } else if (strcmp(st, "failed") == 0) {
        jv msg = mget(resp, "message");
        char *why = xasprintf("the system answered failed%s%s",
                              jv_get_kind(msg) == JV_KIND_STRING ? ": " : "",
                              jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "");
        jv_free(msg);
        outcome_fallout(oc, c, r->function, why);
        free(why);
    } else if (r->persistent && strcmp(st, "retry") == 0) {
        /* the persistent form of exit 75: temporary, try again later */
        retry_policy p = retry_of(c, r->function, r->system);
        if (r->temp_failures < p.temp_max) {
            oc->t.state = "pending";
            oc->t.error = "system temporarily unavailable (status retry)";
            oc->t.attempts_delta = -1;
            oc->t.temp_failures_delta = 1;
            oc->t.not_before = clock_now() + backoff(&p, r->task_id, r->temp_failures + 1);
        } else {
            oc->t.temp_failures_delta = 1;
            outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts,
                            "system temporarily unavailable too many times (status retry)");
        }
    } else {
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts,
                        r->persistent ? "answer has no valid status (completed, accepted, "
                                        "failed or retry)"
                                      : "hook response has no valid status (completed, "
                                        "accepted or failed)");
    }
    jv_free(status);
    jv_free(resp);
}

/*
 * The "hook" event's data but its request (kept as text in oc->hook_raw,
 * where the response will join it): no need to parse what was sent.
 */
static jv
event_base(outcome *oc, const hook_run_info *r, int64_t duration_ms)
{
    jv ev = JV_OBJECT(jv_string("function"), jv_string(r->function), jv_string("system"),
                      jv_string(r->system), jv_string("mode"), jv_string(r->mode ? r->mode : "do"),
                      jv_string("attempt"), jv_number(r->attempts));
    if (r->persistent)
        ev = jv_object_set(ev, jv_string("persistent"), jv_true());
    free(oc->hook_raw);
    oc->hook_raw = xasprintf("\"request\":%s", r->request && *r->request ? r->request : "null");
    return jv_object_set(ev, jv_string("durationMs"), jv_number((double)duration_ms));
}

/* The response (text of valid JSON) joins the request in the event. */
static void
event_response(outcome *oc, const char *text)
{
    char *raw = xasprintf("%s,\"response\":%s", oc->hook_raw ? oc->hook_raw : "\"request\":null",
                          text);
    free(oc->hook_raw);
    oc->hook_raw = raw;
}

void
outcome_of_hook(outcome *oc, cartridge *c, const hook_run_info *r, const hook_result *res)
{
    osm_err err = { 0, "" };
    retry_policy p = retry_of(c, r->function, r->system);
    char *why = NULL;

    oc->t.request = outcome_own(oc, xstrdup(r->request));
    jv ev = event_base(oc, r, res->duration_ms);
    if (res->spawn_error) {
        oc->hook_event = jv_object_set(ev, jv_string("error"), jv_string(res->spawn_error));
        why = xasprintf("cannot start the hook: %s", res->spawn_error);
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts, why);
        free(why);
        return;
    }
    ev = jv_object_set(ev, jv_string("exit"),
                       res->exited ? jv_number(res->exit_status) : jv_null());
    if (res->signal)
        ev = jv_object_set(ev, jv_string("signal"), jv_number(res->signal));
    if (res->timed_out)
        ev = jv_object_set(ev, jv_string("timedOut"), jv_true());
    ev = jv_object_set(ev, jv_string("stderr"), excerpt(res->err, res->err_len));

    if (res->timed_out) {
        char lim[CLOCK_DURATION_MAX];
        duration_format(r->timeout_ms, lim);
        why = xasprintf("hook timed out (limit %s)", lim);
    } else if (res->stdout_overflow) {
        why = xasprintf("hook printed more than %zu bytes", res->out_len);
    } else if (res->signal) {
        why = xasprintf("hook killed by signal %d", res->signal);
    } else if (res->exit_status == 75) {
        /* temporary: try again later without using up the failure count */
        ev = jv_object_set(ev, jv_string("stdout"), excerpt(res->out, res->out_len));
        oc->hook_event = ev;
        if (r->temp_failures < p.temp_max) {
            oc->t.state = "pending";
            oc->t.error = "system temporarily unavailable (exit 75)";
            oc->t.attempts_delta = -1;
            oc->t.temp_failures_delta = 1;
            oc->t.not_before = clock_now() + backoff(&p, r->task_id, r->temp_failures + 1);
            return;
        }
        oc->t.temp_failures_delta = 1;
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts,
                        "system temporarily unavailable too many times (exit 75)");
        return;
    } else if (res->exit_status != 0) {
        ev = jv_object_set(ev, jv_string("stdout"), excerpt(res->out, res->out_len));
        if (res->exit_status > 128 && res->exit_status <= 128 + 64)
            /* how the shell reports a command that a signal ended */
            why = xasprintf("hook exited with status %d (killed by signal %d)",
                            res->exit_status, res->exit_status - 128);
        else
            why = xasprintf("hook exited with status %d", res->exit_status);
    }
    if (why) {
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts, why);
        oc->hook_event = ev;
        free(why);
        return;
    }

    /* exit 0: the response */
    jv resp = json_parse_mem(res->out, res->out_len, &err);
    if (!jv_is_valid(resp) || jv_get_kind(resp) != JV_KIND_OBJECT) {
        ev = jv_object_set(ev, jv_string("stdout"), excerpt(res->out, res->out_len));
        why = xasprintf("hook gave no JSON response object: %s",
                        jv_is_valid(resp) ? "not an object" : err.msg);
        jv_free(resp);
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts, why);
        oc->hook_event = ev;
        free(why);
        return;
    }
    oc->hook_event = ev;
    answer(oc, c, r, resp, res->out, res->out_len);
    event_response(oc, oc->t.response);
}

void
outcome_of_answer(outcome *oc, cartridge *c, const hook_run_info *r, const char *line,
                  size_t len, const char *error, const char *err_excerpt, int64_t duration_ms)
{
    osm_err err = { 0, "" };

    oc->t.request = outcome_own(oc, xstrdup(r->request));
    jv ev = event_base(oc, r, duration_ms);
    if (err_excerpt)
        ev = jv_object_set(ev, jv_string("stderr"), jv_string(err_excerpt));
    if (!line) {
        oc->hook_event = jv_object_set(ev, jv_string("error"), jv_string(error ? error : "?"));
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts,
                        error ? error : "persistent hook failed");
        return;
    }
    jv resp = json_parse_mem(line, len, &err);
    if (!jv_is_valid(resp) || jv_get_kind(resp) != JV_KIND_OBJECT) {
        /* hookproc refuses such lines itself; kept for safety */
        ev = jv_object_set(ev, jv_string("stdout"), excerpt(line, len));
        oc->hook_event = ev;
        jv_free(resp);
        outcome_failure(oc, c, r->function, r->system, r->task_id, r->attempts,
                        "persistent hook sent a malformed answer");
        return;
    }
    oc->hook_event = ev;
    answer(oc, c, r, resp, line, len);
    event_response(oc, oc->t.response);
}

/* The current data of order id: through orders when given, else the store. */
static int
order_body(store *st, const outcome_orders *orders, int64_t id, jv *body, osm_err *err)
{
    order_rec o;
    int rc;
    if (orders && orders->get)
        return orders->get(orders->ctx, id, body, err);
    if ((rc = store_order_get(st, id, &o, err)) != 0)
        return rc;
    *body = jv_copy(o.body);
    order_rec_free(&o);
    return 0;
}

int
outcome_record(store *st, const outcome_orders *orders, cartridge *c, int64_t order_id,
               int64_t task_id, int64_t fencing, outcome *oc, const char *actor, osm_err *err)
{
    int64_t now = clock_now(), mark = 0;
    int notify = notify_subscribes(c), rc;

    /* a completed answer: map it into the order first (a failing mapping is fallout) */
    if (jv_is_valid(oc->response)) {
        jv order, body, resp = oc->response;
        osm_err merr = { 0, "" };
        oc->response = jv_invalid();
        if ((rc = order_body(st, orders, order_id, &order, err)) != 0) {
            jv_free(resp);
            return rc;
        }
        jv task = JV_OBJECT(jv_string("id"), jv_number((double)task_id), jv_string("function"),
                            jv_string(oc->function), jv_string("system"),
                            oc->system ? jv_string(oc->system) : jv_null());
        jv before = jv_copy(order);
        rc = outcome_map_response(st, c, task_id, oc->function, order, resp, task, &body, &merr);
        if (rc == OSM_EIO || rc == OSM_ETEMPFAIL) {     /* the store's: roll back */
            jv_free(before);
            return osm_fail(err, rc, "%s", merr.msg);
        } else if (rc != 0) {
            rc = 0;
            char *why = xasprintf("response mapping failed: %s", merr.msg);
            outcome_fallout(oc, c, oc->function, why);
            free(why);
        } else if (jv_is_valid(body) && jv_equal(jv_copy(body), jv_copy(before))) {
            jv_free(body);      /* the order's data stays as it is */
        } else {
            jv_free(oc->body);
            oc->body = body;
        }
        jv_free(before);
    }
    if (notify && (rc = notify_mark(st, &mark, err)) != 0)
        return rc;
    oc->t.order_id = order_id;
    oc->t.function = oc->task_function;
    oc->t.attempts = oc->task_attempts + oc->t.attempts_delta;
    if (oc->t.attempts < 0)
        oc->t.attempts = 0;
    if ((rc = store_task_finish(st, task_id, fencing, &oc->t, actor, now, err)) != 0)
        return rc;      /* OSM_NEGATIVE: the lease was lost, nothing written */
    if (jv_is_valid(oc->hook_event))
        rc = store_event_add_raw(st, order_id, task_id, "hook", actor, jv_copy(oc->hook_event),
                                 oc->hook_raw, now, NULL, err);
    if (rc == 0 && jv_is_valid(oc->body)) {
        rc = store_order_set_body(st, order_id, jv_copy(oc->body), now, err);
        if (rc == 0 && orders && orders->put)
            orders->put(orders->ctx, order_id, jv_copy(oc->body));
    }
    if (rc == 0 && jv_is_valid(oc->fallout))
        rc = store_fallout_add(st, order_id, task_id, oc->fallout_function, oc->fallout_wg,
                               jv_copy(oc->fallout), actor, now, err);
    if (rc == 0)
        rc = store_order_rollup(st, order_id, actor, now, NULL, err);
    if (rc == 0 && notify)
        rc = notify_enqueue_order(st, mark, order_id, c, err);
    return rc;
}
