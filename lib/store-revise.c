/*
 * Revisions in the store (see store-revise.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "json.h"
#include "store-int.h"
#include "store-revise.h"
#include "xalloc.h"

static const char SQL_REV_TASKS[] =
    "SELECT id, function, kind, system, group_key, state, mode, items, request"
    " FROM tasks WHERE order_id = ?1 AND plan_revision = ?2 AND kind <> 'fallout' ORDER BY id";
static const char SQL_REV_DEPS[] =
    "SELECT d.task_id, d.depends_on FROM task_deps d JOIN tasks t ON t.id = d.task_id"
    " WHERE t.order_id = ?1 AND t.plan_revision = ?2 ORDER BY d.task_id, d.depends_on";
static const char SQL_REV_PLAN_REV[] =
    "SELECT plan_revision, state FROM orders WHERE id = ?1";
static const char SQL_REV_SUPERSEDE[] =
    "INSERT INTO order_versions (order_id, revision, plan_revision, status, original, body,"
    " plan, received_at, recorded_at)"
    " SELECT id, revision, plan_revision, 'superseded', original, body, ?2, updated_at, ?3"
    " FROM orders WHERE id = ?1";
static const char SQL_REV_REJECT[] =
    "INSERT INTO order_versions (order_id, revision, plan_revision, status, reason, original,"
    " body, received_at, recorded_at)"
    " SELECT id, ?2, plan_revision, 'rejected', ?3, ?4, ?5, ?6, ?6 FROM orders WHERE id = ?1";
static const char SQL_REV_ORDER[] =
    "UPDATE orders SET original = ?2, body = ?3, body_rev = body_rev + 1, revision = ?4,"
    " plan_revision = plan_revision + 1, priority = ?5, requested_at = ?6, start_at = ?7,"
    " expected_at = ?8, late_ms = ?9, planned_at = ?10, updated_at = ?10,"
    " start_requested_at = ?11 WHERE id = ?1";
static const char SQL_REV_ITEMS_DEL[] = "DELETE FROM order_items WHERE order_id = ?1";
static const char SQL_REV_ITEM_ADD[] =
    "INSERT INTO order_items (order_id, item_id, action, spec, requested_at, relies_on,"
    " data, updated_at, start_requested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_REV_MOVE[] =
    "UPDATE tasks SET plan_revision = (SELECT plan_revision FROM orders WHERE id = order_id),"
    " updated_at = ?2 WHERE id = ?1";
static const char SQL_REV_DEPS_DEL[] = "DELETE FROM task_deps WHERE task_id = ?1";
static const char SQL_REV_TASK_ADD[] =
    "INSERT INTO tasks (order_id, plan_revision, function, system, group_key, items, kind,"
    " mode, amend, compensates, request, previous_request, state, workgroup, not_before,"
    " expected_ms, earliest_start, latest_start, critical, created_at, updated_at, priority,"
    " held)"
    " SELECT ?1, o.plan_revision, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12,"
    " ?13, ?14, ?15, ?16, ?17, ?18, ?18, o.priority,"
    " CASE WHEN o.state IN ('not_started', 'in_progress', 'amending', 'cancelling')"
    " THEN 0 ELSE 1 END"
    " FROM orders o WHERE o.id = ?1";
static const char SQL_REV_DEP_ADD[] =
    "INSERT INTO task_deps (task_id, depends_on, delay_ms, until_jq, condition_jq)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
static const char SQL_REV_CANCEL[] =
    "UPDATE tasks SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL,"
    " ended_at = ?2, updated_at = ?2 WHERE id = ?1 AND state IN ('pending', 'ready')";
static const char SQL_REV_PLAN_VERSION[] =
    "SELECT plan FROM order_versions WHERE order_id = ?1 AND plan_revision = ?2"
    " AND status = 'superseded' AND plan IS NOT NULL ORDER BY id DESC LIMIT 1";
static const char SQL_REV_COUNT[] =
    "UPDATE tasks SET deps_open = (SELECT count(*) FROM task_deps d JOIN tasks p"
    " ON p.id = d.depends_on WHERE d.task_id = tasks.id AND p.state NOT IN ('completed', 'skipped'))"
    " WHERE order_id = ?1 AND plan_revision = (SELECT plan_revision FROM orders WHERE id = ?1)";

void
revise_old_free(revise_old *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].function);
        free(t[i].kind);
        free(t[i].system);
        free(t[i].group);
        free(t[i].state);
        free(t[i].mode);
        free(t[i].request);
        free(t[i].deps);
        jv_free(t[i].items);
    }
    free(t);
}

static int
find_old(const revise_old *t, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && t[lo].id == id ? (int)lo : -1;
}

int
store_revise_current(store *s, int64_t id, int64_t *plan_rev, revise_old **out, size_t *n,
                     osm_err *err)
{
    db_stmt *st;
    int rc;

    *out = NULL;
    *n = 0;
    if (!(st = store_stmt(s, ST_REV_PLAN_REV, SQL_REV_PLAN_REV, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)id)
                               : store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    *plan_rev = db_column_int64(st, 0);
    store_stmt_done(st);
    if (!(st = store_stmt(s, ST_REV_TASKS, SQL_REV_TASKS, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, *plan_rev);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        revise_old *t = &(*out)[(*n)++];
        memset(t, 0, sizeof *t);
        t->id = db_column_int64(st, 0);
        t->function = store_col_strdup(st, 1);
        t->kind = store_col_strdup(st, 2);
        t->system = store_col_strdup(st, 3);
        t->group = store_col_strdup(st, 4);
        t->state = store_col_strdup(st, 5);
        t->mode = store_col_strdup(st, 6);
        const char *items = (const char *)db_column_text(st, 7);
        t->items = items ? jv_parse(items) : jv_array();
        if (jv_get_kind(t->items) != JV_KIND_ARRAY) {
            jv_free(t->items);
            t->items = jv_array();
        }
        t->request = store_col_strdup(st, 8);
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    if (rc == 0 && (st = store_stmt(s, ST_REV_DEPS, SQL_REV_DEPS, err))) {
        db_bind_int64(st, 1, id);
        db_bind_int64(st, 2, *plan_rev);
        while ((rc = db_step(st)) == SQLITE_ROW) {
            int i = find_old(*out, *n, db_column_int64(st, 0));
            if (i < 0)
                continue;
            revise_old *t = &(*out)[i];
            t->deps = xrealloc(t->deps, (t->ndeps + 1) * sizeof *t->deps);
            t->deps[t->ndeps++] = db_column_int64(st, 1);
        }
        rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
        store_stmt_done(st);
    } else if (rc == 0) {
        rc = store_stmt_fail(err);
    }
    if (rc != 0) {
        revise_old_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int
bind_json(db_stmt *st, int i, jv v)
{
    char *text = json_dump(v, 0);
    jv_free(v);
    return db_bind_text(st, i, text, -1, free);
}

static int
insert_items(store *s, const order_rec *o, int64_t now, osm_err *err)
{
    db_stmt *st;
    int rc;

    if (!(st = store_stmt(s, ST_REV_ITEMS_DEL, SQL_REV_ITEMS_DEL, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, o->id);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    for (size_t i = 0; i < o->nitems; i++) {
        const order_item *it = &o->items[i];
        if (!(st = store_stmt(s, ST_REV_ITEM_ADD, SQL_REV_ITEM_ADD, err)))
            return store_stmt_fail(err);
        db_bind_int64(st, 1, o->id);
        store_bind_text(st, 2, it->item_id);
        store_bind_text(st, 3, it->action);
        store_bind_text(st, 4, it->spec);
        store_bind_time(st, 5, it->requested_at);
        bind_json(st, 6, jv_copy(it->relies_on));
        bind_json(st, 7, jv_copy(it->data));
        db_bind_int64(st, 8, now);
        store_bind_time(st, 9, it->start_requested_at);
        if ((rc = store_step_done(s, st, err)) != 0)
            return rc;
    }
    return 0;
}

static int
add_task(store *s, int64_t order_id, revise_task *t, int64_t now, osm_err *err)
{
    db_stmt *st;
    int rc;

    if (t->move_id > 0) {
        if (!(st = store_stmt(s, ST_REV_MOVE, SQL_REV_MOVE, err)))
            return store_stmt_fail(err);
        db_bind_int64(st, 1, t->move_id);
        db_bind_int64(st, 2, now);
        if ((rc = store_step_done(s, st, err)) != 0)
            return rc;
        if (!(st = store_stmt(s, ST_REV_DEPS_DEL, SQL_REV_DEPS_DEL, err)))
            return store_stmt_fail(err);
        db_bind_int64(st, 1, t->move_id);
        if ((rc = store_step_done(s, st, err)) != 0)
            return rc;
        t->id = t->move_id;
        return 0;
    }
    if (!(st = store_stmt(s, ST_REV_TASK_ADD, SQL_REV_TASK_ADD, err)))
        return store_stmt_fail(err);
    db_bind_int64(st, 1, order_id);
    store_bind_text(st, 2, t->function);
    store_bind_text(st, 3, t->system);
    store_bind_text(st, 4, t->group);
    bind_json(st, 5, jv_copy(t->items));
    store_bind_text(st, 6, t->kind);
    store_bind_text(st, 7, t->mode ? t->mode : "do");
    db_bind_int(st, 8, t->amend);
    if (t->compensates > 0)
        db_bind_int64(st, 9, t->compensates);
    store_bind_text(st, 10, t->request);
    store_bind_text(st, 11, t->previous_request);
    store_bind_text(st, 12, t->workgroup);
    store_bind_time(st, 13, t->not_before);
    db_bind_int64(st, 14, t->expected_ms);
    store_bind_time(st, 15, t->earliest_start);
    store_bind_time(st, 16, t->latest_start);
    db_bind_int(st, 17, t->critical);
    db_bind_int64(st, 18, now);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    t->id = db_last_insert_rowid(s->db);
    return 0;
}

static int
add_dep(store *s, int64_t task, int64_t on, const plan_dep *w, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_REV_DEP_ADD, SQL_REV_DEP_ADD, err);
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, task);
    db_bind_int64(st, 2, on);
    if (w && w->delay_ms > 0)
        db_bind_int64(st, 3, w->delay_ms);
    if (w)
        store_bind_text(st, 4, w->until);
    if (w)
        store_bind_text(st, 5, w->condition);
    return store_step_done(s, st, err);
}

int
store_revise_apply(store *s, revise_apply *a, const char *actor, int64_t now, osm_err *err)
{
    const order_rec *o = a->order;
    db_stmt *st;
    char *cur = NULL;
    int rc;

    if ((rc = store_in_tx(s, "store_revise_apply", err)) != 0)
        return rc;
    if ((rc = store_order_state(s, o->id, &cur, err)) != 0)
        return rc;
    if (!strcmp(cur, "completed") || !strcmp(cur, "cancelled") || !strcmp(cur, "aborted")) {
        free(cur);
        return OSM_ENDED_MEANWHILE;     /* nothing written */
    }
    if (!(st = store_stmt(s, ST_REV_SUPERSEDE, SQL_REV_SUPERSEDE, err))) {
        free(cur);
        return store_stmt_fail(err);
    }
    db_bind_int64(st, 1, o->id);
    bind_json(st, 2, jv_copy(a->old_plan));
    db_bind_int64(st, 3, now);
    if ((rc = store_step_done(s, st, err)) != 0)
        goto out;
    if (!(st = store_stmt(s, ST_REV_ORDER, SQL_REV_ORDER, err))) {
        rc = store_stmt_fail(err);
        goto out;
    }
    db_bind_int64(st, 1, o->id);
    bind_json(st, 2, jv_copy(o->original));
    bind_json(st, 3, jv_copy(o->body));
    db_bind_int64(st, 4, o->revision);
    db_bind_int(st, 5, o->priority);
    store_bind_time(st, 6, o->requested_at);
    store_bind_time(st, 7, a->start_at);
    store_bind_time(st, 8, a->expected_at);
    db_bind_int64(st, 9, a->late_ms);
    db_bind_int64(st, 10, now);
    store_bind_time(st, 11, o->start_requested_at);
    if ((rc = store_step_done(s, st, err)) != 0)
        goto out;
    if ((rc = insert_items(s, o, now, err)) != 0)
        goto out;
    if (strcmp(cur, a->state) != 0 &&
        (rc = store_order_transition(s, o->id, cur, a->state, a->reason, actor, now, err)) != 0)
        goto out;
    for (size_t i = 0; i < a->ntasks && rc == 0; i++)
        rc = add_task(s, o->id, &a->tasks[i], now, err);
    for (size_t i = 0; i < a->ntasks && rc == 0; i++) {
        revise_task *t = &a->tasks[i];
        for (size_t d = 0; d < t->ndeps && rc == 0; d++)
            rc = add_dep(s, t->id, a->tasks[t->deps[d]].id, t->waits ? t->waits[d] : NULL, err);
        for (size_t d = 0; d < t->ndep_ids && rc == 0; d++)
            rc = add_dep(s, t->id, t->dep_ids[d], NULL, err);
    }
    for (size_t i = 0; i < a->ncancel && rc == 0; i++) {
        if (!(st = store_stmt(s, ST_REV_CANCEL, SQL_REV_CANCEL, err))) {
            rc = store_stmt_fail(err);
            break;
        }
        db_bind_int64(st, 1, a->cancel[i]);
        db_bind_int64(st, 2, now);
        rc = store_step_done(s, st, err);
    }
    if (rc == 0 && (st = store_stmt(s, ST_REV_COUNT, SQL_REV_COUNT, err))) {
        db_bind_int64(st, 1, o->id);
        rc = store_step_done(s, st, err);
    } else if (rc == 0) {
        rc = store_stmt_fail(err);
    }
    if (rc == 0 && a->event)
        rc = store_event_add(s, o->id, 0, a->event, actor, jv_copy(a->document), now, NULL, err);
out:
    free(cur);
    return rc;
}

int
store_revise_reject(store *s, int64_t id, const order_rec *rejected, const char *reason,
                    jv document, const char *actor, int64_t now, osm_err *err)
{
    db_stmt *st;
    int rc;

    if ((rc = store_in_tx(s, "store_revise_reject", err)) != 0) {
        jv_free(document);
        return rc;
    }
    if (!(st = store_stmt(s, ST_REV_REJECT, SQL_REV_REJECT, err))) {
        jv_free(document);
        return store_stmt_fail(err);
    }
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, rejected->revision);
    store_bind_text(st, 3, reason);
    bind_json(st, 4, jv_copy(rejected->original));
    bind_json(st, 5, jv_copy(rejected->body));
    db_bind_int64(st, 6, now);
    if ((rc = store_step_done(s, st, err)) != 0) {
        jv_free(document);
        return rc;
    }
    return store_event_add(s, id, 0, "revision.rejected", actor, document, now, NULL, err);
}

int
store_plan_version(store *s, int64_t id, int64_t revision, jv *doc, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_REV_PLAN_VERSION, SQL_REV_PLAN_VERSION, err);
    int rc;

    *doc = jv_invalid();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, revision);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)db_column_text(st, 0);
        *doc = jv_parse(text ? text : "null");
        rc = jv_get_kind(*doc) == JV_KIND_OBJECT
                 ? 0
                 : osm_fail(err, OSM_EIO, "order %lld: plan revision %lld is not readable",
                            (long long)id, (long long)revision);
    } else if (rc == SQLITE_DONE) {
        rc = osm_fail(err, OSM_ENOINPUT, "order %lld has no plan revision %lld", (long long)id,
                      (long long)revision);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}
