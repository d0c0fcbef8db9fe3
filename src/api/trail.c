/* Audit trail entries of requests (see trail.h). */
#include "gradcover/api/trail.h"

#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/roles.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

static int64_t audit_keep_ms(const struct req *r)
{
    return (int64_t)r->app->cfg->audit_retention_days * 86400000;
}

static json_t *audit_obj_as(struct req *r, const char *who, const char *role, const char *action,
                            const char *object)
{
    json_t *au = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "who", who, "role", role, "action",
                           action, "object", object ? object : "", "rid", r->id, "keep_ms",
                           (json_int_t)audit_keep_ms(r));
    if (au && r->client_id[0])
        json_object_set_new(au, "crid", json_string(r->client_id));
    return au;
}

static json_t *audit_obj(struct req *r, const char *action, const char *object)
{
    return audit_obj_as(r, r->who.name, role_name(r->who.role), action, object);
}

void trail_members(struct jw *w, struct req *r, const char *action, const char *object)
{
    /* The same members, in the same order, as audit_obj. */
    jw_key(w, "audit");
    jw_obj(w);
    jw_key(w, "who");
    jw_str(w, r->who.name);
    jw_key(w, "role");
    jw_str(w, role_name(r->who.role));
    jw_key(w, "action");
    jw_str(w, action);
    jw_key(w, "object");
    jw_str(w, object ? object : "");
    jw_key(w, "rid");
    jw_str(w, r->id);
    jw_key(w, "keep_ms");
    jw_int(w, audit_keep_ms(r));
    if (r->client_id[0]) {
        jw_key(w, "crid");
        jw_str(w, r->client_id);
    }
    jw_obj_end(w);
    if (r->who.tok_hex[0]) {
        /* The script refuses to change anything for a revoked token. */
        char tkey[KEY_MAX];
        key_token(tkey, sizeof tkey, r->who.tok_hex);
        jw_key(w, "tok");
        jw_str(w, tkey);
    }
}

void trail_attach(struct req *r, json_t *args, const char *action, const char *object)
{
    if (args)
        json_object_set_new(args, "audit", audit_obj(r, action, object));
}

void trail_attach_as(struct req *r, json_t *args, const char *who, const char *role,
                     const char *action, const char *object)
{
    if (args)
        json_object_set_new(args, "audit", audit_obj_as(r, who, role, action, object));
}

/* The read's answer waited for its entry (http_hold): sent now, or replaced
 * by a 503 when the entry was not written. */
static void on_audit_written(enum store_status st, json_t *result, void *arg)
{
    (void)result;
    struct req *r = arg;
    if (st != STORE_OK)
        log_warn("event=audit_write_failed request_id=%s", r->id);
    http_release(r, st);
}

void trail_from(struct req *r, const char *county, const char *action, const char *object,
                const char *result, const char *from_county)
{
    json_t *au = audit_obj(r, action, object);
    if (au)
        json_object_set_new(au, "result", json_string(result));
    if (au && from_county)
        json_object_set_new(au, "from", json_string(from_county));
    json_t *args = json_pack("{s:o}", "audit", au);
    char *text = args ? jw_dumps(args, 0) : NULL;
    json_decref(args);
    char key[KEY_MAX];
    if (county)
        key_county(key, sizeof key, county);
    else
        key_global(key, sizeof key);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), text ? strlen(text) : 0};
    /* No personal data without its entry: the answer waits for it, within
     * what is left of the request's Redis time. */
    http_hold(r);
    enum store_status refused = call_key_refused(r, key, lens[0]);
    if (refused != STORE_OK) {
        http_release(r, refused);
        free(text);
        return;
    }
    int budget = call_budget_ms(r);
    if (!text || store_script_within(r->app->store, budget, "audit", 1, 2, argv, lens,
                                     on_audit_written, r) < 0) {
        log_warn("event=audit_write_failed request_id=%s", r->id);
        http_release(r, call_unsent(budget));
    }
    free(text);
}

void trail_read(struct req *r, const char *county, const char *action, const char *object,
                const char *result)
{
    trail_from(r, county, action, object, result, NULL);
}
