/*
 * What osm-status reads from the order store, and the one thing it
 * writes (purging ended orders).  The SQL is in lib/store-status.c; the
 * documents built from these rows are lib/status.c's business.
 *
 * Conventions are those of store.h: functions return 0 or an OSM_E*
 * status with err filled in; times are int64 ms since the epoch, -1 for
 * none (SQL NULL); strings in the structs below are malloc'ed and freed
 * by the matching *_free function; jv arguments are consumed unless
 * said otherwise.
 */
#ifndef OSM_STORE_STATUS_H
#define OSM_STORE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

/* An order's row, as status documents need it. */
typedef struct store_status_order {
    int64_t id;
    char *external_id;          /* NULL: none */
    int64_t revision, plan_revision;
    char *cartridge, *cartridge_version, *order_type;
    char *state, *state_reason; /* state_reason NULL: none */
    int priority;
    int64_t requested_at, start_at, expected_at, late_ms, jeopardy_at;
    int64_t created_at, updated_at, started_at, ended_at;
    char *body;                 /* the internal order as JSON text; NULL unless asked for */
} store_status_order;

void store_status_order_free(store_status_order *o);

/*
 * Open and close a read snapshot (a deferred transaction) so that the
 * several reads that make one document agree with each other.  Nothing
 * is locked against writers (WAL).  store_status_read_end() is a no-op
 * when no snapshot is open.
 */
int store_status_read_begin(store *s, osm_err *err);
void store_status_read_end(store *s);

/* Order id into *o (store_status_order_free it); 66 "no such order: ID". */
int store_status_order_get(store *s, int64_t id, store_status_order *o, osm_err *err);

/* One item of an order. */
typedef struct store_status_item {
    char *item_id, *action, *spec;  /* spec NULL: none */
} store_status_item;

/* The items of order id, in order (*out, *n; store_status_items_free them). */
int store_status_items(store *s, int64_t id, store_status_item **out, size_t *n, osm_err *err);
void store_status_items_free(store_status_item *it, size_t n);

/* One task: a component of the current plan, or a fallout task. */
typedef struct store_status_task {
    int64_t id;
    char *function, *kind, *system, *state, *workgroup, *assignee;
    char *error, *external_status;  /* NULL: none */
    jv items;                       /* array of item ids */
    int attempts, temp_failures;
    int64_t expected_ms;            /* -1: none */
    int64_t started_at, ended_at, jeopardy_at, created_at;
    int64_t fallout_of;             /* fallout tasks: the failed task, or -1 */
} store_status_task;

/*
 * The tasks of order id (*out, *n, by id; store_status_tasks_free
 * them): those of plan revision plan_revision, then every fallout task
 * of the order, whatever its revision.
 */
int store_status_tasks(store *s, int64_t id, int64_t plan_revision, store_status_task **out,
                       size_t *n, osm_err *err);
void store_status_tasks_free(store_status_task *t, size_t n);

/*
 * What the fulfillment model needs of the manifest of cartridge
 * name@version (deployed, or kept for ended orders), as JSON text
 * (malloc'ed, into *json): {"fulfillmentStates": ..., "systems": {NAME:
 * {"statuses": ...}}}, members null where the manifest has none; *json
 * NULL when the manifest is not JSON.  66 when the store has no such
 * version.
 */
int store_status_manifest(store *s, const char *name, const char *version, char **json,
                          osm_err *err);

/*
 * Listing.  Every member narrows the list; NULL, jv_null() or -1 leave
 * it open.
 */
typedef struct store_status_filter {
    jv states;                  /* array of order states (not consumed), or jv_null() */
    const char *cartridge;
    const char *cartridge_version;
    const char *order_type;
    const char *external_id;
    int64_t since, until;       /* created at or after since, before until */
    int64_t limit, offset;      /* limit -1: no limit */
    int with_body;              /* fill in each order's body */
} store_status_filter;

/*
 * Call fn for each order matching f, by id, with the row (borrowed: it is
 * freed after fn returns).  fn may read the store (other statements);
 * the whole listing is one snapshot.  fn returning non-zero stops the
 * listing, and that status is returned.  The index used follows the
 * most selective filter given: external id, then states, then cartridge,
 * then creation time; without any the orders are read in id order.
 */
typedef int (*store_status_order_fn)(store_status_order *o, void *ctx);
int store_status_list(store *s, const store_status_filter *f, store_status_order_fn fn,
                      void *ctx, osm_err *err);

/*
 * The store-wide counts for a summary at instant now, in one snapshot,
 * into *out: {"byCartridge": [[name, version, state, count]...],
 * "openFallout": N, "late": N, "jeopardy": N}, where late and jeopardy
 * count open orders as status_late() and status_jeopardy() (lib/status.h)
 * define them.
 */
int store_status_summary(store *s, int64_t now, jv *out, osm_err *err);

/* One history event. */
typedef struct store_status_event {
    int64_t id, order_id, task_id; /* order_id, task_id 0: none */
    int64_t at;
    const char *type, *actor, *data;  /* borrowed; data is JSON text */
} store_status_event;

/*
 * Call fn for up to limit events with an id above after, by id: those of
 * the orders in orders (an array of ids, not consumed) when it is an
 * array, of the orders of cartridge cartridge_name when that is not NULL,
 * else every event (store-wide ones too).  *last is set to the id of the
 * last event passed to fn (after, when none).  fn returning non-zero
 * stops, and that status is returned.  The event is borrowed for the call.
 */
typedef int (*store_status_event_fn)(const store_status_event *e, void *ctx);
int store_status_events(store *s, jv orders, const char *cartridge_name, int64_t after, int limit,
                        store_status_event_fn fn, void *ctx, int64_t *last, osm_err *err);

/* The id of the latest event (0 when there is none) into *id. */
int store_status_last_event(store *s, int64_t *id, osm_err *err);

/*
 * Purge (in a transaction): delete up to limit ended orders — completed,
 * cancelled or aborted, that ended before before — with everything that
 * is theirs (items, versions, tasks, responses, events, notifications).
 * Open orders (failed ones included) are never touched.  *deleted is
 * how many orders went; fewer than limit means there are no more.
 */
int store_status_purge(store *s, int64_t before, int limit, int64_t *deleted, osm_err *err);

#endif
