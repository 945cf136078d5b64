/*
 * Tables for people (see termtable.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "termtable.h"
#include "termtext.h"
#include "xalloc.h"

struct termtable {
    char **cells;
    size_t ncols, ncells, cap;
    size_t state_col;           /* ncols: none */
    size_t *keep;               /* widths carried from piece to piece, or NULL */
    int headless;               /* the first row is data */
    struct note {
        size_t row;             /* printed under this row */
        char *text;
    } *notes;
    size_t nnotes, notecap;
};

termtable *
termtable_new(size_t ncols)
{
    termtable *t = xcalloc(1, sizeof *t);
    t->ncols = ncols ? ncols : 1;
    t->state_col = t->ncols;
    return t;
}

void
termtable_cell(termtable *t, const char *text)
{
    if (t->ncells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = xrealloc(t->cells, t->cap * sizeof *t->cells);
    }
    t->cells[t->ncells++] = termtext_escape(text && *text ? text : "-");
}

void
termtable_cellf(termtable *t, const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    termtable_cell(t, buf);
}

void
termtable_note(termtable *t, const char *text)
{
    if (t->nnotes == t->notecap) {
        t->notecap = t->notecap ? t->notecap * 2 : 16;
        t->notes = xrealloc(t->notes, t->notecap * sizeof *t->notes);
    }
    t->notes[t->nnotes].row = t->ncells ? (t->ncells - 1) / t->ncols : 0;
    t->notes[t->nnotes++].text = termtext_escape(text ? text : "");
}

void
termtable_state_column(termtable *t, size_t col)
{
    t->state_col = col;
}

void
termtable_continue(termtable *t, size_t *keep, int heading)
{
    t->keep = keep;
    t->headless = !heading;
}

int
termtable_colours(FILE *f)
{
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(fileno(f)) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

/* The SGR colour of a state, or NULL: green done, red failed, yellow held. */
static const char *
state_colour(const char *s)
{
    static const struct { const char *state, *sgr; } map[] = {
        { "completed", "32" },   { "ok", "32" },          { "skipped", "32" },
        { "failed", "31" },      { "aborted", "31" },     { "FAILED", "31" },
        { "suspended", "33" },   { "waiting", "33" },     { "claimed", "33" },
        { "waiting_for_revision", "33" }, { "amending", "33" }, { "cancelling", "33" },
        { "in_progress", "36" }, { "running", "36" },     { "ready", "36" },
        { "cancelled", "2" },
        { "valid", "32" },       { "INVALID", "31" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].state) == 0)
            return map[i].sgr;
    return NULL;
}

int
termtable_print(termtable *t, FILE *f)
{
    size_t *w = xcalloc(t->ncols, sizeof *w), note = 0;
    int colours = t->state_col < t->ncols && termtable_colours(f);

    if (t->keep)
        memcpy(w, t->keep, t->ncols * sizeof *w);
    for (size_t i = 0; i < t->ncells; i++) {
        size_t len = strlen(t->cells[i]);
        if (len > w[i % t->ncols])
            w[i % t->ncols] = len;
    }
    for (size_t r = 0; r * t->ncols < t->ncells; r++) {
        for (size_t c = 0; c < t->ncols && r * t->ncols + c < t->ncells; c++) {
            const char *s = t->cells[r * t->ncols + c];
            int data = r > 0 || t->headless;
            const char *sgr = colours && data && c == t->state_col ? state_colour(s) : NULL;
            int last = c + 1 == t->ncols || r * t->ncols + c + 1 == t->ncells;
            size_t pad = last ? 0 : w[c] - strlen(s) + 2;
            if (sgr)
                fprintf(f, "\033[%sm%s\033[0m", sgr, s);
            else
                fputs(s, f);
            for (size_t k = 0; k < pad; k++)
                fputc(' ', f);
        }
        fputc('\n', f);
        for (; note < t->nnotes && t->notes[note].row == r; note++)
            fprintf(f, "    %s\n", t->notes[note].text);
    }
    for (; note < t->nnotes; note++)
        fprintf(f, "    %s\n", t->notes[note].text);
    for (size_t i = 0; i < t->nnotes; i++)
        free(t->notes[i].text);
    free(t->notes);
    if (t->keep)
        memcpy(t->keep, w, t->ncols * sizeof *w);
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    free(w);
    return fflush(f) != 0 || ferror(f) ? OSM_EIO : 0;
}

const char *
termtable_time(int64_t ms, char buf[TERMTABLE_TIME_MAX])
{
    char full[CLOCK_RFC3339_MAX];
    if (ms < 0) {
        snprintf(buf, TERMTABLE_TIME_MAX, "-");
        return buf;
    }
    rfc3339_format(ms, full);
    snprintf(buf, TERMTABLE_TIME_MAX, "%.10s %.5s", full, full + 11);
    return buf;
}
