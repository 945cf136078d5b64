/*
 * Text on its way to a person's terminal.  What the tables of
 * `--format table` print comes from order sources, cartridges and
 * external systems, and a terminal acts on some of its bytes: an escape
 * sequence in an externalId can clear the screen, retitle the window or
 * recolour what follows, a carriage return can overwrite a line, and a
 * bidirectional override can show a row's text in another order.  Those
 * bytes are shown escaped instead, so that the table shows the data as
 * it is and the terminal does nothing with it:
 *
 *   tab, newline, carriage return    \t  \n  \r
 *   other C0 controls and DEL        \xHH        (ESC is \x1b)
 *   C1 controls U+0080..U+009F       \uHHHH
 *   bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069)
 *                                    \uHHHH
 *   bytes that are not UTF-8         \xHH
 *
 * Everything else, other UTF-8 characters included, is kept.
 */
#ifndef OSM_TERMTEXT_H
#define OSM_TERMTEXT_H

#include <stdio.h>

/* s (NULL reads as "") escaped as above, malloc'ed: the caller frees it. */
char *termtext_escape(const char *s);

/*
 * Format a line as printf does, escape all of it as above, and write it
 * to f followed by a newline: the format should not end in "\n" (it would
 * be escaped).  Write errors are left for the caller to find with ferror().
 */
void termtext_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
