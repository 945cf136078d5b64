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
