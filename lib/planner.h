/*
 * Planning a stored order: load it, build its plan with its cartridge
 * version, save the plan — or, for an order already planned, load the
 * stored plan.  What osm-plan and osm-submit --plan share.
 */
#ifndef OSM_PLANNER_H
#define OSM_PLANNER_H

#include <jv.h>

#include "catalog.h"
#include "diag.h"
#include "store.h"

/*
 * Plan stored order id (dry_run: without saving) and set *doc to its
 * plan document.  An order with a plan gets that plan back.  Returns 0;
 * OSM_NEGATIVE when the order is not not_started and has no plan;
 * OSM_EDATA when the plan cannot be made (a cycle, a bad selector);
 * OSM_ENOINPUT for an unknown order; store statuses otherwise.  err
 * starts "order ID: " where the order is known.
 */
int planner_plan(store *st, catalog *cat, int64_t id, int dry_run, const char *actor,
                 jv *doc, osm_err *err);

#endif
