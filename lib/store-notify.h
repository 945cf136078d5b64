/*
 * The notification outbox in the store (DESIGN §8): events a cartridge
 * subscribes to are queued in the transaction that wrote them, and
 * delivered later, in event order per order, at least once.
 * Conventions of store.h.
 */
#ifndef OSM_STORE_NOTIFY_H
#define OSM_STORE_NOTIFY_H

#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

/* The id of the newest event so far (0: none) into *mark. */
int store_notify_mark(store *s, int64_t *mark, osm_err *err);

/*
 * Queue every event written after mark (of order_id when > 0) whose
 * type its order's cartridge subscribes to, inside the caller's
 * transaction.  types: the subscribed types as a JSON array text, or
 * NULL to read each order's cartridge manifest (notify.events).  The
 * subscription "task.completed" matches "task.state" events to
 * "completed".
 */
int store_notify_enqueue(store *s, int64_t mark, int64_t order_id, const char *types,
                         osm_err *err);

/*
 * Up to limit notifications due at now that are first in line for their
 * order (no earlier undelivered one), oldest first, restricted to the
 * orders of f->orders and f->cartridge when given (f may be NULL):
 * [{event: {id, order, task, at (ms), type, actor, data}, cartridge,
 * version, attempts}].
 */
int store_notify_due(store *s, const store_task_filter *f, int64_t now, int limit, jv *out,
                     osm_err *err);

/*
 * Take notification event_id for delivery until until (a lease, so that
 * two workers do not deliver it at once; a worker that dies leaves it to
 * be retried then).  OSM_NEGATIVE when another worker has it or it was
 * delivered meanwhile.
 */
int store_notify_claim(store *s, int64_t event_id, int64_t now, int64_t until, osm_err *err);

/* Notification event_id was delivered. */
int store_notify_done(store *s, int64_t event_id, int64_t now, osm_err *err);

/* Delivering event_id failed with error: try again at next_at. */
int store_notify_retry(store *s, int64_t event_id, int64_t next_at, const char *error,
                       osm_err *err);

#endif
