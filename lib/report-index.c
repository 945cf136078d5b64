/*
 * The index of the report (see report-int.h): the counts by state and by
 * cartridge, the late orders and those in jeopardy, open fallout, the
 * worklists of the workgroups and the table of every order, from the
 * brief status documents of the orders and the open work of people.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "report-int.h"

static int
is_open(jv doc)
{
    const char *s = json_str(doc, "state");
    return s && !status_is_terminal(s);
}

/* An error of a task: its message when it is an object with one, else the text. */
static void
add_error(strbuf *sb, jv task)
{
    jv e = json_get(task, "error");
    if (jv_get_kind(e) == JV_KIND_OBJECT && json_str(e, "message"))
        report_esc(sb, json_str(e, "message"));
    else if (jv_get_kind(e) == JV_KIND_STRING)
        report_text(sb, jv_string_value(e));
    else if (jv_get_kind(e) == JV_KIND_NULL)
        report_text(sb, NULL);
    else
        report_json(sb, e, 0);
    jv_free(e);
}

/* When a person's task began to wait: when it started, else when it was made (ms). */
static int64_t
waiting_since(jv task)
{
    long long t;
    if (json_get_int(task, "startedAt", &t) == 1)
        return t;
    return json_get_int(task, "createdAt", &t) == 1 ? t : -1;
}

/* The external ids of the orders of docs (borrowed): {"ID": externalId} of those that have one. */
static jv
external_ids(jv docs)
{
    jv ids = jv_object();
    jv_array_foreach(docs, i, d) {
        const char *ext = json_str(d, "externalId");
        if (ext)
            ids = jv_object_set(ids, jv_string_fmt("%lld", (long long)report_doc_int(d, "id", 0)),
                                jv_string(ext));
        jv_free(d);
    }
    return ids;
}

/* ------------------------------------------------------------ the order table */

void
report_orders_table(strbuf *sb, jv docs, int link)
{
    sb_adds(sb, "<div class=\"scroll\"><table id=\"orders\" class=\"orders\">\n<thead><tr>"
                "<th scope=\"col\">Order</th><th scope=\"col\">External id</th>"
                "<th scope=\"col\">Cartridge</th><th scope=\"col\">Order type</th>"
                "<th scope=\"col\">State</th><th scope=\"col\">TMF622</th>"
                "<th scope=\"col\">Fulfillment</th><th scope=\"col\">Progress</th>"
                "<th scope=\"col\">Requested</th><th scope=\"col\">Expected</th>"
                "<th scope=\"col\">Flags</th></tr></thead>\n<tbody>\n");
    jv_array_foreach(docs, i, d) {
        int64_t id = report_doc_int(d, "id", 0);
        sb_addf(sb, "<tr data-order=\"%lld\" data-state=\"", (long long)id);
        report_esc(sb, json_str(d, "state"));
        sb_adds(sb, "\"><th scope=\"row\">");
        report_order_link(sb, id, link);
        sb_adds(sb, "</th><td>");
        report_text(sb, json_str(d, "externalId"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(d, "cartridge"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(d, "orderType"));
        sb_adds(sb, "</td><td>");
        report_state(sb, json_str(d, "state"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(d, "tmfState"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(d, "fulfillmentState"));
        sb_adds(sb, "</td><td>");
        report_progress(sb, d);
        sb_adds(sb, "</td><td>");
        report_time(sb, json_str(d, "requestedDate"));
        sb_adds(sb, "</td><td>");
        report_time(sb, json_str(d, "expectedCompletion"));
        sb_adds(sb, "</td><td>");
        report_flags(sb, d);
        sb_adds(sb, "</td></tr>\n");
        jv_free(d);
    }
    sb_adds(sb, "</tbody></table></div>\n");
}

/* The filter box of the order table: shown by the script, hidden without it. */
void
report_filter_box(strbuf *sb)
{
    sb_adds(sb, "<div id=\"filter\" hidden><label for=\"filter-text\">Show the orders with"
                "</label> <input id=\"filter-text\" type=\"search\" "
                "placeholder=\"a state, a cartridge, late...\" autocomplete=\"off\"> "
                "<output for=\"filter-text\"></output></div>\n");
}

/* ------------------------------------------------------------ the index */

typedef struct counts {
    int64_t total, open, late, jeopardy, fallout;
    int64_t by_state[REPORT_NSTATES];
    jv by_cart;                 /* name -> [count per state] */
} counts;

static int
state_index(const char *s)
{
    for (size_t i = 0; s && i < REPORT_NSTATES; i++)
        if (strcmp(s, report_order_states[i]) == 0)
            return (int)i;
    return -1;
}

static void
count_docs(jv docs, counts *c)
{
    memset(c, 0, sizeof *c);
    c->by_cart = jv_object();
    jv_array_foreach(docs, i, d) {
        int k = state_index(json_str(d, "state"));
        const char *cart = json_str(d, "cartridge");
        long long f = 0;
        c->total++;
        if (is_open(d)) {
            c->open++;
            c->late += report_doc_true(d, "late");
        }
        c->jeopardy += report_doc_true(d, "jeopardy");
        if (json_get_int(d, "openFallout", &f) == 1)
            c->fallout += f;
        if (k >= 0) {
            c->by_state[k]++;
            jv row = json_get(c->by_cart, cart ? cart : "");
            if (jv_get_kind(row) != JV_KIND_ARRAY) {
                jv_free(row);
                row = jv_array();
                for (size_t s = 0; s < REPORT_NSTATES; s++)
                    row = jv_array_append(row, jv_number(0));
            }
            jv n = jv_array_get(jv_copy(row), k);
            row = jv_array_set(row, k, jv_number(jv_number_value(n) + 1));
            jv_free(n);
            c->by_cart = jv_object_set(c->by_cart, jv_string(cart ? cart : ""), row);
        }
        jv_free(d);
    }
}

static void
tile(strbuf *sb, const char *id, const char *label, int64_t n, int bad)
{
    sb_addf(sb, "<li id=\"count-%s\"%s><b>%lld</b>%s</li>\n", id,
            bad && n > 0 ? " class=\"bad\"" : "", (long long)n, label);
}

static void
counts_section(strbuf *sb, const counts *c, int64_t waiting, int files)
{
    sb_adds(sb, "<section id=\"counts\">\n<h2>At a glance</h2>\n<ul class=\"tiles\">\n");
    tile(sb, "orders", "orders", c->total, 0);
    tile(sb, "open", "open", c->open, 0);
    tile(sb, "late", "late", c->late, 1);
    tile(sb, "jeopardy", "in jeopardy", c->jeopardy, 1);
    tile(sb, "fallout", "open fallout", c->fallout, 1);
    tile(sb, "worklist", "tasks waiting for people", waiting, 0);
    sb_adds(sb, "</ul>\n<div class=\"pair\"><div>\n<h3>By state</h3>\n"
                "<div class=\"scroll\"><table id=\"by-state\">\n"
                "<thead><tr><th scope=\"col\">State</th><th scope=\"col\" class=\"num\">Orders"
                "</th></tr></thead>\n<tbody>\n");
    for (size_t s = 0; s < REPORT_NSTATES; s++) {
        sb_addf(sb, "<tr data-state=\"%s\"><th scope=\"row\">", report_order_states[s]);
        if (files && c->by_state[s] > 0) {
            sb_adds(sb, "<a href=\"");
            report_state_file(sb, report_order_states[s]);
            sb_adds(sb, "\">");
            report_state(sb, report_order_states[s]);
            sb_adds(sb, "</a>");
        } else {
            report_state(sb, report_order_states[s]);
        }
        sb_addf(sb, "</th><td class=\"num\">%lld</td></tr>\n", (long long)c->by_state[s]);
    }
    sb_adds(sb, "</tbody></table></div>\n</div><div>\n");

    /* by cartridge: a column for each state that has orders */
    sb_adds(sb, "<h3>By cartridge</h3>\n<div class=\"scroll\"><table id=\"by-cartridge\">\n"
                "<thead><tr><th scope=\"col\">Cartridge</th><th scope=\"col\" class=\"num\">All"
                "</th>");
    for (size_t s = 0; s < REPORT_NSTATES; s++)
        if (c->by_state[s] > 0)
            sb_addf(sb, "<th scope=\"col\" class=\"num\">%s</th>", report_order_states[s]);
    sb_adds(sb, "</tr></thead>\n<tbody>\n");
    jv names = jv_keys(jv_copy(c->by_cart));
    jv_array_foreach(names, i, name) {
        jv row = jv_object_get(jv_copy(c->by_cart), jv_copy(name));
        double all = 0;
        for (size_t s = 0; s < REPORT_NSTATES; s++) {
            jv n = jv_array_get(jv_copy(row), (int)s);
            all += jv_number_value(n);
            jv_free(n);
        }
        sb_adds(sb, "<tr data-cartridge=\"");
        report_esc(sb, jv_string_value(name));
        sb_adds(sb, "\"><th scope=\"row\">");
        if (files) {
            sb_adds(sb, "<a href=\"");
            report_cartridge_file(sb, jv_string_value(name));
            sb_adds(sb, "\">");
            report_text(sb, jv_string_value(name));
            sb_adds(sb, "</a>");
        } else {
            report_text(sb, jv_string_value(name));
        }
        sb_addf(sb, "</th><td class=\"num\">%.0f</td>", all);
        for (size_t s = 0; s < REPORT_NSTATES; s++) {
            if (c->by_state[s] == 0)
                continue;
            jv n = jv_array_get(jv_copy(row), (int)s);
            sb_addf(sb, "<td class=\"num\" data-state=\"%s\">%.0f</td>", report_order_states[s],
                    jv_number_value(n));
            jv_free(n);
        }
        sb_adds(sb, "</tr>\n");
        jv_free(row);
        jv_free(name);
    }
    jv_free(names);
    sb_adds(sb, "</tbody></table></div>\n</div></div>\n</section>\n");
}

typedef struct attention {
    int index;
    int late;
    int64_t late_ms, since;
    int64_t id;
} attention;

/* Late ones first, the latest first; then those in jeopardy, the longest first. */
static int
cmp_attention(const void *pa, const void *pb)
{
    const attention *a = pa, *b = pb;
    if (a->late != b->late)
        return b->late - a->late;
    if (a->late && a->late_ms != b->late_ms)
        return a->late_ms > b->late_ms ? -1 : 1;
    if (a->since != b->since)
        return a->since < b->since ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static void
attention_section(strbuf *sb, jv docs, int link)
{
    int n = jv_array_length(jv_copy(docs)), k = 0;
    attention *list = xcalloc((size_t)n + 1, sizeof *list);

    for (int i = 0; i < n; i++) {
        jv d = jv_array_get(jv_copy(docs), i);
        int late = is_open(d) && report_doc_true(d, "late");
        if (late || report_doc_true(d, "jeopardy")) {
            attention *a = &list[k++];
            const char *by = json_str(d, "lateBy"), *since = json_str(d, "jeopardyAt");
            a->index = i;
            a->late = late;
            a->id = report_doc_int(d, "id", 0);
            if (!by || duration_parse(by, &a->late_ms) != 0)
                a->late_ms = 0;
            if (!since || rfc3339_parse(since, &a->since) != 0)
                a->since = INT64_MAX;
        }
        jv_free(d);
    }
    qsort(list, (size_t)k, sizeof *list, cmp_attention);
    sb_adds(sb, "<section id=\"attention\">\n<h2>Late and in jeopardy</h2>\n");
    if (k == 0) {
        sb_adds(sb, "<p>No order is late or in jeopardy.</p>\n</section>\n");
        free(list);
        return;
    }
    sb_addf(sb, "<p>%d open order%s late or in jeopardy, the latest first.</p>\n", k,
            k == 1 ? "" : "s");
    sb_adds(sb, "<div class=\"scroll\"><table class=\"attention\">\n<thead><tr>"
                "<th scope=\"col\">Order</th><th scope=\"col\">External id</th>"
                "<th scope=\"col\">Cartridge</th><th scope=\"col\">State</th>"
                "<th scope=\"col\">Requested</th><th scope=\"col\">Expected</th>"
                "<th scope=\"col\">Late by</th><th scope=\"col\">In jeopardy since</th>"
                "<th scope=\"col\">Flags</th></tr></thead>\n<tbody>\n");
    for (int j = 0; j < k; j++) {
        jv d = jv_array_get(jv_copy(docs), list[j].index);
        sb_addf(sb, "<tr data-order=\"%lld\"><th scope=\"row\">", (long long)list[j].id);
        report_order_link(sb, list[j].id, link);
        sb_adds(sb, "</th><td>");
        report_text(sb, json_str(d, "externalId"));
        sb_adds(sb, "</td><td>");
        report_text(sb, json_str(d, "cartridge"));
        sb_adds(sb, "</td><td>");
        report_state(sb, json_str(d, "state"));
        sb_adds(sb, "</td><td>");
        report_time(sb, json_str(d, "requestedDate"));
        sb_adds(sb, "</td><td>");
        report_time(sb, json_str(d, "expectedCompletion"));
        sb_adds(sb, "</td><td>");
        report_text(sb, list[j].late ? json_str(d, "lateBy") : NULL);
        sb_adds(sb, "</td><td>");
        report_time(sb, json_str(d, "jeopardyAt"));
        sb_adds(sb, "</td><td>");
        report_flags(sb, d);
        sb_adds(sb, "</td></tr>\n");
        jv_free(d);
    }
    sb_adds(sb, "</tbody></table></div>\n</section>\n");
    free(list);
}

/* One row of a task waiting for a person (fallout or manual). */
static void
work_row(strbuf *sb, jv t, jv ext, int link, int64_t now, int fallout)
{
    long long order = 0;
    int64_t since = waiting_since(t);

    json_get_int(t, "order", &order);
    sb_adds(sb, "<tr><th scope=\"row\">");
    report_field(sb, t, "id");
    sb_adds(sb, "</th><td>");
    report_order_link(sb, order, link);
    sb_adds(sb, "</td><td>");
    jv e = jv_object_get(jv_copy(ext), jv_string_fmt("%lld", order));
    report_text(sb, jv_get_kind(e) == JV_KIND_STRING ? jv_string_value(e) : NULL);
    jv_free(e);
    sb_adds(sb, "</td><td>");
    report_text(sb, json_str(t, "function"));
    sb_adds(sb, "</td><td>");
    if (fallout)
        report_text(sb, json_str(t, "workgroup"));
    else
        report_text(sb, json_str(t, "taskKind"));
    sb_adds(sb, "</td><td>");
    report_state(sb, json_str(t, "state"));
    sb_adds(sb, "</td><td>");
    report_text(sb, json_str(t, "assignee"));
    sb_adds(sb, "</td><td class=\"num\">");
    if (since >= 0)
        report_age(sb, now - since);
    else
        report_text(sb, NULL);
    sb_adds(sb, "</td><td>");
    report_time_ms(sb, since);
    if (fallout) {
        sb_adds(sb, "</td><td class=\"err\">");
        add_error(sb, t);
    }
    sb_adds(sb, "</td></tr>\n");
}

static void
work_head(strbuf *sb, const char *cls, int fallout)
{
    sb_addf(sb, "<div class=\"scroll\"><table class=\"%s\">\n<thead><tr>"
                "<th scope=\"col\">Task</th><th scope=\"col\">Order</th>"
                "<th scope=\"col\">External id</th><th scope=\"col\">Function</th>"
                "<th scope=\"col\">%s</th><th scope=\"col\">State</th>"
                "<th scope=\"col\">Assignee</th><th scope=\"col\" class=\"num\">Age</th>"
                "<th scope=\"col\">Waiting since</th>%s</tr></thead>\n<tbody>\n",
            cls, fallout ? "Workgroup" : "Kind", fallout ? "<th scope=\"col\">Error</th>" : "");
}

static int
is_fallout(jv t)
{
    const char *k = json_str(t, "taskKind");
    return k && strcmp(k, "fallout") == 0;
}

static void
fallout_section(strbuf *sb, jv work, jv ext, int link, int64_t now)
{
    int n = 0;
    jv_array_foreach(work, i, t) {
        n += is_fallout(t);
        jv_free(t);
    }
    sb_adds(sb, "<section id=\"fallout\">\n<h2>Open fallout</h2>\n");
    if (n == 0) {
        sb_adds(sb, "<p>No open fallout.</p>\n</section>\n");
        return;
    }
    sb_addf(sb, "<p>%d fallout task%s waiting to be dealt with (osm-task retry, skip or fail)."
                "</p>\n", n, n == 1 ? "" : "s");
    work_head(sb, "fallout", 1);
    jv_array_foreach(work, i, t) {
        if (is_fallout(t))
            work_row(sb, t, ext, link, now, 1);
        jv_free(t);
    }
    sb_adds(sb, "</tbody></table></div>\n</section>\n");
}

static void
worklist_section(strbuf *sb, jv work, jv ext, int link, int64_t now)
{
    int n = jv_array_length(jv_copy(work));
    char *group = NULL;

    sb_adds(sb, "<section id=\"worklists\">\n<h2>Worklists</h2>\n");
    if (n == 0) {
        sb_adds(sb, "<p>No task is waiting for a person.</p>\n</section>\n");
        return;
    }
    sb_adds(sb, "<p>Manual and fallout tasks waiting for a person, by workgroup.</p>\n");
    for (int i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(work), i);
        const char *wg = json_str(t, "workgroup") ? json_str(t, "workgroup") : "";
        if (!group || strcmp(group, wg) != 0) {
            int size = 0;
            for (int j = i; j < n; j++) {
                jv u = jv_array_get(jv_copy(work), j);
                const char *w = json_str(u, "workgroup") ? json_str(u, "workgroup") : "";
                int same = strcmp(w, wg) == 0;
                jv_free(u);
                if (!same)
                    break;
                size++;
            }
            if (group)
                sb_adds(sb, "</tbody></table></div>\n");
            free(group);
            group = xstrdup(wg);
            sb_adds(sb, "<h3 class=\"workgroup\">");
            report_text(sb, wg);
            sb_addf(sb, " (%d task%s)</h3>\n", size, size == 1 ? "" : "s");
            work_head(sb, "worklist", 0);
        }
        work_row(sb, t, ext, link, now, 0);
        jv_free(t);
    }
    sb_adds(sb, "</tbody></table></div>\n</section>\n");
    free(group);
}

void
report_index(report *r, strbuf *sb, jv docs, jv work, int link)
{
    counts c;
    int files = link == REPORT_LINK_FILE;

    count_docs(docs, &c);
    sb_adds(sb, "<h1>");
    report_esc(sb, r->title);
    sb_addf(sb, "</h1>\n<p>%lld order%s, as of ", (long long)c.total, c.total == 1 ? "" : "s");
    report_time_ms(sb, r->now);
    sb_adds(sb, " UTC.</p>\n");
    counts_section(sb, &c, jv_array_length(jv_copy(work)), files);
    attention_section(sb, docs, link);
    jv ext = external_ids(docs);
    fallout_section(sb, work, ext, link, r->now);
    worklist_section(sb, work, ext, link, r->now);
    jv_free(ext);
    sb_adds(sb, "<section id=\"all\">\n<h2>All orders</h2>\n");
    if (files) {
        sb_adds(sb, "<nav class=\"filters\" aria-label=\"Orders by state and by cartridge\">"
                    "By state: ");
        for (size_t s = 0; s < REPORT_NSTATES; s++) {
            if (c.by_state[s] == 0)
                continue;
            sb_adds(sb, "<a href=\"");
            report_state_file(sb, report_order_states[s]);
            sb_addf(sb, "\">%s (%lld)</a> ", report_order_states[s], (long long)c.by_state[s]);
        }
        sb_adds(sb, "By cartridge: ");
        jv names = jv_keys(jv_copy(c.by_cart));
        jv_array_foreach(names, i, name) {
            sb_adds(sb, "<a href=\"");
            report_cartridge_file(sb, jv_string_value(name));
            sb_adds(sb, "\">");
            report_text(sb, jv_string_value(name));
            sb_adds(sb, "</a> ");
            jv_free(name);
        }
        jv_free(names);
        sb_adds(sb, "</nav>\n");
    }
    report_filter_box(sb);
    report_orders_table(sb, docs, link);
    sb_adds(sb, "</section>\n");
    jv_free(c.by_cart);
}
