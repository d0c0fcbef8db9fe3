/* The Redis Cluster router (see cluster.h). Each node is a struct store of
 * its own (store.c: reconnect with backoff, deadlines, scripts loaded at
 * connect, error answers classified); this file only chooses the node:
 * the slot map comes from CLUSTER SLOTS asked of any connected node, again
 * after a MOVED, while a master is unreachable, and every few seconds.
 * Ownership: a command's copy (struct cop) belongs to the router from
 * cluster_*_within until its callback has run; node stores live until
 * cluster_free (a node that stops being a master keeps its idle store). */
#include "gradcover/store/cluster.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/store/slotmap.h"

/* The map is asked for again this often while it is complete and every
 * master answers: a failover the router has not seen (no command went to
 * the failed master) shows within this. */
#define REFRESH_EVERY_MS 5000
/* ... and this often while a slot has no master or a master's store is not
 * ready (a failover under way: the cluster promotes a replica within its
 * cluster-node-timeout plus ~1 s). */
#define REFRESH_FAST_MS 250
/* A script answered ASK (its slot is being migrated) is sent again to the
 * slot's master after 5 ms doubling to 100 ms, until a MOVED says the
 * migration is over: a county's slot (~10^4 keys) moves in well under a
 * second with redis-cli --cluster reshard's batches. */
#define ASK_WAIT_MIN_MS 5
#define ASK_WAIT_MAX_MS 100
/* ASK followed at most this often for one command (a plain command meets
 * one ASK per migration; more means the slot moves again). */
#define ASK_FOLLOW_MAX 3
/* The probe (cluster_set_probe) as often as store.c's (PROBE_EVERY_MS). */
#define PROBE_EVERY_MS 1000

/* The probe prefixes tried for a master: "gc:{@p<n>}" for n below this.
 * 2^20 names cover every one of the 16384 slots: the last slot is first
 * reached at n = 141,153 (measured; coupon collector: ~16384 * ln 16384). */
#define PROBE_NAMES 1048576u

struct cnode {
    struct cluster *c;
    char host[256];
    int port;
    struct store *s;
    char probe_key[24]; /* its own probe's prefix while a master, "" none */
};

struct cop {
    struct cluster *c;
    struct cop *next; /* in c->waiting */
    bool waiting;     /* parked in c->waiting: for the map or its node, or ... */
    bool later;       /* ... for the end of a wait (ASK to a script, TRYAGAIN) */
    store_cb cb;
    void *arg;
    const char *name; /* the script, or NULL for a plain command */
    int nkeys;
    int argc;
    const char **argv; /* the copies, in this allocation */
    size_t *lens;
    unsigned slot;
    int64_t deadline_ms; /* monotonic */
    int moved;           /* MOVED retries used (one allowed) */
    int asks;            /* ASKs followed */
    int node;            /* a node chosen by a redirection, or -1: the map's */
    bool asking;         /* send ASKING first */
    int wait_ms;         /* the next wait after an ASK to a script, TRYAGAIN */
    struct event *timer; /* the deadline while waiting; the end of a wait */
};

struct cluster {
    struct event_base *base;
    struct redis_target target; /* credentials and seeds */
    int timeout_ms;
    bool closing;
    struct cnode *nodes[SLOTMAP_NODES_MAX + REDIS_CLUSTER_SEEDS_MAX];
    int nnodes;
    int16_t owner[SLOTMAP_SLOTS]; /* index into nodes, or -1 */
    bool have_map;
    int masters;
    unsigned unowned;
    bool refreshing; /* a CLUSTER SLOTS is out */
    int ask_next;    /* the node asked next for the map (round robin) */
    struct event *refresh_timer;
    struct cop *waiting; /* commands parked (cop.waiting), each with its timer */
    struct cluster_stats st;
    bool was_ready; /* cluster_ready() when last looked at (note_ready) */
    void (*ready_cb)(void *arg), *ready_arg;
    void (*writable_cb)(void *arg), *writable_arg;
    int wait_replicas, wait_ms; /* cluster_set_wait_replicas */
    bool was_writable;          /* cluster_writes() OK when last looked at */
    /* ---- the probe (cluster_set_probe) ---- */
    char *probe_name, *probe_key, *probe_args;
    store_cb probe_cb;
    void *probe_arg;
    bool probe_ok; /* answered OK since the cluster last became ready */
    bool probe_inflight;
    struct event *probe_timer;
    /* ---- each master's own probe (set_master_probes) ---- */
    uint32_t *probe_n;                   /* per slot: the smallest n whose gc:{@p<n>} is in it */
    bool map_refused;                    /* the last CLUSTER SLOTS named nodes by host name */
    bool adding_seeds;                   /* cluster_new: node_at takes names (resolved by app.c) */
    void (*map_cb)(void *arg), *map_arg; /* cluster_on_map */
};

static void cop_send(struct cop *o);
static void refresh(struct cluster *c, const char *why);
static void note_ready(struct cluster *c);
static void note_writable(struct cluster *c);
static void map_changed(struct cluster *c);

/* The node at host:port, created (and connecting) when new; -1 when full
 * or out of memory. */
static int node_at(struct cluster *c, const char *host, int port);

static void cop_free(struct cop *o)
{
    if (o->timer)
        event_free(o->timer);
    free(o);
}

static void cop_answer(struct cop *o, enum store_status st, json_t *result)
{
    o->cb(st, result, o->arg);
    cop_free(o);
}

static void unwait(struct cop *o)
{
    if (!o->waiting)
        return;
    for (struct cop **p = &o->c->waiting; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            break;
        }
    o->waiting = o->later = false;
    o->next = NULL;
}

static void park(struct cop *o, bool later, int ms)
{
    o->waiting = true;
    o->later = later;
    o->next = o->c->waiting;
    o->c->waiting = o;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(o->timer, &tv);
}

static void on_cop_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cop *o = arg;
    bool later = o->later;
    unwait(o);
    if (later)
        cop_send(o); /* the end of a wait after ASK or TRYAGAIN */
    else
        cop_answer(o, STORE_TIMEOUT, NULL); /* the map or the node never came */
}

static int remaining_ms(const struct cop *o)
{
    int64_t left = o->deadline_ms - clock_mono_ms();
    return left > 0 ? (int)left : 0;
}

/* Parks o until the map or its node is there (resume_waiting), within its
 * deadline. */
static void cop_wait(struct cop *o)
{
    park(o, false, remaining_ms(o));
}

/* Sends o again after o->wait_ms (doubling up to ASK_WAIT_MAX_MS), or
 * answers STORE_TIMEOUT when that passes its deadline. */
static void cop_later(struct cop *o)
{
    int ms = o->wait_ms;
    if (ms >= remaining_ms(o)) {
        cop_answer(o, STORE_TIMEOUT, NULL);
        return;
    }
    o->wait_ms = ms * 2 > ASK_WAIT_MAX_MS ? ASK_WAIT_MAX_MS : ms * 2;
    park(o, true, ms);
}

/* Sends again every command parked for the map or its node (not those
 * waiting out an ASK or a TRYAGAIN: their timers send them). */
static void resume_waiting(struct cluster *c)
{
    struct cop *list = NULL;
    for (struct cop **p = &c->waiting; *p;) {
        struct cop *o = *p;
        if (o->later) {
            p = &o->next;
            continue;
        }
        *p = o->next;
        o->next = list;
        list = o;
    }
    while (list) {
        struct cop *o = list;
        list = o->next;
        o->next = NULL;
        o->waiting = false;
        evtimer_del(o->timer);
        cop_send(o);
    }
}

static void on_asking(enum store_status st, json_t *result, void *arg)
{
    (void)st;
    (void)result;
    (void)arg; /* the command behind it says how it went */
}

static void on_cop_reply(enum store_status st, json_t *result, void *arg)
{
    struct cop *o = arg;
    struct cluster *c = o->c;
    const char *err = st == STORE_FAILED ? json_string_value(result) : NULL;
    struct slotmap_redirect rd;
    if (c->closing || !err) {
        if (st == STORE_DOWN && !c->closing)
            refresh(c, "node_down"); /* a failover? the write may or may not have happened */
        cop_answer(o, st, result);
        return;
    }
    if (slotmap_redirect_parse(err, &rd)) {
        const char *host = rd.host[0] ? rd.host : "127.0.0.1";
        int to = node_at(c, host, rd.port);
        if (!rd.ask) {
            c->st.moved++;
            /* The slot moved for good: send there now, and ask for the
             * whole map (others moved with it, as a resharding does). */
            if (to >= 0) {
                c->owner[rd.slot] = (int16_t)to;
                map_changed(c);
            }
            refresh(c, "moved");
            if (o->moved++ > 0 || to < 0) {
                cop_answer(o, STORE_DOWN, NULL); /* moving again: a client retries */
                return;
            }
            o->node = -1;
            o->asking = false;
            cop_send(o);
            return;
        }
        c->st.ask++;
        if (o->name) {
            /* A script touches keys it does not declare: run with ASKING on
             * the importing node it would read keys not moved yet as
             * missing (and create them, which then stops the migration);
             * on the migrating one it fails half-way once a key has left.
             * It waits until the slot has moved (MOVED), or the deadline. */
            c->st.ask_waited++;
            o->node = -1;
            cop_later(o);
            return;
        }
        if (to < 0 || o->asks++ >= ASK_FOLLOW_MAX) {
            cop_answer(o, STORE_DOWN, NULL);
            return;
        }
        c->st.ask_followed++;
        o->node = to;
        o->asking = true;
        cop_send(o);
        return;
    }
    if (strncmp(err, "TRYAGAIN", 8) == 0) {
        c->st.tryagain++;
        o->node = -1;
        o->asking = false;
        cop_later(o);
        return;
    }
    if (strncmp(err, "CLUSTERDOWN", 11) == 0) {
        refresh(c, "clusterdown");
        cop_answer(o, STORE_DOWN, NULL);
        return;
    }
    cop_answer(o, st, result);
}

static void cop_send(struct cop *o)
{
    struct cluster *c = o->c;
    if (c->closing) {
        cop_answer(o, STORE_DOWN, NULL);
        return;
    }
    int ms = remaining_ms(o);
    if (ms <= 0) {
        cop_answer(o, STORE_TIMEOUT, NULL);
        return;
    }
    int n = o->node >= 0 ? o->node : c->owner[o->slot];
    struct store *s = n >= 0 ? c->nodes[n]->s : NULL;
    if (!s || !store_ready(s)) {
        if (n < 0)
            refresh(c, "no_owner");
        cop_wait(o);
        return;
    }
    if (o->asking) {
        /* One pipelined write: ASKING, then the command (the connection
         * answers in order; ASKING's flag lasts one command). */
        const char *a[1] = {"ASKING"};
        size_t al[1] = {6};
        if (store_command_within(s, ms, 1, a, al, on_asking, NULL) < 0) {
            cop_wait(o);
            return;
        }
    }
    int rc = o->name ? store_script_within(s, ms, o->name, o->nkeys, o->argc, o->argv, o->lens,
                                           on_cop_reply, o)
                     : store_command_within(s, ms, o->argc, o->argv, o->lens, on_cop_reply, o);
    if (rc < 0) {
        /* An ASKING queued without its command would let the next command
         * on this connection, another caller's, run as if asked: drop it. */
        if (o->asking)
            store_drop(s, "asking_unpaired");
        cop_wait(o); /* the node's link just broke: its ready callback resumes us */
    }
}

/* A copy of the command (one allocation: the struct, the pointers, the
 * lengths and the bytes); NULL on allocation failure. */
static struct cop *cop_new(struct cluster *c, int timeout_ms, const char *name, int nkeys, int argc,
                           const char **argv, const size_t *lens, store_cb cb, void *arg)
{
    size_t bytes = 0;
    for (int i = 0; i < argc; i++)
        bytes += lens[i] + 1;
    size_t namelen = name ? strlen(name) + 1 : 0;
    size_t head = sizeof(struct cop) + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    char *mem = calloc(1, head + bytes + namelen);
    if (!mem)
        return NULL;
    struct cop *o = (struct cop *)(void *)mem;
    o->argv = (const char **)(void *)(mem + sizeof *o);
    o->lens = (size_t *)(void *)(mem + sizeof *o + (size_t)argc * sizeof(char *));
    char *p = mem + head;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], lens[i]);
        p[lens[i]] = '\0';
        o->argv[i] = p;
        o->lens[i] = lens[i];
        p += lens[i] + 1;
    }
    if (name) {
        memcpy(p, name, namelen);
        o->name = p;
    }
    o->timer = evtimer_new(c->base, on_cop_timer, o);
    if (!o->timer) {
        free(mem);
        return NULL;
    }
    o->c = c;
    o->cb = cb;
    o->arg = arg;
    o->nkeys = nkeys;
    o->argc = argc;
    o->deadline_ms = clock_mono_ms() + timeout_ms;
    o->node = -1;
    o->wait_ms = ASK_WAIT_MIN_MS;
    return o;
}

int cluster_script_within(struct cluster *c, int timeout_ms, const char *name, int nkeys, int argc,
                          const char **argv, const size_t *lens, store_cb cb, void *arg)
{
    if (timeout_ms <= 0 || nkeys < 1 || argc < nkeys)
        return -1;
    struct cop *o = cop_new(c, timeout_ms, name, nkeys, argc, argv, lens, cb, arg);
    if (!o)
        return -1;
    o->slot = slotmap_keyslot(argv[0], lens[0]);
    cop_send(o);
    return 0;
}

/* ---- XREADGROUP / XREAD over streams of many slots ----
 * A cluster refuses a command whose keys span slots (CROSSSLOT), even on one
 * node: notify.c reads every county's outbox in one XREADGROUP. Such a
 * command is split into one per slot (the options, that slot's streams and
 * their ids), each routed as any command, and the answers merged: the
 * stream arrays concatenated, nil when none had entries. */

struct split {
    store_cb cb;
    void *arg;
    size_t pending; /* parts not answered (+1 while sending) */
    enum store_status st;
    json_t *merged; /* the streams with entries, in the answers' order */
    json_t *err;    /* the first failed part's answer (an error's text) */
};

static void split_settle(struct split *sp)
{
    if (--sp->pending > 0)
        return;
    /* A part that failed fails the whole, but the streams the other parts
     * read are handed on with the failure: XREADGROUP moved their entries
     * to the reader's pending list, and a reader that dropped them would
     * wait for them until it reads its pending entries again. */
    json_t *result = json_array_size(sp->merged) ? sp->merged : sp->st != STORE_OK ? sp->err : NULL;
    json_t *nil = result ? NULL : json_null();
    sp->cb(sp->st, result ? result : nil, sp->arg);
    json_decref(nil);
    json_decref(sp->merged);
    json_decref(sp->err);
    free(sp);
}

static void on_split_part(enum store_status st, json_t *result, void *arg)
{
    struct split *sp = arg;
    if (st != STORE_OK && sp->st == STORE_OK) {
        sp->st = st;
        sp->err = json_incref(result);
    } else if (st == STORE_OK && json_is_array(result) && sp->merged) {
        if (json_array_extend(sp->merged, result) < 0 && sp->st == STORE_OK)
            sp->st = STORE_FAILED;
    }
    split_settle(sp);
}

struct keyslot {
    unsigned slot;
    int i; /* the key's index among the streams */
};

static int by_slot(const void *a, const void *b)
{
    const struct keyslot *x = a, *y = b;
    return x->slot != y->slot ? (x->slot < y->slot ? -1 : 1) : x->i - y->i;
}

/* Index of STREAMS in an XREAD/XREADGROUP, or -1 (another command, or no
 * STREAMS followed by pairs). */
static int streams_at(int argc, const char **argv, const size_t *lens)
{
    if (!((lens[0] == 10 && strncasecmp(argv[0], "XREADGROUP", 10) == 0) ||
          (lens[0] == 5 && strncasecmp(argv[0], "XREAD", 5) == 0)))
        return -1;
    for (int i = 1; i < argc; i++)
        if (lens[i] == 7 && strncasecmp(argv[i], "STREAMS", 7) == 0)
            return (argc - i - 1) >= 2 && (argc - i - 1) % 2 == 0 ? i : -1;
    return -1;
}

/* Whether the streams after STREAMS (at si) span more than one slot. */
static bool streams_span_slots(int si, int argc, const char **argv, const size_t *lens)
{
    int n = (argc - si - 1) / 2;
    unsigned first = slotmap_keyslot(argv[si + 1], lens[si + 1]);
    for (int k = 1; k < n; k++)
        if (slotmap_keyslot(argv[si + 1 + k], lens[si + 1 + k]) != first)
            return true;
    return false;
}

static int split_streams(struct cluster *c, int timeout_ms, int si, int argc, const char **argv,
                         const size_t *lens, store_cb cb, void *arg)
{
    int n = (argc - si - 1) / 2;
    struct keyslot *ks = malloc((size_t)n * sizeof *ks);
    const char **sub = malloc((size_t)argc * sizeof *sub);
    size_t *sublens = malloc((size_t)argc * sizeof *sublens);
    struct split *sp = calloc(1, sizeof *sp);
    json_t *merged = json_array();
    if (!ks || !sub || !sublens || !sp || !merged) {
        free(ks);
        free(sub);
        free(sublens);
        free(sp);
        json_decref(merged);
        return -1;
    }
    for (int k = 0; k < n; k++)
        ks[k] = (struct keyslot){slotmap_keyslot(argv[si + 1 + k], lens[si + 1 + k]), k};
    qsort(ks, (size_t)n, sizeof *ks, by_slot);
    sp->cb = cb;
    sp->arg = arg;
    sp->merged = merged; /* ours; freed in split_settle */
    sp->pending = 1;     /* held while sending: a part may answer at once */
    for (int i = 0; i <= si; i++) {
        sub[i] = argv[i];
        sublens[i] = lens[i];
    }
    for (int a = 0; a < n;) {
        int b = a;
        while (b < n && ks[b].slot == ks[a].slot)
            b++;
        int m = b - a, subc = si + 1 + 2 * m;
        for (int k = 0; k < m; k++) {
            int key = si + 1 + ks[a + k].i;
            sub[si + 1 + k] = argv[key];
            sublens[si + 1 + k] = lens[key];
            sub[si + 1 + m + k] = argv[key + n];
            sublens[si + 1 + m + k] = lens[key + n];
        }
        struct cop *o = cop_new(c, timeout_ms, NULL, 0, subc, sub, sublens, on_split_part, sp);
        if (!o) {
            if (sp->st == STORE_OK)
                sp->st = STORE_FAILED;
        } else {
            o->slot = ks[a].slot;
            sp->pending++;
            cop_send(o);
        }
        a = b;
    }
    free(ks);
    free(sub);
    free(sublens);
    split_settle(sp);
    return 0;
}

int cluster_command_within(struct cluster *c, int timeout_ms, int argc, const char **argv,
                           const size_t *lens, store_cb cb, void *arg)
{
    if (timeout_ms <= 0 || argc < 1)
        return -1;
    if (argc == 1) {
        /* No key (PING, the liveness check of /readyz): the master of the
         * global prefix's slot answers. */
        struct cop *o = cop_new(c, timeout_ms, NULL, 0, argc, argv, lens, cb, arg);
        if (!o)
            return -1;
        o->slot = slotmap_keyslot("gc:{@}", 6);
        cop_send(o);
        return 0;
    }
    /* The key is argv[1] but for XREAD/XREADGROUP (after STREAMS). Others
     * with the key elsewhere (XGROUP, XINFO, OBJECT, MEMORY USAGE) are not
     * sent by gradcover through the store; they would need the same. */
    int si = streams_at(argc, argv, lens);
    if (si > 0 && streams_span_slots(si, argc, argv, lens))
        return split_streams(c, timeout_ms, si, argc, argv, lens, cb, arg);
    int key = si > 0 ? si + 1 : 1;
    struct cop *o = cop_new(c, timeout_ms, NULL, 0, argc, argv, lens, cb, arg);
    if (!o)
        return -1;
    o->slot = slotmap_keyslot(argv[key], lens[key]);
    cop_send(o);
    return 0;
}

/* ---- nodes and the map ---- */

static void on_node_ready(void *arg)
{
    struct cnode *n = arg;
    if (!n->c->have_map)
        refresh(n->c, "node_ready");
    resume_waiting(n->c);
    note_ready(n->c);
}

/* A master accepts writes again (its own probe answered after a refusal,
 * or it connected): the façade's writable callback runs when the global
 * part is writable, so that what the app re-makes in Redis then (the
 * outbox groups) is made on this master too. */
static void on_node_writable(void *arg)
{
    struct cnode *n = arg;
    struct cluster *c = n->c;
    bool was = c->was_writable;
    note_writable(c);
    if (was && c->was_writable && c->writable_cb)
        c->writable_cb(c->writable_arg);
}

/* An IPv4 or IPv6 address, not a name: hiredis would resolve a name with
 * a blocking getaddrinfo at each connect, on the loop. */
static bool host_is_address(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int node_at(struct cluster *c, const char *host, int port)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i]->port == port && strcmp(c->nodes[i]->host, host) == 0)
            return i;
    if (c->nnodes == (int)(sizeof c->nodes / sizeof c->nodes[0]) ||
        strlen(host) >= sizeof c->nodes[0]->host)
        return -1;
    /* Seeds were resolved before the loop (app.c); a node the cluster names
     * (its map, a MOVED or ASK) by host name is refused, not resolved here. */
    if (!c->adding_seeds && !host_is_address(host)) {
        log_error("event=cluster_node_refused host=%s port=%d hint=\"the cluster names nodes by "
                  "host name (cluster-preferred-endpoint-type hostname): set it to ip\"",
                  host, port);
        return -1;
    }
    struct cnode *n = calloc(1, sizeof *n);
    if (!n)
        return -1;
    n->c = c;
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    struct redis_target t = c->target;
    t.cluster = false;
    t.nseeds = 0;
    t.db = 0;
    snprintf(t.host, sizeof t.host, "%s", host);
    t.port = port;
    t.cluster_via = NULL;
    n->s = store_new(c->base, &t, c->timeout_ms);
    if (!n->s) {
        free(n);
        return -1;
    }
    store_set_wait_replicas(n->s, c->wait_replicas, c->wait_ms);
    store_on_writable(n->s, on_node_writable, n);
    store_on_ready(n->s, on_node_ready, n);
    log_info("event=cluster_node_added host=%s port=%d", host, port);
    c->nodes[c->nnodes] = n;
    return c->nnodes++;
}

static void schedule_refresh(struct cluster *c)
{
    bool fast = !c->have_map || c->unowned > 0;
    for (int s = 0; !fast && s < SLOTMAP_SLOTS; s++)
        fast = c->owner[s] >= 0 && !store_ready(c->nodes[c->owner[s]]->s);
    int ms = fast ? REFRESH_FAST_MS : REFRESH_EVERY_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->refresh_timer, &tv);
}

/* Gives each master's store its own probe (probe.lua) on the first
 * gc:{@p<n>} whose slot that master serves, after each map: store.c clears
 * a master's refusal (OOM, READONLY, MISCONF) only when its own probe
 * answers. A key that did not change is left alone (setting it again makes
 * the master unchecked until the probe answers). */
static void set_master_probes(struct cluster *c)
{
    uint32_t best[sizeof c->nodes / sizeof c->nodes[0]];
    for (int i = 0; i < c->nnodes; i++)
        best[i] = UINT32_MAX;
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++) {
        int n = c->owner[s];
        if (n >= 0 && c->probe_n[s] < best[n])
            best[n] = c->probe_n[s];
    }
    for (int i = 0; i < c->nnodes; i++) {
        struct cnode *n = c->nodes[i];
        char key[sizeof n->probe_key];
        if (best[i] == UINT32_MAX)
            continue; /* serves no slot (now): its last probe key stays */
        snprintf(key, sizeof key, "gc:{@p%u}", (unsigned)best[i]);
        if (strcmp(key, n->probe_key) == 0)
            continue;
        if (store_set_probe(n->s, "probe", key, "{}", NULL, NULL) < 0) {
            log_error("event=cluster_probe_not_set host=%s port=%d err=\"out of memory\"", n->host,
                      n->port);
            continue;
        }
        snprintf(n->probe_key, sizeof n->probe_key, "%s", key);
        log_debug("event=cluster_probe host=%s port=%d key=%s", n->host, n->port, key);
    }
}

/* A CLUSTER SLOTS answer from node `asked` (arg: the node). */
static void on_slots(enum store_status st, json_t *result, void *arg)
{
    struct cnode *asked = arg;
    struct cluster *c = asked->c;
    c->refreshing = false;
    if (c->closing)
        return;
    char err[128] = "";
    struct slotmap *m =
        st == STORE_OK ? slotmap_from_slots(result, asked->host, err, sizeof err) : NULL;
    if (!m) {
        c->st.refresh_fails++;
        log_warn("event=cluster_map_failed host=%s port=%d err=\"%s\"", asked->host, asked->port,
                 err[0] ? err : "no answer");
        schedule_refresh(c);
        return;
    }
    for (int i = 0; i < slotmap_nnodes(m); i++) {
        const struct slotmap_node *n = slotmap_node(m, i);
        if (!n->master || host_is_address(n->host))
            continue;
        /* cluster-preferred-endpoint-type hostname: connecting by name
         * would block the loop in getaddrinfo. Not ready until fixed. */
        c->st.refresh_fails++;
        if (!c->map_refused)
            log_error("event=cluster_map_refused host=%s port=%d named=%s hint=\"CLUSTER SLOTS "
                      "names nodes by host name (cluster-preferred-endpoint-type hostname); "
                      "gradcoverd connects by address only: set it to ip\"",
                      asked->host, asked->port, n->host);
        c->map_refused = true;
        c->have_map = false;
        slotmap_free(m);
        schedule_refresh(c);
        note_ready(c);
        return;
    }
    if (c->map_refused)
        log_info("event=cluster_map_accepted host=%s port=%d", asked->host, asked->port);
    c->map_refused = false;
    int idx[SLOTMAP_NODES_MAX];
    for (int i = 0; i < slotmap_nnodes(m); i++) {
        const struct slotmap_node *n = slotmap_node(m, i);
        /* Masters get a connection now; replicas only when one is promoted. */
        idx[i] = n->master ? node_at(c, n->host, n->port) : -1;
    }
    int masters_before = c->masters;
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++) {
        int o = slotmap_owner(m, s);
        c->owner[s] = (int16_t)(o >= 0 ? idx[o] : -1);
    }
    c->masters = slotmap_nmasters(m);
    c->unowned = slotmap_unowned(m);
    if (!c->have_map || masters_before != c->masters)
        log_info("event=cluster_map masters=%d unowned_slots=%u", c->masters, c->unowned);
    c->have_map = true;
    c->st.refreshes++;
    slotmap_free(m);
    set_master_probes(c);
    map_changed(c);
    schedule_refresh(c);
    resume_waiting(c);
    note_ready(c);
}

/* Asks one connected node for the map, unless a question is out already. */
static void refresh(struct cluster *c, const char *why)
{
    if (c->refreshing || c->closing)
        return;
    for (int k = 0; k < c->nnodes; k++) {
        struct cnode *n = c->nodes[(c->ask_next + k) % c->nnodes];
        if (!store_ready(n->s))
            continue;
        c->ask_next = (c->ask_next + k + 1) % c->nnodes;
        const char *argv[2] = {"CLUSTER", "SLOTS"};
        size_t lens[2] = {7, 5};
        if (store_command(n->s, 2, argv, lens, on_slots, n) == 0) {
            c->refreshing = true;
            log_debug("event=cluster_map_asked host=%s port=%d why=%s", n->host, n->port, why);
            return;
        }
    }
    /* Nobody connected yet: a node's ready callback asks again. */
    schedule_refresh(c);
}

static void on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    refresh(arg, "timer");
}

struct cluster *cluster_new(struct event_base *base, const struct redis_target *t, int timeout_ms)
{
    struct cluster *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->target = *t;
    c->timeout_ms = timeout_ms;
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++)
        c->owner[s] = -1;
    c->refresh_timer = evtimer_new(base, on_refresh_timer, c);
    c->probe_n = malloc(SLOTMAP_SLOTS * sizeof *c->probe_n); /* ours; freed by cluster_free */
    if (!c->refresh_timer || !c->probe_n) {
        cluster_free(c);
        return NULL;
    }
    /* Each slot's first probe name (141,154 CRC16s, once). */
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++)
        c->probe_n[s] = UINT32_MAX;
    unsigned left = SLOTMAP_SLOTS;
    for (uint32_t n = 0; left > 0 && n < PROBE_NAMES; n++) {
        char key[24];
        int len = snprintf(key, sizeof key, "gc:{@p%u}", (unsigned)n);
        unsigned slot = slotmap_keyslot(key, (size_t)len);
        if (c->probe_n[slot] == UINT32_MAX) {
            c->probe_n[slot] = n;
            left--;
        }
    }
    c->adding_seeds = true;
    for (int i = 0; i < t->nseeds; i++)
        if (node_at(c, t->seeds[i].host, t->seeds[i].port) < 0) {
            cluster_free(c);
            return NULL;
        }
    c->adding_seeds = false;
    return c;
}

void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    c->closing = true;
    /* Commands in flight are answered STORE_DOWN by their node's store_free
     * (on_cop_reply sees closing); parked ones here. */
    while (c->waiting) {
        struct cop *o = c->waiting;
        evtimer_del(o->timer);
        unwait(o);
        cop_answer(o, STORE_DOWN, NULL);
    }
    for (int i = 0; i < c->nnodes; i++) {
        store_free(c->nodes[i]->s);
        free(c->nodes[i]);
    }
    if (c->refresh_timer)
        event_free(c->refresh_timer);
    if (c->probe_timer)
        event_free(c->probe_timer);
    free(c->probe_name);
    free(c->probe_key);
    free(c->probe_args);
    free(c->probe_n);
    free(c);
}

/* The slot of gc:{@}: tokens, graduate ids and national-ID look-ups. */
static unsigned global_slot(void)
{
    return slotmap_keyslot("gc:{@}", 6);
}

bool cluster_ready(const struct cluster *c)
{
    if (!c->have_map)
        return false;
    int n = c->owner[global_slot()];
    return n >= 0 && store_ready(c->nodes[n]->s);
}

const char *cluster_down_reason(const struct cluster *c)
{
    if (cluster_ready(c))
        return NULL;
    if (c->map_refused)
        return "Redis Cluster: CLUSTER SLOTS names nodes by host name "
               "(cluster-preferred-endpoint-type hostname); gradcoverd connects by address only: "
               "set it to ip";
    if (!c->have_map)
        return "Redis Cluster: no slot map yet (no seed answered CLUSTER SLOTS)";
    if (c->owner[global_slot()] < 0)
        return "Redis Cluster: no master serves the slot of gc:{@} (tokens, graduate ids)";
    return "Redis Cluster: the master of gc:{@}'s slot (tokens, graduate ids) is not connected "
           "or its scripts not loaded yet";
}

void cluster_health(const struct cluster *c, struct cluster_health *out)
{
    *out = (struct cluster_health){.masters = c->masters};
    if (!c->have_map) {
        out->slots_unowned = out->slots_unavailable = SLOTMAP_SLOTS;
        return;
    }
    enum { UNSEEN, UP, AWAY } seen[sizeof c->nodes / sizeof c->nodes[0]] = {UNSEEN};
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++) {
        int n = c->owner[s];
        if (n < 0) {
            out->slots_unowned++;
            out->slots_unavailable++;
            continue;
        }
        if (seen[n] == UNSEEN) {
            seen[n] = store_writes(c->nodes[n]->s) == STORE_WRITES_OK ? UP : AWAY;
            if (seen[n] == UP)
                out->masters_writable++;
        }
        if (seen[n] == AWAY)
            out->slots_unavailable++;
    }
}

/* gradcover_redis_cluster_master_writable{master="host:port"} for each
 * master of the map. */
static void render_masters(const struct cluster *c, FILE *out)
{
    bool seen[sizeof c->nodes / sizeof c->nodes[0]] = {false};
    for (unsigned s = 0; c->have_map && s < SLOTMAP_SLOTS; s++) {
        int n = c->owner[s];
        if (n < 0 || seen[n])
            continue;
        seen[n] = true;
        const struct cnode *node = c->nodes[n];
        fprintf(out, "gradcover_redis_cluster_master_writable{master=\"%s:%d\"} %d\n", node->host,
                node->port, store_writes(node->s) == STORE_WRITES_OK ? 1 : 0);
    }
}

void cluster_stats(const struct cluster *c, struct cluster_stats *out)
{
    *out = c->st;
    out->masters = c->masters;
    out->unowned = c->unowned;
}

struct store *cluster_store_for(struct cluster *c, const char *key, size_t len)
{
    int n = c->owner[slotmap_keyslot(key, len)];
    return n >= 0 && store_ready(c->nodes[n]->s) ? c->nodes[n]->s : NULL;
}

/* ---- rounds ---- */

struct rcmd {
    int argc;
    const char **argv; /* copies, in the same allocation as this struct */
    size_t *lens;
    unsigned slot;
};

struct cluster_round;

/* One master's share of a round: its store round and the round indexes of
 * its commands. */
struct rpart {
    struct cluster_round *cr;
    int node;
    size_t n, cap;
    size_t *idx;
};

/* A command of a round sent on its own (after a redirection in its node's
 * round, or while its master was not connected). */
struct rsingle {
    struct cluster_round *cr;
    size_t i;
};

struct cluster_round {
    struct cluster *c;
    store_row_fn row;
    store_done_fn done;
    void *arg;
    int64_t deadline_ms;
    struct rcmd **cmds;
    size_t n, cap;
    struct rpart *parts;
    int nparts;
    size_t pending; /* node rounds and singles not answered yet (+1 while starting) */
    enum store_status st;
};

struct cluster_round *cluster_round_new(struct cluster *c, int timeout_ms, store_row_fn row,
                                        store_done_fn done, void *arg)
{
    if (timeout_ms <= 0)
        return NULL;
    struct cluster_round *cr = calloc(1, sizeof *cr);
    if (!cr)
        return NULL;
    cr->c = c;
    cr->row = row;
    cr->done = done;
    cr->arg = arg;
    cr->deadline_ms = clock_mono_ms() + timeout_ms;
    cr->st = STORE_OK;
    return cr;
}

void cluster_round_add(struct cluster_round *cr, int argc, const char **argv, const size_t *lens)
{
    if (argc < 2) {
        cr->st = STORE_FAILED;
        return;
    }
    if (cr->n == cr->cap) {
        size_t cap = cr->cap ? cr->cap * 2 : 64;
        struct rcmd **cmds = realloc(cr->cmds, cap * sizeof *cmds);
        if (!cmds) {
            cr->st = STORE_FAILED;
            return;
        }
        cr->cmds = cmds;
        cr->cap = cap;
    }
    size_t bytes = 0;
    for (int i = 0; i < argc; i++)
        bytes += lens[i] + 1;
    size_t head = sizeof(struct rcmd) + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    char *mem = malloc(head + bytes);
    if (!mem) {
        cr->st = STORE_FAILED;
        return;
    }
    struct rcmd *k = (struct rcmd *)(void *)mem;
    k->argc = argc;
    k->argv = (const char **)(void *)(mem + sizeof *k);
    k->lens = (size_t *)(void *)(mem + sizeof *k + (size_t)argc * sizeof(char *));
    char *p = mem + head;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], lens[i]);
        p[lens[i]] = '\0';
        k->argv[i] = p;
        k->lens[i] = lens[i];
        p += lens[i] + 1;
    }
    k->slot = slotmap_keyslot(argv[1], lens[1]);
    cr->cmds[cr->n++] = k; /* ours now; freed with the round */
}

static void round_free(struct cluster_round *cr)
{
    for (size_t i = 0; i < cr->n; i++)
        free(cr->cmds[i]);
    free(cr->cmds);
    for (int p = 0; p < cr->nparts; p++)
        free(cr->parts[p].idx);
    free(cr->parts);
    free(cr);
}

static void round_note(struct cluster_round *cr, enum store_status st)
{
    if (st != STORE_OK && cr->st == STORE_OK)
        cr->st = st;
}

static void round_settle_one(struct cluster_round *cr)
{
    if (--cr->pending > 0)
        return;
    cr->done(cr->arg, cr->st);
    round_free(cr);
}

/* A single's answer as a row: an array's elements, or the answer alone. */
static void on_single_answer(enum store_status st, json_t *result, void *arg)
{
    struct rsingle *one = arg;
    struct cluster_round *cr = one->cr;
    round_note(cr, st);
    if (st == STORE_OK && cr->st == STORE_OK) {
        struct store_str el[32];
        char num[32][24];
        size_t n = json_is_array(result) ? json_array_size(result) : 1;
        if (n > 32)
            n = 32;
        for (size_t k = 0; k < n; k++) {
            const json_t *e = json_is_array(result) ? json_array_get(result, k) : result;
            el[k].s = NULL;
            el[k].len = 0;
            if (json_is_string(e)) {
                el[k].s = json_string_value(e);
                el[k].len = json_string_length(e);
            } else if (json_is_integer(e)) {
                el[k].len = (size_t)snprintf(num[k], sizeof num[k], "%lld",
                                             (long long)json_integer_value(e));
                el[k].s = num[k];
            }
        }
        cr->row(cr->arg, one->i, n, el);
    }
    free(one);
    round_settle_one(cr);
}

static void send_single(struct cluster_round *cr, size_t i)
{
    int64_t left = cr->deadline_ms - clock_mono_ms();
    struct rsingle *one = malloc(sizeof *one);
    struct rcmd *k = cr->cmds[i];
    if (one)
        *one = (struct rsingle){.cr = cr, .i = i};
    if (!one || left <= 0 ||
        cluster_command_within(cr->c, (int)left, k->argc, k->argv, k->lens, on_single_answer, one) <
            0) {
        free(one);
        round_note(cr, left <= 0 ? STORE_TIMEOUT : STORE_FAILED);
        return;
    }
    cr->c->st.round_singles++;
    cr->pending++;
}

static void on_part_row(void *arg, size_t i, size_t n, const struct store_str *elems)
{
    struct rpart *part = arg;
    part->cr->row(part->cr->arg, part->idx[i], n, elems);
}

static void on_part_done(void *arg, enum store_status st)
{
    struct rpart *part = arg;
    struct cluster_round *cr = part->cr;
    if (st == STORE_FAILED && !cr->c->closing) {
        /* A redirection (or another error answer) in this master's share:
         * each command again on its own, redirections followed. */
        for (size_t k = 0; k < part->n; k++)
            send_single(cr, part->idx[k]);
    } else {
        round_note(cr, st);
    }
    round_settle_one(cr);
}

void cluster_round_start(struct cluster_round *cr)
{
    struct cluster *c = cr->c;
    cr->pending = 1; /* held while starting: parts may answer at once */
    int part_of[sizeof c->nodes / sizeof c->nodes[0]];
    for (int i = 0; i < c->nnodes; i++)
        part_of[i] = -1;
    cr->parts = calloc((size_t)(c->nnodes ? c->nnodes : 1), sizeof *cr->parts);
    if (!cr->parts)
        round_note(cr, STORE_FAILED);
    for (size_t i = 0; cr->parts && cr->st == STORE_OK && i < cr->n; i++) {
        int node = c->owner[cr->cmds[i]->slot];
        if (node < 0 || !store_ready(c->nodes[node]->s)) {
            send_single(cr, i); /* waits for the map or its master */
            continue;
        }
        if (part_of[node] < 0) {
            part_of[node] = cr->nparts;
            cr->parts[cr->nparts++] = (struct rpart){.cr = cr, .node = node};
        }
        struct rpart *part = &cr->parts[part_of[node]];
        if (part->n == part->cap) {
            size_t cap = part->cap ? part->cap * 2 : 32;
            size_t *idx = realloc(part->idx, cap * sizeof *idx);
            if (!idx) {
                round_note(cr, STORE_FAILED);
                break;
            }
            part->idx = idx;
            part->cap = cap;
        }
        part->idx[part->n++] = i;
    }
    int64_t left = cr->deadline_ms - clock_mono_ms();
    for (int p = 0; p < cr->nparts && cr->st == STORE_OK; p++) {
        struct rpart *part = &cr->parts[p];
        struct store_round *rd = left > 0 ? store_round_new(c->nodes[part->node]->s, (int)left,
                                                            on_part_row, on_part_done, part)
                                          : NULL;
        if (!rd) {
            /* Its master just went: one by one, waiting for it. */
            for (size_t k = 0; k < part->n; k++)
                send_single(cr, part->idx[k]);
            continue;
        }
        for (size_t k = 0; k < part->n; k++) {
            const struct rcmd *cmd = cr->cmds[part->idx[k]];
            store_round_add(rd, cmd->argc, cmd->argv, cmd->lens);
        }
        c->st.node_rounds++;
        cr->pending++;
        store_round_start(rd);
    }
    round_settle_one(cr);
}

/* ---- the façade's hooks ---- */

/* Runs the ready and writable callbacks when the cluster has just become
 * ready (the map complete, every master's store ready). A master lost is
 * seen at the next map or node event. */
static void note_ready(struct cluster *c)
{
    bool now = cluster_ready(c);
    if (now != c->was_ready) {
        c->was_ready = now;
        c->probe_ok = false; /* checked again on the cluster as it is now */
        if (now && c->ready_cb)
            c->ready_cb(c->ready_arg);
        if (now && c->probe_timer)
            event_active(c->probe_timer, EV_TIMEOUT, 0);
    }
    note_writable(c);
}

/* Runs the writable callback when cluster_writes() has just become OK. */
static void note_writable(struct cluster *c)
{
    bool now = cluster_writes(c) == STORE_WRITES_OK;
    if (now == c->was_writable)
        return;
    c->was_writable = now;
    if (now && c->writable_cb)
        c->writable_cb(c->writable_arg);
}

static void on_probe(enum store_status st, json_t *result, void *arg)
{
    struct cluster *c = arg;
    c->probe_inflight = false;
    if (c->closing || st != STORE_OK)
        return;
    if (c->probe_cb)
        c->probe_cb(st, result, c->probe_arg);
    if (!c->probe_ok && c->was_ready) {
        c->probe_ok = true;
        note_writable(c);
    }
}

static void on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cluster *c = arg;
    if (c->closing)
        return;
    if (!c->probe_inflight && cluster_ready(c)) {
        const char *argv[2] = {c->probe_key, c->probe_args};
        size_t lens[2] = {strlen(c->probe_key), strlen(c->probe_args)};
        c->probe_inflight = cluster_script_within(c, c->timeout_ms, c->probe_name, 1, 2, argv, lens,
                                                  on_probe, c) == 0;
    }
    struct timeval tv = {PROBE_EVERY_MS / 1000, (PROBE_EVERY_MS % 1000) * 1000};
    evtimer_add(c->probe_timer, &tv);
}

int cluster_set_probe(struct cluster *c, const char *name, const char *key, const char *args,
                      store_cb cb, void *arg)
{
    char *n = strdup(name), *k = strdup(key), *a = strdup(args);
    struct event *t = c->probe_timer ? c->probe_timer : evtimer_new(c->base, on_probe_timer, c);
    if (!n || !k || !a || !t) {
        free(n);
        free(k);
        free(a);
        if (t && t != c->probe_timer)
            event_free(t);
        return -1;
    }
    free(c->probe_name);
    free(c->probe_key);
    free(c->probe_args);
    c->probe_name = n; /* ours now; freed by cluster_free */
    c->probe_key = k;
    c->probe_args = a;
    c->probe_cb = cb;
    c->probe_arg = arg;
    c->probe_timer = t;
    c->probe_ok = false;
    note_writable(c); /* not writable until it has answered */
    event_active(t, EV_TIMEOUT, 0);
    return 0;
}

/* Writes to `slot`: its master's store, once the app's probe answered. */
static enum store_writes slot_writes(const struct cluster *c, unsigned slot)
{
    if (!c->have_map)
        return STORE_WRITES_DOWN;
    int n = c->owner[slot];
    if (n < 0 || !store_ready(c->nodes[n]->s))
        return STORE_WRITES_DOWN;
    if (c->probe_timer && !c->probe_ok)
        return c->was_ready ? STORE_WRITES_UNCHECKED : STORE_WRITES_DOWN;
    return store_writes(c->nodes[n]->s);
}

enum store_writes cluster_writes(const struct cluster *c)
{
    return slot_writes(c, global_slot());
}

enum store_writes cluster_writes_for(const struct cluster *c, const char *key, size_t len)
{
    return slot_writes(c, slotmap_keyslot(key, len));
}

void cluster_on_ready(struct cluster *c, void (*cb)(void *arg), void *arg)
{
    c->ready_cb = cb;
    c->ready_arg = arg;
}

void cluster_on_writable(struct cluster *c, void (*cb)(void *arg), void *arg)
{
    c->writable_cb = cb;
    c->writable_arg = arg;
}

void cluster_set_wait_replicas(struct cluster *c, int replicas, int wait_ms)
{
    c->wait_replicas = replicas;
    c->wait_ms = wait_ms;
    for (int i = 0; i < c->nnodes; i++)
        store_set_wait_replicas(c->nodes[i]->s, replicas, wait_ms);
}

void cluster_render_metrics(const struct cluster *c, FILE *out)
{
    const struct cluster_stats *st = &c->st;
    metrics_family(out, "gradcover_redis_cluster_redirects_total", "counter",
                   "Redis Cluster redirections met, by how they were handled: moved (map "
                   "refreshed, retried once), ask_followed (ASKING), ask_waited (a script "
                   "waiting for its slot's migration to end), tryagain.");
    static const char *const kinds[] = {"moved", "ask_followed", "ask_waited", "tryagain"};
    const uint64_t counts[] = {st->moved, st->ask_followed, st->ask_waited, st->tryagain};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        fprintf(out, "gradcover_redis_cluster_redirects_total{kind=\"%s\"} %llu\n", kinds[k],
                (unsigned long long)counts[k]);
    metrics_family(out, "gradcover_redis_cluster_masters", "gauge",
                   "Masters in the Redis Cluster slot map.");
    fprintf(out, "gradcover_redis_cluster_masters %d\n", c->masters);
    metrics_family(out, "gradcover_redis_cluster_slots_unowned", "gauge",
                   "Slots the map names no master for (all 16384 before the first map).");
    fprintf(out, "gradcover_redis_cluster_slots_unowned %u\n",
            c->have_map ? c->unowned : SLOTMAP_SLOTS);
    struct cluster_health h;
    cluster_health(c, &h);
    metrics_family(out, "gradcover_redis_cluster_masters_writable", "gauge",
                   "Masters in the slot map that accept writes now (connected, scripts loaded, "
                   "their own probe answered, no OOM, READONLY or MISCONF refusal since).");
    fprintf(out, "gradcover_redis_cluster_masters_writable %d\n", h.masters_writable);
    metrics_family(out, "gradcover_redis_cluster_slots_unavailable", "gauge",
                   "Slots whose counties' writes answer 503 now: no master in the map, or their "
                   "master not connected or refusing writes.");
    fprintf(out, "gradcover_redis_cluster_slots_unavailable %u\n", h.slots_unavailable);
    metrics_family(out, "gradcover_redis_cluster_master_writable", "gauge",
                   "Each master of the slot map: 1 while it accepts writes.");
    render_masters(c, out);
    metrics_family(out, "gradcover_redis_cluster_map_refreshes_total", "counter",
                   "CLUSTER SLOTS questions, by result.");
    fprintf(out, "gradcover_redis_cluster_map_refreshes_total{result=\"ok\"} %llu\n",
            (unsigned long long)st->refreshes);
    fprintf(out, "gradcover_redis_cluster_map_refreshes_total{result=\"failed\"} %llu\n",
            (unsigned long long)st->refresh_fails);
}

/* ---- for the counter cache (ccache.c) ---- */

static void map_changed(struct cluster *c)
{
    if (c->map_cb && !c->closing)
        c->map_cb(c->map_arg);
}

void cluster_on_map(struct cluster *c, void (*cb)(void *arg), void *arg)
{
    c->map_cb = cb;
    c->map_arg = arg;
}

int cluster_nodes_max(void)
{
    return (int)(sizeof((struct cluster *)0)->nodes / sizeof((struct cluster *)0)->nodes[0]);
}

int cluster_master_of_slot(const struct cluster *c, unsigned slot)
{
    return slot < SLOTMAP_SLOTS ? c->owner[slot] : -1;
}

int cluster_node_target(const struct cluster *c, int node, struct redis_target *out)
{
    if (node < 0 || node >= c->nnodes)
        return -1;
    /* As node_at: the URL's credentials, this node's address, db 0. */
    *out = c->target;
    out->cluster = false;
    out->nseeds = 0;
    out->db = 0;
    snprintf(out->host, sizeof out->host, "%s", c->nodes[node]->host);
    out->port = c->nodes[node]->port;
    out->cluster_via = NULL;
    return 0;
}
