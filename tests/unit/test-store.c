/*
 * Unit tests for lib/store*.c: opening, migrating and refusing stores,
 * transactions and the busy timeout, cartridge storage, events, and the
 * schema's own constraints.  Each test looks at what the store file
 * really holds, through a second raw SQLite connection.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>
#include <sqlite3.h>

#include "diag.h"
#include "store-int.h"
#include "store.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/osm-test-store-XXXXXX";

/* A path in the test directory (caller frees). */
static char *
tpath(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

static sqlite3 *
raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        tap_diag("raw open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return db;
}

static int
raw_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) & 0xff;
}

/* The integer the query returns, -999 on any error or no row. */
static int64_t
raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -999;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        tap_diag("prepare %s: %s", sql, sqlite3_errmsg(db));
        return v;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The text the query returns, in a static buffer ("" on error). */
static const char *
raw_text(sqlite3 *db, const char *sql)
{
    static char buf[4096];
    sqlite3_stmt *st;

    buf[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        tap_diag("prepare %s: %s", sql, sqlite3_errmsg(db));
        return buf;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

/* The whole file at path (caller frees), *len its size; NULL if unreadable. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_add(&sb, buf, n);
    fclose(f);
    return sb_detach(&sb, len);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
sha_of(char c)
{
    static char sha[65];
    memset(sha, c, 64);
    sha[64] = '\0';
    return sha;
}

/* Deploy name@version with archive bytes (sha256 faked from sha_char). */
static int
put(store *s, const char *name, const char *version, char sha_char, const char *bytes,
    int *created, osm_err *err)
{
    store_cartridge c = { 0 };
    int rc;

    c.name = (char *)name;
    c.version = (char *)version;
    c.sha256 = (char *)sha_of(sha_char);
    c.manifest = (char *)"{\"name\":\"x\"}";
    c.archive = (void *)bytes;
    c.archive_len = strlen(bytes);
    c.deployed_at = 1700000000000;
    if ((rc = store_begin(s, err)))
        return rc;
    rc = store_cartridge_put(s, &c, created, err);
    if (rc)
        store_rollback(s);
    else
        rc = store_commit(s, err);
    return rc;
}

static void
test_create_and_reopen(void)
{
    char *path = tpath("new.db");
    store_opts o = { .create = 1 };
    osm_err err = { 0 };
    store *s = NULL;
    sqlite3 *db;
    struct stat sb;
    mode_t old = umask(027);

    is_int(store_open(path, &o, &s, &err), 0, "create a new store");
    umask(old);
    ok(s != NULL, "handle returned");
    if (stat(path, &sb) != 0)
        sb.st_mode = 0;
    ok((sb.st_mode & 0777) == 0640, "file created with the caller's umask (mode %o)",
       (unsigned)(sb.st_mode & 0777));
    db = store_sqlite(s);
    is_int(raw_int(db, "PRAGMA foreign_keys"), 1, "foreign keys on");
    is_int(raw_int(db, "PRAGMA synchronous"), 1, "synchronous NORMAL");
    is_int(raw_int(db, "PRAGMA busy_timeout"), 5000, "default busy timeout 5 s");
    store_close(s);

    db = raw_open(path);
    is_int(raw_int(db, "PRAGMA user_version"), store_schema_version(), "user_version set");
    is_int(store_schema_version(), 5, "schema version 5");
    is_int(raw_int(db, "PRAGMA application_id"), 0x4f534d31, "application_id set");
    is_str(raw_text(db, "PRAGMA journal_mode"), "wal", "WAL mode");
    is_int(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
                       " ('cartridges', 'cartridge_defaults', 'orders', 'order_versions',"
                       " 'order_items', 'tasks', 'task_deps', 'responses', 'events',"
                       " 'outbox', 'workgroups', 'workgroup_members')"), 12,
           "every table created");
    sqlite3_close(db);

    o = (store_opts){ .busy_timeout_ms = 250, .synchronous_full = 1 };
    is_int(store_open(path, &o, &s, &err), 0, "reopen without create");
    db = store_sqlite(s);
    is_int(raw_int(db, "PRAGMA synchronous"), 2, "synchronous FULL on request");
    is_int(raw_int(db, "PRAGMA busy_timeout"), 250, "busy timeout as asked");
    is_int(raw_int(db, "PRAGMA user_version"), store_schema_version(), "still the latest version");
    store_close(s);

    /* kept for readers who could not create them */
    char *side = xasprintf("%s-wal", path);
    ok(access(side, F_OK) == 0, "the -wal file outlives the last connection");
    free(side);
    side = xasprintf("%s-shm", path);
    ok(access(side, F_OK) == 0, "the -shm file outlives the last connection");
    free(side);

    o = (store_opts){ .readonly = 1 };
    is_int(store_open(path, &o, &s, &err), 0, "open read-only");
    jv list = jv_invalid();
    is_int(store_cartridge_list(s, &list, &err), 0, "read-only list works");
    is_int(jv_array_length(list), 0, "empty store lists nothing");
    store_close(s);
    free(path);
}

static void
test_refusals(void)
{
    char *path = tpath("missing.db"), *want;
    store_opts o = { .create = 1 };
    osm_err err = { 0 };
    store *s = (store *)&err;
    size_t len0, len1;
    char *before, *after;
    sqlite3 *db;

    is_int(store_open(path, NULL, &s, &err), OSM_ENOINPUT, "missing store: 66");
    want = xasprintf("%s: no such order store", path);
    is_str(err.msg, want, "missing store: message");
    ok(s == NULL, "missing store: no handle");
    ok(access(path, F_OK) != 0, "missing store: not created");
    free(want);
    o.readonly = 1;
    is_int(store_open(path, &o, &s, &err), OSM_ENOINPUT, "read-only never creates");
    free(path);

    path = tpath("garbage.db");
    write_file(path, "this is not a database, just some text that is long enough "
                     "to have a header, and then some more text to be sure of it.\n");
    is_int(store_open(path, NULL, &s, &err), OSM_EIO, "garbage file: 74");
    want = xasprintf("%s: not an osm order store (file is not a database)", path);
    is_str(err.msg, want, "garbage file: message");
    free(want);
    o = (store_opts){ .create = 1 };
    is_int(store_open(path, &o, &s, &err), OSM_EIO, "garbage file with create: 74 too");
    free(path);

    path = tpath("foreign.db");
    db = NULL;
    sqlite3_open(path, &db);
    raw_exec(db, "CREATE TABLE t (x)");
    sqlite3_close(db);
    is_int(store_open(path, &o, &s, &err), OSM_EIO, "another program's database: 74");
    ok(strstr(err.msg, "not an osm order store") != NULL, "foreign database: message (%s)",
       err.msg);
    free(path);

    path = tpath("empty.db");
    write_file(path, "");
    o.readonly = 1;
    is_int(store_open(path, &o, &s, &err), OSM_ENOINPUT, "an empty file read-only: 66");
    want = xasprintf("%s: no such order store (the file is empty)", path);
    is_str(err.msg, want, "an empty file read-only: message");
    free(want);
    before = slurp(path, &len0);
    ok(before && len0 == 0, "an empty file read-only: left empty");
    free(before);
    o.readonly = 0;
    is_int(store_open(path, NULL, &s, &err), 0, "an empty file becomes a store");
    store_close(s);
    free(path);

    path = tpath("dir.db");
    mkdir(path, 0700);
    is_int(store_open(path, &o, &s, &err), OSM_EIO, "a directory: 74");
    free(path);

    path = tpath("newer.db");
    is_int(store_open(path, &o, &s, &err), 0, "create store for the newer test");
    store_close(s);
    db = raw_open(path);
    raw_exec(db, "PRAGMA user_version = 99");
    sqlite3_close(db);
    before = slurp(path, &len0);
    is_int(store_open(path, NULL, &s, &err), OSM_ECONFIG, "newer store: 78");
    want = xasprintf("%s: order store version 99 is newer than this program supports (%d)", path,
                     store_schema_version());
    is_str(err.msg, want, "newer store: message");
    free(want);
    after = slurp(path, &len1);
    ok(before && after && len0 == len1 && memcmp(before, after, len0) == 0,
       "newer store: file untouched");
    free(before);
    free(after);
    free(path);
}

/* Several processes race to create and migrate the same new store. */
static void
test_concurrent_migration(void)
{
    char *path = tpath("race.db");
    int gate[2], good = 0;
    enum { N = 6 };
    pid_t pid[N];
    sqlite3 *db;

    if (pipe(gate) != 0) {
        ok(0, "pipe");
        return;
    }
    fflush(stdout);
    for (int i = 0; i < N; i++) {
        pid[i] = fork();
        if (pid[i] == 0) {
            store_opts o = { .create = 1 };
            osm_err err = { 0 };
            store *s;
            char c;
            int rc;

            close(gate[1]);
            if (read(gate[0], &c, 1) < 0)
                _exit(100);
            rc = store_open(path, &o, &s, &err);
            if (rc == 0) {
                rc = store_begin(s, &err);
                if (rc == 0)
                    rc = store_commit(s, &err);
                store_close(s);
            }
            if (rc)
                fprintf(stderr, "child %d: %s\n", i, err.msg);
            _exit(rc);
        }
    }
    close(gate[0]);
    close(gate[1]);  /* opens the gate for all at once */
    for (int i = 0; i < N; i++) {
        int status;
        if (pid[i] > 0 && waitpid(pid[i], &status, 0) == pid[i] &&
            WIFEXITED(status) && WEXITSTATUS(status) == 0)
            good++;
        else
            tap_diag("child %d: wait status %#x", i, pid[i] > 0 ? status : -1);
    }
    is_int(good, N, "%d processes opening one new store at once all succeed", N);
    db = raw_open(path);
    is_int(raw_int(db, "PRAGMA user_version"), store_schema_version(), "migrated once to the latest version");
    is_int(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'tasks'"), 1,
           "schema present once");
    sqlite3_close(db);
    free(path);
}

static void
test_busy(void)
{
    char *path = tpath("busy.db");
    store_opts o = { .create = 1, .busy_timeout_ms = 100 };
    osm_err err = { 0 };
    store *a, *b;
    double t0, dt;

    if (store_open(path, &o, &a, &err) || store_open(path, &o, &b, &err)) {
        ok(0, "open two handles: %s", err.msg);
        free(path);
        return;
    }
    is_int(store_begin(a, &err), 0, "first handle takes the write lock");
    is_int(store_begin(a, &err), OSM_ESOFTWARE, "transactions do not nest");
    t0 = now_s();
    is_int(store_begin(b, &err), OSM_ETEMPFAIL, "second handle: busy, 75");
    dt = now_s() - t0;
    is_str(err.msg, "order store busy: try again", "busy: message");
    ok(dt >= 0.08 && dt < 1.0, "busy after about the timeout (%.3f s)", dt);
    store_rollback(a);
    is_int(store_begin(b, &err), 0, "free again after rollback");
    is_int(store_commit(b, &err), 0, "commit");
    is_int(store_commit(b, &err), OSM_ESOFTWARE, "commit without transaction: 70");
    store_rollback(b);  /* harmless */
    store_close(a);
    store_close(b);
    free(path);
}

static void
test_cartridges(void)
{
    char *path = tpath("cart.db");
    store_opts o = { .create = 1 };
    osm_err err = { 0 };
    store_cartridge c = { 0 };
    int created = -1;
    int64_t n = -1;
    store *s;
    sqlite3 *db;
    jv list, e;

    if (store_open(path, &o, &s, &err)) {
        ok(0, "open: %s", err.msg);
        free(path);
        return;
    }
    db = raw_open(path);

    is_int(put(s, "bb", "1.2.0", 'a', "archive-1.2.0", &created, &err), 0, "put bb@1.2.0");
    is_int(created, 1, "created");
    is_int(put(s, "bb", "1.10.0", 'b', "archive-1.10.0", &created, &err), 0, "put bb@1.10.0");
    is_int(put(s, "bb", "1.10.0-rc1", 'c', "archive-rc1", &created, &err), 0,
           "put bb@1.10.0-rc1");
    is_int(put(s, "bb", "1.10.0", 'b', "archive-1.10.0", &created, &err), 0,
           "identical re-put is fine");
    is_int(created, 0, "identical re-put is a no-op");
    is_int(raw_int(db, "SELECT count(*) FROM cartridges"), 3, "three rows");
    is_int(put(s, "bb", "1.10.0", 'd', "other bytes", &created, &err), OSM_ECONFIG,
           "different bytes refused: 78");
    is_str(err.msg, "cartridge bb@1.10.0 is already deployed with different contents "
                    "(sha256 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);"
                    " deploy a new version", "different bytes: message");
    is_str(raw_text(db, "SELECT archive FROM cartridges WHERE version = '1.10.0'"),
           "archive-1.10.0", "original bytes kept");

    static const char *const bad[] = {
        "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.02.3", "1.2.3-", "1.2.3-01", "1.2.3-a..b",
        "1.2.3+", "1.2.3-rc_1", "1.2.3 ", "", "1.2.-3", "1234567890123456789.0.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = put(s, "bb", bad[i], 'e', "x", &created, &err);
        if (i == 0)
            is_str(err.msg, "cartridge bb: version \"1.2\" is not a semantic version "
                            "(MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])", "non-semver: message");
        is_int(rc, OSM_ECONFIG, "non-semver \"%s\" refused: 78", bad[i]);
    }
    is_int(raw_int(db, "SELECT count(*) FROM cartridges"), 3, "nothing stored by refusals");

    {
        store_cartridge x = { 0 };
        x.name = (char *)"bb";
        x.version = (char *)"9.9.9";
        x.sha256 = (char *)sha_of('f');
        x.manifest = (char *)"{}";
        x.archive = (void *)"z";
        x.archive_len = 1;
        is_int(store_cartridge_put(s, &x, &created, &err), OSM_ESOFTWARE,
               "put outside a transaction: 70");
    }

    is_int(store_cartridge_get(s, "bb", NULL, 0, &c, &err), 0, "get default");
    is_str(c.version, "1.10.0", "default is the highest semver (1.10.0 > 1.10.0-rc1 > 1.2.0)");
    ok(c.is_default && !c.undeployed, "flagged default, deployed");
    ok(c.archive == NULL && c.archive_len == 0, "no archive unless asked");
    is_str(c.sha256, sha_of('b'), "sha256");
    is_str(c.manifest, "{\"name\":\"x\"}", "manifest");
    is_int(c.deployed_at, 1700000000000, "deployed_at");
    store_cartridge_free(&c);
    is_int(store_cartridge_get(s, "bb", "1.2.0", STORE_CARTRIDGE_ARCHIVE, &c, &err), 0,
           "get bb@1.2.0 with archive");
    ok(c.archive_len == 13 && memcmp(c.archive, "archive-1.2.0", 13) == 0, "archive bytes");
    ok(!c.is_default, "1.2.0 is not the default");
    store_cartridge_free(&c);
    is_int(store_cartridge_get(s, "bb", "3.0.0", 0, &c, &err), OSM_ENOINPUT,
           "no such version: 66");
    is_str(err.msg, "no such cartridge: bb@3.0.0", "no such version: message");
    is_int(store_cartridge_get(s, "zz", NULL, 0, &c, &err), OSM_ENOINPUT, "no such name: 66");
    is_str(err.msg, "no such cartridge: zz", "no such name: message");

    /* semver precedence, the example list of semver.org */
    static const char *const pre[] = {
        "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
        "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1-a.b", "1.0.1-a-b+build.7", "2.0.0",
    };
    enum { NPRE = sizeof pre / sizeof pre[0] };
    for (int i = NPRE - 1; i >= 0; i -= 2)
        put(s, "pre", pre[i], 'a', pre[i], &created, &err);
    for (int i = NPRE - 2; i >= 0; i -= 2)
        put(s, "pre", pre[i], 'a', pre[i], &created, &err);

    is_int(store_cartridge_list(s, &list, &err), 0, "list");
    is_int(jv_array_length(jv_copy(list)), 3 + NPRE, "every deployed version listed");
    {
        strbuf got = STRBUF_INIT, want = STRBUF_INIT;
        jv_array_foreach(list, i, item) {
            jv name = jv_object_get(jv_copy(item), jv_string("name"));
            jv version = jv_object_get(item, jv_string("version"));
            sb_addf(&got, "%s@%s ", jv_string_value(name), jv_string_value(version));
            jv_free(name);
            jv_free(version);
        }
        sb_adds(&want, "bb@1.10.0 bb@1.10.0-rc1 bb@1.2.0 ");
        for (int i = NPRE - 1; i >= 0; i--)
            sb_addf(&want, "pre@%s ", pre[i]);
        is_str(got.buf, want.buf, "by name, then newest semver first");
        sb_free(&got);
        sb_free(&want);
    }
    e = jv_array_get(jv_copy(list), 0);
    {
        jv d = jv_dump_string(e, 0);
        is_str(jv_string_value(d),
               "{\"name\":\"bb\",\"version\":\"1.10.0\",\"sha256\":\""
               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
               "\",\"deployedAt\":1700000000000,"
               "\"default\":true,\"openOrders\":0}", "list entry");
        jv_free(d);
    }
    jv_free(list);

    /* explicit default */
    is_int(store_cartridge_set_default(s, "bb", "1.2.0", &err), 0, "set default bb@1.2.0");
    is_int(store_cartridge_get(s, "bb", NULL, 0, &c, &err), 0, "get default");
    is_str(c.version, "1.2.0", "explicit default wins over newest");
    store_cartridge_free(&c);
    is_int(store_cartridge_get(s, "bb", "1.10.0", 0, &c, &err), 0, "get bb@1.10.0");
    ok(!c.is_default, "1.10.0 no longer the default");
    store_cartridge_free(&c);
    is_int(store_cartridge_set_default(s, "bb", "7.0.0", &err), OSM_ENOINPUT,
           "default of an undeployed version: 66");
    is_str(err.msg, "no such cartridge: bb@7.0.0", "default: message");

    /* remove with no orders: the row goes, and the default with it */
    is_int(store_cartridge_remove(s, "bb", "1.2.0", &err), OSM_ESOFTWARE,
           "remove outside a transaction: 70");
    store_begin(s, &err);
    is_int(store_cartridge_remove(s, "bb", "1.2.0", &err), 0, "remove bb@1.2.0");
    is_int(store_commit(s, &err), 0, "commit");
    is_int(raw_int(db, "SELECT count(*) FROM cartridges WHERE version = '1.2.0'"), 0,
           "row deleted (no orders refer to it)");
    is_int(raw_int(db, "SELECT count(*) FROM cartridge_defaults"), 0, "default row dropped");
    is_int(store_cartridge_get(s, "bb", NULL, 0, &c, &err), 0, "get default");
    is_str(c.version, "1.10.0", "back to the newest");
    store_cartridge_free(&c);
    store_begin(s, &err);
    is_int(store_cartridge_remove(s, "bb", "1.2.0", &err), OSM_ENOINPUT, "remove again: 66");
    is_str(err.msg, "no such cartridge: bb@1.2.0", "remove again: message");
    store_rollback(s);

    /* orders: two of 1.10.0 (one open, one ended), one of the rc */
    is_int(raw_exec(db, "INSERT INTO orders (id, cartridge, cartridge_version, order_type,"
                        " state, original, body, created_at, updated_at) VALUES"
                        " (10, 'bb', '1.10.0', 't', 'in_progress', '{}', '{}', 1, 1),"
                        " (11, 'bb', '1.10.0', 't', 'completed', '{}', '{}', 1, 1),"
                        " (12, 'bb', '1.10.0-rc1', 't', 'not_started', '{}', '{}', 1, 1)"),
           SQLITE_OK, "insert test orders");
    is_int(raw_exec(db, "INSERT INTO tasks (id, order_id, plan_revision, function, group_key,"
                        " kind, state, lease_owner, lease_expires, created_at, updated_at)"
                        " VALUES (100, 10, 1, 'f', 'order', 'automated', 'running', 'w1', 5, 1, 1),"
                        " (101, 10, 1, 'g', 'order', 'automated', 'completed', NULL, NULL, 1, 1)"),
           SQLITE_OK, "insert test tasks");
    is_int(store_cartridge_open_orders(s, "bb", "1.10.0", &n, &err), 0, "open orders");
    is_int(n, 1, "one open order of 1.10.0");
    store_cartridge_open_orders(s, "bb", "1.10.0-rc1", &n, &err);
    is_int(n, 1, "one open order of 1.10.0-rc1");
    store_cartridge_open_orders(s, "nope", "1.0.0", &n, &err);
    is_int(n, 0, "none of an unknown cartridge");
    store_cartridge_list(s, &list, &err);
    e = jv_object_get(jv_array_get(list, 0), jv_string("openOrders"));
    is_int(jv_number_value(e), 1, "list counts open orders");
    jv_free(e);

    store_begin(s, &err);
    is_int(store_cartridge_remove(s, "bb", "1.10.0", &err), OSM_NEGATIVE,
           "remove with open orders refused: 1");
    is_str(err.msg, "cartridge bb@1.10.0 has 1 open order", "open orders: message");
    n = -1;
    is_int(store_cartridge_abort_orders(s, "bb", "1.10.0", "alice", "undeployed",
                                        1700000001000, &n, &err), 0, "abort its orders");
    is_int(n, 1, "one order aborted");
    is_int(store_cartridge_remove(s, "bb", "1.10.0", &err), 0, "now remove works");
    is_int(store_commit(s, &err), 0, "commit");
    is_str(raw_text(db, "SELECT state || ' ' || ended_at || ' ' || state_reason"
                        " FROM orders WHERE id = 10"),
           "aborted 1700000001000 undeployed", "open order aborted");
    is_str(raw_text(db, "SELECT state FROM orders WHERE id = 11"), "completed",
           "ended order untouched");
    is_str(raw_text(db, "SELECT state FROM orders WHERE id = 12"), "not_started",
           "other version's order untouched");
    is_str(raw_text(db, "SELECT state || ' ' || ifnull(lease_owner, '-') FROM tasks"
                        " WHERE id = 100"), "cancelled -", "running task cancelled, lease gone");
    is_str(raw_text(db, "SELECT state FROM tasks WHERE id = 101"), "completed",
           "completed task untouched");
    is_str(raw_text(db, "SELECT order_id || ' ' || ifnull(task_id, '-') || ' ' || at || ' '"
                        " || type || ' ' || actor || ' ' || data FROM events"),
           "10 - 1700000001000 order.state alice "
           "{\"from\":\"in_progress\",\"to\":\"aborted\",\"reason\":\"undeployed\"}",
           "event written");
    is_str(raw_text(db, "SELECT status FROM cartridges WHERE version = '1.10.0'"),
           "undeployed", "version with ended orders kept as undeployed");
    is_int(raw_int(db, "SELECT length(archive) FROM cartridges WHERE version = '1.10.0'"), 14,
           "its archive kept");
    is_int(store_cartridge_get(s, "bb", "1.10.0", 0, &c, &err), OSM_ENOINPUT,
           "undeployed version hidden from get");
    is_int(store_cartridge_get(s, "bb", "1.10.0", STORE_CARTRIDGE_UNDEPLOYED, &c, &err), 0,
           "found when asked for");
    ok(c.undeployed && !c.is_default, "flagged undeployed");
    store_cartridge_free(&c);
    is_int(store_cartridge_get(s, "bb", NULL, 0, &c, &err), 0, "get default");
    is_str(c.version, "1.10.0-rc1", "default skips the undeployed version");
    store_cartridge_free(&c);
    store_cartridge_list(s, &list, &err);
    e = jv_object_get(jv_array_get(list, 0), jv_string("version"));
    is_str(jv_string_value(e), "1.10.0-rc1", "list skips the undeployed version");
    jv_free(e);
    is_int(put(s, "bb", "1.10.0", 'd', "other bytes", &created, &err), OSM_ECONFIG,
           "other bytes for an undeployed version still refused");
    is_int(put(s, "bb", "1.10.0", 'b', "archive-1.10.0", &created, &err), 0,
           "same bytes re-deploy it");
    is_int(created, 1, "counted as deployed");
    is_str(raw_text(db, "SELECT status FROM cartridges WHERE version = '1.10.0'"),
           "deployed", "status deployed again");

    store_begin(s, &err);
    n = -1;
    is_int(store_cartridge_abort_orders(s, "bb", "1.10.0", "alice", "x", 1, &n, &err), 0,
           "abort with nothing open");
    is_int(n, 0, "aborts nothing");
    store_rollback(s);

    /* a failing abort changes nothing: the second order's event fails */
    raw_exec(db, "INSERT INTO orders (id, cartridge, cartridge_version, order_type, state,"
                 " original, body, created_at, updated_at) VALUES"
                 " (20, 'bb', '1.10.0', 't', 'in_progress', '{}', '{}', 1, 1),"
                 " (21, 'bb', '1.10.0', 't', 'suspended', '{}', '{}', 1, 1);"
                 " CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.order_id = 21"
                 " BEGIN SELECT RAISE(ABORT, 'boom'); END;");
    store_begin(s, &err);
    is_int(store_event_add(s, 0, 0, "mark", "alice", jv_null(), 5, NULL, &err), 0,
           "other work in the transaction");
    n = -1;
    is_int(store_cartridge_abort_orders(s, "bb", "1.10.0", "alice", "x", 1, &n, &err),
           OSM_ESOFTWARE, "abort failing halfway: 70");
    is_int(n, -1, "count untouched on error");
    is_int(store_commit(s, &err), 0, "the caller can still commit its other work");
    is_str(raw_text(db, "SELECT group_concat(state, ' ') FROM orders WHERE id IN (20, 21)"),
           "in_progress suspended", "no order aborted");
    is_int(raw_int(db, "SELECT count(*) FROM events WHERE order_id = 20"), 0,
           "no event of the partial abort");
    is_int(raw_int(db, "SELECT count(*) FROM events WHERE type = 'mark'"), 1,
           "the other work committed");

    sqlite3_close(db);
    store_close(s);
    free(path);
}

static void
test_events_and_schema(void)
{
    char *path = tpath("schema.db");
    store_opts o = { .create = 1 };
    osm_err err = { 0 };
    int64_t id1 = 0, id2 = 0;
    store *s;
    sqlite3 *db;
    int created;

    if (store_open(path, &o, &s, &err)) {
        ok(0, "open: %s", err.msg);
        free(path);
        return;
    }
    db = raw_open(path);
    put(s, "c", "1.0.0", 'a', "bytes", &created, &err);
    raw_exec(db, "INSERT INTO orders (id, cartridge, cartridge_version, order_type, original,"
                 " body, created_at, updated_at) VALUES (1, 'c', '1.0.0', 't', '{}', '{}', 1, 1)");

    is_int(store_event_add(s, 0, 0, "cartridge.deploy", "bob",
                           jv_parse("{\"name\":\"c\"}"), 42, &id1, &err), 0,
           "store-wide event outside a transaction");
    store_begin(s, &err);
    is_int(store_event_add(s, 1, 0, "order.note", "bob", jv_null(), 43, &id2, &err), 0,
           "order event");
    store_commit(s, &err);
    ok(id1 > 0 && id2 > id1, "event ids grow (%lld, %lld)", (long long)id1, (long long)id2);
    is_str(raw_text(db, "SELECT ifnull(order_id, '-') || ' ' || type || ' ' || data"
                        " FROM events ORDER BY id LIMIT 1"),
           "- cartridge.deploy {\"name\":\"c\"}", "store-wide event stored");
    is_int(store_event_add(s, 999, 0, "x", "bob", jv_null(), 1, NULL, &err), OSM_ESOFTWARE,
           "event of a missing order: constraint, 70");
    is_int(store_event_add(s, 1, 0, "x", "bob", jv_invalid(), 1, NULL, &err), OSM_ESOFTWARE,
           "invalid data refused");
    is_int(store_event_add(s, 1, 0, "", "bob", jv_null(), 1, NULL, &err), OSM_ESOFTWARE,
           "empty type refused");

    is_int(raw_exec(db, "UPDATE orders SET state = 'bogus' WHERE id = 1"), SQLITE_CONSTRAINT,
           "CHECK refuses a bad order state");
    is_int(raw_exec(db, "UPDATE orders SET priority = 10 WHERE id = 1"), SQLITE_CONSTRAINT,
           "CHECK refuses priority 10");
    is_int(raw_exec(db, "INSERT INTO tasks (order_id, plan_revision, function, group_key, kind,"
                        " state, created_at, updated_at)"
                        " VALUES (1, 1, 'f', 'order', 'automated', 'done', 1, 1)"),
           SQLITE_CONSTRAINT, "CHECK refuses a bad task state");
    is_int(raw_exec(db, "INSERT INTO tasks (order_id, plan_revision, function, group_key, kind,"
                        " created_at, updated_at) VALUES (1, 1, 'f', 'order', 'robot', 1, 1)"),
           SQLITE_CONSTRAINT, "CHECK refuses a bad task kind");
    is_int(raw_exec(db, "INSERT INTO orders (cartridge, cartridge_version, order_type, original,"
                        " body, created_at, updated_at)"
                        " VALUES ('c', '9.0.0', 't', '{}', '{}', 1, 1)"),
           SQLITE_CONSTRAINT, "an order needs its cartridge version");
    is_int(raw_exec(db, "INSERT INTO orders (external_id, cartridge, cartridge_version,"
                        " order_type, original, body, created_at, updated_at) VALUES"
                        " ('K1', 'c', '1.0.0', 't', '{}', '{}', 1, 1),"
                        " ('K1', 'c', '1.0.0', 't', '{}', '{}', 1, 1)"),
           SQLITE_CONSTRAINT, "external id unique per cartridge");
    is_int(raw_exec(db, "DELETE FROM cartridges"), SQLITE_CONSTRAINT,
           "a cartridge with orders cannot be deleted");
    is_int(raw_exec(db, "INSERT INTO tasks (id, order_id, plan_revision, function, group_key,"
                        " kind, correlation_id, created_at, updated_at) VALUES"
                        " (7, 1, 1, 'f', 'order', 'automated', 'corr-1', 1, 1),"
                        " (8, 1, 1, 'g', 'order', 'automated', NULL, 1, 1);"
                        " INSERT INTO task_deps (task_id, depends_on) VALUES (8, 7);"
                        " INSERT INTO order_items (order_id, item_id, action, data, updated_at)"
                        " VALUES (1, 'i1', 'add', '{}', 1);"
                        " INSERT INTO events (order_id, task_id, at, type, actor)"
                        " VALUES (1, 7, 1, 't', 'bob')"), SQLITE_OK, "children of an order");
    is_int(raw_exec(db, "INSERT INTO tasks (order_id, plan_revision, function, group_key, kind,"
                        " correlation_id, created_at, updated_at)"
                        " VALUES (1, 1, 'h', 'order', 'automated', 'corr-1', 1, 1)"),
           SQLITE_CONSTRAINT, "correlation ids unique");
    is_int(raw_exec(db, "DELETE FROM orders WHERE id = 1"), SQLITE_OK, "delete the order");
    is_int(raw_int(db, "SELECT (SELECT count(*) FROM tasks) + (SELECT count(*) FROM task_deps)"
                       " + (SELECT count(*) FROM order_items)"
                       " + (SELECT count(*) FROM events WHERE order_id IS NOT NULL)"), 0,
           "its children went with it");
    is_int(raw_int(db, "SELECT count(*) FROM events"), 1, "store-wide event stays");

    sqlite3_close(db);
    store_close(s);
    free(path);
}

/* Rollback really discards, and the statement cache survives it. */
static void
test_rollback(void)
{
    char *path = tpath("rollback.db");
    store_opts o = { .create = 1 };
    osm_err err = { 0 };
    store_cartridge c = { 0 };
    store *s;
    int created;

    if (store_open(path, &o, &s, &err)) {
        ok(0, "open: %s", err.msg);
        free(path);
        return;
    }
    store_begin(s, &err);
    {
        store_cartridge x = { 0 };
        x.name = (char *)"r";
        x.version = (char *)"1.0.0";
        x.sha256 = (char *)sha_of('1');
        x.manifest = (char *)"{}";
        x.archive = (void *)"a";
        x.archive_len = 1;
        is_int(store_cartridge_put(s, &x, &created, &err), 0, "put in a transaction");
    }
    store_rollback(s);
    is_int(store_cartridge_get(s, "r", NULL, 0, &c, &err), OSM_ENOINPUT, "gone after rollback");
    is_int(put(s, "r", "1.0.0", '1', "a", &created, &err), 0, "put again");
    is_int(created, 1, "created this time");
    store_close(s);
    store_close(NULL);
    free(path);
}

static void
cleanup(void)
{
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", tmpdir);
    free(cmd);
}

int
main(void)
{
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    test_create_and_reopen();
    test_refusals();
    test_concurrent_migration();
    test_busy();
    test_cartridges();
    test_events_and_schema();
    test_rollback();
    cleanup();
    return done_testing();
}
