/* Where the Redis master is, asked of Redis Sentinel: SENTINEL
 * get-master-addr-by-name of each sentinel in turn, and a subscription to
 * +switch-master on one of them. Every store connection of a
 * redis-sentinel:// URL asks this one finder before it connects and is told
 * when the master moves. Never blocks: hiredis async on the app's loop. */
#ifndef GRADCOVER_STORE_SENTINEL_H
#define GRADCOVER_STORE_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gradcover/common.h"
#include "gradcover/core/redis_url.h"

struct event_base;
struct sentinel;

/* Starts asking for t's master (t->sentinel must be set; its sentinels'
 * host names are resolved here, once, before the loop runs). NULL only on
 * allocation failure. */
struct sentinel *sentinel_new(struct event_base *base, const struct redis_target *t);

/* Closes the sentinel connections. The watchers must be gone. NULL is a no-op. */
void sentinel_free(struct sentinel *sn);

/* The master's address as last named by a sentinel into host/port; false
 * while none has named one yet. */
bool sentinel_master(const struct sentinel *sn, char *host, size_t hostlen, int *port);

/* The master may have moved (a lost connection, ROLE not master, a READONLY
 * answer): ask the sentinels again. At most one round of questions at a
 * time; asked during one, another follows it. */
void sentinel_rediscover(struct sentinel *sn, const char *why);

/* cb(arg) runs whenever a sentinel names the master (a changed address or
 * the same one, after a question or a +switch-master). -1 when full. */
int sentinel_watch(struct sentinel *sn, void (*cb)(void *arg), void *arg) GC_MUSTCHECK;
void sentinel_unwatch(struct sentinel *sn, void *arg);

/* gradcover_redis_master_changes_total and gradcover_redis_sentinel_subscribed. */
void sentinel_render_metrics(const struct sentinel *sn, FILE *out);

#endif
