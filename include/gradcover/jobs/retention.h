/* The retention job (docs/security.md): graduates that left `seeking` more
 * than pii_retention_days ago lose their name and phone, county by county in
 * small slices so that Redis never sees a burst. A pass runs when the store
 * becomes ready and every few hours after. */
#ifndef GRADCOVER_JOBS_RETENTION_H
#define GRADCOVER_JOBS_RETENTION_H

struct clock;
struct config;
struct event_base;
struct retention;
struct store;

/* What the job works with; every pointer is borrowed and must outlive it. */
struct retention_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;  /* the counties and the retention periods */
    const struct clock *clock; /* the wall clock: what "N days ago" means */
};

/* Starts the job's timer on deps->base; the first pass waits for
 * retention_start. NULL on allocation failure. Free with retention_free. */
struct retention *retention_new(const struct retention_deps *deps);

/* Stops the timer. NULL is a no-op. */
void retention_free(struct retention *rt);

/* Begins a pass over every county now (unless one is under way). */
void retention_start(struct retention *rt);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more);
 * per-county state grows. cfg is borrowed and outlives the holder. -1 when
 * out of memory (the old generation, still valid, stays in use). */
int retention_reconfigure(struct retention *rt, const struct config *cfg);

#endif
