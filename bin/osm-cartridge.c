/*
 * osm-cartridge: make, check, pack and deploy cartridges (DESIGN §5,
 * osm-cartridge(1), the format in osm-cartridge(5)); import a whole
 * store that osm-status --export wrote.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cartridge.h"
#include "carttest.h"
#include "cli.h"
#include "clock.h"
#include "db.h"
#include "embedded.h"
#include "json.h"
#include "store-export.h"
#include "store.h"
#include "termtable.h"
#include "termtext.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: osm-cartridge [-qv] [-d DB] [--jq EXPR] [--pretty] [--format json|table] VERB\n"
    "                     [ARG...]\n"
    "\n"
    "verbs:\n"
    "  init NAME [DIR]              create a cartridge skeleton in DIR (default ./NAME)\n"
    "  check DIR|FILE...            check cartridges and list every problem\n"
    "  pack DIR [-o FILE]           pack into NAME-VERSION.osmc, reproducibly\n"
    "  deploy [-n] DIR|FILE...      check and deploy into the order store\n"
    "  undeploy NAME@VERSION [--force]\n"
    "                               remove a deployed version\n"
    "  list                         list deployed cartridges\n"
    "  show NAME[@VERSION]          show a deployed cartridge and its manifest\n"
    "  export NAME@VERSION [-o FILE]\n"
    "                               write a deployed cartridge's archive\n"
    "  default NAME@VERSION         make VERSION the default for new orders\n"
    "  test [--progress] DIR|FILE...\n"
    "                               run the cartridge's tests (TAP)\n"
    "  import [FILE|-]              load an export (osm-status --export) into an\n"
    "                               empty order store\n"
    "\n"
    "options:\n"
    "  -d, --db DB          order store: a file or a postgresql:// URI\n"
    "                       (default $OSM_DB, else ./osm.db)\n"
    "  -o, --output FILE    where pack and export write ('-' for stdout)\n"
    "      --force          undeploy even while open orders use the version\n"
    "  -n, --dry-run        deploy: check and say what would be deployed; change nothing\n"
    "      --progress       test: show progress on standard error even off a terminal\n"
    "      --format json|table\n"
    "                       list and check: the output (default json)\n"
    "      --jq EXPR        print what jq EXPR makes of each JSON document\n"
    "      --pretty         indent JSON output\n"
    "  -q, --quiet          no warnings\n"
    "  -v, --verbose        more messages\n"
    "  -h, --help           show this help\n"
    "  -V, --version        show the version\n";

static struct {
    const char *db;
    const char *output;
    int force;
    int dry_run;
    int progress;
    int table;
    int json_flags;
} opt;

static int
usage_error(const char *fmt, const char *arg)
{
    if (fmt)
        diag_error(fmt, arg);
    fprintf(stderr, "Try 'osm-cartridge --help' for more information.\n");
    return OSM_EUSAGE;
}

/* Split "NAME@VERSION" (version optional unless need_version). */
static int
parse_ref(const char *ref, int need_version, char **name, char **version)
{
    const char *at = strchr(ref, '@');
    *name = *version = NULL;
    if (!at) {
        if (need_version || !*ref)
            return -1;
        *name = xstrdup(ref);
        return 0;
    }
    if (at == ref || !at[1])
        return -1;
    *name = xstrndup(ref, (size_t)(at - ref));
    *version = xstrdup(at + 1);
    return 0;
}

/* Open the store as cli_open()'s mode says. */
static int
open_store(int mode, store **st, osm_config **conf)
{
    osm_err err = { 0, "" };
    if (cli_open(cli_db_path(opt.db), mode, st, conf, &err) != 0)
        return diag_report(&err);
    return 0;
}

static void close_store(store *st, osm_config *conf);

/*
 * The administrator rule for verb (deploy, undeploy, default, import),
 * which acts on what ("cartridges", "order stores"): 0, or the status
 * with the message printed and the store closed.
 */
static int
admin_only(const char *verb, const char *what, store *st, osm_config *conf)
{
    osm_err err = { 0, "" };
    int admin = cli_is_admin(conf, &err);
    if (admin == 1)
        return 0;
    if (admin > 1) {
        diag_report(&err);
    } else {
        char owner[64] = "";
        if (conf->store_owner >= 0) {
            struct passwd *pw = getpwuid((uid_t)conf->store_owner);
            snprintf(owner, sizeof owner, "%s", pw ? pw->pw_name : "");
        }
        diag_error("%s: only an administrator may %s %s (root, the store's owner%s%s%s%s)",
                   verb, verb, what, *owner ? " " : "", owner,
                   conf->admin_group ? ", or a member of group " : "",
                   conf->admin_group ? conf->admin_group : "");
        admin = OSM_ENOPERM;
    }
    close_store(st, conf);
    return admin;
}

static void
close_store(store *st, osm_config *conf)
{
    store_close(st);
    siteconf_free(conf);
}

/* ------------------------------------------------------------ check */

static void
print_problems(const char *origin, jv list, int warning)
{
    jv_array_foreach(list, i, p) {
        jv file = jv_object_get(jv_copy(p), jv_string("file"));
        jv path = jv_object_get(jv_copy(p), jv_string("path"));
        jv msg = jv_object_get(p, jv_string("message"));
        const char *fmt = warning ? "%s: %s: %s: warning: %s" : "%s: %s: %s: %s";
        if (warning)
            diag_warn(fmt, origin, jv_string_value(file), jv_string_value(path),
                      jv_string_value(msg));
        else
            diag_error(fmt, origin, jv_string_value(file), jv_string_value(path),
                       jv_string_value(msg));
        jv_free(file);
        jv_free(path);
        jv_free(msg);
    }
}

/*
 * Load and check one cartridge, reporting problems on stderr.  Returns 0
 * with *out set when valid; otherwise a status (78 for problems) and
 * *out NULL.  When report is non-NULL it receives the check document.
 */
static int
load_checked(const char *path, cartridge **out, jv *report)
{
    osm_err err = { 0, "" };
    cartridge *c;
    jv problems, warnings;
    int rc, n;

    *out = NULL;
    if ((rc = cartridge_load_path(path, &c, &err)) != 0) {
        diag_report(&err);
        if (report) {
            jv p = JV_OBJECT(jv_string("file"), jv_string(path), jv_string("path"),
                             jv_string("."), jv_string("message"), jv_string(err.msg));
            *report = JV_OBJECT(jv_string("kind"), jv_string("check"), jv_string("source"),
                                jv_string(path), jv_string("valid"), jv_false(),
                                jv_string("problems"), JV_ARRAY(p), jv_string("warnings"),
                                jv_array());
        }
        return rc;
    }
    n = cartridge_check(c, &problems, &warnings);
    print_problems(path, problems, 0);
    print_problems(path, warnings, 1);
    if (report) {
        jv r = JV_OBJECT(jv_string("kind"), jv_string("check"), jv_string("source"),
                         jv_string(path));
        r = jv_object_set(r, jv_string("cartridge"),
                          c->name ? jv_string(c->name) : jv_null());
        r = jv_object_set(r, jv_string("version"),
                          c->version ? jv_string(c->version) : jv_null());
        r = jv_object_set(r, jv_string("valid"), jv_bool(n == 0));
        r = jv_object_set(r, jv_string("problems"), jv_copy(problems));
        r = jv_object_set(r, jv_string("warnings"), jv_copy(warnings));
        *report = r;
    }
    jv_free(problems);
    jv_free(warnings);
    if (n > 0) {
        cartridge_free(c);
        return OSM_ECONFIG;
    }
    *out = c;
    return 0;
}

static int
cmd_check(int argc, char **argv)
{
    int worst = 0;
    if (argc < 1)
        return usage_error("check: name at least one cartridge directory or archive%s", "");
    for (int i = 0; i < argc; i++) {
        cartridge *c;
        jv report;
        int rc = load_checked(argv[i], &c, &report);
        worst = osm_worst(worst, rc);
        if (opt.table) {
            jv problems = jv_object_get(jv_copy(report), jv_string("problems"));
            termtext_line(stdout, "%-40s %s", argv[i], rc == 0 ? "ok" : "FAILED");
            jv_array_foreach(problems, k, p) {
                jv file = jv_object_get(jv_copy(p), jv_string("file"));
                jv path = jv_object_get(jv_copy(p), jv_string("path"));
                jv msg = jv_object_get(p, jv_string("message"));
                termtext_line(stdout, "    %s: %s: %s", jv_string_value(file),
                              jv_string_value(path), jv_string_value(msg));
                jv_free(file);
                jv_free(path);
                jv_free(msg);
            }
            jv_free(problems);
            jv_free(report);
        } else if (cli_emit(report, opt.json_flags) != 0) {
            worst = osm_worst(worst, OSM_EIO);
        }
        cartridge_free(c);
    }
    return worst;
}

/* ------------------------------------------------------------ pack */

static int
cmd_pack(int argc, char **argv)
{
    osm_err err = { 0, "" };
    cartridge *c;
    void *buf;
    size_t len;
    char sha[65];
    int rc;

    if (argc != 1)
        return usage_error("pack: name one cartridge directory%s", "");
    if ((rc = load_checked(argv[0], &c, NULL)) != 0)
        return rc;
    if ((rc = cartridge_pack(c, &buf, &len, sha, &err)) != 0) {
        cartridge_free(c);
        return diag_report(&err);
    }
    char *out = opt.output ? xstrdup(opt.output)
                           : xasprintf("%s-%s.osmc", c->name, c->version);
    rc = cli_write_file(out, buf, len);
    if (rc == 0 && strcmp(out, "-") != 0)
        rc = cli_emit(JV_OBJECT(jv_string("kind"), jv_string("archive"), jv_string("name"),
                                jv_string(c->name), jv_string("version"),
                                jv_string(c->version), jv_string("file"), jv_string(out),
                                jv_string("sha256"), jv_string(sha), jv_string("size"),
                                jv_number((double)len)),
                      opt.json_flags);
    free(out);
    free(buf);
    cartridge_free(c);
    return rc;
}

/* ------------------------------------------------------------ init */

static int
mkdirs(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static char *
substitute(const char *text, const char *name)
{
    strbuf sb = STRBUF_INIT;
    const char *p = text, *q;
    while ((q = strstr(p, "@NAME@"))) {
        sb_add(&sb, p, (size_t)(q - p));
        sb_adds(&sb, name);
        p = q + 6;
    }
    sb_adds(&sb, p);
    return sb_detach(&sb, NULL);
}

static int
cmd_init(int argc, char **argv)
{
    const char *name, *dir;
    int n = 0;

    if (argc < 1 || argc > 2)
        return usage_error("init: expected NAME [DIR]%s", "");
    name = argv[0];
    dir = argc == 2 ? argv[1] : argv[0];
    if (!islower((unsigned char)name[0]) || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name) ||
        strlen(name) > 63)
        return usage_error("init: \"%s\" is not a cartridge name (lowercase letters, digits, - and _)", name);
    if (mkdir(dir, 0777) != 0) {
        if (errno == EEXIST) {
            diag_error("%s: the directory exists already: choose another, as in "
                       "\"osm-cartridge init %s DIR\", or remove it first", dir, name);
            return OSM_ECANTCREAT;
        }
        diag_error("%s: %s", dir, strerror(errno));
        return OSM_EIO;
    }
    /* read it back (umask() has no query form): hooks are 0777 less it */
    mode_t mask = umask(0);
    umask(mask);
    for (const struct embedded_file *f = embedded_list(); f->name; f++) {
        if (strncmp(f->name, "skeleton/", 9) != 0)
            continue;
        char *path = xasprintf("%s/%s", dir, f->name + 9);
        char *text = substitute(f->data, name);
        int exec = strncmp(f->name + 9, "hooks/", 6) == 0;
        FILE *fp;
        if (mkdirs(path) != 0 || !(fp = fopen(path, "w"))) {
            diag_error("%s: %s", path, strerror(errno));
            free(path);
            free(text);
            return OSM_EIO;
        }
        fputs(text, fp);
        if (fclose(fp) != 0 || (exec && chmod(path, 0777 & ~mask) != 0)) {
            diag_error("%s: %s", path, strerror(errno));
            free(path);
            free(text);
            return OSM_EIO;
        }
        free(path);
        free(text);
        n++;
    }
    return cli_emit(JV_OBJECT(jv_string("kind"), jv_string("cartridge-source"),
                              jv_string("name"), jv_string(name), jv_string("path"),
                              jv_string(dir), jv_string("files"), jv_number(n)),
                    opt.json_flags);
}

/*
 * test DIR|FILE...: each cartridge's tests/NAME.order.json through a
 * throwaway store, TAP on stdout; 1 when any test failed.
 */
static int
cmd_test(int argc, char **argv)
{
    int rc = 0;
    if (argc < 1)
        return usage_error("test: expected a cartridge directory or archive%s", "");
    for (int i = 0; i < argc; i++) {
        osm_err err = { 0, "" };
        int failed = 0, r;
        if (argc > 1)
            printf("# %s\n", argv[i]);
        progress *pg = progress_new("tests", progress_mode(opt.progress));
        r = carttest_run(argv[i], stdout, pg, &failed, &err);
        progress_finish(pg);
        if (r != 0) {
            rc = osm_worst(rc, diag_report(&err));
            continue;
        }
        if (failed) {
            diag_error("%s: %d test%s failed", argv[i], failed, failed == 1 ? "" : "s");
            rc = osm_worst(rc, OSM_NEGATIVE);
        }
    }
    return rc;
}

/* ------------------------------------------------------------ store verbs */

static jv
cartridge_doc(const store_cartridge *sc)
{
    char when[CLOCK_RFC3339_MAX];
    rfc3339_format(sc->deployed_at, when);
    return JV_OBJECT(jv_string("kind"), jv_string("cartridge"), jv_string("name"),
                     jv_string(sc->name), jv_string("version"), jv_string(sc->version),
                     jv_string("sha256"), jv_string(sc->sha256), jv_string("deployedAt"),
                     jv_string(when), jv_string("default"), jv_bool(sc->is_default));
}

/*
 * Deploy checked cartridge c (consumed), loaded from path, into st; with
 * --dry-run, do everything in a transaction that is rolled back, or,
 * without a store (st NULL), only pack it.  Prints the cartridge document.
 */
static int
deploy_one(store *st, const char *path, cartridge *c)
{
    osm_err err = { 0, "" };
    store_cartridge sc = { 0 };
    void *buf = NULL;
    size_t len;
    char sha[65];
    int rc, created = 0;
    jv others = jv_invalid();

    if ((rc = cartridge_pack(c, &buf, &len, sha, &err)) != 0)
        goto fail;
    if (!st) {
        /* --dry-run and no store yet: deploying would create it */
        rc = cli_emit(JV_OBJECT(jv_string("kind"), jv_string("cartridge"), jv_string("name"),
                                jv_string(c->name), jv_string("version"), jv_string(c->version),
                                jv_string("sha256"), jv_string(sha), jv_string("deployed"),
                                jv_true(), jv_string("dryRun"), jv_true()),
                      opt.json_flags);
        free(buf);
        cartridge_free(c);
        return rc;
    }
    /* warn about recognition that depends on deployment order */
    if (store_cartridge_list(st, &others, &err) != 0)
        goto fail;
    jv_array_foreach(others, i, o) {
        jv name = jv_object_get(jv_copy(o), jv_string("name"));
        jv def = jv_object_get(jv_copy(o), jv_string("default"));
        if (strcmp(jv_string_value(name), c->name) != 0 && jv_get_kind(def) == JV_KIND_TRUE) {
            store_cartridge oc = { 0 };
            jv ver = jv_object_get(jv_copy(o), jv_string("version"));
            if (store_cartridge_get(st, jv_string_value(name), jv_string_value(ver), 0, &oc,
                                    NULL) == 0) {
                jv clashes = cartridge_relevancy_clashes(c, jv_parse(oc.manifest));
                jv_array_foreach(clashes, k, w) {
                    diag_warn("%s: warning: %s", path, jv_string_value(w));
                    jv_free(w);
                }
                jv_free(clashes);
                store_cartridge_free(&oc);
            }
            jv_free(ver);
        }
        jv_free(name);
        jv_free(def);
        jv_free(o);
    }
    jv_free(others);

    const cart_file *m = cart_files_get(&c->files, "cartridge.json");
    sc.name = c->name;
    sc.version = c->version;
    sc.sha256 = sha;
    sc.manifest = xstrndup((const char *)m->data, m->size);
    sc.archive = buf;
    sc.archive_len = len;
    sc.deployed_at = clock_now();
    if ((rc = store_begin(st, &err)) != 0)
        goto fail;
    if ((rc = store_cartridge_put(st, &sc, &created, &err)) != 0 ||
        (created && (rc = store_event_add(st, 0, 0, "cartridge.deployed", cli_user(),
                                          JV_OBJECT(jv_string("name"), jv_string(c->name),
                                                    jv_string("version"), jv_string(c->version),
                                                    jv_string("sha256"), jv_string(sha)),
                                          sc.deployed_at, NULL, &err)) != 0)) {
        store_rollback(st);
        goto fail;
    }
    if (opt.dry_run) {
        store_rollback(st);
        rc = cli_emit(JV_OBJECT(jv_string("kind"), jv_string("cartridge"), jv_string("name"),
                                jv_string(c->name), jv_string("version"), jv_string(c->version),
                                jv_string("sha256"), jv_string(sha), jv_string("deployed"),
                                jv_bool(created), jv_string("dryRun"), jv_true()),
                      opt.json_flags);
        free(sc.manifest);
        free(buf);
        cartridge_free(c);
        return rc;
    }
    if ((rc = store_commit(st, &err)) != 0)
        goto fail;
    store_cartridge got = { 0 };
    if ((rc = store_cartridge_get(st, c->name, c->version, 0, &got, &err)) != 0)
        goto fail;
    jv doc = cartridge_doc(&got);
    doc = jv_object_set(doc, jv_string("deployed"), jv_bool(created));
    if (!created)
        diag_info("%s@%s is already deployed with the same contents", c->name, c->version);
    store_cartridge_free(&got);
    rc = cli_emit(doc, opt.json_flags);
    free(sc.manifest);
    free(buf);
    cartridge_free(c);
    return rc;
fail:
    free(sc.manifest);
    free(buf);
    cartridge_free(c);
    return diag_report(&err);
}

static int
cmd_deploy(int argc, char **argv)
{
    store *st;
    osm_config *conf;
    int rc, worst = 0;

    if (argc < 1)
        return usage_error("deploy: name at least one cartridge directory or archive%s", "");
    st = NULL;
    conf = NULL;
    for (int i = 0; i < argc; i++) {
        /* check first: a broken cartridge leaves no store behind */
        cartridge *c;
        if ((rc = load_checked(argv[i], &c, NULL)) != 0) {
            worst = osm_worst(worst, rc);
            continue;
        }
        /* --dry-run: never create the store; without one, everything is new */
        const char *path = cli_db_path(opt.db);
        int no_store = opt.dry_run && !db_is_pg_name(path) && access(path, F_OK) != 0;
        if (opt.dry_run && !st && db_is_pg_name(path)) {
            /* a PostgreSQL store is known only by asking: an empty schema is none */
            osm_err e = { 0, "" };
            if ((rc = cli_open(path, 0, &st, &conf, &e)) == OSM_ENOINPUT) {
                no_store = 1;
            } else if (rc != 0 || (rc = admin_only("deploy", "cartridges", st, conf)) != 0) {
                if (rc && e.code)
                    diag_report(&e);
                cartridge_free(c);
                return osm_worst(worst, rc);
            }
        }
        if (!st && !no_store &&
            ((rc = open_store(opt.dry_run ? 0 : CLI_CREATE, &st, &conf)) != 0 ||
             (rc = admin_only("deploy", "cartridges", st, conf)) != 0)) {
            cartridge_free(c);
            return osm_worst(worst, rc);
        }
        worst = osm_worst(worst, deploy_one(st, argv[i], c));
    }
    if (st)
        close_store(st, conf);
    return worst;
}

static int
cmd_list(int argc, char **argv)
{
    osm_err err = { 0, "" };
    store *st;
    osm_config *conf;
    jv list;
    int rc;

    (void)argv;
    if (argc != 0)
        return usage_error("list: unexpected argument%s", "");
    if ((rc = open_store(CLI_READONLY, &st, &conf)) != 0)
        return rc;
    if ((rc = store_cartridge_list(st, &list, &err)) != 0) {
        close_store(st, conf);
        return diag_report(&err);
    }
    termtable *tt = NULL;
    if (opt.table) {
        static const char *const head[] = { "NAME", "VERSION", "DEFAULT", "OPEN", "DEPLOYED",
                                            "SHA256" };
        tt = termtable_new(6);
        for (size_t k = 0; k < 6; k++)
            termtable_cell(tt, head[k]);
    }
    jv_array_foreach(list, i, c) {
        jv ms = jv_object_get(jv_copy(c), jv_string("deployedAt"));
        char when[CLOCK_RFC3339_MAX];
        int64_t deployed = (int64_t)jv_number_value(ms);
        rfc3339_format(deployed, when);
        jv_free(ms);
        jv doc = jv_object_merge(JV_OBJECT(jv_string("kind"), jv_string("cartridge")), c);
        doc = jv_object_set(doc, jv_string("deployedAt"), jv_string(when));
        if (opt.table) {
            jv name = jv_object_get(jv_copy(doc), jv_string("name"));
            jv ver = jv_object_get(jv_copy(doc), jv_string("version"));
            jv def = jv_object_get(jv_copy(doc), jv_string("default"));
            jv open = jv_object_get(jv_copy(doc), jv_string("openOrders"));
            jv sha = jv_object_get(doc, jv_string("sha256"));
            char at[TERMTABLE_TIME_MAX];
            termtable_cell(tt, jv_string_value(name));
            termtable_cell(tt, jv_string_value(ver));
            termtable_cell(tt, jv_get_kind(def) == JV_KIND_TRUE ? "yes" : NULL);
            termtable_cellf(tt, "%.0f", jv_number_value(open));
            termtable_cell(tt, termtable_time(deployed, at));
            termtable_cellf(tt, "%.12s", jv_string_value(sha));
            jv_free(name);
            jv_free(ver);
            jv_free(def);
            jv_free(open);
            jv_free(sha);
        } else if (cli_emit(doc, opt.json_flags) != 0) {
            rc = OSM_EIO;
        }
    }
    if (tt)
        rc = osm_worst(rc, termtable_print(tt, stdout));
    jv_free(list);
    close_store(st, conf);
    return rc;
}

static int
lookup(const char *ref, int need_version, int with_archive, int mode, store **st,
       osm_config **conf, store_cartridge *sc)
{
    osm_err err = { 0, "" };
    char *name, *version;
    int rc;

    if (parse_ref(ref, need_version, &name, &version) != 0)
        return usage_error(need_version ? "expected NAME@VERSION, got \"%s\""
                                        : "expected NAME[@VERSION], got \"%s\"", ref);
    if ((rc = open_store(mode, st, conf)) != 0)
        goto out;
    if ((rc = store_cartridge_get(*st, name, version, with_archive, sc, &err)) != 0) {
        diag_report(&err);
        close_store(*st, *conf);
    }
out:
    free(name);
    free(version);
    return rc;
}

static int
cmd_show(int argc, char **argv)
{
    osm_err err = { 0, "" };
    store *st;
    osm_config *conf;
    store_cartridge sc = { 0 };
    cart_files files;
    int rc;

    if (argc != 1)
        return usage_error("show: expected NAME[@VERSION]%s", "");
    if ((rc = lookup(argv[0], 0, 1, CLI_READONLY, &st, &conf, &sc)) != 0)
        return rc;
    int64_t open = 0;
    if (store_cartridge_open_orders(st, sc.name, sc.version, &open, &err) != 0) {
        rc = diag_report(&err);
        goto out;
    }
    jv manifest = jv_parse(sc.manifest);
    if (!jv_is_valid(manifest)) {
        jv_free(manifest);
        diag_error("%s@%s: the order store is damaged: its manifest is not JSON", sc.name,
                   sc.version);
        rc = OSM_EIO;
        goto out;
    }
    jv doc = cartridge_doc(&sc);
    doc = jv_object_set(doc, jv_string("openOrders"), jv_number((double)open));
    doc = jv_object_set(doc, jv_string("manifest"), manifest);
    if ((rc = cart_files_from_archive(sc.archive, sc.archive_len, argv[0], &files, &err)) != 0) {
        jv_free(doc);
        rc = diag_report(&err);
        goto out;
    }
    jv list = jv_array();
    for (size_t i = 0; i < files.n; i++)
        list = jv_array_append(list, JV_OBJECT(jv_string("path"), jv_string(files.v[i].path),
                                               jv_string("size"), jv_number((double)files.v[i].size),
                                               jv_string("executable"),
                                               jv_bool(files.v[i].executable)));
    cart_files_free(&files);
    doc = jv_object_set(doc, jv_string("files"), list);
    rc = cli_emit(doc, opt.json_flags);
out:
    store_cartridge_free(&sc);
    close_store(st, conf);
    return rc;
}

static int
cmd_export(int argc, char **argv)
{
    store *st;
    osm_config *conf;
    store_cartridge sc = { 0 };
    int rc;

    if (argc != 1)
        return usage_error("export: expected NAME@VERSION%s", "");
    if ((rc = lookup(argv[0], 1, 1, CLI_READONLY, &st, &conf, &sc)) != 0)
        return rc;
    rc = cli_write_file(opt.output ? opt.output : "-", sc.archive, sc.archive_len);
    store_cartridge_free(&sc);
    close_store(st, conf);
    return rc;
}

static int
cmd_default(int argc, char **argv)
{
    osm_err err = { 0, "" };
    store *st;
    osm_config *conf;
    store_cartridge sc = { 0 };
    int rc;

    if (argc != 1)
        return usage_error("default: expected NAME@VERSION%s", "");
    if ((rc = lookup(argv[0], 1, 0, 0, &st, &conf, &sc)) != 0)
        return rc;
    if ((rc = admin_only("default", "cartridges", st, conf)) != 0) {
        store_cartridge_free(&sc);
        return rc;
    }
    if ((rc = store_begin(st, &err)) == 0) {
        if ((rc = store_cartridge_set_default(st, sc.name, sc.version, &err)) != 0 ||
            (rc = store_event_add(st, 0, 0, "cartridge.default", cli_user(),
                                  JV_OBJECT(jv_string("name"), jv_string(sc.name),
                                            jv_string("version"), jv_string(sc.version)),
                                  clock_now(), NULL, &err)) != 0)
            store_rollback(st);
        else
            rc = store_commit(st, &err);
    }
    if (rc != 0) {
        rc = diag_report(&err);
    } else {
        store_cartridge_free(&sc);
        memset(&sc, 0, sizeof sc);
        char *name, *version;
        parse_ref(argv[0], 1, &name, &version);
        if ((rc = store_cartridge_get(st, name, version, 0, &sc, &err)) == 0)
            rc = cli_emit(cartridge_doc(&sc), opt.json_flags);
        else
            rc = diag_report(&err);
        free(name);
        free(version);
    }
    store_cartridge_free(&sc);
    close_store(st, conf);
    return rc;
}

static int
cmd_undeploy(int argc, char **argv)
{
    osm_err err = { 0, "" };
    store *st;
    osm_config *conf;
    store_cartridge sc = { 0 };
    int64_t open = 0, aborted = 0;
    int rc;

    if (argc != 1)
        return usage_error("undeploy: expected NAME@VERSION%s", "");
    if ((rc = lookup(argv[0], 1, 0, 0, &st, &conf, &sc)) != 0)
        return rc;
    if ((rc = admin_only("undeploy", "cartridges", st, conf)) != 0) {
        store_cartridge_free(&sc);
        return rc;
    }
    if ((rc = store_begin(st, &err)) != 0)
        goto fail;
    if ((rc = store_cartridge_open_orders(st, sc.name, sc.version, &open, &err)) != 0)
        goto rollback;
    if (open > 0 && !opt.force) {
        rc = osm_fail(&err, OSM_NEGATIVE,
                      "%s@%s: %lld open order%s use%s this version: finish them, or use "
                      "--force to abort them",
                      sc.name, sc.version, (long long)open, open == 1 ? "" : "s",
                      open == 1 ? "s" : "");
        goto rollback;
    }
    if (open > 0 &&
        (rc = store_cartridge_abort_orders(st, sc.name, sc.version, cli_user(),
                                           "cartridge undeployed", clock_now(), &aborted,
                                           &err)) != 0)
        goto rollback;
    if ((rc = store_cartridge_remove(st, sc.name, sc.version, &err)) != 0)
        goto rollback;
    if ((rc = store_event_add(st, 0, 0, "cartridge.undeployed", cli_user(),
                              JV_OBJECT(jv_string("name"), jv_string(sc.name),
                                        jv_string("version"), jv_string(sc.version),
                                        jv_string("abortedOrders"), jv_number((double)aborted)),
                              clock_now(), NULL, &err)) != 0)
        goto rollback;
    if ((rc = store_commit(st, &err)) != 0)
        goto fail;
    rc = cli_emit(JV_OBJECT(jv_string("kind"), jv_string("cartridge"), jv_string("name"),
                            jv_string(sc.name), jv_string("version"), jv_string(sc.version),
                            jv_string("undeployed"), jv_true(), jv_string("abortedOrders"),
                            jv_number((double)aborted)),
                  opt.json_flags);
    store_cartridge_free(&sc);
    close_store(st, conf);
    return rc;
rollback:
    store_rollback(st);
fail:
    store_cartridge_free(&sc);
    close_store(st, conf);
    return diag_report(&err);
}

/*
 * import [FILE|-]: a stream of osm-status --export into an empty store,
 * created when missing, in one transaction; prints the summary.
 */
static int
cmd_import(int argc, char **argv)
{
    osm_err err = { 0, "" };
    const char *path = argc == 1 ? argv[0] : "-";
    int from_stdin = strcmp(path, "-") == 0;
    store *st;
    osm_config *conf;
    FILE *in;
    jv summary;
    int rc;

    if (argc > 1)
        return usage_error("import: expected one FILE or -%s", "");
    if (opt.dry_run)
        return usage_error("import: no --dry-run: import into a new store to try a stream%s", "");
    if (from_stdin && cli_stdin_is_terminal())
        return usage_error("import: standard input is a terminal: pipe in an export or "
                           "name its file%s", "");
    if (!(in = from_stdin ? stdin : fopen(path, "r"))) {
        diag_error("%s: %s", path, strerror(errno));
        return errno == ENOENT ? OSM_ENOINPUT : OSM_EIO;
    }
    if ((rc = open_store(CLI_CREATE, &st, &conf)) != 0 ||
        (rc = admin_only("import", "order stores", st, conf)) != 0) {
        if (!from_stdin)
            fclose(in);
        return rc;
    }
    rc = store_import(st, in, from_stdin ? "<stdin>" : path, &summary, &err);
    if (!from_stdin)
        fclose(in);
    close_store(st, conf);
    if (rc != 0)
        return diag_report(&err);
    return cli_emit(summary, opt.json_flags);
}

/* ------------------------------------------------------------ main */

static const struct verb {
    const char *name;
    int (*fn)(int, char **);
} verbs[] = {
    { "init", cmd_init },         { "check", cmd_check },   { "pack", cmd_pack },
    { "deploy", cmd_deploy },     { "undeploy", cmd_undeploy }, { "list", cmd_list },
    { "show", cmd_show },         { "export", cmd_export }, { "default", cmd_default },
    { "test", cmd_test },         { "import", cmd_import },
};

int
main(int argc, char **argv)
{
    enum { OPT_PRETTY = 256, OPT_JQ, OPT_FORMAT, OPT_PROGRESS };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "output", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "dry-run", no_argument, NULL, 'n' },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "pretty", no_argument, NULL, OPT_PRETTY },
        { "jq", required_argument, NULL, OPT_JQ },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    osm_err err = { 0, "" };
    int c, rc;

    diag_init(argv[0]);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:o:fnqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': opt.db = optarg; break;
        case 'o': opt.output = optarg; break;
        case 'f': opt.force = 1; break;    /* the older spelling of --force */
        case 'n': opt.dry_run = 1; break;
        case OPT_PROGRESS: opt.progress = 1; break;
        case 'q': diag_set_verbosity(-1); break;
        case 'v': diag_set_verbosity(diag_verbosity() + 1); break;
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
        case 'h': fputs(usage_text, stdout); return cli_finish_output();
        case 'V': cli_version(); return cli_finish_output();
        default: cli_bad_option(argv, optind, optopt, c, longopts); return usage_error(NULL, NULL);
        }
    }
    if (optind >= argc)
        return usage_error("missing verb%s", "");
    if (clock_init(&err) != 0)
        return diag_report(&err);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[optind], verbs[i].name) == 0) {
            if (opt.table && strcmp(verbs[i].name, "list") != 0 &&
                strcmp(verbs[i].name, "check") != 0)
                return usage_error("--format table: \"%s\" prints documents only (list and "
                                   "check have a table)", verbs[i].name);
            rc = verbs[i].fn(argc - optind - 1, argv + optind + 1);
            return osm_worst(rc, cli_finish_output());
        }
    const char *names[sizeof verbs / sizeof verbs[0] + 1];
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        names[i] = verbs[i].name;
    names[sizeof verbs / sizeof verbs[0]] = NULL;
    cli_bad_verb(argv[optind], names);
    return usage_error(NULL, NULL);
}
