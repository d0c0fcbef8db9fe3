/* Alert evaluation by timer (SPEC §7): every eval_interval_seconds each
 * county's alert is evaluated in Redis (alert_eval.lua), so that a pending
 * alert fires after for_seconds even when nothing is written; the counties
 * are spread evenly over the interval, never sent in one burst. Transitions
 * made by writes are evaluated inside those writes' scripts. */
#ifndef GRADCOVER_ALERTS_EVAL_H
#define GRADCOVER_ALERTS_EVAL_H

struct app;
struct alerter;

/* Starts the evaluation timer on the app's loop. NULL on allocation failure. */
struct alerter *alerter_new(struct app *a);
void alerter_free(struct alerter *al);

#endif
