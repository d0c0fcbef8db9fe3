/* Repeats and escalation (SPEC §11): while a county fires and nobody has
 * acknowledged its episode, a message again every repeat_interval_seconds,
 * and once, after escalate_after_seconds, one to the city's leaders. The
 * evaluation timer (eval.c) says when one is due (alert_eval.lua, no extra
 * round trip); this module then asks whether the county is silenced (or was
 * lately: its silence's end speaks for it) and claims the message with
 * alert_remind.lua, which records it on the episode and puts it in the
 * county's outbox in one atomic step: once across every server, delivered
 * like any other event. */
#ifndef GRADCOVER_ALERTS_REMIND_H
#define GRADCOVER_ALERTS_REMIND_H

#include <stdbool.h>
#include <stddef.h>

struct clock;
struct config;
struct jw;
struct notifier;
struct reminder;
struct store;

/* What the reminder works with; every pointer is borrowed and must outlive it. */
struct reminder_deps {
    struct store *store;
    const struct config *cfg;
    const struct clock *clock; /* the wall clock (--now) */
    struct notifier *notifier; /* kicked when a message was claimed; may be NULL */
};

/* NULL on allocation failure. Free with reminder_free. */
struct reminder *reminder_new(const struct reminder_deps *deps);

/* After store_free, which answers its calls in flight (they refer to it).
 * NULL is a no-op. */
void reminder_free(struct reminder *rm);

/* True when the configuration repeats or escalates at all. */
bool reminder_enabled(const struct config *cfg);

/* Writes "remind": {repeat_ms, escalate_ms} into an open object: what
 * alert_eval.lua and alert_remind.lua decide with. */
void reminder_params_write(struct jw *w, const struct config *cfg);

/* County i's firing episode has a repeat or its escalation due (alert_eval
 * said so): unless the county is silenced now or was in the last few
 * evaluation intervals, claim it. A county already being handled is
 * skipped (the next evaluation asks again). */
void reminder_due(struct reminder *rm, size_t county, const char *episode);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more);
 * per-county state grows. cfg is borrowed and outlives the holder. -1 when
 * out of memory (the old generation, still valid, stays in use). */
int reminder_reconfigure(struct reminder *rm, const struct config *cfg);

#endif
