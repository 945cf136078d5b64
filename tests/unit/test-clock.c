/* lib/clock: RFC 3339 instants, ISO 8601 durations and OSM_NOW. */
#include "config.h"

#include <stdlib.h>

#include "clock.h"
#include "tap.h"

static void
instant(const char *in, long long want_ms, const char *want_text)
{
    int64_t ms = -1;
    char out[CLOCK_RFC3339_MAX];
    int rc = rfc3339_parse(in, &ms);
    is_int(rc, 0, "parse %s", in);
    is_int(ms, want_ms, "%s is %lld ms", in, want_ms);
    rfc3339_format(ms, out);
    is_str(out, want_text, "format %lld", want_ms);
}

static void
duration(const char *in, long long want_ms, const char *canonical)
{
    int64_t ms = -1;
    char out[CLOCK_DURATION_MAX];
    is_int(duration_parse(in, &ms), 0, "parse duration %s", in);
    is_int(ms, want_ms, "%s is %lld ms", in, want_ms);
    duration_format(ms, out);
    is_str(out, canonical, "duration %lld ms formats as %s", want_ms, canonical);
}

static void
arg_ok(const char *in, long long want_ms)
{
    int64_t ms = -1;
    osm_err err = { 0, "" };
    is_int(duration_parse_arg(in, &ms, &err), 0, "parse argument %s", in);
    is_int(ms, want_ms, "argument %s is %lld ms", in, want_ms);
    is_str(err.msg, "", "no message for %s", in);
}

static void
arg_bad(const char *in, const char *want_msg)
{
    int64_t ms = 42;
    osm_err err = { 0, "" };
    is_int(duration_parse_arg(in, &ms, &err), OSM_EUSAGE, "refuse argument \"%s\"", in);
    is_int(ms, 42, "refused argument \"%s\" leaves the result alone", in);
    is_str(err.msg, want_msg, "message for \"%s\"", in);
}

int
main(void)
{
    int64_t ms = 42;
    osm_err err = { 0, "" };

    instant("1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z");
    instant("2026-11-26T02:46:35Z", 1795661195000LL, "2026-11-26T02:46:35Z");
    instant("2026-11-26T03:46:35+01:00", 1795661195000LL, "2026-11-26T02:46:35Z");
    instant("2026-11-26T02:46:35.250Z", 1795661195250LL, "2026-11-26T02:46:35.250Z");
    instant("2024-02-29", 1709164800000LL, "2024-02-29T00:00:00Z");
    instant("1969-12-31T23:59:59Z", -1000, "1969-12-31T23:59:59Z");
    /* the ends of the years 0000-9999, which an offset may reach */
    instant("9999-12-31T23:59:59.999Z", 253402300799999LL, "9999-12-31T23:59:59.999Z");
    instant("9999-12-31T23:59:59+00:15", 253402299899000LL, "9999-12-31T23:44:59Z");
    instant("0000-01-01T00:00:00Z", -62167219200000LL, "0000-01-01T00:00:00Z");
    instant("0000-01-01T00:00:00-01:00", -62167215600000LL, "0000-01-01T01:00:00Z");

    static const char *bad[] = {
        "", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T02:46:35", "2026-11-26T02:46Z", "26-11-26", "2026-11-26T02:46:35Zjunk",
        "2026-11-26T02:46:35.Z", "now",
        /* found by tests/fuzz/fuzz-time.c: an offset that carries the
         * instant past year 9999 (or before year 0), which would be
         * written back as "10000-01-01T00:14:59.500Z" */
        "9999-12-31 23:59:59.5-00:15", "9999-12-31T23:59:59-00:01",
        "0000-01-01T00:00:00+00:01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 42;
        is_int(rfc3339_parse(bad[i], &ms), -1, "refuse instant \"%s\"", bad[i]);
        is_int(ms, 42, "refused instant leaves the result alone");
    }

    duration("PT30S", 30000, "PT30S");
    duration("PT5M", 300000, "PT5M");
    duration("P2D", 172800000, "P2D");
    duration("P1DT12H", 129600000, "P1DT12H");
    duration("PT0.5S", 500, "PT0.5S");
    duration("PT1M30S", 90000, "PT1M30S");
    duration("P1W", 604800000, "P7D");
    duration("PT0S", 0, "PT0S");
    duration("PT90M", 5400000, "PT1H30M");
    duration("PT1.5H", 5400000, "PT1H30M");
    duration("P1.5D", 129600000, "P1DT12H");

    static const char *badd[] = { "", "P", "PT", "30S", "PT5", "P1H", "PT1D", "P1.5DT1H", "PT0.5M1S",
                                  "PT1S2M", "P-1D", "PT1H2H", "P99999999Y", "P9999Y" };
    for (size_t i = 0; i < sizeof badd / sizeof badd[0]; i++)
        is_int(duration_parse(badd[i], &ms), -1, "refuse duration \"%s\"", badd[i]);

    /* durations as typed on a command line */
    arg_ok("0.2s", 200);
    arg_ok("200ms", 200);
    arg_ok("2m", 120000);
    arg_ok("1h30m", 5400000);
    arg_ok("2d", 172800000);
    arg_ok("1.5h", 5400000);
    arg_ok("0s", 0);
    arg_ok("1d2h3m4s5ms", 93784005);
    arg_ok("90s", 90000);
    arg_ok("2.25d", 194400000);
    arg_ok("1.0005s", 1000);    /* finer than a millisecond is dropped */
    arg_ok("0.123456789123s", 123);
    arg_ok("PT5S", 5000);       /* ISO 8601 still */
    arg_ok("PT0.2S", 200);
    arg_ok("P1DT12H", 129600000);
    const char *hint = " (e.g. 200ms, 0.2s, 2m, 1h30m, 2d or PT5S)";
    char want[256];
    static const char *garbage[] = { "abc", "5", "5 s", " 5s", "5s ", "1h30", "5S", "5M", "1.s",
                                     ".5s", "5sec", "5mss", "1w", "1e3ms", "+5s", "5s5" };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        snprintf(want, sizeof want, "not a duration: \"%s\"%s", garbage[i], hint);
        arg_bad(garbage[i], want);
    }
    arg_bad("", "empty duration");
    osm_err nerr = { 0, "" };
    is_int(duration_parse_arg(NULL, &ms, &nerr), OSM_EUSAGE, "refuse no argument");
    is_str(nerr.msg, "empty duration", "message for no argument");
    arg_bad("-1s", "negative duration: \"-1s\"");
    arg_bad("-PT5S", "negative duration: \"-PT5S\"");
    arg_bad("1m1h", "units out of order in \"1m1h\" (d, h, m, s, ms, each at most once)");
    arg_bad("5s5s", "units out of order in \"5s5s\" (d, h, m, s, ms, each at most once)");
    arg_bad("5ms1s", "units out of order in \"5ms1s\" (d, h, m, s, ms, each at most once)");
    arg_bad("P5", "not an ISO 8601 duration: \"P5\" (e.g. PT5S, PT0.2S, P1DT2H)");
    arg_bad("PT-5S", "not an ISO 8601 duration: \"PT-5S\" (e.g. PT5S, PT0.2S, P1DT2H)");
    arg_bad("1200000d", "duration too long: \"1200000d\" (at most 3000 years)");
    arg_bad("99999999999s", "duration too long: \"99999999999s\" (at most 3000 years)");
    arg_ok("1095000d", 1095000LL * 86400000);

    setenv("OSM_NOW", "2030-01-02T03:04:05Z", 1);
    is_int(clock_init(&err), 0, "OSM_NOW accepted");
    is_int(clock_now(), 1893553445000LL, "clock_now follows OSM_NOW");

    /* instants as typed on a command line, relative to OSM_NOW */
    static const struct { const char *in; long long ms; } instants[] = {
        { "now", 1893553445000LL },
        { "-2h", 1893553445000LL - 7200000 },
        { "+1d", 1893553445000LL + 86400000 },
        { "-1h30m", 1893553445000LL - 5400000 },
        { "-PT30M", 1893553445000LL - 1800000 },
        { "2026-11-26", 1795651200000LL },
        { "2026-11-26T02:46:35Z", 1795661195000LL },
    };
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        osm_err ierr = { 0, "" };
        ms = 0;
        is_int(instant_parse_arg(instants[i].in, &ms, &ierr), 0, "parse instant %s",
               instants[i].in);
        is_int(ms, instants[i].ms, "instant %s is %lld ms", instants[i].in, instants[i].ms);
    }
    ms = 42;
    is_int(instant_parse_arg("yesterday", &ms, &err), OSM_EUSAGE, "refuse instant yesterday");
    is_int(ms, 42, "a refused instant leaves the result alone");
    is_str(err.msg, "not a date: \"yesterday\" (e.g. 2026-11-26, 2026-11-26T09:00:00Z, now, "
           "-2h, +1d)", "message for a bad instant");
    is_int(instant_parse_arg("-2 hours", &ms, &err), OSM_EUSAGE, "refuse \"-2 hours\"");
    setenv("OSM_NOW", "yesterday", 1);
    is_int(clock_init(&err), OSM_ECONFIG, "bad OSM_NOW refused");
    is_str(err.msg, "OSM_NOW: \"yesterday\" is not an RFC 3339 instant", "bad OSM_NOW message");
    unsetenv("OSM_NOW");
    clock_init(NULL);
    ok(clock_now() > 1700000000000LL, "without OSM_NOW the system clock is used");
    return done_testing();
}
