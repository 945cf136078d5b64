/*
 * Operator actions (osm-task): who may do what to manual and fallout
 * tasks and to orders, and doing it — each action one transaction with
 * its history event naming the Unix user.  The rules are the state
 * tables of specs/order-states.json and specs/task-states.json.
 */
#ifndef OSM_TASKOPS_H
#define OSM_TASKOPS_H

#include <jv.h>

#include "catalog.h"
#include "diag.h"
#include "siteconf.h"
#include "store.h"

typedef struct taskops {
    store *st;
    catalog *cat;
    const osm_config *conf;
    const char *user;       /* the Unix user running the program (the real one) */
    int strict;             /* setgid mode: order operations need an administrator */
} taskops;

/*
 * Is the user an administrator: root, the store's owner, or a member of
 * osm.conf's [admin] group (siteconf_is_admin())?  1 or 0, or 78 with err
 * set when an untrusted file names the group.
 */
int taskops_is_admin(const taskops *t, osm_err *err);

/*
 * May the user apply order operations (and answers from external
 * systems, named by what)?  Anyone who can write the store may, except in
 * strict mode, where only an administrator may: 0, 77 with err set, or
 * 78 as taskops_is_admin().
 */
int taskops_may_operate(const taskops *t, const char *what, osm_err *err);

/*
 * Task verbs: claim, release, assign (to), complete (status, data), fail
 * (reason), retry (data), skip (reason).  Each returns 0 with *doc the
 * task after the action, or: OSM_NEGATIVE when the task's state or kind
 * does not allow it (message names both), OSM_ENOPERM when the user is
 * not in the task's workgroup (message names it), OSM_ENOINPUT for an
 * unknown task, OSM_EDATA for data that cannot be merged.  data is
 * consumed (jv_null() for none).
 */
int taskops_task(taskops *t, const char *verb, int64_t id, const char *to, const char *status,
                 const char *reason, jv data, jv *doc, osm_err *err);

/*
 * Order operations: suspend, resume, abort (reason), fail (reason),
 * resolve.  0 with *doc the order document after it; OSM_NEGATIVE when
 * its state does not allow the operation; 77 or 78 as
 * taskops_may_operate().
 */
int taskops_order(taskops *t, const char *op, int64_t id, const char *reason, jv *doc,
                  osm_err *err);

/* Whether op is allowed from state (the order state table). */
int taskops_order_allows(const char *op, const char *state);

#endif
