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
 *   the subscription is dropped and made again (a stuck link heals).
 *
 * On a Redis Cluster (a target whose cluster_via is set) all of this is done
 * per master: one link (the subscribed connection and the reading one) to
 * each node the router's map names master, made when the map first names
 * it. A county is served only by its master's link: its entry remembers the
 * link it was read on, and when the map gives its slot to another master
 * the entry is dropped (cluster_on_map). A link that goes down drops only
 * its own counties. A node no longer master keeps its idle link. */
#include "gradcover/store/ccache.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/redis_url.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/cluster.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/slotmap.h"
#include "gradcover/store/store.h"

#define CHANNEL "__redis__:invalidate"

struct entry {
    bool valid;
    uint64_t gen;
    int link;             /* the link serving the county now; -1: none known */
    unsigned slot;        /* of its cnt key (cluster) */
    struct county_vals v; /* when valid: read on `link` */
};

struct sync;

struct barrier {
    uint64_t epoch;
    struct event *timer;
    struct sync *sync; /* the read it is for */
    bool fired;
    struct barrier *next;
    struct link *l;
};

/* One Redis node's pair of connections and what it knows of them. */
struct link {
    struct ccache *cc;
    int idx;        /* in cc->links */
    char host[256]; /* its address (cluster: the ownership check) */
    int port;
    char where[300];     /* " host=... port=..." in log lines (cluster only) */
    struct store *sub;   /* subscribed to CHANNEL */
    struct store *rd;    /* CLIENT TRACKING on REDIRECT <sub's id> */
    int failures;        /* attempts in a row that did not go live */
    bool awaiting_first; /* the subscription's own SUBSCRIBE is unanswered */
    bool live;           /* subscribed: invalidations are being heard */
    long long sub_id;
    uint64_t epoch;    /* moves on each time the subscription starts or ends */
    uint64_t rd_epoch; /* the epoch rd's tracking redirects into; 0: none */
    uint64_t rd_asked; /* the epoch of the CLIENT TRACKING command in flight */
    struct barrier *head, *tail;
};

/* One read's barriers, one per link it reads through (ccache_barrier), and
 * on a cluster each link's ownership check. */
struct sync {
    void (*cb)(void *arg, const bool *passed);
    void *arg;
    int pending;   /* barriers not answered yet */
    bool *passed;  /* per link: its barrier passed; in this allocation */
    bool *checked; /* per link: its check passed (cluster); the same */
};

struct ccache {
    struct event_base *base;
    const struct config *cfg;
    int timeout_ms;
    struct cluster *cluster; /* NULL: one Redis, link 0 */
    bool closing;
    bool disabled;       /* Redis refused it (ACL): off until restart */
    struct link **links; /* nlinks slots; cluster: by the router's node index */
    int nlinks;
    int period;      /* of every valid entry */
    struct entry *e; /* per configured county */
    unsigned long long hits, misses, invalidations;
};

static void drop_entry(struct entry *e)
{
    e->valid = false;
    e->gen++;
}

/* Drops what link l (or every link: NULL) kept. */
static void drop_link(struct ccache *cc, const struct link *l)
{
    for (size_t i = 0; i < cc->cfg->ncounties; i++)
        if (!l || cc->e[i].link == l->idx)
            drop_entry(&cc->e[i]);
}

static void barrier_free(struct barrier *b)
{
    event_free(b->timer);
    free(b);
}

/* Barrier b of its read is over: passed or not. The read's callback runs
 * once all of its barriers are. */
static void sync_settle(struct sync *s, bool cluster, int nlinks)
{
    if (--s->pending > 0)
        return;
    for (int l = 0; cluster && l < nlinks; l++)
        s->passed[l] = s->passed[l] && s->checked[l];
    s->cb(s->arg, s->passed);
    free(s);
}

static void barrier_settle(struct barrier *b, bool ok)
{
    b->fired = true;
    b->sync->passed[b->l->idx] = ok;
    sync_settle(b->sync, b->l->cc->cluster != NULL, b->l->cc->nlinks);
}

/* Fails and frees every waiting barrier of l: their answers will never come. */
static void fail_barriers(struct link *l)
{
    struct barrier *b = l->head;
    l->head = l->tail = NULL;
    while (b) {
        struct barrier *next = b->next;
        if (!b->fired)
            barrier_settle(b, false);
        barrier_free(b);
        b = next;
    }
}

/* Three attempts in a row refused or broken before going live: Redis will not
 * have it (most likely the ACL). Off until restart, said once; the reads go
 * to Redis in full as before. The connections stay open, idle. */
#define ATTEMPTS_MAX 3

static bool attempt_failed(struct link *l)
{
    struct ccache *cc = l->cc;
    if (++l->failures < ATTEMPTS_MAX)
        return false;
    if (!cc->disabled)
        log_error("event=counter_cache_disabled%s hint=\"the Redis user needs +client|id "
                  "+client|tracking +subscribe &__redis__:invalidate (deploy/redis-users.acl), "
                  "or set counter_cache to false\"",
                  l->where);
    cc->disabled = true;
    return true;
}

/* The subscription ended (link lost or dropped): nothing heard from now on.
 * refused: Redis refused the SUBSCRIBE (hiredis closes the link on it). */
static void sub_down(struct link *l, bool refused)
{
    if (l->awaiting_first && refused)
        attempt_failed(l);
    bool was = l->live || l->awaiting_first;
    l->live = false;
    l->awaiting_first = false;
    l->epoch++;
    drop_link(l->cc, l);
    if (was)
        log_info("event=counter_cache_off%s", l->where);
    fail_barriers(l);
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
    /* Whichever link told: a county's key changes only on its master, and
     * dropping more than needed is never wrong. */
    drop_entry(&cc->e[i]);
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
    struct link *l = arg;
    if (l->cc->closing)
        return;
    if (st == STORE_OK && l->live && l->rd_asked == l->epoch) {
        l->rd_epoch = l->epoch;
        l->failures = 0;
        return;
    }
    /* Refused by the ACL: try again with a new subscription, a few times.
     * Refused otherwise (Redis loading, ...) or unanswered in time: a new rd
     * asks again once it is ready (a late OK is not trusted), as after a lost
     * connection, however often. The subscription it named just went (OK
     * too late) or rd's link broke: the new one asks again by itself. */
    if (refused_by_acl(l->rd, st)) {
        if (!attempt_failed(l))
            store_drop(l->sub, "tracking_failed");
    } else if (st == STORE_TIMEOUT || st == STORE_FAILED || st == STORE_REFUSED) {
        store_drop(l->rd, "tracking_failed");
    }
}

/* Points rd's tracking at the live subscription (commands after this one on
 * rd are tracked into it; earlier answers carry an older epoch). */
static void track_into_live(struct link *l)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", l->sub_id);
    const char *argv[5] = {"CLIENT", "TRACKING", "on", "REDIRECT", id};
    size_t lens[5] = {6, 8, 2, 8, strlen(id)};
    l->rd_asked = l->epoch;
    if (store_command(l->rd, 5, argv, lens, on_tracking, l) < 0)
        store_drop(l->rd, "tracking_failed");
}

/* rd (re)connected. Redis forgot what the old connection read (no more
 * invalidations for it) and tracks nothing for the new one yet: what is kept
 * goes, and the new connection is pointed at the subscription. */
static void on_rd_ready(void *arg)
{
    struct link *l = arg;
    l->epoch++;
    drop_link(l->cc, l);
    l->rd_epoch = 0;
    if (!l->cc->disabled && l->live)
        track_into_live(l);
}

static void on_subscribed(struct link *l)
{
    if (l->awaiting_first) {
        l->awaiting_first = false;
        l->live = true;
        l->epoch++;
        drop_link(l->cc, l);
        log_info("event=counter_cache_on client_id=%lld%s", l->sub_id, l->where);
        /* rd tracked into an older subscription (or none): track into this
         * one (a connection still in its handshake does it once ready). */
        if (store_ready(l->rd))
            track_into_live(l);
        return;
    }
    struct barrier *b = l->head;
    if (!b)
        return;
    l->head = b->next;
    if (!l->head)
        l->tail = NULL;
    if (!b->fired)
        barrier_settle(b, b->epoch == l->epoch && l->live);
    barrier_free(b);
}

/* Every reply of the subscribed connection: confirmations, invalidations, and
 * NULL once when hiredis frees the context (link lost or dropped). */
static void on_sub(redisAsyncContext *ac, void *replyp, void *privdata)
{
    struct link *l = privdata;
    struct ccache *cc = l->cc;
    redisReply *r = replyp;
    if (cc->closing)
        return;
    if (!r) {
        sub_down(l, ac && ac->errstr && strstr(ac->errstr, "NOPERM") != NULL);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "subscribe") == 0) {
        on_subscribed(l);
        return;
    }
    if (strcmp(kind, "message") != 0)
        return;
    redisReply *keys = r->element[2];
    if (keys->type == REDIS_REPLY_NIL) { /* FLUSHDB / FLUSHALL: everything of this node */
        drop_link(cc, cc->cluster ? l : NULL);
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
    struct link *l = arg;
    struct ccache *cc = l->cc;
    redisAsyncContext *ac = store_context(l->sub);
    if (cc->closing || st != STORE_OK || !json_is_integer(res) || !ac) {
        /* Refused by the ACL counts towards giving up; anything else
         * (slow, refused otherwise) only retries; gone is retried anyway. */
        if (!cc->closing && st != STORE_DOWN && !(refused_by_acl(l->sub, st) && attempt_failed(l)))
            store_drop(l->sub, "client_id_failed");
        return;
    }
    l->sub_id = (long long)json_integer_value(res);
    if (redisAsyncCommand(ac, on_sub, l, "SUBSCRIBE %s", CHANNEL) != REDIS_OK) {
        store_drop(l->sub, "subscribe_failed");
        return;
    }
    l->awaiting_first = true;
}

/* The subscribed connection is (again) up: learn its id, then subscribe. */
static void on_sub_ready(void *arg)
{
    struct link *l = arg;
    if (l->cc->disabled)
        return;
    const char *argv[2] = {"CLIENT", "ID"};
    size_t lens[2] = {6, 2};
    if (store_command(l->sub, 2, argv, lens, on_client_id, l) < 0)
        store_drop(l->sub, "client_id_failed");
}

static void link_free(struct link *l)
{
    if (!l)
        return;
    fail_barriers(l);
    store_free(l->sub);
    store_free(l->rd);
    free(l);
}

/* A link (both connections, coming up in the background) to target, in
 * cc->links[idx]; -1 when out of memory. */
static int link_new(struct ccache *cc, int idx, const struct redis_target *target)
{
    struct link *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->cc = cc;
    l->idx = idx;
    l->epoch = 1;
    snprintf(l->host, sizeof l->host, "%s", target->host);
    l->port = target->port;
    if (cc->cluster)
        snprintf(l->where, sizeof l->where, " host=%s port=%d", target->host, target->port);
    l->rd = store_new_plain(cc->base, target, cc->timeout_ms);
    l->sub = store_new_plain(cc->base, target, cc->timeout_ms);
    if (!l->rd || !l->sub) {
        link_free(l);
        return -1;
    }
    store_on_ready(l->sub, on_sub_ready, l);
    store_on_ready(l->rd, on_rd_ready, l);
    cc->links[idx] = l; /* ours; freed by ccache_free */
    return 0;
}

/* Each county's link from the router's map: a county whose master changed
 * loses its entry (its new master never told this process of the writes it
 * took), and a master the map names for the first time gets its link. */
static void on_map(void *arg)
{
    struct ccache *cc = arg;
    for (size_t i = 0; i < cc->cfg->ncounties; i++) {
        char key[KEY_MAX];
        key_county_counters(key, sizeof key, cc->cfg->counties[i].code);
        unsigned slot = slotmap_keyslot(key, strlen(key));
        int n = cluster_master_of_slot(cc->cluster, slot);
        if (n >= cc->nlinks)
            n = -1;
        if (n >= 0 && !cc->links[n]) {
            struct redis_target t;
            if (cluster_node_target(cc->cluster, n, &t) < 0 || link_new(cc, n, &t) < 0)
                n = -1; /* read from Redis until a later map */
        }
        if (n != cc->e[i].link) {
            drop_entry(&cc->e[i]);
            cc->e[i].link = n;
        }
        cc->e[i].slot = slot;
    }
}

/* Every county's link, once the counties are known (new, reconfigured). */
static void assign_links(struct ccache *cc)
{
    if (cc->cluster) {
        on_map(cc);
        return;
    }
    for (size_t i = 0; i < cc->cfg->ncounties; i++)
        cc->e[i].link = 0;
}

struct ccache *ccache_new(struct event_base *base, const struct redis_target *target,
                          int timeout_ms, const struct config *cfg)
{
    struct ccache *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    cc->base = base;
    cc->cfg = cfg;
    cc->timeout_ms = timeout_ms;
    cc->cluster = target->cluster_via;
    cc->nlinks = cc->cluster ? cluster_nodes_max() : 1;
    cc->links = calloc((size_t)cc->nlinks, sizeof *cc->links);
    cc->e = calloc(cfg->ncounties ? cfg->ncounties : 1, sizeof *cc->e);
    if (!cc->links || !cc->e || (!cc->cluster && link_new(cc, 0, target) < 0)) {
        ccache_free(cc);
        return NULL;
    }
    for (size_t i = 0; i < cfg->ncounties; i++)
        cc->e[i].link = -1;
    assign_links(cc);
    if (cc->cluster)
        cluster_on_map(cc->cluster, on_map, cc);
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
        for (size_t i = old; i < n; i++)
            e[i].link = -1;
        cc->e = e;
    }
    cc->cfg = cfg;
    assign_links(cc);
    return 0;
}

void ccache_free(struct ccache *cc)
{
    if (!cc)
        return;
    if (cc->cluster)
        cluster_on_map(cc->cluster, NULL, NULL);
    /* Fails every waiting barrier first (their reads go to the main
     * store), then closes. */
    for (int i = 0; cc->links && i < cc->nlinks; i++)
        if (cc->links[i])
            fail_barriers(cc->links[i]);
    cc->closing = true;
    for (int i = 0; cc->links && i < cc->nlinks; i++)
        link_free(cc->links[i]);
    free(cc->links);
    free(cc->e);
    free(cc);
}

int ccache_nlinks(const struct ccache *cc)
{
    return cc ? cc->nlinks : 0;
}

int ccache_link_of(const struct ccache *cc, size_t i)
{
    return cc && i < cc->cfg->ncounties ? cc->e[i].link : -1;
}

bool ccache_usable(const struct ccache *cc, int link)
{
    const struct link *l = cc && link >= 0 && link < cc->nlinks ? cc->links[link] : NULL;
    return l && !cc->closing && !cc->disabled && l->live && l->rd_epoch == l->epoch &&
           store_ready(l->rd);
}

bool ccache_ready(const struct ccache *cc)
{
    if (!cc || cc->closing || cc->disabled)
        return false;
    if (!cc->cluster)
        return ccache_usable(cc, 0);
    /* Every master serving a county (and at least one). */
    bool any = false;
    for (size_t i = 0; i < cc->cfg->ncounties; i++) {
        if (!ccache_usable(cc, cc->e[i].link))
            return false;
        any = true;
    }
    return any;
}

static void on_barrier_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct barrier *b = arg;
    struct link *l = b->l;
    if (b->fired)
        return;
    log_warn("event=counter_cache_barrier_timeout%s", l->where);
    barrier_settle(b, false);
    /* A subscription that does not answer cannot be trusted: make a new one
     * (this fails and frees every waiting barrier, b included). */
    store_drop(l->sub, "barrier_timeout");
}

/* A barrier of read s on link l; -1 when it could not be sent. */
static int barrier_send(struct link *l, struct sync *s, int timeout_ms)
{
    redisAsyncContext *ac = store_context(l->sub);
    struct barrier *b = ac ? calloc(1, sizeof *b) : NULL;
    if (!b)
        return -1;
    b->l = l;
    b->sync = s;
    b->epoch = l->epoch;
    b->timer = evtimer_new(l->cc->base, on_barrier_timeout, b);
    if (!b->timer || redisAsyncCommand(ac, on_sub, l, "SUBSCRIBE %s", CHANNEL) != REDIS_OK) {
        if (b->timer)
            event_free(b->timer);
        free(b);
        return -1;
    }
    if (l->tail)
        l->tail->next = b;
    else
        l->head = b;
    l->tail = b;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(b->timer, &tv);
    return 0;
}

/* ---- the ownership check (cluster) ----
 * The router's map may be late: a slot can leave a master before this
 * process hears of it (the map is asked for every 5 s, or after a MOVED),
 * and that master then sends no invalidation for writes its former slot
 * takes elsewhere (none at all when the county's key did not exist there).
 * So each read asks each link's node, on the reading connection and in the
 * same round trip as the barrier, for its own view of the slots
 * (CLUSTER SLOTS): a node knows at once when a slot leaves it (SETSLOT
 * NODE, a failover that demoted it). A county whose slot it no longer
 * serves loses its entry; the read then meets MOVED on the link and reads
 * everything from the router, which learns the new map. */

struct check {
    struct sync *sync;
    struct link *l;
};

static void on_check(enum store_status st, json_t *res, void *arg)
{
    struct check *k = arg;
    struct link *l = k->l;
    struct ccache *cc = l->cc;
    char err[128] = "";
    struct slotmap *m =
        !cc->closing && st == STORE_OK ? slotmap_from_slots(res, l->host, err, sizeof err) : NULL;
    for (size_t i = 0; m && i < cc->cfg->ncounties; i++) {
        if (cc->e[i].link != l->idx || !cc->e[i].valid)
            continue;
        int o = slotmap_owner(m, cc->e[i].slot);
        const struct slotmap_node *n = o >= 0 ? slotmap_node(m, o) : NULL;
        if (!n || n->port != l->port || strcmp(n->host, l->host) != 0) {
            log_debug("event=counter_cache_slot_left county=%s slot=%u%s",
                      cc->cfg->counties[i].code, cc->e[i].slot, l->where);
            drop_entry(&cc->e[i]);
        }
    }
    k->sync->checked[l->idx] = m != NULL;
    slotmap_free(m);
    sync_settle(k->sync, true, cc->nlinks);
    free(k);
}

/* The check of read s on link l; -1 when it could not be sent. */
static int check_send(struct link *l, struct sync *s, int timeout_ms)
{
    struct check *k = malloc(sizeof *k);
    if (!k)
        return -1;
    *k = (struct check){s, l};
    const char *argv[2] = {"CLUSTER", "SLOTS"};
    size_t lens[2] = {7, 5};
    if (store_command_within(l->rd, timeout_ms, 2, argv, lens, on_check, k) < 0) {
        free(k);
        return -1;
    }
    return 0; /* k is on_check's to free */
}

int ccache_barrier(struct ccache *cc, const size_t *idx, size_t n, int timeout_ms,
                   void (*cb)(void *arg, const bool *passed), void *arg)
{
    if (!cc || cc->closing || cc->disabled || timeout_ms <= 0)
        return -1;
    struct sync *s = calloc(1, sizeof *s + 2 * (size_t)cc->nlinks * sizeof(bool));
    if (!s)
        return -1;
    s->passed = (bool *)(void *)(s + 1);
    s->checked = s->passed + cc->nlinks;
    s->cb = cb;
    s->arg = arg;
    /* Which links: passed[] first marks those to ask (and is false again
     * for each until it answers). One barrier per link however many of its
     * counties are read. */
    for (size_t k = 0; k < n; k++) {
        int l = ccache_link_of(cc, idx[k]);
        if (l >= 0 && ccache_usable(cc, l))
            s->passed[l] = true;
    }
    /* Held while sending (no barrier answers before the loop runs again,
     * but the count must not be 0 between two sends). */
    s->pending = 1;
    int sent = 0;
    for (int l = 0; l < cc->nlinks; l++) {
        if (!s->passed[l])
            continue;
        s->passed[l] = false;
        if (barrier_send(cc->links[l], s, timeout_ms) < 0)
            continue; /* not this link: its counties are read from Redis */
        s->pending++;
        sent++;
        /* Its check (cluster): a check not sent fails the link for this
         * read, its barrier still pending. */
        if (cc->cluster && check_send(cc->links[l], s, timeout_ms) == 0)
            s->pending++;
    }
    s->pending--;
    if (sent == 0) {
        free(s);
        return -1;
    }
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

struct store *ccache_store(struct ccache *cc, int link)
{
    return ccache_usable(cc, link) ? cc->links[link]->rd : NULL;
}

struct ccache_ticket ccache_ticket(const struct ccache *cc, size_t i)
{
    int link = cc->e[i].link;
    const struct link *l = link >= 0 ? cc->links[link] : NULL;
    return (struct ccache_ticket){link, l ? l->epoch : 0, cc->e[i].gen};
}

void ccache_put(struct ccache *cc, size_t i, int period, struct ccache_ticket t,
                const struct county_vals *v)
{
    if (!ccache_usable(cc, t.link) || t.link != cc->e[i].link ||
        t.epoch != cc->links[t.link]->epoch || t.gen != cc->e[i].gen)
        return;
    if (cc->period != period) {
        /* The first read, or a new year: what was kept is another period's.
         * Keep nothing from this read (its tickets are now stale). */
        drop_link(cc, NULL);
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
    fprintf(f, "gradcover_county_cache_ready %d\n", ccache_ready(cc) ? 1 : 0);
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
