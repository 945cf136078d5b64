/*
 * osm-plan: compute, store and print orchestration plans (DESIGN §7,
 * osm-plan(1)).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "clock.h"
#include "intake.h"
#include "json.h"
#include "plan.h"
#include "planner.h"
#include "planview.h"
#include "store-revise.h"
#include "store.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-plan [-qv] [-d DB] [-n] [-c PATH|NAME[@VERSION]]\n"
    "                [--format json|dot|svg|table] [--revision N] [--jq EXPR] [--pretty]\n"
    "                [ID...]\n"
    "\n"
    "Compute and store the orchestration plan of orders given as ids or as\n"
    "order documents on standard input, and print it.\n"
    "\n"
    "options:\n"
    "  -d, --db DB            order store: a file or a postgresql:// URI\n"
    "                         (default $OSM_DB, else ./osm.db)\n"
    "  -n, --dry-run          plan without storing\n"
    "  -c, --cartridge PATH|NAME[@VERSION]\n"
    "                         with --dry-run: plan customer orders read on standard\n"
    "                         input with this cartridge (a directory or archive, or\n"
    "                         NAME[@VERSION] deployed in the store) instead of stored orders\n"
    "      --format json|dot|svg|table\n"
    "                         json (default), dot (Graphviz), svg (drawn by Graphviz's dot)\n"
    "                         or table (Gantt)\n"
    "      --revision N       the plan an order had at plan revision N, before a\n"
    "                         revision of the order replaced it\n"
    "      --jq EXPR          print what jq EXPR makes of each JSON document\n"
    "      --pretty           indent JSON output\n"
    "  -q, --quiet            no warnings\n"
    "  -v, --verbose          more messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

enum { FMT_JSON, FMT_DOT, FMT_SVG, FMT_TABLE };

typedef struct planopts {
    store *st;
    catalog *cat;
    int dry_run;
    int format;
    int json_flags;
    int64_t revision;       /* --revision: an earlier plan */
} planopts;

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-plan --help' for more information.\n");
    return OSM_EUSAGE;
}

static int
emit(planopts *pl, jv doc)
{
    if (pl->format == FMT_DOT) {
        char *text = planview_dot(doc);
        jv_free(doc);
        fputs(text, stdout);
        free(text);
        return ferror(stdout) ? OSM_EIO : 0;
    }
    if (pl->format == FMT_SVG) {
        osm_err err = { 0, "" };
        char *svg;
        size_t len;
        int rc = planview_svg(doc, &svg, &len, &err);
        jv_free(doc);
        if (rc != 0)
            return diag_report(&err);
        rc = fwrite(svg, 1, len, stdout) == len ? 0 : OSM_EIO;
        free(svg);
        return rc;
    }
    if (pl->format == FMT_TABLE) {
        int rc = planview_table(stdout, doc, 40);
        jv_free(doc);
        return rc;
    }
    return cli_emit(doc, pl->json_flags);
}

/* Plan (or show the plan of) stored order id. */
static int
plan_stored(planopts *pl, int64_t id)
{
    osm_err err = { 0, "" };
    jv doc;
    int64_t current = 0;
    if (pl->revision > 0 && store_plan_revision(pl->st, id, &current, &err) != 0)
        return diag_report(&err);
    if (pl->revision > 0 && pl->revision != current) {
        if (store_plan_version(pl->st, id, pl->revision, &doc, &err) != 0)
            return diag_report(&err);
        return emit(pl, doc);
    }
    int rc = planner_plan(pl->st, pl->cat, id, pl->dry_run, cli_user(), &doc, &err);
    if (rc != 0)
        return diag_report(&err);
    return emit(pl, doc);
}

/* --dry-run --cartridge: a customer order through intake, then planned. */
static int
plan_customer_order(planopts *pl, jv order, const char *source, long line)
{
    osm_err err = { 0, "" };
    intake in;
    plan p;
    int rc;

    intake_init(&in);
    if ((rc = intake_recognise(pl->cat, order, &in, &err)) != 0) {
        diag_error("%s:%ld: %s", source, line, err.msg);
        jv_free(order);
        intake_free(&in);
        return rc;
    }
    int64_t now = clock_now();
    rc = intake_run(&in, order, now, &err);
    if (rc != 0) {
        char label[256];
        intake_label(&in, label, sizeof label);
        if (rc == OSM_NEGATIVE) {
            jv_array_foreach(in.problems, i, pr) {
                jv path = jv_object_get(jv_copy(pr), jv_string("path"));
                jv msg = jv_object_get(pr, jv_string("message"));
                diag_error("%s:%ld: %s: %s: %s", source, line, label, jv_string_value(path),
                           jv_string_value(msg));
                jv_free(path);
                jv_free(msg);
            }
        } else {
            diag_error("%s:%ld: %s: %s", source, line, label, err.msg);
        }
        intake_free(&in);
        return rc;
    }
    if ((rc = plan_build(in.c, &in.rec, now, &p, &err)) != 0) {
        char label[256];
        diag_error("%s:%ld: %s: %s", source, line, intake_label(&in, label, sizeof label),
                   err.msg);
        intake_free(&in);
        return rc;
    }
    rc = emit(pl, plan_document(&p, &in.rec));
    plan_free(&p);
    intake_free(&in);
    return rc;
}

/* An order id from a document on stdin: a number, a digit string, or
 * an order, plan or status document. */
static int
one_input(jv v, const char *source, long line, void *ctx)
{
    planopts *pl = ctx;
    int64_t id = 0;

    if (pl->cat && pl->dry_run && catalog_candidates(pl->cat) > 0)
        return plan_customer_order(pl, v, source, line);
    if (cli_order_id(v, &id) != 0)
        id = 0;
    jv_free(v);
    if (id == 0) {
        diag_error("%s:%ld: expected an order id or an order document", source, line);
        return OSM_EDATA;
    }
    return plan_stored(pl, id);
}

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_FORMAT, OPT_REVISION };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "dry-run", no_argument, NULL, 'n' },
        { "cartridge", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "revision", required_argument, NULL, OPT_REVISION },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    planopts pl = { 0 };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    const char *db = NULL, *cart = NULL;
    int c, rc = 0;

    diag_init(argv[0]);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:nc:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'n': pl.dry_run = 1; break;
        case 'c': cart = optarg; break;
        case OPT_PRETTY: pl.json_flags |= JSON_PRETTY; break;
        case OPT_JQ:
            if (cli_set_jq(optarg, &err) != 0) {
                return usage_error("%s", err.msg);
            }
            break;
        case OPT_REVISION:
            if (cli_parse_id(optarg, &pl.revision) != 0)
                return usage_error("--revision: expected a plan revision (1, 2, ...), got \"%s\"",
                                   optarg);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                pl.format = FMT_JSON;
            else if (strcmp(optarg, "dot") == 0)
                pl.format = FMT_DOT;
            else if (strcmp(optarg, "svg") == 0)
                pl.format = FMT_SVG;
            else if (strcmp(optarg, "table") == 0)
                pl.format = FMT_TABLE;
            else
                return usage_error("unknown format \"%s\" (json, dot, svg or table)", optarg);
            break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
        case 'h': fputs(usage_text, stdout); return cli_finish_output();
        case 'V': cli_version(); return cli_finish_output();
        default: cli_bad_option(argv, optind, optopt, c, longopts); return usage_error(NULL, NULL);
        }
    }
    if (cart && !pl.dry_run)
        return usage_error("--cartridge plans customer orders without storing: add --dry-run%s", "");
    if (cart && optind < argc && !(optind == argc - 1 && strcmp(argv[optind], "-") == 0))
        return usage_error("--cartridge reads customer orders on standard input, not ids%s", "");
    for (int i = optind; i < argc; i++)
        if (!cli_id_arg_ok(argv[i]))
            return cli_bad_id(argv[i]), usage_error(NULL, NULL);
    /* orders from a terminal: the user did not mean to type them */
    if (optind >= argc && cli_stdin_is_terminal()) {
        fputs(usage_text, stderr);
        return OSM_EUSAGE;
    }
    if (clock_init(&err) != 0)
        return diag_report(&err);
    /*
     * Read-only when nothing is stored (--dry-run) or when this user may
     * not write the store: the plans stored already can still be shown.
     */
    int mode = pl.dry_run || (access(cli_db_path(db), W_OK) != 0 &&
                              (errno == EACCES || errno == EROFS)) ? CLI_READONLY : 0;
    if ((!cart || !catalog_ref_is_path(cart)) &&
        (rc = cli_open(cli_db_path(db), mode, &pl.st, &conf, &err)) != 0)
        return diag_report(&err);
    pl.cat = catalog_new(pl.st);
    if (cart) {
        if ((rc = catalog_use_ref(pl.cat, cart, 1, &err)) != 0) {
            rc = diag_report(&err);
            goto out;
        }
    }
    if (optind < argc) {
        for (int i = optind; i < argc && rc < CLI_STOP; i++) {
            int64_t id;
            if (strcmp(argv[i], "-") == 0)
                rc = osm_worst(rc, cli_inputs(0, NULL, 0, one_input, &pl));
            else if (cli_resolve_id(pl.st, argv[i], &id, &err) != 0)
                rc = osm_worst(rc, diag_report(&err));
            else
                rc = osm_worst(rc, plan_stored(&pl, id));
        }
    } else {
        rc = cli_inputs(0, NULL, 0, one_input, &pl);
    }
out:
    catalog_free(pl.cat);
    store_close(pl.st);
    siteconf_free(conf);
    return osm_worst(rc, cli_finish_output());
}
