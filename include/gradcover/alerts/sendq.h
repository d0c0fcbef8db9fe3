/* One queue per receiver between what is to be said (outbox events, the
 * digest) and the receiver (SPEC §11): nothing is sent for a county while
 * it is silenced; a chat robot's events that are ready together go out as
 * one message (a storm of counties is one message, not hundreds), and its
 * messages are paced to its documented rate limit across every server, by
 * queueing, never by dropping. The owner of an item (notify.c for events,
 * digest.c for digests) keeps its state, retries and records; the queue
 * sends once per put and says what came of it. */
#ifndef GRADCOVER_ALERTS_SENDQ_H
#define GRADCOVER_ALERTS_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gradcover/alerts/receiver.h"
#include "gradcover/common.h"

struct clock;
struct config;
struct event_base;
struct post_client;
struct sendq;
struct store;

/* What became of one send of an item. */
enum sendq_outcome {
    SENDQ_DONE,       /* the receiver took it */
    SENDQ_RETRY,      /* not this time (no answer, 5xx, a robot's rate limit) */
    SENDQ_PERMANENT,  /* refused: repeating cannot help */
    SENDQ_SUPPRESSED, /* its county is silenced: not sent, and never will be */
    SENDQ_DROPPED,    /* its receiver was removed by a reload: not sent, and never will be */
};

/* One thing to send. The owner fills the first members and keeps the item
 * alive until done is called (or until sendq_forget). */
struct sendq_item {
    size_t receiver;    /* the receiver's slot (receiver.h's receiver_set) */
    const char *county; /* checked against silences; NULL: none (a digest) */
    /* An event: fills *ev for a message sent at now (wall ms); what it
     * points to stays valid until the next call for this item. */
    void (*view)(struct sendq_item *it, int64_t now, struct receiver_event *ev);
    const struct receiver_digest *digest; /* instead of view: a digest */
    /* The outcome of one send; why says what went wrong (the receiver's
     * answer, or the silence's id when suppressed), "" when done. The
     * queue does not touch the item after this call. */
    void (*done)(struct sendq_item *it, enum sendq_outcome o, const char *why);
    /* The queue's own. */
    struct sendq_item *next;
};

/* What the queues work with; every pointer is borrowed and must outlive
 * them. */
struct sendq_deps {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock; /* the wall clock (--now): sent_at, silences */
    struct post_client *post;
};

/* The queues, none yet (sendq_add). NULL on allocation failure. */
struct sendq *sendq_new(const struct sendq_deps *deps);

/* A queue for the next receiver slot (the first call is slot 0, as in the
 * receiver_set): r is borrowed and must outlive the queues. -1 when out of
 * memory. */
int sendq_add(struct sendq *q, const struct receiver *r) GC_MUSTCHECK;

/* The receiver of this slot was removed (a reload): every item waiting in
 * its queue is handed SENDQ_DROPPED at once, and so is every later put; a
 * turn under way that has not posted yet drops its items too; a message
 * already posted is answered as usual. Returns how many waiting items were
 * dropped. */
size_t sendq_remove(struct sendq *q, size_t receiver);

/* The receiver of this slot is configured again: its queue takes items
 * again (its counters go on from where they were). */
void sendq_revive(struct sendq *q, size_t receiver);

/* Frees the queues: items queued or in flight are forgotten (their done is
 * never called; their owners free them). NULL is a no-op. */
void sendq_free(struct sendq *q);

/* Queues it for its receiver, to go out as soon as the receiver's gathering
 * and pacing allow; a removed receiver's item is done (SENDQ_DROPPED)
 * before this returns. */
void sendq_put(struct sendq *q, struct sendq_item *it);

/* Takes it out of its queue if it waits there (its owner is going away). */
void sendq_forget(struct sendq *q, struct sendq_item *it);

/* The outcomes the owners count, by receiver: what
 * gradcover_alert_notifications_total shows. */
enum sendq_result { SENDQ_R_DELIVERED, SENDQ_R_RETRY, SENDQ_R_FAILED, SENDQ_R_SUPPRESSED };
void sendq_count(struct sendq *q, size_t receiver, enum sendq_result r);

/* gradcover_alert_notifications_total{receiver,result},
 * gradcover_alert_messages_total{receiver} and
 * gradcover_alert_queued{receiver}, in Prometheus text format. */
void sendq_render_metrics(const struct sendq *q, FILE *out);

/* The backoff before attempt attempts + 1 (SPEC §7: from 1 s doubling to
 * 5 min, with up to 25% jitter). */
int64_t sendq_backoff_ms(int attempts);

/* SIGHUP (reload.h): messages built from now on read cfg (borrowed). */
void sendq_reconfigure(struct sendq *q, const struct config *cfg);

#endif
