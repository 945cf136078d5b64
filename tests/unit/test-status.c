/*
 * lib/status: fulfillment-state composition and the TMF622 mapping, from
 * the data files of a fixtures directory (argv[1], else
 * $OSM_SRCDIR/tests/fixtures/status; see its README), one TAP line per
 * case; then what data files cannot say: lateness, and the summary and
 * event documents.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "diag.h"
#include "json.h"
#include "status.h"
#include "xalloc.h"
#include "tap.h"

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_add(&sb, buf, n);
    fclose(f);
    return sb_detach(&sb, NULL);
}

/* The indices of the state names in list (unknown names give -1). */
static int *
indices(const fulfil_model *m, jv list, size_t *n)
{
    int *out = xcalloc((size_t)jv_array_length(jv_copy(list)) + 1, sizeof *out);
    *n = 0;
    jv_array_foreach(list, i, s) {
        out[(*n)++] = fulfil_state_index(m, jv_string_value(s));
        jv_free(s);
    }
    return out;
}

static const char *
opt_str(jv obj, const char *key)
{
    return json_str(obj, key);
}

static void
run_case(const char *file, const fulfil_model *m, jv c)
{
    const char *name = json_str(c, "name");
    jv expect = json_get(c, "expect");
    const char *want = jv_get_kind(expect) == JV_KIND_STRING ? jv_string_value(expect) : NULL;
    const char *got = NULL;
    jv comp = json_get(c, "component"), item = json_get(c, "item"), order = json_get(c, "order");
    jv tmf = json_get(c, "tmf");

    if (jv_get_kind(comp) == JV_KIND_OBJECT) {
        got = fulfil_state_name(m, fulfil_component(m, opt_str(comp, "system"),
                                                    opt_str(comp, "externalStatus"),
                                                    opt_str(comp, "state")));
    } else if (jv_get_kind(item) == JV_KIND_ARRAY || jv_get_kind(order) == JV_KIND_ARRAY) {
        size_t n;
        int level = jv_get_kind(item) == JV_KIND_ARRAY ? FULFIL_ITEM : FULFIL_ORDER;
        int *states = indices(m, level == FULFIL_ITEM ? item : order, &n);
        got = fulfil_state_name(m, fulfil_compose(m, level, states, n));
        free(states);
    } else if (jv_get_kind(tmf) == JV_KIND_OBJECT) {
        jv any = json_get(tmf, "anyDone");
        got = status_tmf_state(opt_str(tmf, "state"), jv_get_kind(any) == JV_KIND_TRUE);
        jv_free(any);
    } else {
        ok(0, "%s: %s: no component, item, order or tmf", file, name ? name : "?");
        goto out;
    }
    is_str(got, want, "%s: %s", file, name ? name : "?");
out:
    jv_free(expect);
    jv_free(comp);
    jv_free(item);
    jv_free(order);
    jv_free(tmf);
}

static int
is_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static void
run_fixtures(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, is_json, alphasort);

    if (n <= 0) {
        ok(0, "%s: no *.json files", dir);
        if (n == 0)
            free(names);
        return;
    }
    for (int i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]->d_name);
        char *text = slurp(path);
        osm_err err = { 0, "" };
        jv doc = text ? json_parse_str(text, &err) : jv_invalid();
        if (!jv_is_valid(doc)) {
            ok(0, "%s: %s", names[i]->d_name, text ? err.msg : "cannot read");
        } else {
            jv manifest = json_get(doc, "manifest");
            fulfil_model *m = fulfil_model_new(manifest);
            jv cases = json_get(doc, "cases");
            jv_array_foreach(cases, k, c) {
                run_case(names[i]->d_name, m, c);
                jv_free(c);
            }
            jv_free(cases);
            jv_free(manifest);
            fulfil_model_free(m);
        }
        jv_free(doc);
        free(text);
        free(path);
        free(names[i]);
    }
    free(names);
}

/* ------------------------------------------------------------ API */

static void
test_late(void)
{
    store_status_order o;
    memset(&o, 0, sizeof o);
    o.state = "in_progress";
    o.requested_at = 1000;
    o.expected_at = 900;
    o.ended_at = -1;
    is_int(status_late_ms(&o, 500), 0, "late: expected before the requested date");
    is_int(status_late_ms(&o, 1500), 500, "late: open past the requested date, by now");
    o.expected_at = 3000;
    is_int(status_late_ms(&o, 500), 2000, "late: expected after the requested date");
    o.state = "completed";
    o.ended_at = 1200;
    is_int(status_late_ms(&o, 9000), 200, "late: ended after the requested date");
    o.ended_at = 800;
    is_int(status_late_ms(&o, 9000), 0, "late: ended in time");
    o.requested_at = -1;
    is_int(status_late_ms(&o, 9000), 0, "late: no requested date");
}

static void
test_model(void)
{
    jv manifest = jv_parse("{\"fulfillmentStates\": {\"states\": [\"A\", \"A\", \"Fail\", \"B\"],"
                           " \"initial\": \"nosuch\"}}");
    fulfil_model *m = fulfil_model_new(manifest);
    is_int(fulfil_nstates(m), 3, "model: duplicate states are dropped");
    is_int(fulfil_initial(m), 0, "model: an unknown initial state falls back to the first");
    ok(fulfil_is_failure(m, 1), "model: \"Fail\" is a failure state");
    is_str(fulfil_state_name(m, fulfil_done(m)), "B", "model: done is the last non-failure");
    ok(fulfil_state_name(m, 7) == NULL && fulfil_state_name(m, -1) == NULL,
       "model: no name out of range");
    fulfil_model_free(m);
    jv_free(manifest);

    m = fulfil_model_new(jv_null());
    is_int(fulfil_compose(m, FULFIL_ITEM, NULL, 0), -1, "model: no manifest, no state");
    fulfil_model_free(m);
}

static void
test_documents(void)
{
    jv counts = jv_parse("{\"byCartridge\": [[\"a\", \"1.0.0\", \"completed\", 3],"
                         " [\"a\", \"2.0.0\", \"completed\", 2],"
                         " [\"b\", \"1.0.0\", \"failed\", 1]],"
                         " \"openFallout\": 1, \"late\": 0, \"jeopardy\": 1}");
    jv doc = status_summary_document(counts, 0);
    char *text = json_dump(doc, JSON_SORTED);
    ok(strstr(text, "\"orders\":6") != NULL, "summary: total");
    jv carts = json_get(doc, "byCartridge");
    jv a = json_get(carts, "a");
    jv_free(carts);
    jv n = json_get(a, "completed");
    is_int((int)jv_number_value(n), 5, "summary: versions of a cartridge add up");
    jv_free(n);
    jv_free(a);
    jv bs = json_get(doc, "byState");
    is_int(jv_object_length(jv_copy(bs)), 10, "summary: every state is counted");
    jv_free(bs);
    free(text);
    jv_free(doc);

    store_status_event e = { 7, 0, 0, 0, "orders.purged", "root", "not json" };
    doc = status_event_document(&e);
    text = json_dump(doc, 0);
    is_str(text,
           "{\"kind\":\"event\",\"id\":7,\"order\":null,\"task\":null,"
           "\"at\":\"1970-01-01T00:00:00Z\",\"type\":\"orders.purged\",\"actor\":\"root\","
           "\"data\":\"not json\"}",
           "event: a store-wide event, data kept as text when it is not JSON");
    free(text);
    jv_free(doc);
}

int
main(int argc, char **argv)
{
    const char *src = getenv("OSM_SRCDIR");
    char *dir = argc > 1 ? xstrdup(argv[1])
                         : xasprintf("%s/tests/fixtures/status", src ? src : ".");
    diag_init("test-status");
    run_fixtures(dir);
    free(dir);
    test_late();
    test_model();
    test_documents();
    return done_testing();
}
