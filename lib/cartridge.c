/*
 * Cartridges: loading a file set, checking it completely (schema,
 * references, the function graph, every jq program) and compiling its jq
 * once.  The check reports every problem it finds with the file and the
 * manifest path, so that a cartridge developer fixes them in one round.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cartridge.h"
#include "clock.h"
#include "embedded.h"
#include "json.h"
#include "schema.h"
#include "sha256.h"
#include "xalloc.h"

#define MANIFEST "cartridge.json"

/* What a check run collects. */
typedef struct checker {
    cartridge *c;
    jv problems;
    jv warnings;
} checker;

static void
add_problem(jv *list, const char *file, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add_problem(jv *list, const char *file, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jv p = jv_object();
    p = jv_object_set(p, jv_string("file"), jv_string(file));
    p = jv_object_set(p, jv_string("path"), jv_string(path));
    p = jv_object_set(p, jv_string("message"), jv_string(msg));
    *list = jv_array_append(*list, p);
}

#define PROBLEM(ck, path, ...) add_problem(&(ck)->problems, MANIFEST, path, __VA_ARGS__)
#define WARNING(ck, path, ...) add_problem(&(ck)->warnings, MANIFEST, path, __VA_ARGS__)

/* A member of an object, or jv_invalid() when obj is not an object or has
 * no such member.  Does not consume obj. */
static jv
member(jv obj, const char *key)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return jv_invalid();
    jv v = jv_object_get(jv_copy(obj), jv_string(key));
    return v;
}

static int
is_identifier(const char *k)
{
    if (!isalpha((unsigned char)*k) && *k != '_')
        return 0;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return 0;
    return 1;
}

/* Append ".key" or ["key"] (jq path syntax) to sb. */
static void
path_key(strbuf *sb, const char *key)
{
    if (is_identifier(key)) {
        sb_addf(sb, ".%s", key);
    } else {
        jv s = jv_dump_string(jv_string(key), 0);
        if (sb->len == 0)
            sb_adds(sb, ".");
        sb_addf(sb, "[%s]", jv_string_value(s));
        jv_free(s);
    }
}

/* ".functions.bill.request" style path; NULL components end the list. */
static char *
mkpath(const char *first, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, first);
    for (const char *k = first; k; k = va_arg(ap, const char *))
        path_key(&sb, k);
    va_end(ap);
    return sb_detach(&sb, NULL);
}

static int
name_like(const char *s)
{
    if (!islower((unsigned char)*s))
        return 0;
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' &&
            *p != '_')
            return 0;
    return 1;
}

int
cartridge_is_duration(const char *s)
{
    int64_t ms;
    return duration_parse(s, &ms) == 0;
}

/* ------------------------------------------------------------ programs */

/*
 * Register the jq program src (inline, or "@file.jq") under key.  The
 * manifest location is path; problems with the reference are reported.
 */
static void
add_prog(checker *ck, const char *key, const char *path, const char *src)
{
    cartridge *c = ck->c;
    char *file = NULL, *text = NULL;

    if (src[0] == '@' && strlen(src) > 4 && strcmp(src + strlen(src) - 3, ".jq") == 0) {
        const cart_file *f = cart_files_get(&c->files, src + 1);
        if (!f) {
            PROBLEM(ck, path, "no such file \"%s\" in the cartridge", src + 1);
            return;
        }
        if (memchr(f->data, '\0', f->size)) {
            add_problem(&ck->problems, src + 1, ".", "file holds a NUL byte");
            return;
        }
        file = xstrdup(src + 1);
        text = xstrndup((const char *)f->data, f->size);
    } else {
        file = xstrdup(MANIFEST);
        text = xstrdup(src);
    }
    c->progs = xrealloc(c->progs, (c->nprogs + 1) * sizeof *c->progs);
    cart_prog *p = &c->progs[c->nprogs++];
    p->key = xstrdup(key);
    p->file = file;
    p->path = xstrdup(path);
    char *name = strcmp(file, MANIFEST) == 0 ? xasprintf("%s: %s", file, path)
                                             : xstrdup(file);
    p->index = jqprog_add(c->jq, name, text);
    free(name);
    free(text);
}

/*
 * A jq-valued field: the manifest's string at obj[field] (reporting a
 * wrong type is the schema's job), or dflt when absent and dflt is set.
 */
static void
jq_field(checker *ck, jv obj, const char *field, const char *dflt, const char *keyfmt,
         const char *path)
{
    jv v = member(obj, field);
    char *key = xasprintf("%s.%s", keyfmt, field);
    strbuf p = STRBUF_INIT;
    sb_adds(&p, path);
    path_key(&p, field);
    if (jv_get_kind(v) == JV_KIND_STRING &&
        strlen(jv_string_value(v)) != (size_t)jv_string_length_bytes(jv_copy(v)))
        PROBLEM(ck, p.buf, "jq program holds a NUL character");
    else if (jv_get_kind(v) == JV_KIND_STRING)
        add_prog(ck, key, p.buf, jv_string_value(v));
    else if (dflt && jv_get_kind(v) == JV_KIND_INVALID)
        add_prog(ck, key, p.buf, dflt);
    jv_free(v);
    sb_free(&p);
    free(key);
}

/* ------------------------------------------------------------ loading */

cartridge *
cartridge_from_files(cart_files *files, const char *origin)
{
    cartridge *c = xcalloc(1, sizeof *c);
    c->origin = xstrdup(origin);
    c->files = *files;
    memset(files, 0, sizeof *files);
    c->manifest = jv_null();

    const cart_file *m = cart_files_get(&c->files, MANIFEST);
    if (m) {
        jv v = json_parse_mem((const char *)m->data, m->size, NULL);
        if (jv_is_valid(v)) {
            jv_free(c->manifest);
            c->manifest = v;
            jv name = member(v, "name"), version = member(v, "version");
            if (jv_get_kind(name) == JV_KIND_STRING)
                c->name = xstrdup(jv_string_value(name));
            if (jv_get_kind(version) == JV_KIND_STRING)
                c->version = xstrdup(jv_string_value(version));
            jv_free(name);
            jv_free(version);
        } else {
            jv_free(v);
        }
    }
    return c;
}

int
cartridge_load_path(const char *path, cartridge **out, osm_err *err)
{
    cart_files files;
    int rc;

    *out = NULL;
    if ((rc = cart_files_from_path(path, &files, err)) != 0)
        return rc;
    *out = cartridge_from_files(&files, path);
    return 0;
}

/* ------------------------------------------------------------ the check */

static const schema *
manifest_schema(osm_err *err)
{
    static schema *s;
    if (!s) {
        const char *text = embedded_get("cartridge.schema.json", NULL);
        if (schema_compile(text, "cartridge.schema.json", &s, err) != 0)
            return NULL;
    }
    return s;
}

static void
check_manifest_parse(checker *ck)
{
    const cart_file *m = cart_files_get(&ck->c->files, MANIFEST);
    if (!m) {
        add_problem(&ck->problems, MANIFEST, ".", "no cartridge.json at the top of the cartridge");
        return;
    }
    osm_err err = { 0, "" };
    jv v = json_parse_mem((const char *)m->data, m->size, &err);
    if (!jv_is_valid(v)) {
        jv_free(v);
        add_problem(&ck->problems, MANIFEST, ".", "not valid JSON: %s", err.msg);
        return;
    }
    if (jv_get_kind(v) != JV_KIND_OBJECT)
        add_problem(&ck->problems, MANIFEST, ".", "expected an object");
    jv_free(v);
}

static void
check_schema(checker *ck)
{
    osm_err err = { 0, "" };
    const schema *s = manifest_schema(&err);
    jv problems;

    if (!s) {
        PROBLEM(ck, ".", "internal error: %s", err.msg);
        return;
    }
    if (schema_validate(s, ck->c->manifest, &problems) > 0) {
        jv_array_foreach(problems, i, p) {
            jv path = jv_object_get(jv_copy(p), jv_string("path"));
            jv msg = jv_object_get(p, jv_string("message"));
            PROBLEM(ck, jv_string_value(path), "%s", jv_string_value(msg));
            jv_free(path);
            jv_free(msg);
        }
    }
    jv_free(problems);
}

/* Is name a key of manifest[section]? */
static int
declared(const cartridge *c, const char *section, const char *name)
{
    jv sec = member(c->manifest, section);
    int found = 0;
    if (jv_get_kind(sec) == JV_KIND_OBJECT) {
        jv v = jv_object_get(jv_copy(sec), jv_string(name));
        found = jv_is_valid(v);
        jv_free(v);
    }
    jv_free(sec);
    return found;
}

static void
check_ref(checker *ck, jv obj, const char *field, const char *section, const char *what,
          const char *path)
{
    jv v = member(obj, field);
    if (jv_get_kind(v) == JV_KIND_STRING && !declared(ck->c, section, jv_string_value(v))) {
        strbuf p = STRBUF_INIT;
        sb_adds(&p, path);
        path_key(&p, field);
        PROBLEM(ck, p.buf, "unknown %s \"%s\"", what, jv_string_value(v));
        sb_free(&p);
    }
    jv_free(v);
}

/* A hook command whose first word is a relative path names a cartridge file. */
static void
check_command(checker *ck, jv obj, const char *path)
{
    jv v = member(obj, "command");
    if (jv_get_kind(v) == JV_KIND_STRING) {
        const char *cmd = jv_string_value(v);
        size_t n = strcspn(cmd, " \t\n;|&<>()");
        char *word = xstrndup(cmd, n);
        if (word[0] && word[0] != '/' && strchr(word, '/') && !strchr(word, '$')) {
            const char *rel = strncmp(word, "./", 2) == 0 ? word + 2 : word;
            const cart_file *f = cart_files_get(&ck->c->files, rel);
            char *p = xasprintf("%s.command", path);
            if (!f)
                PROBLEM(ck, p, "command names \"%s\", which is not in the cartridge", word);
            else if (!f->executable)
                PROBLEM(ck, p, "command names \"%s\", which is not executable", word);
            free(p);
        }
        free(word);
    }
    jv_free(v);
}

static void
check_order_types(checker *ck)
{
    jv types = member(ck->c->manifest, "orderTypes");
    if (jv_get_kind(types) != JV_KIND_OBJECT) {
        jv_free(types);
        return;
    }
    jv_object_foreach(types, name, ot) {
        const char *n = jv_string_value(name);
        char *path = mkpath("orderTypes", n, NULL);
        char *key = xasprintf("orderTypes.%s", n);
        jq_field(ck, ot, "recognize", NULL, key, path);
        jq_field(ck, ot, "validate", "empty", key, path);
        jq_field(ck, ot, "transform", ".", key, path);
        jq_field(ck, ot, "key", ".externalId", key, path);
        jq_field(ck, ot, "revision", ".revisionNumber // 0", key, path);
        jq_field(ck, ot, "requestedDate", ".requestedDate // null", key, path);
        jq_field(ck, ot, "requestedStartDate", ".requestedStartDate // null", key, path);
        jv prio = member(ot, "priority");
        if (jv_get_kind(prio) == JV_KIND_STRING)
            jq_field(ck, ot, "priority", NULL, key, path);
        jv_free(prio);
        check_ref(ck, ot, "falloutWorkgroup", "workgroups", "workgroup", path);
        /* an order type's own items mapping: each field it names
         * replaces the cartridge's */
        jv items = member(ot, "items");
        if (jv_get_kind(items) == JV_KIND_OBJECT) {
            static const char *const fields[] = { "path", "id", "action", "spec", "reliesOn",
                                                  "requestedDate", "requestedStartDate",
                                                  "pattern" };
            char *ikey = xasprintf("%s.items", key), *ipath = xasprintf("%s.items", path);
            for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
                jq_field(ck, items, fields[f], NULL, ikey, ipath);
            free(ikey);
            free(ipath);
        }
        jv_free(items);
        free(path);
        free(key);
        jv_free(name);
        jv_free(ot);
    }
    jv_free(types);
}

static void
check_items(checker *ck)
{
    jv items = member(ck->c->manifest, "items");
    if (!jv_is_valid(items))
        items = jv_object();
    jq_field(ck, items, "path", ".items", "items", ".items");
    jq_field(ck, items, "id", ".id", "items", ".items");
    jq_field(ck, items, "action", ".action // \"add\"", "items", ".items");
    jq_field(ck, items, "spec", ".spec", "items", ".items");
    jq_field(ck, items, "reliesOn", ".reliesOn // []", "items", ".items");
    jq_field(ck, items, "requestedDate", ".requestedDate // null", "items", ".items");
    jq_field(ck, items, "requestedStartDate", ".requestedStartDate // null", "items", ".items");
    jq_field(ck, items, "pattern", NULL, "items", ".items");
    jv_free(items);
}

/* Does the array list (borrowed) hold the string name? */
static int
list_has(jv list, const char *name)
{
    int found = 0;
    if (jv_get_kind(list) != JV_KIND_ARRAY)
        return 0;
    jv_array_foreach(list, i, v) {
        if (!found && jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), name) == 0)
            found = 1;
        jv_free(v);
    }
    return found;
}

/* Does one of the action lists of pattern actions (borrowed) hold fn? */
static int
pattern_has(jv actions, const char *fn)
{
    int found = 0;
    if (jv_get_kind(actions) != JV_KIND_OBJECT)
        return 0;
    jv_object_foreach(actions, action, fns) {
        if (!found && strcmp(jv_string_value(action), "reliesOn") != 0)
            found = list_has(fns, fn);
        jv_free(action);
        jv_free(fns);
    }
    return found;
}

/*
 * A pattern's reliesOn map: each function it names must be one of the
 * pattern's, each function waited for a declared one.
 */
static void
check_relies_map(checker *ck, const char *spec, jv actions)
{
    jv map = member(actions, "reliesOn");
    if (jv_get_kind(map) == JV_KIND_OBJECT) {
        jv_object_foreach(map, fn, targets) {
            char *p = mkpath("patterns", spec, "reliesOn", jv_string_value(fn), NULL);
            if (!pattern_has(actions, jv_string_value(fn)))
                PROBLEM(ck, p, "\"%s\" is not a function of pattern \"%s\": only the "
                        "pattern's functions can wait for a related item's", jv_string_value(fn),
                        spec);
            if (jv_get_kind(targets) == JV_KIND_ARRAY) {
                jv_array_foreach(targets, i, t) {
                    if (jv_get_kind(t) == JV_KIND_STRING &&
                        !declared(ck->c, "functions", jv_string_value(t))) {
                        char *pi = xasprintf("%s[%d]", p, i);
                        PROBLEM(ck, pi, "unknown function \"%s\"", jv_string_value(t));
                        free(pi);
                    }
                    jv_free(t);
                }
            }
            free(p);
            jv_free(fn);
            jv_free(targets);
        }
    }
    jv_free(map);
}

static void
check_patterns(checker *ck)
{
    jv patterns = member(ck->c->manifest, "patterns");
    if (jv_get_kind(patterns) != JV_KIND_OBJECT) {
        jv_free(patterns);
        return;
    }
    jv_object_foreach(patterns, spec, actions) {
        check_relies_map(ck, jv_string_value(spec), actions);
        if (jv_get_kind(actions) == JV_KIND_OBJECT) {
            jv_object_foreach(actions, action, fns) {
                if (jv_get_kind(fns) == JV_KIND_ARRAY) {
                    jv_array_foreach(fns, i, fn) {
                        if (jv_get_kind(fn) == JV_KIND_STRING &&
                            !declared(ck->c, "functions", jv_string_value(fn))) {
                            char *p = mkpath("patterns", jv_string_value(spec),
                                             jv_string_value(action), NULL);
                            char *pi = xasprintf("%s[%d]", p, i);
                            PROBLEM(ck, pi, "unknown function \"%s\"", jv_string_value(fn));
                            free(pi);
                            free(p);
                        }
                        jv_free(fn);
                    }
                }
                jv_free(action);
                jv_free(fns);
            }
        }
        jv_free(spec);
        jv_free(actions);
    }
    jv_free(patterns);
}

/*
 * Is there a pattern with both functions f and g in one of its action
 * lists (any pattern with f when g is NULL)?
 */
static int
functions_in_a_pattern(const cartridge *c, const char *f, const char *g)
{
    jv patterns = member(c->manifest, "patterns");
    int found = 0;
    if (jv_get_kind(patterns) == JV_KIND_OBJECT) {
        jv_object_foreach(patterns, spec, actions) {
            if (!found && jv_get_kind(actions) == JV_KIND_OBJECT) {
                jv_object_foreach(actions, action, fns) {
                    if (!found && list_has(fns, f) && (!g || list_has(fns, g)))
                        found = 1;
                    jv_free(action);
                    jv_free(fns);
                }
            }
            jv_free(spec);
            jv_free(actions);
        }
    }
    jv_free(patterns);
    return found;
}

static int
function_in_patterns(const cartridge *c, const char *fn)
{
    jv patterns = member(c->manifest, "patterns");
    int found = 0;
    if (jv_get_kind(patterns) == JV_KIND_OBJECT) {
        jv_object_foreach(patterns, spec, actions) {
            if (!found && jv_get_kind(actions) == JV_KIND_OBJECT) {
                jv_object_foreach(actions, action, fns) {
                    if (!found && jv_get_kind(fns) == JV_KIND_ARRAY) {
                        jv_array_foreach(fns, i, f) {
                            if (jv_get_kind(f) == JV_KIND_STRING &&
                                strcmp(jv_string_value(f), fn) == 0)
                                found = 1;
                            jv_free(f);
                        }
                    }
                    jv_free(action);
                    jv_free(fns);
                }
            }
            jv_free(spec);
            jv_free(actions);
        }
    }
    jv_free(patterns);
    return found;
}

/* Is the dependency dep (borrowed) of scope order? */
static int
order_scope(jv dep)
{
    jv scope = member(dep, "scope");
    int order = jv_get_kind(scope) == JV_KIND_STRING && strcmp(jv_string_value(scope), "order") == 0;
    jv_free(scope);
    return order;
}

/* duration-or-jq field: register as jq unless it is a duration */
static void
duration_field(checker *ck, jv obj, const char *field, const char *key, const char *path)
{
    jv v = member(obj, field);
    if (jv_get_kind(v) == JV_KIND_STRING && !cartridge_is_duration(jv_string_value(v)))
        jq_field(ck, obj, field, NULL, key, path);
    jv_free(v);
}

static void
check_function(checker *ck, const char *fname, jv fn)
{
    char *path = mkpath("functions", fname, NULL);
    char *key = xasprintf("functions.%s", fname);
    jv v;

    /* system: a declared name, else a jq selector */
    v = member(fn, "system");
    if (jv_get_kind(v) == JV_KIND_STRING && !declared(ck->c, "systems", jv_string_value(v))) {
        if (name_like(jv_string_value(v))) {
            char *p = xasprintf("%s.system", path);
            PROBLEM(ck, p, "unknown system \"%s\"", jv_string_value(v));
            free(p);
        } else {
            jq_field(ck, fn, "system", NULL, key, path);
        }
    }
    jv_free(v);

    v = member(fn, "group");
    if (jv_get_kind(v) == JV_KIND_STRING) {
        const char *g = jv_string_value(v);
        if (strcmp(g, "order") && strcmp(g, "system") && strcmp(g, "item"))
            jq_field(ck, fn, "group", NULL, key, path);
    }
    jv_free(v);

    v = member(fn, "onRevision");
    if (jv_get_kind(v) == JV_KIND_STRING) {
        const char *r = jv_string_value(v);
        if (strcmp(r, "redo") && strcmp(r, "undoThenDo") && strcmp(r, "ignore"))
            jq_field(ck, fn, "onRevision", NULL, key, path);
    }
    jv_free(v);

    duration_field(ck, fn, "duration", key, path);
    duration_field(ck, fn, "wait", key, path);
    jq_field(ck, fn, "when", NULL, key, path);
    jq_field(ck, fn, "request", NULL, key, path);
    jq_field(ck, fn, "response", NULL, key, path);
    jq_field(ck, fn, "rule", NULL, key, path);
    jq_field(ck, fn, "until", NULL, key, path);
    check_ref(ck, fn, "workgroup", "workgroups", "workgroup", path);
    check_ref(ck, fn, "falloutWorkgroup", "workgroups", "workgroup", path);

    v = member(fn, "after");
    if (jv_get_kind(v) == JV_KIND_ARRAY) {
        jv_array_foreach(v, i, dep) {
            char *dpath = xasprintf("%s.after[%d]", path, i);
            char *dkey = xasprintf("%s.after.%d", key, i);
            jv target = jv_get_kind(dep) == JV_KIND_STRING ? jv_copy(dep)
                                                           : member(dep, "function");
            if (jv_get_kind(target) == JV_KIND_STRING &&
                !declared(ck->c, "functions", jv_string_value(target)))
                PROBLEM(ck, dpath, "unknown function \"%s\"", jv_string_value(target));
            else if (jv_get_kind(target) == JV_KIND_STRING &&
                     strcmp(jv_string_value(target), fname) == 0)
                PROBLEM(ck, dpath, "function \"%s\" depends on itself", fname);
            else if (jv_get_kind(target) == JV_KIND_STRING && !order_scope(dep) &&
                     functions_in_a_pattern(ck->c, fname, NULL) &&
                     !functions_in_a_pattern(ck->c, fname, jv_string_value(target)))
                /* an after of scope item looks at the same item's functions only */
                PROBLEM(ck, dpath,
                        "no pattern has both \"%s\" and \"%s\", so \"%s\" never waits "
                        "for it: add \"%s\" to the patterns of \"%s\", or write "
                        "{\"function\": \"%s\", \"scope\": \"order\"} to wait for it "
                        "on every item of the order",
                        fname, jv_string_value(target), fname, jv_string_value(target), fname,
                        jv_string_value(target));
            if (jv_get_kind(dep) == JV_KIND_OBJECT) {
                duration_field(ck, dep, "delay", dkey, dpath);
                jq_field(ck, dep, "until", NULL, dkey, dpath);
                jq_field(ck, dep, "condition", NULL, dkey, dpath);
            }
            jv_free(target);
            jv_free(dep);
            free(dpath);
            free(dkey);
        }
    }
    jv_free(v);

    if (!function_in_patterns(ck->c, fname))
        WARNING(ck, path, "function \"%s\" is not used by any pattern", fname);
    free(path);
    free(key);
}

/* Depth-first search of the "after" graph; reports each cycle once. */
typedef struct fgraph {
    char **names;
    int n;
    int *adj;       /* n*n matrix: adj[i*n+j] = i waits for j */
    int *colour;    /* 0 new, 1 on the stack, 2 done */
    int *stack;
    int depth;
} fgraph;

static int
fgraph_index(const fgraph *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->names[i], name) == 0)
            return i;
    return -1;
}

static void
fgraph_visit(checker *ck, fgraph *g, int v)
{
    g->colour[v] = 1;
    g->stack[g->depth++] = v;
    for (int w = 0; w < g->n; w++) {
        if (!g->adj[v * g->n + w] || v == w)
            continue;
        if (g->colour[w] == 1) {
            strbuf sb = STRBUF_INIT;
            int start = g->depth - 1;
            while (g->stack[start] != w)
                start--;
            for (int k = start; k < g->depth; k++)
                sb_addf(&sb, "%s -> ", g->names[g->stack[k]]);
            sb_adds(&sb, g->names[w]);
            char *p = mkpath("functions", g->names[w], NULL);
            char *pa = xasprintf("%s.after", p);
            PROBLEM(ck, pa, "functions depend on each other in a cycle: %s", sb.buf);
            free(pa);
            free(p);
            sb_free(&sb);
        } else if (g->colour[w] == 0) {
            fgraph_visit(ck, g, w);
        }
    }
    g->depth--;
    g->colour[v] = 2;
}

static void
check_cycles(checker *ck)
{
    jv fns = member(ck->c->manifest, "functions");
    fgraph g = { 0 };

    if (jv_get_kind(fns) != JV_KIND_OBJECT || jv_object_length(jv_copy(fns)) > 500) {
        jv_free(fns);   /* too many: the schema says so, and the matrix would be huge */
        return;
    }
    g.n = jv_object_length(jv_copy(fns));
    g.names = xcalloc((size_t)g.n, sizeof *g.names);
    g.adj = xcalloc((size_t)g.n * (size_t)g.n, sizeof *g.adj);  /* n <= 500 (schema) */
    g.colour = xcalloc((size_t)g.n, sizeof *g.colour);
    g.stack = xcalloc((size_t)g.n, sizeof *g.stack);
    int i = 0;
    jv_object_foreach(fns, name, fn) {
        g.names[i++] = xstrdup(jv_string_value(name));
        jv_free(name);
        jv_free(fn);
    }
    /* jq objects iterate in insertion-independent order: sort for stable
     * messages */
    for (int a = 0; a < g.n; a++)
        for (int b = a + 1; b < g.n; b++)
            if (strcmp(g.names[a], g.names[b]) > 0) {
                char *t = g.names[a];
                g.names[a] = g.names[b];
                g.names[b] = t;
            }
    for (int a = 0; a < g.n; a++) {
        jv fn = member(fns, g.names[a]);
        jv after = member(fn, "after");
        if (jv_get_kind(after) == JV_KIND_ARRAY) {
            jv_array_foreach(after, k, dep) {
                jv t = jv_get_kind(dep) == JV_KIND_STRING ? jv_copy(dep) : member(dep, "function");
                int b = jv_get_kind(t) == JV_KIND_STRING ? fgraph_index(&g, jv_string_value(t)) : -1;
                if (b >= 0)
                    g.adj[a * g.n + b] = 1;
                jv_free(t);
                jv_free(dep);
            }
        }
        jv_free(after);
        jv_free(fn);
    }
    for (int a = 0; a < g.n; a++)
        if (g.colour[a] == 0)
            fgraph_visit(ck, &g, a);
    for (int a = 0; a < g.n; a++)
        free(g.names[a]);
    free(g.names);
    free(g.adj);
    free(g.colour);
    free(g.stack);
    jv_free(fns);
}

static void
check_functions(checker *ck)
{
    jv fns = member(ck->c->manifest, "functions");
    if (jv_get_kind(fns) == JV_KIND_OBJECT) {
        jv_object_foreach(fns, name, fn) {
            if (jv_get_kind(fn) == JV_KIND_OBJECT)
                check_function(ck, jv_string_value(name), fn);
            jv_free(name);
            jv_free(fn);
        }
    }
    jv_free(fns);
    check_cycles(ck);
}

static int
state_known(jv states, const char *s)
{
    int found = 0;
    if (jv_get_kind(states) != JV_KIND_ARRAY)
        return 1;   /* the schema reports the missing list */
    jv_array_foreach(states, i, v) {
        if (jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), s) == 0)
            found = 1;
        jv_free(v);
    }
    return found;
}

static void
check_rules(checker *ck, jv fs, jv states, const char *which)
{
    jv rules = member(fs, which);
    static const char *const conds[] = { "any", "all", "none" };
    if (jv_get_kind(rules) == JV_KIND_ARRAY) {
        jv_array_foreach(rules, i, r) {
            char *p = xasprintf(".fulfillmentStates.%s[%d]", which, i);
            jv st = member(r, "state");
            if (jv_get_kind(st) == JV_KIND_STRING && !state_known(states, jv_string_value(st)))
                PROBLEM(ck, p, "unknown fulfillment state \"%s\"", jv_string_value(st));
            jv_free(st);
            for (size_t k = 0; k < 3; k++) {
                jv list = member(r, conds[k]);
                if (jv_get_kind(list) == JV_KIND_ARRAY) {
                    jv_array_foreach(list, j, s) {
                        if (jv_get_kind(s) == JV_KIND_STRING &&
                            !state_known(states, jv_string_value(s)))
                            PROBLEM(ck, p, "%s: unknown fulfillment state \"%s\"", conds[k],
                                    jv_string_value(s));
                        jv_free(s);
                    }
                }
                jv_free(list);
            }
            free(p);
            jv_free(r);
        }
    }
    jv_free(rules);
}

static void
check_systems_and_states(checker *ck)
{
    jv fs = member(ck->c->manifest, "fulfillmentStates");
    jv states = member(fs, "states");
    jv systems = member(ck->c->manifest, "systems");

    if (jv_get_kind(systems) == JV_KIND_OBJECT) {
        jv_object_foreach(systems, name, sys) {
            char *path = mkpath("systems", jv_string_value(name), NULL);
            check_command(ck, sys, path);
            jv statuses = member(sys, "statuses");
            if (jv_get_kind(statuses) == JV_KIND_OBJECT) {
                jv_object_foreach(statuses, ext, st) {
                    if (jv_get_kind(st) == JV_KIND_STRING) {
                        char *p = xasprintf("%s.statuses", path);
                        if (!jv_is_valid(fs))
                            PROBLEM(ck, p, "maps statuses, but the cartridge declares no fulfillmentStates");
                        else if (!state_known(states, jv_string_value(st)))
                            PROBLEM(ck, p, "\"%s\" maps to unknown fulfillment state \"%s\"",
                                    jv_string_value(ext), jv_string_value(st));
                        free(p);
                    }
                    jv_free(ext);
                    jv_free(st);
                }
            }
            jv_free(statuses);
            free(path);
            jv_free(name);
            jv_free(sys);
        }
    }
    if (jv_is_valid(fs)) {
        jv init = member(fs, "initial");
        if (jv_get_kind(init) == JV_KIND_STRING && !state_known(states, jv_string_value(init)))
            PROBLEM(ck, ".fulfillmentStates.initial", "unknown fulfillment state \"%s\"",
                    jv_string_value(init));
        jv_free(init);
        check_rules(ck, fs, states, "item");
        check_rules(ck, fs, states, "order");
    }
    jv_free(states);
    jv_free(fs);
    jv_free(systems);
}

static void
check_workgroups_and_notify(checker *ck)
{
    jv m = ck->c->manifest;
    jv notify = member(m, "notify");
    int has_fallout = 0;

    check_ref(ck, m, "falloutWorkgroup", "workgroups", "workgroup", "");
    if (jv_is_valid(notify)) {
        check_command(ck, notify, ".notify");
        jq_field(ck, notify, "payload", NULL, "notify", ".notify");
    }
    jv_free(notify);

    jv fw = member(m, "falloutWorkgroup");
    has_fallout = jv_is_valid(fw);
    jv_free(fw);
    jv wgs = member(m, "workgroups");
    if (jv_get_kind(wgs) == JV_KIND_OBJECT) {
        jv_object_foreach(wgs, name, wg) {
            jv f = member(wg, "fallout");
            if (jv_get_kind(f) == JV_KIND_TRUE)
                has_fallout = 1;
            jv_free(f);
            jv_free(name);
            jv_free(wg);
        }
    }
    jv_free(wgs);
    if (!has_fallout)
        WARNING(ck, ".", "no fallout workgroup: declare falloutWorkgroup or a workgroup with \"fallout\": true");
}

/* Order types of one manifest sharing a relevancy are ambiguous. */
static void
check_relevancy(checker *ck)
{
    jv clashes = cartridge_relevancy_clashes(ck->c, jv_null());
    jv_array_foreach(clashes, i, w) {
        WARNING(ck, ".orderTypes", "%s", jv_string_value(w));
        jv_free(w);
    }
    jv_free(clashes);
}

static void
check_compile(checker *ck)
{
    osm_err err = { 0, "" };
    jv problems = jv_null();
    cartridge *c = ck->c;

    if (jqprog_compile(c->jq, &problems, &err) == 0) {
        jv_free(problems);
        return;
    }
    if (jv_get_kind(problems) != JV_KIND_ARRAY || jv_array_length(jv_copy(problems)) == 0) {
        PROBLEM(ck, ".", "jq: %s", err.msg);
        jv_free(problems);
        return;
    }
    jv seen = jv_object();     /* a file used by several fields: report it once */
    jv_array_foreach(problems, i, p) {
        jv name = jv_object_get(jv_copy(p), jv_string("name"));
        jv msg = jv_object_get(p, jv_string("message"));
        jv key = jv_string_fmt("%s\n%s", jv_string_value(name), jv_string_value(msg));
        jv dup = jv_object_get(jv_copy(seen), jv_copy(key));
        if (jv_is_valid(dup)) {
            jv_free(dup);
            jv_free(key);
            jv_free(name);
            jv_free(msg);
            continue;
        }
        jv_free(dup);
        seen = jv_object_set(seen, key, jv_true());
        const char *file = MANIFEST, *path = ".";
        for (size_t k = 0; k < c->nprogs; k++) {
            const char *pn = jqprog_name(c->jq, c->progs[k].index);
            if (pn && strcmp(pn, jv_string_value(name)) == 0) {
                file = c->progs[k].file;
                path = c->progs[k].path;
                break;
            }
        }
        if (strcmp(file, MANIFEST) == 0)
            add_problem(&ck->problems, file, path, "jq does not compile: %s", jv_string_value(msg));
        else
            add_problem(&ck->problems, file, ".", "jq does not compile (used by %s): %s", path,
                        jv_string_value(msg));
        jv_free(name);
        jv_free(msg);
    }
    jv_free(seen);
    jv_free(problems);
}

static void
reset_programs(cartridge *c)
{
    for (size_t i = 0; i < c->nprogs; i++) {
        free(c->progs[i].key);
        free(c->progs[i].file);
        free(c->progs[i].path);
    }
    free(c->progs);
    c->progs = NULL;
    c->nprogs = 0;
    if (c->jq)
        jqprog_free(c->jq);
    c->jq = jqprog_new();
}

int
cartridge_check(cartridge *c, jv *problems, jv *warnings)
{
    checker ck = { c, jv_array(), jv_array() };
    int n;

    reset_programs(c);
    check_manifest_parse(&ck);
    if (jv_get_kind(c->manifest) == JV_KIND_OBJECT) {
        check_schema(&ck);
        check_order_types(&ck);
        check_items(&ck);
        check_patterns(&ck);
        check_functions(&ck);
        check_systems_and_states(&ck);
        check_workgroups_and_notify(&ck);
        check_relevancy(&ck);
        if (c->derive && jv_array_length(jv_copy(ck.problems)) == 0)
            c->derive(c);
        check_compile(&ck);
    }
    n = jv_array_length(jv_copy(ck.problems));
    c->checked = 1;
    c->valid = n == 0;
    if (problems)
        *problems = ck.problems;
    else
        jv_free(ck.problems);
    if (warnings)
        *warnings = ck.warnings;
    else
        jv_free(ck.warnings);
    return n;
}

static int
open_checked(cartridge *c, cartridge_derive_fn *derive, cartridge **out, osm_err *err)
{
    jv problems;
    int n;

    c->derive = derive;
    n = cartridge_check(c, &problems, NULL);

    if (n > 0) {
        jv first = jv_array_get(problems, 0);
        jv file = jv_object_get(jv_copy(first), jv_string("file"));
        jv path = jv_object_get(jv_copy(first), jv_string("path"));
        jv msg = jv_object_get(first, jv_string("message"));
        osm_fail(err, OSM_ECONFIG, "%s: %s: %s: %s%s", c->origin, jv_string_value(file),
                 jv_string_value(path), jv_string_value(msg),
                 n > 1 ? " (and more: see osm-cartridge check)" : "");
        jv_free(file);
        jv_free(path);
        jv_free(msg);
        cartridge_free(c);
        *out = NULL;
        return OSM_ECONFIG;
    }
    jv_free(problems);
    *out = c;
    return 0;
}

int
cartridge_open_path(const char *path, cartridge_derive_fn *derive, cartridge **out,
                    osm_err *err)
{
    cartridge *c;
    int rc = cartridge_load_path(path, &c, err);
    if (rc != 0)
        return rc;
    return open_checked(c, derive, out, err);
}

int
cartridge_open_archive(const void *buf, size_t len, const char *origin,
                       cartridge_derive_fn *derive, cartridge **out, osm_err *err)
{
    cart_files files;
    int rc = cart_files_from_archive(buf, len, origin, &files, err);
    *out = NULL;
    if (rc != 0)
        return rc;
    return open_checked(cartridge_from_files(&files, origin), derive, out, err);
}

int
cartridge_add_prog(cartridge *c, const char *key, const char *src)
{
    int idx = jqprog_add(c->jq, key, src);
    if (idx < 0)
        return -1;
    c->progs = xrealloc(c->progs, (c->nprogs + 1) * sizeof *c->progs);
    cart_prog *p = &c->progs[c->nprogs++];
    p->key = xstrdup(key);
    p->file = xstrdup(MANIFEST);
    p->path = xstrdup(".");
    p->index = idx;
    return idx;
}

int
cartridge_pack(const cartridge *c, void **buf, size_t *len, char sha256[65], osm_err *err)
{
    int rc = cart_files_pack(&c->files, buf, len, err);
    if (rc == 0)
        sha256_hex(*buf, *len, sha256);
    return rc;
}

/* Collect (name, relevancy) of each order type of a manifest. */
static jv
relevancies(jv manifest)
{
    jv out = jv_array();
    jv types = member(manifest, "orderTypes");
    if (jv_get_kind(types) == JV_KIND_OBJECT) {
        jv_object_foreach(types, name, ot) {
            jv r = member(ot, "relevancy");
            if (jv_get_kind(r) != JV_KIND_NUMBER) {
                jv_free(r);
                r = jv_number(5);
            }
            out = jv_array_append(out, JV_ARRAY(name, r));
            jv_free(ot);
        }
    }
    jv_free(types);
    return out;
}

jv
cartridge_relevancy_clashes(const cartridge *c, jv other)
{
    jv mine = relevancies(c->manifest);
    jv theirs = jv_get_kind(other) == JV_KIND_NULL ? jv_copy(mine) : relevancies(other);
    int same = jv_get_kind(other) == JV_KIND_NULL;
    jv out = jv_array();
    const char *oname = NULL;
    jv on = member(other, "name");
    if (jv_get_kind(on) == JV_KIND_STRING)
        oname = jv_string_value(on);

    int nm = jv_array_length(jv_copy(mine)), nt = jv_array_length(jv_copy(theirs));
    for (int i = 0; i < nm; i++) {
        jv a = jv_array_get(jv_copy(mine), i);
        for (int j = same ? i + 1 : 0; j < nt; j++) {
            jv b = jv_array_get(jv_copy(theirs), j);
            jv ra = jv_array_get(jv_copy(a), 1), rb = jv_array_get(jv_copy(b), 1);
            if (jv_number_value(ra) == jv_number_value(rb)) {
                jv na = jv_array_get(jv_copy(a), 0), nb = jv_array_get(jv_copy(b), 0);
                char *w = xasprintf("order types \"%s\" and %s%s\"%s\" share relevancy %g: "
                                    "which one recognises an order both match is undefined",
                                    jv_string_value(na), oname ? oname : "",
                                    oname ? ":" : "", jv_string_value(nb),
                                    jv_number_value(ra));
                out = jv_array_append(out, jv_string(w));
                free(w);
                jv_free(na);
                jv_free(nb);
            }
            jv_free(ra);
            jv_free(rb);
            jv_free(b);
        }
        jv_free(a);
    }
    jv_free(on);
    jv_free(mine);
    jv_free(theirs);
    jv_free(other);
    return out;
}

void
cartridge_free(cartridge *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nprogs; i++) {
        free(c->progs[i].key);
        free(c->progs[i].file);
        free(c->progs[i].path);
    }
    free(c->progs);
    if (c->jq)
        jqprog_free(c->jq);
    cart_files_free(&c->files);
    jv_free(c->manifest);
    free(c->origin);
    free(c->name);
    free(c->version);
    free(c);
}
