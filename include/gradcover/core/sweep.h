/* Spreading a per-county operation over time in slices, never in one burst
 * that requests would queue behind: the arithmetic the alert evaluation, the
 * outbox take-over and the retention pass share. Pure: the caller owns the
 * timer, passes monotonic ms (clock_mono_ms) and sends the work; it sends
 * nothing while its previous slice is unanswered, and the items stay due. */
#ifndef GRADCOVER_CORE_SWEEP_H
#define GRADCOVER_CORE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* When a paced sweep's next round begins, once the current one is over. */
enum sweep_restart {
    /* One interval after the current one began, so rounds keep their phase;
     * after a stall of a whole interval, at the tick (no catching up). */
    SWEEP_KEEP_PHASE,
    /* At the first tick an interval after the current one began. */
    SWEEP_AT_TICK,
};

/* Rounds over n items (counties), item by item; the caller moves next past
 * each item it sent. */
struct sweep {
    size_t n;
    size_t next;         /* the next item of the round; n: the round is over */
    int64_t interval_ms; /* a paced round spreads its items over this; 0: unpaced */
    int64_t round_start; /* monotonic ms at which the round began */
    enum sweep_restart restart;
};

/* The period of a slice timer that gives per_tick items their turn (n items
 * every interval_ms), clamped to [min_ms, max_ms]; n = 0 counts as 1. */
int64_t sweep_tick_ms(int64_t interval_ms, size_t n, size_t per_tick, int64_t min_ms,
                      int64_t max_ms);

/* A paced sweep (interval_ms > 0) whose first round begins one interval
 * after now_ms, as a plain periodic timer's first tick would. */
void sweep_init(struct sweep *s, size_t n, int64_t interval_ms, enum sweep_restart restart,
                int64_t now_ms);

/* At a tick of a paced sweep: begins the next round when this one is over
 * and due. False when there is nothing to do before the next round. */
bool sweep_round(struct sweep *s, int64_t now_ms);

/* The end of the items due by now_ms (item i of n is due at i/n of the
 * interval): [s->next, end) may be sent now. */
size_t sweep_due(const struct sweep *s, int64_t now_ms);

/* An unpaced sweep: no round until sweep_start. */
void sweep_init_unpaced(struct sweep *s, size_t n);

/* Begins an unpaced round now; it goes as fast as the caller takes chunks. */
void sweep_start(struct sweep *s);

/* The end of the next chunk of at most max items: [s->next, end). */
size_t sweep_chunk(const struct sweep *s, size_t max);

/* True when the round has no items left. */
bool sweep_over(const struct sweep *s);

/* Item i must be visited again in this round: the round goes back to it
 * (unless it is already there or before). */
void sweep_again(struct sweep *s, size_t i);

#endif
