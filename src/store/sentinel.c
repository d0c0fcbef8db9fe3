/* Finding the master through Redis Sentinel (see sentinel.h).
 *
 * Two kinds of connection to the sentinels, both short of any state a
 * command depends on:
 * - a question: connect to one sentinel, AUTH when the URL has a password,
 *   SENTINEL get-master-addr-by-name, close. Unanswered within
 *   ASK_TIMEOUT_MS, refused or nil, the next sentinel is asked; when all
 *   failed, the round starts again after a backoff;
 * - the subscription: SUBSCRIBE +switch-master on one sentinel, kept open;
 *   when it drops, the next sentinel is subscribed to after SUB_RETRY_MS.
 *   Each (re)subscription is followed by a question: a switch may have
 *   happened while nobody listened.
 * Whether the named master really is one is checked by each store
 * connection (ROLE) before it is used: a sentinel may name the old master
 * for the seconds before it agrees on the failover. */
#include "gradcover/store/sentinel.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"

/* A sentinel answers get-master-addr-by-name from memory in microseconds;
 * one that has not within this is down or partitioned, and the next is
 * asked. Three sentinels asked in turn stay within the 2 s the issue allows
 * for writes to resume after a failover. */
#define ASK_TIMEOUT_MS 500
/* A round in which no sentinel named a master starts again after 100 ms,
 * doubling to 1 s: as the store's reconnects (store.c BACKOFF_*). */
#define ROUND_RETRY_MIN_MS 100
#define ROUND_RETRY_MAX_MS 1000
/* A lost subscription is made again on the next sentinel after this; the
 * questions that follow disconnects cover the time in between. */
#define SUB_RETRY_MS 500
/* The main store and the counter cache's two connections; room for more. */
#define WATCHERS_MAX 16

struct watcher {
    void (*cb)(void *arg);
    void *arg;
};

struct sentinel {
    struct event_base *base;
    struct redis_target t; /* the sentinels, the master's name, the credentials */
    bool known;
    char host[256];
    int port;
    /* ---- the question ---- */
    redisAsyncContext *q; /* NULL: none under way on a connection */
    bool asking;          /* a round is under way */
    bool again;           /* asked for during the round: one more follows */
    int qi;               /* the sentinel asked (or to ask next) */
    int tried;            /* sentinels asked in this round */
    int retry_ms;
    struct event *ask_timer;   /* the question's deadline */
    struct event *round_timer; /* the next round after a failed one */
    /* ---- the subscription ---- */
    redisAsyncContext *sub;
    int si;
    bool subscribed;
    struct event *sub_timer;
    bool closing;
    unsigned long long changes; /* the master's address changed */
    struct watcher w[WATCHERS_MAX];
    int nw;
};

static void ask(struct sentinel *sn);
static void sub_connect(struct sentinel *sn);

static void notify(struct sentinel *sn)
{
    /* A watcher may reconnect, and so ask again: iterate over a copy. */
    struct watcher w[WATCHERS_MAX];
    int n = sn->nw;
    memcpy(w, sn->w, sizeof w);
    for (int i = 0; i < n; i++)
        w[i].cb(w[i].arg);
}

/* A sentinel named host:port as the master. */
static void named(struct sentinel *sn, const char *host, size_t hlen, const char *port,
                  const char *via)
{
    char *end;
    long p = strtol(port, &end, 10);
    if (hlen == 0 || hlen >= sizeof sn->host || *end || p < 1 || p > 65535) {
        log_warn("event=sentinel_bad_answer via=%s", via);
        return;
    }
    if (!sn->known || strlen(sn->host) != hlen || memcmp(sn->host, host, hlen) != 0 ||
        sn->port != (int)p) {
        if (sn->known)
            sn->changes++;
        log_info("event=redis_master_named master=%s addr=%.*s:%ld was=%s:%d via=%s",
                 sn->t.master, (int)hlen, host, p, sn->known ? sn->host : "none",
                 sn->known ? sn->port : 0, via);
        memcpy(sn->host, host, hlen);
        sn->host[hlen] = '\0';
        sn->port = (int)p;
        sn->known = true;
    }
    notify(sn);
}

/* Connects to sentinel i with AUTH queued when the URL has a password. A
 * sentinel without one answers AUTH with an error, which is ignored: the
 * next command says whether it needs one (NOAUTH). */
static redisAsyncContext *connect_to(struct sentinel *sn, int i,
                                     void (*on_conn)(const redisAsyncContext *, int),
                                     void (*on_disc)(const redisAsyncContext *, int))
{
    const struct redis_hostport *h = &sn->t.sentinels[i];
    redisAsyncContext *ac = redisAsyncConnect(h->host, h->port);
    if (!ac || ac->err) {
        log_warn("event=sentinel_connect_failed addr=%s:%d err=\"%s\"", h->host, h->port,
                 ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        return NULL;
    }
    ac->data = sn;
    redisLibeventAttach(ac, sn->base);
    redisAsyncSetConnectCallback(ac, on_conn);
    redisAsyncSetDisconnectCallback(ac, on_disc);
    if (sn->t.password[0]) {
        if (sn->t.user[0])
            redisAsyncCommand(ac, NULL, NULL, "AUTH %s %s", sn->t.user, sn->t.password);
        else
            redisAsyncCommand(ac, NULL, NULL, "AUTH %s", sn->t.password);
    }
    return ac;
}

/* ---- the question ---- */

static void round_over(struct sentinel *sn, bool ok)
{
    evtimer_del(sn->ask_timer);
    sn->asking = false;
    if (!ok) {
        struct timeval tv = {sn->retry_ms / 1000, (sn->retry_ms % 1000) * 1000};
        evtimer_add(sn->round_timer, &tv);
        log_warn("event=sentinel_no_master master=%s sentinels=%d retry_ms=%d", sn->t.master,
                 sn->t.nsentinels, sn->retry_ms);
        sn->retry_ms = sn->retry_ms * 2 > ROUND_RETRY_MAX_MS ? ROUND_RETRY_MAX_MS : sn->retry_ms * 2;
        return;
    }
    sn->retry_ms = ROUND_RETRY_MIN_MS;
    if (sn->again) {
        sn->again = false;
        sentinel_rediscover(sn, "asked_during_round");
    }
}

/* The sentinel asked did not name a master: the next one, or the round failed. */
static void ask_next(struct sentinel *sn)
{
    evtimer_del(sn->ask_timer);
    sn->qi = (sn->qi + 1) % sn->t.nsentinels;
    if (++sn->tried >= sn->t.nsentinels) {
        round_over(sn, false);
        return;
    }
    ask(sn);
}

/* Drops the question's connection; its callbacks then see q != ac. */
static void drop_q(struct sentinel *sn, bool now)
{
    redisAsyncContext *ac = sn->q;
    sn->q = NULL;
    if (!ac)
        return;
    if (now)
        redisAsyncFree(ac);
    else
        redisAsyncDisconnect(ac); /* inside its callback: closes after it */
}

static void on_addr(redisAsyncContext *ac, void *replyp, void *privdata)
{
    struct sentinel *sn = privdata;
    redisReply *r = replyp;
    if (ac != sn->q || sn->closing)
        return;
    const struct redis_hostport *h = &sn->t.sentinels[sn->qi];
    char via[300];
    snprintf(via, sizeof via, "%s:%d", h->host, h->port);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
        char port[16];
        snprintf(port, sizeof port, "%.*s", (int)r->element[1]->len, r->element[1]->str);
        drop_q(sn, false);
        round_over(sn, true);
        named(sn, r->element[0]->str, r->element[0]->len, port, via);
        return;
    }
    if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("event=sentinel_refused via=%s err=\"%.*s\"", via, (int)r->len, r->str);
    else if (r)
        log_warn("event=sentinel_unknown_master via=%s master=%s", via, sn->t.master);
    drop_q(sn, false);
    ask_next(sn);
}

static void on_q_connect(const redisAsyncContext *ac, int status)
{
    struct sentinel *sn = ac->data;
    if (ac != sn->q || status == REDIS_OK)
        return;
    sn->q = NULL; /* hiredis frees it after this callback */
    ask_next(sn);
}

static void on_q_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct sentinel *sn = ac->data;
    if (ac != sn->q)
        return;
    sn->q = NULL;
    ask_next(sn);
}

static void on_ask_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sentinel *sn = arg;
    const struct redis_hostport *h = &sn->t.sentinels[sn->qi];
    log_warn("event=sentinel_timeout addr=%s:%d timeout_ms=%d", h->host, h->port, ASK_TIMEOUT_MS);
    drop_q(sn, true);
    ask_next(sn);
}

static void ask(struct sentinel *sn)
{
    for (;;) {
        sn->q = connect_to(sn, sn->qi, on_q_connect, on_q_disconnect);
        if (sn->q && redisAsyncCommand(sn->q, on_addr, sn, "SENTINEL get-master-addr-by-name %s",
                                       sn->t.master) == REDIS_OK)
            break;
        drop_q(sn, true);
        sn->qi = (sn->qi + 1) % sn->t.nsentinels;
        if (++sn->tried >= sn->t.nsentinels) {
            round_over(sn, false);
            return;
        }
    }
    struct timeval tv = {0, ASK_TIMEOUT_MS * 1000};
    evtimer_add(sn->ask_timer, &tv);
}

void sentinel_rediscover(struct sentinel *sn, const char *why)
{
    if (sn->closing)
        return;
    if (sn->asking) {
        sn->again = true;
        return;
    }
    if (evtimer_pending(sn->round_timer, NULL))
        return; /* a failed round's retry is due soon */
    log_info("event=sentinel_ask master=%s why=%s", sn->t.master, why);
    sn->asking = true;
    sn->tried = 0;
    ask(sn);
}

static void on_round_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sentinel_rediscover(arg, "retry");
}

/* ---- the subscription ---- */

static void sub_retry(struct sentinel *sn)
{
    sn->subscribed = false;
    sn->si = (sn->si + 1) % sn->t.nsentinels;
    struct timeval tv = {SUB_RETRY_MS / 1000, (SUB_RETRY_MS % 1000) * 1000};
    if (!sn->closing)
        evtimer_add(sn->sub_timer, &tv);
}

/* "+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>" */
static void on_switch(redisAsyncContext *ac, void *replyp, void *privdata)
{
    struct sentinel *sn = privdata;
    redisReply *r = replyp;
    if (ac != sn->sub || sn->closing || !r)
        return;
    if (r->type == REDIS_REPLY_ERROR || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        log_warn("event=sentinel_subscribe_refused err=\"%.*s\"",
                 r->type == REDIS_REPLY_ERROR ? (int)r->len : 0,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
        sn->sub = NULL;
        redisAsyncDisconnect(ac);
        sub_retry(sn);
        return;
    }
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "subscribe") == 0) {
        sn->subscribed = true;
        log_info("event=sentinel_subscribed addr=%s:%d", sn->t.sentinels[sn->si].host,
                 sn->t.sentinels[sn->si].port);
        sentinel_rediscover(sn, "subscribed");
        return;
    }
    if (strcmp(kind, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING)
        return;
    char msg[600], name[128], oh[256], op[16], nh[256], np[16];
    snprintf(msg, sizeof msg, "%.*s", (int)r->element[2]->len, r->element[2]->str);
    if (sscanf(msg, "%127s %255s %15s %255s %15s", name, oh, op, nh, np) != 5 ||
        strcmp(name, sn->t.master) != 0)
        return;
    log_info("event=sentinel_switch_master master=%s from=%s:%s to=%s:%s", name, oh, op, nh, np);
    named(sn, nh, strlen(nh), np, "+switch-master");
}

static void on_sub_connect(const redisAsyncContext *ac, int status)
{
    struct sentinel *sn = ac->data;
    if (ac != sn->sub || status == REDIS_OK)
        return;
    sn->sub = NULL;
    sub_retry(sn);
}

static void on_sub_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct sentinel *sn = ac->data;
    if (ac != sn->sub)
        return;
    sn->sub = NULL;
    if (sn->closing)
        return;
    log_warn("event=sentinel_unsubscribed addr=%s:%d", sn->t.sentinels[sn->si].host,
             sn->t.sentinels[sn->si].port);
    sub_retry(sn);
    sentinel_rediscover(sn, "subscription_lost");
}

static void sub_connect(struct sentinel *sn)
{
    sn->sub = connect_to(sn, sn->si, on_sub_connect, on_sub_disconnect);
    if (!sn->sub ||
        redisAsyncCommand(sn->sub, on_switch, sn, "SUBSCRIBE +switch-master") != REDIS_OK) {
        redisAsyncContext *ac = sn->sub;
        sn->sub = NULL;
        if (ac)
            redisAsyncFree(ac);
        sub_retry(sn);
    }
}

static void on_sub_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sub_connect(arg);
}

/* hiredis 0.14 resolves names with a blocking getaddrinfo at each connect:
 * resolve once here, before the loop runs (as app.c does for redis://). */
static void resolve(struct redis_hostport *h)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, h->host, buf) == 1 || inet_pton(AF_INET6, h->host, buf) == 1)
        return;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(h->host, NULL, &hints, &res) != 0 || !res) {
        log_warn("event=sentinel_host_unresolved host=%s", h->host);
        return;
    }
    char addr[INET6_ADDRSTRLEN];
    const void *src = res->ai_family == AF_INET
                          ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                          : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    if (inet_ntop(res->ai_family, src, addr, sizeof addr))
        snprintf(h->host, sizeof h->host, "%s", addr);
    freeaddrinfo(res);
}

struct sentinel *sentinel_new(struct event_base *base, const struct redis_target *t)
{
    if (!t->sentinel || t->nsentinels < 1)
        return NULL;
    struct sentinel *sn = calloc(1, sizeof *sn);
    if (!sn)
        return NULL;
    sn->base = base;
    sn->t = *t;
    sn->t.via = NULL;
    sn->retry_ms = ROUND_RETRY_MIN_MS;
    for (int i = 0; i < sn->t.nsentinels; i++)
        resolve(&sn->t.sentinels[i]);
    sn->ask_timer = evtimer_new(base, on_ask_timeout, sn);
    sn->round_timer = evtimer_new(base, on_round_timer, sn);
    sn->sub_timer = evtimer_new(base, on_sub_timer, sn);
    if (!sn->ask_timer || !sn->round_timer || !sn->sub_timer) {
        sentinel_free(sn);
        return NULL;
    }
    sentinel_rediscover(sn, "start");
    sub_connect(sn);
    return sn;
}

void sentinel_free(struct sentinel *sn)
{
    if (!sn)
        return;
    sn->closing = true;
    drop_q(sn, true);
    if (sn->sub) {
        redisAsyncContext *ac = sn->sub;
        sn->sub = NULL;
        redisAsyncFree(ac);
    }
    if (sn->ask_timer)
        event_free(sn->ask_timer);
    if (sn->round_timer)
        event_free(sn->round_timer);
    if (sn->sub_timer)
        event_free(sn->sub_timer);
    free(sn);
}

bool sentinel_master(const struct sentinel *sn, char *host, size_t hostlen, int *port)
{
    if (!sn->known)
        return false;
    snprintf(host, hostlen, "%s", sn->host);
    *port = sn->port;
    return true;
}

int sentinel_watch(struct sentinel *sn, void (*cb)(void *arg), void *arg)
{
    if (sn->nw == WATCHERS_MAX)
        return -1;
    sn->w[sn->nw++] = (struct watcher){cb, arg};
    return 0;
}

void sentinel_unwatch(struct sentinel *sn, void *arg)
{
    for (int i = 0; i < sn->nw; i++)
        if (sn->w[i].arg == arg) {
            sn->w[i] = sn->w[--sn->nw];
            return;
        }
}

void sentinel_render_metrics(const struct sentinel *sn, FILE *out)
{
    metrics_family(out, "gradcover_redis_master_changes_total", "counter",
                   "Times the sentinels named another Redis master (a failover).");
    fprintf(out, "gradcover_redis_master_changes_total %llu\n", sn->changes);
    metrics_family(out, "gradcover_redis_sentinel_subscribed", "gauge",
                   "1 while subscribed to +switch-master on a sentinel.");
    fprintf(out, "gradcover_redis_sentinel_subscribed %d\n", sn->subscribed ? 1 : 0);
}
