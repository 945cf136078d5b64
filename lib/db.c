/*
 * The two backends of db.h.  SQLite calls go straight through; the
 * PostgreSQL side keeps, per statement, the SQL rewritten to "$N"
 * parameters, the bound values as text (blobs as binary), and the result
 * of the last execution, which db_step() walks a row at a time.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if HAVE_LIBPQ
#include <dlfcn.h>
#include <libpq-fe.h>
#endif

#include "db.h"
#include "xalloc.h"

struct db_conn {
    sqlite3 *lite;
#if HAVE_LIBPQ
    PGconn *pg;
    int changes;            /* rows of the last command */
    unsigned next_name;     /* for named statements */
    unsigned generation;    /* sessions so far: a reconnection makes a new one */
    char *session;          /* SQL run at the start of each session */
    char *listen;           /* the channel listened to, or NULL */
    char *errmsg;
    char sqlstate[6];
#endif
};

#if HAVE_LIBPQ

/*
 * libpq is loaded when a program first opens a PostgreSQL store, not
 * linked: it brings TLS, Kerberos and LDAP libraries whose loading every
 * start of every program would pay, SQLite users included.
 */
#define PQ_FUNCS(X)                                                                    \
    X(PQconnectdbParams) X(PQreset) X(PQstatus) X(PQconnectionNeedsPassword)         \
    X(PQconnectionUsedPassword) X(PQerrorMessage) X(PQfinish) X(PQexec) X(PQprepare)    \
    X(PQexecPrepared) X(PQexecParams) X(PQresultStatus) X(PQresultErrorField)         \
    X(PQclear) X(PQcmdTuples) X(PQntuples) X(PQnfields) X(PQgetisnull) X(PQgetvalue)  \
    X(PQgetlength) X(PQftype) X(PQunescapeBytea) X(PQfreemem) X(PQtransactionStatus) \
    X(PQescapeIdentifier) X(PQconsumeInput) X(PQnotifies) X(PQsocket)                \
    X(PQsetNoticeProcessor)

static struct {
#define PQ_MEMBER(f) __typeof__(f) *f;
    PQ_FUNCS(PQ_MEMBER)
#undef PQ_MEMBER
} pq;

static const char *
pq_load(void)
{
    static int loaded;
    static char why[256];
    void *h;

    if (loaded)
        return loaded > 0 ? NULL : why;
    loaded = -1;
    if (!(h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL))) {
        snprintf(why, sizeof why, "cannot load libpq (install libpq5): %s", dlerror());
        return why;
    }
#define PQ_LOAD(f)                                                                     \
    if (!(*(void **)&pq.f = dlsym(h, #f))) {                                           \
        snprintf(why, sizeof why, "libpq.so.5 has no %s", #f);                         \
        return why;                                                                    \
    }
    PQ_FUNCS(PQ_LOAD)
#undef PQ_LOAD
    loaded = 1;
    return NULL;
}

#define PQconnectdbParams pq.PQconnectdbParams
#define PQreset pq.PQreset
#define PQconnectionNeedsPassword pq.PQconnectionNeedsPassword
#define PQconnectionUsedPassword pq.PQconnectionUsedPassword
#define PQstatus pq.PQstatus
#define PQerrorMessage pq.PQerrorMessage
#define PQfinish pq.PQfinish
#define PQexec pq.PQexec
#define PQprepare pq.PQprepare
#define PQexecPrepared pq.PQexecPrepared
#define PQexecParams pq.PQexecParams
#define PQresultStatus pq.PQresultStatus
#define PQresultErrorField pq.PQresultErrorField
#define PQclear pq.PQclear
#define PQcmdTuples pq.PQcmdTuples
#define PQntuples pq.PQntuples
#define PQnfields pq.PQnfields
#define PQgetisnull pq.PQgetisnull
#define PQgetvalue pq.PQgetvalue
#define PQgetlength pq.PQgetlength
#define PQftype pq.PQftype
#define PQunescapeBytea pq.PQunescapeBytea
#define PQfreemem pq.PQfreemem
#define PQtransactionStatus pq.PQtransactionStatus
#define PQescapeIdentifier pq.PQescapeIdentifier
#define PQconsumeInput pq.PQconsumeInput
#define PQnotifies pq.PQnotifies
#define PQsocket pq.PQsocket
#define PQsetNoticeProcessor pq.PQsetNoticeProcessor

/* PostgreSQL type oids the driver needs to know (pg_type.h) */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

typedef struct pgparam {
    char *value;            /* NULL for SQL NULL */
    int len;                /* for binary */
    int binary;
    void (*destructor)(void *);  /* how to let value go */
    char num[24];           /* integers are formatted here */
} pgparam;

struct db_pgstmt {
    db_conn *d;
    char *sql;              /* with $N parameters */
    char name[16];          /* "" for a one-off statement */
    unsigned generation;    /* the session it was prepared in */
    int nparams;
    pgparam *params;
    PGresult *res;          /* the last execution's, or NULL */
    int row;                /* the next row db_step() returns */
    int done;               /* executed and walked to its end */
    unsigned char *blob;    /* the last db_column_blob() decoded */
    size_t bloblen;
};

static void
pg_seterr(db_conn *d, const char *msg, const char *state)
{
    free(d->errmsg);
    d->errmsg = xstrdup(msg ? msg : "unknown error");
    /* libpq's messages end in a newline; ours are one line */
    size_t n = strlen(d->errmsg);
    while (n && (d->errmsg[n - 1] == '\n' || d->errmsg[n - 1] == ' '))
        d->errmsg[--n] = '\0';
    for (char *p = d->errmsg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    snprintf(d->sqlstate, sizeof d->sqlstate, "%s", state ? state : "");
}

/* The SQLite code for a failed PostgreSQL result (or connection). */
static int
pg_fail(db_conn *d, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (!msg)
        msg = PQerrorMessage(d->pg);
    pg_seterr(d, msg, state);
    if (PQstatus(d->pg) == CONNECTION_BAD) {
        snprintf(d->sqlstate, sizeof d->sqlstate, "08006");
        return SQLITE_BUSY;
    }
    if (!state)
        return SQLITE_IOERR;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03") ||
        !strcmp(state, "57014") || !strncmp(state, "08", 2) || !strcmp(state, "57P01"))
        return SQLITE_BUSY;
    if (!strncmp(state, "23", 2))
        return SQLITE_CONSTRAINT;
    if (!strcmp(state, "25006") || !strcmp(state, "42501"))
        return SQLITE_READONLY;
    if (!strncmp(state, "53", 2) || !strncmp(state, "58", 2) || !strncmp(state, "XX", 2))
        return SQLITE_IOERR;
    return SQLITE_ERROR;
}

/*
 * The SQL with "?N" (and bare "?") turned into "$N", outside string
 * literals, quoted identifiers and comments; *nparams the highest N.
 */
static char *
pg_rewrite(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = xmalloc(4 * n + 1), *o = out;   /* "?" may become "$999" */
    int next = 0, max = 0;

    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            *o++ = *p++;
            while (*p) {
                if (*p == q && p[1] == q) {
                    *o++ = *p++;
                    *o++ = *p++;
                } else if (*p == q) {
                    *o++ = *p++;
                    break;
                } else {
                    *o++ = *p++;
                }
            }
        } else if (*p == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (*p == '?') {
            int k;
            p++;
            if (*p >= '0' && *p <= '9') {
                k = 0;
                while (*p >= '0' && *p <= '9')
                    k = k * 10 + (*p++ - '0');
            } else {
                k = ++next;
            }
            if (k > next)
                next = k;
            if (k > max)
                max = k;
            o += sprintf(o, "$%d", k);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *nparams = max;
    return out;
}

static void
pg_param_clear(pgparam *p)
{
    if (p->value && p->value != p->num && p->destructor != SQLITE_STATIC)
        (p->destructor == SQLITE_TRANSIENT ? free : p->destructor)(p->value);
    p->value = NULL;
    p->len = 0;
    p->binary = 0;
    p->destructor = SQLITE_STATIC;
}

static void
pg_result_clear(struct db_pgstmt *p)
{
    if (p->res)
        PQclear(p->res);
    p->res = NULL;
    p->row = 0;
    p->done = 0;
    free(p->blob);
    p->blob = NULL;
}

static int pg_server_prepare(struct db_pgstmt *p);

static int
pg_prepare(db_conn *d, const char *sql, int flags, db_stmt **out)
{
    struct db_pgstmt *p = xcalloc(1, sizeof *p);
    db_stmt *st = xcalloc(1, sizeof *st);

    p->d = d;
    p->sql = pg_rewrite(sql, &p->nparams);
    p->params = xcalloc((size_t)p->nparams + 1, sizeof *p->params);
    for (int i = 0; i < p->nparams; i++)
        p->params[i].destructor = SQLITE_STATIC;
    st->pg = p;
    *out = st;
    if (flags & DB_PERSISTENT) {
        snprintf(p->name, sizeof p->name, "osm%u", ++d->next_name);
        int rc = pg_server_prepare(p);
        if (rc != SQLITE_OK) {
            p->name[0] = '\0';      /* nothing to deallocate */
            return rc;
        }
    }
    return SQLITE_OK;
}

/* Prepare p's named statement in the current session. */
static int
pg_server_prepare(struct db_pgstmt *p)
{
    PGresult *res = PQprepare(p->d->pg, p->name, p->sql, 0, NULL);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? SQLITE_OK : pg_fail(p->d, res);
    PQclear(res);
    if (rc == SQLITE_OK)
        p->generation = p->d->generation;
    return rc;
}

static void
pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * Start a session on d->pg (new or reset): quiet notices, the session's
 * settings, the channel listened to.
 */
static int
pg_session(db_conn *d)
{
    PGresult *res;
    int rc = SQLITE_OK;

    PQsetNoticeProcessor(d->pg, pg_quiet, NULL);
    d->generation++;
    res = PQexec(d->pg, "SET client_min_messages = warning");
    PQclear(res);
    if (d->session) {
        res = PQexec(d->pg, d->session);
        rc = PQresultStatus(res) == PGRES_COMMAND_OK ? SQLITE_OK : pg_fail(d, res);
        PQclear(res);
    }
    if (rc == SQLITE_OK && d->listen) {
        char *q = PQescapeIdentifier(d->pg, d->listen, strlen(d->listen));
        char *sql = xasprintf("LISTEN %s", q ? q : "osm");
        PQfreemem(q);
        res = PQexec(d->pg, sql);
        rc = PQresultStatus(res) == PGRES_COMMAND_OK ? SQLITE_OK : pg_fail(d, res);
        PQclear(res);
        free(sql);
    }
    return rc;
}

/*
 * A connection lost while no transaction was open loses nothing: connect
 * again (SQLITE_OK), once.  Statements prepared in the old session are
 * prepared again when next used.
 */
static int
pg_reconnect(db_conn *d)
{
    PQreset(d->pg);
    if (PQstatus(d->pg) != CONNECTION_OK) {
        pg_seterr(d, PQerrorMessage(d->pg), "08006");
        return SQLITE_BUSY;
    }
    return pg_session(d);
}

/* Whether a statement may run again after its connection was lost. */
static int
pg_retryable(const char *sql)
{
    while (*sql == ' ' || *sql == '(')
        sql++;
    return !strncasecmp(sql, "BEGIN", 5) || !strncasecmp(sql, "SELECT", 6);
}

static int
pg_step(struct db_pgstmt *p)
{
    db_conn *d = p->d;

    if (!p->res && !p->done) {
        const char *values[p->nparams + 1];
        int lengths[p->nparams + 1], formats[p->nparams + 1];
        for (int i = 0; i < p->nparams; i++) {
            values[i] = p->params[i].value;
            lengths[i] = p->params[i].len;
            formats[i] = p->params[i].binary;
        }
        /* as the client knows it: a server that went away is seen below */
        int idle = PQtransactionStatus(d->pg) == PQTRANS_IDLE;
        for (int tries = 0;; tries++) {
            if (p->name[0] && p->generation != d->generation) {
                int rc = pg_server_prepare(p);
                if (rc != SQLITE_OK) {
                    p->done = 1;
                    return rc;
                }
            }
            if (p->name[0])
                p->res = PQexecPrepared(d->pg, p->name, p->nparams, values, lengths, formats, 0);
            else
                p->res = PQexecParams(d->pg, p->sql, p->nparams, NULL, values, lengths, formats,
                                      0);
            if (PQresultStatus(p->res) == PGRES_COMMAND_OK ||
                PQresultStatus(p->res) == PGRES_TUPLES_OK || tries > 0 || !idle ||
                PQstatus(d->pg) != CONNECTION_BAD || !pg_retryable(p->sql))
                break;
            /* lost between transactions: a BEGIN or a read may run again */
            PQclear(p->res);
            p->res = NULL;
            if (pg_reconnect(d) != SQLITE_OK) {
                p->done = 1;
                return SQLITE_BUSY;
            }
        }
        ExecStatusType s = PQresultStatus(p->res);
        if (s == PGRES_COMMAND_OK) {
            const char *n = PQcmdTuples(p->res);
            d->changes = *n ? atoi(n) : 0;
            pg_result_clear(p);
            p->done = 1;
            return SQLITE_DONE;
        }
        if (s != PGRES_TUPLES_OK) {
            int rc = pg_fail(d, p->res);
            pg_result_clear(p);
            p->done = 1;
            return rc;
        }
        const char *n = PQcmdTuples(p->res);
        d->changes = *n ? atoi(n) : 0;
        p->row = 0;
    } else if (p->res) {
        p->row++;
        free(p->blob);
        p->blob = NULL;
    }
    if (p->res && p->row < PQntuples(p->res))
        return SQLITE_ROW;
    pg_result_clear(p);
    p->done = 1;
    return SQLITE_DONE;
}

static pgparam *
pg_param(db_stmt *st, int i)
{
    struct db_pgstmt *p = st->pg;
    if (i < 1 || i > p->nparams)
        return NULL;
    pg_param_clear(&p->params[i - 1]);
    return &p->params[i - 1];
}

/* The value at column i of the current row, or NULL. */
static const char *
pg_value(db_stmt *st, int i)
{
    struct db_pgstmt *p = st->pg;
    if (!p->res || p->row >= PQntuples(p->res) || i < 0 || i >= PQnfields(p->res) ||
        PQgetisnull(p->res, p->row, i))
        return NULL;
    return PQgetvalue(p->res, p->row, i);
}

int
db_open_pg(const char *conninfo, const char *appname, db_conn **out)
{
    db_conn *d = xcalloc(1, sizeof *d);
    *out = d;
    const char *why = pq_load();
    if (why) {
        pg_seterr(d, why, "");
        return SQLITE_NOTFOUND;
    }
    /*
     * Our defaults first, the URI after them: what it says wins.  A host
     * cut off must not hold a worker for the kernel's 15 minutes of
     * retransmissions: TCP keepalives and a 30 s user timeout make a dead
     * link an error (75) well within a lease.
     */
    static const char *const keys[] = {
        "connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
        "tcp_user_timeout", "application_name", "dbname", NULL
    };
    const char *values[] = { "10", "10", "5", "3", "30000", appname ? appname : "osm", conninfo,
                             NULL };
    d->pg = PQconnectdbParams(keys, values, 1);
    if (!d->pg) {
        pg_seterr(d, "out of memory", "");
        return SQLITE_NOMEM;
    }
    if (PQstatus(d->pg) != CONNECTION_OK) {
        pg_seterr(d, PQerrorMessage(d->pg), "08001");
        /* refused for want of a password, or for a wrong one */
        if (PQconnectionNeedsPassword(d->pg) || PQconnectionUsedPassword(d->pg)) {
            snprintf(d->sqlstate, sizeof d->sqlstate, "28000");
            return SQLITE_AUTH;
        }
        return SQLITE_CANTOPEN;
    }
    /* notices (e.g. of an IF NOT EXISTS) are not ours to print */
    return pg_session(d);
}

int
db_pg_available(void)
{
    return 1;
}

int
db_session_set(db_conn *d, const char *sql)
{
    if (!d->pg)
        return SQLITE_OK;
    char *all = d->session ? xasprintf("%s; %s", d->session, sql) : xstrdup(sql);
    free(d->session);
    d->session = all;
    return db_exec(d, sql);
}

int
db_listen(db_conn *d, const char *channel)
{
    if (!d->pg)
        return SQLITE_OK;
    char *q = PQescapeIdentifier(d->pg, channel, strlen(channel));
    if (!q)
        return pg_fail(d, NULL);
    char *sql = xasprintf("LISTEN %s", q);
    PQfreemem(q);
    int rc = db_exec(d, sql);
    free(sql);
    if (rc == SQLITE_OK) {
        free(d->listen);
        d->listen = xstrdup(channel);
    }
    return rc;
}

int
db_notify(db_conn *d, const char *channel)
{
    if (!d->pg)
        return SQLITE_OK;
    const char *values[1] = { channel };
    PGresult *res = PQexecParams(d->pg, "SELECT pg_notify($1, '')", 1, NULL, values, NULL,
                                 NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? SQLITE_OK : pg_fail(d, res);
    PQclear(res);
    return rc;
}

int
db_wait(db_conn *d, int timeout_ms)
{
    PGnotify *n;
    int got = 0;

    if (!d->pg)
        return 0;
    if (!PQconsumeInput(d->pg))
        return -1;
    while ((n = PQnotifies(d->pg))) {
        PQfreemem(n);
        got = 1;
    }
    if (got || timeout_ms <= 0)
        return got;
    struct pollfd pfd = { .fd = PQsocket(d->pg), .events = POLLIN };
    if (pfd.fd < 0)
        return -1;
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    if (r == 0)
        return 0;
    if (!PQconsumeInput(d->pg))
        return -1;
    while ((n = PQnotifies(d->pg))) {
        PQfreemem(n);
        got = 1;
    }
    return got;
}

#else /* !HAVE_LIBPQ */

int
db_session_set(db_conn *d, const char *sql)
{
    (void)d;
    (void)sql;
    return SQLITE_OK;
}

int
db_open_pg(const char *conninfo, const char *appname, db_conn **out)
{
    (void)conninfo;
    (void)appname;
    *out = xcalloc(1, sizeof **out);
    return SQLITE_MISUSE;
}

int
db_pg_available(void)
{
    return 0;
}

int
db_listen(db_conn *d, const char *channel)
{
    (void)d;
    (void)channel;
    return SQLITE_OK;
}

int
db_notify(db_conn *d, const char *channel)
{
    (void)d;
    (void)channel;
    return SQLITE_OK;
}

int
db_wait(db_conn *d, int timeout_ms)
{
    (void)d;
    (void)timeout_ms;
    return 0;
}

#endif /* HAVE_LIBPQ */

#if HAVE_LIBPQ
#define IS_PG(d) ((d)->pg != NULL)
#define STMT_PG(st) ((st)->pg != NULL)
#else
#define IS_PG(d) 0
#define STMT_PG(st) 0
#endif

int
db_is_pg_name(const char *name)
{
    return name && (!strncmp(name, "postgresql://", 13) || !strncmp(name, "postgres://", 11));
}

int
db_is_pg(const db_conn *d)
{
    return d && IS_PG(d);
}

int
db_open_sqlite(const char *path, int flags, db_conn **out)
{
    db_conn *d = xcalloc(1, sizeof *d);
    int rc = sqlite3_open_v2(path, &d->lite, flags, NULL);
    *out = d;
    if (!d->lite)
        return SQLITE_NOMEM;
    return rc;
}

void
db_close(db_conn *d)
{
    if (!d)
        return;
    if (d->lite)
        sqlite3_close(d->lite);
#if HAVE_LIBPQ
    if (d->pg)
        PQfinish(d->pg);
    free(d->session);
    free(d->listen);
    free(d->errmsg);
#endif
    free(d);
}

sqlite3 *
db_sqlite(db_conn *d)
{
    return d ? d->lite : NULL;
}

int
db_prepare(db_conn *d, const char *sql, int flags, db_stmt **out)
{
    *out = NULL;
#if HAVE_LIBPQ
    if (IS_PG(d))
        return pg_prepare(d, sql, flags, out);
#endif
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v3(d->lite, sql, -1,
                                (flags & DB_PERSISTENT) ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        return rc;
    }
    *out = xcalloc(1, sizeof **out);
    (*out)->lite = s;
    return SQLITE_OK;
}

int
db_step(db_stmt *st)
{
#if HAVE_LIBPQ
    if (STMT_PG(st))
        return pg_step(st->pg);
#endif
    return sqlite3_step(st->lite);
}

void
db_reset(db_stmt *st)
{
    if (!st)
        return;
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        pg_result_clear(st->pg);
        return;
    }
#endif
    sqlite3_reset(st->lite);
}

void
db_clear_bindings(db_stmt *st)
{
    if (!st)
        return;
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        for (int i = 0; i < st->pg->nparams; i++)
            pg_param_clear(&st->pg->params[i]);
        return;
    }
#endif
    sqlite3_clear_bindings(st->lite);
}

void
db_finalize(db_stmt *st)
{
    if (!st)
        return;
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        struct db_pgstmt *p = st->pg;
        pg_result_clear(p);
        for (int i = 0; i < p->nparams; i++)
            pg_param_clear(&p->params[i]);
        if (p->name[0] && PQstatus(p->d->pg) == CONNECTION_OK &&
            PQtransactionStatus(p->d->pg) != PQTRANS_INERROR) {
            char sql[32];
            snprintf(sql, sizeof sql, "DEALLOCATE %s", p->name);
            PQclear(PQexec(p->d->pg, sql));
        }
        free(p->params);
        free(p->sql);
        free(p);
        free(st);
        return;
    }
#endif
    sqlite3_finalize(st->lite);
    free(st);
}

int
db_bind_int64(db_stmt *st, int i, int64_t v)
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        pgparam *p = pg_param(st, i);
        if (!p)
            return SQLITE_RANGE;
        snprintf(p->num, sizeof p->num, "%lld", (long long)v);
        p->value = p->num;
        return SQLITE_OK;
    }
#endif
    return sqlite3_bind_int64(st->lite, i, v);
}

int
db_bind_int(db_stmt *st, int i, int v)
{
    return db_bind_int64(st, i, v);
}

int
db_bind_null(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st))
        return pg_param(st, i) ? SQLITE_OK : SQLITE_RANGE;
#endif
    return sqlite3_bind_null(st->lite, i);
}

int
db_bind_text(db_stmt *st, int i, const char *text, int n, void (*destructor)(void *))
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        pgparam *p = pg_param(st, i);
        if (!p) {
            if (destructor != SQLITE_STATIC && destructor != SQLITE_TRANSIENT)
                destructor((void *)text);
            return SQLITE_RANGE;
        }
        if (!text)
            return SQLITE_OK;
        if (n >= 0 || destructor == SQLITE_TRANSIENT) {
            /* a copy: PostgreSQL's text values end in a NUL */
            size_t len = n >= 0 ? (size_t)n : strlen(text);
            p->value = xmalloc(len + 1);
            memcpy(p->value, text, len);
            p->value[len] = '\0';
            p->destructor = free;
            if (destructor != SQLITE_STATIC && destructor != SQLITE_TRANSIENT)
                destructor((void *)text);
        } else {
            p->value = (char *)text;
            p->destructor = destructor;
        }
        return SQLITE_OK;
    }
#endif
    return sqlite3_bind_text(st->lite, i, text, n, destructor);
}

int
db_bind_blob(db_stmt *st, int i, const void *data, int64_t n, void (*destructor)(void *))
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        pgparam *p = pg_param(st, i);
        if (!p)
            return SQLITE_RANGE;
        if (n > INT32_MAX)
            return SQLITE_TOOBIG;
        p->value = xmalloc(n ? (size_t)n : 1);
        memcpy(p->value, data, (size_t)n);
        p->len = (int)n;
        p->binary = 1;
        p->destructor = free;
        if (destructor != SQLITE_STATIC && destructor != SQLITE_TRANSIENT)
            destructor((void *)data);
        return SQLITE_OK;
    }
#endif
    return sqlite3_bind_blob64(st->lite, i, data, (sqlite3_uint64)n, destructor);
}

int
db_column_type(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        if (!pg_value(st, i))
            return SQLITE_NULL;
        switch (PQftype(st->pg->res, i)) {
        case OID_BOOL:
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
            return SQLITE_INTEGER;
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC:
            return SQLITE_FLOAT;
        case OID_BYTEA:
            return SQLITE_BLOB;
        default:
            return SQLITE_TEXT;
        }
    }
#endif
    return sqlite3_column_type(st->lite, i);
}

int64_t
db_column_int64(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        const char *v = pg_value(st, i);
        if (!v)
            return 0;
        if (v[0] == 't' && !v[1])
            return 1;
        if (v[0] == 'f' && !v[1])
            return 0;
        return strtoll(v, NULL, 10);
    }
#endif
    return sqlite3_column_int64(st->lite, i);
}

int
db_column_int(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st))
        return (int)db_column_int64(st, i);
#endif
    return sqlite3_column_int(st->lite, i);
}

const unsigned char *
db_column_text(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st))
        return (const unsigned char *)pg_value(st, i);
#endif
    return sqlite3_column_text(st->lite, i);
}

const void *
db_column_blob(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        struct db_pgstmt *p = st->pg;
        const char *v = pg_value(st, i);
        if (!v)
            return NULL;
        free(p->blob);
        p->blob = PQunescapeBytea((const unsigned char *)v, &p->bloblen);
        if (p->blob) {
            /* PQunescapeBytea's memory is PQfreemem's; keep our own copy */
            unsigned char *copy = xmalloc(p->bloblen ? p->bloblen : 1);
            memcpy(copy, p->blob, p->bloblen);
            PQfreemem(p->blob);
            p->blob = copy;
        }
        return p->blob;
    }
#endif
    return sqlite3_column_blob(st->lite, i);
}

int
db_column_bytes(db_stmt *st, int i)
{
#if HAVE_LIBPQ
    if (STMT_PG(st)) {
        struct db_pgstmt *p = st->pg;
        if (!pg_value(st, i))
            return 0;
        if (PQftype(p->res, i) == OID_BYTEA) {
            if (!p->blob)
                db_column_blob(st, i);
            return (int)p->bloblen;
        }
        return PQgetlength(p->res, p->row, i);
    }
#endif
    return sqlite3_column_bytes(st->lite, i);
}

int
db_changes(db_conn *d)
{
#if HAVE_LIBPQ
    if (IS_PG(d))
        return d->changes;
#endif
    return sqlite3_changes(d->lite);
}

int64_t
db_last_insert_rowid(db_conn *d)
{
#if HAVE_LIBPQ
    if (IS_PG(d)) {
        PGresult *res = PQexec(d->pg, "SELECT lastval()");
        int64_t id = 0;
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return id;
    }
#endif
    return sqlite3_last_insert_rowid(d->lite);
}

int
db_get_autocommit(db_conn *d)
{
#if HAVE_LIBPQ
    if (IS_PG(d))
        return PQtransactionStatus(d->pg) == PQTRANS_IDLE;
#endif
    return sqlite3_get_autocommit(d->lite);
}

int
db_exec(db_conn *d, const char *sql)
{
#if HAVE_LIBPQ
    if (IS_PG(d)) {
        PGresult *res = PQexec(d->pg, sql);
        ExecStatusType s = PQresultStatus(res);
        int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? SQLITE_OK : pg_fail(d, res);
        PQclear(res);
        return rc;
    }
#endif
    return sqlite3_exec(d->lite, sql, NULL, NULL, NULL);
}

const char *
db_errmsg(db_conn *d)
{
#if HAVE_LIBPQ
    if (IS_PG(d) || (d && !d->lite))
        return d->errmsg ? d->errmsg : "no error";
#endif
    return d && d->lite ? sqlite3_errmsg(d->lite) : "out of memory";
}

const char *
db_sqlstate(db_conn *d)
{
#if HAVE_LIBPQ
    if (d && IS_PG(d))
        return d->sqlstate;
#else
    (void)d;
#endif
    return "";
}
