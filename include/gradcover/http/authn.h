/* Who is calling, for every route that needs a token: the config's tokens,
 * API-issued tokens (cached per server, looked up in Redis once), their
 * liveness checked in Redis alongside the request's own commands (a reply
 * made before that check answered is held), the caller's rate limits, and
 * throttled failed authentications per client address. */
#ifndef GRADCOVER_HTTP_AUTHN_H
#define GRADCOVER_HTTP_AUTHN_H

#include <stdbool.h>

struct conns_gate;
struct conns_gate_head;
struct req;
struct route;
struct router;

/* Authenticates r (fills r->who) and spends one request of the caller's rate
 * limit, then calls then(r); or answers 401/429/503 itself. Either way r is
 * answered exactly once, by then or here. */
void authn_request(struct req *r, void (*then)(struct req *r));

/* The same judgment on a head alone, for a request that asked for "100
 * Continue" (conns.h): its token (401, 429 after too many failures, 503 when
 * Redis cannot say), the route's roles (403) and the caller's rate limit
 * (429, looked at, not spent: the request itself spends it). Calls
 * conns_gate_done(g, ...) exactly once, now or when Redis has answered. */
void authn_judge(struct router *rt, const struct route *route, struct conns_gate *g,
                 const struct conns_gate_head *h);

/* For a public route whose path carries its own credential (an
 * acknowledgement link, api/ack.c): the throttle of failed authentications
 * per client address that bearer tokens have (auth_failures_per_minute).
 * With failed, counts one failure (a link that is not ours, or one refused
 * as used or over). Returns the whole seconds the client must wait before
 * another try (answer 429 with Retry-After), 0 when it may go on. */
int authn_link_wait(struct req *r, bool failed);

#endif
