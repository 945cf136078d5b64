/*
 * Order storage: a new order with its items (and, for an order that
 * fails at the door, its fallout task), lookup by the source's order key,
 * and loading an order back.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "json.h"
#include "store-int.h"
#include "store.h"
#include "xalloc.h"

static const char SQL_ORDER_INSERT[] =
    "INSERT INTO orders (external_id, revision, cartridge, cartridge_version, order_type,"
    " state, state_reason, priority, requested_at, original, body, created_at, updated_at,"
    " start_requested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)";
static const char SQL_ITEM_INSERT[] =
    "INSERT INTO order_items (order_id, item_id, action, spec, requested_at, relies_on,"
    " data, updated_at, start_requested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_ORDER_FIND_KEY[] =
    "SELECT id, revision FROM orders WHERE external_id = ?1 AND cartridge = ?2";
static const char SQL_ORDER_IDS_BY_KEY[] =
    "SELECT id FROM orders WHERE external_id = ?1 ORDER BY id LIMIT 2";
static const char SQL_ORDER_GET[] =
    "SELECT id, external_id, revision, cartridge, cartridge_version, order_type, state,"
    " state_reason, priority, requested_at, start_at, expected_at, original, body,"
    " created_at, updated_at, start_requested_at FROM orders WHERE id = ?1";
static const char SQL_ITEMS_GET[] =
    "SELECT item_id, action, spec, fulfillment_state, requested_at, relies_on, data,"
    " start_requested_at FROM order_items WHERE order_id = ?1 ORDER BY id";
static const char SQL_TASK_INSERT_FALLOUT[] =
    "INSERT INTO tasks (order_id, plan_revision, function, group_key, kind, state,"
    " workgroup, error, created_at, updated_at)"
    " VALUES (?1, 0, ?2, 'order', 'fallout', 'waiting', ?3, ?4, ?5, ?5)";

/* Bind the JSON text of v (not consumed). */
static void
bind_json(db_stmt *st, int i, jv v)
{
    strbuf sb = STRBUF_INIT;
    size_t len;
    char *text;

    json_append(&sb, v, 0);
    text = sb_detach(&sb, &len);
    (void)len;
    db_bind_text(st, i, text, -1, free);
}

static int
insert_items(store *s, const order_rec *o, osm_err *err)
{
    for (size_t i = 0; i < o->nitems; i++) {
        const order_item *it = &o->items[i];
        db_stmt *st = store_stmt(s, ST_ITEM_INSERT, SQL_ITEM_INSERT, err);
        int rc;
        if (!st)
            return err ? err->code : OSM_ESOFTWARE;
        db_bind_int64(st, 1, o->id);
        store_bind_text(st, 2, it->item_id);
        store_bind_text(st, 3, it->action);
        store_bind_text(st, 4, it->spec);
        store_bind_time(st, 5, it->requested_at);
        bind_json(st, 6, it->relies_on);
        bind_json(st, 7, it->data);
        db_bind_int64(st, 8, o->created_at);
        store_bind_time(st, 9, it->start_requested_at);
        if ((rc = store_step_done(s, st, err)) != 0)
            return rc;
    }
    return 0;
}

static int
insert_fallout(store *s, const order_rec *o, const store_fallout *f, const char *actor,
               osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_TASK_INSERT_FALLOUT, SQL_TASK_INSERT_FALLOUT, err);
    int64_t task;
    int rc;

    if (!st)
        return err ? err->code : OSM_ESOFTWARE;
    db_bind_int64(st, 1, o->id);
    store_bind_text(st, 2, f->function);
    store_bind_text(st, 3, f->workgroup);
    bind_json(st, 4, f->error);
    db_bind_int64(st, 5, o->created_at);
    if ((rc = store_step_done(s, st, err)) != 0)
        return rc;
    task = db_last_insert_rowid(s->db);
    jv data = JV_OBJECT(jv_string("function"), jv_string(f->function), jv_string("workgroup"),
                        f->workgroup ? jv_string(f->workgroup) : jv_null(),
                        jv_string("error"), jv_copy(f->error));
    return store_event_add(s, o->id, task, "fallout", actor, data, o->created_at, NULL, err);
}

int
store_order_insert(store *s, order_rec *o, const store_fallout *fallout, const char *actor,
                   osm_err *err)
{
    db_stmt *st;
    int rc;

    if ((rc = store_in_tx(s, "store_order_insert", err)) != 0)
        return rc;
    if ((rc = store_sp_begin(s, err)) != 0)
        return rc;
    if (!(st = store_stmt(s, ST_ORDER_INSERT, SQL_ORDER_INSERT, err)))
        return store_sp_end(s, err ? err->code : OSM_ESOFTWARE);
    store_bind_text(st, 1, o->external_id);
    db_bind_int64(st, 2, o->revision);
    store_bind_text(st, 3, o->cartridge);
    store_bind_text(st, 4, o->cartridge_version);
    store_bind_text(st, 5, o->order_type);
    store_bind_text(st, 6, o->state);
    store_bind_text(st, 7, o->state_reason);
    db_bind_int(st, 8, o->priority);
    store_bind_time(st, 9, o->requested_at);
    bind_json(st, 10, o->original);
    bind_json(st, 11, o->body);
    db_bind_int64(st, 12, o->created_at);
    store_bind_time(st, 13, o->start_requested_at);
    if ((rc = store_step_done(s, st, err)) != 0)
        return store_sp_end(s, rc);
    o->id = db_last_insert_rowid(s->db);
    o->updated_at = o->created_at;
    if ((rc = insert_items(s, o, err)) == 0) {
        jv data = JV_OBJECT(jv_string("state"), jv_string(o->state), jv_string("revision"),
                            jv_number((double)o->revision), jv_string("cartridge"),
                            jv_string(o->cartridge), jv_string("cartridgeVersion"),
                            jv_string(o->cartridge_version), jv_string("orderType"),
                            jv_string(o->order_type));
        rc = store_event_add(s, o->id, 0, "order.created", actor, data, o->created_at, NULL,
                             err);
    }
    if (rc == 0 && fallout)
        rc = insert_fallout(s, o, fallout, actor, err);
    if (rc != 0)
        o->id = 0;
    return store_sp_end(s, rc);
}

int
store_order_find_key(store *s, const char *cartridge_name, const char *key, int64_t *id,
                     int64_t *revision, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_FIND_KEY, SQL_ORDER_FIND_KEY, err);
    int rc;

    if (!st)
        return err ? err->code : OSM_ESOFTWARE;
    store_bind_text(st, 1, key);
    store_bind_text(st, 2, cartridge_name);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *id = db_column_int64(st, 0);
        *revision = db_column_int64(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = OSM_ENOINPUT;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_order_ids_by_key(store *s, const char *key, jv *ids, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_IDS_BY_KEY, SQL_ORDER_IDS_BY_KEY, err);
    int rc;
    *ids = jv_array();
    if (!st)
        return store_stmt_fail(err);
    store_bind_text(st, 1, key);
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

static jv
col_json(db_stmt *st, int i)
{
    const char *text = (const char *)db_column_text(st, i);
    jv v = text ? jv_parse(text) : jv_null();
    if (!jv_is_valid(v)) {
        jv_free(v);
        v = jv_null();
    }
    return v;
}

int
store_order_get(store *s, int64_t id, order_rec *o, osm_err *err)
{
    db_stmt *st;
    int rc;

    order_rec_init(o);
    if (!(st = store_stmt(s, ST_ORDER_GET, SQL_ORDER_GET, err)))
        return err ? err->code : OSM_ESOFTWARE;
    db_bind_int64(st, 1, id);
    rc = db_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? osm_fail(err, OSM_ENOINPUT, "no such order: %lld", (long long)id)
                               : store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    o->id = db_column_int64(st, 0);
    o->external_id = store_col_strdup(st, 1);
    o->revision = db_column_int64(st, 2);
    o->cartridge = store_col_strdup(st, 3);
    o->cartridge_version = store_col_strdup(st, 4);
    o->order_type = store_col_strdup(st, 5);
    o->state = store_col_strdup(st, 6);
    o->state_reason = store_col_strdup(st, 7);
    o->priority = db_column_int(st, 8);
    o->requested_at = store_col_time(st, 9);
    o->start_at = store_col_time(st, 10);
    o->expected_at = store_col_time(st, 11);
    jv_free(o->original);
    o->original = col_json(st, 12);
    jv_free(o->body);
    o->body = col_json(st, 13);
    o->created_at = store_col_time(st, 14);
    o->updated_at = store_col_time(st, 15);
    o->start_requested_at = store_col_time(st, 16);
    store_stmt_done(st);

    if (!(st = store_stmt(s, ST_ITEMS_GET, SQL_ITEMS_GET, err))) {
        order_rec_free(o);
        return err ? err->code : OSM_ESOFTWARE;
    }
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        order_rec_add_item(o, (const char *)db_column_text(st, 0),
                           (const char *)db_column_text(st, 1),
                           (const char *)db_column_text(st, 2), store_col_time(st, 4),
                           col_json(st, 5), col_json(st, 6));
        o->items[o->nitems - 1].fulfillment_state = store_col_strdup(st, 3);
        o->items[o->nitems - 1].start_requested_at = store_col_time(st, 7);
    }
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        order_rec_free(o);
        return rc;
    }
    store_stmt_done(st);
    return 0;
}
