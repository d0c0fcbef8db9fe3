/* The receivers' queues (see sendq.h). A turn of one queue: wait until its
 * items are gathered (chat robots) and its pace allows, take them, ask
 * which counties are silenced (one script for all), ask Redis for the
 * receiver's turn (robots), then post one message (robots) or one per item
 * (json, Alertmanager) and hand every item its outcome. A robot's queue has
 * one message in flight at a time, so its messages keep their order. */
#include "gradcover/alerts/sendq.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/alerts/post.h"
#include "gradcover/alerts/silence.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

/* A robot's queue sends once no new item has come for QUIET_MS: the events
 * of one write, one restore or one sweep arrive within milliseconds of each
 * other, and a lone event waits no more than this. */
#define QUIET_MS 2000
/* ...and at the latest this long after the first item came (plus the
 * evaluation interval: on 1 January the timer's transitions are spread over
 * one interval, and they make one message). */
#define GATHER_EXTRA_MS (2 * QUIET_MS)
/* When Redis cannot say what is silenced or whose turn it is, the queue
 * asks again after this: nothing is sent unchecked. */
#define STORE_RETRY_MS 1000
/* SPEC §7: retries from 1 s doubling to 5 min. */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

#define NRESULTS 4
static const char *const result_names[NRESULTS] = {"delivered", "retry", "failed", "suppressed"};

struct sendq;

/* One receiver's queue; lives as long as the queues (a removed receiver's
 * too: callbacks of its last turn may still come). */
struct rq {
    struct sendq *q;
    const struct receiver *rv; /* borrowed: its slot outlives the queues */
    bool removed;              /* sendq_remove: takes nothing, sends nothing more */
    struct sendq_item *head, *tail;
    size_t len;
    struct event *timer;
    bool busy;          /* a turn is under way: no other starts */
    int64_t first_mono; /* when the oldest waiting item came (monotonic ms) */
    int64_t last_mono;  /* when the newest did */
    int64_t not_before; /* monotonic ms: no turn before (pace, Redis trouble) */
    uint64_t messages;
    uint64_t results[NRESULTS];
};

struct turn;

struct sendq {
    struct sendq_deps d;
    struct rq **rqs; /* one per receiver slot (receiver.h), in their order */
    size_t nrqs;
    int64_t gather_max_ms;
    struct turn *turns; /* under way: freed with the queues */
};

/* One post of a turn: its items and the views its message was built from. */
struct post_ctx {
    struct turn *t;
    struct sendq_item **items;
    size_t n;
    struct receiver_event *events;
};

/* The items of one turn. */
struct turn {
    struct rq *rq;
    const struct receiver_kind *kind; /* the receiver's when the turn began */
    struct turn *next, *prev;
    struct sendq_item **items;
    size_t n;
    struct post_ctx *ctxs; /* one per message: 1 for a robot, n for the others */
    size_t nctx;
    size_t posts; /* posts not yet answered */
};

/* ---- queue plumbing ---- */

static void push_back(struct rq *rq, struct sendq_item *it)
{
    it->next = NULL;
    if (rq->tail)
        rq->tail->next = it;
    else
        rq->head = it;
    rq->tail = it;
    rq->len++;
}

/* Puts a turn's items back at the front of the queue, in their order. */
static void put_back(struct rq *rq, struct sendq_item **items, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        items[i]->next = rq->head;
        rq->head = items[i];
        if (!rq->tail)
            rq->tail = items[i];
        rq->len++;
    }
}

static void schedule(struct rq *rq)
{
    if (rq->busy || rq->len == 0)
        return;
    if (rq->removed)
        return;
    const struct receiver_kind *k = rq->rv->kind;
    int64_t now = clock_mono_ms(), at = now;
    if (k->batches) {
        int64_t quiet = rq->last_mono + QUIET_MS, cap = rq->first_mono + rq->q->gather_max_ms;
        at = quiet < cap ? quiet : cap;
    }
    if (rq->not_before > at)
        at = rq->not_before;
    int64_t ms = at > now ? at - now : 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(rq->timer, &tv);
}

static void turn_free(struct turn *t)
{
    struct sendq *q = t->rq->q;
    if (t->prev)
        t->prev->next = t->next;
    else
        q->turns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    for (size_t i = 0; i < t->nctx; i++)
        free(t->ctxs[i].events);
    free(t->ctxs);
    free(t->items);
    free(t);
}

/* Items whose receiver was removed: done, never sent. */
static void drop_items(struct sendq_item **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        items[i]->done(items[i], SENDQ_DROPPED, "receiver removed by a configuration reload");
}

/* The turn is over: the queue may start the next. */
static void turn_end(struct turn *t)
{
    struct rq *rq = t->rq;
    rq->busy = false;
    turn_free(t);
    schedule(rq);
}

/* Redis could not answer: the items wait at the front, and the queue asks
 * again after STORE_RETRY_MS. */
static void turn_later(struct turn *t, int64_t ms)
{
    struct rq *rq = t->rq;
    if (rq->removed) {
        drop_items(t->items, t->n);
        turn_end(t);
        return;
    }
    put_back(rq, t->items, t->n);
    rq->not_before = clock_mono_ms() + ms;
    /* They were gathered already: they go at not_before, not a gathering later. */
    rq->first_mono = clock_mono_ms() - rq->q->gather_max_ms;
    turn_end(t);
}

/* ---- posting ---- */

static enum sendq_outcome judge(const struct receiver_kind *kind, const struct post_answer *ans,
                                char *why, size_t n)
{
    why[0] = '\0';
    if (ans->status > 0) {
        switch (kind->classify(ans->status, ans->body, ans->len, why, n)) {
        case RECEIVER_DONE:
            why[0] = '\0';
            return SENDQ_DONE;
        case RECEIVER_RETRY:
            return SENDQ_RETRY;
        case RECEIVER_PERMANENT:
            return SENDQ_PERMANENT;
        }
    }
    /* No answer is retried like a 5xx, whatever the kind; a URL that cannot
     * be used (-1) fails at once: repeating cannot help. */
    snprintf(why, n, "%s", ans->err ? ans->err : "failed");
    return ans->status == 0 ? SENDQ_RETRY : SENDQ_PERMANENT;
}

/* Hands items[0..n) the outcome of the answer (or non-answer) ans. */
static void answered(struct turn *t, struct sendq_item **items, size_t n,
                     const struct post_answer *ans)
{
    char why[128];
    enum sendq_outcome o = judge(t->kind, ans, why, sizeof why);
    for (size_t i = 0; i < n; i++)
        items[i]->done(items[i], o, why);
    /* A robot's turn ends with its one message's answer; the others' turn
     * ended when they posted. */
    if (--t->posts == 0) {
        if (t->kind->batches)
            turn_end(t);
        else
            turn_free(t);
    }
}

static void on_posted(const struct post_answer *ans, void *arg)
{
    struct post_ctx *c = arg;
    free(c->events);
    c->events = NULL;
    answered(c->t, c->items, c->n, ans);
}

/* Builds and posts one message of items[0..n) (all events, or one
 * digest) with the turn's context c. */
static void post_message(struct turn *t, struct post_ctx *c, struct sendq_item **items, size_t n)
{
    struct sendq *q = t->rq->q;
    const struct receiver *r = t->rq->rv;
    struct clock system = {0};
    int64_t now = clock_now_ms(q->d.clock);
    struct receiver_message m = {.lang = strcmp(q->d.cfg->alerts.language, "en") == 0 ? RECEIVER_EN
                                                                                      : RECEIVER_ZH,
                                 .public_url = q->d.cfg->alerts.public_url,
                                 .sent_at = now,
                                 .sign_at = clock_now_ms(&system),
                                 .utc_offset_minutes = q->d.cfg->utc_offset_minutes};
    struct receiver_request req = {0};
    *c = (struct post_ctx){.t = t, .items = items, .n = n};
    if (items[0]->digest) {
        m.digest = items[0]->digest;
    } else if ((c->events = calloc(n, sizeof *c->events))) {
        for (size_t i = 0; i < n; i++)
            items[i]->view(items[i], now, &c->events[i]);
        m.events = c->events;
        m.n = n;
    }
    t->posts++;
    if ((!m.digest && !c->events) || t->kind->build(r, &m, &req) < 0 ||
        (r->secret && t->kind->sign && t->kind->sign(r, &m, &req) < 0)) {
        receiver_request_clear(&req);
        struct post_answer oom = {.status = 0, .err = "out of memory", .body = ""};
        on_posted(&oom, c);
        return;
    }
    t->rq->messages++;
    post_json(q->d.post, req.url, req.body, req.headers, on_posted, c);
    receiver_request_clear(&req);
}

static void send_turn(struct turn *t)
{
    const struct receiver_kind *k = t->kind;
    /* Removed while the turn asked Redis: nothing is posted any more. */
    if (t->rq->removed) {
        turn_later(t, 0);
        return;
    }
    t->nctx = k->batches ? 1 : t->n;
    if (!(t->ctxs = calloc(t->nctx, sizeof *t->ctxs))) {
        t->nctx = 0;
        turn_later(t, STORE_RETRY_MS);
        return;
    }
    if (k->batches) {
        post_message(t, &t->ctxs[0], t->items, t->n);
        return;
    }
    /* One message per item, all at once; the next turn need not wait for
     * their answers (a slow receiver holds up nothing else). */
    t->posts = 1; /* held until every post is out */
    t->rq->busy = false;
    for (size_t i = 0; i < t->n; i++)
        post_message(t, &t->ctxs[i], &t->items[i], 1);
    struct rq *rq = t->rq;
    if (--t->posts == 0)
        turn_free(t);
    schedule(rq);
}

/* ---- pacing ---- */

static void on_paced(enum store_status st, json_t *res, void *arg)
{
    struct turn *t = arg;
    if (st != STORE_OK) {
        turn_later(t, STORE_RETRY_MS);
        return;
    }
    long long wait = jsonx_ll(json_object_get(res, "wait"));
    if (wait > 0) {
        turn_later(t, wait);
        return;
    }
    send_turn(t);
}

/* A robot's turn is Redis's to give (every server sends to the same robot). */
static void pace(struct turn *t)
{
    struct sendq *q = t->rq->q;
    const struct receiver *r = t->rq->rv;
    if (t->kind->spacing_ms <= 0) {
        send_turn(t);
        return;
    }
    json_t *args = json_pack("{s:s, s:i}", "name", r->name, "spacing_ms", t->kind->spacing_ms);
    char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
    json_decref(args);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    const char *argv[2] = {key, text ? text : "{}"};
    size_t lens[2] = {strlen(key), strlen(argv[1])};
    int rc = text ? store_script(q->d.store, "pace", 1, 2, argv, lens, on_paced, t) : -1;
    free(text);
    if (rc < 0)
        turn_later(t, STORE_RETRY_MS);
}

/* ---- silences ---- */

static void on_silences(void *arg, enum store_status st, const struct silence_status *s, size_t n)
{
    struct turn *t = arg;
    if (st != STORE_OK) {
        turn_later(t, STORE_RETRY_MS);
        return;
    }
    /* s[] follows the items with a county, in order; the silenced are
     * done (suppressed), the others stay in the turn. */
    size_t k = 0, keep = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct sendq_item *it = t->items[i];
        if (it->county && k < n && s[k++].silenced) {
            char why[64];
            snprintf(why, sizeof why, "silenced (silence %s)", s[k - 1].id);
            it->done(it, SENDQ_SUPPRESSED, why);
            continue;
        }
        t->items[keep++] = it;
    }
    t->n = keep;
    if (t->n == 0) {
        turn_end(t);
        return;
    }
    pace(t);
}

/* ---- a turn ---- */

static void on_turn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rq *rq = arg;
    struct sendq *q = rq->q;
    if (rq->busy || rq->len == 0 || rq->removed)
        return;
    if (!store_ready(q->d.store)) {
        rq->not_before = clock_mono_ms() + STORE_RETRY_MS;
        schedule(rq);
        return;
    }
    const struct receiver_kind *k = rq->rv->kind;
    struct turn *t = calloc(1, sizeof *t);
    if (t)
        t->items = calloc(rq->len, sizeof *t->items);
    if (!t || !t->items) {
        free(t);
        rq->not_before = clock_mono_ms() + STORE_RETRY_MS;
        schedule(rq);
        return;
    }
    t->rq = rq;
    t->kind = k;
    t->next = q->turns;
    if (q->turns)
        q->turns->prev = t;
    q->turns = t;
    /* A robot's turn takes every waiting event, or a digest alone (it is a
     * message of its own); the others take everything, one message each. */
    struct sendq_item **pp = &rq->head, *prev = NULL;
    bool digest_turn = k->batches && rq->head->digest;
    while (*pp) {
        struct sendq_item *it = *pp;
        bool take = !k->batches || (digest_turn ? t->n == 0 : !it->digest);
        if (!take) {
            prev = it;
            pp = &it->next;
            continue;
        }
        *pp = it->next;
        if (rq->tail == it)
            rq->tail = prev;
        rq->len--;
        t->items[t->n++] = it;
        if (digest_turn)
            break;
    }
    rq->busy = true;
    rq->first_mono = rq->last_mono = clock_mono_ms();
    const char **counties = calloc(t->n, sizeof *counties);
    size_t nc = 0;
    for (size_t i = 0; counties && i < t->n; i++)
        if (t->items[i]->county)
            counties[nc++] = t->items[i]->county;
    if (!counties) {
        turn_later(t, STORE_RETRY_MS);
        return;
    }
    if (nc == 0) {
        free(counties);
        on_silences(t, STORE_OK, NULL, 0);
        return;
    }
    int rc = silence_check(q->d.store, counties, nc, clock_now_ms(q->d.clock), on_silences, t);
    free(counties);
    if (rc < 0)
        turn_later(t, STORE_RETRY_MS);
}

/* ---- the interface ---- */

void sendq_put(struct sendq *q, struct sendq_item *it)
{
    struct rq *rq = it->receiver < q->nrqs ? q->rqs[it->receiver] : NULL;
    if (!rq || rq->removed) {
        drop_items(&it, 1);
        return;
    }
    int64_t now = clock_mono_ms();
    if (rq->len == 0)
        rq->first_mono = now;
    rq->last_mono = now;
    push_back(rq, it);
    schedule(rq);
}

void sendq_forget(struct sendq *q, struct sendq_item *it)
{
    if (it->receiver >= q->nrqs)
        return;
    struct rq *rq = q->rqs[it->receiver];
    struct sendq_item *prev = NULL;
    for (struct sendq_item **pp = &rq->head; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == it) {
            *pp = it->next;
            if (rq->tail == it)
                rq->tail = prev;
            rq->len--;
            return;
        }
}

void sendq_count(struct sendq *q, size_t receiver, enum sendq_result r)
{
    if (receiver < q->nrqs)
        q->rqs[receiver]->results[r]++;
}

int64_t sendq_backoff_ms(int attempts)
{
    int64_t ms = BACKOFF_MIN_MS;
    for (int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    return ms + rand() % (ms / 4 + 1); /* up to +25% jitter */
}

struct sendq *sendq_new(const struct sendq_deps *deps)
{
    struct sendq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->d = *deps;
    q->gather_max_ms = (int64_t)deps->cfg->alerts.eval_interval_seconds * 1000 + GATHER_EXTRA_MS;
    return q;
}

int sendq_add(struct sendq *q, const struct receiver *r)
{
    struct rq **grown = realloc(q->rqs, (q->nrqs + 1) * sizeof *grown);
    if (!grown)
        return -1;
    q->rqs = grown;
    struct rq *rq = calloc(1, sizeof *rq);
    if (!rq)
        return -1;
    rq->q = q;
    rq->rv = r;
    if (!(rq->timer = evtimer_new(q->d.base, on_turn, rq))) {
        free(rq);
        return -1;
    }
    q->rqs[q->nrqs++] = rq;
    return 0;
}

size_t sendq_remove(struct sendq *q, size_t receiver)
{
    if (receiver >= q->nrqs || q->rqs[receiver]->removed)
        return 0;
    struct rq *rq = q->rqs[receiver];
    rq->removed = true;
    evtimer_del(rq->timer);
    size_t dropped = 0;
    while (rq->head) {
        struct sendq_item *it = rq->head;
        rq->head = it->next;
        rq->len--;
        dropped++;
        drop_items(&it, 1);
    }
    rq->tail = NULL;
    rq->len = 0;
    return dropped;
}

void sendq_revive(struct sendq *q, size_t receiver)
{
    if (receiver < q->nrqs)
        q->rqs[receiver]->removed = false;
}

void sendq_reconfigure(struct sendq *q, const struct config *cfg)
{
    if (q)
        q->d.cfg = cfg;
}

void sendq_free(struct sendq *q)
{
    if (!q)
        return;
    while (q->turns)
        turn_free(q->turns);
    for (size_t i = 0; i < q->nrqs; i++) {
        event_free(q->rqs[i]->timer);
        free(q->rqs[i]);
    }
    free(q->rqs);
    free(q);
}

void sendq_render_metrics(const struct sendq *q, FILE *out)
{
    metrics_family(out, "gradcover_alert_notifications_total", "counter",
                   "Alert notification delivery attempts by receiver and result (delivered, "
                   "retry, failed; suppressed: not sent, the county silenced).");
    for (size_t r = 0; r < q->nrqs; r++)
        for (int k = 0; k < NRESULTS && !q->rqs[r]->removed; k++) {
            fputs("gradcover_alert_notifications_total{receiver=\"", out);
            metrics_label(out, q->rqs[r]->rv->name);
            fprintf(out, "\",result=\"%s\"} %llu\n", result_names[k],
                    (unsigned long long)q->rqs[r]->results[k]);
        }
    metrics_family(out, "gradcover_alert_messages_total", "counter",
                   "Messages posted to each receiver; a chat robot's message may carry several "
                   "notifications.");
    for (size_t r = 0; r < q->nrqs; r++) {
        if (q->rqs[r]->removed)
            continue;
        fputs("gradcover_alert_messages_total{receiver=\"", out);
        metrics_label(out, q->rqs[r]->rv->name);
        fprintf(out, "\"} %llu\n", (unsigned long long)q->rqs[r]->messages);
    }
    metrics_family(out, "gradcover_alert_queued", "gauge",
                   "Notifications waiting for their receiver's next message (gathering, the "
                   "robot's rate limit, Redis unavailable).");
    for (size_t r = 0; r < q->nrqs; r++) {
        if (q->rqs[r]->removed)
            continue;
        fputs("gradcover_alert_queued{receiver=\"", out);
        metrics_label(out, q->rqs[r]->rv->name);
        fprintf(out, "\"} %zu\n", q->rqs[r]->len);
    }
}
