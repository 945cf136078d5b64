/*
 * The cartridge file set: loading a source directory or a packed archive
 * into memory, defensively, and packing a set back into a reproducible
 * archive.  The rules and caps are listed in cartfiles.h.
 *
 * Both loaders feed one accumulator (struct loader) and finish through
 * loader_finish(), so that a directory and an archive are held to the same
 * path rules, the same caps and the same final checks (duplicates, a file
 * in the place of a directory, the manifest).  The archive is fed to
 * libarchive from memory in small slices so that the callback can stop a
 * gzip bomb soon after the uncompressed stream passes its cap, even in
 * the middle of a header or of data libarchive skips on its own.
 *
 * cart_files_extract() is the one place that writes a set to disk: into
 * a private temporary directory renamed into place, so that a reader sees
 * the whole tree or none of it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "cartfiles.h"
#include "diag.h"
#include "xalloc.h"

#define MIB (1024UL * 1024)
#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * What libarchive sets errno to when no reader recognises the input.  Its
 * public header does not define it (3.6); archive_platform.h makes it
 * EILSEQ on every POSIX system.
 */
#ifndef ARCHIVE_ERRNO_FILE_FORMAT
#define ARCHIVE_ERRNO_FILE_FORMAT EILSEQ
#endif

/* Compressed bytes handed to libarchive per read callback. */
#define FEED_SLICE 4096

typedef struct loader {
    const char *name;       /* the archive or directory, for messages */
    const char *what;       /* "archive" or "directory" */
    osm_err *err;
    cart_file *v;
    size_t n, cap;
    size_t entries;         /* members or directory entries seen */
    size_t total;           /* bytes of file data kept */
} loader;

/*
 * A path made fit for a message: control and non-ASCII bytes as '?', long
 * paths cut short with "...".  Returns buf.
 */
static const char *
shown(const char *raw, char buf[128])
{
    size_t i;

    for (i = 0; raw[i] && i < 100; i++) {
        unsigned char c = (unsigned char)raw[i];
        buf[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
    }
    buf[i] = '\0';
    if (raw[i])
        strcpy(buf + i, "...");
    return buf;
}

static int
refuse(loader *l, const char *path, const char *why)
{
    char b[128];
    return osm_fail(l->err, OSM_ECONFIG, "%s: entry \"%s\": %s", l->name,
                    shown(path, b), why);
}

/* libarchive's last error, or fallback when it has none. */
static const char *
ar_error(struct archive *a, const char *fallback)
{
    const char *msg = a ? archive_error_string(a) : NULL;
    return msg ? msg : fallback;
}

/*
 * Check raw, a member's or directory entry's path.  Returns NULL and sets
 * *norm to the normalised path (xmalloc'd; "" for the top directory), or
 * returns why raw is refused and leaves *norm alone.
 */
static const char *
path_check(const char *raw, char **norm)
{
    size_t len = strlen(raw), o = 0;
    const char *p = raw;
    char *out;

    for (size_t i = 0; i < len; i++)
        if ((unsigned char)raw[i] < 0x20 || (unsigned char)raw[i] > 0x7e)
            return "path is not printable ASCII";
    if (raw[0] == '/')
        return "absolute path";

    out = xmalloc(len + 1);
    while (*p) {
        const char *q;
        size_t seg;

        while (*p == '/')
            p++;
        for (q = p; *q && *q != '/'; q++)
            ;
        seg = (size_t)(q - p);
        if (seg == 2 && p[0] == '.' && p[1] == '.') {
            free(out);
            return "path leaves the cartridge (..)";
        }
        if (seg > 0 && !(seg == 1 && p[0] == '.')) {
            if (o)
                out[o++] = '/';
            memcpy(out + o, p, seg);
            o += seg;
        }
        p = q;
    }
    out[o] = '\0';
    /* the normalised length: "./" + 255 bytes is fine */
    if (o > CART_MAX_PATH) {
        free(out);
        return "path longer than " STR(CART_MAX_PATH) " bytes";
    }
    *norm = out;
    return NULL;
}

/* Why an entry of this type is refused (AE_IF* values), or NULL. */
static const char *
type_problem(unsigned type)
{
    switch (type) {
    case AE_IFREG:
    case AE_IFDIR:
        return NULL;
    case AE_IFLNK:
        return "symbolic link not allowed";
    case AE_IFCHR:
    case AE_IFBLK:
        return "device node not allowed";
    case AE_IFIFO:
        return "fifo not allowed";
    case AE_IFSOCK:
        return "socket not allowed";
    default:
        return "not a regular file or directory";
    }
}

static unsigned
stat_type(mode_t mode)
{
    if (S_ISREG(mode))
        return AE_IFREG;
    if (S_ISDIR(mode))
        return AE_IFDIR;
    if (S_ISLNK(mode))
        return AE_IFLNK;
    if (S_ISCHR(mode))
        return AE_IFCHR;
    if (S_ISBLK(mode))
        return AE_IFBLK;
    if (S_ISFIFO(mode))
        return AE_IFIFO;
    if (S_ISSOCK(mode))
        return AE_IFSOCK;
    return 0;
}

/* The size checks made before any data is read. */
static int
size_check(loader *l, const char *path, uint64_t size)
{
    char why[128];

    if (size > CART_MAX_FILE_SIZE) {
        snprintf(why, sizeof why, "larger than %lu MiB (%llu bytes)",
                 CART_MAX_FILE_SIZE / MIB, (unsigned long long)size);
        return refuse(l, path, why);
    }
    if (l->total + size > CART_MAX_TOTAL_SIZE) {
        snprintf(why, sizeof why,
                 "the files add up to more than %lu MiB",
                 CART_MAX_TOTAL_SIZE / MIB);
        return refuse(l, path, why);
    }
    return 0;
}

static int
count_entry(loader *l)
{
    if (++l->entries > CART_MAX_ENTRIES)
        return osm_fail(l->err, OSM_ECONFIG, "%s: more than %d entries",
                        l->name, CART_MAX_ENTRIES);
    return 0;
}

/* Keep a file; path and data (size bytes and a NUL) now belong to l. */
static void
loader_add(loader *l, char *path, unsigned char *data, size_t size,
           int executable)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].path = path;
    l->v[l->n].data = data;
    l->v[l->n].size = size;
    l->v[l->n].executable = executable;
    l->n++;
    l->total += size;
}

static void
files_free(cart_file *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].data);
    }
    free(v);
}

static int
cmp_file(const void *a, const void *b)
{
    return strcmp(((const cart_file *)a)->path, ((const cart_file *)b)->path);
}

static const cart_file *
find(const cart_file *v, size_t n, const char *path)
{
    cart_file key;

    if (n == 0)
        return NULL;
    key.path = (char *)path;
    return bsearch(&key, v, n, sizeof *v, cmp_file);
}

/*
 * The checks on a whole set, v sorted: no duplicate, no file standing
 * where another file needs a directory.  Returns 0 or OSM_ECONFIG.
 */
static int
set_check(loader *l, const cart_file *v, size_t n)
{
    char prefix[CART_MAX_PATH + 1], why[CART_MAX_PATH + 64], b[128];

    for (size_t i = 0; i < n; i++) {
        const char *path = v[i].path;

        if (i > 0 && strcmp(v[i - 1].path, path) == 0)
            return refuse(l, path, "duplicate path");
        for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
            size_t len = (size_t)(s - path);

            if (len >= sizeof prefix)
                break;
            memcpy(prefix, path, len);
            prefix[len] = '\0';
            if (find(v, n, prefix)) {
                snprintf(why, sizeof why, "\"%s\" is a file, not a directory",
                         shown(prefix, b));
                return refuse(l, path, why);
            }
        }
    }
    return 0;
}

/* Sort, check and hand over l's files to out; on failure l keeps them. */
static int
loader_finish(loader *l, cart_files *out)
{
    int rc;

    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_file);
    if ((rc = set_check(l, l->v, l->n)) != 0)
        return rc;
    if (!find(l->v, l->n, CART_MANIFEST))
        return osm_fail(l->err, OSM_ECONFIG,
                        "%s: no " CART_MANIFEST " at the top of the %s",
                        l->name, l->what);
    out->v = l->v;
    out->n = l->n;
    l->v = NULL;
    l->n = l->cap = 0;
    return 0;
}

/* ------------------------------------------------------------ archives */

typedef struct source {
    const unsigned char *buf;
    size_t len, off;
    int overflow;           /* the uncompressed stream passed its cap */
} source;

static la_ssize_t
source_read(struct archive *a, void *cookie, const void **out)
{
    source *s = cookie;
    size_t n = s->len - s->off;

    /* filter 0 is the one the tar reader consumes: uncompressed bytes */
    if (archive_filter_bytes(a, 0) > (la_int64_t)CART_MAX_STREAM_SIZE) {
        s->overflow = 1;
        archive_set_error(a, EFBIG, "uncompressed stream too large");
        return -1;
    }
    if (n > FEED_SLICE)
        n = FEED_SLICE;
    *out = s->buf + s->off;
    s->off += n;
    return (la_ssize_t)n;
}

/* The message for a libarchive failure; at_open: while recognising it. */
static int
read_failure(loader *l, struct archive *a, const source *src, int at_open)
{
    if (src->overflow)
        return osm_fail(l->err, OSM_ECONFIG,
                        "%s: more than %lu MiB of uncompressed tar data",
                        l->name, CART_MAX_STREAM_SIZE / MIB);
    if (at_open && archive_errno(a) == ARCHIVE_ERRNO_FILE_FORMAT)
        return osm_fail(l->err, OSM_ECONFIG, "%s: not a tar archive",
                        l->name);
    return osm_fail(l->err, OSM_ECONFIG,
                    "%s: truncated or corrupt archive: %s", l->name,
                    ar_error(a, "unknown error"));
}

/* Check one member and keep it if it is a file. */
static int
take_member(loader *l, struct archive *a, struct archive_entry *e,
            const source *src)
{
    const char *raw = archive_entry_pathname(e), *why;
    char *norm = NULL, extra;
    unsigned char *data;
    uint64_t size;
    size_t got = 0;
    la_ssize_t k;
    int rc;

    if (!raw)
        raw = archive_entry_pathname_utf8(e);
    if (!raw)
        return osm_fail(l->err, OSM_ECONFIG,
                        "%s: entry %zu: unreadable path name", l->name,
                        l->entries);
    if ((why = path_check(raw, &norm)) != NULL)
        return refuse(l, raw, why);
    if (archive_entry_hardlink(e))
        why = "hard link not allowed";
    else
        why = type_problem(archive_entry_filetype(e));
    if (why) {
        rc = refuse(l, norm[0] ? norm : raw, why);
        free(norm);
        return rc;
    }
    if (archive_entry_filetype(e) == AE_IFDIR) {
        free(norm);
        return 0;
    }
    if (!norm[0]) {
        free(norm);
        return refuse(l, raw, "empty path");
    }

    /* sizes from the header, before a byte of data is read or kept */
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
        rc = refuse(l, norm, "size unknown or negative");
    else
        rc = size_check(l, norm, (uint64_t)archive_entry_size(e));
    if (rc) {
        free(norm);
        return rc;
    }
    size = (uint64_t)archive_entry_size(e);

    data = xmalloc((size_t)size + 1);
    while (got < size) {
        k = archive_read_data(a, data + got, (size_t)size - got);
        if (k <= 0) {
            rc = k < 0 ? read_failure(l, a, src, 0)
                       : refuse(l, norm, "data ends before its header's size");
            goto fail;
        }
        got += (size_t)k;
    }
    k = archive_read_data(a, &extra, 1);
    if (k != 0) {
        rc = k < 0 ? read_failure(l, a, src, 0)
                   : refuse(l, norm, "more data than its header's size");
        goto fail;
    }
    data[got] = '\0';
    loader_add(l, norm, data, got, (archive_entry_perm(e) & 0111) != 0);
    return 0;

fail:
    free(data);
    free(norm);
    return rc;
}

int
cart_files_from_archive(const void *buf, size_t len, const char *name,
                        cart_files *out, osm_err *err)
{
    loader l = { name, "archive", err, NULL, 0, 0, 0, 0 };
    source src = { buf, len, 0, 0 };
    struct archive *a;
    struct archive_entry *e;
    int rc = 0, r;

    out->v = NULL;
    out->n = 0;
    if (len > CART_MAX_ARCHIVE_SIZE)
        return osm_fail(err, OSM_ECONFIG,
                        "%s: archive larger than %lu MiB (%zu bytes)", name,
                        CART_MAX_ARCHIVE_SIZE / MIB, len);
    if ((a = archive_read_new()) == NULL)
        return osm_fail(err, OSM_ESOFTWARE, "%s: out of memory", name);
    /* ARCHIVE_WARN here would mean an external gzip program: refuse that */
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK) {
        rc = osm_fail(err, OSM_ESOFTWARE,
                      "%s: libarchive lacks built-in gzip or tar support: %s",
                      name, ar_error(a, "unknown error"));
        goto out;
    }
    if (archive_read_open(a, &src, NULL, source_read, NULL) != ARCHIVE_OK) {
        rc = read_failure(&l, a, &src, 1);
        goto out;
    }
    /* gzip and the raw input: two; more is gzip inside gzip */
    if (archive_filter_count(a) > 2) {
        rc = osm_fail(err, OSM_ECONFIG, "%s: compressed more than once",
                      name);
        goto out;
    }
    for (;;) {
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = read_failure(&l, a, &src, 0);
            goto out;
        }
        if ((rc = count_entry(&l)) != 0 ||
            (rc = take_member(&l, a, e, &src)) != 0)
            goto out;
    }
    rc = loader_finish(&l, out);

out:
    archive_read_free(a);
    files_free(l.v, l.n);
    return rc;
}

/* --------------------------------------------------------- directories */

static int walk_dir(loader *l, int fd, const char *rel);

static int
io_fail(loader *l, int code, const char *rel, int errnum)
{
    return osm_fail(l->err, code, "%s%s%s: %s", l->name, rel[0] ? "/" : "",
                    rel, strerror(errnum));
}

/* Read the regular file name in dfd, known to the set as path. */
static int
take_file(loader *l, int dfd, const char *name, char *path)
{
    struct stat st;
    unsigned char *data;
    size_t got = 0;
    ssize_t k;
    char extra;
    int fd, rc;

    /* O_NONBLOCK: should it have become a fifo, do not hang opening it */
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return io_fail(l, errno == ELOOP ? OSM_ECONFIG : OSM_ENOINPUT, path,
                       errno);
    if (fstat(fd, &st) != 0) {
        rc = io_fail(l, OSM_EIO, path, errno);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(l, path, type_problem(stat_type(st.st_mode)));
    }
    if ((rc = size_check(l, path, (uint64_t)st.st_size)) != 0) {
        close(fd);
        return rc;
    }
    data = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        k = read(fd, data + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = io_fail(l, OSM_EIO, path, errno);
            goto fail;
        }
        if (k == 0)
            break;      /* shrank since fstat: keep what is there */
        got += (size_t)k;
    }
    while ((k = read(fd, &extra, 1)) < 0 && errno == EINTR)
        ;
    if (k != 0) {
        rc = k > 0 ? osm_fail(l->err, OSM_EIO,
                              "%s/%s: file changed while being read",
                              l->name, path)
                   : io_fail(l, OSM_EIO, path, errno);
        goto fail;
    }
    close(fd);
    data[got] = '\0';
    loader_add(l, xstrdup(path), data, got, (st.st_mode & 0111) != 0);
    return 0;

fail:
    free(data);
    close(fd);
    return rc;
}

/* One entry name (not a dot name) of the directory dfd, at rel. */
static int
walk_entry(loader *l, int dfd, const char *rel, const char *name)
{
    char *path = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
    char *norm = NULL;
    const char *why;
    struct stat st;
    int rc, fd;

    if ((rc = count_entry(l)) != 0)
        goto out;
    if ((why = path_check(path, &norm)) != NULL) {
        rc = refuse(l, path, why);
        goto out;
    }
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = io_fail(l, OSM_EIO, path, errno);
        goto out;
    }
    if ((why = type_problem(stat_type(st.st_mode))) != NULL) {
        rc = refuse(l, path, why);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        rc = fd < 0 ? io_fail(l, OSM_ENOINPUT, path, errno)
                    : walk_dir(l, fd, path);
    } else {
        rc = take_file(l, dfd, name, path);
    }
out:
    free(norm);
    free(path);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Walk the directory open as fd (which this takes over and closes), at
 * rel ("" for the top).  Names are taken in sorted order so that the same
 * tree always fails on the same entry.
 */
static int
walk_dir(loader *l, int fd, const char *rel)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d) {
        rc = io_fail(l, OSM_EIO, rel, errno);
        close(fd);
        return rc;
    }
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL)
            break;
        if (de->d_name[0] == '.')
            continue;
        /* do not hoard a million names before refusing */
        if (l->entries + n >= CART_MAX_ENTRIES) {
            l->entries += n;
            rc = count_entry(l);
            goto out;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = xstrdup(de->d_name);
    }
    if (errno) {
        rc = io_fail(l, OSM_EIO, rel, errno);
        goto out;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = walk_entry(l, dirfd(d), rel, names[i]);
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int
cart_files_from_dir(const char *dir, cart_files *out, osm_err *err)
{
    loader l = { dir, "directory", err, NULL, 0, 0, 0, 0 };
    int fd, rc;

    out->v = NULL;
    out->n = 0;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return osm_fail(err, OSM_ENOINPUT, "%s: %s", dir, strerror(errno));
    /* the manifest first: a directory that is no cartridge is not walked */
    struct stat mst;
    if (fstatat(fd, CART_MANIFEST, &mst, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
        close(fd);
        return osm_fail(err, OSM_ECONFIG,
                        "%s: no " CART_MANIFEST " at the top of the directory: not a cartridge "
                        "(osm-cartridge init NAME makes one)", dir);
    }
    rc = walk_dir(&l, fd, "");
    if (rc == 0)
        rc = loader_finish(&l, out);
    files_free(l.v, l.n);
    return rc;
}

int
cart_files_from_path(const char *path, cart_files *out, osm_err *err)
{
    strbuf sb = STRBUF_INIT;
    struct stat st;
    int fd, rc;

    out->v = NULL;
    out->n = 0;
    if (strcmp(path, "-") == 0) {
        /* a packed cartridge on standard input */
        if ((fd = dup(STDIN_FILENO)) < 0)
            return osm_fail(err, OSM_EIO, "standard input: %s", strerror(errno));
        path = "standard input";
        goto read;
    }
    if (stat(path, &st) != 0)
        return osm_fail(err, OSM_ENOINPUT, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return cart_files_from_dir(path, out, err);
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CART_MAX_ARCHIVE_SIZE)
        return osm_fail(err, OSM_ECONFIG,
                        "%s: archive larger than %lu MiB (%llu bytes)", path,
                        CART_MAX_ARCHIVE_SIZE / MIB,
                        (unsigned long long)st.st_size);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return osm_fail(err, OSM_ENOINPUT, "%s: %s", path, strerror(errno));
read:
    /* read at most one byte past the cap: enough to know it is too big */
    for (;;) {
        ssize_t k;
        size_t want = CART_MAX_ARCHIVE_SIZE + 1 - sb.len;

        sb_grow(&sb, want < 65536 ? want : 65536);
        k = read(fd, sb.buf + sb.len, want < 65536 ? want : 65536);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = osm_fail(err, OSM_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        sb.len += (size_t)k;
        if (sb.len > CART_MAX_ARCHIVE_SIZE) {
            rc = osm_fail(err, OSM_ECONFIG, "%s: archive larger than %lu MiB",
                          path, CART_MAX_ARCHIVE_SIZE / MIB);
            goto out;
        }
    }
    rc = cart_files_from_archive(sb.buf ? sb.buf : "", sb.len, path, out,
                                 err);
out:
    close(fd);
    sb_free(&sb);
    return rc;
}

const cart_file *
cart_files_get(const cart_files *fs, const char *path)
{
    return find(fs->v, fs->n, path);
}

void
cart_files_free(cart_files *fs)
{
    files_free(fs->v, fs->n);
    fs->v = NULL;
    fs->n = 0;
}

/* ------------------------------------------------------------- packing */

static la_ssize_t
sink_write(struct archive *a, void *cookie, const void *buf, size_t n)
{
    (void)a;
    sb_add(cookie, buf, n);
    return (la_ssize_t)n;
}

/* The loaders' rules, applied to a set about to be packed (v sorted). */
static int
pack_check(loader *l, const cart_file *v, size_t n)
{
    if (n > CART_MAX_ENTRIES)
        return osm_fail(l->err, OSM_ECONFIG, "%s: more than %d entries",
                        l->name, CART_MAX_ENTRIES);
    for (size_t i = 0; i < n; i++) {
        char *norm = NULL;
        const char *why = path_check(v[i].path, &norm);
        int rc;

        if (!why && strcmp(norm, v[i].path) != 0)
            why = norm[0] ? "path not in normal form" : "empty path";
        free(norm);
        if (why)
            return refuse(l, v[i].path, why);
        if ((rc = size_check(l, v[i].path, v[i].size)) != 0)
            return rc;
        l->total += v[i].size;
    }
    return set_check(l, v, n);
}

int
cart_files_pack(const cart_files *fs, void **buf, size_t *len, osm_err *err)
{
    loader l = { "cannot pack", "archive", err, NULL, 0, 0, 0, 0 };
    strbuf sb = STRBUF_INIT;
    cart_file *v = NULL;
    struct archive *a = NULL;
    struct archive_entry *e = NULL;
    int rc = 0;

    /* a shallow copy, sorted: the output order must not depend on fs's */
    if (fs->n) {
        v = xmalloc(fs->n * sizeof *v);
        memcpy(v, fs->v, fs->n * sizeof *v);
        qsort(v, fs->n, sizeof *v, cmp_file);
    }
    if ((rc = pack_check(&l, v, fs->n)) != 0)
        goto out;

    a = archive_write_new();
    e = archive_entry_new();
    if (!a || !e) {
        rc = osm_fail(err, OSM_ESOFTWARE, "%s: out of memory", l.name);
        goto out;
    }
    /*
     * Built-in gzip only (ARCHIVE_WARN means an external program), no
     * timestamp in its header, a fixed level; pax restricted is ustar
     * except where a long path needs an extended header.
     */
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_filter_option(a, "gzip", "timestamp",
                                        NULL) != ARCHIVE_OK ||
        archive_write_set_filter_option(a, "gzip", "compression-level",
                                        "9") != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open(a, &sb, NULL, sink_write, NULL) != ARCHIVE_OK) {
        rc = osm_fail(err, OSM_ESOFTWARE, "%s: %s", l.name,
                      ar_error(a, "cannot set up the archive"));
        goto out;
    }
    for (size_t i = 0; i < fs->n; i++) {
        la_ssize_t size = (la_ssize_t)v[i].size;

        archive_entry_clear(e);
        archive_entry_set_pathname(e, v[i].path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, v[i].executable ? 0755 : 0644);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            (size && archive_write_data(a, v[i].data, v[i].size) != size) ||
            archive_write_finish_entry(a) != ARCHIVE_OK) {
            rc = osm_fail(err, OSM_ESOFTWARE, "%s: entry \"%s\": %s", l.name,
                          v[i].path, ar_error(a, "write failed"));
            goto out;
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = osm_fail(err, OSM_ESOFTWARE, "%s: %s", l.name,
                      ar_error(a, "cannot finish the archive"));
        goto out;
    }
    if (sb.len > CART_MAX_ARCHIVE_SIZE) {
        rc = osm_fail(err, OSM_ECONFIG,
                      "%s: archive larger than %lu MiB (%zu bytes)", l.name,
                      CART_MAX_ARCHIVE_SIZE / MIB, sb.len);
        goto out;
    }
    *buf = sb_detach(&sb, len);

out:
    if (e)
        archive_entry_free(e);
    if (a)
        archive_write_free(a);
    sb_free(&sb);
    free(v);
    return rc;
}

/* ---------------------------------------------------------- extraction */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;           /* carry on: remove as much as we can */
}

/* Remove the tree at path, as far as it goes (symbolic links not followed). */
static void
rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write f below the directory open as dfd (at tmp, for messages). */
static int
extract_file(int dfd, const char *tmp, const cart_file *f, osm_err *err)
{
    char *parent = xstrdup(f->path);
    size_t done = 0;
    int fd, rc = 0;

    for (char *s = strchr(parent, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdirat(dfd, parent, 0755) != 0 && errno != EEXIST) {
            rc = osm_fail(err, OSM_EIO, "%s/%s: %s", tmp, parent,
                          strerror(errno));
            goto out;
        }
        *s = '/';
    }
    fd = openat(dfd, f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                O_CLOEXEC, f->executable ? 0755 : 0644);
    if (fd < 0) {
        rc = osm_fail(err, OSM_EIO, "%s/%s: %s", tmp, f->path,
                      strerror(errno));
        goto out;
    }
    while (done < f->size) {
        ssize_t k = write(fd, f->data + done, f->size - done);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = osm_fail(err, OSM_EIO, "%s/%s: %s", tmp, f->path,
                          strerror(errno));
            close(fd);
            goto out;
        }
        done += (size_t)k;
    }
    if (close(fd) != 0)
        rc = osm_fail(err, OSM_EIO, "%s/%s: %s", tmp, f->path,
                      strerror(errno));
out:
    free(parent);
    return rc;
}

int
cart_files_extract(const cart_files *fs, const char *dir, osm_err *err)
{
    loader l = { dir, "directory", err, NULL, 0, 0, 0, 0 };
    cart_file *v = NULL;
    char *tmp = NULL;
    struct stat st;
    int dfd = -1, rc = 0;

    /* the loaders' rules once more: nothing may land outside dir */
    if (fs->n) {
        v = xmalloc(fs->n * sizeof *v);
        memcpy(v, fs->v, fs->n * sizeof *v);
        qsort(v, fs->n, sizeof *v, cmp_file);
    }
    if ((rc = pack_check(&l, v, fs->n)) != 0)
        goto out;
    /* dirs appear whole (rename) and are named by content: done before */
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        goto out;

    tmp = xasprintf("%s.tmp.%ld", dir, (long)getpid());
    rm_tree(tmp);       /* left by a crashed process that had our pid */
    if (mkdir(tmp, 0755) != 0) {
        rc = osm_fail(err, OSM_EIO, "%s: %s", tmp, strerror(errno));
        free(tmp);
        tmp = NULL;     /* not ours: leave it */
        goto out;
    }
    if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                    O_CLOEXEC)) < 0) {
        rc = osm_fail(err, OSM_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < fs->n && rc == 0; i++)
        rc = extract_file(dfd, tmp, &v[i], err);
    close(dfd);
    if (rc != 0)
        goto out;
    if (rename(tmp, dir) != 0) {
        /* another process got there first with the same files: fine */
        if (errno != EEXIST && errno != ENOTEMPTY)
            rc = osm_fail(err, OSM_EIO, "%s: %s", dir, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;

out:
    if (tmp)
        rm_tree(tmp);
    free(tmp);
    free(v);
    return rc;
}
