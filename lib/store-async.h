/*
 * The store's side of asynchronous work (DESIGN §8): tasks found by their
 * correlation id, answers recorded on waiting tasks, answers kept while
 * their order is suspended or amending (the responses table), and
 * waiting tasks whose response timeout has passed.  The SQL is in
 * lib/store-task.c; the rules in lib/respond.c.  Conventions of store.h.
 */
#ifndef OSM_STORE_ASYNC_H
#define OSM_STORE_ASYNC_H

#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

/*
 * The task with id (when id > 0) or with correlation id corr, into *out
 * (one store_task; store_tasks_free(*out, 1)).  66 "no task waits for
 * correlation id \"CORR\"" (or "no such task: ID") when there is none.
 */
int store_task_find(store *s, int64_t id, const char *corr, store_task **out, osm_err *err);

/*
 * Record an answer on waiting task id, inside the caller's transaction:
 * its new state (o->state: waiting, completed or failed), response,
 * external status and error, with a "task.state" event when the state
 * changes.  A task that stays waiting keeps its deadline.  OSM_NEGATIVE
 * (nothing changed) when the task is not waiting.
 */
int store_task_answer(store *s, int64_t id, const task_outcome *o, const char *actor,
                      int64_t now, osm_err *err);

/* Keep an answer (body consumed) for task_id until its order can take it. */
int store_response_add(store *s, int64_t task_id, const char *corr, const char *actor, jv body,
                       int64_t now, osm_err *err);

/*
 * Kept answers not yet applied whose order is neither suspended nor
 * amending, oldest first, as [{id, task, order, body}] (body parsed);
 * only those of the orders in f->orders / f->cartridge when given (f may
 * be NULL).
 */
int store_responses_pending(store *s, const store_task_filter *f, jv *out, osm_err *err);

/* Mark kept answer id applied (in a transaction). */
int store_response_applied(store *s, int64_t id, int64_t now, osm_err *err);

/*
 * Waiting tasks of running (not_started, in_progress) orders whose
 * response deadline is before now, restricted by f like
 * store_task_candidates(); *out as there.
 */
int store_tasks_overdue(store *s, const store_task_filter *f, int64_t now, store_task **out,
                        size_t *n, osm_err *err);

/*
 * Raise jeopardy, inside the caller's transaction, once per task and per
 * order (their jeopardy_at marks it): a task of a running order that
 * runs (running, waiting, claimed) past its expected duration, and an
 * open order whose expected completion — its planned one, or now once
 * that has passed — is after its requested date.  Each gets a
 * "jeopardy" event.  Restricted by f like store_task_candidates() (f may
 * be NULL); *n (may be NULL) counts them.
 */
int store_jeopardy_raise(store *s, const store_task_filter *f, const char *actor, int64_t now,
                         int *n, osm_err *err);

/* The types of order id's events, oldest first, as an array of strings. */
int store_order_event_types(store *s, int64_t id, jv *out, osm_err *err);

#endif
