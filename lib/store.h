/*
 * The order store (DESIGN §4): one SQLite file in WAL mode shared by every
 * osm program, behind this one interface so that nothing outside
 * lib/store*.c knows a table name.
 *
 * Conventions for every function here:
 * - the return value is 0 or an OSM_E* status, with err filled in (err may
 *   be NULL); a store that stays busy past the busy timeout gives
 *   OSM_ETEMPFAIL "order store busy: try again", other SQLite failures
 *   OSM_EIO with SQLite's message;
 * - times are int64_t milliseconds since the Unix epoch (UTC), the way the
 *   store keeps them; callers format RFC 3339 themselves;
 * - functions marked "in a transaction" must be called between
 *   store_begin() and store_commit()/store_rollback() (they return
 *   OSM_ESOFTWARE otherwise); on error they change nothing, so the caller
 *   may still commit its other work or roll back as it sees fit;
 * - jv ownership follows jv.h: a jv argument is consumed.
 */
#ifndef OSM_STORE_H
#define OSM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "diag.h"
#include "order.h"
#include "plan.h"

typedef struct store store;

typedef struct store_opts {
    int create;             /* create the file (with the caller's umask) if missing */
    int busy_timeout_ms;    /* 0: 5000 */
    int synchronous_full;   /* synchronous=FULL instead of NORMAL */
    int readonly;           /* open read-only; never creates nor migrates */
} store_opts;

/*
 * Open the store at path (opts NULL: defaults), bringing its schema up to
 * date: migrations run inside one BEGIN IMMEDIATE transaction by whichever
 * process gets there first.  Errors: 66 "PATH: no such order store"
 * (missing and not opts->create; or, read-only, an empty file), 74 "PATH:
 * not an osm order store (...)" (not SQLite, or someone else's database),
 * 78 "PATH: order store version N is newer than this program supports
 * (M)" (file left untouched), 75 busy, 74 other failures.  On success *out
 * is the handle, to be freed with store_close(); on error *out is NULL.
 *
 * A read-only open never writes to the file: it neither creates nor
 * migrates a store, and refuses an older schema (74).  A read-write open
 * keeps the -wal and -shm files when it closes, so that users who may
 * only read the store (and so cannot create them) can open it read-only.
 * Writing through a store the user may not write gives 77 "PATH: no
 * permission to write the order store".
 */
int store_open(const char *path, const store_opts *opts, store **out, osm_err *err);

/* 1 for a PostgreSQL store (postgresql://...), 0 for an SQLite file. */
int store_is_pg(const store *s);

/*
 * PostgreSQL: 1 when the connection's role owns the store (is, or is a
 * member of, the owner of its tables): the counterpart of an SQLite
 * store file's owner in the administrator rule.  0 otherwise, and for
 * SQLite.
 */
int store_pg_owned(store *s);

/*
 * Wake on changes other programs commit: on PostgreSQL, listen to the
 * store's channel (every transaction that records an event notifies it
 * at commit); on SQLite, nothing.  Then store_watch_wait() waits up to
 * ms for such a change: 1 when one came, 0 when the time ran out or a
 * signal came, -1 at once when the store cannot tell (SQLite, or the
 * connection failed): sleep and look instead.
 */
int store_watch(store *s, osm_err *err);
int store_watch_wait(store *s, int64_t ms);

/* Close s (NULL is fine), rolling back a transaction left open. */
void store_close(store *s);

/* The schema version this program creates and understands. */
int store_schema_version(void);

/*
 * BEGIN IMMEDIATE: take the write lock now, waiting up to the busy
 * timeout (75 past it).  Transactions do not nest (70).
 */
int store_begin(store *s, osm_err *err);

/* COMMIT; on failure the transaction is rolled back. */
int store_commit(store *s, osm_err *err);

/* ROLLBACK; a no-op when no transaction is open. */
void store_rollback(store *s);

/*
 * Append an event to the history and set *event_id (may be NULL) to its
 * id, which only ever grows.  order_id 0 is a store-wide event (cartridge
 * deploy...), task_id 0 an order-level one; type is e.g. "order.state";
 * actor the effective Unix user; data any JSON value (consumed; usually
 * an object).  Not enqueued for notification.
 */
int store_event_add(store *s, int64_t order_id, int64_t task_id,
                    const char *type, const char *actor, jv data,
                    int64_t now_ms, int64_t *event_id, osm_err *err);

/*
 * store_event_add() with raw (may be NULL) added to data's members: JSON
 * text of members ("\"request\":{...},\"response\":{...}") that the
 * caller already holds as text, so that they are not parsed and dumped
 * again.  data must then be an object; raw is trusted to be valid.
 */
int store_event_add_raw(store *s, int64_t order_id, int64_t task_id, const char *type,
                        const char *actor, jv data, const char *raw, int64_t now_ms,
                        int64_t *event_id, osm_err *err);

/*
 * Cartridges.
 *
 * Several versions of a cartridge may be deployed at once.  The default
 * version of a name (used when an order does not say) is the one set by
 * store_cartridge_set_default(), else the highest deployed semantic
 * version: major, minor, patch numerically, a release above its
 * prereleases, prereleases by semver precedence (1.10.0 > 1.10.0-rc.2 >
 * 1.10.0-rc.1 > 1.2.0).
 *
 * Undeploy: a version no order refers to is deleted.  One that ended
 * orders still refer to stays in the store as "undeployed", archive and
 * manifest kept so that their history remains interpretable; it is hidden
 * from store_cartridge_list() and default selection, store_cartridge_get()
 * returns it only with STORE_CARTRIDGE_UNDEPLOYED, and deploying the same
 * bytes again re-activates it (different bytes are refused while the old
 * ones are kept).  Open orders always have a deployed cartridge:
 * store_cartridge_remove() refuses while any exist, so undeploy --force
 * aborts them first with store_cartridge_abort_orders().
 */
typedef struct store_cartridge {
    int64_t id;
    char *name, *version, *sha256;  /* sha256: of the archive, 64 lowercase hex */
    char *manifest;                 /* JSON text */
    void *archive;                  /* NULL unless asked for */
    size_t archive_len;
    int64_t deployed_at;
    int is_default;                 /* out: the default version of its name */
    int undeployed;                 /* out: kept for ended orders only */
} store_cartridge;

/* Free the members of c (not c itself) and zero it; NULL is fine. */
void store_cartridge_free(store_cartridge *c);

/* flags for store_cartridge_get() */
#define STORE_CARTRIDGE_ARCHIVE    1  /* load the archive too */
#define STORE_CARTRIDGE_UNDEPLOYED 2  /* a named undeployed version is found too */

/*
 * Fetch NAME@VERSION (version NULL: the default version) into *out, which
 * the caller frees with store_cartridge_free().  66 "no such cartridge:
 * NAME@VERSION" (or "...: NAME"); *out is untouched on error.
 */
int store_cartridge_get(store *s, const char *name, const char *version,
                        int flags, store_cartridge *out, osm_err *err);

/*
 * Deploy c (in a transaction; reads name, version, sha256, manifest,
 * archive, archive_len, deployed_at).  *created is 1 when the version was
 * added or re-activated, 0 when the same bytes were already deployed (a
 * no-op).  78 when the version is not semantic (MAJOR.MINOR.PATCH
 * [-PRERELEASE][+BUILD]) or the store holds that version with different
 * contents.
 */
int store_cartridge_put(store *s, const store_cartridge *c, int *created, osm_err *err);

/*
 * *out = an array of {name, version, sha256, deployedAt (integer ms; to
 * become RFC 3339 text once lib/clock formats it), default (bool),
 * openOrders (number)} for every deployed version, by name, newest
 * version first.  *out is untouched on error.
 */
int store_cartridge_list(store *s, jv *out, osm_err *err);

/* *count = orders of NAME@VERSION not in a terminal state (0 if none). */
int store_cartridge_open_orders(store *s, const char *name, const char *version,
                                int64_t *count, osm_err *err);

/*
 * Undeploy NAME@VERSION (in a transaction): drop it as explicit default,
 * then delete it, or mark it undeployed when orders refer to it.  66 when
 * that version is not deployed; 1 "cartridge NAME@VERSION has N open
 * orders" while it has open orders.
 */
int store_cartridge_remove(store *s, const char *name, const char *version, osm_err *err);

/* Make NAME@VERSION the default of NAME; 66 if that version is not deployed. */
int store_cartridge_set_default(store *s, const char *name, const char *version,
                                osm_err *err);

/*
 * Abort every open order of NAME@VERSION (in a transaction): each becomes
 * 'aborted' with reason, its unfinished tasks 'cancelled' (leases
 * dropped, so a worker still running one finds it gone), and an
 * "order.state" event {from, to: "aborted", reason} by actor is written.
 * *aborted (may be NULL) = how many.
 */
int store_cartridge_abort_orders(store *s, const char *name, const char *version,
                                 const char *actor, const char *reason,
                                 int64_t now_ms, int64_t *aborted, osm_err *err);

/*
 * Orders.
 */

/*
 * Store a new order with its items, inside the caller's transaction, and
 * set o->id.  An "order.created" event records it (actor: the Unix user).
 * When fallout is non-NULL the order is stored as it stands (normally
 * "failed") with a fallout task for the workgroup fallout->workgroup
 * (may be NULL) holding fallout->error, and a "fallout" event.  On error
 * nothing is stored (savepoint) and o->id is 0.
 */
typedef struct store_fallout {
    const char *function;   /* what failed, e.g. "validate" */
    const char *workgroup;
    jv error;               /* not consumed: {message, problems...} */
} store_fallout;

int store_order_insert(store *s, order_rec *o, const store_fallout *fallout,
                       const char *actor, osm_err *err);

/*
 * The stored order with the key (external id) given, of the cartridge
 * name given: 0 with *id and *revision set, or OSM_ENOINPUT when there is
 * none (no message).
 */
int store_order_find_key(store *s, const char *cartridge_name, const char *key, int64_t *id,
                         int64_t *revision, osm_err *err);

/*
 * The ids of the orders (of any cartridge) whose external id is key, at
 * most two, as a new array in *ids (an empty one on error).
 */
int store_order_ids_by_key(store *s, const char *key, jv *ids, osm_err *err);

/* Load order id with its items into *o (order_rec_free it); 66 if none. */
int store_order_get(store *s, int64_t id, order_rec *o, osm_err *err);

/*
 * Plans.
 */

/*
 * Store plan p of order id as its first plan, inside the caller's
 * transaction: its tasks (pending, not before their scheduled start) and
 * dependencies, the order's start date, expected completion and
 * lateness, an "order.planned" event and, when the plan is late, a
 * "jeopardy" event.  Sets each task's id.  Returns 0; OSM_NEGATIVE
 * with nothing changed when the order has been planned meanwhile.
 */
int store_plan_save(store *s, int64_t order_id, plan *p, const char *actor, int64_t now,
                    osm_err *err);

/*
 * Load the current plan of order o (loaded with store_order_get) into
 * *p (plan_free it).  OSM_ENOINPUT (no message) when it has none.
 */
int store_plan_load(store *s, const order_rec *o, plan *p, osm_err *err);

/*
 * The ids of at most limit orders not started and never planned (of
 * cartridge NAME, unless NULL), oldest first, as a new array in *ids
 * (an empty one on error).
 */
int store_plan_unplanned(store *s, const char *cart_name, int limit, jv *ids, osm_err *err);

/* The order's plan revision (0: not planned) into *rev. */
int store_plan_revision(store *s, int64_t order_id, int64_t *rev, osm_err *err);

/*
 * Tasks at run time.
 */

typedef struct store_task {
    int64_t id, order_id;
    char *function, *kind, *system, *state, *workgroup, *group;
    jv items;                   /* item ids */
    int attempts, temp_failures;
    int64_t fencing, not_before, expected_ms, started_at;
    char *cartridge, *cartridge_version, *order_state;
    int plan_revision;
    int priority;               /* the order's, copied at planning time */
    int64_t body_rev;           /* the order's data revision (see store_order_get) */
    int has_waits;              /* a dependency carries a delay, date or condition */
    char *mode;                 /* do, undo, redo */
    int amend;                  /* a do that a revision added (hook mode amend-do) */
    int64_t compensates;        /* undo, redo: the task compensated (0: none) */
    int order_plan_revision;    /* the order's current plan revision */
    char *idem_key;             /* the key its request was first sent with, or NULL */
} store_task;

typedef struct store_task_filter {
    jv orders;                  /* array of order ids, or jv_null(): every order */
    const char *system, *cartridge, *function;   /* NULL: any */
} store_task_filter;

/*
 * How many tasks of running orders (filtered by f, NULL: every order) are
 * still to run or running, fallout tasks left out: what a progress
 * display counts towards.
 */
int store_tasks_open_count(store *s, const store_task_filter *f, int64_t *n, osm_err *err);

/*
 * Up to limit tasks that may run now (*out, *n; store_tasks_free them):
 * pending tasks of not_started or in_progress orders whose dependencies
 * are all completed or skipped and whose not-before time has come;
 * running tasks whose lease has expired (a dead worker's); waiting timer
 * tasks whose time has come.  Highest order priority first, then
 * not-before, then id.  Each kind is found through an index kept as
 * tasks change (the ready queue, migration 003), so the cost is that of
 * the rows returned, not of the backlog; with f->orders, a seek per
 * order named.
 */
int store_task_candidates(store *s, const store_task_filter *f, int64_t now, int limit,
                          store_task **out, size_t *n, osm_err *err);
void store_tasks_free(store_task *t, size_t n);

/*
 * The waits on task id's dependencies: *ready_at the latest of each
 * dependency's end plus its delay; *conds an array of {until, condition}
 * program keys still to be evaluated (either may be absent).
 */
int store_task_waits(store *s, int64_t id, int64_t *ready_at, jv *conds, osm_err *err);

/*
 * Claim task t (as read by store_task_candidates) for owner until
 * lease_until, inside the caller's transaction: pending or waiting →
 * running, or running with an expired lease → running again; the fencing
 * token goes up, and attempts too unless count_attempt is 0.  *fencing
 * and *attempts are the new values.  OSM_NEGATIVE (nothing changed) when
 * the task changed since it was read: another worker has it, or an
 * operator moved it.
 */
int store_task_claim(store *s, const store_task *t, const char *owner, int64_t lease_until,
                     int64_t now, int count_attempt, int64_t *fencing, int *attempts,
                     osm_err *err);

/*
 * Leases held under an owner name starting with host_prefix ("HOST:")
 * whose owner alive() says is gone are expired at once (inside the
 * caller's transaction), so that the next claim retakes their tasks
 * instead of waiting out the lease.  *dropped (may be NULL) counts them.
 */
int store_task_leases_drop_dead(store *s, const char *host_prefix,
                                int (*alive)(const char *owner), int64_t now, int *dropped,
                                osm_err *err);

/*
 * The request task id sent (or, for an undo, is to send again) and, for
 * a redo, the request sent before (each malloc'ed, NULL when none).
 */
int store_task_requests(store *s, int64_t id, char **request, char **previous, osm_err *err);

/* Keep key as task id's idempotency key (inside the caller's transaction). */
int store_task_set_key(store *s, int64_t id, const char *key, osm_err *err);

/* The data of the items task id covers: *items is an array, the caller's whatever the return. */
int store_task_items_data(store *s, int64_t id, jv *items, osm_err *err);

/* Keep a pending task pending until not_before. */
int store_task_defer(store *s, int64_t id, int64_t not_before, int64_t now, osm_err *err);

typedef struct task_outcome {
    const char *state;          /* completed, failed, pending (retry), waiting */
    int64_t not_before;         /* pending/waiting: not before this (-1: none) */
    const char *request;        /* JSON text or NULL (unchanged) */
    const char *response;       /* JSON text or NULL (unchanged) */
    const char *external_status;/* or NULL (unchanged) */
    const char *error;          /* or NULL (cleared) */
    const char *correlation_id; /* or NULL (unchanged) */
    int attempts_delta;         /* added to attempts (-1: this one did not count) */
    int temp_failures_delta;
    int64_t deadline_at;        /* waiting: time out at (-1: none) */
    /* for store_task_finish(): */
    int64_t order_id;           /* the task's order */
    const char *function;       /* its function, for the history */
    int attempts;               /* its attempts once this outcome is recorded */
    int claim;                  /* 1: the task is claimed by this same update
                                   (it was pending or waiting with attempts
                                   claim_attempts and fencing one less) */
    int claim_attempts;
} task_outcome;

/*
 * Record the outcome of task id run under fencing token fencing, inside
 * the caller's transaction, with a "task.state" event (o->order_id,
 * o->function and o->attempts say what it is about).  OSM_NEGATIVE
 * (nothing changed) when the lease was lost: another worker retook the
 * task, or an operator changed it.  With o->claim the same update claims
 * the task first (an in-process task claimed and done in one
 * transaction): fencing is then the token the claim gives.
 */
int store_task_finish(store *s, int64_t id, int64_t fencing, const task_outcome *o,
                      const char *actor, int64_t now, osm_err *err);

/*
 * The revision of order id's data into *rev: it goes up each time
 * store_order_set_body() replaces the data, so that a copy kept in
 * memory can be checked for freshness with one lookup.
 */
int store_order_body_rev(store *s, int64_t id, int64_t *rev, osm_err *err);

/* The state of order id into *state (malloc'ed). */
int store_order_state(store *s, int64_t id, char **state, osm_err *err);

/*
 * Move order id to state to, if it is in one of the states of from (a
 * comma-separated list), with an "order.state" event {from, to, reason}.
 * OSM_NEGATIVE when it is not.  Terminal states set its end time.
 */
int store_order_transition(store *s, int64_t id, const char *from, const char *to,
                           const char *reason, const char *actor, int64_t now, osm_err *err);

/* Replace order id's transformed order (responses merged into it). */
int store_order_set_body(store *s, int64_t id, jv body, int64_t now, osm_err *err);

/* A fallout task for failed task task_id of order_id, with a "fallout" event. */
int store_fallout_add(store *s, int64_t order_id, int64_t task_id, const char *function,
                      const char *workgroup, jv error, const char *actor, int64_t now,
                      osm_err *err);

/*
 * Roll order id's state up from its tasks: every task of the current
 * plan completed or skipped (or a plan with no task at all) → completed;
 * a failed task and nothing else able to proceed → failed.  A few index
 * seeks, whatever the order's size.  *to (may be NULL) is the new state
 * or NULL when unchanged.
 */
int store_order_rollup(store *s, int64_t id, const char *actor, int64_t now, const char **to,
                       osm_err *err);

/* The states of the orders in ids (array), as an object id -> state. */
int store_order_states(store *s, jv ids, jv *out, osm_err *err);

#endif
