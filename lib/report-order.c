/*
 * An order's page of the report (see report.h): its states and dates,
 * items, plan (SVG by dot, or a table), tasks with expected and actual
 * times, the Gantt chart of both, fallout, earlier versions side by
 * side, its data and its history.
 *
 * What the page shows is read in one snapshot of the store: the status
 * document (lib/status.c), the order with its data and its stored plan
 * (lib/store.h), its versions (lib/store-report.h) and its events.  The
 * plan is drawn afterwards, outside the snapshot: dot may take a while.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "planview.h"
#include "report-int.h"
#include "store-report.h"
#include "store-status.h"
#include "store.h"

typedef struct order_data {
    jv status;          /* the status document */
    jv plan;            /* the plan document, or null: not planned */
    jv versions;        /* earlier versions (store_report_versions) */
    jv events;          /* event documents, oldest first */
    jv original, body;  /* the current version: the customer and the internal order */
    int64_t revision;
} order_data;

static void
order_data_free(order_data *d)
{
    jv_free(d->status);
    jv_free(d->plan);
    jv_free(d->versions);
    jv_free(d->events);
    jv_free(d->original);
    jv_free(d->body);
}

static int
collect_event(jv doc, void *ctx)
{
    jv *events = ctx;
    *events = jv_array_append(*events, doc);
    return 0;
}

/* Read everything about order id in one snapshot into *d (order_data_free it). */
static int
read_order(report *r, int64_t id, order_data *d, osm_err *err)
{
    store_status_order o;
    order_rec rec;
    plan p;
    int rc;

    d->status = jv_null();
    d->plan = jv_null();
    d->versions = jv_array();
    d->events = jv_array();
    d->original = jv_null();
    d->body = jv_null();
    d->revision = 0;
    if ((rc = store_status_read_begin(r->st, err)) != 0)
        return rc;
    if ((rc = store_status_order_get(r->st, id, &o, err)) != 0)
        goto out;
    jv_free(d->status);
    rc = status_document_row(r->sc, &o, r->now, 0, &d->status, err);
    store_status_order_free(&o);
    if (rc != 0 || (rc = store_order_get(r->st, id, &rec, err)) != 0)
        goto out;
    rc = store_plan_load(r->st, &rec, &p, err);
    if (rc == 0) {
        jv_free(d->plan);
        d->plan = plan_document(&p, &rec);
        plan_free(&p);
    } else if (rc == OSM_ENOINPUT) {
        osm_err_clear(err);
        rc = 0;
    }
    jv_free(d->original);
    jv_free(d->body);
    d->original = jv_copy(rec.original);
    d->body = jv_copy(rec.body);
    d->revision = rec.revision;
    order_rec_free(&rec);
    if (rc != 0)
        goto out;
    jv_free(d->versions);
    if ((rc = store_report_versions(r->st, id, &d->versions, err)) != 0)
        goto out;
    status_sink sink = { collect_event, NULL, &d->events };
    rc = status_history(r->sc, id, -1, NULL, r->now, &sink, err);
out:
    store_status_read_end(r->st);
    if (rc != 0)
        order_data_free(d);
    return rc;
}

/* ------------------------------------------------------------ helpers */

/* The item ids of a task (borrowed), comma-separated. */
static void
add_items(strbuf *sb, jv task)
{
    jv items = json_get(task, "items");
    int n = 0;
    if (jv_get_kind(items) == JV_KIND_ARRAY) {
        jv_array_foreach(items, i, it) {
            if (n++)
                sb_adds(sb, ", ");
            if (jv_get_kind(it) == JV_KIND_STRING)
                report_esc(sb, jv_string_value(it));
            else
                report_json(sb, it, 0);
            jv_free(it);
        }
    }
    jv_free(items);
    if (!n)
        report_text(sb, NULL);
}

/* A span of time: "START – END", "from START", "until END", or a dash. */
static void
add_span(strbuf *sb, int64_t a, int64_t b)
{
    if (a < 0 && b < 0) {
        report_text(sb, NULL);
        return;
    }
    if (a < 0)
        sb_adds(sb, "until ");
    else if (b < 0)
        sb_adds(sb, "from ");
    if (a >= 0)
        report_time_ms(sb, a);
    if (a >= 0 && b >= 0)
        sb_adds(sb, " \xe2\x80\x93 ");
    if (b >= 0)
        report_time_ms(sb, b);
}

/* ------------------------------------------------------------ facts */

static void
fact(strbuf *sb, const char *term)
{
    sb_addf(sb, "<dt>%s</dt><dd>", term);
}

static void
facts(strbuf *sb, jv st)
{
    long long n;

    sb_adds(sb, "<dl class=\"facts\">\n");
    fact(sb, "State");
    report_state(sb, json_str(st, "state"));
    if (json_str(st, "reason")) {
        sb_adds(sb, " ");
        report_esc(sb, json_str(st, "reason"));
    }
    sb_adds(sb, "</dd>\n");
    fact(sb, "TMF622 state");
    report_text(sb, json_str(st, "tmfState"));
    sb_adds(sb, "</dd>\n");
    fact(sb, "Fulfillment state");
    report_text(sb, json_str(st, "fulfillmentState"));
    sb_adds(sb, "</dd>\n");
    fact(sb, "Processing state");
    report_state(sb, json_str(st, "processingState"));
    sb_adds(sb, "</dd>\n");
    fact(sb, "Flags");
    int any = 0;
    jv v = json_get(st, "late");
    if (jv_get_kind(v) == JV_KIND_TRUE) {
        sb_adds(sb, "<span class=\"flag flag-late\">late</span> by ");
        report_text(sb, json_str(st, "lateBy"));
        any = 1;
    }
    jv_free(v);
    v = json_get(st, "jeopardy");
    if (jv_get_kind(v) == JV_KIND_TRUE) {
        sb_adds(sb, any ? "; " : "");
        sb_adds(sb, "<span class=\"flag flag-jeopardy\">jeopardy</span> since ");
        report_time(sb, json_str(st, "jeopardyAt"));
        any = 1;
    }
    jv_free(v);
    if (json_get_int(st, "openFallout", &n) == 1 && n > 0) {
        sb_adds(sb, any ? "; " : "");
        sb_addf(sb, "<span class=\"flag flag-fallout\">fallout</span> %lld open task%s", n,
                n == 1 ? "" : "s");
        any = 1;
    }
    if (!any)
        sb_adds(sb, "none: on time, nothing stuck");
    sb_adds(sb, "</dd>\n");
    fact(sb, "Progress");
    report_progress(sb, st);
    sb_adds(sb, " tasks done</dd>\n");
    fact(sb, "Cartridge");
    report_text(sb, json_str(st, "cartridge"));
    sb_adds(sb, " ");
    report_esc(sb, json_str(st, "cartridgeVersion"));
    sb_adds(sb, ", order type ");
    report_text(sb, json_str(st, "orderType"));
    sb_adds(sb, "</dd>\n");
    fact(sb, "Revision, priority");
    report_field(sb, st, "revision");
    sb_adds(sb, ", priority ");
    report_field(sb, st, "priority");
    sb_adds(sb, "</dd>\n");
    static const char *const dates[][2] = {
        { "requestedDate", "Requested" }, { "startDate", "Start (planned)" },
        { "expectedCompletion", "Expected completion" }, { "createdAt", "Received" },
        { "startedAt", "Started" }, { "updatedAt", "Last change" }, { "endedAt", "Ended" },
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        fact(sb, dates[i][1]);
        report_time(sb, json_str(st, dates[i][0]));
        sb_adds(sb, "</dd>\n");
    }
    sb_adds(sb, "</dl>\n");
}

/* ------------------------------------------------------------ items, tasks */

static void
items_table(strbuf *sb, jv st, int level)
{
    jv items = json_get(st, "items");
    int n = jv_get_kind(items) == JV_KIND_ARRAY ? jv_array_length(jv_copy(items)) : 0;

    report_heading(sb, level, "Items");
    if (n == 0) {
        sb_adds(sb, "<p>No items.</p>\n");
        jv_free(items);
        return;
    }
    sb_adds(sb, "<div class=\"scroll\"><table class=\"items\">\n<thead><tr><th scope=\"col\">Item"
                "</th><th scope=\"col\">Action</th><th scope=\"col\">Specification</th>"
                "<th scope=\"col\">Fulfillment state</th></tr></thead>\n<tbody>\n");
    jv_array_foreach(items, i, it) {
        sb_adds(sb, "<tr><th scope=\"row\">");
        report_text(sb, json_str(it, "id"));
        sb_adds(sb, "</th><td>");
        report_text(sb, json_str(it, "action"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(it, "spec"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(it, "fulfillmentState"));
        sb_adds(sb, "</td></tr>\n");
        jv_free(it);
    }
    sb_adds(sb, "</tbody></table></div>\n");
    jv_free(items);
}

/* The plan as a table: what the picture shows, when there is no picture. */
static void
plan_table(strbuf *sb, jv plandoc)
{
    jv tasks = json_get(plandoc, "tasks");

    sb_adds(sb, "<div class=\"scroll\"><table class=\"plan-table\">\n<thead><tr>"
                "<th scope=\"col\">Task</th><th scope=\"col\">Function</th>"
                "<th scope=\"col\">System or kind</th><th scope=\"col\">Items</th>"
                "<th scope=\"col\">State</th><th scope=\"col\">Waits for</th>"
                "<th scope=\"col\">Critical</th></tr></thead>\n<tbody>\n");
    if (jv_get_kind(tasks) == JV_KIND_ARRAY) {
        jv_array_foreach(tasks, i, t) {
            jv after = json_get(t, "after");
            int64_t id = report_doc_int(t, "id", -1);
            int n = 0;
            if (id > 0)
                sb_addf(sb, "<tr data-task=\"%lld\">", (long long)id);
            else
                sb_adds(sb, "<tr>");
            sb_adds(sb, "<th scope=\"row\">");
            report_text(sb, json_str(t, "key"));
            sb_adds(sb, "</th><td>");
            report_text(sb, json_str(t, "function"));
            sb_adds(sb, "</td><td>");
            report_text(sb, json_str(t, "system") ? json_str(t, "system") : json_str(t, "kind"));
            sb_adds(sb, "</td><td>");
            add_items(sb, t);
            sb_adds(sb, "</td><td>");
            report_state(sb, json_str(t, "state"));
            sb_adds(sb, "</td><td>");
            if (jv_get_kind(after) == JV_KIND_ARRAY) {
                jv_array_foreach(after, j, dep) {
                    if (n++)
                        sb_adds(sb, ", ");
                    report_text(sb, json_str(dep, "task"));
                    if (json_str(dep, "delay")) {
                        sb_adds(sb, " +");
                        report_esc(sb, json_str(dep, "delay"));
                    }
                    jv_free(dep);
                }
            }
            if (!n)
                report_text(sb, NULL);
            jv f = json_get(t, "critical");
            sb_adds(sb, jv_get_kind(f) == JV_KIND_TRUE ? "</td><td>critical"
                                                       : "</td><td>\xe2\x80\x93");
            jv_free(f);
            sb_adds(sb, "</td></tr>\n");
            jv_free(after);
            jv_free(t);
        }
    }
    sb_adds(sb, "</tbody></table></div>\n");
    jv_free(tasks);
}

static void
plan_section(report *r, strbuf *sb, jv plandoc, int64_t id, int level)
{
    report_heading(sb, level, "Plan");
    if (jv_get_kind(plandoc) != JV_KIND_OBJECT) {
        sb_adds(sb, "<p>Not planned yet.</p>\n");
        return;
    }
    if (!r->no_dot) {
        osm_err err = { 0, "" };
        char *svg;
        size_t len;
        int rc = planview_svg(plandoc, &svg, &len, &err);
        if (rc == 0) {
            const char *start = strstr(svg, "<svg");
            sb_addf(sb, "<figure class=\"plan scroll\" id=\"plan-%lld\">\n", (long long)id);
            jv tasks = json_get(plandoc, "tasks");
            sb_addf(sb, "<svg role=\"img\" aria-label=\"The plan of order %lld: %d tasks\"",
                    (long long)id,
                    jv_get_kind(tasks) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tasks)) : 0);
            jv_free(tasks);
            sb_adds(sb, start + 4);
            sb_adds(sb, "<figcaption>One box per task, labelled and coloured by its state; an "
                        "arrow from each task to those that wait for it; the critical path in "
                        "red.</figcaption>\n</figure>\n");
            free(svg);
            return;
        }
        if (rc == OSM_EUNAVAILABLE) {
            r->no_dot = 1;
        } else if (!r->dot_warned) {
            r->dot_warned = 1;
            if (r->warn)
                r->warn(err.msg, r->ctx);
        }
    }
    if (r->no_dot)
        sb_adds(sb, "<p class=\"note\">Graphviz (dot) is not installed where this page was "
                    "made: the plan is a table.</p>\n");
    else
        sb_adds(sb, "<p class=\"note\">The plan could not be drawn: it is a table.</p>\n");
    plan_table(sb, plandoc);
}

static void
tasks_table(strbuf *sb, jv st, jv plandoc, int level)
{
    jv tasks = json_get(st, "tasks");
    int n = jv_get_kind(tasks) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tasks)) : 0;

    report_heading(sb, level, "Tasks");
    if (n == 0) {
        sb_adds(sb, "<p>No tasks.</p>\n");
        jv_free(tasks);
        return;
    }
    sb_adds(sb, "<div class=\"scroll\"><table class=\"tasks\">\n<thead><tr>"
                "<th scope=\"col\">Task</th><th scope=\"col\">Function</th>"
                "<th scope=\"col\">Kind</th><th scope=\"col\">System or workgroup</th>"
                "<th scope=\"col\">Items</th><th scope=\"col\">State</th>"
                "<th scope=\"col\" class=\"num\">Attempts</th><th scope=\"col\">Assignee</th>"
                "<th scope=\"col\">Expected</th><th scope=\"col\">Actual</th>"
                "<th scope=\"col\">Last error</th></tr></thead>\n<tbody>\n");
    jv_array_foreach(tasks, i, t) {
        int64_t id = report_doc_int(t, "id", 0);
        jv pt = report_task_of(plandoc, id);
        sb_addf(sb, "<tr id=\"task-row-%lld\"><th scope=\"row\">%lld</th><td>", (long long)id,
                (long long)id);
        report_text(sb, json_str(t, "function"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(t, "kind"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(t, "system") ? json_str(t, "system") : json_str(t, "workgroup"));
        sb_adds(sb, "</td><td>");
        add_items(sb, t);
        sb_adds(sb, "</td><td>");
        report_state(sb, json_str(t, "state"));
        if (json_str(t, "externalStatus")) {
            sb_adds(sb, " <code>");
            report_esc(sb, json_str(t, "externalStatus"));
            sb_adds(sb, "</code>");
        }
        sb_adds(sb, "</td><td class=\"num\">");
        report_field(sb, t, "attempts");
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(t, "assignee"));
        sb_adds(sb, "</td><td>");
        add_span(sb, report_doc_time(pt, "start"), report_doc_time(pt, "end"));
        sb_adds(sb, "</td><td>");
        add_span(sb, report_doc_time(t, "startedAt"), report_doc_time(t, "endedAt"));
        sb_adds(sb, "</td><td class=\"err\">");
        report_text(sb, json_str(t, "lastError"));
        sb_adds(sb, "</td></tr>\n");
        jv_free(pt);
        jv_free(t);
    }
    sb_adds(sb, "</tbody></table></div>\n");
    jv_free(tasks);
}

/* ------------------------------------------------------------ fallout */

static void
fallout_section(strbuf *sb, jv st, int level)
{
    jv fallout = json_get(st, "fallout");
    int n = jv_get_kind(fallout) == JV_KIND_ARRAY ? jv_array_length(jv_copy(fallout)) : 0;

    if (n == 0) {
        jv_free(fallout);
        return;
    }
    report_heading(sb, level, "Fallout");
    sb_adds(sb, "<div class=\"scroll\"><table class=\"order-fallout\">\n<thead><tr>"
                "<th scope=\"col\">Fallout task</th><th scope=\"col\">Failed task</th>"
                "<th scope=\"col\">Function</th><th scope=\"col\">Workgroup</th>"
                "<th scope=\"col\">State</th><th scope=\"col\">Assignee</th>"
                "<th scope=\"col\">Error</th><th scope=\"col\">Since</th></tr></thead>\n<tbody>\n");
    jv_array_foreach(fallout, i, f) {
        sb_adds(sb, "<tr><th scope=\"row\">");
        report_field(sb, f, "falloutTask");
        sb_adds(sb, "</th><td>");
        report_field(sb, f, "task");
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(f, "function"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(f, "workgroup"));
        sb_adds(sb, "</td><td>");
        report_state(sb, json_str(f, "state"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(f, "assignee"));
        sb_adds(sb, "</td><td class=\"err\">");
        report_text(sb, json_str(f, "error"));
        sb_adds(sb, "</td><td>");
        report_time(sb, json_str(f, "createdAt"));
        sb_adds(sb, "</td></tr>\n");
        jv_free(f);
    }
    sb_adds(sb, "</tbody></table></div>\n");
    jv_free(fallout);
}

/* ------------------------------------------------------------ revisions */

/*
 * Add the keys of v (consumed; anything but an object adds none) missing
 * from keys (a sorted array), keeping it sorted.
 */
static jv
union_keys(jv keys, jv v)
{
    if (jv_get_kind(v) != JV_KIND_OBJECT) {
        jv_free(v);
        return keys;
    }
    jv more = jv_keys(v);
    jv_array_foreach(more, i, k) {
        int have = 0;
        jv_array_foreach(keys, j, e) {
            have = have || jv_equal(jv_copy(e), jv_copy(k));
            jv_free(e);
        }
        if (!have)
            keys = jv_array_append(keys, jv_copy(k));
        jv_free(k);
    }
    jv_free(more);
    return jv_sort(keys, jv_copy(keys));
}

/*
 * Every version of the order side by side, oldest first, the current
 * one last: what each was, then each member of the internal order, the
 * rows where they differ marked "changed".
 */
static void
versions_section(strbuf *sb, const order_data *d, int level)
{
    int n = jv_array_length(jv_copy(d->versions));
    jv cols = jv_copy(d->versions), keys = jv_array();

    if (n == 0) {
        jv_free(cols);
        jv_free(keys);
        return;
    }
    cols = jv_array_append(cols, JV_OBJECT(jv_string("revision"),
                                           jv_number((double)d->revision), jv_string("status"),
                                           jv_string("current"), jv_string("body"),
                                           jv_copy(d->body)));
    jv_array_foreach(cols, i, c) {
        keys = union_keys(keys, json_get(c, "body"));
        jv_free(c);
    }
    report_heading(sb, level, "Revisions");
    sb_addf(sb, "<p>%d earlier version%s of the order beside the current one.</p>\n", n,
            n == 1 ? "" : "s");
    sb_adds(sb, "<div class=\"scroll\"><table class=\"versions\">\n<thead><tr>"
                "<th scope=\"col\">Revision</th>");
    jv_array_foreach(cols, i, c) {
        sb_adds(sb, "<th scope=\"col\">");
        report_field(sb, c, "revision");
        sb_adds(sb, " ");
        report_state(sb, json_str(c, "status"));
        sb_adds(sb, "</th>");
        jv_free(c);
    }
    sb_adds(sb, "</tr></thead>\n<tbody>\n");
    static const char *const rows[][2] = {
        { "reason", "Why rejected" }, { "receivedAt", "Received" },
        { "recordedAt", "Superseded or rejected" }, { "planRevision", "Plan" },
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        sb_addf(sb, "<tr><th scope=\"row\">%s</th>", rows[k][1]);
        jv_array_foreach(cols, i, c) {
            long long ms;
            sb_adds(sb, "<td>");
            if (strcmp(rows[k][0], "receivedAt") == 0 || strcmp(rows[k][0], "recordedAt") == 0)
                report_time_ms(sb, json_get_int(c, rows[k][0], &ms) == 1 ? ms : -1);
            else
                report_field(sb, c, rows[k][0]);
            sb_adds(sb, "</td>");
            jv_free(c);
        }
        sb_adds(sb, "</tr>\n");
    }
    jv_array_foreach(keys, k, key) {
        jv first = jv_invalid();
        int changed = 0;
        strbuf cells = STRBUF_INIT;
        jv_array_foreach(cols, i, c) {
            jv body = json_get(c, "body");
            jv v = jv_get_kind(body) == JV_KIND_OBJECT
                       ? jv_object_get(jv_copy(body), jv_copy(key)) : jv_invalid();
            if (i == 0)
                first = jv_copy(v);
            else if (!jv_equal(jv_copy(first), jv_copy(v)))
                changed = 1;
            sb_adds(&cells, "<td>");
            if (jv_is_valid(v)) {
                sb_adds(&cells, "<code>");
                report_json(&cells, v, 0);
                sb_adds(&cells, "</code>");
            } else {
                sb_adds(&cells, "absent");
            }
            sb_adds(&cells, "</td>");
            jv_free(v);
            jv_free(body);
            jv_free(c);
        }
        jv_free(first);
        sb_adds(sb, changed ? "<tr class=\"changed\"><th scope=\"row\">"
                            : "<tr><th scope=\"row\">");
        report_esc(sb, jv_string_value(key));
        if (changed)
            sb_adds(sb, " <span class=\"flag\">changed</span>");
        sb_adds(sb, "</th>");
        sb_add(sb, cells.buf, cells.len);
        sb_adds(sb, "</tr>\n");
        sb_free(&cells);
        jv_free(key);
    }
    sb_adds(sb, "</tbody></table></div>\n");
    jv_free(keys);
    jv_free(cols);
}

/* ------------------------------------------------------------ data, history */

static void
data_section(strbuf *sb, const order_data *d, int level)
{
    report_heading(sb, level, "Order data");
    sb_adds(sb, "<details><summary>The internal order, as the cartridge's programs see it"
                "</summary><pre>");
    report_json(sb, d->body, 1);
    sb_adds(sb, "</pre></details>\n<details><summary>The customer order as received</summary>"
                "<pre>");
    report_json(sb, d->original, 1);
    sb_adds(sb, "</pre></details>\n");
}

/* A few words on what an event (borrowed) says. */
static void
event_words(strbuf *sb, const char *type, jv data)
{
    long long n;

    if (!type)
        type = "";
    if (strcmp(type, "order.state") == 0 || strcmp(type, "task.state") == 0) {
        if (json_str(data, "function")) {
            report_esc(sb, json_str(data, "function"));
            sb_adds(sb, ": ");
        }
        report_state(sb, json_str(data, "from"));
        sb_adds(sb, " \xe2\x86\x92 ");
        report_state(sb, json_str(data, "to"));
        if (json_str(data, "reason")) {
            sb_adds(sb, " ");
            report_esc(sb, json_str(data, "reason"));
        }
        if (json_str(data, "error")) {
            sb_adds(sb, " <span class=\"flag\">error</span> ");
            report_esc(sb, json_str(data, "error"));
        }
        return;
    }
    if (strcmp(type, "hook") == 0) {
        report_text(sb, json_str(data, "function"));
        sb_adds(sb, " on ");
        report_text(sb, json_str(data, "system"));
        sb_adds(sb, " (");
        report_text(sb, json_str(data, "mode"));
        if (json_get_int(data, "attempt", &n) == 1)
            sb_addf(sb, ", attempt %lld", n);
        sb_adds(sb, ")");
        if (json_get_int(data, "exit", &n) == 1)
            sb_addf(sb, ": exit %lld", n);
        if (json_get_int(data, "signal", &n) == 1)
            sb_addf(sb, ": signal %lld", n);
        if (json_get_int(data, "durationMs", &n) == 1)
            sb_addf(sb, " in %lld ms", n);
        sb_adds(sb, "<details><summary>Request and response</summary><pre>");
        jv part = json_get(data, "request");
        report_json(sb, part, 1);
        jv_free(part);
        sb_adds(sb, "</pre><pre>");
        part = json_get(data, "response");
        report_json(sb, part, 1);
        jv_free(part);
        sb_adds(sb, "</pre>");
        if (json_str(data, "stderr") && *json_str(data, "stderr")) {
            sb_adds(sb, "<pre>");
            report_esc(sb, json_str(data, "stderr"));
            sb_adds(sb, "</pre>");
        }
        sb_adds(sb, "</details>");
        return;
    }
    sb_adds(sb, "<code>");
    report_json(sb, data, 0);
    sb_adds(sb, "</code>");
}

static void
history_section(strbuf *sb, const order_data *d, int level)
{
    int n = jv_array_length(jv_copy(d->events));

    report_heading(sb, level, "History");
    sb_addf(sb, "<details class=\"history\"><summary>%d event%s, every request to an external "
                "system and its answer</summary>\n",
            n, n == 1 ? "" : "s");
    sb_adds(sb, "<div class=\"scroll\"><table class=\"events\">\n<thead><tr>"
                "<th scope=\"col\">Event</th><th scope=\"col\">At</th><th scope=\"col\">Type</th>"
                "<th scope=\"col\">Task</th><th scope=\"col\">By</th><th scope=\"col\">What"
                "</th></tr></thead>\n<tbody>\n");
    jv_array_foreach(d->events, i, ev) {
        jv data = json_get(ev, "data");
        sb_adds(sb, "<tr><th scope=\"row\">");
        report_field(sb, ev, "id");
        sb_adds(sb, "</th><td>");
        report_time(sb, json_str(ev, "at"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(ev, "type"));
        sb_adds(sb, "</td><td>");
        report_field(sb, ev, "task");
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(ev, "actor"));
        sb_adds(sb, "</td><td>");
        event_words(sb, json_str(ev, "type"), data);
        sb_adds(sb, "</td></tr>\n");
        jv_free(data);
        jv_free(ev);
    }
    sb_adds(sb, "</tbody></table></div>\n</details>\n");
}

/* ------------------------------------------------------------ the page */

int
report_order(report *r, int64_t id, int level, strbuf *sb, osm_err *err)
{
    order_data d;
    int rc = read_order(r, id, &d, err);
    if (rc != 0)
        return rc;

    jv st = d.status;
    int sub = level + 1;
    sb_addf(sb, "<article class=\"order\" id=\"order-%lld\" data-order=\"%lld\">\n<h%d>Order %lld",
            (long long)id, (long long)id, level, (long long)id);
    if (json_str(st, "externalId")) {
        sb_adds(sb, " \xe2\x80\x93 ");
        report_esc(sb, json_str(st, "externalId"));
    }
    sb_addf(sb, "</h%d>\n", level);
    facts(sb, st);
    items_table(sb, st, sub);
    plan_section(r, sb, d.plan, id, sub);
    tasks_table(sb, st, d.plan, sub);
    report_gantt(r, sb, st, d.plan, id, sub);
    fallout_section(sb, st, sub);
    versions_section(sb, &d, sub);
    data_section(sb, &d, sub);
    history_section(sb, &d, sub);
    sb_adds(sb, "</article>\n");
    order_data_free(&d);
    return 0;
}
