/*
 * Finding a cartridge's program by its key.
 *
 * Alone in its file so that a program which reads plans but never opens
 * a cartridge (osm-status) does not link cartridge.c and with it the
 * archive reader: with --as-needed it then does not load libarchive and
 * the libraries that one needs (libxml2, ICU, libstdc++), which would
 * double its start-up time.
 */
#include "config.h"

#include <string.h>

#include "cartridge.h"

int
cartridge_prog(const cartridge *c, const char *key)
{
    for (size_t i = 0; i < c->nprogs; i++)
        if (strcmp(c->progs[i].key, key) == 0)
            return c->progs[i].index;
    return -1;
}
