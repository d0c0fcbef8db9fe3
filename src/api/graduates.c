/* Graduates: register, read, look up by national ID, change status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/api/batch.h"
#include "gradcover/api/call.h"
#include "gradcover/api/graduate_view.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/locate.h"
#include "gradcover/api/search_ix.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/hex.h"
#include "gradcover/core/log.h"
#include "gradcover/core/pii.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/natid.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/ratelimit.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* A national-ID claim whose graduate never appeared is taken over after this:
 * the county step follows the claim within milliseconds unless a server died. */
#define STALE_CLAIM_MS 60000
/* Server-assigned graduate ids: 62^16 values, collision-free in practice. */
#define GENERATED_ID_CHARS 16
/* Makes claim tokens unique within a millisecond (claim.lua). */
#define CLAIM_NONCE_CHARS 8
/* Where the id of a 400 id_is_personal_data was (request.h). */
#define ID_IN_PATH "the graduate id in the path"

/* State of a registration or status change across its store steps. */
struct gstate {
    char id[GC_ID_MAX + 1];
    char county[GC_COUNTY_MAX + 1];
    char hmac[PII_HMAC_HEX_LEN + 1];
    char takeover[GC_ID_MAX + 32];         /* the exact value of a stale claim to replace */
    char holder[GC_ID_MAX + 1];            /* who holds the national-ID claim we hit */
    char holder_county[GC_COUNTY_MAX + 1]; /* and in which county */
    char holder_value[GC_ID_MAX + 32];     /* and the claim's exact value */
    int64_t holder_since;
    char token[GC_ID_MAX + 32]; /* our claim's token (from claim.lua), or a released one */
    json_t *county_args;        /* arguments of the county script, owned */
    json_t *graduate;           /* the county script's answer, owned */
    int status_code;            /* reply status once the last step is done */
    char error[32];             /* a script's refusal, replied after releasing our claim */
    bool registering;
    bool claimed; /* we hold the national-ID claim for this request */
    /* A registration reserves one of its token's already_seeking refusals
     * (config rate_limits.seeking_refusals_*) before it asks; unless it was
     * refused so (charged), the reservation is given back when it ends. */
    struct ratelimit *allowance; /* the router's buckets; NULL: nothing reserved */
    char allowance_key[GC_ID_MAX + 3];
    double allowance_burst;
    bool charged;
};

static void gstate_free(void *p)
{
    struct gstate *g = p;
    if (!g)
        return;
    if (g->allowance && !g->charged)
        ratelimit_refund(g->allowance, g->allowance_key, g->allowance_burst);
    json_decref(g->county_args);
    json_decref(g->graduate);
    free(g);
}

static struct gstate *gstate_attach(struct req *r)
{
    struct gstate *g = calloc(1, sizeof *g);
    if (g) {
        r->state = g;
        r->state_free = gstate_free;
    }
    return g;
}

static void reply_graduate(struct req *r, int status, json_t *stored)
{
    json_t *g = graduate_view(r, stored);
    http_reply_json(r, status, g);
}

/* ---- the claim protocol shared by registration and return to seeking ---- */

static void claim_start(struct req *r);

static void on_county_step(struct req *r, enum store_status st, json_t *res);

static void county_step(struct req *r)
{
    struct gstate *g = r->state;
    char key[KEY_MAX];
    key_county(key, sizeof key, g->county);
    json_t *args = g->county_args;
    g->county_args = NULL;
    trail_attach(r, args, g->registering ? "graduate.register" : "graduate.status", g->id);
    call_script(r, g->registering ? "register" : "status", key, args, on_county_step);
}

/* 409 already_seeking: the person is seeking under another id. Policy needs
 * the answer (one person counts in one county), so it is traced in both
 * counties' trails (docs/security.md §4): the caller's county records the
 * attempt on its own id, and the holder's county that someone from the
 * caller's county asked about its graduate (g->holder, when known), with
 * the same request id; neither names the national ID, and the caller's
 * trail does not name the other county. A registration's refusal also
 * stays spent from its token's allowance. */
static void refuse_seeking_elsewhere(struct req *r)
{
    struct gstate *g = r->state;
    trail_read(r, g->county, g->registering ? "graduate.register" : "graduate.status", g->id,
               "already_seeking");
    if (g->holder[0] && config_county(r->app->cfg, g->holder_county))
        trail_from(r, g->holder_county, "graduate.duplicate_refused", g->holder, "already_seeking",
                   g->county);
    g->charged = true;
    http_reply_error(r, 409, "already_seeking",
                     "a graduate with this national ID is already registered as seeking", NULL);
}

static void on_holder_status(struct req *r, enum store_status st, json_t *res)
{
    struct gstate *g = r->state;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *status = json_string_value(json_array_get(res, 0));
    bool young = app_now_ms(r->app) - g->holder_since < STALE_CLAIM_MS;
    if ((status && strcmp(status, "seeking") == 0) || (!status && young)) {
        /* Seeking, or a registration still being written by another request. */
        refuse_seeking_elsewhere(r);
        return;
    }
    /* The holder left seeking (its release was lost) or was never written: take
     * the claim over, naming it so that a newer claim is never overwritten. */
    snprintf(g->takeover, sizeof g->takeover, "%s", g->holder_value);
    claim_start(r);
}

static void on_claim(struct req *r, enum store_status st, json_t *res)
{
    struct gstate *g = r->state;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (!err) {
        const char *token = json_string_value(json_object_get(res, "token"));
        if (!token || strlen(token) >= sizeof g->token) {
            http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
            return;
        }
        snprintf(g->token, sizeof g->token, "%s", token);
        json_object_set_new(g->county_args, "claim", json_string(token));
        g->claimed = true;
        county_step(r);
        return;
    }
    if (strcmp(err, "id_taken") == 0) {
        /* Whether the id is this county's or another's (claim.lua decides both
         * in this one step): the same answer and the same entry, here. */
        trail_read(r, g->county, "graduate.register", g->id, "id_taken");
        http_reply_error(r, 409, "id_taken", "this graduate id is already in use", NULL);
        return;
    }
    const char *holder = json_string_value(json_object_get(res, "holder"));
    const char *hcounty = json_string_value(json_object_get(res, "holder_county"));
    if (holder && hcounty && id_valid(holder) && strlen(hcounty) <= GC_COUNTY_MAX) {
        snprintf(g->holder, sizeof g->holder, "%s", holder);
        snprintf(g->holder_county, sizeof g->holder_county, "%s", hcounty);
    }
    if (!holder || !hcounty || g->takeover[0] || !id_valid(holder)) {
        refuse_seeking_elsewhere(r);
        return;
    }
    const char *hvalue = json_string_value(json_object_get(res, "holder_value"));
    snprintf(g->holder_value, sizeof g->holder_value, "%s", hvalue ? hvalue : "");
    g->holder_since = json_integer_value(json_object_get(res, "since"));
    char key[KEY_MAX];
    key_graduate(key, sizeof key, hcounty, holder);
    call_command(r, 3, (const char *[]){"HMGET", key, "status"}, on_holder_status);
}

static void claim_start(struct req *r)
{
    struct gstate *g = r->state;
    char key[KEY_MAX];
    key_global(key, sizeof key);
    char nonce[CLAIM_NONCE_CHARS + 1];
    if (gc_random_id(nonce, CLAIM_NONCE_CHARS) < 0) {
        http_reply_error(r, 500, "internal", "no random bytes", NULL);
        return;
    }
    json_t *args = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "id", g->id, "county", g->county,
                             "hmac", g->hmac, "now", (json_int_t)app_now_ms(r->app), "nonce", nonce,
                             "mode", g->registering ? "register" : "reseek");
    if (args && g->takeover[0])
        json_object_set_new(args, "takeover", json_string(g->takeover));
    call_script(r, "claim", key, args, on_claim);
}

/* ---- after the county step ---- */

static void reply_status_error(struct req *r, const char *err);

static void on_released(struct req *r, enum store_status st, json_t *res)
{
    (void)res;
    struct gstate *g = r->state;
    if (st != STORE_OK)
        /* Harmless: the next registration sees the claim's graduate is not seeking. */
        log_warn("event=nid_release_failed request_id=%s graduate=%s", r->id, g->id);
    if (g->error[0]) {
        reply_status_error(r, g->error);
        return;
    }
    reply_graduate(r, g->status_code, g->graduate);
}

static void release_claim(struct req *r, bool forget)
{
    struct gstate *g = r->state;
    char key[KEY_MAX];
    key_global(key, sizeof key);
    json_t *args = json_pack("{s:s, s:s, s:s, s:b}", "id", g->id, "hmac", g->hmac, "token",
                             g->token, "forget", forget);
    call_script(r, "release", key, args, on_released);
}

static void reply_status_error(struct req *r, const char *err)
{
    if (strcmp(err, "not_found") == 0)
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
    else if (strcmp(err, "id_taken") == 0)
        http_reply_error(r, 409, "id_taken", "this graduate id is already in use", NULL);
    else if (strcmp(err, "withdrawn") == 0)
        http_reply_error(r, 409, "withdrawn",
                         "the graduate is withdrawn; register the person again instead", NULL);
    else if (strcmp(err, "at_before_last_change") == 0)
        http_reply_invalid(r, "at", "must not be before the graduate's last status change");
    else if (strcmp(err, "at_before_last_contact") == 0)
        http_reply_invalid(r, "at", "must not be before the graduate's last service contact");
    else if (strcmp(err, "transfer_pending") == 0)
        http_reply_error(r, 409, "transfer_pending",
                         "the graduate is being transferred to another county; retry", NULL);
    else if (strcmp(err, "needs_claim") == 0)
        http_reply_error(r, 409, "conflict",
                         "the graduate's status changed during this request; retry", NULL);
    else
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
}

/* 409 registration_differs: a re-sent registration of a stored graduate
 * whose fields differ from the stored ones; names each field (never its
 * value). fields: borrowed, the script's list of names. The script's audit
 * entry already says "differs". */
static void reply_differs(struct req *r, json_t *fields)
{
    json_t *f = json_object();
    size_t i;
    json_t *name;
    json_array_foreach(fields, i, name)
    {
        if (json_is_string(name))
            json_object_set_new(f, json_string_value(name),
                                json_string("differs from the stored registration; correct it "
                                            "with PATCH /api/v1/graduates/{id}"));
    }
    http_reply_error(r, 409, "registration_differs",
                     "this graduate is registered with other values in these fields", f);
}

static void on_county_step(struct req *r, enum store_status st, json_t *res)
{
    struct gstate *g = r->state;
    if (st != STORE_OK) {
        /* Outcome unknown (Redis went away): the client retries; the claim is ours
         * and a retry with the same id goes through. */
        http_reply_unavailable(r);
        return;
    }
    const char *err = json_string_value(json_object_get(res, "err"));
    notifier_transition(r->app->notifier, r->id, g->county,
                        json_string_value(json_object_get(res, "transition")));
    if (g->registering) {
        if (err && strcmp(err, "differs") == 0) {
            /* The same person with other fields: the claim is theirs (the
             * script kept it in step), only the answer is a refusal. */
            reply_differs(r, json_object_get(res, "fields"));
            return;
        }
        if (err) {
            snprintf(g->error, sizeof g->error, "id_taken"); /* another person's: undo our claim */
            release_claim(r, true);
            return;
        }
        g->graduate = json_incref(json_object_get(res, "graduate"));
        g->status_code = json_is_true(json_object_get(res, "existed")) ? 200 : 201;
        reply_graduate(r, g->status_code, g->graduate);
        return;
    }
    if (err) {
        if (g->claimed) {
            /* A refused return to seeking must leave nothing behind. */
            snprintf(g->error, sizeof g->error, "%s", err);
            release_claim(r, false);
            return;
        }
        reply_status_error(r, err);
        return;
    }
    g->graduate = json_incref(json_object_get(res, "graduate"));
    g->status_code = 200;
    const char *prev = json_string_value(json_object_get(res, "previous"));
    const char *released = json_string_value(json_object_get(res, "released_claim"));
    if (json_is_true(json_object_get(res, "changed")) && prev && strcmp(prev, "seeking") == 0 &&
        released) {
        const char *hmac = json_string_value(json_object_get(g->graduate, "nid_hmac"));
        snprintf(g->hmac, sizeof g->hmac, "%s", hmac ? hmac : "");
        snprintf(g->token, sizeof g->token, "%s", released);
        release_claim(r, false);
        return;
    }
    reply_graduate(r, 200, g->graduate);
}

/* National IDs are matched by HMAC: with the wrong key nothing would match, and
 * duplicates would slip through. Refuses (503) and returns -1 in that case. */
static int pii_key_ok_or_reply(struct req *r)
{
    if (!r->app->pii_mismatch)
        return 0;
    http_reply_error(r, 503, "pii_key_mismatch",
                     "this server's PII key is not the one the data was written with", NULL);
    return -1;
}

/* ---- POST /api/v1/graduates ---- */

/* Reserves one of the token's already_seeking refusals before the claim is
 * tried: with none left, 429 whatever the national ID (so the 429 says
 * nothing about the person either) and -1. Reserving first, rather than
 * counting refusals after the fact, also holds concurrent requests to what
 * is left. */
static int allowance_reserve_or_reply(struct req *r, struct gstate *g)
{
    const struct rate_limits_cfg *rl = &r->app->cfg->rate_limits;
    if (rl->seeking_refusals_per_hour <= 0)
        return 0;
    snprintf(g->allowance_key, sizeof g->allowance_key, "s:%s", r->who.name);
    int wait =
        ratelimit_take(r->rt->limits, g->allowance_key, rl->seeking_refusals_per_hour / 3600.0,
                       rl->seeking_refusal_burst, app_now_ms(r->app));
    if (wait > 0) {
        http_reply_too_many(r, wait,
                            "this token had too many registrations refused as already seeking "
                            "elsewhere; retry later");
        return -1;
    }
    g->allowance = r->rt->limits;
    g->allowance_burst = rl->seeking_refusal_burst;
    return 0;
}

void api_graduate_create(struct req *r)
{
    if (pii_key_ok_or_reply(r) < 0 || http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct graduate_in in;
    int64_t now = app_now_ms(r->app);
    const char *own = r->who.role == ROLE_COUNSELOR ? r->who.county : NULL;
    if (validate_graduate(r->body, r->app->cfg, own, now, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    const char *id = in.id, *county = in.county, *name = in.name, *phone = in.phone,
               *school = in.school, *major = in.major;
    const char *norm = in.national_id;
    int64_t registered_at = in.registered_at;
    char masked[NATID_LEN + 1];
    if (!auth_can_write_county(&r->who, county)) {
        http_reply_error(r, 403, "forbidden", "this token may not register in that county", NULL);
        return;
    }
    struct gstate *g = gstate_attach(r);
    if (!g) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    if (allowance_reserve_or_reply(r, g) < 0)
        return;
    g->registering = true;
    if (id)
        snprintf(g->id, sizeof g->id, "%s", id);
    else if (gc_random_id(g->id, GENERATED_ID_CHARS) < 0) {
        http_reply_error(r, 500, "internal", "no random bytes", NULL);
        return;
    }
    snprintf(g->county, sizeof g->county, "%s", county);
    pii_hmac_hex(r->app->pii, norm, NATID_LEN, g->hmac);
    natid_mask(norm, masked);
    json_t *args =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:s}", "id", g->id, "county",
                  g->county, "name", name, "nid_hmac", g->hmac, "nid_masked", masked,
                  "registered_at", (json_int_t)registered_at, "now", (json_int_t)now, "cur",
                  period_of(now, r->app->cfg->utc_offset_minutes), "off",
                  r->app->cfg->utc_offset_minutes, "actor", r->who.name);
    if (args && phone)
        json_object_set_new(args, "phone", json_string(phone));
    if (args && school)
        json_object_set_new(args, "school", json_string(school));
    if (args && major)
        json_object_set_new(args, "major", json_string(major));
    if (args && in.assigned_to)
        json_object_set_new(args, "assigned_to", json_string(in.assigned_to));
    if (args && in.graduation_year)
        json_object_set_new(args, "graduation_year", json_integer(in.graduation_year));
    if (args) {
        /* The search index's entries of the name and the phone (search_ix.h). */
        json_t *ix = search_ix_name(r->app->pii, name), *ph = search_ix_phone(r->app->pii, phone);
        if (ix && ph)
            json_array_extend(ix, ph);
        json_decref(ph);
        if (ix)
            json_object_set_new(args, "ix", ix);
        else {
            json_decref(args);
            args = NULL;
        }
    }
    if (args && json_object_get(r->body, "registered_at"))
        json_object_set_new(args, "registered_at_given", json_true());
    if (args)
        json_object_set_new(args, "alert", alert_params_json(r->app->cfg, g->county));
    if (!args) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    g->county_args = args;
    claim_start(r);
}

/* ---- POST /api/v1/graduates/{id}/status ---- */

static void status_located(struct req *r, const char *county);

static void on_reseek_info(struct req *r, enum store_status st, json_t *res)
{
    struct gstate *g = r->state;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *hmac = json_string_value(json_array_get(res, 0));
    const char *status = json_string_value(json_array_get(res, 1));
    if (!status) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (!hmac) {
        /* Erased (DELETE): without the national ID, seeking cannot be claimed. */
        http_reply_error(r, 409, "erased",
                         "this graduate's personal data was erased; register the person again",
                         NULL);
        return;
    }
    snprintf(g->hmac, sizeof g->hmac, "%s", hmac);
    if (strcmp(status, "seeking") == 0 || strcmp(status, "withdrawn") == 0) {
        county_step(r); /* nothing to claim; the script answers (no change / 409) */
        return;
    }
    claim_start(r);
}

static void status_located(struct req *r, const char *county)
{
    struct gstate *g = r->state;
    snprintf(g->county, sizeof g->county, "%s", county);
    json_t *al = alert_params_json(r->app->cfg, county);
    if (!al) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    json_object_set_new(g->county_args, "alert", al);
    const char *status = json_string_value(json_object_get(g->county_args, "status"));
    if (strcmp(status, "seeking") != 0) {
        county_step(r);
        return;
    }
    char key[KEY_MAX];
    key_graduate(key, sizeof key, county, g->id);
    call_command(r, 4, (const char *[]){"HMGET", key, "nid_hmac", "status"}, on_reseek_info);
}

void api_graduate_status(struct req *r)
{
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, r->params[0], ID_IN_PATH) < 0 ||
        http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct status_in in;
    int64_t now = app_now_ms(r->app);
    if (validate_status(r->body, now, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    const char *status = in.status, *reason = in.reason;
    int64_t at = in.at;
    struct gstate *g = gstate_attach(r);
    if (!g) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    snprintf(g->id, sizeof g->id, "%.*s", GC_ID_MAX, r->params[0]); /* id_valid: fits */
    g->county_args =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:i, s:i}", "id", g->id, "status", status, "at",
                  (json_int_t)at, "reason", reason ? reason : "", "actor", r->who.name, "now",
                  (json_int_t)now, "cur", period_of(now, r->app->cfg->utc_offset_minutes), "off",
                  r->app->cfg->utc_offset_minutes);
    if (!g->county_args) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    /* A withdrawal takes the graduate out of every period's completed
     * service packages too (status.lua). */
    json_t *pk = strcmp(status, "withdrawn") == 0 ? config_package_json(r->app->cfg) : NULL;
    if (pk)
        json_object_set_new(g->county_args, "pk", pk);
    locate_graduate(r, g->id, true, status_located);
}

/* ---- GET /api/v1/graduates/{id} ---- */

static void on_graduate(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *county = r->state;
    if (json_array_size(res) == 0) {
        trail_read(r, county, "graduate.read", r->params[0], "not_found");
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    trail_read(r, county, "graduate.read", r->params[0], "ok");
    json_t *stored = jsonx_from_flat(res);
    reply_graduate(r, 200, stored);
    json_decref(stored);
}

static void get_located(struct req *r, const char *county)
{
    r->state = strdup(county);
    r->state_free = free;
    if (!r->state) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    char key[KEY_MAX];
    key_graduate(key, sizeof key, county, r->params[0]);
    call_command(r, 2, (const char *[]){"HGETALL", key}, on_graduate);
}

void api_graduate_get(struct req *r)
{
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, r->params[0], ID_IN_PATH) < 0)
        return;
    locate_graduate(r, r->params[0], false, get_located);
}

/* ---- GET /api/v1/graduates?national_id= ---- */

static void on_lookup_graduates(struct req *r, struct batch *b)
{
    if (http_store_ok_or_reply(r, batch_worst(b)) < 0)
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < batch_size(b); i++) {
        json_t *flat = batch_result(b, i);
        if (json_array_size(flat) == 0)
            continue;
        json_t *stored = jsonx_from_flat(flat);
        trail_read(r, json_string_value(json_object_get(stored, "county")), "graduate.lookup",
                   json_string_value(json_object_get(stored, "id")), "ok");
        json_array_append_new(list, graduate_view(r, stored));
        json_decref(stored);
    }
    if (json_array_size(list) == 0)
        trail_read(r, NULL, "graduate.lookup", "", "not_found");
    http_reply_json(r, 200, json_pack("{s:o}", "graduates", list));
}

static void on_lookup_index(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    /* res: flat [id, county, id, county, ...]; keep what the caller may read. */
    size_t n = 0;
    char keys[16][KEY_MAX];
    for (size_t i = 0; i + 1 < json_array_size(res) && n < 16; i += 2) {
        const char *id = json_string_value(json_array_get(res, i));
        const char *county = json_string_value(json_array_get(res, i + 1));
        if (id && county && auth_can_read_county(&r->who, county))
            key_graduate(keys[n++], KEY_MAX, county, id);
    }
    struct batch *b = batch_new(r, n, on_lookup_graduates);
    if (!b) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *argv[2] = {"HGETALL", keys[i]};
        size_t lens[2] = {7, strlen(keys[i])};
        batch_command(b, i, 2, argv, lens);
    }
    batch_start(b);
}

/* ---- GET /api/v1/graduates?county=&q=&status=&cursor=&limit= ---- */

/* A page: small enough for a phone, SEARCH_LIMIT_MAX for a desk. */
#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 100
/* Index entries one page may read (a status filter skips some): bounds the
 * script's time; the cursor then continues where it stopped. */
#define SEARCH_SCAN_MAX 1000
/* A cursor is an index entry, hex: "n:" + a 64-character name (up to 4
 * bytes each) + NUL + a 64-character id, twice over. */
#define SEARCH_CURSOR_MAX 1024

/* Graduates indexed per round of a county's first search (search.lua's
 * backfill): one script each way of a few ms. */
#define SEARCH_BACKFILL_MAX 500
/* Rounds one request may spend on it; then 503, and the next request goes on
 * where it stopped (a county of 50,000 graduates is indexed in two). */
#define SEARCH_BACKFILL_ROUNDS 50

struct search_state {
    char county[GC_COUNTY_MAX + 1];
    json_t *args; /* the search's arguments, owned: asked again after a backfill */
    int rounds;
};

static void search_state_free(void *p)
{
    struct search_state *ss = p;
    if (ss)
        json_decref(ss->args);
    free(ss);
}

static void on_search(struct req *r, enum store_status st, json_t *res);

static void search_ask(struct req *r)
{
    struct search_state *ss = r->state;
    char key[KEY_MAX];
    key_county(key, sizeof key, ss->county);
    json_t *args = json_deep_copy(ss->args);
    if (!args) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    call_script(r, "search", key, args, on_search);
}

static void on_filled(struct req *r, enum store_status st, json_t *res)
{
    (void)res;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    search_ask(r);
}

/* Entries for graduates written before the index: computed here (the PII
 * key), written by ix_fill.lua, then the search asked again. */
static void backfill(struct req *r, json_t *todo)
{
    struct search_state *ss = r->state;
    if (++ss->rounds > SEARCH_BACKFILL_ROUNDS) {
        http_reply_unavailable(r);
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(todo, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        json_t *ix = search_ix_name(r->app->pii, json_string_value(json_object_get(it, "name")));
        json_t *ph = search_ix_phone(r->app->pii, json_string_value(json_object_get(it, "phone")));
        if (id && ix && ph && json_array_extend(ix, ph) == 0)
            json_array_append_new(items, json_pack("{s:s, s:O}", "id", id, "ix", ix));
        json_decref(ix);
        json_decref(ph);
    }
    char key[KEY_MAX];
    key_county(key, sizeof key, ss->county);
    call_script(r, "ix_fill", key, json_pack("{s:o}", "items", items), on_filled);
}

static void on_search(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const struct search_state *ss = r->state;
    json_t *todo = json_object_get(res, "backfill");
    if (todo) {
        backfill(r, todo);
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *stored;
    json_array_foreach(json_object_get(res, "graduates"), i, stored)
    {
        json_array_append_new(list, graduate_view(r, stored));
    }
    json_t *next = json_object_get(res, "next");
    json_t *cursor = json_null();
    if (json_is_string(next) && json_string_length(next) * 2 < SEARCH_CURSOR_MAX) {
        char hex[SEARCH_CURSOR_MAX + 1];
        hex_encode((const unsigned char *)json_string_value(next), json_string_length(next), hex);
        cursor = json_string(hex);
    }
    /* Names were read: audited, never with the query (personal data). */
    trail_read(r, ss->county, "graduate.search", "", "ok");
    http_reply_json(r, 200, json_pack("{s:o, s:o}", "graduates", list, "next_cursor", cursor));
}

/* Characters of UTF-8 text, or 0 when it holds a control character. */
static size_t search_text_chars(const char *q)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)q; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        chars += (*p & 0xC0) != 0x80;
    }
    return chars;
}

/* q: 1..64 characters (UTF-8), no control characters. */
static bool search_text_ok(const char *q)
{
    size_t chars = search_text_chars(q);
    return chars >= 1 && chars <= GC_ID_MAX;
}

static void reply_bad_search(struct req *r, const char *message)
{
    http_reply_error(r, 400, "bad_parameter", message, NULL);
}

static const char *const search_params[] = {"county", "q",     "status",
                                            "cursor", "limit", "assigned_to"};
#define SEARCH_NPARAMS (sizeof search_params / sizeof search_params[0])

static void graduate_search(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    bool bad = false;
    char *v[SEARCH_NPARAMS];
    for (size_t i = 0; i < SEARCH_NPARAMS; i++)
        v[i] = http_query(r, search_params[i], &bad);
    char *county = v[0], *q = v[1], *status = v[2], *cursor = v[3], *limit_s = v[4],
         *assigned = v[5];
    int64_t limit = SEARCH_LIMIT_DEFAULT;
    unsigned char cur_bytes[SEARCH_CURSOR_MAX / 2];
    size_t cur_len = cursor ? strlen(cursor) / 2 : 0;
    static const char *const statuses[] = {"seeking", "employed", "not_seeking", "withdrawn"};
    bool status_ok = !status;
    for (size_t i = 0; status && i < 4; i++)
        status_ok |= strcmp(status, statuses[i]) == 0;
    /* Counselors and a county's leader search their county; others name one. */
    const char *own = r->who.county[0] ? r->who.county : NULL;
    const char *where = county ? county : own;
    const char *msg = NULL;
    if (bad)
        msg = "the query string is malformed";
    else if (!where)
        msg = "county is required";
    else if (q && !search_text_ok(q))
        msg = "q must be 1..64 characters";
    else if (!status_ok)
        msg = "status must be one of seeking, employed, not_seeking, withdrawn";
    else if (cursor && (!*cursor || strlen(cursor) > SEARCH_CURSOR_MAX || strlen(cursor) % 2 ||
                        !hex_decode(cursor, cur_bytes, cur_len)))
        msg = "cursor must be a next_cursor of an earlier answer";
    else if (limit_s && (!parse_i64(limit_s, &limit) || limit < 1 || limit > SEARCH_LIMIT_MAX))
        msg = "limit must be an integer in 1..100";
    else if (assigned && !search_text_ok(assigned))
        msg = "assigned_to must be mine or a counselor's name (1..64 characters)";
    json_t *args = NULL;
    if (!msg) {
        int off = cfg->utc_offset_minutes;
        args = json_pack("{s:I, s:i, s:i, s:i}", "limit", (json_int_t)limit, "scan_max",
                         SEARCH_SCAN_MAX, "backfill_max", SEARCH_BACKFILL_MAX, "cur",
                         period_of(app_now_ms(r->app), off));
        if (args && q) {
            char qn[SEARCH_IX_HEX + 4], qp[SEARCH_IX_HEX + 4];
            search_ix_query_name(r->app->pii, q, qn, sizeof qn);
            search_ix_query_phone(r->app->pii, q, qp, sizeof qp);
            json_object_set_new(args, "q", json_string(q));
            json_object_set_new(args, "qn", json_string(qn));
            /* Within the indexed prefix the entry is the match itself. */
            json_object_set_new(args, "qn_exact",
                                json_boolean(search_text_chars(q) <= SEARCH_IX_PREFIX_MAX));
            if (qp[0])
                json_object_set_new(args, "qp", json_string(qp));
        }
        if (args && status)
            json_object_set_new(args, "status", json_string(status));
        if (args && cursor)
            json_object_set_new(args, "cursor", json_stringn((const char *)cur_bytes, cur_len));
        if (args && assigned)
            json_object_set_new(
                args, "assigned_to",
                json_string(strcmp(assigned, "mine") == 0 ? r->who.name : assigned));
    }
    char code[GC_COUNTY_MAX + 1];
    snprintf(code, sizeof code, "%s", where ? where : "");
    for (size_t i = 0; i < SEARCH_NPARAMS; i++)
        free(v[i]);
    if (msg) {
        reply_bad_search(r, msg);
        return;
    }
    if (!args) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    if (!config_county(cfg, code)) {
        json_decref(args);
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return;
    }
    if (!auth_can_read_county(&r->who, code)) {
        json_decref(args);
        http_reply_error(r, 403, "forbidden", "this token may not read that county", NULL);
        return;
    }
    struct search_state *ss = calloc(1, sizeof *ss);
    if (!ss) {
        json_decref(args);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = ss;
    r->state_free = search_state_free;
    snprintf(ss->county, sizeof ss->county, "%s", code);
    ss->args = args; /* ours now */
    search_ask(r);
}

void api_graduate_lookup(struct req *r)
{
    bool bad = false;
    char *natid = http_query(r, "national_id", &bad);
    if (!natid && !bad) {
        graduate_search(r);
        return;
    }
    /* national_id= is a look-up on its own (by HMAC, every county in scope). */
    for (size_t i = 0; natid && i < sizeof search_params / sizeof search_params[0]; i++) {
        char *other = http_query(r, search_params[i], &bad);
        if (other) {
            free(other);
            free(natid);
            reply_bad_search(r, "national_id is used alone");
            return;
        }
    }
    if (pii_key_ok_or_reply(r) < 0) {
        free(natid);
        return;
    }
    int64_t now = app_now_ms(r->app);
    char norm[NATID_LEN + 1];
    if (bad || !natid ||
        natid_validate(natid, strlen(natid), (long)(now / 86400000), norm) != NATID_OK) {
        free(natid);
        http_reply_error(r, 400, "bad_parameter",
                         "national_id must be a valid 18-character national ID", NULL);
        return;
    }
    free(natid);
    char hmac[PII_HMAC_HEX_LEN + 1], key[KEY_MAX];
    pii_hmac_hex(r->app->pii, norm, NATID_LEN, hmac);
    key_nid_index(key, sizeof key, hmac);
    call_command(r, 2, (const char *[]){"HGETALL", key}, on_lookup_index);
}

/* ---- DELETE /api/v1/graduates/{id}: erase a graduate's personal data ---- */

static void on_erased(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err && strcmp(err, "transfer_pending") == 0) {
        http_reply_error(r, 409, "transfer_pending",
                         "the graduate is being transferred to another county; retry", NULL);
        return;
    }
    if (err) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    log_info("event=graduate_erased request_id=%s graduate=%s by=%s", r->id, r->params[0],
             r->who.name);
    reply_graduate(r, 200, json_object_get(res, "graduate"));
}

static void erase_county_step(struct req *r)
{
    struct gstate *g = r->state;
    json_t *args = json_pack("{s:s, s:I, s:s}", "id", g->id, "now", (json_int_t)app_now_ms(r->app),
                             "actor", r->who.name);
    trail_attach(r, args, "graduate.erase", g->id);
    char key[KEY_MAX];
    key_county(key, sizeof key, g->county);
    call_script(r, "erase", key, args, on_erased);
}

static void on_erase_global(struct req *r, enum store_status st, json_t *res)
{
    (void)res;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    erase_county_step(r);
}

static void on_erase_info(struct req *r, enum store_status st, json_t *res)
{
    struct gstate *g = r->state;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *hmac = json_string_value(json_array_get(res, 0));
    if (!json_is_string(json_array_get(res, 1))) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (!hmac) {
        erase_county_step(r); /* erased before: the county step is idempotent */
        return;
    }
    /* The look-up index first: if the county step then fails, a retry still
     * finds the HMAC in the record and repeats both steps. */
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "erase_global", key, json_pack("{s:s, s:s}", "id", g->id, "hmac", hmac),
                on_erase_global);
}

static void erase_located(struct req *r, const char *county)
{
    struct gstate *g = gstate_attach(r);
    if (!g) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    snprintf(g->id, sizeof g->id, "%.*s", GC_ID_MAX, r->params[0]); /* id_valid: fits */
    snprintf(g->county, sizeof g->county, "%s", county);
    char key[KEY_MAX];
    key_graduate(key, sizeof key, county, g->id);
    call_command(r, 4, (const char *[]){"HMGET", key, "nid_hmac", "status"}, on_erase_info);
}

void api_graduate_erase(struct req *r)
{
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, r->params[0], ID_IN_PATH) < 0)
        return;
    locate_graduate(r, r->params[0], true, erase_located);
}

/* ---- PATCH /api/v1/graduates/{id}: correct a record (SPEC §12) ---- */

static void on_patched(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (!err) {
        reply_graduate(r, 200, json_object_get(res, "graduate"));
        return;
    }
    if (strcmp(err, "not_found") == 0)
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
    else if (strcmp(err, "erased") == 0)
        http_reply_error(r, 409, "erased",
                         "this graduate's personal data was erased; register the person again",
                         NULL);
    else if (strcmp(err, "transfer_pending") == 0)
        http_reply_error(r, 409, "transfer_pending",
                         "the graduate is being transferred to another county; retry", NULL);
    else
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
}

static void patch_located(struct req *r, const char *county)
{
    json_t *args = r->state; /* ours until the call takes it */
    r->state = NULL;
    r->state_free = NULL;
    trail_attach(r, args, "graduate.patch", r->params[0]);
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    call_script(r, "patch", key, args, on_patched); /* takes args */
}

static void decref_state(void *p)
{
    json_decref(p);
}

void api_graduate_patch(struct req *r)
{
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, r->params[0], ID_IN_PATH) < 0 ||
        http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct graduate_patch_in in;
    int64_t now = app_now_ms(r->app);
    if (validate_graduate_patch(r->body, r->app->cfg, now, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    json_t *set = json_object(), *clear = json_array();
    if (set && clear) {
        const struct {
            const char *field, *value;
            bool clear;
        } text[] = {{"name", in.name, false},
                    {"phone", in.phone, in.clear_phone},
                    {"school", in.school, in.clear_school},
                    {"major", in.major, in.clear_major},
                    {"assigned_to", in.assigned_to, in.clear_assigned_to}};
        for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
            if (text[i].value)
                json_object_set_new(set, text[i].field, json_string(text[i].value));
            else if (text[i].clear)
                json_array_append_new(clear, json_string(text[i].field));
        }
        char buf[VALIDATE_FLAGS_TEXT_MAX];
        if (in.graduation_year) {
            snprintf(buf, sizeof buf, "%d", in.graduation_year);
            json_object_set_new(set, "graduation_year", json_string(buf));
        } else if (in.clear_graduation_year) {
            json_array_append_new(clear, json_string("graduation_year"));
        }
        if (in.set_flags && in.flags) {
            validate_flags_text(in.flags, buf, sizeof buf);
            json_object_set_new(set, "flags", json_string(buf));
        } else if (in.set_flags) {
            json_array_append_new(clear, json_string("flags"));
        }
    }
    json_t *args = set && clear
                       ? json_pack("{s:s, s:o, s:o, s:s, s:I}", "id", r->params[0], "set", set,
                                   "clear", clear, "actor", r->who.name, "now", (json_int_t)now)
                       : NULL;
    /* The search index follows a new name or phone (search_ix.h). */
    if (args && in.name)
        json_object_set_new(args, "ixn", search_ix_name(r->app->pii, in.name));
    if (args && (in.phone || in.clear_phone))
        json_object_set_new(args, "ixp", search_ix_phone(r->app->pii, in.phone));
    if (!args) {
        if (!set || !clear) {
            json_decref(set);
            json_decref(clear);
        }
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = args; /* freed with the request unless patch_located takes it */
    r->state_free = decref_state;
    locate_graduate(r, r->params[0], true, patch_located);
}
