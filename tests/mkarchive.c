/*
 * mkarchive: writes the cartridge archives the tests need, hostile ones
 * above all, so that no binary fixture lives in git.
 *
 *     mkarchive KIND OUT      write archive KIND to OUT ("-": stdout)
 *     mkarchive --list        the kinds, one a line, with what each holds
 *
 * Every hostile kind also holds a valid cartridge.json, so that a loader
 * refusing it refuses the hostile entry and not a missing manifest.  The
 * output is deterministic and small (the 1 GiB member is a pax sparse
 * file of one 4 KiB block).
 *
 * tests/unit/test-cartfiles.c #includes this file with MKARCHIVE_NO_MAIN
 * defined and calls mkarchive_build() directly.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "diag.h"
#include "xalloc.h"

#define MK_MIB (1024L * 1024)
#define MK_MANIFEST "{}\n"

static la_ssize_t
mk_sink(struct archive *a, void *cookie, const void *buf, size_t n)
{
    (void)a;
    sb_add(cookie, buf, n);
    return (la_ssize_t)n;
}

static void
mk_check(struct archive *a, int r, const char *what)
{
    if (r != ARCHIVE_OK)
        diag_die(OSM_ESOFTWARE, "mkarchive: %s: %s", what,
                 archive_error_string(a) ? archive_error_string(a) : "failed");
}

/* A writer into out: pax restricted, gzip-compressed unless plain. */
static struct archive *
mk_open(strbuf *out, int gzip)
{
    struct archive *a = archive_write_new();

    if (gzip) {
        mk_check(a, archive_write_add_filter_gzip(a), "gzip");
        mk_check(a, archive_write_set_filter_option(a, "gzip", "timestamp",
                                                    NULL), "gzip timestamp");
    }
    mk_check(a, archive_write_set_format_pax_restricted(a), "format");
    mk_check(a, archive_write_set_bytes_in_last_block(a, 1), "blocking");
    mk_check(a, archive_write_open(a, out, NULL, mk_sink, NULL), "open");
    return a;
}

static void
mk_close(struct archive *a)
{
    mk_check(a, archive_write_close(a), "close");
    archive_write_free(a);
}

static struct archive_entry *
mk_entry(const char *path, unsigned type, unsigned perm, la_int64_t size)
{
    struct archive_entry *e = archive_entry_new();

    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, 0, 0);
    return e;
}

static void
mk_file(struct archive *a, const char *path, const void *data, size_t len,
        unsigned perm)
{
    struct archive_entry *e = mk_entry(path, AE_IFREG, perm, (la_int64_t)len);

    mk_check(a, archive_write_header(a, e), path);
    if (len && archive_write_data(a, data, len) != (la_ssize_t)len)
        mk_check(a, ARCHIVE_FATAL, path);
    archive_entry_free(e);
}

static void
mk_manifest(struct archive *a)
{
    mk_file(a, "cartridge.json", MK_MANIFEST, strlen(MK_MANIFEST), 0644);
}

static void
mk_dir(struct archive *a, const char *path)
{
    struct archive_entry *e = mk_entry(path, AE_IFDIR, 0755, 0);

    mk_check(a, archive_write_header(a, e), path);
    archive_entry_free(e);
}

/* size bytes of zeros, written a slice at a time */
static void
mk_zeros(struct archive *a, const char *path, long size)
{
    static const char zero[65536];
    struct archive_entry *e = mk_entry(path, AE_IFREG, 0644, size);

    mk_check(a, archive_write_header(a, e), path);
    for (long left = size; left > 0; left -= (long)sizeof zero) {
        size_t n = left < (long)sizeof zero ? (size_t)left : sizeof zero;
        if (archive_write_data(a, zero, n) != (la_ssize_t)n)
            mk_check(a, ARCHIVE_FATAL, path);
    }
    archive_entry_free(e);
}

/* deterministic incompressible bytes (xorshift32) */
static void
mk_noise(unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/*
 * A gzip stream with no tar inside it of its own (libarchive's raw format:
 * one member of len bytes, written by the caller with archive_write_data).
 */
static struct archive *
mk_raw_open(strbuf *out, size_t len)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e = mk_entry("data", AE_IFREG, 0644, (la_int64_t)len);

    mk_check(a, archive_write_add_filter_gzip(a), "gzip");
    mk_check(a, archive_write_set_filter_option(a, "gzip", "timestamp", NULL),
             "gzip timestamp");
    mk_check(a, archive_write_set_format_raw(a), "raw format");
    mk_check(a, archive_write_set_bytes_in_last_block(a, 1), "blocking");
    mk_check(a, archive_write_open(a, out, NULL, mk_sink, NULL), "open");
    mk_check(a, archive_write_header(a, e), "raw header");
    archive_entry_free(e);
    return a;
}

static void
mk_raw_write(struct archive *a, const void *buf, size_t len)
{
    if (len && archive_write_data(a, buf, len) != (la_ssize_t)len)
        mk_check(a, ARCHIVE_FATAL, "raw data");
}

/* A ustar header by hand, for what libarchive's writer will not emit. */
static void
mk_ustar_header(unsigned char h[512], const char *name, char type,
                unsigned long long size)
{
    unsigned sum = 0;

    memset(h, 0, 512);
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011llo", size);
    snprintf((char *)h + 136, 12, "%011o", 0);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

/* ---------------------------------------------------------------- kinds */

static void
kind_ok(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_manifest(a);
    mk_close(a);
}

static void
kind_plain(strbuf *out)
{
    struct archive *a = mk_open(out, 0);
    mk_manifest(a);
    mk_file(a, "hooks/run.sh", "#!/bin/sh\n", 10, 0755);
    mk_close(a);
}

static void
kind_dotslash(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    char path[2 + 255 + 1];

    /* "./" and 255 bytes: 257 as stored, 255 once normalised */
    memcpy(path, "./", 2);
    memset(path + 2, 'l', 120);
    path[2 + 120] = '/';
    memset(path + 2 + 121, 'm', 134);
    path[2 + 255] = '\0';

    mk_dir(a, "./");
    mk_file(a, "./cartridge.json", MK_MANIFEST, strlen(MK_MANIFEST), 0644);
    mk_dir(a, "./hooks/");
    mk_file(a, "./hooks/run.sh", "#!/bin/sh\n", 10, 0755);
    mk_file(a, "./tests//a.order.json", "{}\n", 3, 0644);
    mk_file(a, path, "x\n", 2, 0644);
    mk_close(a);
}

static void
kind_absolute(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_manifest(a);
    mk_file(a, "/etc/passwd", "root::0:0::/:/bin/sh\n", 21, 0644);
    mk_close(a);
}

static void
kind_dotdot(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_manifest(a);
    mk_file(a, "../escape", "gotcha\n", 7, 0644);
    mk_close(a);
}

static void
kind_symlink(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    struct archive_entry *e = mk_entry("passwd", AE_IFLNK, 0777, 0);

    mk_manifest(a);
    archive_entry_set_symlink(e, "/etc/passwd");
    mk_check(a, archive_write_header(a, e), "symlink");
    archive_entry_free(e);
    mk_close(a);
}

static void
kind_hardlink(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    struct archive_entry *e = mk_entry("link", AE_IFREG, 0644, 0);

    mk_manifest(a);
    archive_entry_set_hardlink(e, "cartridge.json");
    mk_check(a, archive_write_header(a, e), "hardlink");
    archive_entry_free(e);
    mk_close(a);
}

static void
kind_device(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    struct archive_entry *e = mk_entry("null", AE_IFCHR, 0666, 0);

    mk_manifest(a);
    archive_entry_set_rdevmajor(e, 1);
    archive_entry_set_rdevminor(e, 3);
    mk_check(a, archive_write_header(a, e), "device");
    archive_entry_free(e);
    mk_close(a);
}

static void
kind_fifo(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    struct archive_entry *e = mk_entry("pipe", AE_IFIFO, 0644, 0);

    mk_manifest(a);
    mk_check(a, archive_write_header(a, e), "fifo");
    archive_entry_free(e);
    mk_close(a);
}

static void
kind_many(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    char name[32];

    mk_manifest(a);
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "many/%05d", i);
        mk_file(a, name, "", 0, 0644);
    }
    mk_close(a);
}

/* one member whose header says 1 GiB: a pax sparse file of one block */
static void
kind_sparse(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    struct archive_entry *e = mk_entry("big.bin", AE_IFREG, 0644,
                                       1024 * MK_MIB);
    unsigned char block[4096];

    mk_manifest(a);
    memset(block, 'x', sizeof block);
    archive_entry_sparse_add_entry(e, 0, sizeof block);
    mk_check(a, archive_write_header(a, e), "sparse");
    if (archive_write_data(a, block, sizeof block) != (la_ssize_t)sizeof block)
        mk_check(a, ARCHIVE_FATAL, "sparse data");
    archive_entry_free(e);
    mk_close(a);
}

/* one real file, not sparse, a little over the per-file cap */
static void
kind_bigfile(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_manifest(a);
    mk_zeros(a, "big.bin", 16 * MK_MIB + 1);
    mk_close(a);
}

static void
kind_notar(strbuf *out)
{
    unsigned char junk[512];

    mk_noise(junk, sizeof junk, 42);
    memcpy(junk, "PK\003\004", 4);      /* looks like a zip */
    sb_add(out, junk, sizeof junk);
}

static void
kind_truncated(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    unsigned char *noise = xmalloc(64 * 1024);

    mk_manifest(a);
    mk_noise(noise, 64 * 1024, 7);
    mk_file(a, "data.bin", noise, 64 * 1024, 0644);
    mk_close(a);
    free(noise);
    out->len /= 2;
    out->buf[out->len] = '\0';
}

/* five members of 15 MiB of zeros: each under the cap, 75 MiB in all */
static void
kind_bomb(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    char name[32];

    mk_manifest(a);
    for (int i = 1; i <= 5; i++) {
        snprintf(name, sizeof name, "zeros-%d.bin", i);
        mk_zeros(a, name, 15 * MK_MIB);
    }
    mk_close(a);
}

/*
 * 100 empty members, each after a pax extended header of 1,000,000 bytes
 * of comments: no data to keep, under every per-entry cap, but 100 MB of
 * tar stream that libarchive reads and drops on its own between the
 * headers it hands over.  Only the cap on the uncompressed stream stops it.
 */
static void
kind_streambomb(strbuf *out)
{
    enum { MEMBERS = 100, RECORD = 100000, RECORDS = 10 };
    const size_t pax = (size_t)RECORD * RECORDS;
    const size_t paxpad = (pax + 511) / 512 * 512;
    unsigned char h[512], block[512] = { 0 };
    char *record = xmalloc(RECORD), name[32];
    struct archive *a = mk_raw_open(out, 2 * 512 +
                                    MEMBERS * (512 + paxpad + 512) + 2 * 512);

    mk_ustar_header(h, "cartridge.json", '0', strlen(MK_MANIFEST));
    mk_raw_write(a, h, sizeof h);
    memcpy(block, MK_MANIFEST, strlen(MK_MANIFEST));
    mk_raw_write(a, block, sizeof block);

    /* "100000 comment=xxx...\n": the length counts the whole record */
    memset(record, 'x', RECORD);
    memcpy(record, "100000 comment=", 15);
    record[RECORD - 1] = '\n';
    memset(block, 0, sizeof block);
    for (int i = 0; i < MEMBERS; i++) {
        snprintf(name, sizeof name, "PaxHeader/%03d", i);
        mk_ustar_header(h, name, 'x', pax);
        mk_raw_write(a, h, sizeof h);
        for (int r = 0; r < RECORDS; r++)
            mk_raw_write(a, record, RECORD);
        mk_raw_write(a, block, paxpad - pax);
        snprintf(name, sizeof name, "f/%03d", i);
        mk_ustar_header(h, name, '0', 0);
        mk_raw_write(a, h, sizeof h);
    }
    mk_raw_write(a, block, sizeof block);    /* the end: two zero blocks */
    mk_raw_write(a, block, sizeof block);
    mk_close(a);
    free(record);
}

static void
kind_nomanifest(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_file(a, "hooks/run.sh", "#!/bin/sh\n", 10, 0755);
    mk_file(a, "sub/cartridge.json", MK_MANIFEST, strlen(MK_MANIFEST), 0644);
    mk_close(a);
}

static void
kind_duplicate(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_manifest(a);
    mk_file(a, "transform.jq", ".\n", 2, 0644);
    mk_file(a, "./transform.jq", "{}\n", 3, 0644);
    mk_close(a);
}

static void
kind_conflict(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    mk_manifest(a);
    mk_file(a, "hooks", "x\n", 2, 0644);
    mk_file(a, "hooks/run.sh", "#!/bin/sh\n", 10, 0755);
    mk_close(a);
}

static void
kind_longpath(strbuf *out)
{
    struct archive *a = mk_open(out, 1);
    char path[320];

    mk_manifest(a);
    memset(path, 'd', sizeof path - 1);
    for (size_t i = 50; i < sizeof path - 1; i += 50)
        path[i] = '/';
    path[sizeof path - 1] = '\0';
    mk_file(a, path, "x\n", 2, 0644);
    mk_close(a);
}

/* a good archive, gzip-compressed a second time */
static void
kind_nested(strbuf *out)
{
    strbuf inner = STRBUF_INIT;
    struct archive *a;

    kind_ok(&inner);
    a = mk_raw_open(out, inner.len);
    mk_raw_write(a, inner.buf, inner.len);
    mk_close(a);
    sb_free(&inner);
}

static const struct mk_kind {
    const char *name;
    void (*build)(strbuf *);
    const char *what;
} mk_kinds[] = {
    { "ok", kind_ok,
      "a minimal valid cartridge: cartridge.json {}" },
    { "plain", kind_plain,
      "valid, uncompressed tar, with an executable hook" },
    { "dotslash", kind_dotslash,
      "valid, \"./\" paths and directory members as tar -C dir . writes" },
    { "absolute", kind_absolute,
      "a member /etc/passwd" },
    { "dotdot", kind_dotdot,
      "a member ../escape" },
    { "symlink", kind_symlink,
      "a symbolic link passwd -> /etc/passwd" },
    { "hardlink", kind_hardlink,
      "a hard link 'link' to cartridge.json" },
    { "device", kind_device,
      "a character device 'null' (1, 3)" },
    { "fifo", kind_fifo,
      "a fifo 'pipe'" },
    { "many", kind_many,
      "10000 empty members under many/" },
    { "sparse", kind_sparse,
      "big.bin, a pax sparse member whose header says 1 GiB" },
    { "bigfile", kind_bigfile,
      "big.bin, 16 MiB + 1 byte of zeros" },
    { "notar", kind_notar,
      "512 bytes of noise starting like a zip" },
    { "truncated", kind_truncated,
      "a valid gzip tar cut in half" },
    { "bomb", kind_bomb,
      "five 15 MiB members of zeros: 75 MiB in all" },
    { "streambomb", kind_streambomb,
      "100 empty members behind 1 MB pax headers: 100 MB of tar" },
    { "nomanifest", kind_nomanifest,
      "valid, but cartridge.json only in a subdirectory" },
    { "duplicate", kind_duplicate,
      "transform.jq twice (once as ./transform.jq)" },
    { "conflict", kind_conflict,
      "a file 'hooks' and a file 'hooks/run.sh'" },
    { "longpath", kind_longpath,
      "a member whose path is 319 bytes" },
    { "nested", kind_nested,
      "the ok archive, gzip-compressed twice" },
};

/*
 * Build archive kind into out (appended).  Returns 0, or -1 for an unknown
 * kind.  Dies (status 70) if libarchive fails, as a test tool may.
 */
static int
mkarchive_build(const char *kind, strbuf *out)
{
    for (size_t i = 0; i < sizeof mk_kinds / sizeof mk_kinds[0]; i++)
        if (strcmp(kind, mk_kinds[i].name) == 0) {
            mk_kinds[i].build(out);
            return 0;
        }
    return -1;
}

#ifndef MKARCHIVE_NO_MAIN
int
main(int argc, char **argv)
{
    strbuf sb = STRBUF_INIT;
    FILE *f;

    diag_init(argv[0]);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof mk_kinds / sizeof mk_kinds[0]; i++)
            printf("%-11s %s\n", mk_kinds[i].name, mk_kinds[i].what);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s KIND OUT\n       %s --list\n",
                diag_prog(), diag_prog());
        return OSM_EUSAGE;
    }
    if (mkarchive_build(argv[1], &sb) != 0)
        diag_die(OSM_EUSAGE, "unknown kind '%s' (see --list)", argv[1]);
    f = strcmp(argv[2], "-") == 0 ? stdout : fopen(argv[2], "wb");
    if (!f)
        diag_die(OSM_EIO, "%s: cannot create: %s", argv[2], strerror(errno));
    if (fwrite(sb.buf, 1, sb.len, f) != sb.len || fflush(f) != 0 ||
        (f != stdout && fclose(f) != 0))
        diag_die(OSM_EIO, "%s: write error", argv[2]);
    sb_free(&sb);
    return 0;
}
#endif
