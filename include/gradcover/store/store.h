/* Redis behind a narrow, typed interface: hiredis async on the app's libevent
 * loop, reconnect with backoff, per-command deadlines, the script cache
 * (EVALSHA with NOSCRIPT fallback), and whether Redis accepts writes now (its
 * refusals by kind, a probe, its maxmemory-policy). No redisReply leaves this
 * module: replies reach callers as borrowed jansson values. */
#ifndef GRADCOVER_STORE_STORE_H
#define GRADCOVER_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/core/redis_url.h"

struct event_base;
struct redisAsyncContext;
struct store;

enum store_status {
    STORE_OK = 0,
    STORE_DOWN,    /* not connected, or the link broke before the reply */
    STORE_TIMEOUT, /* no reply within the deadline; a late reply is dropped */
    STORE_FAILED,  /* Redis answered with an error (a bug or misconfiguration: NOPERM, ...) */
    STORE_REFUSED, /* Redis refused to write: out of memory (OOM), a read-only replica
                      (READONLY) or unable to persist (MISCONF); store_writes() says which */
};

/* The kind of an error answer, by its first word: what the refusal counters
 * count. OOM, READONLY and MISCONF are states of Redis that refuse every
 * write (STORE_REFUSED); NOPERM (the ACL) and the rest are errors of one
 * command (STORE_FAILED). */
enum store_refusal {
    STORE_REFUSAL_OOM,
    STORE_REFUSAL_READONLY,
    STORE_REFUSAL_MISCONF,
    STORE_REFUSAL_NOREPLICAS, /* fewer replicas than wait_replicas confirmed a write (WAIT) */
    STORE_REFUSAL_NOPERM,
    STORE_REFUSAL_OTHER,
    STORE_NREFUSALS
};

/* Whether a write may be sent now, and if not, why. */
enum store_writes {
    STORE_WRITES_OK = 0,
    STORE_WRITES_DOWN,       /* not connected, or the scripts not loaded yet */
    STORE_WRITES_UNCHECKED,  /* the probe or the policy check has not succeeded on this
                                connection yet */
    STORE_WRITES_OOM,        /* Redis refuses writes: maxmemory reached (noeviction) */
    STORE_WRITES_READONLY,   /* ... it is a replica */
    STORE_WRITES_MISCONF,    /* ... it cannot write its AOF or RDB file */
    STORE_WRITES_MAY_EVICT,  /* its maxmemory-policy evicts keys, or could not be read */
    STORE_WRITES_NOREPLICAS, /* wait_replicas: the last WAIT confirmed fewer replicas */
};

/* Called exactly once per accepted command. `result` is borrowed and lives only
 * during the call: a script's JSON answer decoded, or for plain commands the
 * reply mapped to JSON (integer, string, null, array). With STORE_FAILED it
 * is Redis's error text as a JSON string (for the few callers that expect a
 * particular refusal, e.g. a rewrite already in progress), else NULL. */
typedef void (*store_cb)(enum store_status st, json_t *result, void *arg);

/* Creates the store and starts connecting; never blocks. timeout_ms bounds
 * every command. Returns NULL only on allocation failure. */
struct store *store_new(struct event_base *base, const struct redis_target *target, int timeout_ms);

/* Disconnects; pending callbacks fire with STORE_DOWN. NULL is a no-op. */
void store_free(struct store *s);

/* Connected and every script loaded. */
bool store_ready(const struct store *s);

/* Why the store is not ready, for /readyz (no master named by the
 * sentinels, ...); NULL when it is. */
const char *store_down_reason(const struct store *s);

/* wait_replicas: every script but the reads (store.c script_reads) is
 * followed on the same connection by WAIT replicas wait_ms (bounded by two
 * thirds of the command's deadline), and answered STORE_OK only when WAIT
 * confirms `replicas`; fewer: STORE_REFUSED (NOREPLICAS; the write may have
 * happened), and store_writes() says STORE_WRITES_NOREPLICAS until the probe's
 * own WAIT confirms again. 0 (the default): no WAIT. */
void store_set_wait_replicas(struct store *s, int replicas, int wait_ms);

/* Why writes cannot be sent now, or STORE_WRITES_OK: connected, the probe
 * answered on this connection after the last refusal, and maxmemory-policy
 * is noeviction. Writers check it before writing, background loops before
 * each round (a refusing Redis is left alone as a disconnected one is). */
enum store_writes store_writes(const struct store *s);
bool store_writable(const struct store *s);

/* The same for a write under key[0..len) (a county's prefix), where the
 * county is known: on a redis-cluster:// façade, writes to that key's slot
 * (its master connected, its own probe answered, no refusal since), while
 * store_writes() and store_ready() are those of gc:{@}'s master (a master
 * away makes its counties answer 503, not the server); on one Redis (or
 * Sentinel) store_writes(). */
enum store_writes store_writes_for(const struct store *s, const char *key, size_t len);

/* A redis-cluster:// façade: writability differs by key (store_writes_for). */
bool store_is_cluster(const struct store *s);

/* Redis Cluster only (false otherwise): what is missing now, for /readyz. */
struct store_health {
    int masters;                /* masters in the slot map */
    int masters_writable;       /* ... accepting writes now */
    unsigned slots_unowned;     /* slots no master serves */
    unsigned slots_unavailable; /* slots whose writes answer 503 now */
};
bool store_health(const struct store *s, struct store_health *out);

/* The maxmemory-policy Redis reported last on this connection ("" before
 * its first answer); borrowed. */
const char *store_policy(const struct store *s);

/* The probe (main store only): script `name` with one key and one argument
 * (both copied), run as soon as the store is ready after each (re)connection,
 * then every PROBE_EVERY_MS while writes are accepted and, while they are
 * refused, again after 100 ms doubling to 1 s, as reconnects are. It must
 * write: its answer is how the store learns that Redis accepts writes again.
 * It may check what must hold before any write (gradcoverd's PII key): each
 * successful answer reaches cb (result borrowed) before the store counts
 * writes as accepted. With `INFO memory` at each connection and every 5 s
 * (maxmemory-policy), it decides store_writes(). -1 when memory ran out. */
int store_set_probe(struct store *s, const char *name, const char *key, const char *args,
                    store_cb cb, void *arg) GC_MUSTCHECK;

/* Called (with arg) each time writes become accepted: after the probe first
 * succeeds on a connection, and when Redis accepts writes again after
 * refusing them. What must be (re)made in Redis before work resumes (the
 * outbox groups) is made then. On a redis-cluster:// façade: when gc:{@}'s
 * master becomes writable, and when another master does while it is. */
void store_on_writable(struct store *s, void (*cb)(void *arg), void *arg);

/* The kind of the last error answer on this store: meaningful inside a
 * callback that got STORE_FAILED or STORE_REFUSED. */
enum store_refusal store_last_refusal(const struct store *s);

/* "oom", "readonly", "misconf", "noperm", "other": the counters' labels. */
const char *store_refusal_name(enum store_refusal k);

/* gradcover_redis_writable and gradcover_redis_refusals_total{reason}, in
 * Prometheus text format. */
void store_render_metrics(const struct store *s, FILE *out);

/* Queues a plain command (argv with explicit lengths, never formatted text).
 * Commands issued in one loop iteration go out as one pipelined write.
 * Returns -1 when the store is not ready: the callback will not be called. */
int store_command(struct store *s, int argc, const char **argv, const size_t *lens, store_cb cb,
                  void *arg) GC_MUSTCHECK;

/* Runs the embedded script `name` (EVALSHA, falling back to EVAL on NOSCRIPT)
 * with nkeys keys followed by the other arguments. The script returns a JSON
 * text, which the callback receives decoded, or a flat array (reply_flat in
 * the prelude), which it receives as a plain command's array. Same return
 * rule as above. */
int store_script(struct store *s, const char *name, int nkeys, int argc, const char **argv,
                 const size_t *lens, store_cb cb, void *arg) GC_MUSTCHECK;

/* The same two with their own deadline instead of the store's: a request
 * gives its remaining Redis time. -1 also when timeout_ms <= 0. */
int store_command_within(struct store *s, int timeout_ms, int argc, const char **argv,
                         const size_t *lens, store_cb cb, void *arg) GC_MUSTCHECK;
int store_script_within(struct store *s, int timeout_ms, const char *name, int nkeys, int argc,
                        const char **argv, const size_t *lens, store_cb cb, void *arg) GC_MUSTCHECK;

/* The deadline every command gets by default (store_new's timeout_ms). */
int store_timeout_ms(const struct store *s);

/* ---- rounds: many plain commands, one pipeline, one deadline ----
 * For reads of O(counties) keys (coverage, /metrics): no per-command
 * allocation, argument copy, timer or JSON value. Each reply reaches the
 * caller as strings that live only during the row callback. */

/* One element of a reply: its bytes, or s == NULL for nil. Integers and
 * status replies come as their text. */
struct store_str {
    const char *s;
    size_t len;
};

/* Reply i of the round (in the order the commands were added): an array
 * reply's n elements, or any other reply as one element. Rows are meaningful
 * only when the round ends with STORE_OK. */
typedef void (*store_row_fn)(void *arg, size_t i, size_t n, const struct store_str *elems);
/* The end of the round, called exactly once (if the round was started): OK when
 * every command answered, else why not; rows after a timeout are dropped. */
typedef void (*store_done_fn)(void *arg, enum store_status st);

struct store_round;

/* A new round under a deadline of timeout_ms (a request's remaining Redis
 * time); NULL when the store is not ready, timeout_ms <= 0 or memory ran out
 * (no callback will be called). */
struct store_round *store_round_new(struct store *s, int timeout_ms, store_row_fn row,
                                    store_done_fn done, void *arg) GC_MUSTCHECK;
/* Queues one command of the round (argv with explicit lengths). A command
 * that cannot be queued (the link just broke) makes the round end with
 * STORE_DOWN. */
void store_round_add(struct store_round *rd, int argc, const char **argv, const size_t *lens);
/* Arms the deadline. `done` runs after the last reply, or now when nothing
 * was queued. The round frees itself. */
void store_round_start(struct store_round *rd);

/* Called (with arg) every time the store becomes ready: after the first
 * connection and after each reconnection (writes may still be refused:
 * store_on_writable). */
void store_on_ready(struct store *s, void (*cb)(void *arg), void *arg);

/* A connection of its own for ccache.c: the same target, reconnection and
 * deadlines, but no scripts loaded. NULL on allocation failure. */
struct store *store_new_plain(struct event_base *base, const struct redis_target *target,
                              int timeout_ms) GC_MUSTCHECK;
/* The hiredis context while the store is ready, else NULL: for commands the
 * store does not model (SUBSCRIBE). Owned by the store. */
struct redisAsyncContext *store_context(struct store *s);
/* Drops the connection now and reconnects after the usual back-off. */
void store_drop(struct store *s, const char *why);

/* Milliseconds a client should wait before retrying while Redis is down. */
int store_retry_after_s(const struct store *s);

#endif
