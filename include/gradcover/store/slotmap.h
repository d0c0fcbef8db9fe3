/* Redis Cluster's addressing, pure (no I/O): the slot of a key (CRC16 and
 * hash tags, as the Redis Cluster specification defines them), the slot map
 * built from a CLUSTER SLOTS answer, and the MOVED / ASK redirections. The
 * Cluster router (cluster.h, docs/cluster.md) is built on it. */
#ifndef GRADCOVER_STORE_SLOTMAP_H
#define GRADCOVER_STORE_SLOTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gradcover/common.h"

/* Redis Cluster has exactly this many hash slots (CLUSTER_SLOTS). */
#define SLOTMAP_SLOTS 16384
/* Nodes one slot map may name, masters and replicas: 3,000 counties spread
 * over more than 64 masters would be a very large Redis deployment for this
 * service (a county's slot holds ~10^4 keys). */
#define SLOTMAP_NODES_MAX 128
/* slotmap_owner() of a slot no master serves. */
#define SLOTMAP_UNOWNED (-1)

/* The slot of key[0..len): CRC16 (XMODEM) mod 16384 of the hash tag, the
 * bytes between the first '{' and the first '}' after it when that is not
 * empty, else of the whole key. "gc:{611002}:cnt" -> slot of "611002". */
unsigned slotmap_keyslot(const char *key, size_t len);

struct slotmap_node {
    char host[256];
    int port;
    char id[41]; /* the node's 40-hex id, "" when the answer left it out */
    bool master; /* serves slots; a replica is kept as a place to ask for the map */
};

struct slotmap;

/* The map from a CLUSTER SLOTS answer as store.c maps it to JSON: an array
 * of [start, end, [host, port, id, ...], [replica...]...]. An empty or null
 * host (cluster-preferred-endpoint-type unknown-endpoint) means the node that
 * was asked: asked_host. "?" (type hostname, the node announces none; seen
 * on Redis 7.0.15) is kept as the host: no address (the router refuses such
 * a map as it refuses host names). NULL with the reason in err when the answer is malformed
 * (ranges out of 0..16383, overlapping, a node without a port). Slots the
 * answer does not name are unowned. Freed with slotmap_free. */
struct slotmap *slotmap_from_slots(const json_t *answer, const char *asked_host, char *err,
                                   size_t errlen) GC_MUSTCHECK;
void slotmap_free(struct slotmap *m);

/* The node index serving `slot` (0..SLOTMAP_SLOTS-1), or SLOTMAP_UNOWNED. */
int slotmap_owner(const struct slotmap *m, unsigned slot);
/* Nodes in the map (masters first, in the order of their first slot range,
 * then replicas), and node i. */
int slotmap_nnodes(const struct slotmap *m);
const struct slotmap_node *slotmap_node(const struct slotmap *m, int i);
/* Masters: the nodes with at least one slot. */
int slotmap_nmasters(const struct slotmap *m);
/* Slots no master serves (0 for a healthy cluster). */
unsigned slotmap_unowned(const struct slotmap *m);
/* The node at host:port, or -1. */
int slotmap_find(const struct slotmap *m, const char *host, int port);

/* A redirection in an error answer: "MOVED <slot> <host>:<port>" (the slot
 * moved for good: refresh the map, send there) or "ASK <slot> <host>:<port>"
 * (one command to the importing node, preceded by ASKING). An empty host
 * ("MOVED 1 :6380", cluster-preferred-endpoint-type unknown-endpoint) means
 * the node that answered. False for any other text. */
struct slotmap_redirect {
    bool ask;
    unsigned slot;
    char host[256];
    int port;
};
bool slotmap_redirect_parse(const char *err, struct slotmap_redirect *out) GC_MUSTCHECK;

#endif
