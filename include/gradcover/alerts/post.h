/* A minimal non-blocking HTTP POST for alert receivers: http://, or https://
 * over a verified TLS connection (tls.h), one connection per request, on the
 * caller's libevent loop. Knows nothing of alerts or receivers. */
#ifndef GRADCOVER_ALERTS_POST_H
#define GRADCOVER_ALERTS_POST_H

#include <stddef.h>

/* The most of an answer's body handed to the caller: chat robots answer
 * {"errcode": 0, "errmsg": "ok"} in a few dozen bytes, and an error page
 * needs no more to be recognised. Longer bodies are cut, never refused. */
#define POST_BODY_MAX 4096

struct event_base;
struct post_client;
struct ssl_ctx_st;

/* What became of one POST; valid only during the callback. */
struct post_answer {
    /* The HTTP status; 0 when no answer came (connection failed or timed
     * out, TLS refused), -1 when the URL cannot be used at all. */
    int status;
    const char *err;  /* why, when status <= 0; NULL otherwise */
    const char *body; /* the answer's first POST_BODY_MAX bytes, NUL-terminated ("" if none) */
    size_t len;       /* bytes in body */
};

/* Called exactly once per post_json. */
typedef void (*post_cb)(const struct post_answer *ans, void *arg);

/* A client on base; tls (borrowed, may be NULL: https:// URLs then cannot be
 * used) verifies https:// receivers. NULL on allocation failure. Free with
 * post_client_free. */
struct post_client *post_client_new(struct event_base *base, struct ssl_ctx_st *tls);

/* Connections opened from now on verify with tls (borrowed, may be NULL);
 * those open keep theirs (an SSL holds a reference to its context). */
void post_client_set_tls(struct post_client *pc, struct ssl_ctx_st *tls);

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
