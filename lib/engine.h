/*
 * The execution engine (DESIGN §8): chooses tasks that may run now from
 * the ready queue, claims them under a lease, and starts them —
 * automated tasks through their system's hook (many at once), rule tasks
 * in-process, manual tasks handed to their workgroup, timers waited out.
 * What finishes is recorded by lib/outcome.c.  No transaction is open
 * while a hook runs.
 *
 * Transactions: one per batch of claims (the claims, and the whole of
 * every rule, timer and manual task claimed with them), one per batch of
 * hook outcomes collected by one poll.  A batch's outcomes are durable
 * when engine_step() returns; the next claims are made only after that
 * commit, so no dependent task starts on an outcome that could be lost.
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
 * once; rule, timer and manual tasks are done at once), wait up to
 * wait_ms for running hooks, and record what finished.  *progress counts
 * tasks started or finished.  Returns 0, or a status that ends the run
 * (store unavailable or busy past its timeout).
 */
int engine_step(engine *e, int64_t wait_ms, int *progress, osm_err *err);

/* Hooks (and persistent requests) still running. */
size_t engine_running(const engine *e);

/* Claim nothing more; running hooks finish and are recorded. */
void engine_stop(engine *e);

/* Tasks started so far. */
long engine_started(const engine *e);

/*
 * Outcomes recorded so far that ended a task (completed, skipped,
 * failed), and how many of them fell out: what a progress display counts.
 */
long engine_finished(const engine *e);
long engine_fallout(const engine *e);

/*
 * Work that is not a task, for each round of osm-run before its steps:
 * leases of dead workers on this host are released, answers kept while
 * their order was suspended are applied, waiting tasks past their
 * response timeout fall out, and jeopardy is raised on tasks and orders
 * running late.  Returns 0 or a store status.
 */
int engine_housekeep(engine *e, osm_err *err);

/* Deliver the notifications due now (see notify_deliver()). */
int engine_notify(engine *e, int *delivered, int *failed, osm_err *err);

/* Kill running hooks (their leases expire; another worker retakes them). */
void engine_free(engine *e);

/*
 * The lease owner name of this process, "HOST:PID:START" (START: the
 * process's start time in clock ticks since boot, so that a reused pid
 * is not taken for the same process), and whether the owner named by a
 * lease is a live process (always 1 for another host's).
 */
const char *engine_owner(void);
int engine_owner_alive(const char *owner);

#endif
