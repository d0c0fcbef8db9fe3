/* The application context: event loop, HTTP server, Redis store, signals, the
 * clock, and the graceful stop (stop accepting, drain in-flight requests for at
 * most DRAIN_SECONDS, exit). */
#include "gradcover/app.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "gradcover/alerts/digest.h"
#include "gradcover/alerts/eval.h"
#include "gradcover/alerts/notify.h"
#include "gradcover/alerts/remind.h"
#include "gradcover/alerts/unsilence.h"
#include "gradcover/api/counts.h"
#include "gradcover/api/export.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/routes.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/pii.h"
#include "gradcover/core/tls.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/http/conns.h"
#include "gradcover/http/ratelimit.h"
#include "gradcover/http/request.h"
#include "gradcover/http/router.h"
#include "gradcover/jobs/retention.h"
#include "gradcover/jobs/transfers.h"
#include "gradcover/store/ccache.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/cluster.h"
#include "gradcover/store/sentinel.h"
#include "gradcover/store/store.h"

/* SPEC §5: in-flight requests get at most 10 s to finish after SIGTERM. */
#define DRAIN_SECONDS 10
/* While stopping, a keep-alive connection idle this long is closed by us.
 * Longer than the keepalive_timeout of deploy/nginx.conf's upstream (3 s), so
 * that nginx closes its idle connections first and never sends a request on
 * one that we are closing (the one race a graceful stop cannot answer). */
#define DRAIN_IDLE_MS 5000
/* How often a stop checks whether it is done (requests, connections and
 * alert deliveries all finished). */
#define DRAIN_TICK_MS 50
/* After the last answer is queued, the loop runs this much longer so that the
 * bytes leave the socket buffers before the connections are closed. */
#define FLUSH_GRACE_MS 250
/* Idle keep-alive connections (and reads or writes that stall) are dropped
 * after this; slow heads and bodies meet the shorter deadlines of conns.c. */
#define HTTP_IO_TIMEOUT_S 30
/* Descriptors besides client connections: the listener, Redis, webhook and
 * Alertmanager deliveries, stdio. */
#define FD_RESERVE 64
/* A Content-Length over HTTP_BODY_MAX is answered 413, and a chunked body 411,
 * by conns.c before the body is read; this bounds what evhttp reads for a
 * connection that had to be served unguarded (conns_wrap out of memory). */
#define HTTP_HARD_BODY_MAX (4 * HTTP_BODY_MAX)
/* Deadline for each Redis command; keeps every answer (503 included) under 2 s. */
#define REDIS_TIMEOUT_MS_DEFAULT 1500

int64_t app_now_ms(const struct app *a)
{
    return clock_now_ms(&a->clock);
}

int app_random_id(struct app *a, char *out, size_t chars)
{
    if (chars > sizeof a->rnd)
        return gc_random_id(out, chars);
    if (a->rnd_used + chars > sizeof a->rnd) {
        if (gc_random_bytes(a->rnd, sizeof a->rnd) < 0)
            return -1;
        a->rnd_used = 0;
    }
    gc_id_from_bytes(a->rnd + a->rnd_used, chars, out);
    a->rnd_used += chars;
    return 0;
}

/* The store's probe answered: is our PII key the one the data uses? Called
 * on every (re)connection and then every second (store.h), so a fingerprint
 * lost to FLUSHALL or a restore is written again at once, and a refused
 * check is simply made again: until it has succeeded on the current
 * connection, the store refuses writes (store_writes). */
static void on_pii_checked(enum store_status st, json_t *res, void *arg)
{
    struct app *a = arg;
    if (st != STORE_OK)
        return;
    bool mismatch = !json_is_true(json_object_get(res, "ok"));
    if (mismatch && !a->pii_mismatch)
        log_error("event=pii_key_mismatch hint=\"this Redis was written with another "
                  "pii_key_file; restore the original key\"");
    else if (!mismatch && a->pii_mismatch)
        log_info("event=pii_key_match");
    a->pii_mismatch = mismatch;
}

/* Redis accepts writes (again): what lives in it and must exist before work
 * resumes is made again (the outbox groups), and retention catches up. */
static void on_store_writable(void *arg)
{
    struct app *a = arg;
    notifier_on_ready(a->notifier);
    retention_start(a->retention);
}

/* The probe: pii_check.lua with our key's fingerprint (it writes the
 * fingerprint when Redis has none). */
static int set_probe(struct app *a)
{
    char key[KEY_MAX], fp[PII_HMAC_HEX_LEN + 1], args[PII_HMAC_HEX_LEN + 16];
    key_global(key, sizeof key);
    pii_fingerprint(a->pii, fp);
    snprintf(args, sizeof args, "{\"fp\":\"%s\"}", fp);
    return store_set_probe(a->store, "pii_check", key, args, on_pii_checked, a);
}

/* One host name (host, of size n) replaced by its first address. */
static void resolve_host(char *host, size_t n)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1)
        return;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
        log_warn("event=redis_host_unresolved host=%s hint=\"resolved again at each connect\"",
                 host);
        return;
    }
    char addr[INET6_ADDRSTRLEN];
    const void *src = res->ai_family == AF_INET
                          ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                          : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    if (inet_ntop(res->ai_family, src, addr, sizeof addr)) {
        log_info("event=redis_host_resolved host=%s addr=%s", host, addr);
        snprintf(host, n, "%s", addr);
    }
    freeaddrinfo(res);
}

/* hiredis 0.14 resolves host names with a blocking getaddrinfo on every
 * connect, which would freeze the loop on a slow DNS. Resolve once here, before
 * the loop runs, and connect by address from then on: the Redis host, or
 * every seed of a redis-cluster:// URL (the nodes the cluster names later
 * must be addresses: cluster.c refuses names). */
static void resolve_redis_host(struct redis_target *t)
{
    if (t->unix_socket || t->sentinel)
        return;
    if (!t->cluster) {
        resolve_host(t->host, sizeof t->host);
        return;
    }
    for (int i = 0; i < t->nseeds; i++)
        resolve_host(t->seeds[i].host, sizeof t->seeds[i].host);
    snprintf(t->host, sizeof t->host, "%s", t->seeds[0].host);
}

static void exit_after_flush(struct app *a)
{
    if (a->exiting)
        return;
    a->exiting = true;
    struct timeval tv = {0, FLUSH_GRACE_MS * 1000};
    event_base_loopexit(a->base, &tv);
}

/* A stop is done when no request is in flight, every client connection is
 * closed (answers since the signal said "Connection: close"; idle ones are
 * closed after DRAIN_IDLE_MS) and no alert delivery is half done (a message
 * a receiver got is recorded, so that no other server sends it again). */
static void drain_check(struct app *a)
{
    if (!a->draining || a->exiting)
        return;
    conns_close_idle(a->conns, DRAIN_IDLE_MS);
    if (router_inflight(a->router) == 0 && conns_open(a->conns) == 0 &&
        !notifier_busy(a->notifier)) {
        log_info("event=drained");
        exit_after_flush(a);
    }
}

/* The router answered its last request in flight. */
static void on_idle(struct app *a)
{
    drain_check(a);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drain_check(arg);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct app *a = arg;
    log_warn("event=drain_deadline inflight=%u connections=%u deliveries_busy=%d",
             router_inflight(a->router), conns_open(a->conns), notifier_busy(a->notifier));
    event_base_loopexit(a->base, NULL);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct app *a = arg;
    if (a->draining)
        return;
    a->draining = true;
    log_info("event=shutdown signal=%d inflight=%u connections=%u", (int)sig,
             router_inflight(a->router), conns_open(a->conns));
    /* New connections are refused at once: a proxy tries the next server
     * (the request was not sent, so even a POST may go there). */
    if (a->bound) {
        conns_set_listener(a->conns, NULL); /* freed with the bound socket */
        evhttp_del_accept_socket(a->http, a->bound);
        a->bound = NULL;
    }
    conns_drain(a->conns);
    notifier_drain(a->notifier);
    struct timeval tv = {DRAIN_SECONDS, 0};
    evtimer_add(a->drain_timer, &tv);
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};
    event_add(a->drain_tick, &tick);
    drain_check(a);
}

/* Makes next (owned, checked by reload_check) the configuration: every
 * holder reads it from its next unit of work on; the old generation is kept
 * until exit (reload.h). Runs on the loop between events. -1 when out of
 * memory before anything changed (next is then freed by the caller). */
static int reload_apply(struct app *a, struct config *next, struct ssl_ctx_st *tls_client)
{
    struct county_text *ctext = county_text_new(next);
    struct config_gen *g = calloc(1, sizeof *g);
    struct conns_limits lim = {.max_per_address = (unsigned)next->max_connections_per_address,
                               .exempt = (const char *const *)next->trusted_proxies,
                               .nexempt = next->ntrusted_proxies,
                               .header_timeout_s = next->header_timeout_seconds,
                               .body_timeout_s = next->body_timeout_seconds};
    struct tokcache *tokens = tokcache_new();
    if (!ctext || !g || !tokens || conns_set_limits(a->conns, &lim) < 0) {
        county_text_free(ctext, next->ncounties);
        free(g);
        tokcache_free(tokens);
        return -1;
    }
    g->cfg = a->cfg;
    g->ctext = a->ctext;
    g->next = a->old_gens;
    a->old_gens = g;
    a->cfg = next;
    a->ctext = ctext;
    /* alerts.ca_file: connections opened from now on verify with the new
     * context; those open hold a reference to the old one (SSL_new), which
     * OpenSSL frees with the last of them. */
    notifier_set_tls(a->notifier, tls_client);
    tls_ctx_free(a->tls_client);
    a->tls_client = tls_client; /* transfer ownership */
    a->router->deps.cfg = next;
    /* API-issued tokens: resolved again against the new file's counties. */
    tokcache_free(a->router->tokens);
    a->router->tokens = tokens;
    /* A holder out of memory keeps the old generation (still valid). */
    if (ccache_reconfigure(a->ccache, next) < 0 || notifier_reconfigure(a->notifier, next) < 0 ||
        reminder_reconfigure(a->reminder, next) < 0 ||
        unsilencer_reconfigure(a->unsilencer, next) < 0 ||
        digester_reconfigure(a->digester, next) < 0 || alerter_reconfigure(a->alerter, next) < 0 ||
        retention_reconfigure(a->retention, next) < 0 ||
        transfers_reconfigure(a->transfers, next) < 0)
        log_error("event=config_reload_partial err=\"out of memory\" hint=\"restart\"");
    return 0;
}

/* SIGHUP: the file is read and checked as at a start, then applied
 * (reload.h); a bad one is logged and counted and changes nothing. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct app *a = arg;
    char err[512] = "no configuration file";
    struct ssl_ctx_st *tls_client = NULL;
    struct config *next =
        a->config_path ? reload_check(a->cfg, a->config_path, err, sizeof err, &tls_client) : NULL;
    if (next && reload_apply(a, next, tls_client) < 0) {
        tls_ctx_free(tls_client);
        config_free(next);
        next = NULL;
        snprintf(err, sizeof err, "out of memory");
    }
    if (!next) {
        a->reload.failures++;
        log_error("event=config_reload_failed file=%s err=\"%s\" action=keep_old",
                  a->config_path ? a->config_path : "-", err);
        return;
    }
    a->reload.reloads++;
    a->reload.last_success_ms = app_now_ms(a);
    log_info("event=config_reloaded file=%s counties=%zu tokens=%zu receivers=%zu generation=%llu",
             a->config_path, next->ncounties, next->ntokens,
             next->alerts.nwebhooks + (next->alerts.alertmanager_url ? 1 : 0),
             (unsigned long long)a->reload.reloads + 1);
}

static void on_log_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_flush();
}

/* A line is waiting: write it at the end of this loop iteration, with the
 * others the iteration produces. */
static void kick_log(void *arg)
{
    struct app *a = arg;
    event_active(a->log_flush, EV_TIMEOUT, 0);
}

/* The transport of one accepted connection before the guard wraps it: an
 * OpenSSL bufferevent when TLS is configured (never a plain one then: on
 * failure tls.c returns a dead bufferevent that evhttp drops at once), else a
 * plain socket. evhttp sets the descriptor. */
static struct bufferevent *transport_new(struct app *a, struct event_base *base)
{
    if (a->tls_server)
        return tls_server_bev_new(a->tls_server, base);
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

/* evhttp's bevcb: called for every accepted connection. */
static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
    struct app *a = arg;
    struct bufferevent *t = transport_new(a, base);
    /* NULL makes evhttp create a plain socket bufferevent itself. */
    return t ? conns_wrap(a->conns, t) : NULL; /* takes t */
}

/* Every client connection holds a descriptor: raise the soft open-file limit
 * to fit max_connections, or refuse to start (accept() failing with EMFILE
 * would spin the loop). */
static int fit_fd_limit(unsigned max_conns, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)max_conns + FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        snprintf(err, errlen,
                 "max_connections %u needs %llu open files, the hard limit is %llu: raise "
                 "LimitNOFILE= or lower max_connections",
                 max_conns, (unsigned long long)need, (unsigned long long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, errlen, "cannot raise the open-file limit to %llu", (unsigned long long)need);
        return -1;
    }
    return 0;
}

struct app *app_new(struct config *cfg, const struct app_opts *opts, char *err, size_t errlen)
{
    struct app *a = calloc(1, sizeof *a);
    if (!a) {
        config_free(cfg);
        tls_ctx_free(opts->tls_server);
        tls_ctx_free(opts->tls_client);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->cfg = cfg; /* transfer ownership */
    a->config_path = opts->config_path;
    a->tls_server = opts->tls_server; /* transfer ownership */
    a->tls_client = opts->tls_client; /* transfer ownership */
    if (opts->now_set)
        clock_start_at(&a->clock, opts->now_ms);
    a->rnd_used = sizeof a->rnd; /* the pool starts empty */
    if (api_dashboard_csp(a->dashboard_csp, sizeof a->dashboard_csp) < 0 ||
        api_counselor_csp(a->counselor_csp, sizeof a->counselor_csp) < 0 ||
        api_ack_csp(a->ack_csp, sizeof a->ack_csp) < 0) {
        snprintf(err, errlen, "the embedded pages have no usable policy");
        goto out_free;
    }
    const char *listen = opts->listen ? opts->listen : cfg->listen;
    snprintf(a->listen, sizeof a->listen, "%s", listen);
    const char *redis_url = opts->redis_url ? opts->redis_url : cfg->redis_url;
    char host[256];
    int port;
    if (!config_split_hostport(listen, host, sizeof host, &port)) {
        snprintf(err, errlen, "listen address \"%s\" must be host:port", listen);
        goto out_free;
    }
    struct redis_target target;
    char uerr[128];
    if (!redis_url_parse(redis_url, &target, uerr, sizeof uerr)) {
        snprintf(err, errlen, "redis URL: %s", uerr);
        goto out_free;
    }
    resolve_redis_host(&target);
    a->pii = pii_open(cfg->pii_key_file, err, errlen);
    if (!a->pii)
        goto out_free;
    acklink_key_derive(a->pii, &a->ack_key);
    /* Route templates are few (the route table); 32 leaves room. */
    a->ctext = county_text_new(cfg);
    a->metrics = metrics_new(32);
    if (!a->ctext || !a->metrics) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    /* With the changelist, the read/write interest evhttp switches on and off
     * several times per request reaches the kernel once per loop iteration
     * (strace: 6.6 epoll_ctl calls per contact without it). Its one caveat,
     * dup()'d descriptors, does not apply: we never dup. */
    struct event_config *ecfg = event_config_new();
    if (ecfg)
        event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    a->base = ecfg ? event_base_new_with_config(ecfg) : NULL;
    if (ecfg)
        event_config_free(ecfg);
    if (!a->base)
        a->base = event_base_new();
    a->http = a->base ? evhttp_new(a->base) : NULL;
    a->exporter = a->base ? exporter_new(a->base, NULL) : NULL;
    if (!a->http || !a->exporter) {
        snprintf(err, errlen, "cannot create the event loop");
        goto out_free;
    }
    if (fit_fd_limit((unsigned)cfg->max_connections, err, errlen) < 0)
        goto out_free;
    /* A proxy carries many clients: per-client connection limits are its job
     * (docs/operations.md, nginx limit_conn). */
    struct conns_limits lim = {.max_connections = (unsigned)cfg->max_connections,
                               .max_per_address = (unsigned)cfg->max_connections_per_address,
                               .exempt = (const char *const *)cfg->trusted_proxies,
                               .nexempt = cfg->ntrusted_proxies,
                               .header_timeout_s = cfg->header_timeout_seconds,
                               .body_timeout_s = cfg->body_timeout_seconds,
                               .body_max = HTTP_BODY_MAX};
    a->conns = conns_new(a->base, &lim);
    if (!a->conns) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    evhttp_set_bevcb(a->http, on_accept, a);
    evhttp_set_max_body_size(a->http, HTTP_HARD_BODY_MAX);
    /* conns.c refuses larger heads first (431); this bounds connections that
     * had to be served unguarded. */
    evhttp_set_max_headers_size(a->http, HEAD_MAX_BYTES);
    evhttp_set_timeout(a->http, HTTP_IO_TIMEOUT_S);
    /* Read the rest of a refused body before closing, so that the client sees
     * our 413 instead of a connection reset. */
    evhttp_set_flags(a->http, EVHTTP_SERVER_LINGERING_CLOSE);
    a->bound = evhttp_bind_socket_with_handle(a->http, host, (ev_uint16_t)port);
    if (!a->bound) {
        snprintf(err, errlen, "cannot listen on %s", listen);
        goto out_free;
    }
    conns_set_listener(a->conns, evhttp_bound_socket_get_listener(a->bound));
    a->sigterm = evsignal_new(a->base, SIGTERM, on_term, a);
    a->sigint = evsignal_new(a->base, SIGINT, on_term, a);
    a->drain_timer = evtimer_new(a->base, on_drain_deadline, a);
    a->drain_tick = event_new(a->base, -1, EV_PERSIST, on_drain_tick, a);
    a->sighup = evsignal_new(a->base, SIGHUP, on_hup, a);
    a->log_flush = event_new(a->base, -1, 0, on_log_flush, a);
    if (!a->sigterm || !a->sigint || !a->drain_timer || !a->drain_tick || !a->log_flush ||
        !a->sighup || evsignal_add(a->sigterm, NULL) < 0 || evsignal_add(a->sigint, NULL) < 0 ||
        evsignal_add(a->sighup, NULL) < 0) {
        snprintf(err, errlen, "cannot install signal handlers");
        goto out_free;
    }
    int timeout = opts->redis_timeout_ms > 0 ? opts->redis_timeout_ms : REDIS_TIMEOUT_MS_DEFAULT;
    if (target.sentinel) {
        /* One finder of the master for every connection (the main store,
         * the counter cache's two): each follows it (store.c). */
        a->sentinel = sentinel_new(a->base, &target);
        if (!a->sentinel) {
            snprintf(err, errlen, "out of memory");
            goto out_free;
        }
        target.via = a->sentinel;
    }
    if (target.cluster) {
        /* The router behind a->store: a store per master (cluster.c). */
        a->cluster = cluster_new(a->base, &target, timeout);
        if (!a->cluster) {
            snprintf(err, errlen, "out of memory");
            goto out_free;
        }
        target.cluster_via = a->cluster;
    }
    a->store = store_new(a->base, &target, timeout);
    if (a->store)
        store_set_wait_replicas(a->store, cfg->wait_replicas, cfg->wait_timeout_ms);
    if (!a->store || set_probe(a) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    /* RFC 6797: only over TLS; no includeSubDomains (other hosts of a bureau's
     * domain may not all speak HTTPS). */
    if (a->tls_server && cfg->hsts_max_age_seconds > 0)
        snprintf(a->hsts, sizeof a->hsts, "max-age=%d", cfg->hsts_max_age_seconds);
    store_on_writable(a->store, on_store_writable, a);
    struct http_deps hd = {.cfg = cfg,
                           .store = a->store,
                           .metrics = a->metrics,
                           .conns = a->conns,
                           .clock = &a->clock,
                           .app = a,
                           .hsts = a->hsts[0] ? a->hsts : NULL,
                           .idle = on_idle};
    a->router = router_new(a->http, &hd, api_routes, api_nroutes);
    if (!a->router) {
        snprintf(err, errlen, "out of memory or no random bytes available");
        goto out_free;
    }
    /* On redis-cluster:// (target.cluster_via) a pair per master, following
     * the router's map; freed before the router (app_free). */
    a->ccache = cfg->counter_cache ? ccache_new(a->base, &target, timeout, cfg) : NULL;
    if (cfg->counter_cache && !a->ccache) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    /* The notifier first: the alerter tells it of every transition. */
    a->notifier = notifier_new(&(struct notifier_deps){.base = a->base,
                                                       .store = a->store,
                                                       .cfg = cfg,
                                                       .clock = &a->clock,
                                                       .tls_client = a->tls_client,
                                                       .listen = a->listen,
                                                       .ack_key = &a->ack_key});
    /* Repeats and the ends of silences put messages in the outboxes and
     * kick the notifier; the alerter says when repeats are due. */
    a->reminder = reminder_new(&(struct reminder_deps){
        .store = a->store, .cfg = cfg, .clock = &a->clock, .notifier = a->notifier});
    a->unsilencer = unsilencer_new(&(struct unsilencer_deps){.base = a->base,
                                                             .store = a->store,
                                                             .cfg = cfg,
                                                             .clock = &a->clock,
                                                             .notifier = a->notifier});
    a->digester = digester_new(&(struct digester_deps){.base = a->base,
                                                       .store = a->store,
                                                       .cfg = cfg,
                                                       .clock = &a->clock,
                                                       .notifier = a->notifier,
                                                       .ack_key = &a->ack_key,
                                                       .listen = a->listen});
    a->alerter = alerter_new(&(struct alerter_deps){.base = a->base,
                                                    .store = a->store,
                                                    .cfg = cfg,
                                                    .clock = &a->clock,
                                                    .notifier = a->notifier,
                                                    .reminder = a->reminder});
    a->retention = retention_new(&(struct retention_deps){
        .base = a->base, .store = a->store, .cfg = cfg, .clock = &a->clock});
    a->transfers = transfers_new(&(struct transfers_deps){
        .base = a->base, .store = a->store, .cfg = cfg, .clock = &a->clock});
    if (!a->alerter || !a->notifier || !a->reminder || !a->unsilencer || !a->digester ||
        !a->retention || !a->transfers) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    log_info("event=listening addr=%s scheme=%s counties=%zu tokens=%zu redis=%s:%d%s%s "
             "wait_replicas=%d%s",
             listen, a->tls_server ? "https" : "http", cfg->ncounties, cfg->ntokens,
             target.unix_socket ? target.path
             : target.sentinel  ? target.sentinels[0].host
                                : target.host,
             target.sentinel ? target.sentinels[0].port : target.port,
             target.sentinel ? " sentinel_master=" : "", target.sentinel ? target.master : "",
             cfg->wait_replicas, opts->now_set ? " clock=shifted" : "");
    return a;
out_free:
    app_free(a);
    return NULL;
}

int app_run(struct app *a)
{
    if (a->log_flush)
        log_batch_begin(kick_log, a);
    event_base_dispatch(a->base);
    /* The stop is under way. Freeing the signal events gives the signals
     * back to their default action, and a SIGTERM repeated now (systemd, an
     * impatient operator) would end the process by the signal in the middle
     * of its exit; blocked, it stays pending and the process ends with its
     * own code. Only this thread takes signals (the export workers block
     * them all). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    log_batch_end();
    log_info("event=stopped inflight=%u", router_inflight(a->router));
    return 0;
}

void app_free(struct app *a)
{
    if (!a)
        return;
    /* The stores first: their pending callbacks may still answer requests
     * (the cache's fall back to the main store, so it goes before it). */
    ccache_free(a->ccache);
    store_free(a->store);
    sentinel_free(a->sentinel); /* after every store that watched it */
    cluster_free(a->cluster);   /* after the façade store that delegates to it */
    alerter_free(a->alerter);
    unsilencer_free(a->unsilencer);
    reminder_free(a->reminder);
    retention_free(a->retention);
    transfers_free(a->transfers); /* after the store: its callbacks reach the job */
    notifier_free(a->notifier);
    /* After the notifier, whose queues may hold its digests. */
    digester_free(a->digester);
    /* Its workers' requests are answered while the HTTP server still exists. */
    exporter_free(a->exporter);
    if (a->conns)
        conns_set_listener(a->conns, NULL); /* freed by evhttp_free */
    if (a->http)
        evhttp_free(a->http); /* frees the open connections and their SSL objects */
    if (a->sigterm)
        event_free(a->sigterm);
    if (a->sigint)
        event_free(a->sigint);
    if (a->drain_timer)
        event_free(a->drain_timer);
    if (a->drain_tick)
        event_free(a->drain_tick);
    if (a->sighup)
        event_free(a->sighup);
    log_batch_end();
    if (a->log_flush)
        event_free(a->log_flush);
    if (a->base)
        event_base_free(a->base);
    /* After the base: freeing it finalizes the last connections, which
     * unregister from conns. */
    conns_free(a->conns);
    pii_free(a->pii);
    OPENSSL_cleanse(&a->ack_key, sizeof a->ack_key);
    county_text_free(a->ctext, a->cfg ? a->cfg->ncounties : 0);
    metrics_free(a->metrics);
    router_free(a->router);
    tls_ctx_free(a->tls_server);
    tls_ctx_free(a->tls_client);
    config_free(a->cfg);
    reload_gens_free(a->old_gens);
    free(a);
}
