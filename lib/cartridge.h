/*
 * Cartridges: the design-time model of one business area (DESIGN §5,
 * specs/cartridge.schema.json, osm-cartridge(5)).
 *
 * A cartridge is loaded from its file set (a directory or a packed
 * archive, see cartfiles.h), checked — the manifest against its schema,
 * every reference, the function graph, every jq program — and its jq
 * programs compiled once, as one combined program (jqprog.h).  Every
 * consumer (intake, planning, execution) uses the same loaded cartridge,
 * finding a program by its key: the manifest path of the field without
 * the leading dot, e.g. "orderTypes.residential.recognize",
 * "functions.bill.request", "functions.bill.after.0.delay", "items.id".
 * Fields with defaults (items.*, an order type's key, revision,
 * requestedDate, requestedStartDate, validate and transform) are always
 * present.
 */
#ifndef OSM_CARTRIDGE_H
#define OSM_CARTRIDGE_H

#include <jv.h>

#include "cartfiles.h"
#include "diag.h"
#include "jqprog.h"

typedef struct cart_prog {
    char *key;      /* "functions.bill.request" */
    char *file;     /* file the program text is in: "cartridge.json" or "x.jq" */
    char *path;     /* where it is named in the manifest: ".functions.bill.request" */
    int index;      /* in the combined jqprog */
} cart_prog;

typedef struct cartridge {
    char *origin;       /* where it came from, for messages */
    char *name;         /* from the manifest; NULL when unusable */
    char *version;
    jv manifest;        /* the parsed manifest, or jv_null() */
    cart_files files;
    jqprog *jq;         /* compiled programs; NULL until checked */
    cart_prog *progs;
    size_t nprogs;
    void (*derive)(struct cartridge *c);  /* adds derived programs (see below) */
    int checked;        /* cartridge_check ran */
    int valid;          /* ... and found no problem */
} cartridge;

/*
 * Take ownership of files (left empty) and parse the manifest.  Never
 * fails: problems are found by cartridge_check().
 */
cartridge *cartridge_from_files(cart_files *files, const char *origin);

/*
 * Load a cartridge directory or archive file.  Returns 0, or the
 * archive's refusal (OSM_ECONFIG, OSM_ENOINPUT for a missing path) with
 * nothing allocated.
 */
int cartridge_load_path(const char *path, cartridge **out, osm_err *err);

/*
 * Check everything and compile the jq programs.  Returns the number of
 * problems; *problems (when non-NULL) is set to an array of {file, path,
 * message} and *warnings to an array of the same shape for things that
 * are allowed but probably wrong.  Both are the caller's.
 */
int cartridge_check(cartridge *c, jv *problems, jv *warnings);

/*
 * Programs derived from a cartridge's own: a function that adds them with
 * cartridge_add_prog() (running the cartridge's with jqprog_call()),
 * called once the cartridge's own programs are registered, without a
 * problem, and before they compile, so that one jq compile serves both:
 * a compile costs some 30 ms, a second would double a program's start-up.
 */
typedef void cartridge_derive_fn(cartridge *c);

/*
 * Load, check and compile: the way programs get a cartridge they will
 * run, with derive's programs when derive is not NULL.  Returns 0, or
 * OSM_ECONFIG with the first problem in err (and the number of others)
 * when the cartridge is not valid.
 */
int cartridge_open_path(const char *path, cartridge_derive_fn *derive, cartridge **out,
                        osm_err *err);
int cartridge_open_archive(const void *buf, size_t len, const char *origin,
                           cartridge_derive_fn *derive, cartridge **out, osm_err *err);

/*
 * Register the program src under key (not a key of the manifest's), for
 * a cartridge_derive_fn.  Returns its index in c->jq, or -1 once c is
 * compiled.
 */
int cartridge_add_prog(cartridge *c, const char *key, const char *src);

/* Index of the program with this key in c->jq, or -1. */
int cartridge_prog(const cartridge *c, const char *key);

/* The canonical packed archive of the cartridge (malloc'ed), its sha256. */
int cartridge_pack(const cartridge *c, void **buf, size_t *len, char sha256[65],
                   osm_err *err);

/* Does s name an ISO 8601 duration (as opposed to a jq program)? */
int cartridge_is_duration(const char *s);

/*
 * Order types of c and of other (another cartridge's manifest, consumed;
 * jv_null() compares c's order types among themselves) that share a
 * relevancy: which one recognises an order both match is undefined.
 * Returns an array of one-line warnings.
 */
jv cartridge_relevancy_clashes(const cartridge *c, jv other);

void cartridge_free(cartridge *c);

#endif
