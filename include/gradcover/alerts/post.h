/* A minimal non-blocking HTTP POST for alert receivers: http://, or https://
 * over a verified TLS connection (tls.h), one connection per request, on the
 * caller's libevent loop. Knows nothing of alerts or receivers. */
#ifndef GRADCOVER_ALERTS_POST_H
#define GRADCOVER_ALERTS_POST_H

struct event_base;
struct post_client;
struct ssl_ctx_st;

/* Called exactly once per post_json: status is the HTTP status, 0 when no
 * answer came (connection failed or timed out, TLS refused) and -1 when the
 * URL cannot be used at all; err says why when status <= 0 (NULL otherwise). */
typedef void (*post_cb)(int status, const char *err, void *arg);

/* A client on base; tls (borrowed, may be NULL: https:// URLs then cannot be
 * used) verifies https:// receivers. NULL on allocation failure. Free with
 * post_client_free. */
struct post_client *post_client_new(struct event_base *base, struct ssl_ctx_st *tls);

/* Drops the requests still in flight (their callbacks never run) and frees
 * the client. NULL is a no-op. */
void post_client_free(struct post_client *pc);

/* Frees the connections of answered requests. A connection may not be freed
 * inside its own callback, so the owner calls this from elsewhere (a timer). */
void post_client_reap(struct post_client *pc);

/* POSTs body (Content-Type: application/json) to url. headers: NULL or
 * NULL-terminated name, value pairs, copied before this returns. cb runs
 * exactly once, possibly before this returns (failure to start). */
void post_json(struct post_client *pc, const char *url, const char *body,
               const char *const *headers, post_cb cb, void *arg);

#endif
