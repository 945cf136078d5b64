/*
 * Asynchronous answers (DESIGN §8): a system that accepted a request
 * answers later through `osm-task respond --correlation ID`.  An answer
 * has the format of a hook's stdout: status "completed" (the task
 * completes and the response is mapped into the order), "failed"
 * (fallout), or an interim update — status "accepted", or no status but
 * an externalStatus — that keeps the task waiting and records the
 * system's status.  An answer for an order that is suspended or
 * amending is kept in the store and applied when the order resumes.
 * A waiting task whose response timeout passes is fallout.
 */
#ifndef OSM_RESPOND_H
#define OSM_RESPOND_H

#include <stdint.h>

#include <jv.h>

#include "catalog.h"
#include "diag.h"
#include "store.h"

/*
 * Deliver answer resp (consumed) for the task waiting with correlation
 * id corr, in one transaction.  0 with *doc the task document after it
 * and *kept 1 when the order could not take it now (kept for later);
 * 66 for an unknown correlation id, 65 for an answer that is not an
 * object with a valid status, OSM_NEGATIVE when the task no longer
 * waits — nothing changed in each case.
 */
int respond_deliver(store *st, catalog *cat, const char *actor, const char *corr, jv resp,
                    jv *doc, int *kept, osm_err *err);

/*
 * Apply the kept answers whose order can now take them (restricted by f,
 * which may be NULL), inside the caller's transaction.  *applied (may
 * be NULL) counts them.
 */
int respond_apply_kept(store *st, catalog *cat, const char *actor, const store_task_filter *f,
                       int *applied, osm_err *err);

/*
 * Fall out the waiting tasks (of orders restricted by f) whose response
 * timeout has passed, each in its own transaction.  *n (may be NULL)
 * counts them.
 */
int respond_timeouts(store *st, catalog *cat, const char *actor, const store_task_filter *f,
                     int *n, osm_err *err);

#endif
