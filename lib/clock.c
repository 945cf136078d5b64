/*
 * The clock (OSM_NOW or the system clock) and the two textual time
 * formats every document uses: RFC 3339 instants and ISO 8601 durations.
 * Calendar arithmetic is done here by hand (days from a civil date) so
 * that neither TZ nor the C library's mktime can change a result.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define CLOCK_DURATION_LIMIT (3000LL * 365 * 86400000)

static int clock_loaded;
static int clock_fixed;
static int64_t clock_fixed_ms;

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, unsigned m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Read exactly n digits at *p; -1 if they are not there. */
static int
digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

int
rfc3339_parse(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0, frac = 0, off = 0;

    if (!s)
        return -1;
    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 ||
        *p++ != '-' || (d = digits(&p, 2)) < 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo))
        return -1;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -1;
        p++;
        if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0 ||
            *p++ != ':' || (se = digits(&p, 2)) < 0)
            return -1;
        if (h > 23 || mi > 59 || se > 60)
            return -1;
        if (se == 60)   /* a leap second is the last instant of its minute */
            se = 59;
        if (*p == '.') {
            int scale = 100, n = 0;
            p++;
            while (isdigit((unsigned char)*p)) {
                frac += (*p - '0') * scale;
                scale /= 10;
                p++;
                n++;
            }
            if (n == 0)
                return -1;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
                oh > 23 || om > 59)
                return -1;
            off = sign * (oh * 60 + om);
        } else {
            return -1;
        }
        if (*p)
            return -1;
    }
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)off * 60;
    /* an offset can carry an instant out of the years 0000-9999 (e.g.
     * 9999-12-31T23:59:59-00:15): refused, since it could not be written
     * back as RFC 3339 */
    if (secs < days_from_civil(0, 1, 1) * 86400 || secs >= days_from_civil(10000, 1, 1) * 86400)
        return -1;
    *ms = secs * 1000 + frac;
    return 0;
}

void
rfc3339_format(int64_t ms, char out[CLOCK_RFC3339_MAX])
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int rem = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    if (rem)
        snprintf(out, CLOCK_RFC3339_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                 (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                 (int)(sod % 60), rem);
    else
        snprintf(out, CLOCK_RFC3339_MAX, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                 (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                 (int)(sod % 60));
}

int
duration_parse(const char *s, int64_t *ms)
{
    static const struct { char c; int in_time; int64_t ms; } units[] = {
        { 'Y', 0, 365LL * 86400000 }, { 'M', 0, 30LL * 86400000 },
        { 'W', 0, 7LL * 86400000 },   { 'D', 0, 86400000 },
        { 'H', 1, 3600000 },          { 'M', 1, 60000 },
        { 'S', 1, 1000 },
    };
    const char *p = s;
    int64_t total = 0;
    size_t next = 0;
    int in_time = 0, any = 0;

    if (!s || *p++ != 'P' || !*p)
        return -1;
    while (*p) {
        if (*p == 'T') {
            if (in_time || !p[1])
                return -1;
            in_time = 1;
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            return -1;
        int64_t whole = 0, frac = 0, scale = 1000;
        int fraction = 0;
        while (isdigit((unsigned char)*p)) {
            if (whole > 100000000)
                return -1;
            whole = whole * 10 + (*p++ - '0');
        }
        if (*p == '.' || *p == ',') {
            p++;
            fraction = 1;
            if (!isdigit((unsigned char)*p))
                return -1;
            while (isdigit((unsigned char)*p)) {
                scale /= 10;
                frac += (*p++ - '0') * scale;
            }
        }
        size_t i;
        for (i = next; i < sizeof units / sizeof units[0]; i++)
            if (units[i].c == *p && units[i].in_time == in_time)
                break;
        if (i == sizeof units / sizeof units[0])
            return -1;
        /* a fraction is allowed on the last component only (ISO 8601) */
        if (fraction && p[1])
            return -1;
        /* no more than about 3000 years in all, and no overflow on the way */
        if (whole > CLOCK_DURATION_LIMIT / units[i].ms)
            return -1;
        total += whole * units[i].ms + frac * (units[i].ms / 1000);
        if (total > CLOCK_DURATION_LIMIT)
            return -1;
        next = i + 1;
        any = 1;
        p++;
    }
    if (!any)
        return -1;
    *ms = total;
    return 0;
}

/*
 * The short form: NUMBER UNIT pairs, units from the largest down.  Each
 * number is read as whole digits and up to nine decimals, so that
 * numerator * unit stays well inside int64 (1e9 * 86400000 < 2^63).
 */
static int
duration_parse_short(const char *s, int64_t *ms, osm_err *err)
{
    static const struct { const char *name; int64_t ms; } units[] = {
        { "d", 86400000 }, { "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 },
    };
    /* rank of each unit above, largest first: d h m s ms */
    static const int rank[] = { 0, 1, 4, 2, 3 };
    const char *p = s;
    int64_t total = 0;
    int last = -1;

    while (*p) {
        int64_t whole = 0, num = 0, den = 1;
        if (!isdigit((unsigned char)*p))
            goto bad;
        while (isdigit((unsigned char)*p)) {
            if (whole > 100000000)
                goto long_;
            whole = whole * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            for (; isdigit((unsigned char)*p); p++)
                if (den < 1000000000) {
                    num = num * 10 + (*p - '0');
                    den *= 10;
                }
        }
        size_t i, n = 0;
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            n = strlen(units[i].name);
            if (strncmp(p, units[i].name, n) == 0)
                break;
        }
        if (i == sizeof units / sizeof units[0])
            goto bad;
        if (rank[i] <= last)
            return osm_fail(err, OSM_EUSAGE,
                            "units out of order in \"%.200s\" (d, h, m, s, ms, each at most once)",
                            s);
        last = rank[i];
        p += n;
        if (whole > CLOCK_DURATION_LIMIT / units[i].ms)
            goto long_;
        total += whole * units[i].ms + num * units[i].ms / den;
        if (total > CLOCK_DURATION_LIMIT)
            goto long_;
    }
    *ms = total;
    return 0;
bad:
    return osm_fail(err, OSM_EUSAGE,
                    "not a duration: \"%.200s\" (e.g. 200ms, 0.2s, 2m, 1h30m, 2d or PT5S)", s);
long_:
    return osm_fail(err, OSM_EUSAGE, "duration too long: \"%.200s\" (at most 3000 years)", s);
}

int
duration_parse_arg(const char *s, int64_t *ms, osm_err *err)
{
    if (!s || !*s)
        return osm_fail(err, OSM_EUSAGE, "empty duration");
    if (*s == '-')
        return osm_fail(err, OSM_EUSAGE, "negative duration: \"%.200s\"", s);
    if (*s == 'P') {
        if (duration_parse(s, ms) != 0)
            return osm_fail(err, OSM_EUSAGE,
                            "not an ISO 8601 duration: \"%.200s\" (e.g. PT5S, PT0.2S, P1DT2H)", s);
        return 0;
    }
    return duration_parse_short(s, ms, err);
}

int
instant_parse_arg(const char *s, int64_t *ms, osm_err *err)
{
    int64_t d;
    if (!s || !*s)
        return osm_fail(err, OSM_EUSAGE, "empty date");
    if (strcmp(s, "now") == 0) {
        *ms = clock_now();
        return 0;
    }
    if (*s == '-' || *s == '+') {
        osm_err derr = { 0, "" };
        if (duration_parse_arg(s + 1, &d, &derr) != 0)
            return osm_fail(err, OSM_EUSAGE, "%s", derr.msg);
        *ms = *s == '-' ? clock_now() - d : clock_now() + d;
        return 0;
    }
    if (rfc3339_parse(s, ms) != 0)
        return osm_fail(err, OSM_EUSAGE,
                        "not a date: \"%.200s\" (e.g. 2026-11-26, 2026-11-26T09:00:00Z, now, "
                        "-2h, +1d)", s);
    return 0;
}

void
duration_format(int64_t ms, char out[CLOCK_DURATION_MAX])
{
    char *o = out;
    size_t left = CLOCK_DURATION_MAX;
    int n;

    if (ms < 0)
        ms = 0;
    int64_t days = ms / 86400000, rest = ms % 86400000;
    n = snprintf(o, left, "P");
    o += n, left -= (size_t)n;
    if (days) {
        n = snprintf(o, left, "%lldD", (long long)days);
        o += n, left -= (size_t)n;
    }
    if (rest || !days) {
        int64_t h = rest / 3600000, m = rest / 60000 % 60, s = rest / 1000 % 60;
        int frac = (int)(rest % 1000);
        n = snprintf(o, left, "T");
        o += n, left -= (size_t)n;
        if (h) {
            n = snprintf(o, left, "%lldH", (long long)h);
            o += n, left -= (size_t)n;
        }
        if (m) {
            n = snprintf(o, left, "%lldM", (long long)m);
            o += n, left -= (size_t)n;
        }
        if (frac) {
            char f[8];
            snprintf(f, sizeof f, "%03d", frac);
            for (int i = 2; i > 0 && f[i] == '0'; i--)
                f[i] = '\0';
            snprintf(o, left, "%lld.%sS", (long long)s, f);
        } else if (s || (!h && !m)) {
            snprintf(o, left, "%lldS", (long long)s);
        }
    }
}

int
clock_init(osm_err *err)
{
    /* a setuid or setgid program keeps the real time: the history is evidence */
    const char *v = secure_getenv("OSM_NOW");

    clock_loaded = 1;
    clock_fixed = 0;
    if (!v || !*v)
        return 0;
    if (rfc3339_parse(v, &clock_fixed_ms) != 0)
        return osm_fail(err, OSM_ECONFIG, "OSM_NOW: \"%s\" is not an RFC 3339 instant", v);
    clock_fixed = 1;
    return 0;
}

int64_t
clock_now(void)
{
    struct timespec ts;

    if (!clock_loaded)
        clock_init(NULL);
    if (clock_fixed)
        return clock_fixed_ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
