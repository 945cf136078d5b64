/*
 * Status for people and for monitoring (see status.h): the one-order
 * view, listing rows, events and the summary as tables, and the summary
 * as Prometheus text exposition for node_exporter's textfile collector.
 * Everything works from the documents, as lib/planview does for plans,
 * so that what a person reads is what a script gets.  The tables are
 * termtable's, as every program's are: sized to their content, "-" for
 * what is empty, one time format, states coloured on a terminal, and
 * escaped, so that order data cannot drive the terminal.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "status.h"
#include "termtable.h"
#include "termtext.h"
#include "xalloc.h"

#define BAR_WIDTH 10
#define DETAIL_MAX 160

/* ------------------------------------------------------------ helpers */

/* The string member key of doc, or "" (borrowed from doc). */
static const char *
str(jv doc, const char *key)
{
    const char *s = json_str(doc, key);
    return s ? s : "";
}

static jv
get(jv doc, const char *key)
{
    if (jv_get_kind(doc) != JV_KIND_OBJECT)
        return jv_null();
    jv v = jv_object_get(jv_copy(doc), jv_string(key));
    if (!jv_is_valid(v)) {
        jv_free(v);
        return jv_null();
    }
    return v;
}

/* A number member as text ("" when absent), into buf. */
static const char *
num(jv doc, const char *key, char *buf, size_t size)
{
    jv v = get(doc, key);
    if (jv_get_kind(v) == JV_KIND_NUMBER)
        snprintf(buf, size, "%.17g", jv_number_value(v));
    else
        buf[0] = '\0';
    jv_free(v);
    return buf;
}

static int
flag(jv doc, const char *key)
{
    jv v = get(doc, key);
    int yes = jv_get_kind(v) == JV_KIND_TRUE;
    jv_free(v);
    return yes;
}

static long long
count(jv doc, const char *key)
{
    jv v = get(doc, key);
    long long n = jv_get_kind(v) == JV_KIND_NUMBER ? (long long)jv_number_value(v) : 0;
    jv_free(v);
    return n;
}

/* "2026-11-26T10:00:00Z" as tables show times (termtable_time), or "-". */
static const char *
short_time(const char *rfc, char buf[TERMTABLE_TIME_MAX])
{
    int64_t ms;
    if (!*rfc || rfc3339_parse(rfc, &ms) != 0)
        ms = -1;
    return termtable_time(ms, buf);
}

/* A table's headings, given as one string of blank-separated words. */
static void
headings(termtable *t, const char *words)
{
    char *copy = xstrdup(words), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        termtable_cell(t, w);
    free(copy);
}

/* An age as one or two units: "45s", "12m", "3h05m", "2d03h", "400d". */
static void
age_text(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 60)
        snprintf(buf, size, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(buf, size, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
    else if (s < 100 * 86400)
        snprintf(buf, size, "%lldd%02lldh", (long long)(s / 86400), (long long)(s / 3600 % 24));
    else
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

/* ------------------------------------------------------------ one order */

int
status_view_order(FILE *f, jv doc)
{
    char a[64], b[64], c[64], d[64];
    jv progress = get(doc, "progress");

    termtext_line(f, "order %s%s%s%s: %s %s, %s", num(doc, "id", a, sizeof a),
                  *str(doc, "externalId") ? " (" : "", str(doc, "externalId"),
                  *str(doc, "externalId") ? ")" : "", str(doc, "cartridge"),
                  str(doc, "cartridgeVersion"), str(doc, "orderType"));
    termtext_line(f, "state        %s (TMF %s)%s%s", str(doc, "state"), str(doc, "tmfState"),
                  *str(doc, "reason") ? ": " : "", str(doc, "reason"));
    termtext_line(f, "fulfillment  %s",
                  *str(doc, "fulfillmentState") ? str(doc, "fulfillmentState") : "-");
    termtext_line(f, "processing   %s", str(doc, "processingState"));
    termtext_line(f, "created      %s, start %s, expected %s, requested %s",
                  short_time(str(doc, "createdAt"), a),
                  short_time(str(doc, "startDate"), b),
                  short_time(str(doc, "expectedCompletion"), c),
                  short_time(str(doc, "requestedDate"), d));
    termtext_line(f, "progress     %lld/%lld tasks, %lld%% of the expected work",
                  count(progress, "tasksDone"), count(progress, "tasks"),
                  count(progress, "percentExpected"));
    if (flag(doc, "late"))
        termtext_line(f, "late         by %s", str(doc, "lateBy"));
    if (flag(doc, "jeopardy"))
        termtext_line(f, "jeopardy     since %s",
                      short_time(str(doc, "jeopardyAt"), a));
    if (count(doc, "openFallout") > 0)
        termtext_line(f, "fallout      %lld open", count(doc, "openFallout"));
    jv_free(progress);

    termtable *t;
    jv items = get(doc, "items");
    if (jv_get_kind(items) == JV_KIND_ARRAY && jv_array_length(jv_copy(items)) > 0) {
        fputc('\n', f);
        t = termtable_new(5);
        termtable_state_column(t, 3);
        headings(t, "ITEM ACTION SPEC FULFILLMENT TMF");
        jv_array_foreach(items, i, it) {
            termtable_cell(t, str(it, "id"));
            termtable_cell(t, str(it, "action"));
            termtable_cell(t, str(it, "spec"));
            termtable_cell(t, str(it, "fulfillmentState"));
            termtable_cell(t, str(it, "tmfState"));
            jv_free(it);
        }
        termtable_print(t, f);
    }
    jv_free(items);

    jv tasks = get(doc, "tasks");
    if (jv_get_kind(tasks) == JV_KIND_ARRAY && jv_array_length(jv_copy(tasks)) > 0) {
        fputc('\n', f);
        t = termtable_new(9);
        termtable_state_column(t, 3);
        headings(t, "TASK FUNCTION SYSTEM STATE TRIES EXTERNAL FULFILLMENT ENDED ERROR");
        jv_array_foreach(tasks, i, task) {
            termtable_cell(t, num(task, "id", a, sizeof a));
            termtable_cell(t, str(task, "function"));
            termtable_cell(t, *str(task, "system") ? str(task, "system") : str(task, "kind"));
            termtable_cell(t, str(task, "state"));
            termtable_cell(t, num(task, "attempts", a, sizeof a));
            termtable_cell(t, str(task, "externalStatus"));
            termtable_cell(t, str(task, "fulfillmentState"));
            termtable_cell(t, short_time(str(task, "endedAt"), b));
            termtable_cell(t, str(task, "lastError"));
            jv_free(task);
        }
        termtable_print(t, f);
    }
    jv_free(tasks);

    jv fallout = get(doc, "fallout");
    if (jv_get_kind(fallout) == JV_KIND_ARRAY && jv_array_length(jv_copy(fallout)) > 0) {
        fputc('\n', f);
        t = termtable_new(6);
        termtable_state_column(t, 4);
        headings(t, "FALLOUT TASK FUNCTION WORKGROUP STATE ERROR");
        jv_array_foreach(fallout, i, fo) {
            termtable_cell(t, num(fo, "falloutTask", a, sizeof a));
            termtable_cell(t, *num(fo, "task", b, sizeof b) ? b : "-");
            termtable_cell(t, str(fo, "function"));
            termtable_cell(t, str(fo, "workgroup"));
            termtable_cell(t, str(fo, "state"));
            termtable_cell(t, str(fo, "error"));
            jv_free(fo);
        }
        termtable_print(t, f);
    }
    jv_free(fallout);
    return ferror(f) ? OSM_EIO : 0;
}

/* ------------------------------------------------------------ listing */

int
status_view_list(FILE *f, jv docs, status_list_widths *widths, int64_t now)
{
    termtable *t = termtable_new(STATUS_LIST_COLUMNS);
    int header = !widths->header_done;
    char a[64], b[64];

    termtable_continue(t, widths->w, header);
    termtable_state_column(t, 3);

    if (header) {
        headings(t, "ID EXTERNAL CARTRIDGE STATE PROGRESS AGE EXPECTED FLAGS");
        widths->header_done = 1;
    }
    if (jv_get_kind(docs) == JV_KIND_ARRAY) {
        jv_array_foreach(docs, i, doc) {
            jv progress = get(doc, "progress");
            long long done = count(progress, "tasksDone"), all = count(progress, "tasks");
            long long pct = count(progress, "percentExpected");
            char bar[BAR_WIDTH + 1], flags[64] = "";
            int filled = (int)(pct < 0 ? 0 : pct > 100 ? BAR_WIDTH : pct * BAR_WIDTH / 100);
            for (int k = 0; k < BAR_WIDTH; k++)
                bar[k] = k < filled ? '#' : '.';
            bar[BAR_WIDTH] = '\0';
            jv_free(progress);
            int64_t created;
            if (rfc3339_parse(str(doc, "createdAt"), &created) == 0)
                age_text(now - created, b, sizeof b);
            else
                snprintf(b, sizeof b, "-");
            if (flag(doc, "late"))
                strcat(flags, "late");
            if (flag(doc, "jeopardy"))
                strcat(flags, *flags ? ",jeopardy" : "jeopardy");
            if (count(doc, "openFallout") > 0)
                strcat(flags, *flags ? ",fallout" : "fallout");
            termtable_cell(t, num(doc, "id", a, sizeof a));
            termtable_cell(t, str(doc, "externalId"));
            termtable_cell(t, str(doc, "cartridge"));
            termtable_cell(t, str(doc, "state"));
            termtable_cellf(t, "%s %lld/%lld", bar, done, all);
            termtable_cell(t, b);
            termtable_cell(t, short_time(str(doc, "expectedCompletion"), a));
            termtable_cell(t, *flags ? flags : "-");
            jv_free(doc);
        }
    }
    return termtable_print(t, f);
}

/* ------------------------------------------------------------ events */

/* A few words on what an event says, by its type. */
static void
event_details(jv ev, char *buf, size_t size)
{
    const char *type = str(ev, "type");
    jv data = get(ev, "data");
    char a[64], b[64];

    if (strcmp(type, "order.state") == 0) {
        snprintf(buf, size, "%s -> %s%s%s", str(data, "from"), str(data, "to"),
                 *str(data, "reason") ? ": " : "", str(data, "reason"));
    } else if (strcmp(type, "task.state") == 0) {
        snprintf(buf, size, "%s: %s -> %s%s%s", str(data, "function"), str(data, "from"),
                 str(data, "to"), *str(data, "error") ? ": " : "", str(data, "error"));
    } else if (strcmp(type, "hook") == 0) {
        jv resp = get(data, "response");
        snprintf(buf, size, "%s on %s, attempt %s, exit %s%s%s%s%s", str(data, "function"),
                 str(data, "system"), num(data, "attempt", a, sizeof a),
                 *num(data, "exit", b, sizeof b) ? b : "-",
                 *str(resp, "status") ? ", " : "", str(resp, "status"),
                 flag(data, "timedOut") ? ", timed out" : "",
                 *str(data, "error") ? ", cannot start" : "");
        jv_free(resp);
    } else if (strcmp(type, "fallout") == 0) {
        jv e = get(data, "error");
        snprintf(buf, size, "%s: %s%s%s%s", str(data, "function"), str(e, "message"),
                 *str(data, "workgroup") ? " (workgroup " : "", str(data, "workgroup"),
                 *str(data, "workgroup") ? ")" : "");
        jv_free(e);
    } else if (strcmp(type, "order.created") == 0) {
        snprintf(buf, size, "%s %s %s, %s", str(data, "cartridge"), str(data, "cartridgeVersion"),
                 str(data, "orderType"), str(data, "state"));
    } else if (strcmp(type, "order.planned") == 0) {
        char c[TERMTABLE_TIME_MAX];
        snprintf(buf, size, "%s tasks, start %s, expected %s%s", num(data, "tasks", a, sizeof a),
                 short_time(str(data, "startDate"), b),
                 short_time(str(data, "expectedCompletion"), c),
                 flag(data, "late") ? ", late" : "");
    } else if (jv_get_kind(data) != JV_KIND_NULL) {
        char text[DETAIL_MAX];
        jv_dump_string_trunc(jv_copy(data), text, sizeof text);
        snprintf(buf, size, "%s", text);
    } else {
        buf[0] = '\0';
    }
    jv_free(data);
}

int
status_view_events(FILE *f, jv events, status_list_widths *widths)
{
    termtable *t = termtable_new(STATUS_EVENT_COLUMNS);
    char id[32], order[32], task[32], at[TERMTABLE_TIME_MAX], details[1024];

    termtable_continue(t, widths->w, !widths->header_done);
    if (!widths->header_done) {
        headings(t, "EVENT AT ORDER TASK TYPE ACTOR DETAILS");
        widths->header_done = 1;
    }
    if (jv_get_kind(events) == JV_KIND_ARRAY) {
        jv_array_foreach(events, i, ev) {
            event_details(ev, details, sizeof details);
            termtable_cell(t, num(ev, "id", id, sizeof id));
            termtable_cell(t, short_time(str(ev, "at"), at));
            termtable_cell(t, num(ev, "order", order, sizeof order));
            termtable_cell(t, num(ev, "task", task, sizeof task));
            termtable_cell(t, str(ev, "type"));
            termtable_cell(t, str(ev, "actor"));
            termtable_cell(t, details);
            jv_free(ev);
        }
    }
    return termtable_print(t, f);
}

/* ------------------------------------------------------------ summary */

int
status_view_summary(FILE *f, jv sum)
{
    termtable *t = termtable_new(2);
    jv by_state = get(sum, "byState"), by_cart = get(sum, "byCartridge");

    termtext_line(f, "%lld orders at %s: %lld open fallout, %lld in jeopardy, %lld late",
                  count(sum, "orders"), str(sum, "at"), count(sum, "openFallout"),
                  count(sum, "jeopardy"), count(sum, "late"));
    fputc('\n', f);
    termtable_state_column(t, 0);
    headings(t, "STATE ORDERS");
    if (jv_get_kind(by_state) == JV_KIND_OBJECT) {
        jv_object_foreach(by_state, k, v) {
            termtable_cell(t, jv_string_value(k));
            termtable_cellf(t, "%lld", (long long)jv_number_value(v));
            jv_free(k);
            jv_free(v);
        }
    }
    termtable_print(t, f);
    if (jv_get_kind(by_cart) == JV_KIND_OBJECT && jv_object_length(jv_copy(by_cart)) > 0) {
        fputc('\n', f);
        t = termtable_new(3);
        termtable_state_column(t, 1);
        headings(t, "CARTRIDGE STATE ORDERS");
        jv_object_foreach(by_cart, name, states) {
            jv_object_foreach(states, k, v) {
                if (jv_number_value(v) > 0) {
                    termtable_cell(t, jv_string_value(name));
                    termtable_cell(t, jv_string_value(k));
                    termtable_cellf(t, "%lld", (long long)jv_number_value(v));
                }
                jv_free(k);
                jv_free(v);
            }
            jv_free(name);
            jv_free(states);
        }
        termtable_print(t, f);
    }
    jv_free(by_state);
    jv_free(by_cart);
    return ferror(f) ? OSM_EIO : 0;
}

/* A label value with \, " and newline escaped, as the exposition format wants. */
static void
label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void
metric_head(FILE *f, const char *name, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

int
status_view_prometheus(FILE *f, jv sum)
{
    jv by_state = get(sum, "byState"), by_cart = get(sum, "byCartridge");

    metric_head(f, "osm_orders", "Orders in the store, by state.");
    if (jv_get_kind(by_state) == JV_KIND_OBJECT) {
        jv_object_foreach(by_state, k, v) {
            fputs("osm_orders{state=\"", f);
            label(f, jv_string_value(k));
            fprintf(f, "\"} %lld\n", (long long)jv_number_value(v));
            jv_free(k);
            jv_free(v);
        }
    }
    metric_head(f, "osm_orders_by_cartridge", "Orders in the store, by cartridge and state.");
    if (jv_get_kind(by_cart) == JV_KIND_OBJECT) {
        jv_object_foreach(by_cart, name, states) {
            jv_object_foreach(states, k, v) {
                fputs("osm_orders_by_cartridge{cartridge=\"", f);
                label(f, jv_string_value(name));
                fputs("\",state=\"", f);
                label(f, jv_string_value(k));
                fprintf(f, "\"} %lld\n", (long long)jv_number_value(v));
                jv_free(k);
                jv_free(v);
            }
            jv_free(name);
            jv_free(states);
        }
    }
    metric_head(f, "osm_fallout_open", "Fallout tasks waiting for a person.");
    fprintf(f, "osm_fallout_open %lld\n", count(sum, "openFallout"));
    metric_head(f, "osm_orders_jeopardy", "Open orders in jeopardy.");
    fprintf(f, "osm_orders_jeopardy %lld\n", count(sum, "jeopardy"));
    metric_head(f, "osm_orders_late", "Open orders that miss or will miss their requested date.");
    fprintf(f, "osm_orders_late %lld\n", count(sum, "late"));
    jv_free(by_state);
    jv_free(by_cart);
    return ferror(f) ? OSM_EIO : 0;
}
