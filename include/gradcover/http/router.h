/* The HTTP front: routes as data (method, path template, the roles that may
 * call it, the handler), the checks every request passes before its handler
 * (request target, route, authentication, role), and the count of requests
 * in flight for a graceful stop. It knows no handler: the table is given. */
#ifndef GRADCOVER_HTTP_ROUTER_H
#define GRADCOVER_HTTP_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

#include "gradcover/common.h"

struct app;
struct clock;
struct config;
struct conns;
struct metrics;
struct ratelimit;
struct req;
struct store;
struct tokcache;

/* roles of a route that needs no token at all (health, the pages). */
#define ROUTE_PUBLIC 0u

/* One row of a route table. */
struct route {
    enum evhttp_cmd_type method;
    /* "/api/v1/graduates/{id}": each "{name}" segment matches one decoded
     * path parameter (r->params, in order); the template is also the route's
     * name in logs and metrics. */
    const char *path;
    /* ROLE_BIT()s of the roles that may call it (domain/roles.h), or
     * ROUTE_PUBLIC. A caller of another role gets 403 `denied`. */
    unsigned roles;
    const char *denied;
    void (*handler)(struct req *r);
};

/* What the front needs from the rest of the server; borrowed, all outlive it. */
struct http_deps {
    const struct config *cfg;
    struct store *store;     /* API-issued tokens and their liveness; Retry-After */
    struct metrics *metrics; /* requests by route and status */
    struct conns *conns;     /* the connection guard (conns.h) */
    const struct clock *clock;
    struct app *app; /* handed to handlers as r->app */
    /* Called each time the last request in flight has been answered. */
    void (*idle)(struct app *app);
};

/* The front of one evhttp server; read by request.c and authn.c. */
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

/* Installs the front as http's generic callback (every method reaches it, so
 * that wrong ones get a JSON 405). routes must outlive it. NULL when memory
 * or random bytes ran out. */
struct router *router_new(struct evhttp *http, const struct http_deps *deps,
                          const struct route *routes, size_t nroutes) GC_MUSTCHECK;
void router_free(struct router *rt);

/* Requests accepted and not yet answered. */
unsigned router_inflight(const struct router *rt);

/* "GET", "POST", ... */
const char *http_method_name(enum evhttp_cmd_type m);

/* For request.c: the request was answered (counts it, calls deps.idle at 0). */
void router_request_done(struct router *rt);

#endif
