/*
 * libFuzzer harness for the cartridge archive reader (lib/cartfiles.c):
 * the input is a packed cartridge.  A set that loads must keep the
 * promises of cartfiles.h -- sorted normalised paths of printable ASCII,
 * no "..", the caps, a cartridge.json -- and pack again into an archive
 * that loads into the same set.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cartfiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_path(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > CART_MAX_PATH || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
        abort();
    for (const char *s = p; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            abort();
    for (const char *s = p; s; s = strchr(s, '/')) {
        if (*s == '/')
            s++;
        if ((s[0] == '.' && (s[1] == '/' || !s[1])) ||
            (s[0] == '.' && s[1] == '.' && (s[2] == '/' || !s[2])))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cart_files fs;
    osm_err err = { 0, "" };
    int rc = cart_files_from_archive(data, size, "fuzz.osmc", &fs, &err);
    if (rc != 0) {
        if (fs.n != 0 || fs.v != NULL || !err.msg[0])
            abort();
        return 0;
    }
    if (!cart_files_get(&fs, CART_MANIFEST) || fs.n > CART_MAX_ENTRIES)
        abort();
    size_t total = 0;
    for (size_t i = 0; i < fs.n; i++) {
        check_path(fs.v[i].path);
        if (i && strcmp(fs.v[i - 1].path, fs.v[i].path) >= 0)
            abort();
        if (fs.v[i].size > CART_MAX_FILE_SIZE || fs.v[i].data[fs.v[i].size] != '\0')
            abort();
        total += fs.v[i].size;
    }
    if (total > CART_MAX_TOTAL_SIZE)
        abort();

    void *buf;
    size_t len;
    if (cart_files_pack(&fs, &buf, &len, &err) != 0)
        abort();
    cart_files again;
    if (cart_files_from_archive(buf, len, "again.osmc", &again, &err) != 0 || again.n != fs.n)
        abort();
    for (size_t i = 0; i < fs.n; i++)
        if (strcmp(again.v[i].path, fs.v[i].path) != 0 || again.v[i].size != fs.v[i].size ||
            memcmp(again.v[i].data, fs.v[i].data, fs.v[i].size) != 0 ||
            again.v[i].executable != fs.v[i].executable)
            abort();
    free(buf);
    cart_files_free(&again);
    cart_files_free(&fs);
    return 0;
}
