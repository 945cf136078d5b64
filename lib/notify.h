/*
 * Notifications (DESIGN §8): the events a cartridge subscribes to
 * (manifest notify.events) are queued in the outbox by the transaction
 * that writes them — notify_mark() when it begins, notify_enqueue()
 * before it commits — and notify_deliver() hands them to the
 * notification hook (osm.conf [notify] command, else the cartridge's
 * notify.command), one JSON document on its stdin built by the
 * cartridge's notify.payload jq from {event, order} (default: that
 * object itself), in event order per order, at least once: a hook that
 * fails (exit status not 0, timeout) gets the same notification again
 * later, with backoff, and the order's later ones wait behind it.
 */
#ifndef OSM_NOTIFY_H
#define OSM_NOTIFY_H

#include <stdint.h>

#include "cartridge.h"
#include "diag.h"
#include "cartdir.h"
#include "catalog.h"
#include "siteconf.h"
#include "store.h"

/* At the start of a transaction: where the events it writes begin. */
int notify_mark(store *st, int64_t *mark, osm_err *err);

/*
 * Before the commit: queue the events written since mark that their
 * order's cartridge subscribes to.
 */
int notify_enqueue(store *st, int64_t mark, osm_err *err);

/* The same for the events of one order of cartridge c (faster). */
int notify_enqueue_order(store *st, int64_t mark, int64_t order_id, cartridge *c, osm_err *err);

/* Does cartridge c subscribe to any event? */
int notify_subscribes(cartridge *c);

/*
 * Deliver the notifications due now (of the engine's orders), each
 * through the hook; *delivered and *failed (may be NULL) count them.
 * Returns 0, or a store status.
 */
/* What delivering notifications needs (none of it owned here). */
typedef struct notify_ctx {
    store *st;
    catalog *cat;
    cartdir_cache *dirs;        /* where the cartridges' hooks run */
    const osm_config *conf;     /* [notify] command and timeout */
    const char *db_path;        /* OSM_DB for the hook */
    const store_task_filter *filter;
} notify_ctx;

int notify_deliver(const notify_ctx *nc, int *delivered, int *failed, osm_err *err);

#endif
