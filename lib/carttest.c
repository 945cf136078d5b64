/*
 * Cartridge tests (see carttest.h): one throwaway store per test, in a
 * temporary directory removed afterwards; the order goes through the
 * same code as osm-submit --plan and osm-run.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cartfiles.h"
#include "carttest.h"
#include "catalog.h"
#include "clock.h"
#include "engine.h"
#include "intake.h"
#include "json.h"
#include "notify.h"
#include "planner.h"
#include "progress.h"
#include "siteconf.h"
#include "store-async.h"
#include "store-ops.h"
#include "xalloc.h"

#define MAX_ROUNDS 10000

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb;
    (void)type;
    (void)f;
    return remove(path);
}

static void
rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
write_file(const char *path, const void *data, size_t len, osm_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        if (f)
            fclose(f);
        return osm_fail(err, OSM_EIO, "%s: %s", path, strerror(errno));
    }
    return 0;
}

static int
set_now(const char *instant, osm_err *err)
{
    if (instant)
        setenv("OSM_NOW", instant, 1);
    return clock_init(err);
}

/* Put OSM_NOW back as it was (saved: its value, or NULL when unset). */
static void
restore_now(const char *saved)
{
    if (saved)
        setenv("OSM_NOW", saved, 1);
    else
        unsetenv("OSM_NOW");
    clock_init(NULL);
}

/* The final outcome of order id: {state, plan, tasks, order, events}. */
static int
outcome(store *st, int64_t id, jv plandoc, jv *out, osm_err *err)
{
    order_rec o;
    jv tasks, events;
    int rc;

    if ((rc = store_order_get(st, id, &o, err)) != 0)
        return rc;
    store_task_query q = { NULL, NULL, NULL, id, 0 };
    if ((rc = store_task_list(st, &q, &tasks, err)) != 0) {
        order_rec_free(&o);
        return rc;
    }
    if ((rc = store_order_event_types(st, id, &events, err)) != 0) {
        jv_free(tasks);
        order_rec_free(&o);
        return rc;
    }
    jv byfn = jv_object();
    jv_array_foreach(tasks, i, t) {
        jv kind = jv_object_get(jv_copy(t), jv_string("taskKind"));
        jv fn = jv_object_get(jv_copy(t), jv_string("function"));
        jv state = jv_object_get(t, jv_string("state"));
        if (strcmp(jv_string_value(kind), "fallout") != 0) {
            jv had = jv_object_get(jv_copy(byfn), jv_copy(fn));
            if (jv_get_kind(had) == JV_KIND_STRING)
                state = JV_ARRAY(had, state);
            else if (jv_get_kind(had) == JV_KIND_ARRAY)
                state = jv_array_append(had, state);
            else
                jv_free(had);
            byfn = jv_object_set(byfn, jv_copy(fn), state);
        } else {
            jv_free(state);
        }
        jv_free(kind);
        jv_free(fn);
    }
    jv_free(tasks);
    jv fns = jv_array();
    jv ptasks = jv_is_valid(plandoc) ? jv_object_get(jv_copy(plandoc), jv_string("tasks"))
                                     : jv_array();
    if (jv_get_kind(ptasks) == JV_KIND_ARRAY)
        jv_array_foreach(ptasks, i, t)
            fns = jv_array_append(fns, jv_object_get(t, jv_string("function")));
    jv_free(ptasks);
    *out = JV_OBJECT(jv_string("state"), jv_string(o.state), jv_string("plan"), fns,
                     jv_string("tasks"), byfn, jv_string("order"), jv_copy(o.body),
                     jv_string("events"), events);
    order_rec_free(&o);
    return 0;
}

/*
 * Run one test in directory dir: order text, optional hooks (osm.conf
 * text) and now (instants).  *actual is the outcome.
 */
static int
run_one(cartridge *c, const char *dir, const cart_file *order, const cart_file *hooks,
        const cart_file *now, jv *actual, osm_err *err)
{
    char *db = xasprintf("%s/osm.db", dir), *conf_path = xasprintf("%s/osm.conf", dir);
    store_opts so = { 1, 0, 0, 0 };
    store *st = NULL;
    osm_config *conf = NULL;
    catalog *cat = NULL;
    engine *e = NULL;
    jv instants = jv_array(), plandoc = jv_invalid();
    intake in;
    int rc;

    intake_init(&in);
    *actual = jv_invalid();
    if (now) {
        char *text = xstrndup((const char *)now->data, now->size), *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            l[strcspn(l, " \t\r#")] = '\0';
            if (*l)
                instants = jv_array_append(instants, jv_string(l));
        }
        free(text);
    }
    if (jv_array_length(jv_copy(instants)) == 0)
        instants = jv_array_append(instants, jv_null());
    jv first = jv_array_get(jv_copy(instants), 0);
    if ((rc = set_now(jv_get_kind(first) == JV_KIND_STRING ? jv_string_value(first) : NULL,
                      err)) != 0) {
        jv_free(first);
        goto out;
    }
    jv_free(first);
    if (hooks && (rc = write_file(conf_path, hooks->data, hooks->size, err)) != 0)
        goto out;
    if ((rc = hooks ? siteconf_load_file(conf_path, &conf, err) : siteconf_load(db, &conf, err)) != 0)
        goto out;
    if ((rc = store_open(db, &so, &st, err)) != 0)
        goto out;

    /* deploy */
    void *buf;
    size_t len;
    char sha[65];
    int created;
    if ((rc = cartridge_pack(c, &buf, &len, sha, err)) != 0)
        goto out;
    const cart_file *m = cart_files_get(&c->files, CART_MANIFEST);
    store_cartridge sc = { 0 };
    sc.name = c->name;
    sc.version = c->version;
    sc.sha256 = sha;
    sc.manifest = xstrndup((const char *)m->data, m->size);
    sc.archive = buf;
    sc.archive_len = len;
    sc.deployed_at = clock_now();
    if ((rc = store_begin(st, err)) == 0) {
        if ((rc = store_cartridge_put(st, &sc, &created, err)) != 0)
            store_rollback(st);
        else
            rc = store_commit(st, err);
    }
    free(sc.manifest);
    free(buf);
    if (rc != 0)
        goto out;

    /* submit and plan */
    cat = catalog_new(st);
    if ((rc = catalog_use(cat, c->name, c->version, err)) != 0)
        goto out;
    jv ord = json_parse_mem((const char *)order->data, order->size, err);
    if (!jv_is_valid(ord)) {
        jv_free(ord);
        rc = OSM_EDATA;
        goto out;
    }
    if ((rc = intake_recognise(cat, ord, &in, err)) != 0) {
        jv_free(ord);
        goto out;
    }
    rc = intake_run(&in, ord, clock_now(), err);
    if (rc == OSM_NEGATIVE && !in.fallout) {
        *actual = JV_OBJECT(jv_string("state"), jv_string("rejected"), jv_string("problems"),
                            jv_copy(in.problems));
        rc = 0;
        goto out;
    }
    if (rc != 0 && rc != OSM_NEGATIVE)
        goto out;
    if ((rc = store_begin(st, err)) != 0)
        goto out;
    store_fallout fo = { "validate", in.fallout_workgroup,
                         JV_OBJECT(jv_string("message"), jv_string("order is not valid"),
                                   jv_string("problems"), jv_copy(in.problems)) };
    rc = store_order_insert(st, &in.rec, jv_array_length(jv_copy(in.problems)) ? &fo : NULL,
                            "osm-test", err);
    jv_free(fo.error);
    if (rc != 0) {
        store_rollback(st);
        goto out;
    }
    if ((rc = store_commit(st, err)) != 0)
        goto out;
    if (strcmp(in.rec.state, "not_started") == 0 &&
        (rc = planner_plan(st, cat, in.rec.id, 0, "osm-test", &plandoc, err)) != 0)
        goto out;

    /* run at each instant until nothing more can happen */
    engine_opts eo = { 0 };
    eo.db_path = db;
    eo.conf = conf;
    eo.actor = "osm-test";
    eo.jobs = 1;
    eo.filter.orders = JV_ARRAY(jv_number((double)in.rec.id));
    e = engine_new(st, cat, &eo);
    jv_array_foreach(instants, i, at) {
        if (rc == 0 && jv_get_kind(at) == JV_KIND_STRING)
            rc = set_now(jv_string_value(at), err);
        for (int round = 0; rc == 0 && round < MAX_ROUNDS; round++) {
            int moved = 0;
            if ((rc = engine_housekeep(e, err)) != 0)
                break;
            do {
                rc = engine_step(e, 200, &moved, err);
            } while (rc == 0 && (moved || engine_running(e)));
            if (rc == 0)
                rc = engine_notify(e, NULL, NULL, err);
            /* a housekeeping that changed something may free more work */
            int more = 0;
            if (rc == 0 && (rc = engine_step(e, 0, &more, err)) == 0 && !more &&
                !engine_running(e))
                break;
            while (rc == 0 && engine_running(e))
                rc = engine_step(e, 200, &more, err);
        }
        jv_free(at);
    }
    jv_free(eo.filter.orders);
    if (rc == 0)
        rc = outcome(st, in.rec.id, plandoc, actual, err);
out:
    engine_free(e);
    catalog_free(cat);
    store_close(st);
    siteconf_free(conf);
    intake_free(&in);
    jv_free(instants);
    jv_free(plandoc);
    free(db);
    free(conf_path);
    return rc;
}

/* Compare actual with expect, printing TAP diagnostics; 1 when they agree. */
static int
compare(jv expect, jv actual, FILE *out)
{
    int ok = 1;
    if (jv_get_kind(expect) != JV_KIND_OBJECT) {
        fprintf(out, "# NAME.expect.json must be a JSON object\n");
        return 0;
    }
    jv_object_foreach(expect, k, want) {
        const char *key = jv_string_value(k);
        jv got = jv_object_get(jv_copy(actual), jv_copy(k));
        int same;
        if (strcmp(key, "order") == 0)
            same = jv_is_valid(got) && jv_get_kind(got) == jv_get_kind(want) &&
                   jv_contains(jv_copy(got), jv_copy(want));
        else
            same = jv_equal(jv_copy(got), jv_copy(want));
        if (!same) {
            char *w = json_dump(want, 0), *g = json_dump(got, 0);
            if (strcmp(key, "order") == 0)
                fprintf(out, "#   order: expected to contain %s\n#   order:   actual        %s\n",
                        w, g);
            else
                fprintf(out, "#   %s: expected %s\n#   %s:   actual %s\n", key, w, key, g);
            free(w);
            free(g);
            ok = 0;
        }
        jv_free(got);
        jv_free(want);
        jv_free(k);
    }
    return ok;
}

static int
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
carttest_run(const char *path, FILE *out, progress *pg, int *failed, osm_err *err)
{
    cartridge *c;
    int rc, ntests = 0, n = 0;
    char *saved_now = getenv("OSM_NOW") ? xstrdup(getenv("OSM_NOW")) : NULL;

    *failed = 0;
    if ((rc = cartridge_open_path(path, NULL, &c, err)) != 0) {
        free(saved_now);
        return rc;
    }
    for (size_t i = 0; i < c->files.n; i++)
        if (strncmp(c->files.v[i].path, "tests/", 6) == 0 &&
            has_suffix(c->files.v[i].path, ".order.json") && !strchr(c->files.v[i].path + 6, '/'))
            ntests++;
    if (ntests == 0) {
        cartridge_free(c);
        free(saved_now);
        return osm_fail(err, OSM_ENOINPUT, "%s: no tests (tests/NAME.order.json)", path);
    }
    fprintf(out, "1..%d\n", ntests);
    progress_total(pg, ntests);
    progress_set(pg, 0, 0);
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (size_t i = 0; i < c->files.n && rc == 0; i++) {
        const char *p = c->files.v[i].path;
        if (strncmp(p, "tests/", 6) != 0 || !has_suffix(p, ".order.json") || strchr(p + 6, '/'))
            continue;
        char *name = xstrndup(p + 6, strlen(p + 6) - strlen(".order.json"));
        char *ep = xasprintf("tests/%s.expect.json", name);
        char *hp = xasprintf("tests/%s.hooks", name);
        char *np = xasprintf("tests/%s.now", name);
        const cart_file *ef = cart_files_get(&c->files, ep);
        osm_err terr = { 0, "" };
        jv actual = jv_invalid();
        int ok = 0;
        n++;
        restore_now(saved_now);
        {
            char *dir = xasprintf("%s/osm-test.XXXXXX", tmp);
            if (!mkdtemp(dir)) {
                rc = osm_fail(err, OSM_EIO, "%s: %s", dir, strerror(errno));
                free(dir);
                free(name);
                free(ep);
                free(hp);
                free(np);
                break;
            }
            int r = run_one(c, dir, &c->files.v[i], cart_files_get(&c->files, hp),
                            cart_files_get(&c->files, np), &actual, &terr);
            rm_tree(dir);
            free(dir);
            progress_clear(pg);
            if (r != 0) {
                fprintf(out, "not ok %d - %s\n# %s\n", n, name, terr.msg);
            } else if (!ef) {
                /* what it gave, for the author to check and keep */
                jv brief = jv_object_delete(jv_copy(actual), jv_string("order"));
                char *text = json_dump(brief, 0);
                jv_free(brief);
                fprintf(out, "not ok %d - %s\n# %s is missing; the outcome was:\n# %s\n", n,
                        name, ep, text);
                free(text);
            } else {
                jv expect = json_parse_mem((const char *)ef->data, ef->size, &terr);
                if (!jv_is_valid(expect)) {
                    fprintf(out, "not ok %d - %s\n# %s: %s\n", n, name, ep, terr.msg);
                    jv_free(expect);
                } else {
                    /* print the diagnostics after the verdict */
                    char *diag = NULL;
                    size_t dlen = 0;
                    FILE *d = open_memstream(&diag, &dlen);
                    ok = compare(expect, actual, d ? d : out);
                    jv_free(expect);
                    if (d)
                        fclose(d);
                    fprintf(out, "%s %d - %s\n%s", ok ? "ok" : "not ok", n, name,
                            diag ? diag : "");
                    free(diag);
                }
            }
        }
        if (!ok)
            (*failed)++;
        fflush(out);
        progress_set(pg, n, *failed);
        jv_free(actual);
        free(name);
        free(ep);
        free(hp);
        free(np);
    }
    restore_now(saved_now);
    free(saved_now);
    cartridge_free(c);
    return rc;
}
