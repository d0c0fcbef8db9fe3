/* Periods and status changes (SPEC §3): who counts in the denominator and the
 * numerator of each year, the queue, and the year rollover across servers,
 * restarts and clocks that disagree. Time is injected with gradcoverd --now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *cfg_path;

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    cfg_path = h_write_config(cfg, "periods");
    json_decref(cfg);
}

static struct gc_server *start_at(const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return h_start(cfg_path, now ? args : NULL, NULL, true);
}

static void set_status(struct gc_server *s, const char *id, const char *status, const char *at,
                       int expect)
{
    char body[200], path[100];
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"at\":\"%s\"}", status, at);
    snprintf(path, sizeof path, "/api/v1/graduates/%s/status", id);
    h_expect(h_http(s, "POST", path, T_C611002, body, NULL), expect, NULL);
}

static void expect_counts(struct gc_server *s, const char *period, long long reg, long long srv)
{
    long long r, v;
    h_counts(s, "611002", period, &r, &v);
    ck_assert_msg(r == reg && v == srv, "period %s: expected %lld/%lld, got %lld/%lld", period,
                  srv, reg, v, r);
}

START_TEST(test_employed_unserved_graduate_stays_in_denominator)
{
    struct gc_server *s = start_at("2026-06-01T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    h_register(s, T_C611002, "G2", "611002", 2, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", NULL), 201);
    expect_counts(s, "2026", 2, 1);
    set_status(s, "G2", "employed", "2026-04-01T09:00:00+08:00", 200);
    /* Re-labelling the unserved graduate cannot raise the rate. */
    expect_counts(s, "2026", 2, 1);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_withdrawn_graduate_counts_in_no_period)
{
    struct gc_server *s = start_at("2026-06-01T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2025-05-01T09:00:00+08:00");
    h_register(s, T_C611002, "G2", "611002", 2, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2025-06-02T09:00:00+08:00", NULL), 201);
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", NULL), 201);
    expect_counts(s, "2025", 1, 1);
    expect_counts(s, "2026", 2, 1);
    set_status(s, "G1", "withdrawn", "2026-04-01T09:00:00+08:00", 200);
    expect_counts(s, "2025", 0, 0);
    expect_counts(s, "2026", 1, 0);
    /* Withdrawn is final: contacts and status changes are refused. */
    set_status(s, "G1", "seeking", "2026-05-01T09:00:00+08:00", 409);
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-05-02T09:00:00+08:00", NULL), 422);
    expect_counts(s, "2026", 1, 0);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_backdated_registration_counts_in_each_year_since)
{
    struct gc_server *s = start_at("2026-06-01T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2024-11-01T09:00:00+08:00");
    expect_counts(s, "2024", 1, 0);
    expect_counts(s, "2025", 1, 0);
    expect_counts(s, "2026", 1, 0);
    /* A contact in 2025 serves 2025 only. */
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2025-02-01T09:00:00+08:00", NULL), 201);
    expect_counts(s, "2024", 1, 0);
    expect_counts(s, "2025", 1, 1);
    expect_counts(s, "2026", 1, 0);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_return_to_seeking_counts_once_per_period)
{
    struct gc_server *s = start_at("2026-09-01T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2026-01-10T09:00:00+08:00");
    set_status(s, "G1", "not_seeking", "2026-02-01T09:00:00+08:00", 200);
    /* Not seeking: no contact can be logged for that time. */
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-01T09:00:00+08:00", NULL), 422);
    set_status(s, "G1", "seeking", "2026-04-01T09:00:00+08:00", 200);
    expect_counts(s, "2026", 1, 0);
    /* A contact in the first interval still counts. */
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-01-20T09:00:00+08:00", NULL), 201);
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-05-20T09:00:00+08:00", NULL), 201);
    expect_counts(s, "2026", 1, 1);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_duplicate_national_id_allowed_after_leaving_seeking)
{
    struct gc_server *s = start_at("2026-09-01T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 7, "2026-01-10T09:00:00+08:00");
    char body[300];
    snprintf(body, sizeof body,
             "{\"id\":\"G2\",\"county\":\"611021\",\"name\":\"x\",\"national_id\":\"%s\"}",
             h_natid(7));
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_ADMIN, body, NULL), 409, "already_seeking");
    set_status(s, "G1", "employed", "2026-03-01T09:00:00+08:00", 200);
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_ADMIN, body, NULL), 201, NULL);
    /* G1 may not return to seeking while G2 seeks with the same national ID. */
    set_status(s, "G1", "seeking", "2026-04-01T09:00:00+08:00", 409);
    char path[100];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", h_natid(7));
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 2);
    h_resp_free(r);
    /* The counselor of 611002 sees only the graduate of its own county. */
    r = h_http(s, "GET", path, T_C611002, NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 1);
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_queue_lists_unserved_seeking_longest_waiting_first)
{
    struct gc_server *s = start_at("2026-06-11T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2026-06-01T10:00:00+08:00");
    h_register(s, T_C611002, "G2", "611002", 2, "2026-05-01T10:00:00+08:00");
    h_register(s, T_C611002, "G3", "611002", 3, "2026-04-01T10:00:00+08:00");
    h_register(s, T_C611002, "G4", "611002", 4, "2026-03-01T10:00:00+08:00");
    ck_assert_int_eq(h_contact(s, T_C611002, "G3", NULL, NULL), 201);
    set_status(s, "G4", "employed", "2026-06-01T10:00:00+08:00", 200);
    struct http_resp *r = h_http(s, "GET", "/api/v1/counties/611002/queue?limit=10", T_L611002,
                                 NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "graduates");
    ck_assert_int_eq(json_array_size(list), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "id")), "G2");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "id")), "G1");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 0), "waiting_days")),
                     41);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 1), "waiting_days")),
                     10);
    h_resp_free(r);
    r = h_http(s, "GET", "/api/v1/counties/611002/queue?limit=1", T_C611002, NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "total")), 2);
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* Year rollover: nobody re-registers anyone; servers restart, and their clocks
 * disagree around midnight. */
START_TEST(test_year_rollover_counts_seeking_graduates_in_new_year)
{
    struct gc_server *a = start_at("2026-12-31T12:00:00+08:00");
    h_register(a, T_C611002, "G1", "611002", 1, "2026-06-01T09:00:00+08:00");
    h_register(a, T_C611002, "G2", "611002", 2, "2026-06-01T09:00:00+08:00");
    h_register(a, T_C611002, "G3", "611002", 3, "2026-06-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(a, T_C611002, "G1", "2026-07-01T09:00:00+08:00", NULL), 201);
    set_status(a, "G3", "employed", "2026-12-31T11:00:00+08:00", 200);
    expect_counts(a, "2026", 3, 1);
    ck_assert_int_eq(h_stop(a), 0);

    /* After a restart, in the new year: G1 and G2 still seek; G3 left in 2026. */
    struct gc_server *b = start_at("2027-01-02T09:00:00+08:00");
    expect_counts(b, "", 2, 0);
    expect_counts(b, "2027", 2, 0);
    expect_counts(b, "2026", 3, 1);
    struct http_resp *r = h_http(b, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "period")), "2027");
    h_resp_free(r);

    /* A second server whose clock still says 2026 registers someone: they count
     * in 2027 too, since the county has already entered 2027. */
    struct gc_server *c = start_at("2026-12-31T23:59:00+08:00");
    h_register(c, T_C611002, "G4", "611002", 4, "2026-12-31T23:00:00+08:00");
    expect_counts(b, "2027", 3, 0);
    expect_counts(b, "2026", 4, 1);
    ck_assert_int_eq(h_contact(b, T_C611002, "G2", "2027-01-02T08:00:00+08:00", NULL), 201);
    expect_counts(b, "2027", 3, 1);
    expect_counts(b, "2026", 4, 1);
    /* The queue of 2027 holds the unserved seekers, G1 among them. */
    r = h_http(b, "GET", "/api/v1/counties/611002/queue", T_C611002, NULL, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "total")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "period")), "2027");
    h_resp_free(r);
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(c), 0);
}
END_TEST

START_TEST(test_year_rollover_while_running)
{
    /* The clock crosses midnight while the server runs. */
    struct gc_server *s = start_at("2026-12-31T23:59:58+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2026-06-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-12-31T20:00:00+08:00", NULL), 201);
    expect_counts(s, "2026", 1, 1);
    h_sleep_ms(2500);
    expect_counts(s, "", 1, 0);
    expect_counts(s, "2027", 1, 0);
    expect_counts(s, "2026", 1, 1);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_contact_in_year_after_leaving_is_rejected_at_rollover)
{
    struct gc_server *s = start_at("2027-01-05T10:00:00+08:00");
    h_register(s, T_C611002, "G1", "611002", 1, "2026-06-01T09:00:00+08:00");
    expect_counts(s, "2027", 1, 0);
    /* Back-dated: employed since 30 December; no longer counts in 2027. */
    set_status(s, "G1", "employed", "2026-12-30T09:00:00+08:00", 200);
    expect_counts(s, "2027", 0, 0);
    expect_counts(s, "2026", 1, 0);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("periods");
    TCase *tc = tcase_create("periods");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_employed_unserved_graduate_stays_in_denominator);
    tcase_add_test(tc, test_withdrawn_graduate_counts_in_no_period);
    tcase_add_test(tc, test_backdated_registration_counts_in_each_year_since);
    tcase_add_test(tc, test_return_to_seeking_counts_once_per_period);
    tcase_add_test(tc, test_duplicate_national_id_allowed_after_leaving_seeking);
    tcase_add_test(tc, test_queue_lists_unserved_seeking_longest_waiting_first);
    tcase_add_test(tc, test_year_rollover_counts_seeking_graduates_in_new_year);
    tcase_add_test(tc, test_year_rollover_while_running);
    tcase_add_test(tc, test_contact_in_year_after_leaving_is_rejected_at_rollover);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
