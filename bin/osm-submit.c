/*
 * osm-submit: take customer orders in, recognise, validate and transform
 * them, and store them (DESIGN §6, osm-submit(1)).
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
#include "plan.h"
#include "progress.h"
#include "revise.h"
#include "planner.h"
#include "store.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-submit [-qv] [-d DB] [-c NAME[@VERSION]] [-b N] [-p] [--dry-run]\n"
    "                  [--errors-to-stdout] [--progress] [--jq EXPR] [--pretty]\n"
    "                  [FILE...]\n"
    "\n"
    "Recognise, validate and store customer orders read as JSON (one value,\n"
    "many, or NDJSON) from the FILEs or standard input; print each stored order.\n"
    "\n"
    "options:\n"
    "  -d, --db DB                order store: a file or a postgresql:// URI\n"
    "                             (default $OSM_DB, else ./osm.db)\n"
    "  -c, --cartridge NAME[@VERSION]\n"
    "                             use this cartridge (and version) for every order\n"
    "  -b, --batch N              commit every N orders (default 1)\n"
    "  -p, --plan                 plan each order once stored, and print its plan\n"
    "  -n, --dry-run              do everything but store the orders\n"
    "      --errors-to-stdout     also print an error document for each bad order\n"
    "      --progress             show progress on standard error even off a terminal\n"
    "      --jq EXPR              print what jq EXPR makes of each JSON document\n"
    "      --pretty               indent JSON output\n"
    "  -q, --quiet                no warnings\n"
    "  -v, --verbose              more messages\n"
    "  -h, --help                 show this help\n"
    "  -V, --version              show the version\n";

typedef struct submit {
    store *st;
    catalog *cat;
    int dry_run;
    int plan;
    int errors_to_stdout;
    int json_flags;
    long batch;
    int in_tx;          /* a transaction is open */
    long pending;       /* orders written in it */
    struct output {     /* what to print once it commits, in input order: */
        int64_t id;     /* a stored order to print (read back, or its plan), */
        size_t off, len;/* or, id 0, the order document out.buf[off, off+len) */
    } *outs;
    size_t nouts, outs_cap;
    strbuf out;
    progress *pg;       /* the display (on a terminal, --progress) */
    int64_t nread, nbad;/* orders read, and refused */
} submit;

/*
 * The documents of a batch kept in memory until it commits; past this,
 * the batch's next orders are read back to be printed, so that a batch
 * of any size takes bounded memory.
 */
#define PENDING_TEXT_MAX ((size_t)8 << 20)

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-submit --help' for more information.\n");
    return OSM_EUSAGE;
}

/* Print a stored order, or with --plan its plan (made now if need be). */
static int
print_order(submit *s, int64_t id)
{
    osm_err err = { 0, "" };
    order_rec o;
    int rc;

    if (s->plan) {
        jv doc;
        if ((rc = planner_plan(s->st, s->cat, id, s->dry_run, cli_user(), &doc, &err)) != 0)
            return diag_report(&err);
        return cli_emit(doc, s->json_flags);
    }
    rc = store_order_get(s->st, id, &o, &err);
    if (rc != 0)
        return diag_report(&err);
    rc = cli_emit(order_document(&o), s->json_flags);
    order_rec_free(&o);
    return rc;
}

static void
add_output(submit *s, struct output o)
{
    if (s->nouts == s->outs_cap) {
        s->outs_cap = s->outs_cap ? 2 * s->outs_cap : 64;
        s->outs = xrealloc(s->outs, s->outs_cap * sizeof *s->outs);
    }
    s->outs[s->nouts++] = o;
}

/* Print stored order id once the batch commits. */
static void
print_later(submit *s, int64_t id)
{
    add_output(s, (struct output){ id, 0, 0 });
}

/*
 * Print the document of order o, just stored, once the batch commits:
 * made from o in memory, it is what reading o back would print.  With
 * --plan, or past PENDING_TEXT_MAX of documents held, o is read back.
 */
static void
print_stored_later(submit *s, const order_rec *o)
{
    jv doc;
    size_t off = s->out.len;

    if (s->plan || off > PENDING_TEXT_MAX) {
        print_later(s, o->id);
        return;
    }
    doc = order_document(o);
    json_append(&s->out, doc, s->json_flags);
    sb_add(&s->out, "\n", 1);
    jv_free(doc);
    add_output(s, (struct output){ 0, off, s->out.len - off });
}

static void
forget_outputs(submit *s)
{
    s->nouts = 0;
    s->pending = 0;
    if (s->out.cap > 2 * PENDING_TEXT_MAX)
        sb_free(&s->out);
    sb_reset(&s->out);
}

/* Commit the open batch and print its orders. */
static int
flush(submit *s)
{
    osm_err err = { 0, "" };
    int rc = 0;

    if (s->in_tx) {
        s->in_tx = 0;
        if ((rc = store_commit(s->st, &err)) != 0) {
            diag_error("%s (%zu order%s not stored)", err.msg, s->nouts,
                       s->nouts == 1 ? "" : "s");
            forget_outputs(s);
            return rc;
        }
    }
    for (size_t i = 0; i < s->nouts && rc < CLI_STOP; i++) {
        const struct output *o = &s->outs[i];
        if (o->id) {
            rc = osm_worst(rc, print_order(s, o->id));
        } else {
            if (cli_jq_active()) {
                /* the document as it was printed, read back for --jq */
                jv doc = jv_parse_sized(s->out.buf + o->off, (int)o->len);
                rc = osm_worst(rc, cli_emit(doc, s->json_flags));
            } else {
                fwrite(s->out.buf + o->off, 1, o->len, stdout);
                rc = osm_worst(rc, ferror(stdout) ? OSM_EIO : 0);
            }
        }
    }
    forget_outputs(s);
    return rc;
}

static void
report_problems(submit *s, const char *where, const intake *in, const char *source, long line)
{
    jv_array_foreach(in->problems, i, p) {
        jv path = jv_object_get(jv_copy(p), jv_string("path"));
        jv msg = jv_object_get(p, jv_string("message"));
        diag_error("%s: %s: %s", where, jv_string_value(path), jv_string_value(msg));
        jv_free(path);
        jv_free(msg);
    }
    if (s->errors_to_stdout && flush(s) == 0) {
        jv doc = cli_error_doc(source, line, OSM_NEGATIVE, "order is not valid");
        doc = jv_object_set(doc, jv_string("externalId"),
                            in->rec.external_id ? jv_string(in->rec.external_id) : jv_null());
        doc = jv_object_set(doc, jv_string("cartridge"), jv_string(in->c->name));
        doc = jv_object_set(doc, jv_string("orderType"), jv_string(in->order_type));
        doc = jv_object_set(doc, jv_string("errors"), jv_copy(in->problems));
        cli_emit(doc, s->json_flags);
    }
}

static int
fail_record(submit *s, const char *source, long line, int status, const char *msg)
{
    diag_error("%s:%ld: %s", source, line, msg);
    if (s->errors_to_stdout) {
        /* print what came before first: output stays in input order */
        int rc = flush(s);
        cli_emit(cli_error_doc(source, line, status, msg), s->json_flags);
        return osm_worst(status, rc);
    }
    return status;
}

/* Open the batch's transaction unless it is open. */
static int
begin(submit *s)
{
    osm_err err = { 0, "" };
    if (!s->in_tx) {
        if (store_begin(s->st, &err) != 0)
            return diag_report(&err);
        s->in_tx = 1;
    }
    return 0;
}

static int
store_new(submit *s, intake *in, char *where)
{
    osm_err err = { 0, "" };
    store_fallout fo;
    int rc;

    if ((rc = begin(s)) != 0)
        return rc;
    if (!jv_array_length(jv_copy(in->problems))) {
        rc = store_order_insert(s->st, &in->rec, NULL, cli_user(), &err);
    } else {
        fo.function = "validate";
        fo.workgroup = in->fallout_workgroup;
        fo.error = JV_OBJECT(jv_string("message"), jv_string("order is not valid"),
                             jv_string("problems"), jv_copy(in->problems));
        rc = store_order_insert(s->st, &in->rec, &fo, cli_user(), &err);
        jv_free(fo.error);
    }
    if (rc != 0) {
        diag_error("%s: %s", where, err.msg);
        if (rc >= CLI_STOP) {
            store_rollback(s->st);
            s->in_tx = 0;
            forget_outputs(s);
        }
        return rc;
    }
    print_stored_later(s, &in->rec);
    if (++s->pending >= s->batch)
        return flush(s);
    return 0;
}

/*
 * What to do with an order whose key is already stored: the same order
 * again (same revision, same content) prints the stored one; the same
 * revision with other content is a mistake of the source.
 */
static int
existing(submit *s, intake *in, const char *where, const char *source, long line, int64_t id,
         int64_t revision)
{
    if (in->rec.revision == revision) {
        osm_err err = { 0, "" };
        order_rec stored;
        if (store_order_get(s->st, id, &stored, &err) != 0)
            return diag_report(&err);
        int same = jv_equal(jv_copy(stored.original), jv_copy(in->rec.original));
        order_rec_free(&stored);
        if (!same) {
            char msg[512], label[256];
            snprintf(msg, sizeof msg, "%s: revision %lld is already stored as order %lld with "
                     "other content: a changed order needs a higher revision number",
                     intake_label(in, label, sizeof label), (long long)revision, (long long)id);
            return fail_record(s, source, line, OSM_EDATA, msg);
        }
        diag_info("%s: already stored as order %lld", where, (long long)id);
        if (s->dry_run)
            return print_order(s, id);
        if (s->in_tx) {
            /* keep output in input order: what came before prints first */
            print_later(s, id);
            return 0;
        }
        return print_order(s, id);
    }
    if (in->rec.revision < revision) {
        diag_warn("%s: revision %lld is older than the stored revision %lld: ignored", where,
                  (long long)in->rec.revision, (long long)revision);
        return 0;
    }
    /* a higher revision: what osm-revise does, after the batch so far */
    int rc = flush(s);
    if (rc >= CLI_STOP)
        return rc;
    osm_err err = { 0, "" };
    revise_opts ro = { cli_user(), s->dry_run, 0 };
    jv doc;
    int rrc = revise_order(s->st, id, jv_copy(in->rec.original), &ro, &doc, &err);
    if (jv_is_valid(doc) && jv_get_kind(doc) != JV_KIND_NULL)
        rc = osm_worst(rc, cli_emit(doc, s->json_flags));
    else
        jv_free(doc);
    if (rrc != 0) {
        diag_error("%s: %s", where, err.msg);
        return osm_worst(rc, rrc);
    }
    diag_info("%s: revision %lld of order %lld applied", where, (long long)in->rec.revision,
              (long long)id);
    return rc;
}

static int
one_order(jv order, const char *source, long line, void *ctx)
{
    submit *s = ctx;
    osm_err err = { 0, "" };
    intake in;
    char where[512], label[256];
    int rc;

    if (jv_get_kind(order) != JV_KIND_OBJECT) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected an order (a JSON object), got %s",
                 jv_kind_name(jv_get_kind(order)));
        jv_free(order);
        return fail_record(s, source, line, OSM_EDATA, msg);
    }
    intake_init(&in);
    if ((rc = intake_recognise(s->cat, order, &in, &err)) != 0) {
        jv_free(order);
        intake_free(&in);
        return fail_record(s, source, line, rc, err.msg);
    }
    rc = intake_run(&in, order, clock_now(), &err);
    snprintf(where, sizeof where, "%s:%ld: %s", source, line,
             intake_label(&in, label, sizeof label));
    if (rc != 0 && rc != OSM_NEGATIVE) {
        diag_error("%s: %s", where, err.msg);
        intake_free(&in);
        return rc;
    }
    /* the key is looked up inside the transaction that will store the
     * order, so that two submitters of one order cannot both store it */
    if (in.rec.external_id && !s->dry_run) {
        int brc = begin(s);
        if (brc != 0) {
            intake_free(&in);
            return brc;
        }
    }
    if (in.rec.external_id) {
        int64_t id, revision;
        int found = store_order_find_key(s->st, in.rec.cartridge, in.rec.external_id, &id,
                                         &revision, &err);
        if (found == 0) {
            rc = existing(s, &in, where, source, line, id, revision);
            intake_free(&in);
            return rc;
        }
        if (found != OSM_ENOINPUT) {
            intake_free(&in);
            return diag_report(&err);
        }
    }
    if (rc == OSM_NEGATIVE) {
        report_problems(s, where, &in, source, line);
        if (!in.fallout) {
            intake_free(&in);
            return OSM_NEGATIVE;
        }
        free(in.rec.state_reason);
        in.rec.state_reason = xstrdup("order is not valid");
    }
    if (s->dry_run && s->plan && rc == 0) {
        plan p;
        if ((rc = plan_build(in.c, &in.rec, clock_now(), &p, &err)) != 0) {
            diag_error("%s: %s", where, err.msg);
        } else {
            rc = cli_emit(plan_document(&p, &in.rec), s->json_flags);
            plan_free(&p);
        }
    } else if (s->dry_run)
        rc = osm_worst(rc, cli_emit(order_document(&in.rec), s->json_flags));
    else
        rc = osm_worst(rc, store_new(s, &in, where));
    intake_free(&in);
    return rc;
}

/* one_order, counted for the progress display. */
static int
counted_order(jv order, const char *source, long line, void *ctx)
{
    submit *s = ctx;
    progress_clear(s->pg);
    int rc = one_order(order, source, line, ctx);
    s->nread++;
    s->nbad += rc != 0;
    progress_set(s->pg, s->nread, s->nbad);
    return rc;
}

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_ERRORS, OPT_PROGRESS };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "cartridge", required_argument, NULL, 'c' },
        { "batch", required_argument, NULL, 'b' },
        { "dry-run", no_argument, NULL, 'n' },
        { "plan", no_argument, NULL, 'p' },
        { "errors-to-stdout", no_argument, NULL, OPT_ERRORS },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    submit s = { 0 };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    const char *db = NULL, *forced = NULL;
    int show_progress = 0, c, rc;

    diag_init(argv[0]);
    opterr = 0;
    s.batch = 1;
    while ((c = getopt_long(argc, argv, ":d:c:b:npqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': forced = optarg; break;
        case 'b': {
            char *end;
            s.batch = strtol(optarg, &end, 10);
            if (*end || s.batch < 1 || s.batch > 1000000)
                return usage_error("--batch: expected a number from 1 to 1000000, got \"%s\"",
                                   optarg);
            break;
        }
        case 'n': s.dry_run = 1; break;
        case 'p': s.plan = 1; break;
        case OPT_ERRORS: s.errors_to_stdout = 1; break;
        case OPT_PROGRESS: show_progress = 1; break;
        case OPT_PRETTY: s.json_flags |= JSON_PRETTY; break;
        case OPT_JQ:
            if (cli_set_jq(optarg, &err) != 0) {
                return usage_error("%s", err.msg);
            }
            break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
        case 'h': fputs(usage_text, stdout); return cli_finish_output();
        case 'V': cli_version(); return cli_finish_output();
        default: cli_bad_option(argv, optind, optopt, c, longopts); return usage_error(NULL, NULL);
        }
    }
    /* orders from a terminal: the user did not mean to type them */
    if (optind >= argc && cli_stdin_is_terminal()) {
        fputs(usage_text, stderr);
        return OSM_EUSAGE;
    }
    if (clock_init(&err) != 0)
        return diag_report(&err);
    if ((rc = cli_open(cli_db_path(db), 0, &s.st, &conf, &err)) != 0)
        return diag_report(&err);
    s.cat = catalog_new(s.st);
    catalog_set_derive(s.cat, intake_derive);
    if (forced) {
        rc = catalog_use_ref(s.cat, forced, 0, &err);
    } else {
        rc = catalog_use_deployed(s.cat, &err);
    }
    if (rc != 0) {
        rc = diag_report(&err);
        goto out;
    }
    s.pg = progress_new("orders", progress_mode(show_progress));
    rc = cli_inputs(argc - optind, argv + optind, s.errors_to_stdout, counted_order, &s);
    rc = osm_worst(rc, flush(&s));
    progress_finish(s.pg);
out:
    if (s.in_tx)
        store_rollback(s.st);
    free(s.outs);
    sb_free(&s.out);
    catalog_free(s.cat);
    store_close(s.st);
    siteconf_free(conf);
    return osm_worst(rc, cli_finish_output());
}
