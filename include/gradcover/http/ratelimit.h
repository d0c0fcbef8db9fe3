/* Token buckets by key (a token's name, a client address), in this process:
 * a caller may spend `burst` requests at once and then `rate` per second. With
 * several servers each keeps its own buckets (docs/security.md). */
#ifndef GRADCOVER_HTTP_RATELIMIT_H
#define GRADCOVER_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* At most max_keys buckets are kept; beyond that the table starts afresh (a
 * full bucket for everyone, which errs on the side of serving). */
struct ratelimit *ratelimit_new(size_t max_keys);
void ratelimit_free(struct ratelimit *rl);

/* Spends one request from key's bucket. Returns 0 when allowed, otherwise the
 * whole seconds (>= 1) until one is available again, for Retry-After.
 * rate <= 0 means unlimited. */
int ratelimit_take(struct ratelimit *rl, const char *key, double rate, double burst,
                   int64_t now_ms);

/* Gives back one request that ratelimit_take spent on something that turned
 * out not to count (a reservation), up to burst. A bucket no longer kept
 * (the table started afresh) is left alone: it is full already. */
void ratelimit_refund(struct ratelimit *rl, const char *key, double burst);

/* Like ratelimit_take but spends nothing: 0 while the bucket has a request left. */
int ratelimit_peek(struct ratelimit *rl, const char *key, double rate, double burst,
                   int64_t now_ms);

#endif
