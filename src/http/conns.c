/* Guarded client connections (see conns.h). Each accepted connection gets a
 * struct conn, owned by its filter bufferevent and freed by the filter's
 * free_context when evhttp frees the connection; nothing else frees it. A
 * connection is admitted (its peer address looked up and counted against the
 * per-address limit) as soon as evhttp has given it its socket, before any
 * byte is read. The filter holds back each request head until its empty
 * line, checks it, and passes it (or a stand-in for a refused one) to evhttp;
 * bodies flow through. A connection that is refused, or misses a deadline, is
 * shut down (shutdown(2)): evhttp sees the end of the stream and frees the
 * connection itself. */
#include "gradcover/http/conns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/pii.h"
#include "gradcover/http/peers.h"

/* A head buffer starts this small and doubles up to HEAD_MAX_BYTES; one that
 * grew beyond HEAD_KEEP_BYTES is released after each head, so that idle
 * keep-alive connections hold little memory. */
#define HEAD_INITIAL_BYTES 1024
#define HEAD_KEEP_BYTES 4096
/* A stand-in head is under 100 bytes. */
#define STAND_IN_MAX 128
/* Under pressure (more than this share of max_connections open) new heads
 * get the shorter deadline below: a slow-header attacker spread over many
 * addresses must then open connections ~3x faster to keep them full. */
#define PRESSURE_PERCENT 80
/* The head deadline under pressure: a head is a few hundred bytes; even over
 * a poor mobile link (~1 s round trips) it arrives, TLS handshake included,
 * within about 2.5 round trips of the accept. */
#define PRESSURE_HEADER_TIMEOUT_S 3
/* The interim answer to a head whose Expect: 100-continue was accepted. */
#define CONTINUE_LINE "HTTP/1.1 100 Continue\r\n\r\n"
/* A judged refusal's header value: an Allow list or Retry-After seconds. */
#define REFUSAL_VALUE_MAX 64
/* An address over its limit is logged at most once per this interval, with
 * the number of connections refused since its last line: an attacker
 * reconnecting hundreds of times a second cannot flood the journal. */
#define REFUSAL_LOG_INTERVAL_MS 10000

enum phase {
    PH_IDLE, /* between requests: no deadline (evhttp's idle timeout applies) */
    PH_HEAD, /* holding back a head until its empty line; header deadline */
    PH_BODY, /* head released, body flowing to evhttp; body deadline */
    PH_BUSY, /* request handed to the router; no deadline until it is answered */
    PH_GATE, /* an Expect: 100-continue head held while the router judges it; body deadline */
};

/* What the connection's timer is set for; DL_ADMIT fires at once (on the next
 * loop iteration, once evhttp has set the socket). */
enum deadline { DL_NONE, DL_ADMIT, DL_HEADER, DL_BODY };

struct conn {
    struct conns *cs;
    struct bufferevent *bev;          /* the filter; evhttp owns it and, through it, us */
    struct bufferevent *transport;    /* under the filter, owned by it */
    struct evbuffer_cb_entry *out_cb; /* on_transport_out, on the transport's output */
    struct evbuffer_cb_entry *in_cb;  /* on_filter_output, on the filter's output */
    bool out_pending; /* answer bytes passed to the transport, not yet reported written */
    struct event *timer;
    enum deadline armed;
    evutil_socket_t fd; /* -1 until admitted (evhttp sets it after wrap) */
    bool admitted;      /* peer looked up, counted or refused */
    bool counted;       /* counted in cs->peers under addr */
    bool filled_cap;    /* its accept paused the listener (logged once its peer is known) */
    struct peer_addr addr;
    char peer[INET6_ADDRSTRLEN]; /* the peer's address for log lines; "?" until known */
    enum phase phase;
    bool discard;          /* drop all further input (a refused head's connection is closing) */
    long long skip;        /* bytes of a refused body still to drop before the next head */
    bool close_after_skip; /* and then close: the client asked for it */
    const struct head_reject *verdict; /* for the stand-in now with the router */
    bool in_filter;                    /* filter_in is running (evhttp reads after it) */
    /* PH_GATE: the head being judged, the head as evhttp will get it (without
     * Expect, so that evhttp sends no 100 Continue itself) followed by what
     * arrived since, and what a refusal's stand-in needs. */
    struct conns_gate *gate;
    struct evbuffer *held;
    size_t held_head, held_max;
    struct head_info gate_info;
    struct head_reject refusal; /* a judged refusal, answered by the router */
    char refusal_value[REFUSAL_VALUE_MAX];
    char *head; /* owned; NULL between heads when released */
    size_t head_len, head_cap;
    int eol; /* end-of-head scan: 0 within a line, 1 after LF, 2 after LF CR */
    int64_t idle_since; /* clock_mono_ms() when it last became PH_IDLE */
};

struct conns {
    struct event_base *base;
    struct evconnlistener *listener; /* borrowed from evhttp; NULL when gone */
    unsigned max, open;
    unsigned per_address; /* connections one address (an IPv6 /64) may hold */
    bool paused;
    bool draining; /* graceful stop: answers close their connections */
    struct timeval header_tv, body_tv, pressure_tv, admit_tv;
    long long body_max;
    struct conn **by_fd; /* live connections by socket, for conns_request_begin */
    size_t nfd;
    struct peers *peers;      /* open connections by address */
    struct peer_addr *exempt; /* trusted proxies: never limited per address */
    size_t nexempt;
    void (*judge)(void *arg, struct conns_gate *g, const struct conns_gate_head *h);
    void *judge_arg;
    uint64_t accepted, limit_reached, header_timeouts, body_timeouts, refused_heads;
    uint64_t refused_per_address;
};

struct conns *conns_new(struct event_base *base, const struct conns_limits *lim)
{
    uint64_t seed;
    if (gc_random_bytes(&seed, sizeof seed) < 0)
        return NULL;
    struct conns *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->base = base;
    cs->max = lim->max_connections;
    cs->per_address = lim->max_per_address;
    cs->header_tv.tv_sec = lim->header_timeout_s;
    cs->body_tv.tv_sec = lim->body_timeout_s;
    cs->pressure_tv.tv_sec = lim->header_timeout_s < PRESSURE_HEADER_TIMEOUT_S
                                 ? lim->header_timeout_s
                                 : PRESSURE_HEADER_TIMEOUT_S;
    cs->body_max = lim->body_max;
    /* At most max_connections connections are counted, so as many addresses. */
    cs->peers = peers_new(lim->max_connections, seed);
    cs->exempt = calloc(lim->nexempt + 1, sizeof *cs->exempt);
    if (!cs->peers || !cs->exempt) {
        conns_free(cs);
        return NULL;
    }
    for (size_t i = 0; i < lim->nexempt; i++)
        if (peer_addr_parse(lim->exempt[i], &cs->exempt[cs->nexempt]))
            cs->nexempt++;
    return cs;
}

int conns_set_limits(struct conns *cs, const struct conns_limits *lim)
{
    struct peer_addr *ex = calloc(lim->nexempt + 1, sizeof *ex);
    if (!ex)
        return -1;
    size_t nex = 0;
    for (size_t i = 0; i < lim->nexempt; i++)
        if (peer_addr_parse(lim->exempt[i], &ex[nex]))
            nex++;
    free(cs->exempt);
    cs->exempt = ex;
    cs->nexempt = nex;
    cs->per_address = lim->max_per_address;
    cs->header_tv.tv_sec = lim->header_timeout_s;
    cs->body_tv.tv_sec = lim->body_timeout_s;
    cs->pressure_tv.tv_sec = lim->header_timeout_s < PRESSURE_HEADER_TIMEOUT_S
                                 ? lim->header_timeout_s
                                 : PRESSURE_HEADER_TIMEOUT_S;
    return 0;
}

void conns_free(struct conns *cs)
{
    if (!cs)
        return;
    free(cs->by_fd);
    peers_free(cs->peers);
    free(cs->exempt);
    free(cs);
}

/* Pauses the listener; true when it was running. The caller logs (with the
 * peer whose connection took the last slot, once known). */
static bool pause_accepting(struct conns *cs)
{
    if (cs->paused || !cs->listener)
        return false;
    evconnlistener_disable(cs->listener);
    cs->paused = true;
    cs->limit_reached++;
    return true;
}

/* peer: the address whose connection just closed, for the log line. */
static void resume_accepting(struct conns *cs, const char *peer)
{
    if (!cs->paused)
        return;
    cs->paused = false;
    if (cs->listener) {
        evconnlistener_enable(cs->listener);
        log_info("event=http_connection_limit open=%u max=%u action=resume_accepting peer=%s",
                 cs->open, cs->max, peer);
    }
}

void conns_set_listener(struct conns *cs, struct evconnlistener *lev)
{
    cs->listener = lev;
    cs->paused = false;
    if (lev && cs->open >= cs->max && pause_accepting(cs))
        log_warn("event=http_connection_limit open=%u max=%u action=pause_accepting peer=-",
                 cs->open, cs->max);
}

/* More than PRESSURE_PERCENT of max_connections are open. */
static bool under_pressure(const struct conns *cs)
{
    return (uint64_t)cs->open * 100 > (uint64_t)cs->max * PRESSURE_PERCENT;
}

static void arm(struct conn *c, enum deadline d)
{
    struct conns *cs = c->cs;
    const struct timeval *tv = d == DL_ADMIT        ? &cs->admit_tv
                               : d == DL_BODY       ? &cs->body_tv
                               : under_pressure(cs) ? &cs->pressure_tv
                                                    : &cs->header_tv;
    evtimer_add(c->timer, tv);
    c->armed = d;
}

static void disarm(struct conn *c)
{
    if (c->armed != DL_NONE)
        evtimer_del(c->timer);
    c->armed = DL_NONE;
}

/* Closes c without an answer: all further input is dropped, and evhttp reads
 * the end of the stream and frees the connection, and with it c; the
 * descriptor stays ours until then, so it cannot be reused meanwhile. */
static void cut(struct conn *c)
{
    c->discard = true;
    disarm(c);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

static bool exempt(const struct conns *cs, const struct peer_addr *a)
{
    for (size_t i = 0; i < cs->nexempt; i++)
        if (peer_addr_equal(&cs->exempt[i], a))
            return true;
    return false;
}

/* One connection too many from e's address: refused, counted, and logged at
 * most once per REFUSAL_LOG_INTERVAL_MS per address. */
static void refuse_connection(struct conn *c, struct peer_entry *e)
{
    struct conns *cs = c->cs;
    cs->refused_per_address++;
    e->refused++;
    int64_t now = clock_mono_ms();
    if (e->logged_ms == 0 || now - e->logged_ms >= REFUSAL_LOG_INTERVAL_MS) {
        log_warn("event=http_connection_refused reason=per_address peer=%s open=%u limit=%u "
                 "refused=%u action=close",
                 c->peer, e->open, cs->per_address, e->refused);
        e->refused = 0;
        e->logged_ms = now;
    }
    cut(c);
}

/* The peer's connection count goes down; an address with none left is
 * forgotten, after a last line for refusals not yet logged. */
static void release_peer(struct conn *c)
{
    struct conns *cs = c->cs;
    struct peer_entry *e = c->counted ? peers_get(cs->peers, &c->addr, false) : NULL;
    c->counted = false;
    if (!e || --e->open > 0)
        return;
    if (e->refused > 0)
        log_warn("event=http_connection_refused reason=per_address peer=%s open=0 limit=%u "
                 "refused=%u",
                 c->peer, cs->per_address, e->refused);
    peers_drop(cs->peers, &c->addr);
}

static void register_fd(struct conn *c);

/* Once evhttp has set the socket (the first loop iteration after the accept,
 * or the first bytes, whichever comes first): who the peer is, and whether it
 * may hold one more connection. Then the first head is due within the header
 * deadline. */
static void admit(struct conn *c)
{
    if (c->admitted)
        return;
    c->admitted = true;
    disarm(c);
    register_fd(c);
    struct conns *cs = c->cs;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (c->fd >= 0 && getpeername(c->fd, (struct sockaddr *)&ss, &sl) == 0)
        peer_addr_of((struct sockaddr *)&ss, &c->addr, c->peer, sizeof c->peer);
    if (c->filled_cap)
        log_warn("event=http_connection_limit open=%u max=%u action=pause_accepting peer=%s",
                 cs->open, cs->max, c->peer);
    if (c->addr.len > 0 && !exempt(cs, &c->addr)) {
        /* NULL cannot happen (the table holds max_connections addresses);
         * the connection would be served uncounted. */
        struct peer_entry *e = peers_get(cs->peers, &c->addr, true);
        if (e && e->open >= cs->per_address) {
            refuse_connection(c, e);
            return;
        }
        if (e) {
            e->open++;
            c->counted = true;
        }
    }
    arm(c, DL_HEADER);
}

static void on_timer(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    struct conn *c = arg;
    if (c->armed == DL_ADMIT) {
        c->armed = DL_NONE;
        admit(c);
        return;
    }
    bool header = c->armed == DL_HEADER;
    c->armed = DL_NONE;
    if (header)
        c->cs->header_timeouts++;
    else
        c->cs->body_timeouts++;
    log_info("event=http_deadline deadline=%s fd=%d peer=%s action=close",
             header ? "header" : "body", (int)c->fd, c->peer);
    cut(c);
}

static void begin_head(struct conn *c)
{
    c->phase = PH_HEAD;
    c->head_len = 0;
    c->eol = 0;
    arm(c, DL_HEADER);
}

/* Hands the stand-in of a refused head to evhttp; its answer closes the
 * connection. Except after a too large body: that body is dropped as it
 * arrives (and the connection kept, as HTTP/1.1 even for a 1.0 client) so that
 * the client reads our 413 rather than a reset; a client that asked for the
 * close gets it once the body is through (close_after_skip). */
static void refuse_with(struct conn *c, const struct head_reject *reject, bool linger,
                        const struct head_info *info, struct evbuffer *dst)
{
    char buf[STAND_IN_MAX];
    struct head_info stand_in = *info;
    if (linger)
        stand_in.minor = 1;
    size_t n = head_stand_in(&stand_in, linger, buf, sizeof buf);
    c->verdict = reject;
    c->cs->refused_heads++;
    log_info("event=http_head_refused status=%d code=%s peer=%s", c->verdict->status,
             c->verdict->code, c->peer);
    c->head_len = 0;
    if (linger) {
        c->skip = info->content_length;
        c->close_after_skip = info->close;
    } else {
        c->discard = true;
    }
    evbuffer_add(dst, buf, n);
    c->phase = PH_BODY;
    arm(c, DL_BODY);
}

static void refuse(struct conn *c, enum head_verdict v, const struct head_info *info,
                   struct evbuffer *dst)
{
    refuse_with(c, head_reject_of(v), v == HEAD_BODY_TOO_LARGE, info, dst);
}

struct conns_gate {
    struct conn *conn; /* NULL once the connection is gone */
    struct conns_gate_head h;
    char method[sizeof((struct head_info *)0)->method];
    char peer[INET6_ADDRSTRLEN];
    char *strings; /* target, authorization and real_ip, owned */
};

void conns_set_gate(struct conns *cs,
                    void (*judge)(void *arg, struct conns_gate *g, const struct conns_gate_head *h),
                    void *arg)
{
    cs->judge = judge;
    cs->judge_arg = arg;
}

/* Hands a head with Expect: 100-continue to the judge (the router) before
 * any of its body is read. -1 when memory is short: the caller releases the
 * head as it came (evhttp then sends its own 100 Continue). */
static int start_gate(struct conn *c, const struct head_info *info)
{
    struct conns *cs = c->cs;
    size_t tl = info->target_len, al = info->auth_len, rl = info->real_ip_len;
    struct conns_gate *g = calloc(1, sizeof *g);
    char *str = malloc(tl + al + rl + 3);
    struct evbuffer *held = evbuffer_new();
    if (!g || !str || !held) {
        free(g);
        free(str);
        if (held)
            evbuffer_free(held);
        return -1;
    }
    size_t after = info->expect_off + info->expect_len;
    if (evbuffer_add(held, c->head, info->expect_off) < 0 ||
        evbuffer_add(held, c->head + after, c->head_len - after) < 0) {
        free(g);
        free(str);
        evbuffer_free(held);
        return -1;
    }
    memcpy(str, c->head + info->target_off, tl);
    str[tl] = '\0';
    memcpy(str + tl + 1, c->head + info->auth_off, al);
    str[tl + 1 + al] = '\0';
    memcpy(str + tl + al + 2, c->head + info->real_ip_off, rl);
    str[tl + al + 2 + rl] = '\0';
    g->strings = str;
    snprintf(g->method, sizeof g->method, "%s", info->method);
    snprintf(g->peer, sizeof g->peer, "%s", c->peer);
    g->h = (struct conns_gate_head){.method = g->method,
                                    .minor = info->minor,
                                    .host = info->host,
                                    .target = str,
                                    .authorization = info->auth ? str + tl + 1 : NULL,
                                    .real_ip = rl ? str + tl + al + 2 : NULL,
                                    .peer = g->peer};
    g->conn = c;
    c->gate = g;
    c->held = held;
    c->held_head = evbuffer_get_length(held);
    /* The body and one pipelined head may arrive while the judge thinks. */
    c->held_max = c->held_head + (size_t)info->content_length + HEAD_MAX_BYTES;
    c->gate_info = *info;
    c->phase = PH_GATE;
    arm(c, DL_BODY);
    cs->judge(cs->judge_arg, g, &g->h); /* may call conns_gate_done at once */
    return 0;
}

void conns_gate_done(struct conns_gate *g, const struct head_reject *refusal)
{
    struct conn *c = g->conn;
    free(g->strings);
    free(g);
    if (!c)
        return; /* the connection closed while its head was judged */
    c->gate = NULL;
    struct evbuffer *held = c->held, *in = bufferevent_get_input(c->bev);
    c->held = NULL;
    if (refusal) {
        /* Answered at once, and closed: the body is never read. */
        c->refusal = *refusal;
        if (refusal->header) {
            snprintf(c->refusal_value, sizeof c->refusal_value, "%s", refusal->value);
            c->refusal.value = c->refusal_value;
        }
        refuse_with(c, &c->refusal, false, &c->gate_info, in);
    } else {
        /* RFC 9110 §10.1.1: no need for 100 once the body is arriving. */
        if (evbuffer_get_length(held) == c->held_head)
            bufferevent_write(c->transport, CONTINUE_LINE, strlen(CONTINUE_LINE));
        evbuffer_add_buffer(in, held);
        c->phase = PH_BODY; /* the body deadline runs on */
    }
    evbuffer_free(held);
    /* From the loop, evhttp must be told that there is input; from within
     * filter_in it reads once the filter returns. */
    if (!c->in_filter)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* The 413 is written and the refused body dropped: close if the client asked. */
static void close_if_done(struct conn *c)
{
    if (!c->close_after_skip || c->skip > 0 || c->phase != PH_IDLE)
        return;
    c->close_after_skip = false;
    cut(c);
}

static void release_head(struct conn *c, struct evbuffer *dst)
{
    struct head_info info;
    enum head_verdict v = head_check(c->head, c->head_len, c->cs->body_max, &info);
    if (v == HEAD_OK && info.expect_continue && info.content_length > 0 && c->cs->judge &&
        start_gate(c, &info) == 0) {
        /* held back until the judge's verdict (conns_gate_done) */
    } else if (v == HEAD_OK) {
        evbuffer_add(dst, c->head, c->head_len);
        c->phase = PH_BODY;
        arm(c, DL_BODY);
    } else {
        refuse(c, v, &info, dst);
    }
    c->head_len = 0;
    if (c->head_cap > HEAD_KEEP_BYTES) {
        free(c->head);
        c->head = NULL;
        c->head_cap = 0;
    }
}

static bool head_room(struct conn *c)
{
    if (c->head_len < c->head_cap)
        return true;
    size_t cap = c->head_cap ? c->head_cap * 2 : HEAD_INITIAL_BYTES;
    if (cap > HEAD_MAX_BYTES)
        cap = HEAD_MAX_BYTES;
    if (cap <= c->head_cap)
        return false;
    char *p = realloc(c->head, cap);
    if (!p)
        return false;
    c->head = p;
    c->head_cap = cap;
    return true;
}

/* Moves head bytes from src into the head buffer up to the empty line, then
 * releases the head to dst. */
static void take_head(struct conn *c, struct evbuffer *src, struct evbuffer *dst)
{
    if (c->head_len == 0) {
        /* Empty lines before a request line are ignored (RFC 9112 §2.2). */
        unsigned char first;
        while (evbuffer_copyout(src, &first, 1) == 1 && (first == '\r' || first == '\n'))
            evbuffer_drain(src, 1);
        if (evbuffer_get_length(src) == 0)
            return;
    }
    if (!head_room(c)) { /* out of memory */
        struct head_info info = {.method = "GET", .minor = 1, .content_length = -1};
        refuse(c, HEAD_TOO_LARGE, &info, dst);
        return;
    }
    size_t n = evbuffer_get_length(src);
    if (n > c->head_cap - c->head_len)
        n = c->head_cap - c->head_len;
    char *p = c->head + c->head_len;
    ev_ssize_t got = evbuffer_copyout(src, p, n);
    if (got < 0) {
        c->discard = true; /* cannot happen with valid arguments; never spin */
        return;
    }
    size_t used = (size_t)got;
    bool end = false;
    for (size_t i = 0; i < (size_t)got; i++) {
        if (p[i] == '\n') {
            if (c->eol != 0) {
                used = i + 1; /* the empty line: the head ends here */
                end = true;
                break;
            }
            c->eol = 1;
        } else {
            c->eol = p[i] == '\r' && c->eol == 1 ? 2 : 0;
        }
    }
    evbuffer_drain(src, used);
    c->head_len += used;
    if (!end && c->head_len >= HEAD_MAX_BYTES) {
        struct head_info info = {.method = "GET", .minor = 1, .content_length = -1};
        refuse(c, HEAD_TOO_LARGE, &info, dst);
        return;
    }
    if (end)
        release_head(c, dst);
}

/* Passes src to dst through the guard; drains src completely. */
static void feed(struct conn *c, struct evbuffer *src, struct evbuffer *dst)
{
    size_t len;
    while ((len = evbuffer_get_length(src)) > 0) {
        if (c->discard) {
            evbuffer_drain(src, len);
            return;
        }
        if (c->skip > 0) {
            size_t n = (long long)len < c->skip ? len : (size_t)c->skip;
            evbuffer_drain(src, n);
            c->skip -= (long long)n;
            if (c->skip == 0 && c->phase == PH_IDLE)
                disarm(c);
            close_if_done(c);
            continue;
        }
        switch (c->phase) {
        case PH_IDLE:
            begin_head(c);
            break;
        case PH_HEAD:
            take_head(c, src, dst);
            break;
        case PH_BODY:
        case PH_BUSY:
            evbuffer_add_buffer(dst, src);
            break;
        case PH_GATE:
            if (evbuffer_get_length(c->held) + len > c->held_max) {
                cut(c); /* more than a body and a head before the verdict */
                break;
            }
            evbuffer_add_buffer(c->held, src);
            break;
        }
    }
}

/* Remembers the connection under its socket, once evhttp has set it. */
static void register_fd(struct conn *c)
{
    struct conns *cs = c->cs;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0)
        return;
    if ((size_t)fd >= cs->nfd) {
        size_t n = cs->nfd ? cs->nfd : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct conn **t = realloc(cs->by_fd, n * sizeof *t);
        if (!t)
            return; /* served, but its deadlines keep running while it is answered */
        memset(t + cs->nfd, 0, (n - cs->nfd) * sizeof *t);
        cs->by_fd = t;
        cs->nfd = n;
    }
    cs->by_fd[fd] = c;
    c->fd = fd;
    /* evhttp leaves Nagle on; with delayed ACKs a large reply on a keep-alive
     * connection then stalls ~40 ms (SPEC §4). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static enum bufferevent_filter_result filter_in(struct evbuffer *src, struct evbuffer *dst,
                                                ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                void *arg)
{
    (void)limit; /* evhttp sets no read watermark, so there is no limit */
    (void)mode;
    struct conn *c = arg;
    admit(c);
    if (evbuffer_get_length(src) == 0)
        return BEV_NEED_MORE;
    /* BEV_OK even when only a partial head was taken: evhttp's idle timer then
     * sees the bytes, as it would without the guard. */
    c->in_filter = true;
    feed(c, src, dst);
    c->in_filter = false;
    return BEV_OK;
}

/* Answers flow out unchanged, and at once: evhttp queues an answer while its
 * writing is still disabled on the filter, and the filter would then hold it
 * back until the transport happens to call (on_filter_output moves it). And
 * evhttp must not learn that an answer is written before the transport has
 * handed every byte to the kernel: after "Connection: close" it frees the
 * connection and shuts the socket down at once, losing what is still queued.
 * So the filter never reports progress itself (BEV_NEED_MORE); on_transport_out
 * reports the answer written once the transport's output is empty. */
static void pass_output(struct conn *c, struct evbuffer *src)
{
    if (evbuffer_get_length(src) == 0)
        return;
    evbuffer_add_buffer(bufferevent_get_output(c->transport), src);
    c->out_pending = true;
}

static enum bufferevent_filter_result filter_out(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                 void *arg)
{
    (void)dst; /* the transport's output, which pass_output fills */
    (void)limit;
    (void)mode;
    pass_output(arg, src);
    return BEV_NEED_MORE;
}

/* Callback on the filter's output buffer (where evhttp writes). */
static void on_filter_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    if (info->n_added > 0)
        pass_output(arg, buf);
}

/* Callback on the transport's output buffer: runs evhttp's write callback
 * (deferred to the loop, outside the transport's own write path) when an
 * answer has fully left for the kernel. */
static void on_transport_out(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    if (info->n_deleted == 0 || evbuffer_get_length(buf) > 0 || !c->out_pending ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
        return;
    c->out_pending = false;
    bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

static void conn_free(void *arg)
{
    struct conn *c = arg;
    struct conns *cs = c->cs;
    if (c->fd >= 0 && (size_t)c->fd < cs->nfd && cs->by_fd[c->fd] == c)
        cs->by_fd[c->fd] = NULL;
    /* The transport outlives this call by a moment (the filter releases it
     * right after): it must not call us back. */
    evbuffer_remove_cb_entry(bufferevent_get_output(c->transport), c->out_cb);
    if (c->in_cb)
        evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->in_cb);
    release_peer(c);
    if (c->gate)
        c->gate->conn = NULL; /* conns_gate_done will find it gone */
    if (c->held)
        evbuffer_free(c->held);
    char peer[sizeof c->peer];
    memcpy(peer, c->peer, sizeof peer);
    event_free(c->timer);
    free(c->head);
    free(c);
    cs->open--;
    if (cs->open < cs->max)
        resume_accepting(cs, peer);
}

struct bufferevent *conns_wrap(struct conns *cs, struct bufferevent *transport)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return transport;
    c->cs = cs;
    c->fd = -1;
    strcpy(c->peer, "?");
    c->transport = transport;
    c->timer = evtimer_new(cs->base, on_timer, c);
    c->out_cb = evbuffer_add_cb(bufferevent_get_output(transport), on_transport_out, c);
    if (c->timer && c->out_cb)
        c->bev = bufferevent_filter_new(transport, filter_in, filter_out, BEV_OPT_CLOSE_ON_FREE,
                                        conn_free, c);
    if (!c->bev) {
        if (c->out_cb)
            evbuffer_remove_cb_entry(bufferevent_get_output(transport), c->out_cb);
        if (c->timer)
            event_free(c->timer);
        free(c);
        log_warn("event=http_connection_unguarded reason=out_of_memory");
        return transport;
    }
    /* From here c belongs to the filter (conn_free), the transport too. */
    cs->open++;
    c->in_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), on_filter_output, c);
    if (!c->in_cb) {
        bufferevent_free(c->bev); /* frees c (conn_free) and the transport */
        return NULL;              /* evhttp makes a plain bufferevent itself */
    }
    cs->accepted++;
    /* The first head; its deadline starts at the admission, right after. */
    c->phase = PH_HEAD;
    arm(c, DL_ADMIT);
    if (cs->open >= cs->max)
        c->filled_cap = pause_accepting(cs);
    return c->bev;
}

static struct conn *conn_of(struct conns *cs, struct evhttp_request *req)
{
    struct evhttp_connection *ec = evhttp_request_get_connection(req);
    struct bufferevent *bev = ec ? evhttp_connection_get_bufferevent(ec) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0 || (size_t)fd >= cs->nfd)
        return NULL;
    struct conn *c = cs->by_fd[fd];
    return c && c->bev == bev ? c : NULL;
}

/* The answer is written and evhttp is about to read the next request: bytes
 * the client pipelined behind the one just answered already passed the filter
 * unchecked (as body bytes); take them back and check them like new input. */
static void on_answered(struct evhttp_request *req, void *arg)
{
    struct conn *c = conn_of(arg, req);
    if (!c || c->phase != PH_BUSY)
        return;
    c->phase = PH_IDLE;
    c->idle_since = clock_mono_ms();
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (evbuffer_get_length(in) > 0 && !c->discard) {
        struct evbuffer *tmp = evbuffer_new();
        if (tmp) {
            evbuffer_add_buffer(tmp, in);
            feed(c, tmp, in);
            evbuffer_free(tmp);
        }
    }
    if (c->phase == PH_IDLE && c->skip > 0)
        arm(c, DL_BODY); /* the rest of a refused body is due within the body deadline */
    close_if_done(c);
}

const struct head_reject *conns_request_begin(struct conns *cs, struct evhttp_request *req)
{
    struct conn *c = conn_of(cs, req);
    if (!c)
        return NULL;
    disarm(c);
    c->phase = PH_BUSY;
    const struct head_reject *v = c->verdict;
    c->verdict = NULL;
    evhttp_request_set_on_complete_cb(req, on_answered, cs);
    return v;
}

void conns_drain(struct conns *cs)
{
    cs->draining = true;
}

bool conns_draining(const struct conns *cs)
{
    return cs && cs->draining;
}

void conns_close_idle(struct conns *cs, int64_t idle_ms)
{
    if (!cs->draining)
        return;
    int64_t now = clock_mono_ms();
    for (size_t fd = 0; fd < cs->nfd; fd++) {
        struct conn *c = cs->by_fd[fd];
        /* Idle with nothing of its own left to write or to drop. */
        if (!c || c->phase != PH_IDLE || c->discard || c->skip > 0 || c->out_pending ||
            now - c->idle_since < idle_ms)
            continue;
        log_info("event=http_connection_drained fd=%d peer=%s idle_ms=%lld action=close",
                 (int)c->fd, c->peer, (long long)(now - c->idle_since));
        cut(c);
    }
}

unsigned conns_open(const struct conns *cs)
{
    return cs ? cs->open : 0;
}

void conns_render_metrics(const struct conns *cs, FILE *f)
{
    metrics_family(f, "gradcover_http_connections", "gauge", "Client connections open now.");
    fprintf(f, "gradcover_http_connections %u\n", cs->open);
    metrics_family(f, "gradcover_http_connections_max", "gauge",
                   "max_connections: at this many open connections new ones wait in the backlog.");
    fprintf(f, "gradcover_http_connections_max %u\n", cs->max);
    metrics_family(f, "gradcover_http_connections_accepted_total", "counter",
                   "Client connections accepted.");
    fprintf(f, "gradcover_http_connections_accepted_total %llu\n",
            (unsigned long long)cs->accepted);
    metrics_family(f, "gradcover_http_connection_limit_reached_total", "counter",
                   "Times accepting paused because max_connections were open.");
    fprintf(f, "gradcover_http_connection_limit_reached_total %llu\n",
            (unsigned long long)cs->limit_reached);
    metrics_family(f, "gradcover_http_connections_per_address_max", "gauge",
                   "max_connections_per_address: connections one client address (an IPv6 /64) "
                   "may hold; more are closed at once.");
    fprintf(f, "gradcover_http_connections_per_address_max %u\n", cs->per_address);
    metrics_family(f, "gradcover_http_connections_refused_total", "counter",
                   "Connections closed right after the accept, by reason.");
    fprintf(f, "gradcover_http_connections_refused_total{reason=\"per_address\"} %llu\n",
            (unsigned long long)cs->refused_per_address);
    metrics_family(f, "gradcover_http_connections_closed_total", "counter",
                   "Connections closed by the server because a request missed its deadline.");
    fprintf(f, "gradcover_http_connections_closed_total{reason=\"header_timeout\"} %llu\n",
            (unsigned long long)cs->header_timeouts);
    fprintf(f, "gradcover_http_connections_closed_total{reason=\"body_timeout\"} %llu\n",
            (unsigned long long)cs->body_timeouts);
    metrics_family(
        f, "gradcover_http_request_heads_refused_total", "counter",
        "Request heads refused before routing (malformed framing, NUL bytes, too large).");
    fprintf(f, "gradcover_http_request_heads_refused_total %llu\n",
            (unsigned long long)cs->refused_heads);
}
