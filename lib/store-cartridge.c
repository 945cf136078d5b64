/*
 * Cartridge storage: deployed versions with their archives, the default
 * version of each name, and the orders that pin a version.
 *
 * Versions are semantic versions.  To let SQLite order them, put splits
 * each into major, minor and patch integers and a prerelease_key: the
 * prerelease's dot-separated identifiers, each encoded as "1" + text when
 * alphanumeric and "0" + two-digit length + digits when numeric, joined by
 * spaces.  Byte order of that key is semver precedence: numeric
 * identifiers compare numerically and below alphanumeric ones, and a
 * shorter list of equal identifiers sorts first (space is below every
 * identifier character).  A release has no key and sorts above all its
 * prereleases.  Build metadata does not affect precedence.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "diag.h"
#include "store-int.h"
#include "store.h"
#include "xalloc.h"

#define TERMINAL_STATES "('completed', 'cancelled', 'aborted')"

/* newest version first, for the cartridges row alias t */
#define NEWEST_FIRST(t)                                                  \
    t ".major DESC, " t ".minor DESC, " t ".patch DESC, "                \
    t ".prerelease_key IS NULL DESC, " t ".prerelease_key DESC, "        \
    t ".version DESC"

/* the id of the default version of the name given by expression n */
#define DEFAULT_ID(n)                                                    \
    "(SELECT d.id FROM cartridges d"                                     \
    " LEFT JOIN cartridge_defaults x ON x.cartridge_id = d.id"           \
    " WHERE d.name = " n " AND d.status = 'deployed'"                    \
    " ORDER BY x.cartridge_id IS NOT NULL DESC, " NEWEST_FIRST("d")      \
    " LIMIT 1)"

/* the columns read_row() reads; ?3 says whether to load the archive */
#define CART_COLUMNS                                                     \
    "c.id, c.name, c.version, c.sha256, c.manifest,"                     \
    " CASE WHEN ?3 <> 0 THEN c.archive END, c.deployed_at,"              \
    " c.status = 'undeployed'"

static const char SQL_CART_GET[] =
    "SELECT " CART_COLUMNS ", c.id IS NOT DISTINCT FROM " DEFAULT_ID("c.name")
    " FROM cartridges c"
    " WHERE c.name = ?1 AND c.version = ?2"
    " AND (c.status = 'deployed' OR ?4 <> 0)";
static const char SQL_CART_GET_DEFAULT[] =
    "SELECT " CART_COLUMNS ", 1"
    " FROM cartridges c LEFT JOIN cartridge_defaults x ON x.cartridge_id = c.id"
    " WHERE c.name = ?1 AND CAST(?2 AS TEXT) IS NULL AND c.status = 'deployed'"
    " ORDER BY x.cartridge_id IS NOT NULL DESC, " NEWEST_FIRST("c") " LIMIT 1";
static const char SQL_CART_FIND[] =
    "SELECT id, sha256, status = 'deployed' FROM cartridges"
    " WHERE name = ?1 AND version = ?2";
static const char SQL_CART_INSERT[] =
    "INSERT INTO cartridges (name, version, major, minor, patch, prerelease,"
    " prerelease_key, sha256, manifest, archive, deployed_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_CART_REDEPLOY[] =
    "UPDATE cartridges SET status = 'deployed', deployed_at = ?2 WHERE id = ?1";
static const char SQL_CART_LIST[] =
    "SELECT c.name, c.version, c.sha256, c.deployed_at,"
    " c.id IS NOT DISTINCT FROM " DEFAULT_ID("c.name") ","
    " (SELECT count(*) FROM orders o WHERE o.cartridge = c.name"
    "  AND o.cartridge_version = c.version AND o.state NOT IN " TERMINAL_STATES ")"
    " FROM cartridges c WHERE c.status = 'deployed'"
    " ORDER BY c.name, " NEWEST_FIRST("c");
static const char SQL_CART_OPEN_ORDERS[] =
    "SELECT count(*) FROM orders WHERE cartridge = ?1 AND cartridge_version = ?2"
    " AND state NOT IN " TERMINAL_STATES;
static const char SQL_CART_ANY_ORDERS[] =
    "SELECT EXISTS (SELECT 1 FROM orders WHERE cartridge = ?1 AND cartridge_version = ?2)";
static const char SQL_CART_DELETE[] =
    "DELETE FROM cartridges WHERE id = ?1";
static const char SQL_CART_UNDEPLOY[] =
    "UPDATE cartridges SET status = 'undeployed' WHERE id = ?1";
static const char SQL_CART_DEFAULT_DROP[] =
    "DELETE FROM cartridge_defaults WHERE cartridge_id = ?1";
static const char SQL_CART_DEFAULT_SET[] =
    "INSERT INTO cartridge_defaults (name, cartridge_id) VALUES (?1, ?2)"
    " ON CONFLICT (name) DO UPDATE SET cartridge_id = excluded.cartridge_id";
static const char SQL_CART_OPEN_LIST[] =
    "SELECT id, state FROM orders WHERE cartridge = ?1 AND cartridge_version = ?2"
    " AND state NOT IN " TERMINAL_STATES " ORDER BY id";
static const char SQL_ORDER_ABORT[] =
    "UPDATE orders SET state = 'aborted', resume_state = NULL, state_reason = ?2,"
    " updated_at = ?3, ended_at = ?3 WHERE id = ?1";
static const char SQL_TASKS_CANCEL[] =
    "UPDATE tasks SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL,"
    " deadline_at = NULL, updated_at = ?2, ended_at = ?2"
    " WHERE order_id = ?1"
    " AND state IN ('pending', 'ready', 'running', 'waiting', 'claimed', 'undoing')";

/* A parsed semantic version; pre and prekey are NULL for a release. */
struct semver {
    int64_t major, minor, patch;
    char *pre, *prekey;
};

#define SEMVER_MAX_LEN 256
#define SEMVER_MAX_DIGITS 18    /* fits int64_t */

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
is_ident_char(int c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

/* A number without leading zeros at *p, which is advanced past it. */
static int
parse_number(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    int n = 0;

    for (; is_digit(s[n]); n++) {
        if (n == SEMVER_MAX_DIGITS)
            return -1;
        v = v * 10 + (s[n] - '0');
    }
    if (n == 0 || (n > 1 && s[0] == '0'))
        return -1;
    *p = s + n;
    *out = v;
    return 0;
}

/*
 * Parse MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] (semver.org 2.0.0) into
 * *sv; -1 if v is not one.  On success free sv->pre and sv->prekey.
 */
static int
semver_parse(const char *v, struct semver *sv)
{
    strbuf key = STRBUF_INIT;
    const char *p = v, *start;

    memset(sv, 0, sizeof *sv);
    if (strlen(v) > SEMVER_MAX_LEN)
        return -1;
    if (parse_number(&p, &sv->major) || *p++ != '.' ||
        parse_number(&p, &sv->minor) || *p++ != '.' ||
        parse_number(&p, &sv->patch))
        return -1;
    if (*p == '-') {
        start = ++p;
        for (;;) {
            const char *id = p;
            int numeric = 1;
            size_t n;

            for (; is_ident_char(*p); p++)
                numeric &= is_digit(*p);
            n = (size_t)(p - id);
            if (n == 0)
                goto bad;
            if (numeric) {
                if ((n > 1 && id[0] == '0') || n > SEMVER_MAX_DIGITS)
                    goto bad;
                sb_addf(&key, "0%02zu%.*s", n, (int)n, id);
            } else {
                sb_addf(&key, "1%.*s", (int)n, id);
            }
            if (*p != '.')
                break;
            sb_adds(&key, " ");
            p++;
        }
        sv->pre = xstrndup(start, (size_t)(p - start));
        sv->prekey = sb_detach(&key, NULL);
    }
    if (*p == '+') {
        do {
            start = ++p;
            while (is_ident_char(*p))
                p++;
            if (p == start)
                goto bad;
        } while (*p == '.');
    }
    if (*p)
        goto bad;
    return 0;
bad:
    sb_free(&key);
    free(sv->pre);
    free(sv->prekey);
    memset(sv, 0, sizeof *sv);
    return -1;
}

static int
is_sha256(const char *s)
{
    size_t n = 0;

    for (; s && s[n]; n++)
        if (!is_digit(s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
            return 0;
    return n == 64;
}

void
store_cartridge_free(store_cartridge *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->version);
    free(c->sha256);
    free(c->manifest);
    free(c->archive);
    memset(c, 0, sizeof *c);
}

/* The error of a statement that could not be had from the cache. */
static int
stmt_err(osm_err *err)
{
    return err && err->code ? err->code : OSM_ESOFTWARE;
}

/* Fill c from a row of CART_COLUMNS plus the is-default column. */
static void
read_row(db_stmt *st, store_cartridge *c)
{
    memset(c, 0, sizeof *c);
    c->id = db_column_int64(st, 0);
    c->name = store_col_strdup(st, 1);
    c->version = store_col_strdup(st, 2);
    c->sha256 = store_col_strdup(st, 3);
    c->manifest = store_col_strdup(st, 4);
    if (db_column_type(st, 5) == SQLITE_BLOB) {
        const void *blob = db_column_blob(st, 5);
        size_t n = (size_t)db_column_bytes(st, 5);
        c->archive = xmalloc(n);
        if (n)
            memcpy(c->archive, blob, n);
        c->archive_len = n;
    }
    c->deployed_at = db_column_int64(st, 6);
    c->undeployed = db_column_int(st, 7);
    c->is_default = db_column_int(st, 8);
}

int
store_cartridge_get(store *s, const char *name, const char *version,
                    int flags, store_cartridge *out, osm_err *err)
{
    db_stmt *st;
    int rc;

    if (version)
        st = store_stmt(s, ST_CART_GET, SQL_CART_GET, err);
    else
        st = store_stmt(s, ST_CART_GET_DEFAULT, SQL_CART_GET_DEFAULT, err);
    if (!st)
        return stmt_err(err);
    store_bind_text(st, 1, name);
    db_bind_int(st, 3, !!(flags & STORE_CARTRIDGE_ARCHIVE));
    if (version) {
        store_bind_text(st, 2, version);
        db_bind_int(st, 4, !!(flags & STORE_CARTRIDGE_UNDEPLOYED));
    }
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        read_row(st, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = version ? osm_fail(err, OSM_ENOINPUT, "no such cartridge: %s@%s", name, version)
                     : osm_fail(err, OSM_ENOINPUT, "no such cartridge: %s", name);
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

/*
 * Look NAME@VERSION up whatever its status: 0 with *id, sha (65 bytes)
 * and *deployed set; OSM_ENOINPUT (err untouched) if there is no row.
 */
static int
find_version(store *s, const char *name, const char *version,
             int64_t *id, char *sha, int *deployed, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_CART_FIND, SQL_CART_FIND, err);
    int rc;

    if (!st)
        return stmt_err(err);
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, version);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = db_column_text(st, 1);
        *id = db_column_int64(st, 0);
        snprintf(sha, 65, "%s", t ? (const char *)t : "");
        *deployed = db_column_int(st, 2);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = OSM_ENOINPUT;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

/* find_version() of a deployed version, 66 "no such cartridge" otherwise. */
static int
find_deployed(store *s, const char *name, const char *version, int64_t *id, osm_err *err)
{
    char sha[65];
    int deployed, rc;

    rc = find_version(s, name, version, id, sha, &deployed, err);
    if (rc == OSM_ENOINPUT || (rc == 0 && !deployed))
        return osm_fail(err, OSM_ENOINPUT, "no such cartridge: %s@%s", name, version);
    return rc;
}

/* Run a cached statement binding one id and, if bind_now, now at ?2. */
static int
run_id(store *s, enum store_stmt_id id, const char *sql, int64_t row,
       int bind_now, int64_t now, osm_err *err)
{
    db_stmt *st = store_stmt(s, id, sql, err);
    int rc;

    if (!st)
        return stmt_err(err);
    db_bind_int64(st, 1, row);
    if (bind_now)
        db_bind_int64(st, 2, now);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

static int
insert_version(store *s, const store_cartridge *c, const struct semver *sv, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_CART_INSERT, SQL_CART_INSERT, err);
    int rc;

    if (!st)
        return stmt_err(err);
    store_bind_text(st, 1, c->name);
    store_bind_text(st, 2, c->version);
    db_bind_int64(st, 3, sv->major);
    db_bind_int64(st, 4, sv->minor);
    db_bind_int64(st, 5, sv->patch);
    store_bind_text(st, 6, sv->pre);
    store_bind_text(st, 7, sv->prekey);
    store_bind_text(st, 8, c->sha256);
    store_bind_text(st, 9, c->manifest);
    db_bind_blob(st, 10, c->archive ? c->archive : "", c->archive_len, SQLITE_STATIC);
    db_bind_int64(st, 11, c->deployed_at);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_cartridge_put(store *s, const store_cartridge *c, int *created, osm_err *err)
{
    struct semver sv;
    char sha[65];
    int64_t id;
    int deployed, rc;

    *created = 0;
    if ((rc = store_in_tx(s, "store_cartridge_put", err)))
        return rc;
    if (!c->name || !c->version || !c->manifest || !is_sha256(c->sha256))
        return osm_fail(err, OSM_ESOFTWARE, "internal error: incomplete cartridge record");
    if (semver_parse(c->version, &sv))
        return osm_fail(err, OSM_ECONFIG,
                        "cartridge %s: version \"%s\" is not a semantic version "
                        "(MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])", c->name, c->version);
    rc = find_version(s, c->name, c->version, &id, sha, &deployed, err);
    if (rc == OSM_ENOINPUT) {
        if ((rc = insert_version(s, c, &sv, err)) == 0)
            *created = 1;
    } else if (rc == 0 && strcmp(sha, c->sha256) != 0) {
        rc = osm_fail(err, OSM_ECONFIG,
                      deployed ? "cartridge %s@%s is already deployed with different contents "
                                 "(sha256 %s); deploy a new version"
                               : "cartridge %s@%s was deployed before with different contents "
                                 "(sha256 %s) that ended orders still refer to; "
                                 "deploy a new version",
                      c->name, c->version, sha);
    } else if (rc == 0 && !deployed) {
        rc = run_id(s, ST_CART_REDEPLOY, SQL_CART_REDEPLOY, id, 1, c->deployed_at, err);
        if (rc == 0)
            *created = 1;
    }
    free(sv.pre);
    free(sv.prekey);
    return rc;
}

int
store_cartridge_list(store *s, jv *out, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_CART_LIST, SQL_CART_LIST, err);
    jv list = jv_array();
    int rc;

    if (!st) {
        jv_free(list);
        return stmt_err(err);
    }
    while ((rc = db_step(st)) == SQLITE_ROW) {
        jv o = jv_object();
        o = jv_object_set(o, jv_string("name"),
                          jv_string((const char *)db_column_text(st, 0)));
        o = jv_object_set(o, jv_string("version"),
                          jv_string((const char *)db_column_text(st, 1)));
        o = jv_object_set(o, jv_string("sha256"),
                          jv_string((const char *)db_column_text(st, 2)));
        o = jv_object_set(o, jv_string("deployedAt"),
                          jv_number((double)db_column_int64(st, 3)));
        o = jv_object_set(o, jv_string("default"), jv_bool(db_column_int(st, 4)));
        o = jv_object_set(o, jv_string("openOrders"),
                          jv_number((double)db_column_int64(st, 5)));
        list = jv_array_append(list, o);
    }
    if (rc == SQLITE_DONE) {
        *out = list;
        rc = 0;
    } else {
        jv_free(list);
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_cartridge_open_orders(store *s, const char *name, const char *version,
                            int64_t *count, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_CART_OPEN_ORDERS, SQL_CART_OPEN_ORDERS, err);
    int rc;

    if (!st)
        return stmt_err(err);
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, version);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *count = db_column_int64(st, 0);
        rc = 0;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

/* *any = whether any order, ended or not, refers to NAME@VERSION. */
static int
any_orders(store *s, const char *name, const char *version, int *any, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_CART_ANY_ORDERS, SQL_CART_ANY_ORDERS, err);
    int rc;

    if (!st)
        return stmt_err(err);
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, version);
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *any = db_column_int(st, 0);
        rc = 0;
    } else {
        rc = store_sqlfail(s, rc, err);
    }
    store_stmt_done(st);
    return rc;
}

int
store_cartridge_remove(store *s, const char *name, const char *version, osm_err *err)
{
    int64_t id, open = 0;
    int any = 0, rc;

    if ((rc = store_in_tx(s, "store_cartridge_remove", err)) ||
        (rc = find_deployed(s, name, version, &id, err)) ||
        (rc = store_cartridge_open_orders(s, name, version, &open, err)))
        return rc;
    if (open)
        return osm_fail(err, OSM_NEGATIVE, "cartridge %s@%s has %lld open order%s",
                        name, version, (long long)open, open == 1 ? "" : "s");
    if ((rc = any_orders(s, name, version, &any, err)) ||
        (rc = store_sp_begin(s, err)))
        return rc;
    rc = run_id(s, ST_CART_DEFAULT_DROP, SQL_CART_DEFAULT_DROP, id, 0, 0, err);
    if (rc == 0 && any)
        rc = run_id(s, ST_CART_UNDEPLOY, SQL_CART_UNDEPLOY, id, 0, 0, err);
    else if (rc == 0)
        rc = run_id(s, ST_CART_DELETE, SQL_CART_DELETE, id, 0, 0, err);
    return store_sp_end(s, rc);
}

int
store_cartridge_set_default(store *s, const char *name, const char *version, osm_err *err)
{
    db_stmt *st;
    int64_t id;
    int rc;

    if ((rc = find_deployed(s, name, version, &id, err)))
        return rc;
    if (!(st = store_stmt(s, ST_CART_DEFAULT_SET, SQL_CART_DEFAULT_SET, err)))
        return stmt_err(err);
    store_bind_text(st, 1, name);
    db_bind_int64(st, 2, id);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

/* An open order about to be aborted. */
struct open_order {
    int64_t id;
    char state[32];
};

/* *list (caller frees) = the open orders of NAME@VERSION, *n of them. */
static int
open_order_list(store *s, const char *name, const char *version,
                struct open_order **list, size_t *n, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_CART_OPEN_LIST, SQL_CART_OPEN_LIST, err);
    size_t cap = 0;
    int rc;

    *list = NULL;
    *n = 0;
    if (!st)
        return stmt_err(err);
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, version);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        const unsigned char *state = db_column_text(st, 1);
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *list = xrealloc(*list, cap * sizeof **list);
        }
        (*list)[*n].id = db_column_int64(st, 0);
        snprintf((*list)[*n].state, sizeof (*list)[*n].state, "%s",
                 state ? (const char *)state : "");
        (*n)++;
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    if (rc) {
        free(*list);
        *list = NULL;
        *n = 0;
    }
    return rc;
}

static int
abort_order(store *s, const struct open_order *o, const char *actor, const char *reason,
            int64_t now_ms, osm_err *err)
{
    db_stmt *st = store_stmt(s, ST_ORDER_ABORT, SQL_ORDER_ABORT, err);
    jv data;
    int rc;

    if (!st)
        return stmt_err(err);
    db_bind_int64(st, 1, o->id);
    store_bind_text(st, 2, reason);
    db_bind_int64(st, 3, now_ms);
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    if (rc || (rc = run_id(s, ST_TASKS_CANCEL, SQL_TASKS_CANCEL, o->id, 1, now_ms, err)))
        return rc;
    data = jv_object();
    data = jv_object_set(data, jv_string("from"), jv_string(o->state));
    data = jv_object_set(data, jv_string("to"), jv_string("aborted"));
    data = jv_object_set(data, jv_string("reason"), reason ? jv_string(reason) : jv_null());
    return store_event_add(s, o->id, 0, "order.state", actor, data, now_ms, NULL, err);
}

int
store_cartridge_abort_orders(store *s, const char *name, const char *version,
                             const char *actor, const char *reason,
                             int64_t now_ms, int64_t *aborted, osm_err *err)
{
    struct open_order *list;
    size_t n;
    int rc;

    if ((rc = store_in_tx(s, "store_cartridge_abort_orders", err)) ||
        (rc = open_order_list(s, name, version, &list, &n, err)))
        return rc;
    if ((rc = store_sp_begin(s, err)) == 0) {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = abort_order(s, &list[i], actor, reason, now_ms, err);
        rc = store_sp_end(s, rc);
    }
    free(list);
    if (rc == 0 && aborted)
        *aborted = (int64_t)n;
    return rc;
}
