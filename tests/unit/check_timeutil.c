/* Unit tests of timeutil: RFC 3339 parsing and formatting, calendar-year
 * periods in +08:00 at the year boundary, and the strict integer parser.
 * Expected instants were computed independently (Python datetime). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "gradcover/core/timeutil.h"

/* SPEC §3: the default period offset, China Standard Time. */
#define CST 480

/* 2026-03-05T02:30:00Z in Unix milliseconds. */
#define MS_2026_03_05_0230Z 1772677800000LL

static int64_t parse_ok(const char *s)
{
    int64_t ms = 0;
    ck_assert_msg(rfc3339_parse(s, &ms), "rejected %s", s);
    return ms;
}

static bool parses(const char *s)
{
    int64_t ms;
    return rfc3339_parse(s, &ms);
}

/* rfc3339_parse: accepted forms */

START_TEST(test_parse_utc_z)
{
    ck_assert_int_eq(parse_ok("2026-03-05T02:30:00Z"), MS_2026_03_05_0230Z);
}
END_TEST

START_TEST(test_parse_plus_0800_is_same_instant_as_z)
{
    ck_assert_int_eq(parse_ok("2026-03-05T10:30:00+08:00"), MS_2026_03_05_0230Z);
}
END_TEST

START_TEST(test_parse_minus_0530)
{
    ck_assert_int_eq(parse_ok("2026-03-05T10:30:00-05:30"), 1772726400000LL);
}
END_TEST

START_TEST(test_parse_plus_0000_equals_z)
{
    ck_assert_int_eq(parse_ok("2026-03-05T02:30:00+00:00"), MS_2026_03_05_0230Z);
}
END_TEST

START_TEST(test_parse_fractional_milliseconds)
{
    ck_assert_int_eq(parse_ok("2026-03-05T10:30:00.250+08:00"), MS_2026_03_05_0230Z + 250);
}
END_TEST

START_TEST(test_parse_one_fraction_digit_is_tenths)
{
    ck_assert_int_eq(parse_ok("2026-03-05T02:30:00.5Z"), MS_2026_03_05_0230Z + 500);
}
END_TEST

START_TEST(test_parse_nanosecond_fraction_is_truncated_to_ms)
{
    ck_assert_int_eq(parse_ok("2026-03-05T02:30:00.123456789Z"), MS_2026_03_05_0230Z + 123);
}
END_TEST

START_TEST(test_parse_leap_day_2024_is_valid)
{
    ck_assert_int_eq(parse_ok("2024-02-29T12:00:00Z"), 1709208000000LL);
}
END_TEST

START_TEST(test_parse_year_2000_is_accepted)
{
    ck_assert_int_eq(parse_ok("2000-01-01T00:00:00Z"), 946684800000LL);
}
END_TEST

START_TEST(test_parse_year_2199_is_accepted)
{
    ck_assert_int_eq(parse_ok("2199-12-31T23:59:59Z"), 7258118399000LL);
}
END_TEST

/* rfc3339_parse: rejections */

START_TEST(test_parse_rejects_missing_offset)
{
    ck_assert(!parses("2026-03-05T10:30:00"));
}
END_TEST

START_TEST(test_parse_rejects_fraction_without_offset)
{
    ck_assert(!parses("2026-03-05T10:30:00.250"));
}
END_TEST

START_TEST(test_parse_rejects_date_only)
{
    ck_assert(!parses("2026-03-05"));
}
END_TEST

START_TEST(test_parse_rejects_offset_without_colon)
{
    ck_assert(!parses("2026-03-05T10:30:00+0800"));
}
END_TEST

START_TEST(test_parse_rejects_feb_29_of_2026)
{
    ck_assert(!parses("2026-02-29T12:00:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_april_31)
{
    ck_assert(!parses("2026-04-31T12:00:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_month_13)
{
    ck_assert(!parses("2026-13-01T12:00:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_day_00)
{
    ck_assert(!parses("2026-03-00T12:00:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_hour_24)
{
    ck_assert(!parses("2026-03-05T24:00:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_second_60)
{
    ck_assert(!parses("2026-03-05T10:30:60Z"));
}
END_TEST

START_TEST(test_parse_rejects_trailing_junk_after_z)
{
    ck_assert(!parses("2026-03-05T02:30:00Zjunk"));
}
END_TEST

START_TEST(test_parse_rejects_trailing_space_after_offset)
{
    ck_assert(!parses("2026-03-05T10:30:00+08:00 "));
}
END_TEST

START_TEST(test_parse_rejects_year_1999)
{
    ck_assert(!parses("1999-12-31T23:59:59Z"));
}
END_TEST

START_TEST(test_parse_rejects_year_2200)
{
    ck_assert(!parses("2200-01-01T00:00:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_empty_fraction)
{
    ck_assert(!parses("2026-03-05T02:30:00.Z"));
}
END_TEST

START_TEST(test_parse_rejects_offset_hour_24)
{
    ck_assert(!parses("2026-03-05T10:30:00+24:00"));
}
END_TEST

START_TEST(test_parse_rejects_single_digit_fields)
{
    ck_assert(!parses("2026-3-5T10:30:00Z"));
}
END_TEST

START_TEST(test_parse_rejects_empty_string)
{
    ck_assert(!parses(""));
}
END_TEST

START_TEST(test_parse_rejects_null)
{
    ck_assert(!parses(NULL));
}
END_TEST

/* rfc3339_format */

START_TEST(test_format_round_trips_in_plus_0800)
{
    char out[32];
    const char *s = "2026-03-05T10:30:00+08:00";
    rfc3339_format(parse_ok(s), CST, out, sizeof out);
    ck_assert_str_eq(out, s);
}
END_TEST

START_TEST(test_format_shows_utc_instant_in_plus_0800)
{
    char out[32];
    rfc3339_format(parse_ok("2026-12-31T16:00:00Z"), CST, out, sizeof out);
    ck_assert_str_eq(out, "2027-01-01T00:00:00+08:00");
}
END_TEST

START_TEST(test_format_negative_offset)
{
    char out[32];
    rfc3339_format(MS_2026_03_05_0230Z, -330, out, sizeof out);
    ck_assert_str_eq(out, "2026-03-04T21:00:00-05:30");
}
END_TEST

START_TEST(test_format_drops_milliseconds)
{
    char out[32];
    rfc3339_format(MS_2026_03_05_0230Z + 999, 0, out, sizeof out);
    ck_assert_str_eq(out, "2026-03-05T02:30:00+00:00");
}
END_TEST

START_TEST(test_format_then_parse_round_trips_leap_day)
{
    char out[32];
    int64_t ms = parse_ok("2024-02-29T23:59:59+08:00");
    rfc3339_format(ms, CST, out, sizeof out);
    ck_assert_int_eq(parse_ok(out), ms);
}
END_TEST

/* periods at the year boundary in +08:00 */

START_TEST(test_last_second_of_2026_in_cst_is_period_2026)
{
    ck_assert_int_eq(period_of(parse_ok("2026-12-31T23:59:59+08:00"), CST), 2026);
}
END_TEST

START_TEST(test_last_millisecond_of_2026_in_cst_is_period_2026)
{
    ck_assert_int_eq(period_of(parse_ok("2026-12-31T23:59:59.999+08:00"), CST), 2026);
}
END_TEST

START_TEST(test_midnight_new_year_in_cst_is_period_2027)
{
    ck_assert_int_eq(period_of(parse_ok("2027-01-01T00:00:00+08:00"), CST), 2027);
}
END_TEST

START_TEST(test_utc_afternoon_of_dec_31_is_period_2027_in_cst)
{
    /* 2026-12-31 16:00 UTC is 2027-01-01 00:00 in +08:00. */
    ck_assert_int_eq(period_of(parse_ok("2026-12-31T16:00:00Z"), CST), 2027);
}
END_TEST

START_TEST(test_utc_just_before_1600_of_dec_31_is_period_2026_in_cst)
{
    ck_assert_int_eq(period_of(parse_ok("2026-12-31T15:59:59Z"), CST), 2026);
}
END_TEST

START_TEST(test_same_instant_is_period_2026_in_utc)
{
    ck_assert_int_eq(period_of(parse_ok("2026-12-31T16:00:00Z"), 0), 2026);
}
END_TEST

START_TEST(test_period_start_2027_cst_equals_parse_of_new_year_midnight)
{
    ck_assert_int_eq(period_start_ms(2027, CST), parse_ok("2027-01-01T00:00:00+08:00"));
}
END_TEST

START_TEST(test_period_start_2027_cst_value)
{
    ck_assert_int_eq(period_start_ms(2027, CST), 1798732800000LL);
}
END_TEST

START_TEST(test_period_start_is_in_its_period_and_one_ms_before_is_not)
{
    int64_t start = period_start_ms(2027, CST);
    ck_assert_int_eq(period_of(start, CST), 2027);
    ck_assert_int_eq(period_of(start - 1, CST), 2026);
}
END_TEST

START_TEST(test_period_start_with_negative_offset)
{
    ck_assert_int_eq(period_start_ms(2027, -330), parse_ok("2027-01-01T00:00:00-05:30"));
}
END_TEST

/* days_from_civil / civil_from_days */

START_TEST(test_epoch_is_day_zero)
{
    ck_assert_int_eq(days_from_civil(1970, 1, 1), 0);
}
END_TEST

START_TEST(test_civil_days_round_trip_over_three_centuries)
{
    for (int64_t z = days_from_civil(1900, 1, 1); z <= days_from_civil(2200, 12, 31); z++) {
        int y;
        unsigned m, d;
        civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(days_from_civil(y, m, d), z);
    }
}
END_TEST

/* parse_i64 */

START_TEST(test_parse_i64_accepts_plain_number)
{
    int64_t v = 0;
    ck_assert(parse_i64("2025", &v));
    ck_assert_int_eq(v, 2025);
}
END_TEST

START_TEST(test_parse_i64_accepts_zero)
{
    int64_t v = 1;
    ck_assert(parse_i64("0", &v));
    ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(test_parse_i64_accepts_negative)
{
    int64_t v = 0;
    ck_assert(parse_i64("-42", &v));
    ck_assert_int_eq(v, -42);
}
END_TEST

START_TEST(test_parse_i64_accepts_int64_max)
{
    int64_t v = 0;
    ck_assert(parse_i64("9223372036854775807", &v));
    ck_assert_int_eq(v, INT64_MAX);
}
END_TEST

START_TEST(test_parse_i64_accepts_int64_min)
{
    int64_t v = 0;
    ck_assert(parse_i64("-9223372036854775808", &v));
    ck_assert_int_eq(v, INT64_MIN);
}
END_TEST

START_TEST(test_parse_i64_rejects_empty)
{
    int64_t v;
    ck_assert(!parse_i64("", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_null)
{
    int64_t v;
    ck_assert(!parse_i64(NULL, &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_leading_space)
{
    int64_t v;
    ck_assert(!parse_i64(" 1", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_trailing_space)
{
    int64_t v;
    ck_assert(!parse_i64("1 ", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_trailing_junk)
{
    int64_t v;
    ck_assert(!parse_i64("1x", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_plus_sign)
{
    int64_t v;
    ck_assert(!parse_i64("+1", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_lone_minus)
{
    int64_t v;
    ck_assert(!parse_i64("-", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_hex)
{
    int64_t v;
    ck_assert(!parse_i64("0x10", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_overflow)
{
    int64_t v;
    ck_assert(!parse_i64("9223372036854775808", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_underflow)
{
    int64_t v;
    ck_assert(!parse_i64("-9223372036854775809", &v));
}
END_TEST

START_TEST(test_parse_i64_rejects_huge_number)
{
    int64_t v;
    ck_assert(!parse_i64("99999999999999999999999999", &v));
}
END_TEST

static Suite *timeutil_suite(void)
{
    Suite *s = suite_create("timeutil");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_utc_z);
    tcase_add_test(tc, test_parse_plus_0800_is_same_instant_as_z);
    tcase_add_test(tc, test_parse_minus_0530);
    tcase_add_test(tc, test_parse_plus_0000_equals_z);
    tcase_add_test(tc, test_parse_fractional_milliseconds);
    tcase_add_test(tc, test_parse_one_fraction_digit_is_tenths);
    tcase_add_test(tc, test_parse_nanosecond_fraction_is_truncated_to_ms);
    tcase_add_test(tc, test_parse_leap_day_2024_is_valid);
    tcase_add_test(tc, test_parse_year_2000_is_accepted);
    tcase_add_test(tc, test_parse_year_2199_is_accepted);
    tcase_add_test(tc, test_parse_rejects_missing_offset);
    tcase_add_test(tc, test_parse_rejects_fraction_without_offset);
    tcase_add_test(tc, test_parse_rejects_date_only);
    tcase_add_test(tc, test_parse_rejects_offset_without_colon);
    tcase_add_test(tc, test_parse_rejects_feb_29_of_2026);
    tcase_add_test(tc, test_parse_rejects_april_31);
    tcase_add_test(tc, test_parse_rejects_month_13);
    tcase_add_test(tc, test_parse_rejects_day_00);
    tcase_add_test(tc, test_parse_rejects_hour_24);
    tcase_add_test(tc, test_parse_rejects_second_60);
    tcase_add_test(tc, test_parse_rejects_trailing_junk_after_z);
    tcase_add_test(tc, test_parse_rejects_trailing_space_after_offset);
    tcase_add_test(tc, test_parse_rejects_year_1999);
    tcase_add_test(tc, test_parse_rejects_year_2200);
    tcase_add_test(tc, test_parse_rejects_empty_fraction);
    tcase_add_test(tc, test_parse_rejects_offset_hour_24);
    tcase_add_test(tc, test_parse_rejects_single_digit_fields);
    tcase_add_test(tc, test_parse_rejects_empty_string);
    tcase_add_test(tc, test_parse_rejects_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("format");
    tcase_add_test(tc, test_format_round_trips_in_plus_0800);
    tcase_add_test(tc, test_format_shows_utc_instant_in_plus_0800);
    tcase_add_test(tc, test_format_negative_offset);
    tcase_add_test(tc, test_format_drops_milliseconds);
    tcase_add_test(tc, test_format_then_parse_round_trips_leap_day);
    suite_add_tcase(s, tc);

    tc = tcase_create("period");
    tcase_add_test(tc, test_last_second_of_2026_in_cst_is_period_2026);
    tcase_add_test(tc, test_last_millisecond_of_2026_in_cst_is_period_2026);
    tcase_add_test(tc, test_midnight_new_year_in_cst_is_period_2027);
    tcase_add_test(tc, test_utc_afternoon_of_dec_31_is_period_2027_in_cst);
    tcase_add_test(tc, test_utc_just_before_1600_of_dec_31_is_period_2026_in_cst);
    tcase_add_test(tc, test_same_instant_is_period_2026_in_utc);
    tcase_add_test(tc, test_period_start_2027_cst_equals_parse_of_new_year_midnight);
    tcase_add_test(tc, test_period_start_2027_cst_value);
    tcase_add_test(tc, test_period_start_is_in_its_period_and_one_ms_before_is_not);
    tcase_add_test(tc, test_period_start_with_negative_offset);
    suite_add_tcase(s, tc);

    tc = tcase_create("civil");
    tcase_add_test(tc, test_epoch_is_day_zero);
    tcase_add_test(tc, test_civil_days_round_trip_over_three_centuries);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse_i64");
    tcase_add_test(tc, test_parse_i64_accepts_plain_number);
    tcase_add_test(tc, test_parse_i64_accepts_zero);
    tcase_add_test(tc, test_parse_i64_accepts_negative);
    tcase_add_test(tc, test_parse_i64_accepts_int64_max);
    tcase_add_test(tc, test_parse_i64_accepts_int64_min);
    tcase_add_test(tc, test_parse_i64_rejects_empty);
    tcase_add_test(tc, test_parse_i64_rejects_null);
    tcase_add_test(tc, test_parse_i64_rejects_leading_space);
    tcase_add_test(tc, test_parse_i64_rejects_trailing_space);
    tcase_add_test(tc, test_parse_i64_rejects_trailing_junk);
    tcase_add_test(tc, test_parse_i64_rejects_plus_sign);
    tcase_add_test(tc, test_parse_i64_rejects_lone_minus);
    tcase_add_test(tc, test_parse_i64_rejects_hex);
    tcase_add_test(tc, test_parse_i64_rejects_overflow);
    tcase_add_test(tc, test_parse_i64_rejects_underflow);
    tcase_add_test(tc, test_parse_i64_rejects_huge_number);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timeutil_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
