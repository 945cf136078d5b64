/*
 * Status for people and for monitoring (see status.h): the one-order
 * view, listing rows, history lines and the summary as tables, and the
 * summary as Prometheus text exposition for node_exporter's textfile
 * collector.  Everything works from the documents, as lib/planview does
 * for plans, so that what a person reads is what a script gets; what
 * the tables show goes through termtext_escape(), so that order data
 * cannot drive the terminal.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "status.h"
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

/* "2026-11-26T10:00:00Z" as "2026-11-26 10:00", or "-". */
static const char *
short_time(const char *rfc, char *buf, size_t size)
{
    int64_t ms;
    char full[CLOCK_RFC3339_MAX];
    if (!*rfc || rfc3339_parse(rfc, &ms) != 0)
        return "-";
    rfc3339_format(ms, full);
    snprintf(buf, size, "%.10s %.5s", full, full + 11);
    return buf;
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

/* A table: cells gathered row by row, printed with columns aligned. */
typedef struct table {
    char **cells;
    size_t ncols, ncells, cap;
    size_t *keep;           /* widths carried from table to table, or NULL */
} table;

static void
cell(table *t, const char *text)
{
    if (t->ncells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = xrealloc(t->cells, t->cap * sizeof *t->cells);
    }
    t->cells[t->ncells++] = termtext_escape(text);
}

static void
cellf(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cellf(table *t, const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cell(t, buf);
}

/* Print and free the table: two blanks between columns, none at line ends. */
static int
table_print(FILE *f, table *t)
{
    size_t *w = xcalloc(t->ncols, sizeof *w);
    if (t->keep)
        memcpy(w, t->keep, t->ncols * sizeof *w);
    for (size_t i = 0; i < t->ncells; i++) {
        size_t len = strlen(t->cells[i]);
        if (len > w[i % t->ncols])
            w[i % t->ncols] = len;
    }
    for (size_t r = 0; r * t->ncols < t->ncells; r++) {
        size_t last = t->ncols;
        /* trailing empty cells print nothing */
        while (last > 1 && !*t->cells[r * t->ncols + last - 1])
            last--;
        for (size_t c = 0; c < last; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (c + 1 < last)
                fprintf(f, "%-*s  ", (int)w[c], s);
            else
                fputs(s, f);
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    if (t->keep)
        memcpy(t->keep, w, t->ncols * sizeof *w);
    free(w);
    memset(t, 0, sizeof *t);
    return ferror(f) ? OSM_EIO : 0;
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
                  short_time(str(doc, "createdAt"), a, sizeof a),
                  short_time(str(doc, "startDate"), b, sizeof b),
                  short_time(str(doc, "expectedCompletion"), c, sizeof c),
                  short_time(str(doc, "requestedDate"), d, sizeof d));
    termtext_line(f, "progress     %lld/%lld tasks, %lld%% of the expected work",
                  count(progress, "tasksDone"), count(progress, "tasks"),
                  count(progress, "percentExpected"));
    if (flag(doc, "late"))
        termtext_line(f, "late         by %s", str(doc, "lateBy"));
    if (flag(doc, "jeopardy"))
        termtext_line(f, "jeopardy     since %s",
                      short_time(str(doc, "jeopardyAt"), a, sizeof a));
    if (count(doc, "openFallout") > 0)
        termtext_line(f, "fallout      %lld open", count(doc, "openFallout"));
    jv_free(progress);

    table t = { NULL, 5, 0, 0, NULL };
    jv items = get(doc, "items");
    if (jv_get_kind(items) == JV_KIND_ARRAY && jv_array_length(jv_copy(items)) > 0) {
        fputc('\n', f);
        cell(&t, "ITEM"), cell(&t, "ACTION"), cell(&t, "SPEC"), cell(&t, "FULFILLMENT");
        cell(&t, "TMF");
        jv_array_foreach(items, i, it) {
            cell(&t, str(it, "id"));
            cell(&t, str(it, "action"));
            cell(&t, *str(it, "spec") ? str(it, "spec") : "-");
            cell(&t, *str(it, "fulfillmentState") ? str(it, "fulfillmentState") : "-");
            cell(&t, *str(it, "tmfState") ? str(it, "tmfState") : "-");
            jv_free(it);
        }
        table_print(f, &t);
    }
    jv_free(items);

    jv tasks = get(doc, "tasks");
    if (jv_get_kind(tasks) == JV_KIND_ARRAY && jv_array_length(jv_copy(tasks)) > 0) {
        fputc('\n', f);
        t.ncols = 9;
        cell(&t, "TASK"), cell(&t, "FUNCTION"), cell(&t, "SYSTEM"), cell(&t, "STATE");
        cell(&t, "TRIES"), cell(&t, "EXTERNAL"), cell(&t, "FULFILLMENT"), cell(&t, "ENDED");
        cell(&t, "ERROR");
        jv_array_foreach(tasks, i, task) {
            cell(&t, num(task, "id", a, sizeof a));
            cell(&t, str(task, "function"));
            cell(&t, *str(task, "system") ? str(task, "system") : str(task, "kind"));
            cell(&t, str(task, "state"));
            cell(&t, num(task, "attempts", a, sizeof a));
            cell(&t, *str(task, "externalStatus") ? str(task, "externalStatus") : "-");
            cell(&t, *str(task, "fulfillmentState") ? str(task, "fulfillmentState") : "-");
            cell(&t, short_time(str(task, "endedAt"), b, sizeof b));
            cell(&t, str(task, "lastError"));
            jv_free(task);
        }
        table_print(f, &t);
    }
    jv_free(tasks);

    jv fallout = get(doc, "fallout");
    if (jv_get_kind(fallout) == JV_KIND_ARRAY && jv_array_length(jv_copy(fallout)) > 0) {
        fputc('\n', f);
        t.ncols = 6;
        cell(&t, "FALLOUT"), cell(&t, "TASK"), cell(&t, "FUNCTION"), cell(&t, "WORKGROUP");
        cell(&t, "STATE"), cell(&t, "ERROR");
        jv_array_foreach(fallout, i, fo) {
            cell(&t, num(fo, "falloutTask", a, sizeof a));
            cell(&t, *num(fo, "task", b, sizeof b) ? b : "-");
            cell(&t, str(fo, "function"));
            cell(&t, *str(fo, "workgroup") ? str(fo, "workgroup") : "-");
            cell(&t, str(fo, "state"));
            cell(&t, str(fo, "error"));
            jv_free(fo);
        }
        table_print(f, &t);
    }
    jv_free(fallout);
    return ferror(f) ? OSM_EIO : 0;
}

/* ------------------------------------------------------------ listing */

int
status_view_list(FILE *f, jv docs, status_list_widths *widths, int64_t now)
{
    table t = { NULL, STATUS_LIST_COLUMNS, 0, 0, widths->w };
    int header = !widths->header_done;
    char a[64], b[64];

    if (header) {
        cell(&t, "ID"), cell(&t, "EXTERNAL"), cell(&t, "CARTRIDGE"), cell(&t, "STATE");
        cell(&t, "PROGRESS"), cell(&t, "AGE"), cell(&t, "EXPECTED"), cell(&t, "FLAGS");
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
            cell(&t, num(doc, "id", a, sizeof a));
            cell(&t, *str(doc, "externalId") ? str(doc, "externalId") : "-");
            cell(&t, str(doc, "cartridge"));
            cell(&t, str(doc, "state"));
            cellf(&t, "%s %lld/%lld", bar, done, all);
            cell(&t, b);
            cell(&t, short_time(str(doc, "expectedCompletion"), a, sizeof a));
            cell(&t, *flags ? flags : "-");
            jv_free(doc);
        }
    }
    return table_print(f, &t);
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
        snprintf(buf, size, "%s tasks, start %s, expected %s%s", num(data, "tasks", a, sizeof a),
                 str(data, "startDate"), str(data, "expectedCompletion"),
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
status_view_event(FILE *f, jv ev)
{
    char id[32], order[32], task[32], at[64], details[1024];
    char line[1400];

    num(ev, "id", id, sizeof id);
    num(ev, "order", order, sizeof order);
    num(ev, "task", task, sizeof task);
    short_time(str(ev, "at"), at, sizeof at);
    event_details(ev, details, sizeof details);
    snprintf(line, sizeof line, "%-7s %s  order %-7s task %-7s %-18s %-10s %s", id, at,
             *order ? order : "-", *task ? task : "-", str(ev, "type"), str(ev, "actor"),
             details);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ')
        line[--n] = '\0';
    termtext_line(f, "%s", line);
    return ferror(f) ? OSM_EIO : 0;
}

/* ------------------------------------------------------------ summary */

int
status_view_summary(FILE *f, jv sum)
{
    table t = { NULL, 2, 0, 0, NULL };
    jv by_state = get(sum, "byState"), by_cart = get(sum, "byCartridge");

    termtext_line(f, "%lld orders at %s: %lld open fallout, %lld in jeopardy, %lld late",
                  count(sum, "orders"), str(sum, "at"), count(sum, "openFallout"),
                  count(sum, "jeopardy"), count(sum, "late"));
    fputc('\n', f);
    cell(&t, "STATE"), cell(&t, "ORDERS");
    if (jv_get_kind(by_state) == JV_KIND_OBJECT) {
        jv_object_foreach(by_state, k, v) {
            cell(&t, jv_string_value(k));
            cellf(&t, "%lld", (long long)jv_number_value(v));
            jv_free(k);
            jv_free(v);
        }
    }
    table_print(f, &t);
    if (jv_get_kind(by_cart) == JV_KIND_OBJECT && jv_object_length(jv_copy(by_cart)) > 0) {
        fputc('\n', f);
        t.ncols = 3;
        cell(&t, "CARTRIDGE"), cell(&t, "STATE"), cell(&t, "ORDERS");
        jv_object_foreach(by_cart, name, states) {
            jv_object_foreach(states, k, v) {
                if (jv_number_value(v) > 0) {
                    cell(&t, jv_string_value(name));
                    cell(&t, jv_string_value(k));
                    cellf(&t, "%lld", (long long)jv_number_value(v));
                }
                jv_free(k);
                jv_free(v);
            }
            jv_free(name);
            jv_free(states);
        }
        table_print(f, &t);
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
