/*
 * JSON Schema validation over jq's jv values.
 *
 * Every document osm reads or writes has a schema in specs/ (JSON Schema
 * draft 2020-12).  This module compiles such a schema once into a tree of
 * C structs and validates any number of documents against it.  It
 * implements the subset of 2020-12 that our specs use:
 *
 *   any type     type, enum, const
 *   objects      properties, required, additionalProperties,
 *                patternProperties, propertyNames, minProperties,
 *                maxProperties
 *   arrays       items, prefixItems, minItems, maxItems, uniqueItems,
 *                contains
 *   strings      minLength, maxLength (in code points), pattern, format
 *   numbers      minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 *                multipleOf
 *   combinators  allOf, anyOf, oneOf, not, if/then/else
 *   references   $ref to a local JSON pointer only ("#", "#/$defs/NAME",
 *                any "#/..." naming a subschema); $defs
 *   annotations  $schema, $id, $comment, title, description, default,
 *                examples, deprecated, readOnly, writeOnly (ignored)
 *
 * Any other keyword is refused when the schema is compiled, so that a typo
 * in a spec fails at build/test time instead of silently allowing anything.
 *
 * "pattern" and "patternProperties" are POSIX extended regular
 * expressions (regcomp(3) with REG_EXTENDED), not ECMA-262: write [0-9]
 * rather than \d, no (?:...), no lazy quantifiers.  Like ECMA patterns
 * they are unanchored: use ^...$ to match the whole string.  Matching is
 * bytewise in the C locale.  Patterns are compiled once, with the schema.
 *
 * "format" is an annotation except for "date-time" (RFC 3339, e.g.
 * 2024-05-01T12:00:00Z) and "duration" (ISO 8601, e.g. PT30S, P2D,
 * P1DT2H, PT0.5S), which are checked because osm relies on them.
 *
 * A compiled schema is immutable: several threads may validate against
 * it at once.
 */
#ifndef OSM_SCHEMA_H
#define OSM_SCHEMA_H

#include <jv.h>

#include "diag.h"

typedef struct schema schema;

/*
 * Compile the schema in json_text.  name (may be NULL) is how messages
 * refer to the schema, e.g. "cartridge.schema.json".  Returns 0 and sets
 * *out, or OSM_ECONFIG with err->msg naming the location of the problem
 * as NAME#/json/pointer, e.g.
 *   cartridge.schema.json#/properties/kind: unknown keyword "enumm"
 * On failure *out is left unchanged.
 */
int schema_compile(const char *json_text, const char *name, schema **out,
                   osm_err *err);

void schema_free(schema *s);

/*
 * Validate doc, which is borrowed (not consumed).  Returns the number of
 * problems, 0 when doc is valid.  If problems is non-NULL it is set (also
 * when doc is valid) to an array of all the problems in document order,
 * each {"path": ".functions.bill.after[0]", "message": "..."}: the path
 * is jq-style ("." for the document itself, .["odd key"] for keys that
 * are not identifiers), the message one lowercase line saying what is
 * wrong.  The caller owns *problems.
 */
int schema_validate(const schema *s, jv doc, jv *problems);

/* The name given to schema_compile, "" if none. */
const char *schema_name(const schema *s);

#endif
