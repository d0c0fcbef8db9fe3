/* Timer-driven alert evaluation (see alert.h). One pipelined round of
 * alert_eval per tick, O(counties) small scripts; a tick is skipped while the
 * previous one is still waiting for Redis. */
#include "gradcover/alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/api_common.h"
#include "gradcover/app.h"
#include "gradcover/config.h"
#include "gradcover/jsonw.h"
#include "gradcover/keys.h"
#include "gradcover/log.h"
#include "gradcover/notify.h"
#include "gradcover/store.h"
#include "gradcover/timeutil.h"

struct alerter {
    struct app *app;
    struct event *timer;
    size_t outstanding; /* alert_eval calls of the current tick not yet answered */
};

struct eval_call {
    struct alerter *al;
    size_t county;
};

static void on_eval(enum store_status st, json_t *res, void *arg)
{
    struct eval_call *c = arg;
    struct alerter *al = c->al;
    const char *t = st == STORE_OK ? json_string_value(json_object_get(res, "transition")) : NULL;
    if (t) {
        log_info("event=alert_transition county=%s transition=%s source=timer",
                 al->app->cfg->counties[c->county].code, t);
        notifier_kick(al->app->notifier, al->app->cfg->counties[c->county].code);
    }
    al->outstanding--;
    free(c);
}

void alerter_evaluate(struct alerter *al)
{
    struct app *a = al->app;
    if (al->outstanding > 0 || !store_ready(a->store))
        return;
    int64_t now = app_now_ms(a);
    int off = a->cfg->utc_offset_minutes;
    for (size_t i = 0; i < a->cfg->ncounties; i++) {
        const char *code = a->cfg->counties[i].code;
        json_t *args = json_pack("{s:i, s:i, s:I, s:o}", "cur", period_of(now, off), "off", off,
                                 "now", (json_int_t)now, "alert", alert_args(a, code));
        char *text = args ? gc_json_dumps(args, 0) : NULL;
        json_decref(args);
        struct eval_call *c = text ? malloc(sizeof *c) : NULL;
        if (!c) {
            free(text);
            return;
        }
        c->al = al;
        c->county = i;
        char key[KEY_MAX];
        key_county(key, sizeof key, code);
        const char *argv[2] = {key, text};
        size_t lens[2] = {strlen(key), strlen(text)};
        if (store_script(a->store, "alert_eval", 1, 2, argv, lens, on_eval, c) < 0)
            free(c);
        else
            al->outstanding++;
        free(text);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    alerter_evaluate(arg);
}

struct alerter *alerter_new(struct app *a)
{
    struct alerter *al = calloc(1, sizeof *al);
    if (!al)
        return NULL;
    al->app = a;
    al->timer = event_new(a->base, -1, EV_PERSIST, on_tick, al);
    struct timeval tv = {a->cfg->alerts.eval_interval_seconds, 0};
    if (!al->timer || event_add(al->timer, &tv) < 0) {
        alerter_free(al);
        return NULL;
    }
    return al;
}

void alerter_free(struct alerter *al)
{
    if (!al)
        return;
    if (al->timer)
        event_free(al->timer);
    free(al);
}
