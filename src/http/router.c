/* The HTTP front (see router.h): for every request, in this order, the
 * connection guard's verdict on its head, the request target, the route
 * (404/405), authentication and rate limits (authn.h), the route's roles
 * (403), whether Redis takes writes (503, for routes that need it), then
 * the handler. A head that asks for "100 Continue" passes the
 * same checks before its body is read (judge_head), so that a refused one
 * gets its final answer instead of an invitation to send the body. */
#include "gradcover/http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "gradcover/core/pii.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/http/authn.h"
#include "gradcover/http/conns.h"
#include "gradcover/http/ratelimit.h"
#include "gradcover/http/request.h"

/* Rate-limit buckets kept per table (tokens, client addresses). */
#define RATELIMIT_KEYS 100000
/* The Allow list of a path: a few methods ("GET, POST, DELETE"). */
#define ALLOW_MAX 64
/* A 400 bad_parameter's message: the count and the route's few parameter
 * names ("2 unknown query parameters; allowed: county, since, after, limit"). */
#define QUERY_MSG_MAX 160
/* The one template parameter that holds a contact's id (router.h). */
#define CONTACT_ID_PARAM "{contact_id}"

/* Matches path against the template; captures decoded "{name}" segments
 * into params. Returns 1 on match, 0 on no match, -1 for a segment that
 * cannot be decoded. */
static int match(const char *tmpl, const char *path, char params[][HTTP_PARAM_MAX + 1])
{
    int np = 0;
    while (*tmpl && *path) {
        if (*tmpl != '/' || *path != '/')
            return 0;
        tmpl++;
        path++;
        const char *te = strchr(tmpl, '/'), *pe = strchr(path, '/');
        size_t tl = te ? (size_t)(te - tmpl) : strlen(tmpl);
        size_t pl = pe ? (size_t)(pe - path) : strlen(path);
        if (tl >= 2 && tmpl[0] == '{' && tmpl[tl - 1] == '}') {
            size_t max = tl == strlen(CONTACT_ID_PARAM) && memcmp(tmpl, CONTACT_ID_PARAM, tl) == 0
                             ? GC_CONTACT_ID_MAX
                             : GC_ID_MAX;
            if (pl == 0 || pl > 3 * max || np >= HTTP_MAX_PARAMS)
                return pl == 0 ? 0 : -1;
            char enc[3 * HTTP_PARAM_MAX + 1];
            memcpy(enc, path, pl);
            enc[pl] = '\0';
            size_t dl = 0;
            char *dec = evhttp_uridecode(enc, 0, &dl);
            int ok = dec && dl == strlen(dec) && dl >= 1 && dl <= max;
            if (ok)
                strcpy(params[np++], dec);
            free(dec);
            if (!ok)
                return -1;
        } else if (tl != pl || memcmp(tmpl, path, tl) != 0) {
            return 0;
        }
        tmpl += tl;
        path += pl;
    }
    return *tmpl == '\0' && *path == '\0';
}

/* "%00" anywhere in the target: a decoded NUL would cut a path parameter or a
 * query value short (a valid-looking prefix would be used). */
static bool has_encoded_nul(const char *uri)
{
    for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            return true;
    return false;
}

static bool listed(const char *const *names, const char *name)
{
    for (; names && *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

/* The query string against the parameters the route takes (route.query):
 * NULL when it passes, else the message of the 400 (in msg, n bytes). Only
 * counts and our own names go into it, never the caller's bytes. */
static const char *query_refusal(const struct route *rt, const struct evhttp_uri *u, char *msg,
                                 size_t n)
{
    const char *q = u ? evhttp_uri_get_query(u) : NULL;
    if (!q || !*q)
        return NULL;
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    if (evhttp_parse_query_str(q, &params) < 0) {
        evhttp_clear_headers(&params);
        return "malformed query string";
    }
    size_t unknown = 0;
    bool twice = false;
    struct evkeyval *kv, *before;
    TAILQ_FOREACH(kv, &params, next)
    {
        if (!listed(rt->query, kv->key)) {
            unknown++;
            continue;
        }
        for (before = TAILQ_FIRST(&params); before != kv; before = TAILQ_NEXT(before, next))
            twice = twice || strcmp(before->key, kv->key) == 0;
    }
    evhttp_clear_headers(&params);
    if (unknown == 0)
        return twice ? "a query parameter is given more than once" : NULL;
    int w = snprintf(msg, n, "%zu unknown query parameter%s; %s", unknown, unknown == 1 ? "" : "s",
                     rt->query && rt->query[0] ? "allowed: " : "this path takes none");
    for (const char *const *a = rt->query; a && *a && w > 0 && (size_t)w < n; a++)
        w += snprintf(msg + w, n - (size_t)w, "%s%s", a == rt->query ? "" : ", ", *a);
    return msg;
}

/* The checks of a request's target and method, before its token: returns
 * the route (its path parameters in params), or NULL with the answer in
 * *rej (its header value, the Allow list of a 405, in allow; the message of
 * a 400 for the query string, in qmsg). *tmpl gets the template of the path
 * when it matched one. With qmsg NULL the query string is not checked. */
static const struct route *route_of(const struct router *rt, enum evhttp_cmd_type method,
                                    const char *uri, const struct evhttp_uri *u, bool host_missing,
                                    char params[][HTTP_PARAM_MAX + 1], const char **tmpl,
                                    struct head_reject *rej, char *allow, size_t allowlen,
                                    char *qmsg, size_t qmsglen)
{
    *rej = (struct head_reject){400, "bad_request", NULL, NULL, NULL};
    if (strlen(uri) > HTTP_URI_MAX) {
        *rej = (struct head_reject){414, "uri_too_long", "the request target exceeds 2048 bytes",
                                    NULL, NULL};
        return NULL;
    }
    if (has_encoded_nul(uri)) {
        rej->message = "the request target must not contain %00";
        return NULL;
    }
    /* RFC 9112 §3.2: an HTTP/1.1 request without Host is malformed. */
    if (host_missing) {
        rej->message = "HTTP/1.1 requests need a Host header";
        return NULL;
    }
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    if (!path || !*path) {
        rej->message = "malformed request target";
        return NULL;
    }
    bool path_known = false;
    allow[0] = '\0';
    for (size_t i = 0; i < rt->nroutes; i++) {
        int m = match(rt->routes[i].path, path, params);
        if (m < 0) {
            rej->message = "malformed path parameter";
            return NULL;
        }
        if (m == 0)
            continue;
        path_known = true;
        *tmpl = rt->routes[i].path;
        snprintf(allow + strlen(allow), allowlen - strlen(allow), "%s%s", allow[0] ? ", " : "",
                 http_method_name(rt->routes[i].method));
        if (rt->routes[i].method != method)
            continue;
        const char *bad = qmsg ? query_refusal(&rt->routes[i], u, qmsg, qmsglen) : NULL;
        if (bad) {
            *rej = (struct head_reject){400, "bad_parameter", bad, NULL, NULL};
            return NULL;
        }
        return &rt->routes[i];
    }
    if (path_known)
        *rej = (struct head_reject){405, "method_not_allowed", "method not allowed on this path",
                                    "Allow", allow};
    else
        *rej = (struct head_reject){404, "not_found", "no such resource", NULL, NULL};
    return NULL;
}

/* Authenticated: the route's roles, whether Redis takes its writes, then its
 * handler. */
static void authorized(struct req *r)
{
    if (!(r->matched->roles & ROLE_BIT(r->who.role))) {
        http_reply_error(r, 403, "forbidden", r->matched->denied, NULL);
        return;
    }
    if ((r->matched->flags & ROUTE_WRITES) && http_writable_or_reply(r) < 0)
        return;
    r->matched->handler(r);
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct router *rt = arg;
    rt->inflight++;
    /* First, before anything can fail: stops the connection's deadline. */
    const struct head_reject *refused = conns_request_begin(rt->deps.conns, ev);
    struct req *r = http_request_new(rt, ev);
    if (!r) {
        evhttp_send_error(ev, 500, NULL);
        http_request_done(rt);
        return;
    }
    /* A head conns.c refused (or the judge of a head that asked for 100
     * Continue): this is its stand-in; the connection closes after the answer
     * (except after a 413, whose body is dropped as it arrives). */
    if (refused) {
        if (refused->header)
            http_add_header(r, refused->header, refused->value);
        http_reply_error(r, refused->status, refused->code, refused->message, NULL);
        return;
    }
    struct head_reject rej;
    char allow[ALLOW_MAX], qmsg[QUERY_MSG_MAX];
    bool host_missing = ev->major == 1 && ev->minor >= 1 && !http_header(r, "Host");
    const struct route *hit =
        route_of(rt, evhttp_request_get_command(ev), evhttp_request_get_uri(ev),
                 evhttp_request_get_evhttp_uri(ev), host_missing, r->params, &r->route, &rej, allow,
                 sizeof allow, qmsg, sizeof qmsg);
    if (!hit) {
        if (rej.header)
            http_add_header(r, rej.header, rej.value);
        http_reply_error(r, rej.status, rej.code, rej.message, NULL);
        return;
    }
    r->matched = hit;
    if (hit->roles == ROUTE_PUBLIC) {
        if ((hit->flags & ROUTE_WRITES) && http_writable_or_reply(r) < 0)
            return;
        hit->handler(r);
        return;
    }
    authn_request(r, authorized);
}

static enum evhttp_cmd_type method_of(const char *name)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type type;
    } methods[] = {{"GET", EVHTTP_REQ_GET},       {"POST", EVHTTP_REQ_POST},
                   {"HEAD", EVHTTP_REQ_HEAD},     {"PUT", EVHTTP_REQ_PUT},
                   {"DELETE", EVHTTP_REQ_DELETE}, {"OPTIONS", EVHTTP_REQ_OPTIONS},
                   {"PATCH", EVHTTP_REQ_PATCH}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, name) == 0)
            return methods[i].type;
    return EVHTTP_REQ_GET; /* cannot happen: the guard passes only these */
}

/* The connection guard's judge of a head with Expect: 100-continue (see
 * conns_set_gate): the checks on_request makes before the handler, on the
 * head alone; authentication, roles and the rate limit by authn_judge. The
 * query string is checked when the whole request arrives (its 400 names a
 * count the refusal here could not keep). */
static void judge_head(void *arg, struct conns_gate *g, const struct conns_gate_head *h)
{
    struct router *rt = arg;
    struct evhttp_uri *u = evhttp_uri_parse_with_flags(h->target, EVHTTP_URI_NONCONFORMANT);
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX + 1];
    const char *tmpl = NULL;
    struct head_reject rej;
    char allow[ALLOW_MAX];
    const struct route *hit =
        route_of(rt, method_of(h->method), h->target, u, h->minor >= 1 && !h->host, params, &tmpl,
                 &rej, allow, sizeof allow, NULL, 0);
    if (u)
        evhttp_uri_free(u);
    if (!hit)
        conns_gate_done(g, &rej); /* copies rej and allow */
    else if (hit->roles == ROUTE_PUBLIC)
        conns_gate_done(g, NULL);
    else
        authn_judge(rt, hit, g, h);
}

struct router *router_new(struct evhttp *http, const struct http_deps *deps,
                          const struct route *routes, size_t nroutes)
{
    struct router *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->deps = *deps;
    rt->routes = routes;
    rt->nroutes = nroutes;
    rt->tokens = tokcache_new();
    rt->limits = ratelimit_new(RATELIMIT_KEYS);
    rt->authfail = ratelimit_new(RATELIMIT_KEYS);
    if (!rt->tokens || !rt->limits || !rt->authfail || gc_random_id(rt->prefix, 8) < 0) {
        router_free(rt);
        return NULL;
    }
    /* Accept every method so that wrong ones get our JSON 405, not evhttp's page. */
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                         EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, on_request, rt);
    conns_set_gate(rt->deps.conns, judge_head, rt);
    return rt;
}

void router_free(struct router *rt)
{
    if (!rt)
        return;
    tokcache_free(rt->tokens);
    ratelimit_free(rt->limits);
    ratelimit_free(rt->authfail);
    free(rt);
}

unsigned router_inflight(const struct router *rt)
{
    return rt ? rt->inflight : 0;
}
