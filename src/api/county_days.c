/* A county's counts and daily points of one period (see county_days.h). */
#include "gradcover/api/county_days.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/projection.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* The script's answer: registered, served, alert, completed packages, then the points' array. */
#define HEAD_ITEMS 4

int county_days_period_or_reply(struct req *r, int cur, int *out)
{
    bool bad = false;
    char *p = http_query(r, "period", &bad);
    *out = cur;
    int64_t y = 0;
    bool ok = !bad && (!p || (strlen(p) == 4 && parse_i64(p, &y) && y >= GC_YEAR_MIN && y <= cur));
    if (p && ok)
        *out = (int)y;
    free(p);
    if (!ok) {
        http_reply_error(r, 400, "bad_parameter",
                         "period must be a year (YYYY) not after the current one", NULL);
        return -1;
    }
    return 0;
}

/* The read in flight: r->state. */
struct days_read {
    struct county_days d;
    county_days_fn done;
};

static void days_read_free(void *v)
{
    struct days_read *dr = v;
    free(dr->d.stored);
    free(dr);
}

/* "<registered>:<served>" of a stored point; false for anything else. */
static bool parse_point(const char *s, long long *reg, long long *srv)
{
    char buf[48];
    const char *colon = s ? strchr(s, ':') : NULL;
    size_t n = colon ? (size_t)(colon - s) : 0;
    int64_t a, b;
    if (!colon || n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!parse_i64(buf, &a) || !parse_i64(colon + 1, &b) || a < 0 || b < 0)
        return false;
    *reg = a;
    *srv = b;
    return true;
}

/* The script's flat answer into d; false when it is not one (or memory ran
 * out). Malformed points are skipped: no one writes them but the scripts. */
static bool parse_answer(json_t *res, struct county_days *d)
{
    json_t *points = json_array_get(res, HEAD_ITEMS);
    if (!json_is_array(res) || json_array_size(res) != HEAD_ITEMS + 1 || !json_is_array(points))
        return false;
    d->registered = jsonx_ll(json_array_get(res, 0));
    d->served = jsonx_ll(json_array_get(res, 1));
    const char *a = json_string_value(json_array_get(res, 2));
    d->alert = alert_state_parse(a, a ? strlen(a) : 0);
    d->package_complete = jsonx_ll(json_array_get(res, 3));
    size_t pairs = json_array_size(points) / 2;
    if (pairs == 0)
        return true;
    d->stored = malloc(pairs * sizeof *d->stored);
    if (!d->stored)
        return false;
    for (size_t k = 0; k < pairs; k++) {
        int64_t day;
        const char *f = json_string_value(json_array_get(points, 2 * k));
        const char *v = json_string_value(json_array_get(points, 2 * k + 1));
        struct history_point *p = &d->stored[d->nstored];
        if (f && parse_i64(f, &day) && parse_point(v, &p->registered, &p->served)) {
            p->day = day;
            d->nstored++;
        }
    }
    return true;
}

static void on_days(struct req *r, enum store_status st, json_t *res)
{
    struct days_read *dr = r->state;
    if (st == STORE_OK && !parse_answer(res, &dr->d))
        st = STORE_FAILED;
    dr->done(r, st, &dr->d);
}

/* The first day of the projection's window: PROJECTION_WINDOW_DAYS before
 * the last, not before 1 January. */
static int64_t window_start(const struct county_days *d)
{
    return d->hi - PROJECTION_WINDOW_DAYS > d->lo ? d->hi - PROJECTION_WINDOW_DAYS : d->lo;
}

void county_days_read(struct req *r, size_t idx, int period, int cur, enum county_days_what what,
                      county_days_fn done)
{
    const struct config *cfg = r->app->cfg;
    struct days_read *dr = calloc(1, sizeof *dr);
    if (!dr) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    int off = cfg->utc_offset_minutes;
    dr->done = done;
    dr->d.idx = idx;
    dr->d.period = period;
    dr->d.cur = cur;
    dr->d.alert = ALERT_UNKNOWN;
    dr->d.lo = days_from_civil(period, 1, 1);
    dr->d.hi =
        period == cur ? local_day_of(app_now_ms(r->app), off) : days_from_civil(period, 12, 31);
    if (dr->d.hi < dr->d.lo) /* not reachable: cur is today's period */
        dr->d.hi = dr->d.lo;
    r->state = dr;
    r->state_free = days_read_free;
    char key[KEY_MAX];
    key_county(key, sizeof key, cfg->counties[idx].code);
    json_t *args =
        json_pack("{s:i, s:i, s:b}", "cur", cur, "period", period, "points", what != DAYS_NONE);
    /* The projection needs one point: the window's first (from which the
     * pace runs to the live counts); the script reads that one alone. */
    if (args && what == DAYS_WINDOW)
        json_object_set_new(args, "from", json_integer(window_start(&dr->d)));
    call_script(r, "history", key, args, on_days);
}

struct history_point *county_days_series(struct county_days *d, size_t *n)
{
    struct history_point *out = malloc((size_t)(d->hi - d->lo + 1) * sizeof *out);
    if (!out)
        return NULL;
    *n = history_series(d->stored, d->nstored, d->lo, d->hi, d->registered, d->served, out);
    return out;
}

void county_days_write_projection(struct jw *w, struct county_days *d)
{
    /* Only the last window matters: start the series there (a point before
     * it carries into it). */
    struct county_days last = *d;
    last.lo = window_start(d);
    size_t n = 0;
    struct history_point *days = county_days_series(&last, &n);
    struct projection p;
    int left = (int)(days_from_civil(d->period, 12, 31) - d->hi);
    if (!days || !projection_year_end(days, n, left, &p)) {
        jw_null(w);
        free(days);
        return;
    }
    free(days);
    jw_obj(w);
    jw_key(w, "year_end_rate");
    if (p.rate_bp >= 0)
        jw_bp(w, (unsigned long long)p.rate_bp);
    else
        jw_null(w);
    jw_key(w, "year_end_registered");
    jw_int(w, p.registered);
    jw_key(w, "year_end_served");
    jw_int(w, p.served);
    jw_key(w, "window_days");
    jw_int(w, p.window_days);
    jw_obj_end(w);
}
