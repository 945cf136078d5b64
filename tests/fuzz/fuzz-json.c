/*
 * libFuzzer harness for the JSON stream reader (lib/json.c): the input is
 * a stream read through json_reader_next() to its end, with a small cap
 * so that the size and nesting refusals are reached too, and then parsed
 * whole by json_parse_mem().  Every value must come out as a valid jv and
 * every refusal as a status with a message; the stream must end.
 */
#define _GNU_SOURCE
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-json", 0);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    lseek(fd, 0, SEEK_SET);

    json_reader *r = json_reader_fdopen(fd, "<fuzz>");
    json_reader_set_max(r, 4096);
    size_t rounds = 0;
    for (;;) {
        osm_err err = { 0, "" };
        jv v;
        int rc = json_reader_next(r, &v, &err);
        if (rc == 0) {
            jv_free(v);
            break;
        }
        if (rc == 1) {
            if (!jv_is_valid(v))
                abort();
            char *s = json_dump(v, JSON_SORTED);
            free(s);
        } else if (rc < 0 || !err.msg[0]) {
            abort();
        }
        jv_free(v);
        /* every round consumes input: the stream cannot go on for ever */
        if (++rounds > size + 2)
            abort();
        if (rc == OSM_EIO)
            break;
    }
    json_reader_free(r);
    close(fd);

    osm_err err = { 0, "" };
    jv v = json_parse_mem((const char *)data, size, &err);
    if (!jv_is_valid(v) && !err.msg[0])
        abort();
    jv_free(v);
    return 0;
}
