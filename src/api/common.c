/* Shared handler plumbing: validation, scoping, batches, formatting. */
#include "gradcover/api/common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gradcover/app.h"
#include "gradcover/core/clock.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/http/request.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/store/keys.h"
#include "gradcover/core/log.h"
#include "gradcover/alerts/notify.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/tokens.h"

void verr_add(struct verr *v, const char *field, const char *message)
{
    if (!v->fields)
        v->fields = json_object();
    if (v->fields && !json_object_get(v->fields, field))
        json_object_set_new(v->fields, field, json_string(message));
}

bool verr_any(const struct verr *v)
{
    return v->fields && json_object_size(v->fields) > 0;
}

void verr_reply(struct req *r, struct verr *v)
{
    json_t *f = v->fields;
    v->fields = NULL;
    http_reply_error(r, 422, "validation_failed", "validation failed", f); /* takes f */
}

void check_known_fields(json_t *body, const char *const *allowed, struct verr *v)
{
    const char *k;
    json_t *val;
    json_object_foreach(body, k, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, k) == 0;
        if (!ok)
            verr_add(v, k, "unknown field");
    }
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

void get_text(json_t *body, const char *key, size_t max_chars, bool required, const char **out,
              struct verr *v)
{
    *out = NULL;
    json_t *j = json_object_get(body, key);
    if (!j || json_is_null(j)) {
        if (required)
            verr_add(v, key, "is required");
        return;
    }
    if (!json_is_string(j)) {
        verr_add(v, key, "must be a string");
        return;
    }
    const char *s = json_string_value(j);
    if (strlen(s) != json_string_length(j)) {
        verr_add(v, key, "must not contain NUL characters");
        return;
    }
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            verr_add(v, key, "must not contain control characters");
            return;
        }
    }
    size_t n = utf8_chars(s);
    if (n == 0) {
        verr_add(v, key, "must not be empty");
        return;
    }
    if (n > max_chars) {
        char msg[64];
        snprintf(msg, sizeof msg, "must be at most %zu characters", max_chars);
        verr_add(v, key, msg);
        return;
    }
    *out = s;
}

bool valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '.' && s[n] != '_' && s[n] != '-')
            return false;
    return n >= 1 && n <= GC_ID_MAX;
}

void get_time(json_t *body, const char *key, int64_t now, int64_t dflt, int64_t *out,
              struct verr *v)
{
    *out = dflt;
    json_t *j = json_object_get(body, key);
    if (!j || json_is_null(j))
        return;
    if (!json_is_string(j) || strlen(json_string_value(j)) != json_string_length(j) ||
        !rfc3339_parse(json_string_value(j), out)) {
        verr_add(v, key, "must be an RFC 3339 time with offset, e.g. 2026-03-05T10:30:00+08:00");
        return;
    }
    if (*out > now + API_CLOCK_SKEW_MS)
        verr_add(v, key, "must not be in the future");
    else if (*out > now)
        /* A client clock a little ahead: the event happened now, not in a
         * period (a new year at 23:58) the county has not reached yet. */
        *out = now;
}

json_t *json_time(const struct app *a, int64_t ms)
{
    char buf[40];
    rfc3339_format(ms, a->cfg->utc_offset_minutes, buf, sizeof buf);
    return json_string(buf);
}

json_t *json_rate(long long served, long long registered)
{
    return registered > 0 ? json_real(coverage_rate((uint64_t)served, (uint64_t)registered))
                          : json_null();
}

void mask_phone(const char *phone, char *out, size_t n)
{
    size_t len = strlen(phone);
    if (len < 7) {
        snprintf(out, n, "****");
        return;
    }
    snprintf(out, n, "%.3s****%s", phone, phone + len - 4);
}

json_t *flat_to_object(json_t *flat)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i + 1 < json_array_size(flat); i += 2) {
        json_t *k = json_array_get(flat, i);
        if (json_is_string(k))
            json_object_set(o, json_string_value(k), json_array_get(flat, i + 1));
    }
    return o;
}

long long json_ll(json_t *j)
{
    int64_t v = 0;
    if (json_is_integer(j))
        return json_integer_value(j);
    if (json_is_string(j) && parse_i64(json_string_value(j), &v))
        return v;
    return 0;
}

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

json_t *graduate_json(struct req *r, json_t *stored)
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
            mask_phone(json_string_value(phone), m, sizeof m);
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
        json_object_set_new(g, "status_at", json_time(r->app, v));
    copy_str(g, stored, "status_reason", "status_reason");
    if (ms_field(stored, "registered_at", &v))
        json_object_set_new(g, "registered_at", json_time(r->app, v));
    json_t *services = json_object();
    const char *k;
    json_t *val;
    json_object_foreach(stored, k, val)
    {
        int64_t n;
        if (strncmp(k, "svc:", 4) == 0 && json_is_string(val) &&
            parse_i64(json_string_value(val), &n))
            json_object_set_new(services, k + 4, json_integer(n));
    }
    json_object_set_new(g, "contacts", json_integer(ms_field(stored, "contacts", &v) ? v : 0));
    json_object_set_new(g, "services", services);
    if (ms_field(stored, "last_contact_at", &v))
        json_object_set_new(g, "last_contact_at", json_time(r->app, v));
    if (ms_field(stored, "erased_at", &v))
        json_object_set_new(g, "erased_at", json_time(r->app, v));
    if (ms_field(stored, "pii_expired_at", &v))
        json_object_set_new(g, "personal_data_expired_at", json_time(r->app, v));
    copy_str(g, stored, "created_by", "created_by");
    if (ms_field(stored, "created_at", &v))
        json_object_set_new(g, "created_at", json_time(r->app, v));
    return g;
}

/* ---- running one store call for a request ---- */

/* Redis time this request has left: the store's deadline counts from the
 * request's arrival across all of its steps (locate, claim, county step,
 * release; a batch's rounds), so that a request answers within one deadline
 * (503 at worst) however slowly each step goes. 0 when spent. */
int req_budget_ms(const struct req *r)
{
    int64_t left = store_timeout_ms(r->app->store) - (clock_mono_us() - r->start_us) / 1000;
    return left > 0 ? (int)left : 0;
}

/* Why a command could not be sent: the request's time is spent, or the store
 * is not ready. */
static enum store_status unsent(int budget)
{
    return budget > 0 ? STORE_DOWN : STORE_TIMEOUT;
}

struct single {
    struct req *r;
    script_fn cb;
};

static void on_single(enum store_status st, json_t *result, void *arg)
{
    struct single *s = arg;
    struct req *r = s->r;
    script_fn cb = s->cb;
    free(s);
    const char *err = json_string_value(json_object_get(result, "err"));
    if (st == STORE_OK && err && strcmp(err, "token_revoked") == 0) {
        /* Revoked on some server while this request was under way: nothing
         * was written. */
        tokcache_drop(r->app->tokens, r->who.tok_hex);
        http_add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_reply_error(r, 401, "unauthorized", "unknown, expired or revoked token", NULL);
        return;
    }
    cb(r, st, result);
}

void run_script_jw(struct req *r, const char *script, const char *key, struct jw *args,
                   script_fn cb)
{
    size_t len = 0;
    const char *text = jw_text(args, &len);
    struct single *s = text ? malloc(sizeof *s) : NULL;
    if (!s) {
        jw_free(args);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    s->r = r;
    s->cb = cb;
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), len};
    int budget = req_budget_ms(r);
    int rc = store_script_within(r->app->store, budget, script, 1, 2, argv, lens, on_single, s);
    jw_free(args);
    if (rc < 0) {
        free(s);
        cb(r, unsent(budget), NULL);
    }
}

void run_script(struct req *r, const char *script, const char *key, json_t *args, script_fn cb)
{
    if (args && r->who.tok_hex[0]) {
        /* The script refuses to change anything for a revoked token. */
        char tkey[KEY_MAX];
        key_token(tkey, sizeof tkey, r->who.tok_hex);
        json_object_set_new(args, "tok", json_string(tkey));
    }
    struct jw w;
    jw_init(&w);
    if (json_is_object(args))
        jw_json(&w, args, 0);
    else
        w.failed = true;
    json_decref(args);
    run_script_jw(r, script, key, &w, cb);
}

static int64_t audit_keep_ms(const struct req *r)
{
    return (int64_t)r->app->cfg->audit_retention_days * 86400000;
}

static json_t *audit_obj(struct req *r, const char *action, const char *object)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "who", r->who.name, "role",
                     role_name(r->who.role), "action", action, "object", object ? object : "",
                     "rid", r->id, "keep_ms", (json_int_t)audit_keep_ms(r));
}

void write_request_members(struct jw *w, struct req *r, const char *action, const char *object)
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
    jw_obj_end(w);
    if (r->who.tok_hex[0]) {
        /* The script refuses to change anything for a revoked token. */
        char tkey[KEY_MAX];
        key_token(tkey, sizeof tkey, r->who.tok_hex);
        jw_key(w, "tok");
        jw_str(w, tkey);
    }
}

void audit_attach(struct req *r, json_t *args, const char *action, const char *object)
{
    if (args)
        json_object_set_new(args, "audit", audit_obj(r, action, object));
}

static void on_audit_written(enum store_status st, json_t *result, void *arg)
{
    (void)result;
    char *rid = arg;
    if (st != STORE_OK)
        log_warn("event=audit_write_failed request_id=%s", rid);
    free(rid);
}

void audit_read(struct req *r, const char *county, const char *action, const char *object,
                const char *result)
{
    json_t *au = audit_obj(r, action, object);
    if (au)
        json_object_set_new(au, "result", json_string(result));
    json_t *args = json_pack("{s:o}", "audit", au);
    char *text = args ? gc_json_dumps(args, 0) : NULL;
    json_decref(args);
    char *rid = strdup(r->id);
    char key[KEY_MAX];
    if (county)
        key_county(key, sizeof key, county);
    else
        key_global(key, sizeof key);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), text ? strlen(text) : 0};
    if (!text || !rid ||
        store_script(r->app->store, "audit", 1, 2, argv, lens, on_audit_written, rid) < 0) {
        log_warn("event=audit_write_failed request_id=%s", r->id);
        free(rid);
    }
    free(text);
}

void run_command(struct req *r, int argc, const char **argv, script_fn cb)
{
    size_t lens[8];
    for (int i = 0; i < argc && i < 8; i++)
        lens[i] = strlen(argv[i]);
    struct single *s = malloc(sizeof *s);
    if (!s) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    s->r = r;
    s->cb = cb;
    int budget = req_budget_ms(r);
    if (store_command_within(r->app->store, budget, argc, argv, lens, on_single, s) < 0) {
        free(s);
        cb(r, unsent(budget), NULL);
    }
}

/* ---- locating a graduate ---- */

struct locate {
    struct req *r;
    located_fn then;
    bool for_write;
};

static void on_located(enum store_status st, json_t *result, void *arg)
{
    struct locate *l = arg;
    struct req *r = l->r;
    located_fn then = l->then;
    bool for_write = l->for_write;
    free(l);
    if (st != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
    const char *county = json_string_value(result);
    if (!county || !auth_can_read_county(&r->who, county)) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (for_write && !auth_can_write_county(&r->who, county)) {
        http_reply_error(r, 403, "forbidden", "this token may not change this graduate", NULL);
        return;
    }
    char c[GC_COUNTY_MAX + 1];
    snprintf(c, sizeof c, "%s", county);
    then(r, c);
}

void locate_graduate(struct req *r, const char *id, bool for_write, located_fn then)
{
    if (for_write && r->who.role != ROLE_ADMIN && r->who.role != ROLE_COUNSELOR) {
        http_reply_error(r, 403, "forbidden", "this token may not change graduates", NULL);
        return;
    }
    if (r->who.role == ROLE_VIEWER) {
        http_reply_error(r, 403, "forbidden", "viewers see aggregates only", NULL);
        return;
    }
    if (r->who.role == ROLE_COUNSELOR) {
        then(r, r->who.county);
        return;
    }
    struct locate *l = malloc(sizeof *l);
    if (!l) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    l->r = r;
    l->then = then;
    l->for_write = for_write;
    char key[KEY_MAX];
    key_graduate_county(key, sizeof key, id);
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, strlen(key)};
    if (store_command_within(r->app->store, req_budget_ms(r), 2, argv, lens, on_located, l) < 0) {
        free(l);
        http_reply_unavailable(r);
    }
}

/* ---- batches ---- */

struct batch_slot {
    struct batch *b;
    enum store_status st;
    json_t *result;
};

struct batch {
    struct req *r;
    size_t n, pending;
    bool started;
    batch_done_fn done;
    struct batch_slot *slots;
};

struct batch *batch_new(struct req *r, size_t n, batch_done_fn done)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->r = r;
    b->done = done;
    b->n = b->pending = n;
    b->slots = calloc(n ? n : 1, sizeof *b->slots);
    if (!b->slots) {
        free(b);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        b->slots[i].b = b;
    return b;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->slots[i].result);
    free(b->slots);
    free(b);
}

static void batch_finish(struct batch *b)
{
    b->done(b->r, b);
    batch_free(b);
}

static void on_batch_slot(enum store_status st, json_t *result, void *arg)
{
    struct batch_slot *s = arg;
    struct batch *b = s->b;
    s->st = st;
    s->result = json_incref(result);
    if (--b->pending == 0 && b->started)
        batch_finish(b);
}

void batch_command(struct batch *b, size_t i, int argc, const char **argv, const size_t *lens)
{
    int budget = req_budget_ms(b->r);
    if (store_command_within(b->r->app->store, budget, argc, argv, lens, on_batch_slot,
                             &b->slots[i]) < 0) {
        b->slots[i].st = unsent(budget);
        b->pending--;
    }
}

void batch_script(struct batch *b, size_t i, const char *script, int nkeys, int argc,
                  const char **argv, const size_t *lens)
{
    int budget = req_budget_ms(b->r);
    if (store_script_within(b->r->app->store, budget, script, nkeys, argc, argv, lens,
                            on_batch_slot, &b->slots[i]) < 0) {
        b->slots[i].st = unsent(budget);
        b->pending--;
    }
}

void batch_start(struct batch *b)
{
    b->started = true;
    if (b->pending == 0)
        batch_finish(b);
}

size_t batch_size(const struct batch *b)
{
    return b->n;
}

enum store_status batch_status(const struct batch *b, size_t i)
{
    return b->slots[i].st;
}

json_t *batch_result(const struct batch *b, size_t i)
{
    return b->slots[i].result;
}

enum store_status batch_worst(const struct batch *b)
{
    enum store_status w = STORE_OK;
    for (size_t i = 0; i < b->n; i++)
        if (b->slots[i].st != STORE_OK)
            w = b->slots[i].st;
    return w;
}

void write_alert_args(struct jw *w, const struct app *a, size_t i)
{
    jw_key(w, "alert");
    jw_obj(w);
    jw_key(w, "threshold_bp");
    jw_int(w, a->cfg->counties[i].threshold_bp);
    jw_key(w, "clear_bp");
    jw_int(w, a->cfg->alerts.clear_margin_bp);
    jw_key(w, "for_ms");
    jw_int(w, (long long)a->cfg->alerts.for_seconds * 1000);
    jw_obj_end(w);
}

json_t *alert_args(const struct app *a, const char *county)
{
    const struct county_cfg *cc = config_county(a->cfg, county);
    if (!cc)
        return NULL;
    return json_pack("{s:i, s:i, s:I}", "threshold_bp", (int)cc->threshold_bp, "clear_bp",
                     (int)a->cfg->alerts.clear_margin_bp, "for_ms",
                     (json_int_t)a->cfg->alerts.for_seconds * 1000);
}

void log_transition(struct req *r, const char *county, const char *transition)
{
    log_info("event=alert_transition request_id=%s county=%s transition=%s", r->id, county,
             transition);
    notifier_kick(r->app->notifier, county);
}

void log_alert_transition(struct req *r, const char *county, json_t *res)
{
    const char *t = json_string_value(json_object_get(res, "alert"));
    if (t)
        log_transition(r, county, t);
}
