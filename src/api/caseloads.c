/* GET /api/v1/counties/{code}/caseloads: per counselor, the current
 * period's graduates assigned to them, served and waiting (SPEC §12,
 * caseloads). Counts and counselors' names only: no graduate's data. */
#include <stdio.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

static void on_caseloads(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    json_t *list = json_object_get(res, "counselors");
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%lld",
             (long long)json_integer_value(json_object_get(res, "period")));
    /* cjson answers an empty list as {}: always an array here. */
    http_reply_json(r, 200,
                    json_pack("{s:s, s:s, s:o, s:O}", "county", r->params[0], "period", pbuf,
                              "counselors", json_is_array(list) ? json_incref(list) : json_array(),
                              "unassigned", json_object_get(res, "unassigned")));
}

void api_caseloads(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    if (!config_county(cfg, r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return;
    }
    if (!auth_can_read_county(&r->who, r->params[0])) {
        http_reply_error(r, 403, "forbidden", "this token may not read that county", NULL);
        return;
    }
    char key[KEY_MAX];
    key_county(key, sizeof key, r->params[0]);
    int off = cfg->utc_offset_minutes;
    call_script(r, "caseloads", key,
                json_pack("{s:i, s:i}", "cur", period_of(app_now_ms(r->app), off), "off", off),
                on_caseloads);
}
