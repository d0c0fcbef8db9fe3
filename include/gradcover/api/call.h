/* One request's calls to the store: a script or a command under the
 * request's remaining Redis time, answered through one continuation, and the
 * OrReply helper that answers 503 for a store that did not answer. */
#ifndef GRADCOVER_API_CALL_H
#define GRADCOVER_API_CALL_H

#include <stddef.h>

#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/store/store.h"

struct jw;
struct req;

/* Redis time this request has left (ms): the store's deadline counts from the
 * request's arrival across all of its steps (locate, claim, county step,
 * release; a batch's rounds), so that a request answers within one deadline
 * (503 at worst) however slowly each step goes. 0 when spent. */
int call_budget_ms(const struct req *r);

/* Why a command could not be sent with this much time left: the request's
 * time is spent (STORE_TIMEOUT), or the store is not ready (STORE_DOWN). */
enum store_status call_unsent(int budget_ms);

/* Whether a store call under `key` (a county's prefix, or gc:{@}) may be
 * sent for this request: a request of a ROUTE_WRITES route (a write, or a
 * read of personal data, whose audit entry is one) needs that key's Redis
 * to take writes (store_writes_for: on a Redis Cluster, the county's own
 * master). STORE_OK: send it; else STORE_DOWN (that master is away) or
 * STORE_REFUSED (it refuses writes), and r->key_writes says why for the 503
 * (http_store_ok_or_reply). Other requests, and every request on one
 * Redis (or Sentinel: the route's own check is the same), always STORE_OK. */
enum store_status call_key_refused(struct req *r, const char *key, size_t len);

/* The continuation of a call: r back, exactly once, with the result
 * (borrowed, valid during the call) or at once with STORE_DOWN /
 * STORE_TIMEOUT when the call could not be sent. A script's "token_revoked"
 * answer never reaches it: the request is answered 401 (nothing was written). */
typedef void (*call_fn)(struct req *r, enum store_status st, json_t *result);

/* Runs one script with a JSON argument object (taken) under key prefix `key`.
 * For an API-issued token, adds "tok" so that the script refuses to change
 * anything for a revoked one. */
void call_script(struct req *r, const char *script, const char *key, json_t *args, call_fn cb);

/* The same with the argument object already written as JSON text in `args`
 * (freed here). Unlike call_script it adds nothing: the text must carry "tok"
 * for API-issued tokens (trail_members writes it). A failed text is a 500. */
void call_script_jw(struct req *r, const char *script, const char *key, struct jw *args,
                    call_fn cb);

/* A plain command (argv NUL-terminated strings, at most 8). */
void call_command(struct req *r, int argc, const char **argv, call_fn cb);

#endif
