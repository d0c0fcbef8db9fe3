/* Service contacts: record one (idempotently), list a graduate's, read one
 * by its id, void one (SPEC §12, Corrections). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/api/batch.h"
#include "gradcover/api/call.h"
#include "gradcover/api/contact_view.h"
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
#include "gradcover/domain/contact_record.h"
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
/* GET .../contacts returns at most this many, newest first. */
#define CONTACTS_LIST_MAX 1000
/* SPEC §12: a counselor may void a contact within 7 days of recording it
 * (an admin at any time). */
#define COUNSELOR_VOID_WINDOW_MS (7LL * 86400 * 1000)
/* Where the graduate id of a 400 id_is_personal_data was (request.h). */
#define ID_IN_CONTACT_ID "the graduate id in the contact id"

/* What the handler validated, kept until the script answers. The strings are
 * borrowed from r->body, which lives as long as the request. */
struct contact_state {
    char county[GC_COUNTY_MAX + 1];
    const char *gid, *service, *channel, *outcome, *note;
    int64_t occurred, now;
    char cid[CONTACT_REC_ID_CHARS + 1]; /* the contact's own part of its id */
    bool keyed;                         /* an Idempotency-Key was sent */
    char idem[65], body_hash[65];       /* hex SHA-256 of (caller, key) and of the body */
};

/* contact.lua's flat answer (its header): positions in the array. */
enum {
    C_OK,
    C_REPLAYED,
    C_ID,
    C_PERIOD,
    C_FIRST,
    C_REGISTERED,
    C_SERVED,
    C_THRESHOLD,
    C_TRANSITION,
    C_FIELDS
};

/* {"registered", "served", "rate", "gap"}: a county's coverage of one
 * period, as every answer about a contact gives it. */
static void write_coverage(struct jw *w, long long reg, long long srv, uint32_t bp)
{
    jw_obj(w);
    jw_key(w, "registered");
    jw_int(w, reg);
    jw_key(w, "served");
    jw_int(w, srv);
    jw_key(w, "rate");
    if (reg > 0)
        jw_bp(w, coverage_rate_bp((uint64_t)srv, (uint64_t)reg));
    else
        jw_null(w);
    jw_key(w, "gap");
    jw_int(w, (long long)coverage_gap((uint64_t)srv, (uint64_t)reg, bp));
    jw_obj_end(w);
}

/* 409 for a write to a graduate being moved to another county (see
 * graduates.c, transfer): counted in neither until the move is finished. */
static void reply_transfer_pending(struct req *r)
{
    http_reply_error(r, 409, "transfer_pending",
                     "the graduate is being transferred to another county; retry the transfer "
                     "to finish it",
                     NULL);
}

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
        else if (strcmp(err, "transfer_pending") == 0)
            reply_transfer_pending(r);
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
    jw_str(&w, c->gid);
    jw_key(&w, "county");
    jw_str(&w, c->county);
    jw_key(&w, "outcome");
    jw_str(&w, c->outcome);
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%lld", jsonx_ll(json_array_get(res, C_PERIOD)));
    jw_key(&w, "period");
    jw_str(&w, pbuf);
    jw_key(&w, "first_in_period");
    jw_bool(&w, jsonx_ll(json_array_get(res, C_FIRST)) != 0);
    jw_key(&w, "coverage");
    write_coverage(&w, reg, srv, bp);
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
    int o = outcome_index(c->outcome);
    if (o != GC_OUTCOME_REACHED) {
        /* An attempt; a reached contact's arguments stay as they were. */
        jw_key(&w, "o");
        jw_int(&w, o);
        jw_key(&w, "outcome");
        jw_str(&w, c->outcome);
    }
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
    /* The service package's counter, for a reached contact with one of its
     * services (its argument text made once, with the config). */
    int si = service_index(c->service);
    if (o == GC_OUTCOME_REACHED && si >= 0 && cfg->package.svc_json[si]) {
        jw_key(&w, "pk");
        jw_value_raw(&w, cfg->package.svc_json[si], strlen(cfg->package.svc_json[si]));
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
    if (!c || app_random_id(r->app, c->cid, CONTACT_REC_ID_CHARS) < 0) {
        free(c);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = c;
    r->state_free = free;
    c->gid = gid;
    c->service = service;
    c->channel = channel;
    c->outcome = in.outcome;
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

/* A listed contact and when it happened, for ordering. */
struct listed {
    json_t *view;
    int64_t occurred;
};

static int by_occurred_desc(const void *a, const void *b)
{
    int64_t x = ((const struct listed *)a)->occurred, y = ((const struct listed *)b)->occurred;
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
    struct listed *items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t k = 0;
    int off = r->app->cfg->utc_offset_minutes;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(raw, i);
        json_t *v = json_is_string(t) ? contact_view(r->params[0], json_string_value(t),
                                                     json_string_length(t), off, &items[k].occurred)
                                      : NULL;
        if (v)
            items[k++].view = v;
    }
    /* Stored newest-recorded first; order by when the contact happened. */
    qsort(items, k, sizeof *items, by_occurred_desc);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(list, items[i].view); /* the list takes it */
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

/* ---- a contact by its id: GET /api/v1/contacts/{contact_id}, and void ---- */

/* A contact's id names its graduate ("<graduate id>~<own part>"), so the
 * contact is found where the graduate is: no index of contact ids. */
struct one_contact {
    char gid[GC_ID_MAX + 1];
    char own[CONTACT_REC_ID_MAX + 1];
    char county[GC_COUNTY_MAX + 1];
};

static void reply_no_contact(struct req *r)
{
    http_reply_error(r, 404, "not_found", "no such contact", NULL);
}

/* The id in the path split into r->state (a struct one_contact), or -1
 * with the answer sent: 404 for an id that is not a contact id, 400 for a
 * graduate id in it shaped like personal data (nothing looked up or
 * logged under it). */
static int contact_id_or_reply(struct req *r)
{
    struct one_contact *oc = calloc(1, sizeof *oc);
    if (!oc) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return -1;
    }
    r->state = oc;
    r->state_free = free;
    if (!contact_id_split(r->params[0], oc->gid, oc->own)) {
        reply_no_contact(r);
        return -1;
    }
    return http_id_not_personal_or_reply(r, oc->gid, ID_IN_CONTACT_ID);
}

static void on_contact_read(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const struct one_contact *oc = r->state;
    size_t i;
    json_t *t;
    json_array_foreach(res, i, t)
    {
        json_t *v = json_is_string(t)
                        ? contact_view(oc->gid, json_string_value(t), json_string_length(t),
                                       r->app->cfg->utc_offset_minutes, NULL)
                        : NULL;
        const char *id = json_string_value(json_object_get(v, "id"));
        if (id && strcmp(id, r->params[0]) == 0) {
            trail_read(r, oc->county, "contact.read", r->params[0], "ok");
            json_object_set_new(v, "graduate_id", json_string(oc->gid));
            json_object_set_new(v, "county", json_string(oc->county));
            http_reply_json(r, 200, v);
            return;
        }
        json_decref(v);
    }
    trail_read(r, oc->county, "contact.read", r->params[0], "not_found");
    reply_no_contact(r);
}

static void contact_read_located(struct req *r, const char *county)
{
    struct one_contact *oc = r->state;
    snprintf(oc->county, sizeof oc->county, "%s", county);
    char key[KEY_MAX];
    key_contacts(key, sizeof key, county, oc->gid);
    call_command(r, 4, (const char *[]){"LRANGE", key, "0", "-1"}, on_contact_read);
}

void api_contact_get(struct req *r)
{
    if (contact_id_or_reply(r) < 0)
        return;
    const struct one_contact *oc = r->state;
    locate_graduate(r, oc->gid, false, contact_read_located);
}

static void on_voided(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const struct one_contact *oc = r->state;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err) {
        if (strcmp(err, "contact_not_found") == 0)
            reply_no_contact(r);
        else if (strcmp(err, "void_window_passed") == 0)
            http_reply_error(r, 403, "forbidden",
                             "a counselor may void a contact within 7 days of recording it; "
                             "ask an admin",
                             NULL);
        else if (strcmp(err, "transfer_pending") == 0)
            reply_transfer_pending(r);
        else
            http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    notifier_transition(r->app->notifier, r->id, oc->county,
                        json_string_value(json_object_get(res, "transition")));
    json_t *text = json_object_get(res, "contact");
    json_t *v = json_is_string(text)
                    ? contact_view(oc->gid, json_string_value(text), json_string_length(text),
                                   r->app->cfg->utc_offset_minutes, NULL)
                    : NULL;
    long i = config_county_index(r->app->cfg, oc->county);
    if (!v || i < 0) {
        json_decref(v);
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    long long reg = jsonx_ll(json_object_get(res, "registered"));
    long long srv = jsonx_ll(json_object_get(res, "served"));
    /* The contact as it now stands, and its period's coverage after the void. */
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        jw_key(&w, k);
        jw_json(&w, val, 0);
    }
    json_decref(v);
    jw_key(&w, "graduate_id");
    jw_str(&w, oc->gid);
    jw_key(&w, "county");
    jw_str(&w, oc->county);
    jw_key(&w, "already_voided");
    jw_bool(&w, json_is_true(json_object_get(res, "already")));
    jw_key(&w, "coverage");
    write_coverage(&w, reg, srv, r->app->cfg->counties[i].threshold_bp);
    jw_obj_end(&w);
    http_reply_jw(r, 200, &w);
}

static void void_located(struct req *r, const char *county)
{
    struct one_contact *oc = r->state;
    const struct config *cfg = r->app->cfg;
    long i = config_county_index(cfg, county);
    if (i < 0) {
        reply_no_contact(r);
        return;
    }
    snprintf(oc->county, sizeof oc->county, "%s", county);
    int64_t now = app_now_ms(r->app);
    int off = cfg->utc_offset_minutes;
    json_t *services = json_array();
    for (size_t s = 0; services && s < GC_NSERVICES; s++)
        json_array_append_new(services, json_string(gc_services[s]));
    json_t *args = json_pack("{s:s, s:s, s:O, s:s, s:I, s:i, s:i, s:o, s:o}", "gid", oc->gid, "cid",
                             oc->own, "reason", json_object_get(r->body, "reason"), "actor",
                             r->who.name, "now", (json_int_t)now, "cur", period_of(now, off), "off",
                             off, "services", services, "alert", alert_params_json(cfg, county));
    if (args && r->who.role != ROLE_ADMIN)
        json_object_set_new(args, "window_ms", json_integer(COUNSELOR_VOID_WINDOW_MS));
    json_t *pk = config_package_json(cfg);
    if (args && pk)
        json_object_set_new(args, "pk", pk);
    else
        json_decref(pk);
    trail_attach(r, args, "contact.void", r->params[0]);
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    call_script(r, "void", key, args, on_voided);
}

void api_contact_void(struct req *r)
{
    if (contact_id_or_reply(r) < 0 || http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct void_in in;
    if (validate_void(r->body, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    const struct one_contact *oc = r->state;
    locate_graduate(r, oc->gid, true, void_located);
}
