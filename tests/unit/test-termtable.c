/* lib/termtable: tables sized to their content, "-" for empty cells,
 * one time format, and colours only on a terminal. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "tap.h"
#include "termtable.h"

/* termtable_print() into a string (free it); *rc its status. */
static char *
print(termtable *t, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *rc = termtable_print(t, f);
    fclose(f);
    return buf;
}

int
main(void)
{
    char at[TERMTABLE_TIME_MAX];
    int rc = -1;

    termtable *t = termtable_new(3);
    termtable_state_column(t, 2);
    termtable_cell(t, "NAME");
    termtable_cell(t, "WHEN");
    termtable_cell(t, "STATE");
    termtable_cell(t, "a-rather-long-name");
    termtable_cell(t, termtable_time(1795651200000LL, at));
    termtable_cell(t, "completed");
    termtable_cell(t, "b");
    termtable_cell(t, NULL);
    termtable_cellf(t, "%s", "");
    termtable_cell(t, "esc\x1b[2J");
    termtable_cell(t, termtable_time(-1, at));
    termtable_cell(t, "failed");
    char *got = print(t, &rc);
    is_int(rc, 0, "status");
    is_str(got,
           "NAME                WHEN              STATE\n"
           "a-rather-long-name  2026-11-26 00:00  completed\n"
           "b                   -                 -\n"
           "esc\\x1b[2J          -                 failed\n",
           "columns as wide as their cells, - for empty ones, escaped, no colour off a terminal");
    free(got);

    t = termtable_new(2);
    termtable_cell(t, "ONE");
    got = print(t, &rc);
    is_str(got, "ONE\n", "a row cut short ends where it ends");
    free(got);

    /* a table in pieces: the widths carried, headings only in the first */
    size_t keep[2] = { 0, 0 };
    t = termtable_new(2);
    termtable_continue(t, keep, 1);
    termtable_cell(t, "ID");
    termtable_cell(t, "STATE");
    termtable_cell(t, "1");
    termtable_cell(t, "ok");
    got = print(t, &rc);
    is_str(got, "ID  STATE\n1   ok\n", "the first piece: headings and rows");
    free(got);
    ok(keep[0] == 2 && keep[1] == 5, "the widths are kept");
    t = termtable_new(2);
    termtable_continue(t, keep, 0);
    termtable_cell(t, "12345");
    termtable_cell(t, "completed");
    termtable_cell(t, "2");
    termtable_cell(t, "");
    got = print(t, &rc);
    is_str(got, "12345  completed\n2      -\n", "the next piece: no headings, columns only grow");
    free(got);
    ok(keep[0] == 5 && keep[1] == 9, "the grown widths are kept");

    /* notes: lines of their own under their row, outside the columns */
    t = termtable_new(2);
    termtable_cell(t, "RESULT");
    termtable_cell(t, "ID");
    termtable_cell(t, "INVALID");
    termtable_cell(t, "1");
    termtable_note(t, ".customer: a very long problem that does not widen any column");
    termtable_note(t, "esc\x1b");
    termtable_cell(t, "valid");
    termtable_cell(t, "2");
    got = print(t, &rc);
    is_str(got,
           "RESULT   ID\n"
           "INVALID  1\n"
           "    .customer: a very long problem that does not widen any column\n"
           "    esc\\x1b\n"
           "valid    2\n",
           "notes under their row, escaped, not measured");
    free(got);

    setenv("NO_COLOR", "1", 1);
    ok(!termtable_colours(stdout), "NO_COLOR: no colours");
    unsetenv("NO_COLOR");

    FILE *full = fopen("/dev/full", "w");
    if (full) {
        t = termtable_new(1);
        termtable_cell(t, "x");
        is_int(termtable_print(t, full), OSM_EIO, "a write error is OSM_EIO");
        fclose(full);
    } else {
        ok(1, "# SKIP no /dev/full");
    }
    return done_testing();
}
