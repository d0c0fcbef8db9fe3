/* The Redis Cluster router (redis-cluster://, SPEC §13): the slot map from
 * CLUSTER SLOTS, one store (store.h: reconnection, deadlines, scripts
 * loaded) per master, each command sent to the master of its key's slot.
 * MOVED updates the slot, refreshes the map and retries once; ASK is
 * followed with ASKING for plain commands, and waited out for scripts (they
 * touch keys they do not declare: docs/cluster.md). hiredis 0.14 has no
 * cluster support and Debian 12 packages no hiredis-cluster, hence this file.
 *
 * Nodes the cluster names are connected to by address only (a name would
 * block the loop in getaddrinfo); seeds are resolved before the loop.
 * gradcoverd uses it through the store façade (store.c: a store made on a
 * target whose cluster_via is set delegates here). */
#ifndef GRADCOVER_STORE_CLUSTER_H
#define GRADCOVER_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gradcover/common.h"
#include "gradcover/core/redis_url.h"
#include "gradcover/store/store.h"

struct event_base;
struct cluster;

/* Starts asking t's seeds (t->cluster set) for the slot map and connecting
 * to the masters it names; never blocks. timeout_ms is the default deadline
 * of a command, redirections included. NULL only on allocation failure. */
struct cluster *cluster_new(struct event_base *base, const struct redis_target *t,
                            int timeout_ms) GC_MUSTCHECK;

/* Disconnects every node; pending callbacks fire with STORE_DOWN. NULL is a
 * no-op. */
void cluster_free(struct cluster *c);

/* The map is known and the master of gc:{@}'s slot (tokens, graduate ids:
 * every request's first steps) is connected with its scripts loaded. A
 * master away (a failover under way) or a slot without a master makes only
 * its counties wait or answer 503 (cluster_writes_for), not the server. */
bool cluster_ready(const struct cluster *c);

/* Why cluster_ready() is false, for /readyz (a static text); NULL when it
 * is true. */
const char *cluster_down_reason(const struct cluster *c);

/* What of the cluster is missing now (for /readyz and /metrics). */
struct cluster_health {
    int masters;                /* in the slot map */
    int masters_writable;       /* ... whose store_writes() is OK */
    unsigned slots_unowned;     /* no master in the map (all before the first map) */
    unsigned slots_unavailable; /* unowned, or their master not writable */
};
void cluster_health(const struct cluster *c, struct cluster_health *out);

/* As store_script_within / store_command_within (store.h): the script's
 * KEYS[1] (argv[0]) or the command's first key (argv[1]; after STREAMS for
 * XREAD/XREADGROUP, split per slot when they span several; a one-word
 * command such as PING: gc:{@}'s master) chooses the master. Other
 * commands whose keys span slots are the caller's to split. A split read
 * with a part that failed answers that failure, with the streams the other
 * parts read as its result when there are any (their entries are the
 * reader's now). A command waits (within its deadline) while the map is not
 * known or its master is not connected. -1 when nothing can be queued (no
 * key, memory): the callback will not be called. */
int cluster_script_within(struct cluster *c, int timeout_ms, const char *name, int nkeys, int argc,
                          const char **argv, const size_t *lens, store_cb cb,
                          void *arg) GC_MUSTCHECK;
int cluster_command_within(struct cluster *c, int timeout_ms, int argc, const char **argv,
                           const size_t *lens, store_cb cb, void *arg) GC_MUSTCHECK;

/* ---- rounds: store_round (store.h) over the masters ----
 * Each command goes to its first key's (argv[1]) master; the commands of one
 * master go out as one store round (one pipelined write, one deadline), so
 * a round over every county costs one round trip per master. A node round
 * that meets a redirection (a slot moved or being migrated), or whose master
 * is not connected, is sent again command by command through
 * cluster_command_within (MOVED, ASK and waiting handled there): a row may
 * then come twice, the later one holding the answer to keep. `done` runs
 * exactly once, after every part, with the first status that was not OK. */
struct cluster_round;
struct cluster_round *cluster_round_new(struct cluster *c, int timeout_ms, store_row_fn row,
                                        store_done_fn done, void *arg) GC_MUSTCHECK;
/* Copies the command; a command without a key, or memory running out,
 * makes the round end STORE_FAILED. */
void cluster_round_add(struct cluster_round *cr, int argc, const char **argv, const size_t *lens);
/* Sends everything; the round frees itself after `done`. */
void cluster_round_start(struct cluster_round *cr);

/* ---- for store.c's façade (a store made on a target whose cluster_via is
 * set delegates to the router) ---- */

/* Writes to the slot of gc:{@} (cluster_writes) or of key[0..len)
 * (cluster_writes_for): STORE_WRITES_DOWN while the map is not known, the
 * slot has no master or its master's store is not ready; UNCHECKED until the
 * app's probe (cluster_set_probe) has answered since the cluster became
 * ready; then that master's own store_writes() (its refusals, cleared by its
 * own probe: probe.lua on the first gc:{@p<n>} whose slot it serves, set
 * with each map; its maxmemory-policy). */
enum store_writes cluster_writes(const struct cluster *c);
enum store_writes cluster_writes_for(const struct cluster *c, const char *key, size_t len);
/* cb(arg) each time the cluster becomes ready (cluster_ready) after not
 * being so; the façade's store_on_ready and store_on_writable. One each. */
void cluster_on_ready(struct cluster *c, void (*cb)(void *arg), void *arg);
void cluster_on_writable(struct cluster *c, void (*cb)(void *arg), void *arg);
/* The façade's store_set_probe: script `name` on `key` with `args` (copied)
 * through the router as soon as the cluster is ready and then every second;
 * each OK answer reaches cb (result borrowed) and, the first time since the
 * cluster became ready, lets cluster_writes() say OK. It checks what must
 * hold before any write (gradcoverd's PII key, on gc:{@}'s master); each
 * master's own acceptance of writes is its store's (refusals, policy).
 * -1 when memory ran out. */
int cluster_set_probe(struct cluster *c, const char *name, const char *key, const char *args,
                      store_cb cb, void *arg) GC_MUSTCHECK;
/* store_set_wait_replicas on every master's store, now and later. */
void cluster_set_wait_replicas(struct cluster *c, int replicas, int wait_ms);
/* The router's counters in Prometheus text format. */
void cluster_render_metrics(const struct cluster *c, FILE *out);

/* What the router has done so far (for /metrics, and for tests). */
struct cluster_stats {
    uint64_t moved;         /* MOVED answers */
    uint64_t ask;           /* ASK answers */
    uint64_t ask_followed;  /* ... followed with ASKING (plain commands) */
    uint64_t ask_waited;    /* ... waited out (scripts) */
    uint64_t tryagain;      /* TRYAGAIN answers, retried */
    uint64_t refreshes;     /* slot maps received */
    uint64_t refresh_fails; /* CLUSTER SLOTS unanswered or malformed */
    uint64_t node_rounds;   /* store rounds sent for cluster rounds */
    uint64_t round_singles; /* round commands sent again one by one */
    int masters;            /* masters in the current map */
    unsigned unowned;       /* slots without a master in it */
};
void cluster_stats(const struct cluster *c, struct cluster_stats *out);

/* The store of the master serving key[0..len), or NULL while unknown or not
 * ready: for reads a caller splits by node itself. Owned by the cluster. */
struct store *cluster_store_for(struct cluster *c, const char *key, size_t len);

/* ---- for the counter cache (ccache.c: a tracking pair per master) ---- */

/* cb(arg) each time the slot map may have changed: a CLUSTER SLOTS answer
 * applied (every few seconds, even when nothing changed) or a slot taken
 * from a MOVED. Called from the router's callbacks, never from inside a
 * cluster_* call of the caller's; cb must not free the cluster. One hook;
 * NULL removes it. */
void cluster_on_map(struct cluster *c, void (*cb)(void *arg), void *arg);
/* Node indexes are below this; a node keeps its index for the cluster's
 * life (nodes are never removed nor reused). */
int cluster_nodes_max(void);
/* The node the map names master of slot, or -1 (no map, or no master). */
int cluster_master_of_slot(const struct cluster *c, unsigned slot);
/* A plain target (no cluster, db 0, the URL's credentials) for node's
 * address, in *out: a connection of one's own to that node. -1 when there
 * is no such node. */
int cluster_node_target(const struct cluster *c, int node, struct redis_target *out) GC_MUSTCHECK;

#endif
