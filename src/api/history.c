/* A county's daily points (GET /api/v1/counties/{code}/history) and its
 * counselors' activity (GET /api/v1/counties/{code}/activity): SPEC §11,
 * the leader's view. Both are one script on the county's slot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/county_days.h"
#include "gradcover/api/export.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

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
    if (export_format_or_reply(r, &export_history) < 0)
        return;
    long i = county_or_reply(r, auth_can_see_coverage, "this token may not read that county");
    if (i < 0)
        return;
    const struct config *cfg = r->app->cfg;
    int cur = period_of(app_now_ms(r->app), cfg->utc_offset_minutes), period;
    if (county_days_period_or_reply(r, cur, &period) < 0)
        return;
    county_days_read(r, (size_t)i, period, cur, DAYS_ALL, on_history);
}

/* ---- GET /api/v1/counties/{code}/activity ---- */

struct counselor_row {
    const char *name; /* borrowed from the script's answer */
    long long last7, last30;
};

/* Busiest first over 30 days, then over 7, then by name: a stable order for
 * people reading it every day. */
static int by_activity(const void *a, const void *b)
{
    const struct counselor_row *x = a, *y = b;
    if (x->last30 != y->last30)
        return x->last30 < y->last30 ? 1 : -1;
    if (x->last7 != y->last7)
        return x->last7 < y->last7 ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void on_activity(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    size_t n = json_is_array(res) ? json_array_size(res) / 3 : 0;
    struct counselor_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        const char *name = json_string_value(json_array_get(res, 3 * k));
        if (!name)
            continue;
        rows[m].name = name;
        rows[m].last7 = jsonx_ll(json_array_get(res, 3 * k + 1));
        rows[m].last30 = jsonx_ll(json_array_get(res, 3 * k + 2));
        m++;
    }
    qsort(rows, m, sizeof *rows, by_activity);
    char date[16];
    const struct config *cfg = r->app->cfg;
    format_day(local_day_of(app_now_ms(r->app), cfg->utc_offset_minutes), date, sizeof date);
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "county");
    jw_str(&w, r->params[0]);
    jw_key(&w, "as_of");
    jw_str(&w, date);
    jw_key(&w, "counselors");
    jw_arr(&w);
    for (size_t k = 0; k < m; k++) {
        jw_obj(&w);
        jw_key(&w, "name");
        jw_str(&w, rows[k].name);
        jw_key(&w, "last_7_days");
        jw_int(&w, rows[k].last7);
        jw_key(&w, "last_30_days");
        jw_int(&w, rows[k].last30);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    free(rows);
    http_reply_jw(r, 200, &w);
}

void api_activity(struct req *r)
{
    if (county_or_reply(r, auth_can_read_county,
                        "this token may not read that county's counselors' activity") < 0)
        return;
    const struct config *cfg = r->app->cfg;
    char key[KEY_MAX];
    key_county(key, sizeof key, r->params[0]);
    json_t *args = json_pack("{s:I}", "today",
                             (json_int_t)local_day_of(app_now_ms(r->app), cfg->utc_offset_minutes));
    call_script(r, "activity", key, args, on_activity);
}
