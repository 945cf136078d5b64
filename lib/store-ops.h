/*
 * What operators do to the store (osm-task): workgroups and their
 * members, manual and fallout tasks, and order operations.  SQL for it
 * lives in lib/store-ops.c; the rules (who may, which state allows what)
 * in lib/taskops.c.
 */
#ifndef OSM_STORE_OPS_H
#define OSM_STORE_OPS_H

#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

/* Make sure workgroup name exists (declared by cartridge, or by the site). */
int store_workgroup_ensure(store *s, const char *name, const char *cartridge_name, int fallout,
                           int64_t now, osm_err *err);
int store_workgroup_exists(store *s, const char *name, int *exists, osm_err *err);

/* Add user to workgroup (*changed 0 when already a member). */
int store_member_add(store *s, const char *workgroup, const char *user, const char *by,
                     int64_t now, int *changed, osm_err *err);
int store_member_remove(store *s, const char *workgroup, const char *user, int *changed,
                        osm_err *err);
/* Members as [{workgroup, user, addedAt (ms), addedBy}], of one workgroup or all. */
int store_members(store *s, const char *workgroup, jv *out, osm_err *err);
int store_is_member(store *s, const char *workgroup, const char *user, int *yes, osm_err *err);

/*
 * Task id as an object {id, order, orderState, function, taskKind, system,
 * state, workgroup, assignee, error, falloutOf, attempts, externalStatus,
 * items, request, response, createdAt, updatedAt, startedAt, endedAt}
 * (times in ms, absent ones null).  66 when there is none.
 */
int store_task_get(store *s, int64_t id, jv *out, osm_err *err);

typedef struct store_task_query {
    const char *workgroup, *state, *assignee;
    int64_t order;              /* 0: any */
    int operator_only;          /* only manual and fallout tasks */
} store_task_query;

/* Tasks matching q, as store_task_get objects, by id. */
int store_task_list(store *s, const store_task_query *q, jv *out, osm_err *err);

/*
 * Move task id from one of the states in the comma-separated from to
 * to, inside the caller's transaction, with a "task.state" event
 * {function, from, to, assignee, reason}.  assignee: NULL keeps it, ""
 * clears it.  reset clears attempts, the error and the not-before time
 * (a retry).  error: NULL keeps it.  OSM_NEGATIVE when the task is not
 * in one of those states.
 */
int store_task_set(store *s, int64_t id, const char *from, const char *to, const char *assignee,
                   int reset, const char *error, const char *reason, const char *actor,
                   int64_t now, osm_err *err);

/* The history of task id: [{id, at (ms), type, actor, data}] by id. */
int store_task_events(store *s, int64_t id, jv *out, osm_err *err);

/* Close (complete) the open fallout tasks of failed task id. */
int store_fallout_close(store *s, int64_t failed_task, const char *actor, int64_t now,
                        osm_err *err);

/* Open fallout tasks of order id into *n. */
int store_fallout_open(store *s, int64_t order_id, int64_t *n, osm_err *err);

/* Suspend order id (from one of from): remember its state for resume. */
int store_order_suspend(store *s, int64_t id, const char *from, const char *actor,
                        int64_t now, osm_err *err);

/* Resume suspended order id into the state it was suspended in. */
int store_order_resume(store *s, int64_t id, const char *actor, int64_t now, osm_err *err);

/* Cancel every open task of order id (for abort). */
int store_order_cancel_tasks(store *s, int64_t id, int64_t now, osm_err *err);

#endif
