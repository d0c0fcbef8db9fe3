/* The ranked queue (SPEC §12, GET .../queue?sort=priority) through the real
 * server and Redis: SLA breaches first (time injected with --now), then
 * hardship flags, then the longest waiting, each item with its reasons;
 * the sort's validation; paging by cursor with no duplicate and no gap, also
 * across a write and across days passing between two pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct gc_server *srv;
static const char *cfg_path;

#define NOW "2026-03-10T10:00:00+08:00"

static struct gc_server *start_at(const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return h_start(cfg_path, args, NULL, true);
}

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    cfg_path = h_write_config(cfg, "priority");
    json_decref(cfg);
    srv = start_at(NOW);
}

static void teardown(void)
{
    if (srv)
        ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void reg(const char *id, int seq, const char *registered_at, const char *flags)
{
    h_register(srv, T_C611002, id, "611002", seq, registered_at);
    if (flags) {
        char path[96], body[200];
        snprintf(path, sizeof path, "/api/v1/graduates/%s", id);
        snprintf(body, sizeof body, "{\"flags\":[%s]}", flags);
        h_expect(h_http(srv, "PATCH", path, T_C611002, body, NULL), 200, NULL);
    }
}

/* The queue answer at path (a new reference), asserting 200. */
static json_t *get(const char *path)
{
    struct http_resp *r = h_http(srv, "GET", path, T_C611002, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

/* "id[reason,reason] id[] ..." of a page, for one comparison per test. */
static void describe(json_t *page, char *out, size_t n, bool reasons)
{
    size_t used = 0, i, k;
    json_t *g, *why;
    out[0] = '\0';
    json_array_foreach(json_object_get(page, "graduates"), i, g)
    {
        used += (size_t)snprintf(out + used, n - used, "%s%s", used ? " " : "", str(g, "id"));
        if (!reasons)
            continue;
        ck_assert_msg(json_is_array(json_object_get(g, "priority_reasons")), "%s: no reasons",
                      str(g, "id"));
        used += (size_t)snprintf(out + used, n - used, "[");
        json_array_foreach(json_object_get(g, "priority_reasons"), k, why)
        {
            used += (size_t)snprintf(out + used, n - used, "%s%s", k ? "," : "",
                                     json_string_value(why));
        }
        used += (size_t)snprintf(out + used, n - used, "]");
    }
}

/* At NOW with queue.sla_days 30 (the default): two graduates past the SLA
 * (one flagged), three flagged or not within it, one served (never listed). */
static void given_graduates(void)
{
    reg("OLD1", 1, "2026-01-05T09:00:00+08:00", NULL);
    reg("OLD2", 2, "2026-02-01T09:00:00+08:00", "\"low_income\"");
    reg("NEW1", 3, "2026-03-01T09:00:00+08:00", "\"disabled\",\"hardship\"");
    reg("NEW2", 4, "2026-03-02T09:00:00+08:00", NULL);
    reg("NEW3", 5, "2026-03-03T09:00:00+08:00", "\"zero_employment_family\"");
    reg("NEW4", 6, "2026-02-20T09:00:00+08:00", NULL);
    reg("SERVED", 7, "2026-01-02T09:00:00+08:00", "\"hardship\"");
    ck_assert_int_eq(h_contact(srv, T_C611002, "SERVED", NULL, NULL), 201);
}

#define RANKED                                                                                     \
    "OLD2[sla_breached,low_income] OLD1[sla_breached] NEW1[hardship,disabled] "                    \
    "NEW3[zero_employment_family] NEW4[] NEW2[]"

START_TEST(test_priority_puts_sla_breaches_then_flags_then_the_longest_waiting)
{
    given_graduates();
    char got[1024];
    json_t *q = get("/api/v1/counties/611002/queue?sort=priority");
    describe(q, got, sizeof got, true);
    ck_assert_str_eq(got, RANKED);
    ck_assert_str_eq(str(q, "sort"), "priority");
    ck_assert_int_eq(json_integer_value(json_object_get(q, "sla_days")), 30);
    ck_assert(json_is_null(json_object_get(q, "next_cursor")));
    ck_assert_int_eq(json_integer_value(json_object_get(q, "total")), 6);
    json_decref(q);
    /* The default order is unchanged: longest waiting first, no reasons. */
    q = get("/api/v1/counties/611002/queue");
    describe(q, got, sizeof got, false);
    ck_assert_str_eq(got, "OLD1 OLD2 NEW4 NEW1 NEW2 NEW3");
    ck_assert_str_eq(str(q, "sort"), "waiting");
    ck_assert_ptr_null(
        json_object_get(json_array_get(json_object_get(q, "graduates"), 0), "priority_reasons"));
    json_decref(q);
}
END_TEST

START_TEST(test_the_sla_follows_the_clock_and_the_config)
{
    given_graduates();
    ck_assert_int_eq(h_stop(srv), 0);
    /* 36 days later every one waits past 30 days: flagged first, then by waiting. */
    srv = start_at("2026-04-15T10:00:00+08:00");
    char got[1024];
    json_t *q = get("/api/v1/counties/611002/queue?sort=priority");
    describe(q, got, sizeof got, true);
    ck_assert_str_eq(got, "OLD2[sla_breached,low_income] NEW1[sla_breached,hardship,disabled] "
                          "NEW3[sla_breached,zero_employment_family] OLD1[sla_breached] "
                          "NEW4[sla_breached] NEW2[sla_breached]");
    json_decref(q);
    ck_assert_int_eq(h_stop(srv), 0);
    /* queue.sla_days 8 at NOW: NEW4 (18 days), NEW1 and NEW2 (8 days and an
     * hour) breach too, NEW3 (7 days) not yet. */
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "queue", json_pack("{s:i}", "sla_days", 8));
    cfg_path = h_write_config(cfg, "priority-sla8");
    json_decref(cfg);
    srv = start_at(NOW);
    q = get("/api/v1/counties/611002/queue?sort=priority");
    describe(q, got, sizeof got, true);
    ck_assert_str_eq(got, "OLD2[sla_breached,low_income] NEW1[sla_breached,hardship,disabled] "
                          "OLD1[sla_breached] NEW4[sla_breached] NEW2[sla_breached] "
                          "NEW3[zero_employment_family]");
    ck_assert_int_eq(json_integer_value(json_object_get(q, "sla_days")), 8);
    json_decref(q);
}
END_TEST

START_TEST(test_unreachable_on_different_days_is_named_not_ranked)
{
    given_graduates();
    const char *days[] = {"2026-03-08T10:00:00+08:00", "2026-03-09T10:00:00+08:00"};
    for (int k = 0; k < 2; k++) {
        char body[300];
        snprintf(body, sizeof body,
                 "{\"graduate_id\":\"NEW2\",\"service\":\"job_referral\",\"channel\":\"phone\","
                 "\"outcome\":\"unreachable\",\"occurred_at\":\"%s\"}",
                 days[k]);
        h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, body, NULL), 201, NULL);
    }
    char got[1024];
    json_t *q = get("/api/v1/counties/611002/queue?sort=priority");
    describe(q, got, sizeof got, true);
    ck_assert_str_eq(got, "OLD2[sla_breached,low_income] OLD1[sla_breached] "
                          "NEW1[hardship,disabled] NEW3[zero_employment_family] NEW4[] "
                          "NEW2[unreachable_attempts]");
    json_decref(q);
}
END_TEST

START_TEST(test_a_bad_sort_or_cursor_is_refused_and_changes_nothing)
{
    given_graduates();
    char before[1024], after[1024];
    json_t *q = get("/api/v1/counties/611002/queue?sort=priority");
    describe(q, before, sizeof before, true);
    json_decref(q);
    const char *bad[] = {
        "/api/v1/counties/611002/queue?sort=urgency",
        "/api/v1/counties/611002/queue?sort=",
        "/api/v1/counties/611002/queue?sort=PRIORITY",
        "/api/v1/counties/611002/queue?sort=priority&cursor=nonsense",
        "/api/v1/counties/611002/queue?sort=priority&cursor=ps.1.9.1.OLD1",
        "/api/v1/counties/611002/queue?sort=priority&cursor=ps.1.1.1.bad%20id",
        /* a cursor of the other sort, and of the other view */
        "/api/v1/counties/611002/queue?sort=priority&cursor=ws.0.0.1767576000000.OLD1",
        "/api/v1/counties/611002/queue?cursor=ps.0.0.1767576000000.OLD1",
        "/api/v1/counties/611002/queue?view=left_unserved&sort=priority&cursor=ps.0.0.1.OLD1",
        "/api/v1/counties/611002/queue?sort=priority&order=asc",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_resp *r = h_http(srv, "GET", bad[i], T_C611002, NULL, NULL);
        ck_assert_msg(r->status == 400, "%s: %d %s", bad[i], r->status, r->body);
        ck_assert_str_eq(str(json_object_get(r->json, "error"), "code"), "bad_parameter");
        h_resp_free(r);
    }
    q = get("/api/v1/counties/611002/queue?sort=priority");
    describe(q, after, sizeof after, true);
    json_decref(q);
    ck_assert_str_eq(after, before);
    long long rg, sv;
    h_counts(srv, "611002", "", &rg, &sv);
    ck_assert_int_eq(rg, 7);
    ck_assert_int_eq(sv, 1);
}
END_TEST

/* Walks the ranked queue limit by limit; between pages calls between(page
 * number). Appends the ids to out ("A B C"). */
static void walk(const char *base, int limit, void (*between)(int), char *out, size_t n)
{
    char path[400];
    char cursor[200] = "";
    size_t used = 0;
    out[0] = '\0';
    for (int page = 0; page < 50; page++) {
        snprintf(path, sizeof path, "%s%slimit=%d%s%s", base, strchr(base, '?') ? "&" : "?", limit,
                 *cursor ? "&cursor=" : "", cursor);
        json_t *q = get(path);
        json_t *list = json_object_get(q, "graduates");
        ck_assert_int_le(json_array_size(list), (size_t)limit);
        size_t i;
        json_t *g;
        json_array_foreach(list, i, g)
        {
            used += (size_t)snprintf(out + used, n - used, "%s%s", used ? " " : "", str(g, "id"));
        }
        json_t *next = json_object_get(q, "next_cursor");
        if (json_is_null(next)) {
            json_decref(q);
            return;
        }
        /* A full page precedes every cursor. */
        ck_assert_int_eq(json_array_size(list), (size_t)limit);
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(q);
        if (between)
            between(page);
    }
    ck_abort_msg("the walk did not end");
}

START_TEST(test_paging_under_priority_lists_each_once)
{
    given_graduates();
    char got[1024];
    for (int limit = 1; limit <= 7; limit++) {
        walk("/api/v1/counties/611002/queue?sort=priority", limit, NULL, got, sizeof got);
        ck_assert_msg(strcmp(got, "OLD2 OLD1 NEW1 NEW3 NEW4 NEW2") == 0, "limit %d: %s", limit,
                      got);
        walk("/api/v1/counties/611002/queue", limit, NULL, got, sizeof got);
        ck_assert_msg(strcmp(got, "OLD1 OLD2 NEW4 NEW1 NEW2 NEW3") == 0, "limit %d: %s", limit,
                      got);
    }
}
END_TEST

/* Serves OLD2 (listed on the first page) and registers one who waits
 * longest of the plain ones within the SLA (after the cursor). */
static void serve_a_listed_one(int page)
{
    if (page == 0) {
        ck_assert_int_eq(h_contact(srv, T_C611002, "OLD2", NULL, NULL), 201);
        reg("LATE", 8, "2026-03-09T09:00:00+08:00", NULL);
    }
}

/* The days pass between two pages: NEW4 (since 20 February) breaches the
 * SLA by the second page's clock; the walk keeps its first page's cut. */
static void days_pass(int page)
{
    if (page == 0) {
        ck_assert_int_eq(h_stop(srv), 0);
        srv = start_at("2026-03-25T10:00:00+08:00");
    }
}

START_TEST(test_paging_survives_writes_and_days_passing)
{
    given_graduates();
    char got[1024];
    walk("/api/v1/counties/611002/queue?sort=priority", 2, serve_a_listed_one, got, sizeof got);
    ck_assert_str_eq(got, "OLD2 OLD1 NEW1 NEW3 NEW4 NEW2 LATE");
    walk("/api/v1/counties/611002/queue?sort=priority", 2, days_pass, got, sizeof got);
    ck_assert_str_eq(got, "OLD1 NEW1 NEW3 NEW4 NEW2 LATE");
    /* A new walk at the new clock ranks NEW4 among the breaches. */
    walk("/api/v1/counties/611002/queue?sort=priority", 50, NULL, got, sizeof got);
    ck_assert_str_eq(got, "OLD1 NEW4 NEW1 NEW3 NEW2 LATE");
}
END_TEST

START_TEST(test_priority_with_a_caseload_and_with_those_who_left)
{
    given_graduates();
    h_expect(h_http(srv, "PATCH", "/api/v1/graduates/NEW3", T_C611002,
                    "{\"assigned_to\":\"zhang.counselor\"}", NULL),
             200, NULL);
    h_expect(h_http(srv, "PATCH", "/api/v1/graduates/OLD1", T_C611002,
                    "{\"assigned_to\":\"zhang.counselor\"}", NULL),
             200, NULL);
    h_expect(h_http(srv, "PATCH", "/api/v1/graduates/NEW2", T_C611002,
                    "{\"assigned_to\":\"zhang.counselor\"}", NULL),
             200, NULL);
    char got[1024];
    json_t *q = get("/api/v1/counties/611002/queue?sort=priority&assigned_to=mine");
    describe(q, got, sizeof got, true);
    ck_assert_str_eq(got, "OLD1[sla_breached] NEW3[zero_employment_family] NEW2[]");
    ck_assert_int_eq(json_integer_value(json_object_get(q, "assigned_waiting")), 3);
    json_decref(q);
    walk("/api/v1/counties/611002/queue?sort=priority&assigned_to=mine", 1, NULL, got, sizeof got);
    ck_assert_str_eq(got, "OLD1 NEW3 NEW2");
    /* Those who left unserved: flagged ones first, then by departure. */
    const char *left[] = {"NEW2", "NEW1", "OLD1"};
    for (int k = 0; k < 3; k++) {
        char path[96];
        snprintf(path, sizeof path, "/api/v1/graduates/%s/status", left[k]);
        char body[120];
        snprintf(body, sizeof body,
                 "{\"status\":\"employed\",\"at\":\"2026-03-0%dT10:00:00+08:00\"}", k + 4);
        h_expect(h_http(srv, "POST", path, T_C611002, body, NULL), 200, NULL);
    }
    q = get("/api/v1/counties/611002/queue?view=left_unserved&sort=priority");
    describe(q, got, sizeof got, true);
    ck_assert_str_eq(got, "NEW1[hardship,disabled] NEW2[] OLD1[]");
    json_decref(q);
    walk("/api/v1/counties/611002/queue?view=left_unserved&sort=priority", 1, NULL, got,
         sizeof got);
    ck_assert_str_eq(got, "NEW1 NEW2 OLD1");
    walk("/api/v1/counties/611002/queue?view=left_unserved", 2, NULL, got, sizeof got);
    ck_assert_str_eq(got, "NEW2 NEW1 OLD1");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("priority");
    TCase *tc = tcase_create("ranked queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_priority_puts_sla_breaches_then_flags_then_the_longest_waiting);
    tcase_add_test(tc, test_the_sla_follows_the_clock_and_the_config);
    tcase_add_test(tc, test_unreachable_on_different_days_is_named_not_ranked);
    tcase_add_test(tc, test_a_bad_sort_or_cursor_is_refused_and_changes_nothing);
    tcase_add_test(tc, test_paging_under_priority_lists_each_once);
    tcase_add_test(tc, test_paging_survives_writes_and_days_passing);
    tcase_add_test(tc, test_priority_with_a_caseload_and_with_those_who_left);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
