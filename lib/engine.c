/*
 * The execution engine (see engine.h): choosing and starting work.  One
 * thread: hooks run as child processes serviced by hook_poll(); jq and
 * SQLite are only touched between polls.  Outcomes are interpreted and
 * recorded by lib/outcome.c, checked against each task's fencing token
 * so that a worker whose lease was taken over records nothing.
 *
 * Orders are kept parsed in a small cache between tasks, keyed by id and
 * checked against the order's data revision (orders.body_rev), so that a
 * task does not re-read and re-parse its whole order — nor an order of
 * 2,000 items its 2,000 items — each time.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cartdir.h"
#include "clock.h"
#include "engine.h"
#include "hook.h"
#include "hookproc.h"
#include "json.h"
#include "notify.h"
#include "outcome.h"
#include "respond.h"
#include "sha256.h"
#include "store-async.h"
#include "xalloc.h"

#define DEFAULT_TIMEOUT_MS (5 * 60 * 1000)
#define LEASE_MARGIN_MS (60 * 1000)
#define CLAIM_EXTRA 8           /* candidates read beyond the free hook slots */
#define ORDER_CACHE 512         /* orders kept parsed (direct-mapped by id) */
#define MAX_IN_FLIGHT 64        /* a persistent system's default */

/* A persistent system's process, one per cartridge version and system. */
typedef struct persistent {
    cartridge *c;
    char *system;
    hookproc *p;
    int max_in_flight;
    int queued;                 /* claimed for it in the current batch */
    int64_t retry_at;           /* monotonic: restarting until then */
} persistent;

typedef struct running {
    hook *h;                    /* a process of its own, or */
    persistent *pp;             /* a request to a persistent process */
    hook_run_info info;
    int64_t fencing;
    cartridge *c;
} running;

typedef struct cached_order {
    int64_t id, rev;            /* id 0: empty slot */
    jv body;
    jv header;                  /* body without its item list, or invalid: not made yet */
    char *header_text;          /* the same as JSON text, or NULL: not made yet */
    jv items;                   /* item id -> item data */
    char *external_id, *cartridge;
} cached_order;

struct engine {
    store *st;
    catalog *cat;
    engine_opts o;
    running *run;
    size_t nrun, noneshot;      /* running; of which processes of their own */
    persistent **procs;
    size_t nprocs;
    size_t batch_slots, batch_oneshot;  /* the claim batch being made */
    long started;
    long finished, fallout;     /* outcomes that ended a task; fell out */
    int stopping;
    cartdir_cache *dirs;
    cached_order orders[ORDER_CACHE];
    strbuf durable;             /* -v: outcomes to report once committed */
};

/* ------------------------------------------------------------ owner */

static char owner_name[300];

/* The start time of process pid (clock ticks since boot), or -1. */
static long long
proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after the command name, which may hold anything but ends at the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    long long start = -1;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
        if (++field == 22) {
            start = strtoll(tok, NULL, 10);
            break;
        }
    return start;
}

const char *
engine_owner(void)
{
    if (!owner_name[0]) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(owner_name, sizeof owner_name, "%s:%ld:%lld", host, (long)getpid(),
                 proc_start((long)getpid()));
    }
    return owner_name;
}

int
engine_owner_alive(const char *owner)
{
    const char *me = engine_owner();
    const char *colon = strchr(me, ':');
    size_t hl = (size_t)(colon - me) + 1;
    if (strncmp(owner, me, hl) != 0)
        return 1;   /* another host: only its lease says */
    char *end;
    long pid = strtol(owner + hl, &end, 10);
    if (end == owner + hl || pid <= 0)
        return 1;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    if (*end == ':') {
        long long start = strtoll(end + 1, NULL, 10), now = proc_start(pid);
        if (start >= 0 && now >= 0 && start != now)
            return 0;   /* the pid was reused by another process */
    }
    return 1;
}

/* ------------------------------------------------------------ life */

engine *
engine_new(store *st, catalog *cat, const engine_opts *opts)
{
    engine *e = xcalloc(1, sizeof *e);
    e->st = st;
    e->cat = cat;
    e->o = *opts;
    if (e->o.jobs < 1)
        e->o.jobs = 1;
    e->dirs = cartdir_new(e->o.db_path ? e->o.db_path : "osm.db");
    (void)engine_owner();
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

long
engine_finished(const engine *e)
{
    return e->finished;
}

long
engine_fallout(const engine *e)
{
    return e->fallout;
}

void
engine_stop(engine *e)
{
    e->stopping = 1;
}

static void
info_free(hook_run_info *r)
{
    free((char *)r->function);
    free((char *)r->system);
    free((char *)r->request);
    jv_free(r->request_jv);
    r->request_jv = jv_invalid();
}

static void
cache_drop(cached_order *co)
{
    if (co->id) {
        jv_free(co->body);
        jv_free(co->header);
        free(co->header_text);
        jv_free(co->items);
        free(co->external_id);
        free(co->cartridge);
    }
    memset(co, 0, sizeof *co);
}

static void
cache_clear(engine *e)
{
    for (size_t i = 0; i < ORDER_CACHE; i++)
        cache_drop(&e->orders[i]);
}

void
engine_free(engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nrun; i++) {
        if (e->run[i].h)
            hook_abort(e->run[i].h);
        info_free(&e->run[i].info);
    }
    free(e->run);
    for (size_t i = 0; i < e->nprocs; i++) {
        hookproc_free(e->procs[i]->p);
        free(e->procs[i]->system);
        free(e->procs[i]);
    }
    free(e->procs);
    cartdir_free(e->dirs);
    cache_clear(e);
    sb_free(&e->durable);
    free(e);
}

/* ------------------------------------------------------------ orders */

/*
 * Order id as of data revision rev (-1: whatever the store holds now,
 * read inside the caller's transaction), from the cache or the store.
 */
static int
order_at(engine *e, int64_t id, int64_t rev, cached_order **out, osm_err *err)
{
    cached_order *co = &e->orders[(uint64_t)id % ORDER_CACHE];
    order_rec o;
    int rc;

    if (rev < 0 && (rc = store_order_body_rev(e->st, id, &rev, err)) != 0)
        return rc;
    /* the cache may be newer than rev: our own writes in this transaction */
    if (co->id == id && co->rev >= rev) {
        *out = co;
        return 0;
    }
    if ((rc = store_order_get(e->st, id, &o, err)) != 0)
        return rc;
    cache_drop(co);
    co->id = id;
    co->rev = rev;
    co->body = jv_copy(o.body);
    co->header = jv_invalid();
    co->items = jv_object();
    for (size_t k = 0; k < o.nitems; k++)
        co->items = jv_object_set(co->items, jv_string(o.items[k].item_id),
                                  jv_copy(o.items[k].data));
    co->external_id = o.external_id ? xstrdup(o.external_id) : NULL;
    co->cartridge = xstrdup(o.cartridge);
    order_rec_free(&o);
    *out = co;
    return 0;
}

/* outcome_orders callbacks: the body as the recording transaction sees it */
static int
orders_get(void *ctx, int64_t id, jv *body, osm_err *err)
{
    cached_order *co;
    int rc = order_at(ctx, id, -1, &co, err);
    if (rc == 0)
        *body = jv_copy(co->body);
    return rc;
}

static void
orders_put(void *ctx, int64_t id, jv body)
{
    engine *e = ctx;
    cached_order *co = &e->orders[(uint64_t)id % ORDER_CACHE];
    if (co->id == id) {
        jv_free(co->body);
        jv_free(co->header);
        free(co->header_text);
        co->body = body;
        co->header = jv_invalid();
        co->header_text = NULL;
        co->rev++;      /* as store_order_set_body did */
    } else {
        jv_free(body);
    }
}

/*
 * The order as a default request carries it: without its item list when
 * the cartridge's items.path is a plain key (".items"), so that what is
 * sent for a task does not grow with the order — the task's own items go
 * beside it.  Made once per revision of the order's data.
 */
static jv
order_header(cartridge *c, cached_order *o)
{
    if (!jv_is_valid(o->header)) {
        jv path = jv_get_kind(c->manifest) == JV_KIND_OBJECT
                      ? jv_object_get(jv_copy(c->manifest), jv_string("items"))
                      : jv_invalid();
        if (jv_get_kind(path) == JV_KIND_OBJECT)
            path = jv_object_get(path, jv_string("path"));
        const char *p = jv_get_kind(path) == JV_KIND_STRING ? jv_string_value(path) : ".items";
        int plain = p[0] == '.' && p[1] && !strchr("0123456789", p[1]);
        for (const char *q = p + 1; plain && *q; q++)
            plain = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                    (*q >= '0' && *q <= '9') || *q == '_';
        if (plain && jv_get_kind(o->body) == JV_KIND_OBJECT)
            o->header = jv_object_delete(jv_copy(o->body), jv_string(p + 1));
        else
            o->header = jv_copy(o->body);
        jv_free(path);
    }
    return jv_copy(o->header);
}

/* order_header() as JSON text, dumped once per revision of the order's data. */
static const char *
order_header_text(cartridge *c, cached_order *o)
{
    if (!o->header_text) {
        jv h = order_header(c, o);
        o->header_text = json_dump(h, 0);
        jv_free(h);
    }
    return o->header_text;
}

/* The items of the order that a task covers, as their data. */
static jv
task_items(const cached_order *o, jv ids)
{
    jv out = jv_array();
    jv_array_foreach(ids, i, id) {
        jv item = jv_object_get(jv_copy(o->items), id);
        if (jv_is_valid(item))
            out = jv_array_append(out, item);
        else
            jv_free(item);
    }
    return out;
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

/* What a task's hook is asked to do: do, amend-do (a do a revision added), undo, redo. */
static const char *
hook_mode(const store_task *t)
{
    if (t->mode && strcmp(t->mode, "undo") == 0)
        return "undo";
    if (t->mode && strcmp(t->mode, "redo") == 0)
        return "redo";
    return t->amend ? "amend-do" : "do";
}

static jv
task_doc(const store_task *t, int attempt)
{
    return JV_OBJECT(jv_string("id"), jv_number((double)t->id), jv_string("function"),
                     jv_string(t->function), jv_string("system"),
                     t->system ? jv_string(t->system) : jv_null(), jv_string("group"),
                     jv_string(t->group), jv_string("items"), jv_copy(t->items),
                     jv_string("mode"), jv_string(hook_mode(t)), jv_string("attempt"),
                     jv_number(attempt));
}

static int
is_running(const engine *e, int64_t id)
{
    for (size_t i = 0; i < e->nrun; i++)
        if (e->run[i].info.task_id == id)
            return 1;
    return 0;
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
    free((void *)spec->input);
}

/* A hook ready to start once its claim is committed. */
typedef struct pending_start {
    hook_spec spec;
    hook_run_info info;
    int64_t fencing;
    cartridge *c;
    persistent *pp;             /* NULL: a process of its own */
} pending_start;

/* A system's mode: 1 persistent (with its limits), 0 a process per request. */
static int
system_persistent(cartridge *c, const char *system, int *max_in_flight, size_t *max_line)
{
    jv sys = mget2(c->manifest, "systems", system);
    jv mode = mget(sys, "mode"), mif = mget(sys, "maxInFlight"), ml = mget(sys, "maxLine");
    int yes = jv_get_kind(mode) == JV_KIND_STRING &&
                     strcmp(jv_string_value(mode), "persistent") == 0;
    *max_in_flight = jv_get_kind(mif) == JV_KIND_NUMBER ? (int)jv_number_value(mif)
                                                        : MAX_IN_FLIGHT;
    *max_line = jv_get_kind(ml) == JV_KIND_NUMBER ? (size_t)jv_number_value(ml) : 0;
    jv_free(sys);
    jv_free(mode);
    jv_free(mif);
    jv_free(ml);
    return yes;
}

/*
 * The persistent process of task t's system (made, not started, the
 * first time): its command and environment are the system's, without
 * the per-task variables, which travel in each request.
 */
static int
persistent_of(engine *e, cartridge *c, const store_task *t, int max_in_flight,
              size_t max_line, persistent **out, osm_err *err)
{
    hook_spec hs;
    int rc;

    for (size_t i = 0; i < e->nprocs; i++)
        if (e->procs[i]->c == c && strcmp(e->procs[i]->system, t->system) == 0) {
            *out = e->procs[i];
            return 0;
        }
    const char *dir = cartdir_get(e->dirs, c, err);
    if (!dir)
        return err->code ? err->code : OSM_EIO;
    if ((rc = hook_setup(e, c, t, &hs, err)) != 0) {
        free((char *)hs.command);
        return rc;
    }
    const config_system *site = siteconf_system(e->o.conf, t->system);
    size_t nsite = site ? site->nenv : 0, k = 0;
    char **env = xcalloc(4 + nsite, sizeof *env);
    env[k++] = xasprintf("OSM_SYSTEM=%s", t->system);
    env[k++] = xasprintf("OSM_DB=%s", e->o.db_path);
    env[k++] = xstrdup("OSM_PERSISTENT=1");
    for (size_t i = 0; i < nsite; i++)
        env[k++] = xstrdup(site->env[i]);
    hookproc_spec ps = { hs.command, dir, env, max_line, 0 };
    hookproc *p;
    rc = hookproc_new(&ps, &p, err);
    free((char *)hs.command);
    for (size_t i = 0; i < k; i++)
        free(env[i]);
    free(env);
    if (rc != 0)
        return rc;
    persistent *pp = xcalloc(1, sizeof *pp);
    pp->c = c;
    pp->system = xstrdup(t->system);
    pp->p = p;
    pp->max_in_flight = max_in_flight;
    e->procs = xrealloc(e->procs, (e->nprocs + 1) * sizeof *e->procs);
    e->procs[e->nprocs++] = pp;
    *out = pp;
    return 0;
}

/*
 * Prepare automated task t (claimed: fencing, attempts) of order o: its
 * request, envelope and environment into *ps.  OSM_EDATA when the
 * request program fails, OSM_ECONFIG when the system has no command.
 */
static int
prepare_hook(engine *e, cartridge *c, const store_task *t, cached_order *o,
             int64_t fencing, int attempts, int to_process, pending_start *ps, osm_err *err)
{
    char key[300];
    int rc;

    memset(ps, 0, sizeof *ps);
    const char *mode = hook_mode(t);
    jv taskdoc = task_doc(t, attempts);
    /* what the request is built from says which task, not which run: the
     * same data gives the same request, and so the same key, on a retry */
    jv reqtask = jv_object_delete(jv_copy(taskdoc), jv_string("attempt"));
    jv request = jv_invalid();
    char *reqtext = NULL, *previous = NULL;
    snprintf(key, sizeof key, "functions.%s.request", t->function);
    int idx = cartridge_prog(c, key);
    osm_err jerr = { 0, "" };
    if (strcmp(mode, "undo") == 0 || strcmp(mode, "redo") == 0) {
        /* an undo sends again what was done; a redo says what it was */
        char *stored;
        if ((rc = store_task_requests(e->st, t->id, &stored, &previous, err)) != 0) {
            jv_free(taskdoc);
            jv_free(reqtask);
            return rc;
        }
        if (strcmp(mode, "undo") == 0) {
            reqtext = stored ? stored : xstrdup("null");
            idx = -2;
        } else {
            free(stored);
        }
    }
    if (idx == -2) {
        /* reqtext set */
    } else if (idx >= 0) {
        jv input = JV_OBJECT(jv_string("order"), jv_copy(o->body), jv_string("items"),
                             task_items(o, t->items), jv_string("task"), jv_copy(reqtask));
        if (jqprog_run1(c->jq, idx, input, env_task(jv_copy(o->body), jv_copy(reqtask)), &request,
                        &jerr) != 0) {
            jv_free(taskdoc);
            jv_free(reqtask);
            jv_free(request);
            return osm_fail(err, OSM_EDATA, "building the request failed: %s", jerr.msg);
        }
        reqtext = json_dump(request, 0);
    } else {
        /* no request program: {order, items, task}, the order without its
         * item list and dumped once for all its tasks */
        jv itemsv = task_items(o, t->items);
        char *items = json_dump(itemsv, 0);
        char *task = json_dump(reqtask, 0);
        jv_free(itemsv);
        reqtext = xasprintf("{\"order\":%s,\"items\":%s,\"task\":%s}", order_header_text(c, o),
                            items, task);
        free(items);
        free(task);
    }
    jv_free(reqtask);
    const char *dir = cartdir_get(e->dirs, c, err);
    if (!dir || (rc = hook_setup(e, c, t, &ps->spec, err)) != 0) {
        jv_free(request);
        jv_free(taskdoc);
        free(reqtext);
        free(previous);
        spec_free(&ps->spec);
        return err->code ? err->code : OSM_EIO;
    }
    /*
     * The idempotency key: the same for every run of the same request of
     * the task, a new one when the request changes (a redo, an amend-do,
     * a retry with corrected order data): order, task, mode, plan
     * revision, and the first 12 hex digits of the request's SHA-256.
     */
    char ikey[128], digest[SHA256_HEX_SIZE];
    if (t->idem_key) {
        /* sent before: the same key, whatever other tasks changed since */
        snprintf(ikey, sizeof ikey, "%s", t->idem_key);
    } else {
        sha256_hex(reqtext, strlen(reqtext), digest);
        snprintf(ikey, sizeof ikey, "osm-%lld-%lld-%s-%d-%.12s", (long long)t->order_id,
                 (long long)t->id, mode, t->plan_revision, digest);
        if ((rc = store_task_set_key(e->st, t->id, ikey, err)) != 0) {
            jv_free(request);
            jv_free(taskdoc);
            free(reqtext);
            free(previous);
            spec_free(&ps->spec);
            return rc;
        }
    }
    /* the request is dumped once: for the hook, the task and the history */
    jv rest = JV_OBJECT(jv_string("order"),
                        JV_OBJECT(jv_string("id"), jv_number((double)o->id),
                                  jv_string("externalId"),
                                  o->external_id ? jv_string(o->external_id) : jv_null(),
                                  jv_string("cartridge"), jv_string(o->cartridge)),
                        jv_string("task"), taskdoc, jv_string("mode"), jv_string(mode),
                        jv_string("attempt"), jv_number(attempts),
                        jv_string("idempotencyKey"), jv_string(ikey), jv_string("fencing"),
                        jv_number((double)fencing));
    char *resttext = json_dump(rest, 0);
    jv_free(rest);
    /* {"request":REQUEST[,"previousRequest":PREVIOUS],REST...}\n */
    char *in = xasprintf("{\"request\":%s,%s%s%s%s\n", reqtext,
                         previous ? "\"previousRequest\":" : "", previous ? previous : "",
                         previous ? "," : "", resttext + 1);
    free(previous);
    size_t inlen = strlen(in);
    free(resttext);

    const config_system *site = siteconf_system(e->o.conf, t->system);
    size_t nsite = site ? site->nenv : 0;
    /* a persistent process has its environment already: the rest is in the line */
    char **env = to_process ? NULL : xcalloc(10 + nsite, sizeof *env);
    if (env) {
        size_t k = 0;
        env[k++] = xasprintf("OSM_ORDER_ID=%lld", (long long)o->id);
        env[k++] = xasprintf("OSM_TASK_ID=%lld", (long long)t->id);
        env[k++] = xasprintf("OSM_FUNCTION=%s", t->function);
        env[k++] = xasprintf("OSM_SYSTEM=%s", t->system);
        env[k++] = xasprintf("OSM_MODE=%s", mode);
        env[k++] = xasprintf("OSM_ATTEMPT=%d", attempts);
        env[k++] = xasprintf("OSM_IDEMPOTENCY_KEY=%s", ikey);
        env[k++] = xasprintf("OSM_FENCING=%lld", (long long)fencing);
        env[k++] = xasprintf("OSM_DB=%s", e->o.db_path);
        for (size_t i = 0; i < nsite; i++)
            env[k++] = xstrdup(site->env[i]);
    }
    ps->spec.env = env;
    ps->spec.cwd = dir;
    ps->spec.input = in;
    ps->spec.input_len = inlen;
    ps->info.task_id = t->id;
    ps->info.order_id = t->order_id;
    ps->info.attempts = attempts;
    ps->info.temp_failures = t->temp_failures;
    ps->info.timeout_ms = ps->spec.timeout_ms;
    ps->info.function = xstrdup(t->function);
    ps->info.system = xstrdup(t->system);
    ps->info.mode = mode;
    ps->info.request = reqtext;
    ps->info.request_jv = request;
    ps->fencing = fencing;
    ps->c = c;
    return 0;
}

/* A rule task: jq over {order, items, task} gives the new order. */
static void
run_rule(cartridge *c, const store_task *t, const cached_order *o, int attempts, outcome *oc)
{
    char key[300];
    osm_err err = { 0, "" };
    jv body;
    snprintf(key, sizeof key, "functions.%s.rule", t->function);
    jv input = JV_OBJECT(jv_string("order"), jv_copy(o->body), jv_string("items"),
                         task_items(o, t->items), jv_string("task"), task_doc(t, attempts));
    if (jqprog_run1(c->jq, cartridge_prog(c, key), input,
                    env_task(jv_copy(o->body), task_doc(t, attempts)), &body, &err) != 0) {
        char *why = xasprintf("rule failed: %s", err.msg);
        outcome_fallout(oc, c, t->function, why);
        free(why);
        jv_free(body);
        return;
    }
    if (jv_get_kind(body) != JV_KIND_OBJECT) {
        jv_free(body);
        outcome_fallout(oc, c, t->function, "rule must give the order (an object)");
        return;
    }
    oc->t.state = "completed";
    if (jv_equal(jv_copy(body), jv_copy(o->body)))
        jv_free(body);      /* the order's data stays as it is */
    else
        oc->body = body;
}

/* A timer: first wait its duration (or until its date), then complete. */
static void
run_timer(cartridge *c, const store_task *t, const cached_order *o, outcome *oc)
{
    char key[300];
    char *why = NULL;
    osm_err err = { 0, "" };
    jv fns = mget(c->manifest, "functions");

    if (strcmp(t->state, "waiting") == 0) {     /* its time has come */
        oc->t.state = "completed";
        jv_free(fns);
        return;
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
            why = xasprintf("timer failed: %s", err.msg);
        } else if (jv_get_kind(out) == JV_KIND_NUMBER) {
            until = now + (int64_t)(jv_number_value(out) * 1000);
        } else if (jv_get_kind(out) == JV_KIND_STRING &&
                   (strcmp(field, "wait") == 0
                        ? (duration_parse(jv_string_value(out), &ms) == 0 && (until = now + ms, 1))
                        : rfc3339_parse(jv_string_value(out), &until) == 0)) {
            /* until set */
        } else {
            why = xasprintf("timer %s gives neither a duration nor a date", key);
        }
        jv_free(out);
    }
    jv_free(wait);
    if (why) {
        outcome_fallout(oc, c, t->function, why);
        free(why);
        return;
    }
    oc->t.state = until <= now ? "completed" : "waiting";
    oc->t.not_before = until;
}

/*
 * Do the waits on task t's dependencies hold it?  (Deferring it, inside
 * the caller's transaction, when they hold it until a time.)  Only asked
 * of tasks whose dependencies carry waits.
 */
static int
held(engine *e, cartridge *c, const store_task *t, const cached_order *o, int64_t now,
     osm_err *err, int *rc)
{
    int64_t ready_at;
    jv conds;

    *rc = 0;
    if (!t->has_waits || strcmp(t->state, "pending") != 0)
        return 0;
    if ((*rc = store_task_waits(e->st, t->id, &ready_at, &conds, err)) != 0)
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
        *rc = store_task_defer(e->st, t->id, ready_at, now, err);
        return 1;
    }
    return hold;
}

/* Record outcome oc of task t inside the open transaction; lease lost is not an error. */
static int
record_in_tx(engine *e, cartridge *c, int64_t order_id, int64_t task_id, int64_t fencing,
             outcome *oc, osm_err *err)
{
    outcome_orders orders = { orders_get, orders_put, e };
    int rc = outcome_record(e->st, &orders, c, order_id, task_id, fencing, oc, e->o.actor, err);
    if (rc == 0 && oc->t.state && (strcmp(oc->t.state, "completed") == 0 ||
                                   strcmp(oc->t.state, "skipped") == 0 ||
                                   strcmp(oc->t.state, "failed") == 0)) {
        e->finished++;
        e->fallout += jv_is_valid(oc->fallout);
    }
    if (rc == 0 && diag_verbosity() > 0) {
        char line[200];
        snprintf(line, sizeof line, "order %lld: task %lld %s (fencing %lld)\n",
                 (long long)order_id, (long long)task_id, oc->t.state, (long long)fencing);
        sb_adds(&e->durable, line);
    }
    return rc == OSM_NEGATIVE ? 0 : rc;
}

/*
 * Commit the open transaction; with -v, then say which outcomes it made
 * durable (and, on failure, forget them and what the cache holds).
 */
static int
commit(engine *e, osm_err *err)
{
    int rc = store_commit(e->st, err);
    if (rc == 0 && e->durable.len) {
        for (char *p = e->durable.buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
            *nl = '\0';
            diag_info("%s", p);
        }
    }
    if (rc != 0)
        cache_clear(e);
    e->durable.len = 0;
    return rc;
}

static void
rollback(engine *e)
{
    store_rollback(e->st);
    cache_clear(e);
    e->durable.len = 0;
}

/*
 * Claim candidate t inside the open transaction and do what can be done
 * at once.  1 claimed (an automated task then waits in *ps, ps->c set),
 * 0 not now, else a status.
 */
static int
claim_one(engine *e, const store_task *t, pending_start *ps, osm_err *err)
{
    cartridge *c;
    cached_order *o;
    int64_t now = clock_now(), fencing, mark = 0;
    int attempts, rc;

    ps->c = NULL;
    if ((rc = catalog_get(e->cat, t->cartridge, t->cartridge_version, &c, err)) != 0)
        return rc;
    if ((rc = order_at(e, t->order_id, t->body_rev, &o, err)) != 0)
        return rc;
    if (held(e, c, t, o, now, err, &rc))
        return rc ? rc : 0;
    int automated = strcmp(t->kind, "automated") == 0;
    persistent *pp = NULL;
    if (automated) {
        int max_in_flight;
        size_t max_line;
        if (system_persistent(c, t->system, &max_in_flight, &max_line)) {
            osm_err perr = { 0, "" };
            if (persistent_of(e, c, t, max_in_flight, max_line, &pp, &perr) != 0)
                pp = NULL;      /* claimed below, and fails as a one-shot hook would */
            else if (clock_monotonic_ms() < pp->retry_at ||
                     hookproc_inflight(pp->p) + (size_t)pp->queued >= (size_t)pp->max_in_flight)
                return 0;       /* restarting, or full: later */
        }
        if (!pp && e->batch_oneshot >= e->batch_slots)
            return 0;           /* every -j slot is taken */
    }
    int64_t lease = DEFAULT_TIMEOUT_MS;
    if (automated) {
        hook_spec spec;
        if (hook_setup(e, c, t, &spec, NULL) == 0)
            lease = spec.timeout_ms + 10000;
        free((char *)spec.command);
    }
    int count = strcmp(t->kind, "timer") != 0 && strcmp(t->kind, "manual") != 0;
    if (automated || strcmp(t->state, "running") == 0) {
        rc = store_task_claim(e->st, t, engine_owner(), now + lease + LEASE_MARGIN_MS, now,
                              count, &fencing, &attempts, err);
        if (rc == OSM_NEGATIVE)
            return 0;   /* another worker took it */
        if (rc != 0)
            return rc;
    } else {
        /* claimed by the same update that records its outcome, below */
        fencing = t->fencing + 1;
        attempts = t->attempts + count;
    }
    if (strcmp(t->order_state, "not_started") == 0) {
        int notify = notify_subscribes(c);
        if (notify)
            rc = notify_mark(e->st, &mark, err);
        if (rc == 0)
            rc = store_order_transition(e->st, t->order_id, "not_started", "in_progress", NULL,
                                        e->o.actor, now, err);
        if (rc == OSM_NEGATIVE)
            rc = 0;
        else if (rc == 0 && notify)
            rc = notify_enqueue_order(e->st, mark, t->order_id, c, err);
        if (rc != 0)
            return rc;
    }
    e->started++;

    outcome oc;
    outcome_init(&oc);
    if (automated) {
        osm_err serr = { 0, "" };
        rc = prepare_hook(e, c, t, o, fencing, attempts, pp != NULL, ps, &serr);
        if (rc == 0) {
            ps->pp = pp;
            if (pp)
                pp->queued++;
            else
                e->batch_oneshot++;
            outcome_free(&oc);
            return 1;
        }
        if (rc == OSM_EDATA || rc == OSM_ECONFIG)
            outcome_fallout(&oc, c, t->function, serr.msg);
        else
            outcome_failure(&oc, c, t->function, t->system, t->id, attempts, serr.msg);
    } else {
        int claimed = strcmp(t->state, "running") == 0;     /* an expired lease, retaken */
        if (strcmp(hook_mode(t), "undo") == 0)
            oc.t.state = "completed";   /* nothing outside osm to undo */
        else if (strcmp(t->kind, "rule") == 0)
            run_rule(c, t, o, attempts, &oc);
        else if (strcmp(t->kind, "timer") == 0)
            run_timer(c, t, o, &oc);
        else
            oc.t.state = "waiting";     /* manual: the workgroup's to claim (osm-task) */
        if (!claimed) {
            oc.t.claim = 1;
            oc.t.claim_attempts = t->attempts;
            oc.t.attempts_delta += count;
            attempts = t->attempts;
        }
    }
    oc.task_function = t->function;
    oc.task_attempts = attempts;
    rc = record_in_tx(e, c, t->order_id, t->id, fencing, &oc, err);
    outcome_free(&oc);
    return rc ? rc : 1;
}

static void
pending_free(pending_start *ps)
{
    spec_free(&ps->spec);
    info_free(&ps->info);
}

/* Add a running hook or request. */
static void
add_running(engine *e, hook *h, persistent *pp, pending_start *ps)
{
    e->run = xrealloc(e->run, (e->nrun + 1) * sizeof *e->run);
    running *r = &e->run[e->nrun++];
    r->h = h;
    r->pp = pp;
    r->info = ps->info;
    r->fencing = ps->fencing;
    r->c = ps->c;
    if (h)
        e->noneshot++;
}

/*
 * Start a prepared hook, or send its request to its persistent process.
 * One that cannot start is recorded as a failed attempt; a persistent
 * process restarting puts the task back without counting the attempt.
 */
static int
start_prepared(engine *e, pending_start *ps, osm_err *err)
{
    hook *h = NULL;
    osm_err serr = { 0, "" };
    int64_t retry_at = 0;
    int rc;

    if (ps->pp) {
        ps->pp->queued--;
        ps->info.persistent = 1;
        /* the request line is the input without its newline */
        rc = hookproc_send(ps->pp->p, ps->info.task_id, ps->spec.input, ps->spec.input_len - 1,
                           ps->spec.timeout_ms, &retry_at, &serr);
    } else {
        rc = hook_start(&ps->spec, &h, &serr);
    }
    spec_free(&ps->spec);
    memset(&ps->spec, 0, sizeof ps->spec);
    if (rc == 0) {
        add_running(e, h, ps->pp, ps);
        return 0;
    }
    outcome oc;
    outcome_init(&oc);
    if (rc == OSM_ETEMPFAIL && ps->pp) {
        int64_t wait = retry_at - clock_monotonic_ms();
        ps->pp->retry_at = retry_at;
        oc.t.state = "pending";
        oc.t.error = "persistent hook restarting";
        oc.t.attempts_delta = -1;
        oc.t.not_before = clock_now() + (wait > 0 ? wait : 0);
    } else {
        outcome_failure(&oc, ps->c, ps->info.function, ps->info.system, ps->info.task_id,
                        ps->info.attempts, serr.msg);
    }
    oc.task_function = ps->info.function;
    oc.task_attempts = ps->info.attempts;
    if ((rc = store_begin(e->st, err)) == 0) {
        rc = record_in_tx(e, ps->c, ps->info.order_id, ps->info.task_id, ps->fencing, &oc, err);
        if (rc == 0)
            rc = commit(e, err);
        else
            rollback(e);
    }
    outcome_free(&oc);
    info_free(&ps->info);
    return rc;
}

/* Requests the persistent processes could take now, all together. */
static size_t
free_in_flight(const engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nprocs; i++) {
        size_t busy = hookproc_inflight(e->procs[i]->p) + (size_t)e->procs[i]->queued;
        if (busy < (size_t)e->procs[i]->max_in_flight)
            n += (size_t)e->procs[i]->max_in_flight - busy;
    }
    return n;
}

/* May this worker claim anything now? */
static int
can_claim(const engine *e)
{
    return !e->stopping && (e->noneshot < (size_t)e->o.jobs || e->nprocs > 0) &&
           (e->o.max_tasks == 0 || e->started < e->o.max_tasks);
}

/*
 * One batch of claims inside the open transaction: hooks up to the free
 * slots and what the persistent processes can take, rule, timer and
 * manual tasks done at once.  The hooks to start once it commits are
 * added to *ps (*nps of them, room for *cap); *did counts the tasks
 * claimed.
 */
static int
claim_batch(engine *e, pending_start **ps, size_t *nps, size_t *cap, int *did, osm_err *err)
{
    size_t slots = e->noneshot < (size_t)e->o.jobs ? (size_t)e->o.jobs - e->noneshot : 0;
    size_t n;
    store_task *cands;
    int rc;

    *did = 0;
    if ((rc = store_task_candidates(e->st, &e->o.filter, clock_now(),
                                    (int)(slots + free_in_flight(e)) + CLAIM_EXTRA, &cands, &n,
                                    err)) != 0)
        return rc;
    if (*nps + n > *cap) {
        *cap = *nps + n;
        *ps = xrealloc(*ps, *cap * sizeof **ps);
    }
    e->batch_slots = slots;
    e->batch_oneshot = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (e->o.max_tasks && e->started >= e->o.max_tasks)
            break;
        if (is_running(e, cands[i].id))
            continue;
        memset(&(*ps)[*nps], 0, sizeof **ps);
        int r = claim_one(e, &cands[i], &(*ps)[*nps], err);
        if (r == 1) {
            (*did)++;
            if ((*ps)[*nps].c)
                (*nps)++;
        } else if (r != 0) {
            rc = r;
        }
    }
    store_tasks_free(cands, n);
    return rc;
}

/* Remove running entry i (its info is the caller's now). */
static void
drop_running(engine *e, size_t i)
{
    if (e->run[i].h)
        e->noneshot--;
    e->run[i] = e->run[--e->nrun];
}

/* The running entry of persistent process pp's request for task tag, or -1. */
static long
find_request(const engine *e, const persistent *pp, int64_t tag)
{
    for (size_t i = 0; i < e->nrun; i++)
        if (e->run[i].pp == pp && e->run[i].info.task_id == tag)
            return (long)i;
    return -1;
}

/* An answer of a persistent process, taken and waiting to be recorded. */
typedef struct taken {
    persistent *pp;
    hookproc_answer a;
} taken;

/* Take every answer the persistent processes have ready: *n of them. */
static taken *
take_answers(engine *e, size_t *n)
{
    taken *t = NULL;
    size_t cap = 0;
    *n = 0;
    for (size_t k = 0; k < e->nprocs; k++) {
        hookproc_answer a;
        while (hookproc_take(e->procs[k]->p, &a)) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                t = xrealloc(t, cap * sizeof *t);
            }
            t[*n].pp = e->procs[k];
            t[(*n)++].a = a;
        }
    }
    return t;
}

/*
 * Record, inside the open transaction, every finished hook and the
 * answers taken.  An error stops the recording (the rest are dropped:
 * their tasks stay running under their lease, and are run again).
 */
static int
record_finished(engine *e, taken *ans, size_t nans, int *progress, osm_err *err)
{
    int rc = 0;

    for (size_t i = 0; i < e->nrun;) {
        running *r = &e->run[i];
        if (!r->h || !hook_finished(r->h)) {
            i++;
            continue;
        }
        hook_result res;
        outcome oc;
        hook_collect(r->h, &res);
        outcome_init(&oc);
        outcome_of_hook(&oc, r->c, &r->info, &res);
        oc.task_function = r->info.function;
        oc.task_attempts = r->info.attempts;
        if (rc == 0)
            rc = record_in_tx(e, r->c, r->info.order_id, r->info.task_id, r->fencing, &oc, err);
        outcome_free(&oc);
        hook_result_free(&res);
        info_free(&r->info);
        drop_running(e, i);
        (*progress)++;
    }
    for (size_t k = 0; k < nans; k++) {
        long i = find_request(e, ans[k].pp, ans[k].a.tag);
        if (i >= 0) {
            running *r = &e->run[i];
            outcome oc;
            outcome_init(&oc);
            outcome_of_answer(&oc, r->c, &r->info, ans[k].a.line, ans[k].a.line_len,
                              ans[k].a.error, ans[k].a.err_excerpt, ans[k].a.duration_ms);
            oc.task_function = r->info.function;
            oc.task_attempts = r->info.attempts;
            if (rc == 0)
                rc = record_in_tx(e, r->c, r->info.order_id, r->info.task_id, r->fencing, &oc,
                                  err);
            outcome_free(&oc);
            info_free(&r->info);
            drop_running(e, (size_t)i);
            (*progress)++;
        }
        hookproc_answer_free(&ans[k].a);
    }
    return rc;
}

static int
any_hook_finished(const engine *e)
{
    for (size_t i = 0; i < e->nrun; i++)
        if (e->run[i].h && hook_finished(e->run[i].h))
            return 1;
    return 0;
}

/*
 * One step: record what finished and claim what may run next in the
 * same transaction — the outcomes are durable before anything that
 * depends on them starts, since hooks start only after the commit —
 * then start the claimed hooks, and wait up to wait_ms for some to end.
 */
int
engine_step(engine *e, int64_t wait_ms, int *progress, osm_err *err)
{
    pending_start *ps = NULL;
    size_t cap = 0;
    int rc = 0;

    *progress = 0;
    for (;;) {
        size_t nans = 0, nps = 0;
        taken *ans = take_answers(e, &nans);
        int began = 0, did = 0;

        if (nans || any_hook_finished(e)) {
            if ((rc = store_begin(e->st, err)) != 0) {
                for (size_t k = 0; k < nans; k++)
                    hookproc_answer_free(&ans[k].a);
                free(ans);
                break;
            }
            began = 1;
            rc = record_finished(e, ans, nans, progress, err);
        }
        free(ans);
        if (rc == 0 && can_claim(e)) {
            if (!began && (rc = store_begin(e->st, err)) == 0)
                began = 1;
            if (rc == 0)
                rc = claim_batch(e, &ps, &nps, &cap, &did, err);
        }
        if (!began)
            break;
        if (rc == 0)
            rc = commit(e, err);    /* nothing written costs nothing to commit */
        else
            rollback(e);
        if (rc != 0) {
            /* nothing of the batch happened */
            for (size_t i = 0; i < nps; i++) {
                if (ps[i].pp)
                    ps[i].pp->queued--;
                pending_free(&ps[i]);
            }
            break;
        }
        for (size_t i = 0; i < nps; i++) {
            int r = start_prepared(e, &ps[i], err);
            if (r != 0 && rc == 0)
                rc = r;
        }
        *progress += did;
        if (rc != 0 || did == 0)
            break;
    }
    free(ps);
    if (rc != 0 || e->nrun == 0)
        return rc;
    hook **hs = xcalloc(e->nrun, sizeof *hs);
    hookproc **pr = xcalloc(e->nprocs ? e->nprocs : 1, sizeof *pr);
    size_t nh = 0;
    for (size_t i = 0; i < e->nrun; i++)
        if (e->run[i].h)
            hs[nh++] = e->run[i].h;
    for (size_t i = 0; i < e->nprocs; i++)
        pr[i] = e->procs[i]->p;
    int done = hook_poll_all(hs, nh, pr, e->nprocs, wait_ms);
    free(hs);
    free(pr);
    if (done > 0)
        (*progress)++;      /* what ended is recorded at the next step */
    return 0;
}

/* ------------------------------------------------------------ housekeeping */

int
engine_housekeep(engine *e, osm_err *err)
{
    int rc, applied;
    char prefix[300];
    const char *me = engine_owner();

    snprintf(prefix, sizeof prefix, "%.*s", (int)(strchr(me, ':') - me + 1), me);
    if ((rc = store_begin(e->st, err)) != 0)
        return rc;
    int64_t mark;
    rc = store_task_leases_drop_dead(e->st, prefix, engine_owner_alive, clock_now(), NULL, err);
    if (rc == 0)
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

int
engine_notify(engine *e, int *delivered, int *failed, osm_err *err)
{
    notify_ctx nc = { e->st, e->cat, e->dirs, e->o.conf, e->o.db_path, &e->o.filter };
    return notify_deliver(&nc, delivered, failed, err);
}
