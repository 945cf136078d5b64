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

#include <sqlite3.h>

#include "store-int.h"
#include "store.h"
#include "xalloc.h"

#define DONE_STATES "('completed', 'skipped')"

static const char SQL_TASK_CANDIDATES[] =
    "SELECT t.id, t.order_id, t.function, t.kind, t.system, t.state, t.workgroup,"
    " t.group_key, t.items, t.attempts, t.temp_failures, t.fencing, t.not_before,"
    " t.expected_ms, t.started_at, o.cartridge, o.cartridge_version, o.state, t.plan_revision"
    " FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE t.plan_revision = o.plan_revision AND t.kind <> 'fallout'"
    " AND o.state IN ('not_started', 'in_progress')"
    " AND (?1 IS NULL OR t.order_id IN (SELECT value FROM json_each(?1)))"
    " AND (?2 IS NULL OR t.system = ?2) AND (?3 IS NULL OR o.cartridge = ?3)"
    " AND (?4 IS NULL OR t.function = ?4)"
    " AND ((t.state = 'pending' AND coalesce(t.not_before, 0) <= ?5"
    "       AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks p ON p.id = d.depends_on"
    "                       WHERE d.task_id = t.id AND p.state NOT IN " DONE_STATES "))"
    "   OR (t.state = 'running' AND t.lease_expires < ?5)"
    "   OR (t.state = 'waiting' AND t.kind = 'timer' AND coalesce(t.not_before, 0) <= ?5))"
    " ORDER BY o.priority DESC, coalesce(t.not_before, 0), t.id LIMIT ?6";
static const char SQL_TASK_WAITS[] =
    "SELECT p.ended_at, d.delay_ms, d.until_jq, d.condition_jq"
    " FROM task_deps d JOIN tasks p ON p.id = d.depends_on WHERE d.task_id = ?1";
static const char SQL_TASK_CLAIM[] =
    "UPDATE tasks SET state = 'running', lease_owner = ?2, lease_expires = ?3,"
    " fencing = fencing + 1, attempts = attempts + ?5, started_at = coalesce(started_at, ?4),"
    " updated_at = ?4"
    " WHERE id = ?1 AND (state IN ('pending', 'waiting')"
    "                    OR (state = 'running' AND lease_expires < ?4))"
    " RETURNING fencing, attempts";
static const char SQL_TASK_DEFER[] =
    "UPDATE tasks SET not_before = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'pending'";
static const char SQL_TASK_FINISH[] =
    "UPDATE tasks SET state = ?3, not_before = ?4, request = coalesce(?5, request),"
    " response = coalesce(?6, response), external_status = coalesce(?7, external_status),"
    " error = ?8, correlation_id = coalesce(?9, correlation_id),"
    " attempts = max(attempts + ?10, 0), temp_failures = temp_failures + ?11,"
    " deadline_at = ?12, lease_owner = NULL, lease_expires = NULL, updated_at = ?13,"
    " ended_at = CASE WHEN ?3 IN ('completed', 'failed', 'skipped', 'cancelled') THEN ?13 END"
    " WHERE id = ?1 AND fencing = ?2 AND state = 'running'"
    " RETURNING order_id, function, attempts";
static const char SQL_ORDER_STATE_GET[] = "SELECT state FROM orders WHERE id = ?1";
static const char SQL_ORDER_STATE_SET[] =
    "UPDATE orders SET state = ?2, state_reason = ?3, updated_at = ?4,"
    " started_at = CASE WHEN ?2 = 'in_progress' THEN coalesce(started_at, ?4) ELSE started_at END,"
    " ended_at = CASE WHEN ?2 IN ('completed', 'cancelled', 'aborted') THEN ?4 ELSE ended_at END"
    " WHERE id = ?1 AND state = ?5";
static const char SQL_ORDER_BODY_SET[] =
    "UPDATE orders SET body = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_FALLOUT_ADD[] =
    "INSERT INTO tasks (order_id, plan_revision, function, group_key, kind, state, workgroup,"
    " error, fallout_of, created_at, updated_at)"
    " SELECT ?1, plan_revision, ?2, 'order', 'fallout', 'waiting', ?3, ?4, ?5, ?6, ?6"
    " FROM orders WHERE id = ?1";
static const char SQL_ORDER_ROLLUP[] =
    "SELECT count(*), coalesce(sum(t.state IN " DONE_STATES "), 0),"
    " coalesce(sum(t.state = 'failed'), 0),"
    " coalesce(sum(t.state IN ('running', 'waiting', 'claimed', 'ready', 'undoing')), 0),"
    " coalesce(sum(t.state = 'pending' AND NOT EXISTS (SELECT 1 FROM task_deps d"
    "   JOIN tasks p ON p.id = d.depends_on WHERE d.task_id = t.id"
    "   AND p.state NOT IN " DONE_STATES ")), 0)"
    " FROM tasks t JOIN orders o ON o.id = t.order_id"
    " WHERE t.order_id = ?1 AND t.kind <> 'fallout' AND t.plan_revision = o.plan_revision";
static const char SQL_ORDER_STATES[] =
    "SELECT id, state FROM orders WHERE id IN (SELECT value FROM json_each(?1))";

static int
stmt_fail(osm_err *err)
{
    return err && err->code ? err->code : OSM_ESOFTWARE;
}

static int64_t
col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

static void
bind_time(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms >= 0)
        sqlite3_bind_int64(st, i, ms);
    else
        sqlite3_bind_null(st, i);
}

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
        jv_free(t[i].items);
    }
    free(t);
}

int
store_task_candidates(store *s, const store_task_filter *f, int64_t now, int limit,
                      store_task **out, size_t *n, osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_TASK_CANDIDATES, SQL_TASK_CANDIDATES, err);
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return stmt_fail(err);
    if (jv_get_kind(f->orders) == JV_KIND_ARRAY) {
        jv text = jv_dump_string(jv_copy(f->orders), 0);
        sqlite3_bind_text(st, 1, jv_string_value(text), -1, SQLITE_TRANSIENT);
        jv_free(text);
    }
    store_bind_text(st, 2, f->system);
    store_bind_text(st, 3, f->cartridge);
    store_bind_text(st, 4, f->function);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int(st, 6, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        store_task *t = &(*out)[(*n)++];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        t->order_id = sqlite3_column_int64(st, 1);
        t->function = store_col_strdup(st, 2);
        t->kind = store_col_strdup(st, 3);
        t->system = store_col_strdup(st, 4);
        t->state = store_col_strdup(st, 5);
        t->workgroup = store_col_strdup(st, 6);
        t->group = store_col_strdup(st, 7);
        const char *items = (const char *)sqlite3_column_text(st, 8);
        t->items = items ? jv_parse(items) : jv_array();
        if (jv_get_kind(t->items) != JV_KIND_ARRAY) {
            jv_free(t->items);
            t->items = jv_array();
        }
        t->attempts = sqlite3_column_int(st, 9);
        t->temp_failures = sqlite3_column_int(st, 10);
        t->fencing = sqlite3_column_int64(st, 11);
        t->not_before = col_time(st, 12);
        t->expected_ms = col_time(st, 13);
        t->started_at = col_time(st, 14);
        t->cartridge = store_col_strdup(st, 15);
        t->cartridge_version = store_col_strdup(st, 16);
        t->order_state = store_col_strdup(st, 17);
        t->plan_revision = sqlite3_column_int(st, 18);
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

int
store_task_waits(store *s, int64_t id, int64_t *ready_at, jv *conds, osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_TASK_WAITS, SQL_TASK_WAITS, err);
    int rc;

    *ready_at = 0;
    *conds = jv_array();
    if (!st)
        return stmt_fail(err);
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t at = col_time(st, 0) + sqlite3_column_int64(st, 1);
        if (at > *ready_at)
            *ready_at = at;
        const char *until = (const char *)sqlite3_column_text(st, 2);
        const char *cond = (const char *)sqlite3_column_text(st, 3);
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
store_task_claim(store *s, int64_t id, const char *owner, int64_t lease_until, int64_t now,
                 int count_attempt, int64_t *fencing, int *attempts, osm_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if ((rc = store_in_tx(s, "store_task_claim", err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_TASK_CLAIM, SQL_TASK_CLAIM, err)))
        return stmt_fail(err);
    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, owner);
    sqlite3_bind_int64(st, 3, lease_until);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int(st, 5, count_attempt ? 1 : 0);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *fencing = sqlite3_column_int64(st, 0);
        *attempts = sqlite3_column_int(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = OSM_NEGATIVE;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_task_defer(store *s, int64_t id, int64_t not_before, int64_t now, osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_TASK_DEFER, SQL_TASK_DEFER, err);
    int rc;
    if (!st)
        return stmt_fail(err);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, not_before);
    sqlite3_bind_int64(st, 3, now);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_task_finish(store *s, int64_t id, int64_t fencing, const task_outcome *o,
                  const char *actor, int64_t now, osm_err *err)
{
    sqlite3_stmt *st;
    int64_t order_id;
    char *function;
    int rc, attempts;

    if ((rc = store_in_tx(s, "store_task_finish", err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_TASK_FINISH, SQL_TASK_FINISH, err)))
        return stmt_fail(err);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, fencing);
    store_bind_text(st, 3, o->state);
    bind_time(st, 4, o->not_before);
    store_bind_text(st, 5, o->request);
    store_bind_text(st, 6, o->response);
    store_bind_text(st, 7, o->external_status);
    store_bind_text(st, 8, o->error);
    store_bind_text(st, 9, o->correlation_id);
    sqlite3_bind_int(st, 10, o->attempts_delta);
    sqlite3_bind_int(st, 11, o->temp_failures_delta);
    bind_time(st, 12, o->deadline_at);
    sqlite3_bind_int64(st, 13, now);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? OSM_NEGATIVE : store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    order_id = sqlite3_column_int64(st, 0);
    function = store_col_strdup(st, 1);
    attempts = sqlite3_column_int(st, 2);
    store_stmt_done(st);
    jv data = JV_OBJECT(jv_string("function"), jv_string(function), jv_string("from"),
                        jv_string("running"), jv_string("to"), jv_string(o->state),
                        jv_string("attempts"), jv_number(attempts));
    if (o->error)
        data = jv_object_set(data, jv_string("error"), jv_string(o->error));
    free(function);
    return store_event_add(s, order_id, id, "task.state", actor, data, now, NULL, err);
}

int
store_order_state(store *s, int64_t id, char **state, osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_ORDER_STATE_GET, SQL_ORDER_STATE_GET, err);
    int rc;
    *state = NULL;
    if (!st)
        return stmt_fail(err);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
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
    sqlite3_stmt *st;
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
        return stmt_fail(err);
    }
    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, to);
    store_bind_text(st, 3, reason);
    sqlite3_bind_int64(st, 4, now);
    store_bind_text(st, 5, cur);
    rc = sqlite3_step(st);
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
    sqlite3_stmt *st = store_stmt(s, ST_ORDER_BODY_SET, SQL_ORDER_BODY_SET, err);
    int rc;
    if (!st) {
        jv_free(body);
        return stmt_fail(err);
    }
    jv text = jv_dump_string(body, 0);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, jv_string_value(text), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_free(text);
    return rc;
}

int
store_fallout_add(store *s, int64_t order_id, int64_t task_id, const char *function,
                  const char *workgroup, jv error, const char *actor, int64_t now, osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_FALLOUT_ADD, SQL_FALLOUT_ADD, err);
    int64_t fallout;
    int rc;

    if (!st) {
        jv_free(error);
        return stmt_fail(err);
    }
    jv text = jv_dump_string(jv_copy(error), 0);
    sqlite3_bind_int64(st, 1, order_id);
    store_bind_text(st, 2, function);
    store_bind_text(st, 3, workgroup);
    sqlite3_bind_text(st, 4, jv_string_value(text), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, task_id);
    sqlite3_bind_int64(st, 6, now);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_free(text);
    if (rc != 0) {
        jv_free(error);
        return rc;
    }
    fallout = sqlite3_last_insert_rowid(s->db);
    jv data = JV_OBJECT(jv_string("function"), jv_string(function), jv_string("workgroup"),
                        workgroup ? jv_string(workgroup) : jv_null(), jv_string("falloutTask"),
                        jv_number((double)fallout), jv_string("error"), error);
    return store_event_add(s, order_id, task_id, "fallout", actor, data, now, NULL, err);
}

int
store_order_rollup(store *s, int64_t id, const char *actor, int64_t now, const char **to,
                   osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_ORDER_ROLLUP, SQL_ORDER_ROLLUP, err);
    int64_t total, done, failed, active, runnable;
    int rc;

    if (to)
        *to = NULL;
    if (!st)
        return stmt_fail(err);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    total = sqlite3_column_int64(st, 0);
    done = sqlite3_column_int64(st, 1);
    failed = sqlite3_column_int64(st, 2);
    active = sqlite3_column_int64(st, 3);
    runnable = sqlite3_column_int64(st, 4);
    store_stmt_done(st);
    rc = 0;
    if (total > 0 && done == total) {
        rc = store_order_transition(s, id, "not_started,in_progress", "completed", NULL, actor,
                                    now, err);
        if (rc == 0 && to)
            *to = "completed";
    } else if (failed > 0 && active == 0 && runnable == 0) {
        rc = store_order_transition(s, id, "in_progress", "failed", "fallout", actor, now, err);
        if (rc == 0 && to)
            *to = "failed";
    }
    return rc == OSM_NEGATIVE ? 0 : rc;
}

int
store_order_states(store *s, jv ids, jv *out, osm_err *err)
{
    sqlite3_stmt *st = store_stmt(s, ST_ORDER_STATES, SQL_ORDER_STATES, err);
    int rc;
    *out = jv_object();
    if (!st)
        return stmt_fail(err);
    jv text = jv_dump_string(jv_copy(ids), 0);
    sqlite3_bind_text(st, 1, jv_string_value(text), -1, SQLITE_TRANSIENT);
    jv_free(text);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
        *out = jv_object_set(*out, jv_string(key),
                             jv_string((const char *)sqlite3_column_text(st, 1)));
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}
