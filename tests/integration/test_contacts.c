/* Contacts through the real server and Redis: counting, idempotent replay and
 * reuse, the response's coverage, and the contact list. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct gc_server *srv;

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
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
    struct http_resp *l = h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
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
    struct http_resp *r = h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_L611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 3);
    const char *exp[] = {"2026-03-09T09:00:00+08:00", "2026-03-05T09:00:00+08:00",
                         "2026-03-03T09:00:00+08:00"};
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, i), "occurred_at")),
                         exp[i]);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(list, 0), "counselor")), "zhang.counselor");
    h_resp_free(r);
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
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
