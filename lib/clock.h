/*
 * Time: the current instant (honouring OSM_NOW so that time-dependent
 * behaviour is testable without sleeping), RFC 3339 instants and ISO 8601
 * durations, and the short durations of command lines ("200ms", "1h30m").
 * All times are int64 milliseconds since the Unix epoch, UTC.
 */
#ifndef OSM_CLOCK_H
#define OSM_CLOCK_H

#include <stdint.h>

#include "diag.h"

#define CLOCK_RFC3339_MAX 64   /* buffer size for rfc3339_format() */
#define CLOCK_DURATION_MAX 48  /* buffer size for duration_format() */

/*
 * Read OSM_NOW once.  Returns 0, or OSM_ECONFIG when it is set but is not
 * an RFC 3339 instant.  Programs call it at start; clock_now() calls it
 * lazily (ignoring a bad value, which clock_init reports) otherwise.
 */
int clock_init(osm_err *err);

/* The current instant: OSM_NOW when set, else the system clock. */
int64_t clock_now(void);

/* Wall-clock time regardless of OSM_NOW (for measuring durations). */
int64_t clock_monotonic_ms(void);

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (a space or lowercase
 * 't'/'z' accepted) or a bare date "YYYY-MM-DD" (midnight UTC).  Returns 0
 * and sets *ms, or -1 when s is not such an instant (*ms unchanged).
 */
int rfc3339_parse(const char *s, int64_t *ms);

/* Format as "YYYY-MM-DDTHH:MM:SSZ", with ".mmm" when ms has a fraction. */
void rfc3339_format(int64_t ms, char out[CLOCK_RFC3339_MAX]);

/*
 * Parse an ISO 8601 duration: P[nY][nM][nW][nD][T[nH][nM][n[.n]S]], e.g.
 * PT30S, PT5M, P2D, P1DT12H, PT0.5S, PT1.5H (a fraction on the last
 * component only).  A year counts as 365 days and a
 * month as 30 (durations here are for planning, not calendars).  Returns
 * 0 and sets *ms, or -1 (*ms unchanged).
 */
int duration_parse(const char *s, int64_t *ms);

/*
 * Parse a duration as a person types it on a command line: an ISO 8601
 * duration (as duration_parse) or one or more NUMBER UNIT with the units
 * d, h, m, s and ms, from the largest down, each at most once; a number
 * may have decimals.  E.g. "200ms", "0.2s", "2m", "1h30m", "1.5h", "2d".
 * What is finer than a millisecond is dropped.  Returns 0 and sets *ms,
 * or OSM_EUSAGE with err saying why, e.g. not a duration: "5 minutes"
 * (*ms unchanged).
 */
int duration_parse_arg(const char *s, int64_t *ms, osm_err *err);

/*
 * Parse an instant as a person types it on a command line: an RFC 3339
 * instant or date (as rfc3339_parse), "now", or a duration before or
 * after now ("-2h", "+1d", "-PT30M": see duration_parse_arg), "now"
 * being clock_now().  Returns 0 and sets *ms, or OSM_EUSAGE with err
 * saying why (*ms unchanged).
 */
int instant_parse_arg(const char *s, int64_t *ms, osm_err *err);

/* The shortest canonical form: "PT0S", "PT1M30S", "P2DT3H", "PT0.25S". */
void duration_format(int64_t ms, char out[CLOCK_DURATION_MAX]);

#endif
