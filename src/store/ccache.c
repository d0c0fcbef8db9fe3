/* Counter cache kept exact by Redis's invalidation messages (see ccache.h).
 *
 * Why a read after the barrier sees every acknowledged write: a write script
 * that changes gc:{C}:cnt makes Redis queue an invalidation message on the
 * subscribed connection while it runs that script, before its answer can
 * reach any client. A barrier is a SUBSCRIBE sent on the same connection after
 * the read request arrived, hence after that answer; Redis answers commands of
 * one connection in order, so the invalidation comes in before the barrier's
 * confirmation. (hiredis 0.14 drops PING answers in subscribed mode,
 * redis/hiredis#351; a repeated SUBSCRIBE of the same channel is answered in
 * order and reaches the channel's callback.)
 *
 * What can go wrong, and what keeps it exact:
 * - the subscribed connection drops: its invalidations are lost, so the whole
 *   cache is dropped, the epoch moves on, waiting barriers fail, and once a
 *   new subscription is up the reading connection is told to track into it
 *   (CLIENT TRACKING on REDIRECT <new id>); only answers read after that
 *   are kept;
 * - an invalidation arrives while a read of that county is in flight: the
 *   county's generation moves on and the answer is used but not kept;
 * - a barrier is not answered in time: the read goes to Redis in full, and
 *   the subscription is dropped and made again (a stuck link heals). */
#include "gradcover/store/ccache.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/store.h"

#define CHANNEL "__redis__:invalidate"

struct entry {
    bool valid;
    uint64_t gen;
    struct county_vals v;
};

struct barrier {
    uint64_t epoch;
    struct event *timer;
    void (*cb)(void *arg, bool ok);
    void *arg;
    bool fired;
    struct barrier *next;
    struct ccache *cc;
};

struct ccache {
    struct event_base *base;
    const struct config *cfg;
    struct store *sub; /* subscribed to CHANNEL */
    struct store *rd;  /* CLIENT TRACKING on REDIRECT <sub's id> */
    bool closing;
    bool disabled;       /* Redis refused it (ACL): off until restart */
    int failures;        /* attempts in a row that did not go live */
    bool awaiting_first; /* the subscription's own SUBSCRIBE is unanswered */
    bool live;           /* subscribed: invalidations are being heard */
    long long sub_id;
    uint64_t epoch;    /* moves on each time the subscription starts or ends */
    uint64_t rd_epoch; /* the epoch rd's tracking redirects into; 0: none */
    uint64_t rd_asked; /* the epoch of the CLIENT TRACKING command in flight */
    int period;        /* of every valid entry */
    struct entry *e;   /* per configured county */
    struct barrier *head, *tail;
    unsigned long long hits, misses, invalidations;
};

static void drop_all(struct ccache *cc)
{
    for (size_t i = 0; i < cc->cfg->ncounties; i++) {
        cc->e[i].valid = false;
        cc->e[i].gen++;
    }
}

static void barrier_free(struct barrier *b)
{
    event_free(b->timer);
    free(b);
}

/* Fails and frees every waiting barrier: their answers will never come. */
static void fail_barriers(struct ccache *cc)
{
    struct barrier *b = cc->head;
    cc->head = cc->tail = NULL;
    while (b) {
        struct barrier *next = b->next;
        if (!b->fired) {
            b->fired = true;
            b->cb(b->arg, false);
        }
        barrier_free(b);
        b = next;
    }
}

/* Three attempts in a row refused or broken before going live: Redis will not
 * have it (most likely the ACL). Off until restart, said once; the reads go
 * to Redis in full as before. The two connections stay open, idle. */
#define ATTEMPTS_MAX 3

static bool attempt_failed(struct ccache *cc)
{
    if (++cc->failures < ATTEMPTS_MAX)
        return false;
    if (!cc->disabled)
        log_error("event=counter_cache_disabled hint=\"the Redis user needs +client|id "
                  "+client|tracking +subscribe &__redis__:invalidate (deploy/redis-users.acl), "
                  "or set counter_cache to false\"");
    cc->disabled = true;
    return true;
}

/* The subscription ended (link lost or dropped): nothing heard from now on.
 * refused: Redis refused the SUBSCRIBE (hiredis closes the link on it). */
static void sub_down(struct ccache *cc, bool refused)
{
    if (cc->awaiting_first && refused)
        attempt_failed(cc);
    bool was = cc->live || cc->awaiting_first;
    cc->live = false;
    cc->awaiting_first = false;
    cc->epoch++;
    drop_all(cc);
    if (was)
        log_info("event=counter_cache_off");
    fail_barriers(cc);
}

static void invalidate_key(struct ccache *cc, const char *key, size_t len)
{
    /* gc:{<code>}:cnt; anything else is not ours to track. */
    static const char pre[] = "gc:{", suf[] = "}:cnt";
    size_t np = sizeof pre - 1, ns = sizeof suf - 1;
    char code[GC_COUNTY_MAX + 1];
    if (len <= np + ns || memcmp(key, pre, np) != 0 || memcmp(key + len - ns, suf, ns) != 0)
        return;
    size_t n = len - np - ns;
    if (n >= sizeof code)
        return;
    memcpy(code, key + np, n);
    code[n] = '\0';
    long i = config_county_index(cc->cfg, code);
    if (i < 0)
        return;
    cc->e[i].valid = false;
    cc->e[i].gen++;
    cc->invalidations++;
}

/* Only a refusal by the ACL counts towards giving the cache up: any other
 * (a Redis still loading its data, ...) passes as a lost connection does. */
static bool refused_by_acl(const struct store *st_of, enum store_status st)
{
    return st == STORE_FAILED && store_last_refusal(st_of) == STORE_REFUSAL_NOPERM;
}

static void on_tracking(enum store_status st, json_t *res, void *arg)
{
    (void)res;
    struct ccache *cc = arg;
    if (cc->closing)
        return;
    if (st == STORE_OK && cc->live && cc->rd_asked == cc->epoch) {
        cc->rd_epoch = cc->epoch;
        cc->failures = 0;
        return;
    }
    /* Refused by the ACL: try again with a new subscription, a few times.
     * Refused otherwise (Redis loading, ...) or unanswered in time: a new rd
     * asks again once it is ready (a late OK is not trusted), as after a lost
     * connection, however often. The subscription it named just went (OK
     * too late) or rd's link broke: the new one asks again by itself. */
    if (refused_by_acl(cc->rd, st)) {
        if (!attempt_failed(cc))
            store_drop(cc->sub, "tracking_failed");
    } else if (st == STORE_TIMEOUT || st == STORE_FAILED || st == STORE_REFUSED) {
        store_drop(cc->rd, "tracking_failed");
    }
}

/* Points rd's tracking at the live subscription (commands after this one on
 * rd are tracked into it; earlier answers carry an older epoch). */
static void track_into_live(struct ccache *cc)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", cc->sub_id);
    const char *argv[5] = {"CLIENT", "TRACKING", "on", "REDIRECT", id};
    size_t lens[5] = {6, 8, 2, 8, strlen(id)};
    cc->rd_asked = cc->epoch;
    if (store_command(cc->rd, 5, argv, lens, on_tracking, cc) < 0)
        store_drop(cc->rd, "tracking_failed");
}

/* rd (re)connected. Redis forgot what the old connection read (no more
 * invalidations for it) and tracks nothing for the new one yet: what is kept
 * goes, and the new connection is pointed at the subscription. */
static void on_rd_ready(void *arg)
{
    struct ccache *cc = arg;
    cc->epoch++;
    drop_all(cc);
    cc->rd_epoch = 0;
    if (!cc->disabled && cc->live)
        track_into_live(cc);
}

static void on_subscribed(struct ccache *cc)
{
    if (cc->awaiting_first) {
        cc->awaiting_first = false;
        cc->live = true;
        cc->epoch++;
        drop_all(cc);
        log_info("event=counter_cache_on client_id=%lld", cc->sub_id);
        /* rd tracked into an older subscription (or none): track into this
         * one (a connection still in its handshake does it once ready). */
        if (store_ready(cc->rd))
            track_into_live(cc);
        return;
    }
    struct barrier *b = cc->head;
    if (!b)
        return;
    cc->head = b->next;
    if (!cc->head)
        cc->tail = NULL;
    if (!b->fired) {
        b->fired = true;
        b->cb(b->arg, b->epoch == cc->epoch && cc->live);
    }
    barrier_free(b);
}

/* Every reply of the subscribed connection: confirmations, invalidations, and
 * NULL once when hiredis frees the context (link lost or dropped). */
static void on_sub(redisAsyncContext *ac, void *replyp, void *privdata)
{
    struct ccache *cc = privdata;
    redisReply *r = replyp;
    if (cc->closing)
        return;
    if (!r) {
        sub_down(cc, ac && ac->errstr && strstr(ac->errstr, "NOPERM") != NULL);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "subscribe") == 0) {
        on_subscribed(cc);
        return;
    }
    if (strcmp(kind, "message") != 0)
        return;
    redisReply *keys = r->element[2];
    if (keys->type == REDIS_REPLY_NIL) { /* FLUSHDB / FLUSHALL: everything */
        drop_all(cc);
        cc->invalidations++;
        return;
    }
    if (keys->type == REDIS_REPLY_STRING) {
        invalidate_key(cc, keys->str, keys->len);
        return;
    }
    for (size_t k = 0; keys->type == REDIS_REPLY_ARRAY && k < keys->elements; k++)
        if (keys->element[k]->type == REDIS_REPLY_STRING)
            invalidate_key(cc, keys->element[k]->str, keys->element[k]->len);
}

static void on_client_id(enum store_status st, json_t *res, void *arg)
{
    struct ccache *cc = arg;
    redisAsyncContext *ac = store_context(cc->sub);
    if (cc->closing || st != STORE_OK || !json_is_integer(res) || !ac) {
        /* Refused by the ACL counts towards giving up; anything else
         * (slow, refused otherwise) only retries; gone is retried anyway. */
        if (!cc->closing && st != STORE_DOWN &&
            !(refused_by_acl(cc->sub, st) && attempt_failed(cc)))
            store_drop(cc->sub, "client_id_failed");
        return;
    }
    cc->sub_id = (long long)json_integer_value(res);
    if (redisAsyncCommand(ac, on_sub, cc, "SUBSCRIBE %s", CHANNEL) != REDIS_OK) {
        store_drop(cc->sub, "subscribe_failed");
        return;
    }
    cc->awaiting_first = true;
}

/* The subscribed connection is (again) up: learn its id, then subscribe. */
static void on_sub_ready(void *arg)
{
    struct ccache *cc = arg;
    if (cc->disabled)
        return;
    const char *argv[2] = {"CLIENT", "ID"};
    size_t lens[2] = {6, 2};
    if (store_command(cc->sub, 2, argv, lens, on_client_id, cc) < 0)
        store_drop(cc->sub, "client_id_failed");
}

struct ccache *ccache_new(struct event_base *base, const struct redis_target *target,
                          int timeout_ms, const struct config *cfg)
{
    struct ccache *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    cc->base = base;
    cc->cfg = cfg;
    cc->epoch = 1;
    cc->e = calloc(cfg->ncounties ? cfg->ncounties : 1, sizeof *cc->e);
    if (!cc->e) {
        free(cc);
        return NULL;
    }
    cc->rd = store_new_plain(base, target, timeout_ms);
    cc->sub = store_new_plain(base, target, timeout_ms);
    if (!cc->rd || !cc->sub) {
        ccache_free(cc);
        return NULL;
    }
    store_on_ready(cc->sub, on_sub_ready, cc);
    store_on_ready(cc->rd, on_rd_ready, cc);
    return cc;
}

int ccache_reconfigure(struct ccache *cc, const struct config *cfg)
{
    if (!cc)
        return 0;
    size_t old = cc->cfg->ncounties ? cc->cfg->ncounties : 1;
    size_t n = cfg->ncounties ? cfg->ncounties : 1;
    if (n > old) {
        struct entry *e = realloc(cc->e, n * sizeof *e);
        if (!e)
            return -1;
        memset(e + old, 0, (n - old) * sizeof *e); /* not valid: read from Redis */
        cc->e = e;
    }
    cc->cfg = cfg;
    return 0;
}

void ccache_free(struct ccache *cc)
{
    if (!cc)
        return;
    fail_barriers(cc);
    cc->closing = true;
    store_free(cc->sub);
    store_free(cc->rd);
    free(cc->e);
    free(cc);
}

bool ccache_usable(const struct ccache *cc)
{
    return cc && !cc->closing && !cc->disabled && cc->live && cc->rd_epoch == cc->epoch &&
           store_ready(cc->rd);
}

static void on_barrier_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct barrier *b = arg;
    struct ccache *cc = b->cc;
    if (b->fired)
        return;
    b->fired = true;
    log_warn("event=counter_cache_barrier_timeout");
    b->cb(b->arg, false);
    /* A subscription that does not answer cannot be trusted: make a new one
     * (this fails and frees every waiting barrier, b included). */
    store_drop(cc->sub, "barrier_timeout");
}

int ccache_barrier(struct ccache *cc, int timeout_ms, void (*cb)(void *arg, bool ok), void *arg)
{
    redisAsyncContext *ac = ccache_usable(cc) ? store_context(cc->sub) : NULL;
    if (!ac || timeout_ms <= 0)
        return -1;
    struct barrier *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    b->cc = cc;
    b->epoch = cc->epoch;
    b->cb = cb;
    b->arg = arg;
    b->timer = evtimer_new(cc->base, on_barrier_timeout, b);
    if (!b->timer || redisAsyncCommand(ac, on_sub, cc, "SUBSCRIBE %s", CHANNEL) != REDIS_OK) {
        if (b->timer)
            event_free(b->timer);
        free(b);
        return -1;
    }
    if (cc->tail)
        cc->tail->next = b;
    else
        cc->head = b;
    cc->tail = b;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(b->timer, &tv);
    return 0;
}

bool ccache_get(struct ccache *cc, size_t i, int period, struct county_vals *v)
{
    if (cc->period != period || !cc->e[i].valid) {
        cc->misses++;
        return false;
    }
    *v = cc->e[i].v;
    cc->hits++;
    return true;
}

struct store *ccache_store(struct ccache *cc)
{
    return cc->rd;
}

struct ccache_ticket ccache_ticket(const struct ccache *cc, size_t i)
{
    return (struct ccache_ticket){cc->epoch, cc->e[i].gen};
}

void ccache_put(struct ccache *cc, size_t i, int period, struct ccache_ticket t,
                const struct county_vals *v)
{
    if (!ccache_usable(cc) || t.epoch != cc->epoch || t.gen != cc->e[i].gen)
        return;
    if (cc->period != period) {
        /* The first read, or a new year: what was kept is another period's.
         * Keep nothing from this read (its tickets are now stale). */
        drop_all(cc);
        cc->period = period;
        return;
    }
    cc->e[i].v = *v;
    cc->e[i].valid = true;
}

void ccache_render_metrics(const struct ccache *cc, FILE *f)
{
    metrics_family(f, "gradcover_county_cache_ready", "gauge",
                   "1 while county counters are read through the invalidated cache.");
    fprintf(f, "gradcover_county_cache_ready %d\n", ccache_usable(cc) ? 1 : 0);
    metrics_family(f, "gradcover_county_cache_lookups_total", "counter",
                   "County counter look-ups by coverage and /metrics, by result.");
    fprintf(f,
            "gradcover_county_cache_lookups_total{result=\"hit\"} %llu\n"
            "gradcover_county_cache_lookups_total{result=\"miss\"} %llu\n",
            cc ? cc->hits : 0, cc ? cc->misses : 0);
    metrics_family(f, "gradcover_county_cache_invalidations_total", "counter",
                   "Invalidation messages from Redis that dropped a cached county (or all).");
    fprintf(f, "gradcover_county_cache_invalidations_total %llu\n", cc ? cc->invalidations : 0);
}
