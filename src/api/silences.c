/* Silences (SPEC §11): POST /api/v1/silences, GET /api/v1/silences, DELETE
 * /api/v1/silences/{id}. Admins and the city leader (a leader without a
 * county) make and end them; every leader lists those of their scope. They
 * live under the global hash tag, shared by every server; each change is one
 * script with its entry in the global audit trail (and a copy in the county's
 * trail for a county's silence). What the delivery side asks of them is in
 * alerts/silence.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/silence.h"
#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/log.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* Admins, and leaders of the whole city: a county's own leader may not
 * silence the alerts that are about them. 0, or -1 with a 403 answered. */
static int may_silence_or_reply(struct req *r)
{
    if (r->who.role == ROLE_ADMIN || (r->who.role == ROLE_LEADER && !r->who.county[0]))
        return 0;
    http_reply_error(r, 403, "forbidden", "only admins and the city leader silence alerts", NULL);
    return -1;
}

/* A stored silence (a hash as an object) as the API shows it; NULL when
 * malformed. */
static json_t *silence_json(struct req *r, json_t *s)
{
    int off = r->app->cfg->utc_offset_minutes;
    int64_t now = app_now_ms(r->app);
    int64_t starts = jsonx_ll(json_object_get(s, "starts_at"));
    int64_t ends = jsonx_ll(json_object_get(s, "ends_at"));
    const char *state = now < starts ? "pending" : now < ends ? "active" : "expired";
    json_t *o =
        json_pack("{s:O, s:O, s:o, s:o, s:O, s:O, s:o, s:s}", "id", json_object_get(s, "id"),
                  "county", json_object_get(s, "county"), "starts_at", jsonx_time(off, starts),
                  "ends_at", jsonx_time(off, ends), "reason", json_object_get(s, "reason"),
                  "created_by", json_object_get(s, "created_by"), "created_at",
                  jsonx_time(off, jsonx_ll(json_object_get(s, "created_at"))), "state", state);
    if (o && json_object_get(s, "deleted_at")) {
        json_object_set(o, "deleted_by", json_object_get(s, "deleted_by"));
        json_object_set_new(o, "deleted_at",
                            jsonx_time(off, jsonx_ll(json_object_get(s, "deleted_at"))));
    }
    return o;
}

/* A county's silence is also told in the county's own trail (after the
 * commit; the global trail's entry is the one made with it). */
static void copy_to_county(struct req *r, const char *county, const char *action, const char *id,
                           const char *result)
{
    if (county && strcmp(county, SILENCE_ALL_COUNTIES) != 0 && config_county(r->app->cfg, county))
        trail_read(r, county, action, id, result);
}

/* ---- POST /api/v1/silences ---- */

static void on_created(struct req *r, enum store_status st, json_t *res)
{
    json_t *s = r->state;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    if (json_object_get(res, "err")) {
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    const char *id = json_string_value(json_object_get(s, "id"));
    const char *county = json_string_value(json_object_get(s, "county"));
    log_info("event=silence_created request_id=%s id=%s county=%s by=%s", r->id, id, county,
             r->who.name);
    copy_to_county(r, county, "silence.create", id, "ok");
    http_reply_json(r, 201, silence_json(r, s));
}

static void json_state_free(void *p)
{
    json_decref(p);
}

void api_silence_create(struct req *r)
{
    if (may_silence_or_reply(r) < 0 || http_read_json_or_reply(r) < 0)
        return;
    int64_t now = app_now_ms(r->app);
    struct verr v = {0};
    struct silence_in in;
    if (validate_silence(r->body, r->app->cfg, now, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    char id[SILENCE_ID_LEN + 1];
    if (app_random_id(r->app, id, SILENCE_ID_LEN) < 0) {
        http_reply_error(r, 500, "internal", "no random bytes", NULL);
        return;
    }
    /* The record as stored, kept to answer with. */
    json_t *s =
        json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I}", "id", id, "county", in.county, "starts_at",
                  (json_int_t)in.starts_at, "ends_at", (json_int_t)in.ends_at, "reason", in.reason,
                  "created_by", r->who.name, "created_at", (json_int_t)now);
    json_t *args = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "id", id, "county",
                             in.county, "starts_at", (json_int_t)in.starts_at, "ends_at",
                             (json_int_t)in.ends_at, "reason", in.reason, "by", r->who.name, "now",
                             (json_int_t)now, "keep_ms", (json_int_t)SILENCE_KEEP_MS);
    if (!s || !args) {
        json_decref(s);
        json_decref(args);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = s;
    r->state_free = json_state_free;
    trail_attach(r, args, "silence.create", id);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "silence_create", key, args, on_created);
}

/* ---- GET /api/v1/silences ---- */

static void on_listed(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    json_t *list = json_array();
    /* An empty Lua table encodes as {}: none. */
    json_t *all = json_object_get(res, "silences");
    size_t i;
    json_t *s;
    json_array_foreach(all, i, s)
    {
        const char *county = json_string_value(json_object_get(s, "county"));
        /* A county's leader sees the silences that concern the county. */
        if (!county ||
            (strcmp(county, SILENCE_ALL_COUNTIES) != 0 && !auth_can_read_county(&r->who, county)))
            continue;
        json_t *o = silence_json(r, s);
        if (o)
            json_array_append_new(list, o);
    }
    http_reply_json(r, 200, json_pack("{s:o}", "silences", list));
}

void api_silence_list(struct req *r)
{
    json_t *args = json_pack("{s:I, s:I}", "now", (json_int_t)app_now_ms(r->app), "keep_ms",
                             (json_int_t)SILENCE_KEEP_MS);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "silence_list", key, args, on_listed);
}

/* ---- DELETE /api/v1/silences/{id} ---- */

static void on_deleted(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err && strcmp(err, "not_found") == 0) {
        http_reply_error(r, 404, "not_found", "no such silence", NULL);
        return;
    }
    json_t *s = json_object_get(res, "silence");
    json_t *o = json_is_object(s) ? silence_json(r, s) : NULL;
    if ((err && strcmp(err, "already_ended") != 0) || !o) {
        json_decref(o);
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    const char *county = json_string_value(json_object_get(s, "county"));
    if (!err) {
        log_info("event=silence_ended request_id=%s id=%s county=%s by=%s", r->id, r->params[0],
                 county ? county : "-", r->who.name);
        copy_to_county(r, county, "silence.delete", r->params[0], "ok");
    }
    http_reply_json(r, 200, o);
}

void api_silence_delete(struct req *r)
{
    if (may_silence_or_reply(r) < 0 ||
        http_id_not_personal_or_reply(r, r->params[0], "the silence id in the path") < 0)
        return;
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such silence", NULL);
        return;
    }
    json_t *args = json_pack("{s:s, s:I, s:s}", "id", r->params[0], "now",
                             (json_int_t)app_now_ms(r->app), "by", r->who.name);
    trail_attach(r, args, "silence.delete", r->params[0]);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    call_script(r, "silence_delete", key, args, on_deleted);
}
