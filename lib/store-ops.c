/*
 * Operator storage: workgroups, members, task and order operations (see
 * store-ops.h).  Functions that write run inside the caller's
 * transaction.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "store-int.h"
#include "store-ops.h"
#include "xalloc.h"

static const char SQL_WG_ENSURE[] =
    "INSERT INTO workgroups (name, cartridge, fallout, created_at) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (name) DO UPDATE SET fallout = CASE"
    " WHEN excluded.fallout > workgroups.fallout THEN excluded.fallout"
    " ELSE workgroups.fallout END";
static const char SQL_WG_EXISTS[] = "SELECT 1 FROM workgroups WHERE name = ?1";
static const char SQL_MEMBER_ADD[] =
    "INSERT INTO workgroup_members (workgroup, \"user\", added_at, added_by)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
static const char SQL_MEMBER_REMOVE[] =
    "DELETE FROM workgroup_members WHERE workgroup = ?1 AND \"user\" = ?2";
static const char SQL_MEMBERS[] =
    "SELECT w.name, m.\"user\", m.added_at, m.added_by FROM workgroups w"
    " LEFT JOIN workgroup_members m ON m.workgroup = w.name"
    " WHERE CAST(?1 AS TEXT) IS NULL OR w.name = ?1 ORDER BY w.name, m.\"user\"";
static const char SQL_IS_MEMBER[] =
    "SELECT 1 FROM workgroup_members WHERE workgroup = ?1 AND \"user\" = ?2";
#define TASK_COLUMNS                                                                      \
    "t.id, t.order_id, o.state, t.function, t.kind, t.system, t.state, t.workgroup,"      \
    " t.assignee, t.error, t.fallout_of, t.attempts, t.external_status, t.items,"          \
    " t.request, t.response, t.created_at, t.updated_at, t.started_at, t.ended_at"
static const char SQL_OPS_TASK_GET[] =
    "SELECT " TASK_COLUMNS " FROM tasks t JOIN orders o ON o.id = t.order_id WHERE t.id = ?1";
static const char SQL_OPS_TASK_LIST[] =
    "SELECT " TASK_COLUMNS " FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE (CAST(?1 AS TEXT) IS NULL OR t.workgroup = ?1)"
    " AND (CAST(?2 AS TEXT) IS NULL OR t.state = ?2)"
    " AND (CAST(?3 AS TEXT) IS NULL OR t.assignee = ?3)"
    " AND (CAST(?4 AS BIGINT) = 0 OR t.order_id = ?4)"
    " AND (?5 = 0 OR t.kind IN ('manual', 'fallout'))"
    " AND (?2 IS NOT NULL OR t.state NOT IN ('completed', 'skipped', 'cancelled', 'undone')"
    "      OR ?4 <> 0)"
    " ORDER BY t.id";
static const char SQL_OPS_TASK_SET[] =
    "UPDATE tasks SET state = ?3,"
    " assignee = CASE WHEN CAST(?4 AS TEXT) IS NULL THEN assignee"
    "                 WHEN ?4 = '' THEN NULL ELSE ?4 END,"
    " attempts = CASE WHEN ?5 <> 0 THEN 0 ELSE attempts END,"
    " temp_failures = CASE WHEN ?5 <> 0 THEN 0 ELSE temp_failures END,"
    " not_before = CASE WHEN ?5 <> 0 THEN NULL ELSE not_before END,"
    " error = CASE WHEN ?5 <> 0 THEN NULL WHEN CAST(?6 AS TEXT) IS NOT NULL THEN ?6"
    "              ELSE error END,"
    " idem_key = CASE WHEN ?5 <> 0 THEN NULL ELSE idem_key END,"
    " lease_owner = NULL, lease_expires = NULL, updated_at = ?7,"
    " ended_at = CASE WHEN ?3 IN ('completed', 'failed', 'skipped', 'cancelled')"
    "            THEN CAST(?7 AS BIGINT) END"
    " WHERE id = ?1 AND state = ?2"
    " RETURNING order_id, function";
static const char SQL_OPS_FALLOUT_CLOSE[] =
    "UPDATE tasks SET state = 'completed', updated_at = ?2, ended_at = ?2"
    " WHERE fallout_of = ?1 AND kind = 'fallout' AND state IN ('waiting', 'claimed')"
    " RETURNING id, order_id";
static const char SQL_OPS_FALLOUT_OPEN[] =
    "SELECT count(*) FROM tasks WHERE order_id = ?1 AND kind = 'fallout'"
    " AND state IN ('waiting', 'claimed')";
static const char SQL_OPS_ORDER_SUSPEND[] =
    "UPDATE orders SET resume_state = state WHERE id = ?1";
static const char SQL_OPS_ORDER_RESUME_STATE[] =
    "SELECT coalesce(resume_state, 'in_progress') FROM orders WHERE id = ?1";
static const char SQL_OPS_TASKS_CANCEL[] =
    "UPDATE tasks SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL,"
    " deadline_at = NULL, updated_at = ?2, ended_at = ?2"
    " WHERE order_id = ?1 AND state IN ('pending', 'ready', 'running', 'waiting', 'claimed')";

static const char SQL_OPS_TASK_EVENTS[] =
    "SELECT id, at, type, actor, data FROM events WHERE task_id = ?1 ORDER BY id";

int
store_workgroup_ensure(store *s, const char *name, const char *cartridge_name, int fallout,
                       int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_WG_ENSURE, SQL_WG_ENSURE, err);
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, cartridge_name);
    db_bind_int(st, 3, fallout ? 1 : 0);
    db_bind_int64(st, 4, now);
    return store_step_done(s, st, err);
}

static int
exists_query(store *s, enum store_stmt_id id, const char *sql, const char *a, const char *b,
             int *yes, osm_err *err)
{
    db_stmt *st = store_stmt(s, id, sql, err);
    int rc;
    *yes = 0;
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, a);
    if (b)
        store_bind_text(st, 2, b);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *yes = 1;
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_workgroup_exists(store *s, const char *name, int *exists, osm_err *err)
{
    return exists_query(s, ST_WG_EXISTS, SQL_WG_EXISTS, name, NULL, exists, err);
}

int
store_is_member(store *s, const char *workgroup, const char *user, int *yes, osm_err *err)
{
    return exists_query(s, ST_IS_MEMBER, SQL_IS_MEMBER, workgroup, user, yes, err);
}

int
store_member_add(store *s, const char *workgroup, const char *user, const char *by,
                 int64_t now, int *changed, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_MEMBER_ADD, SQL_MEMBER_ADD, err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, workgroup);
    store_bind_text(st, 2, user);
    db_bind_int64(st, 3, now);
    store_bind_text(st, 4, by);
    rc = store_step_done(s, st, err);
    *changed = rc == 0 && db_changes(s->db) > 0;
    return rc;
}

int
store_member_remove(store *s, const char *workgroup, const char *user, int *changed,
                    osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_MEMBER_REMOVE, SQL_MEMBER_REMOVE, err);
    int rc;
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, workgroup);
    store_bind_text(st, 2, user);
    rc = store_step_done(s, st, err);
    *changed = rc == 0 && db_changes(s->db) > 0;
    return rc;
}

static jv
col_num_or_null(db_stmt *st, int i)
{
    return db_column_type(st, i) == SQLITE_NULL ? jv_null()
                                                     : jv_number((double)db_column_int64(st, i));
}

static jv
col_str_or_null(db_stmt *st, int i)
{
    const char *t = (const char *)db_column_text(st, i);
    return t ? jv_string(t) : jv_null();
}

static jv
col_json_or_text(db_stmt *st, int i)
{
    const char *t = (const char *)db_column_text(st, i);
    if (!t)
        return jv_null();
    jv v = jv_parse(t);
    if (!jv_is_valid(v)) {
        jv_free(v);
        return jv_string(t);
    }
    return v;
}

int
store_members(store *s, const char *workgroup, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_MEMBERS, SQL_MEMBERS, err);
    int rc;
    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, workgroup);
    while ((rc = db_step(st)) == SQLITE_ROW)
        *out = jv_array_append(*out, JV_OBJECT(jv_string("workgroup"), col_str_or_null(st, 0),
                                               jv_string("user"), col_str_or_null(st, 1),
                                               jv_string("addedAt"), col_num_or_null(st, 2),
                                               jv_string("addedBy"), col_str_or_null(st, 3)));
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

static jv
task_row(db_stmt *st)
{
    jv t = JV_OBJECT(jv_string("id"), col_num_or_null(st, 0), jv_string("order"),
                     col_num_or_null(st, 1), jv_string("orderState"), col_str_or_null(st, 2),
                     jv_string("function"), col_str_or_null(st, 3), jv_string("taskKind"),
                     col_str_or_null(st, 4), jv_string("system"), col_str_or_null(st, 5));
    t = jv_object_set(t, jv_string("state"), col_str_or_null(st, 6));
    t = jv_object_set(t, jv_string("workgroup"), col_str_or_null(st, 7));
    t = jv_object_set(t, jv_string("assignee"), col_str_or_null(st, 8));
    t = jv_object_set(t, jv_string("error"), col_json_or_text(st, 9));
    t = jv_object_set(t, jv_string("falloutOf"), col_num_or_null(st, 10));
    t = jv_object_set(t, jv_string("attempts"), col_num_or_null(st, 11));
    t = jv_object_set(t, jv_string("externalStatus"), col_str_or_null(st, 12));
    t = jv_object_set(t, jv_string("items"), col_json_or_text(st, 13));
    t = jv_object_set(t, jv_string("request"), col_json_or_text(st, 14));
    t = jv_object_set(t, jv_string("response"), col_json_or_text(st, 15));
    t = jv_object_set(t, jv_string("createdAt"), col_num_or_null(st, 16));
    t = jv_object_set(t, jv_string("updatedAt"), col_num_or_null(st, 17));
    t = jv_object_set(t, jv_string("startedAt"), col_num_or_null(st, 18));
    t = jv_object_set(t, jv_string("endedAt"), col_num_or_null(st, 19));
    return t;
}

int
store_task_get(store *s, int64_t id, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_TASK_GET, SQL_OPS_TASK_GET, err);
    int rc;
    *out = jv_null();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *out = task_row(st);
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
store_task_list(store *s, const store_task_query *q, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_TASK_LIST, SQL_OPS_TASK_LIST, err);
    int rc;
    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, q->workgroup);
    store_bind_text(st, 2, q->state);
    store_bind_text(st, 3, q->assignee);
    db_bind_int64(st, 4, q->order);
    db_bind_int(st, 5, q->operator_only);
    while ((rc = db_step(st)) == SQLITE_ROW)
        *out = jv_array_append(*out, task_row(st));
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_task_set(store *s, int64_t id, const char *from, const char *to, const char *assignee,
               int reset, const char *error, const char *reason, const char *actor,
               int64_t now, osm_err *err)
{
    jv task;
    int rc;

    if ((rc = store_in_tx(s, "store_task_set", err)) != 0)
        return rc;
    if ((rc = store_task_get(s, id, &task, err)) != 0)
        return rc;
    jv state = jv_object_get(jv_copy(task), jv_string("state"));
    char *cur = xstrdup(jv_string_value(state));
    jv_free(state);
    jv_free(task);
    /* is cur one of from? */
    int allowed = 0;
    size_t n = strlen(cur);
    for (const char *p = from; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, cur, n) == 0)
            allowed = 1;
        p = comma ? comma + 1 : NULL;
    }
    if (!allowed) {
        free(cur);
        return OSM_NEGATIVE;
    }
    db_stmt *st = store_stmt(s, ST_OPS_TASK_SET, SQL_OPS_TASK_SET, err);
    if (!st) {
        free(cur);
        return store_stmt_fail(err);
    }
    db_bind_int64(st, 1, id);
    store_bind_text(st, 2, cur);
    store_bind_text(st, 3, to);
    store_bind_text(st, 4, assignee);
    db_bind_int(st, 5, reset ? 1 : 0);
    store_bind_text(st, 6, error);
    db_bind_int64(st, 7, now);
    rc = db_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? OSM_NEGATIVE : store_sqlfail(s, rc, err);
        store_stmt_done(st);
        free(cur);
        return rc;
    }
    int64_t order_id = db_column_int64(st, 0);
    jv data = JV_OBJECT(jv_string("function"), col_str_or_null(st, 1), jv_string("from"),
                        jv_string(cur), jv_string("to"), jv_string(to));
    store_stmt_done(st);
    free(cur);
    if (assignee)
        data = jv_object_set(data, jv_string("assignee"),
                             *assignee ? jv_string(assignee) : jv_null());
    if (reason)
        data = jv_object_set(data, jv_string("reason"), jv_string(reason));
    return store_event_add(s, order_id, id, "task.state", actor, data, now, NULL, err);
}

int
store_fallout_close(store *s, int64_t failed_task, const char *actor, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_FALLOUT_CLOSE, SQL_OPS_FALLOUT_CLOSE, err);
    int64_t ids[64], orders[64];
    int n = 0, rc;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, failed_task);
    db_bind_int64(st, 2, now);
    while ((rc = db_step(st)) == SQLITE_ROW)
        if (n < 64) {
            ids[n] = db_column_int64(st, 0);
            orders[n++] = db_column_int64(st, 1);
        }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    for (int i = 0; i < n && rc == 0; i++)
        rc = store_event_add(s, orders[i], ids[i], "task.state", actor,
                             JV_OBJECT(jv_string("function"), jv_string("fallout"),
                                       jv_string("from"), jv_string("waiting"), jv_string("to"),
                                       jv_string("completed")),
                             now, NULL, err);
    return rc;
}

int
store_fallout_open(store *s, int64_t order_id, int64_t *n, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_FALLOUT_OPEN, SQL_OPS_FALLOUT_OPEN, err);
    int rc;
    *n = 0;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, order_id);
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

int
store_order_suspend(store *s, int64_t id, const char *from, const char *actor, int64_t now,
                    osm_err *err)
{
    db_stmt *st;
    char *cur;
    int rc;

    if ((rc = store_order_state(s, id, &cur, err)) != 0)
        return rc;
    free(cur);
    if (!(st = store_stmt(s, ST_OPS_ORDER_SUSPEND, SQL_OPS_ORDER_SUSPEND, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    return store_order_transition(s, id, from, "suspended", NULL, actor, now, err);
}

int
store_order_resume(store *s, int64_t id, const char *actor, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_ORDER_RESUME_STATE, SQL_OPS_ORDER_RESUME_STATE, err);
    char *to = NULL;
    int rc;
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        to = store_col_strdup(st, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)id)
                               : store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    if (rc == 0)
        rc = store_order_transition(s, id, "suspended", to, NULL, actor, now, err);
    free(to);
    return rc;
}

int
store_order_cancel_tasks(store *s, int64_t id, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_TASKS_CANCEL, SQL_OPS_TASKS_CANCEL, err);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, now);
    return store_step_done(s, st, err);
}

int
store_task_events(store *s, int64_t id, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_OPS_TASK_EVENTS, SQL_OPS_TASK_EVENTS, err);
    int rc;
    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW)
        *out = jv_array_append(*out, JV_OBJECT(jv_string("id"), col_num_or_null(st, 0),
                                               jv_string("at"), col_num_or_null(st, 1),
                                               jv_string("type"), col_str_or_null(st, 2),
                                               jv_string("actor"), col_str_or_null(st, 3),
                                               jv_string("data"), col_json_or_text(st, 4)));
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}
