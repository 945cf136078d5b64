/*
 * Order status (DESIGN §10, osm-status(1)): the "status" document of an
 * order, the fulfillment states derived from a cartridge's model, the
 * TM Forum (TMF622) view of order states, history events as documents,
 * the store summary, and their renderings for people (tables) and for
 * Prometheus.
 *
 *   lib/status.c         documents: status, event, summary, purge
 *   lib/status-fulfil.c  fulfillment-state model and composition rules
 *   lib/status-view.c    tables and Prometheus text exposition
 *   lib/status-ops.c     listings through --jq, histories, the event feed,
 *                        waiting for orders, purging
 *
 * Ownership follows jv.h: jv arguments are consumed unless documented
 * as borrowed; documents returned are the caller's.  Times are int64 ms
 * since the epoch, -1 for none.
 */
#ifndef OSM_STATUS_H
#define OSM_STATUS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jv.h>

#include "diag.h"
#include "store-status.h"
#include "store.h"

/* ------------------------------------------------------------ states */

/* Is s one of the order states of DESIGN §12? */
int status_is_order_state(const char *s);

/* Terminal order states: completed, cancelled, aborted. */
int status_is_terminal(const char *s);

/*
 * The TMF622 ProductOrder state of an order in state s: not_started
 * acknowledged, in_progress and amending inProgress, suspended and
 * failed held (fallout can be fixed and the order resumed), cancelling
 * pendingCancellation, waiting_for_revision pending (the fix must come
 * from the source), cancelled cancelled, completed completed, aborted
 * partial when some work was done (any_done) else failed.  NULL for an
 * unknown state.
 */
const char *status_tmf_state(const char *s, int any_done);

/* ------------------------------------------------------------ fulfillment states */

/*
 * A cartridge's fulfillment-state model: its ordered states (least to
 * most advanced), the initial one, each system's map of external
 * statuses, and the item and order composition rules.  States are
 * handled as indices into the list; -1 means "no state" (the cartridge
 * declares none).
 */
typedef struct fulfil_model fulfil_model;

enum { FULFIL_ITEM, FULFIL_ORDER };

/*
 * Build the model of manifest (borrowed).  Never NULL: a manifest
 * without fulfillmentStates gives a model with no states, whose every
 * answer is -1.  Rules and statuses naming unknown states are ignored
 * (osm-cartridge check refuses them).
 */
fulfil_model *fulfil_model_new(jv manifest);
void fulfil_model_free(fulfil_model *m);

/* Number of states; the name of state idx (NULL when out of range). */
int fulfil_nstates(const fulfil_model *m);
const char *fulfil_state_name(const fulfil_model *m, int idx);
int fulfil_state_index(const fulfil_model *m, const char *name);

/* A failure state: one whose name contains "fail", in any case. */
int fulfil_is_failure(const fulfil_model *m, int idx);

/* The initial state (the declared one, else the first). */
int fulfil_initial(const fulfil_model *m);

/* The done state: the most advanced state that is not a failure state. */
int fulfil_done(const fulfil_model *m);

/*
 * The state of a component (task) of system (may be NULL) whose last
 * external status is external_status (may be NULL) and whose task state
 * is task_state: the state the system's statuses map the external status
 * to; else, for a completed or skipped task, the done state; for a
 * failed task, the first failure state (the initial one when there is
 * none); for any other task, the initial state.
 */
int fulfil_component(const fulfil_model *m, const char *system, const char *external_status,
                     const char *task_state);

/*
 * Compose the n states (indices) of an item's components (level
 * FULFIL_ITEM) or of an order's items (FULFIL_ORDER) by the cartridge's
 * rules for that level: the first rule whose conditions all hold gives
 * the state ("any": one of the states is listed; "all": every one is;
 * "none": none is; no condition: always).  Without rules, or when none
 * holds: a failure state when there is one among them (the least
 * advanced such), else the least advanced state.  n == 0 gives the
 * initial state.
 */
int fulfil_compose(const fulfil_model *m, int level, const int *states, size_t n);

/* ------------------------------------------------------------ documents */

typedef struct status_ctx status_ctx;

/*
 * A context reading st (borrowed; it must outlive the context), caching
 * each cartridge version's fulfillment model once per process.
 */
status_ctx *status_new(store *st);
void status_free(status_ctx *c);

/* The store c reads. */
store *status_store(status_ctx *c);

/* Documents without items, tasks and fallout (listings). */
#define STATUS_BRIEF 1

/*
 * The status document (specs/status.schema.json) of order id at instant
 * now, read in one snapshot, into *out.  66 "no such order: ID"; store
 * errors as store.h says.
 */
int status_document(status_ctx *c, int64_t id, int64_t now, int flags, jv *out, osm_err *err);

/* The same for an order row already read (a listing: no snapshot of its own). */
int status_document_row(status_ctx *c, const store_status_order *o, int64_t now, int flags,
                        jv *out, osm_err *err);

/*
 * Lateness of an order: the time by which it misses its requested date
 * (0: it does not, or has none).  An open order is late by how far its
 * expected completion, or now when that has passed, is after the
 * requested date; an ended one by how far its end was.
 */
int64_t status_late_ms(const store_status_order *o, int64_t now);

/* The event document {kind: "event", id, order, task, at, type, actor, data}. */
jv status_event_document(const store_status_event *e);

/*
 * The summary document {kind: "summary", at, orders, byState,
 * byCartridge, openFallout, jeopardy, late} from store_status_summary()'s
 * counts (consumed).
 */
jv status_summary_document(jv counts, int64_t now);

/* ------------------------------------------------------------ operations */

/* A --jq predicate, compiled once (about 20 ms: jq 1.6 compiles its builtins). */
typedef struct status_pred status_pred;

/* Compile expr; OSM_ECONFIG "--jq: MESSAGE" when it does not compile. */
int status_pred_new(const char *expr, status_pred **out, osm_err *err);
void status_pred_free(status_pred *p);

/*
 * Where the operations below send what they find: doc gets each document
 * (consumed) and returns 0, or a status that stops the operation and is
 * returned by it; warn (may be NULL) gets a one-line message about a
 * predicate failing on an order or event ("order 12: --jq: MESSAGE"),
 * which then counts as not holding.  The operation goes on with the
 * others, and then returns that failure's status (65) with err left
 * clear: what went wrong has been told to warn already.
 */
typedef struct status_sink {
    int (*doc)(jv doc, void *ctx);
    void (*warn)(const char *msg, void *ctx);
    void *ctx;
} status_sink;

/*
 * The brief status documents of the orders f selects and, when pred is
 * not NULL, for whose internal order pred holds; f's offset and limit
 * then count the orders pred lets through.
 */
int status_list(status_ctx *c, const store_status_filter *f, status_pred *pred, int64_t now,
                const status_sink *out, osm_err *err);

/* The events of order id with ids above after (and for which pred holds); 66 if no such order. */
int status_history(status_ctx *c, int64_t id, int64_t after, status_pred *pred, int64_t now,
                   const status_sink *out, osm_err *err);

/*
 * The event feed: events as they are committed, with ids above after (-1:
 * after the latest event now), of the orders in orders (an array, not
 * consumed) or of cartridge cartridge_name's orders, when given, and for
 * which pred holds; the store is looked at again every poll_ms when
 * nothing was new, until *stop is set (returns 0).  A store busy for a
 * moment is looked at again later.
 */
int status_follow(status_ctx *c, jv orders, const char *cartridge_name, int64_t after,
                  status_pred *pred, int poll_ms, volatile sig_atomic_t *stop,
                  const status_sink *out, osm_err *err);

/* An order in state s has ended for --wait: terminal, failed or waiting_for_revision. */
int status_has_ended(const char *s);

/*
 * Wait until every order of ids (an array of existing order ids, not
 * consumed) has ended or is gone, looking every 50 ms at first, then
 * less often, up to every 500 ms.  Returns 0; OSM_ETEMPFAIL "--timeout:
 * the orders have not ended" once timeout_ms (-1: none; real time) has
 * passed; 128 + the signal when *stop is set to one.
 */
int status_wait(status_ctx *c, jv ids, int64_t timeout_ms, volatile sig_atomic_t *stop,
                osm_err *err);

/*
 * Delete the orders that ended before before (store_status_purge), batch
 * orders per transaction, until none is left or *stop (may be NULL) is
 * set; progress (may be NULL) is told the running total after each
 * batch.  *deleted is how many went (also on error: what was committed).
 * When some did, an "orders.purged" event {before, deleted} by actor
 * records it.
 */
int status_purge(status_ctx *c, int64_t before, int batch, const char *actor,
                 volatile sig_atomic_t *stop, void (*progress)(int64_t total, void *ctx),
                 void *ctx, int64_t *deleted, osm_err *err);

/* ------------------------------------------------------------ renderings */

/*
 * Every renderer borrows its documents, writes plain ASCII lines without
 * trailing blanks, and returns 0, or OSM_EIO when writing to f fails.
 * Missing or odd fields are left blank, never an error.
 */

/* One order's status document in full, for a person. */
int status_view_order(FILE *f, jv doc);

/*
 * Status documents (an array, brief or not) as rows of a listing: id,
 * external id, cartridge, state, a progress bar, age (now - createdAt),
 * expected completion and flags (late, jeopardy, fallout).  A listing
 * printed in several calls keeps its layout in *widths (zeroed before
 * the first call, which prints the column header): columns only grow.
 * Each state is coloured on a terminal (termtable.h).
 */
#define STATUS_LIST_COLUMNS 8
typedef struct status_list_widths {
    size_t w[STATUS_LIST_COLUMNS];
    int header_done;
} status_list_widths;

int status_view_list(FILE *f, jv docs, status_list_widths *widths, int64_t now);

/*
 * Event documents (an array) as rows of a table: id, time, order, task,
 * type, actor and details.  A history or a followed feed printed in several
 * calls keeps its layout in *widths, as a listing does.
 */
#define STATUS_EVENT_COLUMNS 7
int status_view_events(FILE *f, jv events, status_list_widths *widths);

/* The summary document as a table, or as Prometheus text exposition. */
int status_view_summary(FILE *f, jv summary);
int status_view_prometheus(FILE *f, jv summary);

#endif
