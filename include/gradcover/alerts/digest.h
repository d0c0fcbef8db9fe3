/* The daily digest (SPEC §11, alerts.digest): at a local time, once per
 * local day per receiver named, exactly once across every server: the
 * counties of the receiver's scope below target with their gaps, the
 * contacts recorded the day before, how many wait and for how long. A turn
 * per receiver and day is claimed in Redis (digest_claim.lua) with a lease
 * its server renews before every attempt; it is marked done when the robot
 * took the message (or refused it for good). A server that dies holding a
 * turn loses it when the lease ends and another sends the digest then; a
 * digest not delivered by the end of its day is given up (the next day's
 * says the same, newer). Sent through the receivers' queues (sendq.h), so
 * it keeps the robot's pace. */
#ifndef GRADCOVER_ALERTS_DIGEST_H
#define GRADCOVER_ALERTS_DIGEST_H

struct acklink_key;
struct clock;
struct config;
struct digester;
struct event_base;
struct notifier;
struct store;

/* What the digester works with; every pointer is borrowed and must outlive
 * it. */
struct digester_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock;         /* the wall clock (--now): the local day and time */
    struct notifier *notifier;         /* its receivers and their queues */
    const struct acklink_key *ack_key; /* the links of firing counties; NULL: none */
    const char *listen;                /* the address listened on: names this server's turns */
};

/* Starts the digest's timer (nothing when alerts.digest is unset: a
 * digester that does nothing). NULL on allocation failure. */
struct digester *digester_new(const struct digester_deps *deps);

/* After store_free (which answers its calls in flight) and notifier_free
 * (which forgets its queued digests). NULL is a no-op. */
void digester_free(struct digester *dg);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more); a
 * round under way finishes with the generation it began with. The digest's
 * receivers are matched by name: one still named keeps what it knows (the
 * day already sent, a digest under way); a newly named one gets its first
 * digest at the next tick past alerts.digest.at (today's, if not sent yet
 * by any server); one no longer named finishes a digest already posted and
 * sends no other. alerts.digest may be set or unset. cfg is borrowed and
 * outlives the holder. Call after notifier_reconfigure. -1 when out of
 * memory (what could be applied is). */
int digester_reconfigure(struct digester *dg, const struct config *cfg);

#endif
