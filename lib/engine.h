/*
 * The execution engine (DESIGN §8): claims tasks that may run now under a
 * lease, runs them — automated tasks through their system's hook (many
 * at once), rule tasks in-process, manual tasks handed to their
 * workgroup, timers waited out — and records each outcome, with its
 * history and the order's new state, in one short transaction.  No
 * transaction is open while a hook runs.
 */
#ifndef OSM_ENGINE_H
#define OSM_ENGINE_H

#include "catalog.h"
#include "diag.h"
#include "siteconf.h"
#include "store.h"

typedef struct engine_opts {
    const char *db_path;        /* the store's path: OSM_DB for hooks, and the
                                   cartridge cache beside it */
    const osm_config *conf;     /* site configuration (hook commands) */
    const char *actor;          /* the Unix user, for the history */
    int jobs;                   /* hooks run at once (>= 1) */
    long max_tasks;             /* stop claiming after this many (0: no limit) */
    store_task_filter filter;   /* which orders, systems, cartridges, functions */
} engine_opts;

typedef struct engine engine;

engine *engine_new(store *st, catalog *cat, const engine_opts *opts);

/*
 * One step: claim and start what may run now (up to opts->jobs hooks at
 * once), wait up to wait_ms for running hooks, and record what finished.
 * *progress counts tasks started or finished.  Returns 0, or a status
 * that ends the run (store unavailable or busy past its timeout).
 */
int engine_step(engine *e, int64_t wait_ms, int *progress, osm_err *err);

/* Hooks still running. */
size_t engine_running(const engine *e);

/* Claim nothing more; running hooks finish and are recorded. */
void engine_stop(engine *e);

/* Tasks started so far. */
long engine_started(const engine *e);

/*
 * Merge a response into order o: function's response mapping over
 * {order, response, task} (response and task consumed), else the
 * response's data merged recursively into the order.  0 with *body (the
 * new order, or jv_invalid() when unchanged), or OSM_EDATA.
 */
int engine_map_response(cartridge *c, const char *function, const order_rec *o, jv response,
                        jv task, jv *body, osm_err *err);

/* The workgroup that gets function's fallout (static storage), or NULL. */
const char *engine_fallout_workgroup(cartridge *c, const char *function);

/*
 * Work that is not a task, for each round of osm-run before its steps:
 * answers kept while their order was suspended are applied, waiting
 * tasks past their response timeout fall out, and jeopardy is raised on
 * tasks and orders running late.  Returns 0 or a store status.
 */
int engine_housekeep(engine *e, osm_err *err);

/* Where cartridge c's files are on disk (extracted once per store). */
const char *engine_cartridge_dir(engine *e, cartridge *c, osm_err *err);

store *engine_store(engine *e);
catalog *engine_catalog(engine *e);
const engine_opts *engine_options(const engine *e);

/* Kill running hooks (their leases expire; another worker retakes them). */
void engine_free(engine *e);

#endif
