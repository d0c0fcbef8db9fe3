/* GET /api/v1/audit?county=&since=&after=&limit=: the append-only audit trail
 * of one county (or, for admins without ?county, the global one: token
 * administration and look-ups that matched no county), oldest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/roles.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

#define AUDIT_DEFAULT 100
#define AUDIT_MAX 1000

/* Stream ids are "<ms>-<seq>". */
static bool stream_id_ok(const char *s)
{
    const char *dash = strchr(s, '-');
    if (!dash || dash == s || !dash[1] || strlen(s) > 41)
        return false;
    for (const char *p = s; *p; p++)
        if (p != dash && (*p < '0' || *p > '9'))
            return false;
    return true;
}

static void on_range(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    int limit = *(int *)r->state;
    json_t *entries = json_array();
    size_t i;
    json_t *e;
    const char *last = NULL;
    json_array_foreach(res, i, e)
    {
        const char *id = json_string_value(json_array_get(e, 0));
        json_t *f = jsonx_from_flat(json_array_get(e, 1));
        char msbuf[24] = "";
        int64_t ms = 0;
        if (id)
            snprintf(msbuf, sizeof msbuf, "%.*s", (int)strcspn(id, "-"), id);
        if (!id || !f || !parse_i64(msbuf, &ms)) {
            json_decref(f);
            continue;
        }
        last = id;
        json_t *o = json_pack("{s:s, s:o, s:O, s:O, s:O, s:O, s:O, s:O}", "id", id, "at",
                              jsonx_time(r->app->cfg->utc_offset_minutes, ms), "who",
                              json_object_get(f, "who"), "role", json_object_get(f, "role"),
                              "action", json_object_get(f, "action"), "object",
                              json_object_get(f, "object"), "result", json_object_get(f, "result"),
                              "request_id", json_object_get(f, "rid"));
        json_t *crid = json_object_get(f, "crid"), *from = json_object_get(f, "from");
        if (o && json_is_string(crid))
            json_object_set(o, "client_request_id", crid);
        if (o && json_is_string(from))
            json_object_set(o, "from_county", from);
        json_decref(f);
        json_array_append_new(entries, o);
    }
    json_t *county = json_object_get(r->body, "county");
    json_t *body = json_pack(
        "{s:O, s:o, s:o}", "county", county ? county : json_null(), "entries", entries, "next",
        last && json_array_size(entries) == (size_t)limit ? json_string(last) : json_null());
    http_reply_json(r, 200, body);
}

void api_audit(struct req *r)
{
    bool bad = false;
    char *county = http_query(r, "county", &bad);
    char *since = http_query(r, "since", &bad);
    char *after = http_query(r, "after", &bad);
    char *lim = http_query(r, "limit", &bad);
    int64_t limit = AUDIT_DEFAULT, since_ms = 0;
    const char *msg = NULL;
    if (bad)
        msg = "malformed query string";
    else if (lim && (!parse_i64(lim, &limit) || limit < 1 || limit > AUDIT_MAX))
        msg = "limit must be an integer in 1..1000";
    else if (since && !rfc3339_parse(since, &since_ms))
        msg = "since must be an RFC 3339 time";
    else if (after && !stream_id_ok(after))
        msg = "after must be the id of an entry";
    else if (since && after)
        msg = "give since or after, not both";
    char range[48];
    if (after)
        snprintf(range, sizeof range, "(%s", after);
    else
        snprintf(range, sizeof range, "%lld", (long long)since_ms);
    free(since);
    free(after);
    free(lim);
    if (msg) {
        free(county);
        http_reply_error(r, 400, "bad_parameter", msg, NULL);
        return;
    }
    if (!county && r->who.role == ROLE_LEADER && r->who.county[0])
        county = strdup(r->who.county);
    if (!county && r->who.role == ROLE_LEADER) {
        http_reply_error(r, 400, "bad_parameter", "county is required", NULL);
        return;
    }
    if (county && (!config_county(r->app->cfg, county) || !auth_can_read_county(&r->who, county))) {
        free(county);
        http_reply_error(r, 404, "not_found", "no such county in this token's scope", NULL);
        return;
    }
    /* Remember what the reply needs: the limit as state, the county in body. */
    int *lp = malloc(sizeof *lp);
    r->body = json_object();
    if (!lp || !r->body) {
        free(lp);
        free(county);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    *lp = (int)limit;
    r->state = lp;
    r->state_free = free;
    if (county)
        json_object_set_new(r->body, "county", json_string(county));
    char key[KEY_MAX], count[16];
    key_audit(key, sizeof key, county);
    free(county);
    snprintf(count, sizeof count, "%d", (int)limit);
    call_command(r, 6, (const char *[]){"XRANGE", key, range, "+", "COUNT", count}, on_range);
}
