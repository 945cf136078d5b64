/*
 * Revisions in the store (DESIGN §11): reading an order's current plan
 * with what a revision compares, and writing a revision — accepted (the
 * new order data, its items, the next plan revision with the components
 * kept, the compensation tasks and the new ones) or rejected (recorded,
 * the order untouched) — each in the caller's transaction.
 *
 * Conventions as in store.h.
 */
#ifndef OSM_STORE_REVISE_H
#define OSM_STORE_REVISE_H

#include <stdint.h>

#include <jv.h>

#include "order.h"
#include "plan.h"
#include "store.h"

/* A task of an order's current plan, as a revision sees it. */
typedef struct revise_old {
    int64_t id;
    char *function, *kind, *system, *group, *state, *mode;
    jv items;               /* item ids */
    char *request;          /* what it sent (NULL: nothing yet) */
    int64_t *deps;          /* ids of the tasks it waits for */
    size_t ndeps;
} revise_old;

/*
 * The tasks of order id's current plan (its plan revision *plan_rev),
 * compensation tasks included, in id order.  revise_old_free() them.
 */
int store_revise_current(store *s, int64_t id, int64_t *plan_rev, revise_old **out, size_t *n,
                         osm_err *err);
void revise_old_free(revise_old *t, size_t n);

/* A task of the new plan revision. */
typedef struct revise_task {
    int64_t move_id;        /* > 0: this task of the old plan moves to the new one
                               as it stands; the rest of the fields are ignored */
    const char *function, *kind, *system, *group, *workgroup;
    jv items;               /* not consumed */
    int64_t expected_ms, earliest_start, latest_start, not_before;
    int critical;
    const char *mode;       /* do, undo, redo */
    int amend;
    int64_t compensates;
    const char *request;            /* undo: what it sends again */
    const char *previous_request;   /* redo: what was done before */
    int *deps;              /* indices of tasks of this new plan it waits for */
    const struct plan_dep **waits;  /* per dep: its wait (delay, until, condition), or NULL */
    size_t ndeps;
    int64_t *dep_ids;       /* ids of old tasks it waits for (still running) */
    size_t ndep_ids;
    int64_t id;             /* out: its id */
} revise_task;

typedef struct revise_apply {
    const order_rec *order;     /* the new version: id, revision, original, body, items,
                                   priority, requested_at */
    const char *state;          /* the order's state from now on */
    const char *reason;         /* of the state change, or NULL */
    jv old_plan;                /* the superseded plan's document (not consumed) */
    revise_task *tasks;
    size_t ntasks;
    const int64_t *cancel;      /* old tasks cancelled (pending ones the new plan drops) */
    size_t ncancel;
    int64_t start_at, expected_at, late_ms;
    jv document;                /* the event's data (not consumed) */
    const char *event;          /* an event to record with it, or NULL */
} revise_apply;

/* store_revise_apply(): the order ended before the revision could apply */
#define OSM_ENDED_MEANWHILE (-2)

/*
 * Apply a revision to order a->order->id (in a transaction), unless it has
 * ended meanwhile (OSM_ENDED_MEANWHILE, nothing written): the old
 * version goes to order_versions (superseded, with its plan), the order
 * takes the new data, items and state and the next plan revision, tasks
 * move or are inserted, old ones cancelled, dependencies written and
 * counted, and the events recorded.  Sets each task's id.
 */
int store_revise_apply(store *s, revise_apply *a, const char *actor, int64_t now,
                       osm_err *err);

/*
 * Record a rejected revision of order id (in a transaction): the version
 * in order_versions as rejected with reason, and a "revision.rejected"
 * event with the document; nothing of the order changes.
 */
int store_revise_reject(store *s, int64_t id, const order_rec *rejected, const char *reason,
                        jv document, const char *actor, int64_t now, osm_err *err);

/*
 * The document of plan revision `revision` of order id, as it was when a
 * revision replaced it (*doc, the caller's).  66 when there is none (the
 * current plan is not kept here: store_plan_load() reads it).
 */
int store_plan_version(store *s, int64_t id, int64_t revision, jv *doc, osm_err *err);

#endif
