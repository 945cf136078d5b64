/*
 * Cartridge directories on disk (see cartdir.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cartdir.h"
#include "cartfiles.h"
#include "xalloc.h"

typedef struct cart_dir {
    cartridge *c;
    char *dir;
} cart_dir;

struct cartdir_cache {
    char *db_path;
    cart_dir *dirs;
    size_t n;
};

cartdir_cache *
cartdir_new(const char *db_path)
{
    cartdir_cache *d = xcalloc(1, sizeof *d);
    d->db_path = xstrdup(db_path);
    return d;
}

const char *
cartdir_get(cartdir_cache *d, cartridge *c, osm_err *err)
{
    void *buf;
    size_t len;
    char sha[65];

    for (size_t i = 0; i < d->n; i++)
        if (d->dirs[i].c == c)
            return d->dirs[i].dir;
    if (cartridge_pack(c, &buf, &len, sha, err) != 0)
        return NULL;
    free(buf);
    char *base = xasprintf("%s.cartridges", d->db_path);
    char *dir = xasprintf("%s/%s-%s-%.16s", base, c->name, c->version, sha);
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (mkdir(base, 0777) != 0 && errno != EEXIST) {
            osm_fail(err, OSM_EIO, "%s: %s", base, strerror(errno));
            free(base);
            free(dir);
            return NULL;
        }
        if (cart_files_extract(&c->files, dir, err) != 0) {
            free(base);
            free(dir);
            return NULL;
        }
    }
    free(base);
    d->dirs = xrealloc(d->dirs, (d->n + 1) * sizeof *d->dirs);
    d->dirs[d->n].c = c;
    d->dirs[d->n].dir = dir;
    return d->dirs[d->n++].dir;
}

void
cartdir_free(cartdir_cache *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->dirs[i].dir);
    free(d->dirs);
    free(d->db_path);
    free(d);
}
