/*
 * A lossless copy of the whole order store as a stream of JSON lines
 * (osm-status --export, osm-cartridge import; the line formats are in
 * specs/export.schema.json), so that a store can move to another file or
 * another backend with every id, revision, event and outbox entry as it
 * was.
 *
 * The stream: a header line {"format": "osm-export", "version": 1,
 * "schemaVersion": N}; then every row of every table, one line each,
 * {"table": T, "row": {COLUMN: VALUE, ...}}, tables in an order where a
 * row comes after the rows it refers to and rows by primary key, so that
 * the same store always gives the same bytes; and a trailer line
 * {"counts": {T: N, ...}, "sha256": HEX} holding the rows per table and
 * the SHA-256 of every line before it (newlines included).  Integers are
 * JSON numbers, text is a JSON string of exactly the bytes stored (JSON
 * documents kept in text columns stay strings), NULL is null and the one
 * blob, cartridges.archive, is base64 (RFC 4648, padded).
 *
 * Conventions as in store.h: 0 or an OSM_E* status with err filled in.
 */
#ifndef OSM_STORE_EXPORT_H
#define OSM_STORE_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jv.h>

#include "diag.h"
#include "store.h"

#define STORE_EXPORT_FORMAT "osm-export"
#define STORE_EXPORT_VERSION 1

/* Column types of the stream. */
enum { STORE_EXPORT_INTEGER, STORE_EXPORT_TEXT, STORE_EXPORT_BLOB };

typedef struct store_export_column {
    const char *name;
    int type;                   /* STORE_EXPORT_* */
    int nullable;
} store_export_column;

typedef struct store_export_table {
    const char *name;
    const char *order_by;       /* its primary key, as an ORDER BY list */
    const store_export_column *columns;
    size_t ncolumns;
} store_export_table;

/*
 * The tables of the stream in the order they are written and read back
 * (*n of them): every table of the schema, every column in schema order.
 */
const store_export_table *store_export_tables(size_t *n);

/*
 * Called with each line of the stream (len bytes, the newline included;
 * not NUL-terminated for the caller to keep): returns 0, or a status that
 * stops the export and is returned as it is (the callback says why, err
 * is then left clear).
 */
typedef int (*store_export_fn)(const char *line, size_t len, void *ctx);

/*
 * Write the whole store through out, in one read snapshot (no write is
 * blocked meanwhile).  74 when a value cannot be written losslessly
 * (text that is not UTF-8, a value of another type than its column's),
 * naming the table, column and row.
 */
int store_export(store *s, store_export_fn out, void *ctx, osm_err *err);

/*
 * Load the stream read from in (name is what messages call it) into s,
 * which must hold no cartridges, orders, events or workgroups (73
 * naming what it holds, nothing read), in one transaction, each row with
 * its ids as they were.  65 "NAME:LINE: ..." for a line that is not
 * JSON, a header of another format or schema version, an unknown table or
 * column, a missing column, a value of the wrong type or a row the
 * schema's constraints refuse; 65 "NAME: ..." when the trailer is missing
 * or its counts or digest differ from what was read; 74 when in cannot be
 * read.  On any error nothing is written.  On success *summary is
 * {"imported": {TABLE: ROWS, ...}, "sha256": HEX} (the trailer's digest);
 * on error it is untouched.
 */
int store_import(store *s, FILE *in, const char *name, jv *summary, osm_err *err);

#endif
