/* Token administration (SPEC §6): create (the secret is shown once), list
 * without secrets, revoke. Admin only. API tokens live in Redis as SHA-256
 * (tokens.h); the config's bootstrap tokens are listed but managed in the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/log.h"
#include "gradcover/core/pii.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* The answer to a create: the token's facts and, this once, the secret. */
struct created {
    json_t *body;
};

static void created_free(void *p)
{
    struct created *c = p;
    if (c)
        json_decref(c->body);
    free(c);
}

static void on_created(struct req *r, enum store_status st, json_t *res)
{
    struct created *c = r->state;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err && strcmp(err, "name_taken") == 0) {
        http_reply_error(r, 409, "name_taken", "a token with this name exists", NULL);
        return;
    }
    if (err) {
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    log_info("event=token_created request_id=%s name=%s by=%s", r->id,
             json_string_value(json_object_get(c->body, "name")), r->who.name);
    json_t *body = c->body;
    c->body = NULL;
    http_reply_json(r, 201, body);
}

void api_token_create(struct req *r)
{
    static const char *const known[] = {"name", "role", "county", "expires_at", NULL};
    if (http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    int64_t now = app_now_ms(r->app);
    verr_unknown_keys(r->body, known, &v);
    const char *name, *role_s, *county;
    verr_text(r->body, "name", GC_ID_MAX, true, &name, &v);
    if (name && !id_valid(name))
        verr_add(&v, "name", "must match [A-Za-z0-9._-]{1,64}");
    /* A name is logged and is every entry's "who": never personal data. */
    else if (name && id_personal_data(name) == ID_PERSONAL_NATID)
        verr_add(&v, "name", "must not be a national ID");
    else if (name && id_personal_data(name) == ID_PERSONAL_MOBILE)
        verr_add(&v, "name", "must not be a phone number");
    verr_text(r->body, "role", 16, true, &role_s, &v);
    enum role role = ROLE_VIEWER;
    bool role_ok = role_s && role_parse(role_s, &role);
    if (role_s && !role_ok)
        verr_add(&v, "role", "must be one of admin, counselor, leader, viewer");
    verr_text(r->body, "county", GC_COUNTY_MAX, false, &county, &v);
    const char *problem = role_ok ? role_county_problem(role, county != NULL) : NULL;
    if (county && !config_county(r->app->cfg, county))
        verr_add(&v, "county", "unknown county");
    else if (problem)
        verr_add(&v, "county", problem);
    int64_t expires = 0;
    if (json_object_get(r->body, "expires_at")) {
        /* verr_time refuses instants in the future; an expiry must be one. */
        json_t *e = json_object_get(r->body, "expires_at");
        if (!json_is_string(e) || !rfc3339_parse(json_string_value(e), &expires))
            verr_add(&v, "expires_at", "must be an RFC 3339 time");
        else if (expires <= now)
            verr_add(&v, "expires_at", "must be in the future");
    }
    if (verr_any(&v)) {
        http_reply_verr(r, &v);
        return;
    }
    if (config_token_named(r->app->cfg, name)) {
        http_reply_error(r, 409, "name_taken", "a token with this name exists in the config", NULL);
        return;
    }
    char token[TOKEN_TEXT_LEN + 1], hex[65];
    struct created *c = calloc(1, sizeof *c);
    if (!c || token_generate(token) < 0) {
        free(c);
        http_reply_error(r, 500, "internal", "no random bytes", NULL);
        return;
    }
    r->state = c;
    r->state_free = created_free;
    gc_sha256_hex(token, TOKEN_TEXT_LEN, hex);
    json_t *args = json_pack("{s:s, s:s, s:s, s:I, s:s}", "name", name, "sha", hex, "role",
                             role_name(role), "now", (json_int_t)now, "created_by", r->who.name);
    c->body = json_pack("{s:s, s:s, s:s, s:o}", "name", name, "role", role_name(role), "token",
                        token, "created_at", jsonx_time(r->app->cfg->utc_offset_minutes, now));
    if (!args || !c->body) {
        json_decref(args);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    if (county) {
        json_object_set_new(args, "county", json_string(county));
        json_object_set_new(c->body, "county", json_string(county));
    }
    if (expires) {
        json_object_set_new(args, "expires_at", json_integer(expires));
        json_object_set_new(c->body, "expires_at",
                            jsonx_time(r->app->cfg->utc_offset_minutes, expires));
    }
    trail_attach(r, args, "token.create", name);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "token_create", key, args, on_created);
}

static json_t *token_json(struct req *r, json_t *rec)
{
    json_t *o = json_object();
    static const char *const copy[] = {"name", "role", "county", "created_by", NULL};
    for (const char *const *k = copy; *k; k++) {
        json_t *v = json_object_get(rec, *k);
        if (json_is_string(v))
            json_object_set(o, *k, v);
    }
    static const char *const times[] = {"created_at", "expires_at", "last_used_at", NULL};
    for (const char *const *k = times; *k; k++) {
        json_t *v = json_object_get(rec, *k);
        if (v)
            json_object_set_new(o, *k, jsonx_time(r->app->cfg->utc_offset_minutes, jsonx_ll(v)));
    }
    json_object_set_new(o, "source", json_string("api"));
    return o;
}

static void on_listed(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    json_t *list = json_array();
    const struct config *cfg = r->app->cfg;
    for (size_t i = 0; i < cfg->ntokens; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "name", cfg->tokens[i].name, "role",
                              role_name(cfg->tokens[i].role), "source", "config");
        if (o && cfg->tokens[i].county[0])
            json_object_set_new(o, "county", json_string(cfg->tokens[i].county));
        json_array_append_new(list, o);
    }
    /* An empty Lua table encodes as {}: no tokens. */
    json_t *toks = json_object_get(res, "tokens");
    size_t i;
    json_t *rec;
    json_array_foreach(toks, i, rec) json_array_append_new(list, token_json(r, rec));
    http_reply_json(r, 200, json_pack("{s:o}", "tokens", list));
}

void api_token_list(struct req *r)
{
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "token_list", key, json_object(), on_listed);
}

static void on_deleted(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err && strcmp(err, "not_found") == 0) {
        http_reply_error(r, 404, "not_found", "no such token", NULL);
        return;
    }
    if (err) {
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    log_info("event=token_revoked request_id=%s name=%s by=%s", r->id, r->params[0], r->who.name);
    http_reply_json(r, 200, json_pack("{s:s, s:b}", "name", r->params[0], "revoked", 1));
}

void api_token_delete(struct req *r)
{
    const char *name = r->params[0];
    if (!id_valid(name)) {
        http_reply_error(r, 404, "not_found", "no such token", NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, name, "the token name in the path") < 0)
        return;
    if (config_token_named(r->app->cfg, name)) {
        http_reply_error(r, 409, "config_token",
                         "this token is defined in the config file: remove it there", NULL);
        return;
    }
    json_t *args = json_pack("{s:s}", "name", name);
    trail_attach(r, args, "token.revoke", name);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "token_delete", key, args, on_deleted);
}
