/*
 * What the HTML report (lib/report.h) reads from the order store beyond
 * what osm-status reads (lib/store-status.h): the earlier versions of
 * an order.  The SQL is in lib/store-report.c.
 *
 * Conventions are those of store.h: 0 or an OSM_E* status with err
 * filled in; times are int64 ms since the epoch; the documents returned
 * are the caller's.
 */
#ifndef OSM_STORE_REPORT_H
#define OSM_STORE_REPORT_H

#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

/*
 * The earlier versions of order id, superseded or rejected revisions
 * (oldest first, by revision), into *out: an array of {revision,
 * planRevision, status ("superseded" or "rejected"), reason (null:
 * none), original, body (the customer and the internal order: parsed
 * JSON, or the text when it does not parse), receivedAt, recordedAt
 * (ms)}.  An empty array when the order has none (or does not exist).
 */
int store_report_versions(store *s, int64_t id, jv *out, osm_err *err);

#endif
