/* Caseloads (SPEC §12) through the real server and Redis: a graduate
 * assigned to a counselor at registration or by PATCH, the queue and the
 * search filtered to "mine", and the per-counselor counts leaders see. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct gc_server *srv;

#define REGISTERED "2026-03-01T09:00:00+08:00"

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    const char *args[] = {"--now", "2026-03-10T10:00:00+08:00", NULL};
    srv = h_start(h_write_config(cfg, "caseloads"), args, NULL, true);
    json_decref(cfg);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
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

static void reg(const char *id, int seq, const char *assigned)
{
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"name\":\"张三\",\"national_id\":\"%s\","
             "\"registered_at\":\"" REGISTERED "\"%s%s%s}",
             id, h_natid(seq), assigned ? ",\"assigned_to\":\"" : "", assigned ? assigned : "",
             assigned ? "\"" : "");
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
}

static json_t *get(const char *token, const char *path)
{
    struct http_resp *r = h_http(srv, "GET", path, token, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

static void ids_of(json_t *list, char *out, size_t n)
{
    size_t used = 0, i;
    json_t *g;
    out[0] = '\0';
    json_array_foreach(list, i, g)
    {
        used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "," : "", str(g, "id"));
    }
}

/* G1 (served) and G3 (by PATCH) are zhang's, G2 wang's, G4 nobody's. */
static void given_caseloads(void)
{
    reg("G1", 1, "zhang.counselor");
    reg("G2", 2, "wang");
    reg("G3", 3, NULL);
    reg("G4", 4, NULL);
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", NULL, NULL), 201);
    h_expect(h_http(srv, "PATCH", "/api/v1/graduates/G3", T_C611002,
                    "{\"assigned_to\":\"zhang.counselor\"}", NULL),
             200, NULL);
}

START_TEST(test_the_queue_and_the_search_filtered_to_mine)
{
    given_caseloads();
    json_t *g = get(T_C611002, "/api/v1/graduates/G1");
    ck_assert_str_eq(str(g, "assigned_to"), "zhang.counselor");
    json_decref(g);
    char ids[128];
    json_t *q = get(T_C611002, "/api/v1/counties/611002/queue?assigned_to=mine");
    ids_of(json_object_get(q, "graduates"), ids, sizeof ids);
    ck_assert_str_eq(ids, "G3");
    ck_assert_str_eq(str(q, "assigned_to"), "zhang.counselor");
    ck_assert_int_eq(num(q, "assigned_waiting"), 1);
    ck_assert_int_eq(num(q, "total"), 3); /* the county's queue, as without the filter */
    json_decref(q);
    q = get(T_L611002, "/api/v1/counties/611002/queue?assigned_to=wang");
    ids_of(json_object_get(q, "graduates"), ids, sizeof ids);
    ck_assert_str_eq(ids, "G2");
    json_decref(q);
    q = get(T_C611002, "/api/v1/graduates?assigned_to=mine");
    ids_of(json_object_get(q, "graduates"), ids, sizeof ids);
    ck_assert_str_eq(ids, "G1,G3");
    json_decref(q);
    /* Unassigned by PATCH null. */
    h_expect(
        h_http(srv, "PATCH", "/api/v1/graduates/G3", T_C611002, "{\"assigned_to\":null}", NULL),
        200, NULL);
    q = get(T_C611002, "/api/v1/graduates?assigned_to=mine");
    ids_of(json_object_get(q, "graduates"), ids, sizeof ids);
    ck_assert_str_eq(ids, "G1");
    json_decref(q);
}
END_TEST

START_TEST(test_leaders_see_per_counselor_counts)
{
    given_caseloads();
    json_t *c = get(T_L611002, "/api/v1/counties/611002/caseloads");
    json_t *list = json_object_get(c, "counselors");
    ck_assert_int_eq(json_array_size(list), 2);
    json_t *wang = json_array_get(list, 0), *zhang = json_array_get(list, 1);
    ck_assert_str_eq(str(wang, "counselor"), "wang");
    ck_assert_int_eq(num(wang, "registered"), 1);
    ck_assert_int_eq(num(wang, "waiting"), 1);
    ck_assert_str_eq(str(zhang, "counselor"), "zhang.counselor");
    ck_assert_int_eq(num(zhang, "registered"), 2);
    ck_assert_int_eq(num(zhang, "served"), 1);
    ck_assert_int_eq(num(zhang, "waiting"), 1);
    ck_assert_int_eq(num(json_object_get(c, "unassigned"), "registered"), 1);
    json_decref(c);
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/caseloads", T_C611002, NULL, NULL), 403,
             "forbidden");
    h_expect(h_http(srv, "GET", "/api/v1/counties/611021/caseloads", T_L611002, NULL, NULL), 403,
             "forbidden");
    h_expect(h_http(srv, "GET", "/api/v1/counties/999999/caseloads", T_ADMIN, NULL, NULL), 404,
             "not_found");
}
END_TEST

START_TEST(test_bad_assignments_are_refused_and_change_nothing)
{
    given_caseloads();
    h_expect(
        h_http(srv, "GET", "/api/v1/counties/611002/queue?assigned_to=", T_C611002, NULL, NULL),
        400, "bad_parameter");
    h_expect(h_http(srv, "GET", "/api/v1/graduates?assigned_to=", T_C611002, NULL, NULL), 400,
             "bad_parameter");
    h_expect(
        h_http(srv, "PATCH", "/api/v1/graduates/G2", T_C611002, "{\"assigned_to\":\"\"}", NULL),
        422, "validation_failed");
    h_expect(h_http(srv, "PATCH", "/api/v1/graduates/G2", T_C611002, "{\"assigned_to\":7}", NULL),
             422, "validation_failed");
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"G9\",\"name\":\"张三\",\"national_id\":\"%s\",\"assigned_to\":\"%065d\"}",
             h_natid(9), 0);
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 422,
             "validation_failed");
    json_t *g = get(T_C611002, "/api/v1/graduates/G2");
    ck_assert_str_eq(str(g, "assigned_to"), "wang");
    json_decref(g);
    long long r, s;
    h_counts(srv, "611002", "", &r, &s);
    ck_assert_int_eq(r, 4);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:G9"), 0);
}
END_TEST

/* The source's counselors do not work in the destination. */
START_TEST(test_a_transfer_leaves_the_assignment_behind)
{
    given_caseloads();
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G2/transfer", T_ADMIN,
                    "{\"county\":\"611021\"}", NULL),
             200, NULL);
    json_t *g = get(T_ADMIN, "/api/v1/graduates/G2");
    ck_assert_str_eq(str(g, "county"), "611021");
    ck_assert_ptr_null(json_object_get(g, "assigned_to"));
    json_decref(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("caseloads");
    TCase *tc = tcase_create("caseloads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_the_queue_and_the_search_filtered_to_mine);
    tcase_add_test(tc, test_leaders_see_per_counselor_counts);
    tcase_add_test(tc, test_bad_assignments_are_refused_and_change_nothing);
    tcase_add_test(tc, test_a_transfer_leaves_the_assignment_behind);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
