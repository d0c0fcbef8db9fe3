/* Coverage of every county (one pipelined round trip of O(counties) HMGETs;
 * a second one only for counties not yet rolled into a new year), of one
 * county with its year-end projection (one script), and each county's queue
 * of graduates still waiting for a service. The counter reads themselves live
 * in counts.c, shared with /metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/counts.h"
#include "gradcover/api/county_days.h"
#include "gradcover/api/export.h"
#include "gradcover/api/graduate_view.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/services.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

#define QUEUE_LIMIT_DEFAULT 50
#define QUEUE_LIMIT_MAX 500
#define MS_PER_DAY 86400000LL

/* A string literal, copied as it is. */
#define LIT(w, s) jw_raw((w), (s), sizeof(s) - 1)

/* One county's entry (SPEC §6), written into an open array or as the body:
 * the head rendered once (code, name, threshold: county_text), then the
 * counts. Rates and thresholds as http_reply_json writes reals (jw_bp). */
static void county_entry(struct jw *w, const struct county_cfg *cc, const struct county_text *t,
                         long long reg, long long srv, enum alert_state alert, const char *period,
                         struct county_days *days, long long pkg)
{
    jw_value_raw(w, t->json_head, t->json_head_len);
    LIT(w, "\"registered\":");
    jw_raw_int(w, reg);
    LIT(w, ",\"served\":");
    jw_raw_int(w, srv);
    LIT(w, ",\"rate\":");
    if (reg > 0)
        jw_raw_bp(w, coverage_rate_bp((uint64_t)srv, (uint64_t)reg));
    else
        LIT(w, "null");
    LIT(w, ",\"gap\":");
    jw_raw_int(w, (long long)coverage_gap((uint64_t)srv, (uint64_t)reg, cc->threshold_bp));
    if (reg > 0 && coverage_below((uint64_t)srv, (uint64_t)reg, cc->threshold_bp))
        LIT(w, ",\"below_target\":true");
    else
        LIT(w, ",\"below_target\":false");
    /* SPEC §12: graduates who completed the service package in the period
     * (pkg < 0: no package configured). */
    if (pkg >= 0) {
        LIT(w, ",\"package_complete\":");
        jw_raw_int(w, pkg);
    }
    /* The alert state appears once the alert evaluation has stored one. */
    const char *a = alert_state_name(alert);
    if (a) {
        LIT(w, ",\"alert\":\"");
        jw_raw(w, a, strlen(a));
        LIT(w, "\"");
    }
    if (period) {
        LIT(w, ",\"period\":\"");
        jw_raw(w, period, strlen(period));
        LIT(w, "\"");
    }
    /* One county of the current period: where its pace leads by 31 December. */
    if (days) {
        jw_key(w, "projection"); /* writes the "," too: the head set the comma state */
        county_days_write_projection(w, days);
    }
    LIT(w, "}");
}

/* Bytes of one county's entry, about: the body is reserved at once. */
#define ENTRY_BYTES 160

/* The alert state is live: it belongs to the current period. A past
 * period's entry has none (its episodes, each with its period, are in
 * GET /api/v1/alerts), or last year's numbers would show today's state. */
static enum alert_state entry_alert(const struct county_counts *c, size_t i)
{
    return c->period == c->cur ? c->alert[i] : ALERT_UNKNOWN;
}

static void on_counts(struct req *r, struct county_counts *c, enum store_status st)
{
    const struct config *cfg = r->app->cfg;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", c->period);
    struct jw w;
    jw_init(&w);
    /* Written straight into the reply's text: with 3,000 counties a JSON tree
     * was 45,000 values to build, dump and free for one 400 KB answer. */
    jw_reserve(&w, 256 + c->n * ENTRY_BYTES);
    long long treg = 0, tsrv = 0, tpkg = 0;
    bool pkg = cfg->package.nitems > 0;
    for (size_t i = 0; i < c->n; i++) {
        treg += c->reg[i];
        tsrv += c->srv[i];
        tpkg += c->pkg[i];
    }
    char gen[40];
    rfc3339_format(app_now_ms(r->app), cfg->utc_offset_minutes, gen, sizeof gen);
    jw_obj(&w);
    jw_key(&w, "period");
    jw_str(&w, pbuf);
    jw_key(&w, "generated_at");
    jw_str(&w, gen);
    jw_key(&w, "total");
    jw_obj(&w);
    jw_key(&w, "registered");
    jw_int(&w, treg);
    jw_key(&w, "served");
    jw_int(&w, tsrv);
    jw_key(&w, "rate");
    if (treg > 0)
        jw_bp(&w, coverage_rate_bp((uint64_t)tsrv, (uint64_t)treg));
    else
        jw_null(&w);
    jw_key(&w, "gap");
    jw_int(&w, (long long)coverage_gap((uint64_t)tsrv, (uint64_t)treg, cfg->threshold_bp));
    jw_key(&w, "threshold");
    jw_bp(&w, cfg->threshold_bp);
    if (pkg) {
        jw_key(&w, "package_complete");
        jw_int(&w, tpkg);
    }
    jw_obj_end(&w);
    jw_key(&w, "counties");
    jw_arr(&w);
    for (size_t i = 0; i < c->n; i++)
        county_entry(&w, &cfg->counties[c->idx[i]], &r->app->ctext[c->idx[i]], c->reg[i], c->srv[i],
                     entry_alert(c, i), NULL, NULL, pkg ? c->pkg[i] : -1);
    jw_arr_end(&w);
    jw_obj_end(&w);
    http_reply_jw(r, 200, &w);
}

void api_coverage_all(struct req *r)
{
    if (export_format_or_reply(r, &export_coverage) < 0)
        return;
    const struct config *cfg = r->app->cfg;
    int cur = period_of(app_now_ms(r->app), cfg->utc_offset_minutes), period;
    if (county_days_period_or_reply(r, cur, &period) < 0)
        return;
    struct county_counts *c = counts_new(cfg->ncounties);
    if (!c) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    c->period = period;
    c->cur = cur;
    for (size_t i = 0; i < cfg->ncounties; i++)
        if (auth_can_see_coverage(&r->who, cfg->counties[i].code))
            c->idx[c->n++] = i;
    counts_read(r, c, on_counts); /* takes c */
}

/* One county: its counters, alert and (current period) daily points in one
 * script, not through the counter cache: one round trip either way, and the
 * points and counts agree. */
static void on_county(struct req *r, enum store_status st, struct county_days *d)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", d->period);
    bool current = d->period == d->cur;
    struct jw w;
    jw_init(&w);
    county_entry(&w, &r->app->cfg->counties[d->idx], &r->app->ctext[d->idx], d->registered,
                 d->served, current ? d->alert : ALERT_UNKNOWN, pbuf, current ? d : NULL,
                 r->app->cfg->package.nitems > 0 ? d->package_complete : -1);
    http_reply_jw(r, 200, &w);
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
    if (county_days_period_or_reply(r, cur, &period) < 0)
        return;
    county_days_read(r, (size_t)i, period, cur, period == cur ? DAYS_WINDOW : DAYS_NONE, on_county);
}

/* ---- GET /api/v1/counties/{code}/queue ---- */

/* The queue's views: who waits (default), and who left seeking unserved. */
#define VIEW_LEFT "left_unserved"
/* SPEC §12's orders: longest waiting first (default), or ranked. */
#define SORT_PRIORITY "priority"
/* A graduate unreachable on this many different days is named in the
 * ranked queue's reasons (SPEC §12: attempts "on different days"). */
#define UNREACHABLE_REASON_DAYS 2

/* What on_queue needs of the request (r->state, freed with it). */
struct queue_state {
    bool left;     /* view=left_unserved */
    bool priority; /* sort=priority */
    int64_t cut;   /* priority: waiting since at or before this is past the SLA */
};

/* The cursor's first two characters: the sort and the view it pages. */
static void cursor_kind(const struct queue_state *q, char kind[3])
{
    kind[0] = q->priority ? 'p' : 'w';
    kind[1] = q->left ? 'l' : 's';
    kind[2] = '\0';
}

/* The next page's cursor, "<kind>.<cut>.<segment>.<since>.<id>" (the last
 * item's key in queue.lua, and the SLA cut the walk started with, so that
 * the order does not shift under it while the days pass), or JSON null. */
static json_t *next_cursor(const struct queue_state *q, json_t *next)
{
    if (!json_is_object(next))
        return json_null();
    char kind[3], buf[GC_ID_MAX + 80];
    cursor_kind(q, kind);
    snprintf(buf, sizeof buf, "%s.%lld.%lld.%lld.%s", kind, (long long)q->cut,
             (long long)json_integer_value(json_object_get(next, "s")),
             (long long)jsonx_ll(json_object_get(next, "t")),
             json_string_value(json_object_get(next, "id"))
                 ? json_string_value(json_object_get(next, "id"))
                 : "");
    return json_string(buf);
}

/* Parses a cursor of this sort and view into queue.lua's "after" (a new
 * reference) and the walk's cut; NULL when it is not one. */
static json_t *cursor_parse(const char *s, struct queue_state *q)
{
    char kind[3];
    cursor_kind(q, kind);
    if (strncmp(s, kind, 2) != 0 || s[2] != '.')
        return NULL;
    int64_t v[3];
    const char *p = s + 3;
    for (int k = 0; k < 3; k++) {
        const char *dot = strchr(p, '.');
        char num[24];
        if (!dot || dot == p || (size_t)(dot - p) >= sizeof num)
            return NULL;
        memcpy(num, p, (size_t)(dot - p));
        num[dot - p] = '\0';
        if (!parse_i64(num, &v[k]))
            return NULL;
        p = dot + 1;
    }
    if (v[1] < 0 || v[1] > 3 || !id_valid(p))
        return NULL;
    if (q->priority && !q->left)
        q->cut = v[0];
    return json_pack("{s:I, s:I, s:s}", "s", (json_int_t)v[1], "t", (json_int_t)v[2], "id", p);
}

/* SPEC §12: why a ranked item is where it is: "sla_breached" (waiting past
 * queue.sla_days, segments 0 and 1 of queue.lua), its hardship flags (in
 * the API's order), and "unreachable_attempts" when attempts failed on
 * UNREACHABLE_REASON_DAYS different days or more (named, not ranked). */
static json_t *priority_reasons(const struct queue_state *q, json_t *it)
{
    json_t *why = json_array();
    json_int_t seg = json_integer_value(json_object_get(it, "seg"));
    if (!q->left && (seg == 0 || seg == 1))
        json_array_append_new(why, json_string("sla_breached"));
    const char *flags = json_string_value(json_object_get(it, "flags"));
    for (size_t f = 0; flags && f < GC_NFLAGS; f++) {
        size_t n = strlen(gc_flags[f]);
        for (const char *p = flags; *p;) {
            size_t len = strcspn(p, ",");
            if (len == n && strncmp(p, gc_flags[f], n) == 0)
                json_array_append_new(why, json_string(gc_flags[f]));
            p += len + (p[len] ? 1 : 0);
        }
    }
    if (json_integer_value(json_object_get(it, "unreachable_days")) >= UNREACHABLE_REASON_DAYS)
        json_array_append_new(why, json_string("unreachable_attempts"));
    return why;
}

static void on_queue(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const struct queue_state *q = r->state;
    int64_t now = app_now_ms(r->app);
    int off = r->app->cfg->utc_offset_minutes;
    bool left = q->left;
    json_t *items = json_array();
    json_t *raw = json_object_get(res, "items");
    size_t i;
    json_t *it;
    json_array_foreach(raw, i, it)
    {
        json_t *stored =
            json_pack("{s:O?, s:s, s:O?, s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(it, "id"),
                      "county", r->params[0], "name", json_object_get(it, "name"), "phone",
                      json_object_get(it, "phone"), "school", json_object_get(it, "school"),
                      "major", json_object_get(it, "major"), "flags", json_object_get(it, "flags"));
        json_t *g = graduate_view(r, stored);
        json_decref(stored);
        json_object_del(g, "services");
        json_object_del(g, "attempts");
        json_object_set(g, "contacts", json_object_get(it, "contacts"));
        /* SPEC §12: unreachable on this many different days (flagged when > 0). */
        json_int_t ud = json_integer_value(json_object_get(it, "unreachable_days"));
        if (ud > 0)
            json_object_set_new(g, "unreachable_attempts", json_integer(ud));
        if (left) {
            /* Why they are not waiting: their status and since when. */
            json_object_set(g, "status", json_object_get(it, "status"));
            json_t *sa = json_object_get(it, "status_at");
            if (json_is_integer(sa))
                json_object_set_new(g, "left_at", jsonx_time(off, json_integer_value(sa)));
        } else {
            json_int_t since = json_integer_value(json_object_get(it, "since"));
            json_object_set_new(g, "waiting_since", jsonx_time(off, since));
            json_object_set_new(g, "waiting_days",
                                json_integer(now > since ? (now - since) / MS_PER_DAY : 0));
        }
        json_t *lc = json_object_get(it, "last_contact_at");
        if (json_is_integer(lc))
            json_object_set_new(g, "last_contact_at", jsonx_time(off, json_integer_value(lc)));
        if (q->priority)
            json_object_set_new(g, "priority_reasons", priority_reasons(q, it));
        json_array_append_new(items, g);
    }
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%lld",
             (long long)json_integer_value(json_object_get(res, "period")));
    trail_read(r, r->params[0], left ? "queue.read_left" : "queue.read", "", "ok");
    json_t *out =
        json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:o, s:o}", "county", r->params[0],
                  "period", pbuf, "view", left ? VIEW_LEFT : "seeking", "sort",
                  q->priority ? SORT_PRIORITY : "waiting", "total", json_object_get(res, "total"),
                  "left_unserved", json_object_get(res, "left_unserved"), "registered",
                  json_object_get(res, "registered"), "served", json_object_get(res, "served"),
                  "graduates", items, "next_cursor", next_cursor(q, json_object_get(res, "next")));
    if (out && q->priority && !left)
        json_object_set_new(out, "sla_days", json_integer(r->app->cfg->queue_sla_days));
    /* A caseload's view (assigned_to): whose, and how many of the view's. */
    if (out && json_is_string(json_object_get(res, "assigned_to"))) {
        json_object_set(out, "assigned_to", json_object_get(res, "assigned_to"));
        json_object_set(out, "assigned_waiting", json_object_get(res, "assigned_waiting"));
    }
    http_reply_json(r, 200, out);
}

void api_queue(struct req *r)
{
    if (export_format_or_reply(r, &export_queue) < 0)
        return;
    const struct config *cfg = r->app->cfg;
    if (!config_county(cfg, r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return;
    }
    if (!auth_can_read_county(&r->who, r->params[0])) {
        http_reply_error(r, 403, "forbidden", "this token may not read that county's queue", NULL);
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
    char *view = http_query(r, "view", &bad);
    bool left = view && strcmp(view, VIEW_LEFT) == 0;
    ok = !bad && (!view || left || strcmp(view, "seeking") == 0);
    free(view);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter", "view must be seeking or left_unserved", NULL);
        return;
    }
    char *sort = http_query(r, "sort", &bad);
    bool priority = sort && strcmp(sort, SORT_PRIORITY) == 0;
    ok = !bad && (!sort || priority || strcmp(sort, "waiting") == 0);
    free(sort);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter", "sort must be waiting or priority", NULL);
        return;
    }
    /* assigned_to=mine: the caller's caseload; another name: that counselor's. */
    char *who = http_query(r, "assigned_to", &bad);
    char assignee[GC_ID_MAX + 1] = "";
    if (who)
        snprintf(assignee, sizeof assignee, "%s", strcmp(who, "mine") == 0 ? r->who.name : who);
    ok = !bad && (!who || (*who && strlen(who) <= GC_ID_MAX));
    free(who);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter",
                         "assigned_to must be mine or a counselor's name (1..64 characters)", NULL);
        return;
    }
    struct queue_state *q = calloc(1, sizeof *q);
    if (!q) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    int64_t now = app_now_ms(r->app);
    q->left = left;
    q->priority = priority;
    q->cut = priority && !left ? now - (int64_t)cfg->queue_sla_days * MS_PER_DAY : 0;
    r->state = q; /* freed with the request */
    r->state_free = free;
    char *cur = http_query(r, "cursor", &bad);
    json_t *after = cur && !bad ? cursor_parse(cur, q) : NULL;
    ok = !bad && (!cur || after);
    free(cur);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter",
                         "cursor must be a next_cursor of this queue's sort and view", NULL);
        return;
    }
    int off = cfg->utc_offset_minutes;
    char key[KEY_MAX];
    key_county(key, sizeof key, r->params[0]);
    json_t *args = json_pack("{s:i, s:i, s:I, s:s, s:s}", "cur", period_of(now, off), "off", off,
                             "limit", (json_int_t)limit, "view", left ? VIEW_LEFT : "seeking",
                             "sort", priority ? SORT_PRIORITY : "waiting");
    if (args && priority && !left)
        json_object_set_new(args, "cut", json_integer(q->cut));
    if (args && after)
        json_object_set_new(args, "after", after);
    else
        json_decref(after);
    if (args && assignee[0])
        json_object_set_new(args, "assigned_to", json_string(assignee));
    call_script(r, "queue", key, args, on_queue);
}
