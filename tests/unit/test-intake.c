/*
 * Unit tests for lib/intake: the combined program each order type gets
 * (intake_derive()) must change nothing but the speed.  Every order of a
 * corpus — the test and example orders, and each of them mutated member
 * by member into every JSON type — goes through intake twice, with the
 * cartridge's combined programs and without them (each program run by
 * itself, as before they existed), and both runs must give the same
 * status, the same problems word for word and the same order document.
 * The tests/fixtures/cartridges/intake-tricky cartridge has programs
 * with several outputs, none, errors and halts on request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "catalog.h"
#include "clock.h"
#include "diag.h"
#include "intake.h"
#include "json.h"
#include "tap.h"
#include "xalloc.h"

static const char *srcdir;

/* What intake makes of order (borrowed) with the catalog: as text. */
static char *
outcome(catalog *cat, jv order)
{
    osm_err err = { 0, "" };
    strbuf sb = STRBUF_INIT;
    intake in;
    int rc;

    intake_init(&in);
    rc = intake_recognise(cat, order, &in, &err);
    sb_addf(&sb, "recognise %d %s\n", rc, rc ? err.msg : in.order_type);
    if (rc == 0) {
        rc = intake_run(&in, jv_copy(order), clock_now(), &err);
        sb_addf(&sb, "run %d fallout %d workgroup %s\n", rc, in.fallout,
                in.fallout_workgroup ? in.fallout_workgroup : "-");
        json_append(&sb, in.problems, 0);
        sb_adds(&sb, "\n");
        jv doc = order_document(&in.rec);
        json_append(&sb, doc, 0);
        jv_free(doc);
    }
    intake_free(&in);
    return sb_detach(&sb, NULL);
}

/* The order with member key set to v (both consumed); v invalid: deleted. */
static jv
mutate(jv order, const char *key, jv v)
{
    if (!jv_is_valid(v)) {
        jv_free(v);
        return jv_object_delete(order, jv_string(key));
    }
    return jv_object_set(order, jv_string(key), v);
}

/*
 * Compare both catalogs on order (consumed) and on each mutation of its
 * members, and of the members of the objects in its arrays.  Counts in
 * *n and *same; keeps the first difference in *diff.
 */
static void
compare_all(catalog *plain, catalog *combined, jv order, int depth, int *n, int *same,
            char **diff)
{
    char *a = outcome(plain, order), *b = outcome(combined, order);

    ++*n;
    if (strcmp(a, b) == 0)
        ++*same;
    else if (!*diff) {
        char *o = json_dump(order, 0);
        *diff = xasprintf("order %s\nalone:    %s\ncombined: %s", o, a, b);
        free(o);
    }
    free(a);
    free(b);
    if (depth > 0 && jv_get_kind(order) == JV_KIND_OBJECT) {
        jv keys = jv_keys(jv_copy(order));
        jv_array_foreach(keys, i, k) {
            const char *key = jv_string_value(k);
            jv member = jv_object_get(jv_copy(order), jv_copy(k));
            jv values[] = {
                jv_invalid(), jv_null(), jv_true(), jv_number(42), jv_number(-1.5),
                jv_string(""), jv_string("x"), jv_array(), jv_object(),
                JV_ARRAY(jv_string("1"), jv_number(2)),
            };
            for (size_t v = 0; v < sizeof values / sizeof *values; v++)
                compare_all(plain, combined, mutate(jv_copy(order), key, values[v]), 0, n,
                            same, diff);
            if (jv_get_kind(member) == JV_KIND_ARRAY) {
                /* the first object in it, mutated */
                jv first = jv_array_get(jv_copy(member), 0);
                if (jv_get_kind(first) == JV_KIND_OBJECT) {
                    jv fk = jv_keys(jv_copy(first));
                    jv_array_foreach(fk, j, k2) {
                        jv vals[] = { jv_invalid(), jv_null(), jv_number(7), jv_string("y"),
                                      jv_array(), JV_ARRAY(jv_string("1")) };
                        for (size_t v = 0; v < sizeof vals / sizeof *vals; v++) {
                            jv m = mutate(jv_copy(first), jv_string_value(k2), vals[v]);
                            jv arr = jv_array_set(jv_copy(member), 0, m);
                            compare_all(plain, combined,
                                        jv_object_set(jv_copy(order), jv_copy(k), arr), 0, n,
                                        same, diff);
                        }
                        jv_free(k2);
                    }
                    jv_free(fk);
                }
                jv_free(first);
            }
            jv_free(member);
            jv_free(k);
        }
        jv_free(keys);
    }
    jv_free(order);
}

/* A catalog of the cartridge directories paths, with or without intake_derive. */
static catalog *
load(const char *const *paths, int derive)
{
    catalog *cat = catalog_new(NULL);
    osm_err err = { 0, "" };

    if (derive)
        catalog_set_derive(cat, intake_derive);
    for (int i = 0; paths[i]; i++) {
        char *p = xasprintf("%s/%s", srcdir, paths[i]);
        if (catalog_use_path(cat, p, &err) != 0) {
            fprintf(stderr, "cannot load %s: %s\n", p, err.msg);
            exit(99);
        }
        free(p);
    }
    return cat;
}

/* The orders of the JSON files paths (an array). */
static jv
orders_of(const char *const *paths)
{
    jv all = jv_array();
    for (int i = 0; paths[i]; i++) {
        char *p = xasprintf("%s/%s", srcdir, paths[i]);
        osm_err err = { 0, "" };
        json_reader *r = json_reader_open(p, &err);
        jv v;
        if (!r) {
            fprintf(stderr, "%s\n", err.msg);
            exit(99);
        }
        while (json_reader_next(r, &v, &err) == 1)
            all = jv_array_append(all, v);
        json_reader_free(r);
        free(p);
    }
    return all;
}

static void
test_same(const char *what, const char *const *carts, const char *const *files,
          const char *const *extra)
{
    catalog *plain = load(carts, 0), *combined = load(carts, 1);
    jv orders = orders_of(files);
    int n = 0, same = 0;
    char *diff = NULL;

    for (int i = 0; extra && extra[i]; i++) {
        osm_err err = { 0, "" };
        jv v = json_parse_str(extra[i], &err);
        if (!jv_is_valid(v)) {
            fprintf(stderr, "bad test JSON: %s: %s\n", extra[i], err.msg);
            exit(99);
        }
        orders = jv_array_append(orders, v);
    }
    jv_array_foreach(orders, i, o)
        compare_all(plain, combined, o, 1, &n, &same, &diff);
    jv_free(orders);
    ok(n > 0 && same == n, "%s: %d orders, the same outcome with the combined program", what,
       n);
    if (diff)
        tap_diag("%s", diff);
    free(diff);
    catalog_free(plain);
    catalog_free(combined);
}

/* The combined program answers for a valid order: it is used, not bypassed. */
static void
test_answers(void)
{
    static const char *const carts[] = { "tests/fixtures/cartridges/gadgets", NULL };
    static const char *const files[] = { "tests/fixtures/orders/gadget-1.json", NULL };
    catalog *cat = load(carts, 1);
    jv orders = orders_of(files), out;
    cartridge *c;
    osm_err err = { 0, "" };
    int idx;

    is_int(catalog_get(cat, "gadgets", "1.0.0", &c, &err), 0, "the cartridge is loaded");
    idx = cartridge_prog(c, "intake.orderTypes.gadget");
    ok(idx >= 0, "intake_derive() added the order type's combined program");
    is_int(jqprog_first(c->jq, idx, jv_array_get(orders, 0),
                        JV_OBJECT(jv_string("now"), jv_string("2026-11-26T10:00:00Z")), &out,
                        &err), 1, "it answers a valid order");
    is_int(jv_array_length(out), 5, "with every answer, the later ones included");
    catalog_free(cat);
}

int
main(void)
{
    static const char *const gadgets[] = {
        "tests/fixtures/cartridges/gadgets", "tests/fixtures/cartridges/gadgets-premium",
        "tests/fixtures/cartridges/minimal", NULL
    };
    static const char *const gadget_orders[] = {
        "tests/fixtures/orders/gadget-1.json", "tests/fixtures/orders/gadget-invalid.json",
        "tests/fixtures/orders/premium-1.json", "tests/fixtures/orders/premium-invalid.json",
        "tests/fixtures/orders/unknown.json", NULL
    };
    static const char *const planner[] = { "tests/fixtures/cartridges/planner", NULL };
    static const char *const plan_orders[] = {
        "tests/fixtures/plan/future.order.json", "tests/fixtures/plan/grouping.order.json",
        "tests/fixtures/plan/itemdate.order.json", "tests/fixtures/plan/late.order.json",
        "tests/fixtures/plan/cycle.order.json", NULL
    };
    static const char *const examples[] = { "examples/broadband", "examples/webshop", NULL };
    static const char *const example_orders[] = {
        "examples/broadband/orders/01-dsl-install.json",
        "examples/broadband/orders/04-dsl-voice.json",
        "examples/broadband/orders/06-future-dated.json",
        "examples/broadband/orders/07-dsl-modify.json",
        "examples/broadband/orders/invalid-several-problems.json",
        "examples/broadband/orders/invalid-past-date.json",
        "examples/webshop/orders/01-single-item.json",
        "examples/webshop/orders/02-gift-wrap.json",
        "examples/webshop/orders/05-download-only.json",
        "examples/webshop/orders/invalid-zero-quantity.json",
        "examples/webshop/orders/unrecognised-mobile-sim.json", NULL
    };
    static const char *const bench[] = { "bench/cartridge", NULL };
    static const char *const bench_orders[] = { "bench/cartridge/order.json", NULL };
    static const char *const tricky[] = { "tests/fixtures/cartridges/intake-tricky", NULL };
    static const char *const no_files[] = { NULL };
    static const char *const tricky_orders[] = {
        "{\"type\": \"tricky\", \"id\": \"T-1\", \"due\": \"2027-01-01T00:00:00Z\","
        " \"defaultSpec\": \"S\", \"items\": [{\"id\": \"1\"}, {\"id\": \"2\", \"spec\": \"S\","
        " \"after\": [\"1\"], \"action\": \"modify\"}, {\"id\": 3, \"after\": \"many\"}]}",
        "{\"type\": \"tricky\", \"id\": 17, \"rev\": 2, \"p\": 9, \"items\": []}",
        "{\"type\": \"tricky\", \"id\": \"T-2\", \"kmany\": true, \"id2\": \"x\","
        " \"tmany\": true, \"itemsmany\": true, \"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}]}",
        "{\"type\": \"tricky\", \"id\": \"T-3\", \"itemsnull\": true, \"items\": [1]}",
        "{\"type\": \"tricky\", \"id\": \"T-4\", \"items\": [\"not an object\", null, 5]}",
        "{\"type\": \"tricky\", \"id\": \"T-4b\", \"items\": {\"a\": {\"id\": \"1\"}}}",
        "{\"type\": \"tricky\", \"id\": \"T-5\", \"bad\": \"yes\", \"when\": \"2020\"}",
        "{\"type\": \"tricky\", \"id\": \"T-6\", \"vmany\": 3, \"tstr\": true}",
        "{\"type\": \"tricky\", \"knone\": true, \"tnone\": true}",
        "{\"type\": \"tricky\", \"kerr\": true, \"rerr\": true, \"terr\": true}",
        "{\"type\": \"tricky\", \"id\": \"T-7\", \"rhalt\": true}",
        "{\"type\": \"tricky\", \"id\": \"T-8\", \"verr\": true}",
        "{\"type\": \"tricky\", \"id\": \"T-9\", \"p\": \"err\", \"items\": [{\"id\": \"1\"}]}",
        "{\"type\": \"tricky\", \"id\": \"T-10\", \"p\": \"none\", \"itemserr\": true}",
        "{\"type\": \"tricky\", \"id\": \"T-11\", \"tstr\": true, \"items\": [{\"id\": \"1\"}]}",
        "{\"type\": \"tricky\", \"id\": \"T-12\", \"tnone\": true, \"items\": [{\"id\": \"1\"}]}",
        "{\"type\": \"tricky\", \"id\": \"T-13\", \"items\": [{\"id\": \"1\"}, {\"id\": \"1\"}]}",
        "{\"type\": \"plain\", \"id\": \"P-1\","
        " \"items\": [{\"id\": \"1\", \"action\": \"drop\"}]}",
        "{\"type\": \"plain\", \"id\": [], \"rev\": 1.5}",
        "{\"type\": \"halting\", \"id\": \"H-0\", \"h\": 0}",
        "{\"type\": \"halting\", \"id\": \"H-1\", \"h\": 1}",
        "{\"type\": \"halting\", \"id\": \"H-2\", \"h\": 2}",
        "{\"type\": \"halting\", \"id\": \"H-3\", \"h\": 3, \"items\": [{\"id\": \"1\"}]}",
        NULL
    };
    osm_err err = { 0, "" };

    srcdir = getenv("OSM_SRCDIR") ? getenv("OSM_SRCDIR") : ".";
    setenv("OSM_NOW", "2026-11-26T10:00:00Z", 1);
    if (clock_init(&err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 99;
    }
    test_answers();
    test_same("gadgets", gadgets, gadget_orders, NULL);
    test_same("planner", planner, plan_orders, NULL);
    test_same("examples", examples, example_orders, NULL);
    test_same("bench", bench, bench_orders, NULL);
    test_same("intake-tricky", tricky, no_files, tricky_orders);
    return done_testing();
}
