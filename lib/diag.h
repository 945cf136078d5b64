/*
 * Diagnostics, exit statuses and the error record every lib/ function
 * fills in on failure.
 *
 * Library code never prints and never exits: a function that can fail
 * returns one of the OSM_E* statuses below (0 on success) and, when the
 * caller passed a non-NULL osm_err, describes the failure there in one
 * line.  Only bin/ decides what to print and which status to exit with,
 * through diag_error() and friends, as "osm-NAME: context: message".
 */
#ifndef OSM_DIAG_H
#define OSM_DIAG_H

#include <stdarg.h>
#include <stddef.h>

/* Exit statuses (DESIGN §3; sysexits.h numbering). */
enum {
    OSM_OK = 0,
    OSM_NEGATIVE = 1,     /* the answer the caller asked about is "no" */
    OSM_EUSAGE = 2,       /* command line usage error */
    OSM_EDATA = 65,       /* bad input data */
    OSM_ENOINPUT = 66,    /* no such order, task, cartridge or file */
    OSM_EUNAVAILABLE = 69,/* a program osm needs is not installed (dot); inside
                             osm-run, a persistent hook that cannot start (its
                             task is retried: never an exit status) */
    OSM_ESOFTWARE = 70,   /* internal error */
    OSM_ECANTCREAT = 73,  /* a file or directory to create exists already */
    OSM_EIO = 74,         /* I/O or store error */
    OSM_ETEMPFAIL = 75,   /* store busy past the timeout: try again */
    OSM_ENOPERM = 77,     /* permission denied (workgroup membership) */
    OSM_ECONFIG = 78      /* bad cartridge or configuration */
};

typedef struct osm_err {
    int code;             /* one of the statuses above; 0 when clear */
    char msg[1024];       /* one line, no trailing newline */
} osm_err;

/*
 * Record a failure in err (which may be NULL) and return code, so that
 * callers can write "return osm_fail(err, OSM_EDATA, "bad %s", x);".
 */
int osm_fail(osm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err->msg with "context: " (used when an error crosses a layer). */
void osm_err_prefix(osm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void osm_err_clear(osm_err *err);

/* The worse of two exit statuses: the higher, with 0 lowest. */
int osm_worst(int a, int b);

/* Program-wide diagnostics (bin/ only). */
void diag_init(const char *argv0);
const char *diag_prog(void);
void diag_set_verbosity(int level); /* -1 quiet, 0 normal, 1+ verbose */
int diag_verbosity(void);

/* "prog: fmt" to stderr; diag_warn is silenced by -q, diag_info needs -v. */
void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_verror(const char *fmt, va_list ap);

/*
 * A line is drawn in place on standard error (a progress display,
 * lib/progress.c), not ended: the next diagnostic clears it first.
 */
void diag_line_in_place(int on);

/* Print err as "prog: msg" and return its code. */
int diag_report(const osm_err *err);

/* Print "prog: fmt" and exit with status. */
_Noreturn void diag_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
