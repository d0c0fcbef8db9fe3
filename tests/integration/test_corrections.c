/* Outcomes and corrections (SPEC §12) through the real server and Redis:
 * only a reached contact serves; attempts are kept, shown and counted; a
 * void takes a contact out of every count (served, queue and alert follow)
 * within the counselor's 7 days or by an admin at any time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static json_t *cfg;
static struct gc_server *srv;

/* Registration of the fixture's graduates, before every contact below. */
#define REGISTERED "2026-03-01T09:00:00+08:00"
#define NOW "2026-03-10T10:00:00+08:00"
/* Eight days after NOW: past a counselor's 7 days for contacts made at NOW. */
#define LATER "2026-03-18T10:00:00+08:00"

static struct gc_server *start_at(const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return h_start(h_write_config(cfg, "corrections"), args, NULL, true);
}

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = h_default_config();
    /* Alerts fire at once, so that a void's effect on them is seen. */
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i}", "for_seconds", 0, "clear_margin", 0.0,
                                  "eval_interval_seconds", 1));
    srv = start_at(NOW);
}

static void teardown(void)
{
    if (srv)
        ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
    json_decref(cfg);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* POSTs a contact with G<gid> (body members after graduate_id), asserts 201
 * and copies the contact's id into id. */
static void contact(const char *token, const char *gid, const char *members, char *id, size_t n)
{
    char body[512];
    bool own_service = members && strstr(members, "\"service\"");
    snprintf(body, sizeof body, "{\"graduate_id\":\"%s\"%s%s%s}", gid,
             own_service ? "" : ",\"service\":\"job_referral\"", members && *members ? "," : "",
             members ? members : "");
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", token, body, NULL);
    ck_assert_msg(r->status == 201, "POST %s: %d %s", body, r->status, r->body);
    if (id)
        snprintf(id, n, "%s", str(r->json, "id"));
    h_resp_free(r);
}

/* A new reference to the graduate as the API shows it. */
static json_t *graduate(const char *gid)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s", gid);
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *g = json_incref(r->json);
    h_resp_free(r);
    return g;
}

static bool in_queue(const char *gid)
{
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/counties/611002/queue?limit=500", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    bool found = false;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r->json, "graduates"), i, g)
    {
        found |= strcmp(str(g, "id"), gid) == 0;
    }
    h_resp_free(r);
    return found;
}

static const char *county_alert(void)
{
    static char buf[32];
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/counties/611002/coverage", T_ADMIN, NULL, NULL);
    snprintf(buf, sizeof buf, "%s",
             json_is_string(json_object_get(r->json, "alert")) ? str(r->json, "alert") : "(none)");
    h_resp_free(r);
    return buf;
}

static void void_contact(const char *token, const char *id, const char *body, int status,
                         const char *code)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/contacts/%s/void", id);
    h_expect(h_http(srv, "POST", path, token, body, NULL), status, code);
}

/* ---- outcomes ---- */

START_TEST(test_unreachable_and_declined_attempts_do_not_serve)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_C611002,
                                 "{\"graduate_id\":\"G1\",\"service\":\"job_referral\","
                                 "\"channel\":\"phone\",\"outcome\":\"unreachable\"}",
                                 NULL);
    ck_assert_int_eq(r->status, 201);
    ck_assert(json_is_false(json_object_get(r->json, "first_in_period")));
    ck_assert_int_eq(num(json_object_get(r->json, "coverage"), "served"), 0);
    h_resp_free(r);
    contact(T_C611002, "G1", "\"outcome\":\"declined\"", NULL, 0);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 1);
    ck_assert_int_eq(srvd, 0);
    ck_assert(in_queue("G1"));
    /* Attempts are kept and shown on the graduate; services lists reached ones. */
    json_t *g = graduate("G1");
    ck_assert_int_eq(num(g, "contacts"), 2);
    ck_assert_int_eq(num(json_object_get(g, "attempts"), "unreachable"), 1);
    ck_assert_int_eq(num(json_object_get(g, "attempts"), "declined"), 1);
    ck_assert_int_eq(json_object_size(json_object_get(g, "services")), 0);
    json_decref(g);
    /* The list shows each contact's outcome. */
    r = h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 2);
    ck_assert_str_eq(str(json_array_get(list, 0), "outcome"), "declined");
    ck_assert_str_eq(str(json_array_get(list, 1), "outcome"), "unreachable");
    h_resp_free(r);
    /* Then one reached contact serves. */
    contact(T_C611002, "G1", NULL, NULL, 0);
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
    ck_assert(!in_queue("G1"));
}
END_TEST

START_TEST(test_contact_without_outcome_is_reached)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    char id[96];
    contact(T_C611002, "G1", NULL, id, sizeof id);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/contacts/%s", id);
    struct http_resp *r = h_http(srv, "GET", path, T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(str(r->json, "outcome"), "reached");
    ck_assert_str_eq(str(r->json, "graduate_id"), "G1");
    ck_assert_str_eq(str(r->json, "county"), "611002");
    ck_assert_ptr_null(json_object_get(r->json, "voided"));
    h_resp_free(r);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
}
END_TEST

START_TEST(test_unknown_outcome_is_422_and_changes_nothing)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_C611002,
                                 "{\"graduate_id\":\"G1\",\"service\":\"job_referral\","
                                 "\"outcome\":\"busy\"}",
                                 NULL);
    ck_assert_int_eq(r->status, 422);
    ck_assert_str_eq(str(json_object_get(r->json, "error"), "code"), "validation_failed");
    ck_assert_str_eq(str(json_object_get(json_object_get(r->json, "error"), "fields"), "outcome"),
                     "must be one of reached, unreachable, declined");
    h_resp_free(r);
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002,
                    "{\"graduate_id\":\"G1\",\"service\":\"job_referral\",\"outcome\":1}", NULL),
             422, "validation_failed");
    json_t *g = graduate("G1");
    ck_assert_int_eq(num(g, "contacts"), 0);
    json_decref(g);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 0);
}
END_TEST

START_TEST(test_metrics_count_contacts_by_outcome_and_voids)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    char id[96];
    contact(T_C611002, "G1", NULL, id, sizeof id);
    contact(T_C611002, "G1", "\"outcome\":\"unreachable\"", NULL, 0);
    contact(T_C611002, "G1", "\"outcome\":\"unreachable\"", NULL, 0);
    contact(T_C611002, "G1", "\"outcome\":\"declined\"", NULL, 0);
    void_contact(T_C611002, id, "{\"reason\":\"wrong graduate\"}", 200, NULL);
    struct http_resp *m = h_http(srv, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(m->status, 200);
    ck_assert_ptr_nonnull(strstr(
        m->body, "gradcover_contact_outcomes_total{county=\"611002\",outcome=\"reached\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(m->body,
               "gradcover_contact_outcomes_total{county=\"611002\",outcome=\"unreachable\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(
        m->body, "gradcover_contact_outcomes_total{county=\"611002\",outcome=\"declined\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(m->body, "gradcover_contacts_voided_total{county=\"611002\"} 1\n"));
    h_resp_free(m);
}
END_TEST

/* ---- voids ---- */

START_TEST(test_void_of_the_only_reached_contact_drops_served_and_fires_the_alert)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    char id[96];
    contact(T_C611002, "G1", NULL, id, sizeof id);
    ck_assert_str_eq(county_alert(), "ok");
    ck_assert(!in_queue("G1"));
    char path[160];
    snprintf(path, sizeof path, "/api/v1/contacts/%s/void", id);
    struct http_resp *r = h_http(srv, "POST", path, T_C611002,
                                 "{\"reason\":\"logged against the wrong graduate\"}", NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(str(r->json, "id"), id);
    ck_assert(json_is_false(json_object_get(r->json, "already_voided")));
    json_t *v = json_object_get(r->json, "voided");
    ck_assert_str_eq(str(v, "reason"), "logged against the wrong graduate");
    ck_assert_str_eq(str(v, "by"), "zhang.counselor");
    ck_assert_int_eq(num(json_object_get(r->json, "coverage"), "served"), 0);
    h_resp_free(r);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 1);
    ck_assert_int_eq(srvd, 0);
    ck_assert(in_queue("G1"));
    ck_assert_str_eq(county_alert(), "firing");
    json_t *g = graduate("G1");
    ck_assert_int_eq(num(g, "contacts"), 0);
    ck_assert_ptr_null(json_object_get(g, "last_contact_at"));
    json_decref(g);
    /* Kept and shown as voided. */
    snprintf(path, sizeof path, "/api/v1/contacts/%s", id);
    r = h_http(srv, "GET", path, T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_nonnull(json_object_get(r->json, "voided"));
    h_resp_free(r);
    /* Audited with the old and new served count, never the reason. */
    ck_assert_int_eq(h_redis_int("XLEN gc:{611002}:audit") > 0, 1);
    redisReply *a = redisCommand(h_redis(), "XREVRANGE gc:{611002}:audit + - COUNT 5");
    bool seen = false;
    for (size_t i = 0; a && i < a->elements; i++) {
        redisReply *f = a->element[i]->element[1];
        bool is_void = false;
        const char *chg = NULL;
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            if (!strcmp(f->element[k]->str, "action") &&
                !strcmp(f->element[k + 1]->str, "contact.void"))
                is_void = true;
            if (!strcmp(f->element[k]->str, "chg"))
                chg = f->element[k + 1]->str;
        }
        if (is_void) {
            ck_assert_ptr_nonnull(chg);
            ck_assert_ptr_nonnull(strstr(chg, "\"served\""));
            ck_assert_ptr_null(strstr(chg, "wrong graduate"));
            seen = true;
        }
    }
    freeReplyObject(a);
    ck_assert(seen);
}
END_TEST

START_TEST(test_void_keeps_served_while_another_reached_contact_remains)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    char first[96];
    contact(T_C611002, "G1", NULL, first, sizeof first);
    contact(T_C611002, "G1", "\"service\":\"training\"", NULL, 0);
    char attempt[96];
    contact(T_C611002, "G1", "\"outcome\":\"unreachable\"", attempt, sizeof attempt);
    void_contact(T_C611002, first, "{\"reason\":\"duplicate\"}", 200, NULL);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
    ck_assert(!in_queue("G1"));
    json_t *g = graduate("G1");
    ck_assert_int_eq(num(g, "contacts"), 2);
    ck_assert_int_eq(num(json_object_get(g, "services"), "training"), 1);
    ck_assert_ptr_null(json_object_get(json_object_get(g, "services"), "job_referral"));
    json_decref(g);
    /* Voiding an attempt moves no served count either. */
    void_contact(T_C611002, attempt, "{\"reason\":\"duplicate\"}", 200, NULL);
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
    g = graduate("G1");
    ck_assert_int_eq(json_object_size(json_object_get(g, "attempts")), 0);
    json_decref(g);
}
END_TEST

START_TEST(test_void_twice_is_already_voided_and_counts_once)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    h_register(srv, T_C611002, "G2", "611002", 2, REGISTERED);
    char id[96];
    contact(T_C611002, "G1", NULL, id, sizeof id);
    contact(T_C611002, "G2", NULL, NULL, 0);
    void_contact(T_C611002, id, "{\"reason\":\"wrong graduate\"}", 200, NULL);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/contacts/%s/void", id);
    struct http_resp *r = h_http(srv, "POST", path, T_ADMIN, "{\"reason\":\"again\"}", NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert(json_is_true(json_object_get(r->json, "already_voided")));
    /* The first void's reason stands. */
    ck_assert_str_eq(str(json_object_get(r->json, "voided"), "reason"), "wrong graduate");
    h_resp_free(r);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 2);
    ck_assert_int_eq(srvd, 1);
}
END_TEST

START_TEST(test_bad_void_bodies_are_422_and_change_nothing)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    char id[96];
    contact(T_C611002, "G1", NULL, id, sizeof id);
    const char *bad[] = {"{}", "{\"reason\":\"\"}", "{\"reason\":7}",
                         "{\"reason\":\"x\",\"served\":false}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[160];
        snprintf(path, sizeof path, "/api/v1/contacts/%s/void", id);
        struct http_resp *r = h_http(srv, "POST", path, T_C611002, bad[i], NULL);
        ck_assert_msg(r->status == 422 || r->status == 400, "%s: %d", bad[i], r->status);
        ck_assert_ptr_nonnull(json_object_get(r->json, "error"));
        h_resp_free(r);
    }
    /* A reason longer than 200 characters. */
    char body[400];
    snprintf(body, sizeof body, "{\"reason\":\"%0201d\"}", 0);
    void_contact(T_C611002, id, body, 422, "validation_failed");
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
    json_t *g = graduate("G1");
    ck_assert_int_eq(num(g, "contacts"), 1);
    json_decref(g);
}
END_TEST

START_TEST(test_void_of_unknown_or_other_county_contact_is_404)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    char id[96];
    contact(T_C611002, "G1", NULL, id, sizeof id);
    /* Another county's counselor: as for an unknown id. */
    void_contact(T_C611021, id, "{\"reason\":\"x\"}", 404, "not_found");
    void_contact(T_C611002, "G1~AAAAAAAAAA", "{\"reason\":\"x\"}", 404, "not_found");
    void_contact(T_C611002, "nonsense", "{\"reason\":\"x\"}", 404, "not_found");
    h_expect(h_http(srv, "GET", "/api/v1/contacts/G1~AAAAAAAAAA", T_C611002, NULL, NULL), 404,
             "not_found");
    /* Viewers and leaders may not void. */
    void_contact(T_VIEWER, id, "{\"reason\":\"x\"}", 403, "forbidden");
    void_contact(T_L611002, id, "{\"reason\":\"x\"}", 403, "forbidden");
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
}
END_TEST

START_TEST(test_counselor_may_void_within_7_days_admin_at_any_time)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    h_register(srv, T_C611002, "G2", "611002", 2, REGISTERED);
    char a[96], b[96];
    contact(T_C611002, "G1", NULL, a, sizeof a);
    contact(T_C611002, "G2", NULL, b, sizeof b);
    ck_assert_int_eq(h_stop(srv), 0);
    srv = start_at(LATER);
    void_contact(T_C611002, a, "{\"reason\":\"late\"}", 403, "forbidden");
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 2);
    void_contact(T_ADMIN, a, "{\"reason\":\"late, by the admin\"}", 200, NULL);
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(srvd, 1);
}
END_TEST

/* ---- corrections of a record ---- */

static json_t *patch(const char *token, const char *gid, const char *body, int status,
                     const char *code)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s", gid);
    struct http_resp *r = h_http(srv, "PATCH", path, token, body, NULL);
    ck_assert_msg(r->status == status, "PATCH %s %s: %d %s", path, body, r->status, r->body);
    if (code)
        ck_assert_str_eq(str(json_object_get(r->json, "error"), "code"), code);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

/* The chg member of the newest audit entry of county 611002 with action,
 * copied into out ("" when none). */
static void last_audit_changes(const char *action, char *out, size_t n)
{
    out[0] = '\0';
    redisReply *a = redisCommand(h_redis(), "XREVRANGE gc:{611002}:audit + - COUNT 20");
    for (size_t i = 0; a && i < a->elements && !out[0]; i++) {
        redisReply *f = a->element[i]->element[1];
        bool match = false;
        const char *chg = NULL;
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            if (!strcmp(f->element[k]->str, "action") && !strcmp(f->element[k + 1]->str, action))
                match = true;
            if (!strcmp(f->element[k]->str, "chg"))
                chg = f->element[k + 1]->str;
        }
        if (match)
            snprintf(out, n, "%s", chg ? chg : "-");
    }
    freeReplyObject(a);
}

START_TEST(test_patch_corrects_the_record_and_is_audited_without_personal_values)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    contact(T_C611002, "G1", NULL, NULL, 0);
    json_t *g = patch(T_C611002, "G1",
                      "{\"name\":\"李明\",\"phone\":\"13800000009\",\"school\":\"商洛学院\","
                      "\"graduation_year\":2025,\"flags\":[\"low_income\",\"hardship\"]}",
                      200, NULL);
    ck_assert_str_eq(str(g, "name"), "李明");
    ck_assert_str_eq(str(g, "phone"), "13800000009");
    ck_assert_str_eq(str(g, "school"), "商洛学院");
    ck_assert_int_eq(num(g, "graduation_year"), 2025);
    ck_assert_int_eq(json_array_size(json_object_get(g, "flags")), 2);
    /* Stored in the list's order, whatever the body's. */
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(g, "flags"), 0)), "hardship");
    ck_assert_str_eq(str(g, "updated_by"), "zhang.counselor");
    json_decref(g);
    char chg[512];
    last_audit_changes("graduate.patch", chg, sizeof chg);
    ck_assert_ptr_nonnull(strstr(chg, "\"graduation_year\""));
    ck_assert_ptr_nonnull(strstr(chg, "\"new\":\"2025\""));
    ck_assert_ptr_nonnull(strstr(chg, "\"name\":{\"changed\":true}"));
    ck_assert_ptr_null(strstr(chg, "李明"));
    ck_assert_ptr_null(strstr(chg, "13800000009"));
    /* null clears the optional fields. */
    g = patch(T_ADMIN, "G1", "{\"phone\":null,\"school\":null,\"flags\":[]}", 200, NULL);
    ck_assert_ptr_null(json_object_get(g, "phone"));
    ck_assert_ptr_null(json_object_get(g, "school"));
    ck_assert_ptr_null(json_object_get(g, "flags"));
    ck_assert_str_eq(str(g, "name"), "李明");
    json_decref(g);
    /* Nothing counted moved. */
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 1);
    ck_assert_int_eq(srvd, 1);
    g = graduate("G1");
    ck_assert_int_eq(num(g, "contacts"), 1);
    ck_assert_str_eq(str(g, "status"), "seeking");
    json_decref(g);
}
END_TEST

START_TEST(test_patch_of_national_id_or_county_is_422_and_changes_nothing)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    json_t *before = graduate("G1");
    const struct {
        const char *body, *field, *message;
    } bad[] = {
        {"{\"national_id\":\"61100219990101123X\"}", "national_id",
         "cannot be corrected: void the registration and register again"},
        {"{\"county\":\"611021\",\"name\":\"李明\"}", "county",
         "cannot be corrected: void the registration and register again"},
        {"{\"name\":null}", "name", "must not be removed"},
        {"{\"name\":\"\"}", "name", "must not be empty"},
        {"{\"phone\":\"call me\"}", "phone", "must be 5..20 digits, '-' or a leading '+'"},
        {"{\"graduation_year\":1800}", "graduation_year",
         "must be a year between 1950 and next year"},
        {"{\"flags\":[\"rich\"]}", "flags",
         "must be an array of distinct names from zero_employment_family, hardship, disabled, "
         "low_income"},
        {"{\"flags\":[\"hardship\",\"hardship\"]}", "flags",
         "must be an array of distinct names from zero_employment_family, hardship, disabled, "
         "low_income"},
        {"{\"flags\":\"hardship\"}", "flags",
         "must be an array of distinct names from zero_employment_family, hardship, disabled, "
         "low_income"},
        {"{\"status\":\"employed\"}", "_unknown",
         "1 unknown field; allowed: name, phone, school, major, graduation_year, flags, "
         "assigned_to"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *e = patch(T_C611002, "G1", bad[i].body, 422, "validation_failed");
        json_t *fields = json_object_get(json_object_get(e, "error"), "fields");
        ck_assert_msg(strcmp(str(fields, bad[i].field), bad[i].message) == 0, "%s: %s", bad[i].body,
                      json_dumps(fields, 0));
        json_decref(e);
    }
    json_t *after = graduate("G1");
    ck_assert(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 1);
}
END_TEST

START_TEST(test_patch_by_other_county_is_404_by_leader_403)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    json_decref(patch(T_C611021, "G1", "{\"name\":\"x\"}", 404, "not_found"));
    json_decref(patch(T_L611002, "G1", "{\"name\":\"x\"}", 403, "forbidden"));
    json_decref(patch(T_C611002, "G9", "{\"name\":\"x\"}", 404, "not_found"));
    json_t *g = graduate("G1");
    ck_assert_str_eq(str(g, "name"), "测试");
    json_decref(g);
}
END_TEST

START_TEST(test_patch_of_an_erased_graduate_is_409)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    h_expect(h_http(srv, "DELETE", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL), 200, NULL);
    json_decref(patch(T_ADMIN, "G1", "{\"name\":\"李明\"}", 409, "erased"));
    json_t *g = graduate("G1");
    ck_assert_ptr_null(json_object_get(g, "name"));
    json_decref(g);
}
END_TEST

/* ---- re-sent registrations ---- */

START_TEST(test_reregistration_with_other_fields_is_409_naming_them)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"name\":\"张三\",\"national_id\":\"%s\",\"phone\":\"13800000000\","
             "\"school\":\"商洛学院\",\"registered_at\":\"" REGISTERED "\"}",
             h_natid(1));
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
    /* The same again: 200, the stored graduate. */
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 200, NULL);
    /* Another name and no school: 409 naming both, nothing changed. */
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"name\":\"张山\",\"national_id\":\"%s\",\"phone\":\"13800000000\","
             "\"registered_at\":\"" REGISTERED "\"}",
             h_natid(1));
    struct http_resp *r = h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL);
    ck_assert_int_eq(r->status, 409);
    json_t *e = json_object_get(r->json, "error");
    ck_assert_str_eq(str(e, "code"), "registration_differs");
    json_t *fields = json_object_get(e, "fields");
    ck_assert_int_eq(json_object_size(fields), 2);
    ck_assert_ptr_nonnull(json_object_get(fields, "name"));
    ck_assert_ptr_nonnull(json_object_get(fields, "school"));
    ck_assert_ptr_null(strstr(r->body, "张山")); /* never the values */
    h_resp_free(r);
    json_t *g = graduate("G1");
    ck_assert_str_eq(str(g, "name"), "张三");
    ck_assert_str_eq(str(g, "school"), "商洛学院");
    json_decref(g);
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 1);
    /* The person is still seeking under G1: a registration under another id is refused. */
    snprintf(body, sizeof body, "{\"id\":\"G2\",\"name\":\"张三\",\"national_id\":\"%s\"}",
             h_natid(1));
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 409,
             "already_seeking");
}
END_TEST

/* ---- the queue and the denominator (issue 16: "the queue says 3 while
 * registered - served is 4") ---- */

static json_t *queue(const char *query)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/counties/611002/queue%s", query);
    struct http_resp *r = h_http(srv, "GET", path, T_C611002, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

static void set_status(const char *gid, const char *status)
{
    char path[96], body[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s/status", gid);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    h_expect(h_http(srv, "POST", path, T_C611002, body, NULL), 200, NULL);
}

START_TEST(test_found_work_before_any_service_is_counted_as_left_unserved)
{
    for (int i = 1; i <= 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "G%d", i);
        h_register(srv, T_C611002, id, "611002", i, REGISTERED);
    }
    contact(T_C611002, "G5", NULL, NULL, 0);
    set_status("G4", "employed"); /* found work before any service */
    set_status("G5", "employed"); /* found work after being served */
    json_t *q = queue("");
    ck_assert_str_eq(str(q, "view"), "seeking");
    ck_assert_int_eq(num(q, "registered"), 5);
    ck_assert_int_eq(num(q, "served"), 1);
    ck_assert_int_eq(num(q, "total"), 3);
    ck_assert_int_eq(num(q, "left_unserved"), 1);
    ck_assert_int_eq(num(q, "total") + num(q, "left_unserved"),
                     num(q, "registered") - num(q, "served"));
    json_decref(q);
    /* Coverage agrees: G4 is registered and unserved (SPEC §3). */
    long long reg, srvd;
    h_counts(srv, "611002", "", &reg, &srvd);
    ck_assert_int_eq(reg, 5);
    ck_assert_int_eq(srvd, 1);
    /* And the list of those who left unserved names G4 only. */
    q = queue("?view=left_unserved");
    ck_assert_str_eq(str(q, "view"), "left_unserved");
    ck_assert_int_eq(num(q, "left_unserved"), 1);
    json_t *list = json_object_get(q, "graduates");
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert_str_eq(str(json_array_get(list, 0), "id"), "G4");
    ck_assert_str_eq(str(json_array_get(list, 0), "status"), "employed");
    ck_assert_ptr_nonnull(json_object_get(json_array_get(list, 0), "left_at"));
    json_decref(q);
    /* Back to seeking: back in the queue, no longer "left". */
    set_status("G4", "seeking");
    q = queue("");
    ck_assert_int_eq(num(q, "total"), 4);
    ck_assert_int_eq(num(q, "left_unserved"), 0);
    json_decref(q);
}
END_TEST

START_TEST(test_queue_view_must_be_known)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/queue?view=all", T_C611002, NULL, NULL),
             400, "bad_parameter");
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/queue?view=", T_C611002, NULL, NULL), 400,
             "bad_parameter");
}
END_TEST

/* SPEC §12: the queue flags graduates unreachable on different days. */
START_TEST(test_queue_flags_unreachable_attempts_on_different_days)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REGISTERED);
    h_register(srv, T_C611002, "G2", "611002", 2, REGISTERED);
    char a[96];
    contact(T_C611002, "G1",
            "\"outcome\":\"unreachable\",\"occurred_at\":\"2026-03-02T09:00:00+08:00\"", a,
            sizeof a);
    contact(T_C611002, "G1",
            "\"outcome\":\"unreachable\",\"occurred_at\":\"2026-03-02T17:00:00+08:00\"", NULL, 0);
    contact(T_C611002, "G1",
            "\"outcome\":\"unreachable\",\"occurred_at\":\"2026-03-04T09:00:00+08:00\"", NULL, 0);
    contact(T_C611002, "G2", "\"outcome\":\"declined\"", NULL, 0);
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/counties/611002/queue", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r->json, "graduates"), i, g)
    {
        if (strcmp(str(g, "id"), "G1") == 0)
            ck_assert_int_eq(num(g, "unreachable_attempts"), 2);
        else
            ck_assert_ptr_null(json_object_get(g, "unreachable_attempts"));
    }
    h_resp_free(r);
    json_t *gr = graduate("G1");
    ck_assert_int_eq(num(gr, "unreachable_attempts"), 2);
    ck_assert_int_eq(num(json_object_get(gr, "attempts"), "unreachable"), 3);
    json_decref(gr);
    /* Voiding one of 2 March's leaves two days; then one. */
    void_contact(T_C611002, a, "{\"reason\":\"duplicate\"}", 200, NULL);
    gr = graduate("G1");
    ck_assert_int_eq(num(gr, "unreachable_attempts"), 2);
    json_decref(gr);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("corrections");
    TCase *tc = tcase_create("corrections");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unreachable_and_declined_attempts_do_not_serve);
    tcase_add_test(tc, test_contact_without_outcome_is_reached);
    tcase_add_test(tc, test_unknown_outcome_is_422_and_changes_nothing);
    tcase_add_test(tc, test_metrics_count_contacts_by_outcome_and_voids);
    tcase_add_test(tc, test_void_of_the_only_reached_contact_drops_served_and_fires_the_alert);
    tcase_add_test(tc, test_void_keeps_served_while_another_reached_contact_remains);
    tcase_add_test(tc, test_void_twice_is_already_voided_and_counts_once);
    tcase_add_test(tc, test_bad_void_bodies_are_422_and_change_nothing);
    tcase_add_test(tc, test_void_of_unknown_or_other_county_contact_is_404);
    tcase_add_test(tc, test_counselor_may_void_within_7_days_admin_at_any_time);
    tcase_add_test(tc, test_patch_corrects_the_record_and_is_audited_without_personal_values);
    tcase_add_test(tc, test_patch_of_national_id_or_county_is_422_and_changes_nothing);
    tcase_add_test(tc, test_patch_by_other_county_is_404_by_leader_403);
    tcase_add_test(tc, test_patch_of_an_erased_graduate_is_409);
    tcase_add_test(tc, test_reregistration_with_other_fields_is_409_naming_them);
    tcase_add_test(tc, test_found_work_before_any_service_is_counted_as_left_unserved);
    tcase_add_test(tc, test_queue_view_must_be_known);
    tcase_add_test(tc, test_queue_flags_unreachable_attempts_on_different_days);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
