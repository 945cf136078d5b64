/*
 * Data files compiled into the programs at build time (build-aux/embed):
 * the store migrations, the JSON Schemas of specs/ and the cartridge
 * skeleton.  Embedding them means a program never depends on where it
 * was installed, and the copies in $(pkgdatadir) are for people to read.
 */
#ifndef OSM_EMBEDDED_H
#define OSM_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;   /* e.g. "migrations/001-initial.sql" */
    const char *data;   /* NUL-terminated */
    size_t len;         /* excluding the NUL */
};

/* The file called name, or NULL; its length in *len when len is set. */
const char *embedded_get(const char *name, size_t *len);

/* All files, terminated by an entry whose name is NULL. */
const struct embedded_file *embedded_list(void);

#endif
