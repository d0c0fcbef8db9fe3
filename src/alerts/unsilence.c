/* The silence-end sweep (see unsilence.h). A round: silence_ends_due, then
 * each end in turn: silence_check of its counties, their claims (at most
 * CLAIMS_IN_FLIGHT at once: a "*" silence of 3,000 counties is a stream of
 * small scripts, not one burst), and silence_end_done once every claim
 * answered. A round that meets Redis trouble stops; the next interval
 * starts again from the ends still due. */
#include "gradcover/alerts/unsilence.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/alerts/silence.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/log.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/store.h"

/* Claims of one end sent before their answers are awaited: a few
 * milliseconds of Redis at most, never a burst requests queue behind. */
#define CLAIMS_IN_FLIGHT 32

struct unsilencer {
    struct unsilencer_deps d;
    struct event *timer;
    struct round *round; /* NULL between rounds */
};

/* One round: the ends due, handled one after the other. */
struct round {
    struct unsilencer *u;
    const struct config *cfg; /* the generation the round began with (todo's size) */
    struct silence_end *ends;
    size_t nends, cur;
    int64_t now;
    /* The current end's counties to claim (indexes into cfg->counties). */
    size_t *todo;
    size_t ntodo, next, in_flight;
    bool failed; /* a claim of the current end did not answer: not done */
};

static void round_free(struct round *r)
{
    r->u->round = NULL;
    free(r->ends);
    free(r->todo);
    free(r);
}

static void next_end(struct round *r);

static void on_done(void *arg, enum store_status st)
{
    struct round *r = arg;
    if (st != STORE_OK) {
        round_free(r);
        return;
    }
    r->cur++;
    next_end(r);
}

static void send_claims(struct round *r);

/* One claim: the round and the county it is for. */
struct claim_call {
    struct round *r;
    size_t county; /* index into cfg->counties */
};

static void on_claim(void *arg, enum store_status st, const struct silence_claim *c)
{
    struct claim_call cc = *(struct claim_call *)arg;
    free(arg);
    struct round *r = cc.r;
    const struct silence_end *e = &r->ends[r->cur];
    r->in_flight--;
    if (st != STORE_OK) {
        r->failed = true;
    } else if (c->claimed && c->firing) {
        log_info("event=silence_end_message silence=%s event_id=%s", e->id, c->event_id);
        notifier_kick(r->u->d.notifier, r->u->d.cfg->counties[cc.county].code);
    }
    send_claims(r);
}

/* Sends the current end's next claims; when all have answered, marks the
 * end done (unless one failed: then the round stops, and the end is due
 * again next time, its claims refused where they were made). */
static void send_claims(struct round *r)
{
    const struct unsilencer_deps *d = &r->u->d;
    const struct silence_end *e = &r->ends[r->cur];
    while (!r->failed && r->next < r->ntodo && r->in_flight < CLAIMS_IN_FLIGHT) {
        struct claim_call *cc = malloc(sizeof *cc);
        if (cc)
            *cc = (struct claim_call){.r = r, .county = r->todo[r->next]};
        if (!cc || silence_end_claim(d->store, e->id, d->cfg->counties[cc->county].code, r->now,
                                     on_claim, cc) < 0) {
            free(cc);
            r->failed = true;
            break;
        }
        r->next++;
        r->in_flight++;
    }
    if (r->in_flight > 0)
        return;
    if (r->failed || silence_end_done(d->store, e->id, on_done, r) < 0)
        round_free(r);
}

static void on_still_silenced(void *arg, enum store_status st, const struct silence_status *s,
                              size_t n)
{
    struct round *r = arg;
    if (st != STORE_OK || n != r->ntodo) {
        round_free(r);
        return;
    }
    /* Counties another silence still covers are left to that one's end. */
    size_t keep = 0;
    for (size_t i = 0; i < n; i++)
        if (!s[i].silenced)
            r->todo[keep++] = r->todo[i];
    r->ntodo = keep;
    r->next = 0;
    r->failed = false;
    send_claims(r);
}

/* The current end: its counties, then which are still silenced. */
static void next_end(struct round *r)
{
    const struct config *cfg = r->cfg;
    if (r->cur >= r->nends) {
        round_free(r);
        return;
    }
    const struct silence_end *e = &r->ends[r->cur];
    r->ntodo = 0;
    if (strcmp(e->county, "*") == 0) {
        for (size_t i = 0; i < cfg->ncounties; i++)
            r->todo[r->ntodo++] = i;
    } else {
        long i = config_county_index(cfg, e->county);
        if (i >= 0)
            r->todo[r->ntodo++] = (size_t)i;
    }
    if (r->ntodo == 0) {
        /* A county no longer configured: nothing to say, the end is done. */
        if (silence_end_done(r->u->d.store, e->id, on_done, r) < 0)
            round_free(r);
        return;
    }
    const char **codes = calloc(r->ntodo, sizeof *codes);
    if (!codes) {
        round_free(r);
        return;
    }
    for (size_t i = 0; i < r->ntodo; i++)
        codes[i] = cfg->counties[r->todo[i]].code;
    int rc = silence_check(r->u->d.store, codes, r->ntodo, r->now, on_still_silenced, r);
    free(codes);
    if (rc < 0)
        round_free(r);
}

static void on_ends(void *arg, enum store_status st, const struct silence_end *ends, size_t n)
{
    struct round *r = arg;
    if (st != STORE_OK || n == 0) {
        round_free(r);
        return;
    }
    r->ends = malloc(n * sizeof *ends);
    if (!r->ends) {
        round_free(r);
        return;
    }
    memcpy(r->ends, ends, n * sizeof *ends);
    r->nends = n;
    r->cur = 0;
    next_end(r);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct unsilencer *u = arg;
    /* One round at a time; none while Redis refuses writes (claims write). */
    if (u->round || !store_writable(u->d.store))
        return;
    struct round *r = calloc(1, sizeof *r);
    if (r)
        r->todo = calloc(u->d.cfg->ncounties, sizeof *r->todo);
    if (!r || !r->todo) {
        if (r)
            free(r);
        return;
    }
    r->u = u;
    r->cfg = u->d.cfg;
    r->now = clock_now_ms(u->d.clock);
    u->round = r;
    if (silence_ends_due(u->d.store, r->now, on_ends, r) < 0)
        round_free(r);
}

struct unsilencer *unsilencer_new(const struct unsilencer_deps *deps)
{
    struct unsilencer *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->d = *deps;
    u->timer = event_new(deps->base, -1, EV_PERSIST, on_tick, u);
    struct timeval tv = {deps->cfg->alerts.eval_interval_seconds, 0};
    if (!u->timer || event_add(u->timer, &tv) < 0) {
        unsilencer_free(u);
        return NULL;
    }
    return u;
}

int unsilencer_reconfigure(struct unsilencer *u, const struct config *cfg)
{
    u->d.cfg = cfg; /* the next round; one in progress keeps its own */
    struct timeval tv = {cfg->alerts.eval_interval_seconds, 0};
    return event_add(u->timer, &tv) < 0 ? -1 : 0;
}

void unsilencer_free(struct unsilencer *u)
{
    if (!u)
        return;
    if (u->timer)
        event_free(u->timer);
    /* No round is left: one waiting for Redis was answered (STORE_DOWN)
     * by store_free, which runs first (app.c), and freed itself. */
    free(u);
}
