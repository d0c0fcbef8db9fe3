/* The "alertmanager" receiver kind: one alert per transition posted to
 * {alertmanager_url}/api/v2/alerts, judged by the status alone, and, in the
 * background, every firing county's alert re-sent each AM_RESEND_MS so that
 * Alertmanager keeps it (docs/alerts.md), unless the county is silenced
 * (SPEC §11: nothing is sent for it then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gradcover/alerts/post.h"
#include "gradcover/alerts/receiver.h"
#include "gradcover/alerts/silence.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/log.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

/* Firing alerts are re-sent to Alertmanager this often; its default
 * resolve_timeout is 5 min, so an alert never expires while firing. */
#define AM_RESEND_MS 60000

static json_t *am_alert(const struct county_cfg *cc, const char *period, long long reg,
                        long long srv, uint32_t bp, int64_t started, int64_t resolved)
{
    char summary[256], desc[512];
    double rate = reg > 0 ? coverage_rate((uint64_t)srv, (uint64_t)reg) : 0;
    snprintf(summary, sizeof summary, "%s 高校毕业生就业服务率 %.1f%%，低于目标 %.1f%%", cc->name,
             rate * 100, bp / 100.0);
    snprintf(desc, sizeof desc,
             "%s (%s), period %s: %lld of %lld registered graduates served (%.1f%%), target "
             "%.1f%%; %llu more must be served.",
             cc->name, cc->code, period, srv, reg, rate * 100, bp / 100.0,
             (unsigned long long)coverage_gap((uint64_t)srv, (uint64_t)reg, bp));
    char ts[40];
    rfc3339_format(started, 0, ts, sizeof ts);
    json_t *a = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s}, s:s}", "labels", "alertname",
                          "GraduateServiceCoverageLow", "county", cc->code, "county_name", cc->name,
                          "period", period, "severity", "warning", "annotations", "summary",
                          summary, "description", desc, "startsAt", ts);
    if (a && resolved) {
        rfc3339_format(resolved, 0, ts, sizeof ts);
        json_object_set_new(a, "endsAt", json_string(ts));
    }
    return a;
}

static int am_build(const struct receiver *r, const struct receiver_message *m,
                    struct receiver_request *req)
{
    const struct receiver_event *ev = &m->events[0];
    snprintf(req->urlbuf, sizeof req->urlbuf, "%s/api/v2/alerts", r->url);
    req->url = req->urlbuf;
    json_t *body = json_pack("[o]", am_alert(ev->county, ev->period, ev->registered, ev->served,
                                             ev->threshold_bp, ev->started_at,
                                             ev->resolved ? ev->resolved_at : 0));
    if (receiver_request_body(req, body) < 0)
        return -1;
    return receiver_request_header(req, "X-Gradcover-Event-Id", ev->event_id);
}

/* ---- keep-alive ---- */

/* The keep-alive of one Alertmanager: the kind's state between start and stop. */
struct am_resend {
    struct receiver_env env;
    const struct receiver *r; /* its receiver (borrowed): its URL as the last reload set it */
    struct event *timer;
};

/* One round of re-sending: the firing counties' alerts, collected from
 * their answers and posted in one request when the last has answered. */
struct resend {
    /* Copies, not the am_resend: a reload may stop it (Alertmanager
     * removed) while a round is under way; the receiver's slot lives on. */
    struct receiver_env env;
    const struct receiver *r;
    size_t pending;
    int period;
    json_t *alerts;
    const char **codes; /* alerts[i]'s county code (borrowed from the config) */
};

static void resend_free(struct resend *rs)
{
    json_decref(rs->alerts);
    free(rs->codes);
    free(rs);
}

static void on_resent(const struct post_answer *ans, void *arg)
{
    (void)arg;
    if (ans->status < 200 || ans->status >= 300)
        log_warn("event=alertmanager_resend_failed status=%d err=%s", ans->status,
                 ans->err ? ans->err : "-");
}

struct resend_call {
    struct resend *rs;
    size_t county;
};

/* The round's alerts less the silenced counties', posted in one request.
 * Without an answer about silences nothing is re-sent this round. */
static void on_silences(void *arg, enum store_status st, const struct silence_status *ss, size_t n)
{
    struct resend *rs = arg;
    json_t *keep = st == STORE_OK && n == json_array_size(rs->alerts) ? json_array() : NULL;
    for (size_t i = 0; keep && i < n; i++)
        if (!ss[i].silenced)
            json_array_append(keep, json_array_get(rs->alerts, i));
    if (json_array_size(keep) > 0 && !rs->r->removed) {
        char url[600];
        snprintf(url, sizeof url, "%s/api/v2/alerts", rs->r->url);
        char *text = json_dumps(keep, JSON_COMPACT | JSON_REAL_PRECISION(10));
        if (text)
            post_json(rs->env.post, url, text, NULL, on_resent, NULL);
        free(text);
    }
    json_decref(keep);
    resend_free(rs);
}

static void on_resend_state(enum store_status st, json_t *res, void *arg)
{
    struct resend_call *c = arg;
    struct resend *rs = c->rs;
    const struct receiver_env *env = &rs->env;
    const char *state = st == STORE_OK ? json_string_value(json_array_get(res, 0)) : NULL;
    if (state && strcmp(state, "firing") == 0) {
        int64_t since = 0;
        const char *s = json_string_value(json_array_get(res, 1));
        if (s && parse_i64(s, &since)) {
            long long reg = 0, srv = 0;
            int64_t v;
            if (json_string_value(json_array_get(res, 2)) &&
                parse_i64(json_string_value(json_array_get(res, 2)), &v))
                reg = v;
            if (json_string_value(json_array_get(res, 3)) &&
                parse_i64(json_string_value(json_array_get(res, 3)), &v))
                srv = v;
            char period[16];
            snprintf(period, sizeof period, "%d", rs->period);
            const struct county_cfg *cc = &env->cfg->counties[c->county];
            if (json_array_append_new(
                    rs->alerts, am_alert(cc, period, reg, srv, cc->threshold_bp, since, 0)) == 0)
                rs->codes[json_array_size(rs->alerts) - 1] = cc->code;
        }
    }
    free(c);
    if (--rs->pending > 0)
        return;
    size_t n = json_array_size(rs->alerts);
    if (n == 0 ||
        silence_check(env->store, rs->codes, n, clock_now_ms(env->clock), on_silences, rs) < 0)
        resend_free(rs);
}

static void on_resend_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    const struct am_resend *am = arg;
    const struct config *cfg = am->env.cfg;
    if (!store_ready(am->env.store))
        return;
    struct resend *rs = calloc(1, sizeof *rs);
    if (rs) {
        rs->alerts = json_array();
        rs->codes = calloc(cfg->ncounties + 1, sizeof *rs->codes);
    }
    if (!rs || !rs->alerts || !rs->codes) {
        if (rs)
            resend_free(rs);
        return;
    }
    rs->env = am->env;
    rs->r = am->r;
    rs->period = period_of(clock_now_ms(am->env.clock), cfg->utc_offset_minutes);
    rs->pending = 1; /* held until every county is asked */
    char rf[16], sf[16];
    snprintf(rf, sizeof rf, "r:%d", rs->period);
    snprintf(sf, sizeof sf, "s:%d", rs->period);
    for (size_t i = 0; i < cfg->ncounties; i++) {
        struct resend_call *c = malloc(sizeof *c);
        if (!c)
            break;
        c->rs = rs;
        c->county = i;
        char key[KEY_MAX];
        key_county_counters(key, sizeof key, cfg->counties[i].code);
        const char *argv[6] = {"HMGET", key, "alert", "a_since", rf, sf};
        size_t lens[6];
        for (int a = 0; a < 6; a++)
            lens[a] = strlen(argv[a]);
        if (store_command(am->env.store, 6, argv, lens, on_resend_state, c) < 0) {
            free(c);
            break;
        }
        rs->pending++;
    }
    /* Release the hold: the last answer (or this call) sends. */
    struct resend_call *last = malloc(sizeof *last);
    if (!last) {
        rs->pending--;
        return;
    }
    last->rs = rs;
    last->county = 0;
    on_resend_state(STORE_DOWN, NULL, last);
}

static void am_stop(void *state)
{
    struct am_resend *am = state;
    if (!am)
        return;
    if (am->timer)
        event_free(am->timer);
    free(am);
}

/* A resend round in progress keeps the generation it sized its arrays by. */
static void am_reconfigure(void *state, const struct config *cfg)
{
    struct am_resend *am = state;
    am->env.cfg = cfg;
}

static void *am_start(const struct receiver *r, const struct receiver_env *env)
{
    struct am_resend *am = calloc(1, sizeof *am);
    if (!am)
        return NULL;
    am->env = *env;
    am->r = r;
    am->timer = event_new(env->base, -1, EV_PERSIST, on_resend_timer, am);
    struct timeval resend = {AM_RESEND_MS / 1000, 0};
    if (!am->timer || event_add(am->timer, &resend) < 0) {
        am_stop(am);
        return NULL;
    }
    return am;
}

const struct receiver_kind rcv_alertmanager_kind = {
    .name = "alertmanager",
    .batches = false,
    .spacing_ms = 0,
    .build = am_build,
    .classify = receiver_classify_http,
    .start = am_start,
    .stop = am_stop,
    .reconfigure = am_reconfigure,
};
