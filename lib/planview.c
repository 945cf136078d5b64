/*
 * Rendering plan documents for people: Graphviz dot, SVG through dot,
 * and a terminal Gantt table (see planview.h).
 *
 * Everything is read from the jv document through the field_* helpers
 * below, which answer "absent" for a missing field, a null, a value of
 * the wrong type or a date that does not parse, so that the renderers
 * themselves have no failure paths: a damaged or partial document gives
 * a partial picture.  Strings borrowed from the document stay valid
 * while the caller holds it, since the plan is not consumed.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "diag.h"
#include "hook.h"
#include "planview.h"
#include "termtext.h"
#include "xalloc.h"

/* ---------------------------------------------------------------- reading */

/* o[k], owned; null when o is not an object or has no member k. */
static jv
field(jv o, const char *k)
{
    if (jv_get_kind(o) != JV_KIND_OBJECT)
        return jv_null();
    jv v = jv_object_get(jv_copy(o), jv_string(k));
    if (!jv_is_valid(v)) {
        jv_free(v);
        return jv_null();
    }
    return v;
}

/*
 * o[k] when it is a string, else NULL.  The pointer is into o's own copy
 * of the string (our reference is dropped, o's remains), so it is valid
 * as long as o is.
 */
static const char *
field_str(jv o, const char *k)
{
    jv v = field(o, k);
    const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
    jv_free(v);
    return s;
}

/* o[k] as an RFC 3339 instant: 0 and *ms, or -1. */
static int
field_time(jv o, const char *k, int64_t *ms)
{
    const char *s = field_str(o, k);
    return s && rfc3339_parse(s, ms) == 0 ? 0 : -1;
}

static int
field_true(jv o, const char *k)
{
    jv v = field(o, k);
    int t = jv_get_kind(v) == JV_KIND_TRUE;
    jv_free(v);
    return t;
}

/* Number of elements of o[k] when it is an array, else 0. */
static int
field_len(jv o, const char *k)
{
    jv v = field(o, k);
    int n = jv_get_kind(v) == JV_KIND_ARRAY ? jv_array_length(jv_copy(v)) : 0;
    jv_free(v);
    return n;
}

/* o[k][i], owned (null when absent). */
static jv
field_at(jv o, const char *k, int i)
{
    jv a = field(o, k);
    if (jv_get_kind(a) != JV_KIND_ARRAY) {
        jv_free(a);
        return jv_null();
    }
    jv v = jv_array_get(a, i);
    if (!jv_is_valid(v)) {
        jv_free(v);
        return jv_null();
    }
    return v;
}

/* Append v (borrowed) when it is a string or a number; 1 if it was. */
static int
add_scalar(strbuf *sb, jv v)
{
    double d;

    switch (jv_get_kind(v)) {
    case JV_KIND_STRING:
        sb_adds(sb, jv_string_value(v));
        return 1;
    case JV_KIND_NUMBER:
        d = jv_number_value(v);
        if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
            sb_addf(sb, "%lld", (long long)d);
        else
            sb_addf(sb, "%.15g", d);
        return 1;
    default:
        return 0;
    }
}

/* The task's item ids joined by sep; 0 when it has none. */
static int
add_items(strbuf *sb, jv task, const char *sep)
{
    int n = field_len(task, "items"), added = 0;
    for (int i = 0; i < n; i++) {
        jv it = field_at(task, "items", i);
        strbuf one = STRBUF_INIT;
        if (add_scalar(&one, it)) {
            if (added++)
                sb_adds(sb, sep);
            sb_add(sb, one.buf, one.len);
        }
        sb_free(&one);
        jv_free(it);
    }
    return added;
}

/* "order 12 (CRM-1)", "order 12", "order CRM-1" or "plan". */
static void
add_order_name(strbuf *sb, jv plan)
{
    jv id = field(plan, "id");
    const char *ext = field_str(plan, "externalId");
    strbuf num = STRBUF_INIT;
    int have_id = add_scalar(&num, id);

    if (have_id && ext)
        sb_addf(sb, "order %s (%s)", num.buf, ext);
    else if (have_id)
        sb_addf(sb, "order %s", num.buf);
    else if (ext)
        sb_addf(sb, "order %s", ext);
    else
        sb_adds(sb, "plan");
    sb_free(&num);
    jv_free(id);
}

/* What does the work: the task's system, else its kind, else NULL. */
static const char *
task_doer(jv task)
{
    const char *s = field_str(task, "system");
    return s ? s : field_str(task, "kind");
}

/* Is key the task after dep on the critical path? */
static int
critical_edge(jv plan, const char *dep, const char *key)
{
    int n = field_len(plan, "criticalPath"), found = 0;
    for (int i = 0; i + 1 < n && !found; i++) {
        jv a = field_at(plan, "criticalPath", i);
        jv b = field_at(plan, "criticalPath", i + 1);
        found = jv_get_kind(a) == JV_KIND_STRING && jv_get_kind(b) == JV_KIND_STRING &&
                strcmp(jv_string_value(a), dep) == 0 && strcmp(jv_string_value(b), key) == 0;
        jv_free(a);
        jv_free(b);
    }
    return found;
}

static int
on_critical_path(jv plan, const char *key)
{
    int n = field_len(plan, "criticalPath"), found = 0;
    for (int i = 0; i < n && !found; i++) {
        jv a = field_at(plan, "criticalPath", i);
        found = jv_get_kind(a) == JV_KIND_STRING && strcmp(jv_string_value(a), key) == 0;
        jv_free(a);
    }
    return found;
}

/*
 * A short instant for a picture: "2026-11-26 10:00" (with_year) or
 * "11-26 10:00", with ":SS" when the seconds are not zero.
 */
static void
short_time(int64_t ms, int with_year, char out[CLOCK_RFC3339_MAX])
{
    char b[CLOCK_RFC3339_MAX];
    rfc3339_format(ms, b);
    char *t = strchr(b, 'T');
    if (!t || t - b < 5 || strlen(t) < 9) {     /* cannot happen; be safe */
        snprintf(out, CLOCK_RFC3339_MAX, "%s", b);
        return;
    }
    const char *date = with_year ? b : t - 5;
    int dlen = (int)(t - date);
    if (t[7] == '0' && t[8] == '0')
        snprintf(out, CLOCK_RFC3339_MAX, "%.*s %.5s", dlen, date, t + 1);
    else
        snprintf(out, CLOCK_RFC3339_MAX, "%.*s %.8s", dlen, date, t + 1);
}

/* ---------------------------------------------------------------- dot */

/*
 * Append s escaped for the inside of a dot quoted string: quote and
 * backslash escaped, a line break (LF, CR or CRLF) as \n, other control
 * characters as a blank.  UTF-8 passes through (dot's default charset).
 */
static void
dot_esc(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            sb_add(sb, "\\", 1);
            sb_add(sb, s, 1);
        } else if (c == '\n') {
            sb_adds(sb, "\\n");
        } else if (c == '\r') {
            if (s[1] != '\n')
                sb_adds(sb, "\\n");
        } else if (c < 0x20 || c == 0x7f) {
            sb_add(sb, " ", 1);
        } else {
            sb_add(sb, s, 1);
        }
    }
}

/* Node shape by function kind; NULL for an unknown kind. */
static const char *
dot_shape(const char *kind)
{
    static const char *const shapes[][2] = {
        { "automated", "box" }, { "manual", "house" },
        { "timer", "octagon" }, { "rule", "hexagon" },
    };
    for (size_t i = 0; kind && i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(kind, shapes[i][0]) == 0)
            return shapes[i][1];
    return NULL;
}

/* Fill colour by task state (DESIGN §12); no state is pending. */
static const char *
dot_fill(const char *state)
{
    static const char *const fills[][2] = {
        { "pending", "#eeeeee" },   /* light grey: not yet */
        { "ready", "#fff7bc" },     /* pale yellow: can go */
        { "running", "#9ecae1" },   /* blue: a worker has it */
        { "waiting", "#c6dbef" },   /* pale blue: someone else has it */
        { "claimed", "#fdd0a2" },   /* orange: a person has it */
        { "completed", "#a1d99b" }, /* green */
        { "failed", "#fc9272" },    /* red: fallout */
        { "skipped", "#e5f5e0" },   /* pale green: nothing to do */
        { "cancelled", "#bdbdbd" }, /* dark grey */
        { "undoing", "#dadaeb" },   /* lavender: compensating */
        { "undone", "#bcbddc" },    /* purple: compensated */
    };
    if (!state)
        state = "pending";
    for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++)
        if (strcmp(state, fills[i][0]) == 0)
            return fills[i][1];
    return "#ffffff";
}

/* The task's node id: its key, else "#N" (N counted from 1). */
static void
add_node_id(strbuf *sb, jv task, int i)
{
    const char *key = field_str(task, "key");
    sb_add(sb, "\"", 1);
    if (key)
        dot_esc(sb, key);
    else
        sb_addf(sb, "#%d", i + 1);
    sb_add(sb, "\"", 1);
}

/* A task state as an SVG class name: letters, digits, '_' and '-' only. */
static void
add_class_word(strbuf *sb, const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            *s == '_' || *s == '-')
            sb_add(sb, s, 1);
}

static void
dot_node(strbuf *sb, jv plan, jv task, int i, int flags)
{
    const char *function = field_str(task, "function");
    const char *doer = task_doer(task);
    const char *key = field_str(task, "key");
    const char *dur = field_str(task, "duration");
    const char *shape = dot_shape(field_str(task, "kind"));
    int64_t start, end;
    int have_start = field_time(task, "start", &start) == 0;
    int have_end = field_time(task, "end", &end) == 0;
    char a[CLOCK_RFC3339_MAX], b[CLOCK_RFC3339_MAX];

    sb_adds(sb, "    ");
    add_node_id(sb, task, i);
    sb_adds(sb, " [label=\"");
    dot_esc(sb, function ? function : key ? key : "?");
    if (doer) {
        sb_adds(sb, "\\n");
        dot_esc(sb, doer);
    }
    strbuf items = STRBUF_INIT;
    if (add_items(&items, task, ", ")) {
        sb_adds(sb, "\\nitems ");
        dot_esc(sb, items.buf);
    }
    sb_free(&items);
    if (dur) {
        sb_adds(sb, "\\n");
        dot_esc(sb, dur);
    }
    if (have_start)
        short_time(start, 0, a);
    if (have_end)
        short_time(end, 0, b);
    if (have_start && have_end && strncmp(a, b, 6) == 0)
        sb_addf(sb, "\\n%s - %s", a, b + 6);  /* same day: "11-26 10:00 - 10:10" */
    else if (have_start && have_end)
        sb_addf(sb, "\\n%s - %s", a, b);
    else if (have_start)
        sb_addf(sb, "\\nfrom %s", a);
    else if (have_end)
        sb_addf(sb, "\\nuntil %s", b);
    if (flags & PLANVIEW_STATES) {
        const char *state = field_str(task, "state");
        jv id = field(task, "id");
        sb_adds(sb, "\\n(");
        dot_esc(sb, state ? state : "pending");
        sb_adds(sb, ")\"");
        if (jv_get_kind(id) == JV_KIND_NUMBER && jv_number_value(id) >= 1 &&
            jv_number_value(id) < 1e15)
            sb_addf(sb, ", id=\"task-%lld\"", (long long)jv_number_value(id));
        sb_adds(sb, ", class=\"task state-");
        add_class_word(sb, state ? state : "pending");
        sb_adds(sb, "\"");
        jv_free(id);
    } else {
        sb_adds(sb, "\"");
    }
    sb_addf(sb, ", shape=%s", shape ? shape : "box");
    if (!shape)
        sb_adds(sb, ", style=\"filled,dashed\"");
    sb_addf(sb, ", fillcolor=\"%s\"", dot_fill(field_str(task, "state")));
    if (field_true(task, "critical") || (key && on_critical_path(plan, key)))
        sb_adds(sb, ", color=\"#cc0000\", penwidth=3");
    sb_adds(sb, "];\n");
}

/* One edge per "after" entry of the task: dependency -> task. */
static void
dot_edges(strbuf *sb, jv plan, jv task, int i)
{
    const char *key = field_str(task, "key");
    int n = field_len(task, "after");

    for (int j = 0; j < n; j++) {
        jv dep = field_at(task, "after", j);
        const char *from = jv_get_kind(dep) == JV_KIND_STRING ? jv_string_value(dep)
                                                              : field_str(dep, "task");
        if (from) {
            const char *delay = field_str(dep, "delay");
            const char *until = field_str(dep, "until");
            const char *cond = field_str(dep, "condition");
            const char *scope = field_str(dep, "scope");
            jv why = field(dep, "why");
            const char *rule = field_str(why, "rule");
            strbuf label = STRBUF_INIT;

            /* why the edge is there, when it is not the item's own order of work */
            if (rule && strcmp(rule, "reliesOn") == 0)
                sb_adds(&label, "relies on");
            else if (scope && strcmp(scope, "order") == 0)
                sb_adds(&label, "every item");
            jv_free(why);
            if (delay) {
                sb_adds(&label, label.len ? "\\n+" : "+");
                dot_esc(&label, delay);
            }
            if (until) {
                sb_adds(&label, label.len ? "\\nuntil " : "until ");
                dot_esc(&label, until);
            }
            if (cond) {
                sb_adds(&label, label.len ? "\\nwhen " : "when ");
                dot_esc(&label, cond);
            }
            int crit = key && critical_edge(plan, from, key);

            sb_adds(sb, "    \"");
            dot_esc(sb, from);
            sb_adds(sb, "\" -> ");
            add_node_id(sb, task, i);
            if (label.len || crit) {
                sb_adds(sb, " [");
                if (label.len)
                    sb_addf(sb, "label=\"%s\"%s", label.buf, crit ? ", " : "");
                if (crit)
                    sb_adds(sb, "color=\"#cc0000\", penwidth=3, style=bold");
                sb_adds(sb, "]");
            }
            sb_adds(sb, ";\n");
            sb_free(&label);
        }
        jv_free(dep);
    }
}

/* The graph's label: the order, its dates and lateness, one line each. */
static void
dot_graph_label(strbuf *sb, jv plan)
{
    strbuf name = STRBUF_INIT;
    const char *cart = field_str(plan, "cartridge");
    const char *ver = field_str(plan, "cartridgeVersion");
    const char *dur = field_str(plan, "duration");
    const char *late_by = field_str(plan, "lateBy");
    int64_t t;
    char buf[CLOCK_RFC3339_MAX];

    add_order_name(&name, plan);
    dot_esc(sb, name.buf);
    sb_free(&name);
    if (cart) {
        sb_adds(sb, ", ");
        dot_esc(sb, cart);
        if (ver) {
            sb_adds(sb, " ");
            dot_esc(sb, ver);
        }
    }
    sb_adds(sb, "\\l");
    if (field_time(plan, "startDate", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(sb, "start %s\\l", buf);
    }
    if (field_time(plan, "expectedCompletion", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(sb, "expected completion %s", buf);
        if (dur) {
            sb_adds(sb, " (");
            dot_esc(sb, dur);
            sb_adds(sb, ")");
        }
        sb_adds(sb, "\\l");
    }
    if (field_time(plan, "requestedDate", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(sb, "requested %s\\l", buf);
    } else {
        sb_adds(sb, "no requested date\\l");
    }
    if (field_time(plan, "requestedStartDate", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(sb, "not before %s\\l", buf);
    }
    if (field_true(plan, "late")) {
        sb_adds(sb, "LATE");
        if (late_by) {
            sb_adds(sb, " by ");
            dot_esc(sb, late_by);
        }
        sb_adds(sb, "\\l");
    }
}

char *
planview_dot(jv plan)
{
    return planview_dot_flags(plan, 0);
}

char *
planview_dot_flags(jv plan, int flags)
{
    strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
    int n = field_len(plan, "tasks");

    add_order_name(&name, plan);
    sb_adds(&sb, "digraph \"");
    dot_esc(&sb, name.buf);
    sb_free(&name);
    sb_adds(&sb, "\" {\n");
    sb_adds(&sb, "    graph [rankdir=LR, labelloc=t, labeljust=l, fontname=\"Helvetica\", "
                 "fontsize=12,\n           label=\"");
    dot_graph_label(&sb, plan);
    sb_adds(&sb, "\"];\n");
    sb_adds(&sb, "    node [style=filled, fontname=\"Helvetica\", fontsize=10, "
                 "color=\"#404040\", fillcolor=\"#ffffff\"];\n");
    sb_adds(&sb, "    edge [fontname=\"Helvetica\", fontsize=9, color=\"#404040\"];\n");
    for (int i = 0; i < n; i++) {
        jv task = field_at(plan, "tasks", i);
        dot_node(&sb, plan, task, i, flags);
        jv_free(task);
    }
    for (int i = 0; i < n; i++) {
        jv task = field_at(plan, "tasks", i);
        dot_edges(&sb, plan, task, i);
        jv_free(task);
    }
    sb_adds(&sb, "}\n");
    return sb_detach(&sb, NULL);
}

/* ---------------------------------------------------------------- svg */

#define DOT_TIMEOUT_MS 60000
#define DOT_MAX_SVG (64UL * 1024 * 1024)

/* The first line of text, at most 200 bytes, into a message. */
static void
first_line(const char *text, char out[256])
{
    size_t n = strcspn(text, "\n");
    snprintf(out, 256, "%.*s", (int)(n > 200 ? 200 : n), text);
}

int
planview_svg(jv plan, char **svg, size_t *len, osm_err *err)
{
    char *dot = planview_dot_flags(plan, PLANVIEW_STATES);
    hook_spec spec = { 0 };
    hook_result res;
    char line[256];
    int rc;

    *svg = NULL;
    *len = 0;
    spec.command = "dot -Tsvg";
    spec.input = dot;
    spec.input_len = strlen(dot);
    spec.timeout_ms = DOT_TIMEOUT_MS;
    spec.max_stdout = DOT_MAX_SVG;
    rc = hook_run(&spec, &res, err);
    free(dot);
    if (rc != 0)
        return rc;
    if (res.spawn_error) {
        rc = osm_fail(err, OSM_EIO, "dot: %s", res.spawn_error);
    } else if (res.exited && (res.exit_status == 127 || res.exit_status == 126)) {
        rc = osm_fail(err, OSM_EUNAVAILABLE, "dot (Graphviz) is not installed");
    } else if (res.timed_out) {
        rc = osm_fail(err, OSM_ESOFTWARE, "dot: no picture after %d s", DOT_TIMEOUT_MS / 1000);
    } else if (res.stdout_overflow) {
        rc = osm_fail(err, OSM_ESOFTWARE, "dot: the picture is larger than %lu MiB",
                      DOT_MAX_SVG >> 20);
    } else if (!res.exited || res.exit_status != 0 || !strstr(res.out, "<svg")) {
        first_line(res.err ? res.err : "", line);
        if (res.exited)
            rc = osm_fail(err, OSM_ESOFTWARE, "dot: exit status %d%s%s", res.exit_status,
                          *line ? ": " : "", line);
        else
            rc = osm_fail(err, OSM_ESOFTWARE, "dot: killed by signal %d", res.signal);
    } else {
        *svg = res.out;
        *len = res.out_len;
        res.out = NULL;
    }
    hook_result_free(&res);
    return rc;
}

/* ---------------------------------------------------------------- table */

enum { COL_KEY, COL_ID, COL_FUNCTION, COL_DOER, COL_ITEMS, COL_START, COL_DURATION, NCOLS };

#define CELL_MAX 32     /* a longer cell is cut, ending in "..." */
#define TIME_LAST 253402300799999LL  /* 9999-12-31T23:59:59.999Z */

/*
 * Append s as plain ASCII: a UTF-8 sequence becomes one '?', so that
 * every character is one column, and a control character is shown
 * escaped as termtext.h says ("\x1b", "\n": a column per byte shown).
 * At most max columns (0: no limit; else at least 4), the last three
 * "..." when s is cut.
 */
static void
add_ascii(strbuf *sb, const char *s, size_t max)
{
    size_t cols = 0, cut = sb->len;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char shown[8];
        if (*p >= 0x80 && *p < 0xc0)
            continue;   /* continuation byte: counted with its lead */
        if (*p < 0x20 || *p == 0x7f) {
            char *e = termtext_escape((const char[]){ (char)*p, '\0' });
            snprintf(shown, sizeof shown, "%s", e);
            free(e);
        } else {
            shown[0] = *p >= 0x80 ? '?' : (char)*p;
            shown[1] = '\0';
        }
        for (const char *c = shown; *c; c++) {
            if (max && cols == max - 3)
                cut = sb->len;
            if (max && cols == max) {
                sb->len = cut;
                sb->buf[cut] = '\0';
                sb_adds(sb, "...");
                return;
            }
            sb_add(sb, c, 1);
            cols++;
        }
    }
}

/* A table cell: s as ASCII, cut to CELL_MAX, "-" when s is NULL or "". */
static void
set_cell(strbuf *cell, const char *s)
{
    add_ascii(cell, s && *s ? s : "-", CELL_MAX);
}

typedef struct row {
    strbuf cell[NCOLS];
    int have_start, have_end, have_es, critical;
    int64_t start, end, es;
} row;

/* Chart column of instant t in [lo, hi] over width columns, rounded down. */
static int
bar_col(int64_t t, int64_t lo, int64_t hi, int width)
{
    if (hi <= lo)
        return 0;
    int64_t c = (t - lo) * width / (hi - lo);
    return c < 0 ? 0 : c >= width ? width - 1 : (int)c;
}

/* The same, rounded up, minus one: the last column a span ending at t covers. */
static int
bar_last_col(int64_t t, int64_t lo, int64_t hi, int width)
{
    if (hi <= lo)
        return 0;
    int64_t r = hi - lo, c = ((t - lo) * width + r - 1) / r - 1;
    return c < 0 ? 0 : c >= width ? width - 1 : (int)c;
}

static void
draw_bar(char *bar, const row *r, int64_t lo, int64_t hi, int width)
{
    memset(bar, ' ', (size_t)width);
    if (!r->have_start)
        return;
    int c0 = bar_col(r->start, lo, hi, width);
    int c1 = r->have_end && r->end > r->start ? bar_last_col(r->end, lo, hi, width) : c0;
    if (c1 < c0)
        c1 = c0;
    /* slack within the chart: from an earliest start before the plan's
     * own start nothing is drawn (it would fill every row) */
    if (r->have_es && r->es < r->start && r->es >= lo)
        for (int c = bar_col(r->es, lo, hi, width); c < c0; c++)
            bar[c] = '.';
    for (int c = c0; c <= c1; c++)
        bar[c] = r->critical ? '#' : '=';
}

/* Append text padded with blanks to w columns (text is ASCII already). */
static void
add_padded(strbuf *sb, const char *text, size_t w)
{
    size_t n = strlen(text);
    sb_adds(sb, text);
    for (; n < w; n++)
        sb_add(sb, " ", 1);
}

static void
rtrim_line(strbuf *sb, size_t line_start)
{
    while (sb->len > line_start && sb->buf[sb->len - 1] == ' ')
        sb->len--;
    sb->buf[sb->len] = '\0';
    sb_add(sb, "\n", 1);
}

static void
table_header(strbuf *sb, jv plan)
{
    strbuf line = STRBUF_INIT;
    const char *late_by = field_str(plan, "lateBy");
    int64_t t;
    char buf[CLOCK_RFC3339_MAX];
    const char *sep = ": ";

    add_order_name(&line, plan);
    if (field_time(plan, "startDate", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(&line, "%sstart %s", sep, buf);
        sep = ", ";
    }
    if (field_time(plan, "expectedCompletion", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(&line, "%sexpected completion %s", sep, buf);
        sep = ", ";
    }
    if (field_time(plan, "requestedDate", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(&line, "%srequested %s", sep, buf);
    } else {
        sb_addf(&line, "%sno requested date", sep);
    }
    if (field_time(plan, "requestedStartDate", &t) == 0) {
        rfc3339_format(t, buf);
        sb_addf(&line, ", not before %s", buf);
    }
    if (field_true(plan, "late"))
        sb_addf(&line, ", LATE%s%s", late_by ? " by " : "", late_by ? late_by : "");
    else if (field_time(plan, "requestedDate", &t) == 0)
        sb_adds(&line, ", on time");
    add_ascii(sb, line.buf, 0);
    sb_add(sb, "\n", 1);
    sb_free(&line);
}

static void
table_row_fill(row *r, jv plan, jv task, int i)
{
    const char *s;
    int64_t dur;

    memset(r, 0, sizeof *r);
    s = field_str(task, "key");
    if (s)
        set_cell(&r->cell[COL_KEY], s);
    else
        sb_addf(&r->cell[COL_KEY], "#%d", i + 1);
    /* the id osm-task and osm-status take, beside the plan's own name */
    jv id = jv_get_kind(task) == JV_KIND_OBJECT ? jv_object_get(jv_copy(task), jv_string("id"))
                                                : jv_null();
    if (jv_get_kind(id) == JV_KIND_NUMBER && jv_number_value(id) >= 1 &&
        jv_number_value(id) < 9e15)
        sb_addf(&r->cell[COL_ID], "%lld", (long long)jv_number_value(id));
    else
        sb_adds(&r->cell[COL_ID], "-");
    jv_free(id);
    set_cell(&r->cell[COL_FUNCTION], field_str(task, "function"));
    set_cell(&r->cell[COL_DOER], task_doer(task));
    strbuf items = STRBUF_INIT;
    set_cell(&r->cell[COL_ITEMS], add_items(&items, task, ",") ? items.buf : NULL);
    sb_free(&items);
    r->have_start = field_time(task, "start", &r->start) == 0;
    r->have_end = field_time(task, "end", &r->end) == 0;
    r->have_es = field_time(task, "earliestStart", &r->es) == 0;
    s = field_str(task, "duration");
    if (!r->have_end && r->have_start && s && duration_parse(s, &dur) == 0 && dur >= 0) {
        /* keep within RFC 3339's years, so that the bar arithmetic cannot overflow */
        r->end = dur < TIME_LAST - r->start ? r->start + dur : TIME_LAST;
        r->have_end = 1;
    }
    if (r->have_start) {
        char buf[CLOCK_RFC3339_MAX];
        short_time(r->start, 1, buf);
        sb_adds(&r->cell[COL_START], buf);
    } else {
        sb_adds(&r->cell[COL_START], "-");
    }
    set_cell(&r->cell[COL_DURATION], s);
    s = field_str(task, "key");
    r->critical = field_true(task, "critical") || (s && on_critical_path(plan, s));
}

int
planview_table(FILE *f, jv plan, int width)
{
    static const char *const head[NCOLS] = {
        "TASK", "ID", "FUNCTION", "SYSTEM", "ITEMS", "START", "DURATION"
    };
    int n = field_len(plan, "tasks");
    row *rows = n ? xcalloc((size_t)n, sizeof *rows) : NULL;
    size_t w[NCOLS];
    int64_t lo = 0, hi = 0, req = 0, t;
    int have_range = 0, have_req;
    strbuf sb = STRBUF_INIT;
    char *bar;
    int rc = 0;

    if (width <= 0)
        width = PLANVIEW_WIDTH;
    if (width > PLANVIEW_WIDTH_MAX)
        width = PLANVIEW_WIDTH_MAX;
    bar = xmalloc((size_t)width + 1);

#define WIDEN(x) do {                                                   \
        if (!have_range) { lo = hi = (x); have_range = 1; }             \
        else { if ((x) < lo) lo = (x); if ((x) > hi) hi = (x); }        \
    } while (0)

    /*
     * The chart runs from the plan's own start (or its first task's) to
     * its end: an earliest start before it (an order wanted later, whose
     * work could start now) does not squeeze the plan into the chart's
     * last columns.
     */
    if (field_time(plan, "startDate", &t) == 0)
        WIDEN(t);
    if (field_time(plan, "expectedCompletion", &t) == 0)
        WIDEN(t);
    for (int i = 0; i < n; i++) {
        jv task = field_at(plan, "tasks", i);
        table_row_fill(&rows[i], plan, task, i);
        jv_free(task);
        if (rows[i].have_start)
            WIDEN(rows[i].start);
        if (rows[i].have_end)
            WIDEN(rows[i].end);
    }
#undef WIDEN
    have_req = have_range && field_time(plan, "requestedDate", &req) == 0 &&
               req >= lo && req <= hi;

    table_header(&sb, plan);
    if (n == 0) {
        sb_adds(&sb, "no tasks\n");
        goto write;
    }

    for (int c = 0; c < NCOLS; c++) {
        w[c] = strlen(head[c]);
        for (int i = 0; i < n; i++)
            if (rows[i].cell[c].len > w[c])
                w[c] = rows[i].cell[c].len;
    }

    /* Column header; over the bar, the chart's first and last instants. */
    size_t line = sb.len;
    for (int c = 0; c < NCOLS; c++) {
        add_padded(&sb, head[c], w[c]);
        sb_adds(&sb, "  ");
    }
    if (have_range) {
        char a[CLOCK_RFC3339_MAX], b[CLOCK_RFC3339_MAX];
        short_time(lo, 0, a);
        short_time(hi, 0, b);
        size_t la = strlen(a), lb = strlen(b);
        if (la + 1 + lb <= (size_t)width) {
            sb_adds(&sb, a);
            for (size_t k = la + lb; k < (size_t)width; k++)
                sb_add(&sb, " ", 1);
            sb_adds(&sb, b);
        }
    }
    rtrim_line(&sb, line);

    for (int i = 0; i < n; i++) {
        line = sb.len;
        for (int c = 0; c < NCOLS; c++) {
            add_padded(&sb, rows[i].cell[c].buf, w[c]);
            sb_adds(&sb, "  ");
        }
        if (have_range) {
            draw_bar(bar, &rows[i], lo, hi, width);
            /* the requested date is marked where it hides no task's bar */
            if (have_req && (bar[bar_col(req, lo, hi, width)] == ' ' ||
                             bar[bar_col(req, lo, hi, width)] == '.'))
                bar[bar_col(req, lo, hi, width)] = '|';
            sb_add(&sb, bar, (size_t)width);
        }
        rtrim_line(&sb, line);
    }

write:
    if (fwrite(sb.buf, 1, sb.len, f) != sb.len || fflush(f) != 0 || ferror(f))
        rc = OSM_EIO;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < NCOLS; c++)
            sb_free(&rows[i].cell[c]);
    free(rows);
    free(bar);
    sb_free(&sb);
    return rc;
}
