/*
 * Diagnostics: the one place that formats messages for stderr, and the
 * osm_err record that carries a failure from lib/ up to bin/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "termtext.h"

static const char *prog = "osm";
static int verbosity;

int
osm_fail(osm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void
osm_err_prefix(osm_err *err, const char *fmt, ...)
{
    char tmp[sizeof err->msg];
    size_t n, m;
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    n = strlen(tmp);
    if (n + 2 < sizeof tmp) {
        memcpy(tmp + n, ": ", 2);
        n += 2;
    }
    m = strlen(err->msg);
    if (m > sizeof tmp - 1 - n)
        m = sizeof tmp - 1 - n;
    memcpy(tmp + n, err->msg, m);
    tmp[n + m] = '\0';
    memcpy(err->msg, tmp, sizeof tmp);
}

void
osm_err_clear(osm_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

int
osm_worst(int a, int b)
{
    return a > b ? a : b;
}

void
diag_init(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    if (argv0)
        prog = slash ? slash + 1 : argv0;
    /* libtool-style wrappers and sanitizer builds keep the plain name */
    if (strncmp(prog, "lt-", 3) == 0)
        prog += 3;
}

const char *
diag_prog(void)
{
    return prog;
}

void
diag_set_verbosity(int level)
{
    verbosity = level;
}

int
diag_verbosity(void)
{
    return verbosity;
}

/* a progress line is on the terminal, unfinished: clear it first */
static int line_in_place;

void
diag_line_in_place(int on)
{
    line_in_place = on;
}

void
diag_verror(const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    /* one line per diagnostic, whatever the message holds, and nothing
     * in it that a terminal would act on (termtext.h) */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    char *shown = termtext_escape(buf);
    if (line_in_place) {
        fputs("\r\033[K", stderr);
        line_in_place = 0;
    }
    fprintf(stderr, "%s: %s\n", prog, shown);
    free(shown);
}

void
diag_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_verror(fmt, ap);
    va_end(ap);
}

void
diag_warn(const char *fmt, ...)
{
    va_list ap;
    if (verbosity < 0)
        return;
    va_start(ap, fmt);
    diag_verror(fmt, ap);
    va_end(ap);
}

void
diag_info(const char *fmt, ...)
{
    va_list ap;
    if (verbosity < 1)
        return;
    va_start(ap, fmt);
    diag_verror(fmt, ap);
    va_end(ap);
}

int
diag_report(const osm_err *err)
{
    diag_error("%s", err->msg[0] ? err->msg : "unknown error");
    return err->code ? err->code : OSM_ESOFTWARE;
}

void
diag_die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_verror(fmt, ap);
    va_end(ap);
    exit(status);
}
