/*
 * Tasks at run time: which may run now, claiming them under a lease with
 * a fencing token, recording outcomes, fallout, and rolling an order's
 * state up from its tasks.  Every function here runs inside the
 * caller's transaction unless it only reads.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "clock.h"
#include "json.h"
#include "store-async.h"
#include "store-int.h"
#include "store.h"
#include "xalloc.h"

#define DONE_STATES "('completed', 'skipped')"

#define TASK_COLS                                                                       \
    "SELECT t.id, t.order_id, t.function, t.kind, t.system, t.state, t.workgroup,"      \
    " t.group_key, t.items, t.attempts, t.temp_failures, t.fencing, t.not_before,"       \
    " t.expected_ms, t.started_at, o.cartridge, o.cartridge_version, o.state, t.plan_revision," \
    " t.priority, o.body_rev, t.mode, t.amend, t.compensates, o.plan_revision,"          \
    " t.idem_key,"                                                                      \
    " EXISTS (SELECT 1 FROM task_deps d WHERE d.task_id = t.id AND (d.delay_ms > 0"      \
    "         OR d.until_jq IS NOT NULL OR d.condition_jq IS NOT NULL))"
#define TASK_ROW TASK_COLS " FROM tasks t JOIN orders o ON o.id = t.order_id"
#define TASK_FILTER                                                                     \
    " AND (?1 IS NULL OR t.order_id IN (SELECT value FROM json_each(?1)))"              \
    " AND (?2 IS NULL OR t.system = ?2) AND (?3 IS NULL OR o.cartridge = ?3)"            \
    " AND (?4 IS NULL OR t.function = ?4)"
/* what every claimable task of a running order satisfies (an order that
 * is amending or cancelling runs: its compensation is tasks too) */
#define RUNNABLE " AND t.plan_revision = o.plan_revision" LIVE
/* ... and what a task that was started satisfies, whatever its plan: a
 * task left running or waiting by a revision is one whose undo or redo
 * waits for it to end (a revision cancels the others), so a dead
 * worker's lease on it is taken over and its timer fires as in the
 * current plan */
#define LIVE                                                                            \
    " AND o.state IN ('not_started', 'in_progress', 'amending', 'cancelling')"           \
    " AND (?2 IS NULL OR t.system = ?2) AND (?3 IS NULL OR o.cartridge = ?3)"            \
    " AND (?4 IS NULL OR t.function = ?4)"

/* PostgreSQL's: the filters' parameters typed, the order ids through PG_JSON_IDS */
#define PG_FILTERS                                                                      \
    " AND (CAST(?2 AS TEXT) IS NULL OR t.system = ?2)"                                   \
    " AND (CAST(?3 AS TEXT) IS NULL OR o.cartridge = ?3)"                                \
    " AND (CAST(?4 AS TEXT) IS NULL OR t.function = ?4)"
#define PG_ORDERS_FILTER                                                                \
    " AND (CAST(?1 AS TEXT) IS NULL OR t.order_id IN (" PG_JSON_IDS("?1") "))"
#define TASK_FILTER_PG PG_ORDERS_FILTER PG_FILTERS
#define LIVE_PG                                                                         \
    " AND o.state IN ('not_started', 'in_progress', 'amending', 'cancelling')" PG_FILTERS
#define RUNNABLE_PG " AND t.plan_revision = o.plan_revision" LIVE_PG

/*
 * The ready queue (migration 003): pending tasks with no open dependency
 * of running orders, one priority at a time so that each query is a seek
 * of tasks_ready by (priority, not_before, id) that stops after ?6 rows,
 * whatever else is queued.  ?1 is unused here (no order filter).
 */
static const char SQL_TASK_READY[] =
    TASK_COLS " FROM tasks t INDEXED BY tasks_ready JOIN orders o ON o.id = t.order_id"
    " WHERE t.state = 'pending' AND t.deps_open = 0 AND t.held = 0 AND t.kind <> 'fallout'"
    " AND t.priority = ?7 AND coalesce(t.not_before, 0) <= ?5"
    RUNNABLE
    " ORDER BY coalesce(t.not_before, 0), t.id LIMIT ?6";
/* PostgreSQL has no index hints; ?1, unbound here, still needs a type */
static const char SQL_TASK_READY_PG[] =
    TASK_COLS " FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE CAST(?1 AS TEXT) IS NULL"
    " AND t.state = 'pending' AND t.deps_open = 0 AND t.held = 0 AND t.kind <> 'fallout'"
    " AND t.priority = ?7 AND coalesce(t.not_before, 0) <= ?5"
    RUNNABLE_PG
    " ORDER BY coalesce(t.not_before, 0), t.id LIMIT ?6";
/* The same for the orders named in ?1: a seek of tasks_open per order. */
static const char SQL_TASK_READY_ORDERS[] =
    TASK_COLS " FROM json_each(?1) j JOIN orders o ON o.id = j.value"
    " JOIN tasks t INDEXED BY tasks_open ON t.order_id = o.id AND t.plan_revision = o.plan_revision"
    " AND t.state NOT IN " DONE_STATES " AND t.kind <> 'fallout'"
    " WHERE t.state = 'pending' AND t.deps_open = 0 AND t.held = 0 AND t.kind <> 'fallout'"
    " AND coalesce(t.not_before, 0) <= ?5" RUNNABLE
    " ORDER BY t.priority DESC, coalesce(t.not_before, 0), t.id LIMIT ?6";
static const char SQL_TASK_READY_ORDERS_PG[] =
    TASK_COLS " FROM json_array_elements_text(CAST(?1 AS json)) AS j(value)"
    " JOIN orders o ON o.id = CAST(j.value AS BIGINT)"
    " JOIN tasks t ON t.order_id = o.id AND t.plan_revision = o.plan_revision"
    " AND t.state NOT IN " DONE_STATES " AND t.kind <> 'fallout'"
    " WHERE t.state = 'pending' AND t.deps_open = 0 AND t.held = 0 AND t.kind <> 'fallout'"
    " AND coalesce(t.not_before, 0) <= ?5" RUNNABLE_PG
    " ORDER BY t.priority DESC, coalesce(t.not_before, 0), t.id LIMIT ?6";
/* Running tasks whose lease has expired (a dead worker's), through tasks_lease. */
static const char SQL_TASK_EXPIRED[] =
    TASK_COLS " FROM tasks t INDEXED BY tasks_lease JOIN orders o ON o.id = t.order_id"
    " WHERE t.lease_expires < ?5 AND t.state = 'running' AND t.kind <> 'fallout'"
    LIVE " AND (?1 IS NULL OR t.order_id IN (SELECT value FROM json_each(?1)))"
    " ORDER BY t.lease_expires LIMIT ?6";
static const char SQL_TASK_EXPIRED_PG[] =
    TASK_COLS " FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE t.lease_expires < ?5 AND t.state = 'running' AND t.kind <> 'fallout'"
    LIVE_PG PG_ORDERS_FILTER
    " ORDER BY t.lease_expires LIMIT ?6";
/* Waiting timers whose time has come, through tasks_timers. */
static const char SQL_TASK_TIMERS[] =
    TASK_COLS " FROM tasks t INDEXED BY tasks_timers JOIN orders o ON o.id = t.order_id"
    " WHERE t.state = 'waiting' AND t.kind = 'timer' AND coalesce(t.not_before, 0) <= ?5"
    LIVE " AND (?1 IS NULL OR t.order_id IN (SELECT value FROM json_each(?1)))"
    " ORDER BY coalesce(t.not_before, 0), t.id LIMIT ?6";
static const char SQL_TASK_TIMERS_PG[] =
    TASK_COLS " FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE t.state = 'waiting' AND t.kind = 'timer' AND coalesce(t.not_before, 0) <= ?5"
    LIVE_PG PG_ORDERS_FILTER
    " ORDER BY coalesce(t.not_before, 0), t.id LIMIT ?6";
/* Leases held by workers of one host ("HOST:..."), to find dead owners. */
static const char SQL_TASK_LEASES_HOST[] =
    "SELECT id, lease_owner FROM tasks WHERE lease_expires > ?2 AND state = 'running'"
    " AND substr(lease_owner, 1, length(?1)) = ?1";
static const char SQL_TASK_LEASE_DROP[] =
    "UPDATE tasks SET lease_expires = 0 WHERE id = ?1 AND state = 'running' AND lease_owner = ?2";
static const char SQL_TASK_WAITS[] =
    "SELECT p.ended_at, d.delay_ms, d.until_jq, d.condition_jq"
    " FROM task_deps d JOIN tasks p ON p.id = d.depends_on WHERE d.task_id = ?1";
static const char SQL_TASK_CLAIM[] =
    "UPDATE tasks SET state = 'running', lease_owner = ?2, lease_expires = ?3,"
    " fencing = fencing + 1, attempts = attempts + ?5, started_at = coalesce(started_at, ?4),"
    " updated_at = ?4"
    " WHERE id = ?1 AND fencing = ?6 AND attempts = ?7"
    " AND (state IN ('pending', 'waiting') OR (state = 'running' AND lease_expires < ?4))";
/* an undo sends what its task sent; a redo says what that was */
static const char SQL_TASK_REQUESTS[] =
    "SELECT coalesce(t.request, CASE WHEN t.mode = 'undo' THEN c.request END),"
    " coalesce(t.previous_request, CASE WHEN t.mode = 'redo' THEN c.request END)"
    " FROM tasks t LEFT JOIN tasks c ON c.id = t.compensates WHERE t.id = ?1";
/* the data of the items a task covers, in the task's order */
static const char SQL_TASK_ITEMS_DATA[] =
    "SELECT i.data FROM tasks t JOIN json_each(t.items) j"
    " JOIN order_items i ON i.order_id = t.order_id AND i.item_id = j.value"
    " WHERE t.id = ?1 ORDER BY j.key";
static const char SQL_TASK_ITEMS_DATA_PG[] =
    "SELECT i.data FROM tasks t"
    " CROSS JOIN LATERAL json_array_elements_text(CAST(t.items AS json))"
    "                   WITH ORDINALITY AS j(value, key)"
    " JOIN order_items i ON i.order_id = t.order_id AND i.item_id = j.value"
    " WHERE t.id = ?1 ORDER BY j.key";
static const char SQL_TASK_KEY_SET[] =
    "UPDATE tasks SET idem_key = ?2 WHERE id = ?1";
static const char SQL_TASK_DEFER[] =
    "UPDATE tasks SET not_before = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'pending'";
#define FINISH_SET                                                                      \
    "UPDATE tasks SET state = ?3, not_before = ?4, request = coalesce(?5, request),"      \
    " response = coalesce(?6, response), external_status = coalesce(?7, external_status)," \
    " error = ?8, correlation_id = coalesce(?9, correlation_id),"                        \
    " attempts = CASE WHEN attempts + ?10 > 0 THEN attempts + ?10 ELSE 0 END,"           \
    " temp_failures = temp_failures + ?11,"                                              \
    " deadline_at = ?12, lease_owner = NULL, lease_expires = NULL, updated_at = ?13,"     \
    " ended_at = CASE WHEN ?3 IN ('completed', 'failed', 'skipped', 'cancelled')"         \
    "            THEN CAST(?13 AS BIGINT) END"
static const char SQL_TASK_FINISH[] =
    FINISH_SET " WHERE id = ?1 AND fencing = ?2 AND state = 'running'";
static const char SQL_TASK_CLAIM_FINISH[] =
    FINISH_SET ", fencing = fencing + 1, started_at = coalesce(started_at, ?13)"
    " WHERE id = ?1 AND fencing = CAST(?2 AS BIGINT) - 1 AND attempts = ?14"
    " AND state IN ('pending', 'waiting')";
static const char SQL_ORDER_STATE_GET[] = "SELECT state FROM orders WHERE id = ?1";
static const char SQL_ORDER_BODY_REV[] = "SELECT body_rev FROM orders WHERE id = ?1";
static const char SQL_ORDER_STATE_SET[] =
    "UPDATE orders SET state = ?2, state_reason = ?3, updated_at = ?4,"
    " started_at = CASE WHEN ?2 = 'in_progress' THEN coalesce(started_at, ?4) ELSE started_at END,"
    " ended_at = CASE WHEN ?2 IN ('completed', 'cancelled', 'aborted') THEN ?4 ELSE ended_at END"
    " WHERE id = ?1 AND state = ?5";
static const char SQL_ORDER_BODY_SET[] =
    "UPDATE orders SET body = ?2, body_rev = body_rev + 1, updated_at = ?3 WHERE id = ?1";
static const char SQL_FALLOUT_ADD[] =
    "INSERT INTO tasks (order_id, plan_revision, function, group_key, kind, state, workgroup,"
    " error, fallout_of, created_at, updated_at)"
    " SELECT ?1, plan_revision, ?2, 'order', 'fallout', 'waiting', ?3, ?4, ?5, ?6, ?6"
    " FROM orders WHERE id = ?1";
/*
 * An order's roll-up as four seeks of tasks_open (the current plan's
 * tasks not completed nor skipped): anything open at all, anything
 * failed, anything active, anything runnable.  Its cost does not depend
 * on how many tasks the order has.
 */
#define OPEN_TASK(cond)                                                                 \
    "EXISTS (SELECT 1 FROM tasks t INDEXED BY tasks_open WHERE t.order_id = ?1"          \
    " AND t.plan_revision = (SELECT plan_revision FROM orders WHERE id = ?1)"             \
    " AND t.state NOT IN " DONE_STATES " AND t.kind <> 'fallout'" cond ")"
#define OPEN_TASK_PG(cond)                                                              \
    "EXISTS (SELECT 1 FROM tasks t WHERE t.order_id = ?1"                                \
    " AND t.plan_revision = (SELECT plan_revision FROM orders WHERE id = ?1)"             \
    " AND t.state NOT IN " DONE_STATES " AND t.kind <> 'fallout'" cond ")"
/* compensation (undo, redo) of the current plan not done yet */
static const char SQL_ORDER_COMPENSATING[] =
    "SELECT o.state, CASE WHEN o.state IN ('amending', 'cancelling') THEN "
    OPEN_TASK(" AND t.mode <> 'do'") " ELSE 0 END FROM orders o WHERE o.id = ?1";
static const char SQL_ORDER_COMPENSATING_PG[] =
    "SELECT o.state, CASE WHEN o.state IN ('amending', 'cancelling') THEN CASE WHEN "
    OPEN_TASK_PG(" AND t.mode <> 'do'") " THEN 1 ELSE 0 END ELSE 0 END"
    " FROM orders o WHERE o.id = ?1";
/* planned at all (an empty plan is a plan: nothing is left to do) */
static const char SQL_ORDER_ROLLUP[] =
    "SELECT (SELECT plan_revision > 0 FROM orders WHERE id = ?1), " OPEN_TASK("") ", "
    OPEN_TASK(" AND t.state = 'failed'");
static const char SQL_ORDER_ROLLUP_PG[] =
    "SELECT (SELECT plan_revision > 0 FROM orders WHERE id = ?1), " OPEN_TASK_PG("") ", "
    OPEN_TASK_PG(" AND t.state = 'failed'");
/* asked only when something failed: can anything else still go on? */
static const char SQL_ORDER_ROLLUP_MOVING[] =
    "SELECT " OPEN_TASK(" AND t.state IN ('running', 'waiting', 'claimed', 'ready', 'undoing')") ", "
    OPEN_TASK(" AND t.state = 'pending' AND t.deps_open = 0");
static const char SQL_ORDER_ROLLUP_MOVING_PG[] =
    "SELECT "
    OPEN_TASK_PG(" AND t.state IN ('running', 'waiting', 'claimed', 'ready', 'undoing')") ", "
    OPEN_TASK_PG(" AND t.state = 'pending' AND t.deps_open = 0");
static const char SQL_ORDER_STATES[] =
    "SELECT id, state FROM orders WHERE id IN (SELECT value FROM json_each(?1))";
static const char SQL_ORDER_STATES_PG[] =
    "SELECT id, state FROM orders WHERE id IN (" PG_JSON_IDS("?1") ")";
static const char SQL_ASYNC_TASK_FIND[] =
    TASK_ROW " WHERE (CAST(?1 AS BIGINT) > 0 AND t.id = ?1)"
    " OR (CAST(?1 AS BIGINT) <= 0 AND t.correlation_id = ?2)";
static const char SQL_ASYNC_ANSWER[] =
    "UPDATE tasks SET state = ?2, response = coalesce(?3, response),"
    " external_status = coalesce(?4, external_status), error = ?5,"
    " deadline_at = CASE WHEN ?2 = 'waiting' THEN deadline_at END, updated_at = ?6,"
    " ended_at = CASE WHEN ?2 IN ('completed', 'failed') THEN CAST(?6 AS BIGINT) END"
    " WHERE id = ?1 AND state = 'waiting'"
    " RETURNING order_id, function, attempts";
static const char SQL_ASYNC_RESPONSE_ADD[] =
    "INSERT INTO responses (task_id, correlation_id, actor, body, received_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ASYNC_RESPONSES_PENDING[] =
    "SELECT r.id, r.task_id, t.order_id, r.body FROM responses r"
    " JOIN tasks t ON t.id = r.task_id JOIN orders o ON o.id = t.order_id"
    " WHERE r.applied_at IS NULL AND o.state NOT IN ('suspended', 'amending')"
    " AND (?1 IS NULL OR t.order_id IN (SELECT value FROM json_each(?1)))"
    " AND (?2 IS NULL OR o.cartridge = ?2)"
    " ORDER BY r.id";
static const char SQL_ASYNC_RESPONSES_PENDING_PG[] =
    "SELECT r.id, r.task_id, t.order_id, r.body FROM responses r"
    " JOIN tasks t ON t.id = r.task_id JOIN orders o ON o.id = t.order_id"
    " WHERE r.applied_at IS NULL AND o.state NOT IN ('suspended', 'amending')"
    PG_ORDERS_FILTER
    " AND (CAST(?2 AS TEXT) IS NULL OR o.cartridge = ?2)"
    " ORDER BY r.id";
static const char SQL_ASYNC_RESPONSE_APPLIED[] =
    "UPDATE responses SET applied_at = ?2 WHERE id = ?1";
static const char SQL_JEOPARDY_TASKS[] =
    "UPDATE tasks SET jeopardy_at = ?5 WHERE id IN (SELECT t.id FROM tasks t"
    " JOIN orders o ON o.id = t.order_id"
    " WHERE t.state IN ('running', 'waiting', 'claimed') AND t.kind NOT IN ('timer', 'fallout')"
    " AND t.jeopardy_at IS NULL AND t.expected_ms > 0 AND t.started_at + t.expected_ms < ?5"
    " AND t.plan_revision = o.plan_revision AND o.state = 'in_progress'" TASK_FILTER ")"
    " RETURNING id, order_id, function, expected_ms, started_at";
static const char SQL_JEOPARDY_TASKS_PG[] =
    "UPDATE tasks SET jeopardy_at = ?5 WHERE id IN (SELECT t.id FROM tasks t"
    " JOIN orders o ON o.id = t.order_id"
    " WHERE t.state IN ('running', 'waiting', 'claimed') AND t.kind NOT IN ('timer', 'fallout')"
    " AND t.jeopardy_at IS NULL AND t.expected_ms > 0 AND t.started_at + t.expected_ms < ?5"
    " AND t.plan_revision = o.plan_revision AND o.state = 'in_progress'" TASK_FILTER_PG ")"
    " RETURNING id, order_id, function, expected_ms, started_at";
static const char SQL_JEOPARDY_ORDERS[] =
    "UPDATE orders SET jeopardy_at = ?3 WHERE id IN (SELECT o.id FROM orders o"
    " WHERE o.state IN ('not_started', 'in_progress') AND o.jeopardy_at IS NULL"
    " AND o.requested_at IS NOT NULL AND max(coalesce(o.expected_at, 0), ?3) > o.requested_at"
    " AND (?1 IS NULL OR o.id IN (SELECT value FROM json_each(?1)))"
    " AND (?2 IS NULL OR o.cartridge = ?2))"
    " RETURNING id, requested_at, expected_at";
/* max(a, ?3) > r as (a > r OR ?3 > r): PostgreSQL has no scalar max */
static const char SQL_JEOPARDY_ORDERS_PG[] =
    "UPDATE orders SET jeopardy_at = ?3 WHERE id IN (SELECT o.id FROM orders o"
    " WHERE o.state IN ('not_started', 'in_progress') AND o.jeopardy_at IS NULL"
    " AND o.requested_at IS NOT NULL"
    " AND (coalesce(o.expected_at, 0) > o.requested_at OR ?3 > o.requested_at)"
    " AND (CAST(?1 AS TEXT) IS NULL OR o.id IN (" PG_JSON_IDS("?1") "))"
    " AND (CAST(?2 AS TEXT) IS NULL OR o.cartridge = ?2))"
    " RETURNING id, requested_at, expected_at";
static const char SQL_TASKS_OPEN_COUNT[] =
    "SELECT count(*) FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE t.state IN ('pending', 'ready', 'running') AND t.kind <> 'fallout'"
    RUNNABLE " AND (?1 IS NULL OR t.order_id IN (SELECT value FROM json_each(?1)))";
static const char SQL_TASKS_OPEN_COUNT_PG[] =
    "SELECT count(*) FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE t.state IN ('pending', 'ready', 'running') AND t.kind <> 'fallout'"
    RUNNABLE_PG PG_ORDERS_FILTER;
static const char SQL_ASYNC_ORDER_EVENTS[] =
    "SELECT type FROM events WHERE order_id = ?1 ORDER BY id";
static const char SQL_ASYNC_OVERDUE[] =
    TASK_ROW " WHERE t.state = 'waiting' AND t.deadline_at IS NOT NULL AND t.deadline_at < ?5"
    " AND o.state IN ('not_started', 'in_progress', 'amending', 'cancelling')" TASK_FILTER
    " ORDER BY t.deadline_at, t.id";
static const char SQL_ASYNC_OVERDUE_PG[] =
    TASK_ROW " WHERE t.state = 'waiting' AND t.deadline_at IS NOT NULL AND t.deadline_at < ?5"
    " AND o.state IN ('not_started', 'in_progress', 'amending', 'cancelling')" TASK_FILTER_PG
    " ORDER BY t.deadline_at, t.id";

void
store_tasks_free(store_task *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].function);
        free(t[i].kind);
        free(t[i].system);
        free(t[i].state);
        free(t[i].workgroup);
        free(t[i].group);
        free(t[i].cartridge);
        free(t[i].cartridge_version);
        free(t[i].order_state);
        free(t[i].mode);
        free(t[i].idem_key);
        jv_free(t[i].items);
    }
    free(t);
}

/* A row of TASK_ROW into *t. */
static void
read_task(db_stmt *st, store_task *t)
{
    memset(t, 0, sizeof *t);
    t->id = db_column_int64(st, 0);
    t->order_id = db_column_int64(st, 1);
    t->function = store_col_strdup(st, 2);
    t->kind = store_col_strdup(st, 3);
    t->system = store_col_strdup(st, 4);
    t->state = store_col_strdup(st, 5);
    t->workgroup = store_col_strdup(st, 6);
    t->group = store_col_strdup(st, 7);
    const char *items = (const char *)db_column_text(st, 8);
    t->items = items ? jv_parse(items) : jv_array();
    if (jv_get_kind(t->items) != JV_KIND_ARRAY) {
        jv_free(t->items);
        t->items = jv_array();
    }
    t->attempts = db_column_int(st, 9);
    t->temp_failures = db_column_int(st, 10);
    t->fencing = db_column_int64(st, 11);
    t->not_before = store_col_time(st, 12);
    t->expected_ms = store_col_time(st, 13);
    t->started_at = store_col_time(st, 14);
    t->cartridge = store_col_strdup(st, 15);
    t->cartridge_version = store_col_strdup(st, 16);
    t->order_state = store_col_strdup(st, 17);
    t->plan_revision = db_column_int(st, 18);
    t->priority = db_column_int(st, 19);
    t->body_rev = db_column_int64(st, 20);
    t->mode = store_col_strdup(st, 21);
    t->amend = db_column_int(st, 22);
    t->compensates = db_column_int64(st, 23);
    t->order_plan_revision = db_column_int(st, 24);
    t->idem_key = store_col_strdup(st, 25);
    t->has_waits = db_column_int(st, 26);
}

/* Bind filter f (NULL: none) to ?1..?4 of a TASK_FILTER statement. */
static void
bind_filter(db_stmt *st, const store_task_filter *f)
{
    if (!f)
        return;
    if (jv_get_kind(f->orders) == JV_KIND_ARRAY) {
        jv text = jv_dump_string(jv_copy(f->orders), 0);
        db_bind_text(st, 1, jv_string_value(text), -1, SQLITE_TRANSIENT);
        jv_free(text);
    }
    store_bind_text(st, 2, f->system);
    store_bind_text(st, 3, f->cartridge);
    store_bind_text(st, 4, f->function);
}

/* Step st (TASK_ROW rows) to the end into *out, *n; hands st back. */
static int
collect_tasks(store *s, db_stmt *st, store_task **out, size_t *n, osm_err *err)
{
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        read_task(st, &(*out)[(*n)++]);
    }
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        store_tasks_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    store_stmt_done(st);
    return 0;
}

/* Append the rows of a candidate query to *out, *n (up to limit in all). */
static int
candidates_from(store *s, int id, const char *sql, const store_task_filter *f, int64_t now,
                int priority, int limit, store_task **out, size_t *n, osm_err *err)
{
    db_stmt *st;
    int rc;

    if ((size_t)limit <= *n)
        return 0;
    if (!(st = store_stmt(s, id, sql, err)))
        return store_stmt_fail(err);
    bind_filter(st, f);
    db_bind_int64(st, 5, now);
    db_bind_int(st, 6, limit - (int)*n);
    if (priority >= 0)
        db_bind_int(st, 7, priority);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        read_task(st, &(*out)[(*n)++]);
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

/* Claim order: highest priority first, then not-before, then id. */
static int
by_claim_order(const void *a, const void *b)
{
    const store_task *x = a, *y = b;
    int64_t nx = x->not_before < 0 ? 0 : x->not_before, ny = y->not_before < 0 ? 0 : y->not_before;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int
store_task_candidates(store *s, const store_task_filter *f, int64_t now, int limit,
                      store_task **out, size_t *n, osm_err *err)
{
    int by_order = f && jv_get_kind(f->orders) == JV_KIND_ARRAY;
    int rc;

    *out = NULL;
    *n = 0;
    /* expired leases and due timers: few, each through its own index */
    rc = candidates_from(s, ST_TASK_EXPIRED,
                         DIALECT(s, SQL_TASK_EXPIRED, SQL_TASK_EXPIRED_PG),
                         f, now, -1, limit, out, n, err);
    if (rc == 0)
        rc = candidates_from(s, ST_TASK_TIMERS,
                             DIALECT(s, SQL_TASK_TIMERS, SQL_TASK_TIMERS_PG),
                             f, now, -1, limit, out, n, err);
    if (rc == 0 && by_order) {
        rc = candidates_from(s, ST_TASK_READY_ORDERS,
                             DIALECT(s, SQL_TASK_READY_ORDERS, SQL_TASK_READY_ORDERS_PG),
                             f, now, -1, limit, out, n, err);
    } else {
        for (int p = 9; rc == 0 && p >= 0 && *n < (size_t)limit; p--)
            rc = candidates_from(s, ST_TASK_READY,
                                 DIALECT(s, SQL_TASK_READY, SQL_TASK_READY_PG),
                                 f, now, p, limit, out, n, err);
    }
    if (rc != 0) {
        store_tasks_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_claim_order);
    return 0;
}

int
store_task_leases_drop_dead(store *s, const char *host_prefix, int (*alive)(const char *owner),
                            int64_t now, int *dropped, osm_err *err)
{
    db_stmt *st;
    jv dead = jv_array();
    int rc;

    if (dropped)
        *dropped = 0;
    if ((rc = store_in_tx(s, "store_task_leases_drop_dead", err)) != 0 ||
        !(st = store_stmt(s, ST_TASK_LEASES_HOST, SQL_TASK_LEASES_HOST, err))) {
        jv_free(dead);
        return rc ? rc : store_stmt_fail(err);
    }
    store_bind_text(st, 1, host_prefix);
    db_bind_int64(st, 2, now);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        const char *owner = (const char *)db_column_text(st, 1);
        if (owner && !alive(owner))
            dead = jv_array_append(dead, JV_ARRAY(jv_number((double)db_column_int64(st, 0)),
                                                  jv_string(owner)));
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_array_foreach(dead, i, d) {
        if (rc == 0 && (st = store_stmt(s, ST_TASK_LEASE_DROP, SQL_TASK_LEASE_DROP, err))) {
            jv id = jv_array_get(jv_copy(d), 0), owner = jv_array_get(jv_copy(d), 1);
            db_bind_int64(st, 1, (int64_t)jv_number_value(id));
            store_bind_text(st, 2, jv_string_value(owner));
            rc = store_step_done(s, st, err);
            if (rc == 0 && dropped)
                *dropped += db_changes(s->db);
            jv_free(id);
            jv_free(owner);
        } else if (rc == 0) {
            rc = store_stmt_fail(err);
        }
        jv_free(d);
    }
    jv_free(dead);
    return rc;
}

int
store_task_waits(store *s, int64_t id, int64_t *ready_at, jv *conds, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASK_WAITS, SQL_TASK_WAITS, err);
    int rc;

    *ready_at = 0;
    *conds = jv_array();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        int64_t at = store_col_time(st, 0) + db_column_int64(st, 1);
        if (at > *ready_at)
            *ready_at = at;
        const char *until = (const char *)db_column_text(st, 2);
        const char *cond = (const char *)db_column_text(st, 3);
        if (until || cond) {
            jv c = jv_object();
            if (until)
                c = jv_object_set(c, jv_string("until"), jv_string(until));
            if (cond)
                c = jv_object_set(c, jv_string("condition"), jv_string(cond));
            *conds = jv_array_append(*conds, c);
        }
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_task_claim(store *s, const store_task *t, const char *owner, int64_t lease_until,
                 int64_t now, int count_attempt, int64_t *fencing, int *attempts, osm_err *err)
{
    db_stmt *st;
    int rc;

    if ((rc = store_in_tx(s, "store_task_claim", err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_TASK_CLAIM, SQL_TASK_CLAIM, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, t->id);
    store_bind_text(st, 2, owner);
    db_bind_int64(st, 3, lease_until);
    db_bind_int64(st, 4, now);
    db_bind_int(st, 5, count_attempt ? 1 : 0);
    db_bind_int64(st, 6, t->fencing);
    db_bind_int(st, 7, t->attempts);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    if (db_changes(s->db) != 1)
        return OSM_NEGATIVE;
    *fencing = t->fencing + 1;
    *attempts = t->attempts + (count_attempt ? 1 : 0);
    return 0;
}

int
store_task_requests(store *s, int64_t id, char **request, char **previous, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASK_REQUESTS, SQL_TASK_REQUESTS, err);
    int rc;

    *request = *previous = NULL;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *request = store_col_strdup(st, 0);
        *previous = store_col_strdup(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "no such task: %lld", (long long)id);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_task_items_data(store *s, int64_t id, jv *items, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASK_ITEMS_DATA,
                             DIALECT(s, SQL_TASK_ITEMS_DATA, SQL_TASK_ITEMS_DATA_PG), err);
    int rc;

    *items = jv_array();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        jv v = json_parse_mem((const char *)db_column_text(st, 0),
                              (size_t)db_column_bytes(st, 0), err);
        if (!jv_is_valid(v)) {
            store_stmt_done(st);
            return OSM_ESOFTWARE;
        }
        *items = jv_array_append(*items, v);
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_task_set_key(store *s, int64_t id, const char *key, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASK_KEY_SET, SQL_TASK_KEY_SET, err);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    store_bind_text(st, 2, key);
    return store_step_done(s, st, err);
}

int
store_task_defer(store *s, int64_t id, int64_t not_before, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASK_DEFER, SQL_TASK_DEFER, err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, not_before);
    db_bind_int64(st, 3, now);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_task_finish(store *s, int64_t id, int64_t fencing, const task_outcome *o,
                  const char *actor, int64_t now, osm_err *err)
{
    db_stmt *st;
    int rc;

    if ((rc = store_in_tx(s, "store_task_finish", err)) != 0)
        return rc;
    st = o->claim ? store_stmt(s, ST_TASK_CLAIM_FINISH, SQL_TASK_CLAIM_FINISH, err)
                  : store_stmt(s, ST_TASK_FINISH, SQL_TASK_FINISH, err);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, fencing);
    store_bind_text(st, 3, o->state);
    store_bind_time(st, 4, o->not_before);
    store_bind_text(st, 5, o->request);
    store_bind_text(st, 6, o->response);
    store_bind_text(st, 7, o->external_status);
    store_bind_text(st, 8, o->error);
    store_bind_text(st, 9, o->correlation_id);
    db_bind_int(st, 10, o->attempts_delta);
    db_bind_int(st, 11, o->temp_failures_delta);
    store_bind_time(st, 12, o->deadline_at);
    db_bind_int64(st, 13, now);
    if (o->claim)
        db_bind_int(st, 14, o->claim_attempts);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    if (db_changes(s->db) != 1)
        return OSM_NEGATIVE;
    jv data = JV_OBJECT(jv_string("function"), jv_string(o->function ? o->function : ""),
                        jv_string("from"), jv_string("running"), jv_string("to"),
                        jv_string(o->state), jv_string("attempts"), jv_number(o->attempts));
    if (o->error)
        data = jv_object_set(data, jv_string("error"), jv_string(o->error));
    return store_event_add(s, o->order_id, id, "task.state", actor, data, now, NULL, err);
}

int
store_order_body_rev(store *s, int64_t id, int64_t *rev, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_BODY_REV, SQL_ORDER_BODY_REV, err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *rev = db_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)id);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_order_state(store *s, int64_t id, char **state, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_STATE_GET, SQL_ORDER_STATE_GET, err);
    int rc;
    *state = NULL;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *state = store_col_strdup(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)id);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

static int
in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

int
store_order_transition(store *s, int64_t id, const char *from, const char *to,
                       const char *reason, const char *actor, int64_t now, osm_err *err)
{
    db_stmt *st;
    char *cur;
    int rc;

    if ((rc = store_order_state(s, id, &cur, err)) != 0)
        return rc;
    if (!in_list(from, cur)) {
        free(cur);
        return OSM_NEGATIVE;
    }
    if (!(st = store_stmt(s, ST_ORDER_STATE_SET, SQL_ORDER_STATE_SET, err))) {
        free(cur);
        return store_stmt_fail(err);
    }
    db_bind_int64(st, 1, id);
    store_bind_text(st, 2, to);
    store_bind_text(st, 3, reason);
    db_bind_int64(st, 4, now);
    store_bind_text(st, 5, cur);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    if (rc == 0) {
        jv data = JV_OBJECT(jv_string("from"), jv_string(cur), jv_string("to"), jv_string(to));
        if (reason)
            data = jv_object_set(data, jv_string("reason"), jv_string(reason));
        rc = store_event_add(s, id, 0, "order.state", actor, data, now, NULL, err);
    }
    free(cur);
    return rc;
}

int
store_order_set_body(store *s, int64_t id, jv body, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_BODY_SET, SQL_ORDER_BODY_SET, err);
    int rc;
    if (!st) {
        jv_free(body);
        return store_stmt_fail(err);
    }
    jv text = jv_dump_string(body, 0);
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, jv_string_value(text), -1, SQLITE_TRANSIENT);
    db_bind_int64(st, 3, now);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_free(text);
    return rc;
}

int
store_fallout_add(store *s, int64_t order_id, int64_t task_id, const char *function,
                  const char *workgroup, jv error, const char *actor, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_FALLOUT_ADD, SQL_FALLOUT_ADD, err);
    int64_t fallout;
    int rc;

    if (!st) {
        jv_free(error);
        return store_stmt_fail(err);
    }
    jv text = jv_dump_string(jv_copy(error), 0);
    db_bind_int64(st, 1, order_id);
    store_bind_text(st, 2, function);
    store_bind_text(st, 3, workgroup);
    db_bind_text(st, 4, jv_string_value(text), -1, SQLITE_TRANSIENT);
    db_bind_int64(st, 5, task_id);
    db_bind_int64(st, 6, now);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_free(text);
    if (rc != 0) {
        jv_free(error);
        return rc;
    }
    fallout = db_last_insert_rowid(s->db);
    jv data = JV_OBJECT(jv_string("function"), jv_string(function), jv_string("workgroup"),
                        workgroup ? jv_string(workgroup) : jv_null(), jv_string("falloutTask"),
                        jv_number((double)fallout), jv_string("error"), error);
    return store_event_add(s, order_id, task_id, "fallout", actor, data, now, NULL, err);
}

int
store_order_rollup(store *s, int64_t id, const char *actor, int64_t now, const char **to,
                   osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_ROLLUP,
                             DIALECT(s, SQL_ORDER_ROLLUP, SQL_ORDER_ROLLUP_PG), err);
    int planned, open, failed, active, runnable;
    int rc;

    if (to)
        *to = NULL;
    if (!st)
        return store_stmt_fail(err);
    /*
     * An order amending or cancelling: once its compensation is done it
     * goes on with its new plan (in_progress), or is cancelled.
     */
    db_stmt *cs = store_stmt(s, ST_ORDER_COMPENSATING,
                             DIALECT(s, SQL_ORDER_COMPENSATING, SQL_ORDER_COMPENSATING_PG), err);
    if (!cs)
        return store_stmt_fail(err);
    db_bind_int64(cs, 1, id);
    if ((rc = db_step(cs)) != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
        store_stmt_done(cs);
        return rc;
    }
    const char *ostate = (const char *)db_column_text(cs, 0);
    int amending = ostate && strcmp(ostate, "amending") == 0;
    int cancelling = ostate && strcmp(ostate, "cancelling") == 0;
    int compensating = db_column_int(cs, 1);
    store_stmt_done(cs);
    if (cancelling || amending) {
        if (compensating)
            return 0;
        if (cancelling) {
            rc = store_order_transition(s, id, "cancelling", "cancelled", NULL, actor, now, err);
            if (rc == 0 && to)
                *to = "cancelled";
            return rc == OSM_NEGATIVE ? 0 : rc;
        }
        if ((rc = store_order_transition(s, id, "amending", "in_progress", "revision applied",
                                         actor, now, err)) != 0)
            return rc == OSM_NEGATIVE ? 0 : rc;
    }
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc != SQLITE_ROW) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    planned = db_column_int(st, 0);
    open = db_column_int(st, 1);
    failed = db_column_int(st, 2);
    store_stmt_done(st);
    active = runnable = 1;
    if (failed && open) {
        if (!(st = store_stmt(s, ST_ORDER_ROLLUP_MOVING,
                              DIALECT(s, SQL_ORDER_ROLLUP_MOVING, SQL_ORDER_ROLLUP_MOVING_PG),
                              err)))
            return store_stmt_fail(err);
        db_bind_int64(st, 1, id);
        if ((rc = db_step(st)) != SQLITE_ROW) {
            rc = store_sqlfail(s, rc, err);
            store_stmt_done(st);
            return rc;
        }
        active = db_column_int(st, 0);
        runnable = db_column_int(st, 1);
        store_stmt_done(st);
    }
    rc = 0;
    if (planned && !open) {
        rc = store_order_transition(s, id, "not_started,in_progress", "completed", NULL, actor,
                                    now, err);
        if (rc == 0 && to)
            *to = "completed";
    } else if (failed && !active && !runnable) {
        rc = store_order_transition(s, id, "in_progress", "failed", "fallout", actor, now, err);
        if (rc == 0 && to)
            *to = "failed";
    }
    return rc == OSM_NEGATIVE ? 0 : rc;
}

int
store_order_states(store *s, jv ids, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_STATES,
                             DIALECT(s, SQL_ORDER_STATES, SQL_ORDER_STATES_PG), err);
    int rc;
    *out = jv_object();
    if (!st)
        return store_stmt_fail(err);
    jv text = jv_dump_string(jv_copy(ids), 0);
    db_bind_text(st, 1, jv_string_value(text), -1, SQLITE_TRANSIENT);
    jv_free(text);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)db_column_int64(st, 0));
        *out = jv_object_set(*out, jv_string(key),
                             jv_string((const char *)db_column_text(st, 1)));
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

/* ------------------------------------------------------------ asynchronous answers */

int
store_task_find(store *s, int64_t id, const char *corr, store_task **out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ASYNC_TASK_FIND, SQL_ASYNC_TASK_FIND, err);
    size_t n = 0;
    int rc;

    *out = NULL;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    store_bind_text(st, 2, corr);
    if ((rc = collect_tasks(s, st, out, &n, err)) != 0)
        return rc;
    if (n == 0) {
        if (id > 0)
            return osm_fail(err, OSM_ENOINPUT, "no such task: %lld", (long long)id);
        return osm_fail(err, OSM_ENOINPUT, "no task waits for correlation id \"%s\"",
                        corr ? corr : "");
    }
    return 0;
}

int
store_task_answer(store *s, int64_t id, const task_outcome *o, const char *actor, int64_t now,
                  osm_err *err)
{
    db_stmt *st;
    int rc;

    if ((rc = store_in_tx(s, "store_task_answer", err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_ASYNC_ANSWER, SQL_ASYNC_ANSWER, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    store_bind_text(st, 2, o->state);
    store_bind_text(st, 3, o->response);
    store_bind_text(st, 4, o->external_status);
    store_bind_text(st, 5, o->error);
    db_bind_int64(st, 6, now);
    rc = db_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? OSM_NEGATIVE : store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    int64_t order_id = db_column_int64(st, 0);
    char *function = store_col_strdup(st, 1);
    int attempts = db_column_int(st, 2);
    store_stmt_done(st);
    if (strcmp(o->state, "waiting") == 0) {
        free(function);
        return 0;
    }
    jv data = JV_OBJECT(jv_string("function"), jv_string(function), jv_string("from"),
                        jv_string("waiting"), jv_string("to"), jv_string(o->state),
                        jv_string("attempts"), jv_number(attempts));
    if (o->error)
        data = jv_object_set(data, jv_string("error"), jv_string(o->error));
    free(function);
    return store_event_add(s, order_id, id, "task.state", actor, data, now, NULL, err);
}

int
store_response_add(store *s, int64_t task_id, const char *corr, const char *actor, jv body,
                   int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ASYNC_RESPONSE_ADD, SQL_ASYNC_RESPONSE_ADD, err);
    int rc;
    if (!st) {
        jv_free(body);
        return store_stmt_fail(err);
    }
    jv text = jv_dump_string(body, 0);
    db_bind_int64(st, 1, task_id);
    store_bind_text(st, 2, corr);
    store_bind_text(st, 3, actor);
    db_bind_text(st, 4, jv_string_value(text), -1, SQLITE_TRANSIENT);
    db_bind_int64(st, 5, now);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_free(text);
    return rc;
}

int
store_responses_pending(store *s, const store_task_filter *f, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ASYNC_RESPONSES_PENDING,
                             DIALECT(s, SQL_ASYNC_RESPONSES_PENDING,
                                     SQL_ASYNC_RESPONSES_PENDING_PG), err);
    int rc;

    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    if (f && jv_get_kind(f->orders) == JV_KIND_ARRAY) {
        jv text = jv_dump_string(jv_copy(f->orders), 0);
        db_bind_text(st, 1, jv_string_value(text), -1, SQLITE_TRANSIENT);
        jv_free(text);
    }
    if (f)
        store_bind_text(st, 2, f->cartridge);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)db_column_text(st, 3);
        *out = jv_array_append(*out, JV_OBJECT(jv_string("id"),
                                               jv_number((double)db_column_int64(st, 0)),
                                               jv_string("task"),
                                               jv_number((double)db_column_int64(st, 1)),
                                               jv_string("order"),
                                               jv_number((double)db_column_int64(st, 2)),
                                               jv_string("body"), jv_parse(body ? body : "null")));
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_response_applied(store *s, int64_t id, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ASYNC_RESPONSE_APPLIED, SQL_ASYNC_RESPONSE_APPLIED, err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, now);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_tasks_overdue(store *s, const store_task_filter *f, int64_t now, store_task **out,
                    size_t *n, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ASYNC_OVERDUE,
                             DIALECT(s, SQL_ASYNC_OVERDUE, SQL_ASYNC_OVERDUE_PG), err);

    *out = NULL;
    *n = 0;
    if (!st)
        return store_stmt_fail(err);
    bind_filter(st, f);
    db_bind_int64(st, 5, now);
    return collect_tasks(s, st, out, n, err);
}

/* ------------------------------------------------------------ jeopardy */

int
store_jeopardy_raise(store *s, const store_task_filter *f, const char *actor, int64_t now,
                     int *n, osm_err *err)
{
    db_stmt *st;
    jv raised = jv_array();
    int rc;
    char a[CLOCK_RFC3339_MAX], b[CLOCK_RFC3339_MAX], d[CLOCK_DURATION_MAX];

    if (n)
        *n = 0;
    if ((rc = store_in_tx(s, "store_jeopardy_raise", err)) != 0 ||
        !(st = store_stmt(s, ST_JEOPARDY_TASKS,
                          DIALECT(s, SQL_JEOPARDY_TASKS, SQL_JEOPARDY_TASKS_PG), err))) {
        jv_free(raised);
        return rc ? rc : store_stmt_fail(err);
    }
    bind_filter(st, f);
    db_bind_int64(st, 5, now);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        duration_format(db_column_int64(st, 3), d);
        rfc3339_format(db_column_int64(st, 4), a);
        raised = jv_array_append(
            raised, JV_ARRAY(jv_number((double)db_column_int64(st, 1)),
                             jv_number((double)db_column_int64(st, 0)),
                             JV_OBJECT(jv_string("reason"), jv_string("task late"),
                                       jv_string("function"),
                                       jv_string((const char *)db_column_text(st, 2)),
                                       jv_string("expectedDuration"), jv_string(d),
                                       jv_string("startedAt"), jv_string(a))));
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    if (rc == 0 &&
        (st = store_stmt(s, ST_JEOPARDY_ORDERS,
                         DIALECT(s, SQL_JEOPARDY_ORDERS, SQL_JEOPARDY_ORDERS_PG), err))) {
        if (f && jv_get_kind(f->orders) == JV_KIND_ARRAY) {
            jv text = jv_dump_string(jv_copy(f->orders), 0);
            db_bind_text(st, 1, jv_string_value(text), -1, SQLITE_TRANSIENT);
            jv_free(text);
        }
        if (f)
            store_bind_text(st, 2, f->cartridge);
        db_bind_int64(st, 3, now);
        while ((rc = db_step(st)) == SQLITE_ROW) {
            int64_t req = db_column_int64(st, 1), exp = store_col_time(st, 2);
            if (exp < now)
                exp = now;
            rfc3339_format(req, a);
            rfc3339_format(exp, b);
            duration_format(exp - req, d);
            raised = jv_array_append(
                raised, JV_ARRAY(jv_number((double)db_column_int64(st, 0)), jv_number(0),
                                 JV_OBJECT(jv_string("reason"), jv_string("late"),
                                           jv_string("requestedDate"), jv_string(a),
                                           jv_string("expectedCompletion"), jv_string(b),
                                           jv_string("lateBy"), jv_string(d))));
        }
        rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
        store_stmt_done(st);
    } else if (rc == 0) {
        rc = store_stmt_fail(err);
    }
    jv_array_foreach(raised, i, r) {
        jv oid = jv_array_get(jv_copy(r), 0), tid = jv_array_get(jv_copy(r), 1);
        if (rc == 0)
            rc = store_event_add(s, (int64_t)jv_number_value(oid),
                                 (int64_t)jv_number_value(tid), "jeopardy", actor,
                                 jv_array_get(jv_copy(r), 2), now, NULL, err);
        if (rc == 0 && n)
            (*n)++;
        jv_free(oid);
        jv_free(tid);
        jv_free(r);
    }
    jv_free(raised);
    return rc;
}

int
store_order_event_types(store *s, int64_t id, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ASYNC_ORDER_EVENTS, SQL_ASYNC_ORDER_EVENTS, err);
    int rc;
    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW)
        *out = jv_array_append(*out, jv_string((const char *)db_column_text(st, 0)));
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_tasks_open_count(store *s, const store_task_filter *f, int64_t *n, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASKS_OPEN_COUNT,
                             DIALECT(s, SQL_TASKS_OPEN_COUNT, SQL_TASKS_OPEN_COUNT_PG), err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    bind_filter(st, f);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *n = db_column_int64(st, 0);
        rc = 0;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}
