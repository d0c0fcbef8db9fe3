/* Service contacts: record one (idempotently), list a graduate's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api.h"
#include "gradcover/api_common.h"
#include "gradcover/app.h"
#include "gradcover/config.h"
#include "gradcover/counts.h"
#include "gradcover/coverage.h"
#include "gradcover/http.h"
#include "gradcover/keys.h"
#include "gradcover/pii.h"
#include "gradcover/timeutil.h"
#include "gradcover/validate.h"

/* SPEC §6: a replay within at least 24 h returns the first answer. Kept 48 h so
 * that a counselor syncing Monday what was queued offline on Saturday is safe. */
#define IDEMPOTENCY_TTL_S (48 * 3600)
#define CONTACT_ID_CHARS 16
/* GET .../contacts returns at most this many, newest first. */
#define CONTACTS_LIST_MAX 1000

static json_t *coverage_obj(json_int_t registered, json_int_t served, uint32_t bp)
{
    return json_pack("{s:I, s:I, s:o, s:I}", "registered", registered, "served", served, "rate",
                     json_rate(served, registered), "gap",
                     (json_int_t)coverage_gap((uint64_t)served, (uint64_t)registered, bp));
}

static void on_contact(struct req *r, enum store_status st, json_t *res)
{
    if (st != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
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
    json_t *resp = json_object_get(res, "resp");
    const char *county = r->state;
    log_alert_transition(r, county, res);
    json_int_t period = json_integer_value(json_object_get(resp, "period"));
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%lld", (long long)period);
    json_t *body = json_pack(
        "{s:O, s:O, s:s, s:s, s:O, s:o}", "id", json_object_get(resp, "id"), "graduate_id",
        json_object_get(resp, "graduate_id"), "county", county, "period", pbuf, "first_in_period",
        json_object_get(resp, "first_in_period"), "coverage",
        coverage_obj(json_integer_value(json_object_get(resp, "registered")),
                     json_integer_value(json_object_get(resp, "served")),
                     (uint32_t)json_integer_value(json_object_get(resp, "threshold_bp"))));
    if (json_is_true(json_object_get(res, "replayed")))
        http_add_header(r, "Idempotent-Replayed", "true");
    http_reply_json(r, 201, body);
}

struct contact_state {
    char county[GC_COUNTY_MAX + 1];
    json_t *args;
};

static void contact_state_free(void *p)
{
    struct contact_state *c = p;
    json_decref(c->args);
    free(c);
}

static void contact_located(struct req *r, const char *county)
{
    struct contact_state *c = r->state;
    const struct county_cfg *cc = config_county(r->app->cfg, county);
    if (!cc) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    snprintf(c->county, sizeof c->county, "%s", county);
    json_object_set_new(c->args, "threshold_bp", json_integer(cc->threshold_bp));
    json_object_set_new(c->args, "alert", alert_args(r->app, county));
    json_t *args = c->args;
    c->args = NULL;
    /* The reply needs only the county name: keep it as the state. */
    char *name = strdup(c->county);
    contact_state_free(c);
    r->state = name;
    r->state_free = free;
    audit_attach(r, args, "contact.create",
                 json_string_value(json_object_get(args, "graduate_id")));
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    run_script(r, "contact", key, args, on_contact);
}

void api_contact_create(struct req *r)
{
    if (r->who.role != ROLE_ADMIN && r->who.role != ROLE_COUNSELOR) {
        http_reply_error(r, 403, "forbidden", "this token may not record contacts", NULL);
        return;
    }
    const char *ikey = http_header(r, "Idempotency-Key");
    if (ikey && !validate_idempotency_key(ikey)) {
        http_reply_error(r, 400, "bad_idempotency_key",
                         "Idempotency-Key must be 1..128 visible ASCII characters", NULL);
        return;
    }
    if (http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct contact_in in;
    int64_t now = app_now_ms(r->app);
    if (validate_contact(r->body, now, &in, &v) < 0) {
        verr_reply(r, &v);
        return;
    }
    const char *gid = in.graduate_id, *service = in.service, *channel = in.channel, *note = in.note;
    int64_t occurred = in.occurred_at;
    char cid[CONTACT_ID_CHARS + 1];
    struct contact_state *c = calloc(1, sizeof *c);
    if (!c || gc_random_id(cid, CONTACT_ID_CHARS) < 0) {
        free(c);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = c;
    r->state_free = contact_state_free;
    int off = r->app->cfg->utc_offset_minutes;
    c->args = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:i, s:i, s:i}", "id", cid,
                        "graduate_id", gid, "service", service, "channel",
                        channel ? channel : "in_person", "occurred_at", (json_int_t)occurred,
                        "counselor", r->who.name, "now", (json_int_t)now, "cur",
                        period_of(now, off), "off", off, "idem_ttl", IDEMPOTENCY_TTL_S);
    if (!c->args) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    if (note)
        json_object_set_new(c->args, "note", json_string(note));
    if (ikey) {
        /* Keys are per caller: two counselors may pick the same key. */
        char scoped[GC_ID_MAX + VALIDATE_IDEMPOTENCY_KEY_MAX + 8], idem[65], body[65];
        snprintf(scoped, sizeof scoped, "%s\n%s", r->who.name, ikey);
        gc_sha256_hex(scoped, strlen(scoped), idem);
        static const char hx[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            body[2 * i] = hx[r->body_sha256[i] >> 4];
            body[2 * i + 1] = hx[r->body_sha256[i] & 15];
        }
        body[64] = '\0';
        json_object_set_new(c->args, "idem", json_string(idem));
        json_object_set_new(c->args, "body_hash", json_string(body));
    }
    locate_graduate(r, gid, true, contact_located);
}

/* ---- GET /api/v1/graduates/{id}/contacts ---- */

static int by_occurred_desc(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "occurred_at_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "occurred_at_ms"));
    return x < y ? 1 : x > y ? -1 : 0;
}

static void on_contacts(struct req *r, struct batch *b)
{
    if (batch_worst(b) != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
    const char *county = r->state;
    if (json_integer_value(batch_result(b, 0)) == 0) {
        audit_read(r, county, "contacts.read", r->params[0], "not_found");
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    audit_read(r, county, "contacts.read", r->params[0], "ok");
    json_t *raw = batch_result(b, 1);
    size_t n = json_array_size(raw);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(raw, i));
        json_t *c = text ? json_loads(text, 0, NULL) : NULL;
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
        json_object_set_new(c, "occurred_at", json_time(r->app, occ));
        json_object_set_new(c, "recorded_at", json_time(r->app, rec));
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
    if (!valid_id(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    locate_graduate(r, r->params[0], false, contacts_located);
}
