/*
 * The order store's connection to its database: SQLite (the embedded
 * default) or PostgreSQL (through libpq), behind one small interface
 * shaped like SQLite's own, so that the store files read the same for
 * both.  Results and errors are SQLite's codes whichever the backend:
 * db_step() returns SQLITE_ROW, SQLITE_DONE or an error code (the
 * PostgreSQL side maps its SQLSTATEs onto them: serialization failures,
 * deadlocks and lost connections to SQLITE_BUSY, integrity violations to
 * SQLITE_CONSTRAINT, everything else to SQLITE_ERROR or SQLITE_IOERR), and
 * db_errmsg() gives the message.
 *
 * SQL is written once where the dialects agree (numbered parameters
 * "?N", which the PostgreSQL side turns into "$N") and per backend where
 * they do not; see store_stmt_pg() in store-int.h.
 *
 * PostgreSQL specifics: values travel as text, so a column read with
 * db_column_int64() may be any integer or boolean ('t' is 1); a blob
 * parameter travels in binary; a statement prepared with
 * DB_PERSISTENT is a named server-side statement, one-off statements are
 * sent with their parameters each time.  Everything runs on one
 * connection; nothing here is thread-safe.
 */
#ifndef OSM_DB_H
#define OSM_DB_H

#include <stdint.h>

#include <sqlite3.h>

typedef struct db_conn db_conn;
typedef struct db_stmt db_stmt;

struct db_pgstmt;

struct db_stmt {
    sqlite3_stmt *lite;         /* SQLite: the statement, else NULL */
    struct db_pgstmt *pg;       /* PostgreSQL: its state, else NULL */
};

/* db_prepare() flags */
#define DB_PERSISTENT 1         /* kept for the life of the connection */

/* Open the SQLite file path with sqlite3_open_v2() flags. */
int db_open_sqlite(const char *path, int flags, db_conn **out);

/*
 * Connect to PostgreSQL with the libpq connection string or URI conninfo
 * (PG* environment variables fill in the rest), naming the session
 * appname (PostgreSQL's application_name, unless conninfo names one).  SQLITE_CANTOPEN when it
 * fails, with the reason in db_errmsg(); SQLITE_AUTH when the server
 * wants a password it did not get or refused the one given;
 * SQLITE_NOTFOUND when libpq cannot be loaded; SQLITE_MISUSE when this
 * build has no PostgreSQL support.  *out is set either way (close it).
 */
int db_open_pg(const char *conninfo, const char *appname, db_conn **out);

/* 1 when conninfo names a PostgreSQL store: postgres:// or postgresql://. */
int db_is_pg_name(const char *name);

/*
 * PostgreSQL: run sql (SET ...) now and again at the start of every
 * session: a connection lost while no transaction was open is made again
 * when the next statement is a BEGIN or a SELECT, which then runs (its
 * statements are prepared again, the channel listened to again); lost
 * inside a transaction, the statement fails with SQLITE_BUSY.  SQLite:
 * nothing.
 */
int db_session_set(db_conn *d, const char *sql);

/* 1 for a PostgreSQL connection. */
int db_is_pg(const db_conn *d);

/* 1 when this build can open PostgreSQL stores. */
int db_pg_available(void);

void db_close(db_conn *d);

/* The SQLite connection, or NULL for PostgreSQL (pragmas, file controls). */
sqlite3 *db_sqlite(db_conn *d);

int db_prepare(db_conn *d, const char *sql, int flags, db_stmt **out);
int db_step(db_stmt *st);
void db_reset(db_stmt *st);
void db_clear_bindings(db_stmt *st);
void db_finalize(db_stmt *st);

int db_bind_int64(db_stmt *st, int i, int64_t v);
int db_bind_int(db_stmt *st, int i, int v);
int db_bind_null(db_stmt *st, int i);
/* destructor as SQLite's: SQLITE_STATIC, SQLITE_TRANSIENT or a free function */
int db_bind_text(db_stmt *st, int i, const char *text, int n, void (*destructor)(void *));
int db_bind_blob(db_stmt *st, int i, const void *p, int64_t n, void (*destructor)(void *));

int db_column_type(db_stmt *st, int i);
int64_t db_column_int64(db_stmt *st, int i);
int db_column_int(db_stmt *st, int i);
const unsigned char *db_column_text(db_stmt *st, int i);
const void *db_column_blob(db_stmt *st, int i);
int db_column_bytes(db_stmt *st, int i);

/* Rows changed by the last INSERT, UPDATE or DELETE. */
int db_changes(db_conn *d);
/* The id the last INSERT gave its row (identity or AUTOINCREMENT column). */
int64_t db_last_insert_rowid(db_conn *d);
/* 1 outside a transaction. */
int db_get_autocommit(db_conn *d);
/* Run SQL text without parameters, possibly several statements. */
int db_exec(db_conn *d, const char *sql);
const char *db_errmsg(db_conn *d);
/* The SQLSTATE of the last PostgreSQL error, or "" */
const char *db_sqlstate(db_conn *d);

/*
 * PostgreSQL notifications: listen on channel (an identifier we choose,
 * quoted here), notify it, and wait up to timeout_ms for one to arrive
 * (1 when one did, 0 on timeout, -1 on error).  Without PostgreSQL,
 * db_wait returns 0 at once after sleeping nothing: callers poll.
 */
int db_listen(db_conn *d, const char *channel);
int db_notify(db_conn *d, const char *channel);
int db_wait(db_conn *d, int timeout_ms);

#endif
