/* Redis access: one hiredis async connection on the app's loop, reconnected
 * with exponential backoff and jitter; every command bounded by an evtimer
 * (hiredis 0.14 has no command timeouts); scripts loaded at connect and run
 * with EVALSHA, re-sent as EVAL on NOSCRIPT. Error answers are classified
 * (OOM, READONLY, MISCONF refuse every write; NOPERM and the rest fail one
 * command), counted and logged rate-limited; a probe and INFO memory say
 * whether writes are accepted (store_writes). Replies are mapped to jansson
 * values before they leave this file. */
#include "gradcover/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/hex.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/store/cluster.h"
#include "gradcover/store/scripts.h"
#include "gradcover/store/sentinel.h"

/* First reconnect after 100 ms (a Redis restart takes about that long), doubling
 * to 1 s: writes must work again within 2 s of Redis answering (issue 6). With
 * jitter an attempt comes 0.5-1 s after the previous one, so the worst case is
 * ~1 s plus the handshake, also when an attempt lands while the restarted
 * Redis is still loading its AOF (refused with LOADING, tried again). A 2 s
 * cap made that worst case 2 s plus the handshake. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000
/* Loading scripts and authenticating must finish within this after connecting;
 * otherwise the connection is dropped and retried (Redis frozen or overloaded). */
#define HANDSHAKE_TIMEOUT_MS 5000
/* The probe while Redis accepts writes: a read-only replica (a Sentinel
 * failover), a full memory or disk shows within a second on an idle server
 * too, as a lost connection does (BACKOFF_MAX_MS); one small script a second
 * that writes nothing when the fingerprint is there (no AOF growth). */
#define PROBE_EVERY_MS 1000
/* While Redis refuses writes the probe comes again after 100 ms doubling to
 * PROBE_EVERY_MS, as reconnects do (BACKOFF_MIN_MS, BACKOFF_MAX_MS): writes
 * work again within ~1 s of Redis accepting them. */
#define PROBE_RETRY_MIN_MS BACKOFF_MIN_MS
/* maxmemory-policy is read at every connection and then this often: a
 * policy switched to evicting at run time loses data at its next memory
 * pressure, so the "every minute" became 5 s; INFO memory costs
 * Redis ~20 µs. */
#define POLICY_EVERY_MS 5000
/* A repeated error or timeout is logged once, then once per this with the
 * count of those left out (the issue saw 8,000-13,000 error lines a second). */
#define LOG_REPEAT_MS 10000
/* The longest maxmemory-policy name (allkeys-random is 14), with room. */
#define POLICY_MAX 32
/* The probe's WAIT while wait_replicas is set: a replica that is connected
 * and caught up answers within a millisecond on a LAN; the WAIT holds the
 * shared connection (Redis answers its commands in order) for at most this
 * long, once a second while no replica confirms. */
#define PROBE_WAIT_MS 100

struct op {
    struct store *s;
    store_cb cb;
    void *arg;
    struct event *timer;
    bool fired;     /* the user callback has run (timeout or reply) */
    bool internal;  /* handshake command: no user callback */
    int script;     /* index into gc_scripts, or -1 */
    bool retried;   /* NOSCRIPT fallback already used */
    int timeout_ms; /* this command's deadline */
    uint64_t seq;   /* when it was sent, in the store's count of sends */
    int argc;       /* arguments of the command */
    char *cmd;      /* the command as sent (RESP), kept for the EVAL fallback */
    size_t len;
    size_t tail; /* scripts: where the arguments after EVALSHA <sha> begin in cmd */
    /* ---- wait_replicas: a WAIT sent right behind the script ---- */
    bool waits;        /* the answer waits for a WAIT's confirmation */
    bool wait_unsent;  /* the WAIT could not be queued: the answer is STORE_DOWN */
    bool script_done;  /* the script's own answer is in */
    int wait_pending;  /* WAITs sent for it and not answered yet */
    int wait_ms;       /* the WAIT's timeout */
    json_t *held;      /* the script's answer, held until the WAIT confirms */
    struct op *parent; /* on a WAIT: the script it confirms */
};

struct store {
    struct event_base *base;
    struct redis_target target;
    redisAsyncContext *ac;
    bool connected;
    bool ready;
    bool closing;
    int pending_handshake;
    bool handshake_failed;
    bool handshake_refused; /* Redis answered a handshake step with an error */
    struct event *reconnect_timer;
    struct event *handshake_timer;
    int backoff_ms;
    int timeout_ms;
    unsigned outstanding;  /* commands sent and not yet answered */
    int64_t last_reply_ms; /* monotonic: when Redis last answered anything */
    char (*sha)[41];
    void (*ready_cb)(void *arg);
    void *ready_arg;
    bool plain; /* no scripts (store_new_plain) */

    /* ---- is Redis accepting writes (store_writes) ---- */
    uint64_t seq;    /* commands sent so far (op.seq) */
    int refusing;    /* STORE_REFUSAL_OOM/READONLY/MISCONF while refused; NOT_REFUSING */
    bool checked;    /* the probe succeeded on this connection (after the last refusal) */
    uint64_t ok_seq; /* the seq of that probe: older refusals are stale */
    enum store_refusal last_kind;
    uint64_t refusals[STORE_NREFUSALS];
    struct log_every err_log[STORE_NREFUSALS];
    struct log_every timeout_log;
    struct event *check_timer; /* the probe and the policy check */
    int probe_backoff_ms;
    bool probe_inflight, info_inflight;
    uint64_t probe_seq;
    int probe_script; /* index into gc_scripts; -1: none */
    char *probe_key, *probe_args;
    store_cb probe_cb;
    void *probe_arg;
    void (*writable_cb)(void *arg);
    void *writable_arg;
    enum { POLICY_UNKNOWN, POLICY_SAFE, POLICY_EVICTS, POLICY_UNREADABLE } policy;
    int64_t policy_at_ms;           /* monotonic: when it was last read */
    char policy_name[POLICY_MAX];   /* as Redis said it */
    char policy_logged[POLICY_MAX]; /* the evicting policy last logged; "" none */
    bool policy_unreadable_logged;

    /* ---- Sentinel (redis-sentinel://) ---- */
    struct sentinel *via; /* NULL: target.host/port is the server */
    char at_host[256];    /* where this connection went */
    int at_port;
    bool not_master; /* ROLE said replica (or sentinel) in this handshake */
    bool watching;   /* registered with via */

    /* ---- Redis Cluster (redis-cluster://) ----
     * Set: this store is a façade with no connection of its own; commands,
     * rounds, readiness and writability are the router's (cluster.c), which
     * keeps a store per master: ready (and store_writes) for gc:{@}'s
     * master, store_writes_for per county. docs/cluster.md. */
    struct cluster *cl;
    int wait_replicas, wait_ms; /* store_set_wait_replicas() */
};

/* s->refusing when writes are not being refused. */
#define NOT_REFUSING (-1)

static void store_connect(struct store *s);

static void schedule_reconnect(struct store *s)
{
    if (s->closing)
        return;
    int jitter = rand() % (s->backoff_ms / 2 + 1);
    int delay = s->backoff_ms / 2 + jitter;
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    evtimer_add(s->reconnect_timer, &tv);
    log_info("event=redis_reconnect_scheduled retry_ms=%d", delay);
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

static void on_reconnect_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    store_connect(arg);
}

static void op_free(struct op *o)
{
    if (o->timer)
        event_free(o->timer);
    json_decref(o->held);
    free(o->cmd);
    free(o);
}

/* ---- the Redis protocol, written directly ----
 * hiredis formats an argv with sdscatfmt, ~6,000 instructions a command; these
 * few lines write the same bytes (RESP: *<argc> then $<len> <bytes> per
 * argument) for redisAsyncFormattedCommand. */

static size_t digits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Bytes of "<c><v>\r\n". */
static size_t resp_head_len(size_t v)
{
    return 1 + digits(v) + 2;
}

static size_t resp_bulk_len(size_t len)
{
    return resp_head_len(len) + len + 2;
}

static char *resp_head(char *o, char c, size_t v)
{
    size_t n = digits(v);
    *o++ = c;
    for (size_t i = n; i > 0; i--, v /= 10)
        o[i - 1] = (char)('0' + v % 10);
    o += n;
    *o++ = '\r';
    *o++ = '\n';
    return o;
}

/* Every command buffer gets a NUL after its last byte, as hiredis' own
 * formatter leaves one: redisAsyncFormattedCommand peeks one byte past the
 * first argument to see whether another follows (a one-word command such as
 * PING would be read past its end otherwise; valgrind found it). */
static char *resp_bulk(char *o, const char *s, size_t len)
{
    o = resp_head(o, '$', len);
    memcpy(o, s, len);
    o += len;
    *o++ = '\r';
    *o++ = '\n';
    return o;
}

static void op_fire(struct op *o, enum store_status st, json_t *result)
{
    if (o->fired)
        return;
    o->fired = true;
    if (o->timer)
        evtimer_del(o->timer);
    if (o->cb)
        o->cb(st, result, o->arg);
}

/* ---- refusals and whether writes are accepted ---- */

static const char *const refusal_names[STORE_NREFUSALS] = {"oom",        "readonly", "misconf",
                                                           "noreplicas", "noperm",   "other"};

const char *store_refusal_name(enum store_refusal k)
{
    return k < STORE_NREFUSALS ? refusal_names[k] : "other";
}

/* An error answer's kind by its first word; a script's error keeps the word
 * of the command that failed in it ("OOM command not allowed ... script:"),
 * except the ACL's, which Redis 7.0 words "ERR The user executing the script
 * can't run this command ..." (or "... access ... keys"). */
static enum store_refusal refusal_of(const char *err)
{
    static const char acl_in_script[] = "ERR The user executing the script can't ";
    if (strncmp(err, acl_in_script, sizeof acl_in_script - 1) == 0)
        return STORE_REFUSAL_NOPERM;
    static const struct {
        const char *word;
        enum store_refusal k;
    } words[] = {{"OOM ", STORE_REFUSAL_OOM},
                 {"READONLY ", STORE_REFUSAL_READONLY},
                 {"MISCONF ", STORE_REFUSAL_MISCONF},
                 {"NOREPLICAS ", STORE_REFUSAL_NOREPLICAS},
                 {"NOPERM ", STORE_REFUSAL_NOPERM}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strncmp(err, words[i].word, strlen(words[i].word)) == 0)
            return words[i].k;
    return STORE_REFUSAL_OTHER;
}

static const char *writes_name(enum store_writes w)
{
    switch (w) {
    case STORE_WRITES_OK:
        return "ok";
    case STORE_WRITES_DOWN:
        return "down";
    case STORE_WRITES_UNCHECKED:
        return "unchecked";
    case STORE_WRITES_OOM:
        return "oom";
    case STORE_WRITES_READONLY:
        return "readonly";
    case STORE_WRITES_MISCONF:
        return "misconf";
    case STORE_WRITES_MAY_EVICT:
        return "may_evict";
    case STORE_WRITES_NOREPLICAS:
        return "noreplicas";
    }
    return "?";
}

static void check_now(struct store *s);
static void force_reconnect(struct store *s, const char *why);

/* (Re)arms the probe and policy check ms from now. */
static void schedule_check(struct store *s, int ms)
{
    if (!s->check_timer || s->closing)
        return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(s->check_timer, &tv);
}

/* After anything that may change store_writes(): says so once per change,
 * and runs the writable callback when writes become accepted. `was` is what
 * store_writes() said before. */
static void writes_changed(struct store *s, enum store_writes was)
{
    enum store_writes now = store_writes(s);
    if (now == was || now == STORE_WRITES_DOWN)
        return;
    if (now == STORE_WRITES_OK) {
        if (was >= STORE_WRITES_OOM)
            log_info("event=redis_writable was=%s", writes_name(was));
        if (s->writable_cb)
            s->writable_cb(s->writable_arg);
        return;
    }
    if ((now >= STORE_WRITES_OOM && now <= STORE_WRITES_MISCONF) || now == STORE_WRITES_NOREPLICAS)
        log_error("event=redis_refusing_writes reason=%s hint=\"%s\"", writes_name(now),
                  now == STORE_WRITES_OOM ? "maxmemory reached: raise maxmemory or add memory"
                  : now == STORE_WRITES_READONLY
                      ? "a replica: point redis at the master (a failover?)"
                  : now == STORE_WRITES_NOREPLICAS
                      ? "fewer replicas than wait_replicas confirmed a write: check the replicas"
                      : "Redis cannot write its AOF or RDB file: free disk space");
}

/* An error answer to a command sent as `seq`: counted by kind, logged
 * (rate-limited), and for OOM, READONLY and MISCONF noted as Redis refusing
 * writes (unless a later probe already saw them accepted). Returns the
 * status the command's callback gets. */
static enum store_status note_error(struct store *s, uint64_t seq, const char *err)
{
    /* A Redis Cluster redirection is not an error of Redis: the cluster
     * router (cluster.c) follows it; neither counted nor logged here. */
    if (strncmp(err, "MOVED ", 6) == 0 || strncmp(err, "ASK ", 4) == 0 ||
        strncmp(err, "TRYAGAIN ", 9) == 0)
        return STORE_FAILED;
    enum store_refusal k = refusal_of(err);
    s->last_kind = k;
    s->refusals[k]++;
    unsigned long suppressed;
    if (log_every_due(&s->err_log[k], clock_mono_ms(), LOG_REPEAT_MS, &suppressed)) {
        char q[256];
        log_error("event=redis_error kind=%s err=%s suppressed=%lu", refusal_names[k],
                  log_quote(err, q, sizeof q), suppressed);
    }
    if (k > STORE_REFUSAL_NOREPLICAS)
        return STORE_FAILED;
    if (k == STORE_REFUSAL_READONLY && s->via && s->ac) {
        /* The master we reached became a replica (a failover, the old
         * master back): find the new one, and leave this one. */
        sentinel_rediscover(s->via, "readonly");
        force_reconnect(s, "readonly");
    }
    if (seq >= s->ok_seq && s->refusing != (int)k) {
        enum store_writes was = store_writes(s);
        s->refusing = (int)k;
        /* Probe soon and often until Redis accepts writes again. */
        s->probe_backoff_ms = PROBE_RETRY_MIN_MS;
        if (!s->plain && s->ready)
            schedule_check(s, PROBE_RETRY_MIN_MS);
        writes_changed(s, was);
    }
    return STORE_REFUSED;
}

/* Drops the connection at once (hiredis' own disconnect waits for pending
 * replies, which a frozen Redis never sends); pending callbacks fire with NULL. */
static void force_reconnect(struct store *s, const char *why)
{
    if (!s->ac)
        return;
    redisAsyncContext *ac = s->ac;
    s->ac = NULL;
    s->connected = s->ready = false;
    evtimer_del(s->handshake_timer);
    log_warn("event=redis_dropped reason=%s", why);
    redisAsyncFree(ac);
    schedule_reconnect(s);
}

static void on_op_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct op *o = arg;
    struct store *s = o->s;
    unsigned long suppressed;
    if (log_every_due(&s->timeout_log, clock_mono_ms(), LOG_REPEAT_MS, &suppressed))
        log_warn("event=redis_timeout timeout_ms=%d outstanding=%u suppressed=%lu", o->timeout_ms,
                 s->outstanding, suppressed);
    /* The op stays allocated until hiredis answers or the link dies. */
    op_fire(o, STORE_TIMEOUT, NULL);
    /* Silence for twice the deadline with work outstanding: the link or Redis is
     * stuck; reconnecting is the only way to notice when it is back. */
    if (s->outstanding > 0 && (clock_mono_ms() - s->last_reply_ms) > 2L * s->timeout_ms)
        force_reconnect(s, "unresponsive");
}

/* Maps a reply to a new JSON value; NULL for errors. */
static json_t *reply_to_json(const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return json_stringn_nocheck(r->str, r->len);
    case REDIS_REPLY_INTEGER:
        return json_integer(r->integer);
    case REDIS_REPLY_NIL:
        return json_null();
    case REDIS_REPLY_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < r->elements; i++) {
            json_t *e = reply_to_json(r->element[i]);
            if (!e || json_array_append_new(a, e) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    default:
        return NULL;
    }
}

static int send_op(struct store *s, struct op *o);
static int send_wait(struct store *s, struct op *o);

/* The script op o is done with: freed once no WAIT of it is outstanding
 * (the WAIT's reply still refers to it). */
static void op_settle(struct op *o)
{
    if (o->wait_pending == 0)
        op_free(o);
}

/* A script's answer (st, j): given to the caller now, or, when a WAIT
 * follows it, held until the WAIT says how many replicas have it. */
static void op_answer(struct op *o, enum store_status st, json_t *j)
{
    o->script_done = true;
    if (o->waits && st == STORE_OK && o->wait_unsent)
        st = STORE_DOWN, j = NULL;
    if (o->waits && st == STORE_OK && o->wait_pending > 0) {
        o->held = json_incref(j);
        return;
    }
    op_fire(o, st, j);
    op_settle(o);
}

/* The answer to the WAIT sent right behind script op p. */
static void on_wait_reply(struct op *p, const redisReply *r)
{
    struct store *s = p->s;
    p->wait_pending--;
    if (!p->script_done) {
        /* The WAIT behind an EVALSHA answered NOSCRIPT: another follows the EVAL. */
        return;
    }
    if (p->held) {
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= s->wait_replicas) {
            op_fire(p, STORE_OK, p->held);
        } else if (!r) {
            op_fire(p, STORE_DOWN, NULL);
        } else {
            /* Written on the master, not confirmed by enough replicas: it
             * may be lost in a failover. The caller retries (the
             * Idempotency-Key makes that safe); writes wait for the probe's
             * WAIT to succeed again. */
            char err[160];
            snprintf(err, sizeof err, "NOREPLICAS WAIT confirmed %lld of %d replicas within %d ms",
                     r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL, s->wait_replicas,
                     p->wait_ms);
            op_fire(p, note_error(s, p->seq, err), NULL);
        }
    }
    op_settle(p);
}

static void on_reply(redisAsyncContext *ac, void *replyp, void *privdata)
{
    (void)ac;
    struct op *o = privdata;
    struct store *s = o->s;
    redisReply *r = replyp;
    s->outstanding--;
    if (r)
        s->last_reply_ms = clock_mono_ms();
    if (o->parent) {
        on_wait_reply(o->parent, r);
        op_free(o);
        return;
    }
    if (!r) {
        op_answer(o, STORE_DOWN, NULL);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR && o->script >= 0 && !o->retried &&
        strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* Redis restarted or SCRIPT FLUSH: send the source once; it is cached again. */
        o->retried = true;
        const char *src = gc_scripts[o->script].source;
        size_t srclen = gc_scripts[o->script].len, rest = o->len - o->tail;
        size_t len =
            resp_head_len((size_t)o->argc) + resp_bulk_len(4) + resp_bulk_len(srclen) + rest;
        char *cmd = malloc(len + 1);
        if (cmd) {
            char *w = resp_head(cmd, '*', (size_t)o->argc);
            w = resp_bulk(w, "EVAL", 4);
            w = resp_bulk(w, src, srclen);
            memcpy(w, o->cmd + o->tail, rest);
            cmd[len] = '\0'; /* see resp_bulk() */
            free(o->cmd);
            o->cmd = cmd;
            o->len = len;
            o->tail = len - rest;
            if (send_op(s, o) == 0) {
                if (o->waits && send_wait(s, o) < 0)
                    o->wait_unsent = true;
                return;
            }
        }
        op_answer(o, STORE_DOWN, NULL);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        /* The error's text reaches the caller (a refusal it may tell apart). */
        json_t *text = json_stringn_nocheck(r->str, r->len);
        op_answer(o, note_error(s, o->seq, r->str), text);
        json_decref(text);
        return;
    }
    json_t *j = NULL;
    if (o->script >= 0) {
        if (r->type == REDIS_REPLY_STRING)
            j = json_loadb(r->str, r->len, JSON_DECODE_ANY, NULL);
        else if (r->type == REDIS_REPLY_ARRAY)
            j = reply_to_json(r); /* a hot path's flat answer (reply_flat) */
        if (!j)
            log_error("event=script_bad_reply script=%s", gc_scripts[o->script].name);
    } else {
        j = reply_to_json(r);
    }
    op_answer(o, j ? STORE_OK : STORE_FAILED, j);
    json_decref(j);
}

static int send_op(struct store *s, struct op *o)
{
    if (!s->ac)
        return -1;
    if (redisAsyncFormattedCommand(s->ac, on_reply, o, o->cmd, o->len) != REDIS_OK)
        return -1;
    s->outstanding++;
    o->seq = ++s->seq;
    return 0;
}

/* ---- rounds (store.h) ---- */

struct store_round {
    struct store *s;
    store_row_fn row;
    store_done_fn done;
    void *arg;
    struct event *timer;
    size_t sent;     /* commands handed to hiredis */
    size_t answered; /* replies (or NULLs from a broken link) received */
    int timeout_ms;  /* the round's deadline */
    uint64_t seq;    /* when it began, in the store's count of sends (op.seq) */
    bool started, fired;
    enum store_status st;     /* the worst outcome so far */
    struct cluster_round *cr; /* a façade's round: everything goes to it */
};

static void round_fire(struct store_round *rd)
{
    if (rd->fired)
        return;
    rd->fired = true;
    evtimer_del(rd->timer);
    rd->done(rd->arg, rd->st);
}

/* Frees the round once it has fired and every reply is in. */
static void round_settle(struct store_round *rd)
{
    if (rd->started && rd->answered == rd->sent) {
        round_fire(rd);
        event_free(rd->timer);
        free(rd);
    }
}

/* Elements handed to a row callback at most; HMGET of every counter fits. */
#define ROUND_ELEMS_MAX 32

static void on_round_reply(redisAsyncContext *ac, void *replyp, void *privdata)
{
    (void)ac;
    struct store_round *rd = privdata;
    struct store *s = rd->s;
    redisReply *r = replyp;
    size_t i = rd->answered++;
    s->outstanding--;
    if (!r) {
        rd->st = STORE_DOWN;
    } else {
        s->last_reply_ms = clock_mono_ms();
        if (r->type == REDIS_REPLY_ERROR) {
            enum store_status st = note_error(s, rd->seq, r->str);
            if (rd->st == STORE_OK)
                rd->st = st;
        } else if (!rd->fired && rd->st == STORE_OK) {
            struct store_str el[ROUND_ELEMS_MAX];
            char num[ROUND_ELEMS_MAX][24];
            const redisReply *const *items = (const redisReply *const *)r->element;
            size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 1;
            if (n > ROUND_ELEMS_MAX)
                n = ROUND_ELEMS_MAX;
            for (size_t k = 0; k < n; k++) {
                const redisReply *e = r->type == REDIS_REPLY_ARRAY ? items[k] : r;
                if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
                    el[k].s = e->str;
                    el[k].len = e->len;
                } else if (e->type == REDIS_REPLY_INTEGER) {
                    el[k].len = (size_t)snprintf(num[k], sizeof num[k], "%lld", e->integer);
                    el[k].s = num[k];
                } else {
                    el[k].s = NULL;
                    el[k].len = 0;
                }
            }
            rd->row(rd->arg, i, n, el);
        }
    }
    round_settle(rd);
}

static void on_round_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct store_round *rd = arg;
    struct store *s = rd->s;
    unsigned long suppressed;
    if (log_every_due(&s->timeout_log, clock_mono_ms(), LOG_REPEAT_MS, &suppressed))
        log_warn("event=redis_timeout timeout_ms=%d outstanding=%u suppressed=%lu", rd->timeout_ms,
                 s->outstanding, suppressed);
    rd->st = STORE_TIMEOUT;
    round_fire(rd);
    /* The round stays allocated until every reply is in or the link dies. */
    if (s->outstanding > 0 && (clock_mono_ms() - s->last_reply_ms) > 2L * s->timeout_ms)
        force_reconnect(s, "unresponsive");
}

/* A façade's round: a shell around the router's (freed at start). */
static struct store_round *cluster_round_shell(struct store *s, int timeout_ms, store_row_fn row,
                                               store_done_fn done, void *arg)
{
    struct store_round *rd = calloc(1, sizeof *rd);
    if (!rd)
        return NULL;
    rd->s = s;
    rd->cr = cluster_round_new(s->cl, timeout_ms, row, done, arg);
    if (!rd->cr) {
        free(rd);
        return NULL;
    }
    return rd;
}

struct store_round *store_round_new(struct store *s, int timeout_ms, store_row_fn row,
                                    store_done_fn done, void *arg)
{
    if (s->cl)
        return store_ready(s) && timeout_ms > 0 ? cluster_round_shell(s, timeout_ms, row, done, arg)
                                                : NULL;
    if (!s->ready || timeout_ms <= 0)
        return NULL;
    struct store_round *rd = calloc(1, sizeof *rd);
    if (!rd)
        return NULL;
    rd->s = s;
    rd->row = row;
    rd->done = done;
    rd->arg = arg;
    rd->st = STORE_OK;
    rd->timeout_ms = timeout_ms;
    rd->seq = ++s->seq;
    rd->timer = evtimer_new(s->base, on_round_timeout, rd);
    if (!rd->timer) {
        free(rd);
        return NULL;
    }
    return rd;
}

void store_round_add(struct store_round *rd, int argc, const char **argv, const size_t *lens)
{
    if (rd->cr) {
        cluster_round_add(rd->cr, argc, argv, lens);
        return;
    }
    struct store *s = rd->s;
    char small[512];
    size_t len = resp_head_len((size_t)argc);
    for (int i = 0; i < argc; i++)
        len += resp_bulk_len(lens[i]);
    char *cmd = len < sizeof small ? small : malloc(len + 1);
    if (!cmd) {
        rd->st = STORE_DOWN;
        return;
    }
    char *w = resp_head(cmd, '*', (size_t)argc);
    for (int i = 0; i < argc; i++)
        w = resp_bulk(w, argv[i], lens[i]);
    *w = '\0'; /* see resp_bulk() */
    int rc = s->ac ? redisAsyncFormattedCommand(s->ac, on_round_reply, rd, cmd, len) : REDIS_ERR;
    if (cmd != small)
        free(cmd);
    if (rc != REDIS_OK) {
        rd->st = STORE_DOWN;
        return;
    }
    rd->sent++;
    s->outstanding++;
}

void store_round_start(struct store_round *rd)
{
    if (rd->cr) {
        struct cluster_round *cr = rd->cr;
        free(rd);
        cluster_round_start(cr); /* frees itself after its done callback */
        return;
    }
    int ms = rd->timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    rd->started = true;
    evtimer_add(rd->timer, &tv);
    round_settle(rd);
}

/* Builds an op holding prefix (npre args) + argv as one RESP command. */
static struct op *op_new(struct store *s, int npre, const char **pre, const size_t *prelens,
                         int argc, const char **argv, const size_t *lens, store_cb cb, void *arg)
{
    struct op *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->s = s;
    o->cb = cb;
    o->arg = arg;
    o->script = -1;
    o->argc = npre + argc;
    size_t len = resp_head_len((size_t)o->argc);
    for (int i = 0; i < npre; i++)
        len += resp_bulk_len(prelens[i]);
    for (int i = 0; i < argc; i++)
        len += resp_bulk_len(lens[i]);
    o->cmd = malloc(len + 1);
    o->timer = evtimer_new(s->base, on_op_timeout, o);
    if (!o->cmd || !o->timer) {
        op_free(o);
        return NULL;
    }
    char *w = resp_head(o->cmd, '*', (size_t)o->argc);
    for (int i = 0; i < npre; i++) {
        w = resp_bulk(w, pre[i], prelens[i]);
        if (i == 1) /* after EVALSHA <sha>: what EVAL <source> replaces */
            o->tail = (size_t)(w - o->cmd);
    }
    for (int i = 0; i < argc; i++)
        w = resp_bulk(w, argv[i], lens[i]);
    *w = '\0'; /* see resp_bulk() */
    o->len = len;
    return o;
}

/* WAIT <wait_replicas> <o->wait_ms>, queued right behind script op o on
 * the same connection: one round trip still, and Redis answers it once the
 * replicas confirmed the offset of this connection's last write (o's, or a
 * later one's: at least o's). Its reply goes to on_wait_reply(o); its
 * deadline is o's. */
static int send_wait(struct store *s, struct op *o)
{
    char n[16], ms[16];
    snprintf(n, sizeof n, "%d", s->wait_replicas);
    snprintf(ms, sizeof ms, "%d", o->wait_ms);
    const char *argv[3] = {"WAIT", n, ms};
    size_t lens[3] = {4, strlen(n), strlen(ms)};
    struct op *w = op_new(s, 0, NULL, NULL, 3, argv, lens, NULL, NULL);
    if (!w)
        return -1;
    w->parent = o;
    if (send_op(s, w) < 0) {
        op_free(w);
        return -1;
    }
    o->wait_pending++;
    return 0;
}

static int submit(struct store *s, struct op *o, int timeout_ms)
{
    o->timeout_ms = timeout_ms;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (send_op(s, o) < 0) {
        op_free(o);
        return -1;
    }
    evtimer_add(o->timer, &tv);
    return 0;
}

static void on_handshake_reply(enum store_status st, json_t *result, void *arg)
{
    struct store *s = arg;
    (void)result;
    /* A Redis that cannot persist refuses even PING (MISCONF), the plain
     * connections' whole handshake: it answers, so the connection is up. Its
     * writes are the probe's business, not a reason to reconnect. */
    if (st == STORE_REFUSED)
        st = STORE_OK;
    if (st != STORE_OK)
        s->handshake_failed = true;
    if (st == STORE_FAILED)
        s->handshake_refused = true;
    if (--s->pending_handshake > 0)
        return;
    evtimer_del(s->handshake_timer);
    if (s->handshake_failed) {
        if (s->not_master && s->ac) {
            /* A sentinel named a server that is no master (yet or any more). */
            log_warn("event=redis_not_master addr=%s:%d", s->at_host, s->at_port);
            sentinel_rediscover(s->via, "not_master");
            force_reconnect(s, "not_master");
            return;
        }
        /* Redis refused a step (AUTH, SELECT, SCRIPT LOAD), whichever came last:
         * start over later. A link that died is already being reconnected. */
        if (s->handshake_refused) {
            log_error("event=redis_handshake_failed hint=\"check the password, ACL and db\"");
            force_reconnect(s, "handshake_failed");
        }
        return;
    }
    s->ready = true;
    s->backoff_ms = BACKOFF_MIN_MS;
    log_info("event=redis_ready scripts=%zu", s->plain ? (size_t)0 : gc_nscripts);
    /* The checks went out with the handshake and answer right after it. */
    if (!s->plain) {
        check_now(s);
        writes_changed(s, STORE_WRITES_DOWN); /* a store without a probe is writable now */
    }
    if (s->ready_cb)
        s->ready_cb(s->ready_arg);
}

/* ---- the probe and the policy check ---- */

static void on_probe(enum store_status st, json_t *result, void *arg)
{
    struct store *s = arg;
    s->probe_inflight = false;
    if (st == STORE_OK) {
        /* What the probe checks (the PII key) is settled before any write
         * can see the store writable. */
        if (s->probe_cb)
            s->probe_cb(st, result, s->probe_arg);
        enum store_writes was = store_writes(s);
        s->checked = true;
        s->refusing = NOT_REFUSING;
        s->ok_seq = s->probe_seq;
        s->probe_backoff_ms = PROBE_RETRY_MIN_MS;
        writes_changed(s, was);
    }
    /* Refused: noted by note_error. Failed (the ACL, a broken key) or
     * unanswered: tried again at the next check; a failure on a connection
     * where it never succeeded keeps writes unchecked. */
}

/* The value of "maxmemory_policy:" in an INFO text into out; false if
 * absent. */
static bool info_policy(const char *text, char *out, size_t n)
{
    static const char field[] = "\nmaxmemory_policy:";
    const char *p = strstr(text, field);
    if (!p)
        return false;
    p += sizeof field - 1;
    size_t len = strcspn(p, "\r\n");
    if (len == 0 || len >= n)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

static void on_info(enum store_status st, json_t *result, void *arg)
{
    struct store *s = arg;
    s->info_inflight = false;
    if (st == STORE_TIMEOUT || st == STORE_DOWN)
        return; /* asked again at the next check */
    enum store_writes was = store_writes(s);
    char name[POLICY_MAX];
    if (st == STORE_OK && json_is_string(result) &&
        info_policy(json_string_value(result), name, sizeof name)) {
        s->policy_at_ms = clock_mono_ms();
        snprintf(s->policy_name, sizeof s->policy_name, "%s", name);
        s->policy_unreadable_logged = false;
        if (strcmp(name, "noeviction") == 0) {
            s->policy = POLICY_SAFE;
            s->policy_logged[0] = '\0';
        } else {
            s->policy = POLICY_EVICTS;
            if (strcmp(s->policy_logged, name) != 0)
                log_error("event=redis_may_evict maxmemory_policy=%s hint=\"an evicting Redis "
                          "silently drops contacts, counts and idempotency records: set "
                          "maxmemory-policy noeviction (deploy/redis.conf); writes are refused "
                          "until then\"",
                          name);
            snprintf(s->policy_logged, sizeof s->policy_logged, "%s", name);
        }
    } else {
        /* Refused (an ACL without +info) or not understood: whether Redis may
         * evict is unknown, so writes wait as if it might. */
        s->policy = POLICY_UNREADABLE;
        s->policy_at_ms = clock_mono_ms();
        if (!s->policy_unreadable_logged)
            log_error("event=redis_policy_unreadable hint=\"INFO memory did not say "
                      "maxmemory-policy: the Redis user needs +info (deploy/redis-users.acl); "
                      "writes are refused until then\"");
        s->policy_unreadable_logged = true;
    }
    writes_changed(s, was);
}

static int send_script_waiting(struct store *s, int timeout_ms, int wait_ms, int idx, int nkeys,
                               int argc, const char **argv, const size_t *lens, store_cb cb,
                               void *arg);
static int send_command(struct store *s, int timeout_ms, int argc, const char **argv,
                        const size_t *lens, store_cb cb, void *arg);

/* Sends the probe and INFO memory when due and not in flight, on the
 * connection as it is (also during the handshake: they go out right behind
 * it, so that the store is checked the moment it is ready). */
static void send_checks(struct store *s)
{
    int64_t t = clock_mono_ms();
    if (!s->info_inflight && (s->policy == POLICY_UNKNOWN || s->policy == POLICY_UNREADABLE ||
                              t - s->policy_at_ms >= POLICY_EVERY_MS)) {
        const char *argv[2] = {"INFO", "memory"};
        size_t lens[2] = {4, 6};
        s->info_inflight = send_command(s, s->timeout_ms, 2, argv, lens, on_info, s) == 0;
    }
    if (s->probe_script >= 0 && !s->probe_inflight) {
        const char *argv[2] = {s->probe_key, s->probe_args};
        size_t lens[2] = {strlen(s->probe_key), strlen(s->probe_args)};
        /* With wait_replicas the probe also asks whether enough replicas
         * confirm (a WAIT behind it): a write they did not confirm stops
         * writes until one does. */
        int wait_ms = s->wait_replicas > 0 ? PROBE_WAIT_MS : 0;
        s->probe_inflight = send_script_waiting(s, s->timeout_ms, wait_ms, s->probe_script, 1, 2,
                                                argv, lens, on_probe, s) == 0;
        if (s->probe_inflight)
            s->probe_seq = s->seq;
    }
}

/* Sends the checks that are due and arms the next one. */
static void check_now(struct store *s)
{
    if (!s->ready)
        return; /* the next connection sends them with its handshake */
    send_checks(s);
    int ms = PROBE_EVERY_MS;
    if (!store_writable(s)) {
        ms = s->probe_backoff_ms;
        s->probe_backoff_ms =
            s->probe_backoff_ms * 2 > PROBE_EVERY_MS ? PROBE_EVERY_MS : s->probe_backoff_ms * 2;
    }
    schedule_check(s, ms);
}

static void on_check_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    check_now(arg);
}

int store_set_probe(struct store *s, const char *name, const char *key, const char *args,
                    store_cb cb, void *arg)
{
    if (s->cl)
        return cluster_set_probe(s->cl, name, key, args, cb, arg);
    int idx = -1;
    for (size_t i = 0; i < gc_nscripts; i++)
        if (strcmp(gc_scripts[i].name, name) == 0)
            idx = (int)i;
    char *k = strdup(key), *a = strdup(args);
    if (idx < 0 || !k || !a) {
        free(k);
        free(a);
        return -1;
    }
    free(s->probe_key);
    free(s->probe_args);
    s->probe_key = k;  /* ours */
    s->probe_args = a; /* ours */
    s->probe_script = idx;
    s->probe_cb = cb;
    s->probe_arg = arg;
    /* Writes wait for it, also on a connection already under way (its
     * handshake may still be going: the probe then follows it). */
    s->checked = false;
    if (s->ready)
        check_now(s);
    else if (s->ac)
        send_checks(s);
    return 0;
}

void store_on_writable(struct store *s, void (*cb)(void *arg), void *arg)
{
    if (s->cl)
        cluster_on_writable(s->cl, cb, arg);
    s->writable_cb = cb;
    s->writable_arg = arg;
}

enum store_writes store_writes(const struct store *s)
{
    if (s->cl)
        return cluster_writes(s->cl);
    if (!s->ready)
        return STORE_WRITES_DOWN;
    switch (s->refusing) {
    case STORE_REFUSAL_OOM:
        return STORE_WRITES_OOM;
    case STORE_REFUSAL_READONLY:
        return STORE_WRITES_READONLY;
    case STORE_REFUSAL_MISCONF:
        return STORE_WRITES_MISCONF;
    case STORE_REFUSAL_NOREPLICAS:
        return STORE_WRITES_NOREPLICAS;
    default:
        break;
    }
    if (s->policy == POLICY_EVICTS || s->policy == POLICY_UNREADABLE)
        return STORE_WRITES_MAY_EVICT;
    if (!s->checked || s->policy == POLICY_UNKNOWN)
        return STORE_WRITES_UNCHECKED;
    return STORE_WRITES_OK;
}

enum store_writes store_writes_for(const struct store *s, const char *key, size_t len)
{
    return s->cl ? cluster_writes_for(s->cl, key, len) : store_writes(s);
}

bool store_writable(const struct store *s)
{
    return store_writes(s) == STORE_WRITES_OK;
}

bool store_is_cluster(const struct store *s)
{
    return s->cl != NULL;
}

bool store_health(const struct store *s, struct store_health *out)
{
    if (!s->cl)
        return false;
    struct cluster_health h;
    cluster_health(s->cl, &h);
    *out = (struct store_health){.masters = h.masters,
                                 .masters_writable = h.masters_writable,
                                 .slots_unowned = h.slots_unowned,
                                 .slots_unavailable = h.slots_unavailable};
    return true;
}

const char *store_policy(const struct store *s)
{
    return s->policy_name;
}

enum store_refusal store_last_refusal(const struct store *s)
{
    return s->last_kind;
}

void store_render_metrics(const struct store *s, FILE *out)
{
    metrics_family(out, "gradcover_redis_writable", "gauge",
                   "1 while Redis accepts writes: connected, the probe answered after the last "
                   "refusal (OOM, READONLY, MISCONF), maxmemory-policy noeviction.");
    fprintf(out, "gradcover_redis_writable %d\n", store_writable(s) ? 1 : 0);
    metrics_family(out, "gradcover_redis_refusals_total", "counter",
                   "Commands Redis answered with an error, by reason: oom, readonly, misconf "
                   "(each refuses every write), noperm (the ACL), other.");
    for (int k = 0; k < STORE_NREFUSALS; k++)
        fprintf(out, "gradcover_redis_refusals_total{reason=\"%s\"} %llu\n", refusal_names[k],
                (unsigned long long)s->refusals[k]);
    if (s->via)
        sentinel_render_metrics(s->via, out);
    if (s->cl)
        cluster_render_metrics(s->cl, out);
}

static void on_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct store *s = arg;
    log_warn("event=redis_handshake_timeout timeout_ms=%d", HANDSHAKE_TIMEOUT_MS);
    force_reconnect(s, "handshake_timeout");
}

/* ROLE's answer on a connection to the master a sentinel named: the first
 * element must be "master". */
static void on_role(enum store_status st, json_t *result, void *arg)
{
    struct store *s = arg;
    const char *role = json_string_value(json_array_get(result, 0));
    if (st == STORE_OK && (!role || strcmp(role, "master") != 0)) {
        s->not_master = true;
        st = STORE_FAILED;
    }
    on_handshake_reply(st, result, arg);
}

static void handshake_cmd_cb(struct store *s, int argc, const char **argv, store_cb cb)
{
    size_t lens[4];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    struct op *o = op_new(s, 0, NULL, NULL, argc, argv, lens, cb, s);
    if (!o || submit(s, o, HANDSHAKE_TIMEOUT_MS) < 0) {
        s->handshake_failed = true;
        return;
    }
    o->internal = true;
    s->pending_handshake++;
}

static void handshake_cmd(struct store *s, int argc, const char **argv)
{
    handshake_cmd_cb(s, argc, argv, on_handshake_reply);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct store *s = ac->data;
    if (ac != s->ac)
        return; /* already dropped by force_reconnect() */
    if (status != REDIS_OK) {
        char q[256];
        log_warn("event=redis_connect_failed err=%s", log_quote(ac->errstr, q, sizeof q));
        s->ac = NULL; /* hiredis frees the context after this callback */
        s->connected = s->ready = false;
        evtimer_del(s->handshake_timer);
        if (s->via)
            sentinel_rediscover(s->via, "connect_failed");
        schedule_reconnect(s);
        return;
    }
    s->connected = true;
    log_info("event=redis_connected");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct store *s = ac->data;
    if (ac != s->ac)
        return; /* already dropped by force_reconnect() or store_free() */
    bool was_ready = s->ready;
    s->ac = NULL;
    s->connected = s->ready = false;
    evtimer_del(s->handshake_timer);
    if (s->closing)
        return;
    char q[256];
    if (status != REDIS_OK || was_ready)
        log_warn("event=redis_disconnected err=%s",
                 log_quote(ac->errstr[0] ? ac->errstr : "closed", q, sizeof q));
    if (s->via)
        sentinel_rediscover(s->via, "disconnected");
    schedule_reconnect(s);
}

static void store_connect(struct store *s)
{
    if (s->via) {
        if (!sentinel_master(s->via, s->at_host, sizeof s->at_host, &s->at_port)) {
            /* No sentinel has named the master yet: it tells us (on_master_named). */
            sentinel_rediscover(s->via, "no_master");
            schedule_reconnect(s);
            return;
        }
    } else {
        snprintf(s->at_host, sizeof s->at_host, "%s", s->target.host);
        s->at_port = s->target.port;
    }
    redisAsyncContext *ac = s->target.unix_socket ? redisAsyncConnectUnix(s->target.path)
                                                  : redisAsyncConnect(s->at_host, s->at_port);
    if (!ac || ac->err) {
        char q[256];
        log_warn("event=redis_connect_failed err=%s",
                 log_quote(ac ? ac->errstr : "out of memory", q, sizeof q));
        if (ac)
            redisAsyncFree(ac);
        schedule_reconnect(s);
        return;
    }
    ac->data = s;
    s->ac = ac;
    redisLibeventAttach(ac, s->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);

    /* Queued now, written once the socket connects: AUTH, SELECT, then every script. */
    s->pending_handshake = 0;
    s->handshake_failed = false;
    s->handshake_refused = false;
    s->not_master = false;
    if (s->target.password[0]) {
        if (s->target.user[0])
            handshake_cmd(s, 3, (const char *[]){"AUTH", s->target.user, s->target.password});
        else
            handshake_cmd(s, 2, (const char *[]){"AUTH", s->target.password});
    }
    /* What a sentinel names may be a replica still (or again): checked
     * before anything is read or written here. */
    if (s->via)
        handshake_cmd_cb(s, 1, (const char *[]){"ROLE"}, on_role);
    if (s->target.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", s->target.db);
        handshake_cmd(s, 2, (const char *[]){"SELECT", db});
    }
    for (size_t i = 0; !s->plain && i < gc_nscripts; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", gc_scripts[i].source};
        size_t lens[3] = {6, 4, gc_scripts[i].len};
        struct op *o = op_new(s, 0, NULL, NULL, 3, argv, lens, on_handshake_reply, s);
        if (!o || submit(s, o, HANDSHAKE_TIMEOUT_MS) < 0) {
            s->handshake_failed = true;
            continue;
        }
        o->internal = true;
        s->pending_handshake++;
    }
    if (!s->plain) {
        /* A new connection may reach another Redis (a failover, a restore):
         * nothing known of the last one holds until checked again. The
         * checks go out right behind the handshake, so that the store is
         * checked the moment it is ready (no request in between: their
         * answers come in the same read). */
        s->refusing = NOT_REFUSING;
        s->checked = s->probe_script < 0;
        s->ok_seq = s->seq + 1;
        s->policy = POLICY_UNKNOWN;
        s->policy_name[0] = '\0';
        s->probe_backoff_ms = PROBE_RETRY_MIN_MS;
        send_checks(s);
    }
    /* A plain store with no password and db 0 has nothing to say: one PING,
     * so that it too becomes ready on an answer. */
    if (s->pending_handshake == 0 && !s->handshake_failed)
        handshake_cmd(s, 1, (const char *[]){"PING"});
    struct timeval tv = {HANDSHAKE_TIMEOUT_MS / 1000, 0};
    evtimer_add(s->handshake_timer, &tv);
    s->last_reply_ms = clock_mono_ms();
    if (s->handshake_failed && s->pending_handshake == 0)
        force_reconnect(s, "handshake_send_failed");
}

/* A sentinel named the master: a connection elsewhere leaves for it, one
 * waiting to reconnect goes now. */
static void on_master_named(void *arg)
{
    struct store *s = arg;
    char host[256];
    int port;
    if (s->closing || !sentinel_master(s->via, host, sizeof host, &port))
        return;
    /* The address this store last went to (connected, or waiting to try it
     * again): its backoff goes on. */
    if (strcmp(host, s->at_host) == 0 && port == s->at_port)
        return;
    if (s->ac)
        force_reconnect(s, "master_moved");
    if (!s->ac) {
        evtimer_del(s->reconnect_timer);
        s->backoff_ms = BACKOFF_MIN_MS;
        store_connect(s);
    }
}

/* Follows target->via when set (a redis-sentinel:// URL). */
static int store_follow(struct store *s, const struct redis_target *target)
{
    s->via = target->via;
    if (!s->via)
        return 0;
    if (sentinel_watch(s->via, on_master_named, s) < 0)
        return -1;
    s->watching = true;
    return 0;
}

/* A store on a redis-cluster:// target: no connection, timers or scripts of
 * its own; the router (target->cluster_via) does the work. */
static struct store *store_new_facade(struct event_base *base, const struct redis_target *target,
                                      int timeout_ms)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->target = *target;
    s->timeout_ms = timeout_ms;
    s->refusing = NOT_REFUSING;
    s->probe_script = -1;
    s->cl = target->cluster_via;
    return s;
}

struct store *store_new(struct event_base *base, const struct redis_target *target, int timeout_ms)
{
    if (target->cluster_via)
        return store_new_facade(base, target, timeout_ms);
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->target = *target;
    s->timeout_ms = timeout_ms;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->refusing = NOT_REFUSING;
    s->probe_script = -1;
    s->sha = calloc(gc_nscripts ? gc_nscripts : 1, sizeof *s->sha);
    s->reconnect_timer = evtimer_new(base, on_reconnect_timer, s);
    s->handshake_timer = evtimer_new(base, on_handshake_timeout, s);
    s->check_timer = evtimer_new(base, on_check_timer, s);
    if (!s->sha || !s->reconnect_timer || !s->handshake_timer || !s->check_timer ||
        store_follow(s, target) < 0) {
        store_free(s);
        return NULL;
    }
    for (size_t i = 0; i < gc_nscripts; i++) {
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)gc_scripts[i].source, gc_scripts[i].len, md);
        hex_encode(md, SHA_DIGEST_LENGTH, s->sha[i]);
    }
    srand((unsigned)time(NULL) ^ (unsigned)(uintptr_t)s);
    store_connect(s);
    return s;
}

struct store *store_new_plain(struct event_base *base, const struct redis_target *target,
                              int timeout_ms)
{
    if (target->cluster_via)
        return NULL; /* one node's target instead (cluster_node_target) */
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->target = *target;
    s->timeout_ms = timeout_ms;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->plain = true;
    s->refusing = NOT_REFUSING;
    s->probe_script = -1;
    s->reconnect_timer = evtimer_new(base, on_reconnect_timer, s);
    s->handshake_timer = evtimer_new(base, on_handshake_timeout, s);
    if (!s->reconnect_timer || !s->handshake_timer || store_follow(s, target) < 0) {
        store_free(s);
        return NULL;
    }
    store_connect(s);
    return s;
}

struct redisAsyncContext *store_context(struct store *s)
{
    return s->ready ? s->ac : NULL;
}

void store_drop(struct store *s, const char *why)
{
    force_reconnect(s, why);
}

void store_free(struct store *s)
{
    if (!s)
        return;
    s->closing = true;
    if (s->watching)
        sentinel_unwatch(s->via, s);
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        redisAsyncFree(ac);
    }
    if (s->reconnect_timer)
        event_free(s->reconnect_timer);
    if (s->handshake_timer)
        event_free(s->handshake_timer);
    if (s->check_timer)
        event_free(s->check_timer);
    free(s->probe_key);
    free(s->probe_args);
    free(s->sha);
    free(s);
}

void store_on_ready(struct store *s, void (*cb)(void *arg), void *arg)
{
    if (s->cl)
        cluster_on_ready(s->cl, cb, arg);
    s->ready_cb = cb;
    s->ready_arg = arg;
}

bool store_ready(const struct store *s)
{
    return s->cl ? cluster_ready(s->cl) : s->ready;
}

const char *store_down_reason(const struct store *s)
{
    if (s->cl)
        return cluster_down_reason(s->cl);
    if (s->ready)
        return NULL;
    if (s->via)
        return s->at_host[0] ? "no Redis master ready: the one the sentinels named does not "
                               "answer as master yet (a failover under way?)"
                             : "no Redis master: no sentinel has named one yet";
    return "not connected to Redis or scripts not loaded yet";
}

int store_retry_after_s(const struct store *s)
{
    (void)s;
    /* Reconnects are attempted at most BACKOFF_MAX_MS apart. */
    return 1 + BACKOFF_MAX_MS / 1000;
}

int store_timeout_ms(const struct store *s)
{
    return s->timeout_ms;
}

/* A command on the connection as it is, ready or not (the checks). */
static int send_command(struct store *s, int timeout_ms, int argc, const char **argv,
                        const size_t *lens, store_cb cb, void *arg)
{
    struct op *o = op_new(s, 0, NULL, NULL, argc, argv, lens, cb, arg);
    if (!o)
        return -1;
    return submit(s, o, timeout_ms);
}

int store_command_within(struct store *s, int timeout_ms, int argc, const char **argv,
                         const size_t *lens, store_cb cb, void *arg)
{
    if (s->cl)
        return store_ready(s) ? cluster_command_within(s->cl, timeout_ms, argc, argv, lens, cb, arg)
                              : -1;
    if (!s->ready || timeout_ms <= 0)
        return -1;
    return send_command(s, timeout_ms, argc, argv, lens, cb, arg);
}

int store_command(struct store *s, int argc, const char **argv, const size_t *lens, store_cb cb,
                  void *arg)
{
    return store_command_within(s, s->timeout_ms, argc, argv, lens, cb, arg);
}

/* Script gc_scripts[idx] on the connection as it is, ready or not; with
 * wait_ms > 0 a WAIT follows it (send_wait) and the answer waits for it. */
static int send_script_waiting(struct store *s, int timeout_ms, int wait_ms, int idx, int nkeys,
                               int argc, const char **argv, const size_t *lens, store_cb cb,
                               void *arg)
{
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    const char *pre[3] = {"EVALSHA", s->sha[idx], nk};
    size_t prelens[3] = {7, 40, strlen(nk)};
    struct op *o = op_new(s, 3, pre, prelens, argc, argv, lens, cb, arg);
    if (!o)
        return -1;
    o->script = idx;
    o->waits = wait_ms > 0;
    o->wait_ms = wait_ms;
    if (submit(s, o, timeout_ms) < 0)
        return -1;
    if (o->waits && send_wait(s, o) < 0)
        o->wait_unsent = true;
    return 0;
}

/* Scripts that change nothing a client was told of (reads; token_guard's
 * once-a-minute last_used_at touch): no WAIT behind them, so that reads go
 * on while no replica confirms. Every other script is a write. */
static bool script_reads(const char *name)
{
    static const char *const reads[] = {
        "activity",      "caseloads",     "coverage",   "history",
        "queue",         "silence_list",  "token_list", "transfer_pending",
        "silence_check", "digest_county", "token_guard"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        if (strcmp(name, reads[i]) == 0)
            return true;
    return false;
}

int store_script_within(struct store *s, int timeout_ms, const char *name, int nkeys, int argc,
                        const char **argv, const size_t *lens, store_cb cb, void *arg)
{
    if (s->cl)
        return store_ready(s) ? cluster_script_within(s->cl, timeout_ms, name, nkeys, argc, argv,
                                                      lens, cb, arg)
                              : -1;
    if (!s->ready || timeout_ms <= 0)
        return -1;
    int idx = -1;
    for (size_t i = 0; i < gc_nscripts; i++)
        if (strcmp(gc_scripts[i].name, name) == 0)
            idx = (int)i;
    if (idx < 0) {
        log_error("event=unknown_script script=%s", name);
        return -1;
    }
    int wait_ms = 0;
    if (s->wait_replicas > 0 && !script_reads(name)) {
        /* WAIT's timeout within the caller's deadline, with a third left
         * for the script and the answer's way back. */
        wait_ms = s->wait_ms < timeout_ms * 2 / 3 ? s->wait_ms : timeout_ms * 2 / 3;
        if (wait_ms < 1)
            wait_ms = 1;
    }
    return send_script_waiting(s, timeout_ms, wait_ms, idx, nkeys, argc, argv, lens, cb, arg);
}

void store_set_wait_replicas(struct store *s, int replicas, int wait_ms)
{
    if (s->cl)
        cluster_set_wait_replicas(s->cl, replicas > 0 ? replicas : 0, wait_ms > 0 ? wait_ms : 1);
    s->wait_replicas = replicas > 0 ? replicas : 0;
    s->wait_ms = wait_ms > 0 ? wait_ms : 1;
}

int store_script(struct store *s, const char *name, int nkeys, int argc, const char **argv,
                 const size_t *lens, store_cb cb, void *arg)
{
    return store_script_within(s, s->timeout_ms, name, nkeys, argc, argv, lens, cb, arg);
}

/* Percent-decoding is not needed: passwords with '@' or ':' go through ACL users
 * whose secrets are chosen by the operator; we reject what we cannot parse. */
