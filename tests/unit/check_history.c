/* Unit tests of the daily series (one point per day from the sparse points
 * Redis keeps) and of the year-end projection from the last 30 days' pace,
 * on constructed series: flat, rising, falling, too few points, the year's
 * first week, 31 December, and served capped at registered. */
#include <check.h>
#include <stdlib.h>

#include "gradcover/core/timeutil.h"
#include "gradcover/domain/history.h"
#include "gradcover/domain/projection.h"

/* 2026-06-01 as a day number, and its days left to 31 December (213). */
#define JUN1 (days_from_civil(2026, 6, 1))
#define JUN1_LEFT ((int)(days_from_civil(2026, 12, 31) - JUN1))

/* A series of n days ending today: registered and served at day i are
 * reg0 + i * dreg and srv0 + i * dsrv. */
static struct history_point *line(size_t n, long long reg0, long long dreg, long long srv0,
                                  long long dsrv)
{
    struct history_point *p = calloc(n, sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) {
        p[i].day = JUN1 - (int64_t)(n - 1 - i);
        p[i].registered = reg0 + (long long)i * dreg;
        p[i].served = srv0 + (long long)i * dsrv;
    }
    return p;
}

/* ---- the daily series ---- */

START_TEST(test_days_nobody_wrote_carry_the_day_before)
{
    struct history_point stored[] = {
        {JUN1 - 1, 12, 9}, {JUN1 - 5, 10, 5}, {JUN1 - 3, 11, 7}}; /* any order */
    struct history_point out[16];
    size_t n = history_series(stored, 3, JUN1 - 10, JUN1, 13, 10, out);
    /* From the first stored day (5 days ago) to today: 6 points. */
    ck_assert_uint_eq(n, 6);
    long long want[6][2] = {{10, 5}, {10, 5}, {11, 7}, {11, 7}, {12, 9}, {13, 10}};
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(out[i].day, JUN1 - 5 + (int64_t)i);
        ck_assert_int_eq(out[i].registered, want[i][0]);
        ck_assert_int_eq(out[i].served, want[i][1]);
    }
}
END_TEST

START_TEST(test_todays_point_is_the_live_value)
{
    struct history_point stored[] = {{JUN1, 4, 1}, {JUN1 - 1, 3, 1}};
    struct history_point out[4];
    size_t n = history_series(stored, 2, JUN1 - 3, JUN1, 5, 2, out);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[1].registered, 5);
    ck_assert_int_eq(out[1].served, 2);
}
END_TEST

START_TEST(test_nothing_stored_gives_the_live_point_alone)
{
    struct history_point out[4];
    size_t n = history_series(NULL, 0, JUN1 - 3, JUN1, 7, 3, out);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].day, JUN1);
    ck_assert_int_eq(out[0].registered, 7);
}
END_TEST

START_TEST(test_a_point_before_the_range_carries_into_its_first_day)
{
    struct history_point stored[] = {{JUN1 - 40, 8, 2}};
    struct history_point out[8];
    size_t n = history_series(stored, 1, JUN1 - 2, JUN1, 9, 3, out);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[0].day, JUN1 - 2);
    ck_assert_int_eq(out[0].registered, 8);
    ck_assert_int_eq(out[1].served, 2);
}
END_TEST

START_TEST(test_points_after_today_are_ignored)
{
    struct history_point stored[] = {{JUN1 - 1, 3, 1}, {JUN1 + 1, 99, 99}};
    struct history_point out[4];
    size_t n = history_series(stored, 2, JUN1 - 3, JUN1, 4, 2, out);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[1].registered, 4);
}
END_TEST

/* ---- the projection ---- */

START_TEST(test_flat_series_projects_todays_values)
{
    struct history_point *p = line(31, 100, 0, 87, 0);
    struct projection pr;
    ck_assert(projection_year_end(p, 31, JUN1_LEFT, &pr));
    ck_assert_int_eq(pr.registered, 100);
    ck_assert_int_eq(pr.served, 87);
    ck_assert_int_eq(pr.rate_bp, 8700);
    ck_assert_int_eq(pr.window_days, 30);
    free(p);
}
END_TEST

START_TEST(test_rising_series_goes_on_at_its_pace)
{
    /* 40 days: only the last 30 count. Registered +1 a day, served +2 every
     * 3 days (20 in 30 days); 213 days left. */
    struct history_point *p = line(40, 60, 1, 10, 0);
    for (size_t i = 0; i < 40; i++)
        p[i].served = 10 + (long long)(i * 2 / 3);
    struct projection pr;
    ck_assert(projection_year_end(p, 40, JUN1_LEFT, &pr));
    long long reg = p[39].registered, srv = p[39].served;
    long long dsrv = p[39].served - p[9].served;
    ck_assert_int_eq(dsrv, 20);
    ck_assert_int_eq(pr.registered, reg + 213);       /* 30 per 30 days: exact */
    ck_assert_int_eq(pr.served, srv + 20 * 213 / 30); /* 142.0: 142 */
    ck_assert_int_eq(pr.rate_bp, pr.served * 10000 / pr.registered);
    ck_assert_int_eq(pr.window_days, 30);
    free(p);
}
END_TEST

START_TEST(test_served_rounds_down_and_registered_up)
{
    /* +1 registered and +1 served in 30 days, 16 days left: 16/30 of one
     * each. Served stays, registered goes up by one. */
    struct history_point *p = line(31, 50, 0, 40, 0);
    p[30].registered = 51;
    p[30].served = 41;
    struct projection pr;
    ck_assert(projection_year_end(p, 31, 16, &pr));
    ck_assert_int_eq(pr.registered, 52);
    ck_assert_int_eq(pr.served, 41);
    free(p);
}
END_TEST

START_TEST(test_served_is_capped_at_registered)
{
    /* Served rising fast, registered flat: served cannot pass registered. */
    struct history_point *p = line(31, 100, 0, 40, 1);
    struct projection pr;
    ck_assert(projection_year_end(p, 31, JUN1_LEFT, &pr));
    ck_assert_int_eq(pr.registered, 100);
    ck_assert_int_eq(pr.served, 100);
    ck_assert_int_eq(pr.rate_bp, 10000);
    free(p);
}
END_TEST

START_TEST(test_falling_counts_stop_at_zero)
{
    /* Withdrawals: registered and served fall 1 a day. */
    struct history_point *p = line(31, 60, -1, 40, -1);
    struct projection pr;
    ck_assert(projection_year_end(p, 31, JUN1_LEFT, &pr));
    ck_assert_int_eq(pr.registered, 0);
    ck_assert_int_eq(pr.served, 0);
    ck_assert_int_eq(pr.rate_bp, -1);
    free(p);
}
END_TEST

START_TEST(test_registrations_outpacing_service_lower_the_rate)
{
    /* 90% today, 3 registered a day but 1 served a day: the year ends below. */
    struct history_point *p = line(31, 10, 3, 9, 1);
    struct projection pr;
    ck_assert(projection_year_end(p, 31, 100, &pr));
    ck_assert_int_eq(pr.registered, 100 + 300);
    ck_assert_int_eq(pr.served, 39 + 100);
    ck_assert_int_lt(pr.rate_bp, 9000);
    free(p);
}
END_TEST

START_TEST(test_fewer_than_a_week_of_points_projects_nothing)
{
    struct history_point *p = line(7, 10, 1, 5, 1); /* 6 days of pace */
    struct projection pr = {.registered = -42};
    ck_assert(!projection_year_end(p, 7, JUN1_LEFT, &pr));
    ck_assert_int_eq(pr.registered, -42);
    ck_assert(!projection_year_end(p, 0, JUN1_LEFT, &pr));
    ck_assert(!projection_year_end(p, 1, JUN1_LEFT, &pr));
    free(p);
}
END_TEST

START_TEST(test_a_week_of_points_is_enough)
{
    struct history_point *p = line(8, 10, 1, 5, 1); /* 7 days of pace */
    struct projection pr;
    ck_assert(projection_year_end(p, 8, 7, &pr));
    ck_assert_int_eq(pr.window_days, 7);
    ck_assert_int_eq(pr.registered, 17 + 7);
    ck_assert_int_eq(pr.served, 12 + 7);
    free(p);
}
END_TEST

START_TEST(test_year_start_has_no_projection_until_a_week_has_passed)
{
    /* The roll stores 1 January's point; on 5 January there are 5 points. */
    int64_t jan1 = days_from_civil(2027, 1, 1), dec31 = days_from_civil(2027, 12, 31);
    struct history_point stored[] = {{jan1, 30, 0}, {jan1 + 2, 31, 3}};
    struct history_point out[16];
    size_t n = history_series(stored, 2, jan1, jan1 + 4, 32, 5, out);
    ck_assert_uint_eq(n, 5);
    struct projection pr;
    ck_assert(!projection_year_end(out, n, (int)(dec31 - (jan1 + 4)), &pr));
    /* On 8 January: 8 points, 7 days of pace from 1 January's. */
    n = history_series(stored, 2, jan1, jan1 + 7, 33, 8, out);
    ck_assert_uint_eq(n, 8);
    ck_assert(projection_year_end(out, n, (int)(dec31 - (jan1 + 7)), &pr));
    ck_assert_int_eq(pr.window_days, 7);
    /* served +8 in 7 days over 357 days left: 8 + floor(8 * 357 / 7) = 416,
     * capped at registered 33 + ceil(3 * 357 / 7) = 186. */
    ck_assert_int_eq(pr.registered, 186);
    ck_assert_int_eq(pr.served, 186);
}
END_TEST

START_TEST(test_on_31_december_the_projection_is_today)
{
    struct history_point *p = line(31, 20, 1, 10, 1);
    struct projection pr;
    ck_assert(projection_year_end(p, 31, 0, &pr));
    ck_assert_int_eq(pr.registered, p[30].registered);
    ck_assert_int_eq(pr.served, p[30].served);
    ck_assert(!projection_year_end(p, 31, -1, &pr));
    free(p);
}
END_TEST

START_TEST(test_large_counts_do_not_overflow)
{
    /* A whole country in one county: 2^32 registered, +2^31 in 30 days. */
    struct history_point *p = line(31, 4294967296LL, 71582788LL, 0, 71582788LL);
    struct projection pr;
    ck_assert(projection_year_end(p, 31, 365, &pr));
    ck_assert_int_gt(pr.registered, 4294967296LL);
    ck_assert_int_le(pr.served, pr.registered);
    free(p);
}
END_TEST

static Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("series");
    tcase_add_test(tc, test_days_nobody_wrote_carry_the_day_before);
    tcase_add_test(tc, test_todays_point_is_the_live_value);
    tcase_add_test(tc, test_nothing_stored_gives_the_live_point_alone);
    tcase_add_test(tc, test_a_point_before_the_range_carries_into_its_first_day);
    tcase_add_test(tc, test_points_after_today_are_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_create("projection");
    tcase_add_test(tc, test_flat_series_projects_todays_values);
    tcase_add_test(tc, test_rising_series_goes_on_at_its_pace);
    tcase_add_test(tc, test_served_rounds_down_and_registered_up);
    tcase_add_test(tc, test_served_is_capped_at_registered);
    tcase_add_test(tc, test_falling_counts_stop_at_zero);
    tcase_add_test(tc, test_registrations_outpacing_service_lower_the_rate);
    tcase_add_test(tc, test_fewer_than_a_week_of_points_projects_nothing);
    tcase_add_test(tc, test_a_week_of_points_is_enough);
    tcase_add_test(tc, test_year_start_has_no_projection_until_a_week_has_passed);
    tcase_add_test(tc, test_on_31_december_the_projection_is_today);
    tcase_add_test(tc, test_large_counts_do_not_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(history_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
