/* The transfer repair job (docs/design.md, "Transfers"): a transfer whose
 * first step (the source county's) is older than a few seconds and not done
 * was left half-way by a crash or a lost connection; this job runs its
 * remaining steps again (each is idempotent), on every server, so that the
 * graduate is counted in the destination without anyone retrying. */
#ifndef GRADCOVER_JOBS_TRANSFERS_H
#define GRADCOVER_JOBS_TRANSFERS_H

struct clock;
struct config;
struct event_base;
struct store;
struct transfers;

/* What the job works with; every pointer is borrowed and must outlive it. */
struct transfers_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock;
};

/* Starts the job's timer. NULL on allocation failure. */
struct transfers *transfers_new(const struct transfers_deps *deps);

/* Stops the timer. Free after the store (whose pending callbacks it gets).
 * NULL is a no-op. */
void transfers_free(struct transfers *t);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more);
 * per-county state grows. cfg is borrowed and outlives the holder. -1 when
 * out of memory (the old generation, still valid, stays in use). */
int transfers_reconfigure(struct transfers *t, const struct config *cfg);

#endif
