/* A county's daily points of one period (SPEC §11): Redis keeps a point only
 * for a day on which the period's counts changed; this makes them one point
 * per day, a day nobody wrote carrying the day before forward. Pure. */
#ifndef GRADCOVER_DOMAIN_HISTORY_H
#define GRADCOVER_DOMAIN_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct history_point {
    int64_t day; /* local date as days since 1970-01-01 (timeutil.h: local_day_of) */
    long long registered, served;
};

/* The series of one point per day up to `hi`, whose point is the live
 * counters (live_reg, live_srv). It starts at the earliest stored day, or at
 * `lo` when a stored point precedes it, or at `hi` alone when nothing is
 * stored up to hi: days before the county's first point are left out, never
 * invented. Each other day takes its stored point, else the day before's
 * values. Stored points after `hi` are ignored (a server whose clock runs
 * ahead wrote them). `stored` (n points, any order) is sorted in place; out
 * needs room for hi - lo + 1 points (lo <= hi). Returns how many it wrote. */
size_t history_series(struct history_point *stored, size_t n, int64_t lo, int64_t hi,
                      long long live_reg, long long live_srv, struct history_point *out);

#endif
