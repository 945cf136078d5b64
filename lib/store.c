/*
 * The order store's core: opening the SQLite file with the pragmas every
 * program relies on, schema migrations, transactions, the prepared
 * statement cache, the mapping of SQLite errors to exit statuses, and the
 * one function that writes history events.  Cartridge storage is in
 * store-cartridge.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "db.h"
#include "diag.h"
#include "embedded.h"
#include "store-int.h"
#include "store.h"
#include "xalloc.h"

/* PRAGMA application_id of an osm store: "OSM1". */
#define STORE_APPLICATION_ID 0x4f534d31

#define STORE_DEFAULT_BUSY_MS 5000

/*
 * The migrations, in order: entry i brings the schema to version i + 1.
 * Each is an embedded file (share/migrations/), listed in Makefile.am.
 */
static const char *const migrations[] = {
    "migrations/001-initial.sql",
    "migrations/002-status.sql",
    "migrations/003-ready-queue.sql",
    "migrations/004-revisions.sql",
    "migrations/005-requested-start.sql",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/*
 * PostgreSQL stores began at version 5: entry i brings a store at
 * version i (0: an empty schema) to the version its file's name says.
 * Later migrations come in pairs, one per backend.
 */
static const struct {
    const char *file;
    int to;
} pg_migrations[SCHEMA_VERSION] = {
    [0] = { "migrations/pg/005-schema.sql", 5 },
};

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
/*
 * PostgreSQL: one writer at a time, as with SQLite's BEGIN IMMEDIATE
 * (osm_store's lock conflicts only with itself and stronger ones:
 * readers are never blocked).  Every transaction then sees the
 * committed work of the writers before it.
 */
static const char SQL_BEGIN_PG[] = "BEGIN";
static const char SQL_LOCK_PG[] = "LOCK TABLE osm_store IN EXCLUSIVE MODE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT store_op";
static const char SQL_RELEASE[] = "RELEASE store_op";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO store_op";
static const char SQL_EVENT_ADD[] =
    "INSERT INTO events (order_id, task_id, at, type, actor, data)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/* PostgreSQL: the id in the same round trip (SQLite asks the connection) */
static const char SQL_EVENT_ADD_PG[] =
    "INSERT INTO events (order_id, task_id, at, type, actor, data)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";

int
store_schema_version(void)
{
    return SCHEMA_VERSION;
}

sqlite3 *
store_sqlite(store *s)
{
    return db_sqlite(s->db);
}

int
store_is_pg(const store *s)
{
    return s->pg;
}

int
store_sqlfail(store *s, int rc, osm_err *err)
{
    const char *msg = s->db ? db_errmsg(s->db) : sqlite3_errstr(rc);

    if (s->pg) {
        const char *state = db_sqlstate(s->db);
        switch (rc & 0xff) {
        case SQLITE_BUSY:
            if (!strncmp(state, "08", 2))
                return osm_fail(err, OSM_ETEMPFAIL, "%s: connection lost: %s: try again",
                                s->path, msg);
            return osm_fail(err, OSM_ETEMPFAIL, "order store busy: %s: try again", msg);
        case SQLITE_READONLY:
            return osm_fail(err, OSM_ENOPERM, "%s: no permission to write the order store: %s",
                            s->path, msg);
        case SQLITE_CANTOPEN:
            return osm_fail(err, OSM_ETEMPFAIL, "%s: cannot connect: %s", s->path, msg);
        case SQLITE_CONSTRAINT:
        case SQLITE_MISUSE:
        case SQLITE_RANGE:
        case SQLITE_NOMEM:
        case SQLITE_ERROR:
            return osm_fail(err, OSM_ESOFTWARE, "%s: internal error: %s", s->path, msg);
        default:
            return osm_fail(err, OSM_EIO, "%s: %s", s->path, msg);
        }
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return osm_fail(err, OSM_ETEMPFAIL, "order store busy: try again");
    case SQLITE_NOTADB:
        return osm_fail(err, OSM_EIO, "%s: not an osm order store (file is not a database)",
                        s->path);
    case SQLITE_CORRUPT:
        return osm_fail(err, OSM_EIO, "%s: order store is damaged: %s", s->path, msg);
    case SQLITE_READONLY:
        if (rc == SQLITE_READONLY_CANTINIT || rc == SQLITE_READONLY_DIRECTORY ||
            (s->readonly && !s->ready))
            return osm_fail(err, OSM_EIO, "%s: cannot read the order store: its -wal and -shm "
                            "files are missing and this user may not create them (any program "
                            "that writes the store creates them again)", s->path);
        return osm_fail(err, OSM_ENOPERM, "%s: no permission to write the order store",
                        s->path);
    case SQLITE_CONSTRAINT:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_NOMEM:
        return osm_fail(err, OSM_ESOFTWARE, "%s: internal error: %s", s->path, msg);
    default:
        return osm_fail(err, OSM_EIO, "%s: %s", s->path, msg);
    }
}

db_stmt *
store_stmt(store *s, enum store_stmt_id id, const char *sql, osm_err *err)
{
    db_stmt *st;
    int rc;

    if (s->stmt[id].st) {
        if (s->stmt[id].sql != sql) {
            osm_fail(err, OSM_ESOFTWARE, "internal error: statement %d used with two SQL texts",
                     (int)id);
            return NULL;
        }
        return s->stmt[id].st;
    }
    rc = db_prepare(s->db, sql, DB_PERSISTENT, &st);
    if (rc != SQLITE_OK) {
        store_sqlfail(s, rc, err);
        db_finalize(st);
        return NULL;
    }
    s->stmt[id].st = st;
    s->stmt[id].sql = sql;
    return st;
}

void
store_stmt_done(db_stmt *st)
{
    if (st) {
        db_reset(st);
        db_clear_bindings(st);
    }
}

int
store_bind_text(db_stmt *st, int i, const char *text)
{
    if (!text)
        return db_bind_null(st, i);
    return db_bind_text(st, i, text, -1, SQLITE_STATIC);
}

char *
store_col_strdup(db_stmt *st, int i)
{
    const unsigned char *t = db_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

/* Run a cached statement that returns no rows. */
static int
run_simple(store *s, enum store_stmt_id id, const char *sql, osm_err *err)
{
    db_stmt *st = store_stmt(s, id, sql, err);
    int rc;

    if (!st)
        return err ? err->code : OSM_ESOFTWARE;
    rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_in_tx(store *s, const char *fn, osm_err *err)
{
    if (db_get_autocommit(s->db))
        return osm_fail(err, OSM_ESOFTWARE, "internal error: %s called outside a transaction",
                        fn);
    return 0;
}

int
store_sp_begin(store *s, osm_err *err)
{
    return run_simple(s, ST_SAVEPOINT, SQL_SAVEPOINT, err);
}

int
store_sp_end(store *s, int rc)
{
    if (rc)
        run_simple(s, ST_ROLLBACK_TO, SQL_ROLLBACK_TO, NULL);
    run_simple(s, ST_RELEASE, SQL_RELEASE, NULL);
    return rc;
}

int
store_begin(store *s, osm_err *err)
{
    int rc;

    if (!db_get_autocommit(s->db))
        return osm_fail(err, OSM_ESOFTWARE, "internal error: transaction already open");
    if (!s->pg)
        return run_simple(s, ST_BEGIN, SQL_BEGIN, err);
    if ((rc = run_simple(s, ST_BEGIN, SQL_BEGIN_PG, err)) ||
        (rc = run_simple(s, ST_LOCK, SQL_LOCK_PG, err)))
        store_rollback(s);
    return rc;
}

int
store_commit(store *s, osm_err *err)
{
    int rc;

    if (db_get_autocommit(s->db))
        return osm_fail(err, OSM_ESOFTWARE, "internal error: commit without a transaction");
    rc = run_simple(s, ST_COMMIT, SQL_COMMIT, err);
    if (rc)
        store_rollback(s);
    return rc;
}

void
store_rollback(store *s)
{
    if (s && !db_get_autocommit(s->db))
        run_simple(s, ST_ROLLBACK, SQL_ROLLBACK, NULL);
}

int
store_event_add(store *s, int64_t order_id, int64_t task_id,
                const char *type, const char *actor, jv data,
                int64_t now_ms, int64_t *event_id, osm_err *err)
{
    return store_event_add_raw(s, order_id, task_id, type, actor, data, NULL, now_ms, event_id,
                               err);
}

int
store_event_add_raw(store *s, int64_t order_id, int64_t task_id, const char *type,
                    const char *actor, jv data, const char *raw, int64_t now_ms,
                    int64_t *event_id, osm_err *err)
{
    db_stmt *st;
    jv text;
    int rc;

    if (!jv_is_valid(data)) {
        jv_free(data);
        return osm_fail(err, OSM_ESOFTWARE, "internal error: invalid event data");
    }
    if (!type || !*type || !actor) {
        jv_free(data);
        return osm_fail(err, OSM_ESOFTWARE, "internal error: event without type or actor");
    }
    if (jv_get_kind(data) != JV_KIND_OBJECT && raw && *raw) {
        jv_free(data);
        return osm_fail(err, OSM_ESOFTWARE, "internal error: raw members need an object");
    }
    text = jv_dump_string(data, 0);
    if (raw && *raw) {
        /* {...} + members: the members go before the closing brace */
        const char *t = jv_string_value(text);
        int len = jv_string_length_bytes(jv_copy(text));
        jv joined = jv_string_sized(t, len - 1);
        if (len > 2)
            joined = jv_string_append_str(joined, ",");
        joined = jv_string_append_str(joined, raw);
        joined = jv_string_append_str(joined, "}");
        jv_free(text);
        text = joined;
    }
    if (!(st = store_stmt(s, ST_EVENT_ADD, DIALECT(s, SQL_EVENT_ADD, SQL_EVENT_ADD_PG), err))) {
        jv_free(text);
        return err ? err->code : OSM_ESOFTWARE;
    }
    if (order_id)
        db_bind_int64(st, 1, order_id);
    if (task_id)
        db_bind_int64(st, 2, task_id);
    db_bind_int64(st, 3, now_ms);
    store_bind_text(st, 4, type);
    store_bind_text(st, 5, actor);
    store_bind_text(st, 6, jv_string_value(text));
    rc = db_step(st);
    if (rc == SQLITE_ROW) {
        if (event_id)
            *event_id = db_column_int64(st, 0);
        rc = db_step(st);
    } else if (rc == SQLITE_DONE && event_id) {
        *event_id = db_last_insert_rowid(s->db);
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    jv_free(text);
    return rc;
}

/* Run one SQL text that returns no rows (pragmas, migrations). */
static int
exec_sql(store *s, const char *sql, osm_err *err)
{
    int rc = db_exec(s->db, sql);
    return rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, err);
}

/* *out = the single integer the query sql returns (0 for no row). */
static int
query_int(store *s, const char *sql, int64_t *out, osm_err *err)
{
    db_stmt *st = NULL;
    int rc = db_prepare(s->db, sql, 0, &st);

    *out = 0;
    if (rc == SQLITE_OK) {
        rc = db_step(st);
        if (rc == SQLITE_ROW) {
            *out = db_column_int64(st, 0);
            rc = SQLITE_DONE;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    db_finalize(st);
    return rc;
}

/*
 * Read the schema version into *version and check that the file is an
 * osm store this program understands: ours by application_id, or a brand
 * new empty database.  78 for a newer schema, 74 for someone else's.
 * One statement, so one snapshot: a migration committed by another
 * process cannot fall between the reads.
 */
static int
check_store(store *s, int64_t *version, osm_err *err)
{
    static const char sql[] =
        "SELECT (SELECT user_version FROM pragma_user_version),"
        " (SELECT application_id FROM pragma_application_id),"
        " (SELECT count(*) FROM sqlite_schema)";
    /*
     * PostgreSQL: the store lives in the first schema of the search path;
     * osm_store is its version row.  An empty schema is a new store.
     */
    static const char sql_pg[] =
        "SELECT coalesce((SELECT version FROM osm_store), 0),"
        " coalesce((SELECT application_id FROM osm_store), 0), 0";
    db_stmt *st = NULL;
    int64_t appid = 0, objects = 0;
    int rc = db_prepare(s->db, s->pg ? sql_pg : sql, 0, &st);

    if (rc == SQLITE_OK && (rc = db_step(st)) == SQLITE_ROW) {
        *version = db_column_int64(st, 0);
        appid = db_column_int64(st, 1);
        objects = db_column_int64(st, 2);
        rc = SQLITE_OK;
    }
    rc = rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, err);
    db_finalize(st);
    if (rc)
        return rc;
    if (*version > SCHEMA_VERSION)
        return osm_fail(err, OSM_ECONFIG,
                        "%s: order store version %lld is newer than this program supports (%d)",
                        s->path, (long long)*version, SCHEMA_VERSION);
    if (*version > 0 ? appid == STORE_APPLICATION_ID : appid == 0 && objects == 0)
        return 0;
    return osm_fail(err, OSM_EIO,
                    "%s: not an osm order store (another program's SQLite database)", s->path);
}

/*
 * PostgreSQL's check_store(): the schema the store lives in must exist;
 * without an osm_store table it must be empty (a new store).
 */
static int
pg_check_store(store *s, int64_t *version, osm_err *err)
{
    int64_t objects, has;
    int rc;

    *version = 0;
    if ((rc = query_int(s, "SELECT count(*) FROM pg_namespace WHERE nspname = current_schema()",
                        &has, err)))
        return rc;
    if (!has)
        return osm_fail(err, OSM_ENOINPUT, "%s: no schema to keep the order store in "
                        "(the search_path names none that exists)", s->path);
    if ((rc = query_int(s, "SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                        " ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
                        " AND c.relname = 'osm_store' AND c.relkind = 'r'", &has, err)))
        return rc;
    if (has)
        return check_store(s, version, err);
    if ((rc = query_int(s, "SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                        " ON n.oid = c.relnamespace WHERE n.nspname = current_schema()",
                        &objects, err)))
        return rc;
    if (objects)
        return osm_fail(err, OSM_EIO, "%s: not an osm order store (schema %s holds another "
                        "program's tables)", s->path, "of the search_path");
    return 0;
}

/*
 * Switch to WAL.  On a new file whose creators race, SQLite answers BUSY
 * at once instead of calling the busy handler, so wait here, within the
 * busy timeout.
 */
static int
set_wal(store *s, int timeout_ms, osm_err *err)
{
    int rc, waited = 0;

    while (((rc = db_exec(s->db, "PRAGMA journal_mode = WAL"))
            & 0xff) == SQLITE_BUSY && waited < timeout_ms) {
        sqlite3_sleep(5);
        waited += 5;
    }
    return rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, err);
}

/*
 * Bring the schema up to SCHEMA_VERSION in one BEGIN IMMEDIATE
 * transaction; another process may have done it while we waited for the
 * lock, so the version is read (again) inside.  Foreign key
 * enforcement is off meanwhile (table rebuilds in later migrations need
 * that), checked as a whole before COMMIT.  On error the store is
 * unchanged.
 */
static int
migrate(store *s, osm_err *err)
{
    int64_t version, bad;
    char sql[64];
    int rc;

    if ((rc = exec_sql(s, "PRAGMA foreign_keys = OFF", err)) ||
        (rc = exec_sql(s, "BEGIN IMMEDIATE", err)))
        return rc;
    if ((rc = check_store(s, &version, err)))
        goto out;
    for (int i = (int)version; i < SCHEMA_VERSION; i++) {
        const char *text = embedded_get(migrations[i], NULL);
        if (!text) {
            rc = osm_fail(err, OSM_ESOFTWARE, "internal error: %s is not built in",
                          migrations[i]);
            goto out;
        }
        if ((rc = exec_sql(s, text, err))) {
            osm_err_prefix(err, "%s", migrations[i]);
            goto out;
        }
    }
    if (version < SCHEMA_VERSION) {
        if ((rc = query_int(s, "SELECT count(*) FROM pragma_foreign_key_check", &bad, err)))
            goto out;
        if (bad) {
            rc = osm_fail(err, OSM_EIO, "%s: migration left %lld broken references",
                          s->path, (long long)bad);
            goto out;
        }
        /* our own constants, not data */
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APPLICATION_ID);
        if ((rc = exec_sql(s, sql, err)))
            goto out;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
        if ((rc = exec_sql(s, sql, err)))
            goto out;
    }
    rc = exec_sql(s, "COMMIT", err);
out:
    if (!db_get_autocommit(s->db))
        db_exec(s->db, "ROLLBACK");
    return rc;
}

/*
 * migrate() for PostgreSQL: one transaction, creators serialized on an
 * advisory lock named by the schema (the store's tables may not exist
 * yet to lock), the version read again inside.
 */
static int
pg_migrate(store *s, osm_err *err)
{
    int64_t version;
    int rc;

    if ((rc = exec_sql(s, "BEGIN", err)) ||
        (rc = exec_sql(s, "SELECT pg_advisory_xact_lock(hashtext('osm ' || current_schema()))",
                       err)))
        goto out;
    if ((rc = pg_check_store(s, &version, err)))
        goto out;
    while (version < SCHEMA_VERSION) {
        const char *file = pg_migrations[version].file;
        const char *text = file ? embedded_get(file, NULL) : NULL;
        if (!text) {
            rc = osm_fail(err, OSM_ESOFTWARE, "internal error: no PostgreSQL migration from "
                          "version %lld", (long long)version);
            goto out;
        }
        if ((rc = exec_sql(s, text, err))) {
            osm_err_prefix(err, "%s", file);
            goto out;
        }
        version = pg_migrations[version].to;
    }
    rc = exec_sql(s, "COMMIT", err);
out:
    if (!db_get_autocommit(s->db))
        db_exec(s->db, "ROLLBACK");
    return rc;
}

/* Everything store_open() does after connecting to PostgreSQL. */
static int
pg_setup(store *s, const store_opts *o, osm_err *err)
{
    int64_t version;
    char sql[96];
    int rc;

    /* a lock waited for longer than the busy timeout is a busy store (75) */
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", o->busy_timeout_ms);
    if ((rc = db_session_set(s->db, sql)) != SQLITE_OK)
        return store_sqlfail(s, rc, err);
    if ((rc = pg_check_store(s, &version, err)))
        return rc;
    /* an empty schema is PostgreSQL's missing file: the same message */
    if (version == 0 && (o->readonly || !o->create))
        return osm_fail(err, OSM_ENOINPUT, "%s: no such order store", s->path);
    if (version < SCHEMA_VERSION) {
        if (o->readonly)
            return osm_fail(err, OSM_EIO,
                            "%s: order store version %lld needs upgrading to %d, "
                            "which a read-only open cannot do",
                            s->path, (long long)version, SCHEMA_VERSION);
        if ((rc = pg_migrate(s, err)))
            return rc;
    }
    s->ready = 1;
    return 0;
}

/*
 * The name messages give a PostgreSQL store: its URI without the
 * password ("postgresql://user:secret@host/db" names itself
 * "postgresql://user@host/db").
 */
static char *
pg_display_name(const char *uri)
{
    const char *auth = strstr(uri, "://");
    char *out = xstrdup(uri);

    if (!auth)
        return out;
    auth += 3;
    const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
    const char *colon = strchr(auth, ':');
    if (at && (!slash || at < slash) && colon && colon < at) {
        size_t head = (size_t)(colon - uri);
        memmove(out + head, out + (at - uri), strlen(at) + 1);
    }
    /* password=... in the query string */
    char *pw = strstr(out, "password=");
    if (pw && (pw[-1] == '?' || pw[-1] == '&')) {
        char *end = strchr(pw, '&');
        if (end)
            memmove(pw, end + 1, strlen(end + 1) + 1);
        else
            pw[-1] = '\0';
    }
    return out;
}

/* store_open() for a postgresql:// or postgres:// URI. */
static int
pg_open(const char *uri, const store_opts *o, store **out, osm_err *err)
{
    store *s = xcalloc(1, sizeof *s);
    int rc;

    s->path = pg_display_name(uri);
    s->pg = 1;
    s->readonly = o->readonly;
    if (!db_pg_available()) {
        rc = osm_fail(err, OSM_ECONFIG, "%s: this osm was built without PostgreSQL support "
                      "(configure --with-postgresql)", s->path);
    } else if ((rc = db_open_pg(uri, diag_prog(), &s->db)) != SQLITE_OK) {
        if (rc == SQLITE_NOTFOUND)
            rc = osm_fail(err, OSM_ECONFIG, "%s: %s", s->path, db_errmsg(s->db));
        else if (rc == SQLITE_AUTH)
            rc = osm_fail(err, OSM_ENOPERM, "%s: cannot connect: %s (a password goes in "
                          "~/.pgpass or PGPASSFILE, not in the URI)", s->path, db_errmsg(s->db));
        else
            rc = osm_fail(err, OSM_ETEMPFAIL, "%s: cannot connect: %s", s->path,
                          db_errmsg(s->db));
    } else {
        rc = pg_setup(s, o, err);
    }
    if (rc) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Everything store_open() does after sqlite3_open_v2(). */
static int
setup(store *s, const store_opts *o, osm_err *err)
{
    int64_t version;
    int rc;

    sqlite3_extended_result_codes(db_sqlite(s->db), 1);
    sqlite3_busy_timeout(db_sqlite(s->db), o->busy_timeout_ms);
    /* before anything writes: a newer or foreign file stays untouched */
    if ((rc = check_store(s, &version, err)))
        return rc;
    if (version == 0 && o->readonly)
        return osm_fail(err, OSM_ENOINPUT, "%s: no such order store (the file is empty)",
                        s->path);
    if (!o->readonly) {
        /*
         * Keep the -wal and -shm files when the last connection closes
         * (the -wal emptied): a user who may only read the store cannot
         * create them, and without them SQLite cannot read a WAL store.
         */
        int persist = 1;
        sqlite3_file_control(db_sqlite(s->db), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        if ((rc = set_wal(s, o->busy_timeout_ms, err)) ||
            (rc = exec_sql(s, o->synchronous_full ? "PRAGMA synchronous = FULL"
                                                  : "PRAGMA synchronous = NORMAL", err)) ||
            (rc = exec_sql(s, "PRAGMA journal_size_limit = 67108864", err)))
            return rc;
    }
    /*
     * Per connection, for every program: a 64 MiB page cache (negative:
     * KiB) instead of SQLite's 2 MB default, so that a worker's hot pages
     * (the ready queue, open orders) stay in memory as the store grows;
     * temporary B-trees and statement journals in memory, not in a file
     * (a savepoint per order must not spill to disk); and the first
     * 256 MiB of the file read through mmap, which saves a copy per page.
     */
    if ((rc = exec_sql(s, "PRAGMA cache_size = -65536", err)) ||
        (rc = exec_sql(s, "PRAGMA temp_store = MEMORY", err)) ||
        (rc = exec_sql(s, "PRAGMA mmap_size = 268435456", err)))
        return rc;
    if (version < SCHEMA_VERSION) {
        if (o->readonly)
            return osm_fail(err, OSM_EIO,
                            "%s: order store version %lld needs upgrading to %d, "
                            "which a read-only open cannot do",
                            s->path, (long long)version, SCHEMA_VERSION);
        if ((rc = migrate(s, err)))
            return rc;
    }
    if ((rc = exec_sql(s, "PRAGMA foreign_keys = ON", err)))
        return rc;
    s->ready = 1;
    return 0;
}

int
store_open(const char *path, const store_opts *opts, store **out, osm_err *err)
{
    store_opts o = { 0 };
    struct stat sb;
    store *s;
    int flags, rc;

    *out = NULL;
    if (opts)
        o = *opts;
    if (o.busy_timeout_ms <= 0)
        o.busy_timeout_ms = STORE_DEFAULT_BUSY_MS;
    if (db_is_pg_name(path))
        return pg_open(path, &o, out, err);
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return osm_fail(err, OSM_EIO, "%s: is a directory, not an order store", path);
    } else if (errno != ENOENT) {
        return osm_fail(err, OSM_EIO, "%s: %s", path, strerror(errno));
    } else if (!o.create || o.readonly) {
        return osm_fail(err, OSM_ENOINPUT, "%s: no such order store", path);
    }

    s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->readonly = o.readonly;
    /* no SQLITE_OPEN_URI: a path is a path, whatever it looks like */
    flags = o.readonly ? SQLITE_OPEN_READONLY
                       : SQLITE_OPEN_READWRITE | (o.create ? SQLITE_OPEN_CREATE : 0);
    rc = db_open_sqlite(path, flags, &s->db);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOMEM)
            rc = osm_fail(err, OSM_ESOFTWARE, "%s: out of memory opening the store", path);
        else
            rc = store_sqlfail(s, rc, err);
    } else {
        rc = setup(s, &o, err);
    }
    if (rc) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void
store_close(store *s)
{
    if (!s)
        return;
    if (s->db) {
        if (!s->pg || db_get_autocommit(s->db) == 0)
            store_rollback(s);
        for (int i = 0; i < ST__COUNT; i++)
            db_finalize(s->stmt[i].st);
        db_close(s->db);
    }
    free(s->path);
    free(s);
}

int
store_pg_owned(store *s)
{
    int64_t n = 0;

    if (!s->pg)
        return 0;
    if (query_int(s, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                  " AND tablename = 'osm_store' AND pg_has_role(tableowner, 'MEMBER')",
                  &n, NULL) != 0)
        return 0;
    return n > 0;
}

int
store_watch(store *s, osm_err *err)
{
    db_stmt *st = NULL;
    char *channel = NULL;
    int rc;

    if (!s->pg || s->watching)
        return 0;
    rc = db_prepare(s->db, "SELECT 'osm_' || current_schema()", 0, &st);
    if (rc == SQLITE_OK && (rc = db_step(st)) == SQLITE_ROW) {
        channel = xstrdup((const char *)db_column_text(st, 0));
        rc = SQLITE_OK;
    }
    db_finalize(st);
    if (rc == SQLITE_OK)
        rc = db_listen(s->db, channel);
    free(channel);
    if (rc != SQLITE_OK)
        return store_sqlfail(s, rc, err);
    s->watching = 1;
    return 0;
}

int
store_watch_wait(store *s, int64_t ms)
{
    if (!s->pg || !s->watching)
        return -1;
    int r = db_wait(s->db, ms > INT_MAX ? INT_MAX : (int)ms);
    return r < 0 ? -1 : r;
}

int
store_step_done(store *s, db_stmt *st, osm_err *err)
{
    int rc = db_step(st);
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
    store_stmt_done(st);
    return rc;
}

int
store_stmt_fail(osm_err *err)
{
    return err && err->code ? err->code : OSM_ESOFTWARE;
}

void
store_bind_time(db_stmt *st, int i, int64_t ms)
{
    if (ms >= 0)
        db_bind_int64(st, i, ms);
    else
        db_bind_null(st, i);
}

int64_t
store_col_time(db_stmt *st, int i)
{
    return db_column_type(st, i) == SQLITE_NULL ? -1 : db_column_int64(st, i);
}
