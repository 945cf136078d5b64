/*
 * osm-validate: recognise, validate and transform orders without storing
 * them — against deployed cartridges, or cartridge directories and
 * archives with no store at all (DESIGN §6, osm-validate(1)).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "clock.h"
#include "intake.h"
#include "json.h"
#include "store.h"
#include "termtable.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-validate [-qv] [-d DB] [-c PATH|NAME[@VERSION]]... [--transform]\n"
    "                    [--errors-to-stdout] [--format json|table] [--jq EXPR]\n"
    "                    [--pretty] [FILE...]\n"
    "\n"
    "Recognise, validate and transform orders read as JSON (one value, many,\n"
    "or NDJSON) from the FILEs or standard input, and print a report for each.\n"
    "Nothing is stored.\n"
    "\n"
    "options:\n"
    "  -c, --cartridge PATH|NAME[@VERSION]\n"
    "                         use this cartridge: a directory or archive (no store\n"
    "                         needed), or NAME[@VERSION] deployed in the store;\n"
    "                         may be repeated (default: every deployed cartridge)\n"
    "  -d, --db DB            order store: a file or a postgresql:// URI\n"
    "                         (default $OSM_DB, else ./osm.db)\n"
    "  -t, --transform        include the transformed order in each report\n"
    "      --errors-to-stdout also print an error document for unreadable input\n"
    "      --format json|table\n"
    "                         the output (default json)\n"
    "      --jq EXPR          print what jq EXPR makes of each JSON document\n"
    "      --pretty           indent JSON output\n"
    "  -q, --quiet            no warnings\n"
    "  -v, --verbose          more messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

#define NOTES_MAX 20     /* problems of one order listed in a table */

typedef struct validate {
    catalog *cat;
    int transform;
    int table;
    termtable *rows;        /* --format table: the rows of the run, printed at its end */
    int errors_to_stdout;
    int json_flags;
} validate;

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-validate --help' for more information.\n");
    return OSM_EUSAGE;
}

/*
 * One order as a row of the table (errors consumed), its problems as
 * notes under it.  The columns are sized when the run ends, so each row
 * is held till then: its cells, and at most NOTES_MAX problems of at most
 * a line each.
 */
static void
table_row(validate *v, const char *source, long line, intake *in, int status, jv errors)
{
    int n = jv_array_length(jv_copy(errors));

    if (!v->rows) {
        v->rows = termtable_new(4);
        termtable_state_column(v->rows, 0);
        termtable_cell(v->rows, "RESULT");
        termtable_cell(v->rows, "EXTERNAL ID");
        termtable_cell(v->rows, "CARTRIDGE:TYPE");
        termtable_cell(v->rows, "SOURCE");
    }
    termtable_cell(v->rows, status == 0 ? "valid" : "INVALID");
    termtable_cell(v->rows, in->rec.external_id);
    termtable_cellf(v->rows, "%s:%s", in->c ? in->c->name : "-",
                    in->order_type ? in->order_type : "-");
    termtable_cellf(v->rows, "%s:%ld", source, line);
    jv_array_foreach(errors, i, p) {
        if (i < NOTES_MAX) {
            jv path = jv_object_get(jv_copy(p), jv_string("path"));
            jv m = jv_object_get(jv_copy(p), jv_string("message"));
            char note[512];
            snprintf(note, sizeof note, "%s: %s", jv_string_value(path), jv_string_value(m));
            termtable_note(v->rows, note);
            jv_free(path);
            jv_free(m);
        } else if (i == NOTES_MAX) {
            char note[128];
            snprintf(note, sizeof note, "and %d more (see --format json)", n - NOTES_MAX);
            termtable_note(v->rows, note);
        }
        jv_free(p);
    }
    jv_free(errors);
}

static int
report(validate *v, const char *source, long line, intake *in, int status, const char *msg)
{
    jv doc = JV_OBJECT(jv_string("kind"), jv_string("validation"), jv_string("source"),
                       jv_string(source), jv_string("line"), jv_number((double)line),
                       jv_string("valid"), jv_bool(status == 0));
    doc = jv_object_set(doc, jv_string("externalId"),
                        in->rec.external_id ? jv_string(in->rec.external_id) : jv_null());
    doc = jv_object_set(doc, jv_string("cartridge"), in->c ? jv_string(in->c->name) : jv_null());
    doc = jv_object_set(doc, jv_string("cartridgeVersion"),
                        in->c ? jv_string(in->c->version) : jv_null());
    doc = jv_object_set(doc, jv_string("orderType"),
                        in->order_type ? jv_string(in->order_type) : jv_null());
    jv errors = jv_copy(in->problems);
    if (msg)
        errors = jv_array_append(errors, JV_OBJECT(jv_string("path"), jv_string("."),
                                                   jv_string("message"), jv_string(msg)));
    if (v->table) {
        table_row(v, source, line, in, status, errors);
        jv_free(doc);
        return 0;
    }
    doc = jv_object_set(doc, jv_string("errors"), errors);
    if (v->transform && status == 0)
        doc = jv_object_set(doc, jv_string("order"), jv_copy(in->rec.body));
    return cli_emit(doc, v->json_flags);
}

static int
one_order(jv order, const char *source, long line, void *ctx)
{
    validate *v = ctx;
    osm_err err = { 0, "" };
    intake in;
    int rc;

    intake_init(&in);
    if (jv_get_kind(order) != JV_KIND_OBJECT) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected an order (a JSON object), got %s",
                 jv_kind_name(jv_get_kind(order)));
        jv_free(order);
        diag_error("%s:%ld: %s", source, line, msg);
        rc = osm_worst(OSM_EDATA, report(v, source, line, &in, OSM_EDATA, msg));
        intake_free(&in);
        return rc;
    }
    if ((rc = intake_recognise(v->cat, order, &in, &err)) != 0) {
        jv_free(order);
        diag_error("%s:%ld: %s", source, line, err.msg);
        rc = osm_worst(rc, report(v, source, line, &in, rc, err.msg));
        intake_free(&in);
        return rc;
    }
    rc = intake_run(&in, order, clock_now(), &err);
    if (rc != 0 && rc != OSM_NEGATIVE) {
        diag_error("%s:%ld: %s", source, line, err.msg);
        intake_free(&in);
        return rc;
    }
    if (rc == OSM_NEGATIVE && diag_verbosity() > 0) {
        char label[256];
        intake_label(&in, label, sizeof label);
        jv_array_foreach(in.problems, i, p) {
            jv path = jv_object_get(jv_copy(p), jv_string("path"));
            jv m = jv_object_get(p, jv_string("message"));
            diag_info("%s:%ld: %s: %s: %s", source, line, label, jv_string_value(path),
                      jv_string_value(m));
            jv_free(path);
            jv_free(m);
        }
    }
    rc = osm_worst(rc, report(v, source, line, &in, rc, NULL));
    intake_free(&in);
    return rc;
}

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_FORMAT, OPT_ERRORS };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "cartridge", required_argument, NULL, 'c' },
        { "transform", no_argument, NULL, 't' },
        { "errors-to-stdout", no_argument, NULL, OPT_ERRORS },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    validate v = { 0 };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    store *st = NULL;
    const char *db = NULL;
    char **carts = xcalloc((size_t)argc, sizeof *carts);
    int ncarts = 0, need_store = 0, c, rc = 0;

    diag_init(argv[0]);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:c:tqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': carts[ncarts++] = optarg; break;
        case 't': v.transform = 1; break;
        case OPT_ERRORS: v.errors_to_stdout = 1; break;
        case OPT_PRETTY: v.json_flags |= JSON_PRETTY; break;
        case OPT_JQ:
            if (cli_set_jq(optarg, &err) != 0) {
                free(carts); return usage_error("%s", err.msg);
            }
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "table") == 0)
                v.table = 1;
            else if (strcmp(optarg, "json") != 0) {
                free(carts);
                return usage_error("unknown format \"%s\" (json or table)", optarg);
            }
            break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
        case 'h': free(carts); fputs(usage_text, stdout); return cli_finish_output();
        case 'V': free(carts); cli_version(); return cli_finish_output();
        default: free(carts); cli_bad_option(argv, optind, optopt, c, longopts); return usage_error(NULL, NULL);
        }
    }
    /* orders from a terminal: the user did not mean to type them */
    if (optind >= argc && cli_stdin_is_terminal()) {
        free(carts);
        fputs(usage_text, stderr);
        return OSM_EUSAGE;
    }
    if (clock_init(&err) != 0) {
        free(carts);
        return diag_report(&err);
    }
    need_store = ncarts == 0;
    for (int i = 0; i < ncarts; i++)
        if (!catalog_ref_is_path(carts[i]))
            need_store = 1;
    if (need_store && (rc = cli_open(cli_db_path(db), CLI_READONLY, &st, &conf, &err)) != 0) {
        free(carts);
        return diag_report(&err);
    }
    v.cat = catalog_new(st);
    for (int i = 0; i < ncarts && rc == 0; i++) {
        rc = catalog_use_ref(v.cat, carts[i], 1, &err);
    }
    if (rc == 0 && ncarts == 0)
        rc = catalog_use_deployed(v.cat, &err);
    if (rc != 0)
        rc = diag_report(&err);
    else
        rc = cli_inputs(argc - optind, argv + optind, v.errors_to_stdout, one_order, &v);
    if (v.rows)
        rc = osm_worst(rc, termtable_print(v.rows, stdout));
    catalog_free(v.cat);
    store_close(st);
    siteconf_free(conf);
    free(carts);
    return osm_worst(rc, cli_finish_output());
}
