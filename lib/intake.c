/*
 * Order intake: recognition, validation, transformation and item
 * extraction (see intake.h).  Every problem an order has is collected —
 * a source fixing its order should need one round, not one per problem.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "intake.h"
#include "xalloc.h"

#define MAX_LISTED 6    /* order types named in a "none matched" message */

void
intake_init(intake *in)
{
    memset(in, 0, sizeof *in);
    in->problems = jv_array();
    order_rec_init(&in->rec);
}

void
intake_free(intake *in)
{
    free(in->order_type);
    free(in->fallout_workgroup);
    jv_free(in->problems);
    order_rec_free(&in->rec);
    memset(in, 0, sizeof *in);
}

static void
problem(intake *in, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(intake *in, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    in->problems = jv_array_append(in->problems,
                                   JV_OBJECT(jv_string("path"), jv_string(path),
                                             jv_string("message"), jv_string(msg)));
}

static jv
env_for(int64_t now, jv order, jv item)
{
    char buf[CLOCK_RFC3339_MAX];
    rfc3339_format(now, buf);
    jv env = JV_OBJECT(jv_string("now"), jv_string(buf), jv_string("order"), order);
    if (jv_is_valid(item))
        env = jv_object_set(env, jv_string("item"), item);
    else
        jv_free(item);
    return env;
}

static int
prog(const intake *in, const char *fmt, const char *a)
{
    char key[512];
    snprintf(key, sizeof key, fmt, a);
    return cartridge_prog(in->c, key);
}

/* Does object obj (not consumed) have the key? */
static int
json_has(jv obj, const char *key)
{
    jv v = jv_object_get(jv_copy(obj), jv_string(key));
    int has = jv_is_valid(v);
    jv_free(v);
    return has;
}

/* A short rendering of v for messages (consumed). */
static char *
brief(jv v)
{
    jv s = jv_dump_string(v, 0);
    const char *t = jv_string_value(s);
    char *out = strlen(t) > 60 ? xasprintf("%.57s...", t) : xstrdup(t);
    jv_free(s);
    return out;
}

int
intake_recognise(catalog *cat, jv order, intake *in, osm_err *err)
{
    size_t n;
    const catalog_type *types = catalog_types(cat, &n);
    const catalog_type *won = NULL;
    strbuf tried = STRBUF_INIT, clash = STRBUF_INIT;
    int64_t now = clock_now();
    int nclash = 0;

    if (n == 0)
        return osm_fail(err, OSM_EDATA, "no cartridge is deployed to recognise the order");
    for (size_t i = 0; i < n; i++) {
        const catalog_type *t = &types[i];
        jv out;
        if (won && t->relevancy < won->relevancy)
            break;
        int rc = jqprog_first(t->c->jq, t->recognize, jv_copy(order),
                              env_for(now, jv_copy(order), jv_invalid()), &out, NULL);
        int match = rc == 1 && jqprog_truthy(out);
        jv_free(out);
        if (i < MAX_LISTED)
            sb_addf(&tried, "%s%s:%s", i ? ", " : "", t->c->name, t->name);
        if (!match)
            continue;
        if (!won) {
            won = t;
            sb_addf(&clash, "%s:%s", t->c->name, t->name);
        } else {
            sb_addf(&clash, " and %s:%s", t->c->name, t->name);
            nclash++;
        }
    }
    if (!won) {
        if (n > MAX_LISTED)
            sb_addf(&tried, " and %zu more", n - MAX_LISTED);
        osm_fail(err, OSM_EDATA, "no cartridge recognises the order (tried %s)", tried.buf);
        sb_free(&tried);
        sb_free(&clash);
        return OSM_EDATA;
    }
    if (nclash) {
        osm_fail(err, OSM_EDATA,
                 "order is ambiguous: recognised by %s, all of relevancy %d", clash.buf,
                 won->relevancy);
        sb_free(&tried);
        sb_free(&clash);
        return OSM_EDATA;
    }
    sb_free(&tried);
    sb_free(&clash);
    in->c = won->c;
    free(in->order_type);
    in->order_type = xstrdup(won->name);
    return 0;
}

/* The first workgroup declared with "fallout": true, or NULL. */
static char *
fallout_workgroup(jv manifest, jv ot)
{
    jv w = jv_object_get(jv_copy(ot), jv_string("falloutWorkgroup"));
    if (jv_get_kind(w) != JV_KIND_STRING) {
        jv_free(w);
        w = jv_object_get(jv_copy(manifest), jv_string("falloutWorkgroup"));
    }
    if (jv_get_kind(w) == JV_KIND_STRING) {
        char *s = xstrdup(jv_string_value(w));
        jv_free(w);
        return s;
    }
    jv_free(w);
    char *found = NULL;
    jv wgs = jv_object_get(jv_copy(manifest), jv_string("workgroups"));
    if (jv_get_kind(wgs) == JV_KIND_OBJECT) {
        jv_object_foreach(wgs, name, wg) {
            jv f = jv_object_get(jv_copy(wg), jv_string("fallout"));
            if (!found && jv_get_kind(f) == JV_KIND_TRUE)
                found = xstrdup(jv_string_value(name));
            jv_free(f);
            jv_free(name);
            jv_free(wg);
        }
    }
    jv_free(wgs);
    return found;
}

/* An id (string, or number made a string) or NULL. */
static char *
id_string(jv v)
{
    char *s = NULL;
    if (jv_get_kind(v) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) > 0) {
        s = xstrdup(jv_string_value(v));
    } else if (jv_get_kind(v) == JV_KIND_NUMBER) {
        double d = jv_number_value(v);
        if (d == (double)(long long)d)
            s = xasprintf("%lld", (long long)d);
    }
    jv_free(v);
    return s;
}

/* Run program idx expecting exactly one answer; a jq error is a problem. */
static int
run_value(intake *in, int idx, jv input, jv env, jv *out, const char *path, const char *what)
{
    osm_err e = { 0, "" };
    int rc = jqprog_first(in->c->jq, idx, input, env, out, &e);
    if (rc == 1)
        return 0;
    if (rc == 0)
        problem(in, path, "%s produced no value", what);
    else
        problem(in, path, "%s failed: %s", what, e.msg);
    return -1;
}

static int64_t
date_value(intake *in, jv v, const char *path, const char *what)
{
    int64_t ms = -1;
    if (jv_get_kind(v) == JV_KIND_NULL) {
        jv_free(v);
        return -1;
    }
    if (jv_get_kind(v) != JV_KIND_STRING || rfc3339_parse(jv_string_value(v), &ms) != 0) {
        char *b = brief(v);
        problem(in, path, "%s must be an RFC 3339 date, got %s", what, b);
        free(b);
        return -1;
    }
    jv_free(v);
    return ms;
}

static void
run_validation(intake *in, jv order, int64_t now)
{
    osm_err e = { 0, "" };
    jv out;
    int idx = prog(in, "orderTypes.%s.validate", in->order_type);

    if (jqprog_run(in->c->jq, idx, jv_copy(order), env_for(now, jv_copy(order), jv_invalid()),
                   &out, &e) != 0) {
        problem(in, ".", "validation failed: %s", e.msg);
        jv_free(out);
        return;
    }
    jv_array_foreach(out, i, p) {
        if (jv_get_kind(p) == JV_KIND_OBJECT) {
            jv path = jv_object_get(jv_copy(p), jv_string("path"));
            jv msg = jv_object_get(jv_copy(p), jv_string("message"));
            char *ms = jv_get_kind(msg) == JV_KIND_STRING ? xstrdup(jv_string_value(msg))
                                                          : brief(jv_copy(p));
            problem(in, jv_get_kind(path) == JV_KIND_STRING ? jv_string_value(path) : ".",
                    "%s", ms);
            free(ms);
            jv_free(path);
            jv_free(msg);
            jv_free(p);
        } else if (jv_get_kind(p) == JV_KIND_STRING) {
            problem(in, ".", "%s", jv_string_value(p));
            jv_free(p);
        } else {
            char *b = brief(p);
            problem(in, ".", "%s", b);
            free(b);
        }
    }
    jv_free(out);
}

static void
extract_key(intake *in, jv order, int64_t now)
{
    jv v;
    int idx = prog(in, "orderTypes.%s.key", in->order_type);
    if (run_value(in, idx, jv_copy(order), env_for(now, jv_copy(order), jv_invalid()), &v,
                  ".", "the order key") == 0) {
        if (jv_get_kind(v) == JV_KIND_NULL) {
            jv_free(v);
        } else if (!(in->rec.external_id = id_string(jv_copy(v)))) {
            char *b = brief(jv_copy(v));
            problem(in, ".", "the order key must be a string or a whole number, got %s", b);
            free(b);
            jv_free(v);
        } else {
            jv_free(v);
        }
    }
    idx = prog(in, "orderTypes.%s.revision", in->order_type);
    if (run_value(in, idx, jv_copy(order), env_for(now, jv_copy(order), jv_invalid()), &v,
                  ".", "the revision number") == 0) {
        double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
        if (d < 0 || d != (double)(long long)d || d > 1e15) {
            char *b = brief(jv_copy(v));
            problem(in, ".", "the revision number must be a whole number from 0, got %s", b);
            free(b);
        } else {
            in->rec.revision = (int64_t)d;
        }
        jv_free(v);
    }
}

static void
extract_priority(intake *in, jv internal, int64_t now)
{
    jv ot = jv_object_get(jv_object_get(jv_copy(in->c->manifest), jv_string("orderTypes")),
                          jv_string(in->order_type));
    jv p = jv_object_get(ot, jv_string("priority"));
    jv v = jv_invalid();

    if (jv_get_kind(p) == JV_KIND_NUMBER) {
        v = jv_copy(p);
    } else if (jv_get_kind(p) == JV_KIND_STRING) {
        int idx = prog(in, "orderTypes.%s.priority", in->order_type);
        if (run_value(in, idx, jv_copy(internal), env_for(now, jv_copy(internal), jv_invalid()),
                      &v, ".priority", "the priority") != 0)
            v = jv_invalid();
    } else {
        v = jv_number(5);
    }
    jv_free(p);
    if (jv_is_valid(v)) {
        double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
        if (d < 0 || d > 9 || d != (double)(int)d) {
            char *b = brief(jv_copy(v));
            problem(in, ".priority", "the priority must be a whole number from 0 to 9, got %s", b);
            free(b);
        } else {
            in->rec.priority = (int)d;
        }
    }
    jv_free(v);
}

/* The path of item i for messages: "<items.path>[i]" when that is a plain path. */
static char *
item_path(const intake *in, int i, const char *field)
{
    jv items = jv_object_get(jv_copy(in->c->manifest), jv_string("items"));
    jv path = jv_object_get(items, jv_string("path"));
    const char *p = jv_get_kind(path) == JV_KIND_STRING ? jv_string_value(path) : ".items";
    int plain = p[0] == '.' && p[1] != '@' && strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
                                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") ==
                                                  strlen(p + 1);
    char *out = plain ? xasprintf("%s[%d]%s%s", p, i, field ? "." : "", field ? field : "")
                      : xasprintf(".items[%d]%s%s", i, field ? "." : "", field ? field : "");
    jv_free(path);
    return out;
}

static void
extract_items(intake *in, jv internal, int64_t now)
{
    osm_err e = { 0, "" };
    jv out, list;
    int idx = cartridge_prog(in->c, "items.path");

    if (jqprog_run(in->c->jq, idx, jv_copy(internal),
                   env_for(now, jv_copy(internal), jv_invalid()), &out, &e) != 0) {
        problem(in, ".", "finding the order items failed: %s", e.msg);
        jv_free(out);
        return;
    }
    /* the path may give the array of items, or the items one by one */
    jv first = jv_array_length(jv_copy(out)) == 1 ? jv_array_get(jv_copy(out), 0) : jv_invalid();
    if (jv_get_kind(first) == JV_KIND_ARRAY) {
        list = first;
        jv_free(out);
    } else if (jv_get_kind(first) == JV_KIND_NULL) {
        list = jv_array();
        jv_free(out);
    } else {
        jv_free(first);
        list = out;
    }

    jv ids = jv_object();
    jv_array_foreach(list, i, item) {
        jv v;
        char *id = NULL, *action = NULL, *spec = NULL, *path;
        int64_t requested = -1;
        jv relies = jv_array();
        int ok = 1;

#define ITEM_RUN(field, what)                                                              \
    (path = item_path(in, i, field),                                                       \
     run_value(in, cartridge_prog(in->c, "items." field), jv_copy(item),                   \
               env_for(now, jv_copy(internal), jv_copy(item)), &v, path, what))

        if (ITEM_RUN("id", "the item id") == 0) {
            if (!(id = id_string(jv_copy(v)))) {
                problem(in, path, "the item id must be a string or a whole number");
                ok = 0;
            } else if (json_has(ids, id)) {
                problem(in, path, "duplicate item id \"%s\"", id);
                ok = 0;
            } else {
                ids = jv_object_set(ids, jv_string(id), jv_true());
            }
            jv_free(v);
        } else {
            ok = 0;
        }
        free(path);
        if (ITEM_RUN("action", "the item action") == 0) {
            const char *a = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
            if (strcmp(a, "add") && strcmp(a, "modify") && strcmp(a, "delete") &&
                strcmp(a, "noChange")) {
                char *b = brief(jv_copy(v));
                problem(in, path, "the action must be add, modify, delete or noChange, got %s", b);
                free(b);
                ok = 0;
            } else {
                action = xstrdup(a);
            }
            jv_free(v);
        } else {
            ok = 0;
        }
        free(path);
        if (ITEM_RUN("spec", "the item specification") == 0) {
            if (jv_get_kind(v) == JV_KIND_STRING)
                spec = xstrdup(jv_string_value(v));
            else if (jv_get_kind(v) != JV_KIND_NULL) {
                char *b = brief(jv_copy(v));
                problem(in, path, "the specification must be a string, got %s", b);
                free(b);
                ok = 0;
            }
            jv_free(v);
        } else {
            ok = 0;
        }
        free(path);
        if (ITEM_RUN("reliesOn", "the item relations") == 0) {
            if (jv_get_kind(v) == JV_KIND_NULL) {
                jv_free(v);
            } else if (jv_get_kind(v) != JV_KIND_ARRAY) {
                problem(in, path, "reliesOn must be an array of item ids");
                jv_free(v);
                ok = 0;
            } else {
                jv_array_foreach(v, k, r) {
                    char *rid = id_string(r);
                    if (!rid) {
                        problem(in, path, "reliesOn must be an array of item ids");
                        ok = 0;
                    } else {
                        relies = jv_array_append(relies, jv_string(rid));
                        free(rid);
                    }
                }
                jv_free(v);
            }
        } else {
            ok = 0;
        }
        free(path);
        if (ITEM_RUN("requestedDate", "the item's requested date") == 0) {
            int before = jv_array_length(jv_copy(in->problems));
            requested = date_value(in, v, path, "the requested date");
            if (jv_array_length(jv_copy(in->problems)) != before)
                ok = 0;
        } else {
            ok = 0;
        }
        free(path);
#undef ITEM_RUN
        if (ok)
            order_rec_add_item(&in->rec, id, action, spec, requested, relies, jv_copy(item));
        else
            jv_free(relies);
        free(id);
        free(action);
        free(spec);
        jv_free(item);
    }
    /* every relation must name an item of the order */
    for (size_t i = 0; i < in->rec.nitems; i++) {
        jv_array_foreach(in->rec.items[i].relies_on, k, r) {
            jv known = jv_object_get(jv_copy(ids), jv_copy(r));
            if (!jv_is_valid(known)) {
                char *path = item_path(in, (int)i, "reliesOn");
                problem(in, path, "relies on unknown item \"%s\"", jv_string_value(r));
                free(path);
            }
            jv_free(known);
            jv_free(r);
        }
    }
    jv_free(ids);
    jv_free(list);
}

int
intake_run(intake *in, jv order, int64_t now, osm_err *err)
{
    jv ot = jv_object_get(jv_object_get(jv_copy(in->c->manifest), jv_string("orderTypes")),
                          jv_string(in->order_type));
    jv on_invalid = jv_object_get(jv_copy(ot), jv_string("onInvalid"));
    jv internal;
    osm_err e = { 0, "" };

    (void)err;
    in->fallout = jv_get_kind(on_invalid) == JV_KIND_STRING &&
                  strcmp(jv_string_value(on_invalid), "fallout") == 0;
    jv_free(on_invalid);
    in->fallout_workgroup = fallout_workgroup(in->c->manifest, ot);
    jv_free(ot);

    in->rec.cartridge = xstrdup(in->c->name);
    in->rec.cartridge_version = xstrdup(in->c->version);
    in->rec.order_type = xstrdup(in->order_type);
    in->rec.created_at = now;
    jv_free(in->rec.original);
    in->rec.original = jv_copy(order);

    extract_key(in, order, now);
    run_validation(in, order, now);
    int valid_so_far = jv_array_length(jv_copy(in->problems)) == 0;

    int idx = prog(in, "orderTypes.%s.transform", in->order_type);
    if (jqprog_run1(in->c->jq, idx, jv_copy(order), env_for(now, jv_copy(order), jv_invalid()),
                    &internal, &e) != 0 || jv_get_kind(internal) != JV_KIND_OBJECT) {
        if (valid_so_far) {
            if (e.code)
                problem(in, ".", "transformation failed: %s", e.msg);
            else
                problem(in, ".", "transformation must produce an object");
        }
        jv_free(internal);
        internal = jv_copy(order);
    }
    jv_free(order);
    jv_free(in->rec.body);
    in->rec.body = jv_copy(internal);

    if (valid_so_far) {
        extract_priority(in, internal, now);
        idx = prog(in, "orderTypes.%s.requestedDate", in->order_type);
        jv v;
        if (run_value(in, idx, jv_copy(internal), env_for(now, jv_copy(internal), jv_invalid()),
                      &v, ".", "the requested date") == 0)
            in->rec.requested_at = date_value(in, v, ".", "the requested date");
        extract_items(in, internal, now);
    }
    jv_free(internal);
    free(in->rec.state);
    in->rec.state = xstrdup(jv_array_length(jv_copy(in->problems)) ? "failed" : "not_started");
    return jv_array_length(jv_copy(in->problems)) ? OSM_NEGATIVE : 0;
}

const char *
intake_label(const intake *in, char *buf, size_t len)
{
    if (in->rec.external_id)
        snprintf(buf, len, "order %s", in->rec.external_id);
    else
        snprintf(buf, len, "order");
    return buf;
}
