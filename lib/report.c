/*
 * Putting the report together (see report.h): the orders selected, the
 * open work of people on them, and the pages made of them, as one page
 * on a stream or as a directory of pages.
 *
 * The index is made from the brief status documents of the orders
 * selected (the listing of osm-status) and the open work of people
 * (store_task_list(): manual and fallout tasks); its counts are counted
 * from those documents, so that a filtered index counts what it lists,
 * and an index of every order counts what osm-status --summary does.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "json.h"
#include "report-int.h"
#include "store-ops.h"

report *
report_new(status_ctx *sc, const report_opts *opts)
{
    report *r = xcalloc(1, sizeof *r);
    r->sc = sc;
    r->st = status_store(sc);
    r->now = opts->now;
    r->title = xstrdup(opts->title ? opts->title : "Orders");
    r->warn = opts->warn;
    r->ctx = opts->ctx;
    return r;
}

void
report_free(report *r)
{
    if (!r)
        return;
    free(r->title);
    free(r);
}

/* ------------------------------------------------------------ the orders */

typedef struct collector {
    report *r;
    jv docs;
} collector;

static int
collect(jv doc, void *ctx)
{
    collector *c = ctx;
    c->docs = jv_array_append(c->docs, doc);
    return 0;
}

static void
collect_warn(const char *msg, void *ctx)
{
    collector *c = ctx;
    if (c->r->warn)
        c->r->warn(msg, c->r->ctx);
}

/* The brief status documents of the orders selected, into *docs. */
static int
select_orders(report *r, const report_select *sel, jv *docs, osm_err *err)
{
    collector c = { r, jv_array() };
    int rc = 0;

    if (jv_get_kind(sel->ids) == JV_KIND_ARRAY) {
        jv_array_foreach(sel->ids, i, v) {
            jv doc;
            if (rc == 0 && (rc = status_document(r->sc, (int64_t)jv_number_value(v), r->now,
                                                 STATUS_BRIEF, &doc, err)) == 0)
                c.docs = jv_array_append(c.docs, doc);
            jv_free(v);
        }
    } else {
        status_sink sink = { collect, collect_warn, &c };
        rc = status_list(r->sc, sel->filter, sel->pred, r->now, &sink, err);
    }
    if (rc != 0) {
        jv_free(c.docs);
        c.docs = jv_invalid();
    }
    *docs = c.docs;
    return rc;
}

static int
cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The ids of docs, sorted (for bsearch); *n of them. */
static int64_t *
sorted_ids(jv docs, size_t *n)
{
    int len = jv_array_length(jv_copy(docs));
    int64_t *ids = xcalloc((size_t)len + 1, sizeof *ids);
    for (int i = 0; i < len; i++) {
        jv d = jv_array_get(jv_copy(docs), i);
        ids[i] = report_doc_int(d, "id", 0);
        jv_free(d);
    }
    qsort(ids, (size_t)len, sizeof *ids, cmp_id);
    *n = (size_t)len;
    return ids;
}

/*
 * Open manual and fallout tasks waiting for a person (waiting or
 * claimed) of the orders among ids, by workgroup, then id.
 */
static int
read_worklist(report *r, const int64_t *ids, size_t nids, jv *out, osm_err *err)
{
    store_task_query q = { 0 };
    jv all, keep = jv_array(), keys = jv_array();
    int rc;

    q.operator_only = 1;
    *out = jv_invalid();
    if ((rc = store_task_list(r->st, &q, &all, err)) != 0) {
        jv_free(all);
        jv_free(keep);
        jv_free(keys);
        return rc;
    }
    jv_array_foreach(all, i, t) {
        const char *state = json_str(t, "state");
        long long order = 0;
        json_get_int(t, "order", &order);
        int64_t id = order;
        if (state && (strcmp(state, "waiting") == 0 || strcmp(state, "claimed") == 0) &&
            bsearch(&id, ids, nids, sizeof *ids, cmp_id)) {
            const char *wg = json_str(t, "workgroup");
            keys = jv_array_append(keys, JV_ARRAY(jv_string(wg ? wg : ""), json_get(t, "id")));
            keep = jv_array_append(keep, t);
        } else {
            jv_free(t);
        }
    }
    jv_free(all);
    *out = jv_sort(keep, keys);
    return 0;
}

/* ------------------------------------------------------------ one page */

static int
write_out(FILE *f, strbuf *sb, osm_err *err)
{
    int rc = 0;
    errno = 0;
    if (fwrite(sb->buf ? sb->buf : "", 1, sb->len, f) != sb->len || fflush(f) != 0)
        /* said now: what runs after (the store's own calls) changes errno */
        rc = osm_fail(err, OSM_EIO, "%s: %s", f == stdout ? "standard output" : "output",
                      strerror(errno ? errno : EIO));
    sb_reset(sb);
    return rc;
}

int
report_page(report *r, const report_select *sel, FILE *f, osm_err *err)
{
    strbuf sb = STRBUF_INIT;
    jv docs = jv_invalid(), work = jv_invalid();
    int rc;

    if ((rc = select_orders(r, sel, &docs, err)) != 0)
        return rc;
    int n = jv_array_length(jv_copy(docs));
    if (jv_get_kind(sel->ids) == JV_KIND_ARRAY) {
        /* the orders given: read them all before writing anything */
        if (n == 1) {
            jv d = jv_array_get(jv_copy(docs), 0);
            char *title = xasprintf("Order %lld", (long long)report_doc_int(d, "id", 0));
            jv_free(d);
            report_page_begin(&sb, title, NULL);
            free(title);
        } else {
            report_page_begin(&sb, r->title, NULL);
            sb_adds(&sb, "<h1>");
            report_esc(&sb, r->title);
            sb_adds(&sb, "</h1>\n");
        }
        jv_array_foreach(docs, i, d) {
            if (rc == 0)
                rc = report_order(r, report_doc_int(d, "id", 0), n == 1 ? 1 : 2, &sb, err);
            jv_free(d);
        }
        report_page_end(&sb, r->now, 0);
        if (rc == 0)
            rc = write_out(f, &sb, err);
        goto out;
    }

    /* a listing: the index, then each order's page, written as they come */
    size_t nids;
    int64_t *ids = sorted_ids(docs, &nids);
    rc = read_worklist(r, ids, nids, &work, err);
    free(ids);
    if (rc != 0)
        goto out;
    report_page_begin(&sb, r->title, NULL);
    report_index(r, &sb, docs, work, REPORT_LINK_ANCHOR);
    if (n > 0)
        sb_adds(&sb, "<h2 id=\"orders-in-full\">The orders in full</h2>\n");
    rc = write_out(f, &sb, err);
    jv_array_foreach(docs, i, d) {
        int64_t id = report_doc_int(d, "id", 0);
        if (rc == 0 && (rc = report_order(r, id, 2, &sb, err)) == OSM_ENOINPUT) {
            /* purged since it was listed */
            osm_err_clear(err);
            rc = 0;
        }
        if (rc == 0)
            rc = write_out(f, &sb, err);
        jv_free(d);
    }
    if (rc == 0) {
        report_page_end(&sb, r->now, 1);
        rc = write_out(f, &sb, err);
    }
out:
    sb_free(&sb);
    jv_free(docs);
    jv_free(work);
    return rc;
}

/* ------------------------------------------------------------ a directory */

/* A filter page: the orders of docs for which key is value. */
static int
filter_page(report *r, const char *dir, const char *file, const char *title, jv docs,
            const char *key, const char *value, osm_err *err)
{
    strbuf sb = STRBUF_INIT;
    jv some = jv_array();
    int rc;

    jv_array_foreach(docs, i, d) {
        const char *v = json_str(d, key);
        if (v && strcmp(v, value) == 0)
            some = jv_array_append(some, d);
        else
            jv_free(d);
    }
    report_page_begin(&sb, title, "index.html");
    sb_adds(&sb, "<h1>");
    report_esc(&sb, title);
    sb_addf(&sb, "</h1>\n<p>%d order%s, as of ", jv_array_length(jv_copy(some)),
            jv_array_length(jv_copy(some)) == 1 ? "" : "s");
    report_time_ms(&sb, r->now);
    sb_adds(&sb, " UTC.</p>\n");
    report_filter_box(&sb);
    report_orders_table(&sb, some, REPORT_LINK_FILE);
    report_page_end(&sb, r->now, 1);
    rc = report_write_file(dir, file, &sb, err);
    sb_free(&sb);
    jv_free(some);
    return rc;
}

int
report_dir(report *r, const report_select *sel, const char *dir, osm_err *err)
{
    strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
    jv docs = jv_invalid(), work = jv_invalid(), carts = jv_object();
    struct stat sbuf;
    int rc;

    if (mkdir(dir, 0777) != 0) {
        int e = errno;
        if (e != EEXIST)
            return osm_fail(err, e == ENOENT ? OSM_ENOINPUT : OSM_EIO, "%s: %s", dir,
                            strerror(e));
        if (stat(dir, &sbuf) != 0 || !S_ISDIR(sbuf.st_mode))
            return osm_fail(err, OSM_EIO, "%s: not a directory", dir);
    }
    if ((rc = select_orders(r, sel, &docs, err)) != 0)
        goto out;
    size_t nids;
    int64_t *ids = sorted_ids(docs, &nids);
    rc = read_worklist(r, ids, nids, &work, err);
    free(ids);
    if (rc != 0)
        goto out;

    /* the orders' pages first, so that the index never links to a page not yet there */
    jv_array_foreach(docs, i, d) {
        int64_t id = report_doc_int(d, "id", 0);
        const char *cart = json_str(d, "cartridge");
        if (cart)
            carts = jv_object_set(carts, jv_string(cart), jv_true());
        if (rc == 0) {
            char *title = xasprintf("Order %lld", (long long)id);
            char *file = xasprintf("order-%lld.html", (long long)id);
            report_page_begin(&sb, title, "index.html");
            rc = report_order(r, id, 1, &sb, err);
            if (rc == OSM_ENOINPUT) {
                /* purged since it was listed: its page goes with it */
                osm_err_clear(err);
                rc = 0;
            } else if (rc == 0) {
                report_page_end(&sb, r->now, 0);
                rc = report_write_file(dir, file, &sb, err);
            }
            sb_reset(&sb);
            free(title);
            free(file);
        }
        jv_free(d);
    }
    for (size_t s = 0; s < REPORT_NSTATES && rc == 0; s++) {
        int any = 0;
        jv_array_foreach(docs, i, d) {
            const char *st = json_str(d, "state");
            any = any || (st && strcmp(st, report_order_states[s]) == 0);
            jv_free(d);
        }
        if (!any)
            continue;
        char *title = xasprintf("Orders in state %s", report_order_states[s]);
        sb_reset(&name);
        report_state_file(&name, report_order_states[s]);
        rc = filter_page(r, dir, name.buf, title, docs, "state", report_order_states[s], err);
        free(title);
    }
    jv names = jv_keys(jv_copy(carts));
    jv_array_foreach(names, i, cart) {
        if (rc == 0) {
            char *title = xasprintf("Orders of cartridge %s", jv_string_value(cart));
            sb_reset(&name);
            report_cartridge_file(&name, jv_string_value(cart));
            rc = filter_page(r, dir, name.buf, title, docs, "cartridge", jv_string_value(cart),
                             err);
            free(title);
        }
        jv_free(cart);
    }
    jv_free(names);
    if (rc == 0) {
        sb_reset(&sb);
        report_page_begin(&sb, r->title, NULL);
        report_index(r, &sb, docs, work, REPORT_LINK_FILE);
        report_page_end(&sb, r->now, 1);
        rc = report_write_file(dir, "index.html", &sb, err);
    }
out:
    sb_free(&sb);
    sb_free(&name);
    jv_free(docs);
    jv_free(work);
    jv_free(carts);
    return rc;
}
