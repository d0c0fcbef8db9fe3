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
#include "gradcover/http/request.h"

struct req;

/* roles of a route that needs no token at all (health, the pages). */
#define ROUTE_PUBLIC 0u

/* One row of a route table. */
struct route {
    enum evhttp_cmd_type method;
    /* "/api/v1/graduates/{id}": each "{name}" segment matches one decoded
     * path parameter (r->params, in order) of 1..GC_ID_MAX characters
     * ("{contact_id}": GC_CONTACT_ID_MAX); a longer one is 400 bad_request.
     * The template is also the route's name in logs and metrics. */
    const char *path;
    /* ROLE_BIT()s of the roles that may call it (domain/roles.h), or
     * ROUTE_PUBLIC. A caller of another role gets 403 `denied`. */
    unsigned roles;
    const char *denied;
    void (*handler)(struct req *r);
    /* ROUTE_WRITES, or 0. */
    unsigned flags;
    /* The query parameters it takes (NULL-terminated; NULL: none). Any other
     * parameter, one given twice, or a query string that cannot be parsed is
     * answered 400 bad_parameter with the request target's other checks,
     * before the token and the handler: a misspelt parameter (queue?ofset=100)
     * must not be silently ignored. The message counts the parameters and
     * lists the allowed names, and never repeats the caller's bytes. */
    const char *const *query;
};

/* The route needs Redis to accept writes: a write, or a read of personal
 * data (its audit entry is a write, and no such data is served without it).
 * While Redis refuses writes, or before its checks have passed, the router
 * answers 503 saying why, before the handler runs (after authentication and
 * roles: a stranger learns nothing of Redis). */
#define ROUTE_WRITES 1u

/* Installs the front as http's generic callback (every method reaches it, so
 * that wrong ones get a JSON 405). routes must outlive it. NULL when memory
 * or random bytes ran out. */
struct router *router_new(struct evhttp *http, const struct http_deps *deps,
                          const struct route *routes, size_t nroutes) GC_MUSTCHECK;
void router_free(struct router *rt);

/* Requests accepted and not yet answered. */
unsigned router_inflight(const struct router *rt);

#endif
