/*
 * Unit tests for lib/cartfiles: every hostile archive tests/mkarchive
 * makes is refused with status 78 and a message naming the entry and the
 * reason; good archives and directories load; directory -> pack -> load
 * gives the same set; packing is byte-for-byte reproducible; the
 * directory walker refuses what the archive reader refuses; extraction
 * writes the set back out whole, atomically, and races harmlessly.
 *
 * The archives come from tests/mkarchive.c itself, #included here, so
 * that the program the bats tests call and these tests cannot drift.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cartfiles.h"
#include "diag.h"
#include "xalloc.h"
#include "tap.h"

#define MKARCHIVE_NO_MAIN
#include "../mkarchive.c"

static char tmpdir[256];

/* Load mkarchive's kind as "KIND.osmc"; the status, err filled. */
static int
load_kind(const char *kind, cart_files *fs, osm_err *err)
{
    strbuf sb = STRBUF_INIT;
    char name[64];
    int rc;

    if (mkarchive_build(kind, &sb) != 0) {
        sb_free(&sb);
        return -1;
    }
    snprintf(name, sizeof name, "%s.osmc", kind);
    osm_err_clear(err);
    rc = cart_files_from_archive(sb.buf, sb.len, name, fs, err);
    sb_free(&sb);
    return rc;
}

static void
refused(const char *kind, const char *want)
{
    static cart_file dummy;
    cart_files fs = { &dummy, 99 };     /* must be overwritten */
    osm_err err;
    int rc = load_kind(kind, &fs, &err);

    is_int(rc, OSM_ECONFIG, "%s: refused with status 78", kind);
    if (want[strlen(want) - 1] == '*') {
        if (!ok(strncmp(err.msg, want, strlen(want) - 1) == 0,
                "%s: message starts \"%.*s\"", kind, (int)strlen(want) - 1,
                want))
            tap_diag("got \"%s\"", err.msg);
    } else
        is_str(err.msg, want, "%s: message", kind);
    ok(fs.v == NULL && fs.n == 0, "%s: the set is left empty", kind);
    if (rc == 0)
        cart_files_free(&fs);
}

static long
maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double
now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void
put(const char *rel, const char *data, mode_t mode)
{
    char *path = xasprintf("%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");

    if (!f || fputs(data, f) < 0 || fclose(f) != 0)
        diag_die(OSM_EIO, "%s: %s", path, strerror(errno));
    chmod(path, mode);
    free(path);
}

static void
mkdir_rel(const char *rel)
{
    char *path = xasprintf("%s/%s", tmpdir, rel);
    if (mkdir(path, 0755) != 0)
        diag_die(OSM_EIO, "%s: %s", path, strerror(errno));
    free(path);
}

static void
rm_rf(const char *path)
{
    char *cmd = xasprintf("rm -rf '%s'", path);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", path);
    free(cmd);
}

/* Two sets are equal: same paths, bytes and flags, in the same order. */
static int
same_set(const cart_files *a, const cart_files *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].path, b->v[i].path) != 0 ||
            a->v[i].size != b->v[i].size ||
            memcmp(a->v[i].data, b->v[i].data, a->v[i].size) != 0 ||
            a->v[i].executable != b->v[i].executable)
            return 0;
    return 1;
}

static void
test_hostile(void)
{
    long rss0;
    double t0;

    /* first, while the process is still small: no 1 GiB allocation */
    rss0 = maxrss_kib();
    t0 = now();
    refused("sparse", "sparse.osmc: entry \"big.bin\": larger than 16 MiB "
            "(1073741824 bytes)");
    ok(now() - t0 < 5.0, "sparse: refused quickly (%.2fs)", now() - t0);
    ok(maxrss_kib() - rss0 < 64 * 1024,
       "sparse: peak memory grew by %ld KiB only", maxrss_kib() - rss0);

    refused("absolute",
            "absolute.osmc: entry \"/etc/passwd\": absolute path");
    refused("dotdot",
            "dotdot.osmc: entry \"../escape\": path leaves the cartridge (..)");
    refused("symlink",
            "symlink.osmc: entry \"passwd\": symbolic link not allowed");
    refused("hardlink",
            "hardlink.osmc: entry \"link\": hard link not allowed");
    refused("device",
            "device.osmc: entry \"null\": device node not allowed");
    refused("fifo", "fifo.osmc: entry \"pipe\": fifo not allowed");
    refused("many", "many.osmc: more than 1000 entries");
    refused("bigfile", "bigfile.osmc: entry \"big.bin\": larger than 16 MiB "
            "(16777217 bytes)");
    refused("notar", "notar.osmc: not a tar archive");
    refused("truncated", "truncated.osmc: truncated or corrupt archive: *");
    refused("bomb", "bomb.osmc: entry \"zeros-5.bin\": the files add up to "
            "more than 64 MiB");

    rss0 = maxrss_kib();
    refused("streambomb",
            "streambomb.osmc: more than 80 MiB of uncompressed tar data");
    ok(maxrss_kib() - rss0 < 64 * 1024,
       "streambomb: peak memory grew by %ld KiB only", maxrss_kib() - rss0);

    refused("nomanifest",
            "nomanifest.osmc: no cartridge.json at the top of the archive");
    refused("duplicate",
            "duplicate.osmc: entry \"transform.jq\": duplicate path");
    refused("conflict", "conflict.osmc: entry \"hooks/run.sh\": "
            "\"hooks\" is a file, not a directory");
    refused("longpath", "longpath.osmc: entry \"dddddddddddddddddddddddddddddd"
            "dddddddddddddddddddd/ddddddddddddddddddddddddddddddddddddddddddd"
            "dddddd...\": path longer than 255 bytes");
    refused("nested", "nested.osmc: compressed more than once");

    {
        cart_files fs;
        osm_err err;
        const char junk[] = "";
        is_int(cart_files_from_archive(junk, 0, "empty.osmc", &fs, &err),
               OSM_ECONFIG, "an empty file is refused");
        is_str(err.msg, "empty.osmc: not a tar archive", "empty: message");
    }
}

static void
test_good_archives(void)
{
    cart_files fs;
    osm_err err;
    const cart_file *f;

    if (!ok(load_kind("ok", &fs, &err) == 0, "ok: loads"))
        tap_diag("%s", err.msg);
    is_int(fs.n, 1, "ok: one file");
    f = cart_files_get(&fs, "cartridge.json");
    ok(f && f->size == 3 && strcmp((char *)f->data, "{}\n") == 0 &&
       !f->executable, "ok: cartridge.json is {} and not executable");
    ok(cart_files_get(&fs, "nothing") == NULL, "get: a missing path is NULL");
    cart_files_free(&fs);
    ok(fs.v == NULL && fs.n == 0, "free leaves the set empty");
    cart_files_free(&fs);
    ok(1, "free of an empty set is harmless");

    is_int(load_kind("plain", &fs, &err), 0, "plain (uncompressed) tar loads");
    f = cart_files_get(&fs, "hooks/run.sh");
    ok(f && f->executable, "plain: the hook keeps its x bit");
    cart_files_free(&fs);

    if (!ok(load_kind("dotslash", &fs, &err) == 0,
            "\"./\" paths and directory members load"))
        tap_diag("%s", err.msg);
    is_int(fs.n, 4, "dotslash: four files, no directories");
    if (fs.n == 4) {
        is_str(fs.v[0].path, "cartridge.json", "dotslash: ./ stripped");
        is_str(fs.v[1].path, "hooks/run.sh", "dotslash: sorted");
        ok(strlen(fs.v[2].path) == 255 && fs.v[2].path[0] == 'l',
           "dotslash: \"./\" and 255 bytes is a 255-byte path");
        is_str(fs.v[3].path, "tests/a.order.json", "dotslash: // collapsed");
        ok(fs.v[1].executable && !fs.v[3].executable,
           "dotslash: executable flags from the modes");
    }
    cart_files_free(&fs);
}

static char longpath[256];

static void
make_tree(void)
{
    mkdir_rel("hooks");
    mkdir_rel("tests");
    mkdir_rel(".git");
    put("cartridge.json", "{\"name\": \"t\", \"version\": \"1.0.0\"}\n", 0644);
    put("transform.jq", ".\n", 0644);
    put("empty.jq", "", 0644);
    put("hooks/run.sh", "#!/bin/sh\necho ok\n", 0755);
    put("tests/a.order.json", "{}\n", 0600);
    put(".git/config", "[core]\n", 0644);
    put(".hidden", "x\n", 0644);

    /* 255 bytes, a component over 100: needs a pax extended header */
    memset(longpath, 'a', 120);
    longpath[120] = '\0';
    mkdir_rel(longpath);
    longpath[120] = '/';
    memset(longpath + 121, 'b', 134);
    longpath[255] = '\0';
    put(longpath, "long\n", 0644);
}

static void
test_dir_and_pack(void)
{
    cart_files fs, back, again, rev;
    osm_err err;
    void *buf = NULL, *buf2 = NULL, *buf3 = NULL, *buf4 = NULL;
    size_t len = 0, len2 = 0, len3 = 0, len4 = 0;
    const cart_file *f;
    char *archive;
    FILE *out;

    make_tree();
    if (!ok(cart_files_from_dir(tmpdir, &fs, &err) == 0, "directory loads"))
        tap_diag("%s", err.msg);
    is_int(fs.n, 6, "dot names skipped: six files");
    ok(!cart_files_get(&fs, ".hidden") && !cart_files_get(&fs, ".git/config"),
       ".hidden and .git/ are not in the set");
    f = cart_files_get(&fs, "hooks/run.sh");
    ok(f && f->executable, "hooks/run.sh is executable");
    f = cart_files_get(&fs, "tests/a.order.json");
    ok(f && !f->executable && f->size == 3,
       "tests/a.order.json: 3 bytes, not executable");
    f = cart_files_get(&fs, "empty.jq");
    ok(f && f->size == 0 && f->data && f->data[0] == '\0',
       "an empty file has size 0 and a NUL");
    ok(cart_files_get(&fs, longpath) != NULL, "a 255-byte path loads");

    if (!ok(cart_files_pack(&fs, &buf, &len, &err) == 0, "pack"))
        tap_diag("%s", err.msg);
    ok(len > 10 && ((unsigned char *)buf)[0] == 0x1f &&
       ((unsigned char *)buf)[1] == 0x8b, "pack: gzip output");
    ok(len > 10 && ((unsigned char *)buf)[3] == 0 &&
       memcmp((unsigned char *)buf + 4, "\0\0\0\0", 4) == 0,
       "pack: gzip header has no flags (no name) and no timestamp");

    if (!ok(cart_files_from_archive(buf, len, "t.osmc", &back, &err) == 0,
            "the packed archive loads"))
        tap_diag("%s", err.msg);
    ok(same_set(&fs, &back), "directory -> pack -> load: the same set");

    sleep(1);
    is_int(cart_files_pack(&back, &buf2, &len2, &err), 0, "pack again");
    ok(len == len2 && memcmp(buf, buf2, len) == 0,
       "packing twice, a second apart, gives the same bytes");

    /* the order of the set's array does not matter */
    rev.n = fs.n;
    rev.v = xmalloc(fs.n * sizeof *rev.v);
    for (size_t i = 0; i < fs.n; i++)
        rev.v[i] = fs.v[fs.n - 1 - i];
    is_int(cart_files_pack(&rev, &buf3, &len3, &err), 0, "pack a reversed set");
    ok(len == len3 && memcmp(buf, buf3, len) == 0,
       "a reversed set packs to the same bytes");
    free(rev.v);

    /* from_path: a file and a directory */
    archive = xasprintf("%s.osmc", tmpdir);
    out = fopen(archive, "wb");
    ok(out && fwrite(buf, 1, len, out) == len && fclose(out) == 0,
       "write the archive to a file");
    if (!ok(cart_files_from_path(archive, &again, &err) == 0,
            "from_path on a file"))
        tap_diag("%s", err.msg);
    ok(same_set(&fs, &again), "from_path on a file: the same set");
    cart_files_free(&again);
    is_int(cart_files_from_path(tmpdir, &again, &err), 0,
           "from_path on a directory");
    ok(same_set(&fs, &again), "from_path on a directory: the same set");
    cart_files_free(&again);
    unlink(archive);
    free(archive);

    /* pack refuses what the loaders would */
    {
        cart_file bad[2] = {
            { "cartridge.json", (unsigned char *)"{}", 2, 0 },
            { "a/../b", (unsigned char *)"", 0, 0 },
        };
        cart_files bs = { bad, 2 };
        is_int(cart_files_pack(&bs, &buf4, &len4, &err), OSM_ECONFIG,
               "pack refuses a '..' path");
        is_str(err.msg,
               "cannot pack: entry \"a/../b\": path leaves the cartridge (..)",
               "pack: message");
        bad[1].path = "./b";
        is_int(cart_files_pack(&bs, &buf4, &len4, &err), OSM_ECONFIG,
               "pack refuses a path not in normal form");
        bad[1].path = "cartridge.json";
        is_int(cart_files_pack(&bs, &buf4, &len4, &err), OSM_ECONFIG,
               "pack refuses a duplicate path");
        is_str(err.msg, "cannot pack: entry \"cartridge.json\": duplicate path",
               "pack: duplicate message");
        ok(buf4 == NULL && len4 == 0, "pack: output untouched on failure");
    }

    free(buf);
    free(buf2);
    free(buf3);
    cart_files_free(&fs);
    cart_files_free(&back);
}

static void
dir_refused(const char *what, const char *want)
{
    cart_files fs;
    osm_err err;
    char *full = xasprintf("%s: %s", tmpdir, want);

    is_int(cart_files_from_dir(tmpdir, &fs, &err), OSM_ECONFIG,
           "directory with %s: refused with status 78", what);
    is_str(err.msg, full, "directory with %s: message", what);
    ok(fs.v == NULL && fs.n == 0, "directory with %s: the set is empty", what);
    free(full);
}

static void
test_dir_refusals(void)
{
    char *p;
    int fd;

    rm_rf(tmpdir);
    mkdir(tmpdir, 0755);
    put("cartridge.json", "{}\n", 0644);
    mkdir_rel("hooks");

    p = xasprintf("%s/hooks/link", tmpdir);
    ok(symlink("/etc/passwd", p) == 0, "make a symlink");
    dir_refused("a symlink",
                "entry \"hooks/link\": symbolic link not allowed");
    unlink(p);
    ok(symlink("..", p) == 0, "make a symlink to a directory");
    dir_refused("a symlink to a directory",
                "entry \"hooks/link\": symbolic link not allowed");
    unlink(p);
    ok(mkfifo(p, 0644) == 0, "make a fifo");
    dir_refused("a fifo", "entry \"hooks/link\": fifo not allowed");
    unlink(p);
    free(p);

    /* 17 MiB, sparse on disk: refused from its size, unread */
    p = xasprintf("%s/big.bin", tmpdir);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ok(fd >= 0 && ftruncate(fd, 17L * 1024 * 1024) == 0 && close(fd) == 0,
       "make a 17 MiB file");
    dir_refused("a 17 MiB file", "entry \"big.bin\": larger than 16 MiB "
                "(17825792 bytes)");
    unlink(p);
    free(p);

    p = xasprintf("%s/cartridge.json", tmpdir);
    unlink(p);
    free(p);
    put("hooks/cartridge.json", "{}\n", 0644);
    {
        cart_files fs;
        osm_err err;
        char *want = xasprintf("%s: no cartridge.json at the top of the "
                               "directory: not a cartridge (osm-cartridge init NAME "
                               "makes one)", tmpdir);
        is_int(cart_files_from_dir(tmpdir, &fs, &err), OSM_ECONFIG,
               "directory without a manifest: 78");
        is_str(err.msg, want, "directory without a manifest: message");
        free(want);
    }
    put("cartridge.json", "{}\n", 0644);

    /* 1001 entries: cartridge.json, hooks/, hooks/cartridge.json, 998 more */
    mkdir_rel("many");
    for (int i = 0; i < 998; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "many/%03d", i);
        put(rel, "", 0644);
    }
    {
        cart_files fs;
        osm_err err;
        int rc = cart_files_from_dir(tmpdir, &fs, &err);
        is_int(rc, OSM_ECONFIG, "1002 entries: refused");
        p = xasprintf("%s: more than 1000 entries", tmpdir);
        is_str(err.msg, p, "1002 entries: message");
        free(p);
        p = xasprintf("%s/many/000", tmpdir);
        unlink(p);
        free(p);
        p = xasprintf("%s/many/001", tmpdir);
        unlink(p);
        free(p);
        rc = cart_files_from_dir(tmpdir, &fs, &err);
        if (!ok(rc == 0, "exactly 1000 entries load"))
            tap_diag("%s", err.msg);
        is_int(fs.n, 998, "1000 entries: 998 files (two are directories)");
        cart_files_free(&fs);
    }
}

static void
test_paths(void)
{
    cart_files fs = { NULL, 0 };
    osm_err err;
    char *p, *want;
    int fd;

    p = xasprintf("%s/no-such-cartridge", tmpdir);
    want = xasprintf("%s: No such file or directory", p);
    is_int(cart_files_from_path(p, &fs, &err), OSM_ENOINPUT,
           "a missing path: status 66");
    is_str(err.msg, want, "a missing path: message");
    is_int(cart_files_from_dir(p, &fs, &err), OSM_ENOINPUT,
           "a missing directory: status 66");
    free(want);
    free(p);

    /* 65 MiB, sparse on disk: refused from its size */
    p = xasprintf("%s/huge.osmc", tmpdir);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ok(fd >= 0 && ftruncate(fd, 65L * 1024 * 1024) == 0 && close(fd) == 0,
       "make a 65 MiB file");
    want = xasprintf("%s: archive larger than 64 MiB "
                     "(68157440 bytes)", p);
    is_int(cart_files_from_path(p, &fs, &err), OSM_ECONFIG,
           "a 65 MiB archive: refused");
    is_str(err.msg, want, "a 65 MiB archive: message");
    unlink(p);
    free(want);
    free(p);

    p = xasprintf("%s/notar.osmc", tmpdir);
    put("notar.osmc", "hello, world\n", 0644);
    want = xasprintf("%s: not a tar archive", p);
    is_int(cart_files_from_path(p, &fs, &err), OSM_ECONFIG,
           "a text file: refused");
    is_str(err.msg, want, "a text file: message");
    free(want);
    free(p);
}

/* The mode bits of tmpdir/rel, or -1. */
static int
mode_of(const char *rel)
{
    char *path = xasprintf("%s/%s", tmpdir, rel);
    struct stat st;
    int rc = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;

    free(path);
    return rc;
}

/* Entries of tmpdir whose name starts with prefix. */
static int
count_prefixed(const char *prefix)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void
test_extract(void)
{
    cart_files fs, back;
    cart_file bad[1];
    cart_files badset = { bad, 1 };
    osm_err err;
    mode_t old = umask(022);
    char *out = xasprintf("%s/xout", tmpdir), *race, *want;
    int all = 1;

    mkdir_rel("xsrc");
    mkdir_rel("xsrc/hooks");
    mkdir_rel("xsrc/a");
    mkdir_rel("xsrc/a/b");
    put("xsrc/cartridge.json", "{\"name\": \"x\", \"version\": \"1.0.0\"}\n",
        0644);
    put("xsrc/hooks/run.sh", "#!/bin/sh\necho ok\n", 0755);
    put("xsrc/a/b/deep.txt", "deep\n", 0600);
    put("xsrc/empty", "", 0644);
    want = xasprintf("%s/xsrc", tmpdir);
    if (!ok(cart_files_from_dir(want, &fs, &err) == 0, "extract: source loads"))
        tap_diag("%s", err.msg);
    free(want);

    if (!ok(cart_files_extract(&fs, out, &err) == 0, "extract"))
        tap_diag("%s", err.msg);
    if (!ok(cart_files_from_dir(out, &back, &err) == 0,
            "extract: the result loads"))
        tap_diag("%s", err.msg);
    ok(same_set(&fs, &back), "extract: same paths, bytes and exec bits");
    cart_files_free(&back);
    is_int(mode_of("xout/hooks/run.sh"), 0755, "extract: executable 0755");
    is_int(mode_of("xout/a/b/deep.txt"), 0644, "extract: others 0644");
    is_int(mode_of("xout/a/b"), 0755, "extract: directories 0755");
    is_int(count_prefixed("xout.tmp."), 0, "extract: no temporary left");

    is_int(cart_files_extract(&fs, out, &err), 0, "extract again: fine");
    is_int(count_prefixed("xout.tmp."), 0, "extract again: no temporary left");

    /* a stale temporary of a crashed process with our pid is replaced */
    race = xasprintf("xstale.tmp.%ld", (long)getpid());
    mkdir_rel(race);
    free(race);
    race = xasprintf("xstale.tmp.%ld/junk", (long)getpid());
    put(race, "junk\n", 0644);
    free(race);
    race = xasprintf("%s/xstale", tmpdir);
    is_int(cart_files_extract(&fs, race, &err), 0,
           "extract over a stale temporary");
    ok(mode_of("xstale/junk") == -1 && count_prefixed("xstale.tmp.") == 0,
       "the stale temporary is gone, not renamed in");
    free(race);

    /* eight processes extracting the same cartridge at once */
    race = xasprintf("%s/xrace", tmpdir);
    {
        int gate[2];
        pid_t kids[8];

        if (pipe(gate) != 0)
            diag_die(OSM_EIO, "pipe: %s", strerror(errno));
        fflush(stdout);
        for (int i = 0; i < 8; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                char c;
                int rc;

                close(gate[1]);
                while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                    ;
                rc = cart_files_extract(&fs, race, NULL);
                /* for valgrind, which checks the children too */
                cart_files_free(&fs);
                free(race);
                free(out);
                _exit(rc);
            }
        }
        close(gate[0]);
        close(gate[1]);         /* go */
        for (int i = 0; i < 8; i++) {
            int st = -1;

            all &= kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i] &&
                   WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
    }
    ok(all, "eight racing extracts all succeed");
    if (!ok(cart_files_from_dir(race, &back, &err) == 0 &&
            same_set(&fs, &back), "racing extracts: the same set"))
        tap_diag("%s", err.msg);
    cart_files_free(&back);
    is_int(count_prefixed("xrace.tmp."), 0, "racing extracts: no temporary left");
    free(race);

    /* the loaders' rules, defensively */
    bad[0].path = "../evil";
    bad[0].data = (unsigned char *)"x";
    bad[0].size = 1;
    bad[0].executable = 0;
    race = xasprintf("%s/xbad", tmpdir);
    want = xasprintf("%s: entry \"../evil\": path leaves the cartridge (..)",
                     race);
    is_int(cart_files_extract(&badset, race, &err), OSM_ECONFIG,
           "extract refuses \"..\" with 78");
    is_str(err.msg, want, "extract \"..\": message");
    free(want);
    bad[0].path = "/etc/evil";
    is_int(cart_files_extract(&badset, race, &err), OSM_ECONFIG,
           "extract refuses an absolute path with 78");
    ok(mode_of("xbad") == -1 && count_prefixed("xbad") == 0,
       "refused: nothing written");
    free(race);

    race = xasprintf("%s/no-such-dir/x", tmpdir);
    want = xasprintf("%s/no-such-dir/x.tmp.%ld: No such file or directory",
                     tmpdir, (long)getpid());
    is_int(cart_files_extract(&fs, race, &err), OSM_EIO,
           "extract into a missing parent: 74");
    is_str(err.msg, want, "extract into a missing parent: message");
    free(want);
    free(race);

    cart_files_free(&fs);
    free(out);
    umask(old);
}

int
main(void)
{
    const char *t = getenv("TMPDIR");

    diag_init("test-cartfiles");
    snprintf(tmpdir, sizeof tmpdir, "%s/test-cartfiles.XXXXXX",
             t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        diag_die(OSM_EIO, "mkdtemp: %s", strerror(errno));

    test_hostile();
    test_good_archives();
    test_dir_and_pack();
    test_dir_refusals();
    test_paths();
    test_extract();

    rm_rf(tmpdir);
    return done_testing();
}
