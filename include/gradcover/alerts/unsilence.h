/* The ends of silences (SPEC §11: "when a silence ends and the county is
 * still firing, one message goes out"), handled by every server once per
 * eval_interval_seconds with the protocol of docs/alerts.md ("Silences"):
 * the ends due, their counties less those still silenced by another
 * silence, one claim per county (exactly one server's succeeds, and for a
 * firing county it puts the one message in the outbox in the same atomic
 * step), then the end marked done. Any step may run twice, on two servers
 * or after a crash: the claims make the message happen once. */
#ifndef GRADCOVER_ALERTS_UNSILENCE_H
#define GRADCOVER_ALERTS_UNSILENCE_H

struct clock;
struct config;
struct event_base;
struct notifier;
struct store;
struct unsilencer;

/* What the sweep works with; every pointer is borrowed and must outlive it. */
struct unsilencer_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock; /* the wall clock (--now): silences' ends */
    struct notifier *notifier; /* kicked for a county whose message was claimed; may be NULL */
};

/* Starts the sweep's timer. NULL on allocation failure. */
struct unsilencer *unsilencer_new(const struct unsilencer_deps *deps);

/* Stops it; after store_free, which answers its calls in flight (they
 * refer to it). NULL is a no-op. */
void unsilencer_free(struct unsilencer *u);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more);
 * per-county state grows. cfg is borrowed and outlives the holder. -1 when
 * out of memory (the old generation, still valid, stays in use). */
int unsilencer_reconfigure(struct unsilencer *u, const struct config *cfg);

#endif
