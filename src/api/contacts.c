/* Service contacts: record one (idempotently), list a graduate's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/api/batch.h"
#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/locate.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/hex.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/pii.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/services.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* SPEC §6: a replay within at least 24 h returns the first answer. Kept 48 h so
 * that a counselor syncing Monday what was queued offline on Saturday is safe. */
#define IDEMPOTENCY_TTL_S (48 * 3600)
#define CONTACT_ID_CHARS 16
/* GET .../contacts returns at most this many, newest first. */
#define CONTACTS_LIST_MAX 1000

/* What the handler validated, kept until the script answers. The strings are
 * borrowed from r->body, which lives as long as the request. */
struct contact_state {
    char county[GC_COUNTY_MAX + 1];
    const char *gid, *service, *channel, *note;
    int64_t occurred, now;
    char cid[CONTACT_ID_CHARS + 1];
    bool keyed;                   /* an Idempotency-Key was sent */
    char idem[65], body_hash[65]; /* hex SHA-256 of (caller, key) and of the body */
};

/* contact.lua's flat answer (its header): positions in the array. */
enum {
    C_OK,
    C_REPLAYED,
    C_ID,
    C_GRADUATE,
    C_PERIOD,
    C_FIRST,
    C_REGISTERED,
    C_SERVED,
    C_THRESHOLD,
    C_TRANSITION,
    C_FIELDS
};

static void on_contact(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err) {
        if (strcmp(err, "graduate_not_found") == 0)
            http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        else if (strcmp(err, "idempotency_key_reused") == 0)
            http_reply_error(r, 422, "idempotency_key_reused",
                             "this Idempotency-Key was used with a different body", NULL);
        else if (strcmp(err, "withdrawn") == 0)
            http_reply_invalid(r, "graduate_id", "the graduate is withdrawn");
        else if (strcmp(err, "before_registration") == 0)
            http_reply_invalid(r, "occurred_at", "must not be before the graduate's registration");
        else if (strcmp(err, "not_seeking") == 0)
            http_reply_invalid(r, "occurred_at", "the graduate was not seeking work at that time");
        else
            http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    const char *ok = json_string_value(json_array_get(res, C_OK));
    if (json_array_size(res) != C_FIELDS || !ok || strcmp(ok, "ok") != 0) {
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    const struct contact_state *c = r->state;
    notifier_transition(r->app->notifier, r->id, c->county,
                        json_string_value(json_array_get(res, C_TRANSITION)));
    long long reg = jsonx_ll(json_array_get(res, C_REGISTERED));
    long long srv = jsonx_ll(json_array_get(res, C_SERVED));
    uint32_t bp = (uint32_t)jsonx_ll(json_array_get(res, C_THRESHOLD));
    /* SPEC §6's 201 body, written directly (no JSON tree on the hot path). */
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "id");
    jw_json(&w, json_array_get(res, C_ID), 0);
    jw_key(&w, "graduate_id");
    jw_json(&w, json_array_get(res, C_GRADUATE), 0);
    jw_key(&w, "county");
    jw_str(&w, c->county);
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%lld", jsonx_ll(json_array_get(res, C_PERIOD)));
    jw_key(&w, "period");
    jw_str(&w, pbuf);
    jw_key(&w, "first_in_period");
    jw_bool(&w, jsonx_ll(json_array_get(res, C_FIRST)) != 0);
    jw_key(&w, "coverage");
    jw_obj(&w);
    jw_key(&w, "registered");
    jw_int(&w, reg);
    jw_key(&w, "served");
    jw_int(&w, srv);
    jw_key(&w, "rate");
    if (reg > 0)
        jw_bp(&w, coverage_rate_bp((uint64_t)srv, (uint64_t)reg));
    else
        jw_null(&w);
    jw_key(&w, "gap");
    jw_int(&w, (long long)coverage_gap((uint64_t)srv, (uint64_t)reg, bp));
    jw_obj_end(&w);
    jw_obj_end(&w);
    if (jsonx_ll(json_array_get(res, C_REPLAYED)))
        http_add_header(r, "Idempotent-Replayed", "true");
    http_reply_jw(r, 201, &w);
}

static void contact_located(struct req *r, const char *county)
{
    struct contact_state *c = r->state;
    const struct config *cfg = r->app->cfg;
    long i = config_county_index(cfg, county);
    if (i < 0) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    snprintf(c->county, sizeof c->county, "%s", county);
    int off = cfg->utc_offset_minutes;
    /* contact.lua's argument object (its header lists the members). */
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "id");
    jw_str(&w, c->cid);
    jw_key(&w, "graduate_id");
    jw_str(&w, c->gid);
    jw_key(&w, "service");
    jw_str(&w, c->service);
    jw_key(&w, "svc");
    jw_int(&w, service_index(c->service));
    jw_key(&w, "channel");
    jw_str(&w, c->channel);
    jw_key(&w, "ch");
    jw_int(&w, channel_index(c->channel));
    jw_key(&w, "occurred_at");
    jw_int(&w, c->occurred);
    jw_key(&w, "counselor");
    jw_str(&w, r->who.name);
    jw_key(&w, "now");
    jw_int(&w, c->now);
    jw_key(&w, "cur");
    jw_int(&w, period_of(c->now, off));
    jw_key(&w, "off");
    jw_int(&w, off);
    jw_key(&w, "idem_ttl");
    jw_int(&w, IDEMPOTENCY_TTL_S);
    if (c->note) {
        jw_key(&w, "note");
        jw_str(&w, c->note);
    }
    if (c->keyed) {
        jw_key(&w, "idem");
        jw_str(&w, c->idem);
        jw_key(&w, "body_hash");
        jw_str(&w, c->body_hash);
    }
    jw_key(&w, "threshold_bp");
    jw_int(&w, cfg->counties[i].threshold_bp);
    alert_params_write(&w, r->app->cfg, (size_t)i);
    trail_members(&w, r, "contact.create", c->gid);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    call_script_jw(r, "contact", key, &w, on_contact);
}

void api_contact_create(struct req *r)
{
    const char *ikey = http_header(r, "Idempotency-Key");
    if (ikey && !validate_idempotency_key(ikey)) {
        http_reply_error(r, 400, "bad_idempotency_key",
                         "Idempotency-Key must be 1..128 visible ASCII characters", NULL);
        return;
    }
    if (http_read_json_or_reply(r) < 0 ||
        http_id_not_personal_or_reply(r, json_string_value(json_object_get(r->body, "graduate_id")),
                                      "graduate_id") < 0)
        return;
    struct verr v = {0};
    struct contact_in in;
    int64_t now = app_now_ms(r->app);
    if (validate_contact(r->body, now, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    const char *gid = in.graduate_id, *service = in.service, *channel = in.channel, *note = in.note;
    int64_t occurred = in.occurred_at;
    struct contact_state *c = calloc(1, sizeof *c);
    if (!c || app_random_id(r->app, c->cid, CONTACT_ID_CHARS) < 0) {
        free(c);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = c;
    r->state_free = free;
    c->gid = gid;
    c->service = service;
    c->channel = channel;
    c->note = note;
    c->occurred = occurred;
    c->now = now;
    if (ikey) {
        /* Keys are per caller: two counselors may pick the same key. */
        char scoped[GC_ID_MAX + VALIDATE_IDEMPOTENCY_KEY_MAX + 8];
        snprintf(scoped, sizeof scoped, "%s\n%s", r->who.name, ikey);
        gc_sha256_hex(scoped, strlen(scoped), c->idem);
        hex_encode(r->body_sha256, sizeof r->body_sha256, c->body_hash);
        c->keyed = true;
    }
    locate_graduate(r, gid, true, contact_located);
}

/* ---- GET /api/v1/graduates/{id}/contacts ---- */

/* A stored contact as the object older servers stored as JSON: {id, service,
 * channel, occurred_at, recorded_at, period, counselor, note?} (times in ms).
 * contact.lua stores "<id>|<service>|<channel>|<occurred_at>|<recorded_at -
 * occurred_at>|<period>|<counselor bytes>|<counselor><note>", service and
 * channel as their index in the API's lists (less than half the bytes of the
 * JSON). NULL when the text is neither. New reference. */
static json_t *stored_contact(const char *text, size_t len)
{
    if (len > 0 && text[0] == '{')
        return json_loadb(text, len, 0, NULL);
    enum { ID, SVC, CH, OCC, REC, PERIOD, CLEN, NFIELDS };
    const char *f[NFIELDS];
    size_t flen[NFIELDS];
    const char *p = text, *end = text + len;
    for (int i = 0; i < NFIELDS; i++) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        if (!bar)
            return NULL;
        f[i] = p;
        flen[i] = (size_t)(bar - p);
        p = bar + 1;
    }
    int64_t v[NFIELDS] = {0};
    for (int i = SVC; i < NFIELDS; i++) {
        char num[24];
        if (flen[i] == 0 || flen[i] >= sizeof num)
            return NULL;
        memcpy(num, f[i], flen[i]);
        num[flen[i]] = '\0';
        if (!parse_i64(num, &v[i]))
            return NULL;
    }
    size_t rest = (size_t)(end - p);
    if (v[SVC] < 0 || v[SVC] >= GC_NSERVICES || v[CH] < 0 || v[CH] >= GC_NCHANNELS || v[CLEN] < 0 ||
        (size_t)v[CLEN] > rest)
        return NULL;
    size_t clen = (size_t)v[CLEN];
    json_t *c = json_object();
    json_t *id = json_stringn(f[ID], flen[ID]);
    json_t *counselor = json_stringn(p, clen);
    json_t *note = rest > clen ? json_stringn(p + clen, rest - clen) : NULL;
    if (!c || !id || !counselor || (rest > clen && !note)) {
        json_decref(c);
        json_decref(id);
        json_decref(counselor);
        json_decref(note);
        return NULL;
    }
    json_object_set_new(c, "id", id);
    json_object_set_new(c, "service", json_string(gc_services[v[SVC]]));
    json_object_set_new(c, "channel", json_string(gc_channels[v[CH]]));
    json_object_set_new(c, "occurred_at", json_integer(v[OCC]));
    json_object_set_new(c, "recorded_at", json_integer(v[OCC] + v[REC]));
    json_object_set_new(c, "period", json_integer(v[PERIOD]));
    json_object_set_new(c, "counselor", counselor);
    if (note)
        json_object_set_new(c, "note", note);
    return c;
}

static int by_occurred_desc(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "occurred_at_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "occurred_at_ms"));
    return x < y ? 1 : x > y ? -1 : 0;
}

static void on_contacts(struct req *r, struct batch *b)
{
    if (http_store_ok_or_reply(r, batch_worst(b)) < 0)
        return;
    const char *county = r->state;
    if (json_integer_value(batch_result(b, 0)) == 0) {
        trail_read(r, county, "contacts.read", r->params[0], "not_found");
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    trail_read(r, county, "contacts.read", r->params[0], "ok");
    json_t *raw = batch_result(b, 1);
    size_t n = json_array_size(raw);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(raw, i);
        json_t *c =
            json_is_string(t) ? stored_contact(json_string_value(t), json_string_length(t)) : NULL;
        if (!json_is_object(c)) {
            json_decref(c);
            continue;
        }
        json_object_set(c, "occurred_at_ms", json_object_get(c, "occurred_at"));
        items[k++] = c;
    }
    /* Stored newest-recorded first; order by when the contact happened. */
    qsort(items, k, sizeof *items, by_occurred_desc);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++) {
        json_t *c = items[i];
        json_int_t occ = json_integer_value(json_object_get(c, "occurred_at_ms"));
        json_int_t rec = json_integer_value(json_object_get(c, "recorded_at"));
        json_int_t period = json_integer_value(json_object_get(c, "period"));
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, "%lld", (long long)period);
        json_object_del(c, "occurred_at_ms");
        json_object_set_new(c, "occurred_at", jsonx_time(r->app->cfg->utc_offset_minutes, occ));
        json_object_set_new(c, "recorded_at", jsonx_time(r->app->cfg->utc_offset_minutes, rec));
        json_object_set_new(c, "period", json_string(pbuf));
        json_array_append_new(list, c);
    }
    free(items);
    http_reply_json(r, 200, json_pack("{s:s, s:o}", "graduate_id", r->params[0], "contacts", list));
}

static void contacts_located(struct req *r, const char *county)
{
    r->state = strdup(county);
    r->state_free = free;
    if (!r->state) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    char gkey[KEY_MAX], ckey[KEY_MAX], last[16];
    key_graduate(gkey, sizeof gkey, county, r->params[0]);
    key_contacts(ckey, sizeof ckey, county, r->params[0]);
    snprintf(last, sizeof last, "%d", CONTACTS_LIST_MAX - 1);
    struct batch *b = batch_new(r, 2, on_contacts);
    if (!b) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    const char *a0[2] = {"EXISTS", gkey};
    size_t l0[2] = {6, strlen(gkey)};
    const char *a1[4] = {"LRANGE", ckey, "0", last};
    size_t l1[4] = {6, strlen(ckey), 1, strlen(last)};
    batch_command(b, 0, 2, a0, l0);
    batch_command(b, 1, 4, a1, l1);
    batch_start(b);
}

void api_contact_list(struct req *r)
{
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, r->params[0], "the graduate id in the path") < 0)
        return;
    locate_graduate(r, r->params[0], false, contacts_located);
}
