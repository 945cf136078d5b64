/*
 * Internals shared by lib/report*.c, and nothing else: the report
 * handle, and the pieces of HTML every page is made of (report-html.c).
 *
 * Pages are built in a strbuf.  Every report_* writer below escapes what
 * it is given; the only text appended raw is the markup of these files
 * and SVG made by dot (whose text dot escapes for XML).
 */
#ifndef OSM_REPORT_INT_H
#define OSM_REPORT_INT_H

#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "report.h"
#include "status.h"
#include "xalloc.h"

struct report {
    status_ctx *sc;
    store *st;
    int64_t now;
    char *title;
    int no_dot;                 /* dot is not installed: plans are tables */
    int dot_warned;             /* dot failed otherwise, and that was said */
    void (*warn)(const char *msg, void *ctx);
    void *ctx;
};

/* How pages link to an order's page: within the page, or to its file. */
enum { REPORT_LINK_ANCHOR, REPORT_LINK_FILE };

/* ------------------------------------------------------------ escaping */

/*
 * Append s escaped for HTML text and for a quoted attribute value: & < >
 * " ' as character references; control characters but tab, line feed
 * and carriage return as U+FFFD.  NULL appends nothing.
 */
void report_esc(strbuf *sb, const char *s);

/* s escaped, or an en dash when s is NULL or empty. */
void report_text(strbuf *sb, const char *s);

/* v (borrowed) as JSON text, indented by two when pretty, escaped. */
void report_json(strbuf *sb, jv v, int pretty);

/* The member key of doc (borrowed) as text: a string, a number, else a dash. */
void report_field(strbuf *sb, jv doc, const char *key);

/* ------------------------------------------------------------ documents */

/*
 * Members of a document (borrowed): key as an RFC 3339 instant in ms
 * (-1: absent or not one), as a whole number (dflt: absent or not one),
 * as true.
 */
int64_t report_doc_time(jv doc, const char *key);
int64_t report_doc_int(jv doc, const char *key, int64_t dflt);
int report_doc_true(jv doc, const char *key);

/*
 * The member of doc's "tasks" (a plan or a status document, borrowed)
 * whose id is id, or null; the caller's.
 */
jv report_task_of(jv doc, int64_t id);

/* ------------------------------------------------------------ values */

/*
 * An instant given as RFC 3339 text, or as ms (-1: none): "2026-11-26
 * 09:00" (seconds when they are not zero) in a <time> element whose
 * datetime is the full instant; a dash for none.
 */
void report_time(strbuf *sb, const char *rfc3339);
void report_time_ms(strbuf *sb, int64_t ms);

/* The short form above, plain, into out (CLOCK_RFC3339_MAX bytes). */
void report_short_time(int64_t ms, char *out);

/* A length of time for people: "3d 4h", "2h 5m", "4m", "12s". */
void report_age(strbuf *sb, int64_t ms);

/*
 * A state in words in a badge coloured by it: <span class="st st-STATE">
 * with the state as its text (the class keeps only letters, digits and
 * '_'; an unknown state gets the plain badge).
 */
void report_state(strbuf *sb, const char *state);

/* The flags of a status document (borrowed): "late", "jeopardy", "fallout", in words. */
void report_flags(strbuf *sb, jv doc);

/* A link to order id's page, reading "ID". */
void report_order_link(strbuf *sb, int64_t id, int link);

/* A progress bar of a status document (borrowed): percent of expected work and tasks done. */
void report_progress(strbuf *sb, jv doc);

/* A heading of level, its text markup as given (never order data). */
void report_heading(strbuf *sb, int level, const char *text);

/* The order states of DESIGN §12, in that order. */
#define REPORT_NSTATES 10
extern const char *const report_order_states[REPORT_NSTATES];

/*
 * The file of a filter page: "state-STATE.html", "cartridge-NAME.html",
 * the name kept to letters, digits, '_', '.' and '-' (others as ~XX, and
 * a leading '.' or '-' too), so that it is one plain file name and URL.
 */
void report_state_file(strbuf *sb, const char *state);
void report_cartridge_file(strbuf *sb, const char *name);

/* ------------------------------------------------------------ pages */

/*
 * The page up to and including <main>: doctype, charset, viewport, the
 * Content-Security-Policy, title, the style sheet, and a header with a
 * link to the index when index is not NULL (its file name).
 */
void report_page_begin(strbuf *sb, const char *title, const char *index);

/*
 * The page from </main> on: a footer saying when it was generated (as of
 * now), and the filter script when script is set.
 */
void report_page_end(strbuf *sb, int64_t now, int script);

/*
 * Write sb to dir/name whole: to a temporary file beside it, then
 * renamed.  OSM_EIO "DIR/NAME: REASON" on failure (nothing left behind).
 */
int report_write_file(const char *dir, const char *name, const strbuf *sb, osm_err *err);

/* ------------------------------------------------------------ the index (report-index.c) */

/*
 * The index of the orders of docs (brief status documents, borrowed),
 * with the people's open work of those orders in work (store_task_list()
 * rows, by workgroup; borrowed): its heading, the counts, late and
 * jeopardy orders, open fallout, worklists and every order, inside
 * <main>.  Orders link as link says; with REPORT_LINK_FILE the index
 * also links to the filter pages of a directory.
 */
void report_index(report *r, strbuf *sb, jv docs, jv work, int link);

/* The table of every order of docs (borrowed), id "orders". */
void report_orders_table(strbuf *sb, jv docs, int link);

/* The filter box of that table (shown by the page's script). */
void report_filter_box(strbuf *sb);

/* ------------------------------------------------------------ orders (report-order.c) */

/*
 * Append the page of order id as an <article id="order-ID">, its title a
 * heading of level (1 or 2; its sections one below).  Everything is read in one snapshot of the
 * store; the plan is drawn after.  66 "no such order: ID"; store errors.
 * On error sb is as it was.
 */
int report_order(report *r, int64_t id, int level, strbuf *sb, osm_err *err);

/* ------------------------------------------------------------ Gantt (report-gantt.c) */

/*
 * The chart of the expected times (plan document plandoc) against the
 * actual ones (status document st) of each task of order id, both
 * borrowed, as an inline SVG figure under a heading of level.
 */
void report_gantt(report *r, strbuf *sb, jv st, jv plandoc, int64_t id, int level);

#endif
