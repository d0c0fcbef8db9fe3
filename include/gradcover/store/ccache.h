/* The counties' counters kept between reads and kept exact by Redis itself
 * (server-assisted client-side caching, RESP2 with redirection): one
 * connection reads counters with CLIENT TRACKING on, a second one is
 * subscribed to __redis__:invalidate and hears whenever any server's script
 * changes a county's `cnt` key. Before a read trusts the cache it waits for a
 * barrier on that second connection, so every write acknowledged before the
 * read began has been heard of (docs/design.md, "Counter cache"). Coverage and
 * /metrics then read only the counties that changed. */
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

/* Starts both connections (they come up in the background). NULL on
 * allocation failure. cfg must outlive the cache. */
struct ccache *ccache_new(struct event_base *base, const struct redis_target *target,
                          int timeout_ms, const struct config *cfg) GC_MUSTCHECK;
/* Fails every waiting barrier (their callbacks run now), then closes. */
void ccache_free(struct ccache *cc);

/* True when reads may go through the cache: both connections up and the
 * reading one tracked into the live subscription. */
bool ccache_usable(const struct ccache *cc);

/* Calls cb(arg, true) once every invalidation Redis queued before this call
 * has been applied, or cb(arg, false) after timeout_ms or when the link is
 * lost; exactly once, never from inside this call. -1 (and no callback) when
 * the cache is not usable or the barrier could not be sent. */
int ccache_barrier(struct ccache *cc, int timeout_ms, void (*cb)(void *arg, bool ok),
                   void *arg) GC_MUSTCHECK;

/* County i's counters of `period` if cached and still valid. */
bool ccache_get(struct ccache *cc, size_t i, int period, struct county_vals *v);
/* The connection that reads for the cache (HMGETs sent on it are tracked). */
struct store *ccache_store(struct ccache *cc);
/* Taken when a read of county i is sent; handed back to ccache_put with the
 * answer, which is kept only if nothing invalidated the county meanwhile. */
struct ccache_ticket {
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
