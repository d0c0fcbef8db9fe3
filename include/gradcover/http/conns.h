/* Client connections of the HTTP server, guarded: a count against
 * max_connections (the listener pauses at the cap and resumes when one
 * closes) and against max_connections_per_address (one more from an address
 * that holds that many is closed right after the accept; trusted proxies are
 * exempt), a deadline for each request head (shorter while more than 80% of
 * max_connections are open) and body, and a strict check of every request
 * head before evhttp parses it (httphead.h). The guard is a pass-through
 * bufferevent filter stacked on whatever transport evhttp gets, so it does
 * not care whether that is a plain socket or TLS. */
#ifndef GRADCOVER_HTTP_CONNS_H
#define GRADCOVER_HTTP_CONNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gradcover/common.h"
#include "gradcover/http/httphead.h"

struct bufferevent;
struct conns;
struct event_base;
struct evconnlistener;
struct evhttp_request;

struct conns_limits {
    unsigned max_connections;
    unsigned max_per_address;  /* per client address, an IPv6 /64 counting as one */
    const char *const *exempt; /* numeric addresses never limited per address (borrowed) */
    size_t nexempt;
    int header_timeout_s; /* from the first byte of a request (or the accept) to its empty line */
    int body_timeout_s;   /* from the end of the head to the last byte of the body */
    long long body_max;   /* a larger Content-Length is answered 413 without reading the body */
};

/* NULL on allocation failure (or when no random bytes could be read). */
struct conns *conns_new(struct event_base *base, const struct conns_limits *lim);

/* Frees the set. Connections still open reference it until their bufferevents
 * are finalized, so call this after evhttp_free() and event_base_free().
 * NULL is a no-op. */
void conns_free(struct conns *cs);

/* SIGHUP (reload.h): the per-address cap, the exempt addresses and the
 * timeouts of lim apply to what comes next (connections already over a new,
 * lower per-address cap stay open); max_connections and body_max are kept.
 * -1 when out of memory (nothing changed). */
int conns_set_limits(struct conns *cs, const struct conns_limits *lim) GC_MUSTCHECK;

/* The listener to pause at the cap; NULL once it is gone (graceful stop). */
void conns_set_listener(struct conns *cs, struct evconnlistener *lev);

/* For evhttp's bevcb: takes ownership of transport (a bufferevent without fd;
 * evhttp sets it) and returns the guarded bufferevent to give evhttp, which
 * owns it from then on. When memory is short, returns transport itself
 * (served unguarded and uncounted). */
struct bufferevent *conns_wrap(struct conns *cs, struct bufferevent *transport);

/* A request head that asked for "100 Continue" (Expect: 100-continue, with a
 * body), held back until the head is judged: owned by the guard, valid until
 * conns_gate_done. */
struct conns_gate;

/* What the judge sees of such a head; strings NUL-terminated, owned by the
 * gate. */
struct conns_gate_head {
    const char *method;        /* "POST", ... */
    int minor;                 /* HTTP/1.<minor> */
    bool host;                 /* a Host field was present */
    const char *target;        /* the request target as sent */
    const char *authorization; /* the field's value; NULL when absent */
    const char *real_ip;       /* X-Real-IP's value; NULL when absent */
    const char *peer;          /* the connection's peer address ("?" when unknown) */
};

/* Installs the judge of such heads (the router: target, route, token, role,
 * rate limit). It must call conns_gate_done(g, ...) exactly once, now or
 * later. Without a judge the head is accepted as it comes. */
void conns_set_gate(struct conns *cs,
                    void (*judge)(void *arg, struct conns_gate *g, const struct conns_gate_head *h),
                    void *arg);

/* The judge's verdict on g: NULL accepts the head (the client is sent
 * "100 Continue", unless its body is arriving already, and the request goes
 * on to evhttp and the router as usual); otherwise the request is answered
 * with *refusal (copied) without reading the body, and the connection is
 * closed. Frees g; a connection that closed meanwhile is simply forgotten. */
void conns_gate_done(struct conns_gate *g, const struct head_reject *refusal);

/* Called by the router for every request evhttp hands over: stops the
 * request's deadline until the answer is written. Returns how to answer a
 * request whose head was refused (its stand-in reached the router), or NULL. */
const struct head_reject *conns_request_begin(struct conns *cs, struct evhttp_request *req);

/* The graceful stop (app.c): from now on every answer carries "Connection:
 * close" (the router asks conns_draining), so that a proxy's keep-alive
 * connection is closed by the answer it is waiting for, never under a request
 * the proxy is sending. */
void conns_drain(struct conns *cs);
bool conns_draining(const struct conns *cs);

/* While draining: closes every connection that has waited idle between
 * requests for at least idle_ms (a proxy's keep-alive connection it did not
 * reuse; nginx's own keepalive_timeout is shorter, so nginx closes first and
 * never sends on a socket closing under it). */
void conns_close_idle(struct conns *cs, int64_t idle_ms);

/* Client connections open now. */
unsigned conns_open(const struct conns *cs);

/* Writes the gradcover_http_connection* families (Prometheus text format). */
void conns_render_metrics(const struct conns *cs, FILE *out);

#endif
