/* One county's counts of one period with its daily points, read in one
 * atomic step (store/scripts/history.lua, which rolls the county into the
 * current period first): what GET .../history lists and what the
 * projection of GET .../coverage is computed from. */
#ifndef GRADCOVER_API_COUNTY_DAYS_H
#define GRADCOVER_API_COUNTY_DAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/history.h"
#include "gradcover/store/store.h"

struct jw;
struct req;

struct county_days {
    size_t idx;                   /* the county's index in cfg->counties */
    int period;                   /* the period read */
    int cur;                      /* the current period by our clock */
    int64_t lo, hi;               /* its days: 1 January to today, or to 31 December when past */
    long long registered, served; /* live counts of the period */
    enum alert_state alert;       /* the county's stored alert state */
    long long package_complete;   /* graduates who completed the service package (SPEC §12) */
    struct history_point *stored; /* the stored points (owned), nstored of them */
    size_t nstored;
};

/* ?period=YYYY (default: the current period cur): exactly 4 digits, from
 * GC_YEAR_MIN up to cur. Otherwise answers 400 bad_parameter and returns
 * -1: the request is gone. */
int county_days_period_or_reply(struct req *r, int cur, int *out) GC_MUSTCHECK;

/* Called once with the request unanswered; d is valid during the call and
 * only complete when st is STORE_OK. */
typedef void (*county_days_fn)(struct req *r, enum store_status st, struct county_days *d);

/* Which stored points a read brings back with the counts. */
enum county_days_what {
    DAYS_NONE,   /* none: the counts and the alert state alone */
    DAYS_ALL,    /* every point of the period (GET .../history) */
    DAYS_WINDOW, /* the projection's: the point its window starts from (the
                  * day PROJECTION_WINDOW_DAYS before the last, or the
                  * nearest stored point, which carries into the window) */
};

/* Reads county idx (configured) for `period` (cur: the current one), with
 * the stored points `what` says. Uses r->state (which must be unused) for
 * the read; it is freed with the request. */
void county_days_read(struct req *r, size_t idx, int period, int cur, enum county_days_what what,
                      county_days_fn done);

/* One point per day from d->lo (or its first stored day) to d->hi, the last
 * the live counts (history_series): a new array of *n points (caller frees),
 * NULL when memory ran out. */
struct history_point *county_days_series(struct county_days *d, size_t *n);

/* Writes the value of "projection" for the current period: the year-end
 * projection of d's last 30 days (domain/projection.h) as {year_end_rate,
 * year_end_registered, year_end_served, window_days}, or null when there
 * are too few days to tell. */
void county_days_write_projection(struct jw *w, struct county_days *d);

#endif
