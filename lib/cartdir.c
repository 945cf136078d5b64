/*
 * Cartridge directories on disk (see cartdir.h).
 *
 * A tree found on disk is not taken on trust: before a process first runs
 * a hook from it, the tree is checked against the cartridge's files as
 * deployed (held in memory, from the archive whose digest names the
 * tree): the same files with the same contents and executable bits,
 * nothing else, no link, and every file and directory owned by a user
 * the process trusts and writable by no one else.  A tree that fails is
 * moved aside and extracted afresh.  Whom the process trusts: root,
 * itself, and the owner of the store file, who can deploy any cartridge
 * and so gains nothing by writing its tree.
 *
 * Where: beside an SQLite store, in STORE.cartridges; for a PostgreSQL
 * store, which has no file, in the user's cache directory
 * ($XDG_CACHE_HOME, else ~/.cache), osm/ then a name made from the
 * store's URI.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cartdir.h"
#include "cartfiles.h"
#include "db.h"
#include "sha256.h"
#include "xalloc.h"

typedef struct cart_dir {
    cartridge *c;
    char *dir;
} cart_dir;

struct cartdir_cache {
    char *db_path;
    uid_t store_owner;      /* (uid_t)-1 when unknown */
    cart_dir *dirs;
    size_t n;
};

cartdir_cache *
cartdir_new(const char *db_path)
{
    cartdir_cache *d = xcalloc(1, sizeof *d);
    struct stat sb;
    d->db_path = xstrdup(db_path);
    d->store_owner = stat(db_path, &sb) == 0 ? sb.st_uid : (uid_t)-1;
    return d;
}

/* ------------------------------------------------------------ checking */

typedef struct checker {
    const cart_files *files;
    unsigned char *seen;    /* per file of files */
    uid_t store_owner;
    char *why;              /* the first problem found */
    size_t whylen;
} checker;

static int
problem(checker *k, const char *rel, const char *fmt, const char *arg)
{
    char what[512];
    snprintf(what, sizeof what, fmt, arg);
    snprintf(k->why, k->whylen, "%s%s%s", rel, *rel ? ": " : "", what);
    return -1;
}

/* Owned by someone trusted and writable by no one else?  0, or -1 with why. */
static int
check_owner(checker *k, const char *rel, const struct stat *sb)
{
    char name[64];
    if (sb->st_uid != 0 && sb->st_uid != geteuid() && sb->st_uid != k->store_owner) {
        struct passwd *pw = getpwuid(sb->st_uid);
        if (pw && pw->pw_name)
            snprintf(name, sizeof name, "%s", pw->pw_name);
        else
            snprintf(name, sizeof name, "uid %ld", (long)sb->st_uid);
        return problem(k, rel, "owned by %s, not by root, this user or the store's owner",
                       name);
    }
    if (sb->st_mode & (S_IWGRP | S_IWOTH))
        return problem(k, rel, "%s", "writable by group or others");
    return 0;
}

/* Is the open file fd (rel) the deployed file f, byte for byte? */
static int
check_file(checker *k, int fd, const char *rel, const struct stat *sb, const cart_file *f)
{
    unsigned char buf[8192];
    size_t off = 0;

    if ((size_t)sb->st_size != f->size)
        return problem(k, rel, "%s", "differs from the deployed archive (size)");
    if (((sb->st_mode & S_IXUSR) != 0) != (f->executable != 0))
        return problem(k, rel, "%s", "differs from the deployed archive (mode)");
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return problem(k, rel, "%s", strerror(errno));
        if (n == 0)
            break;
        if (off + (size_t)n > f->size || memcmp(buf, f->data + off, (size_t)n) != 0)
            return problem(k, rel, "%s", "differs from the deployed archive");
        off += (size_t)n;
    }
    return off == f->size ? 0 : problem(k, rel, "%s", "differs from the deployed archive");
}

/* Check the directory open as dfd, at rel ("" for the top); it is closed. */
static int
check_dir(checker *k, int dfd, const char *rel)
{
    DIR *d = fdopendir(dfd);
    struct dirent *e;
    int rc = 0;

    if (!d) {
        close(dfd);
        return problem(k, rel, "%s", strerror(errno));
    }
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        struct stat sb;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = problem(k, path, "%s", strerror(errno));
        } else if ((rc = check_owner(k, path, &sb)) != 0) {
            /* why is set */
        } else if (S_ISDIR(sb.st_mode)) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc = sub < 0 ? problem(k, path, "%s", strerror(errno)) : check_dir(k, sub, path);
        } else if (!S_ISREG(sb.st_mode)) {
            rc = problem(k, path, "%s", "is not a regular file or a directory");
        } else {
            const cart_file *f = cart_files_get(k->files, path);
            int fd;
            if (!f)
                rc = problem(k, path, "%s", "is not in the deployed archive");
            else if ((fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                rc = problem(k, path, "%s", strerror(errno));
            else {
                rc = check_file(k, fd, path, &sb, f);
                close(fd);
                k->seen[f - k->files->v] = 1;
            }
        }
        free(path);
    }
    if (rc == 0 && errno != 0)
        rc = problem(k, rel, "%s", strerror(errno));
    closedir(d);
    return rc;
}

/*
 * Is the tree at dir c's files, and safe to run hooks from?  0, or -1
 * with the reason in why.  Missing is -1 with errno ENOENT.
 */
static int
check_tree(const cartdir_cache *d, const char *dir, const cartridge *c, char *why, size_t n)
{
    checker k = { &c->files, xcalloc(c->files.n + 1, 1), d->store_owner, why, n };
    struct stat sb;
    int rc, fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        int e = errno;
        problem(&k, "", "%s", strerror(e));
        free(k.seen);
        errno = e;
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        rc = problem(&k, "", "%s", strerror(errno));
        close(fd);
    } else if ((rc = check_owner(&k, "", &sb)) != 0) {
        close(fd);
    } else {
        rc = check_dir(&k, fd, "");     /* closes fd */
    }
    for (size_t i = 0; rc == 0 && i < c->files.n; i++)
        if (!k.seen[i])
            rc = problem(&k, c->files.v[i].path, "%s", "is missing");
    free(k.seen);
    errno = 0;
    return rc;
}

/* ------------------------------------------------------------ moving aside */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/*
 * Move the tree at dir out of the way (renamed into base as
 * ".stale-NAME.PID.N", then removed as far as this user may), so that it
 * can be extracted again.  0, or -1 with errno.
 */
static int
move_aside(const char *base, const char *dir)
{
    static unsigned counter;
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    char *stale = xasprintf("%s/.stale-%s.%ld.%u", base, name, (long)getpid(), counter++);
    int rc = rename(dir, stale);

    if (rc == 0)
        nftw(stale, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(stale);
    return rc;
}

/* ------------------------------------------------------------ the cache */

/*
 * The directory the trees go in (made, when missing, with its parents in
 * the cache directory), or NULL with err filled in.
 */
static char *
trees_base(const char *db_path, osm_err *err)
{
    if (!db_is_pg_name(db_path))
        return xasprintf("%s.cartridges", db_path);

    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *cache, hex[SHA256_HEX_SIZE];

    if (xdg && *xdg == '/')
        cache = xstrdup(xdg);
    else if (home && *home == '/')
        cache = xasprintf("%s/.cache", home);
    else {
        osm_fail(err, OSM_ECONFIG, "no cache directory for the cartridge trees of a "
                 "PostgreSQL store: set HOME or XDG_CACHE_HOME");
        return NULL;
    }
    char *osm = xasprintf("%s/osm", cache);
    if ((mkdir(cache, 0700) != 0 && errno != EEXIST) ||
        (mkdir(osm, 0755) != 0 && errno != EEXIST)) {
        osm_fail(err, OSM_EIO, "%s: %s", osm, strerror(errno));
        free(cache);
        free(osm);
        return NULL;
    }
    sha256_hex(db_path, strlen(db_path), hex);
    char *base = xasprintf("%s/%.16s.cartridges", osm, hex);
    free(cache);
    free(osm);
    return base;
}

const char *
cartdir_get(cartdir_cache *d, cartridge *c, osm_err *err)
{
    void *buf;
    size_t len;
    char sha[65], why[768];
    struct stat sb;

    for (size_t i = 0; i < d->n; i++)
        if (d->dirs[i].c == c)
            return d->dirs[i].dir;
    if (cartridge_pack(c, &buf, &len, sha, err) != 0)
        return NULL;
    free(buf);
    char *base = trees_base(d->db_path, err);
    if (!base)
        return NULL;
    char *dir = xasprintf("%s/%s-%s-%.16s", base, c->name, c->version, sha);

    /* no one else may write where the trees are, or rename them */
    if (mkdir(base, 0755) != 0 && errno != EEXIST) {
        osm_fail(err, OSM_EIO, "%s: %s", base, strerror(errno));
        goto fail;
    }
    if (lstat(base, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        osm_fail(err, OSM_EIO, "%s: not a directory", base);
        goto fail;
    }
    checker k = { NULL, NULL, d->store_owner, why, sizeof why };
    if (check_owner(&k, "", &sb) != 0) {
        osm_fail(err, OSM_ECONFIG, "%s: not trusted to run hooks from: %s", base, why);
        goto fail;
    }
    for (int attempt = 0;; attempt++) {
        if (check_tree(d, dir, c, why, sizeof why) == 0)
            break;
        if (errno != ENOENT) {
            if (attempt > 0) {
                osm_fail(err, OSM_ECONFIG, "%s: not trusted to run hooks from: %s", dir, why);
                goto fail;
            }
            if (move_aside(base, dir) != 0) {
                osm_fail(err, OSM_ECONFIG, "%s: not trusted to run hooks from (%s), and it "
                         "cannot be moved aside: %s", dir, why, strerror(errno));
                goto fail;
            }
        } else if (attempt > 1) {
            osm_fail(err, OSM_EIO, "%s: %s", dir, why);
            goto fail;
        }
        if (cart_files_extract(&c->files, dir, err) != 0)
            goto fail;
    }
    free(base);
    d->dirs = xrealloc(d->dirs, (d->n + 1) * sizeof *d->dirs);
    d->dirs[d->n].c = c;
    d->dirs[d->n].dir = dir;
    return d->dirs[d->n++].dir;

fail:
    free(base);
    free(dir);
    return NULL;
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
