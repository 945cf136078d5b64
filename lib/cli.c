/*
 * The programs' shared front end (see cli.h).
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

const char *
cli_db_path(const char *opt)
{
    const char *env = getenv("OSM_DB");
    if (opt && *opt)
        return opt;
    if (env && *env)
        return env;
    return "osm.db";
}

int
cli_open(const char *db, int create, store **st, osm_config **conf, osm_err *err)
{
    store_opts opts = { 0 };
    int rc;

    *st = NULL;
    *conf = NULL;
    if ((rc = siteconf_load(db, conf, err)) != 0)
        return rc;
    jv_array_foreach((*conf)->warnings, i, w) {
        diag_warn("%s", jv_string_value(w));
        jv_free(w);
    }
    opts.create = create;
    opts.busy_timeout_ms = (int)(*conf)->busy_timeout_ms;
    opts.synchronous_full = (*conf)->synchronous_full;
    if ((rc = store_open(db, &opts, st, err)) != 0) {
        siteconf_free(*conf);
        *conf = NULL;
        return rc;
    }
    return 0;
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
        struct passwd *pw = getpwuid(geteuid());
        if (pw && pw->pw_name)
            snprintf(name, sizeof name, "%s", pw->pw_name);
        else
            snprintf(name, sizeof name, "uid %ld", (long)geteuid());
    }
    return name;
}

int
cli_emit(jv doc, int flags)
{
    json_write(stdout, doc, flags);
    return ferror(stdout) ? OSM_EIO : 0;
}

int
cli_finish_output(void)
{
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
    json_reader *r = json_reader_open(path, &err);
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
