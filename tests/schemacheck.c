/*
 * schemacheck: validates JSON documents against one of the schemas in
 * specs/, so that the tests can check that what a program prints is what
 * its spec says.
 *
 *     schemacheck SCHEMA.json [FILE...]
 *
 * Every JSON value of the FILEs (none, or "-": standard input) -- one
 * value, many, or NDJSON, read as a stream by json_reader -- is validated
 * against SCHEMA.json with lib/schema.  Each problem is printed on
 * standard error as
 *
 *     FILE:LINE: PATH: MESSAGE
 *
 * (LINE where the value began, PATH jq-style), so that a bats test can
 * assert on the output.  Exit status: 0 when every value is valid, 1 when
 * any is not, 65 when a record is not JSON, 66 when a file is missing,
 * 78 when the schema does not compile; the worst one wins.  With -r an
 * input holding no value at all is an error too (65), so that a test
 * cannot pass because the program it checks printed nothing.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "diag.h"
#include "json.h"
#include "schema.h"
#include "xalloc.h"

#define SCHEMA_MAX ((size_t)4 << 20)   /* a schema is hand-written: 4 MiB is plenty */

static const char usage_text[] =
    "usage: schemacheck [-qr] SCHEMA.json [FILE...]\n"
    "\n"
    "Validate every JSON value of the FILEs (or standard input) against the\n"
    "JSON Schema SCHEMA.json; print each problem as FILE:LINE: PATH: MESSAGE\n"
    "on standard error.  Exit 0 all valid, 1 any invalid, 65 bad JSON,\n"
    "66 no such file, 78 bad schema.\n"
    "\n"
    "options:\n"
    "  -q, --quiet        print nothing, only set the exit status\n"
    "  -r, --require      an input holding no JSON value is an error (65)\n"
    "  -h, --help         show this help\n";

static int quiet, require_value;

/*
 * Read and compile the schema at path.  Returns 0 with *out set, or 66
 * (missing), 74 (unreadable) or 78 (not a schema we can use), after
 * printing why.
 */
static int
load_schema(const char *path, schema **out)
{
    osm_err err = { 0, "" };
    strbuf text = STRBUF_INIT;
    char buf[65536];
    size_t n;
    int rc = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        diag_error("%s: %s", path, strerror(errno));
        return errno == ENOENT || errno == ENOTDIR ? OSM_ENOINPUT : OSM_EIO;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (text.len + n > SCHEMA_MAX) {
            diag_error("%s: schema larger than 4 MiB", path);
            rc = OSM_ECONFIG;
            goto out;
        }
        sb_add(&text, buf, n);
    }
    if (ferror(f)) {
        diag_error("%s: %s", path, strerror(errno));
        rc = errno == EISDIR ? OSM_ENOINPUT : OSM_EIO;
        goto out;
    }
    sb_add(&text, "", 0);       /* an empty file still gets its NUL */
    if (schema_compile(text.buf, path, out, &err) != 0) {
        diag_error("%s", err.msg);
        rc = OSM_ECONFIG;
    }
out:
    fclose(f);
    sb_free(&text);
    return rc;
}

/* Validate every value of one input; returns the worst status. */
static int
check_file(const schema *s, const char *path)
{
    osm_err err = { 0, "" };
    json_reader *r = json_reader_open(path, &err);
    long nvalues = 0;
    int worst = 0, rc;
    jv v, problems;

    if (!r) {
        diag_error("%s", err.msg);
        return err.code;
    }
    while ((rc = json_reader_next(r, &v, &err)) != 0) {
        if (rc != 1) {
            if (!quiet)
                diag_error("%s", err.msg);
            worst = osm_worst(worst, rc);
            if (rc != OSM_EDATA)
                break;
            continue;
        }
        nvalues++;
        if (schema_validate(s, v, &problems) > 0) {
            worst = osm_worst(worst, OSM_NEGATIVE);
            jv_array_foreach(problems, i, p) {
                if (!quiet)
                    fprintf(stderr, "%s:%ld: %s: %s\n", json_reader_name(r),
                            json_reader_line(r), json_str(p, "path"), json_str(p, "message"));
                jv_free(p);
            }
        }
        jv_free(problems);
        jv_free(v);
    }
    if (nvalues == 0 && worst == 0 && require_value) {
        if (!quiet)
            diag_error("%s: no JSON value to check", json_reader_name(r));
        worst = OSM_EDATA;
    }
    json_reader_free(r);
    return worst;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "require", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    schema *s = NULL;
    char *stdin_only[] = { "-" };
    char **files;
    int nfiles, c, rc = 0;

    diag_init(argv[0]);
    while ((c = getopt_long(argc, argv, "qrh", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = 1; break;
        case 'r': require_value = 1; break;
        case 'h': fputs(usage_text, stdout); return fflush(stdout) ? OSM_EIO : 0;
        default:
            fprintf(stderr, "Try 'schemacheck --help' for more information.\n");
            return OSM_EUSAGE;
        }
    }
    if (optind >= argc) {
        diag_error("expected a schema file");
        fprintf(stderr, "Try 'schemacheck --help' for more information.\n");
        return OSM_EUSAGE;
    }
    if ((rc = load_schema(argv[optind++], &s)) != 0)
        return rc;
    files = optind < argc ? argv + optind : stdin_only;
    nfiles = optind < argc ? argc - optind : 1;
    for (int i = 0; i < nfiles; i++) {
        rc = osm_worst(rc, check_file(s, files[i]));
        if (rc >= OSM_EIO)
            break;
    }
    schema_free(s);
    return rc;
}
