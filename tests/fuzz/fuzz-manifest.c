/*
 * libFuzzer harness for the manifest loader and checker (lib/cartridge.c):
 * the input is a cartridge.json, alone in its cartridge, loaded and
 * checked (which compiles its jq programs).  A manifest may be anything;
 * what is checked is that loading and checking never crash or leak, and
 * that a manifest found valid has no problems listed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cartfiles.h"
#include "cartridge.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    cart_files fs = { xcalloc(1, sizeof(cart_file)), 1 };
    fs.v[0].path = xstrdup(CART_MANIFEST);
    fs.v[0].data = xmalloc(size + 1);
    memcpy(fs.v[0].data, data, size);
    fs.v[0].data[size] = '\0';
    fs.v[0].size = size;

    cartridge *c = cartridge_from_files(&fs, "<fuzz>");
    jv problems, warnings;
    int n = cartridge_check(c, &problems, &warnings);
    if (jv_get_kind(problems) != JV_KIND_ARRAY || jv_get_kind(warnings) != JV_KIND_ARRAY)
        abort();
    if (jv_array_length(problems) != n)
        abort();
    jv_free(warnings);
    cartridge_free(c);
    cart_files_free(&fs);
    return 0;
}
