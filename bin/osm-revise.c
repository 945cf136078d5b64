/*
 * osm-revise: revise or cancel orders in flight, with compensation
 * (DESIGN §11, osm-revise(1)).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "json.h"
#include "revise.h"
#include "store.h"
#include "termtable.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-revise [-qv] [-d DB] [-n] [--format json|table] [--jq EXPR] [--pretty]\n"
    "                  BASE_ID [FILE|-]\n"
    "       osm-revise [-qv] [-d DB] [-n] [--format json|table] [--jq EXPR] [--pretty]\n"
    "                  --cancel [ID...]\n"
    "\n"
    "Revise order BASE_ID with the whole order as its source sends it again\n"
    "(FILE, or standard input): work out what changed, compensate what was done\n"
    "(undo, redo) and go on with the new plan.  With --cancel, undo everything\n"
    "done of each order given (as ids, or documents on standard input) and\n"
    "cancel it.  Prints a revision document per order.\n"
    "\n"
    "options:\n"
    "  -d, --db DB            order store: a file or a postgresql:// URI\n"
    "                         (default $OSM_DB, else ./osm.db)\n"
    "  -n, --dry-run          print what the revision would do; change nothing\n"
    "      --cancel           cancel the orders, undoing what was done\n"
    "      --format json|table\n"
    "                         the output (default json)\n"
    "      --jq EXPR          print what jq EXPR makes of each JSON document\n"
    "      --pretty           indent JSON output\n"
    "  -q, --quiet            no warnings\n"
    "  -v, --verbose          more messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

typedef struct ropts {
    store *st;
    revise_opts ro;
    int table;
    int json_flags;
} ropts;

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-revise --help' for more information.\n");
    return OSM_EUSAGE;
}

static const char *
str(jv obj, const char *k, char *buf, size_t len)
{
    jv v = jv_object_get(jv_copy(obj), jv_string(k));
    if (jv_get_kind(v) == JV_KIND_STRING)
        snprintf(buf, len, "%s", jv_string_value(v));
    else if (jv_get_kind(v) == JV_KIND_NUMBER)
        snprintf(buf, len, "%.17g", jv_number_value(v));
    else
        snprintf(buf, len, "-");
    jv_free(v);
    return buf;
}

/* A revision document for people: a line for the order, a row per component. */
static int
table(jv doc)
{
    char a[64], b[64], c[64], d[64], e[256];
    printf("order %s  revision %s -> %s  %s  state %s\n", str(doc, "id", a, sizeof a),
           str(doc, "baseRevision", b, sizeof b), str(doc, "revision", c, sizeof c),
           str(doc, "result", d, sizeof d), str(doc, "state", e, sizeof e));
    jv reason = jv_object_get(jv_copy(doc), jv_string("reason"));
    if (jv_get_kind(reason) == JV_KIND_STRING)
        printf("reason: %s\n", jv_string_value(reason));
    jv_free(reason);
    jv comps = jv_object_get(jv_copy(doc), jv_string("components"));
    if (jv_get_kind(comps) == JV_KIND_ARRAY && jv_array_length(jv_copy(comps)) > 0) {
        static const char *const head[] = { "ACTION", "FUNCTION", "SYSTEM", "GROUP", "TASK",
                                            "REASON" };
        termtable *tt = termtable_new(6);
        for (size_t k = 0; k < 6; k++)
            termtable_cell(tt, head[k]);
        jv_array_foreach(comps, i, cp) {
            char f[64], s[64], g[64], t[32], r[256], p[32];
            str(cp, "pointOfNoReturn", p, sizeof p);
            termtable_cell(tt, str(cp, "action", a, sizeof a));
            termtable_cell(tt, str(cp, "function", f, sizeof f));
            termtable_cell(tt, str(cp, "system", s, sizeof s));
            termtable_cell(tt, str(cp, "group", g, sizeof g));
            termtable_cell(tt, str(cp, "task", t, sizeof t));
            str(cp, "reason", r, sizeof r);
            if (strcmp(p, "-") != 0)
                termtable_cellf(tt, "%s [point of no return: %s]", r, p);
            else
                termtable_cell(tt, r);
            jv_free(cp);
        }
        termtable_print(tt, stdout);
    }
    jv_free(comps);
    jv_free(doc);
    return ferror(stdout) ? OSM_EIO : 0;
}

static int
emit(ropts *r, jv doc)
{
    if (r->table)
        return table(doc);
    return cli_emit(doc, r->json_flags);
}

/* Revise or cancel order id; the revised order (consumed) is ignored for a cancel. */
static int
one(ropts *r, int64_t id, jv order)
{
    osm_err err = { 0, "" };
    jv doc;
    int rc = revise_order(r->st, id, order, &r->ro, &doc, &err);
    if (jv_is_valid(doc) && jv_get_kind(doc) != JV_KIND_NULL) {
        jv result = jv_object_get(jv_copy(doc), jv_string("result"));
        if (jv_get_kind(result) == JV_KIND_STRING && !strcmp(jv_string_value(result), "unchanged"))
            diag_info("order %lld: revision already stored: nothing to do", (long long)id);
        if (jv_get_kind(result) == JV_KIND_STRING && !strcmp(jv_string_value(result), "ignored"))
            diag_warn("order %lld: the revision is older than the order's: ignored",
                      (long long)id);
        jv_free(result);
        int e = emit(r, doc);
        if (e != 0)
            return e;
    } else {
        jv_free(doc);
    }
    if (rc != 0)
        return diag_report(&err);
    return 0;
}

static int
cancel_input(jv v, const char *source, long line, void *ctx)
{
    int64_t id = 0;
    if (cli_order_id(v, &id) != 0)
        id = 0;
    jv_free(v);
    if (id == 0) {
        diag_error("%s:%ld: expected an order id or an order document", source, line);
        return OSM_EDATA;
    }
    return one(ctx, id, jv_null());
}

typedef struct revised {
    jv order;
    int n;
} revised;

static int
take_order(jv v, const char *source, long line, void *ctx)
{
    revised *rv = ctx;
    if (rv->n++ > 0) {
        jv_free(v);
        diag_error("%s:%ld: one revised order at a time", source, line);
        return OSM_EDATA;
    }
    rv->order = v;
    return 0;
}

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_FORMAT, OPT_CANCEL };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "dry-run", no_argument, NULL, 'n' },
        { "cancel", no_argument, NULL, OPT_CANCEL },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    ropts r = { 0 };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    const char *db = NULL;
    int c, rc = 0;

    diag_init(argv[0]);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:nqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'n': r.ro.dry_run = 1; break;
        case OPT_CANCEL: r.ro.cancel = 1; break;
        case OPT_PRETTY: r.json_flags |= JSON_PRETTY; break;
        case OPT_JQ:
            if (cli_set_jq(optarg, &err) != 0) {
                return usage_error("%s", err.msg);
            }
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                r.table = 0;
            else if (strcmp(optarg, "table") == 0)
                r.table = 1;
            else
                return usage_error("unknown format \"%s\" (json or table)", optarg);
            break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
        case 'h': fputs(usage_text, stdout); return cli_finish_output();
        case 'V': cli_version(); return cli_finish_output();
        default: cli_bad_option(argv, optind, optopt, c, longopts); return usage_error(NULL, NULL);
        }
    }
    int64_t base = 0;
    if (r.ro.cancel) {
        for (int i = optind; i < argc; i++)
            if (!cli_id_arg_ok(argv[i]))
                return cli_bad_id(argv[i]), usage_error(NULL, NULL);
        /* orders from a terminal: the user did not mean to type them */
        if (optind >= argc && cli_stdin_is_terminal()) {
            fputs(usage_text, stderr);
            return OSM_EUSAGE;
        }
    } else {
        if (optind >= argc)
            return usage_error("which order?  give BASE_ID%s", "");
        if (strcmp(argv[optind], "-") == 0 || !cli_id_arg_ok(argv[optind]))
            return cli_bad_id(argv[optind]), usage_error(NULL, NULL);
        if (argc - optind > 2)
            return usage_error("one revised order at a time: give BASE_ID [FILE|-]%s", "");
        if (argc - optind == 1 && cli_stdin_is_terminal()) {
            fputs(usage_text, stderr);
            return OSM_EUSAGE;
        }
    }
    if (clock_init(&err) != 0)
        return diag_report(&err);
    if ((rc = cli_open(cli_db_path(db), 0, &r.st, &conf, &err)) != 0)
        return diag_report(&err);
    r.ro.actor = cli_user();
    if (!r.ro.cancel && cli_resolve_id(r.st, argv[optind], &base, &err) != 0) {
        rc = diag_report(&err);
        store_close(r.st);
        siteconf_free(conf);
        return rc;
    }
    if (r.ro.cancel) {
        if (optind < argc) {
            for (int i = optind; i < argc && rc < CLI_STOP; i++) {
                int64_t id;
                if (strcmp(argv[i], "-") == 0)
                    rc = osm_worst(rc, cli_inputs(0, NULL, 0, cancel_input, &r));
                else if (cli_resolve_id(r.st, argv[i], &id, &err) != 0)
                    rc = osm_worst(rc, diag_report(&err));
                else
                    rc = osm_worst(rc, one(&r, id, jv_null()));
            }
        } else {
            rc = cli_inputs(0, NULL, 0, cancel_input, &r);
        }
    } else {
        revised rv = { jv_null(), 0 };
        char *files[1] = { argc - optind == 2 ? argv[optind + 1] : NULL };
        int nfiles = files[0] && strcmp(files[0], "-") != 0 ? 1 : 0;
        rc = cli_inputs(nfiles, files, 0, take_order, &rv);
        if (rv.n == 0 && rc == 0) {
            diag_error("no revised order: give it in FILE or on standard input");
            rc = OSM_EDATA;
        }
        if (rv.n > 0 && jv_get_kind(rv.order) != JV_KIND_OBJECT) {
            diag_error("the revised order must be a JSON object");
            jv_free(rv.order);
            rv.order = jv_null();
            rc = osm_worst(rc, OSM_EDATA);
        }
        if (jv_get_kind(rv.order) == JV_KIND_OBJECT)
            rc = osm_worst(rc, one(&r, base, rv.order));
        else
            jv_free(rv.order);
    }
    store_close(r.st);
    siteconf_free(conf);
    return osm_worst(rc, cli_finish_output());
}
