/*
 * Internals shared by the lib/store*.c files, and nothing else: the store
 * handle, the prepared statement cache and the SQLite error mapping.  The
 * unit tests include it to look at the connection itself.
 */
#ifndef OSM_STORE_INT_H
#define OSM_STORE_INT_H

#include <sqlite3.h>

#include "db.h"
#include "store.h"

/*
 * One id per cached statement.  Each id is used with one SQL string (a
 * static array in one store*.c file); store_stmt() checks that.
 */
enum store_stmt_id {
    ST_BEGIN,
    ST_LOCK,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_EVENT_ADD,
    ST_CART_GET,
    ST_CART_GET_DEFAULT,
    ST_CART_FIND,
    ST_CART_INSERT,
    ST_CART_REDEPLOY,
    ST_CART_LIST,
    ST_CART_OPEN_ORDERS,
    ST_CART_ANY_ORDERS,
    ST_CART_DELETE,
    ST_CART_UNDEPLOY,
    ST_CART_DEFAULT_DROP,
    ST_CART_DEFAULT_SET,
    ST_CART_OPEN_LIST,
    ST_ORDER_ABORT,
    ST_TASKS_CANCEL,
    ST_ORDER_INSERT,
    ST_ITEM_INSERT,
    ST_ORDER_FIND_KEY,
    ST_ORDER_IDS_BY_KEY,
    ST_ORDER_GET,
    ST_ITEMS_GET,
    ST_TASK_INSERT_FALLOUT,
    ST_PLAN_TASK_INSERT,
    ST_PLAN_DEP_INSERT,
    ST_PLAN_ORDER_UPDATE,
    ST_PLAN_TASKS_GET,
    ST_PLAN_DEPS_GET,
    ST_PLAN_REVISION,
    ST_PLAN_UNPLANNED,
    ST_TASK_READY,
    ST_TASK_READY_ORDERS,
    ST_TASK_EXPIRED,
    ST_TASK_TIMERS,
    ST_TASK_LEASES_HOST,
    ST_TASK_LEASE_DROP,
    ST_TASK_WAITS,
    ST_TASK_CLAIM,
    ST_TASK_DEFER,
    ST_TASK_FINISH,
    ST_TASK_CLAIM_FINISH,
    ST_ORDER_STATE_GET,
    ST_ORDER_BODY_REV,
    ST_ORDER_STATE_SET,
    ST_ORDER_BODY_SET,
    ST_FALLOUT_ADD,
    ST_REV_TASKS,
    ST_REV_DEPS,
    ST_REV_PLAN_REV,
    ST_REV_SUPERSEDE,
    ST_REV_REJECT,
    ST_REV_ORDER,
    ST_REV_ITEMS_DEL,
    ST_REV_ITEM_ADD,
    ST_REV_MOVE,
    ST_REV_DEPS_DEL,
    ST_REV_TASK_ADD,
    ST_REV_DEP_ADD,
    ST_REV_CANCEL,
    ST_REV_COUNT,
    ST_REV_PLAN_VERSION,
    ST_ORDER_ROLLUP,
    ST_ORDER_COMPENSATING,
    ST_TASK_REQUESTS,
    ST_TASK_ITEMS_DATA,
    ST_TASK_KEY_SET,
    ST_ORDER_ROLLUP_MOVING,
    ST_ORDER_STATES,
    /* status (lib/store-status.c): add entries for it here only */
    ST_STATUS_FIRST,
    ST_STATUS_READ_BEGIN,
    ST_STATUS_READ_END,
    ST_STATUS_ORDER_GET,
    ST_STATUS_ITEMS,
    ST_STATUS_TASKS,
    ST_STATUS_MANIFEST,
    ST_STATUS_LIST_EXTERNAL,
    ST_STATUS_LIST_STATE,
    ST_STATUS_LIST_CARTRIDGE,
    ST_STATUS_LIST_CREATED,
    ST_STATUS_LIST_ALL,
    ST_STATUS_COUNTS,
    ST_STATUS_LATE,
    ST_STATUS_TASK_JEOPARDY,
    ST_STATUS_FALLOUT_OPEN,
    ST_STATUS_EVENTS_ORDER,
    ST_STATUS_EVENTS_ALL,
    ST_STATUS_LAST_EVENT,
    ST_STATUS_PURGE,
    ST_REPORT_VERSIONS,     /* lib/store-report.c */
    /* end of status */
    /* operations (lib/store-ops.c): add entries for it here only */
    ST_OPS_FIRST,
    ST_WG_ENSURE,
    ST_WG_EXISTS,
    ST_MEMBER_ADD,
    ST_MEMBER_REMOVE,
    ST_MEMBERS,
    ST_IS_MEMBER,
    ST_OPS_TASK_GET,
    ST_OPS_TASK_LIST,
    ST_OPS_TASK_SET,
    ST_OPS_FALLOUT_CLOSE,
    ST_OPS_FALLOUT_OPEN,
    ST_OPS_ORDER_SUSPEND,
    ST_OPS_ORDER_RESUME_STATE,
    ST_OPS_TASKS_CANCEL,
    ST_OPS_TASK_EVENTS,
    ST_ASYNC_TASK_FIND,
    ST_ASYNC_ANSWER,
    ST_ASYNC_RESPONSE_ADD,
    ST_ASYNC_RESPONSES_PENDING,
    ST_ASYNC_RESPONSE_APPLIED,
    ST_ASYNC_OVERDUE,
    ST_NOTIFY_MARK,
    ST_NOTIFY_ENQUEUE,
    ST_NOTIFY_DUE,
    ST_NOTIFY_CLAIM,
    ST_NOTIFY_DONE,
    ST_NOTIFY_RETRY,
    ST_JEOPARDY_TASKS,
    ST_JEOPARDY_ORDERS,
    ST_ASYNC_ORDER_EVENTS,
    ST_TASKS_OPEN_COUNT,
    /* end of operations */
    ST__COUNT
};

struct store {
    db_conn *db;
    char *path;             /* as messages name it: no password */
    int pg;                 /* a PostgreSQL store */
    int watching;           /* store_watch() has listened */
    int readonly;           /* opened with store_opts.readonly */
    int ready;              /* store_open() has set it up */
    struct {
        db_stmt *st;
        const char *sql;
    } stmt[ST__COUNT];
};

/*
 * The cached statement id, prepared from sql on first use; reset and
 * unbound, ready for binding.  NULL on error (err filled in).  Hand it
 * back with store_stmt_done() when finished stepping.
 */
db_stmt *store_stmt(store *s, enum store_stmt_id id, const char *sql, osm_err *err);

/* Reset st and clear its bindings (NULL is fine). */
void store_stmt_done(db_stmt *st);

/*
 * Map the SQLite result rc (with the connection's message) to an osm
 * status and fill err: busy/locked 75, misuse and constraint violations
 * 70, everything else 74.  Returns the status.
 */
int store_sqlfail(store *s, int rc, osm_err *err);

/* 0 inside a transaction, else 70 naming fn. */
int store_in_tx(store *s, const char *fn, osm_err *err);

/*
 * A savepoint around a multi-statement change inside the caller's
 * transaction: store_sp_begin(), then store_sp_end(s, rc) which releases
 * it, first rolling back to it when rc is not 0, and returns rc.
 */
int store_sp_begin(store *s, osm_err *err);
int store_sp_end(store *s, int rc);

/* Bind a C string, NULL as SQL NULL. */
int store_bind_text(db_stmt *st, int i, const char *text);

/* Column i as a new string (NULL for SQL NULL). */
char *store_col_strdup(db_stmt *st, int i);

/* Step st, which returns no rows, and hand it back: 0 or the mapped error. */
int store_step_done(store *s, db_stmt *st, osm_err *err);

/* What to return when store_stmt() gave NULL: its status, else 70. */
int store_stmt_fail(osm_err *err);

/* Bind ms, or SQL NULL when ms < 0. */
void store_bind_time(db_stmt *st, int i, int64_t ms);

/* Column i as ms, or -1 for SQL NULL. */
int64_t store_col_time(db_stmt *st, int i);

/*
 * The SQL text for this store's backend: lite for SQLite, pgsql for
 * PostgreSQL, where their dialects differ.
 */
#define DIALECT(s, lite, pgsql) ((s)->pg ? (pgsql) : (lite))

/*
 * PostgreSQL: the integers of the JSON array text parameter p, as a
 * subquery's rows (SQLite: SELECT value FROM json_each(p)).
 */
#define PG_JSON_IDS(p)                                                   \
    "SELECT CAST(value AS BIGINT)"                                       \
    " FROM json_array_elements_text(CAST(" p " AS json)) AS j(value)"

/* For white-box tests only: the SQLite connection (NULL for PostgreSQL). */
sqlite3 *store_sqlite(store *s);

#endif
