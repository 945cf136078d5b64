/*
 * libFuzzer harness for RFC 3339 instants and ISO 8601 durations
 * (lib/clock.c): the input, as a string, through rfc3339_parse(),
 * duration_parse() and duration_parse_arg().  What parses must format
 * and parse back to the same milliseconds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    int64_t ms = 0, back = 0;
    if (rfc3339_parse(s, &ms) == 0) {
        char out[CLOCK_RFC3339_MAX];
        rfc3339_format(ms, out);
        if (rfc3339_parse(out, &back) != 0 || back != ms)
            abort();
    }
    if (duration_parse(s, &ms) == 0) {
        char out[CLOCK_DURATION_MAX];
        if (ms < 0)
            abort();
        duration_format(ms, out);
        if (duration_parse(out, &back) != 0 || back != ms)
            abort();
    }
    osm_err err = { 0, "" };
    if (duration_parse_arg(s, &ms, &err) == 0) {
        if (ms < 0)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    free(s);
    return 0;
}
