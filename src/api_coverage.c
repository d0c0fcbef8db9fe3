/* Coverage of every county (one pipelined round trip of O(counties) HMGETs;
 * a second one only for counties not yet rolled into a new year) and each
 * county's queue of graduates still waiting for a service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api.h"
#include "gradcover/api_common.h"
#include "gradcover/app.h"
#include "gradcover/config.h"
#include "gradcover/coverage.h"
#include "gradcover/http.h"
#include "gradcover/keys.h"
#include "gradcover/timeutil.h"

#define QUEUE_LIMIT_DEFAULT 50
#define QUEUE_LIMIT_MAX 500
#define MS_PER_DAY 86400000LL

struct cov {
    int period;
    int cur;             /* the current period by our clock */
    bool single;         /* /counties/{code}/coverage */
    size_t n;            /* counties in scope */
    size_t *idx;         /* their indexes in cfg->counties */
    long long *reg, *srv;
    size_t *again;       /* counties needing the roll script */
    size_t nagain;
};

static void cov_free(void *p)
{
    struct cov *c = p;
    if (!c)
        return;
    free(c->idx);
    free(c->reg);
    free(c->srv);
    free(c->again);
    free(c);
}

static json_t *rate_json(long long served, long long registered)
{
    return registered > 0 ? json_real(coverage_rate((uint64_t)served, (uint64_t)registered))
                          : json_null();
}

static json_t *threshold_json(uint32_t bp)
{
    return json_real((double)bp / COVERAGE_BP_ONE);
}

static json_t *county_entry(const struct county_cfg *cc, long long reg, long long srv)
{
    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:o, s:I, s:b}", "code", cc->code, "name",
                     cc->name, "threshold", threshold_json(cc->threshold_bp), "registered",
                     (json_int_t)reg, "served", (json_int_t)srv, "rate", rate_json(srv, reg),
                     "gap", (json_int_t)coverage_gap((uint64_t)srv, (uint64_t)reg, cc->threshold_bp),
                     "below_target", reg > 0 && coverage_below((uint64_t)srv, (uint64_t)reg,
                                                               cc->threshold_bp));
}

static void cov_reply(struct req *r)
{
    struct cov *c = r->state;
    const struct config *cfg = r->app->cfg;
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", c->period);
    if (c->single) {
        json_t *e = county_entry(&cfg->counties[c->idx[0]], c->reg[0], c->srv[0]);
        json_object_set_new(e, "period", json_string(pbuf));
        http_reply_json(r, 200, e);
        return;
    }
    json_t *list = json_array();
    long long treg = 0, tsrv = 0;
    for (size_t i = 0; i < c->n; i++) {
        json_array_append_new(list, county_entry(&cfg->counties[c->idx[i]], c->reg[i], c->srv[i]));
        treg += c->reg[i];
        tsrv += c->srv[i];
    }
    json_t *total = json_pack(
        "{s:I, s:I, s:o, s:I, s:o}", "registered", (json_int_t)treg, "served", (json_int_t)tsrv,
        "rate", rate_json(tsrv, treg), "gap",
        (json_int_t)coverage_gap((uint64_t)tsrv, (uint64_t)treg, cfg->threshold_bp), "threshold",
        threshold_json(cfg->threshold_bp));
    http_reply_json(r, 200,
                    json_pack("{s:s, s:o, s:o, s:o}", "period", pbuf, "generated_at",
                              json_time(r->app, app_now_ms(r->app)), "total", total, "counties",
                              list));
}

static long long num(json_t *j)
{
    int64_t v = 0;
    if (json_is_integer(j))
        return json_integer_value(j);
    if (json_is_string(j) && parse_i64(json_string_value(j), &v))
        return v;
    return 0;
}

static void on_rolled(struct req *r, struct batch *b)
{
    struct cov *c = r->state;
    if (batch_worst(b) != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
    for (size_t k = 0; k < c->nagain; k++) {
        json_t *res = batch_result(b, k);
        c->reg[c->again[k]] = num(json_object_get(res, "registered"));
        c->srv[c->again[k]] = num(json_object_get(res, "served"));
    }
    cov_reply(r);
}

static void on_counters(struct req *r, struct batch *b)
{
    struct cov *c = r->state;
    if (batch_worst(b) != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        json_t *res = batch_result(b, i); /* [rolled, r:Y, s:Y] */
        json_t *rolled = json_array_get(res, 0);
        c->reg[i] = num(json_array_get(res, 1));
        c->srv[i] = num(json_array_get(res, 2));
        /* A county with graduates that nothing has touched since the year began
         * still has last year's materialisation: roll it now (once a year). */
        if (!json_is_null(rolled) && num(rolled) < c->period)
            c->again[c->nagain++] = i;
    }
    if (c->nagain == 0) {
        cov_reply(r);
        return;
    }
    struct batch *b2 = batch_new(r, c->nagain, on_rolled);
    if (!b2) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    int off = r->app->cfg->utc_offset_minutes;
    for (size_t k = 0; k < c->nagain; k++) {
        char key[KEY_MAX], args[96];
        key_county(key, sizeof key, r->app->cfg->counties[c->idx[c->again[k]]].code);
        snprintf(args, sizeof args, "{\"cur\":%d,\"period\":%d,\"off\":%d}", c->cur, c->period,
                 off);
        const char *argv[2] = {key, args};
        size_t lens[2] = {strlen(key), strlen(args)};
        batch_script(b2, k, "coverage", 1, 2, argv, lens);
    }
    batch_start(b2);
}

/* Reads ?period=YYYY (default: the current period). Replies 400 and returns -1
 * on a malformed or future period. */
static int period_param_or_reply(struct req *r, int cur, int *out)
{
    bool bad = false;
    char *p = http_query(r, "period", &bad);
    *out = cur;
    int64_t y = 0;
    bool ok = !bad && (!p || (strlen(p) == 4 && parse_i64(p, &y) && y >= GC_YEAR_MIN && y <= cur));
    if (p && ok)
        *out = (int)y;
    free(p);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter",
                         "period must be a year (YYYY) not after the current one", NULL);
        return -1;
    }
    return 0;
}

static void coverage_start(struct req *r, struct cov *c)
{
    r->state = c;
    r->state_free = cov_free;
    struct batch *b = batch_new(r, c->n, on_counters);
    if (!b) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    char rf[16], sf[16];
    snprintf(rf, sizeof rf, "r:%d", c->period);
    snprintf(sf, sizeof sf, "s:%d", c->period);
    for (size_t i = 0; i < c->n; i++) {
        char key[KEY_MAX];
        key_county_counters(key, sizeof key, r->app->cfg->counties[c->idx[i]].code);
        const char *argv[5] = {"HMGET", key, "rolled", rf, sf};
        size_t lens[5] = {5, strlen(key), 6, strlen(rf), strlen(sf)};
        batch_command(b, i, 5, argv, lens);
    }
    batch_start(b);
}

static struct cov *cov_new(size_t n)
{
    struct cov *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->idx = calloc(n, sizeof *c->idx);
    c->reg = calloc(n, sizeof *c->reg);
    c->srv = calloc(n, sizeof *c->srv);
    c->again = calloc(n, sizeof *c->again);
    if (!c->idx || !c->reg || !c->srv || !c->again) {
        cov_free(c);
        return NULL;
    }
    return c;
}

void api_coverage_all(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    int cur = period_of(app_now_ms(r->app), cfg->utc_offset_minutes), period;
    if (period_param_or_reply(r, cur, &period) < 0)
        return;
    struct cov *c = cov_new(cfg->ncounties);
    if (!c) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    c->period = period;
    c->cur = cur;
    for (size_t i = 0; i < cfg->ncounties; i++)
        if (auth_can_see_coverage(&r->who, cfg->counties[i].code))
            c->idx[c->n++] = i;
    coverage_start(r, c);
}

void api_coverage_county(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    long i = config_county_index(cfg, r->params[0]);
    if (i < 0) {
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return;
    }
    if (!auth_can_see_coverage(&r->who, r->params[0])) {
        http_reply_error(r, 403, "forbidden", "this token may not read that county", NULL);
        return;
    }
    int cur = period_of(app_now_ms(r->app), cfg->utc_offset_minutes), period;
    if (period_param_or_reply(r, cur, &period) < 0)
        return;
    struct cov *c = cov_new(1);
    if (!c) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    c->single = true;
    c->period = period;
    c->cur = cur;
    c->idx[0] = (size_t)i;
    c->n = 1;
    coverage_start(r, c);
}

/* ---- GET /api/v1/counties/{code}/queue ---- */

static void on_queue(struct req *r, enum store_status st, json_t *res)
{
    if (st != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
    int64_t now = app_now_ms(r->app);
    json_t *items = json_array();
    json_t *raw = json_object_get(res, "items");
    size_t i;
    json_t *it;
    json_array_foreach(raw, i, it)
    {
        json_int_t since = json_integer_value(json_object_get(it, "since"));
        json_t *stored = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "id",
                                   json_object_get(it, "id"), "name", json_object_get(it, "name"),
                                   "phone", json_object_get(it, "phone"), "school",
                                   json_object_get(it, "school"), "major",
                                   json_object_get(it, "major"));
        json_t *g = graduate_json(r, stored);
        json_decref(stored);
        json_object_del(g, "services");
        json_object_set(g, "contacts", json_object_get(it, "contacts"));
        json_object_set_new(g, "waiting_since", json_time(r->app, since));
        json_object_set_new(g, "waiting_days",
                            json_integer(now > since ? (now - since) / MS_PER_DAY : 0));
        json_t *lc = json_object_get(it, "last_contact_at");
        if (json_is_integer(lc))
            json_object_set_new(g, "last_contact_at", json_time(r->app, json_integer_value(lc)));
        json_array_append_new(items, g);
    }
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%lld", (long long)json_integer_value(json_object_get(res, "period")));
    http_reply_json(r, 200,
                    json_pack("{s:s, s:s, s:O, s:o}", "county", r->params[0], "period", pbuf,
                              "total", json_object_get(res, "total"), "graduates", items));
}

void api_queue(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    if (!config_county(cfg, r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return;
    }
    if (!auth_can_read_county(&r->who, r->params[0])) {
        http_reply_error(r, 403, "forbidden", "this token may not read that county's queue",
                         NULL);
        return;
    }
    bool bad = false;
    char *l = http_query(r, "limit", &bad);
    int64_t limit = QUEUE_LIMIT_DEFAULT;
    bool ok = !bad && (!l || (parse_i64(l, &limit) && limit >= 1 && limit <= QUEUE_LIMIT_MAX));
    free(l);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter", "limit must be an integer in 1..500", NULL);
        return;
    }
    int off = cfg->utc_offset_minutes;
    char key[KEY_MAX];
    key_county(key, sizeof key, r->params[0]);
    json_t *args = json_pack("{s:i, s:i, s:I}", "cur", period_of(app_now_ms(r->app), off), "off",
                             off, "limit", (json_int_t)limit);
    run_script(r, "queue", key, args, on_queue);
}
