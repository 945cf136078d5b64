/*
 * The store side of export and import (see store-export.h): every table
 * read whole in primary-key order and written as JSON lines, and such a
 * stream checked line by line and inserted with its ids in one
 * transaction.
 *
 * The table list below is the one place that knows the schema's columns;
 * tests/unit/test-store-export.c compares it with the tables and columns
 * of a newly created store, so that a migration cannot add one that the
 * export would silently leave behind.  The SQL is kept to what any SQL
 * database accepts (explicit column lists, quoted names, ?N parameters,
 * no rowid), so that another backend runs it as it is.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#include "json.h"
#include "sha256.h"
#include "store-export.h"
#include "store-int.h"
#include "store-status.h"
#include "xalloc.h"

/* The largest integer a JSON reader that keeps numbers as doubles reads exactly. */
#define JSON_INT_MAX 9007199254740992.0

#define I(n) { n, STORE_EXPORT_INTEGER, 0 }
#define IN(n) { n, STORE_EXPORT_INTEGER, 1 }
#define T(n) { n, STORE_EXPORT_TEXT, 0 }
#define TN(n) { n, STORE_EXPORT_TEXT, 1 }
#define B(n) { n, STORE_EXPORT_BLOB, 0 }

static const store_export_column cartridges_cols[] = {
    I("id"), T("name"), T("version"), I("major"), I("minor"), I("patch"), TN("prerelease"),
    TN("prerelease_key"), T("sha256"), T("manifest"), B("archive"), I("deployed_at"),
    T("status"),
};
static const store_export_column cartridge_defaults_cols[] = {
    T("name"), I("cartridge_id"),
};
static const store_export_column orders_cols[] = {
    I("id"), TN("external_id"), I("revision"), I("plan_revision"), T("cartridge"),
    T("cartridge_version"), T("order_type"), T("state"), TN("resume_state"), TN("state_reason"),
    TN("fulfillment_state"), I("priority"), IN("requested_at"), IN("start_at"),
    IN("expected_at"), I("late_ms"), IN("jeopardy_at"), T("original"), T("body"),
    I("created_at"), I("updated_at"), IN("planned_at"), IN("started_at"), IN("ended_at"),
    I("body_rev"), IN("start_requested_at"),
};
static const store_export_column order_versions_cols[] = {
    I("id"), I("order_id"), I("revision"), I("plan_revision"), T("status"), TN("reason"),
    T("original"), T("body"), TN("plan"), I("received_at"), I("recorded_at"),
};
static const store_export_column order_items_cols[] = {
    I("id"), I("order_id"), T("item_id"), T("action"), TN("spec"), TN("fulfillment_state"),
    IN("requested_at"), T("relies_on"), T("data"), I("updated_at"), IN("start_requested_at"),
};
static const store_export_column tasks_cols[] = {
    I("id"), I("order_id"), I("plan_revision"), T("function"), TN("system"), T("group_key"),
    T("items"), T("kind"), T("mode"), T("state"), IN("compensates"), IN("fallout_of"),
    TN("workgroup"), TN("assignee"), I("attempts"), I("temp_failures"), IN("not_before"),
    IN("deadline_at"), TN("lease_owner"), IN("lease_expires"), I("fencing"),
    TN("correlation_id"), IN("expected_ms"), IN("earliest_start"), IN("latest_start"),
    I("critical"), TN("request"), TN("request_digest"), TN("response"), TN("external_status"),
    TN("error"), IN("jeopardy_at"), I("created_at"), I("updated_at"), IN("started_at"),
    IN("ended_at"), I("deps_open"), I("held"), I("priority"), I("amend"), TN("idem_key"),
    TN("previous_request"),
};
static const store_export_column task_deps_cols[] = {
    I("task_id"), I("depends_on"), IN("delay_ms"), TN("until_jq"), TN("condition_jq"),
    IN("met_at"), TN("why"),
};
static const store_export_column responses_cols[] = {
    I("id"), I("task_id"), TN("correlation_id"), T("actor"), T("body"), I("received_at"),
    IN("applied_at"),
};
static const store_export_column events_cols[] = {
    I("id"), IN("order_id"), IN("task_id"), I("at"), T("type"), T("actor"), T("data"),
};
static const store_export_column outbox_cols[] = {
    I("event_id"), TN("payload"), I("attempts"), I("next_attempt_at"), IN("delivered_at"),
    TN("last_error"),
};
static const store_export_column workgroups_cols[] = {
    T("name"), TN("cartridge"), I("fallout"), I("created_at"),
};
static const store_export_column workgroup_members_cols[] = {
    T("workgroup"), T("user"), I("added_at"), T("added_by"),
};

#define TABLE(name, order_by) \
    { #name, order_by, name##_cols, sizeof name##_cols / sizeof name##_cols[0] }

/* Parents before children: a row never refers to one that comes later. */
static const store_export_table tables[] = {
    TABLE(cartridges, "\"id\""),
    TABLE(cartridge_defaults, "\"name\""),
    TABLE(orders, "\"id\""),
    TABLE(order_versions, "\"id\""),
    TABLE(order_items, "\"id\""),
    TABLE(tasks, "\"id\""),
    TABLE(task_deps, "\"task_id\", \"depends_on\""),
    TABLE(responses, "\"id\""),
    TABLE(events, "\"id\""),
    TABLE(outbox, "\"event_id\""),
    TABLE(workgroups, "\"name\""),
    TABLE(workgroup_members, "\"workgroup\", \"user\""),
};
#define NTABLES (sizeof tables / sizeof tables[0])

/* What an import refuses to load over: anything else refers to one of these. */
static const char SQL_CONTENTS[] =
    "SELECT (SELECT count(*) FROM cartridges), (SELECT count(*) FROM orders),"
    " (SELECT count(*) FROM events), (SELECT count(*) FROM workgroups)";

const store_export_table *
store_export_tables(size_t *n)
{
    *n = NTABLES;
    return tables;
}

/* SELECT every column of t in primary-key order (caller frees). */
static char *
select_sql(const store_export_table *t)
{
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, "SELECT ");
    for (size_t i = 0; i < t->ncolumns; i++)
        sb_addf(&sb, "%s\"%s\"", i ? ", " : "", t->columns[i].name);
    sb_addf(&sb, " FROM \"%s\" ORDER BY %s", t->name, t->order_by);
    return sb_detach(&sb, NULL);
}

/* INSERT of every column of t, ?1 the first (caller frees). */
static char *
insert_sql(const store_export_table *t)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "INSERT INTO \"%s\" (", t->name);
    for (size_t i = 0; i < t->ncolumns; i++)
        sb_addf(&sb, "%s\"%s\"", i ? ", " : "", t->columns[i].name);
    sb_adds(&sb, ") VALUES (");
    for (size_t i = 0; i < t->ncolumns; i++)
        sb_addf(&sb, "%s?%zu", i ? ", " : "", i + 1);
    sb_adds(&sb, ")");
    return sb_detach(&sb, NULL);
}

/* ------------------------------------------------------------ encoding */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_encode(strbuf *sb, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = { b64_alphabet[v >> 18 & 63], b64_alphabet[v >> 12 & 63],
                      i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=',
                      i + 2 < n ? b64_alphabet[v & 63] : '=' };
        sb_add(sb, q, 4);
    }
}

static int
b64_value(char c)
{
    const char *p = c ? strchr(b64_alphabet, c) : NULL;
    return p ? (int)(p - b64_alphabet) : -1;
}

/*
 * Decode the padded base64 text s (n bytes) into *out (*len bytes,
 * malloc'ed); -1 when it is not in the one form b64_encode() writes, so
 * that what is read back encodes to the same text.
 */
static int
b64_decode(const char *s, size_t n, unsigned char **out, size_t *len)
{
    unsigned char *buf;
    size_t k = 0;

    if (n % 4)
        return -1;
    buf = xmalloc(n / 4 * 3 + 1);
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int pad = last ? (s[i + 3] == '=') + (s[i + 2] == '=' && s[i + 3] == '=') : 0;
        int v[4];
        for (int j = 0; j < 4 - pad; j++)
            if ((v[j] = b64_value(s[i + j])) < 0)
                goto bad;
        for (int j = 4 - pad; j < 4; j++)
            v[j] = 0;
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            goto bad;   /* bits a canonical encoding leaves clear */
        buf[k++] = (unsigned char)(w >> 16);
        if (pad < 2)
            buf[k++] = (unsigned char)(w >> 8);
        if (pad < 1)
            buf[k++] = (unsigned char)w;
    }
    *out = buf;
    *len = k;
    return 0;
bad:
    free(buf);
    return -1;
}

/* Is s (n bytes) well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF)? */
static int
utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        for (size_t j = 1; j <= need; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* s (n bytes) as a JSON string. */
static void
json_string_add(strbuf *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t from = 0;

    sb_add(sb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
        } else if (c < 0x20) {
            esc[0] = '\\';
            switch (c) {
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
                elen = 6;
            }
        } else {
            continue;
        }
        sb_add(sb, s + from, i - from);
        sb_add(sb, esc, elen);
        from = i + 1;
    }
    sb_add(sb, s + from, n - from);
    sb_add(sb, "\"", 1);
}

/* ------------------------------------------------------------ export */


/* The row st is on, for messages: its primary key, which leads the column list. */
static char *
row_key(const store_export_table *t, db_stmt *st)
{
    strbuf sb = STRBUF_INIT;
    size_t nkey = strchr(t->order_by, ',') ? 2 : 1;
    for (size_t i = 0; i < nkey; i++) {
        sb_addf(&sb, "%s%s ", i ? ", " : "", t->columns[i].name);
        if (db_column_type(st, (int)i) == SQLITE_INTEGER)
            sb_addf(&sb, "%" PRId64, (int64_t)db_column_int64(st, (int)i));
        else    /* quoted and escaped: a message stays one line */
            json_string_add(&sb, (const char *)db_column_text(st, (int)i),
                            (size_t)db_column_bytes(st, (int)i));
    }
    return sb_detach(&sb, NULL);
}

/* Append column i of the row st is on to sb as JSON; 74 when it cannot be. */
static int
column_add(const store_export_table *t, size_t i, db_stmt *st, strbuf *sb, osm_err *err)
{
    const store_export_column *c = &t->columns[i];
    int type = db_column_type(st, (int)i);
    const char *why = NULL;

    if (type == SQLITE_NULL) {
        sb_adds(sb, "null");
        return 0;
    }
    switch (c->type) {
    case STORE_EXPORT_INTEGER:
        if (type != SQLITE_INTEGER) {
            why = "not an integer";
        } else {
            int64_t v = db_column_int64(st, (int)i);
            if (v > (int64_t)JSON_INT_MAX || v < -(int64_t)JSON_INT_MAX)
                why = "an integer too large for JSON";
            else
                sb_addf(sb, "%" PRId64, v);
        }
        break;
    case STORE_EXPORT_TEXT:
        if (type != SQLITE_TEXT) {
            why = "not text";
        } else {
            const char *v = (const char *)db_column_text(st, (int)i);
            size_t n = (size_t)db_column_bytes(st, (int)i);
            if (!utf8_valid((const unsigned char *)v, n))
                why = "text that is not UTF-8";
            else
                json_string_add(sb, v, n);
        }
        break;
    default: {
        const void *v = db_column_blob(st, (int)i);
        size_t n = (size_t)db_column_bytes(st, (int)i);
        sb_add(sb, "\"", 1);
        b64_encode(sb, v, n);
        sb_add(sb, "\"", 1);
        break;
    }
    }
    if (why) {
        char *key = row_key(t, st);
        osm_fail(err, OSM_EIO, "%s.%s of the row %s: %s: it cannot be exported as it is",
                 t->name, c->name, key, why);
        free(key);
        return OSM_EIO;
    }
    return 0;
}

/* Hash the line and hand it to out. */
static int
put_line(struct sha256_ctx *hash, strbuf *line, store_export_fn out, void *ctx)
{
    sb_add(line, "\n", 1);
    sha256_update(hash, line->len, (const uint8_t *)line->buf);
    return out(line->buf, line->len, ctx);
}

/* Write table t's rows; *count = how many. */
static int
export_table(store *s, const store_export_table *t, struct sha256_ctx *hash, strbuf *line,
             store_export_fn out, void *ctx, int64_t *count, osm_err *err)
{
    db_stmt *st = NULL;
    char *sql = select_sql(t);
    int rc = db_prepare(s->db, sql, 0, &st);

    *count = 0;
    free(sql);
    if (rc != SQLITE_OK) {
        rc = store_sqlfail(s, rc, err);
        goto out;
    }
    while ((rc = db_step(st)) == SQLITE_ROW) {
        sb_reset(line);
        sb_addf(line, "{\"table\":\"%s\",\"row\":{", t->name);
        for (size_t i = 0; i < t->ncolumns; i++) {
            sb_addf(line, "%s\"%s\":", i ? "," : "", t->columns[i].name);
            if ((rc = column_add(t, i, st, line, err)) != 0)
                goto out;
        }
        sb_adds(line, "}}");
        if ((rc = put_line(hash, line, out, ctx)) != 0)
            goto out;
        ++*count;
    }
    rc = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, err);
out:
    db_finalize(st);
    return rc;
}

int
store_export(store *s, store_export_fn out, void *ctx, osm_err *err)
{
    struct sha256_ctx hash;
    unsigned char digest[SHA256_DIGEST_SIZE];
    char hex[SHA256_HEX_SIZE];
    int64_t counts[NTABLES];
    strbuf line = STRBUF_INIT;
    int rc;

    if ((rc = store_status_read_begin(s, err)) != 0)
        return rc;
    sha256_init(&hash);
    sb_addf(&line, "{\"format\":\"%s\",\"version\":%d,\"schemaVersion\":%d}",
            STORE_EXPORT_FORMAT, STORE_EXPORT_VERSION, store_schema_version());
    if ((rc = put_line(&hash, &line, out, ctx)) != 0)
        goto out;
    for (size_t i = 0; i < NTABLES; i++)
        if ((rc = export_table(s, &tables[i], &hash, &line, out, ctx, &counts[i], err)) != 0)
            goto out;
    sha256_digest(&hash, SHA256_DIGEST_SIZE, digest);
    sha256_to_hex(digest, hex);
    sb_reset(&line);
    sb_adds(&line, "{\"counts\":{");
    for (size_t i = 0; i < NTABLES; i++)
        sb_addf(&line, "%s\"%s\":%" PRId64, i ? "," : "", tables[i].name, counts[i]);
    sb_addf(&line, "},\"sha256\":\"%s\"}\n", hex);
    rc = out(line.buf, line.len, ctx);
out:
    store_status_read_end(s);
    sb_free(&line);
    return rc;
}

/* ------------------------------------------------------------ import */

typedef struct importer {
    store *s;
    const char *name;           /* of the input, for messages */
    long line;                  /* being read */
    db_stmt *insert[NTABLES];
    int64_t counts[NTABLES];
    osm_err *err;
} importer;

/* 65 "NAME:LINE: fmt". */
static int __attribute__((format(printf, 2, 3)))
bad_line(importer *im, const char *fmt, ...)
{
    char msg[sizeof im->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return osm_fail(im->err, OSM_EDATA, "%s:%ld: %s", im->name, im->line, msg);
}

static const char *
kind_name(jv v)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NULL: return "null";
    case JV_KIND_TRUE:
    case JV_KIND_FALSE: return "a boolean";
    case JV_KIND_NUMBER: return "a number";
    case JV_KIND_STRING: return "a string";
    case JV_KIND_ARRAY: return "an array";
    case JV_KIND_OBJECT: return "an object";
    default: return "nothing";
    }
}

/* Does object v have exactly the members named (NULL-terminated)?  Else 65 naming one. */
static int
check_members(importer *im, jv v, const char *what, const char *const *names)
{
    size_t want = 0;
    for (; names[want]; want++) {
        jv m = json_get(v, names[want]);
        int has = jv_get_kind(m) != JV_KIND_NULL;
        jv_free(m);
        if (!has)
            return bad_line(im, "%s: no \"%s\"", what, names[want]);
    }
    if ((size_t)jv_object_length(jv_copy(v)) == want)
        return 0;
    int rc = 0;
    jv_object_foreach(v, key, val) {
        size_t i = 0;
        while (names[i] && strcmp(names[i], jv_string_value(key)) != 0)
            i++;
        if (!names[i] && !rc)
            rc = bad_line(im, "%s: unexpected member \"%s\"", what, jv_string_value(key));
        jv_free(key);
        jv_free(val);
    }
    return rc;
}

/* The integer v (not consumed) into *out; -1 when it is not one a JSON reader keeps exactly. */
static int
exact_int(jv v, int64_t *out)
{
    double d;
    if (jv_get_kind(v) != JV_KIND_NUMBER)
        return -1;
    d = jv_number_value(v);
    if (d != floor(d) || fabs(d) > JSON_INT_MAX)
        return -1;
    *out = (int64_t)d;
    return 0;
}

static int
check_header(importer *im, jv v)
{
    static const char *const members[] = { "format", "version", "schemaVersion", NULL };
    const char *format = json_str(v, "format");
    jv version = json_get(v, "version"), schema = json_get(v, "schemaVersion");
    int64_t ver = -1, sv = -1;
    int rc = 0;

    if (!format || strcmp(format, STORE_EXPORT_FORMAT) != 0)
        rc = bad_line(im, "not an osm export: the first line must be its header "
                      "{\"format\":\"%s\",...}", STORE_EXPORT_FORMAT);
    else if (exact_int(version, &ver) != 0 || ver != STORE_EXPORT_VERSION)
        rc = bad_line(im, "export format version %s: this program reads version %d",
                      jv_get_kind(version) == JV_KIND_NUMBER ? "other than 1" : "missing",
                      STORE_EXPORT_VERSION);
    else if (exact_int(schema, &sv) != 0 || sv != store_schema_version())
        rc = bad_line(im, "exported from order store version %" PRId64 ": this program "
                      "imports version %d only (open the old store with the program that "
                      "matches it, or upgrade it first)", sv, store_schema_version());
    else
        rc = check_members(im, v, "header", members);
    jv_free(version);
    jv_free(schema);
    return rc;
}

/* Bind value v (not consumed) of column i of t to st, checking its type. */
static int
bind_value(importer *im, const store_export_table *t, size_t i, jv v, db_stmt *st)
{
    const store_export_column *c = &t->columns[i];
    int k = (int)i + 1, rc = SQLITE_OK;
    int64_t n;

    if (jv_get_kind(v) == JV_KIND_NULL) {
        if (!c->nullable)
            return bad_line(im, "%s.%s: expected %s, got null", t->name, c->name,
                            c->type == STORE_EXPORT_INTEGER ? "an integer" : "a string");
        rc = db_bind_null(st, k);
    } else if (c->type == STORE_EXPORT_INTEGER) {
        if (exact_int(v, &n) != 0)
            return bad_line(im, "%s.%s: expected an integer, got %s", t->name, c->name,
                            jv_get_kind(v) == JV_KIND_NUMBER ? "a number that is not one"
                                                             : kind_name(v));
        rc = db_bind_int64(st, k, n);
    } else if (jv_get_kind(v) != JV_KIND_STRING) {
        return bad_line(im, "%s.%s: expected a string, got %s", t->name, c->name, kind_name(v));
    } else if (c->type == STORE_EXPORT_TEXT) {
        rc = db_bind_text(st, k, jv_string_value(v), jv_string_length_bytes(jv_copy(v)),
                               SQLITE_TRANSIENT);
    } else {
        unsigned char *blob;
        size_t len;
        if (b64_decode(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), &blob,
                       &len) != 0)
            return bad_line(im, "%s.%s: not base64", t->name, c->name);
        rc = db_bind_blob(st, k, blob, (int)len, SQLITE_TRANSIENT);
        free(blob);
    }
    return rc == SQLITE_OK ? 0 : store_sqlfail(im->s, rc, im->err);
}

/* Insert the row of a {"table", "row"} line. */
static int
import_row(importer *im, jv v)
{
    static const char *const members[] = { "table", "row", NULL };
    const char *name = json_str(v, "table");
    const store_export_table *t = NULL;
    size_t ti = 0;
    db_stmt *st;
    jv row;
    int rc;

    if (!name)
        return bad_line(im, "expected a row {\"table\":...,\"row\":{...}} or the trailer");
    for (; ti < NTABLES; ti++)
        if (strcmp(tables[ti].name, name) == 0) {
            t = &tables[ti];
            break;
        }
    if (!t)
        return bad_line(im, "unknown table \"%s\"", name);
    if ((rc = check_members(im, v, "row", members)) != 0)
        return rc;
    row = json_get(v, "row");
    if (jv_get_kind(row) != JV_KIND_OBJECT) {
        rc = bad_line(im, "%s: the row is %s, not an object", t->name, kind_name(row));
        jv_free(row);
        return rc;
    }
    /* unknown columns first: a misspelt one is also a missing one */
    jv_object_foreach(row, key, val) {
        size_t i = 0;
        while (i < t->ncolumns && strcmp(t->columns[i].name, jv_string_value(key)) != 0)
            i++;
        if (i == t->ncolumns && !rc)
            rc = bad_line(im, "%s: unknown column \"%s\"", t->name, jv_string_value(key));
        jv_free(key);
        jv_free(val);
    }
    if (rc) {
        jv_free(row);
        return rc;
    }
    if (!im->insert[ti]) {
        char *sql = insert_sql(t);
        rc = db_prepare(im->s->db, sql, 0, &im->insert[ti]);
        free(sql);
        if (rc != SQLITE_OK) {
            jv_free(row);
            return store_sqlfail(im->s, rc, im->err);
        }
    }
    st = im->insert[ti];
    for (size_t i = 0; i < t->ncolumns && !rc; i++) {
        jv val = jv_object_get(jv_copy(row), jv_string(t->columns[i].name));
        if (!jv_is_valid(val))
            rc = bad_line(im, "%s: no column \"%s\"", t->name, t->columns[i].name);
        else
            rc = bind_value(im, t, i, val, st);
        jv_free(val);
    }
    jv_free(row);
    if (rc == 0) {
        rc = db_step(st);
        if (rc == SQLITE_DONE) {
            rc = 0;
            im->counts[ti]++;
        } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            osm_err e = { 0, "" };
            store_sqlfail(im->s, rc, &e);
            const char *why = strstr(e.msg, "internal error: ");
            rc = bad_line(im, "%s: the store refuses the row: %s", t->name,
                          why ? why + strlen("internal error: ") : e.msg);
        } else {
            rc = store_sqlfail(im->s, rc, im->err);
        }
    }
    store_stmt_done(st);
    return rc;
}

/* Compare the trailer v with what was read (hex: the digest of the lines before it). */
static int
check_trailer(importer *im, jv v, const char *hex)
{
    static const char *const members[] = { "counts", "sha256", NULL };
    const char *sha = json_str(v, "sha256");
    jv counts = json_get(v, "counts");
    int rc = check_members(im, v, "trailer", members);

    if (rc == 0 && jv_get_kind(counts) != JV_KIND_OBJECT)
        rc = bad_line(im, "trailer: counts is %s, not an object", kind_name(counts));
    if (rc == 0 && !sha)
        rc = bad_line(im, "trailer: sha256 is not a string");
    if (rc == 0 && (size_t)jv_object_length(jv_copy(counts)) != NTABLES)
        rc = bad_line(im, "trailer: counts name %d tables, the export format has %zu",
                      jv_object_length(jv_copy(counts)), NTABLES);
    for (size_t i = 0; i < NTABLES && rc == 0; i++) {
        jv n = json_get(counts, tables[i].name);
        int64_t want;
        if (exact_int(n, &want) != 0)
            rc = bad_line(im, "trailer: no row count for table %s", tables[i].name);
        else if (want != im->counts[i])
            rc = osm_fail(im->err, OSM_EDATA, "%s: the trailer counts %" PRId64 " rows of %s, "
                          "the stream holds %" PRId64 ": rows are missing or added",
                          im->name, want, tables[i].name, im->counts[i]);
        jv_free(n);
    }
    if (rc == 0 && strcmp(sha, hex) != 0)
        rc = osm_fail(im->err, OSM_EDATA, "%s: the digest of the lines read (%s) is not the "
                      "trailer's (%s): the stream was changed", im->name, hex, sha);
    jv_free(counts);
    return rc;
}

/* 73 unless s holds nothing that an import could clash with. */
static int
check_empty(store *s, osm_err *err)
{
    static const char *const what[] = { "cartridge", "order", "event", "workgroup" };
    db_stmt *st = store_stmt(s, ST_EXPORT_CONTENTS, SQL_CONTENTS, err);
    strbuf sb = STRBUF_INIT;
    int rc;

    if (!st)
        return store_stmt_fail(err);
    rc = db_step(st);
    if (rc != SQLITE_ROW) {
        rc = store_sqlfail(s, rc, err);
        store_stmt_done(st);
        return rc;
    }
    for (int i = 0; i < 4; i++) {
        int64_t n = db_column_int64(st, i);
        if (n)
            sb_addf(&sb, "%s%" PRId64 " %s%s", sb.len ? ", " : "", n, what[i], n == 1 ? "" : "s");
    }
    store_stmt_done(st);
    rc = sb.len ? osm_fail(err, OSM_ECANTCREAT, "%s: the order store is not empty (%s): "
                           "import into a new store", s->path, sb.buf)
                : 0;
    sb_free(&sb);
    return rc;
}

/* Read, check and insert every line; the caller's transaction takes or drops them. */
static int
import_lines(importer *im, FILE *in, jv *summary)
{
    struct sha256_ctx hash;
    unsigned char digest[SHA256_DIGEST_SIZE];
    char hex[SHA256_HEX_SIZE] = "";
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0, trailer = 0;

    sha256_init(&hash);
    while (rc == 0 && (len = getline(&buf, &cap, in)) >= 0) {
        osm_err perr = { 0, "" };
        jv v;
        im->line++;
        if (trailer) {
            rc = bad_line(im, "a line after the trailer");
            break;
        }
        v = json_parse_mem(buf, (size_t)len, &perr);
        if (!jv_is_valid(v)) {
            jv_free(v);
            rc = bad_line(im, "%s", perr.msg);
            break;
        }
        if (jv_get_kind(v) != JV_KIND_OBJECT) {
            rc = bad_line(im, "expected an object, got %s", kind_name(v));
        } else if (im->line == 1) {
            rc = check_header(im, v);
        } else if (jv_object_has(jv_copy(v), jv_string("counts"))) {
            sha256_digest(&hash, SHA256_DIGEST_SIZE, digest);
            sha256_to_hex(digest, hex);
            rc = check_trailer(im, v, hex);
            trailer = 1;
        } else {
            rc = import_row(im, v);
        }
        if (!trailer)
            sha256_update(&hash, (size_t)len, (const uint8_t *)buf);
        jv_free(v);
    }
    if (rc == 0 && ferror(in))
        rc = osm_fail(im->err, OSM_EIO, "%s: %s", im->name, strerror(errno));
    else if (rc == 0 && im->line == 0)
        rc = osm_fail(im->err, OSM_EDATA, "%s: empty: not an osm export", im->name);
    else if (rc == 0 && !trailer)
        rc = osm_fail(im->err, OSM_EDATA, "%s: no trailer after line %ld: the stream is "
                      "cut short", im->name, im->line);
    free(buf);
    if (rc == 0) {
        jv counts = jv_object();
        for (size_t i = 0; i < NTABLES; i++)
            counts = jv_object_set(counts, jv_string(tables[i].name),
                                   jv_number((double)im->counts[i]));
        *summary = JV_OBJECT(jv_string("imported"), counts, jv_string("sha256"),
                             jv_string(hex));
    }
    return rc;
}

/*
 * PostgreSQL: rows inserted with their ids leave the identity sequences
 * behind; start each after the highest id now in its table, so that the
 * next order, task or event numbers on from the imported ones (SQLite's
 * AUTOINCREMENT does this by itself).  The names come from the catalog
 * of our own schema, not from the stream.
 */
static int
pg_reset_ids(store *s, osm_err *err)
{
    static const char sql[] =
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name";
    db_stmt *st = NULL, *set = NULL;
    int rc = db_prepare(s->db, sql, 0, &st);

    while (rc == SQLITE_OK && (rc = db_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)db_column_text(st, 0), *c = (const char *)db_column_text(st, 1);
        char *q = xasprintf("SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'),"
                            " coalesce(max(\"%s\"), 0) + 1, false) FROM \"%s\"", t, c, c, t);
        rc = db_prepare(s->db, q, 0, &set);
        if (rc == SQLITE_OK)
            rc = db_step(set);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
        db_finalize(set);
        set = NULL;
        free(q);
    }
    db_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, err);
}

int
store_import(store *s, FILE *in, const char *name, jv *summary, osm_err *err)
{
    importer im = { s, name, 0, { NULL }, { 0 }, err };
    jv out = jv_invalid();
    int rc;

    if ((rc = store_begin(s, err)) != 0)
        return rc;
    if ((rc = check_empty(s, err)) == 0)
        rc = import_lines(&im, in, &out);
    if (rc == 0 && store_is_pg(s))
        rc = pg_reset_ids(s, err);
    for (size_t i = 0; i < NTABLES; i++)
        db_finalize(im.insert[i]);
    if (rc == 0)
        rc = store_commit(s, err);
    else
        store_rollback(s);
    if (rc == 0)
        *summary = out;
    else
        jv_free(out);
    return rc;
}
