/* Unit tests of coverage: below-target, gap, displayed rate and threshold
 * parsing in basis points (SPEC §3), at the 90% line and near UINT32_MAX. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "gradcover/domain/coverage.h"

/* A per-county override of SPEC §5's example (洛南县, 0.92). */
#define COUNTY_BP 9200u

/* below target */

START_TEST(test_9_of_10_is_not_below_90_percent)
{
    ck_assert(!coverage_below(9, 10, 9000));
}
END_TEST

START_TEST(test_90_of_100_is_not_below_90_percent)
{
    ck_assert(!coverage_below(90, 100, 9000));
}
END_TEST

START_TEST(test_8999_of_10000_is_below_90_percent)
{
    ck_assert(coverage_below(8999, 10000, 9000));
}
END_TEST

START_TEST(test_89_of_100_is_below_90_percent)
{
    ck_assert(coverage_below(89, 100, 9000));
}
END_TEST

START_TEST(test_zero_registered_is_not_below)
{
    ck_assert(!coverage_below(0, 0, 9000));
}
END_TEST

START_TEST(test_default_threshold_is_9000_bp)
{
    ck_assert_uint_eq(COVERAGE_DEFAULT_BP, 9000);
}
END_TEST

START_TEST(test_91_of_100_is_below_county_threshold_092)
{
    ck_assert(coverage_below(91, 100, COUNTY_BP));
}
END_TEST

START_TEST(test_92_of_100_is_not_below_county_threshold_092)
{
    ck_assert(!coverage_below(92, 100, COUNTY_BP));
}
END_TEST

START_TEST(test_full_coverage_is_not_below_threshold_1)
{
    ck_assert(!coverage_below(7, 7, 10000));
}
END_TEST

START_TEST(test_one_missing_is_below_threshold_1)
{
    ck_assert(coverage_below(6, 7, 10000));
}
END_TEST

/* gap */

START_TEST(test_gap_registered_100_served_87_is_3)
{
    ck_assert_uint_eq(coverage_gap(87, 100, 9000), 3);
}
END_TEST

START_TEST(test_gap_rounds_need_up_registered_7_served_6_is_1)
{
    /* ceil(0.9 * 7) = ceil(6.3) = 7 */
    ck_assert_uint_eq(coverage_gap(6, 7, 9000), 1);
}
END_TEST

START_TEST(test_gap_at_exactly_90_percent_is_zero)
{
    ck_assert_uint_eq(coverage_gap(9, 10, 9000), 0);
}
END_TEST

START_TEST(test_gap_at_8999_of_10000_is_1)
{
    ck_assert_uint_eq(coverage_gap(8999, 10000, 9000), 1);
}
END_TEST

START_TEST(test_gap_is_zero_when_registered_is_zero)
{
    ck_assert_uint_eq(coverage_gap(0, 0, 9000), 0);
}
END_TEST

START_TEST(test_gap_is_never_negative_above_target)
{
    ck_assert_uint_eq(coverage_gap(100, 100, 9000), 0);
}
END_TEST

START_TEST(test_gap_with_none_served_is_whole_need)
{
    ck_assert_uint_eq(coverage_gap(0, 1, 9000), 1);
}
END_TEST

START_TEST(test_gap_registered_100_served_87_county_092_is_5)
{
    ck_assert_uint_eq(coverage_gap(87, 100, COUNTY_BP), 5);
}
END_TEST

START_TEST(test_gap_registered_100_served_92_county_092_is_zero)
{
    ck_assert_uint_eq(coverage_gap(92, 100, COUNTY_BP), 0);
}
END_TEST

START_TEST(test_gap_agrees_with_below_for_small_counts)
{
    /* The two are one rule: below target exactly when something is missing. */
    for (uint64_t reg = 0; reg <= 200; reg++)
        for (uint64_t served = 0; served <= reg; served++)
            for (uint32_t bp = 8800; bp <= 10000; bp += 100)
                ck_assert_msg(coverage_below(served, reg, bp) ==
                                  (coverage_gap(served, reg, bp) > 0),
                              "served %lu registered %lu bp %u", (unsigned long)served,
                              (unsigned long)reg, bp);
}
END_TEST

/* near UINT32_MAX: every product must fit in 64 bits */

/* 4294967290 = 10 * 429496729 is the largest multiple of 10 below UINT32_MAX. */
#define BIG_REG 4294967290ull
#define BIG_90 3865470561ull /* exactly 90% of BIG_REG */

START_TEST(test_exactly_90_percent_near_uint32_max_is_not_below)
{
    ck_assert(!coverage_below(BIG_90, BIG_REG, 9000));
}
END_TEST

START_TEST(test_one_short_of_90_percent_near_uint32_max_is_below)
{
    ck_assert(coverage_below(BIG_90 - 1, BIG_REG, 9000));
}
END_TEST

START_TEST(test_gap_one_short_near_uint32_max_is_1)
{
    ck_assert_uint_eq(coverage_gap(BIG_90 - 1, BIG_REG, 9000), 1);
}
END_TEST

START_TEST(test_gap_with_none_served_at_uint32_max)
{
    /* ceil(0.9 * 4294967295) = ceil(3865470565.5) */
    ck_assert_uint_eq(coverage_gap(0, UINT32_MAX, 9000), 3865470566ull);
}
END_TEST

START_TEST(test_all_served_at_uint32_max_meets_threshold_1)
{
    ck_assert(!coverage_below(UINT32_MAX, UINT32_MAX, 10000));
    ck_assert_uint_eq(coverage_gap(UINT32_MAX, UINT32_MAX, 10000), 0);
}
END_TEST

START_TEST(test_one_missing_at_uint32_max_is_below_threshold_1)
{
    ck_assert(coverage_below(UINT32_MAX - 1, UINT32_MAX, 10000));
    ck_assert_uint_eq(coverage_gap(UINT32_MAX - 1, UINT32_MAX, 10000), 1);
}
END_TEST

START_TEST(test_counts_of_2_pow_32_do_not_overflow)
{
    const uint64_t n = 1ull << 32;
    ck_assert(!coverage_below(n, n, 10000));
    ck_assert_uint_eq(coverage_gap(0, n, 10000), n);
    ck_assert_double_eq(coverage_rate(n, n), 1.0);
}
END_TEST

START_TEST(test_rate_near_uint32_max_is_truncated)
{
    /* 3865470560 / 4294967290 = 0.89999999976...: displays 0.8999, not 0.9 */
    ck_assert_double_eq(coverage_rate(BIG_90 - 1, BIG_REG), 0.8999);
}
END_TEST

/* displayed rate */

START_TEST(test_rate_truncates_17999_of_20000_to_08999)
{
    /* 0.89995 must not display as 0.9 while the county is below 90%. */
    ck_assert_double_eq(coverage_rate(17999, 20000), 0.8999);
}
END_TEST

START_TEST(test_rate_of_9_of_10_is_09)
{
    ck_assert_double_eq(coverage_rate(9, 10), 0.9);
}
END_TEST

START_TEST(test_rate_of_87_of_100_is_087)
{
    ck_assert_double_eq(coverage_rate(87, 100), 0.87);
}
END_TEST

START_TEST(test_rate_of_2_of_3_truncates_to_06666)
{
    ck_assert_double_eq(coverage_rate(2, 3), 0.6666);
}
END_TEST

START_TEST(test_rate_of_all_served_is_1)
{
    ck_assert_double_eq(coverage_rate(5, 5), 1.0);
}
END_TEST

START_TEST(test_rate_of_none_served_is_0)
{
    ck_assert_double_eq(coverage_rate(0, 5), 0.0);
}
END_TEST

/* threshold parsing */

START_TEST(test_threshold_09_is_9000_bp)
{
    uint32_t bp = 0;
    ck_assert(coverage_threshold_bp(0.9, &bp));
    ck_assert_uint_eq(bp, 9000);
}
END_TEST

START_TEST(test_threshold_092_is_9200_bp)
{
    uint32_t bp = 0;
    ck_assert(coverage_threshold_bp(0.92, &bp));
    ck_assert_uint_eq(bp, 9200);
}
END_TEST

START_TEST(test_threshold_1_is_10000_bp)
{
    uint32_t bp = 0;
    ck_assert(coverage_threshold_bp(1.0, &bp));
    ck_assert_uint_eq(bp, 10000);
}
END_TEST

START_TEST(test_threshold_with_4_decimals_is_accepted)
{
    uint32_t bp = 0;
    ck_assert(coverage_threshold_bp(0.8999, &bp));
    ck_assert_uint_eq(bp, 8999);
}
END_TEST

START_TEST(test_threshold_00001_is_1_bp)
{
    uint32_t bp = 0;
    ck_assert(coverage_threshold_bp(0.0001, &bp));
    ck_assert_uint_eq(bp, 1);
}
END_TEST

START_TEST(test_threshold_0_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(0.0, &bp));
}
END_TEST

START_TEST(test_negative_threshold_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(-0.1, &bp));
}
END_TEST

START_TEST(test_threshold_above_1_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(1.01, &bp));
}
END_TEST

START_TEST(test_threshold_with_5_decimals_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(0.12345, &bp));
}
END_TEST

START_TEST(test_threshold_below_one_bp_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(0.00001, &bp));
}
END_TEST

START_TEST(test_threshold_nan_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(NAN, &bp));
}
END_TEST

START_TEST(test_threshold_infinity_is_rejected)
{
    uint32_t bp = 0;
    ck_assert(!coverage_threshold_bp(INFINITY, &bp));
}
END_TEST

static Suite *coverage_suite(void)
{
    Suite *s = suite_create("coverage");
    TCase *tc = tcase_create("below");
    tcase_add_test(tc, test_9_of_10_is_not_below_90_percent);
    tcase_add_test(tc, test_90_of_100_is_not_below_90_percent);
    tcase_add_test(tc, test_8999_of_10000_is_below_90_percent);
    tcase_add_test(tc, test_89_of_100_is_below_90_percent);
    tcase_add_test(tc, test_zero_registered_is_not_below);
    tcase_add_test(tc, test_default_threshold_is_9000_bp);
    tcase_add_test(tc, test_91_of_100_is_below_county_threshold_092);
    tcase_add_test(tc, test_92_of_100_is_not_below_county_threshold_092);
    tcase_add_test(tc, test_full_coverage_is_not_below_threshold_1);
    tcase_add_test(tc, test_one_missing_is_below_threshold_1);
    suite_add_tcase(s, tc);

    tc = tcase_create("gap");
    tcase_add_test(tc, test_gap_registered_100_served_87_is_3);
    tcase_add_test(tc, test_gap_rounds_need_up_registered_7_served_6_is_1);
    tcase_add_test(tc, test_gap_at_exactly_90_percent_is_zero);
    tcase_add_test(tc, test_gap_at_8999_of_10000_is_1);
    tcase_add_test(tc, test_gap_is_zero_when_registered_is_zero);
    tcase_add_test(tc, test_gap_is_never_negative_above_target);
    tcase_add_test(tc, test_gap_with_none_served_is_whole_need);
    tcase_add_test(tc, test_gap_registered_100_served_87_county_092_is_5);
    tcase_add_test(tc, test_gap_registered_100_served_92_county_092_is_zero);
    tcase_add_test(tc, test_gap_agrees_with_below_for_small_counts);
    suite_add_tcase(s, tc);

    tc = tcase_create("large");
    tcase_add_test(tc, test_exactly_90_percent_near_uint32_max_is_not_below);
    tcase_add_test(tc, test_one_short_of_90_percent_near_uint32_max_is_below);
    tcase_add_test(tc, test_gap_one_short_near_uint32_max_is_1);
    tcase_add_test(tc, test_gap_with_none_served_at_uint32_max);
    tcase_add_test(tc, test_all_served_at_uint32_max_meets_threshold_1);
    tcase_add_test(tc, test_one_missing_at_uint32_max_is_below_threshold_1);
    tcase_add_test(tc, test_counts_of_2_pow_32_do_not_overflow);
    tcase_add_test(tc, test_rate_near_uint32_max_is_truncated);
    suite_add_tcase(s, tc);

    tc = tcase_create("rate");
    tcase_add_test(tc, test_rate_truncates_17999_of_20000_to_08999);
    tcase_add_test(tc, test_rate_of_9_of_10_is_09);
    tcase_add_test(tc, test_rate_of_87_of_100_is_087);
    tcase_add_test(tc, test_rate_of_2_of_3_truncates_to_06666);
    tcase_add_test(tc, test_rate_of_all_served_is_1);
    tcase_add_test(tc, test_rate_of_none_served_is_0);
    suite_add_tcase(s, tc);

    tc = tcase_create("threshold");
    tcase_add_test(tc, test_threshold_09_is_9000_bp);
    tcase_add_test(tc, test_threshold_092_is_9200_bp);
    tcase_add_test(tc, test_threshold_1_is_10000_bp);
    tcase_add_test(tc, test_threshold_with_4_decimals_is_accepted);
    tcase_add_test(tc, test_threshold_00001_is_1_bp);
    tcase_add_test(tc, test_threshold_0_is_rejected);
    tcase_add_test(tc, test_negative_threshold_is_rejected);
    tcase_add_test(tc, test_threshold_above_1_is_rejected);
    tcase_add_test(tc, test_threshold_with_5_decimals_is_rejected);
    tcase_add_test(tc, test_threshold_below_one_bp_is_rejected);
    tcase_add_test(tc, test_threshold_nan_is_rejected);
    tcase_add_test(tc, test_threshold_infinity_is_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(coverage_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
