/*
 * osm-run: drive orders through their plans — claim ready tasks, run
 * them, record outcomes (DESIGN §8, osm-run(1)).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cli.h"
#include "clock.h"
#include "engine.h"
#include "json.h"
#include "notify.h"
#include "planner.h"
#include "progress.h"
#include "store-ops.h"
#include "store.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-run [-qvn] [-d DB] [-j N] [--all | --loop [--interval DURATION]]\n"
    "               [--wait [--timeout DURATION]] [--system NAME] [-c NAME]\n"
    "               [--function NAME] [--max-tasks N] [--notify-only] [--progress]\n"
    "               [--jq EXPR] [--pretty] [ID...]\n"
    "\n"
    "Run the tasks of the orders given as ids or as order documents on standard\n"
    "input until they can go no further now, and print each order.\n"
    "\n"
    "options:\n"
    "  -d, --db DB            order store: a file or a postgresql:// URI\n"
    "                         (default $OSM_DB, else ./osm.db)\n"
    "  -a, --all              every order with work to do\n"
    "  -l, --loop             keep going until signalled (alias --daemon)\n"
    "      --interval DURATION\n"
    "                         pause between idle rounds of --loop (default 1s)\n"
    "  -w, --wait             hold until the given orders end\n"
    "      --timeout DURATION\n"
    "                         give up waiting after DURATION (exit 75)\n"
    "  -j, --jobs N           run up to N hooks at once (default 1)\n"
    "  -n, --dry-run          print the plans that would be made and the tasks ready now,\n"
    "                         in the order they would run; change nothing\n"
    "      --system NAME      only tasks for this system\n"
    "  -c, --cartridge NAME   only orders of this cartridge\n"
    "      --function NAME    only tasks of this fulfillment function\n"
    "      --max-tasks N      start at most N tasks, then finish\n"
    "      --notify-only      deliver pending notifications and run nothing\n"
    "      --progress         show progress on standard error even off a terminal\n"
    "      --jq EXPR          print what jq EXPR makes of each JSON document\n"
    "      --pretty           indent JSON output\n"
    "  -q, --quiet            no warnings\n"
    "  -v, --verbose          more messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

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
    fprintf(stderr, "Try 'osm-run --help' for more information.\n");
    return OSM_EUSAGE;
}

typedef struct ids {
    jv list;        /* array of order ids */
} ids;

static int
collect_id(jv v, const char *source, long line, void *ctx)
{
    ids *x = ctx;
    int64_t id;
    int rc = cli_order_id(v, &id);
    jv_free(v);
    if (rc != 0) {
        diag_error("%s:%ld: expected an order id or an order document", source, line);
        return OSM_EDATA;
    }
    x->list = jv_array_append(x->list, jv_number((double)id));
    return 0;
}

static void
pause_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (!stop_signal && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int
parse_count(const char *opt, const char *arg, long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 1 || v > 1000000) {
        diag_error("%s: expected a number from 1 to 1000000, got \"%s\"", opt, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/*
 * Plan order id as osm-plan would when it is not started and has no plan
 * yet; an order planned already, or past not_started, is left alone.
 * Returns 0 or a status with err set.
 */
static int
plan_if_needed(store *st, catalog *cat, int64_t id, osm_err *err)
{
    int64_t rev = 0;
    jv doc;
    int rc = store_plan_revision(st, id, &rev, err);
    if (rc == OSM_ENOINPUT)
        return 0;   /* reported with the orders as they stand */
    if (rc != 0 || rev > 0)
        return rc;
    rc = planner_plan(st, cat, id, 0, cli_user(), &doc, err);
    if (rc == OSM_NEGATIVE)
        return 0;
    if (rc == 0) {
        jv tasks = jv_object_get(doc, jv_string("tasks"));
        int n = jv_get_kind(tasks) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tasks)) : 0;
        diag_info("order %lld: planned, %d task%s", (long long)id, n, n == 1 ? "" : "s");
        jv_free(tasks);
    }
    return rc;
}

/*
 * --all and --loop: plan every order not started and never planned (of
 * the --cartridge given).  An order that cannot be planned is reported
 * once and remembered in *failed, then passed over.  Returns the worst
 * status of a store failure (planning failures are reported, not returned
 * beyond OSM_EDATA).
 */
static int
plan_unplanned(store *st, catalog *cat, const char *cart, jv *failed)
{
    osm_err err = { 0, "" };
    int worst = 0;
    for (;;) {
        jv batch;
        int nfailed = jv_array_length(jv_copy(*failed)), planned = 0, rc;
        if ((rc = store_plan_unplanned(st, cart, 500 + nfailed, &batch, &err)) != 0) {
            jv_free(batch);
            return osm_worst(worst, diag_report(&err));
        }
        jv_array_foreach(batch, i, idv) {
            int64_t id = (int64_t)jv_number_value(idv);
            int known = 0;
            jv_array_foreach(*failed, k, f) {
                known |= jv_number_value(f) == (double)id;
                jv_free(f);
            }
            if (known) {
                jv_free(idv);
                continue;
            }
            if ((rc = plan_if_needed(st, cat, id, &err)) != 0) {
                worst = osm_worst(worst, diag_report(&err));
                *failed = jv_array_append(*failed, jv_copy(idv));
                if (rc >= CLI_STOP) {
                    jv_free(idv);
                    jv_free(batch);
                    return worst;
                }
            } else {
                planned++;
            }
            jv_free(idv);
        }
        jv_free(batch);
        if (planned == 0)
            return worst;
    }
}

/*
 * --dry-run: what would run now, in order, changing nothing: the plan of
 * each order that would be planned first (ids, or every one with all),
 * then the tasks ready now as task documents, in the order they would be
 * claimed.  Returns the worst status.
 */
static int
dry_run(store *st, catalog *cat, const store_task_filter *f, jv given_ids, int all,
        int json_flags)
{
    osm_err err = { 0, "" };
    store_task *ts = NULL;
    size_t n = 0;
    jv unplanned;
    int rc = 0;

    if (all) {
        if (store_plan_unplanned(st, f->cartridge, 100000, &unplanned, &err) != 0)
            rc = diag_report(&err);
    } else {
        unplanned = jv_copy(given_ids);
    }
    jv_array_foreach(unplanned, i, idv) {
        int64_t id = (int64_t)jv_number_value(idv), rev = 0;
        jv doc;
        jv_free(idv);
        if (rc >= CLI_STOP)
            continue;
        if (store_plan_revision(st, id, &rev, &err) != 0) {
            rc = osm_worst(rc, diag_report(&err));   /* an unknown order: 66 */
            continue;
        }
        if (rev > 0)
            continue;
        int r = planner_plan(st, cat, id, 1, cli_user(), &doc, &err);
        if (r == 0)
            rc = osm_worst(rc, cli_emit(doc, json_flags));
        else if (r != OSM_NEGATIVE)
            rc = osm_worst(rc, diag_report(&err));
    }
    jv_free(unplanned);
    if (rc >= CLI_STOP)
        return rc;
    if (store_task_candidates(st, f, clock_now(), 100000, &ts, &n, &err) != 0)
        return osm_worst(rc, diag_report(&err));
    for (size_t i = 0; i < n && rc < CLI_STOP; i++) {
        jv task;
        if (store_task_get(st, ts[i].id, &task, &err) != 0) {
            rc = osm_worst(rc, diag_report(&err));
            continue;
        }
        rc = osm_worst(rc, cli_emit(jv_object_merge(JV_OBJECT(jv_string("kind"),
                                                              jv_string("task")), task),
                                    json_flags));
    }
    store_tasks_free(ts, n);
    return rc;
}

static int
ended(const char *state)
{
    return strcmp(state, "completed") == 0 || strcmp(state, "cancelled") == 0 ||
           strcmp(state, "aborted") == 0 || strcmp(state, "failed") == 0;
}

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_INTERVAL, OPT_TIMEOUT, OPT_SYSTEM,
           OPT_FUNCTION, OPT_MAX, OPT_NOTIFY_ONLY, OPT_PROGRESS };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "all", no_argument, NULL, 'a' },
        { "loop", no_argument, NULL, 'l' },
        { "daemon", no_argument, NULL, 'l' },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "wait", no_argument, NULL, 'w' },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "jobs", required_argument, NULL, 'j' },
        { "system", required_argument, NULL, OPT_SYSTEM },
        { "cartridge", required_argument, NULL, 'c' },
        { "function", required_argument, NULL, OPT_FUNCTION },
        { "max-tasks", required_argument, NULL, OPT_MAX },
        { "notify-only", no_argument, NULL, OPT_NOTIFY_ONLY },
        { "dry-run", no_argument, NULL, 'n' },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    store *st = NULL;
    catalog *cat = NULL;
    engine *e = NULL;
    engine_opts eo = { 0 };
    const char *db = NULL;
    int all = 0, loop = 0, wait = 0, notify_only = 0, json_flags = 0, show_progress = 0, c;
    int dry = 0;
    int rc = 0;
    long jobs = 1, max_tasks = 0;
    int64_t interval = 1000, timeout = -1;
    ids given = { jv_array() };

    diag_init(argv[0]);
    opterr = 0;
    eo.filter.orders = jv_null();
    while ((c = getopt_long(argc, argv, ":d:alwj:c:nqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'a': all = 1; break;
        case 'l': loop = 1; break;
        case 'w': wait = 1; break;
        case 'j':
            if (parse_count("--jobs", optarg, &jobs) != 0)
                return usage_error(NULL, NULL);
            break;
        case OPT_MAX:
            if (parse_count("--max-tasks", optarg, &max_tasks) != 0)
                return usage_error(NULL, NULL);
            break;
        case OPT_INTERVAL:
            if (duration_parse_arg(optarg, &interval, &err) != 0)
                return usage_error("--interval: %s", err.msg);
            break;
        case OPT_TIMEOUT:
            if (duration_parse_arg(optarg, &timeout, &err) != 0)
                return usage_error("--timeout: %s", err.msg);
            break;
        case OPT_SYSTEM: eo.filter.system = optarg; break;
        case 'c':
            if (strchr(optarg, '@') || strchr(optarg, '/'))
                return usage_error("--cartridge: osm-run picks orders by cartridge NAME, "
                                   "whatever their version: \"%s\"", optarg);
            eo.filter.cartridge = optarg;
            break;
        case 'n': dry = 1; break;
        case OPT_FUNCTION: eo.filter.function = optarg; break;
        case OPT_NOTIFY_ONLY: notify_only = 1; break;
        case OPT_PROGRESS: show_progress = 1; break;
        case OPT_PRETTY: json_flags |= JSON_PRETTY; break;
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
    if (all && optind < argc)
        return usage_error("--all runs every order: give no ids%s", "");
    if (wait && (all || loop))
        return usage_error("--wait holds for the given orders: not with --all or --loop%s", "");
    for (int i = optind; i < argc; i++)
        if (!cli_id_arg_ok(argv[i]))
            return cli_bad_id(argv[i]), usage_error(NULL, NULL);
    if (dry && (loop || wait || notify_only))
        return usage_error("--dry-run says what would run now: not with --loop, --wait or "
                           "--notify-only%s", "");
    /* orders from a terminal: the user did not mean to type them */
    if (!all && !loop && !notify_only && optind >= argc && cli_stdin_is_terminal()) {
        fputs(usage_text, stderr);
        return OSM_EUSAGE;
    }
    if (clock_init(&err) != 0)
        return diag_report(&err);
    /* it runs the commands osm.conf names: refused from a file it may not trust */
    if ((rc = cli_open(cli_db_path(db), dry ? CLI_READONLY : CLI_COMMANDS, &st, &conf,
                       &err)) != 0) {
        jv_free(given.list);
        return diag_report(&err);
    }
    if (notify_only && (wait || loop))
        return usage_error("--notify-only delivers and ends: not with --wait or --loop%s", "");
    if (!all && !loop && !notify_only && optind >= argc)
        rc = cli_inputs(0, NULL, 0, collect_id, &given);
    for (int i = optind; i < argc && rc < CLI_STOP; i++) {
        int64_t id;
        if (strcmp(argv[i], "-") == 0) {
            rc = osm_worst(rc, cli_inputs(0, NULL, 0, collect_id, &given));
        } else if (cli_resolve_id(st, argv[i], &id, &err) != 0) {
            rc = osm_worst(rc, diag_report(&err));
        } else {
            given.list = jv_array_append(given.list, jv_number((double)id));
        }
    }
    /* --notify-only without ids: every order's notifications */
    int targeted = !all && !loop && (!notify_only || optind < argc);
    if (targeted || (loop && jv_array_length(jv_copy(given.list)) > 0))
        eo.filter.orders = jv_copy(given.list);

    cat = catalog_new(st);
    if (dry) {
        rc = osm_worst(rc, dry_run(st, cat, &eo.filter, given.list, all, json_flags));
        catalog_free(cat);
        jv_free(given.list);
        jv_free(eo.filter.orders);
        store_close(st);
        siteconf_free(conf);
        return osm_worst(rc, cli_finish_output());
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* hooks run in the cartridge's directory: give them an absolute path */
    char *dbabs = realpath(cli_db_path(db), NULL);
    eo.db_path = dbabs ? dbabs : cli_db_path(db);
    eo.conf = conf;
    eo.actor = cli_user();
    eo.jobs = (int)jobs;
    eo.max_tasks = max_tasks;
    e = engine_new(st, cat, &eo);

    /* an order submitted but never planned is planned here, as osm-plan would */
    jv unplannable = jv_array();
    jv_array_foreach(given.list, i, idv) {
        if (plan_if_needed(st, cat, (int64_t)jv_number_value(idv), &err) != 0)
            rc = osm_worst(rc, diag_report(&err));
        jv_free(idv);
    }

    progress *pg = progress_new("tasks", notify_only ? PROGRESS_OFF : progress_mode(show_progress));
    int64_t started = clock_monotonic_ms();
    int stopping = 0, housekeep = 1;
    /* PostgreSQL: an idle --loop wakes when another program records work */
    if (loop && store_watch(st, &err) != 0)
        rc = osm_worst(rc, diag_report(&err));
    for (;;) {
        int moved = 0, r;
        if (notify_only) {
            if ((r = engine_notify(e, NULL, NULL, &err)) != 0)
                rc = osm_worst(rc, diag_report(&err));
            break;
        }
        if (housekeep && !stopping) {
            /* kept answers, response timeouts, jeopardy: once a round */
            housekeep = 0;
            if (all || loop) {
                r = plan_unplanned(st, cat, eo.filter.cartridge, &unplannable);
                rc = osm_worst(rc, r);
                if (r >= CLI_STOP)
                    break;
            }
            if ((r = engine_housekeep(e, &err)) != 0) {
                rc = osm_worst(rc, diag_report(&err));
                break;
            }
            int64_t open = 0;
            if (progress_on(pg) && store_tasks_open_count(st, &eo.filter, &open, &err) == 0)
                progress_total(pg, engine_finished(e) + open);
        }
        if (stop_signal && !stopping) {
            diag_info("signal %d: finishing running hooks", (int)stop_signal);
            engine_stop(e);
            stopping = 1;
        }
        r = engine_step(e, 200, &moved, &err);
        progress_set(pg, engine_finished(e), engine_fallout(e));
        if (r != 0) {
            rc = osm_worst(rc, diag_report(&err));
            break;
        }
        if (moved || engine_running(e))
            continue;
        /* the round is done: tell the notification hook what happened */
        housekeep = 1;
        if ((r = engine_notify(e, NULL, NULL, &err)) != 0) {
            rc = osm_worst(rc, diag_report(&err));
            break;
        }
        if (stopping)
            break;
        if (max_tasks && engine_started(e) >= max_tasks)
            break;
        if (loop) {
            if (stop_signal || store_watch_wait(st, interval) < 0)
                pause_ms(interval);
            continue;
        }
        if (wait) {
            jv states;
            int all_ended = 1;
            if (store_order_states(st, given.list, &states, &err) != 0) {
                rc = osm_worst(rc, diag_report(&err));
                break;
            }
            jv_object_foreach(states, k, v) {
                if (!ended(jv_string_value(v)))
                    all_ended = 0;
                jv_free(k);
                jv_free(v);
            }
            jv_free(states);
            if (all_ended)
                break;
            if (timeout >= 0 && clock_monotonic_ms() - started >= timeout) {
                diag_error("--timeout: the orders have not ended");
                rc = osm_worst(rc, OSM_ETEMPFAIL);
                break;
            }
            pause_ms(interval < 200 ? interval : 200);
            continue;
        }
        break;  /* nothing more can run now */
    }

    progress_finish(pg);

    /* the given orders as they stand */
    jv_array_foreach(given.list, i, idv) {
        order_rec o;
        if (store_order_get(st, (int64_t)jv_number_value(idv), &o, &err) != 0) {
            rc = osm_worst(rc, diag_report(&err));
        } else {
            if (wait && strcmp(o.state, "completed") != 0)
                rc = osm_worst(rc, OSM_NEGATIVE);
            rc = osm_worst(rc, cli_emit(order_document(&o), json_flags));
            order_rec_free(&o);
        }
        jv_free(idv);
    }
    engine_free(e);
    catalog_free(cat);
    jv_free(unplannable);
    jv_free(given.list);
    jv_free(eo.filter.orders);
    store_close(st);
    siteconf_free(conf);
    free(dbabs);
    return osm_worst(rc, cli_finish_output());
}
