/*
 * osm-task: people's side of orders — workgroups, manual tasks, fallout,
 * and order operations (DESIGN §9, osm-task(1)).  It may be installed
 * setgid to the store's group, to make workgroups a real boundary on a
 * shared store (osm(7), SETGID MODE): it then takes its configuration
 * and store from OSM_SYSTEM_CONFIG only.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "clock.h"
#include "json.h"
#include "respond.h"
#include "store-ops.h"
#include "store.h"
#include "taskops.h"
#include "termtable.h"
#include "termtext.h"
#include "xalloc.h"

/* The system configuration of a setgid osm-task (fixed at build time). */
#ifndef OSM_SYSTEM_CONFIG
#define OSM_SYSTEM_CONFIG OSM_SYSCONFDIR "/osm/osm.conf"
#endif

static const char usage_text[] =
    "usage: osm-task [-qv] [-d DB] [--jq EXPR] [--pretty] [--format json|table] VERB [ARG...]\n"
    "\n"
    "tasks:\n"
    "  list [--workgroup GROUP] [--state STATE] [--mine] [--order ID]\n"
    "                         manual and fallout tasks (open ones unless --state)\n"
    "  show ID                a task, its order and its history\n"
    "  claim ID               take a task of your workgroup\n"
    "  release ID             give it back\n"
    "  assign ID --to USER    give it to a member of its workgroup\n"
    "  complete ID [--status STATUS] [--data FILE|-]\n"
    "                         finish a manual task; data is merged into the order\n"
    "  fail ID --reason TEXT  a manual task cannot be done: fallout\n"
    "  retry ID [--data FILE|-]\n"
    "                         run a failed task again, after fixing order data\n"
    "  skip ID --reason TEXT  mark a failed task done without running it\n"
    "  respond --correlation ID [FILE|-]\n"
    "                         an external system's later answer to a waiting task\n"
    "orders (ids as arguments, or order documents on standard input):\n"
    "  order suspend|resume|resolve [ID...]\n"
    "  order abort|fail --reason TEXT [ID...]\n"
    "  suspend|resume|resolve [ID...], abort --reason TEXT [ID...]\n"
    "                         the same, without \"order\"\n"
    "workgroups:\n"
    "  workgroup add|remove GROUP USER...\n"
    "  workgroup list [GROUP]\n"
    "\n"
    "options:\n"
    "  -d, --db DB            order store: a file or a postgresql:// URI\n"
    "                         (default $OSM_DB, else ./osm.db)\n"
    "  -g, --workgroup GROUP  list: only this workgroup's tasks\n"
    "  -s, --state STATE      list: only tasks in this state\n"
    "  -m, --mine             list: only tasks assigned to you\n"
    "      --order ID         list: only this order's tasks\n"
    "      --to USER          assign: the member to give the task to\n"
    "  -r, --reason TEXT      why (fail, skip, abort)\n"
    "      --correlation ID   respond: the correlation id the system gave\n"
    "      --status STATUS    complete: the external status to record\n"
    "      --data FILE|-      complete, retry: JSON object merged into the order ('-': stdin)\n"
    "      --format json|table\n"
    "                         the output (default json)\n"
    "      --jq EXPR          print what jq EXPR makes of each JSON document\n"
    "      --pretty           indent JSON output\n"
    "  -q, --quiet            no warnings\n"
    "  -v, --verbose          more messages\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n";

static struct {
    const char *db, *workgroup, *state, *to, *reason, *status, *data, *correlation;
    int64_t order;
    const char *order_arg;      /* --order as given: an id or ext:KEY */
    int mine, table, json_flags;
} opt;

static taskops ops;

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-task --help' for more information.\n");
    return OSM_EUSAGE;
}

/* --data FILE|-: one JSON object, or jv_null() when not given. */
static int
read_data(jv *out)
{
    osm_err err = { 0, "" };
    *out = jv_null();
    if (!opt.data)
        return 0;
    json_reader *r = cli_open_input(opt.data, &err);
    if (!r)
        return diag_report(&err);
    jv v;
    int rc = json_reader_next(r, &v, &err);
    json_reader_free(r);
    if (rc == 0) {
        diag_error("%s: no JSON value", opt.data);
        return OSM_EDATA;
    }
    if (rc != 1)
        return diag_report(&err);
    if (jv_get_kind(v) != JV_KIND_OBJECT) {
        jv_free(v);
        diag_error("%s: expected a JSON object to merge into the order", opt.data);
        return OSM_EDATA;
    }
    *out = v;
    return 0;
}

static char *
when(jv t, const char *key, char *buf)
{
    jv v = jv_object_get(jv_copy(t), jv_string(key));
    if (jv_get_kind(v) == JV_KIND_NUMBER)
        rfc3339_format((int64_t)jv_number_value(v), buf);
    else
        snprintf(buf, CLOCK_RFC3339_MAX, "-");
    jv_free(v);
    return buf;
}

/* Times as RFC 3339 in a task document. */
static jv
task_times(jv t)
{
    static const char *const keys[] = { "createdAt", "updatedAt", "startedAt", "endedAt" };
    char buf[CLOCK_RFC3339_MAX];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        jv v = jv_object_get(jv_copy(t), jv_string(keys[i]));
        int has = jv_get_kind(v) == JV_KIND_NUMBER;
        jv_free(v);
        t = jv_object_set(t, jv_string(keys[i]), has ? jv_string(when(t, keys[i], buf)) : jv_null());
    }
    return t;
}

static const char *
s_or(jv t, const char *key, char *buf, size_t len, const char *dflt)
{
    jv v = jv_object_get(jv_copy(t), jv_string(key));
    if (jv_get_kind(v) == JV_KIND_STRING)
        snprintf(buf, len, "%s", jv_string_value(v));
    else if (jv_get_kind(v) == JV_KIND_NUMBER)
        snprintf(buf, len, "%.0f", jv_number_value(v));
    else if (jv_get_kind(v) == JV_KIND_OBJECT || jv_get_kind(v) == JV_KIND_ARRAY) {
        jv m = jv_object_get(jv_copy(v), jv_string("message"));
        if (jv_get_kind(m) == JV_KIND_STRING)
            snprintf(buf, len, "%s", jv_string_value(m));
        else
            snprintf(buf, len, "%s", dflt);
        jv_free(m);
    } else
        snprintf(buf, len, "%s", dflt);
    jv_free(v);
    return buf;
}

static int
cmd_list(void)
{
    osm_err err = { 0, "" };
    store_task_query q = { opt.workgroup, opt.state, opt.mine ? ops.user : NULL, opt.order, 1 };
    jv list;
    int rc;

    if ((rc = store_task_list(ops.st, &q, &list, &err)) != 0)
        return diag_report(&err);
    termtable *tt = NULL;
    if (opt.table) {
        static const char *const head[] = { "TASK", "ORDER", "FUNCTION", "KIND", "STATE",
                                            "WORKGROUP", "ASSIGNEE", "ERROR" };
        tt = termtable_new(8);
        for (size_t k = 0; k < 8; k++)
            termtable_cell(tt, head[k]);
        termtable_state_column(tt, 4);
    }
    jv_array_foreach(list, i, t) {
        if (opt.table) {
            static const char *const keys[] = { "id", "order", "function", "taskKind", "state",
                                                "workgroup", "assignee", "error" };
            for (size_t k = 0; k < 8; k++) {
                char buf[512];
                termtable_cell(tt, s_or(t, keys[k], buf, sizeof buf, ""));
            }
            jv_free(t);
        } else {
            rc = osm_worst(rc, cli_emit(jv_object_merge(JV_OBJECT(jv_string("kind"),
                                                                  jv_string("task")),
                                                        task_times(t)),
                                        opt.json_flags));
        }
    }
    if (tt)
        rc = osm_worst(rc, termtable_print(tt, stdout));
    jv_free(list);
    return rc;
}

static int
cmd_show(int64_t id)
{
    osm_err err = { 0, "" };
    jv t;
    order_rec o;
    int rc;

    if ((rc = store_task_get(ops.st, id, &t, &err)) != 0)
        return diag_report(&err);
    jv order = jv_object_get(jv_copy(t), jv_string("order"));
    rc = store_order_get(ops.st, (int64_t)jv_number_value(order), &o, &err);
    jv_free(order);
    if (rc != 0) {
        jv_free(t);
        return diag_report(&err);
    }
    jv doc = jv_object_merge(JV_OBJECT(jv_string("kind"), jv_string("task")), task_times(t));
    doc = jv_object_set(doc, jv_string("orderDocument"), order_document(&o));
    order_rec_free(&o);
    jv history;
    if ((rc = store_task_events(ops.st, id, &history, &err)) != 0) {
        jv_free(doc);
        jv_free(history);
        return diag_report(&err);
    }
    jv events = jv_array();
    jv_array_foreach(history, i, ev) {
        char buf[CLOCK_RFC3339_MAX];
        events = jv_array_append(events, jv_object_set(ev, jv_string("at"),
                                                       jv_string(when(ev, "at", buf))));
    }
    jv_free(history);
    doc = jv_object_set(doc, jv_string("history"), events);
    return cli_emit(doc, opt.json_flags);
}

static int
task_verb(const char *verb, int argc, char **argv)
{
    osm_err err = { 0, "" };
    int64_t id;
    jv data = jv_null(), doc;
    int rc;

    if (argc != 1 || cli_parse_id(argv[0], &id) != 0)
        return usage_error("%s: expected one task id", verb);
    if (strcmp(verb, "show") == 0)
        return cmd_show(id);
    if (strcmp(verb, "assign") == 0 && !opt.to)
        return usage_error("assign: --to USER is required%s", "");
    if ((strcmp(verb, "fail") == 0 || strcmp(verb, "skip") == 0) && !opt.reason)
        return usage_error("%s: --reason is required", verb);
    if ((rc = read_data(&data)) != 0)
        return rc;
    rc = taskops_task(&ops, verb, id, opt.to, opt.status, opt.reason, data, &doc, &err);
    if (rc != 0)
        return diag_report(&err);
    return cli_emit(task_times(doc), opt.json_flags);
}

/* One answer of the stream given to respond. */
static int
answer(jv v, const char *source, long line, void *ctx)
{
    osm_err err = { 0, "" };
    jv doc;
    int kept;
    (void)ctx;
    int rc = respond_deliver(ops.st, ops.cat, ops.user, opt.correlation, v, &doc, &kept, &err);
    if (rc != 0) {
        if (rc == OSM_EDATA)
            osm_err_prefix(&err, "%s:%ld", source, line);
        return diag_report(&err);
    }
    if (kept) {
        jv o = jv_object_get(jv_copy(doc), jv_string("order"));
        jv s = jv_object_get(jv_copy(doc), jv_string("orderState"));
        diag_info("order %.0f is %s: the answer is kept until it resumes", jv_number_value(o),
                  jv_string_value(s));
        jv_free(o);
        jv_free(s);
    }
    return cli_emit(task_times(doc), opt.json_flags);
}

/* respond --correlation ID [FILE|-]: answers (one or more JSON objects) in order. */
static int
cmd_respond(int argc, char **argv)
{
    osm_err err = { 0, "" };
    if (!opt.correlation)
        return usage_error("respond: --correlation ID is required%s", "");
    if (argc > 1)
        return usage_error("respond: at most one FILE%s", "");
    /* answers stand for external systems: not anyone's to give in setgid mode */
    if (taskops_may_operate(&ops, "respond", &err) != 0)
        return diag_report(&err);
    if (argc == 0 && cli_stdin_is_terminal()) {
        fputs(usage_text, stderr);
        return OSM_EUSAGE;
    }
    return cli_inputs(argc, argv, 0, answer, NULL);
}

typedef struct order_op {
    const char *op;
    int worst;
} order_op;

static int
apply(order_op *o, int64_t id)
{
    osm_err err = { 0, "" };
    jv doc;
    int rc = taskops_order(&ops, o->op, id, opt.reason, &doc, &err);
    if (rc != 0)
        return diag_report(&err);
    return cli_emit(doc, opt.json_flags);
}

static int
order_input(jv v, const char *source, long line, void *ctx)
{
    int64_t id;
    int rc = cli_order_id(v, &id);
    jv_free(v);
    if (rc != 0) {
        diag_error("%s:%ld: expected an order id or an order document", source, line);
        return OSM_EDATA;
    }
    return apply(ctx, id);
}

static int
order_verb(const char *op, int argc, char **argv)
{
    order_op o = { op, 0 };
    if ((strcmp(op, "abort") == 0 || strcmp(op, "fail") == 0) && !opt.reason)
        return usage_error("%s: --reason is required", op);
    if (argc == 0) {
        /* orders from a terminal: the user did not mean to type them */
        if (cli_stdin_is_terminal()) {
            fputs(usage_text, stderr);
            return OSM_EUSAGE;
        }
        return cli_inputs(0, NULL, 0, order_input, &o);
    }
    for (int i = 0; i < argc; i++)
        if (!cli_id_arg_ok(argv[i]))
            return cli_bad_id(argv[i]), usage_error(NULL, NULL);
    for (int i = 0; i < argc && o.worst < CLI_STOP; i++) {
        osm_err err = { 0, "" };
        int64_t id;
        if (strcmp(argv[i], "-") == 0)
            o.worst = osm_worst(o.worst, cli_inputs(0, NULL, 0, order_input, &o));
        else if (cli_resolve_id(ops.st, argv[i], &id, &err) != 0)
            o.worst = osm_worst(o.worst, diag_report(&err));
        else
            o.worst = osm_worst(o.worst, apply(&o, id));
    }
    return o.worst;
}

/* Is name a workgroup declared by a deployed cartridge?  Then it exists. */
static int
declared(const char *name, osm_err *err)
{
    jv list;
    int found = 0, fallout = 0, rc;
    char cart[128] = "";
    if ((rc = store_cartridge_list(ops.st, &list, err)) != 0)
        return rc;
    jv_array_foreach(list, i, c) {
        jv n = jv_object_get(jv_copy(c), jv_string("name"));
        jv v = jv_object_get(c, jv_string("version"));
        store_cartridge sc = { 0 };
        if (!found && store_cartridge_get(ops.st, jv_string_value(n), jv_string_value(v), 0, &sc,
                                          NULL) == 0) {
            jv m = jv_parse(sc.manifest);
            jv wg = jv_object_get(jv_object_get(m, jv_string("workgroups")), jv_string(name));
            if (jv_get_kind(wg) == JV_KIND_OBJECT) {
                found = 1;
                jv f = jv_object_get(jv_copy(wg), jv_string("fallout"));
                fallout = jv_get_kind(f) == JV_KIND_TRUE;
                jv_free(f);
                snprintf(cart, sizeof cart, "%s", sc.name);
            }
            jv_free(wg);
            store_cartridge_free(&sc);
        }
        jv_free(n);
        jv_free(v);
    }
    jv_free(list);
    if (found)
        return store_workgroup_ensure(ops.st, name, cart, fallout, clock_now(), err);
    return OSM_ENOINPUT;
}

static int
cmd_workgroup(int argc, char **argv)
{
    osm_err err = { 0, "" };
    int rc = 0;

    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        jv list;
        if (argc > 2)
            return usage_error("workgroup list: at most one workgroup%s", "");
        if ((rc = store_members(ops.st, argc == 2 ? argv[1] : NULL, &list, &err)) != 0)
            return diag_report(&err);
        jv_array_foreach(list, i, m) {
            char buf[CLOCK_RFC3339_MAX];
            jv at = jv_object_get(jv_copy(m), jv_string("addedAt"));
            int has = jv_get_kind(at) == JV_KIND_NUMBER;
            if (has)
                rfc3339_format((int64_t)jv_number_value(at), buf);
            jv_free(at);
            m = jv_object_set(m, jv_string("addedAt"), has ? jv_string(buf) : jv_null());
            rc = osm_worst(rc, cli_emit(jv_object_merge(JV_OBJECT(jv_string("kind"),
                                                                  jv_string("member")), m),
                                        opt.json_flags));
        }
        jv_free(list);
        return rc;
    }
    if (argc < 3 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "remove") != 0))
        return usage_error("workgroup: expected add|remove GROUP USER... or list [GROUP]%s", "");
    int admin = taskops_is_admin(&ops, &err);
    if (admin > 1)
        return diag_report(&err);
    if (!admin) {
        diag_error("workgroup %s: only an administrator may change workgroups", argv[1]);
        return OSM_ENOPERM;
    }
    if ((rc = store_begin(ops.st, &err)) != 0)
        return diag_report(&err);
    int exists = 0;
    if ((rc = store_workgroup_exists(ops.st, argv[1], &exists, &err)) == 0 && !exists) {
        rc = declared(argv[1], &err);
        if (rc == OSM_ENOINPUT)
            osm_fail(&err, OSM_ENOINPUT, "no such workgroup: %s (no deployed cartridge declares it)",
                     argv[1]);
    }
    for (int i = 2; i < argc && rc == 0; i++) {
        int changed;
        if (strcmp(argv[0], "add") == 0)
            rc = store_member_add(ops.st, argv[1], argv[i], ops.user, clock_now(), &changed, &err);
        else
            rc = store_member_remove(ops.st, argv[1], argv[i], &changed, &err);
        if (rc == 0 && changed)
            rc = store_event_add(ops.st, 0, 0, strcmp(argv[0], "add") == 0 ? "workgroup.add"
                                                                            : "workgroup.remove",
                                 ops.user,
                                 JV_OBJECT(jv_string("workgroup"), jv_string(argv[1]),
                                           jv_string("user"), jv_string(argv[i])),
                                 clock_now(), NULL, &err);
    }
    if (rc != 0) {
        store_rollback(ops.st);
        return diag_report(&err);
    }
    if ((rc = store_commit(ops.st, &err)) != 0)
        return diag_report(&err);
    char *args[2] = { "list", argv[1] };
    return cmd_workgroup(2, args);
}

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_FORMAT, OPT_STATUS, OPT_DATA };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "workgroup", required_argument, NULL, 'g' },
        { "state", required_argument, NULL, 's' },
        { "mine", no_argument, NULL, 'm' },
        { "order", required_argument, NULL, 'o' },
        { "to", required_argument, NULL, 't' },
        { "reason", required_argument, NULL, 'r' },
        { "correlation", required_argument, NULL, 'c' },
        { "status", required_argument, NULL, OPT_STATUS },
        { "data", required_argument, NULL, OPT_DATA },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const task_verbs[] = { "show", "claim", "release", "assign", "complete",
                                              "retry", "skip" };
    static const char *const order_verbs[] = { "suspend", "resume", "abort", "resolve" };
    osm_err err = { 0, "" };
    osm_config *conf = NULL;
    int c, rc;

    diag_init(argv[0]);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:g:w:s:mo:t:r:c:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': opt.db = optarg; break;
        case 'g':
        case 'w': opt.workgroup = optarg; break;   /* -w: the older spelling */
        case 's': opt.state = optarg; break;
        case 'm': opt.mine = 1; break;
        case 'o':   /* the older spelling of --order */
            if (!cli_id_arg_ok(optarg) || strcmp(optarg, "-") == 0)
                return usage_error("--order: \"%s\" is not an order id", optarg);
            opt.order_arg = optarg;
            break;
        case 't': opt.to = optarg; break;   /* the older spelling of --to */
        case 'r': opt.reason = optarg; break;
        case 'c': opt.correlation = optarg; break;  /* the older spelling of --correlation */
        case OPT_STATUS: opt.status = optarg; break;
        case OPT_DATA: opt.data = optarg; break;
        case OPT_PRETTY: opt.json_flags |= JSON_PRETTY; break;
        case OPT_JQ:
            if (cli_set_jq(optarg, &err) != 0) {
                return usage_error("%s", err.msg);
            }
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "table") == 0)
                opt.table = 1;
            else if (strcmp(optarg, "json") != 0)
                return usage_error("unknown format \"%s\" (json or table)", optarg);
            break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
        case 'h': fputs(usage_text, stdout); return cli_finish_output();
        case 'V': cli_version(); return cli_finish_output();
        default: cli_bad_option(argv, optind, optopt, c, longopts); return usage_error(NULL, NULL);
        }
    }
    if (optind >= argc)
        return usage_error("missing verb%s", "");
    const char *verb = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    int known = strcmp(verb, "list") == 0 || strcmp(verb, "workgroup") == 0 ||
                strcmp(verb, "respond") == 0 ||
                strcmp(verb, "fail") == 0 || strcmp(verb, "order") == 0;
    for (size_t i = 0; i < sizeof task_verbs / sizeof task_verbs[0]; i++)
        known |= strcmp(verb, task_verbs[i]) == 0;
    for (size_t i = 0; i < sizeof order_verbs / sizeof order_verbs[0]; i++)
        known |= strcmp(verb, order_verbs[i]) == 0;
    if (!known) {
        static const char *const all_verbs[] = { "list", "show", "claim", "release", "assign",
                                                 "complete", "fail", "retry", "skip", "respond",
                                                 "order", "suspend", "resume", "abort",
                                                 "resolve", "workgroup", NULL };
        cli_bad_verb(verb, all_verbs);
        return usage_error(NULL, NULL);
    }
    if (opt.table && strcmp(verb, "list") != 0)
        return usage_error("--format table: \"%s\" prints documents only (list has a table)",
                           verb);
    cli_set_system_config(OSM_SYSTEM_CONFIG);
    if (cli_privileged() && opt.db)
        return usage_error("-d: a setgid osm-task uses the store that %s names", OSM_SYSTEM_CONFIG);
    if (clock_init(&err) != 0)
        return diag_report(&err);
    /* list, show and workgroup list only read: anyone who may read the store may */
    int reads = strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0 ||
                (strcmp(verb, "workgroup") == 0 && nargs >= 1 && strcmp(args[0], "list") == 0);
    if ((rc = cli_open(cli_db_path(opt.db), reads ? CLI_READONLY : 0, &ops.st, &conf, &err)) != 0)
        return diag_report(&err);
    if (opt.order_arg && (rc = cli_resolve_id(ops.st, opt.order_arg, &opt.order, &err)) != 0) {
        rc = diag_report(&err);
        store_close(ops.st);
        siteconf_free(conf);
        return rc;
    }
    ops.cat = catalog_new(ops.st);
    ops.conf = conf;
    ops.user = cli_user();
    ops.strict = cli_privileged();

    if (strcmp(verb, "respond") == 0) {
        rc = cmd_respond(nargs, args);
    } else if (strcmp(verb, "list") == 0) {
        rc = nargs ? usage_error("list: unexpected argument%s", "") : cmd_list();
    } else if (strcmp(verb, "workgroup") == 0) {
        rc = cmd_workgroup(nargs, args);
    } else if (strcmp(verb, "order") == 0) {
        if (nargs < 1)
            rc = usage_error("order: expected suspend, resume, abort, fail or resolve%s", "");
        else if (!taskops_order_allows(args[0], "") && strcmp(args[0], "suspend") &&
                 strcmp(args[0], "resume") && strcmp(args[0], "abort") &&
                 strcmp(args[0], "fail") && strcmp(args[0], "resolve"))
            rc = usage_error("order: unknown operation \"%s\"", args[0]);
        else
            rc = order_verb(args[0], nargs - 1, args + 1);
    } else if (strcmp(verb, "fail") == 0) {
        rc = task_verb("fail", nargs, args);
    } else {
        int is_task = 0;
        for (size_t i = 0; i < sizeof task_verbs / sizeof task_verbs[0]; i++)
            is_task |= strcmp(verb, task_verbs[i]) == 0;
        rc = is_task ? task_verb(verb, nargs, args) : order_verb(verb, nargs, args);
    }
    catalog_free(ops.cat);
    store_close(ops.st);
    siteconf_free(conf);
    return osm_worst(rc, cli_finish_output());
}
