/*
 * Where a deployed cartridge's files are on disk: hooks run in the
 * cartridge's own directory, extracted once per store and version into
 * STORE.cartridges/NAME-VERSION-SHA (the sha256 of the packed archive),
 * and found there again by every later process.
 */
#ifndef OSM_CARTDIR_H
#define OSM_CARTDIR_H

#include "cartridge.h"
#include "diag.h"

typedef struct cartdir_cache cartdir_cache;

/* A cache for the store at db_path (copied). */
cartdir_cache *cartdir_new(const char *db_path);

/*
 * The directory of c's files (owned by the cache), extracting them the
 * first time; NULL with err filled in when that fails.
 */
const char *cartdir_get(cartdir_cache *d, cartridge *c, osm_err *err);

void cartdir_free(cartdir_cache *d);

#endif
