/*
 * Unit tests for lib/store-export.c: the export's table list is the
 * schema's (every table, every column, its type and whether it may be
 * NULL), so that a migration that adds one fails here until the export
 * carries it; and values that JSON writers commonly change (control
 * characters, NUL bytes, non-ASCII text, blobs of every length modulo 3,
 * large integers) come back from an export and import byte for byte.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>
#include <sqlite3.h>

#include "diag.h"
#include "store-export.h"
#include "store-int.h"
#include "store.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/osm-test-store-export-XXXXXX";

static store *
new_store(const char *name)
{
    store_opts o = { .create = 1 };
    osm_err err = { 0, "" };
    store *s = NULL;
    char *path = xasprintf("%s/%s", tmpdir, name);
    if (store_open(path, &o, &s, &err) != 0)
        tap_diag("open %s: %s", path, err.msg);
    free(path);
    return s;
}

static const store_export_table *
find_table(const char *name)
{
    size_t n;
    const store_export_table *t = store_export_tables(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

/* The schema's columns of table t against the export's. */
static void
compare_columns(sqlite3 *db, const store_export_table *t)
{
    char *sql = xasprintf("PRAGMA table_info(\"%s\")", t->name);
    sqlite3_stmt *st;
    size_t i = 0;

    sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int nullable = !sqlite3_column_int(st, 3) && !sqlite3_column_int(st, 5);
        int want = strcmp(type, "INTEGER") == 0 ? STORE_EXPORT_INTEGER
                   : strcmp(type, "TEXT") == 0  ? STORE_EXPORT_TEXT
                                                : STORE_EXPORT_BLOB;
        if (i >= t->ncolumns) {
            ok(0, "%s.%s is in the export", t->name, name);
            i++;
            continue;
        }
        is_str(t->columns[i].name, name, "%s: column %zu is %s", t->name, i + 1, name);
        is_int(t->columns[i].type, want, "%s.%s: type %s", t->name, name, type);
        is_int(t->columns[i].nullable, nullable, "%s.%s: %s", t->name, name,
               nullable ? "may be NULL" : "NOT NULL");
        i++;
    }
    is_int(i, t->ncolumns, "%s: as many columns in the schema as in the export", t->name);
    sqlite3_finalize(st);
    free(sql);
}

static void
test_tables_are_the_schemas(void)
{
    store *s = new_store("schema.db");
    sqlite3 *db = store_sqlite(s);
    sqlite3_stmt *st;
    size_t n, seen = 0;

    store_export_tables(&n);
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                       " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const store_export_table *t = find_table(name);
        if (!ok(t != NULL, "table %s is exported", name))
            continue;
        compare_columns(db, t);
        seen++;
    }
    sqlite3_finalize(st);
    is_int(seen, n, "the export names no table the schema lacks");
    store_close(s);
}

static int
collect(const char *line, size_t len, void *ctx)
{
    sb_add(ctx, line, len);
    return 0;
}

static int
export_to(store *s, strbuf *sb, osm_err *err)
{
    sb_reset(sb);
    return store_export(s, collect, sb, err);
}

static int
import_from(store *s, const strbuf *sb, jv *summary, osm_err *err)
{
    FILE *f = fmemopen(sb->buf, sb->len, "r");
    int rc = store_import(s, f, "mem", summary, err);
    fclose(f);
    return rc;
}

static void
test_values_round_trip(void)
{
    store *a = new_store("a.db"), *b = new_store("b.db"), *c = new_store("c.db");
    sqlite3 *db = store_sqlite(a);
    strbuf one = STRBUF_INIT, two = STRBUF_INIT;
    osm_err err = { 0, "" };
    sqlite3_stmt *st;
    jv summary = jv_invalid();
    static const char odd[] = "q\"b\\s/\x01\x1f\x7f\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";

    /* blobs of 0 to 4 bytes (every padding), text with a NUL inside */
    for (int i = 0; i < 5; i++) {
        char *sql = xasprintf("INSERT INTO cartridges (id, name, version, major, minor, patch,"
                              " sha256, manifest, archive, deployed_at) VALUES (?1, 'c%d', '1.0.0',"
                              " 1, 0, 0, '%064d', '{}', ?2, 9007199254740992)", i, 0);
        sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        sqlite3_bind_int(st, 1, i + 1);
        sqlite3_bind_blob(st, 2, "\xff\x00\xfe\x01", i, SQLITE_STATIC);
        is_int(sqlite3_step(st), SQLITE_DONE, "a cartridge with a %d-byte archive", i);
        sqlite3_finalize(st);
        free(sql);
    }
    sqlite3_prepare_v2(db, "INSERT INTO workgroups (name, cartridge, fallout, created_at)"
                       " VALUES (?1, NULL, 1, -5)", -1, &st, NULL);
    sqlite3_bind_text(st, 1, odd, sizeof odd - 1, SQLITE_STATIC);
    is_int(sqlite3_step(st), SQLITE_DONE, "a workgroup with an odd name");
    sqlite3_finalize(st);

    is_int(export_to(a, &one, &err), 0, "export");
    ok(strstr(one.buf, "\"name\":\"q\\\"b\\\\s/\\u0001\\u001f\x7f\\b\\f\\n\\r\\t\xc3\xa9") != NULL,
       "text is escaped as JSON, UTF-8 kept as it is");
    ok(strstr(one.buf, "\"archive\":\"/wD+AQ==\"") != NULL, "the archive is base64");
    is_int(import_from(b, &one, &summary, &err), 0, "import");
    if (err.code)
        tap_diag("%s", err.msg);
    jv_free(summary);
    is_int(export_to(b, &two, &err), 0, "export the copy");
    ok(one.len == two.len && memcmp(one.buf, two.buf, one.len) == 0,
       "the copy exports to the same bytes");

    /* an integer beyond what JSON readers keep exactly is refused, not rounded */
    sqlite3_exec(db, "UPDATE cartridges SET deployed_at = 9007199254740993 WHERE id = 1", NULL,
                 NULL, NULL);
    is_int(export_to(a, &two, &err), OSM_EIO, "an integer past 2^53: 74");
    is_str(err.msg, "cartridges.deployed_at of the row id 1: an integer too large for JSON: "
           "it cannot be exported as it is", "the message names table, column and row");
    osm_err_clear(&err);
    sqlite3_exec(db, "UPDATE cartridges SET deployed_at = 1 WHERE id = 1;"
                 " UPDATE workgroups SET cartridge = CAST(x'c328' AS TEXT)", NULL, NULL, NULL);
    is_int(export_to(a, &two, &err), OSM_EIO, "text that is not UTF-8: 74");
    ok(strstr(err.msg, "workgroups.cartridge of the row name \"q\\\"b\\\\s/\\u0001") != NULL,
       "named: %s", err.msg);
    osm_err_clear(&err);

    /* a blob in non-canonical base64 is refused (it would export differently) */
    char *p = strstr(one.buf, "/wD+AQ==");
    p[5] = 'R';
    is_int(import_from(c, &one, &summary, &err), OSM_EDATA, "non-canonical base64: 65");
    ok(strstr(err.msg, "cartridges.archive: not base64") != NULL, "named: %s", err.msg);

    sb_free(&one);
    sb_free(&two);
    store_close(a);
    store_close(b);
    store_close(c);
}

int
main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_tables_are_the_schemas();
    test_values_round_trip();
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", tmpdir);
    free(cmd);
    return done_testing();
}
