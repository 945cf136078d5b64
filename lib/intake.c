/*
 * Order intake: recognition, validation, transformation and item
 * extraction (see intake.h).  Every problem an order has is collected —
 * a source fixing its order should need one round, not one per problem.
 *
 * An order type's programs run over the order with the environment
 * {now, order}; its priority, requested date and items path over the
 * transformed order with {now, order: transformed}; the item programs
 * over each item with {now, order: transformed, item}.  Run one by one
 * that is a dozen jq runs per order, and the fixed cost of a run (some
 * 4 us) outweighs the work of most of these programs.  So intake_derive()
 * gives each cartridge, per order type, one more program that runs them
 * all and answers with every output intake needs (intake-derive.c), and
 * intake_run() takes the answers from its one run.  When that run fails
 * — a program's
 * error, a halt — or an answer is unusual, the programs concerned run
 * one by one, as they always did: the messages are then each program's
 * own, word for word.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "intake-int.h"
#include "intake.h"
#include "xalloc.h"

#define MAX_LISTED 6    /* order types named in a "none matched" message */

/* What the steps of one intake_run() share. */
typedef struct run_ctx {
    jqprog *jq;
    jv now;             /* the instant, an RFC 3339 string */
} run_ctx;

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

static int
nproblems(const intake *in)
{
    return jv_array_length(jv_copy(in->problems));
}

/* The instant now as an RFC 3339 string. */
static jv
now_string(int64_t now)
{
    char buf[CLOCK_RFC3339_MAX];
    rfc3339_format(now, buf);
    return jv_string(buf);
}

/* {now, order[, item]} (order and item borrowed; item invalid: none). */
static jv
env_for(const run_ctx *x, jv order, jv item)
{
    jv env = JV_OBJECT(jv_string("now"), jv_copy(x->now), jv_string("order"), jv_copy(order));
    if (jv_is_valid(item))
        env = jv_object_set(env, jv_string("item"), jv_copy(item));
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

/* ------------------------------------------------------------ what JSON cannot carry whole */

/* Append to path the step to member key (borrowed), as jq writes it. */
static void
path_member(strbuf *path, jv key)
{
    const char *k = jv_string_value(key);
    size_t n = (size_t)jv_string_length_bytes(jv_copy(key));
    if (n > 0 && strlen(k) == n && !isdigit((unsigned char)k[0]) &&
        strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n) {
        sb_addf(path, ".%s", k);
    } else {
        jv d = jv_dump_string(jv_copy(key), 0);
        sb_addf(path, "%s[%s]", path->len ? "" : ".", jv_string_value(d));
        jv_free(d);
    }
}

/* Does the string s (borrowed) hold a NUL character? */
static int
has_nul(jv s)
{
    return strlen(jv_string_value(s)) != (size_t)jv_string_length_bytes(jv_copy(s));
}

/*
 * Find text holding a NUL character (\u0000) in v (borrowed), in a
 * string or a member name: the store keeps ids and names as C strings,
 * which would end at it.  Returns 1 with the path of the first in path,
 * else 0 with path as it was.
 */
static int
find_nul(jv v, strbuf *path)
{
    size_t len = path->len;
    int found = 0;

    if (jv_get_kind(v) == JV_KIND_STRING)
        return has_nul(v);
    if (jv_get_kind(v) == JV_KIND_ARRAY) {
        jv_array_foreach(v, i, e) {
            if (!found) {
                sb_addf(path, "%s[%d]", len ? "" : ".", i);
                if (!(found = find_nul(e, path)))
                    path->len = len;
            }
            jv_free(e);
        }
    } else if (jv_get_kind(v) == JV_KIND_OBJECT) {
        jv_object_foreach(v, k, m) {
            if (!found) {
                path_member(path, k);
                if (!(found = has_nul(k) || find_nul(m, path)))
                    path->len = len;
            }
            jv_free(k);
            jv_free(m);
        }
    }
    if (!found && path->buf)
        path->buf[len] = '\0';
    return found;
}

/* The largest magnitude up to which a double holds every integer: 2^53. */
#define EXACT_LIMIT 9007199254740992.0
#define INEXACT_REPORTED 10

/*
 * Refuse the numbers of v (borrowed) past EXACT_LIMIT, each at its path:
 * jq reads numbers as doubles, so an ICCID or MSISDN sent as a number
 * would be kept rounded.  *count counts them; the first
 * INEXACT_REPORTED are listed.
 */
static void
refuse_inexact(intake *in, jv v, strbuf *path, int *count)
{
    size_t len = path->len;

    if (jv_get_kind(v) == JV_KIND_NUMBER) {
        double d = jv_number_value(v);
        if (!((d < 0 ? -d : d) < EXACT_LIMIT) && (*count)++ < INEXACT_REPORTED)
            problem(in, len ? path->buf : ".",
                    "a number this large (2^53 or more) cannot be kept exact: "
                    "send it as a string");
    } else if (jv_get_kind(v) == JV_KIND_ARRAY) {
        jv_array_foreach(v, i, e) {
            sb_addf(path, "%s[%d]", len ? "" : ".", i);
            refuse_inexact(in, e, path, count);
            path->len = len;
            jv_free(e);
        }
    } else if (jv_get_kind(v) == JV_KIND_OBJECT) {
        jv_object_foreach(v, k, m) {
            path_member(path, k);
            refuse_inexact(in, m, path, count);
            path->len = len;
            jv_free(k);
            jv_free(m);
        }
    }
    if (path->buf)
        path->buf[len] = '\0';
}

/* Element i of the array a (borrowed), or jv_invalid(). */
static jv
answer(jv a, int i)
{
    if (jv_get_kind(a) != JV_KIND_ARRAY || i >= jv_array_length(jv_copy(a)))
        return jv_invalid();
    return jv_array_get(jv_copy(a), i);
}

/*
 * The first output of program idx over input with the environment
 * {now, order[, item]} (input, order, item borrowed): taken from the
 * combined program's answer (consumed) when there is one — the output
 * itself when bare and the program intake_single_valued(), else an array
 * of at most the first — or else by running the program.  As
 * jqprog_first(): 1 with *out, 0 when there is none (*out null), or a
 * status with e filled.
 */
static int
first_output(const run_ctx *x, jv answer, int bare, int idx, jv input, jv order, jv item,
             jv *out, osm_err *e)
{
    if (jv_is_valid(answer) && bare && intake_single_valued(jqprog_source(x->jq, idx))) {
        *out = answer;
        return 1;
    }
    if (jv_get_kind(answer) == JV_KIND_ARRAY) {
        int n = jv_array_length(jv_copy(answer));
        if (n == 1) {
            *out = jv_array_get(answer, 0);
            return 1;
        }
        if (n == 0) {
            jv_free(answer);
            *out = jv_null();
            return 0;
        }
    }
    jv_free(answer);
    return jqprog_first(x->jq, idx, jv_copy(input), env_for(x, order, item), out, e);
}

/* Every output of program idx, as first_output() the first. */
static int
all_outputs(const run_ctx *x, jv answer, int idx, jv input, jv order, jv *out, osm_err *e)
{
    if (jv_get_kind(answer) == JV_KIND_ARRAY &&
        jv_array_length(jv_copy(answer)) <= JQPROG_MAX_OUTPUTS) {
        *out = answer;
        return 0;
    }
    jv_free(answer);
    return jqprog_run(x->jq, idx, jv_copy(input), env_for(x, order, jv_invalid()), out, e);
}

int
intake_recognise(catalog *cat, jv order, intake *in, osm_err *err)
{
    size_t n, won = 0, nwon = 0;
    const catalog_type *types = catalog_types(cat, &n);
    run_ctx x = { NULL, jv_invalid() };
    strbuf sb = STRBUF_INIT;
    jv env;

    if (n == 0)
        return osm_fail(err, OSM_EDATA, "no cartridge is deployed to recognise the order");
    if (find_nul(order, &sb)) {
        osm_fail(err, OSM_EDATA,
                 "text at %s holds a NUL character (\\u0000), which cannot be stored",
                 sb.len ? sb.buf : ".");
        sb_free(&sb);
        return OSM_EDATA;
    }
    sb_free(&sb);
    x.now = now_string(clock_now());
    env = env_for(&x, order, jv_invalid());
    /* the matches, among the order types of the first one's relevancy */
    size_t *matched = xmalloc(n * sizeof *matched);
    for (size_t i = 0; i < n; i++) {
        const catalog_type *t = &types[i];
        jv out;
        if (nwon && t->relevancy < types[won].relevancy)
            break;
        int rc = jqprog_first(t->c->jq, t->recognize, jv_copy(order), jv_copy(env), &out, NULL);
        if (rc == 1 && jqprog_truthy(out)) {
            if (!nwon)
                won = i;
            matched[nwon++] = i;
        }
        jv_free(out);
    }
    jv_free(env);
    jv_free(x.now);
    if (nwon == 1) {
        free(matched);
        in->c = types[won].c;
        free(in->order_type);
        in->order_type = xstrdup(types[won].name);
        return 0;
    }
    if (!nwon) {
        for (size_t i = 0; i < n && i < MAX_LISTED; i++)
            sb_addf(&sb, "%s%s:%s", i ? ", " : "", types[i].c->name, types[i].name);
        if (n > MAX_LISTED)
            sb_addf(&sb, " and %zu more", n - MAX_LISTED);
        osm_fail(err, OSM_EDATA, "no cartridge recognises the order (tried %s)", sb.buf);
    } else {
        for (size_t k = 0; k < nwon; k++)
            sb_addf(&sb, "%s%s:%s", k ? " and " : "", types[matched[k]].c->name,
                    types[matched[k]].name);
        osm_fail(err, OSM_EDATA, "order is ambiguous: recognised by %s, all of relevancy %d",
                 sb.buf, types[won].relevancy);
    }
    free(matched);
    sb_free(&sb);
    return OSM_EDATA;
}

/*
 * The answer of order type in->order_type's combined program over order
 * (borrowed), or jv_invalid() when it has none or its run fails.
 */
static jv
combined_answer(const intake *in, const run_ctx *x, jv order)
{
    int idx = prog(in, COMBINED_KEY, in->order_type);
    jv out;

    if (idx < 0)
        return jv_invalid();
    if (jqprog_first(x->jq, idx, jv_copy(order), JV_OBJECT(jv_string("now"), jv_copy(x->now)),
                     &out, NULL) != 1 || jv_get_kind(out) != JV_KIND_ARRAY) {
        jv_free(out);
        return jv_invalid();
    }
    return out;
}

/* ------------------------------------------------------------ the steps */

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
    if (jv_get_kind(v) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) > 0 &&
        !has_nul(v)) {
        s = xstrdup(jv_string_value(v));
    } else if (jv_get_kind(v) == JV_KIND_NUMBER) {
        double d = jv_number_value(v);
        if (d == (double)(long long)d)
            s = xasprintf("%lld", (long long)d);
    }
    jv_free(v);
    return s;
}

/*
 * The path program src reads, when it is a plain path (".a.b", maybe
 * followed by "// LITERAL"), into buf; else NULL.
 */
static const char *
plain_path(const char *src, char *buf, size_t len)
{
    size_t n;

    if (!src || !intake_single_valued(src))
        return NULL;
    while (*src == ' ' || *src == '\t' || *src == '\n' || *src == '\r')
        src++;
    n = strspn(src, ".abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (n < 2 || n >= len)
        return NULL;
    memcpy(buf, src, n);
    buf[n] = '\0';
    return buf;
}

/* The path program idx reads when it is a plain path, else dflt. */
static const char *
prog_path(const intake *in, int idx, const char *dflt, char *buf, size_t len)
{
    const char *p = idx >= 0 ? plain_path(jqprog_source(in->c->jq, idx), buf, len) : NULL;
    return p ? p : dflt;
}

/* Does the member id of v (borrowed) hold the item id id? */
static int
id_is(jv v, const char *id)
{
    jv m = jv_get_kind(v) == JV_KIND_OBJECT ? jv_object_get(jv_copy(v), jv_string("id"))
                                            : jv_invalid();
    char *s = jv_is_valid(m) ? id_string(m) : (jv_free(m), NULL);
    int same = s && strcmp(s, id) == 0;
    free(s);
    return same;
}

/*
 * Find the customer order's item whose id is id in the productOrderItem
 * array of v (borrowed), or of one of its items (a bundle's): TMF622's
 * shape.  Returns the item with its path added to path, or jv_invalid().
 */
static jv
find_customer_item(jv v, const char *id, strbuf *path, int depth)
{
    jv list = jv_get_kind(v) == JV_KIND_OBJECT
                  ? jv_object_get(jv_copy(v), jv_string("productOrderItem"))
                  : jv_invalid();
    size_t len = path->len;
    jv found = jv_invalid();

    if (jv_get_kind(list) == JV_KIND_ARRAY && depth < 8) {
        jv_array_foreach(list, k, e) {
            if (!jv_is_valid(found)) {
                sb_addf(path, ".productOrderItem[%d]", k);
                if (id_is(e, id))
                    found = jv_copy(e);
                else if (!jv_is_valid(found = find_customer_item(e, id, path, depth + 1)))
                    path->len = len;
            }
            jv_free(e);
        }
    }
    jv_free(list);
    if (!jv_is_valid(found) && path->buf)
        path->buf[len] = '\0';
    return found;
}

/*
 * The path in the customer order of item id's field (an items program:
 * "reliesOn", "requestedDate"...) and, for a relation, of its entry on
 * rel: found when the customer order is a TMF622 one holding the item,
 * else NULL.
 */
static char *
customer_path(const intake *in, const char *id, const char *field, const char *rel)
{
    static const struct { const char *field, *member; } tmf[] = {
        { "reliesOn", "productOrderItemRelationship" },
        { "requestedDate", "requestedCompletionDate" },
        { "requestedDate", "requestedDate" },
        { "requestedStartDate", "requestedStartDate" },
        { "action", "action" },
        { "id", "id" },
        { "spec", "product" },
    };
    strbuf sb = STRBUF_INIT;
    jv item;

    if (!id || !jv_is_valid(item = find_customer_item(in->rec.original, id, &sb, 0))) {
        sb_free(&sb);
        return NULL;
    }
    for (size_t k = 0; field && k < sizeof tmf / sizeof *tmf; k++) {
        if (strcmp(tmf[k].field, field) != 0)
            continue;
        jv m = jv_object_get(jv_copy(item), jv_string(tmf[k].member));
        if (!jv_is_valid(m)) {
            jv_free(m);
            continue;
        }
        sb_addf(&sb, ".%s", tmf[k].member);
        if (rel && jv_get_kind(m) == JV_KIND_ARRAY) {
            int at = -1;
            jv_array_foreach(m, j, r) {
                if (at < 0 && id_is(r, rel))
                    at = j;
                jv_free(r);
            }
            if (at >= 0)
                sb_addf(&sb, "[%d]", at);
        }
        jv_free(m);
        break;
    }
    jv_free(item);
    return sb.buf;
}

/*
 * The path of item i (its id, when known, and the relation rel, may be
 * NULL) for messages: in the customer order when it can be found there
 * (customer_path()), else in the internal order, "<items.path>[i]" when
 * that is a plain path.
 */
static char *
item_path(const intake *in, int i, const char *id, const char *field, const char *rel)
{
    char *cust = customer_path(in, id, field, rel);
    if (cust)
        return cust;
    char buf[256], fbuf[256];
    int fidx = field ? intake_item_prog(in->c, in->order_type, field) : -1;
    const char *f = field ? prog_path(in, fidx, NULL, fbuf, sizeof fbuf) : NULL;
    const char *p = prog_path(in, intake_item_prog(in->c, in->order_type, "path"), ".items",
                              buf, sizeof buf);
    f = f ? f + 1 : field;
    return xasprintf("%s[%d]%s%s", p, i, f ? "." : "", f ? f : "");
}

/*
 * Where a problem is, for its message: a path, or (path NULL) field of
 * item i, whose path is made only when a problem needs it.
 */
typedef struct where {
    const char *path;
    const intake *in;
    int i;
    const char *field;
    char *made;
    const char *id;     /* the item's id, once known */
} where;

#define AT(p) (&(where){ (p), NULL, 0, NULL, NULL, NULL })

static const char *
at(where *w)
{
    if (w->path)
        return w->path;
    if (!w->made)
        w->made = item_path(w->in, w->i, w->id, w->field, NULL);
    return w->made;
}

/*
 * The one answer of program idx (see first_output()); no answer or a jq
 * error is a problem at w.
 */
static int
run_value(intake *in, const run_ctx *x, jv answer, int idx, jv input, jv order, jv item,
          jv *out, where *w, const char *what)
{
    osm_err e = { 0, "" };
    int rc = first_output(x, answer, 1, idx, input, order, item, out, &e);
    if (rc == 1)
        return 0;
    if (rc == 0)
        problem(in, at(w), "%s produced no value", what);
    else
        problem(in, at(w), "%s failed: %s", what, e.msg);
    return -1;
}

static int64_t
date_value(intake *in, jv v, where *w, const char *what)
{
    int64_t ms = -1;
    if (jv_get_kind(v) == JV_KIND_NULL) {
        jv_free(v);
        return -1;
    }
    if (jv_get_kind(v) != JV_KIND_STRING || rfc3339_parse(jv_string_value(v), &ms) != 0) {
        char *b = brief(v);
        problem(in, at(w), "%s must be an RFC 3339 date, got %s", what, b);
        free(b);
        return -1;
    }
    jv_free(v);
    return ms;
}

static void
run_validation(intake *in, const run_ctx *x, jv order, jv answer)
{
    osm_err e = { 0, "" };
    jv out;
    int idx = prog(in, "orderTypes.%s.validate", in->order_type);

    if (all_outputs(x, answer, idx, order, order, &out, &e) != 0) {
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

/*
 * A TMF622 v5 externalId, an array of {id, owner, externalIdentifierType}
 * (v consumed): the first entry's id, null for an empty array; anything
 * else as it is.
 */
static jv
key_of_v5(jv v)
{
    if (jv_get_kind(v) != JV_KIND_ARRAY)
        return v;
    if (jv_array_length(jv_copy(v)) == 0) {
        jv_free(v);
        return jv_null();
    }
    jv first = jv_array_get(jv_copy(v), 0);
    jv id = jv_get_kind(first) == JV_KIND_OBJECT ? jv_object_get(first, jv_string("id"))
                                                 : (jv_free(first), jv_invalid());
    if (jv_get_kind(id) == JV_KIND_STRING || jv_get_kind(id) == JV_KIND_NUMBER) {
        jv_free(v);
        return id;
    }
    jv_free(id);
    return v;
}

static void
extract_key(intake *in, const run_ctx *x, jv order, jv key_answer, jv revision_answer)
{
    char buf[256];
    jv v;
    int idx = prog(in, "orderTypes.%s.key", in->order_type);
    const char *kpath = prog_path(in, idx, ".", buf, sizeof buf);
    if (run_value(in, x, key_answer, idx, order, order, jv_invalid(), &v, AT(kpath),
                  "the order key") == 0) {
        v = key_of_v5(v);
        if (jv_get_kind(v) == JV_KIND_NULL) {
            jv_free(v);
        } else if (!(in->rec.external_id = id_string(jv_copy(v)))) {
            char *b = brief(jv_copy(v));
            problem(in, kpath,
                    "the order key must be a string, a whole number or a TMF622 externalId "
                    "array (its first entry's id), got %s: set the order type's \"key\" to a "
                    "jq program giving it, e.g. first(.externalId[] | select(.owner == "
                    "\"crm\") | .id)", b);
            free(b);
            jv_free(v);
        } else {
            jv_free(v);
        }
    }
    idx = prog(in, "orderTypes.%s.revision", in->order_type);
    const char *rpath = prog_path(in, idx, ".", buf, sizeof buf);
    if (run_value(in, x, revision_answer, idx, order, order, jv_invalid(), &v, AT(rpath),
                  "the revision number") == 0) {
        double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
        if (d < 0 || d != (double)(long long)d || d > 1e15) {
            char *b = brief(jv_copy(v));
            problem(in, rpath, "the revision number must be a whole number from 0, got %s", b);
            free(b);
        } else {
            in->rec.revision = (int64_t)d;
        }
        jv_free(v);
    }
}

static void
extract_priority(intake *in, const run_ctx *x, jv internal, jv answer)
{
    jv ot = jv_object_get(jv_object_get(jv_copy(in->c->manifest), jv_string("orderTypes")),
                          jv_string(in->order_type));
    jv p = jv_object_get(ot, jv_string("priority"));
    jv v = jv_invalid();
    char buf[256];
    const char *ppath = ".priority";

    if (jv_get_kind(p) == JV_KIND_NUMBER) {
        v = jv_copy(p);
    } else if (jv_get_kind(p) == JV_KIND_STRING) {
        int idx = prog(in, "orderTypes.%s.priority", in->order_type);
        ppath = prog_path(in, idx, ".priority", buf, sizeof buf);
        if (run_value(in, x, jv_copy(answer), idx, internal, internal, jv_invalid(), &v,
                      AT(ppath), "the priority") != 0)
            v = jv_invalid();
    } else {
        v = jv_number(5);
    }
    jv_free(answer);
    jv_free(p);
    if (jv_is_valid(v)) {
        double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
        /* TMF622 sends its priority as a string: "1" */
        if (jv_get_kind(v) == JV_KIND_STRING && strlen(jv_string_value(v)) == 1 &&
            isdigit((unsigned char)jv_string_value(v)[0]))
            d = jv_string_value(v)[0] - '0';
        if (d < 0 || d > 9 || d != (double)(int)d) {
            char *b = brief(jv_copy(v));
            problem(in, ppath,
                    "the priority must be a whole number from 0 to 9 (or a string holding "
                    "one), got %s", b);
            free(b);
        } else {
            in->rec.priority = (int)d;
        }
    }
    jv_free(v);
}

/* The index in in->rec.items of the item whose id is the string r
 * (borrowed) as index (borrowed) maps it, or -1. */
static int
item_index(jv index, jv r)
{
    jv k = jv_object_get(jv_copy(index), jv_copy(r));
    int i = jv_get_kind(k) == JV_KIND_NUMBER ? (int)jv_number_value(k) : -1;
    jv_free(k);
    return i;
}

/*
 * Refuse a reliesOn cycle among the items of in->rec, naming it ("a ->
 * b -> a": a relies on b, which relies on a), at the first item of the
 * cycle: planning could never order it.  Items are peeled off as in
 * Kahn's sort, in time linear in items and relations; those left over
 * wait on a cycle, found by walking back through the ones left.
 */
static void
check_relies_cycle(intake *in)
{
    size_t n = in->rec.nitems, e = 0, peeled = 0;
    jv index = jv_object();

    if (n == 0) {
        jv_free(index);
        return;
    }
    for (size_t i = 0; i < n; i++)
        index = jv_object_set(index, jv_string(in->rec.items[i].item_id), jv_number((double)i));
    /* dstart/dep: what each item relies on; rstart/rdep: what relies on it */
    size_t *dstart = xcalloc(n + 1, sizeof *dstart), *rstart = xcalloc(n + 2, sizeof *rstart);
    for (size_t i = 0; i < n; i++) {
        jv_array_foreach(in->rec.items[i].relies_on, k, r) {
            int j = item_index(index, r);
            if (j >= 0) {
                dstart[i + 1]++;
                rstart[j + 2]++;
                e++;
            }
            jv_free(r);
        }
    }
    for (size_t i = 0; i < n; i++) {
        dstart[i + 1] += dstart[i];
        rstart[i + 2] += rstart[i + 1];
    }
    int *dep = xcalloc(e ? e : 1, sizeof *dep), *rdep = xcalloc(e ? e : 1, sizeof *rdep);
    size_t *left = xcalloc(n, sizeof *left), *queue = xcalloc(n, sizeof *queue), d = 0;
    for (size_t i = 0; i < n; i++) {
        jv_array_foreach(in->rec.items[i].relies_on, k, r) {
            int j = item_index(index, r);
            if (j >= 0) {
                dep[d++] = j;
                rdep[rstart[j + 1]++] = (int)i;
            }
            jv_free(r);
        }
        left[i] = dstart[i + 1] - dstart[i];
    }
    jv_free(index);
    /* rstart[j] .. rstart[j+1] now spans what relies on j */
    size_t qn = 0;
    for (size_t i = 0; i < n; i++)
        if (!left[i])
            queue[qn++] = i;
    while (peeled < qn) {
        size_t v = queue[peeled++];
        for (size_t k = rstart[v]; k < rstart[v + 1]; k++)
            if (--left[rdep[k]] == 0)
                queue[qn++] = (size_t)rdep[k];
    }
    if (peeled < n) {
        size_t *seen = xcalloc(n, sizeof *seen), *path = xcalloc(n, sizeof *path), len = 0, v = 0;
        while (!left[v])
            v++;
        while (!seen[v]) {
            seen[v] = len + 1;
            path[len++] = v;
            for (size_t k = dstart[v]; k < dstart[v + 1]; k++)
                if (left[dep[k]]) {
                    v = (size_t)dep[k];
                    break;
                }
        }
        strbuf sb = STRBUF_INIT;
        for (size_t k = seen[v] - 1; k < len; k++)
            sb_addf(&sb, "\"%s\" -> ", in->rec.items[path[k]].item_id);
        sb_addf(&sb, "\"%s\"", in->rec.items[v].item_id);
        /* v relies on the next of the cycle (itself for a cycle of one) */
        size_t next = seen[v] < len ? path[seen[v]] : v;
        char *at_item = item_path(in, (int)v, in->rec.items[v].item_id, "reliesOn",
                                  in->rec.items[next].item_id);
        problem(in, at_item, "the items' relations have a cycle (-> relies on): %s", sb.buf);
        free(at_item);
        sb_free(&sb);
        free(seen);
        free(path);
    }
    free(dstart);
    free(rstart);
    free(dep);
    free(rdep);
    free(left);
    free(queue);
}

/*
 * The items of the transformed order internal (borrowed); path_answer
 * and items_answer (consumed) are the combined program's answers for the
 * items path and the item programs, or jv_invalid().
 */
static void
extract_items(intake *in, const run_ctx *x, jv internal, jv path_answer, jv items_answer)
{
    osm_err e = { 0, "" };
    jv out, list;
    int idx = intake_item_prog(in->c, in->order_type, "path");
    /* the item programs, looked up once for every item */
    int ip[] = {
        [A_ID] = intake_item_prog(in->c, in->order_type, "id"),
        [A_ACTION] = intake_item_prog(in->c, in->order_type, "action"),
        [A_SPEC] = intake_item_prog(in->c, in->order_type, "spec"),
        [A_RELIES_ON] = intake_item_prog(in->c, in->order_type, "reliesOn"),
        [A_ITEM_REQUESTED] = intake_item_prog(in->c, in->order_type, "requestedDate"),
        [A_ITEM_REQUESTED_START] = intake_item_prog(in->c, in->order_type, "requestedStartDate"),
    };

    if (all_outputs(x, path_answer, idx, internal, internal, &out, &e) != 0) {
        problem(in, ".", "finding the order items failed: %s", e.msg);
        jv_free(out);
        jv_free(items_answer);
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
    if (jv_get_kind(items_answer) == JV_KIND_ARRAY &&
        jv_array_length(jv_copy(items_answer)) != jv_array_length(jv_copy(list))) {
        jv_free(items_answer);
        items_answer = jv_invalid();
    }

    jv ids = jv_object();
    jv rels = jv_array();   /* [item index, id, reliesOn] of each item refused with an id */
    jv_array_foreach(list, i, item) {
        jv v, fields = answer(items_answer, i);
        char *id = NULL, *action = NULL, *spec = NULL;
        int64_t requested = -1, start = -1;
        jv relies = jv_array();
        int ok = 1;
        where w;

#define ITEM_RUN(n, f, what)                                                               \
    (w = (where){ NULL, in, i, f, NULL, id },                                              \
     run_value(in, x, answer(fields, n), ip[n], item, internal, item, &v, &w, what))

        if (ITEM_RUN(A_ID, "id", "the item id") == 0) {
            if (!(id = id_string(jv_copy(v)))) {
                problem(in, at(&w), "the item id must be a string or a whole number");
                ok = 0;
            } else if (json_has(ids, id)) {
                problem(in, at(&w), "duplicate item id \"%s\"", id);
                ok = 0;
            } else {
                ids = jv_object_set(ids, jv_string(id), jv_true());
            }
            jv_free(v);
        } else {
            ok = 0;
        }
        free(w.made);
        if (ITEM_RUN(A_ACTION, "action", "the item action") == 0) {
            const char *a = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
            if (strcmp(a, "add") && strcmp(a, "modify") && strcmp(a, "delete") &&
                strcmp(a, "noChange")) {
                char *b = brief(jv_copy(v));
                problem(in, at(&w),
                        "the action must be add, modify, delete or noChange, got %s", b);
                free(b);
                ok = 0;
            } else {
                action = xstrdup(a);
            }
            jv_free(v);
        } else {
            ok = 0;
        }
        free(w.made);
        if (ITEM_RUN(A_SPEC, "spec", "the item specification") == 0) {
            if (jv_get_kind(v) == JV_KIND_STRING)
                spec = xstrdup(jv_string_value(v));
            else if (jv_get_kind(v) != JV_KIND_NULL) {
                char *b = brief(jv_copy(v));
                problem(in, at(&w), "the specification must be a string, got %s", b);
                free(b);
                ok = 0;
            }
            jv_free(v);
        } else {
            ok = 0;
        }
        free(w.made);
        if (ITEM_RUN(A_RELIES_ON, "reliesOn", "the item relations") == 0) {
            if (jv_get_kind(v) == JV_KIND_NULL) {
                jv_free(v);
            } else if (jv_get_kind(v) != JV_KIND_ARRAY) {
                problem(in, at(&w), "reliesOn must be an array of item ids");
                jv_free(v);
                ok = 0;
            } else {
                jv_array_foreach(v, k, r) {
                    char *rid = id_string(r);
                    if (!rid) {
                        problem(in, at(&w), "reliesOn must be an array of item ids");
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
        free(w.made);
        if (ITEM_RUN(A_ITEM_REQUESTED, "requestedDate", "the item's requested date") == 0) {
            int before = nproblems(in);
            requested = date_value(in, v, &w, "the requested date");
            if (nproblems(in) != before)
                ok = 0;
        } else {
            ok = 0;
        }
        free(w.made);
        if (ITEM_RUN(A_ITEM_REQUESTED_START, "requestedStartDate",
                     "the item's requested start date") == 0) {
            int before = nproblems(in);
            start = date_value(in, v, &w, "the requested start date");
            if (nproblems(in) != before)
                ok = 0;
        } else {
            ok = 0;
        }
        free(w.made);
#undef ITEM_RUN
        if (!ok && id)
            rels = jv_array_append(rels, JV_ARRAY(jv_number(i), jv_string(id), jv_copy(relies)));
        if (ok) {
            order_rec_add_item(&in->rec, id, action, spec, requested, relies, jv_copy(item));
            in->rec.items[in->rec.nitems - 1].start_requested_at = start;
        } else
            jv_free(relies);
        free(id);
        free(action);
        free(spec);
        jv_free(fields);
        jv_free(item);
    }
    /* every relation must name an item of the order, an item refused for
     * other problems too: one round of fixes should do */
    for (size_t i = 0; i < in->rec.nitems; i++) {
        jv_array_foreach(in->rec.items[i].relies_on, k, r) {
            jv known = jv_object_get(jv_copy(ids), jv_copy(r));
            if (!jv_is_valid(known)) {
                char *path = item_path(in, (int)i, in->rec.items[i].item_id, "reliesOn",
                                       jv_string_value(r));
                problem(in, path, "relies on unknown item \"%s\"", jv_string_value(r));
                free(path);
            }
            jv_free(known);
            jv_free(r);
        }
    }
    jv_array_foreach(rels, n, rel) {
        jv at_i = jv_array_get(jv_copy(rel), 0), rid = jv_array_get(jv_copy(rel), 1);
        jv relies_on = jv_array_get(rel, 2);
        jv_array_foreach(relies_on, k, r) {
            jv known = jv_object_get(jv_copy(ids), jv_copy(r));
            if (!jv_is_valid(known)) {
                char *path = item_path(in, (int)jv_number_value(at_i), jv_string_value(rid),
                                       "reliesOn", jv_string_value(r));
                problem(in, path, "relies on unknown item \"%s\"", jv_string_value(r));
                free(path);
            }
            jv_free(known);
            jv_free(r);
        }
        jv_free(at_i);
        jv_free(rid);
        jv_free(relies_on);
    }
    jv_free(rels);
    check_relies_cycle(in);
    jv_free(ids);
    jv_free(list);
    jv_free(items_answer);
}

int
intake_run(intake *in, jv order, int64_t now, osm_err *err)
{
    jv ot = jv_object_get(jv_object_get(jv_copy(in->c->manifest), jv_string("orderTypes")),
                          jv_string(in->order_type));
    jv on_invalid = jv_object_get(jv_copy(ot), jv_string("onInvalid"));
    run_ctx x = { in->c->jq, now_string(now) };
    jv internal, all, later;
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

    strbuf path = STRBUF_INIT;
    int inexact = 0;
    refuse_inexact(in, order, &path, &inexact);
    if (inexact > INEXACT_REPORTED)
        problem(in, ".", "%d more numbers of 2^53 or more", inexact - INEXACT_REPORTED);
    sb_free(&path);

    all = combined_answer(in, &x, order);
    extract_key(in, &x, order, answer(all, A_KEY), answer(all, A_REVISION));
    /* a bad key or revision does not hide the problems found after it:
     * only an order that fails its validation is not transformed */
    int before = nproblems(in);
    run_validation(in, &x, order, answer(all, A_VALIDATE));
    int valid_so_far = nproblems(in) == before;

    /* a transformation without an output runs again, for its message */
    jv t = answer(all, A_TRANSFORM);
    int idx = prog(in, "orderTypes.%s.transform", in->order_type);
    int rc = first_output(&x, t, 0, idx, order, order, jv_invalid(), &internal, &e);
    if (rc == 0) {
        jv_free(internal);
        rc = jqprog_run1(x.jq, idx, jv_copy(order), env_for(&x, order, jv_invalid()),
                         &internal, &e);
    }
    else if (rc == 1)
        rc = 0;
    if (rc != 0 || jv_get_kind(internal) != JV_KIND_OBJECT) {
        if (valid_so_far) {
            valid_so_far = 0;
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

    later = answer(all, A_LATER);
    if (valid_so_far) {
        extract_priority(in, &x, internal, answer(later, A_PRIORITY));
        char buf[256];
        const char *dpath;
        jv v;
        idx = prog(in, "orderTypes.%s.requestedDate", in->order_type);
        dpath = prog_path(in, idx, ".requestedDate", buf, sizeof buf);
        if (run_value(in, &x, answer(later, A_REQUESTED), idx, internal, internal,
                      jv_invalid(), &v, AT(dpath), "the requested date") == 0)
            in->rec.requested_at = date_value(in, v, AT(dpath), "the requested date");
        idx = prog(in, "orderTypes.%s.requestedStartDate", in->order_type);
        dpath = prog_path(in, idx, ".requestedStartDate", buf, sizeof buf);
        if (run_value(in, &x, answer(later, A_REQUESTED_START), idx, internal, internal,
                      jv_invalid(), &v, AT(dpath), "the requested start date") == 0)
            in->rec.start_requested_at = date_value(in, v, AT(dpath),
                                                    "the requested start date");
        extract_items(in, &x, internal, answer(later, A_ITEMS_PATH), answer(later, A_ITEMS));
    }
    jv_free(later);
    jv_free(all);
    jv_free(internal);
    jv_free(x.now);
    free(in->rec.state);
    in->rec.state = xstrdup(nproblems(in) ? "failed" : "not_started");
    return nproblems(in) ? OSM_NEGATIVE : 0;
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
