/* Alert receivers' HTTP client (see post.h): one evhttp connection per POST,
 * kept until the next post_client_reap() because libevent forbids freeing a
 * connection inside its own request callback. */
#include "gradcover/alerts/post.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gradcover/core/tls.h"

/* A receiver gets this long to connect and answer. */
#define HTTP_TIMEOUT_S 10

struct post_client {
    struct event_base *base;
    struct evdns_base *dns;
    struct ssl_ctx_st *tls;  /* borrowed; NULL = no https:// */
    struct post *posts;      /* requests in flight */
    struct post *done_posts; /* answered; connections freed on the next reap */
};

/* A request in flight (on pc->posts) or finished and waiting for its
 * connection to be freed (on pc->done_posts). */
struct post {
    struct post_client *pc;
    struct post *next;
    struct evhttp_connection *conn;
    post_cb cb;
    void *arg;
};

static void post_unlink(struct post **list, struct post *p)
{
    for (; *list; list = &(*list)->next)
        if (*list == p) {
            *list = p->next;
            return;
        }
}

static void free_posts(struct post **list)
{
    while (*list) {
        struct post *p = *list;
        *list = p->next;
        evhttp_connection_free(p->conn);
        free(p);
    }
}

static void on_post_done(struct evhttp_request *req, void *arg)
{
    struct post *p = arg;
    struct post_client *pc = p->pc;
    char why[160], body[POST_BODY_MAX + 1];
    struct post_answer ans = {.status = req ? evhttp_request_get_response_code(req) : 0,
                              .body = body};
    if (ans.status > 0) {
        /* evhttp has read the whole body by now; the caller sees its head. */
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        ev_ssize_t got = in ? evbuffer_copyout(in, body, POST_BODY_MAX) : 0;
        ans.len = got > 0 ? (size_t)got : 0;
    } else if (ans.status == 0) {
        /* A TLS handshake that failed (an untrusted or misnamed certificate
         * among others) says why; the caller retries it like any
         * connection error, and nothing was sent. */
        ans.err = tls_client_failure(evhttp_connection_get_bufferevent(p->conn), why, sizeof why)
                      ? why
                      : "connection failed or timed out";
    }
    body[ans.len] = '\0';
    post_unlink(&pc->posts, p);
    p->next = pc->done_posts;
    pc->done_posts = p;
    p->cb(&ans, p->arg);
}

/* Answers a request that never reached the wire. */
static void fail_now(post_cb cb, void *arg, int status, const char *err)
{
    struct post_answer ans = {.status = status, .err = err, .body = ""};
    cb(&ans, arg);
}

void post_json(struct post_client *pc, const char *url, const char *body,
               const char *const *headers, post_cb cb, void *arg)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
    bool tls = scheme && strcmp(scheme, "https") == 0;
    struct post *p = calloc(1, sizeof *p);
    struct evhttp_request *req = NULL;
    if (!host || !p || !scheme || (!tls && strcmp(scheme, "http") != 0) || (tls && !pc->tls)) {
        free(p);
        evhttp_uri_free(u);
        fail_now(cb, arg, -1, "receiver URL cannot be used");
        return;
    }
    int default_port = tls ? 443 : 80;
    int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : default_port;
    p->pc = pc;
    p->cb = cb;
    p->arg = arg;
    if (tls) {
        /* The connection takes the bufferevent and frees it (and its SSL)
         * with itself. */
        struct bufferevent *bev = tls_client_bev_new(pc->tls, pc->base, host);
        p->conn = bev ? evhttp_connection_base_bufferevent_new(pc->base, pc->dns, bev, host,
                                                               (unsigned short)port)
                      : NULL;
        if (bev && !p->conn)
            bufferevent_free(bev);
    } else {
        p->conn = evhttp_connection_base_new(pc->base, pc->dns, host, (unsigned short)port);
    }
    req = p->conn ? evhttp_request_new(on_post_done, p) : NULL;
    if (!req) {
        if (p->conn)
            evhttp_connection_free(p->conn);
        free(p);
        evhttp_uri_free(u);
        fail_now(cb, arg, 0, "out of memory");
        return;
    }
    evhttp_connection_set_timeout(p->conn, HTTP_TIMEOUT_S);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char hostport[300];
    snprintf(hostport, sizeof hostport, port == default_port ? "%s" : "%s:%d", host, port);
    evhttp_add_header(h, "Host", hostport);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "User-Agent", "gradcoverd");
    evhttp_add_header(h, "Connection", "close");
    for (size_t i = 0; headers && headers[i]; i += 2)
        evhttp_add_header(h, headers[i], headers[i + 1]);
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    p->next = pc->posts;
    pc->posts = p;
    const char *path = evhttp_uri_get_path(u);
    const char *query = evhttp_uri_get_query(u);
    char target[1024];
    snprintf(target, sizeof target, "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    evhttp_uri_free(u);
    if (evhttp_make_request(p->conn, req, EVHTTP_REQ_POST, target) == 0)
        return;
    /* Failed at once (e.g. no socket). Unless libevent already answered
     * through on_post_done, answer here, exactly once. */
    for (struct post *q = pc->posts; q; q = q->next)
        if (q == p) {
            post_unlink(&pc->posts, p);
            p->next = pc->done_posts;
            pc->done_posts = p;
            fail_now(cb, arg, 0, "cannot start the request");
            return;
        }
}

void post_client_reap(struct post_client *pc)
{
    free_posts(&pc->done_posts);
}

void post_client_set_tls(struct post_client *pc, struct ssl_ctx_st *tls)
{
    if (pc)
        pc->tls = tls;
}

struct post_client *post_client_new(struct event_base *base, struct ssl_ctx_st *tls)
{
    struct post_client *pc = calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->base = base;
    pc->tls = tls;
    pc->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    return pc;
}

void post_client_free(struct post_client *pc)
{
    if (!pc)
        return;
    /* Requests still in flight are dropped with their connections. */
    free_posts(&pc->posts);
    free_posts(&pc->done_posts);
    if (pc->dns)
        evdns_base_free(pc->dns, 0);
    free(pc);
}
