/*
 * Site configuration: osm.conf, an INI file read with libinih, which binds
 * cartridges to a site's real systems without touching the cartridges.
 *
 *   [store]
 *   busy_timeout = PT5S          ; ISO 8601 duration
 *   synchronous  = normal        ; normal | full
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
 * The file is OSM_CONFIG when set, else "osm.conf" beside the store.
 */
#ifndef OSM_SITECONF_H
#define OSM_SITECONF_H

#include <stdint.h>

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

const config_system *siteconf_system(const osm_config *c, const char *name);

void siteconf_free(osm_config *c);

#endif
