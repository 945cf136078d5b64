/*
 * Orchestration plans: decomposition of an order into components,
 * dependencies, durations, the critical path and the schedule (see
 * plan.h and osm-plan(1) for the rules).
 */
#include "config.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "plan.h"
#include "xalloc.h"

#define DEFAULT_DURATION_MS 60000

/* Planning state: the plan under construction and where each (item,
 * function) went. */
typedef struct member {
    size_t item;            /* index in o->items */
    const char *function;   /* borrowed from the manifest walk (copied into fn) */
    char *fn;
    int task;
} member;

typedef struct builder {
    cartridge *c;
    const order_rec *o;
    int64_t now;
    plan *p;
    member *m;
    size_t nm;
    jv functions;           /* manifest .functions */
    osm_err *err;
    jv *pattern;            /* per item: its fulfillment pattern, or jv_invalid() */
} builder;

void
plan_init(plan *p)
{
    memset(p, 0, sizeof *p);
    p->start = p->end = -1;
}

static void
task_free(plan_task *t)
{
    free(t->state);
    free(t->function);
    free(t->kind);
    free(t->system);
    free(t->group);
    free(t->workgroup);
    jv_free(t->items);
    for (size_t i = 0; i < t->ndeps; i++) {
        free(t->deps[i].until);
        free(t->deps[i].condition);
        plan_why_free(&t->deps[i].why);
    }
    free(t->deps);
}

void
plan_free(plan *p)
{
    for (size_t i = 0; i < p->ntasks; i++)
        task_free(&p->tasks[i]);
    free(p->tasks);
    free(p->critical_path);
    plan_init(p);
}

static int
fail(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(builder *b, const char *fmt, ...)
{
    char msg[sizeof b->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return osm_fail(b->err, OSM_EDATA, "%s", msg);
}

static jv
member_of(jv obj, const char *key)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return jv_invalid();
    return jv_object_get(jv_copy(obj), jv_string(key));
}

/* obj[k1][k2], not consuming obj. */
static jv
member2(jv obj, const char *k1, const char *k2)
{
    jv a = member_of(obj, k1);
    jv v = member_of(a, k2);
    jv_free(a);
    return v;
}

static const char *
str_of(jv v)
{
    return jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
}

/* Run the cartridge program key over item i; 1 with *out, 0 none, else a status. */
static int
run_item(builder *b, const char *key, size_t i, jv *out)
{
    char now[CLOCK_RFC3339_MAX];
    osm_err e = { 0, "" };
    int idx = cartridge_prog(b->c, key);
    if (idx < 0)
        return fail(b, "internal error: no program %s", key);
    rfc3339_format(b->now, now);
    jv env = JV_OBJECT(jv_string("now"), jv_string(now), jv_string("order"),
                       jv_copy(b->o->body), jv_string("item"), jv_copy(b->o->items[i].data));
    int rc = jqprog_first(b->c->jq, idx, jv_copy(b->o->items[i].data), env, out, &e);
    if (rc != 0 && rc != 1)
        return fail(b, "item %s: %s", b->o->items[i].item_id, e.msg);
    return rc;
}

/* A duration field: fixed ISO 8601, else jq over the item (a duration or seconds). */
static int
duration_of(builder *b, jv holder, const char *field, const char *key, size_t i, int64_t *ms)
{
    jv v = member_of(holder, field);
    int rc = 0;
    if (jv_get_kind(v) == JV_KIND_STRING && duration_parse(jv_string_value(v), ms) == 0) {
        jv_free(v);
        return 1;
    }
    if (jv_get_kind(v) == JV_KIND_STRING) {
        jv out;
        rc = run_item(b, key, i, &out);
        if (rc == 1) {
            if (jv_get_kind(out) == JV_KIND_NUMBER && jv_number_value(out) >= 0)
                *ms = (int64_t)(jv_number_value(out) * 1000);
            else if (jv_get_kind(out) != JV_KIND_STRING ||
                     duration_parse(jv_string_value(out), ms) != 0) {
                jv_free(out);
                jv_free(v);
                return fail(b, "item %s: %s must give an ISO 8601 duration or seconds",
                            b->o->items[i].item_id, key);
            }
        }
        jv_free(out);
        if (rc == 0)
            rc = 0;
    }
    jv_free(v);
    return rc;
}

static int
find_task(plan *p, const char *fn, const char *system, const char *group)
{
    for (size_t i = 0; i < p->ntasks; i++) {
        plan_task *t = &p->tasks[i];
        if (strcmp(t->function, fn) == 0 && strcmp(t->group, group) == 0 &&
            ((!t->system && !system) || (t->system && system && strcmp(t->system, system) == 0)))
            return (int)i;
    }
    return -1;
}

static int
task_has_item(const plan_task *t, const char *item)
{
    int found = 0;
    jv_array_foreach(t->items, k, v) {
        if (!found && strcmp(jv_string_value(v), item) == 0)
            found = 1;
        jv_free(v);
    }
    return found;
}

/* Does the pattern name key hold a wildcard (a glob: "BB-*")? */
static int
is_glob(const char *key)
{
    return strpbrk(key, "*?[") != NULL;
}

/* How specific the glob key is: its characters that are not wildcards. */
static size_t
glob_weight(const char *key)
{
    size_t n = 0;
    for (; *key; key++)
        n += *key != '*' && *key != '?';
    return n;
}

/*
 * The pattern of item i (a new reference, or jv_invalid() when none),
 * by the name the items "pattern" program gives when the cartridge has
 * one and it gives a string, else by the item's specification: the
 * pattern of that name, else the most specific glob matching it ("BB-*"
 * before "*"; equal ones: the first by name).  *rc is set on a jq error.
 */
static jv
pattern_of(builder *b, jv patterns, size_t i, int *rc)
{
    const order_item *it = &b->o->items[i];
    char key[512];
    jv out, chosen = jv_invalid();

    snprintf(key, sizeof key, "orderTypes.%s.items.pattern",
             b->o->order_type ? b->o->order_type : "");
    if (cartridge_prog(b->c, key) < 0)
        snprintf(key, sizeof key, "items.pattern");
    if (cartridge_prog(b->c, key) >= 0) {
        int r = run_item(b, key, i, &out);
        if (r == 1 && jv_get_kind(out) == JV_KIND_STRING)
            chosen = jv_copy(out);
        jv_free(out);
        if (r != 0 && r != 1) {
            *rc = r;
            return jv_invalid();
        }
    }
    const char *spec = jv_is_valid(chosen) ? jv_string_value(chosen) : it->spec ? it->spec : "";
    jv exact = jv_is_valid(chosen) || it->spec ? member_of(patterns, spec) : jv_invalid();
    if (jv_is_valid(exact) || jv_get_kind(patterns) != JV_KIND_OBJECT) {
        jv_free(chosen);
        return exact;
    }
    jv best = jv_invalid();
    const char *best_key = NULL;
    size_t best_weight = 0;
    jv keys = jv_keys(jv_copy(patterns));   /* sorted: ties go to the first */
    jv_array_foreach(keys, k, name) {
        const char *n = jv_string_value(name);
        if (is_glob(n) && fnmatch(n, spec, 0) == 0 &&
            (!best_key || glob_weight(n) > best_weight)) {
            jv_free(best);
            best = member_of(patterns, n);
            best_key = n;
            best_weight = glob_weight(n);
        }
        jv_free(name);
    }
    jv_free(keys);
    jv_free(chosen);
    return best;
}

/* Steps 1-3 and 5: functions per item, systems, components, durations. */
static int
decompose(builder *b)
{
    jv patterns = member_of(b->c->manifest, "patterns");
    const order_rec *o = b->o;
    int rc = 0;

    b->pattern = xcalloc(o->nitems ? o->nitems : 1, sizeof *b->pattern);
    for (size_t i = 0; i < o->nitems; i++)
        b->pattern[i] = jv_invalid();
    for (size_t i = 0; i < o->nitems && rc == 0; i++) {
        const order_item *it = &o->items[i];
        b->pattern[i] = pattern_of(b, patterns, i, &rc);
        if (rc != 0)
            break;
        jv fns = member_of(b->pattern[i], it->action);
        if (jv_get_kind(fns) != JV_KIND_ARRAY) {
            jv_free(fns);
            continue;   /* no pattern: the item needs no work */
        }
        jv_array_foreach(fns, k, name) {
            const char *f = jv_string_value(name);
            jv fn = member_of(b->functions, f);
            char key[512], *system = NULL, *group = NULL;
            jv kindv = member_of(fn, "kind");
            const char *kind = str_of(kindv) ? str_of(kindv) : "automated";
            jv out;

            if (rc != 0)
                goto next;
            /* when */
            snprintf(key, sizeof key, "functions.%s.when", f);
            if (cartridge_prog(b->c, key) >= 0) {
                int r = run_item(b, key, i, &out);
                int applies = r == 1 && jqprog_truthy(out);
                jv_free(out);
                if (r != 0 && r != 1) {
                    rc = r;
                    goto next;
                }
                if (!applies)
                    goto next;
            }
            /* system */
            if (strcmp(kind, "automated") == 0) {
                jv sys = member_of(fn, "system");
                jv decl = member2(b->c->manifest, "systems", str_of(sys) ? str_of(sys) : "");
                if (jv_is_valid(decl)) {
                    system = xstrdup(str_of(sys));
                } else {
                    snprintf(key, sizeof key, "functions.%s.system", f);
                    int r = run_item(b, key, i, &out);
                    if (r == 1 && jv_get_kind(out) == JV_KIND_STRING) {
                        jv d2 = member2(b->c->manifest, "systems", jv_string_value(out));
                        if (jv_is_valid(d2))
                            system = xstrdup(jv_string_value(out));
                        else
                            rc = fail(b, "item %s: the system selector of %s names unknown system \"%s\"",
                                      it->item_id, f, jv_string_value(out));
                        jv_free(d2);
                    } else if (r == 0 || r == 1) {
                        rc = fail(b, "item %s: the system selector of %s gives no system name",
                                  it->item_id, f);
                    } else {
                        rc = r;
                    }
                    jv_free(out);
                }
                jv_free(sys);
                jv_free(decl);
                if (rc != 0)
                    goto next;
            }
            /* group key */
            {
                jv g = member_of(fn, "group");
                const char *gs = str_of(g) ? str_of(g) : "item";
                if (strcmp(gs, "order") == 0)
                    group = xstrdup("order");
                else if (strcmp(gs, "system") == 0)
                    group = xstrdup(system ? system : "order");
                else if (strcmp(gs, "item") == 0)
                    group = xstrdup(it->item_id);
                else {
                    snprintf(key, sizeof key, "functions.%s.group", f);
                    int r = run_item(b, key, i, &out);
                    if (r == 1) {
                        if (jv_get_kind(out) == JV_KIND_STRING)
                            group = xstrdup(jv_string_value(out));
                        else {
                            jv s = jv_dump_string(jv_copy(out), 0);
                            group = xstrdup(jv_string_value(s));
                            jv_free(s);
                        }
                    } else if (r == 0) {
                        rc = fail(b, "item %s: the group key of %s gives no value", it->item_id, f);
                    } else {
                        rc = r;
                    }
                    jv_free(out);
                }
                jv_free(g);
                if (rc != 0)
                    goto next;
            }
            /* the component */
            {
                int t = find_task(b->p, f, system, group);
                if (t < 0) {
                    b->p->tasks = xrealloc(b->p->tasks, (b->p->ntasks + 1) * sizeof *b->p->tasks);
                    plan_task *nt = &b->p->tasks[b->p->ntasks];
                    memset(nt, 0, sizeof *nt);
                    nt->function = xstrdup(f);
                    nt->kind = xstrdup(kind);
                    nt->system = system ? xstrdup(system) : NULL;
                    nt->group = xstrdup(group);
                    jv wg = member_of(fn, "workgroup");
                    if (str_of(wg))
                        nt->workgroup = xstrdup(str_of(wg));
                    jv_free(wg);
                    nt->items = jv_array();
                    nt->deadline = nt->latest_start = nt->not_before = -1;
                    t = (int)b->p->ntasks++;
                }
                plan_task *pt = &b->p->tasks[t];
                if (!task_has_item(pt, it->item_id))
                    pt->items = jv_array_append(pt->items, jv_string(it->item_id));
                /* duration: the longest of its items */
                int64_t ms = -1;
                snprintf(key, sizeof key, "functions.%s.duration", f);
                int r = duration_of(b, fn, "duration", key, i, &ms);
                if (r == 0 && strcmp(kind, "timer") == 0) {
                    snprintf(key, sizeof key, "functions.%s.wait", f);
                    r = duration_of(b, fn, "wait", key, i, &ms);
                }
                if (r != 0 && r != 1) {
                    rc = r;
                    goto next;
                }
                if (ms < 0)
                    ms = DEFAULT_DURATION_MS;
                if (ms > pt->duration_ms)
                    pt->duration_ms = ms;
                /* the item's deadline */
                int64_t d = it->requested_at >= 0 ? it->requested_at : o->requested_at;
                if (d >= 0 && (pt->deadline < 0 || d < pt->deadline))
                    pt->deadline = d;
                /* no work for the item before its (or its order's) requested start */
                int64_t nb = it->start_requested_at > o->start_requested_at
                                 ? it->start_requested_at
                                 : o->start_requested_at;
                if (nb > pt->not_before)
                    pt->not_before = nb;
                b->m = xrealloc(b->m, (b->nm + 1) * sizeof *b->m);
                b->m[b->nm].item = i;
                b->m[b->nm].fn = xstrdup(f);
                b->m[b->nm].function = b->m[b->nm].fn;
                b->m[b->nm].task = t;
                b->nm++;
            }
        next:
            free(system);
            free(group);
            jv_free(kindv);
            jv_free(fn);
            jv_free(name);
        }
        jv_free(fns);
    }
    jv_free(patterns);
    return rc;
}

/* The task holding (item i, function f), or -1. */
static int
task_of(const builder *b, size_t i, const char *f)
{
    for (size_t k = 0; k < b->nm; k++)
        if (b->m[k].item == i && strcmp(b->m[k].fn, f) == 0)
            return b->m[k].task;
    return -1;
}

static char *
strdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void
plan_why_free(plan_why *w)
{
    free(w->item);
    free(w->relies_on);
    memset(w, 0, sizeof *w);
}

char *
plan_why_text(const plan_why *w)
{
    strbuf sb = STRBUF_INIT;
    const char *const names[] = { ",\"item\":", ",\"reliesOn\":" };
    const char *const values[] = { w->item, w->relies_on };

    if (!w->rule)
        return NULL;
    /* once per dependency of every plan saved: no printf */
    sb_adds(&sb, "{\"rule\":\"");
    sb_adds(&sb, w->rule);
    sb_adds(&sb, "\",\"scope\":\"");
    sb_adds(&sb, w->scope);
    sb_adds(&sb, "\"");
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        const char *v = values[k];
        if (!v)
            continue;
        sb_adds(&sb, names[k]);
        /* ids rarely need escaping: write them as they are */
        size_t n = 0;
        while (v[n] && (unsigned char)v[n] >= 0x20 && v[n] != '"' && v[n] != '\\')
            n++;
        if (!v[n]) {
            sb_add(&sb, "\"", 1);
            sb_add(&sb, v, n);
            sb_add(&sb, "\"", 1);
        } else {
            json_append(&sb, jv_string(v), 0);
        }
    }
    if (strcmp(w->rule, "reliesOn") == 0)
        sb_adds(&sb, w->targeted ? ",\"targeted\":true" : ",\"targeted\":false");
    sb_adds(&sb, "}");
    return sb_detach(&sb, NULL);
}

/* A string member of obj (borrowed), copied, or NULL. */
static char *
member_strdup(jv obj, const char *key)
{
    jv v = member_of(obj, key);
    char *s = str_of(v) ? xstrdup(str_of(v)) : NULL;
    jv_free(v);
    return s;
}

void
plan_why_parse(plan_why *w, const char *text)
{
    memset(w, 0, sizeof *w);
    if (!text)
        return;
    jv v = jv_parse(text);
    jv rule = member_of(v, "rule"), scope = member_of(v, "scope");
    const char *r = str_of(rule), *s = str_of(scope);
    if (r && s && (strcmp(r, "after") == 0 || strcmp(r, "reliesOn") == 0)) {
        w->rule = strcmp(r, "after") == 0 ? "after" : "reliesOn";
        w->scope = strcmp(s, "order") == 0 ? "order" : "item";
        w->item = member_strdup(v, "item");
        w->relies_on = member_strdup(v, "reliesOn");
        jv t = member_of(v, "targeted");
        w->targeted = jv_get_kind(t) == JV_KIND_TRUE;
        jv_free(t);
    }
    jv_free(rule);
    jv_free(scope);
    jv_free(v);
}

/*
 * The why document of w, or jv_invalid() when it is not known: {rule,
 * item[, reliesOn, targeted]} (the functions are the two tasks', the
 * scope the dependency's own member).
 */
static jv
why_document(const plan_why *w)
{
    if (!w->rule)
        return jv_invalid();
    jv d = JV_OBJECT(jv_string("rule"), jv_string(w->rule));
    if (w->item)
        d = jv_object_set(d, jv_string("item"), jv_string(w->item));
    if (w->relies_on)
        d = jv_object_set(d, jv_string("reliesOn"), jv_string(w->relies_on));
    if (strcmp(w->rule, "reliesOn") == 0)
        d = jv_object_set(d, jv_string("targeted"), jv_bool(w->targeted));
    return d;
}

/*
 * Make task t wait for task on (once: a second reason keeps the longest
 * delay, and the first reason's why), with the wait and why (its
 * strings borrowed, copied when the dependency is new) of the rule
 * making it.
 */
static void
add_dep(plan *p, int t, int on, int64_t delay, const char *until, const char *condition,
        const plan_why *why)
{
    plan_task *pt = &p->tasks[t];
    if (t == on)
        return;     /* a component never waits for itself */
    for (size_t k = 0; k < pt->ndeps; k++) {
        plan_dep *d = &pt->deps[k];
        if (d->task == on) {
            if (delay > d->delay_ms)
                d->delay_ms = delay;
            if (until && !d->until)
                d->until = xstrdup(until);
            if (condition && !d->condition)
                d->condition = xstrdup(condition);
            return;
        }
    }
    pt->deps = xrealloc(pt->deps, (pt->ndeps + 1) * sizeof *pt->deps);
    plan_dep *d = &pt->deps[pt->ndeps++];
    d->task = on;
    d->delay_ms = delay;
    d->until = until ? xstrdup(until) : NULL;
    d->condition = condition ? xstrdup(condition) : NULL;
    d->why = *why;
    d->why.item = strdup_or_null(why->item);
    d->why.relies_on = strdup_or_null(why->relies_on);
}

/* Does item i have a function it waits for among its own (scope item)? */
static int
has_own_predecessor(const builder *b, size_t i, const char *f)
{
    jv after = member2(b->functions, f, "after");
    int found = 0;
    if (jv_get_kind(after) == JV_KIND_ARRAY) {
        jv_array_foreach(after, k, d) {
            jv g = jv_get_kind(d) == JV_KIND_STRING ? jv_copy(d) : member_of(d, "function");
            if (!found && str_of(g) && task_of(b, i, str_of(g)) >= 0)
                found = 1;
            jv_free(g);
            jv_free(d);
        }
    }
    jv_free(after);
    return found;
}

/* The index in o->items of the item whose id is id, or -1. */
static int
item_of(const order_rec *o, const char *id)
{
    for (size_t i = 0; i < o->nitems; i++)
        if (strcmp(o->items[i].item_id, id) == 0)
            return (int)i;
    return -1;
}

/* Does the array of names list (borrowed) hold name, or is list "*"? */
static int
names_hold(jv list, const char *name)
{
    int found = 0;
    if (jv_get_kind(list) == JV_KIND_STRING)
        return strcmp(jv_string_value(list), "*") == 0 || strcmp(jv_string_value(list), name) == 0;
    if (jv_get_kind(list) != JV_KIND_ARRAY)
        return 0;
    jv_array_foreach(list, k, v) {
        if (!found && jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), name) == 0)
            found = 1;
        jv_free(v);
    }
    return found;
}

/*
 * Member k (item i, function f, task t) relying on the items of its
 * item's reliesOn.  When the item's pattern has a "reliesOn" map, f
 * waits for the functions of the related item that the map lists for f
 * (none when f is not in it); else, as always, the item's first
 * functions (those with no predecessor of their own) wait for every
 * component of the related item.  A component shared with the related
 * item never waits for it.
 */
static void
link_relies(builder *b, size_t i, const char *f, int t)
{
    const order_item *it = &b->o->items[i];
    jv map = member_of(b->pattern[i], "reliesOn");
    int targeted = jv_get_kind(map) == JV_KIND_OBJECT;
    jv targets = targeted ? member_of(map, f) : jv_invalid();

    if (targeted ? !jv_is_valid(targets) : has_own_predecessor(b, i, f)) {
        jv_free(targets);
        jv_free(map);
        return;
    }
    jv_array_foreach(it->relies_on, n, rid) {
        const char *r = jv_string_value(rid);
        int j = item_of(b->o, r);
        if (j >= 0 && !task_has_item(&b->p->tasks[t], r)) {
            for (size_t x = 0; x < b->nm; x++) {
                if (b->m[x].item != (size_t)j || (targeted && !names_hold(targets, b->m[x].fn)))
                    continue;
                plan_task *other = &b->p->tasks[b->m[x].task];
                plan_why why = { "reliesOn", "item", it->item_id, (char *)r, targeted };
                if (!task_has_item(other, it->item_id))
                    add_dep(b->p, t, b->m[x].task, 0, NULL, NULL, &why);
            }
        }
        jv_free(rid);
    }
    jv_free(targets);
    jv_free(map);
}

/* Step 4: dependencies from "after", and from items relying on others. */
static int
link_tasks(builder *b)
{
    const order_rec *o = b->o;
    int rc = 0;

    for (size_t k = 0; k < b->nm && rc == 0; k++) {
        size_t i = b->m[k].item;
        const char *f = b->m[k].fn;
        const char *id = o->items[i].item_id;
        int t = b->m[k].task;
        jv after = member2(b->functions, f, "after");
        if (jv_get_kind(after) == JV_KIND_ARRAY) {
            jv_array_foreach(after, n, d) {
                jv g = jv_get_kind(d) == JV_KIND_STRING ? jv_copy(d) : member_of(d, "function");
                jv scope = member_of(d, "scope");
                int64_t delay = 0;
                char dkey[512], ukey[512], ckey[512];
                snprintf(dkey, sizeof dkey, "functions.%s.after.%d.delay", f, n);
                snprintf(ukey, sizeof ukey, "functions.%s.after.%d.until", f, n);
                snprintf(ckey, sizeof ckey, "functions.%s.after.%d.condition", f, n);
                if (jv_get_kind(d) == JV_KIND_OBJECT) {
                    int r = duration_of(b, d, "delay", dkey, i, &delay);
                    if (r != 0 && r != 1)
                        rc = r;
                    if (delay < 0)
                        delay = 0;
                }
                const char *until = cartridge_prog(b->c, ukey) >= 0 ? ukey : NULL;
                const char *cond = cartridge_prog(b->c, ckey) >= 0 ? ckey : NULL;
                if (rc == 0 && str_of(g)) {
                    int order = str_of(scope) && strcmp(str_of(scope), "order") == 0;
                    plan_why why = { "after", order ? "order" : "item", (char *)id, NULL, 0 };
                    if (order) {
                        for (size_t x = 0; x < b->nm; x++)
                            if (strcmp(b->m[x].fn, str_of(g)) == 0)
                                add_dep(b->p, t, b->m[x].task, delay, until, cond, &why);
                    } else {
                        int on = task_of(b, i, str_of(g));
                        if (on >= 0)
                            add_dep(b->p, t, on, delay, until, cond, &why);
                    }
                }
                jv_free(scope);
                jv_free(g);
                jv_free(d);
            }
        }
        jv_free(after);
        if (rc == 0 && jv_array_length(jv_copy(o->items[i].relies_on)) > 0)
            link_relies(b, i, f, t);
    }
    return rc;
}

static void
describe(strbuf *sb, const plan_task *t)
{
    sb_addf(sb, "%s", t->function);
    if (t->system || strcmp(t->group, "order") != 0) {
        sb_adds(sb, " (");
        if (t->system)
            sb_addf(sb, "%s", t->system);
        if (t->system && strcmp(t->group, t->system) != 0)
            sb_adds(sb, ", ");
        if (!t->system || strcmp(t->group, t->system) != 0)
            sb_addf(sb, "%s%s", strcmp(t->group, "order") == 0 ? "" : "item ", t->group);
        sb_adds(sb, ")");
    }
}

/* Step 4 cont.: order the tasks so that each follows those it waits
 * for; a cycle is an error naming it. */
static int
by_task(const void *a, const void *b)
{
    const plan_dep *x = a, *y = b;
    return (x->task > y->task) - (x->task < y->task);
}

static int
sort_tasks(builder *b)
{
    plan *p = b->p;
    size_t n = p->ntasks;
    int *order = xcalloc(n ? n : 1, sizeof *order), *pos = xcalloc(n ? n : 1, sizeof *pos);
    char *done = xcalloc(n ? n : 1, 1);
    size_t placed = 0;

    /* stable Kahn: repeatedly take the first task whose deps are placed */
    while (placed < n) {
        size_t k;
        for (k = 0; k < n; k++) {
            if (done[k])
                continue;
            size_t d;
            for (d = 0; d < p->tasks[k].ndeps; d++)
                if (!done[p->tasks[k].deps[d].task])
                    break;
            if (d == p->tasks[k].ndeps)
                break;
        }
        if (k == n)
            break;
        done[k] = 1;
        order[placed++] = (int)k;
    }
    if (placed < n) {
        /* walk back from an unplaced task through unplaced deps to a repeat */
        int *seen = xcalloc(n, sizeof *seen), *path = xcalloc(n + 1, sizeof *path);
        int v = -1, len = 0;
        for (size_t k = 0; k < n; k++)
            if (!done[k]) {
                v = (int)k;
                break;
            }
        while (!seen[v]) {
            seen[v] = len + 1;
            path[len++] = v;
            for (size_t d = 0; d < p->tasks[v].ndeps; d++)
                if (!done[p->tasks[v].deps[d].task]) {
                    v = p->tasks[v].deps[d].task;
                    break;
                }
        }
        strbuf sb = STRBUF_INIT;
        /* path[seen[v]-1 .. len-1] is the cycle, each waiting for the
         * next: "a -> b" reads "a waits for b", as in osm-cartridge check */
        for (int k = seen[v] - 1; k < len; k++) {
            describe(&sb, &p->tasks[path[k]]);
            sb_adds(&sb, " -> ");
        }
        describe(&sb, &p->tasks[v]);
        int rc = fail(b, "the plan has a cycle (-> waits for): %s", sb.buf);
        sb_free(&sb);
        free(seen);
        free(path);
        free(order);
        free(pos);
        free(done);
        return rc;
    }
    /* renumber */
    plan_task *sorted = xcalloc(n ? n : 1, sizeof *sorted);
    for (size_t k = 0; k < n; k++)
        pos[order[k]] = (int)k;
    for (size_t k = 0; k < n; k++) {
        sorted[k] = p->tasks[order[k]];
        for (size_t d = 0; d < sorted[k].ndeps; d++)
            sorted[k].deps[d].task = pos[sorted[k].deps[d].task];
        /* in task order, which is id order once stored: the order a
         * stored plan lists them in when it is read back */
        if (sorted[k].ndeps > 1)
            qsort(sorted[k].deps, sorted[k].ndeps, sizeof *sorted[k].deps, by_task);
    }
    free(p->tasks);
    p->tasks = sorted;
    free(order);
    free(pos);
    free(done);
    return 0;
}

static int64_t
max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

void
plan_forward(plan *p, int64_t now)
{
    /* forwards: earliest (dates ignored) and scheduled */
    p->start = p->end = -1;
    p->late_ms = 0;
    for (size_t k = 0; k < p->ntasks; k++) {
        plan_task *t = &p->tasks[k];
        int64_t es = now, ready = now;
        for (size_t d = 0; d < t->ndeps; d++) {
            const plan_task *on = &p->tasks[t->deps[d].task];
            es = max64(es, on->earliest_start + on->duration_ms + t->deps[d].delay_ms);
            ready = max64(ready, on->end + t->deps[d].delay_ms);
        }
        /* a requested start date holds the task however early it could go */
        es = max64(es, t->not_before);
        ready = max64(ready, t->not_before);
        t->earliest_start = es;
        t->start = t->latest_start >= 0 ? max64(ready, t->latest_start) : ready;
        t->end = t->start + t->duration_ms;
        if (t->deadline >= 0 && t->end - t->deadline > p->late_ms)
            p->late_ms = t->end - t->deadline;
        if (p->start < 0 || t->start < p->start)
            p->start = t->start;
        if (t->end > p->end)
            p->end = t->end;
    }
    if (p->ntasks == 0)
        p->start = p->end = now;
}

/* Steps 5-6: schedule, lateness, critical path. */
static void
schedule(plan *p, int64_t now)
{
    size_t n = p->ntasks;
    int64_t *lf = xcalloc(n ? n : 1, sizeof *lf);
    const int64_t NONE = INT64_MAX;

    /* backwards: latest finish from deadlines and successors */
    for (size_t k = 0; k < n; k++)
        lf[k] = p->tasks[k].deadline >= 0 ? p->tasks[k].deadline : NONE;
    for (size_t k = n; k-- > 0;) {
        plan_task *t = &p->tasks[k];
        if (lf[k] != NONE)
            t->latest_start = lf[k] - t->duration_ms;
        for (size_t d = 0; d < t->ndeps; d++) {
            int on = t->deps[d].task;
            if (t->latest_start >= 0 || lf[k] != NONE) {
                int64_t need = t->latest_start - t->deps[d].delay_ms;
                if (lf[on] == NONE || need < lf[on])
                    lf[on] = need;
            }
        }
    }
    plan_forward(p, now);
    /* critical: no slack in the earliest schedule */
    int64_t finish = now;
    for (size_t k = 0; k < n; k++)
        finish = max64(finish, p->tasks[k].earliest_start + p->tasks[k].duration_ms);
    for (size_t k = 0; k < n; k++)
        lf[k] = finish;
    for (size_t k = n; k-- > 0;) {
        plan_task *t = &p->tasks[k];
        int64_t ls = lf[k] - t->duration_ms;
        t->critical = ls == t->earliest_start;
        for (size_t d = 0; d < t->ndeps; d++) {
            int on = t->deps[d].task;
            if (ls - t->deps[d].delay_ms < lf[on])
                lf[on] = ls - t->deps[d].delay_ms;
        }
    }
    free(lf);
}

void
plan_summarise(plan *p)
{
    size_t n = p->ntasks;
    int64_t first = -1, finish = -1;
    int last = -1;

    free(p->critical_path);
    p->critical_path = NULL;
    p->ncritical = 0;
    p->start = p->end = -1;
    for (size_t k = 0; k < n; k++) {
        plan_task *t = &p->tasks[k];
        if (p->start < 0 || t->start < p->start)
            p->start = t->start;
        if (t->end > p->end)
            p->end = t->end;
        if (first < 0 || t->earliest_start < first)
            first = t->earliest_start;
        if (t->critical && (last < 0 || t->earliest_start + t->duration_ms > finish)) {
            last = (int)k;
            finish = t->earliest_start + t->duration_ms;
        }
    }
    p->duration_ms = last >= 0 ? finish - first : 0;
    /* walk back from the critical task that ends last */
    int *rev = xcalloc(n ? n : 1, sizeof *rev);
    size_t m = 0;
    for (int v = last; v >= 0;) {
        rev[m++] = v;
        plan_task *t = &p->tasks[v];
        int next = -1;
        for (size_t d = 0; d < t->ndeps; d++) {
            const plan_task *on = &p->tasks[t->deps[d].task];
            if (on->critical && on->earliest_start + on->duration_ms + t->deps[d].delay_ms ==
                                    t->earliest_start) {
                next = t->deps[d].task;
                break;
            }
        }
        v = next;
    }
    p->critical_path = xcalloc(m ? m : 1, sizeof *p->critical_path);
    for (size_t k = 0; k < m; k++)
        p->critical_path[k] = rev[m - 1 - k];
    p->ncritical = m;
    free(rev);
}

int
plan_build(cartridge *c, const order_rec *o, int64_t now, plan *out, osm_err *err)
{
    builder b = { c, o, now, out, NULL, 0, jv_null(), err, NULL };
    int rc;

    plan_init(out);
    out->planned_at = now;
    b.functions = member_of(c->manifest, "functions");
    rc = decompose(&b);
    if (rc == 0)
        rc = link_tasks(&b);
    if (rc == 0)
        rc = sort_tasks(&b);
    if (rc == 0) {
        schedule(out, now);
        int64_t late = out->late_ms;
        plan_summarise(out);
        out->late_ms = late;
    }
    for (size_t k = 0; k < b.nm; k++)
        free(b.m[k].fn);
    free(b.m);
    for (size_t i = 0; b.pattern && i < o->nitems; i++)
        jv_free(b.pattern[i]);
    free(b.pattern);
    jv_free(b.functions);
    if (rc != 0)
        plan_free(out);
    return rc;
}

void
plan_set_deadlines(plan *p, const order_rec *o)
{
    for (size_t k = 0; k < p->ntasks; k++) {
        plan_task *t = &p->tasks[k];
        t->deadline = t->not_before = -1;
        for (size_t i = 0; i < o->nitems; i++) {
            const order_item *it = &o->items[i];
            if (!task_has_item(t, it->item_id))
                continue;
            int64_t d = it->requested_at >= 0 ? it->requested_at : o->requested_at;
            if (d >= 0 && (t->deadline < 0 || d < t->deadline))
                t->deadline = d;
            int64_t nb = max64(it->start_requested_at, o->start_requested_at);
            if (nb > t->not_before)
                t->not_before = nb;
        }
    }
}

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
duration_str(int64_t ms)
{
    char buf[CLOCK_DURATION_MAX];
    duration_format(ms, buf);
    return jv_string(buf);
}

static jv
key_of(size_t k)
{
    return jv_string_fmt("t%zu", k + 1);
}

jv
plan_document(const plan *p, const order_rec *o)
{
    jv tasks = jv_array(), crit = jv_array();

    for (size_t k = 0; k < p->ntasks; k++) {
        const plan_task *t = &p->tasks[k];
        jv after = jv_array();
        for (size_t d = 0; d < t->ndeps; d++) {
            jv dep = JV_OBJECT(jv_string("task"), key_of((size_t)t->deps[d].task));
            if (t->deps[d].delay_ms > 0)
                dep = jv_object_set(dep, jv_string("delay"), duration_str(t->deps[d].delay_ms));
            if (t->deps[d].until)
                dep = jv_object_set(dep, jv_string("until"), jv_string(t->deps[d].until));
            if (t->deps[d].condition)
                dep = jv_object_set(dep, jv_string("condition"), jv_string(t->deps[d].condition));
            if (t->deps[d].why.rule) {
                dep = jv_object_set(dep, jv_string("scope"), jv_string(t->deps[d].why.scope));
                dep = jv_object_set(dep, jv_string("why"), why_document(&t->deps[d].why));
            }
            after = jv_array_append(after, dep);
        }
        jv doc = JV_OBJECT(jv_string("key"), key_of(k), jv_string("id"),
                           t->id ? jv_number((double)t->id) : jv_null(), jv_string("function"),
                           jv_string(t->function), jv_string("kind"), jv_string(t->kind),
                           jv_string("system"), t->system ? jv_string(t->system) : jv_null(),
                           jv_string("group"), jv_string(t->group));
        doc = jv_object_set(doc, jv_string("items"), jv_copy(t->items));
        doc = jv_object_set(doc, jv_string("state"), jv_string(t->state ? t->state : "pending"));
        if (t->workgroup)
            doc = jv_object_set(doc, jv_string("workgroup"), jv_string(t->workgroup));
        doc = jv_object_set(doc, jv_string("duration"), duration_str(t->duration_ms));
        doc = jv_object_set(doc, jv_string("earliestStart"), time_or_null(t->earliest_start));
        doc = jv_object_set(doc, jv_string("latestStart"), time_or_null(t->latest_start));
        doc = jv_object_set(doc, jv_string("start"), time_or_null(t->start));
        doc = jv_object_set(doc, jv_string("end"), time_or_null(t->end));
        doc = jv_object_set(doc, jv_string("deadline"), time_or_null(t->deadline));
        doc = jv_object_set(doc, jv_string("notBefore"), time_or_null(t->not_before));
        doc = jv_object_set(doc, jv_string("critical"), jv_bool(t->critical));
        doc = jv_object_set(doc, jv_string("after"), after);
        tasks = jv_array_append(tasks, doc);
    }
    for (size_t k = 0; k < p->ncritical; k++)
        crit = jv_array_append(crit, key_of((size_t)p->critical_path[k]));

    jv doc = JV_OBJECT(jv_string("kind"), jv_string("plan"), jv_string("id"),
                       o->id ? jv_number((double)o->id) : jv_null(), jv_string("externalId"),
                       o->external_id ? jv_string(o->external_id) : jv_null(),
                       jv_string("cartridge"), jv_string(o->cartridge),
                       jv_string("cartridgeVersion"), jv_string(o->cartridge_version));
    doc = jv_object_set(doc, jv_string("state"), jv_string(o->state ? o->state : "not_started"));
    doc = jv_object_set(doc, jv_string("planRevision"),
                        jv_number(p->revision > 0 ? (double)p->revision : 1));
    doc = jv_object_set(doc, jv_string("plannedAt"), time_or_null(p->planned_at));
    doc = jv_object_set(doc, jv_string("startDate"), time_or_null(p->start));
    doc = jv_object_set(doc, jv_string("expectedCompletion"), time_or_null(p->end));
    doc = jv_object_set(doc, jv_string("requestedDate"), time_or_null(o->requested_at));
    doc = jv_object_set(doc, jv_string("requestedStartDate"), time_or_null(o->start_requested_at));
    doc = jv_object_set(doc, jv_string("late"), jv_bool(p->late_ms > 0));
    doc = jv_object_set(doc, jv_string("lateBy"),
                        p->late_ms > 0 ? duration_str(p->late_ms) : jv_null());
    doc = jv_object_set(doc, jv_string("duration"), duration_str(p->duration_ms));
    doc = jv_object_set(doc, jv_string("criticalPath"), crit);
    doc = jv_object_set(doc, jv_string("tasks"), tasks);
    return doc;
}
