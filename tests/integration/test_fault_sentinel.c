/* Fault test: Redis Sentinel failover under load (SPEC §13, issue 17). One
 * master, one replica and three redis-sentinels on loopback; gradcoverd is
 * given redis-sentinel://s1,s2,s3/gc and a client records keyed contacts
 * over several connections while the test SIGKILLs the master. The
 * sentinels promote the replica; gradcoverd follows it (its command
 * connection and the counter cache's two), and:
 * - wait_replicas 0: writes resume within 2 s of the sentinels naming the
 *   new master; after the client retries what was not acknowledged (and
 *   re-sends what the failover lost, if any), the county holds exactly one
 *   contact per key, in Redis, in the counters and in /metrics;
 * - wait_replicas 1: no acknowledged contact is lost across the failovers
 *   (each killed master comes back as a replica of the new one before the
 *   next kill).
 * Every request is answered 201 or 503 + Retry-After meanwhile.
 *
 * GC_SENTINEL_FAILOVERS=N runs N failovers in each case instead of the
 * CTest's few, GC_SENTINEL_LAG=1 cuts the replica off for the last 300 ms
 * before each kill (replica_lag), the case in which asynchronous
 * replication loses acknowledged writes: bench/sentinel-failover.sh runs both for the table
 * in docs/reliability.md. The "fault.sentinel" lines on stderr carry the
 * numbers. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"

#define COUNTY "611002"
#define MASTER_NAME "gc"
#define NGRAD 50
#define MAXREQ 200000
#define NCON 4
#define GAP_MS 5
#define PAUSE_MS 20
#define NSENT 3
/* Failovers per case in CTest (all tests run 3 times in CI, once under
 * valgrind; each failover takes ~5-8 s): the bench script runs 10. */
#define FAILOVERS_CTEST 2
/* SPEC §13 / issue 17: writes resume within the failover time plus 2 s. */
#define RESUME_MS 2000
/* Sentinel: down after 2 s without an answer (1 s made a busy machine —
 * the ASan build compiling alongside — fail a master over that was only
 * slow); a failover that stalls is tried again after 3 s. Production values
 * are 5-30 s (docs/operations.md). */
#define DOWN_AFTER_MS 2000
#define FAILOVER_TIMEOUT_MS 3000

static const char *cfg_path;
/* Every sentinel started, killed at exit too (a failed check skips the end
 * of run()). */
#define SENTINELS_MAX (2 * NSENT)
static pid_t sentinel_pids[SENTINELS_MAX];
static int nsentinel_pids;

static void kill_sentinels(void)
{
    for (int i = 0; i < nsentinel_pids; i++)
        if (sentinel_pids[i] > 0) {
            kill(sentinel_pids[i], SIGKILL);
            waitpid(sentinel_pids[i], NULL, 0);
            sentinel_pids[i] = 0;
        }
    nsentinel_pids = 0;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

struct topo {
    struct h_redis_proc *r[2];
    int port[2];
    char name[2][40];
    int master; /* index of the master in r[] */
    int sport[NSENT];
    char tag[32];
};

/* The topology of the case running: a failed check leaves run() early, and
 * the next case stops what it left (sentinels monitoring a port a new Redis
 * may get would fail it over). */
static struct topo cur;

/* redis-server arguments of r[i]: its log in the work directory, DEBUG
 * (the lagging replica), and replicaof when port > 0. */
static const char *const *redis_args(struct topo *t, int i, int master_port)
{
    static char log[2][600], mport[2][16];
    static const char *argv[2][12];
    snprintf(log[i], sizeof log[i], "%s/%s.log", h_work_dir(), t->name[i]);
    snprintf(mport[i], sizeof mport[i], "%d", master_port);
    int n = 0;
    argv[i][n++] = "--enable-debug-command";
    argv[i][n++] = "yes";
    argv[i][n++] = "--logfile";
    argv[i][n++] = log[i];
    /* A full sync at once, not after the default 5 s of waiting for more
     * replicas: a restarted master is back in seconds. */
    argv[i][n++] = "--repl-diskless-sync-delay";
    argv[i][n++] = "0";
    if (master_port > 0) {
        argv[i][n++] = "--replicaof";
        argv[i][n++] = "127.0.0.1";
        argv[i][n++] = mport[i];
    }
    argv[i][n] = NULL;
    return argv[i];
}

/* Redis at port answers INFO replication with `field` in it. */
static bool info_has(int port, const char *field)
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

static void wait_for(bool (*cond)(struct topo *, int), struct topo *t, int arg, int ms,
                     const char *what)
{
    long long until = h_now_ms() + ms;
    while (!cond(t, arg)) {
        ck_assert_msg(h_now_ms() < until, "%s: not within %d ms", what, ms);
        h_sleep_ms(20);
    }
}

/* The replica r[i] is linked to its master and the master counts it online. */
static bool replica_online(struct topo *t, int i)
{
    return info_has(t->port[i], "master_link_status:up") &&
           info_has(t->port[1 - i], "connected_slaves:1") &&
           info_has(t->port[1 - i], "state=online");
}

static redisReply *sentinel_cmd(int sport, const char *fmt, const char *arg)
{
    redisContext *c = redisConnect("127.0.0.1", sport);
    redisReply *r = NULL;
    if (c && !c->err)
        r = redisCommand(c, fmt, arg);
    redisFree(c);
    return r;
}

/* Sentinel s names r[i] the master. */
static bool sentinel_names(struct topo *t, int s, int i)
{
    redisReply *r = sentinel_cmd(t->sport[s], "SENTINEL get-master-addr-by-name %s", MASTER_NAME);
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              atoi(r->element[1]->str) == t->port[i];
    freeReplyObject(r);
    return ok;
}

/* Sentinel 0 names r[i] the master. */
static bool named_master(struct topo *t, int i)
{
    return sentinel_names(t, 0, i);
}

/* Every sentinel knows the other two and the replica (not down): a failover
 * can be agreed on and has a replica to promote. */
static bool sentinels_settled(struct topo *t, int unused)
{
    (void)unused;
    for (int s = 0; s < NSENT; s++) {
        if (!sentinel_names(t, s, t->master))
            return false;
        redisReply *r = sentinel_cmd(t->sport[s], "SENTINEL sentinels %s", MASTER_NAME);
        bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == NSENT - 1;
        freeReplyObject(r);
        if (!ok)
            return false;
        r = sentinel_cmd(t->sport[s], "SENTINEL replicas %s", MASTER_NAME);
        ok = false;
        for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements; k++) {
            const redisReply *e = r->element[k];
            bool port_ok = false, flags_ok = false;
            for (size_t f = 0; f + 1 < e->elements; f += 2) {
                if (strcmp(e->element[f]->str, "port") == 0)
                    port_ok = atoi(e->element[f + 1]->str) == t->port[1 - t->master];
                if (strcmp(e->element[f]->str, "flags") == 0)
                    flags_ok = strcmp(e->element[f + 1]->str, "slave") == 0;
            }
            ok = ok || (port_ok && flags_ok);
        }
        freeReplyObject(r);
        if (!ok)
            return false;
    }
    return true;
}

static void start_sentinel(struct topo *t, int s)
{
    char dir[600], conf[700];
    snprintf(dir, sizeof dir, "%s/sentinel-%s-%d", h_work_dir(), t->tag, s);
    mkdir(dir, 0755);
    snprintf(conf, sizeof conf, "%s/sentinel.conf", dir);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s/sentinel.log\n"
            "sentinel monitor %s 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds %s %d\n"
            "sentinel failover-timeout %s %d\n"
            "sentinel parallel-syncs %s 1\n",
            t->sport[s], dir, dir, MASTER_NAME, t->port[t->master], MASTER_NAME, DOWN_AFTER_MS,
            MASTER_NAME, FAILOVER_TIMEOUT_MS, MASTER_NAME);
    fclose(f);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        /* Not CTest's pipes: it waits for them to close. */
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execlp("redis-sentinel", "redis-sentinel", conf, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_lt(nsentinel_pids, SENTINELS_MAX);
    sentinel_pids[nsentinel_pids++] = pid;
    for (int i = 0; i < 100; i++) {
        redisReply *r = sentinel_cmd(t->sport[s], "PING%s", "");
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (ok)
            return;
        h_sleep_ms(50);
    }
    ck_abort_msg("redis-sentinel did not start (is the redis-sentinel package installed?)");
}

static void topo_stop(struct topo *t);

static void topo_start(struct topo *t, const char *tag)
{
    topo_stop(t);
    memset(t, 0, sizeof *t);
    snprintf(t->tag, sizeof t->tag, "%s", tag);
    for (int i = 0; i < 2; i++)
        snprintf(t->name[i], sizeof t->name[i], "%.30s-%c", tag, 'a' + i);
    t->r[0] = h_redis_spawn_args(t->name[0], 0, true, redis_args(t, 0, 0));
    t->port[0] = t->r[0]->port;
    t->r[1] = h_redis_spawn_args(t->name[1], 0, true, redis_args(t, 1, t->port[0]));
    t->port[1] = t->r[1]->port;
    t->master = 0;
    wait_for(replica_online, t, 1, 20000, "replica in sync");
    for (int s = 0; s < NSENT; s++) {
        t->sport[s] = h_free_port();
        start_sentinel(t, s);
    }
    /* Sentinels find each other through the master's hello channel every 2 s. */
    wait_for(sentinels_settled, t, 0, 30000, "sentinels know each other and the replica");
}

static void topo_stop(struct topo *t)
{
    kill_sentinels();
    for (int i = 0; i < 2; i++)
        if (t->r[i]) {
            h_redis_stop(t->r[i], false);
            free(t->r[i]);
            t->r[i] = NULL;
        }
}

/* The replica falls behind, as on a slow link or a busy host: it stops
 * reading (DEBUG SLEEP, its answer never read) and the master drops its
 * link (CLIENT KILL TYPE replica), so that what the master acknowledges
 * from now on reaches no replica until the link is made again (the
 * replica's next replication cron, after its sleep). Then lead_ms pass. */
static void replica_lag(struct topo *t, int sleep_ms, int lead_ms)
{
    redisContext *c = redisConnect("127.0.0.1", t->port[1 - t->master]);
    ck_assert(c && !c->err);
    char secs[16];
    snprintf(secs, sizeof secs, "%.3f", sleep_ms / 1000.0);
    redisAppendCommand(c, "DEBUG SLEEP %s", secs);
    int done = 0;
    while (!done)
        ck_assert_int_eq(redisBufferWrite(c, &done), REDIS_OK);
    redisContext *m = f_redis_at(t->port[t->master]);
    f_redis_int(m, "CLIENT KILL TYPE replica");
    redisFree(m);
    h_sleep_ms(lead_ms);
    redisFree(c);
}

struct failover {
    long long kill;     /* just before SIGKILL of the master */
    long long switched; /* sentinel 0 names the replica */
    long long back;     /* the old master is a replica in sync again */
    long long first_201_after_switch;
    long long first_201_after_back;
};

struct run_result {
    size_t sent, acked, lost, n503;
    long long resume_max_ms, failover_max_ms, lat_sum_ms;
    size_t lat_n;
};

static void run(int wait_replicas, int failovers, bool lag, struct run_result *res)
{
    char tag[32];
    snprintf(tag, sizeof tag, "sen-w%d", wait_replicas);
    struct topo *t = &cur;
    topo_start(t, tag);

    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    json_object_set_new(cfg, "wait_replicas", json_integer(wait_replicas));
    char name[48];
    snprintf(name, sizeof name, "fault-sentinel-w%d", wait_replicas);
    cfg_path = h_write_config(cfg, name);
    json_decref(cfg);
    char url[256];
    snprintf(url, sizeof url, "redis-sentinel://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/%s/0",
             t->sport[0], t->sport[1], t->sport[2], MASTER_NAME);
    struct gc_server *s = h_start(cfg_path, NULL, url, true);
    for (int g = 0; g < NGRAD; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", g);
        h_register(s, T_C611002, gid, COUNTY, 600 + g, "2026-03-01T09:00:00+08:00");
    }
    struct lg_req *reqs = f_contact_reqs(tag, MAXREQ, NGRAD);
    int ports[1] = {s->port};
    struct lg_opts o = {.ports = ports,
                        .nports = 1,
                        .ncon = NCON,
                        .gap_ms = GAP_MS,
                        .pause_ms = PAUSE_MS,
                        .timeout_ms = 10000};
    struct lg *g = lg_start(reqs, MAXREQ, &o);
    ck_assert_ptr_nonnull(g);
    struct failover *fo = calloc((size_t)failovers, sizeof *fo);
    ck_assert_ptr_nonnull(fo);
    h_sleep_ms(1000);
    for (int k = 0; k < failovers; k++) {
        int m = t->master, r = 1 - m;
        if (lag)
            replica_lag(t, 1000, 300);
        fo[k].kill = h_now_ms();
        h_redis_stop(t->r[m], true);
        free(t->r[m]);
        t->r[m] = NULL;
        if (k == 0) {
            /* /readyz says why while there is no master to write to. */
            bool said = false;
            for (long long until = h_now_ms() + h_ms(2000); !said && h_now_ms() < until;) {
                struct http_resp *rr = h_http(s, "GET", "/readyz", NULL, NULL, NULL);
                const char *msg = json_string_value(
                    json_object_get(json_object_get(rr->json, "error"), "message"));
                said = rr->status == 503 && msg && strstr(msg, "no Redis master");
                h_resp_free(rr);
                if (!said)
                    h_sleep_ms(20);
            }
            ck_assert_msg(said, "/readyz did not say there is no master");
        }
        wait_for(named_master, t, r, 60000, "the sentinels promote the replica");
        fo[k].switched = h_now_ms();
        t->master = r;
        /* The killed master comes back as a replica of the new one (what the
         * sentinels' CONFIG REWRITE makes of a restarted master). */
        t->r[m] = h_redis_spawn_args(t->name[m], t->port[m], false, redis_args(t, m, t->port[r]));
        wait_for(replica_online, t, m, 30000, "the old master in sync as a replica");
        fo[k].back = h_now_ms();
        wait_for(sentinels_settled, t, 0, 60000, "the sentinels see the new replica");
        h_sleep_ms(1500);
    }
    lg_stop(g);
    ck_assert_int_eq(lg_wait(g), 0);

    size_t nsent = 0;
    while (nsent < MAXREQ && reqs[nsent].status != -1)
        nsent++;
    ck_assert_msg(nsent < MAXREQ, "the client ran out of keys");
    for (int k = 0; k < failovers; k++)
        fo[k].first_201_after_switch = fo[k].first_201_after_back = -1;
    size_t n503 = 0;
    for (size_t i = 0; i < nsent; i++) {
        const struct lg_req *q = &reqs[i];
        ck_assert_msg(q->status == 201 || q->status == 503, "%s: status %d (%s)", q->key, q->status,
                      q->err);
        if (q->status == 503) {
            n503++;
            ck_assert_msg(q->retry_after > 0, "%s: 503 without Retry-After", q->key);
        } else if (q->t_sent < fo[0].kill - 200 || q->t_sent > fo[failovers - 1].back) {
            res->lat_sum_ms += q->t_done - q->t_sent;
            res->lat_n++;
        }
        for (int k = 0; k < failovers; k++) {
            if (q->status != 201)
                continue;
            if (q->t_done >= fo[k].switched &&
                (fo[k].first_201_after_switch < 0 ||
                 q->t_done - fo[k].switched < fo[k].first_201_after_switch))
                fo[k].first_201_after_switch = q->t_done - fo[k].switched;
            if (q->t_done >= fo[k].back && (fo[k].first_201_after_back < 0 ||
                                            q->t_done - fo[k].back < fo[k].first_201_after_back))
                fo[k].first_201_after_back = q->t_done - fo[k].back;
        }
    }
    for (int k = 0; k < failovers; k++) {
        /* With wait_replicas 0 writes resume on the promoted replica alone;
         * with 1 they wait for the old master to return as its replica. */
        long long resume =
            wait_replicas == 0 ? fo[k].first_201_after_switch : fo[k].first_201_after_back;
        fprintf(stderr,
                "fault.sentinel wait_replicas=%d lag=%d failover=%d kill_to_switch_ms=%lld "
                "resume_after_%s_ms=%lld\n",
                wait_replicas, lag, k + 1, fo[k].switched - fo[k].kill,
                wait_replicas == 0 ? "switch" : "replica_back", resume);
        ck_assert_msg(resume >= 0 && resume <= h_ms(RESUME_MS),
                      "failover %d: writes resumed %lld ms after the %s", k + 1, resume,
                      wait_replicas == 0 ? "sentinels named the new master"
                                         : "old master was back as a replica");
        if (resume > res->resume_max_ms)
            res->resume_max_ms = resume;
        if (fo[k].switched - fo[k].kill > res->failover_max_ms)
            res->failover_max_ms = fo[k].switched - fo[k].kill;
    }

    /* Acknowledged contacts the failovers lost: answered 201, not stored. */
    /* The master as the sentinels see it now (a slow moment may have made
     * them fail over once more by themselves). */
    if (named_master(t, 1 - t->master))
        t->master = 1 - t->master;
    redisContext *rc = f_redis_at(t->port[t->master]);
    struct f_ids ids;
    f_stored_ids(rc, COUNTY, "G", NGRAD, &ids);
    ck_assert_int_eq(ids.distinct, ids.n);
    size_t acked = f_count_status(reqs, nsent, 201), lost = 0;
    for (size_t i = 0; i < nsent; i++)
        if (reqs[i].status == 201 && !f_ids_has(&ids, reqs[i].id)) {
            lost++;
            fprintf(stderr, "lost acknowledged contact %s (id %s)\n", reqs[i].key, reqs[i].id);
        }
    f_ids_free(&ids);
    if (wait_replicas > 0)
        ck_assert_msg(lost == 0, "wait_replicas %d lost %zu acknowledged contacts", wait_replicas,
                      lost);

    /* The client retries what was not acknowledged, then re-sends what the
     * failover lost: exactly one contact per key. */
    for (int pass = 0; pass < 3 && f_count_status(reqs, nsent, 201) < nsent; pass++) {
        struct lg_opts ro = o;
        ro.only_unacked = true;
        ro.pause_ms = 200;
        ck_assert_int_eq(lg_run(reqs, nsent, &ro), 0);
    }
    ck_assert_int_eq(f_count_status(reqs, nsent, 201), nsent);
    if (lost > 0) {
        f_stored_ids(rc, COUNTY, "G", NGRAD, &ids);
        for (size_t i = 0; i < nsent; i++)
            if (!f_ids_has(&ids, reqs[i].id))
                reqs[i].status = 0;
        f_ids_free(&ids);
        struct lg_opts ro = o;
        ro.only_unacked = true;
        ck_assert_int_eq(lg_run(reqs, nsent, &ro), 0);
        ck_assert_int_eq(f_count_status(reqs, nsent, 201), nsent);
    }
    f_stored_ids(rc, COUNTY, "G", NGRAD, &ids);
    ck_assert_int_eq(ids.n, nsent);
    ck_assert_int_eq(ids.distinct, nsent);
    f_ids_free(&ids);
    ck_assert_int_eq(f_redis_int(rc, "HGET gc:{%s}:cnt c:job_referral", COUNTY), (long long)nsent);
    /* Through the counter cache, which followed the master too. */
    ck_assert_int_eq(f_metric_contacts(s, COUNTY, "job_referral"), (long long)nsent);
    long long reg, srv;
    h_counts(s, COUNTY, "2026", &reg, &srv);
    ck_assert_int_eq(reg, NGRAD);
    ck_assert_int_eq(srv, NGRAD);
    /* /readyz is ready again on the new master. */
    ck_assert(h_wait_status(s, "/readyz", 200, h_ms(5000)));
    /* The gradcover tool finds the master through the sentinels too. */
    if (wait_replicas == 0) {
        char cmd[1200], out[4096] = "";
        snprintf(cmd, sizeof cmd,
                 "%s --config %s --redis %s token create sentinel-cli --role viewer >/dev/null "
                 "2>&1 && %s --config %s --redis %s token list 2>&1",
                 getenv("GC_CLI"), cfg_path, url, getenv("GC_CLI"), cfg_path, url);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t got = fread(out, 1, sizeof out - 1, p);
        out[got] = '\0';
        int st = pclose(p);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "gradcover: %s", out);
        ck_assert_msg(strstr(out, "sentinel-cli"), "token list: %s", out);
    }

    fprintf(stderr,
            "fault.sentinel wait_replicas=%d lag=%d failovers=%d sent=%zu acked_during_run=%zu "
            "503=%zu lost_acked=%zu resume_max_ms=%lld kill_to_switch_max_ms=%lld "
            "mean_201_latency_ms=%.2f\n",
            wait_replicas, lag, failovers, nsent, acked, n503, lost, res->resume_max_ms,
            res->failover_max_ms, res->lat_n ? (double)res->lat_sum_ms / (double)res->lat_n : 0.0);
    res->sent = nsent;
    res->acked = acked;
    res->lost = lost;
    res->n503 = n503;
    redisFree(rc);
    free(fo);
    lg_reqs_free(reqs, MAXREQ);
    ck_assert_int_eq(h_stop(s), 0);
    topo_stop(t);
}

START_TEST(test_sentinel_failover_wait_replicas_0_resumes_and_counts_are_exact)
{
    struct run_result res = {0};
    run(0, env_int("GC_SENTINEL_FAILOVERS", 1), env_int("GC_SENTINEL_LAG", 0) != 0, &res);
}
END_TEST

START_TEST(test_sentinel_failovers_wait_replicas_1_lose_no_acknowledged_contact)
{
    struct run_result res = {0};
    run(1, env_int("GC_SENTINEL_FAILOVERS", FAILOVERS_CTEST), env_int("GC_SENTINEL_LAG", 0) != 0,
        &res);
    ck_assert_int_eq(res.lost, 0);
}
END_TEST

/* /readyz's error code now ("" when 200). */
static void readyz_code(struct gc_server *s, char *code, size_t n)
{
    struct http_resp *r = h_http(s, "GET", "/readyz", NULL, NULL, NULL);
    ck_assert_ptr_nonnull(r);
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    snprintf(code, n, "%s", r->status == 200 ? "" : c ? c : "?");
    h_resp_free(r);
}

/* wait_replicas 1 on a master without a replica: the probe's WAIT is not
 * confirmed, so writes answer 503 redis_replicas_unconfirmed + Retry-After
 * before anything is sent to Redis, and /readyz says so; once a replica is in
 * sync they resume by themselves. (Plain redis://: WAIT does not need the
 * sentinels.) */
START_TEST(test_wait_replicas_without_replica_refuses_writes_until_one_confirms)
{
    struct h_redis_proc *m = h_redis_spawn_args("wr-master", 0, true, NULL);
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "wait_replicas", json_integer(1));
    json_object_set_new(cfg, "wait_timeout_ms", json_integer(200));
    const char *path = h_write_config(cfg, "wait-replicas");
    json_decref(cfg);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", m->port);
    struct gc_server *s = h_start(path, NULL, url, false);
    char code[64] = "";
    long long until = h_now_ms() + h_ms(10000);
    do {
        h_sleep_ms(50);
        readyz_code(s, code, sizeof code);
    } while (strcmp(code, "redis_replicas_unconfirmed") != 0 && h_now_ms() < until);
    ck_assert_str_eq(code, "redis_replicas_unconfirmed");

    redisContext *rc = f_redis_at(m->port);
    long long keys = f_redis_int(rc, "DBSIZE");
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "id", "W1", "county", COUNTY, "name", "测试",
                          "national_id", h_natid(900));
    char *body = json_dumps(b, 0);
    json_decref(b);
    struct http_resp *r = h_http(s, "POST", "/api/v1/graduates", T_C611002, body,
                                 (const char *[]){"Idempotency-Key: wr-1", NULL});
    free(body);
    ck_assert_ptr_nonnull(r);
    char ra[16];
    ck_assert_ptr_nonnull(h_header(r, "Retry-After", ra, sizeof ra));
    ck_assert_int_gt(atoi(ra), 0);
    h_expect(r, 503, "redis_replicas_unconfirmed");
    /* Refused before anything was sent: Redis holds what it held. */
    ck_assert_int_eq(f_redis_int(rc, "DBSIZE"), keys);
    ck_assert_int_eq(f_redis_int(rc, "EXISTS gc:{611002}:cnt"), 0);

    char mport[16];
    snprintf(mport, sizeof mport, "%d", m->port);
    const char *rargs[] = {"--replicaof", "127.0.0.1", mport, NULL};
    struct h_redis_proc *rep = h_redis_spawn_args("wr-replica", 0, true, rargs);
    ck_assert(h_wait_status(s, "/readyz", 200, h_ms(10000)));
    h_register(s, T_C611002, "W1", COUNTY, 900, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(s, T_C611002, "W1", NULL, "wr-c1"), 201);
    ck_assert_int_eq(f_redis_int(rc, "HGET gc:{611002}:cnt c:job_referral"), 1);

    redisFree(rc);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rep, false);
    free(rep);
    h_redis_stop(m, false);
    free(m);
}
END_TEST

static void setup(void)
{
    h_init();
    static bool registered;
    if (!registered)
        atexit(kill_sentinels);
    registered = true;
}

int main(void)
{
    Suite *s = suite_create("fault_sentinel");
    TCase *tc = tcase_create("fault_sentinel");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_wait_replicas_without_replica_refuses_writes_until_one_confirms);
    tcase_add_test(tc, test_sentinel_failover_wait_replicas_0_resumes_and_counts_are_exact);
    tcase_add_test(tc, test_sentinel_failovers_wait_replicas_1_lose_no_acknowledged_contact);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
