/*
 * The tables of --format table: cells gathered row by row (the first row
 * the headings), each column as wide as its widest cell, two blanks
 * between columns, "-" for every empty cell, times in one format
 * ("2026-11-26 09:00", UTC), and the cells of a state column coloured on
 * a terminal unless NO_COLOR is set (https://no-color.org) or TERM is
 * dumb.  Cells are escaped (termtext.h) before they are measured, so a
 * table shows the data as it is and lines up whatever it holds.
 */
#ifndef OSM_TERMTABLE_H
#define OSM_TERMTABLE_H

#include <stdint.h>
#include <stdio.h>

#define TERMTABLE_TIME_MAX 32

typedef struct termtable termtable;

/* A table of ncols columns; never NULL. */
termtable *termtable_new(size_t ncols);

/* The next cell, left to right, row after row (NULL or "" shows "-"). */
void termtable_cell(termtable *t, const char *text);
void termtable_cellf(termtable *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A line of its own under the last row given (under the headings when
 * there is none yet), indented four blanks and outside the columns: a
 * row's detail, such as one problem of an invalid order.
 */
void termtable_note(termtable *t, const char *text);

/* Column col holds order or task states: colour them on a terminal. */
void termtable_state_column(termtable *t, size_t col);

/*
 * A table printed in pieces (a long listing, a followed feed): keep[ncols]
 * holds the column widths of the pieces printed before (zeroed before the
 * first), taken as t's least widths and updated when t is printed, so that
 * columns only grow.  With heading 0, t's first row is data, not headings.
 */
void termtable_continue(termtable *t, size_t *keep, int heading);

/* Print t to f and free it; returns 0 or OSM_EIO. */
int termtable_print(termtable *t, FILE *f);

/* An instant as tables show it, "2026-11-26 09:00", or "-" when ms < 0. */
const char *termtable_time(int64_t ms, char buf[TERMTABLE_TIME_MAX]);

/* Does f get colours (a terminal, NO_COLOR unset or empty, TERM not dumb)? */
int termtable_colours(FILE *f);

#endif
