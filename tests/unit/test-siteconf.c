/* lib/siteconf: osm.conf values, unknown keys, bad values, its location. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siteconf.h"
#include "tap.h"

static char dir[] = "/tmp/osm-siteconf-XXXXXX";

static char *
write_conf(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

int
main(void)
{
    osm_config *c = NULL;
    osm_err err = { 0, "" };
    char db[300], *path;

    if (!mkdtemp(dir))
        return 99;
    unsetenv("OSM_CONFIG");

    /* no file beside the store: defaults */
    snprintf(db, sizeof db, "%s/osm.db", dir);
    is_int(siteconf_load(db, &c, &err), 0, "missing osm.conf is fine");
    is_int(c->busy_timeout_ms, 5000, "default busy timeout 5 s");
    ok(c->path == NULL, "no file read");
    siteconf_free(c);

    path = write_conf("osm.conf",
                      "; site configuration\n"
                      "[store]\n"
                      "busy_timeout = PT2S\n"
                      "synchronous = full\n"
                      "[system.billing]\n"
                      "command = /opt/billing/adapter --mode osm\n"
                      "timeout = PT30S\n"
                      "env.BILLING_URL = https://billing.example\n"
                      "[notify]\n"
                      "command = notify-crm\n"
                      "[admin]\n"
                      "group = osm-admin\n"
                      "colour = blue\n");
    is_int(siteconf_load(db, &c, &err), 0, "osm.conf beside the store is read");
    is_str(c->path, path, "path recorded");
    is_int(c->busy_timeout_ms, 2000, "busy_timeout");
    is_int(c->synchronous_full, 1, "synchronous = full");
    const config_system *s = siteconf_system(c, "billing");
    ok(s != NULL, "system billing configured");
    is_str(s ? s->command : NULL, "/opt/billing/adapter --mode osm", "system command");
    is_int(s ? s->timeout_ms : 0, 30000, "system timeout");
    is_str(s && s->nenv ? s->env[0] : NULL, "BILLING_URL=https://billing.example", "system env");
    ok(siteconf_system(c, "crm") == NULL, "unconfigured system is NULL");
    is_str(c->notify_command, "notify-crm", "notify command");
    is_str(c->admin_group, "osm-admin", "admin group");
    is_int(jv_array_length(jv_copy(c->warnings)), 1, "one warning");
    jv w = jv_array_get(jv_copy(c->warnings), 0);
    char want[400];
    snprintf(want, sizeof want, "%s:13: unknown key \"colour\" in [admin]", path);
    is_str(jv_string_value(w), want, "unknown key warned with file and line");
    jv_free(w);
    siteconf_free(c);

    path = write_conf("bad.conf", "[store]\nsynchronous = normal\nbusy_timeout = 5 seconds\n");
    setenv("OSM_CONFIG", path, 1);
    c = (osm_config *)1;
    is_int(siteconf_load(db, &c, &err), OSM_ECONFIG, "bad value is a configuration error");
    ok(c == NULL, "no configuration on error");
    snprintf(want, sizeof want,
             "%s:3: [store] busy_timeout: not an ISO 8601 duration (e.g. PT30S) \"5 seconds\"", path);
    is_str(err.msg, want, "bad value names file and line");

    path = write_conf("syntax.conf", "[store\nbusy_timeout = PT1S\n");
    setenv("OSM_CONFIG", path, 1);
    is_int(siteconf_load(db, &c, &err), OSM_ECONFIG, "syntax error refused");
    snprintf(want, sizeof want, "%s:1: syntax error", path);
    is_str(err.msg, want, "syntax error names the line");

    path = write_conf("env.conf", "[system.x]\nenv.BAD-NAME = 1\n");
    setenv("OSM_CONFIG", path, 1);
    is_int(siteconf_load(db, &c, &err), OSM_ECONFIG, "bad environment name refused");

    setenv("OSM_CONFIG", "/nonexistent/osm.conf", 1);
    is_int(siteconf_load(db, &c, &err), OSM_ENOINPUT, "OSM_CONFIG naming a missing file");
    is_str(err.msg, "OSM_CONFIG: /nonexistent/osm.conf: No such file or directory", "missing file message");

    path = write_conf("semi.conf", "[system.crm]\ncommand = cd /opt/crm ; ./adapter --x=1\n");
    setenv("OSM_CONFIG", path, 1);
    is_int(siteconf_load(db, &c, &err), 0, "a ';' inside a value");
    is_str(c ? siteconf_system(c, "crm")->command : NULL, "cd /opt/crm ; ./adapter --x=1",
           "is part of the value, not a comment");
    siteconf_free(c);
    c = NULL;
    char longline[400];
    memset(longline, 'x', sizeof longline);
    longline[0] = '[';
    memcpy(longline, "[system.crm]\ncommand = ", 23);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    path = write_conf("long.conf", longline);
    setenv("OSM_CONFIG", path, 1);
    is_int(siteconf_load(db, &c, &err), OSM_ECONFIG, "a line too long for libinih is refused");
    snprintf(want, sizeof want, "%s:2: line longer than 198 bytes", path);
    is_str(err.msg, want, "naming file and line");
    setenv("OSM_CONFIG", dir, 1);
    is_int(siteconf_load(db, &c, &err), OSM_ECONFIG, "a directory is refused");
    unlink(write_conf("semi.conf", ""));
    unlink(write_conf("long.conf", ""));
    unlink(write_conf("osm.conf", ""));
    unlink(write_conf("bad.conf", ""));
    unlink(write_conf("syntax.conf", ""));
    unlink(write_conf("env.conf", ""));
    rmdir(dir);
    return done_testing();
}
