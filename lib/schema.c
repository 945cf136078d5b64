/*
 * JSON Schema (2020-12 subset) compiler and validator.
 *
 * schema_compile() turns the schema text into a tree of snode structs,
 * one per subschema, checking every keyword as it goes (unknown keywords,
 * wrong value types, bad regular expressions, unresolvable or circular
 * $ref are all refused there, naming the JSON pointer of the culprit).
 * Regular expressions are compiled once, into the node that uses them.
 *
 * schema_validate() walks a document and the tree together.  It keeps
 * the instance path as a stack of borrowed key pointers and indices and
 * only formats it when it records a problem, so a valid document costs
 * no allocation beyond what jv iteration does.  Applicators that
 * only need a yes/no answer (not, if, contains, the first pass of anyOf
 * and oneOf) run in "quick" mode, which stops at the first problem and
 * records nothing.  Problems are sorted into document order at the end,
 * since allOf and friends visit the same instance more than once.
 */
#include "config.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "diag.h"
#include "schema.h"
#include "xalloc.h"

/* Deeper nesting than this during validation is reported, not followed. */
#define MAX_NEST 1000
/* Longest rendering of a JSON value (enum member, const) in a message. */
#define VALUE_MAX 120

enum {
    T_NULL = 1 << 0,
    T_BOOLEAN = 1 << 1,
    T_OBJECT = 1 << 2,
    T_ARRAY = 1 << 3,
    T_NUMBER = 1 << 4,
    T_STRING = 1 << 5,
    T_INTEGER = 1 << 6
};

static const char *const type_names[] = {
    "null", "boolean", "object", "array", "number", "string", "integer"
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

enum { FMT_NONE, FMT_DATE_TIME, FMT_DURATION };

/* Which optional scalar keywords a node has. */
enum {
    H_ENUM = 1 << 0,
    H_CONST = 1 << 1,
    H_MINIMUM = 1 << 2,
    H_MAXIMUM = 1 << 3,
    H_XMIN = 1 << 4,
    H_XMAX = 1 << 5,
    H_MULTIPLE = 1 << 6,
    H_PATTERN = 1 << 7,
    H_UNIQUE = 1 << 8
};

typedef struct snode snode;

/* An enum or const value; strings also as bytes, to compare quickly. */
typedef struct value {
    jv v;
    const char *s;          /* points into v when it is a string, else NULL */
    int len;
} value;

typedef struct prop {
    const char *name;       /* points into key, which the node owns */
    int len;
    jv key;
    snode *schema;
} prop;

typedef struct pprop {
    char *source;
    regex_t re;
    snode *schema;
} pprop;

struct snode {
    size_t id;              /* index in schema->nodes */
    char *loc;              /* "#/json/pointer" of this subschema */
    int boolean;            /* 0 or 1 for the false/true schemas, else -1 */
    int nkw;                /* validation keywords present */
    unsigned types;         /* T_* mask; 0 when "type" is absent */
    unsigned type_list;     /* the same types as written: see list_add() */
    unsigned has;           /* H_* mask */
    value *enum_v;
    size_t nenum;
    value const_v;

    prop *props;            /* sorted by name for bsearch */
    size_t nprops;
    jv *required;
    size_t nrequired;
    pprop *pprops;
    size_t npprops;
    snode *additional, *names;
    long min_props, max_props;      /* -1 when absent, as all counts */

    snode *items, *contains;
    snode **prefix;
    size_t nprefix;
    long min_items, max_items;

    long min_len, max_len;
    char *pattern_src;
    char *pattern_msg;              /* patternMessage, or NULL */
    regex_t pattern;
    int format;

    double minimum, maximum, xmin, xmax, multiple;

    snode **all_of, **any_of, **one_of;
    size_t nall, nany, none;
    snode *not_, *if_, *then_, *else_;

    char *ref;              /* as written */
    snode *target;          /* resolved after the whole tree is compiled */
};

struct schema {
    char *name;
    snode *root;
    snode **nodes;          /* every node: for freeing and $ref lookup */
    size_t nnodes;
};

/* ------------------------------------------------------------ compile */

typedef struct cctx {
    schema *s;
    strbuf loc;
    osm_err *err;
} cctx;

static int
cfail(cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
cfail(cctx *c, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return osm_fail(c->err, OSM_ECONFIG, "%s%s: %s", c->s->name, c->loc.buf,
                    msg);
}

/* Append "/token" to the location, escaped as a JSON pointer. */
static size_t
loc_push(cctx *c, const char *tok, size_t len)
{
    size_t mark = c->loc.len;

    sb_add(&c->loc, "/", 1);
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '~')
            sb_add(&c->loc, "~0", 2);
        else if (tok[i] == '/')
            sb_add(&c->loc, "~1", 2);
        else
            sb_add(&c->loc, tok + i, 1);
    }
    return mark;
}

static size_t
loc_push_index(cctx *c, int i)
{
    char tok[16];
    int n = snprintf(tok, sizeof tok, "%d", i);
    return loc_push(c, tok, (size_t)n);
}

static void
loc_pop(cctx *c, size_t mark)
{
    c->loc.len = mark;
    c->loc.buf[mark] = '\0';
}

static snode *compile_node(cctx *c, jv v);

/* A non-empty array of schemas (consumed) into *out. */
static int
compile_list(cctx *c, jv v, snode ***out, size_t *nout)
{
    int len;

    if (jv_get_kind(v) != JV_KIND_ARRAY || jv_array_length(jv_copy(v)) == 0) {
        jv_free(v);
        return cfail(c, "must be a non-empty array of schemas");
    }
    len = jv_array_length(jv_copy(v));
    *out = xcalloc((size_t)len, sizeof **out);
    *nout = (size_t)len;
    for (int i = 0; i < len; i++) {
        size_t mark = loc_push_index(c, i);
        (*out)[i] = compile_node(c, jv_array_get(jv_copy(v), i));
        loc_pop(c, mark);
        if (!(*out)[i]) {
            jv_free(v);
            return OSM_ECONFIG;
        }
    }
    jv_free(v);
    return 0;
}

/* A non-negative integer (v consumed). */
static int
get_count(cctx *c, jv v, long *out)
{
    double d;

    if (jv_get_kind(v) != JV_KIND_NUMBER) {
        jv_free(v);
        return cfail(c, "must be a non-negative integer");
    }
    d = jv_number_value(v);
    jv_free(v);
    if (!(d >= 0 && d <= 2147483647.0 && floor(d) == d))
        return cfail(c, "must be a non-negative integer");
    *out = (long)d;
    return 0;
}

static int
get_number(cctx *c, jv v, double *out)
{
    if (jv_get_kind(v) != JV_KIND_NUMBER) {
        jv_free(v);
        return cfail(c, "must be a number");
    }
    *out = jv_number_value(v);
    jv_free(v);
    return 0;
}

/*
 * An ordered set of types, so that messages list them as the schema
 * does: 4 bits per entry holding a type's index + 1, first in the low
 * bits, 0 ending the list.  Seven types fit in 28 bits.
 */
static unsigned
list_add(unsigned list, unsigned bit)
{
    int shift = 0;
    unsigned idx = 0;

    while (bit >> (idx + 1))
        idx++;
    for (; (list >> shift) & 0xf; shift += 4)
        if (((list >> shift) & 0xf) == idx + 1)
            return list;
    return list | ((idx + 1) << shift);
}

static unsigned
type_bit(const char *name)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (strcmp(name, type_names[i]) == 0)
            return 1u << i;
    return 0;
}

static int
compile_type(cctx *c, snode *n, jv v)
{
    int rc = 0;

    if (jv_get_kind(v) == JV_KIND_STRING) {
        n->types = type_bit(jv_string_value(v));
        n->type_list = list_add(0, n->types);
        if (!n->types)
            rc = cfail(c, "unknown type \"%s\"", jv_string_value(v));
    } else if (jv_get_kind(v) == JV_KIND_ARRAY
               && jv_array_length(jv_copy(v)) > 0) {
        jv_array_foreach(v, i, t) {
            unsigned bit = jv_get_kind(t) == JV_KIND_STRING
                ? type_bit(jv_string_value(t)) : 0;
            if (!bit)
                rc = cfail(c, "[%d] is not a type name", i);
            else if (n->types & bit)
                rc = cfail(c, "type \"%s\" is listed twice",
                           jv_string_value(t));
            n->types |= bit;
            if (bit)
                n->type_list = list_add(n->type_list, bit);
            jv_free(t);
            if (rc)
                break;
        }
    } else {
        rc = cfail(c, "must be a type name or a non-empty array of them");
    }
    jv_free(v);
    return rc;
}

/*
 * Refuse the ECMA-262 constructs people reach for that POSIX ERE lacks or
 * reads differently, so that a pattern cannot silently mean something
 * else here than in every other JSON Schema tool.
 */
static int
compile_regex(cctx *c, jv v, regex_t *re, char **src)
{
    const char *p;
    int rc;

    if (jv_get_kind(v) != JV_KIND_STRING) {
        jv_free(v);
        return cfail(c, "must be a string");
    }
    p = jv_string_value(v);
    for (const char *q = p; *q; q++) {
        if (q[0] == '\\' && q[1] && strchr("dDwWsSbB", q[1])) {
            rc = cfail(c, "\\%c in \"%s\" is not POSIX ERE: use a bracket "
                       "expression such as [0-9]", q[1], p);
            jv_free(v);
            return rc;
        }
        if (q[0] == '\\' && q[1])
            q++;
        else if (q[0] == '(' && q[1] == '?') {
            rc = cfail(c, "(? in \"%s\" is not POSIX ERE", p);
            jv_free(v);
            return rc;
        }
    }
    rc = regcomp(re, p, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, re, why, sizeof why);
        rc = cfail(c, "invalid regular expression \"%s\": %s", p, why);
        jv_free(v);
        return rc;
    }
    *src = xstrdup(p);
    jv_free(v);
    return 0;
}

static int
prop_cmp(const void *a, const void *b)
{
    const prop *x = a, *y = b;
    int n = memcmp(x->name, y->name,
                   (size_t)(x->len < y->len ? x->len : y->len));
    return n ? n : (x->len > y->len) - (x->len < y->len);
}

/* "properties", "patternProperties" or "$defs": an object of schemas. */
static int
compile_map(cctx *c, snode *n, bool props, bool patterns, jv v)
{
    size_t len;
    int rc = 0;

    if (jv_get_kind(v) != JV_KIND_OBJECT) {
        jv_free(v);
        return cfail(c, "must be an object of schemas");
    }
    len = (size_t)jv_object_length(jv_copy(v));
    if (props)
        n->props = xcalloc(len, sizeof *n->props);
    if (patterns)
        n->pprops = xcalloc(len, sizeof *n->pprops);
    jv_object_foreach(v, key, sub) {
        const char *k = jv_string_value(key);
        int klen = jv_string_length_bytes(jv_copy(key));
        size_t mark = loc_push(c, k, (size_t)klen);
        pprop *pp = patterns ? &n->pprops[n->npprops] : NULL;
        snode *sn = NULL;

        if (pp && compile_regex(c, jv_copy(key), &pp->re, &pp->source) == 0)
            n->npprops++;
        else if (pp)
            rc = OSM_ECONFIG;
        if (rc == 0)
            sn = compile_node(c, sub);
        else
            jv_free(sub);
        loc_pop(c, mark);
        if (!sn) {
            jv_free(key);
            rc = OSM_ECONFIG;
            break;
        }
        if (pp) {
            pp->schema = sn;
            jv_free(key);
        } else if (props) {
            prop *p = &n->props[n->nprops++];
            p->key = key;       /* p->name points into it */
            p->name = jv_string_value(key);
            p->len = klen;
            p->schema = sn;
        } else {
            jv_free(key);       /* $defs: compiled for checking and $ref */
        }
    }
    jv_free(v);
    if (n->nprops)
        qsort(n->props, n->nprops, sizeof *n->props, prop_cmp);
    return rc;
}

static int
compile_required(cctx *c, snode *n, jv v)
{
    int rc = 0;

    if (jv_get_kind(v) != JV_KIND_ARRAY) {
        jv_free(v);
        return cfail(c, "must be an array of strings");
    }
    n->required = xcalloc((size_t)jv_array_length(jv_copy(v)),
                          sizeof *n->required);
    jv_array_foreach(v, i, name) {
        if (jv_get_kind(name) != JV_KIND_STRING) {
            rc = cfail(c, "[%d] is not a string", i);
            jv_free(name);
            break;
        }
        for (size_t j = 0; j < n->nrequired; j++)
            if (jv_equal(jv_copy(n->required[j]), jv_copy(name)))
                rc = cfail(c, "\"%s\" is listed twice", jv_string_value(name));
        if (rc) {
            jv_free(name);
            break;
        }
        n->required[n->nrequired++] = name;
    }
    jv_free(v);
    return rc;
}

enum kw {
    K_ANNOTATION, K_TYPE, K_ENUM, K_CONST,
    K_PROPERTIES, K_REQUIRED, K_ADDITIONAL, K_PATTERNPROPS, K_NAMES,
    K_MINPROPS, K_MAXPROPS,
    K_ITEMS, K_PREFIX, K_MINITEMS, K_MAXITEMS, K_UNIQUE, K_CONTAINS,
    K_MINLEN, K_MAXLEN, K_PATTERN, K_PATTERN_MSG, K_FORMAT,
    K_MINIMUM, K_MAXIMUM, K_XMIN, K_XMAX, K_MULTIPLE,
    K_ALLOF, K_ANYOF, K_ONEOF, K_NOT, K_IF, K_THEN, K_ELSE,
    K_REF, K_DEFS,
    K_UNKNOWN
};

static const struct {
    const char *name;
    enum kw kw;
} keywords[] = {
    { "$schema", K_ANNOTATION }, { "$id", K_ANNOTATION },
    { "$comment", K_ANNOTATION }, { "title", K_ANNOTATION },
    { "description", K_ANNOTATION }, { "default", K_ANNOTATION },
    { "examples", K_ANNOTATION }, { "deprecated", K_ANNOTATION },
    { "readOnly", K_ANNOTATION }, { "writeOnly", K_ANNOTATION },
    { "type", K_TYPE }, { "enum", K_ENUM }, { "const", K_CONST },
    { "properties", K_PROPERTIES }, { "required", K_REQUIRED },
    { "additionalProperties", K_ADDITIONAL },
    { "patternProperties", K_PATTERNPROPS }, { "propertyNames", K_NAMES },
    { "minProperties", K_MINPROPS }, { "maxProperties", K_MAXPROPS },
    { "items", K_ITEMS }, { "prefixItems", K_PREFIX },
    { "minItems", K_MINITEMS }, { "maxItems", K_MAXITEMS },
    { "uniqueItems", K_UNIQUE }, { "contains", K_CONTAINS },
    { "minLength", K_MINLEN }, { "maxLength", K_MAXLEN },
    { "pattern", K_PATTERN }, { "format", K_FORMAT },
    /* ours: what a person is told instead of the regular expression */
    { "patternMessage", K_PATTERN_MSG },
    { "minimum", K_MINIMUM }, { "maximum", K_MAXIMUM },
    { "exclusiveMinimum", K_XMIN }, { "exclusiveMaximum", K_XMAX },
    { "multipleOf", K_MULTIPLE },
    { "allOf", K_ALLOF }, { "anyOf", K_ANYOF }, { "oneOf", K_ONEOF },
    { "not", K_NOT }, { "if", K_IF }, { "then", K_THEN }, { "else", K_ELSE },
    { "$ref", K_REF }, { "$defs", K_DEFS },
};

static enum kw
keyword(const char *name)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(name, keywords[i].name) == 0)
            return keywords[i].kw;
    return K_UNKNOWN;
}

static value
value_make(jv v)
{
    value e = { v, NULL, 0 };
    if (jv_get_kind(v) == JV_KIND_STRING) {
        e.s = jv_string_value(v);
        e.len = jv_string_length_bytes(jv_copy(v));
    }
    return e;
}

/* Compile one keyword's value v (consumed) into n; c->loc names it. */
static int
compile_keyword(cctx *c, snode *n, enum kw kw, const char *name, jv v)
{
    int rc = 0;

    if (kw != K_ANNOTATION && kw != K_DEFS)
        n->nkw++;
    switch (kw) {
    case K_ANNOTATION:
        jv_free(v);
        return 0;
    case K_TYPE:
        return compile_type(c, n, v);
    case K_ENUM:
        if (jv_get_kind(v) != JV_KIND_ARRAY
            || jv_array_length(jv_copy(v)) == 0) {
            jv_free(v);
            return cfail(c, "must be a non-empty array");
        }
        n->nenum = (size_t)jv_array_length(jv_copy(v));
        n->enum_v = xcalloc(n->nenum, sizeof *n->enum_v);
        jv_array_foreach(v, i, e)
            n->enum_v[i] = value_make(e);
        jv_free(v);
        n->has |= H_ENUM;
        return 0;
    case K_CONST:
        n->const_v = value_make(v);
        n->has |= H_CONST;
        return 0;
    case K_PROPERTIES:
    case K_PATTERNPROPS:
    case K_DEFS:
        return compile_map(c, n, kw == K_PROPERTIES, kw == K_PATTERNPROPS, v);
    case K_REQUIRED:
        return compile_required(c, n, v);
    case K_ADDITIONAL:
        n->additional = compile_node(c, v);
        return n->additional ? 0 : OSM_ECONFIG;
    case K_NAMES:
        n->names = compile_node(c, v);
        return n->names ? 0 : OSM_ECONFIG;
    case K_MINPROPS:
        return get_count(c, v, &n->min_props);
    case K_MAXPROPS:
        return get_count(c, v, &n->max_props);
    case K_ITEMS:
        if (jv_get_kind(v) == JV_KIND_ARRAY) {
            jv_free(v);
            return cfail(c, "must be a schema (use prefixItems for tuples)");
        }
        n->items = compile_node(c, v);
        return n->items ? 0 : OSM_ECONFIG;
    case K_PREFIX:
        return compile_list(c, v, &n->prefix, &n->nprefix);
    case K_MINITEMS:
        return get_count(c, v, &n->min_items);
    case K_MAXITEMS:
        return get_count(c, v, &n->max_items);
    case K_UNIQUE:
        if (jv_get_kind(v) == JV_KIND_TRUE)
            n->has |= H_UNIQUE;
        else if (jv_get_kind(v) != JV_KIND_FALSE)
            rc = cfail(c, "must be a boolean");
        jv_free(v);
        return rc;
    case K_CONTAINS:
        n->contains = compile_node(c, v);
        return n->contains ? 0 : OSM_ECONFIG;
    case K_MINLEN:
        return get_count(c, v, &n->min_len);
    case K_MAXLEN:
        return get_count(c, v, &n->max_len);
    case K_PATTERN:
        rc = compile_regex(c, v, &n->pattern, &n->pattern_src);
        if (rc == 0)
            n->has |= H_PATTERN;
        return rc;
    case K_PATTERN_MSG:
        if (jv_get_kind(v) != JV_KIND_STRING)
            rc = cfail(c, "must be a string");
        else
            n->pattern_msg = xstrdup(jv_string_value(v));
        jv_free(v);
        return rc;
    case K_FORMAT:
        if (jv_get_kind(v) != JV_KIND_STRING)
            rc = cfail(c, "must be a string");
        else if (strcmp(jv_string_value(v), "date-time") == 0)
            n->format = FMT_DATE_TIME;
        else if (strcmp(jv_string_value(v), "duration") == 0)
            n->format = FMT_DURATION;
        jv_free(v);
        return rc;
    case K_MINIMUM:
        n->has |= H_MINIMUM;
        return get_number(c, v, &n->minimum);
    case K_MAXIMUM:
        n->has |= H_MAXIMUM;
        return get_number(c, v, &n->maximum);
    case K_XMIN:
        n->has |= H_XMIN;
        return get_number(c, v, &n->xmin);
    case K_XMAX:
        n->has |= H_XMAX;
        return get_number(c, v, &n->xmax);
    case K_MULTIPLE:
        n->has |= H_MULTIPLE;
        rc = get_number(c, v, &n->multiple);
        if (rc == 0 && !(n->multiple > 0))
            rc = cfail(c, "must be greater than 0");
        return rc;
    case K_ALLOF:
        return compile_list(c, v, &n->all_of, &n->nall);
    case K_ANYOF:
        return compile_list(c, v, &n->any_of, &n->nany);
    case K_ONEOF:
        return compile_list(c, v, &n->one_of, &n->none);
    case K_NOT:
        n->not_ = compile_node(c, v);
        return n->not_ ? 0 : OSM_ECONFIG;
    case K_IF:
        n->if_ = compile_node(c, v);
        return n->if_ ? 0 : OSM_ECONFIG;
    case K_THEN:
        n->then_ = compile_node(c, v);
        return n->then_ ? 0 : OSM_ECONFIG;
    case K_ELSE:
        n->else_ = compile_node(c, v);
        return n->else_ ? 0 : OSM_ECONFIG;
    case K_REF:
        if (jv_get_kind(v) != JV_KIND_STRING)
            rc = cfail(c, "must be a string");
        else if (jv_string_value(v)[0] != '#')
            rc = cfail(c, "\"%s\" is not a local reference: only \"#...\" "
                       "is supported", jv_string_value(v));
        else
            n->ref = xstrdup(jv_string_value(v));
        jv_free(v);
        return rc;
    case K_UNKNOWN:
        break;
    }
    jv_free(v);
    return cfail(c, "internal error: keyword \"%s\"", name);
}

/*
 * Compile v (consumed) as the subschema at c->loc.  Returns the node, or
 * NULL with c->err set.  Every node is registered in c->s->nodes at once,
 * so schema_free() cleans up whatever a failed compilation left.
 */
static snode *
compile_node(cctx *c, jv v)
{
    schema *s = c->s;
    snode *n = xcalloc(1, sizeof *n);
    int rc = 0;

    n->id = s->nnodes;
    n->loc = xstrdup(c->loc.buf);
    n->boolean = -1;
    n->const_v.v = jv_invalid();
    n->min_props = n->max_props = n->min_items = n->max_items = -1;
    n->min_len = n->max_len = -1;
    s->nodes = xrealloc(s->nodes, (s->nnodes + 1) * sizeof *s->nodes);
    s->nodes[s->nnodes++] = n;

    switch (jv_get_kind(v)) {
    case JV_KIND_TRUE:
    case JV_KIND_FALSE:
        n->boolean = jv_get_kind(v) == JV_KIND_TRUE;
        jv_free(v);
        return n;
    case JV_KIND_OBJECT:
        break;
    default:
        jv_free(v);
        cfail(c, "a schema must be an object or a boolean");
        return NULL;
    }

    jv_object_foreach(v, key, val) {
        const char *name = jv_string_value(key);
        enum kw kw = keyword(name);

        if (kw == K_UNKNOWN) {
            rc = cfail(c, "unknown keyword \"%s\"", name);
            jv_free(val);
        } else {
            size_t mark = loc_push(c, name, strlen(name));
            rc = compile_keyword(c, n, kw, name, val);
            loc_pop(c, mark);
        }
        jv_free(key);
        if (rc)
            break;
    }
    jv_free(v);
    return rc ? NULL : n;
}

/* Decode %XX escapes of a URI fragment; NULL when malformed. */
static char *
uri_decode(const char *s)
{
    strbuf sb = STRBUF_INIT;

    for (; *s; s++) {
        if (*s == '%') {
            unsigned v;
            if (sscanf(s + 1, "%2x", &v) != 1 || !s[1] || !s[2]) {
                sb_free(&sb);
                return NULL;
            }
            char ch = (char)v;
            sb_add(&sb, &ch, 1);
            s += 2;
        } else {
            sb_add(&sb, s, 1);
        }
    }
    return sb_detach(&sb, NULL);
}

static int
resolve_refs(cctx *c)
{
    schema *s = c->s;

    for (size_t i = 0; i < s->nnodes; i++) {
        snode *n = s->nodes[i];
        char *want;
        bool ok;

        if (!n->ref)
            continue;
        want = uri_decode(n->ref);
        ok = want && (want[1] == '\0' || want[1] == '/');
        for (const char *p = want; ok && *p; p++)
            if (*p == '~' && p[1] != '0' && p[1] != '1')
                ok = false;
        for (size_t j = 0; ok && j < s->nnodes && !n->target; j++)
            if (strcmp(s->nodes[j]->loc, want) == 0)
                n->target = s->nodes[j];
        free(want);
        if (!n->target) {
            sb_reset(&c->loc);
            sb_adds(&c->loc, n->loc);
            loc_push(c, "$ref", 4);
            return cfail(c, ok ? "\"%s\" does not name a schema"
                               : "\"%s\" is not a JSON pointer", n->ref);
        }
    }
    return 0;
}

/*
 * A cycle through $ref and the in-place applicators (allOf, anyOf, oneOf,
 * not, if/then/else) would recurse forever without moving into the
 * document; such a schema is refused.  Depth-first search, colouring
 * nodes 1 while on the stack and 2 when done.
 */
static int
find_cycle(cctx *c, snode *n, unsigned char *colour)
{
    snode *next[8];
    size_t nnext = 0;
    snode **lists[3] = { n->all_of, n->any_of, n->one_of };
    size_t lens[3] = { n->nall, n->nany, n->none };

    if (colour[n->id] == 2)
        return 0;
    if (colour[n->id] == 1) {
        sb_reset(&c->loc);
        sb_adds(&c->loc, n->loc);
        return cfail(c, "circular $ref: the schema refers to itself "
                     "without descending into the document");
    }
    colour[n->id] = 1;
    next[nnext++] = n->target;
    next[nnext++] = n->not_;
    next[nnext++] = n->if_;
    next[nnext++] = n->then_;
    next[nnext++] = n->else_;
    for (size_t i = 0; i < nnext; i++)
        if (next[i] && find_cycle(c, next[i], colour))
            return OSM_ECONFIG;
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < lens[l]; i++)
            if (find_cycle(c, lists[l][i], colour))
                return OSM_ECONFIG;
    colour[n->id] = 2;
    return 0;
}

int
schema_compile(const char *json_text, const char *name, schema **out,
               osm_err *err)
{
    schema *s = xcalloc(1, sizeof *s);
    cctx c = { s, STRBUF_INIT, err };
    jv v = jv_parse_sized(json_text, (int)strlen(json_text));
    int rc = 0;

    s->name = xstrdup(name ? name : "");
    sb_adds(&c.loc, "#");
    if (!jv_is_valid(v)) {
        jv msg = jv_invalid_get_msg(v);
        const char *m = jv_get_kind(msg) == JV_KIND_STRING
            ? jv_string_value(msg) : "parse error";
        /* jq quotes the whole text after the position: leave it out */
        const char *quote = strstr(m, " (while parsing '");
        int len = quote ? (int)(quote - m) : (int)strlen(m);
        rc = osm_fail(err, OSM_ECONFIG, "%s%sinvalid JSON: %.*s", s->name,
                      s->name[0] ? ": " : "", len, m);
        jv_free(msg);
        goto out;
    }
    s->root = compile_node(&c, v);
    if (!s->root) {
        rc = OSM_ECONFIG;
        goto out;
    }
    rc = resolve_refs(&c);
    if (rc == 0) {
        unsigned char *colour = xcalloc(s->nnodes, 1);
        for (size_t i = 0; i < s->nnodes && rc == 0; i++)
            rc = find_cycle(&c, s->nodes[i], colour);
        free(colour);
    }
out:
    sb_free(&c.loc);
    if (rc) {
        schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void
node_free(snode *n)
{
    free(n->loc);
    for (size_t i = 0; i < n->nenum; i++)
        jv_free(n->enum_v[i].v);
    free(n->enum_v);
    jv_free(n->const_v.v);
    for (size_t i = 0; i < n->nprops; i++)
        jv_free(n->props[i].key);
    free(n->props);
    for (size_t i = 0; i < n->nrequired; i++)
        jv_free(n->required[i]);
    free(n->required);
    for (size_t i = 0; i < n->npprops; i++) {
        regfree(&n->pprops[i].re);
        free(n->pprops[i].source);
    }
    free(n->pprops);
    free(n->prefix);
    if (n->pattern_src) {
        regfree(&n->pattern);
        free(n->pattern_src);
    }
    free(n->pattern_msg);
    free(n->all_of);
    free(n->any_of);
    free(n->one_of);
    free(n->ref);
    free(n);
}

void
schema_free(schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        node_free(s->nodes[i]);
    free(s->nodes);
    free(s->name);
    free(s);
}

const char *
schema_name(const schema *s)
{
    return s->name;
}

/* ------------------------------------------------------------ formats */

static bool
digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *out = *out * 10 + (s[i] - '0');
    }
    return true;
}

/* RFC 3339 date-time: 2024-05-01T12:00:00Z, ...T12:00:00.5+02:00. */
static bool
is_date_time(const char *s)
{
    static const int mdays[] = {
        31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo)
        || s[7] != '-' || !digits(s + 8, 2, &d)
        || (s[10] != 'T' && s[10] != 't')
        || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi)
        || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59
        || sec > 60)
        return false;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return false;
    s += 19;
    if (*s == '.') {
        if (s[1] < '0' || s[1] > '9')
            return false;
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '+' ? 1 : -1;
        if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om)
            || oh > 23 || om > 59)
            return false;
        s += 6;
    } else {
        return false;
    }
    if (*s)
        return false;
    /* a leap second is 23:59:60 in UTC */
    if (sec == 60) {
        int utc = ((h * 60 + mi - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;
        return utc == 23 * 60 + 59;
    }
    return true;
}

/*
 * ISO 8601 duration: P, then date components in the order Y M D, then
 * optionally T and time components in the order H M S; or PnW alone.
 * At least one component; only the last may have a fraction (PT0.5S).
 */
static bool
is_duration(const char *s)
{
    const char *units = "YMD", *p = s + 1;
    size_t next = 0;
    int ncomp = 0;
    bool in_time = false, fraction = false;

    if (s[0] != 'P')
        return false;
    while (*p) {
        const char *u;

        if (*p == 'T') {
            if (in_time || fraction || p[1] < '0' || p[1] > '9')
                return false;
            in_time = true;
            units = "HMS";
            next = 0;
            p++;
            continue;
        }
        if (fraction || *p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == '.' || *p == ',') {
            if (p[1] < '0' || p[1] > '9')
                return false;
            for (p++; *p >= '0' && *p <= '9'; p++)
                ;
            fraction = true;
        }
        if (!in_time && *p == 'W')
            return ncomp == 0 && p[1] == '\0';
        if (*p == '\0' || !(u = strchr(units + next, *p)))
            return false;
        next = (size_t)(u - units) + 1;
        ncomp++;
        p++;
    }
    return ncomp > 0;
}

/* ------------------------------------------------------------ validate */

typedef struct pcomp {
    const char *key;        /* borrowed from the document; NULL: index */
    int len;
    int pos;                /* array index, or the key's rank in its object */
} pcomp;

/*
 * A problem keeps where it sorts apart from where it is shown: "unknown
 * property" is shown at the object but sorts with the property.  Sorting
 * compares positions (ranks and indices), so it needs no document walk.
 */
typedef struct problem {
    char *path;             /* jq syntax, as shown */
    int *pos;               /* where it sorts, one rank per level */
    int npos;
    char *msg;
    unsigned expected;      /* a type mismatch: type list, else 0 */
} problem;

typedef struct plist {
    problem *v;
    size_t n, cap;
} plist;

typedef struct vctx {
    pcomp *path;
    size_t depth, cap;
    plist probs;
    bool quick;             /* stop at the first problem, record nothing */
    int nest;
} vctx;

static void
path_push(vctx *c, const char *key, int len, int pos)
{
    if (c->depth == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->path = xrealloc(c->path, c->cap * sizeof *c->path);
    }
    c->path[c->depth++] = (pcomp){ key, len, pos };
}

/* s as a JSON string, quotes included; UTF-8 is kept as it is. */
static void
json_quote(strbuf *sb, const char *s, int len)
{
    sb_add(sb, "\"", 1);
    for (int i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = ch == '"' ? "\\\"" : ch == '\\' ? "\\\\"
            : ch == '\n' ? "\\n" : ch == '\t' ? "\\t"
            : ch == '\r' ? "\\r" : NULL;
        if (esc)
            sb_adds(sb, esc);
        else if (ch < 0x20 || ch == 0x7f)
            sb_addf(sb, "\\u%04x", ch);
        else
            sb_add(sb, s + i, 1);
    }
    sb_add(sb, "\"", 1);
}

static bool
is_identifier(const char *s, int len)
{
    for (int i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'
              || (i > 0 && ch >= '0' && ch <= '9')))
            return false;
    }
    return len > 0;
}

/* jq syntax for the first n levels of the path: ., .a.b[3], .["x y"]. */
static char *
path_string(const vctx *c, size_t n)
{
    strbuf sb = STRBUF_INIT;

    if (n == 0)
        sb_adds(&sb, ".");
    for (size_t i = 0; i < n; i++) {
        const pcomp *p = &c->path[i];
        if (!p->key) {
            sb_addf(&sb, "%s[%d]", i ? "" : ".", p->pos);
        } else if (is_identifier(p->key, p->len)) {
            sb_add(&sb, ".", 1);
            sb_add(&sb, p->key, (size_t)p->len);
        } else {
            sb_adds(&sb, i ? "[" : ".[");
            json_quote(&sb, p->key, p->len);
            sb_add(&sb, "]", 1);
        }
    }
    return sb_detach(&sb, NULL);
}

static void
plist_free(plist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].pos);
        free(l->v[i].msg);
    }
    free(l->v);
    *l = (plist){ NULL, 0, 0 };
}

static problem *
plist_add(plist *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    return &l->v[l->n++];
}

/* Move every problem of from (left empty) to the end of to. */
static void
plist_move(plist *to, plist *from)
{
    for (size_t i = 0; i < from->n; i++)
        *plist_add(to) = from->v[i];
    free(from->v);
    *from = (plist){ NULL, 0, 0 };
}

/*
 * Record a problem at the current path, displayed with its first shown
 * components (-1: all).  Returns 1, the number of problems added.
 */
static int
report(vctx *c, int shown, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
report(vctx *c, int shown, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    problem *p;

    if (c->quick)
        return 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p = plist_add(&c->probs);
    p->path = path_string(c, shown < 0 ? c->depth : (size_t)shown);
    p->npos = (int)c->depth;
    p->pos = xmalloc(c->depth * sizeof *p->pos);
    for (size_t i = 0; i < c->depth; i++)
        p->pos[i] = c->path[i].pos;
    p->msg = xstrdup(msg);
    p->expected = 0;
    return 1;
}

/* report() without evaluating the arguments in quick mode. */
#define REPORT(c, ...) ((c)->quick ? 1 : report((c), __VA_ARGS__))

static unsigned
instance_types(jv x)
{
    double d;

    switch (jv_get_kind(x)) {
    case JV_KIND_NULL:
        return T_NULL;
    case JV_KIND_TRUE:
    case JV_KIND_FALSE:
        return T_BOOLEAN;
    case JV_KIND_OBJECT:
        return T_OBJECT;
    case JV_KIND_ARRAY:
        return T_ARRAY;
    case JV_KIND_STRING:
        return T_STRING;
    case JV_KIND_NUMBER:
        d = jv_number_value(x);
        return isfinite(d) && floor(d) == d ? T_NUMBER | T_INTEGER : T_NUMBER;
    default:
        return 0;
    }
}

static const char *
kind_name(jv x)
{
    unsigned t = instance_types(x) & ~(unsigned)T_INTEGER;
    for (size_t i = 0; i < NTYPES; i++)
        if (t == 1u << i)
            return type_names[i];
    return "invalid";
}

/* "expected T, got U" for the types in list (see list_add()). */
static int
report_type(vctx *c, unsigned list, jv x)
{
    strbuf sb = STRBUF_INIT;
    unsigned mask = 0;
    int n = 0;

    if (c->quick)
        return 1;
    for (unsigned l = list; l; l >>= 4)
        mask |= 1u << ((l & 0xf) - 1);
    for (unsigned l = list; l; l >>= 4) {
        unsigned bit = 1u << ((l & 0xf) - 1);
        if (bit == T_INTEGER && (mask & T_NUMBER))
            continue;           /* "number" says it already */
        if (n++)
            sb_adds(&sb, ", ");
        sb_adds(&sb, type_names[(l & 0xf) - 1]);
    }
    REPORT(c, -1, "expected %s%s, got %s", n > 1 ? "one of " : "", sb.buf,
           kind_name(x));
    c->probs.v[c->probs.n - 1].expected = list;
    sb_free(&sb);
    return 1;
}

/* v rendered as compact JSON into buf, cut short with "..." if long. */
static const char *
show(jv v, char *buf, size_t size)
{
    strbuf sb = STRBUF_INIT;
    size_t n;

    if (jv_get_kind(v) == JV_KIND_STRING) {
        json_quote(&sb, jv_string_value(v), jv_string_length_bytes(jv_copy(v)));
    } else {
        jv d = jv_dump_string(jv_copy(v), 0);
        sb_adds(&sb, jv_string_value(d));
        jv_free(d);
    }
    n = sb.len;
    if (n >= size) {
        n = size - 4;
        while (n > 0 && ((unsigned char)sb.buf[n] & 0xc0) == 0x80)
            n--;                /* not in the middle of a UTF-8 sequence */
        memcpy(sb.buf + n, "...", 4);
        n += 3;
    }
    memcpy(buf, sb.buf, n + 1);
    sb_free(&sb);
    return buf;
}

static const char *
show_number(double d, char *buf, size_t size)
{
    return jv_dump_string_trunc(jv_number(d), buf, size);
}

static int check(vctx *c, const snode *n, jv x);

/* Whether x is valid against n, without recording anything. */
static bool
passes(vctx *c, const snode *n, jv x)
{
    bool quick = c->quick;
    int bad;

    c->quick = true;
    bad = check(c, n, x);
    c->quick = quick;
    return bad == 0;
}

/* Validate x against n, collecting its problems in *out, not c->probs. */
static int
collect(vctx *c, const snode *n, jv x, plist *out)
{
    plist saved = c->probs;
    int bad;

    c->probs = (plist){ NULL, 0, 0 };
    bad = check(c, n, x);
    *out = c->probs;
    c->probs = saved;
    return bad;
}

static bool
pattern_match(const regex_t *re, const char *s, int len)
{
#ifdef REG_STARTEND
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = len;
    return regexec(re, s, 1, m, REG_STARTEND) == 0;
#else
    (void)len;
    return regexec(re, s, 0, NULL, 0) == 0;
#endif
}

/* Code points in a valid UTF-8 string (jv strings always are). */
static long
utf8_length(const char *s, int bytes)
{
    long n = 0;
    for (int i = 0; i < bytes; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static int
check_string(vctx *c, const snode *n, jv x)
{
    const char *s = jv_string_value(x);
    int bytes = jv_string_length_bytes(jv_copy(x)), bad = 0;
    /* formats are text: a NUL (\u0000) inside makes them invalid */
    bool text = strlen(s) == (size_t)bytes;

    if (n->min_len >= 0 || n->max_len >= 0) {
        long len = utf8_length(s, bytes);
        if (n->min_len == 1 && len == 0)
            bad += REPORT(c, -1, "must not be empty");
        else if (len < n->min_len)
            bad += REPORT(c, -1, "must be at least %ld character%s long",
                          n->min_len, n->min_len == 1 ? "" : "s");
        if (n->max_len >= 0 && len > n->max_len)
            bad += REPORT(c, -1, "must be at most %ld character%s long",
                          n->max_len, n->max_len == 1 ? "" : "s");
    }
    if ((n->has & H_PATTERN) && !pattern_match(&n->pattern, s, bytes))
        bad += n->pattern_msg ? REPORT(c, -1, "%s", n->pattern_msg)
                              : REPORT(c, -1, "must match pattern %s", n->pattern_src);
    if (n->format == FMT_DATE_TIME && !(text && is_date_time(s)))
        bad += REPORT(c, -1, "is not a valid RFC 3339 date-time");
    if (n->format == FMT_DURATION && !(text && is_duration(s)))
        bad += REPORT(c, -1, "is not a valid ISO 8601 duration");
    return bad;
}

static int
check_number(vctx *c, const snode *n, jv x)
{
    double d = jv_number_value(x);
    char num[64];
    int bad = 0;

    if ((n->has & H_MINIMUM) && d < n->minimum)
        bad += REPORT(c, -1, "must be at least %s",
                      show_number(n->minimum, num, sizeof num));
    if ((n->has & H_MAXIMUM) && d > n->maximum)
        bad += REPORT(c, -1, "must be at most %s",
                      show_number(n->maximum, num, sizeof num));
    if ((n->has & H_XMIN) && d <= n->xmin)
        bad += REPORT(c, -1, "must be greater than %s",
                      show_number(n->xmin, num, sizeof num));
    if ((n->has & H_XMAX) && d >= n->xmax)
        bad += REPORT(c, -1, "must be less than %s",
                      show_number(n->xmax, num, sizeof num));
    if (n->has & H_MULTIPLE) {
        double q = d / n->multiple;
        /* tolerate binary rounding: 0.3 is a multiple of 0.1 */
        if (!isfinite(q) || fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, fabs(q)))
            bad += REPORT(c, -1, "must be a multiple of %s",
                          show_number(n->multiple, num, sizeof num));
    }
    return bad;
}

/* minItems/maxItems, minProperties/maxProperties. */
static int
count_problem(vctx *c, long have, long min, long max, const char *one,
              const char *many)
{
    if (min == 1 && have == 0)
        return REPORT(c, -1, "must not be empty");
    if (have < min)
        return REPORT(c, -1, "must have at least %ld %s", min,
                      min == 1 ? one : many);
    if (max >= 0 && have > max)
        return REPORT(c, -1, "must have at most %ld %s", max,
                      max == 1 ? one : many);
    return 0;
}

static const prop *
find_prop(const snode *n, const char *k, int len)
{
    prop key = { .name = k, .len = len };
    return n->nprops ? bsearch(&key, n->props, n->nprops, sizeof *n->props,
                               prop_cmp) : NULL;
}

/* propertyNames: the problems of key, reworded to name it. */
static int
check_name(vctx *c, const snode *n, jv key)
{
    plist sub;
    int bad;
    char q[VALUE_MAX];

    if (c->quick)
        return check(c, n, key);
    bad = collect(c, n, key, &sub);
    if (sub.n)
        show(key, q, sizeof q);
    for (size_t i = 0; i < sub.n; i++) {
        char *msg = xasprintf("property name %s %s", q, sub.v[i].msg);
        free(sub.v[i].msg);
        sub.v[i].msg = msg;
        free(sub.v[i].path);
        sub.v[i].path = path_string(c, c->depth - 1);
        sub.v[i].expected = 0;
    }
    plist_move(&c->probs, &sub);
    return bad;
}

static int
check_object(vctx *c, const snode *n, jv x)
{
    int bad = 0;

    if (n->min_props >= 0 || n->max_props >= 0)
        bad += count_problem(c, jv_object_length(jv_copy(x)), n->min_props,
                             n->max_props, "property", "properties");
    for (size_t i = 0; i < n->nrequired; i++) {
        if (bad && c->quick)
            return bad;
        if (!jv_object_has(jv_copy(x), jv_copy(n->required[i]))) {
            char q[VALUE_MAX];
            bad += REPORT(c, -1, "missing required property %s",
                          show(n->required[i], q, sizeof q));
        }
    }
    if (!n->nprops && !n->npprops && !n->additional && !n->names)
        return bad;
    for (int it = jv_object_iter(x), rank = 0; jv_object_iter_valid(x, it);
         it = jv_object_iter_next(x, it), rank++) {
        jv key = jv_object_iter_key(x, it);
        jv val = jv_object_iter_value(x, it);
        const char *k = jv_string_value(key);
        int klen = jv_string_length_bytes(jv_copy(key));
        const prop *p = find_prop(n, k, klen);
        bool matched = p != NULL;

        path_push(c, k, klen, rank);
        if (n->names)
            bad += check_name(c, n->names, key);
        if (p)
            bad += check(c, p->schema, val);
        for (size_t i = 0; i < n->npprops; i++)
            if (pattern_match(&n->pprops[i].re, k, klen)) {
                matched = true;
                bad += check(c, n->pprops[i].schema, val);
            }
        if (!matched && n->additional) {
            if (n->additional->boolean == 0) {
                char q[VALUE_MAX];
                bad += REPORT(c, (int)c->depth - 1, "unknown property %s",
                              show(key, q, sizeof q));
            } else {
                bad += check(c, n->additional, val);
            }
        }
        c->depth--;
        jv_free(key);
        jv_free(val);
        if (bad && c->quick)
            break;
    }
    return bad;
}

static int
check_array(vctx *c, const snode *n, jv x)
{
    int len = jv_array_length(jv_copy(x));
    int bad = 0;

    if (n->min_items >= 0 || n->max_items >= 0)
        bad += count_problem(c, len, n->min_items, n->max_items,
                             "item", "items");
    if ((n->has & H_UNIQUE) && !(bad && c->quick)) {
        for (int i = 1; i < len; i++) {
            jv a = jv_array_get(jv_copy(x), i);
            for (int j = 0; j < i; j++) {
                if (jv_equal(jv_copy(a), jv_array_get(jv_copy(x), j))) {
                    path_push(c, NULL, 0, i);
                    bad += REPORT(c, (int)c->depth - 1,
                                  "items [%d] and [%d] are equal", j, i);
                    c->depth--;
                    break;
                }
            }
            jv_free(a);
            if (bad && c->quick)
                return bad;
        }
    }
    if (n->contains && !(bad && c->quick)) {
        bool found = false;
        for (int i = 0; i < len && !found; i++) {
            jv item = jv_array_get(jv_copy(x), i);
            found = passes(c, n->contains, item);
            jv_free(item);
        }
        if (!found) {
            char q[VALUE_MAX];
            if (n->contains->nkw == 1 && (n->contains->has & H_CONST))
                bad += REPORT(c, -1, "must contain %s",
                              show(n->contains->const_v.v, q, sizeof q));
            else
                bad += REPORT(c, -1, "must contain an item matching the "
                              "\"contains\" schema");
        }
    }
    if (!n->items && !n->nprefix)
        return bad;
    for (int i = 0; i < len && !(bad && c->quick); i++) {
        const snode *sub = (size_t)i < n->nprefix ? n->prefix[i] : n->items;
        jv item;

        if (!sub)
            break;
        item = jv_array_get(jv_copy(x), i);
        path_push(c, NULL, 0, i);
        bad += check(c, sub, item);
        c->depth--;
        jv_free(item);
    }
    return bad;
}

/*
 * No branch of an anyOf/oneOf matched: say something useful.  If every
 * branch only failed on the type of x itself, list the types they
 * wanted; otherwise report the problems of the branch that got furthest
 * (fewest problems, ignoring branches that failed on type outright).
 * Takes the lists, leaving them empty.
 */
static int
explain_alternatives(vctx *c, plist *branches, size_t n, jv x)
{
    unsigned list = 0;
    size_t best = n;
    int bad;

    for (size_t i = 0; i < n; i++) {
        plist *b = &branches[i];
        bool type_only = b->n == 1 && b->v[0].expected
            && b->v[0].npos == (int)c->depth;
        if (!type_only) {
            if (best == n || b->n < branches[best].n)
                best = i;
            continue;
        }
        for (unsigned l = b->v[0].expected; l; l >>= 4)
            list = list_add(list, 1u << ((l & 0xf) - 1));
    }
    if (best == n)
        return report_type(c, list, x);
    bad = (int)branches[best].n;
    plist_move(&c->probs, &branches[best]);
    return bad ? bad : 1;
}

static int
check_alternatives(vctx *c, snode *const *alts, size_t n, bool one, jv x)
{
    size_t first = n, matches = 0;
    plist *branches;
    int bad;

    for (size_t i = 0; i < n; i++) {
        if (passes(c, alts[i], x)) {
            if (!one)
                return 0;
            if (matches++ == 0) {
                first = i;
            } else {
                return REPORT(c, -1, "matches more than one oneOf "
                              "alternative (%zu and %zu)", first, i);
            }
        }
    }
    if (matches == 1)
        return 0;
    if (c->quick)
        return 1;
    branches = xcalloc(n, sizeof *branches);
    for (size_t i = 0; i < n; i++)
        collect(c, alts[i], x, &branches[i]);
    bad = explain_alternatives(c, branches, n, x);
    for (size_t i = 0; i < n; i++)
        plist_free(&branches[i]);
    free(branches);
    return bad;
}

static bool
value_is(const value *e, jv x, const char *xs, int xlen)
{
    if (e->s)
        return xs && e->len == xlen && memcmp(e->s, xs, (size_t)xlen) == 0;
    return !xs && jv_equal(jv_copy(x), jv_copy(e->v));
}

/* enum and const. */
static int
check_values(vctx *c, const snode *n, jv x)
{
    const char *xs = NULL;
    int xlen = 0, bad = 0;
    char q[VALUE_MAX];

    if (jv_get_kind(x) == JV_KIND_STRING) {
        xs = jv_string_value(x);
        xlen = jv_string_length_bytes(jv_copy(x));
    }
    if (n->has & H_ENUM) {
        bool found = false;
        for (size_t i = 0; i < n->nenum && !found; i++)
            found = value_is(&n->enum_v[i], x, xs, xlen);
        if (!found && c->quick)
            return 1;
        if (!found) {
            strbuf sb = STRBUF_INIT;
            for (size_t i = 0; i < n->nenum; i++) {
                if (sb.len > 4 * VALUE_MAX) {
                    sb_adds(&sb, ", ...");
                    break;
                }
                if (i)
                    sb_adds(&sb, ", ");
                sb_adds(&sb, show(n->enum_v[i].v, q, sizeof q));
            }
            bad += report(c, -1, n->nenum == 1 ? "must be %s"
                          : "is not one of %s", sb.buf);
            sb_free(&sb);
        }
    }
    if ((n->has & H_CONST) && !value_is(&n->const_v, x, xs, xlen))
        bad += REPORT(c, -1, "must be %s", show(n->const_v.v, q, sizeof q));
    return bad;
}

/*
 * Validate x (borrowed) against n, recording problems in c->probs unless
 * c->quick.  Returns the number of problems (in quick mode, 0 or 1).
 */
static int
check(vctx *c, const snode *n, jv x)
{
    int bad = 0;

    if (n->boolean == 1)
        return 0;
    if (n->boolean == 0)
        return REPORT(c, -1, "is not allowed");
    if (c->nest >= MAX_NEST)
        return REPORT(c, -1, "is nested too deeply to validate");
    c->nest++;

    /* a wrong type makes the other keywords noise: report it alone */
    if (n->types && !(n->types & instance_types(x))) {
        bad = report_type(c, n->type_list, x);
        goto out;
    }
    if (n->has & (H_ENUM | H_CONST)) {
        bad += check_values(c, n, x);
        if (bad && c->quick)
            goto out;
    }

    switch (jv_get_kind(x)) {
    case JV_KIND_STRING:
        bad += check_string(c, n, x);
        break;
    case JV_KIND_NUMBER:
        bad += check_number(c, n, x);
        break;
    case JV_KIND_OBJECT:
        bad += check_object(c, n, x);
        break;
    case JV_KIND_ARRAY:
        bad += check_array(c, n, x);
        break;
    default:
        break;
    }
    if (bad && c->quick)
        goto out;

    if (n->target)
        bad += check(c, n->target, x);
    for (size_t i = 0; i < n->nall && !(bad && c->quick); i++)
        bad += check(c, n->all_of[i], x);
    if (n->nany && !(bad && c->quick))
        bad += check_alternatives(c, n->any_of, n->nany, false, x);
    if (n->none && !(bad && c->quick))
        bad += check_alternatives(c, n->one_of, n->none, true, x);
    if (n->not_ && !(bad && c->quick) && passes(c, n->not_, x))
        bad += REPORT(c, -1, "must not match the \"not\" schema");
    if (n->if_ && !(bad && c->quick)) {
        const snode *branch = passes(c, n->if_, x) ? n->then_ : n->else_;
        if (branch)
            bad += check(c, branch, x);
    }
out:
    c->nest--;
    return bad;
}

/* ------------------------------------------------------------ results */

/* Document order of two problems: a parent before its children. */
static int
pos_cmp(const problem *a, const problem *b)
{
    for (int i = 0; i < a->npos && i < b->npos; i++)
        if (a->pos[i] != b->pos[i])
            return a->pos[i] < b->pos[i] ? -1 : 1;
    return (a->npos > b->npos) - (a->npos < b->npos);
}

/* Stable merge sort of v[0..n) into document order, tmp as scratch. */
static void
sort_problems(problem *v, problem *tmp, size_t n)
{
    size_t mid = n / 2, i = 0, j = mid, k = 0;

    if (n < 2)
        return;
    sort_problems(v, tmp, mid);
    sort_problems(v + mid, tmp, n - mid);
    if (pos_cmp(&v[mid - 1], &v[mid]) <= 0)
        return;
    while (i < mid && j < n)
        tmp[k++] = pos_cmp(&v[j], &v[i]) < 0 ? v[j++] : v[i++];
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

int
schema_validate(const schema *s, jv doc, jv *problems)
{
    vctx c = { NULL, 0, 0, { NULL, 0, 0 }, false, 0 };
    int bad;

    if (jv_get_kind(doc) == JV_KIND_INVALID)
        bad = report(&c, -1, "is not a JSON value");
    else
        bad = check(&c, s->root, doc);
    free(c.path);
    if (problems) {
        problem *tmp = xcalloc(c.probs.n, sizeof *tmp);
        sort_problems(c.probs.v, tmp, c.probs.n);
        free(tmp);
        *problems = jv_array_sized((int)c.probs.n);
        for (size_t i = 0; i < c.probs.n; i++)
            *problems = jv_array_append(*problems, JV_OBJECT(
                jv_string("path"), jv_string(c.probs.v[i].path),
                jv_string("message"), jv_string(c.probs.v[i].msg)));
    }
    bad = (int)c.probs.n;
    plist_free(&c.probs);
    return bad;
}
