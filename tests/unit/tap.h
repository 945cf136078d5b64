/*
 * A minimal TAP producer for the lib/ unit tests: ok(), is_int(),
 * is_str(), diag output as "# ..." and done_testing() which prints the
 * plan and returns the exit status for main().  Header-only on purpose:
 * each test program is one file plus libosm.
 */
#ifndef OSM_TAP_H
#define OSM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void
tap_vdiag(const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    printf("# ");
    for (char *p = buf; *p; p++) {
        putchar(*p);
        if (*p == '\n' && p[1])
            printf("# ");
    }
    putchar('\n');
}

static void
tap_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vdiag(fmt, ap);
    va_end(ap);
}

static int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!cond) {
        tap_failed++;
        tap_diag("failed at %s:%d", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {                                        \
        long long g_ = (long long)(got), w_ = (long long)(want);           \
        if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))            \
            tap_diag("got %lld, want %lld", g_, w_);                       \
    } while (0)

#define is_str(got, want, ...) do {                                        \
        const char *g_ = (got), *w_ = (want);                              \
        int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;              \
        if (!tap_ok(c_, __FILE__, __LINE__, __VA_ARGS__))                  \
            tap_diag("got \"%s\"\nwant \"%s\"", g_ ? g_ : "(null)",        \
                     w_ ? w_ : "(null)");                                  \
    } while (0)

static int
done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
