/* Redis Cluster (issue 17, SPEC §13; docs/design.md "Cluster")
 * against a real cluster: three masters and three replicas on free ports
 * (redis-server --cluster-enabled, redis-cli --cluster create
 * --cluster-replicas 1). Addressing (slotmap.c):
 * - slotmap_keyslot() agrees with CLUSTER KEYSLOT for every key shape
 *   gradcover writes (gc:{county}:..., gc:{@}:...), for 50 counties;
 * - the slot map built from CLUSTER SLOTS names the three masters and every
 *   slot; each county's key is accepted by the master the map names and
 *   refused with a MOVED elsewhere that slotmap_redirect_parse() reads as
 *   the same master and slot; the 50 counties land on all three masters;
 * - a slot being migrated answers ASK, read as such.
 * The router (cluster.c), driven on an event loop in this process:
 * - from one seed it learns the map and routes a counter command and a real
 *   script (audit) for each of 50 counties: counts exact on each master;
 * - a slot moved behind its back: MOVED, followed, counts exact;
 * - a busy county's slot migrated key by key under load (SETSLOT
 *   MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE): ASKs followed (commands)
 *   or waited out (scripts), every command acknowledged, nothing lost or
 *   doubled;
 * - a round of reads over the 50 counties: one pipelined store round per
 *   master; a master's share that meets MOVED is sent again one by one;
 * - XREADGROUP over the 50 counties' outboxes (notify.c's one read; a
 *   cluster refuses keys of several slots): split per slot, answers merged;
 * - the store façade (store.c on a target whose cluster_via is set, what
 *   gradcoverd uses): commands, scripts and rounds through the
 *   unchanged store API, writability and metrics from the router;
 * - a master killed: its replica is promoted and the router writes there;
 * - the cost of the router: script calls per second on one Redis (store.c)
 *   and on the cluster (GC_CLUSTER_BENCH_OPS; bench/cluster-router).
 * The counter cache per master (ccache.c), through two gradcoverd (one
 * caching, one writing without a cache): coverage and /metrics exact after
 * every write on each master, the cache really used; a slot migrated under
 * it (with keys, without, and with the first write through the caching
 * server itself); one master's answers held back 100 ms (a slow proxy
 * announced as its address) while the test writes to it directly; a master
 * killed and its replica promoted, the old master restarted as a replica.
 * gradcoverd per master: with a master away or refusing writes only its
 * counties' writes answer 503 (at once), /readyz says what is missing; the ACL user of
 * deploy/redis-users.acl; a map of host names refused; a seed given by name
 * resolved at start. Through gradcoverd's HTTP API under a keyed contact
 * load: a slot migrated and a master killed (every county exact after the
 * retries), alerts on each master notified once, and a notification
 * delivered while another master is away.
 * The gradcover tool manages tokens on the cluster (the master of gc:{@}).
 * And gradcoverd takes a redis-cluster:// URL in its file (--check-config: 0).
 * docs/cluster.md lists every case in order. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <event2/event.h>

#include "gradcover/store/cluster.h"
#include "gradcover/store/slotmap.h"
#include "harness.h"
#include "proxy.h"

#define NMASTERS 3
#define NNODES 6 /* a replica per master */
#define NCOUNTIES 50
/* Cluster bus timeouts on loopback: a node is failed after 2 s without an
 * answer (the default 15 s would only slow the later failover test). */
#define NODE_TIMEOUT_MS "2000"

static struct h_redis_proc *node[NNODES];
static char counties[NCOUNTIES][8];

static redisContext *connect_node(int i)
{
    redisContext *c = redisConnect("127.0.0.1", node[i]->port);
    ck_assert_msg(c && !c->err, "node %d: no connection", i);
    return c;
}

/* Node i says cluster_state:ok. */
static bool cluster_ok(int i)
{
    redisContext *c = connect_node(i);
    redisReply *r = redisCommand(c, "CLUSTER INFO");
    bool ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok");
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

static struct slotmap *map_from(int i);

/* Every node in node i's CLUSTER SLOTS (replicas show once attached). */
static bool map_complete(int i)
{
    struct slotmap *m = map_from(i);
    bool ok = slotmap_nnodes(m) == NNODES && slotmap_unowned(m) == 0;
    slotmap_free(m);
    return ok;
}

/* A free port whose cluster bus port (port + 10000) is free too. */
static int free_cluster_port(void)
{
    for (int tries = 0; tries < 100; tries++) {
        int port = h_free_port();
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)(port + 10000)),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = port + 10000 <= 65535 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return port;
    }
    ck_abort_msg("no free port pair for a cluster node");
    return 0;
}

/* Node i on port, as start_cluster makes it (fresh: a new data directory;
 * else the node's own, nodes.conf included: it rejoins as what the cluster
 * made it). Its log: <work>/cluster<i>.log, appended to. */
static void spawn_node(int i, int port, bool fresh)
{
    char name[24], log[600];
    snprintf(name, sizeof name, "cluster%d", i);
    snprintf(log, sizeof log, "%s/%s.log", h_work_dir(), name);
    const char *const extra[] = {"--cluster-enabled",
                                 "yes",
                                 "--cluster-config-file",
                                 "nodes.conf",
                                 "--cluster-node-timeout",
                                 NODE_TIMEOUT_MS,
                                 "--appendfsync",
                                 "everysec",
                                 "--logfile",
                                 log,
                                 NULL};
    node[i] = h_redis_spawn_args(name, port, fresh, extra);
}

/* Every node says cluster_state:ok and names all six nodes and every slot. */
static void wait_cluster_whole(int timeout_ms)
{
    long long until = h_now_ms() + h_ms(timeout_ms);
    for (int k = 0; k < NNODES; k++)
        while (!cluster_ok(k) || !map_complete(k)) {
            ck_assert_msg(h_now_ms() < until, "node %d: the cluster is not whole", k);
            h_sleep_ms(100);
        }
}

/* A node a case killed, back on its port: it rejoins (as a replica of its
 * successor if one was promoted) and the cluster is whole again. */
static void restart_node(int i, int port)
{
    spawn_node(i, port, false);
    wait_cluster_whole(30000);
}

static void start_cluster(void)
{
    char cmd[1024];
    int n = snprintf(cmd, sizeof cmd, "redis-cli --cluster create");
    for (int i = 0; i < NNODES; i++) {
        spawn_node(i, free_cluster_port(), true);
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " 127.0.0.1:%d", node[i]->port);
    }
    snprintf(cmd + n, sizeof cmd - (size_t)n,
             " --cluster-replicas 1 --cluster-yes > '%s/cluster-create.log' 2>&1", h_work_dir());
    ck_assert_msg(system(cmd) == 0, "redis-cli --cluster create failed: %s/cluster-create.log",
                  h_work_dir());
    wait_cluster_whole(20000);
}

static void stop_cluster(void)
{
    for (int i = 0; i < NNODES; i++)
        if (node[i]) {
            h_redis_stop(node[i], true);
            free(node[i]);
            node[i] = NULL;
        }
}

/* A redisReply as store.c maps it (strings, integers, nil, arrays). */
static json_t *to_json(const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return json_stringn(r->str, r->len);
    case REDIS_REPLY_INTEGER:
        return json_integer(r->integer);
    case REDIS_REPLY_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; i < r->elements; i++)
            json_array_append_new(a, to_json(r->element[i]));
        return a;
    }
    default:
        return json_null();
    }
}

static struct slotmap *map_from(int i)
{
    redisContext *c = connect_node(i);
    redisReply *r = redisCommand(c, "CLUSTER SLOTS");
    ck_assert(r && r->type == REDIS_REPLY_ARRAY);
    json_t *v = to_json(r);
    freeReplyObject(r);
    redisFree(c);
    char err[128] = "";
    struct slotmap *m = slotmap_from_slots(v, "127.0.0.1", err, sizeof err);
    json_decref(v);
    ck_assert_msg(m != NULL, "CLUSTER SLOTS: %s", err);
    return m;
}

/* Codes of the shape of real county codes: Shangluo's, then made-up ones. */
static void make_counties(void)
{
    for (int i = 0; i < NCOUNTIES; i++)
        snprintf(counties[i], sizeof counties[i], "%d", 611002 + 17 * i);
}

START_TEST(test_keyslot_agrees_with_redis)
{
    redisContext *c = connect_node(0);
    for (int i = 0; i < NCOUNTIES; i++) {
        char keys[4][96];
        snprintf(keys[0], sizeof keys[0], "gc:{%s}", counties[i]);
        snprintf(keys[1], sizeof keys[1], "gc:{%s}:cnt", counties[i]);
        snprintf(keys[2], sizeof keys[2], "gc:{%s}:g:G-%d{x}", counties[i], i);
        snprintf(keys[3], sizeof keys[3], "gc:{@}:gid:G-%d", i);
        for (int k = 0; k < 4; k++) {
            redisReply *r = redisCommand(c, "CLUSTER KEYSLOT %s", keys[k]);
            ck_assert(r && r->type == REDIS_REPLY_INTEGER);
            ck_assert_msg((long long)slotmap_keyslot(keys[k], strlen(keys[k])) == r->integer,
                          "%s: ours %u, Redis %lld", keys[k],
                          slotmap_keyslot(keys[k], strlen(keys[k])), r->integer);
            freeReplyObject(r);
        }
    }
    /* Key shapes beyond ours: the hash tag rules, a binary key. */
    static const char *const odd[] = {"",     "{}",       "{",      "}",
                                      "{{}}", "a{b}c{d}", "x{}{y}", "\xe5\x95\x86\xe5\xb7\x9e"};
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        redisReply *r = redisCommand(c, "CLUSTER KEYSLOT %b", odd[k], strlen(odd[k]));
        ck_assert(r && r->type == REDIS_REPLY_INTEGER);
        ck_assert_msg((long long)slotmap_keyslot(odd[k], strlen(odd[k])) == r->integer,
                      "\"%s\": ours %u, Redis %lld", odd[k],
                      slotmap_keyslot(odd[k], strlen(odd[k])), r->integer);
        freeReplyObject(r);
    }
    redisFree(c);
}
END_TEST

START_TEST(test_slot_map_routes_every_county)
{
    struct slotmap *m = map_from(1);
    ck_assert_int_eq(slotmap_nmasters(m), NMASTERS);
    ck_assert_int_eq(slotmap_nnodes(m), NNODES);
    ck_assert_uint_eq(slotmap_unowned(m), 0);
    /* Node index in the map -> our node[] index. */
    int ours[SLOTMAP_NODES_MAX];
    for (int j = 0; j < slotmap_nnodes(m); j++) {
        ours[j] = -1;
        for (int i = 0; i < NNODES; i++)
            if (slotmap_node(m, j)->port == node[i]->port)
                ours[j] = i;
        ck_assert_msg(ours[j] >= 0, "the map names an unknown node :%d", slotmap_node(m, j)->port);
    }
    int per_master[NMASTERS] = {0};
    redisContext *c[NNODES];
    for (int i = 0; i < NNODES; i++)
        c[i] = connect_node(i);
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[sizeof counties + 16]; /* gcc bounds %s by the whole array */
        snprintf(key, sizeof key, "gc:{%s}:cnt", counties[k]);
        unsigned slot = slotmap_keyslot(key, strlen(key));
        int owner = slotmap_owner(m, slot);
        ck_assert_int_ne(owner, SLOTMAP_UNOWNED);
        ck_assert_int_lt(owner, NMASTERS);
        int at = ours[owner];
        per_master[owner]++;
        for (int i = 0; i < NNODES; i++) {
            redisReply *r = redisCommand(c[i], "HINCRBY %s probe 1", key);
            ck_assert(r);
            if (i == at) {
                ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "%s refused by its master: %s", key,
                              r->type == REDIS_REPLY_ERROR ? r->str : "?");
            } else {
                /* Other masters and every replica (no READONLY) redirect. */
                ck_assert_msg(r->type == REDIS_REPLY_ERROR, "%s accepted by node %d", key, i);
                struct slotmap_redirect rd;
                ck_assert_msg(slotmap_redirect_parse(r->str, &rd), "unread: %s", r->str);
                ck_assert(!rd.ask);
                ck_assert_uint_eq(rd.slot, slot);
                ck_assert_int_eq(rd.port, node[at]->port);
                ck_assert_str_eq(rd.host, "127.0.0.1");
            }
            freeReplyObject(r);
        }
    }
    for (int i = 0; i < NMASTERS; i++)
        ck_assert_msg(per_master[i] > 0, "no county on master %d", i);
    for (int i = 0; i < NNODES; i++)
        redisFree(c[i]);
    slotmap_free(m);
}
END_TEST

/* A slot set MIGRATING on its master answers ASK for a key that is not
 * there (any more), naming the importing node. The slot is given back
 * afterwards. */
START_TEST(test_migrating_slot_answers_ask)
{
    struct slotmap *m = map_from(0);
    char key[64];
    snprintf(key, sizeof key, "gc:{%s}:absent", counties[0]);
    unsigned slot = slotmap_keyslot(key, strlen(key));
    int from = slotmap_owner(m, slot);
    int to = (from + 1) % slotmap_nmasters(m);
    redisContext *src = redisConnect("127.0.0.1", slotmap_node(m, from)->port);
    redisContext *dst = redisConnect("127.0.0.1", slotmap_node(m, to)->port);
    ck_assert(src && !src->err && dst && !dst->err);
    const char *src_id = slotmap_node(m, from)->id, *dst_id = slotmap_node(m, to)->id;
    ck_assert(src_id[0] && dst_id[0]);
    redisReply *r = redisCommand(dst, "CLUSTER SETSLOT %u IMPORTING %s", slot, src_id);
    ck_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = redisCommand(src, "CLUSTER SETSLOT %u MIGRATING %s", slot, dst_id);
    ck_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = redisCommand(src, "GET %s", key);
    ck_assert(r && r->type == REDIS_REPLY_ERROR);
    struct slotmap_redirect rd;
    ck_assert_msg(slotmap_redirect_parse(r->str, &rd), "unread: %s", r->str);
    ck_assert(rd.ask);
    ck_assert_uint_eq(rd.slot, slot);
    ck_assert_int_eq(rd.port, slotmap_node(m, to)->port);
    freeReplyObject(r);
    /* Given back: STABLE on both. */
    freeReplyObject(redisCommand(src, "CLUSTER SETSLOT %u STABLE", slot));
    freeReplyObject(redisCommand(dst, "CLUSTER SETSLOT %u STABLE", slot));
    r = redisCommand(src, "GET %s", key);
    ck_assert(r && r->type == REDIS_REPLY_NIL);
    freeReplyObject(r);
    redisFree(src);
    redisFree(dst);
    slotmap_free(m);
}
END_TEST

/* ---- the router (cluster.c) on an event loop ---- */

/* The audit script's arguments: one entry in gc:{county}:audit per call. */
#define AUDIT_ARGS                                                                                 \
    "{\"audit\":{\"who\":\"t\",\"role\":\"admin\",\"action\":\"test\",\"object\":\"o\","           \
    "\"rid\":\"r\",\"keep_ms\":86400000}}"
/* A command's deadline: covers a migration's end and a failover's; only a
 * bound on waiting (h_ms), never an assertion of speed. */
#define OP_TIMEOUT_MS 15000

static struct event_base *base;

struct tally {
    int sent, ok, down, timeout, failed;
};

static void on_done(enum store_status st, json_t *result, void *arg)
{
    (void)result;
    struct tally *t = arg;
    if (st == STORE_OK)
        t->ok++;
    else if (st == STORE_DOWN)
        t->down++;
    else if (st == STORE_TIMEOUT)
        t->timeout++;
    else
        t->failed++;
}

static int answered(const struct tally *t)
{
    return t->ok + t->down + t->timeout + t->failed;
}

/* Runs the loop until cond(arg) or ms pass; cond's last value. */
static bool run_until(bool (*cond)(void *), void *arg, int ms)
{
    long long until = h_now_ms() + h_ms(ms);
    while (!cond(arg)) {
        if (h_now_ms() >= until)
            return false;
        struct timeval tv = {0, 5000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return true;
}

/* Every master connected and checked (cluster_ready() alone is gc:{@}'s
 * master: the cases count one round per master). */
static bool is_ready(void *arg)
{
    struct cluster_health h;
    cluster_health(arg, &h);
    return cluster_ready(arg) && h.slots_unavailable == 0;
}

static bool all_answered(void *arg)
{
    struct tally *t = arg;
    return answered(t) == t->sent;
}

static struct cluster *router_new(int seed)
{
    char url[64], err[128];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[seed]->port);
    struct redis_target t;
    ck_assert_msg(redis_url_parse(url, &t, err, sizeof err), "%s", err);
    struct cluster *c = cluster_new(base, &t, h_ms(OP_TIMEOUT_MS));
    ck_assert(c);
    ck_assert_msg(run_until(is_ready, c, 10000), "the router did not become ready");
    return c;
}

static void send_incr(struct cluster *c, const char *county, struct tally *t)
{
    char key[64];
    snprintf(key, sizeof key, "gc:{%.8s}:cnt", county);
    const char *argv[4] = {"HINCRBY", key, "n", "1"};
    size_t lens[4] = {7, strlen(key), 1, 1};
    ck_assert(cluster_command_within(c, h_ms(OP_TIMEOUT_MS), 4, argv, lens, on_done, t) == 0);
    t->sent++;
}

static void send_audit(struct cluster *c, const char *county, struct tally *t)
{
    char key[64];
    snprintf(key, sizeof key, "gc:{%.8s}", county);
    const char *argv[2] = {key, AUDIT_ARGS};
    size_t lens[2] = {strlen(key), strlen(AUDIT_ARGS)};
    ck_assert(
        cluster_script_within(c, h_ms(OP_TIMEOUT_MS), "audit", 1, 2, argv, lens, on_done, t) == 0);
    t->sent++;
}

/* An integer answer to a one-key command from whichever live node serves
 * the key (the others answer MOVED or are down); -1 when none does. */
static long long read_int(const char *cmd, const char *key)
{
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        redisContext *c = redisConnect("127.0.0.1", node[i]->port);
        if (!c || c->err) {
            redisFree(c);
            continue;
        }
        redisReply *r = redisCommand(c, "%s %s", cmd, key);
        long long v = -1;
        if (r && r->type == REDIS_REPLY_INTEGER)
            v = r->integer;
        else if (r && r->type == REDIS_REPLY_STRING)
            v = atoll(r->str);
        else if (r && r->type == REDIS_REPLY_NIL)
            v = 0;
        freeReplyObject(r);
        redisFree(c);
        if (v >= 0)
            return v;
    }
    return -1;
}

/* Field n of gc:{county}:cnt (the router's HINCRBYs), from its master. */
static long long county_incrs(const char *county)
{
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        redisContext *c = redisConnect("127.0.0.1", node[i]->port);
        if (!c || c->err) {
            redisFree(c);
            continue;
        }
        char k[64];
        snprintf(k, sizeof k, "gc:{%.8s}:cnt", county);
        redisReply *r = redisCommand(c, "HGET %s n", k);
        long long v = -1;
        if (r && r->type == REDIS_REPLY_STRING)
            v = atoll(r->str);
        else if (r && r->type == REDIS_REPLY_NIL)
            v = 0;
        freeReplyObject(r);
        redisFree(c);
        if (v >= 0)
            return v;
    }
    return -1;
}

static long long county_audits(const char *county)
{
    char key[64];
    snprintf(key, sizeof key, "gc:{%.8s}:audit", county);
    return read_int("XLEN", key);
}

/* Node id of the redis-server at port ("" on failure). */
static void node_id(int port, char *id, size_t len)
{
    id[0] = '\0';
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *r = c && !c->err ? redisCommand(c, "CLUSTER MYID") : NULL;
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf(id, len, "%s", r->str);
    freeReplyObject(r);
    redisFree(c);
}

/* Moves slot from the master at from_port to the one at to_port as
 * redis-cli --cluster reshard does: IMPORTING on the target, MIGRATING on
 * the source, each key MIGRATEd (key_delay_ms apart: a migration under load
 * lasts a while; `first`, when not NULL, before the others), then SETSLOT
 * NODE on the target and the source. No ck_assert: it runs in a forked
 * child too. */
static bool migrate_slot(unsigned slot, int from_port, int to_port, int key_delay_ms,
                         const char *first)
{
    char src_id[64], dst_id[64];
    node_id(from_port, src_id, sizeof src_id);
    node_id(to_port, dst_id, sizeof dst_id);
    redisContext *src = redisConnect("127.0.0.1", from_port);
    redisContext *dst = redisConnect("127.0.0.1", to_port);
    bool ok = src_id[0] && dst_id[0] && src && !src->err && dst && !dst->err;
    redisReply *r;
#define STEP(ctx, ...)                                                                             \
    do {                                                                                           \
        r = ok ? redisCommand(ctx, __VA_ARGS__) : NULL;                                            \
        ok = ok && r && r->type != REDIS_REPLY_ERROR;                                              \
        if (r && r->type == REDIS_REPLY_ERROR)                                                     \
            fprintf(stderr, "migrate_slot: %s\n", r->str);                                         \
        freeReplyObject(r);                                                                        \
    } while (0)
    STEP(dst, "CLUSTER SETSLOT %u IMPORTING %s", slot, src_id);
    STEP(src, "CLUSTER SETSLOT %u MIGRATING %s", slot, dst_id);
    if (first) {
        STEP(src, "MIGRATE 127.0.0.1 %d %s 0 5000", to_port, first);
        h_sleep_ms(key_delay_ms);
    }
    while (ok) {
        r = redisCommand(src, "CLUSTER GETKEYSINSLOT %u 1", slot);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            ok = false;
            freeReplyObject(r);
            break;
        }
        if (r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        char key[256];
        snprintf(key, sizeof key, "%s", r->element[0]->str);
        freeReplyObject(r);
        STEP(src, "MIGRATE 127.0.0.1 %d %s 0 5000", to_port, key);
        if (key_delay_ms > 0)
            h_sleep_ms(key_delay_ms);
    }
    STEP(dst, "CLUSTER SETSLOT %u NODE %s", slot, dst_id);
    STEP(src, "CLUSTER SETSLOT %u NODE %s", slot, dst_id);
#undef STEP
    redisFree(src);
    redisFree(dst);
    return ok;
}

/* The port of the master serving county's slot in the first live node's
 * map; *other_master (when not NULL): another master's. */
static int owner_port(const char *county, int *other_master)
{
    char key[32];
    snprintf(key, sizeof key, "gc:{%.8s}", county);
    unsigned slot = slotmap_keyslot(key, strlen(key));
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        struct slotmap *m = map_from(i);
        int o = slotmap_owner(m, slot);
        int port = o >= 0 ? slotmap_node(m, o)->port : -1;
        if (other_master)
            *other_master = slotmap_node(m, (o + 1) % slotmap_nmasters(m))->port;
        slotmap_free(m);
        return port;
    }
    return -1;
}

START_TEST(test_router_routes_counties)
{
    struct cluster *c = router_new(0);
    struct tally t = {0};
    for (int k = 0; k < NCOUNTIES; k++) {
        for (int i = 0; i < 20; i++)
            send_incr(c, counties[k], &t);
        for (int i = 0; i < 5; i++)
            send_audit(c, counties[k], &t);
    }
    ck_assert(run_until(all_answered, &t, 30000));
    ck_assert_int_eq(t.ok, t.sent);
    for (int k = 0; k < NCOUNTIES; k++) {
        ck_assert_int_eq(county_incrs(counties[k]), 20);
        ck_assert_int_eq(county_audits(counties[k]), 5);
    }
    struct cluster_stats st;
    cluster_stats(c, &st);
    ck_assert_int_eq(st.masters, NMASTERS);
    ck_assert_uint_eq(st.unowned, 0);
    ck_assert_uint_eq(st.moved, 0);
    ck_assert_uint_ge(st.refreshes, 1);
    cluster_free(c);
}
END_TEST

/* The slot of county[1] moves to another master while the router holds the
 * old map: its next commands meet MOVED and are retried there. */
START_TEST(test_router_follows_moved)
{
    struct cluster *c = router_new(1);
    int to = 0, from = owner_port(counties[1], &to);
    char key[32];
    snprintf(key, sizeof key, "gc:{%s}", counties[1]);
    ck_assert(migrate_slot(slotmap_keyslot(key, strlen(key)), from, to, 0, NULL));
    ck_assert_int_eq(owner_port(counties[1], NULL), to);
    struct tally t = {0};
    for (int i = 0; i < 10; i++)
        send_incr(c, counties[1], &t);
    for (int i = 0; i < 2; i++)
        send_audit(c, counties[1], &t);
    ck_assert(run_until(all_answered, &t, 30000));
    ck_assert_int_eq(t.ok, t.sent);
    ck_assert_int_eq(county_incrs(counties[1]), 20 + 10);
    ck_assert_int_eq(county_audits(counties[1]), 5 + 2);
    struct cluster_stats st;
    cluster_stats(c, &st);
    ck_assert_uint_ge(st.moved, 1);
    cluster_free(c);
}
END_TEST

/* ---- load while something happens ---- */

struct pump {
    struct cluster *c;
    const char *county;
    struct tally incr, audit;
    int inflight_max;
    bool stop;
    int n;
    const char *flag; /* a file whose appearance stops the load */
};

static bool pump_done(void *arg)
{
    struct pump *p = arg;
    if (!p->stop && p->flag && access(p->flag, F_OK) == 0)
        p->stop = true;
    int inflight = p->incr.sent - answered(&p->incr) + p->audit.sent - answered(&p->audit);
    while (!p->stop && inflight < p->inflight_max) {
        if (p->n++ % 2)
            send_incr(p->c, p->county, &p->incr);
        else
            send_audit(p->c, p->county, &p->audit);
        inflight++;
    }
    return p->stop && inflight == 0;
}

/* county[2]'s slot migrated key by key (with 200 other keys of the county,
 * 5 ms apart) by a child process while this one keeps 16 commands in flight
 * for the county, half HINCRBY on its counter, half the audit script: every
 * command is acknowledged and Redis holds exactly the acknowledged counts. */
START_TEST(test_router_migration_under_load)
{
    const char *county = counties[2];
    int to = 0, from = owner_port(county, &to);
    redisContext *r = redisConnect("127.0.0.1", from);
    ck_assert(r && !r->err);
    for (int i = 0; i < 200; i++)
        freeReplyObject(redisCommand(r, "SET gc:{%s}:filler:%d x", county, i));
    redisFree(r);
    struct cluster *c = router_new(2);
    char flag[600];
    snprintf(flag, sizeof flag, "%s/migrated", h_work_dir());
    unlink(flag);
    char key[32];
    snprintf(key, sizeof key, "gc:{%s}", county);
    unsigned slot = slotmap_keyslot(key, strlen(key));
    pid_t pid = h_child_fork();
    if (pid == 0) {
        h_sleep_ms(200); /* the load first */
        /* The counter first: the HINCRBYs then meet ASK (the key has
         * left) for the whole migration. */
        char cnt[48];
        snprintf(cnt, sizeof cnt, "gc:{%s}:cnt", county);
        bool ok = migrate_slot(slot, from, to, 5, cnt);
        int fd = open(flag, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
        h_child_exit(ok ? 0 : 1);
    }
    struct pump p = {.c = c, .county = county, .inflight_max = 16, .flag = flag};
    bool ended = run_until(pump_done, &p, 60000);
    ck_assert_int_eq(h_child_wait(pid), 0);
    ck_assert(ended);
    ck_assert_int_eq(owner_port(county, NULL), to);
    fprintf(stderr,
            "cluster.migration incr_sent=%d incr_ok=%d audit_sent=%d audit_ok=%d down=%d "
            "timeout=%d failed=%d\n",
            p.incr.sent, p.incr.ok, p.audit.sent, p.audit.ok, p.incr.down + p.audit.down,
            p.incr.timeout + p.audit.timeout, p.incr.failed + p.audit.failed);
    ck_assert_int_eq(p.incr.ok, p.incr.sent);
    ck_assert_int_eq(p.audit.ok, p.audit.sent);
    ck_assert_int_eq(county_incrs(county), 20 + p.incr.ok);
    ck_assert_int_eq(county_audits(county), 5 + p.audit.ok);
    struct cluster_stats st;
    cluster_stats(c, &st);
    fprintf(stderr,
            "cluster.migration ask=%llu followed=%llu waited=%llu moved=%llu tryagain=%llu\n",
            (unsigned long long)st.ask, (unsigned long long)st.ask_followed,
            (unsigned long long)st.ask_waited, (unsigned long long)st.moved,
            (unsigned long long)st.tryagain);
    ck_assert_uint_ge(st.ask_followed, 1); /* the HINCRBYs, with ASKING */
    ck_assert_uint_ge(st.ask_waited, 1);   /* the scripts, until the slot had moved */
    ck_assert_uint_ge(st.moved, 1);
    cluster_free(c);
}
END_TEST

/* ---- rounds ---- */

struct rows {
    long long v[NCOUNTIES];
    int seen[NCOUNTIES];
    bool done;
    enum store_status st;
};

static void on_row(void *arg, size_t i, size_t n, const struct store_str *elems)
{
    struct rows *r = arg;
    ck_assert_uint_lt(i, NCOUNTIES);
    ck_assert_uint_eq(n, 1);
    r->v[i] = elems[0].s ? atoll(elems[0].s) : 0;
    r->seen[i]++;
}

static void on_rows_done(void *arg, enum store_status st)
{
    struct rows *r = arg;
    r->st = st;
    r->done = true;
}

static bool rows_done(void *arg)
{
    return ((struct rows *)arg)->done;
}

/* HGET of every county's counter in one round. */
static void read_round(struct cluster *c, struct rows *r)
{
    memset(r, 0, sizeof *r);
    struct cluster_round *cr = cluster_round_new(c, h_ms(OP_TIMEOUT_MS), on_row, on_rows_done, r);
    ck_assert(cr);
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[sizeof counties + 16]; /* gcc bounds %s by the whole array */
        snprintf(key, sizeof key, "gc:{%s}:cnt", counties[k]);
        const char *argv[3] = {"HGET", key, "n"};
        size_t lens[3] = {4, strlen(key), 1};
        cluster_round_add(cr, 3, argv, lens);
    }
    cluster_round_start(cr);
    ck_assert(run_until(rows_done, r, 30000));
}

/* One round over 50 counties: one store round per master, every row right;
 * then with a county's slot moved behind the router's back: its master's
 * share meets MOVED and is sent again command by command, rows right. */
START_TEST(test_router_round_per_master)
{
    struct cluster *c = router_new(0);
    struct rows r;
    read_round(c, &r);
    ck_assert_int_eq(r.st, STORE_OK);
    struct cluster_stats st;
    cluster_stats(c, &st);
    ck_assert_uint_eq(st.node_rounds, NMASTERS);
    ck_assert_uint_eq(st.round_singles, 0);
    for (int k = 0; k < NCOUNTIES; k++) {
        ck_assert_int_eq(r.seen[k], 1);
        ck_assert_int_eq(r.v[k], county_incrs(counties[k]));
    }
    ck_assert_int_eq(r.v[5], 20); /* test_router_routes_counties' */

    int to = 0, from = owner_port(counties[5], &to);
    char key[32];
    snprintf(key, sizeof key, "gc:{%s}", counties[5]);
    ck_assert(migrate_slot(slotmap_keyslot(key, strlen(key)), from, to, 0, NULL));
    read_round(c, &r);
    ck_assert_int_eq(r.st, STORE_OK);
    cluster_stats(c, &st);
    ck_assert_uint_ge(st.round_singles, 1);
    ck_assert_uint_ge(st.moved, 1);
    for (int k = 0; k < NCOUNTIES; k++) {
        ck_assert_int_ge(r.seen[k], 1);
        ck_assert_int_eq(r.v[k], county_incrs(counties[k]));
    }
    cluster_free(c);
}
END_TEST

/* ---- XREADGROUP over every county's outbox (notify.c's read) ---- */

/* A command on whichever live node accepts it (the others answer MOVED). */
static void exec_anywhere(const char *fmt, ...)
{
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        redisContext *c = redisConnect("127.0.0.1", node[i]->port);
        if (!c || c->err) {
            redisFree(c);
            continue;
        }
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(c, fmt, ap);
        va_end(ap);
        bool moved = r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "MOVED", 5) == 0;
        ck_assert_msg(r && (moved || r->type != REDIS_REPLY_ERROR), "%s: %s", fmt,
                      r ? r->str : c->errstr);
        freeReplyObject(r);
        redisFree(c);
        if (!moved)
            return;
    }
    ck_abort_msg("no node accepted %s", fmt);
}

struct answer {
    bool done;
    enum store_status st;
    json_t *result;
};

static void on_answer(enum store_status st, json_t *result, void *arg)
{
    struct answer *a = arg;
    a->st = st;
    a->result = json_incref(result);
    a->done = true;
}

static bool answer_done(void *arg)
{
    return ((struct answer *)arg)->done;
}

/* XREADGROUP ... STREAMS <50 outboxes> > ...: a cluster refuses keys of
 * several slots in one command (CROSSSLOT), so the router splits it per
 * slot and merges the answers: one entry from each of the 50 streams, then,
 * read again, nothing (nil). */
static void xreadgroup_all(struct cluster *c, struct answer *a)
{
    int argc = 7 + 2 * NCOUNTIES;
    const char *argv[7 + 2 * NCOUNTIES];
    size_t lens[7 + 2 * NCOUNTIES];
    static char keys[NCOUNTIES][32];
    static const char *const head[] = {"XREADGROUP", "GROUP", "delivery", "tester",
                                       "COUNT",      "10",    "STREAMS"};
    for (int i = 0; i < 7; i++)
        argv[i] = head[i];
    for (int k = 0; k < NCOUNTIES; k++) {
        snprintf(keys[k], sizeof keys[k], "gc:{%.8s}:outbox", counties[k]);
        argv[7 + k] = keys[k];
        argv[7 + NCOUNTIES + k] = ">";
    }
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    memset(a, 0, sizeof *a);
    ck_assert_int_eq(cluster_command_within(c, h_ms(OP_TIMEOUT_MS), argc, argv, lens, on_answer, a),
                     0);
    ck_assert(run_until(answer_done, a, 30000));
}

START_TEST(test_router_splits_xreadgroup)
{
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%.8s}:outbox", counties[k]);
        exec_anywhere("XGROUP CREATE %s delivery $ MKSTREAM", key);
        exec_anywhere("XADD %s * county %s", key, counties[k]);
    }
    struct cluster *c = router_new(0);
    struct answer a;
    xreadgroup_all(c, &a);
    ck_assert_int_eq(a.st, STORE_OK);
    ck_assert_uint_eq(json_array_size(a.result), NCOUNTIES);
    int seen[NCOUNTIES] = {0};
    size_t i;
    json_t *stream;
    json_array_foreach(a.result, i, stream)
    {
        const char *key = json_string_value(json_array_get(stream, 0));
        json_t *entries = json_array_get(stream, 1);
        ck_assert_uint_eq(json_array_size(entries), 1);
        const char *county =
            json_string_value(json_array_get(json_array_get(json_array_get(entries, 0), 1), 1));
        ck_assert(key && county);
        for (int k = 0; k < NCOUNTIES; k++)
            if (strcmp(county, counties[k]) == 0) {
                seen[k]++;
                char want[32];
                snprintf(want, sizeof want, "gc:{%.8s}:outbox", counties[k]);
                ck_assert_str_eq(key, want);
            }
    }
    for (int k = 0; k < NCOUNTIES; k++)
        ck_assert_int_eq(seen[k], 1);
    json_decref(a.result);
    xreadgroup_all(c, &a);
    ck_assert_int_eq(a.st, STORE_OK);
    ck_assert(json_is_null(a.result));
    json_decref(a.result);
    cluster_free(c);
}
END_TEST

/* ---- the store façade (store.c on a target with cluster_via) ----
 * What gradcoverd will use once wired: the store API unchanged, the router
 * behind it. */

static void on_count(void *arg)
{
    (*(int *)arg)++;
}

static void on_probe_answer(enum store_status st, json_t *result, void *arg)
{
    (void)result;
    if (st == STORE_OK)
        (*(int *)arg)++;
}

static bool facade_writable(void *arg)
{
    return store_writes(arg) == STORE_WRITES_OK;
}

START_TEST(test_facade_store_delegates)
{
    struct cluster *c = router_new(0);
    char url[64], err[128];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[0]->port);
    struct redis_target t;
    ck_assert_msg(redis_url_parse(url, &t, err, sizeof err), "%s", err);
    t.cluster_via = c;
    struct store *s = store_new(base, &t, h_ms(OP_TIMEOUT_MS));
    ck_assert(s);
    ck_assert(store_ready(s));
    ck_assert_ptr_null(store_down_reason(s));
    /* The probe (gradcoverd's is pii_check on gc:{@}; audit here, which
     * leaves no PII fingerprint behind) runs through the router; writes
     * count as accepted only once it has answered and every master is
     * checked (maxmemory-policy), and the writable callback says so. */
    int probes = 0, writable = 0;
    store_on_writable(s, on_count, &writable);
    ck_assert_int_eq(store_set_probe(s, "audit", "gc:{@}", AUDIT_ARGS, on_probe_answer, &probes),
                     0);
    ck_assert_int_ne(store_writes(s), STORE_WRITES_OK);
    ck_assert(run_until(facade_writable, s, 10000));
    ck_assert_int_ge(probes, 1);
    ck_assert_int_eq(writable, 1);
    /* Not built yet: said, not silently ignored. */
    ck_assert_ptr_null(store_new_plain(base, &t, 1000));
    ck_assert_ptr_null(store_context(s));

    long long before[NCOUNTIES];
    for (int k = 0; k < NCOUNTIES; k++)
        before[k] = county_incrs(counties[k]);
    struct tally tl = {0};
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[sizeof counties + 16]; /* gcc bounds %s by the whole array */
        snprintf(key, sizeof key, "gc:{%s}:cnt", counties[k]);
        const char *argv[4] = {"HINCRBY", key, "n", "2"};
        size_t lens[4] = {7, strlen(key), 1, 1};
        ck_assert_int_eq(store_command(s, 4, argv, lens, on_done, &tl), 0);
        tl.sent++;
        snprintf(key, sizeof key, "gc:{%s}", counties[k]);
        const char *sargv[2] = {key, AUDIT_ARGS};
        size_t slens[2] = {strlen(key), strlen(AUDIT_ARGS)};
        ck_assert_int_eq(store_script(s, "audit", 1, 2, sargv, slens, on_done, &tl), 0);
        tl.sent++;
    }
    ck_assert(run_until(all_answered, &tl, 30000));
    ck_assert_int_eq(tl.ok, tl.sent);

    /* A store round over every county: the router's, one per master. */
    struct cluster_stats st0, st1;
    cluster_stats(c, &st0);
    struct rows r;
    memset(&r, 0, sizeof r);
    struct store_round *rd = store_round_new(s, h_ms(OP_TIMEOUT_MS), on_row, on_rows_done, &r);
    ck_assert(rd);
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[sizeof counties + 16];
        snprintf(key, sizeof key, "gc:{%s}:cnt", counties[k]);
        const char *argv[3] = {"HGET", key, "n"};
        size_t lens[3] = {4, strlen(key), 1};
        store_round_add(rd, 3, argv, lens);
    }
    store_round_start(rd);
    ck_assert(run_until(rows_done, &r, 30000));
    ck_assert_int_eq(r.st, STORE_OK);
    cluster_stats(c, &st1);
    ck_assert_uint_eq(st1.node_rounds - st0.node_rounds, NMASTERS);
    for (int k = 0; k < NCOUNTIES; k++) {
        ck_assert_int_eq(r.v[k], before[k] + 2);
        ck_assert_int_eq(county_incrs(counties[k]), before[k] + 2);
    }

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert(out);
    store_render_metrics(s, out);
    fclose(out);
    ck_assert_msg(strstr(text, "gradcover_redis_cluster_masters 3\n"), "%s", text);
    ck_assert_msg(strstr(text, "gradcover_redis_writable 1\n"), "%s", text);
    free(text);
    store_free(s);
    cluster_free(c);
}
END_TEST

/* The gradcover tool on redis-cluster://: its token commands (scripts on
 * gc:{@}) go to the master of gc:{@}'s slot, found from a seed's map; the
 * seed given here is not that master. */
static int run_cli(const char *url, const char *args, char *out, size_t n)
{
    const char *bin = getenv("GC_CLI");
    ck_assert_msg(bin, "GC_CLI not set");
    json_t *cfg = h_default_config();
    const char *path = h_write_config(cfg, "cli");
    json_decref(cfg);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --config %s --redis %s %s 2>&1", bin, path, url, args);
    FILE *p = popen(cmd, "r");
    ck_assert(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_cli_tokens_on_the_cluster)
{
    char key[] = "gc:{@}:tokens";
    unsigned slot = slotmap_keyslot(key, strlen(key));
    struct slotmap *m = map_from(0);
    int owner_port = slotmap_node(m, slotmap_owner(m, slot))->port;
    int seed = -1;
    for (int i = 0; i < NNODES; i++)
        if (node[i] && node[i]->port != owner_port)
            seed = i;
    slotmap_free(m);
    ck_assert_int_ge(seed, 0);
    char url[64], out[4096];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[seed]->port);
    long long before = read_int("HLEN", key);
    int rc = run_cli(url, "token create cluster.admin --role admin", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_int_eq(read_int("HLEN", key), before + 1);
    rc = run_cli(url, "token list", out, sizeof out);
    ck_assert_msg(rc == 0 && strstr(out, "cluster.admin"), "exit %d: %s", rc, out);
    rc = run_cli(url, "token revoke cluster.admin", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_int_eq(read_int("HLEN", key), before);
    /* No seed answers: exit 1, said. */
    rc = run_cli("redis-cluster://127.0.0.1:1", "token list", out, sizeof out);
    ck_assert_msg(rc == 1 && strstr(out, "no cluster seed"), "exit %d: %s", rc, out);
}
END_TEST

/* ---- gradcoverd on the cluster, over HTTP ---- */

/* The default configuration with the 50 counties of this test. */
static const char *cluster_config(const char *name)
{
    json_t *cfg = h_default_config();
    json_t *list = json_array();
    for (int k = 0; k < NCOUNTIES; k++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "code", counties[k], "name", "县"));
    json_object_set_new(cfg, "counties", list);
    /* The admin token only: the others name counties not in this list. */
    json_t *admin = json_incref(json_array_get(json_object_get(cfg, "tokens"), 0));
    json_object_set_new(cfg, "tokens", json_pack("[o]", admin));
    const char *path = h_write_config(cfg, name);
    json_decref(cfg);
    return path;
}

/* gradcoverd --redis redis-cluster://<one seed>:
 * 50 counties, two graduates each, one contact (sent twice with one
 * Idempotency-Key): every county's coverage exact, read through the
 * counter cache on every master (on by default); /metrics names the
 * cluster and says the cache is ready; a clean stop. */
START_TEST(test_gradcoverd_on_the_cluster)
{
    const char *cfg = cluster_config("on-cluster");
    char url[64];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[0]->port);
    struct gc_server *srv = h_start(cfg, NULL, url, true);
    for (int k = 0; k < NCOUNTIES; k++) {
        char id[2][32], key[48];
        for (int g = 0; g < 2; g++) {
            snprintf(id[g], sizeof id[g], "CL%.8s-%d", counties[k], g);
            h_register(srv, T_ADMIN, id[g], counties[k], 1000 + 2 * k + g, NULL);
        }
        snprintf(key, sizeof key, "cluster-%.8s", counties[k]);
        ck_assert_int_eq(h_contact(srv, T_ADMIN, id[0], NULL, key), 201);
        int again = h_contact(srv, T_ADMIN, id[0], NULL, key);
        ck_assert_msg(again == 200 || again == 201, "replay: %d", again);
    }
    for (int k = 0; k < NCOUNTIES; k++) {
        long long reg, served;
        h_counts(srv, counties[k], "", &reg, &served);
        ck_assert_int_eq(reg, 2);
        ck_assert_int_eq(served, 1);
    }
    struct http_resp *r = h_http(srv, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert(r && r->status == 200);
    ck_assert_msg(strstr(r->body, "gradcover_redis_cluster_masters 3\n"), "%s", r->body);
    /* The counter cache (on by default) is up on every master. */
    ck_assert_msg(strstr(r->body, "gradcover_county_cache_ready 1\n"), "%s", r->body);
    h_resp_free(r);
    ck_assert_int_eq(h_stop(srv), 0);
}
END_TEST

/* ---- cost: one Redis vs the 3-master cluster ----
 * The same script (audit: one XADD behind the prelude) for the 50 counties,
 * 64 in flight, through store.c on one private redis-server and through the
 * router on the cluster, from this one process. GC_CLUSTER_BENCH_OPS sets
 * the count (bench/cluster-router runs 100,000 in 3 rounds); CTest's few
 * only check that every call is answered OK. On a 2-core machine the three
 * masters share the cores with this process: the numbers show the
 * router's cost, not the cluster's scale. */
#define BENCH_INFLIGHT 64

struct bench {
    struct store *s;   /* one Redis ... */
    struct cluster *c; /* ... or the router */
    int total, next;
    struct tally t;
};

static bool bench_done(void *arg)
{
    struct bench *b = arg;
    while (b->next < b->total && b->t.sent - answered(&b->t) < BENCH_INFLIGHT) {
        const char *county = counties[b->next++ % NCOUNTIES];
        char key[64];
        snprintf(key, sizeof key, "gc:{%.8s}", county);
        const char *argv[2] = {key, AUDIT_ARGS};
        size_t lens[2] = {strlen(key), strlen(AUDIT_ARGS)};
        int rc = b->s ? store_script_within(b->s, h_ms(OP_TIMEOUT_MS), "audit", 1, 2, argv, lens,
                                            on_done, &b->t)
                      : cluster_script_within(b->c, h_ms(OP_TIMEOUT_MS), "audit", 1, 2, argv, lens,
                                              on_done, &b->t);
        ck_assert_int_eq(rc, 0);
        b->t.sent++;
    }
    return b->next == b->total && answered(&b->t) == b->total;
}

static bool store_is_ready(void *arg)
{
    return store_ready(arg);
}

/* Calls per second of b's target for `total` calls. */
static double bench_run(struct bench *b, int total)
{
    b->total = total;
    b->next = 0;
    memset(&b->t, 0, sizeof b->t);
    long long t0 = h_now_ms();
    ck_assert(run_until(bench_done, b, 600000));
    long long ms = h_now_ms() - t0;
    ck_assert_int_eq(b->t.ok, total);
    return ms > 0 ? total * 1000.0 / (double)ms : 0;
}

START_TEST(test_bench_one_redis_vs_cluster)
{
    const char *env = getenv("GC_CLUSTER_BENCH_OPS");
    int total = env && atoi(env) > 0 ? atoi(env) : 2000;
    const char *renv = getenv("GC_CLUSTER_BENCH_ROUNDS");
    int rounds = renv && atoi(renv) > 0 ? atoi(renv) : 1;
    static const char *const extra[] = {"--appendfsync", "everysec", NULL};
    struct h_redis_proc *one = h_redis_spawn_args("single", 0, true, extra);
    char url[64], err[128];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", one->port);
    struct redis_target t;
    ck_assert_msg(redis_url_parse(url, &t, err, sizeof err), "%s", err);
    struct store *s = store_new(base, &t, h_ms(OP_TIMEOUT_MS));
    ck_assert(s);
    ck_assert(run_until(store_is_ready, s, 10000));
    struct cluster *c = router_new(0);
    for (int r = 0; r < rounds; r++) {
        /* Interleaved, so that whatever else the machine does hits both. */
        struct bench b1 = {.s = s}, b3 = {.c = c};
        double one_s = bench_run(&b1, total);
        double three_s = bench_run(&b3, total);
        fprintf(stderr,
                "cluster.bench round=%d calls=%d inflight=%d one_redis_per_s=%.0f "
                "cluster3_per_s=%.0f\n",
                r + 1, total, BENCH_INFLIGHT, one_s, three_s);
    }
    cluster_free(c);
    store_free(s);
    h_redis_stop(one, false);
    free(one);
}
END_TEST

/* A master killed under load: the cluster promotes its replica (after
 * cluster-node-timeout), the router learns it from the map and writes
 * there. Acknowledged writes may be lost (asynchronous replication, as with
 * Sentinel: docs/reliability.md); the numbers are printed, and Redis never
 * holds more than was sent. */
struct failover {
    struct pump p;
    int master;        /* node[] index of the master killed */
    long long kill_at; /* h_now_ms() of the kill, 0 before */
    long long back_at; /* ... of the first OK to a command sent after it */
    int ok_at_kill;
};

static bool failover_done(void *arg)
{
    struct failover *f = arg;
    int ok = f->p.incr.ok + f->p.audit.ok;
    if (!f->kill_at && ok >= 50) {
        f->ok_at_kill = ok;
        h_redis_stop(node[f->master], true);
        free(node[f->master]);
        node[f->master] = NULL;
        f->kill_at = h_now_ms();
    }
    /* The commands in flight at the kill are at most inflight_max: an OK
     * beyond those answers one sent after the kill. */
    if (f->kill_at && !f->back_at && ok > f->ok_at_kill + f->p.inflight_max)
        f->back_at = h_now_ms();
    if (f->back_at && ok >= f->ok_at_kill + 50)
        f->p.stop = true;
    return pump_done(&f->p);
}

START_TEST(test_router_follows_a_failover)
{
    const char *county = counties[3];
    int port = owner_port(county, NULL);
    int master = -1;
    for (int i = 0; i < NNODES; i++)
        if (node[i] && node[i]->port == port)
            master = i;
    ck_assert_int_ge(master, 0);
    /* Seeded with another node: the killed one must not be the only seed. */
    struct cluster *c = router_new((master + 1) % NNODES);
    long long incr0 = county_incrs(county), audit0 = county_audits(county);
    struct failover f = {.p = {.c = c, .county = county, .inflight_max = 8}, .master = master};
    ck_assert_msg(run_until(failover_done, &f, 60000), "writes did not resume after the failover");
    long long stored_incr = county_incrs(county) - incr0;
    long long stored_audit = county_audits(county) - audit0;
    int amb_incr = f.p.incr.down + f.p.incr.timeout, amb_audit = f.p.audit.down + f.p.audit.timeout;
    fprintf(stderr,
            "cluster.failover resume_ms=%lld incr_ok=%d incr_ambiguous=%d incr_stored=%lld "
            "audit_ok=%d audit_ambiguous=%d audit_stored=%lld failed=%d\n",
            f.back_at - f.kill_at, f.p.incr.ok, amb_incr, stored_incr, f.p.audit.ok, amb_audit,
            stored_audit, f.p.incr.failed + f.p.audit.failed);
    ck_assert_int_eq(f.p.incr.failed + f.p.audit.failed, 0);
    ck_assert_int_le(stored_incr, f.p.incr.ok + amb_incr);
    ck_assert_int_le(stored_audit, f.p.audit.ok + amb_audit);
    ck_assert_int_ne(owner_port(county, NULL), port);
    struct cluster_stats st;
    cluster_stats(c, &st);
    ck_assert_int_eq(st.masters, NMASTERS);
    cluster_free(c);
}
END_TEST

/* gradcoverd run with args to its end; its exit code, its output in text. */
static int run_gradcoverd(const char *const *args, char *text, size_t len)
{
    char log[600];
    snprintf(log, sizeof log, "%s/refused.log", h_work_dir());
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        h_exec_gradcoverd(args);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    FILE *f = fopen(log, "r");
    ck_assert(f);
    size_t n = fread(text, 1, len - 1, f);
    text[n] = '\0';
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A redis-cluster:// URL in the configuration file: --check-config says it
 * is valid (exit 0), and gradcoverd started with that file (the harness
 * passes the same URL as --redis) serves from the cluster: ready, a
 * registration written to the master of its county's slot. */
START_TEST(test_gradcoverd_takes_cluster_url_from_the_file)
{
    char url[128], listen[32], text[4096];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d,127.0.0.1:%d", node[0]->port,
             node[1]->port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h_free_port());
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "redis", json_string(url));
    const char *in_file = h_write_config(cfg, "cluster-file");
    json_decref(cfg);
    const char *const check[] = {"--config", in_file, "--check-config", NULL};
    int rc = run_gradcoverd(check, text, sizeof text);
    ck_assert_msg(rc == 0 && strstr(text, "is valid"), "--check-config: exit %d: %s", rc, text);

    struct gc_server *srv = h_start(in_file, NULL, url, true);
    ck_assert_ptr_nonnull(srv);
    h_register(srv, T_C611002, "CLFILE-1", "611002", 4242, NULL);
    int owner = owner_port("611002", NULL);
    redisContext *c = redisConnect("127.0.0.1", owner);
    ck_assert(c && !c->err);
    redisReply *r = redisCommand(c, "EXISTS gc:{611002}:g:CLFILE-1");
    ck_assert(r && r->type == REDIS_REPLY_INTEGER);
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
    redisFree(c);
    ck_assert_int_eq(h_stop(srv), 0);
}
END_TEST

/* ---- readiness per master, each master's own probe, the ACL user ----
 * gradcoverd on the cluster while one master is away (killed, before and
 * after its replica is promoted) or refusing writes (OOM): only that
 * master's counties answer 503 + Retry-After, /readyz stays 200 and names
 * what is missing, and writes resume by themselves; then gradcoverd as the
 * ACL user of deploy/redis-users.acl. Each case leaves three healthy
 * masters and three replicas behind (a killed node is restarted on its own
 * data and rejoins as a replica). */

/* node[] index of the node at port, or -1. */
static int pm_node_at(int port)
{
    for (int i = 0; i < NNODES; i++)
        if (node[i] && node[i]->port == port)
            return i;
    return -1;
}

/* The port of the master serving key's slot (the first live node's map). */
static int pm_owner_of(const char *key)
{
    unsigned slot = slotmap_keyslot(key, strlen(key));
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        struct slotmap *m = map_from(i);
        int o = slotmap_owner(m, slot);
        int port = o >= 0 ? slotmap_node(m, o)->port : -1;
        slotmap_free(m);
        return port;
    }
    return -1;
}

/* node[] index of a master that does not serve gc:{@} (tokens and graduate
 * ids stay reachable: the server stays ready). */
static int pm_victim(void)
{
    int global = pm_owner_of("gc:{@}");
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%.8s}", counties[k]);
        int port = pm_owner_of(key);
        if (port != global)
            return pm_node_at(port);
    }
    ck_abort_msg("every county is on gc:{@}'s master");
    return -1;
}

/* node[] index of the replica of the master at port. */
static int pm_replica_of(int port)
{
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        redisContext *c = connect_node(i);
        redisReply *r = redisCommand(c, "ROLE");
        bool mine = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 3 &&
                    strcmp(r->element[0]->str, "slave") == 0 && r->element[2]->integer == port;
        freeReplyObject(r);
        redisFree(c);
        if (mine)
            return i;
    }
    ck_abort_msg("no replica of the master at %d", port);
    return -1;
}

static void pm_exec(int i, const char *cmd)
{
    redisContext *c = connect_node(i);
    redisReply *r = redisCommand(c, cmd);
    ck_assert_msg(r && r->type != REDIS_REPLY_ERROR, "node %d: %s: %s", i, cmd,
                  r && r->str ? r->str : "no answer");
    freeReplyObject(r);
    redisFree(c);
}

/* cluster-require-full-coverage on every live node, weighed at once: a
 * node weighs its state again on an event, and SETSLOT STABLE of a slot
 * that is not moving is one that changes nothing (masters only: a
 * replica's answer is an error, and its state serves nobody here). */
static void pm_full_coverage(const char *yes_no)
{
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        redisContext *c = connect_node(i);
        redisReply *r = redisCommand(c, "CONFIG SET cluster-require-full-coverage %s", yes_no);
        ck_assert(r && r->type == REDIS_REPLY_STATUS);
        freeReplyObject(r);
        freeReplyObject(redisCommand(c, "CLUSTER SETSLOT 0 STABLE"));
        redisFree(c);
    }
}

/* Node i's CLUSTER NODES flags the master at port as failed (not just
 * suspected: "fail", not "fail?"). */
static bool pm_marked_failed(int i, int port)
{
    redisContext *c = connect_node(i);
    redisReply *r = redisCommand(c, "CLUSTER NODES");
    ck_assert(r && r->type == REDIS_REPLY_STRING);
    char addr[32];
    snprintf(addr, sizeof addr, " 127.0.0.1:%d@", port);
    const char *line = strstr(r->str, addr);
    bool failed = false;
    if (line) {
        const char *flags = line + strlen(addr);
        flags = strchr(flags, ' '); /* after the bus port */
        failed = flags && (strncmp(flags + 1, "master,fail ", 12) == 0 ||
                           strncmp(flags + 1, "master,fail,", 12) == 0);
    }
    freeReplyObject(r);
    redisFree(c);
    return failed;
}

/* The node a case killed (node[] index and port), or -1: restarted by
 * pm_heal if that case failed before it could, so that the next cases find
 * six nodes (and a failure is reported, not a crash on node[i] == NULL). */
static int pm_dead = -1, pm_dead_port;

static void pm_heal(void)
{
    if (pm_dead < 0)
        return;
    if (!node[pm_dead])
        restart_node(pm_dead, pm_dead_port);
    pm_dead = -1;
    for (int i = 0; i < NNODES; i++) {
        pm_exec(i, "CONFIG SET cluster-replica-no-failover no");
        pm_exec(i, "CONFIG SET cluster-require-full-coverage yes");
    }
}

/* /readyz: its status, and its cluster object's members. */
struct pm_ready {
    int status;
    long long masters, writable, unowned, unavailable;
    char message[256];
};

static struct pm_ready pm_readyz(struct gc_server *srv)
{
    struct pm_ready out = {0};
    struct http_resp *r = h_http(srv, "GET", "/readyz", NULL, NULL, NULL);
    ck_assert(r);
    out.status = r->status;
    json_t *cl = json_object_get(r->json, "cluster");
    out.masters = json_integer_value(json_object_get(cl, "masters"));
    out.writable = json_integer_value(json_object_get(cl, "masters_writable"));
    out.unowned = json_integer_value(json_object_get(cl, "slots_unowned"));
    out.unavailable = json_integer_value(json_object_get(cl, "slots_unavailable"));
    const char *msg =
        json_string_value(json_object_get(json_object_get(r->json, "error"), "message"));
    snprintf(out.message, sizeof out.message, "%s", msg ? msg : "");
    h_resp_free(r);
    return out;
}

/* Waits until /readyz answers 200 naming `writable` writable masters;
 * returns how long that took (ms). */
static long long pm_wait_writable(struct gc_server *srv, long long writable, int timeout_ms)
{
    long long t0 = h_now_ms(), until = t0 + h_ms(timeout_ms);
    for (;;) {
        struct pm_ready rd = pm_readyz(srv);
        if (rd.status == 200 && rd.writable == writable)
            return h_now_ms() - t0;
        ck_assert_msg(h_now_ms() < until,
                      "/readyz: %d, %lld masters writable (waiting for %lld), %lld slots "
                      "unavailable",
                      rd.status, rd.writable, writable, rd.unavailable);
        h_sleep_ms(50);
    }
}

/* POST /api/v1/contacts for gid under Idempotency-Key idem; the answer. */
static struct http_resp *pm_contact(struct gc_server *srv, const char *gid, const char *idem)
{
    char body[128], hdr[128];
    snprintf(body, sizeof body, "{\"graduate_id\":\"%s\",\"service\":\"job_referral\"}", gid);
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem);
    const char *headers[2] = {hdr, NULL};
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_ADMIN, body, headers);
    ck_assert(r);
    return r;
}

/* A 503 + Retry-After whose error code is `code`. */
static void pm_expect_503(struct http_resp *r, const char *code, const char *county)
{
    char ra[16];
    ck_assert_msg(r->status == 503, "county %s: %d %s", county, r->status, r->body);
    ck_assert_msg(h_header(r, "Retry-After", ra, sizeof ra), "county %s: no Retry-After", county);
    const char *got = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    ck_assert_msg(got && strcmp(got, code) == 0, "county %s: %s", county, r->body);
}

/* One graduate per county (ids prefix-<county>, national IDs from seq0),
 * and each county's counts after it: reg[k], srv[k]. */
static void pm_register_all(struct gc_server *srv, const char *prefix, int seq0, long long *reg,
                            long long *served)
{
    for (int k = 0; k < NCOUNTIES; k++) {
        char id[32];
        snprintf(id, sizeof id, "%s-%.8s", prefix, counties[k]);
        h_register(srv, T_ADMIN, id, counties[k], seq0 + k, NULL);
        h_counts(srv, counties[k], "", &reg[k], &served[k]);
    }
}

/* The counties on[] (those of a master that was away or refusing) take
 * again the contact they were refused (graduate <gp>-<code>, key
 * <ip>-<code>): 201; then every county counts reg[k] registered and
 * served[k] + 1 served, each contact once. */
static void pm_expect_written(struct gc_server *srv, const bool *on, const char *gp, const char *ip,
                              const long long *reg, const long long *served, const char *when)
{
    for (int k = 0; k < NCOUNTIES; k++) {
        if (!on[k])
            continue;
        char gid[32], idem[32];
        snprintf(gid, sizeof gid, "%s-%.8s", gp, counties[k]);
        snprintf(idem, sizeof idem, "%s-%.8s", ip, counties[k]);
        struct http_resp *r = pm_contact(srv, gid, idem);
        ck_assert_msg(r->status == 201, "county %s %s: %d %s", counties[k], when, r->status,
                      r->body);
        h_resp_free(r);
    }
    for (int k = 0; k < NCOUNTIES; k++) {
        long long r2, s2;
        h_counts(srv, counties[k], "", &r2, &s2);
        ck_assert_int_eq(r2, reg[k]);
        ck_assert_int_eq(s2, served[k] + 1);
    }
}

/* Counties served by the master at port: on[k]; returns how many. */
static int pm_counties_on(int port, bool *on)
{
    int n = 0;
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%.8s}", counties[k]);
        on[k] = pm_owner_of(key) == port;
        n += on[k];
    }
    return n;
}

/* A master SIGKILLed (its replica kept from taking over until the checks
 * are made: cluster-replica-no-failover): its counties' contacts answer 503
 * redis_unavailable + Retry-After at once, every other county's 201;
 * /readyz stays 200 and names 2 of 3 masters writable and the slots
 * without a writable master; /metrics names the master. Then the replica
 * takes over: /readyz names 3 writable masters again, the same contacts
 * (same Idempotency-Keys) answer 201, every county counted exactly once. */
START_TEST(test_gradcoverd_answers_per_master_while_one_is_away)
{
    int victim = pm_victim(), vport = node[victim]->port;
    int replica = pm_replica_of(vport);
    int seed = 0;
    while (seed == victim || seed == replica)
        seed++;
    pm_exec(replica, "CONFIG SET cluster-replica-no-failover yes");
    /* As docs/operations.md advises: the other masters keep serving once
     * the dead one is marked failed (Redis's default stops them all). */
    for (int i = 0; i < NNODES; i++)
        pm_exec(i, "CONFIG SET cluster-require-full-coverage no");
    const char *cfg = cluster_config("per-master");
    char url[64];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[seed]->port);
    const char *const args[] = {NULL};
    struct gc_server *srv = h_start(cfg, args, url, true);
    ck_assert_int_eq(pm_wait_writable(srv, NMASTERS, 10000) >= 0, 1);
    long long reg[NCOUNTIES], served[NCOUNTIES];
    pm_register_all(srv, "PM", 3000, reg, served);
    bool on[NCOUNTIES];
    int away = pm_counties_on(vport, on);
    ck_assert_int_gt(away, 0);
    ck_assert_int_lt(away, NCOUNTIES);

    pm_dead = victim;
    pm_dead_port = vport;
    h_redis_stop(node[victim], true);
    free(node[victim]);
    node[victim] = NULL;
    long long noticed_ms = pm_wait_writable(srv, NMASTERS - 1, 10000);
    struct pm_ready rd = pm_readyz(srv);
    ck_assert_int_eq(rd.masters, NMASTERS); /* the map still names it: no failover yet */
    ck_assert_int_eq(rd.unowned, 0);
    ck_assert_int_gt(rd.unavailable, 0);
    ck_assert_int_lt(rd.unavailable, SLOTMAP_SLOTS);
    long long t0 = h_now_ms(), slowest_503 = 0;
    for (int k = 0; k < NCOUNTIES; k++) {
        char gid[32], idem[32];
        snprintf(gid, sizeof gid, "PM-%.8s", counties[k]);
        snprintf(idem, sizeof idem, "pm-%.8s", counties[k]);
        long long t = h_now_ms();
        struct http_resp *r = pm_contact(srv, gid, idem);
        if (on[k]) {
            pm_expect_503(r, "redis_unavailable", counties[k]);
            if (h_now_ms() - t > slowest_503)
                slowest_503 = h_now_ms() - t;
        } else {
            ck_assert_msg(r->status == 201, "county %s: %d %s", counties[k], r->status, r->body);
        }
        h_resp_free(r);
    }
    long long sweep_ms = h_now_ms() - t0;
    /* Answered at once, not after the router's deadline (1.5 s). */
    ck_assert_int_lt(slowest_503, h_ms(1000));
    rd = pm_readyz(srv);
    ck_assert_int_eq(rd.status, 200);
    ck_assert_int_eq(rd.writable, NMASTERS - 1);
    struct http_resp *m = h_http(srv, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert(m && m->status == 200);
    char line[128];
    snprintf(line, sizeof line,
             "gradcover_redis_cluster_master_writable{master=\"127.0.0.1:%d\"} 0\n", vport);
    ck_assert_msg(strstr(m->body, line), "%s", m->body);
    ck_assert_msg(strstr(m->body, "gradcover_redis_cluster_masters_writable 2\n"), "%s", m->body);
    h_resp_free(m);

    /* Once the cluster has marked it failed (cluster-node-timeout), still
     * the same: its counties 503, the others 201 (a second contact each). */
    long long fail_until = h_now_ms() + h_ms(15000);
    while (!pm_marked_failed(seed, vport)) {
        ck_assert_msg(h_now_ms() < fail_until, "the killed master is never marked failed");
        h_sleep_ms(100);
    }
    for (int k = 0; k < NCOUNTIES; k++) {
        char gid[32], idem[32];
        snprintf(gid, sizeof gid, "PM-%.8s", counties[k]);
        snprintf(idem, sizeof idem, "pm2-%.8s", counties[k]);
        struct http_resp *r = pm_contact(srv, gid, idem);
        if (on[k])
            pm_expect_503(r, "redis_unavailable", counties[k]);
        else
            ck_assert_msg(r->status == 201, "county %s, its master failed: %d %s", counties[k],
                          r->status, r->body);
        h_resp_free(r);
    }
    ck_assert_int_eq(pm_readyz(srv).status, 200);
    /* Redis's default (full coverage): the cluster refuses every query now
     * (CLUSTERDOWN), and every server is unready, saying so; back to no,
     * ready again. */
    pm_full_coverage("yes");
    long long down_until = h_now_ms() + h_ms(10000);
    struct pm_ready down;
    while ((down = pm_readyz(srv)).status != 503) {
        ck_assert_msg(h_now_ms() < down_until, "/readyz stays 200 while the cluster is down");
        h_sleep_ms(50);
    }
    ck_assert_msg(strstr(down.message, "CLUSTERDOWN"), "%s", down.message);
    struct http_resp *other = NULL;
    for (int k = 0; k < NCOUNTIES && !other; k++)
        if (!on[k]) {
            char gid[32], idem[32];
            snprintf(gid, sizeof gid, "PM-%.8s", counties[k]);
            snprintf(idem, sizeof idem, "pm3-%.8s", counties[k]);
            other = pm_contact(srv, gid, idem);
            pm_expect_503(other, "redis_unavailable", counties[k]);
            h_resp_free(other);
        }
    pm_full_coverage("no");
    pm_wait_writable(srv, NMASTERS - 1, 10000);

    /* The replica takes over; every county writes again. */
    pm_exec(replica, "CONFIG SET cluster-replica-no-failover no");
    long long back_ms = pm_wait_writable(srv, NMASTERS, 30000);
    rd = pm_readyz(srv);
    ck_assert_int_eq(rd.unavailable, 0);
    pm_expect_written(srv, on, "PM", "pm", reg, served, "after the failover");
    fprintf(stderr,
            "cluster.per_master away_counties=%d noticed_ms=%lld sweep_ms=%lld slowest_503_ms=%lld "
            "writable_again_ms=%lld\n",
            away, noticed_ms, sweep_ms, slowest_503, back_ms);
    ck_assert_int_eq(h_stop(srv), 0);
    pm_heal();
}
END_TEST

/* INFO stats' total_connections_received on c. */
static long long pm_connections(redisContext *c)
{
    redisReply *r = redisCommand(c, "INFO stats");
    ck_assert(r && r->type == REDIS_REPLY_STRING);
    const char *p = strstr(r->str, "total_connections_received:");
    ck_assert(p);
    long long n = atoll(p + strlen("total_connections_received:"));
    freeReplyObject(r);
    return n;
}

/* A master out of memory (CONFIG SET maxmemory 1, noeviction): its own
 * probe is refused within a second, its counties' contacts answer 503
 * redis_refusing_writes + Retry-After and every other county's 201, /readyz
 * stays 200 (2 of 3 masters writable). maxmemory back to 0: its probe
 * answers and its counties write again, on the same connection (the node
 * received no new connection: no reconnect cleared the refusal). */
START_TEST(test_gradcoverd_refusing_master_refuses_its_counties_only)
{
    pm_heal();
    int victim = pm_victim(), vport = node[victim]->port;
    const char *cfg = cluster_config("refusing-master");
    char url[64];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[(victim + 1) % NNODES]->port);
    const char *const args[] = {NULL};
    struct gc_server *srv = h_start(cfg, args, url, true);
    pm_wait_writable(srv, NMASTERS, 10000);
    long long reg[NCOUNTIES], served[NCOUNTIES];
    pm_register_all(srv, "PR", 3100, reg, served);
    bool on[NCOUNTIES];
    int refusing = pm_counties_on(vport, on);
    ck_assert_int_gt(refusing, 0);

    redisContext *vc = connect_node(victim); /* the test's one connection to it */
    long long conns0 = pm_connections(vc);
    redisReply *x = redisCommand(vc, "CONFIG SET maxmemory 1");
    ck_assert(x && x->type != REDIS_REPLY_ERROR);
    freeReplyObject(x);
    long long refused_ms = pm_wait_writable(srv, NMASTERS - 1, 10000);
    for (int k = 0; k < NCOUNTIES; k++) {
        char gid[32], idem[32];
        snprintf(gid, sizeof gid, "PR-%.8s", counties[k]);
        snprintf(idem, sizeof idem, "pr-%.8s", counties[k]);
        struct http_resp *r = pm_contact(srv, gid, idem);
        if (on[k])
            pm_expect_503(r, "redis_refusing_writes", counties[k]);
        else
            ck_assert_msg(r->status == 201, "county %s: %d %s", counties[k], r->status, r->body);
        h_resp_free(r);
    }
    ck_assert_int_eq(pm_readyz(srv).status, 200);

    x = redisCommand(vc, "CONFIG SET maxmemory 0");
    ck_assert(x && x->type != REDIS_REPLY_ERROR);
    freeReplyObject(x);
    long long accepted_ms = pm_wait_writable(srv, NMASTERS, 10000);
    pm_expect_written(srv, on, "PR", "pr", reg, served, "after maxmemory 0");
    ck_assert_int_eq(pm_connections(vc), conns0);
    redisFree(vc);
    fprintf(stderr,
            "cluster.refusing_master counties=%d refused_seen_ms=%lld accepted_seen_ms=%lld\n",
            refusing, refused_ms, accepted_ms);
    ck_assert_int_eq(h_stop(srv), 0);
}
END_TEST

/* ACL SETUSER gradcoverd on every node, with the rules of the fixture's
 * users.acl (deploy/redis-users.acl's line, the test password), then
 * `more` (e.g. "-cluster|slots"; NULL none). */
static void pm_acl_user(const char *more)
{
    char path[600], line[4096];
    snprintf(path, sizeof path, "%s/users.acl", getenv("GC_FIXTURE_DIR"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "%s", path);
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, "user gradcoverd ", 16) == 0;
    fclose(f);
    ck_assert_msg(found, "no gradcoverd user in %s", path);
    const char *argv[256] = {"ACL", "SETUSER", "gradcoverd", "reset"};
    int argc = 4;
    for (char *save = NULL, *tok = strtok_r(line + 16, " \n", &save); tok && argc < 255;
         tok = strtok_r(NULL, " \n", &save))
        argv[argc++] = tok;
    if (more)
        argv[argc++] = more;
    for (int i = 0; i < NNODES; i++) {
        redisContext *c = connect_node(i);
        redisReply *r = redisCommandArgv(c, argc, argv, NULL);
        ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "node %d: %s", i,
                      r && r->str ? r->str : "no answer");
        freeReplyObject(r);
        redisFree(c);
    }
}

/* gradcoverd on the cluster as the ACL user of deploy/redis-users.acl
 * (loaded on every node): without +cluster|slots it never learns the map
 * (/readyz 503 saying so: the test can fail); with the shipped rules it
 * gets ready, every master's own probe and checks pass (3 writable), and
 * contacts in counties of every master are counted; no NOPERM logged.
 * ASKING, sent only while a slot migrates, is allowed by the same rules
 * (ACL DRYRUN). */
START_TEST(test_gradcoverd_on_the_cluster_as_the_acl_user)
{
    pm_heal();
    pm_acl_user("-cluster|slots");
    const char *cfg = cluster_config("acl-user");
    char url[128];
    snprintf(url, sizeof url, "redis-cluster://gradcoverd:gradcoverd-test-password@127.0.0.1:%d",
             node[1]->port);
    const char *const args[] = {NULL};
    struct gc_server *srv = h_start(cfg, args, url, false);
    h_sleep_ms(h_ms(1500));
    struct pm_ready rd = pm_readyz(srv);
    ck_assert_int_eq(rd.status, 503);
    ck_assert_msg(strstr(rd.message, "no slot map"), "%s", rd.message);

    pm_acl_user(NULL);
    for (int i = 0; i < NNODES; i++) {
        redisContext *c = connect_node(i);
        redisReply *r = redisCommand(c, "ACL DRYRUN gradcoverd ASKING");
        ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "ASKING: %s", r && r->str ? r->str : "");
        freeReplyObject(r);
        r = redisCommand(c, "ACL DRYRUN gradcoverd CLUSTER SLOTS");
        ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "CLUSTER SLOTS: %s",
                      r && r->str ? r->str : "");
        freeReplyObject(r);
        redisFree(c);
    }
    pm_wait_writable(srv, NMASTERS, 10000);
    /* Two counties of each master. */
    int per_master[SLOTMAP_NODES_MAX] = {0}, done = 0;
    for (int k = 0; k < NCOUNTIES; k++) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%.8s}", counties[k]);
        int i = pm_node_at(pm_owner_of(key));
        ck_assert_int_ge(i, 0);
        if (per_master[i] >= 2)
            continue;
        per_master[i]++;
        char gid[32];
        long long reg0, srv0, reg1, srv1;
        h_counts(srv, counties[k], "", &reg0, &srv0);
        snprintf(gid, sizeof gid, "PA-%.8s", counties[k]);
        h_register(srv, T_ADMIN, gid, counties[k], 3200 + k, NULL);
        ck_assert_int_eq(h_contact(srv, T_ADMIN, gid, NULL, gid), 201);
        h_counts(srv, counties[k], "", &reg1, &srv1);
        ck_assert_int_eq(reg1, reg0 + 1);
        ck_assert_int_eq(srv1, srv0 + 1);
        done++;
    }
    ck_assert_int_eq(done, 2 * NMASTERS);
    char log[sizeof srv->log_path];
    snprintf(log, sizeof log, "%s", srv->log_path);
    ck_assert_int_eq(h_stop(srv), 0);
    FILE *f = fopen(log, "r");
    ck_assert(f);
    char buf[2048];
    int noperm = 0;
    while (fgets(buf, sizeof buf, f))
        if (strstr(buf, "event=redis_error") && strstr(buf, "kind=noperm") &&
            !strstr(buf, "CLUSTER|SLOTS") && !strstr(buf, "cluster|slots"))
            noperm++;
    fclose(f);
    ck_assert_int_eq(noperm, 0);
    for (int i = 0; i < NNODES; i++)
        pm_exec(i, "ACL DELUSER gradcoverd");
}
END_TEST

/* CLUSTER SLOTS naming nodes by host name (cluster-preferred-endpoint-type
 * hostname): first with no hostname announced (Redis names every node "?"),
 * then with every node announcing "localhost". The router, seeded by
 * address, refuses the map (connecting by name would block the loop in
 * getaddrinfo; "?" names no node): not ready, and says why. Once the
 * cluster names addresses again it gets ready by itself. */
START_TEST(test_router_refuses_a_map_of_host_names)
{
    pm_heal();
    for (int i = 0; i < NNODES; i++)
        pm_exec(i, "CONFIG SET cluster-preferred-endpoint-type hostname");
    char url[64], err[128];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[0]->port);
    struct redis_target t;
    ck_assert_msg(redis_url_parse(url, &t, err, sizeof err), "%s", err);
    struct cluster *c = cluster_new(base, &t, h_ms(OP_TIMEOUT_MS));
    ck_assert(c);
    ck_assert(!run_until(is_ready, c, 1500));
    const char *why = cluster_down_reason(c);
    ck_assert_msg(why && strstr(why, "host name"), "%s", why ? why : "(ready)");
    struct cluster_stats st;
    cluster_stats(c, &st);
    ck_assert_int_gt(st.refresh_fails, 0);
    ck_assert_int_eq(st.refreshes, 0);
    for (int i = 0; i < NNODES; i++)
        pm_exec(i, "CONFIG SET cluster-announce-hostname localhost");
    uint64_t fails = st.refresh_fails;
    ck_assert(!run_until(is_ready, c, 1500));
    cluster_stats(c, &st);
    ck_assert_int_gt(st.refresh_fails, fails);
    ck_assert_int_eq(st.refreshes, 0);
    for (int i = 0; i < NNODES; i++)
        pm_exec(i, "CONFIG SET cluster-preferred-endpoint-type ip");
    ck_assert_msg(run_until(is_ready, c, 10000), "not ready once the map names addresses");
    ck_assert_ptr_null(cluster_down_reason(c));
    cluster_free(c);
    for (int i = 0; i < NNODES; i++) {
        redisContext *n = connect_node(i);
        redisReply *r = redisCommand(n, "CONFIG SET cluster-announce-hostname %s", "");
        ck_assert(r && r->type == REDIS_REPLY_STATUS);
        freeReplyObject(r);
        redisFree(n);
    }
}
END_TEST

/* A seed given by name (localhost) is resolved once at start, before the
 * loop: the router's node for it is an address (hiredis would otherwise
 * resolve the name with a blocking getaddrinfo at each connect). Where
 * localhost resolves to something else first than 127.0.0.1 (the nodes
 * listen there only), the case says so and checks nothing. */
START_TEST(test_gradcoverd_resolves_cluster_seeds_at_start)
{
    pm_heal();
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    ck_assert_int_eq(getaddrinfo("localhost", NULL, &hints, &res), 0);
    char first[INET6_ADDRSTRLEN] = "";
    if (res->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, first, sizeof first);
    freeaddrinfo(res);
    if (strcmp(first, "127.0.0.1") != 0) {
        fprintf(stderr, "cluster.seed_names skipped: localhost is not 127.0.0.1 first here\n");
        return;
    }
    const char *cfg = cluster_config("seed-name");
    char url[64];
    snprintf(url, sizeof url, "redis-cluster://localhost:%d", node[2]->port);
    const char *const args[] = {NULL};
    struct gc_server *srv = h_start(cfg, args, url, true);
    pm_wait_writable(srv, NMASTERS, 10000);
    char log[sizeof srv->log_path];
    snprintf(log, sizeof log, "%s", srv->log_path);
    ck_assert_int_eq(h_stop(srv), 0);
    FILE *f = fopen(log, "r");
    ck_assert(f);
    char buf[2048], seed[64];
    snprintf(seed, sizeof seed, "event=cluster_node_added host=127.0.0.1 port=%d\n", node[2]->port);
    bool resolved = false, added = false, by_name = false;
    while (fgets(buf, sizeof buf, f)) {
        resolved |= strstr(buf, "event=redis_host_resolved host=localhost addr=127.0.0.1") != NULL;
        added |= strstr(buf, seed) != NULL;
        by_name |= strstr(buf, "host=localhost") && strstr(buf, "event=cluster_node_added");
    }
    fclose(f);
    ck_assert_msg(resolved && added && !by_name, "log: %s", log);
}
END_TEST

/* ---- the counter cache per master (ccache.c) ----
 * gradcoverd A reads with the counter cache on; gradcoverd B writes with it
 * off (its coverage is read straight from the masters: the truth). A hears
 * of B's writes only through the masters' invalidations, so a stale entry
 * shows as a difference between A and B. */

/* Codes no other test writes: their keys do not exist until this block. */
#define CC_FRESH 3
static const char *const cc_fresh[CC_FRESH] = {"612901", "612902", "612903"};
/* National ids of this block's graduates start here (others use < 2000). */
static int cc_seq = 7000;

static const char *cc_config(const char *name, bool cache)
{
    json_t *cfg = h_default_config();
    json_t *list = json_array();
    for (int k = 0; k < NCOUNTIES; k++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "code", counties[k], "name", "县"));
    for (int k = 0; k < CC_FRESH; k++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "code", cc_fresh[k], "name", "新"));
    json_object_set_new(cfg, "counties", list);
    json_t *admin = json_incref(json_array_get(json_object_get(cfg, "tokens"), 0));
    json_object_set_new(cfg, "tokens", json_pack("[o]", admin));
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    json_object_set_new(cfg, "counter_cache", cache ? json_true() : json_false());
    const char *path = h_write_config(cfg, name);
    json_decref(cfg);
    return path;
}

static struct gc_server *cc_start(const char *cfg, int seed)
{
    char url[64];
    snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", node[seed]->port);
    const char *const args[] = {NULL};
    return h_start(cfg, args, url, true);
}

static long long cc_metric(struct gc_server *s, const char *series)
{
    char *text = h_metrics_text(s, T_ADMIN);
    long long v = h_metric_value(text, series);
    free(text);
    return v;
}

static void cc_wait_ready(struct gc_server *s)
{
    long long until = h_now_ms() + h_ms(20000);
    while (cc_metric(s, "gradcover_county_cache_ready") != 1) {
        ck_assert_msg(h_now_ms() < until, "the counter cache did not come up on every master");
        h_sleep_ms(50);
    }
}

/* Registered and served of county from GET /api/v1/coverage (every county:
 * the read through the cache, when on). */
static void cc_coverage(struct gc_server *s, const char *county, long long *reg, long long *srv)
{
    struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "coverage: %d %s", r ? r->status : 0,
                  r ? r->body : "none");
    json_t *list = json_object_get(r->json, "counties");
    size_t i;
    json_t *e;
    *reg = *srv = -1;
    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), county) == 0) {
            *reg = json_integer_value(json_object_get(e, "registered"));
            *srv = json_integer_value(json_object_get(e, "served"));
        }
    }
    h_resp_free(r);
    ck_assert_msg(*reg >= 0, "county %s not in coverage", county);
}

/* The same two from /metrics (the other read through the cache). */
static void cc_metrics_counts(struct gc_server *s, const char *county, long long *reg,
                              long long *srv)
{
    char *text = h_metrics_text(s, T_ADMIN);
    char name[160];
    snprintf(name, sizeof name, "gradcover_registered_graduates{county=\"%s\",period=\"", county);
    const char *p = strstr(text, name);
    ck_assert_msg(p, "no %s in /metrics", name);
    char year[8];
    snprintf(year, sizeof year, "%.4s", p + strlen(name));
    snprintf(name, sizeof name, "gradcover_registered_graduates{county=\"%s\",period=\"%s\"}",
             county, year);
    *reg = h_metric_value(text, name);
    snprintf(name, sizeof name, "gradcover_served_graduates{county=\"%s\",period=\"%s\"}", county,
             year);
    *srv = h_metric_value(text, name);
    free(text);
}

/* A (cache) agrees with B (no cache) and with what the test wrote, through
 * coverage and /metrics, right after a write. */
static void cc_expect(struct gc_server *a, struct gc_server *b, const char *county, long long reg,
                      long long srv, const char *after)
{
    long long r, v, br, bv;
    cc_coverage(b, county, &br, &bv);
    ck_assert_msg(br == reg && bv == srv, "%s: B says %lld/%lld, want %lld/%lld", after, br, bv,
                  reg, srv);
    cc_coverage(a, county, &r, &v);
    ck_assert_msg(r == reg && v == srv,
                  "%s: county %s through the cache: coverage %lld/%lld, want %lld/%lld", after,
                  county, r, v, reg, srv);
    cc_metrics_counts(a, county, &r, &v);
    ck_assert_msg(r == reg && v == srv,
                  "%s: county %s through the cache: /metrics %lld/%lld, want %lld/%lld", after,
                  county, r, v, reg, srv);
}

/* One graduate registered in county through s, and contacted when contact;
 * its id in id. */
static void cc_write(struct gc_server *s, const char *county, bool contact, char *id, size_t n)
{
    snprintf(id, n, "CC%s-%d", county, cc_seq);
    h_register(s, T_ADMIN, id, county, cc_seq++, NULL);
    if (contact) {
        char key[64];
        snprintf(key, sizeof key, "cc-%s", id);
        ck_assert_int_eq(h_contact(s, T_ADMIN, id, NULL, key), 201);
    }
}

static unsigned cc_slot(const char *county)
{
    char key[32];
    snprintf(key, sizeof key, "gc:{%s}:cnt", county);
    return slotmap_keyslot(key, strlen(key));
}

/* HMGETs the live nodes have run so far (INFO commandstats). */
static long long cc_hmgets(void)
{
    long long total = 0;
    for (int i = 0; i < NNODES; i++) {
        if (!node[i])
            continue;
        redisContext *c = connect_node(i);
        redisReply *r = redisCommand(c, "INFO commandstats");
        const char *p =
            r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "cmdstat_hmget:calls=") : NULL;
        if (p)
            total += atoll(p + strlen("cmdstat_hmget:calls="));
        freeReplyObject(r);
        redisFree(c);
    }
    return total;
}

/* Counties on all three masters, written through B, read through A after
 * every write: always exact; the cache really serves (hits grow while
 * nothing changes) and hears each master (invalidations grow). */
START_TEST(test_ccache_exact_on_every_master)
{
    struct gc_server *a = cc_start(cc_config("cc-a", true), 0);
    struct gc_server *b = cc_start(cc_config("cc-b", false), 1);
    cc_wait_ready(a);
    ck_assert_int_eq(cc_metric(b, "gradcover_county_cache_ready"), 0);
    /* One county per master. */
    const char *pick[NMASTERS];
    int ports[NMASTERS], np = 0;
    for (int k = 0; k < NCOUNTIES && np < NMASTERS; k++) {
        int port = owner_port(counties[k], NULL);
        bool seen = false;
        for (int j = 0; j < np; j++)
            seen = seen || ports[j] == port;
        if (!seen) {
            ports[np] = port;
            pick[np++] = counties[k];
        }
    }
    ck_assert_int_eq(np, NMASTERS);
    long long reg[NMASTERS], srv[NMASTERS];
    for (int m = 0; m < NMASTERS; m++)
        cc_coverage(b, pick[m], &reg[m], &srv[m]);
    /* Warm: every county read once through the cache. */
    for (int m = 0; m < NMASTERS; m++)
        cc_expect(a, b, pick[m], reg[m], srv[m], "before any write");
    long long hits0 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}");
    long long inval0 = cc_metric(a, "gradcover_county_cache_invalidations_total");
    for (int round = 0; round < 3; round++)
        for (int m = 0; m < NMASTERS; m++) {
            char id[48], what[96];
            cc_write(b, pick[m], false, id, sizeof id);
            reg[m]++;
            snprintf(what, sizeof what, "round %d, registered on master :%d", round, ports[m]);
            cc_expect(a, b, pick[m], reg[m], srv[m], what);
            char key[64];
            snprintf(key, sizeof key, "cc-%s", id);
            ck_assert_int_eq(h_contact(b, T_ADMIN, id, NULL, key), 201);
            srv[m]++;
            snprintf(what, sizeof what, "round %d, served on master :%d", round, ports[m]);
            cc_expect(a, b, pick[m], reg[m], srv[m], what);
        }
    long long hits1 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}");
    long long miss1 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"miss\"}");
    long long inval1 = cc_metric(a, "gradcover_county_cache_invalidations_total");
    /* 18 writes, each followed by 2 reads of 53 counties: nearly all hits. */
    ck_assert_msg(hits1 - hits0 >= 18 * 2 * (NCOUNTIES + CC_FRESH - 3), "hits %lld -> %lld", hits0,
                  hits1);
    ck_assert_msg(miss1 >= 18, "misses %lld", miss1);
    ck_assert_msg(inval1 - inval0 >= 18, "invalidations %lld -> %lld", inval0, inval1);
    /* Nothing written: the next reads are all hits. */
    long long h2 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}");
    long long m2 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"miss\"}");
    cc_coverage(a, pick[0], &reg[0], &srv[0]);
    ck_assert_int_eq(cc_metric(a, "gradcover_county_cache_lookups_total{result=\"miss\"}"), m2);
    ck_assert_int_ge(cc_metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}"),
                     h2 + 2 * (NCOUNTIES + CC_FRESH));
    fprintf(stderr, "cluster.ccache hits=%lld misses=%lld invalidations=%lld\n", hits1, miss1,
            inval1);
    /* What a read costs, nothing written meanwhile: through the cache (a
     * barrier and CLUSTER SLOTS per master, then nothing) and without (an
     * HMGET per county, one round per master). Times printed only. */
    long long q0 = cc_hmgets(), t0 = h_now_ms();
    for (int n = 0; n < 50; n++)
        cc_coverage(a, pick[0], &reg[0], &srv[0]);
    long long q1 = cc_hmgets(), t1 = h_now_ms();
    for (int n = 0; n < 50; n++)
        cc_coverage(b, pick[0], &reg[0], &srv[0]);
    long long q2 = cc_hmgets(), t2 = h_now_ms();
    fprintf(stderr,
            "cluster.ccache_read counties=%d reads=50 cached_ms=%lld cached_hmgets=%lld "
            "direct_ms=%lld direct_hmgets=%lld\n",
            NCOUNTIES + CC_FRESH, t1 - t0, q1 - q0, t2 - t1, q2 - q1);
    /* B's reads: one HMGET per county each; A's none (what runs then is
     * the servers' background work: alert evaluations' scripts). */
    ck_assert_int_ge(q2 - q1, 50 * (NCOUNTIES + CC_FRESH));
    ck_assert_int_lt(10 * (q1 - q0), q2 - q1);
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
}
END_TEST

/* A county's slot migrated to another master while A holds it: coverage
 * through A stays exact after writes on the new master, for a county with
 * keys (they move: the old master's delete is an invalidation), for one
 * without (nothing moves, nothing is invalidated: only the slot's owner
 * changed, which A learns from its check of the old master), and for one
 * without whose first write after the move goes through A itself (A's
 * router meets MOVED and changes its map before A reads again: only the
 * rule "a county whose master changed loses its entry" keeps it exact, as
 * the new master never tracked it for A). */
START_TEST(test_ccache_follows_a_migrated_slot)
{
    struct gc_server *a = cc_start(cc_config("cc-a", true), 0);
    struct gc_server *b = cc_start(cc_config("cc-b", false), 2);
    cc_wait_ready(a);
    const char *moved[3] = {counties[7], cc_fresh[0], cc_fresh[1]};
    for (int k = 0; k < 3; k++) {
        const char *county = moved[k];
        long long reg, srv;
        cc_coverage(b, county, &reg, &srv);
        if (k > 0)
            ck_assert_int_eq(reg, 0); /* no key yet */
        cc_expect(a, b, county, reg, srv, "before the move");
        cc_expect(a, b, county, reg, srv, "cached, before the move");
        int other = 0, from = owner_port(county, &other);
        ck_assert(migrate_slot(cc_slot(county), from, other, 0, NULL));
        long long until = h_now_ms() + h_ms(5000);
        while (owner_port(county, NULL) != other) {
            ck_assert_msg(h_now_ms() < until, "slot %u not on :%d", cc_slot(county), other);
            h_sleep_ms(50);
        }
        char id[48], what[96];
        for (int w = 0; w < 3; w++) {
            cc_write(k == 2 && w == 0 ? a : b, county, w != 1, id, sizeof id);
            reg++;
            srv += w != 1;
            snprintf(what, sizeof what, "write %d on the new master :%d (was :%d)", w, other, from);
            cc_expect(a, b, county, reg, srv, what);
            cc_expect(a, b, county, reg, srv, what);
        }
    }
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
}
END_TEST

/* Sets master i's cluster-announce-port (0: its own) and waits until every
 * node's map names it there. */
static void cc_announce(int i, int port)
{
    redisContext *c = connect_node(i);
    redisReply *r = redisCommand(c, "CONFIG SET cluster-announce-port %d", port);
    ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "CONFIG SET cluster-announce-port: %s",
                  r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer");
    freeReplyObject(r);
    redisFree(c);
    int want = port ? port : node[i]->port;
    long long until = h_now_ms() + h_ms(15000);
    for (int k = 0; k < NNODES; k++) {
        for (;;) {
            struct slotmap *m = node[k] ? map_from(k) : NULL;
            bool named = !m || slotmap_find(m, "127.0.0.1", want) >= 0;
            slotmap_free(m);
            if (named)
                break;
            ck_assert_msg(h_now_ms() < until, "node %d does not name :%d", k, want);
            h_sleep_ms(50);
        }
    }
}

/* The answers of one master reach A 100 ms late (a proxy announced as its
 * address: every client of the cluster reaches it through the proxy), while
 * the test writes its county's counter straight to its real port: the
 * invalidation reaches A 100 ms after the write is acknowledged. A read
 * that trusted the cache without its barrier on that master would show the
 * old number. */
#define CC_LATE_WRITES 10
START_TEST(test_ccache_waits_for_late_invalidations)
{
    const char *county = counties[5];
    int port = owner_port(county, NULL), mi = -1;
    for (int i = 0; i < NNODES; i++)
        if (node[i] && node[i]->port == port)
            mi = i;
    ck_assert_int_ge(mi, 0);
    int pport = h_free_port();
    pid_t proxy = slow_proxy(pport, port, 100);
    cc_announce(mi, pport);
    struct gc_server *a = cc_start(cc_config("cc-a", true), (mi + 1) % NNODES);
    cc_wait_ready(a);
    long long reg, srv;
    cc_coverage(a, county, &reg, &srv);
    cc_coverage(a, county, &reg, &srv); /* cached */
    char name[160], year[8];
    char *text = h_metrics_text(a, T_ADMIN);
    snprintf(name, sizeof name, "gradcover_registered_graduates{county=\"%s\",period=\"", county);
    const char *p = strstr(text, name);
    ck_assert_ptr_nonnull(p);
    snprintf(year, sizeof year, "%.4s", p + strlen(name));
    free(text);
    redisContext *c = redisConnect("127.0.0.1", port);
    ck_assert(c && !c->err);
    long long hits0 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}");
    /* Ten writes: the CLUSTER SLOTS check goes through the proxy too, so
     * without the barrier a read is stale only when A happens to handle
     * its answer before the invalidation (about half the time). Checked
     * after the clean-up: a failure must not leave the proxy announced. */
    int bad = -1, written = 0;
    long long got = 0;
    for (int w = 0; w < CC_LATE_WRITES && bad < 0; w++, written++) {
        redisReply *r = redisCommand(c, "HINCRBY gc:{%s}:cnt r:%s 1", county, year);
        ck_assert(r && r->type == REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        long long s;
        cc_coverage(a, county, &got, &s);
        if (got != reg + w + 1)
            bad = w;
    }
    long long hits1 = cc_metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}");
    redisReply *r = redisCommand(c, "HINCRBY gc:{%s}:cnt r:%s %d", county, year, -written);
    freeReplyObject(r);
    redisFree(c);
    int stopped = h_stop(a);
    cc_announce(mi, 0);
    kill(proxy, SIGKILL);
    waitpid(proxy, NULL, 0);
    ck_assert_msg(bad < 0, "write %d: %lld registered through the cache, want %lld", bad, got,
                  reg + bad + 1);
    ck_assert_int_gt(hits1, hits0);
    ck_assert_int_eq(stopped, 0);
}
END_TEST

/* A master SIGKILLed: A's cache for it goes (gradcover_county_cache_ready
 * 0), its replica is promoted, and A's reads of its county are exact again
 * through the new master's pair; the killed node restarted rejoins as a
 * replica (three healthy masters again for the tests after this one). */
START_TEST(test_ccache_survives_a_master_failover)
{
    const char *county = counties[11];
    int port = owner_port(county, NULL), victim = -1;
    for (int i = 0; i < NNODES; i++)
        if (node[i] && node[i]->port == port)
            victim = i;
    ck_assert_int_ge(victim, 0);
    /* Seeded elsewhere: the killed node must not be the only seed. */
    struct gc_server *a = cc_start(cc_config("cc-a", true), (victim + 1) % NNODES);
    struct gc_server *b = cc_start(cc_config("cc-b", false), (victim + 2) % NNODES);
    cc_wait_ready(a);
    long long reg, srv;
    cc_coverage(b, county, &reg, &srv);
    cc_expect(a, b, county, reg, srv, "before the kill");
    cc_expect(a, b, county, reg, srv, "cached, before the kill");
    h_redis_stop(node[victim], true);
    free(node[victim]);
    node[victim] = NULL;
    long long killed = h_now_ms(), until = killed + h_ms(10000);
    while (cc_metric(a, "gradcover_county_cache_ready") != 0) {
        ck_assert_msg(h_now_ms() < until, "the cache still says ready without a master");
        h_sleep_ms(20);
    }
    /* Promoted: both servers ready again, the cache on the new master. */
    ck_assert_msg(h_wait_status(b, "/readyz", 200, 30000), "B not ready after the failover");
    ck_assert_msg(h_wait_status(a, "/readyz", 200, 30000), "A not ready after the failover");
    cc_wait_ready(a);
    fprintf(stderr, "cluster.ccache_failover ready_again_ms=%lld\n", h_now_ms() - killed);
    ck_assert_int_ne(owner_port(county, NULL), port);
    cc_expect(a, b, county, reg, srv, "after the failover");
    char id[48];
    for (int w = 0; w < 3; w++) {
        cc_write(b, county, w != 1, id, sizeof id);
        reg++;
        srv += w != 1;
        cc_expect(a, b, county, reg, srv, "a write on the promoted master");
    }
    restart_node(victim, port);
    cc_write(b, county, true, id, sizeof id);
    cc_expect(a, b, county, reg + 1, srv + 1, "the old master back as a replica");
    ck_assert_int_eq(cc_metric(a, "gradcover_county_cache_ready"), 1);
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
}
END_TEST

/* ---- gradcoverd over HTTP on the cluster, under load (issue 17's cluster
 * tests through the real API) ----
 * Two gradcoverd on the cluster, a recording load of keyed contacts
 * (loadgen.c, Idempotency-Keys, unacknowledged keys retried), and:
 * - a busy county's slot migrated key by key during the load: every key one
 *   contact (stored, counted, on /metrics), every county's coverage exact,
 *   the routers met ASK and MOVED (/metrics);
 * - an alert fired and resolved in a county on each master: each
 *   notification delivered exactly once by the two servers;
 * - the master of a busy county SIGKILLed: its replica promoted, the
 *   county's writes resume within cluster-node-timeout plus a few seconds,
 *   every key one contact after the retries; the killed node then rejoins
 *   as a replica and takes its slots back (CLUSTER FAILOVER), so the
 *   cluster is as before.
 * Each test has its own county codes (a cluster has only db 0). */
#include "fault.h"
#include "gradcover/domain/natid.h"
#include "receiver.h"

#include "receiver.c"

#define HL_COUNTIES 50
#define HL_NGRAD 4 /* graduates per county */
/* More keys than a load sends before lg_stop ends it (~2,000 contacts/s
 * here; the requests after lg_stop are never sent and not counted). */
#define HL_MAXREQ 40000
#define HL_NCON 8
/* Registered (and contacts dated) in March: the coverage of period 2026. */
#define HL_REGISTERED_AT "2026-03-01T09:00:00+08:00"
#define HL_PERIOD "2026"

static char hl_cty[HL_COUNTIES][12]; /* %d of an int fits */

/* Codes base+1, base+20, ...: distinct from counties[] and from the other
 * tests' (their bases differ by 10,000). */
static void hl_make_counties(int code_base)
{
    for (int k = 0; k < HL_COUNTIES; k++)
        snprintf(hl_cty[k], sizeof hl_cty[k], "%d", code_base + 1 + 19 * k);
}

/* A valid national ID of region `region` (6 digits), distinct per seq <
 * 2,400: national IDs are unique across the cluster (gc:{@}:nid), so each
 * test takes its own region. Rotating static buffer. */
static const char *hl_natid(const char *region, int seq)
{
    static char bufs[4][32];
    static int slot;
    char *b = bufs[slot++ % 4];
    int day = seq % 300;
    snprintf(b, 32, "%.6s%04d%02d%02d%03d", region, 1995 + (seq / 300) % 8, 1 + day / 28,
             1 + day % 28, seq % 1000);
    b[17] = natid_check_char(b);
    b[18] = '\0';
    return b;
}

/* The default configuration with counties (n of them) and the admin token
 * only, per-token rate limits off (a load), alerts when given (stolen). */
static const char *hl_config(const char *name, char (*codes)[12], int n, json_t *alerts)
{
    json_t *cfg = h_default_config();
    json_t *list = json_array();
    for (int k = 0; k < n; k++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "code", codes[k], "name", "县"));
    json_object_set_new(cfg, "counties", list);
    json_t *admin = json_incref(json_array_get(json_object_get(cfg, "tokens"), 0));
    json_object_set_new(cfg, "tokens", json_pack("[o]", admin));
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    if (alerts)
        json_object_set_new(cfg, "alerts", alerts);
    const char *path = h_write_config(cfg, name);
    json_decref(cfg);
    return path;
}

/* gradcoverd on the cluster, seeded with every live node. */
static struct gc_server *hl_start(const char *cfg)
{
    char url[512] = "redis-cluster://";
    size_t n = strlen(url);
    for (int i = 0; i < NNODES; i++)
        if (node[i])
            n += (size_t)snprintf(url + n, sizeof url - n, "%s127.0.0.1:%d",
                                  url[n - 1] == '/' ? "" : ",", node[i]->port);
    const char *const args[] = {NULL};
    return h_start(cfg, args, url, true);
}

/* The graduate id of county k's graduate g (ids are unique across the
 * cluster, gc:{@}:gid: the code makes them so); "H<code>-" is the prefix
 * f_stored_ids wants. */
static void hl_gid(char *out, size_t n, int k, int g)
{
    snprintf(out, n, "H%.8s-%d", hl_cty[k], g);
}

/* HL_NGRAD graduates in each county, registered through srv[0] and srv[1]
 * in turn, national IDs of region. */
static void hl_register_all(struct gc_server *const *srv, const char *region)
{
    for (int k = 0; k < HL_COUNTIES; k++)
        for (int g = 0; g < HL_NGRAD; g++) {
            char gid[24];
            hl_gid(gid, sizeof gid, k, g);
            int seq = k * HL_NGRAD + g;
            json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", gid, "county", hl_cty[k],
                                  "name", "测试", "national_id", hl_natid(region, seq),
                                  "registered_at", HL_REGISTERED_AT);
            char *text = json_dumps(b, 0);
            json_decref(b);
            struct http_resp *r =
                h_http(srv[seq % 2], "POST", "/api/v1/graduates", T_ADMIN, text, NULL);
            free(text);
            ck_assert_msg(r && r->status == 201, "register %s: %d %s", gid, r ? r->status : 0,
                          r ? r->body : "");
            h_resp_free(r);
        }
}

/* A recording load through two servers: every other request for the busy
 * county, the rest over all 50 in turn; each county's contacts rotate over
 * its graduates; admin token (the graduate is found through gc:{@}, then
 * the county's contact script: both masters on the path). */
struct hl_load {
    int ports[2];
    struct lg_req *reqs;
    int *county; /* county index of reqs[i] */
    size_t sent; /* requests sent (after lg_wait) */
    struct lg_opts o;
    struct lg *g;
};

static void hl_load_start(struct hl_load *l, struct gc_server *const *srv, const char *tag,
                          int busy)
{
    memset(l, 0, sizeof *l);
    l->reqs = lg_reqs_new(HL_MAXREQ);
    l->county = calloc(HL_MAXREQ, sizeof *l->county);
    ck_assert(l->reqs && l->county);
    int next[HL_COUNTIES] = {0};
    for (size_t i = 0; i < HL_MAXREQ; i++) {
        int k = i % 4 < 2 ? busy : (int)(i / 4) % HL_COUNTIES;
        char key[48], gid[24];
        snprintf(key, sizeof key, "%s-%zu", tag, i);
        hl_gid(gid, sizeof gid, k, next[k]++ % HL_NGRAD);
        f_contact_req(&l->reqs[i], (int)(i % 2), T_ADMIN, key, gid);
        l->county[i] = k;
    }
    l->ports[0] = srv[0]->port;
    l->ports[1] = srv[1]->port;
    l->o = (struct lg_opts){.ports = l->ports,
                            .nports = 2,
                            .ncon = HL_NCON,
                            .gap_ms = 2,
                            .pause_ms = 20,
                            .timeout_ms = 10000};
    l->g = lg_start(l->reqs, HL_MAXREQ, &l->o);
    ck_assert_ptr_nonnull(l->g);
}

/* Ends the load; every answer was 201 or 503 + Retry-After (a write the
 * cluster could not take then: the client retries it). Returns the 503s. */
static size_t hl_load_stop(struct hl_load *l)
{
    lg_stop(l->g);
    ck_assert_int_eq(lg_wait(l->g), 0);
    l->g = NULL;
    /* Each server's connections take its requests in order: the last
     * taken of one may come after a request of the other never sent (-1),
     * which the retry below sends. */
    for (size_t i = 0; i < HL_MAXREQ; i++)
        if (l->reqs[i].status != -1)
            l->sent = i + 1;
    ck_assert_msg(l->sent < HL_MAXREQ - 2 * HL_NCON, "the load ran out of keys");
    size_t n503 = 0;
    for (size_t i = 0; i < l->sent; i++) {
        const struct lg_req *q = &l->reqs[i];
        if (q->status == -1)
            continue;
        ck_assert_msg(q->status == 201 || q->status == 503, "%s: status %d (%s)", q->key, q->status,
                      q->err);
        if (q->status == 503) {
            n503++;
            ck_assert_msg(q->retry_after > 0, "%s: 503 without Retry-After", q->key);
        }
    }
    return n503;
}

/* The client sends again what was not acknowledged (and what was never
 * sent), until every key is. */
static void hl_retry_unacked(struct hl_load *l)
{
    for (int pass = 0; pass < 5 && f_count_status(l->reqs, l->sent, 201) < l->sent; pass++) {
        struct lg_opts ro = l->o;
        ro.only_unacked = true;
        ro.pause_ms = 200;
        ck_assert_int_eq(lg_run(l->reqs, l->sent, &ro), 0);
    }
    ck_assert_int_eq(f_count_status(l->reqs, l->sent, 201), l->sent);
}

static void hl_load_free(struct hl_load *l)
{
    lg_reqs_free(l->reqs, HL_MAXREQ);
    free(l->county);
}

/* The port of the master serving county code's slot. */
static int hl_master(const char *code)
{
    int port = owner_port(code, NULL);
    ck_assert_int_gt(port, 0);
    return port;
}

/* The contacts stored for county k's graduates, read from its master. */
static void hl_stored(int k, struct f_ids *ids)
{
    redisContext *c = f_redis_at(hl_master(hl_cty[k]));
    char prefix[16];
    snprintf(prefix, sizeof prefix, "H%.8s-", hl_cty[k]);
    f_stored_ids(c, hl_cty[k], prefix, HL_NGRAD, ids);
    redisFree(c);
}

/* Acknowledged contacts Redis does not hold (a failover's loss), made
 * unacknowledged again so that the client's retry sends them anew. */
static size_t hl_unack_lost(struct hl_load *l)
{
    size_t lost = 0;
    for (int k = 0; k < HL_COUNTIES; k++) {
        struct f_ids ids;
        hl_stored(k, &ids);
        for (size_t i = 0; i < l->sent; i++)
            if (l->county[i] == k && l->reqs[i].status == 201 && !f_ids_has(&ids, l->reqs[i].id)) {
                fprintf(stderr, "lost acknowledged contact %s (id %s)\n", l->reqs[i].key,
                        l->reqs[i].id);
                l->reqs[i].status = 0;
                lost++;
            }
        f_ids_free(&ids);
    }
    return lost;
}

/* Every key acknowledged is exactly one contact: for each county, Redis
 * holds one stored contact per key (and every acknowledged id), its
 * counter says so, both servers' /metrics and GET /api/v1/coverage say so
 * (registered: its graduates; served: those its keys reached). */
static void hl_check_exact(struct hl_load *l, struct gc_server *const *srv)
{
    size_t keys[HL_COUNTIES] = {0};
    for (size_t i = 0; i < l->sent; i++)
        keys[l->county[i]]++;
    char *metrics[2] = {h_metrics_text(srv[0], T_ADMIN), h_metrics_text(srv[1], T_ADMIN)};
    struct http_resp *cov =
        h_http(srv[1], "GET", "/api/v1/coverage?period=" HL_PERIOD, T_ADMIN, NULL, NULL);
    ck_assert_msg(cov && cov->status == 200 && cov->json, "GET /api/v1/coverage");
    json_t *list = json_object_get(cov->json, "counties");
    ck_assert_uint_eq(json_array_size(list), HL_COUNTIES);
    for (int k = 0; k < HL_COUNTIES; k++) {
        struct f_ids ids;
        hl_stored(k, &ids);
        ck_assert_msg(ids.n == keys[k] && ids.distinct == keys[k],
                      "county %s: %zu keys, %zu contacts stored (%zu distinct)", hl_cty[k], keys[k],
                      ids.n, ids.distinct);
        for (size_t i = 0; i < l->sent; i++)
            if (l->county[i] == k)
                ck_assert_msg(f_ids_has(&ids, l->reqs[i].id), "%s: %s not stored", l->reqs[i].key,
                              l->reqs[i].id);
        f_ids_free(&ids);
        redisContext *c = f_redis_at(hl_master(hl_cty[k]));
        ck_assert_int_eq(f_redis_int(c, "HGET gc:{%s}:cnt c:job_referral", hl_cty[k]),
                         (long long)keys[k]);
        redisFree(c);
        char name[160];
        snprintf(name, sizeof name,
                 "gradcover_contacts_recorded_total{county=\"%.8s\",service=\"job_referral\"}",
                 hl_cty[k]);
        for (int s = 0; s < 2; s++)
            ck_assert_msg(h_metric_value(metrics[s], name) == (long long)keys[k],
                          "server %d: %s %lld, %zu keys", s, name, h_metric_value(metrics[s], name),
                          keys[k]);
        json_t *e = NULL;
        size_t j;
        json_t *it;
        json_array_foreach(list, j, it)
        {
            if (strcmp(json_string_value(json_object_get(it, "code")), hl_cty[k]) == 0)
                e = it;
        }
        ck_assert_msg(e != NULL, "coverage lacks %s", hl_cty[k]);
        long long want_served = keys[k] < HL_NGRAD ? (long long)keys[k] : HL_NGRAD;
        ck_assert_int_eq(json_integer_value(json_object_get(e, "registered")), HL_NGRAD);
        ck_assert_msg(json_integer_value(json_object_get(e, "served")) == want_served,
                      "county %s served %lld, want %lld", hl_cty[k],
                      json_integer_value(json_object_get(e, "served")), want_served);
    }
    h_resp_free(cov);
    free(metrics[0]);
    free(metrics[1]);
}

/* The redirections the two servers' routers met (/metrics), by kind. */
static long long hl_redirects(struct gc_server *const *srv, const char *kind)
{
    char name[128];
    snprintf(name, sizeof name, "gradcover_redis_cluster_redirects_total{kind=\"%s\"}", kind);
    long long sum = 0;
    for (int s = 0; s < 2; s++) {
        char *m = h_metrics_text(srv[s], T_ADMIN);
        long long v = h_metric_value(m, name);
        ck_assert_msg(v >= 0, "/metrics lacks %s", name);
        sum += v;
        free(m);
    }
    return sum;
}

/* A busy county's slot migrated key by key (migrate_slot: IMPORTING,
 * MIGRATING, MIGRATE each key 2 ms apart, SETSLOT NODE) while two servers
 * take keyed contacts for 50 counties, half of them the busy county's:
 * after the unacknowledged keys are retried, nothing is lost or doubled in
 * any county, and the routers met ASK (scripts wait the migration out) and
 * MOVED (after it). */
START_TEST(test_http_contacts_exact_across_a_slot_migration)
{
    hl_make_counties(620000);
    const char *cfg = hl_config("hl-migration", hl_cty, HL_COUNTIES, NULL);
    struct gc_server *srv[2] = {hl_start(cfg), hl_start(cfg)};
    hl_register_all(srv, "620102");
    int per_master[SLOTMAP_NODES_MAX] = {0};
    struct slotmap *m = map_from(0);
    for (int k = 0; k < HL_COUNTIES; k++) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%.8s}", hl_cty[k]);
        per_master[slotmap_owner(m, slotmap_keyslot(key, strlen(key)))]++;
    }
    slotmap_free(m);
    for (int i = 0; i < NMASTERS; i++)
        ck_assert_msg(per_master[i] > 0, "no county on master %d", i);

    const int busy = 7;
    int to = 0, from = owner_port(hl_cty[busy], &to);
    char key[32];
    snprintf(key, sizeof key, "gc:{%.8s}", hl_cty[busy]);
    unsigned slot = slotmap_keyslot(key, strlen(key));
    struct hl_load l;
    hl_load_start(&l, srv, "hl-mig", busy);
    h_sleep_ms(h_ms(500)); /* contacts, their idempotency records: keys to move */
    size_t before = lg_acked(l.g);
    long long t0 = h_now_ms();
    ck_assert(migrate_slot(slot, from, to, 2, NULL));
    long long migration_ms = h_now_ms() - t0;
    size_t during = lg_acked(l.g) - before;
    h_sleep_ms(h_ms(500)); /* and after it */
    size_t n503 = hl_load_stop(&l);
    size_t acked = f_count_status(l.reqs, l.sent, 201);
    ck_assert_int_eq(owner_port(hl_cty[busy], NULL), to);
    hl_retry_unacked(&l);
    hl_check_exact(&l, srv);
    long long ask = hl_redirects(srv, "ask_waited") + hl_redirects(srv, "ask_followed");
    long long moved = hl_redirects(srv, "moved");
    size_t busy_keys = 0;
    for (size_t i = 0; i < l.sent; i++)
        busy_keys += l.county[i] == busy;
    fprintf(stderr,
            "cluster.http_migration sent=%zu busy_county_keys=%zu acked_first=%zu 503=%zu "
            "acked_during_migration=%zu migration_ms=%lld ask=%lld moved=%lld\n",
            l.sent, busy_keys, acked, n503, during, migration_ms, ask, moved);
    ck_assert_int_ge(ask, 1);
    ck_assert_int_ge(moved, 1);

    /* The slot moved back at once, the load over: each server's next
     * contact for the county goes by its stale map (the routers ask for the
     * map every 5 s), meets MOVED and is sent again there: 201 at the first
     * try, counted once. */
    redisContext *c = f_redis_at(to);
    long long cnt = f_redis_int(c, "HGET gc:{%s}:cnt c:job_referral", hl_cty[busy]);
    redisFree(c);
    ck_assert(migrate_slot(slot, to, from, 0, NULL));
    for (int s = 0; s < 2; s++) {
        char gid[24], k2[32];
        hl_gid(gid, sizeof gid, busy, s);
        snprintf(k2, sizeof k2, "hl-mig-back-%d", s);
        ck_assert_int_eq(h_contact(srv[s], T_ADMIN, gid, HL_REGISTERED_AT, k2), 201);
    }
    c = f_redis_at(from);
    ck_assert_int_eq(f_redis_int(c, "HGET gc:{%s}:cnt c:job_referral", hl_cty[busy]), cnt + 2);
    redisFree(c);
    hl_load_free(&l);
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(h_stop(srv[s]), 0);
}
END_TEST

/* Outbox entries of county code read and not yet acknowledged (on its
 * master). */
static long long hl_pending(const char *code)
{
    redisContext *c = f_redis_at(hl_master(code));
    redisReply *r = redisCommand(c, "XPENDING gc:{%s}:outbox delivery", code);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1);
    long long n = r->element[0]->integer;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

/* Event ids of county code's outbox, oldest first (new reference). */
static json_t *hl_outbox(const char *code)
{
    redisContext *c = f_redis_at(hl_master(code));
    redisReply *r = redisCommand(c, "XRANGE gc:{%s}:outbox - +", code);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY);
    json_t *out = json_array();
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        json_t *ev = json_object();
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            json_object_set_new(ev, f->element[k]->str, json_string(f->element[k + 1]->str));
        json_array_append_new(out, ev);
    }
    freeReplyObject(r);
    redisFree(c);
    return out;
}

/* County code's alert state as GET /api/v1/counties/{code}/coverage says,
 * once it is `want` or 5 s (h_ms) have passed. */
static const char *hl_alert_state(struct gc_server *s, const char *code, const char *want)
{
    static char buf[32];
    char path[96];
    snprintf(path, sizeof path, "/api/v1/counties/%s/coverage", code);
    long long until = h_now_ms() + h_ms(5000);
    do {
        struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
        ck_assert_msg(r && r->status == 200, "coverage %s", code);
        const char *st = json_string_value(json_object_get(r->json, "alert"));
        snprintf(buf, sizeof buf, "%s", st ? st : "?");
        h_resp_free(r);
        if (strcmp(buf, want) != 0)
            h_sleep_ms(50);
    } while (strcmp(buf, want) != 0 && h_now_ms() < until);
    return buf;
}

/* One county on each master, each at 1 of 1 served (built by a server
 * whose dips only become pending: nothing in the outboxes). Two servers
 * with a webhook: a second graduate makes each county fire (1 of 2), through
 * one server; a contact for it resolves it, through the other. Each of the
 * six transitions is posted exactly once (the servers share each outbox's
 * consumer group, read per slot across the masters). */
START_TEST(test_http_alerts_on_each_master_notified_once)
{
    /* The first codes from 640001 whose slots are on the three masters. */
    char codes[NMASTERS][12];
    bool have[SLOTMAP_NODES_MAX] = {false};
    int found = 0;
    struct slotmap *m = map_from(0);
    for (int c = 640001; found < NMASTERS && c < 641000; c += 19) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%d}", c);
        int o = slotmap_owner(m, slotmap_keyslot(key, strlen(key)));
        if (o >= 0 && o < NMASTERS && !have[o]) {
            have[o] = true;
            snprintf(codes[found++], sizeof codes[0], "%d", c);
        }
    }
    slotmap_free(m);
    ck_assert_int_eq(found, NMASTERS);

    json_t *quiet = json_pack("{s:i, s:f, s:i}", "for_seconds", 3600, "clear_margin", 0.0,
                              "eval_interval_seconds", 1);
    struct gc_server *b = hl_start(hl_config("hl-alerts-build", codes, NMASTERS, quiet));
    for (int k = 0; k < NMASTERS; k++) {
        char gid[24];
        snprintf(gid, sizeof gid, "A%d-0", k);
        json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "id", gid, "county", codes[k], "name",
                                 "测试", "national_id", hl_natid("640102", 2 * k));
        char *text = json_dumps(body, 0);
        json_decref(body);
        h_expect(h_http(b, "POST", "/api/v1/graduates", T_ADMIN, text, NULL), 201, NULL);
        free(text);
        ck_assert_int_eq(h_contact(b, T_ADMIN, gid, NULL, NULL), 201);
        ck_assert_str_eq(hl_alert_state(b, codes[k], "ok"), "ok");
    }
    ck_assert_int_eq(h_stop(b), 0);
    for (int k = 0; k < NMASTERS; k++) {
        json_t *ob = hl_outbox(codes[k]);
        ck_assert_uint_eq(json_array_size(ob), 0);
        json_decref(ob);
    }

    struct receiver *rv = receiver_start("200");
    ck_assert_ptr_nonnull(rv);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/all", rv->port);
    json_t *alerts =
        json_pack("{s:i, s:f, s:i, s:[{s:s, s:s}]}", "for_seconds", 0, "clear_margin", 0.0,
                  "eval_interval_seconds", 1, "webhooks", "name", "all", "url", url);
    const char *cfg = hl_config("hl-alerts", codes, NMASTERS, alerts);
    struct gc_server *srv[2] = {hl_start(cfg), hl_start(cfg)};
    for (int k = 0; k < NMASTERS; k++) {
        char gid[24];
        snprintf(gid, sizeof gid, "A%d-1", k);
        json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "id", gid, "county", codes[k], "name",
                                 "测试", "national_id", hl_natid("640102", 2 * k + 1));
        char *text = json_dumps(body, 0);
        json_decref(body);
        h_expect(h_http(srv[k % 2], "POST", "/api/v1/graduates", T_ADMIN, text, NULL), 201, NULL);
        free(text);
        ck_assert_str_eq(hl_alert_state(srv[0], codes[k], "firing"), "firing");
        ck_assert_int_eq(h_contact(srv[(k + 1) % 2], T_ADMIN, gid, NULL, NULL), 201);
        ck_assert_str_eq(hl_alert_state(srv[1], codes[k], "ok"), "ok");
    }

    /* Each county's outbox: its firing and its resolution. Once the six
     * posts have come, wait until every entry is acknowledged (none left
     * for a take-over to send again), then a while for a second post. */
    json_t *events = json_array();
    for (int k = 0; k < NMASTERS; k++) {
        json_t *ob = hl_outbox(codes[k]);
        ck_assert_uint_eq(json_array_size(ob), 2);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ob, 0), "status")),
                         "firing");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ob, 1), "status")),
                         "resolved");
        json_array_extend(events, ob);
        json_decref(ob);
    }
    size_t nev = json_array_size(events);
    json_decref(receiver_wait(rv, nev, h_ms(10000)));
    long long end = h_now_ms() + h_ms(20000);
    long long pending = 0;
    do {
        pending = 0;
        for (int k = 0; k < NMASTERS; k++)
            pending += hl_pending(codes[k]);
        if (pending > 0)
            h_sleep_ms(100);
    } while (pending > 0 && h_now_ms() < end);
    ck_assert_msg(pending == 0, "%lld notifications not acknowledged", pending);
    h_sleep_ms(h_ms(1500)); /* a second delivery would come now */
    json_t *got = receiver_requests(rv);
    size_t i, j;
    json_t *ev, *q;
    json_array_foreach(events, i, ev)
    {
        const char *id = json_string_value(json_object_get(ev, "event_id"));
        size_t n = receiver_count_event(got, id);
        ck_assert_msg(n == 1, "event %s (%s) notified %zu times (receiver log %s)", id,
                      json_string_value(json_object_get(ev, "status")), n, rv->log_path);
    }
    ck_assert_uint_eq(json_array_size(got), nev);
    /* Each county's pair, with its code. */
    for (int k = 0; k < NMASTERS; k++) {
        int fired = 0, resolved = 0;
        json_array_foreach(got, j, q)
        {
            json_t *body = receiver_body_json(q);
            const char *code =
                json_string_value(json_object_get(json_object_get(body, "county"), "code"));
            const char *st = json_string_value(json_object_get(body, "status"));
            if (code && st && strcmp(code, codes[k]) == 0) {
                fired += strcmp(st, "firing") == 0;
                resolved += strcmp(st, "resolved") == 0;
            }
            json_decref(body);
        }
        ck_assert_msg(fired == 1 && resolved == 1, "county %s: %d firing, %d resolved", codes[k],
                      fired, resolved);
    }
    fprintf(stderr, "cluster.http_alerts counties=%s,%s,%s transitions=%zu notifications=%zu\n",
            codes[0], codes[1], codes[2], nev, json_array_size(got));
    json_decref(got);
    json_decref(events);
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(h_stop(srv[s]), 0);
    receiver_stop(rv);
}
END_TEST

/* The redis-server at port says `field` in INFO replication. */
static bool hl_info_has(int port, const char *field)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    bool ok = false;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "INFO replication");
        ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, field);
        freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

/* Every node says cluster_state:ok and names 6 nodes, every slot owned. */
static bool hl_cluster_whole(void)
{
    for (int i = 0; i < NNODES; i++)
        if (!node[i] || !cluster_ok(i) || !map_complete(i))
            return false;
    return true;
}

/* The first 201 of the busy county to a request sent at or after t (its
 * t_done), or -1. Read while the load runs (shared memory). */
static long long hl_first_201(const struct hl_load *l, int busy, long long t)
{
    long long first = -1;
    for (size_t i = 0; i < HL_MAXREQ; i++) {
        const struct lg_req *q = &l->reqs[i];
        if (l->county[i] == busy && q->status == 201 && q->t_sent >= t &&
            (first < 0 || q->t_done < first))
            first = q->t_done;
    }
    return first;
}

/* The master of a busy county SIGKILLed under the load of two servers: the
 * cluster promotes its replica (cluster-node-timeout 2 s), and the
 * county's writes resume within that plus a few seconds (from the kill to
 * the first 201 of a request sent after it); after the client retries the
 * unacknowledged keys (and sends again what the failover lost, asynchronous
 * replication: counted and printed), every key is exactly one contact in
 * every county. Then the killed node comes back as a replica of its
 * successor and takes its slots back (CLUSTER FAILOVER): three masters,
 * each with a replica, as the next tests expect. */
START_TEST(test_http_contacts_exact_across_a_master_kill)
{
    hl_make_counties(630000);
    const char *cfg = hl_config("hl-kill", hl_cty, HL_COUNTIES, NULL);
    struct gc_server *srv[2] = {hl_start(cfg), hl_start(cfg)};
    hl_register_all(srv, "630102");
    const int busy = 11;
    int port = hl_master(hl_cty[busy]);
    int victim = -1;
    for (int i = 0; i < NNODES; i++)
        if (node[i] && node[i]->port == port)
            victim = i;
    ck_assert_int_ge(victim, 0);

    struct hl_load l;
    hl_load_start(&l, srv, "hl-kill", busy);
    h_sleep_ms(h_ms(500));
    long long kill_at = h_now_ms();
    h_redis_stop(node[victim], true);
    free(node[victim]);
    node[victim] = NULL;
    /* Bound: cluster-node-timeout, the replica's election (0.5-1 s), the
     * routers' map (250 ms while a slot has no master), a request. */
    const int bound_ms = atoi(NODE_TIMEOUT_MS) + 5000;
    long long first = -1, until = kill_at + h_ms(bound_ms) + 2000;
    while ((first = hl_first_201(&l, busy, kill_at)) < 0 && h_now_ms() < until)
        h_sleep_ms(20);
    h_sleep_ms(h_ms(300));
    size_t n503 = hl_load_stop(&l);
    size_t acked = f_count_status(l.reqs, l.sent, 201);
    /* The node asked may learn of the promotion after the routers did (the
     * bus spreads the new epoch in a moment): its map, not theirs, is
     * waited for. */
    int new_port = hl_master(hl_cty[busy]);
    for (long long end = h_now_ms() + h_ms(5000); new_port == port && h_now_ms() < end;) {
        h_sleep_ms(50);
        new_port = hl_master(hl_cty[busy]);
    }
    long long resume_ms = first >= 0 ? first - kill_at : -1;
    fprintf(stderr,
            "cluster.http_failover resume_ms=%lld sent=%zu acked_first=%zu 503=%zu "
            "node_timeout_ms=%s\n",
            resume_ms, l.sent, acked, n503, NODE_TIMEOUT_MS);
    ck_assert_msg(first >= 0, "no 201 for county %s within %d ms of the kill", hl_cty[busy],
                  h_ms(bound_ms) + 2000);
    ck_assert_msg(resume_ms <= h_ms(bound_ms), "writes resumed %lld ms after the kill (bound %d)",
                  resume_ms, h_ms(bound_ms));
    ck_assert_int_ne(new_port, port);

    hl_retry_unacked(&l);
    size_t lost = hl_unack_lost(&l);
    if (lost > 0)
        hl_retry_unacked(&l);
    hl_check_exact(&l, srv);
    fprintf(stderr, "cluster.http_failover lost_acked=%zu (sent again)\n", lost);
    hl_load_free(&l);
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(h_stop(srv[s]), 0);

    /* Back as before: a replica of its successor, in sync, then master of
     * its slots again (a coordinated failover: nothing lost). */
    spawn_node(victim, port, false);
    long long end = h_now_ms() + h_ms(30000);
    while (!hl_info_has(port, "master_link_status:up") && h_now_ms() < end)
        h_sleep_ms(100);
    ck_assert_msg(hl_info_has(port, "role:slave"), "the killed node did not rejoin as a replica");
    redisContext *c = f_redis_at(port);
    redisReply *r = redisCommand(c, "CLUSTER FAILOVER");
    ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "CLUSTER FAILOVER: %s",
                  r && r->str ? r->str : "?");
    freeReplyObject(r);
    redisFree(c);
    while ((owner_port(hl_cty[busy], NULL) != port || !hl_cluster_whole()) && h_now_ms() < end)
        h_sleep_ms(100);
    ck_assert_int_eq(owner_port(hl_cty[busy], NULL), port);
    ck_assert(hl_cluster_whole());
}
END_TEST

/* Notifications while one master is away: the notifier reads every
 * county's outbox in one XREADGROUP, which the router splits per master; a
 * part that cannot be sent (its master dead, the replica held back from
 * taking over) fails the whole read, and the streams the other masters gave
 * must still be delivered. A county on a live master fires; its leader is
 * notified within seconds, the dead master never having come back. */
START_TEST(test_alert_delivered_while_another_master_is_away)
{
    int victim = pm_victim(), vport = node[victim]->port;
    int replica = pm_replica_of(vport);
    char code[12] = "";
    for (int c = 650001; !code[0] && c < 651000; c += 19) {
        char key[32];
        snprintf(key, sizeof key, "gc:{%d}", c);
        if (pm_owner_of(key) != vport)
            snprintf(code, sizeof code, "%d", c);
    }
    ck_assert(code[0]);
    struct receiver *rv = receiver_start("200");
    ck_assert_ptr_nonnull(rv);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/away", receiver_port(rv));
    json_t *alerts =
        json_pack("{s:i, s:f, s:i, s:[{s:s, s:s}]}", "for_seconds", 0, "clear_margin", 0.0,
                  "eval_interval_seconds", 1, "webhooks", "name", "away", "url", url);
    char codes[1][12];
    snprintf(codes[0], sizeof codes[0], "%s", code);
    /* Every county of the suite too: the victim's among them, so that the
     * notifier's read names streams on the dead master. */
    const char *cfg = hl_config("away-alert", codes, 1, alerts);
    json_error_t jerr;
    json_t *doc = json_load_file(cfg, 0, &jerr);
    ck_assert_ptr_nonnull(doc);
    json_t *list = json_object_get(doc, "counties");
    for (int k = 0; k < NCOUNTIES; k++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "code", counties[k], "name", "县"));
    cfg = h_write_config(doc, "away-alert-all");
    json_decref(doc);

    pm_exec(replica, "CONFIG SET cluster-replica-no-failover yes");
    for (int i = 0; i < NNODES; i++)
        pm_exec(i, "CONFIG SET cluster-require-full-coverage no");
    struct gc_server *srv = hl_start(cfg);
    ck_assert_int_eq(pm_wait_writable(srv, NMASTERS, 10000) >= 0, 1);
    pm_dead = victim;
    pm_dead_port = vport;
    h_redis_stop(node[victim], true);
    free(node[victim]);
    node[victim] = NULL;
    pm_wait_writable(srv, NMASTERS - 1, 10000);

    /* 0 of 1 served: firing at once (for_seconds 0). */
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "id", "AWAY-1", "county", code, "name", "测试",
                             "national_id", hl_natid("650102", 1));
    char *text = json_dumps(body, 0);
    json_decref(body);
    long long t0 = h_now_ms();
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_ADMIN, text, NULL), 201, NULL);
    free(text);
    /* Other counties fire too (the suite's, on every master): the post
     * naming this one is waited for. */
    bool delivered = false;
    long long until = t0 + h_ms(8000);
    while (!delivered && h_now_ms() < until) {
        json_t *got = receiver_requests(rv);
        size_t i;
        json_t *req;
        json_array_foreach(got, i, req)
        {
            const char *b = json_string_value(json_object_get(req, "body"));
            if (b && strstr(b, code))
                delivered = true;
        }
        json_decref(got);
        if (!delivered)
            h_sleep_ms(50);
    }
    long long took = h_now_ms() - t0;
    int writable = pm_readyz(srv).writable; /* still away: 2 */
    fprintf(stderr, "cluster.alert_while_away delivered=%d after_ms=%lld\n", delivered, took);

    /* The cluster whole again before anything is asserted: the next cases
     * need it. */
    pm_exec(replica, "CONFIG SET cluster-replica-no-failover no");
    pm_wait_writable(srv, NMASTERS, 30000);
    ck_assert_int_eq(h_stop(srv), 0);
    receiver_stop(rv);
    pm_heal();
    ck_assert_msg(delivered, "no notification for %s while another master was away (%lld ms)", code,
                  took);
    ck_assert_int_eq(writable, NMASTERS - 1);
}
END_TEST

static void setup(void)
{
    h_init();
    base = event_base_new();
    ck_assert(base);
    make_counties();
    start_cluster();
}

static void teardown(void)
{
    stop_cluster();
    if (base)
        event_base_free(base);
}

int main(void)
{
    Suite *s = suite_create("cluster_slots");
    TCase *tc = tcase_create("cluster");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_keyslot_agrees_with_redis);
    tcase_add_test(tc, test_slot_map_routes_every_county);
    tcase_add_test(tc, test_migrating_slot_answers_ask);
    tcase_add_test(tc, test_router_routes_counties);
    tcase_add_test(tc, test_router_follows_moved);
    tcase_add_test(tc, test_router_migration_under_load);
    tcase_add_test(tc, test_router_round_per_master);
    tcase_add_test(tc, test_router_splits_xreadgroup);
    tcase_add_test(tc, test_gradcoverd_on_the_cluster);
    tcase_add_test(tc, test_facade_store_delegates);
    tcase_add_test(tc, test_cli_tokens_on_the_cluster);
    tcase_add_test(tc, test_bench_one_redis_vs_cluster);
    tcase_add_test(tc, test_gradcoverd_takes_cluster_url_from_the_file);
    tcase_add_test(tc, test_gradcoverd_answers_per_master_while_one_is_away);
    tcase_add_test(tc, test_gradcoverd_refusing_master_refuses_its_counties_only);
    tcase_add_test(tc, test_gradcoverd_on_the_cluster_as_the_acl_user);
    tcase_add_test(tc, test_router_refuses_a_map_of_host_names);
    tcase_add_test(tc, test_gradcoverd_resolves_cluster_seeds_at_start);
    tcase_add_test(tc, test_ccache_exact_on_every_master);
    tcase_add_test(tc, test_ccache_follows_a_migrated_slot);
    tcase_add_test(tc, test_ccache_waits_for_late_invalidations);
    tcase_add_test(tc, test_ccache_survives_a_master_failover);
    tcase_add_test(tc, test_http_contacts_exact_across_a_slot_migration);
    tcase_add_test(tc, test_http_alerts_on_each_master_notified_once);
    tcase_add_test(tc, test_http_contacts_exact_across_a_master_kill);
    tcase_add_test(tc, test_alert_delivered_while_another_master_is_away);
    tcase_add_test(tc, test_router_follows_a_failover); /* last: a master is gone after it */
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
