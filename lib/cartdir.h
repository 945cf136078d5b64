/*
 * Where a deployed cartridge's files are on disk: hooks run in the
 * cartridge's own directory, extracted once per store and version into
 * STORE.cartridges/NAME-VERSION-SHA (the sha256 of the packed archive),
 * and found there again by every later process, which checks it first
 * (see cartdir.c): a tree that is not the deployed files, or that someone
 * untrusted could change, is extracted again.
 */
#ifndef OSM_CARTDIR_H
#define OSM_CARTDIR_H

#include "cartridge.h"
#include "diag.h"

typedef struct cartdir_cache cartdir_cache;

/* A cache for the store at db_path (copied). */
cartdir_cache *cartdir_new(const char *db_path);

/*
 * The directory of c's files (owned by the cache), extracting them or
 * checking what is there the first time; NULL with err filled in when
 * that fails: 78 "PATH: not trusted to run hooks from: WHY" when
 * STORE.cartridges itself may be written by someone untrusted, or a tree
 * still fails its check once extracted again; 74 when it cannot be
 * written.  Not for two threads at once.
 */
const char *cartdir_get(cartdir_cache *d, cartridge *c, osm_err *err);

void cartdir_free(cartdir_cache *d);

#endif
