/*
 * The cartridge file set: every file of a cartridge, held in memory.
 *
 * A cartridge comes as a source directory or as a packed archive
 * (NAME-VERSION.osmc, a gzip-compressed tar); both load into the same
 * cart_files, and cart_files_pack() turns a set back into an archive,
 * byte for byte the same for the same set.  Nothing is ever written to
 * disk while loading: an archive is read from memory and checked entry by
 * entry before any of its data is kept (DESIGN §5, "unpacking is
 * defensive").  Only cart_files_extract() writes, to materialise a set as
 * a directory so that its hooks can run.
 *
 * What a loader accepts:
 *   - tar (ustar, pax, GNU), plain or gzip-compressed once; nothing else;
 *   - regular files and directories only: symbolic links (even ones
 *     that stay inside the tree), hard links, devices, fifos, sockets and
 *     every other entry type are refused;
 *   - relative paths of printable ASCII (0x20-0x7e; so that names and
 *     archives do not depend on the locale) with no ".." component, at
 *     most CART_MAX_PATH bytes once a leading "./", "." components,
 *     repeated and trailing slashes are normalised away;
 *   - no duplicate path (after normalisation), and no file whose path is
 *     a parent directory of another file's ("a" beside "a/b");
 *   - the caps below, and a regular file "cartridge.json" at the top.
 * Only files are kept: a directory is implied by the files under it, and
 * an empty one disappears.
 * A source directory is read with the same rules, except that entries
 * whose name begins with "." (.git, .gitignore, editor files) are
 * skipped, at any depth, and count toward nothing; a packed archive may
 * hold such names and they load like any other.
 *
 * Every refusal is OSM_ECONFIG with a message naming the archive or
 * directory, the entry and the reason: 'x.osmc: entry "../a": path
 * leaves the cartridge (..)'.  A missing file is OSM_ENOINPUT, a read
 * error OSM_EIO.
 *
 * Ownership: a cart_files owns its paths and data; cart_files_free()
 * releases them all.  A loader overwrites *out whatever happens: with the
 * set on success, with an empty set ({NULL, 0}) on failure.
 */
#ifndef OSM_CARTFILES_H
#define OSM_CARTFILES_H

#include <stddef.h>

#include "diag.h"

/* Caps (documented in osm-cartridge(5); a loader refuses past them). */
#define CART_MAX_ENTRIES      1000                  /* archive members or
                                                       directory entries,
                                                       directories included */
#define CART_MAX_PATH         255                   /* bytes in one path */
#define CART_MAX_FILE_SIZE    (16UL * 1024 * 1024)  /* one file: 16 MiB */
#define CART_MAX_TOTAL_SIZE   (64UL * 1024 * 1024)  /* all files: 64 MiB */
#define CART_MAX_ARCHIVE_SIZE (64UL * 1024 * 1024)  /* the .osmc: 64 MiB */
/*
 * The uncompressed tar stream, headers and padding included: the file
 * contents plus room for tar's own bookkeeping.  It bounds the work a
 * gzip bomb can cause even where no file data is kept (a directory
 * entry's body, a run of extended headers).
 */
#define CART_MAX_STREAM_SIZE  (CART_MAX_TOTAL_SIZE + 16UL * 1024 * 1024)

#define CART_MANIFEST "cartridge.json"

typedef struct cart_file {
    char *path;             /* relative, '/'-separated, normalised */
    unsigned char *data;    /* size bytes, then a NUL not counted in size,
                               so that text can be used as a C string */
    size_t size;
    int executable;         /* any x bit set in the mode */
} cart_file;

typedef struct cart_files {
    cart_file *v;           /* sorted by path, byte order (strcmp) */
    size_t n;
} cart_files;

/* Load the source directory dir (see the rules above). */
int cart_files_from_dir(const char *dir, cart_files *out, osm_err *err);

/*
 * Load a packed cartridge from len bytes at buf; name is what messages
 * call it (usually the file's path).  buf is not kept.
 */
int cart_files_from_archive(const void *buf, size_t len, const char *name,
                            cart_files *out, osm_err *err);

/*
 * Load path: a directory as a source cartridge, anything else ("-":
 * standard input) as a packed one (read whole, at most CART_MAX_ARCHIVE_SIZE bytes).  A path that does
 * not exist is OSM_ENOINPUT, "PATH: No such file or directory".
 */
int cart_files_from_path(const char *path, cart_files *out, osm_err *err);

/* The file at path (normalised, as stored), or NULL. */
const cart_file *cart_files_get(const cart_files *fs, const char *path);

/* Release everything fs holds and leave it empty; fs may be empty. */
void cart_files_free(cart_files *fs);

/*
 * Pack fs into a gzip-compressed tar in memory: on success *buf (free()
 * it) holds *len bytes.  Reproducible: files only (no directory entries),
 * sorted by path, mode 0644 or 0755 by the executable flag, mtime 0,
 * uid/gid 0 with no user or group names, pax extended headers only for
 * paths too long for ustar (and then only "path"), no gzip timestamp or
 * file name.  The same set gives the same bytes every time (with the same
 * zlib).  A set the loaders would refuse (bad or duplicate path, a cap
 * exceeded) is refused with OSM_ECONFIG; a cartridge.json is not required
 * here.  On failure *buf and *len are untouched.
 */
int cart_files_pack(const cart_files *fs, void **buf, size_t *len,
                    osm_err *err);

/*
 * Write fs out as the directory dir, whole or not at all: the files go
 * into a temporary sibling, dir.tmp.PID (parents created; mode 0755 for
 * an executable file, else 0644; directories 0755; all less the umask),
 * which is then renamed to dir.  Callers name dir by the archive's
 * content (its sha256), so a dir that already exists, or that another
 * process renames into place first, holds the same files: that is
 * success, and the temporary directory is removed.  dir's parent must
 * exist.  A set the loaders would refuse (a path with "..", absolute, or
 * not normalised, a duplicate, a cap exceeded) is refused with
 * OSM_ECONFIG before anything is written; a write failure is OSM_EIO,
 * "PATH: strerror", and leaves nothing behind.  Not for two threads of
 * one process on the same dir (they would share the temporary name).
 */
int cart_files_extract(const cart_files *fs, const char *dir, osm_err *err);

#endif
