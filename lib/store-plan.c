/*
 * Plan storage: an order's tasks and their dependencies, saved once and
 * loaded back in the order they were planned (dependency order).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "clock.h"
#include "store-int.h"
#include "store.h"
#include "xalloc.h"

static const char SQL_PLAN_TASK_INSERT[] =
    "INSERT INTO tasks (order_id, plan_revision, function, system, group_key, items, kind,"
    " state, workgroup, not_before, expected_ms, earliest_start, latest_start, critical,"
    " created_at, updated_at, deps_open, priority, held)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15,"
    " o.priority, CASE WHEN o.state IN ('not_started', 'in_progress') THEN 0 ELSE 1 END"
    " FROM orders o WHERE o.id = ?1";
static const char SQL_PLAN_DEP_INSERT[] =
    "INSERT INTO task_deps (task_id, depends_on, delay_ms, until_jq, condition_jq, why)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_PLAN_ORDER_UPDATE[] =
    "UPDATE orders SET plan_revision = ?2, start_at = ?3, expected_at = ?4, late_ms = ?5,"
    " planned_at = ?6, updated_at = ?6,"
    " jeopardy_at = CASE WHEN CAST(?5 AS BIGINT) > 0 THEN coalesce(jeopardy_at, ?6)"
    "               ELSE jeopardy_at END"
    " WHERE id = ?1 AND plan_revision = CAST(?2 AS BIGINT) - 1";
static const char SQL_PLAN_TASKS_GET[] =
    "SELECT id, state, function, kind, system, group_key, workgroup, items, expected_ms,"
    " earliest_start, latest_start, not_before, critical"
    " FROM tasks WHERE order_id = ?1 AND plan_revision = ?2 AND kind <> 'fallout'"
    " ORDER BY id";
static const char SQL_PLAN_DEPS_GET[] =
    "SELECT d.task_id, d.depends_on, d.delay_ms, d.until_jq, d.condition_jq, d.why"
    " FROM task_deps d JOIN tasks t ON t.id = d.task_id"
    " WHERE t.order_id = ?1 AND t.plan_revision = ?2 ORDER BY d.task_id, d.depends_on";
static const char SQL_PLAN_REVISION[] =
    "SELECT plan_revision, planned_at FROM orders WHERE id = ?1";
static const char SQL_PLAN_UNPLANNED[] =
    "SELECT id FROM orders WHERE state = 'not_started' AND plan_revision = 0"
    " AND (CAST(?1 AS TEXT) IS NULL OR cartridge = ?1) ORDER BY id LIMIT ?2";

static int
get_revision(store *s, int64_t order_id, int64_t *rev, int64_t *planned_at, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_PLAN_REVISION, SQL_PLAN_REVISION, err);
    int rc;
    if (!st)
        return err ? err->code : OSM_ESOFTWARE;
    db_bind_int64(st, 1, order_id);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *rev = db_column_int64(st, 0);
        if (planned_at)
            *planned_at = db_column_type(st, 1) == SQLITE_NULL ? -1
                                                                     : db_column_int64(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)order_id);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_plan_revision(store *s, int64_t order_id, int64_t *rev, osm_err *err)
{
    return get_revision(s, order_id, rev, NULL, err);
}

int
store_plan_unplanned(store *s, const char *cart_name, int limit, jv *ids, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_PLAN_UNPLANNED, SQL_PLAN_UNPLANNED, err);
    int rc;
    *ids = jv_array();
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, cart_name);
    db_bind_int(st, 2, limit);
    while ((rc = db_step(st)) == SQLITE_ROW)
        *ids = jv_array_append(*ids, jv_number((double)db_column_int64(st, 0)));
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        jv_free(*ids);
        *ids = jv_array();
    } else {
        rc = 0;
    }
    store_stmt_done(st);
    return rc;
}

static int
save(store *s, int64_t order_id, plan *p, const char *actor, int64_t now, osm_err *err)
{
    const int64_t revision = 1;
    db_stmt *st;
    int rc;

    for (size_t k = 0; k < p->ntasks; k++) {
        plan_task *t = &p->tasks[k];
        if (!(st = store_stmt(s, ST_PLAN_TASK_INSERT, SQL_PLAN_TASK_INSERT, err)))
            return err ? err->code : OSM_ESOFTWARE;
        jv items = jv_dump_string(jv_copy(t->items), 0);
        db_bind_int64(st, 1, order_id);
        db_bind_int64(st, 2, revision);
        store_bind_text(st, 3, t->function);
        store_bind_text(st, 4, t->system);
        store_bind_text(st, 5, t->group);
        db_bind_text(st, 6, jv_string_value(items), -1, SQLITE_TRANSIENT);
        store_bind_text(st, 7, t->kind);
        store_bind_text(st, 8, t->workgroup);
        /* not before its latest start when a date pushes it later than
         * now, nor before its requested start; dependencies, not their
         * expected durations, decide the rest */
        int64_t nb = t->latest_start > now ? t->latest_start : -1;
        store_bind_time(st, 9, t->not_before > nb ? t->not_before : nb);
        db_bind_int64(st, 10, t->duration_ms);
        store_bind_time(st, 11, t->earliest_start);
        store_bind_time(st, 12, t->latest_start);
        db_bind_int(st, 13, t->critical);
        db_bind_int64(st, 14, now);
        db_bind_int64(st, 15, (int64_t)t->ndeps);   /* a new plan: none done yet */
        jv_free(items);
        if ((rc = store_step_done(s, st, err)) != 0)
            return rc;
        t->id = db_last_insert_rowid(s->db);
    }
    for (size_t k = 0; k < p->ntasks; k++) {
        plan_task *t = &p->tasks[k];
        for (size_t d = 0; d < t->ndeps; d++) {
            if (!(st = store_stmt(s, ST_PLAN_DEP_INSERT, SQL_PLAN_DEP_INSERT, err)))
                return err ? err->code : OSM_ESOFTWARE;
            db_bind_int64(st, 1, t->id);
            db_bind_int64(st, 2, p->tasks[t->deps[d].task].id);
            if (t->deps[d].delay_ms > 0)
                db_bind_int64(st, 3, t->deps[d].delay_ms);
            store_bind_text(st, 4, t->deps[d].until);
            store_bind_text(st, 5, t->deps[d].condition);
            char *why = plan_why_text(&t->deps[d].why);
            if (why)
                db_bind_text(st, 6, why, -1, free);
            else
                db_bind_null(st, 6);
            if ((rc = store_step_done(s, st, err)) != 0)
                return rc;
        }
    }
    if (!(st = store_stmt(s, ST_PLAN_ORDER_UPDATE, SQL_PLAN_ORDER_UPDATE, err)))
        return err ? err->code : OSM_ESOFTWARE;
    db_bind_int64(st, 1, order_id);
    db_bind_int64(st, 2, revision);
    store_bind_time(st, 3, p->start);
    store_bind_time(st, 4, p->end);
    db_bind_int64(st, 5, p->late_ms);
    db_bind_int64(st, 6, now);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    if (db_changes(s->db) != 1)
        return osm_fail(err, OSM_NEGATIVE, "order %lld was planned meanwhile",
                        (long long)order_id);

    char start[CLOCK_RFC3339_MAX], end[CLOCK_RFC3339_MAX], late[CLOCK_DURATION_MAX];
    rfc3339_format(p->start, start);
    rfc3339_format(p->end, end);
    duration_format(p->late_ms, late);
    jv data = JV_OBJECT(jv_string("planRevision"), jv_number((double)revision),
                        jv_string("tasks"), jv_number((double)p->ntasks),
                        jv_string("startDate"), jv_string(start),
                        jv_string("expectedCompletion"), jv_string(end),
                        jv_string("late"), jv_bool(p->late_ms > 0));
    if ((rc = store_event_add(s, order_id, 0, "order.planned", actor, data, now, NULL, err)) != 0)
        return rc;
    if (p->late_ms > 0) {
        data = JV_OBJECT(jv_string("reason"), jv_string("late"), jv_string("lateBy"),
                         jv_string(late), jv_string("expectedCompletion"), jv_string(end));
        rc = store_event_add(s, order_id, 0, "jeopardy", actor, data, now, NULL, err);
    }
    return rc;
}

int
store_plan_save(store *s, int64_t order_id, plan *p, const char *actor, int64_t now,
                osm_err *err)
{
    int rc;
    if ((rc = store_in_tx(s, "store_plan_save", err)) != 0)
        return rc;
    if ((rc = store_sp_begin(s, err)) != 0)
        return rc;
    rc = save(s, order_id, p, actor, now, err);
    if (rc != 0)
        for (size_t k = 0; k < p->ntasks; k++)
            p->tasks[k].id = 0;
    return store_sp_end(s, rc);
}

/* The index of task id in p (loaded in id order), or -1. */
static int
task_index(const plan *p, int64_t id)
{
    size_t lo = 0, hi = p->ntasks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->tasks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->ntasks && p->tasks[lo].id == id ? (int)lo : -1;
}

int
store_plan_load(store *s, const order_rec *o, plan *p, osm_err *err)
{
    db_stmt *st;
    int64_t rev, planned_at;
    int rc;

    plan_init(p);
    if ((rc = get_revision(s, o->id, &rev, &planned_at, err)) != 0)
        return rc;
    if (rev == 0)
        return OSM_ENOINPUT;
    if (!(st = store_stmt(s, ST_PLAN_TASKS_GET, SQL_PLAN_TASKS_GET, err)))
        return err ? err->code : OSM_ESOFTWARE;
    db_bind_int64(st, 1, o->id);
    db_bind_int64(st, 2, rev);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        p->tasks = xrealloc(p->tasks, (p->ntasks + 1) * sizeof *p->tasks);
        plan_task *t = &p->tasks[p->ntasks++];
        memset(t, 0, sizeof *t);
        t->id = db_column_int64(st, 0);
        t->state = store_col_strdup(st, 1);
        t->function = store_col_strdup(st, 2);
        t->kind = store_col_strdup(st, 3);
        t->system = store_col_strdup(st, 4);
        t->group = store_col_strdup(st, 5);
        t->workgroup = store_col_strdup(st, 6);
        const char *items = (const char *)db_column_text(st, 7);
        t->items = items ? jv_parse(items) : jv_array();
        if (jv_get_kind(t->items) != JV_KIND_ARRAY) {
            jv_free(t->items);
            t->items = jv_array();
        }
        t->duration_ms = db_column_int64(st, 8);
        t->earliest_start = store_col_time(st, 9);
        t->latest_start = store_col_time(st, 10);
        (void)store_col_time(st, 11);     /* not_before: execution's, not the plan's */
        t->critical = db_column_int(st, 12);
    }
    store_stmt_done(st);
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        plan_free(p);
        return rc;
    }
    if (!(st = store_stmt(s, ST_PLAN_DEPS_GET, SQL_PLAN_DEPS_GET, err))) {
        plan_free(p);
        return err ? err->code : OSM_ESOFTWARE;
    }
    db_bind_int64(st, 1, o->id);
    db_bind_int64(st, 2, rev);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        int64_t tid = db_column_int64(st, 0), on = db_column_int64(st, 1);
        int ti = task_index(p, tid), oi = task_index(p, on);
        if (ti < 0 || oi < 0)
            continue;
        plan_task *t = &p->tasks[ti];
        t->deps = xrealloc(t->deps, (t->ndeps + 1) * sizeof *t->deps);
        plan_dep *d = &t->deps[t->ndeps++];
        d->task = oi;
        d->delay_ms = db_column_int64(st, 2);
        d->until = store_col_strdup(st, 3);
        d->condition = store_col_strdup(st, 4);
        plan_why_parse(&d->why, (const char *)db_column_text(st, 5));
    }
    store_stmt_done(st);
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        plan_free(p);
        return rc;
    }
    p->planned_at = planned_at;
    p->revision = rev;
    plan_set_deadlines(p, o);
    /* the schedule as planned: recomputed from what was stored, as of
     * the planning time (the stored not-before is for execution) */
    plan_forward(p, planned_at >= 0 ? planned_at : 0);
    int64_t late = p->late_ms;
    plan_summarise(p);
    p->late_ms = late;
    return 0;
}
