/*
 * Durations and numbers as people type them on a command line or in an
 * environment variable ("30s", "2m", "1h30m", "500ms", "1.5s"), and
 * seconds as the tools print them. Shared by the liveness command and the
 * LD_PRELOAD shim; no allocation, no global state.
 */
#ifndef LIVENESS_TOOLS_DURATION_H
#define LIVENESS_TOOLS_DURATION_H

#include <stddef.h>

#include "liveness.h"

/*
 * Parse one or more <number>[.<fraction>]<unit> parts, units ns, us, ms, s,
 * m, h and d, into nanoseconds. Returns 0, -EINVAL (not a duration; *why
 * names the problem) or -ERANGE (does not fit in 64-bit nanoseconds). *out
 * is set only on success; why may be NULL.
 */
int lvt_parse_duration(const char *s, liveness_time *out, const char **why);

/* Parse a plain decimal integer 0..max. Returns 0, -EINVAL or -ERANGE. */
int lvt_parse_uint(const char *s, unsigned long long max, unsigned long long *out,
		   const char **why);

/*
 * Format nanoseconds as seconds for people: "7875 s", "57.25 s", "0.5 s",
 * rounded UP to the hundredth, so a worst case is never understated.
 * LIVENESS_NEVER prints as "never". Returns buf.
 */
const char *lvt_fmt_sec(liveness_time t, char *buf, size_t len);

/*
 * As lvt_fmt_sec(), but from an hour up in days, hours, minutes and
 * seconds, with the seconds after them: "24 d (2073600 s)",
 * "2 h 11 min 15 s (7875 s)". Returns buf.
 */
const char *lvt_fmt_long(liveness_time t, char *buf, size_t len);

/*
 * The largest unit of lvt_parse_duration()'s, at most largest nanoseconds,
 * of which t is a whole number: its nanoseconds, and its name in *name (if
 * name is not NULL). 0 is counted in seconds.
 */
liveness_time lvt_duration_unit(liveness_time t, liveness_time largest, const char **name);

/*
 * Format nanoseconds the way lvt_parse_duration() reads them back, in the
 * largest unit up to hours that keeps them whole: "30s", "2m", "1500ms".
 */
const char *lvt_fmt_duration(liveness_time t, char *buf, size_t len);

#endif
