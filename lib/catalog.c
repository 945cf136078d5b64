/*
 * The catalog of loaded cartridges (see catalog.h).  Loading a cartridge
 * compiles all of its jq (tens of milliseconds), so each name@version is
 * loaded at most once per process, whatever the number of orders.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "xalloc.h"

typedef struct entry {
    cartridge *c;
    int candidate;
} entry;

struct catalog {
    store *st;
    cartridge_derive_fn *derive;
    entry *v;
    size_t n;
    catalog_type *types;    /* built on first use */
    size_t ntypes;
};

catalog *
catalog_new(store *st)
{
    catalog *cat = xcalloc(1, sizeof *cat);
    cat->st = st;
    return cat;
}

void
catalog_set_derive(catalog *cat, cartridge_derive_fn *derive)
{
    cat->derive = derive;
}

void
catalog_free(catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->n; i++)
        cartridge_free(cat->v[i].c);
    for (size_t i = 0; i < cat->ntypes; i++)
        free((char *)cat->types[i].name);
    free(cat->types);
    free(cat->v);
    free(cat);
}

static entry *
find(catalog *cat, const char *name, const char *version)
{
    for (size_t i = 0; i < cat->n; i++)
        if (strcmp(cat->v[i].c->name, name) == 0 &&
            strcmp(cat->v[i].c->version, version) == 0)
            return &cat->v[i];
    return NULL;
}

static entry *
add(catalog *cat, cartridge *c)
{
    cat->v = xrealloc(cat->v, (cat->n + 1) * sizeof *cat->v);
    cat->v[cat->n].c = c;
    cat->v[cat->n].candidate = 0;
    return &cat->v[cat->n++];
}

static int
get_entry(catalog *cat, const char *name, const char *version, entry **out, osm_err *err)
{
    store_cartridge sc = { 0 };
    cartridge *c;
    char origin[256];
    int rc;

    if (version && (*out = find(cat, name, version)))
        return 0;
    if (!cat->st)
        return osm_fail(err, OSM_ENOINPUT, "no such cartridge: %s%s%s", name,
                        version ? "@" : "", version ? version : "");
    if ((rc = store_cartridge_get(cat->st, name, version, STORE_CARTRIDGE_ARCHIVE |
                                  (version ? STORE_CARTRIDGE_UNDEPLOYED : 0), &sc, err)) != 0)
        return rc;
    if ((*out = find(cat, sc.name, sc.version))) {
        store_cartridge_free(&sc);
        return 0;
    }
    snprintf(origin, sizeof origin, "%s@%s", sc.name, sc.version);
    rc = cartridge_open_archive(sc.archive, sc.archive_len, origin, cat->derive, &c, err);
    store_cartridge_free(&sc);
    if (rc != 0)
        return rc;
    *out = add(cat, c);
    return 0;
}

int
catalog_get(catalog *cat, const char *name, const char *version, cartridge **out,
            osm_err *err)
{
    entry *e;
    int rc = get_entry(cat, name, version, &e, err);
    *out = rc == 0 ? e->c : NULL;
    return rc;
}

static void
types_reset(catalog *cat)
{
    for (size_t i = 0; i < cat->ntypes; i++)
        free((char *)cat->types[i].name);
    free(cat->types);
    cat->types = NULL;
    cat->ntypes = 0;
}

int
catalog_use(catalog *cat, const char *name, const char *version, osm_err *err)
{
    entry *e;
    int rc = get_entry(cat, name, version, &e, err);
    if (rc == 0) {
        e->candidate = 1;
        types_reset(cat);
    }
    return rc;
}

int
catalog_use_deployed(catalog *cat, osm_err *err)
{
    jv list;
    int rc;

    if (!cat->st)
        return 0;
    if ((rc = store_cartridge_list(cat->st, &list, err)) != 0)
        return rc;
    jv_array_foreach(list, i, c) {
        jv def = jv_object_get(jv_copy(c), jv_string("default"));
        if (rc == 0 && jv_get_kind(def) == JV_KIND_TRUE) {
            jv name = jv_object_get(jv_copy(c), jv_string("name"));
            jv ver = jv_object_get(jv_copy(c), jv_string("version"));
            rc = catalog_use(cat, jv_string_value(name), jv_string_value(ver), err);
            jv_free(name);
            jv_free(ver);
        }
        jv_free(def);
        jv_free(c);
    }
    jv_free(list);
    return rc;
}

int
catalog_use_path(catalog *cat, const char *path, osm_err *err)
{
    cartridge *c;
    int rc = cartridge_open_path(path, cat->derive, &c, err);
    if (rc != 0)
        return rc;
    entry *e = find(cat, c->name, c->version);
    if (e) {
        cartridge_free(c);
    } else {
        e = add(cat, c);
    }
    e->candidate = 1;
    types_reset(cat);
    return 0;
}

int
catalog_ref_is_path(const char *ref)
{
    struct stat sb;
    return strchr(ref, '/') || stat(ref, &sb) == 0;
}

int
catalog_use_ref(catalog *cat, const char *ref, int allow_path, osm_err *err)
{
    if (allow_path && catalog_ref_is_path(ref))
        return catalog_use_path(cat, ref, err);
    char *name = xstrdup(ref), *at = strchr(name, '@');
    int rc;
    if (at)
        *at++ = '\0';
    if (!*name || (at && !*at))
        rc = osm_fail(err, OSM_EUSAGE, "--cartridge: expected NAME[@VERSION], got \"%s\"", ref);
    else
        rc = catalog_use(cat, name, at, err);
    free(name);
    return rc;
}

size_t
catalog_candidates(const catalog *cat)
{
    size_t n = 0;
    for (size_t i = 0; i < cat->n; i++)
        n += cat->v[i].candidate;
    return n;
}

static int
type_cmp(const void *a, const void *b)
{
    const catalog_type *x = a, *y = b;
    int r;
    if (x->relevancy != y->relevancy)
        return x->relevancy > y->relevancy ? -1 : 1;
    if ((r = strcmp(x->c->name, y->c->name)) != 0)
        return r;
    return strcmp(x->name, y->name);
}

const catalog_type *
catalog_types(catalog *cat, size_t *n)
{
    if (!cat->types) {
        for (size_t i = 0; i < cat->n; i++) {
            if (!cat->v[i].candidate)
                continue;
            cartridge *c = cat->v[i].c;
            jv types = jv_object_get(jv_copy(c->manifest), jv_string("orderTypes"));
            jv_object_foreach(types, name, ot) {
                jv rel = jv_object_get(jv_copy(ot), jv_string("relevancy"));
                char *key = xasprintf("orderTypes.%s.recognize", jv_string_value(name));
                cat->types = xrealloc(cat->types, (cat->ntypes + 1) * sizeof *cat->types);
                catalog_type *t = &cat->types[cat->ntypes++];
                t->c = c;
                t->name = xstrdup(jv_string_value(name));
                t->relevancy = jv_get_kind(rel) == JV_KIND_NUMBER ? (int)jv_number_value(rel) : 5;
                t->recognize = cartridge_prog(c, key);
                free(key);
                jv_free(rel);
                jv_free(name);
                jv_free(ot);
            }
            jv_free(types);
        }
        if (cat->ntypes)
            qsort(cat->types, cat->ntypes, sizeof *cat->types, type_cmp);
    }
    *n = cat->ntypes;
    return cat->types;
}
