/* Alert notification delivery (SPEC §7): reads the county outbox streams
 * through the consumer group "delivery", hands each event to every receiver
 * that wants it (receiver.h: one kind per format) over a non-blocking HTTP
 * client (post.h), retries with exponential backoff and jitter, records every
 * attempt in Redis and acknowledges an event once every receiver is done.
 * Events claimed by a process that died are taken over after CLAIM_IDLE_MS. */
#ifndef GRADCOVER_ALERTS_NOTIFY_H
#define GRADCOVER_ALERTS_NOTIFY_H

#include <stdbool.h>
#include <stdio.h>

struct acklink_key;
struct clock;
struct config;
struct receiver;
struct sendq;
struct event_base;
struct notifier;
struct ssl_ctx_st;
struct store;

/* What the notifier works with; every pointer is borrowed and must outlive
 * it (listen is copied). */
struct notifier_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock;     /* the wall clock: sent_at, delivery records, periods */
    struct ssl_ctx_st *tls_client; /* verifies https:// receivers; NULL: they cannot be used */
    const char *listen;            /* the address listened on: names our delivery consumer */
    /* Signs the acknowledgement links of messages (acklink.h); NULL: none. */
    const struct acklink_key *ack_key;
};

/* Starts reading the outboxes and delivering on deps->base (the timers run
 * from now; the first read waits for notifier_on_ready). NULL on allocation
 * failure. Free with notifier_free. */
struct notifier *notifier_new(const struct notifier_deps *deps);

/* Stops delivering: requests in flight are dropped (their events stay
 * pending in Redis and are delivered again later). NULL is a no-op. */
void notifier_free(struct notifier *n);

/* Called each time Redis becomes ready (after every reconnection): makes sure
 * every outbox and its group exist, then re-reads our own pending events. */
void notifier_on_ready(struct notifier *n);

/* Reads this county's outbox at once (after a write or the timer reported a
 * transition there). */
void notifier_kick(struct notifier *n, const char *county);

/* A transition of a county's alert that a script reported (its "transition"
 * answer: pending, firing, resolved, cancelled; NULL or "" for none): logged
 * with the request that made it (request_id NULL: the evaluation timer), and
 * the county's outbox read at once. */
void notifier_transition(struct notifier *n, const char *request_id, const char *county,
                         const char *transition);

/* The graceful stop: no new outbox reads, take-overs or retries from now on;
 * deliveries already begun go on. NULL is a no-op. */
void notifier_drain(struct notifier *n);

/* Deliveries begun and not finished: an event being read, queued for or sent
 * to a receiver, or its record or ack not yet written. Waiting for a retry is
 * not busy (the event stays pending in Redis for another consumer). A stop
 * waits for this to turn false, so that a message a receiver has got is
 * recorded as delivered and never sent again by the next consumer. */
bool notifier_busy(const struct notifier *n);

/* Writes gradcover_alert_notifications_total and the receivers' queues'
 * series (sendq.h) in Prometheus text format. */
void notifier_render_metrics(const struct notifier *n, FILE *out);

/* The receivers' queues, for other senders (the digest); borrowed, NULL
 * for n NULL. */
struct sendq *notifier_sendq(struct notifier *n);

/* The receiver of this slot (receiver.h's receiver_set; sendq_item's
 * receiver), borrowed; NULL when there is none or it was removed. */
const struct receiver *notifier_receiver(const struct notifier *n, size_t slot);

/* The slot of the receiver of this name (removed ones too), or -1. */
long notifier_receiver_slot(const struct notifier *n, const char *name);

/* SIGHUP (reload.h): cfg (borrowed) is the configuration from now on; its
 * counties extend the old ones (same order, maybe more), and the new
 * counties' outbox groups are made. Its receivers are matched to the old
 * ones by name (receivers_sync): an added one takes the events read from
 * now on (not those already read); a changed one keeps its queue, pacing
 * and deliveries under way, its next message uses the new URL, secret or
 * format; a removed one's waiting messages (queued, or waiting for a
 * retry) are dropped, recorded "dropped" and counted in the log line
 * event=receiver_removed, while a message already posted to it finishes
 * (its answer recorded, never retried). -1 when out of memory (logged;
 * what could be applied is). */
int notifier_reconfigure(struct notifier *n, const struct config *cfg);

/* SIGHUP: https:// connections opened from now on verify with tls
 * (borrowed; its owner keeps it until notifier_free or the next call);
 * those open keep the context they began with. */
void notifier_set_tls(struct notifier *n, struct ssl_ctx_st *tls);

#endif
