/*
 * The one-line progress display of long runs (osm-run, osm-submit of a
 * stream, osm-status --purge, osm-cartridge test): on standard error,
 * done/total, rate, fallout and elapsed time, redrawn in place on a
 * terminal, and a summary line at the end.  On a terminal it is on
 * unless -q; off a terminal only --progress turns it on, and then it
 * prints a line at most once a second instead of redrawing.  Standard
 * output is never touched.
 */
#ifndef OSM_PROGRESS_H
#define OSM_PROGRESS_H

#include <stdint.h>

/* progress_new() modes */
#define PROGRESS_AUTO 0     /* on when standard error is a terminal */
#define PROGRESS_ON 1       /* --progress: on wherever standard error goes */
#define PROGRESS_OFF 2      /* -q: never */

typedef struct progress progress;

/*
 * The mode a program's options ask for: OFF under -q (diag_verbosity()
 * below 0), ON with --progress (forced non-zero), else AUTO.
 */
int progress_mode(int forced);

/*
 * A display counting noun ("tasks", "orders"), in mode; never NULL.  A
 * display that is off costs a branch per call; every function takes NULL
 * as a display that is off.
 */
progress *progress_new(const char *noun, int mode);

/* Is it shown at all? */
int progress_on(const progress *p);

/* How many there are in all, once known (-1, the default: unknown). */
void progress_total(progress *p, int64_t total);

/* How many are done and how many of those fell out (or were refused);
 * redraws when it is time to. */
void progress_set(progress *p, int64_t done, int64_t fallout);

/*
 * Before writing to standard output: when it is the terminal the line is
 * drawn on, clear the line (it is drawn again at the next redraw).
 */
void progress_clear(progress *p);

/* Clear the line, print the summary (when on) and free p (NULL is fine). */
void progress_finish(progress *p);

#endif
