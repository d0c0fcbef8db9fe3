/* GET /api/v1/alerts?state=firing|resolved|all&county=: alert episodes of the
 * caller's scope, newest first. Two pipelined rounds: each county's latest
 * episode ids, then the episodes themselves with the records of their firing
 * and resolution; a third for the records of their other events (repeats,
 * escalation, silence ends) when they have any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/batch.h"
#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/domain/roles.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* Episodes listed per county (newest first), ?limit= within 1..100: the
 * default keeps a country-wide admin view to a bounded number of reads. */
#define EPISODES_DEFAULT 20
#define EPISODES_MAX 100

enum filter { F_ALL, F_FIRING, F_RESOLVED };

/* An event of a listed episode whose records are read in the third round. */
struct extra {
    size_t item;       /* index in items */
    char event_id[96]; /* "<episode>:repeat:2", ... */
};

struct alerts_state {
    enum filter filter;
    int limit;
    size_t n;
    size_t *idx;    /* counties asked */
    json_t **items; /* the episodes listed, with their deliveries so far */
    size_t nitems;
    json_t **resolved; /* per item: the records of its resolution, listed last */
    struct extra *extras;
    size_t nextras;
};

static void alerts_state_free(void *p)
{
    struct alerts_state *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->nitems; i++) {
        json_decref(s->items[i]);
        json_decref(s->resolved[i]);
    }
    free(s->items);
    free(s->resolved);
    free(s->extras);
    free(s->idx);
    free(s);
}

static json_t *counts_obj(json_t *ep, const char *reg_key, const char *srv_key)
{
    long long reg = jsonx_ll(json_object_get(ep, reg_key)),
              srv = jsonx_ll(json_object_get(ep, srv_key));
    return json_pack("{s:I, s:I, s:o}", "registered", (json_int_t)reg, "served", (json_int_t)srv,
                     "rate", coverage_rate_json(srv, reg));
}

static json_t *episode_json(struct req *r, json_t *ep)
{
    const char *code = json_string_value(json_object_get(ep, "county"));
    const struct county_cfg *cc = code ? config_county(r->app->cfg, code) : NULL;
    if (!cc)
        return NULL;
    json_t *o = json_pack(
        "{s:O, s:{s:s, s:s}, s:O, s:O, s:o, s:f, s:o, s:o}", "id", json_object_get(ep, "id"),
        "county", "code", cc->code, "name", cc->name, "period", json_object_get(ep, "period"),
        "status", json_object_get(ep, "status"), "started_at",
        jsonx_time(r->app->cfg->utc_offset_minutes, jsonx_ll(json_object_get(ep, "started_at"))),
        "threshold", (double)jsonx_ll(json_object_get(ep, "threshold_bp")) / COVERAGE_BP_ONE,
        "at_start", counts_obj(ep, "start_registered", "start_served"), "lowest",
        counts_obj(ep, "low_registered", "low_served"));
    if (!o)
        return NULL;
    if (json_object_get(ep, "resolved_at")) {
        json_object_set_new(o, "resolved_at",
                            jsonx_time(r->app->cfg->utc_offset_minutes,
                                       jsonx_ll(json_object_get(ep, "resolved_at"))));
        json_object_set_new(o, "at_end", counts_obj(ep, "end_registered", "end_served"));
    } else {
        json_object_set_new(o, "resolved_at", json_null());
    }
    /* SPEC §11: who acknowledged the episode, when, and why (alert_ack.lua). */
    json_t *acked_at = json_object_get(ep, "acked_at"), *by = json_object_get(ep, "acked_by"),
           *comment = json_object_get(ep, "ack_comment");
    json_object_set_new(o, "acked_at",
                        acked_at ? jsonx_time(r->app->cfg->utc_offset_minutes, jsonx_ll(acked_at))
                                 : json_null());
    json_object_set_new(o, "acked_by", json_is_string(by) ? json_copy(by) : json_null());
    json_object_set_new(o, "comment", json_is_string(comment) ? json_copy(comment) : json_null());
    return o;
}

/* The kind of an event by its id "<episode>:<kind>[:<n or silence>]":
 * firing, resolved, repeat, escalation, unsilenced; NULL for another. */
static const char *event_kind(const char *ep, const char *event_id)
{
    static const char *const kinds[] = {"firing", "resolved", "repeat", "escalation", "unsilenced"};
    size_t el = strlen(ep);
    if (strncmp(event_id, ep, el) != 0 || event_id[el] != ':')
        return NULL;
    const char *k = event_id + el + 1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t kl = strlen(kinds[i]);
        if (strncmp(k, kinds[i], kl) == 0 && (k[kl] == '\0' || k[kl] == ':'))
            return kinds[i];
    }
    return NULL;
}

/* Appends one entry per receiver from the delivery hash (receiver -> JSON)
 * of event ev of episode ep. */
static void add_deliveries(struct req *r, json_t *out, const char *ep, const char *ev, json_t *flat)
{
    const char *kind = event_kind(ep ? ep : "", ev);
    if (!kind)
        return;
    const char *status = strcmp(kind, "resolved") == 0 ? "resolved" : "firing";
    for (size_t i = 0; i + 1 < json_array_size(flat); i += 2) {
        const char *receiver = json_string_value(json_array_get(flat, i));
        json_t *rec = json_loads(json_string_value(json_array_get(flat, i + 1)), 0, NULL);
        if (!receiver || !json_is_object(rec)) {
            json_decref(rec);
            continue;
        }
        json_t *last = json_object_get(rec, "last_attempt_at");
        json_t *err = json_object_get(rec, "last_error");
        json_array_append_new(
            out,
            json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:o}", "event_id", ev, "status", status,
                      "kind", kind, "receiver", receiver, "state", json_object_get(rec, "state"),
                      "attempts", json_object_get(rec, "attempts"), "last_error",
                      err ? err : json_null(), "last_attempt_at",
                      json_is_integer(last)
                          ? jsonx_time(r->app->cfg->utc_offset_minutes, json_integer_value(last))
                          : json_null()));
        json_decref(rec);
    }
}

static int by_started_desc(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "_started"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "_started"));
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Every listed episode, newest first, with its deliveries: the firing's,
 * the other events' in the order they were first recorded, the
 * resolution's. */
static void reply_items(struct req *r)
{
    struct alerts_state *s = r->state;
    for (size_t i = 0; i < s->nitems; i++) {
        json_t *dl = json_object_get(s->items[i], "deliveries");
        json_array_extend(dl, s->resolved[i]);
    }
    qsort(s->items, s->nitems, sizeof *s->items, by_started_desc);
    json_t *list = json_array();
    for (size_t i = 0; i < s->nitems; i++) {
        json_object_del(s->items[i], "_started");
        json_array_append(list, s->items[i]);
    }
    http_reply_json(r, 200, json_pack("{s:o}", "alerts", list));
}

static void on_extras(struct req *r, struct batch *b)
{
    struct alerts_state *s = r->state;
    if (http_store_ok_or_reply(r, batch_worst(b)) < 0)
        return;
    for (size_t i = 0; i < s->nextras; i++) {
        json_t *item = s->items[s->extras[i].item];
        add_deliveries(r, json_object_get(item, "deliveries"),
                       json_string_value(json_object_get(item, "id")), s->extras[i].event_id,
                       batch_result(b, i));
    }
    reply_items(r);
}

/* Rows per episode in the second round: the episode, the records of its
 * firing and of its resolution, and its index of events with records. */
#define EPISODE_ROWS 4

static void on_episodes(struct req *r, struct batch *b)
{
    struct alerts_state *s = r->state;
    if (http_store_ok_or_reply(r, batch_worst(b)) < 0)
        return;
    size_t n = batch_size(b) / EPISODE_ROWS, nextra = 0;
    for (size_t i = 0; i < n; i++)
        nextra += json_array_size(batch_result(b, EPISODE_ROWS * i + 3));
    s->items = calloc(n ? n : 1, sizeof *s->items);
    s->resolved = calloc(n ? n : 1, sizeof *s->resolved);
    s->extras = calloc(nextra ? nextra : 1, sizeof *s->extras);
    if (!s->items || !s->resolved || !s->extras) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *ep = jsonx_from_flat(batch_result(b, EPISODE_ROWS * i));
        const char *status = json_string_value(json_object_get(ep, "status"));
        bool keep = status && (s->filter == F_ALL ||
                               (s->filter == F_FIRING && strcmp(status, "firing") == 0) ||
                               (s->filter == F_RESOLVED && strcmp(status, "resolved") == 0));
        json_t *o = keep ? episode_json(r, ep) : NULL;
        if (o) {
            const char *id = json_string_value(json_object_get(ep, "id"));
            char ev[96];
            json_t *dl = json_array(), *res = json_array();
            snprintf(ev, sizeof ev, "%s:firing", id);
            add_deliveries(r, dl, id, ev, batch_result(b, EPISODE_ROWS * i + 1));
            snprintf(ev, sizeof ev, "%s:resolved", id);
            add_deliveries(r, res, id, ev, batch_result(b, EPISODE_ROWS * i + 2));
            json_object_set_new(o, "deliveries", dl);
            json_object_set_new(o, "_started",
                                json_integer(jsonx_ll(json_object_get(ep, "started_at"))));
            size_t k;
            json_t *e;
            json_array_foreach(batch_result(b, EPISODE_ROWS * i + 3), k, e)
            {
                const char *ev_id = json_string_value(e);
                const char *kind = ev_id ? event_kind(id, ev_id) : NULL;
                if (!kind || strcmp(kind, "firing") == 0 || strcmp(kind, "resolved") == 0 ||
                    strlen(ev_id) >= sizeof s->extras[0].event_id)
                    continue;
                s->extras[s->nextras].item = s->nitems;
                snprintf(s->extras[s->nextras].event_id, sizeof s->extras[0].event_id, "%s", ev_id);
                s->nextras++;
            }
            s->resolved[s->nitems] = res;
            s->items[s->nitems++] = o;
        }
        json_decref(ep);
    }
    if (s->nextras == 0) {
        reply_items(r);
        return;
    }
    struct batch *b3 = batch_new(r, s->nextras, on_extras);
    if (!b3) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < s->nextras; i++) {
        const char *code = json_string_value(
            json_object_get(json_object_get(s->items[s->extras[i].item], "county"), "code"));
        char key[KEY_MAX + 96];
        key_delivery(key, sizeof key, code, s->extras[i].event_id);
        const char *argv[2] = {"HGETALL", key};
        size_t lens[2] = {7, strlen(key)};
        batch_command(b3, i, 2, argv, lens);
    }
    batch_start(b3);
}

static void on_ids(struct req *r, struct batch *b)
{
    struct alerts_state *s = r->state;
    if (http_store_ok_or_reply(r, batch_worst(b)) < 0)
        return;
    size_t total = 0;
    for (size_t i = 0; i < batch_size(b); i++)
        total += json_array_size(batch_result(b, i));
    struct batch *b2 = batch_new(r, EPISODE_ROWS * total, on_episodes);
    if (!b2) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t slot = 0;
    for (size_t i = 0; i < batch_size(b); i++) {
        json_t *ids = batch_result(b, i);
        const char *code = r->app->cfg->counties[s->idx[i]].code;
        for (size_t j = 0; j < json_array_size(ids); j++) {
            const char *ep = json_string_value(json_array_get(ids, j));
            char key[EPISODE_ROWS][KEY_MAX + 96], ev[96];
            key_alert_episode(key[0], sizeof key[0], code, ep);
            snprintf(ev, sizeof ev, "%s:firing", ep);
            key_delivery(key[1], sizeof key[1], code, ev);
            snprintf(ev, sizeof ev, "%s:resolved", ep);
            key_delivery(key[2], sizeof key[2], code, ev);
            key_delivery_index(key[3], sizeof key[3], code, ep);
            for (int k = 0; k < 3; k++) {
                const char *argv[2] = {"HGETALL", key[k]};
                size_t lens[2] = {7, strlen(key[k])};
                batch_command(b2, slot++, 2, argv, lens);
            }
            const char *argv[4] = {"ZRANGE", key[3], "0", "-1"};
            size_t lens[4] = {6, strlen(key[3]), 1, 2};
            batch_command(b2, slot++, 4, argv, lens);
        }
    }
    batch_start(b2);
}

void api_alerts(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    bool bad = false;
    char *state = http_query(r, "state", &bad);
    char *county = http_query(r, "county", &bad);
    char *lim = http_query(r, "limit", &bad);
    int64_t limit = EPISODES_DEFAULT;
    if (lim && (!parse_i64(lim, &limit) || limit < 1 || limit > EPISODES_MAX))
        bad = true;
    free(lim);
    enum filter f = F_ALL;
    if (state && strcmp(state, "firing") == 0)
        f = F_FIRING;
    else if (state && strcmp(state, "resolved") == 0)
        f = F_RESOLVED;
    else if (state && strcmp(state, "all") != 0)
        bad = true;
    long one = county ? config_county_index(cfg, county) : -1;
    bool unknown = county && one < 0;
    bool forbidden = county && one >= 0 && !auth_can_read_county(&r->who, county);
    free(state);
    free(county);
    if (bad || unknown) {
        http_reply_error(r, 400, "bad_parameter",
                         "state must be firing, resolved or all; county a configured county; "
                         "limit 1..100",
                         NULL);
        return;
    }
    if (forbidden) {
        http_reply_error(r, 403, "forbidden", "this token may not read that county's alerts", NULL);
        return;
    }
    struct alerts_state *s = calloc(1, sizeof *s);
    if (s)
        s->idx = calloc(cfg->ncounties, sizeof *s->idx);
    if (!s || !s->idx) {
        alerts_state_free(s);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    s->filter = f;
    s->limit = (int)limit;
    for (size_t i = 0; i < cfg->ncounties; i++)
        if ((one < 0 || (size_t)one == i) && auth_can_read_county(&r->who, cfg->counties[i].code))
            s->idx[s->n++] = i;
    r->state = s;
    r->state_free = alerts_state_free;
    struct batch *b = batch_new(r, s->n, on_ids);
    if (!b) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    char last[16];
    snprintf(last, sizeof last, "%d", s->limit - 1);
    for (size_t i = 0; i < s->n; i++) {
        char key[KEY_MAX];
        key_alert_episodes(key, sizeof key, cfg->counties[s->idx[i]].code);
        const char *argv[4] = {"ZREVRANGE", key, "0", last};
        size_t lens[4] = {9, strlen(key), 1, strlen(last)};
        batch_command(b, i, 4, argv, lens);
    }
    batch_start(b);
}
