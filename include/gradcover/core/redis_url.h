/* Where Redis is: the grammar of the "redis" setting and of --redis, pure
 * parsing (no I/O), shared by the configuration check, the store and the
 * gradcover tool. */
#ifndef GRADCOVER_CORE_REDIS_URL_H
#define GRADCOVER_CORE_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/common.h"

/* Sentinels one redis-sentinel:// URL may name: a quorum of 3 or 5 is what
 * Redis's documentation recommends; 8 leaves room. */
#define REDIS_SENTINELS_MAX 8
/* Seed nodes one redis-cluster:// URL may name: any one reachable node gives
 * the whole slot map (CLUSTER SLOTS), so a few seeds in different racks are
 * enough; 16 leaves room for listing every master of a small cluster. */
#define REDIS_CLUSTER_SEEDS_MAX 16

struct sentinel;
struct cluster;

struct redis_hostport {
    char host[256];
    int port;
};

struct redis_target {
    bool unix_socket;
    bool sentinel;      /* redis-sentinel://: host/port are found through the sentinels */
    char master[128];   /* the master's name as the sentinels know it */
    int nsentinels;
    struct redis_hostport sentinels[REDIS_SENTINELS_MAX];
    /* Set by the app, not the parser, for a redis-sentinel:// URL: the one
     * shared finder of the master (store/sentinel.h) every connection asks. */
    struct sentinel *via;
    bool cluster;       /* redis-cluster://: seeds give the slot map; db is always 0 */
    /* Set by its creator, not the parser, for a redis-cluster:// URL: the
     * router (store/cluster.h) a store made on this target delegates to. */
    struct cluster *cluster_via;
    int nseeds;
    struct redis_hostport seeds[REDIS_CLUSTER_SEEDS_MAX];
    char host[256];
    int port;
    char path[256];
    char user[128];     /* "" = default user */
    char password[256]; /* "" = no AUTH */
    int db;
};

/* redis://[[user]:password@]host:port[/db], unix:///path/redis.sock[?db=N],
 * redis-sentinel://[[user]:password@]host:port[,host:port...]/MASTER[/db]
 * (the credentials serve the sentinels and the master alike) or
 * redis-cluster://[[user]:password@]host:port[,host:port...] (seed nodes of a
 * Redis Cluster; no database: a cluster has only db 0; the credentials serve
 * every node). False with a reason in err (never quoting the password). */
bool redis_url_parse(const char *url, struct redis_target *out, char *err,
                     size_t errlen) GC_MUSTCHECK;

#endif
