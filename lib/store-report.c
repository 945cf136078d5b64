/*
 * The store side of the HTML report (see store-report.h): an order's
 * earlier versions, kept in order_versions by revisions.
 */
#include "config.h"

#include "db.h"

#include "store-int.h"
#include "store-report.h"

static const char SQL_VERSIONS[] =
    "SELECT revision, plan_revision, status, reason, original, body, received_at, recorded_at"
    " FROM order_versions WHERE order_id = ?1 ORDER BY revision, id";

/* Column i as parsed JSON, its text when it does not parse, null for NULL. */
static jv
col_json(db_stmt *st, int i)
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
store_report_versions(store *s, int64_t id, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_REPORT_VERSIONS, SQL_VERSIONS, err);
    int rc;

    *out = jv_array();
    if (!st)
        return store_stmt_fail(err);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        const char *reason = (const char *)db_column_text(st, 3);
        jv v = JV_OBJECT(jv_string("revision"), jv_number((double)db_column_int64(st, 0)),
                         jv_string("planRevision"),
                         jv_number((double)db_column_int64(st, 1)), jv_string("status"),
                         jv_string((const char *)db_column_text(st, 2)),
                         jv_string("reason"), reason ? jv_string(reason) : jv_null());
        v = jv_object_set(v, jv_string("original"), col_json(st, 4));
        v = jv_object_set(v, jv_string("body"), col_json(st, 5));
        v = jv_object_set(v, jv_string("receivedAt"),
                          jv_number((double)db_column_int64(st, 6)));
        v = jv_object_set(v, jv_string("recordedAt"),
                          jv_number((double)db_column_int64(st, 7)));
        *out = jv_array_append(*out, v);
    }
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, err);
        jv_free(*out);
        *out = jv_array();
    } else {
        rc = 0;
    }
    store_stmt_done(st);
    return rc;
}
