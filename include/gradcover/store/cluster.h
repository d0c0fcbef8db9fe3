/* The Redis Cluster router (redis-cluster://, SPEC §13): the slot map from
 * CLUSTER SLOTS, one store (store.h: reconnection, deadlines, scripts
 * loaded) per master, each command sent to the master of its key's slot.
 * MOVED updates the slot, refreshes the map and retries once; ASK is
 * followed with ASKING for plain commands, and waited out for scripts (they
 * touch keys they do not declare: docs/cluster-wip.md). hiredis 0.14 has no
 * cluster support and Debian 12 packages no hiredis-cluster, hence this file.
 *
 * UNFINISHED (branch scale-cluster): not wired into gradcoverd yet, which
 * refuses redis-cluster:// at config load (REDIS_CLUSTER_NOT_YET). Missing:
 * rounds (coverage, /metrics), the counter cache per node, the store façade
 * (store_writes, probe, readiness) and metrics; see docs/cluster-wip.md. */
#ifndef GRADCOVER_STORE_CLUSTER_H
#define GRADCOVER_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The map names a master for every slot and each master's store is ready. */
bool cluster_ready(const struct cluster *c);

/* As store_script_within / store_command_within (store.h): the script's
 * KEYS[1] (argv[0]) or the command's first key (argv[1]) chooses the
 * master. Commands whose keys span slots are the caller's to split. A
 * command waits (within its deadline) while the map is not known or its
 * master is not connected. -1 when nothing can be queued (no key, memory):
 * the callback will not be called. */
int cluster_script_within(struct cluster *c, int timeout_ms, const char *name, int nkeys,
                          int argc, const char **argv, const size_t *lens, store_cb cb,
                          void *arg) GC_MUSTCHECK;
int cluster_command_within(struct cluster *c, int timeout_ms, int argc, const char **argv,
                           const size_t *lens, store_cb cb, void *arg) GC_MUSTCHECK;

/* What the router has done so far (for /metrics, and for tests). */
struct cluster_stats {
    uint64_t moved;         /* MOVED answers */
    uint64_t ask;           /* ASK answers */
    uint64_t ask_followed;  /* ... followed with ASKING (plain commands) */
    uint64_t ask_waited;    /* ... waited out (scripts) */
    uint64_t tryagain;      /* TRYAGAIN answers, retried */
    uint64_t refreshes;     /* slot maps received */
    uint64_t refresh_fails; /* CLUSTER SLOTS unanswered or malformed */
    int masters;            /* masters in the current map */
    unsigned unowned;       /* slots without a master in it */
};
void cluster_stats(const struct cluster *c, struct cluster_stats *out);

/* The store of the master serving key[0..len), or NULL while unknown or not
 * ready: for reads a caller splits by node itself. Owned by the cluster. */
struct store *cluster_store_for(struct cluster *c, const char *key, size_t len);

#endif
