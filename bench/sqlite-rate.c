/*
 * sqlite-rate: how many tasks per second SQLite itself can record on this
 * machine, the limit under osm's own store work (bench/README, "machine
 * limits").
 *
 *     sqlite-rate [-t SECONDS] DB
 *
 * Creates DB afresh (removing DB, DB-wal and DB-shm), with the pragmas
 * the order store sets on every connection (lib/store.c: WAL,
 * synchronous=NORMAL, a 64 MiB page cache, temporary tables in memory,
 * a 256 MiB memory map, foreign keys on), and a table shaped like the
 * store's tasks (a key, an order, a state, a request, a response,
 * times).  Then, for SECONDS (default 2) of wall time, records one
 * "task" per write transaction: BEGIN IMMEDIATE, insert the task
 * pending, update it to completed with its response, COMMIT, with the
 * statements prepared once.  That is the least a task can cost in an
 * SQLite store: one transaction and two statements.  Prints one line:
 *
 *     RATE COUNT SECONDS
 *
 * tasks per second, the tasks recorded and the seconds they took.
 * Exits 2 on a usage error, 74 on an SQLite error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA cache_size = -65536;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA mmap_size = 268435456;"
    "PRAGMA foreign_keys = ON;"
    "CREATE TABLE tasks ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  order_id INTEGER NOT NULL,"
    "  function TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  request TEXT,"
    "  response TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  ended_at INTEGER);"
    "CREATE INDEX tasks_order ON tasks (order_id);"
    "CREATE INDEX tasks_state ON tasks (state, id);";

/* A request of the size the bench hooks get (the bench order and the task). */
static const char request[] =
    "{\"request\":{\"order\":{\"externalId\":\"BENCH-1\",\"category\":\"bench\",\"priority\":5,"
    "\"customer\":\"CUST-1\",\"items\":[{\"id\":\"1\",\"action\":\"add\",\"spec\":\"BENCH-LINE\","
    "\"bandwidth\":100}]},\"task\":{\"id\":1,\"function\":\"activate\",\"system\":\"activation\"}},"
    "\"order\":{\"id\":1,\"externalId\":\"BENCH-1\"},\"mode\":\"do\",\"attempt\":1,"
    "\"idempotencyKey\":\"1-1-1\"}";

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite-rate: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 74;
}

/* Run st to completion and reset it; SQLITE_DONE on success. */
static int
run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

int
main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *begin = NULL, *insert = NULL, *update = NULL, *commit = NULL;
    double seconds = 2;
    long count = 0;
    char *end;
    int c;

    while ((c = getopt(argc, argv, "t:")) != -1) {
        if (c != 't')
            goto usage;
        seconds = strtod(optarg, &end);
        if (*end || !(seconds > 0 && seconds <= 3600))
            goto usage;
    }
    if (optind != argc - 1)
        goto usage;

    const char *path = argv[optind];
    size_t n = strlen(path) + 5;
    char *side = malloc(n);
    if (!side)
        return fail(NULL, path);
    unlink(path);
    snprintf(side, n, "%s-wal", path);
    unlink(side);
    snprintf(side, n, "%s-shm", path);
    unlink(side);
    free(side);

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        return fail(db, path);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "schema");
    if (sqlite3_prepare_v3(db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &begin, NULL) ||
        sqlite3_prepare_v3(db,
                           "INSERT INTO tasks (order_id, function, request, created_at, updated_at)"
                           " VALUES (?1, 'activate', ?2, ?3, ?3)",
                           -1, SQLITE_PREPARE_PERSISTENT, &insert, NULL) ||
        sqlite3_prepare_v3(db,
                           "UPDATE tasks SET state = 'completed', attempts = attempts + 1,"
                           " response = '{\"status\":\"completed\"}', updated_at = ?2,"
                           " ended_at = ?2 WHERE id = ?1",
                           -1, SQLITE_PREPARE_PERSISTENT, &update, NULL) ||
        sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, NULL))
        return fail(db, "prepare");

    double start = now_s(), stop = start + seconds, t = start;
    while (t < stop) {
        sqlite3_int64 ms = (sqlite3_int64)(t * 1000);
        if (run(begin) != SQLITE_DONE)
            return fail(db, "BEGIN");
        sqlite3_bind_int64(insert, 1, count / 6 + 1);
        sqlite3_bind_text(insert, 2, request, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 3, ms);
        if (run(insert) != SQLITE_DONE)
            return fail(db, "INSERT");
        sqlite3_bind_int64(update, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_int64(update, 2, ms);
        if (run(update) != SQLITE_DONE)
            return fail(db, "UPDATE");
        if (run(commit) != SQLITE_DONE)
            return fail(db, "COMMIT");
        count++;
        t = now_s();
    }
    double took = t - start;

    sqlite3_finalize(begin);
    sqlite3_finalize(insert);
    sqlite3_finalize(update);
    sqlite3_finalize(commit);
    if (sqlite3_close(db) != SQLITE_OK)
        return fail(db, "close");
    printf("%.1f %ld %.3f\n", (double)count / took, count, took);
    return 0;

usage:
    fputs("usage: sqlite-rate [-t SECONDS] DB\n", stderr);
    return 2;
}
