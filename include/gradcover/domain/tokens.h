/* API-issued bearer tokens (SPEC §6 administration): generation, the stored
 * record's format, and a per-server cache of who a token is. The cache only
 * saves a look-up; whether a token still exists is checked in Redis on every
 * request (http/authn.c), so a revocation is never answered from it. */
#ifndef GRADCOVER_DOMAIN_TOKENS_H
#define GRADCOVER_DOMAIN_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/domain/auth.h"

struct config;
struct tokcache;

/* 32 random bytes from getrandom(2), base64url without padding: 43 chars. */
#define TOKEN_TEXT_LEN 43
/* last_used_at is refreshed at most this often per token and server. */
#define TOKEN_TOUCH_EVERY_MS 60000

/* out: TOKEN_TEXT_LEN + 1 bytes. -1 when no random bytes are available. */
int token_generate(char *out) GC_MUSTCHECK;

/* A stored token record (HGETALL as an object) -> principal and expiry (0 =
 * never). False for an empty or malformed record, or a county the config no
 * longer has. */
bool token_record_parse(json_t *rec, const struct config *cfg, const char *hex,
                        struct principal *out, int64_t *expires_ms);

struct tokcache *tokcache_new(void);
void tokcache_free(struct tokcache *c);

/* The cached principal of token `hex` (copied into out) and its expiry, or
 * false when not cached. */
bool tokcache_get(struct tokcache *c, const char *hex, struct principal *out, int64_t *expires_ms);
/* Caches (or replaces) a token; a full cache is emptied first. */
void tokcache_put(struct tokcache *c, const struct principal *p, int64_t expires_ms);
void tokcache_drop(struct tokcache *c, const char *hex);
/* True (and remembers now) when last_used_at is due for a refresh. */
bool tokcache_touch_due(struct tokcache *c, const char *hex, int64_t now_ms);

#endif
