/*
 * The operator's view (osm-status --format html, osm-status(1) HTML
 * REPORT): static HTML pages generated from the order store, to open
 * from disk or serve with any static web server, refreshed by cron.
 *
 * The index: counts by state and by cartridge, late orders and orders in
 * jeopardy first, open fallout with its error, the worklist of each
 * workgroup (manual and fallout tasks waiting for a person), and every
 * order.  An order's page: its states (osm, TMF622, fulfillment,
 * processing), items, the plan drawn by Graphviz as SVG with a node per
 * task coloured and labelled by its state (a table when dot is not
 * installed), the Gantt chart of expected against actual times, fallout,
 * earlier versions side by side, the order's data, and its history
 * (every event, every hook request and response), collapsed.
 *
 * Every page is self-contained: inline CSS, no resource fetched (a
 * Content-Security-Policy meta tag allows nothing but the page's own
 * style sheet and script, by their hashes), readable without
 * JavaScript; the one script, on the index, only hides the rows of the
 * order table that do not match what is typed in its filter box.  All
 * order data is escaped for HTML: nothing in an order can become markup.
 * States are written in words; colour only repeats them.
 *
 *   lib/report.c        what the pages show, put together: a page, a directory
 *   lib/report-index.c  the index
 *   lib/report-order.c  an order's page
 *   lib/report-gantt.c  its Gantt chart
 *   lib/report-html.c   escaping, the page frame, pieces every page uses
 *
 * Ownership follows jv.h; nothing here consumes the caller's jv.
 */
#ifndef OSM_REPORT_H
#define OSM_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jv.h>

#include "diag.h"
#include "status.h"
#include "store-status.h"

typedef struct report report;

typedef struct report_opts {
    int64_t now;                /* the instant the pages are as of */
    const char *title;          /* the index's heading; NULL: "Orders" */
    /* told once when a plan cannot be drawn with dot (and is a table
     * instead) for another reason than dot not being installed; may be NULL */
    void (*warn)(const char *msg, void *ctx);
    void *ctx;
} report_opts;

/* A report reading through sc (borrowed; it must outlive the report). */
report *report_new(status_ctx *sc, const report_opts *opts);
void report_free(report *r);

/* The orders of a report: ids (an array) when it is one, else a listing. */
typedef struct report_select {
    jv ids;                             /* borrowed; jv_null(): the listing */
    const store_status_filter *filter;  /* the listing's filters */
    status_pred *pred;                  /* and --jq, or NULL */
} report_select;

/*
 * One page on f.  For ids, the page of each order (one after the other);
 * for a listing, its index followed by the page of each order listed,
 * which the index links to within the page.  For ids, nothing is written
 * when an order cannot be read: 66 "no such order: ID", store errors as
 * store.h says; a listing's pages are written as they are made, and an
 * order gone from the store since it was listed is left out.  OSM_EIO,
 * with err left clear, when writing to f fails: what went wrong is f's
 * (ferror, errno), for the caller to say.
 */
int report_page(report *r, const report_select *sel, FILE *f, osm_err *err);

/*
 * The pages in directory dir (created, with the caller's umask, when
 * missing; its parent must exist): index.html, the index of the orders
 * selected; order-ID.html for each of them; and, for each state and each
 * cartridge that has orders among them, state-STATE.html and
 * cartridge-NAME.html listing those (the filters of the index, as
 * links).  Each file is written under a temporary name and renamed, so
 * that a reader (or a web server) never sees half a page.  Errors as
 * report_page(), and OSM_EIO "DIR/FILE: REASON" when a file cannot be
 * written (the files written before it stay).
 */
int report_dir(report *r, const report_select *sel, const char *dir, osm_err *err);

#endif
