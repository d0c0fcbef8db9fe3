/* Who is calling, for every route that needs a token: the config's tokens,
 * API-issued tokens (cached per server, looked up in Redis once), their
 * liveness checked in Redis alongside the request's own commands (a reply
 * made before that check answered is held), the caller's rate limits, and
 * throttled failed authentications per client address. */
#ifndef GRADCOVER_HTTP_AUTHN_H
#define GRADCOVER_HTTP_AUTHN_H

struct req;

/* Authenticates r (fills r->who) and spends one request of the caller's rate
 * limit, then calls then(r); or answers 401/429/503 itself. Either way r is
 * answered exactly once, by then or here. */
void authn_request(struct req *r, void (*then)(struct req *r));

#endif
