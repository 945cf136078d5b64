/*
 * JSON streams in and out, and the few jv helpers every module wants.
 *
 * The reader yields the values of a stream one at a time -- a single
 * value, many concatenated values, or newline-delimited JSON -- reading
 * 64 KiB at a time through jq's incremental parser, so memory stays flat
 * over a stream of any length.  A bad record does not end the stream:
 * the reader reports it, drops the rest of the line it was found on and
 * carries on at the next line, so that in NDJSON one malformed line costs
 * that line only.  A record separator (0x1E, as in RFC 7464 text
 * sequences) is such a bad record, wherever it is.
 *
 * Ownership follows jv.h: jv_* functions consume their jv arguments
 * (except jv_copy); the helpers here say for each argument whether they
 * consume it.  Values handed out through "jv *out" belong to the caller.
 */
#ifndef OSM_JSON_H
#define OSM_JSON_H

#include <stddef.h>
#include <stdio.h>

#include <jv.h>

#include "diag.h"
#include "xalloc.h"

/* The default cap on the size of one value in a stream: 16 MiB of text. */
#define JSON_MAX_DEFAULT ((size_t)16 << 20)

typedef struct json_reader json_reader;

/*
 * Open path for reading ("-" is standard input, named "<stdin>" in
 * messages and never closed by the reader).  Returns NULL and fills err
 * with OSM_ENOINPUT ("PATH: No such file or directory") when the file
 * cannot be opened or is a directory.
 */
json_reader *json_reader_open(const char *path, osm_err *err);

/*
 * Read from an already open descriptor; name is used in messages.  The
 * reader does not take the descriptor: the caller closes it after
 * json_reader_free().  Never returns NULL.
 */
json_reader *json_reader_fdopen(int fd, const char *name);

/* Close what json_reader_open() opened and free the reader (NULL is fine). */
void json_reader_free(json_reader *r);

/*
 * Refuse values larger than max bytes of text (0 restores the default),
 * or holding more than one array or object per 64 bytes of max (at least
 * 1024; an empty array costs jq some 300 bytes).  Together these bound
 * what one value can take in memory to a small multiple of max.
 */
void json_reader_set_max(json_reader *r, size_t max);

/*
 * The next value of the stream.  Returns 1 with the value in *out (the
 * caller's), 0 at the end of the input, or on a bad record an OSM_E*
 * status (always > 1) with *out set to jv_invalid() and err->msg one of
 *   NAME:LINE:COL: parse error: MESSAGE        (65, the position where
 *                                              the error was detected)
 *   NAME:LINE: document larger than 16 MiB     (65, the line the value
 *                                              began on)
 *   NAME:LINE: document has more than 262144 arrays and objects   (65)
 *   NAME: read error: STRERROR                 (74, and the stream ends)
 * After a 65 the stream goes on: call again for the following records.
 */
int json_reader_next(json_reader *r, jv *out, osm_err *err);

/*
 * The line (1-based) on which the last value returned began; after a
 * bad record, the line on which that record began.  0 before any.
 */
long json_reader_line(const json_reader *r);

/* The name used in messages ("<stdin>" for "-"). */
const char *json_reader_name(const json_reader *r);

/* Output flags for json_write() and json_dump(). */
enum {
    JSON_PRETTY = 1,    /* indent by two spaces, as jq does */
    JSON_SORTED = 2     /* object keys in sorted order */
};

/*
 * Print v (consumed) and a newline on f: compact unless JSON_PRETTY.
 * Write errors are left for the caller to find with ferror(f).
 */
void json_write(FILE *f, jv v, int flags);

/* v (not consumed) as a malloc'ed string without a newline. */
char *json_dump(jv v, int flags);

/*
 * Append v (not consumed) to sb as json_dump() writes it.  The compact
 * form is jq 1.6's byte for byte, written some ten times faster.
 */
void json_append(strbuf *sb, jv v, int flags);

/*
 * Parse a whole string as exactly one JSON value.  On failure returns
 * jv_invalid() and fills err with OSM_EDATA and "parse error: MESSAGE at
 * line L, column C" (or "parse error: no JSON value" / "parse error:
 * unexpected extra JSON value" / "parse error: unexpected record
 * separator (0x1E) at byte N").  json_parse_mem() takes a length and so
 * accepts text holding NUL bytes.
 */
jv json_parse_str(const char *s, osm_err *err);
jv json_parse_mem(const char *s, size_t len, osm_err *err);

/*
 * The string member key of obj as a C string, or NULL when obj is not
 * an object, has no such member, or the member is not a string.  obj is
 * not consumed.  The string is borrowed from obj: it stays valid while
 * the caller holds obj and leaves that member alone (obj's reference
 * keeps the string alive), and must not be freed.
 */
const char *json_str(jv obj, const char *key);

/*
 * The member key of obj (a new reference, the caller's), or jv_null()
 * when obj is not an object or has no such member.  obj is not consumed.
 */
jv json_get(jv obj, const char *key);

/*
 * The member key of obj as an integer.  Returns 1 and sets *out when it
 * is a number with an integral value that fits in a long long; 0 when obj
 * has no such member (or it is null); -1 when it is anything else (*out
 * is then left alone).  obj is not consumed.
 */
int json_get_int(jv obj, const char *key, long long *out);

#endif
