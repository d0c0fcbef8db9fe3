/* Time and periods: RFC 3339 parsing/formatting and calendar years in a fixed
 * UTC offset. Pure functions; the clock itself lives in app.c. */
#ifndef GRADCOVER_CORE_TIMEUTIL_H
#define GRADCOVER_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"

/* Earliest and latest years accepted anywhere (registrations, contacts, periods). */
#define GC_YEAR_MIN 2000
#define GC_YEAR_MAX 2199

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" into Unix milliseconds.
 * An offset is mandatory: a timestamp without one is ambiguous. Rejects invalid
 * calendar dates and years outside [GC_YEAR_MIN, GC_YEAR_MAX]. */
bool rfc3339_parse(const char *s, int64_t *ms_out) GC_MUSTCHECK;

/* Formats ms as "YYYY-MM-DDTHH:MM:SS+HH:MM" in the given offset; out >= 32 bytes. */
void rfc3339_format(int64_t ms, int offset_min, char *out, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* The period (calendar year in offset_min) that instant ms falls in. */
int period_of(int64_t ms, int offset_min);

/* The local date of instant ms in offset_min, as days since 1970-01-01
 * (civil_from_days gives it back as a date): the name of a daily point. */
int64_t local_day_of(int64_t ms, int offset_min);

/* First millisecond of year `year` in offset_min. */
int64_t period_start_ms(int year, int offset_min);

/* Strict decimal parse of a whole string: no sign unless allowed, no junk,
 * no overflow, not empty. */
bool parse_i64(const char *s, int64_t *out) GC_MUSTCHECK;

#endif
