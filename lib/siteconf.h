/*
 * Site configuration: osm.conf, an INI file read with libinih, which binds
 * cartridges to a site's real systems without touching the cartridges.
 *
 *   [store]
 *   busy_timeout = PT5S          ; ISO 8601 duration
 *   synchronous  = normal        ; normal | full
 *   path = /var/lib/osm/osm.db   ; the store of a setgid osm-task (only)
 *
 *   [system.billing]             ; one section per external system
 *   command = /opt/billing/osm-adapter
 *   timeout = PT30S
 *   env.BILLING_URL = https://billing.example
 *
 *   [notify]
 *   command = /usr/local/bin/crm-notify
 *   timeout = PT10S
 *
 *   [admin]
 *   group = osm-admin            ; Unix group whose members may do anything
 *
 * The file is OSM_CONFIG when set, else "osm.conf" beside the store; a
 * program running setuid or setgid reads a fixed system file instead and
 * never looks at the environment (siteconf_load_system()).
 *
 * Trust (specs/security.md).  Settings that name commands ([system.X]
 * command and env.*, [notify] command) run as whoever runs osm-run, and
 * are taken only from a file owned by root or by that user and writable
 * by no one else; settings that grant rights ([admin] group) only from a
 * file owned by root or by the store's owner and writable by no one
 * else.  Loading a file checks neither (a file that names commands is
 * fine for osm-status); siteconf_check_commands() and
 * siteconf_is_admin() check them where they matter, and refuse an
 * untrusted file naming it and why.
 */
#ifndef OSM_SITECONF_H
#define OSM_SITECONF_H

#include <stdint.h>
#include <sys/types.h>

#include <jv.h>

#include "diag.h"

typedef struct config_system {
    char *name;
    char *command;          /* NULL: the cartridge's */
    int64_t timeout_ms;     /* -1: not set */
    char **env;             /* "NAME=value" strings, NULL-terminated */
    size_t nenv;
} config_system;

typedef struct osm_config {
    char *path;             /* the file read, or NULL when there was none */
    uid_t owner;            /* ... its owner and mode, when path is set */
    mode_t mode;
    int names_commands;     /* it sets a command or an env. variable */
    long store_owner;       /* uid owning the store file, or -1: set by cli_open() */
    char *store_path;       /* [store] path, or NULL */
    int64_t busy_timeout_ms;
    int synchronous_full;
    char *notify_command;
    int64_t notify_timeout_ms;
    char *admin_group;
    config_system *systems;
    size_t nsystems;
    jv warnings;            /* array of one-line strings (unknown keys) */
} osm_config;

/*
 * Load the site configuration for the store at db_path.  A missing file
 * is fine (defaults) unless OSM_CONFIG names it explicitly (OSM_ENOINPUT).
 * A bad value is OSM_ECONFIG with "FILE:LINE: message".  On success *out
 * is the caller's (siteconf_free); on error *out is NULL.
 */
int siteconf_load(const char *db_path, osm_config **out, osm_err *err);

/* Parse the file at path (which must exist) into *out. */
int siteconf_load_file(const char *path, osm_config **out, osm_err *err);

/*
 * The configuration of a program running setuid or setgid: the file at
 * path (fixed when the program was built), which must exist, be owned by
 * root and be writable by no one else, in a directory that is the same,
 * and name the store ([store] path, absolute).  78 otherwise, naming the
 * file and why; 66 when it is missing.
 */
int siteconf_load_system(const char *path, osm_config **out, osm_err *err);

/*
 * May c name the commands that the user uid (the one running them) runs?
 * 0 when it names none, or when its file is owned by root or by uid and
 * writable by no one else; else 78 "FILE: not trusted to name commands:
 * WHY".
 */
int siteconf_check_commands(const osm_config *c, uid_t uid, osm_err *err);

/*
 * The administrator rule: is uid root, the store's owner, or a member of
 * c's [admin] group (by the group database, whatever groups the process
 * holds)?  1 or 0; 78 "FILE: not trusted to grant rights ([admin] group):
 * WHY" when the answer would rest on an [admin] group from a file that is
 * not owned by root or by the store's owner, or that others may write.
 */
int siteconf_is_admin(const osm_config *c, uid_t uid, osm_err *err);

const config_system *siteconf_system(const osm_config *c, const char *name);

void siteconf_free(osm_config *c);

#endif
