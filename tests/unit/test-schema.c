/*
 * Tests for lib/schema.  Most cases are data: every *.test file in the
 * fixtures directory (argv[1], else $OSM_SRCDIR/tests/fixtures/schema)
 * is run, one TAP line per case; the format is described in
 * tests/fixtures/schema/README.  The rest checks what data files cannot:
 * the API contract (ownership, NULL problems) and a loop validating
 * 100000 documents, which must stay fast and, under valgrind, leak-free.
 */
#include "config.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jv.h>

#include "diag.h"
#include "schema.h"
#include "tap.h"
#include "xalloc.h"

#define LOOPS 100000

/* ------------------------------------------------------------ fixtures */

typedef struct block {
    const char *file;
    int line;               /* of "schema:" */
    strbuf text;            /* the schema, possibly several lines */
    bool compiled, seen_case;
    schema *s;
    osm_err err;
} block;

static bool
starts(const char *line, const char *word)
{
    return strncmp(line, word, strlen(word)) == 0;
}

static const char *
skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* A short rendering of a case's document for the TAP description. */
static const char *
brief(const char *json, char *buf, size_t size)
{
    size_t n = strlen(json);
    if (n < size) {
        memcpy(buf, json, n + 1);
    } else {
        memcpy(buf, json, size - 4);
        strcpy(buf + size - 4, "...");
    }
    return buf;
}

/* "PATH: MESSAGE" for each problem, one per line. */
static char *
render(jv problems)
{
    strbuf sb = STRBUF_INIT;
    jv_array_foreach(problems, i, p) {
        jv path = jv_object_get(jv_copy(p), jv_string("path"));
        jv msg = jv_object_get(p, jv_string("message"));
        sb_addf(&sb, "%s: %s\n", jv_string_value(path), jv_string_value(msg));
        jv_free(path);
        jv_free(msg);
    }
    return sb_detach(&sb, NULL);
}

static void
block_compile(block *b)
{
    if (b->compiled)
        return;
    b->compiled = true;
    osm_err_clear(&b->err);
    if (schema_compile(b->text.buf, "", &b->s, &b->err) != 0)
        b->s = NULL;
}

static void
block_end(block *b)
{
    if (b->text.buf && !b->seen_case) {
        block_compile(b);
        ok(b->s != NULL, "%s:%d: schema compiles", b->file, b->line);
        if (!b->s)
            tap_diag("%s", b->err.msg);
    }
    schema_free(b->s);
    sb_free(&b->text);
    memset(b, 0, sizeof *b);
}

/* Split "JSON => expected" at the first " => " after valid JSON. */
static jv
parse_doc(const char *text, const char **expected)
{
    const char *p = text;

    *expected = NULL;
    for (;;) {
        const char *arrow = strstr(p, " => ");
        size_t len = arrow ? (size_t)(arrow - text) : strlen(text);
        jv doc = jv_parse_sized(text, (int)len);
        if (jv_is_valid(doc) || !arrow) {
            if (arrow && jv_is_valid(doc))
                *expected = skip_space(arrow + 4);
            return doc;
        }
        jv_free(doc);
        p = arrow + 1;
    }
}

static void
run_case(block *b, const char *file, int lineno, bool valid, const char *text,
         strbuf *expected)
{
    char desc[72];
    const char *exp_inline;
    jv doc = parse_doc(text, &exp_inline);
    jv problems;
    char *got;
    int n;

    b->seen_case = true;
    brief(text, desc, sizeof desc);
    if (!jv_is_valid(doc)) {
        ok(0, "%s:%d: document is not valid JSON", file, lineno);
        jv_free(doc);
        return;
    }
    block_compile(b);
    if (!b->s) {
        ok(0, "%s:%d: %s %s", file, lineno, valid ? "valid" : "invalid", desc);
        tap_diag("schema from line %d does not compile: %s", b->line,
                 b->err.msg);
        jv_free(doc);
        return;
    }
    n = schema_validate(b->s, doc, &problems);
    got = render(problems);
    if (valid) {
        if (!ok(n == 0, "%s:%d: valid %s", file, lineno, desc))
            tap_diag("got problems:\n%s", got);
    } else {
        strbuf want = STRBUF_INIT;
        if (exp_inline)
            sb_addf(&want, "%s\n", exp_inline);
        if (expected->buf)
            sb_adds(&want, expected->buf);
        if (!ok(n > 0 && (!want.buf || strcmp(got, want.buf) == 0)
                && n == jv_array_length(jv_copy(problems)),
                "%s:%d: invalid %s", file, lineno, desc))
            tap_diag("got (%d):\n%swant:\n%s", n, got,
                     want.buf ? want.buf : "(any problem)\n");
        sb_free(&want);
    }
    free(got);
    jv_free(problems);
    jv_free(doc);
}

static char *
slurp(const char *path)
{
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f)
        return NULL;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_add(&sb, buf, n);
    fclose(f);
    return sb_detach(&sb, NULL);
}

/*
 * One pass over the lines of a .test file.  A case ("valid:", "invalid:"
 * and its "=>" lines, "error:") runs when the line after it shows it is
 * complete, hence the pending state.
 */
static void
run_file(const char *dir, const char *file)
{
    char *path = xasprintf("%s/%s", dir, file);
    char *text = slurp(path);
    block b;
    enum { NONE, SCHEMA, VALID, INVALID } pending = NONE;
    strbuf pend_text = STRBUF_INIT, pend_expect = STRBUF_INIT;
    int pend_line = 0, lineno = 0;
    char *save = NULL;

    memset(&b, 0, sizeof b);
    if (!text) {
        ok(0, "%s: cannot read", path);
        free(path);
        return;
    }
    for (char *line = text; line; line = save) {
        char *nl = strchr(line, '\n');
        bool flush;
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        if (line[0] == '#' || *skip_space(line) == '\0')
            continue;

        if (pending == SCHEMA && !starts(line, "valid:")
            && !starts(line, "invalid:") && !starts(line, "error:")
            && !starts(line, "schema:")) {
            sb_addf(&b.text, "\n%s", line);          /* continuation */
            continue;
        }
        if (pending == INVALID && starts(skip_space(line), "=>")) {
            sb_addf(&pend_expect, "%s\n", skip_space(skip_space(line) + 2));
            continue;
        }
        flush = pending == VALID || pending == INVALID;
        if (flush)
            run_case(&b, file, pend_line, pending == VALID, pend_text.buf,
                     &pend_expect);
        sb_reset(&pend_text);
        sb_free(&pend_expect);
        pending = NONE;

        if (starts(line, "schema:")) {
            block_end(&b);
            b.file = file;
            b.line = lineno;
            sb_adds(&b.text, skip_space(line + 7));
            pending = SCHEMA;
        } else if (!b.text.buf) {
            ok(0, "%s:%d: case before any schema:", file, lineno);
        } else if (starts(line, "error:")) {
            const char *want = skip_space(line + 6);
            block_compile(&b);
            b.seen_case = true;
            if (!ok(!b.s && b.err.code == OSM_ECONFIG
                    && strcmp(b.err.msg, want) == 0,
                    "%s:%d: error %s", file, lineno, want))
                tap_diag("got: %s", b.s ? "(compiled)" : b.err.msg);
        } else if (starts(line, "valid:") || starts(line, "invalid:")) {
            pending = line[0] == 'v' ? VALID : INVALID;
            pend_line = lineno;
            sb_adds(&pend_text, skip_space(line + (pending == VALID ? 6 : 8)));
        } else {
            ok(0, "%s:%d: cannot parse line: %s", file, lineno, line);
        }
    }
    if (pending == VALID || pending == INVALID)
        run_case(&b, file, pend_line, pending == VALID, pend_text.buf,
                 &pend_expect);
    block_end(&b);
    sb_free(&pend_text);
    sb_free(&pend_expect);
    free(text);
    free(path);
}

static int
is_test_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && strcmp(d->d_name + n - 5, ".test") == 0;
}

static void
run_fixtures(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, is_test_file, alphasort);

    if (n <= 0) {
        ok(0, "%s: no *.test files", dir);
        if (n == 0)
            free(names);
        return;
    }
    for (int i = 0; i < n; i++) {
        run_file(dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
}

/* ------------------------------------------------------------ API */

/* JSON written with ' for " to keep it readable here (no ' inside). */
static char *
dq(const char *text)
{
    char *t = xstrdup(text);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    return t;
}

static jv
parse_dq(const char *text)
{
    char *t = dq(text);
    jv v = jv_parse(t);
    free(t);
    return v;
}

static int
compile_dq(const char *text, const char *name, schema **out, osm_err *err)
{
    char *t = dq(text);
    int rc = schema_compile(t, name, out, err);
    free(t);
    return rc;
}

static const char *manifest_schema =
    "{'$schema': 'https://json-schema.org/draft/2020-12/schema',"
    " 'type': 'object', 'required': ['name', 'version'],"
    " 'additionalProperties': false,"
    " 'properties': {"
    "  'name': {'type': 'string', 'pattern': '^[a-z][a-z0-9-]*$'},"
    "  'version': {'type': 'string',"
    "              'pattern': '^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$',"
    "              'patternMessage': 'must be MAJOR.MINOR.PATCH, like 1.0.0'},"
    "  'functions': {'type': 'object',"
    "                'additionalProperties': {'$ref': '#/$defs/function'}}},"
    " '$defs': {'function': {"
    "  'type': 'object', 'required': ['kind'],"
    "  'additionalProperties': false, 'properties': {"
    "   'kind': {'enum': ['automated', 'manual', 'timer', 'rule']},"
    "   'system': {'type': 'string', 'minLength': 1},"
    "   'duration': {'type': 'string', 'format': 'duration'},"
    "   'retry': {'type': 'integer', 'minimum': 0, 'maximum': 10},"
    "   'after': {'type': 'array', 'uniqueItems': true, 'items': {'anyOf': ["
    "     {'type': 'string'},"
    "     {'type': 'object', 'required': ['function'],"
    "      'properties': {"
    "        'function': {'type': 'string'},"
    "        'delay': {'type': 'string', 'format': 'duration'}}}]}}},"
    "  'if': {'properties': {'kind': {'const': 'automated'}}},"
    "  'then': {'required': ['system']}}}}";

static void
test_api(void)
{
    schema *s = NULL;
    osm_err err;
    jv doc, problems, msg;
    char *got;
    int n;

    schema_free(NULL);
    ok(1, "schema_free(NULL) is harmless");

    osm_err_clear(&err);
    is_int(schema_compile("{\"type\": ", "broken.json", &s, &err), OSM_ECONFIG,
           "invalid JSON is refused");
    ok(s == NULL && strncmp(err.msg, "broken.json: invalid JSON: ", 27) == 0,
       "and the message names the schema: %s", err.msg);

    is_int(compile_dq("{'properties': {'a': {'typ': 1}}}", "x.schema.json",
                      &s, &err), OSM_ECONFIG, "unknown keyword is refused");
    is_str(err.msg, "x.schema.json#/properties/a: unknown keyword \"typ\"",
           "with the schema's name and the JSON pointer");
    ok(s == NULL, "*out is left alone on failure");

    is_int(compile_dq(manifest_schema, "cartridge.schema.json", &s, &err), 0,
           "a manifest-like schema compiles");
    if (!s) {
        tap_diag("%s", err.msg);
        return;
    }
    is_str(schema_name(s), "cartridge.schema.json", "schema_name");

    doc = parse_dq("{'name': 'Broadband', 'functions': {"
                   "  'bill': {'kind': 'automated', 'after': [3]}},"
                   " 'extra': 1}");
    is_int(jv_get_refcnt(doc), 1, "document has one reference");
    n = schema_validate(s, doc, NULL);
    is_int(n, 5, "problems == NULL still counts every problem");
    is_int(jv_get_refcnt(doc), 1, "doc is not consumed");
    n = schema_validate(s, doc, &problems);
    is_int(n, jv_array_length(jv_copy(problems)), "count matches the array");
    got = render(problems);
    is_str(got,
           ".: missing required property \"version\"\n"
           ".name: must match pattern ^[a-z][a-z0-9-]*$\n"
           ".functions.bill: missing required property \"system\"\n"
           ".functions.bill.after[0]: "
           "expected one of string, object, got number\n"
           ".: unknown property \"extra\"\n",
           "problems in document order");
    free(got);
    jv_free(problems);
    jv_free(doc);

    doc = parse_dq("{'name': 'bb', 'version': '1.0.0'}");
    n = schema_validate(s, doc, &problems);
    ok(n == 0 && jv_get_kind(problems) == JV_KIND_ARRAY
       && jv_array_length(jv_copy(problems)) == 0,
       "a valid document gives an empty problems array");
    jv_free(problems);
    jv_free(doc);

    doc = parse_dq("{'name': 'bb', 'version': '1.0'}");
    n = schema_validate(s, doc, &problems);
    got = render(problems);
    is_str(got, ".version: must be MAJOR.MINOR.PATCH, like 1.0.0\n",
           "patternMessage is what a person is told, not the expression");
    free(got);
    jv_free(problems);
    jv_free(doc);

    n = schema_validate(s, jv_invalid(), &problems);
    is_int(n, 1, "an invalid jv is one problem, not a crash");
    jv_free(problems);
    schema_free(s);

    /* a document deeper than any real one, built by hand */
    is_int(compile_dq("{'type': 'array', 'items': {'$ref': '#'}}", NULL, &s,
                      &err), 0, "recursive array schema compiles");
    doc = jv_array();
    for (int i = 0; i < 5000; i++)
        doc = JV_ARRAY_1(doc);
    n = schema_validate(s, doc, &problems);
    ok(n == 1, "a 5000-deep document is refused, not a stack overflow");
    msg = jv_object_get(jv_array_get(jv_copy(problems), 0),
                        jv_string("message"));
    is_str(jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : NULL,
           "is nested too deeply to validate", "with a message saying so");
    jv_free(msg);
    jv_free(problems);
    jv_free(doc);
    schema_free(s);
}

/*
 * Validate LOOPS documents, alternating valid and invalid ones, against a
 * manifest-like schema; all the allocation a problem causes must be
 * released (run under valgrind to see it).
 */
static void
test_loop(void)
{
    schema *s;
    osm_err err;
    jv good, bad;
    struct timespec t0, t1;
    long problems = 0, valid = 0;
    double us;

    if (compile_dq(manifest_schema, "cartridge.schema.json", &s, &err) != 0) {
        ok(0, "loop schema compiles: %s", err.msg);
        return;
    }
    good = parse_dq("{'name': 'broadband', 'version': '1.0.0', 'functions': {"
                    " 'allocate': {'kind': 'automated', 'system': 'inventory',"
                    "              'duration': 'PT10M', 'retry': 3},"
                    " 'bill': {'kind': 'automated', 'system': 'billing',"
                    "          'after': ['allocate', {'function': 'install',"
                    "                                 'delay': 'PT1H'}]},"
                    " 'install': {'kind': 'manual', 'duration': 'P1D'}}}");
    bad = parse_dq("{'name': 'broadband', 'version': '1.0', 'functions': {"
                   " 'bill': {'kind': 'automatic', 'after': ['a', 'a', 7],"
                   "          'retry': 11, 'duration': '30s'}}}");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < LOOPS; i++) {
        jv p;
        int n = schema_validate(s, i % 2 ? bad : good, i % 4 == 3 ? NULL : &p);
        if (i % 4 != 3)
            jv_free(p);
        problems += n;
        valid += n == 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6
          + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / LOOPS;
    is_int(valid, LOOPS / 2, "%d documents validated, half of them valid",
           LOOPS);
    is_int(problems, (long)(LOOPS / 2) * 6, "6 problems in each invalid one");
    tap_diag("%.2f us per document", us);
    jv_free(good);
    jv_free(bad);
    schema_free(s);
}

int
main(int argc, char **argv)
{
    const char *srcdir = getenv("OSM_SRCDIR");
    char *dir;

    diag_init(argv[0]);
    if (argc > 1)
        dir = xstrdup(argv[1]);
    else if (srcdir)
        dir = xasprintf("%s/tests/fixtures/schema", srcdir);
    else {
        printf("Bail out! no fixtures directory: give it as argument "
               "or set OSM_SRCDIR\n");
        return 1;
    }
    run_fixtures(dir);
    free(dir);
    test_api();
    test_loop();
    return done_testing();
}
