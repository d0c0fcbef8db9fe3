/* One request and its one answer: the request context handlers receive,
 * reading its body, query and headers, and the reply helpers, each of which
 * answers exactly once and frees the request. */
#ifndef GRADCOVER_HTTP_REQUEST_H
#define GRADCOVER_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/domain/auth.h"
#include "gradcover/store/store.h"

struct app;
struct clock;
struct config;
struct conns;
struct evbuffer;
struct evhttp_request;
struct jw;
struct metrics;
struct ratelimit;
struct route;
struct store;
struct tokcache;
struct verr;

/* SPEC §6: request bodies are limited to 64 KiB. */
#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_MAX_PARAMS 2
/* A decoded path parameter: an id, or a contact's id (its graduate's id in
 * it), the one template parameter allowed to be longer (router.h). */
#define HTTP_PARAM_MAX GC_CONTACT_ID_MAX
/* The longest request target: ours are under 200 bytes (the longest is a
 * national-ID look-up); 2 KiB is what browsers and proxies reliably pass. */
#define HTTP_URI_MAX 2048

/* What the front needs from the rest of the server; borrowed, all outlive it. */
struct http_deps {
    const struct config *cfg;
    struct store *store;     /* API-issued tokens and their liveness; Retry-After */
    struct metrics *metrics; /* requests by route and status */
    struct conns *conns;     /* the connection guard (conns.h) */
    const struct clock *clock;
    struct app *app; /* handed to handlers as r->app */
    /* Strict-Transport-Security for every answer ("max-age=N"); NULL when the
     * listener is plain HTTP or hsts_max_age_seconds is 0. */
    const char *hsts;
    /* Called each time the last request in flight has been answered. */
    void (*idle)(struct app *app);
};

/* The front of one evhttp server: made by router_new (router.h), shared by
 * every request it receives (request.c, authn.c). */
struct router {
    struct http_deps deps;
    const struct route *routes;
    size_t nroutes;
    struct tokcache *tokens;    /* API-issued tokens seen by this server */
    struct ratelimit *limits;   /* per-token read/write buckets */
    struct ratelimit *authfail; /* failed authentications per client address */
    unsigned inflight;          /* requests accepted and not yet answered */
    uint64_t seq;               /* request ids: prefix-seq */
    char prefix[9];
};

/* r->guard: what Redis said of an API-issued token's liveness (authn.h). */
enum { HTTP_GUARD_NONE = 0, HTTP_GUARD_OK, HTTP_GUARD_REVOKED, HTTP_GUARD_FAILED };

struct req {
    struct router *rt; /* the HTTP front that received it (router.h) */
    struct app *app;   /* the server, for handlers; never read by http/ */
    struct evhttp_request *ev;
    char id[GC_REQID_MAX + 1];        /* ours, always generated here: logs, audit "rid" */
    char client_id[GC_REQID_MAX + 1]; /* the client's X-Request-Id if it passed
                                         validate_request_id, else "": echoed in the
                                         reply, audit "crid", never instead of id */
    const char *route;                /* the route template, e.g. "/api/v1/graduates/{id}" */
    struct principal who;
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX + 1]; /* decoded path parameters */
    int64_t start_us;                                 /* monotonic, at arrival */
    unsigned char body_sha256[32];                    /* of the raw body, for idempotency */
    json_t *body;                                     /* owned; NULL until read */
    void *state; /* a handler's own state, freed with the request */
    void (*state_free)(void *state);
    const struct route *matched;          /* its row in the route table (router.h) */
    void (*authenticated)(struct req *r); /* where authn.c continues */
    /* API-issued tokens: their liveness is checked in Redis alongside the
     * request's own commands (authn.h). A reply ready before that check
     * answered is held (owned here) and sent, or replaced by a 401, once it
     * has. */
    bool guard_pending;
    int guard; /* HTTP_GUARD_* */
    struct evbuffer *held;
    int held_status;
    const char *held_reason, *held_ctype;
    /* Other steps the answer waits for (http_hold), and the worst of their
     * outcomes so far. */
    unsigned holds;
    enum store_status hold_st;
    /* When set, a 200 answer given as JSON (http_reply_jw, http_reply_json)
     * is handed to it (with the text, which it frees) instead of being sent:
     * it answers in another form (api/export.h). Cleared before the call. */
    void (*reply_200)(struct req *r, struct jw *w);
    const void *reply_200_arg; /* borrowed, for reply_200 */
    /* Why writes under the key of a store call of this request are refused
     * (call_key_refused, or a call answered STORE_REFUSED): what its 503
     * names. STORE_WRITES_OK: the store's own store_writes(). On a Redis
     * Cluster it is the county's master's, not gc:{@}'s. */
    enum store_writes key_writes;
};

/* Reads the request body as a JSON object into r->body. On failure replies
 * (400/413/415) and returns -1: the request is gone, touch nothing. */
int http_read_json_or_reply(struct req *r) GC_MUSTCHECK;

/* Whether the request came with a body (bytes, or a Content-Type naming
 * one): for endpoints whose body is optional. */
bool http_has_body(struct req *r);

/* An id taken from the request (a path parameter, a body member, a query
 * value; NULL passes) that is shaped like a national ID or a mobile number
 * (id_personal_data, domain/ids.h): answers 400 id_is_personal_data, naming
 * where it was by `what` (our own words, e.g. "the graduate id in the path";
 * never the id) and returns -1: the request is gone. Otherwise 0. Called
 * before the id reaches Redis, the audit trail or a log line. */
int http_id_not_personal_or_reply(struct req *r, const char *id, const char *what) GC_MUSTCHECK;

/* Query parameter lookup; the value is a new malloc'd string or NULL when absent.
 * *bad is set when the query string itself is malformed. */
char *http_query(struct req *r, const char *name, bool *bad);

/* Header lookup on the request; borrowed. */
const char *http_header(struct req *r, const char *name);

/* The client's address (numeric): the peer, or the X-Real-IP of a trusted
 * proxy. Borrowed from the connection or the request. */
const char *http_peer(struct req *r);

/* The same from its parts: peer (the connection's address) and real_ip (the
 * request's X-Real-IP, may be NULL). Returns one of the two (borrowed). */
const char *http_client_of(const struct config *cfg, const char *peer, const char *real_ip);

/* The answers to a missing or an unknown token and to an unavailable store,
 * shared by the replies below and the judge of heads alone (authn.h). */
#define HTTP_MSG_NO_TOKEN "missing bearer token"
#define HTTP_AUTH_NO_TOKEN "Bearer"
#define HTTP_MSG_BAD_TOKEN "unknown, expired or revoked token"
#define HTTP_AUTH_BAD_TOKEN "Bearer error=\"invalid_token\""
#define HTTP_MSG_UNAVAILABLE "the data store is unavailable; retry after the indicated delay"
#define HTTP_MSG_AUTH_THROTTLED "too many failed authentications from this address"

/* Adds a response header before one of the replies below. */
void http_add_header(struct req *r, const char *name, const char *value);

/* Sends `body` (takes ownership) with status, then frees r. */
void http_reply_json(struct req *r, int status, json_t *body);

/* Sends the JSON text built in w (freed here, also on failure: a failed text
 * answers 500) with status, then frees r. */
void http_reply_jw(struct req *r, int status, struct jw *w);

/* Sends the bytes collected in w (freed here) as they are, with their content
 * type; a failed text answers 500. Then frees r. */
void http_reply_text(struct req *r, int status, const char *ctype, struct jw *w);

/* Sends a non-JSON body (copied) with its content type, then frees r. */
void http_reply_raw(struct req *r, int status, const char *ctype, const char *data, size_t len);

/* Sends {"error": {"code", "message", "fields"?}} (fields: taken, may be NULL),
 * then frees r. 503s carry Retry-After. */
void http_reply_error(struct req *r, int status, const char *code, const char *message,
                      json_t *fields);

/* 422 with one field message. */
void http_reply_invalid(struct req *r, const char *field, const char *message);

/* 422 naming every field collected in v (taken: v is empty after). */
void http_reply_verr(struct req *r, struct verr *v);

/* 401 for an unknown, expired or revoked token (WWW-Authenticate: Bearer
 * error="invalid_token"); an API-issued token is dropped from the cache. */
void http_reply_revoked(struct req *r);

/* 429 with Retry-After: retry_s. */
void http_reply_too_many(struct req *r, int retry_s, const char *message);

/* 503 for a store that is down, timed out or failed; frees r. */
void http_reply_unavailable(struct req *r);

/* The OrReply shape for store results: 0 when st is STORE_OK; otherwise
 * answers 503 (with Retry-After) and returns -1: the request is gone. A
 * refusal says why (redis_refusing_writes: OOM, READONLY, MISCONF); anything
 * else is redis_unavailable.
 *   if (http_store_ok_or_reply(r, st) < 0)
 *       return; */
int http_store_ok_or_reply(struct req *r, enum store_status st) GC_MUSTCHECK;

/* 503 for a store whose writes are refused, with the code that says why
 * (redis_unavailable, redis_unchecked, redis_refusing_writes,
 * redis_may_evict); frees r. */
void http_reply_unwritable(struct req *r, enum store_writes w);

/* The OrReply shape for a request that needs Redis to accept writes (a
 * write, or a read of personal data, whose audit entry is one): 0 when it
 * does, else answers 503 saying why and returns -1. */
int http_writable_or_reply(struct req *r) GC_MUSTCHECK;

/* The answer waits for one more step (an audit entry): a reply sent before
 * as many http_release() as http_hold() have come is held, as for the token
 * guard. If any of them came with a status other than STORE_OK, the held
 * answer is not sent: a 503 saying why replaces it (unless it was a 5xx
 * already). No personal data without its audit entry. */
void http_hold(struct req *r);
void http_release(struct req *r, enum store_status st);

/* For the router and authn.c: a new request context for ev (NULL when memory
 * ran out), and the sending of a reply that was held for the token guard. */
struct req *http_request_new(struct router *rt, struct evhttp_request *ev);
void http_send_held(struct req *r);

/* For the router: one request fewer in flight (deps.idle is called at 0). */
void http_request_done(struct router *rt);

/* "GET", "POST", ... */
const char *http_method_name(enum evhttp_cmd_type m);

#endif
