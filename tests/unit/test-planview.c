/* lib/planview: the dot and table pictures of a plan document. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "diag.h"
#include "planview.h"
#include "xalloc.h"
#include "tap.h"

/*
 * Three tasks: t1 (completed) and t3 on the critical path, t3 an hour
 * after t1; t2 manual, with 20 minutes of slack.  The chart runs from
 * 10:00 to 11:20, so at the default 40 columns a column is 2 minutes,
 * and the requested date, 11:00, is column 30.
 */
static const char small_plan[] =
    "{ \"kind\": \"plan\", \"id\": 12, \"externalId\": \"CRM-1\","
    "  \"cartridge\": \"broadband\", \"cartridgeVersion\": \"1.0.0\","
    "  \"state\": \"in_progress\", \"planRevision\": 1,"
    "  \"startDate\": \"2026-11-26T10:00:00Z\", \"expectedCompletion\": \"2026-11-26T11:20:00Z\","
    "  \"requestedDate\": \"2026-11-26T11:00:00Z\", \"late\": true, \"lateBy\": \"PT20M\","
    "  \"duration\": \"PT1H20M\", \"criticalPath\": [\"t1\", \"t3\"],"
    "  \"tasks\": ["
    "    { \"key\": \"t1\", \"id\": 101, \"function\": \"allocate-port\", \"kind\": \"automated\","
    "      \"system\": \"inventory\", \"group\": \"1\", \"items\": [\"1\"], \"state\": \"completed\","
    "      \"duration\": \"PT10M\", \"earliestStart\": \"2026-11-26T10:00:00Z\","
    "      \"latestStart\": \"2026-11-26T09:50:00Z\", \"start\": \"2026-11-26T10:00:00Z\","
    "      \"end\": \"2026-11-26T10:10:00Z\", \"deadline\": \"2026-11-26T11:00:00Z\","
    "      \"critical\": true, \"after\": [] },"
    "    { \"key\": \"t2\", \"id\": 102, \"function\": \"install\", \"kind\": \"manual\","
    "      \"system\": null, \"group\": \"1\", \"items\": [\"1\", \"2\"], \"state\": \"pending\","
    "      \"duration\": \"PT20M\", \"earliestStart\": \"2026-11-26T10:10:00Z\","
    "      \"latestStart\": \"2026-11-26T10:30:00Z\", \"start\": \"2026-11-26T10:30:00Z\","
    "      \"end\": \"2026-11-26T10:50:00Z\", \"deadline\": null,"
    "      \"critical\": false, \"after\": [ { \"task\": \"t1\" } ] },"
    "    { \"key\": \"t3\", \"id\": 103, \"function\": \"bill\", \"kind\": \"automated\","
    "      \"system\": \"billing\", \"group\": \"order\", \"items\": [\"1\", \"2\"], \"state\": \"pending\","
    "      \"duration\": \"PT10M\", \"earliestStart\": \"2026-11-26T11:10:00Z\","
    "      \"latestStart\": \"2026-11-26T10:50:00Z\", \"start\": \"2026-11-26T11:10:00Z\","
    "      \"end\": \"2026-11-26T11:20:00Z\", \"deadline\": \"2026-11-26T11:00:00Z\","
    "      \"critical\": true, \"after\": [ { \"task\": \"t1\", \"delay\": \"PT1H\" }, { \"task\": \"t2\" } ] }"
    "  ] }";

static const char small_dot[] =
    "digraph \"order 12 (CRM-1)\" {\n"
    "    graph [rankdir=LR, labelloc=t, labeljust=l, fontname=\"Helvetica\", fontsize=12,\n"
    "           label=\"order 12 (CRM-1), broadband 1.0.0\\lstart 2026-11-26T10:00:00Z\\l"
    "expected completion 2026-11-26T11:20:00Z (PT1H20M)\\lrequested 2026-11-26T11:00:00Z\\l"
    "LATE by PT20M\\l\"];\n"
    "    node [style=filled, fontname=\"Helvetica\", fontsize=10, color=\"#404040\", fillcolor=\"#ffffff\"];\n"
    "    edge [fontname=\"Helvetica\", fontsize=9, color=\"#404040\"];\n"
    "    \"t1\" [label=\"allocate-port\\ninventory\\nitems 1\\nPT10M\\n11-26 10:00 - 10:10\", "
    "shape=box, fillcolor=\"#a1d99b\", color=\"#cc0000\", penwidth=3];\n"
    "    \"t2\" [label=\"install\\nmanual\\nitems 1, 2\\nPT20M\\n11-26 10:30 - 10:50\", "
    "shape=house, fillcolor=\"#eeeeee\"];\n"
    "    \"t3\" [label=\"bill\\nbilling\\nitems 1, 2\\nPT10M\\n11-26 11:10 - 11:20\", "
    "shape=box, fillcolor=\"#eeeeee\", color=\"#cc0000\", penwidth=3];\n"
    "    \"t1\" -> \"t2\";\n"
    "    \"t1\" -> \"t3\" [label=\"+PT1H\", color=\"#cc0000\", penwidth=3, style=bold];\n"
    "    \"t2\" -> \"t3\";\n"
    "}\n";

static const char small_table[] =
    "order 12 (CRM-1): start 2026-11-26T10:00:00Z, expected completion 2026-11-26T11:20:00Z, "
    "requested 2026-11-26T11:00:00Z, LATE by PT20M\n"
    "TASK  ID   FUNCTION       SYSTEM     ITEMS  START             DURATION  11-26 10:00                  11-26 11:20\n"
    "t1    101  allocate-port  inventory  1      2026-11-26 10:00  PT10M     #####                         |\n"
    "t2    102  install        manual     1,2    2026-11-26 10:30  PT20M          ..........==========     |\n"
    "t3    103  bill           billing    1,2    2026-11-26 11:10  PT10M                                   |    #####\n";

static const char empty_dot[] =
    "digraph \"plan\" {\n"
    "    graph [rankdir=LR, labelloc=t, labeljust=l, fontname=\"Helvetica\", fontsize=12,\n"
    "           label=\"plan\\lno requested date\\l\"];\n"
    "    node [style=filled, fontname=\"Helvetica\", fontsize=10, color=\"#404040\", fillcolor=\"#ffffff\"];\n"
    "    edge [fontname=\"Helvetica\", fontsize=9, color=\"#404040\"];\n"
    "}\n";

static jv
parse(const char *text)
{
    jv v = jv_parse(text);
    if (!jv_is_valid(v)) {
        jv msg = jv_invalid_get_msg(v);
        tap_diag("bad fixture: %s", jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "?");
        jv_free(msg);
        exit(99);
    }
    return v;
}

/* planview_table() into a string (free it); *rc its status. */
static char *
table(jv plan, int width, int *rc)
{
    /* the buffer's address lives on the heap: gcc 12 otherwise warns of a
     * dangling pointer once this function is inlined */
    struct { char *buf; size_t len; } *m = xcalloc(1, sizeof *m);
    FILE *f = open_memstream(&m->buf, &m->len);
    if (!f)
        exit(99);
    *rc = planview_table(f, plan, width);
    fclose(f);
    char *out = m->buf;
    free(m);
    return out;
}

static int have_dot;

/* Does Graphviz accept the text?  Vacuously yes without dot installed. */
static int
dot_accepts(const char *text)
{
    char path[] = "/tmp/test-planview-XXXXXX";
    int fd, ok_;
    FILE *f;

    if (!have_dot)
        return 1;
    fd = mkstemp(path);
    if (fd < 0 || !(f = fdopen(fd, "w")))
        exit(99);
    fputs(text, f);
    fclose(f);
    char *cmd = xasprintf("dot -Tsvg -o /dev/null '%s'", path);
    ok_ = system(cmd) == 0;
    free(cmd);
    unlink(path);
    return ok_;
}

static size_t
count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static void
test_small(void)
{
    jv plan = parse(small_plan);
    int rc = -1;

    char *dot = planview_dot(plan);
    is_str(dot, small_dot, "small plan: dot");
    ok(dot_accepts(dot), "small plan: dot accepts it");
    free(dot);

    char *t = table(plan, 0, &rc);
    is_int(rc, 0, "small plan: table status");
    is_str(t, small_table, "small plan: table at the default width");
    free(t);

    ok(jv_get_kind(plan) == JV_KIND_OBJECT && jv_get_refcnt(plan) == 1,
       "the plan is not consumed");
    jv_free(plan);
}

static void
test_escaping(void)
{
    /* function: say "hi"\now   condition: .a == "x\\y"   key: k"1 */
    jv plan = parse(
        "{ \"kind\": \"plan\", \"id\": 3, \"externalId\": \"A \\\"B\\\" \\\\ C\","
        "  \"tasks\": ["
        "    { \"key\": \"k\\\"1\", \"function\": \"say \\\"hi\\\"\\nnow\", \"kind\": \"rule\" },"
        "    { \"key\": \"k2\", \"function\": \"f\", \"kind\": \"timer\","
        "      \"after\": [ { \"task\": \"k\\\"1\", \"condition\": \".a == \\\"x\\\\\\\\y\\\"\","
        "                     \"until\": \".d\\r\\n| 1\" } ] } ] }");
    char *dot = planview_dot(plan);

    ok(strstr(dot, "digraph \"order 3 (A \\\"B\\\" \\\\ C)\" {\n") != NULL,
       "escaping: graph name quoted, with quotes and backslash escaped");
    ok(strstr(dot, "    \"k\\\"1\" [label=\"say \\\"hi\\\"\\nnow\\nrule\", shape=hexagon,") != NULL,
       "escaping: node id and label with quotes and a newline");
    ok(strstr(dot, "    \"k\\\"1\" -> \"k2\" [label=\"until .d\\n| 1\\nwhen .a == \\\"x\\\\\\\\y\\\"\"];\n")
       != NULL, "escaping: jq text of a wait, backslashes doubled, CRLF one line break");
    ok(strchr(dot, '\r') == NULL && count_char(dot, '\n') == 9,
       "escaping: no raw line break inside a string");
    ok(dot_accepts(dot), "escaping: dot accepts it");
    if (!strstr(dot, "shape=hexagon"))
        tap_diag("%s", dot);
    free(dot);
    jv_free(plan);
}

static void
test_empty(void)
{
    static const char *const odd[] = {
        "{\"kind\": \"plan\", \"tasks\": []}", "{}", "null", "[]", "\"plan\"", "42",
        "{\"tasks\": {\"t1\": {}}, \"criticalPath\": \"t1\", \"late\": \"yes\"}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        jv plan = parse(odd[i]);
        int rc = -1;
        char *dot = planview_dot(plan);
        char *t = table(plan, 20, &rc);
        is_str(dot, empty_dot, "empty plan %s: dot", odd[i]);
        is_str(t, "plan: no requested date\nno tasks\n", "empty plan %s: table", odd[i]);
        is_int(rc, 0, "empty plan %s: table status", odd[i]);
        if (i == 0)
            ok(dot_accepts(dot), "empty plan: dot accepts it");
        free(dot);
        free(t);
        jv_free(plan);
    }

    jv plan = parse("{\"kind\": \"plan\", \"id\": 7, \"externalId\": null, \"tasks\": [],"
                    " \"startDate\": \"2026-11-26T09:00:00Z\", \"requestedDate\": \"2026-11-27T00:00:00Z\"}");
    int rc = -1;
    char *t = table(plan, 0, &rc);
    is_str(t, "order 7: start 2026-11-26T09:00:00Z, requested 2026-11-27T00:00:00Z, on time\n"
              "no tasks\n", "plan without tasks: header line");
    free(t);
    jv_free(plan);
}

static void
test_null_dates(void)
{
    jv plan = parse(
        "{ \"kind\": \"plan\", \"id\": null, \"externalId\": \"CRM-9\\u00e9\", \"startDate\": null,"
        "  \"expectedCompletion\": null, \"requestedDate\": null, \"late\": false, \"lateBy\": null,"
        "  \"criticalPath\": null,"
        "  \"tasks\": ["
        "    { \"key\": \"a\", \"function\": \"caf\\u00e9\", \"kind\": \"robot\", \"system\": null,"
        "      \"items\": null, \"state\": \"exploded\", \"duration\": null, \"earliestStart\": null,"
        "      \"start\": null, \"end\": null,"
        "      \"after\": [ \"zz\", 3, null, { \"task\": null }, { \"task\": \"b\" } ] },"
        "    { \"function\": \"a-function-with-a-really-long-name-indeed\", \"state\": null,"
        "      \"kind\": \"timer\", \"start\": \"garbage\", \"items\": [1, 2.5, {\"x\": 1}, \"3\"] },"
        "    7"
        "  ] }");
    int rc = -1;
    char *dot = planview_dot(plan);
    char *t = table(plan, 0, &rc);

    ok(strstr(dot, "    \"a\" [label=\"caf\xc3\xa9\\nrobot\", shape=box, style=\"filled,dashed\", "
                   "fillcolor=\"#ffffff\"];\n") != NULL,
       "null dates: unknown kind dashed, unknown state white, no dates in the label");
    ok(strstr(dot, "    \"#2\" [label=\"a-function-with-a-really-long-name-indeed\\ntimer\\n"
                   "items 1, 2.5, 3\", shape=octagon, fillcolor=\"#eeeeee\"];\n") != NULL,
       "null dates: a task without key or state");
    ok(strstr(dot, "    \"#3\" [label=\"?\"") != NULL, "null dates: a task that is not an object");
    ok(strstr(dot, "    \"zz\" -> \"a\";\n    \"b\" -> \"a\";\n}\n") != NULL,
       "null dates: dependencies that name no task are drawn, malformed ones skipped");
    ok(dot_accepts(dot), "null dates: dot accepts it");
    is_int(rc, 0, "null dates: table status");
    is_str(t,
           "order CRM-9?: no requested date\n"
           "TASK  ID  FUNCTION                          SYSTEM  ITEMS    START  DURATION\n"
           "a     -   caf?                              robot   -        -      -\n"
           "#2    -   a-function-with-a-really-long...  timer   1,2.5,3  -      -\n"
           "#3    -   -                                 -       -        -      -\n",
           "null dates: table in ASCII, long cells cut, no bars");
    free(dot);
    free(t);
    jv_free(plan);
}

/* One task over the whole chart (critical), one over its second half. */
static void
test_scaling(void)
{
    jv plan = parse(
        "{ \"kind\": \"plan\", \"id\": 1, \"criticalPath\": [\"w\"], \"tasks\": ["
        "  { \"key\": \"w\", \"start\": \"2026-01-01T00:00:00Z\", \"end\": \"2026-01-04T00:00:00Z\","
        "    \"critical\": true },"
        "  { \"key\": \"h\", \"earliestStart\": \"2026-01-01T00:00:00Z\","
        "    \"start\": \"2026-01-02T12:00:00Z\", \"duration\": \"P1DT12H\" } ] }");
    static const int widths[][2] = { { 10, 10 }, { 0, 40 }, { -5, 40 }, { 73, 73 }, { 1, 1 },
                                     { 5000, PLANVIEW_WIDTH_MAX } };

    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        int rc = -1, want = widths[i][1];
        char *t = table(plan, widths[i][0], &rc);
        char *w = strstr(t, "\nw  ");
        char *h = strstr(t, "\nh  ");
        is_int(rc, 0, "width %d: status", widths[i][0]);
        if (!ok(w && h, "width %d: both rows", widths[i][0])) {
            free(t);
            continue;
        }
        *h = '\0';
        is_int(count_char(w, '#'), want, "width %d: the whole span fills %d columns",
               widths[i][0], want);
        is_int(count_char(h + 1, '=') + count_char(h + 1, '.'), want,
               "width %d: slack and span of the other fill %d columns", widths[i][0], want);
        if (want % 2 == 0)
            is_int(count_char(h + 1, '='), want / 2, "width %d: half of it is its span",
                   widths[i][0]);
        free(t);
    }
    jv_free(plan);

    /* Requested date at the very end, under a task's bar: the bar is whole. */
    plan = parse(
        "{ \"kind\": \"plan\", \"requestedDate\": \"2026-01-02T00:00:00Z\", \"tasks\": ["
        "  { \"key\": \"x\", \"start\": \"2026-01-01T00:00:00Z\", \"end\": \"2026-01-02T00:00:00Z\" } ] }");
    int rc = -1;
    char *t = table(plan, 8, &rc);
    ok(strstr(t, "\nx     -   -         -       -      2026-01-01 00:00  -         ========\n") != NULL,
       "requested date at the end of the chart, under a bar: the bar is whole");
    if (!strstr(t, "========\n"))
        tap_diag("%s", t);
    free(t);
    jv_free(plan);
}

/*
 * An order wanted later: its tasks could start now (earliestStart) but
 * are planned days on.  The chart starts at the plan's own start, each
 * task has its bar, and the task ids stand beside the plan's names.
 */
static void
test_future_dated(void)
{
    jv plan = parse(
        "{ \"kind\": \"plan\", \"id\": 6, \"startDate\": \"2027-02-25T00:00:00Z\","
        "  \"expectedCompletion\": \"2027-03-01T00:00:00Z\", \"requestedDate\": \"2027-03-01T00:00:00Z\","
        "  \"tasks\": ["
        "  { \"key\": \"t1\", \"id\": 44, \"earliestStart\": \"2026-11-26T09:00:00Z\","
        "    \"start\": \"2027-02-25T00:00:00Z\", \"end\": \"2027-02-27T00:00:00Z\", \"critical\": true },"
        "  { \"key\": \"t2\", \"id\": 45, \"earliestStart\": \"2026-11-26T09:00:00Z\","
        "    \"start\": \"2027-02-28T00:00:00Z\", \"end\": \"2027-02-28T00:00:01Z\" },"
        "  { \"key\": \"t3\", \"id\": 46, \"earliestStart\": \"2027-02-27T00:00:00Z\","
        "    \"start\": \"2027-02-27T00:00:00Z\", \"end\": \"2027-03-01T00:00:00Z\" } ] }");
    int rc = -1;
    char *t = table(plan, 8, &rc);
    is_int(rc, 0, "future-dated: status");
    is_str(t,
           "order 6: start 2027-02-25T00:00:00Z, expected completion 2027-03-01T00:00:00Z, "
           "requested 2027-03-01T00:00:00Z, on time\n"
           "TASK  ID  FUNCTION  SYSTEM  ITEMS  START             DURATION\n"
           "t1    44  -         -       -      2027-02-25 00:00  -         ####   |\n"
           "t2    45  -         -       -      2027-02-28 00:00  -               =|\n"
           "t3    46  -         -       -      2027-02-27 00:00  -             ====\n",
           "future-dated: the chart from the plan's start, a bar for each task, ids beside names");
    free(t);
    jv_free(plan);
}

/* Extreme dates and durations stay within the chart, without overflow. */
static void
test_extremes(void)
{
    jv plan = parse(
        "{ \"kind\": \"plan\", \"tasks\": ["
        "  { \"key\": \"a\", \"start\": \"0000-01-01T00:00:00Z\", \"end\": \"0000-01-01T00:00:00Z\" },"
        "  { \"key\": \"b\", \"start\": \"9999-12-31T00:00:00Z\", \"duration\": \"P99999999Y\" } ] }");
    int rc = -1;
    char *t = table(plan, 10, &rc);
    is_int(rc, 0, "extremes: status");
    ok(strstr(t, "\na ") && strstr(t, "  =\n") && strstr(t, "         =\n"),
       "extremes: one column at each end");
    free(t);
    jv_free(plan);
}

static void
test_write_error(void)
{
    FILE *f = fopen("/dev/full", "w");
    jv plan = parse(small_plan);
    if (!f) {
        ok(1, "# SKIP no /dev/full");
    } else {
        is_int(planview_table(f, plan, 0), OSM_EIO, "a write error is OSM_EIO");
        fclose(f);
    }
    jv_free(plan);
}

/* PLANVIEW_STATES: the state in words and an SVG id and class per task. */
static void
test_states(void)
{
    jv plan = parse(small_plan);
    char *dot = planview_dot_flags(plan, PLANVIEW_STATES);
    char *plain = planview_dot_flags(plan, 0);
    char *dflt = planview_dot(plan);

    is_str(plain, dflt, "states: flags 0 is planview_dot");
    ok(strstr(dot, "    \"t1\" [label=\"allocate-port\\ninventory\\nitems 1\\nPT10M\\n"
                   "11-26 10:00 - 10:10\\n(completed)\", id=\"task-101\", "
                   "class=\"task state-completed\", shape=box,") != NULL,
       "states: the state ends the label, the task id and state name the node");
    ok(strstr(dot, "id=\"task-102\", class=\"task state-pending\"") != NULL,
       "states: the manual task too");
    ok(dot_accepts(dot), "states: dot accepts it");
    free(dot);
    free(plain);
    free(dflt);
    jv_free(plan);

    /* a state that is not a word is kept out of the class, and escaped in the label */
    plan = parse("{ \"tasks\": [ { \"key\": \"a\", \"id\": 5, \"function\": \"f\","
                 "  \"state\": \"x\\\" onload=\\\"y\" } ] }");
    dot = planview_dot_flags(plan, PLANVIEW_STATES);
    ok(strstr(dot, "\\n(x\\\" onload=\\\"y)\", id=\"task-5\", class=\"task state-xonloady\"")
       != NULL, "states: an odd state escaped in the label, cut down in the class");
    if (!strstr(dot, "state-xonloady"))
        tap_diag("%s", dot);
    free(dot);
    jv_free(plan);
}

/* The SVG dot draws: one node per task, or 69 when dot is not there. */
static void
test_svg(void)
{
    jv plan = parse(small_plan);
    osm_err err = { 0, "" };
    char *svg = NULL;
    size_t len = 0;
    int rc;

    if (have_dot) {
        rc = planview_svg(plan, &svg, &len, &err);
        is_int(rc, 0, "svg: drawn");
        ok(svg && strlen(svg) == len && strstr(svg, "<svg"), "svg: an SVG document");
        ok(svg && strstr(svg, "<g id=\"task&#45;101\" class=\"node task state&#45;completed\">") &&
               strstr(svg, "<g id=\"task&#45;103\" class=\"node task state&#45;pending\">"),
           "svg: a node per task, with its id and state");
        ok(svg && strstr(svg, ">(completed)</text>"), "svg: the state in words");
        free(svg);
    } else {
        ok(1, "# SKIP dot is not installed");
    }

    /* without dot on PATH */
    const char *path = getenv("PATH");
    char *saved = path ? xstrdup(path) : NULL;
    setenv("PATH", "/nonexistent", 1);
    svg = (char *)"untouched";
    rc = planview_svg(plan, &svg, &len, &err);
    is_int(rc, OSM_EUNAVAILABLE, "svg without dot: 69");
    is_str(err.msg, "dot (Graphviz) is not installed", "svg without dot: the message");
    ok(svg == NULL, "svg without dot: no picture");
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
    jv_free(plan);
}

int
main(void)
{
    have_dot = system("command -v dot >/dev/null 2>&1") == 0;
    if (!have_dot)
        tap_diag("dot is not installed: the output is not checked with Graphviz");

    test_small();
    test_escaping();
    test_empty();
    test_null_dates();
    test_scaling();
    test_extremes();
    test_future_dated();
    test_write_error();
    test_states();
    test_svg();
    return done_testing();
}
