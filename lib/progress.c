/*
 * The progress display (see progress.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "progress.h"
#include "xalloc.h"

struct progress {
    const char *noun;
    int on, tty;
    int shared;                 /* standard output is a terminal too */
    int in_place;               /* a line is drawn and not ended */
    int64_t total, done, fallout;
    int64_t started, drawn;     /* monotonic ms; drawn: -1 never */
};

/* A terminal is redrawn ten times a second; a log gets a line a second. */
#define PROGRESS_TTY_MS 100
#define PROGRESS_LOG_MS 1000

int
progress_mode(int forced)
{
    if (diag_verbosity() < 0)
        return PROGRESS_OFF;
    return forced ? PROGRESS_ON : PROGRESS_AUTO;
}

progress *
progress_new(const char *noun, int mode)
{
    progress *p = xcalloc(1, sizeof *p);
    p->noun = noun;
    p->tty = isatty(STDERR_FILENO);
    p->shared = p->tty && isatty(STDOUT_FILENO);
    p->on = mode == PROGRESS_ON || (mode == PROGRESS_AUTO && p->tty);
    p->total = -1;
    p->started = clock_monotonic_ms();
    p->drawn = -1;
    return p;
}

int
progress_on(const progress *p)
{
    return p && p->on;
}

void
progress_total(progress *p, int64_t total)
{
    if (p)
        p->total = total;
}

/* "0:07", "12:34", "1:02:03" */
static void
elapsed(int64_t ms, char out[32])
{
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, 32, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, 32, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static void
draw(progress *p, int64_t now, int final)
{
    char count[64], rate[32], time[32], fallout[48] = "";
    int64_t ms = now - p->started;

    if (p->total >= 0 && !final)
        snprintf(count, sizeof count, "%lld/%lld %s", (long long)p->done, (long long)p->total,
                 p->noun);
    else
        snprintf(count, sizeof count, "%lld %s", (long long)p->done, p->noun);
    if (ms > 0)
        snprintf(rate, sizeof rate, "%.1f/s", (double)p->done * 1000.0 / (double)ms);
    else
        snprintf(rate, sizeof rate, "-/s");
    if (p->fallout > 0)
        snprintf(fallout, sizeof fallout, ", %lld fallout", (long long)p->fallout);
    elapsed(ms, time);
    if (final)
        fprintf(stderr, "%s%s: %s in %s (%s)%s\n", p->tty ? "\r\033[K" : "", diag_prog(), count,
                time, rate, fallout);
    else if (p->tty)
        fprintf(stderr, "\r\033[K%s: %s  %s%s  %s", diag_prog(), count, rate, fallout, time);
    else
        fprintf(stderr, "%s: %s  %s%s  %s\n", diag_prog(), count, rate, fallout, time);
    fflush(stderr);
    p->in_place = p->tty && !final;
    diag_line_in_place(p->in_place);
    p->drawn = now;
}

void
progress_set(progress *p, int64_t done, int64_t fallout)
{
    if (!p || !p->on)
        return;
    p->done = done;
    p->fallout = fallout;
    int64_t now = clock_monotonic_ms();
    if (p->drawn < 0 || now - p->drawn >= (p->tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS))
        draw(p, now, 0);
}

void
progress_clear(progress *p)
{
    if (!p || !p->in_place || !p->shared)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->in_place = 0;
    diag_line_in_place(0);
}

void
progress_finish(progress *p)
{
    if (!p)
        return;
    if (p->on)
        draw(p, clock_monotonic_ms(), 1);
    free(p);
}
