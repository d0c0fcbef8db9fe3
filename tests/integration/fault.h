/* Helpers shared by the fault tests (test_fault_*.c): keyed contact requests
 * for the load client, what Redis actually holds, and the API's counters. */
#ifndef GC_FAULT_H
#define GC_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"
#include "loadgen.h"

/* Fills q as a contact for graduate gid with Idempotency-Key key, for target
 * (a port index) with token. The body depends only on key and gid, so a retry
 * sends the very same request. */
void f_contact_req(struct lg_req *q, int target, const char *token, const char *key,
                   const char *gid);

/* n such contacts for the county's counselor on port index 0: keys
 * "<tag>-<i>", graduates G(i mod ngrad). From lg_reqs_new (asserts). */
struct lg_req *f_contact_reqs(const char *tag, size_t n, size_t ngrad);

/* The ids of every contact stored for graduates <prefix>0..<prefix>(ngrad-1)
 * of county, read from Redis with LRANGE; a sorted set. */
struct f_ids {
    char (*id)[40];
    size_t n; /* ids stored (duplicates included) */
    size_t distinct;
};
void f_stored_ids(redisContext *c, const char *county, const char *prefix, int ngrad,
                  struct f_ids *out);
bool f_ids_has(const struct f_ids *ids, const char *id);
void f_ids_free(struct f_ids *ids);

/* A synchronous connection to a private Redis (asserts). */
redisContext *f_redis_at(int port);
long long f_redis_int(redisContext *c, const char *fmt, ...);

/* gradcover_contacts_recorded_total{county, service} from GET /metrics. */
long long f_metric_contacts(struct gc_server *s, const char *county, const char *service);

/* How many of reqs[0..n) have this status. */
size_t f_count_status(const struct lg_req *reqs, size_t n, int status);

#endif
