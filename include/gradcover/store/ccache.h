/* The counties' counters kept between reads and kept exact by Redis itself
 * (server-assisted client-side caching, RESP2 with redirection): one
 * connection reads counters with CLIENT TRACKING on, a second one is
 * subscribed to __redis__:invalidate and hears whenever any server's script
 * changes a county's `cnt` key. Before a read trusts the cache it waits for a
 * barrier on that second connection, so every write acknowledged before the
 * read began has been heard of (docs/design.md, "Counter cache"). Coverage and
 * /metrics then read only the counties that changed. On a Redis Cluster the
 * same is done per master, each county through its master's pair. */
#ifndef GRADCOVER_STORE_CCACHE_H
#define GRADCOVER_STORE_CCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gradcover/common.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/services.h"

struct event_base;
struct config;
struct redis_target;
struct store;
struct ccache;

/* One county's counters of one period, as read by one HMGET. */
struct county_vals {
    long long rolled; /* the latest period materialised; -1 when absent */
    long long reg, srv;
    enum alert_state alert;
    long long contacts[GC_NSERVICES]; /* recorded, by service (every outcome) */
    long long attempts[GC_NOUTCOMES]; /* recorded, by outcome ([0], reached, unused) */
    long long voided;                 /* contacts voided */
    long long pkg;                    /* graduates who completed the service package */
};

/* Starts both connections (they come up in the background). On a cluster
 * target (target->cluster_via set) a pair per master instead, made as the
 * router's map names each (cluster_on_map; the cache must be freed before
 * the cluster). NULL on allocation failure. cfg must outlive the cache. */
struct ccache *ccache_new(struct event_base *base, const struct redis_target *target,
                          int timeout_ms, const struct config *cfg) GC_MUSTCHECK;
/* Fails every waiting barrier (their callbacks run now), then closes. */
void ccache_free(struct ccache *cc);

/* A link is one Redis node's pair of connections: link 0 for one Redis (or
 * Sentinel's master); on a cluster, one per master, numbered as the router's
 * nodes. Links are numbered below ccache_nlinks(). */
int ccache_nlinks(const struct ccache *cc);
/* The link serving county i now (its master's), or -1 (none known yet:
 * read it from Redis). */
int ccache_link_of(const struct ccache *cc, size_t i);
/* True when reads may go through link: both connections up and the reading
 * one tracked into the live subscription. */
bool ccache_usable(const struct ccache *cc, int link);
/* Every county's link usable (gradcover_county_cache_ready). */
bool ccache_ready(const struct ccache *cc);

/* One barrier on each usable link serving one of the counties idx[0..n)
 * (config indexes), sent at once; cb(arg, passed) runs once all of them are
 * over, exactly once, never from inside this call. passed[link] (borrowed,
 * valid during cb) is true when that link's barrier was answered in time:
 * every invalidation Redis queued there before this call has then been
 * applied, so its counties still cached are exact, and its others may be
 * read on ccache_store(cc, link) and kept. A county whose link did not pass
 * must be read from Redis and not kept. A barrier is failed after
 * timeout_ms or when its link is lost. -1 (and no callback) when no link
 * could be asked. */
int ccache_barrier(struct ccache *cc, const size_t *idx, size_t n, int timeout_ms,
                   void (*cb)(void *arg, const bool *passed), void *arg) GC_MUSTCHECK;

/* County i's counters of `period` if cached and still valid (ask only for a
 * county whose link passed the read's barrier). */
bool ccache_get(struct ccache *cc, size_t i, int period, struct county_vals *v);
/* The connection that reads for link (HMGETs sent on it are tracked), or
 * NULL when the link is not usable. Owned by the cache. */
struct store *ccache_store(struct ccache *cc, int link);
/* Taken when a read of county i is sent on its link; handed back to
 * ccache_put with the answer, which is kept only if nothing invalidated the
 * county (nor moved it to another master) meanwhile. */
struct ccache_ticket {
    int link;
    uint64_t epoch, gen;
};
struct ccache_ticket ccache_ticket(const struct ccache *cc, size_t i);
void ccache_put(struct ccache *cc, size_t i, int period, struct ccache_ticket t,
                const struct county_vals *v);

/* gradcover_county_cache_* series. */
void ccache_render_metrics(const struct ccache *cc, FILE *f);

/* SIGHUP (reload.h): from now on, work reads cfg, a newer generation whose
 * counties extend the old ones (same codes, same order, maybe more);
 * per-county state grows. cfg is borrowed and outlives the holder. -1 when
 * out of memory (the old generation, still valid, stays in use). */
int ccache_reconfigure(struct ccache *cc, const struct config *cfg);

#endif
