/* The year-end projection of a county's coverage (SPEC §11): where registered
 * and served end on 31 December if each keeps the pace of the last 30 days.
 * Integers only. Pure. The method, and why, in docs/api.md ("projection"). */
#ifndef GRADCOVER_DOMAIN_PROJECTION_H
#define GRADCOVER_DOMAIN_PROJECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/domain/history.h"

/* SPEC §11: "from the last 30 days' pace". */
#define PROJECTION_WINDOW_DAYS 30
/* No projection from less than a week of pace: counselors work weekdays and
 * registrations come in batches (a school's list on one day), so a pace taken
 * over a few days and stretched over months swings by multiples; a week holds
 * one whole working rhythm. Also what keeps 1-7 January without a projection. */
#define PROJECTION_MIN_DAYS 7

struct projection {
    long long registered; /* year_end_registered */
    long long served;     /* year_end_served, at most registered */
    long long rate_bp; /* served / registered in basis points, truncated; -1 when registered is 0 */
    int window_days;   /* days the pace was measured over: PROJECTION_MIN_DAYS..WINDOW_DAYS */
};

/* From `days` (n consecutive daily points, oldest first, the last one today's,
 * as history_series makes them) and days_left (days from today to 31
 * December, 0 on 31 December): the pace of each count is its change from the
 * point window_days before today to today, divided by window_days, where
 * window_days = min(n - 1, PROJECTION_WINDOW_DAYS); each count goes on at its
 * pace for days_left days. Served is rounded down and registered up (the
 * projected rate is never better than the pace says), registered is at least
 * 0, served between 0 and registered. False, and *out untouched, when
 * window_days < PROJECTION_MIN_DAYS or days_left < 0. */
bool projection_year_end(const struct history_point *days, size_t n, int days_left,
                         struct projection *out);

#endif
