/* Repeats and escalation (see remind.h): a due reminder is checked against
 * silences and claimed, one county at a time, each one script and one round
 * trip. Sends nothing itself: the claim puts the message in the outbox. */
#include "gradcover/alerts/remind.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/alerts/silence.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/domain/acklink.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

/* A county whose silence ended within this many evaluation intervals is
 * left alone: every server handles silence ends once an interval
 * (unsilence.c), and that end's one message (which counts as a repeat,
 * silence_end_claim.lua) must come first, not a repeat beside it. */
#define SILENCE_GRACE_INTERVALS 3

struct reminder {
    struct reminder_deps d;
    bool *busy; /* per county: a check or claim in flight */
    /* Per county: silenced until then (wall ms, the grace included), as the
     * last check said; not asked again before. A silence deleted early
     * ends with a message of its own (unsilence.c), which counts as a
     * repeat; one made longer is asked about again when this passes. */
    int64_t *quiet_until;
};

struct remind_call {
    struct reminder *rm;
    size_t county;
    char episode[ACKLINK_EPISODE_MAX + 1];
};

bool reminder_enabled(const struct config *cfg)
{
    return cfg->alerts.repeat_interval_seconds > 0 || cfg->alerts.escalate_after_seconds > 0;
}

void reminder_params_write(struct jw *w, const struct config *cfg)
{
    jw_key(w, "remind");
    jw_obj(w);
    jw_key(w, "repeat_ms");
    jw_int(w, (long long)cfg->alerts.repeat_interval_seconds * 1000);
    jw_key(w, "escalate_ms");
    jw_int(w, (long long)cfg->alerts.escalate_after_seconds * 1000);
    jw_obj_end(w);
}

static void call_end(struct remind_call *c)
{
    c->rm->busy[c->county] = false;
    free(c);
}

static void on_claimed(enum store_status st, json_t *res, void *arg)
{
    struct remind_call *c = arg;
    const char *code = c->rm->d.cfg->counties[c->county].code;
    json_t *events = json_object_get(res, "events");
    size_t i;
    json_t *e;
    if (st == STORE_OK && json_array_size(events) > 0) {
        json_array_foreach(events, i, e)
        {
            log_info("event=alert_reminder county=%s event_id=%s", code, json_string_value(e));
        }
        notifier_kick(c->rm->d.notifier, code);
    }
    call_end(c);
}

static void on_silences(void *arg, enum store_status st, const struct silence_status *s, size_t n)
{
    struct remind_call *c = arg;
    const struct reminder_deps *d = &c->rm->d;
    if (st == STORE_OK && n == 1 && s[0].silenced)
        c->rm->quiet_until[c->county] = s[0].until_ms + (int64_t)SILENCE_GRACE_INTERVALS *
                                                            d->cfg->alerts.eval_interval_seconds *
                                                            1000;
    if (st != STORE_OK || n != 1 || s[0].silenced) {
        call_end(c);
        return;
    }
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "now");
    jw_int(&w, clock_now_ms(d->clock));
    jw_key(&w, "ep");
    jw_str(&w, c->episode);
    reminder_params_write(&w, d->cfg);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_county(key, sizeof key, d->cfg->counties[c->county].code);
    size_t len = 0;
    const char *text = jw_text(&w, &len);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), len};
    bool sent =
        text && store_script(d->store, "alert_remind", 1, 2, argv, lens, on_claimed, c) == 0;
    jw_free(&w);
    if (!sent)
        call_end(c);
}

void reminder_due(struct reminder *rm, size_t county, const char *episode)
{
    if (!rm || county >= rm->d.cfg->ncounties || rm->busy[county] ||
        strlen(episode) > ACKLINK_EPISODE_MAX ||
        clock_now_ms(rm->d.clock) < rm->quiet_until[county])
        return;
    struct remind_call *c = malloc(sizeof *c);
    if (!c)
        return;
    c->rm = rm;
    c->county = county;
    snprintf(c->episode, sizeof c->episode, "%s", episode);
    rm->busy[county] = true;
    const struct config *cfg = rm->d.cfg;
    int64_t now = clock_now_ms(rm->d.clock);
    int64_t grace = (int64_t)SILENCE_GRACE_INTERVALS * cfg->alerts.eval_interval_seconds * 1000;
    const char *code = cfg->counties[county].code;
    if (silence_check_span(rm->d.store, &code, 1, now - grace, now, on_silences, c) < 0)
        call_end(c);
}

struct reminder *reminder_new(const struct reminder_deps *deps)
{
    struct reminder *rm = calloc(1, sizeof *rm);
    if (!rm)
        return NULL;
    rm->d = *deps;
    size_t n = deps->cfg->ncounties ? deps->cfg->ncounties : 1;
    rm->busy = calloc(n, sizeof *rm->busy);
    rm->quiet_until = calloc(n, sizeof *rm->quiet_until);
    if (!rm->busy || !rm->quiet_until) {
        reminder_free(rm);
        return NULL;
    }
    return rm;
}

int reminder_reconfigure(struct reminder *rm, const struct config *cfg)
{
    size_t old = rm->d.cfg->ncounties ? rm->d.cfg->ncounties : 1;
    size_t n = cfg->ncounties ? cfg->ncounties : 1;
    if (n > old) {
        bool *busy = realloc(rm->busy, n * sizeof *busy);
        if (!busy)
            return -1;
        rm->busy = busy;
        memset(busy + old, 0, (n - old) * sizeof *busy);
        int64_t *quiet = realloc(rm->quiet_until, n * sizeof *quiet);
        if (!quiet)
            return -1;
        rm->quiet_until = quiet;
        memset(quiet + old, 0, (n - old) * sizeof *quiet);
    }
    rm->d.cfg = cfg;
    return 0;
}

void reminder_free(struct reminder *rm)
{
    if (!rm)
        return;
    free(rm->busy);
    free(rm->quiet_until);
    free(rm);
}
