/*
 * The cartridges a program works with, each loaded, checked and compiled
 * once per process: from the store (by name and version, or the default
 * versions of every deployed cartridge) or from a cartridge directory or
 * archive.  Recognition tries the order types of the "candidate"
 * cartridges, from the highest relevancy down.
 */
#ifndef OSM_CATALOG_H
#define OSM_CATALOG_H

#include "cartridge.h"
#include "diag.h"
#include "store.h"

typedef struct catalog catalog;

/* An empty catalog reading cartridges from st (NULL: no store). */
catalog *catalog_new(store *st);
void catalog_free(catalog *cat);

/*
 * Give the cartridges loaded from now on the programs derive adds (see
 * cartridge_derive_fn): set it before loading any.
 */
void catalog_set_derive(catalog *cat, cartridge_derive_fn *derive);

/*
 * Load name@version (version NULL: the default version) from the store
 * unless already loaded; *out is borrowed from the catalog.  66 when not
 * deployed, 78 when it does not check.
 */
int catalog_get(catalog *cat, const char *name, const char *version, cartridge **out,
                osm_err *err);

/* Make the default version of every deployed cartridge a candidate. */
int catalog_use_deployed(catalog *cat, osm_err *err);

/* Make name@version (version NULL: default) from the store a candidate. */
int catalog_use(catalog *cat, const char *name, const char *version, osm_err *err);

/* Load a cartridge directory or archive and make it a candidate. */
int catalog_use_path(catalog *cat, const char *path, osm_err *err);

/* Does ref name a cartridge directory or archive (it holds a '/' or
 * exists), rather than NAME[@VERSION]? */
int catalog_ref_is_path(const char *ref);

/*
 * Make the cartridge ref a candidate: a directory or archive when
 * allow_path and catalog_ref_is_path(ref), else NAME[@VERSION] from the
 * store.  OSM_EUSAGE for a malformed NAME@VERSION ("x@", "@1.0.0").
 */
int catalog_use_ref(catalog *cat, const char *ref, int allow_path, osm_err *err);

/* Number of candidate cartridges. */
size_t catalog_candidates(const catalog *cat);

/* One order type of a candidate cartridge, for recognition. */
typedef struct catalog_type {
    cartridge *c;
    const char *name;       /* order type name, owned by the catalog */
    int relevancy;
    int recognize;          /* program index in c->jq */
} catalog_type;

/* The candidates' order types, highest relevancy first (ties: by
 * cartridge then type name), and their number in *n. */
const catalog_type *catalog_types(catalog *cat, size_t *n);

#endif
