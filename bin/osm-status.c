/*
 * osm-status: the state of orders, listings, the store summary, order
 * histories and the live event feed; waiting for orders to end; purging
 * ended orders; the HTML report; the export of the whole store (DESIGN
 * §10, osm-status(1)).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "json.h"
#include "report.h"
#include "progress.h"
#include "status.h"
#include "store-export.h"
#include "store-status.h"
#include "store.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-status [-qv] [-d DB] [-a] [-s STATE] [-c NAME[@VERSION]] [--order-type TYPE]\n"
    "                  [--since DATE] [--until DATE] [--external-id KEY] [--jq EXPR]\n"
    "                  [--limit N] [--offset N] [-S] [-H] [-f [--after EVENT]]\n"
    "                  [-w [--timeout DURATION]] [--purge --before DATE [--progress]]\n"
    "                  [--original] [--export]\n"
    "                  [--format json|table|prometheus|html] [--output-dir DIR]\n"
    "                  [--pretty] [ID...]\n"
    "\n"
    "Show the status of orders given as ids or as documents on standard input;\n"
    "with filters (or -a), list orders; or summarise, show histories, follow\n"
    "events, wait for orders to end, purge ended orders.\n"
    "\n"
    "options:\n"
    "  -d, --db DB              order store: a file or a postgresql:// URI\n"
    "                           (default $OSM_DB, else ./osm.db)\n"
    "  -a, --all                list orders (every order, unless filtered)\n"
    "  -s, --state STATE        list orders in STATE (a comma-separated list; \"open\":\n"
    "                           every state but completed, cancelled and aborted)\n"
    "  -c, --cartridge NAME[@VERSION]\n"
    "                           list orders of cartridge NAME[@VERSION]; with --follow,\n"
    "                           only their events\n"
    "      --order-type TYPE    list orders of this order type\n"
    "      --since DATE         list orders created at or after DATE (RFC 3339,\n"
    "                           now, -2h)\n"
    "      --until DATE         list orders created before DATE\n"
    "      --external-id KEY    list the orders with this external id\n"
    "      --jq EXPR            list orders whose internal order makes EXPR true; with\n"
    "                           --history or --follow, events that make it true\n"
    "      --limit N            list at most N orders\n"
    "      --offset N           skip the first N orders of the list\n"
    "  -S, --summary            count orders by state and by cartridge, open fallout,\n"
    "                           orders in jeopardy and late ones\n"
    "  -H, --history            every event of the orders given, oldest first\n"
    "      --original           the customer order of each order given, as received\n"
    "      --export             every row of the store as JSON lines, for osm-cartridge\n"
    "                           import\n"
    "  -f, --follow             print events as they are recorded, until interrupted\n"
    "      --after EVENT        with --follow or --history: events after this event id\n"
    "  -w, --wait               wait until the orders given have ended; exit 0 when all\n"
    "                           completed, 1 otherwise\n"
    "      --timeout DURATION   with --wait: give up after DURATION (exit 75)\n"
    "      --purge              delete ended orders with their tasks and history\n"
    "      --before DATE        with --purge: those that ended before DATE (required)\n"
    "      --progress           with --purge: show progress on standard error even off\n"
    "                           a terminal\n"
    "      --format json|table|prometheus|html\n"
    "                           json (default), table, prometheus (the summary), or html\n"
    "                           (a self-contained page of the orders listed or given)\n"
    "      --output-dir DIR     the HTML report as files in DIR: an index page and a\n"
    "                           page per order (implies --format html)\n"
    "      --pretty             indent JSON output\n"
    "  -q, --quiet              no warnings\n"
    "  -v, --verbose            more messages\n"
    "  -h, --help               show this help\n"
    "  -V, --version            show the version\n";

enum { MODE_SHOW, MODE_LIST, MODE_SUMMARY, MODE_HISTORY, MODE_FOLLOW, MODE_WAIT, MODE_PURGE,
       MODE_ORIGINAL, MODE_EXPORT };
enum { FMT_JSON, FMT_TABLE, FMT_PROMETHEUS, FMT_HTML };

#define LIST_CHUNK 500          /* rows of a table laid out together */
#define PURGE_BATCH 500         /* orders deleted per transaction */
#define FOLLOW_POLL_MS 100

typedef struct run {
    store *st;
    status_ctx *sc;
    int format, json_flags;
    int64_t now;
    status_pred *pred;          /* --jq, or NULL */
    store_status_filter filter;
    int64_t after;              /* --after, or -1 */
    jv rows;                    /* table rows waiting to be printed */
    int events;                 /* the rows are events (--history, --follow) */
    status_list_widths widths;
    int printed;
    int show_progress;          /* --progress */
} run;

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
    stop_signal = sig;
}

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-status --help' for more information.\n");
    return OSM_EUSAGE;
}

/* Standard input carries data (a pipe, a file) rather than a terminal or /dev/null. */
static int
stdin_has_data(void)
{
    struct stat sb;
    if (fstat(STDIN_FILENO, &sb) != 0)
        return 0;
    return S_ISFIFO(sb.st_mode) || S_ISREG(sb.st_mode) || S_ISSOCK(sb.st_mode);
}

static int
parse_count(const char *opt, const char *arg, int64_t *out)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(arg, &end, 10);
    if (!*arg || *end || v < 0 || errno) {
        diag_error("%s: expected a whole number, got \"%s\"", opt, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static int
parse_date(const char *opt, const char *arg, int64_t *out)
{
    osm_err err = { 0, "" };
    if (instant_parse_arg(arg, out, &err) != 0) {
        diag_error("%s: %s", opt, err.msg);
        return -1;
    }
    return 0;
}

/* Add the states of a --state list to *states; -1 for an unknown one. */
static int
add_states(jv *states, const char *arg)
{
    static const char *const open_states[] = { "not_started", "in_progress", "suspended",
                                               "amending", "cancelling", "failed",
                                               "waiting_for_revision" };
    char *copy = xstrdup(arg), *save = NULL;
    int rc = 0;

    if (jv_get_kind(*states) != JV_KIND_ARRAY) {
        jv_free(*states);
        *states = jv_array();
    }
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (strcmp(s, "open") == 0) {
            for (size_t i = 0; i < sizeof open_states / sizeof open_states[0]; i++)
                *states = jv_array_append(*states, jv_string(open_states[i]));
        } else if (status_is_order_state(s)) {
            *states = jv_array_append(*states, jv_string(s));
        } else {
            diag_error("--state: unknown order state \"%s\" (not_started, in_progress, "
                       "suspended, amending, cancelling, cancelled, completed, failed, "
                       "waiting_for_revision, aborted, or open)", s);
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

/* ------------------------------------------------------------ output */

static int
flush_rows(run *r)
{
    int rc = 0;
    if (jv_array_length(jv_copy(r->rows)) > 0 || !r->widths.header_done)
        rc = r->events ? status_view_events(stdout, r->rows, &r->widths)
                       : status_view_list(stdout, r->rows, &r->widths, r->now);
    jv_free(r->rows);
    r->rows = jv_array();
    return rc;
}

/* A status document (consumed), for one order. */
static int
emit_status(run *r, jv doc)
{
    if (r->format == FMT_JSON)
        return cli_emit(doc, r->json_flags);
    if (r->printed++)
        fputc('\n', stdout);
    int rc = status_view_order(stdout, doc);
    jv_free(doc);
    return rc;
}

/* A brief status document of a listing: table rows are laid out by the chunk. */
static int
emit_row(jv doc, void *ctx)
{
    run *r = ctx;
    if (r->format == FMT_JSON)
        return cli_emit(doc, r->json_flags);
    r->rows = jv_array_append(r->rows, doc);
    return jv_array_length(jv_copy(r->rows)) >= LIST_CHUNK ? flush_rows(r) : 0;
}

/* An event, flushed at once: a follower's reader sees it now. */
static int
emit_event(jv ev, void *ctx)
{
    run *r = ctx;
    int rc;
    if (r->format == FMT_TABLE) {
        rc = status_view_events(stdout, jv_array_append(jv_array(), ev), &r->widths);
    } else {
        rc = cli_emit(ev, r->json_flags);
    }
    return rc == 0 && fflush(stdout) != 0 ? OSM_EIO : rc;
}

/* An event of a history: table rows are laid out by the chunk, as a listing's. */
static int
emit_history(jv ev, void *ctx)
{
    run *r = ctx;
    if (r->format == FMT_JSON)
        return cli_emit(ev, r->json_flags);
    r->rows = jv_array_append(r->rows, ev);
    return jv_array_length(jv_copy(r->rows)) >= LIST_CHUNK ? flush_rows(r) : 0;
}

/* A --jq that fails on an order: an error, the listing goes on. */
static void
warn(const char *msg, void *ctx)
{
    (void)ctx;
    diag_error("%s", msg);
}

/* ------------------------------------------------------------ orders given */

static int
show_one(run *r, int64_t id)
{
    osm_err err = { 0, "" };
    jv doc;
    if (status_document(r->sc, id, r->now, 0, &doc, &err) != 0)
        return diag_report(&err);
    return emit_status(r, doc);
}

/* The customer order of order id as osm received it. */
static int
original_one(run *r, int64_t id)
{
    osm_err err = { 0, "" };
    order_rec o;
    if (store_order_get(r->st, id, &o, &err) != 0)
        return diag_report(&err);
    int rc = cli_emit(jv_copy(o.original), r->json_flags);
    order_rec_free(&o);
    return rc;
}

static int
history_one(run *r, int64_t id)
{
    osm_err err = { 0, "" };
    status_sink out = { emit_history, warn, r };
    int rc = status_history(r->sc, id, r->after, r->pred, r->now, &out, &err);
    return rc && err.code ? diag_report(&err) : rc;
}

typedef int (*id_fn)(run *r, int64_t id);

typedef struct id_reader {
    run *r;
    id_fn fn;
    jv collect;     /* when an array: ids are collected here instead */
} id_reader;

static int
one_input(jv v, const char *source, long line, void *ctx)
{
    id_reader *ir = ctx;
    int64_t id;
    int rc = cli_order_id(v, &id);
    jv_free(v);
    if (rc != 0) {
        diag_error("%s:%ld: expected an order id or an order, plan or status document", source,
                   line);
        return OSM_EDATA;
    }
    if (jv_get_kind(ir->collect) == JV_KIND_ARRAY) {
        ir->collect = jv_array_append(ir->collect, jv_number((double)id));
        return 0;
    }
    return ir->fn(ir->r, id);
}

/* Call fn for each id: the arguments, then standard input when asked. */
static int
for_ids(run *r, jv ids, int read_stdin, id_fn fn)
{
    int rc = 0;
    jv_array_foreach(ids, i, v) {
        if (rc < CLI_STOP)
            rc = osm_worst(rc, fn(r, (int64_t)jv_number_value(v)));
        jv_free(v);
    }
    if (read_stdin && rc < CLI_STOP) {
        id_reader ir = { r, fn, jv_null() };
        rc = osm_worst(rc, cli_inputs(0, NULL, 0, one_input, &ir));
    }
    return rc;
}

/* --wait: the orders that exist, until they end; then each as it stands. */
static int
wait_orders(run *r, jv ids, int64_t timeout)
{
    osm_err err = { 0, "" };
    jv known = jv_array();
    int rc = 0, w;

    jv_array_foreach(ids, i, v) {
        char *state;
        if (store_order_state(r->st, (int64_t)jv_number_value(v), &state, &err) != 0) {
            rc = osm_worst(rc, diag_report(&err));
            osm_err_clear(&err);
            jv_free(v);
        } else {
            free(state);
            known = jv_array_append(known, v);
        }
    }
    w = status_wait(r->sc, known, timeout, &stop_signal, &err);
    if (w > 128) {
        jv_free(known);
        return w;
    }
    r->now = clock_now();
    jv_array_foreach(known, i, v) {
        jv doc;
        osm_err derr = { 0, "" };
        if (status_document(r->sc, (int64_t)jv_number_value(v), r->now, 0, &doc, &derr) != 0) {
            rc = osm_worst(rc, diag_report(&derr));
        } else {
            const char *state = json_str(doc, "state");
            if (!state || strcmp(state, "completed") != 0)
                rc = osm_worst(rc, OSM_NEGATIVE);
            rc = osm_worst(rc, emit_status(r, doc));
        }
        jv_free(v);
    }
    jv_free(known);
    if (w != 0)
        rc = osm_worst(rc, diag_report(&err));
    return rc;
}

/* ------------------------------------------------------------ the rest */

static int
list(run *r)
{
    osm_err err = { 0, "" };
    status_sink out = { emit_row, warn, r };
    int rc = status_list(r->sc, &r->filter, r->pred, r->now, &out, &err);
    if (rc != 0 && err.code)
        rc = diag_report(&err);
    if (r->format == FMT_TABLE)
        rc = osm_worst(rc, flush_rows(r));
    return rc;
}

/* The HTML report of the orders given (ids) or listed, on stdout or in outdir. */
static int
html_report(run *r, jv ids, const char *outdir)
{
    osm_err err = { 0, "" };
    report_opts opts = { r->now, NULL, warn, NULL };
    report *rep = report_new(r->sc, &opts);
    report_select sel = { jv_get_kind(ids) == JV_KIND_ARRAY &&
                                  jv_array_length(jv_copy(ids)) > 0 ? ids : jv_null(),
                          &r->filter, r->pred };
    int rc = outdir ? report_dir(rep, &sel, outdir, &err) : report_page(rep, &sel, stdout, &err);
    report_free(rep);
    if (rc == OSM_EIO && !err.code)
        return rc;      /* standard output failed: cli_finish_output() says how */
    if (rc != 0) {
        rc = diag_report(&err);
        if (!outdir)
            clearerr(stdout);   /* said: cli_finish_output() need not say it again */
        return rc;
    }
    if (outdir)
        diag_info("wrote %s/index.html", outdir);
    return 0;
}

static int
summary(run *r)
{
    osm_err err = { 0, "" };
    jv counts;
    int rc = store_status_summary(r->st, r->now, &counts, &err);
    if (rc != 0)
        return diag_report(&err);
    jv doc = status_summary_document(counts, r->now);
    if (r->format == FMT_JSON)
        return cli_emit(doc, r->json_flags);
    rc = r->format == FMT_PROMETHEUS ? status_view_prometheus(stdout, doc)
                                     : status_view_summary(stdout, doc);
    jv_free(doc);
    return rc;
}

static int
follow(run *r, jv ids)
{
    osm_err err = { 0, "" };
    status_sink out = { emit_event, warn, r };
    int rc = status_follow(r->sc, jv_array_length(jv_copy(ids)) > 0 ? ids : jv_null(),
                           r->filter.cartridge, r->after, r->pred, FOLLOW_POLL_MS, &stop_signal,
                           &out, &err);
    return rc && err.code ? diag_report(&err) : rc;
}

static void
purged(int64_t total, void *ctx)
{
    progress *pg = ctx;
    progress_set(pg, total, 0);
    if (!progress_on(pg))
        diag_info("purged %lld orders", (long long)total);
}

static int
purge(run *r, int64_t before)
{
    osm_err err = { 0, "" };
    int64_t total;
    char when[CLOCK_RFC3339_MAX];
    progress *pg = progress_new("orders purged", progress_mode(r->show_progress));
    int rc = status_purge(r->sc, before, PURGE_BATCH, cli_user(), &stop_signal, purged, pg,
                          &total, &err);
    progress_finish(pg);
    if (rc != 0)
        rc = diag_report(&err);
    rfc3339_format(before, when);
    if (r->format == FMT_TABLE) {
        printf("purged %lld orders that ended before %s\n", (long long)total, when);
        return osm_worst(rc, ferror(stdout) ? OSM_EIO : 0);
    }
    return osm_worst(rc, cli_emit(JV_OBJECT(jv_string("kind"), jv_string("purge"),
                                            jv_string("deleted"), jv_number((double)total),
                                            jv_string("before"), jv_string(when)),
                                  r->json_flags));
}

/* A line of the export on stdout; a failure is told by cli_finish_output(). */
static int
export_line(const char *line, size_t len, void *ctx)
{
    (void)ctx;
    return fwrite(line, 1, len, stdout) == len ? 0 : OSM_EIO;
}

static int
export_store(run *r)
{
    osm_err err = { 0, "" };
    int rc = store_export(r->st, export_line, NULL, &err);
    if (rc != 0 && err.code)
        return diag_report(&err);
    return rc;
}

/* ------------------------------------------------------------ main */

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_FORMAT, OPT_ORDER_TYPE, OPT_SINCE, OPT_UNTIL, OPT_EXTERNAL,
           OPT_JQ, OPT_OFFSET, OPT_AFTER, OPT_TIMEOUT, OPT_PURGE, OPT_BEFORE, OPT_OUTPUT_DIR, OPT_PROGRESS,
           OPT_ORIGINAL, OPT_EXPORT };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "all", no_argument, NULL, 'a' },
        { "state", required_argument, NULL, 's' },
        { "cartridge", required_argument, NULL, 'c' },
        { "order-type", required_argument, NULL, OPT_ORDER_TYPE },
        { "since", required_argument, NULL, OPT_SINCE },
        { "until", required_argument, NULL, OPT_UNTIL },
        { "external-id", required_argument, NULL, OPT_EXTERNAL },
        { "jq", required_argument, NULL, OPT_JQ },
        { "limit", required_argument, NULL, 'n' },
        { "offset", required_argument, NULL, OPT_OFFSET },
        { "summary", no_argument, NULL, 'S' },
        { "history", no_argument, NULL, 'H' },
        { "follow", no_argument, NULL, 'f' },
        { "after", required_argument, NULL, OPT_AFTER },
        { "wait", no_argument, NULL, 'w' },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "purge", no_argument, NULL, OPT_PURGE },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "original", no_argument, NULL, OPT_ORIGINAL },
        { "export", no_argument, NULL, OPT_EXPORT },
        { "before", required_argument, NULL, OPT_BEFORE },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "output-dir", required_argument, NULL, OPT_OUTPUT_DIR },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    run r = { 0 };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    const char *db = NULL, *cart = NULL, *jq_text = NULL, *outdir = NULL;
    char *cart_name = NULL;
    int nexternal = 0, lookup_rc = 0;
    int mode = -1, all = 0, filters = 0, read_stdin = 0, format_set = 0, c, rc = 0;
    int64_t timeout = -1, before = -1, after = -1;
    jv ids = jv_array();

    diag_init(argv[0]);
    opterr = 0;
    r.filter.states = jv_null();
    r.filter.since = r.filter.until = r.filter.limit = -1;

#define SET_MODE(m)                                                                       \
    do {                                                                                  \
        if (mode >= 0 && mode != (m)) {                                                   \
            jv_free(ids);                                                                 \
            jv_free(r.filter.states);                                                     \
            return usage_error("choose one of --summary, --history, --follow, --wait, "   \
                               "--purge, --original and --export%s", "");                 \
        }                                                                                 \
        mode = (m);                                                                       \
    } while (0)
#define BAD_USAGE(fmt, arg)                                                               \
    do {                                                                                  \
        jv_free(ids);                                                                     \
        jv_free(r.filter.states);                                                         \
        return usage_error(fmt, arg);                                                     \
    } while (0)

    while ((c = getopt_long(argc, argv, ":d:as:c:n:SHfwqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'a': all = 1; break;
        case 's':
            if (add_states(&r.filter.states, optarg) != 0)
                BAD_USAGE(NULL, NULL);
            filters = 1;
            break;
        case 'c': cart = optarg; break;
        case OPT_ORDER_TYPE: r.filter.order_type = optarg; filters = 1; break;
        case OPT_SINCE:
        case OPT_UNTIL:
            if (parse_date(c == OPT_SINCE ? "--since" : "--until", optarg,
                           c == OPT_SINCE ? &r.filter.since : &r.filter.until) != 0)
                BAD_USAGE(NULL, NULL);
            filters = 1;
            break;
        case OPT_EXTERNAL: r.filter.external_id = optarg; filters = 1; break;
        case OPT_JQ: jq_text = optarg; break;
        case 'n':   /* the older spelling of --limit */
        case OPT_OFFSET:
            if (parse_count(c == 'n' ? "--limit" : "--offset", optarg,
                            c == 'n' ? &r.filter.limit : &r.filter.offset) != 0)
                BAD_USAGE(NULL, NULL);
            filters = 1;
            break;
        case 'S': SET_MODE(MODE_SUMMARY); break;
        case 'H': SET_MODE(MODE_HISTORY); break;
        case 'f': SET_MODE(MODE_FOLLOW); break;
        case 'w': SET_MODE(MODE_WAIT); break;
        case OPT_PURGE: SET_MODE(MODE_PURGE); break;
        case OPT_PROGRESS: r.show_progress = 1; break;
        case OPT_ORIGINAL: SET_MODE(MODE_ORIGINAL); break;
        case OPT_EXPORT: SET_MODE(MODE_EXPORT); break;
        case OPT_AFTER:
            if (parse_count("--after", optarg, &after) != 0)
                BAD_USAGE(NULL, NULL);
            break;
        case OPT_TIMEOUT:
            if (duration_parse_arg(optarg, &timeout, &err) != 0)
                BAD_USAGE("--timeout: %s", err.msg);
            break;
        case OPT_BEFORE:
            if (parse_date("--before", optarg, &before) != 0)
                BAD_USAGE(NULL, NULL);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                r.format = FMT_JSON;
            else if (strcmp(optarg, "table") == 0)
                r.format = FMT_TABLE;
            else if (strcmp(optarg, "prometheus") == 0)
                r.format = FMT_PROMETHEUS;
            else if (strcmp(optarg, "html") == 0)
                r.format = FMT_HTML;
            else
                BAD_USAGE("unknown format \"%s\" (json, table, prometheus or html)", optarg);
            format_set = 1;
            break;
        case OPT_OUTPUT_DIR:
            if (!*optarg)
                BAD_USAGE("--output-dir: an empty directory name%s", "");
            outdir = optarg;
            break;
        case OPT_PRETTY: r.json_flags |= JSON_PRETTY; break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
        case 'h':
            jv_free(ids);
            jv_free(r.filter.states);
            fputs(usage_text, stdout);
            return cli_finish_output();
        case 'V':
            jv_free(ids);
            jv_free(r.filter.states);
            cli_version();
            return cli_finish_output();
        default:
            cli_bad_option(argv, optind, optopt, c, longopts);
            BAD_USAGE(NULL, NULL);
        }
    }
    for (int i = optind; i < argc; i++) {
        int64_t id;
        if (strcmp(argv[i], "-") == 0)
            read_stdin = 1;
        else if (cli_parse_id(argv[i], &id) == 0)
            ids = jv_array_append(ids, jv_number((double)id));
        else if (cli_id_arg_ok(argv[i]))
            nexternal++;    /* ext:KEY, looked up once the store is open */
        else
            BAD_USAGE(NULL, (cli_bad_id(argv[i]), (const char *)NULL));
    }
    int given = jv_array_length(jv_copy(ids)) > 0 || read_stdin || nexternal;

    /* which mode, and what goes with it */
    if (mode == MODE_EXPORT) {
        if (outdir || (format_set && r.format != FMT_JSON))
            BAD_USAGE("--export writes JSON lines: not with --format %s",
                      outdir || r.format == FMT_HTML ? "html or --output-dir"
                      : r.format == FMT_TABLE ? "table" : "prometheus");
        if (jq_text)
            BAD_USAGE("--export writes every row as it is: not with --jq%s", "");
        if (r.json_flags & JSON_PRETTY)
            BAD_USAGE("--export writes one line per row: not with --pretty%s", "");
        if (given)
            BAD_USAGE("--export writes the whole store: give no order ids%s", "");
    }
    if (outdir) {
        if (format_set && r.format != FMT_HTML)
            BAD_USAGE("--output-dir writes the HTML report: not with --format %s",
                      r.format == FMT_TABLE ? "table" : r.format == FMT_JSON ? "json"
                                                                           : "prometheus");
        r.format = FMT_HTML;
    }
    if (r.format == FMT_HTML && mode >= 0)
        BAD_USAGE("--format html reports on orders given or listed: not with --summary, "
                  "--history, --follow, --wait, --purge or --original%s", "");
    if (mode == MODE_ORIGINAL && format_set && r.format != FMT_JSON)
        BAD_USAGE("--original prints the customer order as JSON: not with --format%s", "");
    if (r.format == FMT_PROMETHEUS) {
        if (mode >= 0 && mode != MODE_SUMMARY)
            BAD_USAGE("--format prometheus is the summary: not with --history, --follow, "
                      "--wait or --purge%s", "");
        mode = MODE_SUMMARY;
    }
    if (mode < 0)
        mode = given ? MODE_SHOW
                     : (all || filters || cart || jq_text || !stdin_has_data()) ? MODE_LIST
                                                                                  : MODE_SHOW;
    if (mode == MODE_SHOW && !given)
        read_stdin = 1;
    if ((filters || all) && mode != MODE_LIST)
        BAD_USAGE(mode == MODE_SHOW ? "filters list orders: give no ids%s"
                                    : "filters and -a go with listing only%s", "");
    if (mode == MODE_LIST && given)
        BAD_USAGE("filters list orders: give no ids%s", "");
    if (cart && mode != MODE_LIST && mode != MODE_FOLLOW)
        BAD_USAGE("--cartridge filters a listing or --follow%s", "");
    if (jq_text && mode != MODE_LIST && mode != MODE_HISTORY && mode != MODE_FOLLOW)
        BAD_USAGE("--jq filters a listing, --history or --follow%s", "");
    if (after >= 0 && mode != MODE_FOLLOW && mode != MODE_HISTORY)
        BAD_USAGE("--after goes with --follow or --history%s", "");
    if (timeout >= 0 && mode != MODE_WAIT)
        BAD_USAGE("--timeout goes with --wait%s", "");
    if (before >= 0 && mode != MODE_PURGE)
        BAD_USAGE("--before goes with --purge%s", "");
    if (r.show_progress && mode != MODE_PURGE)
        BAD_USAGE("--progress goes with --purge%s", "");
    if (mode == MODE_PURGE && before < 0)
        BAD_USAGE("--purge needs --before DATE%s", "");
    if ((mode == MODE_SUMMARY || mode == MODE_PURGE) && given)
        BAD_USAGE("--summary and --purge take no order ids%s", "");
    if ((mode == MODE_HISTORY || mode == MODE_WAIT || mode == MODE_ORIGINAL) && !given) {
        if (isatty(STDIN_FILENO))
            BAD_USAGE("%s needs order ids, as arguments or on standard input",
                      mode == MODE_HISTORY ? "--history"
                                           : mode == MODE_WAIT ? "--wait" : "--original");
        read_stdin = 1;
    }
    if (mode == MODE_FOLLOW && read_stdin)
        BAD_USAGE("--follow takes order ids as arguments only%s", "");
    if (cart) {
        cart_name = xstrdup(cart);
        char *at = strchr(cart_name, '@');
        if (at)
            *at++ = '\0';
        r.filter.cartridge = cart_name;
        r.filter.cartridge_version = at;
        if (mode == MODE_FOLLOW && at) {
            free(cart_name);
            BAD_USAGE("--follow --cartridge takes a name, not a version: \"%s\"", cart);
        }
    }
    if (jq_text && status_pred_new(jq_text, &r.pred, &err) != 0) {
        diag_report(&err);
        free(cart_name);
        BAD_USAGE(NULL, NULL);
    }

    if ((rc = clock_init(&err)) != 0) {
        rc = diag_report(&err);
        goto out;
    }
    /* only --purge writes: everything else reads, and never creates nor migrates */
    if ((rc = cli_open(cli_db_path(db), mode == MODE_PURGE ? 0 : CLI_READONLY, &r.st, &conf,
                       &err)) != 0) {
        rc = diag_report(&err);
        goto out;
    }
    for (int i = optind; nexternal && i < argc && lookup_rc < CLI_STOP; i++) {
        int64_t id;
        if (strcmp(argv[i], "-") == 0 || cli_parse_id(argv[i], &id) == 0)
            continue;
        if (cli_resolve_id(r.st, argv[i], &id, &err) != 0)
            lookup_rc = osm_worst(lookup_rc, diag_report(&err));
        else
            ids = jv_array_append(ids, jv_number((double)id));
    }
    r.sc = status_new(r.st);
    r.now = clock_now();
    r.rows = jv_array();
    r.after = after;

    if (r.format == FMT_HTML) {
        if (read_stdin) {
            id_reader ir = { &r, NULL, jv_copy(ids) };
            rc = cli_inputs(0, NULL, 0, one_input, &ir);
            jv_free(ids);
            ids = ir.collect;
            if (mode == MODE_SHOW && jv_array_length(jv_copy(ids)) == 0)
                goto out;   /* nothing came: no page, as no document */
        }
        if (rc < CLI_STOP)
            rc = osm_worst(rc, html_report(&r, mode == MODE_SHOW ? ids : jv_null(), outdir));
        goto out;
    }
    switch (mode) {
    case MODE_SHOW:
        rc = for_ids(&r, ids, read_stdin, show_one);
        break;
    case MODE_LIST:
        rc = list(&r);
        break;
    case MODE_SUMMARY:
        rc = summary(&r);
        break;
    case MODE_HISTORY:
        r.events = 1;
        rc = for_ids(&r, ids, read_stdin, history_one);
        if (r.format == FMT_TABLE && rc < CLI_STOP)
            rc = osm_worst(rc, flush_rows(&r));
        break;
    case MODE_ORIGINAL:
        rc = for_ids(&r, ids, read_stdin, original_one);
        break;
    case MODE_FOLLOW:
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        rc = follow(&r, ids);
        break;
    case MODE_WAIT:
        if (read_stdin) {
            id_reader ir = { &r, NULL, jv_copy(ids) };
            rc = cli_inputs(0, NULL, 0, one_input, &ir);
            jv_free(ids);
            ids = ir.collect;
        }
        if (rc < CLI_STOP) {
            signal(SIGINT, on_signal);
            signal(SIGTERM, on_signal);
            rc = osm_worst(rc, wait_orders(&r, ids, timeout));
        }
        break;
    case MODE_PURGE:
        rc = purge(&r, before);
        break;
    case MODE_EXPORT:
        rc = export_store(&r);
        break;
    }

out:
    jv_free(r.rows);
    jv_free(r.filter.states);
    jv_free(ids);
    status_pred_free(r.pred);
    status_free(r.sc);
    store_close(r.st);
    siteconf_free(conf);
    free(cart_name);
    return osm_worst(osm_worst(rc, lookup_rc), cli_finish_output());
}
