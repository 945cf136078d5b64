/*
 * The execution engine (see engine.h).  One thread: hooks run as child
 * processes serviced by hook_poll(); jq and SQLite are only touched
 * between polls.  Every outcome — the task's new state, the history
 * event with the request and response, the merged order data, fallout,
 * the order's rolled-up state — is one transaction, checked against the
 * task's fencing token so that a worker whose lease was taken over
 * records nothing.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cartfiles.h"
#include "clock.h"
#include "engine.h"
#include "hook.h"
#include "json.h"
#include "notify.h"
#include "respond.h"
#include "sha256.h"
#include "store-async.h"
#include "xalloc.h"

#define DEFAULT_TIMEOUT_MS (5 * 60 * 1000)
#define LEASE_MARGIN_MS (60 * 1000)
#define DEFAULT_RETRY_MAX 3
#define DEFAULT_BACKOFF_MS 10000
#define DEFAULT_MAX_BACKOFF_MS 3600000
#define DEFAULT_TEMP_MAX 100
#define EXCERPT (16 * 1024)   /* the hook keeps stderr to 8 KiB */

typedef struct running {
    hook *h;
    int64_t task_id, order_id, fencing;
    int attempts, temp_failures;
    int64_t timeout_ms;
    char *function, *system;
    char *request;          /* JSON text of the request */
    cartridge *c;
} running;

typedef struct cart_dir {
    cartridge *c;
    char *dir;
} cart_dir;

struct engine {
    store *st;
    catalog *cat;
    engine_opts o;
    running *run;
    size_t nrun;
    long started;
    int stopping;
    cart_dir *dirs;
    size_t ndirs;
    jv busy;                /* task ids running here, as keys */
};

engine *
engine_new(store *st, catalog *cat, const engine_opts *opts)
{
    engine *e = xcalloc(1, sizeof *e);
    e->st = st;
    e->cat = cat;
    e->o = *opts;
    if (e->o.jobs < 1)
        e->o.jobs = 1;
    e->busy = jv_object();
    return e;
}

size_t
engine_running(const engine *e)
{
    return e->nrun;
}

long
engine_started(const engine *e)
{
    return e->started;
}

void
engine_stop(engine *e)
{
    e->stopping = 1;
}

static void
running_free(running *r)
{
    free(r->function);
    free(r->system);
    free(r->request);
}

void
engine_free(engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nrun; i++) {
        hook_abort(e->run[i].h);
        running_free(&e->run[i]);
    }
    free(e->run);
    for (size_t i = 0; i < e->ndirs; i++)
        free(e->dirs[i].dir);
    free(e->dirs);
    jv_free(e->busy);
    free(e);
}

/* ------------------------------------------------------------ helpers */

static jv
mget(jv obj, const char *k)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return jv_invalid();
    return jv_object_get(jv_copy(obj), jv_string(k));
}

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

static char *
task_key(int64_t id)
{
    return xasprintf("%lld", (long long)id);
}

static int
is_busy(engine *e, int64_t id)
{
    char *k = task_key(id);
    jv v = jv_object_get(jv_copy(e->busy), jv_string(k));
    int busy = jv_is_valid(v);
    jv_free(v);
    free(k);
    return busy;
}

static void
set_busy(engine *e, int64_t id, int busy)
{
    char *k = task_key(id);
    if (busy)
        e->busy = jv_object_set(e->busy, jv_string(k), jv_true());
    else
        e->busy = jv_object_delete(e->busy, jv_string(k));
    free(k);
}

static jv
env_now(jv order)
{
    char now[CLOCK_RFC3339_MAX];
    rfc3339_format(clock_now(), now);
    return JV_OBJECT(jv_string("now"), jv_string(now), jv_string("order"), order);
}

/* The environment of a program run for a task: $now, $order and $task. */
static jv
env_task(jv order, jv task)
{
    return jv_object_set(env_now(order), jv_string("task"), task);
}

/* The items of the order that task t covers, as their data. */
static jv
task_items(const order_rec *o, jv ids)
{
    jv out = jv_array();
    jv_array_foreach(ids, i, id) {
        for (size_t k = 0; k < o->nitems; k++)
            if (strcmp(o->items[k].item_id, jv_string_value(id)) == 0)
                out = jv_array_append(out, jv_copy(o->items[k].data));
        jv_free(id);
    }
    return out;
}

static jv
task_doc(const store_task *t, int attempt)
{
    return JV_OBJECT(jv_string("id"), jv_number((double)t->id), jv_string("function"),
                     jv_string(t->function), jv_string("system"),
                     t->system ? jv_string(t->system) : jv_null(), jv_string("group"),
                     jv_string(t->group), jv_string("items"), jv_copy(t->items),
                     jv_string("mode"), jv_string("do"), jv_string("attempt"),
                     jv_number(attempt));
}

store *
engine_store(engine *e)
{
    return e->st;
}

catalog *
engine_catalog(engine *e)
{
    return e->cat;
}

const engine_opts *
engine_options(const engine *e)
{
    return &e->o;
}

/* Where the cartridge's files are on disk, extracting them once. */
const char *
engine_cartridge_dir(engine *e, cartridge *c, osm_err *err)
{
    void *buf;
    size_t len;
    char sha[65];

    for (size_t i = 0; i < e->ndirs; i++)
        if (e->dirs[i].c == c)
            return e->dirs[i].dir;
    if (cartridge_pack(c, &buf, &len, sha, err) != 0)
        return NULL;
    free(buf);
    char *base = xasprintf("%s.cartridges", e->o.db_path);
    char *dir = xasprintf("%s/%s-%s-%.16s", base, c->name, c->version, sha);
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (mkdir(base, 0777) != 0 && errno != EEXIST) {
            osm_fail(err, OSM_EIO, "%s: %s", base, strerror(errno));
            free(base);
            free(dir);
            return NULL;
        }
        if (cart_files_extract(&c->files, dir, err) != 0) {
            free(base);
            free(dir);
            return NULL;
        }
    }
    free(base);
    e->dirs = xrealloc(e->dirs, (e->ndirs + 1) * sizeof *e->dirs);
    e->dirs[e->ndirs].c = c;
    e->dirs[e->ndirs].dir = dir;
    return e->dirs[e->ndirs++].dir;
}

/* ------------------------------------------------------------ outcomes */

typedef struct outcome {
    task_outcome t;
    jv body;                /* new order body, or invalid: unchanged */
    jv hook_event;          /* "hook" event data, or invalid */
    jv fallout;             /* fallout error, or invalid: none */
    const char *fallout_function;
    const char *fallout_wg;
    char *owned[4];         /* strings t points into */
} outcome;

static void
outcome_init(outcome *oc)
{
    memset(oc, 0, sizeof *oc);
    oc->t.not_before = -1;
    oc->t.deadline_at = -1;
    oc->body = jv_invalid();
    oc->hook_event = jv_invalid();
    oc->fallout = jv_invalid();
}

static const char *
own(outcome *oc, char *text)
{
    for (size_t i = 0; i < sizeof oc->owned / sizeof oc->owned[0]; i++)
        if (!oc->owned[i])
            return oc->owned[i] = text;
    free(text);     /* cannot happen: at most four are set */
    return NULL;
}

static void
outcome_free(outcome *oc)
{
    for (size_t i = 0; i < sizeof oc->owned / sizeof oc->owned[0]; i++)
        free(oc->owned[i]);
    jv_free(oc->body);
    jv_free(oc->hook_event);
    jv_free(oc->fallout);
}

const char *
engine_fallout_workgroup(cartridge *c, const char *function)
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

/* Record an outcome of task id (run under fencing) in one transaction. */
static int
record(engine *e, cartridge *c, int64_t order_id, int64_t task_id, int64_t fencing, outcome *oc,
       osm_err *err)
{
    int64_t now = clock_now(), mark = 0;
    int notify = notify_subscribes(c), rc;

    if ((rc = store_begin(e->st, err)) != 0)
        return rc;
    if (notify && (rc = notify_mark(e->st, &mark, err)) != 0) {
        store_rollback(e->st);
        return rc;
    }
    rc = store_task_finish(e->st, task_id, fencing, &oc->t, e->o.actor, now, err);
    if (rc == OSM_NEGATIVE) {
        store_rollback(e->st);
        return OSM_NEGATIVE;    /* lease lost: another worker has it */
    }
    if (rc == 0 && jv_is_valid(oc->hook_event))
        rc = store_event_add(e->st, order_id, task_id, "hook", e->o.actor,
                             jv_copy(oc->hook_event), now, NULL, err);
    if (rc == 0 && jv_is_valid(oc->body))
        rc = store_order_set_body(e->st, order_id, jv_copy(oc->body), now, err);
    if (rc == 0 && jv_is_valid(oc->fallout))
        rc = store_fallout_add(e->st, order_id, task_id, oc->fallout_function,
                               oc->fallout_wg, jv_copy(oc->fallout), e->o.actor, now, err);
    if (rc == 0)
        rc = store_order_rollup(e->st, order_id, e->o.actor, now, NULL, err);
    if (rc == 0 && notify)
        rc = notify_enqueue_order(e->st, mark, order_id, c, err);
    if (rc != 0) {
        store_rollback(e->st);
        return rc;
    }
    return store_commit(e->st, err);
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
    if (!jv_is_valid(r) && system) {
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

/* A failure of an attempt: retry later, or fall out once retries are used up. */
static void
failure(outcome *oc, cartridge *c, const char *function, const char *system, int64_t task_id,
        int attempts, const char *error)
{
    retry_policy p = retry_of(c, function, system);
    oc->t.error = error;
    if (attempts <= p.max) {
        oc->t.state = "pending";
        oc->t.not_before = clock_now() + backoff(&p, task_id, attempts);
    } else {
        oc->t.state = "failed";
        oc->fallout = JV_OBJECT(jv_string("message"), jv_string(error), jv_string("attempts"),
                                jv_number(attempts));
        oc->fallout_function = function;
        oc->fallout_wg = engine_fallout_workgroup(c, function);
    }
}

/* A failure that retrying cannot mend: straight to fallout. */
static void
fallout_now(outcome *oc, cartridge *c, const char *function, const char *error)
{
    oc->t.state = "failed";
    oc->t.error = error;
    oc->fallout = JV_OBJECT(jv_string("message"), jv_string(error));
    oc->fallout_function = function;
    oc->fallout_wg = engine_fallout_workgroup(c, function);
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

/*
 * Merge a response into the order: the function's response mapping over
 * {order, response, task}, else the response's data merged into the
 * order.  Returns 0 with *body, or OSM_EDATA with err.
 */
int
engine_map_response(cartridge *c, const char *function, const order_rec *o, jv response,
                    jv task, jv *body, osm_err *err)
{
    char key[300];
    snprintf(key, sizeof key, "functions.%s.response", function);
    int idx = cartridge_prog(c, key);
    if (idx < 0) {
        jv data = mget(response, "data");
        jv_free(response);
        jv_free(task);
        if (jv_get_kind(data) == JV_KIND_OBJECT && jv_get_kind(o->body) == JV_KIND_OBJECT)
            *body = jv_object_merge_recursive(jv_copy(o->body), data);
        else {
            jv_free(data);
            *body = jv_invalid();
        }
        return 0;
    }
    jv input = JV_OBJECT(jv_string("order"), jv_copy(o->body), jv_string("response"), response,
                         jv_string("task"), jv_copy(task));
    int rc = jqprog_run1(c->jq, idx, input, env_task(jv_copy(o->body), task), body, err);
    if (rc == 0 && jv_get_kind(*body) != JV_KIND_OBJECT) {
        jv_free(*body);
        *body = jv_invalid();
        return osm_fail(err, OSM_EDATA, "%s: the response mapping must give the order (an object)",
                        key);
    }
    return rc;
}

/* Interpret a finished hook. */
static void
hook_outcome(engine *e, running *r, hook_result *res, outcome *oc, char **errbuf)
{
    osm_err err = { 0, "" };
    order_rec o;
    cartridge *c = r->c;
    retry_policy p = retry_of(c, r->function, r->system);

    oc->t.request = own(oc, xstrdup(r->request));
    jv ev = JV_OBJECT(jv_string("function"), jv_string(r->function), jv_string("system"),
                      jv_string(r->system), jv_string("mode"), jv_string("do"),
                      jv_string("attempt"), jv_number(r->attempts), jv_string("request"),
                      json_parse_str(r->request, NULL));
    ev = jv_object_set(ev, jv_string("durationMs"), jv_number((double)res->duration_ms));
    if (res->spawn_error) {
        ev = jv_object_set(ev, jv_string("error"), jv_string(res->spawn_error));
        *errbuf = xasprintf("cannot start the hook: %s", res->spawn_error);
        failure(oc, c, r->function, r->system, r->task_id, r->attempts, *errbuf);
        oc->hook_event = ev;
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
        *errbuf = xasprintf("hook timed out (limit %s)", lim);
    } else if (res->stdout_overflow) {
        *errbuf = xasprintf("hook printed more than %zu bytes", res->out_len);
    } else if (res->signal) {
        *errbuf = xasprintf("hook killed by signal %d", res->signal);
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
        failure(oc, c, r->function, r->system, r->task_id, r->attempts,
                "system temporarily unavailable too many times (exit 75)");
        return;
    } else if (res->exit_status != 0) {
        ev = jv_object_set(ev, jv_string("stdout"), excerpt(res->out, res->out_len));
        if (res->exit_status > 128 && res->exit_status <= 128 + 64)
            /* how the shell reports a command that a signal ended */
            *errbuf = xasprintf("hook exited with status %d (killed by signal %d)",
                                res->exit_status, res->exit_status - 128);
        else
            *errbuf = xasprintf("hook exited with status %d", res->exit_status);
    }
    if (*errbuf) {
        failure(oc, c, r->function, r->system, r->task_id, r->attempts, *errbuf);
        oc->hook_event = ev;
        return;
    }

    /* exit 0: the response */
    jv resp = json_parse_mem(res->out, res->out_len, &err);
    if (!jv_is_valid(resp) || jv_get_kind(resp) != JV_KIND_OBJECT) {
        ev = jv_object_set(ev, jv_string("stdout"), excerpt(res->out, res->out_len));
        *errbuf = xasprintf("hook gave no JSON response object: %s",
                            jv_is_valid(resp) ? "not an object" : err.msg);
        jv_free(resp);
        failure(oc, c, r->function, r->system, r->task_id, r->attempts, *errbuf);
        oc->hook_event = ev;
        return;
    }
    ev = jv_object_set(ev, jv_string("response"), jv_copy(resp));
    oc->hook_event = ev;
    oc->t.response = own(oc, json_dump(resp, 0));
    jv status = mget(resp, "status");
    jv ext = mget(resp, "externalStatus");
    if (jv_get_kind(ext) == JV_KIND_STRING)
        oc->t.external_status = own(oc, xstrdup(jv_string_value(ext)));
    jv_free(ext);
    const char *st = jv_get_kind(status) == JV_KIND_STRING ? jv_string_value(status) : "";
    if (strcmp(st, "completed") == 0) {
        if (store_order_get(e->st, r->order_id, &o, &err) != 0) {
            *errbuf = xasprintf("%s", err.msg);
            failure(oc, c, r->function, r->system, r->task_id, r->attempts, *errbuf);
        } else {
            jv body;
            jv task = JV_OBJECT(jv_string("id"), jv_number((double)r->task_id),
                                jv_string("function"), jv_string(r->function),
                                jv_string("system"), jv_string(r->system));
            if (engine_map_response(c, r->function, &o, jv_copy(resp), task, &body, &err) != 0) {
                *errbuf = xasprintf("response mapping failed: %s", err.msg);
                fallout_now(oc, c, r->function, *errbuf);
            } else {
                oc->t.state = "completed";
                oc->body = body;
            }
            order_rec_free(&o);
        }
    } else if (strcmp(st, "accepted") == 0) {
        jv corr = mget(resp, "correlationId");
        oc->t.state = "waiting";
        if (jv_get_kind(corr) == JV_KIND_STRING)
            oc->t.correlation_id = own(oc, xstrdup(jv_string_value(corr)));
        jv_free(corr);
        jv fns = mget(c->manifest, "functions");
        int64_t limit = duration_or(mget2(fns, r->function, "responseTimeout"), -1);
        jv_free(fns);
        if (limit > 0)
            oc->t.deadline_at = clock_now() + limit;
    } else if (strcmp(st, "failed") == 0) {
        jv msg = mget(resp, "message");
        *errbuf = xasprintf("the system answered failed%s%s",
                            jv_get_kind(msg) == JV_KIND_STRING ? ": " : "",
                            jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "");
        jv_free(msg);
        fallout_now(oc, c, r->function, *errbuf);
    } else {
        *errbuf = xasprintf("hook response has no valid status (completed, accepted or failed)");
        failure(oc, c, r->function, r->system, r->task_id, r->attempts, *errbuf);
    }
    jv_free(status);
    jv_free(resp);
}

/* ------------------------------------------------------------ starting */

/* The hook command, timeout and environment of a system. */
static int
hook_setup(engine *e, cartridge *c, const store_task *t, hook_spec *spec, osm_err *err)
{
    const config_system *site = siteconf_system(e->o.conf, t->system);
    jv syss = mget(c->manifest, "systems"), fns = mget(c->manifest, "functions");
    jv cmd = mget2(syss, t->system, "command");
    int rc = 0;

    memset(spec, 0, sizeof *spec);
    if (site && site->command)
        spec->command = xstrdup(site->command);
    else if (jv_get_kind(cmd) == JV_KIND_STRING)
        spec->command = xstrdup(jv_string_value(cmd));
    else
        rc = osm_fail(err, OSM_ECONFIG,
                      "no hook command for system \"%s\": set [system.%s] command in osm.conf",
                      t->system, t->system);
    int64_t timeout = duration_or(mget2(fns, t->function, "timeout"), -1);
    if (timeout < 0)
        timeout = duration_or(mget2(syss, t->system, "timeout"), DEFAULT_TIMEOUT_MS);
    if (site && site->timeout_ms >= 0)
        timeout = site->timeout_ms;
    spec->timeout_ms = timeout;
    jv_free(cmd);
    jv_free(syss);
    jv_free(fns);
    return rc;
}

static void
spec_free(hook_spec *spec)
{
    free((char *)spec->command);
    if (spec->env)
        for (char *const *p = spec->env; *p; p++)
            free(*p);
    free((void *)spec->env);
}

/* Start automated task t (claimed, fencing, attempts) of order o. */
static int
start_hook(engine *e, cartridge *c, const store_task *t, const order_rec *o, int64_t fencing,
           int attempts, osm_err *err)
{
    hook_spec spec;
    char key[300];
    int rc;

    jv taskdoc = task_doc(t, attempts);
    jv input = JV_OBJECT(jv_string("order"), jv_copy(o->body), jv_string("items"),
                         task_items(o, t->items), jv_string("task"), jv_copy(taskdoc));
    jv request;
    snprintf(key, sizeof key, "functions.%s.request", t->function);
    int idx = cartridge_prog(c, key);
    osm_err jerr = { 0, "" };
    if (idx >= 0) {
        if (jqprog_run1(c->jq, idx, input, env_task(jv_copy(o->body), jv_copy(taskdoc)), &request,
                        &jerr) != 0) {
            jv_free(taskdoc);
            return osm_fail(err, OSM_EDATA, "building the request failed: %s", jerr.msg);
        }
    } else {
        request = input;
    }
    const char *dir = engine_cartridge_dir(e, c, err);
    if (!dir || (rc = hook_setup(e, c, t, &spec, err)) != 0) {
        jv_free(request);
        jv_free(taskdoc);
        return err->code ? err->code : OSM_EIO;
    }
    char ikey[128];
    snprintf(ikey, sizeof ikey, "osm-%lld-%lld-do-%d", (long long)t->order_id,
             (long long)t->id, t->plan_revision);
    jv envelope = JV_OBJECT(jv_string("request"), jv_copy(request), jv_string("order"),
                            JV_OBJECT(jv_string("id"), jv_number((double)o->id),
                                      jv_string("externalId"),
                                      o->external_id ? jv_string(o->external_id) : jv_null(),
                                      jv_string("cartridge"), jv_string(o->cartridge)),
                            jv_string("task"), taskdoc, jv_string("mode"), jv_string("do"),
                            jv_string("attempt"), jv_number(attempts),
                            jv_string("idempotencyKey"), jv_string(ikey));
    char *in = json_dump(envelope, 0);
    jv_free(envelope);
    size_t inlen = strlen(in);
    in = xrealloc(in, inlen + 2);
    in[inlen++] = '\n';

    const config_system *site = siteconf_system(e->o.conf, t->system);
    size_t nsite = site ? site->nenv : 0;
    char **env = xcalloc(9 + nsite, sizeof *env);
    size_t k = 0;
    env[k++] = xasprintf("OSM_ORDER_ID=%lld", (long long)o->id);
    env[k++] = xasprintf("OSM_TASK_ID=%lld", (long long)t->id);
    env[k++] = xasprintf("OSM_FUNCTION=%s", t->function);
    env[k++] = xasprintf("OSM_SYSTEM=%s", t->system);
    env[k++] = xasprintf("OSM_MODE=do");
    env[k++] = xasprintf("OSM_ATTEMPT=%d", attempts);
    env[k++] = xasprintf("OSM_IDEMPOTENCY_KEY=%s", ikey);
    env[k++] = xasprintf("OSM_DB=%s", e->o.db_path);
    for (size_t i = 0; i < nsite; i++)
        env[k++] = xstrdup(site->env[i]);
    spec.env = env;
    spec.cwd = dir;
    spec.input = in;
    spec.input_len = inlen;

    hook *h;
    int64_t timeout = spec.timeout_ms;
    rc = hook_start(&spec, &h, err);
    spec_free(&spec);
    free(in);
    if (rc != 0) {
        jv_free(request);
        return rc;
    }
    e->run = xrealloc(e->run, (e->nrun + 1) * sizeof *e->run);
    running *r = &e->run[e->nrun++];
    memset(r, 0, sizeof *r);
    r->h = h;
    r->task_id = t->id;
    r->order_id = t->order_id;
    r->fencing = fencing;
    r->attempts = attempts;
    r->temp_failures = t->temp_failures;
    r->timeout_ms = timeout;
    r->function = xstrdup(t->function);
    r->system = xstrdup(t->system);
    r->request = json_dump(request, 0);
    r->c = c;
    jv_free(request);
    set_busy(e, t->id, 1);
    return 0;
}

/* A rule task: jq over {order, items, task} gives the new order. */
static void
run_rule(cartridge *c, const store_task *t, const order_rec *o, int attempts, outcome *oc,
         char **errbuf)
{
    char key[300];
    osm_err err = { 0, "" };
    jv body;
    snprintf(key, sizeof key, "functions.%s.rule", t->function);
    jv input = JV_OBJECT(jv_string("order"), jv_copy(o->body), jv_string("items"),
                         task_items(o, t->items), jv_string("task"), task_doc(t, attempts));
    if (jqprog_run1(c->jq, cartridge_prog(c, key), input,
                    env_task(jv_copy(o->body), task_doc(t, attempts)), &body, &err) != 0) {
        *errbuf = xasprintf("rule failed: %s", err.msg);
        fallout_now(oc, c, t->function, *errbuf);
        jv_free(body);
        return;
    }
    if (jv_get_kind(body) != JV_KIND_OBJECT) {
        jv_free(body);
        *errbuf = xasprintf("rule must give the order (an object)");
        fallout_now(oc, c, t->function, *errbuf);
        return;
    }
    oc->t.state = "completed";
    oc->body = body;
}

/* A timer: first wait its duration (or until its date), then complete. */
static int
run_timer(cartridge *c, const store_task *t, const order_rec *o, outcome *oc, char **errbuf)
{
    char key[300];
    osm_err err = { 0, "" };
    jv fns = mget(c->manifest, "functions");

    if (strcmp(t->state, "waiting") == 0) {     /* its time has come */
        oc->t.state = "completed";
        jv_free(fns);
        return 0;
    }
    int64_t until = -1, now = clock_now();
    jv wait = mget2(fns, t->function, "wait");
    jv_free(fns);
    int64_t ms;
    if (jv_get_kind(wait) == JV_KIND_STRING && duration_parse(jv_string_value(wait), &ms) == 0) {
        until = now + ms;
    } else {
        const char *field = jv_is_valid(wait) ? "wait" : "until";
        snprintf(key, sizeof key, "functions.%s.%s", t->function, field);
        jv out;
        jv input = JV_OBJECT(jv_string("order"), jv_copy(o->body), jv_string("items"),
                             task_items(o, t->items));
        if (jqprog_run1(c->jq, cartridge_prog(c, key), input, env_now(jv_copy(o->body)), &out,
                        &err) != 0) {
            *errbuf = xasprintf("timer failed: %s", err.msg);
        } else if (jv_get_kind(out) == JV_KIND_NUMBER) {
            until = now + (int64_t)(jv_number_value(out) * 1000);
        } else if (jv_get_kind(out) == JV_KIND_STRING &&
                   (strcmp(field, "wait") == 0
                        ? (duration_parse(jv_string_value(out), &ms) == 0 && (until = now + ms, 1))
                        : rfc3339_parse(jv_string_value(out), &until) == 0)) {
            /* until set */
        } else {
            *errbuf = xasprintf("timer %s gives neither a duration nor a date", key);
        }
        jv_free(out);
    }
    jv_free(wait);
    if (*errbuf) {
        fallout_now(oc, c, t->function, *errbuf);
        return 0;
    }
    oc->t.state = until <= now ? "completed" : "waiting";
    oc->t.not_before = until;
    return 0;
}

/* Do the waits on task t's dependencies hold it?  (Deferring it if so.) */
static int
held(engine *e, cartridge *c, const store_task *t, const order_rec *o, int64_t now)
{
    osm_err err = { 0, "" };
    int64_t ready_at;
    jv conds;

    if (strcmp(t->state, "pending") != 0)
        return 0;
    if (store_task_waits(e->st, t->id, &ready_at, &conds, &err) != 0)
        return 1;
    int hold = 0;
    jv_array_foreach(conds, i, cnd) {
        jv until = mget(cnd, "until"), cond = mget(cnd, "condition");
        jv out;
        if (jv_get_kind(until) == JV_KIND_STRING) {
            int64_t at;
            if (jqprog_run1(c->jq, cartridge_prog(c, jv_string_value(until)), jv_copy(o->body),
                            env_now(jv_copy(o->body)), &out, NULL) == 0 &&
                jv_get_kind(out) == JV_KIND_STRING && rfc3339_parse(jv_string_value(out), &at) == 0 &&
                at > ready_at)
                ready_at = at;
            jv_free(out);
        }
        if (jv_get_kind(cond) == JV_KIND_STRING) {
            int r = jqprog_first(c->jq, cartridge_prog(c, jv_string_value(cond)),
                                 jv_copy(o->body), env_now(jv_copy(o->body)), &out, NULL);
            if (r != 1 || !jqprog_truthy(out))
                hold = 1;
            jv_free(out);
        }
        jv_free(until);
        jv_free(cond);
        jv_free(cnd);
    }
    jv_free(conds);
    if (ready_at > now) {
        if (store_begin(e->st, &err) == 0) {
            if (store_task_defer(e->st, t->id, ready_at, now, &err) == 0)
                store_commit(e->st, &err);
            else
                store_rollback(e->st);
        }
        return 1;
    }
    return hold;
}

/* Claim t (and start its order), in one transaction. */
static int
claim(engine *e, cartridge *c, const store_task *t, int64_t lease_until, int count,
      int64_t *fencing, int *attempts, osm_err *err)
{
    int64_t now = clock_now(), mark = 0;
    int rc;
    char owner[128], host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(owner, sizeof owner, "%s:%ld", host, (long)getpid());
    if ((rc = store_begin(e->st, err)) != 0)
        return rc;
    rc = store_task_claim(e->st, t->id, owner, lease_until, now, count, fencing, attempts, err);
    if (rc == 0 && strcmp(t->order_state, "not_started") == 0) {
        if (notify_subscribes(c))
            rc = notify_mark(e->st, &mark, err);
        if (rc == 0)
            rc = store_order_transition(e->st, t->order_id, "not_started", "in_progress", NULL,
                                        e->o.actor, now, err);
        if (rc == OSM_NEGATIVE)
            rc = 0;
        else if (rc == 0 && notify_subscribes(c))
            rc = notify_enqueue_order(e->st, mark, t->order_id, c, err);
    }
    if (rc != 0) {
        store_rollback(e->st);
        return rc;
    }
    return store_commit(e->st, err);
}

/* Try to start one candidate: 1 started (or done), 0 not now, else a status. */
static int
start_task(engine *e, const store_task *t, osm_err *err)
{
    cartridge *c;
    order_rec o;
    int64_t now = clock_now(), fencing;
    int attempts, rc;
    char *errbuf = NULL;

    if ((rc = catalog_get(e->cat, t->cartridge, t->cartridge_version, &c, err)) != 0)
        return rc;
    if ((rc = store_order_get(e->st, t->order_id, &o, err)) != 0)
        return rc;
    if (held(e, c, t, &o, now)) {
        order_rec_free(&o);
        return 0;
    }
    int automated = strcmp(t->kind, "automated") == 0;
    int64_t lease = DEFAULT_TIMEOUT_MS;
    if (automated) {
        hook_spec spec;
        if (hook_setup(e, c, t, &spec, NULL) == 0)
            lease = spec.timeout_ms + 10000;
        spec_free(&spec);
    }
    int count = strcmp(t->kind, "timer") != 0 && strcmp(t->kind, "manual") != 0;
    rc = claim(e, c, t, now + lease + LEASE_MARGIN_MS, count, &fencing, &attempts, err);
    if (rc == OSM_NEGATIVE) {
        order_rec_free(&o);
        return 0;   /* another worker took it */
    }
    if (rc != 0) {
        order_rec_free(&o);
        return rc;
    }
    e->started++;

    outcome oc;
    outcome_init(&oc);
    if (automated) {
        osm_err serr = { 0, "" };
        rc = start_hook(e, c, t, &o, fencing, attempts, &serr);
        if (rc == 0) {
            order_rec_free(&o);
            outcome_free(&oc);
            return 1;
        }
        errbuf = xstrdup(serr.msg);
        if (rc == OSM_EDATA)
            fallout_now(&oc, c, t->function, errbuf);
        else if (rc == OSM_ECONFIG)
            fallout_now(&oc, c, t->function, errbuf);
        else
            failure(&oc, c, t->function, t->system, t->id, attempts, errbuf);
    } else if (strcmp(t->kind, "rule") == 0) {
        run_rule(c, t, &o, attempts, &oc, &errbuf);
    } else if (strcmp(t->kind, "timer") == 0) {
        run_timer(c, t, &o, &oc, &errbuf);
    } else {
        /* manual: the workgroup's to claim (osm-task) */
        oc.t.state = "waiting";
    }
    order_rec_free(&o);
    rc = record(e, c, t->order_id, t->id, fencing, &oc, err);
    outcome_free(&oc);
    free(errbuf);
    return rc == OSM_NEGATIVE ? 1 : (rc == 0 ? 1 : rc);
}

/* ------------------------------------------------------------ the step */

int
engine_step(engine *e, int64_t wait_ms, int *progress, osm_err *err)
{
    int rc = 0;
    *progress = 0;

    /* start what may run now */
    while (!e->stopping && e->nrun < (size_t)e->o.jobs &&
           (e->o.max_tasks == 0 || e->started < e->o.max_tasks)) {
        store_task *cands;
        size_t n, tried = 0;
        int started = 0;
        rc = store_task_candidates(e->st, &e->o.filter, clock_now(), e->o.jobs * 4 + 8, &cands,
                                   &n, err);
        if (rc != 0)
            return rc;
        for (size_t i = 0; i < n && e->nrun < (size_t)e->o.jobs; i++) {
            if (is_busy(e, cands[i].id))
                continue;
            if (e->o.max_tasks && e->started >= e->o.max_tasks)
                break;
            tried++;
            int r = start_task(e, &cands[i], err);
            if (r > 1) {
                store_tasks_free(cands, n);
                return r;
            }
            started += r;
        }
        store_tasks_free(cands, n);
        *progress += started;
        if (!started)
            break;
        (void)tried;
    }

    /* service running hooks */
    if (e->nrun == 0)
        return 0;
    hook **hs = xcalloc(e->nrun, sizeof *hs);
    for (size_t i = 0; i < e->nrun; i++)
        hs[i] = e->run[i].h;
    int done = hook_poll(hs, e->nrun, wait_ms);
    free(hs);
    if (done <= 0)
        return 0;
    for (size_t i = 0; i < e->nrun;) {
        running *r = &e->run[i];
        if (!hook_finished(r->h)) {
            i++;
            continue;
        }
        hook_result res;
        outcome oc;
        char *errbuf = NULL;
        hook_collect(r->h, &res);
        outcome_init(&oc);
        hook_outcome(e, r, &res, &oc, &errbuf);
        int rr = record(e, r->c, r->order_id, r->task_id, r->fencing, &oc, err);
        outcome_free(&oc);
        free(errbuf);
        hook_result_free(&res);
        set_busy(e, r->task_id, 0);
        running_free(r);
        e->run[i] = e->run[--e->nrun];
        (*progress)++;
        if (rr > 1 && rc == 0)
            rc = rr;
    }
    return rc;
}

/* ------------------------------------------------------------ housekeeping */

int
engine_housekeep(engine *e, osm_err *err)
{
    int rc, applied;

    if ((rc = store_begin(e->st, err)) != 0)
        return rc;
    int64_t mark;
    rc = notify_mark(e->st, &mark, err);
    if (rc == 0)
        rc = respond_apply_kept(e->st, e->cat, e->o.actor, &e->o.filter, &applied, err);
    if (rc == 0)
        rc = store_jeopardy_raise(e->st, &e->o.filter, e->o.actor, clock_now(), NULL, err);
    if (rc == 0)
        rc = notify_enqueue(e->st, mark, err);
    if (rc != 0) {
        store_rollback(e->st);
        return rc;
    }
    if ((rc = store_commit(e->st, err)) != 0)
        return rc;
    return respond_timeouts(e->st, e->cat, e->o.actor, &e->o.filter, NULL, err);
}
