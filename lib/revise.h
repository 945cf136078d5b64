/*
 * Revisions and cancellation of orders in flight (DESIGN §11): the
 * source sends the whole order again; it is recognised, validated and
 * transformed with the base order's cartridge version, planned, and
 * compared with the current plan component by component — by function,
 * system and group key, and a digest of its significant data (the
 * request it would send, built from the order as the source sent it).
 * What changed is compensated as each function says (onRevision); the
 * result is a document of kind "revision" listing, per component, its
 * action and why.  A cancellation is a revision to an empty plan.
 *
 * Actions: keep (unchanged, or onRevision ignore), replace (not started:
 * it runs with the new data), redo (done: the hook gets mode redo with
 * the old and the new request), undo (done and no longer wanted, in
 * reverse dependency order), do (new: mode amend-do), wait (running:
 * compensated once it finishes), cancel (not started, no longer wanted).
 * A done component past a hard point of no return refuses the whole
 * revision; a soft one is allowed and flagged.
 */
#ifndef OSM_REVISE_H
#define OSM_REVISE_H

#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

typedef struct revise_opts {
    const char *actor;      /* the Unix user, for the history */
    int dry_run;            /* work out the document, change nothing */
    int cancel;             /* cancel the order instead (order is jv_null()) */
} revise_opts;

/*
 * Revise order base_id with the customer order `order` (consumed), or
 * cancel it.  Each revision is one transaction.  Returns:
 *   0            *doc is the revision document: applied, unchanged (a
 *                revision number already stored with the same content),
 *                ignored (an older revision number) or, with dry_run,
 *                what would be done;
 *   OSM_NEGATIVE *doc says why it was rejected (a hard point of no
 *                return: recorded, the order untouched) or refused (the
 *                order has ended), or the revised order is invalid
 *                (err lists the problems, *doc is null);
 *   OSM_EDATA    another order's key, or the order's own revision
 *                number with other content;
 *   OSM_ENOINPUT no such order; others from the store.
 */
int revise_order(store *st, int64_t base_id, jv order, const revise_opts *o, jv *doc,
                 osm_err *err);

#endif
