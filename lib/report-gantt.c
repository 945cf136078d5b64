/*
 * The Gantt chart of an order's page (see report-int.h): a row per task
 * of the plan, its expected span (as planned) as an open bar over its
 * actual one (as it ran) filled in the colour of its state, on one time
 * axis with the requested date and now marked.  Drawn as inline SVG
 * here, not by dot: a few rectangles need no layout, and every bar
 * carries a <title> in words.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "report-int.h"

#define GANTT_W 1000        /* viewBox width */
#define GANTT_LABEL 210     /* the task names' column */
#define GANTT_TOP 36        /* the axis */
#define GANTT_ROW 26
#define GANTT_BOTTOM 22     /* the markers' names */

typedef struct gantt_row {
    const char *label, *state;  /* borrowed from the plan document */
    int64_t es, ee, as, ae;     /* expected and actual start and end; -1: none */
    int ongoing;                /* started, not ended: actual runs to now */
} gantt_row;

/* The actual bar's colour, by task state. */
static const char *
gantt_fill(const char *state)
{
    static const char *const fills[][2] = {
        { "completed", "#2da44e" }, { "skipped", "#8ddb9e" }, { "failed", "#cf222e" },
        { "running", "#0969da" }, { "waiting", "#54aeff" }, { "claimed", "#e16f24" },
        { "undoing", "#8250df" }, { "undone", "#a475f9" },
    };
    for (size_t i = 0; state && i < sizeof fills / sizeof fills[0]; i++)
        if (strcmp(state, fills[i][0]) == 0)
            return fills[i][1];
    return "#8c959f";
}

/* x of instant t on the chart [lo, hi], one decimal. */
static double
gantt_x(int64_t t, int64_t lo, int64_t hi)
{
    return GANTT_LABEL + (double)(t - lo) * (GANTT_W - GANTT_LABEL - 12) / (double)(hi - lo);
}

/* Append at most max characters of s (UTF-8 aware), escaped, with "…" when cut. */
static void
add_cut(strbuf *sb, const char *s, size_t max)
{
    size_t chars = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) == 0x80)
            continue;
        if (chars++ == max)
            break;
    }
    char *part = xstrndup(s, i);
    report_esc(sb, part);
    free(part);
    if (s[i])
        sb_adds(sb, "\xe2\x80\xa6");
}

static void
gantt_bar(strbuf *sb, const gantt_row *g, int64_t a, int64_t b, int64_t lo, int64_t hi, double y,
          double h, int actual)
{
    double x0 = gantt_x(a, lo, hi), x1 = gantt_x(b < a ? a : b, lo, hi);
    if (x1 - x0 < 2)
        x1 = x0 + 2;
    sb_addf(sb, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "rx=\"2\" ", actual ? "actual" : "expected", x0, y, x1 - x0, h);
    if (actual)
        sb_addf(sb, "fill=\"%s\">", gantt_fill(g->state));
    else
        sb_adds(sb, "fill=\"#ffffff\" stroke=\"#57606a\">");
    sb_adds(sb, "<title>");
    report_esc(sb, g->label);
    sb_adds(sb, actual ? ": actual " : ": expected ");
    char ta[CLOCK_RFC3339_MAX], tb[CLOCK_RFC3339_MAX];
    report_short_time(a, ta);
    report_short_time(b, tb);
    sb_addf(sb, "%s \xe2\x80\x93 %s", ta, tb);
    if (actual) {
        sb_adds(sb, g->ongoing ? " (still " : " (");
        report_esc(sb, g->state ? g->state : "pending");
        sb_adds(sb, ")");
    }
    sb_adds(sb, "</title></rect>\n");
}

void
report_gantt(report *r, strbuf *sb, jv st, jv plandoc, int64_t id, int level)
{
    jv tasks = json_get(plandoc, "tasks");
    int n = jv_get_kind(tasks) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tasks)) : 0;
    gantt_row *rows = NULL;
    int64_t lo = -1, hi = -1, req = report_doc_time(st, "requestedDate");
    int ongoing = 0;

    report_heading(sb, level, "Expected and actual times");
    if (n == 0) {
        sb_adds(sb, "<p>No plan, no times yet.</p>\n");
        jv_free(tasks);
        return;
    }
    rows = xcalloc((size_t)n, sizeof *rows);
#define WIDEN(t) do { if ((t) >= 0) { if (lo < 0 || (t) < lo) lo = (t); \
                                      if (hi < 0 || (t) > hi) hi = (t); } } while (0)
    for (int i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(tasks), i);
        jv s = report_task_of(st, report_doc_int(t, "id", 0));
        gantt_row *g = &rows[i];
        /* borrowed from tasks, which the chart holds until it is drawn */
        g->label = json_str(t, "function") ? json_str(t, "function") : "?";
        g->state = json_str(t, "state");
        g->es = report_doc_time(t, "start");
        g->ee = report_doc_time(t, "end");
        g->as = report_doc_time(s, "startedAt");
        g->ae = report_doc_time(s, "endedAt");
        if (g->as >= 0 && g->ae < 0) {
            g->ongoing = 1;
            g->ae = r->now > g->as ? r->now : g->as;
            ongoing = 1;
        }
        WIDEN(g->es);
        WIDEN(g->ee);
        WIDEN(g->as);
        WIDEN(g->ae);
        jv_free(s);
        jv_free(t);
    }
    WIDEN(req);
    if (ongoing)
        WIDEN(r->now);
#undef WIDEN
    if (lo < 0) {
        sb_adds(sb, "<p>No times yet.</p>\n");
        free(rows);
        jv_free(tasks);
        return;
    }
    if (hi <= lo)
        hi = lo + 60000;

    int height = GANTT_TOP + n * GANTT_ROW + GANTT_BOTTOM;
    sb_addf(sb, "<figure class=\"gantt scroll\" id=\"gantt-%lld\">\n<svg viewBox=\"0 0 %d %d\" "
                "role=\"img\" aria-labelledby=\"gantt-%lld-title\" "
                "font-family=\"system-ui, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
                "<title id=\"gantt-%lld-title\">Expected and actual times of the %d tasks of "
                "order %lld</title>\n",
            (long long)id, GANTT_W, height, (long long)id, (long long)id, n, (long long)id);
    for (int k = 0; k <= 4; k++) {
        int64_t t = lo + (hi - lo) * k / 4;
        char when[CLOCK_RFC3339_MAX];
        double x = gantt_x(t, lo, hi);
        report_short_time(t - t % 60000, when);
        sb_addf(sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#d0d7de\"/>"
                    "<text x=\"%.1f\" y=\"20\" text-anchor=\"%s\" fill=\"#59636e\">%s</text>\n",
                x, x, GANTT_TOP - 8, height - GANTT_BOTTOM, x,
                k == 0 ? "start" : k == 4 ? "end" : "middle", when);
    }
    for (int i = 0; i < n; i++) {
        const gantt_row *g = &rows[i];
        double y = GANTT_TOP + i * GANTT_ROW;
        if (i % 2)
            sb_addf(sb, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#f6f8fa\"/>\n",
                    y, GANTT_W, GANTT_ROW);
        sb_addf(sb, "<text x=\"4\" y=\"%.1f\">", y + 17);
        add_cut(sb, g->label, 30);
        sb_adds(sb, "</text>\n");
        if (g->es >= 0)
            gantt_bar(sb, g, g->es, g->ee >= 0 ? g->ee : g->es, lo, hi, y + 3, 9, 0);
        if (g->as >= 0)
            gantt_bar(sb, g, g->as, g->ae, lo, hi, y + 14, 9, 1);
    }
    static const struct { const char *name, *colour, *dash; } marks[] = {
        { "requested", "#a40e26", "5 3" }, { "now", "#0550ae", "2 2" },
    };
    int64_t mark_at[] = { req, r->now };
    for (int k = 0; k < 2; k++) {
        if (mark_at[k] < lo || mark_at[k] > hi)
            continue;
        double x = gantt_x(mark_at[k], lo, hi);
        sb_addf(sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    "stroke-width=\"1.5\" stroke-dasharray=\"%s\"/><text x=\"%.1f\" y=\"%d\" "
                    "text-anchor=\"%s\" fill=\"%s\">%s</text>\n",
                x, x, GANTT_TOP - 4, height - GANTT_BOTTOM + 4, marks[k].colour, marks[k].dash,
                x, height - 6, x > GANTT_W - 60 ? "end" : "middle", marks[k].colour,
                marks[k].name);
    }
    sb_adds(sb, "</svg>\n<figcaption>Open bars: expected, as planned. Filled bars: actual, "
                "coloured by the task's state (green completed, blue running or waiting, "
                "orange claimed, red failed); a task still under way runs to now. Dashed red "
                "line: the requested date; dotted blue line: now.</figcaption>\n</figure>\n");
    free(rows);
    jv_free(tasks);
}
