/*
 * The notification outbox (see store-notify.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"

#include "store-int.h"
#include "store-notify.h"

static const char SQL_NOTIFY_MARK[] = "SELECT coalesce(max(id), 0) FROM events";
/* ?2 the subscribed types (JSON array), or NULL: the order's cartridge's */
static const char SQL_NOTIFY_ENQUEUE[] =
    "INSERT OR IGNORE INTO outbox (event_id, next_attempt_at)"
    " SELECT e.id, 0 FROM events e JOIN orders o ON o.id = e.order_id"
    " LEFT JOIN cartridges c ON ?2 IS NULL AND c.name = o.cartridge"
    "                        AND c.version = o.cartridge_version"
    " WHERE e.id > ?1 AND (?3 <= 0 OR e.order_id = ?3)"
    " AND EXISTS (SELECT 1 FROM json_each(coalesce(?2, json_extract(c.manifest, '$.notify.events'),"
    "                                              '[]')) j"
    "             WHERE j.value = e.type OR (j.value = 'task.completed' AND e.type = 'task.state'"
    "                   AND json_extract(e.data, '$.to') = 'completed'))";
static const char SQL_NOTIFY_ENQUEUE_PG[] =
    "INSERT INTO outbox (event_id, next_attempt_at)"
    " SELECT e.id, 0 FROM events e JOIN orders o ON o.id = e.order_id"
    " LEFT JOIN cartridges c ON CAST(?2 AS TEXT) IS NULL AND c.name = o.cartridge"
    "                        AND c.version = o.cartridge_version"
    " WHERE e.id > ?1 AND (CAST(?3 AS BIGINT) <= 0 OR e.order_id = ?3)"
    " AND EXISTS (SELECT 1 FROM json_array_elements_text(coalesce(CAST(?2 AS json),"
    "                 CAST(c.manifest AS json) #> '{notify,events}', '[]')) AS j(value)"
    "             WHERE j.value = e.type OR (j.value = 'task.completed' AND e.type = 'task.state'"
    "                   AND CAST(e.data AS json) ->> 'to' = 'completed'))"
    " ON CONFLICT DO NOTHING";
static const char SQL_NOTIFY_DUE[] =
    "SELECT x.event_id, e.order_id, e.task_id, e.at, e.type, e.actor, e.data, o.cartridge,"
    " o.cartridge_version, x.attempts"
    " FROM outbox x JOIN events e ON e.id = x.event_id JOIN orders o ON o.id = e.order_id"
    " WHERE x.delivered_at IS NULL AND x.next_attempt_at <= ?1"
    " AND (?3 IS NULL OR e.order_id IN (SELECT value FROM json_each(?3)))"
    " AND (?4 IS NULL OR o.cartridge = ?4)"
    " AND NOT EXISTS (SELECT 1 FROM outbox y JOIN events f ON f.id = y.event_id"
    "                 WHERE y.delivered_at IS NULL AND y.event_id < x.event_id"
    "                 AND f.order_id = e.order_id)"
    " ORDER BY x.event_id LIMIT ?2";
static const char SQL_NOTIFY_DUE_PG[] =
    "SELECT x.event_id, e.order_id, e.task_id, e.at, e.type, e.actor, e.data, o.cartridge,"
    " o.cartridge_version, x.attempts"
    " FROM outbox x JOIN events e ON e.id = x.event_id JOIN orders o ON o.id = e.order_id"
    " WHERE x.delivered_at IS NULL AND x.next_attempt_at <= ?1"
    " AND (CAST(?3 AS TEXT) IS NULL OR e.order_id IN (" PG_JSON_IDS("?3") "))"
    " AND (CAST(?4 AS TEXT) IS NULL OR o.cartridge = ?4)"
    " AND NOT EXISTS (SELECT 1 FROM outbox y JOIN events f ON f.id = y.event_id"
    "                 WHERE y.delivered_at IS NULL AND y.event_id < x.event_id"
    "                 AND f.order_id = e.order_id)"
    " ORDER BY x.event_id LIMIT ?2";
static const char SQL_NOTIFY_CLAIM[] =
    "UPDATE outbox SET next_attempt_at = ?3"
    " WHERE event_id = ?1 AND delivered_at IS NULL AND next_attempt_at <= ?2";
static const char SQL_NOTIFY_DONE[] =
    "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL"
    " WHERE event_id = ?1";
static const char SQL_NOTIFY_RETRY[] =
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3"
    " WHERE event_id = ?1";

int
store_notify_mark(store *s, int64_t *mark, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_NOTIFY_MARK, SQL_NOTIFY_MARK, err);
    int rc;
    *mark = 0;
    if (!st)
        return store_stmt_fail(err);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *mark = db_column_int64(st, 0);
        rc = 0;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_notify_enqueue(store *s, int64_t mark, int64_t order_id, const char *types, osm_err *err)
{
    db_stmt *st;
    int rc;
    if ((rc = store_in_tx(s, "store_notify_enqueue", err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_NOTIFY_ENQUEUE,
                          DIALECT(s, SQL_NOTIFY_ENQUEUE, SQL_NOTIFY_ENQUEUE_PG), err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, mark);
    store_bind_text(st, 2, types);
    db_bind_int64(st, 3, order_id);
    return store_step_done(s, st, err);
}

int
store_notify_due(store *s, const store_task_filter *f, int64_t now, int limit, jv *out,
                 osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_NOTIFY_DUE,
                             DIALECT(s, SQL_NOTIFY_DUE, SQL_NOTIFY_DUE_PG), err);
    int rc;

    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, now);
    db_bind_int(st, 2, limit);
    if (f && jv_get_kind(f->orders) == JV_KIND_ARRAY) {
        jv text = jv_dump_string(jv_copy(f->orders), 0);
        db_bind_text(st, 3, jv_string_value(text), -1, SQLITE_TRANSIENT);
        jv_free(text);
    }
    if (f)
        store_bind_text(st, 4, f->cartridge);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        const char *data = (const char *)db_column_text(st, 6);
        jv ev = JV_OBJECT(jv_string("id"), jv_number((double)db_column_int64(st, 0)),
                          jv_string("order"), jv_number((double)db_column_int64(st, 1)),
                          jv_string("task"),
                          db_column_type(st, 2) == SQLITE_NULL
                              ? jv_null()
                              : jv_number((double)db_column_int64(st, 2)),
                          jv_string("at"), jv_number((double)db_column_int64(st, 3)),
                          jv_string("type"), jv_string((const char *)db_column_text(st, 4)),
                          jv_string("actor"), jv_string((const char *)db_column_text(st, 5)),
                          jv_string("data"), jv_parse(data ? data : "{}"));
        *out = jv_array_append(
            *out, JV_OBJECT(jv_string("event"), ev, jv_string("cartridge"),
                            jv_string((const char *)db_column_text(st, 7)),
                            jv_string("version"),
                            jv_string((const char *)db_column_text(st, 8)),
                            jv_string("attempts"), jv_number(db_column_int(st, 9))));
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_notify_claim(store *s, int64_t event_id, int64_t now, int64_t until, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_NOTIFY_CLAIM, SQL_NOTIFY_CLAIM, err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, event_id);
    db_bind_int64(st, 2, now);
    db_bind_int64(st, 3, until);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    return db_changes(s->db) == 1 ? 0 : OSM_NEGATIVE;
}

int
store_notify_done(store *s, int64_t event_id, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_NOTIFY_DONE, SQL_NOTIFY_DONE, err);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, event_id);
    db_bind_int64(st, 2, now);
    return store_step_done(s, st, err);
}

int
store_notify_retry(store *s, int64_t event_id, int64_t next_at, const char *error, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_NOTIFY_RETRY, SQL_NOTIFY_RETRY, err);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, event_id);
    db_bind_int64(st, 2, next_at);
    store_bind_text(st, 3, error);
    return store_step_done(s, st, err);
}
