/* A county's daily points (GET /api/v1/counties/{code}/history): SPEC §11,
 * the leader's view. One script on the county's slot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/county_days.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/http/request.h"

/* Bytes of one point's JSON, about: the body is reserved at once. */
#define POINT_BYTES 72

/* "2026-03-01" for a local day number; out >= 11 bytes. */
static void format_day(int64_t day, char *out, size_t n)
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, n, "%04d-%02u-%02u", y, m, d);
}

/* The configured county of the path, in the caller's coverage scope; else
 * answers 404 or 403 and returns -1. */
static long county_or_reply(struct req *r, bool (*may)(const struct principal *, const char *),
                            const char *refusal)
{
    long i = config_county_index(r->app->cfg, r->params[0]);
    if (i < 0) {
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return -1;
    }
    if (!may(&r->who, r->params[0])) {
        http_reply_error(r, 403, "forbidden", refusal, NULL);
        return -1;
    }
    return i;
}

/* ---- GET /api/v1/counties/{code}/history ---- */

static void on_history(struct req *r, enum store_status st, struct county_days *d)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    size_t n = 0;
    struct history_point *days = county_days_series(d, &n);
    if (!days) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    char pbuf[16], date[16];
    snprintf(pbuf, sizeof pbuf, "%d", d->period);
    struct jw w;
    jw_init(&w);
    jw_reserve(&w, 128 + n * POINT_BYTES);
    jw_obj(&w);
    jw_key(&w, "county");
    jw_str(&w, r->app->cfg->counties[d->idx].code);
    jw_key(&w, "period");
    jw_str(&w, pbuf);
    jw_key(&w, "points");
    jw_arr(&w);
    for (size_t k = 0; k < n; k++) {
        const struct history_point *p = &days[k];
        format_day(p->day, date, sizeof date);
        jw_obj(&w);
        jw_key(&w, "date");
        jw_str(&w, date);
        jw_key(&w, "registered");
        jw_int(&w, p->registered);
        jw_key(&w, "served");
        jw_int(&w, p->served);
        jw_key(&w, "rate");
        if (p->registered > 0)
            jw_bp(&w, coverage_rate_bp((uint64_t)p->served, (uint64_t)p->registered));
        else
            jw_null(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    free(days);
    http_reply_jw(r, 200, &w);
}

void api_history(struct req *r)
{
    long i = county_or_reply(r, auth_can_see_coverage, "this token may not read that county");
    if (i < 0)
        return;
    const struct config *cfg = r->app->cfg;
    int cur = period_of(app_now_ms(r->app), cfg->utc_offset_minutes), period;
    if (county_period_or_reply(r, cur, &period) < 0)
        return;
    county_days_read(r, (size_t)i, period, cur, true, on_history);
}
