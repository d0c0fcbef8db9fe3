/* Timer-driven alert evaluation (see alert.h). Each county is evaluated once
 * per eval_interval_seconds, the counties spread evenly over the interval: a
 * short timer sends the alert_eval calls of the counties due by then. Sent all
 * at once, 3,000 counties were ~70 ms of Redis time in one burst, which every
 * request queued behind; spread, they are ~5 small scripts every 25 ms. */
#include "gradcover/alerts/eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/alerts/remind.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/sweep.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

/* The slice timer runs once per county's turn, but at most every SLICE_MIN_MS
 * (3,000 counties every 15 s: 5 per slice, ~0.1 ms of Redis) and at least
 * every SLICE_MAX_MS (a few counties: an idle server sleeps). */
#define SLICE_MIN_MS 25
#define SLICE_MAX_MS 1000

struct alerter {
    struct alerter_deps d;
    struct event *timer;
    size_t outstanding; /* alert_eval calls sent and not yet answered */
    struct sweep sweep; /* the counties of the current round */
};

struct eval_call {
    struct alerter *al;
    size_t county;
};

static void on_eval(enum store_status st, json_t *res, void *arg)
{
    struct eval_call *c = arg;
    struct alerter *al = c->al;
    if (st == STORE_OK) {
        notifier_transition(al->d.notifier, NULL, al->d.cfg->counties[c->county].code,
                            json_string_value(json_object_get(res, "transition")));
        const char *ep = json_string_value(json_object_get(res, "episode"));
        if (json_is_true(json_object_get(res, "remind")) && ep)
            reminder_due(al->d.reminder, c->county, ep);
    }
    al->outstanding--;
    free(c);
}

/* Sends alert_eval for county i; false when the store refused it. */
static bool evaluate(struct alerter *al, size_t i, int64_t now, int cur)
{
    const struct alerter_deps *d = &al->d;
    struct eval_call *c = malloc(sizeof *c);
    if (!c)
        return false;
    c->al = al;
    c->county = i;
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "cur");
    jw_int(&w, cur);
    jw_key(&w, "off");
    jw_int(&w, d->cfg->utc_offset_minutes);
    jw_key(&w, "now");
    jw_int(&w, now);
    alert_params_write(&w, d->cfg, i);
    if (d->reminder && reminder_enabled(d->cfg))
        reminder_params_write(&w, d->cfg);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_county(key, sizeof key, d->cfg->counties[i].code);
    size_t len = 0;
    const char *text = jw_text(&w, &len);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), len};
    bool sent = text && store_script(d->store, "alert_eval", 1, 2, argv, lens, on_eval, c) == 0;
    jw_free(&w);
    if (!sent) {
        free(c);
        return false;
    }
    al->outstanding++;
    return true;
}

/* Evaluates the counties whose turn has come: county i of n at i/n of the
 * interval. While Redis has not answered the previous slice, is down, or
 * refuses writes (an evaluation may write a transition), nothing is sent
 * and the counties stay due. */
static void slice(struct alerter *al)
{
    const struct alerter_deps *d = &al->d;
    int64_t t = clock_mono_ms();
    /* Rounds keep their phase; after a long stall one starts now rather than
     * catching up (SWEEP_KEEP_PHASE). */
    if (!sweep_round(&al->sweep, t))
        return;
    if (al->outstanding > 0 || !store_writable(d->store))
        return;
    size_t due = sweep_due(&al->sweep, t);
    int64_t now = clock_now_ms(d->clock);
    int cur = period_of(now, d->cfg->utc_offset_minutes);
    while (al->sweep.next < due && evaluate(al, al->sweep.next, now, cur))
        al->sweep.next++;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    slice(arg);
}

struct alerter *alerter_new(const struct alerter_deps *deps)
{
    struct alerter *al = calloc(1, sizeof *al);
    if (!al)
        return NULL;
    al->d = *deps;
    int64_t interval_ms = (int64_t)deps->cfg->alerts.eval_interval_seconds * 1000;
    size_t n = deps->cfg->ncounties;
    /* The first round ends one interval from now, as a plain periodic timer's
     * first tick would. */
    sweep_init(&al->sweep, n, interval_ms, SWEEP_KEEP_PHASE, clock_mono_ms());
    al->timer = event_new(deps->base, -1, EV_PERSIST, on_tick, al);
    int64_t tick = sweep_tick_ms(interval_ms, n, 1, SLICE_MIN_MS, SLICE_MAX_MS);
    struct timeval tv = {(time_t)(tick / 1000), (suseconds_t)(tick % 1000) * 1000};
    if (!al->timer || event_add(al->timer, &tv) < 0) {
        alerter_free(al);
        return NULL;
    }
    return al;
}

int alerter_reconfigure(struct alerter *al, const struct config *cfg)
{
    /* The round in progress takes in the new counties: item i stays county i. */
    al->d.cfg = cfg;
    al->sweep.n = cfg->ncounties;
    /* alerts.eval_interval_seconds: the pace from the next slice on. */
    int64_t interval_ms = (int64_t)cfg->alerts.eval_interval_seconds * 1000;
    al->sweep.interval_ms = interval_ms;
    int64_t tick = sweep_tick_ms(interval_ms, cfg->ncounties, 1, SLICE_MIN_MS, SLICE_MAX_MS);
    struct timeval tv = {(time_t)(tick / 1000), (suseconds_t)(tick % 1000) * 1000};
    return event_add(al->timer, &tv) < 0 ? -1 : 0;
}

void alerter_free(struct alerter *al)
{
    if (!al)
        return;
    if (al->timer)
        event_free(al->timer);
    free(al);
}
