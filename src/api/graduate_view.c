/* A stored graduate as the API shows it (see graduate_view.h). */
#include "gradcover/api/graduate_view.h"

#include <stdio.h>
#include <string.h>

#include "gradcover/app.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/phone.h"
#include "gradcover/http/request.h"

static bool ms_field(json_t *stored, const char *key, int64_t *out)
{
    json_t *j = json_object_get(stored, key);
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return true;
    }
    return json_is_string(j) && parse_i64(json_string_value(j), out);
}

static void copy_str(json_t *dst, json_t *stored, const char *from, const char *to)
{
    json_t *j = json_object_get(stored, from);
    if (json_is_string(j) && json_string_length(j) > 0)
        json_object_set(dst, to, j);
}

/* SPEC §12's service package in the current period: {"name", "complete",
 * "missing": [{"services", "count"}, ...]} from the item counters that
 * contact.lua keeps in the hash ("k<period>:<field>": reached contacts not
 * voided). A new reference; NULL when no package is configured. */
static json_t *package_view(const struct config *cfg, int period, json_t *stored)
{
    const struct package_cfg *p = &cfg->package;
    if (p->nitems == 0)
        return NULL;
    json_t *missing = json_array();
    for (size_t i = 0; missing && i < p->nitems; i++) {
        char field[48];
        int64_t have = 0;
        snprintf(field, sizeof field, "k%d:%s", period, p->items[i].field);
        json_t *j = json_object_get(stored, field);
        if (json_is_string(j) && !parse_i64(json_string_value(j), &have))
            have = 0;
        if (have >= p->items[i].count)
            continue;
        json_t *svcs = json_array();
        for (int s = 0; svcs && s < GC_NSERVICES; s++)
            if (p->items[i].services & (1u << s))
                json_array_append_new(svcs, json_string(gc_services[s]));
        json_array_append_new(missing, json_pack("{s:o?, s:I}", "services", svcs, "count",
                                                 (json_int_t)(p->items[i].count - have)));
    }
    if (!missing)
        return NULL;
    return json_pack("{s:s, s:b, s:o}", "name", p->name, "complete", json_array_size(missing) == 0,
                     "missing", missing);
}

json_t *graduate_view(struct req *r, json_t *stored)
{
    json_t *g = json_object();
    if (!g)
        return NULL;
    copy_str(g, stored, "id", "id");
    copy_str(g, stored, "county", "county");
    copy_str(g, stored, "name", "name");
    copy_str(g, stored, "nid_masked", "national_id");
    json_t *phone = json_object_get(stored, "phone");
    const char *county = json_string_value(json_object_get(stored, "county"));
    if (json_is_string(phone)) {
        /* PIPL Art. 51: the full number only for who serves the graduate. */
        if (county && auth_sees_full_pii(&r->who, county)) {
            json_object_set(g, "phone", phone);
        } else {
            char m[32];
            phone_mask(json_string_value(phone), m, sizeof m);
            json_object_set_new(g, "phone", json_string(m));
        }
    }
    copy_str(g, stored, "school", "school");
    copy_str(g, stored, "major", "major");
    int64_t v;
    if (ms_field(stored, "graduation_year", &v))
        json_object_set_new(g, "graduation_year", json_integer(v));
    copy_str(g, stored, "status", "status");
    if (ms_field(stored, "status_at", &v))
        json_object_set_new(g, "status_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    copy_str(g, stored, "status_reason", "status_reason");
    if (ms_field(stored, "registered_at", &v))
        json_object_set_new(g, "registered_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    /* Reached contacts by service, attempts by outcome (SPEC §12), neither
     * counting voided ones; a kind never used (or whose contacts were all
     * voided) is left out. */
    json_t *services = json_object(), *attempts = json_object();
    const char *k;
    json_t *val;
    json_object_foreach(stored, k, val)
    {
        int64_t n;
        json_t *into = strncmp(k, "svc:", 4) == 0   ? services
                       : strncmp(k, "att:", 4) == 0 ? attempts
                                                    : NULL;
        if (into && json_is_string(val) && parse_i64(json_string_value(val), &n) && n > 0)
            json_object_set_new(into, k + 4, json_integer(n));
    }
    json_object_set_new(g, "contacts", json_integer(ms_field(stored, "contacts", &v) ? v : 0));
    json_object_set_new(g, "services", services);
    json_object_set_new(g, "attempts", attempts);
    if (ms_field(stored, "last_contact_at", &v))
        json_object_set_new(g, "last_contact_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    if (ms_field(stored, "erased_at", &v))
        json_object_set_new(g, "erased_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    if (ms_field(stored, "pii_expired_at", &v))
        json_object_set_new(g, "personal_data_expired_at",
                            jsonx_time(r->app->cfg->utc_offset_minutes, v));
    copy_str(g, stored, "created_by", "created_by");
    if (ms_field(stored, "created_at", &v))
        json_object_set_new(g, "created_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    /* The counselor in charge (caseloads, SPEC §12). */
    copy_str(g, stored, "assigned_to", "assigned_to");
    /* The last correction (PATCH), when there was one. */
    copy_str(g, stored, "updated_by", "updated_by");
    if (ms_field(stored, "updated_at", &v))
        json_object_set_new(g, "updated_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    /* SPEC §12: the days with an unreachable attempt (contact.lua's uad). */
    const char *uad = json_string_value(json_object_get(stored, "uad"));
    if (uad && *uad) {
        json_int_t days = 1;
        for (const char *p = uad; *p; p++)
            days += *p == ',';
        json_object_set_new(g, "unreachable_attempts", json_integer(days));
    }
    /* The last transfer into this county, when there was one. */
    copy_str(g, stored, "transferred_from", "transferred_from");
    if (ms_field(stored, "transferred_at", &v))
        json_object_set_new(g, "transferred_at", jsonx_time(r->app->cfg->utc_offset_minutes, v));
    /* Hardship flags (SPEC §12), stored as "name,name": an array, left out
     * when there is none. */
    const char *flags = json_string_value(json_object_get(stored, "flags"));
    if (flags && *flags) {
        json_t *list = json_array();
        for (const char *p = flags; list && *p;) {
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            json_array_append_new(list, json_stringn(p, n));
            p += n + (end ? 1 : 0);
        }
        if (list)
            json_object_set_new(g, "flags", list);
    }
    json_t *pk = package_view(
        r->app->cfg, period_of(app_now_ms(r->app), r->app->cfg->utc_offset_minutes), stored);
    if (pk)
        json_object_set_new(g, "package", pk);
    return g;
}
