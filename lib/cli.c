/*
 * The programs' shared front end (see cli.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jqprog.h"
#include "json.h"
#include "xalloc.h"

static const char *system_config;
static jqprog *emit_jq;         /* --jq, or NULL */

const char *
cli_db_path(const char *opt)
{
    const char *env = secure_getenv("OSM_DB");
    if (opt && *opt)
        return opt;
    if (env && *env)
        return env;
    return "osm.db";
}

int
cli_privileged(void)
{
    return getuid() != geteuid() || getgid() != getegid();
}

void
cli_set_system_config(const char *path)
{
    system_config = path;
}

int
cli_open(const char *db, int mode, store **st, osm_config **conf, osm_err *err)
{
    store_opts opts = { 0 };
    struct stat sb;
    int rc;

    *st = NULL;
    *conf = NULL;
    if (cli_privileged()) {
        if (!system_config)
            return osm_fail(err, OSM_ECONFIG, "%s may not run setuid or setgid (only osm-task "
                            "may: see osm(7))", diag_prog());
        if ((rc = siteconf_load_system(system_config, conf, err)) != 0)
            return rc;
        db = (*conf)->store_path;
    } else if ((rc = siteconf_load(db, conf, err)) != 0) {
        return rc;
    }
    if ((mode & CLI_COMMANDS) && (rc = siteconf_check_commands(*conf, getuid(), err)) != 0) {
        siteconf_free(*conf);
        *conf = NULL;
        return rc;
    }
    jv_array_foreach((*conf)->warnings, i, w) {
        diag_warn("%s", jv_string_value(w));
        jv_free(w);
    }
    opts.create = (mode & CLI_CREATE) != 0;
    opts.readonly = (mode & CLI_READONLY) != 0;
    /* 0 means the default to the store: wait at least a millisecond */
    int64_t busy = (*conf)->busy_timeout_ms;
    opts.busy_timeout_ms = busy < 1 ? 1 : busy > INT_MAX ? INT_MAX : (int)busy;
    opts.synchronous_full = (*conf)->synchronous_full;
    if ((rc = store_open(db, &opts, st, err)) != 0) {
        siteconf_free(*conf);
        *conf = NULL;
        return rc;
    }
    if (store_is_pg(*st)) {
        /* the store's owner is whoever runs as the role that owns its tables */
        if (store_pg_owned(*st))
            (*conf)->store_owner = (long)getuid();
    } else if (stat(db, &sb) == 0) {
        (*conf)->store_owner = (long)sb.st_uid;
    }
    return 0;
}

int
cli_is_admin(const osm_config *conf, osm_err *err)
{
    return siteconf_is_admin(conf, getuid(), err);
}

json_reader *
cli_open_input(const char *path, osm_err *err)
{
    uid_t euid = geteuid();
    gid_t egid = getegid();
    int drop = cli_privileged() && strcmp(path, "-") != 0;
    json_reader *r;

    /* the saved set-user-ID and set-group-ID let the process take them back */
    if (drop && (setegid(getgid()) != 0 || seteuid(getuid()) != 0)) {
        osm_fail(err, OSM_ESOFTWARE, "%s: cannot give up the program's rights: %s", path,
                 strerror(errno));
        return NULL;
    }
    r = json_reader_open(path, err);
    if (drop && (seteuid(euid) != 0 || setegid(egid) != 0)) {
        json_reader_free(r);
        osm_fail(err, OSM_ESOFTWARE, "%s: cannot take back the program's rights: %s", path,
                 strerror(errno));
        return NULL;
    }
    return r;
}

void
cli_version(void)
{
    printf("%s (osm) %s\n", diag_prog(), PACKAGE_VERSION);
}

const char *
cli_user(void)
{
    static char name[64];
    if (!name[0]) {
        struct passwd *pw = getpwuid(getuid());
        if (pw && pw->pw_name)
            snprintf(name, sizeof name, "%s", pw->pw_name);
        else
            snprintf(name, sizeof name, "uid %ld", (long)getuid());
    }
    return name;
}

int
cli_set_jq(const char *expr, osm_err *err)
{
    osm_err cerr = { 0, "" };
    jqprog *p = jqprog_new();
    jqprog_add(p, "--jq", expr);
    if (jqprog_compile(p, NULL, &cerr) != 0) {
        jqprog_free(p);
        return osm_fail(err, OSM_EUSAGE, "%s", cerr.msg);
    }
    jqprog_free(emit_jq);
    emit_jq = p;
    return 0;
}

int
cli_jq_active(void)
{
    return emit_jq != NULL;
}

int
cli_emit(jv doc, int flags)
{
    if (emit_jq) {
        osm_err err = { 0, "" };
        char now[CLOCK_RFC3339_MAX];
        jv outs;
        rfc3339_format(clock_now(), now);
        if (jqprog_run(emit_jq, 0, doc, JV_OBJECT(jv_string("now"), jv_string(now)), &outs,
                       &err) != 0) {
            jv_free(outs);
            diag_error("%s", err.msg);
            return OSM_EDATA;
        }
        jv_array_foreach(outs, i, v) json_write(stdout, v, flags);
        jv_free(outs);
        return ferror(stdout) ? OSM_EIO : 0;
    }
    json_write(stdout, doc, flags);
    return ferror(stdout) ? OSM_EIO : 0;
}

int
cli_finish_output(void)
{
    /* nothing is printed after this: the --jq program goes */
    jqprog_free(emit_jq);
    emit_jq = NULL;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            diag_error("standard output: %s", strerror(errno));
        return OSM_EIO;
    }
    return 0;
}

jv
cli_error_doc(const char *source, long line, int status, const char *message)
{
    return JV_OBJECT(jv_string("kind"), jv_string("error"), jv_string("source"),
                     jv_string(source), jv_string("line"), jv_number((double)line),
                     jv_string("status"), jv_number(status), jv_string("message"),
                     jv_string(message));
}

static int
read_one(const char *path, int errors_to_stdout, cli_input_fn fn, void *ctx)
{
    osm_err err = { 0, "" };
    json_reader *r = cli_open_input(path, &err);
    int worst = 0, rc;
    jv v;

    if (!r) {
        diag_error("%s", err.msg);
        if (errors_to_stdout)
            cli_emit(cli_error_doc(path, 0, err.code, err.msg), 0);
        return err.code;
    }
    while ((rc = json_reader_next(r, &v, &err)) != 0) {
        if (rc != 1) {
            /* what the good records before it gave is out before the
             * complaint, and out for good whatever happens next */
            fflush(stdout);
            diag_error("%s", err.msg);
            if (errors_to_stdout)
                cli_emit(cli_error_doc(json_reader_name(r), json_reader_line(r), rc, err.msg), 0);
            worst = osm_worst(worst, rc);
            if (rc != OSM_EDATA)
                break;
            continue;
        }
        rc = fn(v, json_reader_name(r), json_reader_line(r), ctx);
        worst = osm_worst(worst, rc);
        if (rc >= CLI_STOP)
            break;
    }
    json_reader_free(r);
    return worst;
}

int
cli_inputs(int nfiles, char **files, int errors_to_stdout, cli_input_fn fn, void *ctx)
{
    int worst = 0;
    if (nfiles == 0)
        return read_one("-", errors_to_stdout, fn, ctx);
    for (int i = 0; i < nfiles && worst < CLI_STOP; i++)
        worst = osm_worst(worst, read_one(files[i], errors_to_stdout, fn, ctx));
    return worst;
}

int
cli_parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end || v <= 0 || errno)
        return -1;
    *id = v;
    return 0;
}

int
cli_order_id(jv v, int64_t *id)
{
    int rc = -1;
    if (jv_get_kind(v) == JV_KIND_NUMBER) {
        double d = jv_number_value(v);
        if (d >= 1 && d < 9e15 && d == (double)(int64_t)d) {
            *id = (int64_t)d;
            rc = 0;
        }
    } else if (jv_get_kind(v) == JV_KIND_STRING) {
        rc = cli_parse_id(jv_string_value(v), id);
    } else if (jv_get_kind(v) == JV_KIND_OBJECT) {
        jv kind = jv_object_get(jv_copy(v), jv_string("kind"));
        jv idv = jv_object_get(jv_copy(v), jv_string("id"));
        const char *k = jv_get_kind(kind) == JV_KIND_STRING ? jv_string_value(kind) : "";
        if ((strcmp(k, "order") == 0 || strcmp(k, "plan") == 0 || strcmp(k, "status") == 0) &&
            jv_get_kind(idv) == JV_KIND_NUMBER)
            rc = cli_order_id(idv, id);
        jv_free(kind);
        jv_free(idv);
    }
    return rc;
}

/* The edit distance of a and b (insert, delete, replace, swap of neighbours), capped at 9. */
static int
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 9;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb] > 9 ? 9 : d[la][lb];
}

const char *
cli_suggest(const char *word, const char *const *names)
{
    const char *best = NULL;
    size_t len = strlen(word);
    /* a third of the word may be wrong, at most 3 letters, at least 1 */
    int limit = len < 3 ? 1 : len / 3 > 3 ? 3 : (int)(len / 3), best_d = limit + 1;
    for (size_t i = 0; names[i]; i++) {
        int d = edit_distance(word, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

int
cli_bad_option(char **argv, int optind_now, int optopt_now, int c,
               const struct option *longopts)
{
    const char *arg = optind_now > 0 ? argv[optind_now - 1] : "";
    if (c == ':') {
        if (optopt_now > 0 && optopt_now < 256 && !(arg[0] == '-' && arg[1] == '-'))
            diag_error("option \"-%c\" needs an argument", optopt_now);
        else
            diag_error("option \"%s\" needs an argument", arg);
        return OSM_EUSAGE;
    }
    if (optopt_now > 0 && optopt_now < 256 && !(arg[0] == '-' && arg[1] == '-')) {
        diag_error("unknown option \"-%c\"", optopt_now);
        return OSM_EUSAGE;
    }
    /* "--name=value": the name is what is unknown */
    size_t n = strcspn(arg, "=");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), arg);
    const char *near = NULL;
    if (longopts && name[0] == '-' && name[1] == '-') {
        const char *names[128];
        size_t k = 0, prefixed = 0, len = strlen(name + 2);
        for (size_t i = 0; longopts[i].name && k < 127; i++) {
            if (strcmp(longopts[i].name, name + 2) == 0) {
                diag_error("option \"%s\" takes no argument", name);
                return OSM_EUSAGE;
            }
            prefixed += strncmp(longopts[i].name, name + 2, len) == 0;
            names[k++] = longopts[i].name;
        }
        names[k] = NULL;
        if (prefixed > 1 && len > 0) {
            diag_error("option \"%s\" is ambiguous: say which", name);
            return OSM_EUSAGE;
        }
        near = cli_suggest(name + 2, names);
    }
    if (near)
        diag_error("unknown option \"%s\" (did you mean \"--%s\"?)", name, near);
    else
        diag_error("unknown option \"%s\"", name);
    return OSM_EUSAGE;
}

int
cli_bad_verb(const char *verb, const char *const *verbs)
{
    const char *near = cli_suggest(verb, verbs);
    if (near)
        diag_error("unknown verb \"%s\" (did you mean \"%s\"?)", verb, near);
    else
        diag_error("unknown verb \"%s\"", verb);
    return OSM_EUSAGE;
}

int
cli_stdin_is_terminal(void)
{
    return isatty(STDIN_FILENO);
}

int
cli_id_arg_ok(const char *s)
{
    int64_t id;
    return strcmp(s, "-") == 0 || cli_parse_id(s, &id) == 0 ||
           (strncmp(s, CLI_EXT_PREFIX, strlen(CLI_EXT_PREFIX)) == 0 &&
            s[strlen(CLI_EXT_PREFIX)] != '\0');
}

int
cli_bad_id(const char *s)
{
    int digits = *s != '\0';
    for (const char *p = s; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    /* "0", "-3", "4.5": numbers that are no id; anything else may be a key */
    if (!digits && *s && *s != '-' && strncmp(s, CLI_EXT_PREFIX, strlen(CLI_EXT_PREFIX)) != 0 &&
        strlen(s) < 200)
        diag_error("\"%s\" is not an order id (an external id? name it %s%s)", s,
                   CLI_EXT_PREFIX, s);
    else
        diag_error("\"%s\" is not an order id", s);
    return OSM_EUSAGE;
}

int
cli_resolve_id(store *st, const char *s, int64_t *id, osm_err *err)
{
    size_t plen = strlen(CLI_EXT_PREFIX);
    jv ids;
    int rc;

    if (cli_parse_id(s, id) == 0)
        return 0;
    if (strncmp(s, CLI_EXT_PREFIX, plen) != 0 || s[plen] == '\0')
        return osm_fail(err, OSM_EUSAGE, "\"%.200s\" is not an order id", s);
    if ((rc = store_order_ids_by_key(st, s + plen, &ids, err)) != 0)
        return rc;
    int n = jv_array_length(jv_copy(ids));
    if (n == 0)
        rc = osm_fail(err, OSM_ENOINPUT, "no order has the external id \"%.200s\"", s + plen);
    else if (n > 1)
        rc = osm_fail(err, OSM_EUSAGE, "orders %lld and %lld (of different cartridges) have "
                      "the external id \"%.200s\": name one by its id",
                      (long long)jv_number_value(jv_array_get(jv_copy(ids), 0)),
                      (long long)jv_number_value(jv_array_get(jv_copy(ids), 1)), s + plen);
    else
        *id = (int64_t)jv_number_value(jv_array_get(jv_copy(ids), 0));
    jv_free(ids);
    return rc;
}

int
cli_write_file(const char *path, const void *buf, size_t len)
{
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO)) {
            diag_error("refusing to write binary data to a terminal: use -o FILE");
            return OSM_EUSAGE;
        }
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
            diag_error("standard output: %s", strerror(errno));
            return OSM_EIO;
        }
        return 0;
    }
    /* a fresh file beside the target, renamed over it: never half a file,
     * and never through a symbolic link planted at a predictable name */
    const char *slash = strrchr(path, '/');
    char *tmp = slash ? xasprintf("%.*s/.osm-XXXXXX", (int)(slash - path), path)
                      : xstrdup(".osm-XXXXXX");
    int fd = mkstemp(tmp), rc = 0;
    if (fd < 0) {
        diag_error("%s: %s", path, strerror(errno));
        free(tmp);
        return OSM_EIO;
    }
    mode_t mask = umask(0);
    umask(mask);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, (const char *)buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (off != len || fchmod(fd, 0666 & ~mask) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        diag_error("%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        rc = OSM_EIO;
    }
    free(tmp);
    return rc;
}
