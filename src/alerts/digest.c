/* The daily digest (see digest.h). Every tick past alerts.digest.at, the
 * receivers whose digest of the local day is neither done nor held by this
 * server claim their turns (one script on the global tag); for the turns
 * won, a round reads the silences (one script) and each county of their
 * scopes (one script per county, at most COUNTIES_IN_FLIGHT at once), then
 * puts one digest per receiver in its queue. A receiver's digest then
 * lives in its struct dsend until the robot's answer closes the turn. */
#include "gradcover/alerts/digest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/alerts/receiver.h"
#include "gradcover/alerts/sendq.h"
#include "gradcover/alerts/silence.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/acklink.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

#define DAY_MS 86400000LL
/* A turn's lease: far longer than an attempt (a robot's answer, its queue's
 * pacing), renewed before each; a server that dies holding one delays the
 * digest by at most this much. */
#define LEASE_MS (10LL * 60 * 1000)
/* Counties read at once: a few ms of Redis, never a burst that requests
 * queue behind (3,000 counties are a stream of small scripts). */
#define COUNTIES_IN_FLIGHT 32
/* The ticks, when eval_interval_seconds is longer: a digest at 08:30 goes
 * out within half a minute of it. */
#define TICK_MAX_MS 30000
/* After Redis trouble while closing a turn, asking again. */
#define CLOSE_RETRY_MS 2000

/* What a receiver's digest is doing. */
enum dstate {
    D_IDLE,    /* nothing: due when the day's turn is not done */
    D_ROUND,   /* its turn claimed, the counties being read */
    D_QUEUED,  /* in its queue or being posted */
    D_RETRY,   /* waiting to attempt again (retry timer) */
    D_CLOSING, /* telling Redis its turn is done (or failed) */
};

/* One receiver named in alerts.digest, by name: a reload that keeps the
 * name keeps its state (the day sent, a digest under way). Lives until
 * digester_free, also once no longer named (active false). */
struct dsend {
    struct digester *dg;
    char *name;      /* owned */
    bool active;     /* named in the current alerts.digest */
    size_t receiver; /* its receiver's slot (notify.h); SIZE_MAX: none */
    enum dstate state;
    int64_t day;      /* the local day being sent */
    int64_t done_day; /* the last day known closed; -1 none */
    int attempts;
    const char *close_op; /* "done" or "failed" while D_CLOSING */
    struct event *timer;  /* retries and closing again */
    struct sendq_item item;
    struct receiver_digest digest;
    struct receiver_digest_county *below; /* owned: digest.below */
    char (*ack_urls)[ACKLINK_URL_MAX];    /* owned: per below entry */
};

/* One county as the round read it. */
struct dcounty {
    bool read, silenced, firing, acked;
    long long registered, served, yesterday, waiting;
    int64_t oldest_ms;
    char episode[ACKLINK_EPISODE_MAX + 1];
};

struct round {
    struct digester *dg;
    const struct config *cfg; /* the generation its arrays are sized by */
    int64_t day, now;
    struct dcounty *c; /* per configured county */
    size_t *todo;      /* counties some claimed receiver wants */
    size_t ntodo, next, in_flight;
    bool failed;
};

struct digester {
    struct digester_deps d;
    struct event *timer;
    struct dsend **sends; /* each owned */
    size_t nsends;
    struct round *round; /* NULL between rounds */
    char owner[160];     /* this server, in the turns it holds */
};

/* Its receiver, NULL when removed. */
static const struct receiver *receiver_of(const struct dsend *s)
{
    return notifier_receiver(s->dg->d.notifier, s->receiver);
}

static const char *name_of(const struct dsend *s)
{
    return s->name;
}

static void digest_clear(struct dsend *s)
{
    free(s->below);
    free(s->ack_urls);
    s->below = NULL;
    s->ack_urls = NULL;
    memset(&s->digest, 0, sizeof s->digest);
}

static void later(struct dsend *s, int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    if (evtimer_add(s->timer, &tv) < 0) {
        /* No timer: the lease ends and a server (this one too) takes the
         * turn again. */
        digest_clear(s);
        s->state = D_IDLE;
    }
}

/* ---- the turns in Redis ---- */

typedef void (*turn_fn)(void *arg, enum store_status st, json_t *states);

struct turn_call {
    turn_fn cb;
    void *arg;
};

static void on_turn(enum store_status st, json_t *res, void *arg)
{
    struct turn_call c = *(struct turn_call *)arg;
    free(arg);
    json_t *states = json_object_get(res, "states");
    c.cb(c.arg, st == STORE_OK && !json_is_array(states) ? STORE_FAILED : st, states);
}

/* digest_claim.lua with op for the receivers sends[0..n) of day. */
static int turn(struct digester *dg, const char *op, int64_t day, struct dsend *const *sends,
                size_t n, turn_fn cb, void *arg)
{
    struct turn_call *c = malloc(sizeof *c);
    if (!c)
        return -1;
    *c = (struct turn_call){.cb = cb, .arg = arg};
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "op");
    jw_str(&w, op);
    jw_key(&w, "day");
    jw_int(&w, day);
    jw_key(&w, "owner");
    jw_str(&w, dg->owner);
    jw_key(&w, "lease_ms");
    jw_int(&w, LEASE_MS);
    jw_key(&w, "names");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++)
        jw_str(&w, name_of(sends[i]));
    jw_arr_end(&w);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    size_t len = 0;
    const char *text = jw_text(&w, &len);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), len};
    int rc = text ? store_script(dg->d.store, "digest_claim", 1, 2, argv, lens, on_turn, c) : -1;
    jw_free(&w);
    if (rc < 0)
        free(c);
    return rc;
}

static bool is_state(json_t *states, size_t i, const char *want)
{
    const char *v = json_string_value(json_array_get(states, i));
    return v && strcmp(v, want) == 0;
}

/* ---- one receiver's digest: sent, retried, closed ---- */

static void close_turn(struct dsend *s, const char *op);

static void on_closed(void *arg, enum store_status st, json_t *states)
{
    struct dsend *s = arg;
    (void)states;
    if (st != STORE_OK) {
        later(s, CLOSE_RETRY_MS);
        return;
    }
    s->done_day = s->day;
    s->state = D_IDLE;
}

static void close_turn(struct dsend *s, const char *op)
{
    s->state = D_CLOSING;
    s->close_op = op;
    digest_clear(s);
    if (turn(s->dg, op, s->day, &s, 1, on_closed, s) < 0)
        later(s, CLOSE_RETRY_MS);
}

static void on_sent(struct sendq_item *it, enum sendq_outcome o, const char *why)
{
    struct dsend *s = (struct dsend *)((char *)it - offsetof(struct dsend, item));
    if (o == SENDQ_DROPPED) {
        /* Its receiver was removed: the turn is left to its lease (a server
         * that still has the receiver sends it when the lease ends). */
        log_warn("event=digest_dropped receiver=%s day=%lld reason=\"%s\"", name_of(s),
                 (long long)s->day, why);
        digest_clear(s);
        s->state = D_IDLE;
        return;
    }
    s->attempts++;
    if (o == SENDQ_DONE) {
        log_info("event=digest_delivered receiver=%s day=%lld attempts=%d", name_of(s),
                 (long long)s->day, s->attempts);
        close_turn(s, "done");
    } else if (o == SENDQ_RETRY) {
        int64_t wait = sendq_backoff_ms(s->attempts);
        log_warn("event=digest_retry receiver=%s day=%lld attempts=%d retry_ms=%lld reason=\"%s\"",
                 name_of(s), (long long)s->day, s->attempts, (long long)wait, why);
        s->state = D_RETRY;
        later(s, wait);
    } else {
        log_warn("event=digest_failed receiver=%s day=%lld attempts=%d reason=\"%s\"", name_of(s),
                 (long long)s->day, s->attempts, why);
        close_turn(s, "failed");
    }
}

static void put(struct dsend *s)
{
    s->state = D_QUEUED;
    s->item = (struct sendq_item){.receiver = s->receiver, .digest = &s->digest, .done = on_sent};
    sendq_put(notifier_sendq(s->dg->d.notifier), &s->item);
}

static void on_renewed(void *arg, enum store_status st, json_t *states)
{
    struct dsend *s = arg;
    if (st != STORE_OK) {
        later(s, sendq_backoff_ms(s->attempts));
        return;
    }
    if (is_state(states, 0, "claimed")) {
        put(s);
        return;
    }
    /* Closed or taken over meanwhile (our lease ended): not ours to send. */
    digest_clear(s);
    s->state = D_IDLE;
    if (is_state(states, 0, "done"))
        s->done_day = s->day;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct dsend *s = arg;
    const struct digester *dg = s->dg;
    if (s->state == D_CLOSING) {
        if (turn(s->dg, s->close_op, s->day, &s, 1, on_closed, s) < 0)
            later(s, CLOSE_RETRY_MS);
        return;
    }
    /* A retry: not past its day (tomorrow's digest says it anew), only
     * while the receiver is still named, and only while the turn is still
     * ours. */
    if (!s->active || !receiver_of(s)) {
        log_warn("event=digest_given_up receiver=%s day=%lld attempts=%d reason=\"no longer a "
                 "digest receiver\"",
                 name_of(s), (long long)s->day, s->attempts);
        digest_clear(s);
        s->state = D_IDLE;
        return;
    }
    if (local_day_of(clock_now_ms(dg->d.clock), dg->d.cfg->utc_offset_minutes) != s->day) {
        log_warn("event=digest_given_up receiver=%s day=%lld attempts=%d", name_of(s),
                 (long long)s->day, s->attempts);
        digest_clear(s);
        s->state = D_IDLE;
        return;
    }
    if (turn(s->dg, "claim", s->day, &s, 1, on_renewed, s) < 0)
        later(s, sendq_backoff_ms(s->attempts));
}

/* Fills s's digest from the round's counties of its scope. */
static int build(struct dsend *s, const struct round *r)
{
    const struct config *cfg = r->cfg;
    const struct receiver *rv = receiver_of(s);
    s->below = calloc(cfg->ncounties + 1, sizeof *s->below);
    s->ack_urls = calloc(cfg->ncounties + 1, sizeof *s->ack_urls);
    if (!rv || !s->below || !s->ack_urls) {
        digest_clear(s);
        return -1;
    }
    struct receiver_digest *d = &s->digest;
    d->day = r->day;
    for (size_t i = 0; i < cfg->ncounties; i++) {
        const struct county_cfg *cc = &cfg->counties[i];
        const struct dcounty *c = &r->c[i];
        if (!receiver_wants(rv, cc->code))
            continue;
        d->yesterday_all += c->yesterday;
        if (c->silenced) {
            d->silenced++;
            continue;
        }
        if (!coverage_below((uint64_t)c->served, (uint64_t)c->registered, cc->threshold_bp)) {
            d->on_target++;
            continue;
        }
        struct receiver_digest_county *b = &s->below[d->nbelow];
        *b = (struct receiver_digest_county){.county = cc,
                                             .registered = c->registered,
                                             .served = c->served,
                                             .threshold_bp = cc->threshold_bp,
                                             .yesterday = c->yesterday,
                                             .waiting = c->waiting,
                                             .oldest_ms = c->oldest_ms};
        if (c->firing && !c->acked && s->dg->d.ack_key &&
            acklink_url(s->dg->d.ack_key, cfg->alerts.public_url, c->episode, r->now,
                        s->ack_urls[d->nbelow], sizeof s->ack_urls[0]) == 0)
            b->ack_url = s->ack_urls[d->nbelow];
        d->nbelow++;
    }
    d->below = s->below;
    return 0;
}

/* ---- a round: the claimed receivers' counties read, their digests put ---- */

static void round_end(struct round *r)
{
    struct digester *dg = r->dg;
    for (size_t k = 0; k < dg->nsends; k++) {
        struct dsend *s = dg->sends[k];
        if (s->state != D_ROUND)
            continue;
        s->attempts = 0;
        if (r->failed || !s->active || build(s, r) < 0) {
            /* Our lease holds the turn: the next tick claims it again. */
            s->state = D_IDLE;
            continue;
        }
        put(s);
    }
    dg->round = NULL;
    free(r->c);
    free(r->todo);
    free(r);
}

static void read_counties(struct round *r);

/* One county's script: the round and the county's index. */
struct county_call {
    struct round *r;
    size_t i;
};

static void on_county(enum store_status st, json_t *res, void *arg)
{
    struct county_call cc = *(struct county_call *)arg;
    free(arg);
    struct round *r = cc.r;
    struct dcounty *c = &r->c[cc.i];
    r->in_flight--;
    if (st != STORE_OK) {
        r->failed = true;
    } else {
        c->registered = json_integer_value(json_object_get(res, "registered"));
        c->served = json_integer_value(json_object_get(res, "served"));
        c->yesterday = json_integer_value(json_object_get(res, "yesterday"));
        c->waiting = json_integer_value(json_object_get(res, "waiting"));
        c->oldest_ms = json_integer_value(json_object_get(res, "oldest"));
        const char *ep = json_string_value(json_object_get(res, "episode"));
        c->firing =
            json_is_true(json_object_get(res, "firing")) && ep && strlen(ep) <= ACKLINK_EPISODE_MAX;
        c->acked = json_is_true(json_object_get(res, "acked"));
        snprintf(c->episode, sizeof c->episode, "%s", c->firing ? ep : "");
    }
    read_counties(r);
}

/* digest_county.lua for county i; -1 when the store refused it. */
static int read_county(struct round *r, size_t i)
{
    const struct digester_deps *d = &r->dg->d;
    struct county_call *cc = malloc(sizeof *cc);
    if (!cc)
        return -1;
    *cc = (struct county_call){.r = r, .i = i};
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "cur");
    jw_int(&w, period_of(r->now, r->cfg->utc_offset_minutes));
    jw_key(&w, "off");
    jw_int(&w, r->cfg->utc_offset_minutes);
    jw_key(&w, "yesterday");
    jw_int(&w, r->day - 1);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_county(key, sizeof key, r->cfg->counties[i].code);
    size_t len = 0;
    const char *text = jw_text(&w, &len);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), len};
    int rc = text ? store_script(d->store, "digest_county", 1, 2, argv, lens, on_county, cc) : -1;
    jw_free(&w);
    if (rc < 0)
        free(cc);
    return rc;
}

/* Sends the next counties' scripts; when every one has answered, ends the
 * round. After a failure nothing more is sent. */
static void read_counties(struct round *r)
{
    while (!r->failed && r->next < r->ntodo && r->in_flight < COUNTIES_IN_FLIGHT) {
        if (read_county(r, r->todo[r->next]) < 0) {
            r->failed = true;
            break;
        }
        r->next++;
        r->in_flight++;
    }
    if (r->in_flight == 0)
        round_end(r);
}

static void on_silences(void *arg, enum store_status st, const struct silence_status *ss, size_t n)
{
    struct round *r = arg;
    if (st != STORE_OK || n != r->ntodo) {
        r->failed = true;
        round_end(r);
        return;
    }
    for (size_t k = 0; k < n; k++)
        r->c[r->todo[k]].silenced = ss[k].silenced;
    read_counties(r);
}

/* The turns won: the counties their receivers want, their silences, then
 * the counties themselves. */
static void on_claimed(void *arg, enum store_status st, json_t *states)
{
    struct round *r = arg;
    struct digester *dg = r->dg;
    const struct config *cfg = r->cfg;
    size_t k = 0, won = 0;
    for (size_t j = 0; j < dg->nsends; j++) {
        struct dsend *s = dg->sends[j];
        if (s->state != D_ROUND)
            continue;
        if (st == STORE_OK && is_state(states, k, "claimed")) {
            s->day = r->day;
            won++;
        } else {
            if (st == STORE_OK && is_state(states, k, "done"))
                s->done_day = r->day;
            s->state = D_IDLE;
        }
        k++;
    }
    bool *want = won ? calloc(cfg->ncounties + 1, sizeof *want) : NULL;
    for (size_t j = 0; want && j < dg->nsends; j++) {
        const struct receiver *rv = receiver_of(dg->sends[j]);
        for (size_t i = 0; rv && dg->sends[j]->state == D_ROUND && i < cfg->ncounties; i++)
            want[i] = want[i] || receiver_wants(rv, cfg->counties[i].code);
    }
    const char **codes = want ? calloc(cfg->ncounties + 1, sizeof *codes) : NULL;
    if (!codes) {
        r->failed = won > 0;
        free(want);
        round_end(r);
        return;
    }
    for (size_t i = 0; i < cfg->ncounties; i++)
        if (want[i]) {
            codes[r->ntodo] = cfg->counties[i].code;
            r->todo[r->ntodo++] = i;
        }
    free(want);
    int rc = r->ntodo ? silence_check(dg->d.store, codes, r->ntodo, r->now, on_silences, r) : 0;
    free(codes);
    if (rc < 0)
        r->failed = true;
    if (rc < 0 || r->ntodo == 0)
        round_end(r);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct digester *dg = arg;
    const struct config *cfg = dg->d.cfg;
    /* One round at a time; none while Redis refuses writes (claims write). */
    if (dg->round || !store_writable(dg->d.store) || cfg->alerts.digest_at_minute < 0)
        return;
    int64_t now = clock_now_ms(dg->d.clock);
    int64_t local = now + (int64_t)cfg->utc_offset_minutes * 60000;
    int64_t day = local_day_of(now, cfg->utc_offset_minutes);
    int64_t minute = (local - day * DAY_MS) / 60000;
    if (minute < cfg->alerts.digest_at_minute)
        return;
    struct dsend **due = calloc(dg->nsends, sizeof *due);
    size_t n = 0;
    for (size_t j = 0; due && j < dg->nsends; j++)
        if (dg->sends[j]->active && dg->sends[j]->state == D_IDLE &&
            dg->sends[j]->done_day != day && receiver_of(dg->sends[j]))
            due[n++] = dg->sends[j];
    struct round *r = n ? calloc(1, sizeof *r) : NULL;
    if (r) {
        r->c = calloc(cfg->ncounties + 1, sizeof *r->c);
        r->todo = calloc(cfg->ncounties + 1, sizeof *r->todo);
    }
    if (!r || !r->c || !r->todo) {
        if (r) {
            free(r->c);
            free(r->todo);
        }
        free(r);
        free(due);
        return;
    }
    r->dg = dg;
    r->cfg = cfg;
    r->day = day;
    r->now = now;
    dg->round = r;
    for (size_t j = 0; j < n; j++)
        due[j]->state = D_ROUND;
    if (turn(dg, "claim", day, due, n, on_claimed, r) < 0) {
        r->failed = true;
        round_end(r);
    }
    free(due);
}

/* The receivers cfg's alerts.digest names, matched to the sends by name:
 * a kept one keeps its state, a new one gets a send, one no longer named
 * turns inactive (what it has under way finishes). -1 when out of memory. */
static int sync_sends(struct digester *dg, const struct config *cfg)
{
    const struct alerts_cfg *ac = &cfg->alerts;
    size_t want = ac->digest_at_minute < 0 ? 0 : ac->ndigest_receivers;
    struct dsend **grown = realloc(dg->sends, (dg->nsends + want + 1) * sizeof *grown);
    if (!grown)
        return -1;
    dg->sends = grown;
    for (size_t k = 0; k < dg->nsends; k++)
        dg->sends[k]->active = false;
    for (size_t j = 0; j < want; j++) {
        const char *name = ac->webhooks[ac->digest_receivers[j]].name;
        struct dsend *s = NULL;
        for (size_t k = 0; !s && k < dg->nsends; k++)
            if (strcmp(dg->sends[k]->name, name) == 0)
                s = dg->sends[k];
        if (!s) {
            if (!(s = calloc(1, sizeof *s)))
                return -1;
            *s = (struct dsend){.dg = dg, .name = strdup(name), .done_day = -1};
            s->timer = evtimer_new(dg->d.base, on_timer, s);
            if (!s->name || !s->timer) {
                free(s->name);
                if (s->timer)
                    event_free(s->timer);
                free(s);
                return -1;
            }
            dg->sends[dg->nsends++] = s; /* transfer ownership */
        }
        long slot = notifier_receiver_slot(dg->d.notifier, name);
        s->receiver = slot < 0 ? SIZE_MAX : (size_t)slot;
        s->active = true;
    }
    return 0;
}

/* The tick: every eval_interval_seconds, at most TICK_MAX_MS. */
static int set_tick(struct digester *dg, const struct config *cfg)
{
    int64_t tick = (int64_t)cfg->alerts.eval_interval_seconds * 1000;
    if (tick > TICK_MAX_MS)
        tick = TICK_MAX_MS;
    struct timeval tv = {(time_t)(tick / 1000), (suseconds_t)(tick % 1000) * 1000};
    return event_add(dg->timer, &tv);
}

struct digester *digester_new(const struct digester_deps *deps)
{
    struct digester *dg = calloc(1, sizeof *dg);
    if (!dg)
        return NULL;
    dg->d = *deps;
    char host[64] = "gradcoverd";
    gethostname(host, sizeof host - 1);
    snprintf(dg->owner, sizeof dg->owner, "%s:%s:%ld", host, deps->listen ? deps->listen : "",
             (long)getpid());
    /* The timer runs without a digest too: a reload may set one. */
    dg->timer = event_new(deps->base, -1, EV_PERSIST, on_tick, dg);
    if (!dg->timer || sync_sends(dg, deps->cfg) < 0 || set_tick(dg, deps->cfg) < 0)
        goto out_free_digester;
    return dg;
out_free_digester:
    digester_free(dg);
    return NULL;
}

int digester_reconfigure(struct digester *dg, const struct config *cfg)
{
    /* A round under way keeps the generation it began with (round.cfg). */
    dg->d.cfg = cfg;
    if (set_tick(dg, cfg) < 0)
        return -1;
    return sync_sends(dg, cfg);
}

void digester_free(struct digester *dg)
{
    if (!dg)
        return;
    if (dg->timer)
        event_free(dg->timer);
    for (size_t j = 0; j < dg->nsends; j++) {
        event_free(dg->sends[j]->timer);
        digest_clear(dg->sends[j]);
        free(dg->sends[j]->name);
        free(dg->sends[j]);
    }
    free(dg->sends);
    /* No round is left: one waiting for Redis was answered (STORE_DOWN) by
     * store_free, which runs first (app.c), and ended itself. */
    free(dg);
}
