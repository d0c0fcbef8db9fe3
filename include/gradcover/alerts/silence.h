/* Silences (SPEC §11) as the delivery side asks about them: "is county C
 * silenced at T?" before every message, and the ends of silences, each
 * claimed exactly once per county across every server, so that a county
 * still firing when its silence ends hears once. Silences themselves are
 * made, listed and ended through /api/v1/silences (api/silences.c); they
 * live in Redis under the global hash tag (shared by all servers). Each call
 * is one script, one round trip; none blocks the loop.
 *
 * The delivery side's protocol for ends (docs/alerts.md, "Silences"), e.g.
 * once per eval_interval_seconds on every server:
 *   1. silence_ends_due(now): silences that ended and whose end is unhandled;
 *   2. for each, the counties it covered (its county, or every configured
 *      one for "*"), less those silence_check says are still silenced at now
 *      (another silence's end will speak for them);
 *   3. silence_end_claim(silence, county, now) for each: one caller in all
 *      the servers gets claimed; if the county is firing, the same atomic
 *      step put the one message in the county's outbox (event
 *      "<episode>:unsilenced:<silence>"), delivered like any other event;
 *   4. once every claim of a silence has answered, silence_end_done(silence).
 * Every step may be repeated (by another server, after a crash): the claims
 * make the message happen once. */
#ifndef GRADCOVER_ALERTS_SILENCE_H
#define GRADCOVER_ALERTS_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"
#include "gradcover/store/store.h"

/* Silence ids: 16 random [A-Za-z0-9], like server-assigned graduate ids. */
#define SILENCE_ID_LEN 16
/* An ended silence is listed (state "expired") and its end can be handled
 * for a week: past a weekend of a delivery side being down, and long enough
 * for a leader to see what was silenced last week. Then it is pruned. */
#define SILENCE_KEEP_MS (7LL * 86400 * 1000)
/* Ends returned by one silence_ends_due. */
#define SILENCE_ENDS_MAX 50

/* What silence_check says of one county. */
struct silence_status {
    bool silenced;
    int64_t until_ms;            /* the latest end of the silences covering it then; 0 when none */
    char id[SILENCE_ID_LEN + 1]; /* that silence's id; "" when none */
};

/* Called exactly once. With STORE_OK, s[i] is counties[i]'s answer (n of
 * them); otherwise s is NULL. s lives only during the call. */
typedef void (*silence_check_fn)(void *arg, enum store_status st, const struct silence_status *s,
                                 size_t n);

/* Is each of counties[0..n) silenced at at_ms (by its own silences or a "*"
 * one)? One script on the global slot, O(silences not yet ended of those
 * counties and of "*"). counties are copied. -1 (the callback will not be
 * called) when the store is not ready or memory ran out. */
int silence_check(struct store *st, const char *const *counties, size_t n, int64_t at_ms,
                  silence_check_fn cb, void *arg) GC_MUSTCHECK;

/* The same for any instant from since_ms to at_ms: a county silenced then,
 * or whose silence ended since (its end not yet spoken for, perhaps), is
 * silenced here. What the repeats ask before claiming (remind.c). */
int silence_check_span(struct store *st, const char *const *counties, size_t n, int64_t since_ms,
                       int64_t at_ms, silence_check_fn cb, void *arg) GC_MUSTCHECK;

/* An ended silence whose end is still to be handled. */
struct silence_end {
    char id[SILENCE_ID_LEN + 1];
    char county[GC_COUNTY_MAX + 1]; /* a county code, or "*": every county */
    int64_t ends_at_ms;
};

/* Called exactly once; ends (n of them, oldest first, at most
 * SILENCE_ENDS_MAX) live only during the call, NULL unless STORE_OK. */
typedef void (*silence_ends_fn)(void *arg, enum store_status st, const struct silence_end *ends,
                                size_t n);

/* Silences that ended at or before now_ms and are not yet marked done
 * (silence_end_done); prunes silences that ended more than SILENCE_KEEP_MS
 * ago on the way. -1 as silence_check. */
int silence_ends_due(struct store *st, int64_t now_ms, silence_ends_fn cb, void *arg) GC_MUSTCHECK;

/* The outcome of one claim. */
struct silence_claim {
    bool claimed;       /* this call is the one, in every server, for this silence and county */
    bool firing;        /* claimed, and the county is firing: its event is in the outbox */
    char episode[96];   /* the firing episode; "" otherwise */
    char event_id[160]; /* "<episode>:unsilenced:<silence id>"; "" otherwise */
};

/* Called exactly once; c (NULL unless STORE_OK) lives only during the call. */
typedef void (*silence_claim_fn)(void *arg, enum store_status st, const struct silence_claim *c);

/* Claims the end of silence_id for county (one script on the county's
 * slot): see the protocol above. A STORE_TIMEOUT or STORE_DOWN leaves it
 * unknown whether the claim was made: ask again, a second claim is refused
 * if the first was. -1 as silence_check (or for a county code that is not
 * one). */
int silence_end_claim(struct store *st, const char *silence_id, const char *county, int64_t now_ms,
                      silence_claim_fn cb, void *arg) GC_MUSTCHECK;

typedef void (*silence_done_fn)(void *arg, enum store_status st);

/* Marks silence_id's end handled for every county: silence_ends_due lists it
 * no more. -1 as silence_check. */
int silence_end_done(struct store *st, const char *silence_id, silence_done_fn cb,
                     void *arg) GC_MUSTCHECK;

#endif
