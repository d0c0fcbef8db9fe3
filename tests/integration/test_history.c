/* A county's history and projection (SPEC §11, issue 15 item 7) and its
 * counselors' activity, through the real server and Redis, with the clock
 * injected by --now: one point per local day, written by the writes
 * themselves; days nobody wrote carried forward; the year boundary (the roll
 * writes the new year's first point; a back-dated write moves last year's
 * final point); the projection on the county's coverage from the last 30
 * days; contacts per counselor over 7 and 30 days. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbscan.h"
#include "gradcover/core/timeutil.h"
#include "harness.h"

#include "dbscan.c"

#define COUNTY "611002"
/* The name of T_C611002 in the test configuration. */
#define COUNSELOR "zhang.counselor"

static const char *cfg_path;

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    cfg_path = h_write_config(cfg, "history");
    json_decref(cfg);
}

/* gradcoverd with its clock at `now` (it keeps ticking from there). */
static struct gc_server *start_at(const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return h_start(cfg_path, args, NULL, true);
}

static void stop(struct gc_server *s)
{
    ck_assert_int_eq(h_stop(s), 0);
}

static json_t *get_ok(struct gc_server *s, const char *path, const char *token)
{
    struct http_resp *r = h_http(s, "GET", path, token, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET %s: %d %s", path, r ? r->status : 0,
                  r ? r->body : "");
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

static json_t *history(struct gc_server *s, const char *period)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/counties/" COUNTY "/history%s%s", period ? "?period=" : "",
             period ? period : "");
    json_t *h = get_ok(s, path, T_L611002);
    ck_assert_str_eq(json_string_value(json_object_get(h, "county")), COUNTY);
    return h;
}

/* Asserts the points of a history answer: n of them, as "date reg/srv". */
static void expect_points(json_t *h, const char *period, size_t n, const char *const *want)
{
    ck_assert_str_eq(json_string_value(json_object_get(h, "period")), period);
    json_t *pts = json_object_get(h, "points");
    char all[2048] = "";
    size_t i;
    json_t *p;
    json_array_foreach(pts, i, p)
    {
        char line[64];
        snprintf(line, sizeof line, "%s %lld/%lld; ", json_string_value(json_object_get(p, "date")),
                 json_integer_value(json_object_get(p, "registered")),
                 json_integer_value(json_object_get(p, "served")));
        strncat(all, line, sizeof all - strlen(all) - 1);
    }
    ck_assert_msg(json_array_size(pts) == n, "%zu points expected, got: %s", n, all);
    for (i = 0; i < n; i++) {
        char line[64];
        json_t *pt = json_array_get(pts, i);
        snprintf(line, sizeof line, "%s %lld/%lld", json_string_value(json_object_get(pt, "date")),
                 json_integer_value(json_object_get(pt, "registered")),
                 json_integer_value(json_object_get(pt, "served")));
        ck_assert_msg(strcmp(line, want[i]) == 0, "point %zu is %s, expected %s (all: %s)", i, line,
                      want[i], all);
    }
}

static void reg(struct gc_server *s, const char *id, int seq, const char *at)
{
    h_register(s, T_C611002, id, COUNTY, seq, at);
}

static void serve(struct gc_server *s, const char *id, const char *at)
{
    ck_assert_int_eq(h_contact(s, T_C611002, id, at, NULL), 201);
}

/* The stored point of `period` on a date, as Redis holds it ("" when none). */
static const char *stored_point(const char *period, int y, unsigned m, unsigned d)
{
    static char buf[64];
    redisReply *r = redisCommand(h_redis(), "HGET gc:{" COUNTY "}:hist:%s %lld", period,
                                 (long long)days_from_civil(y, m, d));
    ck_assert_ptr_nonnull(r);
    snprintf(buf, sizeof buf, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return buf;
}

START_TEST(test_history_across_a_year_boundary)
{
    struct gc_server *s = start_at("2026-12-30T10:00:00+08:00");
    reg(s, "Y1", 1, NULL);
    reg(s, "Y2", 2, NULL);
    reg(s, "Y3", 3, NULL);
    serve(s, "Y1", NULL);
    stop(s);

    s = start_at("2026-12-31T10:00:00+08:00");
    serve(s, "Y2", NULL);
    json_t *h = history(s, NULL);
    expect_points(h, "2026", 2, (const char *const[]){"2026-12-30 3/1", "2026-12-31 3/2"});
    json_decref(h);
    stop(s);

    /* Nobody touches the county on 1 and 2 January. */
    s = start_at("2027-01-03T10:00:00+08:00");
    h = history(s, "2026");
    expect_points(h, "2026", 2, (const char *const[]){"2026-12-30 3/1", "2026-12-31 3/2"});
    json_decref(h);
    /* The first read of the year rolls the county: everyone still seeking
     * counts from 1 January, nobody served yet; 2 January carries it. */
    h = history(s, NULL);
    expect_points(h, "2027", 3,
                  (const char *const[]){"2027-01-01 3/0", "2027-01-02 3/0", "2027-01-03 3/0"});
    json_decref(h);
    ck_assert_str_eq(stored_point("2027", 2027, 1, 1), "3:0");

    /* Today's point is the live value, and the write stores it. */
    serve(s, "Y3", NULL);
    h = history(s, NULL);
    expect_points(h, "2027", 3,
                  (const char *const[]){"2027-01-01 3/0", "2027-01-02 3/0", "2027-01-03 3/1"});
    json_decref(h);
    ck_assert_str_eq(stored_point("2027", 2027, 1, 3), "3:1");
    /* The day between is filled in as the change is written: every day
     * from the first point to the last is one HGET away (design.md). */
    ck_assert_str_eq(stored_point("2027", 2027, 1, 2), "3:0");

    /* A contact back-dated into last year moves last year's final point
     * (31 December), not a day of this year. */
    serve(s, "Y3", "2026-12-31T15:00:00+08:00");
    h = history(s, "2026");
    expect_points(h, "2026", 2, (const char *const[]){"2026-12-30 3/1", "2026-12-31 3/3"});
    json_t *last = json_array_get(json_object_get(h, "points"), 1);
    ck_assert_double_eq_tol(json_real_value(json_object_get(last, "rate")), 1.0, 1e-9);
    json_decref(h);
    ck_assert_str_eq(stored_point("2026", 2026, 12, 31), "3:3");
    ck_assert_int_eq(h_redis_int("HLEN gc:{" COUNTY "}:hist:2027"), 3);

    /* A past period's coverage has no projection (nor a live alert). */
    json_t *c = get_ok(s, "/api/v1/counties/" COUNTY "/coverage?period=2026", T_ADMIN);
    ck_assert_ptr_null(json_object_get(c, "projection"));
    ck_assert_ptr_null(json_object_get(c, "alert"));
    json_decref(c);
    stop(s);
}
END_TEST

/* Projection of the county's coverage: null before a week of points, then
 * the last days' pace carried to 31 December (docs/api.md). */
START_TEST(test_county_coverage_projects_the_year_end_from_the_pace)
{
    struct gc_server *s = start_at("2026-05-01T10:00:00+08:00");
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%02d", i);
        reg(s, id, 100 + i, NULL);
        if (i < 10)
            serve(s, id, NULL);
    }
    stop(s);

    /* 5 May: 5 daily points, not a week of pace. */
    s = start_at("2026-05-05T10:00:00+08:00");
    json_t *c = get_ok(s, "/api/v1/counties/" COUNTY "/coverage", T_L611002);
    ck_assert_msg(json_is_null(json_object_get(c, "projection")), "projection too early: %s",
                  json_dumps(c, 0));
    json_decref(c);
    stop(s);

    /* 11 May: 10 more registered and 2 more served in 10 days. */
    s = start_at("2026-05-11T10:00:00+08:00");
    for (int i = 20; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%02d", i);
        reg(s, id, 100 + i, NULL);
    }
    serve(s, "P10", NULL);
    serve(s, "P11", NULL);
    json_t *h = history(s, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(h, "points")), 11);
    json_t *mid = json_array_get(json_object_get(h, "points"), 5); /* 6 May: carried */
    ck_assert_str_eq(json_string_value(json_object_get(mid, "date")), "2026-05-06");
    ck_assert_int_eq(json_integer_value(json_object_get(mid, "registered")), 20);
    ck_assert_int_eq(json_integer_value(json_object_get(mid, "served")), 10);
    json_decref(h);

    c = get_ok(s, "/api/v1/counties/" COUNTY "/coverage", T_L611002);
    json_t *p = json_object_get(c, "projection");
    ck_assert_msg(json_is_object(p), "no projection: %s", json_dumps(c, 0));
    /* 234 days left: registered 30 + 234 (1 a day), served 12 + floor(0.2 ×
     * 234) = 58; 58 / 264 = 0.2196. */
    ck_assert_int_eq(json_integer_value(json_object_get(p, "window_days")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "year_end_registered")), 264);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "year_end_served")), 58);
    ck_assert_double_eq_tol(json_real_value(json_object_get(p, "year_end_rate")), 0.2196, 1e-9);
    json_decref(c);
    /* The coverage of every county has no projection (one read per county
     * more for 3,000 counties is not what a dashboard refresh should cost). */
    c = get_ok(s, "/api/v1/coverage", T_L611002);
    ck_assert_ptr_null(
        json_object_get(json_array_get(json_object_get(c, "counties"), 0), "projection"));
    json_decref(c);
    stop(s);
}
END_TEST

/* The window's first day carries the latest point before it: a county that
 * stored nothing in the last 30 days but today still has a 30-day pace. */
START_TEST(test_projection_carries_the_point_before_its_window)
{
    struct gc_server *s = start_at("2026-04-01T10:00:00+08:00");
    for (int i = 0; i < 40; i++) {
        char id[16];
        snprintf(id, sizeof id, "W%02d", i);
        h_register(s, T_C611021, id, "611021", 300 + i, NULL);
        if (i < 10)
            ck_assert_int_eq(h_contact(s, T_C611021, id, NULL, NULL), 201);
    }
    stop(s);
    s = start_at("2026-05-11T10:00:00+08:00");
    /* Nothing written since 1 April: its point carries through the window,
     * a pace of nothing: the year ends as today, 10 of 40. */
    json_t *c = get_ok(s, "/api/v1/counties/611021/coverage", T_ADMIN);
    json_t *p = json_object_get(c, "projection");
    ck_assert_msg(json_is_object(p), "no projection: %s", json_dumps(c, 0));
    ck_assert_int_eq(json_integer_value(json_object_get(p, "window_days")), 30);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "year_end_served")), 10);
    ck_assert_double_eq_tol(json_real_value(json_object_get(p, "year_end_rate")), 0.25, 1e-9);
    json_decref(c);
    for (int i = 10; i < 13; i++) {
        char id[16];
        snprintf(id, sizeof id, "W%02d", i);
        ck_assert_int_eq(h_contact(s, T_C611021, id, NULL, NULL), 201);
    }
    c = get_ok(s, "/api/v1/counties/611021/coverage", T_ADMIN);
    p = json_object_get(c, "projection");
    ck_assert_msg(json_is_object(p), "no projection: %s", json_dumps(c, 0));
    /* 11 April (1 April's 40/10 carried) to 11 May (40/13): 3 served in 30
     * days, 234 days left: 13 + floor(3 × 234 / 30) = 36 of 40. */
    ck_assert_int_eq(json_integer_value(json_object_get(p, "window_days")), 30);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "year_end_registered")), 40);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "year_end_served")), 36);
    ck_assert_double_eq_tol(json_real_value(json_object_get(p, "year_end_rate")), 0.9, 1e-9);
    json_decref(c);
    stop(s);
}
END_TEST

/* A county with nothing stored for a past period still has that period's
 * last day: its final counts. An unknown county is 404. */
START_TEST(test_history_of_an_empty_period_and_of_an_unknown_county)
{
    struct gc_server *s = start_at("2026-03-01T10:00:00+08:00");
    json_t *h = history(s, "2020");
    expect_points(h, "2020", 1, (const char *const[]){"2020-12-31 0/0"});
    ck_assert(
        json_is_null(json_object_get(json_array_get(json_object_get(h, "points"), 0), "rate")));
    json_decref(h);
    /* The alert timer may write counties' first "rolled" meanwhile (cnt). */
    static const char *const skip[] = {":cnt", ":audit", ":outbox", NULL};
    char *before = db_digest(skip);
    h_expect(h_http(s, "GET", "/api/v1/counties/nowhere/history", T_ADMIN, NULL, NULL), 404,
             "not_found");
    h_expect(h_http(s, "GET", "/api/v1/counties/nowhere/activity", T_ADMIN, NULL, NULL), 404,
             "not_found");
    char *after = db_digest(skip);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "a refused read changed Redis: %s", diff);
    free(before);
    free(after);
    stop(s);
}
END_TEST

/* The counselor's row of an activity answer: its 7- and 30-day counts. */
static void activity_of(json_t *a, const char *name, long long *d7, long long *d30)
{
    *d7 = *d30 = -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(a, "counselors"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) {
            *d7 = json_integer_value(json_object_get(e, "last_7_days"));
            *d30 = json_integer_value(json_object_get(e, "last_30_days"));
        }
    }
}

static json_t *activity(struct gc_server *s, const char *token)
{
    return get_ok(s, "/api/v1/counties/" COUNTY "/activity", token);
}

START_TEST(test_activity_counts_contacts_per_counselor_over_7_and_30_days)
{
    struct gc_server *s = start_at("2026-06-30T10:00:00+08:00");
    reg(s, "A1", 1, "2026-04-01T09:00:00+08:00");
    reg(s, "A2", 2, "2026-04-01T09:00:00+08:00");
    /* By the counselor: today, 3, 10 and 29 days ago (all in the last 30
     * days, two in the last 7), 30 and 45 days ago (in neither). */
    const char *days[] = {"2026-06-30T08:00:00+08:00", "2026-06-27T08:00:00+08:00",
                          "2026-06-20T08:00:00+08:00", "2026-06-01T08:00:00+08:00",
                          "2026-05-31T08:00:00+08:00", "2026-05-16T08:00:00+08:00"};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        serve(s, i % 2 ? "A1" : "A2", days[i]);
    /* By the admin, once; and a replay counts nothing again. */
    ck_assert_int_eq(h_contact(s, T_ADMIN, "A1", NULL, "act-once"), 201);
    ck_assert_int_eq(h_contact(s, T_ADMIN, "A1", NULL, "act-once"), 201);

    json_t *a = activity(s, T_L611002);
    ck_assert_str_eq(json_string_value(json_object_get(a, "as_of")), "2026-06-30");
    ck_assert_int_eq(json_array_size(json_object_get(a, "counselors")), 2);
    /* Busiest first. */
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(a, "counselors"), 0), "name")),
                     COUNSELOR);
    long long d7, d30;
    activity_of(a, COUNSELOR, &d7, &d30);
    ck_assert_int_eq(d7, 2);
    ck_assert_int_eq(d30, 4);
    activity_of(a, "admin", &d7, &d30);
    ck_assert_int_eq(d7, 1);
    ck_assert_int_eq(d30, 1);
    json_decref(a);

    /* Kept only while a window can hold them. */
    long long ttl =
        h_redis_int("TTL gc:{" COUNTY "}:act:%lld", (long long)days_from_civil(2026, 6, 30));
    ck_assert_msg(ttl > 31 * 86400 && ttl <= 33 * 86400, "TTL %lld", ttl);
    ck_assert_int_eq(
        h_redis_int("EXISTS gc:{" COUNTY "}:act:%lld", (long long)days_from_civil(2026, 5, 16)), 0);
    stop(s);

    /* Five days later the windows have moved: 7 days are 29 June..5 July. */
    s = start_at("2026-07-05T10:00:00+08:00");
    a = activity(s, T_LALL);
    activity_of(a, COUNSELOR, &d7, &d30);
    ck_assert_int_eq(d7, 1);  /* 30 June */
    ck_assert_int_eq(d30, 3); /* 30, 27 and 20 June */
    json_decref(a);
    /* Another county's leader, a counselor or a viewer may not read it. */
    h_expect(h_http(s, "GET", "/api/v1/counties/611021/activity", T_L611002, NULL, NULL), 403,
             "forbidden");
    h_expect(h_http(s, "GET", "/api/v1/counties/" COUNTY "/activity", T_C611002, NULL, NULL), 403,
             "forbidden");
    h_expect(h_http(s, "GET", "/api/v1/counties/" COUNTY "/activity", T_VIEWER, NULL, NULL), 403,
             "forbidden");
    stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("history");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_history_across_a_year_boundary);
    tcase_add_test(tc, test_county_coverage_projects_the_year_end_from_the_pace);
    tcase_add_test(tc, test_projection_carries_the_point_before_its_window);
    tcase_add_test(tc, test_history_of_an_empty_period_and_of_an_unknown_county);
    tcase_add_test(tc, test_activity_counts_contacts_per_counselor_over_7_and_30_days);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
