/* Contacts through the real server and Redis: counting, idempotent replay and
 * reuse, the response's coverage, and the contact list (as stored now and as
 * older versions stored it), erasure of notes. */
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/pii.h"
#include "harness.h"

static struct gc_server *srv;

/* A counselor whose name holds the record separator, quotes and CJK. */
#define T_ODD "odd-counselor-token"
#define ODD_NAME "王老师|商州 \"1\""

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    char hex[65];
    gc_sha256_hex(T_ODD, strlen(T_ODD), hex);
    json_array_append_new(json_object_get(cfg, "tokens"),
                          json_pack("{s:s, s:s, s:s, s:s}", "name", ODD_NAME, "sha256", hex, "role",
                                    "counselor", "county", "611002"));
    srv = h_start(h_write_config(cfg, "contacts"), NULL, NULL, true);
    json_decref(cfg);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

static const char *contact_body =
    "{\"graduate_id\":\"G1\",\"service\":\"job_referral\",\"channel\":\"phone\","
    "\"occurred_at\":\"2026-03-05T10:30:00+08:00\",\"note\":\"推荐商洛某电子厂技术员岗位\"}";

START_TEST(test_contact_counts_graduate_as_served)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    h_register(srv, T_C611002, "G2", "611002", 2, "2026-03-01T09:00:00+08:00");
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, NULL);
    ck_assert_int_eq(r->status, 201);
    json_t *j = r->json;
    ck_assert_str_eq(json_string_value(json_object_get(j, "graduate_id")), "G1");
    ck_assert_str_eq(json_string_value(json_object_get(j, "county")), "611002");
    ck_assert_str_eq(json_string_value(json_object_get(j, "period")), "2026");
    ck_assert(json_is_true(json_object_get(j, "first_in_period")));
    json_t *cov = json_object_get(j, "coverage");
    ck_assert_int_eq(json_integer_value(json_object_get(cov, "registered")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(cov, "served")), 1);
    ck_assert_double_eq_tol(json_real_value(json_object_get(cov, "rate")), 0.5, 1e-9);
    ck_assert_int_eq(json_integer_value(json_object_get(cov, "gap")), 1);
    ck_assert(strlen(json_string_value(json_object_get(j, "id"))) > 0);
    h_resp_free(r);
}
END_TEST

START_TEST(test_several_contacts_count_once)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", "2026-03-02T09:00:00+08:00", NULL), 201);
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, NULL);
    ck_assert_int_eq(r->status, 201);
    ck_assert(json_is_false(json_object_get(r->json, "first_in_period")));
    h_resp_free(r);
    long long reg, served;
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 1);
    ck_assert_int_eq(served, 1);
    r = h_http(srv, "GET", "/api/v1/graduates/G1", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "contacts")), 2);
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(r->json, "services"), "job_referral")),
        2);
    h_resp_free(r);
}
END_TEST

START_TEST(test_contact_replay_same_key_counts_once)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    const char *hdr[] = {"Idempotency-Key: offline-batch-7/item-1", NULL};
    struct http_resp *a = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr);
    struct http_resp *b = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr);
    ck_assert_int_eq(a->status, 201);
    ck_assert_int_eq(b->status, 201);
    ck_assert_str_eq(a->body, b->body);
    char v[32];
    ck_assert_ptr_null(h_header(a, "Idempotent-Replayed", v, sizeof v));
    ck_assert_ptr_nonnull(h_header(b, "Idempotent-Replayed", v, sizeof v));
    ck_assert_str_eq(v, "true");
    h_resp_free(a);
    h_resp_free(b);
    struct http_resp *l =
        h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(l->json, "contacts")), 1);
    h_resp_free(l);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:job_referral"), 1);
}
END_TEST

START_TEST(test_contact_reused_key_with_other_body_is_422_and_changes_nothing)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    h_register(srv, T_C611002, "G2", "611002", 2, "2026-03-01T09:00:00+08:00");
    const char *hdr[] = {"Idempotency-Key: k-1", NULL};
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr), 201, NULL);
    const char *other = "{\"graduate_id\":\"G2\",\"service\":\"training\"}";
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, other, hdr), 422,
             "idempotency_key_reused");
    long long reg, served;
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 2);
    ck_assert_int_eq(served, 1);
}
END_TEST

START_TEST(test_same_key_from_two_counselors_are_distinct)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    h_register(srv, T_ADMIN, "G9", "611002", 9, "2026-03-01T09:00:00+08:00");
    const char *hdr[] = {"Idempotency-Key: same", NULL};
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr), 201, NULL);
    const char *b9 = "{\"graduate_id\":\"G9\",\"service\":\"training\"}";
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_ADMIN, b9, hdr);
    ck_assert_int_eq(r->status, 201);
    char v[16];
    ck_assert_ptr_null(h_header(r, "Idempotent-Replayed", v, sizeof v));
    h_resp_free(r);
    long long reg, served;
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(served, 2);
}
END_TEST

START_TEST(test_contacts_listed_newest_first)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", "2026-03-03T09:00:00+08:00", NULL), 201);
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", "2026-03-09T09:00:00+08:00", NULL), 201);
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", "2026-03-05T09:00:00+08:00", NULL), 201);
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_L611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 3);
    const char *exp[] = {"2026-03-09T09:00:00+08:00", "2026-03-05T09:00:00+08:00",
                         "2026-03-03T09:00:00+08:00"};
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, i), "occurred_at")),
                         exp[i]);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "counselor")),
                     "zhang.counselor");
    h_resp_free(r);
}
END_TEST

/* The listed contact (SPEC §6 fields) with the given id. */
static json_t *listed(json_t *list, const char *id)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return c;
    }
    ck_abort_msg("contact %s not listed", id);
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

START_TEST(test_contact_listed_with_every_field)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    struct http_resp *a = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, NULL);
    ck_assert_int_eq(a->status, 201);
    char id1[64];
    snprintf(id1, sizeof id1, "%s", str(a->json, "id"));
    /* The graduate's id, "~" and the contact's own 10 alphanumerics. */
    ck_assert_uint_eq(strlen(id1), 13);
    ck_assert_int_eq(strncmp(id1, "G1~", 3), 0);
    h_resp_free(a);
    /* No channel (in_person by default), no note. */
    a = h_http(srv, "POST", "/api/v1/contacts", T_C611002,
               "{\"graduate_id\":\"G1\",\"service\":\"other\","
               "\"occurred_at\":\"2026-03-04T08:00:00.250+08:00\"}",
               NULL);
    ck_assert_int_eq(a->status, 201);
    char id2[64];
    snprintf(id2, sizeof id2, "%s", str(a->json, "id"));
    h_resp_free(a);

    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(str(r->json, "graduate_id"), "G1");
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 2);
    json_t *c = listed(list, id1);
    ck_assert_int_eq(json_object_size(c), 9);
    ck_assert_str_eq(str(c, "outcome"), "reached");
    ck_assert_str_eq(str(c, "service"), "job_referral");
    ck_assert_str_eq(str(c, "channel"), "phone");
    ck_assert_str_eq(str(c, "occurred_at"), "2026-03-05T10:30:00+08:00");
    ck_assert_uint_eq(strlen(str(c, "recorded_at")), strlen("2026-03-05T10:30:00+08:00"));
    ck_assert_str_eq(str(c, "period"), "2026");
    ck_assert_str_eq(str(c, "counselor"), "zhang.counselor");
    ck_assert_str_eq(str(c, "note"), "推荐商洛某电子厂技术员岗位");
    c = listed(list, id2);
    ck_assert_int_eq(json_object_size(c), 8);
    ck_assert_str_eq(str(c, "service"), "other");
    ck_assert_str_eq(str(c, "channel"), "in_person");
    ck_assert_ptr_null(json_object_get(c, "note"));
    h_resp_free(r);
}
END_TEST

START_TEST(test_any_counselor_name_and_note_survive_storage)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    const char *body = "{\"graduate_id\":\"G1\",\"service\":\"training\",\"channel\":\"sms\","
                       "\"occurred_at\":\"2026-03-05T10:30:00+08:00\","
                       "\"note\":\"a|b|7|\\\"q\\\"\\n二行\"}";
    struct http_resp *a = h_http(srv, "POST", "/api/v1/contacts", T_ODD, body, NULL);
    ck_assert_int_eq(a->status, 201);
    h_resp_free(a);
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *c = json_array_get(json_object_get(r->json, "contacts"), 0);
    ck_assert_str_eq(str(c, "counselor"), ODD_NAME);
    ck_assert_str_eq(str(c, "note"), "a|b|7|\"q\"\n二行");
    ck_assert_str_eq(str(c, "service"), "training");
    ck_assert_str_eq(str(c, "channel"), "sms");
    h_resp_free(r);
}
END_TEST

/* A record as versions before the compact format stored it: JSON. */
static const char *old_record =
    "{\"recorded_at\":1772677800000,\"note\":\"旧记录\",\"period\":2026,"
    "\"channel\":\"home_visit\",\"id\":\"OLDoldOLDold0001\",\"service\":\"small_loan\","
    "\"occurred_at\":1772677800000,\"counselor\":\"li.old\"}";

START_TEST(test_contacts_stored_as_json_by_older_versions_are_listed)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", "2026-03-06T09:00:00+08:00", NULL), 201);
    redisReply *x = redisCommand(h_redis(), "RPUSH gc:{611002}:contacts:G1 %s", old_record);
    ck_assert_ptr_nonnull(x);
    freeReplyObject(x);
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 2);
    /* Listed under the graduate's id, as every contact id is now. */
    json_t *c = listed(list, "G1~OLDoldOLDold0001");
    ck_assert_str_eq(str(c, "outcome"), "reached");
    ck_assert_str_eq(str(c, "occurred_at"), "2026-03-05T10:30:00+08:00");
    ck_assert_str_eq(str(c, "recorded_at"), "2026-03-05T10:30:00+08:00");
    ck_assert_str_eq(str(c, "period"), "2026");
    ck_assert_str_eq(str(c, "service"), "small_loan");
    ck_assert_str_eq(str(c, "channel"), "home_visit");
    ck_assert_str_eq(str(c, "counselor"), "li.old");
    ck_assert_str_eq(str(c, "note"), "旧记录");
    /* Newest first across both formats. */
    ck_assert_str_eq(str(json_array_get(list, 0), "occurred_at"), "2026-03-06T09:00:00+08:00");
    h_resp_free(r);
}
END_TEST

START_TEST(test_erasure_drops_the_notes_of_both_formats)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    struct http_resp *a = h_http(srv, "POST", "/api/v1/contacts", T_ODD,
                                 "{\"graduate_id\":\"G1\",\"service\":\"training\","
                                 "\"note\":\"电话|回访\"}",
                                 NULL);
    ck_assert_int_eq(a->status, 201);
    h_resp_free(a);
    redisReply *x = redisCommand(h_redis(), "RPUSH gc:{611002}:contacts:G1 %s", old_record);
    freeReplyObject(x);
    h_expect(h_http(srv, "DELETE", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL), 200, NULL);
    struct http_resp *r = h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 2);
    for (size_t i = 0; i < 2; i++)
        ck_assert_ptr_null(json_object_get(json_array_get(list, i), "note"));
    ck_assert_str_eq(str(listed(list, "G1~OLDoldOLDold0001"), "counselor"), "li.old");
    int odd = strcmp(str(json_array_get(list, 0), "counselor"), ODD_NAME) == 0 ? 0 : 1;
    ck_assert_str_eq(str(json_array_get(list, (size_t)odd), "counselor"), ODD_NAME);
    ck_assert_str_eq(str(json_array_get(list, (size_t)odd), "service"), "training");
    h_resp_free(r);
    /* Erasing twice changes nothing. */
    h_expect(h_http(srv, "DELETE", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL), 200, NULL);
}
END_TEST

START_TEST(test_replay_of_a_key_recorded_as_json_by_older_versions)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    /* The record an older server left for (zhang.counselor, "old-key"). */
    char scoped[64], idem[65], body_hash[65], rec[512];
    snprintf(scoped, sizeof scoped, "zhang.counselor\nold-key");
    gc_sha256_hex(scoped, strlen(scoped), idem);
    gc_sha256_hex(contact_body, strlen(contact_body), body_hash);
    snprintf(rec, sizeof rec,
             "{\"body_hash\":\"%s\",\"resp\":{\"id\":\"OLDoldOLDold0002\",\"graduate_id\":"
             "\"G1\",\"period\":2026,\"first_in_period\":true,\"registered\":7,\"served\":5,"
             "\"threshold_bp\":9000}}",
             body_hash);
    redisReply *x = redisCommand(h_redis(), "SET gc:{611002}:idem:%s %s EX 600", idem, rec);
    freeReplyObject(x);
    const char *hdr[] = {"Idempotency-Key: old-key", NULL};
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr);
    ck_assert_int_eq(r->status, 201);
    char v[16];
    ck_assert_str_eq(h_header(r, "Idempotent-Replayed", v, sizeof v), "true");
    ck_assert_str_eq(str(r->json, "id"), "OLDoldOLDold0002");
    ck_assert(json_is_true(json_object_get(r->json, "first_in_period")));
    json_t *cov = json_object_get(r->json, "coverage");
    ck_assert_int_eq(json_integer_value(json_object_get(cov, "registered")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(cov, "served")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(cov, "gap")), 2);
    h_resp_free(r);
    /* Nothing was counted: the graduate is still unserved. */
    long long reg, srvd;
    h_counts(srv, "611002", "2026", &reg, &srvd);
    ck_assert_int_eq(srvd, 0);
}
END_TEST

START_TEST(test_replay_returns_the_first_answer_byte_for_byte)
{
    h_register(srv, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    const char *hdr[] = {"Idempotency-Key: k-1", NULL};
    struct http_resp *a = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr);
    ck_assert_int_eq(a->status, 201);
    /* A second graduate served in between changes the county's counts... */
    h_register(srv, T_C611002, "G2", "611002", 2, "2026-03-01T09:00:00+08:00");
    struct http_resp *b = h_http(srv, "POST", "/api/v1/contacts", T_C611002, contact_body, hdr);
    ck_assert_int_eq(b->status, 201);
    /* ...but the replay is the first answer, exactly. */
    ck_assert_str_eq(a->body, b->body);
    h_resp_free(a);
    h_resp_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("contacts");
    TCase *tc = tcase_create("contacts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_contact_counts_graduate_as_served);
    tcase_add_test(tc, test_several_contacts_count_once);
    tcase_add_test(tc, test_contact_replay_same_key_counts_once);
    tcase_add_test(tc, test_contact_reused_key_with_other_body_is_422_and_changes_nothing);
    tcase_add_test(tc, test_same_key_from_two_counselors_are_distinct);
    tcase_add_test(tc, test_contacts_listed_newest_first);
    tcase_add_test(tc, test_contact_listed_with_every_field);
    tcase_add_test(tc, test_any_counselor_name_and_note_survive_storage);
    tcase_add_test(tc, test_contacts_stored_as_json_by_older_versions_are_listed);
    tcase_add_test(tc, test_erasure_drops_the_notes_of_both_formats);
    tcase_add_test(tc, test_replay_of_a_key_recorded_as_json_by_older_versions);
    tcase_add_test(tc, test_replay_returns_the_first_answer_byte_for_byte);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
