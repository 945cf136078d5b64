/*
 * What every program's front end shares: the store path (-d, OSM_DB),
 * opening the store with the site configuration, --version, the Unix
 * identity of the caller, and writing documents to stdout.  This module
 * serves bin/ only, and is the one lib/ file allowed to print (warnings
 * from the site configuration).
 *
 * A program running setuid or setgid (osm-task, installed setgid to the
 * store's group: osm(7)) is "privileged": the environment does not choose
 * its configuration, store or clock (OSM_CONFIG, OSM_DB and OSM_NOW are
 * read with secure_getenv()), the store is the one its system
 * configuration names, and files the user names are opened with the
 * user's own rights.
 */
#ifndef OSM_CLI_H
#define OSM_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jv.h>

#include "diag.h"
#include "json.h"
#include "siteconf.h"
#include "store.h"

/* -d PATH, else $OSM_DB, else "osm.db". */
const char *cli_db_path(const char *opt);

/* Does this process run setuid or setgid (real and effective ids differ)? */
int cli_privileged(void);

/*
 * The system configuration file a privileged run reads (a path fixed
 * when the program is built).  Without it, cli_open() refuses to run
 * privileged.
 */
void cli_set_system_config(const char *path);

/*
 * Load the site configuration (printing its warnings) and open the store:
 * mode 0 to read and write it, CLI_CREATE to create it when missing,
 * CLI_READONLY to read it only (it is then never created nor migrated:
 * see store_open()); add CLI_COMMANDS when the program runs the commands
 * the configuration names, which are then refused (78) from a file that
 * may not name them (siteconf_check_commands()).  A privileged run reads
 * the system configuration and opens the store it names, whatever db
 * says.  Records the store's owner in (*conf)->store_owner.  Returns 0
 * or a status with err set; on error nothing is left open.
 */
#define CLI_CREATE 1
#define CLI_READONLY 2
#define CLI_COMMANDS 4
int cli_open(const char *db, int mode, store **st, osm_config **conf, osm_err *err);

/*
 * The administrator rule for the user running the program (the real
 * user): 1 or 0, or 78 when conf's [admin] group may not be trusted (see
 * siteconf_is_admin()).
 */
int cli_is_admin(const osm_config *conf, osm_err *err);

/*
 * json_reader_open() of a file the user named, with the user's own rights
 * (a privileged run gives up its extra group while it opens the file).
 */
json_reader *cli_open_input(const char *path, osm_err *err);

/* "osm-NAME (osm) VERSION" on stdout. */
void cli_version(void);

/* The name of the user running the program, the real one (or "uid N"); static storage. */
const char *cli_user(void);

/* Write one document (consumed) to stdout; returns OSM_EIO when stdout
 * fails (a closed pipe, a full disk), else 0.  Under --jq (cli_set_jq),
 * what the expression makes of the document is written instead, one
 * value per output; an expression that fails on it is reported and
 * gives OSM_EDATA. */
int cli_emit(jv doc, int flags);

/*
 * --jq EXPR: every document cli_emit() writes goes through EXPR, as
 * through "jq -c EXPR" ($now is the current instant).  Returns 0, or
 * OSM_EUSAGE with err set when EXPR does not compile.
 */
int cli_set_jq(const char *expr, osm_err *err);

/* Is a --jq expression set? */
int cli_jq_active(void);

/* Flush stdout and return OSM_EIO (with a message) if anything failed;
 * the last call about output (it forgets the --jq expression). */
int cli_finish_output(void);

/*
 * Read every JSON value of the files named (none, or "-": standard input)
 * and call fn(value, source, line, ctx) for each (value consumed; source
 * the file name, line where the value began).  A bad record or an
 * unreadable file is reported on stderr — and, when errors_to_stdout is
 * set, as an {"kind": "error"} document on stdout — and reading goes on.
 * fn returns a status; the worst of all is returned.  fn returning a
 * status of CLI_STOP or more (I/O, busy store) stops the reading.
 */
#define CLI_STOP OSM_EIO
typedef int (*cli_input_fn)(jv value, const char *source, long line, void *ctx);
int cli_inputs(int nfiles, char **files, int errors_to_stdout, cli_input_fn fn, void *ctx);

/*
 * The order id a pipeline document stands for (not consumed): a number,
 * a string of digits, or an "order", "plan" or "status" document's id.
 * 0 with *id set, or -1.
 */
int cli_order_id(jv v, int64_t *id);

/* Parse a command-line order id ("42"): 0, or -1 when it is not one. */
int cli_parse_id(const char *s, int64_t *id);

/*
 * Orders on a command line: an id ("42"), an external id with its prefix
 * ("ext:CRM-100001"), or "-" for the ids and documents on standard input.
 * cli_id_arg_ok() says whether s has one of these forms (without looking
 * in the store).
 */
#define CLI_EXT_PREFIX "ext:"
int cli_id_arg_ok(const char *s);

/*
 * The order id that s, an id or "ext:KEY", names.  0 with *id set;
 * OSM_ENOINPUT when no order has that external id; OSM_EUSAGE when s is
 * not one of those forms or when orders of several cartridges share the
 * key (the message names their ids); err set.
 */
int cli_resolve_id(store *st, const char *s, int64_t *id, osm_err *err);

/*
 * Report s, which is not an order as a command line names one, on stderr
 * (pointing at the ext: form when s could be an external id); returns 2.
 */
int cli_bad_id(const char *s);

/*
 * The word of names (NULL-terminated) closest to word when it is close
 * enough to be a slip of the keyboard (a few letters changed, added or
 * dropped), else NULL.
 */
const char *cli_suggest(const char *word, const char *const *names);

/*
 * Report an option getopt_long refused, c being what it returned ('?'
 * unknown, ':' missing argument: start optstring with ':' and set
 * opterr = 0), as 'unknown option "--x"' with a "did you mean" taken from
 * longopts when one is close; returns 2.
 */
int cli_bad_option(char **argv, int optind_now, int optopt_now, int c,
                   const struct option *longopts);

/*
 * Report an unknown verb ('unknown verb "x"', with a "did you mean" from
 * verbs, NULL-terminated); returns 2.
 */
int cli_bad_verb(const char *verb, const char *const *verbs);

/*
 * Is standard input a terminal?  A program that would read its orders or
 * ids there prints its usage on stderr and exits 2 instead of waiting.
 */
int cli_stdin_is_terminal(void);

/*
 * Write buf to path atomically (a temporary file renamed over it), or to
 * standard output for "-" (never a terminal).  Reports failures; returns
 * 0, OSM_EUSAGE or OSM_EIO.
 */
int cli_write_file(const char *path, const void *buf, size_t len);

/* The {"kind": "error"} document for a record that could not be processed. */
jv cli_error_doc(const char *source, long line, int status, const char *message);

#endif
