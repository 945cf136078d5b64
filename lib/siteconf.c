/*
 * osm.conf: the site configuration (see siteconf.h for the format).
 * libinih does the parsing; this file gives each key its meaning, reports
 * unknown keys as warnings and bad values as errors naming the file and
 * line, and decides whether a file may be trusted with what it says.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "clock.h"
#include "db.h"
#include "siteconf.h"
#include "xalloc.h"

struct load_state {
    osm_config *c;
    osm_err *err;
    int line;               /* counted by the reader below */
};

/*
 * ini_parse_stream's reader: fgets that counts lines, refuses lines
 * longer than libinih takes (it would cut them silently), and hides ';'
 * inside values from libinih's inline comments (a command line may hold
 * one): handler() turns CONF_SEMI back into ';'.
 */
#define CONF_SEMI '\x1f'

static char *
reader(char *str, int num, void *stream)
{
    struct { FILE *f; struct load_state *st; } *r = stream;
    char *s;

    if (r->st->err->code)
        return NULL;
    s = fgets(str, num, r->f);
    if (!s)
        return NULL;
    r->st->line++;
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] != '\n' && !feof(r->f)) {
        osm_fail(r->st->err, OSM_ECONFIG, "%s:%d: line longer than %d bytes", r->st->c->path,
                 r->st->line, num - 2);
        return NULL;
    }
    const char *t = s + strspn(s, " \t");
    char *eq = strchr(s, '=');
    if (*t != ';' && *t != '#' && *t != '[' && eq)
        for (char *p = eq; *p; p++)
            if (*p == ';')
                *p = CONF_SEMI;
    return s;
}

/* The value as written, ';' restored (static storage, one at a time). */
static const char *
unhide(const char *value)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s", value);
    for (char *p = buf; *p; p++)
        if (*p == CONF_SEMI)
            *p = ';';
    return buf;
}

static config_system *
system_for(osm_config *c, const char *name)
{
    for (size_t i = 0; i < c->nsystems; i++)
        if (strcmp(c->systems[i].name, name) == 0)
            return &c->systems[i];
    c->systems = xrealloc(c->systems, (c->nsystems + 1) * sizeof *c->systems);
    config_system *s = &c->systems[c->nsystems++];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    s->timeout_ms = -1;
    s->env = xcalloc(1, sizeof *s->env);
    return s;
}

static int
bad(struct load_state *st, const char *fmt, const char *section, const char *key,
    const char *value)
{
    if (!st->err->code)
        osm_fail(st->err, OSM_ECONFIG, "%s:%d: [%s] %s: %s \"%s\"", st->c->path,
                 st->line, section, key, fmt, value);
    return 0;
}

static void
unknown(struct load_state *st, const char *section, const char *key)
{
    char *w = xasprintf("%s:%d: unknown key \"%s\" in [%s]", st->c->path, st->line,
                        key, section);
    st->c->warnings = jv_array_append(st->c->warnings, jv_string(w));
    free(w);
}

static int
duration_value(struct load_state *st, const char *section, const char *key,
               const char *value, int64_t *out)
{
    if (duration_parse(value, out) != 0)
        return bad(st, "not an ISO 8601 duration (e.g. PT30S)", section, key, value);
    return 1;
}

static int
handler(void *user, const char *section, const char *key, const char *raw)
{
    struct load_state *st = user;
    osm_config *c = st->c;

    if (key == NULL)            /* a section header: nothing to do */
        return 1;
    const char *value = unhide(raw);
    if (strcmp(section, "store") == 0) {
        if (strcmp(key, "busy_timeout") == 0)
            return duration_value(st, section, key, value, &c->busy_timeout_ms);
        if (strcmp(key, "path") == 0) {
            if (*value != '/')
                return bad(st, "not an absolute path", section, key, value);
            free(c->store_path);
            c->store_path = xstrdup(value);
            return 1;
        }
        if (strcmp(key, "synchronous") == 0) {
            if (strcmp(value, "normal") == 0)
                c->synchronous_full = 0;
            else if (strcmp(value, "full") == 0)
                c->synchronous_full = 1;
            else
                return bad(st, "expected normal or full, got", section, key, value);
            return 1;
        }
    } else if (strncmp(section, "system.", 7) == 0 && section[7]) {
        config_system *s = system_for(c, section + 7);
        if (strcmp(key, "command") == 0) {
            if (!*value)
                return bad(st, "empty command", section, key, value);
            free(s->command);
            s->command = xstrdup(value);
            c->names_commands = 1;
            return 1;
        }
        if (strcmp(key, "timeout") == 0)
            return duration_value(st, section, key, value, &s->timeout_ms);
        if (strncmp(key, "env.", 4) == 0) {
            const char *name = key + 4;
            if (!*name || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789_") != strlen(name))
                return bad(st, "not an environment variable name", section, key, key);
            s->env = xrealloc(s->env, (s->nenv + 2) * sizeof *s->env);
            s->env[s->nenv++] = xasprintf("%s=%s", name, value);
            s->env[s->nenv] = NULL;
            c->names_commands = 1;
            return 1;
        }
    } else if (strcmp(section, "notify") == 0) {
        if (strcmp(key, "command") == 0) {
            free(c->notify_command);
            c->notify_command = xstrdup(value);
            c->names_commands = 1;
            return 1;
        }
        if (strcmp(key, "timeout") == 0)
            return duration_value(st, section, key, value, &c->notify_timeout_ms);
    } else if (strcmp(section, "admin") == 0) {
        if (strcmp(key, "group") == 0) {
            free(c->admin_group);
            c->admin_group = xstrdup(value);
            return 1;
        }
    }
    unknown(st, section, key);
    return 1;
}

static osm_config *
siteconf_new(void)
{
    osm_config *c = xcalloc(1, sizeof *c);
    c->busy_timeout_ms = 5000;
    c->notify_timeout_ms = -1;        /* not set: the cartridge's, else the default */
    c->store_owner = -1;
    c->warnings = jv_array();
    return c;
}

int
siteconf_load_file(const char *path, osm_config **out, osm_err *err)
{
    osm_err local = { 0, "" };
    osm_config *c;
    FILE *f;
    int rc;

    *out = NULL;
    if (!(f = fopen(path, "r")))
        return osm_fail(err, errno == ENOENT ? OSM_ENOINPUT : OSM_EIO, "%s: %s", path,
                        strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return osm_fail(err, OSM_ECONFIG, "%s: not a regular file", path);
    }
    c = siteconf_new();
    c->path = xstrdup(path);
    c->owner = sb.st_uid;
    c->mode = sb.st_mode;
    struct load_state st = { c, &local, 0 };
    struct { FILE *f; struct load_state *st; } r = { f, &st };
    rc = ini_parse_stream(reader, &r, handler, &st);
    fclose(f);
    if (local.code) {
        siteconf_free(c);
        return osm_fail(err, local.code, "%s", local.msg);
    }
    if (rc != 0) {
        siteconf_free(c);
        if (rc < 0)
            return osm_fail(err, OSM_EIO, "%s: cannot read", path);
        return osm_fail(err, OSM_ECONFIG, "%s:%d: syntax error", path, rc);
    }
    *out = c;
    return 0;
}

int
siteconf_load(const char *db_path, osm_config **out, osm_err *err)
{
    /* never from the environment of a setuid or setgid program */
    const char *env = secure_getenv("OSM_CONFIG");
    char *path;
    int rc;

    if (env && *env) {
        rc = siteconf_load_file(env, out, err);
        if (rc == OSM_ENOINPUT)
            osm_err_prefix(err, "OSM_CONFIG");
        return rc;
    }
    /* osm.conf beside the store; for PostgreSQL, in the current directory */
    const char *slash = db_path && !db_is_pg_name(db_path) ? strrchr(db_path, '/') : NULL;
    char cwd[4096];
    if (slash)
        path = xasprintf("%.*s/osm.conf", (int)(slash - db_path), db_path);
    else if (db_is_pg_name(db_path) && getcwd(cwd, sizeof cwd))
        path = xasprintf("%s/osm.conf", cwd);   /* named in full in messages */
    else
        path = xstrdup("osm.conf");
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        free(path);
        *out = siteconf_new();
        return 0;
    }
    rc = siteconf_load_file(path, out, err);
    free(path);
    return rc;
}

/* ------------------------------------------------------------ trust */

/* A user as messages name them: "alice", or "uid 1001". */
static const char *
user_name(uid_t uid, char *buf, size_t n)
{
    struct passwd *pw = getpwuid(uid);
    if (pw && pw->pw_name)
        snprintf(buf, n, "%s", pw->pw_name);
    else
        snprintf(buf, n, "uid %ld", (long)uid);
    return buf;
}

/*
 * Whether something owned by owner with mode may not be trusted by one
 * who trusts root and also (a uid, or (uid_t)-1 for nobody else; also_is
 * says who that is, e.g. "you (alice)"): 1 with the reason in why, or 0.
 */
static int
untrusted(uid_t owner, mode_t mode, uid_t also, const char *also_is, char *why, size_t n)
{
    char name[64];

    if (owner != 0 && owner != also) {
        if (also == (uid_t)-1)
            snprintf(why, n, "owned by %s, not by root", user_name(owner, name, sizeof name));
        else
            snprintf(why, n, "owned by %s, not by root or by %s",
                     user_name(owner, name, sizeof name), also_is);
        return 1;
    }
    if (mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, n, "writable by group or others (mode %04o)", (unsigned)(mode & 07777));
        return 1;
    }
    return 0;
}

int
siteconf_load_system(const char *path, osm_config **out, osm_err *err)
{
    char why[256];
    struct stat sb;
    int rc;

    *out = NULL;
    if ((rc = siteconf_load_file(path, out, err)) != 0)
        return rc;
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        strcpy(dir, ".");
    if (untrusted((*out)->owner, (*out)->mode, (uid_t)-1, NULL, why, sizeof why))
        rc = osm_fail(err, OSM_ECONFIG, "%s: not trusted: %s", path, why);
    else if (stat(dir, &sb) != 0)
        rc = osm_fail(err, OSM_EIO, "%s: %s", dir, strerror(errno));
    else if (untrusted(sb.st_uid, sb.st_mode, (uid_t)-1, NULL, why, sizeof why))
        rc = osm_fail(err, OSM_ECONFIG, "%s: not trusted: its directory %s is %s", path, dir, why);
    else if (!(*out)->store_path)
        rc = osm_fail(err, OSM_ECONFIG, "%s: names no store ([store] path), which a setuid or "
                      "setgid program needs", path);
    free(dir);
    if (rc != 0) {
        siteconf_free(*out);
        *out = NULL;
    }
    return rc;
}

int
siteconf_check_commands(const osm_config *c, uid_t uid, osm_err *err)
{
    char who[96], name[64], why[256];

    if (!c || !c->path || !c->names_commands)
        return 0;
    snprintf(who, sizeof who, "you (%s)", user_name(uid, name, sizeof name));
    if (untrusted(c->owner, c->mode, uid, who, why, sizeof why))
        return osm_fail(err, OSM_ECONFIG, "%s: not trusted to name commands: %s", c->path, why);
    return 0;
}

int
siteconf_is_admin(const osm_config *c, uid_t uid, osm_err *err)
{
    char who[96], name[64], why[256];

    if (uid == 0)
        return 1;
    if (c && c->store_owner >= 0 && (uid_t)c->store_owner == uid)
        return 1;
    if (!c || !c->admin_group)
        return 0;
    uid_t owner = c->store_owner >= 0 ? (uid_t)c->store_owner : (uid_t)-1;
    snprintf(who, sizeof who, "the store's owner (%s)", user_name(owner, name, sizeof name));
    if (c->path && untrusted(c->owner, c->mode, owner, who, why, sizeof why))
        return osm_fail(err, OSM_ECONFIG, "%s: not trusted to grant rights ([admin] group): %s",
                        c->path, why);
    struct group *g = getgrnam(c->admin_group);
    struct passwd *pw = getpwuid(uid);
    if (!g || !pw)
        return 0;
    gid_t gid = g->gr_gid, groups[256];
    int n = 256;
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return 1;
    return 0;
}

const config_system *
siteconf_system(const osm_config *c, const char *name)
{
    for (size_t i = 0; c && i < c->nsystems; i++)
        if (strcmp(c->systems[i].name, name) == 0)
            return &c->systems[i];
    return NULL;
}

void
siteconf_free(osm_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsystems; i++) {
        config_system *s = &c->systems[i];
        free(s->name);
        free(s->command);
        for (size_t j = 0; j < s->nenv; j++)
            free(s->env[j]);
        free(s->env);
    }
    free(c->systems);
    free(c->path);
    free(c->store_path);
    free(c->notify_command);
    free(c->admin_group);
    jv_free(c->warnings);
    free(c);
}
