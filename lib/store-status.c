/*
 * The store side of osm-status (see store-status.h): an order with its
 * items and tasks, listings that follow an index, the summary counts,
 * the history, and purging ended orders.
 *
 * Listings are a fixed set of statements, one per index that can drive
 * them; each carries every filter, those that do not drive written as
 * "(?N IS NULL OR ...)" so that the planner never picks their index
 * instead (it plans from the SQL text, not from the values bound).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "store-int.h"
#include "store-status.h"
#include "store.h"
#include "xalloc.h"

/* Open orders: everything but the terminal states (DESIGN §12). */
#define OPEN_STATES \
    "('not_started', 'in_progress', 'suspended', 'amending', 'cancelling', 'failed'," \
    " 'waiting_for_revision')"
/* Tasks whose time runs: those that may run past their expected duration. */
#define ACTIVE_TASK_STATES "('running', 'waiting', 'claimed')"

static const char SQL_READ_BEGIN[] = "BEGIN DEFERRED";
/* one snapshot for all the reads, as a SQLite read transaction sees */
static const char SQL_READ_BEGIN_PG[] = "BEGIN ISOLATION LEVEL REPEATABLE READ";
static const char SQL_READ_END[] = "COMMIT";

#define ORDER_COLUMNS                                                                  \
    "id, external_id, revision, plan_revision, cartridge, cartridge_version, order_type," \
    " state, state_reason, priority, requested_at, start_at, expected_at, late_ms,"     \
    " jeopardy_at, created_at, updated_at, started_at, ended_at"

static const char SQL_ORDER_GET[] =
    "SELECT " ORDER_COLUMNS ", NULL FROM orders WHERE id = ?1";
static const char SQL_ITEMS[] =
    "SELECT item_id, action, spec FROM order_items WHERE order_id = ?1 ORDER BY id";
static const char SQL_TASKS[] =
    "SELECT id, function, kind, system, state, workgroup, assignee, error, external_status,"
    " items, attempts, temp_failures, expected_ms, started_at, ended_at, jeopardy_at,"
    " created_at, fallout_of"
    " FROM tasks WHERE order_id = ?1 AND (plan_revision = ?2 OR kind = 'fallout') ORDER BY id";
/* SQLite's JSON parser cuts the manifest down: parsing all of it with jq's costs more. */
static const char SQL_MANIFEST[] =
    "SELECT CASE WHEN json_valid(manifest) THEN json_object("
    "  'fulfillmentStates', json_extract(manifest, '$.fulfillmentStates'),"
    "  'systems', (SELECT json_group_object(key, json_object('statuses',"
    "                                                        json_extract(value, '$.statuses')))"
    "              FROM json_each(manifest, '$.systems'))) END"
    " FROM cartridges WHERE name = ?1 AND version = ?2";
/* deploy validated the manifest: the cast cannot fail */
static const char SQL_MANIFEST_PG[] =
    "SELECT json_build_object('fulfillmentStates', m -> 'fulfillmentStates',"
    "  'systems', coalesce((SELECT json_object_agg(s.key,"
    "                               json_build_object('statuses', s.value -> 'statuses'))"
    "                       FROM json_each(CASE WHEN json_typeof(m -> 'systems') = 'object'"
    "                                      THEN m -> 'systems' END) s), '{}'))"
    " FROM (SELECT CAST(manifest AS json) AS m FROM cartridges"
    "       WHERE name = ?1 AND version = ?2) c";

/*
 * The listing statements.  ?1 states (JSON array), ?2 cartridge, ?3
 * cartridge version, ?4 order type, ?5 external id, ?6/?7 created range,
 * ?8 limit (-1: none), ?9 offset, ?10 with body.
 */
#define LIST_SELECT \
    "SELECT " ORDER_COLUMNS ", CASE WHEN ?10 THEN body END FROM orders WHERE "
#define LIST_REST                                                              \
    " AND (?1 IS NULL OR state IN (SELECT value FROM json_each(?1)))"          \
    " AND (?2 IS NULL OR cartridge = ?2) AND (?3 IS NULL OR cartridge_version = ?3)" \
    " AND (?4 IS NULL OR order_type = ?4) AND (?5 IS NULL OR external_id = ?5)" \
    " AND (?6 IS NULL OR created_at >= ?6) AND (?7 IS NULL OR created_at < ?7)" \
    " ORDER BY id LIMIT ?8 OFFSET ?9"

static const char SQL_LIST_EXTERNAL[] = LIST_SELECT "external_id = ?5" LIST_REST;
static const char SQL_LIST_STATE[] =
    LIST_SELECT "state IN (SELECT value FROM json_each(?1))" LIST_REST;
static const char SQL_LIST_CARTRIDGE[] = LIST_SELECT "cartridge = ?2" LIST_REST;
static const char SQL_LIST_CREATED[] =
    LIST_SELECT "created_at >= ?11 AND created_at < ?12" LIST_REST;
static const char SQL_LIST_ALL[] = LIST_SELECT "1" LIST_REST;

/*
 * PostgreSQL's: typed NULL tests, the states through json_array_elements_text,
 * and no LIMIT -1 (an error there): a negative ?8 is no limit.
 */
#define PG_STATES "SELECT json_array_elements_text(CAST(?1 AS json))"
#define LIST_SELECT_PG \
    "SELECT " ORDER_COLUMNS ", CASE WHEN ?10 <> 0 THEN body END FROM orders WHERE "
#define LIST_REST_PG                                                           \
    " AND (CAST(?1 AS TEXT) IS NULL OR state IN (" PG_STATES "))"              \
    " AND (CAST(?2 AS TEXT) IS NULL OR cartridge = ?2)"                        \
    " AND (CAST(?3 AS TEXT) IS NULL OR cartridge_version = ?3)"                \
    " AND (CAST(?4 AS TEXT) IS NULL OR order_type = ?4)"                       \
    " AND (CAST(?5 AS TEXT) IS NULL OR external_id = ?5)"                      \
    " AND (CAST(?6 AS BIGINT) IS NULL OR created_at >= ?6)"                    \
    " AND (CAST(?7 AS BIGINT) IS NULL OR created_at < ?7)"                     \
    " ORDER BY id"                                                             \
    " LIMIT CASE WHEN CAST(?8 AS BIGINT) < 0 THEN 9223372036854775807 ELSE ?8 END" \
    " OFFSET ?9"

static const char SQL_LIST_EXTERNAL_PG[] = LIST_SELECT_PG "external_id = ?5" LIST_REST_PG;
static const char SQL_LIST_STATE_PG[] =
    LIST_SELECT_PG "state IN (" PG_STATES ")" LIST_REST_PG;
static const char SQL_LIST_CARTRIDGE_PG[] = LIST_SELECT_PG "cartridge = ?2" LIST_REST_PG;
static const char SQL_LIST_CREATED_PG[] =
    LIST_SELECT_PG "created_at >= ?11 AND created_at < ?12" LIST_REST_PG;
static const char SQL_LIST_ALL_PG[] = LIST_SELECT_PG "1 = 1" LIST_REST_PG;

/* Grouped by the columns of orders_cartridge, in its order: a covering scan. */
static const char SQL_COUNTS[] =
    "SELECT cartridge, cartridge_version, state, count(*) FROM orders"
    " GROUP BY cartridge, cartridge_version, state";
/*
 * Late and in jeopardy, as lib/status.c defines them: late when the
 * requested date is past, or the expected completion after it; in
 * jeopardy when late, when a jeopardy was raised, or when a task of the
 * current plan runs past its expected duration.  The state terms repeat
 * the WHERE clauses of the partial indexes orders_open and tasks_active
 * (share/migrations/002-status.sql) word for word, so that only those
 * small covering indexes are read.
 */
static const char SQL_LATE[] =
    "SELECT coalesce(sum(CASE WHEN late THEN 1 ELSE 0 END), 0),"
    " coalesce(sum(CASE WHEN late OR jeopardy_at IS NOT NULL OR EXISTS ("
    "   SELECT 1 FROM tasks t WHERE t.order_id = x.id AND t.plan_revision = x.plan_revision"
    "   AND t.state IN " ACTIVE_TASK_STATES " AND t.kind <> 'fallout'"
    "   AND t.started_at + t.expected_ms < ?1) THEN 1 ELSE 0 END), 0)"
    " FROM (SELECT id, plan_revision, jeopardy_at,"
    "       requested_at IS NOT NULL"
    "       AND (coalesce(expected_at, -1) > requested_at OR ?1 > requested_at) AS late"
    "       FROM orders WHERE state IN " OPEN_STATES ") x";
static const char SQL_FALLOUT_OPEN[] =
    "SELECT count(*) FROM tasks WHERE state IN ('waiting', 'claimed') AND kind = 'fallout'";

#define EVENT_COLUMNS "e.id, e.order_id, e.task_id, e.at, e.type, e.actor, e.data"
static const char SQL_EVENTS_ORDER[] =
    "SELECT " EVENT_COLUMNS " FROM events e WHERE e.order_id = ?1 AND e.id > ?2"
    " ORDER BY e.id LIMIT ?3";
static const char SQL_EVENTS_ALL[] =
    "SELECT " EVENT_COLUMNS " FROM events e WHERE e.id > ?1"
    " AND (?2 IS NULL OR e.order_id IN (SELECT value FROM json_each(?2)))"
    " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM orders o WHERE o.id = e.order_id"
    "                            AND o.cartridge = ?3))"
    " ORDER BY e.id LIMIT ?4";
static const char SQL_EVENTS_ALL_PG[] =
    "SELECT " EVENT_COLUMNS " FROM events e WHERE e.id > ?1"
    " AND (CAST(?2 AS TEXT) IS NULL OR e.order_id IN (" PG_JSON_IDS("?2") "))"
    " AND (CAST(?3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM orders o"
    "                            WHERE o.id = e.order_id AND o.cartridge = ?3))"
    " ORDER BY e.id LIMIT ?4";
static const char SQL_LAST_EVENT[] = "SELECT coalesce(max(id), 0) FROM events";

/*
 * The foreign keys cascade to everything that belongs to the order.  The
 * oldest first, along orders_ended ("state || ''": not along orders_state,
 * which would sort every completed order for each batch).
 */
static const char SQL_PURGE[] =
    "DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE ended_at < ?1"
    " AND (state || '') IN ('completed', 'cancelled', 'aborted') ORDER BY ended_at LIMIT ?2)";

int
store_status_read_begin(store *s, osm_err *err)
{
    db_stmt *st;
    int rc;

    if (!db_get_autocommit(s->db))
        return osm_fail(err, OSM_ESOFTWARE, "internal error: transaction already open");
    if (!(st = store_stmt(s, ST_STATUS_READ_BEGIN,
                          DIALECT(s, SQL_READ_BEGIN, SQL_READ_BEGIN_PG), err)))
        return store_stmt_fail(err);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

void
store_status_read_end(store *s)
{
    db_stmt *st;

    if (db_get_autocommit(s->db))
        return;
    if ((st = store_stmt(s, ST_STATUS_READ_END, SQL_READ_END, NULL)) != NULL) {
        if (db_step(st) != SQLITE_DONE) {
            store_stmt_done(st);
            store_rollback(s);  /* a read-only transaction: nothing to lose */
            return;
        }
        store_stmt_done(st);
    }
}

void
store_status_order_free(store_status_order *o)
{
    if (!o)
        return;
    free(o->external_id);
    free(o->cartridge);
    free(o->cartridge_version);
    free(o->order_type);
    free(o->state);
    free(o->state_reason);
    free(o->body);
    memset(o, 0, sizeof *o);
}

/* Read a row of ORDER_COLUMNS followed by the body into *o. */
static void
read_order(db_stmt *st, store_status_order *o)
{
    memset(o, 0, sizeof *o);
    o->id = db_column_int64(st, 0);
    o->external_id = store_col_strdup(st, 1);
    o->revision = db_column_int64(st, 2);
    o->plan_revision = db_column_int64(st, 3);
    o->cartridge = store_col_strdup(st, 4);
    o->cartridge_version = store_col_strdup(st, 5);
    o->order_type = store_col_strdup(st, 6);
    o->state = store_col_strdup(st, 7);
    o->state_reason = store_col_strdup(st, 8);
    o->priority = db_column_int(st, 9);
    o->requested_at = store_col_time(st, 10);
    o->start_at = store_col_time(st, 11);
    o->expected_at = store_col_time(st, 12);
    o->late_ms = db_column_int64(st, 13);
    o->jeopardy_at = store_col_time(st, 14);
    o->created_at = store_col_time(st, 15);
    o->updated_at = store_col_time(st, 16);
    o->started_at = store_col_time(st, 17);
    o->ended_at = store_col_time(st, 18);
    o->body = store_col_strdup(st, 19);
}

int
store_status_order_get(store *s, int64_t id, store_status_order *o, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_STATUS_ORDER_GET, SQL_ORDER_GET, err);
    int rc;

    memset(o, 0, sizeof *o);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        read_order(st, o);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)id);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

void
store_status_items_free(store_status_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(it[i].item_id);
        free(it[i].action);
        free(it[i].spec);
    }
    free(it);
}

int
store_status_items(store *s, int64_t id, store_status_item **out, size_t *n, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_STATUS_ITEMS, SQL_ITEMS, err);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        store_status_item *it = &(*out)[(*n)++];
        it->item_id = store_col_strdup(st, 0);
        it->action = store_col_strdup(st, 1);
        it->spec = store_col_strdup(st, 2);
    }
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        store_status_items_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    store_stmt_done(st);
    return 0;
}

void
store_status_tasks_free(store_status_task *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].function);
        free(t[i].kind);
        free(t[i].system);
        free(t[i].state);
        free(t[i].workgroup);
        free(t[i].assignee);
        free(t[i].error);
        free(t[i].external_status);
        jv_free(t[i].items);
    }
    free(t);
}

int
store_status_tasks(store *s, int64_t id, int64_t plan_revision, store_status_task **out,
                   size_t *n, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_STATUS_TASKS, SQL_TASKS, err);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, plan_revision);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        store_status_task *t = &(*out)[(*n)++];
        memset(t, 0, sizeof *t);
        t->id = db_column_int64(st, 0);
        t->function = store_col_strdup(st, 1);
        t->kind = store_col_strdup(st, 2);
        t->system = store_col_strdup(st, 3);
        t->state = store_col_strdup(st, 4);
        t->workgroup = store_col_strdup(st, 5);
        t->assignee = store_col_strdup(st, 6);
        t->error = store_col_strdup(st, 7);
        t->external_status = store_col_strdup(st, 8);
        const char *items = (const char *)db_column_text(st, 9);
        t->items = items ? jv_parse(items) : jv_array();
        if (jv_get_kind(t->items) != JV_KIND_ARRAY) {
            jv_free(t->items);
            t->items = jv_array();
        }
        t->attempts = db_column_int(st, 10);
        t->temp_failures = db_column_int(st, 11);
        t->expected_ms = store_col_time(st, 12);
        t->started_at = store_col_time(st, 13);
        t->ended_at = store_col_time(st, 14);
        t->jeopardy_at = store_col_time(st, 15);
        t->created_at = store_col_time(st, 16);
        t->fallout_of = store_col_time(st, 17);
    }
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        store_status_tasks_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    store_stmt_done(st);
    return 0;
}

int
store_status_manifest(store *s, const char *name, const char *version, char **json,
                      osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_STATUS_MANIFEST,
                             DIALECT(s, SQL_MANIFEST, SQL_MANIFEST_PG), err);
    int rc;

    *json = NULL;
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, version);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *json = store_col_strdup(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "no such cartridge: %s@%s", name, version);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_status_list(store *s, const store_status_filter *f, store_status_order_fn fn, void *ctx,
                  osm_err *err)
{
    enum store_stmt_id id;
    const char *sql;
    db_stmt *st;
    jv states = jv_invalid();
    int rc;

    if (f->external_id) {
        id = ST_STATUS_LIST_EXTERNAL;
        sql = DIALECT(s, SQL_LIST_EXTERNAL, SQL_LIST_EXTERNAL_PG);
    } else if (jv_get_kind(f->states) == JV_KIND_ARRAY) {
        id = ST_STATUS_LIST_STATE;
        sql = DIALECT(s, SQL_LIST_STATE, SQL_LIST_STATE_PG);
    } else if (f->cartridge) {
        id = ST_STATUS_LIST_CARTRIDGE;
        sql = DIALECT(s, SQL_LIST_CARTRIDGE, SQL_LIST_CARTRIDGE_PG);
    } else if (f->since >= 0 || f->until >= 0) {
        id = ST_STATUS_LIST_CREATED;
        sql = DIALECT(s, SQL_LIST_CREATED, SQL_LIST_CREATED_PG);
    } else {
        id = ST_STATUS_LIST_ALL;
        sql = DIALECT(s, SQL_LIST_ALL, SQL_LIST_ALL_PG);
    }
    if (!(st = store_stmt(s, id, sql, err)))
        return store_stmt_fail(err);
    if (jv_get_kind(f->states) == JV_KIND_ARRAY) {
        states = jv_dump_string(jv_copy(f->states), 0);
        db_bind_text(st, 1, jv_string_value(states), -1, SQLITE_STATIC);
    }
    store_bind_text(st, 2, f->cartridge);
    store_bind_text(st, 3, f->cartridge_version);
    store_bind_text(st, 4, f->order_type);
    store_bind_text(st, 5, f->external_id);
    store_bind_time(st, 6, f->since);
    store_bind_time(st, 7, f->until);
    db_bind_int64(st, 8, f->limit >= 0 ? f->limit : -1);
    db_bind_int64(st, 9, f->offset > 0 ? f->offset : 0);
    db_bind_int(st, 10, f->with_body ? 1 : 0);
    if (id == ST_STATUS_LIST_CREATED) {
        db_bind_int64(st, 11, f->since >= 0 ? f->since : INT64_MIN);
        db_bind_int64(st, 12, f->until >= 0 ? f->until : INT64_MAX);
    }
    rc = 0;
    for (;;) {
        int step = db_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = store_sqlfail(s, step, err);
            break;
        }
        store_status_order o;
        read_order(st, &o);
        rc = fn(&o, ctx);
        store_status_order_free(&o);
        if (rc != 0)
            break;
    }
    store_stmt_done(st);
    jv_free(states);
    return rc;
}

/* Step a statement that returns one row of integers into v[0..n-1]. */
static int
query_ints(store *s, db_stmt *st, int64_t *v, int n, osm_err *err)
{
    int rc = db_step(st);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < n; i++)
            v[i] = db_column_int64(st, i);
        rc = 0;
    } else {
        rc = store_sqlfail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_status_summary(store *s, int64_t now, jv *out, osm_err *err)
{
    db_stmt *st;
    int64_t late[2] = { 0, 0 }, fallout = 0;
    jv rows = jv_array();
    int rc;

    *out = jv_invalid();
    if ((rc = store_status_read_begin(s, err)) != 0) {
        jv_free(rows);
        return rc;
    }
    if (!(st = store_stmt(s, ST_STATUS_COUNTS, SQL_COUNTS, err))) {
        rc = store_stmt_fail(err);
        goto out;
    }
    while ((rc = db_step(st)) == SQLITE_ROW)
        rows = jv_array_append(
            rows, JV_ARRAY(jv_string((const char *)db_column_text(st, 0)),
                           jv_string((const char *)db_column_text(st, 1)),
                           jv_string((const char *)db_column_text(st, 2)),
                           jv_number((double)db_column_int64(st, 3))));
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    if (rc != 0)
        goto out;
    if (!(st = store_stmt(s, ST_STATUS_LATE, SQL_LATE, err))) {
        rc = store_stmt_fail(err);
        goto out;
    }
    db_bind_int64(st, 1, now);
    if ((rc = query_ints(s, st, late, 2, err)) != 0)
        goto out;
    if (!(st = store_stmt(s, ST_STATUS_FALLOUT_OPEN, SQL_FALLOUT_OPEN, err))) {
        rc = store_stmt_fail(err);
        goto out;
    }
    if ((rc = query_ints(s, st, &fallout, 1, err)) != 0)
        goto out;
    *out = JV_OBJECT(jv_string("byCartridge"), rows, jv_string("openFallout"),
                     jv_number((double)fallout), jv_string("late"), jv_number((double)late[0]),
                     jv_string("jeopardy"), jv_number((double)late[1]));
    rows = jv_invalid();
out:
    jv_free(rows);
    store_status_read_end(s);
    return rc;
}

int
store_status_events(store *s, jv orders, const char *cartridge_name, int64_t after, int limit,
                    store_status_event_fn fn, void *ctx, int64_t *last, osm_err *err)
{
    db_stmt *st;
    jv text = jv_invalid();
    int one = jv_get_kind(orders) == JV_KIND_ARRAY && jv_array_length(jv_copy(orders)) == 1 &&
              !cartridge_name;
    int rc = 0;

    *last = after;
    if (one) {
        if (!(st = store_stmt(s, ST_STATUS_EVENTS_ORDER, SQL_EVENTS_ORDER, err)))
            return store_stmt_fail(err);
        jv idv = jv_array_get(jv_copy(orders), 0);
        db_bind_int64(st, 1, (int64_t)jv_number_value(idv));
        jv_free(idv);
        db_bind_int64(st, 2, after);
        db_bind_int(st, 3, limit);
    } else {
        if (!(st = store_stmt(s, ST_STATUS_EVENTS_ALL,
                                  DIALECT(s, SQL_EVENTS_ALL, SQL_EVENTS_ALL_PG), err)))
            return store_stmt_fail(err);
        db_bind_int64(st, 1, after);
        if (jv_get_kind(orders) == JV_KIND_ARRAY) {
            text = jv_dump_string(jv_copy(orders), 0);
            db_bind_text(st, 2, jv_string_value(text), -1, SQLITE_STATIC);
        }
        store_bind_text(st, 3, cartridge_name);
        db_bind_int(st, 4, limit);
    }
    for (;;) {
        int step = db_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = store_sqlfail(s, step, err);
            break;
        }
        store_status_event e;
        e.id = db_column_int64(st, 0);
        e.order_id = db_column_type(st, 1) == SQLITE_NULL ? 0 : db_column_int64(st, 1);
        e.task_id = db_column_type(st, 2) == SQLITE_NULL ? 0 : db_column_int64(st, 2);
        e.at = db_column_int64(st, 3);
        e.type = (const char *)db_column_text(st, 4);
        e.actor = (const char *)db_column_text(st, 5);
        e.data = (const char *)db_column_text(st, 6);
        *last = e.id;
        if ((rc = fn(&e, ctx)) != 0)
            break;
    }
    store_stmt_done(st);
    jv_free(text);
    return rc;
}

int
store_status_last_event(store *s, int64_t *id, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_STATUS_LAST_EVENT, SQL_LAST_EVENT, err);
    *id = 0;
    if (!st)
        return store_stmt_fail(err);
    return query_ints(s, st, id, 1, err);
}

int
store_status_purge(store *s, int64_t before, int limit, int64_t *deleted, osm_err *err)
{
    db_stmt *st;
    int rc;

    *deleted = 0;
    if ((rc = store_in_tx(s, "store_status_purge", err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_STATUS_PURGE, SQL_PURGE, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, before);
    db_bind_int(st, 2, limit);
    rc = db_step(st);
    if (rc == SQLITE_DONE) {
        *deleted = db_changes(s->db);
        rc = 0;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}
