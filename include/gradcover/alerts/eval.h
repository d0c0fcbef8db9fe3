/* Alert evaluation by timer (SPEC §7): every eval_interval_seconds each
 * county's alert is evaluated in Redis (alert_eval.lua), so that a pending
 * alert fires after for_seconds even when nothing is written; the counties
 * are spread evenly over the interval, never sent in one burst. Transitions
 * made by writes are evaluated inside those writes' scripts. */
#ifndef GRADCOVER_ALERTS_EVAL_H
#define GRADCOVER_ALERTS_EVAL_H

struct alerter;
struct clock;
struct config;
struct event_base;
struct notifier;
struct reminder;
struct store;

/* What the alerter works with; every pointer is borrowed and must outlive it. */
struct alerter_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock; /* the wall clock: the current period, for_seconds */
    struct notifier *notifier; /* told of every transition (notify.h); may be NULL */
    struct reminder *reminder; /* told of repeats and escalations due (remind.h); may be NULL */
};

/* Starts the evaluation timer on deps->base. NULL on allocation failure.
 * Free with alerter_free. */
struct alerter *alerter_new(const struct alerter_deps *deps);

/* Stops the timer; evaluations in flight are answered into nothing (their
 * transitions are in Redis already). NULL is a no-op. */
void alerter_free(struct alerter *al);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more);
 * per-county state grows. cfg is borrowed and outlives the holder. -1 when
 * out of memory (the old generation, still valid, stays in use). */
int alerter_reconfigure(struct alerter *al, const struct config *cfg);

#endif
