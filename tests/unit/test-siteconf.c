/* lib/siteconf: osm.conf values, unknown keys, bad values, its location. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Who may be trusted with commands, rights and the system configuration. */
static void
test_trust(const char *db)
{
    osm_config *c = NULL;
    osm_err err = { 0, "" };
    char want[600], *path;
    uid_t me = getuid();

    path = write_conf("cmd.conf", "[system.billing]\ncommand = /opt/billing\n[admin]\ngroup = "
                                  "no-such-group-here\n");
    chmod(path, 0644);
    setenv("OSM_CONFIG", path, 1);
    is_int(siteconf_load(db, &c, &err), 0, "a file naming commands loads");
    ok(c && c->names_commands, "it names commands");
    is_int(c->owner, me, "its owner is recorded");
    is_int(siteconf_check_commands(c, me, &err), 0, "commands from one's own file");
    is_int(siteconf_check_commands(c, 0, &err), me == 0 ? 0 : OSM_ECONFIG,
           "... and root's only from root's");
    is_int(siteconf_is_admin(c, 0, &err), 1, "root is an administrator");
    c->store_owner = 4242;
    is_int(siteconf_is_admin(c, 4242, &err), 1, "the store's owner is an administrator");
    is_int(siteconf_is_admin(c, 4243, &err), me == 0 ? 0 : OSM_ECONFIG,
           "others by a trusted [admin] group only");
    c->store_owner = (long)me;
    is_int(siteconf_is_admin(c, 4243, &err), 0, "a file of the store's owner may grant rights");
    siteconf_free(c);

    chmod(path, 0664);
    is_int(siteconf_load(db, &c, &err), 0, "a group-writable file loads");
    is_int(siteconf_check_commands(c, me, &err), OSM_ECONFIG, "but may not name commands");
    snprintf(want, sizeof want, "%s: not trusted to name commands: writable by group or others "
             "(mode 0664)", path);
    is_str(err.msg, want, "the message names the file and why");
    c->store_owner = (long)me;
    is_int(siteconf_is_admin(c, 4243, &err), OSM_ECONFIG, "nor grant rights");
    snprintf(want, sizeof want, "%s: not trusted to grant rights ([admin] group): writable by "
             "group or others (mode 0664)", path);
    is_str(err.msg, want, "the message names the file and why");
    siteconf_free(c);

    path = write_conf("harmless.conf", "[store]\nbusy_timeout = PT1S\n");
    chmod(path, 0666);
    setenv("OSM_CONFIG", path, 1);
    is_int(siteconf_load(db, &c, &err), 0, "a file anyone may write, naming no command");
    is_int(siteconf_check_commands(c, me, &err), 0, "is fine for a program running commands");
    siteconf_free(c);
    unsetenv("OSM_CONFIG");

    /* the system configuration of a setgid osm-task: root's, in root's directory */
    path = write_conf("system.conf", "[store]\npath = /var/lib/osm/osm.db\n");
    chmod(path, 0644);
    c = (osm_config *)1;
    if (me == 0) {
        chmod(dir, 0755);
        is_int(siteconf_load_system(path, &c, &err), 0, "system configuration: root's");
        is_str(c ? c->store_path : NULL, "/var/lib/osm/osm.db", "it names the store");
        siteconf_free(c);
        chmod(dir, 0777);
        is_int(siteconf_load_system(path, &c, &err), OSM_ECONFIG, "in a directory others write");
        snprintf(want, sizeof want, "%s: not trusted: its directory %s is writable by group or "
                 "others (mode 0777)", path, dir);
        is_str(err.msg, want, "the message names the directory");
        chmod(dir, 0700);
        chmod(path, 0620);
        is_int(siteconf_load_system(path, &c, &err), OSM_ECONFIG, "a file the group may write");
        chmod(path, 0644);
        path = write_conf("nostore.conf", "[admin]\ngroup = x\n");
        is_int(siteconf_load_system(path, &c, &err), OSM_ECONFIG, "one naming no store");
        snprintf(want, sizeof want, "%s: names no store ([store] path), which a setuid or setgid "
                 "program needs", path);
        is_str(err.msg, want, "the message says what is missing");
    } else {
        is_int(siteconf_load_system(path, &c, &err), OSM_ECONFIG, "system configuration: not root's");
        ok(strstr(err.msg, "not trusted: owned by") != NULL, "the message says whose (%s)",
           err.msg);
    }
    ok(c == NULL, "nothing loaded on error");
    is_int(siteconf_load_system("/nonexistent/osm.conf", &c, &err), OSM_ENOINPUT,
           "a missing system configuration");
    path = write_conf("relative.conf", "[store]\npath = osm.db\n");
    is_int(siteconf_load_file(path, &c, &err), OSM_ECONFIG, "[store] path must be absolute");
    unlink(write_conf("cmd.conf", ""));
    unlink(write_conf("harmless.conf", ""));
    unlink(write_conf("system.conf", ""));
    unlink(write_conf("nostore.conf", ""));
    unlink(write_conf("relative.conf", ""));
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
    test_trust(db);
    unlink(write_conf("semi.conf", ""));
    unlink(write_conf("long.conf", ""));
    unlink(write_conf("osm.conf", ""));
    unlink(write_conf("bad.conf", ""));
    unlink(write_conf("syntax.conf", ""));
    unlink(write_conf("env.conf", ""));
    rmdir(dir);
    return done_testing();
}
